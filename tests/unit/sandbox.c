/* core/sandbox: conversions, environment, every abuse case (escapes, exhaustion, crafted input), and a differential test of
 * the sandbox's pattern functions against stock Lua's. Set SANDBOX_TEST_VERBOSE=1 to print what each
 * abuse case answers. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/sandbox_internal.h"
#include "tests/support/check.h"

static sandbox_limits limits;  /* per test; reset by test_limits() */
static int verbose;

static void test_limits(void)
{
    limits = sandbox_limits_from_config(NULL);
    limits.instructions = 2000000;
    limits.timeout_ms = 60000; /* generous: under valgrind the instruction cap must trip first */
}

/* Only the wall clock (200 ms) can stop a run: the instruction cap is out of reach. */
static void clock_limits(void)
{
    limits.instructions = INT64_C(1) << 40;
    limits.timeout_ms = 200;
}

static json_t *run(const char *code, const char *input, mkt_error *err, sandbox_stats *stats)
{
    json_t *in = input ? json_loads(input, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    if (input && !in)
        fprintf(stderr, "  bad test input %s\n", input);
    json_t *out = sandbox_run(code, strlen(code), in, &limits, stats, err);
    json_decref(in);
    return out;
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
}

/* Runs code on input and compares the output, compactly dumped with sorted keys. */
static void expect_output(const char *code, const char *input, const char *expected)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = run(code, input, &err, NULL);
    char *text = dump(out);
    if (!text)
        fprintf(stderr, "  code: %s\n  error: %s\n", code, err.message ? err.message : "(none)");
    CHECK_STR(text, expected);
    free(text);
    json_decref(out);
    error_clear(&err);
}

/* A normal tool still works: run after every abuse case, in the same process. */
static void expect_normal_run(void)
{
    sandbox_limits saved = limits;
    test_limits();
    expect_output("function handler(input) return {sum = input.a + input.b, ok = true} end", "{\"a\":2,\"b\":3}",
                  "{\"ok\":true,\"sum\":5}");
    limits = saved;
}

static void expect_error(const char *code, const char *input, error_kind kind, const char *needle)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = run(code, input, &err, NULL);
    CHECK(out == NULL);
    CHECK_INT(err.kind, kind);
    if (!err.message || !strstr(err.message, needle)) {
        fprintf(stderr, "  code: %s\n  message \"%s\" lacks \"%s\"\n", code, err.message ? err.message : "(null)",
                needle);
        check_failures++;
    } else if (verbose) {
        fprintf(stderr, "    -> %s\n", err.message);
    }
    json_decref(out);
    error_clear(&err);
}

static void expect_abuse_either(const char *code, const char *needle, const char *other)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = run(code, NULL, &err, NULL);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    if (!err.message || (!strstr(err.message, needle) && !strstr(err.message, other))) {
        fprintf(stderr, "  code: %s\n  message \"%s\" lacks \"%s\" or \"%s\"\n", code,
                err.message ? err.message : "(null)", needle, other);
        check_failures++;
    } else if (verbose) {
        fprintf(stderr, "    -> %s\n", err.message);
    }
    json_decref(out);
    error_clear(&err);
    expect_normal_run();
}

static void expect_abuse(const char *code, const char *needle)
{
    expect_error(code, NULL, ERROR_VALIDATION, needle);
    expect_normal_run();
}

/* ---- normal use ---- */

static void test_transform(void)
{
    test_limits();
    const char *code =
        "function handler(input)\n"
        "  local out, sum = {}, 0\n"
        "  for i, v in ipairs(input.items) do out[i] = v * 2; sum = sum + v end\n"
        "  table.sort(out, function(a, b) return a > b end)\n"
        "  return {doubled = out, sum = sum, name = input.name:upper(), n = #input.items}\n"
        "end\n";
    expect_output(code, "{\"items\":[3,1,2],\"name\":\"abc\"}",
                  "{\"doubled\":[6,4,2],\"n\":3,\"name\":\"ABC\",\"sum\":6}");

    sandbox_stats stats;
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = run(code, "{\"items\":[1],\"name\":\"x\"}", &err, &stats);
    CHECK(out != NULL);
    CHECK(stats.instructions > 0);
    CHECK(stats.peak_memory > 0 && stats.peak_memory <= limits.memory_bytes);
    CHECK(stats.duration_us > 0);
    json_decref(out);
    error_clear(&err);
}

static void test_check(void)
{
    test_limits();
    mkt_error err = MKT_ERROR_INIT;
    const char *ok = "local k = 2\nfunction handler(x) return x * k end\n";
    CHECK_INT(sandbox_check(ok, strlen(ok), &limits, &err), 0);
    CHECK_INT(err.kind, ERROR_NONE);

    const char *cases[][2] = {
        {"function handler(", "syntax error: code:1:"},
        {"local x = 1", "code does not define function handler"},
        {"handler = 5", "code does not define function handler"},
        {"error('boom')", "code error: code:1: boom"},
        {"while true do end", "instruction limit exceeded"},
        {"\x1bLua\x54\x00", "attempt to load a binary chunk"},
        /* a metatable on _G must not run code when we look the handler up */
        {"setmetatable(_G, {__index = function() while true do end end})", "code does not define function handler"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i][0]) + (i == 5 ? 1 : 0); /* keep the NUL of the fake header */
        CHECK_INT(sandbox_check(cases[i][0], len, &limits, &err), -1);
        CHECK_INT(err.kind, ERROR_VALIDATION);
        if (!err.message || !strstr(err.message, cases[i][1])) {
            fprintf(stderr, "  check(%s): \"%s\"\n", cases[i][0], err.message ? err.message : "(null)");
            check_failures++;
        }
        error_clear(&err);
    }
    const char *plugin = "function on_event(e) return {seen = e.kind} end";
    CHECK_INT(sandbox_check_function(plugin, strlen(plugin), "on_event", &limits, NULL, &err), 0);
    json_t *in = json_pack("{s:s}", "kind", "purchase");
    json_t *out = sandbox_call(plugin, strlen(plugin), "on_event", in, &limits, NULL, &err);
    char *text = dump(out);
    CHECK_STR(text, "{\"seen\":\"purchase\"}");
    free(text);
    json_decref(out);
    json_decref(in);
    out = sandbox_call(plugin, strlen(plugin), "on_missing", NULL, &limits, NULL, &err);
    CHECK(out == NULL);
    CHECK_STR(err.message, "code does not define function on_missing");
    error_clear(&err);
}

static void test_limits_from_config(void)
{
    sandbox_limits d = sandbox_limits_from_config(NULL);
    CHECK_INT(d.instructions, 10000000);
    CHECK_INT(d.memory_bytes, 33554432);
    CHECK_INT(d.output_bytes, 1048576);
    CHECK_INT(d.timeout_ms, 2000);
    config cfg;
    config_defaults(&cfg);
    cfg.sandbox_memory = 4 << 20;
    sandbox_limits l = sandbox_limits_from_config(&cfg);
    CHECK_INT(l.memory_bytes, 4 << 20);
    config_free(&cfg);

    mkt_error err = MKT_ERROR_INIT;
    sandbox_limits bad = {0, 0, 0, 0};
    CHECK(sandbox_run("function handler() end", 22, NULL, &bad, NULL, &err) == NULL);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    error_clear(&err);
}

static void test_environment(void)
{
    test_limits();
    /* what exists and what does not */
    expect_output(
        "function handler()\n"
        "  local absent = {}\n"
        "  for _, name in ipairs({'io', 'debug', 'package', 'require', 'dofile', 'loadfile', 'collectgarbage',\n"
        "                         'warn', 'module', 'setfenv'}) do\n"
        "    if _G[name] ~= nil then absent[#absent + 1] = name end\n"
        "  end\n"
        "  local os_keys = {}\n"
        "  for k in pairs(os) do os_keys[#os_keys + 1] = k end\n"
        "  table.sort(os_keys)\n"
        "  print('print is accepted and dropped')\n"
        "  return {present = absent, os = os_keys, dump = string.dump == nil,\n"
        "          t = math.type(os.time()), d = type(os.date('%Y')), c = type(os.clock()),\n"
        "          meta = getmetatable(''), co = type(coroutine.wrap), u = utf8.char(233),\n"
        "          null = tostring(json.null), ver = _VERSION}\n"
        "end\n",
        NULL,
        "{\"c\":\"number\",\"co\":\"function\",\"d\":\"string\",\"dump\":true,\"meta\":false,\"null\":\"null\","
        "\"os\":[\"clock\",\"date\",\"time\"],\"present\":{},\"t\":\"integer\",\"u\":\"\xc3\xa9\",\"ver\":\"Lua 5.4\"}");

    /* load: text only, environment honoured */
    expect_output("function handler()\n"
                  "  local f = assert(load('return 1 + ...'))\n"
                  "  local g = assert(load('return x', 'chunk', 't', {x = 'env'}))\n"
                  "  local b, msg = load('\\27Lua', 'bin', 'b')\n"
                  "  local r, rmsg = load(function() return nil end)\n"
                  "  return {f(41), g(), b == nil, msg, r == nil, rmsg}\n"
                  "end\n",
                  NULL,
                  "[42,\"env\",true,\"attempt to load a binary chunk (mode is 't')\",true,"
                  "\"load: only string chunks can be loaded in the sandbox\"]");

    /* pcall/xpcall/coroutines behave as usual below the caps */
    expect_output("function handler()\n"
                  "  local ok, e = pcall(error, 'x', 0)\n"
                  "  local ok2, e2 = xpcall(function() error({code = 7}) end, function(m) return m.code end)\n"
                  "  local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)\n"
                  "  local gen = coroutine.wrap(function() for i = 1, 3 do pcall(coroutine.yield, i) end end)\n"
                  "  return {ok, e, ok2, e2, co(1), co(5), gen(), gen(), select('#', pcall(print))}\n"
                  "end\n",
                  NULL, "[false,\"x\",false,7,2,10,1,2,1]");

    /* table functions still work on plain tables and on input arrays (which carry the array marker) */
    expect_output("function handler(input)\n"
                  "  local t = input.list\n"
                  "  table.insert(t, 4); table.insert(t, 1, 0); table.remove(t, 2); table.remove(t)\n"
                  "  local m = table.move(t, 1, #t, 2, {})\n"
                  "  return {t, m[2], table.concat(t, '-'), select('#', table.unpack(t))}\n"
                  "end\n",
                  "{\"list\":[1,2,3]}", "[[0,2,3],0,\"0-2-3\",3]");
}

static void test_no_state_between_runs(void)
{
    test_limits();
    expect_output("leaked = 1\nstring.upper = nil\nfunction handler() return 1 end", NULL, "1");
    expect_output("function handler() return {leaked == nil, ('a'):upper()} end", NULL, "[true,\"A\"]");
}

/* ---- conversions ---- */

static void test_json_round_trip(void)
{
    test_limits();
    const char *identity = "function handler(x) return x end";
    expect_output(identity,
                  "{\"a\":1,\"b\":1.0,\"c\":\"s\\u0000t\",\"d\":true,\"e\":false,\"f\":[1,2.5,\"x\",null,{\"g\":[]}],"
                  "\"h\":{},\"i\":[],\"n\":null,\"big\":9007199254740993,\"min\":-9223372036854775808,"
                  "\"u\":\"\xe2\x82\xac\",\"deep\":[[[{\"z\":[0.5]}]]]}",
                  "{\"a\":1,\"b\":1.0,\"big\":9007199254740993,\"c\":\"s\\u0000t\",\"d\":true,\"deep\":[[[{\"z\":[0.5]}]]],"
                  "\"e\":false,\"f\":[1,2.5,\"x\",null,{\"g\":[]}],\"h\":{},\"i\":[],\"min\":-9223372036854775808,"
                  "\"u\":\"\xe2\x82\xac\"}");
    expect_output(identity, "[]", "[]");
    expect_output(identity, "{}", "{}");
    expect_output(identity, "null", "null");
    expect_output(identity, "\"plain\"", "\"plain\"");
    expect_output(identity, "-0.0", "-0.0");

    /* how null reads inside the handler */
    expect_output("function handler(x) return {x.a == nil, x.list[2] == json.null, #x.list, x.list[3]} end",
                  "{\"a\":null,\"list\":[1,null,3]}", "[true,true,3,3]");
    expect_output("function handler(x) return x == nil end", "null", "true");
    expect_output("function handler(x) return x == nil end", NULL, "true");

    /* integers stay integers, floats stay floats */
    expect_output("function handler() return {a = 1, b = 1.0, c = 2^53, d = 7 // 2, e = 6 / 2, f = math.maxinteger,\n"
                  "  g = 1e22, h = -0.5, i = math.tointeger(3.0)} end",
                  NULL,
                  "{\"a\":1,\"b\":1.0,\"c\":9007199254740992.0,\"d\":3,\"e\":3.0,\"f\":9223372036854775807,"
                  "\"g\":1e22,\"h\":-0.5,\"i\":3}");
    expect_output("function handler(x) return {math.type(x[1]), math.type(x[2])} end", "[1, 1.0]",
                  "[\"integer\",\"float\"]");

    /* empty tables: {} by default, [] when marked */
    expect_output("function handler() return {obj = {}, arr = json.array(), arr2 = json.array({}), list = json.array({1})} end",
                  NULL, "{\"arr\":[],\"arr2\":[],\"list\":[1],\"obj\":{}}");
    /* null and nothing */
    expect_output("function handler() return {json.null, 1, json.null} end", NULL, "[null,1,null]");
    expect_output("function handler() return json.null end", NULL, "null");
    expect_output("function handler() return nil end", NULL, "null");
    expect_output("function handler() end", NULL, "null");
    /* shared (non-cyclic) references are fine */
    expect_output("function handler() local t = {1} return {t, t} end", NULL, "[[1],[1]]");
    /* metatables are ignored, reads are raw */
    expect_output("function handler() return setmetatable({a = 1}, {__index = function() error('no') end,\n"
                  "  __pairs = function() error('no') end}) end",
                  NULL, "{\"a\":1}");
}

static void test_json_rejects(void)
{
    test_limits();
    const struct {
        const char *code, *needle;
    } cases[] = {
        {"function handler() return {items = {1, 2, nil, 4}} end", "output.items: sparse array"},
        {"function handler() return {a = {x = {[2] = 1}}} end", "output.a.x: sparse array"},
        {"function handler() return {1, 2, x = 3} end", "output: table mixes string keys and array indices"},
        {"function handler() return {[true] = 1} end", "output: table has a boolean key"},
        {"function handler() return {[1.5] = 1} end", "output: table has a non-integer number as key"},
        {"function handler() return {[0] = 1} end", "output: table has an integer below 1 as key"},
        {"function handler() return {{}, {f = print}} end", "output[1].f: cannot convert a function to JSON"},
        {"function handler() return coroutine.create(print) end", "output: cannot convert a thread to JSON"},
        {"function handler() return 0/0 end", "output: NaN or infinity"},
        {"function handler() return {list = {1, math.huge}} end", "output.list[1]: NaN or infinity"},
        {"function handler() return {x = -math.huge} end", "output.x: NaN or infinity"},
        {"function handler() return 'caf\\xe9' end", "output: string is not valid UTF-8"},
        {"function handler() return {['\\xff'] = 1} end", "key is not valid UTF-8"},
        {"function handler() return '\\xed\\xa0\\x80' end", "not valid UTF-8"}, /* a surrogate */
        {"function handler() local t = {} t.self = t return t end", "output.self: cycle"},
        {"function handler() local a, b = {}, {} a.b = b b.list = {a} return a end", "output.b.list[0]: cycle"},
        {"function handler() local t = {} for i = 1, 33 do t = {t} end return t end", "nested deeper than 32 levels"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].code, NULL, ERROR_VALIDATION, cases[i].needle);
    /* 32 levels is fine */
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = run("function handler() local t = 1 for i = 1, 32 do t = {t} end return t end", NULL, &err, NULL);
    CHECK(out != NULL);
    json_decref(out);
    error_clear(&err);

    /* input deeper than 32 levels */
    char deep[100] = "";
    for (int i = 0; i < 33; i++)
        strcat(deep, "[");
    for (int i = 0; i < 33; i++)
        strcat(deep, "]");
    expect_error("function handler(x) return 1 end", deep, ERROR_VALIDATION, "input: nested deeper than 32 levels");
}

/* The cap counts the compact encoding exactly: 1022 characters + 2 quotes fit 1024, one more does not. */
static void test_output_cap_exact(void)
{
    test_limits();
    limits.output_bytes = 1024;
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = run("function handler() return string.rep('a', 1022) end", NULL, &err, NULL);
    CHECK(out != NULL);
    char *text = dump(out);
    CHECK_INT(text ? strlen(text) : 0, 1024);
    free(text);
    json_decref(out);
    out = run("function handler() return string.rep('a', 1023) end", NULL, &err, NULL);
    CHECK(out == NULL);
    CHECK_STR(err.message, "output too large (more than 1024 bytes)");
    error_clear(&err);
    /* escapes count as written: 200 newlines are 400 bytes + quotes */
    limits.output_bytes = 402;
    out = run("function handler() return string.rep('\\n', 200) end", NULL, &err, NULL);
    CHECK(out != NULL);
    json_decref(out);
    limits.output_bytes = 401;
    out = run("function handler() return string.rep('\\n', 200) end", NULL, &err, NULL);
    CHECK(out == NULL);
    error_clear(&err);
}

/* ---- abuse ---- */

static void test_abuse_loops(void)
{
    test_limits();
    expect_abuse("function handler() while true do end end", "instruction limit exceeded (2000000 instructions)");
    /* catching the limit does not help: it is re-raised by pcall and by the next instruction */
    expect_abuse("function handler() while true do pcall(function() while true do end end) end end",
                 "instruction limit exceeded");
    expect_abuse("function handler() while true do xpcall(function() while true do end end, function(m) return m end) end end",
                 "instruction limit exceeded");
    expect_abuse("local function f() return f() end function handler() while true do pcall(f) end end",
                 "instruction limit exceeded");
    /* the wall clock, with an instruction cap out of reach */
    clock_limits();
    expect_abuse("function handler() local i = 0 while true do i = i + 1 end end", "time limit exceeded (200 ms)");
}

static void test_abuse_coroutines(void)
{
    test_limits();
    expect_abuse("function handler() local co = coroutine.wrap(function() while true do end end) co() end",
                 "instruction limit exceeded");
    expect_abuse("function handler() while true do\n"
                 "  local co = coroutine.create(function() while true do end end)\n"
                 "  coroutine.resume(co)\n"
                 "end end",
                 "instruction limit exceeded");
    expect_abuse("function handler()\n"
                 "  local co = coroutine.create(function() while true do pcall(function() while true do end end) end end)\n"
                 "  while true do coroutine.resume(co) end\n"
                 "end",
                 "instruction limit exceeded");
    /* a looping message handler, and a looping __close run by coroutine.close */
    expect_abuse("function handler() return xpcall(error, function(m) while true do end end, 'x') end",
                 "instruction limit exceeded");
    expect_abuse("function handler() local co = coroutine.create(function()\n"
                 "  local x <close> = setmetatable({}, {__close = function() while true do end end})\n"
                 "  coroutine.yield() end)\n"
                 "  coroutine.resume(co) return coroutine.close(co) end",
                 "instruction limit exceeded");
    /* a generator that never finishes, driven forever */
    expect_abuse("function handler() local g = coroutine.wrap(function() while true do coroutine.yield(1) end end)\n"
                 "  while true do g() end end",
                 "instruction limit exceeded");
    /* coroutines nested until the C stack limit */
    expect_abuse("local function f() coroutine.wrap(f)() end function handler() f() end", "handler error:");
}

static void test_abuse_memory(void)
{
    test_limits();
    limits.instructions = 200000000; /* let memory run out first */
    expect_abuse("function handler() local t = {} for i = 1, 1e9 do t[i] = i end end",
                 "memory limit exceeded (33554432 bytes)");
    expect_abuse("function handler() local t = {} for i = 1, 1e9 do t[#t + 1] = {i} end end", "memory limit exceeded");
    expect_abuse("function handler() local s = 'x' while true do s = s .. s end end", "memory limit exceeded");
    expect_abuse("function handler() return {table.concat({string.rep('x', 1e6)}, '', 1, 1)}, ('y'):rep(1e8) end",
                 "memory limit exceeded");

    /* string.rep of 2 GiB is refused by the allocator up front: no 2 GiB allocation, no long memset */
    sandbox_stats stats;
    mkt_error err = MKT_ERROR_INIT;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *out = run("function handler() return string.rep('x', 2^30) end", NULL, &err, &stats);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_STR(err.message, "memory limit exceeded (33554432 bytes)");
    CHECK(stats.peak_memory <= limits.memory_bytes);
    CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 5000);
    error_clear(&err);
    expect_normal_run();
    test_limits();
    limits.instructions = 200000000;
    expect_abuse("function handler() return ('ab'):rep(2^28, ',') end", "memory limit exceeded");
    expect_abuse("function handler() return string.rep('x', 2^31 - 1) end", "memory limit exceeded");
    /* 2^31 and beyond: Lua's own size check answers before any allocation */
    expect_abuse("function handler() return string.rep('x', 2^31) end", "handler error: resulting string too large");
    expect_abuse("function handler() return ('ab'):rep(2^40, ',') end", "resulting string too large");
    test_limits();

    /* a memory error caught by pcall is just an error: the tool may go on */
    expect_output("function handler() local ok, e = pcall(string.rep, 'x', 2^30) return {ok, e} end", NULL,
                  "[false,\"not enough memory\"]");
    /* the input counts against the memory cap too */
    limits.memory_bytes = 1 << 20;
    char *big = malloc(2 << 20);
    strcpy(big, "\"");
    memset(big + 1, 'x', (2 << 20) - 3);
    strcpy(big + (2 << 20) - 2, "\"");
    expect_error("function handler(x) return #x end", big, ERROR_VALIDATION, "memory limit exceeded (1048576 bytes)");
    free(big);
    expect_normal_run();
}

static void test_abuse_recursion(void)
{
    test_limits();
    limits.instructions = 50000000;
    /* Lua's stack limit (1M slots) and the 32 MiB cap are close: either may answer first */
    expect_abuse_either("local function f(n) return 1 + f(n + 1) end function handler() return f(1) end", "stack overflow",
                        "memory limit exceeded");
    limits.memory_bytes = INT64_C(256) << 20;
    expect_abuse("local function f(n) return 1 + f(n + 1) end function handler() return f(1) end", "stack overflow");
    test_limits();
    expect_abuse("function handler() local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x end",
                 "stack overflow");
    expect_abuse("local function f() return ('x'):gsub('x', f) end function handler() return f() end",
                 "stack overflow");
    expect_abuse("local function f() return tostring(setmetatable({}, {__tostring = f})) end function handler() return f() end",
                 "stack overflow");
}

static void test_abuse_output(void)
{
    test_limits();
    expect_abuse("function handler() return string.rep('x', 2 * 1024 * 1024) end", "output too large (more than 1048576 bytes)");
    expect_abuse("function handler() local t = {} for i = 1, 300000 do t[i] = i end return t end", "output too large");
    /* 2^30 leaves through shared references: stopped by the cap after about a megabyte, not after 2^30 */
    expect_abuse("function handler() local t = {} for i = 1, 30 do t = {t, t} end return t end", "output too large");
}

static void test_abuse_escapes(void)
{
    test_limits();
    expect_abuse("function handler() return os.execute('id') end", "handler error: code:1: attempt to call a nil value (field 'execute')");
    expect_abuse("function handler() return os.getenv('HOME') end", "attempt to call a nil value (field 'getenv')");
    expect_abuse("function handler() return io.open('/etc/passwd') end", "attempt to index a nil value (global 'io')");
    expect_abuse("function handler() return require('os') end", "attempt to call a nil value (global 'require')");
    expect_abuse("function handler() return dofile('/etc/passwd') end", "attempt to call a nil value (global 'dofile')");
    expect_abuse("function handler() return loadfile('/etc/passwd') end", "attempt to call a nil value (global 'loadfile')");
    expect_abuse("function handler() return package.loaded end", "attempt to index a nil value (global 'package')");
    expect_abuse("function handler() return string.dump(handler) end", "attempt to call a nil value (field 'dump')");
    expect_abuse("function handler() return assert(load(string.dump(function() end)))() end",
                 "attempt to call a nil value (field 'dump')");
    expect_abuse("function handler() return assert(load('\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10', 'x', 'b'))() end",
                 "attempt to load a binary chunk (mode is 't')");
    expect_abuse("function handler() debug.sethook() end", "attempt to index a nil value (global 'debug')");
    expect_abuse("function handler() collectgarbage('stop') end", "attempt to call a nil value (global 'collectgarbage')");
    expect_abuse("function handler() getmetatable('').__index = function() return 'pwned' end end",
                 "attempt to index a boolean value");
    expect_abuse("function handler() setmetatable('', {}) end", "bad argument #1 to 'setmetatable'");
    expect_abuse("function handler() rawset(getmetatable(''), '__index', {}) end", "bad argument #1 to 'rawset'");
    expect_abuse("function handler() setmetatable(json.null, {}) end", "bad argument #1 to 'setmetatable'");
}

static void test_abuse_error_values(void)
{
    test_limits();
    expect_abuse("function handler() error({}) end", "handler error: (error object is a table value)");
    expect_abuse("function handler() error(nil) end", "handler error: (error object is a nil value)");
    expect_abuse("function handler() error() end", "handler error: (error object is a nil value)");
    expect_abuse("function handler() error(setmetatable({}, {__tostring = function() error('x') end})) end",
                 "handler error: (error object is a table value)");
    expect_abuse("function handler() error(setmetatable({}, {__tostring = function() while true do end end})) end",
                 "handler error: (error object is a table value)");
    expect_abuse("function handler() error(42) end", "handler error: 42");
    expect_abuse("function handler() error(1.5) end", "handler error: 1.5");
    expect_abuse("function handler() error(true) end", "handler error: (error object is a boolean value)");
    expect_abuse("function handler() error(coroutine.create(print)) end", "(error object is a thread value)");
    expect_abuse("function handler() error('plain', 0) end", "handler error: plain");
    expect_abuse("function handler() error('bad \\xff byte\\0nul') end", "handler error: code:1: bad ? byte?nul");

    /* a huge message is cut, and stays valid UTF-8 */
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = run("function handler() error(string.rep('\\xe2\\x82\\xac', 100000), 0) end", NULL, &err, NULL);
    CHECK(out == NULL);
    CHECK(err.message && strlen(err.message) < 600);
    json_t *s = err.message ? json_string(err.message) : NULL; /* jansson refuses invalid UTF-8 */
    CHECK(s != NULL);
    json_decref(s);
    error_clear(&err);
}

static void test_abuse_patterns(void)
{
    test_limits();
    expect_abuse("function handler() return string.find(string.rep('a', 50000), '.-.-.-.-.-.-b') end",
                 "instruction limit exceeded");
    expect_abuse("function handler() return string.match(string.rep('a', 50000), 'a*a*a*a*a*b') end",
                 "instruction limit exceeded");
    expect_abuse("function handler() return (string.rep('a', 100000)):gsub('.-b', '') end", "instruction limit exceeded");
    expect_abuse("function handler() for x in string.rep('a', 50000):gmatch('a-a-a-a-b') do end end",
                 "instruction limit exceeded");
    /* the clock is read inside the matcher as well */
    clock_limits();
    expect_abuse("function handler() return string.find(string.rep('a', 50000), '.-.-.-.-.-.-b') end",
                 "time limit exceeded (200 ms)");
    /* stock string.rep('', 2^62) copies nothing 2^62 times in C */
    expect_output("function handler() return {('').rep('', 2^62), ('x'):rep(0), ('x'):rep(3, ','), ('ab'):rep(2)} end", NULL,
                  "[\"\",\"\",\"x,x,x\",\"abab\"]");
    /* long scans without allocation are charged by length */
    test_limits();
    expect_abuse("function handler() local s = string.rep('x', 16e6) while true do utf8.len(s) end end",
                 "instruction limit exceeded");
    expect_abuse("function handler() local s = string.rep('1', 16e6) while true do tonumber(s) end end",
                 "instruction limit exceeded");
    /* heavy C functions in a loop are caught by the clock check in the allocator */
    clock_limits();
    expect_abuse("function handler() local s = string.rep('x', 4e6) while true do local u = s:upper() end end",
                 "time limit exceeded");
}

static void test_abuse_tables(void)
{
    test_limits();
    expect_abuse("function handler() table.move({}, 1, 2^40, 1, {}) end", "instruction limit exceeded");
    expect_abuse("function handler() return table.concat({}, '', 1, 2^40) end", "instruction limit exceeded");
    /* whole-range spans saturate instead of overflowing (UBSan guards this) */
    expect_abuse("function handler() table.move({}, math.mininteger, math.maxinteger, 1, {}) end",
                 "instruction limit exceeded");
    expect_abuse("function handler() table.remove({}, math.mininteger) end", "position out of bounds");
    expect_abuse("function handler() table.insert({}, 2^62, 1) end", "position out of bounds");
    expect_abuse("function handler() table.insert(setmetatable({}, {__len = function() return 2^40 end}), 1, 'x') end",
                 "tables with a __len metamethod are not supported in the sandbox");
    expect_abuse("function handler() table.sort(setmetatable({}, {__len = function() return 2^31 - 2 end, __index = rawlen})) end",
                 "not supported in the sandbox");
    expect_abuse("function handler() local t = {} for i = 1, 2e5 do t[i] = i end table.sort(t, pcall) end",
                 "instruction limit exceeded");
}

static void test_abuse_gc(void)
{
    test_limits();
    /* Lua 5.4 runs finalizers with hooks off, so __gc is refused outright */
    expect_abuse("function handler() setmetatable({}, {__gc = function() while true do end end}) return 1 end",
                 "setmetatable: __gc metamethods are not supported in the sandbox");
    expect_abuse("function handler() setmetatable({}, {__gc = false}) end", "__gc metamethods are not supported");
    /* Lua looks __gc up raw, as the check does: an inherited one marks nothing */
    expect_output("function handler() local mt = setmetatable({}, {__index = {__gc = print}})\n"
                  "  setmetatable({}, mt) return mt.__gc ~= nil end",
                  NULL, "true");
    /* a __gc added after setmetatable never marks the object: no finalizer runs, during the run or at close */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_output("function handler()\n"
                  "  local mt = {}\n"
                  "  for i = 1, 1e4 do setmetatable({}, mt) end\n"
                  "  mt.__gc = function() while true do end end\n"
                  "  for i = 1, 1e5 do local t = {i} end\n"
                  "  return 1\n"
                  "end",
                  NULL, "1");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 5000);
    /* the array marker is reachable; giving it a __gc must not turn json.array into a way around the check */
    expect_abuse("function handler() getmetatable(json.array()).__gc = function() while true do end end\n"
                 "  return json.array({}) end",
                 "json.array: the array metatable has a __gc field");
    expect_abuse("function handler(x) local mt = getmetatable(json.array()) mt.__gc = print setmetatable({}, mt) end",
                 "__gc metamethods are not supported");
    /* __close handlers are ordinary hooked calls */
    expect_abuse("function handler() local x <close> = setmetatable({}, {__close = function() while true do end end}) end",
                 "instruction limit exceeded");
    expect_normal_run();
}

/* ---- the wall clock does not depend on the count hook ---- */

/* One `a < b` on two equal 32 MiB strings is a single VM instruction that runs strcoll over both
 * strings, unseen by the count hook (so is `a == b`, a memcmp); the loop packs about 500 of them between
 * two hook calls. Without a timer the deadline is only noticed at the next hook, seconds after it
 * passed. The strings are built by doubling (fast), so the deadline falls inside the loop. */
#define SLOW_CMP4 "if a < b then end if a == b then end if a < b then end if a == b then end "
#define SLOW_CMP32 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4
#define SLOW_COMPARE_BODY                                                                          \
    "  local a, b = 'x', 'x'\n"                                                                    \
    "  for i = 1, 25 do a = a .. a end\n"                                                          \
    "  for i = 1, 25 do b = b .. b end\n"                                                          \
    "  while true do " SLOW_CMP32 SLOW_CMP32 SLOW_CMP32 SLOW_CMP32 " end\n"

/* Runs code under a limit_ms wall clock and a 160 MiB memory cap; checks it ends with "time limit
 * exceeded" well before 3x the limit (generous: the overshoot left is one comparison, a few ms). */
static double unit_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void expect_stopped_on_time(const char *label, const char *code, int64_t limit_ms)
{
    test_limits();
    limits.timeout_ms = limit_ms;
    limits.instructions = INT64_C(1) << 40; /* only the clock may stop it */
    limits.memory_bytes = 160 * 1024 * 1024;
    mkt_error err = MKT_ERROR_INIT;
    /* CPU time, not wall time: on a loaded machine the run may wait for a core, but the work it did
     * past the deadline is what the timer bounds (before it, a 200 ms limit burned 4.5-5.3 s). */
    double t0 = unit_cpu_s();
    json_t *out = run(code, NULL, &err, NULL);
    double took_ms = (unit_cpu_s() - t0) * 1000.0;
    CHECK(out == NULL);
    if (!err.message || !strstr(err.message, "time limit exceeded")) {
        fprintf(stderr, "  %s: message \"%s\" lacks \"time limit exceeded\"\n", label,
                err.message ? err.message : "(null)");
        check_failures++;
    }
    if (took_ms >= 3.0 * (double)limit_ms) {
        fprintf(stderr, "  %s: a %lld ms limit took %.0f ms of CPU (>= 3x)\n", label, (long long)limit_ms, took_ms);
        check_failures++;
    } else if (verbose) {
        fprintf(stderr, "    %s: %lld ms limit stopped after %.0f ms\n", label, (long long)limit_ms, took_ms);
    }
    json_decref(out);
    error_clear(&err);
    expect_normal_run();
}

static void test_timer_bounds_overshoot(void)
{
    expect_stopped_on_time("main thread", "function handler()\n" SLOW_COMPARE_BODY "end\n", 200);
    /* the timer must reach the thread that is running, not only the main one */
    expect_stopped_on_time("coroutine.wrap",
                           "function handler()\n  local f = coroutine.wrap(function()\n" SLOW_COMPARE_BODY
                           "  end)\n  f()\nend\n", 200);
    expect_stopped_on_time("coroutine.resume (result ignored)",
                           "function handler()\n  local co = coroutine.create(function()\n" SLOW_COMPARE_BODY
                           "  end)\n  local ok = coroutine.resume(co)\n  while true do end\nend\n", 200);
    /* a caller that blocks every signal (the worker blocks its stop signals during a request) */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    expect_stopped_on_time("all signals blocked by the caller", "function handler()\n" SLOW_COMPARE_BODY "end\n", 200);
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* a stray timer signal between runs finds no live state and does nothing */
    CHECK_INT(raise(SANDBOX_TIMER_SIGNAL), 0);
    expect_normal_run();
}

/* ---- the pattern functions against stock Lua ---- */

static const char *const pattern_prelude =
    "local function show(...) local out = {} for i = 1, select('#', ...) do out[i] = tostring((select(i, ...))) end\n"
    "  return table.concat(out, ',') end\n"
    "local function try(f) local ok, r = pcall(function() return show(f()) end) return ok and r or 'error' end\n";

/* The result of body (a Lua expression) under stock Lua 5.4 with all libraries. */
static char *stock_eval(const char *body)
{
    char *code = NULL;
    if (asprintf(&code, "%sreturn try(function() return %s end)", pattern_prelude, body) < 0)
        return NULL;
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    char *out = NULL;
    /* named like the sandbox's chunk, so error positions compare equal */
    if ((luaL_loadbufferx(L, code, strlen(code), "=code", "t") || lua_pcall(L, 0, LUA_MULTRET, 0)) == LUA_OK &&
        lua_type(L, -1) == LUA_TSTRING)
        out = strdup(lua_tostring(L, -1));
    else
        out = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_close(L);
    free(code);
    return out;
}

static char *sandbox_eval(const char *body)
{
    char *code = NULL;
    if (asprintf(&code, "%sfunction handler() return try(function() return %s end) end", pattern_prelude, body) < 0)
        return NULL;
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = sandbox_run(code, strlen(code), NULL, &limits, NULL, &err);
    char *text = out && json_is_string(out) ? strdup(json_string_value(out)) : strdup(err.message ? err.message : "?");
    json_decref(out);
    error_clear(&err);
    free(code);
    return text;
}

static int compare_with_stock(const char *body)
{
    char *a = stock_eval(body), *b = sandbox_eval(body);
    int same = a && b && strcmp(a, b) == 0;
    if (!same) {
        fprintf(stderr, "  %s\n    stock:   %s\n    sandbox: %s\n", body, a ? a : "(null)", b ? b : "(null)");
        check_failures++;
    }
    free(a);
    free(b);
    return same;
}

static void test_patterns_match_stock_lua(void)
{
    test_limits();
    static const char *const cases[] = {
        "('hello world'):find('o w')", "('hello world'):find('o', 6)", "('hello'):find('l+')",
        "('hello'):find('xyz')", "('a.b'):find('.', 1, true)", "('a+b'):find('+', 1, true)", "('abc'):find('', 10)",
        "('abc'):find('', 4)", "('abc'):find('b', -1)", "('abc'):find('b', -10)", "('abc'):find('()b()')",
        "('key=value'):match('(%w+)=(%w+)')", "('  trim me  '):match('^%s*(.-)%s*$')", "('2024-01-31'):match('(%d+)-(%d+)-(%d+)')",
        "('f(a(b)c) d'):match('%b()')", "('say \"hi\" ok'):match('([\"\\'])(.-)%1')", "('abc'):match('^b')",
        "('abc'):match('c$')", "('a$c'):match('$c')", "('a-b'):match('[%-]')", "(']'):match('[]]')", "('x^'):match('[%^]')",
        "('5x'):match('[^%a]')", "('Hello'):match('%u%l+')", "('x1_y'):match('[%w_]+')", "('tab\\there'):match('%c')",
        "('abc'):match('a?b?c?d?')", "('aaa'):match('a-')", "('aaa'):match('a-$')", "('<a><b>'):match('<(.-)>')",
        "('abc'):match('()')", "('abc'):match('(a)(b)(c)')", "('aXb'):match('%f[%u]%u')",
        "('hello world'):gsub('o', '0')", "('hello world'):gsub('o', '0', 1)", "('abc'):gsub('%w', '%0%0')",
        "('hello world'):gsub('(%w+)', '<%1>')", "('abc'):gsub('', '-')", "('abc'):gsub('^a', 'x')",
        "('abc'):gsub('b*', '-')", "('$name is $age'):gsub('%$(%w+)', {name = 'bob', age = 42})",
        "('a b c'):gsub('%w', function(c) return c:upper() end)", "('a b c'):gsub('%w', function(c) if c == 'b' then return false end return 'x' end)",
        "('THE (quick) fox'):gsub('%f[%a]%a+', 'W')", "('x'):gsub('x', '%%')", "('abc'):gsub('(b)', '%2')",
        "('abc'):gsub('b', '%')", "('abc'):gsub('b', '%x')", "('abc'):gsub('b', {b = {}})", "('abc'):gsub('.', {a = 1, b = true})",
        "('x'):find('%')", "('x'):find('[a')", "('x'):find('[^')", "('x'):find('(')", "('x'):find(')')", "('x'):find('%1')",
        "('x'):find('%b')", "('x'):find('%fx')", "('x'):gsub('x', 1)", "('x'):gsub('x', true)", "('x'):match('(()')",
        "('a,b,,c'):gsub(',', ';')", "('one two  three'):gsub('%s+', ' ')", "('\\0a\\0'):find('%z')", "('\\0a\\0'):find('\\0', 2)",
        "('\\0a\\0'):match('[%z\\0]a')", "('abcabc'):find('(b)(c)', 3)", "('ab'):rep(3):gsub('(a)(b)', '%2%1')",
        "('aaa'):gsub('a*', '-')", "('abc'):gsub('.', {})", "string.gsub('abc', '(a)', tostring)",
        "('[[x]]'):match('%[(%b[])%]')", "('x'):match('.', 2)", "('x'):match('.*', 2)", "('a1b2'):gsub('%d', '%0', 1.0)",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        compare_with_stock(cases[i]);

    /* gmatch, including empty matches, captures and the init argument */
    static const char *const gmatch_cases[] = {
        "'a=1, b=2', '(%w+)=(%w+)'", "'abc', 'x*'", "'one two three', '%a+'", "'abc', '.', 2", "'abc', '.', -1",
        "'abc', '.', 10", "'a^b', '^b'", "'hello', '()l'", "'aaa', 'a-'", "'abab', 'b*'",
    };
    for (size_t i = 0; i < sizeof gmatch_cases / sizeof gmatch_cases[0]; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "(function() local t = {} for a, b in string.gmatch(%s) do t[#t + 1] = tostring(a) .. '|' .. tostring(b) end"
                 " return table.concat(t, ';') end)()",
                 gmatch_cases[i]);
        compare_with_stock(body);
    }
}

/* Random short patterns and subjects, compared through find, match, gsub and gmatch. */
static void test_patterns_random(void)
{
    test_limits();
    static const char *const atoms[] = {"a", "b", ".", "%a", "%d", "%s", "[ab]", "[^a]", "[a-c]", "%w", "(", ")", "()",
                                        "%b()", "%f[%w]", "%1", "x", "1", "_", "%%", "[%d_]"};
    static const char *const quantifiers[] = {"", "", "", "*", "+", "-", "?"};
    static const char subject_chars[] = "aabb()x1_ c";
    uint32_t seed = 12345;
#define NEXT_RANDOM() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff)
    int failures = 0;
    for (int round = 0; round < 400 && failures < 5; round++) {
        char pattern[96] = "", subject[32] = "";
        if (NEXT_RANDOM() % 4 == 0)
            strcat(pattern, "^");
        int atoms_n = 1 + (int)(NEXT_RANDOM() % 5);
        for (int i = 0; i < atoms_n; i++) {
            const char *atom = atoms[NEXT_RANDOM() % (sizeof atoms / sizeof atoms[0])];
            strcat(pattern, atom);
            if (strlen(atom) <= 5 && strcmp(atom, "(") && strcmp(atom, ")") && strcmp(atom, "()") && atom[0] != '%')
                strcat(pattern, quantifiers[NEXT_RANDOM() % (sizeof quantifiers / sizeof quantifiers[0])]);
        }
        if (NEXT_RANDOM() % 5 == 0)
            strcat(pattern, "$");
        int subject_n = (int)(NEXT_RANDOM() % 14);
        for (int i = 0; i < subject_n; i++)
            subject[i] = subject_chars[NEXT_RANDOM() % (sizeof subject_chars - 1)];
        subject[subject_n] = '\0';
        char body[512];
        snprintf(body, sizeof body,
                 "(function() local s, p = [==[%s]==], [==[%s]==]\n"
                 "  local r = {try(function() return s:find(p) end), try(function() return s:match(p) end),\n"
                 "             try(function() return s:gsub(p, '<%%0>') end),\n"
                 "             try(function() local t = {} for a in s:gmatch(p) do t[#t + 1] = tostring(a) end return table.concat(t, ';') end)}\n"
                 "  return table.concat(r, ' | ') end)()",
                 subject, pattern);
        if (!compare_with_stock(body))
            failures++;
    }
#undef NEXT_RANDOM
}

/* coroutine.resume/wrap/close are wrapped (the timer must know which thread runs): same answers as stock */
static void test_coroutines_match_stock_lua(void)
{
    test_limits();
    static const char *const cases[] = {
        "coroutine.wrap(function() error('boom') end)()",
        "coroutine.wrap(function() error({}) end)()",
        "coroutine.wrap(function(a, b) local c = coroutine.yield(a + b) return c * 2 end)(1, 2)",
        "coroutine.resume(coroutine.create(function() error('boom') end))",
        "coroutine.resume(coroutine.create(function(...) return select('#', ...), ... end), 1, nil, 3)",
        "coroutine.resume(coroutine.create(tostring), 1)",
        "coroutine.resume(coroutine.running())",
        "coroutine.close(coroutine.running())",
        "coroutine.close(coroutine.create(print))",
        "coroutine.wrap(42)",
        "coroutine.resume(42)",
        "(function() local f = coroutine.wrap(function() return 1 end) f() return f() end)()",
        "(function() local co = coroutine.create(function() coroutine.yield(1) error('x') end)\n"
        "  return coroutine.resume(co), coroutine.resume(co), coroutine.status(co), coroutine.close(co) end)()",
        "(function() local co = coroutine.create(function() local x <close> = setmetatable({}, {__close = function()"
        " error('in close') end}) coroutine.yield() end) coroutine.resume(co) return coroutine.close(co) end)()",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        compare_with_stock(cases[i]);
}

int main(void)
{
    verbose = getenv("SANDBOX_TEST_VERBOSE") != NULL;
    RUN(test_limits_from_config);
    RUN(test_transform);
    RUN(test_check);
    RUN(test_environment);
    RUN(test_no_state_between_runs);
    RUN(test_json_round_trip);
    RUN(test_json_rejects);
    RUN(test_output_cap_exact);
    RUN(test_abuse_loops);
    RUN(test_abuse_coroutines);
    RUN(test_abuse_memory);
    RUN(test_abuse_recursion);
    RUN(test_abuse_output);
    RUN(test_abuse_escapes);
    RUN(test_abuse_error_values);
    RUN(test_abuse_patterns);
    RUN(test_abuse_tables);
    RUN(test_abuse_gc);
    RUN(test_timer_bounds_overshoot);
    RUN(test_patterns_match_stock_lua);
    RUN(test_patterns_random);
    RUN(test_coroutines_match_stock_lua);
    return check_finish();
}

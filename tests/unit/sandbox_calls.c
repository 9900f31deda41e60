/* core/sandbox: tools.call — a callee runs in a nested state that shares the caller's memory cap, work
 * counter and deadline; failures surface as the caller's Lua error naming the callee; caps stay sticky
 * across the tree; depth is limited. The provider here is a fixed table of slug -> code (no schemas:
 * `before` refuses inputs carrying "bad", `after` refuses outputs carrying "bad"), so the sandbox's own
 * part is tested without a database. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sandbox.h"
#include "tests/support/check.h"

typedef struct {
    const char *slug, *code;
} fake_tool;

static const fake_tool tools[] = {
    {"double", "function handler(input) return {n = input.n * 2} end"},
    {"loop", "function handler(input) while true do end end"},
    {"spin", "function handler(input) local x = 0 for i = 1, 300000 do x = x + i end return {n = x} end"},
    {"alloc", "function handler(input) local t = {} for i = 1, 1000000 do t[i] = i end return {n = #t} end"},
    {"deep", "local function f(n) return f(n + 1) + 1 end function handler(input) return {n = f(1)} end"},
    {"io", "function handler(input) return {n = io.open('/etc/passwd')} end"},
    {"self", "function handler(input) return tools.call('self', {n = input.n + 1}) end"},
    {"chain3", "function handler(input) return tools.call('chain4', input) end"},
    {"chain4", "function handler(input) return {n = input.n + 4} end"},
    {"bad-out", "function handler(input) return {bad = true} end"},
    {"catcher", "function handler(input) local ok, e = pcall(tools.call, 'loop', {}) return {n = 1} end"},
    {NULL, NULL},
};

static int fake_resolve(void *ud, void *from, const char *slug, sandbox_callee *out, mkt_error *err)
{
    (void)ud;
    (void)from;
    if (strcmp(slug, "undeclared") == 0)
        return error_set(err, ERROR_VALIDATION, "\"%s\" is not among the tool's dependencies", slug);
    if (strcmp(slug, "broken-db") == 0)
        return error_set(err, ERROR_INTERNAL, "the database is down");
    for (size_t i = 0; tools[i].slug; i++)
        if (strcmp(tools[i].slug, slug) == 0) {
            *out = (sandbox_callee){tools[i].code, strlen(tools[i].code), (void *)&tools[i]};
            return 0;
        }
    return error_set(err, ERROR_VALIDATION, "no tool \"%s\"", slug);
}

/* The provider's own work in sandboxes of its own is charged to the tree: "costly" reports 1.5M units. */
static json_t *fake_before(void *ud, void *tool, const json_t *input, sandbox_budget *budget, mkt_error *err)
{
    (void)ud;
    (void)tool;
    if (json_object_get(input, "bad")) {
        error_set(err, ERROR_VALIDATION, "the input does not match the tool's input schema");
        return NULL;
    }
    if (json_object_get(input, "costly"))
        budget->spent = 1500000;
    return json_deep_copy(input);
}

static json_t *fake_after(void *ud, void *tool, json_t *output, sandbox_budget *budget, mkt_error *err)
{
    (void)ud;
    (void)tool;
    (void)budget;
    if (json_object_get(output, "bad")) {
        error_set(err, ERROR_VALIDATION, "the tool's output does not match its output schema");
        return NULL;
    }
    return json_incref(output);
}

static const sandbox_calls calls = {fake_resolve, fake_before, fake_after, NULL, NULL};
static sandbox_limits limits;

static void reset_limits(void)
{
    limits = sandbox_limits_from_config(NULL);
    limits.instructions = 2000000;
    limits.memory_bytes = 16 * 1024 * 1024;
    limits.timeout_ms = 60000;
}

static json_t *run(const char *code, mkt_error *err, sandbox_stats *stats)
{
    json_t *in = json_pack("{s:i}", "n", 1);
    json_t *out = sandbox_run_calls(code, strlen(code), in, &limits, &calls, stats, err);
    json_decref(in);
    return out;
}

/* The run succeeds with output.n == n. */
static void expect_n(const char *code, json_int_t n, int line)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = run(code, &err, NULL);
    json_int_t got = json_integer_value(json_object_get(out, "n"));
    if (!out || got != n) {
        fprintf(stderr, "  line %d: expected n = %lld, got %s (%s)\n", line, (long long)n, out ? "another" : "error",
                err.message ? err.message : "");
        check_failures++;
    }
    json_decref(out);
    error_clear(&err);
}

/* The run fails with kind and a message containing needle. */
static void expect_fail(const char *code, error_kind kind, const char *needle, int line)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = run(code, &err, NULL);
    if (out || err.kind != kind || !err.message || !strstr(err.message, needle)) {
        fprintf(stderr, "  line %d: expected a failure containing \"%s\", got %s\n", line, needle,
                out ? "success" : (err.message ? err.message : "(no message)"));
        check_failures++;
    }
    json_decref(out);
    error_clear(&err);
}

static void test_call(void)
{
    expect_n("function handler(input) return tools.call('double', {n = 21}) end", 42, __LINE__);
    expect_n("function handler(input) local a = tools.call('double', input)"
             " local b = tools.call('double', a) return b end",
             4, __LINE__);
    /* the callee's globals are its own: the caller's changes to string do not reach it */
    expect_n("string.rep = nil function handler(input) return tools.call('double', input) end", 2, __LINE__);
    /* a chain of three states */
    expect_n("function handler(input) return tools.call('chain3', input) end", 5, __LINE__);
    /* a plain run (a code check, a plugin hook) has the table, so a top-level alias checks, but calling it
     * is an error */
    mkt_error err = MKT_ERROR_INIT;
    const char *code = "local call = tools.call function handler(input) return call('double', {n = 1}) end";
    CHECK(sandbox_check(code, strlen(code), &limits, &err) == 0);
    json_t *out = sandbox_run(code, strlen(code), NULL, &limits, NULL, &err);
    CHECK(!out && err.message && strstr(err.message, "tools.call is not available here"));
    json_decref(out);
    error_clear(&err);
    expect_n("local call = tools.call function handler(input) return call('double', {n = 4}) end", 8, __LINE__);
}

static void test_refusals(void)
{
    expect_fail("function handler(input) return tools.call('undeclared', {}) end", ERROR_VALIDATION,
                "tools.call(\"undeclared\") failed: \"undeclared\" is not among the tool's dependencies", __LINE__);
    expect_fail("function handler(input) return tools.call('double', 5) end", ERROR_VALIDATION,
                "the input must be a table", __LINE__);
    expect_fail("function handler(input) return tools.call('double') end", ERROR_VALIDATION, "takes 2 arguments",
                __LINE__);
    expect_fail("function handler(input) return tools.call('double', {}, 3) end", ERROR_VALIDATION,
                "takes 2 arguments", __LINE__);
    expect_fail("function handler(input) return tools.call(42, {}) end", ERROR_VALIDATION, "slug must be", __LINE__);
    expect_fail("function handler(input) return tools.call('double', {bad = 1}) end", ERROR_VALIDATION,
                "tools.call(\"double\") failed: the input does not match", __LINE__);
    expect_fail("function handler(input) return tools.call('bad-out', {}) end", ERROR_VALIDATION,
                "tools.call(\"bad-out\") failed: the tool's output does not match", __LINE__);
    expect_fail("function handler(input) return tools.call('double', {f = print}) end", ERROR_VALIDATION,
                "tools.call(\"double\") failed: input.f", __LINE__);
    /* a huge input is refused at the output cap, before the callee runs */
    expect_fail("function handler(input) local t = {} for i = 1, 200000 do t[i] = 'xxxxxxxxxx' end"
                " return tools.call('double', t) end",
                ERROR_VALIDATION, "too large", __LINE__);
    /* a callee's own error names the callee; the caller may catch it */
    expect_fail("function handler(input) return tools.call('io', {}) end", ERROR_VALIDATION,
                "tools.call(\"io\") failed: handler error", __LINE__);
    expect_n("function handler(input) local ok = pcall(tools.call, 'io', {}) return {n = ok and 0 or 7} end", 7,
             __LINE__);
    /* the stack grows until the shared memory cap or Lua's stack limit stops it, whichever comes first */
    mkt_error err = MKT_ERROR_INIT;
    const char *deep = "function handler(input) return tools.call('deep', {}) end";
    json_t *out = run(deep, &err, NULL);
    CHECK(!out && err.message && strstr(err.message, "tools.call(\"deep\") failed") &&
          (strstr(err.message, "overflow") || strstr(err.message, "memory limit exceeded")));
    json_decref(out);
    error_clear(&err);
    /* our own failure is a 500, and the script cannot catch its way past it */
    expect_fail("function handler(input) pcall(tools.call, 'broken-db', {}) return {n = 1} end", ERROR_INTERNAL,
                "the database is down", __LINE__);
}

static void test_depth(void)
{
    /* root + self + self + self = 4 live tools; the fifth is refused */
    expect_fail("function handler(input) return tools.call('self', {n = 0}) end", ERROR_VALIDATION,
                "call depth limit exceeded (at most 4 tools deep)", __LINE__);
    expect_n("function handler(input) return tools.call('chain3', input) end", 5, __LINE__);
}

static void test_shared_budget(void)
{
    /* the callee's infinite loop spends the caller's one budget, and the report names the call */
    mkt_error err = MKT_ERROR_INIT;
    sandbox_stats stats;
    json_t *out = run("function handler(input) return tools.call('loop', {}) end", &err, &stats);
    CHECK(out == NULL);
    CHECK(err.message && strstr(err.message, "instruction limit exceeded (2000000 instructions) in tools.call(\"loop\")"));
    CHECK(stats.cap_hit == SANDBOX_CAP_INSTRUCTIONS);
    CHECK(stats.instructions == limits.instructions);
    json_decref(out);
    error_clear(&err);
    /* pcall around the call cannot catch the tripped cap */
    expect_fail("function handler(input) local ok = pcall(tools.call, 'loop', {}) return {n = 1} end",
                ERROR_VALIDATION, "instruction limit exceeded", __LINE__);
    expect_fail("function handler(input) return tools.call('catcher', {}) end", ERROR_VALIDATION,
                "instruction limit exceeded", __LINE__);
    /* each callee alone fits the cap; the caller's work plus theirs does not: no reset per call */
    limits.instructions = 700000;
    expect_n("function handler(input) return {n = tools.call('spin', {}).n > 0 and 1 or 0} end", 1, __LINE__);
    expect_fail("function handler(input) for i = 1, 4 do tools.call('spin', {}) end return {n = 1} end",
                ERROR_VALIDATION, "instruction limit exceeded", __LINE__);
    reset_limits();
    /* work the provider did on the call's behalf (hook chains) is charged to the same counter */
    expect_n("function handler(input) return tools.call('double', {n = 1, costly = true}) end", 2, __LINE__);
    expect_fail("function handler(input) tools.call('double', {n = 1, costly = true})"
                " return tools.call('double', {n = 1, costly = true}) end",
                ERROR_VALIDATION, "instruction limit exceeded", __LINE__);
    /* one wall clock for the tree */
    limits.instructions = INT64_C(1) << 40;
    limits.timeout_ms = 200;
    expect_fail("function handler(input) return tools.call('loop', {}) end", ERROR_VALIDATION,
                "time limit exceeded (200 ms) in tools.call(\"loop\")", __LINE__);
    reset_limits();
}

static void test_shared_memory(void)
{
    /* alone the callee's table fits; with the caller holding most of the cap it does not */
    limits.instructions = INT64_C(1) << 40;
    limits.memory_bytes = 32 * 1024 * 1024;
    expect_n("function handler(input) return {n = tools.call('alloc', {}).n} end", 1000000, __LINE__);
    expect_fail("function handler(input) local hold = {} for i = 1, 1000000 do hold[i] = i end"
                " return {n = tools.call('alloc', {}).n + #hold} end",
                ERROR_VALIDATION, "tools.call(\"alloc\") failed: memory limit exceeded", __LINE__);
    /* the caller's garbage does not eat the callee's room: it is collected before the call */
    expect_n("function handler(input) for i = 1, 3 do local g = string.rep('x', 9 * 1024 * 1024) .. i end"
             " return {n = tools.call('alloc', {}).n} end",
             1000000, __LINE__);
    /* and the caller goes on normally once a failed callee's state is gone */
    expect_n("function handler(input) local hold = {} for i = 1, 1000000 do hold[i] = i end"
             " local ok = pcall(tools.call, 'alloc', {}) return tools.call('double', {n = ok and 0 or 3}) end",
             6, __LINE__);
    reset_limits();
}

int main(void)
{
    reset_limits();
    test_call();
    test_refusals();
    test_depth();
    test_shared_budget();
    test_shared_memory();
    check_report("sandbox_calls");
    return check_finish();
}

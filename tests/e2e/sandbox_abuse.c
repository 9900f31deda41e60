/* Hostile tool code, end to end through nginx (escapes, exhaustion, crafted input). Each case is published as a tool and
 * executed by a buyer: the answer must be a 422 problem whose detail names the reason, and the worker
 * that ran it must live on — it answers a normal tool right after (the test keeps running the normal
 * tool until the same worker process, found through the access log's pid, has served it), and the
 * master has counted no crash and no timeout. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/stack_env.h"

#define SAME_WORKER_TRIES 60

static http_user g_dev, g_buyer;
static char g_normal[96];
static int g_same_worker_hits, g_cases;

/* ---- helpers ---------------------------------------------------------------------------------- */

/* Creates and publishes a tool with the given code and schemas that accept anything; no tests, so the
 * abuse only happens when it is executed. Returns 0 on success. */
static int publish_tool(const char *slug, const char *code, const char *input_schema, const char *tests)
{
    json_error_t jerr;
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{}, s:o}", "slug", slug, "name", "Abuse case", "category",
                             "other", "code", code, "input_schema", json_loads(input_schema, 0, &jerr),
                             "output_schema", "tests", json_loads(tests, 0, &jerr));
    if (fixture_post_expect(&g_dev, "/tools", body, NULL, 201, "create") < 0)
        return -1;
    char path[192];
    snprintf(path, sizeof path, "/tools/%s/publish", slug);
    return fixture_post_expect(&g_dev, path, NULL, "{\"version\": \"1.0.0\"}", 201, "publish");
}

static http_response *execute(const char *slug, const char *body)
{
    char path[192];
    snprintf(path, sizeof path, "/tools/%s/execute", slug);
    return http_post_text(path, g_buyer.token, body);
}

/* Runs the normal tool until the worker `pid` answers it (or SAME_WORKER_TRIES runs); every run must
 * succeed. Returns 1 when the same worker served one. */
static int normal_tool_on_worker(long pid, int line)
{
    for (int i = 0; i < SAME_WORKER_TRIES; i++) {
        http_response *res = execute(g_normal, "{\"input\": {\"text\": \"still alive\"}}");
        int ok = res->status == 200 &&
                 strcmp(json_string_value(json_object_get(json_object_get(res->json, "output"), "upper")) ?: "",
                        "STILL ALIVE") == 0;
        long served_by = ok ? fixture_worker_pid_of(res->request_id) : 0;
        if (!ok) {
            fprintf(stderr, "  %s:%d: the normal tool failed after an abuse case\n", __FILE__, line);
            http_dump("normal", res);
            check_failures++;
        }
        http_response_free(res);
        if (!ok)
            return 0;
        if (pid == 0 || served_by == pid)
            return pid != 0;
    }
    return 0;
}

/* ---- one case ------------------------------------------------------------------------------------ */

/* Resource exhaustion (memory, stack, instructions) is slow work by nature: on a loaded machine or
 * under the sanitizers the wall-clock cap can trip first. Either way the run was contained. */
static int abuse_is_exhaustion(const char *expect)
{
    return strstr(expect, "limit exceeded") || strstr(expect, "overflow") || strstr(expect, "too large");
}

/* code runs as a tool; the 422's detail must contain `expect` (or `expect_alt`, when given; or the
 * time limit, for exhaustion cases). */
static void abuse_case(const char *name, const char *code, const char *expect, const char *expect_alt)
{
    char slug[96];
    snprintf(slug, sizeof slug, "%s", fixture_slug(name));
    if (publish_tool(slug, code, "{}", "[]") < 0) {
        fprintf(stderr, "  %s: could not publish\n", name);
        check_failures++;
        return;
    }
    http_response *res = execute(slug, "{\"input\": {\"n\": 1}}");
    const char *detail = json_string_value(json_object_get(res->json, "detail"));
    int ok = http_is_problem(res, 422) && detail &&
             (strstr(detail, expect) || (expect_alt && strstr(detail, expect_alt)) ||
              (abuse_is_exhaustion(expect) && strstr(detail, "time limit exceeded")));
    if (!ok) {
        fprintf(stderr, "  %s: expected a 422 saying \"%s\"%s%s\n", name, expect, expect_alt ? " or " : "",
                expect_alt ? expect_alt : "");
        http_dump("got", res);
        check_failures++;
    } else {
        fprintf(stderr, "    %-22s 422 in %.0f ms: %.150s\n", name, res->seconds * 1000.0, detail);
    }
    long pid = fixture_worker_pid_of(res->request_id);
    http_response_free(res);
    CHECK(pid > 0);
    g_cases++;
    g_same_worker_hits += normal_tool_on_worker(pid, __LINE__);
    if (pid > 0 && kill((pid_t)pid, 0) != 0) {
        fprintf(stderr, "  %s: worker %ld is gone\n", name, pid);
        check_failures++;
    }
}

/* ---- the cases ------------------------------------------------------------------------------- */

static void test_infinite_loop(void)
{
    abuse_case("loop", "function handler(input) while true do end end", "instruction limit exceeded",
               "time limit exceeded");
}

static void test_memory_bomb(void)
{
    abuse_case("membomb", "function handler(input) local t = {} local i = 0\n"
                          " while true do i = i + 1; t[i] = {i, i, i, tostring(i)} end end",
               "memory limit exceeded", NULL);
    abuse_case("concat-bomb", "function handler(input) local s = 'x' for i = 1, 64 do s = s .. s end return s end",
               "memory limit exceeded", NULL);
}

static void test_string_rep_gigabytes(void)
{
    /* refused up front when the result would pass the memory cap, or stopped by the allocator */
    abuse_case("rep", "function handler(input) return #string.rep('x', 4 * 1024 * 1024 * 1024) end",
               "memory limit exceeded", "too large");
    abuse_case("rep-sep", "function handler(input) return #string.rep('abc', 1 << 30, ',') end",
               "memory limit exceeded", "too large");
    abuse_case("rep-just-over", "function handler(input) return #string.rep('x', 40 * 1024 * 1024) end",
               "memory limit exceeded", "too large");
    abuse_case("rep-many", "function handler(input) local t = {} for i = 1, 64 do t[i] = string.rep('x', 1 << 20) .. i end"
                           " return #t end",
               "memory limit exceeded", "too large");
}

static void test_deep_recursion(void)
{
    abuse_case("recursion", "local function f(n) return 1 + f(n + 1) end\nfunction handler(input) return f(1) end",
               "stack overflow", "memory limit exceeded");
    abuse_case("c-recursion",
               "local t = setmetatable({}, {__index = function(t, k) return t[k .. 'x'] end})\n"
               "function handler(input) return t.a end",
               "stack overflow", "C stack overflow");
}

static void test_huge_output(void)
{
    abuse_case("output", "function handler(input) local t = {} for i = 1, 300000 do t[i] = 'xxxxxxxx' end return t end",
               "output too large", NULL);
}

static void test_escape_attempts(void)
{
    abuse_case("os-execute", "function handler(input) return os.execute('touch /tmp/pwned') end", "execute", NULL);
    abuse_case("io-open", "function handler(input) return io.open('/etc/passwd'):read('a') end", "'io'", NULL);
    abuse_case("require", "function handler(input) return require('os').execute('id') end", "'require'", NULL);
    abuse_case("load-binary",
               "function handler(input)\n"
               "  local f, e = load('\\27LuaT\\0\\25\\147\\r\\n\\26\\n\\4\\8\\8xV', 'x', 'b')\n"
               "  if f then return f() end\n"
               "  error('refused: ' .. tostring(e))\nend",
               "binary", "refused");
    abuse_case("string-dump", "function handler(input) return string.dump(handler) end", "dump", NULL);
    abuse_case("debug", "function handler(input) debug.sethook() return 1 end", "'debug'", NULL);
    abuse_case("collectgarbage", "function handler(input) collectgarbage('stop') return 1 end", "collectgarbage",
               NULL);
    abuse_case("string-metatable",
               "function handler(input) getmetatable('').__index = function() return 'owned' end return ('x'):y() end",
               "handler error", NULL);
    abuse_case("string-metatable-set",
               "function handler(input) setmetatable('', {}) return 1 end", "handler error", NULL);
}

static void test_coroutines(void)
{
    abuse_case("coroutine-loop",
               "function handler(input) local co = coroutine.create(function() while true do end end)\n"
               " return coroutine.resume(co) end",
               "instruction limit exceeded", "time limit exceeded");
    abuse_case("coroutine-yield",
               "function handler(input) local co = coroutine.wrap(function() while true do coroutine.yield(1) end end)\n"
               " while true do co() end end",
               "instruction limit exceeded", "time limit exceeded");
    abuse_case("pcall-cap",
               "function handler(input) while true do pcall(function() while true do end end) end end",
               "instruction limit exceeded", "time limit exceeded");
}

static void test_non_string_errors(void)
{
    abuse_case("error-table", "function handler(input) error({code = 42}) end", "table value", NULL);
    abuse_case("error-nil", "function handler(input) error(nil) end", "handler error", NULL);
    abuse_case("error-tostring",
               "function handler(input) error(setmetatable({}, {__tostring = function() while true do end end})) end",
               "table value", NULL);
    abuse_case("error-function", "function handler(input) error(print) end", "function value", "handler error");
}

static void test_backtracking(void)
{
    abuse_case("pattern",
               "function handler(input) return string.find(string.rep('a', 100000), '.-.-.-.-.-b') end",
               "instruction limit exceeded", "time limit exceeded");
}

/* ---- setup ------------------------------------------------------------------------------------- */

static void setup(void)
{
    fixture_developer(&g_dev, "Abuse Lab");
    fixture_user(&g_buyer);
    snprintf(g_normal, sizeof g_normal, "%s", fixture_slug("normal"));
    if (publish_tool(g_normal, "function handler(input) return {upper = string.upper(input.text)} end",
                     "{\"type\": \"object\", \"required\": [\"text\"], \"properties\": {\"text\": {\"type\": \"string\"}}}",
                     "[{\"name\": \"upper\", \"input\": {\"text\": \"a\"}, \"expected\": {\"upper\": \"A\"}}]") < 0)
        exit(2);
}

int main(void)
{
    setup();
    fixture_worker_counters before = fixture_worker_counters_now();
    RUN(test_infinite_loop);
    RUN(test_memory_bomb);
    RUN(test_string_rep_gigabytes);
    RUN(test_deep_recursion);
    RUN(test_huge_output);
    RUN(test_escape_attempts);
    RUN(test_coroutines);
    RUN(test_non_string_errors);
    RUN(test_backtracking);
    check_failures = 0;
    if (fixture_check_workers_since(before) < 0)
        fprintf(stderr, "  (no /metrics from this host; crash counters not compared)\n");
    fprintf(stderr, "  the worker that ran the abuse served the normal tool next in %d of %d cases\n",
            g_same_worker_hits, g_cases);
    CHECK(g_same_worker_hits * 10 >= g_cases * 9);
    if (check_failures)
        check_failed++;
    else
        check_passed++;
    return check_finish();
}

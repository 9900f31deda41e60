/* One budget per request for the tests a draft runs (POST /tools/{tool}/test and /publish), end to end
 * through nginx:
 *   1. 14 tests whose handler loops over comparisons of two equal 8 MiB strings: the answer comes within
 *      the request budget (sandbox_request_ms), the tests that did not fit are reported not_run, no 502,
 *      the worker that ran them is still alive and still the master's, no crash or timeout is counted;
 *   2. publishing that draft is a 422 naming every test that failed or was not run;
 *   3. 100 tests each returning a 1 MB string: the answer stays under sandbox_request_output bytes, each
 *      output is a truncated preview that says so, and the counts stay honest;
 *   4. an ordinary draft still reports full outputs and passed tests;
 *   5. one client runs at most two code-running requests (test, publish, validate) at once: nginx
 *      answers a third concurrent one 429 problem+json, so one client cannot hold every worker.
 * The budget figures are read from the stack's config, so the test follows the configuration. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/procs.h"
#include "tests/support/stack_env.h"
#include "tests/support/tool_tests.h"

#define MAX_WORKERS 256

static http_user g_dev;
static config g_cfg;
static pid_t g_master;

/* Creates a draft (not published) with schemas that accept anything. Returns 0 on 201. */
static int create_draft(const char *slug, const char *code, json_t *tests)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{}, s:{}, s:o}", "slug", slug, "name", "Budget case", "category",
                             "other", "code", code, "input_schema", "output_schema", "tests", tests);
    return fixture_post_expect(&g_dev, "/tools", body, NULL, 201, "create");
}

static http_response *tool_post(const char *slug, const char *suffix, const char *body)
{
    char path[192];
    snprintf(path, sizeof path, "/tools/%s%s", slug, suffix);
    if (body)
        return http_post_text(path, g_dev.token, body);
    return http_request("POST", path, g_dev.token, NULL, NULL, 0, NULL);
}

static int is_worker(long pid)
{
    pid_t workers[MAX_WORKERS];
    size_t n = procs_workers_of(g_master, workers, MAX_WORKERS);
    for (size_t i = 0; i < n; i++)
        if (workers[i] == (pid_t)pid)
            return 1;
    return 0;
}

static json_int_t count_of(const http_response *res, const char *key)
{
    return json_integer_value(json_object_get(res->json, key));
}

static const char *result_text(const json_t *r, const char *key)
{
    const char *s = json_string_value(json_object_get(r, key));
    return s ? s : "";
}

/* ---- 1 and 2: slow tests share one wall-clock budget ---------------------------------------------- */

#define SLOW_TESTS 14
static const char slow_code[] =
    "function handler(input)\n"
    "  local a, b = 'x', 'x'\n"
    "  for i = 1, 23 do a = a .. a end\n"
    "  for i = 1, 23 do b = b .. b end\n"
    "  local n = 0\n"
    "  while true do if a < b or a == b then n = n + 1 end end\n"
    "end\n";

static char g_slow_slug[96];

static void test_slow_tests_share_one_budget(void)
{
    snprintf(g_slow_slug, sizeof g_slow_slug, "%s", fixture_slug("budget-slow"));
    if (create_draft(g_slow_slug, slow_code, tool_tests_repeat(SLOW_TESTS, "{}")) < 0) {
        check_failures++;
        return;
    }
    double budget_s = (double)g_cfg.sandbox_request_ms / 1000.0;
    http_response *res = tool_post(g_slow_slug, "/test", NULL);
    fprintf(stderr, "    /test of %d slow tests: %ld in %.2f s (budget %.1f s, request_timeout %lld s)\n", SLOW_TESTS,
            res->status, res->seconds, budget_s, (long long)g_cfg.request_timeout);
    CHECK_INT(res->status, 200);
    /* the budget plus one per-test overshoot and the request around it; far below request_timeout */
    CHECK(res->seconds < budget_s + 2.0);
    json_int_t passed = count_of(res, "passed"), failed = count_of(res, "failed"), not_run = count_of(res, "not_run");
    CHECK_INT(passed, 0);
    CHECK_INT(passed + failed + not_run, SLOW_TESTS);
    CHECK(not_run >= 1);
    json_t *results = json_object_get(res->json, "results");
    CHECK_INT(json_array_size(results), SLOW_TESTS);
    size_t seen_not_run = 0;
    for (size_t i = 0; i < json_array_size(results); i++) {
        const json_t *r = json_array_get(results, i);
        CHECK(!json_is_true(json_object_get(r, "passed")));
        if (strcmp(result_text(r, "status"), "not_run") == 0) {
            seen_not_run++;
            CHECK(strstr(result_text(r, "error"), "request budget exhausted") != NULL);
        } else {
            CHECK_STR(result_text(r, "status"), "failed");
            CHECK(strstr(result_text(r, "error"), "time limit exceeded") != NULL);
        }
    }
    CHECK_INT(seen_not_run, not_run);
    long pid = res->status ? fixture_worker_pid_of(res->request_id) : 0;
    http_response_free(res);
    CHECK(pid > 0);
    if (pid > 0) {
        CHECK_INT(kill((pid_t)pid, 0), 0);
        CHECK(is_worker(pid));
    }
}

static void test_publish_refuses_not_run_tests(void)
{
    double budget_s = (double)g_cfg.sandbox_request_ms / 1000.0;
    http_response *res = tool_post(g_slow_slug, "/publish", "{\"version\": \"1.0.0\"}");
    fprintf(stderr, "    publish of the slow draft: %ld in %.2f s: %.200s\n", res->status, res->seconds,
            json_string_value(json_object_get(res->json, "detail")) ?: "");
    CHECK(http_is_problem(res, 422));
    CHECK(res->seconds < budget_s + 2.0);
    for (int i = 0; i < SLOW_TESTS; i++) {
        char field[32];
        snprintf(field, sizeof field, "tests[%d]", i);
        if (!http_problem_has_field(res, field)) {
            fprintf(stderr, "  publish problem does not name %s\n", field);
            check_failures++;
        }
    }
    const char *detail = json_string_value(json_object_get(res->json, "detail"));
    CHECK(detail && strstr(detail, "not run"));
    http_response_free(res);
}

/* ---- 3: a hundred 1 MB outputs ---------------------------------------------------------------------- */

#define BIG_TESTS 100
#define BIG_OUTPUT 1000000

static void test_big_outputs_are_bounded(void)
{
    char slug[96];
    snprintf(slug, sizeof slug, "%s", fixture_slug("budget-big"));
    char code[128];
    snprintf(code, sizeof code, "function handler(input) return string.rep('x', %d) end", BIG_OUTPUT);
    if (create_draft(slug, code, tool_tests_repeat(BIG_TESTS, "\"x\"")) < 0) {
        check_failures++;
        return;
    }
    http_response *res = tool_post(slug, "/test", NULL);
    fprintf(stderr, "    /test of %d 1 MB outputs: %ld, %zu bytes in %.2f s (cap %lld bytes)\n", BIG_TESTS, res->status,
            res->body_len, res->seconds, (long long)g_cfg.sandbox_request_output);
    CHECK_INT(res->status, 200);
    CHECK(res->body_len < (size_t)g_cfg.sandbox_request_output);
    CHECK_INT(count_of(res, "passed") + count_of(res, "failed") + count_of(res, "not_run"), BIG_TESTS);
    json_t *results = json_object_get(res->json, "results");
    CHECK_INT(json_array_size(results), BIG_TESTS);
    size_t ran = 0;
    for (size_t i = 0; i < json_array_size(results); i++) {
        const json_t *r = json_array_get(results, i);
        if (strcmp(result_text(r, "status"), "not_run") == 0)
            continue;
        ran++;
        CHECK_STR(result_text(r, "status"), "failed");
        CHECK_STR(result_text(r, "error"), "output does not equal expected");
        CHECK(json_is_true(json_object_get(r, "output_truncated")));
        CHECK(json_is_null(json_object_get(r, "output")));
        CHECK_INT(json_integer_value(json_object_get(r, "output_bytes")), BIG_OUTPUT + 2);
        const char *preview = result_text(r, "output_preview");
        CHECK(strlen(preview) < 8192);
        CHECK(strncmp(preview, "\"xxx", strlen(preview) < 4 ? strlen(preview) : 4) == 0);
    }
    CHECK(ran > 0);
    CHECK_INT(count_of(res, "failed"), ran);
    http_response_free(res);
}

/* ---- 4: ordinary drafts are unchanged --------------------------------------------------------------- */

static void test_ordinary_draft(void)
{
    char slug[96];
    snprintf(slug, sizeof slug, "%s", fixture_slug("budget-ok"));
    const char *code = "function handler(input) return {ok = true, n = 3} end";
    if (create_draft(slug, code, tool_tests_repeat(3, "{\"ok\": true, \"n\": 3}")) < 0) {
        check_failures++;
        return;
    }
    http_response *res = tool_post(slug, "/test", NULL);
    CHECK_INT(res->status, 200);
    CHECK_INT(count_of(res, "passed"), 3);
    CHECK_INT(count_of(res, "failed"), 0);
    CHECK_INT(count_of(res, "not_run"), 0);
    const json_t *r = json_array_get(json_object_get(res->json, "results"), 0);
    CHECK_STR(result_text(r, "status"), "passed");
    CHECK(json_is_true(json_object_get(r, "passed")));
    CHECK(json_is_false(json_object_get(r, "output_truncated")));
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "output"), "n")), 3);
    CHECK(json_is_null(json_object_get(r, "error")));
    http_response_free(res);
    CHECK_INT(http_status_free(tool_post(slug, "/publish", "{\"version\": \"1.0.0\"}")), 201);
}

/* ---- 5: one client holds at most two workers with tool code ------------------------------------- */

#define CONCURRENT_RUNS 3

typedef struct {
    const char *slug;
    http_response *res;
} concurrent_run;

static void *concurrent_run_one(void *arg)
{
    concurrent_run *run = arg;
    run->res = tool_post(run->slug, "/test", NULL);
    return NULL;
}

static void test_one_client_runs_two_at_once(void)
{
    char slug[96];
    snprintf(slug, sizeof slug, "%s", fixture_slug("budget-conc"));
    if (create_draft(slug, slow_code, tool_tests_repeat(1, "{}")) < 0) {  /* one test: holds its worker ~2 s */
        check_failures++;
        return;
    }
    http_set_retry_429(0);
    concurrent_run runs[CONCURRENT_RUNS];
    pthread_t threads[CONCURRENT_RUNS];
    for (int i = 0; i < CONCURRENT_RUNS; i++) {
        runs[i] = (concurrent_run){.slug = slug};
        CHECK_INT(pthread_create(&threads[i], NULL, concurrent_run_one, &runs[i]), 0);
    }
    int ran = 0, refused = 0;
    for (int i = 0; i < CONCURRENT_RUNS; i++) {
        pthread_join(threads[i], NULL);
        if (runs[i].res->status == 200) {
            ran++;
        } else if (http_is_problem(runs[i].res, 429)) {
            refused++;
        } else {
            http_dump("concurrent /test", runs[i].res);
            check_failures++;
        }
        http_response_free(runs[i].res);
    }
    http_set_retry_429(1);
    fprintf(stderr, "    %d concurrent /test of one client: %d ran, %d refused with 429\n", CONCURRENT_RUNS, ran, refused);
    /* at most two at once; another test process of this suite may hold a slot too, so "at least one
     * refused" rather than exactly one */
    CHECK(ran <= 2);
    CHECK(refused >= 1);
    CHECK_INT(ran + refused, CONCURRENT_RUNS);
    CHECK_INT(http_status_free(tool_post(slug, "/validate", NULL)), 200);  /* the slots come back */
}

/* ---- setup ------------------------------------------------------------------------------------------ */

static void setup(void)
{
    stack_env_config(&g_cfg);
    const char *master = stack_env("MKT_MASTER_PID");
    g_master = master ? (pid_t)strtol(master, NULL, 10) : 0;
    http_set_timeout_ms(60000);
    fixture_developer(&g_dev, "Budget Lab");
}

int main(void)
{
    setup();
    fixture_worker_counters before = fixture_worker_counters_now();
    RUN(test_ordinary_draft);
    RUN(test_slow_tests_share_one_budget);
    RUN(test_publish_refuses_not_run_tests);
    RUN(test_big_outputs_are_bounded);
    RUN(test_one_client_runs_two_at_once);
    check_failures = 0;
    fixture_check_workers_since(before);
    if (check_failures)
        check_failed++;
    else
        check_passed++;
    config_free(&g_cfg);
    return check_finish();
}

/* core/tool_check: the tests of one draft share one budget (wall clock, work units, bytes of results),
 * outputs and errors are reported cut to size, and the counts stay honest. No database: the draft is
 * built here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/tool_check.h"
#include "tests/support/check.h"
#include "tests/support/tool_tests.h"

static config g_cfg;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cfg_reset(void)
{
    config_free(&g_cfg);
    config_defaults(&g_cfg);
}

/* Runs the tests of a draft with schemas {} / output_schema; returns the answer (NULL on failure). */
static json_t *run_tests(const char *code, json_t *tests, const char *output_schema)
{
    json_t *in = json_object(), *out = json_loads(output_schema ? output_schema : "{}", 0, NULL);
    tool_check_draft d = {.input_schema = in, .output_schema = out, .tests = tests, .code = code,
                          .code_len = strlen(code)};
    mkt_error err = MKT_ERROR_INIT;
    json_t *answer = tool_check_run_tests(&g_cfg, &d, &err);
    if (!answer)
        fprintf(stderr, "  run_tests: %s\n", err.message ? err.message : "(no message)");
    error_clear(&err);
    json_decref(in);
    json_decref(out);
    json_decref(tests);
    return answer;
}

static json_int_t count(const json_t *answer, const char *key)
{
    return json_integer_value(json_object_get(answer, key));
}

static const char *text_of(const json_t *r, const char *key)
{
    const char *s = json_string_value(json_object_get(r, key));
    return s ? s : "";
}

static void check_counts_honest(const json_t *answer, size_t n)
{
    const json_t *results = json_object_get(answer, "results");
    CHECK_INT(json_array_size(results), n);
    json_int_t seen[3] = {0, 0, 0};
    for (size_t i = 0; i < json_array_size(results); i++) {
        const char *status = text_of(json_array_get(results, i), "status");
        seen[strcmp(status, "passed") == 0 ? 0 : strcmp(status, "failed") == 0 ? 1 : 2]++;
        CHECK(json_is_true(json_object_get(json_array_get(results, i), "passed")) == (strcmp(status, "passed") == 0));
    }
    CHECK_INT(count(answer, "passed"), seen[0]);
    CHECK_INT(count(answer, "failed"), seen[1]);
    CHECK_INT(count(answer, "not_run"), seen[2]);
    CHECK_INT(seen[0] + seen[1] + seen[2], n);
}

/* ---- the budget ---------------------------------------------------------------------------------- */

/* Six looping tests, 250 ms each, 600 ms for the request: two fail on their own cap, the third is cut by
 * the budget and the rest never start; all of them are reported not_run with the reason. */
static void test_wall_clock_shared(void)
{
    cfg_reset();
    g_cfg.sandbox_timeout_ms = 250;
    g_cfg.sandbox_request_ms = 600;
    g_cfg.sandbox_instructions = INT64_C(1) << 40; /* only the clock may stop them */
    g_cfg.sandbox_request_instructions = INT64_C(1) << 40;
    double t0 = now_s();
    json_t *answer = run_tests("function handler() while true do end end", tool_tests_repeat(6, "{}"), NULL);
    double took = now_s() - t0;
    CHECK(answer != NULL);
    CHECK(took < 0.6 + 0.3);
    CHECK_INT(count(answer, "passed"), 0);
    CHECK_INT(count(answer, "failed"), 2);
    CHECK_INT(count(answer, "not_run"), 4);
    check_counts_honest(answer, 6);
    const json_t *results = json_object_get(answer, "results");
    CHECK(strstr(text_of(json_array_get(results, 0), "error"), "time limit exceeded (250 ms)") != NULL);
    CHECK_STR(text_of(json_array_get(results, 2), "status"), "not_run");
    CHECK(strstr(text_of(json_array_get(results, 2), "error"), "request budget exhausted while this test ran") != NULL);
    CHECK(strstr(text_of(json_array_get(results, 5), "error"), "request budget exhausted before this test") != NULL);
    CHECK(strstr(text_of(json_array_get(results, 5), "error"), "600 ms") != NULL);
    json_decref(answer);
}

/* 10M work units per run, 25M for the request: the third test is cut by the request's instructions. */
static void test_instructions_shared(void)
{
    cfg_reset();
    g_cfg.sandbox_instructions = 10000000;
    g_cfg.sandbox_request_instructions = 25000000;
    g_cfg.sandbox_timeout_ms = 60000; /* generous: under the sanitizers the instruction caps must trip first */
    g_cfg.sandbox_request_ms = 120000;
    json_t *answer = run_tests("function handler() while true do end end", tool_tests_repeat(4, "{}"), NULL);
    CHECK(answer != NULL);
    CHECK_INT(count(answer, "failed"), 2);
    CHECK_INT(count(answer, "not_run"), 2);
    check_counts_honest(answer, 4);
    const json_t *results = json_object_get(answer, "results");
    CHECK(strstr(text_of(json_array_get(results, 1), "error"), "instruction limit exceeded") != NULL);
    CHECK(strstr(text_of(json_array_get(results, 2), "error"), "while this test ran: the tests of one request share "
                                                               "25000000 instructions") != NULL);
    CHECK(strstr(text_of(json_array_get(results, 3), "error"), "before this test") != NULL);
    json_decref(answer);
}

/* The budget is per request: a second call starts afresh, and a test that passes is unaffected. */
static void test_budget_is_per_request(void)
{
    cfg_reset();
    for (int round = 0; round < 2; round++) {
        json_t *answer = run_tests("function handler() return {ok = true} end", tool_tests_repeat(3, "{\"ok\": true}"), NULL);
        CHECK(answer != NULL);
        CHECK_INT(count(answer, "passed"), 3);
        CHECK_INT(count(answer, "not_run"), 0);
        const json_t *r = json_array_get(json_object_get(answer, "results"), 0);
        CHECK_STR(text_of(r, "status"), "passed");
        CHECK(json_is_false(json_object_get(r, "output_truncated")));
        CHECK(json_is_true(json_object_get(json_object_get(r, "output"), "ok")));
        CHECK(json_object_get(r, "output_preview") == NULL);
        json_decref(answer);
    }
}

/* ---- sizes --------------------------------------------------------------------------------------- */

/* 30 outputs of 100 KB under a 64 KiB answer: every output is cut, the first ones keep a preview, the
 * answer stays under the cap, and every test is still reported. */
static void test_answer_capped(void)
{
    cfg_reset();
    g_cfg.sandbox_request_output = 65536;
    json_t *answer = run_tests("function handler() return string.rep('\\xc3\\xa9', 50000) end", tool_tests_repeat(30, "\"x\""),
                               NULL);
    CHECK(answer != NULL);
    char *text = json_dumps(answer, JSON_COMPACT);
    CHECK(text && strlen(text) <= 65536);
    free(text);
    CHECK_INT(count(answer, "failed"), 30);
    check_counts_honest(answer, 30);
    const json_t *results = json_object_get(answer, "results");
    size_t previews = 0;
    for (size_t i = 0; i < json_array_size(results); i++) {
        const json_t *r = json_array_get(results, i);
        CHECK(json_is_true(json_object_get(r, "output_truncated")));
        CHECK(json_is_null(json_object_get(r, "output")));
        CHECK_INT(json_integer_value(json_object_get(r, "output_bytes")), 100002);
        CHECK_STR(text_of(r, "error"), "output does not equal expected");
        const char *preview = json_string_value(json_object_get(r, "output_preview"));
        if (preview) {
            previews++;
            CHECK(strlen(preview) <= TOOL_CHECK_PREVIEW_BYTES);
            CHECK(strncmp(preview, "\"\xc3\xa9\xc3\xa9", 5) == 0);
            /* cut on a character boundary: it ends with a whole "é" */
            CHECK(strlen(preview) % 2 == 1);
        }
    }
    CHECK(previews > 0 && previews < 30);
    json_decref(answer);
}

/* A long error (many schema violations) is cut and says so. */
static void test_error_cut(void)
{
    cfg_reset();
    json_t *answer = run_tests("function handler() local t = {} for i = 1, 500 do t[i] = i end return t end",
                               tool_tests_repeat(1, "[]"), "{\"type\": \"array\", \"items\": {\"type\": \"string\"}}");
    CHECK(answer != NULL);
    const char *error = text_of(json_array_get(json_object_get(answer, "results"), 0), "error");
    CHECK(strlen(error) <= TOOL_CHECK_ERROR_BYTES);
    CHECK(strstr(error, "output[0]") != NULL);
    size_t len = strlen(error);
    CHECK(len >= 3 && strcmp(error + len - 3, "\xe2\x80\xa6") == 0);
    json_decref(answer);
}

int main(void)
{
    config_defaults(&g_cfg);
    RUN(test_wall_clock_shared);
    RUN(test_instructions_shared);
    RUN(test_budget_is_per_request);
    RUN(test_answer_capped);
    RUN(test_error_cut);
    config_free(&g_cfg);
    return check_finish();
}

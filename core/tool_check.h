/* Checking and running tool code: the draft checks behind /validate, the test runs behind /test and
 * /publish, and the one execution path (input schema → sandbox → output schema) that /execute and
 * the tests share, so a test passes exactly when the same input would succeed in production. */
#ifndef CORE_TOOL_CHECK_H
#define CORE_TOOL_CHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/sandbox.h"

/* How test results are reported (POST /test, and the publish gate that reads them). */
#define TOOL_CHECK_PREVIEW_BYTES 4096 /* a larger output (compact JSON) is shown as a preview of this size */
#define TOOL_CHECK_ERROR_BYTES 1024   /* longest error text reported for one test */
#define TOOL_CHECK_ERROR_MIN_BYTES 160 /* the error text kept once the answer is full */

/* One request's budget for the sandbox: every run made for the request (publish: the code check and
 * every test; /test: every test) draws from it. A run gets the smaller of its own caps (sandbox_*) and
 * what is left of the request's (sandbox_request_ms of wall clock from the start, sandbox_request_
 * instructions work units); a test that finds the budget spent is not run, one cut short by it is
 * reported not run too (it was not its own cap). The results of the tests share
 * sandbox_request_output bytes of compact JSON. */
typedef struct {
    int64_t deadline_ns; /* CLOCK_MONOTONIC */
    int64_t instructions_left;
    int64_t ms, instructions; /* the whole budget, for messages */
    size_t output_bytes;
} tool_check_budget;

/* Starts a request's budget now. */
void tool_check_budget_start(tool_check_budget *b, const config *cfg);

typedef struct {
    const json_t *input_schema, *output_schema, *tests;
    const char *code;
    size_t code_len;
    tool_check_budget *budget; /* shared by every call made with this draft; NULL: each call starts one */
    const sandbox_calls *calls; /* tools.call for the test runs (core/tool_compose); NULL: none */
} tool_check_draft;

/* Every problem of a draft as field errors on err (kind ERROR_VALIDATION): schemas well-formed, code
 * compiles and defines handler, each test's input matches input_schema and expected matches
 * output_schema. Returns the number of problems (0: valid), -1 when a check itself failed
 * (ERROR_INTERNAL, e.g. out of memory). */
int tool_check_draft_errors(const config *cfg, const tool_check_draft *d, mkt_error *err);

/* {valid, errors[{field, message}]} for POST /tools/{tool}/validate. */
json_t *tool_check_validate(const config *cfg, const tool_check_draft *d, mkt_error *err);

/* {passed, failed, not_run, results[...]}: each test in a fresh sandbox, all within one budget. A result
 * is {name, status ("passed", "failed", "not_run"), passed, output, output_truncated, error, duration_us},
 * plus output_bytes (the output's compact JSON size) and, room permitting, output_preview (its first
 * TOOL_CHECK_PREVIEW_BYTES) when output_truncated: the output itself is shown only when it is small and
 * the answer has room; the answer stays under sandbox_request_output bytes (each test keeps at least its
 * name, status and a short error). */
json_t *tool_check_run_tests(const config *cfg, const tool_check_draft *d, mkt_error *err);

/* One execution. The input is checked against input_schema (422 naming "input…"), the code runs in a
 * fresh sandbox with the caps from cfg (422 with the sandbox's reason), the output is checked against
 * output_schema (422 naming "output…"). Returns the output; *duration_us gets the sandbox run time. */
json_t *tool_check_execute(const config *cfg, const char *code, size_t code_len, const json_t *input_schema,
                           const json_t *output_schema, const json_t *input, uint64_t *duration_us, mkt_error *err);

/* The same with tools.call answered by calls (NULL: tool_check_execute). The callees share the run's
 * caps: one budget for the whole call tree. */
json_t *tool_check_execute_calls(const config *cfg, const char *code, size_t code_len, const json_t *input_schema,
                                 const json_t *output_schema, const json_t *input, const sandbox_calls *calls,
                                 uint64_t *duration_us, mkt_error *err);

/* JSON equality as JSON means it: numbers compare by value (2 equals 2.0), objects ignore key order. */
int tool_check_json_same(const json_t *a, const json_t *b);

/* "message" or "field: message; field: message" (malloc'd; NULL when out of memory). */
char *tool_check_error_text(const mkt_error *err);

/* Appends err's field errors (or its message under `field` when it has none) to a JSON array of
 * {field, message}. */
int tool_check_append_errors(json_t *errors, const mkt_error *err, const char *field);

#endif

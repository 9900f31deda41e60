#include "core/tool_check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sandbox.h"
#include "core/schema.h"

/* ---- the sandbox, with the caps from config and the request's budget ------------------------- */

static sandbox_limits tool_check_limits(const config *cfg)
{
    return sandbox_limits_from_config(cfg);
}

static int64_t tool_check_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void tool_check_budget_start(tool_check_budget *b, const config *cfg)
{
    config defaults;
    const config *c = cfg;
    if (!c) {
        config_defaults(&defaults);
        c = &defaults;
    }
    b->ms = c->sandbox_request_ms;
    b->instructions = c->sandbox_request_instructions;
    b->instructions_left = c->sandbox_request_instructions;
    b->output_bytes = (size_t)c->sandbox_request_output;
    b->deadline_ns = tool_check_now_ns() + b->ms * 1000000;
    if (c == &defaults)
        config_free(&defaults);
}

typedef enum { TOOL_CHECK_LEFT, TOOL_CHECK_OUT_OF_TIME, TOOL_CHECK_OUT_OF_INSTRUCTIONS } tool_check_left;

/* The caps for the next run: cfg's, lowered to what is left of the budget. *cut_time and *cut_work tell
 * whether the budget, not the run's own cap, set that limit. */
static tool_check_left tool_check_budget_limits(const config *cfg, const tool_check_budget *b, sandbox_limits *lim,
                                                int *cut_time, int *cut_work)
{
    *lim = tool_check_limits(cfg);
    int64_t left_ms = (b->deadline_ns - tool_check_now_ns()) / 1000000;
    if (left_ms <= 0)
        return TOOL_CHECK_OUT_OF_TIME;
    if (b->instructions_left <= 0)
        return TOOL_CHECK_OUT_OF_INSTRUCTIONS;
    *cut_time = left_ms < lim->timeout_ms;
    *cut_work = b->instructions_left < lim->instructions;
    if (*cut_time)
        lim->timeout_ms = left_ms;
    if (*cut_work)
        lim->instructions = b->instructions_left;
    return TOOL_CHECK_LEFT;
}

static void tool_check_budget_spend(tool_check_budget *b, const sandbox_stats *stats)
{
    b->instructions_left -= stats->instructions;
}

/* "request budget exhausted ..." for a test the budget did not let run (or finish). */
static char *tool_check_budget_text(const tool_check_budget *b, tool_check_left why, int started)
{
    char *text = NULL;
    const char *when = started ? "while this test ran" : "before this test";
    int n = why == TOOL_CHECK_OUT_OF_INSTRUCTIONS
                ? asprintf(&text, "request budget exhausted %s: the tests of one request share %lld instructions",
                           when, (long long)b->instructions)
                : asprintf(&text, "request budget exhausted %s: the tests of one request share %lld ms", when,
                           (long long)b->ms);
    return n < 0 ? NULL : text;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static int tool_check_numbers_same(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    if (json_is_real(a) && json_is_real(b))
        return json_real_value(a) == json_real_value(b);
    const json_t *i = json_is_integer(a) ? a : b, *r = json_is_integer(a) ? b : a;
    double d = json_real_value(r);
    /* exact: a real equals an integer only when it is integral and in range, no rounding through double */
    if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return 0;
    return (json_int_t)d == json_integer_value(i);
}

int tool_check_json_same(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    if (json_is_number(a) && json_is_number(b))
        return tool_check_numbers_same(a, b);
    if (json_typeof(a) != json_typeof(b))
        return 0;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *key;
        const json_t *value;
        json_object_foreach((json_t *)a, key, value) {
            if (!tool_check_json_same(value, json_object_get(b, key)))
                return 0;
        }
        return 1;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!tool_check_json_same(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    default:
        return 1; /* true, false, null */
    }
}

/* ---- errors as data --------------------------------------------------------------------------- */

char *tool_check_error_text(const mkt_error *err)
{
    if (err->field_count == 0)
        return strdup(err->message ? err->message : "failed");
    size_t size = 1;
    for (size_t i = 0; i < err->field_count; i++)
        size += strlen(err->fields[i].field) + strlen(err->fields[i].message) + 4;
    char *text = malloc(size), *p = text;
    if (!text)
        return NULL;
    for (size_t i = 0; i < err->field_count; i++)
        p += sprintf(p, "%s%s: %s", i ? "; " : "", err->fields[i].field, err->fields[i].message);
    return text;
}

int tool_check_append_errors(json_t *errors, const mkt_error *err, const char *field)
{
    if (err->field_count == 0)
        return json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field, "message",
                                                       err->message ? err->message : "invalid"));
    for (size_t i = 0; i < err->field_count; i++)
        if (json_array_append_new(errors, json_pack("{s:s, s:s}", "field", err->fields[i].field, "message",
                                                    err->fields[i].message)) < 0)
            return -1;
    return 0;
}

/* Moves the field errors of `from` into `into`; an internal failure wins over field errors. */
static int tool_check_collect(mkt_error *into, mkt_error *from, const char *field)
{
    if (from->kind == ERROR_INTERNAL) {
        error_move(into, from);
        return -1;
    }
    if (from->field_count == 0 && error_is_set(from))
        error_add_field(into, field, "%s", from->message ? from->message : "invalid");
    for (size_t i = 0; i < from->field_count; i++)
        error_add_field(into, from->fields[i].field, "%s", from->fields[i].message);
    error_clear(from);
    return 0;
}

/* ---- validate ------------------------------------------------------------------------------- */

static int tool_check_code(const config *cfg, const tool_check_draft *d, mkt_error *err)
{
    if (!d->code || d->code_len == 0)
        return error_add_field(err, "code", "is empty: define function handler(input) ... end");
    tool_check_budget own;
    tool_check_budget *budget = d->budget;
    if (!budget) {
        tool_check_budget_start(&own, cfg);
        budget = &own;
    }
    sandbox_limits limits;
    int cut_time = 0, cut_work = 0;
    tool_check_left left = tool_check_budget_limits(cfg, budget, &limits, &cut_time, &cut_work);
    if (left != TOOL_CHECK_LEFT)
        return error_add_field(err, "code", "not checked: request budget exhausted");
    mkt_error e = MKT_ERROR_INIT;
    sandbox_stats stats;
    int rc = sandbox_check_function(d->code, d->code_len, "handler", &limits, &stats, &e);
    tool_check_budget_spend(budget, &stats);
    if (rc == 0)
        return 0;
    return tool_check_collect(err, &e, "code") < 0 ? -1 : 0;
}

static int tool_check_test_values(const tool_check_draft *d, int inputs_ok, int outputs_ok, mkt_error *err)
{
    for (size_t i = 0; i < json_array_size(d->tests); i++) {
        const json_t *test = json_array_get(d->tests, i);
        char name[48];
        mkt_error e = MKT_ERROR_INIT;
        if (inputs_ok) {
            snprintf(name, sizeof name, "tests[%zu].input", i);
            schema_validate(d->input_schema, json_object_get(test, "input"), name, &e);
            if (tool_check_collect(err, &e, name) < 0)
                return -1;
        }
        if (outputs_ok) {
            snprintf(name, sizeof name, "tests[%zu].expected", i);
            schema_validate(d->output_schema, json_object_get(test, "expected"), name, &e);
            if (tool_check_collect(err, &e, name) < 0)
                return -1;
        }
    }
    return 0;
}

int tool_check_draft_errors(const config *cfg, const tool_check_draft *d, mkt_error *err)
{
    mkt_error e = MKT_ERROR_INIT;
    int inputs_ok = schema_check(d->input_schema, "input_schema", &e) == 0;
    if (tool_check_collect(err, &e, "input_schema") < 0)
        return -1;
    int outputs_ok = schema_check(d->output_schema, "output_schema", &e) == 0;
    if (tool_check_collect(err, &e, "output_schema") < 0)
        return -1;
    if (tool_check_code(cfg, d, err) < 0 && err->kind == ERROR_INTERNAL)
        return -1;
    if (tool_check_test_values(d, inputs_ok, outputs_ok, err) < 0)
        return -1;
    return (int)err->field_count;
}

json_t *tool_check_validate(const config *cfg, const tool_check_draft *d, mkt_error *err)
{
    mkt_error found = MKT_ERROR_INIT;
    int n = tool_check_draft_errors(cfg, d, &found);
    if (n < 0) {
        error_move(err, &found);
        return NULL;
    }
    json_t *errors = json_array();
    if (!errors || (n > 0 && tool_check_append_errors(errors, &found, "") < 0)) {
        json_decref(errors);
        error_clear(&found);
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    error_clear(&found);
    json_t *out = json_pack("{s:b, s:o}", "valid", n == 0, "errors", errors);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

/* ---- execute ---------------------------------------------------------------------------------- */

/* The one execution path under the given caps; stats gets the sandbox's figures (zero when the input
 * was refused). */
static json_t *tool_check_execute_with(const sandbox_limits *limits, const char *code, size_t code_len,
                                       const json_t *input_schema, const json_t *output_schema, const json_t *input,
                                       const sandbox_calls *calls, sandbox_stats *stats, mkt_error *err)
{
    memset(stats, 0, sizeof *stats);
    if (schema_validate(input_schema, input, "input", err) < 0) {
        if (err->kind == ERROR_VALIDATION)
            error_set(err, ERROR_VALIDATION, "the input does not match the tool's input schema");
        return NULL;
    }
    mkt_error run_err = MKT_ERROR_INIT;
    json_t *output = sandbox_run_calls(code, code_len, input, limits, calls, stats, &run_err);
    if (!output) {
        if (run_err.kind == ERROR_INTERNAL) {
            error_move(err, &run_err);
            return NULL;
        }
        /* the tool failed, not the request: 422 carrying the sandbox's reason */
        error_set(err, ERROR_VALIDATION, "the tool's code failed: %s", run_err.message ? run_err.message : "error");
        error_add_field(err, "code", "%s", run_err.message ? run_err.message : "error");
        error_clear(&run_err);
        return NULL;
    }
    if (schema_validate(output_schema, output, "output", err) < 0) {
        if (err->kind == ERROR_VALIDATION)
            error_set(err, ERROR_VALIDATION, "the tool's output does not match its output schema");
        json_decref(output);
        return NULL;
    }
    return output;
}

json_t *tool_check_execute(const config *cfg, const char *code, size_t code_len, const json_t *input_schema,
                           const json_t *output_schema, const json_t *input, uint64_t *duration_us, mkt_error *err)
{
    return tool_check_execute_calls(cfg, code, code_len, input_schema, output_schema, input, NULL, duration_us, err);
}

json_t *tool_check_execute_calls(const config *cfg, const char *code, size_t code_len, const json_t *input_schema,
                                 const json_t *output_schema, const json_t *input, const sandbox_calls *calls,
                                 uint64_t *duration_us, mkt_error *err)
{
    sandbox_limits limits = tool_check_limits(cfg);
    sandbox_stats stats;
    json_t *output =
        tool_check_execute_with(&limits, code, code_len, input_schema, output_schema, input, calls, &stats, err);
    *duration_us = stats.duration_us > 0 ? (uint64_t)stats.duration_us : 0;
    return output;
}

/* ---- tests ------------------------------------------------------------------------------------ */

typedef enum { TOOL_CHECK_PASSED, TOOL_CHECK_FAILED, TOOL_CHECK_NOT_RUN } tool_check_status;

static const char *const tool_check_status_names[] = {"passed", "failed", "not_run"};

/* One test's result, already cut to what may be reported: all of them are held until the answer is built,
 * so a large output never outlives its own test. */
typedef struct {
    const char *name; /* borrowed from the draft */
    tool_check_status status;
    json_t *output;      /* the whole output when it is at most TOOL_CHECK_PREVIEW_BYTES, else NULL */
    char *preview;       /* the start of a larger output's compact JSON, else NULL */
    size_t output_bytes; /* compact JSON size of the output; 0: none */
    char *error;         /* at most TOOL_CHECK_ERROR_BYTES; NULL when passed */
    int64_t duration_us;
} tool_check_outcome;

static void tool_check_outcome_free(tool_check_outcome *o)
{
    json_decref(o->output);
    free(o->preview);
    free(o->error);
}

/* The longest prefix of s (len bytes) of at most max bytes that does not split a UTF-8 character. */
static size_t tool_check_utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* A copy of text cut to at most max bytes, "…" marking a cut. */
static char *tool_check_cut(const char *text, size_t max)
{
    static const char mark[] = "\xe2\x80\xa6"; /* U+2026 */
    size_t len = strlen(text);
    if (len <= max)
        return strdup(text);
    size_t keep = tool_check_utf8_prefix(text, len, max - (sizeof mark - 1));
    char *out = malloc(keep + sizeof mark);
    if (out) {
        memcpy(out, text, keep);
        memcpy(out + keep, mark, sizeof mark);
    }
    return out;
}

/* Keeps a small output whole and only the start of a large one; takes the reference. One encoding gives
 * both the size and the preview. */
static int tool_check_keep_output(tool_check_outcome *o, json_t *output)
{
    char *text = json_dumps(output, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) {
        json_decref(output);
        return -1;
    }
    o->output_bytes = strlen(text);
    if (o->output_bytes <= TOOL_CHECK_PREVIEW_BYTES) {
        o->output = output;
        free(text);
        return 0;
    }
    json_decref(output);
    o->preview = strndup(text, tool_check_utf8_prefix(text, o->output_bytes, TOOL_CHECK_PREVIEW_BYTES));
    free(text);
    return o->preview ? 0 : -1;
}

static int tool_check_set_error(tool_check_outcome *o, tool_check_status status, char *text)
{
    o->status = status;
    o->error = text ? tool_check_cut(text, TOOL_CHECK_ERROR_BYTES) : NULL;
    free(text);
    return o->error ? 0 : -1;
}

/* Runs one test within the budget. Returns -1 only for our own failures (err set). */
static int tool_check_run_one(const config *cfg, const tool_check_draft *d, const json_t *test,
                              const char *schemas_problem, tool_check_budget *budget, tool_check_outcome *o,
                              mkt_error *err)
{
    const char *name = json_string_value(json_object_get(test, "name"));
    o->name = name ? name : "";
    if (schemas_problem)
        return tool_check_set_error(o, TOOL_CHECK_FAILED, strdup(schemas_problem)) < 0
                   ? error_set(err, ERROR_INTERNAL, "out of memory")
                   : 0;
    sandbox_limits limits;
    int cut_time = 0, cut_work = 0;
    tool_check_left left = tool_check_budget_limits(cfg, budget, &limits, &cut_time, &cut_work);
    if (left != TOOL_CHECK_LEFT)
        return tool_check_set_error(o, TOOL_CHECK_NOT_RUN, tool_check_budget_text(budget, left, 0)) < 0
                   ? error_set(err, ERROR_INTERNAL, "out of memory")
                   : 0;
    mkt_error e = MKT_ERROR_INIT;
    sandbox_stats stats;
    json_t *output = tool_check_execute_with(&limits, d->code ? d->code : "", d->code_len, d->input_schema,
                                             d->output_schema, json_object_get(test, "input"), d->calls, &stats, &e);
    tool_check_budget_spend(budget, &stats);
    o->duration_us = stats.duration_us;
    int rc;
    if (!output && e.kind == ERROR_INTERNAL) {
        error_move(err, &e);
        return -1;
    } else if (!output && ((stats.cap_hit == SANDBOX_CAP_TIME && cut_time) ||
                           (stats.cap_hit == SANDBOX_CAP_INSTRUCTIONS && cut_work))) {
        /* the request's budget stopped it, not the test's own cap */
        rc = tool_check_set_error(o, TOOL_CHECK_NOT_RUN,
                                  tool_check_budget_text(budget, stats.cap_hit == SANDBOX_CAP_TIME
                                                                     ? TOOL_CHECK_OUT_OF_TIME
                                                                     : TOOL_CHECK_OUT_OF_INSTRUCTIONS, 1));
    } else if (!output) {
        rc = tool_check_set_error(o, TOOL_CHECK_FAILED, tool_check_error_text(&e));
    } else {
        int same = tool_check_json_same(output, json_object_get(test, "expected"));
        rc = tool_check_keep_output(o, output);
        if (rc == 0)
            rc = same ? (o->status = TOOL_CHECK_PASSED, 0)
                      : tool_check_set_error(o, TOOL_CHECK_FAILED, strdup("output does not equal expected"));
    }
    error_clear(&e);
    return rc < 0 ? error_set(err, ERROR_INTERNAL, "out of memory") : 0;
}

/* A result as reported; `full` with the output or its preview and the whole error, else only what every
 * test is owed (name, status, sizes, a short error). */
static json_t *tool_check_outcome_json(const tool_check_outcome *o, int full)
{
    int whole = full && o->output;
    size_t error_max = full ? TOOL_CHECK_ERROR_BYTES : TOOL_CHECK_ERROR_MIN_BYTES;
    char *error = o->error ? tool_check_cut(o->error, error_max) : NULL;
    if (o->error && !error)
        return NULL;
    json_t *r = json_pack("{s:s, s:s, s:b, s:O, s:b, s:s?, s:I}", "name", o->name, "status",
                          tool_check_status_names[o->status], "passed", o->status == TOOL_CHECK_PASSED, "output",
                          whole ? o->output : json_null(), "output_truncated", o->output_bytes > 0 && !whole, "error",
                          error, "duration_us", (json_int_t)o->duration_us);
    free(error);
    if (r && o->output_bytes > 0 && !whole) {
        json_object_set_new(r, "output_bytes", json_integer((json_int_t)o->output_bytes));
        if (full && o->preview)
            json_object_set_new(r, "output_preview", json_string(o->preview));
    }
    return r;
}

/* Every test first gets its minimal result; what is left of output_bytes goes, in test order, to showing
 * results in full. So the answer stays under the cap whenever the minimal results fit at all. */
static json_t *tool_check_report(const tool_check_outcome *outcomes, size_t n, size_t cap)
{
    size_t counts[3] = {0, 0, 0};
    size_t *minimal = calloc(n ? n : 1, sizeof *minimal);
    json_t *results = json_array();
    if (!minimal || !results)
        goto fail;
    /* the envelope: {"passed":N,"failed":N,"not_run":N,"results":[...]} with 20-digit numbers */
    size_t used = 48 + 3 * 20 + n;
    for (size_t i = 0; i < n; i++) {
        json_t *r = tool_check_outcome_json(&outcomes[i], 0);
        if (!r)
            goto fail;
        minimal[i] = json_dumpb(r, NULL, 0, JSON_COMPACT);
        used += minimal[i];
        json_decref(r);
        counts[outcomes[i].status]++;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *r = tool_check_outcome_json(&outcomes[i], 1);
        size_t size = r ? json_dumpb(r, NULL, 0, JSON_COMPACT) : 0;
        if (r && used - minimal[i] + size > cap) {
            json_decref(r);
            r = tool_check_outcome_json(&outcomes[i], 0);
            size = minimal[i];
        }
        if (!r || json_array_append_new(results, r) < 0)
            goto fail;
        used = used - minimal[i] + size;
    }
    free(minimal);
    return json_pack("{s:I, s:I, s:I, s:o}", "passed", (json_int_t)counts[TOOL_CHECK_PASSED], "failed",
                     (json_int_t)counts[TOOL_CHECK_FAILED], "not_run", (json_int_t)counts[TOOL_CHECK_NOT_RUN],
                     "results", results);
fail:
    free(minimal);
    json_decref(results);
    return NULL;
}

json_t *tool_check_run_tests(const config *cfg, const tool_check_draft *d, mkt_error *err)
{
    /* a malformed schema would make every run meaningless; say so once per test instead of guessing */
    const char *schemas_problem = NULL;
    if (schema_check(d->input_schema, NULL, NULL) < 0)
        schemas_problem = "input_schema is not a valid schema (see POST /validate)";
    else if (schema_check(d->output_schema, NULL, NULL) < 0)
        schemas_problem = "output_schema is not a valid schema (see POST /validate)";
    tool_check_budget own;
    tool_check_budget *budget = d->budget;
    if (!budget) {
        tool_check_budget_start(&own, cfg);
        budget = &own;
    }
    size_t n = json_array_size(d->tests);
    tool_check_outcome *outcomes = calloc(n ? n : 1, sizeof *outcomes);
    if (!outcomes) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = tool_check_run_one(cfg, d, json_array_get(d->tests, i), schemas_problem, budget, &outcomes[i], err);
    json_t *out = rc == 0 ? tool_check_report(outcomes, n, budget->output_bytes) : NULL;
    if (rc == 0 && !out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        tool_check_outcome_free(&outcomes[i]);
    free(outcomes);
    return out;
}

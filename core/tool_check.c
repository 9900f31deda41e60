#include "core/tool_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sandbox.h"
#include "core/schema.h"

/* ---- the sandbox, with the caps from config ------------------------------------------------- */

static sandbox_limits tool_check_limits(const config *cfg)
{
    return sandbox_limits_from_config(cfg);
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
    sandbox_limits limits = tool_check_limits(cfg);
    mkt_error e = MKT_ERROR_INIT;
    if (sandbox_check(d->code, d->code_len, &limits, &e) == 0)
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

json_t *tool_check_execute(const config *cfg, const char *code, size_t code_len, const json_t *input_schema,
                           const json_t *output_schema, const json_t *input, uint64_t *duration_us, mkt_error *err)
{
    *duration_us = 0;
    if (schema_validate(input_schema, input, "input", err) < 0) {
        if (err->kind == ERROR_VALIDATION)
            error_set(err, ERROR_VALIDATION, "the input does not match the tool's input schema");
        return NULL;
    }
    sandbox_limits limits = tool_check_limits(cfg);
    sandbox_stats stats;
    memset(&stats, 0, sizeof stats);
    mkt_error run_err = MKT_ERROR_INIT;
    json_t *output = sandbox_run(code, code_len, input, &limits, &stats, &run_err);
    *duration_us = stats.duration_us > 0 ? (uint64_t)stats.duration_us : 0;
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

/* ---- tests ------------------------------------------------------------------------------------ */

static json_t *tool_check_run_one(const config *cfg, const tool_check_draft *d, const json_t *test,
                                  const char *schemas_problem, mkt_error *err)
{
    const char *name = json_string_value(json_object_get(test, "name"));
    mkt_error e = MKT_ERROR_INIT;
    uint64_t duration = 0;
    json_t *output = NULL;
    char *problem = NULL;
    if (schemas_problem) {
        problem = strdup(schemas_problem);
    } else {
        output = tool_check_execute(cfg, d->code ? d->code : "", d->code_len, d->input_schema, d->output_schema,
                                    json_object_get(test, "input"), &duration, &e);
        if (!output && e.kind == ERROR_INTERNAL) {
            error_move(err, &e);
            return NULL;
        }
        if (!output)
            problem = tool_check_error_text(&e);
        else if (!tool_check_json_same(output, json_object_get(test, "expected")))
            problem = strdup("output does not equal expected");
        error_clear(&e);
    }
    json_t *result = json_pack("{s:s, s:b, s:o, s:s?, s:I}", "name", name ? name : "", "passed", problem == NULL,
                               "output", output ? output : json_null(), "error", problem, "duration_us",
                               (json_int_t)duration);
    free(problem);
    if (!result)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return result;
}

json_t *tool_check_run_tests(const config *cfg, const tool_check_draft *d, mkt_error *err)
{
    /* a malformed schema would make every run meaningless; say so once per test instead of guessing */
    const char *schemas_problem = NULL;
    if (schema_check(d->input_schema, NULL, NULL) < 0)
        schemas_problem = "input_schema is not a valid schema (see POST /validate)";
    else if (schema_check(d->output_schema, NULL, NULL) < 0)
        schemas_problem = "output_schema is not a valid schema (see POST /validate)";
    json_t *results = json_array();
    size_t passed = 0, failed = 0;
    for (size_t i = 0; results && i < json_array_size(d->tests); i++) {
        json_t *r = tool_check_run_one(cfg, d, json_array_get(d->tests, i), schemas_problem, err);
        if (!r) {
            json_decref(results);
            return NULL;
        }
        if (json_is_true(json_object_get(r, "passed")))
            passed++;
        else
            failed++;
        if (json_array_append_new(results, r) < 0) {
            json_decref(results);
            results = NULL;
        }
    }
    json_t *out = results ? json_pack("{s:I, s:I, s:o}", "passed", (json_int_t)passed, "failed", (json_int_t)failed,
                                      "results", results)
                          : NULL;
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

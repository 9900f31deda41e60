/* libFuzzer target for the problem document (fcgi/response.c response_problem) and the UTF-8 helpers
 * of core/error. Input: byte 0 picks the error kind, byte 1 how much room error_text_clip gets; the
 * rest is split at NUL bytes into instance, message, then field name / field message pairs. Each input
 * is tried twice: through error_set/error_add_field (which clean what they store), and stored raw in
 * the mkt_error, as a caller writing the struct by hand would, so response_problem's own defence is
 * exercised. Whatever the bytes: a problem document is always produced, it serialises, it parses back
 * (jansson rejects invalid UTF-8), its status is the kind's, and errors[] keeps every field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "fcgi/problem.h"
#include "fcgi/response.h"

#define PROBLEM_FUZZ_MAX_PARTS 16

static void problem_fuzz_check_doc(const response *res, const mkt_error *err)
{
    if (!res->body) {
        /* only when building failed (out of memory): then the fixed document must stand in */
        json_t *fallback = json_loads(res->problem_fallback, 0, NULL);
        if (!fallback)
            abort();
        json_decref(fallback);
        return;
    }
    char *text = json_dumps(res->body, JSON_COMPACT);
    if (!text)
        abort();
    json_t *back = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_object(back) || !json_is_string(json_object_get(back, "type")) ||
        !json_is_string(json_object_get(back, "detail")) ||
        json_integer_value(json_object_get(back, "status")) != problem_status(err->kind ? err->kind : ERROR_INTERNAL))
        abort();
    size_t expected = err->kind == ERROR_INTERNAL || err->kind == ERROR_NONE ? 0 : err->field_count;
    if (json_array_size(json_object_get(back, "errors")) != expected)
        abort();
    json_decref(back);
}

static void problem_fuzz_answer(const mkt_error *err, const char *instance)
{
    response res;
    memset(&res, 0, sizeof res);
    response_problem(&res, err, instance, "0123456789abcdef0123456789abcdef");
    problem_fuzz_check_doc(&res, err);
    if (!res.problem_fallback[0])
        abort();
    response_free(&res);
}

/* Through the public setters: what they store must already be valid UTF-8. */
static void problem_fuzz_setters(error_kind kind, char **parts, size_t n)
{
    mkt_error err = MKT_ERROR_INIT;
    for (size_t i = 2; i + 1 < n; i += 2)
        error_add_field(&err, parts[i], "%s", parts[i + 1]);
    error_set(&err, kind, "%s", n > 1 ? parts[1] : "");
    if (!error_text_valid(err.message))
        abort();
    for (size_t i = 0; i < err.field_count; i++)
        if (!error_text_valid(err.fields[i].field) || !error_text_valid(err.fields[i].message))
            abort();
    problem_fuzz_answer(&err, parts[0]);
    error_clear(&err);
}

/* Written by hand, raw bytes and all. */
static void problem_fuzz_raw(error_kind kind, char **parts, size_t n)
{
    error_field fields[PROBLEM_FUZZ_MAX_PARTS];
    mkt_error err = {kind, n > 1 ? parts[1] : NULL, fields, 0, PROBLEM_FUZZ_MAX_PARTS, 0, NULL};
    for (size_t i = 2; i + 1 < n; i += 2) {
        fields[err.field_count].field = parts[i];
        fields[err.field_count].message = parts[i + 1];
        err.field_count++;
    }
    problem_fuzz_answer(&err, parts[0]);
}

static void problem_fuzz_clip(const char *text, size_t room)
{
    char *dst = malloc(room + 1);
    error_text_clip(dst, room + 1, text);
    if (strlen(dst) > room || !error_text_valid(dst))
        abort();
    free(dst);
    char *clean = error_text_clean(text);
    if (!clean || !error_text_valid(clean) || (error_text_valid(text) && strcmp(clean, text) != 0))
        abort();
    free(clean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    error_kind kind = (error_kind)(data[0] % (ERROR_QUOTA_EXCEEDED + 2)); /* one past the table: unknown kinds too */
    size_t room = data[1];
    char *copy = malloc(size - 1);
    memcpy(copy, data + 2, size - 2);
    copy[size - 2] = '\0';
    char *parts[PROBLEM_FUZZ_MAX_PARTS];
    size_t n = 0;
    for (char *p = copy; n < PROBLEM_FUZZ_MAX_PARTS && p <= copy + size - 2; p += strlen(p) + 1)
        parts[n++] = p;
    for (size_t i = 0; i < n; i++)
        problem_fuzz_clip(parts[i], room);
    problem_fuzz_setters(kind, parts, n);
    problem_fuzz_raw(kind, parts, n);
    free(copy);
    return 0;
}

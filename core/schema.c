/* What schema checking and value validation share: the path being walked, error reporting, numbers
 * compared by value, and the names of types. */
#include "core/schema_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} schema_types[] = {
    {"string", SCHEMA_T_STRING},   {"number", SCHEMA_T_NUMBER}, {"integer", SCHEMA_T_INTEGER},
    {"boolean", SCHEMA_T_BOOLEAN}, {"object", SCHEMA_T_OBJECT}, {"array", SCHEMA_T_ARRAY},
    {"null", SCHEMA_T_NULL},
};
#define SCHEMA_TYPE_COUNT (sizeof schema_types / sizeof schema_types[0])

/* ---- buffers and paths ---- */

static int schema_buf_add(schema_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int schema_buf_str(schema_buf *b, const char *s)
{
    return schema_buf_add(b, s, strlen(s));
}

/* Appends s as a JSON string literal, so names with quotes or control characters stay unambiguous. */
static int schema_buf_quote(schema_buf *b, const char *s)
{
    if (schema_buf_add(b, "\"", 1) < 0)
        return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        const char *out = esc;
        size_t n = 2;
        switch (*p) {
        case '"': out = "\\\""; break;
        case '\\': out = "\\\\"; break;
        case '\n': out = "\\n"; break;
        case '\r': out = "\\r"; break;
        case '\t': out = "\\t"; break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                n = 6;
            } else {
                esc[0] = (char)*p;
                n = 1;
            }
        }
        if (schema_buf_add(b, out, n) < 0)
            return -1;
    }
    return schema_buf_add(b, "\"", 1);
}

void schema_oom(schema_ctx *ctx)
{
    if (!ctx->oom)
        error_set(ctx->err, ERROR_INTERNAL, "out of memory while validating a schema");
    ctx->oom = 1;
    ctx->stopped = 1;
}

/* Plain identifiers read naturally after a dot; anything else (dots, spaces, empty) gets brackets so the
 * path can be read back without guessing. Checked by hand: <ctype.h> would follow the locale. */
static int schema_is_identifier(const char *s)
{
    char c = *s;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$'))
        return 0;
    for (s++; (c = *s) != '\0'; s++) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '$' || c == '-'))
            return 0;
    }
    return 1;
}

/* Each push returns the length to restore with schema_path_pop. */
size_t schema_path_key(schema_ctx *ctx, const char *key)
{
    size_t saved = ctx->path.len;
    int rc;
    if (schema_is_identifier(key)) {
        rc = (ctx->path.len ? schema_buf_add(&ctx->path, ".", 1) : 0) | schema_buf_str(&ctx->path, key);
    } else {
        rc = schema_buf_add(&ctx->path, "[", 1) | schema_buf_quote(&ctx->path, key) |
             schema_buf_add(&ctx->path, "]", 1);
    }
    if (rc)
        schema_oom(ctx);
    return saved;
}

size_t schema_path_index(schema_ctx *ctx, size_t index)
{
    size_t saved = ctx->path.len;
    char step[32];
    int n = snprintf(step, sizeof step, "[%zu]", index);
    if (schema_buf_add(&ctx->path, step, (size_t)n) < 0)
        schema_oom(ctx);
    return saved;
}

void schema_path_pop(schema_ctx *ctx, size_t saved)
{
    if (ctx->path.data && saved <= ctx->path.len) {
        ctx->path.len = saved;
        ctx->path.data[saved] = '\0';
    }
}

int schema_ctx_init(schema_ctx *ctx, mkt_error *err, const char *root)
{
    *ctx = (schema_ctx){.err = err, .root = root ? root : ""};
    if (schema_buf_str(&ctx->path, ctx->root) < 0) {
        schema_oom(ctx);
        return -1;
    }
    return 0;
}

int schema_ctx_finish(schema_ctx *ctx)
{
    free(ctx->path.data);
    return ctx->errors || ctx->oom ? -1 : 0;
}

/* ---- reporting ---- */

void schema_report(schema_ctx *ctx, const char *field, const char *msg)
{
    if (ctx->errors == SCHEMA_MAX_ERRORS) {
        error_add_field(ctx->err, ctx->root, "too many errors; only the first %d are reported",
                        SCHEMA_MAX_ERRORS);
        ctx->stopped = 1;
        return;
    }
    error_add_field(ctx->err, field, "%s", msg);
    ctx->errors++;
    /* Nobody reads the list, so the first problem settles the answer. */
    if (!ctx->err)
        ctx->stopped = 1;
}

void schema_fail(schema_ctx *ctx, const char *fmt, ...)
{
    if (ctx->stopped)
        return;
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        schema_oom(ctx);
        return;
    }
    schema_report(ctx, ctx->path.data ? ctx->path.data : "", msg);
    free(msg);
}

/* A message naming a property: `prefix "name"`. */
void schema_fail_name(schema_ctx *ctx, const char *prefix, const char *name)
{
    if (ctx->stopped)
        return;
    schema_buf msg = {0};
    if (schema_buf_str(&msg, prefix) < 0 || schema_buf_add(&msg, " ", 1) < 0 || schema_buf_quote(&msg, name) < 0) {
        free(msg.data);
        schema_oom(ctx);
        return;
    }
    schema_report(ctx, ctx->path.data ? ctx->path.data : "", msg.data);
    free(msg.data);
}

/* ---- numbers ---- */

/* int64 against double, exactly: casting either side to the other's type would round near 2^53+. */
static int schema_int_real_cmp(json_int_t i, double d)
{
    if (isnan(d))
        return 0; /* jansson never stores NaN; keep the function total anyway */
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double whole = trunc(d);
    json_int_t w = (json_int_t)whole; /* exact: whole is integral and in range */
    if (i != w)
        return i < w ? -1 : 1;
    double frac = d - whole;
    return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

int schema_number_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_real(a) && json_is_real(b)) {
        double x = json_real_value(a), y = json_real_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_integer(a))
        return schema_int_real_cmp(json_integer_value(a), json_real_value(b));
    return -schema_int_real_cmp(json_integer_value(b), json_real_value(a));
}

/* Shortest text that reads back as the same number, so messages say 0.1 rather than 0.10000000000000001. */
void schema_number_text(const json_t *n, char *out, size_t size)
{
    if (json_is_integer(n)) {
        snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(n));
        return;
    }
    double d = json_real_value(n);
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, size, "%.*g", precision, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

/* ---- types ---- */

unsigned schema_type_bit(const char *name)
{
    for (size_t i = 0; i < SCHEMA_TYPE_COUNT; i++)
        if (strcmp(schema_types[i].name, name) == 0)
            return schema_types[i].bit;
    return 0;
}

/* "string", "string or null", "string, number or null". */
void schema_fail_type(schema_ctx *ctx, unsigned mask)
{
    char text[96] = "";
    size_t count = 0, total = 0;
    for (size_t i = 0; i < SCHEMA_TYPE_COUNT; i++)
        total += (mask & schema_types[i].bit) != 0;
    for (size_t i = 0; i < SCHEMA_TYPE_COUNT; i++) {
        if (!(mask & schema_types[i].bit))
            continue;
        const char *sep = count == 0 ? "" : count + 1 == total ? " or " : ", ";
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "%s%s", sep, schema_types[i].name);
        count++;
    }
    schema_fail(ctx, "expected %s", text);
}

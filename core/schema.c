#include "core/schema.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable byte buffer. The path of the walk lives in one of these for the whole call: each step
 * appends and then truncates back, so a walk does not allocate per level. */
typedef struct {
    char *data;
    size_t len, cap;
} schema_buf;

typedef struct {
    mkt_error *err;
    schema_buf path;
    const char *root;   /* the caller's prefix, for errors about the whole schema */
    size_t errors;      /* field errors added by this call (the caller's earlier ones don't count) */
    size_t subschemas;
    int stopped;        /* error cap reached or out of memory: unwind without doing more work */
    int oom;
} schema_ctx;

enum {
    SCHEMA_T_STRING = 1 << 0,
    SCHEMA_T_NUMBER = 1 << 1,
    SCHEMA_T_INTEGER = 1 << 2,
    SCHEMA_T_BOOLEAN = 1 << 3,
    SCHEMA_T_OBJECT = 1 << 4,
    SCHEMA_T_ARRAY = 1 << 5,
    SCHEMA_T_NULL = 1 << 6,
};

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

static void schema_oom(schema_ctx *ctx)
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
static size_t schema_path_key(schema_ctx *ctx, const char *key)
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

static size_t schema_path_index(schema_ctx *ctx, size_t index)
{
    size_t saved = ctx->path.len;
    char step[32];
    int n = snprintf(step, sizeof step, "[%zu]", index);
    if (schema_buf_add(&ctx->path, step, (size_t)n) < 0)
        schema_oom(ctx);
    return saved;
}

static void schema_path_pop(schema_ctx *ctx, size_t saved)
{
    if (ctx->path.data && saved <= ctx->path.len) {
        ctx->path.len = saved;
        ctx->path.data[saved] = '\0';
    }
}

static int schema_ctx_init(schema_ctx *ctx, mkt_error *err, const char *root)
{
    *ctx = (schema_ctx){.err = err, .root = root ? root : ""};
    if (schema_buf_str(&ctx->path, ctx->root) < 0) {
        schema_oom(ctx);
        return -1;
    }
    return 0;
}

static int schema_ctx_finish(schema_ctx *ctx)
{
    free(ctx->path.data);
    return ctx->errors || ctx->oom ? -1 : 0;
}

/* ---- reporting ---- */

static void schema_report(schema_ctx *ctx, const char *field, const char *msg)
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

__attribute__((format(printf, 2, 3))) static void schema_fail(schema_ctx *ctx, const char *fmt, ...)
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
static void schema_fail_name(schema_ctx *ctx, const char *prefix, const char *name)
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

static int schema_number_cmp(const json_t *a, const json_t *b)
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
static void schema_number_text(const json_t *n, char *out, size_t size)
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

static int schema_real_is_integral(double d)
{
    return isfinite(d) && trunc(d) == d;
}

/* JSON equality where numbers compare by value (1 equals 1.0, as JSON Schema says); json_equal would
 * call them different. Depth is bounded by the callers' depth checks on both sides. */
static int schema_json_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return schema_number_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return 0;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!schema_json_equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        /* jansson's iteration API takes non-const pointers although it does not modify. */
        for (void *it = json_object_iter((json_t *)a); it; it = json_object_iter_next((json_t *)a, it)) {
            const json_t *other = json_object_get(b, json_object_iter_key(it));
            if (!other || !schema_json_equal(json_object_iter_value(it), other))
                return 0;
        }
        return 1;
    }
    default:
        return 1; /* true, false, null: equal types mean equal values */
    }
}

/* ---- value depth ---- */

typedef struct {
    const char *key;   /* NULL for an array index */
    size_t index;
} schema_step;

/* Finds a container at level SCHEMA_MAX_DEPTH (the root being level 0), recording the way down in
 * steps[] so the error can name it. Recursion stops there, so hostile nesting costs a bounded stack. */
static int schema_find_too_deep(const json_t *v, int level, schema_step *steps)
{
    if (!json_is_object(v) && !json_is_array(v))
        return 0;
    if (level == SCHEMA_MAX_DEPTH)
        return 1;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            steps[level] = (schema_step){NULL, i};
            if (schema_find_too_deep(json_array_get(v, i), level + 1, steps))
                return 1;
        }
        return 0;
    }
    for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
        steps[level] = (schema_step){json_object_iter_key(it), 0};
        if (schema_find_too_deep(json_object_iter_value(it), level + 1, steps))
            return 1;
    }
    return 0;
}

/* Reports and returns 1 when v nests deeper than SCHEMA_MAX_DEPTH. */
static int schema_value_too_deep(schema_ctx *ctx, const json_t *v)
{
    schema_step steps[SCHEMA_MAX_DEPTH];
    if (!schema_find_too_deep(v, 0, steps))
        return 0;
    size_t saved = ctx->path.len;
    for (int i = 0; i < SCHEMA_MAX_DEPTH; i++) {
        if (steps[i].key)
            schema_path_key(ctx, steps[i].key);
        else
            schema_path_index(ctx, steps[i].index);
    }
    schema_fail(ctx, "nested deeper than %d levels", SCHEMA_MAX_DEPTH);
    schema_path_pop(ctx, saved);
    return 1;
}

/* ---- types ---- */

static unsigned schema_type_bit(const char *name)
{
    for (size_t i = 0; i < SCHEMA_TYPE_COUNT; i++)
        if (strcmp(schema_types[i].name, name) == 0)
            return schema_types[i].bit;
    return 0;
}

/* The set of allowed types; 0 means unconstrained (absent, or too malformed to mean anything). */
static unsigned schema_type_mask(const json_t *type)
{
    if (json_is_string(type))
        return schema_type_bit(json_string_value(type));
    unsigned mask = 0;
    if (json_is_array(type))
        for (size_t i = 0; i < json_array_size(type); i++)
            if (json_is_string(json_array_get(type, i)))
                mask |= schema_type_bit(json_string_value(json_array_get(type, i)));
    return mask;
}

static int schema_type_matches(unsigned mask, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return (mask & SCHEMA_T_STRING) != 0;
    case JSON_INTEGER: return (mask & (SCHEMA_T_INTEGER | SCHEMA_T_NUMBER)) != 0;
    case JSON_REAL:
        return (mask & SCHEMA_T_NUMBER) ||
               ((mask & SCHEMA_T_INTEGER) && schema_real_is_integral(json_real_value(v)));
    case JSON_TRUE:
    case JSON_FALSE: return (mask & SCHEMA_T_BOOLEAN) != 0;
    case JSON_OBJECT: return (mask & SCHEMA_T_OBJECT) != 0;
    case JSON_ARRAY: return (mask & SCHEMA_T_ARRAY) != 0;
    case JSON_NULL: return (mask & SCHEMA_T_NULL) != 0;
    }
    return 0;
}

/* "string", "string or null", "string, number or null". */
static void schema_fail_type(schema_ctx *ctx, unsigned mask)
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

/* ---- validation of values ---- */

static void schema_validate_node(schema_ctx *ctx, const json_t *schema, const json_t *value);

static size_t schema_utf8_length(const char *s, size_t bytes)
{
    size_t count = 0;
    for (size_t i = 0; i < bytes; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80; /* every byte but continuation bytes starts a code point */
    return count;
}

/* A count keyword as usable by validation: -1 when absent or malformed. */
static json_int_t schema_count(const json_t *schema, const char *keyword)
{
    const json_t *v = json_object_get(schema, keyword);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

static const char *schema_plural(json_int_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void schema_validate_enum(schema_ctx *ctx, const json_t *allowed, const json_t *value)
{
    for (size_t i = 0; i < json_array_size(allowed); i++)
        if (schema_json_equal(json_array_get(allowed, i), value))
            return;
    /* Short lists are spelled out; long ones would drown the message. */
    char *list = NULL;
    if (json_array_size(allowed) <= 10)
        list = json_dumps(allowed, JSON_COMPACT | JSON_ENCODE_ANY);
    if (list && strlen(list) <= 200)
        schema_fail(ctx, "must be one of %s", list);
    else
        schema_fail(ctx, "must be one of the %zu allowed values", json_array_size(allowed));
    free(list);
}

static void schema_validate_number(schema_ctx *ctx, const json_t *schema, const json_t *value)
{
    char bound[40];
    const json_t *min = json_object_get(schema, "minimum"), *max = json_object_get(schema, "maximum");
    if (json_is_number(min) && schema_number_cmp(value, min) < 0) {
        schema_number_text(min, bound, sizeof bound);
        schema_fail(ctx, "must be >= %s", bound);
    }
    if (json_is_number(max) && schema_number_cmp(value, max) > 0) {
        schema_number_text(max, bound, sizeof bound);
        schema_fail(ctx, "must be <= %s", bound);
    }
}

static void schema_validate_string(schema_ctx *ctx, const json_t *schema, const json_t *value)
{
    json_int_t min = schema_count(schema, "minLength"), max = schema_count(schema, "maxLength");
    if (min < 0 && max < 0)
        return;
    uint64_t length = schema_utf8_length(json_string_value(value), json_string_length(value));
    if (min >= 0 && length < (uint64_t)min)
        schema_fail(ctx, "must be at least %" JSON_INTEGER_FORMAT " %s long", min,
                    schema_plural(min, "character", "characters"));
    if (max >= 0 && length > (uint64_t)max)
        schema_fail(ctx, "must be at most %" JSON_INTEGER_FORMAT " %s long", max,
                    schema_plural(max, "character", "characters"));
}

static void schema_validate_array(schema_ctx *ctx, const json_t *schema, const json_t *value)
{
    json_int_t min = schema_count(schema, "minItems"), max = schema_count(schema, "maxItems");
    uint64_t size = json_array_size(value);
    if (min >= 0 && size < (uint64_t)min)
        schema_fail(ctx, "must have at least %" JSON_INTEGER_FORMAT " %s", min, schema_plural(min, "item", "items"));
    if (max >= 0 && size > (uint64_t)max)
        schema_fail(ctx, "must have at most %" JSON_INTEGER_FORMAT " %s", max, schema_plural(max, "item", "items"));
    const json_t *items = json_object_get(schema, "items");
    if (!json_is_object(items))
        return;
    for (size_t i = 0; i < json_array_size(value) && !ctx->stopped; i++) {
        size_t saved = schema_path_index(ctx, i);
        schema_validate_node(ctx, items, json_array_get(value, i));
        schema_path_pop(ctx, saved);
    }
}

static void schema_validate_object(schema_ctx *ctx, const json_t *schema, const json_t *value)
{
    const json_t *required = json_object_get(schema, "required");
    for (size_t i = 0; i < json_array_size(required) && !ctx->stopped; i++) {
        const json_t *name = json_array_get(required, i);
        if (json_is_string(name) && !json_object_get(value, json_string_value(name)))
            schema_fail_name(ctx, "missing required property", json_string_value(name));
    }
    const json_t *props = json_object_get(schema, "properties");
    const json_t *extra = json_object_get(schema, "additionalProperties");
    for (void *it = json_object_iter((json_t *)value); it && !ctx->stopped;
         it = json_object_iter_next((json_t *)value, it)) {
        const char *key = json_object_iter_key(it);
        const json_t *sub = json_is_object(props) ? json_object_get(props, key) : NULL;
        if (!sub && json_is_false(extra)) {
            schema_fail_name(ctx, "unexpected property", key);
            continue;
        }
        if (!sub && json_is_object(extra))
            sub = extra;
        if (!sub)
            continue;
        size_t saved = schema_path_key(ctx, key);
        schema_validate_node(ctx, sub, json_object_iter_value(it));
        schema_path_pop(ctx, saved);
    }
}

static void schema_validate_node(schema_ctx *ctx, const json_t *schema, const json_t *value)
{
    if (ctx->stopped || !json_is_object(schema))
        return;
    unsigned mask = schema_type_mask(json_object_get(schema, "type"));
    if (mask && !schema_type_matches(mask, value)) {
        /* The other keywords would only restate the same mistake. */
        schema_fail_type(ctx, mask);
        return;
    }
    const json_t *allowed = json_object_get(schema, "enum");
    if (json_is_array(allowed) && json_array_size(allowed) > 0)
        schema_validate_enum(ctx, allowed, value);
    switch (json_typeof(value)) {
    case JSON_INTEGER:
    case JSON_REAL: schema_validate_number(ctx, schema, value); break;
    case JSON_STRING: schema_validate_string(ctx, schema, value); break;
    case JSON_ARRAY: schema_validate_array(ctx, schema, value); break;
    case JSON_OBJECT: schema_validate_object(ctx, schema, value); break;
    default: break;
    }
}

/* The depth check first: everything after it recurses along the value, so it bounds the stack. */
static void schema_validate_value(schema_ctx *ctx, const json_t *schema, const json_t *value)
{
    if (!schema_value_too_deep(ctx, value))
        schema_validate_node(ctx, schema, value);
}

int schema_validate(const json_t *schema, const json_t *value, const char *root_name, mkt_error *err)
{
    schema_ctx ctx;
    if (schema_ctx_init(&ctx, err, root_name) == 0) {
        if (!value)
            schema_fail(&ctx, "missing value");
        else
            schema_validate_value(&ctx, schema, value);
    }
    return schema_ctx_finish(&ctx);
}

/* ---- checking schemas ---- */

static void schema_check_node(schema_ctx *ctx, const json_t *schema, int level);

static void schema_check_type(schema_ctx *ctx, const json_t *type, int level)
{
    (void)level;
    if (json_is_string(type)) {
        if (!schema_type_bit(json_string_value(type)))
            schema_fail_name(ctx, "unknown type", json_string_value(type));
        return;
    }
    if (!json_is_array(type)) {
        schema_fail(ctx, "expected a type name or an array of type names");
        return;
    }
    if (json_array_size(type) == 0) {
        schema_fail(ctx, "expected at least one type name");
        return;
    }
    unsigned seen = 0;
    for (size_t i = 0; i < json_array_size(type) && !ctx->stopped; i++) {
        const json_t *entry = json_array_get(type, i);
        size_t saved = schema_path_index(ctx, i);
        unsigned bit = json_is_string(entry) ? schema_type_bit(json_string_value(entry)) : 0;
        if (!json_is_string(entry))
            schema_fail(ctx, "expected a type name");
        else if (!bit)
            schema_fail_name(ctx, "unknown type", json_string_value(entry));
        else if (seen & bit)
            schema_fail_name(ctx, "duplicate type", json_string_value(entry));
        seen |= bit;
        schema_path_pop(ctx, saved);
    }
}

static void schema_check_properties(schema_ctx *ctx, const json_t *props, int level)
{
    if (!json_is_object(props)) {
        schema_fail(ctx, "expected an object mapping property names to schemas");
        return;
    }
    for (void *it = json_object_iter((json_t *)props); it && !ctx->stopped;
         it = json_object_iter_next((json_t *)props, it)) {
        size_t saved = schema_path_key(ctx, json_object_iter_key(it));
        schema_check_node(ctx, json_object_iter_value(it), level + 1);
        schema_path_pop(ctx, saved);
    }
}

static void schema_check_required(schema_ctx *ctx, const json_t *required, int level)
{
    (void)level;
    if (!json_is_array(required)) {
        schema_fail(ctx, "expected an array of property names");
        return;
    }
    /* A jansson object as a hash set: a quadratic scan would let a long list cost seconds. */
    json_t *seen = json_object();
    if (!seen) {
        schema_oom(ctx);
        return;
    }
    for (size_t i = 0; i < json_array_size(required) && !ctx->stopped; i++) {
        const json_t *entry = json_array_get(required, i);
        size_t saved = schema_path_index(ctx, i);
        if (!json_is_string(entry)) {
            schema_fail(ctx, "expected a property name");
        } else if (strlen(json_string_value(entry)) != json_string_length(entry)) {
            schema_fail(ctx, "property names cannot contain NUL characters");
        } else if (json_object_get(seen, json_string_value(entry))) {
            schema_fail_name(ctx, "duplicate property name", json_string_value(entry));
        } else if (json_object_set_new(seen, json_string_value(entry), json_null()) < 0) {
            schema_oom(ctx);
        }
        schema_path_pop(ctx, saved);
    }
    json_decref(seen);
}

static void schema_check_items(schema_ctx *ctx, const json_t *items, int level)
{
    if (json_is_array(items))
        schema_fail(ctx, "expected a single schema object (arrays of schemas are not supported)");
    else
        schema_check_node(ctx, items, level + 1);
}

static void schema_check_enum(schema_ctx *ctx, const json_t *allowed, int level)
{
    (void)level;
    if (!json_is_array(allowed) || json_array_size(allowed) == 0) {
        schema_fail(ctx, "expected a non-empty array of values");
        return;
    }
    if (json_array_size(allowed) > SCHEMA_MAX_ENUM) {
        schema_fail(ctx, "expected at most %d values, got %zu", SCHEMA_MAX_ENUM, json_array_size(allowed));
        return;
    }
    /* Enum values are compared recursively during validation, so they get the same depth bound. */
    for (size_t i = 0; i < json_array_size(allowed) && !ctx->stopped; i++) {
        size_t saved = schema_path_index(ctx, i);
        schema_value_too_deep(ctx, json_array_get(allowed, i));
        schema_path_pop(ctx, saved);
    }
}

static void schema_check_number(schema_ctx *ctx, const json_t *n, int level)
{
    (void)level;
    if (!json_is_number(n))
        schema_fail(ctx, "expected a number");
}

static void schema_check_count(schema_ctx *ctx, const json_t *n, int level)
{
    (void)level;
    /* Integers only: a real such as 2.5 (or even 2.0) here is far more likely a mistake than intent. */
    if (!json_is_integer(n) || json_integer_value(n) < 0)
        schema_fail(ctx, "expected a non-negative integer");
}

static void schema_check_additional(schema_ctx *ctx, const json_t *extra, int level)
{
    if (json_is_boolean(extra))
        return;
    if (json_is_object(extra))
        schema_check_node(ctx, extra, level + 1);
    else
        schema_fail(ctx, "expected a boolean or a schema object");
}

static void schema_check_string(schema_ctx *ctx, const json_t *s, int level)
{
    (void)level;
    if (!json_is_string(s))
        schema_fail(ctx, "expected a string");
}

static void schema_check_any(schema_ctx *ctx, const json_t *v, int level)
{
    /* "default" is checked against the whole schema once its keywords are known to be sound. */
    (void)ctx, (void)v, (void)level;
}

static const struct {
    const char *name;
    void (*check)(schema_ctx *ctx, const json_t *value, int level);
} schema_keywords[] = {
    {"type", schema_check_type},
    {"properties", schema_check_properties},
    {"required", schema_check_required},
    {"items", schema_check_items},
    {"enum", schema_check_enum},
    {"minimum", schema_check_number},
    {"maximum", schema_check_number},
    {"minLength", schema_check_count},
    {"maxLength", schema_check_count},
    {"minItems", schema_check_count},
    {"maxItems", schema_check_count},
    {"additionalProperties", schema_check_additional},
    {"description", schema_check_string},
    {"default", schema_check_any},
};

/* Reports `low_key` when both bounds are well formed and contradict each other. */
static void schema_check_order(schema_ctx *ctx, const json_t *schema, const char *low_key, const char *high_key)
{
    const json_t *low = json_object_get(schema, low_key), *high = json_object_get(schema, high_key);
    if (!json_is_number(low) || !json_is_number(high) || schema_number_cmp(low, high) <= 0)
        return;
    int counts = strcmp(low_key, "minimum") != 0;
    if (counts && (!json_is_integer(low) || !json_is_integer(high) || json_integer_value(high) < 0))
        return;
    char text[40];
    schema_number_text(high, text, sizeof text);
    size_t saved = schema_path_key(ctx, low_key);
    schema_fail(ctx, "must not be greater than %s (%s)", high_key, text);
    schema_path_pop(ctx, saved);
}

static void schema_check_node(schema_ctx *ctx, const json_t *schema, int level)
{
    if (ctx->stopped)
        return;
    if (!json_is_object(schema)) {
        schema_fail(ctx, "expected a schema object");
        return;
    }
    if (level > SCHEMA_MAX_DEPTH) {
        schema_fail(ctx, "schema nested deeper than %d levels", SCHEMA_MAX_DEPTH);
        return;
    }
    if (++ctx->subschemas > SCHEMA_MAX_SUBSCHEMAS) {
        char msg[64];
        snprintf(msg, sizeof msg, "schema has more than %d subschemas", SCHEMA_MAX_SUBSCHEMAS);
        schema_report(ctx, ctx->root, msg);
        ctx->stopped = 1;
        return;
    }
    size_t errors_before = ctx->errors;
    for (void *it = json_object_iter((json_t *)schema); it && !ctx->stopped;
         it = json_object_iter_next((json_t *)schema, it)) {
        const char *key = json_object_iter_key(it);
        size_t saved = schema_path_key(ctx, key);
        size_t k = 0, count = sizeof schema_keywords / sizeof schema_keywords[0];
        while (k < count && strcmp(schema_keywords[k].name, key) != 0)
            k++;
        if (k == count)
            schema_fail(ctx, "unknown keyword");
        else
            schema_keywords[k].check(ctx, json_object_iter_value(it), level);
        schema_path_pop(ctx, saved);
    }
    schema_check_order(ctx, schema, "minimum", "maximum");
    schema_check_order(ctx, schema, "minLength", "maxLength");
    schema_check_order(ctx, schema, "minItems", "maxItems");

    const json_t *fallback = json_object_get(schema, "default");
    if (fallback && ctx->errors == errors_before && !ctx->stopped) {
        size_t saved = schema_path_key(ctx, "default");
        schema_validate_value(ctx, schema, fallback);
        schema_path_pop(ctx, saved);
    }
}

int schema_check(const json_t *schema, const char *path_prefix, mkt_error *err)
{
    schema_ctx ctx;
    if (schema_ctx_init(&ctx, err, path_prefix) == 0)
        schema_check_node(&ctx, schema, 0);
    return schema_ctx_finish(&ctx);
}

/* schema_validate: a value against a (checked) schema. */
#include "core/schema_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- equality ---- */

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
int schema_value_too_deep(schema_ctx *ctx, const json_t *v)
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

static int schema_real_is_integral(double d)
{
    return isfinite(d) && trunc(d) == d;
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
void schema_validate_value(schema_ctx *ctx, const json_t *schema, const json_t *value)
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

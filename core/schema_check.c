/* schema_check: a schema itself, against the subset's rules. */
#include "core/schema_internal.h"

#include <stdio.h>
#include <string.h>

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

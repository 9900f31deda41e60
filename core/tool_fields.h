/* The field rules of a tool draft (docs/openapi.yaml, ToolDraft), applied to a POST or PATCH
 * body. Every violation is reported at once as a field error; unknown fields are violations too. */
#ifndef CORE_TOOL_FIELDS_H
#define CORE_TOOL_FIELDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "sql/db.h"

#define TOOL_FIELDS_SLUG_MAX 64
#define TOOL_FIELDS_NAME_MIN 3
#define TOOL_FIELDS_NAME_MAX 80
#define TOOL_FIELDS_SUMMARY_MAX 200
#define TOOL_FIELDS_DESCRIPTION_MAX 20000
#define TOOL_FIELDS_TAGS_MAX 10
#define TOOL_FIELDS_CODE_MAX (256 * 1024)
#define TOOL_FIELDS_TESTS_MAX 100
#define TOOL_FIELDS_TEST_NAME_MAX 120
#define TOOL_FIELDS_PRICE_MAX 100000000 /* one million in major units: a typo guard, not a business rule */
#define TOOL_FIELDS_PERIOD_DEFAULT 30
#define TOOL_FIELDS_PERIOD_MAX 3650
#define TOOL_FIELDS_DEPENDENCIES_MAX 16 /* tools one tool may call (core/tool_compose.h) */

enum {
    TOOL_FIELD_SLUG = 1u << 0,
    TOOL_FIELD_NAME = 1u << 1,
    TOOL_FIELD_SUMMARY = 1u << 2,
    TOOL_FIELD_DESCRIPTION = 1u << 3,
    TOOL_FIELD_CATEGORY = 1u << 4,
    TOOL_FIELD_TAGS = 1u << 5,
    TOOL_FIELD_PRICING = 1u << 6,
    TOOL_FIELD_INPUT_SCHEMA = 1u << 7,
    TOOL_FIELD_OUTPUT_SCHEMA = 1u << 8,
    TOOL_FIELD_CODE = 1u << 9,
    TOOL_FIELD_TESTS = 1u << 10,
    TOOL_FIELD_DEPENDENCIES = 1u << 11,
    TOOL_FIELD_ALL = (1u << 12) - 1,
};

typedef struct {
    char model[16];      /* free | one_time | subscription */
    int64_t price_cents; /* 0 for free */
    char currency[4];
    int64_t period_days; /* subscriptions only, else 0 */
} tool_pricing;

/* What a body sets. Strings and JSON values are borrowed from the body. */
typedef struct {
    unsigned present; /* TOOL_FIELD_* bits */
    const char *slug, *name, *summary, *description, *category, *code;
    size_t code_len;
    const json_t *tags, *input_schema, *output_schema, *tests;
    const json_t *dependencies; /* {"slug": "semver range", ...}: each a published tool, not the draft's own slug */
    tool_pricing pricing;
} tool_fields;

/* Reads and checks body. `required` fields must be present (POST: slug, name, category); the db
 * is asked whether the category exists and whether each dependency names a published tool. 0, or -1 with every bad field on err (ERROR_VALIDATION). */
int tool_fields_read(db *db, const json_t *body, unsigned required, tool_fields *out, mkt_error *err);

/* 1 when slug has the form of a slug and may be taken (not all digits, not a literal route segment). */
int tool_fields_slug_ok(const char *slug, const char **why);

/* Number of Unicode code points in a UTF-8 string (jansson guarantees valid UTF-8). */
size_t tool_fields_utf8_length(const char *s);

/* The pricing rules of one {model, price_cents, currency, period_days} object p (a draft's pricing,
 * one of core/tool_plans' plans), each bad field named prefix + member ("pricing.model",
 * "plans[2].price_cents"); extra names further members p may have (NULL-terminated, may be NULL),
 * any other member is refused. 0, or -1 with the fields added to err. */
int tool_fields_read_pricing(const json_t *p, const char *prefix, const char *const *extra, tool_pricing *pr,
                             mkt_error *err);

/* 1 when code is a supported ISO 4217 code. */
int tool_fields_currency_ok(const char *code);

#endif

#include "core/tool_fields.h"

#include <stdio.h>
#include <string.h>

#include "core/schema.h"
#include "core/semver.h"
#include "core/tool_library.h"
#include "core/tool_record.h"

/* Literal segments under /tools/ (and a few kept for routes to come): a tool with one of these slugs
 * could never be reached by its slug, because the router prefers literals. */
static const char *const tool_fields_reserved[] = {"trending", "search", "categories", "new", "me", NULL};

/* ISO 4217 codes the payment provider settles in. A fixed list keeps typos ("USd", "EUE") out; adding
 * a currency is a code change on purpose, since payouts must support it too. */
static const char *const tool_fields_currencies[] = {
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF",
    "RON", "BGN", "ISK", "CNY", "HKD", "SGD", "INR", "KRW", "BRL", "MXN", "ZAR", "ILS", "TRY", NULL,
};

static const char *const tool_fields_known[] = {"slug", "name", "summary", "description", "category", "tags",
                                                "pricing", "input_schema", "output_schema", "code", "tests",
                                                "dependencies", NULL};

static int tool_fields_in(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

size_t tool_fields_utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int tool_fields_currency_ok(const char *code)
{
    return code && tool_fields_in(tool_fields_currencies, code);
}

/* [a-z0-9-]{min,max} */
static int tool_fields_token_ok(const char *s, size_t min, size_t max)
{
    size_t len = strlen(s);
    return len >= min && len <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

int tool_fields_slug_ok(const char *slug, const char **why)
{
    if (!tool_fields_token_ok(slug, 3, TOOL_FIELDS_SLUG_MAX)) {
        *why = "must be 3 to 64 characters of a-z, 0-9 and '-'";
        return 0;
    }
    /* {tool} in a path is an id when it is all digits */
    if (strspn(slug, "0123456789") == strlen(slug)) {
        *why = "must contain a letter or '-' (all-digit references are ids)";
        return 0;
    }
    if (tool_fields_in(tool_fields_reserved, slug)) {
        *why = "is reserved (it is a path segment of the API)";
        return 0;
    }
    return 1;
}

static void tool_fields_unknown(const json_t *obj, const char *const *known, const char *prefix, mkt_error *err)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        if (!tool_fields_in(known, key)) {
            char field[300], clipped[257];
            snprintf(field, sizeof field, "%s%s", prefix, error_text_clip(clipped, sizeof clipped, key));
            error_add_field(err, field, "unknown field");
        }
    }
}

/* A string field with a length in code points; NULL when absent or bad (reported). */
static const char *tool_fields_text(const json_t *body, const char *key, size_t min, size_t max, mkt_error *err)
{
    const json_t *v = json_object_get(body, key);
    if (!v)
        return NULL;
    if (!json_is_string(v)) {
        error_add_field(err, key, "must be a string");
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        error_add_field(err, key, "must not contain NUL characters");
        return NULL;
    }
    size_t len = tool_fields_utf8_length(s);
    if (len < min || len > max) {
        if (min > 0)
            error_add_field(err, key, "must be %zu to %zu characters long (is %zu)", min, max, len);
        else
            error_add_field(err, key, "must be at most %zu characters long (is %zu)", max, len);
        return NULL;
    }
    return s;
}

static void tool_fields_slug(const json_t *body, tool_fields *out, mkt_error *err)
{
    const json_t *v = json_object_get(body, "slug");
    const char *why;
    if (!v)
        return;
    if (!json_is_string(v))
        error_add_field(err, "slug", "must be a string");
    else if (!tool_fields_slug_ok(json_string_value(v), &why))
        error_add_field(err, "slug", "%s", why);
    else
        out->slug = json_string_value(v);
}

static void tool_fields_name(const json_t *body, tool_fields *out, mkt_error *err)
{
    const char *name = tool_fields_text(body, "name", TOOL_FIELDS_NAME_MIN, TOOL_FIELDS_NAME_MAX, err);
    if (!name)
        return;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            error_add_field(err, "name", "must not contain control characters");
            return;
        }
    }
    out->name = name;
}

static void tool_fields_tags(const json_t *body, tool_fields *out, mkt_error *err)
{
    const json_t *tags = json_object_get(body, "tags");
    if (!tags)
        return;
    if (!json_is_array(tags)) {
        error_add_field(err, "tags", "must be an array of strings");
        return;
    }
    if (json_array_size(tags) > TOOL_FIELDS_TAGS_MAX) {
        error_add_field(err, "tags", "at most %d tags", TOOL_FIELDS_TAGS_MAX);
        return;
    }
    size_t before = err ? err->field_count : 0;
    for (size_t i = 0; i < json_array_size(tags); i++) {
        const char *tag = json_string_value(json_array_get(tags, i));
        char field[32];
        snprintf(field, sizeof field, "tags[%zu]", i);
        if (!tag || !tool_fields_token_ok(tag, 2, 32)) {
            error_add_field(err, field, "must be 2 to 32 characters of a-z, 0-9 and '-'");
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            const char *earlier = json_string_value(json_array_get(tags, j));
            if (earlier && strcmp(earlier, tag) == 0) {
                error_add_field(err, field, "duplicate of tags[%zu]", j);
                break;
            }
        }
    }
    if (!err || err->field_count == before)
        out->tags = tags;
}

static void tool_fields_category(db *db, const json_t *body, tool_fields *out, mkt_error *err)
{
    const json_t *v = json_object_get(body, "category");
    if (!v)
        return;
    const char *name = json_string_value(v);
    if (!name || strlen(name) > 32) {
        error_add_field(err, "category", "must be a category name (see GET /categories)");
        return;
    }
    mkt_error db_err = MKT_ERROR_INIT;
    int known = tool_library_category_exists(db, name, &db_err);
    char clipped[33];
    if (known < 0)
        error_move(err, &db_err); /* the caller sees the database failure, not a misleading field error */
    else if (!known)
        error_add_field(err, "category", "unknown category \"%s\" (see GET /categories)",
                        error_text_clip(clipped, sizeof clipped, name));
    else
        out->category = name;
}

static int tool_fields_int(const json_t *v, int64_t min, int64_t max, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return 0;
    *out = json_integer_value(v);
    return 1;
}

/* A field error named prefix + name ("pricing." + "model"). */
static void tool_fields_bad(mkt_error *err, const char *prefix, const char *name, const char *message)
{
    char field[64];
    snprintf(field, sizeof field, "%s%s", prefix, name);
    error_add_field(err, field, "%s", message);
}

int tool_fields_read_pricing(const json_t *p, const char *prefix, const char *const *extra, tool_pricing *pr,
                             mkt_error *err)
{
    static const char *const base[] = {"model", "price_cents", "currency", "period_days"};
    const char *known[16];
    size_t k = 0;
    for (; k < sizeof base / sizeof base[0]; k++)
        known[k] = base[k];
    for (size_t i = 0; extra && extra[i] && k < sizeof known / sizeof known[0] - 1; i++)
        known[k++] = extra[i];
    known[k] = NULL;
    size_t before = err ? err->field_count : 0;
    tool_fields_unknown(p, known, prefix, err);
    memset(pr, 0, sizeof *pr);
    const char *model = json_string_value(json_object_get(p, "model"));
    int is_free = model && strcmp(model, "free") == 0, is_sub = model && strcmp(model, "subscription") == 0;
    if (!model || !(is_free || is_sub || strcmp(model, "one_time") == 0))
        tool_fields_bad(err, prefix, "model", "must be one of free, one_time, subscription");
    else
        snprintf(pr->model, sizeof pr->model, "%s", model);

    char message[80];
    const json_t *price = json_object_get(p, "price_cents");
    if (is_free) {
        if (price && !tool_fields_int(price, 0, 0, &pr->price_cents))
            tool_fields_bad(err, prefix, "price_cents", "must be 0 for a free plan");
    } else if (!price) {
        tool_fields_bad(err, prefix, "price_cents", "is required for a paid plan");
    } else if (!tool_fields_int(price, 1, TOOL_FIELDS_PRICE_MAX, &pr->price_cents)) {
        snprintf(message, sizeof message, "must be an integer from 1 to %d", TOOL_FIELDS_PRICE_MAX);
        tool_fields_bad(err, prefix, "price_cents", message);
    }

    const json_t *currency = json_object_get(p, "currency");
    if (!currency && is_free)
        snprintf(pr->currency, sizeof pr->currency, "USD");
    else if (!currency)
        tool_fields_bad(err, prefix, "currency", "is required for a paid plan");
    else if (!tool_fields_currency_ok(json_string_value(currency)))
        tool_fields_bad(err, prefix, "currency", "must be an upper-case ISO 4217 code such as USD or EUR");
    else
        snprintf(pr->currency, sizeof pr->currency, "%s", json_string_value(currency));

    const json_t *period = json_object_get(p, "period_days");
    if (is_sub) {
        pr->period_days = TOOL_FIELDS_PERIOD_DEFAULT;
        if (period && !tool_fields_int(period, 1, TOOL_FIELDS_PERIOD_MAX, &pr->period_days)) {
            snprintf(message, sizeof message, "must be an integer from 1 to %d", TOOL_FIELDS_PERIOD_MAX);
            tool_fields_bad(err, prefix, "period_days", message);
        }
    } else if (period && !json_is_null(period) && model) {
        tool_fields_bad(err, prefix, "period_days", "is only for subscriptions");
    }
    return err && err->field_count != before ? -1 : 0;
}

static void tool_fields_pricing(const json_t *body, tool_fields *out, mkt_error *err)
{
    const json_t *p = json_object_get(body, "pricing");
    if (!p)
        return;
    if (!json_is_object(p)) {
        error_add_field(err, "pricing", "must be an object {model, price_cents, currency, period_days}");
        return;
    }
    if (tool_fields_read_pricing(p, "pricing.", NULL, &out->pricing, err) == 0)
        out->present |= TOOL_FIELD_PRICING;
}

static void tool_fields_schema(const json_t *body, const char *key, const json_t **out, mkt_error *err)
{
    const json_t *schema = json_object_get(body, key);
    if (!schema)
        return;
    if (schema_check(schema, key, err) == 0)
        *out = schema;
}

static void tool_fields_code(const json_t *body, tool_fields *out, mkt_error *err)
{
    const json_t *v = json_object_get(body, "code");
    if (!v)
        return;
    if (!json_is_string(v))
        error_add_field(err, "code", "must be a string of Lua source");
    else if (json_string_length(v) > TOOL_FIELDS_CODE_MAX)
        error_add_field(err, "code", "must be at most %d bytes", TOOL_FIELDS_CODE_MAX);
    else if (strlen(json_string_value(v)) != json_string_length(v))
        error_add_field(err, "code", "must not contain NUL characters");
    else {
        out->code = json_string_value(v);
        out->code_len = json_string_length(v);
    }
}

static void tool_fields_test(const json_t *test, size_t i, const json_t *tests, mkt_error *err)
{
    static const char *const known[] = {"name", "input", "expected", NULL};
    char prefix[32], field[48];
    snprintf(prefix, sizeof prefix, "tests[%zu].", i);
    if (!json_is_object(test)) {
        snprintf(field, sizeof field, "tests[%zu]", i);
        error_add_field(err, field, "must be an object {name, input, expected}");
        return;
    }
    tool_fields_unknown(test, known, prefix, err);
    const json_t *name = json_object_get(test, "name");
    const char *text = json_string_value(name);
    snprintf(field, sizeof field, "%sname", prefix);
    if (!text || strlen(text) != json_string_length(name) || tool_fields_utf8_length(text) < 1 ||
        tool_fields_utf8_length(text) > TOOL_FIELDS_TEST_NAME_MAX) {
        error_add_field(err, field, "must be a string of 1 to %d characters", TOOL_FIELDS_TEST_NAME_MAX);
    } else {
        /* results and publish failures are reported by name, so names must tell tests apart */
        for (size_t j = 0; j < i; j++) {
            const char *earlier = json_string_value(json_object_get(json_array_get(tests, j), "name"));
            if (earlier && strcmp(earlier, text) == 0) {
                error_add_field(err, field, "duplicate of tests[%zu].name", j);
                break;
            }
        }
    }
    if (!json_object_get(test, "input")) {
        snprintf(field, sizeof field, "%sinput", prefix);
        error_add_field(err, field, "is required (any JSON value)");
    }
    if (!json_object_get(test, "expected")) {
        snprintf(field, sizeof field, "%sexpected", prefix);
        error_add_field(err, field, "is required (any JSON value)");
    }
}

static void tool_fields_tests(const json_t *body, tool_fields *out, mkt_error *err)
{
    const json_t *tests = json_object_get(body, "tests");
    if (!tests)
        return;
    if (!json_is_array(tests)) {
        error_add_field(err, "tests", "must be an array of {name, input, expected}");
        return;
    }
    if (json_array_size(tests) > TOOL_FIELDS_TESTS_MAX) {
        error_add_field(err, "tests", "at most %d tests", TOOL_FIELDS_TESTS_MAX);
        return;
    }
    size_t before = err ? err->field_count : 0;
    for (size_t i = 0; i < json_array_size(tests); i++)
        tool_fields_test(json_array_get(tests, i), i, tests, err);
    if (!err || err->field_count == before)
        out->tests = tests;
}

/* "dependencies.<slug>" (the key clipped: it is what was sent). */
static void tool_fields_dependency_field(char *field, size_t cap, const char *key)
{
    char clipped[80];
    snprintf(field, cap, "dependencies.%s", error_text_clip(clipped, sizeof clipped, key));
}

/* One {slug: range} member: the slug's form, not the draft's own, the range parses. 1 when good. */
static int tool_fields_dependency(const char *key, const json_t *range, const char *self, mkt_error *err)
{
    char field[100];
    tool_fields_dependency_field(field, sizeof field, key);
    const char *why;
    if (!tool_fields_slug_ok(key, &why))
        return error_add_field(err, field, "the key must be a tool's slug: %s", why), 0;
    if (self && strcmp(key, self) == 0)
        return error_add_field(err, field, "a tool cannot depend on itself"), 0;
    if (!json_is_string(range) || strlen(json_string_value(range)) != json_string_length(range))
        return error_add_field(err, field, "must be a semver range such as \"^1.2.0\""), 0;
    mkt_error e = MKT_ERROR_INIT;
    semver_range *r = semver_range_parse(json_string_value(range), &e);
    if (!r)
        error_add_field(err, field, "is not a semver range: %s", e.message ? e.message : "does not parse");
    error_clear(&e);
    semver_range_free(r);
    return r != NULL;
}

/* dependencies: {"slug": "range", ...}, at most TOOL_FIELDS_DEPENDENCIES_MAX, each slug a published
 * tool (asked of the db once, for all of them). */
static void tool_fields_dependencies(db *db, const json_t *body, tool_fields *out, mkt_error *err)
{
    const json_t *deps = json_object_get(body, "dependencies");
    if (!deps)
        return;
    if (!json_is_object(deps)) {
        error_add_field(err, "dependencies", "must be an object {\"slug\": \"semver range\", ...}");
        return;
    }
    if (json_object_size(deps) > TOOL_FIELDS_DEPENDENCIES_MAX) {
        error_add_field(err, "dependencies", "at most %d tools (has %zu)", TOOL_FIELDS_DEPENDENCIES_MAX,
                        json_object_size(deps));
        return;
    }
    const char *slugs[TOOL_FIELDS_DEPENDENCIES_MAX];
    size_t n = 0, good = 0;
    const char *key;
    const json_t *range;
    json_object_foreach((json_t *)deps, key, range) {
        int ok = tool_fields_dependency(key, range, json_string_value(json_object_get(body, "slug")), err);
        good += ok;
        slugs[n++] = ok ? key : NULL;
    }
    if (good == n && db) {
        int found[TOOL_FIELDS_DEPENDENCIES_MAX] = {0};
        if (tool_record_slugs_published(db, slugs, n, found, err) < 0)
            return;
        for (size_t i = 0; i < n; i++)
            if (!found[i]) {
                char field[100];
                tool_fields_dependency_field(field, sizeof field, slugs[i]);
                error_add_field(err, field, "no published tool \"%s\"", slugs[i]);
                good--;
            }
    }
    if (good == n)
        out->dependencies = deps;
}

static void tool_fields_required(const json_t *body, unsigned required, mkt_error *err)
{
    for (size_t i = 0; tool_fields_known[i]; i++)
        if ((required & (1u << i)) && !json_object_get(body, tool_fields_known[i]))
            error_add_field(err, tool_fields_known[i], "is required");
}

static void tool_fields_mark(const json_t *body, tool_fields *out)
{
    /* a present field counts only when it passed; pricing marks itself */
    const void *values[] = {out->slug, out->name, out->summary, out->description, out->category, out->tags,
                            NULL, out->input_schema, out->output_schema, out->code, out->tests,
                            out->dependencies};
    for (size_t i = 0; tool_fields_known[i]; i++)
        if (values[i] && json_object_get(body, tool_fields_known[i]))
            out->present |= 1u << i;
}

int tool_fields_read(db *db, const json_t *body, unsigned required, tool_fields *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return error_set(err, ERROR_VALIDATION, "the body must be a JSON object");
    tool_fields_unknown(body, tool_fields_known, "", err);
    tool_fields_required(body, required, err);
    tool_fields_slug(body, out, err);
    tool_fields_name(body, out, err);
    out->summary = tool_fields_text(body, "summary", 0, TOOL_FIELDS_SUMMARY_MAX, err);
    out->description = tool_fields_text(body, "description", 0, TOOL_FIELDS_DESCRIPTION_MAX, err);
    tool_fields_tags(body, out, err);
    tool_fields_pricing(body, out, err);
    tool_fields_schema(body, "input_schema", &out->input_schema, err);
    tool_fields_schema(body, "output_schema", &out->output_schema, err);
    tool_fields_code(body, out, err);
    tool_fields_tests(body, out, err);
    tool_fields_category(db, body, out, err);
    tool_fields_dependencies(db, body, out, err);
    if (error_is_set(err)) {
        if (err->kind == ERROR_VALIDATION && !err->message)
            error_set(err, ERROR_VALIDATION, "the tool has invalid fields");
        return -1;
    }
    tool_fields_mark(body, out);
    return 0;
}

/* core/schema: checking schemas (well-formed, hostile) and validating values (paths, messages, limits). */
#include "core/schema.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/check.h"

static void dump_errors(const mkt_error *err)
{
    for (size_t i = 0; i < err->field_count; i++)
        fprintf(stderr, "    [%zu] %s: %s\n", i, err->fields[i].field, err->fields[i].message);
}

/* True when `err` holds exactly this field error; prints what it holds otherwise. */
static int has(const mkt_error *err, const char *field, const char *message)
{
    for (size_t i = 0; i < err->field_count; i++)
        if (strcmp(err->fields[i].field, field) == 0 && strcmp(err->fields[i].message, message) == 0)
            return 1;
    fprintf(stderr, "  missing error %s: %s; have:\n", field, message);
    dump_errors(err);
    return 0;
}

/* schema_check on JSON text; returns the number of field errors, leaving them in *err. */
static size_t check_text(const char *text, mkt_error *err)
{
    json_t *schema = check_json(text);
    error_clear(err);
    int rc = schema_check(schema, "input_schema", err);
    json_decref(schema);
    if ((rc == 0) != (err->field_count == 0))
        fprintf(stderr, "  schema_check returned %d with %zu errors for %s\n", rc, err->field_count, text);
    return err->field_count;
}

static size_t validate_text(const char *schema_text, const char *value_text, mkt_error *err)
{
    json_t *schema = check_json(schema_text), *value = check_json(value_text);
    error_clear(err);
    int rc = schema_validate(schema, value, "input", err);
    json_decref(schema);
    json_decref(value);
    if ((rc == 0) != (err->field_count == 0))
        fprintf(stderr, "  schema_validate returned %d with %zu errors\n", rc, err->field_count);
    return err->field_count;
}

/* Checks one error exactly, the way most tests want it. */
#define CHECK_ONLY(err, field, message)                  \
    do {                                                 \
        CHECK_INT((err)->field_count, 1);                \
        CHECK(has((err), (field), (message)));           \
    } while (0)

/* {"<key>": {"<key>": ... {"type": "string"}}} nested `levels` times, built in code. */
static json_t *nested_schema(const char *key, int levels)
{
    json_t *inner = json_pack("{s:s}", "type", "string");
    for (int i = 0; i < levels; i++) {
        json_t *outer = json_object();
        if (strcmp(key, "properties") == 0)
            json_object_set_new(outer, "properties", json_pack("{s:o}", "a", inner));
        else
            json_object_set_new(outer, key, inner);
        inner = outer;
    }
    return inner;
}

/* [[[...[1]...]]] with `levels` arrays. */
static json_t *nested_array(int levels)
{
    json_t *v = json_integer(1);
    for (int i = 0; i < levels; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, v);
        v = outer;
    }
    return v;
}

static char *repeat(const char *prefix, const char *unit, int times, const char *suffix)
{
    size_t size = strlen(prefix) + strlen(unit) * (size_t)times + strlen(suffix) + 1;
    char *s = malloc(size);
    strcpy(s, prefix);
    for (int i = 0; i < times; i++)
        strcat(s, unit);
    strcat(s, suffix);
    return s;
}

/* ---------------------------------------------------------------- schema_check */

static void test_check_valid_schemas(void)
{
    static const char *const valid[] = {
        "{}",
        "{\"type\": \"string\"}",
        "{\"type\": [\"string\", \"null\"]}",
        "{\"type\": [\"integer\", \"number\", \"boolean\", \"object\", \"array\", \"null\", \"string\"]}",
        ("{\"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 80},"
         " \"age\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 150}}, \"required\": [\"name\"],"
         " \"additionalProperties\": false, \"description\": \"a person\"}"),
        "{\"type\": \"array\", \"items\": {\"type\": \"number\"}, \"minItems\": 0, \"maxItems\": 10}",
        "{\"enum\": [\"a\", 1, 2.5, null, true, {\"x\": [1]}, [1, 2]]}",
        "{\"minimum\": -1.5, \"maximum\": 1e300}",
        "{\"minimum\": 3, \"maximum\": 3.0}",
        "{\"minLength\": 2, \"maxLength\": 2}",
        "{\"maxLength\": 9223372036854775807}",
        "{\"required\": [\"a\", \"b\"]}",
        "{\"required\": []}",
        "{\"properties\": {}}",
        "{\"additionalProperties\": true}",
        "{\"additionalProperties\": {\"type\": \"integer\"}}",
        "{\"type\": \"string\", \"default\": \"hello\", \"description\": \"greeting\"}",
        "{\"type\": \"integer\", \"default\": 3.0}",
        ("{\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\", \"default\": 1}},"
         " \"default\": {\"n\": 2}}"),
        "{\"default\": null}",
        "{\"properties\": {\"first name\": {}, \"a.b\": {}, \"\": {}}}",
    };
    mkt_error err = MKT_ERROR_INIT;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        if (check_text(valid[i], &err) != 0) {
            fprintf(stderr, "  rejected valid schema %s\n", valid[i]);
            dump_errors(&err);
            check_failures++;
        }
    }
    error_clear(&err);
}

static void test_check_not_an_object(void)
{
    static const char *const bad[] = {"3", "[]", "null", "\"string\"", "true", "[{\"type\": \"string\"}]"};
    mkt_error err = MKT_ERROR_INIT;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        check_text(bad[i], &err);
        CHECK_ONLY(&err, "input_schema", "expected a schema object");
        CHECK_INT(err.kind, ERROR_VALIDATION);
    }
    error_clear(&err);
    CHECK_INT(schema_check(NULL, "input_schema", &err), -1);
    CHECK_ONLY(&err, "input_schema", "expected a schema object");
    error_clear(&err);
}

static void test_check_unknown_keywords(void)
{
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(check_text("{\"type\": \"string\", \"minLenght\": 3, \"$schema\": \"x\", \"title\": \"t\","
                         " \"properties\": {\"a\": {\"pattern\": \"^x\"}}}",
                         &err),
              4);
    CHECK(has(&err, "input_schema.minLenght", "unknown keyword"));
    CHECK(has(&err, "input_schema.$schema", "unknown keyword"));
    CHECK(has(&err, "input_schema.title", "unknown keyword"));
    CHECK(has(&err, "input_schema.properties.a.pattern", "unknown keyword"));
    /* Keywords are case-sensitive; names that need quoting get brackets. */
    CHECK_INT(check_text("{\"Type\": \"string\", \"max length\": 3}", &err), 2);
    CHECK(has(&err, "input_schema.Type", "unknown keyword"));
    CHECK(has(&err, "input_schema[\"max length\"]", "unknown keyword"));
    /* Keywords of newer drafts that look plausible are still outside the subset. */
    CHECK_INT(check_text("{\"oneOf\": [], \"$ref\": \"#\", \"const\": 1, \"exclusiveMinimum\": 0}", &err), 4);
    error_clear(&err);
}

static void test_check_wrong_keyword_types(void)
{
    static const struct {
        const char *schema, *field, *message;
    } cases[] = {
        {"{\"minimum\": \"3\"}", "input_schema.minimum", "expected a number"},
        {"{\"maximum\": null}", "input_schema.maximum", "expected a number"},
        {"{\"maximum\": [1]}", "input_schema.maximum", "expected a number"},
        {"{\"required\": \"x\"}", "input_schema.required", "expected an array of property names"},
        {"{\"required\": {\"x\": 1}}", "input_schema.required", "expected an array of property names"},
        {"{\"required\": [1]}", "input_schema.required[0]", "expected a property name"},
        {"{\"required\": [\"a\", null]}", "input_schema.required[1]", "expected a property name"},
        {"{\"required\": [\"a\", \"b\", \"a\"]}", "input_schema.required[2]", "duplicate property name \"a\""},
        {"{\"required\": [\"a\\u0000b\"]}", "input_schema.required[0]", "property names cannot contain NUL characters"},
        {"{\"properties\": []}", "input_schema.properties", "expected an object mapping property names to schemas"},
        {"{\"properties\": \"name\"}", "input_schema.properties", "expected an object mapping property names to schemas"},
        {"{\"properties\": {\"a\": \"string\"}}", "input_schema.properties.a", "expected a schema object"},
        {"{\"properties\": {\"a\": true}}", "input_schema.properties.a", "expected a schema object"},
        {"{\"type\": \"strng\"}", "input_schema.type", "unknown type \"strng\""},
        {"{\"type\": \"String\"}", "input_schema.type", "unknown type \"String\""},
        {"{\"type\": \"float\"}", "input_schema.type", "unknown type \"float\""},
        {"{\"type\": 3}", "input_schema.type", "expected a type name or an array of type names"},
        {"{\"type\": {}}", "input_schema.type", "expected a type name or an array of type names"},
        {"{\"type\": []}", "input_schema.type", "expected at least one type name"},
        {"{\"type\": [\"string\", 3]}", "input_schema.type[1]", "expected a type name"},
        {"{\"type\": [\"string\", \"bogus\"]}", "input_schema.type[1]", "unknown type \"bogus\""},
        {"{\"type\": [\"string\", \"null\", \"string\"]}", "input_schema.type[2]", "duplicate type \"string\""},
        {"{\"items\": [{\"type\": \"string\"}]}", "input_schema.items",
         "expected a single schema object (arrays of schemas are not supported)"},
        {"{\"items\": \"string\"}", "input_schema.items", "expected a schema object"},
        {"{\"items\": true}", "input_schema.items", "expected a schema object"},
        {"{\"enum\": []}", "input_schema.enum", "expected a non-empty array of values"},
        {"{\"enum\": \"a\"}", "input_schema.enum", "expected a non-empty array of values"},
        {"{\"enum\": null}", "input_schema.enum", "expected a non-empty array of values"},
        {"{\"additionalProperties\": \"no\"}", "input_schema.additionalProperties",
         "expected a boolean or a schema object"},
        {"{\"additionalProperties\": 0}", "input_schema.additionalProperties", "expected a boolean or a schema object"},
        {"{\"additionalProperties\": {\"type\": \"nope\"}}", "input_schema.additionalProperties.type",
         "unknown type \"nope\""},
        {"{\"description\": 5}", "input_schema.description", "expected a string"},
        {"{\"description\": [\"a\"]}", "input_schema.description", "expected a string"},
    };
    mkt_error err = MKT_ERROR_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_text(cases[i].schema, &err);
        if (err.field_count != 1 || !has(&err, cases[i].field, cases[i].message)) {
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].schema);
            dump_errors(&err);
            check_failures++;
        }
    }
    /* A type array reports each bad entry, not just the first. */
    CHECK_INT(check_text("{\"type\": [\"string\", 3, \"bogus\", \"string\", null]}", &err), 4);
    CHECK(has(&err, "input_schema.type[1]", "expected a type name"));
    CHECK(has(&err, "input_schema.type[2]", "unknown type \"bogus\""));
    CHECK(has(&err, "input_schema.type[3]", "duplicate type \"string\""));
    CHECK(has(&err, "input_schema.type[4]", "expected a type name"));
    /* Names in messages are quoted as JSON strings, so odd names stay readable. */
    check_text("{\"type\": \"a\\\"b\\n\"}", &err);
    CHECK_ONLY(&err, "input_schema.type", "unknown type \"a\\\"b\\n\"");
    error_clear(&err);
}

static void test_check_count_keywords(void)
{
    static const char *const keywords[] = {"minLength", "maxLength", "minItems", "maxItems"};
    static const char *const bad_values[] = {"-1", "1.5", "2.0", "\"3\"", "true", "null", "[]", "-9223372036854775808",
                                             "1e30"};
    mkt_error err = MKT_ERROR_INIT;
    for (size_t k = 0; k < 4; k++) {
        char field[64], text[128];
        snprintf(field, sizeof field, "input_schema.properties.name.%s", keywords[k]);
        for (size_t v = 0; v < sizeof bad_values / sizeof bad_values[0]; v++) {
            snprintf(text, sizeof text, "{\"properties\": {\"name\": {\"%s\": %s}}}", keywords[k], bad_values[v]);
            check_text(text, &err);
            if (err.field_count != 1 || !has(&err, field, "expected a non-negative integer")) {
                fprintf(stderr, "  %s\n", text);
                check_failures++;
            }
        }
        snprintf(text, sizeof text, "{\"%s\": 0}", keywords[k]);
        CHECK_INT(check_text(text, &err), 0);
        snprintf(text, sizeof text, "{\"%s\": 9223372036854775807}", keywords[k]);
        CHECK_INT(check_text(text, &err), 0);
    }
    error_clear(&err);
}

static void test_check_bounds_order(void)
{
    mkt_error err = MKT_ERROR_INIT;
    check_text("{\"minimum\": 5, \"maximum\": 3}", &err);
    CHECK_ONLY(&err, "input_schema.minimum", "must not be greater than maximum (3)");
    check_text("{\"minimum\": 1.5, \"maximum\": 1}", &err);
    CHECK_ONLY(&err, "input_schema.minimum", "must not be greater than maximum (1)");
    check_text("{\"minimum\": 0.2, \"maximum\": 0.1}", &err);
    CHECK_ONLY(&err, "input_schema.minimum", "must not be greater than maximum (0.1)");
    /* Exact comparison where doubles cannot tell these apart. */
    check_text("{\"minimum\": 9007199254740993, \"maximum\": 9007199254740992.0}", &err);
    CHECK_ONLY(&err, "input_schema.minimum", "must not be greater than maximum (9007199254740992)");
    CHECK_INT(check_text("{\"minimum\": 9007199254740992, \"maximum\": 9007199254740992.0}", &err), 0);
    check_text("{\"minLength\": 4, \"maxLength\": 2}", &err);
    CHECK_ONLY(&err, "input_schema.minLength", "must not be greater than maxLength (2)");
    check_text("{\"minItems\": 3, \"maxItems\": 1}", &err);
    CHECK_ONLY(&err, "input_schema.minItems", "must not be greater than maxItems (1)");
    /* A malformed bound is reported once, not again as an ordering problem. */
    check_text("{\"minLength\": 4, \"maxLength\": -2}", &err);
    CHECK_ONLY(&err, "input_schema.maxLength", "expected a non-negative integer");
    check_text("{\"minimum\": \"9\", \"maximum\": 1}", &err);
    CHECK_ONLY(&err, "input_schema.minimum", "expected a number");
    error_clear(&err);
}

static void test_check_nested_paths(void)
{
    mkt_error err = MKT_ERROR_INIT;
    check_text("{\"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\", \"maxLength\": \"80\"}}}", &err);
    CHECK_ONLY(&err, "input_schema.properties.name.maxLength", "expected a non-negative integer");

    check_text("{\"items\": {\"properties\": {\"first name\": {\"type\": \"text\"}}}}", &err);
    CHECK_ONLY(&err, "input_schema.items.properties[\"first name\"].type", "unknown type \"text\"");

    check_text("{\"properties\": {\"a\": {\"items\": {\"additionalProperties\": {\"minimum\": {}}}}}}", &err);
    CHECK_ONLY(&err, "input_schema.properties.a.items.additionalProperties.minimum", "expected a number");

    /* Several problems at different depths are all reported. */
    CHECK_INT(check_text("{\"type\": \"obj\", \"properties\": {\"a\": {\"minLength\": -1}, \"b\": {\"enum\": []},"
                         " \"c\": {\"items\": {\"maxItems\": 1.5}}}, \"required\": [\"a\", \"a\"], \"bogus\": 1}",
                         &err),
              6);
    CHECK(has(&err, "input_schema.type", "unknown type \"obj\""));
    CHECK(has(&err, "input_schema.properties.a.minLength", "expected a non-negative integer"));
    CHECK(has(&err, "input_schema.properties.b.enum", "expected a non-empty array of values"));
    CHECK(has(&err, "input_schema.properties.c.items.maxItems", "expected a non-negative integer"));
    CHECK(has(&err, "input_schema.required[1]", "duplicate property name \"a\""));
    CHECK(has(&err, "input_schema.bogus", "unknown keyword"));

    /* Without a prefix, paths start at the first step. */
    json_t *schema = check_json("{\"properties\": {\"name\": {\"maxLength\": -3}}, \"type\": 1}");
    error_clear(&err);
    CHECK_INT(schema_check(schema, NULL, &err), -1);
    CHECK(has(&err, "properties.name.maxLength", "expected a non-negative integer"));
    CHECK(has(&err, "type", "expected a type name or an array of type names"));
    error_clear(&err);
    CHECK_INT(schema_check(schema, "", &err), -1);
    CHECK(has(&err, "properties.name.maxLength", "expected a non-negative integer"));
    json_decref(schema);
    error_clear(&err);
}

static void test_check_default(void)
{
    mkt_error err = MKT_ERROR_INIT;
    check_text("{\"type\": \"string\", \"default\": 3}", &err);
    CHECK_ONLY(&err, "input_schema.default", "expected string");
    check_text("{\"type\": \"integer\", \"default\": 1.5}", &err);
    CHECK_ONLY(&err, "input_schema.default", "expected integer");
    check_text("{\"enum\": [\"a\", \"b\"], \"default\": \"c\"}", &err);
    CHECK_ONLY(&err, "input_schema.default", "must be one of [\"a\",\"b\"]");
    check_text("{\"type\": \"object\", \"properties\": {\"age\": {\"type\": \"integer\", \"minimum\": 0}},"
               " \"required\": [\"name\"], \"default\": {\"age\": -1}}",
               &err);
    CHECK_INT(err.field_count, 2);
    CHECK(has(&err, "input_schema.default", "missing required property \"name\""));
    CHECK(has(&err, "input_schema.default.age", "must be >= 0"));
    check_text("{\"properties\": {\"tags\": {\"type\": \"array\", \"maxItems\": 1, \"default\": [\"a\", \"b\"]}}}", &err);
    CHECK_ONLY(&err, "input_schema.properties.tags.default", "must have at most 1 item");
    /* A broken schema is reported as such; its default is not judged against it as well. */
    check_text("{\"type\": \"strng\", \"default\": 3}", &err);
    CHECK_ONLY(&err, "input_schema.type", "unknown type \"strng\"");
    /* A default nested too deeply is rejected, with a path to the spot. */
    json_t *schema = json_object();
    json_object_set_new(schema, "default", nested_array(40));
    error_clear(&err);
    CHECK_INT(schema_check(schema, "s", &err), -1);
    char *path = repeat("s.default", "[0]", 32, "");
    CHECK_ONLY(&err, path, "nested deeper than 32 levels");
    free(path);
    json_decref(schema);
    error_clear(&err);
}

static void test_check_deep_schemas(void)
{
    mkt_error err = MKT_ERROR_INIT;
    /* 1000 levels, as an attacker would send: one error, at the level where the limit was crossed. */
    static const char *const keys[] = {"items", "additionalProperties", "properties"};
    static const char *const steps[] = {".items", ".additionalProperties", ".properties.a"};
    for (int k = 0; k < 3; k++) {
        json_t *deep = nested_schema(keys[k], 1000);
        error_clear(&err);
        CHECK_INT(schema_check(deep, "input_schema", &err), -1);
        char *path = repeat("input_schema", steps[k], SCHEMA_MAX_DEPTH + 1, "");
        CHECK_ONLY(&err, path, "schema nested deeper than 32 levels");
        free(path);
        json_decref(deep);
    }
    /* The limit exactly: 32 levels below the root pass, 33 do not. */
    json_t *ok = nested_schema("items", SCHEMA_MAX_DEPTH);
    error_clear(&err);
    CHECK_INT(schema_check(ok, "input_schema", &err), 0);
    /* ...and a value using all 32 levels validates against it. */
    json_t *value = json_pack("s", "leaf");
    for (int i = 0; i < SCHEMA_MAX_DEPTH; i++)
        value = json_pack("[o]", value);
    CHECK_INT(schema_validate(ok, value, "input", &err), 0);
    json_decref(value);
    json_decref(ok);
    json_t *over = nested_schema("items", SCHEMA_MAX_DEPTH + 1);
    CHECK_INT(schema_check(over, "input_schema", &err), -1);
    json_decref(over);
    error_clear(&err);
}

static void test_check_huge_enum(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *values = json_array();
    for (int i = 0; i < 100000; i++)
        json_array_append_new(values, json_integer(i));
    json_t *schema = json_pack("{s:o}", "enum", values);
    CHECK_INT(schema_check(schema, "input_schema", &err), -1);
    CHECK_ONLY(&err, "input_schema.enum", "expected at most 1000 values, got 100000");
    json_decref(schema);

    values = json_array();
    for (int i = 0; i < SCHEMA_MAX_ENUM; i++)
        json_array_append_new(values, json_integer(i));
    schema = json_pack("{s:o}", "enum", values);
    error_clear(&err);
    CHECK_INT(schema_check(schema, "input_schema", &err), 0);
    json_array_append_new(values, json_integer(-1));
    CHECK_INT(schema_check(schema, "input_schema", &err), -1);
    json_decref(schema);

    /* Enum values are compared recursively, so they are held to the value depth limit too. */
    schema = json_pack("{s:[i,o]}", "enum", 1, nested_array(100));
    error_clear(&err);
    CHECK_INT(schema_check(schema, "input_schema", &err), -1);
    char *path = repeat("input_schema.enum[1]", "[0]", 32, "");
    CHECK_ONLY(&err, path, "nested deeper than 32 levels");
    free(path);
    json_decref(schema);
    error_clear(&err);
}

static void test_check_many_subschemas(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *props = json_object();
    char name[32];
    for (int i = 0; i < SCHEMA_MAX_SUBSCHEMAS - 1; i++) {
        snprintf(name, sizeof name, "p%d", i);
        json_object_set_new(props, name, json_object());
    }
    json_t *schema = json_pack("{s:o}", "properties", props);
    CHECK_INT(schema_check(schema, "input_schema", &err), 0); /* root + 9999 */
    json_object_set_new(props, "one_more", json_object());
    CHECK_INT(schema_check(schema, "input_schema", &err), -1);
    CHECK_ONLY(&err, "input_schema", "schema has more than 10000 subschemas");
    json_decref(schema);

    /* Wide and deep at once (fan-out of 2, 20 levels: ~2M nodes) stops at the limit quickly. */
    json_t *leaf = json_object();
    for (int level = 0; level < 20; level++) {
        json_t *node = json_pack("{s:{s:O,s:O}}", "properties", "a", leaf, "b", leaf);
        json_decref(leaf);
        leaf = node;
    }
    clock_t start = clock();
    error_clear(&err);
    CHECK_INT(schema_check(leaf, "input_schema", &err), -1);
    CHECK(has(&err, "input_schema", "schema has more than 10000 subschemas"));
    CHECK((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
    json_decref(leaf);
    error_clear(&err);
}

static void test_check_required_long(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *names = json_array();
    char name[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        json_array_append_new(names, json_string(name));
    }
    json_t *schema = json_pack("{s:o}", "required", names);
    clock_t start = clock();
    CHECK_INT(schema_check(schema, "input_schema", &err), 0);
    json_array_append_new(names, json_string("n5"));
    CHECK_INT(schema_check(schema, "input_schema", &err), -1);
    CHECK_ONLY(&err, "input_schema.required[100000]", "duplicate property name \"n5\"");
    CHECK((double)(clock() - start) / CLOCKS_PER_SEC < 2.0);
    json_decref(schema);
    error_clear(&err);
}

static void test_check_error_cap(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *schema = json_object();
    char name[32];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "bad%d", i);
        json_object_set_new(schema, name, json_true());
    }
    CHECK_INT(schema_check(schema, "input_schema", &err), -1);
    CHECK_INT(err.field_count, SCHEMA_MAX_ERRORS + 1);
    CHECK(has(&err, "input_schema.bad0", "unknown keyword"));
    CHECK(has(&err, "input_schema.bad49", "unknown keyword"));
    CHECK_STR(err.fields[SCHEMA_MAX_ERRORS].field, "input_schema");
    CHECK_STR(err.fields[SCHEMA_MAX_ERRORS].message, "too many errors; only the first 50 are reported");

    /* Errors already on `err` (say, other fields of the tool) do not use up the schema's allowance. */
    error_clear(&err);
    error_add_field(&err, "name", "too short");
    CHECK_INT(schema_check(schema, "input_schema", &err), -1);
    CHECK_INT(err.field_count, SCHEMA_MAX_ERRORS + 2);
    CHECK_STR(err.fields[0].field, "name");
    json_decref(schema);
    error_clear(&err);
}

static void test_check_without_err(void)
{
    json_t *bad = check_json("{\"type\": \"x\", \"minimum\": \"1\"}"), *good = check_json("{\"type\": \"string\"}");
    CHECK_INT(schema_check(bad, "s", NULL), -1);
    CHECK_INT(schema_check(good, "s", NULL), 0);
    json_t *value = check_json("[1, 2, 3]");
    CHECK_INT(schema_validate(good, value, "v", NULL), -1);
    CHECK_INT(schema_validate(bad, value, "v", NULL), 0); /* malformed keywords are ignored */
    json_decref(value);
    json_decref(bad);
    json_decref(good);
}

/* ---------------------------------------------------------------- schema_validate */

static void test_validate_types(void)
{
    static const struct {
        const char *type, *value;
        int ok;
    } cases[] = {
        {"\"string\"", "\"x\"", 1},     {"\"string\"", "\"\"", 1},       {"\"string\"", "1", 0},
        {"\"string\"", "null", 0},      {"\"number\"", "1", 1},          {"\"number\"", "1.5", 1},
        {"\"number\"", "-1e300", 1},    {"\"number\"", "\"1\"", 0},      {"\"number\"", "true", 0},
        {"\"integer\"", "1", 1},        {"\"integer\"", "-7", 1},        {"\"integer\"", "1.0", 1},
        {"\"integer\"", "-0.0", 1},     {"\"integer\"", "1e300", 1},     {"\"integer\"", "1.5", 0},
        {"\"integer\"", "1e-300", 0},   {"\"integer\"", "\"1\"", 0},     {"\"boolean\"", "true", 1},
        {"\"boolean\"", "false", 1},    {"\"boolean\"", "0", 0},         {"\"boolean\"", "\"true\"", 0},
        {"\"object\"", "{}", 1},        {"\"object\"", "[]", 0},         {"\"object\"", "null", 0},
        {"\"array\"", "[]", 1},         {"\"array\"", "{}", 0},          {"\"null\"", "null", 1},
        {"\"null\"", "0", 0},           {"\"null\"", "false", 0},        {"[\"string\", \"null\"]", "null", 1},
        {"[\"string\", \"null\"]", "\"a\"", 1}, {"[\"string\", \"null\"]", "2", 0},
        {"[\"integer\", \"boolean\"]", "2.5", 0}, {"[\"number\", \"integer\"]", "2.5", 1},
    };
    mkt_error err = MKT_ERROR_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char schema[128];
        snprintf(schema, sizeof schema, "{\"type\": %s}", cases[i].type);
        size_t n = validate_text(schema, cases[i].value, &err);
        if ((n == 0) != cases[i].ok) {
            fprintf(stderr, "  type %s value %s: expected %s\n", cases[i].type, cases[i].value,
                    cases[i].ok ? "valid" : "invalid");
            dump_errors(&err);
            check_failures++;
        }
    }
    validate_text("{\"type\": \"string\"}", "1", &err);
    CHECK_ONLY(&err, "input", "expected string");
    validate_text("{\"type\": \"integer\"}", "1.5", &err);
    CHECK_ONLY(&err, "input", "expected integer");
    validate_text("{\"type\": [\"string\", \"null\"]}", "1", &err);
    CHECK_ONLY(&err, "input", "expected string or null");
    /* Listed in a fixed order, whatever the schema's order. */
    validate_text("{\"type\": [\"null\", \"integer\", \"string\"]}", "[]", &err);
    CHECK_ONLY(&err, "input", "expected string, integer or null");
    /* A type mismatch stops further checks of that value: one error, not several. */
    validate_text("{\"type\": \"string\", \"minLength\": 3, \"enum\": [\"abc\"]}", "5", &err);
    CHECK_ONLY(&err, "input", "expected string");
    /* Keywords apply to their own kind of value only. */
    CHECK_INT(validate_text("{\"minLength\": 3, \"minimum\": 5, \"minItems\": 2, \"required\": [\"a\"]}", "true", &err), 0);
    CHECK_INT(validate_text("{\"minLength\": 3}", "12", &err), 0);
    CHECK_INT(validate_text("{\"minimum\": 3}", "\"1\"", &err), 0);
    error_clear(&err);
}

static void test_validate_paths(void)
{
    mkt_error err = MKT_ERROR_INIT;
    const char *schema = "{\"type\": \"object\", \"properties\": {\"items\": {\"type\": \"array\", \"items\": {\"type\":"
                         " \"object\", \"properties\": {\"name\": {\"type\": \"string\"}}}}}}";
    validate_text(schema, "{\"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": 3}]}", &err);
    CHECK_ONLY(&err, "input.items[2].name", "expected string");

    validate_text("{\"type\": \"object\", \"required\": [\"email\"]}", "{}", &err);
    CHECK_ONLY(&err, "input", "missing required property \"email\"");

    validate_text("{\"properties\": {\"age\": {\"minimum\": 0}}}", "{\"age\": -1}", &err);
    CHECK_ONLY(&err, "input.age", "must be >= 0");

    validate_text("{\"properties\": {\"first name\": {\"type\": \"string\"}, \"a\\\"b\": {\"type\": \"string\"},"
                  " \"\": {\"type\": \"string\"}, \"x.y\": {\"type\": \"string\"}, \"t\\u0001\": {\"type\": \"string\"},"
                  " \"snake_case-1\": {\"type\": \"string\"}, \"1abc\": {\"type\": \"string\"}}}",
                  "{\"first name\": 1, \"a\\\"b\": 1, \"\": 1, \"x.y\": 1, \"t\\u0001\": 1, \"snake_case-1\": 1,"
                  " \"1abc\": 1}",
                  &err);
    CHECK_INT(err.field_count, 7);
    CHECK(has(&err, "input[\"first name\"]", "expected string"));
    CHECK(has(&err, "input[\"a\\\"b\"]", "expected string"));
    CHECK(has(&err, "input[\"\"]", "expected string"));
    CHECK(has(&err, "input[\"x.y\"]", "expected string"));
    CHECK(has(&err, "input[\"t\\u0001\"]", "expected string"));
    CHECK(has(&err, "input.snake_case-1", "expected string"));
    CHECK(has(&err, "input[\"1abc\"]", "expected string"));

    /* Nested arrays of arrays. */
    validate_text("{\"items\": {\"items\": {\"type\": \"integer\"}}}", "[[1], [2, \"x\"], []]", &err);
    CHECK_ONLY(&err, "input[1][1]", "expected integer");

    /* Without a root name. */
    json_t *s = check_json("{\"items\": {\"properties\": {\"n\": {\"type\": \"string\"}}}}"), *v = check_json("[{\"n\": 1}]");
    error_clear(&err);
    CHECK_INT(schema_validate(s, v, NULL, &err), -1);
    CHECK_ONLY(&err, "[0].n", "expected string");
    json_decref(v);
    v = check_json("{\"n\": 1}");
    json_decref(s);
    s = check_json("{\"properties\": {\"n\": {\"type\": \"string\"}}}");
    error_clear(&err);
    CHECK_INT(schema_validate(s, v, "", &err), -1);
    CHECK_ONLY(&err, "n", "expected string");
    json_decref(v);
    json_decref(s);
    error_clear(&err);
}

static void test_validate_numbers(void)
{
    mkt_error err = MKT_ERROR_INIT;
    const char *range = "{\"type\": \"number\", \"minimum\": 0, \"maximum\": 100}";
    CHECK_INT(validate_text(range, "0", &err), 0);
    CHECK_INT(validate_text(range, "100", &err), 0);
    CHECK_INT(validate_text(range, "100.0", &err), 0);
    CHECK_INT(validate_text(range, "50.5", &err), 0);
    validate_text(range, "-1", &err);
    CHECK_ONLY(&err, "input", "must be >= 0");
    validate_text(range, "-0.001", &err);
    CHECK_ONLY(&err, "input", "must be >= 0");
    validate_text(range, "100.5", &err);
    CHECK_ONLY(&err, "input", "must be <= 100");
    validate_text("{\"minimum\": 0.1}", "0.05", &err);
    CHECK_ONLY(&err, "input", "must be >= 0.1");
    validate_text("{\"maximum\": -2.5e-7}", "0", &err);
    CHECK_ONLY(&err, "input", "must be <= -2.5e-07");
    validate_text("{\"type\": \"integer\", \"maximum\": 10}", "11.0", &err);
    CHECK_ONLY(&err, "input", "must be <= 10");
    /* Integers beyond 2^53 compare exactly against reals. */
    CHECK_INT(validate_text("{\"minimum\": 9007199254740992.0}", "9007199254740993", &err), 0);
    validate_text("{\"maximum\": 9007199254740992.0}", "9007199254740993", &err);
    CHECK_ONLY(&err, "input", "must be <= 9007199254740992");
    validate_text("{\"minimum\": 9007199254740993}", "9007199254740992.0", &err);
    CHECK_ONLY(&err, "input", "must be >= 9007199254740993");
    CHECK_INT(validate_text("{\"maximum\": 9223372036854775807}", "9223372036854775807", &err), 0);
    validate_text("{\"maximum\": 9223372036854775807}", "1e19", &err);
    CHECK_ONLY(&err, "input", "must be <= 9223372036854775807");
    CHECK_INT(validate_text("{\"minimum\": -9223372036854775808}", "-9223372036854775808", &err), 0);
    CHECK_INT(validate_text("{\"minimum\": -1e300}", "-9223372036854775808", &err), 0);
    validate_text("{\"minimum\": 1e300}", "9223372036854775807", &err);
    CHECK_ONLY(&err, "input", "must be >= 1e+300");
    error_clear(&err);
}

static void test_validate_strings_unicode(void)
{
    mkt_error err = MKT_ERROR_INIT;
    const char *three = "{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 3}";
    CHECK_INT(validate_text(three, "\"ab\"", &err), 0);
    CHECK_INT(validate_text(three, "\"h\u00e9\u00e9\"", &err), 0);     /* 3 code points, 5 bytes */
    CHECK_INT(validate_text(three, "\"\u65e5\u672c\u8a9e\"", &err), 0); /* 3 code points, 9 bytes */
    CHECK_INT(validate_text(three, "\"\\ud83d\\ude00\\ud83d\\ude00\"", &err), 0); /* 2 emoji, 8 bytes */
    CHECK_INT(validate_text(three, "\"a\\u0000b\"", &err), 0);           /* NUL counts as a character */
    validate_text(three, "\"\u65e5\u672c\u8a9ex\"", &err);
    CHECK_ONLY(&err, "input", "must be at most 3 characters long");
    validate_text(three, "\"\u00e9\"", &err);
    CHECK_ONLY(&err, "input", "must be at least 2 characters long");
    validate_text(three, "\"\\ud83d\\ude00\"", &err);
    CHECK_ONLY(&err, "input", "must be at least 2 characters long");
    validate_text("{\"maxLength\": 1}", "\"ab\"", &err);
    CHECK_ONLY(&err, "input", "must be at most 1 character long");
    validate_text("{\"minLength\": 1}", "\"\"", &err);
    CHECK_ONLY(&err, "input", "must be at least 1 character long");
    CHECK_INT(validate_text("{\"maxLength\": 0}", "\"\"", &err), 0);
    CHECK_INT(validate_text("{\"maxLength\": 9223372036854775807}", "\"abc\"", &err), 0);
    CHECK_INT(validate_text("{\"minLength\": 0}", "\"\"", &err), 0);
    validate_text("{\"minLength\": 9223372036854775807}", "\"abc\"", &err);
    CHECK_ONLY(&err, "input", "must be at least 9223372036854775807 characters long");

    /* A long string of 4-byte characters. */
    json_t *schema = json_pack("{s:i}", "maxLength", 1000);
    char *text = repeat("", "\xf0\x9f\x98\x80", 1000, "");
    json_t *value = json_string(text);
    error_clear(&err);
    CHECK_INT(schema_validate(schema, value, "input", &err), 0);
    json_decref(value);
    free(text);
    text = repeat("", "\xf0\x9f\x98\x80", 1001, "");
    value = json_string(text);
    CHECK_INT(schema_validate(schema, value, "input", &err), -1);
    json_decref(value);
    free(text);
    json_decref(schema);
    error_clear(&err);
}

static void test_validate_arrays(void)
{
    mkt_error err = MKT_ERROR_INIT;
    const char *schema = "{\"type\": \"array\", \"minItems\": 1, \"maxItems\": 3, \"items\": {\"type\": \"integer\","
                         " \"minimum\": 0}}";
    CHECK_INT(validate_text(schema, "[0, 1, 2]", &err), 0);
    validate_text(schema, "[]", &err);
    CHECK_ONLY(&err, "input", "must have at least 1 item");
    validate_text(schema, "[1, 2, 3, 4]", &err);
    CHECK_ONLY(&err, "input", "must have at most 3 items");
    validate_text(schema, "[1, -1, \"x\", 2.5]", &err);
    CHECK_INT(err.field_count, 4);
    CHECK(has(&err, "input", "must have at most 3 items"));
    CHECK(has(&err, "input[1]", "must be >= 0"));
    CHECK(has(&err, "input[2]", "expected integer"));
    CHECK(has(&err, "input[3]", "expected integer"));
    validate_text("{\"minItems\": 2}", "[1]", &err);
    CHECK_ONLY(&err, "input", "must have at least 2 items");
    CHECK_INT(validate_text("{\"items\": {\"type\": \"string\"}}", "[]", &err), 0);
    error_clear(&err);
}

static void test_validate_objects(void)
{
    mkt_error err = MKT_ERROR_INIT;
    const char *closed = "{\"type\": \"object\", \"properties\": {\"a\": {}, \"b\": {}}, \"additionalProperties\": false}";
    CHECK_INT(validate_text(closed, "{\"a\": 1}", &err), 0);
    validate_text(closed, "{\"a\": 1, \"x\": 2, \"y z\": 3}", &err);
    CHECK_INT(err.field_count, 2);
    CHECK(has(&err, "input", "unexpected property \"x\""));
    CHECK(has(&err, "input", "unexpected property \"y z\""));

    const char *typed = "{\"properties\": {\"name\": {\"type\": \"string\"}}, \"additionalProperties\": {\"type\": \"integer\"}}";
    CHECK_INT(validate_text(typed, "{\"name\": \"n\", \"a\": 1, \"b\": 2}", &err), 0);
    validate_text(typed, "{\"name\": \"n\", \"extra\": \"x\"}", &err);
    CHECK_ONLY(&err, "input.extra", "expected integer");
    CHECK_INT(validate_text("{\"properties\": {}, \"additionalProperties\": true}", "{\"z\": 1}", &err), 0);

    validate_text("{\"required\": [\"email\", \"password\", \"name\"]}", "{\"name\": \"x\"}", &err);
    CHECK_INT(err.field_count, 2);
    CHECK(has(&err, "input", "missing required property \"email\""));
    CHECK(has(&err, "input", "missing required property \"password\""));
    /* null is a value: a property set to null is present. */
    CHECK_INT(validate_text("{\"required\": [\"a\"]}", "{\"a\": null}", &err), 0);
    /* Required properties in nested objects are reported at the nested path. */
    validate_text("{\"properties\": {\"owner\": {\"required\": [\"id\"]}}}", "{\"owner\": {}}", &err);
    CHECK_ONLY(&err, "input.owner", "missing required property \"id\"");
    error_clear(&err);
}

static void test_validate_enum(void)
{
    mkt_error err = MKT_ERROR_INIT;
    const char *colors = "{\"enum\": [\"red\", \"green\", 3, null, {\"a\": [1, 2]}, [true]]}";
    static const char *const in[] = {"\"red\"", "\"green\"", "3", "3.0", "null", "{\"a\": [1, 2.0]}", "[true]"};
    static const char *const out[] = {"\"Red\"", "\"blue\"", "3.5", "false", "{\"a\": [2, 1]}", "{\"a\": [1, 2], \"b\": 1}",
                                      "[true, true]", "[]", "{}", "\"3\""};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        CHECK_INT(validate_text(colors, in[i], &err), 0);
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++)
        CHECK_INT(validate_text(colors, out[i], &err), 1);
    validate_text("{\"enum\": [\"a\", \"b\"]}", "\"c\"", &err);
    CHECK_ONLY(&err, "input", "must be one of [\"a\",\"b\"]");
    /* Object key order does not matter. */
    CHECK_INT(validate_text("{\"enum\": [{\"x\": 1, \"y\": 2}]}", "{\"y\": 2, \"x\": 1}", &err), 0);
    /* Strings with NUL bytes compare whole. */
    CHECK_INT(validate_text("{\"enum\": [\"a\\u0000b\"]}", "\"a\\u0000c\"", &err), 1);
    CHECK_INT(validate_text("{\"enum\": [\"a\\u0000b\"]}", "\"a\\u0000b\"", &err), 0);

    /* Long lists are not spelled out. */
    json_t *values = json_array();
    for (int i = 0; i < 500; i++)
        json_array_append_new(values, json_integer(i * 2));
    json_t *schema = json_pack("{s:o}", "enum", values), *value = json_integer(7);
    error_clear(&err);
    CHECK_INT(schema_validate(schema, value, "input", &err), -1);
    CHECK_ONLY(&err, "input", "must be one of the 500 allowed values");
    json_decref(value);
    value = json_integer(998);
    /* The result is about this call only; errors already on `err` stay as they were. */
    CHECK_INT(schema_validate(schema, value, "input", &err), 0);
    CHECK_INT(err.field_count, 1);
    json_decref(value);
    json_decref(schema);
    error_clear(&err);
}

static void test_validate_multiple_errors(void)
{
    mkt_error err = MKT_ERROR_INIT;
    const char *schema =
        "{\"type\": \"object\", \"required\": [\"email\", \"name\"], \"additionalProperties\": false, \"properties\": {"
        "\"name\": {\"type\": \"string\", \"minLength\": 3},"
        "\"age\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 150},"
        "\"tags\": {\"type\": \"array\", \"maxItems\": 2, \"items\": {\"type\": \"string\", \"maxLength\": 4}},"
        "\"role\": {\"enum\": [\"buyer\", \"developer\"]}}}";
    validate_text(schema,
                  "{\"name\": \"Al\", \"age\": 151.5, \"tags\": [\"ok\", \"toolong\", 3], \"role\": \"admin\","
                  " \"extra\": 1}",
                  &err);
    CHECK_INT(err.field_count, 8);
    CHECK(has(&err, "input", "missing required property \"email\""));
    CHECK(has(&err, "input.name", "must be at least 3 characters long"));
    CHECK(has(&err, "input.age", "expected integer"));
    CHECK(has(&err, "input.tags", "must have at most 2 items"));
    CHECK(has(&err, "input.tags[1]", "must be at most 4 characters long"));
    CHECK(has(&err, "input.tags[2]", "expected string"));
    CHECK(has(&err, "input.role", "must be one of [\"buyer\",\"developer\"]"));
    CHECK(has(&err, "input", "unexpected property \"extra\""));
    CHECK_INT(err.kind, ERROR_VALIDATION);
    /* Order follows the value: required first, then properties as they appear. */
    CHECK_STR(err.fields[0].message, "missing required property \"email\"");
    CHECK_STR(err.fields[1].field, "input.name");
    error_clear(&err);
}

static void test_validate_error_cap(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *schema = check_json("{\"items\": {\"type\": \"string\"}}"), *value = json_array();
    for (int i = 0; i < 100000; i++)
        json_array_append_new(value, json_integer(i));
    CHECK_INT(schema_validate(schema, value, "input", &err), -1);
    CHECK_INT(err.field_count, SCHEMA_MAX_ERRORS + 1);
    CHECK(has(&err, "input[49]", "expected string"));
    CHECK(has(&err, "input", "too many errors; only the first 50 are reported"));
    json_decref(value);
    json_decref(schema);
    error_clear(&err);
}

static void test_validate_deep_value(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *schema = json_object();
    json_t *deep = nested_array(1000);
    CHECK_INT(schema_validate(schema, deep, "input", &err), -1);
    char *path = repeat("input", "[0]", 32, "");
    CHECK_ONLY(&err, path, "nested deeper than 32 levels");
    free(path);
    json_decref(deep);

    json_t *ok = nested_array(SCHEMA_MAX_DEPTH);
    error_clear(&err);
    CHECK_INT(schema_validate(schema, ok, "input", &err), 0);
    json_decref(ok);
    json_t *over = nested_array(SCHEMA_MAX_DEPTH + 1);
    CHECK_INT(schema_validate(schema, over, "input", &err), -1);
    json_decref(over);

    /* Objects too, with the keys in the path; the deep branch is found beside shallow ones. */
    json_t *v = json_integer(0);
    for (int i = 0; i < 40; i++)
        v = json_pack("{s:i,s:o}", "flat", 1, "k", v);
    error_clear(&err);
    CHECK_INT(schema_validate(schema, v, "input", &err), -1);
    path = repeat("input", ".k", 32, "");
    CHECK_ONLY(&err, path, "nested deeper than 32 levels");
    free(path);
    json_decref(v);
    json_decref(schema);
    error_clear(&err);
}

static void test_validate_unchecked_schema(void)
{
    /* Malformed keywords are ignored rather than trusted; none of these may crash. */
    static const char *const schemas[] = {
        "{\"type\": 5}", "{\"type\": [1, \"bogus\"]}", "{\"type\": []}", "{\"minimum\": \"3\"}",
        "{\"maxLength\": -1}", "{\"minLength\": 1.5}", "{\"maxItems\": \"2\"}", "{\"items\": [{\"type\": \"string\"}]}",
        "{\"items\": 3}", "{\"properties\": []}", "{\"properties\": {\"a\": 3}}", "{\"required\": \"a\"}",
        "{\"required\": [1, null]}", "{\"enum\": {}}", "{\"enum\": []}", "{\"additionalProperties\": 3}",
        "3", "[]", "null", "{\"default\": 1, \"description\": 2, \"unknown\": 3}",
    };
    static const char *const values[] = {"1", "\"abc\"", "[1, \"a\", {}]", "{\"a\": 1, \"b\": [2]}", "null", "2.5"};
    mkt_error err = MKT_ERROR_INIT;
    for (size_t s = 0; s < sizeof schemas / sizeof schemas[0]; s++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
            CHECK_INT(validate_text(schemas[s], values[v], &err), 0);
    /* A known type among unknown ones still applies. */
    validate_text("{\"type\": [\"bogus\", \"string\"]}", "1", &err);
    CHECK_ONLY(&err, "input", "expected string");

    /* A 1000-level schema that never passed schema_check, with a value as deep as allowed. */
    json_t *schema = nested_schema("items", 1000);
    json_t *value = nested_array(SCHEMA_MAX_DEPTH);
    error_clear(&err);
    /* level 32 of the schema is still an "items" wrapper, so the innermost 1 is unconstrained */
    CHECK_INT(schema_validate(schema, value, "input", &err), 0);
    json_decref(value);
    value = nested_array(2000);
    error_clear(&err);
    CHECK_INT(schema_validate(schema, value, "input", &err), -1);
    CHECK_INT(err.field_count, 1);
    json_decref(value);
    json_decref(schema);

    /* A hostile 100k-entry enum that skipped schema_check still works. */
    json_t *big = json_array();
    for (int i = 0; i < 100000; i++)
        json_array_append_new(big, json_integer(i));
    schema = json_pack("{s:o}", "enum", big);
    value = json_integer(99999);
    error_clear(&err);
    CHECK_INT(schema_validate(schema, value, "input", &err), 0);
    json_decref(value);
    json_decref(schema);

    /* NULLs. */
    value = json_integer(1);
    CHECK_INT(schema_validate(NULL, value, "input", &err), 0);
    schema = json_object();
    CHECK_INT(schema_validate(schema, NULL, "input", &err), -1);
    CHECK_ONLY(&err, "input", "missing value");
    json_decref(schema);
    json_decref(value);
    error_clear(&err);
}

int main(void)
{
    RUN(test_check_valid_schemas);
    RUN(test_check_not_an_object);
    RUN(test_check_unknown_keywords);
    RUN(test_check_wrong_keyword_types);
    RUN(test_check_count_keywords);
    RUN(test_check_bounds_order);
    RUN(test_check_nested_paths);
    RUN(test_check_default);
    RUN(test_check_deep_schemas);
    RUN(test_check_huge_enum);
    RUN(test_check_many_subschemas);
    RUN(test_check_required_long);
    RUN(test_check_error_cap);
    RUN(test_check_without_err);
    RUN(test_validate_types);
    RUN(test_validate_paths);
    RUN(test_validate_numbers);
    RUN(test_validate_strings_unicode);
    RUN(test_validate_arrays);
    RUN(test_validate_objects);
    RUN(test_validate_enum);
    RUN(test_validate_multiple_errors);
    RUN(test_validate_error_cap);
    RUN(test_validate_deep_value);
    RUN(test_validate_unchecked_schema);
    return check_finish();
}

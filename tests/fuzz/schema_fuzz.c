/* libFuzzer target for core/schema. The input is JSON: either a schema alone, or [schema, value].
 * Beyond "no crash, no leak, no sanitizer report", it checks what callers rely on: the return value
 * agrees with the errors added, the error cap holds, and validating without an error list gives the same
 * answer as with one. The schema is also validated as a value against itself, which feeds arbitrary
 * (unchecked) schemas to schema_validate. */
#include <stdint.h>
#include <stdlib.h>

#include "core/schema.h"

static void schema_fuzz_expect(int rc, const mkt_error *err)
{
    if ((rc == 0) != (err->field_count == 0))
        abort();
    if (err->field_count > SCHEMA_MAX_ERRORS + 1)
        abort();
    for (size_t i = 0; i < err->field_count; i++)
        if (!err->fields[i].field || !err->fields[i].message)
            abort();
}

static void schema_fuzz_validate(const json_t *schema, const json_t *value)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = schema_validate(schema, value, "v", &err);
    schema_fuzz_expect(rc, &err);
    if (schema_validate(schema, value, "v", NULL) != rc)
        abort();
    error_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!doc)
        return 0;
    const json_t *schema = doc, *value = NULL;
    if (json_is_array(doc) && json_array_size(doc) == 2) {
        schema = json_array_get(doc, 0);
        value = json_array_get(doc, 1);
    }
    mkt_error err = MKT_ERROR_INIT;
    int checked = schema_check(schema, "s", &err);
    schema_fuzz_expect(checked, &err);
    if (schema_check(schema, "s", NULL) != checked)
        abort();
    error_clear(&err);

    /* A checked schema's own default must validate: schema_check promised it. */
    const json_t *fallback = json_is_object(schema) ? json_object_get(schema, "default") : NULL;
    if (checked == 0 && fallback && schema_validate(schema, fallback, "d", NULL) != 0)
        abort();

    if (value)
        schema_fuzz_validate(schema, value);
    schema_fuzz_validate(schema, schema);
    json_decref(doc);
    return 0;
}

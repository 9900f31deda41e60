/* The JSON Schema subset used for tool inputs and outputs (README "Writing a tool", docs/openapi.yaml).
 *
 * Keywords, exactly: type (one name or an array of names among string, number, integer, boolean, object,
 * array, null), properties, required, items (one schema), enum, minimum, maximum, minLength, maxLength,
 * minItems, maxItems, additionalProperties (boolean or schema), description, default. Anything else is an
 * error, so a typo such as "minLenght" never silently weakens a schema.
 *
 * Both functions report every problem they find (up to SCHEMA_MAX_ERRORS, then one closing "too many
 * errors" entry) as field errors on `err`, each with a path:
 *     input_schema.properties.name.maxLength: expected a non-negative integer
 *     input.items[2].name: expected string
 *     input: missing required property "email"
 * A key made of [A-Za-z0-9_$-] (not starting with a digit or '-') follows a dot; any other key appears as
 * ["first name"], with JSON string escaping. Messages name properties the same way: "email" above.
 * Both return 0 when valid, -1 otherwise; `err` may be NULL. The message and kind of `err` are left to the
 * caller except that error_add_field sets ERROR_VALIDATION when no kind is set yet; running out of memory
 * sets ERROR_INTERNAL. */
#ifndef CORE_SCHEMA_H
#define CORE_SCHEMA_H

#include <jansson.h>

#include "core/error.h"

#define SCHEMA_MAX_DEPTH 32        /* nesting of subschemas, and of values being validated */
#define SCHEMA_MAX_SUBSCHEMAS 10000
#define SCHEMA_MAX_ENUM 1000
#define SCHEMA_MAX_ERRORS 50

/* Checks that `schema` is a well-formed schema of the subset: an object, known keywords only, each of the
 * right type (counts are JSON integers >= 0; minimum <= maximum, minLength <= maxLength, minItems <=
 * maxItems; required lists distinct strings; enum holds 1..SCHEMA_MAX_ENUM values), nesting at most
 * SCHEMA_MAX_DEPTH, at most SCHEMA_MAX_SUBSCHEMAS subschemas, and every "default" valid against its own
 * schema. `path_prefix` names the schema in messages (e.g. "input_schema"); NULL or "" means none. */
int schema_check(const json_t *schema, const char *path_prefix, mkt_error *err);

/* Validates `value` against `schema`, which should have passed schema_check; an unchecked schema never
 * crashes this function, its malformed keywords are ignored. Numbers compare by value, so 1 and 1.0 are
 * equal (also in enum), and "integer" accepts a real with no fractional part. String lengths count Unicode
 * code points. A value nested deeper than SCHEMA_MAX_DEPTH is rejected before anything else. `root_name`
 * names the value in messages (e.g. "input"); NULL or "" means none. */
int schema_validate(const json_t *schema, const json_t *value, const char *root_name, mkt_error *err);

#endif

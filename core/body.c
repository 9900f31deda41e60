#include "core/body.h"

#include <stdio.h>
#include <string.h>

static int body_allowed(const char *const allowed[], const char *key)
{
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(allowed[i], key) == 0)
            return 1;
    return 0;
}

int body_unknown_fields(const json_t *body, const char *const allowed[], mkt_error *err)
{
    int unknown = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)body, key, value) {
        if (!body_allowed(allowed, key)) {
            error_add_field(err, key, "unknown field");
            unknown++;
        }
    }
    return unknown;
}

static const char *body_type_wanted(json_type type)
{
    switch (type) {
    case JSON_STRING: return "must be a string";
    case JSON_INTEGER: return "must be an integer";
    case JSON_OBJECT: return "must be an object";
    case JSON_ARRAY: return "must be an array";
    case JSON_TRUE:
    case JSON_FALSE: return "must be true or false";
    default: return "has the wrong type";
    }
}

json_t *body_member(const json_t *body, const char *name, json_type wanted, mkt_error *err)
{
    json_t *value = json_object_get(body, name);
    int matches = value && (json_typeof(value) == wanted ||
                            ((wanted == JSON_TRUE || wanted == JSON_FALSE) && json_is_boolean(value)));
    if (!value)
        error_add_field(err, name, "is required");
    else if (!matches)
        error_add_field(err, name, "%s", body_type_wanted(wanted));
    return matches ? value : NULL;
}

int body_choose(const char *name, const char *value, const char *const choices[], mkt_error *err)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(value, choices[i]) == 0)
            return i;
    char list[256] = "";
    for (size_t i = 0; choices[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", choices[i]);
    error_add_field(err, name, "must be one of %s", list);
    return -1;
}

int body_choice(const json_t *body, const char *name, const char *const choices[], mkt_error *err)
{
    json_t *value = body_member(body, name, JSON_STRING, err);
    return value ? body_choose(name, json_string_value(value), choices, err) : -1;
}

#include "core/body.h"

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

/* Shape checks every strict JSON request body shares. Pure: jansson only. */
#ifndef CORE_BODY_H
#define CORE_BODY_H

#include <jansson.h>

#include "core/error.h"

/* Reports each member of body whose name is not in allowed (a NULL-terminated list) as an
 * "unknown field" field error on err. Returns how many it reported (0 when body is not an object). */
int body_unknown_fields(const json_t *body, const char *const allowed[], mkt_error *err);

#endif

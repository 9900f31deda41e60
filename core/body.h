/* Shape checks every strict JSON request body shares. Pure: jansson only. */
#ifndef CORE_BODY_H
#define CORE_BODY_H

#include <jansson.h>

#include "core/error.h"

/* Reports each member of body whose name is not in allowed (a NULL-terminated list) as an
 * "unknown field" field error on err. Returns how many it reported (0 when body is not an object). */
int body_unknown_fields(const json_t *body, const char *const allowed[], mkt_error *err);

/* The member name of body when it is there with the JSON type wanted (JSON_STRING, JSON_INTEGER, …);
 * otherwise NULL, with "is required" or "must be a string" / "must be an integer" / … reported on err. */
json_t *body_member(const json_t *body, const char *name, json_type wanted, mkt_error *err);

/* The index of value in choices (a NULL-terminated list); -1 with "must be one of a, b, c" on err
 * under name when it is none of them. For any named text from outside: a member's, a query
 * parameter's. */
int body_choose(const char *name, const char *value, const char *const choices[], mkt_error *err);

/* body_choose on the string member name of body; -1 with the problem on err when it is missing or
 * not a string (body_member) too. */
int body_choice(const json_t *body, const char *name, const char *const choices[], mkt_error *err);

#endif

/* Every route the server answers, gathered from one table per API area (fcgi/routes/<area>.c). */
#ifndef FCGI_ROUTES_H
#define FCGI_ROUTES_H

#include <stddef.h>

#include "fcgi/router.h"

extern const route routes_operations[];
extern const size_t routes_operations_count;
extern const route routes_accounts[];
extern const size_t routes_accounts_count;
extern const route routes_tools[];
extern const size_t routes_tools_count;
extern const route routes_receipts[];
extern const size_t routes_receipts_count;
extern const route routes_payouts[];
extern const size_t routes_payouts_count;
extern const route routes_transactions[];
extern const size_t routes_transactions_count;
extern const route routes_reviews[];
extern const size_t routes_reviews_count;
extern const route routes_moderation[];
extern const size_t routes_moderation_count;
extern const route routes_search[];
extern const size_t routes_search_count;
extern const route routes_activity[];
extern const size_t routes_activity_count;
extern const route routes_plugins[];
extern const size_t routes_plugins_count;
extern const route routes_api_keys[];
extern const size_t routes_api_keys_count;
extern const route routes_plans[];
extern const size_t routes_plans_count;

/* All routes in one array (built once per process). */
const route *routes_all(size_t *count);

/* Is value in the alphabet of path parameter `name` ({tool}: core/tool_record's reference; {id}:
 * core/ident's canonical id; {plugin}: a plugin name)? An unknown name is refused, so a new parameter must be added here. */
int routes_param_ok(const char *name, const char *value);
/* Every parameter router_match captured into req passes routes_param_ok. The worker checks this
 * before authentication and before any query: a path that cannot name a resource is 404 for
 * everyone, and odd bytes never reach SQL. */
int routes_params_ok(const request *req);

/* Helpers shared by the area files. */
/* Answers status with body; -1 when body is NULL (the core call failed and set err). */
int routes_reply(response *res, int status, json_t *body);
/* The same for a JSON document already serialised (malloc'd, taken; a trailing newline included). */
int routes_reply_text(response *res, int status, char *json_text);
/* The caller of a public route that may also be called signed in (an owner sees more): NULL when
 * the request carried no valid token. */
const account_caller *routes_caller(const request *req);
/* Sends 201 with a Location header "<base_path><prefix><id>" when the body has a string "id". */
void routes_created(request *req, response *res, json_t *body, const char *prefix);

#endif

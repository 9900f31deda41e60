/* Plans and usage: thin adapters to core/tool_plans (what a tool sells) and core/quota (what a
 * buyer used). */
#include <stdlib.h>

#include "core/quota.h"
#include "core/tool_plans.h"
#include "fcgi/routes/routes.h"

static int plans_get(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200,
                        tool_plans_get(req->db, routes_caller(req), request_param_value(req, "tool"), err));
}

static int plans_put(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200,
                        tool_plans_put(req->db, &req->caller, request_param_value(req, "tool"), req->json, err));
}

/* ?tool= narrows the list to one tool (an id or a slug). */
static int plans_usage(request *req, response *res, mkt_error *err)
{
    char *tool = request_query(req, "tool", err);
    if (!tool && error_is_set(err))
        return -1;
    json_t *out = quota_usage(req->db, &req->caller, tool, err);
    free(tool);
    return routes_reply(res, 200, out);
}

const route routes_plans[] = {
    {"GET", "/tools/{tool}/plans", plans_get, ROUTE_PUBLIC, 0},
    {"PUT", "/tools/{tool}/plans", plans_put, ROUTE_USER, ROUTE_BODY},
    {"GET", "/me/usage", plans_usage, ROUTE_USER, 0},
};
const size_t routes_plans_count = sizeof routes_plans / sizeof routes_plans[0];

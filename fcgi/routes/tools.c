/* Tools and categories: thin adapters from HTTP to core/tool_builder and core/tool_library.
 * Routes that act on one tool take any signed-in user and leave ownership to core, so a caller who
 * may not see a tool gets the same 404 as for a missing one, whatever their roles. */
#include <stdlib.h>
#include <string.h>

#include "core/tool_builder.h"
#include "core/tool_library.h"
#include "fcgi/routes/routes.h"

static const char *tools_ref(const request *req)
{
    return request_param_value(req, "tool");
}

static int tools_create(request *req, response *res, mkt_error *err)
{
    json_t *out = tool_builder_create(req->db, &req->caller, req->json, err);
    if (!out)
        return -1;
    routes_created(req, res, out, "/tools/");
    return 0;
}

static int tools_get(request *req, response *res, mkt_error *err)
{
    return routes_reply_text(res, 200, tool_library_get_text(req->db, routes_caller(req), tools_ref(req), err));
}

static int tools_update(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, tool_builder_update(req->db, &req->caller, tools_ref(req), req->json, err));
}

static int tools_delete(request *req, response *res, mkt_error *err)
{
    if (tool_builder_delist(req->db, &req->caller, tools_ref(req), err) < 0)
        return -1;
    response_empty(res, 204);
    return 0;
}

static int tools_validate(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, tool_builder_validate(req->db, req->cfg, &req->caller, tools_ref(req), err));
}

static int tools_test(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, tool_builder_test(req->db, req->cfg, &req->caller, tools_ref(req), err));
}

static int tools_publish(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 201,
                        tool_builder_publish(req->db, req->cfg, &req->caller, tools_ref(req), req->json, err));
}

static int tools_versions(request *req, response *res, mkt_error *err)
{
    int64_t page, per_page;
    if (request_paging(req, &page, &per_page, err) < 0)
        return -1;
    return routes_reply(res, 200,
                        tool_builder_versions(req->db, routes_caller(req), tools_ref(req), page, per_page, err));
}

/* ?trace=1 (or true) asks for the plugin chain's trace; 0, false or nothing does not. */
static int tools_execute(request *req, response *res, mkt_error *err)
{
    char *trace = request_query(req, "trace", err);
    if (!trace && error_is_set(err))
        return -1;
    int want = trace && (strcmp(trace, "1") == 0 || strcmp(trace, "true") == 0);
    int off = !trace || strcmp(trace, "0") == 0 || strcmp(trace, "false") == 0;
    free(trace);
    if (!want && !off) {
        error_set(err, ERROR_BAD_REQUEST, "trace must be 1, true, 0 or false");
        return error_add_field(err, "trace", "must be 1, true, 0 or false");
    }
    return routes_reply(res, 200, tool_library_execute_traced(req->db, req->cfg, &req->caller, tools_ref(req),
                                                              req->json, want, err));
}

static int tools_categories(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, tool_library_categories(req->db, err));
}

/* Literal segments under /tools/ (e.g. /tools/trending, fcgi/routes/activity.c) win over
 * /tools/{tool} in the router, and tool_fields refuses them as slugs. */
const route routes_tools[] = {
    {"POST", "/tools", tools_create, ROUTE_DEVELOPER, ROUTE_BODY},
    {"GET", "/tools/{tool}", tools_get, ROUTE_PUBLIC, ROUTE_REPLICA},
    {"PATCH", "/tools/{tool}", tools_update, ROUTE_USER, ROUTE_BODY},
    {"DELETE", "/tools/{tool}", tools_delete, ROUTE_USER, 0},
    {"POST", "/tools/{tool}/validate", tools_validate, ROUTE_USER, 0},
    {"POST", "/tools/{tool}/test", tools_test, ROUTE_USER, 0},
    {"POST", "/tools/{tool}/publish", tools_publish, ROUTE_USER, ROUTE_BODY},
    {"GET", "/tools/{tool}/versions", tools_versions, ROUTE_PUBLIC, 0},
    {"POST", "/tools/{tool}/execute", tools_execute, ROUTE_USER, ROUTE_BODY | ROUTE_API_KEY},
    {"GET", "/categories", tools_categories, ROUTE_PUBLIC, ROUTE_REPLICA},
};
const size_t routes_tools_count = sizeof routes_tools / sizeof routes_tools[0];

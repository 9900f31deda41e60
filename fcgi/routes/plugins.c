/* Plugins: thin adapters from HTTP to core/plugin_manager (the registry and each tool's plugin set). */
#include <stdlib.h>

#include "core/plugin_manager.h"
#include "fcgi/routes/routes.h"

static const char *plugins_name(const request *req)
{
    return request_param_value(req, "plugin");
}

static int plugins_create(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 201, plugin_manager_create(req->db, req->cfg, &req->caller, req->json, err));
}

static int plugins_add_version(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 201,
                        plugin_manager_add_version(req->db, req->cfg, &req->caller, plugins_name(req), req->json, err));
}

static int plugins_update(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, plugin_manager_update(req->db, &req->caller, plugins_name(req), req->json, err));
}

static int plugins_list(request *req, response *res, mkt_error *err)
{
    int64_t page, per_page;
    if (request_paging(req, &page, &per_page, err) < 0)
        return -1;
    char *q = request_query(req, "q", err);
    if (!q && error_is_set(err))
        return -1;
    int rc = routes_reply(res, 200, plugin_manager_list(req->db, q, page, per_page, err));
    free(q);
    return rc;
}

static int plugins_get(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, plugin_manager_get(req->db, plugins_name(req), err));
}

static int plugins_tool_set(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, plugin_manager_tool_set(req->db, &req->caller, request_param_value(req, "tool"),
                                                          req->json, err));
}

static int plugins_tool_get(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200,
                        plugin_manager_tool_get(req->db, routes_caller(req), request_param_value(req, "tool"), err));
}

const route routes_plugins[] = {
    {"POST", "/plugins", plugins_create, ROUTE_DEVELOPER, ROUTE_BODY},
    {"GET", "/plugins", plugins_list, ROUTE_PUBLIC, 0},
    {"GET", "/plugins/{plugin}", plugins_get, ROUTE_PUBLIC, 0},
    {"PATCH", "/plugins/{plugin}", plugins_update, ROUTE_USER, ROUTE_BODY},
    {"POST", "/plugins/{plugin}/versions", plugins_add_version, ROUTE_USER, ROUTE_BODY},
    {"PUT", "/tools/{tool}/plugins", plugins_tool_set, ROUTE_USER, ROUTE_BODY},
    {"GET", "/tools/{tool}/plugins", plugins_tool_get, ROUTE_PUBLIC, 0},
};
const size_t routes_plugins_count = sizeof routes_plugins / sizeof routes_plugins[0];

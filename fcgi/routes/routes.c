#include "fcgi/routes/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ident.h"
#include "core/plugin_resolve.h"
#include "core/tool_record.h"

const route *routes_all(size_t *count)
{
    static route *all;
    static size_t all_count;
    if (!all) {
        struct {
            const route *routes;
            size_t count;
        } areas[] = {
            {routes_operations, routes_operations_count},
            {routes_accounts, routes_accounts_count},
            {routes_tools, routes_tools_count},
            {routes_receipts, routes_receipts_count},
            {routes_payouts, routes_payouts_count},
            {routes_transactions, routes_transactions_count},
            {routes_reviews, routes_reviews_count},
            {routes_moderation, routes_moderation_count},
            {routes_search, routes_search_count},
            {routes_activity, routes_activity_count},
            {routes_plugins, routes_plugins_count},
            {routes_api_keys, routes_api_keys_count},
            {routes_plans, routes_plans_count},
        };
        size_t total = 0;
        for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++)
            total += areas[i].count;
        all = calloc(total, sizeof *all);
        if (!all) {
            *count = 0;
            return NULL;
        }
        for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++) {
            memcpy(all + all_count, areas[i].routes, areas[i].count * sizeof *all);
            all_count += areas[i].count;
        }
    }
    *count = all_count;
    return all;
}

void routes_created(request *req, response *res, json_t *body, const char *prefix)
{
    const char *id = json_string_value(json_object_get(body, "id"));
    response_json(res, 201, body);
    if (id) {
        char location[512];
        snprintf(location, sizeof location, "%s%s%s", req->cfg->base_path, prefix, id);
        response_header(res, "Location", location);
    }
}

int routes_reply(response *res, int status, json_t *body)
{
    if (!body)
        return -1;
    response_json(res, status, body);
    return 0;
}

int routes_reply_text(response *res, int status, char *json_text)
{
    if (!json_text)
        return -1;
    response_text(res, status, "application/json; charset=utf-8", json_text);
    return 0;
}

const account_caller *routes_caller(const request *req)
{
    return req->authenticated ? &req->caller : NULL;
}

static int routes_tool_ok(const char *value)
{
    tool_ref ref;
    return tool_record_ref_parse(value, &ref) == 0;
}

static int routes_id_ok(const char *value)
{
    int64_t id;
    return ident_id_parse(value, &id) == 0;
}

int routes_param_ok(const char *name, const char *value)
{
    static const struct {
        const char *name;
        int (*ok)(const char *value);
    } params[] = {
        {"tool", routes_tool_ok},
        {"id", routes_id_ok},
        {"plugin", plugin_name_valid},
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (strcmp(params[i].name, name) == 0)
            return value && params[i].ok(value);
    return 0;
}

int routes_params_ok(const request *req)
{
    for (size_t i = 0; i < req->param_count; i++)
        if (!routes_param_ok(req->params[i].name, req->params[i].value))
            return 0;
    return 1;
}

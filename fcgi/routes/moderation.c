/* Reports and moderation: thin adapters from HTTP to core/moderation and core/review_manager. Who may
 * call is decided here, by each route's access level: reports by any signed-in user, the queue and the
 * actions by moderators (and admins), the audit log by admins only. */
#include <stdlib.h>

#include "core/moderation.h"
#include "core/review_manager.h"
#include "fcgi/routes/routes.h"

static int moderation_review_report(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 202,
                        review_report(req->db, req->cfg, &req->caller, request_param_value(req, "id"), req->json, err));
}

static int moderation_tool_report_route(request *req, response *res, mkt_error *err)
{
    return routes_reply(
        res, 202, moderation_tool_report(req->db, &req->caller, request_param_value(req, "tool"), req->json, err));
}

static int moderation_queue_route(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, moderation_queue(req->db, err));
}

static int moderation_review_route(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200,
                        moderation_review(req->db, &req->caller, request_param_value(req, "id"), req->json, err));
}

static int moderation_tool_route(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200,
                        moderation_tool(req->db, &req->caller, request_param_value(req, "tool"), req->json, err));
}

static int moderation_audit_route(request *req, response *res, mkt_error *err)
{
    int64_t page, per_page;
    if (request_paging(req, &page, &per_page, err) < 0)
        return -1;
    char *actor = request_query(req, "actor", err);
    char *target = error_is_set(err) ? NULL : request_query(req, "target", err);
    json_t *out = error_is_set(err) ? NULL : moderation_audit_list(req->db, actor, target, page, per_page, err);
    free(actor);
    free(target);
    return routes_reply(res, 200, out);
}

const route routes_moderation[] = {
    {"POST", "/reviews/{id}/reports", moderation_review_report, ROUTE_USER, ROUTE_BODY},
    {"POST", "/tools/{tool}/reports", moderation_tool_report_route, ROUTE_USER, ROUTE_BODY},
    {"GET", "/moderation/queue", moderation_queue_route, ROUTE_MODERATOR, 0},
    {"POST", "/moderation/reviews/{id}", moderation_review_route, ROUTE_MODERATOR, ROUTE_BODY},
    {"POST", "/moderation/tools/{tool}", moderation_tool_route, ROUTE_MODERATOR, ROUTE_BODY},
    {"GET", "/moderation/audit", moderation_audit_route, ROUTE_ADMIN, 0},
};
const size_t routes_moderation_count = sizeof routes_moderation / sizeof routes_moderation[0];

/* Discovery's activity side: trending tools and recommendations, thin adapters to core/activity. */
#include <stdlib.h>

#include "core/activity.h"
#include "fcgi/routes/routes.h"

static int activity_route_trending(request *req, response *res, mkt_error *err)
{
    int64_t page, per_page;
    if (request_paging(req, &page, &per_page, err) < 0)
        return -1;
    char *window = request_query(req, "window_days", err);
    char *category = error_is_set(err) ? NULL : request_query(req, "category", err);
    char *out = error_is_set(err) ? NULL : activity_trending(req->db, req->cfg, window, category, page, per_page, err);
    free(window);
    free(category);
    return routes_reply_text(res, 200, out);
}

static int activity_route_tool(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200,
                        activity_recommendations(req->db, routes_caller(req), request_param_value(req, "tool"), err));
}

static int activity_route_me(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, activity_me_recommendations(req->db, &req->caller, err));
}

/* /tools/trending is a literal segment: the router prefers it to /tools/{tool}. */
const route routes_activity[] = {
    {"GET", "/tools/trending", activity_route_trending, ROUTE_PUBLIC, 0},
    {"GET", "/tools/{tool}/recommendations", activity_route_tool, ROUTE_PUBLIC, 0},
    {"GET", "/me/recommendations", activity_route_me, ROUTE_USER, 0},
};
const size_t routes_activity_count = sizeof routes_activity / sizeof routes_activity[0];

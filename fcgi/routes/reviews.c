/* Reviews, helpful votes and the developer's reply: thin adapters from HTTP to core/review_manager,
 * which checks authorship, ownership and visibility itself. */
#include <stdlib.h>

#include "core/review_manager.h"
#include "fcgi/routes/routes.h"

static const char *reviews_id(const request *req)
{
    return request_param_value(req, "id");
}

static int reviews_create(request *req, response *res, mkt_error *err)
{
    json_t *out = review_create(req->db, req->cfg, &req->caller, req->json, err);
    if (!out)
        return -1;
    routes_created(req, res, out, "/reviews/");
    return 0;
}

static int reviews_update(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, review_update(req->db, &req->caller, reviews_id(req), req->json, err));
}

static int reviews_delete(request *req, response *res, mkt_error *err)
{
    if (review_delete(req->db, &req->caller, reviews_id(req), err) < 0)
        return -1;
    response_empty(res, 204);
    return 0;
}

static int reviews_list(request *req, response *res, mkt_error *err)
{
    int64_t page, per_page;
    if (request_paging(req, &page, &per_page, err) < 0)
        return -1;
    char *sort = request_query(req, "sort", err);
    if (!sort && error_is_set(err))
        return -1;
    json_t *out = review_list(req->db, routes_caller(req), request_param_value(req, "tool"), sort, page, per_page, err);
    free(sort);
    return routes_reply(res, 200, out);
}

static int reviews_vote(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, review_vote(req->db, &req->caller, reviews_id(req), req->json, err));
}

static int reviews_unvote(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, review_unvote(req->db, &req->caller, reviews_id(req), err));
}

static int reviews_respond(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 201, review_respond(req->db, &req->caller, reviews_id(req), req->json, err));
}

const route routes_reviews[] = {
    {"POST", "/reviews", reviews_create, ROUTE_USER, ROUTE_BODY},
    {"PATCH", "/reviews/{id}", reviews_update, ROUTE_USER, ROUTE_BODY},
    {"DELETE", "/reviews/{id}", reviews_delete, ROUTE_USER, 0},
    {"GET", "/tools/{tool}/reviews", reviews_list, ROUTE_PUBLIC, ROUTE_REPLICA},
    {"POST", "/reviews/{id}/votes", reviews_vote, ROUTE_USER, ROUTE_BODY},
    {"DELETE", "/reviews/{id}/votes", reviews_unvote, ROUTE_USER, 0},
    {"POST", "/reviews/{id}/response", reviews_respond, ROUTE_USER, ROUTE_BODY},
};
const size_t routes_reviews_count = sizeof routes_reviews / sizeof routes_reviews[0];

/* Discovery: GET /search and GET /search/suggest, thin adapters to core/discovery. Unknown query
 * parameters are ignored, as on every list. */
#include <stdlib.h>

#include "core/discovery.h"
#include "fcgi/routes/routes.h"

#define SEARCH_PARAM_COUNT 10
static const char *const search_param_names[SEARCH_PARAM_COUNT] = {
    "q", "category", "tags", "min_rating", "max_price_cents", "pricing", "developer", "sort", "page", "per_page",
};

static int search_run_route(request *req, response *res, mkt_error *err)
{
    char *v[SEARCH_PARAM_COUNT] = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < SEARCH_PARAM_COUNT; i++) {
        v[i] = request_query(req, search_param_names[i], err);
        if (!v[i] && error_is_set(err))
            rc = -1;
    }
    if (rc == 0) {
        discovery_params p = {.q = v[0], .category = v[1], .tags = v[2], .min_rating = v[3],
                              .max_price_cents = v[4], .pricing = v[5], .developer = v[6], .sort = v[7],
                              .page = v[8], .per_page = v[9]};
        rc = routes_reply_text(res, 200, discovery_search(req->db, req->cfg, &p, err));
    }
    for (size_t i = 0; i < SEARCH_PARAM_COUNT; i++)
        free(v[i]);
    return rc;
}

static int search_suggest_route(request *req, response *res, mkt_error *err)
{
    char *q = request_query(req, "q", err);
    if (!q && error_is_set(err))
        return -1;
    int rc = routes_reply(res, 200, discovery_suggest(req->db, q, err));
    free(q);
    return rc;
}

const route routes_search[] = {
    {"GET", "/search", search_run_route, ROUTE_PUBLIC, ROUTE_REPLICA | ROUTE_REPLICA_SQL},
    {"GET", "/search/suggest", search_suggest_route, ROUTE_PUBLIC, 0},
};
const size_t routes_search_count = sizeof routes_search / sizeof routes_search[0];

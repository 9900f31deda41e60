/* Routing by method and path pattern. Patterns are '/'-separated segments; "{name}" captures one
 * segment. When several patterns match a path, literal segments win over parameters, compared from
 * the left: /tools/trending beats /tools/{tool}. A path that matches some pattern but not the method
 * gives 405 with the allowed methods. */
#ifndef FCGI_ROUTER_H
#define FCGI_ROUTER_H

#include <stddef.h>

#include "fcgi/request.h"
#include "fcgi/response.h"

typedef enum {
    ROUTE_PUBLIC,    /* anyone */
    ROUTE_USER,      /* any signed-in user */
    ROUTE_DEVELOPER, /* role developer (admins pass too) */
    ROUTE_MODERATOR, /* role moderator (admins pass too) */
    ROUTE_ADMIN,
} route_access;

typedef int (*route_handler)(request *req, response *res, mkt_error *err);

typedef struct {
    const char *method;
    const char *pattern;
    route_handler handler;
    route_access access;
    unsigned flags; /* ROUTE_BODY | ROUTE_NO_DB | ROUTE_API_KEY | ROUTE_NO_STORE | ROUTE_REPLICA[_SQL] */
} route;

enum {
    ROUTE_BODY = 1u << 0,  /* parse the body as JSON (req->json) before calling the handler */
    ROUTE_NO_DB = 1u << 1, /* the handler works without a database connection (req->db may be NULL) */
    /* an API key (core/api_key.h) may call it; besides these only public GETs take a key, every other
     * route answers a key with 403 */
    ROUTE_API_KEY = 1u << 2,
    /* a public GET no cache may keep (health, metrics: each answer must be the current one); every
     * other public GET gets an ETag and may be kept (fcgi/response.h, response_cache) */
    ROUTE_NO_STORE = 1u << 3,
    /* a GET whose read tolerates a few seconds of lag: served from the read replica when one is
     * configured and fresh (fcgi/replica.h) */
    ROUTE_REPLICA = 1u << 4,
    /* with ROUTE_REPLICA: only when search_engine = sql (the in-memory index follows the primary) */
    ROUTE_REPLICA_SQL = 1u << 5,
};

typedef enum { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED } router_result;

/* Finds the route for method + path. On ROUTER_FOUND, *found is set and the captured parameters are
 * stored in req (percent-decoded). On ROUTER_METHOD_NOT_ALLOWED, allow gets "GET, POST". */
router_result router_match(const route *routes, size_t count, request *req, const route **found, char *allow,
                           size_t allow_size);

#endif

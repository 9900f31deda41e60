/* API keys: thin adapters from HTTP to core/api_key. None of these takes a key (no ROUTE_API_KEY):
 * keys are made, listed and revoked by a signed-in user. */
#include "core/api_key.h"
#include "fcgi/routes/routes.h"
#include "fcgi/worker.h"

static int api_keys_create(request *req, response *res, mkt_error *err)
{
    json_t *out = api_key_create(req->db, &req->caller, req->json, err);
    if (!out)
        return -1;
    response_header(res, "Cache-Control", "no-store"); /* the one answer that holds the key */
    routes_created(req, res, out, "/me/api-keys/");
    return 0;
}

static int api_keys_list(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, api_key_list(req->db, &req->caller, err));
}

static int api_keys_revoke(request *req, response *res, mkt_error *err)
{
    if (api_key_revoke(req->db, &req->caller, request_param_value(req, "id"), err) < 0)
        return -1;
    worker_auth_changed(req->worker); /* every worker's auth cache forgets the key now */
    response_empty(res, 204);
    return 0;
}

const route routes_api_keys[] = {
    {"POST", "/me/api-keys", api_keys_create, ROUTE_USER, ROUTE_BODY},
    {"GET", "/me/api-keys", api_keys_list, ROUTE_USER, 0},
    {"DELETE", "/me/api-keys/{id}", api_keys_revoke, ROUTE_USER, 0},
};
const size_t routes_api_keys_count = sizeof routes_api_keys / sizeof routes_api_keys[0];

/* Accounts and developers: thin adapters from HTTP to core/account. */
#include <stdlib.h>
#include <string.h>

#include "core/account.h"
#include "core/tool_library.h"
#include "fcgi/auth_cache.h"
#include "fcgi/routes/routes.h"
#include "fcgi/session_cookie.h"
#include "fcgi/worker.h"

/* A new session's answer: as it is for "session": "token"; for "cookie" the token moves from the
 * body into the HttpOnly cookie, so no page script ever sees it. */
static int accounts_session_reply(request *req, response *res, int status, json_t *out)
{
    account_session_kind kind = ACCOUNT_SESSION_TOKEN;
    if (out && account_session_kind_of(req->json, &kind, NULL) == 0 && kind == ACCOUNT_SESSION_COOKIE) {
        session_cookie_set(req, res, json_string_value(json_object_get(out, "token")), req->cfg->token_ttl);
        json_object_del(out, "token");
    }
    return routes_reply(res, status, out);
}

static int accounts_register(request *req, response *res, mkt_error *err)
{
    return accounts_session_reply(req, res, 201, account_register(req->db, req->cfg, req->json, err));
}

static int accounts_login(request *req, response *res, mkt_error *err)
{
    return accounts_session_reply(req, res, 200, account_login(req->db, req->cfg, req->json, err));
}

static int accounts_logout(request *req, response *res, mkt_error *err)
{
    if (account_logout(req->db, &req->caller, err) < 0)
        return -1;
    worker_auth_changed(req->worker);
    session_cookie_clear(req, res); /* whichever way the session came, a browser drops its cookie */
    response_empty(res, 204);
    return 0;
}

/* From this worker's profile cache while the auth epoch stands (fcgi/auth_cache.h). */
static int accounts_me(request *req, response *res, mkt_error *err)
{
    uint64_t epoch = worker_auth_epoch(req->worker); /* before the read, so a bump after it wins */
    char *text = auth_cache_profile_lookup(req->caller.user_id, epoch);
    if (text)
        return routes_reply_text(res, 200, text);
    json_t *me = account_me(req->db, &req->caller, err);
    if (!me)
        return -1;
    char *body = json_dumps(me, JSON_COMPACT);
    size_t n = body ? strlen(body) : 0;
    if (body && n + 2 <= AUTH_CACHE_PROFILE_BYTES && (text = malloc(n + 2))) {
        memcpy(text, body, n);
        memcpy(text + n, "\n", 2);
        auth_cache_profile_store(req->caller.user_id, epoch, text);
    }
    free(text);
    free(body);
    return routes_reply(res, 200, me);
}

static int accounts_developer_create(request *req, response *res, mkt_error *err)
{
    json_t *out = account_developer_create(req->db, &req->caller, req->json, err);
    if (!out)
        return -1;
    worker_auth_changed(req->worker); /* the caller gained role developer */
    routes_created(req, res, out, "/developers/");
    return 0;
}

/* The public profile plus the developer's published tools. */
static int accounts_developer_get(request *req, response *res, mkt_error *err)
{
    json_t *developer = account_developer_get(req->db, request_param_value(req, "id"), err);
    if (!developer)
        return -1;
    json_t *tools = tool_library_developer_tools(
        req->db, strtoll(json_string_value(json_object_get(developer, "id")), NULL, 10), err);
    if (!tools) {
        json_decref(developer);
        return -1;
    }
    json_object_set_new(developer, "tools", tools);
    return routes_reply(res, 200, developer);
}

const route routes_accounts[] = {
    {"POST", "/auth/register", accounts_register, ROUTE_PUBLIC, ROUTE_BODY},
    {"POST", "/auth/login", accounts_login, ROUTE_PUBLIC, ROUTE_BODY},
    {"POST", "/auth/logout", accounts_logout, ROUTE_USER, 0},
    {"GET", "/me", accounts_me, ROUTE_USER, 0},
    {"POST", "/developers", accounts_developer_create, ROUTE_USER, ROUTE_BODY},
    {"GET", "/developers/{id}", accounts_developer_get, ROUTE_PUBLIC, 0},
};
const size_t routes_accounts_count = sizeof routes_accounts / sizeof routes_accounts[0];

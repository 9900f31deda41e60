#include "fcgi/worker.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "core/account.h"
#include "core/api_key.h"
#include "core/auth.h"
#include "core/log.h"
#include "core/service.h"
#include "core/signing.h"
#include "core/view_epoch.h"
#include "fcgi/access_log.h"
#include "fcgi/auth_cache.h"
#include "fcgi/replica.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/router.h"
#include "fcgi/session_cookie.h"
#include "fcgi/routes/routes.h"

struct worker {
    const config *cfg;
    const jws_keyring *keys; /* signing keys: loaded by the master before fork (core/signing.h) */
    int listen_fd;
    scoreboard *sb;
    scoreboard_slot *slot;
    db *db;
    replica replica; /* the read replica's connection (fcgi/replica.h); unused without one */
    pid_t master_pid;
    uint64_t last_request_ms;
};

/* MariaDB drops connections idle past wait_timeout; a worker that sat idle this long checks its
 * connection before the first statement, so an unretried write does not meet a dead socket. */
#define WORKER_IDLE_PING_MS 60000
/* A connection nginx keeps (fastcgi_keep_conn, docs/performance.md) is given up after this long
 * without a request on it: while the worker waits on it, it accepts nothing else, so connections
 * other nginx processes opened wait behind one idle in nginx's pool. */
#define WORKER_KEPT_IDLE_MS 2
/* Retry-After of a 503 for want of the database (a restart of MariaDB takes a few seconds) */
#define WORKER_UNAVAILABLE_RETRY_AFTER 5

/* Set from the signal handler; the accept loop checks it between requests, so a request in hand is
 * always answered before the worker leaves. */
static volatile sig_atomic_t worker_stop_requested;

static void worker_on_stop_signal(int sig)
{
    (void)sig;
    worker_stop_requested = 1;
}

/* Stop signals stay blocked while a request is in hand, so no read or write to nginx or MariaDB is
 * ever cut short by EINTR; they are let through only inside ppoll(), atomically, which closes the
 * window between checking the flag and going to sleep. The sandbox's timer signal is not among them
 * (and the sandbox unblocks it for each run); it only fires during a run, with SA_RESTART. */
static sigset_t worker_wait_mask;

/* What each signal does in a worker: stop signals set the flag, the rest are ignored or defaulted. */
static const struct {
    int sig;
    void (*handler)(int);
} worker_signal_table[] = {
    {SIGTERM, worker_on_stop_signal}, {SIGQUIT, worker_on_stop_signal}, {SIGINT, worker_on_stop_signal},
    {SIGPIPE, SIG_IGN},               {SIGHUP, SIG_IGN},                {SIGCHLD, SIG_DFL},
};

static void worker_install_signals(void)
{
    sigset_t blocked;
    sigemptyset(&blocked);
    for (size_t i = 0; i < sizeof worker_signal_table / sizeof worker_signal_table[0]; i++) {
        struct sigaction sa = {.sa_handler = worker_signal_table[i].handler};
        sigemptyset(&sa.sa_mask);
        sigaction(worker_signal_table[i].sig, &sa, NULL);
        if (worker_signal_table[i].handler == worker_on_stop_signal)
            sigaddset(&blocked, worker_signal_table[i].sig);
    }
    sigprocmask(SIG_SETMASK, &blocked, NULL);
    sigemptyset(&worker_wait_mask);
}

db *worker_db(worker *w, mkt_error *err)
{
    if (!w->db)
        return w->db = db_open(w->cfg, err);
    uint64_t now = scoreboard_now_ms();
    if (now - w->last_request_ms > WORKER_IDLE_PING_MS && db_ping(w->db, err) < 0)
        return NULL;
    w->last_request_ms = now;
    return w->db;
}

void worker_auth_changed(worker *w)
{
    __atomic_add_fetch(&w->sb->auth_epoch, 1, __ATOMIC_ACQ_REL);
}

uint64_t worker_auth_epoch(const worker *w)
{
    return __atomic_load_n(&w->sb->auth_epoch, __ATOMIC_ACQUIRE);
}

const scoreboard *worker_scoreboard(const worker *w)
{
    return w->sb;
}

static uint64_t worker_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int worker_has_role(const account_caller *caller, route_access access)
{
    unsigned roles = caller->roles;
    if (roles & ACCOUNT_ROLE_ADMIN)
        return 1;
    switch (access) {
    case ROUTE_PUBLIC:
    case ROUTE_USER:
        return 1;
    case ROUTE_DEVELOPER:
        return (roles & ACCOUNT_ROLE_DEVELOPER) != 0;
    case ROUTE_MODERATOR:
        return (roles & ACCOUNT_ROLE_MODERATOR) != 0;
    case ROUTE_ADMIN:
        return 0;
    }
    return 0;
}

/* The token that authenticates req: the Bearer header, else the session cookie (into cookie).
 * A cookie on a state-changing request without the X-Requested-With header is refused with 403
 * on a protected route (NULL, with err set) and ignored on a public one, which needs no caller
 * (NULL). NULL also when there is no token at all. */
static const char *worker_token(request *req, const route *rt, char cookie[SESSION_COOKIE_TOKEN_SIZE],
                                int *from_cookie, mkt_error *err)
{
    const char *token = request_bearer_token(req);
    if (token || !session_cookie_read(req, cookie))
        return token;
    if (!session_cookie_request_allowed(req)) {
        if (rt->access != ROUTE_PUBLIC)
            session_cookie_refuse(err);
        return NULL;
    }
    *from_cookie = 1;
    return cookie;
}

/* An API key authenticates only the routes marked ROUTE_API_KEY (running a tool) and public GETs;
 * everything else (buying, payouts, account changes, reviews, its own keys) needs a signed-in user.
 * A key that passes is throttled per minute and its use counted (core/api_key). */
static int worker_key_allowed(worker *w, request *req, const route *rt, mkt_error *err)
{
    int public_read = rt->access == ROUTE_PUBLIC && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0);
    if (!(rt->flags & ROUTE_API_KEY) && !public_read)
        return error_set(err, ERROR_FORBIDDEN, "an API key may only run tools and read public data; sign in for this");
    if (!req->db && !(req->db = worker_db(w, err))) /* a replica route has none yet; key use is a write */
        return -1;
    return api_key_use(req->db, w->cfg, &req->caller, err);
}

static int worker_replica_route(const worker *w, const request *req, const route *rt);

static int worker_auth_resolve(request *req, const char *token, mkt_error *err)
{
    return auth_is_api_key(token) ? api_key_authenticate(req->db, token, &req->caller, err)
                                  : account_authenticate(req->db, token, &req->caller, err);
}

/* Resolves an uncached token on the primary; for a replica route whose primary is unreachable (no
 * connection, or one lost during the lookup) on the replica (a session there is at most
 * replica_max_lag old, and the route is a public read), so replica reads continue through a primary
 * outage for signed-in callers too. */
static int worker_auth_lookup(worker *w, request *req, const route *rt, const char *token, mkt_error *err)
{
    if (req->db || (req->db = worker_db(w, err))) {
        int rc = worker_auth_resolve(req, token, err);
        if (rc == 0 || err->kind != ERROR_UNAVAILABLE || req->db == w->replica.conn)
            return rc;
    }
    db *replica_db = err->kind == ERROR_UNAVAILABLE && worker_replica_route(w, req, rt) ? replica_fallback(&w->replica, w->cfg) : NULL;
    if (!replica_db)
        return -1;
    error_clear(err);
    req->db = replica_db;
    return worker_auth_resolve(req, token, err);
}

/* Resolves the caller. Protected routes need a valid token; on public routes a token, when given,
 * is still resolved so handlers can tailor the answer (an owner sees drafts). */
static int worker_authenticate(worker *w, request *req, const route *rt, int *from_cookie, mkt_error *err)
{
    char cookie[SESSION_COOKIE_TOKEN_SIZE];
    const char *token = worker_token(req, rt, cookie, from_cookie, err);
    if (error_is_set(err))
        return -1;
    if (!token) {
        if (rt->access == ROUTE_PUBLIC)
            return 0;
        return error_set(err, ERROR_UNAUTHORIZED, "missing bearer token or session cookie");
    }
    uint64_t epoch = worker_auth_epoch(w);
    int is_key = auth_is_api_key(token);
    if (!auth_cache_lookup(token, epoch, &req->caller)) {
        if (worker_auth_lookup(w, req, rt, token, err) < 0) {
            if (rt->access == ROUTE_PUBLIC && err->kind == ERROR_UNAUTHORIZED) {
                error_clear(err);
                return 0;
            }
            return -1;
        }
        auth_cache_store(token, epoch, &req->caller);
    }
    req->authenticated = 1;
    if (is_key && worker_key_allowed(w, req, rt, err) < 0)
        return -1;
    if (!worker_has_role(&req->caller, rt->access))
        return error_set(err, ERROR_FORBIDDEN, "this action needs a role the caller does not have");
    return 0;
}

/* A GET of a public route may be kept by caches (fcgi/response.h): by anyone when the request
 * carries no credentials at all (no Authorization — a session token or an API key — and no cookie:
 * what nginx's microcache also requires), else only by the caller's own browser. */
static void worker_cache_policy(const request *req, const route *rt, response *res)
{
    if (strcmp(req->method, "GET") != 0 || rt->access != ROUTE_PUBLIC || (rt->flags & ROUTE_NO_STORE))
        return;
    int anonymous = !request_header(req, "HTTP_AUTHORIZATION") && !request_header(req, "HTTP_COOKIE");
    res->cache = anonymous ? RESPONSE_PUBLIC : RESPONSE_PRIVATE;
    /* nginx clears HTTP_IF_NONE_MATCH where its microcache is on and passes the header as
     * IF_NONE_MATCH (both nginx configurations); only a private answer may use that copy, so a 304 never lands in
     * the shared cache */
    res->if_none_match = request_header(req, "HTTP_IF_NONE_MATCH");
    if (!res->if_none_match && !anonymous)
        res->if_none_match = request_header(req, "IF_NONE_MATCH");
}

/* May this request's read go to the replica? Only GETs of routes marked for it; a search only with
 * the SQL engine (the in-memory index follows the primary's search feed, which must not lag). */
static int worker_replica_route(const worker *w, const request *req, const route *rt)
{
    if (!(rt->flags & ROUTE_REPLICA) || strcmp(req->method, "GET") != 0 || !replica_configured(w->cfg))
        return 0;
    return !(rt->flags & ROUTE_REPLICA_SQL) || (w->cfg->search_engine && strcmp(w->cfg->search_engine, "sql") == 0);
}

/* Chooses the connection of a replica route once the caller is known: a caller who wrote on this host
 * within the read-your-writes window, a lagging or unreachable replica -> the primary. */
static int worker_choose_db(worker *w, request *req, mkt_error *err)
{
    db *replica_db = NULL;
    if (!req->authenticated || !replica_wrote_recently(w->sb, req->caller.user_id, w->cfg->replica_ryw_window))
        replica_db = replica_pick(&w->replica, w->cfg);
    if (replica_db) {
        req->db = replica_db;
        __atomic_add_fetch(&w->sb->replica_reads, 1, __ATOMIC_RELAXED);
        return 0;
    }
    if (req->db && req->db != w->replica.conn)
        return 0;
    if ((req->db = worker_db(w, err)))
        return 0;
    if ((req->db = replica_fallback(&w->replica, w->cfg)))
        error_clear(err);
    return req->db ? 0 : -1;
}

/* A replica-route read that lost its database runs once more on the other one, from a fresh response
 * (keeping the cache policy the worker set): a replica read on the primary, a primary read on the
 * replica even when cut off from the primary. So neither going away fails a read that the other can
 * serve. */
static int worker_retry_elsewhere(worker *w, const route *rt, request *req, response *res, mkt_error *err)
{
    db *other;
    mkt_error other_err = MKT_ERROR_INIT;
    if (req->db == w->replica.conn) {
        replica_failed(&w->replica);
        other = worker_db(w, &other_err);
    } else {
        other = replica_fallback(&w->replica, w->cfg);
    }
    error_clear(&other_err);
    if (!other)
        return -1; /* err still says why the first try failed */
    error_clear(err);
    response_cache cache = res->cache;
    const char *if_none_match = res->if_none_match;
    response_free(res);
    res->cache = cache;
    res->if_none_match = if_none_match;
    req->db = other;
    return rt->handler(req, res, err);
}

static int worker_dispatch(worker *w, request *req, response *res, mkt_error *err)
{
    size_t route_count;
    const route *routes = routes_all(&route_count);
    const route *rt = NULL;
    char allow[128];
    switch (router_match(routes, route_count, req, &rt, allow, sizeof allow)) {
    case ROUTER_NOT_FOUND:
        return error_set(err, ERROR_NOT_FOUND, "no such resource");
    case ROUTER_METHOD_NOT_ALLOWED:
        response_header(res, "Allow", allow);
        return error_set(err, ERROR_METHOD_NOT_ALLOWED, "%s is not allowed here; allowed: %s", req->method, allow);
    case ROUTER_FOUND:
        break;
    }
    if (!routes_params_ok(req))
        return error_set(err, ERROR_NOT_FOUND, "no such resource");
    worker_cache_policy(req, rt, res);
    int to_replica = worker_replica_route(w, req, rt);
    if (!(rt->flags & ROUTE_NO_DB) && !to_replica && !(req->db = worker_db(w, err)))
        return -1;
    int from_cookie = 0;
    if (worker_authenticate(w, req, rt, &from_cookie, err) < 0) {
        if (err->kind == ERROR_UNAUTHORIZED)  /* RFC 6750: say whether the token itself was the problem */
            response_header(res, "WWW-Authenticate",
                            request_bearer_token(req) ? "Bearer realm=\"marketplace\", error=\"invalid_token\""
                                                      : "Bearer realm=\"marketplace\"");
        if (err->kind == ERROR_UNAUTHORIZED && from_cookie)
            session_cookie_clear(req, res); /* expired or revoked: the browser may as well forget it */
        return -1;
    }
    if ((rt->flags & ROUTE_BODY) && request_parse_json(req, err) < 0)
        return -1;
    if (to_replica && worker_choose_db(w, req, err) < 0)
        return -1;
    int rc = rt->handler(req, res, err);
    if (rc < 0 && err->kind == ERROR_UNAVAILABLE && to_replica && req->db)
        rc = worker_retry_elsewhere(w, rt, req, res, err);
    return rc;
}

/* Read-your-writes (fcgi/replica.h): a signed-in caller's state-changing request, answered or not,
 * keeps their reads on the primary for replica_ryw_window seconds. Noted before the answer leaves, so
 * the caller's next request already sees it. */
static void worker_note_write(worker *w, const request *req)
{
    if (req->authenticated && req->method && strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        replica_configured(w->cfg))
        replica_note_write(w->sb, req->caller.user_id);
}

static void worker_handle(worker *w, FCGX_Request *fcgi)
{
    uint64_t started = worker_now_us();
    scoreboard_request_begin(w->slot);
    request req = {.worker = w};
    response res = {0};
    mkt_error err = MKT_ERROR_INIT;

    int rc = request_read(&req, fcgi, w->cfg, &err);
    req.keys = w->keys;
    log_set_request_id(req.request_id); /* money events deep in core name the request */
    if (rc == 0)
        rc = worker_dispatch(w, &req, &res, &err);
    if (rc < 0) {
        if (err.kind == ERROR_UNAVAILABLE && err.retry_after == 0)
            err.retry_after = WORKER_UNAVAILABLE_RETRY_AFTER;
        if (err.kind == ERROR_INTERNAL || err.kind == ERROR_NONE)
            log_error("request %s %s failed: %s", req.request_id, req.path ? req.path : "?",
                      err.message ? err.message : "(no detail)");
        response_problem(&res, &err, req.path, req.request_id);
    }
    worker_note_write(w, &req);
    view_epoch_flush(); /* what this request changed is committed: drop every worker's copy before answering */
    response_send(&res, fcgi->out, req.request_id);
    uint64_t duration = worker_now_us() - started;
    access_log_write(&req, res.status, duration, &err);
    scoreboard_request_end(w->sb, w->slot, res.status, duration);
    log_set_request_id(NULL);
    error_clear(&err);
    response_free(&res);
    request_free(&req);
}

/* Waits until the listen socket is readable, a stop is requested, or a second passes (to notice a
 * vanished master). Returns 1 when a connection may be waiting. */
static int worker_wait_readable(worker *w)
{
    struct pollfd pfd = {.fd = w->listen_fd, .events = POLLIN};
    struct timespec second = {1, 0};
    int n = ppoll(&pfd, 1, &second, &worker_wait_mask);
    if (n < 0 && errno != EINTR)
        log_warn("poll on listen socket: %s", strerror(errno));
    if (getppid() != w->master_pid)
        worker_stop_requested = 1;
    return n > 0;
}

/* libfcgi leaves a connection nginx asked to keep open after FCGX_Finish_r, and FCGX_Accept_r would
 * block reading it. Returns 1 when the next request is on it (or nginx closed it: FCGX_Accept_r then
 * reads the end and goes back to the listen socket). Otherwise, as soon as a new connection waits on
 * the listen socket or after WORKER_KEPT_IDLE_MS, closes it and returns 0: a connection that
 * another nginx process opened must not wait behind one kept by this worker. nginx sees the close
 * and drops the connection from its pool. */
static int worker_wait_kept(worker *w, FCGX_Request *fcgi)
{
    struct pollfd pfd[2] = {{.fd = fcgi->ipcFd, .events = POLLIN}, {.fd = w->listen_fd, .events = POLLIN}};
    struct timespec idle = {0, WORKER_KEPT_IDLE_MS * 1000000L};
    if (ppoll(pfd, 2, &idle, &worker_wait_mask) > 0 && (pfd[0].revents & (POLLIN | POLLHUP)) && !worker_stop_requested)
        return 1;
    /* A plain close: libfcgi's own (FCGX_Free(fcgi, 1)) would wait up to 2 s for nginx to close its
     * end first, and the worker would serve nobody meanwhile. Nothing is unread on it. */
    FCGX_Free(fcgi, 0);
    close(fcgi->ipcFd);
    fcgi->ipcFd = -1;
    return 0;
}

/* The worker's side of the lifecycle seam: hooks reach the connection through worker_db. */
static db *worker_service_db(service_worker *sw, mkt_error *err)
{
    return worker_db(sw->owner, err);
}

int worker_run(const config *cfg, int listen_fd, scoreboard *sb, int slot_index)
{
    worker w = {.cfg = cfg, .keys = signing_keys(), .listen_fd = listen_fd, .sb = sb, .slot = &sb->slots[slot_index],
                .master_pid = getppid()};
    service_worker hooks = {.cfg = cfg, .db = worker_service_db, .owner = &w};
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    worker_install_signals();
    FCGX_Init();
    FCGX_Request fcgi;
    /* The listen socket is non-blocking: workers woken together race for a connection and the losers
     * get EAGAIN back from accept instead of blocking where a stop signal could not reach them. */
    FCGX_InitRequest(&fcgi, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);

    mkt_error err = MKT_ERROR_INIT;
    w.db = db_open(cfg, &err);
    if (!w.db)
        log_warn("database not reachable at start (%s); will retry per request", err.message ? err.message : "");
    error_clear(&err);
    scoreboard_set_state(w.slot, SLOT_IDLE);
    w.last_request_ms = scoreboard_now_ms();

    uint64_t served = 0;
    while (!worker_stop_requested) {
        if (cfg->max_requests > 0 && served >= (uint64_t)cfg->max_requests)
            break;
        if (fcgi.ipcFd >= 0) {
            if (!worker_wait_kept(&w, &fcgi))
                continue;
        } else {
            if (!worker_wait_readable(&w)) {
                service_worker_idle(&hooks);
                continue;
            }
            if (worker_stop_requested)
                continue;
        }
        if (FCGX_Accept_r(&fcgi) < 0)
            continue;
        worker_handle(&w, &fcgi);
        FCGX_Finish_r(&fcgi);
        served++;
        service_worker_after_request(&hooks);
    }
    scoreboard_set_state(w.slot, SLOT_EXITING);
    service_worker_exit(&hooks);
    FCGX_Free(&fcgi, 1); /* a kept connection too */
    db_close(w.db);
    replica_close(&w.replica);
    return 0;
}

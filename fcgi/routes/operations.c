/* Operations: health for load balancers and systemd checks, Prometheus metrics. */
#include <stdlib.h>

#include "fcgi/routes/routes.h"
#include "fcgi/worker.h"

static int operations_health(request *req, response *res, mkt_error *err)
{
    (void)err;
    mkt_error db_err = MKT_ERROR_INIT;
    db *db = worker_db(req->worker, &db_err);
    int up = db && db_ping(db, &db_err) == 0;
    error_clear(&db_err);
    response_json(res, up ? 200 : 503,
                  json_pack("{s:s, s:s}", "status", up ? "ok" : "unavailable", "db", up ? "up" : "down"));
    return 0;
}

static int operations_metrics(request *req, response *res, mkt_error *err)
{
    char *text = scoreboard_render(worker_scoreboard(req->worker));
    if (!text)
        return error_set(err, ERROR_INTERNAL, "cannot render metrics");
    response_text(res, 200, "text/plain; version=0.0.4; charset=utf-8", text);
    return 0;
}

const route routes_operations[] = {
    {"GET", "/health", operations_health, ROUTE_PUBLIC, ROUTE_NO_DB | ROUTE_NO_STORE},
    {"GET", "/metrics", operations_metrics, ROUTE_PUBLIC, ROUTE_NO_DB | ROUTE_NO_STORE},
};
const size_t routes_operations_count = sizeof routes_operations / sizeof routes_operations[0];

/* Developer money (earnings, analytics, payouts) and the payout processor's redeem: thin adapters
 * from HTTP to core/earnings and core/payout. Ownership is the caller's own developer profile; core
 * checks it again. */
#include <stdlib.h>
#include <string.h>

#include "core/earnings.h"
#include "core/payout.h"
#include "fcgi/routes/routes.h"

#define PAYOUTS_PER_PAGE_DEFAULT 20
#define PAYOUTS_PER_PAGE_MAX 100
#define PAYOUTS_PAGE_MAX 1000000

/* A positive integer query parameter within [1, max]; absent gives def. 400 naming it otherwise. */
static int payouts_query_int(request *req, const char *name, int64_t def, int64_t max, int64_t *out, mkt_error *err)
{
    char *text = request_query(req, name, err);
    if (!text) {
        if (error_is_set(err))
            return -1;
        *out = def;
        return 0;
    }
    size_t len = strlen(text);
    int ok = len > 0 && len <= 7 && strspn(text, "0123456789") == len;
    long long v = ok ? strtoll(text, NULL, 10) : 0;
    free(text);
    if (!ok || v < 1 || v > max) {
        error_set(err, ERROR_BAD_REQUEST, "%s must be an integer from 1 to %lld", name, (long long)max);
        return error_add_field(err, name, "must be an integer from 1 to %lld", (long long)max);
    }
    *out = v;
    return 0;
}

static int payouts_earnings(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, earnings_get(req->db, &req->caller, err));
}

static int payouts_analytics(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, earnings_analytics(req->db, &req->caller, err));
}

static int payouts_create(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 201, payout_request(req->db, req->cfg, req->keys, &req->caller, req->json, err));
}

static int payouts_list(request *req, response *res, mkt_error *err)
{
    int64_t page, per_page;
    if (payouts_query_int(req, "page", 1, PAYOUTS_PAGE_MAX, &page, err) < 0 ||
        payouts_query_int(req, "per_page", PAYOUTS_PER_PAGE_DEFAULT, PAYOUTS_PER_PAGE_MAX, &per_page, err) < 0)
        return -1;
    return routes_reply(res, 200, payout_list(req->db, &req->caller, page, per_page, err));
}

static int payouts_redeem(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, payout_redeem(req->db, req->cfg, req->keys, req->json, err));
}

const route routes_payouts[] = {
    {"GET", "/developers/me/earnings", payouts_earnings, ROUTE_DEVELOPER, 0},
    {"GET", "/developers/me/analytics", payouts_analytics, ROUTE_DEVELOPER, 0},
    {"POST", "/developers/me/payouts", payouts_create, ROUTE_DEVELOPER, ROUTE_BODY},
    {"GET", "/developers/me/payouts", payouts_list, ROUTE_DEVELOPER, 0},
    /* Public: the token itself is the credential of the payout processor. */
    {"POST", "/payouts/redeem", payouts_redeem, ROUTE_PUBLIC, ROUTE_BODY},
};
const size_t routes_payouts_count = sizeof routes_payouts / sizeof routes_payouts[0];

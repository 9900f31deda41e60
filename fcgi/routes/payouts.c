/* Developer money (earnings, analytics, payouts) and the payout processor's redeem: thin adapters
 * from HTTP to core/earnings and core/payout. Ownership is the caller's own developer profile; core
 * checks it again. */
#include <stdlib.h>
#include <string.h>

#include "core/earnings.h"
#include "core/payout.h"
#include "fcgi/routes/routes.h"

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
    if (request_paging(req, &page, &per_page, err) < 0)
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

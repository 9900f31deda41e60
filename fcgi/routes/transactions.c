/* Purchases and the payment provider's webhook: thin adapters to core/transaction_manager.
 * The webhook route takes no ROUTE_BODY: its signature covers the exact raw bytes, which core
 * verifies before it parses anything. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/transaction_manager.h"
#include "fcgi/routes/routes.h"

/* A checkout creates a transaction, and its replay is that creation again: 201 both times. */
static int transactions_create(request *req, response *res, mkt_error *err)
{
    json_t *out = transaction_checkout(req->db, req->cfg, req->keys, &req->caller,
                                       request_header(req, "HTTP_IDEMPOTENCY_KEY"), req->json, err);
    if (!out)
        return -1;
    routes_created(req, res, out, "/transactions/");
    return 0;
}

static int transactions_get(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, transaction_get(req->db, &req->caller, request_param_value(req, "id"), err));
}

static int transactions_receipt(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, transaction_receipt(req->db, &req->caller, request_param_value(req, "id"), err));
}

static int transactions_list(request *req, response *res, mkt_error *err)
{
    int64_t page, per_page;
    if (request_paging(req, &page, &per_page, err) < 0)
        return -1;
    char *as = request_query(req, "as", err);
    if (!as && error_is_set(err))
        return -1;
    json_t *out = transaction_list(req->db, &req->caller, as, page, per_page, err);
    free(as);
    return routes_reply(res, 200, out);
}

static int transactions_webhook(request *req, response *res, mkt_error *err)
{
    json_t *out = NULL;
    if (transaction_webhook(req->db, req->cfg, req->keys, request_header(req, "HTTP_MARKETPLACE_SIGNATURE"),
                            req->body ? req->body : "", req->body ? req->body_len : 0, time(NULL), &out, err) < 0)
        return -1;
    response_json(res, 200, out);
    return 0;
}

const route routes_transactions[] = {
    {"POST", "/transactions", transactions_create, ROUTE_USER, ROUTE_BODY},
    {"GET", "/transactions", transactions_list, ROUTE_USER, 0},
    {"GET", "/transactions/{id}", transactions_get, ROUTE_USER, 0},
    {"GET", "/transactions/{id}/receipt", transactions_receipt, ROUTE_USER, 0},
    {"POST", "/webhooks/payments", transactions_webhook, ROUTE_PUBLIC, 0},
};
const size_t routes_transactions_count = sizeof routes_transactions / sizeof routes_transactions[0];

/* Receipts: the public half of signing. GET /keys publishes every trusted key as a JWKS so any
 * JOSE library can check a receipt; POST /receipts/verify does the check for clients without one.
 * Both work from the keyring the master loaded before forking (req->keys); verify also reads the
 * purchase's current state from the database (a refunded purchase's receipt is no longer valid). */

#include "core/jws.h"
#include "core/receipt.h"
#include "fcgi/routes/routes.h"

static int receipts_keys(request *req, response *res, mkt_error *err)
{
    json_t *jwks = jws_keyring_jwks(req->keys);
    if (!jwks)
        return error_set(err, ERROR_INTERNAL, "cannot build the JWKS");
    response_json(res, 200, jwks);
    return 0;
}

/* A bad token is an answer, not a request error (core/receipt.h): the signature and the
 * purchase's current state are answered separately. */
static int receipts_verify(request *req, response *res, mkt_error *err)
{
    return routes_reply(res, 200, receipt_verify(req->db, req->keys, req->json, err));
}

const route routes_receipts[] = {
    {"GET", "/keys", receipts_keys, ROUTE_PUBLIC, ROUTE_NO_DB},
    {"POST", "/receipts/verify", receipts_verify, ROUTE_PUBLIC, ROUTE_BODY},
};
const size_t routes_receipts_count = sizeof routes_receipts / sizeof routes_receipts[0];

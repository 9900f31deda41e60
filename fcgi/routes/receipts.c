/* Receipts: the public half of signing. GET /keys publishes every trusted key as a JWKS so any
 * JOSE library can check a receipt; POST /receipts/verify does the check for clients without one.
 * Both work from the keyring the master loaded before forking (req->keys), never the database. */
#include <time.h>

#include "core/jws.h"
#include "fcgi/routes/routes.h"

static int receipts_keys(request *req, response *res, mkt_error *err)
{
    json_t *jwks = jws_keyring_jwks(req->keys);
    if (!jwks)
        return error_set(err, ERROR_INTERNAL, "cannot build the JWKS");
    response_json(res, 200, jwks);
    return 0;
}

/* A bad token is an answer, not a request error: 200 {valid:false, reason}. Only a body without a
 * string receipt is the caller's mistake (422). */
static int receipts_verify(request *req, response *res, mkt_error *err)
{
    const json_t *receipt = json_object_get(req->json, "receipt");
    if (!json_is_string(receipt))
        return error_add_field(err, "receipt", receipt ? "must be a string" : "is required");
    mkt_error why = MKT_ERROR_INIT;
    json_t *claims = jws_verify(req->keys, json_string_value(receipt), &why);
    /* Payout tokens are signed with the same keys but carry an audience; a receipt never does, so
     * one cannot be passed off as the other. */
    if (claims && json_object_get(claims, "aud"))
        error_set(&why, ERROR_UNAUTHORIZED, "not a receipt (the token has an audience)");
    else if (claims)
        jws_check_time(claims, time(NULL), &why);
    json_t *out;
    if (error_is_set(&why)) {
        if (why.kind == ERROR_INTERNAL) {
            error_move(err, &why);
            json_decref(claims);
            return -1;
        }
        out = json_pack("{s:b, s:s}", "valid", 0, "reason", why.message ? why.message : "invalid");
        json_decref(claims);
    } else {
        out = json_pack("{s:b, s:o}", "valid", 1, "claims", claims);
    }
    error_clear(&why);
    if (!out)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    response_json(res, 200, out);
    return 0;
}

const route routes_receipts[] = {
    {"GET", "/keys", receipts_keys, ROUTE_PUBLIC, ROUTE_NO_DB},
    {"POST", "/receipts/verify", receipts_verify, ROUTE_PUBLIC, ROUTE_BODY | ROUTE_NO_DB},
};
const size_t routes_receipts_count = sizeof routes_receipts / sizeof routes_receipts[0];

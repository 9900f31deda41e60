#include "core/receipt.h"

#include <string.h>
#include <time.h>

#include "core/body.h"
#include "core/transaction_internal.h"

/* The signature half: claims of a receipt our keys signed, or NULL with the reason in why (an
 * ERROR_INTERNAL in why is a real failure, anything else a verdict). */
static json_t *receipt_check_signature(const jws_keyring *keys, const char *token, mkt_error *why)
{
    json_t *claims = jws_verify(keys, token, why);
    /* Payout tokens are signed with the same keys but carry an audience; a receipt never does, so
     * one cannot be passed off as the other. */
    if (claims && json_object_get(claims, "aud"))
        error_set(why, ERROR_UNAUTHORIZED, "not a receipt (the token has an audience)");
    else if (claims)
        jws_check_time(claims, time(NULL), why);
    if (error_is_set(why)) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* The state half: the purchase the receipt names, if the receipt is exactly the one we stored for
 * it (a receipt is issued once, when the purchase completes, and kept on the row). */
static int receipt_status(db *db, const json_t *claims, const char *token, const char **status, mkt_error *err)
{
    *status = "unknown";
    int64_t id;
    if (transaction_parse_id_text(json_string_value(json_object_get(claims, "txn")), &id) < 0)
        return 0;
    transaction_receipt_record r;
    if (transaction_receipt_record_read(db, id, &r, err) < 0)
        return -1;
    if (r.found && r.receipt && strcmp(r.receipt, token) == 0) {
        const char *s = r.status;
        *status = strcmp(s, "completed") == 0 ? "completed" : strcmp(s, "refunded") == 0 ? "refunded" : "unknown";
    }
    transaction_receipt_record_free(&r);
    return 0;
}

json_t *receipt_verify(db *db, const jws_keyring *keys, const json_t *body, mkt_error *err)
{
    const json_t *receipt = body_member(body, "receipt", JSON_STRING, err);
    if (!receipt)
        return NULL;
    const char *token = json_string_value(receipt);
    mkt_error why = MKT_ERROR_INIT;
    json_t *claims = receipt_check_signature(keys, token, &why);
    json_t *out = NULL;
    if (!claims) {
        if (why.kind == ERROR_INTERNAL) {
            error_move(err, &why);
            return NULL;
        }
        out = json_pack("{s:b, s:b, s:s}", "valid", 0, "signature_valid", 0, "reason",
                        why.message ? why.message : "invalid");
        error_clear(&why);
    } else {
        const char *status;
        if (receipt_status(db, claims, token, &status, err) < 0) {
            json_decref(claims);
            return NULL;
        }
        int valid = strcmp(status, "completed") == 0;
        out = json_pack("{s:b, s:b, s:s, s:o}", "valid", valid, "signature_valid", 1, "status", status, "claims",
                        claims);
        if (out && !valid)
            json_object_set_new(out, "reason",
                                json_string(strcmp(status, "refunded") == 0
                                                ? "the purchase was refunded"
                                                : "not a purchase on record here (signature only)"));
    }
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

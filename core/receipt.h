/* Checking a receipt for someone who holds one: POST /receipts/verify.
 *
 * Two separate questions, answered separately:
 *   signature_valid  the token is a receipt (no aud) this marketplace's keys signed, with sane time
 *                    claims. This is all an offline check against GET /keys (JWKS) can prove: that
 *                    we issued it.
 *   status           what became of the purchase since: "completed" or "refunded", read from the
 *                    database; "unknown" when the receipt is not the one on record for a purchase
 *                    of ours (signed, but for a transaction we do not have, or differing from the
 *                    receipt we stored for it). Present only when the signature is valid.
 *   valid            both hold: signature_valid and status "completed". This is the one to grant
 *                    access on; a refunded purchase's receipt still has a good signature but is no
 *                    longer valid (online verification adds revocation).
 * Answer: {valid, signature_valid, status?, claims?, reason?}; reason says why valid is false. */
#ifndef CORE_RECEIPT_H
#define CORE_RECEIPT_H

#include <jansson.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jws.h"
#include "sql/db.h"

/* body is {receipt: string}: anything else is 422 naming receipt. A bad token is an answer (200,
 * signature_valid false, reason), not an error; 503 when the state cannot be read. */
json_t *receipt_verify(db *db, const jws_keyring *keys, const json_t *body, mkt_error *err);

#endif

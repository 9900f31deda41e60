/* Purchases: checkout with idempotency keys, the payment provider's webhook events, access grants,
 * signed receipts, and reading transactions back.
 *
 * A paid checkout creates a `pending` transaction with a provider_ref; the money becomes real only
 * when the provider's signed payment.succeeded arrives: then, in ONE database transaction, the row
 * goes to `completed`, the purchase is posted to the ledger, access is granted, the tool's download
 * counter moves and the receipt (Ed25519 JWS) is stored. A free checkout does all of that at once
 * (without a ledger posting: there is no money). Every provider event id is recorded in the same
 * database transaction as its effect, so a redelivered event changes nothing.
 *
 * Money is integer cents everywhere; the split is money_split with config platform_fee_bps.
 *
 * Tables: transaction_manager.c owns transactions and idempotency_keys, transaction_events.c owns
 * webhook_events (each the only file that writes them). Access goes through core/tool_access, the
 * download counter through core/tool_usage, a tool's price through core/tool_record. */
#ifndef CORE_TRANSACTION_MANAGER_H
#define CORE_TRANSACTION_MANAGER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "core/jws.h"
#include "sql/db.h"

/* Idempotency keys: 1..255 printable ASCII characters; answers are replayed for this long. */
#define TRANSACTION_IDEM_KEY_MAX 255
#define TRANSACTION_IDEM_TTL_HOURS 24
/* A reservation still without an answer after this long belongs to a request that died (worker
 * killed): a new request with the key may take it over. Its database work was rolled back. */
#define TRANSACTION_IDEM_STALE_SECONDS 60
/* How long a second request with a key that is in progress waits for the first one's answer
 * before it answers 409. */
#define TRANSACTION_IDEM_WAIT_MS 3000

/* 1 when key is an acceptable Idempotency-Key value. */
int transaction_idem_key_valid(const char *key);

/* POST /transactions {tool_id} with Idempotency-Key idem_key (NULL = header missing: bad request).
 * Creates a transaction, or replays the answer stored for the key (only successes are stored, so a
 * replay is the same creation again). The same key with another body → validation; with a request
 * still in progress → conflict. Tool: unknown or not published → not found; the caller's own tool
 * → conflict; a one_time tool the caller already owns → conflict.
 * Answer: {id, status, tool_id, amount_cents, currency, developer_cents, platform_cents, provider_ref}
 * plus receipt when the tool was free (completed at once), and checkout_url when it is pending and
 * the config's checkout_url (the test-mode provider) is set. */
json_t *transaction_checkout(db *db, const config *cfg, const jws_keyring *keys, const account_caller *caller,
                             const char *idem_key, const json_t *body, mkt_error *err);

/* POST /webhooks/payments: verifies the signature over the exact raw body (unauthorized), then
 * parses and applies the event. Returns 0 and fills *out with a small acknowledgement {received,
 * event_id, duplicate, result, flagged}; -1 with err otherwise (unauthorized: signature; bad
 * request: malformed; validation: invalid / mismatch / unsupported type / refund of a failed
 * payment; conflict only for a refund that arrives before its payment.succeeded). Never asks for a retry that
 * cannot succeed: an event that arrives after the fact is 200 with no effect, recorded, and
 * flagged (payout flagged_for_review) when it contradicts a final state. Every outcome is logged
 * as a money line (core/money_log.h) after the commit. now is our clock. */
int transaction_webhook(db *db, const config *cfg, const jws_keyring *keys, const char *signature_header,
                        const char *raw_body, size_t raw_len, time_t now, json_t **out, mkt_error *err);

/* GET /transactions/{id}: buyer, the tool's developer, or an admin; everyone else 404. */
json_t *transaction_get(db *db, const account_caller *caller, const char *id, mkt_error *err);
/* GET /transactions/{id}/receipt → {receipt}; 409 when the transaction has no receipt (not completed). */
json_t *transaction_receipt(db *db, const account_caller *caller, const char *id, mkt_error *err);
/* GET /transactions?as=buyer|seller → {items, total, page, per_page} (core/paging.h), newest first. as NULL = buyer;
 * seller needs a developer profile (403). */
json_t *transaction_list(db *db, const account_caller *caller, const char *as, int64_t page, int64_t per_page,
                         mkt_error *err);

/* The transactions a provider event contradicted (flagged_for_review), newest first, at most limit,
 * as transaction_get shows them without the receipt: the moderation queue's third list
 * (core/moderation asks here rather than reading the table). NULL with err on failure. */
json_t *transaction_flagged(db *db, int64_t limit, mkt_error *err);

/* Checks what the ledger cannot: every completed transaction with an amount has exactly one
 * purchase posting and every refunded one a purchase and a refund posting, and every pending or
 * failed one none. 0, or -1 ERROR_INTERNAL naming the first transaction that disagrees. */
int transaction_check_postings(db *db, mkt_error *err);

#endif

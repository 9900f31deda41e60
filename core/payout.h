/* Payouts: a developer asks to be paid part of their available balance, gets a single-use signed
 * payout token (JWS, aud "payouts") that the payout processor redeems, and the payment provider's
 * payout.paid / payout.failed events finish it. States: requested -> processing -> paid | failed
 * (a requested payout may also be finished directly).
 *
 * An unredeemed payout whose token expired becomes expired (payout_expire_due).
 *
 * Money moves only through the ledger, in the same transaction as the state change:
 *   request   ledger_post_payout_requested  (available -> payout_pending)
 *   paid      ledger_post_payout_paid       (payout_pending -> external:payouts)
 *   failed    ledger_post_payout_failed     (payout_pending -> available: the money comes back)
 *   expired   ledger_post_payout_failed     (the same movement back)
 *
 * A payout object: {id, developer_id, amount_cents, currency, status, created_at, updated_at,
 * redeemed_at?, failure_reason?}; ids are decimal strings, times RFC 3339 UTC. Returned JSON belongs
 * to the caller (json_decref).
 *
 * Owns the payouts and payout_redemptions tables (the only file that writes or reads them); the
 * developers row is locked through account_developer_lock, money moves through core/ledger, and
 * payout_check_invariants reads the ledger read-only to cross-check each payout's postings. */
#ifndef CORE_PAYOUT_H
#define CORE_PAYOUT_H

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "core/service.h"
#include "core/jws.h"
#include "sql/db.h"

/* The audience every payout token carries; a token for another audience is refused (401). */
#define PAYOUT_AUDIENCE "payouts"
/* Upper bound of one request: far above any real payout, low enough that sums never overflow. */
#define PAYOUT_AMOUNT_MAX (INT64_C(1) << 40)
/* failure_reason column width (characters); longer reasons are cut, not refused (they come from
 * the provider, and a long reason must not make its event fail forever). */
#define PAYOUT_REASON_MAX 500

/* POST /developers/me/payouts {amount_cents, currency} -> {payout, token}.
 * Serialises the developer's concurrent requests on their developers row (SELECT ... FOR UPDATE),
 * so the balance read and the posting that spends it cannot interleave with another request.
 * 403 when the caller has no developer profile; 422 naming amount_cents when it is under
 * cfg->min_payout_cents or over the available balance in that currency (a negative balance, after
 * refunds, therefore blocks every payout until it is positive again); 422 naming the field for a
 * malformed body; 503 when keys has no signing key (nothing is written then). */
json_t *payout_request(db *db, const config *cfg, const jws_keyring *keys, const account_caller *caller,
                       const json_t *body, mkt_error *err);

/* GET /developers/me/payouts -> {items[], total, page, per_page} (core/paging.h), newest first. */
json_t *payout_list(db *db, const account_caller *caller, int64_t page, int64_t per_page, mkt_error *err);

/* POST /payouts/redeem {token} -> {payout} now processing.
 * 401 forged, malformed, another audience or issuer, claims that do not match the payout; 410
 * token expired, or the payout expired (or is past its expires_at); 409 redeemed already (or the payout is no longer requested). The redemption row (unique
 * jti) is inserted in the same transaction as the state change, so of two concurrent redeems of one
 * token exactly one succeeds. */
json_t *payout_redeem(db *db, const config *cfg, const jws_keyring *keys, const json_t *body, mkt_error *err);

/* What a payout.paid / payout.failed did: the payout's fields, its status before the event, whether
 * it moved (changed) and whether it was flagged for review (flagged). */
typedef struct {
    int64_t developer_id, amount_cents;
    char currency[4];
    char status[16];
    int changed;
    int flagged;
} payout_outcome;

/* For the payment webhook (payout.paid / payout.failed), each in its own transaction:
 * from requested or processing, set paid (resp. failed with reason) and post the ledger step.
 * Never answers "retry": a payout already in the target state, or failed after expired, returns 0
 * and changes nothing (a provider that sends the same outcome twice under two event ids gets no
 * second posting); paid after failed or expired, and failed after paid, return 0, change no money
 * and set the payout's flagged_for_review for an operator. 404 for an unknown payout. reason may
 * be NULL. These two log the outcome (payout.paid|failed, or webhook.ignored) after the commit. */
int payout_mark_paid(db *db, int64_t payout_id, mkt_error *err);
int payout_mark_failed(db *db, int64_t payout_id, const char *reason, mkt_error *err);
/* The same steps for a caller that is already inside its own db_transaction (the webhook records
 * the event id in the same transaction as the effect): they lock the payout row and write, but do
 * not begin or commit, and do not log. out (may be NULL) tells what happened. On -1 the caller must
 * return -1 from its transaction function. */
int payout_mark_paid_tx(db *db, int64_t payout_id, payout_outcome *out, mkt_error *err);
int payout_mark_failed_tx(db *db, int64_t payout_id, const char *reason, payout_outcome *out, mkt_error *err);
/* The money log line for an outcome, for the caller of a _tx step once it has committed. */
void payout_log_outcome(const char *target, int64_t payout_id, const payout_outcome *o, const char *reason);

/* Payouts expired per sweep transaction (the sweep loops while batches come back full). */
#define PAYOUT_SWEEP_BATCH 50
/* The expiry sweep: every payout still requested (its token never redeemed) whose expires_at
 * (creation + payout_token_ttl) has passed becomes expired, and its amount goes back from
 * payout_pending to available (a payout_failed posting), exactly once even with several workers
 * sweeping at the same time (SELECT ... FOR UPDATE SKIP LOCKED plus a conditional UPDATE). Logs
 * payout.expired per payout after the commit. Returns how many it expired, or -1 with err. Workers
 * call it from their idle loop every payout_sweep_interval seconds. */
int payout_expire_due(db *db, mkt_error *err);

/* Lifecycle hooks (core/service.h): payout_expire_due every payout_sweep_interval seconds per worker,
 * when idle and after requests (a worker that is never idle still sweeps when due). Every worker
 * sweeps; the sweep itself makes concurrent runs safe. */
extern const service_hooks payout_service;

/* The check ledger_check_invariants leaves to this module: every payout has exactly the postings
 * its status implies (requested/processing: payout_requested; paid: + payout_paid; failed: +
 * payout_failed), each for the payout's amount in its currency, and no payout posting refers to a
 * missing payout. 0, or -1 ERROR_INTERNAL naming the first payout that breaks it. */
int payout_check_invariants(db *db, mkt_error *err);

#endif

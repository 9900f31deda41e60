/* Checkout with idempotency keys, and reading transactions back. The provider's events and the
 * completion of a purchase live in transaction_events.c.
 *
 * Owns the transactions and idempotency_keys tables: every statement that writes them is in this
 * file (transaction_events.c and core/receipt.c go through transaction_store_* and
 * transaction_receipt_record_read in transaction_internal.h). transaction_check_postings reads the
 * ledger read-only to cross-check each transaction against its postings; core/earnings.c reads
 * transactions read-only for its sales reports. */
#include "core/transaction_manager.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/body.h"
#include "core/log.h"
#include "core/money.h"
#include "core/paging.h"
#include "core/text.h"
#include "core/tool_access.h"
#include "core/tool_plans.h"
#include "core/tool_record.h"
#include "core/transaction_internal.h"

int transaction_idem_key_valid(const char *key)
{
    if (!key)
        return 0;
    size_t n = strlen(key);
    return n > 0 && n <= TRANSACTION_IDEM_KEY_MAX && text_printable_ascii(key, n, TEXT_SPACE_ALLOWED);
}

/* ---- the transactions table (this file owns it) ---------------------------------------------- */

enum { LCOL_ID, LCOL_BUYER, LCOL_TOOL, LCOL_DEVELOPER, LCOL_AMOUNT, LCOL_DEV_CENTS, LCOL_PLAT_CENTS, LCOL_PERIOD,
       LCOL_FLAGGED, LCOL_CURRENCY, LCOL_STATUS, LCOL_MODEL, LCOL_PLAN, LCOL_PLAN_NAME, LCOL_QUOTA, LCOL_RATE };

int transaction_lock_row(db *db, int64_t id, transaction_row *out, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT id, buyer_user_id, tool_id, developer_id, amount_cents, developer_cents, platform_cents,"
                 " COALESCE(period_days, 0), flagged_for_review, currency, status, pricing_model,"
                 " COALESCE(plan_id, 0), COALESCE(plan_name, ''), COALESCE(quota, 0), COALESCE(rate_per_minute, 0)"
                 " FROM transactions WHERE id = ? FOR UPDATE",
                 DB_PARAMS(db_int(id)), &rows, err) < 0)
        return -1;
    if (rows.row_count == 0) {
        db_rows_free(&rows);
        return error_set(err, ERROR_NOT_FOUND, "no transaction %" PRId64, id);
    }
    memset(out, 0, sizeof *out);
    out->id = db_rows_int(&rows, 0, LCOL_ID);
    out->buyer_user_id = db_rows_int(&rows, 0, LCOL_BUYER);
    out->tool_id = db_rows_int(&rows, 0, LCOL_TOOL);
    out->developer_id = db_rows_int(&rows, 0, LCOL_DEVELOPER);
    out->amount_cents = db_rows_int(&rows, 0, LCOL_AMOUNT);
    out->developer_cents = db_rows_int(&rows, 0, LCOL_DEV_CENTS);
    out->platform_cents = db_rows_int(&rows, 0, LCOL_PLAT_CENTS);
    out->period_days = db_rows_int(&rows, 0, LCOL_PERIOD);
    out->flagged = db_rows_int(&rows, 0, LCOL_FLAGGED) != 0;
    snprintf(out->currency, sizeof out->currency, "%s", db_rows_text(&rows, 0, LCOL_CURRENCY));
    snprintf(out->status, sizeof out->status, "%s", db_rows_text(&rows, 0, LCOL_STATUS));
    snprintf(out->pricing_model, sizeof out->pricing_model, "%s", db_rows_text(&rows, 0, LCOL_MODEL));
    out->plan_id = db_rows_int(&rows, 0, LCOL_PLAN);
    snprintf(out->plan_name, sizeof out->plan_name, "%s", db_rows_text(&rows, 0, LCOL_PLAN_NAME));
    out->quota = db_rows_int(&rows, 0, LCOL_QUOTA);
    out->rate_per_minute = db_rows_int(&rows, 0, LCOL_RATE);
    db_rows_free(&rows);
    return 0;
}

int transaction_store_insert(db *db, transaction_row *t, const char *provider_ref, mkt_error *err)
{
    db_result res = {0};
    if (db_exec(db,
                "INSERT INTO transactions (buyer_user_id, tool_id, developer_id, amount_cents, currency,"
                " developer_cents, platform_cents, pricing_model, period_days, status, provider_ref, plan_id,"
                " plan_name, quota, rate_per_minute)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                DB_PARAMS(db_int(t->buyer_user_id), db_int(t->tool_id), db_int(t->developer_id),
                          db_int(t->amount_cents), db_text(t->currency), db_int(t->developer_cents),
                          db_int(t->platform_cents), db_text(t->pricing_model),
                          t->period_days > 0 ? db_int(t->period_days) : db_null(), db_text(provider_ref),
                          t->plan_id > 0 ? db_int(t->plan_id) : db_null(), t->plan_id > 0 ? db_text(t->plan_name) : db_null(),
                          t->quota > 0 ? db_int(t->quota) : db_null(),
                          t->rate_per_minute > 0 ? db_int(t->rate_per_minute) : db_null()),
                &res, err) < 0)
        return -1;
    t->id = (int64_t)res.insert_id;
    snprintf(t->status, sizeof t->status, "pending");
    return 0;
}

int transaction_store_completed(db *db, const transaction_row *t, const char *receipt, mkt_error *err)
{
    db_result res = {0};
    if (db_exec(db,
                "UPDATE transactions SET status = 'completed', completed_at = NOW(6), receipt = ?"
                " WHERE id = ? AND status IN ('pending', 'failed')",
                DB_PARAMS(db_text(receipt), db_int(t->id)), &res, err) < 0)
        return -1;
    if (res.affected_rows != 1)
        return error_set(err, ERROR_CONFLICT, "transaction %" PRId64 " is %s", t->id, t->status);
    return 0;
}

int transaction_store_status(db *db, int64_t id, const char *status, mkt_error *err)
{
    return db_exec(db, "UPDATE transactions SET status = ? WHERE id = ?", DB_PARAMS(db_text(status), db_int(id)), NULL,
                   err);
}

int transaction_store_flag(db *db, int64_t id, mkt_error *err)
{
    return db_exec(db, "UPDATE transactions SET flagged_for_review = 1 WHERE id = ?", DB_PARAMS(db_int(id)), NULL,
                   err);
}

int transaction_receipt_record_read(db *db, int64_t id, transaction_receipt_record *out, mkt_error *err)
{
    enum { RCOL_STATUS, RCOL_RECEIPT };
    memset(out, 0, sizeof *out);
    db_rows rows = {0};
    if (db_query(db, "SELECT status, receipt FROM transactions WHERE id = ?", DB_PARAMS(db_int(id)), &rows, err) < 0)
        return -1;
    int rc = 0;
    if (rows.row_count == 1) {
        out->found = 1;
        snprintf(out->status, sizeof out->status, "%s", db_rows_text(&rows, 0, RCOL_STATUS));
        const char *receipt = db_rows_text(&rows, 0, RCOL_RECEIPT);
        if (receipt && !(out->receipt = strdup(receipt)))
            rc = error_set(err, ERROR_INTERNAL, "out of memory");
    }
    db_rows_free(&rows);
    return rc;
}

void transaction_receipt_record_free(transaction_receipt_record *r)
{
    free(r->receipt);
    r->receipt = NULL;
}

/* ---- idempotency -------------------------------------------------------------------------------- */

typedef enum { IDEM_OWNER, IDEM_REPLAY, IDEM_MISMATCH, IDEM_IN_PROGRESS, IDEM_RETRY } transaction_idem_state;

typedef struct {
    int64_t user_id;
    const char *key;
    unsigned char hash[32];
    transaction_idem_state state;
    json_t *answer;  /* IDEM_REPLAY */
} transaction_idem;

/* The request's fingerprint: route and canonical body (sorted keys), so whitespace or key order
 * in a retried body does not count as "another body". */
static int transaction_idem_hash(const json_t *body, unsigned char out[32], mkt_error *err)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!text)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned len = 0;
    static const char route[] = "POST /transactions\n";
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, route, sizeof route - 1) == 1 && EVP_DigestUpdate(ctx, text, strlen(text)) == 1 &&
             EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    free(text);
    return ok ? 0 : error_set(err, ERROR_INTERNAL, "SHA-256 failed");
}

/* Reserves the key in its own short transaction: the INSERT either creates the row (we do the work)
 * or waits for a concurrent inserter's commit and finds its row, so two requests never both own a
 * key. An expired row (24 h) is reused in place; an in-progress row older than the stale limit
 * belongs to a request whose worker died and is taken over. */
static int transaction_idem_reserve_tx(db *db, void *arg, mkt_error *err)
{
    transaction_idem *ik = arg;
    json_decref(ik->answer);
    ik->answer = NULL;
    db_result res = {0};
    if (db_exec(db, "INSERT IGNORE INTO idempotency_keys (user_id, idem_key, request_hash) VALUES (?, ?, ?)",
                DB_PARAMS(db_int(ik->user_id), db_text(ik->key), db_bytes(ik->hash, 32)), &res, err) < 0)
        return -1;
    if (res.affected_rows == 1) {
        ik->state = IDEM_OWNER;
        return 0;
    }
    /* A plain read, not FOR UPDATE: the duplicate INSERT left a shared lock on the row, and several
     * waiting requests upgrading theirs to exclusive would deadlock one another. The takeovers
     * below re-check their condition in the UPDATE itself, so only one request can win them. */
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT request_hash, status_code, response,"
                 " created_at < NOW(6) - INTERVAL ? SECOND,"
                 " created_at < NOW(6) - INTERVAL ? HOUR"
                 " FROM idempotency_keys WHERE user_id = ? AND idem_key = ?",
                 DB_PARAMS(db_int(TRANSACTION_IDEM_STALE_SECONDS), db_int(TRANSACTION_IDEM_TTL_HOURS),
                           db_int(ik->user_id), db_text(ik->key)),
                 &rows, err) < 0)
        return -1;
    enum { ICOL_HASH, ICOL_STATUS, ICOL_RESPONSE, ICOL_STALE, ICOL_EXPIRED };
    int rc = 0;
    if (rows.row_count == 0) {
        ik->state = IDEM_RETRY; /* the owner failed and released it in between */
    } else if (db_rows_int(&rows, 0, ICOL_EXPIRED) != 0) {
        /* expired: the key starts a new life with this request (updated in place: no gap locks) */
        rc = db_exec(db,
                     "UPDATE idempotency_keys SET request_hash = ?, status_code = NULL, response = NULL,"
                     " created_at = NOW(6) WHERE user_id = ? AND idem_key = ? AND created_at < NOW(6) - INTERVAL ? HOUR",
                     DB_PARAMS(db_bytes(ik->hash, 32), db_int(ik->user_id), db_text(ik->key),
                               db_int(TRANSACTION_IDEM_TTL_HOURS)),
                     &res, err);
        ik->state = res.affected_rows == 1 ? IDEM_OWNER : IDEM_RETRY;
    } else if (rows.cells[ICOL_HASH].len != 32 || memcmp(rows.cells[ICOL_HASH].data, ik->hash, 32) != 0) {
        ik->state = IDEM_MISMATCH;
    } else if (!db_rows_is_null(&rows, 0, ICOL_STATUS)) {
        json_error_t jerr;
        ik->state = IDEM_REPLAY;
        ik->answer = json_loads(db_rows_text(&rows, 0, ICOL_RESPONSE), 0, &jerr);
        if (!ik->answer)
            rc = error_set(err, ERROR_INTERNAL, "stored idempotent answer is corrupt: %s", jerr.text);
    } else if (db_rows_int(&rows, 0, ICOL_STALE) != 0) {
        rc = db_exec(db,
                     "UPDATE idempotency_keys SET created_at = NOW(6) WHERE user_id = ? AND idem_key = ?"
                     " AND status_code IS NULL AND created_at < NOW(6) - INTERVAL ? SECOND",
                     DB_PARAMS(db_int(ik->user_id), db_text(ik->key), db_int(TRANSACTION_IDEM_STALE_SECONDS)), &res,
                     err);
        ik->state = res.affected_rows == 1 ? IDEM_OWNER : IDEM_RETRY;
    } else {
        ik->state = IDEM_IN_PROGRESS;
    }
    db_rows_free(&rows);
    return rc;
}

static int transaction_idem_acquire(db *db, transaction_idem *ik, mkt_error *err)
{
    struct timespec pause = {0, 25 * 1000 * 1000};
    for (int waited_ms = 0;; waited_ms += 25) {
        if (db_transaction(db, transaction_idem_reserve_tx, ik, err) < 0)
            return -1;
        if (ik->state == IDEM_MISMATCH) {
            error_set(err, ERROR_VALIDATION, "this Idempotency-Key was used with another request body");
            return error_add_field(err, "Idempotency-Key", "already used with another request body");
        }
        if (ik->state == IDEM_OWNER || ik->state == IDEM_REPLAY)
            return 0;
        if (waited_ms >= TRANSACTION_IDEM_WAIT_MS)
            return error_set(err, ERROR_CONFLICT, "a request with this Idempotency-Key is still in progress");
        nanosleep(&pause, NULL);
    }
}

/* The work failed: free the key so a retry with it may run again (errors are not replayed). */
static void transaction_idem_release(db *db, const transaction_idem *ik)
{
    mkt_error err = MKT_ERROR_INIT;
    if (db_exec(db, "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND status_code IS NULL",
                DB_PARAMS(db_int(ik->user_id), db_text(ik->key)), NULL, &err) < 0)
        log_warn("idempotency key not released (it frees itself after %d s): %s", TRANSACTION_IDEM_STALE_SECONDS,
                 err.message ? err.message : "?");
    error_clear(&err);
}

/* ---- checkout ----------------------------------------------------------------------------------- */

typedef struct {
    const config *cfg;
    const jws_keyring *keys;
    const account_caller *caller;
    int64_t tool_id, plan_id; /* plan_id 0: the default plan */
    const transaction_idem *ik;
    json_t *answer;
    transaction_row row; /* what was created, for the money log after the commit */
} transaction_checkout_ctx;

static int transaction_read_checkout(const json_t *body, int64_t *tool_id, int64_t *plan_id, mkt_error *err)
{
    if (!json_is_object(body))
        return error_set(err, ERROR_VALIDATION, "the body must be a JSON object {tool_id, plan_id?}");
    static const char *const allowed[] = {"tool_id", "plan_id", NULL};
    body_unknown_fields(body, allowed, err);
    const char *problem = tool_record_id_problem(json_object_get(body, "tool_id"), tool_id);
    if (problem)
        error_add_field(err, "tool_id", "%s", problem);
    /* a plan id is an id like a tool's (a string of digits); absent or null: the default plan */
    const json_t *plan = json_object_get(body, "plan_id");
    *plan_id = 0;
    if (plan && !json_is_null(plan) && (problem = tool_record_id_problem(plan, plan_id)))
        error_add_field(err, "plan_id", "%s", problem);
    if (error_is_set(err))
        return error_set(err, ERROR_VALIDATION, "invalid purchase request");
    return 0;
}

static void transaction_provider_ref(char out[28])
{
    unsigned char bytes[12];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        /* RAND_bytes does not fail on a seeded Linux system; a ref collision would only be a 500 */
        memset(bytes, 0, sizeof bytes);
    }
    memcpy(out, "pi_", 3);
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf(out + 3 + 2 * i, 3, "%02x", bytes[i]);
}

static json_t *transaction_answer(int64_t id, const char *status, int64_t tool_id, const transaction_row *t,
                                  const char *provider_ref)
{
    char id_text[24], tool_text[24];
    snprintf(id_text, sizeof id_text, "%" PRId64, id);
    snprintf(tool_text, sizeof tool_text, "%" PRId64, tool_id);
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:s}", "id", id_text, "status", status, "tool_id", tool_text,
                     "amount_cents", (json_int_t)t->amount_cents, "currency", t->currency, "developer_cents",
                     (json_int_t)t->developer_cents, "platform_cents", (json_int_t)t->platform_cents, "provider_ref",
                     provider_ref);
}

/* Where the test-mode provider takes the buyer to pay a pending transaction t (config checkout_url;
 * nothing when it is empty, as in production, where the real provider hosts checkout). */
static int transaction_add_checkout_url(json_t *answer, const config *cfg, const transaction_row *t)
{
    if (!cfg->checkout_url || !*cfg->checkout_url)
        return 0;
    char *url = NULL;
    if (asprintf(&url, "%s/%" PRId64 "?amount_cents=%" PRId64 "&currency=%s", cfg->checkout_url, t->id,
                 t->amount_cents, t->currency) < 0)
        return -1;
    int rc = json_object_set_new(answer, "checkout_url", json_string(url));
    free(url);
    return rc;
}

/* plan_id and plan_name of a transaction that names its plan (all but rows older than plans). */
static int transaction_add_plan(json_t *answer, int64_t plan_id, const char *plan_name)
{
    if (plan_id <= 0)
        return 0;
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, plan_id);
    return json_object_set_new(answer, "plan_id", json_string(id)) < 0 ||
                   json_object_set_new(answer, "plan_name", json_string(plan_name)) < 0
               ? -1
               : 0;
}

static int transaction_checkout_tx(db *db, void *arg, mkt_error *err)
{
    transaction_checkout_ctx *c = arg;
    json_decref(c->answer);
    c->answer = NULL;
    db_rows rows = {0};
    tool_record_offer offer;
    tool_plan plan;
    /* the tool row's shared lock first (published, its developer), then the plan bought */
    if (tool_record_offer_locked(db, c->tool_id, &offer, err) < 0 ||
        tool_plans_offer(db, c->tool_id, c->plan_id, &plan, err) < 0)
        return -1;
    transaction_row t = {.buyer_user_id = c->caller->user_id, .tool_id = c->tool_id,
                         .developer_id = offer.developer_id, .amount_cents = plan.pricing.price_cents,
                         .period_days = plan.pricing.period_days, .plan_id = plan.id, .quota = plan.quota,
                         .rate_per_minute = plan.rate_per_minute};
    snprintf(t.pricing_model, sizeof t.pricing_model, "%s", plan.pricing.model);
    snprintf(t.currency, sizeof t.currency, "%s", plan.pricing.currency);
    snprintf(t.plan_name, sizeof t.plan_name, "%s", plan.name);
    if (c->caller->developer_id != 0 && c->caller->developer_id == t.developer_id)
        return error_set(err, ERROR_CONFLICT, "you cannot buy your own tool");
    if (strcmp(t.pricing_model, "subscription") != 0) {
        /* another plan is a move (it replaces the access on completion); the same one is owned */
        int owned = tool_access_holds_plan_for_good(db, t.buyer_user_id, t.tool_id, t.plan_id, err);
        if (owned != 0)
            return owned < 0 ? -1 : error_set(err, ERROR_CONFLICT, "you already own this tool");
    }
    if (money_split(t.amount_cents, c->cfg->platform_fee_bps, &t.developer_cents, &t.platform_cents, err) < 0)
        return -1;
    char ref[28];
    transaction_provider_ref(ref);
    if (transaction_store_insert(db, &t, ref, err) < 0)
        return -1;
    const char *status = "pending";
    if (t.amount_cents == 0) {
        /* nothing to pay: complete now, in this same transaction (access, download, receipt) */
        if (transaction_complete_locked(db, c->cfg, c->keys, &t, err) < 0)
            return -1;
        status = "completed";
    }
    c->row = t;
    c->answer = transaction_answer(t.id, status, t.tool_id, &t, ref);
    if (!c->answer || (t.amount_cents > 0 && transaction_add_checkout_url(c->answer, c->cfg, &t) < 0) ||
        transaction_add_plan(c->answer, t.plan_id, t.plan_name) < 0)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    if (t.amount_cents == 0) {
        if (db_query(db, "SELECT receipt FROM transactions WHERE id = ?", DB_PARAMS(db_int(t.id)), &rows, err) < 0)
            return -1;
        json_object_set_new(c->answer, "receipt", json_string(db_rows_text(&rows, 0, 0)));
        db_rows_free(&rows);
    }
    /* the answer is stored with the work it describes: both commit or neither does */
    char *stored = json_dumps(c->answer, JSON_COMPACT);
    if (!stored)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    int rc = db_exec(db, "UPDATE idempotency_keys SET status_code = 201, response = ? WHERE user_id = ? AND idem_key = ?",
                     DB_PARAMS(db_text(stored), db_int(c->ik->user_id), db_text(c->ik->key)), NULL, err);
    free(stored);
    return rc;
}

json_t *transaction_checkout(db *db, const config *cfg, const jws_keyring *keys, const account_caller *caller,
                             const char *idem_key, const json_t *body, mkt_error *err)
{
    if (!idem_key) {
        error_set(err, ERROR_BAD_REQUEST, "the Idempotency-Key header is required");
        error_add_field(err, "Idempotency-Key", "is required");
        return NULL;
    }
    if (!transaction_idem_key_valid(idem_key)) {
        error_set(err, ERROR_BAD_REQUEST, "bad Idempotency-Key header");
        error_add_field(err, "Idempotency-Key", "must be 1 to %d printable ASCII characters", TRANSACTION_IDEM_KEY_MAX);
        return NULL;
    }
    transaction_checkout_ctx c = {.cfg = cfg, .keys = keys, .caller = caller};
    if (transaction_read_checkout(body, &c.tool_id, &c.plan_id, err) < 0)
        return NULL;
    transaction_idem ik = {.user_id = caller->user_id, .key = idem_key};
    if (transaction_idem_hash(body, ik.hash, err) < 0)
        return NULL;
    if (transaction_idem_acquire(db, &ik, err) < 0) {
        json_decref(ik.answer);
        return NULL;
    }
    if (ik.state == IDEM_REPLAY)
        return ik.answer;
    c.ik = &ik;
    if (db_transaction(db, transaction_checkout_tx, &c, err) < 0) {
        json_decref(c.answer);
        transaction_idem_release(db, &ik);
        return NULL;
    }
    transaction_log("purchase.created", &c.row, NULL);
    if (c.row.amount_cents == 0)
        transaction_log("purchase.completed", &c.row, NULL);
    return c.answer;
}

/* ---- reading ------------------------------------------------------------------------------------ */

#define TRANSACTION_COLUMNS                                                                                     \
    "SELECT x.id, x.status, x.tool_id, x.buyer_user_id, x.developer_id, x.amount_cents, x.currency,"            \
    " x.developer_cents, x.platform_cents, x.pricing_model, x.period_days, x.provider_ref, x.flagged_for_review," \
    " " TOOL_RECORD_TIME("x.created_at") ", " TOOL_RECORD_TIME("x.completed_at") ", x.receipt,"                  \
    " COALESCE(x.plan_id, 0), COALESCE(x.plan_name, '')"                                                       \
    " FROM transactions x"

enum { TCOL_ID, TCOL_STATUS, TCOL_TOOL, TCOL_BUYER, TCOL_DEVELOPER, TCOL_AMOUNT, TCOL_CURRENCY, TCOL_DEV_CENTS,
       TCOL_PLAT_CENTS, TCOL_MODEL, TCOL_PERIOD, TCOL_REF, TCOL_FLAGGED, TCOL_CREATED, TCOL_COMPLETED, TCOL_RECEIPT,
       TCOL_PLAN, TCOL_PLAN_NAME };

static json_t *transaction_row_json(const db_rows *rows, size_t i, int with_receipt)
{
    json_t *out = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:s, s:s, s:b, s:s, s:s?}", "id", db_rows_text(rows, i, TCOL_ID),
        "status", db_rows_text(rows, i, TCOL_STATUS), "tool_id", db_rows_text(rows, i, TCOL_TOOL), "buyer_id",
        db_rows_text(rows, i, TCOL_BUYER), "developer_id", db_rows_text(rows, i, TCOL_DEVELOPER), "amount_cents",
        (json_int_t)db_rows_int(rows, i, TCOL_AMOUNT), "currency", db_rows_text(rows, i, TCOL_CURRENCY),
        "developer_cents", (json_int_t)db_rows_int(rows, i, TCOL_DEV_CENTS), "platform_cents",
        (json_int_t)db_rows_int(rows, i, TCOL_PLAT_CENTS), "pricing_model", db_rows_text(rows, i, TCOL_MODEL),
        "provider_ref", db_rows_text(rows, i, TCOL_REF), "flagged_for_review", db_rows_int(rows, i, TCOL_FLAGGED) != 0,
        "created_at", db_rows_text(rows, i, TCOL_CREATED), "completed_at", db_rows_text(rows, i, TCOL_COMPLETED));
    if (out && !db_rows_is_null(rows, i, TCOL_PERIOD))
        json_object_set_new(out, "period_days", json_integer(db_rows_int(rows, i, TCOL_PERIOD)));
    if (out && transaction_add_plan(out, db_rows_int(rows, i, TCOL_PLAN), db_rows_text(rows, i, TCOL_PLAN_NAME)) < 0) {
        json_decref(out);
        return NULL;
    }
    if (out && with_receipt && db_rows_text(rows, i, TCOL_RECEIPT))
        json_object_set_new(out, "receipt", json_string(db_rows_text(rows, i, TCOL_RECEIPT)));
    return out;
}

/* Loads one transaction the caller may see: the buyer, the tool's developer, an admin. Everyone
 * else gets the same 404 as for a missing id. */
static int transaction_find(db *db, const account_caller *caller, const char *id_text, db_rows *rows, mkt_error *err)
{
    int64_t id;
    if (transaction_parse_id_text(id_text, &id) < 0)
        return error_set(err, ERROR_NOT_FOUND, "no such transaction");
    if (db_query(db, TRANSACTION_COLUMNS " WHERE x.id = ?", DB_PARAMS(db_int(id)), rows, err) < 0)
        return -1;
    int visible = rows->row_count == 1 &&
                  (db_rows_int(rows, 0, TCOL_BUYER) == caller->user_id ||
                   (caller->developer_id != 0 && db_rows_int(rows, 0, TCOL_DEVELOPER) == caller->developer_id) ||
                   (caller->roles & ACCOUNT_ROLE_ADMIN));
    if (!visible) {
        db_rows_free(rows);
        return error_set(err, ERROR_NOT_FOUND, "no transaction %s", id_text);
    }
    return 0;
}

json_t *transaction_get(db *db, const account_caller *caller, const char *id, mkt_error *err)
{
    db_rows rows = {0};
    if (transaction_find(db, caller, id, &rows, err) < 0)
        return NULL;
    json_t *out = transaction_row_json(&rows, 0, 1);
    db_rows_free(&rows);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

json_t *transaction_receipt(db *db, const account_caller *caller, const char *id, mkt_error *err)
{
    db_rows rows = {0};
    if (transaction_find(db, caller, id, &rows, err) < 0)
        return NULL;
    const char *receipt = db_rows_text(&rows, 0, TCOL_RECEIPT);
    json_t *out = NULL;
    if (!receipt)
        error_set(err, ERROR_CONFLICT, "transaction %s has no receipt (it is %s)", id,
                  db_rows_text(&rows, 0, TCOL_STATUS));
    else if (!(out = json_pack("{s:s}", "receipt", receipt)))
        error_set(err, ERROR_INTERNAL, "out of memory");
    db_rows_free(&rows);
    return out;
}

json_t *transaction_list(db *db, const account_caller *caller, const char *as, int64_t page, int64_t per_page,
                         mkt_error *err)
{
    if (paging_check(page, per_page, err) < 0)
        return NULL;
    int seller;
    if (!as || strcmp(as, "buyer") == 0) {
        seller = 0;
    } else if (strcmp(as, "seller") == 0) {
        seller = 1;
        if (caller->developer_id == 0) {
            error_set(err, ERROR_FORBIDDEN, "as=seller needs a developer profile");
            return NULL;
        }
    } else {
        error_set(err, ERROR_BAD_REQUEST, "as must be buyer or seller");
        error_add_field(err, "as", "must be buyer or seller");
        return NULL;
    }
    int64_t who = seller ? caller->developer_id : caller->user_id;
    db_rows count = {0}, rows = {0};
    if (db_query(db,
                 seller ? "SELECT COUNT(*) FROM transactions WHERE developer_id = ?"
                        : "SELECT COUNT(*) FROM transactions WHERE buyer_user_id = ?",
                 DB_PARAMS(db_int(who)), &count, err) < 0)
        return NULL;
    int64_t total = db_rows_int(&count, 0, 0);
    db_rows_free(&count);
    if (db_query(db,
                 seller ? TRANSACTION_COLUMNS " WHERE x.developer_id = ? ORDER BY x.id DESC LIMIT ? OFFSET ?"
                        : TRANSACTION_COLUMNS " WHERE x.buyer_user_id = ? ORDER BY x.id DESC LIMIT ? OFFSET ?",
                 DB_PARAMS(db_int(who), db_int(per_page), db_int(paging_offset(page, per_page))), &rows, err) < 0)
        return NULL;
    json_t *items = json_array();
    for (size_t i = 0; items && i < rows.row_count; i++) {
        if (json_array_append_new(items, transaction_row_json(&rows, i, 0)) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    db_rows_free(&rows);
    return paging_list(items, total, page, per_page, err);
}

int transaction_check_postings(db *db, mkt_error *err)
{
    db_rows rows = {0};
    /* expected purchase/refund postings per status, for transactions that moved money */
    if (db_query(db,
                 "SELECT x.id, x.status,"
                 " (SELECT COUNT(*) FROM ledger_postings p WHERE p.kind = 'purchase' AND p.ref_type = 'transaction'"
                 "   AND p.ref_id = x.id),"
                 " (SELECT COUNT(*) FROM ledger_postings p WHERE p.kind = 'refund' AND p.ref_type = 'transaction'"
                 "   AND p.ref_id = x.id),"
                 " (SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_postings p JOIN ledger_entries e"
                 "   ON e.posting_id = p.id WHERE p.kind = 'purchase' AND p.ref_type = 'transaction'"
                 "   AND p.ref_id = x.id AND e.account = 'external:payments'),"
                 " x.amount_cents"
                 " FROM transactions x WHERE x.amount_cents > 0",
                 DB_NO_PARAMS, &rows, err) < 0)
        return -1;
    enum { KCOL_ID, KCOL_STATUS, KCOL_PURCHASES, KCOL_REFUNDS, KCOL_PAYMENTS, KCOL_AMOUNT };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < rows.row_count; i++) {
        const char *status = db_rows_text(&rows, i, KCOL_STATUS);
        int64_t purchases = db_rows_int(&rows, i, KCOL_PURCHASES), refunds = db_rows_int(&rows, i, KCOL_REFUNDS);
        int paid = strcmp(status, "completed") == 0 || strcmp(status, "refunded") == 0;
        int64_t want_refunds = strcmp(status, "refunded") == 0;
        if (purchases != paid || refunds != want_refunds ||
            (paid && -db_rows_int(&rows, i, KCOL_PAYMENTS) != db_rows_int(&rows, i, KCOL_AMOUNT)))
            rc = error_set(err, ERROR_INTERNAL,
                           "transaction %s is %s with %" PRId64 " purchase and %" PRId64 " refund postings",
                           db_rows_text(&rows, i, KCOL_ID), status, purchases, refunds);
    }
    db_rows_free(&rows);
    return rc;
}

json_t *transaction_flagged(db *db, int64_t limit, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, TRANSACTION_COLUMNS " WHERE x.flagged_for_review = 1 ORDER BY x.id DESC LIMIT ?",
                 DB_PARAMS(db_int(limit)), &rows, err) < 0)
        return NULL;
    json_t *items = json_array();
    for (size_t i = 0; items && i < rows.row_count; i++) {
        if (json_array_append_new(items, transaction_row_json(&rows, i, 0)) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    db_rows_free(&rows);
    if (!items)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return items;
}

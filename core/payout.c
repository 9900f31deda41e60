#include "core/payout.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/body.h"
#include "core/ident.h"
#include "core/cluster.h"
#include "core/ledger.h"
#include "core/log.h"
#include "core/money.h"
#include "core/money_log.h"
#include "core/paging.h"

#define PAYOUT_TIME(column) "DATE_FORMAT(" column ", '%Y-%m-%dT%H:%i:%sZ')"
#define PAYOUT_COLUMNS                                                                                          \
    "id, developer_id, amount_cents, currency, status, " PAYOUT_TIME("created_at") ", " PAYOUT_TIME("updated_at") \
    ", " PAYOUT_TIME("redeemed_at") ", failure_reason"
enum { PCOL_ID, PCOL_DEVELOPER, PCOL_AMOUNT, PCOL_CURRENCY, PCOL_STATUS, PCOL_CREATED, PCOL_UPDATED, PCOL_REDEEMED,
       PCOL_FAILURE };

/* A payout id as text (the jti claim): at most 20 digits. */
#define PAYOUT_ID_TEXT 24

/* ---- rows -> JSON --------------------------------------------------------------------------- */

static json_t *payout_row_json(const db_rows *rows, size_t r)
{
    json_t *p = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "id", db_rows_text(rows, r, PCOL_ID), "developer_id",
                          db_rows_text(rows, r, PCOL_DEVELOPER), "amount_cents",
                          (json_int_t)db_rows_int(rows, r, PCOL_AMOUNT), "currency",
                          db_rows_text(rows, r, PCOL_CURRENCY), "status", db_rows_text(rows, r, PCOL_STATUS),
                          "created_at", db_rows_text(rows, r, PCOL_CREATED), "updated_at",
                          db_rows_text(rows, r, PCOL_UPDATED));
    if (p && !db_rows_is_null(rows, r, PCOL_REDEEMED))
        json_object_set_new(p, "redeemed_at", json_string(db_rows_text(rows, r, PCOL_REDEEMED)));
    if (p && !db_rows_is_null(rows, r, PCOL_FAILURE))
        json_object_set_new(p, "failure_reason", json_string(db_rows_text(rows, r, PCOL_FAILURE)));
    return p;
}

/* The payout as JSON (read inside the caller's transaction, so it shows what was just written). */
static json_t *payout_load_json(db *db, int64_t id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT " PAYOUT_COLUMNS " FROM payouts WHERE id = ?", DB_PARAMS(db_int(id)), &rows, err) < 0)
        return NULL;
    json_t *p = NULL;
    if (rows.row_count == 0)
        error_set(err, ERROR_NOT_FOUND, "payout not found");
    else if (!(p = payout_row_json(&rows, 0)))
        error_set(err, ERROR_INTERNAL, "out of memory");
    db_rows_free(&rows);
    return p;
}

/* ---- POST /developers/me/payouts ------------------------------------------------------------ */

typedef struct {
    const config *cfg;
    const jws_keyring *keys;
    int64_t developer_id;
    int64_t amount;
    const char *currency;
    char *token;    /* out */
    json_t *payout; /* out */
} payout_request_ctx;

/* Strict body: {amount_cents: integer, currency: ISO 4217}; every problem reported at once. */
static int payout_check_request_body(const json_t *body, const config *cfg, mkt_error *err)
{
    if (!json_is_object(body))
        return error_add_field(err, "", "must be an object");
    static const char *const allowed[] = {"amount_cents", "currency", NULL};
    int problems = body_unknown_fields(body, allowed, err);

    json_t *amount = body_member(body, "amount_cents", JSON_INTEGER, err);
    if (!amount)
        problems++;
    else if (json_integer_value(amount) < 1 || json_integer_value(amount) > PAYOUT_AMOUNT_MAX)
        problems += (error_add_field(err, "amount_cents", "must be from 1 to %" PRId64, PAYOUT_AMOUNT_MAX), 1);
    else if (json_integer_value(amount) < cfg->min_payout_cents)
        problems += (error_add_field(err, "amount_cents", "must be at least the minimum payout of %" PRId64,
                                    cfg->min_payout_cents), 1);

    json_t *currency = body_member(body, "currency", JSON_STRING, err);
    if (!currency)
        problems++;
    else if (!money_currency_valid(json_string_value(currency)))
        problems += (error_add_field(err, "currency", "must be a supported ISO 4217 code"), 1);
    return problems ? -1 : 0;
}

/* One money line for a payout event, written after its transaction committed. */
static void payout_log(const char *event, const char *payout_id, int64_t developer_id, int64_t amount_cents,
                       const char *currency)
{
    char dev_text[24];
    money_log(event, json_pack("{s:s, s:s, s:I, s:s}", "payout_id", payout_id,
                               "developer_id", money_log_id(dev_text, developer_id), "amount_cents",
                               (json_int_t)amount_cents, "currency", currency));
}

/* The token the payout processor redeems: iss, aud, sub (developer), jti (payout id), amount_cents,
 * currency, iat and exp (iat + payout_token_ttl, also stored as the payout's expires_at). */
static char *payout_sign_token(const payout_request_ctx *ctx, int64_t payout_id, mkt_error *err)
{
    char sub[PAYOUT_ID_TEXT], jti[PAYOUT_ID_TEXT];
    snprintf(sub, sizeof sub, "%" PRId64, ctx->developer_id);
    snprintf(jti, sizeof jti, "%" PRId64, payout_id);
    int64_t iat = (int64_t)time(NULL);
    json_t *claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I}", "iss", ctx->cfg->issuer, "aud",
                               PAYOUT_AUDIENCE, "sub", sub, "jti", jti, "amount_cents", (json_int_t)ctx->amount,
                               "currency", ctx->currency, "iat", (json_int_t)iat, "exp",
                               (json_int_t)(iat + ctx->cfg->payout_token_ttl));
    if (!claims) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    char *token = jws_sign(ctx->keys, claims, err);
    json_decref(claims);
    return token;
}

/* Reads the available balance only after locking the developer's row: a concurrent request of the
 * same developer waits here until this one commits, and then sees the balance this one left. That
 * holds because the lock is the transaction's first statement: InnoDB takes the snapshot of a
 * REPEATABLE READ transaction at its first plain read (here ledger_balance), after the lock is ours.
 * Keep it first. */
static int payout_request_tx(db *db, void *arg, mkt_error *err)
{
    payout_request_ctx *ctx = arg;
    /* db_transaction may run this again after a deadlock: start from nothing. */
    free(ctx->token);
    ctx->token = NULL;
    json_decref(ctx->payout);
    ctx->payout = NULL;

    if (account_developer_lock(db, ctx->developer_id, err) < 0)
        return -1;

    char account[LEDGER_ACCOUNT_MAX];
    int64_t available = 0;
    if (ledger_account_developer(account, ctx->developer_id, LEDGER_BUCKET_AVAILABLE) < 0)
        return error_set(err, ERROR_INTERNAL, "bad developer id");
    if (ledger_balance(db, account, ctx->currency, &available, err) < 0)
        return -1;
    if (available < ctx->amount) {
        error_set(err, ERROR_VALIDATION, "amount_cents exceeds the available balance");
        /* the real balance, negative after a refund of money already paid out: the same figure
         * earnings shows, so the two answers never disagree */
        return error_add_field(err, "amount_cents", "exceeds the available balance of %" PRId64 " %s%s", available,
                               ctx->currency, available < 0 ? " (negative: later sales make it up first)" : "");
    }

    db_result result;
    if (db_exec(db,
                "INSERT INTO payouts (developer_id, amount_cents, currency, expires_at)"
                " VALUES (?, ?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND)",
                DB_PARAMS(db_int(ctx->developer_id), db_int(ctx->amount), db_text(ctx->currency),
                          db_int(ctx->cfg->payout_token_ttl)),
                &result, err) < 0)
        return -1;
    int64_t payout_id = (int64_t)result.insert_id;
    char jti[PAYOUT_ID_TEXT];
    snprintf(jti, sizeof jti, "%" PRId64, payout_id);
    if (db_exec(db, "UPDATE payouts SET token_jti = ? WHERE id = ?", DB_PARAMS(db_text(jti), db_int(payout_id)),
                NULL, err) < 0)
        return -1;
    if (ledger_post_payout_requested(db, payout_id, ctx->developer_id, ctx->currency, ctx->amount, err) < 0)
        return -1;
    /* Signed inside the transaction: a payout whose token could not be made must not exist. */
    if (!(ctx->token = payout_sign_token(ctx, payout_id, err)))
        return -1;
    return (ctx->payout = payout_load_json(db, payout_id, err)) ? 0 : -1;
}

json_t *payout_request(db *db, const config *cfg, const jws_keyring *keys, const account_caller *caller,
                       const json_t *body, mkt_error *err)
{
    if (!caller || caller->developer_id <= 0) {
        error_set(err, ERROR_FORBIDDEN, "a developer profile is required");
        return NULL;
    }
    if (payout_check_request_body(body, cfg, err) < 0)
        return NULL;
    if (!jws_keyring_signing_kid(keys)) {
        error_set(err, ERROR_UNAVAILABLE, "no signing key");
        return NULL;
    }
    payout_request_ctx ctx = {.cfg = cfg,
                              .keys = keys,
                              .developer_id = caller->developer_id,
                              .amount = (int64_t)json_integer_value(json_object_get(body, "amount_cents")),
                              .currency = json_string_value(json_object_get(body, "currency"))};
    if (db_transaction(db, payout_request_tx, &ctx, err) < 0) {
        free(ctx.token);
        json_decref(ctx.payout);
        return NULL;
    }
    payout_log("payout.requested", json_string_value(json_object_get(ctx.payout, "id")), ctx.developer_id, ctx.amount,
               ctx.currency);
    json_t *out = json_pack("{s:o, s:s}", "payout", ctx.payout, "token", ctx.token);
    free(ctx.token);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

/* ---- GET /developers/me/payouts ------------------------------------------------------------- */

json_t *payout_list(db *db, const account_caller *caller, int64_t page, int64_t per_page, mkt_error *err)
{
    if (!caller || caller->developer_id <= 0) {
        error_set(err, ERROR_FORBIDDEN, "a developer profile is required");
        return NULL;
    }
    if (paging_check(page, per_page, err) < 0)
        return NULL;
    db_rows count = {0}, rows = {0};
    if (db_query(db, "SELECT COUNT(*) FROM payouts WHERE developer_id = ?", DB_PARAMS(db_int(caller->developer_id)),
                 &count, err) < 0)
        return NULL;
    int64_t total = db_rows_int(&count, 0, 0);
    db_rows_free(&count);
    if (db_query(db, "SELECT " PAYOUT_COLUMNS " FROM payouts WHERE developer_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                 DB_PARAMS(db_int(caller->developer_id), db_int(per_page), db_int(paging_offset(page, per_page))),
                 &rows, err) < 0)
        return NULL;
    json_t *list = json_array();
    for (size_t r = 0; list && r < rows.row_count; r++)
        if (json_array_append_new(list, payout_row_json(&rows, r)) < 0) {
            json_decref(list);
            list = NULL;
        }
    db_rows_free(&rows);
    return paging_list(list, total, page, per_page, err);
}

/* ---- POST /payouts/redeem ------------------------------------------------------------------- */

typedef struct {
    int64_t payout_id, developer_id, amount;
    const char *currency;
    const char *jti;
    json_t *payout; /* out */
} payout_redeem_ctx;

/* An id in its one spelling (core/ident) of at most 18 digits; 0 otherwise. */
static int64_t payout_parse_id(const char *s)
{
    int64_t id;
    return s && strlen(s) <= 18 && ident_id_parse(s, &id) == 0 ? id : 0;
}

/* The claims every payout token must carry, beyond the signature. */
static int payout_read_claims(const json_t *claims, const config *cfg, payout_redeem_ctx *ctx, mkt_error *err)
{
    if (jws_check_audience(claims, PAYOUT_AUDIENCE, err) < 0 || jws_check_issuer(claims, cfg->issuer, err) < 0)
        return -1;
    /* A payout token without exp would be valid forever: refuse it rather than accept it. */
    if (!json_is_integer(json_object_get(claims, "exp")))
        return error_set(err, ERROR_UNAUTHORIZED, "token has no expiry");
    if (jws_check_time(claims, time(NULL), err) < 0)
        return -1;
    ctx->jti = json_string_value(json_object_get(claims, "jti"));
    ctx->payout_id = payout_parse_id(ctx->jti);
    ctx->developer_id = payout_parse_id(json_string_value(json_object_get(claims, "sub")));
    json_t *amount = json_object_get(claims, "amount_cents");
    ctx->amount = json_is_integer(amount) ? (int64_t)json_integer_value(amount) : 0;
    ctx->currency = json_string_value(json_object_get(claims, "currency"));
    if (!ctx->payout_id || !ctx->developer_id || ctx->amount <= 0 || !ctx->currency)
        return error_set(err, ERROR_UNAUTHORIZED, "not a payout token");
    return 0;
}

static int payout_redeem_tx(db *db, void *arg, mkt_error *err)
{
    payout_redeem_ctx *ctx = arg;
    json_decref(ctx->payout);
    ctx->payout = NULL;

    db_rows rows = {0};
    if (db_query(db,
                 "SELECT developer_id, amount_cents, currency, status, token_jti,"
                 " COALESCE(expires_at <= UTC_TIMESTAMP(6), 0) FROM payouts WHERE id = ? FOR UPDATE",
                 DB_PARAMS(db_int(ctx->payout_id)), &rows, err) < 0)
        return -1;
    enum { RCOL_DEVELOPER, RCOL_AMOUNT, RCOL_CURRENCY, RCOL_STATUS, RCOL_JTI, RCOL_PAST_EXPIRY };
    /* A correctly signed token that does not describe its payout exactly is not trusted either. */
    const char *jti = db_rows_text(&rows, 0, RCOL_JTI);
    int matches = rows.row_count == 1 && db_rows_int(&rows, 0, RCOL_DEVELOPER) == ctx->developer_id &&
                  db_rows_int(&rows, 0, RCOL_AMOUNT) == ctx->amount &&
                  strcmp(db_rows_text(&rows, 0, RCOL_CURRENCY), ctx->currency) == 0 && jti &&
                  strcmp(jti, ctx->jti) == 0;
    char status[16] = "";
    int past_expiry = 0;
    if (matches) {
        snprintf(status, sizeof status, "%s", db_rows_text(&rows, 0, RCOL_STATUS));
        past_expiry = db_rows_int(&rows, 0, RCOL_PAST_EXPIRY) != 0;
    }
    db_rows_free(&rows);
    if (!matches)
        return error_set(err, ERROR_UNAUTHORIZED, "token does not match a payout");
    /* The row's expiry is what the sweep goes by: once it has passed, the money is (or is about
     * to be) back in available, whatever the token's own exp says. */
    if (strcmp(status, "expired") == 0 || (strcmp(status, "requested") == 0 && past_expiry))
        return error_set(err, ERROR_GONE, "payout expired; its amount is back in the available balance");

    if (db_exec(db, "INSERT INTO payout_redemptions (jti, payout_id) VALUES (?, ?)",
                DB_PARAMS(db_text(ctx->jti), db_int(ctx->payout_id)), NULL, err) < 0) {
        if (db_last_errno(db) == DB_ER_DUP_ENTRY)
            error_set(err, ERROR_CONFLICT, "payout token already redeemed");
        return -1;
    }
    if (strcmp(status, "requested") != 0)
        return error_set(err, ERROR_CONFLICT, "payout is %s", status);
    if (db_exec(db,
                "UPDATE payouts SET status = 'processing', redeemed_at = UTC_TIMESTAMP(6), updated_at = UTC_TIMESTAMP(6)"
                " WHERE id = ?",
                DB_PARAMS(db_int(ctx->payout_id)), NULL, err) < 0)
        return -1;
    return (ctx->payout = payout_load_json(db, ctx->payout_id, err)) ? 0 : -1;
}

json_t *payout_redeem(db *db, const config *cfg, const jws_keyring *keys, const json_t *body, mkt_error *err)
{
    if (!json_is_object(body)) {
        error_add_field(err, "", "must be an object");
        return NULL;
    }
    static const char *const allowed[] = {"token", NULL};
    int problems = body_unknown_fields(body, allowed, err);
    json_t *token = body_member(body, "token", JSON_STRING, err);
    if (!token || problems)
        return NULL;

    json_t *claims = jws_verify(keys, json_string_value(token), err);
    if (!claims)
        return NULL;
    payout_redeem_ctx ctx = {0};
    int rc = payout_read_claims(claims, cfg, &ctx, err);
    if (rc == 0)
        rc = db_transaction(db, payout_redeem_tx, &ctx, err);
    json_decref(claims); /* ctx.jti and ctx.currency point into it */
    if (rc < 0) {
        json_decref(ctx.payout);
        return NULL;
    }
    payout_log("payout.redeemed", json_string_value(json_object_get(ctx.payout, "id")), ctx.developer_id, ctx.amount,
               json_string_value(json_object_get(ctx.payout, "currency")));
    json_t *out = json_pack("{s:o}", "payout", ctx.payout);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

/* ---- payout.paid / payout.failed ------------------------------------------------------------ */

typedef struct {
    int64_t payout_id;
    const char *target; /* "paid" | "failed" */
    const char *reason; /* failed only; already cut to PAYOUT_REASON_MAX */
    payout_outcome *out;
} payout_finish_ctx;

/* What the provider's word does to a payout already past requested/processing. The same outcome
 * again, or failed after expired (the money is already back), is nothing new. Anything else
 * contradicts what we recorded (paid after failed or expired: the money may have left twice;
 * failed after paid: the developer may be owed it): the money stays where it is, the payout is
 * flagged and the event is acknowledged, since no retry could ever change it. */
static int payout_finish_final(db *db, payout_finish_ctx *ctx, payout_outcome *o, mkt_error *err)
{
    if (strcmp(o->status, ctx->target) == 0 || (strcmp(o->status, "expired") == 0 && strcmp(ctx->target, "failed") == 0))
        return 0;
    o->flagged = 1;
    return db_exec(db, "UPDATE payouts SET flagged_for_review = 1, updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
                   DB_PARAMS(db_int(ctx->payout_id)), NULL, err);
}

static int payout_finish_tx(db *db, void *arg, mkt_error *err)
{
    payout_finish_ctx *ctx = arg;
    payout_outcome scratch, *o = ctx->out ? ctx->out : &scratch;
    memset(o, 0, sizeof *o);
    db_rows rows = {0};
    if (db_query(db, "SELECT developer_id, amount_cents, currency, status FROM payouts WHERE id = ? FOR UPDATE",
                 DB_PARAMS(db_int(ctx->payout_id)), &rows, err) < 0)
        return -1;
    if (rows.row_count == 0) {
        db_rows_free(&rows);
        return error_set(err, ERROR_NOT_FOUND, "payout not found");
    }
    enum { FCOL_DEVELOPER, FCOL_AMOUNT, FCOL_CURRENCY, FCOL_STATUS };
    o->developer_id = db_rows_int(&rows, 0, FCOL_DEVELOPER);
    o->amount_cents = db_rows_int(&rows, 0, FCOL_AMOUNT);
    snprintf(o->currency, sizeof o->currency, "%s", db_rows_text(&rows, 0, FCOL_CURRENCY));
    snprintf(o->status, sizeof o->status, "%s", db_rows_text(&rows, 0, FCOL_STATUS));
    db_rows_free(&rows);

    if (strcmp(o->status, "requested") != 0 && strcmp(o->status, "processing") != 0)
        return payout_finish_final(db, ctx, o, err);
    if (db_exec(db, "UPDATE payouts SET status = ?, failure_reason = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
                DB_PARAMS(db_text(ctx->target), db_text(ctx->reason), db_int(ctx->payout_id)), NULL, err) < 0)
        return -1;
    o->changed = 1;
    if (strcmp(ctx->target, "paid") == 0)
        return ledger_post_payout_paid(db, ctx->payout_id, o->developer_id, o->currency, o->amount_cents, err);
    return ledger_post_payout_failed(db, ctx->payout_id, o->developer_id, o->currency, o->amount_cents, err);
}

/* Cut at a UTF-8 boundary: PAYOUT_REASON_MAX bytes are at most that many characters, so the column
 * always fits whatever the provider sent. */
static const char *payout_cut_reason(const char *reason, char cut[PAYOUT_REASON_MAX + 1])
{
    if (!reason)
        return NULL;
    snprintf(cut, PAYOUT_REASON_MAX + 1, "%s", reason);
    size_t len = strlen(cut);
    if (reason[len] != '\0')
        while (len > 0 && ((unsigned char)reason[len] & 0xC0) == 0x80)
            cut[--len] = '\0';
    return cut;
}

int payout_mark_paid_tx(db *db, int64_t payout_id, payout_outcome *out, mkt_error *err)
{
    payout_finish_ctx ctx = {.payout_id = payout_id, .target = "paid", .out = out};
    return payout_finish_tx(db, &ctx, err);
}

int payout_mark_failed_tx(db *db, int64_t payout_id, const char *reason, payout_outcome *out, mkt_error *err)
{
    char cut[PAYOUT_REASON_MAX + 1];
    payout_finish_ctx ctx = {.payout_id = payout_id, .target = "failed", .reason = payout_cut_reason(reason, cut),
                             .out = out};
    return payout_finish_tx(db, &ctx, err);
}

void payout_log_outcome(const char *target, int64_t payout_id, const payout_outcome *o, const char *reason)
{
    char id_text[24], dev_text[24];
    const char *event = !o->changed ? "webhook.ignored" : strcmp(target, "paid") == 0 ? "payout.paid" : "payout.failed";
    json_t *fields = json_pack("{s:s, s:s, s:I, s:s, s:s, s:b}", "payout_id", money_log_id(id_text, payout_id),
                               "developer_id", money_log_id(dev_text, o->developer_id), "amount_cents",
                               (json_int_t)o->amount_cents, "currency", o->currency, "was", o->status, "flagged",
                               o->flagged);
    if (fields && !o->changed)
        json_object_set_new(fields, "said", json_string(target));
    if (fields && reason && strcmp(target, "failed") == 0)
        json_object_set_new(fields, "reason", json_string(reason));
    money_log(event, fields);
}

int payout_mark_paid(db *db, int64_t payout_id, mkt_error *err)
{
    payout_outcome o;
    payout_finish_ctx ctx = {.payout_id = payout_id, .target = "paid", .out = &o};
    if (db_transaction(db, payout_finish_tx, &ctx, err) < 0)
        return -1;
    payout_log_outcome("paid", payout_id, &o, NULL);
    return 0;
}

int payout_mark_failed(db *db, int64_t payout_id, const char *reason, mkt_error *err)
{
    char cut[PAYOUT_REASON_MAX + 1];
    payout_outcome o;
    payout_finish_ctx ctx = {.payout_id = payout_id, .target = "failed", .reason = payout_cut_reason(reason, cut),
                             .out = &o};
    if (db_transaction(db, payout_finish_tx, &ctx, err) < 0)
        return -1;
    payout_log_outcome("failed", payout_id, &o, reason);
    return 0;
}

/* ---- the expiry sweep ------------------------------------------------------------------------ */

typedef struct {
    size_t limit;
    size_t count;                      /* out: how many this batch expired */
    payout_outcome expired[PAYOUT_SWEEP_BATCH];
    int64_t ids[PAYOUT_SWEEP_BATCH];
} payout_sweep_ctx;

/* SKIP LOCKED: rows another worker's sweep (or a redeem in flight) holds are left to it, so
 * concurrent sweeps never wait on each other; the conditional UPDATE makes "exactly once" hold
 * even without the lock, and the ledger's unique (kind, ref) key would refuse a second posting. */
static int payout_sweep_tx(db *db, void *arg, mkt_error *err)
{
    payout_sweep_ctx *ctx = arg;
    ctx->count = 0;
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT id, developer_id, amount_cents, currency FROM payouts"
                 " WHERE status = 'requested' AND expires_at <= UTC_TIMESTAMP(6)"
                 " ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED",
                 DB_PARAMS(db_int((int64_t)ctx->limit)), &rows, err) < 0)
        return -1;
    enum { ECOL_ID, ECOL_DEVELOPER, ECOL_AMOUNT, ECOL_CURRENCY };
    int rc = 0;
    for (size_t r = 0; r < rows.row_count && rc == 0; r++) {
        int64_t id = db_rows_int(&rows, r, ECOL_ID);
        payout_outcome *o = &ctx->expired[ctx->count];
        memset(o, 0, sizeof *o);
        o->developer_id = db_rows_int(&rows, r, ECOL_DEVELOPER);
        o->amount_cents = db_rows_int(&rows, r, ECOL_AMOUNT);
        snprintf(o->currency, sizeof o->currency, "%s", db_rows_text(&rows, r, ECOL_CURRENCY));
        snprintf(o->status, sizeof o->status, "requested");
        db_result res = {0};
        rc = db_exec(db,
                     "UPDATE payouts SET status = 'expired', updated_at = UTC_TIMESTAMP(6)"
                     " WHERE id = ? AND status = 'requested'",
                     DB_PARAMS(db_int(id)), &res, err);
        if (rc == 0 && res.affected_rows == 1) {
            /* the same movement as a failed payout: payout_pending back to available */
            rc = ledger_post_payout_failed(db, id, o->developer_id, o->currency, o->amount_cents, err);
            o->changed = 1;
            ctx->ids[ctx->count++] = id;
        }
    }
    db_rows_free(&rows);
    return rc;
}

int payout_expire_due(db *db, mkt_error *err)
{
    payout_sweep_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    ctx->limit = PAYOUT_SWEEP_BATCH;
    int total = 0;
    do {
        if (db_transaction(db, payout_sweep_tx, ctx, err) < 0) {
            free(ctx);
            return -1;
        }
        for (size_t i = 0; i < ctx->count; i++) {
            char id_text[24];
            const payout_outcome *o = &ctx->expired[i];
            payout_log("payout.expired", money_log_id(id_text, ctx->ids[i]), o->developer_id, o->amount_cents,
                       o->currency);
        }
        total += (int)ctx->count;
    } while (ctx->count == PAYOUT_SWEEP_BATCH && total < 100 * PAYOUT_SWEEP_BATCH);
    free(ctx);
    return total;
}

/* ---- invariants ----------------------------------------------------------------------------- */

int payout_check_invariants(db *db, mkt_error *err)
{
    /* Per payout: how many postings of each kind refer to it, and what they left on the developer's
     * payout_pending account and on external:payouts in the payout's currency. */
    static const char sql[] =
        "SELECT p.id, p.status, p.amount_cents,"
        " COALESCE(SUM(lp.kind = 'payout_requested'), 0), COALESCE(SUM(lp.kind = 'payout_paid'), 0),"
        " COALESCE(SUM(lp.kind = 'payout_failed'), 0),"
        " (SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_postings q JOIN ledger_entries e ON e.posting_id = q.id"
        "   WHERE q.ref_type = 'payout' AND q.ref_id = p.id AND e.currency = p.currency"
        "   AND e.account = CONCAT('developer:', p.developer_id, ':payout_pending')),"
        " (SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_postings q JOIN ledger_entries e ON e.posting_id = q.id"
        "   WHERE q.ref_type = 'payout' AND q.ref_id = p.id AND e.currency = p.currency"
        "   AND e.account = 'external:payouts')"
        " FROM payouts p LEFT JOIN ledger_postings lp ON lp.ref_type = 'payout' AND lp.ref_id = p.id"
        " GROUP BY p.id, p.status, p.amount_cents, p.currency, p.developer_id";
    db_rows rows = {0};
    if (db_query(db, sql, DB_NO_PARAMS, &rows, err) < 0)
        return -1;
    enum { ICOL_ID, ICOL_STATUS, ICOL_AMOUNT, ICOL_REQUESTED, ICOL_PAID, ICOL_FAILED, ICOL_PENDING, ICOL_PAID_OUT };
    int rc = 0;
    for (size_t r = 0; r < rows.row_count && rc == 0; r++) {
        const char *status = db_rows_text(&rows, r, ICOL_STATUS);
        int64_t amount = db_rows_int(&rows, r, ICOL_AMOUNT);
        /* an expired payout's money came back exactly as a failed one's did */
        int paid = strcmp(status, "paid") == 0, failed = strcmp(status, "failed") == 0 || strcmp(status, "expired") == 0;
        int open = !paid && !failed;
        if (db_rows_int(&rows, r, ICOL_REQUESTED) != 1 || db_rows_int(&rows, r, ICOL_PAID) != paid ||
            db_rows_int(&rows, r, ICOL_FAILED) != failed ||
            db_rows_int(&rows, r, ICOL_PENDING) != (open ? amount : 0) ||
            db_rows_int(&rows, r, ICOL_PAID_OUT) != (paid ? amount : 0))
            rc = error_set(err, ERROR_INTERNAL,
                           "payout %s (%s, %" PRId64 "): postings requested %s paid %s failed %s, pending %s,"
                           " paid out %s",
                           db_rows_text(&rows, r, ICOL_ID), status, amount, db_rows_text(&rows, r, ICOL_REQUESTED),
                           db_rows_text(&rows, r, ICOL_PAID), db_rows_text(&rows, r, ICOL_FAILED),
                           db_rows_text(&rows, r, ICOL_PENDING), db_rows_text(&rows, r, ICOL_PAID_OUT));
    }
    db_rows_free(&rows);
    return rc;
}

static int payout_expire_job(db *db, const config *cfg, mkt_error *err)
{
    (void)cfg;
    return payout_expire_due(db, err) < 0 ? -1 : 0;
}

/* The money of an expired token must come back without any request having to arrive; once per
 * payout_sweep_interval across every worker of every host (core/cluster.h). */
static void payout_sweep_hook(service_worker *sw)
{
    static cluster_job job = {.name = "payout_expiry"};
    cluster_job_every(sw, &job, sw->cfg->payout_sweep_interval, payout_expire_job);
}

const service_hooks payout_service = {
    .name = "payout", .worker_idle = payout_sweep_hook, .worker_after_request = payout_sweep_hook};

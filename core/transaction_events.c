/* The provider's side of a purchase: completing a transaction (also used by free checkouts) and the
 * signed webhook events that move transactions between states.
 *
 * Owns the webhook_events table (the only file that writes it). The transactions rows themselves
 * are written through transaction_store_* (core/transaction_manager.c owns that table), access
 * through core/tool_access, the download counter through core/tool_usage. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/activity.h"
#include "core/ident.h"
#include "core/ledger.h"
#include "core/log.h"
#include "core/money.h"
#include "core/money_log.h"
#include "core/payout.h"
#include "core/tool_access.h"
#include "core/tool_usage.h"
#include "core/text.h"
#include "core/transaction_internal.h"
#include "core/transaction_manager.h"
#include "core/webhook.h"


int transaction_parse_id_text(const char *text, int64_t *out)
{
    /* the one spelling of an id (core/ident), and at most 18 digits as these ids always were */
    return text && strlen(text) <= 18 && ident_id_parse(text, out) == 0 ? 0 : -1;
}

/* The days one purchase buys: 0 is access for good (one_time and free). */
static int64_t transaction_access_days(const transaction_row *t)
{
    return strcmp(t->pricing_model, "subscription") == 0 ? t->period_days : 0;
}

/* A completed purchase, for the download rule (core/tool_usage). A buyer cannot buy their own tool. */
static int transaction_count_download(db *db, const transaction_row *t, mkt_error *err)
{
    tool_usage_event e = {.kind = TOOL_USAGE_PURCHASE, .tool_id = t->tool_id, .user_id = t->buyer_user_id,
                          .pricing_model = t->pricing_model};
    return tool_usage_count_download(db, &e, err) < 0 ? -1 : 0;
}

/* The plan in a receipt's claims: which plan, and the terms it was bought on. */
static int transaction_receipt_plan(json_t *claims, const transaction_row *t)
{
    char plan[24];
    snprintf(plan, sizeof plan, "%" PRId64, t->plan_id);
    json_t *terms = json_pack("{s:s, s:s, s:s}", "id", plan, "name", t->plan_name, "model", t->pricing_model);
    if (terms && t->period_days > 0 && strcmp(t->pricing_model, "subscription") == 0)
        json_object_set_new(terms, "period_days", json_integer(t->period_days));
    if (terms && t->quota > 0)
        json_object_set_new(terms, "quota", json_integer(t->quota));
    if (terms && t->rate_per_minute > 0)
        json_object_set_new(terms, "rate_per_minute", json_integer(t->rate_per_minute));
    return terms ? json_object_set_new(claims, "plan", terms) : -1;
}

/* The purchase's receipt (malloc'd JWS), signed before the row is written so the completion and
 * the receipt are one UPDATE. NULL with err. */
static char *transaction_sign_receipt(const config *cfg, const jws_keyring *keys, const transaction_row *t,
                                      mkt_error *err)
{
    char jti[40], txn[24], tool[24], sub[24];
    snprintf(jti, sizeof jti, "rcpt_%" PRId64, t->id);
    snprintf(txn, sizeof txn, "%" PRId64, t->id);
    snprintf(tool, sizeof tool, "%" PRId64, t->tool_id);
    snprintf(sub, sizeof sub, "%" PRId64, t->buyer_user_id);
    json_t *claims = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:I, s:I}", "iss", cfg->issuer, "sub", sub,
                               "jti", jti, "iat", (json_int_t)time(NULL), "txn", txn, "tool", tool, "amount_cents",
                               (json_int_t)t->amount_cents, "currency", t->currency, "developer_cents",
                               (json_int_t)t->developer_cents, "platform_cents", (json_int_t)t->platform_cents);
    if (claims && t->plan_id > 0 && transaction_receipt_plan(claims, t) < 0) {
        json_decref(claims);
        claims = NULL;
    }
    if (!claims) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    char *token = jws_sign(keys, claims, err);
    json_decref(claims);
    return token;
}

/* Access on the terms bought: a purchase that names its plan records them on the access. */
static int transaction_grant(db *db, const transaction_row *t, mkt_error *err)
{
    if (t->plan_id <= 0)
        return tool_access_grant(db, t->buyer_user_id, t->tool_id, transaction_access_days(t), err);
    tool_access_terms terms = {.plan_id = t->plan_id, .period_days = t->period_days, .quota = t->quota,
                               .rate_per_minute = t->rate_per_minute};
    snprintf(terms.plan_name, sizeof terms.plan_name, "%s", t->plan_name);
    snprintf(terms.model, sizeof terms.model, "%s", t->pricing_model);
    return tool_access_grant_plan(db, t->buyer_user_id, t->tool_id, &terms, err);
}

int transaction_complete_locked(db *db, const config *cfg, const jws_keyring *keys, const transaction_row *t,
                                mkt_error *err)
{
    char *receipt = transaction_sign_receipt(cfg, keys, t, err);
    int rc = receipt ? transaction_store_completed(db, t, receipt, err) : -1;
    free(receipt);
    if (rc < 0)
        return -1;
    /* the ledger skips a zero amount itself; the call stays so the rule lives in one place */
    if (ledger_post_purchase(db, t->id, t->developer_id, t->currency, t->amount_cents, t->developer_cents,
                             t->platform_cents, err) < 0)
        return -1;
    if (transaction_grant(db, t, err) < 0 ||
        transaction_count_download(db, t, err) < 0 || activity_purchase(db, t->buyer_user_id, t->tool_id, err) < 0)
        return -1;
    return 0;
}

void transaction_log(const char *event, const transaction_row *t, json_t *extra)
{
    char id[24], buyer[24], developer[24], tool[24];
    json_t *fields = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I}", "transaction_id", money_log_id(id, t->id),
                               "buyer_user_id", money_log_id(buyer, t->buyer_user_id), "developer_id",
                               money_log_id(developer, t->developer_id), "tool_id", money_log_id(tool, t->tool_id),
                               "amount_cents", (json_int_t)t->amount_cents, "currency", t->currency,
                               "developer_cents", (json_int_t)t->developer_cents, "platform_cents",
                               (json_int_t)t->platform_cents);
    if (fields && extra)
        json_object_update(fields, extra);
    json_decref(extra);
    money_log(event, fields);
}

/* ---- webhook events ----------------------------------------------------------------------------- */

typedef enum {
    EVENT_PAYMENT_SUCCEEDED,
    EVENT_PAYMENT_FAILED,
    EVENT_PAYMENT_REFUNDED,
    EVENT_PAYOUT_PAID,
    EVENT_PAYOUT_FAILED,
} transaction_event_type;

typedef struct {
    const config *cfg;
    const jws_keyring *keys;
    const char *event_id, *type_name;
    transaction_event_type type;
    int64_t object_id;     /* transaction_id or payout_id */
    int64_t amount_cents;  /* -1 when the event carries none */
    const char *currency;  /* NULL when the event carries none */
    const char *reason;
    /* outcome */
    int duplicate;
    int flag;              /* set: flag object_id for review after the rollback */
    int flagged;           /* an acknowledged event that contradicted our records was flagged */
    int changed;           /* the event moved a transaction or payout */
    const char *refusal;   /* why it was refused, for the log (money_log.h lists the reasons) */
    char applied[96];      /* what happened, for the acknowledgement and the log */
    transaction_row row;   /* the transaction as locked (payment events) */
    payout_outcome payout; /* what the payout step did (payout events) */
} transaction_event;

/* Reads an id given as a JSON string of digits (IDs are strings in JSON) or a positive integer. */
static int transaction_json_id(const json_t *v, int64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = json_integer_value(v);
        return 0;
    }
    return json_is_string(v) ? transaction_parse_id_text(json_string_value(v), out) : -1;
}

/* An event id is stored and compared as a token: 1..255 printable ASCII characters, no space. */
static int transaction_event_id_valid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 255 && text_printable_ascii(s, n, TEXT_SPACE_REFUSED);
}

static int transaction_event_read(const json_t *ev, transaction_event *out, mkt_error *err)
{
    if (!json_is_object(ev))
        return error_set(err, ERROR_BAD_REQUEST, "the event must be a JSON object {id, type, created, data}");
    const json_t *id = json_object_get(ev, "id"), *type = json_object_get(ev, "type");
    const json_t *created = json_object_get(ev, "created"), *data = json_object_get(ev, "data");
    if (!json_is_string(id) || !transaction_event_id_valid(json_string_value(id)))
        error_add_field(err, "id", "must be 1 to 255 printable ASCII characters");
    if (!json_is_string(type))
        error_add_field(err, "type", "must be a string");
    if (!json_is_integer(created) || json_integer_value(created) < 0)
        error_add_field(err, "created", "must be a non-negative integer (Unix seconds)");
    if (!json_is_object(data))
        error_add_field(err, "data", "must be an object");
    if (error_is_set(err))
        return error_set(err, ERROR_VALIDATION, "invalid event");
    out->event_id = json_string_value(id);
    out->type_name = json_string_value(type);
    static const struct {
        const char *name;
        transaction_event_type type;
    } types[] = {
        {"payment.succeeded", EVENT_PAYMENT_SUCCEEDED}, {"payment.failed", EVENT_PAYMENT_FAILED},
        {"payment.refunded", EVENT_PAYMENT_REFUNDED},   {"payout.paid", EVENT_PAYOUT_PAID},
        {"payout.failed", EVENT_PAYOUT_FAILED},
    };
    size_t i = 0;
    while (i < sizeof types / sizeof types[0] && strcmp(types[i].name, out->type_name) != 0)
        i++;
    if (i == sizeof types / sizeof types[0]) {
        out->refusal = "unknown_event";
        error_add_field(err, "type", "unsupported event type");
        char clipped[65];
        return error_set(err, ERROR_VALIDATION, "unsupported event type \"%s\"",
                         error_text_clip(clipped, sizeof clipped, out->type_name));
    }
    out->type = types[i].type;
    out->amount_cents = -1;
    int payout = out->type == EVENT_PAYOUT_PAID || out->type == EVENT_PAYOUT_FAILED;
    const char *id_field = payout ? "payout_id" : "transaction_id";
    if (transaction_json_id(json_object_get(data, id_field), &out->object_id) < 0)
        error_add_field(err, payout ? "data.payout_id" : "data.transaction_id", "must be an id (a string of digits)");
    if (out->type == EVENT_PAYMENT_SUCCEEDED || out->type == EVENT_PAYMENT_REFUNDED) {
        const json_t *amount = json_object_get(data, "amount_cents");
        if (!json_is_integer(amount) || json_integer_value(amount) < 0)
            error_add_field(err, "data.amount_cents", "must be a non-negative integer");
        else
            out->amount_cents = json_integer_value(amount);
    }
    if (out->type == EVENT_PAYMENT_SUCCEEDED) {
        const json_t *currency = json_object_get(data, "currency");
        if (!json_is_string(currency) || !money_currency_valid(json_string_value(currency)))
            error_add_field(err, "data.currency", "must be an ISO 4217 code such as USD");
        else
            out->currency = json_string_value(currency);
    }
    if (out->type == EVENT_PAYMENT_FAILED || out->type == EVENT_PAYOUT_FAILED) {
        const json_t *reason = json_object_get(data, "reason");
        out->reason = json_is_string(reason) ? json_string_value(reason) : "unspecified";
    }
    if (error_is_set(err))
        return error_set(err, ERROR_VALIDATION, "invalid %s event", out->type_name);
    return 0;
}

static int transaction_on_succeeded(db *db, transaction_event *ev, const transaction_row *t, mkt_error *err)
{
    if (ev->amount_cents != t->amount_cents || strcmp(ev->currency, t->currency) != 0) {
        ev->flag = 1;
        ev->refusal = "amount_mismatch";
        return error_set(err, ERROR_VALIDATION,
                         "payment of %" PRId64 " %s does not match transaction %" PRId64 " (%" PRId64 " %s);"
                         " flagged for review",
                         ev->amount_cents, ev->currency, t->id, t->amount_cents, t->currency);
    }
    if (strcmp(t->status, "pending") != 0 && strcmp(t->status, "failed") != 0) {
        snprintf(ev->applied, sizeof ev->applied, "already %s", t->status);
        return 0; /* another event for the same payment: nothing more to do */
    }
    if (transaction_complete_locked(db, ev->cfg, ev->keys, t, err) < 0)
        return -1;
    ev->changed = 1;
    snprintf(ev->applied, sizeof ev->applied, "completed");
    return 0;
}

static int transaction_on_failed(db *db, transaction_event *ev, const transaction_row *t, mkt_error *err)
{
    if (strcmp(t->status, "pending") != 0) {
        snprintf(ev->applied, sizeof ev->applied, "already %s", t->status);
        return 0;
    }
    snprintf(ev->applied, sizeof ev->applied, "failed");
    ev->changed = 1;
    return transaction_store_status(db, t->id, "failed", err);
}

static int transaction_on_refunded(db *db, transaction_event *ev, const transaction_row *t, mkt_error *err)
{
    /* A refund proves the payment succeeded: its payment.succeeded is still on its way, and the
     * refund can apply once it has arrived. The one answer that asks for a retry. */
    if (strcmp(t->status, "pending") == 0) {
        ev->refusal = "not_yet";
        return error_set(err, ERROR_CONFLICT, "transaction %" PRId64 " is not completed yet; retry later", t->id);
    }
    if (strcmp(t->status, "refunded") == 0) {
        snprintf(ev->applied, sizeof ev->applied, "already refunded");
        return 0;
    }
    if (strcmp(t->status, "completed") != 0) {
        /* money the provider says it gave back, for a payment it told us failed: a human looks */
        ev->flag = 1;
        ev->refusal = "invalid_state";
        return error_set(err, ERROR_VALIDATION, "transaction %" PRId64 " is %s; nothing to refund; flagged for review",
                         t->id, t->status);
    }
    if (ev->amount_cents != t->amount_cents) {
        /* partial refunds are not supported: a human looks at it */
        ev->flag = 1;
        ev->refusal = "amount_mismatch";
        return error_set(err, ERROR_VALIDATION,
                         "refund of %" PRId64 " does not match transaction %" PRId64 " (%" PRId64
                         "); flagged for review",
                         ev->amount_cents, t->id, t->amount_cents);
    }
    if (transaction_store_status(db, t->id, "refunded", err) < 0 ||
        ledger_post_refund(db, t->id, t->developer_id, t->currency, t->amount_cents, t->developer_cents,
                           t->platform_cents, err) < 0 ||
        (t->plan_id > 0 ? tool_access_revoke_plan(db, t->buyer_user_id, t->tool_id, t->plan_id,
                                                  transaction_access_days(t), err)
                        : tool_access_revoke(db, t->buyer_user_id, t->tool_id, transaction_access_days(t), err)) < 0)
        return -1;
    ev->changed = 1;
    snprintf(ev->applied, sizeof ev->applied, "refunded");
    return 0;
}

/* Payouts are core/payout's; the _tx variants run inside this event's transaction, so the event id
 * and the payout's step commit together like the payment events. */
static int transaction_on_payout(db *db, transaction_event *ev, mkt_error *err)
{
    const char *target = ev->type == EVENT_PAYOUT_PAID ? "paid" : "failed";
    int rc = ev->type == EVENT_PAYOUT_PAID ? payout_mark_paid_tx(db, ev->object_id, &ev->payout, err)
                                           : payout_mark_failed_tx(db, ev->object_id, ev->reason, &ev->payout, err);
    if (rc < 0) {
        if (err->kind == ERROR_NOT_FOUND) {
            ev->refusal = "unknown_object";
            error_set(err, ERROR_VALIDATION, "unknown payout %" PRId64, ev->object_id);
        }
        return -1;
    }
    ev->changed = ev->payout.changed;
    ev->flagged = ev->payout.flagged;
    if (ev->changed)
        snprintf(ev->applied, sizeof ev->applied, "%s", target);
    else if (ev->flagged)
        snprintf(ev->applied, sizeof ev->applied, "ignored: payout is %s; flagged for review", ev->payout.status);
    else
        snprintf(ev->applied, sizeof ev->applied, "already %s", ev->payout.status);
    return 0;
}

/* One event = one database transaction: the event id and the effect commit together or not at all,
 * so a concurrent or later duplicate finds the id and does nothing. */
static int transaction_event_tx(db *db, void *arg, mkt_error *err)
{
    transaction_event *ev = arg;
    ev->duplicate = 0;
    ev->flag = 0;
    ev->flagged = 0;
    ev->changed = 0;
    ev->refusal = NULL;
    ev->applied[0] = '\0';
    db_result res = {0};
    if (db_exec(db, "INSERT IGNORE INTO webhook_events (event_id, type) VALUES (?, ?)",
                DB_PARAMS(db_text(ev->event_id), db_text(ev->type_name)), &res, err) < 0)
        return -1;
    if (res.affected_rows == 0) {
        ev->duplicate = 1;
        return 0;
    }
    int rc;
    if (ev->type == EVENT_PAYOUT_PAID || ev->type == EVENT_PAYOUT_FAILED) {
        rc = transaction_on_payout(db, ev, err);
    } else if (transaction_lock_row(db, ev->object_id, &ev->row, err) < 0) {
        if (err->kind == ERROR_NOT_FOUND) {
            ev->refusal = "unknown_object";
            error_set(err, ERROR_VALIDATION, "unknown transaction %" PRId64, ev->object_id);
        }
        return -1;
    } else if (ev->type == EVENT_PAYMENT_SUCCEEDED) {
        rc = transaction_on_succeeded(db, ev, &ev->row, err);
    } else if (ev->type == EVENT_PAYMENT_FAILED) {
        rc = transaction_on_failed(db, ev, &ev->row, err);
    } else {
        rc = transaction_on_refunded(db, ev, &ev->row, err);
    }
    if (rc < 0)
        return -1;
    /* the event row says what it did, so an acknowledged no-op can be explained later */
    return db_exec(db, "UPDATE webhook_events SET result = ? WHERE event_id = ?",
                   DB_PARAMS(db_text(ev->applied), db_text(ev->event_id)), NULL, err);
}

/* Why a signature was refused, in the words of the log: a stale timestamp is a clock (or replay)
 * problem, anything else a secret problem. */
static const char *transaction_signature_refusal(const mkt_error *err)
{
    return err->message && strstr(err->message, "timestamp outside") ? "stale_timestamp" : "bad_signature";
}

static void transaction_log_refused(const transaction_event *ev, const mkt_error *err)
{
    char id[24];
    json_t *fields = json_pack("{s:s, s:s}", "reason", ev->refusal ? ev->refusal : "error", "detail",
                               err->message ? err->message : "");
    if (fields && ev->event_id)
        json_object_set_new(fields, "event_id", json_string(ev->event_id));
    if (fields && ev->type_name)
        json_object_set_new(fields, "event_type", json_string(ev->type_name));
    if (fields && ev->object_id > 0)
        json_object_set_new(fields,
                            ev->type == EVENT_PAYOUT_PAID || ev->type == EVENT_PAYOUT_FAILED ? "payout_id"
                                                                                             : "transaction_id",
                            json_string(money_log_id(id, ev->object_id)));
    if (fields && ev->flag)
        json_object_set_new(fields, "flagged", json_true());
    money_log("webhook.refused", fields);
}

/* After the commit: one line saying what the accepted event did. */
static void transaction_log_applied(const transaction_event *ev)
{
    json_t *extra = json_pack("{s:s, s:s, s:s}", "event_id", ev->event_id, "event_type", ev->type_name, "result",
                              ev->duplicate ? "duplicate" : ev->applied);
    if (ev->duplicate) {
        money_log("webhook.duplicate", extra);
        return;
    }
    if (ev->type == EVENT_PAYOUT_PAID || ev->type == EVENT_PAYOUT_FAILED) {
        json_decref(extra);
        payout_log_outcome(ev->type == EVENT_PAYOUT_PAID ? "paid" : "failed", ev->object_id, &ev->payout,
                           ev->reason);
        return;
    }
    static const char *events[] = {[EVENT_PAYMENT_SUCCEEDED] = "purchase.completed",
                                   [EVENT_PAYMENT_FAILED] = "purchase.failed",
                                   [EVENT_PAYMENT_REFUNDED] = "purchase.refunded"};
    if (extra && ev->type == EVENT_PAYMENT_FAILED)
        json_object_set_new(extra, "reason", json_string(ev->reason));
    transaction_log(ev->changed ? events[ev->type] : "webhook.ignored", &ev->row, extra);
}

int transaction_webhook(db *db, const config *cfg, const jws_keyring *keys, const char *signature_header,
                        const char *raw_body, size_t raw_len, time_t now, json_t **out, mkt_error *err)
{
    *out = NULL;
    /* nothing from the body is looked at before the signature over its exact bytes checks out */
    transaction_event ev = {.cfg = cfg, .keys = keys};
    if (webhook_verify(cfg->webhook_secret, signature_header, raw_body, raw_len, now, WEBHOOK_TOLERANCE, err) < 0) {
        ev.refusal = transaction_signature_refusal(err);
        transaction_log_refused(&ev, err); /* nothing of the unsigned body is trusted, not even its id */
        return -1;
    }
    json_error_t jerr;
    json_t *event = json_loadb(raw_body, raw_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!event) {
        error_set(err, ERROR_BAD_REQUEST, "malformed JSON: %s", jerr.text);
        ev.refusal = "malformed";
        transaction_log_refused(&ev, err);
        return -1;
    }
    int rc = transaction_event_read(event, &ev, err);
    if (rc < 0 && !ev.refusal)
        ev.refusal = "invalid_event";
    if (rc == 0)
        rc = db_transaction(db, transaction_event_tx, &ev, err);
    if (rc < 0 && !ev.refusal)
        ev.refusal = err->kind == ERROR_UNAVAILABLE ? "unavailable" : "error";
    if (rc < 0)
        transaction_log_refused(&ev, err);
    else
        transaction_log_applied(&ev);
    if (rc < 0 && ev.flag) {
        /* the event is refused (and not recorded, so the provider may retry), but the flag stays */
        mkt_error flag_err = MKT_ERROR_INIT;
        if (transaction_store_flag(db, ev.object_id, &flag_err) < 0)
            log_error("transaction %" PRId64 ": could not flag for review: %s", ev.object_id,
                      flag_err.message ? flag_err.message : "?");
        error_clear(&flag_err);
        log_warn("webhook %s: %s", ev.event_id, err->message ? err->message : "?");
    }
    if (rc == 0) {
        *out = json_pack("{s:b, s:s, s:b, s:s, s:b}", "received", 1, "event_id", ev.event_id, "duplicate",
                         ev.duplicate, "result", ev.duplicate ? "duplicate" : ev.applied, "flagged", ev.flagged);
        if (!*out)
            rc = error_set(err, ERROR_INTERNAL, "out of memory");
    }
    json_decref(event);
    return rc < 0 ? -1 : 0;
}

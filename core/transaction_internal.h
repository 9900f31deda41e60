/* Shared between the transaction_*.c files; not part of the public API. */
#ifndef CORE_TRANSACTION_INTERNAL_H
#define CORE_TRANSACTION_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jws.h"
#include "sql/db.h"

/* The columns the state machine needs, read under the row lock. */
typedef struct {
    int64_t id, buyer_user_id, tool_id, developer_id;
    int64_t amount_cents, developer_cents, platform_cents, period_days;
    int flagged;
    char currency[4];
    char status[16];
    char pricing_model[16];
    /* the plan bought and its terms as they were at checkout (edits apply to new purchases only) */
    int64_t plan_id, quota, rate_per_minute; /* 0: none (unlimited; no plan for old rows) */
    char plan_name[321];
} transaction_row;

/* ---- the transactions table: core/transaction_manager.c owns it, every statement on it is there ---- */

/* SELECT … FOR UPDATE of one transaction (inside a db_transaction). ERROR_NOT_FOUND when missing. */
int transaction_lock_row(db *db, int64_t id, transaction_row *out, mkt_error *err);
/* A new pending row from t (buyer, tool, developer, amounts, model, period); t->id gets its id. */
int transaction_store_insert(db *db, transaction_row *t, const char *provider_ref, mkt_error *err);
/* pending|failed -> completed (completed_at now) with its receipt, in one UPDATE; 409 naming t->status
 * when the row is neither. */
int transaction_store_completed(db *db, const transaction_row *t, const char *receipt, mkt_error *err);
/* The status a provider event sets: "failed" or "refunded" (the caller holds the row lock). */
int transaction_store_status(db *db, int64_t id, const char *status, mkt_error *err);
/* flagged_for_review = 1: an event that contradicts the row, for an operator to look at. */
int transaction_store_flag(db *db, int64_t id, mkt_error *err);

/* The status and the stored receipt of one transaction, for checking a receipt (core/receipt). */
typedef struct {
    int found;
    char status[16];
    char *receipt; /* NULL when none; free with transaction_receipt_record_free */
} transaction_receipt_record;
int transaction_receipt_record_read(db *db, int64_t id, transaction_receipt_record *out, mkt_error *err);
void transaction_receipt_record_free(transaction_receipt_record *r);

/* pending|failed → completed, inside the caller's db_transaction with the row locked: status and
 * completed_at, the ledger posting (none for 0), access, the download count and the signed receipt.
 * On -1 the caller must roll back. */
int transaction_complete_locked(db *db, const config *cfg, const jws_keyring *keys, const transaction_row *t,
                                mkt_error *err);

/* One money log line (core/money_log) for the transaction: ids, amounts and the split, plus extra
 * (stolen, may be NULL). Call only after the change it describes has committed. */
void transaction_log(const char *event, const transaction_row *t, json_t *extra);

/* Parses a transaction or tool id given as a decimal string (or a JSON integer): 1..10^18. */
int transaction_parse_id_text(const char *text, int64_t *out);

#endif

/* The double-entry ledger: the only way money moves. A posting records one
 * business event (a purchase, a refund, a payout step) as entries on named accounts; the entries of
 * every posting sum to zero per currency, so the ledger as a whole always sums to zero and no cent
 * is ever created or lost. Balances are sums of entries, never stored counters.
 *
 * Accounts (README "The ledger"):
 *   external:payments              money coming in from the payment provider (goes negative)
 *   external:payouts               money paid out to developers
 *   platform:revenue               the platform's fee
 *   developer:<id>:available       a developer's earnings not yet requested
 *   developer:<id>:payout_pending  requested, not yet paid or failed
 *
 * Postings (amounts are positive cents; each row is account +/-):
 *   purchase          external:payments -amount, developer:D:available +dev, platform:revenue +plat
 *   refund            the reverse of purchase
 *   payout_requested  developer:D:available -x, developer:D:payout_pending +x
 *   payout_paid       developer:D:payout_pending -x, external:payouts +x
 *   payout_failed     developer:D:payout_pending -x, developer:D:available +x
 *
 * Idempotency: (kind, ref_type, ref_id) is UNIQUE, so one business event can be posted once only;
 * a second attempt fails with ERROR_CONFLICT and writes nothing. Callers rely on this: the failed
 * INSERT leaves the caller's transaction usable, so it may roll back or treat the event as done.
 *
 * Owns the ledger_postings and ledger_entries tables: nothing else writes them, and balances are
 * summed only here. Read-only elsewhere: the month report of core/earnings.c, and the cross-checks of
 * core/payout.c and core/transaction_manager.c (each payout's and transaction's postings), which
 * live with the rows they check (docs/architecture.md, "Tables and their owners"). */
#ifndef CORE_LEDGER_H
#define CORE_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "sql/db.h"

/* Posting kinds (ledger_postings.kind). */
#define LEDGER_KIND_PURCHASE "purchase"
#define LEDGER_KIND_REFUND "refund"
#define LEDGER_KIND_PAYOUT_REQUESTED "payout_requested"
#define LEDGER_KIND_PAYOUT_PAID "payout_paid"
#define LEDGER_KIND_PAYOUT_FAILED "payout_failed"

/* ref_type used by the convenience builders. */
#define LEDGER_REF_TRANSACTION "transaction"
#define LEDGER_REF_PAYOUT "payout"

/* Fixed account names. */
#define LEDGER_ACCOUNT_PAYMENTS "external:payments"
#define LEDGER_ACCOUNT_PAYOUTS "external:payouts"
#define LEDGER_ACCOUNT_REVENUE "platform:revenue"

/* Developer account buckets. */
#define LEDGER_BUCKET_AVAILABLE "available"
#define LEDGER_BUCKET_PAYOUT_PENDING "payout_pending"

/* Size of an account-name buffer, NUL included. The longest name ledger_account_developer makes is
 * 45 characters, well inside ledger_entries.account VARCHAR(64). */
#define LEDGER_ACCOUNT_MAX 64

/* ref_type is at most this many characters (ledger_postings.ref_type VARCHAR(32)). */
#define LEDGER_REF_TYPE_MAX 32

typedef struct {
    const char *account;   /* e.g. "developer:42:available" (see ledger_account_developer) */
    const char *currency;  /* ISO 4217, must pass money_currency_valid */
    int64_t amount_cents;  /* signed, never zero */
} ledger_entry;

/* Writes "developer:<id>:<bucket>" into buf. bucket must be LEDGER_BUCKET_AVAILABLE or
 * LEDGER_BUCKET_PAYOUT_PENDING and developer_id > 0. Returns 0, or -1 (buf set to "") otherwise. */
int ledger_account_developer(char buf[LEDGER_ACCOUNT_MAX], int64_t developer_id, const char *bucket);

/* 1 when name is a well-formed account name: one of the three fixed accounts or
 * developer:<positive id>:<bucket>. */
int ledger_account_valid(const char *name);

/* Inserts one posting and its n entries.
 *
 * MUST be called inside the caller's db_transaction (the one that also records the state change the
 * posting belongs to): the posting row and its entries are separate INSERTs, and only the caller's
 * transaction makes them, and the business change, all-or-nothing. On -1 the caller must return -1
 * from its transaction function so everything rolls back.
 *
 * kind is one of LEDGER_KIND_*; ref_type is a non-empty name of at most LEDGER_REF_TYPE_MAX
 * characters; ref_id > 0. Refuses with ERROR_INTERNAL (a programming error, nothing is written):
 * n == 0, an unknown kind, a zero amount, a bad account name or currency, entries that do not sum
 * to zero per currency, an account or sign the kind does not allow (the table at the top: e.g. a
 * purchase may only debit external:payments and credit platform:revenue and developer:D:available),
 * or entries of two different developers. ERROR_CONFLICT when (kind, ref_type, ref_id) was posted
 * already. ref_type: lower-case letters, digits and '_'. Also refuses (ERROR_INTERNAL) to run
 * outside a transaction (checked with @@in_transaction, MariaDB).
 * posting_id (may be NULL) receives the new posting's id. */
int ledger_post(db *db, const char *kind, const char *ref_type, int64_t ref_id, const ledger_entry *entries,
                size_t n, int64_t *posting_id, mkt_error *err);

/* Sum of the entries of account in currency (0 when there are none). Inside a transaction this
 * is a plain consistent read; callers that must not race (payout requests) lock their own row
 * first. */
int ledger_balance(db *db, const char *account, const char *currency, int64_t *cents, mkt_error *err);

/* One developer's money in one currency, from the ledger alone. */
typedef struct {
    char currency[4];
    int64_t available_cents;      /* balance of developer:D:available */
    int64_t pending_payout_cents; /* balance of developer:D:payout_pending */
    int64_t paid_out_cents;       /* what payout_paid postings moved to external:payouts */
    int64_t lifetime_cents;       /* purchase developer shares minus refunded shares */
} ledger_developer_total;

/* Every currency the developer has entries in, in currency order: *out (free()) gets *count items
 * (NULL and 0 when none). The one place a developer's balances are summed for reading (earnings);
 * ledger_balance is the one a spending decision uses. */
int ledger_developer_totals(db *db, int64_t developer_id, ledger_developer_total **out, size_t *count,
                            mkt_error *err);

/* Convenience builders: each posts exactly the entries README "The ledger" prescribes (see the table at the top)
 * with ref_type LEDGER_REF_TRANSACTION (purchase, refund) or LEDGER_REF_PAYOUT (payout_*).
 * Same contract as ledger_post: inside the caller's transaction, ERROR_CONFLICT on a repeat.
 * Amounts are positive cents; purchase and refund need amount == dev + plat, dev >= 0, plat >= 0
 * (a zero share, e.g. with fee 0 or 10000, simply gets no entry). A free purchase (amount 0)
 * posts nothing and returns 0: there is no money to record. */
int ledger_post_purchase(db *db, int64_t transaction_id, int64_t developer_id, const char *currency,
                         int64_t amount_cents, int64_t developer_cents, int64_t platform_cents, mkt_error *err);
int ledger_post_refund(db *db, int64_t transaction_id, int64_t developer_id, const char *currency,
                       int64_t amount_cents, int64_t developer_cents, int64_t platform_cents, mkt_error *err);
int ledger_post_payout_requested(db *db, int64_t payout_id, int64_t developer_id, const char *currency,
                                 int64_t amount_cents, mkt_error *err);
int ledger_post_payout_paid(db *db, int64_t payout_id, int64_t developer_id, const char *currency,
                            int64_t amount_cents, mkt_error *err);
int ledger_post_payout_failed(db *db, int64_t payout_id, int64_t developer_id, const char *currency,
                              int64_t amount_cents, mkt_error *err);

/* Checks what the ledger alone can prove, in one consistent snapshot (it runs its own
 * db_transaction, so call it OUTSIDE any transaction; it reads the whole ledger, so it is for tests,
 * operations and audits, not for request paths):
 *   1. every posting's entries sum to zero per currency;
 *   2. the whole ledger sums to zero per currency;
 *   3. no entry amount is zero;
 *   4. per currency, the developer accounts (available + payout_pending, all developers) equal
 *      purchase developer shares - refund developer shares - payout_paid amounts
 *      (i.e. payout_requested and payout_failed only move money between a developer's buckets);
 *   5. every posting has at least one entry, each entry has the account and sign its kind allows
 *      (the table at the top), and no posting touches two developers.
 * Returns 0, or -1 ERROR_INTERNAL naming the first violation (posting id, currency, amounts).
 *
 * Not checkable here, left to the modules that own the business rows: that each completed
 * transaction has exactly one purchase posting with amount/dev/plat equal to its stored split
 * (transactions module), that each refunded one has its refund posting, and that each payout's
 * status matches its postings (requested/paid/failed) with the same amount (payouts module). */
int ledger_check_invariants(db *db, mkt_error *err);

/* The same checks inside the caller's open transaction (its read view, including its own
 * uncommitted writes): for a caller that wants to verify before it commits, and for tests. */
int ledger_check_invariants_in_transaction(db *db, mkt_error *err);

#endif

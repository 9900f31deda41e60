/* core/ledger against a real MariaDB: the postings of README "The ledger" move balances as they should; bad,
 * duplicate and rolled-back postings write nothing; the invariant check passes after every test
 * and catches a broken posting; two processes posting for one developer at once lose nothing.
 *
 * Tests run in parallel with other suites on the same database, so every posting committed here is
 * balanced (the global invariants hold at every moment), and every id is unique to this run:
 * developer and ref ids come from a range no real row reaches, mixed with the time and the pid. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/ledger.h"
#include "core/money.h"
#include "sql/db.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/stack_env.h"

static db *test_db;
static char ref_type[LEDGER_REF_TYPE_MAX + 1]; /* "test_<pid>" */
static int64_t id_base;
static int64_t id_counter;

/* 10^15 + (time mod 10^5) * 10^10 + pid * 10^3 + counter: above any auto-increment id a test run
 * produces, distinct between processes (pid < 10^7) and between runs of a reused database. */
static void ids_init(void)
{
    id_base = 1000000000000000LL + ((int64_t)time(NULL) % 100000) * 10000000000LL + (int64_t)getpid() * 1000;
    id_counter = 0;
    snprintf(ref_type, sizeof ref_type, "test_%d", (int)getpid());
}

static int64_t next_id(void)
{
    if (++id_counter >= 1000)
        abort(); /* the range of this process is used up: ids would collide with another pid */
    return id_base + id_counter;
}

static int64_t balance(int64_t developer_id, const char *bucket, const char *currency)
{
    char account[LEDGER_ACCOUNT_MAX];
    if (ledger_account_developer(account, developer_id, bucket) < 0)
        return INT64_MIN;
    mkt_error err = MKT_ERROR_INIT;
    int64_t cents = INT64_MIN;
    if (ledger_balance(test_db, account, currency, &cents, &err) < 0) {
        fprintf(stderr, "  ledger_balance: %s\n", err.message);
        cents = INT64_MIN;
    }
    error_clear(&err);
    return cents;
}

/* Postings (and their entries) recorded for one business event. */
static int64_t posting_count(const char *kind, const char *rtype, int64_t ref_id)
{
    return fixture_query_int(test_db,"SELECT COUNT(*) FROM ledger_postings WHERE kind = ? AND ref_type = ? AND ref_id = ?",
                  DB_PARAMS(db_text(kind), db_text(rtype), db_int(ref_id)));
}

static int64_t entry_count(const char *kind, const char *rtype, int64_t ref_id)
{
    return fixture_query_int(test_db,"SELECT COUNT(*) FROM ledger_entries e JOIN ledger_postings p ON p.id = e.posting_id"
                  " WHERE p.kind = ? AND p.ref_type = ? AND p.ref_id = ?",
                  DB_PARAMS(db_text(kind), db_text(rtype), db_int(ref_id)));
}

/* The amount one posting put on one account (0 when none). */
static int64_t posted(const char *kind, const char *rtype, int64_t ref_id, const char *account)
{
    return fixture_query_int(test_db,"SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_entries e"
                  " JOIN ledger_postings p ON p.id = e.posting_id"
                  " WHERE p.kind = ? AND p.ref_type = ? AND p.ref_id = ? AND e.account = ?",
                  DB_PARAMS(db_text(kind), db_text(rtype), db_int(ref_id), db_text(account)));
}

static void check_invariants(void)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = ledger_check_invariants(test_db, &err);
    if (rc < 0)
        fprintf(stderr, "  invariants: %s\n", err.message);
    CHECK_INT(rc, 0);
    error_clear(&err);
}

/* ---- one posting per transaction, the way callers use the ledger ---- */

typedef enum { OP_PURCHASE, OP_REFUND, OP_REQUESTED, OP_PAID, OP_FAILED } op_kind;

typedef struct {
    op_kind op;
    int64_t ref_id, developer_id, amount, dev, plat;
    const char *currency;
    int fail_after; /* return -1 after posting: the transaction must roll back */
} op;

static int op_txn(db *d, void *ctx, mkt_error *err)
{
    const op *o = ctx;
    int rc;
    switch (o->op) {
    case OP_PURCHASE:
        rc = ledger_post_purchase(d, o->ref_id, o->developer_id, o->currency, o->amount, o->dev, o->plat, err);
        break;
    case OP_REFUND:
        rc = ledger_post_refund(d, o->ref_id, o->developer_id, o->currency, o->amount, o->dev, o->plat, err);
        break;
    case OP_REQUESTED:
        rc = ledger_post_payout_requested(d, o->ref_id, o->developer_id, o->currency, o->amount, err);
        break;
    case OP_PAID:
        rc = ledger_post_payout_paid(d, o->ref_id, o->developer_id, o->currency, o->amount, err);
        break;
    default:
        rc = ledger_post_payout_failed(d, o->ref_id, o->developer_id, o->currency, o->amount, err);
        break;
    }
    if (rc == 0 && o->fail_after)
        return error_set(err, ERROR_INTERNAL, "test: roll back");
    return rc;
}

/* Runs one op in its own transaction; returns the error kind (ERROR_NONE on success). */
static error_kind run_op(db *d, op o)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = db_transaction(d, op_txn, &o, &err);
    error_kind k = rc == 0 ? ERROR_NONE : (err.kind != ERROR_NONE ? err.kind : ERROR_INTERNAL);
    error_clear(&err);
    return k;
}

static error_kind purchase(int64_t txn, int64_t developer, const char *currency, int64_t amount)
{
    int64_t dev = 0, plat = 0;
    if (money_split(amount, MONEY_DEFAULT_FEE_BPS, &dev, &plat, NULL) < 0)
        return ERROR_INTERNAL;
    return run_op(test_db, (op){OP_PURCHASE, txn, developer, amount, dev, plat, currency, 0});
}

/* ---- tests ---- */

static void test_account_names(void)
{
    char buf[LEDGER_ACCOUNT_MAX];
    CHECK_INT(ledger_account_developer(buf, 42, LEDGER_BUCKET_AVAILABLE), 0);
    CHECK_STR(buf, "developer:42:available");
    CHECK_INT(ledger_account_developer(buf, 42, LEDGER_BUCKET_PAYOUT_PENDING), 0);
    CHECK_STR(buf, "developer:42:payout_pending");
    CHECK_INT(ledger_account_developer(buf, INT64_MAX, LEDGER_BUCKET_PAYOUT_PENDING), 0);
    CHECK_STR(buf, "developer:9223372036854775807:payout_pending");
    CHECK_INT(ledger_account_developer(buf, 0, LEDGER_BUCKET_AVAILABLE), -1);
    CHECK_STR(buf, "");
    CHECK_INT(ledger_account_developer(buf, -1, LEDGER_BUCKET_AVAILABLE), -1);
    CHECK_INT(ledger_account_developer(buf, 1, "savings"), -1);
    CHECK_INT(ledger_account_developer(buf, 1, NULL), -1);

    static const char *const good[] = {"external:payments", "external:payouts", "platform:revenue",
                                       "developer:1:available", "developer:9223372036854775807:payout_pending"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!ledger_account_valid(good[i])) {
            fprintf(stderr, "  %s refused\n", good[i]);
            CHECK(0);
        }
    static const char *const bad[] = {"",
                                      "external:payment",
                                      "platform:revenue ",
                                      "developer:0:available",
                                      "developer:01:available",
                                      "developer:-1:available",
                                      "developer:+1:available",
                                      "developer::available",
                                      "developer:1:",
                                      "developer:1:availablex",
                                      "developer:1",
                                      "developer:9223372036854775808:available",
                                      "developer:1:available:x",
                                      "Developer:1:available"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (ledger_account_valid(bad[i])) {
            fprintf(stderr, "  \"%s\" accepted\n", bad[i]);
            CHECK(0);
        }
    CHECK_INT(ledger_account_valid(NULL), 0);
}

static void test_purchase_and_refund(void)
{
    int64_t developer = next_id(), txn = next_id();
    char available[LEDGER_ACCOUNT_MAX];
    ledger_account_developer(available, developer, LEDGER_BUCKET_AVAILABLE);

    CHECK_INT(purchase(txn, developer, "USD", 1999), ERROR_NONE);
    /* 1999 * 0.7 = 1399.3: the developer gets 1399, the platform the other 600. */
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 1399);
    CHECK_INT(balance(developer, LEDGER_BUCKET_PAYOUT_PENDING, "USD"), 0);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "EUR"), 0);
    CHECK_INT(posting_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, txn), 1);
    CHECK_INT(entry_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, txn), 3);
    CHECK_INT(posted(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, txn, LEDGER_ACCOUNT_PAYMENTS), -1999);
    CHECK_INT(posted(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, txn, available), 1399);
    CHECK_INT(posted(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, txn, LEDGER_ACCOUNT_REVENUE), 600);

    /* A second sale in another currency is kept apart. */
    int64_t txn2 = next_id();
    CHECK_INT(purchase(txn2, developer, "EUR", 500), ERROR_NONE);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "EUR"), 350);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 1399);

    CHECK_INT(run_op(test_db, (op){OP_REFUND, txn, developer, 1999, 1399, 600, "USD", 0}), ERROR_NONE);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 0);
    CHECK_INT(posted(LEDGER_KIND_REFUND, LEDGER_REF_TRANSACTION, txn, LEDGER_ACCOUNT_PAYMENTS), 1999);
    CHECK_INT(posted(LEDGER_KIND_REFUND, LEDGER_REF_TRANSACTION, txn, available), -1399);
    CHECK_INT(posted(LEDGER_KIND_REFUND, LEDGER_REF_TRANSACTION, txn, LEDGER_ACCOUNT_REVENUE), -600);
    /* Refunding the same transaction twice is one business event posted twice. */
    CHECK_INT(run_op(test_db, (op){OP_REFUND, txn, developer, 1999, 1399, 600, "USD", 0}), ERROR_CONFLICT);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 0);

    /* A refund after a payout may take the balance below zero (recovered from later sales). */
    CHECK_INT(run_op(test_db, (op){OP_REQUESTED, next_id(), developer, 350, 0, 0, "EUR", 0}), ERROR_NONE);
    CHECK_INT(run_op(test_db, (op){OP_REFUND, txn2, developer, 500, 350, 150, "EUR", 0}), ERROR_NONE);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "EUR"), -350);
    CHECK_INT(balance(developer, LEDGER_BUCKET_PAYOUT_PENDING, "EUR"), 350);
    check_invariants();
}

static void test_fee_extremes_and_free(void)
{
    int64_t developer = next_id();
    /* Fee 0: no platform entry; fee 10000: no developer entry. Both still balance. */
    int64_t t0 = next_id(), t1 = next_id(), t2 = next_id();
    CHECK_INT(run_op(test_db, (op){OP_PURCHASE, t0, developer, 1000, 1000, 0, "GBP", 0}), ERROR_NONE);
    CHECK_INT(entry_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, t0), 2);
    CHECK_INT(run_op(test_db, (op){OP_PURCHASE, t1, developer, 1000, 0, 1000, "GBP", 0}), ERROR_NONE);
    CHECK_INT(entry_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, t1), 2);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "GBP"), 1000);
    /* A free purchase moves no money and records nothing. */
    CHECK_INT(run_op(test_db, (op){OP_PURCHASE, t2, developer, 0, 0, 0, "GBP", 0}), ERROR_NONE);
    CHECK_INT(posting_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, t2), 0);
    /* A split that does not add up is a bug in the caller. */
    CHECK_INT(run_op(test_db, (op){OP_PURCHASE, t2, developer, 1000, 700, 301, "GBP", 0}), ERROR_INTERNAL);
    CHECK_INT(run_op(test_db, (op){OP_PURCHASE, t2, developer, 1000, 1100, -100, "GBP", 0}), ERROR_INTERNAL);
    CHECK_INT(run_op(test_db, (op){OP_PURCHASE, t2, developer, 1000, 700, 300, "usd", 0}), ERROR_INTERNAL);
    CHECK_INT(run_op(test_db, (op){OP_PURCHASE, t2, 0, 1000, 700, 300, "GBP", 0}), ERROR_INTERNAL);
    CHECK_INT(posting_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, t2), 0);
    check_invariants();
}

/* A payout step (OP_REQUESTED, OP_PAID, OP_FAILED) of amount USD cents for developer. */
static error_kind payout_op(op_kind kind, int64_t payout, int64_t developer, int64_t amount)
{
    return run_op(test_db, (op){kind, payout, developer, amount, 0, 0, "USD", 0});
}

/* The developer's USD available and payout_pending balances. */
static void check_buckets_at(int64_t developer, int64_t available, int64_t pending, int line)
{
    int64_t got_available = balance(developer, LEDGER_BUCKET_AVAILABLE, "USD");
    int64_t got_pending = balance(developer, LEDGER_BUCKET_PAYOUT_PENDING, "USD");
    if (got_available != available || got_pending != pending) {
        fprintf(stderr, "  line %d: available %" PRId64 ", pending %" PRId64 "; expected %" PRId64 ", %" PRId64 "\n",
                line, got_available, got_pending, available, pending);
        check_failures++;
    }
}
#define CHECK_BUCKETS(developer, available, pending) check_buckets_at(developer, available, pending, __LINE__)

static void test_payouts(void)
{
    int64_t developer = next_id();
    char available[LEDGER_ACCOUNT_MAX];
    ledger_account_developer(available, developer, LEDGER_BUCKET_AVAILABLE);
    CHECK_INT(purchase(next_id(), developer, "USD", 10000), ERROR_NONE);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 7000);

    int64_t p1 = next_id();
    CHECK_INT(payout_op(OP_REQUESTED, p1, developer, 5000), ERROR_NONE);
    CHECK_BUCKETS(developer, 2000, 5000);
    /* The same payout requested again is refused and changes nothing. */
    CHECK_INT(payout_op(OP_REQUESTED, p1, developer, 5000), ERROR_CONFLICT);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 2000);

    CHECK_INT(payout_op(OP_PAID, p1, developer, 5000), ERROR_NONE);
    CHECK_BUCKETS(developer, 2000, 0);
    CHECK_INT(posted(LEDGER_KIND_PAYOUT_PAID, LEDGER_REF_PAYOUT, p1, LEDGER_ACCOUNT_PAYOUTS), 5000);
    CHECK_INT(payout_op(OP_PAID, p1, developer, 5000), ERROR_CONFLICT);

    /* A failed payout returns the money to available. */
    int64_t p2 = next_id();
    CHECK_INT(payout_op(OP_REQUESTED, p2, developer, 1500), ERROR_NONE);
    CHECK_BUCKETS(developer, 500, 1500);
    CHECK_INT(payout_op(OP_FAILED, p2, developer, 1500), ERROR_NONE);
    CHECK_BUCKETS(developer, 2000, 0);
    CHECK_INT(posted(LEDGER_KIND_PAYOUT_FAILED, LEDGER_REF_PAYOUT, p2, available), 1500);

    /* Amounts are positive. */
    CHECK_INT(payout_op(OP_REQUESTED, next_id(), developer, 0), ERROR_INTERNAL);
    CHECK_INT(payout_op(OP_REQUESTED, next_id(), developer, -5), ERROR_INTERNAL);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 2000);
    check_invariants();
}

/* ---- ledger_post refusals: nothing written ---- */

typedef struct {
    const char *kind, *rtype;
    int64_t ref_id;
    const ledger_entry *entries;
    size_t n;
} raw_post;

static int64_t last_posting_id;

static int raw_txn(db *d, void *ctx, mkt_error *err)
{
    const raw_post *r = ctx;
    last_posting_id = 0;
    return ledger_post(d, r->kind, r->rtype, r->ref_id, r->entries, r->n, &last_posting_id, err);
}

static error_kind raw(const char *kind, const char *rtype, int64_t ref_id, const ledger_entry *entries, size_t n)
{
    raw_post r = {kind, rtype, ref_id, entries, n};
    mkt_error err = MKT_ERROR_INIT;
    int rc = db_transaction(test_db, raw_txn, &r, &err);
    error_kind k = rc == 0 ? ERROR_NONE : (err.kind ? err.kind : ERROR_INTERNAL);
    error_clear(&err);
    return k;
}

static void test_refused_postings(void)
{
    int64_t developer = next_id(), other = next_id(), ref = next_id();
    char avail[LEDGER_ACCOUNT_MAX], pend[LEDGER_ACCOUNT_MAX], other_avail[LEDGER_ACCOUNT_MAX];
    ledger_account_developer(avail, developer, LEDGER_BUCKET_AVAILABLE);
    ledger_account_developer(pend, developer, LEDGER_BUCKET_PAYOUT_PENDING);
    ledger_account_developer(other_avail, other, LEDGER_BUCKET_AVAILABLE);

    /* Unbalanced. */
    const ledger_entry unbalanced[] = {
        {LEDGER_ACCOUNT_PAYMENTS, "USD", -1000}, {avail, "USD", 700}, {LEDGER_ACCOUNT_REVENUE, "USD", 299}};
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, unbalanced, 3), ERROR_INTERNAL);
    /* Balanced in total but not per currency. */
    const ledger_entry mixed[] = {
        {LEDGER_ACCOUNT_PAYMENTS, "USD", -1000}, {avail, "EUR", 700}, {LEDGER_ACCOUNT_REVENUE, "USD", 300}};
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, mixed, 3), ERROR_INTERNAL);
    /* A zero entry, even in a balanced posting. */
    const ledger_entry zero[] = {
        {LEDGER_ACCOUNT_PAYMENTS, "USD", -1000}, {avail, "USD", 1000}, {LEDGER_ACCOUNT_REVENUE, "USD", 0}};
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, zero, 3), ERROR_INTERNAL);
    /* Bad account and currency. */
    const ledger_entry bad_account[] = {{LEDGER_ACCOUNT_PAYMENTS, "USD", -1000}, {"developer:x:available", "USD", 1000}};
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, bad_account, 2), ERROR_INTERNAL);
    const ledger_entry bad_currency[] = {{LEDGER_ACCOUNT_PAYMENTS, "XYZ", -1000}, {avail, "XYZ", 1000}};
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, bad_currency, 2), ERROR_INTERNAL);
    const ledger_entry null_currency[] = {{LEDGER_ACCOUNT_PAYMENTS, NULL, -1000}, {avail, NULL, 1000}};
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, null_currency, 2), ERROR_INTERNAL);
    /* Balanced, but not the shape of the kind: a purchase crediting payments, a payout to revenue. */
    const ledger_entry reversed[] = {{LEDGER_ACCOUNT_PAYMENTS, "USD", 1000}, {avail, "USD", -1000}};
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, reversed, 2), ERROR_INTERNAL);
    const ledger_entry to_revenue[] = {{pend, "USD", -1000}, {LEDGER_ACCOUNT_REVENUE, "USD", 1000}};
    CHECK_INT(raw(LEDGER_KIND_PAYOUT_PAID, ref_type, ref, to_revenue, 2), ERROR_INTERNAL);
    /* Money never moves between developers. */
    const ledger_entry two_devs[] = {{avail, "USD", -1000}, {other_avail, "USD", 1000}};
    CHECK_INT(raw(LEDGER_KIND_PAYOUT_FAILED, ref_type, ref, two_devs, 2), ERROR_INTERNAL);
    /* Kind, ref and count. */
    const ledger_entry good[] = {{LEDGER_ACCOUNT_PAYMENTS, "USD", -1000}, {avail, "USD", 1000}};
    CHECK_INT(raw("gift", ref_type, ref, good, 2), ERROR_INTERNAL);
    CHECK_INT(raw(NULL, ref_type, ref, good, 2), ERROR_INTERNAL);
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, "", ref, good, 2), ERROR_INTERNAL);
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, "Bad Type", ref, good, 2), ERROR_INTERNAL);
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, "a_ref_type_that_is_far_too_long_x", ref, good, 2), ERROR_INTERNAL);
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, 0, good, 2), ERROR_INTERNAL);
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, good, 0), ERROR_INTERNAL);
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, NULL, 2), ERROR_INTERNAL);

    CHECK_INT(fixture_query_int(test_db,"SELECT COUNT(*) FROM ledger_postings WHERE ref_type = ? AND ref_id = ?",
                     DB_PARAMS(db_text(ref_type), db_int(ref))),
              0);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 0);

    /* Outside a transaction ledger_post refuses before writing. */
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(ledger_post(test_db, LEDGER_KIND_PURCHASE, ref_type, ref, good, 2, NULL, &err), -1);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    error_clear(&err);
    CHECK_INT(ledger_post_purchase(test_db, ref, developer, "USD", 1000, 700, 300, &err), -1);
    error_clear(&err);
    CHECK_INT(posting_count(LEDGER_KIND_PURCHASE, ref_type, ref), 0);
    CHECK_INT(posting_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, ref), 0);

    /* The good posting goes in, and its posting id comes back. */
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, ref, good, 2), ERROR_NONE);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 1000);
    CHECK_INT(fixture_query_int(test_db,"SELECT id FROM ledger_postings WHERE kind = ? AND ref_type = ? AND ref_id = ?",
                     DB_PARAMS(db_text(LEDGER_KIND_PURCHASE), db_text(ref_type), db_int(ref))),
              last_posting_id);

    /* ledger_balance refuses what is not an account. */
    int64_t cents = 5;
    CHECK_INT(ledger_balance(test_db, "developer:0:available", "USD", &cents, &err), -1);
    error_clear(&err);
    CHECK_INT(ledger_balance(test_db, LEDGER_ACCOUNT_REVENUE, "usd", &cents, &err), -1);
    error_clear(&err);
    CHECK_INT(cents, 5);
    check_invariants();
}

static void test_duplicate(void)
{
    int64_t developer = next_id(), txn = next_id();
    CHECK_INT(purchase(txn, developer, "CHF", 1000), ERROR_NONE);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "CHF"), 700);
    /* The same (kind, ref_type, ref_id) again, even with other amounts or another developer: conflict,
     * nothing written. */
    CHECK_INT(purchase(txn, developer, "CHF", 1000), ERROR_CONFLICT);
    CHECK_INT(purchase(txn, developer, "CHF", 5000), ERROR_CONFLICT);
    CHECK_INT(purchase(txn, next_id(), "CHF", 1000), ERROR_CONFLICT);
    CHECK_INT(posting_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, txn), 1);
    CHECK_INT(entry_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, txn), 3);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "CHF"), 700);

    /* Another kind or ref_type for the same id is another event. */
    char avail[LEDGER_ACCOUNT_MAX];
    ledger_account_developer(avail, developer, LEDGER_BUCKET_AVAILABLE);
    const ledger_entry e[] = {{LEDGER_ACCOUNT_PAYMENTS, "CHF", -10}, {avail, "CHF", 10}};
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, txn, e, 2), ERROR_NONE);
    CHECK_INT(raw(LEDGER_KIND_PURCHASE, ref_type, txn, e, 2), ERROR_CONFLICT);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "CHF"), 710);
    check_invariants();
}

/* A transaction the server rolled back under us is a deadlock, tried again, not a ledger_post
 * "outside a transaction": on a Galera cluster a replicated write set aborts a conflicting local
 * transaction (a brute-force abort) between two statements, and the @@in_transaction check, which
 * reads no table, can be the first statement after it and get no error. A ROLLBACK sent inside the
 * transaction function stands in for the abort. */
typedef struct {
    int tries;
    raw_post post;
} aborted_ctx;

static int aborted_txn(db *d, void *p, mkt_error *err)
{
    aborted_ctx *ctx = p;
    if (++ctx->tries == 1 && db_exec_script(d, "ROLLBACK", err) < 0)
        return -1;
    return raw_txn(d, &ctx->post, err);
}

static void test_rolled_back_under_us(void)
{
    int64_t developer = next_id(), ref = next_id();
    char avail[LEDGER_ACCOUNT_MAX];
    ledger_account_developer(avail, developer, LEDGER_BUCKET_AVAILABLE);
    const ledger_entry good[] = {{LEDGER_ACCOUNT_PAYMENTS, "USD", -1000}, {avail, "USD", 1000}};
    aborted_ctx ctx = {.post = {LEDGER_KIND_PURCHASE, ref_type, ref, good, 2}};
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(db_transaction(test_db, aborted_txn, &ctx, &err), 0);
    CHECK_INT(ctx.tries, 2);
    CHECK_INT(posting_count(LEDGER_KIND_PURCHASE, ref_type, ref), 1);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "USD"), 1000);
    error_clear(&err);
    check_invariants();
}

static void test_rolled_back(void)
{
    int64_t developer = next_id(), txn = next_id(), payout = next_id();
    CHECK_INT(run_op(test_db, (op){OP_PURCHASE, txn, developer, 1000, 700, 300, "JPY", 1}), ERROR_INTERNAL);
    CHECK_INT(posting_count(LEDGER_KIND_PURCHASE, LEDGER_REF_TRANSACTION, txn), 0);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "JPY"), 0);
    /* The event was never recorded, so it can be posted for real afterwards. */
    CHECK_INT(run_op(test_db, (op){OP_PURCHASE, txn, developer, 1000, 700, 300, "JPY", 0}), ERROR_NONE);
    CHECK_INT(run_op(test_db, (op){OP_REQUESTED, payout, developer, 700, 0, 0, "JPY", 1}), ERROR_INTERNAL);
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "JPY"), 700);
    CHECK_INT(balance(developer, LEDGER_BUCKET_PAYOUT_PENDING, "JPY"), 0);
    CHECK_INT(posting_count(LEDGER_KIND_PAYOUT_REQUESTED, LEDGER_REF_PAYOUT, payout), 0);
    check_invariants();
}

/* The checker must catch a broken ledger. The broken rows are written inside a transaction that is
 * always rolled back, so no other test ever sees them. */
typedef struct {
    int which;
    int rc;
    char message[512];
} broken_ctx;

static int broken_txn(db *d, void *ctx, mkt_error *err)
{
    broken_ctx *b = ctx;
    int64_t developer = next_id(), ref = next_id();
    char avail[LEDGER_ACCOUNT_MAX], pend[LEDGER_ACCOUNT_MAX];
    ledger_account_developer(avail, developer, LEDGER_BUCKET_AVAILABLE);
    ledger_account_developer(pend, developer, LEDGER_BUCKET_PAYOUT_PENDING);
    db_result res;
    if (db_exec(d, "INSERT INTO ledger_postings (kind, ref_type, ref_id) VALUES (?, ?, ?)",
                DB_PARAMS(db_text(b->which == 2 ? LEDGER_KIND_PAYOUT_REQUESTED : LEDGER_KIND_PURCHASE),
                          db_text(ref_type), db_int(ref)),
                &res, err) < 0)
        return -1;
    int64_t posting = (int64_t)res.insert_id;
    const char *sql = "INSERT INTO ledger_entries (posting_id, account, currency, amount_cents) VALUES (?, ?, ?, ?)";
    int rc = 0;
    switch (b->which) {
    case 0: /* unbalanced */
        rc = db_exec(d, sql, DB_PARAMS(db_int(posting), db_text(LEDGER_ACCOUNT_PAYMENTS), db_text("USD"), db_int(-1000)),
                     NULL, err);
        if (rc == 0)
            rc = db_exec(d, sql, DB_PARAMS(db_int(posting), db_text(avail), db_text("USD"), db_int(999)), NULL, err);
        break;
    case 1: /* balanced, but revenue debited by a purchase */
        rc = db_exec(d, sql, DB_PARAMS(db_int(posting), db_text(LEDGER_ACCOUNT_REVENUE), db_text("USD"), db_int(-1000)),
                     NULL, err);
        if (rc == 0)
            rc = db_exec(d, sql, DB_PARAMS(db_int(posting), db_text(avail), db_text("USD"), db_int(1000)), NULL, err);
        break;
    case 3: /* balanced, but an account name ledger_post would never write */
        rc = db_exec(d, sql, DB_PARAMS(db_int(posting), db_text(LEDGER_ACCOUNT_PAYMENTS), db_text("USD"), db_int(-1000)),
                     NULL, err);
        if (rc == 0)
            rc = db_exec(d, sql, DB_PARAMS(db_int(posting), db_text("developer:01:available"), db_text("USD"),
                                           db_int(1000)),
                         NULL, err);
        break;
    default: /* no entries at all */
        break;
    }
    if (rc < 0)
        return -1;
    mkt_error check = MKT_ERROR_INIT;
    b->rc = ledger_check_invariants_in_transaction(d, &check);
    snprintf(b->message, sizeof b->message, "%s", check.message ? check.message : "");
    error_clear(&check);
    return error_set(err, ERROR_INTERNAL, "test: roll back");
}

static void test_invariant_check_catches(void)
{
    static const char *const expect[] = {"posting does not sum to zero", "not allowed for its posting kind",
                                         "posting without entries", "bad account name"};
    for (int which = 0; which < 4; which++) {
        broken_ctx b = {which, 0, ""};
        mkt_error err = MKT_ERROR_INIT;
        CHECK_INT(db_transaction(test_db, broken_txn, &b, &err), -1);
        error_clear(&err);
        CHECK_INT(b.rc, -1);
        if (!strstr(b.message, expect[which])) {
            fprintf(stderr, "  case %d: \"%s\", expected \"%s\"\n", which, b.message, expect[which]);
            CHECK(0);
        }
    }
    check_invariants();
}

/* Two processes each post CONCURRENT_POSTS purchases for one developer at the same time. */
#define CONCURRENT_POSTS 200

static void test_concurrent_purchases(void)
{
    int64_t developer = next_id();
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] < 0) {
            CHECK(0);
            return;
        }
        if (kids[k] == 0) {
            /* Never reuse the parent's connection across fork(): open our own, and _exit so nothing
             * of the parent's state is flushed or closed from here. */
            ids_init(); /* the child's pid gives it its own id range */
            db *d = fixture_db_open();
            int failures = 0;
            for (int i = 0; i < CONCURRENT_POSTS; i++) {
                op o = {OP_PURCHASE, next_id(), developer, 1000, 700, 300, "SEK", 0};
                if (run_op(d, o) != ERROR_NONE)
                    failures++;
            }
            db_close(d);
            _exit(failures ? 1 : 0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        CHECK(waitpid(kids[k], &status, 0) == kids[k]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INT(balance(developer, LEDGER_BUCKET_AVAILABLE, "SEK"), 2 * CONCURRENT_POSTS * 700);
    CHECK_INT(fixture_query_int(test_db,"SELECT COUNT(*) FROM ledger_entries WHERE account = CONCAT('developer:', ?, ':available')",
                     DB_PARAMS(db_int(developer))),
              2 * CONCURRENT_POSTS);
    check_invariants();
}

int main(void)
{
    ids_init();
    test_db = fixture_db_open();
    RUN(test_account_names);
    RUN(test_purchase_and_refund);
    RUN(test_fee_extremes_and_free);
    RUN(test_payouts);
    RUN(test_refused_postings);
    RUN(test_duplicate);
    RUN(test_rolled_back);
    RUN(test_rolled_back_under_us);
    RUN(test_invariant_check_catches);
    RUN(test_concurrent_purchases);
    db_close(test_db);
    return check_finish();
}

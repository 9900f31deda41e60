#include "core/ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"

/* ---- account names ---- */

#define LEDGER_DEVELOPER_PREFIX "developer:"

typedef enum {
    LEDGER_ACC_INVALID = 0,
    LEDGER_ACC_PAYMENTS,
    LEDGER_ACC_PAYOUTS,
    LEDGER_ACC_REVENUE,
    LEDGER_ACC_AVAILABLE,
    LEDGER_ACC_PENDING,
    LEDGER_ACC_COUNT
} ledger_account_class;

/* Classifies an account name; for developer accounts *developer_id gets the id. The id must be a
 * canonical positive decimal (no sign, no leading zero) so one developer has exactly one spelling. */
static ledger_account_class ledger_classify(const char *name, int64_t *developer_id)
{
    if (!name)
        return LEDGER_ACC_INVALID;
    if (strcmp(name, LEDGER_ACCOUNT_PAYMENTS) == 0)
        return LEDGER_ACC_PAYMENTS;
    if (strcmp(name, LEDGER_ACCOUNT_PAYOUTS) == 0)
        return LEDGER_ACC_PAYOUTS;
    if (strcmp(name, LEDGER_ACCOUNT_REVENUE) == 0)
        return LEDGER_ACC_REVENUE;
    if (strncmp(name, LEDGER_DEVELOPER_PREFIX, strlen(LEDGER_DEVELOPER_PREFIX)) != 0)
        return LEDGER_ACC_INVALID;
    const char *p = name + strlen(LEDGER_DEVELOPER_PREFIX);
    if (*p < '1' || *p > '9')
        return LEDGER_ACC_INVALID;
    int64_t id = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (id > (INT64_MAX - (*p - '0')) / 10)
            return LEDGER_ACC_INVALID;
        id = id * 10 + (*p - '0');
    }
    if (*p != ':')
        return LEDGER_ACC_INVALID;
    p++;
    ledger_account_class c;
    if (strcmp(p, LEDGER_BUCKET_AVAILABLE) == 0)
        c = LEDGER_ACC_AVAILABLE;
    else if (strcmp(p, LEDGER_BUCKET_PAYOUT_PENDING) == 0)
        c = LEDGER_ACC_PENDING;
    else
        return LEDGER_ACC_INVALID;
    if (developer_id)
        *developer_id = id;
    return c;
}

int ledger_account_valid(const char *name)
{
    return ledger_classify(name, NULL) != LEDGER_ACC_INVALID;
}

int ledger_account_developer(char buf[LEDGER_ACCOUNT_MAX], int64_t developer_id, const char *bucket)
{
    buf[0] = '\0';
    if (developer_id <= 0 || !bucket ||
        (strcmp(bucket, LEDGER_BUCKET_AVAILABLE) != 0 && strcmp(bucket, LEDGER_BUCKET_PAYOUT_PENDING) != 0))
        return -1;
    /* The longest name, "developer:" + 19 digits + ":payout_pending", is 45 characters: never truncated. */
    int len = snprintf(buf, LEDGER_ACCOUNT_MAX, LEDGER_DEVELOPER_PREFIX "%" PRId64 ":%s", developer_id, bucket);
    if (len < 0 || len >= LEDGER_ACCOUNT_MAX) {
        buf[0] = '\0';
        return -1;
    }
    return 0;
}

/* ---- posting shapes ---- */

/* The sign each kind may put on each class of account (README "The ledger"): +1 credit only, -1 debit
 * only, 0 not allowed. Enforced both when posting and by the invariant check, so anything
 * ledger_post accepts also passes ledger_check_invariants. Rows follow ledger_account_class. */
static const struct {
    const char *kind;
    signed char sign[LEDGER_ACC_COUNT];
} ledger_shapes[] = {
    /*                              INVALID PAYMENTS PAYOUTS REVENUE AVAILABLE PENDING */
    {LEDGER_KIND_PURCHASE, {0, -1, 0, +1, +1, 0}},
    {LEDGER_KIND_REFUND, {0, +1, 0, -1, -1, 0}},
    {LEDGER_KIND_PAYOUT_REQUESTED, {0, 0, 0, 0, -1, +1}},
    {LEDGER_KIND_PAYOUT_PAID, {0, 0, +1, 0, 0, -1}},
    {LEDGER_KIND_PAYOUT_FAILED, {0, 0, 0, 0, +1, -1}},
};

_Static_assert(LEDGER_ACC_COUNT == 6, "ledger_shapes has one column per account class");

static int ledger_kind_index(const char *kind)
{
    if (!kind)
        return -1;
    for (size_t i = 0; i < sizeof ledger_shapes / sizeof ledger_shapes[0]; i++)
        if (strcmp(kind, ledger_shapes[i].kind) == 0)
            return (int)i;
    return -1;
}

/* ref_type is a short identifier: lower-case letters, digits and '_' (it is part of a unique key and
 * shows up in messages, so nothing exotic). */
static int ledger_ref_type_valid(const char *ref_type)
{
    if (!ref_type || !ref_type[0])
        return 0;
    size_t len = 0;
    for (const char *p = ref_type; *p; p++, len++) {
        if (len >= LEDGER_REF_TYPE_MAX)
            return 0;
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    }
    return 1;
}

/* Everything that can be decided without the database. Errors are ERROR_INTERNAL because every
 * caller builds entries from its own validated state: a bad posting is a bug, never user input. */
static int ledger_validate(const char *kind, const char *ref_type, int64_t ref_id, const ledger_entry *entries,
                           size_t n, mkt_error *err)
{
    int k = ledger_kind_index(kind);
    if (k < 0)
        return error_set(err, ERROR_INTERNAL, "ledger: unknown posting kind \"%.40s\"", kind ? kind : "(null)");
    if (!ledger_ref_type_valid(ref_type))
        return error_set(err, ERROR_INTERNAL, "ledger: bad ref_type for %s", kind);
    if (ref_id <= 0)
        return error_set(err, ERROR_INTERNAL, "ledger: %s %s ref_id %" PRId64 " not positive", kind, ref_type,
                         ref_id);
    if (!entries || n == 0)
        return error_set(err, ERROR_INTERNAL, "ledger: %s %s %" PRId64 " has no entries", kind, ref_type, ref_id);

    int64_t developer = 0;
    for (size_t i = 0; i < n; i++) {
        const ledger_entry *e = &entries[i];
        int64_t dev = 0;
        ledger_account_class c = ledger_classify(e->account, &dev);
        if (c == LEDGER_ACC_INVALID)
            return error_set(err, ERROR_INTERNAL, "ledger: %s %s %" PRId64 " entry %zu: bad account \"%.64s\"", kind,
                             ref_type, ref_id, i, e->account ? e->account : "(null)");
        if (!money_currency_valid(e->currency))
            return error_set(err, ERROR_INTERNAL, "ledger: %s %s %" PRId64 " entry %zu: bad currency", kind, ref_type,
                             ref_id, i);
        if (e->amount_cents == 0)
            return error_set(err, ERROR_INTERNAL, "ledger: %s %s %" PRId64 " entry %zu: zero amount", kind, ref_type,
                             ref_id, i);
        /* INT64_MIN has no positive counterpart; refusing it keeps every negation below safe. */
        if (e->amount_cents == INT64_MIN)
            return error_set(err, ERROR_INTERNAL, "ledger: %s %s %" PRId64 " entry %zu: amount out of range", kind,
                             ref_type, ref_id, i);
        int sign = e->amount_cents > 0 ? +1 : -1;
        if (ledger_shapes[k].sign[c] != sign)
            return error_set(err, ERROR_INTERNAL, "ledger: %s %s %" PRId64 " entry %zu: %s may not %s %s", kind,
                             ref_type, ref_id, i, kind, sign > 0 ? "credit" : "debit", e->account);
        /* A posting concerns one developer at most: money never moves between developers. */
        if (dev) {
            if (developer && developer != dev)
                return error_set(err, ERROR_INTERNAL, "ledger: %s %s %" PRId64 " touches two developers", kind,
                                 ref_type, ref_id);
            developer = dev;
        }
    }

    /* Zero sum per currency. 128-bit sums: n entries of at most 2^63 each cannot overflow, so a
     * posting can never look balanced through wrap-around. Quadratic, but n is 2 or 3. */
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(entries[j].currency, entries[i].currency) == 0;
        if (seen)
            continue;
        __int128 sum = 0;
        for (size_t j = i; j < n; j++)
            if (strcmp(entries[j].currency, entries[i].currency) == 0)
                sum += entries[j].amount_cents;
        if (sum != 0)
            return error_set(err, ERROR_INTERNAL, "ledger: %s %s %" PRId64 " does not balance in %s", kind, ref_type,
                             ref_id, entries[i].currency);
    }
    return 0;
}

/* ---- posting ---- */

/* A posting written outside a transaction could leave the posting row without its entries if a
 * later INSERT failed, so refuse before writing anything. (A transaction of ours that the server
 * rolled back meanwhile, a Galera abort, is a deadlock db_transaction retries: db_transaction_open.) */
static int ledger_require_transaction(db *db, mkt_error *err)
{
    int in = db_transaction_open(db, err);
    if (in < 0)
        return -1;
    if (!in)
        return error_set(err, ERROR_INTERNAL, "ledger: ledger_post called outside a transaction");
    return 0;
}

/* Every entry of a posting in one multi-row INSERT (one round trip, not one per entry). */
#define LEDGER_ENTRIES_MAX 8
static int ledger_insert_entries(db *db, int64_t posting_id, const ledger_entry *entries, size_t n, mkt_error *err)
{
    db_value params[LEDGER_ENTRIES_MAX * 4];
    if (n > LEDGER_ENTRIES_MAX)
        return error_set(err, ERROR_INTERNAL, "ledger: more than %d entries in one posting", LEDGER_ENTRIES_MAX);
    for (size_t i = 0; i < n; i++) {
        params[4 * i] = db_int(posting_id);
        params[4 * i + 1] = db_text(entries[i].account);
        params[4 * i + 2] = db_text(entries[i].currency);
        params[4 * i + 3] = db_int(entries[i].amount_cents);
    }
    return db_exec_rows(db, "INSERT INTO ledger_entries (posting_id, account, currency, amount_cents) VALUES ",
                        "(?, ?, ?, ?)", NULL, params, 4, n, NULL, err);
}

int ledger_post(db *db, const char *kind, const char *ref_type, int64_t ref_id, const ledger_entry *entries,
                size_t n, int64_t *posting_id, mkt_error *err)
{
    if (!db)
        return error_set(err, ERROR_INTERNAL, "ledger: no database");
    if (ledger_validate(kind, ref_type, ref_id, entries, n, err) < 0)
        return -1;
    if (ledger_require_transaction(db, err) < 0)
        return -1;

    db_result res;
    if (db_exec(db, "INSERT INTO ledger_postings (kind, ref_type, ref_id) VALUES (?, ?, ?)",
                DB_PARAMS(db_text(kind), db_text(ref_type), db_int(ref_id)), &res, err) < 0) {
        /* The unique (kind, ref_type, ref_id) key is how a repeated business event is recognised;
         * callers map this to "already done". */
        if (db_last_errno(db) == DB_ER_DUP_ENTRY)
            return error_set(err, ERROR_CONFLICT, "ledger: %s %s %" PRId64 " already posted", kind, ref_type, ref_id);
        return -1;
    }
    int64_t id = (int64_t)res.insert_id;
    /* On failure the caller's transaction rolls the posting row back with everything else. */
    if (ledger_insert_entries(db, id, entries, n, err) < 0)
        return -1;
    if (posting_id)
        *posting_id = id;
    return 0;
}

/* Parses a SUM() cell (DECIMAL text) into int64, refusing what does not fit rather than wrapping. */
static int ledger_parse_sum(const db_rows *rows, size_t row, size_t column, int64_t *out)
{
    const char *text = db_rows_text(rows, row, column);
    if (!text) {
        *out = 0;
        return 0;
    }
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

int ledger_balance(db *db, const char *account, const char *currency, int64_t *cents, mkt_error *err)
{
    if (!db || !cents)
        return error_set(err, ERROR_INTERNAL, "ledger: ledger_balance without db or output");
    if (!ledger_account_valid(account))
        return error_set(err, ERROR_INTERNAL, "ledger: bad account \"%.64s\"", account ? account : "(null)");
    if (!money_currency_valid(currency))
        return error_set(err, ERROR_INTERNAL, "ledger: bad currency");
    db_rows rows;
    if (db_query(db, "SELECT SUM(amount_cents) FROM ledger_entries WHERE account = ? AND currency = ?",
                 DB_PARAMS(db_text(account), db_text(currency)), &rows, err) < 0)
        return -1;
    int64_t v = 0;
    int rc = 0;
    if (rows.row_count != 1 || ledger_parse_sum(&rows, 0, 0, &v) < 0)
        rc = error_set(err, ERROR_INTERNAL, "ledger: balance of %s %s out of range", account, currency);
    db_rows_free(&rows);
    if (rc == 0)
        *cents = v;
    return rc;
}

enum { TCOL_CURRENCY, TCOL_AVAILABLE, TCOL_PENDING, TCOL_PAID_OUT, TCOL_LIFETIME };

static int ledger_total_fill(const db_rows *rows, size_t r, ledger_developer_total *t)
{
    snprintf(t->currency, sizeof t->currency, "%s", db_rows_text(rows, r, TCOL_CURRENCY));
    return ledger_parse_sum(rows, r, TCOL_AVAILABLE, &t->available_cents) |
           ledger_parse_sum(rows, r, TCOL_PENDING, &t->pending_payout_cents) |
           ledger_parse_sum(rows, r, TCOL_PAID_OUT, &t->paid_out_cents) |
           ledger_parse_sum(rows, r, TCOL_LIFETIME, &t->lifetime_cents);
}

int ledger_developer_totals(db *db, int64_t developer_id, ledger_developer_total **out, size_t *count,
                            mkt_error *err)
{
    /* Both developer accounts in one pass over the account index; the posting kind separates what
     * came from sales from what moved between the developer's own buckets. */
    static const char sql[] =
        "SELECT e.currency,"
        " COALESCE(SUM(CASE WHEN e.account = ? THEN e.amount_cents END), 0),"
        " COALESCE(SUM(CASE WHEN e.account = ? THEN e.amount_cents END), 0),"
        " COALESCE(SUM(CASE WHEN e.account = ? AND p.kind = 'payout_paid' THEN -e.amount_cents END), 0),"
        " COALESCE(SUM(CASE WHEN e.account = ? AND p.kind IN ('purchase', 'refund') THEN e.amount_cents END), 0)"
        " FROM ledger_entries e JOIN ledger_postings p ON p.id = e.posting_id"
        " WHERE e.account IN (?, ?) GROUP BY e.currency ORDER BY e.currency";
    char available[LEDGER_ACCOUNT_MAX], pending[LEDGER_ACCOUNT_MAX];
    *out = NULL;
    *count = 0;
    if (ledger_account_developer(available, developer_id, LEDGER_BUCKET_AVAILABLE) < 0 ||
        ledger_account_developer(pending, developer_id, LEDGER_BUCKET_PAYOUT_PENDING) < 0)
        return error_set(err, ERROR_INTERNAL, "ledger: bad developer id");
    db_rows rows = {0};
    if (db_query(db, sql,
                 DB_PARAMS(db_text(available), db_text(pending), db_text(pending), db_text(available),
                           db_text(available), db_text(pending)),
                 &rows, err) < 0)
        return -1;
    int rc = 0;
    if (rows.row_count && !(*out = calloc(rows.row_count, sizeof **out)))
        rc = error_set(err, ERROR_INTERNAL, "out of memory");
    for (size_t r = 0; rc == 0 && r < rows.row_count; r++)
        if (ledger_total_fill(&rows, r, &(*out)[r]) != 0)
            rc = error_set(err, ERROR_INTERNAL, "ledger: a total of developer %" PRId64 " is out of range",
                           developer_id);
    if (rc == 0)
        *count = rows.row_count;
    db_rows_free(&rows);
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- convenience builders ---- */

static int ledger_check_amount(const char *what, int64_t amount, mkt_error *err)
{
    if (amount <= 0)
        return error_set(err, ERROR_INTERNAL, "ledger: %s amount %" PRId64 " not positive", what, amount);
    return 0;
}

/* purchase (sign +1) and refund (sign -1) share one shape, mirrored. */
static int ledger_post_sale(db *db, const char *kind, int sign, int64_t transaction_id, int64_t developer_id,
                            const char *currency, int64_t amount, int64_t dev, int64_t plat, mkt_error *err)
{
    if (amount < 0 || dev < 0 || plat < 0 || dev > amount || plat != amount - dev)
        return error_set(err, ERROR_INTERNAL,
                         "ledger: %s %" PRId64 ": split %" PRId64 " + %" PRId64 " does not make %" PRId64, kind,
                         transaction_id, dev, plat, amount);
    /* A free tool moves no money, and zero entries are not allowed: nothing to record. */
    if (amount == 0)
        return 0;
    char available[LEDGER_ACCOUNT_MAX];
    if (ledger_account_developer(available, developer_id, LEDGER_BUCKET_AVAILABLE) < 0)
        return error_set(err, ERROR_INTERNAL, "ledger: %s: bad developer id %" PRId64, kind, developer_id);
    ledger_entry entries[3];
    size_t n = 0;
    entries[n++] = (ledger_entry){LEDGER_ACCOUNT_PAYMENTS, currency, -sign * amount};
    /* With fee 0 or 10000 one share is zero and simply has no entry. */
    if (dev > 0)
        entries[n++] = (ledger_entry){available, currency, sign * dev};
    if (plat > 0)
        entries[n++] = (ledger_entry){LEDGER_ACCOUNT_REVENUE, currency, sign * plat};
    return ledger_post(db, kind, LEDGER_REF_TRANSACTION, transaction_id, entries, n, NULL, err);
}

int ledger_post_purchase(db *db, int64_t transaction_id, int64_t developer_id, const char *currency,
                         int64_t amount_cents, int64_t developer_cents, int64_t platform_cents, mkt_error *err)
{
    return ledger_post_sale(db, LEDGER_KIND_PURCHASE, +1, transaction_id, developer_id, currency, amount_cents,
                            developer_cents, platform_cents, err);
}

int ledger_post_refund(db *db, int64_t transaction_id, int64_t developer_id, const char *currency,
                       int64_t amount_cents, int64_t developer_cents, int64_t platform_cents, mkt_error *err)
{
    return ledger_post_sale(db, LEDGER_KIND_REFUND, -1, transaction_id, developer_id, currency, amount_cents,
                            developer_cents, platform_cents, err);
}

/* Payout steps: x leaves one account and arrives in another. */
static int ledger_post_move(db *db, const char *kind, int64_t payout_id, const char *from, const char *to,
                            const char *currency, int64_t amount, mkt_error *err)
{
    if (ledger_check_amount(kind, amount, err) < 0)
        return -1;
    ledger_entry entries[2] = {{from, currency, -amount}, {to, currency, amount}};
    return ledger_post(db, kind, LEDGER_REF_PAYOUT, payout_id, entries, 2, NULL, err);
}

/* Fills both developer account names, failing on a bad id. */
static int ledger_developer_accounts(int64_t developer_id, char available[LEDGER_ACCOUNT_MAX],
                                     char pending[LEDGER_ACCOUNT_MAX], mkt_error *err)
{
    if (ledger_account_developer(available, developer_id, LEDGER_BUCKET_AVAILABLE) < 0 ||
        ledger_account_developer(pending, developer_id, LEDGER_BUCKET_PAYOUT_PENDING) < 0)
        return error_set(err, ERROR_INTERNAL, "ledger: bad developer id %" PRId64, developer_id);
    return 0;
}

/* The developer's two buckets, and the payouts account, by the role they play in a payout step. */
typedef enum { LEDGER_STEP_AVAILABLE, LEDGER_STEP_PENDING, LEDGER_STEP_PAID_OUT } ledger_step_account;

static int ledger_post_payout_step(db *db, const char *kind, int64_t payout_id, int64_t developer_id,
                                   ledger_step_account from, ledger_step_account to, const char *currency,
                                   int64_t amount_cents, mkt_error *err)
{
    char names[3][LEDGER_ACCOUNT_MAX];
    if (ledger_developer_accounts(developer_id, names[LEDGER_STEP_AVAILABLE], names[LEDGER_STEP_PENDING], err) < 0)
        return -1;
    snprintf(names[LEDGER_STEP_PAID_OUT], sizeof names[LEDGER_STEP_PAID_OUT], "%s", LEDGER_ACCOUNT_PAYOUTS);
    return ledger_post_move(db, kind, payout_id, names[from], names[to], currency, amount_cents, err);
}

int ledger_post_payout_requested(db *db, int64_t payout_id, int64_t developer_id, const char *currency,
                                 int64_t amount_cents, mkt_error *err)
{
    return ledger_post_payout_step(db, LEDGER_KIND_PAYOUT_REQUESTED, payout_id, developer_id, LEDGER_STEP_AVAILABLE,
                                   LEDGER_STEP_PENDING, currency, amount_cents, err);
}

int ledger_post_payout_paid(db *db, int64_t payout_id, int64_t developer_id, const char *currency,
                            int64_t amount_cents, mkt_error *err)
{
    return ledger_post_payout_step(db, LEDGER_KIND_PAYOUT_PAID, payout_id, developer_id, LEDGER_STEP_PENDING,
                                   LEDGER_STEP_PAID_OUT, currency, amount_cents, err);
}

int ledger_post_payout_failed(db *db, int64_t payout_id, int64_t developer_id, const char *currency,
                              int64_t amount_cents, mkt_error *err)
{
    return ledger_post_payout_step(db, LEDGER_KIND_PAYOUT_FAILED, payout_id, developer_id, LEDGER_STEP_PENDING,
                                   LEDGER_STEP_AVAILABLE, currency, amount_cents, err);
}

/* ---- invariants ---- */

/* One check: a query that returns the first violating row (or none) and what that row means. */
typedef struct {
    const char *sql;
    const char *what; /* the violation, with the names of the columns printed after it */
} ledger_check;

/* Every query returns at most one row: the first violation, ordered so the answer is stable. Sums
 * are compared in SQL (DECIMAL), so nothing can overflow. */
static const ledger_check ledger_checks[] = {
    {"SELECT id AS entry_id, posting_id FROM ledger_entries WHERE amount_cents = 0 ORDER BY id LIMIT 1",
     "entry with zero amount (entry_id, posting_id)"},
    {"SELECT posting_id, currency, SUM(amount_cents) AS sum_cents FROM ledger_entries"
     " GROUP BY posting_id, currency HAVING SUM(amount_cents) <> 0 ORDER BY posting_id LIMIT 1",
     "posting does not sum to zero (posting_id, currency, sum_cents)"},
    {"SELECT currency, SUM(amount_cents) AS sum_cents FROM ledger_entries"
     " GROUP BY currency HAVING SUM(amount_cents) <> 0 ORDER BY currency LIMIT 1",
     "ledger does not sum to zero (currency, sum_cents)"},
    {"SELECT p.id AS posting_id, p.kind FROM ledger_postings p"
     " WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.posting_id = p.id) ORDER BY p.id LIMIT 1",
     "posting without entries (posting_id, kind)"},
    /* Account names exactly as ledger_classify accepts them (developer ids without a leading zero). */
    {"SELECT id AS entry_id, posting_id, account FROM ledger_entries"
     " WHERE account NOT IN ('external:payments', 'external:payouts', 'platform:revenue')"
     " AND account NOT REGEXP '^developer:[1-9][0-9]*:(available|payout_pending)$' ORDER BY id LIMIT 1",
     "bad account name (entry_id, posting_id, account)"},
    /* The sign table of ledger_shapes, as SQL: each entry becomes "kind class sign" and must be one
     * of the allowed combinations. Names are well-formed by the check above, so LIKE suffices. */
    {"SELECT e.posting_id, p.kind, e.id AS entry_id, e.account, e.amount_cents FROM ledger_entries e"
     " JOIN ledger_postings p ON p.id = e.posting_id"
     " WHERE CONCAT(p.kind, ' ', CASE WHEN e.account = 'external:payments' THEN 'payments'"
     "   WHEN e.account = 'external:payouts' THEN 'payouts' WHEN e.account = 'platform:revenue' THEN 'revenue'"
     "   WHEN e.account LIKE 'developer:%:available' THEN 'available'"
     "   WHEN e.account LIKE 'developer:%:payout_pending' THEN 'pending' ELSE 'bad' END,"
     "   IF(e.amount_cents > 0, '+', '-'))"
     " NOT IN ('purchase payments-', 'purchase revenue+', 'purchase available+',"
     "   'refund payments+', 'refund revenue-', 'refund available-',"
     "   'payout_requested available-', 'payout_requested pending+',"
     "   'payout_paid pending-', 'payout_paid payouts+',"
     "   'payout_failed pending-', 'payout_failed available+')"
     " ORDER BY e.id LIMIT 1",
     "entry not allowed for its posting kind (posting_id, kind, entry_id, account, amount_cents)"},
    {"SELECT posting_id FROM ledger_entries WHERE account LIKE 'developer:%'"
     " GROUP BY posting_id HAVING COUNT(DISTINCT SUBSTRING_INDEX(account, ':', 2)) > 1 ORDER BY posting_id LIMIT 1",
     "posting touches two developers (posting_id)"},
    /* Per developer and currency: available + payout_pending = purchase shares - refunded shares
     * - paid out. payout_requested and payout_failed only move money between one developer's two
     * buckets, so they must add nothing; a payout_paid posting takes from payout_pending what it
     * gives external:payouts (the checks above tie the two together). */
    {"SELECT SUBSTRING_INDEX(SUBSTRING_INDEX(e.account, ':', 2), ':', -1) AS developer_id, e.currency,"
     " SUM(e.amount_cents) AS balance_cents,"
     " SUM(CASE WHEN p.kind = 'purchase' THEN e.amount_cents ELSE 0 END) AS purchased_cents,"
     " -SUM(CASE WHEN p.kind = 'refund' THEN e.amount_cents ELSE 0 END) AS refunded_cents,"
     " -SUM(CASE WHEN p.kind = 'payout_paid' THEN e.amount_cents ELSE 0 END) AS paid_out_cents"
     " FROM ledger_entries e JOIN ledger_postings p ON p.id = e.posting_id"
     " WHERE e.account LIKE 'developer:%'"
     " GROUP BY developer_id, e.currency"
     " HAVING SUM(e.amount_cents) <> SUM(CASE WHEN p.kind IN ('purchase', 'refund', 'payout_paid')"
     "   THEN e.amount_cents ELSE 0 END)"
     " ORDER BY developer_id, e.currency LIMIT 1",
     "developer balance is not purchases - refunds - payouts (developer_id, currency, balance_cents, purchased_cents, refunded_cents, paid_out_cents)"},
};

int ledger_check_invariants_in_transaction(db *db, mkt_error *err)
{
    if (!db)
        return error_set(err, ERROR_INTERNAL, "ledger: no database");
    for (size_t c = 0; c < sizeof ledger_checks / sizeof ledger_checks[0]; c++) {
        db_rows rows;
        if (db_query(db, ledger_checks[c].sql, DB_NO_PARAMS, &rows, err) < 0)
            return -1;
        if (rows.row_count == 0) {
            db_rows_free(&rows);
            continue;
        }
        /* db_rows carries no column names: the values follow the names listed in `what`. */
        char detail[512];
        size_t used = 0;
        detail[0] = '\0';
        for (size_t col = 0; col < rows.column_count && used < sizeof detail; col++) {
            const char *v = db_rows_text(&rows, 0, col);
            int w = snprintf(detail + used, sizeof detail - used, "%s%.80s", col ? ", " : "", v ? v : "NULL");
            if (w < 0)
                break;
            used += (size_t)w;
        }
        db_rows_free(&rows);
        return error_set(err, ERROR_INTERNAL, "ledger invariant violated: %s: %s", ledger_checks[c].what, detail);
    }
    return 0;
}

static int ledger_invariants_txn(db *db, void *ctx, mkt_error *err)
{
    (void)ctx;
    return ledger_check_invariants_in_transaction(db, err);
}

int ledger_check_invariants(db *db, mkt_error *err)
{
    if (!db)
        return error_set(err, ERROR_INTERNAL, "ledger: no database");
    /* One transaction = one InnoDB read view (REPEATABLE READ): every check sees the same committed
     * postings, so postings committed by others meanwhile cannot make the sums disagree. */
    return db_transaction(db, ledger_invariants_txn, NULL, err);
}

/* bench_money_load — the load generator and MariaDB baseline of tests/bench/money.sh.
 *
 *   MKT_TEST_STACK=DIR bench_money_load [-c CLIENTS (16)] [-d SECONDS (10)] [--price CENTS (5000)]
 *                                       [--payout CENTS (100)]
 *
 * Against the running stack in DIR (stack.env), through nginx:
 *   setup     a developer with a published paid subscription tool (a subscription can be bought
 *             again, so one buyer per client renews it over and over) and CLIENTS buyers
 *   purchase  each client: POST /transactions (unique Idempotency-Key) -> 201 pending, then a signed
 *             payment.succeeded webhook (tests/support/provider, HMAC-SHA256) -> 200; one completed
 *             purchase = both; its latency = both requests
 *   payout    each client: POST /developers/me/payouts {amount_cents: --payout, "USD"} as the developer
 *             (balance seeded by the purchase phase) -> 201
 * Then on the same MariaDB (the stack's socket, the server's own credentials, via sql/db.h), with as
 * many connections as clients, the baseline: scratch tables bench_money_* shaped like the real ones,
 * and transactions with the same row writes as the server does:
 *   purchase  = 3 transactions, 12 row writes:
 *               [INSERT idempotency key] [INSERT transaction, UPDATE idempotency key (stored answer)]
 *               [INSERT webhook event, SELECT transaction FOR UPDATE, UPDATE status, INSERT posting,
 *                3 x INSERT ledger entry, upsert access, UPDATE tool downloads, UPDATE receipt]
 *   payout    = 1 transaction, 5 row writes: SELECT developer FOR UPDATE, SELECT SUM(balance),
 *               INSERT payout, UPDATE payout token_jti, INSERT posting, 2 x INSERT ledger entry;
 *               before it, the baseline developer gets exactly as many "available" entries as the
 *               server's had when its payout phase began (the balance is a SUM over them)
 * HTTP requests use tests/support/http (libcurl, one fresh connection per request, like the tests).
 * Prints one line per phase "RESULT name rate p50_ms p99_ms ok errors" and then the table. */

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/config.h"
#include "core/error.h"
#include "sql/db.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/provider.h"
#include "tests/support/stack_env.h"

static int clients = 16;
static double duration = 10;
static int64_t price = 5000;
static int64_t payout_amount = 100;
static char tool_id[FIXTURE_ID_SIZE];
static http_user developer;
static http_user *buyers;
static config cfg;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- per-client results ------------------------------------------------------------------------ */

typedef struct {
    int index;
    double deadline;
    double *lat; /* seconds per completed operation */
    size_t n, cap;
    long errors;
    char first_error[256];
    db *db;
} client;

static void record(client *c, double seconds)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4096;
        c->lat = realloc(c->lat, c->cap * sizeof *c->lat);
        if (!c->lat)
            exit(1);
    }
    c->lat[c->n++] = seconds;
}

static void fail(client *c, const char *what, long status, const char *detail)
{
    if (c->errors++ == 0)
        snprintf(c->first_error, sizeof c->first_error, "%s: %ld %.200s", what, status, detail ? detail : "");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double rate, p50_ms, p99_ms;
    size_t ok;
    long errors;
} phase_result;

static phase_result run_phase(const char *name, void *(*fn)(void *), client *cs, int with_db)
{
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    double start = now_s();
    for (int i = 0; i < clients; i++) {
        free(cs[i].lat);
        cs[i] = (client){.index = i, .deadline = start + duration, .db = with_db ? cs[i].db : NULL};
        if (pthread_create(&th[i], NULL, fn, &cs[i]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    }
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    double elapsed = now_s() - start;
    free(th);

    phase_result r = {0};
    for (int i = 0; i < clients; i++) {
        r.ok += cs[i].n;
        r.errors += cs[i].errors;
        if (cs[i].errors)
            fprintf(stderr, "money_load: %s client %d: %ld errors, first: %s\n", name, i, cs[i].errors,
                    cs[i].first_error);
    }
    double *all = malloc((r.ok ? r.ok : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < clients; i++)
        for (size_t j = 0; j < cs[i].n; j++)
            all[k++] = cs[i].lat[j];
    qsort(all, r.ok, sizeof *all, cmp_double);
    r.rate = (double)r.ok / elapsed;
    if (r.ok) {
        r.p50_ms = 1000 * all[(size_t)(0.50 * (double)(r.ok - 1))];
        r.p99_ms = 1000 * all[(size_t)(0.99 * (double)(r.ok - 1))];
    }
    free(all);
    printf("RESULT %s rate=%.1f p50_ms=%.3f p99_ms=%.3f ok=%zu errors=%ld\n", name, r.rate, r.p50_ms, r.p99_ms, r.ok,
           r.errors);
    fflush(stdout);
    return r;
}

/* ---- setup through the API --------------------------------------------------------------------- */

static void setup(void)
{
    fixture_developer(&developer, "Bench Seller");
    fixture_adder_tool(&developer, "subscription", price, 30, tool_id, NULL);

    buyers = calloc((size_t)clients, sizeof *buyers);
    for (int i = 0; i < clients; i++)
        if (http_register_user(&buyers[i]) < 0)
            exit(1);
}

/* ---- HTTP phases ------------------------------------------------------------------------------- */

static int purchase_once(client *c, unsigned long n)
{
    char key[128], body[96], txn[32];
    snprintf(key, sizeof key, "Idempotency-Key: bench-%d-%d-%lu", (int)getpid(), c->index, n);
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\"}", tool_id);
    const char *headers[] = {key, NULL};
    http_response *res =
        http_request("POST", "/transactions", buyers[c->index].token, NULL, body, strlen(body), headers);
    const char *id = res->status == 201 ? http_json_string(res, "id") : NULL;
    if (!id) {
        fail(c, "POST /transactions", res->status, res->status ? res->body : res->error);
        http_response_free(res);
        return -1;
    }
    snprintf(txn, sizeof txn, "%s", id);
    http_response_free(res);
    res = provider_payment_succeeded(NULL, txn, price, "USD");
    if (res->status != 200) {
        fail(c, "webhook payment.succeeded", res->status, res->status ? res->body : res->error);
        http_response_free(res);
        return -1;
    }
    http_response_free(res);
    return 0;
}

/* The loop every client runs until its deadline: one operation at a time, timed; once returns 0
 * when the operation completed (and has already called fail() when it did not). */
static void client_loop(client *c, int (*once)(client *c, unsigned long n))
{
    for (unsigned long n = 0;; n++) {
        double t0 = now_s();
        if (t0 >= c->deadline)
            break;
        if (once(c, n) == 0)
            record(c, now_s() - t0);
    }
}

static void *purchase_client(void *arg)
{
    client_loop(arg, purchase_once);
    return NULL;
}

static int payout_once(client *c, unsigned long n)
{
    (void)n;
    char body[96];
    snprintf(body, sizeof body, "{\"amount_cents\": %" PRId64 ", \"currency\": \"USD\"}", payout_amount);
    http_response *res = http_request("POST", "/developers/me/payouts", developer.token, NULL, body, strlen(body), NULL);
    int rc = res->status == 201 && http_json_string(res, "token") ? 0 : -1;
    if (rc < 0)
        fail(c, "POST /developers/me/payouts", res->status, res->status ? res->body : res->error);
    http_response_free(res);
    return rc;
}

static void *payout_client(void *arg)
{
    client_loop(arg, payout_once);
    return NULL;
}

/* ---- the MariaDB baseline ---------------------------------------------------------------------- */

static const char *const baseline_schema =
    "DROP TABLE IF EXISTS bench_money_entries, bench_money_postings, bench_money_idem, bench_money_txn,"
    " bench_money_events, bench_money_access, bench_money_tools, bench_money_devs, bench_money_payouts;"
    "CREATE TABLE bench_money_idem (user_id BIGINT UNSIGNED NOT NULL, idem_key VARCHAR(255) NOT NULL,"
    " request_hash BINARY(32) NOT NULL, status_code SMALLINT NULL, response MEDIUMTEXT NULL,"
    " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (user_id, idem_key)) ENGINE=InnoDB;"
    "CREATE TABLE bench_money_txn (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " buyer_user_id BIGINT UNSIGNED NOT NULL, tool_id BIGINT UNSIGNED NOT NULL, developer_id BIGINT UNSIGNED NOT NULL,"
    " amount_cents BIGINT NOT NULL, currency CHAR(3) NOT NULL, developer_cents BIGINT NOT NULL,"
    " platform_cents BIGINT NOT NULL, pricing_model VARCHAR(16) NOT NULL, period_days INT NULL,"
    " status VARCHAR(16) NOT NULL, provider_ref VARCHAR(40) NOT NULL, receipt TEXT NULL,"
    " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), completed_at DATETIME(6) NULL,"
    " UNIQUE KEY (provider_ref), KEY (buyer_user_id), KEY (developer_id)) ENGINE=InnoDB;"
    "CREATE TABLE bench_money_events (event_id VARCHAR(128) NOT NULL PRIMARY KEY, type VARCHAR(32) NOT NULL,"
    " received_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;"
    "CREATE TABLE bench_money_postings (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " kind VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    " ref_type VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, ref_id BIGINT UNSIGNED NOT NULL,"
    " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), UNIQUE KEY (kind, ref_type, ref_id)) ENGINE=InnoDB;"
    "CREATE TABLE bench_money_entries (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " posting_id BIGINT UNSIGNED NOT NULL, account VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    " currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, amount_cents BIGINT NOT NULL,"
    " KEY (account, currency, amount_cents), KEY (posting_id),"
    " FOREIGN KEY (posting_id) REFERENCES bench_money_postings (id)) ENGINE=InnoDB;"
    "CREATE TABLE bench_money_access (user_id BIGINT UNSIGNED NOT NULL, tool_id BIGINT UNSIGNED NOT NULL,"
    " access_until DATETIME(6) NULL, PRIMARY KEY (user_id, tool_id)) ENGINE=InnoDB;"
    "CREATE TABLE bench_money_tools (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, downloads BIGINT NOT NULL DEFAULT 0)"
    " ENGINE=InnoDB;"
    "CREATE TABLE bench_money_devs (id BIGINT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=InnoDB;"
    "CREATE TABLE bench_money_payouts (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " developer_id BIGINT UNSIGNED NOT NULL, amount_cents BIGINT NOT NULL, currency CHAR(3) NOT NULL,"
    " status VARCHAR(16) NOT NULL DEFAULT 'requested', token_jti VARCHAR(64) NULL,"
    " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), UNIQUE KEY (token_jti)) ENGINE=InnoDB;"
    "INSERT INTO bench_money_tools (id) VALUES (1);"
    "INSERT INTO bench_money_devs (id) VALUES (1);";

static const char *const baseline_drop =
    "DROP TABLE IF EXISTS bench_money_entries, bench_money_postings, bench_money_idem, bench_money_txn,"
    " bench_money_events, bench_money_access, bench_money_tools, bench_money_devs, bench_money_payouts;";

/* a receipt-sized value (the server stores a ~560-byte JWS) and an answer-sized one */
static char receipt_text[600];
static char answer_text[360];

typedef struct {
    client *c;
    unsigned long n;
    int64_t txn;
    int64_t payout;
} baseline_ctx;

static int baseline_idem_tx(db *d, void *arg, mkt_error *err)
{
    baseline_ctx *b = arg;
    char key[64];
    unsigned char hash[32];
    snprintf(key, sizeof key, "bench-%d-%lu", b->c->index, b->n);
    for (size_t i = 0; i < sizeof hash; i++)
        hash[i] = (unsigned char)(b->n * 31 + i);
    return db_exec(d, "INSERT IGNORE INTO bench_money_idem (user_id, idem_key, request_hash) VALUES (?, ?, ?)",
                   DB_PARAMS(db_int(b->c->index + 1), db_text(key), db_bytes(hash, sizeof hash)), NULL, err);
}

static int baseline_checkout_tx(db *d, void *arg, mkt_error *err)
{
    baseline_ctx *b = arg;
    char key[64], ref[40];
    snprintf(key, sizeof key, "bench-%d-%lu", b->c->index, b->n);
    snprintf(ref, sizeof ref, "pi_bench_%d_%lu", b->c->index, b->n);
    db_result res = {0};
    if (db_exec(d,
                "INSERT INTO bench_money_txn (buyer_user_id, tool_id, developer_id, amount_cents, currency,"
                " developer_cents, platform_cents, pricing_model, period_days, status, provider_ref)"
                " VALUES (?, 1, 1, ?, 'USD', ?, ?, 'subscription', 30, 'pending', ?)",
                DB_PARAMS(db_int(b->c->index + 1), db_int(price), db_int(price * 7 / 10), db_int(price - price * 7 / 10),
                          db_text(ref)),
                &res, err) < 0)
        return -1;
    b->txn = (int64_t)res.insert_id;
    return db_exec(d, "UPDATE bench_money_idem SET status_code = 201, response = ? WHERE user_id = ? AND idem_key = ?",
                   DB_PARAMS(db_text(answer_text), db_int(b->c->index + 1), db_text(key)), NULL, err);
}

static int baseline_webhook_tx(db *d, void *arg, mkt_error *err)
{
    baseline_ctx *b = arg;
    char evt[64];
    snprintf(evt, sizeof evt, "evt_bench_%d_%lu", b->c->index, b->n);
    if (db_exec(d, "INSERT IGNORE INTO bench_money_events (event_id, type) VALUES (?, 'payment.succeeded')",
                DB_PARAMS(db_text(evt)), NULL, err) < 0)
        return -1;
    db_rows rows = {0};
    if (db_query(d,
                 "SELECT id, buyer_user_id, tool_id, developer_id, amount_cents, currency, status"
                 " FROM bench_money_txn WHERE id = ? FOR UPDATE",
                 DB_PARAMS(db_int(b->txn)), &rows, err) < 0)
        return -1;
    db_rows_free(&rows);
    if (db_exec(d,
                "UPDATE bench_money_txn SET status = 'completed', completed_at = NOW(6)"
                " WHERE id = ? AND status IN ('pending', 'failed')",
                DB_PARAMS(db_int(b->txn)), NULL, err) < 0)
        return -1;
    db_result res = {0};
    if (db_exec(d, "INSERT INTO bench_money_postings (kind, ref_type, ref_id) VALUES ('purchase', 'transaction', ?)",
                DB_PARAMS(db_int(b->txn)), &res, err) < 0)
        return -1;
    int64_t posting = (int64_t)res.insert_id, dev = price * 7 / 10;
    const char *acct[3] = {"external:payments", "developer:1:available", "platform:revenue"};
    int64_t amt[3] = {-price, dev, price - dev};
    for (int i = 0; i < 3; i++)
        if (db_exec(d, "INSERT INTO bench_money_entries (posting_id, account, currency, amount_cents) VALUES (?, ?, 'USD', ?)",
                    DB_PARAMS(db_int(posting), db_text(acct[i]), db_int(amt[i])), NULL, err) < 0)
            return -1;
    if (db_exec(d,
                "INSERT INTO bench_money_access (user_id, tool_id, access_until) VALUES (?, 1, NOW(6) + INTERVAL 30 DAY)"
                " ON DUPLICATE KEY UPDATE access_until = GREATEST(COALESCE(access_until, NOW(6)), NOW(6)) + INTERVAL 30 DAY",
                DB_PARAMS(db_int(b->c->index + 1)), NULL, err) < 0)
        return -1;
    if (db_exec(d, "UPDATE bench_money_tools SET downloads = downloads + 1 WHERE id = 1", NULL, 0, NULL, err) < 0)
        return -1;
    return db_exec(d, "UPDATE bench_money_txn SET receipt = ? WHERE id = ?",
                   DB_PARAMS(db_text(receipt_text), db_int(b->txn)), NULL, err);
}

static int baseline_purchase_once(client *c, unsigned long n)
{
    mkt_error err = {0};
    baseline_ctx b = {.c = c, .n = n};
    if (db_transaction(c->db, baseline_idem_tx, &b, &err) < 0 || db_transaction(c->db, baseline_checkout_tx, &b, &err) < 0 ||
        db_transaction(c->db, baseline_webhook_tx, &b, &err) < 0) {
        fail(c, "baseline purchase", 0, err.message);
        error_clear(&err);
        return -1;
    }
    return 0;
}

static void *baseline_purchase_client(void *arg)
{
    client_loop(arg, baseline_purchase_once);
    return NULL;
}

static int baseline_payout_tx(db *d, void *arg, mkt_error *err)
{
    baseline_ctx *b = arg;
    db_rows rows = {0};
    if (db_query(d, "SELECT id FROM bench_money_devs WHERE id = 1 FOR UPDATE", NULL, 0, &rows, err) < 0)
        return -1;
    db_rows_free(&rows);
    if (db_query(d,
                 "SELECT SUM(amount_cents) FROM bench_money_entries WHERE account = 'developer:1:available'"
                 " AND currency = 'USD'",
                 NULL, 0, &rows, err) < 0)
        return -1;
    int64_t available = rows.row_count ? db_rows_int(&rows, 0, 0) : 0;
    db_rows_free(&rows);
    if (available < payout_amount)
        return error_set(err, ERROR_VALIDATION, "baseline balance exhausted");
    db_result res = {0};
    if (db_exec(d, "INSERT INTO bench_money_payouts (developer_id, amount_cents, currency) VALUES (1, ?, 'USD')",
                DB_PARAMS(db_int(payout_amount)), &res, err) < 0)
        return -1;
    b->payout = (int64_t)res.insert_id;
    char jti[40];
    snprintf(jti, sizeof jti, "pout_%" PRId64, b->payout);
    if (db_exec(d, "UPDATE bench_money_payouts SET token_jti = ? WHERE id = ?",
                DB_PARAMS(db_text(jti), db_int(b->payout)), NULL, err) < 0)
        return -1;
    if (db_exec(d,
                "INSERT INTO bench_money_postings (kind, ref_type, ref_id) VALUES ('payout_requested', 'payout', ?)",
                DB_PARAMS(db_int(b->payout)), &res, err) < 0)
        return -1;
    int64_t posting = (int64_t)res.insert_id;
    const char *acct[2] = {"developer:1:available", "developer:1:payout_pending"};
    int64_t amt[2] = {-payout_amount, payout_amount};
    for (int i = 0; i < 2; i++)
        if (db_exec(d, "INSERT INTO bench_money_entries (posting_id, account, currency, amount_cents) VALUES (?, ?, 'USD', ?)",
                    DB_PARAMS(db_int(posting), db_text(acct[i]), db_int(amt[i])), NULL, err) < 0)
            return -1;
    return 0;
}

static int baseline_payout_once(client *c, unsigned long n)
{
    mkt_error err = {0};
    baseline_ctx b = {.c = c, .n = n};
    if (db_transaction(c->db, baseline_payout_tx, &b, &err) < 0) {
        fail(c, "baseline payout", 0, err.message);
        error_clear(&err);
        return -1;
    }
    return 0;
}

static void *baseline_payout_client(void *arg)
{
    client_loop(arg, baseline_payout_once);
    return NULL;
}

static int64_t count_rows(db *d, const char *sql)
{
    mkt_error err = {0};
    db_rows rows = {0};
    if (db_query(d, sql, NULL, 0, &rows, &err) < 0) {
        fprintf(stderr, "money_load: %s: %s\n", sql, err.message);
        exit(1);
    }
    int64_t n = rows.row_count ? db_rows_int(&rows, 0, 0) : 0;
    db_rows_free(&rows);
    return n;
}

typedef struct {
    int64_t add;
} filler_ctx;

static int filler_tx(db *d, void *arg, mkt_error *err)
{
    filler_ctx *f = arg;
    for (int64_t i = 0; i < f->add; i++)
        if (db_exec(d,
                    "INSERT INTO bench_money_entries (posting_id, account, currency, amount_cents)"
                    " SELECT MIN(id), 'developer:1:available', 'USD', ? FROM bench_money_postings",
                    DB_PARAMS(db_int(price * 7 / 10)), NULL, err) < 0)
            return -1;
    return 0;
}

/* Gives the baseline developer as many available entries as the server's developer had when its
 * payout phase began, so both balance SUMs read the same number of rows. */
static int match_entries(db *d, int64_t target)
{
    int64_t have = count_rows(d, "SELECT COUNT(*) FROM bench_money_entries WHERE account = 'developer:1:available'");
    mkt_error err = {0};
    char sql[256];
    int rc = 0;
    if (have > target) {
        snprintf(sql, sizeof sql,
                 "DELETE FROM bench_money_entries WHERE account = 'developer:1:available' ORDER BY id LIMIT %" PRId64,
                 have - target);
        rc = db_exec(d, sql, NULL, 0, NULL, &err);
    } else if (have < target) {
        filler_ctx f = {.add = target - have};
        rc = db_transaction(d, filler_tx, &f, &err);
    }
    if (rc < 0) {
        fprintf(stderr, "money_load: matching the ledger size: %s\n", err.message);
        return -1;
    }
    printf("money_load: balance SUM over %" PRId64 " entries in both payout phases (baseline had %" PRId64 ")\n",
           target, have);
    return 0;
}

/* ---- main -------------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: MKT_TEST_STACK=DIR bench_money_load [-c CLIENTS] [-d SECONDS] [--price CENTS]"
                    " [--payout CENTS]\n");
    exit(2);
}

static void row(const char *name, const phase_result *r)
{
    printf("%-44s %10.1f %9.2f %9.2f %8zu %7ld\n", name, r->rate, r->p50_ms, r->p99_ms, r->ok, r->errors);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "-c") == 0)
            clients = atoi(argv[++i]);
        else if (strcmp(argv[i], "-d") == 0)
            duration = atof(argv[++i]);
        else if (strcmp(argv[i], "--price") == 0)
            price = atoll(argv[++i]);
        else if (strcmp(argv[i], "--payout") == 0)
            payout_amount = atoll(argv[++i]);
        else
            usage();
    }
    if (clients < 1 || clients > 512 || !(duration > 0) || price < 1 || payout_amount < 1)
        usage();
    memset(receipt_text, 'r', sizeof receipt_text - 1);
    memset(answer_text, 'a', sizeof answer_text - 1);
    http_set_timeout_ms(30000);

    setup();
    client *cs = calloc((size_t)clients, sizeof *cs);
    /* warm-up and a check that the whole path works: one purchase per buyer */
    for (int i = 0; i < clients; i++) {
        cs[i].index = i;
        if (purchase_once(&cs[i], 1000000000UL) < 0) {
            fprintf(stderr, "money_load: the purchase path does not work: %s\n", cs[i].first_error);
            return 1;
        }
    }
    printf("money_load: %d clients, %.0f s per phase, tool %s (subscription, %" PRId64 " USD cents),"
           " payouts of %" PRId64 " cents\n",
           clients, duration, tool_id, price, payout_amount);
    fflush(stdout);

    stack_env_config(&cfg);
    mkt_error err = {0};
    db **conns = calloc((size_t)clients, sizeof *conns);
    for (int i = 0; i < clients; i++) {
        conns[i] = db_open(&cfg, &err);
        if (!conns[i]) {
            fprintf(stderr, "money_load: db_open: %s\n", err.message);
            return 1;
        }
    }

    phase_result purchases = run_phase("http_purchase", purchase_client, cs, 0);
    /* a balance is a SUM over the developer's entries: the baseline payouts sum as many rows */
    int64_t server_entries = count_rows(conns[0], "SELECT COUNT(*) FROM ledger_entries WHERE account LIKE"
                                                  " 'developer:%:available' AND currency = 'USD'");
    phase_result payouts = run_phase("http_payout", payout_client, cs, 0);

    for (int i = 0; i < clients; i++)
        cs[i].db = conns[i];
    if (db_exec_script(cs[0].db, baseline_schema, &err) < 0) {
        fprintf(stderr, "money_load: baseline schema: %s\n", err.message);
        return 1;
    }
    phase_result db_purchases = run_phase("db_purchase", baseline_purchase_client, cs, 1);
    if (match_entries(cs[0].db, server_entries) < 0)
        return 1;
    phase_result db_payouts = run_phase("db_payout", baseline_payout_client, cs, 1);
    if (db_exec_script(cs[0].db, baseline_drop, &err) < 0)
        fprintf(stderr, "money_load: dropping the baseline tables: %s\n", err.message);
    for (int i = 0; i < clients; i++) {
        db_close(cs[i].db);
        free(cs[i].lat);
    }
    free(cs);
    free(conns);

    printf("\n%-44s %10s %9s %9s %8s %7s\n", "operation (through nginx / MariaDB alone)", "per s", "p50_ms", "p99_ms",
           "done", "errors");
    row("purchase: checkout + signed webhook (HTTP)", &purchases);
    row("  MariaDB baseline: 3 txns, 12 row writes", &db_purchases);
    row("payout: POST /developers/me/payouts (HTTP)", &payouts);
    row("  MariaDB baseline: 1 txn, 5 row writes", &db_payouts);
    printf("ratio server/baseline: purchases %.1f %%, payouts %.1f %%\n",
           db_purchases.rate > 0 ? 100 * purchases.rate / db_purchases.rate : 0,
           db_payouts.rate > 0 ? 100 * payouts.rate / db_payouts.rate : 0);
    free(buyers);
    return 0;
}

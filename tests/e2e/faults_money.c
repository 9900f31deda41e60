/* Money under worker faults, through real nginx -> marketplace -> MariaDB. For ~8 s, buyer threads
 * check out a paid (subscription) tool with unique Idempotency-Keys and deliver the provider's
 * signed payment.succeeded for each, a payout thread requests payouts for the tool's developer,
 * redeems the tokens and finishes some with payout.paid / payout.failed, while a killer thread
 * SIGKILLs a random worker of the master every ~300 ms. Failed requests are expected. Then:
 *   - right after the load, every transaction of the tool is either completed with exactly its
 *     purchase posting (entries = its split), a receipt, completed_at and an access row, or
 *     pending/failed with no posting and no receipt: nothing half-written;
 *   - transaction_check_postings, payout_check_invariants and ledger_check_invariants hold;
 *   - the provider's retries complete every pending transaction, once each; the payouts are finished;
 *     the invariants hold again and the developer's balance is not negative;
 *   - the master is alive, the worker count recovered, and a fresh purchase + webhook succeeds.
 * Plus: a buyer of a delisted tool still sees it, a stranger gets 404.
 * Runs serially (RUN_SERIAL): it kills processes of the shared test stack. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ledger.h"
#include "core/payout.h"
#include "core/transaction_manager.h"
#include "sql/db.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/procs.h"
#include "tests/support/provider.h"
#include "tests/support/stack_env.h"

#define MAX_WORKERS 256
#define BUYERS 6
#define LOAD_SECONDS 8.0
#define KILL_INTERVAL 0.3
#define PRICE 1000
#define MAX_PAYOUTS 512

static pid_t g_master;

/* ---- processes (as tests/e2e/faults_workers.c) ------------------------------------------------- */

static int wait_workers(size_t count, double timeout, size_t *out_n)
{
    pid_t now[MAX_WORKERS];
    double deadline = procs_now() + timeout;
    for (;;) {
        *out_n = procs_workers_of(g_master, now, MAX_WORKERS);
        if (*out_n == count)
            return 1;
        if (procs_now() > deadline)
            return 0;
        procs_sleep(0.05);
    }
}

/* ---- database ---------------------------------------------------------------------------------- */

static void query(const char *sql, const db_value *params, size_t n, db_rows *rows)
{
    mkt_error err = MKT_ERROR_INIT;
    if (db_query(fixture_db(), sql, params, n, rows, &err) < 0) {
        fprintf(stderr, "query failed: %s: %s\n", sql, err.message ? err.message : "?");
        exit(2);
    }
}

/* ---- HTTP helpers -------------------------------------------------------------------------------- */

static long execute_status(const http_user *u, const char *tool_id)
{
    char path[96];
    snprintf(path, sizeof path, "/tools/%s/execute", tool_id);
    http_response *res = http_post_text(path, u->token, "{\"input\": {\"a\": 2, \"b\": 3}}");
    long s = res->status;
    http_response_free(res);
    return s;
}

static long get_tool_status(const http_user *u, const char *tool_id)
{
    char path[96];
    snprintf(path, sizeof path, "/tools/%s", tool_id);
    http_response *res = http_get(path, u ? u->token : NULL);
    long s = res->status;
    http_response_free(res);
    return s;
}

/* ---- the load ------------------------------------------------------------------------------------- */

static atomic_int g_stop;
static char g_tool[32];
static http_user g_dev, g_buyers[BUYERS];

typedef struct {
    pthread_t thread;
    int index;
    int checkouts, created, replays, completed, webhook_failed, checkout_failed, left_pending;
    int unexpected; /* an answer no fault explains (e.g. 422 for a replayed key) */
} buyer_slot;

static atomic_int g_faults; /* answers a killed worker explains: none at all, 502, 503, 504 */

static int transport_fault(long status)
{
    int fault = status == 0 || status == 502 || status == 503 || status == 504;
    if (fault)
        atomic_fetch_add(&g_faults, 1);
    return fault;
}

static void *buyer_loop(void *arg)
{
    buyer_slot *s = arg;
    const http_user *u = &g_buyers[s->index];
    unsigned n = 0;
    while (!atomic_load(&g_stop)) {
        char key[128], id[32] = "";
        snprintf(key, sizeof key, "fm-%d-%d-%u-%ld", (int)getpid(), s->index, n++, (long)time(NULL));
        s->checkouts++;
        /* a retried checkout uses the same key: it replays, or 409 while a killed attempt holds it */
        for (int attempt = 0; attempt < 3 && !id[0]; attempt++) {
            http_response *res = fixture_checkout(u, key, g_tool);
            if (res->status == 201 && http_json_string(res, "id")) {
                snprintf(id, sizeof id, "%s", http_json_string(res, "id"));
                s->created += attempt == 0;
                s->replays += attempt > 0;
            } else if (!transport_fault(res->status) && res->status != 409) {
                s->unexpected++;
                http_dump("checkout", res);
            }
            http_response_free(res);
        }
        if (!id[0]) {
            s->checkout_failed++;
            continue;
        }
        /* every tenth purchase is left to the provider's retries after the load */
        if (n % 10 == 0) {
            s->left_pending++;
            continue;
        }
        char evt[80];
        provider_event_id(evt, sizeof evt);
        int done = 0;
        for (int attempt = 0; attempt < 2 && !done; attempt++) {
            http_response *res = provider_payment_succeeded(evt, id, PRICE, "USD");
            done = res->status == 200;
            if (!done && !transport_fault(res->status)) {
                s->unexpected++;
                http_dump("payment.succeeded", res);
            }
            http_response_free(res);
        }
        s->completed += done;
        s->webhook_failed += !done;
    }
    return NULL;
}

typedef struct {
    pthread_t thread;
    int64_t ids[MAX_PAYOUTS];
    size_t count;
    int requested, redeemed, finished, unexpected;
} payout_slot;

static void *payout_loop(void *arg)
{
    payout_slot *s = arg;
    int64_t amount = fixture_config()->min_payout_cents > 500 ? fixture_config()->min_payout_cents : 500;
    while (!atomic_load(&g_stop)) {
        procs_sleep(0.15);
        json_t *body = json_pack("{s:I, s:s}", "amount_cents", (json_int_t)amount, "currency", "USD");
        http_response *res = http_post_json("/developers/me/payouts", g_dev.token, body);
        json_decref(body);
        const char *token = http_json_string(res, "token");
        const char *id = json_string_value(json_object_get(json_object_get(res->json, "payout"), "id"));
        if (res->status != 201 || !token || !id) {
            if (!transport_fault(res->status) && res->status != 422) {
                s->unexpected++;
                http_dump("payout", res);
            }
            http_response_free(res);
            continue;
        }
        s->requested++;
        char payout_id[32];
        snprintf(payout_id, sizeof payout_id, "%s", id);
        if (s->count < MAX_PAYOUTS)
            s->ids[s->count++] = strtoll(id, NULL, 10);
        json_t *redeem = json_pack("{s:s}", "token", token);
        http_response_free(res);
        int redeemed = 0;
        for (int attempt = 0; attempt < 2 && !redeemed; attempt++) {
            res = http_post_json("/payouts/redeem", NULL, redeem);
            /* 409 on a retry: the killed attempt may have redeemed it */
            redeemed = res->status == 200 || (attempt > 0 && res->status == 409);
            if (!redeemed && !transport_fault(res->status)) {
                s->unexpected++;
                http_dump("redeem", res);
            }
            http_response_free(res);
        }
        json_decref(redeem);
        s->redeemed += redeemed;
        /* every other one paid, the rest failed (the money returns to available) */
        res = provider_payout(NULL, s->requested % 2 ? "payout.paid" : "payout.failed", payout_id,
                              s->requested % 2 ? NULL : "bank said no");
        if (res->status == 200)
            s->finished++;
        else if (!transport_fault(res->status)) {
            s->unexpected++;
            http_dump("payout event", res);
        }
        http_response_free(res);
    }
    return NULL;
}

typedef struct {
    pthread_t thread;
    int kills, skipped;
} killer_slot;

static void *killer_loop(void *arg)
{
    killer_slot *k = arg;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    while (!atomic_load(&g_stop)) {
        procs_sleep(KILL_INTERVAL * (0.5 + (double)(rand_r(&seed) % 1000) / 1000.0));
        if (atomic_load(&g_stop))
            break;
        pid_t w[MAX_WORKERS];
        size_t n = procs_workers_of(g_master, w, MAX_WORKERS);
        /* the master backs off respawning workers that die young: always leave one serving */
        if (n < 2) {
            k->skipped++;
            continue;
        }
        if (kill(w[rand_r(&seed) % n], SIGKILL) == 0)
            k->kills++;
    }
    return NULL;
}

/* ---- the checks ------------------------------------------------------------------------------------ */

/* Every transaction of the tool, as the database holds it, with its postings. */
#define TXN_SQL                                                                                                  \
    "SELECT x.id, x.status, x.receipt IS NOT NULL, x.completed_at IS NOT NULL, x.amount_cents,"                 \
    " x.developer_cents, x.platform_cents,"                                                                     \
    " (SELECT COUNT(*) FROM ledger_postings p WHERE p.kind = 'purchase' AND p.ref_type = 'transaction'"         \
    "   AND p.ref_id = x.id),"                                                                                  \
    " (SELECT COUNT(*) FROM ledger_postings p WHERE p.kind <> 'purchase' AND p.ref_type = 'transaction'"        \
    "   AND p.ref_id = x.id),"                                                                                  \
    " (SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id" \
    "   WHERE p.kind = 'purchase' AND p.ref_type = 'transaction' AND p.ref_id = x.id"                           \
    "   AND e.account = 'external:payments'),"                                                                  \
    " (SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id" \
    "   WHERE p.kind = 'purchase' AND p.ref_type = 'transaction' AND p.ref_id = x.id"                           \
    "   AND e.account = CONCAT('developer:', x.developer_id, ':available')),"                                    \
    " (SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id" \
    "   WHERE p.kind = 'purchase' AND p.ref_type = 'transaction' AND p.ref_id = x.id"                           \
    "   AND e.account = 'platform:revenue'),"                                                                   \
    " (SELECT COUNT(*) FROM tool_access a WHERE a.user_id = x.buyer_user_id AND a.tool_id = x.tool_id)"         \
    " FROM transactions x WHERE x.tool_id = ? ORDER BY x.id"

typedef struct {
    size_t total, completed, pending, failed, other;
} txn_summary;

/* Each transaction whole or untouched. Returns the counts per status. */
static txn_summary check_transactions(const char *tool, int line)
{
    txn_summary sum = {0};
    db_rows rows = {0};
    query(TXN_SQL, DB_PARAMS(db_int(atoll(tool))), &rows);
    for (size_t i = 0; i < rows.row_count; i++) {
        const char *id = db_rows_text(&rows, i, 0), *status = db_rows_text(&rows, i, 1);
        int receipt = (int)db_rows_int(&rows, i, 2), completed_at = (int)db_rows_int(&rows, i, 3);
        int64_t amount = db_rows_int(&rows, i, 4), dev = db_rows_int(&rows, i, 5), plat = db_rows_int(&rows, i, 6);
        int64_t purchases = db_rows_int(&rows, i, 7), others = db_rows_int(&rows, i, 8);
        int64_t payments = db_rows_int(&rows, i, 9), dev_entry = db_rows_int(&rows, i, 10);
        int64_t plat_entry = db_rows_int(&rows, i, 11), access = db_rows_int(&rows, i, 12);
        sum.total++;
        int ok;
        if (strcmp(status, "completed") == 0) {
            sum.completed++;
            ok = purchases == 1 && others == 0 && receipt && completed_at && payments == -amount && dev_entry == dev &&
                 plat_entry == plat && access == 1 && amount == PRICE;
        } else if (strcmp(status, "pending") == 0 || strcmp(status, "failed") == 0) {
            if (status[0] == 'p')
                sum.pending++;
            else
                sum.failed++;
            ok = purchases == 0 && others == 0 && !receipt && !completed_at;
        } else {
            sum.other++;
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr,
                    "  line %d: transaction %s half-written: status %s, receipt %d, completed_at %d, amount %" PRId64
                    " (%" PRId64 "/%" PRId64 "), purchase postings %" PRId64 ", other postings %" PRId64
                    ", entries payments %" PRId64 " developer %" PRId64 " platform %" PRId64 ", access rows %" PRId64
                    "\n",
                    line, id, status, receipt, completed_at, amount, dev, plat, purchases, others, payments, dev_entry,
                    plat_entry, access);
            check_failures++;
        }
    }
    db_rows_free(&rows);
    return sum;
}

static int64_t developer_balance(int64_t developer_id, const char *bucket)
{
    char account[LEDGER_ACCOUNT_MAX];
    int64_t cents = INT64_MIN;
    mkt_error err = MKT_ERROR_INIT;
    if (ledger_account_developer(account, developer_id, bucket) < 0 ||
        ledger_balance(fixture_db(), account, "USD", &cents, &err) < 0)
        fprintf(stderr, "  balance: %s\n", err.message ? err.message : "?");
    error_clear(&err);
    return cents;
}

/* The master's crash back-off (fcgi/master.c) remembers the young deaths of this test until a worker
 * that lived past its quick-death window dies. Leave the stack as found for the next test: let the
 * workers age, kill one, and wait for its replacement. */
static void reset_backoff(size_t count)
{
    pid_t w[MAX_WORKERS];
    procs_sleep(5.5);
    size_t n = procs_workers_of(g_master, w, MAX_WORKERS);
    if (n == 0)
        return;
    CHECK_INT(kill(w[0], SIGKILL), 0);
    procs_sleep(0.1);
    size_t n_now = 0;
    int recovered = wait_workers(count, 10.0, &n_now);
    if (!recovered)
        fprintf(stderr, "  after the back-off reset: %zu of %zu workers\n", n_now, count);
    CHECK(recovered);
}

/* ---- the tests --------------------------------------------------------------------------------------- */

static void test_kill_workers_during_money_load(void)
{
    pid_t before[MAX_WORKERS];
    size_t n_before = procs_workers_of(g_master, before, MAX_WORKERS);
    CHECK(n_before >= 1);
    if (n_before < 1)
        return;
    int64_t dev_id = fixture_developer(&g_dev, "Fault Shop");
    fixture_adder_tool(&g_dev, "subscription", PRICE, 30, g_tool, NULL);
    for (int i = 0; i < BUYERS; i++)
        fixture_user(&g_buyers[i]);

    static buyer_slot buyers[BUYERS];
    static payout_slot payouts;
    static killer_slot killer;
    atomic_store(&g_stop, 0);
    memset(&payouts, 0, sizeof payouts);
    memset(&killer, 0, sizeof killer);
    for (int i = 0; i < BUYERS; i++) {
        memset(&buyers[i], 0, sizeof buyers[i]);
        buyers[i].index = i;
        pthread_create(&buyers[i].thread, NULL, buyer_loop, &buyers[i]);
    }
    pthread_create(&payouts.thread, NULL, payout_loop, &payouts);
    procs_sleep(0.5); /* some completions first, so the payouts have something to take */
    pthread_create(&killer.thread, NULL, killer_loop, &killer);
    procs_sleep(LOAD_SECONDS);
    atomic_store(&g_stop, 1);
    pthread_join(killer.thread, NULL);
    for (int i = 0; i < BUYERS; i++)
        pthread_join(buyers[i].thread, NULL);
    pthread_join(payouts.thread, NULL);

    int checkouts = 0, created = 0, replays = 0, completed = 0, webhook_failed = 0, checkout_failed = 0, unexpected = 0,
        left_pending = 0;
    for (int i = 0; i < BUYERS; i++) {
        checkouts += buyers[i].checkouts;
        created += buyers[i].created;
        replays += buyers[i].replays;
        completed += buyers[i].completed;
        webhook_failed += buyers[i].webhook_failed;
        checkout_failed += buyers[i].checkout_failed;
        unexpected += buyers[i].unexpected;
        left_pending += buyers[i].left_pending;
    }
    fprintf(stderr,
            "  %d workers SIGKILLed; %d checkouts (%d created, %d by a replayed key, %d never answered), %d completed"
            " by webhook, %d webhooks undelivered, %d left pending; payouts: %d requested, %d redeemed, %d finished;"
            " %d answers lost to a killed worker (0/502/503/504)\n",
            killer.kills, checkouts, created, replays, checkout_failed, completed, webhook_failed, left_pending,
            payouts.requested, payouts.redeemed, payouts.finished, atomic_load(&g_faults));
    CHECK(killer.kills >= 5); /* the master's crash back-off (fcgi/master.c) caps the rate near 1/s */
    CHECK(completed >= 10);
    CHECK_INT(unexpected, 0);
    CHECK_INT(payouts.unexpected, 0);

    /* the master survived and replaced every worker */
    size_t n_now = 0;
    double t_stop = procs_now();
    int recovered = wait_workers(n_before, 20.0, &n_now);
    if (!recovered)
        fprintf(stderr, "  workers did not come back: %zu of %zu after 20 s\n", n_now, n_before);
    else
        fprintf(stderr, "  %zu workers again %.2f s after the load (%d kill ticks skipped: fewer than 2 alive)\n",
                n_now, procs_now() - t_stop, killer.skipped);
    CHECK(recovered);
    CHECK(procs_alive(g_master));

    /* right after the faults: each transaction whole or untouched, the invariants hold */
    txn_summary s = check_transactions(g_tool, __LINE__);
    fprintf(stderr, "  after the load: %zu transactions: %zu completed, %zu pending, %zu failed\n", s.total,
            s.completed, s.pending, s.failed);
    CHECK(s.total >= (size_t)(created));
    CHECK(s.completed >= (size_t)completed);
    CHECK(s.pending >= (size_t)left_pending);
    CHECK_INT(s.other, 0);
    FIXTURE_CHECK_MONEY();
    CHECK(developer_balance(dev_id, LEDGER_BUCKET_AVAILABLE) >= 0);

    /* the provider retries: every pending transaction completes, exactly once */
    db_rows rows = {0};
    query("SELECT id FROM transactions WHERE tool_id = ? AND status = 'pending'", DB_PARAMS(db_int(atoll(g_tool))),
          &rows);
    for (size_t i = 0; i < rows.row_count; i++) {
        long status = 0;
        char evt[80];
        provider_event_id(evt, sizeof evt);
        for (int attempt = 0; attempt < 5 && status != 200; attempt++) {
            http_response *res = provider_payment_succeeded(evt, db_rows_text(&rows, i, 0), PRICE, "USD");
            status = res->status;
            if (status != 200)
                http_dump("retried payment.succeeded", res);
            http_response_free(res);
            if (status != 200)
                procs_sleep(0.2);
        }
        CHECK_INT(status, 200);
    }
    db_rows_free(&rows);
    /* and finishes the payouts still open */
    query("SELECT id, status FROM payouts WHERE developer_id = ? AND status IN ('requested', 'processing')",
          DB_PARAMS(db_int(dev_id)), &rows);
    for (size_t i = 0; i < rows.row_count; i++) {
        CHECK_INT(http_status_free(provider_payout(NULL, "payout.paid", db_rows_text(&rows, i, 0), NULL)), 200);
    }
    db_rows_free(&rows);

    txn_summary after = check_transactions(g_tool, __LINE__);
    CHECK_INT(after.total, s.total);
    CHECK_INT(after.completed, s.total - s.failed);
    CHECK_INT(after.pending, 0);
    query("SELECT COUNT(*) FROM payouts WHERE developer_id = ? AND status IN ('requested', 'processing')",
          DB_PARAMS(db_int(dev_id)), &rows);
    CHECK_INT(db_rows_int(&rows, 0, 0), 0);
    db_rows_free(&rows);
    FIXTURE_CHECK_MONEY();
    CHECK(developer_balance(dev_id, LEDGER_BUCKET_AVAILABLE) >= 0);
    CHECK_INT(developer_balance(dev_id, LEDGER_BUCKET_PAYOUT_PENDING), 0);

    /* everything works again: a fresh purchase completes through the webhook */
    http_user fresh;
    fixture_user(&fresh);
    char key[96], id[32] = "";
    snprintf(key, sizeof key, "fm-fresh-%d-%ld", (int)getpid(), (long)time(NULL));
    http_response *res = fixture_checkout(&fresh, key, g_tool);
    CHECK_INT(res->status, 201);
    if (res->status == 201 && http_json_string(res, "id"))
        snprintf(id, sizeof id, "%s", http_json_string(res, "id"));
    http_response_free(res);
    if (id[0]) {
        CHECK_INT(http_status_free(provider_payment_succeeded(NULL, id, PRICE, "USD")), 200);
        char path[64];
        snprintf(path, sizeof path, "/transactions/%s", id);
        res = http_get(path, fresh.token);
        CHECK_INT(res->status, 200);
        CHECK_STR(http_json_string(res, "status"), "completed");
        http_response_free(res);
        CHECK_INT(execute_status(&fresh, g_tool), 200);
    }
    check_transactions(g_tool, __LINE__);
    FIXTURE_CHECK_MONEY();
    reset_backoff(n_before);
}

/* A buyer keeps what they paid for: a delisted tool stays visible to them, not to anyone else. */
static void test_delisted_tool_stays_with_buyers(void)
{
    http_user dev, buyer, stranger;
    fixture_developer(&dev, "Fault Shop");
    fixture_user(&buyer);
    fixture_user(&stranger);
    char tool[32], key[96], id[32] = "";
    fixture_adder_tool(&dev, "one_time", PRICE, 0, tool, NULL);
    snprintf(key, sizeof key, "fm-delist-%d-%ld", (int)getpid(), (long)time(NULL));
    http_response *res = fixture_checkout(&buyer, key, tool);
    CHECK_INT(res->status, 201);
    if (res->status == 201 && http_json_string(res, "id"))
        snprintf(id, sizeof id, "%s", http_json_string(res, "id"));
    http_response_free(res);
    if (!id[0])
        return;
    CHECK_INT(http_status_free(provider_payment_succeeded(NULL, id, PRICE, "USD")), 200);
    CHECK_INT(execute_status(&buyer, tool), 200);

    char path[64];
    snprintf(path, sizeof path, "/tools/%s", tool);
    CHECK_INT(http_status_free(http_request("DELETE", path, dev.token, NULL, NULL, 0, NULL)), 204);

    CHECK_INT(get_tool_status(&buyer, tool), 200);
    CHECK_INT(get_tool_status(&dev, tool), 200);
    CHECK_INT(get_tool_status(&stranger, tool), 404);
    CHECK_INT(get_tool_status(NULL, tool), 404);
    CHECK_INT(execute_status(&stranger, tool), 404);
    /* the buyer keeps running what they paid for */
    CHECK_INT(execute_status(&buyer, tool), 200);
    FIXTURE_CHECK_MONEY();
}

int main(void)
{
    fixture_random_seed();
    http_base_url();
    http_set_timeout_ms(10000);
    const char *master = stack_env("MKT_MASTER_PID");
    g_master = master ? (pid_t)atoi(master) : 0;
    if (g_master <= 1 || !procs_alive(g_master)) {
        fprintf(stderr, "stack.env has no live MKT_MASTER_PID\n");
        return 2;
    }
    fixture_db();
    RUN(test_delisted_tool_stays_with_buyers);
    RUN(test_kill_workers_during_money_load);
    fixture_close();
    return check_finish();
}

/* Money edge cases end to end, through real nginx -> marketplace -> MariaDB:
 *   - provider events out of order (payout.paid after payout.failed and the reverse, the same
 *     outcome twice, refunds of refunded or failed payments) are each answered so that the provider
 *     never retries something that can never succeed: 200 recorded (and flagged for an operator
 *     when the provider contradicts itself), or a documented refusal;
 *   - /receipts/verify answers the signature and the purchase's current state separately, so a
 *     refunded purchase's receipt no longer says valid;
 *   - a refund after a payout leaves a negative balance, shown the same by earnings and by the
 *     payout refusal;
 *   - an unredeemed payout whose token expired is expired by the server on its own (no request
 *     needed) and its money is back in available, exactly once; a redeem afterwards is 410;
 *   - every money event is one JSON line in the server's log, findable by transaction or payout id.
 * After every test the ledger invariants hold. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/ledger.h"
#include "core/payout.h"
#include "core/transaction_manager.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/provider.h"
#include "tests/support/stack_env.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static void dump(const char *what, const mkt_error *err)
{
    fprintf(stderr, "    %s: kind %d, message %s\n", what, err->kind, err->message ? err->message : "(none)");
}

/* Delivers a payout event under a fresh id (copied into evt, size 80) and returns the answer. */
static http_response *payout_event(const char *type, const char *payout_id, char *evt)
{
    provider_event_id(evt, 80);
    return provider_payout(evt, type, payout_id, "bank said no");
}

static int event_recorded(const char *event_id)
{
    return fixture_sql_int("SELECT COUNT(*) FROM webhook_events WHERE event_id = ?", db_text(event_id)) == 1;
}

/* The acknowledgement of an applied-or-ignored event: 200, not a duplicate, flagged as expected; frees res. */
static void check_ack_at(http_response *res, int flagged, int line)
{
    fixture_expect_status_at(res, 200, line);
    json_t *dup = json_object_get(res->json, "duplicate"), *flag = json_object_get(res->json, "flagged");
    if (res->status == 200 && (!json_is_false(dup) || !json_is_boolean(flag) || json_is_true(flag) != flagged)) {
        fprintf(stderr, "  line %d: expected duplicate false, flagged %d\n", line, flagged);
        http_dump("got", res);
        check_failures++;
    }
    http_response_free(res);
}
#define CHECK_ACK_FREE(res, flagged) check_ack_at((res), (flagged), __LINE__)

/* ---- 1. provider events out of order ---------------------------------------------------------- */

static void test_payout_events_out_of_order(void)
{
    fixture_seller d;
    d.developer_id = fixture_developer(&d.user, "Edge Shop");
    fixture_fund(d.developer_id, "USD", 9000);
    char evt[80];

    /* failed, then paid: acknowledged and recorded, money untouched (it went back to available),
     * the payout flagged for an operator; the same event again is a plain duplicate */
    fixture_payout a;
    if (fixture_request_payout(&d.user, 1500, "USD", &a) < 0)
        return;
    CHECK_ACK_FREE(payout_event("payout.failed", a.id, evt), 0);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 9000);
    CHECK_ACK_FREE(payout_event("payout.paid", a.id, evt), 1);
    CHECK(event_recorded(evt));
    CHECK_STR(fixture_sql_text("SELECT status FROM payouts WHERE id = ?", db_text(a.id)), "failed");
    CHECK_INT(fixture_sql_int("SELECT flagged_for_review FROM payouts WHERE id = ?", db_text(a.id)), 1);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 9000);
    http_response *res = provider_payout(evt, "payout.paid", a.id, NULL);
    EXPECT_STATUS(res, 200);
    CHECK(json_is_true(json_object_get(res->json, "duplicate")));
    http_response_free(res);

    /* paid, then failed: the money stays paid out, the payout is flagged */
    fixture_payout b;
    if (fixture_request_payout(&d.user, 2000, "USD", &b) < 0)
        return;
    CHECK_ACK_FREE(payout_event("payout.paid", b.id, evt), 0);
    CHECK_ACK_FREE(payout_event("payout.failed", b.id, evt), 1);
    CHECK(event_recorded(evt));
    CHECK_STR(fixture_sql_text("SELECT status FROM payouts WHERE id = ?", db_text(b.id)), "paid");
    CHECK_INT(fixture_sql_int("SELECT flagged_for_review FROM payouts WHERE id = ?", db_text(b.id)), 1);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 7000);

    /* the same outcome twice under two event ids: 200, nothing twice, nothing flagged */
    fixture_payout c;
    if (fixture_request_payout(&d.user, 1000, "USD", &c) < 0)
        return;
    for (int i = 0; i < 2; i++) {
        CHECK_ACK_FREE(payout_event("payout.paid", c.id, evt), 0);
    }
    CHECK_INT(fixture_sql_int("SELECT flagged_for_review FROM payouts WHERE id = ?", db_text(c.id)), 0);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 6000);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_PAYOUT_PENDING, "USD"), 0);

    /* an unknown payout is a refusal that says "do not retry" (422), never a 409 */
    EXPECT_STATUS_FREE(payout_event("payout.paid", "999999999999", evt), 422);
    FIXTURE_CHECK_MONEY();
}

static void test_payment_events_out_of_order(void)
{
    fixture_sale sale;
    if (fixture_sell(&sale, "Edge Shop", 800) < 0)
        return;
    char evt[80];

    /* payment.failed after the success: 200, nothing changes */
    provider_event_id(evt, sizeof evt);
    CHECK_ACK_FREE(provider_payment_failed(evt, sale.txn, "card declined"), 0);
    CHECK_STR(fixture_sql_text("SELECT status FROM transactions WHERE id = ?", db_text(sale.txn)), "completed");

    /* refund, refund again (another event id): 200, one refund posting */
    provider_event_id(evt, sizeof evt);
    CHECK_ACK_FREE(provider_payment_refunded(evt, sale.txn, 800), 0);
    provider_event_id(evt, sizeof evt);
    CHECK_ACK_FREE(provider_payment_refunded(evt, sale.txn, 800), 0);
    CHECK(event_recorded(evt));
    CHECK_INT(
        fixture_sql_int("SELECT COUNT(*) FROM ledger_postings WHERE kind = 'refund' AND ref_id = ?", db_text(sale.txn)),
        1);

    /* payment.succeeded after the refund: 200, it stays refunded, no second purchase posting */
    provider_event_id(evt, sizeof evt);
    CHECK_ACK_FREE(provider_payment_succeeded(evt, sale.txn, 800, "USD"), 0);
    CHECK_STR(fixture_sql_text("SELECT status FROM transactions WHERE id = ?", db_text(sale.txn)), "refunded");

    /* a refund of a failed payment cannot be applied and will never be: 422 (do not retry) and the
     * transaction is flagged, since the provider has refunded money we never saw arrive */
    char failed[32];
    if (fixture_checkout_pending(&sale.buyer, sale.tool, failed) < 0)
        return;
    CHECK_ACK_FREE(provider_payment_failed(NULL, failed, "declined"), 0);
    EXPECT_STATUS_FREE(provider_payment_refunded(NULL, failed, 800), 422);
    CHECK_INT(fixture_sql_int("SELECT flagged_for_review FROM transactions WHERE id = ?", db_text(failed)), 1);
    FIXTURE_CHECK_MONEY();
}

/* ---- 2. receipts of refunded purchases --------------------------------------------------------- */

static http_response *verify(const char *receipt)
{
    json_t *body = json_pack("{s:s}", "receipt", receipt);
    http_response *res = http_post_json("/receipts/verify", NULL, body);
    json_decref(body);
    return res;
}

static void check_verify_at(const char *receipt, int signature_valid, const char *status, int valid, int line)
{
    http_response *res = verify(receipt);
    fixture_expect_status_at(res, 200, line);
    const char *got_status = json_string_value(json_object_get(res->json, "status"));
    int ok = res->status == 200 && json_is_boolean(json_object_get(res->json, "signature_valid")) &&
             json_is_true(json_object_get(res->json, "signature_valid")) == signature_valid &&
             json_is_boolean(json_object_get(res->json, "valid")) &&
             json_is_true(json_object_get(res->json, "valid")) == valid &&
             (status ? got_status && strcmp(got_status, status) == 0 : got_status == NULL);
    if (!ok) {
        fprintf(stderr, "  line %d: expected signature_valid %d, status %s, valid %d\n", line, signature_valid,
                status ? status : "(none)", valid);
        http_dump("got", &*res);
        check_failures++;
    }
    http_response_free(res);
}
#define CHECK_VERIFY(r, sig, status, valid) check_verify_at((r), (sig), (status), (valid), __LINE__)

static void test_receipt_of_refunded_purchase(void)
{
    fixture_sale sale;
    if (fixture_sell(&sale, "Edge Shop", 1200) < 0)
        return;
    char path[96];
    snprintf(path, sizeof path, "/transactions/%s/receipt", sale.txn);
    http_response *res = http_get(path, sale.buyer.token);
    EXPECT_STATUS(res, 200);
    char *receipt = strdup(http_json_string(res, "receipt") ?: "");
    http_response_free(res);

    CHECK_VERIFY(receipt, 1, "completed", 1);
    EXPECT_STATUS_FREE(provider_payment_refunded(NULL, sale.txn, 1200), 200);
    CHECK_VERIFY(receipt, 1, "refunded", 0);

    /* signed by our key but not a purchase of ours: the signature holds, the state is unknown */
    json_t *claims = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:I, s:I}", "iss", fixture_config()->issuer,
                               "sub", "1", "jti", "rcpt_999999999999", "iat", (json_int_t)time(NULL), "txn",
                               "999999999999", "tool", "1", "amount_cents", (json_int_t)1000, "currency", "USD",
                               "developer_cents", (json_int_t)700, "platform_cents", (json_int_t)300);
    mkt_error err = MKT_ERROR_INIT;
    char *foreign = jws_sign(fixture_keys(), claims, &err);
    json_decref(claims);
    if (foreign)
        CHECK_VERIFY(foreign, 1, "unknown", 0);
    free(foreign);
    /* a receipt naming a real transaction but another buyer is not that purchase's receipt */
    claims = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:I, s:I}", "iss", fixture_config()->issuer, "sub",
                       "1", "jti", "rcpt_x", "iat", (json_int_t)time(NULL), "txn", sale.txn, "tool", sale.tool,
                       "amount_cents", (json_int_t)1200, "currency", "USD", "developer_cents", (json_int_t)840,
                       "platform_cents", (json_int_t)360);
    char *other = jws_sign(fixture_keys(), claims, &err);
    json_decref(claims);
    if (other && strcmp(sale.buyer.id, "1") != 0)
        CHECK_VERIFY(other, 1, "unknown", 0);
    free(other);
    error_clear(&err);

    /* a broken signature: no state is looked up at all */
    receipt[strlen(receipt) - 3] = receipt[strlen(receipt) - 3] == 'A' ? 'B' : 'A';
    CHECK_VERIFY(receipt, 0, NULL, 0);
    free(receipt);
    FIXTURE_CHECK_MONEY();
}

/* ---- 3. negative balance after a refund that follows a payout ---------------------------------- */

/* The money log of the purchase and payout below is checked by test_money_log. */
static char g_logged_txn[32], g_logged_payout[32];

static void test_negative_balance(void)
{
    fixture_sale sale;
    if (fixture_sell(&sale, "Edge Shop", 1999) < 0)
        return;
    int64_t share = 1999 * (10000 - fixture_config()->platform_fee_bps) / 10000;
    fixture_payout p;
    if (fixture_request_payout(&sale.seller.user, share, "USD", &p) < 0)
        return;
    EXPECT_STATUS_FREE(fixture_redeem(p.token), 200);
    EXPECT_STATUS_FREE(provider_payout(NULL, "payout.paid", p.id, NULL), 200);
    EXPECT_STATUS_FREE(provider_payment_refunded(NULL, sale.txn, 1999), 200);
    snprintf(g_logged_txn, sizeof g_logged_txn, "%s", sale.txn);
    snprintf(g_logged_payout, sizeof g_logged_payout, "%s", p.id);

    http_response *res = http_get("/developers/me/earnings", sale.seller.user.token);
    EXPECT_STATUS(res, 200);
    json_t *usd = json_array_get(json_object_get(res->json, "balances"), 0);
    CHECK_INT(json_integer_value(json_object_get(usd, "available_cents")), -share);
    http_response_free(res);

    /* the refusal states the same, real balance */
    json_t *body = json_pack("{s:I, s:s}", "amount_cents", (json_int_t)1000, "currency", "USD");
    res = http_post_json("/developers/me/payouts", sale.seller.user.token, body);
    json_decref(body);
    EXPECT_STATUS(res, 422);
    char expected[64];
    snprintf(expected, sizeof expected, "%" PRId64 " USD", -share);
    CHECK(http_problem_has_field(res, "amount_cents"));
    CHECK(strstr(res->body, expected) != NULL);
    if (!strstr(res->body, expected))
        http_dump("refusal", res);
    http_response_free(res);
    FIXTURE_CHECK_MONEY();
}

/* ---- 4. expired payout tokens ------------------------------------------------------------------- */

/* Polls the database (never the server) until the payout is expired or the bound passes. */
static int wait_expired(const char *payout_id, int bound_seconds)
{
    for (int i = 0; i < bound_seconds * 10; i++) {
        if (strcmp(fixture_sql_text("SELECT status FROM payouts WHERE id = ?", db_text(payout_id)), "expired") == 0)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

static void test_expired_payouts_swept(void)
{
    fixture_seller d;
    d.developer_id = fixture_developer(&d.user, "Edge Shop");
    fixture_fund(d.developer_id, "USD", 5000);

    /* a payout whose token lives 2 s, made by the payout module itself with a short-lived config:
     * after that, nothing is sent to the server; its sweep must notice on its own */
    config short_cfg = *fixture_config();
    short_cfg.payout_token_ttl = 2;
    account_caller caller;
    memset(&caller, 0, sizeof caller);
    caller.user_id = strtoll(d.user.id, NULL, 10);
    caller.developer_id = d.developer_id;
    caller.roles = ACCOUNT_ROLE_DEVELOPER;
    json_t *body = json_pack("{s:I, s:s}", "amount_cents", (json_int_t)1200, "currency", "USD");
    mkt_error err = MKT_ERROR_INIT;
    json_t *made = payout_request(fixture_db(), &short_cfg, fixture_keys(), &caller, body, &err);
    json_decref(body);
    if (!made) {
        dump("payout_request", &err);
        check_failures++;
        return;
    }
    char id[32], token[2048];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(json_object_get(made, "payout"), "id")));
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(made, "token")));
    json_decref(made);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 3800);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_PAYOUT_PENDING, "USD"), 1200);

    /* bound: token lifetime + two sweep intervals + the worker's idle tick + slack for a loaded box */
    CHECK(wait_expired(id, 2 + 2 * 1 + 1 + 10));
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 5000);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_PAYOUT_PENDING, "USD"), 0);
    CHECK_INT(
        fixture_sql_int("SELECT COUNT(*) FROM ledger_postings WHERE ref_type = 'payout' AND ref_id = ?", db_text(id)),
        2);
    FIXTURE_CHECK_MONEY();
    /* still exactly once a few sweeps later */
    sleep(3);
    CHECK_INT(
        fixture_sql_int("SELECT COUNT(*) FROM ledger_postings WHERE ref_type = 'payout' AND ref_id = ?", db_text(id)),
        2);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 5000);

    EXPECT_STATUS_FREE(fixture_redeem(token), 410);

    /* a token still within its exp whose payout passed its expiry (as after a shorter configured
     * lifetime): swept all the same, and its redeem is 410 too */
    fixture_payout p;
    if (fixture_request_payout(&d.user, 1000, "USD", &p) < 0)
        return;
    db_exec(fixture_db(), "UPDATE payouts SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = ?",
            DB_PARAMS(db_text(p.id)), NULL, &err);
    error_clear(&err);
    CHECK(wait_expired(p.id, 2 * 1 + 1 + 10));
    EXPECT_STATUS_FREE(fixture_redeem(p.token), 410);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 5000);

    /* the provider's word on an expired payout: failed changes nothing; paid is flagged */
    char evt[80];
    CHECK_ACK_FREE(payout_event("payout.failed", p.id, evt), 0);
    CHECK_ACK_FREE(payout_event("payout.paid", p.id, evt), 1);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 5000);
    FIXTURE_CHECK_MONEY();
}

/* Several sweepers at once (these processes, each with its own connection, plus the server's
 * workers): every due payout is expired exactly once, and the ledger still sums to zero. */
static void test_concurrent_sweeps(void)
{
    enum { PAYOUTS = 12, SWEEPERS = 4 };
    fixture_seller d;
    d.developer_id = fixture_developer(&d.user, "Edge Shop");
    fixture_fund(d.developer_id, "USD", PAYOUTS * 1000);
    fixture_payout refs[PAYOUTS];
    for (int i = 0; i < PAYOUTS; i++)
        if (fixture_request_payout(&d.user, 1000, "USD", &refs[i]) < 0)
            return;
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 0);
    char dev[24];
    snprintf(dev, sizeof dev, "%" PRId64, d.developer_id);
    mkt_error err = MKT_ERROR_INIT;
    pid_t pids[SWEEPERS];
    int ready[2];
    if (pipe(ready) < 0)
        exit(2);
    for (int s = 0; s < SWEEPERS; s++) {
        pids[s] = fork();
        if (pids[s] == 0) {
            mkt_error e = MKT_ERROR_INIT;
            db *mine = db_open(fixture_config(), &e);
            char go;
            close(ready[1]);
            ssize_t got = read(ready[0], &go, 1); /* all start together */
            (void)got;
            int n = mine ? payout_expire_due(mine, &e) : -1;
            db_close(mine);
            _exit(n < 0 ? 1 : 0);
        }
    }
    close(ready[0]);
    /* all at once: due now */
    db_exec(fixture_db(), "UPDATE payouts SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE developer_id = ?",
            DB_PARAMS(db_text(dev)), NULL, &err);
    error_clear(&err);
    close(ready[1]); /* EOF releases every sweeper */
    for (int s = 0; s < SWEEPERS; s++) {
        int status = 0;
        waitpid(pids[s], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    for (int i = 0; i < PAYOUTS; i++)
        CHECK(wait_expired(refs[i].id, 10));
    CHECK_INT(fixture_sql_int(
                  "SELECT COUNT(*) FROM ledger_postings p JOIN payouts o ON p.ref_type = 'payout' AND p.ref_id = o.id"
                  " WHERE o.developer_id = ? AND p.kind = 'payout_failed'",
                  db_text(dev)),
              PAYOUTS);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), PAYOUTS * 1000);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_PAYOUT_PENDING, "USD"), 0);
    FIXTURE_CHECK_MONEY();
}

/* ---- 5. logs that explain money ----------------------------------------------------------------- */

/* Every JSON line of the server log of type "money" whose member key equals value. */
static json_t *money_lines(const char *key, const char *value)
{
    json_t *out = json_array();
    const char *path = stack_env("MKT_SERVER_LOG");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        fprintf(stderr, "  cannot open the server log %s\n", path ? path : "(MKT_SERVER_LOG unset)");
        return out;
    }
    char line[16384];
    while (fgets(line, sizeof line, f)) {
        if (line[0] != '{' || !strstr(line, "\"money\""))
            continue;
        json_t *j = json_loads(line, 0, NULL);
        const char *v = json_string_value(json_object_get(j, key));
        if (j && v && strcmp(v, value) == 0 &&
            strcmp(json_string_value(json_object_get(j, "type")) ?: "", "money") == 0)
            json_array_append(out, j);
        json_decref(j);
    }
    fclose(f);
    return out;
}

static const json_t *find_event(const json_t *lines, const char *event)
{
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
        if (strcmp(json_string_value(json_object_get(l, "event")) ?: "", event) == 0)
            return l;
    return NULL;
}

static void check_event_at(const json_t *lines, const char *event, int line)
{
    const json_t *l = find_event(lines, event);
    if (!l) {
        fprintf(stderr, "  line %d: no %s line in the server log\n", line, event);
        check_failures++;
        return;
    }
    if (!json_is_string(json_object_get(l, "time")) || !json_is_string(json_object_get(l, "request_id"))) {
        fprintf(stderr, "  line %d: %s line without time or request_id\n", line, event);
        check_failures++;
    }
}
#define CHECK_EVENT(lines, event) check_event_at((lines), (event), __LINE__)

static void test_money_log(void)
{
    if (!g_logged_txn[0]) {
        fprintf(stderr, "  no purchase from test_negative_balance to look for\n");
        check_failures++;
        return;
    }
    json_t *t = money_lines("transaction_id", g_logged_txn);
    CHECK_EVENT(t, "purchase.created");
    CHECK_EVENT(t, "purchase.completed");
    CHECK_EVENT(t, "purchase.refunded");
    const json_t *done = find_event(t, "purchase.completed");
    CHECK_INT(json_integer_value(json_object_get(done, "amount_cents")), 1999);
    CHECK_STR(json_string_value(json_object_get(done, "currency")) ?: "", "USD");
    CHECK(json_is_string(json_object_get(done, "buyer_user_id")) && json_is_string(json_object_get(done, "developer_id")));
    if (check_failures)
        fprintf(stderr, "  lines for transaction %s: %s\n", g_logged_txn, json_dumps(t, JSON_COMPACT));
    json_decref(t);

    json_t *p = money_lines("payout_id", g_logged_payout);
    CHECK_EVENT(p, "payout.requested");
    CHECK_EVENT(p, "payout.redeemed");
    CHECK_EVENT(p, "payout.paid");
    json_decref(p);

    /* refused webhooks say why: bad signature, stale timestamp, amount mismatch, unknown event */
    fixture_seller d;
    d.developer_id = fixture_developer(&d.user, "Edge Shop");
    http_user buyer;
    if (http_register_user(&buyer) < 0)
        exit(2);
    char tool[32], txn[32], evt[80];
    fixture_adder_tool(&d.user, "one_time", 500, 0, tool, NULL);
    if (fixture_checkout_pending(&buyer, tool, txn) < 0)
        return;
    provider_event_id(evt, sizeof evt);
    char *body = provider_event(evt, "payment.succeeded",
                                json_pack("{s:s, s:I, s:s}", "transaction_id", txn, "amount_cents", (json_int_t)501,
                                          "currency", "USD"));
    struct {
        http_response *res;
        const char *reason;
    } refused[4] = {
        {provider_deliver(body, "not-the-secret", 0), "bad_signature"},
        {provider_deliver(body, NULL, (int64_t)time(NULL) - 1000), "stale_timestamp"},
        {provider_deliver(body, NULL, 0), "amount_mismatch"},
        {NULL, "unknown_event"},
    };
    char *unknown = provider_event(evt, "payment.teleported", json_pack("{s:s}", "transaction_id", txn));
    refused[3].res = provider_deliver(unknown, NULL, 0);
    for (int i = 0; i < 4; i++) {
        CHECK(refused[i].res->status >= 400);
        json_t *lines = money_lines("request_id", refused[i].res->request_id ?: "?");
        const json_t *l = find_event(lines, "webhook.refused");
        const char *reason = l ? json_string_value(json_object_get(l, "reason")) : NULL;
        if (!reason || strcmp(reason, refused[i].reason) != 0) {
            fprintf(stderr, "  expected a webhook.refused line with reason %s for request %s, got %s\n",
                    refused[i].reason, refused[i].res->request_id ?: "?", json_dumps(lines, JSON_COMPACT));
            check_failures++;
        }
        if (i == 2)
            CHECK_STR(json_string_value(json_object_get(l, "transaction_id")) ?: "", txn);
        json_decref(lines);
        http_response_free(refused[i].res);
    }
    free(unknown);
    free(body);
}

int main(void)
{
    fixture_keys();
    RUN(test_payout_events_out_of_order);
    RUN(test_payment_events_out_of_order);
    RUN(test_receipt_of_refunded_purchase);
    RUN(test_negative_balance);
    RUN(test_expired_payouts_swept);
    RUN(test_concurrent_sweeps);
    RUN(test_money_log);
    fixture_close();
    return check_finish();
}

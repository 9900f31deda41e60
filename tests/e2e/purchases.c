/* Purchases end to end, through nginx, with tests/support/provider playing the payment provider:
 * buy → signed webhook → receipt → execute; free tools complete at once; idempotency keys replay,
 * refuse another body and make one transaction under concurrency; forged, stale, replayed and
 * malformed webhooks are refused and change nothing; 200 parallel deliveries of one event complete
 * once; refunds revoke access and reverse the posting. After every money test the ledger
 * invariants (core/ledger) and the transaction/posting agreement hold. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ledger.h"
#include "core/transaction_manager.h"
#include "sql/db.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/provider.h"
#include "tests/support/stack_env.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

static int64_t postings_of(const char *id, const char *kind)
{
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    if (db_query(fixture_db(),
                 "SELECT COUNT(*) FROM ledger_postings WHERE kind = ? AND ref_type = 'transaction' AND ref_id = ?",
                 DB_PARAMS(db_text(kind), db_int(atoll(id))), &rows, &err) < 0)
        exit(2);
    int64_t n = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    return n;
}

static int64_t event_recorded(const char *event_id)
{
    return fixture_sql_int("SELECT COUNT(*) FROM webhook_events WHERE event_id = ?", db_text(event_id));
}

static http_response *checkout_body(const http_user *u, const char *key, const char *body)
{
    char header[400];
    const char *headers[] = {header, NULL};
    if (key)
        snprintf(header, sizeof header, "Idempotency-Key: %s", key);
    return http_request("POST", "/transactions", u->token, NULL, body, strlen(body), key ? headers : NULL);
}

static http_response *execute(const http_user *u, const char *tool_id)
{
    char path[96];
    snprintf(path, sizeof path, "/tools/%s/execute", tool_id);
    return http_post_text(path, u->token, "{\"input\": {\"a\": 2, \"b\": 3}}");
}

static long execute_status(const http_user *u, const char *tool_id)
{
    http_response *res = execute(u, tool_id);
    long s = res->status;
    http_response_free(res);
    return s;
}

static http_response *get_txn(const http_user *u, const char *id, const char *suffix)
{
    char path[96];
    snprintf(path, sizeof path, "/transactions/%s%s", id, suffix);
    return http_get(path, u->token);
}

static const char *txn_status(const http_user *u, const char *id)
{
    static char status[32];
    http_response *res = get_txn(u, id, "");
    snprintf(status, sizeof status, "%s", res->status == 200 ? http_json_string(res, "status") : "?");
    http_response_free(res);
    return status;
}

/* A pending paid purchase: its id into id (size 32). */
static void buy_pending(const http_user *buyer, const char *tool_id, char *id)
{
    if (fixture_checkout_pending(buyer, tool_id, id) < 0)
        exit(2);
}

/* ---- the whole flow ------------------------------------------------------------------------------ */

/* A fresh seller ("E2E Seller") with a published adder of model at price_cents (its id into tool,
 * FIXTURE_ID_SIZE) and a fresh buyer. */
static void seller_and_buyer(http_user *dev, http_user *buyer, const char *model, int64_t price_cents, char *tool)
{
    fixture_developer(dev, "E2E Seller");
    fixture_user(buyer);
    fixture_adder_tool(dev, model, price_cents, 0, tool, NULL);
}

static void test_buy_webhook_receipt_execute(void)
{
    http_user dev, buyer, other;
    char tool[32], key[96], id[32];
    seller_and_buyer(&dev, &buyer, "one_time", 1001, tool);
    fixture_user(&other);

    CHECK_INT(execute_status(&buyer, tool), 402);
    fixture_idempotency_key(key, sizeof key);
    http_response *res = fixture_checkout(&buyer, key, tool);
    CHECK_INT(res->status, 201);
    CHECK_STR(http_json_string(res, "status"), "pending");
    CHECK_STR(http_json_string(res, "currency"), "USD");
    CHECK_INT(json_integer_value(json_object_get(res->json, "amount_cents")), 1001);
    /* 1001 * 7000 / 10000 = 700.7 → 700 to the developer, the rounding cent to the platform */
    CHECK_INT(json_integer_value(json_object_get(res->json, "developer_cents")), 700);
    CHECK_INT(json_integer_value(json_object_get(res->json, "platform_cents")), 301);
    const char *ref = http_json_string(res, "provider_ref");
    CHECK(ref && strncmp(ref, "pi_", 3) == 0 && strlen(ref) == 27);
    CHECK(res->location && strstr(res->location, "/transactions/"));
    snprintf(id, sizeof id, "%s", http_json_string(res, "id") ? http_json_string(res, "id") : "0");
    http_response_free(res);

    /* pending: no receipt, still no access, no posting */
    CHECK_INT(http_status_free(get_txn(&buyer, id, "/receipt")), 409);
    CHECK_INT(execute_status(&buyer, tool), 402);
    CHECK_INT(postings_of(id, "purchase"), 0);

    CHECK_INT(http_status_free(provider_payment_succeeded(NULL, id, 1001, "USD")), 200);

    res = get_txn(&buyer, id, "");
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "status"), "completed");
    CHECK(http_json_string(res, "receipt") != NULL);
    CHECK(http_json_string(res, "completed_at") != NULL);
    http_response_free(res);

    res = get_txn(&buyer, id, "/receipt");
    CHECK_INT(res->status, 200);
    const char *receipt = http_json_string(res, "receipt");
    CHECK(receipt && strchr(receipt, '.'));
    if (receipt) {
        /* the receipt verifies with the public keys and carries the purchase */
        json_t *body = json_pack("{s:s}", "receipt", receipt);
        http_response *v = http_post_json("/receipts/verify", NULL, body);
        json_decref(body);
        CHECK_INT(v->status, 200);
        CHECK(json_is_true(json_object_get(v->json, "valid")));
        json_t *claims = json_object_get(v->json, "claims");
        CHECK_STR(json_string_value(json_object_get(claims, "txn")), id);
        CHECK_STR(json_string_value(json_object_get(claims, "tool")), tool);
        CHECK_STR(json_string_value(json_object_get(claims, "sub")), buyer.id);
        CHECK_INT(json_integer_value(json_object_get(claims, "amount_cents")), 1001);
        CHECK_INT(json_integer_value(json_object_get(claims, "developer_cents")), 700);
        char jti[48];
        snprintf(jti, sizeof jti, "rcpt_%s", id);
        CHECK_STR(json_string_value(json_object_get(claims, "jti")), jti);
        http_response_free(v);
    }
    http_response_free(res);

    /* access for good, a download counted, one posting */
    CHECK_INT(execute_status(&buyer, tool), 200);
    CHECK_INT(fixture_sql_int("SELECT downloads FROM tools WHERE id = ?", db_int(atoll(tool))), 1);
    CHECK_INT(postings_of(id, "purchase"), 1);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM tool_access WHERE tool_id = ? AND access_until IS NULL",
                              db_int(atoll(tool))),
              1);

    /* who sees it: buyer, seller, nobody else */
    CHECK_INT(http_status_free(get_txn(&dev, id, "")), 200);
    CHECK_INT(http_status_free(get_txn(&other, id, "")), 404);
    CHECK_INT(http_status_free(get_txn(&other, id, "/receipt")), 404);
    CHECK_INT(execute_status(&other, tool), 402);

    /* lists */
    res = http_get("/transactions?as=buyer", buyer.token);
    CHECK_INT(res->status, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(res->json, "items"), 0), "id")), id);
    http_response_free(res);
    res = http_get("/transactions?as=seller&page=1&per_page=5", dev.token);
    CHECK_INT(res->status, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 1);
    CHECK_INT(json_integer_value(json_object_get(res->json, "per_page")), 5);
    http_response_free(res);
    CHECK_INT(http_status_free(http_get("/transactions?as=seller", buyer.token)), 403);
    CHECK_INT(http_status_free(http_get("/transactions?as=thief", buyer.token)), 400);

    /* a one_time tool owned for good cannot be bought again; the seller cannot buy their own */
    fixture_idempotency_key(key, sizeof key);
    CHECK_INT(http_status_free(fixture_checkout(&buyer, key, tool)), 409);
    fixture_idempotency_key(key, sizeof key);
    CHECK_INT(http_status_free(fixture_checkout(&dev, key, tool)), 409);
    /* unknown tool */
    fixture_idempotency_key(key, sizeof key);
    CHECK_INT(http_status_free(fixture_checkout(&buyer, key, "999999999")), 404);
    FIXTURE_CHECK_MONEY();
}

static void test_free_tool_completes_at_once(void)
{
    http_user dev, buyer;
    char tool[32], key[96];
    seller_and_buyer(&dev, &buyer, "free", 0, tool);
    fixture_idempotency_key(key, sizeof key);
    http_response *res = fixture_checkout(&buyer, key, tool);
    CHECK_INT(res->status, 201);
    CHECK_STR(http_json_string(res, "status"), "completed");
    CHECK_INT(json_integer_value(json_object_get(res->json, "amount_cents")), 0);
    CHECK(http_json_string(res, "receipt") != NULL);
    char id[32];
    snprintf(id, sizeof id, "%s", http_json_string(res, "id") ? http_json_string(res, "id") : "0");
    http_response_free(res);
    CHECK_INT(postings_of(id, "purchase"), 0); /* nothing to post for 0 */
    CHECK_INT(execute_status(&buyer, tool), 200);
    /* the checkout counted the download once; running it afterwards does not count again */
    CHECK_INT(fixture_sql_int("SELECT downloads FROM tools WHERE id = ?", db_int(atoll(tool))), 1);
    FIXTURE_CHECK_MONEY();
}

/* The message for tool_id says what was wrong with what was sent, not "is required" for everything. */
static const char *field_message(const http_response *res, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(res->json, "errors"), i, e)
        if (strcmp(json_string_value(json_object_get(e, "field")) ?: "", field) == 0)
            return json_string_value(json_object_get(e, "message"));
    return NULL;
}

static void test_checkout_names_what_is_wrong(void)
{
    http_user buyer;
    fixture_user(&buyer);
    static const struct {
        const char *body, *says;
    } cases[] = {
        {"{}", "is required"},
        {"{\"tool_id\": null}", "is required"},
        {"{\"tool_id\": \"paid-count\"}", "slug"},
        {"{\"tool_id\": \"0042\"}", "leading zeros"},
        {"{\"tool_id\": -3}", "positive"},
        {"{\"tool_id\": [1]}", "string of digits"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char key[96];
        fixture_idempotency_key(key, sizeof key);
        http_response *res = checkout_body(&buyer, key, cases[i].body);
        CHECK_INT(res->status, 422);
        const char *message = field_message(res, "tool_id");
        CHECK(message && strstr(message, cases[i].says) != NULL);
        if (!message || !strstr(message, cases[i].says))
            fprintf(stderr, "  %s: tool_id says \"%s\", expected it to mention \"%s\"\n", cases[i].body,
                    message ? message : "(nothing)", cases[i].says);
        http_response_free(res);
    }
}

/* ---- idempotency ------------------------------------------------------------------------------- */

static void test_idempotency(void)
{
    http_user dev, buyer;
    char tool[32], tool2[32], key[96];
    seller_and_buyer(&dev, &buyer, "one_time", 500, tool);
    fixture_adder_tool(&dev, "one_time", 700, 0, tool2, NULL);

    fixture_idempotency_key(key, sizeof key);
    http_response *first = fixture_checkout(&buyer, key, tool);
    CHECK_INT(first->status, 201);
    /* the same key and body (other spacing and key order do not matter) → the same answer */
    char body[96];
    snprintf(body, sizeof body, "  {\"tool_id\":\"%s\"}  ", tool);
    http_response *again = checkout_body(&buyer, key, body);
    CHECK_INT(again->status, 201);
    CHECK(json_equal(first->json, again->json));
    http_response_free(again);
    /* the same key, another body → 422 */
    again = fixture_checkout(&buyer, key, tool2);
    CHECK_INT(again->status, 422);
    CHECK(http_is_problem(again, 422));
    http_response_free(again);
    /* the key is the user's: another user with the same key gets their own transaction */
    http_user other;
    fixture_user(&other);
    again = fixture_checkout(&other, key, tool);
    CHECK_INT(again->status, 201);
    CHECK(strcmp(http_json_string(again, "id") ? http_json_string(again, "id") : "",
                 http_json_string(first, "id") ? http_json_string(first, "id") : "") != 0);
    http_response_free(again);
    http_response_free(first);

    /* missing or bad key → 400, nothing created */
    int64_t before =
        fixture_sql_int("SELECT COUNT(*) FROM transactions WHERE buyer_user_id = ?", db_int(atoll(buyer.id)));
    http_response *res = fixture_checkout(&buyer, NULL, tool);
    CHECK_INT(res->status, 400);
    CHECK(http_problem_has_field(res, "Idempotency-Key"));
    http_response_free(res);
    char long_key[300];
    memset(long_key, 'k', 256);
    long_key[256] = '\0';
    CHECK_INT(http_status_free(fixture_checkout(&buyer, long_key, tool)), 400);
    /* bad bodies */
    fixture_idempotency_key(key, sizeof key);
    res = checkout_body(&buyer, key, "{\"tool_id\": \"abc\"}");
    CHECK_INT(res->status, 422);
    CHECK(http_problem_has_field(res, "tool_id"));
    http_response_free(res);
    CHECK_INT(http_status_free(checkout_body(&buyer, key, "{\"tool_id\": \"1\", \"price\": 0}")), 422);
    CHECK_INT(http_status_free(checkout_body(&buyer, key, "{\"tool_id\": ")), 400);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM transactions WHERE buyer_user_id = ?", db_int(atoll(buyer.id))),
              before);
    FIXTURE_CHECK_MONEY();
}

typedef struct {
    const http_user *u;
    const char *key, *tool;
    long status;
    char id[32];
} race_arg;

static void *race_checkout(void *p)
{
    race_arg *a = p;
    http_response *res = fixture_checkout(a->u, a->key, a->tool);
    a->status = res->status;
    snprintf(a->id, sizeof a->id, "%s", res->status == 201 && http_json_string(res, "id") ? http_json_string(res, "id") : "");
    http_response_free(res);
    return NULL;
}

static void test_idempotency_concurrent(void)
{
    enum { N = 20 };
    http_user dev, buyer;
    char tool[32], key[96];
    seller_and_buyer(&dev, &buyer, "one_time", 900, tool);
    fixture_idempotency_key(key, sizeof key);
    pthread_t threads[N];
    race_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (race_arg){.u = &buyer, .key = key, .tool = tool};
        pthread_create(&threads[i], NULL, race_checkout, &args[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(threads[i], NULL);
    const char *id = NULL;
    int ok = 0;
    for (int i = 0; i < N; i++) {
        CHECK(args[i].status == 201 || args[i].status == 409);
        if (args[i].status == 201) {
            ok++;
            if (!id)
                id = args[i].id;
            CHECK_STR(args[i].id, id);
        }
    }
    CHECK(ok >= 1);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM transactions WHERE buyer_user_id = ?", db_int(atoll(buyer.id))), 1);
    FIXTURE_CHECK_MONEY();
}

/* The webhook tests start from a pending sale of their own (a fresh seller, tool and buyer; see
 * fixture_sell_pending) and end with the money proof: on_pending_sale does both around fn. */
static void on_pending_sale(void (*fn)(fixture_sale *sale), const char *model, int64_t price_cents,
                            int64_t period_days)
{
    fixture_sale sale;
    if (fixture_sell_pending(&sale, "E2E Seller", model, price_cents, period_days) < 0)
        return;
    fn(&sale);
    FIXTURE_CHECK_MONEY();
}
#define RUN_ON_PENDING_SALE(fn, model, price_cents, period_days) \
    do {                                                         \
        check_failures = 0;                                      \
        on_pending_sale(fn, model, price_cents, period_days);    \
        check_report(#fn);                                       \
    } while (0)

/* ---- webhooks ---------------------------------------------------------------------------------- */

static void test_webhook_refusals(fixture_sale *sale)
{
    char evt[80];
    provider_event_id(evt, sizeof evt);
    char *body = provider_event(evt, "payment.succeeded",
                                json_pack("{s:s, s:I, s:s}", "transaction_id", sale->txn, "amount_cents", (json_int_t)250,
                                          "currency", "USD"));
    int64_t now = (int64_t)time(NULL);

    /* forged (another secret), stale, from the future, missing, garbage, body changed after signing */
    http_response *res = provider_deliver(body, "not-the-secret", 0);
    CHECK_INT(res->status, 401);
    CHECK(http_is_problem(res, 401));
    http_response_free(res);
    CHECK_INT(http_status_free(provider_deliver(body, NULL, now - 301)), 401);
    CHECK_INT(http_status_free(provider_deliver(body, NULL, now + 400)), 401);
    CHECK_INT(http_status_free(provider_deliver_header(body, NULL)), 401);
    CHECK_INT(http_status_free(provider_deliver_header(body, "t=1,v1=zz")), 401);
    char signature[160];
    provider_sign(provider_secret(), now, body, strlen(body), signature, sizeof signature);
    char *tampered = strdup(body);
    char *amount = strstr(tampered, "250");
    if (amount)
        amount[0] = '1'; /* 150: same length, different bytes */
    CHECK_INT(http_status_free(provider_deliver_header(tampered, signature)), 401);
    free(tampered);
    CHECK_STR(txn_status(&sale->buyer, sale->txn), "pending");
    CHECK_INT(event_recorded(evt), 0);

    /* signed but malformed: bad JSON 400, missing fields 422, unknown type 422 */
    CHECK_INT(http_status_free(provider_deliver("{\"id\": ", NULL, 0)), 400);
    CHECK_INT(http_status_free(provider_deliver("{\"id\": \"evt_x\", \"type\": \"payment.succeeded\"}", NULL, 0)), 422);
    char *odd = provider_event("evt_odd_type", "customer.created", json_object());
    CHECK_INT(http_status_free(provider_deliver(odd, NULL, 0)), 422);
    free(odd);
    char *dup_keys = "{\"id\": \"a\", \"id\": \"b\", \"type\": \"payment.failed\", \"created\": 1, \"data\": {}}";
    CHECK_INT(http_status_free(provider_deliver(dup_keys, NULL, 0)), 400);
    CHECK_STR(txn_status(&sale->buyer, sale->txn), "pending");
    CHECK_INT(fixture_sql_int("SELECT flagged_for_review FROM transactions WHERE id = ?", db_int(atoll(sale->txn))), 0);

    /* amount mismatch: 422, flagged, still pending, nothing posted; currency mismatch the same */
    char evt2[80];
    provider_event_id(evt2, sizeof evt2);
    CHECK_INT(http_status_free(provider_payment_succeeded(evt2, sale->txn, 249, "USD")), 422);
    CHECK_INT(fixture_sql_int("SELECT flagged_for_review FROM transactions WHERE id = ?", db_int(atoll(sale->txn))), 1);
    CHECK_INT(http_status_free(provider_payment_succeeded(NULL, sale->txn, 250, "EUR")), 422);
    CHECK_STR(txn_status(&sale->buyer, sale->txn), "pending");
    CHECK_INT(postings_of(sale->txn, "purchase"), 0);
    /* unknown transaction */
    CHECK_INT(http_status_free(provider_payment_succeeded(NULL, "999999999", 250, "USD")), 422);
    /* payout events go to core/payout: an unknown payout is refused, not recorded */
    CHECK_INT(http_status_free(provider_payout(NULL, "payout.paid", "999999999", NULL)), 422);
    /* refund of a pending transaction: 409, the provider retries later */
    CHECK_INT(http_status_free(provider_payment_refunded(NULL, sale->txn, 250)), 409);

    /* the real one completes; replaying it (same event id) is 200 and changes nothing */
    res = provider_deliver(body, NULL, 0);
    CHECK_INT(res->status, 200);
    CHECK(json_is_false(json_object_get(res->json, "duplicate")));
    http_response_free(res);
    CHECK_STR(txn_status(&sale->buyer, sale->txn), "completed");
    CHECK_INT(event_recorded(evt), 1);
    int64_t downloads = fixture_sql_int("SELECT downloads FROM tools WHERE id = ?", db_int(atoll(sale->tool)));
    res = provider_deliver(body, NULL, 0);
    CHECK_INT(res->status, 200);
    CHECK(json_is_true(json_object_get(res->json, "duplicate")));
    http_response_free(res);
    /* a second success under another event id: 200, still one posting */
    CHECK_INT(http_status_free(provider_payment_succeeded(NULL, sale->txn, 250, "USD")), 200);
    CHECK_INT(fixture_sql_int("SELECT downloads FROM tools WHERE id = ?", db_int(atoll(sale->tool))), downloads);
    CHECK_INT(postings_of(sale->txn, "purchase"), 1);
    /* a late failure does not undo a completed purchase */
    CHECK_INT(http_status_free(provider_payment_failed(NULL, sale->txn, "card_declined")), 200);
    CHECK_STR(txn_status(&sale->buyer, sale->txn), "completed");
    free(body);
}

static void test_payment_failed(fixture_sale *sale)
{
    CHECK_INT(http_status_free(provider_payment_failed(NULL, sale->txn, "card_declined")), 200);
    CHECK_STR(txn_status(&sale->buyer, sale->txn), "failed");
    CHECK_INT(execute_status(&sale->buyer, sale->tool), 402);
    CHECK_INT(http_status_free(get_txn(&sale->buyer, sale->txn, "/receipt")), 409);
    CHECK_INT(postings_of(sale->txn, "purchase"), 0);
}

typedef struct {
    const char *body;
    long status;
} delivery_arg;

static void *deliver_thread(void *p)
{
    delivery_arg *a = p;
    http_response *res = provider_deliver(a->body, NULL, 0);
    a->status = res->status;
    http_response_free(res);
    return NULL;
}

static void test_parallel_deliveries(fixture_sale *sale)
{
    enum { N = 200 };
    char evt[80];
    provider_event_id(evt, sizeof evt);
    char *body = provider_event(evt, "payment.succeeded",
                                json_pack("{s:s, s:I, s:s}", "transaction_id", sale->txn, "amount_cents", (json_int_t)4999,
                                          "currency", "USD"));
    static pthread_t threads[N];
    static delivery_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (delivery_arg){.body = body};
        if (pthread_create(&threads[i], NULL, deliver_thread, &args[i]) != 0) {
            fprintf(stderr, "pthread_create failed at %d\n", i);
            exit(2);
        }
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        ok += args[i].status == 200;
        if (args[i].status != 200)
            fprintf(stderr, "  delivery %d answered %ld\n", i, args[i].status);
    }
    CHECK_INT(ok, N);
    CHECK_STR(txn_status(&sale->buyer, sale->txn), "completed");
    CHECK_INT(postings_of(sale->txn, "purchase"), 1);
    CHECK_INT(fixture_sql_int("SELECT downloads FROM tools WHERE id = ?", db_int(atoll(sale->tool))), 1);
    CHECK_INT(
        fixture_sql_int("SELECT COUNT(*) FROM transactions WHERE id = ? AND receipt IS NOT NULL", db_int(atoll(sale->txn))),
        1);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM tool_access WHERE tool_id = ?", db_int(atoll(sale->tool))), 1);
    free(body);
}

/* ---- refunds and subscriptions ---------------------------------------------------------------- */

static void test_refund(fixture_sale *sale)
{
    CHECK_INT(http_status_free(provider_payment_succeeded(NULL, sale->txn, 1234, "USD")), 200);
    CHECK_INT(execute_status(&sale->buyer, sale->tool), 200);
    /* a partial refund is not supported: 422 and flagged, nothing changes */
    CHECK_INT(http_status_free(provider_payment_refunded(NULL, sale->txn, 1000)), 422);
    CHECK_STR(txn_status(&sale->buyer, sale->txn), "completed");
    CHECK_INT(http_status_free(provider_payment_refunded(NULL, sale->txn, 1234)), 200);
    CHECK_STR(txn_status(&sale->buyer, sale->txn), "refunded");
    CHECK_INT(execute_status(&sale->buyer, sale->tool), 402);
    CHECK_INT(postings_of(sale->txn, "purchase"), 1);
    CHECK_INT(postings_of(sale->txn, "refund"), 1);
    /* a second refund event changes nothing */
    CHECK_INT(http_status_free(provider_payment_refunded(NULL, sale->txn, 1234)), 200);
    CHECK_INT(postings_of(sale->txn, "refund"), 1);
    /* after a refund the tool can be bought again */
    char id2[32];
    buy_pending(&sale->buyer, sale->tool, id2);
    CHECK_INT(http_status_free(provider_payment_succeeded(NULL, id2, 1234, "USD")), 200);
    CHECK_INT(execute_status(&sale->buyer, sale->tool), 200);
}

static void test_subscription_extends(fixture_sale *sale)
{
    char id2[32];
    CHECK_INT(http_status_free(provider_payment_succeeded(NULL, sale->txn, 300, "USD")), 200);
    CHECK_INT(execute_status(&sale->buyer, sale->tool), 200);
    /* access ends about 30 days from now */
    int64_t days = fixture_sql_int(
        "SELECT TIMESTAMPDIFF(HOUR, NOW(6), access_until) FROM tool_access WHERE tool_id = ?", db_int(atoll(sale->tool)));
    CHECK(days >= 30 * 24 - 1 && days <= 30 * 24);
    /* a renewal adds to what is left: about 60 days */
    buy_pending(&sale->buyer, sale->tool, id2);
    CHECK_INT(http_status_free(provider_payment_succeeded(NULL, id2, 300, "USD")), 200);
    days = fixture_sql_int("SELECT TIMESTAMPDIFF(HOUR, NOW(6), access_until) FROM tool_access WHERE tool_id = ?",
                           db_int(atoll(sale->tool)));
    CHECK(days >= 60 * 24 - 1 && days <= 60 * 24);
    /* refunding the renewal takes its 30 days back, access stays */
    CHECK_INT(http_status_free(provider_payment_refunded(NULL, id2, 300)), 200);
    days = fixture_sql_int("SELECT TIMESTAMPDIFF(HOUR, NOW(6), access_until) FROM tool_access WHERE tool_id = ?",
                           db_int(atoll(sale->tool)));
    CHECK(days >= 30 * 24 - 1 && days <= 30 * 24);
    CHECK_INT(execute_status(&sale->buyer, sale->tool), 200);
    /* an expired subscription answers 402 again */
    mkt_error err = MKT_ERROR_INIT;
    db_exec(fixture_db(), "UPDATE tool_access SET access_until = NOW(6) - INTERVAL 1 SECOND WHERE tool_id = ?",
            DB_PARAMS(db_int(atoll(sale->tool))), NULL, &err);
    error_clear(&err);
    CHECK_INT(execute_status(&sale->buyer, sale->tool), 402);
}

int main(void)
{
    fixture_random_seed();
    http_set_timeout_ms(60000);
    RUN(test_buy_webhook_receipt_execute);
    RUN(test_free_tool_completes_at_once);
    RUN(test_checkout_names_what_is_wrong);
    RUN(test_idempotency);
    RUN(test_idempotency_concurrent);
    RUN_ON_PENDING_SALE(test_webhook_refusals, "one_time", 250, 0);
    RUN_ON_PENDING_SALE(test_payment_failed, "one_time", 300, 0);
    RUN_ON_PENDING_SALE(test_parallel_deliveries, "one_time", 4999, 0);
    RUN_ON_PENDING_SALE(test_refund, "one_time", 1234, 0);
    RUN_ON_PENDING_SALE(test_subscription_extends, "subscription", 300, 30);
    fixture_close();
    return check_finish();
}

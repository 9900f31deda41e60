/* Payouts end to end, through real nginx -> marketplace -> MariaDB: 100 parallel payout requests for
 * more than the balance (only what the balance covers succeeds, the balance never goes below zero),
 * a token redeemed once (200, then 409), expired (410), forged, garbage and other-audience tokens
 * (401), payout.paid / payout.failed as the webhook module applies them, and the earnings, analytics
 * and payout list answers. The developer's balance comes from purchases posted straight to the
 * ledger (the purchase flow has its own tests). After every test the ledger invariants hold. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* A fresh developer ("Payout Shop") whose available balance in currency is cents. */
static void funded_seller(fixture_seller *d, const char *currency, int64_t cents)
{
    d->developer_id = fixture_developer(&d->user, "Payout Shop");
    fixture_fund(d->developer_id, currency, cents);
}

/* The same, then a payout of payout_cents requested over HTTP; -1 (failure counted) when refused. */
static int funded_payout(fixture_seller *d, const char *currency, int64_t cents, int64_t payout_cents,
                         fixture_payout *ref)
{
    funded_seller(d, currency, cents);
    return fixture_request_payout(&d->user, payout_cents, currency, ref);
}

/* The real token's claims re-signed with the stack's own key after changing key. */
static char *resign(const char *token, const char *key, json_t *value)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *claims = jws_verify(fixture_keys(), token, &err);
    char *out = NULL;
    if (claims) {
        json_object_set_new(claims, key, value);
        out = jws_sign(fixture_keys(), claims, &err);
    }
    if (!out)
        dump("resign", &err);
    json_decref(claims);
    error_clear(&err);
    return out;
}

/* ---- 100 parallel requests ------------------------------------------------------------------ */

enum { RACE_THREADS = 100, RACE_AMOUNT = 1000 };

typedef struct {
    const fixture_seller *d;
    long status;
} race_slot;

static void *race_thread(void *arg)
{
    race_slot *slot = arg;
    http_response *res = fixture_post_payout(&slot->d->user, RACE_AMOUNT, "USD");
    slot->status = res->status;
    if (res->status != 201 && res->status != 422)
        http_dump("race", res);
    http_response_free(res);
    return NULL;
}

static void test_parallel_requests(void)
{
    fixture_seller d;
    funded_seller(&d, "USD", 12 * RACE_AMOUNT + 345);
    race_slot slots[RACE_THREADS];
    pthread_t threads[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++) {
        slots[i] = (race_slot){.d = &d};
        pthread_create(&threads[i], NULL, race_thread, &slots[i]);
    }
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_join(threads[i], NULL);
    int created = 0, refused = 0;
    for (int i = 0; i < RACE_THREADS; i++) {
        created += slots[i].status == 201;
        refused += slots[i].status == 422;
    }
    CHECK_INT(created, 12);
    CHECK_INT(refused, RACE_THREADS - 12);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 345);
    CHECK_INT(fixture_balance(d.developer_id, LEDGER_BUCKET_PAYOUT_PENDING, "USD"), 12 * RACE_AMOUNT);

    /* The list shows exactly the twelve, all requested. */
    http_response *res = http_get("/developers/me/payouts?per_page=100", d.user.token);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 12);
    json_t *list = json_object_get(res->json, "items");
    CHECK_INT(json_array_size(list), 12);
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
        CHECK(strcmp(json_string_value(json_object_get(p, "status")), "requested") == 0);
    http_response_free(res);
    /* the list rule: exactly {items, total, page, per_page}; a page past the end is empty */
    res = http_get("/developers/me/payouts?per_page=5&page=4", d.user.token);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_object_size(res->json), 4);
    CHECK(json_is_array(json_object_get(res->json, "items")));
    CHECK_INT(json_array_size(json_object_get(res->json, "items")), 0);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 12);
    CHECK_INT(json_integer_value(json_object_get(res->json, "page")), 4);
    CHECK_INT(json_integer_value(json_object_get(res->json, "per_page")), 5);
    http_response_free(res);
    res = http_get("/developers/me/payouts", d.user.token);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "per_page")), 20);
    CHECK_INT(json_integer_value(json_object_get(res->json, "page")), 1);
    http_response_free(res);
    FIXTURE_CHECK_MONEY();
}

/* ---- tokens --------------------------------------------------------------------------------- */

static void test_redeem_once(void)
{
    fixture_seller d;
    fixture_payout ref;
    if (funded_payout(&d, "USD", 5000, 5000, &ref) < 0)
        return;
    http_response *res = fixture_redeem(ref.token);
    EXPECT_STATUS(res, 200);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(res->json, "payout"), "status")) ?: "",
                 "processing") == 0);
    http_response_free(res);
    EXPECT_STATUS_FREE(fixture_redeem(ref.token), 409);
    FIXTURE_CHECK_MONEY();
}

/* Many processors racing with one token: exactly one wins, every other gets 409. */
enum { REDEEM_THREADS = 20 };

typedef struct {
    const char *token;
    long status;
} redeem_slot;

static void *redeem_thread(void *arg)
{
    redeem_slot *slot = arg;
    http_response *res = fixture_redeem(slot->token);
    slot->status = res->status;
    http_response_free(res);
    return NULL;
}

static void test_parallel_redeem(void)
{
    fixture_seller d;
    fixture_payout ref;
    if (funded_payout(&d, "USD", 2000, 2000, &ref) < 0)
        return;
    redeem_slot slots[REDEEM_THREADS];
    pthread_t threads[REDEEM_THREADS];
    for (int i = 0; i < REDEEM_THREADS; i++) {
        slots[i] = (redeem_slot){.token = ref.token};
        pthread_create(&threads[i], NULL, redeem_thread, &slots[i]);
    }
    int ok = 0, conflict = 0;
    for (int i = 0; i < REDEEM_THREADS; i++) {
        pthread_join(threads[i], NULL);
        ok += slots[i].status == 200;
        conflict += slots[i].status == 409;
    }
    CHECK_INT(ok, 1);
    CHECK_INT(conflict, REDEEM_THREADS - 1);
    FIXTURE_CHECK_MONEY();
}

static void test_redeem_refused(void)
{
    fixture_seller d;
    fixture_payout ref;
    if (funded_payout(&d, "EUR", 4000, 2000, &ref) < 0)
        return;

    char *expired = resign(ref.token, "exp", json_integer((json_int_t)time(NULL) - 60));
    EXPECT_STATUS_FREE(fixture_redeem(expired), 410);
    free(expired);

    char *other = resign(ref.token, "aud", json_string("receipts"));
    EXPECT_STATUS_FREE(fixture_redeem(other), 401);
    free(other);

    char forged[sizeof ref.token];
    snprintf(forged, sizeof forged, "%s", ref.token);
    char *c = forged + strlen(forged) - 3;
    *c = *c == 'x' ? 'y' : 'x';
    EXPECT_STATUS_FREE(fixture_redeem(forged), 401);

    /* A token of the right shape signed by a key the server does not know. */
    char dir[] = "/tmp/payout-keys-XXXXXX";
    char kid[KEYSTORE_KID_LEN + 1];
    mkt_error err = MKT_ERROR_INIT;
    if (mkdtemp(dir) && keystore_generate(dir, kid, &err) == 0) {
        jws_keyring *stranger = jws_keyring_load(dir, &err);
        json_t *claims = jws_verify(fixture_keys(), ref.token, &err);
        char *foreign = stranger && claims ? jws_sign(stranger, claims, &err) : NULL;
        CHECK(foreign);
        if (foreign) {
            EXPECT_STATUS_FREE(fixture_redeem(foreign), 401);
        }
        free(foreign);
        json_decref(claims);
        jws_keyring_free(stranger);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
    }
    error_clear(&err);

    EXPECT_STATUS_FREE(fixture_redeem("not.a.token"), 401);
    EXPECT_STATUS_FREE(http_post_text("/payouts/redeem", NULL, "{\"token\": 42}"), 422);
    EXPECT_STATUS_FREE(http_post_text("/payouts/redeem", NULL, "{\"token\": "), 400);

    /* None of that moved the payout: the real token still works, once. */
    EXPECT_STATUS_FREE(fixture_redeem(ref.token), 200);
    FIXTURE_CHECK_MONEY();
}

/* ---- finishing, earnings, access ------------------------------------------------------------ */

static const json_t *currency_row(const http_response *res, const char *currency)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(res->json, "balances"), i, row)
        if (strcmp(json_string_value(json_object_get(row, "currency")), currency) == 0)
            return row;
    return NULL;
}

static int64_t member_int(const json_t *obj, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(obj, key));
}

static void test_paid_failed_earnings(void)
{
    fixture_seller d;
    funded_seller(&d, "USD", 9000);
    fixture_payout a, b;
    if (fixture_request_payout(&d.user, 3000, "USD", &a) < 0 || fixture_request_payout(&d.user, 2000, "USD", &b) < 0)
        return;
    EXPECT_STATUS_FREE(fixture_redeem(a.token), 200);

    /* The provider's signed events through nginx, as in production; a redelivery changes nothing. */
    char a_id[32], b_id[32], event[96];
    snprintf(a_id, sizeof a_id, "%s", a.id);
    snprintf(b_id, sizeof b_id, "%s", b.id);
    provider_event_id(event, sizeof event);
    for (int i = 0; i < 2; i++) {
        EXPECT_STATUS_FREE(provider_payout(event, "payout.paid", a_id, NULL), 200);
    }
    EXPECT_STATUS_FREE(provider_payout(NULL, "payout.failed", b_id, "account closed"), 200);
    /* The same outcome under another event id: accepted, no second posting (the invariants say so). */
    EXPECT_STATUS_FREE(provider_payout(NULL, "payout.paid", a_id, NULL), 200);

    /* failed after paid contradicts the record: acknowledged, no money moves, flagged for review */
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(payout_mark_failed(fixture_db(), strtoll(a.id, NULL, 10), "too late", &err), 0);
    CHECK_INT(err.kind, ERROR_NONE);
    error_clear(&err);

    http_response *res = http_get("/developers/me/earnings", d.user.token);
    EXPECT_STATUS(res, 200);
    const json_t *usd = currency_row(res, "USD");
    CHECK(usd);
    CHECK_INT(member_int(usd, "available_cents"), 9000 - 3000);
    CHECK_INT(member_int(usd, "pending_payout_cents"), 0);
    CHECK_INT(member_int(usd, "paid_out_cents"), 3000);
    CHECK_INT(member_int(usd, "lifetime_cents"), 9000);
    CHECK(json_array_size(json_object_get(res->json, "by_month")) >= 1);
    CHECK(json_is_array(json_object_get(res->json, "by_tool")));
    http_response_free(res);

    res = http_get("/developers/me/payouts?page=1&per_page=1", d.user.token);
    EXPECT_STATUS(res, 200);
    json_t *newest = json_array_get(json_object_get(res->json, "items"), 0);
    CHECK(strcmp(json_string_value(json_object_get(newest, "status")) ?: "", "failed") == 0);
    CHECK(strcmp(json_string_value(json_object_get(newest, "failure_reason")) ?: "", "account closed") == 0);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 2);
    http_response_free(res);

    res = http_get("/developers/me/analytics", d.user.token);
    EXPECT_STATUS(res, 200);
    CHECK(json_is_array(json_object_get(res->json, "tools")));
    http_response_free(res);
    FIXTURE_CHECK_MONEY();
}

/* ---- the whole flow: buy -> webhook -> receipt -> earnings -> payout -> redeem -> paid -------- */

static void test_full_flow(void)
{
    enum { PRICE = 2000 };
    fixture_sale sale;
    if (fixture_sell(&sale, "Payout Shop", PRICE) < 0)
        return;
    int64_t dev_share = PRICE * (10000 - fixture_config()->platform_fee_bps) / 10000;

    char path[96];
    snprintf(path, sizeof path, "/transactions/%s/receipt", sale.txn);
    http_response *res = http_get(path, sale.buyer.token);
    EXPECT_STATUS(res, 200);
    CHECK(http_json_string(res, "receipt") != NULL);
    http_response_free(res);

    res = http_get("/developers/me/earnings", sale.seller.user.token);
    EXPECT_STATUS(res, 200);
    const json_t *usd = currency_row(res, "USD");
    CHECK_INT(member_int(usd, "available_cents"), dev_share);
    CHECK_INT(member_int(usd, "lifetime_cents"), dev_share);
    json_t *tool = json_array_get(json_object_get(res->json, "by_tool"), 0);
    CHECK(strcmp(json_string_value(json_object_get(tool, "slug")) ?: "", sale.slug) == 0);
    CHECK_INT(member_int(tool, "sales"), 1);
    CHECK_INT(member_int(tool, "revenue_cents"), PRICE);
    CHECK_INT(member_int(tool, "developer_cents"), dev_share);
    http_response_free(res);

    res = http_get("/developers/me/analytics", sale.seller.user.token);
    EXPECT_STATUS(res, 200);
    tool = json_array_get(json_object_get(res->json, "tools"), 0);
    CHECK_INT(member_int(tool, "sales"), 1);
    CHECK_INT(member_int(json_array_get(json_object_get(tool, "revenue"), 0), "revenue_cents"), PRICE);
    http_response_free(res);

    fixture_payout ref;
    if (fixture_request_payout(&sale.seller.user, dev_share, "USD", &ref) < 0)
        return;
    EXPECT_STATUS_FREE(fixture_redeem(ref.token), 200);
    EXPECT_STATUS_FREE(provider_payout(NULL, "payout.paid", ref.id, NULL), 200);

    res = http_get("/developers/me/payouts", sale.seller.user.token);
    EXPECT_STATUS(res, 200);
    json_t *p = json_array_get(json_object_get(res->json, "items"), 0);
    CHECK(strcmp(json_string_value(json_object_get(p, "status")) ?: "", "paid") == 0);
    http_response_free(res);
    res = http_get("/developers/me/earnings", sale.seller.user.token);
    usd = currency_row(res, "USD");
    CHECK_INT(member_int(usd, "available_cents"), 0);
    CHECK_INT(member_int(usd, "paid_out_cents"), dev_share);
    http_response_free(res);

    mkt_error err = MKT_ERROR_INIT;
    if (transaction_check_postings(fixture_db(), &err) < 0) {
        dump("transaction postings", &err);
        check_failures++;
    }
    error_clear(&err);
    FIXTURE_CHECK_MONEY();
}

static void test_access(void)
{
    http_user buyer;
    if (http_register_user(&buyer) < 0)
        exit(2);
    static const char *const paths[] = {"/developers/me/earnings", "/developers/me/analytics",
                                        "/developers/me/payouts"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        EXPECT_STATUS_FREE(http_get(paths[i], NULL), 401);
        EXPECT_STATUS_FREE(http_get(paths[i], buyer.token), 403);
    }
    fixture_seller d;
    d.developer_id = fixture_developer(&d.user, "Payout Shop");
    http_response *res = fixture_post_payout(&d.user, 5, "USD"); /* under the minimum */
    EXPECT_STATUS(res, 422);
    CHECK(http_problem_has_field(res, "amount_cents"));
    http_response_free(res);
    res = fixture_post_payout(&d.user, 100000, "USD"); /* over the (empty) balance */
    EXPECT_STATUS(res, 422);
    CHECK(http_problem_has_field(res, "amount_cents"));
    http_response_free(res);
    EXPECT_STATUS_FREE(http_get("/developers/me/payouts?per_page=0", d.user.token), 400);
    FIXTURE_CHECK_MONEY();
}

int main(void)
{
    fixture_keys();
    RUN(test_parallel_requests);
    RUN(test_redeem_once);
    RUN(test_parallel_redeem);
    RUN(test_redeem_refused);
    RUN(test_paid_failed_earnings);
    RUN(test_access);
    RUN(test_full_flow);
    fixture_close();
    return check_finish();
}

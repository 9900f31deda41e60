/* The test-mode payment provider (tools/testpay) end to end, as a browser uses it through nginx: a
 * paid checkout answers a checkout_url under /testpay/; its page shows the amount (escaped); Pay,
 * Decline and Refund send the signed payment.* events, so the transaction completes (access
 * granted), fails or is refunded (access gone), and the buyer is sent back to a same-origin
 * return_to only. The payout page redeems a payout token and sends payout.paid / payout.failed. The
 * ledger sums to zero throughout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

/* ---- helpers ------------------------------------------------------------------------------------- */

/* A pending checkout of a fresh one_time tool: its checkout_url (512 bytes) and the sale. */
static int pending_sale(fixture_sale *sale, int64_t price_cents, char *checkout_url)
{
    memset(sale, 0, sizeof *sale);
    sale->seller.developer_id = fixture_developer(&sale->seller.user, "Testpay Shop");
    fixture_adder_tool(&sale->seller.user, "one_time", price_cents, 0, sale->tool, sale->slug);
    fixture_user(&sale->buyer);
    char key[128];
    fixture_idempotency_key(key, sizeof key);
    http_response *res = fixture_checkout(&sale->buyer, key, sale->tool);
    const char *url = http_json_string(res, "checkout_url");
    const char *id = http_json_string(res, "id");
    int ok = res->status == 201 && url && id;
    if (ok) {
        snprintf(checkout_url, 512, "%s", url);
        snprintf(sale->txn, sizeof sale->txn, "%s", id);
    } else {
        http_dump("checkout", res);
        check_failures++;
    }
    http_response_free(res);
    return ok ? 0 : -1;
}

static const char *txn_status(const fixture_sale *sale)
{
    static char status[32];
    char path[96];
    snprintf(path, sizeof path, "/transactions/%s", sale->txn);
    http_response *res = http_get(path, sale->buyer.token);
    snprintf(status, sizeof status, "%s", http_json_string(res, "status") ? http_json_string(res, "status") : "?");
    http_response_free(res);
    return status;
}

static long execute_status(const fixture_sale *sale)
{
    char path[96];
    snprintf(path, sizeof path, "/tools/%s/execute", sale->tool);
    return http_status_free(http_post_text(path, sale->buyer.token, "{\"input\": {\"a\": 2, \"b\": 3}}"));
}

/* POSTs a form (application/x-www-form-urlencoded) to path, as a browser submits one. */
static http_response *post_form(const char *path, const char *form)
{
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    return http_raw("POST", path, headers, form, strlen(form));
}

/* The checkout form's action for the sale: a 303 to where is expected. */
static void checkout_act_at(const fixture_sale *sale, const char *action, const char *return_to, const char *where,
                            int line)
{
    char path[96], form[1024];
    snprintf(path, sizeof path, "/testpay/checkout/%s", sale->txn);
    snprintf(form, sizeof form, "amount_cents=1500&currency=USD&return_to=%s&action=%s", return_to, action);
    http_response *res = post_form(path, form);
    if (res->status != 303 || !res->location || strcmp(res->location, where) != 0) {
        fprintf(stderr, "  line %d: %s: expected 303 to %s\n", line, action, where);
        http_dump(action, res);
        check_failures++;
    }
    http_response_free(res);
}
#define CHECKOUT_ACT(sale, action, return_to, where) checkout_act_at(sale, action, return_to, where, __LINE__)

/* ---- tests --------------------------------------------------------------------------------------- */

static void test_checkout_page(void)
{
    fixture_sale sale;
    char url[512];
    if (pending_sale(&sale, 1500, url) < 0)
        return;
    char expected[128];
    snprintf(expected, sizeof expected, "/testpay/checkout/%s?amount_cents=1500&currency=USD", sale.txn);
    CHECK_STR(url, expected);

    char page[1024];
    snprintf(page, sizeof page, "%s&return_to=%%2Ftools%%2F%s", url, sale.slug);
    http_response *res = http_raw("GET", page, NULL, NULL, 0);
    CHECK_INT(res->status, 200);
    CHECK(res->content_type && strncmp(res->content_type, "text/html", 9) == 0);
    CHECK(strstr(res->body, "15.00 USD") != NULL);
    CHECK(strstr(res->body, "value=\"pay\"") && strstr(res->body, "value=\"decline\"") &&
          strstr(res->body, "value=\"refund\""));
    CHECK(strstr(res->body, "<script") == NULL);
    CHECK(strstr(res->body, " style=") == NULL);
    const char *csp = http_header(res, "Content-Security-Policy");
    CHECK(csp && strstr(csp, "script-src 'self'") != NULL);
    if (check_failures)
        http_dump("checkout page", res);
    http_response_free(res);
}

/* Pay completes the purchase and grants access; Refund takes it back. */
static void test_pay_then_refund(void)
{
    fixture_sale sale;
    char url[512];
    if (pending_sale(&sale, 1500, url) < 0)
        return;
    CHECK_INT(execute_status(&sale), 402);
    char back[160];
    snprintf(back, sizeof back, "/tools/%s", sale.slug);
    CHECKOUT_ACT(&sale, "pay", back, back);
    CHECK_STR(txn_status(&sale), "completed");
    CHECK_INT(execute_status(&sale), 200);
    FIXTURE_CHECK_MONEY();

    CHECKOUT_ACT(&sale, "refund", back, back);
    CHECK_STR(txn_status(&sale), "refunded");
    CHECK_INT(execute_status(&sale), 402);
    FIXTURE_CHECK_MONEY();
}

static void test_decline(void)
{
    fixture_sale sale;
    char url[512];
    if (pending_sale(&sale, 1500, url) < 0)
        return;
    CHECKOUT_ACT(&sale, "decline", "%2Fme", "/me");
    CHECK_STR(txn_status(&sale), "failed");
    CHECK_INT(execute_status(&sale), 402);
    FIXTURE_CHECK_MONEY();
}

/* return_to must be a path on this origin; anything else goes back to "/". */
static void test_return_to_same_origin_only(void)
{
    fixture_sale sale;
    char url[512];
    if (pending_sale(&sale, 1500, url) < 0)
        return;
    static const char *const elsewhere[] = {"%2F%2Fevil.example%2Fx", "https%3A%2F%2Fevil.example%2F",
                                            "%2F%5Cevil.example", "javascript%3Aalert(1)", "", "tools",
                                            "%2Fa%0D%0ASet-Cookie%3A%20x%3D1"};
    for (size_t i = 0; i < sizeof elsewhere / sizeof elsewhere[0]; i++)
        CHECKOUT_ACT(&sale, "decline", elsewhere[i], "/"); /* a second decline is "already failed": 200 */
    CHECK_STR(txn_status(&sale), "failed");
}

/* Whatever comes in the link is shown escaped or refused, never as markup. */
static void test_escaping_and_bad_fields(void)
{
    fixture_sale sale;
    char url[512];
    if (pending_sale(&sale, 1500, url) < 0)
        return;
    char page[1024];
    snprintf(page, sizeof page, "%s&return_to=%%2Fx%%22%%3E%%3Cscript%%3Ealert(1)%%3C%%2Fscript%%3E", url);
    http_response *res = http_raw("GET", page, NULL, NULL, 0);
    CHECK_INT(res->status, 200);
    CHECK(strstr(res->body, "<script") == NULL);
    CHECK(strstr(res->body, "&quot;&gt;&lt;script&gt;") != NULL);
    http_response_free(res);

    static const char *const bad[] = {
        "amount_cents=%3Cb%3E1%3C%2Fb%3E&currency=USD", "amount_cents=-5&currency=USD", "amount_cents=0&currency=USD",
        "amount_cents=15&currency=%3Cb%3E", "amount_cents=15&currency=usd", "amount_cents=15", "currency=USD",
        "amount_cents=99999999999999999999&currency=USD", "amount_cents=1%00&currency=USD", "amount_cents=%zz",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(page, sizeof page, "/testpay/checkout/%s?%s", sale.txn, bad[i]);
        res = http_raw("GET", page, NULL, NULL, 0);
        if (res->status != 400 || strstr(res->body, "<b>") || strstr(res->body, "<script")) {
            fprintf(stderr, "  bad link %zu\n", i);
            http_dump(page, res);
            check_failures++;
        }
        http_response_free(res);
    }
    CHECK_INT(http_status_free(http_raw("GET", "/testpay/checkout/abc?amount_cents=1&currency=USD", NULL, NULL, 0)), 404);
    CHECK_INT(http_status_free(http_raw("GET", "/testpay/nothing", NULL, NULL, 0)), 404);
    CHECK_INT(http_status_free(http_raw("DELETE", "/testpay/payout", NULL, NULL, 0)), 405);

    /* an unknown action is refused and changes nothing */
    char path[96];
    snprintf(path, sizeof path, "/testpay/checkout/%s", sale.txn);
    CHECK_INT(http_status_free(post_form(path, "amount_cents=1500&currency=USD&action=steal")), 400);
    /* the marketplace refuses a wrong amount: the page says so, nothing completes */
    res = post_form(path, "amount_cents=1&currency=USD&action=pay");
    CHECK_INT(res->status, 502);
    CHECK(strstr(res->body, "422") != NULL);
    http_response_free(res);
    CHECK_STR(txn_status(&sale), "pending");
    FIXTURE_CHECK_MONEY();
}

/* The payout page: redeem the token, then payout.paid or payout.failed. */
static void test_payout_page(void)
{
    http_user dev;
    int64_t developer_id = fixture_developer(&dev, "Testpay Payee");
    fixture_fund(developer_id, "USD", 10000);
    http_response *res = http_raw("GET", "/testpay/payout?return_to=%2Fdeveloper", NULL, NULL, 0);
    CHECK_INT(res->status, 200);
    CHECK(strstr(res->body, "name=\"token\"") != NULL);
    CHECK(strstr(res->body, "value=\"/developer\"") != NULL);
    http_response_free(res);

    static const char *const outcomes[][2] = {{"paid", "paid"}, {"failed", "failed"}};
    for (size_t i = 0; i < 2; i++) {
        fixture_payout payout;
        if (fixture_request_payout(&dev, 2500, "USD", &payout) < 0)
            return;
        char *form = malloc(strlen(payout.token) + 128);
        sprintf(form, "token=%s&action=%s&return_to=%%2Fdeveloper", payout.token, outcomes[i][0]);
        res = post_form("/testpay/payout", form);
        CHECK_INT(res->status, 303);
        CHECK_STR(res->location, "/developer");
        if (res->status != 303)
            http_dump("payout", res);
        http_response_free(res);
        CHECK_STR(fixture_sql_text("SELECT status FROM payouts WHERE id = ?", db_int(strtoll(payout.id, NULL, 10))),
                  outcomes[i][1]);
        /* the token is single use: a second submission is refused by the marketplace */
        res = post_form("/testpay/payout", form);
        CHECK_INT(res->status, 502);
        CHECK(strstr(res->body, "409") != NULL);
        http_response_free(res);
        free(form);
    }
    CHECK_INT(fixture_balance(developer_id, "available", "USD"), 10000 - 2500);
    CHECK_INT(http_status_free(post_form("/testpay/payout", "token=forged&action=paid")), 502);
    CHECK_INT(http_status_free(post_form("/testpay/payout", "token=x&action=maybe")), 400);
    FIXTURE_CHECK_MONEY();
}

int main(void)
{
    RUN(test_checkout_page);
    RUN(test_pay_then_refund);
    RUN(test_decline);
    RUN(test_return_to_same_origin_only);
    RUN(test_escaping_and_bad_fields);
    RUN(test_payout_page);
    fixture_close();
    return check_finish();
}

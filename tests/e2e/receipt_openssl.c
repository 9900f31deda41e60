/* Proof with a REAL receipt, through nginx: a developer publishes a paid tool, a buyer checks
 * out, the provider's signed payment.succeeded webhook completes the purchase, and the receipt the
 * server issued (GET /transactions/{id}/receipt) verifies with the openssl command-line tool against
 * the key published in GET /keys (found by the JWS header's kid) -- no code of ours verifies anything.
 * A receipt with one changed payload byte, or one changed signature byte, does not verify. The claims
 * carry the transaction (txn, tool, sub, amount_cents, currency, and a split that adds up). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/provider.h"
#include "tests/support/stack_env.h"

#define PRICE_CENTS 1999

/* ---- helpers ---------------------------------------------------------------------------------- */

/* One base64url segment decoded and parsed as a JSON object (NULL otherwise). */
static json_t *segment_json(const char *seg, size_t len)
{
    unsigned char *buf = malloc(len + 4);
    if (!buf)
        return NULL;
    int n = fixture_openssl_b64url(seg, len, buf, len + 4);
    json_t *j = NULL;
    if (n >= 0) {
        json_error_t jerr;
        j = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
        if (j && !json_is_object(j)) {
            json_decref(j);
            j = NULL;
        }
    }
    free(buf);
    return j;
}

/* ---- the test ----------------------------------------------------------------------------------- */

static void test_real_receipt_verifies_with_openssl(void)
{
    http_user dev, buyer;
    fixture_developer(&dev, "E2E Receipt Seller");
    fixture_user(&buyer);
    char tool[32], id[32], key[128];
    fixture_adder_tool(&dev, "one_time", PRICE_CENTS, 0, tool, NULL);

    /* checkout with an Idempotency-Key */
    fixture_idempotency_key(key, sizeof key);
    http_response *res = fixture_checkout(&buyer, key, tool);
    CHECK_INT(res->status, 201);
    if (res->status != 201 || !http_json_string(res, "id")) {
        http_dump("checkout", res);
        http_response_free(res);
        return;
    }
    snprintf(id, sizeof id, "%s", http_json_string(res, "id"));
    json_int_t dev_cents = json_integer_value(json_object_get(res->json, "developer_cents"));
    json_int_t plat_cents = json_integer_value(json_object_get(res->json, "platform_cents"));
    http_response_free(res);

    /* the provider says it is paid */
    res = provider_payment_succeeded(NULL, id, PRICE_CENTS, "USD");
    CHECK_INT(res->status, 200);
    if (res->status != 200)
        http_dump("webhook", res);
    http_response_free(res);

    char path[128];
    snprintf(path, sizeof path, "/transactions/%s/receipt", id);
    http_response *rres = http_get(path, buyer.token);
    CHECK_INT(rres->status, 200);
    const char *receipt = http_json_string(rres, "receipt");
    CHECK(receipt != NULL);
    if (!receipt) {
        http_dump("GET receipt", rres);
        http_response_free(rres);
        return;
    }
    char *token = strdup(receipt);
    http_response_free(rres);
    const char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');
    CHECK(dot1 && dot2 && dot1 < dot2 && strchr(dot1 + 1, '.') == dot2);
    if (!dot1 || !dot2 || dot1 == dot2) {
        free(token);
        return;
    }

    /* header: EdDSA with a kid; claims: the transaction */
    json_t *jheader = segment_json(token, (size_t)(dot1 - token));
    json_t *claims = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    CHECK(jheader != NULL);
    CHECK(claims != NULL);
    CHECK_STR(json_string_value(json_object_get(jheader, "alg")), "EdDSA");
    const char *kid = json_string_value(json_object_get(jheader, "kid"));
    CHECK(kid != NULL);
    CHECK_STR(json_string_value(json_object_get(claims, "txn")), id);
    CHECK_STR(json_string_value(json_object_get(claims, "tool")), tool);
    CHECK_STR(json_string_value(json_object_get(claims, "sub")), buyer.id);
    CHECK_STR(json_string_value(json_object_get(claims, "currency")), "USD");
    json_t *amount = json_object_get(claims, "amount_cents"), *dc = json_object_get(claims, "developer_cents"),
           *pc = json_object_get(claims, "platform_cents");
    CHECK(json_is_integer(amount) && json_is_integer(dc) && json_is_integer(pc));
    CHECK_INT(json_integer_value(amount), PRICE_CENTS);
    CHECK_INT(json_integer_value(dc) + json_integer_value(pc), json_integer_value(amount));
    CHECK_INT(json_integer_value(dc), dev_cents);
    CHECK_INT(json_integer_value(pc), plat_cents);

    /* the public key: only what GET /keys publishes, picked by the header's kid */
    res = http_get("/keys", NULL);
    CHECK_INT(res->status, 200);
    const char *x = NULL;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(res->json, "keys"), i, k)
    {
        const char *kk = json_string_value(json_object_get(k, "kid"));
        if (kid && kk && strcmp(kk, kid) == 0) {
            CHECK_STR(json_string_value(json_object_get(k, "kty")), "OKP");
            CHECK_STR(json_string_value(json_object_get(k, "crv")), "Ed25519");
            x = json_string_value(json_object_get(k, "x"));
        }
    }
    CHECK(x != NULL);

    char dir[] = "/tmp/receipt-openssl-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        check_failures++;
        goto out;
    }
    CHECK_INT(fixture_write_public_pem(dir, x), 32);
    char fpath[512];

    /* the real receipt verifies */
    CHECK(fixture_openssl_verifies(dir, token));
    /* one changed byte in the payload: refused */
    char *p = (char *)dot1 + 1 + (size_t)(dot2 - dot1 - 1) / 2;
    char saved = *p;
    *p = saved == 'A' ? 'B' : 'A';
    CHECK(!fixture_openssl_verifies(dir, token));
    *p = saved;
    /* one changed byte of the signature itself (decoded, so the change is not lost in the padding bits) */
    {
        unsigned char sig[128];
        int n = fixture_openssl_b64url(dot2 + 1, strlen(dot2 + 1), sig, sizeof sig);
        CHECK_INT(n, 64);
        if (n == 64) {
            snprintf(fpath, sizeof fpath, "%s/input", dir);
            fixture_write_file(fpath, token, (size_t)(dot2 - token));
            sig[17] ^= 0x01;
            snprintf(fpath, sizeof fpath, "%s/sig", dir);
            fixture_write_file(fpath, sig, (size_t)n);
            char cmd[2048];
            snprintf(cmd, sizeof cmd,
                     "openssl pkeyutl -verify -pubin -inkey %s/pub.pem -rawin -in %s/input -sigfile %s/sig "
                     ">%s/out 2>&1",
                     dir, dir, dir, dir);
            CHECK(system(cmd) != 0);
        }
    }
    /* and the pristine receipt still verifies (the refusals were not passing by accident) */
    CHECK(fixture_openssl_verifies(dir, token));
    if (check_failures)
        fprintf(stderr, "  receipt: %s\n", token);
    fixture_openssl_done(dir);
out:
    http_response_free(res);
    json_decref(jheader);
    json_decref(claims);
    free(token);
}

int main(void)
{
    fixture_random_seed();
    http_set_timeout_ms(60000);
    if (system("openssl version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "the openssl command-line tool is required\n");
        return 2;
    }
    RUN(test_real_receipt_verifies_with_openssl);
    return check_finish();
}

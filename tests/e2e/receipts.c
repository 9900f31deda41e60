/* Receipts end to end, through nginx: GET /keys publishes the stack's key; a token signed here with
 * the stack's private key (loaded from its signing_key_dir, as the master does) verifies through
 * POST /receipts/verify and a one-byte change does not; bad input is an answer (valid:false), not
 * an error, except a missing receipt (422). Finally the proof that does not trust our code at all:
 * the openssl command-line tool verifies the signature against a PEM built from the JWKS "x".
 * Rotation (keygen + SIGHUP) is not tested here: a SIGHUP replaces every worker, which tests running
 * beside this one (sandbox_abuse checks that its worker survives) must not see. It belongs in a
 * RUN_SERIAL faults_* test; tests/unit/jws.c covers rotation of the keyring itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/codec.h"
#include "core/jws.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/stack_env.h"

/* ---- helpers ------------------------------------------------------------------------------------ */

static json_t *receipt_claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:I, s:I}", "iss", "marketplace", "sub", "1", "jti",
                     "e2e-receipt", "iat", (json_int_t)time(NULL), "txn", "1", "tool", "1", "amount_cents",
                     (json_int_t)1000, "currency", "USD", "developer_cents", (json_int_t)700, "platform_cents",
                     (json_int_t)300);
}

static char *sign_here(const json_t *claims)
{
    mkt_error err = MKT_ERROR_INIT;
    char *token = jws_sign(fixture_keys(), claims, &err);
    if (!token) {
        fprintf(stderr, "cannot sign with the stack's key: %s\n", err.message);
        exit(2);
    }
    return token;
}

static http_response *verify_text(const char *receipt)
{
    json_t *body = json_pack("{s:s}", "receipt", receipt);
    http_response *res = http_post_json("/receipts/verify", NULL, body);
    json_decref(body);
    return res;
}

/* 1 when the server says the signature is good (signature_valid:true); checks the answer is a
 * well-formed 200 either way. The receipts made here name no purchase of the stack's, so their
 * status is "unknown" and valid stays false (e2e.money_edges covers status and valid). */
static int server_says_valid(const char *receipt)
{
    http_response *res = verify_text(receipt);
    CHECK_INT(res->status, 200);
    json_t *valid = json_object_get(res->json, "signature_valid");
    CHECK(json_is_boolean(valid));
    CHECK(json_is_boolean(json_object_get(res->json, "valid")));
    int ok = json_is_true(valid);
    if (ok)
        CHECK(json_is_object(json_object_get(res->json, "claims")));
    else
        CHECK(json_is_string(json_object_get(res->json, "reason")));
    if (res->status != 200)
        http_dump("verify", res);
    http_response_free(res);
    return ok;
}

/* ---- tests -------------------------------------------------------------------------------------- */

static void test_keys_published(void)
{
    http_response *res = http_get("/keys", NULL);
    CHECK_INT(res->status, 200);
    CHECK(res->content_type && strncmp(res->content_type, "application/json", 16) == 0);
    json_t *keys = json_object_get(res->json, "keys");
    CHECK(json_array_size(keys) >= 1);
    const char *want = jws_keyring_signing_kid(fixture_keys());
    int found = 0;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        CHECK_STR(json_string_value(json_object_get(k, "kty")), "OKP");
        CHECK_STR(json_string_value(json_object_get(k, "crv")), "Ed25519");
        CHECK_STR(json_string_value(json_object_get(k, "alg")), "EdDSA");
        CHECK_STR(json_string_value(json_object_get(k, "use")), "sig");
        CHECK(json_object_get(k, "d") == NULL);
        const char *kid = json_string_value(json_object_get(k, "kid"));
        found += kid && want && strcmp(kid, want) == 0;
    }
    CHECK_INT(found, 1);
    /* the server's JWKS is exactly what the same key files give here */
    json_t *local = jws_keyring_jwks(fixture_keys());
    CHECK(json_equal(local, res->json));
    json_decref(local);
    if (check_failures)
        http_dump("GET /keys", res);
    http_response_free(res);
}

static void test_verify_signed_here(void)
{
    json_t *claims = receipt_claims();
    char *token = sign_here(claims);
    http_response *res = verify_text(token);
    CHECK_INT(res->status, 200);
    CHECK(json_is_true(json_object_get(res->json, "signature_valid")));
    CHECK_STR(json_string_value(json_object_get(res->json, "status")) ?: "", "unknown");
    CHECK(json_is_false(json_object_get(res->json, "valid")));
    CHECK(json_equal(json_object_get(res->json, "claims"), claims));
    if (check_failures)
        http_dump("verify", res);
    http_response_free(res);

    /* one changed byte in each segment */
    size_t len = strlen(token);
    const char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');
    size_t positions[] = {3, (size_t)(dot1 - token) + 5, (size_t)(dot2 - token) + 10, len - 2};
    for (size_t p = 0; p < sizeof positions / sizeof positions[0]; p++) {
        char saved = token[positions[p]];
        token[positions[p]] = saved == 'A' ? 'B' : 'A';
        CHECK(!server_says_valid(token));
        token[positions[p]] = saved;
    }
    CHECK(server_says_valid(token));
    free(token);
    json_decref(claims);
}

static void test_verify_refusals(void)
{
    /* garbage and near-misses are answers, not errors */
    const char *garbage[] = {"", "x", "a.b", "a.b.c", "not a token at all", "....", "eyJ.eyJ.eyJ"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        CHECK(!server_says_valid(garbage[i]));

    /* alg none with our kid and real claims */
    json_t *claims = receipt_claims();
    char *token = sign_here(claims);
    char header[128], h64[192];
    snprintf(header, sizeof header, "{\"alg\":\"none\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
             jws_keyring_signing_kid(fixture_keys()));
    codec_base64_encode(CODEC_BASE64URL, header, strlen(header), h64);
    char forged[4096];
    snprintf(forged, sizeof forged, "%s%.*s.", h64, (int)(strrchr(token, '.') - strchr(token, '.')),
             strchr(token, '.'));
    CHECK(!server_says_valid(forged));

    /* a payout-style token (with an audience) is not a receipt, even though our key signed it */
    json_t *payout = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", "marketplace", "aud", "payouts", "sub", "1",
                               "iat", (json_int_t)time(NULL), "exp", (json_int_t)time(NULL) + 600);
    char *payout_token = sign_here(payout);
    CHECK(!server_says_valid(payout_token));
    /* and an expired one is not valid either */
    json_t *expired = receipt_claims();
    json_object_set_new(expired, "exp", json_integer((json_int_t)time(NULL) - 5));
    char *expired_token = sign_here(expired);
    CHECK(!server_says_valid(expired_token));

    /* a huge receipt is refused quickly (by the body limit or by the verifier), never a 5xx */
    size_t huge_len = 200000;
    char *huge = malloc(huge_len + 1);
    memset(huge, 'A', huge_len);
    huge[huge_len] = '\0';
    http_response *res = verify_text(huge);
    CHECK(res->status == 200 || res->status == 413);
    if (res->status == 200)
        CHECK(json_is_false(json_object_get(res->json, "valid")));
    http_response_free(res);
    free(huge);

    /* request errors: missing or non-string receipt 422 naming it; malformed JSON 400 */
    res = http_post_text("/receipts/verify", NULL, "{}");
    CHECK(http_is_problem(res, 422) && http_problem_has_field(res, "receipt"));
    http_response_free(res);
    res = http_post_text("/receipts/verify", NULL, "{\"receipt\": 42}");
    CHECK(http_is_problem(res, 422) && http_problem_has_field(res, "receipt"));
    http_response_free(res);
    res = http_post_text("/receipts/verify", NULL, "{\"receipt\": null}");
    CHECK(http_is_problem(res, 422) && http_problem_has_field(res, "receipt"));
    http_response_free(res);
    res = http_post_text("/receipts/verify", NULL, "{\"receipt\": ");
    CHECK(http_is_problem(res, 400));
    http_response_free(res);
    CHECK_INT(http_status_free(http_get("/receipts/verify", NULL)), 405);

    free(expired_token);
    json_decref(expired);
    free(payout_token);
    json_decref(payout);
    free(token);
    json_decref(claims);
}

static void test_openssl_cli_verifies(void)
{
    char dir[] = "/tmp/receipts-e2e-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        check_failures++;
        return;
    }
    /* The public key only from what the server publishes. */
    http_response *res = http_get("/keys", NULL);
    const char *want = jws_keyring_signing_kid(fixture_keys());
    const char *x = NULL;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(res->json, "keys"), i, k)
    if (want && strcmp(json_string_value(json_object_get(k, "kid")) ? json_string_value(json_object_get(k, "kid")) : "",
                       want) == 0)
        x = json_string_value(json_object_get(k, "x"));
    CHECK(x != NULL);
    CHECK_INT(fixture_write_public_pem(dir, x), 32);

    json_t *claims = receipt_claims();
    char *token = sign_here(claims);
    CHECK(fixture_openssl_verifies(dir, token));
    /* one changed byte in the signed input (the payload), and in the signature */
    char *p = strchr(token, '.') + 4;
    char saved = *p;
    *p = saved == 'A' ? 'B' : 'A';
    CHECK(!fixture_openssl_verifies(dir, token));
    *p = saved;
    p = strrchr(token, '.') + 20;
    saved = *p;
    *p = saved == 'A' ? 'B' : 'A';
    CHECK(!fixture_openssl_verifies(dir, token));
    *p = saved;
    /* and the pristine token still verifies (the checks above were not passing by accident) */
    CHECK(fixture_openssl_verifies(dir, token));
    fixture_openssl_done(dir);
    free(token);
    json_decref(claims);
    http_response_free(res);
}

int main(void)
{
    fixture_keys();
    RUN(test_keys_published);
    RUN(test_verify_signed_here);
    RUN(test_verify_refusals);
    RUN(test_openssl_cli_verifies);
    fixture_close();
    return check_finish();
}

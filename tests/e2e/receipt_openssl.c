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

#include <openssl/evp.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/provider.h"
#include "tests/support/stack_env.h"

#define PRICE_CENTS 1999

/* ---- helpers ---------------------------------------------------------------------------------- */

/* base64url (no padding) -> bytes through OpenSSL's standard base64 decoder, not our jws code. */
static int b64url_to_bytes(const char *in, size_t len, unsigned char *out, size_t cap)
{
    if (len % 4 == 1)
        return -1;
    size_t padded = (len + 3) / 4 * 4;
    char *std = malloc(padded + 1);
    unsigned char *buf = malloc(padded + 1);
    if (!std || !buf) {
        free(std);
        free(buf);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    for (size_t i = len; i < padded; i++)
        std[i] = '=';
    std[padded] = '\0';
    int n = EVP_DecodeBlock(buf, (const unsigned char *)std, (int)padded);
    free(std);
    if (n >= 0)
        n -= (int)(padded - len); /* EVP_DecodeBlock counts the padding as zero bytes */
    if (n < 0 || (size_t)n > cap) {
        free(buf);
        return -1;
    }
    memcpy(out, buf, (size_t)n);
    free(buf);
    return n;
}

/* One base64url segment decoded and parsed as a JSON object (NULL otherwise). */
static json_t *segment_json(const char *seg, size_t len)
{
    unsigned char *buf = malloc(len + 4);
    if (!buf)
        return NULL;
    int n = b64url_to_bytes(seg, len, buf, len + 4);
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

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 8192);
    if (buf)
        (void)fread(buf, 1, 8191, f);
    fclose(f);
    return buf;
}

/* Runs `openssl pkeyutl -verify` on token's signing input ("<header>.<payload>") and its raw
 * signature bytes with dir/pub.pem. Returns 1 only when openssl exits 0 AND says so. */
static int openssl_verifies(const char *dir, const char *token)
{
    const char *last_dot = strrchr(token, '.');
    if (!last_dot)
        return 0;
    char path[512], cmd[2048];
    snprintf(path, sizeof path, "%s/input", dir);
    write_file(path, token, (size_t)(last_dot - token));
    unsigned char sig[128];
    int sig_len = b64url_to_bytes(last_dot + 1, strlen(last_dot + 1), sig, sizeof sig);
    if (sig_len < 0)
        return 0;
    snprintf(path, sizeof path, "%s/sig", dir);
    write_file(path, sig, (size_t)sig_len);
    snprintf(cmd, sizeof cmd,
             "openssl pkeyutl -verify -pubin -inkey %s/pub.pem -rawin -in %s/input -sigfile %s/sig >%s/out 2>&1", dir,
             dir, dir, dir);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/out", dir);
    char *out = read_text(path);
    int said = out && strstr(out, "Signature Verified Successfully") != NULL;
    free(out);
    return rc == 0 && said;
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
    /* SubjectPublicKeyInfo for Ed25519: fixed 12-byte DER prefix + the 32 raw bytes */
    unsigned char der[12 + 32];
    static const unsigned char spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                  0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    memcpy(der, spki_prefix, sizeof spki_prefix);
    int raw_len = x ? b64url_to_bytes(x, strlen(x), der + 12, 32) : -1;
    CHECK_INT(raw_len, 32);
    unsigned char pem_body[80];
    EVP_EncodeBlock(pem_body, der, (int)sizeof der);
    char pem[256], fpath[512];
    int pem_len = snprintf(pem, sizeof pem, "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n", pem_body);
    snprintf(fpath, sizeof fpath, "%s/pub.pem", dir);
    write_file(fpath, pem, (size_t)pem_len);

    /* the real receipt verifies */
    CHECK(openssl_verifies(dir, token));
    /* one changed byte in the payload: refused */
    char *p = (char *)dot1 + 1 + (size_t)(dot2 - dot1 - 1) / 2;
    char saved = *p;
    *p = saved == 'A' ? 'B' : 'A';
    CHECK(!openssl_verifies(dir, token));
    *p = saved;
    /* one changed byte of the signature itself (decoded, so the change is not lost in the padding bits) */
    {
        unsigned char sig[128];
        int n = b64url_to_bytes(dot2 + 1, strlen(dot2 + 1), sig, sizeof sig);
        CHECK_INT(n, 64);
        if (n == 64) {
            snprintf(fpath, sizeof fpath, "%s/input", dir);
            write_file(fpath, token, (size_t)(dot2 - token));
            sig[17] ^= 0x01;
            snprintf(fpath, sizeof fpath, "%s/sig", dir);
            write_file(fpath, sig, (size_t)n);
            char cmd[2048];
            snprintf(cmd, sizeof cmd,
                     "openssl pkeyutl -verify -pubin -inkey %s/pub.pem -rawin -in %s/input -sigfile %s/sig "
                     ">%s/out 2>&1",
                     dir, dir, dir, dir);
            CHECK(system(cmd) != 0);
        }
    }
    /* and the pristine receipt still verifies (the refusals were not passing by accident) */
    CHECK(openssl_verifies(dir, token));
    if (check_failures) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "cat %s/out %s/pub.pem >&2", dir, dir);
        if (system(cmd) != 0)
            fprintf(stderr, "  (no openssl output)\n");
        fprintf(stderr, "  receipt: %s\n", token);
    }
    const char *files[] = {"pub.pem", "input", "sig", "out"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        snprintf(fpath, sizeof fpath, "%s/%s", dir, files[f]);
        unlink(fpath);
    }
    rmdir(dir);
out:
    http_response_free(res);
    json_decref(jheader);
    json_decref(claims);
    free(token);
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    http_set_timeout_ms(60000);
    if (system("openssl version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "the openssl command-line tool is required\n");
        return 2;
    }
    RUN(test_real_receipt_verifies_with_openssl);
    return check_finish();
}

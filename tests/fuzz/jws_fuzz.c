/* libFuzzer target for core/jws verification. One Ed25519 keyring is generated once at start
 * (keystore_generate into a temporary directory, removed at exit). The first input byte picks a mode:
 *   0: the rest is a token, verified as is;
 *   1: the rest is "<header>\n<payload>" raw bytes: the fuzzer builds "b64(header).b64(payload)" and
 *      signs it with the keyring's private key (OpenSSL directly), "%k" in the header becoming the real
 *      kid, so header and claims parsing behind a valid signature are reachable;
 *   2: the rest is a claims JSON object: jws_sign then jws_verify must give it back.
 * Invariants besides memory safety and no leaks: jws_verify returns claims exactly when no error is
 * set; verified claims are a JSON object (in mode 1, the payload itself; in mode 2, the signed claims)
 * and verifying the same token again gives them again; a failure is ERROR_UNAUTHORIZED. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/codec.h"
#include "core/jws.h"
#include "core/keystore.h"

static jws_keyring *fuzz_keys;
static EVP_PKEY *fuzz_private;
static char fuzz_dir[] = "/tmp/jws-fuzz-XXXXXX";
static char fuzz_kid[KEYSTORE_KID_LEN + 1];

static void jws_fuzz_cleanup(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.key.pem", fuzz_dir, fuzz_kid);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.pub.pem", fuzz_dir, fuzz_kid);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.created", fuzz_dir, fuzz_kid);
    unlink(path);
    rmdir(fuzz_dir);
    jws_keyring_free(fuzz_keys);
    EVP_PKEY_free(fuzz_private);
    fuzz_keys = NULL;
    fuzz_private = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mkt_error err = MKT_ERROR_INIT;
    if (!mkdtemp(fuzz_dir) || keystore_generate(fuzz_dir, fuzz_kid, &err) < 0) {
        fprintf(stderr, "jws_fuzz: cannot make a key: %s\n", err.message ? err.message : "mkdtemp");
        abort();
    }
    fuzz_keys = jws_keyring_load(fuzz_dir, &err);
    if (!fuzz_keys || jws_keyring_count(fuzz_keys) != 1 || !jws_keyring_signing_kid(fuzz_keys) ||
        strcmp(jws_keyring_signing_kid(fuzz_keys), fuzz_kid) != 0) {
        fprintf(stderr, "jws_fuzz: cannot load the keyring: %s\n", err.message ? err.message : "?");
        abort();
    }
    char path[256];
    snprintf(path, sizeof path, "%s/%s.key.pem", fuzz_dir, fuzz_kid);
    FILE *f = fopen(path, "r");
    fuzz_private = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!fuzz_private)
        abort();
    atexit(jws_fuzz_cleanup);
    return 0;
}

/* Verifies token and checks the invariants; returns the claims (caller decrefs) or NULL. */
static json_t *jws_fuzz_verify(const char *token)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *claims = jws_verify(fuzz_keys, token, &err);
    if (!claims == !error_is_set(&err))
        abort();
    if (claims && !json_is_object(claims))
        abort();
    if (!claims && err.kind != ERROR_UNAUTHORIZED)
        abort();
    error_clear(&err);
    if (claims) {
        /* verification has no state: a verified token verifies again to the same claims */
        json_t *again = jws_verify(fuzz_keys, token, NULL);
        if (!again || !json_equal(again, claims))
            abort();
        json_decref(again);
    }
    return claims;
}

static char *jws_fuzz_b64(const unsigned char *in, size_t len)
{
    char *out = malloc(codec_base64_encoded_len(CODEC_BASE64URL, len) + 1);
    if (out)
        codec_base64_encode(CODEC_BASE64URL, in, len, out);
    return out;
}

/* mode 1: header and payload chosen by the fuzzer, signed for real. */
static void jws_fuzz_signed(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return;
    size_t header_len = (size_t)(nl - data), payload_len = size - header_len - 1;
    const uint8_t *payload = nl + 1;
    /* "%k" -> kid (first occurrence) */
    unsigned char *header = malloc(header_len + KEYSTORE_KID_LEN + 1);
    size_t hl = 0;
    int replaced = 0;
    for (size_t i = 0; i < header_len; i++) {
        if (!replaced && i + 1 < header_len && data[i] == '%' && data[i + 1] == 'k') {
            memcpy(header + hl, fuzz_kid, KEYSTORE_KID_LEN);
            hl += KEYSTORE_KID_LEN;
            i++;
            replaced = 1;
        } else {
            header[hl++] = data[i];
        }
    }
    char *h64 = jws_fuzz_b64(header, hl), *p64 = jws_fuzz_b64(payload, payload_len);
    free(header);
    size_t input_len = strlen(h64) + 1 + strlen(p64);
    char *token = malloc(input_len + 1 + 88 + 1);
    snprintf(token, input_len + 1, "%s.%s", h64, p64);
    free(h64);
    free(p64);
    unsigned char sig[64];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, fuzz_private) != 1 ||
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)token, input_len) != 1 || sig_len != 64)
        abort();
    EVP_MD_CTX_free(ctx);
    token[input_len] = '.';
    codec_base64_encode(CODEC_BASE64URL, sig, sig_len, token + input_len + 1);
    json_t *claims = jws_fuzz_verify(token);
    if (claims) {
        /* what verified is exactly the payload that was signed */
        json_error_t jerr;
        json_t *want = json_loadb((const char *)payload, payload_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!want || !json_equal(want, claims))
            abort();
        json_decref(want);
        json_decref(claims);
    }
    free(token);
}

/* mode 2: a claims object signed by jws_sign verifies and comes back unchanged. */
static void jws_fuzz_roundtrip(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *claims = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return;
    }
    mkt_error err = MKT_ERROR_INIT;
    char *token = jws_sign(fuzz_keys, claims, &err);
    if (!token)
        abort(); /* the keyring has a private key: signing an object cannot fail */
    json_t *back = jws_fuzz_verify(token);
    if (strlen(token) <= JWS_MAX_TOKEN && (!back || !json_equal(back, claims)))
        abort();
    json_decref(back);
    free(token);
    json_decref(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 2 * JWS_MAX_TOKEN)
        return 0;
    uint8_t mode = data[0] % 3;
    data++;
    size--;
    if (mode == 0) {
        char *token = malloc(size + 1);
        memcpy(token, data, size);
        token[size] = '\0';
        json_decref(jws_fuzz_verify(token));
        free(token);
    } else if (mode == 1) {
        jws_fuzz_signed(data, size);
    } else {
        jws_fuzz_roundtrip(data, size);
    }
    return 0;
}

#include "core/webhook.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/codec.h"

int webhook_parse_header(const char *header, webhook_signature *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    if (!header || !*header)
        return error_set(err, ERROR_UNAUTHORIZED, "missing Marketplace-Signature header");
    size_t header_len = strlen(header);
    if (header_len > WEBHOOK_HEADER_MAX)
        return error_set(err, ERROR_UNAUTHORIZED, "signature header too long");
    int have_t = 0;
    const char *p = header;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t item_len = end ? (size_t)(end - p) : strlen(p);
        /* tolerate spaces after commas, as providers' headers often carry them */
        while (item_len && *p == ' ') {
            p++;
            item_len--;
        }
        const char *eq = memchr(p, '=', item_len);
        if (!eq || eq == p)
            return error_set(err, ERROR_UNAUTHORIZED, "malformed signature header");
        size_t key_len = (size_t)(eq - p), value_len = item_len - key_len - 1;
        const char *value = eq + 1;
        if (key_len == 1 && *p == 't') {
            if (have_t || value_len == 0 || value_len > 18)
                return error_set(err, ERROR_UNAUTHORIZED, "malformed signature timestamp");
            int64_t t = 0;
            for (size_t i = 0; i < value_len; i++) {
                if (value[i] < '0' || value[i] > '9')
                    return error_set(err, ERROR_UNAUTHORIZED, "malformed signature timestamp");
                t = t * 10 + (value[i] - '0');
            }
            out->timestamp = t;
            have_t = 1;
        } else if (key_len == 2 && p[0] == 'v' && p[1] == '1') {
            if (value_len != 64)
                return error_set(err, ERROR_UNAUTHORIZED, "malformed v1 signature");
            if (out->count < WEBHOOK_MAX_SIGNATURES) {
                if (codec_hex_decode(value, value_len, out->v1[out->count], sizeof out->v1[0]) != 32)
                    return error_set(err, ERROR_UNAUTHORIZED, "malformed v1 signature");
                out->count++;
            }
        } /* other schemes are ignored: a provider may add them */
        if (!end)
            break;
        p = end + 1;
        if (!*p)
            return error_set(err, ERROR_UNAUTHORIZED, "malformed signature header");
    }
    if (!have_t)
        return error_set(err, ERROR_UNAUTHORIZED, "signature header has no timestamp");
    if (out->count == 0)
        return error_set(err, ERROR_UNAUTHORIZED, "signature header has no v1 signature");
    return 0;
}

/* HMAC-SHA256(secret, "<t>.<body>") without copying the body: the MAC is fed in pieces. */
static int webhook_mac(const char *secret, size_t secret_len, int64_t t, const char *body, size_t len,
                       unsigned char mac[32])
{
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%" PRId64 ".", t);
    EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
    size_t out_len = 0;
    int ok = ctx && n > 0 && EVP_MAC_init(ctx, (const unsigned char *)secret, secret_len, params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)prefix, (size_t)n) == 1 &&
             (len == 0 || EVP_MAC_update(ctx, (const unsigned char *)body, len) == 1) &&
             EVP_MAC_final(ctx, mac, &out_len, 32) == 1 && out_len == 32;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(alg);
    return ok ? 0 : -1;
}

int webhook_verify(const char *secrets, const char *header, const char *body, size_t len, time_t now,
                   int64_t tolerance, mkt_error *err)
{
    webhook_signature sig;
    if (webhook_parse_header(header, &sig, err) < 0)
        return -1;
    int64_t skew = (int64_t)now - sig.timestamp;
    if (skew > tolerance || skew < -tolerance)
        return error_set(err, ERROR_UNAUTHORIZED, "signature timestamp outside the %" PRId64 " s tolerance",
                         tolerance);
    int matched = 0;
    const char *p = secrets ? secrets : "";
    while (*p) {
        const char *end = strchr(p, ',');
        size_t secret_len = end ? (size_t)(end - p) : strlen(p);
        if (secret_len > 0 && secret_len <= WEBHOOK_SECRET_MAX) {
            unsigned char mac[32];
            if (webhook_mac(p, secret_len, sig.timestamp, body, len, mac) < 0)
                return error_set(err, ERROR_INTERNAL, "HMAC failed");
            /* every candidate is compared in full, constant time, whatever matched before */
            for (size_t i = 0; i < sig.count; i++)
                matched |= CRYPTO_memcmp(mac, sig.v1[i], 32) == 0;
            OPENSSL_cleanse(mac, sizeof mac);
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (!matched)
        return error_set(err, ERROR_UNAUTHORIZED, "no valid signature");
    return 0;
}

int webhook_sign(const char *secret, int64_t t, const char *body, size_t len, char out[WEBHOOK_SIGN_MAX])
{
    unsigned char mac[32];
    if (!secret || webhook_mac(secret, strlen(secret), t, body, len, mac) < 0)
        return -1;
    int n = snprintf(out, WEBHOOK_SIGN_MAX, "t=%" PRId64 ",v1=", t);
    codec_hex_encode(mac, sizeof mac, out + n);
    return 0;
}

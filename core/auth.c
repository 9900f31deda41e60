#include "core/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"

#define AUTH_SALT_LEN 16
#define AUTH_KEY_LEN 32
#define AUTH_SALT_MAX 64

/* Outer limits for parameters, whether they come from the config or from a stored hash. A stored
 * string is outside input as far as this file knows: without these a tampered row could make one
 * login burn gigabytes or minutes. */
#define AUTH_LN_MAX 24
#define AUTH_R_MAX 64
#define AUTH_P_MAX 16
#define AUTH_MEM_MAX (UINT64_C(1) << 30)
#define AUTH_MEM_SLACK (UINT64_C(1) << 20)

/* What EVP_PBE_scrypt allocates (B: 128·r·p, V and X: 128·r·(N+2)), plus slack for its own use;
 * maxmem is set from this so OpenSSL's 32 MiB default never refuses a valid configuration. */
static uint64_t auth_scrypt_memory(uint64_t n, uint64_t r, uint64_t p)
{
    return 128 * r * p + 128 * r * (n + 2) + AUTH_MEM_SLACK;
}

/* log2 of n when n is a power of two within limits, else -1. */
static int auth_scrypt_ln(uint64_t n)
{
    for (int ln = 1; ln <= AUTH_LN_MAX; ln++)
        if (n == UINT64_C(1) << ln)
            return ln;
    return -1;
}

static int auth_scrypt_params_ok(auth_scrypt_params params)
{
    if (auth_scrypt_ln(params.n) < 0 || params.r < 1 || params.r > AUTH_R_MAX || params.p < 1 || params.p > AUTH_P_MAX)
        return 0;
    return auth_scrypt_memory(params.n, params.r, params.p) <= AUTH_MEM_MAX + AUTH_MEM_SLACK;
}

static int auth_scrypt(const char *password, size_t password_len, const unsigned char *salt, size_t salt_len,
                       auth_scrypt_params params, unsigned char key[AUTH_KEY_LEN])
{
    return EVP_PBE_scrypt(password, password_len, salt, salt_len, params.n, params.r, params.p,
                          auth_scrypt_memory(params.n, params.r, params.p), key, AUTH_KEY_LEN) == 1
               ? 0
               : -1;
}

char *auth_password_hash(const char *password, size_t password_len, auth_scrypt_params params, mkt_error *err)
{
    if (!auth_scrypt_params_ok(params)) {
        error_set(err, ERROR_INTERNAL, "scrypt parameters out of range (N a power of two up to 2^%d, r 1..%d, p 1..%d)",
                  AUTH_LN_MAX, AUTH_R_MAX, AUTH_P_MAX);
        return NULL;
    }
    unsigned char salt[AUTH_SALT_LEN], key[AUTH_KEY_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1) {
        error_set(err, ERROR_INTERNAL, "RAND_bytes failed");
        return NULL;
    }
    if (auth_scrypt(password ? password : "", password ? password_len : 0, salt, sizeof salt, params, key) < 0) {
        error_set(err, ERROR_INTERNAL, "EVP_PBE_scrypt failed");
        return NULL;
    }
    char salt_text[AUTH_SALT_LEN * 2], key_text[AUTH_KEY_LEN * 2];
    codec_base64_encode(CODEC_BASE64_NOPAD, salt, sizeof salt, salt_text);
    codec_base64_encode(CODEC_BASE64_NOPAD, key, sizeof key, key_text);
    OPENSSL_cleanse(key, sizeof key);
    char *out = NULL;
    if (asprintf(&out, "$scrypt$ln=%d,r=%u,p=%u$%s$%s", auth_scrypt_ln(params.n), (unsigned)params.r,
                 (unsigned)params.p, salt_text, key_text) < 0) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    return out;
}

/* Reads "<name>=<1..3 digits>" followed by the terminator; advances *s past the terminator. */
static int auth_parse_param(const char **s, const char *name, char terminator, unsigned *out)
{
    size_t name_len = strlen(name);
    if (strncmp(*s, name, name_len) != 0 || (*s)[name_len] != '=')
        return -1;
    const char *p = *s + name_len + 1;
    unsigned v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > 3)
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (digits == 0 || *p != terminator)
        return -1;
    *s = p + 1;
    *out = v;
    return 0;
}

typedef struct {
    auth_scrypt_params params;
    unsigned char salt[AUTH_SALT_MAX];
    size_t salt_len;
    unsigned char key[AUTH_KEY_LEN];
} auth_stored;

static int auth_parse_stored(const char *stored, auth_stored *out)
{
    static const char prefix[] = "$scrypt$";
    if (!stored || strncmp(stored, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *s = stored + sizeof prefix - 1;
    unsigned ln, r, p;
    if (auth_parse_param(&s, "ln", ',', &ln) < 0 || auth_parse_param(&s, "r", ',', &r) < 0 ||
        auth_parse_param(&s, "p", '$', &p) < 0)
        return -1;
    if (ln < 1 || ln > AUTH_LN_MAX)
        return -1;
    out->params = (auth_scrypt_params){.n = UINT64_C(1) << ln, .r = r, .p = p};
    if (!auth_scrypt_params_ok(out->params))
        return -1;
    const char *dollar = strchr(s, '$');
    if (!dollar)
        return -1;
    long salt_len = codec_base64_decode(CODEC_BASE64_NOPAD, s, (size_t)(dollar - s), out->salt, sizeof out->salt);
    if (salt_len < AUTH_SALT_LEN)
        return -1;
    out->salt_len = (size_t)salt_len;
    const char *key_text = dollar + 1;
    if (codec_base64_decode(CODEC_BASE64_NOPAD, key_text, strlen(key_text), out->key, sizeof out->key) != AUTH_KEY_LEN)
        return -1;
    return 0;
}

int auth_password_verify(const char *password, size_t password_len, const char *stored)
{
    auth_stored parsed;
    if (auth_parse_stored(stored, &parsed) < 0)
        return 0;
    unsigned char key[AUTH_KEY_LEN];
    int ok = auth_scrypt(password ? password : "", password ? password_len : 0, parsed.salt, parsed.salt_len,
                         parsed.params, key) == 0 &&
             CRYPTO_memcmp(key, parsed.key, AUTH_KEY_LEN) == 0;
    OPENSSL_cleanse(key, sizeof key);
    return ok;
}

int auth_token_new(char text[AUTH_TOKEN_TEXT_LEN + 1], unsigned char hash[AUTH_TOKEN_HASH_LEN], mkt_error *err)
{
    unsigned char raw[32];
    _Static_assert(AUTH_TOKEN_TEXT_LEN == 43, "token text is base64url of 32 bytes");
    if (RAND_bytes(raw, sizeof raw) != 1)
        return error_set(err, ERROR_INTERNAL, "RAND_bytes failed");
    codec_base64_encode(CODEC_BASE64URL, raw, sizeof raw, text);
    OPENSSL_cleanse(raw, sizeof raw);
    auth_token_hash(text, AUTH_TOKEN_TEXT_LEN, hash);
    return 0;
}

void auth_token_hash(const char *text, size_t len, unsigned char hash[AUTH_TOKEN_HASH_LEN])
{
    SHA256((const unsigned char *)(text ? text : ""), text ? len : 0, hash);
}

int auth_token_well_formed(const char *text)
{
    if (!text || strlen(text) != AUTH_TOKEN_TEXT_LEN)
        return 0;
    unsigned char raw[32];
    return codec_base64_decode(CODEC_BASE64URL, text, AUTH_TOKEN_TEXT_LEN, raw, sizeof raw) == (long)sizeof raw;
}

int auth_api_key_new(char text[AUTH_API_KEY_TEXT_LEN + 1], unsigned char hash[AUTH_TOKEN_HASH_LEN], mkt_error *err)
{
    unsigned char ignored[AUTH_TOKEN_HASH_LEN];
    memcpy(text, AUTH_API_KEY_PREFIX, AUTH_API_KEY_PREFIX_LEN);
    if (auth_token_new(text + AUTH_API_KEY_PREFIX_LEN, ignored, err) < 0)
        return -1;
    auth_token_hash(text, AUTH_API_KEY_TEXT_LEN, hash);
    return 0;
}

int auth_is_api_key(const char *text)
{
    return text && strncmp(text, AUTH_API_KEY_PREFIX, AUTH_API_KEY_PREFIX_LEN) == 0;
}

int auth_api_key_well_formed(const char *text)
{
    return auth_is_api_key(text) && auth_token_well_formed(text + AUTH_API_KEY_PREFIX_LEN);
}

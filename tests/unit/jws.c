/* core/jws: keyring loading (kid from the key, never the file name; newest private key signs;
 * retired public keys still verify), sign/verify round trip, tampering of every segment, refused
 * algorithms and malformed tokens, time and audience claims, JWKS shape. Keys are generated in a
 * fresh temp dir per test with keystore_generate. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/codec.h"
#include "core/jws.h"
#include "core/keystore.h"
#include "tests/support/check.h"
#include "tests/support/tmpdir.h"

/* ---- helpers ------------------------------------------------------------------------------------ */

static void new_key(const char *dir, char kid[KEYSTORE_KID_LEN + 1])
{
    mkt_error err = MKT_ERROR_INIT;
    if (keystore_generate(dir, kid, &err) < 0) {
        fprintf(stderr, "keystore_generate: %s\n", err.message);
        exit(2);
    }
}

/* Sets the mtime of dir/<kid><suffix> to t, so "newest" does not depend on the clock's resolution. */
static void set_mtime(const char *dir, const char *kid, const char *suffix, time_t t)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, kid, suffix);
    struct timeval tv[2] = {{t, 0}, {t, 0}};
    CHECK(utimes(path, tv) == 0);
}

static jws_keyring *load(const char *dir)
{
    mkt_error err = MKT_ERROR_INIT;
    jws_keyring *kr = jws_keyring_load(dir, &err);
    if (!kr)
        fprintf(stderr, "  jws_keyring_load: %s\n", err.message);
    CHECK(kr != NULL);
    error_clear(&err);
    return kr;
}

static json_t *sample_claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:I, s:I}", "iss", "marketplace", "sub", "42", "jti",
                     "r-1", "iat", (json_int_t)time(NULL), "txn", "7", "tool", "9", "amount_cents", (json_int_t)1999,
                     "currency", "USD", "developer_cents", (json_int_t)1399, "platform_cents", (json_int_t)600);
}

static char *sign(const jws_keyring *kr, const json_t *claims)
{
    mkt_error err = MKT_ERROR_INIT;
    char *token = jws_sign(kr, claims, &err);
    if (!token)
        fprintf(stderr, "  jws_sign: %s\n", err.message);
    error_clear(&err);
    return token;
}

/* 1 when token verifies; otherwise 0, and the error must be a 401. */
static int verifies(const jws_keyring *kr, const char *token)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *claims = jws_verify(kr, token, &err);
    int ok = claims != NULL;
    if (!ok)
        CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    json_decref(claims);
    error_clear(&err);
    return ok;
}

static char *b64(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(codec_base64_encoded_len(CODEC_BASE64URL, n) + 1);
    codec_base64_encode(CODEC_BASE64URL, s, n, out);
    return out;
}

/* Builds "<b64 header>.<payload segment>.<sig segment>" from a raw header text. */
static char *with_header(const char *token, const char *header_json)
{
    char *h = b64(header_json);
    const char *rest = strchr(token, '.');
    char *out = malloc(strlen(h) + strlen(rest) + 1);
    strcpy(out, h);
    strcat(out, rest);
    free(h);
    return out;
}

/* The kid in a token's header. */
static char *header_kid(const char *token)
{
    size_t len = (size_t)(strchr(token, '.') - token);
    unsigned char raw[512];
    long n = codec_base64_decode(CODEC_BASE64URL, token, len, raw, sizeof raw);
    json_t *h = n > 0 ? json_loadb((const char *)raw, (size_t)n, 0, NULL) : NULL;
    char *kid = json_string_value(json_object_get(h, "kid")) ? strdup(json_string_value(json_object_get(h, "kid")))
                                                              : NULL;
    json_decref(h);
    return kid;
}

/* The set-up most tests start from: one key in a fresh temp dir, its keyring, the sample claims
 * and a token signed with them. */
typedef struct {
    char dir[64], kid[KEYSTORE_KID_LEN + 1];
    jws_keyring *kr;
    json_t *claims;
    char *token;
} signed_case;

static void signed_open(signed_case *c)
{
    tmpdir_make(c->dir, sizeof c->dir, "jws-test");
    new_key(c->dir, c->kid);
    c->kr = load(c->dir);
    c->claims = sample_claims();
    c->token = sign(c->kr, c->claims);
}

static void signed_close(signed_case *c)
{
    free(c->token);
    json_decref(c->claims);
    jws_keyring_free(c->kr);
    tmpdir_remove(c->dir);
}

/* 1 when the token, with its header replaced by header_fmt filled with kid, verifies. */
static int verifies_with_header(const jws_keyring *kr, const char *token, const char *header_fmt, const char *kid)
{
    char header[256];
    snprintf(header, sizeof header, header_fmt, kid);
    char *t = with_header(token, header);
    int ok = verifies(kr, t);
    free(t);
    return ok;
}

/* ---- tests -------------------------------------------------------------------------------------- */

static void test_round_trip(void)
{
    signed_case c;
    signed_open(&c);
    CHECK_INT(jws_keyring_count(c.kr), 1);
    CHECK_STR(jws_keyring_signing_kid(c.kr), c.kid);
    CHECK(c.token != NULL);
    if (c.token) {
        /* header is exactly what README "Receipts and keys" shows */
        char *expect = NULL;
        CHECK(asprintf(&expect, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JWT\"}", c.kid) > 0);
        char *h = b64(expect);
        CHECK(strncmp(c.token, h, strlen(h)) == 0 && c.token[strlen(h)] == '.');
        free(h);
        free(expect);
        CHECK(strchr(c.token, '=') == NULL && strchr(c.token, '+') == NULL && strchr(c.token, '/') == NULL);
        mkt_error err = MKT_ERROR_INIT;
        json_t *back = jws_verify(c.kr, c.token, &err);
        CHECK(back != NULL);
        CHECK(json_equal(back, c.claims));
        json_decref(back);
        error_clear(&err);
    }
    signed_close(&c);
}

static void test_tamper_every_byte(void)
{
    signed_case c;
    signed_open(&c);
    char *token = c.token;
    CHECK(token && verifies(c.kr, token));
    /* Every position of every segment, changed to another base64url character (and to '.'/'='
     * where that is not the alphabet): none may verify. Canonical decoding matters here: the last
     * character of the signature has unused bits. */
    size_t len = token ? strlen(token) : 0;
    int accepted = 0;
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.')
            continue;
        char saved = token[i];
        const char *subs[] = {"A", "B", "g", "_", "=", "+"};
        for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
            if (subs[s][0] == saved)
                continue;
            token[i] = subs[s][0];
            if (verifies(c.kr, token)) {
                fprintf(stderr, "  accepted with byte %zu changed to %c\n", i, subs[s][0]);
                accepted++;
            }
        }
        token[i] = saved;
    }
    CHECK_INT(accepted, 0);
    CHECK(token && verifies(c.kr, token));
    signed_close(&c);
}

static void test_swapped_segments(void)
{
    signed_case c;
    signed_open(&c);
    json_t *b = json_pack("{s:s, s:I}", "sub", "43", "amount_cents", (json_int_t)1);
    char *ta = c.token, *tb = sign(c.kr, b);
    /* payload of b with the signature of a */
    char *mix = malloc(strlen(ta) + strlen(tb) + 1);
    const char *pb = strchr(tb, '.');
    const char *sa = strrchr(ta, '.');
    size_t hb = (size_t)(pb - tb);
    memcpy(mix, tb, hb);
    size_t pl = (size_t)(strrchr(tb, '.') - pb);
    memcpy(mix + hb, pb, pl);
    strcpy(mix + hb + pl, sa);
    CHECK(!verifies(c.kr, mix));
    free(mix);
    free(tb);
    json_decref(b);
    signed_close(&c);
}

static void test_unknown_kid_and_other_key(void)
{
    /* ours verifies; the token is signed by another key in another directory */
    signed_case ours, other;
    signed_open(&ours);
    signed_open(&other);
    const char *token = other.token;
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = jws_verify(ours.kr, token, &err);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    CHECK_STR(err.message, "unknown kid");
    error_clear(&err);
    /* the other key's signature under our kid: the kid is known, the signature is not ours */
    char header[128];
    snprintf(header, sizeof header, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JWT\"}", ours.kid);
    char *forged = with_header(token, header);
    out = jws_verify(ours.kr, forged, &err);
    CHECK(out == NULL);
    CHECK_STR(err.message, "bad signature");
    error_clear(&err);
    /* an empty or NULL keyring verifies nothing */
    jws_keyring *empty = jws_keyring_empty();
    CHECK(!verifies(empty, token));
    CHECK(!verifies(NULL, token));
    jws_keyring_free(empty);
    free(forged);
    signed_close(&ours);
    signed_close(&other);
}

static void test_refused_headers(void)
{
    signed_case c;
    signed_open(&c);
    const char *templates[] = {
        "{\"alg\":\"none\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
        "{\"alg\":\"RS256\",\"kid\":\"%s\"}",
        "{\"alg\":\"eddsa\",\"kid\":\"%s\"}",
        "{\"alg\":\"EdDSA \",\"kid\":\"%s\"}",
        "{\"alg\":[\"EdDSA\"],\"kid\":\"%s\"}",
        "{\"kid\":\"%s\"}",
        "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"crit\":[\"b64\"],\"b64\":false}",
        "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JOSE+JSON\"}",
        "{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\",\"kid\":\"%s\"}",
        "[\"EdDSA\",\"%s\"]",
        "{\"alg\":\"EdDSA\",\"kid\":\"%s\"",
    };
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (verifies_with_header(c.kr, c.token, templates[i], c.kid)) {
            fprintf(stderr, "  accepted header %s\n", templates[i]);
            check_failures++;
        }
    /* "alg":"none" with an empty signature, the classic */
    char header[128];
    snprintf(header, sizeof header, "{\"alg\":\"none\",\"kid\":\"%s\"}", c.kid);
    char *t = with_header(c.token, header);
    *(strrchr(t, '.') + 1) = '\0';
    CHECK(!verifies(c.kr, t));
    free(t);
    /* HS256 "signed" with the public key as the HMAC secret would still need an EdDSA signature:
     * also covered above by the alg check, before any key is used. A header that is exactly ours
     * but without typ is fine. The signature covered the original header, so this one fails. */
    CHECK(!verifies_with_header(c.kr, c.token, "{\"alg\":\"EdDSA\",\"kid\":\"%s\"}", c.kid));
    signed_close(&c);
}

/* 1 when token with suffix appended (or prefix prepended) verifies. */
static int verifies_framed(const jws_keyring *kr, const char *prefix, const char *token, const char *suffix)
{
    char *framed = NULL;
    if (asprintf(&framed, "%s%s%s", prefix, token, suffix) < 0)
        return 1;
    int ok = verifies(kr, framed);
    free(framed);
    return ok;
}

static void test_malformed_tokens(void)
{
    signed_case c;
    signed_open(&c);
    const jws_keyring *kr = c.kr;
    const char *token = c.token;
    const char *bad[] = {"", ".", "..", "...", "a", "a.b", "a.b.c", "a.b.c.d", "!!!.@@@.###", "eyJhbGciOiJFZERTQSJ9..x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (verifies(kr, bad[i])) {
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
            check_failures++;
        }
    CHECK(!verifies(kr, NULL));
    size_t len = strlen(token);
    char *copy = strdup(token);
    /* two segments */
    *strrchr(copy, '.') = '\0';
    CHECK(!verifies(kr, copy));
    /* signature one character short */
    strcpy(copy, token);
    copy[len - 1] = '\0';
    CHECK(!verifies(kr, copy));
    free(copy);
    /* four segments; padding, whitespace, standard base64 characters; signature one character or
     * a whole group long */
    CHECK(!verifies_framed(kr, "", token, ".AAAA"));
    CHECK(!verifies_framed(kr, "", token, "="));
    CHECK(!verifies_framed(kr, "", token, " "));
    CHECK(!verifies_framed(kr, " ", token, ""));
    CHECK(!verifies_framed(kr, "", token, "A"));
    CHECK(!verifies_framed(kr, "", token, "AAAA"));
    /* huge: refused before any decoding */
    size_t huge_len = JWS_MAX_TOKEN * 4;
    char *huge = malloc(huge_len + 1);
    memset(huge, 'A', huge_len);
    huge[10] = '.';
    huge[huge_len - 100] = '.';
    huge[huge_len] = '\0';
    mkt_error err = MKT_ERROR_INIT;
    CHECK(jws_verify(kr, huge, &err) == NULL);
    CHECK_STR(err.message, "token too long");
    error_clear(&err);
    free(huge);
    /* payload that is not an object (signed by us, so only the payload check can refuse it) */
    json_t *array = json_array();
    CHECK(jws_sign(kr, array, &err) == NULL); /* sign refuses non-objects too */
    error_clear(&err);
    json_decref(array);
    signed_close(&c);
}

static void test_rotation(void)
{
    char dir[64], old_kid[KEYSTORE_KID_LEN + 1], new_kid[KEYSTORE_KID_LEN + 1];
    tmpdir_make(dir, sizeof dir, "jws-test");
    new_key(dir, old_kid);
    time_t now = time(NULL);
    set_mtime(dir, old_kid, ".key.pem", now - 1000);
    jws_keyring *kr_old = load(dir);
    json_t *claims = sample_claims();
    char *old_token = sign(kr_old, claims);
    jws_keyring_free(kr_old);

    new_key(dir, new_kid);
    set_mtime(dir, new_kid, ".key.pem", now - 10);
    jws_keyring *kr = load(dir);
    CHECK_INT(jws_keyring_count(kr), 2);
    CHECK_STR(jws_keyring_signing_kid(kr), new_kid);
    char *new_token = sign(kr, claims);
    char *signed_kid = header_kid(new_token);
    CHECK_STR(signed_kid, new_kid);
    free(signed_kid);
    CHECK(verifies(kr, new_token));
    CHECK(verifies(kr, old_token)); /* old receipts survive the rotation */

    /* the recorded creation time decides, not the mtime (copies share one: unit.keyring_rotation) */
    set_mtime(dir, old_kid, ".key.pem", now);
    jws_keyring *kr2 = load(dir);
    CHECK_STR(jws_keyring_signing_kid(kr2), new_kid);
    jws_keyring_free(kr2);
    set_mtime(dir, old_kid, ".key.pem", now - 1000);

    /* retire the old key: its private half goes, its public half stays to verify old receipts */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.key.pem", dir, old_kid);
    CHECK(unlink(path) == 0);
    jws_keyring *retired = load(dir);
    CHECK_INT(jws_keyring_count(retired), 2);
    CHECK_STR(jws_keyring_signing_kid(retired), new_kid);
    CHECK(verifies(retired, old_token));
    CHECK(verifies(retired, new_token));
    json_t *jwks = jws_keyring_jwks(retired);
    CHECK_INT(json_array_size(json_object_get(jwks, "keys")), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(jwks, "keys"), 0), "kid")), new_kid);
    json_decref(jwks);
    jws_keyring_free(retired);

    /* and once the public half is gone too, old receipts stop verifying */
    snprintf(path, sizeof path, "%s/%s.pub.pem", dir, old_kid);
    CHECK(unlink(path) == 0);
    jws_keyring *dropped = load(dir);
    CHECK_INT(jws_keyring_count(dropped), 1);
    CHECK(!verifies(dropped, old_token));
    CHECK(verifies(dropped, new_token));
    jws_keyring_free(dropped);

    free(old_token);
    free(new_token);
    json_decref(claims);
    jws_keyring_free(kr);
    tmpdir_remove(dir);
}

static void test_kid_not_from_file_name(void)
{
    char dir[64], kid[KEYSTORE_KID_LEN + 1];
    tmpdir_make(dir, sizeof dir, "jws-test");
    new_key(dir, kid);
    /* as systemd's LoadCredential= presents them, plus a misleading name */
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/%s.key.pem", dir, kid);
    snprintf(to, sizeof to, "%s/signing-key_current.key.pem", dir);
    CHECK(rename(from, to) == 0);
    snprintf(from, sizeof from, "%s/%s.pub.pem", dir, kid);
    snprintf(to, sizeof to, "%s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.pub.pem", dir);
    CHECK(rename(from, to) == 0);
    jws_keyring *kr = load(dir);
    CHECK_INT(jws_keyring_count(kr), 1); /* the .pub.pem is the same key: one entry */
    CHECK_STR(jws_keyring_signing_kid(kr), kid);
    json_t *claims = sample_claims();
    char *token = sign(kr, claims);
    char *token_kid = header_kid(token);
    CHECK_STR(token_kid, kid);
    CHECK(verifies(kr, token));
    free(token_kid);
    free(token);
    json_decref(claims);
    jws_keyring_free(kr);
    tmpdir_remove(dir);
}

/* Puts dir/name in place (a file holding text, or a directory when text is NULL): loading dir must
 * then fail with an error naming it. Removes it again. */
static void check_load_refuses(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (text)
        tmpdir_write(dir, name, text);
    else
        CHECK(mkdir(path, 0700) == 0);
    mkt_error err = MKT_ERROR_INIT;
    CHECK(jws_keyring_load(dir, &err) == NULL);
    CHECK(err.message && strstr(err.message, name) != NULL);
    error_clear(&err);
    if (text)
        unlink(path);
    else
        rmdir(path);
}

static void test_load_errors(void)
{
    char dir[64], kid[KEYSTORE_KID_LEN + 1];
    tmpdir_make(dir, sizeof dir, "jws-test");
    mkt_error err = MKT_ERROR_INIT;
    /* empty and missing directories: an empty keyring, signing unavailable */
    jws_keyring *kr = load(dir);
    CHECK_INT(jws_keyring_count(kr), 0);
    CHECK(jws_keyring_signing_kid(kr) == NULL);
    json_t *claims = sample_claims();
    CHECK(jws_sign(kr, claims, &err) == NULL);
    CHECK_INT(err.kind, ERROR_UNAVAILABLE);
    CHECK_STR(err.message, "no signing key");
    error_clear(&err);
    jws_keyring_free(kr);
    char missing[128];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    kr = load(missing);
    CHECK_INT(jws_keyring_count(kr), 0);
    jws_keyring_free(kr);
    CHECK(jws_keyring_load(NULL, &err) == NULL);
    error_clear(&err);

    /* other files are ignored */
    tmpdir_write(dir, "README", "not a key\n");
    kr = load(dir);
    CHECK_INT(jws_keyring_count(kr), 0);
    jws_keyring_free(kr);

    new_key(dir, kid);
    /* a broken key file is an error naming it */
    check_load_refuses(dir, "broken.key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    /* a public key file holding a private key, or garbage: refused, named */
    check_load_refuses(dir, "junk.pub.pem", "hello\n");
    /* a directory named like a key */
    check_load_refuses(dir, "dir.key.pem", NULL);

    kr = load(dir);
    CHECK_INT(jws_keyring_count(kr), 1);
    jws_keyring_free(kr);
    json_decref(claims);
    tmpdir_remove(dir);
}

static void test_jwks_shape(void)
{
    signed_case c;
    signed_open(&c);
    const char *kid = c.kid;
    json_t *jwks = jws_keyring_jwks(c.kr);
    CHECK(json_is_object(jwks) && json_object_size(jwks) == 1);
    json_t *keys = json_object_get(jwks, "keys");
    CHECK_INT(json_array_size(keys), 1);
    json_t *k = json_array_get(keys, 0);
    CHECK_INT(json_object_size(k), 6);
    CHECK_STR(json_string_value(json_object_get(k, "kty")), "OKP");
    CHECK_STR(json_string_value(json_object_get(k, "crv")), "Ed25519");
    CHECK_STR(json_string_value(json_object_get(k, "alg")), "EdDSA");
    CHECK_STR(json_string_value(json_object_get(k, "use")), "sig");
    CHECK_STR(json_string_value(json_object_get(k, "kid")), kid);
    /* x is the raw 32-byte key, and the kid is its RFC 7638 thumbprint */
    const char *x = json_string_value(json_object_get(k, "x"));
    CHECK(x && strlen(x) == 43);
    unsigned char raw[40];
    CHECK_INT(x ? codec_base64_decode(CODEC_BASE64URL, x, strlen(x), raw, sizeof raw) : -1, 32);
    char thumb[KEYSTORE_KID_LEN + 1];
    keystore_thumbprint(raw, thumb);
    CHECK_STR(thumb, kid);
    /* no private material anywhere */
    CHECK(json_object_get(k, "d") == NULL);
    json_decref(jwks);
    jwks = jws_keyring_jwks(NULL);
    CHECK_INT(json_array_size(json_object_get(jwks, "keys")), 0);
    json_decref(jwks);
    signed_close(&c);
}

static void test_claims_checks(void)
{
    mkt_error err = MKT_ERROR_INIT;
    time_t now = 1700000000;
    json_t *c = json_pack("{s:I, s:I, s:s}", "iat", (json_int_t)now - 10, "exp", (json_int_t)now + 10, "aud", "payouts");
    CHECK_INT(jws_check_time(c, now, &err), 0);
    CHECK_INT(jws_check_time(c, now + 10, &err), -1);
    CHECK_INT(err.kind, ERROR_GONE);
    error_clear(&err);
    CHECK_INT(jws_check_time(c, now - 10 - JWS_IAT_LEEWAY - 1, &err), -1);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    json_object_set_new(c, "exp", json_string("tomorrow"));
    CHECK_INT(jws_check_time(c, now, &err), -1);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    json_object_del(c, "exp");
    CHECK_INT(jws_check_time(c, now, &err), 0); /* receipts have no exp */

    CHECK_INT(jws_check_audience(c, "payouts", &err), 0);
    CHECK_INT(jws_check_audience(c, "receipts", &err), -1);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    json_object_set_new(c, "aud", json_pack("[s, s]", "x", "payouts"));
    CHECK_INT(jws_check_audience(c, "payouts", &err), 0);
    json_object_del(c, "aud");
    CHECK_INT(jws_check_audience(c, "payouts", &err), -1);
    error_clear(&err);

    json_object_set_new(c, "iss", json_string("marketplace"));
    CHECK_INT(jws_check_issuer(c, "marketplace", &err), 0);
    CHECK_INT(jws_check_issuer(c, "other", &err), -1);
    error_clear(&err);
    json_decref(c);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_tamper_every_byte);
    RUN(test_swapped_segments);
    RUN(test_unknown_kid_and_other_key);
    RUN(test_refused_headers);
    RUN(test_malformed_tokens);
    RUN(test_rotation);
    RUN(test_kid_not_from_file_name);
    RUN(test_load_errors);
    RUN(test_jwks_shape);
    RUN(test_claims_checks);
    return check_finish();
}

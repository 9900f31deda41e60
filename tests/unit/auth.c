/* core/auth: scrypt password hashes and bearer tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/auth.h"
#include "tests/support/check.h"

/* Cheap parameters keep the suite fast; the format and checks are the same as production's. */
static const auth_scrypt_params small = {.n = 1024, .r = 8, .p = 1};

/* Made with Python's hashlib.scrypt and base64 (padding stripped), so the format is checked
 * against an independent encoder rather than against itself. Salt is bytes 0..15. */
static const char vector_ln10[] =
    "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk";
static const char vector_ln9_r4_p2[] =
    "$scrypt$ln=9,r=4,p=2$AAECAwQFBgcICQoLDA0ODw$kdXHRy2PYW4rArtgxSg2rV2J78M9CH6m8cnp6oCuGw0";
static const char vector_password[] = "correct horse battery";

static int verify(const char *password, const char *stored)
{
    return auth_password_verify(password, strlen(password), stored);
}

static char *hash_small(const char *password)
{
    mkt_error err = MKT_ERROR_INIT;
    char *out = auth_password_hash(password, strlen(password), small, &err);
    CHECK(out != NULL);
    CHECK_INT(err.kind, ERROR_NONE);
    error_clear(&err);
    return out;
}

static void test_round_trip(void)
{
    char *stored = hash_small("hunter2hunter2");
    if (!stored)
        return;
    CHECK(strncmp(stored, "$scrypt$ln=10,r=8,p=1$", 22) == 0);
    /* 16-byte salt and 32-byte key, unpadded base64: 22 + 1 + 43 characters after the params. */
    CHECK_INT(strlen(stored), 22 + 22 + 1 + 43);
    CHECK(strchr(stored + 22, '=') == NULL); /* unpadded */
    CHECK_INT(verify("hunter2hunter2", stored), 1);
    free(stored);
}

static void test_wrong_password(void)
{
    char *stored = hash_small("hunter2hunter2");
    if (!stored)
        return;
    CHECK_INT(verify("hunter2hunter3", stored), 0);
    CHECK_INT(verify("hunter2hunter", stored), 0);
    CHECK_INT(verify("hunter2hunter2 ", stored), 0);
    CHECK_INT(verify("", stored), 0);
    CHECK_INT(auth_password_verify(NULL, 0, stored), 0);
    free(stored);
}

static void test_known_vectors(void)
{
    CHECK_INT(verify(vector_password, vector_ln10), 1);
    CHECK_INT(verify("correct horse batterY", vector_ln10), 0);
    /* Other parameters than any config: verify must take them from the string. */
    CHECK_INT(verify(vector_password, vector_ln9_r4_p2), 1);
}

static void test_length_is_explicit(void)
{
    /* Bytes after an embedded NUL count: the length, not strlen, decides. */
    static const char with_nul[] = "abc\0defghijkl";
    mkt_error err = MKT_ERROR_INIT;
    char *stored = auth_password_hash(with_nul, sizeof with_nul - 1, small, &err);
    CHECK(stored != NULL);
    if (stored) {
        CHECK_INT(auth_password_verify(with_nul, sizeof with_nul - 1, stored), 1);
        CHECK_INT(auth_password_verify(with_nul, 3, stored), 0);
    }
    free(stored);
    error_clear(&err);
}

static void test_salted(void)
{
    char *a = hash_small("same password here");
    char *b = hash_small("same password here");
    if (a && b) {
        CHECK(strcmp(a, b) != 0);
        CHECK_INT(verify("same password here", a), 1);
        CHECK_INT(verify("same password here", b), 1);
    }
    free(a);
    free(b);
}

/* Replaces the first occurrence of from with to (same length) in a copy of s. */
static char *replaced(const char *s, const char *from, const char *to)
{
    char *copy = strdup(s);
    char *hit = strstr(copy, from);
    CHECK(hit != NULL);
    if (hit)
        memcpy(hit, to, strlen(to));
    return copy;
}

static void check_tampered(const char *from, const char *to)
{
    char *t = replaced(vector_ln10, from, to);
    if (verify(vector_password, t) != 0) {
        fprintf(stderr, "  tampered hash accepted: %s\n", t);
        check_failures++;
    }
    free(t);
}

static void test_tampered(void)
{
    check_tampered("ln=10", "ln=11");  /* params */
    check_tampered("ln=10", "ln=09");
    check_tampered("r=8", "r=9");
    check_tampered("p=1", "p=2");
    check_tampered("$AAEC", "$AAED");  /* salt */
    check_tampered("$hKGW", "$hKGX");  /* key */
    check_tampered("OWk", "OWg");      /* last key character */
    check_tampered("$scrypt", "$Scrypt");
}

static void test_truncated(void)
{
    /* Every proper prefix of a valid string is refused (and none crashes). */
    size_t len = strlen(vector_ln10);
    char buf[sizeof vector_ln10];
    for (size_t i = 0; i < len; i++) {
        memcpy(buf, vector_ln10, i);
        buf[i] = '\0';
        if (verify(vector_password, buf) != 0) {
            fprintf(stderr, "  prefix of length %zu accepted\n", i);
            check_failures++;
        }
    }
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "$",
        "$scrypt$",
        "$scrypt$ln=10,r=8,p=1$",
        "$scrypt$ln=10,r=8,p=1$$",
        "garbage",
        "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        /* huge, zero, negative or missing parameters */
        "$scrypt$ln=99,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=25,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=4294967296,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=0,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=-1,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=10,r=0,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=10,r=65,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=10,r=8,p=0$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=10,r=8,p=17$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=20,r=64,p=16$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$n=1024,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$r=8,ln=10,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=10,r=8,p=1,x=2$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=10 ,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        /* bad base64: padding, foreign characters, wrong lengths, trailing fields */
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk=",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0O!w$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOW",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWkA",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoL$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk$",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk ",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWl",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (verify(vector_password, bad[i]) != 0) {
            fprintf(stderr, "  malformed hash accepted: %s\n", bad[i]);
            check_failures++;
        }
    }
    CHECK_INT(verify(vector_password, NULL), 0);
    /* A long run of junk is refused without reading past it. */
    size_t big = 1 << 16;
    char *junk = malloc(big + 1);
    memset(junk, '$', big);
    junk[big] = '\0';
    memcpy(junk, "$scrypt$ln=10,r=8,p=1$", 22);
    CHECK_INT(verify(vector_password, junk), 0);
    free(junk);
}

static void test_hash_rejects_bad_params(void)
{
    static const auth_scrypt_params bad[] = {
        {.n = 1000, .r = 8, .p = 1}, /* not a power of two */
        {.n = 0, .r = 8, .p = 1},
        {.n = 1, .r = 8, .p = 1},
        {.n = 1024, .r = 0, .p = 1},
        {.n = 1024, .r = 8, .p = 0},
        {.n = UINT64_C(1) << 40, .r = 8, .p = 1},
        {.n = UINT64_C(1) << 24, .r = 64, .p = 16}, /* far over the memory cap */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mkt_error err = MKT_ERROR_INIT;
        char *out = auth_password_hash("password123", 11, bad[i], &err);
        CHECK(out == NULL);
        CHECK_INT(err.kind, ERROR_INTERNAL);
        free(out);
        error_clear(&err);
    }
}

static int is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void test_tokens(void)
{
    enum { COUNT = 64 };
    char texts[COUNT][AUTH_TOKEN_TEXT_LEN + 1];
    for (int i = 0; i < COUNT; i++) {
        unsigned char hash[AUTH_TOKEN_HASH_LEN], again[AUTH_TOKEN_HASH_LEN];
        mkt_error err = MKT_ERROR_INIT;
        CHECK_INT(auth_token_new(texts[i], hash, &err), 0);
        CHECK_INT(strlen(texts[i]), 43);
        for (size_t k = 0; k < 43; k++)
            CHECK(is_b64url(texts[i][k]));
        CHECK_INT(auth_token_well_formed(texts[i]), 1);
        auth_token_hash(texts[i], strlen(texts[i]), again);
        CHECK(memcmp(hash, again, sizeof hash) == 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(texts[i], texts[j]) != 0);
        error_clear(&err);
    }
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

static void test_token_hash_vector(void)
{
    unsigned char hash[AUTH_TOKEN_HASH_LEN];
    char text[2 * AUTH_TOKEN_HASH_LEN + 1];
    auth_token_hash("abc", 3, hash);
    hex(hash, sizeof hash, text);
    CHECK_STR(text, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    auth_token_hash("", 0, hash);
    hex(hash, sizeof hash, text);
    CHECK_STR(text, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* Deterministic: the same text always gives the same hash. */
    unsigned char again[AUTH_TOKEN_HASH_LEN];
    auth_token_hash("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", 43, hash);
    auth_token_hash("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", 43, again);
    CHECK(memcmp(hash, again, sizeof hash) == 0);
}

static void test_token_well_formed(void)
{
    CHECK_INT(auth_token_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"), 1);
    CHECK_INT(auth_token_well_formed("-_cdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPA"), 1);
    CHECK_INT(auth_token_well_formed(NULL), 0);
    CHECK_INT(auth_token_well_formed(""), 0);
    CHECK_INT(auth_token_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"), 0);   /* 42 */
    CHECK_INT(auth_token_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQA"), 0); /* 44 */
    CHECK_INT(auth_token_well_formed("+bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"), 0);  /* std alphabet */
    CHECK_INT(auth_token_well_formed("/bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"), 0);
    CHECK_INT(auth_token_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP="), 0);
    CHECK_INT(auth_token_well_formed("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOP"), 0);
    /* 43 characters carry 258 bits; the two spare bits must be zero ('R' = 17 has one set). */
    CHECK_INT(auth_token_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPR"), 0);
}

/* API keys: "mk_" + a token, hashed whole (so a key and a session token with the same 43 characters
 * are different credentials), and the well-formed check refuses near misses. */
static void test_api_keys(void)
{
    char a[AUTH_API_KEY_TEXT_LEN + 1], b[AUTH_API_KEY_TEXT_LEN + 1];
    unsigned char ha[AUTH_TOKEN_HASH_LEN], hb[AUTH_TOKEN_HASH_LEN], again[AUTH_TOKEN_HASH_LEN];
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(auth_api_key_new(a, ha, &err), 0);
    CHECK_INT(auth_api_key_new(b, hb, &err), 0);
    CHECK_INT((long long)strlen(a), 46);
    CHECK(strncmp(a, "mk_", 3) == 0);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(auth_api_key_well_formed(a), 1);
    CHECK_INT(auth_is_api_key(a), 1);
    CHECK_INT(auth_token_well_formed(a), 0); /* never taken for a session token */
    auth_token_hash(a, strlen(a), again);
    CHECK(memcmp(ha, again, sizeof again) == 0);
    auth_token_hash(a + 3, strlen(a) - 3, again);
    CHECK(memcmp(ha, again, sizeof again) != 0);
    char bad[64];
    snprintf(bad, sizeof bad, "mk_%s", a + 4); /* one character short */
    CHECK_INT(auth_api_key_well_formed(bad), 0);
    snprintf(bad, sizeof bad, "MK_%s", a + 3);
    CHECK_INT(auth_api_key_well_formed(bad), 0);
    CHECK_INT(auth_is_api_key(bad), 0);
    snprintf(bad, sizeof bad, "%s", a);
    bad[10] = '+'; /* base64, not base64url */
    CHECK_INT(auth_api_key_well_formed(bad), 0);
    CHECK_INT(auth_api_key_well_formed("mk_"), 0);
    CHECK_INT(auth_api_key_well_formed(NULL), 0);
    error_clear(&err);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_wrong_password);
    RUN(test_known_vectors);
    RUN(test_length_is_explicit);
    RUN(test_salted);
    RUN(test_tampered);
    RUN(test_truncated);
    RUN(test_malformed);
    RUN(test_hash_rejects_bad_params);
    RUN(test_tokens);
    RUN(test_token_hash_vector);
    RUN(test_token_well_formed);
    RUN(test_api_keys);
    return check_finish();
}

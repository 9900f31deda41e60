#include "core/jws.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/codec.h"

#define JWS_SIG_LEN 64
#define JWS_RAW_KEY_LEN 32
/* A key file is a few hundred bytes; refusing big files keeps a wrong path from being slurped. */
#define JWS_MAX_KEY_FILE 16384

typedef struct {
    char kid[KEYSTORE_KID_LEN + 1];
    char x[48];                          /* base64url of the raw public key, for the JWKS */
    EVP_PKEY *pkey;                      /* private when has_private, else public */
    int has_private;
    time_t mtime;                        /* of the file; picks the signing key among old keys */
    char created[KEYSTORE_CREATED_LEN + 1]; /* from the .created sidecar, "" for an old key */
    char *name;                          /* file name, for the tie-break and for messages */
} jws_key;

struct jws_keyring {
    jws_key *keys;
    size_t count;
    long signing; /* index into keys, -1 when there is no private key */
};

/* ---- base64url ---------------------------------------------------------------------------------- */

static char *jws_b64_encode(const unsigned char *in, size_t len)
{
    char *out = malloc(codec_base64_encoded_len(CODEC_BASE64URL, len) + 1);
    if (out)
        codec_base64_encode(CODEC_BASE64URL, in, len, out);
    return out;
}

/* ---- keyring ------------------------------------------------------------------------------------ */

static void jws_key_clear(jws_key *k)
{
    EVP_PKEY_free(k->pkey);
    free(k->name);
    memset(k, 0, sizeof *k);
}

void jws_keyring_free(jws_keyring *kr)
{
    if (!kr)
        return;
    for (size_t i = 0; i < kr->count; i++)
        jws_key_clear(&kr->keys[i]);
    free(kr->keys);
    free(kr);
}

jws_keyring *jws_keyring_empty(void)
{
    jws_keyring *kr = calloc(1, sizeof *kr);
    if (kr)
        kr->signing = -1;
    return kr;
}

size_t jws_keyring_count(const jws_keyring *kr)
{
    return kr ? kr->count : 0;
}

const char *jws_keyring_signing_kid(const jws_keyring *kr)
{
    return kr && kr->signing >= 0 ? kr->keys[kr->signing].kid : NULL;
}

static int jws_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int jws_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads one PEM file into k (kid, x, pkey, mtime). Errors name the file. */
static int jws_key_read(const char *dir, const char *name, int private_part, jws_key *k, mkt_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return error_set(err, ERROR_INTERNAL, "%s/%s: path too long", dir, name);
    FILE *f = fopen(path, "re");
    if (!f)
        return error_set(err, ERROR_INTERNAL, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > JWS_MAX_KEY_FILE) {
        fclose(f);
        return error_set(err, ERROR_INTERNAL, "%s: not a key file (not regular or over %d bytes)", path,
                         JWS_MAX_KEY_FILE);
    }
    EVP_PKEY *pkey = private_part ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (!pkey)
        return error_set(err, ERROR_INTERNAL, "%s: not a PEM %s key", path, private_part ? "private" : "public");
    unsigned char raw[JWS_RAW_KEY_LEN];
    size_t raw_len = sizeof raw;
    if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 || EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) != 1 ||
        raw_len != JWS_RAW_KEY_LEN) {
        EVP_PKEY_free(pkey);
        return error_set(err, ERROR_INTERNAL, "%s: not an Ed25519 key", path);
    }
    k->name = strdup(name);
    if (!k->name) {
        EVP_PKEY_free(pkey);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    k->pkey = pkey;
    k->has_private = private_part;
    k->mtime = st.st_mtime;
    if (!keystore_read_created(dir, name, k->created))
        k->created[0] = '\0';
    keystore_thumbprint(raw, k->kid);
    codec_base64_encode(CODEC_BASE64URL, raw, raw_len, k->x);
    return 0;
}

/* 1 when a should sign rather than b. A key with a recorded creation time is newer than any key
 * without one (those were made before times were recorded); between two recorded keys the later
 * time wins, between two old keys the newer mtime (not trustworthy under copies, which is why the
 * time is recorded); a tie goes to the file name that sorts last, so the choice is deterministic. */
static int jws_key_newer(const jws_key *a, const jws_key *b)
{
    int a_rec = a->created[0] != '\0', b_rec = b->created[0] != '\0';
    if (a_rec != b_rec)
        return a_rec;
    int c = a_rec ? strcmp(a->created, b->created) : (a->mtime > b->mtime) - (a->mtime < b->mtime);
    if (c != 0)
        return c > 0;
    return strcmp(a->name, b->name) > 0;
}

/* Adds k (taking ownership) unless its kid is already there: the same key may be present twice
 * (its .key.pem and its .pub.pem, or a copy). A private half replaces a public-only entry. */
static void jws_keyring_add(jws_keyring *kr, jws_key *k)
{
    for (size_t i = 0; i < kr->count; i++) {
        jws_key *have = &kr->keys[i];
        if (strcmp(have->kid, k->kid) != 0)
            continue;
        int better = k->has_private && (!have->has_private || jws_key_newer(k, have));
        if (better) {
            jws_key_clear(have);
            *have = *k;
        } else {
            jws_key_clear(k);
        }
        memset(k, 0, sizeof *k);
        return;
    }
    kr->keys[kr->count++] = *k; /* capacity is the number of files, reserved by the caller */
    memset(k, 0, sizeof *k);
}

/* Lists the *.key.pem and *.pub.pem names of dir, sorted (so loading is deterministic). */
static int jws_list_dir(const char *dir, char ***names_out, size_t *count_out, mkt_error *err)
{
    *names_out = NULL;
    *count_out = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0; /* documented: an absent directory is an empty keyring */
        return error_set(err, ERROR_INTERNAL, "%s: %s", dir, strerror(errno));
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!jws_ends_with(e->d_name, ".key.pem") && !jws_ends_with(e->d_name, ".pub.pem"))
            continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char **grown = realloc(names, ncap * sizeof *names);
            if (!grown)
                goto oom;
            names = grown;
            cap = ncap;
        }
        if (!(names[count] = strdup(e->d_name)))
            goto oom;
        count++;
    }
    closedir(d);
    if (count)
        qsort(names, count, sizeof *names, jws_name_cmp);
    *names_out = names;
    *count_out = count;
    return 0;
oom:
    closedir(d);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return error_set(err, ERROR_INTERNAL, "out of memory");
}

jws_keyring *jws_keyring_load(const char *dir, mkt_error *err)
{
    char **names;
    size_t count;
    if (!dir || !*dir) {
        error_set(err, ERROR_INTERNAL, "no signing key directory configured");
        return NULL;
    }
    if (jws_list_dir(dir, &names, &count, err) < 0)
        return NULL;
    jws_keyring *kr = jws_keyring_empty();
    if (!kr || (count && !(kr->keys = calloc(count, sizeof *kr->keys)))) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        jws_key k;
        memset(&k, 0, sizeof k);
        if (jws_key_read(dir, names[i], jws_ends_with(names[i], ".key.pem"), &k, err) < 0)
            goto fail;
        jws_keyring_add(kr, &k);
    }
    for (size_t i = 0; i < kr->count; i++) {
        const jws_key *k = &kr->keys[i];
        if (!k->has_private)
            continue;
        const jws_key *best = kr->signing >= 0 ? &kr->keys[kr->signing] : NULL;
        if (!best || jws_key_newer(k, best))
            kr->signing = (long)i;
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return kr;
fail:
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    jws_keyring_free(kr);
    return NULL;
}

static const jws_key *jws_keyring_find(const jws_keyring *kr, const char *kid)
{
    for (size_t i = 0; kr && i < kr->count; i++)
        if (strcmp(kr->keys[i].kid, kid) == 0)
            return &kr->keys[i];
    return NULL;
}

static json_t *jws_jwk(const jws_key *k)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", k->x, "kid", k->kid,
                     "alg", "EdDSA", "use", "sig");
}

json_t *jws_keyring_jwks(const jws_keyring *kr)
{
    json_t *keys = json_array();
    if (!keys)
        return NULL;
    /* Signing key first: a client that only looks at the first key still gets the current one. */
    if (kr && kr->signing >= 0 && json_array_append_new(keys, jws_jwk(&kr->keys[kr->signing])) < 0)
        goto fail;
    for (size_t i = 0; kr && i < kr->count; i++)
        if ((long)i != kr->signing && json_array_append_new(keys, jws_jwk(&kr->keys[i])) < 0)
            goto fail;
    return json_pack("{s:o}", "keys", keys);
fail:
    json_decref(keys);
    return NULL;
}

/* ---- sign --------------------------------------------------------------------------------------- */

char *jws_sign(const jws_keyring *kr, const json_t *claims, mkt_error *err)
{
    if (!kr || kr->signing < 0) {
        error_set(err, ERROR_UNAVAILABLE, "no signing key");
        return NULL;
    }
    if (!json_is_object(claims)) {
        error_set(err, ERROR_INTERNAL, "JWS claims must be a JSON object");
        return NULL;
    }
    const jws_key *k = &kr->keys[kr->signing];
    char header[128];
    /* The kid is base64url, so it needs no JSON escaping. */
    int header_len = snprintf(header, sizeof header, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JWT\"}", k->kid);
    char *payload = json_dumps(claims, JSON_COMPACT);
    char *h64 = jws_b64_encode((const unsigned char *)header, (size_t)header_len);
    char *p64 = payload ? jws_b64_encode((const unsigned char *)payload, strlen(payload)) : NULL;
    char *token = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!payload || !h64 || !p64 || !ctx) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        goto done;
    }
    size_t h_len = strlen(h64), p_len = strlen(p64);
    size_t sig64_max = 4 * ((JWS_SIG_LEN + 2) / 3);
    token = malloc(h_len + 1 + p_len + 1 + sig64_max + 1);
    if (!token) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        goto done;
    }
    memcpy(token, h64, h_len);
    token[h_len] = '.';
    memcpy(token + h_len + 1, p64, p_len);
    size_t input_len = h_len + 1 + p_len;
    unsigned char sig[JWS_SIG_LEN];
    size_t sig_len = sizeof sig;
    /* Ed25519 is a one-shot signature: no digest (md NULL) and the whole input at once. */
    if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)token, input_len) != 1 || sig_len != JWS_SIG_LEN) {
        error_set(err, ERROR_INTERNAL, "Ed25519 signing failed");
        free(token);
        token = NULL;
        goto done;
    }
    token[input_len] = '.';
    codec_base64_encode(CODEC_BASE64URL, sig, sig_len, token + input_len + 1);
done:
    EVP_MD_CTX_free(ctx);
    free(h64);
    free(p64);
    free(payload);
    return token;
}

/* ---- verify ------------------------------------------------------------------------------------- */

/* Decodes one segment and parses it as a JSON object (duplicate keys refused: two readers could
 * otherwise disagree on what was signed). */
static json_t *jws_segment_json(const char *seg, size_t len, const char *what, mkt_error *err)
{
    size_t cap = len * 3 / 4;
    unsigned char *raw = malloc(cap + 1);
    if (!raw) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    long n = codec_base64_decode(CODEC_BASE64URL, seg, len, raw, cap);
    if (n < 0) {
        free(raw);
        error_set(err, ERROR_UNAUTHORIZED, "%s is not valid base64url", what);
        return NULL;
    }
    json_error_t jerr;
    json_t *value = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (!json_is_object(value)) {
        json_decref(value);
        error_set(err, ERROR_UNAUTHORIZED, "%s is not a JSON object", what);
        return NULL;
    }
    return value;
}

static const jws_key *jws_check_header(const jws_keyring *kr, const json_t *header, mkt_error *err)
{
    const char *alg = json_string_value(json_object_get(header, "alg"));
    if (!alg || strcmp(alg, "EdDSA") != 0) {
        error_set(err, ERROR_UNAUTHORIZED, "unsupported alg (only EdDSA is accepted)");
        return NULL;
    }
    /* We implement no extension, so any critical one must be refused (RFC 7515 §4.1.11). */
    if (json_object_get(header, "crit")) {
        error_set(err, ERROR_UNAUTHORIZED, "unsupported crit header");
        return NULL;
    }
    const json_t *typ = json_object_get(header, "typ");
    if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0)) {
        error_set(err, ERROR_UNAUTHORIZED, "unexpected typ");
        return NULL;
    }
    const char *kid = json_string_value(json_object_get(header, "kid"));
    if (!kid) {
        error_set(err, ERROR_UNAUTHORIZED, "missing kid");
        return NULL;
    }
    const jws_key *k = jws_keyring_find(kr, kid);
    if (!k)
        error_set(err, ERROR_UNAUTHORIZED, "unknown kid");
    return k;
}

json_t *jws_verify(const jws_keyring *kr, const char *token, mkt_error *err)
{
    if (!token || !*token) {
        error_set(err, ERROR_UNAUTHORIZED, "empty token");
        return NULL;
    }
    size_t len = strnlen(token, JWS_MAX_TOKEN + 1);
    if (len > JWS_MAX_TOKEN) {
        error_set(err, ERROR_UNAUTHORIZED, "token too long");
        return NULL;
    }
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        error_set(err, ERROR_UNAUTHORIZED, "malformed token (a JWS has three segments)");
        return NULL;
    }
    size_t h_len = (size_t)(dot1 - token), p_len = (size_t)(dot2 - dot1 - 1), s_len = len - (size_t)(dot2 + 1 - token);
    if (!h_len || !p_len || !s_len) {
        error_set(err, ERROR_UNAUTHORIZED, "malformed token (empty segment)");
        return NULL;
    }
    json_t *header = jws_segment_json(token, h_len, "header", err);
    if (!header)
        return NULL;
    const jws_key *k = jws_check_header(kr, header, err);
    json_decref(header);
    if (!k)
        return NULL;

    unsigned char sig[JWS_SIG_LEN];
    if (codec_base64_decode(CODEC_BASE64URL, dot2 + 1, s_len, sig, sizeof sig) != JWS_SIG_LEN) {
        error_set(err, ERROR_UNAUTHORIZED, "malformed signature");
        return NULL;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    int ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, JWS_SIG_LEN, (const unsigned char *)token, (size_t)(dot2 - token)) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        error_set(err, ERROR_UNAUTHORIZED, "bad signature");
        return NULL;
    }
    /* Parsed only after the signature: nothing unauthenticated reaches the JSON parser but the header. */
    return jws_segment_json(dot1 + 1, p_len, "payload", err);
}

/* ---- claims ------------------------------------------------------------------------------------- */

int jws_check_time(const json_t *claims, time_t now, mkt_error *err)
{
    const json_t *iat = json_object_get(claims, "iat");
    const json_t *exp = json_object_get(claims, "exp");
    if (iat && !json_is_integer(iat))
        return error_set(err, ERROR_UNAUTHORIZED, "iat must be an integer");
    if (exp && !json_is_integer(exp))
        return error_set(err, ERROR_UNAUTHORIZED, "exp must be an integer");
    if (iat && json_integer_value(iat) > (json_int_t)now + JWS_IAT_LEEWAY)
        return error_set(err, ERROR_UNAUTHORIZED, "token issued in the future");
    if (exp && (json_int_t)now >= json_integer_value(exp))
        return error_set(err, ERROR_GONE, "token expired");
    return 0;
}

int jws_check_audience(const json_t *claims, const char *audience, mkt_error *err)
{
    const json_t *aud = json_object_get(claims, "aud");
    if (json_is_string(aud) && strcmp(json_string_value(aud), audience) == 0)
        return 0;
    if (json_is_array(aud)) {
        size_t i;
        const json_t *v;
        json_array_foreach(aud, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), audience) == 0)
            return 0;
    }
    return error_set(err, ERROR_UNAUTHORIZED, "token is not for audience %s", audience);
}

int jws_check_issuer(const json_t *claims, const char *issuer, mkt_error *err)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (iss && issuer && strcmp(iss, issuer) == 0)
        return 0;
    return error_set(err, ERROR_UNAUTHORIZED, "token from another issuer");
}

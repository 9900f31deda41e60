/* Compact JWS (RFC 7515) with EdDSA / Ed25519 (RFC 8037) for receipts and payout tokens.
 *
 * A keyring is every Ed25519 key in signing_key_dir: private keys (*.key.pem) sign and verify,
 * public keys of retired keys (*.pub.pem without their private half) only verify. All of them are
 * published in the JWKS, so receipts signed before a rotation keep verifying. The kid of a key is
 * always recomputed from the key (RFC 7638 thumbprint, keystore_thumbprint), never taken from the
 * file name: under systemd the files arrive renamed as signing-key_<name>.
 *
 * Pure code: no database, no globals. Errors of verification are ERROR_UNAUTHORIZED with the
 * reason in err->message (safe to show: it never contains key material). */
#ifndef CORE_JWS_H
#define CORE_JWS_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "core/error.h"
#include "core/keystore.h"

/* Longest token jws_verify looks at; ours are a few hundred bytes. */
#define JWS_MAX_TOKEN 8192
/* How far in the future an iat may be (clock skew between hosts) before it is refused. */
#define JWS_IAT_LEEWAY 60

typedef struct jws_keyring jws_keyring;

/* Loads every *.key.pem (Ed25519 private key) and *.pub.pem (Ed25519 public key) in dir; other
 * files are ignored. The signing key is the private key created last: by the creation time in its
 * .created sidecar (keystore.h; file copies all share one mtime, so the mtime cannot tell), a key
 * with a sidecar beating any key without one; among keys without, the newest file mtime; a tie goes
 * to the file name that sorts last. A missing directory or one without keys gives an empty keyring
 * (jws_keyring_count() == 0), not an error: the caller decides whether that is fatal. A file that
 * cannot be read or is not an Ed25519 key in PEM is an error naming the file (NULL). */
jws_keyring *jws_keyring_load(const char *dir, mkt_error *err);
/* A keyring with no keys (signing fails with ERROR_UNAVAILABLE, the JWKS is empty). */
jws_keyring *jws_keyring_empty(void);
void jws_keyring_free(jws_keyring *kr);

/* Number of distinct keys (by kid); NULL counts as 0. */
size_t jws_keyring_count(const jws_keyring *kr);
/* kid of the key jws_sign uses, or NULL when the keyring has no private key. */
const char *jws_keyring_signing_kid(const jws_keyring *kr);

/* {"keys":[{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"}, …]}, the signing
 * key first. A NULL keyring gives {"keys":[]}. NULL only when out of memory. */
json_t *jws_keyring_jwks(const jws_keyring *kr);

/* Signs claims (a JSON object) with the signing key: header {"alg":"EdDSA","kid":…,"typ":"JWT"},
 * base64url without padding. Returns a malloc'd token; NULL with ERROR_UNAVAILABLE "no signing key"
 * when the keyring has no private key, ERROR_INTERNAL otherwise. */
char *jws_sign(const jws_keyring *kr, const json_t *claims, mkt_error *err);

/* Strictly parses and verifies token: exactly three non-empty segments of canonical base64url, a
 * header that is a JSON object with alg exactly "EdDSA", a known kid, no "crit", typ (when given)
 * "JWT"; a 64-byte signature that verifies; claims that are a JSON object (duplicate keys are
 * refused everywhere). Returns the claims (caller decrefs), or NULL with ERROR_UNAUTHORIZED and the
 * reason. Does NOT look at exp/iat/aud: see below. */
json_t *jws_verify(const jws_keyring *kr, const char *token, mkt_error *err);

/* Time claims, both optional here (a receipt has no exp; callers that need exp check for it):
 * iat and exp, when present, must be integers; iat more than JWS_IAT_LEEWAY after now is
 * ERROR_UNAUTHORIZED; now >= exp is ERROR_GONE "token expired". Returns 0 or -1. */
int jws_check_time(const json_t *claims, time_t now, mkt_error *err);

/* aud must be the string audience or an array holding it; otherwise ERROR_UNAUTHORIZED. */
int jws_check_audience(const json_t *claims, const char *audience, mkt_error *err);

/* iss must be exactly issuer; otherwise ERROR_UNAUTHORIZED. */
int jws_check_issuer(const json_t *claims, const char *issuer, mkt_error *err);

#endif

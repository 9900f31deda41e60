/* Credentials: scrypt password hashes (parameters stored with the hash) and bearer tokens
 * (32 random bytes shown once, stored as SHA-256). Pure: no database. */
#ifndef CORE_AUTH_H
#define CORE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define AUTH_TOKEN_HASH_LEN 32
/* base64url of 32 bytes without padding is 43 characters. */
#define AUTH_TOKEN_TEXT_LEN 43

typedef struct {
    uint64_t n;
    uint32_t r, p;
} auth_scrypt_params;

/* Returns a malloc'd "$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt b64>$<hash b64>" string (16-byte random
 * salt, 32-byte key, standard base64 alphabet without padding), or NULL with err. Parameters outside
 * the limits auth_password_verify accepts are ERROR_INTERNAL: a hash nobody could verify is useless. */
char *auth_password_hash(const char *password, size_t password_len, auth_scrypt_params params, mkt_error *err);

/* 1 when password matches stored, 0 when it does not or stored is malformed. Uses the parameters
 * stored with the hash (not the config), refusing absurd ones so a tampered row cannot make a login
 * burn memory or minutes: N must be a power of two up to 2^24, r 1..64, p 1..16, and scrypt's memory
 * (about 128·N·r bytes) at most 1 GiB. Constant-time compare. */
int auth_password_verify(const char *password, size_t password_len, const char *stored);

/* A new random token: text gets AUTH_TOKEN_TEXT_LEN chars + NUL; hash gets its SHA-256. */
int auth_token_new(char text[AUTH_TOKEN_TEXT_LEN + 1], unsigned char hash[AUTH_TOKEN_HASH_LEN], mkt_error *err);

/* SHA-256 of the token text as presented by a client. */
void auth_token_hash(const char *text, size_t len, unsigned char hash[AUTH_TOKEN_HASH_LEN]);

/* 1 when text could have come from auth_token_new (43 base64url characters, canonical), so junk
 * is refused before it costs a database query. */
int auth_token_well_formed(const char *text);

/* API keys (core/api_key): "mk_" + a token's 43 characters (32 random bytes, base64url), stored as
 * the SHA-256 of the whole text beside its first AUTH_API_KEY_SHOWN_LEN characters, which the owner
 * sees to tell keys apart (11 characters: "mk_" + 48 bits, never enough to guess the rest). */
#define AUTH_API_KEY_PREFIX "mk_"
#define AUTH_API_KEY_PREFIX_LEN 3
#define AUTH_API_KEY_TEXT_LEN (AUTH_API_KEY_PREFIX_LEN + AUTH_TOKEN_TEXT_LEN)
#define AUTH_API_KEY_SHOWN_LEN 11

/* A new random key: text gets AUTH_API_KEY_TEXT_LEN chars + NUL, hash its SHA-256. */
int auth_api_key_new(char text[AUTH_API_KEY_TEXT_LEN + 1], unsigned char hash[AUTH_TOKEN_HASH_LEN], mkt_error *err);

/* Does text claim to be an API key (it starts with "mk_")? Such a credential is never a session. */
int auth_is_api_key(const char *text);

/* 1 when text could have come from auth_api_key_new: "mk_" and a well-formed token. */
int auth_api_key_well_formed(const char *text);

#endif

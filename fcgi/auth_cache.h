/* A worker's memory of recently resolved bearer tokens (sessions and API keys), so a signed-in request does not pay a session
 * query every time. Entries are keyed by the token's SHA-256 (no token text is kept) and trusted only
 * while all of these hold:
 *   - the session has not expired (its expiry is cached with it);
 *   - the shared auth epoch is unchanged: every logout and role change in any worker bumps it, which
 *     empties every worker's cache at once, so a revoked token stops working everywhere immediately;
 *   - it is younger than AUTH_CACHE_TTL_MS, which bounds what no worker can see (a role granted with
 *     `marketplace user grant`, a session deleted by hand in the database).
 *
 * The caller's profile (GET /me's answer) is kept beside it, keyed by user, under the same three
 * rules: what it shows (roles, the developer profile) changes only with a role change or a new
 * developer profile, both of which bump the epoch (account names and emails are never edited).
 * AUTH_CACHE_SLOTS profiles of at most AUTH_CACHE_PROFILE_BYTES each. */
#ifndef FCGI_AUTH_CACHE_H
#define FCGI_AUTH_CACHE_H

#include <stdint.h>

#include "core/account.h"

#define AUTH_CACHE_SLOTS 256
#define AUTH_CACHE_TTL_MS 10000
#define AUTH_CACHE_PROFILE_BYTES 2048

/* 1 and *out filled on a usable hit, else 0. */
int auth_cache_lookup(const char *token, uint64_t epoch, account_caller *out);
void auth_cache_store(const char *token, uint64_t epoch, const account_caller *caller);

/* A copy (malloc'd) of user_id's cached profile when it is usable under epoch, else NULL. */
char *auth_cache_profile_lookup(int64_t user_id, uint64_t epoch);
/* Keeps text (copied) for user_id; epoch must have been read before the profile was. */
void auth_cache_profile_store(int64_t user_id, uint64_t epoch, const char *text);

#endif

/* A worker's memory of recently resolved bearer tokens (sessions and API keys), so a signed-in request does not pay a session
 * query every time. Entries are keyed by the token's SHA-256 (no token text is kept) and trusted only
 * while all of these hold:
 *   - the session has not expired (its expiry is cached with it);
 *   - the shared auth epoch is unchanged: every logout and role change in any worker bumps it, which
 *     empties every worker's cache at once, so a revoked token stops working everywhere immediately;
 *   - it is younger than AUTH_CACHE_TTL_MS, which bounds what no worker can see (a role granted with
 *     `marketplace user grant`, a session deleted by hand in the database). */
#ifndef FCGI_AUTH_CACHE_H
#define FCGI_AUTH_CACHE_H

#include <stdint.h>

#include "core/account.h"

#define AUTH_CACHE_SLOTS 256
#define AUTH_CACHE_TTL_MS 10000

/* 1 and *out filled on a usable hit, else 0. */
int auth_cache_lookup(const char *token, uint64_t epoch, account_caller *out);
void auth_cache_store(const char *token, uint64_t epoch, const account_caller *caller);

#endif

/* API keys: a user's credentials for running tools from their own code (`Authorization: Bearer mk_…`).
 * A key is created by a signed-in user for themselves, shown once, and stored as its SHA-256 beside a
 * visible prefix (core/auth.h); it may name the tools it runs (at most ACCOUNT_KEY_TOOLS_MAX; none =
 * every tool its owner may run) and an expiry. What a key may do is decided in two places: the
 * transport lets a key through only on POST /tools/{tool}/execute and public GETs (403 elsewhere),
 * and core/tool_library's execution access asks api_key_allows_tool. Every problem with a presented
 * key (malformed, unknown, expired, revoked) is the same 401 with the same message, so answers never
 * tell which keys exist.
 *
 * Usage: each request a key authenticates is counted per key and UTC day in the worker and written
 * back in batches (core/day_count, as executions are), which also moves the key's last_used_at; a
 * worker killed by SIGKILL loses at most a second of counts. Requests per key are throttled per
 * minute in shared memory (core/throttle, config api_key_rate_per_minute).
 *
 * Owns api_keys, api_key_tools and api_key_days (sql/migrations/0018_api_keys.sql). */
#ifndef CORE_API_KEY_H
#define CORE_API_KEY_H

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "core/service.h"
#include "sql/db.h"

#define API_KEY_NAME_MAX 100     /* characters of a key's name */
#define API_KEY_ACTIVE_MAX 50    /* keys one user may hold at once (not revoked, not expired) */
#define API_KEY_FLUSH_MS 1000    /* usage counts wait at most this long in a worker */

/* POST /me/api-keys {name, tools?: [tool id], expires_at?} -> {id, name, prefix, key, tools, created_at,
 * expires_at}: the only answer that ever holds the key. 422 naming the field: a name empty, too long or
 * not printable; tools not an array of tool ids, more than ACCOUNT_KEY_TOOLS_MAX, repeated, or naming a
 * tool the caller cannot see (the same answer as a missing one); expires_at not RFC 3339 UTC
 * ("2027-01-31T00:00:00Z") or not in the future. 409 when the caller holds API_KEY_ACTIVE_MAX keys.
 * Needs a session (a key cannot make keys: the transport refuses it first). */
json_t *api_key_create(db *db, const account_caller *caller, const json_t *body, mkt_error *err);

/* GET /me/api-keys -> {items[{id, name, prefix, tools, created_at, last_used_at, expires_at,
 * requests_today, requests_30d}]}: the caller's keys not revoked, newest first, never the key. */
json_t *api_key_list(db *db, const account_caller *caller, mkt_error *err);

/* DELETE /me/api-keys/{id}: revokes the caller's key (a second time changes nothing). 404 when the
 * caller has no such key, whoever else may. The caller's transport then moves the shared auth epoch,
 * so no worker's cache keeps the key alive. */
int api_key_revoke(db *db, const account_caller *caller, const char *id, mkt_error *err);

/* Resolves a presented key to its owner as a caller (api_key_id, key_tools, the owner's roles, the
 * key's expiry or a far-away one in expires_at). 401 "invalid, expired or revoked API key" for every
 * problem; a malformed key costs no query. out is zeroed first. */
int api_key_authenticate(db *db, const char *key, account_caller *out, mkt_error *err);

/* May a key-authenticated caller run tool_id? 0 yes (and always for a session); -1 with
 * ERROR_FORBIDDEN when the key names tools and this is none of them. */
int api_key_allows_tool(const account_caller *caller, int64_t tool_id, mkt_error *err);

/* Per request a key authenticated: the per-key limit (cfg->api_key_rate_per_minute, core/throttle),
 * then counts the use. 0, or -1 with ERROR_RATE_LIMITED (Retry-After) over the limit, counting
 * nothing. db may be NULL (the count waits for the next write-back). */
int api_key_use(db *db, const config *cfg, const account_caller *caller, mkt_error *err);

/* Writes back the pending usage counts now; how many were written. */
int api_key_flush_usage(db *db);

/* Lifecycle hooks (core/service.h): master_load maps the shared throttle table before the workers
 * are forked; the workers write back usage counts when idle, once due after a request, and at exit. */
extern const service_hooks api_key_service;

#endif

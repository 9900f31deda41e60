/* Accounts and developer profiles: register, login, logout, who is calling, roles.
 * Takes and returns JSON so that field rules and the names in errors live in one place.
 *
 * Bodies are strict: a body that is not an object is a 422 on field "", each unknown field is a 422
 * "unknown field", a value of the wrong type "must be a string"; every problem is reported at once
 * (error_add_field) and a rejected body changes nothing. Emails are stored and compared lower-case.
 * Times are RFC 3339 UTC ("2026-11-25T20:35:49Z"), ids decimal strings. Returned JSON belongs to the
 * caller (json_decref).
 *
 * Owns the users, user_roles, sessions and developers tables: nothing else writes them, and other
 * modules read them through these functions (core/tool_record.c joins a developer's display name
 * into a tool, read-only). */
#ifndef CORE_ACCOUNT_H
#define CORE_ACCOUNT_H

#include <jansson.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "sql/db.h"

enum {
    ACCOUNT_ROLE_DEVELOPER = 1u << 0,
    ACCOUNT_ROLE_MODERATOR = 1u << 1,
    ACCOUNT_ROLE_ADMIN = 1u << 2,
};

/* Tools one API key may name (core/api_key.h). */
#define ACCOUNT_KEY_TOOLS_MAX 20

typedef struct {
    int64_t user_id;
    int64_t session_id;
    int64_t developer_id; /* 0 when the user has no developer profile */
    unsigned roles;       /* ACCOUNT_ROLE_* bits; every user is a buyer */
    int64_t expires_at;   /* the session's expiry, Unix seconds (an API key without one: far away) */
    /* Set when an API key authenticated the request instead of a session (session_id is then 0):
     * the key and the tools it may run (none listed: every tool its owner may run). */
    int64_t api_key_id;
    int64_t key_tools[ACCOUNT_KEY_TOOLS_MAX];
    unsigned key_tool_count;
} account_caller;

/* How a login or registration hands over its session: the optional body member "session" is
 * "token" (the default: the token is in the JSON answer, for API clients) or "cookie" (the web UI:
 * the transport sets an HttpOnly cookie and leaves the token out of the answer; fcgi/session_cookie.h). */
typedef enum { ACCOUNT_SESSION_TOKEN, ACCOUNT_SESSION_COOKIE } account_session_kind;
/* The kind body asks for; -1 with "must be one of token, cookie" (or "must be a string") on field
 * "session" otherwise. An absent member is ACCOUNT_SESSION_TOKEN. */
int account_session_kind_of(const json_t *body, account_session_kind *out, mkt_error *err);

/* POST /auth/register {email, password, display_name, session?} -> {user, token, expires_at}. 409 email taken (field "email").
 * user: {id, email, display_name, roles: ["buyer", ...], created_at, developer?}. */
json_t *account_register(db *db, const config *cfg, const json_t *body, mkt_error *err);
/* POST /auth/login {email, password, session?} -> {token, expires_at, user}. 401 on any mismatch, with the same
 * message and the same scrypt work for an unknown email as for a wrong password. */
json_t *account_login(db *db, const config *cfg, const json_t *body, mkt_error *err);
/* POST /auth/logout: revokes the caller's session token. */
int account_logout(db *db, const account_caller *caller, mkt_error *err);
/* Resolves "Bearer <token>" text (the token part only) to a caller; 401 when unknown, expired or revoked.
 * A token that is not 43 base64url characters is refused without a query. out is zeroed first. */
int account_authenticate(db *db, const char *token, account_caller *out, mkt_error *err);
/* Fills developer_id and roles of out for user_id (what a session gives a caller), for credentials
 * that are not sessions (core/api_key). 401 when the user is gone. */
int account_caller_load(db *db, int64_t user_id, account_caller *out, mkt_error *err);
/* GET /me -> {id, email, display_name, roles[], developer?} */
json_t *account_me(db *db, const account_caller *caller, mkt_error *err);
/* POST /developers {display_name, bio?, website?} -> developer profile; 409 when the caller already has one.
 * bio and website may be null (= absent) and are left out of the profile when unset.
 * Profile: {id, user_id, display_name, bio?, website?, created_at, tools: []}. */
json_t *account_developer_create(db *db, const account_caller *caller, const json_t *body, mkt_error *err);
/* GET /developers/{id} -> public profile and published tools. 404 when unknown or id malformed. */
json_t *account_developer_get(db *db, const char *id, mkt_error *err);
/* Takes the row lock of developer profile developer_id inside the caller's transaction, so one
 * developer's money requests are serialised (core/payout), also across the nodes of a Galera
 * cluster: it writes the row (and puts it back), since a cluster certifies written rows only.
 * 403 when there is no such profile. */
int account_developer_lock(db *db, int64_t developer_id, mkt_error *err);

/* CLI: marketplace user grant EMAIL ROLE (developer|moderator|admin). ERROR_VALIDATION for another role,
 * ERROR_NOT_FOUND for an unknown email; granting a role twice is fine. 'developer' granted this way
 * gives the role without a profile. */
int account_grant_role(db *db, const char *email, const char *role, mkt_error *err);

/* How many seconds ago account user_id was created (never negative), for rules that distrust fresh
 * accounts (core/review_manager's report_min_account_age). 404 for an unknown account. */
int account_age_seconds(db *db, int64_t user_id, int64_t *age, mkt_error *err);

/* Role name <-> bit ("buyer" is every account, not a bit: parse gives 0, as for unknown names). */
const char *account_role_name(unsigned role_bit);
unsigned account_role_parse(const char *name);

/* ---- bulk accounts (marketplace seed --tools) ---- */

/* At most this many rows per account_bulk_ensure call (one statement per table). */
#define ACCOUNT_BULK_MAX 1000

typedef struct {
    const char *email;          /* lower-case */
    const char *display_name;
    const char *developer_name; /* NULL: a buyer only */
    const char *developer_bio;  /* may be NULL */
} account_bulk_row;

/* A scrypt hash of password with the config's parameters, malloc'd; NULL with err. Bulk loads hash
 * one password once and give it to every account (scrypt per account would take minutes). */
char *account_password_hash(const config *cfg, const char *password, mkt_error *err);

/* Makes sure every row's account exists: creates the missing users with password_hash (an existing
 * email is left exactly as it is), gives each row with a developer_name a developer profile (kept
 * when there is one) and the developer role, and reads back user_ids[i] and developer_ids[i] (0 for a
 * buyer). rows must be sorted by email (strcmp) and at most ACCOUNT_BULK_MAX. Run it inside a
 * db_transaction; running it again is a no-op that reads the same ids. ERROR_INTERNAL when the rows
 * are unsorted or an account cannot be read back. */
int account_bulk_ensure(db *db, const account_bulk_row *rows, size_t n, const char *password_hash,
                        int64_t *user_ids, int64_t *developer_ids, mkt_error *err);

#endif

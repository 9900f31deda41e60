#include "core/account.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/account_rules.h"
#include "core/auth.h"
#include "core/body.h"
#include "core/ident.h"

/* RFC 3339 UTC. DATETIME columns hold UTC because the connection's time_zone is +00:00. */
#define ACCOUNT_TIME(column) "DATE_FORMAT(" column ", '%Y-%m-%dT%H:%i:%sZ')"
#define ACCOUNT_DEVELOPER_COLUMNS \
    "d.id, d.user_id, d.display_name, d.bio, d.website, " ACCOUNT_TIME("d.created_at")

static const char account_bad_login[] = "invalid email or password";
static const char account_bad_token[] = "invalid or expired token";

/* ---- roles ---------------------------------------------------------------------------------- */

static const struct {
    unsigned bit;
    const char *name;
} account_roles[] = {
    {ACCOUNT_ROLE_DEVELOPER, "developer"},
    {ACCOUNT_ROLE_MODERATOR, "moderator"},
    {ACCOUNT_ROLE_ADMIN, "admin"},
};
#define ACCOUNT_ROLE_COUNT (sizeof account_roles / sizeof account_roles[0])

const char *account_role_name(unsigned role_bit)
{
    for (size_t i = 0; i < ACCOUNT_ROLE_COUNT; i++)
        if (account_roles[i].bit == role_bit)
            return account_roles[i].name;
    return NULL;
}

unsigned account_role_parse(const char *name)
{
    for (size_t i = 0; name && i < ACCOUNT_ROLE_COUNT; i++)
        if (strcmp(account_roles[i].name, name) == 0)
            return account_roles[i].bit;
    return 0;
}

/* Bits from a GROUP_CONCAT(role) cell such as "admin,developer" (NULL: none). */
static unsigned account_roles_from_list(const char *list)
{
    unsigned bits = 0;
    while (list && *list) {
        size_t len = strcspn(list, ",");
        for (size_t i = 0; i < ACCOUNT_ROLE_COUNT; i++)
            if (strlen(account_roles[i].name) == len && strncmp(account_roles[i].name, list, len) == 0)
                bits |= account_roles[i].bit;
        list += len + (list[len] == ',');
    }
    return bits;
}

/* Every account is a buyer; the rest follow in a fixed order so answers are stable. */
static json_t *account_roles_json(unsigned bits)
{
    json_t *roles = json_array();
    json_array_append_new(roles, json_string("buyer"));
    for (size_t i = 0; i < ACCOUNT_ROLE_COUNT; i++)
        if (bits & account_roles[i].bit)
            json_array_append_new(roles, json_string(account_roles[i].name));
    return roles;
}

/* ---- reading accounts ----------------------------------------------------------------------- */

/* A developer profile from six ACCOUNT_DEVELOPER_COLUMNS starting at column; unset bio and
 * website are left out rather than sent as null (they are strings in the API schema). */
/* The six columns of ACCOUNT_DEVELOPER_COLUMNS, relative to where they start. */
enum { DEVCOL_ID, DEVCOL_USER_ID, DEVCOL_DISPLAY_NAME, DEVCOL_BIO, DEVCOL_WEBSITE, DEVCOL_CREATED_AT };

static json_t *account_developer_row(const db_rows *rows, size_t column)
{
    return json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:s}", "id", db_rows_text(rows, 0, column + DEVCOL_ID), "user_id",
                     db_rows_text(rows, 0, column + DEVCOL_USER_ID), "display_name",
                     db_rows_text(rows, 0, column + DEVCOL_DISPLAY_NAME), "bio",
                     db_rows_text(rows, 0, column + DEVCOL_BIO), "website",
                     db_rows_text(rows, 0, column + DEVCOL_WEBSITE), "created_at",
                     db_rows_text(rows, 0, column + DEVCOL_CREATED_AT));
}

/* {id, email, display_name, roles[], created_at, developer?} */
static json_t *account_user_json(db *db, int64_t user_id, mkt_error *err)
{
    static const char sql[] =
        "SELECT u.id, u.email, u.display_name, " ACCOUNT_TIME("u.created_at") ","
        " (SELECT GROUP_CONCAT(r.role) FROM user_roles r WHERE r.user_id = u.id), " ACCOUNT_DEVELOPER_COLUMNS
        " FROM users u LEFT JOIN developers d ON d.user_id = u.id WHERE u.id = ?";
    /* UCOL_DEVELOPER: the first of the ACCOUNT_DEVELOPER_COLUMNS */
    enum { UCOL_ID, UCOL_EMAIL, UCOL_DISPLAY_NAME, UCOL_CREATED_AT, UCOL_ROLES, UCOL_DEVELOPER };
    db_rows rows = {0};
    json_t *user = NULL;
    if (db_query(db, sql, DB_PARAMS(db_int(user_id)), &rows, err) < 0)
        goto done;
    if (rows.row_count == 0) {
        error_set(err, ERROR_NOT_FOUND, "no such account");
        goto done;
    }
    json_t *developer =
        db_rows_is_null(&rows, 0, UCOL_DEVELOPER) ? NULL : account_developer_row(&rows, UCOL_DEVELOPER);
    user = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o*}", "id", db_rows_text(&rows, 0, UCOL_ID), "email",
                     db_rows_text(&rows, 0, UCOL_EMAIL), "display_name", db_rows_text(&rows, 0, UCOL_DISPLAY_NAME),
                     "roles", account_roles_json(account_roles_from_list(db_rows_text(&rows, 0, UCOL_ROLES))),
                     "created_at", db_rows_text(&rows, 0, UCOL_CREATED_AT), "developer", developer);
    if (!user)
        error_set(err, ERROR_INTERNAL, "cannot build the account object");
done:
    db_rows_free(&rows);
    return user;
}

/* The public profile: no email. Its published tools come from the tool library; the route adds them so
 * accounts stay independent of tools. */
static json_t *account_developer_json(db *db, int64_t developer_id, mkt_error *err)
{
    static const char sql[] = "SELECT " ACCOUNT_DEVELOPER_COLUMNS " FROM developers d WHERE d.id = ?";
    db_rows rows = {0};
    json_t *developer = NULL;
    if (db_query(db, sql, DB_PARAMS(db_int(developer_id)), &rows, err) < 0)
        goto done;
    if (rows.row_count == 0) {
        error_set(err, ERROR_NOT_FOUND, "no such developer");
        goto done;
    }
    developer = account_developer_row(&rows, 0);
    if (!developer)
        error_set(err, ERROR_INTERNAL, "cannot build the developer object");
done:
    db_rows_free(&rows);
    return developer;
}

/* ---- sessions ------------------------------------------------------------------------------- */

static int account_session_insert(db *db, int64_t user_id, const unsigned char hash[AUTH_TOKEN_HASH_LEN],
                                  int64_t ttl, int64_t *session_id, mkt_error *err)
{
    db_result result = {0};
    if (db_exec(db,
                "INSERT INTO sessions (user_id, token_hash, expires_at)"
                " VALUES (?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND)",
                DB_PARAMS(db_int(user_id), db_bytes(hash, AUTH_TOKEN_HASH_LEN), db_int(ttl)), &result, err) < 0)
        return -1;
    if (session_id)
        *session_id = (int64_t)result.insert_id;
    return 0;
}

static char *account_session_expiry(db *db, int64_t session_id, mkt_error *err)
{
    db_rows rows = {0};
    char *out = NULL;
    if (db_query(db, "SELECT " ACCOUNT_TIME("expires_at") " FROM sessions WHERE id = ?",
                 DB_PARAMS(db_int(session_id)), &rows, err) == 0) {
        const char *text = rows.row_count ? db_rows_text(&rows, 0, 0) : NULL;
        if (!text || !(out = strdup(text)))
            error_set(err, ERROR_INTERNAL, "session %" PRId64 " vanished", session_id);
    }
    db_rows_free(&rows);
    return out;
}

static auth_scrypt_params account_scrypt_params(const config *cfg)
{
    return (auth_scrypt_params){.n = (uint64_t)cfg->scrypt_n, .r = (uint32_t)cfg->scrypt_r, .p = (uint32_t)cfg->scrypt_p};
}

/* ---- session kind ---------------------------------------------------------------------------- */

int account_session_kind_of(const json_t *body, account_session_kind *out, mkt_error *err)
{
    static const char *const kinds[] = {"token", "cookie", NULL};
    *out = ACCOUNT_SESSION_TOKEN;
    if (!json_object_get(body, "session"))
        return 0;
    int i = body_choice(body, "session", kinds, err);
    if (i < 0)
        return -1;
    *out = i == 1 ? ACCOUNT_SESSION_COOKIE : ACCOUNT_SESSION_TOKEN;
    return 0;
}

/* 1 when "session" is there but neither kind (the problem on err); a non-string is left to
 * account_rules_check_fields, which reports it already. */
static int account_session_check(const json_t *body, mkt_error *err)
{
    account_session_kind kind;
    if (!json_is_string(json_object_get(body, "session")))
        return 0;
    return account_session_kind_of(body, &kind, err) < 0;
}

/* ---- register ------------------------------------------------------------------------------- */

typedef struct {
    const char *email, *display_name, *password_hash;
    const unsigned char *token_hash;
    int64_t ttl;
    int64_t user_id, session_id; /* out */
} account_register_ctx;

static int account_register_tx(db *db, void *arg, mkt_error *err)
{
    account_register_ctx *ctx = arg;
    db_result result = {0};
    if (db_exec(db, "INSERT INTO users (email, display_name, password_hash) VALUES (?, ?, ?)",
                DB_PARAMS(db_text(ctx->email), db_text(ctx->display_name), db_text(ctx->password_hash)), &result,
                err) < 0) {
        if (db_last_errno(db) == DB_ER_DUP_ENTRY) {
            error_clear(err);
            error_set(err, ERROR_CONFLICT, "email is already registered");
            error_add_field(err, "email", "email is already registered");
        }
        return -1;
    }
    ctx->user_id = (int64_t)result.insert_id;
    return account_session_insert(db, ctx->user_id, ctx->token_hash, ctx->ttl, &ctx->session_id, err);
}

json_t *account_register(db *db, const config *cfg, const json_t *body, mkt_error *err)
{
    static const account_rules_field fields[] = {{"email", 1}, {"password", 1}, {"display_name", 1}, {"session", 0}};
    int problems = account_rules_check_fields(body, fields, sizeof fields / sizeof fields[0], err);
    problems += account_session_check(body, err);
    problems += account_rules_check_body_with(body, "email", account_rules_email_register_problem, err);
    problems += account_rules_check_body_text(body, "password", &account_rules_password, err);
    problems += account_rules_check_body_text(body, "display_name", &account_rules_display_name, err);
    if (problems)
        return NULL;

    size_t password_len;
    const char *password = account_rules_body_string(body, "password", &password_len);
    char token[AUTH_TOKEN_TEXT_LEN + 1];
    unsigned char token_hash[AUTH_TOKEN_HASH_LEN];
    account_register_ctx ctx = {.display_name = account_rules_body_string(body, "display_name", NULL),
                                .token_hash = token_hash,
                                .ttl = cfg->token_ttl};
    /* Hashing before the transaction keeps row locks short; it is the slow part. */
    char *email = account_rules_email_lower(account_rules_body_string(body, "email", NULL));
    char *hash = email ? auth_password_hash(password, password_len, account_scrypt_params(cfg), err) : NULL;
    int rc = -1;
    if (!email)
        error_set(err, ERROR_INTERNAL, "out of memory");
    else if (hash && auth_token_new(token, token_hash, err) == 0) {
        ctx.email = email;
        ctx.password_hash = hash;
        rc = db_transaction(db, account_register_tx, &ctx, err);
    }
    free(email);
    free(hash);
    if (rc < 0)
        return NULL;
    /* the same shape as login: a client handles both answers with one code path */
    char *expires_at = account_session_expiry(db, ctx.session_id, err);
    json_t *user = expires_at ? account_user_json(db, ctx.user_id, err) : NULL;
    json_t *out = user ? json_pack("{s:o, s:s, s:s}", "user", user, "token", token, "expires_at", expires_at) : NULL;
    free(expires_at);
    return out;
}

/* ---- login, authenticate, logout, me -------------------------------------------------------- */

/* Runs one scrypt with the configured parameters against a hash nothing matches, so an unknown
 * email costs the same time as a wrong password and the answer does not reveal which it was. */
static void account_burn_verify(const config *cfg, const char *password, size_t password_len)
{
    int ln = 0;
    while (ln < 63 && (UINT64_C(1) << ln) < (uint64_t)cfg->scrypt_n)
        ln++;
    char dummy[160];
    snprintf(dummy, sizeof dummy,
             "$scrypt$ln=%d,r=%" PRId64 ",p=%" PRId64 "$AAAAAAAAAAAAAAAAAAAAAA$"
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
             ln, cfg->scrypt_r, cfg->scrypt_p);
    (void)auth_password_verify(password, password_len, dummy);
}

/* The user id when email and password match; 401 with the same message otherwise. */
static int account_check_login(db *db, const config *cfg, const json_t *body, int64_t *user_id, mkt_error *err)
{
    size_t email_len, password_len;
    const char *email_text = account_rules_body_string(body, "email", &email_len);
    const char *password = account_rules_body_string(body, "password", &password_len);
    /* A malformed email cannot be registered; skipping the query also keeps the column's
     * PAD SPACE collation from matching "a@b.c   " to "a@b.c". */
    char *email = account_rules_email_problem(email_text, email_len) ? NULL : account_rules_email_lower(email_text);
    db_rows rows = {0};
    if (email && db_query(db, "SELECT id, password_hash FROM users WHERE email = ?", DB_PARAMS(db_text(email)),
                          &rows, err) < 0) {
        free(email);
        db_rows_free(&rows);
        return -1;
    }
    enum { LCOL_ID, LCOL_HASH };
    int ok = 0;
    if (rows.row_count == 1) {
        ok = auth_password_verify(password, password_len, db_rows_text(&rows, 0, LCOL_HASH));
        *user_id = db_rows_int(&rows, 0, LCOL_ID);
    } else {
        account_burn_verify(cfg, password, password_len);
    }
    free(email);
    db_rows_free(&rows);
    return ok ? 0 : error_set(err, ERROR_UNAUTHORIZED, "%s", account_bad_login);
}

json_t *account_login(db *db, const config *cfg, const json_t *body, mkt_error *err)
{
    static const account_rules_field fields[] = {{"email", 1}, {"password", 1}, {"session", 0}};
    int problems = account_rules_check_fields(body, fields, sizeof fields / sizeof fields[0], err);
    if (problems + account_session_check(body, err))
        return NULL;
    int64_t user_id = 0, session_id = 0;
    char token[AUTH_TOKEN_TEXT_LEN + 1];
    unsigned char token_hash[AUTH_TOKEN_HASH_LEN];
    if (account_check_login(db, cfg, body, &user_id, err) < 0 || auth_token_new(token, token_hash, err) < 0 ||
        account_session_insert(db, user_id, token_hash, cfg->token_ttl, &session_id, err) < 0)
        return NULL;
    char *expires_at = account_session_expiry(db, session_id, err);
    json_t *user = expires_at ? account_user_json(db, user_id, err) : NULL;
    json_t *out = user ? json_pack("{s:s, s:s, s:o}", "token", token, "expires_at", expires_at, "user", user) : NULL;
    free(expires_at);
    return out;
}

int account_authenticate(db *db, const char *token, account_caller *out, mkt_error *err)
{
    static const char sql[] =
        "SELECT s.id, s.user_id, (SELECT d.id FROM developers d WHERE d.user_id = s.user_id),"
        " (SELECT GROUP_CONCAT(r.role) FROM user_roles r WHERE r.user_id = s.user_id),"
        " FLOOR(UNIX_TIMESTAMP(s.expires_at))"
        " FROM sessions s WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > UTC_TIMESTAMP(6)";
    enum { SCOL_SESSION, SCOL_USER, SCOL_DEVELOPER, SCOL_ROLES, SCOL_EXPIRES };
    memset(out, 0, sizeof *out);
    /* Junk never reaches the database: it cannot match, and the query is the costly part. */
    if (!auth_token_well_formed(token))
        return error_set(err, ERROR_UNAUTHORIZED, "%s", account_bad_token);
    unsigned char hash[AUTH_TOKEN_HASH_LEN];
    auth_token_hash(token, AUTH_TOKEN_TEXT_LEN, hash);
    db_rows rows = {0};
    int rc = db_query(db, sql, DB_PARAMS(db_bytes(hash, sizeof hash)), &rows, err);
    if (rc == 0 && rows.row_count != 1)
        rc = error_set(err, ERROR_UNAUTHORIZED, "%s", account_bad_token);
    if (rc == 0) {
        out->session_id = db_rows_int(&rows, 0, SCOL_SESSION);
        out->user_id = db_rows_int(&rows, 0, SCOL_USER);
        out->developer_id = db_rows_int(&rows, 0, SCOL_DEVELOPER);
        out->roles = account_roles_from_list(db_rows_text(&rows, 0, SCOL_ROLES));
        out->expires_at = db_rows_int(&rows, 0, SCOL_EXPIRES);
    }
    db_rows_free(&rows);
    return rc;
}

int account_caller_load(db *db, int64_t user_id, account_caller *out, mkt_error *err)
{
    static const char sql[] = "SELECT (SELECT d.id FROM developers d WHERE d.user_id = u.id),"
                              " (SELECT GROUP_CONCAT(r.role) FROM user_roles r WHERE r.user_id = u.id)"
                              " FROM users u WHERE u.id = ?";
    enum { UCOL_DEVELOPER, UCOL_ROLES };
    db_rows rows = {0};
    int rc = db_query(db, sql, DB_PARAMS(db_int(user_id)), &rows, err);
    if (rc == 0 && rows.row_count != 1)
        rc = error_set(err, ERROR_UNAUTHORIZED, "%s", account_bad_token);
    if (rc == 0) {
        out->user_id = user_id;
        out->developer_id = db_rows_int(&rows, 0, UCOL_DEVELOPER);
        out->roles = account_roles_from_list(db_rows_text(&rows, 0, UCOL_ROLES));
    }
    db_rows_free(&rows);
    return rc;
}

static int account_require_caller(const account_caller *caller, mkt_error *err)
{
    if (!caller || caller->user_id <= 0 || caller->session_id <= 0)
        return error_set(err, ERROR_UNAUTHORIZED, "this needs a signed-in caller");
    return 0;
}

int account_logout(db *db, const account_caller *caller, mkt_error *err)
{
    if (account_require_caller(caller, err) < 0)
        return -1;
    /* Idempotent: a second logout of the same session changes nothing and still succeeds. */
    return db_exec(db,
                   "UPDATE sessions SET revoked_at = UTC_TIMESTAMP(6)"
                   " WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                   DB_PARAMS(db_int(caller->session_id), db_int(caller->user_id)), NULL, err) < 0
               ? -1
               : 0;
}

json_t *account_me(db *db, const account_caller *caller, mkt_error *err)
{
    if (account_require_caller(caller, err) < 0)
        return NULL;
    return account_user_json(db, caller->user_id, err);
}

/* ---- developers and roles ------------------------------------------------------------------- */

/* Granting a role the user already has is a no-op. ON DUPLICATE KEY rather than INSERT IGNORE:
 * IGNORE would also swallow foreign-key and CHECK failures. */
static int account_role_insert(db *db, int64_t user_id, const char *role, mkt_error *err)
{
    return db_exec(db, "INSERT INTO user_roles (user_id, role) VALUES (?, ?) ON DUPLICATE KEY UPDATE role = role",
                   DB_PARAMS(db_int(user_id), db_text(role)), NULL, err);
}

typedef struct {
    int64_t user_id;
    const char *display_name, *bio, *website;
    int64_t developer_id; /* out */
} account_developer_ctx;

static int account_developer_tx(db *db, void *arg, mkt_error *err)
{
    account_developer_ctx *ctx = arg;
    db_result result = {0};
    if (db_exec(db, "INSERT INTO developers (user_id, display_name, bio, website) VALUES (?, ?, ?, ?)",
                DB_PARAMS(db_int(ctx->user_id), db_text(ctx->display_name), db_text(ctx->bio), db_text(ctx->website)),
                &result, err) < 0) {
        if (db_last_errno(db) == DB_ER_DUP_ENTRY) {
            error_clear(err);
            error_set(err, ERROR_CONFLICT, "this account already has a developer profile");
        }
        return -1;
    }
    ctx->developer_id = (int64_t)result.insert_id;
    return account_role_insert(db, ctx->user_id, "developer", err);
}

json_t *account_developer_create(db *db, const account_caller *caller, const json_t *body, mkt_error *err)
{
    static const account_rules_field fields[] = {{"display_name", 1}, {"bio", 0}, {"website", 0}};
    if (account_require_caller(caller, err) < 0)
        return NULL;
    int problems = account_rules_check_fields(body, fields, sizeof fields / sizeof fields[0], err);
    problems += account_rules_check_body_text(body, "display_name", &account_rules_display_name, err);
    problems += account_rules_check_body_text(body, "bio", &account_rules_bio, err);
    problems += account_rules_check_body_with(body, "website", account_rules_website_problem, err);
    if (problems)
        return NULL;
    account_developer_ctx ctx = {
        .user_id = caller->user_id,
        .display_name = account_rules_body_string(body, "display_name", NULL),
        .bio = account_rules_body_string(body, "bio", NULL),
        .website = account_rules_body_string(body, "website", NULL),
    };
    if (db_transaction(db, account_developer_tx, &ctx, err) < 0)
        return NULL;
    return account_developer_json(db, ctx.developer_id, err);
}

json_t *account_developer_get(db *db, const char *id, mkt_error *err)
{
    int64_t developer_id;
    if (ident_id_parse(id, &developer_id) < 0) { /* one spelling per id (core/ident.h) */
        error_set(err, ERROR_NOT_FOUND, "no such developer");
        return NULL;
    }
    return account_developer_json(db, developer_id, err);
}

int account_grant_role(db *db, const char *email, const char *role, mkt_error *err)
{
    if (!account_role_parse(role)) {
        error_set(err, ERROR_VALIDATION, "role must be developer, moderator or admin");
        return error_add_field(err, "role", "must be developer, moderator or admin");
    }
    char *lower = account_rules_email_lower(email);
    if (!lower)
        return error_set(err, ERROR_VALIDATION, "an email is required");
    db_rows rows = {0};
    int rc = db_query(db, "SELECT id FROM users WHERE email = ?", DB_PARAMS(db_text(lower)), &rows, err);
    if (rc == 0 && rows.row_count == 0)
        rc = error_set(err, ERROR_NOT_FOUND, "no account with email %s", lower);
    if (rc == 0)
        rc = account_role_insert(db, db_rows_int(&rows, 0, 0), role, err);
    db_rows_free(&rows);
    free(lower);
    return rc < 0 ? -1 : 0;
}

/* Locks by writing the row, not by SELECT ... FOR UPDATE: on a Galera cluster a read lock stays on
 * the node that took it, so two payout requests of one developer on two nodes would both pass the
 * balance check (each node locked its own copy) and pay out more than the balance. A written row is
 * in the transaction's write set: the second of the two fails certification at COMMIT (a 1213),
 * db_transaction runs it again, and the new try sees the balance the first one left. On one server
 * the UPDATE takes the same exclusive row lock FOR UPDATE took. The two updates cancel out
 * (created_at ends as it was); one that changed nothing would not be in the write set. */
int account_developer_lock(db *db, int64_t developer_id, mkt_error *err)
{
    db_result result;
    if (db_exec(db, "UPDATE developers SET created_at = created_at + INTERVAL 1 MICROSECOND WHERE id = ?",
                DB_PARAMS(db_int(developer_id)), &result, err) < 0)
        return -1;
    if (result.affected_rows == 0)
        return error_set(err, ERROR_FORBIDDEN, "a developer profile is required");
    return db_exec(db, "UPDATE developers SET created_at = created_at - INTERVAL 1 MICROSECOND WHERE id = ?",
                   DB_PARAMS(db_int(developer_id)), NULL, err);
}

int account_age_seconds(db *db, int64_t user_id, int64_t *age, mkt_error *err)
{
    db_rows rows = {0};
    /* the database's clock on both sides, so the age never depends on the server's clock */
    if (db_query(db,
                 "SELECT GREATEST(TIMESTAMPDIFF(SECOND, created_at, CURRENT_TIMESTAMP(6)), 0) FROM users WHERE id = ?",
                 DB_PARAMS(db_int(user_id)), &rows, err) < 0)
        return -1;
    int rc = 0;
    if (rows.row_count == 0)
        rc = error_set(err, ERROR_NOT_FOUND, "no account %" PRId64, user_id);
    else
        *age = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    return rc;
}

/* ---- bulk accounts (marketplace seed --tools) ------------------------------------------------ */

char *account_password_hash(const config *cfg, const char *password, mkt_error *err)
{
    return auth_password_hash(password, strlen(password), account_scrypt_params(cfg), err);
}

static int account_bulk_sorted(const account_bulk_row *rows, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (strcmp(rows[i - 1].email, rows[i].email) >= 0)
            return 0;
    return 1;
}

static int account_bulk_users(db *db, const account_bulk_row *rows, size_t n, const char *password_hash,
                              mkt_error *err)
{
    db_value *params = calloc(n * 3, sizeof *params);
    if (!params)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        params[3 * i] = db_text(rows[i].email);
        params[3 * i + 1] = db_text(rows[i].display_name);
        params[3 * i + 2] = db_text(password_hash);
    }
    /* An email that exists keeps its row: a second run (or one resumed after a failure) changes nothing. */
    int rc = db_exec_rows(db, "INSERT INTO users (email, display_name, password_hash) VALUES ", "(?, ?, ?)",
                          " ON DUPLICATE KEY UPDATE id = id", params, 3, n, NULL, err);
    free(params);
    return rc;
}

/* Reads back the ids of rows (by email) into user_ids and developer_ids. */
static int account_bulk_read_ids(db *db, const account_bulk_row *rows, size_t n, int64_t *user_ids,
                                 int64_t *developer_ids, mkt_error *err)
{
    enum { BCOL_EMAIL, BCOL_USER, BCOL_DEVELOPER };
    char *sql = db_sql_rows("SELECT u.email, u.id, d.id FROM users u LEFT JOIN developers d ON d.user_id = u.id"
                            " WHERE u.email IN (", "?", ")", n, err);
    db_value *params = calloc(n, sizeof *params);
    if (!sql || !params) {
        free(sql);
        free(params);
        return error_is_set(err) ? -1 : error_set(err, ERROR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        params[i] = db_text(rows[i].email);
    db_rows found = {0};
    int rc = db_query(db, sql, params, n, &found, err);
    free(sql);
    free(params);
    if (rc < 0)
        return -1;
    memset(user_ids, 0, n * sizeof *user_ids);
    for (size_t r = 0; r < found.row_count; r++) {
        const char *email = db_rows_text(&found, r, BCOL_EMAIL);
        size_t lo = 0, hi = n; /* rows are sorted by email: a binary search finds the row */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int cmp = strcmp(rows[mid].email, email);
            if (cmp == 0) {
                user_ids[mid] = db_rows_int(&found, r, BCOL_USER);
                developer_ids[mid] = db_rows_int(&found, r, BCOL_DEVELOPER);
                break;
            }
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    db_rows_free(&found);
    for (size_t i = 0; i < n; i++)
        if (user_ids[i] == 0)
            return error_set(err, ERROR_INTERNAL, "account %s was not written", rows[i].email);
    return 0;
}

/* Developer profiles and the developer role for the rows that name one and have no profile yet. */
static int account_bulk_developers(db *db, const account_bulk_row *rows, size_t n, const int64_t *user_ids,
                                   const int64_t *developer_ids, mkt_error *err)
{
    db_value *params = calloc(n * 3, sizeof *params);
    if (!params)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].developer_name || developer_ids[i] != 0)
            continue;
        params[3 * count] = db_int(user_ids[i]);
        params[3 * count + 1] = db_text(rows[i].developer_name);
        params[3 * count + 2] = db_text(rows[i].developer_bio);
        count++;
    }
    int rc = 0;
    if (count > 0)
        rc = db_exec_rows(db, "INSERT INTO developers (user_id, display_name, bio) VALUES ", "(?, ?, ?)", NULL, params,
                          3, count, NULL, err);
    if (rc == 0 && count > 0) {
        for (size_t i = 0, k = 0; i < n; i++)
            if (rows[i].developer_name && developer_ids[i] == 0)
                params[k++] = db_int(user_ids[i]);
        rc = db_exec_rows(db, "INSERT INTO user_roles (user_id, role) VALUES ", "(?, 'developer')",
                          " ON DUPLICATE KEY UPDATE role = role", params, 1, count, NULL, err);
    }
    free(params);
    return rc;
}

int account_bulk_ensure(db *db, const account_bulk_row *rows, size_t n, const char *password_hash,
                        int64_t *user_ids, int64_t *developer_ids, mkt_error *err)
{
    if (n == 0)
        return 0;
    if (n > ACCOUNT_BULK_MAX || !account_bulk_sorted(rows, n))
        return error_set(err, ERROR_INTERNAL, "internal error: bulk accounts must be sorted, at most %d",
                         ACCOUNT_BULK_MAX);
    if (account_bulk_users(db, rows, n, password_hash, err) < 0 ||
        account_bulk_read_ids(db, rows, n, user_ids, developer_ids, err) < 0 ||
        account_bulk_developers(db, rows, n, user_ids, developer_ids, err) < 0)
        return -1;
    return account_bulk_read_ids(db, rows, n, user_ids, developer_ids, err);
}

/* core/account against a real MariaDB: register, login, tokens, developer profiles, roles and
 * every input rule. Each test makes its own accounts (unique emails), so tests run in any order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/account.h"
#include "core/auth.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/stack_env.h"

static db *g_db;
static config g_cfg;

static const char password[] = "correct horse battery";

/* ---- helpers -------------------------------------------------------------------------------- */

/* A fresh address per call: pid, time and a counter keep parallel and repeated runs apart. */
static const char *unique_email(const char *tag)
{
    static char buf[8][128];
    static unsigned counter;
    char *out = buf[counter % 8];
    snprintf(out, sizeof buf[0], "%s-%d-%ld-%u@Example.Test", tag, (int)getpid(), (long)time(NULL), counter);
    counter++;
    return out;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static int64_t count_users(const char *email)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", email);
    lower(copy);
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    int64_t n = -1;
    if (db_query(g_db, "SELECT COUNT(*) FROM users WHERE email = ?", DB_PARAMS(db_text(copy)), &rows, &err) == 0)
        n = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    error_clear(&err);
    return n;
}

static int64_t count_sql(const char *sql, int64_t id)
{
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    int64_t n = -1;
    if (db_query(g_db, sql, DB_PARAMS(db_int(id)), &rows, &err) == 0)
        n = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    error_clear(&err);
    return n;
}

static int has_field(const mkt_error *err, const char *field, const char *message)
{
    for (size_t i = 0; i < err->field_count; i++)
        if (strcmp(err->fields[i].field, field) == 0 && (!message || strcmp(err->fields[i].message, message) == 0))
            return 1;
    return 0;
}

static void dump_fields(const mkt_error *err)
{
    fprintf(stderr, "    kind %d, message %s, fields:", err->kind, err->message ? err->message : "(none)");
    for (size_t i = 0; i < err->field_count; i++)
        fprintf(stderr, " [%s: %s]", err->fields[i].field, err->fields[i].message);
    fprintf(stderr, "\n");
}

/* Fails the current test unless err names field (with message, when given). */
static void check_field_at(const mkt_error *err, const char *field, const char *message, int line)
{
    if (has_field(err, field, message))
        return;
    fprintf(stderr, "  %s:%d: no field error \"%s\" (%s)\n", __FILE__, line, field, message ? message : "any");
    dump_fields(err);
    check_failures++;
}

#define CHECK_FIELD(err, field, message) check_field_at((err), (field), (message), __LINE__)

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int is_rfc3339_utc(const char *s)
{
    int y, mo, d, h, mi, se;
    char z;
    return s && strlen(s) == 20 && sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) == 7 &&
           z == 'Z' && y >= 2000;
}

/* The roles array as "buyer,developer,..." for easy comparison. */
static const char *roles_text(const json_t *user)
{
    static char buf[128];
    buf[0] = '\0';
    size_t i;
    json_t *role;
    json_array_foreach(json_object_get(user, "roles"), i, role) {
        if (i)
            strcat(buf, ",");
        strncat(buf, json_string_value(role) ? json_string_value(role) : "?", 20);
    }
    return buf;
}

/* Registers a new account and returns {user, token}; fails the test when it cannot. */
static json_t *register_new(const char *tag, const char **email_out)
{
    const char *email = unique_email(tag);
    json_t *body = json_pack("{s:s, s:s, s:s}", "email", email, "password", password, "display_name", "Test User");
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = account_register(g_db, &g_cfg, body, &err);
    if (!out) {
        fprintf(stderr, "  register %s failed\n", email);
        dump_fields(&err);
        check_failures++;
    }
    json_decref(body);
    error_clear(&err);
    if (email_out)
        *email_out = email;
    return out;
}

static int authenticate(const char *token, account_caller *caller)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = account_authenticate(g_db, token, caller, &err);
    if (rc < 0)
        CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    return rc;
}

/* ---- register, login, me -------------------------------------------------------------------- */

static void test_register_and_me(void)
{
    const char *email;
    json_t *out = register_new("reg", &email);
    if (!out)
        return;
    json_t *user = json_object_get(out, "user");
    const char *token = str(out, "token");
    char expected_email[128];
    snprintf(expected_email, sizeof expected_email, "%s", email);
    lower(expected_email);
    CHECK(str(user, "id") != NULL);
    CHECK_STR(str(user, "email"), expected_email);
    CHECK_STR(str(user, "display_name"), "Test User");
    CHECK_STR(roles_text(user), "buyer");
    CHECK(is_rfc3339_utc(str(user, "created_at")));
    CHECK(json_object_get(user, "developer") == NULL);
    CHECK(json_object_get(user, "password_hash") == NULL);
    CHECK_INT(json_object_size(out), 3);  /* user, token, expires_at (as login answers) */
    CHECK(is_rfc3339_utc(str(out, "expires_at")));
    CHECK(token && strlen(token) == AUTH_TOKEN_TEXT_LEN);

    account_caller caller;
    CHECK_INT(authenticate(token, &caller), 0);
    CHECK_INT(caller.user_id, strtoll(str(user, "id"), NULL, 10));
    CHECK(caller.session_id > 0);
    CHECK_INT(caller.developer_id, 0);
    CHECK_INT(caller.roles, 0);

    mkt_error err = MKT_ERROR_INIT;
    json_t *me = account_me(g_db, &caller, &err);
    CHECK(me != NULL);
    CHECK(json_equal(me, user));
    json_decref(me);
    error_clear(&err);
    /* Only the hash is stored. */
    CHECK_INT(count_sql("SELECT COUNT(*) FROM sessions WHERE user_id = ?", caller.user_id), 1);
    json_decref(out);
}

static json_t *login(const char *email, const char *pw, mkt_error *err)
{
    json_t *body = json_pack("{s:s, s:s}", "email", email, "password", pw);
    json_t *out = account_login(g_db, &g_cfg, body, err);
    json_decref(body);
    return out;
}

static void test_login(void)
{
    const char *email;
    json_t *reg = register_new("login", &email);
    if (!reg)
        return;
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = login(email, password, &err);
    CHECK(out != NULL);
    if (out) {
        CHECK_INT(strlen(str(out, "token")), AUTH_TOKEN_TEXT_LEN);
        CHECK(strcmp(str(out, "token"), str(reg, "token")) != 0);
        CHECK(is_rfc3339_utc(str(out, "expires_at")));
        CHECK(json_equal(json_object_get(out, "user"), json_object_get(reg, "user")));
        account_caller a, b;
        CHECK_INT(authenticate(str(out, "token"), &a), 0);
        CHECK_INT(authenticate(str(reg, "token"), &b), 0);
        CHECK(a.session_id != b.session_id);
        CHECK_INT(a.user_id, b.user_id);
        /* expires_at is token_ttl seconds ahead. */
        struct tm tm = {0};
        strptime(str(out, "expires_at"), "%Y-%m-%dT%H:%M:%SZ", &tm);
        long ahead = (long)(timegm(&tm) - time(NULL));
        CHECK(ahead > g_cfg.token_ttl - 120 && ahead <= g_cfg.token_ttl + 1);
    }
    json_decref(out);

    /* Case does not matter for the email. */
    char upper[128];
    snprintf(upper, sizeof upper, "%s", email);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    out = login(upper, password, &err);
    CHECK(out != NULL);
    json_decref(out);
    error_clear(&err);

    /* Wrong password and unknown email: the same 401 and message. */
    out = login(email, "correct horse batterY", &err);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    CHECK_STR(err.message, "invalid email or password");
    CHECK_INT(err.field_count, 0);
    error_clear(&err);
    out = login(unique_email("nobody"), password, &err);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    CHECK_STR(err.message, "invalid email or password");
    error_clear(&err);
    /* Padding collations would match trailing spaces; the login must not. */
    char padded[160];
    snprintf(padded, sizeof padded, "%s   ", email);
    out = login(padded, password, &err);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    out = login("", password, &err);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    json_decref(reg);
}

static void test_login_shape(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *body = json_object();
    CHECK(account_login(g_db, &g_cfg, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "email", "is required");
    CHECK_FIELD(&err, "password", "is required");
    error_clear(&err);
    json_decref(body);

    body = json_pack("{s:i, s:n, s:s}", "email", 5, "password", "remember", "me");
    CHECK(account_login(g_db, &g_cfg, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "email", "must be a string");
    CHECK_FIELD(&err, "password", "must be a string");
    CHECK_FIELD(&err, "remember", "unknown field");
    CHECK_INT(err.field_count, 3);
    error_clear(&err);
    json_decref(body);

    body = json_pack("[s, s]", "a@b.test", password);
    CHECK(account_login(g_db, &g_cfg, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "", "must be a JSON object");
    error_clear(&err);
    json_decref(body);
}

/* ---- tokens --------------------------------------------------------------------------------- */

static void test_logout(void)
{
    const char *email;
    json_t *reg = register_new("logout", &email);
    if (!reg)
        return;
    mkt_error err = MKT_ERROR_INIT;
    json_t *second = login(email, password, &err);
    CHECK(second != NULL);
    account_caller caller, other;
    CHECK_INT(authenticate(str(reg, "token"), &caller), 0);
    CHECK_INT(account_logout(g_db, &caller, &err), 0);
    CHECK_INT(authenticate(str(reg, "token"), &caller), -1);
    /* Only that session ends. */
    CHECK_INT(authenticate(second ? str(second, "token") : "", &other), 0);
    /* Logging out twice is harmless. */
    CHECK_INT(account_logout(g_db, &other, &err), 0);
    CHECK_INT(account_logout(g_db, &other, &err), 0);
    CHECK_INT(authenticate(second ? str(second, "token") : "", &other), -1);
    account_caller nobody = {0};
    CHECK_INT(account_logout(g_db, &nobody, &err), -1);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    json_decref(second);
    json_decref(reg);
}

/* A session written directly, bypassing the module, so expiry and revocation can be set. */
static int insert_session(int64_t user_id, const char *expires_sql, int revoked, char token[AUTH_TOKEN_TEXT_LEN + 1])
{
    unsigned char hash[AUTH_TOKEN_HASH_LEN];
    mkt_error err = MKT_ERROR_INIT;
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO sessions (user_id, token_hash, expires_at, revoked_at) VALUES (?, ?, %s, %s)",
             expires_sql, revoked ? "UTC_TIMESTAMP(6)" : "NULL");
    int rc = auth_token_new(token, hash, &err);
    if (rc == 0)
        rc = db_exec(g_db, sql, DB_PARAMS(db_int(user_id), db_bytes(hash, sizeof hash)), NULL, &err);
    if (rc < 0)
        dump_fields(&err);
    error_clear(&err);
    return rc;
}

static void test_expired_and_revoked(void)
{
    json_t *reg = register_new("expiry", NULL);
    if (!reg)
        return;
    int64_t user_id = strtoll(str(json_object_get(reg, "user"), "id"), NULL, 10);
    char expired[AUTH_TOKEN_TEXT_LEN + 1], revoked[AUTH_TOKEN_TEXT_LEN + 1], live[AUTH_TOKEN_TEXT_LEN + 1];
    CHECK_INT(insert_session(user_id, "UTC_TIMESTAMP(6) - INTERVAL 1 SECOND", 0, expired), 0);
    CHECK_INT(insert_session(user_id, "UTC_TIMESTAMP(6) + INTERVAL 1 HOUR", 1, revoked), 0);
    CHECK_INT(insert_session(user_id, "UTC_TIMESTAMP(6) + INTERVAL 1 HOUR", 0, live), 0);
    account_caller caller;
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(account_authenticate(g_db, expired, &caller, &err), -1);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    CHECK_STR(err.message, "invalid or expired token");
    CHECK_INT(caller.user_id, 0);
    error_clear(&err);
    CHECK_INT(authenticate(revoked, &caller), -1);
    CHECK_INT(authenticate(live, &caller), 0);
    CHECK_INT(caller.user_id, user_id);
    json_decref(reg);
}

static void test_malformed_tokens(void)
{
    static const char *const bad[] = {
        NULL,
        "",
        "abc",
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",   /* 42 */
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQA", /* 44 */
        "+bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP=",
        "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOP",
        "' OR 1=1 -- aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        account_caller caller = {.user_id = 99};
        mkt_error err = MKT_ERROR_INIT;
        /* No database handle: a malformed token must be refused before any query. */
        CHECK_INT(account_authenticate(NULL, bad[i], &caller, &err), -1);
        CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
        CHECK_INT(caller.user_id, 0);
        error_clear(&err);
    }
    /* Well formed but never issued. */
    char token[AUTH_TOKEN_TEXT_LEN + 1];
    unsigned char hash[AUTH_TOKEN_HASH_LEN];
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(auth_token_new(token, hash, &err), 0);
    account_caller caller;
    CHECK_INT(authenticate(token, &caller), -1);
}

/* ---- register rules ------------------------------------------------------------------------- */

static void test_duplicate_email(void)
{
    const char *email;
    json_t *reg = register_new("dup", &email);
    if (!reg)
        return;
    char variants[2][128];
    snprintf(variants[0], sizeof variants[0], "%s", email);
    snprintf(variants[1], sizeof variants[1], "%s", email);
    lower(variants[1]);
    variants[1][0] = (char)(variants[1][0] - 'a' + 'A'); /* "Dup-..." */
    for (int i = 0; i < 2; i++) {
        json_t *body = json_pack("{s:s, s:s, s:s}", "email", variants[i], "password", "another password",
                                 "display_name", "Second");
        mkt_error err = MKT_ERROR_INIT;
        CHECK(account_register(g_db, &g_cfg, body, &err) == NULL);
        CHECK_INT(err.kind, ERROR_CONFLICT);
        CHECK_FIELD(&err, "email", "email is already registered");
        error_clear(&err);
        json_decref(body);
    }
    CHECK_INT(count_users(email), 1);
    /* The first account is untouched: its password still works. */
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = login(email, password, &err);
    CHECK(out != NULL);
    CHECK_STR(str(json_object_get(out, "user"), "display_name"), "Test User");
    json_decref(out);
    error_clear(&err);
    json_decref(reg);
}

/* Registers body (stolen); expects failure naming field with message, and no account for email. */
static void expect_register_fails(json_t *body, const char *field, const char *message, int line)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = account_register(g_db, &g_cfg, body, &err);
    const char *email = json_string_value(json_object_get(body, "email"));
    if (out || err.kind != ERROR_VALIDATION || !has_field(&err, field, message) ||
        (email && strlen(email) < 300 && count_users(email) != 0)) {
        fprintf(stderr, "  line %d: register should fail on %s (%s)\n", line, field, message ? message : "any");
        dump_fields(&err);
        check_failures++;
    }
    json_decref(out);
    json_decref(body);
    error_clear(&err);
}

static json_t *reg_body(const char *email, const char *pw, const char *name)
{
    return json_pack("{s:s, s:s, s:s}", "email", email, "password", pw, "display_name", name);
}

#define REG_FAILS(body, field, message) expect_register_fails((body), (field), (message), __LINE__)

static void test_register_email_rules(void)
{
    char buf[512];
    REG_FAILS(reg_body("", password, "N"), "email", "must be a valid email address");
    REG_FAILS(reg_body("no-at-sign.example", password, "N"), "email", "must be a valid email address");
    snprintf(buf, sizeof buf, "%s", unique_email("x"));
    *strchr(buf, '.') = '_';  /* no dot left in the domain */
    REG_FAILS(reg_body(buf, password, "N"), "email", "must be a valid email address");
    REG_FAILS(reg_body("@example.test", password, "N"), "email", "must be a valid email address");
    REG_FAILS(reg_body("a@.example", password, "N"), "email", "must be a valid email address");
    REG_FAILS(reg_body("a@example.", password, "N"), "email", "must be a valid email address");
    REG_FAILS(reg_body("a@example..test", password, "N"), "email", "must be a valid email address");
    REG_FAILS(reg_body("a@b@example.test", password, "N"), "email", "must be a valid email address");
    snprintf(buf, sizeof buf, " %s", unique_email("lead"));
    REG_FAILS(reg_body(buf, password, "N"), "email", "must not contain spaces or control characters");
    snprintf(buf, sizeof buf, "%s ", unique_email("trail"));
    REG_FAILS(reg_body(buf, password, "N"), "email", "must not contain spaces or control characters");
    snprintf(buf, sizeof buf, "in side%s", unique_email(""));
    REG_FAILS(reg_body(buf, password, "N"), "email", "must not contain spaces or control characters");
    snprintf(buf, sizeof buf, "tab\t%s", unique_email(""));
    REG_FAILS(reg_body(buf, password, "N"), "email", "must not contain spaces or control characters");
    snprintf(buf, sizeof buf, "c1\xc2\x85%s", unique_email("")); /* U+0085 */
    REG_FAILS(reg_body(buf, password, "N"), "email", "must not contain spaces or control characters");
    char *local = check_repeat("a", 65);
    snprintf(buf, sizeof buf, "%s@example.test", local);
    REG_FAILS(reg_body(buf, password, "N"), "email", "must be a valid email address");
    free(local);
    char *label = check_repeat("b", 250);
    snprintf(buf, sizeof buf, "a@%s.test", label); /* 257 bytes */
    REG_FAILS(reg_body(buf, password, "N"), "email", "must be at most 254 bytes");
    free(label);
}

static void test_register_password_and_name_rules(void)
{
    REG_FAILS(reg_body(unique_email("pw"), "123456789", "N"), "password", "must be at least 10 characters");
    /* Characters, not bytes: nine two-byte characters are still too short. */
    REG_FAILS(reg_body(unique_email("pw"), "ééééééééé", "N"), "password", "must be at least 10 characters");
    char *long_pw = check_repeat("p", 1025);
    REG_FAILS(reg_body(unique_email("pw"), long_pw, "N"), "password", "must be at most 1024 characters");
    free(long_pw);

    REG_FAILS(reg_body(unique_email("nm"), password, ""), "display_name", "must not be empty");
    REG_FAILS(reg_body(unique_email("nm"), password, "   "), "display_name", "must not be only whitespace");
    REG_FAILS(reg_body(unique_email("nm"), password, "\xe3\x85\xa4\xe2\x80\x8b"), "display_name",
              "must not be only whitespace"); /* Hangul filler + zero-width space */
    char *long_name = check_repeat("n", 81);
    REG_FAILS(reg_body(unique_email("nm"), password, long_name), "display_name", "must be at most 80 characters");
    free(long_name);
    REG_FAILS(reg_body(unique_email("nm"), password, "two\nlines"), "display_name",
              "must not contain control characters");
    REG_FAILS(reg_body(unique_email("nm"), password, "\xe2\x80\xaegnp.exe"), "display_name",
              "must not contain control characters"); /* U+202E right-to-left override */
    json_t *body = reg_body(unique_email("nm"), password, "x");
    json_object_set_new(body, "display_name", json_stringn("a\0b", 3));
    REG_FAILS(body, "display_name", "must not contain control characters");
}

static void test_register_shape(void)
{
    const char *email = unique_email("shape");
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:i}", "email", email, "password", password, "display_name", "N",
                             "role", "admin", "is_admin", 1);
    mkt_error err = MKT_ERROR_INIT;
    CHECK(account_register(g_db, &g_cfg, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "role", "unknown field");
    CHECK_FIELD(&err, "is_admin", "unknown field");
    CHECK_INT(err.field_count, 2);
    CHECK_INT(count_users(email), 0);
    error_clear(&err);
    json_decref(body);

    body = json_pack("{s:i, s:n, s:[]}", "email", 1, "password", "display_name");
    CHECK(account_register(g_db, &g_cfg, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "email", "must be a string");
    CHECK_FIELD(&err, "password", "must be a string");
    CHECK_FIELD(&err, "display_name", "must be a string");
    CHECK_INT(err.field_count, 3);
    error_clear(&err);
    json_decref(body);

    body = json_object();
    CHECK(account_register(g_db, &g_cfg, body, &err) == NULL);
    CHECK_FIELD(&err, "email", "is required");
    CHECK_FIELD(&err, "password", "is required");
    CHECK_FIELD(&err, "display_name", "is required");
    error_clear(&err);
    json_decref(body);

    /* Every problem at once, across kinds. */
    body = json_pack("{s:s, s:s, s:s, s:b}", "email", "not-an-email", "password", "short", "display_name", "",
                     "extra", 1);
    CHECK(account_register(g_db, &g_cfg, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "email", NULL);
    CHECK_FIELD(&err, "password", NULL);
    CHECK_FIELD(&err, "display_name", NULL);
    CHECK_FIELD(&err, "extra", "unknown field");
    CHECK_INT(err.field_count, 4);
    error_clear(&err);
    json_decref(body);

    /* Without an error object the rules still hold: nothing is created. */
    const char *quiet = unique_email("quiet");
    body = reg_body(quiet, "short", "Q");
    CHECK(account_register(g_db, &g_cfg, body, NULL) == NULL);
    CHECK_INT(count_users(quiet), 0);
    json_decref(body);

    json_t *not_objects[] = {json_array(), json_string("hello"), json_integer(3), json_null(), NULL};
    for (size_t i = 0; i < sizeof not_objects / sizeof not_objects[0]; i++) {
        CHECK(account_register(g_db, &g_cfg, not_objects[i], &err) == NULL);
        CHECK_INT(err.kind, ERROR_VALIDATION);
        CHECK_FIELD(&err, "", "must be a JSON object");
        error_clear(&err);
        json_decref(not_objects[i]);
    }
}

static void test_register_limits_accepted(void)
{
    /* The exact limits pass: 10 and 1024 characters, 80 multi-byte characters, a 254-byte email. */
    char *pw_max = check_repeat("\xc3\xa9", 1024);
    char *name_max = check_repeat("\xe6\x97\xa5", 80);
    char *label = check_repeat("c", 254 - 20 - 1 - 5);
    char email[300];
    snprintf(email, sizeof email, "%08x%08x%04x@%s.test", (unsigned)getpid(), (unsigned)time(NULL),
             (unsigned)(rand() & 0xffff), label);
    CHECK_INT(strlen(email), 254);
    const char *cases[][3] = {
        {unique_email("min"), "0123456789", "Min"},
        {unique_email("max"), pw_max, name_max},
        {email, password, "Long Email"},
    };
    for (size_t i = 0; i < 3; i++) {
        json_t *body = reg_body(cases[i][0], cases[i][1], cases[i][2]);
        mkt_error err = MKT_ERROR_INIT;
        json_t *out = account_register(g_db, &g_cfg, body, &err);
        CHECK(out != NULL);
        if (!out)
            dump_fields(&err);
        else
            CHECK_STR(str(json_object_get(out, "user"), "display_name"), cases[i][2]);
        json_decref(out);
        json_decref(body);
        error_clear(&err);
        /* ... and the password works for login. */
        out = login(cases[i][0], cases[i][1], &err);
        CHECK(out != NULL);
        json_decref(out);
        error_clear(&err);
    }
    free(pw_max);
    free(name_max);
    free(label);
}

/* ---- developers ----------------------------------------------------------------------------- */

static json_t *developer_create(const account_caller *caller, json_t *body, mkt_error *err)
{
    json_t *out = account_developer_create(g_db, caller, body, err);
    json_decref(body);
    return out;
}

static void test_developer_profile(void)
{
    json_t *reg = register_new("dev", NULL);
    if (!reg)
        return;
    account_caller caller;
    CHECK_INT(authenticate(str(reg, "token"), &caller), 0);
    mkt_error err = MKT_ERROR_INIT;
    json_t *dev = developer_create(&caller,
                                   json_pack("{s:s, s:s, s:s}", "display_name", "Tools Ltd", "bio", "We make\ntools.",
                                             "website", "https://tools.example.test/about?x=1"),
                                   &err);
    CHECK(dev != NULL);
    if (!dev) {
        dump_fields(&err);
        json_decref(reg);
        return;
    }
    CHECK_STR(str(dev, "display_name"), "Tools Ltd");
    CHECK_STR(str(dev, "bio"), "We make\ntools.");
    CHECK_STR(str(dev, "website"), "https://tools.example.test/about?x=1");
    CHECK_STR(str(dev, "user_id"), str(json_object_get(reg, "user"), "id"));
    CHECK(is_rfc3339_utc(str(dev, "created_at")));
    /* Published tools are added by the route (GET /developers/{id}), not by accounts. */
    CHECK(json_object_get(dev, "tools") == NULL);
    CHECK(json_object_get(dev, "email") == NULL);

    /* The caller now carries the role and the profile id. */
    account_caller again;
    CHECK_INT(authenticate(str(reg, "token"), &again), 0);
    CHECK_INT(again.roles, ACCOUNT_ROLE_DEVELOPER);
    CHECK_INT(again.developer_id, strtoll(str(dev, "id"), NULL, 10));
    json_t *me = account_me(g_db, &again, &err);
    CHECK(me != NULL);
    CHECK_STR(roles_text(me), "buyer,developer");
    /* me carries the profile itself; the tools list belongs to the public profile only. */
    json_t *profile = json_deep_copy(dev);
    json_object_del(profile, "tools");
    CHECK(json_equal(json_object_get(me, "developer"), profile));
    json_decref(profile);
    json_decref(me);

    /* Public profile: the same, no email. */
    json_t *pub = account_developer_get(g_db, str(dev, "id"), &err);
    CHECK(pub != NULL);
    CHECK(json_equal(pub, dev));
    json_decref(pub);

    /* A second profile is a conflict and changes nothing. */
    CHECK(developer_create(&again, json_pack("{s:s}", "display_name", "Other"), &err) == NULL);
    CHECK_INT(err.kind, ERROR_CONFLICT);
    error_clear(&err);
    CHECK_INT(count_sql("SELECT COUNT(*) FROM developers WHERE user_id = ?", again.user_id), 1);
    json_decref(dev);
    json_decref(reg);
}

static void test_developer_optional_fields(void)
{
    json_t *reg = register_new("devnull", NULL);
    if (!reg)
        return;
    account_caller caller;
    CHECK_INT(authenticate(str(reg, "token"), &caller), 0);
    mkt_error err = MKT_ERROR_INIT;
    json_t *dev = developer_create(&caller, json_pack("{s:s, s:n, s:n}", "display_name", "Solo", "bio", "website"), &err);
    CHECK(dev != NULL);
    CHECK(json_object_get(dev, "bio") == NULL);
    CHECK(json_object_get(dev, "website") == NULL);
    json_decref(dev);
    error_clear(&err);
    json_decref(reg);
}

/* body is stolen. Expects a 422 naming field, no profile and no developer role. */
static void expect_developer_fails(json_t *body, const char *field, const char *message, int line)
{
    json_t *reg = register_new("devbad", NULL);
    account_caller caller = {0};
    if (!reg || authenticate(str(reg, "token"), &caller) < 0) {
        json_decref(body);
        json_decref(reg);
        check_failures++;
        return;
    }
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = developer_create(&caller, body, &err);
    if (out || err.kind != ERROR_VALIDATION || !has_field(&err, field, message) ||
        count_sql("SELECT COUNT(*) FROM developers WHERE user_id = ?", caller.user_id) != 0 ||
        count_sql("SELECT COUNT(*) FROM user_roles WHERE user_id = ?", caller.user_id) != 0) {
        fprintf(stderr, "  line %d: developer_create should fail on %s (%s)\n", line, field, message ? message : "any");
        dump_fields(&err);
        check_failures++;
    }
    json_decref(out);
    error_clear(&err);
    json_decref(reg);
}

#define DEV_FAILS(body, field, message) expect_developer_fails((body), (field), (message), __LINE__)

static json_t *dev_website(const char *website)
{
    return json_pack("{s:s, s:s}", "display_name", "D", "website", website);
}

static void test_developer_rules(void)
{
    DEV_FAILS(json_object(), "display_name", "is required");
    DEV_FAILS(json_pack("{s:s}", "display_name", ""), "display_name", "must not be empty");
    DEV_FAILS(json_pack("{s:n}", "display_name"), "display_name", "must be a string");
    DEV_FAILS(json_pack("{s:s, s:i}", "display_name", "D", "bio", 7), "bio", "must be a string");
    DEV_FAILS(json_pack("{s:s, s:s}", "display_name", "D", "slug", "x"), "slug", "unknown field");
    char *bio = check_repeat("b", 2001);
    DEV_FAILS(json_pack("{s:s, s:s}", "display_name", "D", "bio", bio), "bio", "must be at most 2000 characters");
    free(bio);
    DEV_FAILS(json_pack("{s:s, s:s}", "display_name", "D", "bio", "bell\a"), "bio", "must not contain control characters");
    DEV_FAILS(dev_website(""), "website", "must start with https:// or http://");
    DEV_FAILS(dev_website("ftp://example.test/"), "website", "must start with https:// or http://");
    DEV_FAILS(dev_website("javascript:alert(1)"), "website", "must start with https:// or http://");
    DEV_FAILS(dev_website("example.test"), "website", "must start with https:// or http://");
    DEV_FAILS(dev_website("https://"), "website", "must name a host");
    DEV_FAILS(dev_website("https:///path"), "website", "must name a host");
    DEV_FAILS(dev_website("https://:443/"), "website", "must name a host");
    DEV_FAILS(dev_website("https://host:99999/"), "website", "must name a host");
    DEV_FAILS(dev_website("https://ex_ample.test/"), "website", "must name a host");
    DEV_FAILS(dev_website("https://user:pw@example.test/"), "website", "must not contain a user name or password");
    DEV_FAILS(dev_website("https://exa mple.test/"), "website", NULL);
    DEV_FAILS(dev_website("https://example.test/\n"), "website", NULL);
    char *path = check_repeat("p", 2049 - strlen("https://e.test/"));
    char url[2100];
    snprintf(url, sizeof url, "https://e.test/%s", path);
    DEV_FAILS(dev_website(url), "website", "must be at most 2048 characters");
    free(path);
    /* All at once. */
    json_t *all = json_pack("{s:s, s:s, s:i}", "display_name", " ", "website", "nope", "x", 1);
    DEV_FAILS(json_deep_copy(all), "display_name", NULL);
    DEV_FAILS(json_deep_copy(all), "website", NULL);
    DEV_FAILS(all, "x", "unknown field");
    json_t *arr = json_array();
    DEV_FAILS(arr, "", "must be a JSON object");
}

static void test_developer_websites_accepted(void)
{
    static const char *const ok[] = {
        "http://example.test",     "https://EXAMPLE.test/",   "HTTPS://example.test",
        "https://127.0.0.1:8443/", "https://[::1]:8080/x#y",  "https://a.b.example.test?q=1",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        json_t *reg = register_new("devok", NULL);
        account_caller caller;
        if (!reg || authenticate(str(reg, "token"), &caller) < 0) {
            json_decref(reg);
            continue;
        }
        mkt_error err = MKT_ERROR_INIT;
        json_t *dev = developer_create(&caller, dev_website(ok[i]), &err);
        if (!dev) {
            fprintf(stderr, "  website refused: %s\n", ok[i]);
            dump_fields(&err);
            check_failures++;
        } else {
            CHECK_STR(str(dev, "website"), ok[i]);
        }
        json_decref(dev);
        error_clear(&err);
        json_decref(reg);
    }
}

static void test_developer_get_bad_ids(void)
{
    static const char *const bad[] = {
        NULL, "", "abc", "12a", "-1", "+1", "1.0", " 1", "1 ", "0x10", "0",
        "99999999999999999999",  /* 20 digits */
        "9223372036854775808",   /* 19 digits, over INT64_MAX */
        "9223372036854775807",   /* fits, but no such developer */
        "me",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mkt_error err = MKT_ERROR_INIT;
        json_t *out = account_developer_get(g_db, bad[i], &err);
        if (out || err.kind != ERROR_NOT_FOUND) {
            fprintf(stderr, "  developer id \"%s\" not a 404\n", bad[i] ? bad[i] : "(null)");
            check_failures++;
        }
        json_decref(out);
        error_clear(&err);
    }
}

static void test_unauthenticated_calls(void)
{
    account_caller nobody = {0};
    mkt_error err = MKT_ERROR_INIT;
    CHECK(account_me(g_db, &nobody, &err) == NULL);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    CHECK(account_me(g_db, NULL, &err) == NULL);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    json_t *body = json_pack("{s:s}", "display_name", "D");
    CHECK(account_developer_create(g_db, &nobody, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    json_decref(body);
}

/* ---- roles ---------------------------------------------------------------------------------- */

static void test_grant_role(void)
{
    const char *email;
    json_t *reg = register_new("grant", &email);
    if (!reg)
        return;
    char upper[128];
    snprintf(upper, sizeof upper, "%s", email);
    upper[0] = (char)(upper[0] - 'a' + 'A');
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(account_grant_role(g_db, email, "moderator", &err), 0);
    CHECK_INT(account_grant_role(g_db, upper, "moderator", &err), 0); /* twice, other case: fine */
    CHECK_INT(account_grant_role(g_db, email, "admin", &err), 0);
    /* developer without a profile: the role only. */
    CHECK_INT(account_grant_role(g_db, email, "developer", &err), 0);
    account_caller caller;
    CHECK_INT(authenticate(str(reg, "token"), &caller), 0);
    CHECK_INT(caller.roles, ACCOUNT_ROLE_MODERATOR | ACCOUNT_ROLE_ADMIN | ACCOUNT_ROLE_DEVELOPER);
    CHECK_INT(caller.developer_id, 0);
    json_t *me = account_me(g_db, &caller, &err);
    CHECK_STR(roles_text(me), "buyer,developer,moderator,admin");
    CHECK(json_object_get(me, "developer") == NULL);
    json_decref(me);
    error_clear(&err);

    static const char *const bad_roles[] = {"root", "buyer", "", "Admin", NULL};
    for (size_t i = 0; i < sizeof bad_roles / sizeof bad_roles[0]; i++) {
        CHECK_INT(account_grant_role(g_db, email, bad_roles[i], &err), -1);
        CHECK_INT(err.kind, ERROR_VALIDATION);
        error_clear(&err);
    }
    CHECK_INT(account_grant_role(g_db, unique_email("ghost"), "admin", &err), -1);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);
    CHECK_INT(account_grant_role(g_db, NULL, "admin", &err), -1);
    CHECK(err.kind == ERROR_VALIDATION || err.kind == ERROR_NOT_FOUND);
    error_clear(&err);
    json_decref(reg);
}

static void test_role_names(void)
{
    CHECK_STR(account_role_name(ACCOUNT_ROLE_DEVELOPER), "developer");
    CHECK_STR(account_role_name(ACCOUNT_ROLE_MODERATOR), "moderator");
    CHECK_STR(account_role_name(ACCOUNT_ROLE_ADMIN), "admin");
    CHECK(account_role_name(0) == NULL);
    CHECK(account_role_name(ACCOUNT_ROLE_ADMIN | ACCOUNT_ROLE_DEVELOPER) == NULL);
    CHECK_INT(account_role_parse("developer"), ACCOUNT_ROLE_DEVELOPER);
    CHECK_INT(account_role_parse("moderator"), ACCOUNT_ROLE_MODERATOR);
    CHECK_INT(account_role_parse("admin"), ACCOUNT_ROLE_ADMIN);
    CHECK_INT(account_role_parse("buyer"), 0);
    CHECK_INT(account_role_parse("ADMIN"), 0);
    CHECK_INT(account_role_parse(NULL), 0);
}

int main(void)
{
    mkt_error err = MKT_ERROR_INIT;
    fixture_random_seed();
    stack_env_config(&g_cfg);
    g_db = db_open(&g_cfg, &err);
    if (!g_db) {
        fprintf(stderr, "db_open: %s\n", err.message ? err.message : "failed");
        error_clear(&err);
        config_free(&g_cfg);
        return 1;
    }
    RUN(test_role_names);
    RUN(test_register_and_me);
    RUN(test_login);
    RUN(test_login_shape);
    RUN(test_logout);
    RUN(test_expired_and_revoked);
    RUN(test_malformed_tokens);
    RUN(test_duplicate_email);
    RUN(test_register_email_rules);
    RUN(test_register_password_and_name_rules);
    RUN(test_register_shape);
    RUN(test_register_limits_accepted);
    RUN(test_developer_profile);
    RUN(test_developer_optional_fields);
    RUN(test_developer_rules);
    RUN(test_developer_websites_accepted);
    RUN(test_developer_get_bad_ids);
    RUN(test_unauthenticated_calls);
    RUN(test_grant_role);
    db_close(g_db);
    config_free(&g_cfg);
    return check_finish();
}

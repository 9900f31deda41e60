#include "core/account.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/auth.h"

#define ACCOUNT_EMAIL_MAX 254 /* bytes, RFC 5321 path limit */
#define ACCOUNT_EMAIL_LOCAL_MAX 64
#define ACCOUNT_WEBSITE_MAX 2048

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

/* ---- text rules ----------------------------------------------------------------------------- */

/* Decodes one code point. Jansson hands over valid UTF-8 only; the bounds check is for safety. */
static uint32_t account_utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[(*i)++];
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    uint32_t cp = extra ? (uint32_t)(c & (0x3f >> extra)) : c;
    while (extra-- > 0 && *i < len)
        cp = (cp << 6) | (s[(*i)++] & 0x3fu);
    return cp;
}

static size_t account_utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/* C0/C1 controls, line separators and the bidi embedding/override/isolate controls: none belongs
 * in text shown to other users, and the bidi ones make a name read as something it is not. */
static int account_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Spaces and the invisible characters that make a name look empty. */
static int account_is_blank(uint32_t cp)
{
    return cp == ' ' || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200d) || cp == 0x202f ||
           cp == 0x205f || cp == 0x2060 || cp == 0x3000 || cp == 0x3164 || cp == 0xfeff;
}

typedef struct {
    size_t min, max;     /* code points */
    int check_controls;  /* refuse account_is_control characters */
    int allow_newlines;  /* ... except tab, CR and LF (multi-line text) */
    int refuse_blank;    /* refuse text made only of account_is_blank characters */
} account_text_rule;

static const account_text_rule account_rule_password = {10, 1024, 0, 0, 0};
static const account_text_rule account_rule_name = {1, 80, 1, 0, 1};
static const account_text_rule account_rule_bio = {0, 2000, 1, 1, 0};

/* Reports the first rule the text breaks; 1 when it broke one. The checks count their problems
 * rather than asking err afterwards, so a NULL err can never let bad input through. */
static int account_text_check(const char *field, const char *s, size_t len, const account_text_rule *rule,
                              mkt_error *err)
{
    size_t count = account_utf8_count(s, len);
    if (count < rule->min || count > rule->max) {
        if (rule->min == 1 && count == 0)
            error_add_field(err, field, "must not be empty");
        else
            error_add_field(err, field, "must be %s %zu characters", count < rule->min ? "at least" : "at most",
                            count < rule->min ? rule->min : rule->max);
        return 1;
    }
    int blank = 1;
    for (size_t i = 0; i < len;) {
        uint32_t cp = account_utf8_next((const unsigned char *)s, len, &i);
        int newline = cp == '\t' || cp == '\n' || cp == '\r';
        if (rule->check_controls && account_is_control(cp) && !(rule->allow_newlines && newline)) {
            error_add_field(err, field, "must not contain control characters");
            return 1;
        }
        blank = blank && account_is_blank(cp);
    }
    if (rule->refuse_blank && blank) {
        error_add_field(err, field, "must not be only whitespace");
        return 1;
    }
    return 0;
}

/* The string value of field, or NULL when absent or not a string (already reported). */
static const char *account_string(const json_t *body, const char *field, size_t *len)
{
    json_t *value = json_object_get(body, field);
    if (len)
        *len = json_string_length(value);
    return json_string_value(value);
}

static int account_check_text(const json_t *body, const char *field, const account_text_rule *rule,
                              mkt_error *err)
{
    size_t len;
    const char *s = account_string(body, field, &len);
    return s ? account_text_check(field, s, len, rule, err) : 0;
}

/* Labels separated by single dots, at least two of them, none empty. */
static int account_domain_ok(const char *d, size_t len)
{
    if (len < 3 || d[0] == '.' || d[len - 1] == '.' || !memchr(d, '.', len))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (d[i] == '.' && d[i - 1] == '.')
            return 0;
    return 1;
}

static const char *account_email_problem(const char *s, size_t len)
{
    if (len > ACCOUNT_EMAIL_MAX)
        return "must be at most 254 bytes";
    for (size_t i = 0; i < len;) {
        uint32_t cp = account_utf8_next((const unsigned char *)s, len, &i);
        if (cp == ' ' || account_is_control(cp))
            return "must not contain spaces or control characters";
    }
    const char *at = memchr(s, '@', len);
    if (!at || at == s || at - s > ACCOUNT_EMAIL_LOCAL_MAX)
        return "must be a valid email address";
    size_t domain_len = len - (size_t)(at + 1 - s);
    if (memchr(at + 1, '@', domain_len) || !account_domain_ok(at + 1, domain_len))
        return "must be a valid email address";
    return NULL;
}

/* Stored and compared lower-case (ASCII; the column's collation folds the rest). */
static char *account_email_lower(const char *s)
{
    char *out = s ? strdup(s) : NULL;
    for (char *p = out; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

static int account_port_ok(const char *p, size_t len)
{
    unsigned port = 0;
    if (len < 1 || len > 5)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        port = port * 10 + (unsigned)(p[i] - '0');
    }
    return port <= 65535;
}

/* host[:port] where host is a DNS name, an IPv4 address or a bracketed IPv6 address. */
static int account_authority_ok(const char *a, size_t len)
{
    size_t host_len;
    const char *allowed;
    if (len > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        if (!close || close == a + 1)
            return 0;
        host_len = (size_t)(close - a) + 1;
        allowed = "0123456789abcdefABCDEF:.";
        if (strspn(a + 1, allowed) < host_len - 2)
            return 0;
    } else {
        const char *colon = memchr(a, ':', len);
        host_len = colon ? (size_t)(colon - a) : len;
        allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";
        if (host_len == 0 || a[0] == '.' || a[0] == '-' || strspn(a, allowed) < host_len)
            return 0;
    }
    if (host_len == len)
        return 1;
    return a[host_len] == ':' && account_port_ok(a + host_len + 1, len - host_len - 1);
}

static const char *account_website_problem(const char *s, size_t len)
{
    if (len > ACCOUNT_WEBSITE_MAX)
        return "must be at most 2048 characters";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return "must not contain spaces, control or non-ASCII characters (percent-encode them)";
    size_t scheme = strncasecmp(s, "https://", 8) == 0 ? 8 : strncasecmp(s, "http://", 7) == 0 ? 7 : 0;
    if (!scheme)
        return "must start with https:// or http://";
    const char *authority = s + scheme;
    size_t authority_len = strcspn(authority, "/?#");
    if (memchr(authority, '@', authority_len))
        return "must not contain a user name or password";
    if (!account_authority_ok(authority, authority_len))
        return "must name a host";
    return NULL;
}

static int account_check_with(const json_t *body, const char *field,
                              const char *(*problem_of)(const char *, size_t), mkt_error *err)
{
    size_t len;
    const char *s = account_string(body, field, &len);
    const char *problem = s ? problem_of(s, len) : NULL;
    if (problem)
        error_add_field(err, field, "%s", problem);
    return problem != NULL;
}

/* ---- body shape ----------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int required; /* optional fields also accept null, meaning absent */
} account_field;

static const account_field *account_field_find(const account_field *fields, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* Reports every shape problem at once: a body that is not an object, unknown fields, missing
 * required fields and values that are not strings. Content rules run after this. Returns the
 * number of problems. */
static int account_check_fields(const json_t *body, const account_field *fields, size_t count, mkt_error *err)
{
    if (!json_is_object(body)) {
        error_add_field(err, "", "must be a JSON object");
        return 1;
    }
    int problems = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)body, key, value) {
        const account_field *field = account_field_find(fields, count, key);
        const char *problem = !field ? "unknown field"
                              : json_is_string(value) || (json_is_null(value) && !field->required) ? NULL
                                                                                                   : "must be a string";
        if (problem) {
            error_add_field(err, key, "%s", problem);
            problems++;
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (fields[i].required && !json_object_get(body, fields[i].name)) {
            error_add_field(err, fields[i].name, "is required");
            problems++;
        }
    }
    return problems;
}

/* ---- reading accounts ----------------------------------------------------------------------- */

/* A developer profile from six ACCOUNT_DEVELOPER_COLUMNS starting at column; unset bio and
 * website are left out rather than sent as null (they are strings in the API schema). */
static json_t *account_developer_row(const db_rows *rows, size_t column)
{
    return json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:s}", "id", db_rows_text(rows, 0, column), "user_id",
                     db_rows_text(rows, 0, column + 1), "display_name", db_rows_text(rows, 0, column + 2), "bio",
                     db_rows_text(rows, 0, column + 3), "website", db_rows_text(rows, 0, column + 4),
                     "created_at", db_rows_text(rows, 0, column + 5));
}

/* {id, email, display_name, roles[], created_at, developer?} */
static json_t *account_user_json(db *db, int64_t user_id, mkt_error *err)
{
    static const char sql[] =
        "SELECT u.id, u.email, u.display_name, " ACCOUNT_TIME("u.created_at") ","
        " (SELECT GROUP_CONCAT(r.role) FROM user_roles r WHERE r.user_id = u.id), " ACCOUNT_DEVELOPER_COLUMNS
        " FROM users u LEFT JOIN developers d ON d.user_id = u.id WHERE u.id = ?";
    db_rows rows = {0};
    json_t *user = NULL;
    if (db_query(db, sql, DB_PARAMS(db_int(user_id)), &rows, err) < 0)
        goto done;
    if (rows.row_count == 0) {
        error_set(err, ERROR_NOT_FOUND, "no such account");
        goto done;
    }
    enum { developer_column = 5 }; /* after id, email, display_name, created_at, roles */
    json_t *developer =
        db_rows_is_null(&rows, 0, developer_column) ? NULL : account_developer_row(&rows, developer_column);
    user = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o*}", "id", db_rows_text(&rows, 0, 0), "email",
                     db_rows_text(&rows, 0, 1), "display_name", db_rows_text(&rows, 0, 2), "roles",
                     account_roles_json(account_roles_from_list(db_rows_text(&rows, 0, 4))), "created_at",
                     db_rows_text(&rows, 0, 3), "developer", developer);
    if (!user)
        error_set(err, ERROR_INTERNAL, "cannot build the account object");
done:
    db_rows_free(&rows);
    return user;
}

/* The public profile: no email, and the developer's published tools. */
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
    /* Published tools belong here once the tools table exists (a later issue): select this
     * developer's tools WHERE status = 'published' and append each one's public summary. Until
     * then every developer has none, and the key is present so clients need no special case. */
    if (!developer || json_object_set_new(developer, "tools", json_array()) < 0) {
        json_decref(developer);
        developer = NULL;
        error_set(err, ERROR_INTERNAL, "cannot build the developer object");
    }
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

/* ---- register ------------------------------------------------------------------------------- */

typedef struct {
    const char *email, *display_name, *password_hash;
    const unsigned char *token_hash;
    int64_t ttl;
    int64_t user_id; /* out */
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
    return account_session_insert(db, ctx->user_id, ctx->token_hash, ctx->ttl, NULL, err);
}

json_t *account_register(db *db, const config *cfg, const json_t *body, mkt_error *err)
{
    static const account_field fields[] = {{"email", 1}, {"password", 1}, {"display_name", 1}};
    int problems = account_check_fields(body, fields, sizeof fields / sizeof fields[0], err);
    problems += account_check_with(body, "email", account_email_problem, err);
    problems += account_check_text(body, "password", &account_rule_password, err);
    problems += account_check_text(body, "display_name", &account_rule_name, err);
    if (problems)
        return NULL;

    size_t password_len;
    const char *password = account_string(body, "password", &password_len);
    char token[AUTH_TOKEN_TEXT_LEN + 1];
    unsigned char token_hash[AUTH_TOKEN_HASH_LEN];
    account_register_ctx ctx = {.display_name = account_string(body, "display_name", NULL),
                                .token_hash = token_hash,
                                .ttl = cfg->token_ttl};
    /* Hashing before the transaction keeps row locks short; it is the slow part. */
    char *email = account_email_lower(account_string(body, "email", NULL));
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
    json_t *user = account_user_json(db, ctx.user_id, err);
    return user ? json_pack("{s:o, s:s}", "user", user, "token", token) : NULL;
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
    const char *email_text = account_string(body, "email", &email_len);
    const char *password = account_string(body, "password", &password_len);
    /* A malformed email cannot be registered; skipping the query also keeps the column's
     * PAD SPACE collation from matching "a@b.c   " to "a@b.c". */
    char *email = account_email_problem(email_text, email_len) ? NULL : account_email_lower(email_text);
    db_rows rows = {0};
    if (email && db_query(db, "SELECT id, password_hash FROM users WHERE email = ?", DB_PARAMS(db_text(email)),
                          &rows, err) < 0) {
        free(email);
        db_rows_free(&rows);
        return -1;
    }
    int ok = 0;
    if (rows.row_count == 1) {
        ok = auth_password_verify(password, password_len, db_rows_text(&rows, 0, 1));
        *user_id = db_rows_int(&rows, 0, 0);
    } else {
        account_burn_verify(cfg, password, password_len);
    }
    free(email);
    db_rows_free(&rows);
    return ok ? 0 : error_set(err, ERROR_UNAUTHORIZED, "%s", account_bad_login);
}

json_t *account_login(db *db, const config *cfg, const json_t *body, mkt_error *err)
{
    static const account_field fields[] = {{"email", 1}, {"password", 1}};
    if (account_check_fields(body, fields, sizeof fields / sizeof fields[0], err))
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
        " (SELECT GROUP_CONCAT(r.role) FROM user_roles r WHERE r.user_id = s.user_id)"
        " FROM sessions s WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > UTC_TIMESTAMP(6)";
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
        out->session_id = db_rows_int(&rows, 0, 0);
        out->user_id = db_rows_int(&rows, 0, 1);
        out->developer_id = db_rows_int(&rows, 0, 2);
        out->roles = account_roles_from_list(db_rows_text(&rows, 0, 3));
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
    static const account_field fields[] = {{"display_name", 1}, {"bio", 0}, {"website", 0}};
    if (account_require_caller(caller, err) < 0)
        return NULL;
    int problems = account_check_fields(body, fields, sizeof fields / sizeof fields[0], err);
    problems += account_check_text(body, "display_name", &account_rule_name, err);
    problems += account_check_text(body, "bio", &account_rule_bio, err);
    problems += account_check_with(body, "website", account_website_problem, err);
    if (problems)
        return NULL;
    account_developer_ctx ctx = {
        .user_id = caller->user_id,
        .display_name = account_string(body, "display_name", NULL),
        .bio = account_string(body, "bio", NULL),
        .website = account_string(body, "website", NULL),
    };
    if (db_transaction(db, account_developer_tx, &ctx, err) < 0)
        return NULL;
    return account_developer_json(db, ctx.developer_id, err);
}

/* Path ids are decimal BIGINTs; anything else cannot name a developer, so it is simply 404. */
static int account_parse_id(const char *text, int64_t *out)
{
    size_t len = text ? strlen(text) : 0;
    if (len == 0 || len > 19 || strspn(text, "0123456789") != len)
        return -1;
    uint64_t v = strtoull(text, NULL, 10);
    if (v > INT64_MAX)
        return -1;
    *out = (int64_t)v;
    return 0;
}

json_t *account_developer_get(db *db, const char *id, mkt_error *err)
{
    int64_t developer_id;
    if (account_parse_id(id, &developer_id) < 0) {
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
    char *lower = account_email_lower(email);
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

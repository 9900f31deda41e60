/* Owns api_keys, api_key_tools and api_key_days (see core/api_key.h): every statement on them is here. */
#include "core/api_key.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/auth.h"
#include "core/body.h"
#include "core/day_count.h"
#include "core/ident.h"
#include "core/throttle.h"
#include "core/tool_record.h"

#define API_KEY_TIME(column) "DATE_FORMAT(" column ", '%Y-%m-%dT%H:%i:%sZ')"
/* An expiry is at most this far ahead: "never" is said by leaving expires_at out. */
#define API_KEY_EXPIRY_MAX_SECONDS (INT64_C(10) * 366 * 86400)
/* What a key without an expiry gives the auth cache as its expiry (year 2286). */
#define API_KEY_NO_EXPIRY INT64_C(9999999999)

static const char api_key_refused[] = "invalid, expired or revoked API key";

/* ---- the body of POST /me/api-keys --------------------------------------------------------------- */

typedef struct {
    const char *name;
    int64_t tools[ACCOUNT_KEY_TOOLS_MAX];
    size_t tool_count;
    int64_t expires_at; /* Unix seconds, 0 = never */
} api_key_request;

/* Characters (not bytes) of valid UTF-8 text; 0 when it holds a control character. */
static size_t api_key_name_chars(const char *s, int *control)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            *control = 1;
        if ((*p & 0xc0) != 0x80)
            n++;
    }
    return n;
}

static void api_key_read_name(const json_t *body, api_key_request *r, mkt_error *err)
{
    json_t *name = body_member(body, "name", JSON_STRING, err);
    if (!name)
        return;
    int control = 0;
    size_t chars = api_key_name_chars(json_string_value(name), &control);
    if (chars == 0 || chars > API_KEY_NAME_MAX || control)
        error_add_field(err, "name", "must be 1 to %d characters without control characters", API_KEY_NAME_MAX);
    else
        r->name = json_string_value(name);
}

/* The tool ids of "tools": each a tool id the caller can see (a missing and a hidden tool get the
 * same answer), none twice. */
static void api_key_read_tools(db *db, const account_caller *caller, const json_t *body, api_key_request *r,
                               mkt_error *err)
{
    json_t *tools = json_object_get(body, "tools");
    if (!tools || json_is_null(tools))
        return;
    if (!json_is_array(tools)) {
        error_add_field(err, "tools", "must be an array of tool ids");
        return;
    }
    if (json_array_size(tools) > ACCOUNT_KEY_TOOLS_MAX) {
        error_add_field(err, "tools", "at most %d tools", ACCOUNT_KEY_TOOLS_MAX);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(tools, i, item) {
        char field[32], ref[32];
        snprintf(field, sizeof field, "tools[%zu]", i);
        int64_t id = 0;
        const char *problem = tool_record_id_problem(item, &id);
        if (problem) {
            error_add_field(err, field, "%s", problem);
            continue;
        }
        int repeated = 0;
        for (size_t j = 0; j < r->tool_count; j++)
            repeated |= r->tools[j] == id;
        if (repeated) {
            error_add_field(err, field, "names a tool twice");
            continue;
        }
        snprintf(ref, sizeof ref, "%" PRId64, id);
        tool_record_glance g;
        mkt_error find = MKT_ERROR_INIT;
        if (tool_record_glance_find(db, ref, caller, &g, &find) == 0)
            r->tools[r->tool_count++] = id;
        else if (find.kind == ERROR_NOT_FOUND)
            error_add_field(err, field, "no such tool");
        else
            error_move(err, &find);
        error_clear(&find);
    }
}

/* RFC 3339 in UTC, whole seconds ("2027-01-31T00:00:00Z"): read and written back, so 2027-02-30
 * and other dates timegm would roll over are refused. */
static int api_key_parse_time(const char *text, int64_t *out)
{
    struct tm tm = {0};
    int used = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &used) != 6 ||
        used != 20 || text[used] != '\0')
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    struct tm back;
    char again[32];
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || strftime(again, sizeof again, "%Y-%m-%dT%H:%M:%SZ", &back) != 20 ||
        strcmp(again, text) != 0)
        return -1;
    *out = (int64_t)t;
    return 0;
}

static void api_key_read_expiry(const json_t *body, api_key_request *r, mkt_error *err)
{
    json_t *v = json_object_get(body, "expires_at");
    if (!v || json_is_null(v))
        return;
    int64_t at = 0;
    int64_t now = (int64_t)time(NULL);
    if (!json_is_string(v) || api_key_parse_time(json_string_value(v), &at) < 0)
        error_add_field(err, "expires_at", "must be a UTC time such as 2027-01-31T00:00:00Z");
    else if (at <= now)
        error_add_field(err, "expires_at", "must be in the future");
    else if (at - now > API_KEY_EXPIRY_MAX_SECONDS)
        error_add_field(err, "expires_at", "must be within ten years (leave it out for a key that does not expire)");
    else
        r->expires_at = at;
}

static int api_key_read_request(db *db, const account_caller *caller, const json_t *body, api_key_request *r,
                                mkt_error *err)
{
    static const char *const allowed[] = {"name", "tools", "expires_at", NULL};
    memset(r, 0, sizeof *r);
    if (!json_is_object(body))
        return error_add_field(err, "", "must be a JSON object");
    body_unknown_fields(body, allowed, err);
    api_key_read_name(body, r, err);
    api_key_read_expiry(body, r, err);
    api_key_read_tools(db, caller, body, r, err);
    return error_is_set(err) ? -1 : 0;
}

/* ---- create, list, revoke ------------------------------------------------------------------------ */

typedef struct {
    const account_caller *caller;
    const api_key_request *req;
    char prefix[AUTH_API_KEY_SHOWN_LEN + 1];
    unsigned char hash[AUTH_TOKEN_HASH_LEN];
    int64_t id;
} api_key_insert;

/* Counting the caller's live keys FOR UPDATE locks their range of the user index, so two parallel
 * creations by one user are serialised and the limit holds. */
static int api_key_insert_tx(db *db, void *arg, mkt_error *err)
{
    api_key_insert *x = arg;
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT COUNT(*) FROM api_keys WHERE user_id = ? AND revoked_at IS NULL"
                 " AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP(6)) FOR UPDATE",
                 DB_PARAMS(db_int(x->caller->user_id)), &rows, err) < 0)
        return -1;
    int64_t live = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    if (live >= API_KEY_ACTIVE_MAX)
        return error_set(err, ERROR_CONFLICT, "you hold %d API keys already; revoke one first", API_KEY_ACTIVE_MAX);
    db_result res = {0};
    if (db_exec(db,
                "INSERT INTO api_keys (user_id, name, prefix, key_hash, expires_at)"
                " VALUES (?, ?, ?, ?, IF(? = 0, NULL, FROM_UNIXTIME(?)))",
                DB_PARAMS(db_int(x->caller->user_id), db_text(x->req->name), db_text(x->prefix),
                          db_bytes(x->hash, sizeof x->hash), db_int(x->req->expires_at), db_int(x->req->expires_at)),
                &res, err) < 0)
        return -1;
    x->id = (int64_t)res.insert_id;
    for (size_t i = 0; i < x->req->tool_count; i++)
        if (db_exec(db, "INSERT INTO api_key_tools (key_id, tool_id) VALUES (?, ?)",
                    DB_PARAMS(db_int(x->id), db_int(x->req->tools[i])), NULL, err) < 0)
            return -1;
    return 0;
}

static json_t *api_key_tools_json(const int64_t *tools, size_t n)
{
    json_t *out = json_array();
    for (size_t i = 0; out && i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%" PRId64, tools[i]);
        json_array_append_new(out, json_string(id));
    }
    return out;
}

/* The key as its owner sees it: by id, with the times the database formats. */
static json_t *api_key_get(db *db, const account_caller *caller, int64_t id, const char *key, mkt_error *err);

json_t *api_key_create(db *db, const account_caller *caller, const json_t *body, mkt_error *err)
{
    if (!caller || caller->user_id <= 0 || caller->api_key_id != 0) {
        error_set(err, ERROR_FORBIDDEN, "API keys are made by a signed-in user, not by a key");
        return NULL;
    }
    api_key_request req;
    if (api_key_read_request(db, caller, body, &req, err) < 0)
        return NULL;
    char key[AUTH_API_KEY_TEXT_LEN + 1];
    api_key_insert x = {.caller = caller, .req = &req};
    if (auth_api_key_new(key, x.hash, err) < 0)
        return NULL;
    memcpy(x.prefix, key, AUTH_API_KEY_SHOWN_LEN);
    json_t *out = NULL;
    if (db_transaction(db, api_key_insert_tx, &x, err) == 0)
        out = api_key_get(db, caller, x.id, key, err);
    OPENSSL_cleanse(key, sizeof key);
    return out;
}

#define API_KEY_SELECT                                                                                      \
    "SELECT k.id, k.name, k.prefix, " API_KEY_TIME("k.created_at") ", " API_KEY_TIME("k.last_used_at") ", "  \
    API_KEY_TIME("k.expires_at") ", (SELECT GROUP_CONCAT(t.tool_id ORDER BY t.tool_id) FROM api_key_tools t" \
    " WHERE t.key_id = k.id), k.expires_at IS NOT NULL AND k.expires_at <= UTC_TIMESTAMP(6),"                \
    " COALESCE((SELECT d.requests FROM api_key_days d WHERE d.key_id = k.id AND d.day = UTC_DATE()), 0),"   \
    " COALESCE((SELECT SUM(d.requests) FROM api_key_days d WHERE d.key_id = k.id"                            \
    " AND d.day > UTC_DATE() - INTERVAL 30 DAY), 0) FROM api_keys k"
enum { KCOL_ID, KCOL_NAME, KCOL_PREFIX, KCOL_CREATED, KCOL_USED, KCOL_EXPIRES, KCOL_TOOLS, KCOL_EXPIRED, KCOL_TODAY,
       KCOL_30D };

static json_t *api_key_nullable(const db_rows *rows, size_t i, size_t col)
{
    return db_rows_is_null(rows, i, col) ? json_null() : json_string(db_rows_text(rows, i, col));
}

/* A GROUP_CONCAT of tool ids ("3,17", NULL for none) into out; how many. */
static unsigned api_key_parse_tools(const db_rows *rows, size_t row, size_t col, int64_t out[ACCOUNT_KEY_TOOLS_MAX])
{
    unsigned n = 0;
    const char *p = db_rows_is_null(rows, row, col) ? "" : db_rows_text(rows, row, col);
    while (*p && n < ACCOUNT_KEY_TOOLS_MAX) {
        char *end;
        out[n++] = strtoll(p, &end, 10);
        p = end + (*end == ',');
    }
    return n;
}

static json_t *api_key_tool_list(const db_rows *rows, size_t i)
{
    int64_t tools[ACCOUNT_KEY_TOOLS_MAX];
    return api_key_tools_json(tools, api_key_parse_tools(rows, i, KCOL_TOOLS, tools));
}

static json_t *api_key_row_json(const db_rows *rows, size_t i)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:b, s:I, s:I}", "id", db_rows_text(rows, i, KCOL_ID),
                     "name", db_rows_text(rows, i, KCOL_NAME), "prefix", db_rows_text(rows, i, KCOL_PREFIX), "tools",
                     api_key_tool_list(rows, i), "created_at", db_rows_text(rows, i, KCOL_CREATED), "last_used_at",
                     api_key_nullable(rows, i, KCOL_USED), "expires_at", api_key_nullable(rows, i, KCOL_EXPIRES),
                     "expired", (int)db_rows_int(rows, i, KCOL_EXPIRED), "requests_today",
                     (json_int_t)db_rows_int(rows, i, KCOL_TODAY), "requests_30d",
                     (json_int_t)db_rows_int(rows, i, KCOL_30D));
}

static json_t *api_key_get(db *db, const account_caller *caller, int64_t id, const char *key, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, API_KEY_SELECT " WHERE k.id = ? AND k.user_id = ?",
                 DB_PARAMS(db_int(id), db_int(caller->user_id)), &rows, err) < 0)
        return NULL;
    json_t *out = rows.row_count == 1 ? api_key_row_json(&rows, 0) : NULL;
    db_rows_free(&rows);
    if (out && json_object_set_new(out, "key", json_string(key)) == 0)
        return out;
    json_decref(out);
    error_set(err, ERROR_INTERNAL, "the new API key could not be read back");
    return NULL;
}

json_t *api_key_list(db *db, const account_caller *caller, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, API_KEY_SELECT " WHERE k.user_id = ? AND k.revoked_at IS NULL ORDER BY k.id DESC",
                 DB_PARAMS(db_int(caller->user_id)), &rows, err) < 0)
        return NULL;
    json_t *items = json_array();
    for (size_t i = 0; items && i < rows.row_count; i++)
        if (json_array_append_new(items, api_key_row_json(&rows, i)) < 0) {
            json_decref(items);
            items = NULL;
        }
    db_rows_free(&rows);
    json_t *out = items ? json_pack("{s:o}", "items", items) : NULL;
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

int api_key_revoke(db *db, const account_caller *caller, const char *id, mkt_error *err)
{
    int64_t key_id = 0;
    if (ident_id_parse(id, &key_id) < 0)
        return error_set(err, ERROR_NOT_FOUND, "no such API key");
    db_rows rows = {0};
    if (db_query(db, "SELECT 1 FROM api_keys WHERE id = ? AND user_id = ?",
                 DB_PARAMS(db_int(key_id), db_int(caller->user_id)), &rows, err) < 0)
        return -1;
    size_t found = rows.row_count;
    db_rows_free(&rows);
    if (!found)
        return error_set(err, ERROR_NOT_FOUND, "no such API key");
    return db_exec(db, "UPDATE api_keys SET revoked_at = UTC_TIMESTAMP(6) WHERE id = ? AND revoked_at IS NULL",
                   DB_PARAMS(db_int(key_id)), NULL, err);
}

/* ---- authentication and scope -------------------------------------------------------------------- */

int api_key_authenticate(db *db, const char *key, account_caller *out, mkt_error *err)
{
    static const char sql[] =
        "SELECT k.id, k.user_id, COALESCE(FLOOR(UNIX_TIMESTAMP(k.expires_at)), 0),"
        " (SELECT GROUP_CONCAT(t.tool_id) FROM api_key_tools t WHERE t.key_id = k.id)"
        " FROM api_keys k WHERE k.key_hash = ? AND k.revoked_at IS NULL"
        " AND (k.expires_at IS NULL OR k.expires_at > UTC_TIMESTAMP(6))";
    enum { ACOL_ID, ACOL_USER, ACOL_EXPIRES, ACOL_TOOLS };
    memset(out, 0, sizeof *out);
    if (!auth_api_key_well_formed(key))
        return error_set(err, ERROR_UNAUTHORIZED, "%s", api_key_refused);
    unsigned char hash[AUTH_TOKEN_HASH_LEN];
    auth_token_hash(key, AUTH_API_KEY_TEXT_LEN, hash);
    db_rows rows = {0};
    int rc = db_query(db, sql, DB_PARAMS(db_bytes(hash, sizeof hash)), &rows, err);
    if (rc == 0 && rows.row_count != 1)
        rc = error_set(err, ERROR_UNAUTHORIZED, "%s", api_key_refused);
    if (rc == 0) {
        int64_t user_id = db_rows_int(&rows, 0, ACOL_USER);
        int64_t expires = db_rows_int(&rows, 0, ACOL_EXPIRES);
        rc = account_caller_load(db, user_id, out, err);
        out->api_key_id = db_rows_int(&rows, 0, ACOL_ID);
        out->expires_at = expires > 0 ? expires : API_KEY_NO_EXPIRY;
        out->key_tool_count = api_key_parse_tools(&rows, 0, ACOL_TOOLS, out->key_tools);
    }
    db_rows_free(&rows);
    if (rc < 0 && err->kind == ERROR_UNAUTHORIZED)
        error_set(err, ERROR_UNAUTHORIZED, "%s", api_key_refused);
    return rc;
}

int api_key_allows_tool(const account_caller *caller, int64_t tool_id, mkt_error *err)
{
    if (!caller || caller->api_key_id == 0 || caller->key_tool_count == 0)
        return 0;
    for (unsigned i = 0; i < caller->key_tool_count; i++)
        if (caller->key_tools[i] == tool_id)
            return 0;
    return error_set(err, ERROR_FORBIDDEN, "this API key may not run this tool");
}

/* ---- usage --------------------------------------------------------------------------------------- */

/* One write-back row: a key's requests on a day, and its last use. INSERT … SELECT, so the count of
 * a key deleted meanwhile (its user was) is dropped instead of failing on the foreign key forever. */
static int api_key_write_uses(db *db, int64_t key_id, const char *day, int64_t requests, mkt_error *err)
{
    if (db_exec(db,
                "INSERT INTO api_key_days (key_id, day, requests) SELECT id, ?, ? FROM api_keys WHERE id = ?"
                " ON DUPLICATE KEY UPDATE requests = requests + VALUES(requests)",
                DB_PARAMS(db_text(day), db_int(requests), db_int(key_id)), NULL, err) < 0)
        return -1;
    return db_exec(db, "UPDATE api_keys SET last_used_at = UTC_TIMESTAMP(6) WHERE id = ?", DB_PARAMS(db_int(key_id)),
                   NULL, err);
}

static day_count api_key_uses = {.what = "API key requests", .write = api_key_write_uses, .flush_ms = API_KEY_FLUSH_MS};

int api_key_use(db *db, const config *cfg, const account_caller *caller, mkt_error *err)
{
    if (throttle_check(throttle_key(THROTTLE_KIND_API_KEY, caller->api_key_id, 0), cfg->api_key_rate_per_minute,
                       "API key", err) < 0)
        return -1;
    day_count_add(&api_key_uses, db, caller->api_key_id);
    return 0;
}

int api_key_flush_usage(db *db)
{
    return day_count_flush(&api_key_uses, db);
}

static void api_key_master_load(const config *cfg)
{
    (void)cfg;
    throttle_shared_map(); /* before the first fork: every worker inherits the same table */
}

static void api_key_flush_hook(service_worker *sw)
{
    day_count_flush_hook(&api_key_uses, sw);
}

static void api_key_due_hook(service_worker *sw)
{
    day_count_due_hook(&api_key_uses, sw);
}

const service_hooks api_key_service = {.name = "api_key",
                                       .master_load = api_key_master_load,
                                       .worker_idle = api_key_flush_hook,
                                       .worker_after_request = api_key_due_hook,
                                       .worker_exit = api_key_flush_hook};

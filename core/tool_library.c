#include "core/tool_library.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/semver.h"
#include "core/tool_check.h"
#include "core/tool_record.h"

/* ---- reading ------------------------------------------------------------------------------------ */

json_t *tool_library_get(db *db, const account_caller *caller, const char *ref, mkt_error *err)
{
    tool_record t;
    if (tool_record_find(db, ref, caller, &t, err) < 0)
        return NULL;
    json_t *out = tool_record_json(&t, caller);
    tool_record_free(&t);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

json_t *tool_library_categories(db *db, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT c.name, c.label,"
                 " (SELECT COUNT(*) FROM tools t WHERE t.category = c.name AND t.status = 'published')"
                 " FROM categories c ORDER BY c.position, c.name",
                 DB_NO_PARAMS, &rows, err) < 0)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; list && i < rows.row_count; i++) {
        if (json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "name", db_rows_text(&rows, i, 0), "label",
                                                  db_rows_text(&rows, i, 1), "count",
                                                  (json_int_t)db_rows_int(&rows, i, 2))) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    db_rows_free(&rows);
    json_t *out = list ? json_pack("{s:o}", "categories", list) : NULL;
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

json_t *tool_library_developer_tools(db *db, int64_t developer_id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT t.id, t.slug, t.name, t.summary, t.category, t.pricing_model, t.price_cents, t.currency,"
                 " t.period_days, t.latest_version, t.downloads, t.rating_count, t.rating_sum, t.rating_1,"
                 " t.rating_2, t.rating_3, t.rating_4, t.rating_5"
                 " FROM tools t WHERE t.developer_id = ? AND t.status = 'published' ORDER BY t.name, t.id",
                 DB_PARAMS(db_int(developer_id)), &rows, err) < 0)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; list && i < rows.row_count; i++) {
        int64_t ratings[5];
        for (int k = 0; k < 5; k++)
            ratings[k] = db_rows_int(&rows, i, 13 + (size_t)k);
        json_t *tool = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:o, s:s?, s:I, s:o}", "id", db_rows_text(&rows, i, 0), "slug",
            db_rows_text(&rows, i, 1), "name", db_rows_text(&rows, i, 2), "summary", db_rows_text(&rows, i, 3),
            "category", db_rows_text(&rows, i, 4), "pricing",
            tool_record_pricing_json(db_rows_text(&rows, i, 5), db_rows_int(&rows, i, 6), db_rows_text(&rows, i, 7),
                                     db_rows_int(&rows, i, 8)),
            "latest_version", db_rows_text(&rows, i, 9), "downloads", (json_int_t)db_rows_int(&rows, i, 10),
            "rating", tool_record_rating_json(db_rows_int(&rows, i, 11), db_rows_int(&rows, i, 12), ratings));
        if (json_array_append_new(list, tool) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    db_rows_free(&rows);
    if (!list)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return list;
}

/* ---- access ------------------------------------------------------------------------------------- */

/* Has the caller a purchase that still gives access (tool_access, kept by core/transaction_*:
 * access_until NULL is for good, otherwise until that time)? 1 yes, 0 no, -1 on a database error. */
static int tool_library_has_access(db *db, int64_t user_id, int64_t tool_id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT 1 FROM tool_access WHERE user_id = ? AND tool_id = ?"
                 " AND (access_until IS NULL OR access_until > NOW(6))",
                 DB_PARAMS(db_int(user_id), db_int(tool_id)), &rows, err) < 0)
        return -1;
    int found = rows.row_count > 0;
    db_rows_free(&rows);
    return found;
}

int tool_library_can_execute(db *db, const account_caller *caller, const tool_library_tool *tool, mkt_error *err)
{
    if (!caller)
        return error_set(err, ERROR_UNAUTHORIZED, "sign in to run tools");
    if (caller->developer_id != 0 && caller->developer_id == tool->developer_id)
        return 0;
    int published = strcmp(tool->status, "published") == 0;
    if (published && strcmp(tool->pricing_model, "free") == 0)
        return 0;
    /* a purchase keeps working when the tool is delisted later: buyers keep what they paid for */
    if (strcmp(tool->status, "draft") != 0) {
        int access = tool_library_has_access(db, caller->user_id, tool->id, err);
        if (access != 0)
            return access > 0 ? 0 : -1;
    }
    if (!published)
        return error_set(err, ERROR_FORBIDDEN, "the tool is not available");
    return error_set(err, ERROR_PAYMENT_REQUIRED, "this tool costs %" PRId64 " %s (minor units); buy it first",
                     tool->price_cents, tool->currency);
}

/* ---- execute ------------------------------------------------------------------------------------ */

/* One round trip: the tool's access facts and the version to run. */
#define TOOL_LIBRARY_EXEC_COLUMNS                                                                          \
    "SELECT t.id, t.developer_id, t.status, t.pricing_model, t.price_cents, t.currency, t.latest_version," \
    " v.version, v.input_schema, v.output_schema, v.code"                                                  \
    " FROM tools t LEFT JOIN tool_versions v ON v.tool_id = t.id AND v.version = COALESCE(?, t.latest_version)"

enum { XCOL_ID, XCOL_DEVELOPER_ID, XCOL_STATUS, XCOL_PRICING, XCOL_PRICE, XCOL_CURRENCY, XCOL_LATEST,
       XCOL_VERSION, XCOL_INPUT, XCOL_OUTPUT, XCOL_CODE };

typedef struct {
    const json_t *input;
    const char *version; /* NULL: the latest */
} tool_library_request;

static int tool_library_read_request(const json_t *body, tool_library_request *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return error_set(err, ERROR_VALIDATION, "the body must be a JSON object {input, version?}");
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)body, key, value) {
        if (strcmp(key, "input") != 0 && strcmp(key, "version") != 0)
            error_add_field(err, key, "unknown field");
    }
    out->input = json_object_get(body, "input");
    if (!out->input)
        error_add_field(err, "input", "is required (the JSON value the tool's handler gets)");
    const json_t *version = json_object_get(body, "version");
    if (version && !json_is_null(version)) {
        semver v;
        mkt_error parse_err = MKT_ERROR_INIT;
        if (!json_is_string(version) || semver_parse(json_string_value(version), &v, &parse_err) < 0)
            error_add_field(err, "version", "must be a published semantic version such as 1.0.0");
        else
            out->version = json_string_value(version);
        if (out->version)
            semver_free(&v);
        error_clear(&parse_err);
    }
    if (error_is_set(err))
        return error_set(err, ERROR_VALIDATION, "invalid execute request");
    return 0;
}

static int tool_library_find_target(db *db, const char *ref, const char *version, db_rows *rows, mkt_error *err)
{
    tool_ref parsed;
    int rc;
    if (tool_record_ref_parse(ref, &parsed) < 0)
        return error_set(err, ERROR_NOT_FOUND, "no such tool");
    if (parsed.slug)
        rc = db_query(db, TOOL_LIBRARY_EXEC_COLUMNS " WHERE t.slug = ?",
                      DB_PARAMS(db_text(version), db_text(parsed.slug)), rows, err);
    else
        rc = db_query(db, TOOL_LIBRARY_EXEC_COLUMNS " WHERE t.id = ?", DB_PARAMS(db_text(version), db_int(parsed.id)),
                      rows, err);
    if (rc < 0)
        return -1;
    if (rows->row_count == 0) {
        db_rows_free(rows);
        return error_set(err, ERROR_NOT_FOUND, "no tool \"%s\"", ref);
    }
    return 0;
}

typedef struct {
    int64_t tool_id, user_id;
} tool_library_usage;

/* The first successful run of a free tool by a user is a download: the insert into tool_users decides
 * "first" and the increment follows it in the same transaction, so the two always agree however runs
 * interleave. */
static int tool_library_download_tx(db *db, void *arg, mkt_error *err)
{
    const tool_library_usage *u = arg;
    db_result res = {0};
    if (db_exec(db, "INSERT IGNORE INTO tool_users (tool_id, user_id) VALUES (?, ?)",
                DB_PARAMS(db_int(u->tool_id), db_int(u->user_id)), &res, err) < 0)
        return -1;
    if (res.affected_rows == 0)
        return 0;
    return db_exec(db, "UPDATE tools SET downloads = downloads + 1 WHERE id = ?", DB_PARAMS(db_int(u->tool_id)), NULL,
                   err);
}

/* Has this worker already seen u recorded in tool_users? Rows there are never removed while the tool
 * and user exist, so a remembered pair needs no statement; a forgotten one costs one no-op insert. */
static int tool_library_download_known(const tool_library_usage *u, int remember)
{
    static tool_library_usage seen[512];
    size_t slot = ((uint64_t)u->tool_id * 0x9E3779B97F4A7C15u ^ (uint64_t)u->user_id) % (sizeof seen / sizeof seen[0]);
    if (remember) {
        seen[slot] = *u;
        return 1;
    }
    return seen[slot].tool_id == u->tool_id && seen[slot].user_id == u->user_id;
}

typedef struct {
    int64_t tool_id;
    char day[11]; /* YYYY-MM-DD, UTC */
    int64_t executions;
} tool_library_pending;

#define TOOL_LIBRARY_PENDING_MAX 128
static tool_library_pending tool_library_pending_counts[TOOL_LIBRARY_PENDING_MAX];
static size_t tool_library_pending_used;
static uint64_t tool_library_last_flush_ms;

static uint64_t tool_library_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int tool_library_flush_executions(db *db)
{
    int written = 0;
    size_t kept = 0;
    for (size_t i = 0; i < tool_library_pending_used; i++) {
        tool_library_pending *p = &tool_library_pending_counts[i];
        mkt_error err = MKT_ERROR_INIT;
        if (db && db_exec(db,
                          "INSERT INTO tool_execution_days (tool_id, day, executions) VALUES (?, ?, ?)"
                          " ON DUPLICATE KEY UPDATE executions = executions + VALUES(executions)",
                          DB_PARAMS(db_int(p->tool_id), db_text(p->day), db_int(p->executions)), NULL, &err) == 0) {
            written += (int)p->executions;
        } else {
            /* Kept for the next flush: the database may be back by then. */
            log_warn("tool %" PRId64 ": %" PRId64 " executions not written yet: %s", p->tool_id, p->executions,
                     err.message ? err.message : "no database");
            tool_library_pending_counts[kept++] = *p;
        }
        error_clear(&err);
    }
    tool_library_pending_used = kept;
    tool_library_last_flush_ms = tool_library_now_ms();
    return written;
}

static void tool_library_count_execution(db *db, int64_t tool_id)
{
    char day[11];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    size_t i = 0;
    while (i < tool_library_pending_used &&
           !(tool_library_pending_counts[i].tool_id == tool_id && strcmp(tool_library_pending_counts[i].day, day) == 0))
        i++;
    if (i == tool_library_pending_used) {
        if (i == TOOL_LIBRARY_PENDING_MAX) {
            tool_library_flush_executions(db);
            i = tool_library_pending_used;
        }
        if (i == TOOL_LIBRARY_PENDING_MAX)
            return; /* still full: the database is down; this count is dropped */
        tool_library_pending_counts[i] = (tool_library_pending){.tool_id = tool_id};
        memcpy(tool_library_pending_counts[i].day, day, sizeof day);
        tool_library_pending_used++;
    }
    tool_library_pending_counts[i].executions++;
    if (tool_library_now_ms() - tool_library_last_flush_ms >= TOOL_LIBRARY_FLUSH_MS)
        tool_library_flush_executions(db);
}

static void tool_library_count(db *db, const tool_library_tool *t, const account_caller *caller)
{
    mkt_error err = MKT_ERROR_INIT;
    tool_library_count_execution(db, t->id);
    /* a developer running their own tool is testing it, not downloading it */
    if (strcmp(t->pricing_model, "free") != 0 || caller->developer_id == t->developer_id)
        return;
    tool_library_usage u = {.tool_id = t->id, .user_id = caller->user_id};
    if (tool_library_download_known(&u, 0))
        return;
    if (db_transaction(db, tool_library_download_tx, &u, &err) < 0)
        log_warn("tool %" PRId64 ": download not counted: %s", t->id, err.message ? err.message : "?");
    else
        tool_library_download_known(&u, 1);
    error_clear(&err);
}

static json_t *tool_library_run(db *db, const config *cfg, const account_caller *caller, const tool_library_tool *t,
                                const db_rows *rows, const json_t *input, mkt_error *err)
{
    json_t *input_schema = tool_record_parse(db_rows_text(rows, 0, XCOL_INPUT), err);
    json_t *output_schema = input_schema ? tool_record_parse(db_rows_text(rows, 0, XCOL_OUTPUT), err) : NULL;
    json_t *out = NULL;
    if (output_schema) {
        uint64_t duration = 0;
        json_t *output = tool_check_execute(cfg, db_rows_text(rows, 0, XCOL_CODE), rows->cells[XCOL_CODE].len,
                                            input_schema, output_schema, input, &duration, err);
        if (output) {
            tool_library_count(db, t, caller);
            out = json_pack("{s:o, s:s, s:I}", "output", output, "version", db_rows_text(rows, 0, XCOL_VERSION),
                            "duration_us", (json_int_t)duration);
            if (!out)
                error_set(err, ERROR_INTERNAL, "out of memory");
        }
    }
    json_decref(input_schema);
    json_decref(output_schema);
    return out;
}

/* Which answer wins: an unknown or invisible tool (404), then access (401/402/403), then a bad body
 * (422), then the version (409 none published, 404 unknown). */
static json_t *tool_library_execute_found(db *db, const config *cfg, const account_caller *caller, const char *ref,
                                          const db_rows *rows, const tool_library_request *req,
                                          mkt_error *body_err, mkt_error *err)
{
    tool_library_tool t = {
        .id = db_rows_int(rows, 0, XCOL_ID), .developer_id = db_rows_int(rows, 0, XCOL_DEVELOPER_ID),
        .status = db_rows_text(rows, 0, XCOL_STATUS), .pricing_model = db_rows_text(rows, 0, XCOL_PRICING),
        .price_cents = db_rows_int(rows, 0, XCOL_PRICE), .currency = db_rows_text(rows, 0, XCOL_CURRENCY),
    };
    if (!tool_record_visible_to(t.status, t.developer_id, caller)) {
        int bought = strcmp(t.status, "delisted") == 0 ? tool_record_bought(db, t.id, caller, err) : 0;
        if (bought < 0)
            return NULL;
        if (!bought) {
            error_set(err, ERROR_NOT_FOUND, "no tool \"%s\"", ref);
            return NULL;
        }
    }
    if (tool_library_can_execute(db, caller, &t, err) < 0)
        return NULL;
    if (error_is_set(body_err)) {
        error_move(err, body_err);
        return NULL;
    }
    if (!db_rows_text(rows, 0, XCOL_LATEST)) {
        error_set(err, ERROR_CONFLICT, "the tool has no published version yet");
        return NULL;
    }
    if (!db_rows_text(rows, 0, XCOL_VERSION)) {
        error_set(err, ERROR_NOT_FOUND, "the tool has no version %s", req->version);
        return NULL;
    }
    return tool_library_run(db, cfg, caller, &t, rows, req->input, err);
}

json_t *tool_library_execute(db *db, const config *cfg, const account_caller *caller, const char *ref,
                             const json_t *body, mkt_error *err)
{
    tool_library_request req;
    mkt_error body_err = MKT_ERROR_INIT;
    db_rows rows = {0};
    tool_library_read_request(body, &req, &body_err);
    json_t *out = NULL;
    if (ref && tool_library_find_target(db, ref, req.version, &rows, err) == 0) {
        out = tool_library_execute_found(db, cfg, caller, ref, &rows, &req, &body_err, err);
        db_rows_free(&rows);
    }
    error_clear(&body_err);
    return out;
}

/* The worker's connection is asked for only when there is something to write. */
static void tool_library_flush_hook(service_worker *sw)
{
    if (tool_library_pending_used == 0)
        return;
    mkt_error err = MKT_ERROR_INIT;
    tool_library_flush_executions(sw->db(sw, &err));
    error_clear(&err);
}

const service_hooks tool_library_service = {
    .name = "tool_library", .worker_idle = tool_library_flush_hook, .worker_exit = tool_library_flush_hook};

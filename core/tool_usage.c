/* Owns tool_execution_days and tool_users (see core/tool_usage.h): every statement on those tables
 * is in this file, and so is the download rule. */
#include "core/tool_usage.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/activity.h"
#include "core/day_count.h"
#include "core/log.h"
#include "core/tool_record.h"

/* ---- downloads ---------------------------------------------------------------------------------- */

/* Whether the event can count a download at all, before "first" is asked of tool_users. */
static int tool_usage_may_count(const tool_usage_event *e)
{
    if (e->by_developer)
        return 0;
    return strcmp(e->pricing_model, "free") == 0 || e->kind == TOOL_USAGE_PURCHASE;
}

int tool_usage_count_download(db *db, const tool_usage_event *e, mkt_error *err)
{
    if (!tool_usage_may_count(e))
        return 0;
    if (strcmp(e->pricing_model, "free") == 0) {
        db_result res = {0};
        if (db_exec(db, "INSERT IGNORE INTO tool_users (tool_id, user_id) VALUES (?, ?)",
                    DB_PARAMS(db_int(e->tool_id), db_int(e->user_id)), &res, err) < 0)
            return -1;
        if (res.affected_rows == 0)
            return 0; /* not their first use */
    }
    return tool_record_add_download(db, e->tool_id, err) < 0 ? -1 : 1;
}

static int tool_usage_download_tx(db *db, void *arg, mkt_error *err)
{
    return tool_usage_count_download(db, arg, err) < 0 ? -1 : 0;
}

/* Has this worker already seen the pair (tool, user) recorded in tool_users? Rows there are never
 * removed while the tool and user exist, so a remembered pair needs no statement; a forgotten one
 * costs one no-op insert. */
typedef struct {
    int64_t tool_id, user_id;
} tool_usage_pair;

static int tool_usage_pair_known(const tool_usage_pair *u, int remember)
{
    static tool_usage_pair seen[512];
    size_t slot = ((uint64_t)u->tool_id * 0x9E3779B97F4A7C15u ^ (uint64_t)u->user_id) % (sizeof seen / sizeof seen[0]);
    if (remember) {
        seen[slot] = *u;
        return 1;
    }
    return seen[slot].tool_id == u->tool_id && seen[slot].user_id == u->user_id;
}

static void tool_usage_run_download(db *db, const tool_usage_event *e)
{
    if (!tool_usage_may_count(e))
        return; /* the rule's own answer, without a round trip */
    tool_usage_pair u = {.tool_id = e->tool_id, .user_id = e->user_id};
    if (tool_usage_pair_known(&u, 0))
        return;
    mkt_error err = MKT_ERROR_INIT;
    if (db_transaction(db, tool_usage_download_tx, (void *)e, &err) < 0)
        log_warn("tool %" PRId64 ": download not counted: %s", e->tool_id, err.message ? err.message : "?");
    else
        tool_usage_pair_known(&u, 1);
    error_clear(&err);
}

/* ---- executions per day ------------------------------------------------------------------------- */

/* One write-back row: the executions of a tool on a day, and the same count as one weighted event
 * of the tool's trending score (a trending failure is logged: the counts themselves are written). */
static int tool_usage_write_executions(db *db, int64_t tool_id, const char *day, int64_t executions, mkt_error *err)
{
    if (db_exec(db,
                "INSERT INTO tool_execution_days (tool_id, day, executions) VALUES (?, ?, ?)"
                " ON DUPLICATE KEY UPDATE executions = executions + VALUES(executions)",
                DB_PARAMS(db_int(tool_id), db_text(day), db_int(executions)), NULL, err) < 0)
        return -1;
    mkt_error trend_err = MKT_ERROR_INIT;
    if (activity_record(db, tool_id, ACTIVITY_EXECUTION, executions, &trend_err) < 0)
        log_warn("tool %" PRId64 ": trending not moved by %" PRId64 " executions: %s", tool_id, executions,
                 trend_err.message ? trend_err.message : "?");
    error_clear(&trend_err);
    return 0;
}

static day_count tool_usage_executions = {
    .what = "executions", .write = tool_usage_write_executions, .flush_ms = TOOL_USAGE_FLUSH_MS};

int tool_usage_flush_executions(db *db)
{
    return day_count_flush(&tool_usage_executions, db);
}

void tool_usage_record_run(db *db, const tool_usage_event *e)
{
    day_count_add(&tool_usage_executions, db, e->tool_id);
    tool_usage_run_download(db, e);
}

void tool_usage_count_call(int64_t tool_id)
{
    day_count_add(&tool_usage_executions, NULL, tool_id);
}

static void tool_usage_flush_hook(service_worker *sw)
{
    day_count_flush_hook(&tool_usage_executions, sw);
}

static void tool_usage_due_hook(service_worker *sw)
{
    day_count_due_hook(&tool_usage_executions, sw);
}

const service_hooks tool_usage_service = {.name = "tool_usage",
                                          .worker_idle = tool_usage_flush_hook,
                                          .worker_after_request = tool_usage_due_hook,
                                          .worker_exit = tool_usage_flush_hook};

int tool_usage_has_used(db *db, int64_t tool_id, int64_t user_id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT 1 FROM tool_users WHERE tool_id = ? AND user_id = ?",
                 DB_PARAMS(db_int(tool_id), db_int(user_id)), &rows, err) < 0)
        return -1;
    int used = rows.row_count > 0;
    db_rows_free(&rows);
    return used;
}

/* ---- bulk history (marketplace seed --tools) ------------------------------------------------- */

int tool_usage_bulk_days(db *db, const tool_usage_bulk_day *rows, size_t n, mkt_error *err)
{
    if (n == 0)
        return 0;
    db_value *params = calloc(n * 3, sizeof *params);
    if (!params)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        params[3 * i] = db_int(rows[i].tool_id);
        params[3 * i + 1] = db_int(rows[i].days_ago);
        params[3 * i + 2] = db_int(rows[i].executions);
    }
    int rc = db_exec_row_batches(db, "INSERT INTO tool_execution_days (tool_id, day, executions) VALUES ",
                                 "(?, UTC_DATE() - INTERVAL ? DAY, ?)", params, 3, n, TOOL_USAGE_BULK_MAX, err);
    free(params);
    return rc;
}

/* How tools are used: executions per tool per day and downloads. Owns the tool_execution_days and
 * tool_users tables (the only file that writes them; core/earnings.c reads tool_execution_days in its
 * read-only analytics report) and holds the download rule, the one place a download is decided.
 * The counter itself is the tools row's, written through core/tool_record. */
#ifndef CORE_TOOL_USAGE_H
#define CORE_TOOL_USAGE_H

#include <stdint.h>

#include "core/error.h"
#include "core/service.h"
#include "sql/db.h"

typedef enum {
    TOOL_USAGE_RUN,      /* a successful execution */
    TOOL_USAGE_PURCHASE, /* a completed purchase (a free checkout included) */
} tool_usage_kind;

/* One use of a tool by a user. */
typedef struct {
    tool_usage_kind kind;
    int64_t tool_id, user_id;
    const char *pricing_model; /* the tool's: free | one_time | subscription */
    int by_developer;          /* the tool's own developer: testing it, never a download */
} tool_usage_event;

/* The download rule. A free tool counts one download per user: the first of their successful runs
 * and completed purchases (tool_users decides "first"; the counter moves in the same transaction, so
 * the two always agree however runs interleave). A paid tool counts every completed purchase (each
 * is a sale: renewals and purchases again after a refund too); running it counts nothing. The tool's
 * own developer never counts. Call inside the caller's db_transaction. 1 counted, 0 not, -1 error. */
int tool_usage_count_download(db *db, const tool_usage_event *e, mkt_error *err);

/* Has user_id used tool_id: a tool_users row (their first successful run or completed purchase of a
 * free tool)? 1 yes, 0 no, -1 on a database error. */
int tool_usage_has_used(db *db, int64_t tool_id, int64_t user_id, mkt_error *err);

/* A successful run (e->kind TOOL_USAGE_RUN): counts the execution and, by the rule above, the
 * download (in its own transaction). Never fails the run: counting problems are logged. */
void tool_usage_record_run(db *db, const tool_usage_event *e);

/* One successful tools.call of tool_id by another tool's code (core/tool_compose): an execution of the
 * callee, counted like the others (batched, written back with them). No download: the user ran the
 * calling tool, not this one. Never touches the database itself. */
void tool_usage_count_call(int64_t tool_id);

/* Successful executions are counted in the worker and written to tool_execution_days in batches
 * (core/day_count: one upsert per tool and day, at most TOOL_USAGE_FLUSH_MS after they happened), and
 * each batch row enters the tool's trending score as one weighted event. The worker writes back when
 * idle, after a request once due, and before it exits. Returns how many pending counts were written. */
#define TOOL_USAGE_FLUSH_MS 1000
int tool_usage_flush_executions(db *db);

/* Lifecycle hooks (core/service.h): flush the counts when the worker is idle and before it exits. */
extern const service_hooks tool_usage_service;

/* ---- bulk history (marketplace seed --tools) ---- */

/* A past day's execution count of a tool: days_ago 0 is today (UTC). */
typedef struct {
    int64_t tool_id, days_ago, executions;
} tool_usage_bulk_day;

/* Writes the n (tool, day) counts (each pair once, executions > 0) inside the caller's db_transaction,
 * TOOL_USAGE_BULK_MAX rows per statement. */
#define TOOL_USAGE_BULK_MAX 2000
int tool_usage_bulk_days(db *db, const tool_usage_bulk_day *rows, size_t n, mkt_error *err);

#endif

/* Counts per (tool, UTC day) kept in a worker's memory and written back in batches: one upsert per
 * tool and day at most flush_ms after the count, instead of a statement per event, so a hot
 * (tool, day) row is written a few times a second whatever the traffic. Executions (core/tool_usage)
 * and tool-page views (core/activity) are counted this way; each owner keeps its table and gives the
 * write. A worker killed by SIGKILL loses at most flush_ms of counts (analytics only, never money or
 * access); a count whose write fails is kept for the next write-back, and when the table of pending
 * counts is full and cannot be written, a new count is dropped (the database is down). */
#ifndef CORE_DAY_COUNT_H
#define CORE_DAY_COUNT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/service.h"
#include "sql/db.h"

/* Distinct (tool, day) pairs one worker holds between write-backs. */
#define DAY_COUNT_PENDING_MAX 128

/* Adds count to tool_id's row for day (YYYY-MM-DD, UTC) in the owner's table. */
typedef int (*day_count_write_fn)(db *db, int64_t tool_id, const char *day, int64_t count, mkt_error *err);

typedef struct {
    int64_t tool_id;
    char day[11];
    int64_t count;
} day_count_pending;

typedef struct {
    const char *what;        /* "executions", "views": names the counts in log lines */
    day_count_write_fn write;
    uint64_t flush_ms;       /* write back once this long has passed since the last write-back */
    day_count_pending pending[DAY_COUNT_PENDING_MAX];
    size_t used;
    uint64_t last_flush_ms;
} day_count;

/* One more for tool_id today; writes back on db when flush_ms has passed (db may be NULL: kept). */
void day_count_add(day_count *c, db *db, int64_t tool_id);

/* Writes every pending count now (db NULL: none is written). Returns how many counts were written;
 * the ones that failed stay pending. */
int day_count_flush(day_count *c, db *db);

/* For lifecycle hooks (core/service.h). flush_hook: write back whatever is pending (idle, exit);
 * due_hook: write back when flush_ms has passed — a worker kept busy never goes idle, so it writes
 * back after a request once the counts have waited long enough. The worker's connection is asked for
 * only when there is something to write. */
void day_count_flush_hook(day_count *c, service_worker *sw);
void day_count_due_hook(day_count *c, service_worker *sw);

#endif

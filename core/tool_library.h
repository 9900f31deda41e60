/* ToolLibrary: the buyer's side of tools — reading a tool, the category list, and executing a
 * published version, with the one access check every execution goes through and the usage counters
 * (executions per tool per day, downloads). */
#ifndef CORE_TOOL_LIBRARY_H
#define CORE_TOOL_LIBRARY_H

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "core/service.h"
#include "sql/db.h"

/* What the access check needs to know about a tool. */
typedef struct {
    int64_t id, developer_id;
    const char *status;        /* draft | published | delisted */
    const char *pricing_model; /* free | one_time | subscription */
    int64_t price_cents;
    const char *currency;
} tool_library_tool;

/* GET /tools/{tool}: the tool with rating stats; the owner also sees the draft. caller may be NULL. */
json_t *tool_library_get(db *db, const account_caller *caller, const char *ref, mkt_error *err);

/* GET /categories -> {categories[{name, label, count}]}, count = published tools, in the fixed order. */
json_t *tool_library_categories(db *db, mkt_error *err);

/* The developer's published tools as summaries (for GET /developers/{id}). */
json_t *tool_library_developer_tools(db *db, int64_t developer_id, mkt_error *err);

/* May caller run this (visible) tool? 0 yes; -1 with 402 (payment required) or 403. The owner always
 * may; anyone signed in may run a published free tool; paid tools answer 402 until the money issue
 * extends this function with completed purchases (and unexpired subscriptions, and buyers of a
 * delisted tool). This is the only place execution access is decided. */
int tool_library_can_execute(db *db, const account_caller *caller, const tool_library_tool *tool, mkt_error *err);

/* POST /tools/{tool}/execute {input, version?} -> {output, version, duration_us}. Runs the latest
 * published version or the one asked for (404 unknown version, 409 nothing published yet). 422 when
 * the input or output fails its schema or the code fails (the sandbox's reason in the message). */
json_t *tool_library_execute(db *db, const config *cfg, const account_caller *caller, const char *ref,
                             const json_t *body, mkt_error *err);

/* Successful executions are counted in the worker and written to tool_execution_days in batches (one
 * upsert per tool and day), at most TOOL_LIBRARY_FLUSH_MS after they happened: the hot (tool, day) row
 * is then written a few times a second instead of once per run. The worker flushes when idle and
 * before it exits; a worker killed by SIGKILL loses at most that window of counts (analytics only,
 * never money or access). Returns how many pending counts were written. */
#define TOOL_LIBRARY_FLUSH_MS 1000
int tool_library_flush_executions(db *db);

/* Lifecycle hooks (core/service.h): flush the counts when the worker is idle and before it exits. */
extern const service_hooks tool_library_service;

#endif

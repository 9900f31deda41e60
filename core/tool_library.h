/* ToolLibrary: the buyer's side of tools — reading a tool, the category list, and executing a
 * published version, with the one access check every execution goes through. A successful run is
 * handed to core/tool_usage (executions per day, downloads). Owns no table: tools are read through
 * core/tool_record and access through core/tool_access; the category list (reference data the
 * migrations load) is read here with its count of published tools, read-only. */
#ifndef CORE_TOOL_LIBRARY_H
#define CORE_TOOL_LIBRARY_H

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "sql/db.h"

/* What the access check needs to know about a tool. */
typedef struct {
    int64_t id, developer_id;
    const char *status;        /* draft | published | delisted */
    const char *pricing_model; /* free | one_time | subscription */
    int64_t price_cents;
    const char *currency;
} tool_library_tool;

/* GET /tools/{tool}: the tool with rating stats; the owner also sees the draft. caller may be NULL.
 * The JSON text (malloc'd, ending in a newline), from this worker's cache of public views while the
 * tool is unchanged (core/tool_cache.h); tool_library_get is the same document parsed. */
char *tool_library_get_text(db *db, const account_caller *caller, const char *ref, mkt_error *err);
json_t *tool_library_get(db *db, const account_caller *caller, const char *ref, mkt_error *err);

/* GET /categories -> {categories[{name, label, count}]}, count = published tools, in the fixed order. */
json_t *tool_library_categories(db *db, mkt_error *err);
/* 1 when name is a category, 0 when not, -1 with err (the database). The names come from the
 * migrations alone, so each process reads them once. */
int tool_library_category_exists(db *db, const char *name, mkt_error *err);

/* The developer's published tools as summaries (for GET /developers/{id}). */
json_t *tool_library_developer_tools(db *db, int64_t developer_id, mkt_error *err);

/* May caller run this (visible) tool? 0 yes; -1 with ERROR_PAYMENT_REQUIRED or ERROR_FORBIDDEN. The
 * owner always may; anyone signed in may run a published free tool; a paid tool needs access from a
 * completed purchase (one_time: for good; subscription: a period that has not ended — core/tool_access),
 * and a buyer keeps running a tool that was delisted after the purchase. This is the only place
 * execution access is decided. */
int tool_library_can_execute(db *db, const account_caller *caller, const tool_library_tool *tool, mkt_error *err);

/* POST /tools/{tool}/execute {input, version?} -> {output, version, duration_us}. Runs the latest
 * published version or the one asked for (404 unknown version, 409 nothing published yet). 422 when
 * the input or output fails its schema or the code fails (the sandbox's reason in the message). */
json_t *tool_library_execute(db *db, const config *cfg, const account_caller *caller, const char *ref,
                             const json_t *body, mkt_error *err);

/* tool_library_execute with the tool's plugin chain around the run (core/hook_system): tool:beforeExecute
 * filters the input before the input schema, tool:afterExecute the output after the output schema, and
 * the output schema is checked again on what the chain produced. want_trace (the tool's developer only,
 * 403 otherwise) adds trace[{plugin, version, hook, duration_us, changed}]. A failing hook is 422 naming
 * the plugin, version and hook. tool_library_execute is this without a trace. */
json_t *tool_library_execute_traced(db *db, const config *cfg, const account_caller *caller, const char *ref,
                                    const json_t *body, int want_trace, mkt_error *err);

#endif

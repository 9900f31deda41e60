/* A worker's caches of tools, so the hot reads need no query: the public view of a tool (the JSON
 * text GET /tools/{tool} answers to everyone but its owner) and the version an execute runs (the
 * tool's access facts, the version's code and its parsed schemas). Owns no table: it keeps what
 * core/tool_record read.
 *
 * Exact invalidation: an entry holds the tool's change counter (core/view_epoch.h) read BEFORE the
 * query that filled it, and is used only while the counter still has that value. Every write to a
 * tool that changes what is kept (reviews through the rating, downloads, drafts, publishing,
 * delisting, restoring, plugin sets) calls view_epoch_bump in core/tool_record.c, so a change made
 * in any worker is seen by the next read in every worker. The counter of a tool is only known once
 * its id is: a reference the worker has never resolved is read from the database, remembered with
 * its id, and cached from its second read on (a numeric reference from the first). Writes no worker
 * sees (another process such as `marketplace seed`, or SQL by hand) are bounded by TOOL_CACHE_TTL_MS:
 * an entry older than that is read again.
 *
 * Bounded: TOOL_CACHE_VIEWS views of at most TOOL_CACHE_VIEW_BYTES each and TOOL_CACHE_TARGETS
 * versions of at most TOOL_CACHE_TARGET_BYTES (code and schemas) each; bigger ones are not kept. */
#ifndef CORE_TOOL_CACHE_H
#define CORE_TOOL_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/account.h"
#include "core/error.h"
#include "core/tool_record.h"
#include "sql/db.h"

#define TOOL_CACHE_VIEWS 256
#define TOOL_CACHE_VIEW_BYTES 8192
#define TOOL_CACHE_TARGETS 32
#define TOOL_CACHE_TARGET_BYTES 65536
#define TOOL_CACHE_TTL_MS 10000
/* A view read from a read replica (db_is_replica) may predate a change whose counter it was stored
 * under (the replica lags): it is kept this long instead, so it outlives the lag by at most this. */
#define TOOL_CACHE_REPLICA_TTL_MS 1000

/* The public view of the tool named by ref as JSON text (malloc'd, ending in a newline) for caller
 * (NULL: anonymous). *tool_id and *owner tell whose it is (the owner's view has the draft and is
 * never cached). Errors as tool_record_find: 404 when the caller may not see it. */
char *tool_cache_view(db *db, const account_caller *caller, const char *ref, int64_t *tool_id, int *owner,
                      mkt_error *err);

/* A version to run (tool_record_target_load's answer for ref and version, NULL: the latest) with its
 * schemas parsed (NULL when the version does not exist). The entry belongs to the cache and stays
 * valid until the next call; 404 when there is no such tool. */
typedef struct {
    tool_record_target target;
    json_t *input_schema, *output_schema;
} tool_cache_target;
const tool_cache_target *tool_cache_target_get(db *db, const char *ref, const char *version, mkt_error *err);

/* The bytes the caches hold now (for the tests and the benchmark's RSS notes). */
size_t tool_cache_bytes(void);

#endif

/* Activity: what people do with tools, kept for discovery — the trending score, views of a tool
 * page, and who has which tools (for recommendations and "bought together").
 *
 * Owns tool_activity, tool_view_days, activity_user_tools and tool_pairs (migration 0013): every
 * statement writing them is in core/activity.c. Reads tools, tool_tags, rating_totals and categories
 * read-only for its lists (rankings join them in one query); core/earnings.c reads tool_view_days
 * for analytics. docs/architecture.md lists the owners.
 *
 * Events come from where they happen: a completed purchase (core/transaction_events, in the
 * purchase's transaction), a review written (core/review_manager, in the review's transaction), the
 * execution counts core/tool_usage writes back in batches (weight x count), a tool page read
 * (core/tool_library, batched here). The score is core/trending's log-scale decayed sum. */
#ifndef CORE_ACTIVITY_H
#define CORE_ACTIVITY_H

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "core/service.h"
#include "core/tool_usage.h"
#include "sql/db.h"

typedef enum {
    ACTIVITY_EXECUTION, /* a successful execution */
    ACTIVITY_PURCHASE,  /* a completed purchase (a free checkout too) */
    ACTIVITY_REVIEW,    /* a review written */
} activity_kind;

/* A tool's trending score (the log-scale decayed sum) as a SQL expression on the tools alias `tool`,
 * NULL while it has had no activity: how other modules (search's sort=trending) order by it without
 * reading tool_activity themselves. */
#define ACTIVITY_SCORE_SQL(tool) "(SELECT a.score_log FROM tool_activity a WHERE a.tool_id = " tool ".id)"

/* The weights and half-life from cfg (activity_* keys); the master_load hook calls it, tests may. */
void activity_configure(const config *cfg);

/* count events of kind on tool_id, now, into its trending score (weight x count; nothing when the
 * kind's weight is 0). One upsert of the tool's row: call it inside the caller's transaction when
 * there is one. */
int activity_record(db *db, int64_t tool_id, activity_kind kind, int64_t count, mkt_error *err);

/* The same with the event's weight and time (Unix seconds) given: the clock the tests inject. */
int activity_record_at(db *db, int64_t tool_id, double weight, double at, mkt_error *err);

/* A bulk load's executions (rows of tool_usage_bulk_day: a day's count days_ago days back, the rows
 * of one tool next to each other) into trending scores, as if each day's executions had happened at
 * that time of day: one new row per tool (tools without activity yet: a catalogue just written). */
int activity_bulk_executions(db *db, const tool_usage_bulk_day *rows, size_t n, mkt_error *err);

/* A review deleted by its author takes its event back: the event of weight w at `at` (Unix seconds,
 * when the review was written) leaves the sum, L' = L + log2(1 - 2^(x - L)); when nothing else
 * remains (x within 1e-6 of L) the tool's row goes. So creating and deleting reviews cannot pump a
 * tool up the trending list. Inside the caller's transaction. */
int activity_review_deleted(db *db, int64_t tool_id, double at, mkt_error *err);

/* A completed purchase by user_id (inside the purchase's transaction): the purchase event and the
 * tool becomes one of the user's (activity_user_tool). */
int activity_purchase(db *db, int64_t user_id, int64_t tool_id, mkt_error *err);

/* tool_id becomes one of user_id's tools (inside the caller's transaction). The first time only, it
 * is paired with the user's ACTIVITY_PAIR_RECENT most recent other tools (tool_pairs + 1 both ways):
 * bounded work per event, however many tools the user has. */
#define ACTIVITY_PAIR_RECENT 50
int activity_user_tool(db *db, int64_t user_id, int64_t tool_id, mkt_error *err);

/* A successful run by user_id: activity_user_tool in its own transaction, skipped when this worker
 * has already recorded the pair. Never fails the run (problems are logged). */
void activity_user_tool_run(db *db, int64_t user_id, int64_t tool_id);

/* One view of tool_id's page, counted in this worker's memory and added to tool_view_days in
 * batches (one upsert per tool and day) at most ACTIVITY_FLUSH_MS later, when the worker is idle,
 * or before it exits: no statement per view. */
#define ACTIVITY_FLUSH_MS 1000
void activity_count_view(db *db, int64_t tool_id);
/* Writes the pending views now; returns how many were written (kept for later when it fails). */
int activity_flush_views(db *db);

/* Lifecycle hooks (core/service.h): the config on master_load, the views' write-back when idle and
 * before exit. */
extern const service_hooks activity_service;

/* GET /tools/trending: published tools with activity in the last window_days (text from the query:
 * NULL is 7; 1..90, else 422 naming window_days), in category (NULL or "": any; unknown: 422 naming
 * category), by the decayed score, then the newest id -> {items, total, page, per_page}, as JSON text
 * ending with a newline (the caller frees it), or NULL with err. */
#define ACTIVITY_WINDOW_DEFAULT 7
#define ACTIVITY_WINDOW_MAX 90
/* cfg: the search engine's settings (the in-memory index answers when it is built). */
char *activity_trending(db *db, const config *cfg, const char *window_days, const char *category, int64_t page,
                          int64_t per_page, mkt_error *err);

/* At most this many tools in each recommendation list. */
#define ACTIVITY_LIST_MAX 10

/* GET /tools/{tool}/recommendations -> {similar, bought_together}. 404 when the caller (NULL:
 * anonymous) may not see the tool. similar: published tools in the same category or sharing a tag,
 * by shared tags, then the same category, the Bayesian rating, downloads. bought_together: by the
 * number of users who have both. Both leave out the tool itself and, for a signed-in caller, the
 * tools they have bought or used and their own tools. */
json_t *activity_recommendations(db *db, const account_caller *caller, const char *ref, mkt_error *err);

/* GET /me/recommendations -> {items}: published tools sharing tags with the caller's most recent
 * ACTIVITY_PAIR_RECENT tools, by the number of shared tags, the Bayesian rating, downloads; never one
 * the caller has or made. */
json_t *activity_me_recommendations(db *db, const account_caller *caller, mkt_error *err);

#endif

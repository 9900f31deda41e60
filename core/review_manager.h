/* Reviews of tools: one per user per tool, the helpful/unhelpful votes on them and the tool
 * developer's public reply, and users' reports on reviews with the moderators' decisions. Owns the
 * reviews, review_votes, review_responses and review_reports tables (the only file that writes or
 * reads them). The tool's rating counters (tools.rating_*) count the visible
 * reviews and move through tool_record_rating_move in the same transaction as the review change;
 * helpful_count, unhelpful_count and the stored Wilson bound (core/wilson.h) move in the vote's
 * transaction, recounted from review_votes under the review's row lock, so both stay exact under
 * any concurrency.
 *
 * A review: {id, tool_id, author {id, display_name}, rating, title, content, verified_purchase,
 * helpful_count, unhelpful_count, status, created_at, updated_at, response: null | {content,
 * created_at, updated_at}}; ids are decimal strings, times RFC 3339 UTC. verified_purchase is true
 * when the author bought the tool (any tool_access row) or has used it (core/tool_usage), decided
 * when the review is written or edited.
 *
 * Text rules: title 1-120 and content 1-5000 characters (Unicode code points) of valid UTF-8 with no
 * control character (content may hold line breaks: LF, CR, and tabs). rating is a JSON integer 1-5.
 *
 * Every id text comes from the router (canonical, core/ident); a review that is removed, or whose
 * tool the caller may not see, is 404 like a missing one. Returned JSON belongs to the caller. */
#ifndef CORE_REVIEW_MANAGER_H
#define CORE_REVIEW_MANAGER_H

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "sql/db.h"

#define REVIEW_TITLE_MAX 120
#define REVIEW_CONTENT_MAX 5000
/* A report's detail and a moderator's note: 1-1000 characters, the content's rules. */
#define REVIEW_DETAIL_MAX 1000
/* Open reports from this many different accounts (each old enough, config report_min_account_age)
 * hide a review until a moderator decides. */
#define REVIEW_REPORTS_TO_HIDE 3

/* POST /reviews {tool_id, rating, title, content} -> the review (created: 201).
 * 422 naming each bad or unknown field; 404 no tool tool_id the caller may see; 403 the caller's own
 * tool; 409 the caller reviewed this tool already (the unique key decides); 429 (ERROR_RATE_LIMITED,
 * retry_after set) when the caller created cfg->review_rate_limit reviews within the last hour
 * (core/rate_limit, in the same transaction as the insert: deleted reviews still count). The tool's
 * review:beforeCreate plugin hooks (core/hook_system) filter {rating, title, content} first: a failing
 * hook is 422 naming the plugin (how a hook rejects a review), and the rules apply again to its result. */
json_t *review_create(db *db, const config *cfg, const account_caller *caller, const json_t *body, mkt_error *err);

/* PATCH /reviews/{id} {rating?, title?, content?} (at least one) -> the review. 404 no such review
 * (or removed: a removed review is gone for its author too); 403 not the author; 422 as above. */
json_t *review_update(db *db, const account_caller *caller, const char *id, const json_t *body, mkt_error *err);

/* DELETE /reviews/{id}: the author deletes it with its votes and reply; the rating counters follow.
 * 404 no such review (or removed); 403 not the author; 409 while it is hidden (a moderator decides
 * first: deleting would drop the reports and let the same text be posted again). */
int review_delete(db *db, const account_caller *caller, const char *id, mkt_error *err);

/* GET /tools/{tool}/reviews?sort=helpful|newest|rating -> {items, total, page, per_page}
 * (core/paging.h) of the visible reviews. sort NULL is helpful (Wilson bound, then newest); newest is
 * by id; rating is highest first, then newest. 404 no tool the caller (NULL: anonymous) may see;
 * 400 naming sort for anything else. */
json_t *review_list(db *db, const account_caller *caller, const char *tool_ref, const char *sort, int64_t page,
                    int64_t per_page, mkt_error *err);

/* POST /reviews/{id}/votes {helpful} -> {helpful_count, unhelpful_count}; a new vote replaces the
 * caller's old one. 404 no visible review; 403 the caller's own review; 422 helpful not a boolean. */
json_t *review_vote(db *db, const account_caller *caller, const char *id, const json_t *body, mkt_error *err);

/* DELETE /reviews/{id}/votes -> {helpful_count, unhelpful_count} (the same when there was no vote). */
json_t *review_unvote(db *db, const account_caller *caller, const char *id, mkt_error *err);

/* POST /reviews/{id}/response {content} -> {review_id, content, created_at, updated_at} (201 both the
 * first time and when it edits the reply). 404 no review the caller may see; 403 not the developer
 * of the reviewed tool; 422 content as a review's. */
json_t *review_respond(db *db, const account_caller *caller, const char *id, const json_t *body, mkt_error *err);

/* ---- reports and moderation (table review_reports, also owned here) ---- */

/* POST /reviews/{id}/reports {reason: spam|abuse|off_topic|fake|other, detail?} -> the report {id,
 * review_id, reporter_id, reason, detail?, status, created_at} (202). One per user per review (409);
 * 403 on the caller's own review; 404 when the review is missing, removed, already hidden, or its tool
 * is not visible to the caller; 422 naming reason / detail / unknown fields. In the report's
 * transaction, under the review's row lock: when the open reports that count reach
 * REVIEW_REPORTS_TO_HIDE the review becomes hidden and leaves the tool's rating counters, once. */
json_t *review_report(db *db, const config *cfg, const account_caller *caller, const char *id, const json_t *body,
                      mkt_error *err);

/* The body of any report: reason one of reasons (NULL-terminated), detail optional (1-1000 characters
 * as REVIEW_DETAIL_MAX says). *reason points into reasons, *detail into body. 422 naming each problem. */
int review_report_body(const json_t *body, const char *const reasons[], const char **reason, const char **detail,
                       mkt_error *err);

/* Reads back report report_id of table (review_reports, or core/moderation's tool_reports: its owner
 * passes the statement) as {id, <target_key>, reporter_id, reason, detail?, status, created_at}. sql
 * selects exactly (id, target id, user_id, reason, detail, status, created_at) for one id. */
json_t *review_report_read(db *db, const char *sql, int64_t report_id, const char *target_key, mkt_error *err);

typedef enum { REVIEW_APPROVE, REVIEW_HIDE, REVIEW_REMOVE } review_decision;

/* A moderator's (actor's) decision on review id_text, INSIDE the caller's transaction (core/moderation
 * writes the audit row in the same one): approve -> visible, hide -> hidden, remove -> removed for good.
 * The rating counters move only when visibility changes; the review's open reports are closed. *id gets
 * the review's id; *before and *after (the caller's) get {status, rating, tool_id, open_reports}. 404
 * when the review is missing or removed already; 403 when it is the actor's own review or a review of
 * the actor's own tool (another moderator or an admin decides). */
int review_decide(db *db, const account_caller *actor, const char *id_text, review_decision d, int64_t *id,
                  json_t **before, json_t **after, mkt_error *err);

/* The moderation queue's reviews: hidden reviews that still have open reports, oldest first, at most
 * limit, each a review with reports: [{id, reporter_id, reason, detail?, counted, created_at}]. */
json_t *review_queue(db *db, int64_t limit, mkt_error *err);

/* Visible reviews of one tool written in one calendar month (UTC). */
typedef struct {
    int64_t tool_id;
    char month[8]; /* "YYYY-MM" */
    int64_t count, sum;
} review_month;

/* For GET /developers/me/analytics (core/earnings): the visible reviews of every tool of
 * developer_id by the month they were written, over the last `months` calendar months (the current
 * one included), only months with reviews; ordered by tool id, then month (oldest first). *out is
 * malloc'd (free it; NULL when there are none). */
int review_months(db *db, int64_t developer_id, int months, review_month **out, size_t *count, mkt_error *err);

/* ---- bulk reviews (marketplace seed --tools) ---- */

/* A visible review as a bulk load writes it (no votes, no reply, not a verified purchase). */
typedef struct {
    int64_t tool_id, user_id, age_seconds; /* written this long ago */
    int rating;                            /* 1..5 */
    const char *title, *content;           /* within the text rules above */
} review_bulk_row;

/* Inserts the n reviews inside the caller's db_transaction, REVIEW_BULK_MAX per statement. The rating
 * counters are NOT moved here: the bulk load writes each tool row with the counts of exactly the
 * reviews it gives (tool_record_bulk_insert), in the same transaction, so they equal a recount. */
#define REVIEW_BULK_MAX 1000
int review_bulk_insert(db *db, const review_bulk_row *rows, size_t n, mkt_error *err);

#endif

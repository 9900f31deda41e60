/* Reviews of tools: one per user per tool, the helpful/unhelpful votes on them and the tool
 * developer's public reply. Owns the reviews, review_votes and review_responses tables (the only
 * file that writes or reads them). The tool's rating counters (tools.rating_*) count the visible
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
#include "core/error.h"
#include "sql/db.h"

#define REVIEW_TITLE_MAX 120
#define REVIEW_CONTENT_MAX 5000

/* POST /reviews {tool_id, rating, title, content} -> the review (created: 201).
 * 422 naming each bad or unknown field; 404 no tool tool_id the caller may see; 403 the caller's own
 * tool; 409 the caller reviewed this tool already (the unique key decides). */
json_t *review_create(db *db, const account_caller *caller, const json_t *body, mkt_error *err);

/* PATCH /reviews/{id} {rating?, title?, content?} (at least one) -> the review. 404 no such review
 * (or removed: a removed review is gone for its author too); 403 not the author; 422 as above. */
json_t *review_update(db *db, const account_caller *caller, const char *id, const json_t *body, mkt_error *err);

/* DELETE /reviews/{id}: the author deletes it with its votes and reply; the rating counters follow.
 * 404 no such review (or removed); 403 not the author. */
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

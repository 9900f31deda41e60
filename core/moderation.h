/* Moderation: users' reports on tools, the moderators' queue and actions, and the append-only audit
 * log of those actions. Owns the tool_reports and moderation_audit tables. Reviews' own reports and
 * state changes live in core/review_manager (it owns the reviews), tools' status in core/tool_record,
 * flagged transactions in core/transaction_manager; this module calls them and writes each action's
 * audit row IN THE SAME database transaction as the change, so there is never a change without its
 * record, nor a record of a change that did not happen.
 *
 * The log is append-only: the database refuses every UPDATE and DELETE on moderation_audit (triggers
 * in migration 0009), whoever sends them.
 *
 * Who may call what is the router's business (fcgi/routes/moderation.c: the queue and the actions need
 * role moderator or admin, the audit log admin). Bodies are strict: 422 naming each wrong, missing or
 * unknown field, and a refused request changes nothing. Returned JSON belongs to the caller. */
#ifndef CORE_MODERATION_H
#define CORE_MODERATION_H

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/error.h"
#include "sql/db.h"

/* Each list of the queue holds at most this many entries (the oldest reports first; transactions
 * newest first). The queue is a work list, not an archive: what a moderator decides leaves it. */
#define MODERATION_QUEUE_CAP 100

/* POST /tools/{tool}/reports {reason: malware|broken|misleading|spam|other, detail?} -> the report
 * {id, tool_id, reporter_id, reason, detail?, status, created_at} (202). One OPEN report per user per
 * tool (409; the unique key decides); 404 when the caller may not see the tool; 403 on the caller's own
 * tool; 422 naming reason / detail / unknown fields. */
json_t *moderation_tool_report(db *db, const account_caller *caller, const char *tool_ref, const json_t *body,
                               mkt_error *err);

/* GET /moderation/queue -> {reviews: [...], tools: [...], transactions: [...], cap}:
 *   reviews       hidden reviews with open reports (core/review_manager's review_queue)
 *   tools         tools with open reports: {tool {id, slug, name, status}, open_reports,
 *                 reasons {malware, broken, misleading, spam, other}, first_reported_at}
 *   transactions  transactions flagged by a contradicting provider event (core/transaction_manager) */
json_t *moderation_queue(db *db, mkt_error *err);

/* POST /moderation/reviews/{id} {action: approve|hide|remove, note} -> the audit entry (200).
 * 404 unknown or removed review; 422 bad action / note (1-1000 characters) / unknown fields. */
json_t *moderation_review(db *db, const account_caller *caller, const char *id, const json_t *body, mkt_error *err);

/* POST /moderation/tools/{tool} {action: delist|restore, note} -> the audit entry (200). delist: status
 * delisted (buyers keep access, as with DELETE /tools); restore: published again, 409 when the tool has
 * no published version. Either closes the tool's open reports and moves the tool's search document
 * (core/search) in the same transaction. 404 when the moderator may not see the tool (a draft); 422
 * as above. */
json_t *moderation_tool(db *db, const account_caller *caller, const char *tool_ref, const json_t *body,
                        mkt_error *err);

/* GET /moderation/audit?actor=&target=&page=&per_page= -> {items, total, page, per_page} (core/paging.h),
 * newest first. actor is a user id; target "review:<id>" or "tool:<id>" (tool by id, not slug). NULL
 * filters are off. 400 naming actor or target when malformed. An entry: {id, actor_id, action
 * (review.approve|review.hide|review.remove|tool.delist|tool.restore), target, target_type, target_id,
 * note, before, after, created_at}. */
json_t *moderation_audit_list(db *db, const char *actor, const char *target, int64_t page, int64_t per_page,
                              mkt_error *err);

#endif

/* How often one account may do an action: at most rule->limit of it within any sliding window of
 * rule->window_seconds. Generic (an action is a short name such as "review.create"); the caller
 * decides which actions are limited and calls rate_limit_take in the transaction that does the
 * action, so the action and its event commit or roll back together.
 *
 * Owns rate_limit_holds and rate_limit_events (sql/migrations/0010_review_limits.sql): one event per
 * action done, counted until created_at + window. Events count what was done, not what still exists:
 * deleting what an action made does not give the allowance back. One user's attempts are serialised
 * on their (user, action) hold row, so parallel requests can never exceed the limit. Expired events
 * are deleted by a sweep every worker runs (rate_limit_service, about once a minute). */
#ifndef CORE_RATE_LIMIT_H
#define CORE_RATE_LIMIT_H

#include <stdint.h>

#include "core/error.h"
#include "core/service.h"
#include "sql/db.h"

#define RATE_LIMIT_ACTION_MAX 32 /* bytes of an action name */

typedef struct {
    const char *action;     /* e.g. "review.create" */
    int64_t limit;          /* actions allowed per window; 0 or less: no limit (nothing recorded) */
    int64_t window_seconds; /* 1 .. one day */
    const char *what;       /* for the message: "reviews" */
} rate_limit_rule;

/* Inside the caller's db_transaction, before anything else of the action: takes the user's hold
 * for the action, counts the events still in the window and records one more. When limit events
 * are in the window already: -1 with ERROR_RATE_LIMITED and err->retry_after the seconds until
 * enough of them leave the window for one more (the oldest counted one, unless the limit was
 * lowered since), at least 1. Other errors: the database's. */
int rate_limit_take(db *db, int64_t user_id, const rate_limit_rule *rule, mkt_error *err);

/* Deletes up to max_rows events no longer counted; *deleted (may be NULL) says how many. */
int rate_limit_sweep(db *db, int64_t max_rows, int64_t *deleted, mkt_error *err);

/* The sweep as a lifecycle hook (core/service.c). */
extern const service_hooks rate_limit_service;

#endif

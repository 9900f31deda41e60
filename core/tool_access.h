/* Who may run a paid tool: owns the tool_access table (the only file that writes it; core/tool_plans
 * reads the plan terms, read-only).
 * One row per (user, tool) that was ever bought; access_until NULL is access for good (a one_time
 * or free purchase), otherwise access until that time (a subscription). Grants and revocations run
 * inside the caller's db_transaction (the purchase or refund that causes them). */
#ifndef CORE_TOOL_ACCESS_H
#define CORE_TOOL_ACCESS_H

#include <stdint.h>

#include "core/error.h"
#include "sql/db.h"

/* period_days 0 grants access for good; otherwise it adds period_days to whatever is left of the
 * current period (a renewal before expiry loses no days) and never shortens access for good. */
int tool_access_grant(db *db, int64_t user_id, int64_t tool_id, int64_t period_days, mkt_error *err);

/* Takes back what one grant gave: period_days 0 removes the row; otherwise the period is taken off
 * (renewals bought separately stay) and a row left with no time is removed. */
int tool_access_revoke(db *db, int64_t user_id, int64_t tool_id, int64_t period_days, mkt_error *err);

/* What the user holds on the tool; each answers 1 yes, 0 no, -1 on a database error. */
enum {
    TOOL_ACCESS_EVER,     /* any row, even an expired subscription: they bought it once */
    TOOL_ACCESS_NOW,      /* access that has not run out */
    TOOL_ACCESS_FOR_GOOD, /* access for good (nothing more to buy for a one_time tool) */
};
int tool_access_holds(db *db, int64_t user_id, int64_t tool_id, int which, mkt_error *err);

/* ---- plans: the terms a buyer bought, recorded on their access (core/tool_plans decides them) ---- */

typedef struct {
    int64_t plan_id;            /* 0: none recorded (a grant made without a plan) */
    char plan_name[321];        /* up to 80 characters of UTF-8 */
    char model[16];             /* free | one_time | subscription */
    int64_t period_days;        /* the subscription's period; 0 otherwise */
    int64_t quota;              /* executions per period; 0 = unlimited */
    int64_t rate_per_minute;    /* 0 = none set by the plan */
    int64_t anchor;             /* Unix seconds: the start of the first quota period (read only) */
} tool_access_terms;

/* A completed purchase on terms: the same plan again extends it as tool_access_grant does (a
 * subscription gains period_days, one_time stays for good) and takes the terms as bought now;
 * another plan (or none held) replaces the access at once: it starts now, with these terms and a
 * fresh quota period, and whatever was left of the old plan ends (no proration). */
int tool_access_grant_plan(db *db, int64_t user_id, int64_t tool_id, const tool_access_terms *terms, mkt_error *err);

/* Takes back what one grant of plan_id gave (tool_access_revoke's rule), only while the buyer still
 * holds that plan (or a row without a plan): a refund of a plan they since left changes nothing. */
int tool_access_revoke_plan(db *db, int64_t user_id, int64_t tool_id, int64_t plan_id, int64_t period_days,
                            mkt_error *err);

/* The terms columns of a tool_access row (TOOL_ACCESS_TERMS_COUNT of them), for a read-only query
 * elsewhere that needs them with something else in one round trip (core/tool_plans: the caller's
 * terms or the tool's free plan on every execution), and the reader of row i from column first. */
#define TOOL_ACCESS_TERMS_COLUMNS                                                                          \
    "COALESCE(plan_id, 0), COALESCE(plan_name, ''), COALESCE(model, ''), COALESCE(period_days, 0),"        \
    " COALESCE(quota, 0), COALESCE(rate_per_minute, 0), UNIX_TIMESTAMP(period_anchor)"
#define TOOL_ACCESS_TERMS_COUNT 7
/* The condition of access that has not run out. */
#define TOOL_ACCESS_NOW_SQL "(access_until IS NULL OR access_until > NOW(6))"
void tool_access_terms_read(const db_rows *rows, size_t i, size_t first, tool_access_terms *out);

/* Does the user hold plan_id for good (a one_time or free purchase of that plan, or a grant without
 * a plan)? 1, 0, -1. Checkout refuses buying it again. */
int tool_access_holds_plan_for_good(db *db, int64_t user_id, int64_t tool_id, int64_t plan_id, mkt_error *err);

/* Every access of the user with its terms (GET /me/usage), at most limit rows, newest first:
 * tool_ids[i], terms[i], until[i] (Unix seconds, 0 = for good). Arrays malloc'd; *n rows. */
typedef struct {
    int64_t tool_id, until;
    tool_access_terms terms;
} tool_access_held;
int tool_access_list(db *db, int64_t user_id, int64_t tool_id, size_t limit, tool_access_held **out, size_t *n,
                     mkt_error *err);

#endif

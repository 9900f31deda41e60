/* Who may run a paid tool: owns the tool_access table (the only file that writes or reads it).
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

#endif

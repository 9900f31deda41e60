/* Exact quotas: never more successful executions in a buyer's period than their plan's quota, with
 * executions arriving at once on every worker of every app host, and no database write per execution.
 *
 * How. MariaDB holds, per (buyer, tool, plan, period), `used` (successful executions written back)
 * and `leased` (units handed to app hosts and not yet used or given back); a lease is one short
 * transaction that grants at most what is free, so used + leased never passes the quota. Each app
 * host keeps its leases in a shared-memory pool its workers share (made by the master before the
 * fork): an execution takes one unit from the pool under a process-shared lock, and the worker that
 * finds the pool empty asks MariaDB for the next lease while the others wait for it, so a host refuses
 * (402) only when MariaDB has nothing left to lease. An execution that fails gives its unit back; a
 * successful one becomes `used` at the next write-back (about once a second; a worker's idle moments
 * and exit too). Units a host has not used for QUOTA_IDLE_RETURN_S go back to MariaDB, so another host
 * can have them.
 *
 * A lease is what is left divided by 16, between 1 and quota_lease_max (config, default 100): big
 * leases while plenty is left, single units near the end. What a crash can lose: a worker killed in
 * the middle of an execution loses that one unit (it stays leased: the buyer cannot use it this
 * period); a whole host killed (SIGKILL, power) loses what its pool held, at most one lease per
 * (buyer, tool, period) — quota_lease_max units — plus the executions not yet written back, which
 * stay counted as leased: never more executions than the quota, at worst fewer.
 *
 * Owns plan_usage and plan_execution_days (executions per plan and day, batched through
 * core/day_count for the developer's analytics per plan). */
#ifndef CORE_QUOTA_H
#define CORE_QUOTA_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "core/service.h"
#include "core/tool_plans.h"
#include "sql/db.h"

/* Seconds a host keeps units nobody takes before it gives them back. */
#define QUOTA_IDLE_RETURN_S 10
/* Buyer-tool-period pools one host holds at once; beyond it executions lease one unit each. */
#define QUOTA_SLOTS 4096

/* One unit taken for one execution: settle it with quota_settle whatever happens. */
typedef struct {
    int64_t user_id, tool_id, plan_id, period_start;
    int slot;    /* the pool slot, or -1: leased straight from MariaDB */
    int active;  /* 0: nothing to settle (unlimited terms) */
} quota_ticket;

/* Takes one execution from user_id's quota on tool_id under terms (core/tool_plans_terms_for).
 * Unlimited terms take nothing (0, ticket inactive). 0 with the ticket; -1 with err:
 * ERROR_QUOTA_EXCEEDED when the period's quota is used up — the problem document then carries
 * period_start, period_end, quota, plan_id and plans (the tool's plans that allow more) — or a
 * database error. */
int quota_take(db *db, const config *cfg, int64_t user_id, int64_t tool_id, const tool_plans_terms *terms,
               quota_ticket *ticket, mkt_error *err);

/* The execution ended: succeeded counts the unit as used (and the run in the plan's analytics; on a
 * plan without a quota the run is counted as used too, through the pool, without a lease), otherwise
 * the unit goes back to the pool. */
void quota_settle(db *db, quota_ticket *ticket, int succeeded);

/* A successful execution on plan_id, for the analytics per plan (batched). */
void quota_count_run(db *db, int64_t plan_id);

/* GET /me/usage[?tool=]: {items[{tool_id, slug, name, plan{id, name, model}, period_start, period_end,
 * used, quota, remaining}]}: every tool the caller holds access to (and free plans they used this
 * month), quota and remaining null when unlimited. tool NULL: all. 404 for an unknown tool reference. */
json_t *quota_usage(db *db, const account_caller *caller, const char *tool, mkt_error *err);

/* Writes back what this worker's host pool used and gives back idle units now (tests). */
void quota_flush(db *db, int give_back_all);

/* master_load makes the shared pool; the workers write back and give back (idle, after a request
 * once a second, at exit). */
extern const service_hooks quota_service;

#endif

/* Plans: what a tool sells (at most TOOL_PLANS_MAX tiers, each free | one_time | subscription with a
 * price, a period, an optional quota of executions per period and an optional rate per minute), and
 * which terms a caller runs a tool on.
 *
 * Owns the tool_plans table (the only file that writes it). A tool's pricing columns (core/tool_record)
 * are the mirror of its default plan: PUT writes the default plan's pricing there, a draft edit of
 * `pricing` moves the default plan with it (tool_plans_follow_pricing), and a tool that has no plan
 * rows yet (a new draft, a bulk-loaded tool) gets its default plan made from its pricing the first
 * time a plan is needed. So a tool that never touches plans works exactly as before.
 *
 * Edits apply to new purchases only: checkout copies the plan's terms onto the transaction, and the
 * completed purchase copies them onto the buyer's access (core/tool_access); a plan the owner drops
 * is retired, never deleted, because transactions name it.
 *
 * Errors: 404 unknown or invisible tool, 403 not the owner, 422 naming the field (plans, plans[i].x,
 * plan_id). */
#ifndef CORE_TOOL_PLANS_H
#define CORE_TOOL_PLANS_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "core/account.h"
#include "core/error.h"
#include "core/tool_access.h"
#include "core/tool_fields.h"
#include "sql/db.h"

#define TOOL_PLANS_MAX 5
#define TOOL_PLANS_NAME_MAX 80
#define TOOL_PLANS_QUOTA_MAX 1000000000000LL
#define TOOL_PLANS_RATE_MAX 1000000

/* One plan as stored. */
typedef struct {
    int64_t id, tool_id;
    char name[TOOL_PLANS_NAME_MAX * 4 + 1];
    tool_pricing pricing;
    int64_t quota;           /* 0 = unlimited */
    int64_t rate_per_minute; /* 0 = none */
    int is_default;
} tool_plan;

/* GET /tools/{tool}/plans (anyone who may see the tool) -> {tool_id, plans[{id, name, model,
 * price_cents, currency, period_days?, quota?, rate_per_minute?, default}]}, the default first. */
json_t *tool_plans_get(db *db, const account_caller *caller, const char *ref, mkt_error *err);

/* PUT /tools/{tool}/plans [plan...] (the owner): the plans the tool sells from now on, in order. A
 * plan with the id of one of the tool's plans edits it, one without an id is new, and a plan left out
 * is retired (its buyers keep their terms). The one with "default": true, or else the first, is the
 * default and becomes the tool's pricing. Answers as tool_plans_get. */
json_t *tool_plans_put(db *db, const account_caller *caller, const char *ref, const json_t *body, mkt_error *err);

/* The plan a checkout of tool_id buys (inside the checkout's transaction; the tool row is locked
 * by then): plan_id, or the default when plan_id is 0. 422 naming plan_id when the tool sells no
 * such plan. */
int tool_plans_offer(db *db, int64_t tool_id, int64_t plan_id, tool_plan *out, mkt_error *err);

/* A draft's pricing changed (core/tool_builder, in its transaction): the default plan follows. */
int tool_plans_follow_pricing(db *db, int64_t tool_id, const tool_pricing *pricing, mkt_error *err);

/* ---- the terms a caller runs a tool on ---- */

typedef struct {
    int64_t plan_id;         /* 0: no plan applies (the developer's own tool, or a free tool without plan rows) */
    char plan_name[TOOL_PLANS_NAME_MAX * 4 + 1];
    char model[16];
    int64_t quota;           /* executions per period; 0 = unlimited */
    int64_t rate_per_minute; /* 0 = the plan sets none */
    time_t period_start, period_end; /* the current quota period [start, end), UTC */
    int bought;              /* 1: recorded on the caller's access; 0: the tool's free plan */
} tool_plans_terms;

/* The terms user_id runs tool_id on now: their access's recorded terms when they hold access that has
 * not run out, else the tool's first free plan (as it is now). 1 with *out, 0 when neither applies (the
 * caller needs to buy; the tool's own developer is not asked here), -1 on a database error. This is the
 * one function the execute path asks for a caller's plan terms (quota, rate per minute, period end). */
int tool_plans_terms_for(db *db, int64_t user_id, int64_t tool_id, time_t now, tool_plans_terms *out,
                         mkt_error *err);

/* The quota period that holds now for terms recorded on an access (subscription: period_days from
 * the anchor; free and one_time: the calendar month, UTC). */
void tool_plans_period(const char *model, int64_t period_days, time_t anchor, time_t now, time_t *start,
                       time_t *end);

/* The tool's plans that allow more executions than quota (unlimited ones, or a larger quota), other
 * than plan_id, as tool_plans_get shows them: what a quota-exceeded answer offers. */
json_t *tool_plans_allowing_more(db *db, int64_t tool_id, int64_t plan_id, int64_t quota, mkt_error *err);

/* One plan's JSON (tool_plans_get's shape). */
json_t *tool_plans_json(const tool_plan *p);

#endif

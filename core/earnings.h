/* What a developer earned and how their tools are used: read-only views over the ledger (money),
 * transactions (sales per tool), tool_execution_days (executions) and the tools row (downloads,
 * rating). Nothing here writes. Returned JSON belongs to the caller (json_decref).
 *
 * Money comes from the ledger only, so these figures always agree with the postings:
 *   available_cents       balance of developer:D:available (negative after refunds of spent money)
 *   pending_payout_cents  balance of developer:D:payout_pending (requested, not paid or failed yet)
 *   paid_out_cents        what payout_paid postings moved to external:payouts
 *   lifetime_cents        purchase developer shares minus refunded shares (net of refunds)
 */
#ifndef CORE_EARNINGS_H
#define CORE_EARNINGS_H

#include <jansson.h>

#include "core/account.h"
#include "core/error.h"
#include "sql/db.h"

/* Months of by_month and days of the analytics series: enough for a dashboard, bounded. */
#define EARNINGS_MONTHS 24
#define EARNINGS_DAYS 30

/* GET /developers/me/earnings ->
 *   {balances: [{currency, available_cents, pending_payout_cents, paid_out_cents, lifetime_cents}],
 *    by_month: [{month "YYYY-MM", currency, sales, refunds, earned_cents, refunded_cents, net_cents}],
 *    by_tool:  [{tool_id, slug, name, currency, sales, refunds, revenue_cents, developer_cents}]}
 * balances by currency code; by_month newest first (the last EARNINGS_MONTHS calendar months, UTC,
 * only months with activity; from the ledger: a refund counts in the month it happened); by_tool
 * from completed and refunded paid transactions (sales = still completed; revenue and developer
 * share of those), best first.
 * 403 without a developer profile. */
json_t *earnings_get(db *db, const account_caller *caller, mkt_error *err);

/* GET /developers/me/analytics -> {tools: [{tool_id, slug, name, status, views, downloads, executions,
 *   sales, revenue: [{currency, revenue_cents, developer_cents}], rating: {average, count, bayesian},
 *   review_count, daily: [{day "YYYY-MM-DD", views, executions, sales}],
 *   rating_over_time: [{month "YYYY-MM", count, average}],
 *   plans: [{plan_id, plan_name, month "YYYY-MM", currency, executions, sales, revenue_cents}]}], days}
 * for every tool of the caller (drafts included), daily over the last EARNINGS_DAYS days (UTC),
 * only days with activity listed. rating and review_count count the visible reviews (as
 * GET /tools/{tool} does); rating_over_time the visible reviews by the month they were written, over
 * the last EARNINGS_MONTHS calendar months, oldest first, only months with reviews, average to two
 * decimals (from core/review_manager: earnings never reads reviews itself). plans: per plan and month
 * over the last EARNINGS_MONTHS months, the successful executions on the plan (core/quota's
 * plan_execution_days, the buyers' runs; the developer's own are not on a plan) and the completed
 * purchases of it (sales, revenue_cents in the plan's currency). views are the reads of
 * the tool's page by others (core/activity's tool_view_days, written back in batches). 403 without
 * a developer profile. */
json_t *earnings_analytics(db *db, const account_caller *caller, mkt_error *err);

#endif

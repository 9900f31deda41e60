#include "core/earnings.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ledger.h"
#include "core/rating.h"
#include "core/review_manager.h"
#include "core/tool_record.h"

/* How a result column becomes a JSON member: its name and whether it is text or an integer. */
typedef struct {
    const char *name;
    char type; /* 's' text, 'i' integer */
} earnings_column;

/* One JSON object per row, members in column order. */
static json_t *earnings_rows_json(const db_rows *rows, const earnings_column *columns, size_t count)
{
    json_t *list = json_array();
    for (size_t r = 0; list && r < rows->row_count; r++) {
        json_t *item = json_object();
        for (size_t c = 0; item && c < count; c++) {
            json_t *v = columns[c].type == 's' ? json_string(db_rows_text(rows, r, c))
                                               : json_integer((json_int_t)db_rows_int(rows, r, c));
            if (!v || json_object_set_new(item, columns[c].name, v) < 0) {
                json_decref(item);
                item = NULL;
            }
        }
        if (!item || json_array_append_new(list, item) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}

/* Runs sql with params and turns the rows into a JSON array of objects. */
static json_t *earnings_query_list(db *db, const char *sql, const db_value *params, size_t param_count,
                                   const earnings_column *columns, size_t count, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, sql, params, param_count, &rows, err) < 0)
        return NULL;
    json_t *list = earnings_rows_json(&rows, columns, count);
    db_rows_free(&rows);
    if (!list)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return list;
}

/* ---- earnings ------------------------------------------------------------------------------- */

/* The balances come from the ledger's own summing (ledger_developer_totals). */
static json_t *earnings_balances(db *db, int64_t developer_id, mkt_error *err)
{
    ledger_developer_total *totals;
    size_t n;
    if (ledger_developer_totals(db, developer_id, &totals, &n, err) < 0)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        const ledger_developer_total *t = &totals[i];
        if (json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:I, s:I}", "currency", t->currency,
                                                  "available_cents", (json_int_t)t->available_cents,
                                                  "pending_payout_cents", (json_int_t)t->pending_payout_cents,
                                                  "paid_out_cents", (json_int_t)t->paid_out_cents, "lifetime_cents",
                                                  (json_int_t)t->lifetime_cents)) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    free(totals);
    if (!list)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return list;
}

static json_t *earnings_by_month(db *db, const char *available, mkt_error *err)
{
    static const earnings_column columns[] = {{"month", 's'},         {"currency", 's'},       {"sales", 'i'},
                                              {"refunds", 'i'},       {"earned_cents", 'i'},   {"refunded_cents", 'i'},
                                              {"net_cents", 'i'}};
    static const char sql[] =
        "SELECT DATE_FORMAT(p.created_at, '%Y-%m') AS month, e.currency,"
        " SUM(p.kind = 'purchase'), SUM(p.kind = 'refund'),"
        " COALESCE(SUM(CASE WHEN p.kind = 'purchase' THEN e.amount_cents END), 0),"
        " COALESCE(SUM(CASE WHEN p.kind = 'refund' THEN -e.amount_cents END), 0),"
        " SUM(e.amount_cents)"
        " FROM ledger_entries e JOIN ledger_postings p ON p.id = e.posting_id"
        " WHERE e.account = ? AND p.kind IN ('purchase', 'refund')"
        " AND p.created_at >= DATE_FORMAT(UTC_DATE() - INTERVAL ? MONTH, '%Y-%m-01')"
        " GROUP BY month, e.currency ORDER BY month DESC, e.currency";
    return earnings_query_list(db, sql, DB_PARAMS(db_text(available), db_int(EARNINGS_MONTHS - 1)), columns,
                               sizeof columns / sizeof columns[0], err);
}

static json_t *earnings_by_tool(db *db, int64_t developer_id, mkt_error *err)
{
    static const earnings_column columns[] = {{"tool_id", 's'},       {"slug", 's'},   {"name", 's'},
                                              {"currency", 's'},      {"sales", 'i'},  {"refunds", 'i'},
                                              {"revenue_cents", 'i'}, {"developer_cents", 'i'}};
    /* Free tools complete at amount 0: they are downloads, not earnings. */
    static const char sql[] =
        "SELECT t.tool_id, tl.slug, tl.name, t.currency,"
        " SUM(t.status = 'completed'), SUM(t.status = 'refunded'),"
        " COALESCE(SUM(CASE WHEN t.status = 'completed' THEN t.amount_cents END), 0),"
        " COALESCE(SUM(CASE WHEN t.status = 'completed' THEN t.developer_cents END), 0) AS earned"
        " FROM transactions t JOIN tools tl ON tl.id = t.tool_id"
        " WHERE t.developer_id = ? AND t.status IN ('completed', 'refunded') AND t.amount_cents > 0"
        " GROUP BY t.tool_id, tl.slug, tl.name, t.currency ORDER BY earned DESC, t.tool_id, t.currency";
    return earnings_query_list(db, sql, DB_PARAMS(db_int(developer_id)), columns, sizeof columns / sizeof columns[0],
                               err);
}

json_t *earnings_get(db *db, const account_caller *caller, mkt_error *err)
{
    if (!caller || caller->developer_id <= 0) {
        error_set(err, ERROR_FORBIDDEN, "a developer profile is required");
        return NULL;
    }
    char available[LEDGER_ACCOUNT_MAX];
    if (ledger_account_developer(available, caller->developer_id, LEDGER_BUCKET_AVAILABLE) < 0) {
        error_set(err, ERROR_INTERNAL, "bad developer id");
        return NULL;
    }
    json_t *balances = earnings_balances(db, caller->developer_id, err);
    json_t *by_month = balances ? earnings_by_month(db, available, err) : NULL;
    json_t *by_tool = by_month ? earnings_by_tool(db, caller->developer_id, err) : NULL;
    if (!by_tool) {
        json_decref(balances);
        json_decref(by_month);
        return NULL;
    }
    json_t *out = json_pack("{s:o, s:o, s:o}", "balances", balances, "by_month", by_month, "by_tool", by_tool);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

/* ---- analytics ------------------------------------------------------------------------------ */

/* {average, count, bayesian} of one tool, as GET /tools/{tool} shows them (core/tool_record). */
static json_t *earnings_rating(int64_t count, int64_t sum, int64_t all_count, int64_t all_sum)
{
    return json_pack("{s:f, s:I, s:f}", "average", rating_round2(count > 0 ? (double)sum / (double)count : 0.0),
                     "count", (json_int_t)count, "bayesian",
                     rating_round2(tool_record_bayesian(count, sum, all_count, all_sum)));
}

/* The tools with their lifetime counters; the rating is display data, not money. */
static json_t *earnings_tools(db *db, int64_t developer_id, mkt_error *err)
{
    static const char sql[] =
        "SELECT tl.id, tl.slug, tl.name, tl.status, tl.downloads, tl.rating_count, tl.rating_sum,"
        " (SELECT COALESCE(SUM(d.executions), 0) FROM tool_execution_days d WHERE d.tool_id = tl.id),"
        " (SELECT COUNT(*) FROM transactions t WHERE t.tool_id = tl.id AND t.status = 'completed'"
        "   AND t.amount_cents > 0),"
        " (SELECT COALESCE(SUM(v.views), 0) FROM tool_view_days v WHERE v.tool_id = tl.id)"
        " FROM tools tl WHERE tl.developer_id = ? ORDER BY tl.id";
    int64_t all_count, all_sum;
    if (tool_record_rating_totals(db, &all_count, &all_sum, err) < 0)
        return NULL;
    db_rows rows = {0};
    if (db_query(db, sql, DB_PARAMS(db_int(developer_id)), &rows, err) < 0)
        return NULL;
    enum { ACOL_ID, ACOL_SLUG, ACOL_NAME, ACOL_STATUS, ACOL_DOWNLOADS, ACOL_RATING_COUNT, ACOL_RATING_SUM,
           ACOL_EXECUTIONS, ACOL_SALES, ACOL_VIEWS };
    json_t *tools = json_array();
    for (size_t r = 0; tools && r < rows.row_count; r++) {
        int64_t count = db_rows_int(&rows, r, ACOL_RATING_COUNT), sum = db_rows_int(&rows, r, ACOL_RATING_SUM);
        json_t *tool = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:I, s:[], s:[], s:[]}", "tool_id",
                                 db_rows_text(&rows, r, ACOL_ID), "slug", db_rows_text(&rows, r, ACOL_SLUG), "name",
                                 db_rows_text(&rows, r, ACOL_NAME), "status", db_rows_text(&rows, r, ACOL_STATUS),
                                 "views", (json_int_t)db_rows_int(&rows, r, ACOL_VIEWS),
                                 "downloads", (json_int_t)db_rows_int(&rows, r, ACOL_DOWNLOADS), "executions",
                                 (json_int_t)db_rows_int(&rows, r, ACOL_EXECUTIONS), "sales",
                                 (json_int_t)db_rows_int(&rows, r, ACOL_SALES), "rating",
                                 earnings_rating(count, sum, all_count, all_sum), "review_count", (json_int_t)count,
                                 "revenue", "daily", "rating_over_time");
        if (tool && json_object_set_new(tool, "plans", json_array()) < 0) {
            json_decref(tool);
            tool = NULL;
        }
        if (!tool || json_array_append_new(tools, tool) < 0) {
            json_decref(tools);
            tools = NULL;
        }
    }
    db_rows_free(&rows);
    if (!tools)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return tools;
}

/* The tool object of tools[] with that id (rows of the follow-up queries are keyed by tool id). */
static json_t *earnings_find_tool(json_t *tools, const char *id)
{
    size_t i;
    json_t *tool;
    json_array_foreach(tools, i, tool)
        if (strcmp(json_string_value(json_object_get(tool, "tool_id")), id) == 0)
            return tool;
    return NULL;
}

/* Runs sql (rows: tool id, then columns) and appends each row to the array member of its tool. */
enum { EARNINGS_ATTACH_TOOL, EARNINGS_ATTACH_FIRST };
static int earnings_attach(db *db, json_t *tools, const char *sql, const db_value *params, size_t param_count,
                           const char *member, const earnings_column *columns, size_t count, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, sql, params, param_count, &rows, err) < 0)
        return -1;
    int rc = 0;
    for (size_t r = 0; r < rows.row_count && rc == 0; r++) {
        json_t *tool = earnings_find_tool(tools, db_rows_text(&rows, r, EARNINGS_ATTACH_TOOL));
        json_t *item = json_object();
        for (size_t c = 0; item && c < count; c++) {
            size_t column = EARNINGS_ATTACH_FIRST + c;
            const char *text = db_rows_text(&rows, r, column);
            json_t *v = columns[c].type == 's' ? json_string(text ? text : "")
                                               : json_integer((json_int_t)db_rows_int(&rows, r, column));
            if (json_object_set_new(item, columns[c].name, v) < 0) {
                json_decref(item);
                item = NULL;
            }
        }
        if (!item)
            rc = error_set(err, ERROR_INTERNAL, "out of memory");
        else if (!tool)
            json_decref(item); /* a tool created between the two queries: shown next time */
        else if (json_array_append_new(json_object_get(tool, member), item) < 0)
            rc = error_set(err, ERROR_INTERNAL, "out of memory");
    }
    db_rows_free(&rows);
    return rc;
}

/* rating_over_time of each tool, from core/review_manager (the owner of reviews). */
static int earnings_attach_ratings(db *db, json_t *tools, int64_t developer_id, mkt_error *err)
{
    review_month *months;
    size_t n;
    if (review_months(db, developer_id, EARNINGS_MONTHS, &months, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char id[24];
        snprintf(id, sizeof id, "%" PRId64, months[i].tool_id);
        json_t *tool = earnings_find_tool(tools, id);
        if (!tool)
            continue; /* a tool created between the two queries: shown next time */
        json_t *point = json_pack("{s:s, s:I, s:f}", "month", months[i].month, "count", (json_int_t)months[i].count,
                                  "average", rating_round2((double)months[i].sum / (double)months[i].count));
        if (json_array_append_new(json_object_get(tool, "rating_over_time"), point) < 0)
            rc = error_set(err, ERROR_INTERNAL, "out of memory");
    }
    free(months);
    return rc;
}

json_t *earnings_analytics(db *db, const account_caller *caller, mkt_error *err)
{
    static const earnings_column revenue_columns[] = {
        {"currency", 's'}, {"revenue_cents", 'i'}, {"developer_cents", 'i'}};
    static const char revenue_sql[] =
        "SELECT t.tool_id, t.currency, SUM(t.amount_cents), SUM(t.developer_cents)"
        " FROM transactions t WHERE t.developer_id = ? AND t.status = 'completed' AND t.amount_cents > 0"
        " GROUP BY t.tool_id, t.currency ORDER BY t.tool_id, t.currency";
    static const earnings_column daily_columns[] = {
        {"day", 's'}, {"views", 'i'}, {"executions", 'i'}, {"sales", 'i'}};
    /* Views (core/activity's tool_view_days), executions and completed paid sales per day, merged
     * on (tool, day). */
    static const char daily_sql[] =
        "SELECT tool_id, DATE_FORMAT(day, '%Y-%m-%d'), SUM(views), SUM(executions), SUM(sales) FROM ("
        "  SELECT v.tool_id, v.day, v.views, 0 AS executions, 0 AS sales FROM tool_view_days v"
        "   JOIN tools tl ON tl.id = v.tool_id WHERE tl.developer_id = ?"
        "   AND v.day > UTC_DATE() - INTERVAL ? DAY"
        "  UNION ALL"
        "  SELECT d.tool_id, d.day, 0, d.executions, 0 FROM tool_execution_days d"
        "   JOIN tools tl ON tl.id = d.tool_id WHERE tl.developer_id = ?"
        "   AND d.day > UTC_DATE() - INTERVAL ? DAY"
        "  UNION ALL"
        "  SELECT t.tool_id, DATE(t.completed_at), 0, 0, 1 FROM transactions t"
        "   WHERE t.developer_id = ? AND t.status = 'completed' AND t.amount_cents > 0"
        "   AND t.completed_at > UTC_DATE() - INTERVAL ? DAY"
        " ) activity GROUP BY tool_id, day ORDER BY tool_id, day";
    static const earnings_column plan_columns[] = {
        {"plan_id", 's'}, {"plan_name", 's'}, {"month", 's'}, {"currency", 's'},
        {"executions", 'i'}, {"sales", 'i'}, {"revenue_cents", 'i'}};
    /* Executions per plan (core/quota's plan_execution_days) and completed sales of each plan, merged
     * on (tool, plan, month, currency). */
    static const char plans_sql[] =
        "SELECT tool_id, plan_id, MAX(plan_name), month, currency, SUM(executions), SUM(sales), SUM(revenue)"
        " FROM ("
        "  SELECT p.tool_id, p.id AS plan_id, p.name AS plan_name, DATE_FORMAT(d.day, '%Y-%m') AS month,"
        "   p.currency, d.executions, 0 AS sales, 0 AS revenue FROM plan_execution_days d"
        "   JOIN tool_plans p ON p.id = d.plan_id JOIN tools tl ON tl.id = p.tool_id WHERE tl.developer_id = ?"
        "   AND d.day >= DATE_FORMAT(UTC_DATE(), '%Y-%m-01') - INTERVAL ? MONTH"
        "  UNION ALL"
        "  SELECT t.tool_id, t.plan_id, COALESCE(p.name, t.plan_name), DATE_FORMAT(t.completed_at, '%Y-%m'),"
        "   t.currency, 0, 1, t.amount_cents FROM transactions t LEFT JOIN tool_plans p ON p.id = t.plan_id"
        "   WHERE t.developer_id = ? AND t.status = 'completed' AND t.plan_id IS NOT NULL"
        "   AND t.completed_at >= DATE_FORMAT(UTC_DATE(), '%Y-%m-01') - INTERVAL ? MONTH"
        " ) per_plan GROUP BY tool_id, plan_id, month, currency ORDER BY tool_id, month, plan_id";
    if (!caller || caller->developer_id <= 0) {
        error_set(err, ERROR_FORBIDDEN, "a developer profile is required");
        return NULL;
    }
    int64_t dev = caller->developer_id;
    json_t *tools = earnings_tools(db, dev, err);
    if (!tools)
        return NULL;
    if (earnings_attach(db, tools, revenue_sql, DB_PARAMS(db_int(dev)), "revenue", revenue_columns,
                        sizeof revenue_columns / sizeof revenue_columns[0], err) < 0 ||
        earnings_attach(db, tools, daily_sql,
                        DB_PARAMS(db_int(dev), db_int(EARNINGS_DAYS), db_int(dev), db_int(EARNINGS_DAYS), db_int(dev),
                                  db_int(EARNINGS_DAYS)),
                        "daily",
                        daily_columns, sizeof daily_columns / sizeof daily_columns[0], err) < 0 ||
        earnings_attach(db, tools, plans_sql,
                        DB_PARAMS(db_int(dev), db_int(EARNINGS_MONTHS - 1), db_int(dev), db_int(EARNINGS_MONTHS - 1)),
                        "plans", plan_columns, sizeof plan_columns / sizeof plan_columns[0], err) < 0 ||
        earnings_attach_ratings(db, tools, dev, err) < 0) {
        json_decref(tools);
        return NULL;
    }
    /* "o" hands tools over to the result even when packing fails. */
    json_t *out = json_pack("{s:o, s:I}", "tools", tools, "days", (json_int_t)EARNINGS_DAYS);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

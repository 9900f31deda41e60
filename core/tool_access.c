/* Owns tool_access (see core/tool_access.h): every statement that writes that table is in this file
 * (core/tool_plans reads the terms columns, read-only, on every execution). */
#include "core/tool_access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tool_access_grant(db *db, int64_t user_id, int64_t tool_id, int64_t period_days, mkt_error *err)
{
    if (period_days <= 0)
        return db_exec(db,
                       "INSERT INTO tool_access (user_id, tool_id, access_until) VALUES (?, ?, NULL)"
                       " ON DUPLICATE KEY UPDATE access_until = NULL",
                       DB_PARAMS(db_int(user_id), db_int(tool_id)), NULL, err);
    return db_exec(db,
                   "INSERT INTO tool_access (user_id, tool_id, access_until) VALUES (?, ?, NOW(6) + INTERVAL ? DAY)"
                   " ON DUPLICATE KEY UPDATE access_until ="
                   " IF(access_until IS NULL, NULL, GREATEST(access_until, NOW(6)) + INTERVAL ? DAY)",
                   DB_PARAMS(db_int(user_id), db_int(tool_id), db_int(period_days), db_int(period_days)), NULL, err);
}

int tool_access_revoke(db *db, int64_t user_id, int64_t tool_id, int64_t period_days, mkt_error *err)
{
    if (period_days <= 0)
        return db_exec(db, "DELETE FROM tool_access WHERE user_id = ? AND tool_id = ?",
                       DB_PARAMS(db_int(user_id), db_int(tool_id)), NULL, err);
    if (db_exec(db,
                "UPDATE tool_access SET access_until = access_until - INTERVAL ? DAY"
                " WHERE user_id = ? AND tool_id = ? AND access_until IS NOT NULL",
                DB_PARAMS(db_int(period_days), db_int(user_id), db_int(tool_id)), NULL, err) < 0)
        return -1;
    return db_exec(db, "DELETE FROM tool_access WHERE user_id = ? AND tool_id = ? AND access_until <= NOW(6)",
                   DB_PARAMS(db_int(user_id), db_int(tool_id)), NULL, err);
}

int tool_access_holds(db *db, int64_t user_id, int64_t tool_id, int which, mkt_error *err)
{
    static const char *const sql[] = {
        [TOOL_ACCESS_EVER] = "SELECT 1 FROM tool_access WHERE user_id = ? AND tool_id = ? LIMIT 1",
        [TOOL_ACCESS_NOW] = ("SELECT 1 FROM tool_access WHERE user_id = ? AND tool_id = ?"
                             " AND (access_until IS NULL OR access_until > NOW(6))"),
        [TOOL_ACCESS_FOR_GOOD] = "SELECT 1 FROM tool_access WHERE user_id = ? AND tool_id = ? AND access_until IS NULL",
    };
    if (which < TOOL_ACCESS_EVER || which > TOOL_ACCESS_FOR_GOOD)
        return error_set(err, ERROR_INTERNAL, "tool_access_holds: unknown question %d", which);
    db_rows rows = {0};
    if (db_query(db, sql[which], DB_PARAMS(db_int(user_id), db_int(tool_id)), &rows, err) < 0)
        return -1;
    int found = rows.row_count > 0;
    db_rows_free(&rows);
    return found;
}

/* ---- plans ------------------------------------------------------------------------------------- */

enum { TERMS_PLAN, TERMS_NAME, TERMS_MODEL, TERMS_PERIOD, TERMS_QUOTA, TERMS_RATE, TERMS_ANCHOR };

void tool_access_terms_read(const db_rows *rows, size_t i, size_t first, tool_access_terms *out)
{
    memset(out, 0, sizeof *out);
    out->plan_id = db_rows_int(rows, i, first + TERMS_PLAN);
    snprintf(out->plan_name, sizeof out->plan_name, "%s", db_rows_text(rows, i, first + TERMS_NAME));
    snprintf(out->model, sizeof out->model, "%s", db_rows_text(rows, i, first + TERMS_MODEL));
    out->period_days = db_rows_int(rows, i, first + TERMS_PERIOD);
    out->quota = db_rows_int(rows, i, first + TERMS_QUOTA);
    out->rate_per_minute = db_rows_int(rows, i, first + TERMS_RATE);
    out->anchor = db_rows_int(rows, i, first + TERMS_ANCHOR);
}

static db_value tool_access_optional(int64_t v)
{
    return v > 0 ? db_int(v) : db_null();
}

int tool_access_grant_plan(db *db, int64_t user_id, int64_t tool_id, const tool_access_terms *terms, mkt_error *err)
{
    int64_t days = strcmp(terms->model, "subscription") == 0 ? terms->period_days : 0;
    /* MariaDB applies ON DUPLICATE KEY assignments left to right, each seeing the ones before: the
     * columns that compare plan_id come first and plan_id itself last. same = the plan held again. */
    return db_exec(
        db,
        "INSERT INTO tool_access (user_id, tool_id, access_until, plan_id, plan_name, model, period_days, quota,"
        " rate_per_minute, period_anchor)"
        " VALUES (?, ?, IF(? > 0, NOW(6) + INTERVAL ? DAY, NULL), ?, ?, ?, ?, ?, ?, NOW(6))"
        " ON DUPLICATE KEY UPDATE"
        " access_until = IF(plan_id <=> VALUES(plan_id),"
        "   IF(access_until IS NULL OR VALUES(access_until) IS NULL, NULL,"
        "      GREATEST(access_until, NOW(6)) + INTERVAL ? DAY),"
        "   VALUES(access_until)),"
        " period_anchor = IF(plan_id <=> VALUES(plan_id), period_anchor, NOW(6)),"
        " plan_name = VALUES(plan_name), model = VALUES(model), period_days = VALUES(period_days),"
        " quota = VALUES(quota), rate_per_minute = VALUES(rate_per_minute), plan_id = VALUES(plan_id)",
        DB_PARAMS(db_int(user_id), db_int(tool_id), db_int(days), db_int(days), tool_access_optional(terms->plan_id),
                  db_text(terms->plan_name), db_text(terms->model), tool_access_optional(days),
                  tool_access_optional(terms->quota), tool_access_optional(terms->rate_per_minute), db_int(days)),
        NULL, err);
}

int tool_access_revoke_plan(db *db, int64_t user_id, int64_t tool_id, int64_t plan_id, int64_t period_days,
                            mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT 1 FROM tool_access WHERE user_id = ? AND tool_id = ? AND (plan_id IS NULL OR plan_id = ?)",
                 DB_PARAMS(db_int(user_id), db_int(tool_id), db_int(plan_id)), &rows, err) < 0)
        return -1;
    size_t held = rows.row_count;
    db_rows_free(&rows);
    return held ? tool_access_revoke(db, user_id, tool_id, period_days, err) : 0;
}

int tool_access_holds_plan_for_good(db *db, int64_t user_id, int64_t tool_id, int64_t plan_id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT 1 FROM tool_access WHERE user_id = ? AND tool_id = ? AND access_until IS NULL"
                 " AND (plan_id IS NULL OR plan_id = ?)",
                 DB_PARAMS(db_int(user_id), db_int(tool_id), db_int(plan_id)), &rows, err) < 0)
        return -1;
    int found = rows.row_count > 0;
    db_rows_free(&rows);
    return found;
}

int tool_access_list(db *db, int64_t user_id, int64_t tool_id, size_t limit, tool_access_held **out, size_t *n,
                     mkt_error *err)
{
    *out = NULL;
    *n = 0;
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT tool_id, COALESCE(UNIX_TIMESTAMP(access_until), 0), " TOOL_ACCESS_TERMS_COLUMNS
                 " FROM tool_access WHERE user_id = ? AND (? = 0 OR tool_id = ?)"
                 " AND (access_until IS NULL OR access_until > NOW(6)) ORDER BY period_anchor DESC LIMIT ?",
                 DB_PARAMS(db_int(user_id), db_int(tool_id), db_int(tool_id), db_int((int64_t)limit)), &rows, err) < 0)
        return -1;
    tool_access_held *held = rows.row_count ? calloc(rows.row_count, sizeof *held) : NULL;
    if (rows.row_count && !held) {
        db_rows_free(&rows);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < rows.row_count; i++) {
        held[i].tool_id = db_rows_int(&rows, i, 0);
        held[i].until = db_rows_int(&rows, i, 1);
        tool_access_terms_read(&rows, i, 2, &held[i].terms);
    }
    *n = rows.row_count;
    *out = held;
    db_rows_free(&rows);
    return 0;
}

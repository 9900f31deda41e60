/* Owns tool_access (see core/tool_access.h): every statement on that table is in this file. */
#include "core/tool_access.h"

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

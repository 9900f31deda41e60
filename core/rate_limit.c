/* Owns rate_limit_holds and rate_limit_events (see core/rate_limit.h): every statement on them is here. */
#include "core/rate_limit.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "core/cluster.h"
#include "core/log.h"

#define RATE_LIMIT_WINDOW_MAX 86400
#define RATE_LIMIT_SWEEP_SECONDS 60
#define RATE_LIMIT_SWEEP_ROWS 1000

/* Takes the row lock of the user's hold for the action, creating the row the first time. An
 * INSERT ... ON DUPLICATE KEY UPDATE locks the row exclusively in one step (a read, then a
 * FOR UPDATE, would let two first attempts both hold a shared lock and deadlock on the upgrade). */
static int rate_limit_hold(db *db, int64_t user_id, const char *action, mkt_error *err)
{
    return db_exec(db,
                   "INSERT INTO rate_limit_holds (user_id, action, takes) VALUES (?, ?, 1)"
                   " ON DUPLICATE KEY UPDATE takes = takes + 1",
                   DB_PARAMS(db_int(user_id), db_text(action)), NULL, err);
}

/* Microseconds until the limit-th newest event still counted stops counting, or 0 when fewer than
 * limit are counted (room for one more). With the hold taken, no event of this user and action can
 * land meanwhile; the read locks (LOCK IN SHARE MODE) so it sees the latest committed events, not
 * the transaction's snapshot, whatever ran before it. */
static int rate_limit_wait_us(db *db, int64_t user_id, const rate_limit_rule *rule, int64_t *wait_us,
                              mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), counts_until) FROM rate_limit_events"
                 " WHERE user_id = ? AND action = ? AND counts_until > UTC_TIMESTAMP(6)"
                 " ORDER BY counts_until DESC LIMIT 1 OFFSET ? LOCK IN SHARE MODE",
                 DB_PARAMS(db_int(user_id), db_text(rule->action), db_int(rule->limit - 1)), &rows, err) < 0)
        return -1;
    *wait_us = rows.row_count ? db_rows_int(&rows, 0, 0) : 0;
    db_rows_free(&rows);
    return 0;
}

int rate_limit_take(db *db, int64_t user_id, const rate_limit_rule *rule, mkt_error *err)
{
    if (rule->limit <= 0)
        return 0;
    if (!rule->action || strlen(rule->action) >= RATE_LIMIT_ACTION_MAX || rule->window_seconds < 1 ||
        rule->window_seconds > RATE_LIMIT_WINDOW_MAX)
        return error_set(err, ERROR_INTERNAL, "rate limit: bad rule");
    int64_t wait_us = 0;
    if (rate_limit_hold(db, user_id, rule->action, err) < 0 || rate_limit_wait_us(db, user_id, rule, &wait_us, err) < 0)
        return -1;
    if (wait_us > 0) {
        long seconds = (long)((wait_us + 999999) / 1000000); /* rounded up: never too early */
        return error_set_rate_limited(err, seconds,
                                      "at most %" PRId64 " %s per %" PRId64 " s: retry in %ld s", rule->limit,
                                      rule->what ? rule->what : "actions", rule->window_seconds, seconds);
    }
    return db_exec(db,
                   "INSERT INTO rate_limit_events (user_id, action, created_at, counts_until)"
                   " VALUES (?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL ? SECOND)",
                   DB_PARAMS(db_int(user_id), db_text(rule->action), db_int(rule->window_seconds)), NULL, err);
}

int rate_limit_sweep(db *db, int64_t max_rows, int64_t *deleted, mkt_error *err)
{
    db_result r = {0};
    if (db_exec(db, "DELETE FROM rate_limit_events WHERE counts_until <= UTC_TIMESTAMP(6) LIMIT ?",
                DB_PARAMS(db_int(max_rows)), &r, err) < 0)
        return -1;
    if (deleted)
        *deleted = (int64_t)r.affected_rows;
    return 0;
}

static int rate_limit_sweep_job(db *db, const config *cfg, mkt_error *err)
{
    (void)cfg;
    return rate_limit_sweep(db, RATE_LIMIT_SWEEP_ROWS, NULL, err);
}

/* Once per RATE_LIMIT_SWEEP_SECONDS across every worker of every host (core/cluster.h). */
static void rate_limit_sweep_hook(service_worker *sw)
{
    static cluster_job job = {.name = "rate_limit_sweep"};
    cluster_job_every(sw, &job, RATE_LIMIT_SWEEP_SECONDS, rate_limit_sweep_job);
}

const service_hooks rate_limit_service = {
    .name = "rate_limit", .worker_idle = rate_limit_sweep_hook, .worker_after_request = rate_limit_sweep_hook};

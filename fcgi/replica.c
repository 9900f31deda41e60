#include "fcgi/replica.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

/* SHOW REPLICA STATUS columns (MariaDB 10.5 and later keep this order). */
#define REPLICA_COL_IO_RUNNING 10
#define REPLICA_COL_SQL_RUNNING 11
#define REPLICA_COL_SECONDS_BEHIND 32

#define REPLICA_CHECK_MS 1000

int replica_configured(const config *cfg)
{
    return (cfg->db_replica_socket && cfg->db_replica_socket[0]) || (cfg->db_replica_host && cfg->db_replica_host[0]);
}

static db *replica_open(const config *cfg)
{
    config c = *cfg; /* shallow: only the connection keys differ, and db_open copies what it keeps */
    c.db_socket = cfg->db_replica_socket;
    c.db_host = cfg->db_replica_host;
    c.db_port = cfg->db_replica_port;
    mkt_error err = MKT_ERROR_INIT;
    db *conn = db_open(&c, &err);
    error_clear(&err);
    if (conn)
        db_mark_replica(conn);
    return conn;
}

/* REPLICA_FRESH when the replica applies the primary's changes and is at most max_lag seconds behind;
 * REPLICA_CUT_OFF when it applies what it received but is not connected to the primary (the primary
 * is down or unreachable: its lag is unknown); else REPLICA_DOWN. */
static int replica_state_now(db *conn, int64_t max_lag)
{
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    int state = REPLICA_DOWN;
    if (db_query(conn, "SHOW REPLICA STATUS", DB_NO_PARAMS, &rows, &err) == 0 && rows.row_count == 1 &&
        rows.column_count > REPLICA_COL_SECONDS_BEHIND) {
        const char *io = db_rows_text(&rows, 0, REPLICA_COL_IO_RUNNING);
        const char *sql = db_rows_text(&rows, 0, REPLICA_COL_SQL_RUNNING);
        if (sql && strcmp(sql, "Yes") == 0)
            state = io && strcmp(io, "Yes") == 0 && !db_rows_is_null(&rows, 0, REPLICA_COL_SECONDS_BEHIND) &&
                            db_rows_int(&rows, 0, REPLICA_COL_SECONDS_BEHIND) <= max_lag
                        ? REPLICA_FRESH
                        : REPLICA_CUT_OFF;
    }
    db_rows_free(&rows);
    error_clear(&err);
    return state;
}

static void replica_check(replica *r, const config *cfg)
{
    static const char *const said[] = {"fall back to the primary", "go to the replica",
                                       "go to the primary (the replica is cut off from it)"};
    int was = r->state;
    if (!r->conn)
        r->conn = replica_open(cfg);
    r->state = r->conn ? replica_state_now(r->conn, cfg->replica_max_lag) : REPLICA_DOWN;
    if (was != r->state)
        log_info("replica: reads %s", said[r->state]);
}

/* The replica in a state at least `least`, checked when the last check is a second old. */
static db *replica_at_least(replica *r, const config *cfg, int least)
{
    if (!replica_configured(cfg))
        return NULL;
    uint64_t now = scoreboard_now_ms();
    if (!r->checked_ms || now - r->checked_ms >= REPLICA_CHECK_MS) {
        r->checked_ms = now;
        replica_check(r, cfg);
    }
    return r->state >= least ? r->conn : NULL;
}

db *replica_pick(replica *r, const config *cfg)
{
    return replica_at_least(r, cfg, REPLICA_FRESH);
}

db *replica_fallback(replica *r, const config *cfg)
{
    return replica_at_least(r, cfg, REPLICA_CUT_OFF);
}

void replica_failed(replica *r)
{
    r->state = REPLICA_DOWN;
    log_info("replica: a read lost the replica; it runs on the primary");
}

static uint32_t replica_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)ts.tv_sec + 1; /* never 0: 0 is "no write" */
}

void replica_note_write(scoreboard *sb, int64_t user_id)
{
    __atomic_store_n(&sb->replica_recent_write[(uint64_t)user_id % SCOREBOARD_RYW_BUCKETS], replica_now_s(),
                     __ATOMIC_RELEASE);
}

int replica_wrote_recently(const scoreboard *sb, int64_t user_id, int64_t window)
{
    uint32_t at = __atomic_load_n(&sb->replica_recent_write[(uint64_t)user_id % SCOREBOARD_RYW_BUCKETS],
                                  __ATOMIC_ACQUIRE);
    return at && (int64_t)replica_now_s() - (int64_t)at <= window;
}

void replica_close(replica *r)
{
    db_close(r->conn);
    r->conn = NULL;
}

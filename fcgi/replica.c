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
    return conn;
}

/* 1 when the replica applies the primary's changes and is at most max_lag seconds behind. */
static int replica_lag_ok(db *conn, int64_t max_lag)
{
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    int ok = 0;
    if (db_query(conn, "SHOW REPLICA STATUS", DB_NO_PARAMS, &rows, &err) == 0 && rows.row_count == 1 &&
        rows.column_count > REPLICA_COL_SECONDS_BEHIND) {
        const char *io = db_rows_text(&rows, 0, REPLICA_COL_IO_RUNNING);
        const char *sql = db_rows_text(&rows, 0, REPLICA_COL_SQL_RUNNING);
        ok = io && sql && strcmp(io, "Yes") == 0 && strcmp(sql, "Yes") == 0 &&
             !db_rows_is_null(&rows, 0, REPLICA_COL_SECONDS_BEHIND) &&
             db_rows_int(&rows, 0, REPLICA_COL_SECONDS_BEHIND) <= max_lag;
    }
    db_rows_free(&rows);
    error_clear(&err);
    return ok;
}

static void replica_check(replica *r, const config *cfg)
{
    int was = r->usable;
    if (!r->conn)
        r->conn = replica_open(cfg);
    r->usable = r->conn && replica_lag_ok(r->conn, cfg->replica_max_lag);
    if (was != r->usable)
        log_info("replica: reads %s", r->usable ? "go to the replica" : "fall back to the primary");
}

db *replica_pick(replica *r, const config *cfg)
{
    if (!replica_configured(cfg))
        return NULL;
    uint64_t now = scoreboard_now_ms();
    if (!r->checked_ms || now - r->checked_ms >= REPLICA_CHECK_MS) {
        r->checked_ms = now;
        replica_check(r, cfg);
    }
    return r->usable ? r->conn : NULL;
}

void replica_failed(replica *r)
{
    r->usable = 0;
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

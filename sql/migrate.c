#include "sql/migrate.h"

#include <stdlib.h>
#include <time.h>

#include "core/log.h"

#define MIGRATE_LOCK "marketplace_migrate"
#define MIGRATE_LOCK_WAIT_S 30
#define MIGRATE_LOCK_POLL_MS 200

static int migrate_create_table(db *db, mkt_error *err)
{
    return db_exec(db,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version INT NOT NULL PRIMARY KEY,"
                   " name VARCHAR(255) NOT NULL,"
                   " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
                   ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
                   DB_NO_PARAMS, NULL, err);
}

/* Queries that answer one integer (lock functions); NULL and errors both fail. */
static int migrate_scalar(db *db, const char *sql, const db_value *params, size_t count, int64_t *out,
                          mkt_error *err)
{
    db_rows rows;
    if (db_query(db, sql, params, count, &rows, err) < 0)
        return -1;
    int rc = 0;
    if (rows.row_count != 1 || db_rows_is_null(&rows, 0, 0))
        rc = error_set(err, ERROR_INTERNAL, "internal error");
    else
        *out = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    return rc;
}

/* Polls instead of letting GET_LOCK wait on the server: a wait longer than db_timeout would look
 * like a dead connection to the client. */
static int migrate_lock(db *db, mkt_error *err)
{
    const struct timespec pause = {.tv_sec = 0, .tv_nsec = MIGRATE_LOCK_POLL_MS * 1000000L};
    for (int waited = 0;; waited += MIGRATE_LOCK_POLL_MS) {
        int64_t got = 0;
        if (migrate_scalar(db, "SELECT GET_LOCK(?, 0)", DB_PARAMS(db_text(MIGRATE_LOCK)), &got, err) < 0)
            return -1;
        if (got == 1)
            return 0;
        if (waited >= MIGRATE_LOCK_WAIT_S * 1000)
            return error_set(err, ERROR_UNAVAILABLE, "another migration has held the lock for %d seconds",
                             MIGRATE_LOCK_WAIT_S);
        nanosleep(&pause, NULL);
    }
}

/* The lock belongs to the session: if the connection was lost and silently replaced by a retried
 * read, the lock is gone and another migrate may be running. */
static int migrate_still_locked(db *db, mkt_error *err)
{
    int64_t ours = 0;
    if (migrate_scalar(db, "SELECT COALESCE(IS_USED_LOCK(?) = CONNECTION_ID(), 0)",
                       DB_PARAMS(db_text(MIGRATE_LOCK)), &ours, err) < 0)
        return -1;
    if (!ours)
        return error_set(err, ERROR_UNAVAILABLE, "lost the migration lock");
    return 0;
}

static void migrate_unlock(db *db)
{
    mkt_error ignored = MKT_ERROR_INIT;
    db_rows rows;
    if (db_query(db, "SELECT RELEASE_LOCK(?)", DB_PARAMS(db_text(MIGRATE_LOCK)), &rows, &ignored) == 0)
        db_rows_free(&rows);
    error_clear(&ignored);
}

static int migrate_is_applied(const db_rows *applied, int version)
{
    for (size_t i = 0; i < applied->row_count; i++)
        if (db_rows_int(applied, i, 0) == version)
            return 1;
    return 0;
}

/* DDL commits implicitly in MariaDB, so a migration cannot be undone: it is recorded as soon as
 * it succeeds, and a failure leaves the earlier ones recorded. */
static int migrate_apply(db *db, const struct migration *m, mkt_error *err)
{
    if (migrate_still_locked(db, err) < 0)
        return -1;
    if (db_exec_script(db, m->sql, err) < 0) {
        /* The database error is logged in full; the operator also needs to know which file. */
        log_error("migration %04d %s failed", m->version, m->name);
        return error_set(err, err && err->kind ? err->kind : ERROR_INTERNAL, "migration %04d %s failed",
                         m->version, m->name);
    }
    if (db_exec(db, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                DB_PARAMS(db_int(m->version), db_text(m->name)), NULL, err) < 0)
        return -1;
    log_info("applied %04d %s", m->version, m->name);
    return 0;
}

static int migrate_pending(db *db, int *applied, mkt_error *err)
{
    db_rows done;
    if (db_query(db, "SELECT version FROM schema_migrations", DB_NO_PARAMS, &done, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < migrations_count; i++) {
        if (i > 0 && migrations[i].version <= migrations[i - 1].version) {
            log_error("migrations out of order: %04d after %04d", migrations[i].version, migrations[i - 1].version);
            rc = error_set(err, ERROR_INTERNAL, "internal error");
        } else if (!migrate_is_applied(&done, migrations[i].version)) {
            rc = migrate_apply(db, &migrations[i], err);
            if (rc == 0)
                ++*applied;
        }
    }
    db_rows_free(&done);
    return rc;
}

int migrate_run(db *db, int *applied, mkt_error *err)
{
    int count = 0;
    if (applied)
        *applied = 0;
    if (migrate_lock(db, err) < 0)
        return -1;
    int rc = migrate_create_table(db, err);
    if (rc == 0)
        rc = migrate_pending(db, &count, err);
    migrate_unlock(db);
    if (applied)
        *applied = count;
    return rc;
}

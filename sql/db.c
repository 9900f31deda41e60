#include "sql/db.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "core/log.h"
#include "core/view_epoch.h"
#include "core/write_epoch.h"
#include "sql/db_internal.h"

#define DB_TRANSACTION_TRIES 3
#define DB_LOST_TRIES 2 /* tries of a transaction whose connection died before COMMIT */
#define DB_STMT_CACHE_MAX 256
/* A ping that took this long means the server is hanging rather than gone: reconnecting right
 * away would double the wait, so the reconnect is left to the next call. */
#define DB_PING_SLOW_NS 1000000000LL

/* STRICT_ALL_TABLES makes bad data an error instead of a warning and a silent truncation;
 * UTC so DATETIME values mean the same thing on every host. */
#define DB_INIT_COMMAND                                                                       \
    "SET sql_mode='STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO," \
    "NO_ENGINE_SUBSTITUTION', time_zone='+00:00'"

typedef struct db_stmt {
    char *sql;
    MYSQL_STMT *stmt;
    struct db_stmt *next;
} db_stmt;

struct db {
    MYSQL *conn;      /* NULL while disconnected */
    db_stmt *stmts;   /* belong to conn: dropped whenever conn is replaced */
    char *host, *socket, *user, *password, *name;
    unsigned port, timeout;
    int dead;           /* conn is lost or out of sync: replace it before the next use */
    int in_transaction;
    unsigned txn_retry; /* the deadlock or lock-wait timeout that hit the current try, or 0 */
    int txn_lost;       /* the connection died inside the current transaction */
    int txn_committing; /* COMMIT of the current try was sent: its outcome is the server's */
    int txn_wrote;      /* the current try ran a write: its COMMIT moves the host's write count */
    unsigned last_errno;
    int replica;        /* db_mark_replica */
};

int db_failure_set(db_failure *f, unsigned code, const char *sqlstate, const char *message)
{
    f->code = code;
    f->unreachable = 0;
    snprintf(f->sqlstate, sizeof f->sqlstate, "%s", sqlstate ? sqlstate : "HY000");
    snprintf(f->message, sizeof f->message, "%s", message ? message : "");
    return -1;
}

static int db_conn_failure(MYSQL *conn, db_failure *f)
{
    return db_failure_set(f, mysql_errno(conn), mysql_sqlstate(conn), mysql_error(conn));
}

int db_stmt_failure(MYSQL_STMT *stmt, db_failure *f)
{
    return db_failure_set(f, mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt));
}

/* Errors after which the connection cannot be used again. */
static int db_code_lost(unsigned code)
{
    switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_STMT_CLOSED:
    case CR_ERR_NET_READ:
    case CR_ERR_NET_WRITE:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
        return 1;
    default:
        return 0;
    }
}

static int db_code_retryable(unsigned code)
{
    return code == DB_ER_LOCK_DEADLOCK || code == DB_ER_LOCK_WAIT_TIMEOUT;
}

static int db_ok(db *db)
{
    db->last_errno = 0;
    return 0;
}

/* The one place a failure becomes a mkt_error: remembers the code, notes what it means for the
 * connection and the open transaction, and logs what clients are not told. */
static int db_fail(db *db, const db_failure *f, const char *what, mkt_error *err)
{
    int lost = f->unreachable || db_code_lost(f->code);
    db->last_errno = f->code;
    /* Out of sync means our own bookkeeping is broken: a fresh connection is the only safe state. */
    if (lost || f->code == CR_COMMANDS_OUT_OF_SYNC)
        db->dead = 1;
    if (db->in_transaction && lost)
        db->txn_lost = 1;
    if (db->in_transaction && db_code_retryable(f->code))
        db->txn_retry = f->code;

    if (f->code == DB_ER_DUP_ENTRY)
        return error_set(err, ERROR_CONFLICT, "already exists");
    if (lost) {
        log_warn("db: %.200s: connection lost (%u %s): %s", what, f->code, f->sqlstate, f->message);
        return error_set(err, ERROR_UNAVAILABLE, "database unavailable");
    }
    if (db->in_transaction && db_code_retryable(f->code))
        log_warn("db: %.200s: %u %s: %s", what, f->code, f->sqlstate, f->message);
    else
        log_error("db: %.200s: %u %s: %s", what, f->code, f->sqlstate, f->message);
    return error_set(err, ERROR_INTERNAL, "internal error");
}

static int db_fail_internal(db *db, const char *what, const char *message, mkt_error *err)
{
    db_failure f;
    db_failure_set(&f, CR_UNKNOWN_ERROR, "HY000", message);
    return db_fail(db, &f, what, err);
}

/* ---- connecting ---- */

static int db_set_options(MYSQL *conn, const db *db)
{
    unsigned timeout = db->timeout;
    unsigned local_infile = 0; /* a hostile server could otherwise ask for our files */
    my_bool reconnect = 0;     /* silent reconnects lose prepared statements and transactions */
    unsigned protocol = db->host[0] ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
    return mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4") ||
                   mysql_options(conn, MYSQL_INIT_COMMAND, DB_INIT_COMMAND) ||
                   mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) ||
                   mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &timeout) ||
                   mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &timeout) ||
                   mysql_options(conn, MYSQL_OPT_RECONNECT, &reconnect) ||
                   mysql_options(conn, MYSQL_OPT_LOCAL_INFILE, &local_infile) ||
                   mysql_options(conn, MYSQL_OPT_PROTOCOL, &protocol)
               ? -1
               : 0;
}

static MYSQL *db_connect(const db *db, db_failure *f)
{
    MYSQL *conn = mysql_init(NULL);
    if (!conn) {
        db_failure_set(f, CR_OUT_OF_MEMORY, "HY000", "mysql_init failed");
        f->unreachable = 1;
        return NULL;
    }
    int tcp = db->host[0] != '\0';
    if (db_set_options(conn, db) < 0 ||
        !mysql_real_connect(conn, tcp ? db->host : NULL, db->user, db->password, db->name,
                            tcp ? db->port : 0, tcp ? NULL : db->socket, 0)) {
        db_conn_failure(conn, f);
        f->unreachable = 1;
        mysql_close(conn);
        return NULL;
    }
    return conn;
}

/* Unlinks *p from the statement cache and frees it. */
static void db_stmt_drop(db_stmt **p)
{
    db_stmt *gone = *p;
    *p = gone->next;
    mysql_stmt_close(gone->stmt);
    free(gone->sql);
    free(gone);
}

/* Closing the connection first detaches its statements, so closing them afterwards only frees
 * memory instead of talking to a server that may be gone. */
static void db_disconnect(db *db)
{
    if (db->conn)
        mysql_close(db->conn);
    db->conn = NULL;
    while (db->stmts)
        db_stmt_drop(&db->stmts);
    db->dead = 1;
}

static int db_reconnect(db *db, db_failure *f)
{
    db_disconnect(db);
    db->conn = db_connect(db, f);
    if (!db->conn)
        return -1;
    db->dead = 0;
    return 0;
}

/* Called before every use. A dead connection is replaced, except inside a transaction: a new
 * connection there would run the rest of the transaction's statements outside it. */
static int db_ready(db *db, mkt_error *err)
{
    if (!db->dead)
        return 0;
    db_failure f;
    if (db->in_transaction) {
        db_failure_set(&f, CR_SERVER_GONE_ERROR, "HY000", "connection lost earlier in this transaction");
        return db_fail(db, &f, "transaction", err);
    }
    if (db_reconnect(db, &f) < 0)
        return db_fail(db, &f, "reconnect", err);
    return 0;
}

static char *db_strdup(const char *s)
{
    return strdup(s ? s : "");
}

db *db_open(const config *cfg, mkt_error *err)
{
    db *db = calloc(1, sizeof *db);
    if (!db) {
        error_set(err, ERROR_INTERNAL, "internal error");
        return NULL;
    }
    db->host = db_strdup(cfg->db_host);
    db->socket = db_strdup(cfg->db_socket);
    db->user = db_strdup(cfg->db_user);
    db->password = db_strdup(cfg->db_password);
    db->name = db_strdup(cfg->db_name);
    db->port = (unsigned)cfg->db_port;
    db->timeout = cfg->db_timeout > 0 ? (unsigned)cfg->db_timeout : 5;
    if (!db->host || !db->socket || !db->user || !db->password || !db->name) {
        db_close(db);
        error_set(err, ERROR_INTERNAL, "internal error");
        return NULL;
    }
    db_failure f;
    db->conn = db_connect(db, &f);
    if (!db->conn) {
        log_error("db: cannot connect to %s: %u %s", db->host[0] ? db->host : db->socket, f.code, f.message);
        db_close(db);
        error_set(err, ERROR_UNAVAILABLE, "database unavailable");
        return NULL;
    }
    return db;
}

void db_close(db *db)
{
    if (!db)
        return;
    db_disconnect(db);
    free(db->host);
    free(db->socket);
    free(db->user);
    if (db->password) /* it stays in memory for reconnects; no longer than that */
        explicit_bzero(db->password, strlen(db->password));
    free(db->password);
    free(db->name);
    free(db);
}

unsigned db_last_errno(const db *db)
{
    return db ? db->last_errno : 0;
}

int db_ping(db *db, mkt_error *err)
{
    if (!db)
        return error_set(err, ERROR_UNAVAILABLE, "database unavailable");
    db_failure f;
    if (!db->dead) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (mysql_ping(db->conn) == 0)
            return db_ok(db);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        db_conn_failure(db->conn, &f);
        f.unreachable = 1;
        long long spent = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
        if (db->in_transaction || spent >= DB_PING_SLOW_NS)
            return db_fail(db, &f, "ping", err);
        log_warn("db: ping failed (%u %s), reconnecting", f.code, f.message);
        db->dead = 1;
    }
    if (db->in_transaction)
        return db_ready(db, err);
    if (db_reconnect(db, &f) < 0)
        return db_fail(db, &f, "ping", err);
    return db_ok(db);
}

/* ---- prepared statements ---- */

static void db_forget(db *db, const char *sql)
{
    for (db_stmt **p = &db->stmts; *p; p = &(*p)->next) {
        if (strcmp((*p)->sql, sql) == 0) {
            db_stmt_drop(p);
            return;
        }
    }
}

/* Drops the least recently used statements beyond the cap: SQL built with a varying number of
 * placeholders would otherwise grow the cache until the server's max_prepared_stmt_count, shared
 * by every worker, runs out. */
static void db_trim_cache(db *db)
{
    size_t kept = 0;
    for (db_stmt **p = &db->stmts; *p;) {
        if (++kept > DB_STMT_CACHE_MAX)
            db_stmt_drop(p);
        else
            p = &(*p)->next;
    }
}

static MYSQL_STMT *db_statement(db *db, const char *sql, db_failure *f)
{
    for (db_stmt **p = &db->stmts; *p; p = &(*p)->next) {
        db_stmt *s = *p;
        if (strcmp(s->sql, sql) == 0) {
            *p = s->next; /* most recently used first */
            s->next = db->stmts;
            db->stmts = s;
            return s->stmt;
        }
    }

    MYSQL_STMT *stmt = mysql_stmt_init(db->conn);
    if (!stmt) {
        db_conn_failure(db->conn, f);
        return NULL;
    }
    my_bool on = 1; /* lets a result set's column buffers be sized once, before fetching */
    if (mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &on) ||
        mysql_stmt_prepare(stmt, sql, (unsigned long)strlen(sql))) {
        db_stmt_failure(stmt, f);
        mysql_stmt_close(stmt);
        return NULL;
    }
    db_stmt *entry = malloc(sizeof *entry);
    char *copy = strdup(sql);
    if (!entry || !copy) {
        free(entry);
        free(copy);
        mysql_stmt_close(stmt);
        db_failure_set(f, CR_OUT_OF_MEMORY, "HY000", "out of memory caching a statement");
        return NULL;
    }
    *entry = (db_stmt){.sql = copy, .stmt = stmt, .next = db->stmts};
    db->stmts = entry;
    db_trim_cache(db);
    return stmt;
}

static int db_execute(MYSQL_STMT *stmt, const db_value *params, size_t count, db_failure *f)
{
    if (mysql_stmt_param_count(stmt) != count) {
        char message[96];
        snprintf(message, sizeof message, "statement takes %lu parameters, %zu given",
                 mysql_stmt_param_count(stmt), count);
        return db_failure_set(f, CR_UNKNOWN_ERROR, "HY000", message);
    }
    MYSQL_BIND *binds = count ? calloc(count, sizeof *binds) : NULL;
    if (count && !binds)
        return db_failure_set(f, CR_OUT_OF_MEMORY, "HY000", "out of memory binding parameters");
    for (size_t i = 0; i < count; i++) {
        MYSQL_BIND *b = &binds[i];
        /* The library only reads input buffers, so pointing at the caller's const data is safe. */
        switch (params[i].type) {
        case DB_INT:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *)&params[i].i;
            break;
        case DB_TEXT:
            b->buffer_type = MYSQL_TYPE_STRING;
            b->buffer = (void *)(params[i].s ? params[i].s : "");
            b->buffer_length = params[i].s ? (unsigned long)params[i].len : 0;
            b->length = &b->buffer_length; /* explicit length: the bytes may hold NULs */
            break;
        default:
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        }
    }
    int rc = 0;
    if ((count && mysql_stmt_bind_param(stmt, binds)) || mysql_stmt_execute(stmt))
        rc = db_stmt_failure(stmt, f);
    free(binds);
    return rc;
}

/* One attempt at a statement. A statement invalidated by DDL since it was prepared never ran, so
 * preparing it again is always safe. A result whose number of columns changed since (DDL again)
 * cannot be read through the old handle: closing it discards the result and keeps the connection
 * in sync; a read is then run again, but a write has happened and only its caller may repeat it. */
static int db_run(db *db, const char *sql, const db_value *params, size_t count, db_rows *rows, db_result *res,
                  db_failure *f)
{
    for (int attempt = 0;; attempt++) {
        MYSQL_STMT *stmt = db_statement(db, sql, f);
        if (!stmt)
            return -1;
        if (db_execute(stmt, params, count, f) < 0) {
            if (f->code == ER_NEED_REPREPARE || f->code == CR_NEW_STMT_METADATA)
                db_forget(db, sql);
            if (attempt == 0 && (f->code == ER_NEED_REPREPARE || (f->code == CR_NEW_STMT_METADATA && rows)))
                continue;
            return -1;
        }
        if (res) {
            res->affected_rows = mysql_stmt_affected_rows(stmt);
            res->insert_id = mysql_stmt_insert_id(stmt);
        }
        int rc = db_consume(stmt, rows, f);
        if (rc < 0 && rows)
            db_rows_free(rows);
        return rc;
    }
}

static int db_check_call(db *db, const char *sql, const db_value *params, size_t count, mkt_error *err)
{
    if (!db)
        return error_set(err, ERROR_INTERNAL, "internal error");
    if (!sql || (count && !params))
        return db_fail_internal(db, "call", "no SQL or missing parameters", err);
    return db_ready(db, err);
}

int db_query(db *db, const char *sql, const db_value *params, size_t param_count, db_rows *out, mkt_error *err)
{
    *out = (db_rows){0};
    if (db_check_call(db, sql, params, param_count, err) < 0)
        return -1;
    db_failure f;
    if (db_run(db, sql, params, param_count, out, NULL, &f) == 0)
        return db_ok(db);
    /* A read changes nothing, so running it again on a fresh connection is safe; inside a
     * transaction the new connection would not be in the transaction. */
    if (db_code_lost(f.code) && !db->in_transaction) {
        log_warn("db: connection lost (%u), reconnecting to retry a read", f.code);
        if (db_reconnect(db, &f) == 0 && db_run(db, sql, params, param_count, out, NULL, &f) == 0)
            return db_ok(db);
    }
    return db_fail(db, &f, sql, err);
}

int db_exec(db *db, const char *sql, const db_value *params, size_t param_count, db_result *out, mkt_error *err)
{
    db_result ignored;
    if (out)
        *out = (db_result){0};
    if (db_check_call(db, sql, params, param_count, err) < 0)
        return -1;
    db_failure f;
    /* Never retried: a lost connection may have lost the reply, not the write. */
    if (db_run(db, sql, params, param_count, NULL, out ? out : &ignored, &f) < 0)
        return db_fail(db, &f, sql, err);
    if (db->in_transaction)
        db->txn_wrote = 1;
    else
        write_epoch_bump(); /* committed already (autocommit) */
    return db_ok(db);
}

/* ---- scripts ---- */

/* Runs the statements in order, discarding results; *failed gets the 1-based number of the
 * statement that failed. */
static int db_script_run(MYSQL *conn, const char *sql, int *failed, db_failure *f)
{
    *failed = 1;
    if (mysql_real_query(conn, sql, (unsigned long)strlen(sql)))
        return db_conn_failure(conn, f);
    for (;;) {
        MYSQL_RES *res = mysql_store_result(conn);
        if (res)
            mysql_free_result(res);
        else if (mysql_field_count(conn) != 0)
            return db_conn_failure(conn, f);
        int next = mysql_next_result(conn);
        if (next < 0)
            return 0;
        ++*failed;
        if (next > 0)
            return db_conn_failure(conn, f);
    }
}

int db_exec_script(db *db, const char *sql, mkt_error *err)
{
    if (db_check_call(db, sql, NULL, 0, err) < 0)
        return -1;
    db_failure f;
    /* Multi-statements stay off except here, so no other text can smuggle in a second statement. */
    if (mysql_set_server_option(db->conn, MYSQL_OPTION_MULTI_STATEMENTS_ON)) {
        db_conn_failure(db->conn, &f);
        return db_fail(db, &f, "script", err);
    }
    int failed = 0;
    f = (db_failure){0};
    int rc = db_script_run(db->conn, sql, &failed, &f);
    if (!db_code_lost(f.code) && mysql_set_server_option(db->conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF)) {
        /* A connection stuck with multi-statements on must not serve anything else. */
        db->dead = 1;
        if (rc == 0)
            rc = db_conn_failure(db->conn, &f);
    }
    if (rc < 0) {
        char what[64];
        snprintf(what, sizeof what, "script statement %d", failed);
        return db_fail(db, &f, what, err);
    }
    write_epoch_bump(); /* a migration, committed statement by statement */
    return db_ok(db);
}

/* ---- transactions ---- */

/* Runs a statement that returns no rows as plain text (transaction control). */
static int db_simple(db *db, const char *sql, db_failure *f)
{
    if (mysql_real_query(db->conn, sql, (unsigned long)strlen(sql)))
        return db_conn_failure(db->conn, f);
    return 0;
}

static int db_begin(db *db, mkt_error *err)
{
    if (db_ready(db, err) < 0)
        return -1;
    db_failure f;
    /* Nothing has happened yet, so a connection found dead here can be replaced and BEGIN sent again. */
    if (db_simple(db, "START TRANSACTION", &f) < 0 &&
        (!db_code_lost(f.code) || db_reconnect(db, &f) < 0 || db_simple(db, "START TRANSACTION", &f) < 0))
        return db_fail(db, &f, "START TRANSACTION", err);
    db->in_transaction = 1;
    return 0;
}

/* Leaves err and last_errno alone: they describe why we are rolling back. */
static void db_rollback(db *db)
{
    if (db->dead)
        return;
    db_failure f;
    if (db_simple(db, "ROLLBACK", &f) < 0) {
        log_warn("db: ROLLBACK failed: %u %s", f.code, f.message);
        db->dead = 1;
    }
}

/* The transaction db_transaction began is gone from the server: rolled back under us (on a Galera
 * cluster, by a replicated write set that conflicted with it). A deadlock: the whole transaction
 * runs again. */
static int db_fail_vanished(db *db, const char *what, mkt_error *err)
{
    db_failure f;
    db_failure_set(&f, DB_ER_LOCK_DEADLOCK, "40001",
                   "the server rolled the transaction back (a Galera brute-force abort?)");
    return db_fail(db, &f, what, err);
}

int db_transaction_open(db *db, mkt_error *err)
{
    db_rows rows;
    if (db_query(db, "SELECT @@in_transaction", DB_NO_PARAMS, &rows, err) < 0)
        return -1;
    int open = rows.row_count == 1 && db_rows_int(&rows, 0, 0) == 1;
    db_rows_free(&rows);
    if (open || !db->in_transaction)
        return open;
    return db_fail_vanished(db, "transaction check", err);
}

static int db_transaction_try(db *db, db_transaction_fn fn, void *ctx, mkt_error *err)
{
    db->txn_retry = 0;
    db->txn_lost = 0;
    db->txn_committing = 0;
    db->txn_wrote = 0;
    if (db_begin(db, err) < 0)
        return -1;
    int rc = fn(db, ctx, err);
    /* fn may have swallowed the error, but after a deadlock the server already rolled back and
     * after a lost connection there is nothing left to commit. */
    if (rc == 0 && db->txn_lost)
        rc = error_set(err, ERROR_UNAVAILABLE, "database unavailable");
    else if (rc == 0 && db->txn_retry)
        rc = error_is_set(err) ? -1 : error_set(err, ERROR_INTERNAL, "internal error");
    /* COMMIT with no transaction open succeeds and commits nothing: the last answer's status flags
     * must still show ours open, or the work is done again rather than reported done. */
    if (rc == 0 && db->conn && !(db->conn->server_status & SERVER_STATUS_IN_TRANS))
        rc = db_fail_vanished(db, "COMMIT", err);
    if (rc == 0) {
        db_failure f;
        db->txn_committing = 1;
        if (db_simple(db, "COMMIT", &f) < 0)
            rc = db_fail(db, &f, "COMMIT", err);
        else if (db->txn_wrote)
            write_epoch_bump();
    }
    if (rc < 0)
        db_rollback(db);
    db->in_transaction = 0;
    view_epoch_flush(); /* the second bump of what the transaction changed, now that it is visible */
    return rc;
}

/* Spreads the retries of transactions that deadlocked each other so they do not collide again: a
 * pause that doubles with each try (5, 10, 20 ... 320 ms at most), half of it random. On a Galera
 * cluster the loser of a certification conflict on a hot row (a seller's balance under a burst of
 * sales) may lose again at once if it comes straight back. */
static void db_backoff(int attempt)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long cap = 5L << (attempt < 7 ? attempt - 1 : 6);
    long ms = cap / 2 + (now.tv_nsec / 1000) % (cap / 2 + 1);
    struct timespec pause = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
        ;
}

int db_transaction(db *db, db_transaction_fn fn, void *ctx, mkt_error *err)
{
    if (!db || !fn)
        return error_set(err, ERROR_INTERNAL, "internal error");
    if (db->in_transaction)
        return db_fail_internal(db, "db_transaction", "nested transaction", err);
    int lost_tries = 0;
    for (int attempt = 1;; attempt++) {
        if (db_transaction_try(db, fn, ctx, err) == 0)
            return db_ok(db);
        if (db->txn_lost) {
            /* Lost before COMMIT was sent: the server rolls the transaction back when it sees the
             * connection gone, so it is run again, once, on a new connection, as after a deadlock
             * (a Galera node can stall one statement of a transaction past the read timeout). Lost
             * during COMMIT, it may have committed: only the caller can decide. */
            if (db->txn_committing || ++lost_tries >= DB_LOST_TRIES)
                return -1;
            log_warn("db: connection lost inside a transaction before COMMIT, running it again");
            error_clear(err);
            continue;
        }
        if (!db->txn_retry)
            return -1;
        /* A lock-wait timeout has already waited innodb_lock_wait_timeout; a deadlock or a
         * certification failure was refused at once and gets more tries. */
        int tries = db->txn_retry == DB_ER_LOCK_DEADLOCK ? DB_DEADLOCK_TRIES : DB_TRANSACTION_TRIES;
        if (attempt >= tries) {
            log_error("db: transaction still failing with %u after %d tries", db->txn_retry, attempt);
            return -1;
        }
        log_warn("db: transaction failed with %u, retrying (%d of %d)", db->txn_retry, attempt + 1, tries);
        error_clear(err);
        db_backoff(attempt);
    }
}

char *db_sql_rows(const char *head, const char *row_sql, const char *tail, size_t rows, mkt_error *err)
{
    size_t head_len = strlen(head), row_len = strlen(row_sql), tail_len = tail ? strlen(tail) : 0;
    if (rows == 0 || rows > (SIZE_MAX / 2 - head_len - tail_len) / (row_len + 2)) {
        error_set(err, ERROR_INTERNAL, "internal error: a bulk statement of %zu rows", rows);
        return NULL;
    }
    char *sql = malloc(head_len + rows * (row_len + 2) + tail_len + 1);
    if (!sql) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    char *p = sql;
    memcpy(p, head, head_len);
    p += head_len;
    for (size_t i = 0; i < rows; i++) {
        if (i > 0) {
            memcpy(p, ", ", 2);
            p += 2;
        }
        memcpy(p, row_sql, row_len);
        p += row_len;
    }
    if (tail_len)
        memcpy(p, tail, tail_len);
    p[tail_len] = '\0';
    return sql;
}

int db_exec_rows(db *db, const char *head, const char *row_sql, const char *tail, const db_value *params,
                 size_t params_per_row, size_t rows, db_result *out, mkt_error *err)
{
    char *sql = db_sql_rows(head, row_sql, tail, rows, err);
    if (!sql)
        return -1;
    int rc = db_exec(db, sql, params, params_per_row * rows, out, err);
    free(sql);
    return rc;
}

int db_exec_row_batches(db *db, const char *head, const char *row_sql, const db_value *params, size_t params_per_row,
                        size_t rows, size_t max_rows, mkt_error *err)
{
    for (size_t done = 0; done < rows;) {
        size_t chunk = rows - done < max_rows ? rows - done : max_rows;
        if (db_exec_rows(db, head, row_sql, NULL, params + done * params_per_row, params_per_row, chunk, NULL, err) < 0)
            return -1;
        done += chunk;
    }
    return 0;
}

void db_mark_replica(db *db)
{
    db->replica = 1;
}

int db_is_replica(const db *db)
{
    return db && db->replica;
}

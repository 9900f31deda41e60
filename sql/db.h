/* The database layer: one MariaDB connection per worker, prepared statements cached per connection
 * (keyed by SQL text), typed binds, whole result sets materialised as text cells, transactions with
 * deadlock retry, and reconnect after a lost connection. All SQL goes through here with bound
 * parameters; no SQL text is ever built from request data. */
#ifndef SQL_DB_H
#define SQL_DB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"

/* MariaDB server error numbers callers care about. */
#define DB_ER_DUP_ENTRY 1062
#define DB_ER_LOCK_WAIT_TIMEOUT 1205
#define DB_ER_LOCK_DEADLOCK 1213
/* Tries of a transaction that keeps deadlocking (a Galera cluster's certification failure is a
 * deadlock too, docs/scaling.md); a lock-wait timeout gets 3. */
#define DB_DEADLOCK_TRIES 12

typedef struct db db;

typedef enum { DB_NULL, DB_INT, DB_TEXT } db_type;

typedef struct {
    db_type type;
    int64_t i;
    const char *s;  /* DB_TEXT: bytes (need not be NUL-terminated, may hold binary) */
    size_t len;
} db_value;

static inline db_value db_int(int64_t i) { return (db_value){.type = DB_INT, .i = i}; }
/* A NULL pointer binds SQL NULL. */
static inline db_value db_text(const char *s) { return s ? (db_value){.type = DB_TEXT, .s = s, .len = strlen(s)} : (db_value){.type = DB_NULL}; }
static inline db_value db_bytes(const void *p, size_t n) { return (db_value){.type = DB_TEXT, .s = (const char *)p, .len = n}; }
static inline db_value db_null(void) { return (db_value){.type = DB_NULL}; }

/* Parameter list literal: db_query(db, SQL, DB_PARAMS(db_int(1), db_text("x")), &rows, err). */
#define DB_PARAMS(...) ((const db_value[]){__VA_ARGS__}), (sizeof((const db_value[]){__VA_ARGS__}) / sizeof(db_value))
#define DB_NO_PARAMS NULL, 0

typedef struct {
    char *data;  /* NUL-terminated copy (binary columns may contain NULs; use len) */
    size_t len;
    int is_null;
} db_cell;

typedef struct {
    size_t row_count, column_count;
    db_cell *cells; /* row-major */
} db_rows;

typedef struct {
    uint64_t affected_rows;
    uint64_t insert_id;
} db_result;

/* Connects per the config (charset utf8mb4, strict sql_mode, time_zone +00:00, timeouts).
 * Returns NULL with ERROR_UNAVAILABLE when the server cannot be reached. */
db *db_open(const config *cfg, mkt_error *err);
void db_close(db *db);

/* Checks the connection, reconnecting when it was lost. 0 ok, -1 ERROR_UNAVAILABLE. */
int db_ping(db *db, mkt_error *err);

/* SELECT-like: fills out (free with db_rows_free). Reads outside a transaction are retried once
 * after reconnecting when the connection was lost. */
int db_query(db *db, const char *sql, const db_value *params, size_t param_count, db_rows *out, mkt_error *err);
/* INSERT/UPDATE/DELETE: out may be NULL. */
int db_exec(db *db, const char *sql, const db_value *params, size_t param_count, db_result *out, mkt_error *err);
/* Runs several ';'-separated statements as text (migrations only: never with request data). */
int db_exec_script(db *db, const char *sql, mkt_error *err);

void db_rows_free(db_rows *rows);
/* Cell accessors: text is NULL for SQL NULL; int parses the text (0 for NULL). */
const char *db_rows_text(const db_rows *rows, size_t row, size_t column);
int64_t db_rows_int(const db_rows *rows, size_t row, size_t column);
int db_rows_is_null(const db_rows *rows, size_t row, size_t column);

/* One column of a row read into a struct member: DB_INT into an int64_t, DB_TEXT into a
 * const char * pointing into rows (valid until db_rows_free). Build with DB_FIELD. */
typedef struct {
    size_t column;
    db_type type;
    size_t offset;
} db_field;
#define DB_FIELD(type_of_struct, member, column, db_type_) {(column), (db_type_), offsetof(type_of_struct, member)}

/* Reads row's columns into out as the table of count fields says. */
void db_rows_into(const db_rows *rows, size_t row, void *out, const db_field *fields, size_t count);

/* Runs fn inside BEGIN … COMMIT; rolls back when fn returns -1. A deadlock (a Galera certification
 * failure included) or lock-wait timeout anywhere inside, COMMIT included, retries the whole
 * transaction after a growing pause (DB_DEADLOCK_TRIES tries in all for a deadlock, 3 for a
 * lock-wait timeout). A connection lost before COMMIT was sent runs it once more on a new
 * connection; lost again, or lost during COMMIT (it may have committed), is ERROR_UNAVAILABLE.
 * So fn may run several times and must do nothing outside the transaction that a rerun repeats. */
typedef int (*db_transaction_fn)(db *db, void *ctx, mkt_error *err);
int db_transaction(db *db, db_transaction_fn fn, void *ctx, mkt_error *err);
/* 1 when a transaction is open on the server (@@in_transaction), 0 when none is, -1 on error. A
 * transaction db_transaction began that the server no longer has was rolled back under us: on a
 * Galera cluster a replicated write set aborts a conflicting local transaction between two
 * statements, and a statement that reads no table (this check) may get no error for it. That is
 * answered -1 as a deadlock, so db_transaction runs the whole transaction again. */
int db_transaction_open(db *db, mkt_error *err);

/* A connection to a read replica (fcgi/replica.h): what it reads may be behind the primary by up to
 * replica_max_lag seconds, even after a change counter moved, so caches keep it only briefly. */
void db_mark_replica(db *db);
int db_is_replica(const db *db);

/* The server error number of the last failed call (e.g. DB_ER_DUP_ENTRY), 0 when it succeeded. */
unsigned db_last_errno(const db *db);

/* Bulk statements (marketplace seed): head ("INSERT INTO t (a, b) VALUES "), then row_sql ("(?, ?)":
 * one row's placeholders, possibly inside expressions) repeated rows times joined by ", ", then tail
 * (NULL for none). The text is made only from the caller's constant pieces and a count, never from
 * data, and is prepared like any other statement (keep batch sizes fixed: each count is one cached
 * statement). db_sql_rows returns it malloc'd (NULL with err when out of memory or rows is 0), for a
 * db_query such as "... WHERE slug IN " "?" ")"; db_exec_rows builds and runs it with params, rows x
 * params_per_row values, row by row. */
char *db_sql_rows(const char *head, const char *row_sql, const char *tail, size_t rows, mkt_error *err);
int db_exec_rows(db *db, const char *head, const char *row_sql, const char *tail, const db_value *params,
                 size_t params_per_row, size_t rows, db_result *out, mkt_error *err);

/* db_exec_rows over rows in statements of at most max_rows each (the last one shorter), for loads
 * larger than one statement should carry; no tail and no result. Stops at the first failure. */
int db_exec_row_batches(db *db, const char *head, const char *row_sql, const db_value *params, size_t params_per_row,
                        size_t rows, size_t max_rows, mkt_error *err);

#endif

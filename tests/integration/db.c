/* The database layer against a real MariaDB: binds, results, the statement cache, error mapping,
 * transactions with deadlock and lock-wait retries, reconnecting after the server kills us, and
 * scripts. Every test makes its own tables (suffixed with the pid) and drops them. */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/write_epoch.h"
#include "sql/db.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/stack_env.h"

/* SQL naming this process's scratch table: "%T" in fmt becomes t_db_<pid>_<name>. Texts are
 * interned, so the same arguments give the same pointer for the whole run (and the statement
 * cache sees one statement); the deadlock test calls this from two threads. */
static char *sql_texts[256];
static size_t sql_text_count;
static pthread_mutex_t sql_texts_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *sqlf(const char *name, const char *fmt)
{
    char table[64], out[1024];
    snprintf(table, sizeof table, "t_db_%d_%s", (int)getpid(), name);
    size_t o = 0;
    for (const char *p = fmt; *p && o + sizeof table < sizeof out; p++) {
        if (p[0] == '%' && p[1] == 'T') {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s", table);
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    pthread_mutex_lock(&sql_texts_mu);
    const char *found = NULL;
    for (size_t i = 0; i < sql_text_count && !found; i++)
        if (strcmp(sql_texts[i], out) == 0)
            found = sql_texts[i];
    if (!found && sql_text_count < sizeof sql_texts / sizeof *sql_texts)
        found = sql_texts[sql_text_count++] = strdup(out);
    pthread_mutex_unlock(&sql_texts_mu);
    if (!found)
        abort();
    return found;
}

static void sqlf_free(void)
{
    for (size_t i = 0; i < sql_text_count; i++)
        free(sql_texts[i]);
}

static int run(db *db, const char *sql)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = db_exec(db, sql, DB_NO_PARAMS, NULL, &err);
    if (rc < 0)
        fprintf(stderr, "  exec failed: %s: %s (%u)\n", sql, err.message, db_last_errno(db));
    error_clear(&err);
    return rc;
}

static int64_t connection_id(db *db)
{
    return fixture_query_int(db, "SELECT CONNECTION_ID()", DB_NO_PARAMS);
}

/* Kills id from another connection and waits until the server has really dropped it, so the
 * next use of the victim cannot race the kill. */
static void kill_connection(db *killer, int64_t id)
{
    CHECK_INT(run(killer, "SELECT 1"), 0);
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(db_exec(killer, "KILL ?", DB_PARAMS(db_int(id)), NULL, &err), 0);
    error_clear(&err);
    for (int i = 0; i < 500; i++) {
        if (fixture_query_int(killer, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?",
                   DB_PARAMS(db_int(id))) == 0)
            return;
        usleep(10000);
    }
    CHECK(!"connection still alive 5 s after KILL");
}

/* ---- binds and results ---- */

static void test_session_settings(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    db_rows rows;
    CHECK_INT(db_query(db, "SELECT @@session.time_zone, @@session.sql_mode, @@character_set_client, @@autocommit",
                       DB_NO_PARAMS, &rows, &err), 0);
    CHECK_STR(db_rows_text(&rows, 0, 0), "+00:00");
    const char *mode = db_rows_text(&rows, 0, 1);
    CHECK(mode && strstr(mode, "STRICT_ALL_TABLES") && strstr(mode, "NO_ZERO_DATE") &&
          strstr(mode, "ERROR_FOR_DIVISION_BY_ZERO") && strstr(mode, "NO_ENGINE_SUBSTITUTION"));
    CHECK_STR(db_rows_text(&rows, 0, 2), "utf8mb4");
    CHECK_INT(db_rows_int(&rows, 0, 3), 1);
    db_rows_free(&rows);
    error_clear(&err);
    db_close(db);
}

static void test_binds_round_trip(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(db, sqlf("binds", "CREATE TABLE %T (id INT AUTO_INCREMENT PRIMARY KEY, i BIGINT NULL, "
                                    "s VARCHAR(64) CHARACTER SET utf8mb4 NULL, b VARBINARY(64) NULL) ENGINE=InnoDB")),
              0);
    const char *insert = sqlf("binds", "INSERT INTO %T (i, s, b) VALUES (?, ?, ?)");
    static const char bytes[] = {'a', '\0', 'b', (char)0xff, '\0'};
    const char *emoji = "h\xc3\xa9llo \xf0\x9f\x98\x80"; /* héllo 😀: needs 4-byte UTF-8 */
    db_result res = {0};
    CHECK_INT(db_exec(db, insert, DB_PARAMS(db_int(INT64_MIN), db_text(emoji), db_bytes(bytes, sizeof bytes)), &res,
                      &err), 0);
    CHECK_INT(res.affected_rows, 1);
    CHECK_INT(res.insert_id, 1);
    CHECK_INT(db_exec(db, insert, DB_PARAMS(db_int(INT64_MAX), db_text(NULL), db_null()), &res, &err), 0);
    CHECK_INT(res.insert_id, 2);
    CHECK_INT(db_exec(db, insert, DB_PARAMS(db_null(), db_text(""), db_bytes(NULL, 0)), &res, &err), 0);
    CHECK_INT(db_last_errno(db), 0);

    db_rows rows;
    CHECK_INT(db_query(db, sqlf("binds", "SELECT id, i, s, b FROM %T ORDER BY id"), DB_NO_PARAMS, &rows, &err), 0);
    CHECK_INT(rows.row_count, 3);
    CHECK_INT(rows.column_count, 4);
    CHECK_INT(db_rows_int(&rows, 0, 1), INT64_MIN);
    CHECK_STR(db_rows_text(&rows, 0, 1), "-9223372036854775808");
    CHECK_STR(db_rows_text(&rows, 0, 2), emoji);
    const db_cell *b = &rows.cells[0 * rows.column_count + 3];
    CHECK_INT(b->len, sizeof bytes);
    CHECK(b->data && memcmp(b->data, bytes, sizeof bytes) == 0 && b->data[b->len] == '\0');
    CHECK_INT(db_rows_int(&rows, 1, 1), INT64_MAX);
    CHECK(db_rows_is_null(&rows, 1, 2));
    CHECK(db_rows_text(&rows, 1, 2) == NULL);
    CHECK(db_rows_is_null(&rows, 1, 3));
    CHECK(db_rows_is_null(&rows, 2, 1));
    CHECK_INT(db_rows_int(&rows, 2, 1), 0);
    CHECK(!db_rows_is_null(&rows, 2, 2));
    CHECK_STR(db_rows_text(&rows, 2, 2), "");
    CHECK_INT(rows.cells[2 * rows.column_count + 3].len, 0);
    db_rows_free(&rows);

    /* Binds in WHERE, and the emoji compared on the server side. */
    CHECK_INT(fixture_query_int(db, sqlf("binds", "SELECT id FROM %T WHERE i = ?"), DB_PARAMS(db_int(INT64_MIN))), 1);
    CHECK_INT(fixture_query_int(db, sqlf("binds", "SELECT id FROM %T WHERE s = ?"), DB_PARAMS(db_text(emoji))), 1);
    CHECK_INT(fixture_query_int(db, sqlf("binds", "SELECT CHAR_LENGTH(s) FROM %T WHERE b = ?"),
                     DB_PARAMS(db_bytes(bytes, sizeof bytes))), 7);

    CHECK_INT(run(db, sqlf("binds", "DROP TABLE %T")), 0);
    error_clear(&err);
    db_close(db);
}

/* db_rows_into reads columns into struct members by the table, whatever their order in the struct. */
static void test_rows_into_struct(void)
{
    typedef struct {
        const char *name;
        int64_t count;
        const char *missing;
        int64_t negative;
    } row_view;
    enum { C_COUNT, C_NAME, C_NEGATIVE, C_MISSING };
    static const db_field fields[] = {
        DB_FIELD(row_view, name, C_NAME, DB_TEXT),
        DB_FIELD(row_view, count, C_COUNT, DB_INT),
        DB_FIELD(row_view, missing, C_MISSING, DB_TEXT),
        DB_FIELD(row_view, negative, C_NEGATIVE, DB_INT),
    };
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    db_rows rows;
    CHECK_INT(db_query(db, "SELECT 42, 'caf\xc3\xa9', -9007199254740991, NULL", DB_NO_PARAMS, &rows, &err), 0);
    row_view v = {.name = "unset", .count = -1, .missing = "unset", .negative = 0};
    db_rows_into(&rows, 0, &v, fields, sizeof fields / sizeof fields[0]);
    CHECK_STR(v.name, "caf\xc3\xa9");
    CHECK_INT(v.count, 42);
    CHECK(v.missing == NULL);
    CHECK_INT(v.negative, -9007199254740991LL);
    db_rows_free(&rows);
    error_clear(&err);
    db_close(db);
}

static void test_rows_accessors(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    db_rows rows;
    CHECK_INT(db_query(db,
                       "SELECT CAST('2024-02-29 23:59:58.123456' AS DATETIME(6)), -1.5e300, CAST(1 AS DECIMAL(10,2)) / 3,"
                       " 18446744073709551615, NULL, REPEAT('x', 100000), ?",
                       DB_PARAMS(db_text("param")), &rows, &err), 0);
    CHECK_INT(rows.row_count, 1);
    CHECK_INT(rows.column_count, 7);
    CHECK_STR(db_rows_text(&rows, 0, 0), "2024-02-29 23:59:58.123456");
    CHECK_STR(db_rows_text(&rows, 0, 1), "-1.5e300");
    CHECK_STR(db_rows_text(&rows, 0, 2), "0.333333");
    CHECK_STR(db_rows_text(&rows, 0, 3), "18446744073709551615");
    CHECK(db_rows_is_null(&rows, 0, 4));
    CHECK_INT(rows.cells[5].len, 100000);
    CHECK_INT(db_rows_text(&rows, 0, 5) ? strlen(db_rows_text(&rows, 0, 5)) : 0, 100000);
    CHECK_STR(db_rows_text(&rows, 0, 6), "param");
    /* Out of range reads are NULL rather than a crash. */
    CHECK(db_rows_text(&rows, 1, 0) == NULL);
    CHECK(db_rows_text(&rows, 0, 7) == NULL);
    CHECK(db_rows_is_null(&rows, 5, 5));
    CHECK_INT(db_rows_int(&rows, 9, 0), 0);
    db_rows_free(&rows);
    db_rows_free(&rows); /* safe twice */

    /* An empty result keeps its shape. */
    CHECK_INT(db_query(db, "SELECT 1, 2 FROM DUAL WHERE 1 = 0", DB_NO_PARAMS, &rows, &err), 0);
    CHECK_INT(rows.row_count, 0);
    CHECK_INT(rows.column_count, 2);
    db_rows_free(&rows);

    /* Rows whose lengths differ a lot within one column. */
    CHECK_INT(db_query(db, "SELECT REPEAT('y', 3) UNION ALL SELECT REPEAT('z', 5000) UNION ALL SELECT ''",
                       DB_NO_PARAMS, &rows, &err), 0);
    CHECK_INT(rows.row_count, 3);
    CHECK_STR(db_rows_text(&rows, 0, 0), "yyy");
    CHECK_INT(rows.cells[1].len, 5000);
    CHECK_STR(db_rows_text(&rows, 2, 0), "");
    db_rows_free(&rows);

    /* Floats keep every digit, also when a short value comes first in the column. */
    CHECK_INT(db_query(db, "SELECT c, -1.2345678901234567e-300 FROM (SELECT 0.1e0 AS c UNION ALL"
                           " SELECT 123456789.123456789e0) t",
                       DB_NO_PARAMS, &rows, &err), 0);
    CHECK_STR(db_rows_text(&rows, 0, 0), "0.1");
    CHECK_STR(db_rows_text(&rows, 1, 0), "123456789.12345679");
    CHECK_STR(db_rows_text(&rows, 1, 1), "-1.2345678901234568e-300");
    db_rows_free(&rows);

    /* A statement without a result set through db_query is fine, and so is a result through db_exec. */
    CHECK_INT(db_query(db, "DO 1", DB_NO_PARAMS, &rows, &err), 0);
    CHECK_INT(rows.row_count, 0);
    db_rows_free(&rows);
    CHECK_INT(db_exec(db, "SELECT 1 UNION ALL SELECT 2", DB_NO_PARAMS, NULL, &err), 0);
    CHECK_INT(fixture_query_int(db, "SELECT 42", DB_NO_PARAMS), 42); /* not out of sync */
    error_clear(&err);
    db_close(db);
}

static void test_statement_cache(void)
{
    db *db = fixture_db_open();
    const char *prepares = "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
                           " WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'";
    int64_t before = fixture_query_int(db, prepares, DB_NO_PARAMS);
    CHECK_INT(fixture_query_int(db, "SELECT ? + 1", DB_PARAMS(db_int(1))), 2);
    CHECK_INT(fixture_query_int(db, "SELECT ? + 1", DB_PARAMS(db_int(41))), 42);
    CHECK_INT(fixture_query_int(db, "SELECT ? + 1", DB_PARAMS(db_int(-1))), 0);
    CHECK_INT(fixture_query_int(db, prepares, DB_NO_PARAMS) - before, 1);
    db_close(db);
}

/* DDL between two runs of a cached statement: the server prepares it again, and the new shape of
 * the result must come through. */
static void test_statement_after_ddl(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(db, sqlf("ddl", "CREATE TABLE %T (a INT PRIMARY KEY) ENGINE=InnoDB")), 0);
    CHECK_INT(run(db, sqlf("ddl", "INSERT INTO %T VALUES (1)")), 0);
    const char *select = sqlf("ddl", "SELECT * FROM %T");
    db_rows rows;
    CHECK_INT(db_query(db, select, DB_NO_PARAMS, &rows, &err), 0);
    CHECK_INT(rows.column_count, 1);
    db_rows_free(&rows);
    CHECK_INT(run(db, sqlf("ddl", "ALTER TABLE %T ADD COLUMN b VARCHAR(20) NOT NULL DEFAULT 'bee'")), 0);
    CHECK_INT(db_query(db, select, DB_NO_PARAMS, &rows, &err), 0);
    CHECK_INT(rows.column_count, 2);
    CHECK_STR(db_rows_text(&rows, 0, 1), "bee");
    db_rows_free(&rows);
    CHECK_INT(run(db, sqlf("ddl", "DROP TABLE %T")), 0);
    CHECK_INT(run(db, sqlf("ddl", "CREATE TABLE %T (x VARCHAR(5), y INT, z INT) ENGINE=InnoDB")), 0);
    CHECK_INT(run(db, sqlf("ddl", "INSERT INTO %T VALUES ('new', 2, 3)")), 0);
    CHECK_INT(db_query(db, select, DB_NO_PARAMS, &rows, &err), 0);
    CHECK_INT(rows.column_count, 3);
    CHECK_STR(db_rows_text(&rows, 0, 0), "new");
    db_rows_free(&rows);
    /* Through db_exec the statement has run, so it is not run again; the connection stays usable. */
    CHECK_INT(run(db, sqlf("ddl", "ALTER TABLE %T DROP COLUMN z")), 0);
    CHECK_INT(db_exec(db, select, DB_NO_PARAMS, NULL, &err), -1);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    error_clear(&err);
    CHECK_INT(fixture_query_int(db, "SELECT 3", DB_NO_PARAMS), 3);
    CHECK_INT(db_exec(db, select, DB_NO_PARAMS, NULL, &err), 0);
    CHECK_INT(run(db, sqlf("ddl", "DROP TABLE %T")), 0);
    error_clear(&err);
    db_close(db);
}

/* Many distinct texts: old statements are closed instead of piling up on the server. */
static void test_statement_cache_cap(void)
{
    db *db = fixture_db_open();
    const char *closes = "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
                         " WHERE VARIABLE_NAME = 'COM_STMT_CLOSE'";
    int64_t before = fixture_query_int(db, closes, DB_NO_PARAMS);
    for (int i = 0; i < 400; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d + ?", i);
        CHECK_INT(fixture_query_int(db, sql, DB_PARAMS(db_int(1))), i + 1);
    }
    CHECK(fixture_query_int(db, closes, DB_NO_PARAMS) - before >= 400 - 256);
    CHECK_INT(fixture_query_int(db, "SELECT 0 + ?", DB_PARAMS(db_int(5))), 5);
    db_close(db);
}

static void test_bad_calls(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    db_rows rows;
    CHECK_INT(db_query(db, "SELECT ?", DB_NO_PARAMS, &rows, &err), -1);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    CHECK_STR(err.message, "internal error");
    error_clear(&err);
    CHECK_INT(db_query(db, "SELEKT 1", DB_NO_PARAMS, &rows, &err), -1);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    CHECK_INT(db_last_errno(db), 1064);
    error_clear(&err);
    CHECK_INT(db_exec(db, "SELECT 1; SELECT 2", DB_NO_PARAMS, NULL, &err), -1); /* no multi-statements */
    error_clear(&err);
    CHECK_INT(fixture_query_int(db, "SELECT 7", DB_NO_PARAMS), 7);
    CHECK_INT(db_last_errno(db), 0);
    error_clear(&err);
    db_close(db);

    config cfg;
    stack_env_config(&cfg);
    CHECK_INT(config_set(&cfg, "db_password", "certainly-not-the-password", &err), 0);
    CHECK(db_open(&cfg, &err) == NULL);
    CHECK_INT(err.kind, ERROR_UNAVAILABLE);
    CHECK_STR(err.message, "database unavailable");
    error_clear(&err);
    CHECK_INT(config_set(&cfg, "db_socket", "/nonexistent/mysqld.sock", &err), 0);
    CHECK_INT(config_set(&cfg, "db_host", "", &err), 0);
    CHECK(db_open(&cfg, &err) == NULL);
    CHECK_INT(err.kind, ERROR_UNAVAILABLE);
    error_clear(&err);
    config_free(&cfg);
}

static void test_duplicate_is_conflict(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(db, sqlf("dup", "CREATE TABLE %T (k VARCHAR(20) PRIMARY KEY) ENGINE=InnoDB")), 0);
    const char *insert = sqlf("dup", "INSERT INTO %T (k) VALUES (?)");
    CHECK_INT(db_exec(db, insert, DB_PARAMS(db_text("once")), NULL, &err), 0);
    CHECK_INT(db_exec(db, insert, DB_PARAMS(db_text("once")), NULL, &err), -1);
    CHECK_INT(err.kind, ERROR_CONFLICT);
    CHECK_INT(db_last_errno(db), DB_ER_DUP_ENTRY);
    error_clear(&err);
    CHECK_INT(db_exec(db, insert, DB_PARAMS(db_text("twice")), NULL, &err), 0);
    CHECK_INT(db_last_errno(db), 0);
    CHECK_INT(run(db, sqlf("dup", "DROP TABLE %T")), 0);
    db_close(db);
}

static void test_strict_mode(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(db, sqlf("strict", "CREATE TABLE %T (s VARCHAR(10) NOT NULL, n INT NOT NULL) ENGINE=InnoDB")),
              0);
    const char *insert = sqlf("strict", "INSERT INTO %T (s, n) VALUES (?, ?)");
    CHECK_INT(db_exec(db, insert, DB_PARAMS(db_text("0123456789A"), db_int(1)), NULL, &err), -1);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    CHECK_INT(db_last_errno(db), 1406); /* ER_DATA_TOO_LONG */
    error_clear(&err);
    CHECK_INT(db_exec(db, insert, DB_PARAMS(db_text("ok"), db_int(INT64_MAX)), NULL, &err), -1);
    CHECK_INT(db_last_errno(db), 1264); /* ER_WARN_DATA_OUT_OF_RANGE, not clipped */
    error_clear(&err);
    CHECK_INT(fixture_query_int(db, sqlf("strict", "SELECT COUNT(*) FROM %T"), DB_NO_PARAMS), 0);
    CHECK_INT(run(db, sqlf("strict", "DROP TABLE %T")), 0);
    db_close(db);
}

/* ---- transactions ---- */

typedef struct {
    const char *insert;
    int fail;
    int calls;
} txn_ctx;

static int txn_insert_two(db *db, void *p, mkt_error *err)
{
    txn_ctx *ctx = p;
    ctx->calls++;
    if (db_exec(db, ctx->insert, DB_PARAMS(db_int(ctx->calls * 10 + 1)), NULL, err) < 0 ||
        db_exec(db, ctx->insert, DB_PARAMS(db_int(ctx->calls * 10 + 2)), NULL, err) < 0)
        return -1;
    if (ctx->fail)
        return error_set(err, ERROR_VALIDATION, "changed my mind");
    return 0;
}

static int txn_nested(db *db, void *p, mkt_error *err)
{
    txn_ctx *ctx = p;
    return db_transaction(db, txn_insert_two, ctx, err);
}

static void test_transaction_commit_rollback(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(db, sqlf("txn", "CREATE TABLE %T (id INT PRIMARY KEY) ENGINE=InnoDB")), 0);
    const char *count = sqlf("txn", "SELECT COUNT(*) FROM %T");
    txn_ctx ctx = {.insert = sqlf("txn", "INSERT INTO %T (id) VALUES (?)")};
    CHECK_INT(db_transaction(db, txn_insert_two, &ctx, &err), 0);
    CHECK_INT(fixture_query_int(db, count, DB_NO_PARAMS), 2);

    ctx.fail = 1;
    CHECK_INT(db_transaction(db, txn_insert_two, &ctx, &err), -1);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_INT(ctx.calls, 2); /* not retried */
    error_clear(&err);
    CHECK_INT(fixture_query_int(db, count, DB_NO_PARAMS), 2);

    /* A duplicate inside rolls back the rows written before it. */
    ctx.fail = 0;
    ctx.calls = 0;
    CHECK_INT(db_transaction(db, txn_insert_two, &ctx, &err), -1);
    CHECK_INT(err.kind, ERROR_CONFLICT);
    error_clear(&err);
    CHECK_INT(fixture_query_int(db, count, DB_NO_PARAMS), 2);

    ctx.calls = 5;
    CHECK_INT(db_transaction(db, txn_nested, &ctx, &err), -1);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    error_clear(&err);
    CHECK_INT(fixture_query_int(db, count, DB_NO_PARAMS), 2);
    CHECK_INT(fixture_query_int(db, "SELECT @@in_transaction", DB_NO_PARAMS), 0);

    CHECK_INT(run(db, sqlf("txn", "DROP TABLE %T")), 0);
    db_close(db);
}

static int txn_read_only(db *db, void *p, mkt_error *err)
{
    return fixture_query_int(db, p, DB_NO_PARAMS) >= 0 ? 0 : error_set(err, ERROR_INTERNAL, "count failed");
}

/* The host's write count (core/write_epoch) moves once per committed write: an autocommit statement,
 * or a transaction that wrote, once, after its COMMIT; never for a read, a read-only transaction or
 * one rolled back. Searches skip their change-feed read while it holds still. */
static void test_write_count(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(db, sqlf("wcount", "CREATE TABLE %T (id INT PRIMARY KEY) ENGINE=InnoDB")), 0);
    const char *count = sqlf("wcount", "SELECT COUNT(*) FROM %T");
    uint64_t before = write_epoch_read();
    CHECK_INT(fixture_query_int(db, count, DB_NO_PARAMS), 0);
    CHECK(write_epoch_read() == before); /* a read */
    CHECK_INT(db_exec(db, sqlf("wcount", "INSERT INTO %T (id) VALUES (1)"), DB_NO_PARAMS, NULL, &err), 0);
    CHECK(write_epoch_read() == before + 1); /* autocommit */
    txn_ctx ctx = {.insert = sqlf("wcount", "INSERT INTO %T (id) VALUES (?)")};
    CHECK_INT(db_transaction(db, txn_insert_two, &ctx, &err), 0);
    CHECK(write_epoch_read() == before + 2); /* two writes, one commit */
    ctx.fail = 1;
    CHECK_INT(db_transaction(db, txn_insert_two, &ctx, &err), -1);
    error_clear(&err);
    CHECK(write_epoch_read() == before + 2); /* rolled back */
    CHECK_INT(db_transaction(db, txn_read_only, (void *)count, &err), 0);
    CHECK(write_epoch_read() == before + 2); /* read only */
    CHECK_INT(db_exec(db, sqlf("wcount", "INSERT INTO %T (id) VALUES (1)"), DB_NO_PARAMS, NULL, &err), -1);
    error_clear(&err);
    CHECK(write_epoch_read() == before + 2); /* failed: nothing written */
    CHECK_INT(run(db, sqlf("wcount", "DROP TABLE %T")), 0);
    db_close(db);
}

/* Two transactions take rows 1 and 2 in opposite orders. B first makes itself heavy (many undo
 * records) so InnoDB picks A as the victim; A must then run again and succeed. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int a_holds_1, b_holds_2;
    int a_tries, b_tries;
    db *a, *b;
    int b_rc;
} deadlock_ctx;

static void deadlock_signal(deadlock_ctx *ctx, int *flag)
{
    pthread_mutex_lock(&ctx->mu);
    *flag = 1;
    pthread_cond_broadcast(&ctx->cv);
    pthread_mutex_unlock(&ctx->mu);
}

static void deadlock_wait(deadlock_ctx *ctx, const int *flag)
{
    pthread_mutex_lock(&ctx->mu);
    while (!*flag)
        pthread_cond_wait(&ctx->cv, &ctx->mu);
    pthread_mutex_unlock(&ctx->mu);
}

static int deadlock_b(db *db, void *p, mkt_error *err)
{
    deadlock_ctx *ctx = p;
    ctx->b_tries++;
    if (db_exec(db, sqlf("dl_fill", "UPDATE %T SET x = x + 1"), DB_NO_PARAMS, NULL, err) < 0 ||
        db_exec(db, sqlf("dl", "UPDATE %T SET v = v + 10 WHERE id = 2"), DB_NO_PARAMS, NULL, err) < 0)
        return -1;
    deadlock_signal(ctx, &ctx->b_holds_2);
    deadlock_wait(ctx, &ctx->a_holds_1);
    usleep(100000); /* let A queue up behind row 2 first */
    return db_exec(db, sqlf("dl", "UPDATE %T SET v = v + 10 WHERE id = 1"), DB_NO_PARAMS, NULL, err);
}

static void *deadlock_thread(void *p)
{
    deadlock_ctx *ctx = p;
    mkt_error err = MKT_ERROR_INIT;
    ctx->b_rc = db_transaction(ctx->b, deadlock_b, ctx, &err);
    error_clear(&err);
    return NULL;
}

static int deadlock_a(db *db, void *p, mkt_error *err)
{
    deadlock_ctx *ctx = p;
    CHECK(!error_is_set(err)); /* cleared between tries */
    ctx->a_tries++;
    if (db_exec(db, sqlf("dl", "UPDATE %T SET v = v + 1 WHERE id = 1"), DB_NO_PARAMS, NULL, err) < 0)
        return -1;
    if (ctx->a_tries == 1) {
        deadlock_wait(ctx, &ctx->b_holds_2);
        deadlock_signal(ctx, &ctx->a_holds_1);
    }
    return db_exec(db, sqlf("dl", "UPDATE %T SET v = v + 1 WHERE id = 2"), DB_NO_PARAMS, NULL, err);
}

static void test_deadlock_retry(void)
{
    db *a = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(a, sqlf("dl", "CREATE TABLE %T (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB")), 0);
    CHECK_INT(run(a, sqlf("dl", "INSERT INTO %T VALUES (1, 0), (2, 0)")), 0);
    CHECK_INT(run(a, sqlf("dl_fill", "CREATE TABLE %T (id INT PRIMARY KEY, x INT NOT NULL) ENGINE=InnoDB")), 0);
    CHECK_INT(run(a, sqlf("dl_fill", "INSERT INTO %T (id, x) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL "
                                     "SELECT n + 1 FROM s WHERE n < 200) SELECT n, 0 FROM s")), 0);
    deadlock_ctx ctx = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .a = a, .b = fixture_db_open()};
    pthread_t thread;
    CHECK_INT(pthread_create(&thread, NULL, deadlock_thread, &ctx), 0);
    int a_rc = db_transaction(a, deadlock_a, &ctx, &err);
    pthread_join(thread, NULL);

    CHECK_INT(a_rc, 0);
    CHECK_INT(ctx.b_rc, 0);
    CHECK_INT(ctx.a_tries, 2);
    CHECK_INT(ctx.b_tries, 1);
    CHECK_INT(db_last_errno(a), 0);
    CHECK_INT(fixture_query_int(a, sqlf("dl", "SELECT v FROM %T WHERE id = 1"), DB_NO_PARAMS), 11);
    CHECK_INT(fixture_query_int(a, sqlf("dl", "SELECT v FROM %T WHERE id = 2"), DB_NO_PARAMS), 11);
    error_clear(&err);
    CHECK_INT(run(a, sqlf("dl", "DROP TABLE %T")), 0);
    CHECK_INT(run(a, sqlf("dl_fill", "DROP TABLE %T")), 0);
    db_close(ctx.b);
    db_close(a);
}

/* Lock-wait timeout, in one thread: the holder's transaction keeps row 1 locked while the waiter's
 * transaction runs inside it on another connection. The waiter's first try swallows the 1205 and
 * returns 0: it must still be retried, since the try did not do its work. */
typedef struct {
    db *waiter;
    int tries, waiter_rc, always_blocked;
    unsigned first_errno;
    error_kind waiter_kind;
} lockwait_ctx;

static int lockwait_waiter(db *db, void *p, mkt_error *err)
{
    lockwait_ctx *ctx = p;
    if (ctx->always_blocked) {
        ctx->tries++;
        if (db_exec(db, "SET SESSION innodb_lock_wait_timeout = 1", DB_NO_PARAMS, NULL, err) < 0)
            return -1;
        return db_exec(db, sqlf("lw", "UPDATE %T SET v = 3 WHERE id = 1"), DB_NO_PARAMS, NULL, err);
    }
    if (++ctx->tries == 1) {
        if (db_exec(db, "SET SESSION innodb_lock_wait_timeout = 1", DB_NO_PARAMS, NULL, err) < 0)
            return -1;
        if (db_exec(db, sqlf("lw", "UPDATE %T SET v = 1 WHERE id = 1"), DB_NO_PARAMS, NULL, err) == 0)
            return 0;
        ctx->first_errno = db_last_errno(db);
        error_clear(err);
        return 0;
    }
    return db_exec(db, sqlf("lw", "UPDATE %T SET v = 2 WHERE id = 2"), DB_NO_PARAMS, NULL, err);
}

static int lockwait_holder(db *db, void *p, mkt_error *err)
{
    lockwait_ctx *ctx = p;
    if (db_exec(db, sqlf("lw", "UPDATE %T SET v = 9 WHERE id = 1"), DB_NO_PARAMS, NULL, err) < 0)
        return -1;
    mkt_error inner = MKT_ERROR_INIT;
    ctx->waiter_rc = db_transaction(ctx->waiter, lockwait_waiter, ctx, &inner);
    ctx->waiter_kind = inner.kind;
    error_clear(&inner);
    return 0;
}

static void test_lock_wait_retry(void)
{
    db *holder = fixture_db_open();
    lockwait_ctx ctx = {.waiter = fixture_db_open()};
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(holder, sqlf("lw", "CREATE TABLE %T (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB")), 0);
    CHECK_INT(run(holder, sqlf("lw", "INSERT INTO %T VALUES (1, 0), (2, 0)")), 0);
    CHECK_INT(db_transaction(holder, lockwait_holder, &ctx, &err), 0);
    CHECK_INT(ctx.first_errno, DB_ER_LOCK_WAIT_TIMEOUT);
    CHECK_INT(ctx.tries, 2);
    CHECK_INT(ctx.waiter_rc, 0);
    CHECK_INT(db_last_errno(ctx.waiter), 0);
    CHECK_INT(fixture_query_int(holder, sqlf("lw", "SELECT v FROM %T WHERE id = 1"), DB_NO_PARAMS), 9);
    CHECK_INT(fixture_query_int(holder, sqlf("lw", "SELECT v FROM %T WHERE id = 2"), DB_NO_PARAMS), 2);

    /* Blocked every time: three tries in all, then the error. */
    ctx.always_blocked = 1;
    ctx.tries = 0;
    CHECK_INT(db_transaction(holder, lockwait_holder, &ctx, &err), 0);
    CHECK_INT(ctx.tries, 3);
    CHECK_INT(ctx.waiter_rc, -1);
    CHECK_INT(ctx.waiter_kind, ERROR_INTERNAL);
    CHECK_INT(db_last_errno(ctx.waiter), DB_ER_LOCK_WAIT_TIMEOUT);
    CHECK_INT(fixture_query_int(holder, sqlf("lw", "SELECT v FROM %T WHERE id = 1"), DB_NO_PARAMS), 9);
    error_clear(&err);
    CHECK_INT(run(holder, sqlf("lw", "DROP TABLE %T")), 0);
    db_close(ctx.waiter);
    db_close(holder);
}

/* A transaction refused with 1213 again and again: what a Galera node answers at COMMIT when another
 * node committed a write to the same rows first (a certification failure). On a cluster a hot row can
 * lose several rounds in a row, so a deadlock gets DB_DEADLOCK_TRIES tries, not the three a lock-wait
 * timeout (which has already waited) gets. SIGNAL makes the server raise a real 1213. */
typedef struct {
    int tries, refusals;
} refused_ctx;

static int refused_try(db *db, void *p, mkt_error *err)
{
    refused_ctx *ctx = p;
    if (++ctx->tries <= ctx->refusals)
        return db_exec(db, "SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'certification failure'",
                       DB_NO_PARAMS, NULL, err);
    return db_exec(db, sqlf("cert", "INSERT INTO %T (id) VALUES (?)"), DB_PARAMS(db_int(ctx->tries)), NULL, err);
}

static void test_certification_failure_retry(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(db, sqlf("cert", "CREATE TABLE %T (id INT PRIMARY KEY) ENGINE=InnoDB")), 0);

    /* Refused nine times in a row, then committed on the tenth try. */
    refused_ctx ctx = {.refusals = 9};
    CHECK_INT(db_transaction(db, refused_try, &ctx, &err), 0);
    CHECK_INT(ctx.tries, 10);
    CHECK_INT(db_last_errno(db), 0);
    CHECK_INT(fixture_query_int(db, sqlf("cert", "SELECT COUNT(*) FROM %T WHERE id = 10"), DB_NO_PARAMS), 1);

    /* Refused every time: DB_DEADLOCK_TRIES tries, then the error, and nothing written. */
    ctx = (refused_ctx){.refusals = 1000};
    CHECK_INT(db_transaction(db, refused_try, &ctx, &err), -1);
    CHECK_INT(ctx.tries, DB_DEADLOCK_TRIES);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    CHECK_INT(db_last_errno(db), DB_ER_LOCK_DEADLOCK);
    CHECK_INT(fixture_query_int(db, sqlf("cert", "SELECT COUNT(*) FROM %T"), DB_NO_PARAMS), 1);
    error_clear(&err);
    CHECK_INT(run(db, sqlf("cert", "DROP TABLE %T")), 0);
    db_close(db);
}

/* A transaction the server rolled back under us and that then asks for COMMIT must not count as
 * committed: on a Galera cluster a replicated write set aborts a conflicting local transaction
 * between two statements, and a COMMIT with no transaction open succeeds as a no-op. The server's
 * status flags say whether a transaction is open; db_transaction retries it as a deadlock. A
 * ROLLBACK sent by the transaction function stands in for the abort. */
typedef struct {
    int tries;
} vanished_ctx;

static int vanished_try(db *db, void *p, mkt_error *err)
{
    vanished_ctx *ctx = p;
    if (db_exec(db, sqlf("vanish", "INSERT INTO %T (id) VALUES (?)"), DB_PARAMS(db_int(++ctx->tries)), NULL, err) < 0)
        return -1;
    return ctx->tries == 1 ? db_exec_script(db, "ROLLBACK", err) : 0;
}

static void test_vanished_transaction_retry(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(db, sqlf("vanish", "CREATE TABLE %T (id INT PRIMARY KEY) ENGINE=InnoDB")), 0);
    vanished_ctx ctx = {0};
    CHECK_INT(db_transaction(db, vanished_try, &ctx, &err), 0);
    CHECK_INT(ctx.tries, 2);
    CHECK_INT(fixture_query_int(db, sqlf("vanish", "SELECT COUNT(*) FROM %T"), DB_NO_PARAMS), 1);
    CHECK_INT(fixture_query_int(db, sqlf("vanish", "SELECT COUNT(*) FROM %T WHERE id = 2"), DB_NO_PARAMS), 1);
    error_clear(&err);
    CHECK_INT(run(db, sqlf("vanish", "DROP TABLE %T")), 0);
    db_close(db);
}

/* ---- lost connections ----
 * Chosen semantics: a read outside a transaction reconnects and runs again, invisibly. A write
 * outside a transaction that finds the connection gone fails with ERROR_UNAVAILABLE (it may or may
 * not have happened, so only the caller can decide), and the next call of any kind reconnects
 * first. A transaction that loses its connection before COMMIT was rolled back by the server, so
 * it runs once more on a new connection. */

static void test_reconnect_after_kill(void)
{
    db *victim = fixture_db_open(), *killer = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(victim, sqlf("kill", "CREATE TABLE %T (id INT PRIMARY KEY) ENGINE=InnoDB")), 0);
    const char *insert = sqlf("kill", "INSERT INTO %T (id) VALUES (?)");
    CHECK_INT(db_exec(victim, insert, DB_PARAMS(db_int(1)), NULL, &err), 0); /* cached before the kill */

    /* A read is retried on a new connection. */
    int64_t first = connection_id(victim);
    kill_connection(killer, first);
    int64_t second = connection_id(victim);
    CHECK(second > 0 && second != first);
    CHECK_INT(db_last_errno(victim), 0);

    /* A write fails cleanly, then the next call reconnects and the cached statement is prepared again. */
    kill_connection(killer, second);
    CHECK_INT(db_exec(victim, insert, DB_PARAMS(db_int(2)), NULL, &err), -1);
    CHECK_INT(err.kind, ERROR_UNAVAILABLE);
    CHECK_STR(err.message, "database unavailable");
    CHECK(db_last_errno(victim) == 2006 || db_last_errno(victim) == 2013 || db_last_errno(victim) == 1927);
    error_clear(&err);
    CHECK_INT(db_exec(victim, insert, DB_PARAMS(db_int(2)), NULL, &err), 0);
    CHECK_INT(fixture_query_int(victim, sqlf("kill", "SELECT COUNT(*) FROM %T"), DB_NO_PARAMS), 2);

    /* A transaction begun after a kill reconnects before BEGIN; ping reconnects too. */
    kill_connection(killer, connection_id(victim));
    txn_ctx ctx = {.insert = insert};
    CHECK_INT(db_transaction(victim, txn_insert_two, &ctx, &err), 0);
    kill_connection(killer, connection_id(victim));
    CHECK_INT(db_ping(victim, &err), 0);
    CHECK_INT(fixture_query_int(victim, sqlf("kill", "SELECT COUNT(*) FROM %T"), DB_NO_PARAMS), 4);
    CHECK_INT(run(victim, sqlf("kill", "DROP TABLE %T")), 0);
    error_clear(&err);
    db_close(killer);
    db_close(victim);
}

typedef struct {
    db *killer;
    const char *insert;
    int calls;
    int swallow;
    int kills; /* calls that have their connection killed; the rest insert and return */
} killed_txn_ctx;

static int killed_txn(db *db, void *p, mkt_error *err)
{
    killed_txn_ctx *ctx = p;
    ctx->calls++;
    if (db_exec(db, ctx->insert, DB_PARAMS(db_int(100 + ctx->swallow)), NULL, err) < 0)
        return -1;
    if (ctx->calls > ctx->kills)
        return 0;
    kill_connection(ctx->killer, connection_id(db));
    int rc = db_exec(db, ctx->insert, DB_PARAMS(db_int(200 + ctx->swallow)), NULL, err);
    CHECK_INT(rc, -1);
    CHECK_INT(err->kind, ERROR_UNAVAILABLE);
    /* Still inside: nothing may silently run on a fresh connection outside the transaction. */
    db_rows rows;
    CHECK_INT(db_query(db, "SELECT 1", DB_NO_PARAMS, &rows, err), -1);
    db_rows_free(&rows);
    if (ctx->swallow) {
        error_clear(err);
        return 0;
    }
    return rc;
}

static void test_kill_inside_transaction(void)
{
    db *victim = fixture_db_open(), *killer = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(run(victim, sqlf("killtx", "CREATE TABLE %T (id INT PRIMARY KEY) ENGINE=InnoDB")), 0);
    killed_txn_ctx ctx = {.killer = killer, .insert = sqlf("killtx", "INSERT INTO %T (id) VALUES (?)"), .kills = 99};
    /* Killed on every try: run twice (the second on a new connection), then unavailable, nothing
     * written, whether fn reports the failure or swallows it. */
    for (ctx.swallow = 0; ctx.swallow < 2; ctx.swallow++) {
        ctx.calls = 0;
        CHECK_INT(db_transaction(victim, killed_txn, &ctx, &err), -1);
        CHECK_INT(err.kind, ERROR_UNAVAILABLE);
        CHECK_INT(ctx.calls, 2);
        error_clear(&err);
    }
    CHECK_INT(fixture_query_int(victim, sqlf("killtx", "SELECT COUNT(*) FROM %T"), DB_NO_PARAMS), 0);
    /* Killed on the first try only: the second commits, and only its row is there (the first try's
     * insert was rolled back with its connection). */
    ctx = (killed_txn_ctx){.killer = killer, .insert = ctx.insert, .kills = 1};
    CHECK_INT(db_transaction(victim, killed_txn, &ctx, &err), 0);
    CHECK_INT(ctx.calls, 2);
    CHECK_INT(fixture_query_int(victim, sqlf("killtx", "SELECT COUNT(*) FROM %T"), DB_NO_PARAMS), 1);
    CHECK_INT(fixture_query_int(victim, sqlf("killtx", "SELECT COUNT(*) FROM %T WHERE id = 100"), DB_NO_PARAMS), 1);
    CHECK_INT(run(victim, sqlf("killtx", "DROP TABLE %T")), 0);
    db_close(killer);
    db_close(victim);
}

/* ---- scripts ---- */

static void test_exec_script(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(db_exec_script(db, sqlf("script", "-- a comment first\n"
                                                "CREATE TABLE %T (id INT PRIMARY KEY, s VARCHAR(10)) ENGINE=InnoDB;\n"
                                                "INSERT INTO %T VALUES (1, 'a');\n"
                                                "SELECT * FROM %T;\n"
                                                "INSERT INTO %T VALUES (2, 'b'); -- trailing comment\n"),
                             &err), 0);
    CHECK_INT(fixture_query_int(db, sqlf("script", "SELECT COUNT(*) FROM %T"), DB_NO_PARAMS), 2);
    /* The third statement fails: the fourth never runs, the error is the third's. */
    CHECK_INT(db_exec_script(db, sqlf("script", "INSERT INTO %T VALUES (3, 'c');\n"
                                                "INSERT INTO %T VALUES (4, 'd');\n"
                                                "INSERT INTO %T VALUES (1, 'dup');\n"
                                                "INSERT INTO %T VALUES (5, 'e');\n"),
                             &err), -1);
    CHECK_INT(err.kind, ERROR_CONFLICT);
    CHECK_INT(db_last_errno(db), DB_ER_DUP_ENTRY);
    error_clear(&err);
    CHECK_INT(fixture_query_int(db, sqlf("script", "SELECT COUNT(*) FROM %T"), DB_NO_PARAMS), 4);
    CHECK_INT(db_exec_script(db, "SELECT 1; SELEKT 2; SELECT 3", &err), -1);
    CHECK_INT(db_last_errno(db), 1064);
    error_clear(&err);
    /* Back to one statement per call afterwards, and nothing left unread. */
    CHECK_INT(fixture_query_int(db, "SELECT 5", DB_NO_PARAMS), 5);
    CHECK_INT(run(db, sqlf("script", "DROP TABLE %T")), 0);
    db_close(db);
}

static void test_ping(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(db_ping(db, &err), 0);
    CHECK_INT(db_ping(db, &err), 0);
    CHECK(!error_is_set(&err));
    db_close(db);
}

int main(void)
{
    RUN(test_session_settings);
    RUN(test_binds_round_trip);
    RUN(test_rows_accessors);
    RUN(test_rows_into_struct);
    RUN(test_statement_cache);
    RUN(test_statement_after_ddl);
    RUN(test_statement_cache_cap);
    RUN(test_bad_calls);
    RUN(test_duplicate_is_conflict);
    RUN(test_strict_mode);
    RUN(test_transaction_commit_rollback);
    RUN(test_write_count);
    RUN(test_deadlock_retry);
    RUN(test_lock_wait_retry);
    RUN(test_certification_failure_retry);
    RUN(test_vanished_transaction_retry);
    RUN(test_reconnect_after_kill);
    RUN(test_kill_inside_transaction);
    RUN(test_exec_script);
    RUN(test_ping);
    sqlf_free();
    return check_finish();
}

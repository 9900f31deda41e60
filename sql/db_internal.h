/* Private to the db module (sql/db.c and sql/db_rows.c): nothing outside sql/db*.c may include it.
 * The public API is sql/db.h. */
#ifndef SQL_DB_INTERNAL_H
#define SQL_DB_INTERNAL_H

#include <mysql.h>

#include "sql/db.h"

/* What went wrong in one attempt, kept until we know whether to retry or report it. */
typedef struct {
    unsigned code;
    int unreachable; /* report as ERROR_UNAVAILABLE whatever the code */
    char sqlstate[SQLSTATE_LENGTH + 1];
    char message[MYSQL_ERRMSG_SIZE];
} db_failure;

/* Fills f (NULL sqlstate/message become "HY000"/""); returns -1. */
int db_failure_set(db_failure *f, unsigned code, const char *sqlstate, const char *message);
/* Fills f from the statement's last error; returns -1. */
int db_stmt_failure(MYSQL_STMT *stmt, db_failure *f);

/* (sql/db_rows.c) After a successful execute: reads the first result set into rows when rows is
 * not NULL (db_rows_free it, even on failure), and discards every other result so the connection
 * is ready for the next command. 0 or -1 with f filled. */
int db_consume(MYSQL_STMT *stmt, db_rows *rows, db_failure *f);

#endif

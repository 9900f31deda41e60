/* Result sets: materialising a statement's first result set as text cells (db_rows), and the
 * db_rows accessors. Part of the db module (see sql/db.h); shares sql/db_internal.h with sql/db.c. */
#include "sql/db.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>

#include "sql/db_internal.h"

/* Wide enough for any DOUBLE: the library formats a float to fit the buffer (rounding it) rather
 * than reporting truncation, so a float must never meet a buffer narrower than its full text. */
#define DB_MIN_COLUMN_BUFFER 64

/* ---- results ---- */

typedef struct {
    MYSQL_BIND *binds;
    unsigned long *lengths;
    my_bool *nulls;
    my_bool *errors;
} db_fetch;

static void db_fetch_free(db_fetch *fx, unsigned columns)
{
    for (unsigned c = 0; fx->binds && c < columns; c++)
        free(fx->binds[c].buffer);
    free(fx->binds);
    free(fx->lengths);
    free(fx->nulls);
    free(fx->errors);
}

/* Binds every column as text, each buffer as large as the column's longest value. */
static int db_fetch_bind(MYSQL_STMT *stmt, MYSQL_RES *meta, unsigned columns, db_fetch *fx, db_failure *f)
{
    fx->binds = calloc(columns, sizeof *fx->binds);
    fx->lengths = calloc(columns, sizeof *fx->lengths);
    fx->nulls = calloc(columns, sizeof *fx->nulls);
    fx->errors = calloc(columns, sizeof *fx->errors);
    if (!fx->binds || !fx->lengths || !fx->nulls || !fx->errors)
        return db_failure_set(f, CR_OUT_OF_MEMORY, "HY000", "out of memory binding columns");
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    for (unsigned c = 0; c < columns; c++) {
        unsigned long size = fields[c].max_length;
        if (size < DB_MIN_COLUMN_BUFFER)
            size = DB_MIN_COLUMN_BUFFER;
        MYSQL_BIND *b = &fx->binds[c];
        b->buffer_type = MYSQL_TYPE_STRING;
        b->buffer = malloc(size + 1);
        b->buffer_length = size + 1;
        b->length = &fx->lengths[c];
        b->is_null = &fx->nulls[c];
        b->error = &fx->errors[c];
        if (!b->buffer)
            return db_failure_set(f, CR_OUT_OF_MEMORY, "HY000", "out of memory for a column");
    }
    if (mysql_stmt_bind_result(stmt, fx->binds))
        return db_stmt_failure(stmt, f);
    return 0;
}

/* Copies one fetched column into its cell; a value longer than the bound buffer (max_length is a
 * hint, not a promise, for converted types) is fetched again at its full length. */
static int db_cell_take(MYSQL_STMT *stmt, const db_fetch *fx, unsigned c, db_cell *cell, db_failure *f)
{
    if (fx->nulls[c]) {
        cell->is_null = 1;
        return 0;
    }
    size_t len = fx->lengths[c];
    cell->data = malloc(len + 1);
    if (!cell->data)
        return db_failure_set(f, CR_OUT_OF_MEMORY, "HY000", "out of memory for a cell");
    if (len <= fx->binds[c].buffer_length) {
        memcpy(cell->data, fx->binds[c].buffer, len);
    } else {
        unsigned long got = 0;
        my_bool is_null = 0, error = 0;
        MYSQL_BIND whole = {.buffer_type = MYSQL_TYPE_STRING, .buffer = cell->data, .buffer_length = len + 1,
                            .length = &got, .is_null = &is_null, .error = &error};
        if (mysql_stmt_fetch_column(stmt, &whole, c, 0))
            return db_stmt_failure(stmt, f);
    }
    cell->data[len] = '\0';
    cell->len = len;
    return 0;
}

static int db_rows_read(MYSQL_STMT *stmt, unsigned columns, const db_fetch *fx, db_rows *out, db_failure *f)
{
    my_ulonglong expected = mysql_stmt_num_rows(stmt);
    if (expected > SIZE_MAX / columns / sizeof(db_cell))
        return db_failure_set(f, CR_OUT_OF_MEMORY, "HY000", "result set too large");
    out->column_count = columns;
    out->cells = calloc(expected ? (size_t)expected * columns : 1, sizeof(db_cell));
    if (!out->cells)
        return db_failure_set(f, CR_OUT_OF_MEMORY, "HY000", "out of memory for a result set");
    for (;;) {
        int rc = mysql_stmt_fetch(stmt);
        if (rc == MYSQL_NO_DATA)
            return 0;
        if (rc == 1)
            return db_stmt_failure(stmt, f);
        if (out->row_count == expected)
            return db_failure_set(f, CR_UNKNOWN_ERROR, "HY000", "more rows than the stored result holds");
        db_cell *row = &out->cells[out->row_count * columns];
        out->row_count++; /* counted before filling, so db_rows_free sees partly filled rows */
        for (unsigned c = 0; c < columns; c++)
            if (db_cell_take(stmt, fx, c, &row[c], f) < 0)
                return -1;
    }
}

static int db_rows_fill(MYSQL_STMT *stmt, db_rows *out, db_failure *f)
{
    unsigned columns = mysql_stmt_field_count(stmt);
    if (mysql_stmt_store_result(stmt))
        return db_stmt_failure(stmt, f);
    MYSQL_RES *meta = mysql_stmt_result_metadata(stmt);
    if (!meta)
        return db_stmt_failure(stmt, f);
    db_fetch fx = {0};
    int rc = db_fetch_bind(stmt, meta, columns, &fx, f);
    if (rc == 0)
        rc = db_rows_read(stmt, columns, &fx, out, f);
    db_fetch_free(&fx, columns);
    mysql_free_result(meta);
    return rc;
}

/* Reads the first result set into rows (when asked) and discards every other one, so the
 * connection is ready for the next command. */
int db_consume(MYSQL_STMT *stmt, db_rows *rows, db_failure *f)
{
    int rc = 0;
    if (mysql_stmt_field_count(stmt) > 0) {
        if (rows)
            rc = db_rows_fill(stmt, rows, f);
        else if (mysql_stmt_store_result(stmt))
            rc = db_stmt_failure(stmt, f);
    }
    mysql_stmt_free_result(stmt);
    while (rc == 0 && mysql_stmt_more_results(stmt)) {
        if (mysql_stmt_next_result(stmt) > 0)
            rc = db_stmt_failure(stmt, f);
        mysql_stmt_free_result(stmt);
    }
    return rc;
}

/* ---- rows ---- */

void db_rows_free(db_rows *rows)
{
    if (!rows)
        return;
    for (size_t i = 0; rows->cells && i < rows->row_count * rows->column_count; i++)
        free(rows->cells[i].data);
    free(rows->cells);
    *rows = (db_rows){0};
}

static const db_cell *db_rows_cell(const db_rows *rows, size_t row, size_t column)
{
    if (!rows || !rows->cells || row >= rows->row_count || column >= rows->column_count)
        return NULL;
    return &rows->cells[row * rows->column_count + column];
}

const char *db_rows_text(const db_rows *rows, size_t row, size_t column)
{
    const db_cell *cell = db_rows_cell(rows, row, column);
    return cell && !cell->is_null ? cell->data : NULL;
}

int64_t db_rows_int(const db_rows *rows, size_t row, size_t column)
{
    const char *text = db_rows_text(rows, row, column);
    return text ? (int64_t)strtoll(text, NULL, 10) : 0;
}

int db_rows_is_null(const db_rows *rows, size_t row, size_t column)
{
    const db_cell *cell = db_rows_cell(rows, row, column);
    return !cell || cell->is_null;
}

void db_rows_into(const db_rows *rows, size_t row, void *out, const db_field *fields, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char *member = (char *)out + fields[i].offset;
        if (fields[i].type == DB_INT)
            *(int64_t *)(void *)member = db_rows_int(rows, row, fields[i].column);
        else
            *(const char **)(void *)member = db_rows_text(rows, row, fields[i].column);
    }
}

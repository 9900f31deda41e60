/* Numbered migrations (sql/migrations/NNNN_name.sql), embedded at build time, applied in order and
 * recorded in schema_migrations; applying twice is a no-op. Owns the schema_migrations table (the
 * migrations themselves load the categories reference list, which no C file writes). */
#ifndef SQL_MIGRATE_H
#define SQL_MIGRATE_H

#include <stddef.h>

#include "core/error.h"
#include "sql/db.h"

struct migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct migration migrations[];
extern const size_t migrations_count;

/* Applies every migration newer than the recorded ones; *applied (may be NULL) gets how many. */
int migrate_run(db *db, int *applied, mkt_error *err);

#endif

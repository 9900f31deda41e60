/* Migrations against a real MariaDB: every embedded migration ends up recorded, a second run
 * applies nothing, and a run waits for another one holding the lock. The shared database may
 * already be migrated by the fixture, so the first run may apply 0 or more. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sql/migrate.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/stack_env.h"

static void test_embedded_table(void)
{
    CHECK(migrations_count > 0);
    for (size_t i = 0; i < migrations_count; i++) {
        CHECK(migrations[i].version > 0);
        CHECK(migrations[i].name && migrations[i].name[0]);
        CHECK(migrations[i].sql && strlen(migrations[i].sql) > 0);
        if (i > 0)
            CHECK(migrations[i].version > migrations[i - 1].version);
    }
}

static void test_run_twice(void)
{
    db *db = fixture_db_open();
    mkt_error err = MKT_ERROR_INIT;
    int first = -1, second = -1;
    CHECK_INT(migrate_run(db, &first, &err), 0);
    CHECK(first >= 0 && (size_t)first <= migrations_count);
    CHECK_INT(migrate_run(db, &second, &err), 0);
    CHECK_INT(second, 0);
    CHECK_INT(migrate_run(db, NULL, &err), 0);
    CHECK(!error_is_set(&err));

    for (size_t i = 0; i < migrations_count; i++)
        CHECK_INT(fixture_query_int(db, "SELECT COUNT(*) FROM schema_migrations WHERE version = ? AND name = ?",
                         DB_PARAMS(db_int(migrations[i].version), db_text(migrations[i].name))),
                  1);
    CHECK_INT(fixture_query_int(db, "SELECT COUNT(*) FROM schema_migrations WHERE applied_at IS NULL", DB_NO_PARAMS), 0);
    /* The lock was released. */
    CHECK_INT(fixture_query_int(db, "SELECT IS_USED_LOCK('marketplace_migrate') <=> CONNECTION_ID()", DB_NO_PARAMS), 0);
    error_clear(&err);
    db_close(db);
}

typedef struct {
    db *db;
    int rc, applied;
    double seconds;
} migrate_job;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *migrate_thread(void *p)
{
    migrate_job *job = p;
    mkt_error err = MKT_ERROR_INIT;
    double start = now_s();
    job->rc = migrate_run(job->db, &job->applied, &err);
    job->seconds = now_s() - start;
    error_clear(&err);
    return NULL;
}

/* Another session holds the lock: migrate waits for it instead of running beside it. */
static void test_waits_for_lock(void)
{
    db *holder = fixture_db_open();
    migrate_job job = {.db = fixture_db_open(), .rc = -2, .applied = -1};
    CHECK_INT(fixture_query_int(holder, "SELECT GET_LOCK('marketplace_migrate', 10)", DB_NO_PARAMS), 1);
    pthread_t thread;
    CHECK_INT(pthread_create(&thread, NULL, migrate_thread, &job), 0);
    usleep(700000);
    CHECK_INT(fixture_query_int(holder, "SELECT RELEASE_LOCK('marketplace_migrate')", DB_NO_PARAMS), 1);
    pthread_join(thread, NULL);
    CHECK_INT(job.rc, 0);
    CHECK_INT(job.applied, 0);
    CHECK(job.seconds >= 0.6);
    db_close(job.db);
    db_close(holder);
}

/* Two runs at once: both succeed, and nothing is applied twice (the primary key would say so). */
static void test_concurrent_runs(void)
{
    migrate_job a = {.db = fixture_db_open(), .rc = -2}, b = {.db = fixture_db_open(), .rc = -2};
    pthread_t ta, tb;
    CHECK_INT(pthread_create(&ta, NULL, migrate_thread, &a), 0);
    CHECK_INT(pthread_create(&tb, NULL, migrate_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_INT(a.rc, 0);
    CHECK_INT(b.rc, 0);
    CHECK_INT(a.applied + b.applied, 0);
    db_close(a.db);
    db_close(b.db);
}

int main(void)
{
    RUN(test_embedded_table);
    RUN(test_run_twice);
    RUN(test_waits_for_lock);
    RUN(test_concurrent_runs);
    return check_finish();
}

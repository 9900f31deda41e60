/* core/cluster against a real MariaDB: a job's period is claimed once whoever asks; a live lease
 * of another holder keeps the next period from anyone else, its holder may go on, a lapsed lease
 * (its holder died) lets another take over, and an ended one lets anyone; every run is in
 * cluster_job_runs once. Change epochs: the first poll only learns, a bump (and a trigger: a session
 * revoked) is applied once by the next poll and not again by the one after, and an epoch that moved
 * twice between polls is applied once. Each test uses job and channel names of its own. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cluster.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

static const char *fresh_name(const char *tag)
{
    static char name[64];
    static int counter;
    snprintf(name, sizeof name, "%s-%d-%ld-%d", tag, (int)getpid(), (long)(time(NULL) % 100000), ++counter);
    return name;
}

static int claim(const char *job, const char *holder, int64_t *period)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = cluster_job_claim(fixture_db(), job, 3600, holder, period, &err);
    if (rc < 0)
        fprintf(stderr, "  claim: %s\n", err.message);
    error_clear(&err);
    return rc;
}

/* Moves the job's claimed period and its runs one period back, as if the next period had begun. */
static void next_period(const char *job)
{
    CHECK(fixture_sql_int("SELECT COUNT(*) FROM cluster_jobs WHERE name = ?", db_text(job)) == 1);
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(db_exec(fixture_db(), "UPDATE cluster_jobs SET period = period - 1 WHERE name = ?",
                      DB_PARAMS(db_text(job)), NULL, &err),
              0);
    CHECK_INT(db_exec(fixture_db(), "UPDATE cluster_job_runs SET period = period - 1 WHERE name = ? ORDER BY period",
                      DB_PARAMS(db_text(job)), NULL, &err),
              0);
    error_clear(&err);
}

static void test_claim_once_per_period(void)
{
    char job[64];
    snprintf(job, sizeof job, "%s", fresh_name("once"));
    int64_t period = -1, other = -1;
    CHECK_INT(claim(job, "a:1", &period), 1);
    CHECK(period > 0);
    CHECK_INT(claim(job, "b:2", &other), 0);
    CHECK_INT(claim(job, "a:1", &other), 0); /* the holder too: once per period */
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM cluster_job_runs WHERE name = ?", db_text(job)), 1);
    CHECK_STR(fixture_sql_text("SELECT holder FROM cluster_job_runs WHERE name = ?", db_text(job)), "a:1");
}

static void test_lease(void)
{
    char job[64];
    snprintf(job, sizeof job, "%s", fresh_name("lease"));
    int64_t period = -1;
    CHECK_INT(claim(job, "a:1", &period), 1);
    /* a's run goes on into the next period: nobody else may start one */
    next_period(job);
    CHECK_INT(claim(job, "b:2", &period), 0);
    /* a itself may (one process never runs a job twice at once) */
    CHECK_INT(claim(job, "a:1", &period), 1);
    /* a died: its lease lapses, b takes the next period */
    next_period(job);
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(db_exec(fixture_db(), "UPDATE cluster_jobs SET lease_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND"
                                    " WHERE name = ?",
                      DB_PARAMS(db_text(job)), NULL, &err),
              0);
    CHECK_INT(claim(job, "b:2", &period), 1);
    /* b's run ends: c may take the next period at once */
    CHECK_INT(cluster_job_done(fixture_db(), job, "b:2", period, &err), 0);
    CHECK(fixture_sql_text("SELECT finished_at FROM cluster_job_runs WHERE name = ? AND holder = 'b:2'",
                           db_text(job)) != NULL);
    next_period(job);
    CHECK_INT(claim(job, "c:3", &period), 1);
    error_clear(&err);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM cluster_job_runs WHERE name = ?", db_text(job)), 4); /* a, a, b, c */
}

/* ---- change epochs ---------------------------------------------------------------------------- */

typedef struct {
    char channel[40];
    int seen;      /* how often (channel, 7) was applied */
    int auth;      /* how often "auth" was applied */
} poll_log;

static void on_change(void *ctx, const char *channel, int64_t item)
{
    poll_log *log = ctx;
    if (channel && strcmp(channel, log->channel) == 0 && item == 7)
        log->seen++;
    if (channel && strcmp(channel, "auth") == 0)
        log->auth++;
}

static int poll(cluster_poller *p, poll_log *log)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = cluster_poll(fixture_db(), p, on_change, log, &err);
    if (rc < 0)
        fprintf(stderr, "  poll: %s\n", err.message);
    error_clear(&err);
    return rc;
}

static void bump(const char *channel)
{
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(cluster_bump(fixture_db(), channel, 7, &err), 0);
    error_clear(&err);
}

static void test_epochs(void)
{
    poll_log log = {0};
    snprintf(log.channel, sizeof log.channel, "%s", fresh_name("ch"));
    bump(log.channel); /* before the first poll: learnt, not applied */
    cluster_poller *p = cluster_poller_new();
    CHECK(poll(p, &log) >= 0);
    CHECK_INT(log.seen, 0);
    bump(log.channel);
    CHECK(poll(p, &log) >= 1);
    CHECK_INT(log.seen, 1);
    CHECK(poll(p, &log) >= 0);
    CHECK_INT(log.seen, 1); /* seen once, not at every poll of the margin */
    bump(log.channel);
    bump(log.channel);
    CHECK(poll(p, &log) >= 1);
    CHECK_INT(log.seen, 2);

    /* a trigger: the session of a logout (revoked_at set) moves "auth" */
    http_user u;
    fixture_user(&u);
    int auth_before = log.auth;
    CHECK_INT(http_status_free(http_request("POST", "/auth/logout", u.token, NULL, NULL, 0, NULL)), 204);
    CHECK(poll(p, &log) >= 1);
    CHECK(log.auth > auth_before);
    cluster_poller_free(p);
}

int main(void)
{
    RUN(test_claim_once_per_period);
    RUN(test_lease);
    RUN(test_epochs);
    fixture_close();
    return check_finish();
}

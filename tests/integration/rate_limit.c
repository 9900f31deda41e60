/* core/rate_limit against a real MariaDB: the sliding window (room again once the oldest counted
 * event leaves it), Retry-After rounded up and at least 1, an action rolled back is not counted, a
 * limit of 0 records nothing, and the sweep deletes events that no longer count. Each test uses a
 * user id of its own (the module has no foreign key: it counts for whoever the caller names). */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/rate_limit.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"

static int64_t fresh_user(void)
{
    static int64_t counter;
    return (int64_t)900000000000 + (int64_t)getpid() * 1000 + (int64_t)(time(NULL) % 1000) * 1000000000 + ++counter;
}

typedef struct {
    int64_t user_id;
    rate_limit_rule rule;
    int fail_after; /* the action fails after taking: everything rolls back */
} take_ctx;

static int take_tx(db *db, void *arg, mkt_error *err)
{
    take_ctx *c = arg;
    if (rate_limit_take(db, c->user_id, &c->rule, err) < 0)
        return -1;
    return c->fail_after ? error_set(err, ERROR_CONFLICT, "the action failed") : 0;
}

/* One take in its own transaction: 0, or the error kind; *retry_after from the error. */
static int take(int64_t user_id, const rate_limit_rule *rule, int fail_after, long *retry_after)
{
    take_ctx c = {user_id, *rule, fail_after};
    mkt_error err = MKT_ERROR_INIT;
    int rc = db_transaction(fixture_db(), take_tx, &c, &err);
    int kind = rc < 0 ? (int)err.kind : 0;
    if (retry_after)
        *retry_after = err.retry_after;
    error_clear(&err);
    return kind;
}

static int64_t events_of(int64_t user_id)
{
    return fixture_sql_int("SELECT COUNT(*) FROM rate_limit_events WHERE user_id = ?", db_int(user_id));
}

static void test_window(void)
{
    int64_t user = fresh_user();
    rate_limit_rule rule = {"test.window", 2, 2, "tests"};
    CHECK_INT(take(user, &rule, 0, NULL), 0);
    CHECK_INT(take(user, &rule, 0, NULL), 0);
    long retry = 0;
    CHECK_INT(take(user, &rule, 0, &retry), ERROR_RATE_LIMITED);
    CHECK(retry >= 1 && retry <= 2);
    CHECK_INT(events_of(user), 2);
    /* another action of the same user has its own count */
    rate_limit_rule other = {"test.other", 1, 2, "tests"};
    CHECK_INT(take(user, &other, 0, NULL), 0);
    /* once the window has passed the first two, there is room again */
    struct timespec pause = {2, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK_INT(take(user, &rule, 0, NULL), 0);
}

static void test_rolled_back_is_not_counted(void)
{
    int64_t user = fresh_user();
    rate_limit_rule rule = {"test.rollback", 1, 3600, "tests"};
    CHECK_INT(take(user, &rule, 1, NULL), ERROR_CONFLICT);
    CHECK_INT(events_of(user), 0);
    CHECK_INT(take(user, &rule, 0, NULL), 0);
    long retry = 0;
    CHECK_INT(take(user, &rule, 0, &retry), ERROR_RATE_LIMITED);
    CHECK(retry > 3590 && retry <= 3600);
}

static void test_off(void)
{
    int64_t user = fresh_user();
    rate_limit_rule rule = {"test.off", 0, 3600, "tests"};
    for (int i = 0; i < 5; i++)
        CHECK_INT(take(user, &rule, 0, NULL), 0);
    CHECK_INT(events_of(user), 0);
}

static void test_sweep(void)
{
    int64_t user = fresh_user();
    rate_limit_rule rule = {"test.sweep", 5, 1, "tests"};
    for (int i = 0; i < 3; i++)
        CHECK_INT(take(user, &rule, 0, NULL), 0);
    struct timespec pause = {1, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    mkt_error err = MKT_ERROR_INIT;
    int64_t deleted = 0;
    /* other tests' expired events may go first: sweep until none is left */
    for (int i = 0; i < 100 && events_of(user) > 0; i++)
        CHECK_INT(rate_limit_sweep(fixture_db(), 1000, &deleted, &err), 0);
    error_clear(&err);
    CHECK_INT(events_of(user), 0);
}

int main(void)
{
    RUN(test_window);
    RUN(test_rolled_back_is_not_counted);
    RUN(test_off);
    RUN(test_sweep);
    fixture_close();
    return check_finish();
}

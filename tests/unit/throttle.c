/* core/throttle: the per-minute sliding-window counter in shared memory. Counts within a minute,
 * the previous minute's weight, Retry-After, refusals not counted, no limit, a full table failing
 * open, and exact counting by forked processes sharing one mapped table (as workers do). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/throttle.h"
#include "tests/support/check.h"

#define MINUTE 60000u
/* A minute start far from the epoch, as a wall clock would give. */
#define T0 ((uint64_t)29000000 * MINUTE)

static int take_n(throttle_table *t, uint64_t key, int64_t limit, uint64_t now, int n)
{
    int allowed = 0;
    for (int i = 0; i < n; i++)
        allowed += throttle_take(t, key, limit, now, NULL);
    return allowed;
}

static void test_limit_within_a_minute(void)
{
    throttle_table *t = throttle_map();
    CHECK(t != NULL);
    if (!t)
        return;
    uint64_t key = throttle_key(THROTTLE_KIND_API_KEY, 7, 0);
    CHECK_INT(take_n(t, key, 10, T0 + 1000, 15), 10);
    long retry = 0;
    CHECK_INT(throttle_take(t, key, 10, T0 + 1000, &retry), 0);
    /* 10 in this minute: the next fits once the previous minute's weight lets one in, a little
     * after the minute ends */
    CHECK(retry >= 59 && retry <= 61);
    /* another key is untouched */
    CHECK_INT(take_n(t, throttle_key(THROTTLE_KIND_API_KEY, 8, 0), 10, T0 + 1000, 10), 10);
    /* the same ids of another kind are another key */
    CHECK(throttle_key(THROTTLE_KIND_API_KEY, 7, 0) != throttle_key(THROTTLE_KIND_PLAN, 7, 0));
    throttle_unmap(t);
}

/* Half-way into the next minute, the previous minute's 10 weigh 5: five more fit. Refusals are not
 * counted, so hammering does not push the allowance back. */
static void test_sliding_weight(void)
{
    throttle_table *t = throttle_map();
    if (!t)
        return;
    uint64_t key = throttle_key(THROTTLE_KIND_API_KEY, 1, 0);
    CHECK_INT(take_n(t, key, 10, T0 + 59000, 10), 10);
    CHECK_INT(take_n(t, key, 10, T0 + MINUTE + 30000, 20), 5);
    long retry = 0;
    CHECK_INT(throttle_take(t, key, 10, T0 + MINUTE + 30000, &retry), 0);
    /* 5 this minute, 10 before: one more fits when 10 × (60 − s)/60 < 5, i.e. past s = 30 — then the
     * current minute's 5 must wait for the next minute's weighting: about 30 s + 30 s */
    CHECK(retry >= 1 && retry <= 61);
    /* two minutes later everything before has gone */
    CHECK_INT(take_n(t, key, 10, T0 + 3 * MINUTE, 12), 10);
    throttle_unmap(t);
}

/* Only the previous minute's weight holds it back: Retry-After is when it has fallen enough. */
static void test_retry_after_from_the_previous_minute(void)
{
    throttle_table *t = throttle_map();
    if (!t)
        return;
    uint64_t key = throttle_key(THROTTLE_KIND_API_KEY, 2, 0);
    CHECK_INT(take_n(t, key, 60, T0 + 1000, 60), 60);
    long retry = 0;
    /* at 10 s into the next minute: 60 × 50/60 = 50 < 60, ten fit */
    CHECK_INT(take_n(t, key, 60, T0 + MINUTE + 10000, 20), 10);
    CHECK_INT(throttle_take(t, key, 60, T0 + MINUTE + 10000, &retry), 0);
    /* 10 now + 60 × (60 − s)/60 < 60 once s > 10: a second from now */
    CHECK_INT(retry, 1);
    CHECK_INT(throttle_take(t, key, 60, T0 + MINUTE + 11500, NULL), 1);
    throttle_unmap(t);
}

static void test_no_limit(void)
{
    throttle_table *t = throttle_map();
    if (!t)
        return;
    CHECK_INT(take_n(t, 99, 0, T0, 1000), 1000);
    CHECK_INT(take_n(t, 99, -1, T0, 10), 10);
    throttle_unmap(t);
}

/* When every probe of a key's home holds a key active this minute, the request is allowed and
 * counted as "full"; once their minute has passed, their slots are taken over. */
static void test_full_table_fails_open(void)
{
    throttle_table *t = throttle_map();
    if (!t)
        return;
    int filled = 0;
    for (int64_t id = 1; id <= 4 * THROTTLE_SLOTS; id++)
        filled += throttle_take(t, throttle_key(THROTTLE_KIND_API_KEY, id, 0), 1, T0, NULL);
    CHECK(filled >= THROTTLE_SLOTS - 1);
    CHECK(__atomic_load_n(&t->full, __ATOMIC_RELAXED) > 0);
    uint64_t newcomer = throttle_key(THROTTLE_KIND_PLAN, 5, 5);
    /* two minutes later the old keys are stale: the newcomer gets a slot and is limited again */
    CHECK_INT(take_n(t, newcomer, 3, T0 + 2 * MINUTE, 5), 3);
    throttle_unmap(t);
}

/* Eight processes share one mapped table, as the workers do: together exactly the limit passes. */
static void test_shared_across_processes(void)
{
    throttle_table *t = throttle_map();
    if (!t)
        return;
    enum { PROCS = 8, EACH = 500, LIMIT = 1000 };
    uint64_t key = throttle_key(THROTTLE_KIND_API_KEY, 42, 0);
    int fds[PROCS][2];
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        if (pipe(fds[i]) < 0)
            abort();
        pids[i] = fork();
        if (pids[i] == 0) {
            int allowed = take_n(t, key, LIMIT, T0 + 5000, EACH);
            if (write(fds[i][1], &allowed, sizeof allowed) != sizeof allowed)
                _exit(1);
            _exit(0);
        }
        close(fds[i][1]);
    }
    int total = 0;
    for (int i = 0; i < PROCS; i++) {
        int allowed = 0;
        CHECK(read(fds[i][0], &allowed, sizeof allowed) == sizeof allowed);
        close(fds[i][0]);
        total += allowed;
        int status = 0;
        waitpid(pids[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INT(total, LIMIT);
    throttle_unmap(t);
}

/* throttle_check on the process's own table: the limit is refused with ERROR_RATE_LIMITED and a
 * Retry-After. (Should the minute turn between the calls, the first two still weigh almost 2: the
 * refusal comes one call later at most.) */
static void test_check_sets_rate_limited(void)
{
    mkt_error err = MKT_ERROR_INIT;
    uint64_t key = throttle_key(THROTTLE_KIND_API_KEY, getpid(), 3);
    int allowed = 0;
    while (allowed < 5 && throttle_check(key, 2, "API key", &err) == 0)
        allowed++;
    CHECK(allowed == 2 || allowed == 3);
    CHECK_INT(err.kind, ERROR_RATE_LIMITED);
    CHECK(err.retry_after >= 1 && err.retry_after <= 61);
    CHECK(err.message && strstr(err.message, "API key") != NULL);
    error_clear(&err);
}

int main(void)
{
    RUN(test_limit_within_a_minute);
    RUN(test_sliding_weight);
    RUN(test_retry_after_from_the_previous_minute);
    RUN(test_no_limit);
    RUN(test_full_table_fails_open);
    RUN(test_shared_across_processes);
    RUN(test_check_sets_rate_limited);
    return check_finish();
}

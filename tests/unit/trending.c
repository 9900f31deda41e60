/* core/trending: the log-scale time-decayed score. */
#include <math.h>

#include "core/trending.h"
#include "tests/support/check.h"

#define HOUR 3600.0
#define DAY (24 * HOUR)
#define H (72 * HOUR)            /* a three-day half-life */
#define NOW 1780000000.0         /* a Unix time in 2026: t / h is about 6900, far past a double's 2^1024 */

/* The direct sum, computed relative to now so it stays representable. */
static double direct(const double *w, const double *t, int n, double now)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += w[i] * exp2(-(now - t[i]) / H);
    return s;
}

static double stored(const double *w, const double *t, int n)
{
    double l = TRENDING_EMPTY;
    for (int i = 0; i < n; i++)
        l = trending_add(l, trending_event_log(w[i], t[i], H));
    return l;
}

static void test_matches_direct_sum(void)
{
    double w[] = {1, 10, 5, 1, 3, 20}, t[] = {NOW - 9 * DAY, NOW - 3 * DAY, NOW - HOUR, NOW, NOW - 30 * DAY, NOW - 2 * HOUR};
    double l = stored(w, t, 6);
    double want = direct(w, t, 6, NOW);
    CHECK(fabs(trending_score_at(l, NOW, H) - want) < 1e-9 * want);
    /* the order of the events does not matter */
    double w2[] = {20, 3, 1, 5, 10, 1}, t2[] = {NOW - 2 * HOUR, NOW - 30 * DAY, NOW, NOW - HOUR, NOW - 3 * DAY, NOW - 9 * DAY};
    CHECK(fabs(stored(w2, t2, 6) - l) < 1e-9);
}

static void test_half_life(void)
{
    double l = trending_add(TRENDING_EMPTY, trending_event_log(8, NOW - H, H));
    CHECK(fabs(trending_score_at(l, NOW, H) - 4.0) < 1e-9);
    CHECK(fabs(trending_score_at(l, NOW + 2 * H, H) - 1.0) < 1e-9);
    /* two equal events double the score: L grows by exactly 1 */
    CHECK(fabs(trending_add(l, l) - (l + 1)) < 1e-12);
}

/* An older burst beats a smaller recent event until enough half-lives have passed: 100 events
 * 8 half-lives ago decay to 100/256 < 1; 2 half-lives ago to 25 > 1. */
static void test_decay_ordering(void)
{
    double burst = TRENDING_EMPTY, burst_recent = TRENDING_EMPTY;
    for (int i = 0; i < 100; i++) {
        burst = trending_add(burst, trending_event_log(1, NOW - 8 * H, H));
        burst_recent = trending_add(burst_recent, trending_event_log(1, NOW - 2 * H, H));
    }
    double one_now = trending_add(TRENDING_EMPTY, trending_event_log(1, NOW, H));
    CHECK(burst < one_now);
    CHECK(burst_recent > one_now);
    /* the comparison is the same at any common now */
    CHECK(trending_score_at(burst, NOW + 50 * DAY, H) < trending_score_at(one_now, NOW + 50 * DAY, H));
}

static void test_empty(void)
{
    CHECK(trending_score_at(TRENDING_EMPTY, NOW, H) == 0.0);
    double x = trending_event_log(2, NOW, H);
    CHECK(trending_add(TRENDING_EMPTY, x) == x);
    CHECK(trending_add(x, TRENDING_EMPTY) == x);
    /* a weight-1 event far older than a large one changes L by a negligible, finite amount */
    double big = trending_event_log(1e6, NOW, H);
    double l = trending_add(big, trending_event_log(1, NOW - 3650 * DAY, H));
    CHECK(isfinite(l) && l >= big && l - big < 1e-9);
}

int main(void)
{
    RUN(test_matches_direct_sum);
    RUN(test_half_life);
    RUN(test_decay_ordering);
    RUN(test_empty);
    return check_finish();
}

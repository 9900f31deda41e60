/* core/wilson: the lower bound of the Wilson interval that orders reviews by helpfulness. */
#include <math.h>

#include "core/wilson.h"
#include "tests/support/check.h"

static void test_known_values(void)
{
    /* 1 of 1 at z = 1.96: 1 / (1 + 1.96^2) = 0.20654... */
    CHECK(fabs(wilson_lower_bound(1, 0) - 0.206543) < 1e-5);
    /* 95 of 100: 0.88826... (the textbook value for this interval) */
    CHECK(fabs(wilson_lower_bound(95, 5) - 0.888248) < 1e-5);
    /* 50 of 100 is centred on one half */
    CHECK(fabs(wilson_lower_bound(50, 50) - 0.403830) < 1e-5);
}

static void test_order(void)
{
    CHECK(wilson_lower_bound(2, 0) < wilson_lower_bound(95, 5));
    CHECK(wilson_lower_bound(10, 0) > wilson_lower_bound(2, 0));
    CHECK(wilson_lower_bound(5, 5) > wilson_lower_bound(0, 10));
    CHECK(wilson_lower_bound(3, 1) < wilson_lower_bound(300, 100));
}

static void test_edges(void)
{
    CHECK(wilson_lower_bound(0, 0) == 0.0);
    CHECK(wilson_lower_bound(0, 7) == 0.0);
    CHECK(wilson_lower_bound(-1, 3) == 0.0);
    double high = wilson_lower_bound(1000000, 0);
    CHECK(high > 0.99999 && high <= 1.0);
}

int main(void)
{
    RUN(test_known_values);
    RUN(test_order);
    RUN(test_edges);
    return check_finish();
}

/* core/rating: the Bayesian average with the marketplace-wide mean as its prior. */
#include <math.h>

#include "core/rating.h"
#include "tests/support/check.h"

static void test_prior_mean(void)
{
    CHECK(rating_prior_mean(0, 0) == RATING_EMPTY_MEAN);
    CHECK(fabs(rating_prior_mean(4, 14) - 3.5) < 1e-12);
    CHECK(fabs(rating_prior_mean(3, 13) - 13.0 / 3.0) < 1e-12);
}

static void test_bayesian(void)
{
    /* (C*m + sum) / (m + count): C = 4.2 (21 over 5), m = 10, six reviews summing to 29 */
    double want = (4.2 * 10 + 29) / (10 + 6);
    CHECK(fabs(rating_bayesian(6, 29, 5, 21, 10) - want) < 1e-12);
    /* m = 0: the plain average */
    CHECK(fabs(rating_bayesian(4, 18, 100, 300, 0) - 4.5) < 1e-12);
    /* many reviews outweigh the prior; one 5 does not outrank a hundred 4.8s */
    CHECK(rating_bayesian(1, 5, 1000, 3500, 10) < rating_bayesian(100, 480, 1000, 3500, 10));
    /* no reviews of the tool: 0, "no rating yet" */
    CHECK(rating_bayesian(0, 0, 1000, 3500, 10) == 0.0);
    /* no reviews anywhere but this tool's own (the totals include them): C is their mean */
    CHECK(fabs(rating_bayesian(2, 6, 2, 6, 10) - 3.0) < 1e-12);
}

static void test_round(void)
{
    CHECK(rating_round2(3.666666) == 3.67);
    CHECK(rating_round2(3.664999) == 3.66);
    CHECK(rating_round2(4.125) == 4.13);
    CHECK(rating_round2(0.0) == 0.0);
}

int main(void)
{
    RUN(test_prior_mean);
    RUN(test_bayesian);
    RUN(test_round);
    return check_finish();
}

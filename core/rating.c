#include "core/rating.h"

#include <math.h>

double rating_prior_mean(int64_t all_count, int64_t all_sum)
{
    return all_count > 0 ? (double)all_sum / (double)all_count : RATING_EMPTY_MEAN;
}

double rating_bayesian(int64_t count, int64_t sum, int64_t all_count, int64_t all_sum, int64_t weight)
{
    if (count <= 0 || weight < 0)
        return 0.0;
    double m = (double)weight;
    return (rating_prior_mean(all_count, all_sum) * m + (double)sum) / (m + (double)count);
}

double rating_round2(double v)
{
    return round(v * 100.0) / 100.0;
}

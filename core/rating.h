/* The Bayesian rating of a tool: its reviews' mean pulled towards the marketplace-wide mean C by m
 * imaginary reviews, so one 5-star review does not outrank a hundred 4.8s:
 *
 *     bayesian = (C * m + sum) / (m + count)
 *
 * count and sum are the tool's visible reviews, C = all_sum / all_count over the visible reviews of
 * every tool (RATING_EMPTY_MEAN, the middle of the scale, while there are none), m the
 * rating_prior_weight setting. A tool without reviews answers 0: "no rating yet", not C. Pure
 * (libm only); core/tool_record feeds it its counters and the rating_totals row. */
#ifndef CORE_RATING_H
#define CORE_RATING_H

#include <stdint.h>

/* C when no tool has a visible review at all. */
#define RATING_EMPTY_MEAN 3.0

/* C: all_sum / all_count, or RATING_EMPTY_MEAN when all_count is 0 (or negative). */
double rating_prior_mean(int64_t all_count, int64_t all_sum);

/* (C * weight + sum) / (weight + count); 0 when count is 0 (or negative), or weight negative. */
double rating_bayesian(int64_t count, int64_t sum, int64_t all_count, int64_t all_sum, int64_t weight);

/* v rounded to two decimals, halves away from zero: what the API shows (more would only look precise). */
double rating_round2(double v);

#endif

/* The Wilson score interval's lower bound: how helpful a review is at least, with 95% confidence,
 * from its helpful and unhelpful votes. Pure (libm only), so it is unit-tested on its own; the
 * stored reviews.wilson column is this value, recomputed in every vote's transaction. */
#ifndef CORE_WILSON_H
#define CORE_WILSON_H

#include <stdint.h>

/* z of the two-sided 95% interval. */
#define WILSON_Z 1.96

/* Lower bound in [0, 1] of the share of helpful votes; 0 when there are no votes (or a count is
 * negative). A few unanimous votes score below many mostly-helpful ones: 2/2 < 95/100. */
double wilson_lower_bound(int64_t helpful, int64_t unhelpful);

#endif

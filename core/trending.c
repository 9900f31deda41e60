/* The log-scale decayed score (see core/trending.h for the derivation). */
#include "core/trending.h"

#include <math.h>

double trending_event_log(double weight, double at, double half_life_s)
{
    return log2(weight) + at / half_life_s;
}

double trending_add(double l, double x)
{
    if (isinf(l) && l < 0)
        return x;
    if (isinf(x) && x < 0)
        return l;
    double hi = l > x ? l : x, gap = fabs(l - x);
    /* log2(2^hi + 2^lo) = hi + log2(1 + 2^-(hi - lo)); the second term is in [0, 1] */
    return hi + log2(1.0 + exp2(-gap));
}

double trending_score_at(double l, double now, double half_life_s)
{
    if (isinf(l) && l < 0)
        return 0.0;
    return exp2(l - now / half_life_s);
}

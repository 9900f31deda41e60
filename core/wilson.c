#include "core/wilson.h"

#include <math.h>

double wilson_lower_bound(int64_t helpful, int64_t unhelpful)
{
    if (helpful < 0 || unhelpful < 0 || helpful + unhelpful == 0)
        return 0.0;
    double n = (double)helpful + (double)unhelpful;
    double p = (double)helpful / n;
    double z2 = WILSON_Z * WILSON_Z;
    double centre = p + z2 / (2.0 * n);
    double spread = WILSON_Z * sqrt((p * (1.0 - p) + z2 / (4.0 * n)) / n);
    double low = (centre - spread) / (1.0 + z2 / n);
    /* rounding can leave a hair below zero for 0 helpful votes */
    return low < 0.0 ? 0.0 : low;
}

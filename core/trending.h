/* The trending score: a time-decayed sum of weighted activity events, kept as one number per tool
 * that an event updates without reading any other event, so no job ever rescans every tool.
 *
 * The decayed score of events (w_i, t_i) at time `now`, with half-life h, is
 *
 *     S(now) = sum_i w_i * 2^(-(now - t_i) / h) = 2^(-now / h) * sum_i w_i * 2^(t_i / h)
 *
 * The factor 2^(-now / h) is the same for every tool, so comparing tools by S at any common `now`
 * is comparing them by sum_i w_i * 2^(t_i / h), which no longer depends on now. That sum overflows a
 * double (t_i / h is about 7000 for today's Unix time and a 3-day half-life), so its base-2
 * logarithm is stored instead:
 *
 *     L = log2(sum_i w_i * 2^(t_i / h))
 *
 * One event adds x = log2(w) + t / h by log-sum-exp: L' = max(L, x) + log2(1 + 2^-|L - x|), exact
 * up to double rounding and never overflowing. Ordering by L orders by the decayed score now, and
 * S(now) = 2^(L - now / h) gives the score itself. Changing h changes the meaning of stored values,
 * so a new half-life applies fully only to tools whose activity happens after the change.
 * Pure (libm only): core/activity stores L and uses TRENDING_ADD_SQL for the same update in SQL. */
#ifndef CORE_TRENDING_H
#define CORE_TRENDING_H

#include <math.h>
#include <stdint.h>

/* L of a tool with no activity: log2(0). */
#define TRENDING_EMPTY (-HUGE_VAL)

/* x of one event: log2(weight) + at / half_life_s. weight must be > 0 and half_life_s > 0. */
double trending_event_log(double weight, double at, double half_life_s);

/* L after adding an event x (log-sum-exp; either side may be TRENDING_EMPTY). */
double trending_add(double l, double x);

/* The decayed score S(now) of a stored L: 2^(L - now / half_life_s); 0 for TRENDING_EMPTY. */
double trending_score_at(double l, double now, double half_life_s);

/* trending_add in SQL, for an upsert whose stored column is `col` and whose new event's x is
 * `val`: the row is updated under its own lock, so concurrent events never lose one another. */
#define TRENDING_ADD_SQL(col, val) \
    "GREATEST(" col ", " val ") + LOG2(1 + POW(2, -ABS(" col " - " val ")))"

#endif

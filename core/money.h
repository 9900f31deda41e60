/* Pure money helpers: the revenue split and currency codes. Amounts are always integer "cents"
 * (int64_t), meaning the currency's minor unit (1 yen for JPY, which has none smaller); there is no
 * floating point anywhere near money. */
#ifndef CORE_MONEY_H
#define CORE_MONEY_H

#include <stdint.h>

#include "core/error.h"

/* The platform fee is in basis points: 10000 bps = 100 %. */
#define MONEY_BPS_MAX 10000
/* Default fee when config does not say otherwise (30 %, README "The split"). */
#define MONEY_DEFAULT_FEE_BPS 3000

/* Splits amount_cents between developer and platform exactly as README "The split" says:
 *   developer_cents = amount_cents * (10000 - fee_bps) / 10000, rounded down
 *   platform_cents  = amount_cents - developer_cents
 * so the two always add up to amount_cents and the rounding cent goes to the platform.
 * Refuses (-1, ERROR_INTERNAL — these values come from our own config and prices, not from the
 * request) amount_cents < 0, fee_bps outside 0..10000 and NULL outputs. The product is computed
 * in 128 bits, so every non-negative int64_t amount is accepted and nothing can overflow.
 * Returns 0 and fills both outputs on success; on failure the outputs are left untouched. */
int money_split(int64_t amount_cents, int64_t fee_bps, int64_t *developer_cents, int64_t *platform_cents,
                mkt_error *err);

/* 1 when code is an ISO 4217 code on our allow-list (exactly three upper-case letters, e.g. "USD",
 * "EUR", "JPY"), 0 otherwise (including NULL, lower case and unknown codes). */
int money_currency_valid(const char *code);

#endif

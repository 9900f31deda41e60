#include "core/money.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int money_split(int64_t amount_cents, int64_t fee_bps, int64_t *developer_cents, int64_t *platform_cents,
                mkt_error *err)
{
    if (!developer_cents || !platform_cents)
        return error_set(err, ERROR_INTERNAL, "money_split: NULL output");
    if (amount_cents < 0)
        return error_set(err, ERROR_INTERNAL, "money_split: negative amount %lld", (long long)amount_cents);
    if (fee_bps < 0 || fee_bps > MONEY_BPS_MAX)
        return error_set(err, ERROR_INTERNAL, "money_split: fee %lld bps outside 0..%d", (long long)fee_bps,
                         MONEY_BPS_MAX);
    /* amount * 10000 can exceed INT64_MAX for amounts above ~9.2e14 cents; in 128 bits the product of a
     * non-negative int64 and at most 10000 always fits, and the quotient is <= amount, so it fits back.
     * Both operands are non-negative, so C's truncating division is the rounding down the split rule asks for. */
    unsigned __int128 product = (unsigned __int128)(uint64_t)amount_cents * (uint64_t)(MONEY_BPS_MAX - fee_bps);
    int64_t developer = (int64_t)(product / MONEY_BPS_MAX);
    /* The platform gets the rest, never a separately rounded share: the two must add up exactly. */
    *developer_cents = developer;
    *platform_cents = amount_cents - developer;
    return 0;
}

/* ISO 4217 codes we accept, sorted for bsearch. Funds codes, precious metals (XAU…) and the test
 * code XTS are left out on purpose: nothing can be sold in them. */
static const char money_currencies[][4] = {
    "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EGP", "EUR",
    "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "ISK", "JPY", "KES", "KRW", "MAD", "MXN", "MYR", "NGN",
    "NOK", "NZD", "PEN", "PHP", "PKR", "PLN", "QAR", "RON", "SAR", "SEK", "SGD", "THB", "TRY", "TWD",
    "UAH", "USD", "VND", "ZAR",
};

static int money_currency_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 3);
}

int money_currency_valid(const char *code)
{
    if (!code)
        return 0;
    /* Exactly three upper-case ASCII letters: checked first so strlen never walks a long string and
     * lower case ("usd") is refused rather than silently accepted. */
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return 0;
    if (code[3] != '\0')
        return 0;
    return bsearch(code, money_currencies, sizeof money_currencies / sizeof money_currencies[0],
                   sizeof money_currencies[0], money_currency_cmp) != NULL;
}

/* core/money: the revenue split (rounding rule of README "The split", always adds up, no overflow) and the
 * currency allow-list. */
#include "core/money.h"

#include <stdint.h>
#include <stdio.h>

#include "tests/support/check.h"

/* Splits and returns 0, or -1 when money_split refused; outputs in *d / *p. */
static int split(int64_t amount, int64_t fee, int64_t *d, int64_t *p)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = money_split(amount, fee, d, p, &err);
    if (rc < 0)
        CHECK_INT(err.kind, ERROR_INTERNAL);
    error_clear(&err);
    return rc;
}

static void test_rounding_table(void)
{
    static const struct {
        int64_t amount, fee, dev, plat;
    } rows[] = {
        {0, 3000, 0, 0},
        {1, 3000, 0, 1},       /* 0.7 rounds down: the odd cent goes to the platform */
        {2, 3000, 1, 1},       /* 1.4 */
        {3, 3000, 2, 1},       /* 2.1 */
        {9, 3000, 6, 3},       /* 6.3 */
        {10, 3000, 7, 3},
        {99, 3000, 69, 30},    /* 69.3 */
        {100, 3000, 70, 30},
        {101, 3000, 70, 31},   /* 70.7 */
        {999, 3000, 699, 300}, /* 699.3 */
        {1999, 3000, 1399, 600},
        {4999, 3000, 3499, 1500},
        {1, 1, 0, 1},          /* 0.9999 */
        {10000, 1, 9999, 1},
        {9999, 1, 9998, 1},    /* 9998.0001 */
        {1, 9999, 0, 1},
        {10000, 9999, 1, 9999},
        {12345, 2500, 9258, 3087}, /* 9258.75 */
        {333, 3333, 222, 111},     /* 222.0111 */
        {100, 0, 100, 0},
        {100, 10000, 0, 100},
        {7, 5000, 3, 4},           /* 3.5 */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t d = -1, p = -1;
        CHECK_INT(split(rows[i].amount, rows[i].fee, &d, &p), 0);
        if (d != rows[i].dev || p != rows[i].plat) {
            fprintf(stderr, "  row %zu: %lld at %lld bps\n", i, (long long)rows[i].amount, (long long)rows[i].fee);
            CHECK_INT(d, rows[i].dev);
            CHECK_INT(p, rows[i].plat);
        }
    }
}

/* For many amounts and fees the shares add up, are both non-negative, and the developer share is the
 * floor of the exact value: dev*10000 <= amount*(10000-fee) < (dev+1)*10000. */
static void test_always_adds_up(void)
{
    static const int64_t fees[] = {0, 1, 250, 1000, 2999, 3000, 3001, 5000, 9999, 10000};
    int bad = 0;
    for (size_t f = 0; f < sizeof fees / sizeof fees[0]; f++) {
        for (int64_t amount = 0; amount <= 20000; amount++) {
            int64_t d, p;
            if (split(amount, fees[f], &d, &p) < 0 || d + p != amount || d < 0 || p < 0) {
                bad++;
                continue;
            }
            int64_t exact = amount * (10000 - fees[f]);
            if (d * 10000 > exact || (d + 1) * 10000 <= exact)
                bad++;
        }
    }
    CHECK_INT(bad, 0);
}

static void test_fee_extremes(void)
{
    int64_t d, p;
    CHECK_INT(split(123456, 0, &d, &p), 0);
    CHECK_INT(d, 123456);
    CHECK_INT(p, 0);
    CHECK_INT(split(123456, 10000, &d, &p), 0);
    CHECK_INT(d, 0);
    CHECK_INT(p, 123456);
    CHECK_INT(split(123456, MONEY_DEFAULT_FEE_BPS, &d, &p), 0);
    CHECK_INT(d, 86419); /* 86419.2 */
    CHECK_INT(p, 37037);
}

/* amount * 10000 overflows int64 above ~9.2e14 cents: the split must still be exact. */
static void test_large_amounts(void)
{
    int64_t d, p;
    CHECK_INT(split(INT64_MAX, 3000, &d, &p), 0);
    /* INT64_MAX = 9223372036854775807; * 7000 / 10000 = 6456360425798343064.9 -> floor */
    CHECK_INT(d, 6456360425798343064LL);
    CHECK_INT(p, INT64_MAX - 6456360425798343064LL);
    CHECK_INT(d + p == INT64_MAX, 1);
    CHECK_INT(split(INT64_MAX, 0, &d, &p), 0);
    CHECK_INT(d, INT64_MAX);
    CHECK_INT(p, 0);
    CHECK_INT(split(INT64_MAX, 10000, &d, &p), 0);
    CHECK_INT(d, 0);
    CHECK_INT(p, INT64_MAX);
    CHECK_INT(split(INT64_MAX / 10000 + 1, 1, &d, &p), 0);
    CHECK(d + p == INT64_MAX / 10000 + 1);
    CHECK(p >= 1);
}

static void test_refused(void)
{
    int64_t d = 11, p = 22;
    CHECK_INT(split(-1, 3000, &d, &p), -1);
    CHECK_INT(split(INT64_MIN, 3000, &d, &p), -1);
    CHECK_INT(split(100, -1, &d, &p), -1);
    CHECK_INT(split(100, 10001, &d, &p), -1);
    CHECK_INT(split(100, INT64_MAX, &d, &p), -1);
    /* Outputs are left alone on failure. */
    CHECK_INT(d, 11);
    CHECK_INT(p, 22);
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(money_split(100, 3000, NULL, &p, &err), -1);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    error_clear(&err);
    CHECK_INT(money_split(100, 3000, &d, NULL, &err), -1);
    error_clear(&err);
    /* A NULL err is allowed. */
    CHECK_INT(money_split(-5, 3000, &d, &p, NULL), -1);
}

static void test_currencies(void)
{
    static const char *const good[] = {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK",
                                       "PLN", "CZK", "HUF", "INR", "BRL", "MXN", "SGD", "HKD", "KRW", "ZAR", "AED"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!money_currency_valid(good[i])) {
            fprintf(stderr, "  %s refused\n", good[i]);
            CHECK(0);
        }
    static const char *const bad[] = {"",    "U",    "US",   "usd", "Usd", "USDX", "USD ", " USD", "XXX",
                                      "XTS", "XAU",  "ABC",  "ZZZ", "US1", "U$D",  "EU",  "eur",  "\xc3\x89UR"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (money_currency_valid(bad[i])) {
            fprintf(stderr, "  \"%s\" accepted\n", bad[i]);
            CHECK(0);
        }
    CHECK_INT(money_currency_valid(NULL), 0);
}

int main(void)
{
    RUN(test_rounding_table);
    RUN(test_always_adds_up);
    RUN(test_fee_extremes);
    RUN(test_large_amounts);
    RUN(test_refused);
    RUN(test_currencies);
    return check_finish();
}

/* core/semver: strict SemVer 2.0.0 parsing and precedence, npm-style ranges, max_satisfying. */
#include "core/semver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"

static semver V(const char *text)
{
    semver v;
    mkt_error err = MKT_ERROR_INIT;
    if (semver_parse(text, &v, &err) < 0) {
        fprintf(stderr, "  test version does not parse: %s: %s\n", text, err.message);
        abort();
    }
    error_clear(&err);
    return v;
}

static int cmp_text(const char *a, const char *b)
{
    semver x = V(a), y = V(b);
    int c = semver_compare(&x, &y);
    semver_free(&x);
    semver_free(&y);
    return c;
}

/* ---------------------------------------------------------------- versions */

static void test_parse_valid(void)
{
    static const struct {
        const char *text;
        uint64_t major, minor, patch;
        const char *pre, *build;
    } cases[] = {
        {"0.0.0", 0, 0, 0, NULL, NULL},
        {"0.0.4", 0, 0, 4, NULL, NULL},
        {"1.2.3", 1, 2, 3, NULL, NULL},
        {"10.20.30", 10, 20, 30, NULL, NULL},
        {"1.1.2-prerelease+meta", 1, 1, 2, "prerelease", "meta"},
        {"1.1.2+meta", 1, 1, 2, NULL, "meta"},
        {"1.1.2+meta-valid", 1, 1, 2, NULL, "meta-valid"},
        {"1.0.0-alpha", 1, 0, 0, "alpha", NULL},
        {"1.0.0-beta", 1, 0, 0, "beta", NULL},
        {"1.0.0-alpha.beta", 1, 0, 0, "alpha.beta", NULL},
        {"1.0.0-alpha.beta.1", 1, 0, 0, "alpha.beta.1", NULL},
        {"1.0.0-alpha.1", 1, 0, 0, "alpha.1", NULL},
        {"1.0.0-alpha0.valid", 1, 0, 0, "alpha0.valid", NULL},
        {"1.0.0-alpha.0valid", 1, 0, 0, "alpha.0valid", NULL},
        {"1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay", 1, 0, 0, "alpha-a.b-c-somethinglong",
         "build.1-aef.1-its-okay"},
        {"1.0.0-rc.1+build.1", 1, 0, 0, "rc.1", "build.1"},
        {"2.0.0-rc.1+build.123", 2, 0, 0, "rc.1", "build.123"},
        {"1.2.3-beta", 1, 2, 3, "beta", NULL},
        {"10.2.3-DEV-SNAPSHOT", 10, 2, 3, "DEV-SNAPSHOT", NULL},
        {"1.2.3-SNAPSHOT-123", 1, 2, 3, "SNAPSHOT-123", NULL},
        {"2.0.0+build.1848", 2, 0, 0, NULL, "build.1848"},
        {"2.0.1-alpha.1227", 2, 0, 1, "alpha.1227", NULL},
        {"1.0.0-alpha+beta", 1, 0, 0, "alpha", "beta"},
        {"1.2.3----RC-SNAPSHOT.12.9.1--.12+788", 1, 2, 3, "---RC-SNAPSHOT.12.9.1--.12", "788"},
        {"1.2.3----R-S.12.9.1--.12+meta", 1, 2, 3, "---R-S.12.9.1--.12", "meta"},
        {"1.0.0+0.build.1-rc.10000aaa-kk-0.1", 1, 0, 0, NULL, "0.build.1-rc.10000aaa-kk-0.1"},
        {"1.0.0-0A.is.legal", 1, 0, 0, "0A.is.legal", NULL},
        {"1.0.0-0", 1, 0, 0, "0", NULL},
        {"1.0.0-x-y-z.--", 1, 0, 0, "x-y-z.--", NULL},
        {"1.0.0+001", 1, 0, 0, NULL, "001"}, /* build identifiers may have leading zeros */
        {"1.0.0-a.00a", 1, 0, 0, "a.00a", NULL}, /* alphanumeric, so not a number */
        {"9007199254740991.9007199254740991.9007199254740991", SEMVER_NUMBER_MAX, SEMVER_NUMBER_MAX, SEMVER_NUMBER_MAX,
         NULL, NULL},
        {"1.0.0-999999999999999999999999999999", 1, 0, 0, "999999999999999999999999999999", NULL},
    };
    mkt_error err = MKT_ERROR_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        semver v;
        if (semver_parse(cases[i].text, &v, &err) < 0) {
            fprintf(stderr, "  rejected %s: %s\n", cases[i].text, err.message);
            check_failures++;
            error_clear(&err);
            continue;
        }
        CHECK(v.major == cases[i].major && v.minor == cases[i].minor && v.patch == cases[i].patch);
        if (cases[i].pre)
            CHECK_STR(v.prerelease, cases[i].pre);
        else
            CHECK(v.prerelease == NULL);
        if (cases[i].build)
            CHECK_STR(v.build, cases[i].build);
        else
            CHECK(v.build == NULL);
        char *text = semver_format(&v);
        CHECK_STR(text, cases[i].text);
        free(text);
        semver_free(&v);
        semver_free(&v); /* twice is harmless */
    }
    CHECK(!error_is_set(&err));
    /* NULL out: just "is it valid?" */
    CHECK_INT(semver_parse("1.2.3-rc.1+b", NULL, NULL), 0);
    CHECK_INT(semver_parse("1.2", NULL, NULL), -1);
}

static void test_parse_invalid(void)
{
    static const char *const cases[] = {
        "", "1", "1.2", "1.0", "1.2.3.4", "1.2.3.DEV", "01.1.1", "1.01.1", "1.1.01", "00.0.0", "1.0.0-", "1.0.0+",
        "1.0.0-+", "1.0.0-01", "1.2.3-0123", "1.2.3-0123.0123", "1.0.0-alpha.01", "1.1.2+.123", "1.0.0+a..b",
        "1.0.0+a.", "+invalid", "-invalid", "-invalid+invalid", "-invalid.01", "alpha", "alpha.beta",
        "alpha.beta.1", "alpha.1", "alpha+beta", "alpha_beta", "alpha.", "alpha..", "beta", "1.0.0-alpha_beta",
        "-alpha.", "1.0.0-alpha..", "1.0.0-alpha..1", "1.0.0-alpha...1", "1.0.0-alpha.......1", "1.2-SNAPSHOT",
        "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788", "1.2-RC-SNAPSHOT", "-1.0.3-gamma+b7718", "+justmeta",
        "9.8.7+meta+meta", "9.8.7-whatever+meta+meta",
        "99999999999999999999999.999999999.99999999.----RC-SNAPSHOT.12.09.1--------------------------------..12",
        "18446744073709551616.0.0", "0.18446744073709551616.0", "0.0.18446744073709551616",
        "99999999999999999999999.0.0", " 1.0.0", "1.0.0 ", "1.0 .0", "1 .0.0", "1.0.0\n", "v1.0.0", "V1.0.0",
        "=1.0.0", "1.0.0-a b", "1.0.0-é", "1.0.0+ü", "1.0.0-a!", "1.0.0_", "1..0", "1.0.", ".1.0", "1.0.0.",
        "a.b.c", "1.x.0", "*", "^1.0.0", "1.0.0-a\x01", "-1.0.0", "1.-1.0", "+1.0.0", "0x1.0.0", "1e2.0.0",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        semver v = {7, 7, 7, NULL, NULL};
        mkt_error err = MKT_ERROR_INIT;
        if (semver_parse(cases[i], &v, &err) == 0) {
            fprintf(stderr, "  accepted invalid version \"%s\"\n", cases[i]);
            check_failures++;
            semver_free(&v);
            continue;
        }
        CHECK_INT(err.kind, ERROR_VALIDATION);
        CHECK(err.message != NULL);
        CHECK(v.major == 0 && v.minor == 0 && v.patch == 0 && !v.prerelease && !v.build);
        error_clear(&err);
    }

    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(semver_parse("01.0.0", NULL, &err), -1);
    CHECK_STR(err.message, "invalid version \"01.0.0\": a numeric part has a leading zero");
    CHECK_INT(semver_parse("1.0.0-01", NULL, &err), -1);
    CHECK_STR(err.message, "invalid version \"1.0.0-01\": a numeric pre-release identifier has a leading zero");
    CHECK_INT(semver_parse("1.0", NULL, &err), -1);
    CHECK_STR(err.message, "invalid version \"1.0\": expected MAJOR.MINOR.PATCH");
    CHECK_INT(semver_parse("1.0.0-", NULL, &err), -1);
    CHECK_STR(err.message, "invalid version \"1.0.0-\": empty pre-release identifier");
    CHECK_INT(semver_parse("1.0.0+", NULL, &err), -1);
    CHECK_STR(err.message, "invalid version \"1.0.0+\": empty build identifier");
    CHECK_INT(semver_parse("18446744073709551616.0.0", NULL, &err), -1);
    CHECK_STR(err.message, "invalid version \"18446744073709551616.0.0\": a numeric part is larger than 9007199254740991");
    CHECK_INT(semver_parse("1.0.0 ", NULL, &err), -1);
    CHECK_STR(err.message, "invalid version \"1.0.0 \": unexpected character");
    CHECK_INT(semver_parse("", NULL, &err), -1);
    CHECK_STR(err.message, "invalid version \"\": empty version");
    /* Unprintable text is not echoed. */
    CHECK_INT(semver_parse("1.0.0\x1b[2J", NULL, &err), -1);
    CHECK_STR(err.message, "invalid version: unexpected character");
    CHECK_INT(semver_parse(NULL, NULL, &err), -1);
    CHECK_STR(err.message, "invalid version: missing");

    /* The length cap: exactly 256 characters pass, 257 do not. */
    char text[300] = "1.0.0-";
    memset(text + 6, 'a', 250);
    text[256] = '\0';
    CHECK_INT(semver_parse(text, NULL, &err), 0);
    text[256] = 'a';
    text[257] = '\0';
    CHECK_INT(semver_parse(text, NULL, &err), -1);
    CHECK_STR(err.message, "invalid version: longer than 256 characters");
    error_clear(&err);
}

/* Numbers stop at SEMVER_NUMBER_MAX (2^53 - 1, as npm's semver): the bound itself parses, one more is
 * refused by name, in every position, and so are the values that used to break the BIGINT columns. */
static void test_number_bound(void)
{
    static const char *const ok[] = {"9007199254740991.0.0", "0.9007199254740991.0", "0.0.9007199254740991",
                                     "9007199254740991.9007199254740991.9007199254740991-rc.1"};
    static const char *const too_big[] = {"9007199254740992.0.0", "0.9007199254740992.0", "0.0.9007199254740992",
                                          "9223372036854775807.0.0", "9223372036854775808.0.0",
                                          "99999999999999999999.0.0"};
    mkt_error err = MKT_ERROR_INIT;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_INT(semver_parse(ok[i], NULL, &err), 0);
    for (size_t i = 0; i < sizeof too_big / sizeof too_big[0]; i++) {
        CHECK_INT(semver_parse(too_big[i], NULL, &err), -1);
        CHECK(err.message && strstr(err.message, "a numeric part is larger than 9007199254740991"));
    }
    CHECK_INT(SEMVER_NUMBER_MAX, 9007199254740991LL);
    /* a pre-release number is compared as text of any length, so it has no bound */
    CHECK_INT(semver_parse("1.0.0-99999999999999999999", NULL, &err), 0);
    /* ranges: the bound parses, past it is refused */
    static const char *const ranges_ok[] = {"9007199254740991", "^9007199254740991.0.0", "<=9007199254740991.1.1",
                                            "1.0.0 - 9007199254740991"};
    for (size_t i = 0; i < sizeof ranges_ok / sizeof ranges_ok[0]; i++) {
        semver_range *range = semver_range_parse(ranges_ok[i], &err);
        CHECK(range != NULL);
        semver_range_free(range);
    }
    CHECK(semver_range_parse(">=9007199254740992", &err) == NULL);
    CHECK_STR(err.message, "invalid range: \"9007199254740992\": a numeric part is larger than 9007199254740991");
    error_clear(&err);
}

static void test_precedence(void)
{
    /* semver.org section 11, in order, then more of the rules. */
    static const char *const chain[] = {
        "0.0.0",
        "0.0.1",
        "0.1.0",
        "1.0.0-0",
        "1.0.0-1",
        "1.0.0-2",
        "1.0.0-10",
        "1.0.0-99999999999999999999",
        "1.0.0-100000000000000000000",
        "1.0.0-A",
        "1.0.0-Z",
        "1.0.0-a",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
        "10.0.0",
        "9007199254740991.0.0",
    };
    size_t n = sizeof chain / sizeof chain[0];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int expected = i < j ? -1 : i > j ? 1 : 0;
            int got = cmp_text(chain[i], chain[j]);
            if (got != expected) {
                fprintf(stderr, "  compare(%s, %s) = %d, expected %d\n", chain[i], chain[j], got, expected);
                check_failures++;
            }
        }
    }
    /* Build metadata never matters. */
    CHECK_INT(cmp_text("1.0.0+a", "1.0.0+b"), 0);
    CHECK_INT(cmp_text("1.0.0+zzz", "1.0.0"), 0);
    CHECK_INT(cmp_text("1.0.0-rc.1+build.1", "1.0.0-rc.1+build.2"), 0);
    CHECK_INT(cmp_text("1.0.0-rc.1+b", "1.0.0+a"), -1);
    /* Identifier rules one by one. */
    CHECK_INT(cmp_text("1.0.0-alpha.2", "1.0.0-alpha.10"), -1);     /* numeric by value */
    CHECK_INT(cmp_text("1.0.0-alpha2", "1.0.0-alpha10"), 1);        /* alphanumeric by ASCII */
    CHECK_INT(cmp_text("1.0.0-1", "1.0.0-a"), -1);                  /* numbers before words */
    CHECK_INT(cmp_text("1.0.0-999", "1.0.0-1a"), -1);
    CHECK_INT(cmp_text("1.0.0-a.b.c", "1.0.0-a.b"), 1);             /* a longer set wins */
    CHECK_INT(cmp_text("1.0.0-a.b.c", "1.0.0-a.b.c"), 0);
    CHECK_INT(cmp_text("1.0.0-a-b", "1.0.0-a.b"), 1);               /* "a-b" against "a": the longer word wins */
    CHECK_INT(cmp_text("1.0.0-alpha", "1.0.0-alpha-1"), -1);
    CHECK_INT(cmp_text("1.0.0-B", "1.0.0-a"), -1);                  /* ASCII: upper case first */
    CHECK_INT(cmp_text("1.0.0-0.0", "1.0.0-0"), 1);

    /* Hand-built values with leading zeros still compare by value. */
    semver a = {1, 0, 0, (char *)"007", NULL}, b = {1, 0, 0, (char *)"7", NULL};
    CHECK_INT(semver_compare(&a, &b), 0);
    /* An empty pre-release string is the same as none. */
    semver c = {1, 0, 0, (char *)"", NULL}, d = {1, 0, 0, NULL, NULL};
    CHECK_INT(semver_compare(&c, &d), 0);
}

static void test_format(void)
{
    semver v = {1, 2, 3, NULL, NULL};
    char *s = semver_format(&v);
    CHECK_STR(s, "1.2.3");
    free(s);
    v.prerelease = (char *)"rc.1";
    s = semver_format(&v);
    CHECK_STR(s, "1.2.3-rc.1");
    free(s);
    v.build = (char *)"sha.5114f85";
    s = semver_format(&v);
    CHECK_STR(s, "1.2.3-rc.1+sha.5114f85");
    free(s);
    v.prerelease = NULL;
    s = semver_format(&v);
    CHECK_STR(s, "1.2.3+sha.5114f85");
    free(s);
    v = (semver){UINT64_MAX, 0, UINT64_MAX, NULL, NULL};
    s = semver_format(&v);
    CHECK_STR(s, "18446744073709551615.0.18446744073709551615");
    free(s);
}

/* ---------------------------------------------------------------- ranges */

static int satisfies(const char *range_text, const char *version_text)
{
    mkt_error err = MKT_ERROR_INIT;
    semver_range *range = semver_range_parse(range_text, &err);
    if (!range) {
        fprintf(stderr, "  range does not parse: \"%s\": %s\n", range_text, err.message);
        error_clear(&err);
        return -1;
    }
    semver v = V(version_text);
    int result = semver_range_satisfies(range, &v);
    semver_free(&v);
    semver_range_free(range);
    return result;
}

/* From npm's documented semantics (node-semver README): each row is a range, versions it admits, and
 * versions it does not, separated by '|'. */
static void test_range_table(void)
{
    static const struct {
        const char *range, *yes, *no;
    } rows[] = {
        /* exact */
        {"1.2.3", "1.2.3 1.2.3+build.7", "1.2.4 1.2.2 1.2.3-rc.1 2.2.3"},
        {"=1.2.3", "1.2.3", "1.2.4"},
        {"v1.2.3", "1.2.3", "1.2.4"},
        {"=v1.2.3", "1.2.3", "1.2.4"},
        {"1.2.3+build", "1.2.3 1.2.3+other", "1.2.4"},
        {"1.2.3-beta.1", "1.2.3-beta.1", "1.2.3-beta.2 1.2.3"},
        /* primitive comparators */
        {">1.2.3", "1.2.4 2.0.0 1.3.0", "1.2.3 1.2.2 1.2.4-beta 2.0.0-rc.1"},
        {">=1.2.7", "1.2.7 1.2.8 2.5.3 1.3.9", "1.2.6 1.1.0 1.2.7-rc.1"},
        {"<1.2.7", "1.2.6 0.0.1 1.1.99", "1.2.7 1.2.8 1.2.7-rc.1 1.2.6-rc.1"},
        {"<=1.2.7", "1.2.7 1.2.6", "1.2.8"},
        {">=1.2.7 <1.3.0", "1.2.7 1.2.8 1.2.99", "1.2.6 1.3.0 1.1.0"},
        {"1.2.7 || >=1.2.9 <2.0.0", "1.2.7 1.2.9 1.4.6", "1.2.8 2.0.0"},
        {">= 1.2.7   <  1.3.0", "1.2.8", "1.3.0"},
        {"  1.2.3  ", "1.2.3", "1.2.4"},
        {"\t>1.0.0\t<2.0.0\t", "1.5.0", "2.0.0"},
        {"<2.0.0", "1.9.9", "2.0.0 2.0.0-alpha"},
        {"<=2.0.0-alpha", "2.0.0-alpha 1.0.0 2.0.0-0", "2.0.0-alpha.1 2.0.0"},
        /* pre-release tags: only with the same [major, minor, patch] named with a pre-release */
        {">1.2.3-alpha.3", "1.2.3-alpha.7 1.2.3 3.4.5 1.2.3-beta", "3.4.5-alpha.9 1.2.3-alpha.3 1.2.3-alpha.2"},
        {">=1.2.3-alpha.3", "1.2.3-alpha.3 1.2.3-alpha.4 1.2.4", "1.2.4-alpha.4"},
        {">1.2.3-alpha <1.2.4", "1.2.3-beta 1.2.3", "1.2.4-alpha 1.2.3-alpha"},
        {"1.2.3-alpha || 2.x", "1.2.3-alpha 2.0.0 2.9.9", "2.0.0-alpha 1.2.3"},
        {">=0.0.0", "0.0.0 1.0.0", "0.0.0-0 1.0.0-rc.1"},
        {"<1.0.0-rc.1 >=1.0.0-alpha", "1.0.0-alpha 1.0.0-beta.5", "1.0.0-rc.1 0.9.0-alpha 1.0.0"},
        /* hyphen ranges */
        {"1.2.3 - 2.3.4", "1.2.3 2.3.4 2.0.0 1.9.9", "1.2.2 2.3.5 2.4.0 2.3.4-rc.1"},
        {"1.2 - 2.3.4", "1.2.0 2.3.4", "1.1.9 2.3.5"},
        {"1.2.3 - 2.3", "1.2.3 2.3.0 2.3.99", "2.4.0 2.4.0-alpha 1.2.2"},
        {"1.2.3 - 2", "1.2.3 2.0.0 2.99.99", "3.0.0 3.0.0-alpha"},
        {"1.2.3-beta - 2.0.0", "1.2.3-beta 1.2.3-beta.2 1.5.0", "1.2.3-alpha 1.2.4-beta 2.0.0-rc.1"},
        {"* - 2.0.0", "0.0.0 2.0.0", "2.0.1"},
        {"1.0.0 - *", "1.0.0 99.0.0", "0.9.9"},
        {"v1.0.0 - v2.0.0", "1.5.0", "2.0.1"},
        /* x-ranges */
        {"*", "0.0.0 1.2.3 999.999.999", "1.0.0-beta 0.0.0-0"},
        {"", "0.0.0 1.2.3", "1.0.0-beta"},
        {"x", "1.0.0", "1.0.0-rc.1"},
        {"X", "1.0.0", ""},
        {"1.x", "1.0.0 1.9.9 1.2.3", "0.9.9 2.0.0 1.2.3-rc.1 2.0.0-0"},
        {"1.X", "1.0.0", "2.0.0"},
        {"1.*", "1.5.0", "2.0.0"},
        {"1", "1.0.0 1.99.99", "0.99.99 2.0.0"},
        {"1.2.x", "1.2.0 1.2.99", "1.3.0 1.1.99 1.2.5-rc.1"},
        {"1.2.*", "1.2.0 1.2.9", "1.3.0"},
        {"1.2", "1.2.0 1.2.9", "1.3.0 1.1.9"},
        {"1.x.x", "1.0.0", "2.0.0"},
        {"*.*.*", "1.0.0 0.0.0", "1.0.0-a"},
        {"=1.x", "1.0.0", "2.0.0"},
        {"0", "0.0.0 0.99.0", "1.0.0"},
        /* tilde */
        {"~1.2.3", "1.2.3 1.2.9 1.2.99", "1.3.0 1.2.2 1.3.0-0"},
        {"~1.2", "1.2.0 1.2.9", "1.3.0 1.1.9"},
        {"~1", "1.0.0 1.9.9", "2.0.0 0.9.9"},
        {"~0.2.3", "0.2.3 0.2.9", "0.3.0 0.2.2"},
        {"~0.2", "0.2.0 0.2.9", "0.3.0"},
        {"~0", "0.0.0 0.9.9", "1.0.0"},
        {"~1.2.3-beta.2", "1.2.3-beta.2 1.2.3-beta.4 1.2.3 1.2.9", "1.2.4-beta.2 1.2.3-beta.1 1.3.0"},
        {"~>1.2", "1.2.0 1.2.5", "1.3.0"},
        {"~ 1.2.3", "1.2.5", "1.3.0"},
        {"~*", "0.0.0 5.0.0", "5.0.0-a"},
        {"~1.x", "1.0.0 1.9.0", "2.0.0"},
        /* caret */
        {"^1.2.3", "1.2.3 1.9.9 1.2.4", "2.0.0 1.2.2 2.0.0-alpha 1.3.0-beta"},
        {"^0.2.3", "0.2.3 0.2.9", "0.3.0 0.2.2"},
        {"^0.0.3", "0.0.3", "0.0.4 0.0.2"},
        {"^0.0.0", "0.0.0", "0.0.1"},
        {"^1.2.3-beta.2", "1.2.3-beta.2 1.2.3-beta.4 1.2.3 1.9.0", "1.2.4-beta.2 2.0.0 1.2.3-beta.1"},
        {"^0.0.3-beta", "0.0.3-beta 0.0.3-pr.2 0.0.3", "0.0.4 0.0.4-beta"},
        {"^1.2.x", "1.2.0 1.9.9", "2.0.0 1.1.9"},
        {"^0.0.x", "0.0.0 0.0.9", "0.1.0"},
        {"^0.0", "0.0.0 0.0.9", "0.1.0"},
        {"^1.x", "1.0.0 1.9.9", "2.0.0"},
        {"^0.x", "0.0.0 0.9.9", "1.0.0"},
        {"^1", "1.0.0 1.9.9", "2.0.0"},
        {"^0.1", "0.1.0 0.1.9", "0.2.0"},
        {"^0.1.2", "0.1.2 0.1.9", "0.2.0 0.1.1"},
        {"^*", "0.0.0 9.9.9", "1.0.0-a"},
        {"^ 1.2.3", "1.5.0", "2.0.0"},
        {"^v1.2.3", "1.5.0", "2.0.0"},
        /* partial versions with operators, as npm reads them */
        {">1", "2.0.0", "1.9.9 1.0.0"},
        {">1.2", "1.3.0", "1.2.9"},
        {">=1", "1.0.0 3.0.0", "0.9.9"},
        {">=1.2", "1.2.0", "1.1.9"},
        {"<1", "0.9.9", "1.0.0 1.0.0-alpha"},
        {"<1.2", "1.1.9", "1.2.0 1.2.0-alpha"},
        {"<=1", "1.9.9", "2.0.0"},
        {"<=1.2", "1.2.9", "1.3.0"},
        {"<=1.2.x", "1.2.9", "1.3.0"},
        {">1.x", "2.0.0", "1.9.9"},
        {">*", "", "0.0.0 1.0.0"},
        {"<*", "", "0.0.0 1.0.0"},
        {">=*", "0.0.0 1.0.0", "1.0.0-a"},
        {"<=*", "0.0.0 1.0.0", ""},
        {"=*", "0.0.0", ""},
        /* alternatives */
        {"1.x || >=2.5.0 || 5.0.0 - 7.2.3", "1.2.3 2.5.0 6.0.0 7.2.4", "2.4.9 0.1.0"},
        {"^1.0.0 || ^3.0.0", "1.5.0 3.1.0", "2.0.0 4.0.0"},
        {"1.2.3||1.2.4", "1.2.3 1.2.4", "1.2.5"},
        {"1.2.3 ||", "0.0.1 1.2.3", "1.0.0-a"},
        {"|| 1.2.3", "7.0.0", ""},
        {"<1.0.0 || >=2.0.0 <3.0.0 || 4.x", "0.5.0 2.1.0 4.4.4", "1.5.0 3.0.0 5.0.0"},
        /* build metadata ignored in comparators */
        {">1.2.3+build.9", "1.2.4", "1.2.3 1.2.3+build.10"},
        /* the extremes */
        {"^9007199254740991.0.0", "9007199254740991.0.0 9007199254740991.5.5", "9007199254740990.0.0"},
        {"~1.9007199254740991", "1.9007199254740991.0 1.9007199254740991.9", "2.0.0 1.0.0"},
        {"^0.0.9007199254740991", "0.0.9007199254740991", "0.1.0"},
        {">9007199254740991", "", "9007199254740991.9007199254740991.9007199254740991"},
        {"<=9007199254740991", "9007199254740991.9007199254740991.9007199254740991 0.0.0", ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (int want = 1; want >= 0; want--) {
            char list[512];
            snprintf(list, sizeof list, "%s", want ? rows[i].yes : rows[i].no);
            for (char *save = NULL, *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                int got = satisfies(rows[i].range, tok);
                if (got != want) {
                    fprintf(stderr, "  \"%s\" %s %s (got %d)\n", rows[i].range, want ? "should admit" : "should not admit",
                            tok, got);
                    check_failures++;
                }
            }
        }
    }
}

/* The plain comparators each form becomes: npm's documented expansions. */
static void test_range_desugar(void)
{
    static const struct {
        const char *range, *plain;
    } cases[] = {
        {"1.2.3", "1.2.3"},
        {"=1.2.3+b", "1.2.3"},
        {">=1.2.7 <1.3.0", ">=1.2.7 <1.3.0"},
        {"1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"},
        {"1.2 - 2.3.4", ">=1.2.0 <=2.3.4"},
        {"1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"},
        {"1.2.3 - 2", ">=1.2.3 <3.0.0-0"},
        {"*", "*"},
        {"", "*"},
        {"1.x", ">=1.0.0 <2.0.0-0"},
        {"1", ">=1.0.0 <2.0.0-0"},
        {"1.2.x", ">=1.2.0 <1.3.0-0"},
        {"1.2", ">=1.2.0 <1.3.0-0"},
        {"~1.2.3", ">=1.2.3 <1.3.0-0"},
        {"~1.2", ">=1.2.0 <1.3.0-0"},
        {"~1", ">=1.0.0 <2.0.0-0"},
        {"~0.2.3", ">=0.2.3 <0.3.0-0"},
        {"~0.2", ">=0.2.0 <0.3.0-0"},
        {"~0", ">=0.0.0 <1.0.0-0"},
        {"~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0"},
        {"^1.2.3", ">=1.2.3 <2.0.0-0"},
        {"^0.2.3", ">=0.2.3 <0.3.0-0"},
        {"^0.0.3", ">=0.0.3 <0.0.4-0"},
        {"^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"},
        {"^0.0.3-beta", ">=0.0.3-beta <0.0.4-0"},
        {"^1.2.x", ">=1.2.0 <2.0.0-0"},
        {"^0.0.x", ">=0.0.0 <0.1.0-0"},
        {"^0.0", ">=0.0.0 <0.1.0-0"},
        {"^1.x", ">=1.0.0 <2.0.0-0"},
        {"^0.x", ">=0.0.0 <1.0.0-0"},
        {">1", ">=2.0.0"},
        {">1.2", ">=1.3.0"},
        {"<1.2", "<1.2.0-0"},
        {"<=1.2", "<1.3.0-0"},
        {">=1.2", ">=1.2.0"},
        {">*", "<0.0.0-0"},
        {"<*", "<0.0.0-0"},
        {">=*", "*"},
        {"1.x || >=2.5.0 || 5.0.0 - 7.2.3", ">=1.0.0 <2.0.0-0 || >=2.5.0 || >=5.0.0 <=7.2.3"},
        {"^9007199254740991.1.2", ">=9007199254740991.1.2"},
        {"~1.9007199254740991", ">=1.9007199254740991.0 <2.0.0-0"},
        {"^0.0.9007199254740991", ">=0.0.9007199254740991 <0.1.0-0"},
        {">9007199254740991.9007199254740991", "<0.0.0-0"},
        {">9007199254740990.9007199254740991", ">=9007199254740991.0.0"},
        {"<=9007199254740991", "*"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mkt_error err = MKT_ERROR_INIT;
        semver_range *range = semver_range_parse(cases[i].range, &err);
        if (!range) {
            fprintf(stderr, "  \"%s\" does not parse: %s\n", cases[i].range, err.message);
            check_failures++;
            error_clear(&err);
            continue;
        }
        char *plain = semver_range_format(range);
        CHECK_STR(plain, cases[i].plain);
        /* The canonical form parses back to the same thing. */
        semver_range *again = semver_range_parse(plain, &err);
        CHECK(again != NULL);
        char *twice = again ? semver_range_format(again) : NULL;
        CHECK_STR(twice, cases[i].plain);
        free(twice);
        semver_range_free(again);
        free(plain);
        semver_range_free(range);
    }
}

static void test_range_invalid(void)
{
    static const char *const cases[] = {
        "1.2.3 -", "- 1.2.3", "-", "1.2.3 - 2.3.4 - 5.0.0", ">=1.2.3 - 2.0.0", "1.2.3 - <2.0.0", "1.2.3 - 2.0.0 3.0.0",
        "1.0.0 1.2.3 - 2.0.0", ">", ">=", "~", "^", "^ ", "1.2.3 >=", "1.2.3 |", "| 1.2.3", "|||", "1.2.3 | 1.2.4",
        "1.02.3", "01", "1.2.3-", "1.2.3+", "1.2.3-01", "x.1", "1.x.3", "*.1.0", "1.x-beta", "1.2-beta", "1.2.x-beta",
        "1+build", "abc", "1.2.3.4", "<=>1.2.3", "=>1.2.3", "1.2.3,1.2.4", "1.2.3&&1.2.4", ">=1.2.3<2.0.0",
        "18446744073709551616", "^18446744073709551616.0.0", "9007199254740992", "^9007199254740992.0.0",
        "1.9007199254740992", "~1.2.9007199254740992", "1.2.3 - 9223372036854775808", ">9007199254740991.0.9007199254740992", "1.2.3\n", "1.2.3\r", "V1.2.3", "vv1.2.3", "v",
        "1.2.3 - 2.3.4 ||| 5", "latest", "next", "~>", "==1.2.3", "<<1", "1..2", "1.", ".1", "x.x.x.x",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mkt_error err = MKT_ERROR_INIT;
        semver_range *range = semver_range_parse(cases[i], &err);
        if (range) {
            char *plain = semver_range_format(range);
            fprintf(stderr, "  accepted invalid range \"%s\" as \"%s\"\n", cases[i], plain);
            free(plain);
            check_failures++;
            semver_range_free(range);
            continue;
        }
        CHECK_INT(err.kind, ERROR_VALIDATION);
        CHECK(err.message && strncmp(err.message, "invalid range", 13) == 0);
        error_clear(&err);
    }
    mkt_error err = MKT_ERROR_INIT;
    CHECK(semver_range_parse("^1.02.0", &err) == NULL);
    CHECK_STR(err.message, "invalid range: \"1.02.0\": a numeric part has a leading zero");
    CHECK(semver_range_parse(">= 1.0.0 <", &err) == NULL);
    CHECK_STR(err.message, "invalid range: \"<\": an operator without a version");
    CHECK(semver_range_parse("1.2.3 | 2", &err) == NULL);
    CHECK_STR(err.message, "invalid range: a single '|' (alternatives are separated by \"||\")");
    CHECK(semver_range_parse("1 - 2 - 3", &err) == NULL);
    CHECK_STR(err.message, "invalid range: a hyphen range is written \"A - B\" with nothing else beside it");
    CHECK(semver_range_parse("1.x-rc", &err) == NULL);
    CHECK_STR(err.message, "invalid range: \"1.x-rc\": a pre-release needs MAJOR.MINOR.PATCH");
    CHECK(semver_range_parse(NULL, &err) == NULL);
    CHECK_STR(err.message, "invalid range: missing");

    /* Length cap: 1024 characters pass, 1025 do not. */
    char text[1100];
    memset(text, ' ', sizeof text);
    memcpy(text, "1.2.3", 5);
    text[1024] = '\0';
    semver_range *range = semver_range_parse(text, &err);
    CHECK(range != NULL);
    semver_range_free(range);
    text[1024] = ' ';
    text[1025] = '\0';
    CHECK(semver_range_parse(text, &err) == NULL);
    CHECK_STR(err.message, "invalid range: longer than 1024 characters");
    /* Many alternatives and comparators within the cap are fine. */
    char many[1025] = "";
    while (strlen(many) + 6 < 1024)
        strcat(many, "1.2.3 ");
    range = semver_range_parse(many, &err);
    CHECK(range != NULL);
    semver_range_free(range);
    strcpy(many, "");
    while (strlen(many) + 2 < 1024)
        strcat(many, "||");
    range = semver_range_parse(many, &err);
    CHECK(range != NULL);
    semver_range_free(range);
    semver_range_free(NULL);
    error_clear(&err);
}

static int max_of(const char *range_text, const char *const *texts, size_t n)
{
    semver versions[16];
    for (size_t i = 0; i < n; i++)
        versions[i] = V(texts[i]);
    semver_range *range = semver_range_parse(range_text, NULL);
    int best = range ? semver_range_max_satisfying(range, versions, n) : -2;
    semver_range_free(range);
    for (size_t i = 0; i < n; i++)
        semver_free(&versions[i]);
    return best;
}

static void test_max_satisfying(void)
{
    static const char *const published[] = {"1.2.0", "1.3.5", "2.0.0", "1.10.0-beta", "1.9.9", "1.3.5+b", "0.9.0",
                                            "2.1.0-rc.1", "1.9.9+later"};
    size_t n = sizeof published / sizeof published[0];
    CHECK_INT(max_of("^1.2.0", published, n), 4);        /* 1.9.9; the later equal one does not replace it */
    CHECK_INT(max_of("~1.3.0", published, n), 1);        /* 1.3.5 before 1.3.5+b */
    CHECK_INT(max_of("*", published, n), 2);             /* 2.0.0: pre-releases are not picked by "*" */
    CHECK_INT(max_of(">=2.1.0-rc.0", published, n), 7);  /* opted into 2.1.0 pre-releases */
    CHECK_INT(max_of(">=1.10.0-alpha <2", published, n), 3);
    CHECK_INT(max_of("^0.9", published, n), 6);
    CHECK_INT(max_of("^3", published, n), -1);
    CHECK_INT(max_of("<1.0.0 || ^1.3.0", published, n), 4);
    CHECK_INT(max_of("1.2.0", published, n), 0);
    CHECK_INT(max_of("*", published, 0), -1);
    semver one = V("1.0.0");
    CHECK_INT(semver_range_max_satisfying(NULL, &one, 1), -1);
    semver_free(&one);
}

int main(void)
{
    RUN(test_parse_valid);
    RUN(test_parse_invalid);
    RUN(test_number_bound);
    RUN(test_precedence);
    RUN(test_format);
    RUN(test_range_table);
    RUN(test_range_desugar);
    RUN(test_range_invalid);
    RUN(test_max_satisfying);
    return check_finish();
}

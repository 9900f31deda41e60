/* libFuzzer target for core/semver. The input is up to three lines: VERSION\nRANGE\nVERSION.
 * Invariants checked besides memory safety:
 *   - a parsed version formats back to exactly its text (strict parsing admits canonical text only);
 *   - compare is reflexive and antisymmetric, and ignores build metadata;
 *   - a range's canonical form parses again to the same canonical form and admits the same versions;
 *   - max_satisfying picks a satisfying version that no other satisfying one exceeds;
 *   - ranges built from a version (=v >=v <=v ^v ~v) admit it, <v and >v do not, and =v admits exactly
 *     the versions equal to v. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/semver.h"

static char *semver_fuzz_line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    char *line = strndup(*p, (size_t)(stop - *p));
    *p = nl ? nl + 1 : end;
    return line;
}

static int semver_fuzz_version(const char *text, semver *out)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = semver_parse(text, out, &err);
    if ((rc == 0) == error_is_set(&err))
        abort();
    error_clear(&err);
    if (rc < 0)
        return 0;
    char *back = semver_format(out);
    if (!back || strcmp(back, text) != 0)
        abort();
    free(back);
    if (semver_compare(out, out) != 0)
        abort();
    semver bare = *out;
    bare.build = NULL;
    if (semver_compare(out, &bare) != 0)
        abort();
    return 1;
}

/* Ranges built from version a itself: "=a", ">=a", "<=a", "^a", "~a" admit a and "<a", ">a" do not;
 * "=a" admits b exactly when b equals a. */
static void semver_fuzz_own_ranges(const semver *a, const semver *b, int have_b)
{
    static const struct {
        const char *op;
        int admits;
    } ops[] = {{"=", 1}, {">=", 1}, {"<=", 1}, {"^", 1}, {"~", 1}, {"<", 0}, {">", 0}};
    semver bare = *a;
    bare.build = NULL;
    char *text = semver_format(&bare);
    if (!text)
        abort();
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        char range_text[SEMVER_MAX_LENGTH + 8];
        snprintf(range_text, sizeof range_text, "%s%s", ops[i].op, text);
        semver_range *range = semver_range_parse(range_text, NULL);
        if (!range || semver_range_satisfies(range, a) != ops[i].admits)
            abort();
        if (i == 0 && have_b && semver_range_satisfies(range, b) != (semver_compare(a, b) == 0))
            abort();
        semver_range_free(range);
    }
    free(text);
}

static void semver_fuzz_range(const char *text, semver *versions, int have[2])
{
    mkt_error err = MKT_ERROR_INIT;
    semver_range *range = semver_range_parse(text, &err);
    if (!range == !error_is_set(&err))
        abort();
    error_clear(&err);
    if (!range)
        return;
    char *plain = semver_range_format(range);
    if (!plain)
        abort();
    /* Desugaring can lengthen the text past the cap; only shorter forms must parse again. */
    if (strlen(plain) <= SEMVER_RANGE_MAX_LENGTH) {
        semver_range *again = semver_range_parse(plain, NULL);
        if (!again)
            abort();
        char *twice = semver_range_format(again);
        if (!twice || strcmp(twice, plain) != 0)
            abort();
        free(twice);
        for (int i = 0; i < 2; i++)
            if (have[i] && semver_range_satisfies(range, &versions[i]) != semver_range_satisfies(again, &versions[i]))
                abort();
        semver_range_free(again);
    }
    free(plain);
    if (have[0] && have[1]) {
        int best = semver_range_max_satisfying(range, versions, 2);
        for (int i = 0; i < 2; i++) {
            int ok = semver_range_satisfies(range, &versions[i]);
            if (ok && (best < 0 || semver_compare(&versions[i], &versions[best]) > 0))
                abort();
        }
        if (best >= 0 && !semver_range_satisfies(range, &versions[best]))
            abort();
    }
    semver_range_free(range);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *first = semver_fuzz_line(&p, end);
    char *range_text = semver_fuzz_line(&p, end);
    char *second = semver_fuzz_line(&p, end);
    if (!first || !range_text || !second)
        abort();
    semver versions[2] = {{0}, {0}};
    int have[2] = {semver_fuzz_version(first, &versions[0]), semver_fuzz_version(second, &versions[1])};
    if (have[0] && have[1] && semver_compare(&versions[0], &versions[1]) != -semver_compare(&versions[1], &versions[0]))
        abort();
    for (int i = 0; i < 2; i++)
        if (have[i])
            semver_fuzz_own_ranges(&versions[i], &versions[1 - i], have[1 - i]);
    semver_fuzz_range(range_text, versions, have);
    semver_free(&versions[0]);
    semver_free(&versions[1]);
    free(first);
    free(range_text);
    free(second);
    return 0;
}

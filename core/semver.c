/* Versions: parsing, precedence and formatting (ranges are in core/semver_range.c). */
#include "core/semver_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char semver_oom[] = "out of memory";

/* ---- scanning ---- */

static int semver_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int semver_is_ident_char(char c)
{
    return semver_is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
}

/* A numeric part: digits without a leading zero, at most SEMVER_NUMBER_MAX. Returns NULL or why not. */
static const char *semver_scan_number(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    if (s == end || !semver_is_digit(*s))
        return "expected MAJOR.MINOR.PATCH";
    if (*s == '0' && s + 1 < end && semver_is_digit(s[1]))
        return "a numeric part has a leading zero";
    uint64_t n = 0;
    for (; s < end && semver_is_digit(*s); s++) {
        unsigned digit = (unsigned)(*s - '0');
        if (n > (SEMVER_NUMBER_MAX - digit) / 10)
            return "a numeric part is larger than 9007199254740991";
        n = n * 10 + digit;
    }
    *out = n;
    *p = s;
    return NULL;
}

/* Dot-separated identifiers up to the first character that cannot continue them. */
static const char *semver_scan_identifiers(const char **p, const char *end, int prerelease)
{
    const char *s = *p;
    for (;;) {
        const char *start = s;
        int numeric = 1;
        while (s < end && semver_is_ident_char(*s)) {
            numeric &= semver_is_digit(*s);
            s++;
        }
        if (s == start)
            return prerelease ? "empty pre-release identifier" : "empty build identifier";
        /* Only pre-release numbers are compared as numbers, so only they must be canonical. */
        if (prerelease && numeric && *start == '0' && s - start > 1)
            return "a numeric pre-release identifier has a leading zero";
        if (s == end || *s != '.')
            break;
        s++;
    }
    *p = s;
    return NULL;
}

static int semver_is_wildcard(char c)
{
    return c == 'x' || c == 'X' || c == '*';
}

/* Scans [s, end) whole. `partial` allows what ranges allow: fewer parts, or x / X / * for the trailing
 * ones (then without pre-release or build). Returns NULL or why not. */
const char *semver_scan(const char *s, const char *end, int partial, semver_spec *out)
{
    *out = (semver_spec){0};
    if (s == end)
        return "empty version";
    int wildcard = 0;
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (partial && (s == end || *s == '-' || *s == '+'))
                break; /* the rest are x; a qualifier after them is refused below, by name */
            if (s == end || *s != '.')
                return "expected MAJOR.MINOR.PATCH";
            s++;
        }
        if (partial && s < end && semver_is_wildcard(*s)) {
            wildcard = 1;
            s++;
            continue;
        }
        if (wildcard)
            return "a number follows a wildcard";
        const char *why = semver_scan_number(&s, end, &out->num[i]);
        if (why)
            return why;
        out->parts++;
    }
    if (s < end && *s == '-') {
        if (out->parts < 3)
            return "a pre-release needs MAJOR.MINOR.PATCH";
        out->pre = ++s;
        const char *why = semver_scan_identifiers(&s, end, 1);
        if (why)
            return why;
        out->pre_len = (size_t)(s - out->pre);
    }
    if (s < end && *s == '+') {
        if (out->parts < 3)
            return "build metadata needs MAJOR.MINOR.PATCH";
        out->build = ++s;
        const char *why = semver_scan_identifiers(&s, end, 0);
        if (why)
            return why;
        out->build_len = (size_t)(s - out->build);
    }
    return s == end ? NULL : "unexpected character";
}

/* Echoing user text is only helpful when it is short and printable. */
int semver_echoable(const char *s, size_t n)
{
    if (n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* ---- versions ---- */

int semver_fill(semver *out, uint64_t major, uint64_t minor, uint64_t patch, const char *pre,
                       size_t pre_len, const char *build, size_t build_len)
{
    *out = (semver){major, minor, patch, NULL, NULL};
    if (pre && !(out->prerelease = strndup(pre, pre_len)))
        return -1;
    if (build && !(out->build = strndup(build, build_len))) {
        semver_free(out);
        return -1;
    }
    return 0;
}

int semver_parse(const char *text, semver *out, mkt_error *err)
{
    semver scratch;
    if (!out)
        out = &scratch; /* lets callers ask "is it valid?" without keeping the result */
    *out = (semver){0};
    if (!text)
        return error_set(err, ERROR_VALIDATION, "invalid version: missing");
    size_t len = strnlen(text, SEMVER_MAX_LENGTH + 1);
    if (len > SEMVER_MAX_LENGTH)
        return error_set(err, ERROR_VALIDATION, "invalid version: longer than %d characters", SEMVER_MAX_LENGTH);
    semver_spec spec;
    const char *why = semver_scan(text, text + len, 0, &spec);
    if (why) {
        if (semver_echoable(text, len))
            return error_set(err, ERROR_VALIDATION, "invalid version \"%s\": %s", text, why);
        return error_set(err, ERROR_VALIDATION, "invalid version: %s", why);
    }
    if (semver_fill(out, spec.num[0], spec.num[1], spec.num[2], spec.pre, spec.pre_len, spec.build,
                    spec.build_len) < 0)
        return error_set(err, ERROR_INTERNAL, "%s", semver_oom);
    if (out == &scratch)
        semver_free(out);
    return 0;
}

void semver_free(semver *v)
{
    if (!v)
        return;
    free(v->prerelease);
    free(v->build);
    v->prerelease = v->build = NULL;
}

static int semver_sign(long long x)
{
    return (x > 0) - (x < 0);
}

static int semver_all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!semver_is_digit(s[i]))
            return 0;
    return 1;
}

/* One pre-release identifier against another. Numbers compare by value (by length once leading zeros
 * are gone, so any size works) and sort before words; words compare in ASCII order. */
static int semver_identifier_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int a_num = semver_all_digits(a, an), b_num = semver_all_digits(b, bn);
    if (a_num && b_num) {
        while (an > 1 && *a == '0')
            a++, an--;
        while (bn > 1 && *b == '0')
            b++, bn--;
        if (an != bn)
            return an < bn ? -1 : 1;
        return semver_sign(memcmp(a, b, an));
    }
    if (a_num != b_num)
        return a_num ? -1 : 1;
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? semver_sign(c) : semver_sign((long long)an - (long long)bn);
}

static int semver_prerelease_cmp(const char *a, const char *b)
{
    /* No pre-release ranks above any pre-release of the same version. */
    if (!a || !*a || !b || !*b)
        return (!a || !*a) - (!b || !*b);
    for (;;) {
        size_t an = strcspn(a, "."), bn = strcspn(b, ".");
        int c = semver_identifier_cmp(a, an, b, bn);
        if (c)
            return c;
        a += an;
        b += bn;
        if (!*a || !*b)
            return (*a != '\0') - (*b != '\0'); /* a longer list of equal leading identifiers wins */
        a++;
        b++;
    }
}

int semver_compare(const semver *a, const semver *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->patch != b->patch)
        return a->patch < b->patch ? -1 : 1;
    return semver_prerelease_cmp(a->prerelease, b->prerelease);
}

char *semver_format(const semver *v)
{
    char *out = NULL;
    int has_pre = v->prerelease && *v->prerelease, has_build = v->build && *v->build;
    if (asprintf(&out, "%" PRIu64 ".%" PRIu64 ".%" PRIu64 "%s%s%s%s", v->major, v->minor, v->patch,
                 has_pre ? "-" : "", has_pre ? v->prerelease : "", has_build ? "+" : "",
                 has_build ? v->build : "") < 0)
        return NULL;
    return out;
}

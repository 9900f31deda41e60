/* Semantic Versioning 2.0.0 (semver.org) and npm-style ranges.
 *
 * Versions are parsed strictly: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], numeric parts without leading
 * zeros and at most SEMVER_NUMBER_MAX, identifiers non-empty and made of [0-9A-Za-z-], no "v" prefix,
 * no spaces. Ranges take the same bound on every number they name.
 *
 * Ranges follow npm's grammar and meaning (node-semver, without its "loose" and "includePrerelease"
 * options): "1.2.3", "=1.2.3", "v1.2.3", comparators < <= > >=, "~1.2.3" (also "~>"), "^1.2.3" (with the
 * special cases of ^0.x and ^0.0.x), x-ranges ("*", "", "1", "1.x", "1.2.*"), hyphen ranges "1.2.3 - 2.3",
 * space-separated comparators that must all match, and "||" between alternatives. A version with a
 * pre-release tag only satisfies an alternative that names the same MAJOR.MINOR.PATCH with a pre-release
 * (so ">=1.2.3-beta.1" admits 1.2.3-beta.2 but not 1.2.4-beta.1), exactly as npm does.
 *
 * Parse errors are set on `err` with error_set(ERROR_VALIDATION, ...) (ERROR_INTERNAL when out of
 * memory); a caller reporting a field copies the message into error_add_field. */
#ifndef CORE_SEMVER_H
#define CORE_SEMVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SEMVER_MAX_LENGTH 256         /* of a version's text */
#define SEMVER_RANGE_MAX_LENGTH 1024  /* of a range's text */
/* The largest MAJOR, MINOR or PATCH: 2^53 - 1, JavaScript's Number.MAX_SAFE_INTEGER and the bound
 * npm's semver enforces, so every client reads the numbers exactly, and far inside the BIGINT
 * columns (tool_versions.major/minor/patch) with room for a range's bump to the next number. */
#define SEMVER_NUMBER_MAX UINT64_C(9007199254740991)

typedef struct {
    uint64_t major, minor, patch;
    char *prerelease;   /* dot-separated identifiers without the leading '-', or NULL */
    char *build;        /* without the leading '+', or NULL; ignored by comparisons */
} semver;

/* Returns 0 and fills *out (free with semver_free), or -1 with *out zeroed and `err` set. */
int semver_parse(const char *text, semver *out, mkt_error *err);

/* Frees the strings and zeroes *v; safe on a zeroed or already freed value. */
void semver_free(semver *v);

/* Precedence per semver.org section 11: -1, 0 or 1. Build metadata is ignored, so 1.0.0+a equals 1.0.0+b. */
int semver_compare(const semver *a, const semver *b);

/* "1.2.3-rc.1+build.5"; malloc'd (NULL when out of memory). */
char *semver_format(const semver *v);

typedef struct semver_range semver_range;

/* Returns the parsed range (free with semver_range_free), or NULL with `err` set. */
semver_range *semver_range_parse(const char *text, mkt_error *err);

/* 1 when v satisfies the range, else 0. */
int semver_range_satisfies(const semver_range *range, const semver *v);

/* Index of the greatest of versions[0..n) that satisfies the range (the first of equals), or -1. */
int semver_range_max_satisfying(const semver_range *range, const semver *versions, size_t n);

/* The range as plain comparators, npm's canonical form: "^1.2.3 || 2.x" gives ">=1.2.3 <2.0.0-0 || >=2.0.0
 * <3.0.0-0"; an alternative that admits every release is "*". malloc'd (NULL when out of memory). */
char *semver_range_format(const semver_range *range);

void semver_range_free(semver_range *range);

#endif

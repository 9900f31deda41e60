/* Private to the semver module (core/semver.c, core/semver_range.c): do not include it from anywhere
 * else; the public interface is core/semver.h. */
#ifndef CORE_SEMVER_INTERNAL_H
#define CORE_SEMVER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/semver.h"

/* A version or partial version as scanned, before anything is allocated: strings are spans of the text. */
typedef struct {
    int parts;          /* numeric parts given (0..3); fewer than 3 only in ranges, where the rest are x */
    uint64_t num[3];
    const char *pre, *build;
    size_t pre_len, build_len;
} semver_spec;

/* The message for ERROR_INTERNAL when an allocation fails. */
extern const char semver_oom[];

/* Scans [s, end) whole. `partial` allows what ranges allow: fewer parts, or x / X / * for the trailing
 * ones (then without pre-release or build). Returns NULL or why not. */
const char *semver_scan(const char *s, const char *end, int partial, semver_spec *out);

/* Echoing user text is only helpful when it is short and printable. */
int semver_echoable(const char *s, size_t n);

/* Fills *out with copies of the spans (NULL pre/build for none); -1 with *out freed when out of memory. */
int semver_fill(semver *out, uint64_t major, uint64_t minor, uint64_t patch, const char *pre, size_t pre_len,
                const char *build, size_t build_len);

#endif

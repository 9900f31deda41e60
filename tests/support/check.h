/* A tiny test harness: CHECK macros count failures; RUN runs one test function; check_finish
 * prints "N passed, N failed" and returns the exit code. */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

extern int check_failures;   /* failures in the current test */
extern int check_passed, check_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

#define CHECK_INT(actual, expected)                                                          \
    do {                                                                                     \
        long long check_a_ = (long long)(actual), check_e_ = (long long)(expected);          \
        if (check_a_ != check_e_) {                                                          \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #actual, \
                    check_a_, check_e_);                                                     \
            check_failures++;                                                                \
        }                                                                                    \
    } while (0)

#define CHECK_STR(actual, expected)                                                            \
    do {                                                                                       \
        const char *check_a_ = (actual), *check_e_ = (expected);                               \
        if (!check_a_ || !check_e_ || strcmp(check_a_, check_e_) != 0) {                       \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #actual, \
                    check_a_ ? check_a_ : "(null)", check_e_ ? check_e_ : "(null)");           \
            check_failures++;                                                                  \
        }                                                                                      \
    } while (0)

/* Counts and prints the test that just ran (check_failures tells whether it failed). */
void check_report(const char *name);

#define RUN(fn)                   \
    do {                          \
        check_failures = 0;       \
        fn();                     \
        check_report(#fn);        \
    } while (0)

int check_finish(void);

/* The test's own JSON text parsed (any value, NULs allowed); aborts when it does not parse, since
 * that is a mistake in the test rather than a failure of the code under test. */
json_t *check_json(const char *text);

/* unit repeated times, malloc'd (oversized inputs: long names, deep nesting). */
char *check_repeat(const char *unit, size_t times);

#endif

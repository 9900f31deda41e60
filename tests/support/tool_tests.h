/* Tool test suites built in code, for the tests of the tool checker (unit) and of its budgets over
 * HTTP (e2e). Part of the harness library, so unit tests can use it without the stack. */
#ifndef TESTS_TOOL_TESTS_H
#define TESTS_TOOL_TESTS_H

#include <jansson.h>
#include <stddef.h>

/* n tests named "t0".."t<n-1>", each with input {} and expected parsed from the JSON text expected. */
json_t *tool_tests_repeat(size_t n, const char *expected);

#endif

#include "tests/support/tool_tests.h"

#include <stdio.h>

json_t *tool_tests_repeat(size_t n, const char *expected)
{
    json_t *tests = json_array();
    for (size_t i = 0; i < n; i++) {
        char name[24];
        snprintf(name, sizeof name, "t%zu", i);
        json_array_append_new(tests, json_pack("{s:s, s:{}, s:o}", "name", name, "input", "expected",
                                               json_loads(expected, JSON_DECODE_ANY, NULL)));
    }
    return tests;
}

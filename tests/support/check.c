#include "tests/support/check.h"

#include <stdlib.h>

int check_failures, check_passed, check_failed;

void check_report(const char *name)
{
    if (check_failures) {
        check_failed++;
        fprintf(stderr, "FAIL %s\n", name);
    } else {
        check_passed++;
        fprintf(stderr, "ok   %s\n", name);
    }
}

int check_finish(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

json_t *check_json(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) {
        fprintf(stderr, "  test JSON does not parse: %s: %s\n", text, jerr.text);
        abort();
    }
    return v;
}

char *check_repeat(const char *unit, size_t times)
{
    size_t len = strlen(unit);
    char *out = malloc(len * times + 1);
    if (!out)
        abort();
    for (size_t i = 0; i < times; i++)
        memcpy(out + i * len, unit, len);
    out[len * times] = '\0';
    return out;
}

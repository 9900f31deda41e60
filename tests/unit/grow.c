/* core/grow: capacity doubles from 4, contents survive, overflow is refused without touching the array. */
#include <stdint.h>
#include <stdlib.h>

#include "core/grow.h"
#include "tests/support/check.h"

static void test_grows_and_keeps(void)
{
    int *items = NULL;
    size_t cap = 0;
    for (size_t n = 0; n < 100; n++) {
        CHECK_INT(grow_for_one(&items, &cap, n, sizeof *items), 0);
        CHECK(cap > n);
        items[n] = (int)n * 3;
    }
    CHECK_INT(cap, 128);
    for (size_t n = 0; n < 100; n++)
        CHECK_INT(items[n], (int)n * 3);
    size_t before = cap;
    CHECK_INT(grow_for_one(&items, &cap, 10, sizeof *items), 0);  /* room left: nothing moves */
    CHECK_INT(cap, before);
    free(items);
}

static void test_overflow_refused(void)
{
    char *items = malloc(4);
    size_t cap = SIZE_MAX / 2 + 1;
    CHECK_INT(grow_for_one(&items, &cap, cap, 1), -1);
    CHECK(cap == SIZE_MAX / 2 + 1);
    size_t big = SIZE_MAX / 16;
    CHECK_INT(grow_for_one(&items, &big, big, 16), -1);
    CHECK(big == SIZE_MAX / 16);
    free(items);
}

int main(void)
{
    RUN(test_grows_and_keeps);
    RUN(test_overflow_refused);
    return check_finish();
}

#include "core/grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int grow_for_one(void *items_ptr, size_t *cap, size_t count, size_t elem_size)
{
    if (count < *cap)
        return 0;
    size_t fresh = *cap ? *cap * 2 : 4;
    if (fresh < *cap || (elem_size && fresh > SIZE_MAX / elem_size))
        return -1;
    /* The caller's pointer is a T *, not a void *: read and write it as bytes, never through a void **. */
    void *items;
    memcpy(&items, items_ptr, sizeof items);
    void *grown = realloc(items, fresh * elem_size);
    if (!grown)
        return -1;
    memcpy(items_ptr, &grown, sizeof grown);
    *cap = fresh;
    return 0;
}

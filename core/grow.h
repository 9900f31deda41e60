/* Growable arrays: the one place that doubles a capacity, so the overflow and out-of-memory cases
 * are handled once. Pure. */
#ifndef CORE_GROW_H
#define CORE_GROW_H

#include <stddef.h>

/* Makes room for count + 1 elements of elem_size bytes in the array whose pointer is at items_ptr
 * (the address of any T * variable), doubling *cap (from 4) when it is full. Returns 0, or -1 when
 * out of memory or the size would overflow (the array and *cap are then unchanged). */
int grow_for_one(void *items_ptr, size_t *cap, size_t count, size_t elem_size);

#endif

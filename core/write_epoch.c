#include "core/write_epoch.h"

#include <stddef.h>
#include <sys/mman.h>

static uint64_t write_epoch_local;
static uint64_t *write_epoch_count = &write_epoch_local;

int write_epoch_init(void)
{
    void *p = mmap(NULL, sizeof write_epoch_local, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    write_epoch_count = p;
    return 0;
}

uint64_t write_epoch_read(void)
{
    return __atomic_load_n(write_epoch_count, __ATOMIC_ACQUIRE);
}

void write_epoch_bump(void)
{
    __atomic_add_fetch(write_epoch_count, 1, __ATOMIC_ACQ_REL);
}

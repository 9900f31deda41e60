#include "core/view_epoch.h"

#include <stddef.h>
#include <sys/mman.h>

static uint64_t view_epoch_local[VIEW_EPOCH_SLOTS];
static uint64_t *view_epoch_slots = view_epoch_local;

/* Bumps waiting for the flush after the commit; more than fit turn into one all-tools bump. */
#define VIEW_EPOCH_PENDING_MAX 32
static struct {
    int64_t ids[VIEW_EPOCH_PENDING_MAX];
    int count;
    int overflow;
} view_epoch_pending;

int view_epoch_init(void)
{
    void *p = mmap(NULL, sizeof view_epoch_local, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    view_epoch_slots = p;
    return 0;
}

/* Slot 0 is every tool's; a tool's is 1 + id modulo the rest. */
static uint64_t *view_epoch_slot(int64_t tool_id)
{
    if (tool_id <= 0)
        return &view_epoch_slots[0];
    return &view_epoch_slots[1 + (uint64_t)tool_id % (VIEW_EPOCH_SLOTS - 1)];
}

uint64_t view_epoch_read(int64_t tool_id)
{
    /* both only grow, so the sum changes whenever either does */
    return __atomic_load_n(view_epoch_slot(tool_id), __ATOMIC_ACQUIRE) +
           __atomic_load_n(view_epoch_slot(0), __ATOMIC_ACQUIRE);
}

static void view_epoch_add(int64_t tool_id)
{
    __atomic_add_fetch(view_epoch_slot(tool_id), 1, __ATOMIC_ACQ_REL);
}

void view_epoch_bump(int64_t tool_id)
{
    view_epoch_add(tool_id);
    for (int i = 0; i < view_epoch_pending.count; i++)
        if (view_epoch_pending.ids[i] == tool_id)
            return;
    if (view_epoch_pending.count < VIEW_EPOCH_PENDING_MAX)
        view_epoch_pending.ids[view_epoch_pending.count++] = tool_id;
    else
        view_epoch_pending.overflow = 1;
}

void view_epoch_flush(void)
{
    for (int i = 0; i < view_epoch_pending.count; i++)
        view_epoch_add(view_epoch_pending.ids[i]);
    if (view_epoch_pending.overflow)
        view_epoch_add(0);
    view_epoch_pending.count = 0;
    view_epoch_pending.overflow = 0;
}

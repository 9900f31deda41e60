/* core/view_epoch: the change counters every per-worker tool cache is keyed by. A bump changes the
 * tool's value at once and again at the flush after the commit; an all-tools bump changes every
 * tool's; after view_epoch_init a bump in a forked child is seen by the parent (as the master's
 * workers see each other's). */
#include <sys/wait.h>
#include <unistd.h>

#include "core/view_epoch.h"
#include "tests/support/check.h"

static void test_bump_and_flush(void)
{
    uint64_t a = view_epoch_read(7), b = view_epoch_read(8);
    view_epoch_bump(7);
    uint64_t bumped = view_epoch_read(7);
    CHECK(bumped != a);
    CHECK_INT(view_epoch_read(8), b);
    view_epoch_flush(); /* the second bump: a copy read between the first one and the commit goes too */
    CHECK(view_epoch_read(7) != bumped);
    uint64_t flushed = view_epoch_read(7);
    view_epoch_flush(); /* nothing pending: nothing moves */
    CHECK_INT(view_epoch_read(7), flushed);
}

static void test_all_tools(void)
{
    uint64_t a = view_epoch_read(11), b = view_epoch_read(12345);
    view_epoch_bump(0);
    CHECK(view_epoch_read(11) != a);
    CHECK(view_epoch_read(12345) != b);
    view_epoch_flush();
}

/* More pending bumps than the flush remembers: the flush moves every tool instead. */
static void test_pending_overflow(void)
{
    for (int64_t id = 100; id < 200; id++)
        view_epoch_bump(id);
    uint64_t first = view_epoch_read(100), last = view_epoch_read(199), other = view_epoch_read(5000);
    view_epoch_flush();
    CHECK(view_epoch_read(100) != first);
    CHECK(view_epoch_read(199) != last);
    CHECK(view_epoch_read(5000) != other);
}

static void test_shared_across_fork(void)
{
    CHECK_INT(view_epoch_init(), 0);
    uint64_t before = view_epoch_read(42);
    pid_t pid = fork();
    if (pid == 0) {
        view_epoch_bump(42);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(view_epoch_read(42) != before);
}

int main(void)
{
    RUN(test_bump_and_flush);
    RUN(test_all_tools);
    RUN(test_pending_overflow);
    RUN(test_shared_across_fork);
    return check_finish();
}

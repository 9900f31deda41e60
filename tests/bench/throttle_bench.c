/* core/throttle in-process: nanoseconds per throttle_take on one hot key (one process, then two
 * processes sharing the table and the key, as workers do) and over 10,000 keys. Prints figures. */
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/throttle.h"

#define TAKES 5000000

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per take of n takes over `keys` keys, at a fixed minute with a limit never reached. */
static double run(throttle_table *t, int keys, long n)
{
    uint64_t minute_ms = (uint64_t)29000000 * 60000 + 1000;
    double t0 = now_ns();
    long allowed = 0;
    for (long i = 0; i < n; i++)
        allowed += throttle_take(t, throttle_key(THROTTLE_KIND_API_KEY, i % keys, 0), THROTTLE_LIMIT_MAX, minute_ms, NULL);
    double ns = (now_ns() - t0) / (double)n;
    if (allowed != n)
        fprintf(stderr, "throttle_bench: %ld of %ld refused\n", n - allowed, n);
    return ns;
}

int main(void)
{
    throttle_table *t = throttle_map();
    if (!t)
        return 1;
    printf("%-44s %10s\n", "case", "ns/take");
    printf("%-44s %10.1f\n", "one key, one process", run(t, 1, 200000)); /* 200,000: under the 20-bit count */
    throttle_unmap(t);
    t = throttle_map();
    printf("%-44s %10.1f\n", "10,000 keys, one process", run(t, 10000, TAKES));
    throttle_unmap(t);
    t = throttle_map();
    double t0 = now_ns();
    pid_t child = fork();
    if (child == 0)
        _exit(run(t, 1, 200000) > 0 ? 0 : 1);
    double mine = run(t, 1, 200000);
    waitpid(child, NULL, 0);
    printf("%-44s %10.1f  (wall %.1f ms for 400,000)\n", "one key, two processes contending", mine, (now_ns() - t0) / 1e6);
    throttle_unmap(t);
    return 0;
}

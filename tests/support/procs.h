/* Process and time helpers shared by the fault tests: they watch the stack's master and its workers
 * through /proc. */
#ifndef TESTS_PROCS_H
#define TESTS_PROCS_H

#include <stddef.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in seconds. */
double procs_now(void);
/* Sleeps, resuming after signals. */
void procs_sleep(double seconds);
/* State letter and parent pid (may be NULL) from /proc/PID/stat; 0 when the process is gone. */
char procs_state(pid_t pid, pid_t *ppid);
/* Alive and not a zombie. */
int procs_alive(pid_t pid);
/* The master's live children, sorted. Reads /proc/PID/task/PID/children when the kernel has it,
 * else scans /proc for processes whose parent is the master. */
size_t procs_workers_of(pid_t master, pid_t *out, size_t max);

#endif

#include "tests/support/procs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double procs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void procs_sleep(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

char procs_state(pid_t pid, pid_t *ppid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name may contain spaces and parentheses: parse after the last ')' */
    char *close = strrchr(buf, ')');
    char state = 0;
    int parent = 0;
    if (!close || sscanf(close + 1, " %c %d", &state, &parent) != 2)
        return 0;
    if (ppid)
        *ppid = parent;
    return state;
}

int procs_alive(pid_t pid)
{
    char s = procs_state(pid, NULL);
    return s && s != 'Z' && s != 'X';
}

static int procs_cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

size_t procs_workers_of(pid_t master, pid_t *out, size_t max)
{
    size_t n = 0;
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)master, (int)master);
    FILE *f = fopen(path, "r");
    if (f) {
        int pid;
        while (n < max && fscanf(f, "%d", &pid) == 1)
            if (procs_alive(pid))
                out[n++] = pid;
        fclose(f);
    } else {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d)) && n < max) {
            char *end;
            long pid = strtol(e->d_name, &end, 10);
            if (*end || pid <= 0)
                continue;
            pid_t parent = 0;
            if (procs_alive((pid_t)pid) && procs_state((pid_t)pid, &parent) && parent == master)
                out[n++] = (pid_t)pid;
        }
        if (d)
            closedir(d);
    }
    qsort(out, n, sizeof *out, procs_cmp_pid);
    return n;
}

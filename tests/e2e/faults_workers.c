/* Worker faults under load, through real nginx. Four threads keep GET /health and an authenticated
 * GET /me going while
 *   1. one worker is killed with SIGSEGV and another with SIGKILL: the master survives, the dead
 *      workers are replaced (same count, new PIDs), the master logs each signal, only requests that
 *      were in flight in a killed worker may fail, and every request started afterwards succeeds;
 *   2. the master gets SIGHUP: every worker is replaced and not a single request fails.
 * Runs serially (RUN_SERIAL): it kills processes of the shared test stack. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/procs.h"
#include "tests/support/stack_env.h"

#define MAX_WORKERS 256
#define LOAD_THREADS 4

static pid_t g_master;
static char g_server_log[1024];
static http_user g_user;

/* ---- processes ---------------------------------------------------------------------------------- */

static int contains(const pid_t *set, size_t n, pid_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == pid)
            return 1;
    return 0;
}

/* Waits until the master has `count` live workers, none of them in `old` (when given), for up to
 * timeout seconds. Returns 1 on success and leaves the current set in out. */
static int wait_workers(size_t count, const pid_t *old, size_t old_n, double timeout, pid_t *out, size_t *out_n)
{
    double deadline = procs_now() + timeout;
    for (;;) {
        *out_n = procs_workers_of(g_master, out, MAX_WORKERS);
        int fresh = 1;
        for (size_t i = 0; old && i < *out_n; i++)
            if (contains(old, old_n, out[i]))
                fresh = 0;
        if (*out_n == count && fresh)
            return 1;
        if (procs_now() > deadline)
            return 0;
        procs_sleep(0.05);
    }
}

/* Does the process catch sig with a handler of its own (SigCgt in /proc/PID/status)? */
static int catches_signal(pid_t pid, int sig)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long long mask = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "SigCgt: %llx", &mask) == 1)
            break;
    fclose(f);
    return (mask >> (sig - 1)) & 1u;
}

/* SIGSEGV, unless the worker handles it itself: a sanitizer build's runtime catches SIGSEGV, turns
 * it into a report and exit(1), and the stack fixture then (rightly) fails on the report. A crash
 * signal nothing intercepts stands in for it there. */
static int crash_signal(pid_t pid)
{
    static const int candidates[] = {SIGSEGV, SIGABRT, SIGILL, SIGBUS, SIGFPE};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (!catches_signal(pid, candidates[i]))
            return candidates[i];
    return SIGSEGV;
}

/* How many lines of the server log contain needle, and also needle2 when it is not NULL; -1 when
 * the log cannot be read. */
static int log_count_both(const char *needle, const char *needle2)
{
    FILE *f = fopen(g_server_log, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0)
        n += strstr(line, needle) && (!needle2 || strstr(line, needle2));
    free(line);
    fclose(f);
    return n;
}

static int log_count(const char *needle)
{
    return log_count_both(needle, NULL);
}

/* The server log holds a line naming this worker and "killed by signal <sig>". */
static int log_mentions_kill(pid_t pid, int sig)
{
    char worker[32], signal_text[32];
    snprintf(worker, sizeof worker, "worker %d ", (int)pid);
    snprintf(signal_text, sizeof signal_text, "killed by signal %d", sig);
    return log_count_both(worker, signal_text) > 0;
}

/* ---- load --------------------------------------------------------------------------------------- */

typedef struct {
    double start, end;
    int status;
    char path[8];
} sample;

typedef struct {
    pthread_t thread;
    int index;
    sample *samples;
    size_t count, cap;
} loader;

static atomic_int g_stop;

static void *load_loop(void *arg)
{
    loader *l = arg;
    unsigned i = (unsigned)l->index;
    while (!atomic_load(&g_stop)) {
        int me = (i++ % 2) == 1;
        double start = procs_now();
        http_response *res = me ? http_get("/me", g_user.token) : http_get("/health", NULL);
        double end = procs_now();
        if (l->count == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 4096;
            l->samples = realloc(l->samples, l->cap * sizeof *l->samples);
        }
        sample *s = &l->samples[l->count++];
        s->start = start;
        s->end = end;
        s->status = (int)res->status;
        snprintf(s->path, sizeof s->path, "%s", me ? "me" : "health");
        http_response_free(res);
    }
    return NULL;
}

static loader g_loaders[LOAD_THREADS];

static void load_start(void)
{
    atomic_store(&g_stop, 0);
    for (int i = 0; i < LOAD_THREADS; i++) {
        memset(&g_loaders[i], 0, sizeof g_loaders[i]);
        g_loaders[i].index = i;
        pthread_create(&g_loaders[i].thread, NULL, load_loop, &g_loaders[i]);
    }
}

static void load_stop(void)
{
    atomic_store(&g_stop, 1);
    for (int i = 0; i < LOAD_THREADS; i++)
        pthread_join(g_loaders[i].thread, NULL);
}

static void load_free(void)
{
    for (int i = 0; i < LOAD_THREADS; i++) {
        free(g_loaders[i].samples);
        g_loaders[i].samples = NULL;
    }
}

typedef struct {
    size_t total, failed;
    size_t failed_after; /* failures among requests started after `after` */
    size_t total_after;
} load_stats;

static load_stats load_summary(double after, int verbose)
{
    load_stats st = {0};
    for (int t = 0; t < LOAD_THREADS; t++) {
        for (size_t i = 0; i < g_loaders[t].count; i++) {
            const sample *s = &g_loaders[t].samples[i];
            int ok = s->status == 200;
            st.total++;
            st.failed += !ok;
            if (s->start > after) {
                st.total_after++;
                st.failed_after += !ok;
            }
            if (!ok && verbose)
                fprintf(stderr, "  failed: GET /%s -> %d (started %+.3f s, took %.3f s)\n", s->path, s->status,
                        s->start - after, s->end - s->start);
        }
    }
    return st;
}

/* ---- the tests ---------------------------------------------------------------------------------- */

static void test_kill_workers_under_load(void)
{
    pid_t before[MAX_WORKERS], now[MAX_WORKERS];
    size_t n_before = procs_workers_of(g_master, before, MAX_WORKERS);
    CHECK(n_before >= 2);
    if (n_before < 2) {
        fprintf(stderr, "  need at least two workers, found %zu\n", n_before);
        return;
    }
    double crashes_before = fixture_metric("marketplace_worker_crashes_total");

    load_start();
    procs_sleep(1.0);

    /* SIGSEGV to one worker (no core file: this is on purpose), SIGKILL to another */
    pid_t segv = before[0], killed = before[n_before - 1];
    int crash = crash_signal(segv);
    if (crash != SIGSEGV)
        fprintf(stderr, "  worker %d handles SIGSEGV itself (sanitizer build?): sending %s instead\n", (int)segv,
                strsignal(crash));
    struct rlimit no_core = {0, 0};
    prlimit(segv, RLIMIT_CORE, &no_core, NULL);
    double t_segv = procs_now();
    CHECK_INT(kill(segv, crash), 0);
    procs_sleep(0.3);
    double t_kill = procs_now();
    CHECK_INT(kill(killed, SIGKILL), 0);

    /* both replaced: the same number of workers, neither of the dead among them */
    pid_t dead[2] = {segv, killed};
    size_t n_now = 0;
    int recovered = wait_workers(n_before, dead, 2, 10.0, now, &n_now);
    double t_recovered = procs_now();
    if (!recovered)
        fprintf(stderr, "  workers did not come back: %zu of %zu after 10 s\n", n_now, n_before);
    CHECK(recovered);
    fprintf(stderr, "  %zu workers again %.2f s after the SIGKILL\n", n_now, t_recovered - t_kill);

    /* keep the load on a while after recovery */
    procs_sleep(2.0);
    load_stop();

    CHECK(procs_alive(g_master));
    CHECK(!procs_alive(segv));
    CHECK(!procs_alive(killed));
    size_t fresh = 0;
    for (size_t i = 0; i < n_now; i++)
        fresh += !contains(before, n_before, now[i]);
    CHECK(fresh >= 2);

    /* Only requests in flight inside a killed worker may fail: at most one per killed worker, all
     * started before the kill that hit them; everything started afterwards succeeds. */
    load_stats all = load_summary(t_kill + 0.05, 1);
    load_stats after_recovery = load_summary(t_recovered, 0);
    fprintf(stderr, "  %zu requests, %zu failed; %zu after the SIGKILL (%zu failed), %zu after recovery (%zu failed)\n",
            all.total, all.failed, all.total_after, all.failed_after, after_recovery.total_after,
            after_recovery.failed_after);
    CHECK(all.failed <= 2);
    CHECK_INT(all.failed_after, 0);
    CHECK_INT(after_recovery.failed_after, 0);
    CHECK(after_recovery.total_after >= 20);
    /* nothing started between the SIGSEGV and the SIGKILL failed either (beyond the in-flight one) */
    CHECK(load_summary(t_segv + 0.05, 0).failed_after <= 1);
    load_free();

    /* the master logged both deaths with their signals */
    int logged_segv = 0, logged_kill = 0;
    for (int i = 0; i < 50 && !(logged_segv && logged_kill); i++) {
        logged_segv = log_mentions_kill(segv, crash);
        logged_kill = log_mentions_kill(killed, SIGKILL);
        if (!(logged_segv && logged_kill))
            procs_sleep(0.1);
    }
    if (!logged_segv)
        fprintf(stderr, "  %s has no 'worker %d ... killed by signal %d' line\n", g_server_log, (int)segv, crash);
    if (!logged_kill)
        fprintf(stderr, "  %s has no 'worker %d ... killed by signal %d' line\n", g_server_log, (int)killed, SIGKILL);
    CHECK(logged_segv);
    CHECK(logged_kill);

    /* and counted them */
    double crashes_after = fixture_metric("marketplace_worker_crashes_total");
    CHECK(crashes_before >= 0);
    CHECK(crashes_after >= crashes_before + 2);

    /* everything still answers */
    CHECK_INT(http_status_free(http_get("/me", g_user.token)), 200);
}

/* SIGHUP re-reads the config and replaces every worker without dropping a request. Three reloads
 * in a row under load: one in-flight request lost anywhere fails the test. */
static void test_sighup_under_load(void)
{
    enum { RELOADS = 3 };
    pid_t first[MAX_WORKERS], before[MAX_WORKERS], now[MAX_WORKERS];
    size_t n_first = procs_workers_of(g_master, first, MAX_WORKERS);
    CHECK(n_first >= 1);
    int reloads_before = log_count("reloaded config");

    load_start();
    procs_sleep(1.0);
    double t_first_hup = procs_now();
    for (int r = 0; r < RELOADS; r++) {
        size_t n_before = procs_workers_of(g_master, before, MAX_WORKERS);
        double t_hup = procs_now();
        CHECK_INT(kill(g_master, SIGHUP), 0);
        size_t n_now = 0;
        int replaced = wait_workers(n_first, before, n_before, 15.0, now, &n_now);
        if (!replaced) {
            fprintf(stderr, "  after SIGHUP #%d: %zu workers, expected %zu all new; still there:", r + 1, n_now,
                    n_first);
            for (size_t i = 0; i < n_now; i++)
                if (contains(before, n_before, now[i]))
                    fprintf(stderr, " %d", (int)now[i]);
            fprintf(stderr, "\n");
        }
        CHECK(replaced);
        fprintf(stderr, "  SIGHUP #%d: all %zu workers replaced in %.2f s\n", r + 1, n_now, procs_now() - t_hup);
        for (size_t i = 0; i < n_before; i++)
            CHECK(!procs_alive(before[i]));
        procs_sleep(0.7);
    }
    procs_sleep(1.0);
    load_stop();

    load_stats st = load_summary(t_first_hup, 1);
    fprintf(stderr, "  %zu requests, %zu failed (%zu started after the first SIGHUP)\n", st.total, st.failed,
            st.total_after);
    CHECK_INT(st.failed, 0);
    CHECK(st.total_after >= 50);
    load_free();

    CHECK(procs_alive(g_master));
    for (size_t i = 0; i < n_first; i++)
        CHECK(!procs_alive(first[i]));
    int reloads_after = reloads_before;
    for (int i = 0; i < 30 && reloads_after < reloads_before + RELOADS; i++) {
        reloads_after = log_count("reloaded config");
        if (reloads_after < reloads_before + RELOADS)
            procs_sleep(0.1);
    }
    CHECK(reloads_after >= reloads_before + RELOADS);

    CHECK_INT(http_status_free(http_get("/me", g_user.token)), 200);
}

int main(void)
{
    http_base_url();
    http_set_timeout_ms(10000);
    const char *master = stack_env("MKT_MASTER_PID");
    g_master = master ? (pid_t)atoi(master) : 0;
    const char *log = stack_env("MKT_SERVER_LOG");
    snprintf(g_server_log, sizeof g_server_log, "%s", log ? log : "");
    if (g_master <= 1 || !procs_alive(g_master) || !g_server_log[0]) {
        fprintf(stderr, "stack.env has no live MKT_MASTER_PID or no MKT_SERVER_LOG\n");
        return 2;
    }
    if (http_register_user(&g_user) < 0)
        return 2;
    RUN(test_kill_workers_under_load);
    RUN(test_sighup_under_load);
    return check_finish();
}

#include "fcgi/master.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "core/cluster.h"
#include "core/log.h"
#include "core/service.h"
#include "core/view_epoch.h"
#include "core/write_epoch.h"
#include "fcgi/listen.h"
#include "fcgi/scoreboard.h"
#include "fcgi/worker.h"

/* A child that dies sooner than this after its start counts towards the crash back-off. */
#define MASTER_QUICK_DEATH_MS 5000
#define MASTER_BACKOFF_MIN_MS 100
#define MASTER_BACKOFF_MAX_MS 10000

typedef struct {
    const char *config_path;
    int config_required;
    config cfg;
    listen_socket ls;
    scoreboard *sb;
    int generation;
    int target_workers;
    int quick_deaths;          /* consecutive abnormal deaths soon after start */
    uint64_t next_spawn_ms;    /* back-off: no spawns before this */
    uint64_t watchdog_interval_ms;
    uint64_t last_watchdog_ms;
    /* several app hosts: the master's own connection, only for polling the change epochs */
    db *cluster_db;
    cluster_poller *poller;
    uint64_t next_poll_ms;
    uint64_t poll_warned_ms;   /* last "poll failed" line: one per 10 s at most */
    int poll_lost;             /* a poll failed: the next good one empties the caches again */
} master;

/* While the master's tick sleeps nothing polls: short enough for cluster_poll_ms. */
#define MASTER_TICK_MS 100
#define MASTER_POLL_RETRY_MS 1000
#define MASTER_POLL_WARN_EVERY_MS 10000

static void master_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGQUIT);
    sigaddset(set, SIGHUP);
    sigprocmask(SIG_BLOCK, set, NULL);
}

static int master_free_slot(master *m)
{
    for (int i = 0; i < SCOREBOARD_SLOTS; i++)
        if (m->sb->slots[i].pid == 0)
            return i;
    return -1;
}

static int master_spawn(master *m)
{
    int index = master_free_slot(m);
    if (index < 0) {
        log_error("no free scoreboard slot; not spawning");
        return -1;
    }
    scoreboard_slot *slot = &m->sb->slots[index];
    memset(slot, 0, sizeof *slot);
    slot->generation = m->generation;
    slot->state = SLOT_STARTING;
    slot->spawned_at_ms = scoreboard_now_ms();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork: %s", strerror(errno));
        slot->state = SLOT_FREE;
        return -1;
    }
    if (pid == 0) {
        slot->pid = getpid();
        _exit(worker_run(&m->cfg, m->ls.fd, m->sb, index));
    }
    slot->pid = pid;
    __atomic_add_fetch(&m->sb->worker_starts, 1, __ATOMIC_RELAXED);
    return 0;
}

static int master_live_workers(const master *m)
{
    int n = 0;
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        const scoreboard_slot *s = &m->sb->slots[i];
        n += s->pid != 0 && s->generation == m->generation && s->state != SLOT_EXITING;
    }
    return n;
}

static int master_any_children(const master *m)
{
    for (int i = 0; i < SCOREBOARD_SLOTS; i++)
        if (m->sb->slots[i].pid != 0)
            return 1;
    return 0;
}

static void master_fill_workers(master *m)
{
    uint64_t now = scoreboard_now_ms();
    if (now < m->next_spawn_ms)
        return;
    while (master_live_workers(m) < m->target_workers)
        if (master_spawn(m) < 0)
            break;
}

/* Logs how a child ended and decides on back-off: a crash soon after start doubles the delay before
 * the next spawn, so a worker that dies at once (bad config, database schema missing) does not spin. */
static void master_record_death(master *m, scoreboard_slot *slot, int status)
{
    uint64_t lived = scoreboard_now_ms() - slot->spawned_at_ms;
    int abnormal = 0;
    if (WIFSIGNALED(status)) {
        abnormal = 1;
        log_warn("worker %d (generation %d) killed by signal %d (%s) after %llu requests", (int)slot->pid,
                 slot->generation, WTERMSIG(status), strsignal(WTERMSIG(status)), (unsigned long long)slot->requests);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        abnormal = 1;
        log_warn("worker %d exited with status %d", (int)slot->pid, WEXITSTATUS(status));
    } else {
        log_debug("worker %d exited after %llu requests", (int)slot->pid, (unsigned long long)slot->requests);
    }
    if (!abnormal)
        return;
    __atomic_add_fetch(&m->sb->worker_crashes, 1, __ATOMIC_RELAXED);
    if (lived >= MASTER_QUICK_DEATH_MS) {
        m->quick_deaths = 0;
        return;
    }
    m->quick_deaths++;
    uint64_t delay = MASTER_BACKOFF_MIN_MS;
    for (int i = 1; i < m->quick_deaths && delay < MASTER_BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > MASTER_BACKOFF_MAX_MS)
        delay = MASTER_BACKOFF_MAX_MS;
    m->next_spawn_ms = scoreboard_now_ms() + delay;
    if (m->quick_deaths > 1)
        log_warn("workers keep dying; next spawn in %llu ms", (unsigned long long)delay);
}

static void master_reap(master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
            scoreboard_slot *slot = &m->sb->slots[i];
            if (slot->pid != pid)
                continue;
            master_record_death(m, slot, status);
            memset(slot, 0, sizeof *slot);
            break;
        }
    }
}

/* Like php-fpm's request_terminate_timeout: the last line of defence against a request that never
 * returns (a pattern match backtracking in C, where the Lua hook cannot reach). */
static void master_kill_stuck(master *m)
{
    if (m->cfg.request_timeout <= 0)
        return;
    uint64_t now = scoreboard_now_ms();
    uint64_t limit = (uint64_t)m->cfg.request_timeout * 1000u;
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        scoreboard_slot *slot = &m->sb->slots[i];
        uint64_t started = __atomic_load_n(&slot->request_started_ms, __ATOMIC_ACQUIRE);
        if (slot->pid == 0 || started == 0 || now - started <= limit)
            continue;
        log_error("worker %d stuck in one request for %llu ms; killing it", (int)slot->pid,
                  (unsigned long long)(now - started));
        __atomic_add_fetch(&m->sb->workers_killed_timeout, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&slot->request_started_ms, 0, __ATOMIC_RELEASE);
        kill(slot->pid, SIGKILL);
    }
}

static void master_signal_generation(master *m, int generation_below, int sig)
{
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        scoreboard_slot *slot = &m->sb->slots[i];
        if (slot->pid != 0 && slot->generation < generation_below) {
            if (sig == SIGTERM)
                slot->state = SLOT_EXITING;
            kill(slot->pid, sig);
        }
    }
}

/* SIGHUP: the new config applies to new workers; each old worker is told to leave only after its
 * replacement exists, and leaves after the request in hand, so no request is dropped. */
static void master_reload(master *m)
{
    config fresh;
    mkt_error err = MKT_ERROR_INIT;
    sd_notify(0, "RELOADING=1");
    if (config_load(&fresh, m->config_path, m->config_required, &err) < 0) {
        log_error("reload failed, keeping the running config: %s", err.message);
        error_clear(&err);
        config_free(&fresh);
        sd_notify(0, "READY=1");
        return;
    }
    if (strcmp(fresh.listen, m->cfg.listen) != 0)
        log_warn("listen changed to %s; a restart is needed for that, keeping %s", fresh.listen, m->cfg.listen);
    free(fresh.listen);
    fresh.listen = strdup(m->cfg.listen);
    config_free(&m->cfg);
    m->cfg = fresh;
    service_master_load(&m->cfg); /* e.g. keygen + SIGHUP adds a signing key */
    m->generation++;
    m->target_workers = config_worker_count(&m->cfg);
    m->quick_deaths = 0;
    m->next_spawn_ms = 0;
    int old_generation = m->generation;
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        scoreboard_slot *slot = &m->sb->slots[i];
        if (slot->pid == 0 || slot->generation >= old_generation || slot->state == SLOT_EXITING)
            continue;
        if (master_live_workers(m) < m->target_workers)
            master_spawn(m);
        slot->state = SLOT_EXITING;
        kill(slot->pid, SIGTERM);
    }
    master_fill_workers(m);
    log_info("reloaded config; %d workers of generation %d", m->target_workers, m->generation);
    sd_notify(0, "READY=1");
}

static void master_watchdog(master *m)
{
    if (!m->watchdog_interval_ms)
        return;
    uint64_t now = scoreboard_now_ms();
    if (now - m->last_watchdog_ms >= m->watchdog_interval_ms) {
        sd_notify(0, "WATCHDOG=1");
        m->last_watchdog_ms = now;
    }
}

/* ---- change epochs of other hosts (core/cluster.h) ---- */

/* Which counter of this host's shared memory each channel moves. A channel without a counter here
 * (today "tool": nothing in this server caches a tool across requests without checking its
 * version) is only counted. (NULL, -1) means "everything may have changed". */
static void master_cluster_apply(void *ctx, const char *channel, int64_t item)
{
    master *m = ctx;
    __atomic_add_fetch(&m->sb->cluster_changes, 1, __ATOMIC_RELAXED);
    if (!channel || strcmp(channel, "auth") == 0)
        __atomic_add_fetch(&m->sb->auth_epoch, 1, __ATOMIC_ACQ_REL);
    if (!channel || strcmp(channel, "tool") == 0) {
        /* another host changed the tool (already committed): every worker's cached copy goes */
        view_epoch_bump(channel ? item : 0);
        view_epoch_flush();
    }
}

static void master_cluster_failed(master *m, mkt_error *err)
{
    __atomic_add_fetch(&m->sb->cluster_poll_failures, 1, __ATOMIC_RELAXED);
    uint64_t now = scoreboard_now_ms();
    if (!m->poll_warned_ms || now - m->poll_warned_ms >= MASTER_POLL_WARN_EVERY_MS) {
        log_warn("cluster: polling the change epochs failed: %s", err->message ? err->message : "?");
        m->poll_warned_ms = now;
    }
    error_clear(err);
    /* the next poll starts afresh */
    cluster_poller_free(m->poller);
    m->poller = NULL;
    m->poll_lost = 1;
    m->next_poll_ms = now + MASTER_POLL_RETRY_MS;
}

/* Polls with the database's own timeouts (db_timeout): a hung MariaDB delays the master's other
 * duties by that much at most, and the workers are stuck on it as well. */
static void master_cluster_poll(master *m)
{
    if (m->cfg.cluster_poll_ms <= 0 || scoreboard_now_ms() < m->next_poll_ms)
        return;
    m->next_poll_ms = scoreboard_now_ms() + (uint64_t)m->cfg.cluster_poll_ms;
    mkt_error err = MKT_ERROR_INIT;
    if (!m->cluster_db && !(m->cluster_db = db_open(&m->cfg, &err))) {
        master_cluster_failed(m, &err);
        return;
    }
    if (!m->poller && !(m->poller = cluster_poller_new())) {
        log_error("cluster: out of memory");
        return;
    }
    if (cluster_poll(m->cluster_db, m->poller, master_cluster_apply, m, &err) < 0) {
        master_cluster_failed(m, &err);
        return;
    }
    /* what changed while polls failed is unknown: once polling works again, assume everything did */
    if (m->poll_lost)
        master_cluster_apply(m, NULL, -1);
    m->poll_lost = 0;
}

static void master_cluster_close(master *m)
{
    cluster_poller_free(m->poller);
    m->poller = NULL;
    db_close(m->cluster_db);
    m->cluster_db = NULL;
}

static void master_shutdown(master *m, const sigset_t *set)
{
    sd_notify(0, "STOPPING=1");
    log_info("shutting down: draining workers (up to %lld s)", (long long)m->cfg.shutdown_timeout);
    master_signal_generation(m, m->generation + 1, SIGTERM);
    uint64_t deadline = scoreboard_now_ms() + (uint64_t)m->cfg.shutdown_timeout * 1000u;
    while (master_any_children(m) && scoreboard_now_ms() < deadline) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        siginfo_t info;
        sigtimedwait(set, &info, &tick);
        master_reap(m);
        master_watchdog(m);
    }
    if (master_any_children(m)) {
        log_warn("workers still busy after shutdown_timeout; killing them");
        master_signal_generation(m, m->generation + 1, SIGKILL);
        while (master_any_children(m) && waitpid(-1, NULL, 0) > 0)
            master_reap(m);
        for (int i = 0; i < SCOREBOARD_SLOTS; i++)
            m->sb->slots[i].pid = 0;
    }
}

int master_run(const char *config_path, int config_required, config *cfg)
{
    master m = {.config_path = config_path, .config_required = config_required, .cfg = *cfg};
    mkt_error err = MKT_ERROR_INIT;
    if (listen_open(&m.ls, &m.cfg, &err) < 0) {
        log_error("%s", err.message);
        error_clear(&err);
        config_free(&m.cfg);
        return 1;
    }
    m.sb = scoreboard_create();
    if (!m.sb) {
        log_error("cannot map the scoreboard: %s", strerror(errno));
        listen_close(&m.ls);
        config_free(&m.cfg);
        return 1;
    }
    if (view_epoch_init() < 0)
        log_warn("cannot map the cache change counters (%s): workers' caches would go stale", strerror(errno));
    if (write_epoch_init() < 0)
        log_warn("cannot map the write count (%s): a search may miss a write made through another worker for 0.1 s",
                 strerror(errno));
    sigset_t set;
    master_block_signals(&set);
    uint64_t watchdog_usec = 0;
    if (sd_watchdog_enabled(0, &watchdog_usec) > 0)
        m.watchdog_interval_ms = watchdog_usec / 2000u;
    service_master_load(&m.cfg); /* before the first fork: workers inherit what it loads */
    m.target_workers = config_worker_count(&m.cfg);
    master_fill_workers(&m);
    log_info("master %d listening on %s with %d workers", (int)getpid(),
             m.ls.from_systemd ? "the systemd socket" : m.cfg.listen, m.target_workers);
    sd_notifyf(0, "READY=1\nMAINPID=%d\nSTATUS=%d workers", (int)getpid(), m.target_workers);

    for (;;) {
        struct timespec tick = {0, MASTER_TICK_MS * 1000 * 1000};
        siginfo_t info;
        int sig = sigtimedwait(&set, &info, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
            break;
        if (sig == SIGHUP)
            master_reload(&m);
        master_reap(&m);
        master_kill_stuck(&m);
        master_fill_workers(&m);
        master_watchdog(&m);
        master_cluster_poll(&m);
    }
    master_shutdown(&m, &set);
    master_cluster_close(&m);
    listen_close(&m.ls);
    scoreboard_destroy(m.sb);
    service_master_exit();
    config_free(&m.cfg);
    log_info("master stopped");
    return 0;
}

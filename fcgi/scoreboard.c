#include "fcgi/scoreboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

const uint64_t scoreboard_bucket_bounds_us[SCOREBOARD_BUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 1000000,
};

scoreboard *scoreboard_create(void)
{
    void *p = mmap(NULL, sizeof(scoreboard), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void scoreboard_destroy(scoreboard *sb)
{
    if (sb)
        munmap(sb, sizeof *sb);
}

uint64_t scoreboard_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void scoreboard_set_state(scoreboard_slot *slot, slot_state state)
{
    __atomic_store_n(&slot->state, (int)state, __ATOMIC_RELEASE);
}

void scoreboard_request_begin(scoreboard_slot *slot)
{
    __atomic_store_n(&slot->request_started_ms, scoreboard_now_ms(), __ATOMIC_RELEASE);
    scoreboard_set_state(slot, SLOT_BUSY);
}

void scoreboard_request_end(scoreboard *sb, scoreboard_slot *slot, int status, uint64_t duration_us)
{
    int cls = status / 100;
    if (cls < 1 || cls > 5)
        cls = 5;
    __atomic_add_fetch(&sb->requests_by_class[cls], 1, __ATOMIC_RELAXED);
    int bucket = 0;
    while (bucket < SCOREBOARD_BUCKETS - 1 && duration_us > scoreboard_bucket_bounds_us[bucket])
        bucket++;
    __atomic_add_fetch(&sb->latency_buckets[bucket], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&sb->latency_sum_us, duration_us, __ATOMIC_RELAXED);
    __atomic_add_fetch(&slot->requests, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->request_started_ms, 0, __ATOMIC_RELEASE);
    scoreboard_set_state(slot, SLOT_IDLE);
}

static uint64_t scoreboard_load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

char *scoreboard_render(const scoreboard *sb)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out)
        return NULL;
    fprintf(out, "# HELP marketplace_requests_total Requests answered, by status class.\n"
                 "# TYPE marketplace_requests_total counter\n");
    for (int cls = 1; cls <= 5; cls++)
        fprintf(out, "marketplace_requests_total{class=\"%dxx\"} %llu\n", cls,
                (unsigned long long)scoreboard_load(&sb->requests_by_class[cls]));
    fprintf(out, "# HELP marketplace_request_duration_seconds Time spent in the worker per request.\n"
                 "# TYPE marketplace_request_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (int b = 0; b < SCOREBOARD_BUCKETS; b++) {
        cumulative += scoreboard_load(&sb->latency_buckets[b]);
        if (b < SCOREBOARD_BUCKETS - 1)
            fprintf(out, "marketplace_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                    (double)scoreboard_bucket_bounds_us[b] / 1e6, (unsigned long long)cumulative);
        else
            fprintf(out, "marketplace_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                    (unsigned long long)cumulative);
    }
    fprintf(out, "marketplace_request_duration_seconds_sum %.6f\n",
            (double)scoreboard_load(&sb->latency_sum_us) / 1e6);
    fprintf(out, "marketplace_request_duration_seconds_count %llu\n", (unsigned long long)cumulative);
    int idle = 0, busy = 0;
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        int state = __atomic_load_n(&sb->slots[i].state, __ATOMIC_RELAXED);
        idle += state == SLOT_IDLE;
        busy += state == SLOT_BUSY;
    }
    fprintf(out, "# HELP marketplace_workers Worker processes by state.\n# TYPE marketplace_workers gauge\n"
                 "marketplace_workers{state=\"idle\"} %d\nmarketplace_workers{state=\"busy\"} %d\n",
            idle, busy);
    fprintf(out, "# HELP marketplace_worker_starts_total Workers forked.\n# TYPE marketplace_worker_starts_total counter\n"
                 "marketplace_worker_starts_total %llu\n"
                 "# HELP marketplace_worker_crashes_total Workers that died abnormally.\n"
                 "# TYPE marketplace_worker_crashes_total counter\nmarketplace_worker_crashes_total %llu\n"
                 "# HELP marketplace_worker_timeouts_total Workers killed past request_timeout.\n"
                 "# TYPE marketplace_worker_timeouts_total counter\nmarketplace_worker_timeouts_total %llu\n",
            (unsigned long long)scoreboard_load(&sb->worker_starts),
            (unsigned long long)scoreboard_load(&sb->worker_crashes),
            (unsigned long long)scoreboard_load(&sb->workers_killed_timeout));
    fprintf(out, "# HELP marketplace_cluster_changes_total Change epochs of any host applied to this host's memory.\n"
                 "# TYPE marketplace_cluster_changes_total counter\nmarketplace_cluster_changes_total %llu\n"
                 "# HELP marketplace_cluster_poll_failures_total Polls of the change epochs that failed.\n"
                 "# TYPE marketplace_cluster_poll_failures_total counter\nmarketplace_cluster_poll_failures_total %llu\n",
            (unsigned long long)scoreboard_load(&sb->cluster_changes),
            (unsigned long long)scoreboard_load(&sb->cluster_poll_failures));
    fprintf(out, "# HELP marketplace_replica_reads_total Requests answered from the read replica.\n"
                 "# TYPE marketplace_replica_reads_total counter\nmarketplace_replica_reads_total %llu\n",
            (unsigned long long)scoreboard_load(&sb->replica_reads));
    fclose(out);
    return text;
}

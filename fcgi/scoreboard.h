/* Shared-memory scoreboard: the master maps it before forking; each worker owns one slot and
 * updates it without locks (single writer per slot, relaxed atomics); the master reads it to kill
 * stuck workers, and /metrics reads all of it. */
#ifndef FCGI_SCOREBOARD_H
#define FCGI_SCOREBOARD_H

#include <stdint.h>
#include <sys/types.h>

#define SCOREBOARD_SLOTS 512
/* Latency histogram upper bounds in microseconds (the last bucket is +Inf). */
#define SCOREBOARD_BUCKETS 12
/* Read-your-writes buckets of user ids (fcgi/replica.h) */
#define SCOREBOARD_RYW_BUCKETS 4096
extern const uint64_t scoreboard_bucket_bounds_us[SCOREBOARD_BUCKETS - 1];

typedef enum { SLOT_FREE = 0, SLOT_STARTING, SLOT_IDLE, SLOT_BUSY, SLOT_EXITING } slot_state;

typedef struct {
    pid_t pid;
    int generation;
    int state;                    /* slot_state */
    uint64_t request_started_ms;  /* CLOCK_MONOTONIC ms when the current request began; 0 when idle */
    uint64_t requests;            /* served by this process */
    uint64_t spawned_at_ms;
} scoreboard_slot;

typedef struct {
    uint64_t requests_by_class[6];   /* index status/100 (1xx..5xx); 0 unused */
    uint64_t latency_buckets[SCOREBOARD_BUCKETS];
    uint64_t latency_sum_us;
    uint64_t worker_starts;
    uint64_t worker_crashes;         /* died by a signal or a non-zero exit */
    uint64_t workers_killed_timeout;
    uint64_t auth_epoch;             /* bumped on logout and role changes: empties every auth cache */
    /* several app hosts (core/cluster.h): change epochs the master's poll applied, polls that failed */
    uint64_t cluster_changes;
    uint64_t cluster_poll_failures;
    /* read replica (fcgi/replica.h): each bucket's last state-changing request, CLOCK_MONOTONIC s + 1;
     * reads served by the replica */
    uint32_t replica_recent_write[SCOREBOARD_RYW_BUCKETS];
    uint64_t replica_reads;
    scoreboard_slot slots[SCOREBOARD_SLOTS];
} scoreboard;

/* Maps a zeroed shared anonymous region; NULL on failure. */
scoreboard *scoreboard_create(void);
void scoreboard_destroy(scoreboard *sb);

uint64_t scoreboard_now_ms(void);
/* Worker side. */
void scoreboard_request_begin(scoreboard_slot *slot);
void scoreboard_request_end(scoreboard *sb, scoreboard_slot *slot, int status, uint64_t duration_us);
void scoreboard_set_state(scoreboard_slot *slot, slot_state state);

/* Prometheus text exposition of the whole board; malloc'd. */
char *scoreboard_render(const scoreboard *sb);

#endif

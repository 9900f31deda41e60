/* Per-minute request throttling in shared memory: "at most limit requests a minute for this key",
 * counted across every worker of a host. Not to be confused with core/rate_limit, the database-backed
 * per-account action limiter (reviews an hour), which is exact and transactional; this one is cheap
 * (no database, no lock, a few atomic operations a request) and approximate by design.
 *
 * Counting: a sliding-window counter. Each key has the count of the current wall-clock minute and of
 * the previous one; a request is allowed while
 *     previous × (share of the previous minute still inside the last 60 s) + current < limit,
 * which is within a few percent of a true sliding window and needs two counters, not a log of times.
 * A refusal is not counted, so a client hammering past its limit gets its allowance back on time.
 *
 * Memory: one table of THROTTLE_SLOTS slots mapped MAP_SHARED | MAP_ANONYMOUS before the master forks
 * (throttle_shared_map, called by the api_key service's master_load hook), so every worker inherits
 * the same pages, as with fcgi/scoreboard.c. Bounded: a key is placed by hash with THROTTLE_PROBES
 * linear probes; when all of them hold keys seen in the last two minutes, a slot whose counts no
 * longer matter cannot be found and the request is allowed (fail open, counted in `full`): the table
 * holds 16,384 keys active within two minutes, far more than one host serves.
 *
 * Concurrency: lock-free. A slot is claimed by compare-and-swap on its key (0 = empty); its state
 * (minute, current, previous) is packed into one 64-bit word updated by compare-and-swap, so a worker
 * killed at any instruction leaves no lock behind and parallel requests never lose a count. Taking
 * over a stale slot for a new key races, at worst, with a request of the old key that read the slot
 * before: the new key may start with one count too many. Pure: libc only. */
#ifndef CORE_THROTTLE_H
#define CORE_THROTTLE_H

#include <stdint.h>

#include "core/error.h"

#define THROTTLE_SLOTS 16384 /* a power of two */
#define THROTTLE_PROBES 16
#define THROTTLE_LIMIT_MAX 1000000 /* counts are 20 bits: limits above this are refused by the config */

typedef struct {
    uint64_t key;   /* 0 = empty */
    uint64_t state; /* minute (24 bits) | current count (20) | previous count (20) */
} throttle_slot;

typedef struct {
    throttle_slot slots[THROTTLE_SLOTS];
    uint64_t full; /* requests allowed because no slot could be found */
} throttle_table;

/* A key for the table from a kind (THROTTLE_KIND_*) and up to two ids; never 0. */
enum { THROTTLE_KIND_API_KEY = 1, THROTTLE_KIND_PLAN = 2 };
uint64_t throttle_key(unsigned kind, int64_t a, int64_t b);

/* One more request for key at now_ms (wall clock, ms since the epoch) under limit a minute.
 * 1: allowed and counted. 0: refused (not counted), *retry_after_s the seconds (>= 1) until one more
 * would be allowed. limit <= 0 means no limit (1, nothing counted). */
int throttle_take(throttle_table *t, uint64_t key, int64_t limit, uint64_t now_ms, long *retry_after_s);

/* Maps a zeroed shared table; NULL on failure. */
throttle_table *throttle_map(void);
void throttle_unmap(throttle_table *t);

/* The process's table: the one throttle_shared_map mapped (in the master, before fork: the workers
 * share it), else one mapped on first use for this process alone (a CLI command, a test). NULL only
 * when mmap fails. */
void throttle_shared_map(void);
throttle_table *throttle_shared(void);

/* throttle_take on the process's table now: 0 allowed, -1 with ERROR_RATE_LIMITED (retry_after set,
 * the message naming what is limited, e.g. "API key") when over limit. When the table cannot be
 * mapped the request is allowed: throttling protects capacity, it never decides access. */
int throttle_check(uint64_t key, int64_t limit, const char *what, mkt_error *err);

#endif

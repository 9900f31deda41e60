#include "core/throttle.h"

#include <stddef.h>
#include <sys/mman.h>
#include <time.h>

#define THROTTLE_MINUTE_MS 60000u
#define THROTTLE_MINUTE_BITS 24
#define THROTTLE_COUNT_BITS 20
#define THROTTLE_MINUTE_MASK ((1u << THROTTLE_MINUTE_BITS) - 1)
#define THROTTLE_COUNT_MASK ((1u << THROTTLE_COUNT_BITS) - 1)

typedef struct {
    uint32_t minute; /* minute number modulo 2^24: only equality and "one before" are ever asked */
    uint32_t current, previous;
} throttle_state;

static uint64_t throttle_pack(throttle_state s)
{
    return (uint64_t)(s.minute & THROTTLE_MINUTE_MASK) |
           (uint64_t)(s.current & THROTTLE_COUNT_MASK) << THROTTLE_MINUTE_BITS |
           (uint64_t)(s.previous & THROTTLE_COUNT_MASK) << (THROTTLE_MINUTE_BITS + THROTTLE_COUNT_BITS);
}

static throttle_state throttle_unpack(uint64_t word)
{
    return (throttle_state){.minute = (uint32_t)(word & THROTTLE_MINUTE_MASK),
                            .current = (uint32_t)(word >> THROTTLE_MINUTE_BITS) & THROTTLE_COUNT_MASK,
                            .previous = (uint32_t)(word >> (THROTTLE_MINUTE_BITS + THROTTLE_COUNT_BITS)) &
                                        THROTTLE_COUNT_MASK};
}

/* The state as seen in minute: counts of older minutes shift out. */
static throttle_state throttle_at(throttle_state s, uint32_t minute)
{
    if (s.minute == minute)
        return s;
    uint32_t prior = (minute - 1) & THROTTLE_MINUTE_MASK;
    return (throttle_state){.minute = minute, .current = 0, .previous = s.minute == prior ? s.current : 0};
}

/* splitmix64's finaliser: spreads ids that differ in a few low bits over the whole table. */
static uint64_t throttle_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

uint64_t throttle_key(unsigned kind, int64_t a, int64_t b)
{
    uint64_t k = throttle_mix(throttle_mix((uint64_t)kind << 56 ^ (uint64_t)a) ^ (uint64_t)b);
    return k ? k : 1;
}

/* Is the slot's state too old to matter in minute (neither this minute nor the one before)? */
static int throttle_stale(const throttle_slot *s, uint32_t minute)
{
    throttle_state st = throttle_unpack(__atomic_load_n(&s->state, __ATOMIC_ACQUIRE));
    return st.minute != minute && st.minute != ((minute - 1) & THROTTLE_MINUTE_MASK);
}

/* The slot of key: its own, an empty one claimed, or a stale one taken over; NULL when the probes
 * find none of these. */
static throttle_slot *throttle_slot_for(throttle_table *t, uint64_t key, uint32_t minute)
{
    size_t home = (size_t)(throttle_mix(key) & (THROTTLE_SLOTS - 1));
    for (size_t i = 0; i < THROTTLE_PROBES; i++) {
        throttle_slot *s = &t->slots[(home + i) & (THROTTLE_SLOTS - 1)];
        uint64_t seen = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
        if (seen == key)
            return s;
        if (seen == 0) {
            if (__atomic_compare_exchange_n(&s->key, &seen, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
                seen == key)
                return s;
        }
    }
    for (size_t i = 0; i < THROTTLE_PROBES; i++) {
        throttle_slot *s = &t->slots[(home + i) & (THROTTLE_SLOTS - 1)];
        uint64_t seen = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
        if (seen != key && throttle_stale(s, minute) &&
            __atomic_compare_exchange_n(&s->key, &seen, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return s; /* its counts are from before the last minute: throttle_at reads them as zero */
        if (seen == key)
            return s;
    }
    return NULL;
}

/* Whether one more fits: previous × (60 s − elapsed) / 60 s + current < limit, in integers. */
static int throttle_fits(throttle_state s, uint64_t elapsed_ms, int64_t limit)
{
    return (uint64_t)s.previous * (THROTTLE_MINUTE_MS - elapsed_ms) + (uint64_t)s.current * THROTTLE_MINUTE_MS <
           (uint64_t)limit * THROTTLE_MINUTE_MS;
}

/* Milliseconds from elapsed_ms into the minute until one more fits, when it does not now. */
static uint64_t throttle_wait_ms(throttle_state s, uint64_t elapsed_ms, int64_t limit)
{
    uint64_t lim = (uint64_t)limit;
    if (s.current < lim) {
        /* this minute: the previous one's weight must fall enough */
        uint64_t need = THROTTLE_MINUTE_MS - (lim - s.current) * THROTTLE_MINUTE_MS / s.previous;
        return need >= elapsed_ms ? need - elapsed_ms + 1 : 1;
    }
    /* next minute, when this one's count has become the weighted previous */
    uint64_t need = THROTTLE_MINUTE_MS - lim * THROTTLE_MINUTE_MS / s.current;
    return THROTTLE_MINUTE_MS - elapsed_ms + need + 1;
}

int throttle_take(throttle_table *t, uint64_t key, int64_t limit, uint64_t now_ms, long *retry_after_s)
{
    if (limit <= 0 || !t)
        return 1;
    if (limit > THROTTLE_LIMIT_MAX)
        limit = THROTTLE_LIMIT_MAX;
    uint32_t minute = (uint32_t)(now_ms / THROTTLE_MINUTE_MS) & THROTTLE_MINUTE_MASK;
    uint64_t elapsed = now_ms % THROTTLE_MINUTE_MS;
    throttle_slot *slot = throttle_slot_for(t, key, minute);
    if (!slot) {
        __atomic_add_fetch(&t->full, 1, __ATOMIC_RELAXED);
        return 1;
    }
    uint64_t old = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
    for (;;) {
        throttle_state s = throttle_at(throttle_unpack(old), minute);
        if (!throttle_fits(s, elapsed, limit)) {
            if (retry_after_s)
                *retry_after_s = (long)((throttle_wait_ms(s, elapsed, limit) + 999) / 1000);
            return 0;
        }
        s.current++;
        if (__atomic_compare_exchange_n(&slot->state, &old, throttle_pack(s), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return 1;
    }
}

throttle_table *throttle_map(void)
{
    void *p = mmap(NULL, sizeof(throttle_table), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void throttle_unmap(throttle_table *t)
{
    if (t)
        munmap(t, sizeof *t);
}

static throttle_table *throttle_process_table;

void throttle_shared_map(void)
{
    if (!throttle_process_table)
        throttle_process_table = throttle_map(); /* once: a reload keeps the counts the workers share */
}

throttle_table *throttle_shared(void)
{
    throttle_shared_map();
    return throttle_process_table;
}

int throttle_check(uint64_t key, int64_t limit, const char *what, mkt_error *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    long retry = 1;
    if (throttle_take(throttle_shared(), key, limit, now_ms, &retry))
        return 0;
    return error_set_rate_limited(err, retry, "over the %s's limit of %lld requests a minute", what, (long long)limit);
}

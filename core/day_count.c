#include "core/day_count.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

static uint64_t day_count_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int day_count_flush(day_count *c, db *db)
{
    int written = 0;
    size_t kept = 0;
    for (size_t i = 0; i < c->used; i++) {
        day_count_pending *p = &c->pending[i];
        mkt_error err = MKT_ERROR_INIT;
        if (db && c->write(db, p->tool_id, p->day, p->count, &err) == 0) {
            written += (int)p->count;
        } else {
            /* kept for the next write-back: the database may be back by then */
            log_warn("tool %" PRId64 ": %" PRId64 " %s not written yet: %s", p->tool_id, p->count, c->what,
                     err.message ? err.message : "no database");
            c->pending[kept++] = *p;
        }
        error_clear(&err);
    }
    c->used = kept;
    c->last_flush_ms = day_count_now_ms();
    return written;
}

void day_count_add(day_count *c, db *db, int64_t tool_id)
{
    /* a request answered from the read replica holds a connection that cannot write: its counts wait
     * for the worker's hook, which writes them back on the primary (sw->db) */
    if (db_is_replica(db))
        db = NULL;
    char day[11];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    size_t i = 0;
    while (i < c->used && !(c->pending[i].tool_id == tool_id && strcmp(c->pending[i].day, day) == 0))
        i++;
    if (i == c->used) {
        if (i == DAY_COUNT_PENDING_MAX && db) {
            day_count_flush(c, db);
            i = c->used;
        }
        if (i == DAY_COUNT_PENDING_MAX)
            return; /* still full: the database is down; this count is dropped */
        c->pending[i] = (day_count_pending){.tool_id = tool_id};
        memcpy(c->pending[i].day, day, sizeof day);
        c->used++;
    }
    c->pending[i].count++;
    if (db && day_count_now_ms() - c->last_flush_ms >= c->flush_ms)
        day_count_flush(c, db);
}

void day_count_flush_hook(day_count *c, service_worker *sw)
{
    if (c->used == 0)
        return;
    mkt_error err = MKT_ERROR_INIT;
    day_count_flush(c, sw->db(sw, &err));
    error_clear(&err);
}

void day_count_due_hook(day_count *c, service_worker *sw)
{
    if (c->used > 0 && day_count_now_ms() - c->last_flush_ms >= c->flush_ms)
        day_count_flush_hook(c, sw);
}

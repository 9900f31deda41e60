#include "core/cluster.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

/* ---- change epochs ---------------------------------------------------------------------------- */

typedef struct {
    char channel[33];
    int64_t item;
    int64_t epoch;
} cluster_seen;

struct cluster_poller {
    int primed;            /* a first poll has learnt where things stand */
    char since[32];        /* changed_at from which the next poll reads (the database's clock) */
    cluster_seen *seen;    /* the last poll's rows, ordered by (channel, item) */
    size_t count;
};

cluster_poller *cluster_poller_new(void)
{
    return calloc(1, sizeof(cluster_poller));
}

void cluster_poller_free(cluster_poller *p)
{
    if (!p)
        return;
    free(p->seen);
    free(p);
}

static int cluster_seen_cmp(const char *channel, int64_t item, const cluster_seen *s)
{
    int c = strcmp(channel, s->channel);
    if (c)
        return c;
    return item < s->item ? -1 : item > s->item;
}

/* The epoch the previous poll saw for (channel, item), or -1. */
static int64_t cluster_seen_epoch(const cluster_poller *p, const char *channel, int64_t item)
{
    size_t lo = 0, hi = p->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cluster_seen_cmp(channel, item, &p->seen[mid]);
        if (c == 0)
            return p->seen[mid].epoch;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* Where the poll after this one starts: this poll's clock less the margin, read BEFORE the rows so
 * that nothing committed between the two reads is skipped. */
static int cluster_poll_clock(db *db, char *out, size_t size, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT UTC_TIMESTAMP(6) - INTERVAL ? SECOND", DB_PARAMS(db_int(CLUSTER_POLL_MARGIN_S)), &rows,
                 err) < 0)
        return -1;
    snprintf(out, size, "%s", rows.row_count ? db_rows_text(&rows, 0, 0) : "");
    db_rows_free(&rows);
    return 0;
}

/* Compares rows with what the previous poll saw, applies what moved and keeps rows as the new view. */
static int cluster_poll_apply(cluster_poller *p, const db_rows *rows, cluster_apply_fn apply, void *ctx)
{
    cluster_seen *fresh = rows->row_count ? calloc(rows->row_count, sizeof *fresh) : NULL;
    if (rows->row_count && !fresh)
        return -1;
    enum { PCOL_CHANNEL, PCOL_ITEM, PCOL_EPOCH };
    int applied = 0;
    for (size_t r = 0; r < rows->row_count; r++) {
        cluster_seen *s = &fresh[r];
        snprintf(s->channel, sizeof s->channel, "%s", db_rows_text(rows, r, PCOL_CHANNEL));
        s->item = db_rows_int(rows, r, PCOL_ITEM);
        s->epoch = db_rows_int(rows, r, PCOL_EPOCH);
        if (p->primed && cluster_seen_epoch(p, s->channel, s->item) != s->epoch) {
            apply(ctx, s->channel, s->item);
            applied++;
        }
    }
    if (p->primed && rows->row_count >= CLUSTER_POLL_ROWS) {
        apply(ctx, NULL, -1);
        applied++;
    }
    free(p->seen);
    p->seen = fresh;
    p->count = rows->row_count;
    return applied;
}

int cluster_poll(db *db, cluster_poller *p, cluster_apply_fn apply, void *ctx, mkt_error *err)
{
    char next[32];
    if (cluster_poll_clock(db, next, sizeof next, err) < 0)
        return -1;
    if (!p->primed)
        snprintf(p->since, sizeof p->since, "%s", next);
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT channel, item, epoch FROM cluster_epochs WHERE changed_at >= ?"
                 " ORDER BY channel, item LIMIT ?",
                 DB_PARAMS(db_text(p->since), db_int(CLUSTER_POLL_ROWS)), &rows, err) < 0)
        return -1;
    int applied = cluster_poll_apply(p, &rows, apply, ctx);
    db_rows_free(&rows);
    if (applied < 0)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    snprintf(p->since, sizeof p->since, "%s", next);
    p->primed = 1;
    return applied;
}

int cluster_bump(db *db, const char *channel, int64_t item, mkt_error *err)
{
    return db_exec(db,
                   "INSERT INTO cluster_epochs (channel, item, changed_at) VALUES (?, ?, UTC_TIMESTAMP(6))"
                   " ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6)",
                   DB_PARAMS(db_text(channel), db_int(item)), NULL, err);
}

/* ---- once-only jobs ---------------------------------------------------------------------------- */

void cluster_holder(const config *cfg, char *out, size_t size)
{
    char host[64] = "";
    if (cfg && cfg->host_id && *cfg->host_id)
        snprintf(host, sizeof host, "%s", cfg->host_id);
    else if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    snprintf(out, size, "%s:%d", host, (int)getpid());
}

typedef struct {
    const char *job, *holder;
    int64_t period_s;
    int64_t period;  /* out */
    int won;         /* out */
} cluster_claim_ctx;

/* The conditional UPDATE is the claim: no two holders can both move the row's period forward. */
static int cluster_claim_tx(db *db, void *arg, mkt_error *err)
{
    cluster_claim_ctx *c = arg;
    c->won = 0;
    db_result res = {0};
    if (db_exec(db,
                "UPDATE cluster_jobs SET holder = ?, lease_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND,"
                " period = FLOOR(UNIX_TIMESTAMP() / ?), runs = runs + 1"
                " WHERE name = ? AND period < FLOOR(UNIX_TIMESTAMP() / ?)"
                " AND (lease_until IS NULL OR lease_until <= UTC_TIMESTAMP(6) OR holder = ?)",
                DB_PARAMS(db_text(c->holder), db_int(CLUSTER_JOB_LEASE_S), db_int(c->period_s), db_text(c->job),
                          db_int(c->period_s), db_text(c->holder)),
                &res, err) < 0)
        return -1;
    if (res.affected_rows != 1)
        return 0;
    db_rows rows = {0};
    if (db_query(db, "SELECT period FROM cluster_jobs WHERE name = ?", DB_PARAMS(db_text(c->job)), &rows, err) < 0)
        return -1;
    c->period = rows.row_count ? db_rows_int(&rows, 0, 0) : -1;
    db_rows_free(&rows);
    /* a day of history is enough to see who ran what; pruned a little at every run */
    if (db_exec(db,
                "INSERT INTO cluster_job_runs (name, period, holder, started_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6))",
                DB_PARAMS(db_text(c->job), db_int(c->period), db_text(c->holder)), NULL, err) < 0 ||
        db_exec(db,
                "DELETE FROM cluster_job_runs WHERE name = ? AND started_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY"
                " LIMIT 100",
                DB_PARAMS(db_text(c->job)), NULL, err) < 0)
        return -1;
    c->won = 1;
    return 0;
}

int cluster_job_claim(db *db, const char *job, int64_t period_s, const char *holder, int64_t *period, mkt_error *err)
{
    /* the row, once: outside the claim's transaction, so two first claims do not deadlock on it */
    if (db_exec(db, "INSERT IGNORE INTO cluster_jobs (name) VALUES (?)", DB_PARAMS(db_text(job)), NULL, err) < 0)
        return -1;
    cluster_claim_ctx c = {.job = job, .holder = holder, .period_s = period_s > 0 ? period_s : 1};
    if (db_transaction(db, cluster_claim_tx, &c, err) < 0)
        return -1;
    if (c.won && period)
        *period = c.period;
    return c.won;
}

int cluster_job_done(db *db, const char *job, const char *holder, int64_t period, mkt_error *err)
{
    if (db_exec(db, "UPDATE cluster_jobs SET lease_until = UTC_TIMESTAMP(6) WHERE name = ? AND holder = ?",
                DB_PARAMS(db_text(job), db_text(holder)), NULL, err) < 0)
        return -1;
    return db_exec(db, "UPDATE cluster_job_runs SET finished_at = UTC_TIMESTAMP(6) WHERE name = ? AND period = ?",
                   DB_PARAMS(db_text(job), db_int(period)), NULL, err);
}

static uint64_t cluster_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cluster_job_every(service_worker *sw, cluster_job *job, int64_t period_s, cluster_job_fn fn)
{
    uint64_t now = cluster_now_ms();
    if (now < job->next_attempt_ms)
        return 0;
    /* twice a period: every period sees an ask from each busy or idle worker, and no more */
    uint64_t half = period_s > 0 ? (uint64_t)period_s * 500u : 500u;
    job->next_attempt_ms = now + (half < 200 ? 200 : half);
    mkt_error err = MKT_ERROR_INIT;
    db *db = sw->db(sw, &err);
    char holder[128];
    cluster_holder(sw->cfg, holder, sizeof holder);
    int64_t period = -1;
    int ran = 0;
    int won = db ? cluster_job_claim(db, job->name, period_s, holder, &period, &err) : -1;
    if (won == 1) {
        ran = 1;
        if (fn(db, sw->cfg, &err) < 0) {
            log_warn("job %s: %s", job->name, err.message ? err.message : "failed");
            error_clear(&err);
        }
        if (cluster_job_done(db, job->name, holder, period, &err) < 0)
            won = -1;
        else
            log_debug("job %s: period %" PRId64 " run by %s", job->name, period, holder);
    }
    if (won < 0)
        log_warn("job %s: %s", job->name, err.message ? err.message : "database unavailable");
    error_clear(&err);
    return ran;
}

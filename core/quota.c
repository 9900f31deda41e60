/* Owns plan_usage and plan_execution_days (see core/quota.h): every statement on them is here. Reads
 * tools (slug and name) and tool_plans (a free plan's name and quota) read-only for GET /me/usage. */
#include "core/quota.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/day_count.h"
#include "core/log.h"
#include "core/tool_record.h"

/* ---- the host's shared pool ------------------------------------------------------------------------ */

typedef struct {
    int64_t user_id, tool_id, plan_id, period_start; /* the key; user_id 0: a free slot */
    int64_t units;    /* leased from MariaDB, not taken */
    int64_t consumed; /* taken by executions that succeeded, not yet written back as used */
    int64_t inflight; /* taken by executions still running (keeps the slot from being reused) */
    int64_t last_use; /* monotonic seconds */
    pid_t refilling;  /* the worker asking MariaDB for the next lease, 0: none */
} quota_slot;

typedef struct {
    pthread_mutex_t lock;
    quota_slot slots[QUOTA_SLOTS];
} quota_pool;

static quota_pool *quota_shared;

static int64_t quota_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* Made once per process tree, before the workers fork, so every worker shares it. A process that
 * runs services without a master (tests, the CLI) makes its own on first use. */
static quota_pool *quota_pool_get(void)
{
    if (quota_shared)
        return quota_shared;
    quota_pool *p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    /* a worker killed while holding the lock must not stop the others: the next one takes it over */
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&p->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    quota_shared = p;
    return p;
}

static void quota_lock(quota_pool *p)
{
    if (pthread_mutex_lock(&p->lock) == EOWNERDEAD)
        pthread_mutex_consistent(&p->lock); /* every update under the lock leaves the slot usable */
}

static void quota_unlock(quota_pool *p)
{
    pthread_mutex_unlock(&p->lock);
}

static int quota_slot_is(const quota_slot *s, const quota_ticket *k)
{
    return s->user_id == k->user_id && s->tool_id == k->tool_id && s->plan_id == k->plan_id &&
           s->period_start == k->period_start;
}

/* An execution cannot outlive request_timeout (the master kills the worker): units still marked in
 * flight after this long belong to workers that died mid-execution, and no longer pin the slot. */
#define QUOTA_STALE_S 3600

static int quota_slot_free(const quota_slot *s)
{
    return s->user_id == 0 || (s->units == 0 && s->consumed == 0 && s->refilling == 0 &&
                               (s->inflight == 0 || quota_now_s() - s->last_use > QUOTA_STALE_S));
}

#define QUOTA_PROBE 32

/* The key's slot (made when missing) under the lock; -1 when the probe window is full. */
static int quota_slot_find(quota_pool *p, const quota_ticket *k)
{
    uint64_t h = (uint64_t)k->user_id * 0x9E3779B97F4A7C15ULL ^ (uint64_t)k->tool_id * 0xC2B2AE3D27D4EB4FULL ^
                 (uint64_t)k->plan_id * 0x165667B19E3779F9ULL ^ (uint64_t)k->period_start;
    int spare = -1;
    for (int i = 0; i < QUOTA_PROBE; i++) {
        int at = (int)((h + (uint64_t)i) % QUOTA_SLOTS);
        quota_slot *s = &p->slots[at];
        if (s->user_id != 0 && quota_slot_is(s, k))
            return at;
        if (spare < 0 && quota_slot_free(s))
            spare = at;
    }
    if (spare >= 0)
        p->slots[spare] = (quota_slot){.user_id = k->user_id, .tool_id = k->tool_id, .plan_id = k->plan_id,
                                       .period_start = k->period_start, .last_use = quota_now_s()};
    return spare;
}

static int quota_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* ---- plan_usage ------------------------------------------------------------------------------------- */

typedef struct {
    const quota_ticket *key;
    int64_t quota, lease_max;
    int64_t granted;
} quota_lease_ctx;

#define QUOTA_KEY_PARAMS(k) db_int((k)->user_id), db_int((k)->tool_id), db_int((k)->plan_id), db_int((k)->period_start)
#define QUOTA_KEY_WHERE " WHERE user_id = ? AND tool_id = ? AND plan_id = ? AND period_start = FROM_UNIXTIME(?)"

/* One lease: what is left / 16, between 1 and lease_max, never more than is left. */
static int quota_lease_tx(db *db, void *arg, mkt_error *err)
{
    quota_lease_ctx *c = arg;
    c->granted = 0;
    if (db_exec(db,
                "INSERT IGNORE INTO plan_usage (user_id, tool_id, plan_id, period_start) VALUES (?, ?, ?, FROM_UNIXTIME(?))",
                DB_PARAMS(QUOTA_KEY_PARAMS(c->key)), NULL, err) < 0)
        return -1;
    db_rows rows = {0};
    if (db_query(db, "SELECT used, leased FROM plan_usage" QUOTA_KEY_WHERE " FOR UPDATE",
                 DB_PARAMS(QUOTA_KEY_PARAMS(c->key)), &rows, err) < 0)
        return -1;
    int64_t left = rows.row_count ? c->quota - db_rows_int(&rows, 0, 0) - db_rows_int(&rows, 0, 1) : 0;
    db_rows_free(&rows);
    if (left <= 0)
        return 0;
    int64_t want = left / 16;
    want = want < 1 ? 1 : want > c->lease_max ? c->lease_max : want;
    if (db_exec(db, "UPDATE plan_usage SET leased = leased + ?" QUOTA_KEY_WHERE,
                DB_PARAMS(db_int(want), QUOTA_KEY_PARAMS(c->key)), NULL, err) < 0)
        return -1;
    c->granted = want;
    return 0;
}

static int64_t quota_lease(db *db, const quota_ticket *k, int64_t quota, int64_t lease_max, mkt_error *err)
{
    quota_lease_ctx c = {.key = k, .quota = quota, .lease_max = lease_max};
    return db_transaction(db, quota_lease_tx, &c, err) < 0 ? -1 : c.granted;
}

/* used += used, leased -= used + returned: what a host used and what it gives back. An upsert, as
 * the executions on a plan without a quota are counted too and never leased. */
static int quota_write_back(db *db, const quota_ticket *k, int64_t used, int64_t returned, mkt_error *err)
{
    return db_exec(db,
                   "INSERT INTO plan_usage (user_id, tool_id, plan_id, period_start, used) VALUES (?, ?, ?, FROM_UNIXTIME(?), ?)"
                   " ON DUPLICATE KEY UPDATE used = used + VALUES(used), leased = GREATEST(CAST(leased AS SIGNED) - ?, 0)",
                   DB_PARAMS(QUOTA_KEY_PARAMS(k), db_int(used), db_int(used + returned)), NULL, err);
}

/* ---- take and settle ----------------------------------------------------------------------------- */

static char *quota_time_text(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

/* 402 quota-exceeded: when the period ends and which plans allow more. */
static int quota_exceeded(db *db, int64_t tool_id, const tool_plans_terms *terms, mkt_error *err)
{
    char start[32], end[32], plan[24];
    snprintf(plan, sizeof plan, "%" PRId64, terms->plan_id);
    json_t *more = tool_plans_allowing_more(db, tool_id, terms->plan_id, terms->quota, err);
    if (!more)
        return -1;
    json_t *ext = json_pack("{s:s, s:s, s:s, s:I, s:o}", "plan_id", plan, "period_start",
                            quota_time_text(terms->period_start, start), "period_end",
                            quota_time_text(terms->period_end, end), "quota", (json_int_t)terms->quota, "plans", more);
    char *text = ext ? json_dumps(ext, JSON_COMPACT) : NULL;
    json_decref(ext);
    error_set(err, ERROR_QUOTA_EXCEEDED,
              "the plan \"%s\" allows %" PRId64 " executions a period and they are used up; the next period starts"
              " at %s, or choose a plan that allows more",
              terms->plan_name, terms->quota, end);
    if (!text)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    error_set_extension(err, text);
    free(text);
    return -1;
}

/* No pool slot (the window is full): one unit straight from MariaDB. */
static int quota_take_direct(db *db, const tool_plans_terms *terms, quota_ticket *k, mkt_error *err)
{
    int64_t got = quota_lease(db, k, terms->quota, 1, err);
    if (got < 0)
        return -1;
    if (got == 0)
        return quota_exceeded(db, k->tool_id, terms, err);
    k->slot = -1;
    k->active = 1;
    return 0;
}

/* The slot's next lease, asked by the worker that marked itself refilling. 1 took a unit, 0 none left. */
static int quota_refill(db *db, const config *cfg, quota_pool *p, int at, const tool_plans_terms *terms,
                        const quota_ticket *k, mkt_error *err)
{
    int64_t got = quota_lease(db, k, terms->quota, cfg->quota_lease_max, err);
    quota_lock(p);
    quota_slot *s = &p->slots[at];
    s->refilling = 0;
    int took = 0;
    if (got > 0) {
        s->units += got - 1;
        took = 1;
    } else if (got == 0 && s->units > 0) {
        /* a unit given back by a failed execution meanwhile */
        s->units--;
        took = 1;
    }
    if (!took)
        s->inflight--;
    quota_unlock(p);
    return got < 0 ? -1 : took;
}

/* How long a worker waits for another one's lease before answering 503 (MariaDB is that slow). */
#define QUOTA_WAIT_US 3000000

int quota_take(db *db, const config *cfg, int64_t user_id, int64_t tool_id, const tool_plans_terms *terms,
               quota_ticket *ticket, mkt_error *err)
{
    *ticket = (quota_ticket){.user_id = user_id, .tool_id = tool_id, .plan_id = terms->plan_id,
                             .period_start = (int64_t)terms->period_start, .slot = -1};
    if (terms->quota <= 0)
        return 0;
    quota_pool *p = quota_pool_get();
    if (!p)
        return quota_take_direct(db, terms, ticket, err);
    for (long waited = 0;; waited += 200) {
        quota_lock(p);
        int at = quota_slot_find(p, ticket);
        if (at < 0) {
            quota_unlock(p);
            return quota_take_direct(db, terms, ticket, err);
        }
        quota_slot *s = &p->slots[at];
        s->last_use = quota_now_s();
        ticket->slot = at;
        if (s->units > 0) {
            s->units--;
            s->inflight++;
            quota_unlock(p);
            ticket->active = 1;
            return 0;
        }
        if (!quota_alive(s->refilling) || s->refilling == getpid()) {
            s->refilling = getpid();
            s->inflight++;
            quota_unlock(p);
            int took = quota_refill(db, cfg, p, at, terms, ticket, err);
            if (took < 0)
                return -1;
            if (!took)
                return quota_exceeded(db, tool_id, terms, err);
            ticket->active = 1;
            return 0;
        }
        quota_unlock(p);
        if (waited >= QUOTA_WAIT_US)
            return error_set(err, ERROR_UNAVAILABLE, "the quota could not be checked in time; retry");
        usleep(200);
    }
}

/* A unit leased straight from MariaDB: used, or given back. */
static void quota_settle_direct(db *db, const quota_ticket *t, int succeeded)
{
    mkt_error err = MKT_ERROR_INIT;
    if (quota_write_back(db, t, succeeded ? 1 : 0, succeeded ? 0 : 1, &err) < 0)
        log_warn("quota: an execution of tool %" PRId64 " not written back: %s", t->tool_id,
                 err.message ? err.message : "?");
    error_clear(&err);
}

/* A successful execution on a plan without a quota: counted in the pool like a used unit, so the
 * buyer's usage shows it, without a lease. */
static void quota_count_unlimited(db *db, quota_ticket *t)
{
    quota_pool *p = quota_pool_get();
    int at = -1;
    if (p) {
        quota_lock(p);
        if ((at = quota_slot_find(p, t)) >= 0)
            p->slots[at].consumed++;
        quota_unlock(p);
    }
    mkt_error err = MKT_ERROR_INIT;
    if (at < 0 && quota_write_back(db, t, 1, 0, &err) < 0)
        log_warn("quota: an execution of tool %" PRId64 " not counted: %s", t->tool_id, err.message ? err.message : "?");
    error_clear(&err);
}

void quota_settle(db *db, quota_ticket *t, int succeeded)
{
    if (succeeded)
        quota_count_run(db, t->plan_id);
    if (succeeded && !t->active && t->plan_id > 0 && t->user_id > 0)
        quota_count_unlimited(db, t);
    if (!t->active)
        return;
    t->active = 0;
    if (t->slot < 0) {
        quota_settle_direct(db, t, succeeded);
        return;
    }
    quota_pool *p = quota_pool_get();
    quota_lock(p);
    quota_slot *s = &p->slots[t->slot];
    int same = s->user_id != 0 && quota_slot_is(s, t);
    if (same) {
        s->inflight--;
        if (succeeded)
            s->consumed++;
        else
            s->units++;
    }
    quota_unlock(p);
    if (!same) {
        /* the slot was taken for another key meanwhile (only after QUOTA_STALE_S): straight to MariaDB */
        quota_settle_direct(db, t, succeeded);
    }
}

/* ---- write-back ----------------------------------------------------------------------------------- */

typedef struct {
    quota_ticket key;
    int64_t used, returned;
} quota_pending;

static quota_pending quota_batch[QUOTA_SLOTS];
static int64_t quota_last_flush;

/* Takes out of the pool what is to be written: the executions used, and the idle units (all
 * units not in use when give_back_all). */
static size_t quota_collect(quota_pool *p, int give_back_all)
{
    size_t n = 0;
    int64_t now = quota_now_s();
    quota_lock(p);
    for (int i = 0; i < QUOTA_SLOTS; i++) {
        quota_slot *s = &p->slots[i];
        if (s->user_id == 0)
            continue;
        /* units not taken go back; the ones in flight stay with their executions */
        int idle = s->refilling == 0 && (give_back_all || now - s->last_use >= QUOTA_IDLE_RETURN_S);
        int64_t returned = idle ? s->units : 0;
        if (s->consumed == 0 && returned == 0)
            continue;
        quota_batch[n++] = (quota_pending){
            .key = {.user_id = s->user_id, .tool_id = s->tool_id, .plan_id = s->plan_id, .period_start = s->period_start},
            .used = s->consumed, .returned = returned};
        s->consumed = 0;
        s->units -= returned;
    }
    quota_unlock(p);
    return n;
}

/* A write that failed goes back into the pool's counts, to be written next time. */
static void quota_restore(quota_pool *p, const quota_pending *w)
{
    quota_lock(p);
    int at = quota_slot_find(p, &w->key);
    if (at >= 0) {
        p->slots[at].consumed += w->used;
        p->slots[at].units += w->returned;
    }
    quota_unlock(p);
    if (at < 0)
        log_warn("quota: %" PRId64 " used and %" PRId64 " leased units of user %" PRId64 " on tool %" PRId64
                 " could not be written back",
                 w->used, w->returned, w->key.user_id, w->key.tool_id);
}

static void quota_write_batch(db *db, quota_pool *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mkt_error err = MKT_ERROR_INIT;
        if (!db || quota_write_back(db, &quota_batch[i].key, quota_batch[i].used, quota_batch[i].returned, &err) < 0)
            quota_restore(p, &quota_batch[i]);
        error_clear(&err);
    }
}

void quota_flush(db *db, int give_back_all)
{
    quota_last_flush = quota_now_s();
    if (quota_shared)
        quota_write_batch(db, quota_shared, quota_collect(quota_shared, give_back_all));
}

/* ---- executions per plan ------------------------------------------------------------------------ */

static int quota_write_plan_day(db *db, int64_t plan_id, const char *day, int64_t executions, mkt_error *err)
{
    return db_exec(db,
                   "INSERT INTO plan_execution_days (plan_id, day, executions) VALUES (?, ?, ?)"
                   " ON DUPLICATE KEY UPDATE executions = executions + VALUES(executions)",
                   DB_PARAMS(db_int(plan_id), db_text(day), db_int(executions)), NULL, err);
}

static day_count quota_plan_runs = {.what = "plan executions", .write = quota_write_plan_day, .flush_ms = 1000};

void quota_count_run(db *db, int64_t plan_id)
{
    if (plan_id > 0)
        day_count_add(&quota_plan_runs, db, plan_id);
}

/* ---- GET /me/usage ------------------------------------------------------------------------------- */

/* Used so far in the period: written back, plus what this host used and has not written yet. */
static int64_t quota_used(db *db, const quota_ticket *k, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT used FROM plan_usage" QUOTA_KEY_WHERE, DB_PARAMS(QUOTA_KEY_PARAMS(k)), &rows, err) < 0)
        return -1;
    int64_t used = rows.row_count ? db_rows_int(&rows, 0, 0) : 0;
    db_rows_free(&rows);
    quota_pool *p = quota_shared;
    if (p) {
        quota_lock(p);
        for (int i = 0; i < QUOTA_SLOTS; i++)
            if (p->slots[i].user_id != 0 && quota_slot_is(&p->slots[i], k))
                used += p->slots[i].consumed;
        quota_unlock(p);
    }
    return used;
}

static json_t *quota_usage_item(db *db, int64_t user_id, int64_t tool_id, const tool_plans_terms *t, mkt_error *err)
{
    quota_ticket k = {.user_id = user_id, .tool_id = tool_id, .plan_id = t->plan_id,
                      .period_start = (int64_t)t->period_start};
    int64_t used = quota_used(db, &k, err);
    db_rows rows = {0};
    if (used < 0 || db_query(db, "SELECT id, slug, name FROM tools WHERE id = ?", DB_PARAMS(db_int(tool_id)), &rows,
                             err) < 0)
        return NULL;
    char start[32], end[32], plan[24];
    snprintf(plan, sizeof plan, "%" PRId64, t->plan_id);
    json_t *item = rows.row_count == 0 ? NULL
                   : json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:I, s:n, s:n}", "tool_id",
                               db_rows_text(&rows, 0, 0), "slug", db_rows_text(&rows, 0, 1), "name",
                               db_rows_text(&rows, 0, 2), "plan", "id", plan, "name", t->plan_name, "model", t->model,
                               "period_start", quota_time_text(t->period_start, start), "period_end",
                               quota_time_text(t->period_end, end), "used", (json_int_t)used, "quota", "remaining");
    db_rows_free(&rows);
    if (item && t->quota > 0) {
        json_object_set_new(item, "quota", json_integer(t->quota));
        json_object_set_new(item, "remaining", json_integer(used < t->quota ? t->quota - used : 0));
    }
    return item;
}

/* The tools to report: every access the caller holds, and the tools whose free plan they used this
 * month without buying (their plan_usage rows of the month). */
#define QUOTA_USAGE_MAX 200

static int quota_usage_free_tools(db *db, int64_t user_id, int64_t tool_id, time_t month, json_t *items,
                                  const tool_access_held *held, size_t n, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT u.tool_id FROM plan_usage u JOIN tool_plans p ON p.id = u.plan_id AND p.model = 'free'"
                 " WHERE u.user_id = ? AND (? = 0 OR u.tool_id = ?) AND u.period_start = FROM_UNIXTIME(?)"
                 " ORDER BY u.updated_at DESC LIMIT ?",
                 DB_PARAMS(db_int(user_id), db_int(tool_id), db_int(tool_id), db_int((int64_t)month),
                           db_int(QUOTA_USAGE_MAX)),
                 &rows, err) < 0)
        return -1;
    int rc = 0;
    for (size_t r = 0; r < rows.row_count && rc == 0; r++) {
        int64_t id = db_rows_int(&rows, r, 0);
        int bought = 0;
        for (size_t i = 0; i < n && !bought; i++)
            bought = held[i].tool_id == id;
        tool_plans_terms t;
        int found = bought ? 0 : tool_plans_terms_for(db, user_id, id, time(NULL), &t, err);
        if (found < 0)
            rc = -1;
        else if (found) {
            json_t *item = quota_usage_item(db, user_id, id, &t, err);
            if (!item || json_array_append_new(items, item) < 0)
                rc = error_is_set(err) ? -1 : error_set(err, ERROR_INTERNAL, "out of memory");
        }
    }
    db_rows_free(&rows);
    return rc;
}

static int quota_usage_fill(db *db, int64_t user_id, int64_t tool_id, json_t *items, mkt_error *err)
{
    tool_access_held *held;
    size_t n;
    if (tool_access_list(db, user_id, tool_id, QUOTA_USAGE_MAX, &held, &n, err) < 0)
        return -1;
    time_t now = time(NULL), month, month_end;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        tool_plans_terms t = {.plan_id = held[i].terms.plan_id, .quota = held[i].terms.quota, .bought = 1};
        snprintf(t.plan_name, sizeof t.plan_name, "%s", held[i].terms.plan_name);
        snprintf(t.model, sizeof t.model, "%s", held[i].terms.model);
        tool_plans_period(t.model, held[i].terms.period_days, (time_t)held[i].terms.anchor, now, &t.period_start,
                          &t.period_end);
        json_t *item = quota_usage_item(db, user_id, held[i].tool_id, &t, err);
        if (!item || json_array_append_new(items, item) < 0)
            rc = error_is_set(err) ? -1 : error_set(err, ERROR_INTERNAL, "out of memory");
    }
    tool_plans_period("free", 0, 0, now, &month, &month_end);
    if (rc == 0)
        rc = quota_usage_free_tools(db, user_id, tool_id, month, items, held, n, err);
    free(held);
    return rc;
}

json_t *quota_usage(db *db, const account_caller *caller, const char *tool, mkt_error *err)
{
    int64_t tool_id = 0;
    if (tool) {
        tool_record_glance g;
        if (tool_record_glance_find(db, tool, caller, &g, err) < 0)
            return NULL;
        tool_id = g.id;
    }
    json_t *items = json_array();
    if (!items) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    if (quota_usage_fill(db, caller->user_id, tool_id, items, err) < 0) {
        json_decref(items);
        return NULL;
    }
    json_t *out = json_pack("{s:o}", "items", items);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

/* ---- lifecycle -------------------------------------------------------------------------------------- */

static void quota_master_load(const config *cfg)
{
    (void)cfg;
    if (!quota_pool_get())
        log_warn("quota: no shared memory for the lease pool; every quota-limited execution leases from MariaDB");
}

/* The worker's connection is asked for only when there is something to write. */
static void quota_flush_with(service_worker *sw, int give_back_all)
{
    quota_last_flush = quota_now_s();
    size_t n = quota_collect(quota_shared, give_back_all);
    if (n == 0)
        return;
    mkt_error err = MKT_ERROR_INIT;
    quota_write_batch(sw->db(sw, &err), quota_shared, n);
    error_clear(&err);
}

static void quota_idle(service_worker *sw)
{
    if (quota_shared)
        quota_flush_with(sw, 0);
    day_count_flush_hook(&quota_plan_runs, sw);
}

static void quota_after_request(service_worker *sw)
{
    if (quota_shared && quota_now_s() - quota_last_flush >= 1)
        quota_flush_with(sw, 0);
    day_count_due_hook(&quota_plan_runs, sw);
}

static void quota_exit(service_worker *sw)
{
    if (quota_shared)
        quota_flush_with(sw, 1);
    day_count_flush_hook(&quota_plan_runs, sw);
}

const service_hooks quota_service = {.name = "quota",
                                     .master_load = quota_master_load,
                                     .worker_idle = quota_idle,
                                     .worker_after_request = quota_after_request,
                                     .worker_exit = quota_exit};

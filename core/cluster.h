/* What several app hosts share through MariaDB (docs/scaling.md, "Several app hosts"): change
 * epochs that carry a change made on one host into every host's shared memory, and once-only
 * periodic jobs under a lease. Owns the tables cluster_jobs and cluster_job_runs; cluster_epochs is
 * written by the triggers of migration 0019 (and cluster_bump) and read here only.
 *
 * ---- change epochs ---------------------------------------------------------------------------
 * A (channel, item) row of cluster_epochs moves (epoch + 1, changed_at = now) in the same
 * transaction as every write that must empty what any host keeps in memory about it:
 *   "auth", 0          a session revoked or deleted, a role granted or taken
 *   "tool", <tool id>  any change of the tool's row (delisting, edit, version, a review's counters)
 *   "tool", 0          the global rating totals moved (every tool's Bayesian rating)
 *   "auth", 0          also: an API key revoked, expired by hand or deleted (migration 0022)
 * Triggers do it for these two; a write the triggers cannot see calls cluster_bump in its own
 * transaction. Each host's master calls cluster_poll every `cluster_poll_ms` (200 ms) on a
 * connection of its own; every (channel, item) whose epoch moved since the last poll is handed to
 * the master's apply function, which bumps the matching counter in the host's shared memory
 * (fcgi/master.c: "auth" -> the auth epoch that empties every worker's auth cache). A change is so
 * seen on every host within one poll interval plus one query. To make another per-worker cache
 * follow changes of other hosts: bump (or trigger) a channel when it changes, and map the channel to
 * the shared-memory counter the cache checks in the master's table.
 *
 * A poll reads the rows whose changed_at is at most CLUSTER_POLL_MARGIN_S older than the previous
 * poll's clock (so a transaction that committed up to that long after its statement ran is still
 * seen) and compares their epochs with what it saw last; at most CLUSTER_POLL_ROWS rows, beyond
 * which apply gets (NULL, -1): "assume everything changed".
 *
 * ---- once-only jobs --------------------------------------------------------------------------
 * cluster_job_every runs a job at most once per period across all hosts and all their workers:
 * the period is FLOOR(UNIX_TIMESTAMP() / period_s) by the database's clock, claimed by one
 * conditional UPDATE of the job's row that also takes a lease (holder "<host_id>:<pid>", until
 * now + CLUSTER_JOB_LEASE_S) and needs the previous holder's lease ended or lapsed. The run is
 * recorded in cluster_job_runs (primary key job + period: the once-per-period rule itself) and the
 * lease ends when the run does. A holder that dies mid-run keeps the job for at most
 * CLUSTER_JOB_LEASE_S; then any host takes the next period. */
#ifndef CORE_CLUSTER_H
#define CORE_CLUSTER_H

#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/service.h"
#include "sql/db.h"

#define CLUSTER_POLL_MARGIN_S 5
#define CLUSTER_POLL_ROWS 20000
#define CLUSTER_JOB_LEASE_S 10

/* ---- change epochs ---- */

typedef struct cluster_poller cluster_poller;

/* Called once per (channel, item) whose epoch moved; (NULL, -1) when too many moved to tell. */
typedef void (*cluster_apply_fn)(void *ctx, const char *channel, int64_t item);

cluster_poller *cluster_poller_new(void);
void cluster_poller_free(cluster_poller *p);
/* One poll: apply for each epoch that moved since the previous poll (the first poll only learns
 * where things stand). Returns how many were applied, or -1 (ERROR_UNAVAILABLE / ERROR_INTERNAL)
 * when the database failed, keeping what was seen before. */
int cluster_poll(db *db, cluster_poller *p, cluster_apply_fn apply, void *ctx, mkt_error *err);
/* Moves (channel, item)'s epoch; call it inside the transaction of the change. */
int cluster_bump(db *db, const char *channel, int64_t item, mkt_error *err);

/* ---- once-only jobs ---- */

typedef struct {
    const char *name;          /* cluster_jobs.name, at most 64 characters */
    uint64_t next_attempt_ms;  /* per process: when this worker may ask for the job again */
} cluster_job;

/* A job's work: 0 done, -1 failed with err set. */
typedef int (*cluster_job_fn)(db *db, const config *cfg, mkt_error *err);

/* From a worker hook: when this process has not asked within half a period, claims the current
 * period of job and, when won, runs fn and ends the lease. Logs its own trouble; never fails the
 * caller. Returns 1 when fn ran here, else 0. */
int cluster_job_every(service_worker *sw, cluster_job *job, int64_t period_s, cluster_job_fn fn);

/* The claim alone (tests and cluster_job_every): 1 and *period filled when holder won job's current
 * period, 0 when another holder has it or had it, -1 on a database error. */
int cluster_job_claim(db *db, const char *job, int64_t period_s, const char *holder, int64_t *period, mkt_error *err);
/* Ends holder's lease on job and records the end of period's run. */
int cluster_job_done(db *db, const char *job, const char *holder, int64_t period, mkt_error *err);

/* "<host_id>:<pid>", host_id being the config's or else the machine's host name. */
void cluster_holder(const config *cfg, char *out, size_t size);

#endif

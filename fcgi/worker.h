/* A worker process: accepts FastCGI requests on the shared listen socket one at a time, owns one
 * MariaDB connection (opened after fork, reopened when lost), and exits after max_requests or on
 * SIGTERM once the request in hand is answered. */
#ifndef FCGI_WORKER_H
#define FCGI_WORKER_H

#include "core/config.h"
#include "fcgi/scoreboard.h"
#include "sql/db.h"

typedef struct worker worker;

/* Runs the accept loop; returns the process exit status. Between requests and at exit it calls the
 * services' lifecycle hooks (core/service.h); requests see the signing keys the master loaded before
 * the fork as req->keys. */
int worker_run(const config *cfg, int listen_fd, scoreboard *sb, int slot_index);

/* The worker's database connection, connecting on first use; NULL with ERROR_UNAVAILABLE when the
 * database cannot be reached. */
db *worker_db(worker *w, mkt_error *err);

/* Call after a request changed who a token belongs to or what it may do (logout, a new role): every
 * worker forgets the tokens it had resolved. */
void worker_auth_changed(worker *w);
/* The shared auth epoch now (read before a query whose answer is cached under it). */
uint64_t worker_auth_epoch(const worker *w);

/* The scoreboard, for /metrics. */
const scoreboard *worker_scoreboard(const worker *w);

#endif

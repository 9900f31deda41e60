/* The lifecycle seam between the process model and the services. The master and the workers
 * (fcgi/master.c, fcgi/worker.c) do not know what a service keeps in memory or does in the
 * background; they call the moments below, and every service that needs one of them puts its hooks
 * in the table of core/service.c (a service adds a line there, never a call in fcgi/).
 *
 *   master_load           master: before the first fork and after every reload (SIGHUP) — load what
 *                         the workers inherit (files only the master may read, e.g. signing keys)
 *   master_exit           master: before it exits
 *   worker_idle           worker: while no request waits, about once a second
 *   worker_after_request  worker: after each request (work that must run even on a busy worker)
 *   worker_exit           worker: before it exits (write back what is held in memory)
 *
 * Hooks run in table order, may be NULL, never fail the caller (they log their own trouble), and
 * must return quickly: a worker serves nothing while its hooks run. */
#ifndef CORE_SERVICE_H
#define CORE_SERVICE_H

#include "core/config.h"
#include "core/error.h"
#include "sql/db.h"

typedef struct service_worker {
    const config *cfg;
    /* The worker's MariaDB connection, opened or checked on demand; NULL with err set when MariaDB
     * cannot be reached. Call it only when there is work for the database. */
    db *(*db)(struct service_worker *sw, mkt_error *err);
    void *owner; /* the worker behind db */
} service_worker;

typedef struct {
    const char *name;
    void (*master_load)(const config *cfg);
    void (*master_exit)(void);
    void (*worker_idle)(service_worker *sw);
    void (*worker_after_request)(service_worker *sw);
    void (*worker_exit)(service_worker *sw);
} service_hooks;

void service_master_load(const config *cfg);
void service_master_exit(void);
void service_worker_idle(service_worker *sw);
void service_worker_after_request(service_worker *sw);
void service_worker_exit(service_worker *sw);

#endif

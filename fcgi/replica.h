/* The read replica seen from one worker (docs/scaling.md "Replica"): a second MariaDB connection, to a
 * GTID replica of the primary, for the reads that tolerate lag (routes marked ROUTE_REPLICA). A read
 * goes to the replica only when all of these hold, else to the primary:
 *   - a replica is configured (db_replica_socket or db_replica_host);
 *   - its last check (at most one a second per worker: SHOW REPLICA STATUS) found both replication
 *     threads running and Seconds_Behind_Master at most replica_max_lag;
 *   - the caller is anonymous, or made no state-changing request on this host within the last
 *     replica_ryw_window seconds (read-your-writes; remembered host-wide in the scoreboard).
 * A replica read that loses its connection is run again on the primary (replica_failed, then the
 * worker retries), so a replica going away fails no read. The change epochs, job leases, the search
 * feed and every write stay on the primary. */
#ifndef FCGI_REPLICA_H
#define FCGI_REPLICA_H

#include <stdint.h>

#include "core/config.h"
#include "fcgi/scoreboard.h"
#include "sql/db.h"

typedef struct {
    db *conn;            /* NULL until the first check that reached it */
    uint64_t checked_ms; /* CLOCK_MONOTONIC ms of the last check; 0 = never */
    int usable;          /* the last check's verdict */
} replica;

/* 1 when cfg names a replica. */
int replica_configured(const config *cfg);

/* The replica connection when a read may go there now (checking the lag when the last check is a
 * second old), else NULL. Never sets an error: every "no" means "use the primary". */
db *replica_pick(replica *r, const config *cfg);

/* A read on the replica failed for want of the connection: no more replica reads until the next check. */
void replica_failed(replica *r);

/* Read-your-writes: note that user_id just made a state-changing request on this host, and ask
 * whether they did within window seconds. Buckets of user ids share a time, which only ever sends
 * another user's reads to the primary too, never a writer's to the replica. */
void replica_note_write(scoreboard *sb, int64_t user_id);
int replica_wrote_recently(const scoreboard *sb, int64_t user_id, int64_t window);

void replica_close(replica *r);

#endif

/* The read replica seen from one worker (docs/scaling.md "Replica"): a second MariaDB connection, to a
 * GTID replica of the primary, for the reads that tolerate lag (routes marked ROUTE_REPLICA). A read
 * goes to the replica only when all of these hold, else to the primary:
 *   - a replica is configured (db_replica_socket or db_replica_host);
 *   - its last check (at most one a second per worker: SHOW REPLICA STATUS) found both replication
 *     threads running and Seconds_Behind_Master at most replica_max_lag;
 *   - the caller is anonymous, or made no state-changing request on this host within the last
 *     replica_ryw_window seconds (read-your-writes; remembered host-wide in the scoreboard, and nginx
 *     keeps a signed-in caller on one host, so it holds with several hosts too).
 * A replica read that loses its connection is run again on the primary (replica_failed, then the
 * worker retries), so a replica going away fails no read; a replica-route read the primary cannot
 * serve runs on the replica even when it is cut off from the primary (replica_fallback), so reads
 * continue while the primary is down. The change epochs, job leases, the search
 * feed and every write stay on the primary. */
#ifndef FCGI_REPLICA_H
#define FCGI_REPLICA_H

#include <stdint.h>

#include "core/config.h"
#include "fcgi/scoreboard.h"
#include "sql/db.h"

/* What the last check found, in order of trust. */
enum { REPLICA_DOWN, REPLICA_CUT_OFF, REPLICA_FRESH };

typedef struct {
    db *conn;            /* NULL until the first check that reached it */
    uint64_t checked_ms; /* CLOCK_MONOTONIC ms of the last check; 0 = never */
    int state;           /* the last check's verdict (REPLICA_*) */
} replica;

/* 1 when cfg names a replica. */
int replica_configured(const config *cfg);

/* The replica connection when a read may go there now (checking the lag when the last check is a
 * second old), else NULL. Never sets an error: every "no" means "use the primary". */
db *replica_pick(replica *r, const config *cfg);

/* For a read the primary could not serve (it is down): the replica also when it is cut off from the
 * primary and its lag is unknown (it has applied all it received; the primary is what went away),
 * else NULL. This is what keeps reads going through a primary outage. */
db *replica_fallback(replica *r, const config *cfg);

/* A read on the replica failed for want of the connection: no more replica reads until the next check. */
void replica_failed(replica *r);

/* Read-your-writes: note that user_id just made a state-changing request on this host, and ask
 * whether they did within window seconds. Buckets of user ids share a time, which only ever sends
 * another user's reads to the primary too, never a writer's to the replica. */
void replica_note_write(scoreboard *sb, int64_t user_id);
int replica_wrote_recently(const scoreboard *sb, int64_t user_id, int64_t window);

void replica_close(replica *r);

#endif

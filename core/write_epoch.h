/* A host-wide count of the database writes this host's processes committed, in memory the master
 * maps before it forks. What a worker derives from the database and keeps (its search index, fed by
 * a change table) must otherwise ask MariaDB on every request whether anything changed; with this
 * count it asks only when the count moved since it last asked (a write through this host: so a
 * caller's next request sees their own change) or when its own bound on changes made elsewhere
 * (another host, the command line, SQL) ran out.
 *
 * sql/db.c bumps it after each committed write (an autocommit statement, or the COMMIT of a
 * transaction that wrote). A reader takes write_epoch_read BEFORE its database read and compares
 * for equality afterwards: a write that commits during the read moves the count past what it took.
 *
 * Without write_epoch_init (tests, the command line) the count is process-local: correct for the one
 * process, which is all there is. */
#ifndef CORE_WRITE_EPOCH_H
#define CORE_WRITE_EPOCH_H

#include <stdint.h>

/* Maps the shared count (MAP_SHARED | MAP_ANONYMOUS); the master calls it once before forking. 0, or
 * -1 when mmap failed (then the count stays process-local). */
int write_epoch_init(void);

uint64_t write_epoch_read(void);

/* A write committed (call it after the commit, never before). */
void write_epoch_bump(void);

#endif

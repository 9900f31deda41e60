/* Change counters for what the per-worker caches keep of a tool (its public view, the version an
 * execute runs), in memory the master maps before it forks, so a write in one worker invalidates
 * every worker's copy at once. A cache stores the counter it read BEFORE reading the database and
 * trusts its copy only while view_epoch_read still answers that value.
 *
 * view_epoch_bump(tool_id) is the ONE function every write that changes such a copy calls (tool_id 0:
 * every tool, e.g. the global rating totals moved). It bumps at once and again at view_epoch_flush,
 * which sql/db.c calls after each transaction ends and the worker calls before it answers, so a
 * reader that saw the first bump before the writer committed cannot keep the old row: the second
 * bump, after the commit, drops it. The counters only grow; a reader compares for equality.
 *
 * Without view_epoch_init (tests, the command line) the counters are process-local: correct for the
 * one process, which is all there is. Counters are slots (tool_id modulo VIEW_EPOCH_SLOTS - 1): two
 * tools sharing a slot only invalidate each other, never keep a stale copy. */
#ifndef CORE_VIEW_EPOCH_H
#define CORE_VIEW_EPOCH_H

#include <stdint.h>

#define VIEW_EPOCH_SLOTS 4096

/* Maps the shared counters (MAP_SHARED | MAP_ANONYMOUS); the master calls it once before forking.
 * 0, or -1 when mmap failed (then the counters stay process-local). */
int view_epoch_init(void);

/* The value a cached copy of tool_id is valid for: its own counter plus the all-tools one. */
uint64_t view_epoch_read(int64_t tool_id);

/* Invalidates every worker's cached copy of tool_id (0: of every tool); see above. */
void view_epoch_bump(int64_t tool_id);

/* Bumps again every counter bumped since the last flush (after a commit; before an answer). */
void view_epoch_flush(void);

#endif

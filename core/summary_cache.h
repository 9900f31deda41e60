/* A worker's rendered tool summaries (the JSON objects of a search or trending page) by tool id, so a
 * popular page is not read from MariaDB and built again on every request.
 *
 * The cache knows nothing of the database: its owner (core/search, whose change feed learns of every
 * write that alters a summary) forgets a tool when the feed names it and clears everything when a
 * number every summary carries moves (the global rating totals behind the Bayesian rating) or the
 * feed can no longer be trusted. Entries are shared, never copied: a hit is the cached object itself,
 * which nobody may modify (its text, once made, is kept beside it).
 *
 * Bounded: SUMMARY_CACHE_SLOTS direct-mapped slots (a tool that lands on a taken slot replaces the
 * tool there), so memory is at most that many summaries, each bounded by the tool's field limits.
 * Single-threaded (one per worker process). */
#ifndef CORE_SUMMARY_CACHE_H
#define CORE_SUMMARY_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SUMMARY_CACHE_SLOTS 4096 /* a power of two */

/* The cached summary of tool id (a borrowed reference: json_incref to keep it), or NULL. */
json_t *summary_cache_get(int64_t id);

/* The cached summary of tool id as compact JSON text (json_dumps with JSON_COMPACT), its length in
 * *len: written once per cached summary, so a page of summaries is copied, not serialised again.
 * Valid until the entry is next replaced, forgotten or cleared; NULL when id is not cached (or out
 * of memory). */
const char *summary_cache_text(int64_t id, size_t *len);

/* Keeps summary (takes a new reference; the caller keeps its own) as tool id's. */
void summary_cache_put(int64_t id, json_t *summary);

/* Drops what is kept of tool id, if anything. */
void summary_cache_forget(int64_t id);

/* Drops everything (releases every reference). */
void summary_cache_clear(void);

/* How many summaries are kept. */
size_t summary_cache_count(void);

#endif

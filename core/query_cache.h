/* A worker's answers to recent searches, so the same query asked again and again (the popular ones
 * are) costs a look-up instead of a pass over every match.
 *
 * Exact with respect to writes: its owner (core/search) clears it whenever the worker's index applies
 * a change from the feed, builds anew or drops, and whenever the global rating totals move — so an
 * answer is never older than the feed read at the start of the request. What it lets lag is time
 * alone: relevance's freshness term decays with the clock, and an answer is reused for at most the
 * caller's ttl_ms (config search_answer_cache_ms, default 1 s: a 30-day half-life moves a score by
 * less than a millionth in that time).
 *
 * Bounded: QUERY_CACHE_SLOTS direct-mapped slots of at most one page of ids and one facets object
 * each. Single-threaded (one per worker process). */
#ifndef CORE_QUERY_CACHE_H
#define CORE_QUERY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/search_index.h"

#define QUERY_CACHE_SLOTS 64      /* a power of two */
#define QUERY_CACHE_KEY_MAX 1024  /* longer keys (long text and many tags) are not cached */

/* q's key (every field that shapes the answer, not the time) into out; its length, or 0 when it
 * does not fit in size (then the query is not cached). */
size_t query_cache_key(const search_index_query *q, char *out, size_t size);

/* 1 with r filled (up to r->cap ids; facets a new reference the caller owns) when key's answer was
 * stored less than ttl_ms before now_ms; else 0. */
int query_cache_get(const char *key, int64_t now_ms, int64_t ttl_ms, search_index_result *r);

/* Keeps r's answer under key (copies the ids, takes a new reference to the facets); out of memory
 * keeps nothing. */
void query_cache_put(const char *key, int64_t now_ms, const search_index_result *r);

/* Drops every answer. */
void query_cache_clear(void);

#endif

/* The search engine behind GET /search and /search/suggest, behind one small interface: a query
 * (text and filters) in, a page of tool ids with the total and the facets out. core/discovery
 * turns HTTP parameters into a search_query and the ids into tools, so a dedicated engine could
 * replace this file without touching routes, parameters or the JSON.
 *
 * Owns search_documents, search_terms and search_vocabulary (sql/migrations/0011_search.sql): the
 * text of every published tool in the normal form of core/search_text.h, kept current by
 * search_index_tool, which the writers of a tool call in the same transaction as the change. Reads
 * tools and tool_tags (owned by core/tool_record) read-only, for filters and quality.
 *
 * Matching: every query word of 3+ characters must appear (any order, any field), the last one as
 * a prefix; a last word of 2 characters matches title words by prefix; other short words are
 * dropped. Ranking: README "Search". Only published tools are ever found. */
#ifndef CORE_SEARCH_H
#define CORE_SEARCH_H

#include <jansson.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/json_text.h"
#include "core/paging.h"
#include "core/service.h"
#include "sql/db.h"

typedef enum {
    SEARCH_SORT_RELEVANCE,
    SEARCH_SORT_RATING,
    SEARCH_SORT_DOWNLOADS,
    SEARCH_SORT_NEWEST,
    SEARCH_SORT_TRENDING, /* by the trending score (core/activity), tools without activity last */
    SEARCH_SORT_PRICE_ASC,
    SEARCH_SORT_PRICE_DESC,
} search_sort;

#define SEARCH_TAGS_MAX 10
/* The shortest prefix that selects anything by itself (a last word of q, a suggestion's q): one
 * character would read a large share of the catalogue and mean little. */
#define SEARCH_PREFIX_MIN 2
/* With the in-memory engine, a change committed through this host is seen by its next search; one
 * made elsewhere (another host, the command line, plain SQL) within this many ms. */
#define SEARCH_FEED_EVERY_MS 100

typedef struct {
    const char *q;                      /* NULL or "": no text (then relevance means rating) */
    const char *category;               /* NULL: any (an existing category: checked by the caller) */
    const char *tags[SEARCH_TAGS_MAX];  /* every one must be a tag of the tool */
    size_t tag_count;
    int64_t min_rating_hundredths;      /* average rating >= this / 100; 0: any */
    int64_t max_price_cents;            /* -1: any */
    const char *pricing;                /* NULL: any */
    int64_t developer_id;               /* 0: any */
    search_sort sort;
    int64_t page, per_page;
} search_query;

typedef struct {
    int64_t ids[PAGING_PER_PAGE_MAX];   /* the page, in order */
    size_t count;
    int64_t total;                      /* every match, all pages */
    /* {categories{name: count}, pricing{model: count}, rating{"4+", "3+", "2+"}} over every match */
    json_t *facets;
    int from_index;                     /* answered by the worker's in-memory index */
} search_page;

/* Runs q. 0 with out filled (free with search_page_free), -1 with err. */
int search_run(db *db, const config *cfg, const search_query *q, search_page *out, mkt_error *err);
void search_page_free(search_page *p);

/* The trending page (core/activity's list: tools with an event in the last `days` days, by score)
 * from the in-memory index when the engine is `memory` and this worker's index is built: 1 with out
 * filled (facets NULL), 0 when the caller must ask SQL, -1 with err. */
int search_trending(db *db, const config *cfg, int64_t days, const char *category, int64_t page, int64_t per_page,
                    search_page *out, mkt_error *err);

/* The tools of page in its order, as core/tool_record's summaries (a JSON array; a tool no longer
 * published is left out), or NULL with err. A page the worker's index answered reuses the summaries
 * kept from earlier pages (core/summary_cache): the index's change feed names every write that
 * alters one (a trigger on tools watches the columns a summary shows), so none is older than the
 * feed read at the start of the request. */
json_t *search_summaries(db *db, const search_page *page, mkt_error *err);

/* search_summaries written into out as a JSON array, byte for byte what json_dumps (JSON_COMPACT)
 * writes for it: a summary kept by the worker is copied as the text kept with it. 0, or -1 with
 * err (out may hold part of the array: the caller drops it). */
int search_summaries_write(db *db, const search_page *page, json_text *out, mkt_error *err);

/* "Did you mean": up to max corrected spellings of text, best first (every word that names nothing
 * in the vocabulary of names, tags and categories replaced by its nearest word within edit
 * distance 2, ties to the more used word). A JSON array of strings, empty when nothing is near. */
json_t *search_did_you_mean(db *db, const char *text, size_t max, mkt_error *err);

/* Names and tags starting with prefix (normalized; at least SEARCH_PREFIX_MIN characters, else
 * none), most downloaded first, at most max: [{text, kind: "tool"|"tag", slug (tools only)}]. */
json_t *search_suggest(db *db, const char *prefix, size_t max, mkt_error *err);

/* Brings tool id's document up to date with its row: written when the tool is published, removed
 * otherwise. Call it inside the transaction that changed the tool (publish, an edit of any listing
 * field, delist, restore), after the change. */
int search_index_tool(db *db, int64_t id, mkt_error *err);

/* Indexes up to 200 published tools that have no document (tools written by a path that does not
 * call search_index_tool, e.g. a bulk load), for at most budget_ms (0: no limit); the number indexed
 * (0: none left, or another process is at it), -1 on failure. Call it until it answers 0 to index
 * everything now. */
int search_index_missing(db *db, int64_t budget_ms, mkt_error *err);

/* Worker hook: indexes published tools that have no document yet (tools published before this
 * index existed, or written by a path that did not call search_index_tool), a batch at a time. */
extern const service_hooks search_service;

#endif

/* An in-memory search index over the published tools: pure (no database), so it is unit-tested on
 * its own and core/search.c feeds it. Each worker holds one (workers are processes; nothing here is
 * shared or locked).
 *
 * Documents: a tool id, its text (title = name, slug, tags; body = summary, description, category,
 * all in core/search_text's normal form) and the attributes filters and sorts read. Words map to
 * postings: sorted arrays of document ordinals with the word's occurrences, one over title and
 * body, one over the title alone (short prefixes and title_share read that one). A replaced
 * document takes a new, larger ordinal, so postings stay sorted by appending; dead ordinals are
 * squeezed out when they outnumber the live ones.
 *
 * Matching and ranking are README "Search" (the same rules as core/search.c's SQL engine): every
 * query word of 3+ characters must appear in title or body, the last one as a prefix; a last word
 * of 2 characters matches title words by prefix; other short words are dropped. The text score
 * `match` approximates InnoDB's boolean-mode relevance: the sum over query words of occurrences x
 * log10(documents / documents with the word)^2. */
#ifndef CORE_SEARCH_INDEX_H
#define CORE_SEARCH_INDEX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct search_index search_index;

typedef struct {
    int64_t id;
    const char *slug, *name, *summary, *description, *category, *pricing;
    const char *tags; /* space-separated, NULL or "" for none */
    int64_t price_cents, rating_count, rating_sum, downloads, developer_id;
    int64_t published_us; /* first published, microseconds since the epoch */
    int has_trend;        /* a trending score exists (sort=trending puts the others last) */
    double trend;
    int64_t trend_at_us;  /* the newest event of that score, microseconds since the epoch */
    /* Text already in the normal form (core/search.c's documents): when title_norm is set, name_norm,
     * title_norm and body_norm are taken as they are and name, summary and description are unused. */
    const char *name_norm, *title_norm, *body_norm;
} search_index_doc;

typedef enum {
    SEARCH_INDEX_SORT_RELEVANCE,
    SEARCH_INDEX_SORT_RATING,
    SEARCH_INDEX_SORT_DOWNLOADS,
    SEARCH_INDEX_SORT_NEWEST,
    SEARCH_INDEX_SORT_TRENDING,
    SEARCH_INDEX_SORT_PRICE_ASC,
    SEARCH_INDEX_SORT_PRICE_DESC,
} search_index_sort;

#define SEARCH_INDEX_TAGS_MAX 10
/* The shortest last word that selects by prefix (core/search.h's SEARCH_PREFIX_MIN). */
#define SEARCH_INDEX_PREFIX_MIN 2

typedef struct {
    const char *q; /* raw text (normalized here); NULL or "": none */
    const char *category, *pricing;   /* NULL: any */
    const char *tags[SEARCH_INDEX_TAGS_MAX];
    size_t tag_count;
    int64_t min_rating_hundredths;    /* 0: any */
    int64_t max_price_cents;          /* -1: any */
    int64_t developer_id;             /* 0: any */
    search_index_sort sort;
    int64_t offset, limit;
    /* ranking (README "Search"): weights, the freshness half-life, the Bayesian prior (m and the
     * global totals) and the time "now" is */
    int64_t weight_text, weight_rating, weight_downloads, weight_freshness, freshness_seconds;
    int64_t prior_weight, all_count, all_sum;
    int64_t now_us;
} search_index_query;

typedef struct {
    int64_t *ids;       /* caller's array of cap entries: the page, in order */
    size_t cap, count;
    int64_t total;      /* every match */
    json_t *facets;     /* {categories{}, pricing{free, one_time, subscription}, rating{4+, 3+, 2+}} */
} search_index_result;

search_index *search_index_new(void);
void search_index_free(search_index *ix);

/* Inserts or replaces the document of d->id. 0, -1 when out of memory (the index then lacks d). */
int search_index_put(search_index *ix, const search_index_doc *d);
/* Removes id's document (none: nothing happens). */
void search_index_remove(search_index *ix, int64_t id);
/* Updates the counters of id's document in place (no text change; the trend's event time stays):
 * 1 done, 0 no such document, -1 out of memory. */
int search_index_set_counts(search_index *ix, int64_t id, int64_t rating_count, int64_t rating_sum,
                            int64_t downloads, int has_trend, double trend);

size_t search_index_count(const search_index *ix); /* live documents */
/* Gives back the slack of the growable arrays (after a bulk build: postings grow by doubling). */
void search_index_trim(search_index *ix);
size_t search_index_bytes(const search_index *ix); /* heap held, approximately */

/* A suggestion: a tool's name (with its slug) or a tag, and the downloads that rank it. Pointers
 * into the index: valid until it next changes. */
typedef struct {
    const char *text, *slug; /* slug NULL for a tag */
    int64_t downloads;       /* a tag: the sum over its published tools */
} search_index_hint;

/* Up to max tools whose normalized name starts with name_prefix (most downloaded first, then the
 * newer id) into tools, and up to max tags starting with tag_prefix (by the downloads of their
 * tools, then the tag) into tags; counts in *tool_count and *tag_count. 0, -1 out of memory. */
int search_index_suggest(search_index *ix, const char *name_prefix, const char *tag_prefix, size_t max,
                         search_index_hint *tools, size_t *tool_count, search_index_hint *tags, size_t *tag_count);

/* Runs q: 0 with r filled (r->facets owned by the caller), -1 out of memory. */
int search_index_run(search_index *ix, const search_index_query *q, search_index_result *r);

/* The trending list: tools whose newest event is after after_us (in category when not NULL), by
 * score, ties to the newer id; the page [offset, offset + limit) into r (no facets). 0, -1 out of
 * memory. */
int search_index_trending(search_index *ix, int64_t after_us, const char *category, int64_t offset, int64_t limit,
                          search_index_result *r);

#endif

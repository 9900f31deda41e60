/* Discovery: GET /search and GET /search/suggest. Turns the query parameters into a search_query
 * (every bad parameter a 422 naming it, together), runs core/search, and renders the page's tools
 * through core/tool_record; when nothing matches, it offers "did you mean" spellings and answers
 * with the results of the best one (corrected_to) when it finds any. Owns no table; checks a
 * category filter against the categories reference data, read-only. */
#ifndef CORE_DISCOVERY_H
#define CORE_DISCOVERY_H

#include <jansson.h>

#include "core/config.h"
#include "core/error.h"
#include "sql/db.h"

/* The query parameters as they arrived (percent-decoded; NULL when absent). */
typedef struct {
    const char *q, *category, *tags, *min_rating, *max_price_cents, *pricing, *developer, *sort, *page, *per_page;
} discovery_params;

/* GET /search -> {tools[], total, page, per_page, facets{categories, pricing, rating}, suggestions[],
 * corrected_to?}. 422 naming each bad parameter: q over 200 characters or not UTF-8, an unknown
 * category, a tag outside [a-z0-9-]{2,32} or more than 10 tags, min_rating not a number in 0..5,
 * max_price_cents not a whole number >= 0, an unknown pricing model or sort, a developer that is not
 * an id, page outside 1..1000000, per_page outside 1..100. The answer is JSON text ending with a
 * newline (the caller frees it), or NULL with err. */
char *discovery_search(db *db, const config *cfg, const discovery_params *p, mkt_error *err);

/* GET /search/suggest?q= -> {suggestions[{text, kind, slug?}]}: at most 10 names and tags starting
 * with q (2 characters at least, else none), most downloaded first. 422 naming q when it is over 200 characters or not UTF-8. */
json_t *discovery_suggest(db *db, const char *q, mkt_error *err);

#endif

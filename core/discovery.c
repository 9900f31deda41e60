/* Discovery: see core/discovery.h. */
#include "core/discovery.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/body.h"
#include "core/ident.h"
#include "core/paging.h"
#include "core/search.h"
#include "core/search_text.h"
#include "core/tool_library.h"
#include "core/tool_record.h"

#define DISCOVERY_SUGGESTIONS_MAX 5
#define DISCOVERY_SUGGEST_MAX 10

/* ---- parameters ----------------------------------------------------------------------------------- */

static const char *const discovery_sorts[] = {"relevance", "rating", "downloads", "newest", "trending",
                                              "price_asc", "price_desc", NULL};
/* in the order of search_sort */

static int discovery_given(const char *v)
{
    return v && v[0];
}

/* Digits only, at most 18 of them (no sign, no spaces): the whole numbers a parameter takes. */
static int discovery_whole(const char *v, int64_t *out)
{
    size_t n = strlen(v);
    if (n == 0 || n > 18 || strspn(v, "0123456789") != n)
        return 0;
    *out = strtoll(v, NULL, 10);
    return 1;
}

static void discovery_text(const char *name, const char *v, mkt_error *err)
{
    if (!v)
        return;
    if (!error_text_valid(v))
        error_add_field(err, name, "must be UTF-8 text");
    else if (search_text_chars(v) > SEARCH_TEXT_QUERY_MAX)
        error_add_field(err, name, "must be at most %d characters", SEARCH_TEXT_QUERY_MAX);
}

static void discovery_category(db *db, const char *v, search_query *q, mkt_error *err)
{
    if (!discovery_given(v))
        return;
    mkt_error db_err = MKT_ERROR_INIT;
    if (strlen(v) > 32 || !error_text_valid(v)) {
        error_add_field(err, "category", "unknown category (see GET /categories)");
        return;
    }
    int known = tool_library_category_exists(db, v, &db_err);
    if (known < 0)
        error_move(err, &db_err); /* the database failure, not a misleading field error */
    else if (!known)
        error_add_field(err, "category", "unknown category \"%s\" (see GET /categories)", v);
    else
        q->category = v;
}

static int discovery_tag_ok(const char *tag, size_t len)
{
    return len >= 2 && len <= 32 && strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789-") >= len;
}

/* tags points into copy (the caller's, written with NULs between the tags). */
static void discovery_tags(char *copy, search_query *q, mkt_error *err)
{
    if (!copy)
        return;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!discovery_tag_ok(t, strlen(t))) {
            error_add_field(err, "tags", "each tag must be 2 to 32 characters of a-z, 0-9 and '-'");
            return;
        }
        if (q->tag_count == SEARCH_TAGS_MAX) {
            error_add_field(err, "tags", "at most %d tags", SEARCH_TAGS_MAX);
            return;
        }
        q->tags[q->tag_count++] = t;
    }
}

static void discovery_min_rating(const char *v, search_query *q, mkt_error *err)
{
    if (!discovery_given(v))
        return;
    char *end = NULL;
    errno = 0;
    double r = strtod(v, &end);
    /* a plain decimal: strtod alone would also take "inf", "nan", hex and leading spaces */
    if (strspn(v, "0123456789.") != strlen(v) || errno || !end || *end || !isfinite(r) || r < 0 || r > 5)
        error_add_field(err, "min_rating", "must be a number from 0 to 5");
    else
        q->min_rating_hundredths = (int64_t)llround(r * 100.0);
}

static void discovery_enum(const char *name, const char *v, const char *const *allowed, int *out, mkt_error *err)
{
    int i = discovery_given(v) ? body_choose(name, v, allowed, err) : -1;
    if (i >= 0)
        *out = i;
}

static void discovery_number(const char *name, const char *v, int64_t min, int64_t max, int64_t *out, mkt_error *err)
{
    if (!discovery_given(v))
        return;
    int64_t n;
    if (!discovery_whole(v, &n) || n < min || n > max)
        error_add_field(err, name, "must be a whole number from %lld to %lld", (long long)min, (long long)max);
    else
        *out = n;
}

static void discovery_filters(db *db, const discovery_params *p, char *tags, search_query *q, mkt_error *err)
{
    static const char *const models[] = {"free", "one_time", "subscription", NULL};
    discovery_text("q", p->q, err);
    discovery_category(db, p->category, q, err);
    discovery_tags(tags, q, err);
    discovery_min_rating(p->min_rating, q, err);
    discovery_number("max_price_cents", p->max_price_cents, 0, INT64_C(999999999999999999), &q->max_price_cents, err);
    int model = -1;
    discovery_enum("pricing", p->pricing, models, &model, err);
    if (model >= 0)
        q->pricing = models[model];
    if (discovery_given(p->developer) && ident_id_parse(p->developer, &q->developer_id) < 0)
        error_add_field(err, "developer", "must be a developer id");
}

/* Fills q from p (tags split inside tags, the caller's copy). 0, or -1 with every bad parameter. */
static int discovery_query(db *db, const discovery_params *p, char *tags, search_query *q, mkt_error *err)
{
    memset(q, 0, sizeof *q);
    q->max_price_cents = -1;
    q->page = 1;
    q->per_page = PAGING_PER_PAGE_DEFAULT;
    discovery_filters(db, p, tags, q, err);
    if (err && err->kind != ERROR_NONE && err->kind != ERROR_VALIDATION)
        return -1; /* the database failed */
    int sort = SEARCH_SORT_RELEVANCE;
    discovery_enum("sort", p->sort, discovery_sorts, &sort, err);
    q->sort = (search_sort)sort;
    discovery_number("page", p->page, 1, PAGING_PAGE_MAX, &q->page, err);
    discovery_number("per_page", p->per_page, 1, PAGING_PER_PAGE_MAX, &q->per_page, err);
    if (error_is_set(err))
        return error_set(err, ERROR_VALIDATION, "invalid search parameters");
    q->q = p->q;
    return 0;
}

/* ---- the answer ----------------------------------------------------------------------------------- */

/* When nothing matched q: spellings to offer, and the page of the first one that finds something
 * (into page, with its text into corrected, which points into suggestions). */
static int discovery_correct(db *db, const config *cfg, search_query *q, search_page *page, json_t **suggestions,
                             const char **corrected, mkt_error *err)
{
    *suggestions = search_did_you_mean(db, q->q, DISCOVERY_SUGGESTIONS_MAX, err);
    if (!*suggestions)
        return -1;
    const char *best = json_string_value(json_array_get(*suggestions, 0));
    if (!best)
        return 0;
    search_query again = *q;
    again.q = best;
    search_page found;
    if (search_run(db, cfg, &again, &found, err) < 0)
        return -1;
    if (found.total == 0) {
        search_page_free(&found);
        return 0;
    }
    search_page_free(page);
    *page = found;
    *corrected = best;
    return 0;
}

/* The answer written as text (json_dumps' bytes for the same document, so ETags are unchanged): a
 * page's summaries are copied from the text the worker keeps of each, not serialised again. */
static char *discovery_answer(db *db, const search_query *q, search_page *page, json_t *suggestions,
                              const char *corrected, mkt_error *err)
{
    json_text b = {0};
    json_text_lit(&b, "{\"tools\":");
    if (search_summaries_write(db, page, &b, err) < 0) {
        free(b.data);
        return NULL;
    }
    paging_text_counts(&b, page->total, q->page, q->per_page);
    json_text_lit(&b, ",\"facets\":");
    json_text_value(&b, page->facets);
    json_text_lit(&b, ",\"suggestions\":");
    json_text_value(&b, suggestions);
    if (corrected) {
        json_text_lit(&b, ",\"corrected_to\":");
        json_text_string(&b, corrected);
    }
    json_text_lit(&b, "}\n");
    return json_text_finish_answer(&b, NULL, err);
}

char *discovery_search(db *db, const config *cfg, const discovery_params *p, mkt_error *err)
{
    char *tags = discovery_given(p->tags) ? strdup(p->tags) : NULL;
    if (discovery_given(p->tags) && !tags) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    search_query q;
    search_page page = {0};
    json_t *suggestions = NULL;
    char *out = NULL;
    const char *corrected = NULL;
    if (discovery_query(db, p, tags, &q, err) < 0 || search_run(db, cfg, &q, &page, err) < 0)
        goto done;
    if (page.total == 0 && discovery_given(q.q)) {
        if (discovery_correct(db, cfg, &q, &page, &suggestions, &corrected, err) < 0)
            goto done;
    } else if (!(suggestions = json_array())) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        goto done;
    }
    out = discovery_answer(db, &q, &page, suggestions, corrected, err);
done:
    json_decref(suggestions);
    search_page_free(&page);
    free(tags);
    return out;
}

json_t *discovery_suggest(db *db, const char *q, mkt_error *err)
{
    discovery_text("q", q, err);
    if (error_is_set(err)) {
        error_set(err, ERROR_VALIDATION, "invalid suggest parameters");
        return NULL;
    }
    json_t *list = search_suggest(db, q, DISCOVERY_SUGGEST_MAX, err);
    return list ? json_pack("{s:o}", "suggestions", list) : NULL;
}

/* The search engine: see core/search.h. Owns search_documents, search_terms, search_vocabulary. */
#include "core/search.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/activity.h"
#include "core/log.h"
#include "core/search_index.h"
#include "core/query_cache.h"
#include "core/search_text.h"
#include "core/summary_cache.h"
#include "core/tool_record.h"
#include "core/write_epoch.h"

/* ---- a statement assembled from constant fragments ---------------------------------------------- */

/* Filters are optional, so the statement is put together from fixed fragments chosen by which
 * filters are present; request data only ever travels as bound parameters. */
#define SEARCH_SQL_MAX 8192
#define SEARCH_PARAMS_MAX 64

typedef struct {
    char text[SEARCH_SQL_MAX];
    size_t len;
    db_value params[SEARCH_PARAMS_MAX];
    size_t count;
    int overflow;
} search_sql;

static void search_sql_add(search_sql *s, const char *fragment)
{
    size_t n = strlen(fragment);
    if (s->len + n + 1 > sizeof s->text) {
        s->overflow = 1;
        return;
    }
    memcpy(s->text + s->len, fragment, n + 1);
    s->len += n;
}

/* fragment holds one '?' for v. */
static void search_sql_bind(search_sql *s, const char *fragment, db_value v)
{
    search_sql_add(s, fragment);
    if (s->count == SEARCH_PARAMS_MAX) {
        s->overflow = 1;
        return;
    }
    s->params[s->count++] = v;
}

static int search_sql_query(db *db, const search_sql *s, db_rows *rows, mkt_error *err)
{
    if (s->overflow)
        return error_set(err, ERROR_INTERNAL, "search statement too long");
    return db_query(db, s->text, s->params, s->count, rows, err);
}

/* ---- the plan: what a query means for SQL --------------------------------------------------------- */

typedef struct {
    const search_query *q;
    const config *cfg;
    search_text_words words;
    char boolean[SEARCH_TEXT_BOOLEAN_SIZE]; /* "" when no word is long enough */
    char short_prefix[SEARCH_TEXT_WORD_MAX * 4 + 2]; /* "js%" for a short last word, else "" */
    char slug_form[SEARCH_TEXT_BOOLEAN_SIZE], name_form[SEARCH_TEXT_BOOLEAN_SIZE];
    int text; /* any text condition at all */
    char freshness_seconds[32];
    char best_text[32]; /* the largest text score among the matches (the facet query finds it) */
    /* the first 4 usable words (3+ characters) as LIKE patterns on " title ": "% csv %", and
     * "% clea%" for the last one */
    char title_pattern[4][SEARCH_TEXT_WORD_MAX * 4 + 6];
    size_t title_patterns;
} search_plan;

static int search_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

static void search_plan_make(search_plan *p, const config *cfg, const search_query *q)
{
    memset(p, 0, sizeof *p);
    p->q = q;
    p->cfg = cfg;
    search_text_split(q->q ? q->q : "", &p->words);
    search_text_boolean(&p->words, p->boolean, sizeof p->boolean);
    if (p->words.count) {
        /* a one-character prefix would select a large share of the catalogue and mean little: dropped */
        const char *last = p->words.word[p->words.count - 1];
        size_t chars = search_text_chars(last);
        if (chars >= SEARCH_PREFIX_MIN && chars < SEARCH_TEXT_MIN_TOKEN)
            snprintf(p->short_prefix, sizeof p->short_prefix, "%s%%", last);
    }
    p->text = p->boolean[0] || p->short_prefix[0];
    for (size_t i = 0; i < p->words.count && p->title_patterns < 4; i++)
        if (search_text_chars(p->words.word[i]) >= SEARCH_TEXT_MIN_TOKEN)
            snprintf(p->title_pattern[p->title_patterns++], sizeof p->title_pattern[0], "%% %s%s", p->words.word[i],
                     i + 1 == p->words.count ? "%" : " %");
    snprintf(p->best_text, sizeof p->best_text, "1");
    search_text_join(&p->words, '-', p->slug_form, sizeof p->slug_form);
    search_text_join(&p->words, ' ', p->name_form, sizeof p->name_form);
    if (!search_ascii(p->slug_form)) /* slugs are ASCII: such a query names no slug */
        p->slug_form[0] = '\0';
    snprintf(p->freshness_seconds, sizeof p->freshness_seconds, "%" PRId64, cfg->search_freshness_days * 86400);
}

/* The Bayesian rating in SQL (0 for an unrated tool): core/tool_record's expression, over the tools
 * row t and the rating totals g every FROM here joins, so search ranks by the number tools show. */
static void search_sql_bayesian(search_sql *s)
{
    int64_t m = tool_record_prior_weight();
    search_sql_add(s, TOOL_RECORD_BAYESIAN_SQL("t", "g"));
    /* its two parameters, both m; bound here, where the expression's text is appended */
    if (s->count + 2 > SEARCH_PARAMS_MAX) {
        s->overflow = 1;
        return;
    }
    s->params[s->count++] = db_int(m);
    s->params[s->count++] = db_int(m);
}

/* FROM and WHERE: the text, then every filter that was given. */
static void search_sql_where(search_sql *s, const search_plan *p)
{
    const search_query *q = p->q;
    /* The covering indexes by name (migration 0011): with equal row estimates the optimizer sometimes
     * took tools_status (status, published_at) and read 100000 whole rows for 20 ids (2.5 s instead
     * of 0.1 s). tools_developer stays a choice for the developer filter. */
    if (p->short_prefix[0] && !p->boolean[0]) {
        /* only a short word: the tools come from its range of title words, joined in that order (left
         * to the optimizer, it scanned every tool and probed the words) */
        search_sql_bind(s, " FROM (SELECT DISTINCT w.tool_id FROM search_terms w WHERE w.word LIKE ?) m"
                           " STRAIGHT_JOIN search_documents s ON s.tool_id = m.tool_id",
                        db_text(p->short_prefix));
        search_sql_add(s, " STRAIGHT_JOIN tools t FORCE INDEX (tools_search_card) ON t.id = m.tool_id");
    } else if (p->text) {
        search_sql_add(s, " FROM search_documents s JOIN tools t FORCE INDEX (tools_search_card) ON t.id = s.tool_id");
    } else {
        search_sql_add(s, " FROM tools t FORCE INDEX (tools_search, tools_developer)");
    }
    search_sql_add(s, " " TOOL_RECORD_TOTALS_JOIN("g"));
    search_sql_add(s, " WHERE t.status = 'published'");
    if (p->boolean[0])
        search_sql_bind(s, " AND MATCH(s.title, s.body) AGAINST (? IN BOOLEAN MODE)", db_text(p->boolean));
    /* with words the FULLTEXT search drives; a short last word filters what it found */
    if (p->short_prefix[0] && p->boolean[0])
        search_sql_bind(s, " AND t.id IN (SELECT w.tool_id FROM search_terms w WHERE w.word LIKE ?)",
                        db_text(p->short_prefix));
    if (q->category)
        search_sql_bind(s, " AND t.category = ?", db_text(q->category));
    for (size_t i = 0; i < q->tag_count; i++)
        search_sql_bind(s, " AND EXISTS (SELECT 1 FROM tool_tags g WHERE g.tool_id = t.id AND g.tag = ?)",
                        db_text(q->tags[i]));
    if (q->min_rating_hundredths > 0)
        search_sql_bind(s, " AND t.rating_count > 0 AND t.rating_sum * 100 >= t.rating_count * ?",
                        db_int(q->min_rating_hundredths));
    if (q->max_price_cents >= 0)
        search_sql_bind(s, " AND t.price_cents <= ?", db_int(q->max_price_cents));
    if (q->pricing)
        search_sql_bind(s, " AND t.pricing_model = ?", db_text(q->pricing));
    if (q->developer_id > 0)
        search_sql_bind(s, " AND t.developer_id = ?", db_int(q->developer_id));
}

/* ---- the page ----------------------------------------------------------------------------------- */

/* How many of the query's usable words are title words (name, slug, tags), 0 to 1: a name that says
 * what was asked beats a description that repeats it. A LIKE on the document's short title, which the
 * row read brings anyway (a probe of search_terms per word and match cost twice as much). */
static void search_sql_title_share(search_sql *s, const search_plan *p)
{
    search_sql_add(s, "(0");
    for (size_t i = 0; i < p->title_patterns; i++)
        search_sql_bind(s, " + (CONCAT(' ', s.title, ' ') LIKE ?)", db_text(p->title_pattern[i]));
    search_sql_bind(s, ") / ?", db_int((int64_t)(p->title_patterns ? p->title_patterns : 1)));
}

/* Relevance with text: an exact slug or name match first, then the blend of the text score with
 * quality; README "Search" has the formula. */
static void search_sql_relevance(search_sql *s, const search_plan *p)
{
    const config *cfg = p->cfg;
    search_sql_add(s, "SELECT t.id");
    search_sql_where(s, p);
    search_sql_bind(s, " ORDER BY (s.slug = ?", db_text(p->slug_form));
    search_sql_bind(s, " OR s.name_norm = ?) DESC,", db_text(p->name_form));
    search_sql_bind(s, " ? * (", db_int(cfg->search_weight_text));
    if (p->boolean[0]) {
        /* the same MATCH as the WHERE: InnoDB answers both from one search */
        search_sql_bind(s, "0.5 * LEAST(1, MATCH(s.title, s.body) AGAINST (? IN BOOLEAN MODE)", db_text(p->boolean));
        search_sql_bind(s, " / CAST(? AS DOUBLE)) + 0.5 * ", db_text(p->best_text));
        search_sql_title_share(s, p);
    } else {
        search_sql_add(s, "1"); /* only a short last word: every match is as good a text match */
    }
    search_sql_bind(s, ") + ? * ", db_int(cfg->search_weight_rating));
    search_sql_bayesian(s);
    search_sql_bind(s, " / 5 + ? * LEAST(1, LN(1 + t.downloads) / LN(1000001))", db_int(cfg->search_weight_downloads));
    search_sql_bind(s, " + ? * POW(0.5, GREATEST(0, TIMESTAMPDIFF(SECOND, t.published_at, NOW(6)))",
                    db_int(cfg->search_weight_freshness));
    search_sql_bind(s, " / ?) DESC, t.id DESC", db_text(p->freshness_seconds));
}

static void search_sql_sorted(search_sql *s, const search_plan *p)
{
    search_sql_add(s, "SELECT t.id");
    search_sql_where(s, p);
    switch (p->q->sort) {
    case SEARCH_SORT_DOWNLOADS:
        search_sql_add(s, " ORDER BY t.downloads DESC, t.id DESC");
        break;
    case SEARCH_SORT_TRENDING: /* tools with no activity yet last, by downloads */
        search_sql_add(s, " ORDER BY " ACTIVITY_SCORE_SQL("t") " IS NULL, " ACTIVITY_SCORE_SQL("t")
                          " DESC, t.downloads DESC, t.id DESC");
        break;
    case SEARCH_SORT_NEWEST:
        search_sql_add(s, " ORDER BY t.published_at DESC, t.id DESC");
        break;
    case SEARCH_SORT_PRICE_ASC:
        search_sql_add(s, " ORDER BY t.price_cents ASC, t.id DESC");
        break;
    case SEARCH_SORT_PRICE_DESC:
        search_sql_add(s, " ORDER BY t.price_cents DESC, t.id DESC");
        break;
    default: /* rating, and relevance without text */
        search_sql_add(s, " ORDER BY ");
        search_sql_bayesian(s);
        search_sql_add(s, " DESC, t.rating_count DESC, t.downloads DESC, t.id DESC");
        break;
    }
}

static int search_page_ids(db *db, const search_plan *p, search_page *out, mkt_error *err)
{
    search_sql *s = calloc(1, sizeof *s);
    if (!s)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    if (p->q->sort == SEARCH_SORT_RELEVANCE && p->text)
        search_sql_relevance(s, p);
    else
        search_sql_sorted(s, p);
    search_sql_bind(s, " LIMIT ?", db_int(p->q->per_page));
    search_sql_bind(s, " OFFSET ?", db_int(paging_offset(p->q->page, p->q->per_page)));
    db_rows rows = {0};
    int rc = search_sql_query(db, s, &rows, err);
    free(s);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < rows.row_count && out->count < PAGING_PER_PAGE_MAX; i++)
        out->ids[out->count++] = db_rows_int(&rows, i, 0);
    db_rows_free(&rows);
    return 0;
}

/* ---- facets and the total: one GROUP BY over the same matches ------------------------------------ */

enum { FCOL_CATEGORY, FCOL_PRICING, FCOL_COUNT, FCOL_RATED_4, FCOL_RATED_3, FCOL_RATED_2, FCOL_BEST };

static int search_facet_add(json_t *counts, const char *key, int64_t n)
{
    json_int_t had = json_integer_value(json_object_get(counts, key));
    return json_object_set_new(counts, key, json_integer(had + n));
}

static json_t *search_facets_json(const db_rows *rows, int64_t *total)
{
    json_t *facets = json_pack("{s:{}, s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}}", "categories", "pricing", "free", 0,
                               "one_time", 0, "subscription", 0, "rating", "4+", 0, "3+", 0, "2+", 0);
    if (!facets)
        return NULL;
    json_t *categories = json_object_get(facets, "categories"), *pricing = json_object_get(facets, "pricing"),
           *rating = json_object_get(facets, "rating");
    int bad = 0;
    *total = 0;
    for (size_t i = 0; i < rows->row_count; i++) {
        int64_t n = db_rows_int(rows, i, FCOL_COUNT);
        *total += n;
        bad |= search_facet_add(categories, db_rows_text(rows, i, FCOL_CATEGORY), n);
        bad |= search_facet_add(pricing, db_rows_text(rows, i, FCOL_PRICING), n);
        bad |= search_facet_add(rating, "4+", db_rows_int(rows, i, FCOL_RATED_4));
        bad |= search_facet_add(rating, "3+", db_rows_int(rows, i, FCOL_RATED_3));
        bad |= search_facet_add(rating, "2+", db_rows_int(rows, i, FCOL_RATED_2));
    }
    if (bad) {
        json_decref(facets);
        return NULL;
    }
    return facets;
}

/* The largest text score over the groups, into p->best_text (kept at 1 when there is none). */
static void search_best_text(const db_rows *rows, search_plan *p)
{
    double best = 0;
    for (size_t i = 0; p->boolean[0] && i < rows->row_count; i++) {
        const char *v = db_rows_text(rows, i, FCOL_BEST);
        double d = v ? strtod(v, NULL) : 0;
        if (d > best)
            best = d;
    }
    if (best > 0)
        snprintf(p->best_text, sizeof p->best_text, "%.9g", best);
}

static int search_facets(db *db, search_plan *p, search_page *out, mkt_error *err)
{
    search_sql *s = calloc(1, sizeof *s);
    if (!s)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    /* the rating buckets count the average rating, the number min_rating filters on */
    search_sql_add(s, "SELECT t.category, t.pricing_model, COUNT(*),"
                      " SUM(t.rating_count > 0 AND t.rating_sum >= 4 * t.rating_count),"
                      " SUM(t.rating_count > 0 AND t.rating_sum >= 3 * t.rating_count),"
                      " SUM(t.rating_count > 0 AND t.rating_sum >= 2 * t.rating_count)");
    /* the best text score rides along: the page's ranking needs it, and this already ran the search */
    if (p->boolean[0])
        search_sql_bind(s, ", MAX(MATCH(s.title, s.body) AGAINST (? IN BOOLEAN MODE))", db_text(p->boolean));
    search_sql_where(s, p);
    search_sql_add(s, " GROUP BY t.category, t.pricing_model");
    db_rows rows = {0};
    int rc = search_sql_query(db, s, &rows, err);
    free(s);
    if (rc < 0)
        return -1;
    out->facets = search_facets_json(&rows, &out->total);
    search_best_text(&rows, p);
    db_rows_free(&rows);
    return out->facets ? 0 : error_set(err, ERROR_INTERNAL, "out of memory");
}


/* ---- the in-memory engine: core/search_index, fed by search_changes ------------------------------ */

/* Each worker builds its index from the documents on first use and then applies search_changes
 * (migration 0014: rows written by triggers in the transaction of every change a search reads)
 * past the last row it applied before it answers. It reads the feed only when it may hold
 * something new: when this host committed a write since its last read (core/write_epoch: so the
 * next search of any worker of the host sees a change made through it, and a caller, whom nginx
 * keeps on one host, sees their own), or SEARCH_FEED_EVERY_MS after its last read (a change made on
 * another host, by the command line or in SQL). A read of the feed per search cost MariaDB and the
 * worker more than a small search itself. A sequence number is taken when a row is
 * written, not when its transaction commits, so a lower number may appear after a higher one was
 * read: numbers skipped over are remembered as gaps and asked for again until they are old. */
#define SEARCH_MEM_BUILD_BATCH 2000     /* about 50-100 ms of a worker's time per batch */
#define SEARCH_MEM_IN_CHUNK 50          /* tools re-read per statement */
#define SEARCH_MEM_FEED_READ 2000       /* feed rows applied per read; more waiting: the worker is behind */
#define SEARCH_MEM_REBUILD_MIN 100000   /* ... and builds again when this many and more than its tools wait */
#define SEARCH_MEM_GAPS_MAX 64
#define SEARCH_MEM_GAP_S 60             /* a transaction holding a number longer than this is not waited for */
#define SEARCH_FEED_KEEP_S 3600         /* feed rows older than this are pruned ... */
#define SEARCH_MEM_STALE_S 3000         /* ... so a worker that has not read it for this long rebuilds */
#define SEARCH_MEM_BUILD_REWIND 200     /* numbers below the build's start that may still commit */

typedef struct {
    int64_t seq;
    time_t seen;
} search_gap;

typedef struct {
    search_index *ix;
    int64_t seq;                   /* the highest feed row applied */
    search_gap gap[SEARCH_MEM_GAPS_MAX];
    size_t gaps;
    int64_t all_count, all_sum;    /* rating_totals, for the Bayesian rating ... */
    int behind;                    /* more feed rows waiting than one read applies: SQL answers while
                                    * searches and idle moments apply them a read at a time */
    int totals_stale;              /* ... read again after the feed brought a change: rating_totals
                                    * moves only in a transaction that changes a tool's ratings,
                                    * whose trigger writes a feed row */
    time_t read_at;                /* the last read of the feed */
    int64_t read_ms;               /* ... in ms (0: read it before the next search) */
    uint64_t read_writes;          /* the host's write count taken before that read */
    search_index *building;        /* the next index while it is read, a batch at a time */
    int64_t build_after, build_seq, build_started;
} search_memory;

static search_memory search_mem;

#define SEARCH_MEM_COLUMNS                                                                                    \
    "SELECT t.id, s.slug, s.name_norm, s.title, s.body, t.category, t.pricing_model, t.price_cents,"          \
    " t.rating_count, t.rating_sum, t.downloads, t.developer_id,"                                             \
    " CAST(UNIX_TIMESTAMP(t.published_at) * 1000000 AS SIGNED), a.score_log,"                                 \
    " (SELECT GROUP_CONCAT(g.tag SEPARATOR ' ') FROM tool_tags g WHERE g.tool_id = t.id), t.name,"            \
    " CAST(UNIX_TIMESTAMP(a.last_at) * 1000000 AS SIGNED)"                                                    \
    " FROM search_documents s JOIN tools t ON t.id = s.tool_id LEFT JOIN tool_activity a ON a.tool_id = t.id" \
    " WHERE t.status = 'published'"

enum { MCOL_ID, MCOL_SLUG, MCOL_NAME, MCOL_TITLE, MCOL_BODY, MCOL_CATEGORY, MCOL_PRICING, MCOL_PRICE,
       MCOL_RATING_COUNT, MCOL_RATING_SUM, MCOL_DOWNLOADS, MCOL_DEVELOPER, MCOL_PUBLISHED, MCOL_TREND, MCOL_TAGS,
       MCOL_RAW_NAME, MCOL_TREND_AT };

static int search_mem_put_row(search_index *ix, const db_rows *rows, size_t i)
{
    const char *trend = db_rows_is_null(rows, i, MCOL_TREND) ? NULL : db_rows_text(rows, i, MCOL_TREND);
    search_index_doc d = {
        .id = db_rows_int(rows, i, MCOL_ID),
        .slug = db_rows_text(rows, i, MCOL_SLUG),
        .name = db_rows_text(rows, i, MCOL_RAW_NAME),
        .name_norm = db_rows_text(rows, i, MCOL_NAME),
        .title_norm = db_rows_text(rows, i, MCOL_TITLE),
        .body_norm = db_rows_text(rows, i, MCOL_BODY),
        .category = db_rows_text(rows, i, MCOL_CATEGORY),
        .pricing = db_rows_text(rows, i, MCOL_PRICING),
        .tags = db_rows_is_null(rows, i, MCOL_TAGS) ? "" : db_rows_text(rows, i, MCOL_TAGS),
        .price_cents = db_rows_int(rows, i, MCOL_PRICE),
        .rating_count = db_rows_int(rows, i, MCOL_RATING_COUNT),
        .rating_sum = db_rows_int(rows, i, MCOL_RATING_SUM),
        .downloads = db_rows_int(rows, i, MCOL_DOWNLOADS),
        .developer_id = db_rows_int(rows, i, MCOL_DEVELOPER),
        .published_us = db_rows_int(rows, i, MCOL_PUBLISHED),
        .has_trend = trend != NULL,
        .trend = trend ? strtod(trend, NULL) : 0,
        .trend_at_us = trend ? db_rows_int(rows, i, MCOL_TREND_AT) : 0,
    };
    return search_index_put(ix, &d);
}

/* Drops what the worker keeps beside its index (result summaries, answers): both are valid only
 * while the index follows the feed and the rating totals hold still. */
static void search_mem_kept_clear(void)
{
    summary_cache_clear();
    query_cache_clear();
}

static int search_mem_totals(db *db, search_memory *m, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT rating_count, rating_sum FROM rating_totals WHERE id = 1", DB_NO_PARAMS, &rows, err) < 0)
        return -1;
    int64_t count = rows.row_count ? db_rows_int(&rows, 0, 0) : 0, sum = rows.row_count ? db_rows_int(&rows, 0, 1) : 0;
    if (count != m->all_count || sum != m->all_sum)
        search_mem_kept_clear(); /* every summary's Bayesian rating, and every ranking by rating or
                                  * relevance, leans on the global mean */
    m->all_count = count;
    m->all_sum = sum;
    m->totals_stale = 0;
    db_rows_free(&rows);
    return 0;
}

static int search_mem_max_seq(db *db, int64_t *seq, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT COALESCE(MAX(seq), 0) FROM search_changes", DB_NO_PARAMS, &rows, err) < 0)
        return -1;
    *seq = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    return 0;
}

static int64_t search_mem_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A new index is built a batch of tools at a time, in the idle hook (and one batch in a search
 * that finds no index), so no request waits for a whole catalogue: until it is complete, searches
 * are answered by the SQL engine. */
static void search_mem_build_drop(search_memory *m)
{
    search_index_free(m->building);
    m->building = NULL;
}

/* One batch of the build: 1 when the index is complete (and in use), 0 when more is left, -1 on failure. */
static int search_mem_build_step(db *db, search_memory *m, mkt_error *err)
{
    if (!m->building) {
        /* the feed's position first: what changes while the documents are read is applied after */
        if (search_mem_max_seq(db, &m->build_seq, err) < 0)
            return -1;
        log_info("search: building the in-memory index%s", m->ix ? " again" : "");
        m->building = search_index_new();
        if (!m->building)
            return error_set(err, ERROR_INTERNAL, "out of memory");
        m->build_after = 0;
        m->build_started = search_mem_now_us();
    }
    db_rows rows = {0};
    if (db_query(db, SEARCH_MEM_COLUMNS " AND t.id > ? ORDER BY t.id LIMIT ?",
                 DB_PARAMS(db_int(m->build_after), db_int(SEARCH_MEM_BUILD_BATCH)), &rows, err) < 0) {
        search_mem_build_drop(m);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < rows.row_count; i++)
        rc = search_mem_put_row(m->building, &rows, i);
    size_t got = rows.row_count;
    if (got)
        m->build_after = db_rows_int(&rows, got - 1, MCOL_ID);
    db_rows_free(&rows);
    if (rc < 0) {
        search_mem_build_drop(m);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    if (got == SEARCH_MEM_BUILD_BATCH)
        return 0;
    search_index_trim(m->building);
    search_mem_kept_clear(); /* kept while the old index followed the feed; the new one starts afresh */
    search_index_free(m->ix);
    m->ix = m->building;
    m->building = NULL;
    /* numbers just below the start may belong to transactions still open: read them again */
    m->seq = m->build_seq > SEARCH_MEM_BUILD_REWIND ? m->build_seq - SEARCH_MEM_BUILD_REWIND : 0;
    m->gaps = 0;
    m->read_at = time(NULL);
    m->read_ms = 0; /* the feed from the rewound number, before the first search */
    m->totals_stale = 1;
    log_info("search: in-memory index of %zu tools built in %" PRId64 " ms, about %zu KiB",
             search_index_count(m->ix), (search_mem_now_us() - m->build_started) / 1000,
             search_index_bytes(m->ix) / 1024);
    return 1;
}

/* The index can no longer follow the feed (too far behind): dropped, built again from scratch. */
static void search_mem_discard(search_memory *m, const char *why)
{
    if (m->ix)
        log_info("search: in-memory index dropped (%s); SQL answers until it is built again", why);
    search_index_free(m->ix);
    m->ix = NULL;
    search_mem_kept_clear(); /* no index follows the feed any more, so nothing tells what changes */
}

/* Re-reads the tools ids[0..n) (every one that is not found is no longer searchable). */
static int search_mem_reread(db *db, search_memory *m, const int64_t *ids, size_t n, mkt_error *err)
{
    char sql[sizeof SEARCH_MEM_COLUMNS + 32 + 3 * SEARCH_MEM_IN_CHUNK];
    db_value params[SEARCH_MEM_IN_CHUNK];
    int len = snprintf(sql, sizeof sql, "%s AND t.id IN (?", SEARCH_MEM_COLUMNS);
    for (size_t i = 1; i < n; i++)
        len += snprintf(sql + len, sizeof sql - (size_t)len, ", ?");
    snprintf(sql + len, sizeof sql - (size_t)len, ")");
    for (size_t i = 0; i < n; i++) {
        params[i] = db_int(ids[i]);
        search_index_remove(m->ix, ids[i]);
        summary_cache_forget(ids[i]);
    }
    query_cache_clear(); /* any change may move any answer: a match, a facet, a rank */
    db_rows rows = {0};
    if (db_query(db, sql, params, n, &rows, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < rows.row_count; i++)
        rc = search_mem_put_row(m->ix, &rows, i);
    db_rows_free(&rows);
    return rc < 0 ? error_set(err, ERROR_INTERNAL, "out of memory") : 0;
}

/* Remembers the numbers between the last applied and seq as gaps (a transaction may still commit them). */
static void search_mem_note_gaps(search_memory *m, int64_t seq, time_t now)
{
    for (int64_t g = m->seq + 1; g < seq && g < m->seq + 1 + SEARCH_MEM_GAPS_MAX; g++) {
        if (m->gaps == SEARCH_MEM_GAPS_MAX) { /* full: the oldest goes */
            memmove(m->gap, m->gap + 1, (SEARCH_MEM_GAPS_MAX - 1) * sizeof m->gap[0]);
            m->gaps--;
        }
        m->gap[m->gaps++] = (search_gap){.seq = g, .seen = now};
    }
}

static void search_mem_gap_filled(search_memory *m, int64_t seq)
{
    for (size_t i = 0; i < m->gaps; i++)
        if (m->gap[i].seq == seq) {
            memmove(m->gap + i, m->gap + i + 1, (m->gaps - i - 1) * sizeof m->gap[0]);
            m->gaps--;
            return;
        }
}

/* The feed rows past the last applied and in the open gaps, as (seq, tool_id). */
static int search_mem_feed(db *db, search_memory *m, db_rows *rows, mkt_error *err)
{
    time_t now = time(NULL);
    size_t kept = 0;
    for (size_t i = 0; i < m->gaps; i++)
        if (now - m->gap[i].seen < SEARCH_MEM_GAP_S)
            m->gap[kept++] = m->gap[i];
    m->gaps = kept;
    char sql[160 + 3 * SEARCH_MEM_GAPS_MAX];
    db_value params[1 + SEARCH_MEM_GAPS_MAX];
    int len = snprintf(sql, sizeof sql, "SELECT seq, tool_id FROM search_changes WHERE seq > ?");
    params[0] = db_int(m->seq);
    for (size_t i = 0; i < m->gaps; i++) {
        len += snprintf(sql + len, sizeof sql - (size_t)len, i ? ", ?" : " OR seq IN (?");
        params[1 + i] = db_int(m->gap[i].seq);
    }
    snprintf(sql + len, sizeof sql - (size_t)len, "%s ORDER BY seq LIMIT %d", m->gaps ? ")" : "",
             SEARCH_MEM_FEED_READ + 1);
    return db_query(db, sql, params, 1 + m->gaps, rows, err);
}

/* How many feed rows wait past what the worker read. */
static int search_mem_backlog(db *db, const search_memory *m, int64_t *waiting, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT COUNT(*) FROM search_changes WHERE seq > ?", DB_PARAMS(db_int(m->seq)), &rows, err) < 0)
        return -1;
    *waiting = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    return 0;
}

static int search_mem_catch_up(db *db, search_memory *m, mkt_error *err)
{
    uint64_t writes = write_epoch_read(); /* before the read: a commit during it moves the count past this */
    db_rows rows = {0};
    if (search_mem_feed(db, m, &rows, err) < 0)
        return -1;
    /* a burst (a bulk load) costs reads in proportion to its changes, not a build of the catalogue */
    int was_behind = m->behind;
    m->behind = rows.row_count > SEARCH_MEM_FEED_READ;
    if (m->behind && !was_behind) {
        int64_t waiting = 0;
        if (search_mem_backlog(db, m, &waiting, err) < 0) {
            db_rows_free(&rows);
            return -1;
        }
        /* a catalogue's worth (a seed, a migration): one build reads it faster than the re-reads would */
        if (waiting > SEARCH_MEM_REBUILD_MIN && waiting > (int64_t)search_index_count(m->ix)) {
            db_rows_free(&rows);
            m->behind = 0;
            search_mem_discard(m, "more changes waiting than it holds tools");
            return 0;
        }
        log_info("search: in-memory index behind the change feed by %" PRId64 " changes: applying %d at a time,"
                 " SQL answering meanwhile", waiting, SEARCH_MEM_FEED_READ);
    } else if (was_behind && !m->behind) {
        log_info("search: in-memory index caught up with the change feed: %zu tools", search_index_count(m->ix));
    }
    /* the first ones, in order; the rest next time */
    size_t rows_seen = m->behind ? SEARCH_MEM_FEED_READ : rows.row_count;
    time_t now = time(NULL);
    int64_t ids[SEARCH_MEM_IN_CHUNK];
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < rows_seen; i++) {
        int64_t seq = db_rows_int(&rows, i, 0), id = db_rows_int(&rows, i, 1);
        if (seq > m->seq) {
            search_mem_note_gaps(m, seq, now);
            m->seq = seq;
        } else {
            search_mem_gap_filled(m, seq);
        }
        int seen = 0; /* a tool changed twice in the batch is read once */
        for (size_t k = 0; k < n && !seen; k++)
            seen = ids[k] == id;
        if (!seen)
            ids[n++] = id;
        if (n == SEARCH_MEM_IN_CHUNK) {
            rc = search_mem_reread(db, m, ids, n, err);
            n = 0;
        }
    }
    if (rc == 0 && n)
        rc = search_mem_reread(db, m, ids, n, err);
    db_rows_free(&rows);
    if (rc == 0) {
        m->read_at = now;
        m->read_ms = search_mem_now_us() / 1000;
        m->read_writes = writes;
        m->totals_stale |= rows_seen > 0;
    } else
        search_mem_discard(m, "a change could not be read"); /* the numbers read are past it: start again */
    return rc;
}

/* Whether the feed may hold what this worker has not applied (see above); behind a burst, always. */
static int search_mem_feed_due(const search_memory *m)
{
    return m->behind || write_epoch_read() != m->read_writes ||
           search_mem_now_us() / 1000 - m->read_ms >= SEARCH_FEED_EVERY_MS;
}

/* The worker's index, current with every committed change; NULL with err set on failure, NULL with
 * err clear while there is none yet (the SQL engine answers). build_steps: batches of a build this
 * call may read. */
static search_index *search_mem_ready(db *db, int build_steps, mkt_error *err)
{
    search_memory *m = &search_mem;
    if (m->ix && time(NULL) - m->read_at > SEARCH_MEM_STALE_S)
        search_mem_discard(m, "the change feed was not read for too long"); /* it may have been pruned */
    for (int i = 0; !m->ix && i < build_steps; i++)
        if (search_mem_build_step(db, m, err) < 0)
            return NULL;
    if (!m->ix)
        return NULL;
    if (search_mem_feed_due(m) && search_mem_catch_up(db, m, err) < 0)
        return NULL;
    if (m->ix && m->totals_stale && search_mem_totals(db, m, err) < 0)
        return NULL;
    return m->behind ? NULL : m->ix; /* behind: not current, SQL answers */
}

static search_index_sort search_mem_sort(search_sort s)
{
    switch (s) {
    case SEARCH_SORT_RATING: return SEARCH_INDEX_SORT_RATING;
    case SEARCH_SORT_DOWNLOADS: return SEARCH_INDEX_SORT_DOWNLOADS;
    case SEARCH_SORT_NEWEST: return SEARCH_INDEX_SORT_NEWEST;
    case SEARCH_SORT_TRENDING: return SEARCH_INDEX_SORT_TRENDING;
    case SEARCH_SORT_PRICE_ASC: return SEARCH_INDEX_SORT_PRICE_ASC;
    case SEARCH_SORT_PRICE_DESC: return SEARCH_INDEX_SORT_PRICE_DESC;
    default: return SEARCH_INDEX_SORT_RELEVANCE;
    }
}

/* 1 answered from memory, 0 no index yet (the caller asks SQL), -1 with err. */
static int search_run_memory(db *db, const config *cfg, const search_query *q, search_page *out, mkt_error *err)
{
    /* one batch here: a small catalogue is built by its first search, a large one in the idle hook */
    search_index *ix = search_mem_ready(db, 1, err);
    if (!ix)
        return err->kind != ERROR_NONE ? -1 : 0;
    search_index_query iq = {
        .q = q->q, .category = q->category, .pricing = q->pricing, .tag_count = q->tag_count,
        .min_rating_hundredths = q->min_rating_hundredths, .max_price_cents = q->max_price_cents,
        .developer_id = q->developer_id, .sort = search_mem_sort(q->sort),
        .offset = paging_offset(q->page, q->per_page), .limit = q->per_page,
        .weight_text = cfg->search_weight_text, .weight_rating = cfg->search_weight_rating,
        .weight_downloads = cfg->search_weight_downloads, .weight_freshness = cfg->search_weight_freshness,
        .freshness_seconds = cfg->search_freshness_days * 86400, .prior_weight = tool_record_prior_weight(),
        .all_count = search_mem.all_count, .all_sum = search_mem.all_sum, .now_us = search_mem_now_us(),
    };
    for (size_t i = 0; i < q->tag_count && i < SEARCH_INDEX_TAGS_MAX; i++)
        iq.tags[i] = q->tags[i];
    search_index_result r = {.ids = out->ids, .cap = PAGING_PER_PAGE_MAX};
    char key[QUERY_CACHE_KEY_MAX];
    size_t key_len = cfg->search_answer_cache_ms > 0 ? query_cache_key(&iq, key, sizeof key) : 0;
    if (!key_len || !query_cache_get(key, iq.now_us / 1000, cfg->search_answer_cache_ms, &r)) {
        if (search_index_run(ix, &iq, &r) < 0)
            return error_set(err, ERROR_INTERNAL, "out of memory");
        if (key_len)
            query_cache_put(key, iq.now_us / 1000, &r);
    }
    out->count = r.count;
    out->total = r.total;
    out->facets = r.facets;
    out->from_index = 1;
    return 1;
}

static int search_engine_memory(const config *cfg)
{
    return cfg->search_engine && strcmp(cfg->search_engine, "memory") == 0;
}

int search_run(db *db, const config *cfg, const search_query *q, search_page *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    if (search_engine_memory(cfg)) {
        int rc = search_run_memory(db, cfg, q, out, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    search_plan *p = malloc(sizeof *p);
    if (!p)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    search_plan_make(p, cfg, q);
    int rc = search_facets(db, p, out, err);
    if (rc == 0 && paging_offset(q->page, q->per_page) < out->total)
        rc = search_page_ids(db, p, out, err);
    free(p);
    if (rc < 0)
        search_page_free(out);
    return rc;
}

void search_page_free(search_page *p)
{
    json_decref(p->facets);
    memset(p, 0, sizeof *p);
}

int search_trending(db *db, const config *cfg, int64_t days, const char *category, int64_t page, int64_t per_page,
                    search_page *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    if (!search_engine_memory(cfg))
        return 0;
    search_index *ix = search_mem_ready(db, 1, err);
    if (!ix)
        return err->kind != ERROR_NONE ? -1 : 0;
    search_index_result r = {.ids = out->ids, .cap = PAGING_PER_PAGE_MAX};
    if (search_index_trending(ix, search_mem_now_us() - days * 86400 * INT64_C(1000000), category,
                              paging_offset(page, per_page), per_page, &r) < 0)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    out->count = r.count;
    out->total = r.total;
    out->from_index = 1;
    return 1;
}

/* ---- the tools of a page -------------------------------------------------------------------------- */

static int64_t search_summary_id(json_t *summary)
{
    const char *id = json_string_value(json_object_get(summary, "id"));
    return id ? strtoll(id, NULL, 10) : 0;
}

static json_t *search_summary_among(json_t *list, int64_t id)
{
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
        if (search_summary_id(s) == id)
            return s;
    return NULL;
}

json_t *search_summaries(db *db, const search_page *page, mkt_error *err)
{
    if (!page->from_index)
        return tool_record_summaries(db, page->ids, page->count, err);
    int64_t missing[PAGING_PER_PAGE_MAX];
    size_t n = 0;
    for (size_t i = 0; i < page->count; i++)
        if (!summary_cache_get(page->ids[i]))
            missing[n++] = page->ids[i];
    json_t *read = n ? tool_record_summaries(db, missing, n, err) : json_array();
    json_t *list = read ? json_array() : NULL;
    for (size_t i = 0; list && i < page->count; i++) {
        /* read first: two tools of one page may share a slot, so the cache may have lost one */
        json_t *s = search_summary_among(read, page->ids[i]);
        if (!s)
            s = summary_cache_get(page->ids[i]);
        if (s && json_array_append(list, s) < 0) { /* none: no longer published since the index read */
            json_decref(list);
            list = NULL;
        }
    }
    size_t i;
    json_t *s;
    json_array_foreach(read, i, s)
        summary_cache_put(search_summary_id(s), s);
    json_decref(read);
    if (!list && err->kind == ERROR_NONE)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return list;
}

int search_summaries_write(db *db, const search_page *page, json_text *out, mkt_error *err)
{
    json_t *list = search_summaries(db, page, err);
    if (!list)
        return -1;
    json_text_lit(out, "[");
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) {
        int64_t id = search_summary_id(s);
        size_t len = 0;
        /* the cache's own object has its text kept; another (a page not from the index) is dumped */
        const char *text = summary_cache_get(id) == s ? summary_cache_text(id, &len) : NULL;
        if (i)
            json_text_lit(out, ",");
        if (text)
            json_text_raw(out, text, len);
        else
            json_text_value(out, s);
    }
    json_text_lit(out, "]");
    json_decref(list);
    return 0;
}

/* ---- did you mean --------------------------------------------------------------------------------- */

#define SEARCH_CANDIDATES_MAX 8
#define SEARCH_CORRECT_WORDS_MAX 4

typedef struct {
    char word[SEARCH_TEXT_WORD_MAX * 4 + 1];
    int distance;
    int64_t uses; /* published tools with this title word; categories count as used */
} search_candidate;

typedef struct {
    search_candidate c[SEARCH_CANDIDATES_MAX];
    size_t count;
    int known; /* the word itself names something: leave it as it is */
} search_candidates;

/* Counted up to 1000 only: it breaks ties between spellings, and a common word must not
 * cost a count of every tool that uses it. */
#define SEARCH_USES_CAP_TEXT "1000"

static int64_t search_word_uses(db *db, const char *word, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM search_terms w JOIN tools t FORCE INDEX (tools_search_card)"
                 " ON t.id = w.tool_id"
                 " WHERE w.word = ? AND t.status = 'published' LIMIT " SEARCH_USES_CAP_TEXT ") u)"
                 " + COALESCE((SELECT category FROM search_vocabulary WHERE word = ?), 0)",
                 DB_PARAMS(db_text(word), db_text(word)), &rows, err) < 0)
        return -1;
    int64_t n = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    return n;
}

static int search_candidate_better(const search_candidate *a, const search_candidate *b)
{
    if (a->distance != b->distance)
        return a->distance < b->distance;
    if (a->uses != b->uses)
        return a->uses > b->uses;
    return strcmp(a->word, b->word) < 0;
}

/* Keeps the SEARCH_CANDIDATES_MAX nearest (by distance, then word) in c, sorted. */
static void search_candidate_keep(search_candidates *c, const char *word, int distance)
{
    search_candidate n = {.distance = distance};
    snprintf(n.word, sizeof n.word, "%s", word);
    size_t at = c->count;
    while (at > 0 && search_candidate_better(&n, &c->c[at - 1]))
        at--;
    if (at >= SEARCH_CANDIDATES_MAX)
        return;
    size_t move = (c->count < SEARCH_CANDIDATES_MAX ? c->count : SEARCH_CANDIDATES_MAX - 1) - at;
    memmove(&c->c[at + 1], &c->c[at], move * sizeof c->c[0]);
    c->c[at] = n;
    if (c->count < SEARCH_CANDIDATES_MAX)
        c->count++;
}

/* Candidates are narrowed cheaply before any distance is computed: the same first character and a
 * length within the distance, an index range read on (chars, word) per length. A typo in the first
 * letter is not corrected; that is the price of never scanning the vocabulary. */
static int search_candidates_read(db *db, const char *word, search_candidates *out, mkt_error *err)
{
    size_t first = 1;
    while ((word[first] & 0xC0) == 0x80)
        first++;
    char prefix[8];
    snprintf(prefix, sizeof prefix, "%.*s%%", (int)first, word);
    int64_t chars = (int64_t)search_text_chars(word);
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT word FROM search_vocabulary WHERE chars IN (?, ?, ?, ?, ?) AND word LIKE ?",
                 DB_PARAMS(db_int(chars - 2), db_int(chars - 1), db_int(chars), db_int(chars + 1), db_int(chars + 2),
                           db_text(prefix)),
                 &rows, err) < 0)
        return -1;
    for (size_t i = 0; i < rows.row_count; i++) {
        const char *candidate = db_rows_text(&rows, i, 0);
        int d = search_text_distance(word, candidate, SEARCH_TEXT_DISTANCE_MAX);
        if (d <= SEARCH_TEXT_DISTANCE_MAX)
            search_candidate_keep(out, candidate, d);
    }
    db_rows_free(&rows);
    return 0;
}

/* The nearest words that some published tool (or a category) uses, best first. */
static int search_candidates_for(db *db, const char *word, search_candidates *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    if (search_text_chars(word) < SEARCH_TEXT_MIN_TOKEN) {
        out->known = 1; /* too short to correct with any confidence */
        return 0;
    }
    search_candidates near = {0};
    if (search_candidates_read(db, word, &near, err) < 0)
        return -1;
    for (size_t i = 0; i < near.count; i++) {
        int64_t uses = search_word_uses(db, near.c[i].word, err);
        if (uses < 0)
            return -1;
        if (uses == 0)
            continue;
        if (near.c[i].distance == 0) {
            out->known = 1;
            return 0;
        }
        near.c[i].uses = uses;
        out->c[out->count++] = near.c[i];
    }
    /* re-sort: uses now break ties between equal distances */
    for (size_t i = 1; i < out->count; i++)
        for (size_t j = i; j > 0 && search_candidate_better(&out->c[j], &out->c[j - 1]); j--) {
            search_candidate t = out->c[j];
            out->c[j] = out->c[j - 1];
            out->c[j - 1] = t;
        }
    return 0;
}

/* The words with word `vary` replaced by its candidate `pick` (every other unknown word by its best). */
static int search_spelling(const search_text_words *w, search_candidates *c, size_t vary, size_t pick, char *out,
                           size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < w->count; i++) {
        const char *word = w->word[i];
        if (!c[i].known && c[i].count)
            word = c[i].c[i == vary ? pick : 0].word;
        int n = snprintf(out + len, size - len, "%s%s", i ? " " : "", word);
        if (n < 0 || (size_t)n >= size - len)
            return -1;
        len += (size_t)n;
    }
    return 0;
}

static int search_suggestions_build(const search_text_words *w, search_candidates *c, size_t max, json_t *list)
{
    size_t vary = w->count;
    for (size_t i = 0; i < w->count; i++)
        if (!c[i].known && c[i].count && vary == w->count)
            vary = i;
    if (vary == w->count)
        return 0; /* nothing to correct */
    char text[SEARCH_TEXT_BOOLEAN_SIZE];
    for (size_t pick = 0; pick < c[vary].count && json_array_size(list) < max; pick++)
        if (search_spelling(w, c, vary, pick, text, sizeof text) == 0 &&
            json_array_append_new(list, json_string(text)) < 0)
            return -1;
    return 0;
}

json_t *search_did_you_mean(db *db, const char *text, size_t max, mkt_error *err)
{
    search_text_words *w = malloc(sizeof *w);
    search_candidates *c = malloc(sizeof *c * SEARCH_TEXT_WORDS_MAX);
    json_t *list = json_array();
    if (!w || !c || !list)
        goto oom;
    search_text_split(text ? text : "", w);
    /* the first few words only: each costs a few index reads, and a query is rarely all typos */
    for (size_t i = 0; i < w->count; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].known = i >= SEARCH_CORRECT_WORDS_MAX;
        if (!c[i].known && search_candidates_for(db, w->word[i], &c[i], err) < 0)
            goto fail;
    }
    if (search_suggestions_build(w, c, max, list) < 0)
        goto oom;
    free(w);
    free(c);
    return list;
oom:
    error_set(err, ERROR_INTERNAL, "out of memory");
fail:
    free(w);
    free(c);
    json_decref(list);
    return NULL;
}

/* ---- suggest ------------------------------------------------------------------------------------ */

typedef struct {
    json_t *item;
    int64_t downloads;
} search_hint;

/* One suggestion onto out: a tool (text = its name, with its slug) or a tag (slug NULL). */
static void search_hint_add(search_hint *out, size_t *count, const char *text, const char *slug, int64_t downloads)
{
    out[*count].item = slug ? json_pack("{s:s, s:s, s:s}", "text", text, "kind", "tool", "slug", slug)
                            : json_pack("{s:s, s:s}", "text", text, "kind", "tag");
    out[*count].downloads = downloads;
    if (out[*count].item)
        ++*count;
}

static int search_hints_tools(db *db, const char *prefix, size_t max, search_hint *out, size_t *count,
                              mkt_error *err)
{
    char like[SEARCH_TEXT_BOOLEAN_SIZE + 2];
    snprintf(like, sizeof like, "%s%%", prefix);
    db_rows rows = {0};
    if (db_query(db,
                 /* the ten most downloaded from narrow indexes first; only their rows are read */
                 "SELECT t.name, t.slug, top.downloads FROM (SELECT c.id, c.downloads FROM search_documents s"
                 " JOIN tools c FORCE INDEX (tools_search_card) ON c.id = s.tool_id"
                 " WHERE s.name_norm LIKE ? AND c.status = 'published' ORDER BY c.downloads DESC, c.id DESC LIMIT ?) top"
                 " JOIN tools t ON t.id = top.id ORDER BY top.downloads DESC, top.id DESC",
                 DB_PARAMS(db_text(like), db_int((int64_t)max)), &rows, err) < 0)
        return -1;
    for (size_t i = 0; i < rows.row_count; i++)
        search_hint_add(out, count, db_rows_text(&rows, i, 0), db_rows_text(&rows, i, 1), db_rows_int(&rows, i, 2));
    db_rows_free(&rows);
    return 0;
}

static int search_hints_tags(db *db, const char *tag_prefix, size_t max, search_hint *out, size_t *count,
                             mkt_error *err)
{
    if (!search_ascii(tag_prefix)) /* tags are ASCII: nothing starts like this */
        return 0;
    char like[SEARCH_TEXT_BOOLEAN_SIZE + 2];
    snprintf(like, sizeof like, "%s%%", tag_prefix);
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT g.tag, SUM(t.downloads) AS d FROM tool_tags g JOIN tools t FORCE INDEX (tools_search_card)"
                 " ON t.id = g.tool_id"
                 " WHERE g.tag LIKE ? AND t.status = 'published' GROUP BY g.tag ORDER BY d DESC, g.tag LIMIT ?",
                 DB_PARAMS(db_text(like), db_int((int64_t)max)), &rows, err) < 0)
        return -1;
    for (size_t i = 0; i < rows.row_count; i++)
        search_hint_add(out, count, db_rows_text(&rows, i, 0), NULL, db_rows_int(&rows, i, 1));
    db_rows_free(&rows);
    return 0;
}

/* The memory engine's suggestions, when this worker has its index: 1 with hints, 0 none (SQL
 * answers), -1 with err. The same lists as the two reads below, tools before tags. */
static int search_hints_memory(db *db, const char *name_form, const char *tag_form, size_t max, search_hint *out,
                               size_t *count, mkt_error *err)
{
    if (!search_mem.ix)
        return 0;
    search_index *ix = search_mem_ready(db, 0, err);
    if (!ix)
        return err->kind != ERROR_NONE ? -1 : 0;
    search_index_hint *tools = calloc(2 * max, sizeof *tools);
    size_t tool_count = 0, tag_count = 0;
    if (!tools || search_index_suggest(ix, name_form, search_ascii(tag_form) ? tag_form : "", max, tools, &tool_count,
                                       tools + max, &tag_count) < 0) {
        free(tools);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < tool_count; i++)
        search_hint_add(out, count, tools[i].text, tools[i].slug, tools[i].downloads);
    for (size_t i = 0; i < tag_count; i++)
        search_hint_add(out, count, tools[max + i].text, NULL, tools[max + i].downloads);
    free(tools);
    return 1;
}

static int search_hint_cmp(const void *a, const void *b)
{
    const search_hint *x = a, *y = b;
    return x->downloads < y->downloads ? 1 : x->downloads > y->downloads ? -1 : 0;
}

json_t *search_suggest(db *db, const char *prefix, size_t max, mkt_error *err)
{
    search_text_words w;
    search_text_split(prefix ? prefix : "", &w);
    char name_form[SEARCH_TEXT_BOOLEAN_SIZE], tag_form[SEARCH_TEXT_BOOLEAN_SIZE];
    search_text_join(&w, ' ', name_form, sizeof name_form);
    search_text_join(&w, '-', tag_form, sizeof tag_form);
    json_t *list = json_array();
    if (!list || w.count == 0 || max == 0 || search_text_chars(name_form) < SEARCH_PREFIX_MIN) {
        if (!list)
            error_set(err, ERROR_INTERNAL, "out of memory");
        return list;
    }
    search_hint *hints = calloc(2 * max, sizeof *hints);
    size_t count = 0;
    int rc = hints ? 0 : error_set(err, ERROR_INTERNAL, "out of memory");
    int memory = rc == 0 ? search_hints_memory(db, name_form, tag_form, max, hints, &count, err) : 0;
    rc = memory < 0 ? -1 : rc;
    if (rc == 0 && !memory)
        rc = search_hints_tools(db, name_form, max, hints, &count, err);
    if (rc == 0 && !memory)
        rc = search_hints_tags(db, tag_form, max, hints, &count, err);
    if (rc == 0) {
        /* a stable order for equal downloads: tools came first, so merge by insertion */
        for (size_t i = 1; i < count; i++)
            for (size_t j = i; j > 0 && search_hint_cmp(&hints[j - 1], &hints[j]) > 0; j--) {
                search_hint t = hints[j];
                hints[j] = hints[j - 1];
                hints[j - 1] = t;
            }
    }
    for (size_t i = 0; i < count; i++) {
        if (rc == 0 && i < max && json_array_append(list, hints[i].item) < 0)
            rc = error_set(err, ERROR_INTERNAL, "out of memory");
        json_decref(hints[i].item);
    }
    free(hints);
    if (rc < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* ---- the index ---------------------------------------------------------------------------------- */

enum { ICOL_STATUS, ICOL_SLUG, ICOL_NAME, ICOL_SUMMARY, ICOL_DESCRIPTION, ICOL_CATEGORY, ICOL_TAGS };

/* The distinct words of a normalized title, sorted (so concurrent writers take vocabulary row
 * locks in one order), each cut to the longest word InnoDB indexes. */
#define SEARCH_TITLE_WORDS_MAX 128

typedef struct {
    char *word[SEARCH_TITLE_WORDS_MAX];
    size_t count;
} search_title_words;

static int search_word_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void search_title_split(char *title_copy, search_title_words *out)
{
    out->count = 0;
    for (char *save = NULL, *w = strtok_r(title_copy, " ", &save); w && out->count < SEARCH_TITLE_WORDS_MAX;
         w = strtok_r(NULL, " ", &save)) {
        size_t bytes = 0, chars = 0;
        while (w[bytes] && chars < SEARCH_TEXT_WORD_MAX) {
            bytes++;
            while ((w[bytes] & 0xC0) == 0x80)
                bytes++;
            chars++;
        }
        w[bytes] = '\0';
        out->word[out->count++] = w;
    }
    qsort(out->word, out->count, sizeof out->word[0], search_word_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < out->count; i++)
        if (kept == 0 || strcmp(out->word[kept - 1], out->word[i]) != 0)
            out->word[kept++] = out->word[i];
    out->count = kept;
}

/* Words are written 16 to a statement, one statement text for any count: a short last chunk repeats
 * its last word, which the duplicate key turns into a no-op. */
#define SEARCH_WORDS_PER_INSERT 16
#define SEARCH_PAIRS4 "(?, ?), (?, ?), (?, ?), (?, ?)"
#define SEARCH_PAIRS16 SEARCH_PAIRS4 ", " SEARCH_PAIRS4 ", " SEARCH_PAIRS4 ", " SEARCH_PAIRS4

static int search_words_insert(db *db, int64_t id, const search_title_words *words, size_t from, mkt_error *err)
{
    db_value terms[2 * SEARCH_WORDS_PER_INSERT], vocabulary[2 * SEARCH_WORDS_PER_INSERT];
    for (size_t k = 0; k < SEARCH_WORDS_PER_INSERT; k++) {
        size_t i = from + k < words->count ? from + k : words->count - 1;
        terms[2 * k] = db_int(id);
        terms[2 * k + 1] = vocabulary[2 * k] = db_text(words->word[i]);
        vocabulary[2 * k + 1] = db_int((int64_t)search_text_chars(words->word[i]));
    }
    if (db_exec(db,
                "INSERT INTO search_terms (tool_id, word) VALUES " SEARCH_PAIRS16 " ON DUPLICATE KEY UPDATE word = word",
                terms, 2 * SEARCH_WORDS_PER_INSERT, NULL, err) < 0)
        return -1;
    return db_exec(db,
                   "INSERT INTO search_vocabulary (word, chars) VALUES " SEARCH_PAIRS16
                   " ON DUPLICATE KEY UPDATE chars = VALUES(chars)",
                   vocabulary, 2 * SEARCH_WORDS_PER_INSERT, NULL, err);
}

static int search_terms_write(db *db, int64_t id, const char *title, mkt_error *err)
{
    char *copy = strdup(title);
    if (!copy)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    search_title_words words;
    search_title_split(copy, &words);
    int rc = 0;
    for (size_t from = 0; rc == 0 && from < words.count; from += SEARCH_WORDS_PER_INSERT)
        rc = search_words_insert(db, id, &words, from, err);
    free(copy);
    return rc;
}

static int search_document_write(db *db, int64_t id, const db_rows *rows, mkt_error *err)
{
    const char *title_parts[] = {db_rows_text(rows, 0, ICOL_NAME), db_rows_text(rows, 0, ICOL_SLUG),
                                 db_rows_text(rows, 0, ICOL_TAGS)};
    const char *body_parts[] = {db_rows_text(rows, 0, ICOL_SUMMARY), db_rows_text(rows, 0, ICOL_DESCRIPTION),
                                db_rows_text(rows, 0, ICOL_CATEGORY)};
    char *name = search_text_normalize_parts(title_parts, 1, 0);
    char *title = search_text_normalize_parts(title_parts, 3, 0);
    char *body = search_text_normalize_parts(body_parts, 3, 0);
    int rc = name && title && body ? 0 : error_set(err, ERROR_INTERNAL, "out of memory");
    if (rc == 0)
        rc = db_exec(db,
                     "INSERT INTO search_documents (tool_id, slug, name_norm, title, body) VALUES (?, ?, ?, ?, ?)"
                     " ON DUPLICATE KEY UPDATE slug = VALUES(slug), name_norm = VALUES(name_norm),"
                     " title = VALUES(title), body = VALUES(body)",
                     DB_PARAMS(db_int(id), db_text(db_rows_text(rows, 0, ICOL_SLUG)), db_text(name), db_text(title),
                               db_text(body)),
                     NULL, err);
    if (rc == 0)
        rc = search_terms_write(db, id, title, err);
    free(name);
    free(title);
    free(body);
    return rc;
}

int search_index_tool(db *db, int64_t id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT t.status, t.slug, t.name, t.summary, t.description, t.category,"
                 " (SELECT GROUP_CONCAT(g.tag ORDER BY g.tag SEPARATOR ' ') FROM tool_tags g WHERE g.tool_id = t.id)"
                 " FROM tools t WHERE t.id = ?",
                 DB_PARAMS(db_int(id)), &rows, err) < 0)
        return -1;
    int published = rows.row_count > 0 && strcmp(db_rows_text(&rows, 0, ICOL_STATUS), "published") == 0;
    int rc = db_exec(db, "DELETE FROM search_terms WHERE tool_id = ?", DB_PARAMS(db_int(id)), NULL, err);
    if (rc == 0 && published)
        rc = search_document_write(db, id, &rows, err);
    else if (rc == 0)
        rc = db_exec(db, "DELETE FROM search_documents WHERE tool_id = ?", DB_PARAMS(db_int(id)), NULL, err);
    db_rows_free(&rows);
    return rc;
}

/* ---- catching up ---------------------------------------------------------------------------------- */

#define SEARCH_BACKFILL_BATCH 200
#define SEARCH_BACKFILL_EVERY_S 60
/* A worker serves nothing while its hook runs: one tick indexes for about this long at most. */
#define SEARCH_BACKFILL_TICK_MS 200

static int search_backfill_one(db *db, void *arg, mkt_error *err)
{
    return search_index_tool(db, *(const int64_t *)arg, err);
}

/* One worker at a time (a named lock, not waited for): the others would only redo the same batch. */
static int search_backfill_lock(db *db, int take, mkt_error *err)
{
    db_rows rows = {0};
    const char *sql = take ? "SELECT GET_LOCK('marketplace.search_backfill', 0)"
                           : "SELECT RELEASE_LOCK('marketplace.search_backfill')";
    if (db_query(db, sql, DB_NO_PARAMS, &rows, err) < 0)
        return -1;
    int got = db_rows_int(&rows, 0, 0) == 1;
    db_rows_free(&rows);
    return got;
}

static int64_t search_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int search_backfill_batch(db *db, int64_t budget_ms, mkt_error *err)
{
    int64_t until = search_now_ms() + budget_ms;
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT t.id FROM tools t LEFT JOIN search_documents s ON s.tool_id = t.id"
                 " WHERE t.status = 'published' AND s.tool_id IS NULL ORDER BY t.id LIMIT ?",
                 DB_PARAMS(db_int(SEARCH_BACKFILL_BATCH)), &rows, err) < 0)
        return -1;
    int done = 0;
    for (size_t i = 0; i < rows.row_count && (budget_ms <= 0 || search_now_ms() < until); i++) {
        int64_t id = db_rows_int(&rows, i, 0);
        if (db_transaction(db, search_backfill_one, &id, err) < 0) {
            done = -1;
            break;
        }
        done++;
    }
    db_rows_free(&rows);
    return done;
}

int search_index_missing(db *db, int64_t budget_ms, mkt_error *err)
{
    int locked = search_backfill_lock(db, 1, err);
    if (locked <= 0)
        return locked;
    int done = search_backfill_batch(db, budget_ms, err);
    mkt_error ignored = MKT_ERROR_INIT;
    search_backfill_lock(db, 0, &ignored); /* a lost connection releases it anyway */
    error_clear(&ignored);
    return done;
}

/* The worker hook asks for the database once a tick, and only when something is due:
 *   - indexing published tools without a document: about once a minute, every second while there
 *     is work;
 *   - pruning the change feed past SEARCH_FEED_KEEP_S: a bounded batch a minute (a worker further
 *     behind rebuilds);
 *   - with the memory engine, building the index (up to SEARCH_BACKFILL_TICK_MS a tick, so a request
 *     arriving waits that long at most) and reading the feed once a minute while idle, so a quiet
 *     worker never falls behind the pruning.
 * A failure waits for the next minute. */
#define SEARCH_FEED_PRUNE_EVERY_S 60
#define SEARCH_FEED_PRUNE_BATCH 10000

typedef struct {
    time_t backfill_at, prune_at, memory_at;
} search_ticks;

static search_ticks search_tick;

static int search_memory_due(const service_worker *sw, time_t now)
{
    if (!search_engine_memory(sw->cfg) || now < search_tick.memory_at)
        return 0;
    return !search_mem.ix || search_mem.behind || now - search_mem.read_at >= SEARCH_FEED_PRUNE_EVERY_S;
}

static void search_backfill_tick(db *db, time_t now)
{
    mkt_error err = MKT_ERROR_INIT;
    int done = search_index_missing(db, SEARCH_BACKFILL_TICK_MS, &err);
    if (done < 0)
        log_warn("search: indexing published tools failed: %s", err.message ? err.message : "?");
    else if (done > 0)
        log_info("search: indexed %d published tools that had no search document", done);
    search_tick.backfill_at = now + (done > 0 ? 1 : SEARCH_BACKFILL_EVERY_S);
    error_clear(&err);
}

static void search_prune_tick(db *db, time_t now)
{
    mkt_error err = MKT_ERROR_INIT;
    search_tick.prune_at = now + SEARCH_FEED_PRUNE_EVERY_S;
    if (db_exec(db, "DELETE FROM search_changes WHERE changed_at < NOW(6) - INTERVAL ? SECOND LIMIT ?",
                DB_PARAMS(db_int(SEARCH_FEED_KEEP_S), db_int(SEARCH_FEED_PRUNE_BATCH)), NULL, &err) < 0)
        log_warn("search: pruning the change feed failed: %s", err.message ? err.message : "?");
    error_clear(&err);
}

static void search_memory_tick(db *db, time_t now)
{
    mkt_error err = MKT_ERROR_INIT;
    int64_t until = search_now_ms() + SEARCH_BACKFILL_TICK_MS;
    int rc = 0;
    while (rc == 0 && !search_mem.ix && search_now_ms() < until)
        rc = search_mem_build_step(db, &search_mem, &err) < 0 ? -1 : 0;
    do /* once to follow the feed; again while behind a burst and the tick has time */
        if (rc == 0 && search_mem.ix && !search_mem_ready(db, 0, &err) && err.kind != ERROR_NONE)
            rc = -1;
    while (rc == 0 && search_mem.ix && search_mem.behind && search_now_ms() < until);
    if (rc < 0) {
        log_warn("search: the in-memory index: %s", err.message ? err.message : "?");
        search_tick.memory_at = now + SEARCH_FEED_PRUNE_EVERY_S;
    }
    error_clear(&err);
}

static void search_idle_hook(service_worker *sw)
{
    time_t now = time(NULL);
    int backfill = now >= search_tick.backfill_at, prune = now >= search_tick.prune_at;
    int memory = search_memory_due(sw, now);
    if (!backfill && !prune && !memory)
        return;
    mkt_error err = MKT_ERROR_INIT;
    db *db = sw->db(sw, &err);
    if (!db) {
        log_warn("search: %s", err.message ? err.message : "?");
        search_tick.backfill_at = search_tick.prune_at = search_tick.memory_at = now + SEARCH_FEED_PRUNE_EVERY_S;
        error_clear(&err);
        return;
    }
    if (backfill)
        search_backfill_tick(db, now);
    if (prune)
        search_prune_tick(db, now);
    if (memory)
        search_memory_tick(db, now);
}

static void search_exit_hook(service_worker *sw)
{
    (void)sw;
    search_index_free(search_mem.ix);
    search_mem.ix = NULL;
    search_mem_build_drop(&search_mem);
    search_mem_kept_clear();
}

const service_hooks search_service = {.name = "search", .worker_idle = search_idle_hook,
                                      .worker_exit = search_exit_hook};

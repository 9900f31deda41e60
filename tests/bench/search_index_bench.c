/* The in-memory search index in-process: what one query costs the worker that runs it, without
 * nginx, FastCGI or MariaDB, and without the queueing a shared machine adds to wall-clock figures
 * (the cost is the thread's CPU time).
 *
 *   bench_search_index DOCS.tsv [REPEAT] QUERY...
 *
 * DOCS.tsv: one published tool per line, the columns of core/search.c's SEARCH_MEM_COLUMNS in
 * their order (tests/bench/search.sh exports them from a seeded stack with the mariadb client).
 * QUERY: `key=value&...` with q, category, pricing, tags (comma separated), sort (relevance,
 * rating, downloads, newest, trending, price_asc, price_desc), page, per_page (default 20),
 * max_price (cents), min_rating (hundredths), developer; or `suggest=P`; or `trend_days=N` (the
 * trending list of tools with activity in N days; category and page apply).
 * Prints the build time and size, then per query its total and the p50 / p99 / max CPU time of
 * REPEAT runs (default 200). REPEAT 0 prints each query's answer instead (total, the page's ids,
 * the facets; "now" fixed), so two builds' answers can be compared with diff. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/search_index.h"

enum { COL_ID, COL_SLUG, COL_NAME, COL_TITLE, COL_BODY, COL_CATEGORY, COL_PRICING, COL_PRICE, COL_RATING_COUNT,
       COL_RATING_SUM, COL_DOWNLOADS, COL_DEVELOPER, COL_PUBLISHED, COL_TREND, COL_TAGS, COL_RAW_NAME, COL_TREND_AT,
       COLS };

static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static const char *field(char **col, int i)
{
    return strcmp(col[i], "NULL") == 0 ? NULL : col[i];
}

static int load_line(search_index *ix, char *line)
{
    char *col[COLS];
    for (int i = 0; i < COLS; i++) {
        col[i] = strsep(&line, "\t\n");
        if (!col[i])
            return -1;
    }
    const char *trend = field(col, COL_TREND), *tags = field(col, COL_TAGS);
    search_index_doc d = {
        .id = strtoll(col[COL_ID], NULL, 10), .slug = col[COL_SLUG], .name = col[COL_RAW_NAME],
        .name_norm = col[COL_NAME], .title_norm = col[COL_TITLE], .body_norm = col[COL_BODY],
        .category = col[COL_CATEGORY], .pricing = col[COL_PRICING], .tags = tags ? tags : "",
        .price_cents = strtoll(col[COL_PRICE], NULL, 10), .rating_count = strtoll(col[COL_RATING_COUNT], NULL, 10),
        .rating_sum = strtoll(col[COL_RATING_SUM], NULL, 10), .downloads = strtoll(col[COL_DOWNLOADS], NULL, 10),
        .developer_id = strtoll(col[COL_DEVELOPER], NULL, 10), .published_us = strtoll(col[COL_PUBLISHED], NULL, 10),
        .has_trend = trend != NULL, .trend = trend ? strtod(trend, NULL) : 0,
        .trend_at_us = field(col, COL_TREND_AT) ? strtoll(col[COL_TREND_AT], NULL, 10) : 0,
    };
    return search_index_put(ix, &d);
}

static search_index_sort sort_named(const char *s)
{
    static const char *const names[] = {"relevance", "rating", "downloads", "newest", "trending", "price_asc",
                                        "price_desc"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return (search_index_sort)i;
    fprintf(stderr, "unknown sort %s\n", s);
    exit(2);
}

/* Fills q from "key=value&..." (text kept in buf); returns the suggest prefix or NULL. */
static const char *query_parse(char *buf, search_index_query *q, int64_t *trend_after_us)
{
    const char *suggest = NULL;
    int64_t page = 1;
    for (char *part; (part = strsep(&buf, "&"));) {
        char *value = strchr(part, '=');
        if (!value)
            continue;
        *value++ = '\0';
        if (strcmp(part, "q") == 0)
            q->q = value;
        else if (strcmp(part, "category") == 0)
            q->category = value;
        else if (strcmp(part, "pricing") == 0)
            q->pricing = value;
        else if (strcmp(part, "sort") == 0)
            q->sort = sort_named(value);
        else if (strcmp(part, "page") == 0)
            page = strtoll(value, NULL, 10);
        else if (strcmp(part, "per_page") == 0)
            q->limit = strtoll(value, NULL, 10);
        else if (strcmp(part, "max_price") == 0)
            q->max_price_cents = strtoll(value, NULL, 10);
        else if (strcmp(part, "min_rating") == 0)
            q->min_rating_hundredths = strtoll(value, NULL, 10);
        else if (strcmp(part, "developer") == 0)
            q->developer_id = strtoll(value, NULL, 10);
        else if (strcmp(part, "trend_days") == 0) /* the trending list's window */
            *trend_after_us = q->now_us - strtoll(value, NULL, 10) * 86400 * INT64_C(1000000);
        else if (strcmp(part, "suggest") == 0)
            suggest = value;
        else if (strcmp(part, "tags") == 0)
            for (char *t; q->tag_count < SEARCH_INDEX_TAGS_MAX && (t = strsep(&value, ","));)
                q->tags[q->tag_count++] = t;
    }
    q->offset = (page - 1) * q->limit;
    return suggest;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The page's ids (and the facets when any) on one line. */
static void print_answer(const char *text, int64_t total, const int64_t *ids, size_t count, json_t *facets)
{
    printf("%s\t%" PRId64 "\t", text, total);
    for (size_t i = 0; i < count; i++)
        printf("%s%" PRId64, i ? "," : "", ids[i]);
    char *f = facets ? json_dumps(facets, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    printf("\t%s\n", f ? f : "-");
    free(f);
}

/* Runs the query once: its total; the answer printed when show. */
static int64_t run_once(search_index *ix, const search_index_query *q, const char *text, const char *suggest,
                        int64_t trend_after_us, int show)
{
    if (suggest) {
        search_index_hint tools[10], tags[10];
        size_t nt = 0, ng = 0;
        if (search_index_suggest(ix, suggest, suggest, 10, tools, &nt, tags, &ng) < 0)
            exit(1);
        for (size_t i = 0; show && i < nt + ng; i++)
            printf("%s\t%s\n", text, i < nt ? tools[i].text : tags[i - nt].text);
        return (int64_t)(nt + ng);
    }
    int64_t ids[100];
    search_index_result r = {.ids = ids, .cap = 100};
    if (trend_after_us) {
        if (search_index_trending(ix, trend_after_us, q->category, q->offset, q->limit, &r) < 0)
            exit(1);
    } else if (search_index_run(ix, q, &r) < 0) {
        exit(1);
    }
    if (show)
        print_answer(text, r.total, ids, r.count, r.facets);
    json_decref(r.facets);
    return r.total;
}

static void bench_query(search_index *ix, const char *text, int repeat, int64_t now_us)
{
    char *buf = strdup(text);
    search_index_query q = {.limit = 20, .max_price_cents = -1, .weight_text = 60, .weight_rating = 25,
                            .weight_downloads = 10, .weight_freshness = 5, .freshness_seconds = 30 * 86400,
                            .prior_weight = 10, .all_count = 100000, .all_sum = 380000, .now_us = now_us};
    int64_t trend_after_us = 0;
    const char *suggest = query_parse(buf, &q, &trend_after_us);
    if (repeat == 0) {
        run_once(ix, &q, text, suggest, trend_after_us, 1);
        free(buf);
        return;
    }
    double *t = malloc((size_t)repeat * sizeof *t);
    int64_t total = 0;
    for (int i = 0; i < repeat; i++) {
        double start = cpu_us();
        total = run_once(ix, &q, text, suggest, trend_after_us, 0);
        t[i] = cpu_us() - start;
    }
    qsort(t, (size_t)repeat, sizeof *t, cmp_double);
    printf("%-32s %8" PRId64 " %10.1f %10.1f %10.1f\n", text, total, t[repeat / 2], t[repeat * 99 / 100],
           t[repeat - 1]);
    free(t);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DOCS.tsv [REPEAT] QUERY...\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    int first = 2, repeat = 200;
    if (argc > 3 && strspn(argv[2], "0123456789") == strlen(argv[2])) {
        repeat = atoi(argv[2]);
        first = 3;
    }
    search_index *ix = search_index_new();
    char *line = NULL;
    size_t cap = 0;
    double start = cpu_us();
    int64_t now_us = 0;
    while (getline(&line, &cap, f) > 0)
        if (load_line(ix, line) < 0) {
            fprintf(stderr, "a line without %d columns\n", COLS);
            return 1;
        }
    free(line);
    fclose(f);
    search_index_trim(ix);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    if (repeat == 0) { /* answers: the same "now" in every build and run */
        now_us = INT64_C(1796000000) * 1000000;
        for (int i = first; i < argc; i++)
            bench_query(ix, argv[i], 0, now_us);
        search_index_free(ix);
        return 0;
    }
    printf("index: %zu tools, built in %.0f ms of CPU, about %zu KiB\n", search_index_count(ix),
           (cpu_us() - start) / 1000, search_index_bytes(ix) / 1024);
    printf("%-32s %8s %10s %10s %10s\n", "query", "total", "p50 us", "p99 us", "max us");
    for (int i = first; i < argc; i++)
        bench_query(ix, argv[i], repeat, now_us);
    search_index_free(ix);
    return 0;
}

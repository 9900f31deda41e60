/* core/search_index: matching (AND of words, the last by prefix, short-word rules), exact names
 * first, filters, facets over every match, the sorts, paging, and put/replace/remove. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/search_index.h"
#include "tests/support/check.h"

#define DAY_US (86400LL * 1000000LL)
#define NOW_US (1800000000LL * 1000000LL)

static search_index_doc doc(int64_t id, const char *slug, const char *name, const char *summary, const char *tags)
{
    return (search_index_doc){.id = id, .slug = slug, .name = name, .summary = summary, .description = "",
                              .category = "data", .pricing = "free", .tags = tags, .developer_id = 1,
                              .published_us = NOW_US - 10 * DAY_US};
}

static search_index_query query(const char *q)
{
    return (search_index_query){.q = q, .max_price_cents = -1, .limit = 20, .weight_text = 100, .weight_rating = 40,
                                .weight_downloads = 30, .weight_freshness = 10, .freshness_seconds = 30 * 86400,
                                .prior_weight = 10, .now_us = NOW_US};
}

static int64_t ids[100];

/* Runs q; the page in ids, the total returned (facets dropped unless kept). */
static int64_t run(search_index *ix, const search_index_query *q, size_t *count, json_t **facets)
{
    search_index_result r = {.ids = ids, .cap = 100};
    if (search_index_run(ix, q, &r) < 0)
        return -1;
    *count = r.count;
    if (facets)
        *facets = r.facets;
    else
        json_decref(r.facets);
    return r.total;
}

static int64_t total_of(search_index *ix, const char *q)
{
    search_index_query sq = query(q);
    size_t n;
    return run(ix, &sq, &n, NULL);
}

static search_index *catalogue(void)
{
    search_index *ix = search_index_new();
    search_index_doc d[] = {
        doc(1, "csv-cleaner", "CSV Cleaner", "Cleans csv files", "csv data"),
        doc(2, "json-pretty", "JSON Pretty", "Formats json documents", "json format"),
        doc(3, "jsonl-split", "JSONL Split", "Splits jsonl into csv", "json"),
        doc(4, "yaml-tool", "YAML Tool", "Converts yaml to json and json to yaml", "yaml"),
        doc(5, "the-who", "The Who", "A band name checker", "music"),
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        CHECK_INT(search_index_put(ix, &d[i]), 0);
    return ix;
}

static void test_matching(void)
{
    search_index *ix = catalogue();
    CHECK_INT(search_index_count(ix), 5);
    CHECK_INT(total_of(ix, "json"), 3);        /* title or body; jsonl by prefix as the last word */
    CHECK_INT(total_of(ix, "json yaml"), 1);   /* every word must appear */
    CHECK_INT(total_of(ix, "json pretty"), 1);
    CHECK_INT(total_of(ix, "jsonl csv"), 1);   /* any order, any field */
    CHECK_INT(total_of(ix, "json nothing"), 0);
    CHECK_INT(total_of(ix, "cle"), 1);         /* prefix */
    CHECK_INT(total_of(ix, "cle csv"), 0);     /* only the last word is a prefix */
    CHECK_INT(total_of(ix, "js"), 2);          /* a 2-character last word: title words only (not 4's body) */
    CHECK_INT(total_of(ix, "j"), 5);           /* a 1-character last word is dropped */
    CHECK_INT(total_of(ix, "ab json"), 3);     /* a short word that is not last is dropped */
    CHECK_INT(total_of(ix, "the who"), 1);     /* 3 characters: words like any other */
    CHECK_INT(total_of(ix, "a b"), 5);         /* both short: dropped, all listed */
    CHECK_INT(total_of(ix, "band who"), 1);
    CHECK_INT(total_of(ix, "+json -csv*"), 1); /* operators are separators: json and csv, only 3 */
    CHECK_INT(total_of(ix, "JSON-Pretty"), 1);
    CHECK_INT(total_of(ix, ""), 5);
    search_index_free(ix);
}

static void test_relevance(void)
{
    search_index *ix = catalogue();
    size_t n;
    search_index_query q = query("json");
    CHECK_INT(run(ix, &q, &n, NULL), 3);
    CHECK_INT(n, 3);
    /* the title says json: 2 and 3 before 4, which only repeats it in the summary */
    CHECK_INT(ids[2], 4);
    q = query("json pretty");
    run(ix, &q, &n, NULL);
    CHECK_INT(ids[0], 2);
    /* an exact name beats everything, however rated */
    search_index_doc rich = doc(6, "pretty-json-pretty", "Pretty JSON pretty", "json pretty json pretty", "json");
    rich.downloads = 1000000;
    rich.rating_count = 50;
    rich.rating_sum = 250;
    CHECK_INT(search_index_put(ix, &rich), 0);
    run(ix, &q, &n, NULL);
    CHECK_INT(n, 2);
    CHECK_INT(ids[0], 2);
    CHECK_INT(ids[1], 6);
    q = query("csv cleaner");
    run(ix, &q, &n, NULL);
    CHECK_INT(ids[0], 1);
    search_index_free(ix);
}

static void test_filters_facets(void)
{
    search_index *ix = search_index_new();
    for (int64_t i = 1; i <= 30; i++) {
        search_index_doc d = doc(i, "t", "Tool", "json tool", i % 2 ? "json odd" : "json");
        char slug[16];
        snprintf(slug, sizeof slug, "tool-%d", (int)i);
        d.slug = slug;
        d.category = i % 3 ? "data" : "text";
        d.pricing = i % 5 ? "free" : "one_time";
        d.price_cents = i % 5 ? 0 : i * 100;
        d.developer_id = i % 4 + 1;
        d.rating_count = i % 6 ? 2 : 0;
        d.rating_sum = (i % 5 + 1) * 2;
        CHECK_INT(search_index_put(ix, &d), 0);
    }
    size_t n;
    json_t *f = NULL;
    search_index_query q = query("json");
    q.category = "text";
    CHECK_INT(run(ix, &q, &n, &f), 10);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(f, "categories"), "text")), 10);
    CHECK(json_object_get(json_object_get(f, "categories"), "data") == NULL);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(f, "pricing"), "one_time")), 2); /* 15, 30 */
    CHECK_INT(json_integer_value(json_object_get(json_object_get(f, "pricing"), "subscription")), 0);
    json_decref(f);
    q = query(NULL);
    CHECK_INT(run(ix, &q, &n, &f), 30);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(f, "categories"), "data")), 20);
    /* ratings 1..5 by i % 5, unrated when i % 6 == 0: 4+ is i % 5 in {3, 4} and rated */
    int64_t four = 0, two = 0;
    for (int64_t i = 1; i <= 30; i++)
        if (i % 6) {
            four += i % 5 + 1 >= 4;
            two += i % 5 + 1 >= 2;
        }
    CHECK_INT(json_integer_value(json_object_get(json_object_get(f, "rating"), "4+")), four);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(f, "rating"), "2+")), two);
    json_decref(f);
    q.min_rating_hundredths = 400;
    CHECK_INT(run(ix, &q, &n, NULL), four);
    q = query(NULL);
    q.tags[0] = "odd";
    q.tags[1] = "json";
    q.tag_count = 2;
    CHECK_INT(run(ix, &q, &n, NULL), 15);
    q.tags[1] = "nope";
    CHECK_INT(run(ix, &q, &n, NULL), 0);
    q = query(NULL);
    q.max_price_cents = 1000;
    CHECK_INT(run(ix, &q, &n, NULL), 26); /* 24 free + 500 + 1000 */
    q = query(NULL);
    q.pricing = "one_time";
    CHECK_INT(run(ix, &q, &n, NULL), 6);
    q.pricing = "nope";
    CHECK_INT(run(ix, &q, &n, NULL), 0);
    q = query(NULL);
    q.developer_id = 2;
    CHECK_INT(run(ix, &q, &n, NULL), 8); /* i % 4 == 1 */
    q.category = "nope";
    CHECK_INT(run(ix, &q, &n, NULL), 0);
    search_index_free(ix);
}

static void test_sorts_paging(void)
{
    search_index *ix = search_index_new();
    for (int64_t i = 1; i <= 250; i++) {
        search_index_doc d = doc(i, "s", "Sorted", "sorted tool", "");
        d.downloads = (i * 37) % 101;
        d.published_us = NOW_US - ((i * 53) % 97) * DAY_US;
        d.price_cents = (i * 7) % 11 * 100;
        d.pricing = d.price_cents ? "one_time" : "free";
        d.has_trend = i % 3 != 0;
        d.trend = (double)((i * 13) % 17);
        d.rating_count = i % 4;
        d.rating_sum = (i % 4) * ((i % 5) + 1);
        CHECK_INT(search_index_put(ix, &d), 0);
    }
    const search_index_sort sorts[] = {SEARCH_INDEX_SORT_DOWNLOADS, SEARCH_INDEX_SORT_NEWEST,
                                       SEARCH_INDEX_SORT_PRICE_ASC, SEARCH_INDEX_SORT_PRICE_DESC,
                                       SEARCH_INDEX_SORT_TRENDING, SEARCH_INDEX_SORT_RATING,
                                       SEARCH_INDEX_SORT_RELEVANCE};
    for (size_t s = 0; s < sizeof sorts / sizeof sorts[0]; s++) {
        /* every page of 7 joined equals one walk: no tool twice, none missing, in order */
        int64_t all[250];
        size_t got = 0;
        for (int64_t page = 0; got < 250 && page < 50; page++) {
            search_index_query q = query(s == 6 ? "sorted" : NULL);
            q.sort = sorts[s];
            q.offset = page * 7;
            q.limit = 7;
            size_t n = 0;
            CHECK_INT(run(ix, &q, &n, NULL), 250);
            for (size_t i = 0; i < n && got < 250; i++)
                all[got++] = ids[i];
        }
        CHECK_INT(got, 250);
        char seen[251] = {0};
        for (size_t i = 0; i < got; i++) {
            CHECK(all[i] >= 1 && all[i] <= 250 && !seen[all[i]]);
            seen[all[i] >= 1 && all[i] <= 250 ? all[i] : 0] = 1;
        }
        for (size_t i = 1; i < got; i++) {
            int64_t a = all[i - 1], b = all[i];
            switch (sorts[s]) {
            case SEARCH_INDEX_SORT_DOWNLOADS:
                CHECK((a * 37) % 101 > (b * 37) % 101 || ((a * 37) % 101 == (b * 37) % 101 && a > b));
                break;
            case SEARCH_INDEX_SORT_NEWEST:
                CHECK((a * 53) % 97 < (b * 53) % 97 || ((a * 53) % 97 == (b * 53) % 97 && a > b));
                break;
            case SEARCH_INDEX_SORT_PRICE_ASC:
                CHECK((a * 7) % 11 < (b * 7) % 11 || ((a * 7) % 11 == (b * 7) % 11 && a > b));
                break;
            case SEARCH_INDEX_SORT_PRICE_DESC:
                CHECK((a * 7) % 11 > (b * 7) % 11 || ((a * 7) % 11 == (b * 7) % 11 && a > b));
                break;
            case SEARCH_INDEX_SORT_TRENDING: /* tools with a score first, by score */
                CHECK(!(a % 3 == 0 && b % 3 != 0));
                if (a % 3 && b % 3)
                    CHECK((a * 13) % 17 >= (b * 13) % 17);
                break;
            default: /* rating: unrated (i % 4 == 0) last */
                CHECK(!(a % 4 == 0 && b % 4 != 0));
                break;
            }
        }
    }
    /* past the end: the total, no page */
    search_index_query q = query(NULL);
    q.offset = 1000;
    size_t n = 99;
    CHECK_INT(run(ix, &q, &n, NULL), 250);
    CHECK_INT(n, 0);
    search_index_free(ix);
}

/* The order of test_top_ties' catalogue under sort=rating: every tool has 2 votes, the sum 10 ones
 * (i % 3 == 0) first, then by downloads (i % 4), then the newer id. */
static int tie_before(int64_t a, int64_t b)
{
    int ra = a % 3 == 0, rb = b % 3 == 0;
    if (ra != rb)
        return ra > rb;
    if (a % 4 != b % 4)
        return a % 4 > b % 4;
    return a > b;
}

static int tie_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return tie_before(a, b) ? -1 : tie_before(b, a) ? 1 : 0;
}

/* Pages of sort=rating walked with limit, from offset 0 to past the end, against want. */
static void tie_walk(search_index *ix, const int64_t *want, size_t total, int64_t limit)
{
    size_t got = 0;
    for (int64_t offset = 0; offset <= (int64_t)total + limit; offset += limit) {
        search_index_query q = query(NULL);
        q.sort = SEARCH_INDEX_SORT_RATING;
        q.offset = offset;
        q.limit = limit;
        size_t n = 99;
        CHECK_INT(run(ix, &q, &n, NULL), total);
        CHECK_INT(n, offset >= (int64_t)total ? 0 : (size_t)(total - (size_t)offset) < (size_t)limit
                                                        ? total - (size_t)offset : (size_t)limit);
        for (size_t i = 0; i < n && got < total; i++, got++)
            if (ids[i] != want[got]) {
                CHECK_INT(ids[i], want[got]);
                return;
            }
    }
    CHECK_INT(got, total);
}

/* The best k of the matches (a heap of the page's end) with ties on both sort keys, pages past the
 * end and across it, and the vote counters a rating sort reads kept through counter changes and
 * squeezes. */
/* Tool i of the ties: the same texts for all, ratings 5.0 or 4.0 (every third), downloads i % 4. */
static void put_tie(search_index *ix, int64_t i)
{
    char slug[16];
    snprintf(slug, sizeof slug, "tie-%d", (int)i);
    search_index_doc d = doc(i, slug, "Tie Tool", "tie tool", "");
    d.rating_count = 2;
    d.rating_sum = i % 3 == 0 ? 10 : 8;
    d.downloads = i % 4;
    CHECK_INT(search_index_put(ix, &d), 0);
}

static void test_top_ties(void)
{
    search_index *ix = search_index_new();
    int64_t want[300];
    for (int64_t i = 1; i <= 300; i++) {
        put_tie(ix, i);
        want[i - 1] = i;
    }
    qsort(want, 300, sizeof want[0], tie_cmp);
    tie_walk(ix, want, 300, 20);
    tie_walk(ix, want, 300, 100);
    tie_walk(ix, want, 300, 7);
    /* a page across the end: its part; one past it: none, the total still */
    search_index_query q = query(NULL);
    q.sort = SEARCH_INDEX_SORT_RATING;
    q.offset = 290;
    size_t n = 0;
    CHECK_INT(run(ix, &q, &n, NULL), 300);
    CHECK_INT(n, 10);
    CHECK_INT(ids[9], want[299]);
    q.offset = 300;
    CHECK_INT(run(ix, &q, &n, NULL), 300);
    CHECK_INT(n, 0);
    /* relevance with every text equal: the quality decides (the higher rating, then more downloads),
     * then the newer id; an exact name before all */
    q = query("tie");
    q.offset = 0;
    CHECK_INT(run(ix, &q, &n, NULL), 300);
    CHECK_INT(ids[0], 291); /* i % 3 == 0 and i % 4 == 3: 291, 279, ... */
    CHECK_INT(ids[1], 279);
    search_index_doc exact = doc(1000, "tie", "Tie", "tie tool", "");
    CHECK_INT(search_index_put(ix, &exact), 0);
    CHECK_INT(run(ix, &q, &n, NULL), 301);
    CHECK_INT(ids[0], 1000);
    search_index_remove(ix, 1000);
    /* new counters move a tool to the top; replacing others squeezes dead ordinals out, and its
     * counters move with it */
    CHECK_INT(search_index_set_counts(ix, 5, 10, 50, 0, 0, 0), 1);
    for (int round = 0; round < 4; round++)
        for (int64_t i = 100; i <= 300; i++)
            put_tie(ix, i);
    q = query(NULL);
    q.sort = SEARCH_INDEX_SORT_RATING;
    q.min_rating_hundredths = 450;
    CHECK_INT(run(ix, &q, &n, NULL), 101); /* 5, and the 100 with 10 of 2 votes */
    CHECK_INT(ids[0], 5);
    q.min_rating_hundredths = 0;
    q.category = "data";
    q.pricing = "free";
    CHECK_INT(run(ix, &q, &n, NULL), 300);
    CHECK_INT(ids[0], 5);
    size_t k = 0;
    for (size_t i = 0; i < 300; i++)
        if (want[i] != 5)
            want[k++] = want[i];
    for (size_t i = 1; i < n; i++)
        CHECK_INT(ids[i], want[i - 1]);
    q.pricing = "one_time";
    CHECK_INT(run(ix, &q, &n, NULL), 0);
    search_index_free(ix);
}

static void test_put_replace_remove(void)
{
    search_index *ix = catalogue();
    search_index_doc d = doc(2, "json-pretty", "Markdown Pretty", "Formats markdown", "markdown");
    CHECK_INT(search_index_put(ix, &d), 0); /* replace: the old words go */
    CHECK_INT(search_index_count(ix), 5);
    CHECK_INT(total_of(ix, "markdown"), 1);
    CHECK_INT(total_of(ix, "json"), 3);
    CHECK_INT(total_of(ix, "formats"), 1);
    search_index_remove(ix, 3);
    search_index_remove(ix, 3);
    search_index_remove(ix, 99);
    CHECK_INT(search_index_count(ix), 4);
    CHECK_INT(total_of(ix, "jsonl"), 0);
    CHECK_INT(total_of(ix, "json"), 2); /* 4's summary, 2's slug */
    CHECK_INT(search_index_set_counts(ix, 4, 1, 5, 10, 0, 0), 1);
    CHECK_INT(search_index_set_counts(ix, 3, 1, 5, 10, 0, 0), 0);
    /* many replaces squeeze the dead ordinals out and keep every answer */
    for (int round = 0; round < 3000; round++) {
        search_index_doc r = doc(1 + round % 5, "x", round % 2 ? "Odd round" : "Even round", "churn", "");
        CHECK_INT(search_index_put(ix, &r), 0);
    }
    CHECK_INT(search_index_count(ix), 5);
    CHECK_INT(total_of(ix, "churn"), 5);
    CHECK_INT(total_of(ix, "odd"), 3); /* the last five rounds: 2995, 2997, 2999 odd */
    CHECK_INT(total_of(ix, "even"), 2);
    CHECK_INT(total_of(ix, "json"), 0);
    size_t before = search_index_bytes(ix);
    search_index_trim(ix);
    CHECK(search_index_bytes(ix) > 0 && search_index_bytes(ix) <= before);
    CHECK_INT(total_of(ix, "churn"), 5); /* still answers, and grows again */
    search_index_doc more = doc(9, "more", "More churn", "churn", "");
    CHECK_INT(search_index_put(ix, &more), 0);
    CHECK_INT(total_of(ix, "churn"), 6);
    search_index_free(ix);
}

static void test_suggest(void)
{
    search_index *ix = search_index_new();
    search_index_doc d[] = {
        doc(1, "csv-cleaner", "CSV Cleaner", "", "csv-tools data"),
        doc(2, "csv-clipper", "CSV Clipper", "", "csv-tools"),
        doc(3, "csvkit", "csvkit", "", "csv"),
        doc(4, "clean-csv", "Clean CSV", "", "cleaning"),
    };
    int64_t downloads[] = {5, 50, 7, 1000};
    for (size_t i = 0; i < 4; i++) {
        d[i].downloads = downloads[i];
        CHECK_INT(search_index_put(ix, &d[i]), 0);
    }
    search_index_hint tools[4], tags[4];
    size_t nt = 0, ng = 0;
    CHECK_INT(search_index_suggest(ix, "csv", "csv", 4, tools, &nt, tags, &ng), 0);
    CHECK_INT(nt, 3); /* names starting with csv, most downloaded first; not "Clean CSV" */
    CHECK_STR(tools[0].text, "CSV Clipper");
    CHECK_STR(tools[0].slug, "csv-clipper");
    CHECK_STR(tools[1].text, "csvkit");
    CHECK_STR(tools[2].text, "CSV Cleaner");
    CHECK_INT(ng, 2); /* csv-tools (55), csv (7); not data or cleaning */
    CHECK_STR(tags[0].text, "csv-tools");
    CHECK_INT(tags[0].downloads, 55);
    CHECK(tags[0].slug == NULL);
    CHECK_STR(tags[1].text, "csv");
    CHECK_INT(search_index_suggest(ix, "csv cl", "csv-cl", 1, tools, &nt, tags, &ng), 0);
    CHECK_INT(nt, 1); /* at most max */
    CHECK_STR(tools[0].text, "CSV Clipper");
    CHECK_INT(ng, 0);
    search_index_remove(ix, 2);
    CHECK_INT(search_index_suggest(ix, "csv", "csv-t", 4, tools, &nt, tags, &ng), 0);
    CHECK_INT(nt, 2);
    CHECK_INT(ng, 1);
    CHECK_INT(tags[0].downloads, 5);
    CHECK_INT(search_index_suggest(ix, "zzz", "zzz", 4, tools, &nt, tags, &ng), 0);
    CHECK_INT(nt + ng, 0);
    search_index_free(ix);
}

/* A catalogue large enough that suggestions walk the popularity order (thousands of candidates)
 * and past the walk's bound (rare names among them are scanned): both give the most downloaded
 * names first, and follow downloads that change and tools that go. */
static void test_suggest_large(void)
{
    search_index *ix = search_index_new();
    char slug[32], name[64];
    for (int64_t i = 1; i <= 20000; i++) {
        snprintf(slug, sizeof slug, "alpha-%" PRId64, i);
        snprintf(name, sizeof name, i % 1000 == 0 ? "Alpine %" PRId64 : "Alpha %" PRId64, i);
        search_index_doc d = doc(i, slug, name, "", "");
        d.downloads = (i * 7919) % 20011; /* distinct, scattered */
        CHECK_INT(search_index_put(ix, &d), 0);
    }
    search_index_trim(ix);
    search_index_hint tools[10], tags[10];
    size_t nt = 0, ng = 0;
    CHECK_INT(search_index_suggest(ix, "alp", "alp", 10, tools, &nt, tags, &ng), 0);
    CHECK_INT(nt, 10);
    int64_t top = 0; /* the most downloaded of all: a brute-force look */
    for (int64_t i = 1; i <= 20000; i++)
        if ((i * 7919) % 20011 > (top * 7919) % 20011)
            top = i;
    snprintf(slug, sizeof slug, "alpha-%" PRId64, top);
    CHECK_STR(tools[0].slug, slug);
    for (size_t i = 1; i < nt; i++)
        CHECK(tools[i - 1].downloads > tools[i].downloads);
    /* the 20 Alpine tools: the walk meets too few of them, the scan answers */
    CHECK_INT(search_index_suggest(ix, "alpine", "", 10, tools, &nt, tags, &ng), 0);
    CHECK_INT(nt, 10);
    for (size_t i = 0; i < nt; i++)
        CHECK(strncmp(tools[i].text, "Alpine", 6) == 0);
    for (size_t i = 1; i < nt; i++)
        CHECK(tools[i - 1].downloads > tools[i].downloads);
    /* a tool that becomes the most downloaded comes first; when it goes, the next does */
    CHECK_INT(search_index_set_counts(ix, 5, 0, 0, 1000000, 0, 0), 1);
    CHECK_INT(search_index_suggest(ix, "alp", "", 10, tools, &nt, tags, &ng), 0);
    CHECK_STR(tools[0].slug, "alpha-5");
    CHECK_INT(tools[0].downloads, 1000000);
    snprintf(slug, sizeof slug, "alpha-%" PRId64, top);
    CHECK_STR(tools[1].slug, slug);
    CHECK_INT(search_index_set_counts(ix, 5, 0, 0, 999999, 0, 0), 1); /* moves again: once in the list */
    CHECK_INT(search_index_suggest(ix, "alp", "", 10, tools, &nt, tags, &ng), 0);
    CHECK_STR(tools[0].slug, "alpha-5");
    CHECK_STR(tools[1].slug, slug);
    search_index_remove(ix, 5);
    search_index_remove(ix, top);
    CHECK_INT(search_index_suggest(ix, "alp", "", 10, tools, &nt, tags, &ng), 0);
    CHECK(strcmp(tools[0].slug, "alpha-5") != 0 && strcmp(tools[0].slug, slug) != 0);
    CHECK_INT(nt, 10);
    search_index_free(ix);
}

/* The trending list: only tools whose newest event is inside the window, in a category when asked,
 * by score with ties to the newer id, paged; it follows tools that change, lose their score or go. */
static void test_trending_list(void)
{
    search_index *ix = search_index_new();
    for (int64_t i = 1; i <= 60; i++) {
        char slug[16];
        snprintf(slug, sizeof slug, "t-%" PRId64, i);
        search_index_doc d = doc(i, slug, "Trend", "", "");
        d.category = i % 2 ? "data" : "math";
        d.has_trend = i % 3 != 0;            /* 40 with a score */
        d.trend = (double)(i % 7);           /* ties */
        d.trend_at_us = NOW_US - (i % 10) * DAY_US; /* i % 10 days ago */
        CHECK_INT(search_index_put(ix, &d), 0);
    }
    int64_t page[100];
    search_index_result r = {.ids = page, .cap = 100};
    int64_t after = NOW_US - 5 * DAY_US - 1; /* within 5 days: i % 10 <= 5 */
    CHECK_INT(search_index_trending(ix, after, NULL, 0, 100, &r), 0);
    int64_t want = 0;
    for (int64_t i = 1; i <= 60; i++)
        want += i % 3 != 0 && i % 10 <= 5;
    CHECK_INT(r.total, want);
    CHECK_INT((int64_t)r.count, want);
    for (size_t i = 1; i < r.count; i++) {
        int64_t a = page[i - 1], b = page[i];
        CHECK(a % 7 > b % 7 || (a % 7 == b % 7 && a > b));
    }
    int64_t all_first = page[0], second = page[1];
    CHECK_INT(search_index_trending(ix, after, NULL, 1, 1, &r), 0); /* a page of one, the second */
    CHECK_INT((int64_t)r.count, 1);
    CHECK_INT(page[0], second);
    CHECK_INT(search_index_trending(ix, after, "math", 0, 100, &r), 0);
    for (size_t i = 0; i < r.count; i++)
        CHECK(page[i] % 2 == 0);
    CHECK_INT(search_index_trending(ix, after, "nope", 0, 100, &r), 0);
    CHECK_INT(r.total, 0);
    /* the first loses its score, then comes back on top; a removed tool leaves */
    CHECK_INT(search_index_set_counts(ix, all_first, 0, 0, 0, 0, 0), 1);
    CHECK_INT(search_index_trending(ix, after, NULL, 0, 1, &r), 0);
    CHECK_INT(r.total, want - 1);
    CHECK(page[0] != all_first);
    CHECK_INT(search_index_set_counts(ix, all_first, 0, 0, 0, 1, 100), 1);
    CHECK_INT(search_index_trending(ix, after, NULL, 0, 1, &r), 0);
    CHECK_INT(page[0], all_first);
    search_index_remove(ix, all_first);
    CHECK_INT(search_index_trending(ix, after, NULL, 0, 100, &r), 0);
    CHECK_INT(r.total, want - 1);
    for (size_t i = 0; i < r.count; i++)
        CHECK(page[i] != all_first);
    search_index_free(ix);
}

/* Words that arrive after prefix reads have sorted the vocabulary are found by prefix too, whether
 * a few (put in place one by one) or many at once (sorted again), before, between and after the
 * words already there. */
static void test_prefix_after_new_words(void)
{
    search_index *ix = catalogue();
    CHECK_INT(total_of(ix, "jso"), 3); /* sorts the vocabulary */
    char slug[32], name[64];
    int64_t id = 100;
    const char *few[] = {"aardvark", "jsonnet", "zzyzx"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(slug, sizeof slug, "few-%zu", i);
        snprintf(name, sizeof name, "%s tool", few[i]);
        search_index_doc d = doc(id++, slug, name, "new words", "");
        CHECK_INT(search_index_put(ix, &d), 0);
    }
    CHECK_INT(total_of(ix, "aard"), 1);
    CHECK_INT(total_of(ix, "jso"), 4); /* jsonnet joins json and jsonl */
    CHECK_INT(total_of(ix, "zzy"), 1);
    for (int i = 0; i < 100; i++) { /* more than are put in place one by one */
        snprintf(slug, sizeof slug, "many-%d", i);
        snprintf(name, sizeof name, "m%03dword tool", i);
        search_index_doc d = doc(id++, slug, name, "many new words", "");
        CHECK_INT(search_index_put(ix, &d), 0);
    }
    CHECK_INT(total_of(ix, "m0"), 100);
    CHECK_INT(total_of(ix, "m05"), 10);
    CHECK_INT(total_of(ix, "jso"), 4);
    CHECK_INT(total_of(ix, "aardv"), 1);
    search_index_free(ix);
}

/* ---- against a brute-force reference: a random catalogue, random queries ----------------------- */

#define REF_DOCS 5000
#define REF_WORDS 48

static uint64_t ref_seed = 88172645463325252ull;

static uint64_t ref_rand(uint64_t n)
{
    ref_seed ^= ref_seed << 13;
    ref_seed ^= ref_seed >> 7;
    ref_seed ^= ref_seed << 17;
    return ref_seed % n;
}

/* 6 stems x 8 endings: words sharing prefixes (so prefixes name several words), all of 3+
 * characters and already in the normal form. */
static const char *ref_word(size_t i)
{
    static char words[REF_WORDS][12];
    static const char *const stem[] = {"alp", "bet", "cor", "del", "fen", "gam"};
    static const char *const end[] = {"", "ha", "ine", "ora", "s", "ing", "er", "ure"};
    if (!words[i][0])
        snprintf(words[i], sizeof words[i], "%s%s", stem[i / 8], end[i % 8]);
    return words[i];
}

/* A word, the first ones far more often (a few words in a third of the documents, as in a real
 * catalogue). */
static const char *ref_some_word(void)
{
    uint64_t r = ref_rand(REF_WORDS * REF_WORDS);
    size_t i = 0;
    while ((i + 1) * (i + 1) <= r)
        i++;
    return ref_word(REF_WORDS - 1 - i);
}

static const char *const ref_cats[] = {"data", "devops", "media", "text", "web"};
static const char *const ref_models[] = {"free", "one_time", "subscription"};
static const char *const ref_tags[] = {"xa", "xb", "xc", "xd", "xe", "xf"};

typedef struct {
    int live;
    char name[64], title[160], body[256], slug[64], tags[32];
    int cat, model;
    int64_t price, count, sum, downloads, developer, published;
} ref_doc;

static ref_doc ref[REF_DOCS + 1]; /* by id */

static void ref_words(char *out, size_t size, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", i ? " " : "", ref_some_word());
    }
}

/* Puts id with random text, attributes and counters (ties on every key are common). */
static void ref_put(search_index *ix, int64_t id)
{
    ref_doc *r = &ref[id];
    ref_words(r->name, sizeof r->name, 1 + ref_rand(3));
    memcpy(r->slug, r->name, sizeof r->slug);
    for (char *c = r->slug; *c; c++)
        *c = *c == ' ' ? '-' : *c;
    char extra[64];
    ref_words(extra, sizeof extra, ref_rand(3));
    size_t len = strlen(r->name); /* (the words are short: everything fits) */
    memcpy(r->title, r->name, len);
    r->title[len] = ' ';
    memcpy(r->title + len + 1, extra, strlen(extra) + 1);
    ref_words(r->body, sizeof r->body, 3 + ref_rand(6));
    r->tags[0] = '\0';
    for (uint64_t t = ref_rand(4); t > 0; t--) {
        size_t len = strlen(r->tags);
        snprintf(r->tags + len, sizeof r->tags - len, "%s%s", len ? " " : "", ref_tags[ref_rand(6)]);
    }
    r->cat = (int)ref_rand(5);
    r->model = (int)ref_rand(3);
    r->price = (int64_t)ref_rand(5) * 500;
    r->count = ref_rand(3) == 0 ? 0 : (int64_t)ref_rand(12);
    r->sum = r->count ? r->count + (int64_t)ref_rand((uint64_t)r->count * 4 + 1) : 0;
    r->downloads = (int64_t)ref_rand(50);
    r->developer = 1 + (int64_t)ref_rand(20);
    r->published = NOW_US - (int64_t)ref_rand(90) * DAY_US;
    search_index_doc d = {.id = id, .slug = r->slug, .name = r->name, .name_norm = r->name, .title_norm = r->title,
                          .body_norm = r->body, .category = ref_cats[r->cat], .pricing = ref_models[r->model],
                          .tags = r->tags, .price_cents = r->price, .rating_count = r->count,
                          .rating_sum = r->sum, .downloads = r->downloads, .developer_id = r->developer,
                          .published_us = r->published};
    CHECK_INT(search_index_put(ix, &d), 0);
    r->live = 1;
}

/* Whether the space-separated text has word (or, when prefix, a word starting with it). */
static int ref_has(const char *text, const char *word, int prefix)
{
    size_t len = strlen(word);
    for (const char *at = text; *at;) {
        size_t n = strcspn(at, " ");
        if (n >= len && strncmp(at, word, len) == 0 && (prefix || n == len))
            return 1;
        at += n + (at[n] == ' ');
    }
    return 0;
}

/* How many words of the space-separated text are word (start with it, when prefix). */
static int64_t ref_occurrences(const char *text, const char *word, int prefix)
{
    size_t len = strlen(word);
    int64_t n = 0;
    for (const char *at = text; *at;) {
        size_t w = strcspn(at, " ");
        n += w >= len && strncmp(at, word, len) == 0 && (prefix || w == len);
        at += w + (at[w] == ' ');
    }
    return n;
}

typedef struct {
    const char *words[3];
    size_t word_count;
    char q[64];
    search_index_query sq;
} ref_query;

/* README "Search": every word in title or body, the last by prefix (2 characters: title words). */
static int ref_matches(const ref_doc *r, const ref_query *rq)
{
    const search_index_query *q = &rq->sq;
    for (size_t i = 0; i < rq->word_count; i++) {
        const char *w = rq->words[i];
        int last = i + 1 == rq->word_count;
        if (last && strlen(w) < 3) {
            if (!ref_has(r->title, w, 1))
                return 0;
        } else if (!ref_has(r->title, w, last) && !ref_has(r->body, w, last)) {
            return 0;
        }
    }
    if ((q->category && strcmp(q->category, ref_cats[r->cat]) != 0) ||
        (q->pricing && strcmp(q->pricing, ref_models[r->model]) != 0) ||
        (q->max_price_cents >= 0 && r->price > q->max_price_cents) ||
        (q->min_rating_hundredths > 0 && !(r->count > 0 && r->sum * 100 >= r->count * q->min_rating_hundredths)) ||
        (q->developer_id > 0 && r->developer != q->developer_id))
        return 0;
    for (size_t i = 0; i < q->tag_count; i++)
        if (!ref_has(r->tags, q->tags[i], 0))
            return 0;
    return 1;
}

static const search_index_query *ref_sort_q;

/* sort=rating (and relevance without text): the Bayesian rating, the votes, the downloads, the
 * newer id. */
static double ref_bayesian(const ref_doc *r)
{
    const search_index_query *q = ref_sort_q;
    double mean = (double)q->all_sum / (double)q->all_count;
    if (r->count == 0)
        return 0;
    return (mean * (double)q->prior_weight + (double)r->sum) / (double)(q->prior_weight + r->count);
}

static int ref_rating_cmp(const void *x, const void *y)
{
    const ref_doc *a = &ref[*(const int64_t *)x], *b = &ref[*(const int64_t *)y];
    double ka = ref_bayesian(a), kb = ref_bayesian(b);
    if (ka != kb)
        return ka > kb ? -1 : 1;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->downloads != b->downloads)
        return a->downloads > b->downloads ? -1 : 1;
    return *(const int64_t *)x > *(const int64_t *)y ? -1 : 1;
}

/* Relevance with the quality weights 0 (README "Search"): an exact name first, then the text
 * part, 0.5 x the share of the best text score (occurrences x log10(documents / documents with
 * the word)^2, summed over the words; the last word's are its prefix's) + 0.5 x the share of the
 * query words in the title; then the newer id. */
typedef struct {
    int64_t id;
    int exact;
    double text;
} ref_relevant;

static int ref_relevant_cmp(const void *x, const void *y)
{
    const ref_relevant *a = x, *b = y;
    if (a->exact != b->exact)
        return a->exact > b->exact ? -1 : 1;
    if (a->text != b->text)
        return a->text > b->text ? -1 : 1;
    return a->id > b->id ? -1 : 1;
}

/* The order of the n matches in want under rq (at most two words: the sum of their scores is then
 * the same in any order), into want. */
static void ref_relevance_order(const ref_query *rq, int64_t *want, size_t n)
{
    static ref_relevant key[REF_DOCS];
    static float match[REF_DOCS]; /* the text score as the index keeps it */
    double idf2[3] = {0}, best = 0;
    size_t live = 0, patterns = 0;
    for (int64_t id = 1; id <= REF_DOCS; id++)
        live += (size_t)ref[id].live;
    for (size_t i = 0; i < rq->word_count; i++) {
        int last = i + 1 == rq->word_count;
        if (last && strlen(rq->words[i]) < 3)
            continue; /* title words only, and no score */
        patterns++;
        size_t docs = 0;
        for (int64_t id = 1; id <= REF_DOCS; id++)
            docs += ref[id].live &&
                    (ref_has(ref[id].title, rq->words[i], last) || ref_has(ref[id].body, rq->words[i], last));
        double idf = log10((double)live / (double)docs);
        idf2[i] = idf * idf;
    }
    for (size_t k = 0; k < n; k++) {
        const ref_doc *r = &ref[want[k]];
        double score = 0;
        size_t found = 0;
        for (size_t i = 0; i < rq->word_count; i++) {
            int last = i + 1 == rq->word_count;
            if (last && strlen(rq->words[i]) < 3)
                continue;
            int64_t tf = ref_occurrences(r->title, rq->words[i], last) + ref_occurrences(r->body, rq->words[i], last);
            score += (double)tf * idf2[i];
            found += (size_t)ref_has(r->title, rq->words[i], last);
        }
        best = score > best ? score : best;
        match[k] = (float)score;
        /* the title share for now; the text part once the best score is known */
        key[k] = (ref_relevant){.id = want[k], .exact = strcmp(r->name, rq->q) == 0,
                                .text = patterns ? (double)found / (double)patterns : 0};
    }
    for (size_t k = 0; k < n; k++) {
        double share = key[k].text, most = best > 0 ? best : 1;
        key[k].text = 100.0 * (patterns ? 0.5 * fmin(1, (double)match[k] / most) + 0.5 * share : 1);
    }
    qsort(key, n, sizeof *key, ref_relevant_cmp);
    for (size_t k = 0; k < n; k++)
        want[k] = key[k].id;
}

static int ref_id_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

static json_t *ref_facets(const int64_t *match, size_t n)
{
    int64_t cats[5] = {0}, models[3] = {0}, band[6] = {0};
    for (size_t i = 0; i < n; i++) {
        const ref_doc *r = &ref[match[i]];
        cats[r->cat]++;
        models[r->model]++;
        band[r->count ? (r->sum / r->count > 5 ? 5 : r->sum / r->count) : 0]++;
    }
    json_t *categories = json_object();
    for (int c = 0; c < 5; c++)
        if (cats[c])
            json_object_set_new(categories, ref_cats[c], json_integer(cats[c]));
    return json_pack("{s:o, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}}", "categories", categories, "pricing", "free",
                     (json_int_t)models[0], "one_time", (json_int_t)models[1], "subscription",
                     (json_int_t)models[2], "rating", "4+", (json_int_t)(band[4] + band[5]), "3+",
                     (json_int_t)(band[3] + band[4] + band[5]), "2+",
                     (json_int_t)(band[2] + band[3] + band[4] + band[5]));
}

/* A random query: 0-3 words (the last maybe cut to a prefix of 2+ characters), filters, a sort. */
static void ref_query_make(ref_query *rq)
{
    memset(rq, 0, sizeof *rq);
    rq->sq = query(NULL);
    rq->sq.all_count = 1000;
    rq->sq.all_sum = 3700;
    rq->word_count = ref_rand(4) == 0 ? 0 : 1 + ref_rand(3);
    static char cut[16];
    for (size_t i = 0; i < rq->word_count; i++) {
        rq->words[i] = ref_rand(2) ? ref_some_word() : ref_word(ref_rand(REF_WORDS));
        size_t len = strlen(rq->q);
        snprintf(rq->q + len, sizeof rq->q - len, "%s%s", i ? " " : "", rq->words[i]);
    }
    if (rq->word_count && ref_rand(2)) { /* the last word as a prefix of 2+ characters */
        const char *w = rq->words[rq->word_count - 1];
        size_t keep = 2 + ref_rand(strlen(w) - 1);
        snprintf(cut, sizeof cut, "%.*s", (int)keep, w);
        rq->words[rq->word_count - 1] = cut;
        char *space = strrchr(rq->q, ' ');
        snprintf(space ? space + 1 : rq->q, sizeof rq->q - (size_t)(space ? space + 1 - rq->q : 0), "%s", cut);
    }
    rq->sq.q = rq->word_count ? rq->q : NULL;
    if (ref_rand(4) == 0)
        rq->sq.category = ref_cats[ref_rand(5)];
    if (ref_rand(8) == 0)
        rq->sq.pricing = ref_models[ref_rand(3)];
    if (ref_rand(5) == 0)
        rq->sq.tags[rq->sq.tag_count++] = ref_tags[ref_rand(6)];
    if (ref_rand(8) == 0)
        rq->sq.max_price_cents = (int64_t)ref_rand(4) * 500;
    if (ref_rand(8) == 0)
        rq->sq.min_rating_hundredths = 200 + (int64_t)ref_rand(250);
    if (ref_rand(16) == 0)
        rq->sq.developer_id = 1 + (int64_t)ref_rand(20);
    rq->sq.sort = ref_rand(3) == 0 ? SEARCH_INDEX_SORT_RATING : SEARCH_INDEX_SORT_RELEVANCE;
    if (ref_rand(2)) /* the text part alone decides (after an exact name): ref_relevance_order */
        rq->sq.weight_rating = rq->sq.weight_downloads = rq->sq.weight_freshness = 0;
}

static int64_t ref_all[REF_DOCS], ref_want[REF_DOCS];
static int ref_large, ref_unfiltered, ref_text_checked; /* the paths the queries took */

/* Runs q for [offset, offset + limit) into out (room for REF_DOCS): the total; facets kept. */
static int64_t ref_run(search_index *ix, search_index_query q, int64_t offset, int64_t limit, int64_t *out,
                       size_t *count, json_t **facets)
{
    q.offset = offset;
    q.limit = limit;
    search_index_result r = {.ids = out, .cap = REF_DOCS};
    if (search_index_run(ix, &q, &r) < 0)
        return -1;
    *count = r.count;
    *facets = r.facets;
    return r.total;
}

/* One query against the reference: total and facets; the matches (the whole list, as a sort of
 * every key gives it); sort=rating's order; and random pages, which take the best of the page's
 * end (a sampled threshold, selections, heaps), against the whole list. Returns the total. */
static int64_t ref_check(search_index *ix, const ref_query *rq)
{
    size_t n = 0, count = 0;
    for (int64_t id = 1; id <= REF_DOCS; id++)
        if (ref[id].live && ref_matches(&ref[id], rq))
            ref_want[n++] = id;
    json_t *facets = NULL, *want_facets = ref_facets(ref_want, n);
    int64_t total = ref_run(ix, rq->sq, 0, (int64_t)(n ? n : 1), ref_all, &count, &facets);
    CHECK_INT(total, n);
    CHECK_INT(count, n);
    CHECK(facets && json_equal(facets, want_facets));
    json_decref(facets);
    json_decref(want_facets);
    if (total != (int64_t)n || count != n) {
        fprintf(stderr, "  query \"%s\"\n", rq->q);
        return total;
    }
    int64_t sorted[REF_DOCS];
    memcpy(sorted, ref_all, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, ref_id_cmp);
    CHECK(memcmp(sorted, ref_want, n * sizeof *sorted) == 0);
    if (rq->sq.sort == SEARCH_INDEX_SORT_RATING || !rq->sq.q || !rq->sq.q[0] ||
        (rq->word_count == 1 && strlen(rq->words[0]) < 2)) {
        ref_sort_q = &rq->sq;
        qsort(ref_want, n, sizeof *ref_want, ref_rating_cmp);
        CHECK(memcmp(ref_all, ref_want, n * sizeof *ref_want) == 0);
    } else if (rq->word_count <= 2 && !rq->sq.weight_rating && !rq->sq.weight_downloads && !rq->sq.weight_freshness) {
        ref_relevance_order(rq, ref_want, n);
        CHECK(memcmp(ref_all, ref_want, n * sizeof *ref_want) == 0);
        ref_text_checked++;
    }
    int64_t page[REF_DOCS];
    for (int i = 0; i < 4; i++) {
        int64_t limit = 1 + (int64_t)ref_rand(i < 2 ? 20 : 100);
        int64_t offset = i == 0 ? 0 : (int64_t)ref_rand(n + 10);
        json_t *f = NULL;
        CHECK_INT(ref_run(ix, rq->sq, offset, limit, page, &count, &f), n);
        json_decref(f);
        size_t left = offset >= (int64_t)n ? 0 : n - (size_t)offset;
        size_t want = left < (size_t)limit ? left : (size_t)limit;
        CHECK_INT(count, want);
        if (count == want && want)
            CHECK(memcmp(page, ref_all + offset, want * sizeof *page) == 0);
    }
    return total;
}

static void ref_queries(search_index *ix, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        ref_query rq;
        ref_query_make(&rq);
        int64_t total = ref_check(ix, &rq);
        ref_large += total >= 1024 && rq.word_count > 0; /* enough matches for the sampled threshold */
        ref_unfiltered += rq.word_count == 0 && !rq.sq.category && !rq.sq.pricing && !rq.sq.tag_count &&
                      rq.sq.max_price_cents < 0 && !rq.sq.min_rating_hundredths && !rq.sq.developer_id;
    }
}

static void test_reference(void)
{
    search_index *ix = search_index_new();
    for (int64_t id = 1; id <= REF_DOCS; id++)
        ref_put(ix, id);
    ref_queries(ix, 400);
    /* documents replaced, removed and with new counters: dead ordinals, running totals moved, then
     * a squeeze renumbers them */
    for (int64_t id = 1; id <= REF_DOCS; id++) {
        uint64_t what = ref_rand(10);
        if (what == 0)
            ref_put(ix, id);
        else if (what <= 6) {
            search_index_remove(ix, id);
            ref[id].live = 0;
        } else if (what == 7) {
            ref_doc *r = &ref[id];
            r->count = (int64_t)ref_rand(12);
            r->sum = r->count * (1 + (int64_t)ref_rand(5));
            r->downloads = (int64_t)ref_rand(50);
            CHECK_INT(search_index_set_counts(ix, id, r->count, r->sum, r->downloads, 0, 0), r->live);
        }
    }
    ref_queries(ix, 200);
    for (int64_t id = 1; id <= REF_DOCS; id += 2)
        if (!ref[id].live)
            ref_put(ix, id);
    size_t live = 0;
    for (int64_t id = 1; id <= REF_DOCS; id++)
        live += (size_t)ref[id].live;
    CHECK_INT(search_index_count(ix), live);
    ref_queries(ix, 300);
    CHECK(ref_large > 10);
    CHECK(ref_unfiltered > 5); /* the running facet totals and the vote-counter scan */
    CHECK(ref_text_checked > 50);
    search_index_free(ix);
}

int main(void)
{
    RUN(test_matching);
    RUN(test_relevance);
    RUN(test_filters_facets);
    RUN(test_sorts_paging);
    RUN(test_top_ties);
    RUN(test_put_replace_remove);
    RUN(test_suggest);
    RUN(test_prefix_after_new_words);
    RUN(test_suggest_large);
    RUN(test_trending_list);
    RUN(test_reference);
    return check_finish();
}

/* core/query_cache: a key names every field that shapes an answer (and strings cannot fake one
 * another's boundaries), an answer is found for its time to live and not after, clearing drops
 * it, and the facets are shared by reference. */
#include <string.h>

#include "core/query_cache.h"
#include "tests/support/check.h"

#define TTL 1000

static search_index_query base_query(void)
{
    search_index_query q = {.q = "json csv", .category = "data", .max_price_cents = -1, .offset = 0, .limit = 20,
                            .weight_text = 100, .weight_rating = 40, .prior_weight = 5};
    return q;
}

static int same_key(const search_index_query *a, const search_index_query *b)
{
    char ka[QUERY_CACHE_KEY_MAX], kb[QUERY_CACHE_KEY_MAX];
    size_t la = query_cache_key(a, ka, sizeof ka), lb = query_cache_key(b, kb, sizeof kb);
    CHECK(la > 0);
    CHECK(lb > 0);
    return la == lb && strcmp(ka, kb) == 0;
}

static void test_keys(void)
{
    search_index_query a = base_query(), b = base_query();
    CHECK(same_key(&a, &b));
    b.offset = 20;
    CHECK(!same_key(&a, &b));
    b = base_query();
    b.sort = SEARCH_INDEX_SORT_RATING;
    CHECK(!same_key(&a, &b));
    b = base_query();
    b.all_count = 1; /* the global totals shape every Bayesian rating */
    CHECK(!same_key(&a, &b));
    b = base_query();
    b.now_us = 123456789; /* the time alone does not */
    CHECK(same_key(&a, &b));
    /* a separator inside a string cannot move text from one field to the next */
    search_index_query c = base_query(), d = base_query();
    c.q = "json";
    c.category = "s4:data";
    d.q = "json s4:data";
    d.category = NULL;
    CHECK(!same_key(&c, &d));
    c = base_query();
    d = base_query();
    c.category = NULL;
    d.category = ""; /* no category and an empty one are different answers' keys */
    CHECK(!same_key(&c, &d));
    c = base_query();
    c.tags[0] = "math";
    c.tag_count = 1;
    CHECK(!same_key(&c, &a));
    /* too long for the buffer: not cached */
    char small[8];
    CHECK_INT(query_cache_key(&a, small, sizeof small), 0);
}

static void test_get_put_ttl_clear(void)
{
    query_cache_clear();
    search_index_query q = base_query();
    char key[QUERY_CACHE_KEY_MAX];
    CHECK(query_cache_key(&q, key, sizeof key) > 0);
    int64_t ids[3] = {11, 7, 5}, got[3] = {0};
    json_t *facets = json_pack("{s:{}}", "categories");
    search_index_result r = {.ids = ids, .cap = 3, .count = 3, .total = 42, .facets = facets};
    search_index_result out = {.ids = got, .cap = 3};
    CHECK_INT(query_cache_get(key, 1000, TTL, &out), 0);
    query_cache_put(key, 1000, &r);
    CHECK_INT(facets->refcount, 2);
    CHECK_INT(query_cache_get(key, 1000 + TTL - 1, TTL, &out), 1);
    CHECK_INT(out.count, 3);
    CHECK_INT(out.total, 42);
    CHECK_INT(got[0], 11);
    CHECK_INT(got[2], 5);
    CHECK(out.facets == facets);
    json_decref(out.facets);
    /* a smaller page array takes what fits */
    int64_t two[2];
    search_index_result small = {.ids = two, .cap = 2};
    CHECK_INT(query_cache_get(key, 1500, TTL, &small), 1);
    CHECK_INT(small.count, 2);
    json_decref(small.facets);
    /* too old, or a clock that went back: gone */
    CHECK_INT(query_cache_get(key, 1000 + TTL, TTL, &out), 0);
    query_cache_put(key, 1000, &r);
    CHECK_INT(query_cache_get(key, 999, TTL, &out), 0);
    query_cache_put(key, 1000, &r);
    query_cache_clear();
    CHECK_INT(query_cache_get(key, 1001, TTL, &out), 0);
    CHECK_INT(facets->refcount, 1);
    json_decref(facets);
}

int main(void)
{
    RUN(test_keys);
    RUN(test_get_put_ttl_clear);
    return check_finish();
}

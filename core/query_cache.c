#include "core/query_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;      /* NULL: empty */
    int64_t at_ms;
    int64_t *ids;
    size_t count;
    int64_t total;
    json_t *facets;
} query_cache_slot;

static query_cache_slot query_cache_slots[QUERY_CACHE_SLOTS];

/* Strings are written with their length first, so no byte inside one can fake a boundary. */
static int query_cache_text(char *out, size_t size, size_t *len, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    int w = snprintf(out + *len, size - *len, "%c%zu:%s", s ? 's' : 'n', n, s ? s : "");
    if (w < 0 || (size_t)w >= size - *len)
        return -1;
    *len += (size_t)w;
    return 0;
}

size_t query_cache_key(const search_index_query *q, char *out, size_t size)
{
    size_t len = 0;
    if (size == 0 || query_cache_text(out, size, &len, q->q) < 0 || query_cache_text(out, size, &len, q->category) < 0 ||
        query_cache_text(out, size, &len, q->pricing) < 0)
        return 0;
    for (size_t i = 0; i < q->tag_count && i < SEARCH_INDEX_TAGS_MAX; i++)
        if (query_cache_text(out, size, &len, q->tags[i]) < 0)
            return 0;
    int w = snprintf(out + len, size - len,
                     "|%zu|%lld|%lld|%lld|%d|%lld|%lld|%lld|%lld|%lld|%lld|%lld|%lld|%lld|%lld", q->tag_count,
                     (long long)q->min_rating_hundredths, (long long)q->max_price_cents, (long long)q->developer_id,
                     (int)q->sort, (long long)q->offset, (long long)q->limit, (long long)q->weight_text,
                     (long long)q->weight_rating, (long long)q->weight_downloads, (long long)q->weight_freshness,
                     (long long)q->freshness_seconds, (long long)q->prior_weight, (long long)q->all_count,
                     (long long)q->all_sum);
    if (w < 0 || (size_t)w >= size - len)
        return 0;
    return len + (size_t)w;
}

static query_cache_slot *query_cache_slot_of(const char *key)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * UINT64_C(1099511628211);
    return &query_cache_slots[h & (QUERY_CACHE_SLOTS - 1)];
}

static void query_cache_empty(query_cache_slot *s)
{
    free(s->key);
    free(s->ids);
    json_decref(s->facets);
    memset(s, 0, sizeof *s);
}

int query_cache_get(const char *key, int64_t now_ms, int64_t ttl_ms, search_index_result *r)
{
    query_cache_slot *s = query_cache_slot_of(key);
    if (!s->key || strcmp(s->key, key) != 0)
        return 0;
    if (now_ms - s->at_ms >= ttl_ms || now_ms < s->at_ms) {
        query_cache_empty(s);
        return 0;
    }
    r->count = s->count < r->cap ? s->count : r->cap;
    memcpy(r->ids, s->ids, r->count * sizeof *r->ids);
    r->total = s->total;
    r->facets = json_incref(s->facets);
    return 1;
}

void query_cache_put(const char *key, int64_t now_ms, const search_index_result *r)
{
    query_cache_slot *s = query_cache_slot_of(key);
    query_cache_empty(s);
    s->key = strdup(key);
    s->ids = malloc((r->count ? r->count : 1) * sizeof *s->ids);
    if (!s->key || !s->ids) {
        query_cache_empty(s);
        return;
    }
    memcpy(s->ids, r->ids, r->count * sizeof *s->ids);
    s->count = r->count;
    s->total = r->total;
    s->facets = json_incref(r->facets);
    s->at_ms = now_ms;
}

void query_cache_clear(void)
{
    for (size_t i = 0; i < QUERY_CACHE_SLOTS; i++)
        if (query_cache_slots[i].key)
            query_cache_empty(&query_cache_slots[i]);
}

/* The in-memory search index: see core/search_index.h. */
#include "core/search_index.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/search_text.h"

/* ---- growable arrays and an interning table --------------------------------------------------- */

static int sidx_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Strings to dense ids (open addressing, FNV-1a): words, categories, pricing models, tags. */
typedef struct {
    char **str;
    size_t count, str_cap;
    uint32_t *slot; /* id + 1; 0 empty */
    size_t slots;
} sidx_atoms;

static uint32_t sidx_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int sidx_atoms_rehash(sidx_atoms *a)
{
    size_t n = a->slots ? a->slots * 2 : 64;
    uint32_t *slot = calloc(n, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < a->count; i++) {
        size_t at = sidx_hash(a->str[i]) & (n - 1);
        while (slot[at])
            at = (at + 1) & (n - 1);
        slot[at] = (uint32_t)i + 1;
    }
    free(a->slot);
    a->slot = slot;
    a->slots = n;
    return 0;
}

/* The id of s, or -1 when absent. */
static int64_t sidx_atoms_find(const sidx_atoms *a, const char *s)
{
    if (!a->slots)
        return -1;
    for (size_t at = sidx_hash(s) & (a->slots - 1); a->slot[at]; at = (at + 1) & (a->slots - 1))
        if (strcmp(a->str[a->slot[at] - 1], s) == 0)
            return a->slot[at] - 1;
    return -1;
}

/* The id of s, added when absent; -1 out of memory. */
static int64_t sidx_atoms_add(sidx_atoms *a, const char *s, size_t len)
{
    char key[SEARCH_TEXT_WORD_MAX * 4 + 1];
    if (len >= sizeof key)
        len = sizeof key - 1;
    memcpy(key, s, len);
    key[len] = '\0';
    int64_t id = sidx_atoms_find(a, key);
    if (id >= 0)
        return id;
    if ((a->count + 1) * 2 > a->slots && sidx_atoms_rehash(a) < 0)
        return -1;
    if (sidx_grow((void **)&a->str, &a->str_cap, a->count + 1, sizeof *a->str) < 0)
        return -1;
    char *copy = strdup(key);
    if (!copy)
        return -1;
    a->str[a->count] = copy;
    size_t at = sidx_hash(key) & (a->slots - 1);
    while (a->slot[at])
        at = (at + 1) & (a->slots - 1);
    a->slot[at] = (uint32_t)a->count + 1;
    return (int64_t)a->count++;
}

static void sidx_atoms_free(sidx_atoms *a)
{
    for (size_t i = 0; i < a->count; i++)
        free(a->str[i]);
    free(a->str);
    free(a->slot);
}

/* ---- postings ----------------------------------------------------------------------------------- */

typedef struct {
    uint32_t *ord;
    uint16_t *tf; /* occurrences in the document (title + body), capped */
    size_t count, cap;
} sidx_posting;

typedef struct {
    sidx_posting all, title;
} sidx_term;

static int sidx_posting_append(sidx_posting *p, uint32_t ord, uint16_t tf)
{
    size_t cap = p->cap;
    if (sidx_grow((void **)&p->ord, &cap, p->count + 1, sizeof *p->ord) < 0)
        return -1;
    if (cap != p->cap) {
        uint16_t *t = realloc(p->tf, cap * sizeof *t);
        if (!t)
            return -1;
        p->tf = t;
        p->cap = cap;
    }
    p->ord[p->count] = ord;
    p->tf[p->count++] = tf;
    return 0;
}

/* The position of ord in p, or p->count when absent. */
static size_t sidx_posting_find(const sidx_posting *p, uint32_t ord)
{
    size_t lo = 0, hi = p->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->ord[mid] < ord)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->count && p->ord[lo] == ord ? lo : p->count;
}

static void sidx_posting_drop(sidx_posting *p, uint32_t ord)
{
    size_t at = sidx_posting_find(p, ord);
    if (at == p->count)
        return;
    memmove(p->ord + at, p->ord + at + 1, (p->count - at - 1) * sizeof *p->ord);
    memmove(p->tf + at, p->tf + at + 1, (p->count - at - 1) * sizeof *p->tf);
    p->count--;
}

/* ---- documents ---------------------------------------------------------------------------------- */

/* What a query reads of every candidate, in 32 bytes (two documents a cache line): whether it is
 * live, its category, pricing model and rating band (filters and facets), its price, and the parts
 * of its relevance that do not depend on the query, so a query over tens of thousands of matches
 * streams through this array. The prior weight and the freshness half-life are fixed per index
 * (sidx_rank_setup recomputes every line when a query asks for others):
 *   Bayesian rating = C * bayes_a + bayes_b, with C the global mean (it moves with every review)
 *   freshness = min(1, fresh * 2^((epoch - now) / half-life)) = 2^(-age / half-life) */
typedef struct {
    double fresh; /* 2^((published - epoch) / half-life) */
    float bayes_a, bayes_b; /* m / (m + count), sum / (m + count); both 0 while unrated */
    float downloads_term;   /* min(1, ln(1 + downloads) / ln(1000001)) */
    uint32_t price_cents;   /* clamped: prices stop at 10^8 */
    uint32_t meta;          /* SIDX_META_* */
    uint16_t slug_hash, name_hash; /* only a document whose hash matches compares the strings */
} sidx_rank;

_Static_assert(sizeof(sidx_rank) == 32, "two documents per cache line");

/* meta: category atom in bits 0-15, pricing atom 16-19, live 20, has a trend 21, rating band 22-24
 * (the whole stars of the average that the rating facets count: 0 unrated) */
#define SIDX_META_CATEGORY(m) ((m) & 0xFFFFu)
#define SIDX_META_PRICING(m) (((m) >> 16) & 0xFu)
#define SIDX_META_LIVE (1u << 20)
#define SIDX_META_TREND (1u << 21)
#define SIDX_META_BAND(m) (((m) >> 22) & 0x7u)
#define SIDX_PRICING_MAX 15

/* The rest a query may read (other sorts, ties, suggestions), a cache line each. */
typedef struct {
    int64_t id, published_us, downloads;
    double trend;
    int64_t trend_at_us;
    uint32_t rating_count, rating_sum; /* clamped: far below */
    char name_head[16]; /* the first bytes of the normalized name, NUL-padded (suggestions) */
} sidx_hot;

_Static_assert(sizeof(sidx_hot) == 64, "one cache line per document");

/* The rating counters again, 8 bytes a document: a sort by rating (and relevance without text)
 * and the rating filter read them for every match, 8 documents a cache line instead of one. */
typedef struct {
    uint32_t count, sum; /* as in sidx_hot */
} sidx_votes;

typedef struct {
    char *slug, *name_norm, *name; /* name: as written, for suggestions */
    size_t slug_len, name_len;
    char *title; /* " normalized title " (spaces around) */
    uint32_t *terms; /* distinct words, for removal */
    uint32_t term_count;
    uint32_t *tags; /* tag atoms */
    uint32_t tag_count;
    int64_t developer_id;
} sidx_doc;

/* An entry of the trending list (search_index.trend). */
typedef struct sidx_trend {
    uint32_t ord;
    uint16_t category;
    int64_t id, at_us; /* at: the newest event */
    double score;
} sidx_trend;

struct search_index {
    sidx_doc *doc; /* by ordinal */
    sidx_hot *hot;   /* by ordinal, beside doc */
    sidx_rank *rank; /* by ordinal, beside doc */
    sidx_votes *votes; /* by ordinal, beside doc */
    size_t slots, doc_cap, hot_cap, rank_cap, votes_cap, live;
    /* what the rank lines were computed with: the prior weight, the freshness half-life (s) and the
     * epoch (us) their fresh is relative to */
    int64_t rank_m, rank_h, rank_epoch_us;
    sidx_atoms words, cats, models, tags;
    sidx_term *term; /* by word id */
    size_t term_cap;
    /* by tag id: the documents with the tag (tag filters intersect these), how many are live and
     * the sum of their downloads (tag suggestions rank by it) */
    sidx_posting *tag_post;
    int64_t *tag_docs, *tag_downloads;
    size_t tag_cap;
    /* the documents with a trending score, by ordinal, with all the trending list reads of them, so
     * the list is one sequential scan of this array */
    sidx_trend *trend;
    size_t trend_count, trend_cap;
    /* live ordinals by downloads (most first), then the newer id: suggestions walk it. Ordinals are
     * appended unsorted and put in place by the next read, as sorted words are. */
    uint32_t *pop;
    size_t pop_count, pop_cap, pop_upto;
    uint32_t *sorted; /* word ids in byte order of the word, for prefix ranges */
    size_t sorted_count, sorted_cap, sorted_upto; /* sorted_upto: how many are in order */
    /* id -> ordinal + 1 (open addressing on the id) */
    uint64_t *id_key;
    uint32_t *id_ord;
    size_t id_slots, id_used;
    size_t bytes;
    /* a query's matches with their sort keys: kept between queries (a worker runs one at a time) so
     * a large result costs no allocation */
    struct sidx_key *keys;
    size_t keys_cap;
    /* likewise a query's plan (some KiB) and the best keys of its page: allocations this large would
     * make malloc merge its small free chunks on every query */
    struct sidx_plan *plan;
    struct sidx_key *top;
    size_t top_cap;
    int key_third; /* the running query's sort breaks ties of its two keys by downloads */
    /* the facets of every live document, kept as documents come, go and change: a query without
     * text, tags or filters answers them without reading a rank line (by category atom, pricing
     * atom, rating band) */
    int64_t *live_by_category;
    size_t live_by_category_cap;
    int64_t live_by_pricing[SIDX_PRICING_MAX + 1], live_by_band[8];
    /* a prefix's union: occurrences by ordinal and a bit a touched ordinal, zero between queries
     * (the union clears what it touched), so a prefix costs its postings, not the slots */
    uint32_t *acc;
    uint64_t *acc_seen;
    size_t acc_cap, acc_seen_cap;
};

search_index *search_index_new(void)
{
    search_index *ix = calloc(1, sizeof(search_index));
    if (ix)
        ix->rank_m = 10; /* until the first query names its own */
    return ix;
}

static void sidx_doc_clear(sidx_doc *d)
{
    free(d->slug);
    free(d->name_norm);
    free(d->name);
    free(d->title);
    free(d->terms);
    free(d->tags);
    memset(d, 0, sizeof *d);
}

void search_index_free(search_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->slots; i++)
        sidx_doc_clear(&ix->doc[i]);
    free(ix->doc);
    free(ix->hot);
    free(ix->rank);
    free(ix->votes);
    for (size_t i = 0; i < ix->words.count; i++) {
        free(ix->term[i].all.ord);
        free(ix->term[i].all.tf);
        free(ix->term[i].title.ord);
        free(ix->term[i].title.tf);
    }
    for (size_t i = 0; i < ix->tags.count; i++) {
        free(ix->tag_post[i].ord);
        free(ix->tag_post[i].tf);
    }
    free(ix->term);
    free(ix->trend);
    free(ix->tag_post);
    free(ix->tag_docs);
    free(ix->tag_downloads);
    free(ix->sorted);
    free(ix->pop);
    free(ix->id_key);
    free(ix->id_ord);
    free(ix->keys);
    free(ix->plan);
    free(ix->top);
    free(ix->live_by_category);
    free(ix->acc);
    free(ix->acc_seen);
    sidx_atoms_free(&ix->words);
    sidx_atoms_free(&ix->cats);
    sidx_atoms_free(&ix->models);
    sidx_atoms_free(&ix->tags);
    free(ix);
}

size_t search_index_count(const search_index *ix)
{
    return ix->live;
}

static size_t sidx_atoms_bytes(const sidx_atoms *a)
{
    size_t b = a->slots * sizeof(uint32_t) + a->str_cap * sizeof(char *);
    for (size_t i = 0; i < a->count; i++)
        b += strlen(a->str[i]) + 1;
    return b;
}

size_t search_index_bytes(const search_index *ix)
{
    size_t b = sizeof *ix + ix->doc_cap * sizeof(sidx_doc) + ix->hot_cap * sizeof(sidx_hot) +
               ix->rank_cap * sizeof(sidx_rank) + ix->votes_cap * sizeof(sidx_votes) +
               ix->term_cap * sizeof(sidx_term) + ix->tag_cap * (sizeof(sidx_posting) + 2 * sizeof(int64_t)) +
               (ix->sorted_cap + ix->pop_cap) * sizeof(uint32_t) + ix->id_slots * (sizeof(uint64_t) + sizeof(uint32_t)) +
               sidx_atoms_bytes(&ix->words) + sidx_atoms_bytes(&ix->cats) + sidx_atoms_bytes(&ix->models) +
               sidx_atoms_bytes(&ix->tags);
    for (size_t i = 0; i < ix->words.count; i++)
        b += (ix->term[i].all.cap + ix->term[i].title.cap) * 6;
    for (size_t i = 0; i < ix->tags.count; i++)
        b += ix->tag_post[i].cap * 6;
    b += ix->trend_cap * sizeof *ix->trend;
    for (size_t i = 0; i < ix->slots; i++) {
        const sidx_doc *d = &ix->doc[i];
        if (ix->rank[i].meta & SIDX_META_LIVE)
            b += strlen(d->slug) + strlen(d->name) + strlen(d->name_norm) + strlen(d->title) + 4 +
                 (d->term_count + d->tag_count) * sizeof(uint32_t);
    }
    return b;
}

static void sidx_posting_trim(sidx_posting *p)
{
    if (p->cap == p->count || p->count == 0)
        return;
    uint32_t *ord = realloc(p->ord, p->count * sizeof *ord);
    if (ord)
        p->ord = ord;
    uint16_t *tf = realloc(p->tf, p->count * sizeof *tf);
    if (tf)
        p->tf = tf;
    if (ord && tf) /* else the larger arrays stay, still valid */
        p->cap = p->count;
}

static void sidx_sorted_ready(search_index *ix);
static void sidx_pop_ready(search_index *ix);

void search_index_trim(search_index *ix)
{
    sidx_sorted_ready(ix); /* a bulk load's orders sorted now, not by the first query */
    sidx_pop_ready(ix);
    for (size_t i = 0; i < ix->words.count; i++) {
        sidx_posting_trim(&ix->term[i].all);
        sidx_posting_trim(&ix->term[i].title);
    }
    for (size_t i = 0; i < ix->tags.count; i++)
        sidx_posting_trim(&ix->tag_post[i]);
}

/* ---- id -> ordinal ------------------------------------------------------------------------------ */

static size_t sidx_id_slot(const search_index *ix, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    size_t at = (size_t)(h >> 20) & (ix->id_slots - 1);
    while (ix->id_key[at] && ix->id_key[at] != (uint64_t)id)
        at = (at + 1) & (ix->id_slots - 1);
    return at;
}

/* The ordinal of id, or -1. */
static int64_t sidx_id_get(const search_index *ix, int64_t id)
{
    if (!ix->id_slots)
        return -1;
    size_t at = sidx_id_slot(ix, id);
    return ix->id_key[at] && ix->id_ord[at] ? (int64_t)ix->id_ord[at] - 1 : -1;
}

static int sidx_id_rehash(search_index *ix)
{
    size_t n = ix->id_slots ? ix->id_slots * 2 : 1024;
    uint64_t *old_key = ix->id_key;
    uint32_t *old_ord = ix->id_ord;
    size_t old_slots = ix->id_slots;
    ix->id_key = calloc(n, sizeof *ix->id_key);
    ix->id_ord = calloc(n, sizeof *ix->id_ord);
    if (!ix->id_key || !ix->id_ord) {
        free(ix->id_key);
        free(ix->id_ord);
        ix->id_key = old_key;
        ix->id_ord = old_ord;
        return -1;
    }
    ix->id_slots = n;
    ix->id_used = 0;
    for (size_t i = 0; i < old_slots; i++)
        if (old_key[i] && old_ord[i]) {
            size_t at = sidx_id_slot(ix, (int64_t)old_key[i]);
            ix->id_key[at] = old_key[i];
            ix->id_ord[at] = old_ord[i];
            ix->id_used++;
        }
    free(old_key);
    free(old_ord);
    return 0;
}

/* ordinal -1 forgets id (the slot keeps the key as a tombstone with ordinal 0). */
static int sidx_id_set(search_index *ix, int64_t id, int64_t ord)
{
    /* a known id (a replace, a remove, a squeeze) never needs a larger table */
    int known = ix->id_slots && ix->id_key[sidx_id_slot(ix, id)];
    if (!known && (ix->id_used + 1) * 2 > ix->id_slots && sidx_id_rehash(ix) < 0)
        return -1;
    size_t at = sidx_id_slot(ix, id);
    if (!ix->id_key[at])
        ix->id_used++;
    ix->id_key[at] = (uint64_t)id;
    ix->id_ord[at] = (uint32_t)(ord + 1);
    return 0;
}

/* ---- popularity order --------------------------------------------------------------------------- */

static const search_index *sidx_sort_ix; /* qsort's comparators have no context argument */

static int sidx_pop_before(const search_index *ix, uint32_t a, uint32_t b)
{
    const sidx_hot *x = &ix->hot[a], *y = &ix->hot[b];
    return x->downloads != y->downloads ? x->downloads > y->downloads : x->id > y->id;
}

static int sidx_pop_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return sidx_pop_before(sidx_sort_ix, x, y) ? -1 : sidx_pop_before(sidx_sort_ix, y, x) ? 1 : 0;
}

/* The first position in the ordered part whose ordinal does not rank before ord. */
static size_t sidx_pop_lower(const search_index *ix, uint32_t ord)
{
    size_t lo = 0, hi = ix->pop_upto;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sidx_pop_before(ix, ix->pop[mid], ord))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int sidx_pop_add(search_index *ix, uint32_t ord)
{
    if (sidx_grow((void **)&ix->pop, &ix->pop_cap, ix->pop_count + 1, sizeof *ix->pop) < 0)
        return -1;
    ix->pop[ix->pop_count++] = ord;
    return 0;
}

/* Takes ord out; its counters must still be the ones it was placed by. */
static void sidx_pop_drop(search_index *ix, uint32_t ord)
{
    size_t at = sidx_pop_lower(ix, ord);
    if (at == ix->pop_upto || ix->pop[at] != ord)
        for (at = ix->pop_upto; at < ix->pop_count && ix->pop[at] != ord; at++)
            ;
    if (at == ix->pop_count)
        return;
    memmove(ix->pop + at, ix->pop + at + 1, (ix->pop_count - at - 1) * sizeof *ix->pop);
    ix->pop_count--;
    if (at < ix->pop_upto)
        ix->pop_upto--;
}

/* An order kept as a sorted head [0, *upto) and an unsorted tail [*upto, count) of new entries:
 * the tail is sorted and merged in from the back, in place, so the few entries a change feed
 * brings after a build cost one pass over the order, not a sort of all of it. */
static void sidx_order_ready(search_index *ix, uint32_t *a, size_t *upto, size_t count,
                             int (*cmp)(const void *, const void *))
{
    size_t tail = count - *upto;
    if (tail == 0)
        return;
    sidx_sort_ix = ix;
    uint32_t *fresh = *upto ? malloc(tail * sizeof *fresh) : NULL;
    if (!fresh) { /* nothing sorted yet, or no memory for the merge: one sort of everything */
        qsort(a, count, sizeof *a, cmp);
        *upto = count;
        return;
    }
    memcpy(fresh, a + *upto, tail * sizeof *fresh);
    qsort(fresh, tail, sizeof *fresh, cmp);
    size_t i = *upto, j = tail, k = count;
    while (j > 0)
        a[--k] = i > 0 && cmp(&a[i - 1], &fresh[j - 1]) > 0 ? a[--i] : fresh[--j];
    free(fresh);
    *upto = count;
}

static void sidx_pop_ready(search_index *ix)
{
    sidx_order_ready(ix, ix->pop, &ix->pop_upto, ix->pop_count, sidx_pop_cmp);
}

/* ---- the trending list ------------------------------------------------------------------------- */


/* The position of ord in the list, or where it belongs. */
static size_t sidx_trend_find(const search_index *ix, uint32_t ord)
{
    size_t lo = 0, hi = ix->trend_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ix->trend[mid].ord < ord)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ord's entry from its lines, added or replaced. */
static int sidx_trend_put(search_index *ix, uint32_t ord)
{
    size_t at = sidx_trend_find(ix, ord);
    if (at == ix->trend_count || ix->trend[at].ord != ord) {
        if (sidx_grow((void **)&ix->trend, &ix->trend_cap, ix->trend_count + 1, sizeof *ix->trend) < 0)
            return -1;
        memmove(ix->trend + at + 1, ix->trend + at, (ix->trend_count - at) * sizeof *ix->trend);
        ix->trend_count++;
    }
    const sidx_hot *h = &ix->hot[ord];
    ix->trend[at] = (sidx_trend){.ord = ord, .category = (uint16_t)SIDX_META_CATEGORY(ix->rank[ord].meta), .id = h->id,
                                 .at_us = h->trend_at_us, .score = h->trend};
    return 0;
}

static void sidx_trend_drop(search_index *ix, uint32_t ord)
{
    size_t at = sidx_trend_find(ix, ord);
    if (at == ix->trend_count || ix->trend[at].ord != ord)
        return;
    memmove(ix->trend + at, ix->trend + at + 1, (ix->trend_count - at - 1) * sizeof *ix->trend);
    ix->trend_count--;
}

/* ---- put and remove ------------------------------------------------------------------------------ */

/* A live document's share of its tags' downloads and counts, and of the facets of all live
 * documents: sign +1 adds it, -1 takes it back. */
static void sidx_tag_totals(search_index *ix, uint32_t ord, int sign)
{
    const sidx_doc *d = &ix->doc[ord];
    for (uint32_t i = 0; i < d->tag_count; i++) {
        ix->tag_docs[d->tags[i]] += sign;
        ix->tag_downloads[d->tags[i]] += sign * ix->hot[ord].downloads;
    }
    uint32_t meta = ix->rank[ord].meta;
    ix->live_by_category[SIDX_META_CATEGORY(meta)] += sign;
    ix->live_by_pricing[SIDX_META_PRICING(meta)] += sign;
    ix->live_by_band[SIDX_META_BAND(meta)] += sign;
}

static void sidx_unlink(search_index *ix, uint32_t ord)
{
    sidx_doc *d = &ix->doc[ord];
    for (uint32_t i = 0; i < d->term_count; i++) {
        sidx_posting_drop(&ix->term[d->terms[i]].all, ord);
        sidx_posting_drop(&ix->term[d->terms[i]].title, ord);
    }
    if (ix->rank[ord].meta & SIDX_META_LIVE) {
        sidx_tag_totals(ix, ord, -1);
        sidx_pop_drop(ix, ord);
        ix->live--;
    }
    for (uint32_t i = 0; i < d->tag_count; i++)
        sidx_posting_drop(&ix->tag_post[d->tags[i]], ord);
    sidx_trend_drop(ix, ord);
    sidx_doc_clear(d);
    ix->rank[ord].meta = 0; /* dead: the slot stays until the next squeeze */
}

void search_index_remove(search_index *ix, int64_t id)
{
    int64_t ord = sidx_id_get(ix, id);
    if (ord < 0)
        return;
    sidx_unlink(ix, (uint32_t)ord);
    sidx_id_set(ix, id, -1); /* never grows the table: the key is there */
}

/* A word counted in one document: its id and occurrences. */
typedef struct {
    uint32_t word;
    uint16_t tf;
    uint8_t in_title;
} sidx_hit;

static int sidx_hit_cmp(const void *a, const void *b)
{
    const sidx_hit *x = a, *y = b;
    return x->word < y->word ? -1 : x->word > y->word;
}

static int sidx_term_slot(search_index *ix, int64_t word)
{
    size_t had = ix->term_cap;
    if (sidx_grow((void **)&ix->term, &ix->term_cap, (size_t)word + 1, sizeof *ix->term) < 0)
        return -1;
    memset(ix->term + had, 0, (ix->term_cap - had) * sizeof *ix->term);
    return 0;
}

/* The words of a normalized text into hits (in_title marks them), new words added to the table. */
static int sidx_words(search_index *ix, const char *text, int in_title, sidx_hit **hits, size_t *count,
                      size_t *cap)
{
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        size_t len = (size_t)(p - start);
        if (len == 0)
            break;
        /* body words shorter than the FULLTEXT minimum are never searched: only titles keep them */
        if (!in_title && len < SEARCH_TEXT_MIN_TOKEN)
            continue;
        size_t before = ix->words.count;
        int64_t w = sidx_atoms_add(&ix->words, start, len);
        if (w < 0 || sidx_term_slot(ix, w) < 0)
            return -1;
        if (ix->words.count != before) {
            if (sidx_grow((void **)&ix->sorted, &ix->sorted_cap, ix->sorted_count + 1, sizeof *ix->sorted) < 0)
                return -1;
            ix->sorted[ix->sorted_count++] = (uint32_t)w; /* sorted again before the next prefix read */
        }
        if (sidx_grow((void **)hits, cap, *count + 1, sizeof **hits) < 0)
            return -1;
        (*hits)[(*count)++] = (sidx_hit){.word = (uint32_t)w, .tf = 1, .in_title = (uint8_t)in_title};
    }
    return 0;
}

/* Sorted by word, duplicates merged (occurrences summed, title kept if any was). */
static size_t sidx_hits_merge(sidx_hit *h, size_t n)
{
    qsort(h, n, sizeof *h, sidx_hit_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept && h[kept - 1].word == h[i].word) {
            if (h[kept - 1].tf < UINT16_MAX)
                h[kept - 1].tf++;
            h[kept - 1].in_title |= h[i].in_title;
        } else {
            h[kept++] = h[i];
        }
    }
    return kept;
}

static double sidx_downloads_term(int64_t downloads)
{
    return fmin(1, log1p((double)(downloads > 0 ? downloads : 0)) / log(1000001.0));
}

static int sidx_tag_slot(search_index *ix, int64_t tag)
{
    size_t had = ix->tag_cap, cap = had;
    if (sidx_grow((void **)&ix->tag_post, &cap, (size_t)tag + 1, sizeof *ix->tag_post) < 0)
        return -1;
    memset(ix->tag_post + had, 0, (cap - had) * sizeof *ix->tag_post);
    int64_t *docs = realloc(ix->tag_docs, cap * sizeof *docs);
    if (docs)
        ix->tag_docs = docs;
    int64_t *downloads = docs ? realloc(ix->tag_downloads, cap * sizeof *downloads) : NULL;
    if (!docs || !downloads)
        return -1;
    ix->tag_downloads = downloads;
    memset(ix->tag_docs + had, 0, (cap - had) * sizeof *docs);
    memset(ix->tag_downloads + had, 0, (cap - had) * sizeof *downloads);
    ix->tag_cap = cap;
    return 0;
}

static int sidx_tags(search_index *ix, const char *tags, sidx_doc *d)
{
    size_t cap = 0;
    for (const char *p = tags ? tags : ""; *p;) {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        if (p == start)
            break;
        int64_t a = sidx_atoms_add(&ix->tags, start, (size_t)(p - start));
        if (a < 0 || sidx_tag_slot(ix, a) < 0 ||
            sidx_grow((void **)&d->tags, &cap, d->tag_count + 1, sizeof *d->tags) < 0)
            return -1;
        d->tags[d->tag_count++] = (uint32_t)a;
    }
    return 0;
}

static uint16_t sidx_hash16(const char *s)
{
    uint32_t h = sidx_hash(s);
    return (uint16_t)(h ^ (h >> 16));
}

static uint32_t sidx_clamp32(int64_t v)
{
    return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* The rating band the facets count: the whole stars of the average, 0 unrated. */
static uint32_t sidx_band(uint32_t count, uint32_t sum)
{
    uint32_t band = count ? (uint32_t)((uint64_t)sum / count) : 0;
    return band > 5 ? 5 : band;
}

/* The rank line's parts that depend on the counters and on the index's ranking setup. */
static void sidx_rank_scores(const search_index *ix, const sidx_hot *h, sidx_rank *r)
{
    double m = (double)ix->rank_m, count = h->rating_count;
    r->bayes_a = count > 0 ? (float)(m / (m + count)) : 0;
    r->bayes_b = count > 0 ? (float)((double)h->rating_sum / (m + count)) : 0;
    r->downloads_term = (float)sidx_downloads_term(h->downloads);
    r->fresh = ix->rank_h > 0 ? exp2((double)(h->published_us - ix->rank_epoch_us) / 1e6 / (double)ix->rank_h) : 0;
    r->meta = (r->meta & ~(0x7u << 22)) | (sidx_band(h->rating_count, h->rating_sum) << 22);
}

static void sidx_counts(search_index *ix, uint32_t ord, int64_t rating_count, int64_t rating_sum, int64_t downloads,
                        int has_trend, double trend)
{
    sidx_hot *h = &ix->hot[ord];
    sidx_rank *r = &ix->rank[ord];
    h->rating_count = sidx_clamp32(rating_count);
    h->rating_sum = sidx_clamp32(rating_sum);
    ix->votes[ord] = (sidx_votes){.count = h->rating_count, .sum = h->rating_sum};
    h->downloads = downloads;
    h->trend = trend;
    sidx_rank_scores(ix, h, r);
    r->meta = has_trend ? r->meta | SIDX_META_TREND : r->meta & ~SIDX_META_TREND;
}

/* The hot and rank lines of a filled document; -1 when its category or pricing model is one too many. */
static int sidx_lines_fill(search_index *ix, const search_index_doc *in, uint32_t ord)
{
    const sidx_doc *d = &ix->doc[ord];
    sidx_hot *h = &ix->hot[ord];
    sidx_rank *r = &ix->rank[ord];
    const char *cat = in->category ? in->category : "", *model = in->pricing ? in->pricing : "";
    int64_t category = sidx_atoms_add(&ix->cats, cat, strlen(cat));
    int64_t pricing = sidx_atoms_add(&ix->models, model, strlen(model));
    if (category < 0 || category > UINT16_MAX || pricing < 0 || pricing > SIDX_PRICING_MAX)
        return -1;
    size_t had = ix->live_by_category_cap;
    if (sidx_grow((void **)&ix->live_by_category, &ix->live_by_category_cap, (size_t)category + 1,
                  sizeof *ix->live_by_category) < 0)
        return -1;
    memset(ix->live_by_category + had, 0, (ix->live_by_category_cap - had) * sizeof *ix->live_by_category);
    h->id = in->id;
    h->published_us = in->published_us;
    h->trend_at_us = in->trend_at_us;
    memcpy(h->name_head, d->name_norm, d->name_len < sizeof h->name_head ? d->name_len : sizeof h->name_head);
    r->price_cents = sidx_clamp32(in->price_cents);
    r->meta = (uint32_t)category | (uint32_t)pricing << 16 | SIDX_META_LIVE;
    r->slug_hash = sidx_hash16(d->slug);
    r->name_hash = sidx_hash16(d->name_norm);
    sidx_counts(ix, ord, in->rating_count, in->rating_sum, in->downloads, in->has_trend, in->trend);
    return 0;
}

static int sidx_doc_fill(search_index *ix, const search_index_doc *in, sidx_doc *d, sidx_hit **hits, size_t *n)
{
    const char *title_parts[] = {in->name, in->slug, in->tags};
    const char *body_parts[] = {in->summary, in->description, in->category};
    d->slug = strdup(in->slug ? in->slug : "");
    d->name = strdup(in->name ? in->name : "");
    char *body;
    if (in->title_norm) {
        const char *name[] = {in->name_norm}, *title[] = {in->title_norm}, *text[] = {in->body_norm};
        /* already normal: normalizing again changes nothing and pads the title */
        d->name_norm = search_text_normalize_parts(name, 1, 0);
        d->title = search_text_normalize_parts(title, 1, 1);
        body = search_text_normalize_parts(text, 1, 0);
    } else {
        d->name_norm = search_text_normalize_parts(title_parts, 1, 0);
        d->title = search_text_normalize_parts(title_parts, 3, 1);
        body = search_text_normalize_parts(body_parts, 3, 0);
    }
    size_t cap = 0;
    int rc = d->slug && d->name && d->name_norm && d->title && body ? 0 : -1;
    if (rc == 0)
        rc = sidx_words(ix, d->title, 1, hits, n, &cap);
    if (rc == 0)
        rc = sidx_words(ix, body, 0, hits, n, &cap);
    if (rc == 0)
        rc = sidx_tags(ix, in->tags, d);
    free(body);
    d->slug_len = d->slug ? strlen(d->slug) : 0;
    d->name_len = d->name_norm ? strlen(d->name_norm) : 0;
    d->developer_id = in->developer_id;
    return rc;
}

static int sidx_link(search_index *ix, uint32_t ord, sidx_hit *hits, size_t n)
{
    sidx_doc *d = &ix->doc[ord];
    d->terms = malloc((n ? n : 1) * sizeof *d->terms);
    if (!d->terms)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sidx_term *t = &ix->term[hits[i].word];
        d->terms[d->term_count++] = hits[i].word;
        if (sidx_posting_append(&t->all, ord, hits[i].tf) < 0 ||
            (hits[i].in_title && sidx_posting_append(&t->title, ord, hits[i].tf) < 0))
            return -1;
    }
    for (uint32_t i = 0; i < d->tag_count; i++) {
        sidx_posting *p = &ix->tag_post[d->tags[i]];
        /* a tag written twice is one posting */
        if ((p->count == 0 || p->ord[p->count - 1] != ord) && sidx_posting_append(p, ord, 1) < 0)
            return -1;
    }
    return ix->rank[ord].meta & SIDX_META_TREND ? sidx_trend_put(ix, ord) : 0;
}

static int sidx_squeeze(search_index *ix);

int search_index_put(search_index *ix, const search_index_doc *in)
{
    search_index_remove(ix, in->id);
    if (ix->slots > 1024 && ix->slots > 2 * ix->live && sidx_squeeze(ix) < 0)
        return -1;
    if (ix->slots >= UINT32_MAX - 1 ||
        sidx_grow((void **)&ix->doc, &ix->doc_cap, ix->slots + 1, sizeof *ix->doc) < 0 ||
        sidx_grow((void **)&ix->hot, &ix->hot_cap, ix->slots + 1, sizeof *ix->hot) < 0 ||
        sidx_grow((void **)&ix->rank, &ix->rank_cap, ix->slots + 1, sizeof *ix->rank) < 0 ||
        sidx_grow((void **)&ix->votes, &ix->votes_cap, ix->slots + 1, sizeof *ix->votes) < 0)
        return -1;
    uint32_t ord = (uint32_t)ix->slots;
    sidx_doc *d = &ix->doc[ord];
    memset(d, 0, sizeof *d);
    memset(&ix->hot[ord], 0, sizeof ix->hot[ord]);
    memset(&ix->rank[ord], 0, sizeof ix->rank[ord]);
    memset(&ix->votes[ord], 0, sizeof ix->votes[ord]);
    ix->slots++;
    sidx_hit *hits = NULL;
    size_t n = 0;
    int rc = sidx_doc_fill(ix, in, d, &hits, &n);
    if (rc == 0)
        rc = sidx_lines_fill(ix, in, ord);
    if (rc == 0) {
        ix->live++;
        sidx_tag_totals(ix, ord, +1);
        n = sidx_hits_merge(hits, n);
        rc = sidx_pop_add(ix, ord);
    }
    if (rc == 0) {
        rc = sidx_link(ix, ord, hits, n);
    }
    if (rc == 0)
        rc = sidx_id_set(ix, in->id, ord);
    free(hits);
    if (rc < 0) {
        sidx_unlink(ix, ord); /* whatever was linked goes again */
        sidx_id_set(ix, in->id, -1);
    }
    return rc;
}

int search_index_set_counts(search_index *ix, int64_t id, int64_t rating_count, int64_t rating_sum,
                            int64_t downloads, int has_trend, double trend)
{
    int64_t ord = sidx_id_get(ix, id);
    if (ord < 0)
        return 0;
    sidx_tag_totals(ix, (uint32_t)ord, -1);
    int moves = ix->hot[ord].downloads != downloads;
    if (moves)
        sidx_pop_drop(ix, (uint32_t)ord); /* found by its old place */
    sidx_counts(ix, (uint32_t)ord, rating_count, rating_sum, downloads, has_trend, trend);
    sidx_tag_totals(ix, (uint32_t)ord, +1);
    if (moves)
        sidx_pop_add(ix, (uint32_t)ord); /* cannot fail: the drop left room */
    if (!has_trend)
        sidx_trend_drop(ix, (uint32_t)ord);
    else if (sidx_trend_put(ix, (uint32_t)ord) < 0)
        return -1;
    return 1;
}

static void sidx_posting_renumber(sidx_posting *p, const uint32_t *map)
{
    for (size_t i = 0; i < p->count; i++)
        p->ord[i] = map[p->ord[i]];
}

/* Renumbers the live documents 0.. in order, so every posting keeps its order under the map. */
static int sidx_squeeze(search_index *ix)
{
    uint32_t *map = malloc(ix->slots * sizeof *map);
    if (!map)
        return -1;
    size_t next = 0;
    for (size_t i = 0; i < ix->slots; i++) {
        map[i] = (uint32_t)next;
        if (ix->rank[i].meta & SIDX_META_LIVE) {
            ix->doc[next] = ix->doc[i];
            ix->hot[next] = ix->hot[i];
            ix->rank[next] = ix->rank[i];
            ix->votes[next] = ix->votes[i];
            sidx_id_set(ix, ix->hot[next].id, (int64_t)next);
            next++;
        }
    }
    ix->slots = next;
    for (size_t w = 0; w < ix->words.count; w++) {
        sidx_posting_renumber(&ix->term[w].all, map);
        sidx_posting_renumber(&ix->term[w].title, map);
    }
    for (size_t t = 0; t < ix->tags.count; t++)
        sidx_posting_renumber(&ix->tag_post[t], map);
    for (size_t i = 0; i < ix->trend_count; i++)
        ix->trend[i].ord = map[ix->trend[i].ord];
    for (size_t i = 0; i < ix->pop_count; i++) /* the order is by counters and ids: it stays */
        ix->pop[i] = map[ix->pop[i]];
    free(map);
    return 0;
}

/* ---- the query: candidates ------------------------------------------------------------------------ */

static int sidx_sorted_cmp(const void *a, const void *b)
{
    const search_index *ix = sidx_sort_ix;
    return strcmp(ix->words.str[*(const uint32_t *)a], ix->words.str[*(const uint32_t *)b]);
}


/* The word table in byte order (new words are appended; a prefix read puts them in place). */
static void sidx_sorted_ready(search_index *ix)
{
    sidx_order_ready(ix, ix->sorted, &ix->sorted_upto, ix->sorted_count, sidx_sorted_cmp);
}

/* A set of candidate ordinals, sorted, with the text score each brings (occurrences x idf^2). */
typedef struct {
    uint32_t *ord;
    uint16_t *tf;
    size_t count;
    double idf2;
    int owned; /* ord/tf malloc'd here (a prefix union), else borrowed from a posting */
} sidx_set;

static double sidx_idf2(const search_index *ix, size_t docs_with)
{
    if (!docs_with || !ix->live)
        return 0;
    double idf = log10((double)ix->live / (double)docs_with);
    return idf * idf;
}

/* The words starting with prefix: [*lo, *end) of the sorted table; returns their postings' total
 * length (title postings only when title_only), an upper bound of the documents they name. */
static size_t sidx_prefix_range(search_index *ix, const char *prefix, int title_only, size_t *lo_out, size_t *end_out)
{
    sidx_sorted_ready(ix);
    size_t len = strlen(prefix), lo = 0, hi = ix->sorted_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(ix->words.str[ix->sorted[mid]], prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t total = 0, end = lo;
    for (; end < ix->sorted_count && strncmp(ix->words.str[ix->sorted[end]], prefix, len) == 0; end++) {
        const sidx_term *t = &ix->term[ix->sorted[end]];
        total += title_only ? t->title.count : t->all.count;
    }
    *lo_out = lo;
    *end_out = end;
    return total;
}

/* Grows a zeroed array of n entries of size bytes, the new part zeroed too. */
static int sidx_grow_zeroed(void **p, size_t *cap, size_t n, size_t size)
{
    size_t had = *cap;
    if (sidx_grow(p, cap, n, size) < 0)
        return -1;
    memset((char *)*p + had * size, 0, (*cap - had) * size);
    return 0;
}

/* Empties the accumulator of what the union touched, into out when out->ord is set. */
static void sidx_acc_drain(search_index *ix, sidx_set *out)
{
    for (size_t w = 0; w < (ix->slots + 63) / 64; w++)
        for (uint64_t bits = ix->acc_seen[w]; bits; bits &= bits - 1) {
            size_t o = w * 64 + (size_t)__builtin_ctzll(bits);
            if (ix->acc[o] && out->ord) {
                out->ord[out->count] = (uint32_t)o;
                out->tf[out->count++] = ix->acc[o] > UINT16_MAX ? UINT16_MAX : (uint16_t)ix->acc[o];
            }
            ix->acc[o] = 0;
            ix->acc_seen[w] = 0;
        }
}

/* The union of the postings of every word starting with prefix (title postings only when
 * title_only), occurrences summed per document. */
static int sidx_prefix_set(search_index *ix, const char *prefix, int title_only, sidx_set *out)
{
    size_t lo, end;
    size_t total = sidx_prefix_range(ix, prefix, title_only, &lo, &end);
    memset(out, 0, sizeof *out);
    if (total == 0)
        return 0;
    if (end == lo + 1) { /* one word: its posting is the set, nothing to merge */
        const sidx_term *t = &ix->term[ix->sorted[lo]];
        const sidx_posting *p = title_only ? &t->title : &t->all;
        out->ord = p->ord;
        out->tf = p->tf;
        out->count = p->count;
        out->idf2 = sidx_idf2(ix, p->count);
        return 0;
    }
    out->owned = 1;
    if (sidx_grow_zeroed((void **)&ix->acc, &ix->acc_cap, ix->slots, sizeof *ix->acc) < 0 ||
        sidx_grow_zeroed((void **)&ix->acc_seen, &ix->acc_seen_cap, (ix->slots + 63) / 64, sizeof *ix->acc_seen) < 0)
        return -1;
    size_t distinct = 0;
    for (size_t i = lo; i < end; i++) {
        const sidx_term *t = &ix->term[ix->sorted[i]];
        const sidx_posting *p = title_only ? &t->title : &t->all;
        for (size_t k = 0; k < p->count; k++) {
            uint32_t o = p->ord[k];
            distinct += ix->acc[o] == 0;
            ix->acc[o] += p->tf[k];
            ix->acc_seen[o / 64] |= UINT64_C(1) << (o % 64);
        }
    }
    out->ord = malloc(distinct * sizeof *out->ord);
    out->tf = malloc(distinct * sizeof *out->tf);
    if (!out->ord || !out->tf) {
        free(out->ord);
        free(out->tf);
        out->ord = NULL;
        out->tf = NULL;
    }
    sidx_acc_drain(ix, out); /* also when out of memory: the accumulator must be left empty */
    if (!out->ord)
        return -1;
    out->idf2 = sidx_idf2(ix, distinct);
    return 0;
}

static void sidx_word_set(const search_index *ix, const char *word, sidx_set *out)
{
    memset(out, 0, sizeof *out);
    int64_t w = sidx_atoms_find(&ix->words, word);
    if (w < 0)
        return;
    out->ord = ix->term[w].all.ord;
    out->tf = ix->term[w].all.tf;
    out->count = ix->term[w].all.count;
    out->idf2 = sidx_idf2(ix, out->count);
}

static int sidx_set_size_cmp(const void *a, const void *b)
{
    const sidx_set *x = a, *y = b;
    return x->count < y->count ? -1 : x->count > y->count;
}

/* The first position at or after from where s->ord >= ord (galloping, then binary search). Matches
 * come in increasing order and mostly land on the next entry: that case costs one compare. */
static inline size_t sidx_seek(const sidx_set *s, size_t from, uint32_t ord)
{
    if (from < s->count && s->ord[from] >= ord)
        return from;
    size_t step = 1, hi = from;
    while (hi < s->count && s->ord[hi] < ord) {
        from = hi + 1;
        hi += step;
        step *= 2;
    }
    if (hi > s->count)
        hi = s->count;
    while (from < hi) {
        size_t mid = (from + hi) / 2;
        if (s->ord[mid] < ord)
            from = mid + 1;
        else
            hi = mid;
    }
    return from;
}

/* The documents with word among their title words (as a prefix when prefix). */
static int sidx_title_set(search_index *ix, const char *word, int prefix, sidx_set *out)
{
    if (prefix)
        return sidx_prefix_set(ix, word, 1, out);
    memset(out, 0, sizeof *out);
    int64_t w = sidx_atoms_find(&ix->words, word);
    if (w >= 0) {
        out->ord = ix->term[w].title.ord;
        out->count = ix->term[w].title.count;
    }
    return 0;
}

/* ---- the query: plan ------------------------------------------------------------------------------ */

#define SIDX_SETS_MAX (SEARCH_TEXT_WORDS_MAX + SEARCH_INDEX_TAGS_MAX)

typedef struct sidx_plan {
    search_text_words words;
    /* the candidate sets every match is in: the query words' (scored) and the tags' (idf2 0) */
    sidx_set set[SIDX_SETS_MAX];
    size_t sets;
    int text;
    int none; /* a filter names a value no document has: nothing matches */
    char slug_form[SEARCH_TEXT_BOOLEAN_SIZE], name_form[SEARCH_TEXT_BOOLEAN_SIZE];
    uint16_t slug_hash, name_hash;
    /* the first 4 words of 3+ characters: the documents with each as a title word (the last one as
     * a prefix), walked beside the matches, which come in the same order */
    sidx_set title_set[4];
    size_t title_at[4];
    size_t title_patterns;
    double share[5]; /* share[found] = found / title_patterns: no division a match */
    size_t slug_len, name_len;
    int64_t category, pricing; /* -1: no filter */
    /* the live, category and pricing tests as one compare of a rank line's meta: (meta & mask) == want */
    uint32_t meta_mask, meta_want;
    int rest;                  /* a price, rating or developer filter: sidx_filters_rest */
    double mean;               /* the global mean rating the Bayesian ratings lean on */
    double best;               /* largest text score among the matches */
    double fresh_now;          /* 2^((epoch - now) / half-life): a rank line's fresh times this */
    /* facet counts, gathered while matching: by category and pricing atom, and by rating band
     * (the rating facets' 4+, 3+ and 2+ are sums of bands, sidx_facets) */
    int64_t *by_category, *by_pricing;
    int64_t by_band[8];
    /* a sort whose keys need nothing from the other matches (all but relevance with text): the
     * best `direct` keys are kept in a heap (direct_keys, direct_count of them) as matches are
     * found, so no key is written for the others; 0: the matches' keys go to ix->keys */
    size_t direct, direct_count;
    struct sidx_key *direct_keys;
    int totals;     /* no text, tag or filter: the facets are the index's running totals */
    int rating_key; /* the keys are sidx_key_other's rating keys */
} sidx_plan;

static int sidx_plan_text(search_index *ix, sidx_plan *p)
{
    search_text_words *w = &p->words;
    for (size_t i = 0; i < w->count; i++) {
        size_t chars = search_text_chars(w->word[i]);
        int last = i + 1 == w->count;
        if (chars >= SEARCH_TEXT_MIN_TOKEN && p->title_patterns < 4 &&
            sidx_title_set(ix, w->word[i], last, &p->title_set[p->title_patterns++]) < 0)
            return -1;
        if (chars >= SEARCH_TEXT_MIN_TOKEN && !last) {
            sidx_word_set(ix, w->word[i], &p->set[p->sets++]);
            p->text = 1;
        } else if (last && chars >= SEARCH_INDEX_PREFIX_MIN) {
            /* the last word as a prefix: over title and body from 3 characters, titles only below */
            if (sidx_prefix_set(ix, w->word[i], chars < SEARCH_TEXT_MIN_TOKEN, &p->set[p->sets++]) < 0)
                return -1;
            if (chars < SEARCH_TEXT_MIN_TOKEN)
                p->set[p->sets - 1].idf2 = 0; /* README: a short last word alone scores 1; with others, nothing */
            p->text = 1;
        }
    }
    for (size_t found = 0; p->title_patterns && found <= p->title_patterns; found++)
        p->share[found] = (double)found / (double)p->title_patterns;
    search_text_join(w, '-', p->slug_form, sizeof p->slug_form);
    search_text_join(w, ' ', p->name_form, sizeof p->name_form);
    p->slug_len = strlen(p->slug_form);
    p->name_len = strlen(p->name_form);
    p->slug_hash = sidx_hash16(p->slug_form);
    p->name_hash = sidx_hash16(p->name_form);
    return 0;
}

/* A tag filter is one more candidate set: its posting, scoring nothing. */
static void sidx_plan_tags(search_index *ix, const search_index_query *q, sidx_plan *p)
{
    for (size_t i = 0; i < q->tag_count && i < SEARCH_INDEX_TAGS_MAX; i++) {
        int64_t tag = sidx_atoms_find(&ix->tags, q->tags[i]);
        if (tag < 0) {
            p->none = 1;
            return;
        }
        const sidx_posting *post = &ix->tag_post[tag];
        p->set[p->sets++] = (sidx_set){.ord = post->ord, .tf = post->tf, .count = post->count};
    }
}

static int sidx_plan_make(search_index *ix, const search_index_query *q, sidx_plan *p)
{
    memset(p, 0, sizeof *p);
    search_text_split(q->q ? q->q : "", &p->words);
    if (sidx_plan_text(ix, p) < 0)
        return -1;
    sidx_plan_tags(ix, q, p);
    p->category = q->category ? sidx_atoms_find(&ix->cats, q->category) : -1;
    p->pricing = q->pricing ? sidx_atoms_find(&ix->models, q->pricing) : -1;
    /* an atom the meta bits cannot hold names no document (sidx_lines_fill refuses those) */
    p->none |= (q->category && (p->category < 0 || p->category > 0xFFFF)) ||
               (q->pricing && (p->pricing < 0 || p->pricing > SIDX_PRICING_MAX));
    p->meta_mask = SIDX_META_LIVE | (p->category >= 0 ? 0xFFFFu : 0) | (p->pricing >= 0 ? 0xFu << 16 : 0);
    p->meta_want = SIDX_META_LIVE | (p->category >= 0 ? (uint32_t)p->category : 0) |
                   (p->pricing >= 0 ? (uint32_t)p->pricing << 16 : 0);
    p->rest = q->max_price_cents >= 0 || q->min_rating_hundredths > 0 || q->developer_id > 0;
    p->mean = q->all_count > 0 ? (double)q->all_sum / (double)q->all_count : 3.0;
    p->by_category = calloc(ix->cats.count + 1, sizeof *p->by_category);
    p->by_pricing = calloc(ix->models.count + 1, sizeof *p->by_pricing);
    if (!p->by_category || !p->by_pricing)
        return -1;
    p->totals = !p->sets && !p->none && p->meta_mask == SIDX_META_LIVE && !p->rest;
    if (p->totals) { /* (atoms past what the meta bits hold name no live document) */
        size_t cats = ix->cats.count < ix->live_by_category_cap ? ix->cats.count : ix->live_by_category_cap;
        size_t models = ix->models.count < SIDX_PRICING_MAX + 1 ? ix->models.count : SIDX_PRICING_MAX + 1;
        memcpy(p->by_category, ix->live_by_category, cats * sizeof *p->by_category);
        memcpy(p->by_pricing, ix->live_by_pricing, models * sizeof *p->by_pricing);
        memcpy(p->by_band, ix->live_by_band, sizeof p->by_band);
    }
    return 0;
}

static void sidx_plan_free(sidx_plan *p)
{
    for (size_t i = 0; i < p->sets; i++)
        if (p->set[i].owned) {
            free(p->set[i].ord);
            free(p->set[i].tf);
        }
    for (size_t i = 0; i < p->title_patterns; i++)
        if (p->title_set[i].owned) {
            free(p->title_set[i].ord);
            free(p->title_set[i].tf);
        }
    free(p->by_category);
    free(p->by_pricing);
}

/* The filters the meta compare leaves: price, rating, developer. */
static int sidx_filters_rest(const search_index *ix, const search_index_query *q, uint32_t ord)
{
    if (q->max_price_cents >= 0 && ix->rank[ord].price_cents > q->max_price_cents)
        return 0;
    if (q->min_rating_hundredths > 0) {
        const sidx_votes *v = &ix->votes[ord];
        if (!(v->count > 0 && (int64_t)v->sum * 100 >= (int64_t)v->count * q->min_rating_hundredths))
            return 0;
    }
    if (q->developer_id > 0 && ix->doc[ord].developer_id != q->developer_id)
        return 0;
    return 1;
}

/* The filters a candidate set does not already apply (tags are sets): live, category and pricing
 * in one compare, the others when the query has any. */
static inline int sidx_filters_pass(const search_index *ix, const search_index_query *q, const sidx_plan *p,
                                    uint32_t ord)
{
    if ((ix->rank[ord].meta & p->meta_mask) != p->meta_want)
        return 0;
    return !p->rest || sidx_filters_rest(ix, q, ord);
}

/* A match and its sort key: k[0] first, then k[1], then (the sorts that have one) a third key, then
 * the newer id; all highest first. Made while the match's rank line is at hand; relevance adds the
 * text part once the best text score is known. The third key and the id are read from the hot line
 * only when a tie needs them: a query writes one key per match (tens of thousands), and the fewer
 * bytes each takes, the less of the query is spent waiting for memory. */
typedef struct sidx_key {
    double k[2];
    uint32_t ord;
    float match; /* the text score */
} sidx_key;

static inline void sidx_key_make(const search_index *ix, const search_index_query *q, const sidx_plan *p,
                                 uint32_t ord, double match, sidx_key *k);
/* Room for n matches in ix->keys. */
static sidx_key *sidx_keys_room(search_index *ix, size_t n)
{
    if (sidx_grow((void **)&ix->keys, &ix->keys_cap, n ? n : 1, sizeof *ix->keys) < 0)
        return NULL;
    return ix->keys;
}

/* Counts a match into the facets: while its rank line is at hand. */
static inline void sidx_facet_count(const search_index *ix, sidx_plan *p, uint32_t ord)
{
    uint32_t meta = ix->rank[ord].meta;
    p->by_category[SIDX_META_CATEGORY(meta)]++;
    p->by_pricing[SIDX_META_PRICING(meta)]++;
    p->by_band[SIDX_META_BAND(meta)]++;
}


/* How far ahead a loop over matches asks for the rank line (and the vote counters) it will read:
 * the matches are sparse in the ordinals, so each of those lines is a miss the hardware does not see
 * coming, and waiting for them is most of a large query. */
#define SIDX_AHEAD 8

static inline void sidx_ahead(const search_index *ix, const sidx_plan *p, uint32_t ord)
{
    __builtin_prefetch(&ix->rank[ord]);
    if (!p->text)
        __builtin_prefetch(&ix->votes[ord]);
}

static inline void sidx_heap_offer(const search_index *ix, sidx_key *h, size_t *count, size_t k,
                                   const sidx_key *key);

/* Whether the rating key of v (sidx_bayesian_exact: (C m + sum) / (m + count)) is below worst, the
 * heap root's, without the division: a product with a margin far wider than the rounding of
 * either side, so a key this calls below is below; the few near worst are left to the compare. */
static inline int sidx_rating_below(const search_index_query *q, const sidx_plan *p, const sidx_votes *v,
                                    double worst)
{
    if (!(worst > 0))
        return 0;
    if (v->count == 0)
        return 1; /* the key is 0 */
    double votes = (double)(q->prior_weight + v->count);
    return votes > 0 && p->mean * (double)q->prior_weight + (double)v->sum < worst * votes * (1 - 0x1p-40);
}

/* Whether a rating key of v cannot enter the plan's full heap. */
static inline int sidx_rating_skip(const search_index_query *q, const sidx_plan *p, const sidx_votes *v)
{
    return p->rating_key && p->direct_count == p->direct && sidx_rating_below(q, p, v, p->direct_keys[0].k[0]);
}

/* A document in every set: when it passes the filters, counted into the facets and its key kept
 * (out[*n], or offered to the plan's heap). Always inlined: a call a match, with its seven
 * arguments, cost a large query about a tenth. */
static inline __attribute__((always_inline)) void
sidx_match_keep(search_index *ix, const search_index_query *q, sidx_plan *p, uint32_t ord, double match,
                sidx_key *out, size_t *n)
{
    if (!sidx_filters_pass(ix, q, p, ord))
        return;
    if (!p->totals)
        sidx_facet_count(ix, p, ord);
    if (match > p->best)
        p->best = match;
    if (p->direct && sidx_rating_skip(q, p, &ix->votes[ord])) {
        (*n)++;
    } else if (p->direct) {
        sidx_key key;
        sidx_key_make(ix, q, p, ord, match, &key);
        sidx_heap_offer(ix, p->direct_keys, &p->direct_count, p->direct, &key);
        (*n)++;
    } else {
        sidx_key_make(ix, q, p, ord, match, &out[(*n)++]);
    }
}

/* The rating keys' best of every live document, into the plan's heap. The vote counters alone (8
 * documents a cache line) rule out almost every document (sidx_rating_below, without its branches:
 * a block's candidates as a bit mask); the rank line is read (is it live?) for the few that could
 * enter the heap. */
static void sidx_rating_scan(search_index *ix, const search_index_query *q, sidx_plan *p)
{
    double m = (double)q->prior_weight, cm = p->mean * m, threshold = -INFINITY;
    int full = 0;
    for (size_t base = 0; base < ix->slots; base += 64) {
        const sidx_votes *v = &ix->votes[base];
        size_t block = ix->slots - base < 64 ? ix->slots - base : 64;
        uint64_t maybe = 0;
        for (size_t j = 0; j < block; j++)
            maybe |= (uint64_t)(!full || (v[j].count != 0 &&
                                          cm + (double)v[j].sum >= threshold * (m + (double)v[j].count))) << j;
        for (; maybe; maybe &= maybe - 1) {
            uint32_t ord = (uint32_t)(base + (size_t)__builtin_ctzll(maybe));
            if (!(ix->rank[ord].meta & SIDX_META_LIVE))
                continue;
            sidx_key key;
            sidx_key_make(ix, q, p, ord, 0, &key);
            sidx_heap_offer(ix, p->direct_keys, &p->direct_count, p->direct, &key);
            double worst = p->direct_keys[0].k[0];
            full = p->direct_count == p->direct && worst > 0;
            threshold = full ? worst * (1 - 0x1p-40) : -INFINITY;
        }
    }
}

/* Every live document that passes the filters (no candidate set: no text and no tag). */
static int sidx_matches_all(search_index *ix, const search_index_query *q, sidx_plan *p, sidx_key **out,
                            size_t *n)
{
    if (!p->direct && !(*out = sidx_keys_room(ix, ix->live)))
        return -1;
    if (p->totals && p->rating_key && p->direct && q->prior_weight >= 0) {
        sidx_rating_scan(ix, q, p);
        *n = ix->live;
        return 0;
    }
    for (size_t o = 0; o < ix->slots; o++)
        sidx_match_keep(ix, q, p, (uint32_t)o, 0, *out, n);
    return 0;
}

/* A posting this many times longer than the candidates is probed by seeking (sidx_seek skips
 * most of it); a shorter one is merged, one compare a step and no branch to mispredict: common
 * words name a third of the documents, so their postings interleave closely. */
#define SIDX_SEEK_RATIO 16

/* The documents of s0 that are in s1, into out (ordinal and text score in k[0]); their count. */
static size_t sidx_intersect_two(const sidx_set *s0, const sidx_set *s1, sidx_key *out)
{
    size_t n = 0, i = 0, j = 0;
    if (s1->count > SIDX_SEEK_RATIO * s0->count) {
        for (; i < s0->count; i++) {
            j = sidx_seek(s1, j, s0->ord[i]);
            if (j < s1->count && s1->ord[j] == s0->ord[i])
                out[n++] = (sidx_key){.k = {s0->tf[i] * s0->idf2 + s1->tf[j] * s1->idf2, 0}, .ord = s0->ord[i]};
        }
        return n;
    }
    while (i < s0->count && j < s1->count) {
        uint32_t a = s0->ord[i], b = s1->ord[j];
        out[n] = (sidx_key){.k = {s0->tf[i] * s0->idf2 + s1->tf[j] * s1->idf2, 0}, .ord = a};
        n += a == b;
        i += a <= b;
        j += b <= a;
    }
    return n;
}

/* Keeps the n candidates of out (in ordinal order) that are in s, s's score added; how many stay. */
static size_t sidx_intersect_more(const sidx_set *s, sidx_key *out, size_t n)
{
    size_t kept = 0, i = 0, j = 0;
    if (s->count > SIDX_SEEK_RATIO * n) {
        for (; i < n; i++) {
            j = sidx_seek(s, j, out[i].ord);
            if (j < s->count && s->ord[j] == out[i].ord) {
                out[kept] = out[i];
                out[kept++].k[0] += s->tf[j] * s->idf2;
            }
        }
        return kept;
    }
    while (i < n && j < s->count) {
        sidx_key key = out[i];
        uint32_t b = s->ord[j];
        double add = s->tf[j] * s->idf2;
        key.k[0] += key.ord == b ? add : 0; /* out[kept] may be out[i]: unchanged unless kept */
        out[kept] = key;
        kept += key.ord == b;
        j += b <= key.ord;
        i += key.ord <= b;
    }
    return kept;
}

/* The documents in every set (two or more), into out with their text score in k[0] (summed in
 * set order); their count. */
static size_t sidx_intersect(const sidx_plan *p, sidx_key *out)
{
    size_t n = sidx_intersect_two(&p->set[0], &p->set[1], out);
    for (size_t k = 2; k < p->sets && n; k++)
        n = sidx_intersect_more(&p->set[k], out, n);
    return n;
}

/* Every document in all of p's sets (smallest first) that passes the filters, counted into the
 * facets as it is found. */
static int sidx_matches(search_index *ix, const search_index_query *q, sidx_plan *p, sidx_key **out, size_t *n)
{
    *n = 0;
    *out = NULL;
    if (p->none)
        return 0;
    if (!p->sets)
        return sidx_matches_all(ix, q, p, out, n);
    qsort(p->set, p->sets, sizeof p->set[0], sidx_set_size_cmp);
    const sidx_set *first = &p->set[0];
    /* the keys, or (a heap takes them) room for the documents in every set */
    sidx_key *keys = p->direct && p->sets == 1 ? NULL : (*out = sidx_keys_room(ix, first->count));
    if (!keys && !(p->direct && p->sets == 1))
        return -1;
    if (p->sets == 1) {
        for (size_t i = 0; i < first->count; i++) {
            if (i + SIDX_AHEAD < first->count)
                sidx_ahead(ix, p, first->ord[i + SIDX_AHEAD]);
            sidx_match_keep(ix, q, p, first->ord[i], first->tf[i] * first->idf2, keys, n);
        }
        return 0;
    }
    /* the documents in every set first, then the filters over those alone: they are known ahead */
    size_t both = sidx_intersect(p, keys);
    for (size_t i = 0; i < both; i++) {
        if (i + SIDX_AHEAD < both)
            sidx_ahead(ix, p, keys[i + SIDX_AHEAD].ord);
        uint32_t ord = keys[i].ord;
        double match = keys[i].k[0];
        sidx_match_keep(ix, q, p, ord, match, keys, n); /* writes at *n <= i */
    }
    return 0;
}

/* ---- facets ---------------------------------------------------------------------------------------- */

static int sidx_facet_add(json_t *counts, const char *key, int64_t n)
{
    json_int_t had = json_integer_value(json_object_get(counts, key));
    return json_object_set_new(counts, key, json_integer(had + n));
}

static json_t *sidx_facets(const search_index *ix, const sidx_plan *p)
{
    json_t *facets = json_pack("{s:{}, s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}}", "categories", "pricing", "free", 0,
                               "one_time", 0, "subscription", 0, "rating", "4+", 0, "3+", 0, "2+", 0);
    if (!facets)
        return NULL;
    json_t *categories = json_object_get(facets, "categories"), *pricing = json_object_get(facets, "pricing"),
           *rating = json_object_get(facets, "rating");
    int bad = 0;
    for (size_t a = 0; a < ix->cats.count; a++)
        if (p->by_category[a])
            bad |= sidx_facet_add(categories, ix->cats.str[a], p->by_category[a]);
    for (size_t a = 0; a < ix->models.count; a++)
        if (p->by_pricing[a])
            bad |= sidx_facet_add(pricing, ix->models.str[a], p->by_pricing[a]);
    int64_t rated[8] = {0}; /* rated[r]: the matches of band r or above */
    for (int band = 7; band >= 2; band--)
        rated[band] = p->by_band[band] + (band < 7 ? rated[band + 1] : 0);
    bad |= sidx_facet_add(rating, "4+", rated[4]) | sidx_facet_add(rating, "3+", rated[3]) |
           sidx_facet_add(rating, "2+", rated[2]);
    if (bad) {
        json_decref(facets);
        return NULL;
    }
    return facets;
}

/* ---- ranking ---------------------------------------------------------------------------------------- */

/* fmin(1, x) without the library call: the same value for every x, NaN included (1). */
static inline double sidx_min1(double x)
{
    return x < 1 ? x : 1;
}

/* The Bayesian rating from the counters themselves (p->mean: the global mean). */
static inline double sidx_bayesian_exact(const search_index_query *q, const sidx_plan *p, const sidx_votes *v)
{
    if (v->count == 0)
        return 0;
    return (p->mean * (double)q->prior_weight + (double)v->sum) / (double)(q->prior_weight + v->count);
}

/* What breaks a tie of both keys: the third key of the sorts that have one (rating, trending: the
 * downloads), then the newer id; both from the hot line, read only here. */
static int sidx_key_tie(const search_index *ix, const sidx_key *a, const sidx_key *b)
{
    const sidx_hot *x = &ix->hot[a->ord], *y = &ix->hot[b->ord];
    if (ix->key_third && (double)x->downloads != (double)y->downloads)
        return (double)x->downloads > (double)y->downloads;
    return x->id > y->id;
}

static int64_t sidx_key_id(const search_index *ix, const sidx_key *k)
{
    return ix->hot[k->ord].id;
}

static inline int sidx_key_before(const search_index *ix, const sidx_key *a, const sidx_key *b)
{
    if (a->k[0] != b->k[0])
        return a->k[0] > b->k[0];
    if (a->k[1] != b->k[1])
        return a->k[1] > b->k[1];
    return sidx_key_tie(ix, a, b);
}

/* qsort's order of keys (sidx_sort_ix set). */
static int sidx_key_cmp(const void *a, const void *b)
{
    return sidx_key_before(sidx_sort_ix, a, b) ? -1 : sidx_key_before(sidx_sort_ix, b, a) ? 1 : 0;
}

/* core/rating's Bayesian rating (0 while unrated), as core/tool_record computes it, from the rank
 * line: (C m + sum) / (m + count) = C a + b. */
static inline double sidx_bayesian(const sidx_plan *p, const sidx_rank *r)
{
    return p->mean * r->bayes_a + r->bayes_b;
}

/* The share of the title words asked for that ord has; ords must come in increasing order (the
 * matches do), so each title set is walked once. */
static inline double sidx_title_share(sidx_plan *p, uint32_t ord)
{
    if (!p->title_patterns)
        return 0;
    size_t found = 0;
    for (size_t i = 0; i < p->title_patterns; i++) {
        p->title_at[i] = sidx_seek(&p->title_set[i], p->title_at[i], ord);
        found += p->title_at[i] < p->title_set[i].count && p->title_set[i].ord[p->title_at[i]] == ord;
    }
    return p->share[found];
}

/* The query's slug or name exactly: the hashes spare the strings of almost every document. */
static int sidx_exact_strings(const search_index *ix, const sidx_plan *p, uint32_t ord)
{
    const sidx_doc *d = &ix->doc[ord];
    return (d->slug_len == p->slug_len && strcmp(d->slug, p->slug_form) == 0) ||
           (d->name_len == p->name_len && strcmp(d->name_norm, p->name_form) == 0);
}

static inline int sidx_exact(const search_index *ix, const sidx_plan *p, uint32_t ord)
{
    const sidx_rank *r = &ix->rank[ord];
    if (r->slug_hash != p->slug_hash && r->name_hash != p->name_hash)
        return 0;
    return sidx_exact_strings(ix, p, ord);
}

/* README "Search": an exact slug or name first, then the blend of text and quality. The quality
 * part here, from the rank line (p->fresh_now: 2^((epoch - now) / half-life)); sidx_relevance_text
 * adds the text part. */
static inline void sidx_relevance(const search_index *ix, const search_index_query *q, const sidx_plan *p,
                                  uint32_t ord, sidx_key *k)
{
    const sidx_rank *r = &ix->rank[ord];
    double fresh = sidx_min1(r->fresh * p->fresh_now);
    k->k[0] = sidx_exact(ix, p, ord);
    k->k[1] = (double)q->weight_rating * sidx_bayesian(p, r) / 5 + (double)q->weight_downloads * r->downloads_term +
              (double)q->weight_freshness * fresh;
}

/* The text part of relevance: the match's share of the best text score and of the title words;
 * keys must come in increasing ordinal order (title sets are walked once). */
static inline void sidx_relevance_text(const search_index_query *q, sidx_plan *p, sidx_key *k)
{
    int words = p->title_patterns > 0; /* else only a short last word: every match is as good */
    double best = p->best > 0 ? p->best : 1;
    double text = words ? 0.5 * sidx_min1(k->match / best) + 0.5 * sidx_title_share(p, k->ord) : 1;
    k->k[1] += (double)q->weight_text * text;
}

static int sidx_relevant(const search_index_query *q, const sidx_plan *p)
{
    return q->sort == SEARCH_INDEX_SORT_RELEVANCE && p->text;
}

/* The keys of every sort but relevance with text. */
static void sidx_key_other(const search_index *ix, const search_index_query *q, const sidx_plan *p, uint32_t ord,
                           sidx_key *k)
{
    const sidx_rank *r = &ix->rank[ord];
    if (q->sort == SEARCH_INDEX_SORT_PRICE_ASC || q->sort == SEARCH_INDEX_SORT_PRICE_DESC) {
        k->k[0] = q->sort == SEARCH_INDEX_SORT_PRICE_ASC ? -(double)r->price_cents : (double)r->price_cents;
        return;
    }
    switch (q->sort) {
    case SEARCH_INDEX_SORT_DOWNLOADS:
        k->k[0] = (double)ix->hot[ord].downloads;
        break;
    case SEARCH_INDEX_SORT_TRENDING: /* tools without activity last, then by downloads (the third key) */
        k->k[0] = (r->meta & SIDX_META_TREND) != 0;
        k->k[1] = r->meta & SIDX_META_TREND ? ix->hot[ord].trend : 0;
        break;
    case SEARCH_INDEX_SORT_NEWEST:
        k->k[0] = (double)ix->hot[ord].published_us;
        break;
    default: /* rating, and relevance without text; then by downloads (the third key) */
        k->k[0] = sidx_bayesian_exact(q, p, &ix->votes[ord]); /* a sort by rating alone: the exact order of ties */
        k->k[1] = (double)ix->votes[ord].count;
        break;
    }
}

static inline void sidx_key_make(const search_index *ix, const search_index_query *q, const sidx_plan *p,
                                 uint32_t ord, double match, sidx_key *k)
{
    k->k[0] = k->k[1] = 0;
    k->ord = ord;
    k->match = (float)match;
    if (sidx_relevant(q, p))
        sidx_relevance(ix, q, p, ord, k);
    else
        sidx_key_other(ix, q, p, ord, k);
}

/* ---- top k: a heap whose root is the worst of the best k seen ------------------------------------- */

static void sidx_heap_down(const search_index *ix, sidx_key *h, size_t n, size_t i)
{
    for (;;) {
        size_t worst = i, l = 2 * i + 1, r = l + 1;
        if (l < n && sidx_key_before(ix, &h[worst], &h[l]))
            worst = l;
        if (r < n && sidx_key_before(ix, &h[worst], &h[r]))
            worst = r;
        if (worst == i)
            return;
        sidx_key t = h[i];
        h[i] = h[worst];
        h[worst] = t;
        i = worst;
    }
}

static void sidx_heap_up(const search_index *ix, sidx_key *h, size_t i)
{
    while (i > 0 && sidx_key_before(ix, &h[(i - 1) / 2], &h[i])) {
        sidx_key t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* Keeps key among the best k in the heap h of *count keys. */
static inline void sidx_heap_offer(const search_index *ix, sidx_key *h, size_t *count, size_t k,
                                   const sidx_key *key)
{
    if (*count < k) {
        h[*count] = *key;
        sidx_heap_up(ix, h, (*count)++);
    } else if (k && sidx_key_before(ix, key, &h[0])) {
        h[0] = *key;
        sidx_heap_down(ix, h, *count, 0);
    }
}

static inline void sidx_key_swap(sidx_key *a, sidx_key *b)
{
    sidx_key t = *a;
    *a = *b;
    *b = t;
}

/* Puts the best k of keys[lo, hi) before the others (in no order): a quickselect, the median of
 * three as the pivot (keys are all different: the id decides the last tie). */
static void sidx_select(const search_index *ix, sidx_key *keys, size_t lo, size_t hi, size_t k)
{
    while (hi - lo > 1 && k > lo && k < hi) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (sidx_key_before(ix, &keys[mid], &keys[lo]))
            sidx_key_swap(&keys[mid], &keys[lo]);
        if (sidx_key_before(ix, &keys[last], &keys[lo]))
            sidx_key_swap(&keys[last], &keys[lo]);
        if (sidx_key_before(ix, &keys[mid], &keys[last]))
            sidx_key_swap(&keys[mid], &keys[last]);
        size_t store = lo;
        for (size_t i = lo; i < last; i++)
            if (sidx_key_before(ix, &keys[i], &keys[last]))
                sidx_key_swap(&keys[i], &keys[store++]);
        sidx_key_swap(&keys[store], &keys[last]);
        if (store == k || store + 1 == k)
            return;
        if (store > k)
            hi = store;
        else
            lo = store + 1;
    }
}

#define SIDX_SAMPLE 256

/* The keys at least as good as a threshold into ix->top, when they are k or more and fit in room
 * for a few k: their count, else 0. The threshold is a key of an even sample whose rank there
 * stands for about twice k among all: one compare a key then leaves a few k for the selection,
 * where a heap or a selection over all would move most keys (they come in ordinal order, close to
 * key order). */
static size_t sidx_prefilter(search_index *ix, const sidx_key *keys, size_t n, size_t k)
{
    size_t rank = 2 * k * SIDX_SAMPLE / n + 4, cap = 4 * k + 8 * (n / SIDX_SAMPLE) + SIDX_SAMPLE;
    if (n < 4 * SIDX_SAMPLE || rank >= SIDX_SAMPLE ||
        sidx_grow((void **)&ix->top, &ix->top_cap, cap, sizeof *ix->top) < 0)
        return 0;
    sidx_key *out = ix->top;
    for (size_t i = 0; i < SIDX_SAMPLE; i++)
        out[i] = keys[i * (n / SIDX_SAMPLE)];
    sidx_select(ix, out, 0, SIDX_SAMPLE, rank + 1);
    sidx_select(ix, out, 0, rank + 1, rank); /* out[rank]: the worst of the best rank + 1 */
    sidx_key threshold = out[rank];
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!sidx_key_before(ix, &threshold, &keys[i])) {
            if (m == cap)
                return 0;
            out[m++] = keys[i];
        }
    return m >= k ? m : 0;
}

/* Keys [offset, k) of the best k of the n keys in order (k <= n), after the text parts are added
 * (in ordinal order: the title sets are walked once); returns the array that holds them, ix->top
 * or keys. */
static sidx_key *sidx_top(search_index *ix, const search_index_query *q, sidx_plan *p, sidx_key *keys, size_t n,
                          size_t offset, size_t k)
{
    if (sidx_relevant(q, p))
        for (size_t i = 0; i < n; i++)
            sidx_relevance_text(q, p, &keys[i]);
    size_t m = sidx_prefilter(ix, keys, n, k); /* else a selection over all */
    sidx_key *best = m ? ix->top : keys;
    sidx_select(ix, best, 0, m ? m : n, k);
    sidx_select(ix, best, 0, k, offset);
    sidx_sort_ix = ix;
    qsort(best + offset, k - offset, sizeof *best, sidx_key_cmp);
    return best;
}

/* The rank lines for q's prior weight and half-life, computed again when they differ from the
 * index's (a configuration change: once), or when now has moved so far from the epoch that
 * fresh could leave a double's range. */
static void sidx_rank_setup(search_index *ix, const search_index_query *q)
{
    int64_t h = q->freshness_seconds > 0 ? q->freshness_seconds : 0;
    int64_t drift = q->now_us - ix->rank_epoch_us;
    if (ix->rank_m == q->prior_weight && ix->rank_h == h && (h == 0 || llabs(drift) / 1000000 < 256 * h))
        return;
    ix->rank_m = q->prior_weight;
    ix->rank_h = h;
    ix->rank_epoch_us = q->now_us;
    for (size_t o = 0; o < ix->slots; o++)
        if (ix->rank[o].meta & SIDX_META_LIVE)
            sidx_rank_scores(ix, &ix->hot[o], &ix->rank[o]);
}

/* The sorts whose keys (sidx_key_make) go on to the downloads: trending, and rating (also the
 * meaning of relevance without text). */
static int sidx_sort_third(const search_index_query *q, const sidx_plan *p)
{
    switch (q->sort) {
    case SEARCH_INDEX_SORT_TRENDING: return 1;
    case SEARCH_INDEX_SORT_DOWNLOADS:
    case SEARCH_INDEX_SORT_NEWEST:
    case SEARCH_INDEX_SORT_PRICE_ASC:
    case SEARCH_INDEX_SORT_PRICE_DESC: return 0;
    default: return !sidx_relevant(q, p);
    }
}

int search_index_run(search_index *ix, const search_index_query *q, search_index_result *r)
{
    r->count = 0;
    r->total = 0;
    r->facets = NULL;
    if (!ix->plan && !(ix->plan = malloc(sizeof *ix->plan)))
        return -1;
    sidx_plan *p = ix->plan;
    sidx_rank_setup(ix, q);
    sidx_key *keys = NULL;
    size_t n = 0;
    int rc = sidx_plan_make(ix, q, p);
    p->fresh_now = ix->rank_h > 0 ? exp2((double)(ix->rank_epoch_us - q->now_us) / 1e6 / (double)ix->rank_h) : 0;
    ix->key_third = rc == 0 && sidx_sort_third(q, p);
    p->rating_key = !sidx_relevant(q, p) &&
                    (q->sort == SEARCH_INDEX_SORT_RATING || q->sort == SEARCH_INDEX_SORT_RELEVANCE);
    int64_t offset = q->offset > 0 ? q->offset : 0, limit = q->limit > 0 ? q->limit : 0;
    if (rc == 0 && limit > 0 && !sidx_relevant(q, p)) {
        /* the page's end, and never more than the documents: the matches' best in a heap */
        uint64_t end = (uint64_t)offset + (uint64_t)limit;
        p->direct = end < ix->slots ? (size_t)end : ix->slots;
        if (p->direct && sidx_grow((void **)&ix->top, &ix->top_cap, p->direct, sizeof *ix->top) < 0)
            rc = -1;
        p->direct_keys = ix->top;
    }
    if (rc == 0)
        rc = sidx_matches(ix, q, p, &keys, &n);
    if (rc == 0) {
        r->total = (int64_t)n;
        r->facets = sidx_facets(ix, p);
        rc = r->facets ? 0 : -1;
    }
    if (rc == 0 && p->direct) {
        sidx_sort_ix = ix;
        qsort(p->direct_keys, p->direct_count, sizeof *p->direct_keys, sidx_key_cmp);
        for (size_t i = (size_t)offset; i < p->direct_count && r->count < r->cap; i++)
            r->ids[r->count++] = sidx_key_id(ix, &p->direct_keys[i]);
    } else if (rc == 0 && offset < (int64_t)n && limit > 0) {
        size_t k = (size_t)(offset + limit < (int64_t)n ? offset + limit : (int64_t)n);
        sidx_key *best = sidx_top(ix, q, p, keys, n, (size_t)offset, k);
        for (size_t i = (size_t)offset; i < k && r->count < r->cap; i++)
            r->ids[r->count++] = sidx_key_id(ix, &best[i]);
    }
    sidx_plan_free(p);
    if (rc < 0) {
        json_decref(r->facets);
        r->facets = NULL;
    }
    return rc;
}

int search_index_trending(search_index *ix, int64_t after_us, const char *category, int64_t offset, int64_t limit,
                          search_index_result *r)
{
    r->count = 0;
    r->total = 0;
    r->facets = NULL;
    int64_t want = category ? sidx_atoms_find(&ix->cats, category) : -1;
    if (category && want < 0)
        return 0;
    offset = offset > 0 ? offset : 0;
    ix->key_third = 0; /* the score, then the newer id */
    size_t k = limit > 0 ? (size_t)(offset + limit) : 0, count = 0;
    sidx_key *h = malloc((k ? k : 1) * sizeof *h);
    if (!h)
        return -1;
    for (size_t i = 0; i < ix->trend_count; i++) {
        const sidx_trend *t = &ix->trend[i];
        if (t->at_us <= after_us || (want >= 0 && t->category != want))
            continue;
        r->total++;
        sidx_key key = {.k = {t->score, 0}, .ord = t->ord};
        if (count < k) {
            h[count] = key;
            sidx_heap_up(ix, h, count++);
        } else if (k && sidx_key_before(ix, &key, &h[0])) {
            h[0] = key;
            sidx_heap_down(ix, h, count, 0);
        }
    }
    sidx_sort_ix = ix;
    qsort(h, count, sizeof *h, sidx_key_cmp);
    for (size_t i = (size_t)offset; i < count && r->count < r->cap; i++)
        r->ids[r->count++] = sidx_key_id(ix, &h[i]);
    free(h);
    return 0;
}

/* ---- suggestions ------------------------------------------------------------------------------------ */

/* A tag ranks before another by the downloads of its tools, then by its text. */
static int sidx_tag_before(const search_index_hint *a, const search_index_hint *b)
{
    if (a->downloads != b->downloads)
        return a->downloads > b->downloads;
    return strcmp(a->text, b->text) < 0;
}

/* Keeps the best max tags in list, in order. */
static void sidx_tag_keep(search_index_hint *list, size_t *count, size_t max, search_index_hint h)
{
    size_t at = *count;
    while (at > 0 && sidx_tag_before(&h, &list[at - 1]))
        at--;
    if (at >= max)
        return;
    size_t move = (*count < max ? *count : max - 1) - at;
    memmove(list + at + 1, list + at, move * sizeof *list);
    list[at] = h;
    if (*count < max)
        (*count)++;
}

/* The first word of a prefix ("csv cl" -> "csv"; "csv-cl" -> "csv"): every document the prefix can
 * name has a title word starting with it, so its title postings bound the candidates. */
static void sidx_first_word(const char *prefix, char *out, size_t size)
{
    size_t n = 0;
    while (prefix[n] && prefix[n] != ' ' && prefix[n] != '-' && n + 1 < size)
        n++;
    memcpy(out, prefix, n);
    out[n] = '\0';
}

/* Inserts ord among the best max tools in best (most downloaded, then newer id) by hot lines only:
 * the text of a tool is read once it has a place. */
static void sidx_best_tools(const search_index *ix, uint32_t *best, size_t *count, size_t max, uint32_t ord)
{
    const sidx_hot *h = &ix->hot[ord];
    size_t at = *count;
    while (at > 0) {
        const sidx_hot *o = &ix->hot[best[at - 1]];
        if (!(h->downloads > o->downloads || (h->downloads == o->downloads && h->id > o->id)))
            break;
        at--;
    }
    if (at >= max)
        return;
    size_t move = (*count < max ? *count : max - 1) - at;
    memmove(best + at + 1, best + at, move * sizeof *best);
    best[at] = ord;
    if (*count < max)
        (*count)++;
}

static int sidx_name_starts(const search_index *ix, uint32_t ord, const char *prefix, size_t len)
{
    const sidx_hot *h = &ix->hot[ord];
    size_t head = len < sizeof h->name_head ? len : sizeof h->name_head;
    return (ix->rank[ord].meta & SIDX_META_LIVE) && memcmp(h->name_head, prefix, head) == 0 &&
           (len == head || strncmp(ix->doc[ord].name_norm, prefix, len) == 0);
}

/* Up to max tools whose name starts with prefix, in popularity order: the first ones met there
 * are the answer. Cheap when such names are common; bounded by SIDX_SUGGEST_WALK when they are
 * not (0 found: the caller scans the candidates instead). */
#define SIDX_SUGGEST_WALK 16384
static size_t sidx_suggest_walk(search_index *ix, const char *prefix, size_t max, uint32_t *best)
{
    sidx_pop_ready(ix);
    size_t len = strlen(prefix), found = 0;
    for (size_t i = 0; i < ix->pop_count && i < SIDX_SUGGEST_WALK && found < max; i++)
        if (sidx_name_starts(ix, ix->pop[i], prefix, len))
            best[found++] = ix->pop[i];
    return found == max || ix->pop_count <= SIDX_SUGGEST_WALK ? found : 0;
}

/* The same by scanning every document with a title word starting with prefix's first word. */
static int sidx_suggest_scan(search_index *ix, const char *prefix, size_t max, uint32_t *best, size_t *found)
{
    char first[SEARCH_TEXT_WORD_MAX * 4 + 1];
    sidx_first_word(prefix, first, sizeof first);
    sidx_set set;
    if (!first[0] || sidx_prefix_set(ix, first, 1, &set) < 0)
        return first[0] ? -1 : 0;
    size_t len = strlen(prefix);
    for (size_t i = 0; i < set.count; i++)
        if (sidx_name_starts(ix, set.ord[i], prefix, len))
            sidx_best_tools(ix, best, found, max, set.ord[i]);
    if (set.owned) {
        free(set.ord);
        free(set.tf);
    }
    return 0;
}

/* Few candidates (a rare first word): scanned; many: the popularity walk finds the answer early. */
#define SIDX_SUGGEST_SCAN_MAX 2048
static int sidx_suggest_tools(search_index *ix, const char *prefix, size_t max, search_index_hint *out,
                              size_t *count)
{
    char first[SEARCH_TEXT_WORD_MAX * 4 + 1];
    sidx_first_word(prefix, first, sizeof first);
    if (!first[0])
        return 0;
    uint32_t *best = malloc(max * sizeof *best);
    if (!best)
        return -1;
    size_t lo, end, found = 0;
    int rc = 0;
    if (sidx_prefix_range(ix, first, 1, &lo, &end) > SIDX_SUGGEST_SCAN_MAX)
        found = sidx_suggest_walk(ix, prefix, max, best);
    if (!found)
        rc = sidx_suggest_scan(ix, prefix, max, best, &found);
    for (size_t i = 0; rc == 0 && i < found; i++) {
        const sidx_doc *d = &ix->doc[best[i]];
        out[(*count)++] =
            (search_index_hint){.text = d->name, .slug = d->slug, .downloads = ix->hot[best[i]].downloads};
    }
    free(best);
    return rc;
}

/* Tags of published tools starting with prefix, by the downloads of their tools: both kept as
 * documents come and go, so this reads the tag table only. */
static void sidx_suggest_tags(search_index *ix, const char *prefix, size_t max, search_index_hint *out,
                              size_t *count)
{
    size_t len = strlen(prefix);
    for (size_t a = 0; len && a < ix->tags.count; a++)
        if (ix->tag_docs[a] > 0 && strncmp(ix->tags.str[a], prefix, len) == 0)
            sidx_tag_keep(out, count, max,
                          (search_index_hint){.text = ix->tags.str[a], .downloads = ix->tag_downloads[a]});
}

int search_index_suggest(search_index *ix, const char *name_prefix, const char *tag_prefix, size_t max,
                         search_index_hint *tools, size_t *tool_count, search_index_hint *tags, size_t *tag_count)
{
    *tool_count = *tag_count = 0;
    if (max == 0)
        return 0;
    int rc = sidx_suggest_tools(ix, name_prefix, max, tools, tool_count);
    if (rc == 0)
        sidx_suggest_tags(ix, tag_prefix, max, tags, tag_count);
    return rc;
}

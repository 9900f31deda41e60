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

typedef struct {
    int64_t id;
    char *slug, *name_norm, *name; /* name: as written, for suggestions */
    size_t slug_len, name_len; /* the exact-name test rejects most documents on these */
    char name_head[16];        /* the first bytes of name_norm, NUL-padded: suggestions compare here */
    double downloads_term;     /* min(1, ln(1 + downloads) / ln(1000001)), kept with downloads */
    char *title; /* " normalized title " (spaces around) */
    uint32_t *terms; /* distinct words, for removal */
    uint32_t term_count;
    uint32_t *tags; /* tag atoms */
    uint32_t tag_count;
    uint32_t category, pricing;
    int64_t price_cents, rating_count, rating_sum, downloads, developer_id, published_us;
    double trend;
    int has_trend, live;
} sidx_doc;

struct search_index {
    sidx_doc *doc; /* by ordinal */
    size_t slots, doc_cap, live;
    sidx_atoms words, attrs;
    sidx_term *term; /* by word id */
    size_t term_cap;
    uint32_t *sorted; /* word ids in byte order of the word, for prefix ranges */
    size_t sorted_count, sorted_cap, sorted_upto; /* sorted_upto: how many are in order */
    /* id -> ordinal + 1 (open addressing on the id) */
    uint64_t *id_key;
    uint32_t *id_ord;
    size_t id_slots, id_used;
    size_t bytes;
};

search_index *search_index_new(void)
{
    return calloc(1, sizeof(search_index));
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
    for (size_t i = 0; i < ix->words.count; i++) {
        free(ix->term[i].all.ord);
        free(ix->term[i].all.tf);
        free(ix->term[i].title.ord);
        free(ix->term[i].title.tf);
    }
    free(ix->term);
    free(ix->sorted);
    free(ix->id_key);
    free(ix->id_ord);
    sidx_atoms_free(&ix->words);
    sidx_atoms_free(&ix->attrs);
    free(ix);
}

size_t search_index_count(const search_index *ix)
{
    return ix->live;
}

size_t search_index_bytes(const search_index *ix)
{
    size_t b = sizeof *ix + ix->doc_cap * sizeof(sidx_doc) + ix->term_cap * sizeof(sidx_term) +
               ix->sorted_cap * sizeof(uint32_t) + ix->id_slots * (sizeof(uint64_t) + sizeof(uint32_t)) +
               (ix->words.slots + ix->attrs.slots) * sizeof(uint32_t) +
               (ix->words.str_cap + ix->attrs.str_cap) * sizeof(char *);
    for (size_t i = 0; i < ix->words.count; i++)
        b += strlen(ix->words.str[i]) + 1 + (ix->term[i].all.cap + ix->term[i].title.cap) * 6;
    for (size_t i = 0; i < ix->slots; i++) {
        const sidx_doc *d = &ix->doc[i];
        if (d->live)
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

void search_index_trim(search_index *ix)
{
    for (size_t i = 0; i < ix->words.count; i++) {
        sidx_posting_trim(&ix->term[i].all);
        sidx_posting_trim(&ix->term[i].title);
    }
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

/* ---- put and remove ------------------------------------------------------------------------------ */

static void sidx_unlink(search_index *ix, uint32_t ord)
{
    sidx_doc *d = &ix->doc[ord];
    for (uint32_t i = 0; i < d->term_count; i++) {
        sidx_posting_drop(&ix->term[d->terms[i]].all, ord);
        sidx_posting_drop(&ix->term[d->terms[i]].title, ord);
    }
    sidx_doc_clear(d); /* live = 0: the slot stays dead until the next squeeze */
    ix->live--;
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
        int64_t a = sidx_atoms_add(&ix->attrs, start, (size_t)(p - start));
        if (a < 0 || sidx_grow((void **)&d->tags, &cap, d->tag_count + 1, sizeof *d->tags) < 0)
            return -1;
        d->tags[d->tag_count++] = (uint32_t)a;
    }
    return 0;
}

static int sidx_doc_fill(search_index *ix, const search_index_doc *in, sidx_doc *d, sidx_hit **hits, size_t *n)
{
    const char *title_parts[] = {in->name, in->slug, in->tags};
    const char *body_parts[] = {in->summary, in->description, in->category};
    d->id = in->id;
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
    const char *cat = in->category ? in->category : "", *model = in->pricing ? in->pricing : "";
    int64_t category = sidx_atoms_add(&ix->attrs, cat, strlen(cat));
    int64_t pricing = sidx_atoms_add(&ix->attrs, model, strlen(model));
    size_t cap = 0;
    int rc = d->slug && d->name && d->name_norm && d->title && body && category >= 0 && pricing >= 0 ? 0 : -1;
    if (rc == 0)
        rc = sidx_words(ix, d->title, 1, hits, n, &cap);
    if (rc == 0)
        rc = sidx_words(ix, body, 0, hits, n, &cap);
    if (rc == 0)
        rc = sidx_tags(ix, in->tags, d);
    free(body);
    d->slug_len = d->slug ? strlen(d->slug) : 0;
    d->name_len = d->name_norm ? strlen(d->name_norm) : 0;
    if (d->name_norm)
        memcpy(d->name_head, d->name_norm, d->name_len < sizeof d->name_head ? d->name_len : sizeof d->name_head);
    d->category = (uint32_t)category;
    d->pricing = (uint32_t)pricing;
    d->price_cents = in->price_cents;
    d->rating_count = in->rating_count;
    d->rating_sum = in->rating_sum;
    d->downloads = in->downloads;
    d->downloads_term = sidx_downloads_term(in->downloads);
    d->developer_id = in->developer_id;
    d->published_us = in->published_us;
    d->has_trend = in->has_trend;
    d->trend = in->trend;
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
    return 0;
}

static int sidx_squeeze(search_index *ix);

int search_index_put(search_index *ix, const search_index_doc *in)
{
    search_index_remove(ix, in->id);
    if (ix->slots > 1024 && ix->slots > 2 * ix->live && sidx_squeeze(ix) < 0)
        return -1;
    if (ix->slots >= UINT32_MAX - 1 ||
        sidx_grow((void **)&ix->doc, &ix->doc_cap, ix->slots + 1, sizeof *ix->doc) < 0)
        return -1;
    uint32_t ord = (uint32_t)ix->slots;
    sidx_doc *d = &ix->doc[ord];
    memset(d, 0, sizeof *d);
    ix->slots++;
    ix->live++;
    d->live = 1;
    sidx_hit *hits = NULL;
    size_t n = 0;
    int rc = sidx_doc_fill(ix, in, d, &hits, &n);
    if (rc == 0)
        n = sidx_hits_merge(hits, n);
    if (rc == 0)
        rc = sidx_link(ix, ord, hits, n);
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
    sidx_doc *d = &ix->doc[ord];
    d->rating_count = rating_count;
    d->rating_sum = rating_sum;
    d->downloads = downloads;
    d->downloads_term = sidx_downloads_term(downloads);
    d->has_trend = has_trend;
    d->trend = trend;
    return 1;
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
        if (ix->doc[i].live) {
            ix->doc[next] = ix->doc[i];
            sidx_id_set(ix, ix->doc[next].id, (int64_t)next);
            next++;
        }
    }
    ix->slots = next;
    for (size_t w = 0; w < ix->words.count; w++) {
        sidx_posting *p[2] = {&ix->term[w].all, &ix->term[w].title};
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < p[k]->count; i++)
                p[k]->ord[i] = map[p[k]->ord[i]];
    }
    free(map);
    return 0;
}

/* ---- the query: candidates ------------------------------------------------------------------------ */

static const search_index *sidx_sort_ix;

static int sidx_sorted_cmp(const void *a, const void *b)
{
    const search_index *ix = sidx_sort_ix;
    return strcmp(ix->words.str[*(const uint32_t *)a], ix->words.str[*(const uint32_t *)b]);
}

/* The word table in byte order (new words are appended unsorted; a prefix read sorts first). */
static void sidx_sorted_ready(search_index *ix)
{
    if (ix->sorted_upto == ix->sorted_count)
        return;
    sidx_sort_ix = ix;
    qsort(ix->sorted, ix->sorted_count, sizeof *ix->sorted, sidx_sorted_cmp);
    ix->sorted_upto = ix->sorted_count;
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

/* The union of the postings of every word starting with prefix (title postings only when
 * title_only), occurrences summed per document. */
static int sidx_prefix_set(search_index *ix, const char *prefix, int title_only, sidx_set *out)
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
    uint32_t *acc = NULL;
    size_t total = 0;
    size_t end = lo;
    for (; end < ix->sorted_count && strncmp(ix->words.str[ix->sorted[end]], prefix, len) == 0; end++) {
        const sidx_term *t = &ix->term[ix->sorted[end]];
        total += title_only ? t->title.count : t->all.count;
    }
    memset(out, 0, sizeof *out);
    out->owned = 1;
    if (total == 0)
        return 0;
    acc = calloc(ix->slots, sizeof *acc);
    if (!acc)
        return -1;
    size_t distinct = 0;
    for (size_t i = lo; i < end; i++) {
        const sidx_term *t = &ix->term[ix->sorted[i]];
        const sidx_posting *p = title_only ? &t->title : &t->all;
        for (size_t k = 0; k < p->count; k++) {
            distinct += acc[p->ord[k]] == 0;
            acc[p->ord[k]] += p->tf[k];
        }
    }
    out->ord = malloc(distinct * sizeof *out->ord);
    out->tf = malloc(distinct * sizeof *out->tf);
    if (!out->ord || !out->tf) {
        free(acc);
        return -1;
    }
    for (size_t o = 0; o < ix->slots && out->count < distinct; o++)
        if (acc[o]) {
            out->ord[out->count] = (uint32_t)o;
            out->tf[out->count++] = acc[o] > UINT16_MAX ? UINT16_MAX : (uint16_t)acc[o];
        }
    free(acc);
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

/* The first position at or after from where s->ord >= ord (galloping, then binary search). */
static size_t sidx_seek(const sidx_set *s, size_t from, uint32_t ord)
{
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

typedef struct {
    search_text_words words;
    sidx_set set[SEARCH_TEXT_WORDS_MAX];
    size_t sets;
    int text;
    char slug_form[SEARCH_TEXT_BOOLEAN_SIZE], name_form[SEARCH_TEXT_BOOLEAN_SIZE];
    /* the first 4 words of 3+ characters: the documents with each as a title word (the last one as
     * a prefix), walked beside the matches, which come in the same order */
    sidx_set title_set[4];
    size_t title_at[4];
    size_t title_patterns;
    size_t slug_len, name_len;
    int64_t category, pricing; /* -1: no filter; -2: a value no document has */
    int64_t tags[SEARCH_INDEX_TAGS_MAX];
    double best; /* largest text score among the matches */
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
    search_text_join(w, '-', p->slug_form, sizeof p->slug_form);
    search_text_join(w, ' ', p->name_form, sizeof p->name_form);
    p->slug_len = strlen(p->slug_form);
    p->name_len = strlen(p->name_form);
    return 0;
}

static int sidx_plan_make(search_index *ix, const search_index_query *q, sidx_plan *p)
{
    memset(p, 0, sizeof *p);
    search_text_split(q->q ? q->q : "", &p->words);
    if (sidx_plan_text(ix, p) < 0)
        return -1;
    p->category = q->category ? sidx_atoms_find(&ix->attrs, q->category) : -1;
    if (q->category && p->category < 0)
        p->category = -2;
    p->pricing = q->pricing ? sidx_atoms_find(&ix->attrs, q->pricing) : -1;
    if (q->pricing && p->pricing < 0)
        p->pricing = -2;
    for (size_t i = 0; i < q->tag_count && i < SEARCH_INDEX_TAGS_MAX; i++) {
        p->tags[i] = sidx_atoms_find(&ix->attrs, q->tags[i]);
        if (p->tags[i] < 0)
            p->tags[i] = -2;
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
}

static int sidx_has_tag(const sidx_doc *d, int64_t tag)
{
    for (uint32_t i = 0; i < d->tag_count; i++)
        if (d->tags[i] == tag)
            return 1;
    return 0;
}

static int sidx_filters_pass(const search_index_query *q, const sidx_plan *p, const sidx_doc *d)
{
    if (!d->live || p->category == -2 || p->pricing == -2)
        return 0;
    if (p->category >= 0 && d->category != p->category)
        return 0;
    if (p->pricing >= 0 && d->pricing != p->pricing)
        return 0;
    if (q->min_rating_hundredths > 0 &&
        !(d->rating_count > 0 && d->rating_sum * 100 >= d->rating_count * q->min_rating_hundredths))
        return 0;
    if (q->max_price_cents >= 0 && d->price_cents > q->max_price_cents)
        return 0;
    if (q->developer_id > 0 && d->developer_id != q->developer_id)
        return 0;
    for (size_t i = 0; i < q->tag_count && i < SEARCH_INDEX_TAGS_MAX; i++)
        if (p->tags[i] < 0 || !sidx_has_tag(d, p->tags[i]))
            return 0;
    return 1;
}

/* A match: its ordinal and its text score. */
typedef struct {
    uint32_t ord;
    float match;
} sidx_match;

/* Every document in all of p's sets (smallest first: each later set is only probed) that passes
 * the filters; without text, every live document that does. */
static int sidx_matches(search_index *ix, const search_index_query *q, sidx_plan *p, sidx_match **out, size_t *n)
{
    *n = 0;
    if (!p->text) {
        *out = malloc((ix->live ? ix->live : 1) * sizeof **out);
        if (!*out)
            return -1;
        for (size_t o = 0; o < ix->slots; o++)
            if (sidx_filters_pass(q, p, &ix->doc[o]))
                (*out)[(*n)++] = (sidx_match){.ord = (uint32_t)o};
        return 0;
    }
    qsort(p->set, p->sets, sizeof p->set[0], sidx_set_size_cmp);
    const sidx_set *first = &p->set[0];
    *out = malloc((first->count ? first->count : 1) * sizeof **out);
    if (!*out)
        return -1;
    size_t at[SEARCH_TEXT_WORDS_MAX] = {0};
    for (size_t i = 0; i < first->count; i++) {
        uint32_t ord = first->ord[i];
        double match = first->tf[i] * first->idf2;
        size_t k = 1;
        for (; k < p->sets; k++) {
            at[k] = sidx_seek(&p->set[k], at[k], ord);
            if (at[k] == p->set[k].count || p->set[k].ord[at[k]] != ord)
                break;
            match += p->set[k].tf[at[k]] * p->set[k].idf2;
        }
        if (k < p->sets || !sidx_filters_pass(q, p, &ix->doc[ord]))
            continue;
        if (match > p->best)
            p->best = match;
        (*out)[(*n)++] = (sidx_match){.ord = ord, .match = (float)match};
    }
    return 0;
}

/* ---- facets ---------------------------------------------------------------------------------------- */

static int sidx_facet_add(json_t *counts, const char *key, int64_t n)
{
    json_int_t had = json_integer_value(json_object_get(counts, key));
    return json_object_set_new(counts, key, json_integer(had + n));
}

static json_t *sidx_facets(const search_index *ix, const sidx_match *m, size_t n)
{
    json_t *facets = json_pack("{s:{}, s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}}", "categories", "pricing", "free", 0,
                               "one_time", 0, "subscription", 0, "rating", "4+", 0, "3+", 0, "2+", 0);
    int64_t *by_attr = calloc(ix->attrs.count + 1, 2 * sizeof *by_attr);
    if (!facets || !by_attr) {
        json_decref(facets);
        free(by_attr);
        return NULL;
    }
    int64_t rated[5] = {0};
    for (size_t i = 0; i < n; i++) {
        const sidx_doc *d = &ix->doc[m[i].ord];
        by_attr[2 * d->category]++;
        by_attr[2 * d->pricing + 1]++;
        for (int64_t r = 2; r <= 4 && d->rating_count > 0; r++)
            rated[r] += d->rating_sum >= r * d->rating_count;
    }
    json_t *categories = json_object_get(facets, "categories"), *pricing = json_object_get(facets, "pricing"),
           *rating = json_object_get(facets, "rating");
    int bad = 0;
    for (size_t a = 0; a < ix->attrs.count; a++) {
        if (by_attr[2 * a])
            bad |= sidx_facet_add(categories, ix->attrs.str[a], by_attr[2 * a]);
        if (by_attr[2 * a + 1])
            bad |= sidx_facet_add(pricing, ix->attrs.str[a], by_attr[2 * a + 1]);
    }
    bad |= sidx_facet_add(rating, "4+", rated[4]) | sidx_facet_add(rating, "3+", rated[3]) |
           sidx_facet_add(rating, "2+", rated[2]);
    free(by_attr);
    if (bad) {
        json_decref(facets);
        return NULL;
    }
    return facets;
}

/* ---- ranking ---------------------------------------------------------------------------------------- */

/* A match's sort key: k[0] first, then k[1], k[2], then the newer id; all highest first. */
typedef struct {
    double k[3];
    int64_t id;
} sidx_key;

static int sidx_key_before(const sidx_key *a, const sidx_key *b)
{
    for (int i = 0; i < 3; i++)
        if (a->k[i] != b->k[i])
            return a->k[i] > b->k[i];
    return a->id > b->id;
}

static int sidx_key_cmp(const void *a, const void *b)
{
    return sidx_key_before(a, b) ? -1 : sidx_key_before(b, a) ? 1 : 0;
}

/* core/rating's Bayesian rating (0 while unrated), as core/tool_record computes it. */
static double sidx_bayesian(const search_index_query *q, const sidx_doc *d)
{
    if (d->rating_count == 0)
        return 0;
    double mean = q->all_count > 0 ? (double)q->all_sum / (double)q->all_count : 3.0;
    return (mean * (double)q->prior_weight + (double)d->rating_sum) / (double)(q->prior_weight + d->rating_count);
}

/* The share of the title words asked for that ord has; ords must come in increasing order (the
 * matches do), so each title set is walked once. */
static double sidx_title_share(sidx_plan *p, uint32_t ord)
{
    if (!p->title_patterns)
        return 0;
    size_t found = 0;
    for (size_t i = 0; i < p->title_patterns; i++) {
        p->title_at[i] = sidx_seek(&p->title_set[i], p->title_at[i], ord);
        found += p->title_at[i] < p->title_set[i].count && p->title_set[i].ord[p->title_at[i]] == ord;
    }
    return (double)found / (double)p->title_patterns;
}

/* README "Search": an exact slug or name first, then the blend of text and quality. */
static void sidx_relevance(const search_index_query *q, sidx_plan *p, uint32_t ord, const sidx_doc *d,
                           double match, sidx_key *k)
{
    int words = p->title_patterns > 0; /* else only a short last word: every match is as good */
    double best = p->best > 0 ? p->best : 1;
    double text = words ? 0.5 * fmin(1, match / best) + 0.5 * sidx_title_share(p, ord) : 1;
    double age = (double)(q->now_us - d->published_us) / 1e6;
    double fresh = q->freshness_seconds > 0 ? exp2(-fmax(0, age) / (double)q->freshness_seconds) : 0;
    k->k[0] = (d->slug_len == p->slug_len && strcmp(d->slug, p->slug_form) == 0) ||
              (d->name_len == p->name_len && strcmp(d->name_norm, p->name_form) == 0);
    k->k[1] = (double)q->weight_text * text + (double)q->weight_rating * sidx_bayesian(q, d) / 5 +
              (double)q->weight_downloads * d->downloads_term +
              (double)q->weight_freshness * fresh;
}

static void sidx_key_make(const search_index_query *q, sidx_plan *p, uint32_t ord, const sidx_doc *d, double match,
                          sidx_key *k)
{
    memset(k, 0, sizeof *k);
    k->id = d->id;
    switch (q->sort) {
    case SEARCH_INDEX_SORT_DOWNLOADS:
        k->k[0] = (double)d->downloads;
        break;
    case SEARCH_INDEX_SORT_TRENDING: /* tools without activity last, by downloads */
        k->k[0] = d->has_trend;
        k->k[1] = d->has_trend ? d->trend : 0;
        k->k[2] = (double)d->downloads;
        break;
    case SEARCH_INDEX_SORT_NEWEST:
        k->k[0] = (double)d->published_us;
        break;
    case SEARCH_INDEX_SORT_PRICE_ASC:
        k->k[0] = -(double)d->price_cents;
        break;
    case SEARCH_INDEX_SORT_PRICE_DESC:
        k->k[0] = (double)d->price_cents;
        break;
    default: /* rating, and relevance without text */
        if (q->sort == SEARCH_INDEX_SORT_RELEVANCE && p->text) {
            sidx_relevance(q, p, ord, d, match, k);
            break;
        }
        k->k[0] = sidx_bayesian(q, d);
        k->k[1] = (double)d->rating_count;
        k->k[2] = (double)d->downloads;
        break;
    }
}

/* ---- top k: a heap whose root is the worst of the best k seen ------------------------------------- */

static void sidx_heap_down(sidx_key *h, size_t n, size_t i)
{
    for (;;) {
        size_t worst = i, l = 2 * i + 1, r = l + 1;
        if (l < n && sidx_key_before(&h[worst], &h[l]))
            worst = l;
        if (r < n && sidx_key_before(&h[worst], &h[r]))
            worst = r;
        if (worst == i)
            return;
        sidx_key t = h[i];
        h[i] = h[worst];
        h[worst] = t;
        i = worst;
    }
}

static void sidx_heap_up(sidx_key *h, size_t i)
{
    while (i > 0 && sidx_key_before(&h[(i - 1) / 2], &h[i])) {
        sidx_key t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* The best k of the matches in order, into h (k entries); returns how many. */
static size_t sidx_top(const search_index *ix, const search_index_query *q, sidx_plan *p, const sidx_match *m,
                       size_t n, sidx_key *h, size_t k)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        sidx_key key;
        sidx_key_make(q, p, m[i].ord, &ix->doc[m[i].ord], m[i].match, &key);
        if (count < k) {
            h[count] = key;
            sidx_heap_up(h, count++);
        } else if (sidx_key_before(&key, &h[0])) {
            h[0] = key;
            sidx_heap_down(h, count, 0);
        }
    }
    qsort(h, count, sizeof *h, sidx_key_cmp);
    return count;
}

int search_index_run(search_index *ix, const search_index_query *q, search_index_result *r)
{
    r->count = 0;
    r->total = 0;
    r->facets = NULL;
    sidx_plan *p = malloc(sizeof *p);
    if (!p)
        return -1;
    sidx_match *m = NULL;
    size_t n = 0;
    int rc = sidx_plan_make(ix, q, p);
    if (rc == 0)
        rc = sidx_matches(ix, q, p, &m, &n);
    if (rc == 0) {
        r->total = (int64_t)n;
        r->facets = sidx_facets(ix, m, n);
        rc = r->facets ? 0 : -1;
    }
    int64_t offset = q->offset > 0 ? q->offset : 0, limit = q->limit > 0 ? q->limit : 0;
    if (rc == 0 && offset < (int64_t)n && limit > 0) {
        size_t k = (size_t)(offset + limit < (int64_t)n ? offset + limit : (int64_t)n);
        sidx_key *h = malloc(k * sizeof *h);
        rc = h ? 0 : -1;
        if (h) {
            size_t got = sidx_top(ix, q, p, m, n, h, k);
            for (size_t i = (size_t)offset; i < got && r->count < r->cap; i++)
                r->ids[r->count++] = h[i].id;
        }
        free(h);
    }
    free(m);
    sidx_plan_free(p);
    free(p);
    if (rc < 0) {
        json_decref(r->facets);
        r->facets = NULL;
    }
    return rc;
}

/* ---- suggestions ------------------------------------------------------------------------------------ */

static int sidx_hint_before(const search_index_hint *a, int64_t a_key, const search_index_hint *b, int64_t b_key,
                            int tags)
{
    if (a->downloads != b->downloads)
        return a->downloads > b->downloads;
    return tags ? strcmp(a->text, b->text) < 0 : a_key > b_key;
}

/* Keeps the best max in list (sorted), key breaking ties (the tool id; tags by text). */
static void sidx_hint_keep(search_index_hint *list, int64_t *keys, size_t *count, size_t max,
                           search_index_hint h, int64_t key, int tags)
{
    size_t at = *count;
    while (at > 0 && sidx_hint_before(&h, key, &list[at - 1], keys[at - 1], tags))
        at--;
    if (at >= max)
        return;
    size_t move = (*count < max ? *count : max - 1) - at;
    memmove(list + at + 1, list + at, move * sizeof *list);
    memmove(keys + at + 1, keys + at, move * sizeof *keys);
    list[at] = h;
    keys[at] = key;
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

static int sidx_suggest_tools(search_index *ix, const char *prefix, size_t max, search_index_hint *out,
                              size_t *count, int64_t *keys)
{
    char first[SEARCH_TEXT_WORD_MAX * 4 + 1];
    sidx_first_word(prefix, first, sizeof first);
    sidx_set set;
    if (!first[0] || sidx_prefix_set(ix, first, 1, &set) < 0)
        return first[0] ? -1 : 0;
    size_t len = strlen(prefix);
    for (size_t i = 0; i < set.count; i++) {
        const sidx_doc *d = &ix->doc[set.ord[i]];
        size_t head = len < sizeof d->name_head ? len : sizeof d->name_head;
        if (d->live && memcmp(d->name_head, prefix, head) == 0 &&
            (len == head || strncmp(d->name_norm, prefix, len) == 0))
            sidx_hint_keep(out, keys, count, max,
                           (search_index_hint){.text = d->name, .slug = d->slug, .downloads = d->downloads}, d->id, 0);
    }
    free(set.ord);
    free(set.tf);
    return 0;
}

static int sidx_suggest_tags(search_index *ix, const char *prefix, size_t max, search_index_hint *out,
                             size_t *count, int64_t *keys)
{
    char first[SEARCH_TEXT_WORD_MAX * 4 + 1];
    sidx_first_word(prefix, first, sizeof first);
    sidx_set set;
    if (!first[0] || sidx_prefix_set(ix, first, 1, &set) < 0)
        return first[0] ? -1 : 0;
    int64_t *sum = calloc(ix->attrs.count + 1, sizeof *sum);
    uint8_t *used = calloc(ix->attrs.count + 1, 1);
    if (!sum || !used) {
        free(used);
        free(set.ord);
        free(set.tf);
        return -1;
    }
    /* the tags that start with prefix first (few strings), then only a flag per tag of a document */
    size_t len = strlen(prefix), starting = 0;
    for (size_t a = 0; a < ix->attrs.count; a++)
        if (strncmp(ix->attrs.str[a], prefix, len) == 0)
            starting += used[a] = 2;
    for (size_t i = 0; starting && i < set.count; i++) {
        const sidx_doc *d = &ix->doc[set.ord[i]];
        for (uint32_t t = 0; d->live && t < d->tag_count; t++)
            if (used[d->tags[t]]) {
                sum[d->tags[t]] += d->downloads;
                used[d->tags[t]] = 1; /* 1: a tag of a published tool (2: only a category or model) */
            }
    }
    for (size_t a = 0; a < ix->attrs.count; a++)
        if (used[a] == 1)
            sidx_hint_keep(out, keys, count, max,
                           (search_index_hint){.text = ix->attrs.str[a], .downloads = sum[a]}, 0, 1);
    free(sum);
    free(used);
    free(set.ord);
    free(set.tf);
    return 0;
}

int search_index_suggest(search_index *ix, const char *name_prefix, const char *tag_prefix, size_t max,
                         search_index_hint *tools, size_t *tool_count, search_index_hint *tags, size_t *tag_count)
{
    *tool_count = *tag_count = 0;
    if (max == 0)
        return 0;
    int64_t *keys = malloc(max * sizeof *keys);
    if (!keys)
        return -1;
    int rc = sidx_suggest_tools(ix, name_prefix, max, tools, tool_count, keys);
    if (rc == 0)
        rc = sidx_suggest_tags(ix, tag_prefix, max, tags, tag_count, keys);
    free(keys);
    return rc;
}

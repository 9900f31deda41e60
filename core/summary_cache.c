#include "core/summary_cache.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t id; /* 0: empty (tool ids start at 1) */
    json_t *summary;
    char *text; /* the summary as compact JSON text, made on the first summary_cache_text; NULL before */
    size_t text_len;
} summary_cache_slot;

static summary_cache_slot summary_cache_slots[SUMMARY_CACHE_SLOTS];
static size_t summary_cache_used;

/* Ids are sequential: a multiplicative hash spreads neighbours over the table all the same. */
static summary_cache_slot *summary_cache_slot_of(int64_t id)
{
    uint64_t h = (uint64_t)id * UINT64_C(0x9E3779B97F4A7C15);
    return &summary_cache_slots[(h >> 32) & (SUMMARY_CACHE_SLOTS - 1)];
}

static void summary_cache_empty(summary_cache_slot *s)
{
    if (!s->id)
        return;
    json_decref(s->summary);
    free(s->text);
    s->id = 0;
    s->summary = NULL;
    s->text = NULL;
    s->text_len = 0;
    summary_cache_used--;
}

json_t *summary_cache_get(int64_t id)
{
    summary_cache_slot *s = summary_cache_slot_of(id);
    return id > 0 && s->id == id ? s->summary : NULL;
}

const char *summary_cache_text(int64_t id, size_t *len)
{
    summary_cache_slot *s = summary_cache_slot_of(id);
    if (id <= 0 || s->id != id)
        return NULL;
    if (!s->text) {
        if (!(s->text = json_dumps(s->summary, JSON_COMPACT)))
            return NULL;
        s->text_len = strlen(s->text);
    }
    *len = s->text_len;
    return s->text;
}

void summary_cache_put(int64_t id, json_t *summary)
{
    if (id <= 0 || !summary)
        return;
    summary_cache_slot *s = summary_cache_slot_of(id);
    json_incref(summary); /* before the old one goes: it may be the same object */
    summary_cache_empty(s);
    s->id = id;
    s->summary = summary;
    summary_cache_used++;
}

void summary_cache_forget(int64_t id)
{
    summary_cache_slot *s = summary_cache_slot_of(id);
    if (id > 0 && s->id == id)
        summary_cache_empty(s);
}

void summary_cache_clear(void)
{
    for (size_t i = 0; i < SUMMARY_CACHE_SLOTS && summary_cache_used; i++)
        summary_cache_empty(&summary_cache_slots[i]);
}

size_t summary_cache_count(void)
{
    return summary_cache_used;
}

#include "core/tool_cache.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/view_epoch.h"

/* A slug is at most 64 characters and an id 18 digits; a version this long is not kept. */
#define TOOL_CACHE_KEY_MAX 72

typedef struct {
    char ref[TOOL_CACHE_KEY_MAX];
    int64_t tool_id, developer_id;
    uint64_t epoch;
    char *text; /* NULL: only the id is known yet */
    size_t len;
    uint64_t stored_ms;
} tool_cache_view_entry;

typedef struct {
    char ref[TOOL_CACHE_KEY_MAX], version[TOOL_CACHE_KEY_MAX];
    int64_t tool_id;
    uint64_t epoch;
    int valid;    /* 0: holds the last answer but may not be reused (the id was not known before) */
    size_t bytes;
    uint64_t stored_ms;
    tool_cache_target t;
} tool_cache_target_entry;

static tool_cache_view_entry tool_cache_views[TOOL_CACHE_VIEWS];
static tool_cache_target_entry tool_cache_targets[TOOL_CACHE_TARGETS];
/* Holds an answer too big (or with too long a key) to keep, until the next call. */
static tool_cache_target_entry tool_cache_scratch;
static size_t tool_cache_held;

/* FNV-1a over a and b, for the slot. */
static uint64_t tool_cache_hash(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603u;
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    h = (h ^ 0xff) * 1099511628211u;
    for (const char *s = b; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static int tool_cache_key_fits(const char *text)
{
    return strlen(text) < TOOL_CACHE_KEY_MAX;
}

/* The tool's id as far as the worker knows it before asking the database: the entry's for the same
 * reference, or the reference itself when it is an id. 0 when unknown. */
static int64_t tool_cache_known_id(const char *ref, int same_ref, int64_t entry_id)
{
    if (same_ref)
        return entry_id;
    tool_ref parsed;
    return tool_record_ref_parse(ref, &parsed) == 0 ? parsed.id : 0;
}

static uint64_t tool_cache_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Is an entry stored at stored_ms under epoch still good for tool_id? */
static int tool_cache_fresh(int64_t tool_id, uint64_t epoch, uint64_t stored_ms)
{
    return epoch == view_epoch_read(tool_id) && tool_cache_now_ms() - stored_ms <= TOOL_CACHE_TTL_MS;
}

size_t tool_cache_bytes(void)
{
    return tool_cache_held;
}

/* ---- views --------------------------------------------------------------------------------------- */

/* When an entry filled from db counts as stored: now, or for a replica's read backdated so that it
 * expires TOOL_CACHE_REPLICA_TTL_MS from now. */
static uint64_t tool_cache_stored_ms(const db *db)
{
    uint64_t now = tool_cache_now_ms();
    return db_is_replica(db) ? now - (TOOL_CACHE_TTL_MS - TOOL_CACHE_REPLICA_TTL_MS) : now;
}

static void tool_cache_view_store(tool_cache_view_entry *e, const char *ref, int64_t tool_id, int64_t developer_id,
                                  const char *text, size_t len, uint64_t epoch, uint64_t stored_ms)
{
    tool_cache_held -= e->len;
    free(e->text);
    memset(e, 0, sizeof *e);
    if (!tool_cache_key_fits(ref))
        return;
    strcpy(e->ref, ref);
    e->tool_id = tool_id;
    e->developer_id = developer_id;
    e->epoch = epoch;
    e->stored_ms = stored_ms;
    if (text && len <= TOOL_CACHE_VIEW_BYTES && (e->text = malloc(len + 1))) {
        memcpy(e->text, text, len + 1);
        e->len = len;
        tool_cache_held += len;
    }
}

static char *tool_cache_copy(const char *text, size_t len, mkt_error *err)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    memcpy(copy, text, len + 1);
    return copy;
}

/* The JSON text of the view, ending in a newline as every JSON answer does. */
static char *tool_cache_view_text(json_t *view, size_t *len, mkt_error *err)
{
    char *body = json_dumps(view, JSON_COMPACT);
    json_decref(view);
    size_t n = body ? strlen(body) : 0;
    char *text = body ? realloc(body, n + 2) : NULL;
    if (!text) {
        free(body);
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    text[n] = '\n';
    text[n + 1] = '\0';
    *len = n + 1;
    return text;
}

char *tool_cache_view(db *db, const account_caller *caller, const char *ref, int64_t *tool_id, int *owner,
                      mkt_error *err)
{
    tool_cache_view_entry *e = &tool_cache_views[tool_cache_hash(ref, "") % TOOL_CACHE_VIEWS];
    int same = e->tool_id > 0 && strcmp(e->ref, ref) == 0;
    int owned = caller && caller->developer_id != 0 && caller->developer_id == e->developer_id;
    if (same && e->text && !owned && tool_cache_fresh(e->tool_id, e->epoch, e->stored_ms)) {
        *tool_id = e->tool_id;
        *owner = 0;
        return tool_cache_copy(e->text, e->len, err);
    }
    int64_t known = tool_cache_known_id(ref, same, e->tool_id);
    uint64_t epoch = known ? view_epoch_read(known) : 0; /* before the read: see the header */
    tool_record t;
    if (tool_record_find_view(db, ref, caller, &t, err) < 0)
        return NULL;
    *tool_id = t.id;
    *owner = tool_record_is_owner(&t, caller);
    int64_t developer_id = t.developer_id;
    int keep = !*owner && strcmp(t.status, "published") == 0;
    size_t len = 0;
    char *text;
    if (*owner) { /* the developer's view has the draft: rare, built as a document */
        json_t *view = tool_record_json_take(&t, caller, err);
        text = view ? tool_cache_view_text(view, &len, err) : NULL;
    } else {
        text = tool_record_view_text(&t, &len, err);
        tool_record_free(&t);
    }
    if (text && keep)
        tool_cache_view_store(e, ref, *tool_id, developer_id, known == *tool_id ? text : NULL, len, epoch,
                              tool_cache_stored_ms(db));
    return text;
}

/* ---- versions to run ------------------------------------------------------------------------------ */

static void tool_cache_target_clear(tool_cache_target_entry *e)
{
    tool_cache_held -= e->bytes;
    tool_record_target_free(&e->t.target);
    json_decref(e->t.input_schema);
    json_decref(e->t.output_schema);
    memset(e, 0, sizeof *e);
}

static size_t tool_cache_rows_bytes(const db_rows *rows)
{
    size_t n = 0;
    for (size_t i = 0; i < rows->row_count * rows->column_count; i++)
        n += rows->cells[i].len;
    return n;
}

/* Loads the version and parses its schemas (only a version that exists has them). */
static int tool_cache_target_load(db *db, const char *ref, const char *version, tool_cache_target *out,
                                  mkt_error *err)
{
    memset(out, 0, sizeof *out);
    if (tool_record_target_load(db, ref, version, &out->target, err) < 0)
        return -1;
    if (out->target.version && (!(out->input_schema = tool_record_parse(out->target.input_schema, err)) ||
                                !(out->output_schema = tool_record_parse(out->target.output_schema, err)))) {
        json_decref(out->input_schema);
        tool_record_target_free(&out->target);
        return -1;
    }
    return 0;
}

const tool_cache_target *tool_cache_target_get(db *db, const char *ref, const char *version, mkt_error *err)
{
    const char *v = version ? version : "";
    tool_cache_target_entry *e = &tool_cache_targets[tool_cache_hash(ref, v) % TOOL_CACHE_TARGETS];
    int same = e->tool_id > 0 && strcmp(e->ref, ref) == 0 && strcmp(e->version, v) == 0;
    if (same && e->valid && tool_cache_fresh(e->tool_id, e->epoch, e->stored_ms))
        return &e->t;
    int64_t known = tool_cache_known_id(ref, same, e->tool_id);
    uint64_t epoch = known ? view_epoch_read(known) : 0; /* before the read: see the header */
    tool_cache_target loaded;
    if (tool_cache_target_load(db, ref, version, &loaded, err) < 0)
        return NULL;
    size_t bytes = tool_cache_rows_bytes(&loaded.target.rows);
    tool_cache_target_entry *slot =
        bytes <= TOOL_CACHE_TARGET_BYTES && tool_cache_key_fits(ref) && tool_cache_key_fits(v) ? e : &tool_cache_scratch;
    tool_cache_target_clear(slot);
    slot->t = loaded;
    slot->tool_id = loaded.target.id;
    slot->epoch = epoch;
    slot->stored_ms = tool_cache_now_ms();
    slot->valid = slot != &tool_cache_scratch && known == loaded.target.id;
    if (slot != &tool_cache_scratch) {
        strcpy(slot->ref, ref);
        strcpy(slot->version, v);
        slot->bytes = bytes;
        tool_cache_held += bytes;
    }
    return &slot->t;
}

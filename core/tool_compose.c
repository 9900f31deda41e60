/* Composed tools: resolving a draft's dependencies, the publish-time graph checks, the stored rows, and
 * the tools.call provider with its per-worker cache of callee versions (core/tool_compose.h). */
#include "core/tool_compose.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hook_system.h"
#include "core/schema.h"
#include "core/semver.h"
#include "core/tool_compose_graph.h"
#include "core/tool_library.h"
#include "core/tool_record.h"
#include "core/tool_usage.h"

/* ---- resolving a declaration ------------------------------------------------------------------ */

void tool_compose_resolved_free(tool_compose_resolved *r)
{
    json_decref(r->declared);
    memset(r, 0, sizeof *r);
}

/* The field error for one dependency: "dependencies.<slug>". */
static void tool_compose_field(mkt_error *err, const char *slug, const char *fmt, ...)
{
    char field[TOOL_FIELDS_SLUG_MAX + 16], text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(field, sizeof field, "dependencies.%s", slug);
    error_add_field(err, field, "%s", text);
}

enum { RCOL_TOOL, RCOL_DEVELOPER, RCOL_STATUS, RCOL_MODEL, RCOL_PRICE, RCOL_CURRENCY, RCOL_VERSION_ID, RCOL_VERSION };

/* The highest of rows' versions satisfying range, or -1. */
static int tool_compose_pick(const db_rows *rows, const semver_range *range)
{
    semver *versions = calloc(rows->row_count ? rows->row_count : 1, sizeof *versions);
    if (!versions)
        return -1;
    for (size_t i = 0; i < rows->row_count; i++)
        if (semver_parse(db_rows_text(rows, i, RCOL_VERSION), &versions[i], NULL) < 0)
            memset(&versions[i], 0, sizeof versions[i]); /* 0.0.0: cannot happen for stored rows */
    int best = semver_range_max_satisfying(range, versions, rows->row_count);
    for (size_t i = 0; i < rows->row_count; i++)
        semver_free(&versions[i]);
    free(versions);
    return best;
}

/* Resolves one slug to d. Returns 0 resolved, 1 refused (a field error added), -1 on our failure. */
static int tool_compose_resolve_one(db *db, const char *slug, const char *range_text, const tool_compose_owner *owner,
                                    tool_compose_dep *d, mkt_error *err)
{
    semver_range *range = semver_range_parse(range_text, NULL);
    if (!range) {
        tool_compose_field(err, slug, "\"%s\" is not a semver range", range_text);
        return 1;
    }
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT t.id, t.developer_id, t.status, t.pricing_model, t.price_cents, t.currency, v.id, v.version"
                 " FROM tools t JOIN tool_versions v ON v.tool_id = t.id WHERE t.slug = ? AND t.status = 'published'",
                 DB_PARAMS(db_text(slug)), &rows, err) < 0) {
        semver_range_free(range);
        return -1;
    }
    int best = tool_compose_pick(&rows, range);
    semver_range_free(range);
    int rc = 0;
    if (rows.row_count == 0) {
        tool_compose_field(err, slug, "no published tool \"%s\"", slug);
        rc = 1;
    } else if (best < 0) {
        tool_compose_field(err, slug, "no published version satisfies \"%s\"", range_text);
        rc = 1;
    } else {
        tool_library_tool t = {.id = db_rows_int(&rows, 0, RCOL_TOOL),
                               .developer_id = db_rows_int(&rows, 0, RCOL_DEVELOPER),
                               .status = db_rows_text(&rows, 0, RCOL_STATUS),
                               .pricing_model = db_rows_text(&rows, 0, RCOL_MODEL),
                               .price_cents = db_rows_int(&rows, 0, RCOL_PRICE),
                               .currency = db_rows_text(&rows, 0, RCOL_CURRENCY)};
        account_caller as = {.user_id = owner->user_id, .developer_id = owner->developer_id};
        mkt_error access = MKT_ERROR_INIT;
        if (tool_library_can_execute(db, &as, &t, &access) < 0) {
            if (access.kind == ERROR_INTERNAL) {
                error_move(err, &access);
                rc = -1;
            } else {
                tool_compose_field(err, slug, "the tool's developer must own it to call it: %s",
                                   access.message ? access.message : "no access");
                rc = 1;
            }
        } else {
            snprintf(d->slug, sizeof d->slug, "%s", slug);
            d->range = range_text;
            d->tool_id = t.id;
            d->version_id = db_rows_int(&rows, (size_t)best, RCOL_VERSION_ID);
            snprintf(d->version, sizeof d->version, "%s", db_rows_text(&rows, (size_t)best, RCOL_VERSION));
        }
        error_clear(&access);
    }
    db_rows_free(&rows);
    return rc;
}

int tool_compose_resolve(db *db, const char *declared, const tool_compose_owner *owner, tool_compose_resolved *out,
                         mkt_error *err)
{
    memset(out, 0, sizeof *out);
    out->declared = json_loads(declared && declared[0] ? declared : "{}", 0, NULL);
    if (!json_is_object(out->declared))
        return error_set(err, ERROR_INTERNAL, "internal error: a stored dependencies cell is not an object");
    const char *slug;
    json_t *range;
    int refused = 0;
    json_object_foreach(out->declared, slug, range) {
        if (out->count == TOOL_FIELDS_DEPENDENCIES_MAX || !json_is_string(range))
            return error_set(err, ERROR_INTERNAL, "internal error: a stored dependencies cell is malformed");
        int rc = tool_compose_resolve_one(db, slug, json_string_value(range), owner, &out->deps[out->count], err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            out->count++;
        refused += rc;
    }
    if (refused)
        return error_set(err, ERROR_VALIDATION, "the tool's dependencies do not resolve");
    return 0;
}

/* ---- publish: the graph checks and the rows ------------------------------------------------------ */

/* The cycle the new edges would close, as a 422 on err; 0 when none. */
static int tool_compose_check_cycle(tool_graph_edge *edges, size_t edge_count, int64_t tool_id, const char *slug,
                                    const tool_compose_resolved *r, mkt_error *err)
{
    int64_t starts[TOOL_FIELDS_DEPENDENCIES_MAX];
    const char *names[TOOL_FIELDS_DEPENDENCIES_MAX];
    for (size_t i = 0; i < r->count; i++) {
        starts[i] = r->deps[i].tool_id;
        names[i] = r->deps[i].slug;
    }
    char text[1024];
    int found = tool_graph_cycle(edges, edge_count, tool_id, slug, starts, names, r->count, text, sizeof text);
    if (found < 0)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    if (found == 0)
        return 0;
    error_add_field(err, "dependencies", "would make a cycle: %s", text);
    return error_set(err, ERROR_VALIDATION, "tools may not call each other in a cycle: %s", text);
}

/* Every stored tool-level edge, read with shared locks (see the header: concurrent publishes). The
 * slugs point into rows (free with db_rows_free after the edges). */
static int tool_compose_edges(db *db, db_rows *rows, tool_graph_edge **out, mkt_error *err)
{
    *out = NULL;
    if (db_query(db,
                 "SELECT x.tool_id, x.dep_tool_id, t.slug FROM tool_dependencies x JOIN tools t ON t.id = x.tool_id"
                 " LOCK IN SHARE MODE",
                 DB_NO_PARAMS, rows, err) < 0)
        return -1;
    *out = calloc(rows->row_count ? rows->row_count : 1, sizeof **out);
    if (!*out)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    for (size_t i = 0; i < rows->row_count; i++)
        (*out)[i] = (tool_graph_edge){db_rows_int(rows, i, 0), db_rows_int(rows, i, 1), db_rows_text(rows, i, 2)};
    return 0;
}

/* A version reached by the depth walk: its tool's slug and the node it was reached from. */
typedef struct {
    int64_t version;
    char slug[TOOL_FIELDS_SLUG_MAX + 1];
    long parent;
} tool_compose_level_node;

#define TOOL_COMPOSE_WALK_MAX 4096 /* versions the depth walk may visit: far past any real graph */

/* The versions called by nodes[from..to) appended after them; returns the new end, -1 on failure. */
static long tool_compose_next_level(db *db, tool_compose_level_node *nodes, size_t from, size_t to, mkt_error *err)
{
    size_t n = to - from;
    char *sql = db_sql_rows("SELECT x.version_id, x.dep_version_id, t.slug FROM tool_dependencies x"
                            " JOIN tools t ON t.id = x.dep_tool_id WHERE x.version_id IN (",
                            "?", ")", n, err);
    db_value *params = calloc(n, sizeof *params);
    if (!sql || !params) {
        free(sql);
        free(params);
        return error_is_set(err) ? -1 : error_set(err, ERROR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        params[i] = db_int(nodes[from + i].version);
    db_rows rows = {0};
    int rc = db_query(db, sql, params, n, &rows, err);
    free(sql);
    free(params);
    if (rc < 0)
        return -1;
    size_t end = to;
    for (size_t r = 0; r < rows.row_count && end < TOOL_COMPOSE_WALK_MAX; r++) {
        int64_t caller = db_rows_int(&rows, r, 0), callee = db_rows_int(&rows, r, 1);
        long parent = -1;
        for (size_t i = from; i < to && parent < 0; i++)
            if (nodes[i].version == caller)
                parent = (long)i;
        int dup = 0;
        for (size_t i = to; i < end && !dup; i++)
            dup = nodes[i].version == callee;
        if (dup)
            continue;
        nodes[end].version = callee;
        nodes[end].parent = parent;
        snprintf(nodes[end].slug, sizeof nodes[end].slug, "%s", db_rows_text(&rows, r, 2));
        end++;
    }
    db_rows_free(&rows);
    return (long)end;
}

/* Level by level down the stored (immutable, acyclic) version graph: a node at level SANDBOX_CALL_DEPTH
 * that calls anything makes a chain one tool too long. At most SANDBOX_CALL_DEPTH - 1 queries. */
static int tool_compose_check_depth(db *db, const char *slug, const tool_compose_resolved *r, mkt_error *err)
{
    tool_compose_level_node *nodes = calloc(TOOL_COMPOSE_WALK_MAX, sizeof *nodes);
    if (!nodes)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    size_t from = 0, to = 0;
    for (size_t i = 0; i < r->count; i++) {
        nodes[to].version = r->deps[i].version_id;
        nodes[to].parent = -1;
        snprintf(nodes[to].slug, sizeof nodes[to].slug, "%s", r->deps[i].slug);
        to++;
    }
    int rc = 0;
    /* the new tool is level 1, its dependencies level 2 */
    for (int level = 2; rc == 0 && from < to; level++) {
        long end = tool_compose_next_level(db, nodes, from, to, err);
        if (end < 0) {
            rc = -1;
        } else if ((size_t)end > to && level == SANDBOX_CALL_DEPTH) {
            const char *path[SANDBOX_CALL_DEPTH + 1];
            size_t n = 0;
            for (long k = (long)to; k >= 0 && n < SANDBOX_CALL_DEPTH + 1; k = nodes[k].parent)
                path[n++] = nodes[k].slug;
            char text[1024];
            size_t used = (size_t)snprintf(text, sizeof text, "%s", slug);
            for (size_t k = n; k-- > 0 && used < sizeof text;)
                used += (size_t)snprintf(text + used, sizeof text - used, " -> %s", path[k]);
            error_add_field(err, "dependencies", "the call chain %s holds more than %d tools", text,
                            SANDBOX_CALL_DEPTH);
            rc = error_set(err, ERROR_VALIDATION, "tools may call tools at most %d deep: %s", SANDBOX_CALL_DEPTH,
                           text);
        }
        from = to;
        to = end < 0 ? to : (size_t)end;
    }
    free(nodes);
    return rc;
}

static int tool_compose_store(db *db, int64_t tool_id, int64_t version_id, const tool_compose_resolved *r,
                              mkt_error *err)
{
    enum { PER_ROW = 5 };
    db_value params[TOOL_FIELDS_DEPENDENCIES_MAX * PER_ROW];
    for (size_t i = 0; i < r->count; i++) {
        db_value *p = params + i * PER_ROW;
        p[0] = db_int(version_id);
        p[1] = db_int(tool_id);
        p[2] = db_int(r->deps[i].tool_id);
        p[3] = db_int(r->deps[i].version_id);
        p[4] = db_text(r->deps[i].range);
    }
    return db_exec_rows(db,
                        "INSERT INTO tool_dependencies (version_id, tool_id, dep_tool_id, dep_version_id, dep_range)"
                        " VALUES ",
                        "(?, ?, ?, ?, ?)", NULL, params, PER_ROW, r->count, NULL, err);
}

int tool_compose_publish(db *db, int64_t tool_id, const char *slug, int64_t version_id,
                         const tool_compose_resolved *r, mkt_error *err)
{
    if (!r || r->count == 0)
        return 0; /* calling nothing closes no cycle and makes no chain longer */
    db_rows rows = {0};
    tool_graph_edge *edges;
    int rc = tool_compose_edges(db, &rows, &edges, err);
    if (rc == 0)
        rc = tool_compose_check_cycle(edges, rows.row_count, tool_id, slug, r, err);
    free(edges);
    db_rows_free(&rows);
    if (rc == 0)
        rc = tool_compose_check_depth(db, slug, r, err);
    if (rc == 0)
        rc = tool_compose_store(db, tool_id, version_id, r, err);
    return rc;
}

/* ---- the per-worker cache of callee versions --------------------------------------------------- */

typedef struct {
    int refs; /* the cache's own reference plus one per session node holding it */
    uint64_t stamp; /* last use, for eviction */
    int64_t version_id, tool_id, developer_id, developer_user_id;
    char slug[TOOL_FIELDS_SLUG_MAX + 1];
    char version[SEMVER_MAX_LENGTH + 1];
    char *code;
    size_t code_len;
    json_t *input_schema, *output_schema;
    size_t dep_count;
    tool_compose_dep *deps;
} tool_compose_entry;

static tool_compose_entry *tool_compose_cache[TOOL_COMPOSE_CACHE];
static uint64_t tool_compose_clock;

static void tool_compose_entry_release(tool_compose_entry *e)
{
    if (!e || --e->refs > 0)
        return;
    free(e->code);
    json_decref(e->input_schema);
    json_decref(e->output_schema);
    free(e->deps);
    free(e);
}

static int tool_compose_entry_deps(db *db, tool_compose_entry *e, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT t.slug, x.dep_tool_id, x.dep_version_id FROM tool_dependencies x"
                 " JOIN tools t ON t.id = x.dep_tool_id WHERE x.version_id = ?",
                 DB_PARAMS(db_int(e->version_id)), &rows, err) < 0)
        return -1;
    e->deps = calloc(rows.row_count ? rows.row_count : 1, sizeof *e->deps);
    if (!e->deps) {
        db_rows_free(&rows);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < rows.row_count; i++) {
        snprintf(e->deps[i].slug, sizeof e->deps[i].slug, "%s", db_rows_text(&rows, i, 0));
        e->deps[i].tool_id = db_rows_int(&rows, i, 1);
        e->deps[i].version_id = db_rows_int(&rows, i, 2);
    }
    e->dep_count = rows.row_count;
    db_rows_free(&rows);
    return 0;
}

/* Two queries: the version with its tool's slug and developer's account, then what it calls. */
static tool_compose_entry *tool_compose_entry_load(db *db, int64_t version_id, mkt_error *err)
{
    enum { ECOL_TOOL, ECOL_SLUG, ECOL_DEVELOPER, ECOL_USER, ECOL_INPUT, ECOL_OUTPUT, ECOL_CODE, ECOL_VERSION };
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT v.tool_id, t.slug, t.developer_id, d.user_id, v.input_schema, v.output_schema, v.code,"
                 " v.version"
                 " FROM tool_versions v JOIN tools t ON t.id = v.tool_id JOIN developers d ON d.id = t.developer_id"
                 " WHERE v.id = ?",
                 DB_PARAMS(db_int(version_id)), &rows, err) < 0)
        return NULL;
    if (rows.row_count == 0) {
        db_rows_free(&rows);
        error_set(err, ERROR_INTERNAL, "internal error: version %" PRId64 " is gone", version_id);
        return NULL;
    }
    tool_compose_entry *e = calloc(1, sizeof *e);
    size_t code_len = rows.cells[ECOL_CODE].len;
    if (e) {
        e->refs = 1;
        e->version_id = version_id;
        e->tool_id = db_rows_int(&rows, 0, ECOL_TOOL);
        e->developer_id = db_rows_int(&rows, 0, ECOL_DEVELOPER);
        e->developer_user_id = db_rows_int(&rows, 0, ECOL_USER);
        snprintf(e->slug, sizeof e->slug, "%s", db_rows_text(&rows, 0, ECOL_SLUG));
        snprintf(e->version, sizeof e->version, "%s", db_rows_text(&rows, 0, ECOL_VERSION));
        e->code = malloc(code_len + 1);
        if (e->code) {
            memcpy(e->code, db_rows_text(&rows, 0, ECOL_CODE), code_len);
            e->code[code_len] = '\0';
        }
        e->code_len = code_len;
        e->input_schema = json_loads(db_rows_text(&rows, 0, ECOL_INPUT), JSON_DECODE_ANY, NULL);
        e->output_schema = json_loads(db_rows_text(&rows, 0, ECOL_OUTPUT), JSON_DECODE_ANY, NULL);
    }
    db_rows_free(&rows);
    if (!e || !e->code || !e->input_schema || !e->output_schema) {
        tool_compose_entry_release(e);
        error_set(err, ERROR_INTERNAL, "cannot load version %" PRId64 " (out of memory or a corrupt cell)",
                  version_id);
        return NULL;
    }
    if (tool_compose_entry_deps(db, e, err) < 0) {
        tool_compose_entry_release(e);
        return NULL;
    }
    return e;
}

/* The cached version (a new reference for the caller), loading it on a miss into the least recently
 * used slot. */
static tool_compose_entry *tool_compose_entry_get(db *db, int64_t version_id, mkt_error *err)
{
    size_t victim = 0;
    for (size_t i = 0; i < TOOL_COMPOSE_CACHE; i++) {
        tool_compose_entry *e = tool_compose_cache[i];
        if (e && e->version_id == version_id) {
            e->stamp = ++tool_compose_clock;
            e->refs++;
            return e;
        }
        if (!e || (tool_compose_cache[victim] && e->stamp < tool_compose_cache[victim]->stamp))
            victim = i;
    }
    tool_compose_entry *e = tool_compose_entry_load(db, version_id, err);
    if (!e)
        return NULL;
    tool_compose_entry_release(tool_compose_cache[victim]); /* sessions holding it keep it alive */
    tool_compose_cache[victim] = e;
    e->stamp = ++tool_compose_clock;
    e->refs++;
    return e;
}

/* ---- the provider ---------------------------------------------------------------------------------- */

/* A tool live in a run: the root (a published version loaded lazily, or a draft) or a callee. */
typedef struct tool_compose_node {
    struct tool_compose_node *next; /* the session's list */
    tool_compose_entry *entry;      /* held; NULL for a draft, or a root version not needed yet */
    int64_t version_id;             /* the root version to load; 0 for a draft */
    const tool_compose_dep *deps;
    size_t dep_count;
    int64_t developer_id, developer_user_id;
    const char *slug;
    int64_t plugins_version; /* a callee's hook chain, as read when it was called */
    const char *caller_slug; /* who called it, for its hooks' context */
} tool_compose_node;

/* A call the session already allowed: the developer calling, the tool called, its chain version. */
typedef struct {
    int64_t developer_id, tool_id, plugins_version;
} tool_compose_allowed;

#define TOOL_COMPOSE_ALLOWED_MAX 32

struct tool_compose_session {
    db *db;
    const config *cfg;
    int count;
    /* access is decided once per run for each (calling developer, callee): a loop of calls costs one
     * query, and the next run (a refund, a new price) decides again */
    tool_compose_allowed allowed[TOOL_COMPOSE_ALLOWED_MAX];
    size_t allowed_count;
    tool_compose_node *nodes;
    tool_compose_node *root;
    sandbox_calls calls;
};

static tool_compose_node *tool_compose_node_new(tool_compose_session *s)
{
    tool_compose_node *n = calloc(1, sizeof *n);
    if (n) {
        n->next = s->nodes;
        s->nodes = n;
    }
    return n;
}

static void tool_compose_node_take(tool_compose_node *n, tool_compose_entry *e)
{
    n->entry = e;
    n->deps = e->deps;
    n->dep_count = e->dep_count;
    n->developer_id = e->developer_id;
    n->developer_user_id = e->developer_user_id;
    n->slug = e->slug;
}

/* Access now, by the developer of the calling tool (tool_library_can_execute's rule). *plugins_version
 * gets the callee's hook chain version from the same read. */
static int tool_compose_may_call(db *db, const tool_compose_node *from, const tool_compose_dep *dep,
                                 int64_t *plugins_version, mkt_error *err)
{
    tool_record_call facts;
    if (tool_record_call_facts(db, dep->tool_id, &facts, err) < 0)
        return -1;
    *plugins_version = facts.plugins_version;
    tool_library_tool t = {.id = facts.id, .developer_id = facts.developer_id, .status = facts.status,
                           .pricing_model = facts.pricing_model, .price_cents = facts.price_cents,
                           .currency = facts.currency};
    account_caller as = {.user_id = from->developer_user_id, .developer_id = from->developer_id};
    mkt_error e = MKT_ERROR_INIT;
    if (tool_library_can_execute(db, &as, &t, &e) == 0)
        return 0;
    if (e.kind == ERROR_INTERNAL) {
        error_move(err, &e);
        return -1;
    }
    error_set(err, ERROR_VALIDATION, "the developer of \"%s\" may not call it: %s", from->slug,
              e.message ? e.message : "no access");
    error_clear(&e);
    return -1;
}

static int tool_compose_allowed_before(const tool_compose_session *s, const tool_compose_node *from,
                                      const tool_compose_dep *dep, int64_t *plugins_version)
{
    for (size_t i = 0; i < s->allowed_count; i++)
        if (s->allowed[i].developer_id == from->developer_id && s->allowed[i].tool_id == dep->tool_id) {
            *plugins_version = s->allowed[i].plugins_version;
            return 1;
        }
    return 0;
}

static int tool_compose_resolve_call(void *ud, void *from_handle, const char *slug, sandbox_callee *out,
                                     mkt_error *err)
{
    tool_compose_session *s = ud;
    tool_compose_node *from = from_handle;
    if (!from->entry && from->version_id) { /* the root version, on its first call */
        tool_compose_entry *e = tool_compose_entry_get(s->db, from->version_id, err);
        if (!e)
            return -1;
        tool_compose_node_take(from, e);
    }
    const tool_compose_dep *dep = NULL;
    for (size_t i = 0; i < from->dep_count && !dep; i++)
        if (strcmp(from->deps[i].slug, slug) == 0)
            dep = &from->deps[i];
    if (!dep)
        return error_set(err, ERROR_VALIDATION, "\"%s\" is not among the dependencies of \"%s\"", slug, from->slug);
    int64_t plugins_version = 0;
    if (tool_compose_allowed_before(s, from, dep, &plugins_version) == 0) {
        if (tool_compose_may_call(s->db, from, dep, &plugins_version, err) < 0)
            return -1;
        if (s->allowed_count < TOOL_COMPOSE_ALLOWED_MAX)
            s->allowed[s->allowed_count++] =
                (tool_compose_allowed){from->developer_id, dep->tool_id, plugins_version};
    }
    tool_compose_node *n = tool_compose_node_new(s);
    tool_compose_entry *e = n ? tool_compose_entry_get(s->db, dep->version_id, err) : NULL;
    if (!e)
        return error_is_set(err) ? -1 : error_set(err, ERROR_INTERNAL, "out of memory");
    tool_compose_node_take(n, e);
    n->plugins_version = plugins_version;
    n->caller_slug = from->slug;
    *out = (sandbox_callee){e->code, e->code_len, n};
    return 0;
}

/* The callee's hook chain at point over value, within what is left of the tree's budget (its work
 * reported back in budget->spent). A new reference, or NULL with err set. */
static json_t *tool_compose_chain(tool_compose_session *s, const tool_compose_node *n, plugin_hook point,
                                  const json_t *value, sandbox_budget *budget, mkt_error *err)
{
    if (n->plugins_version == 0)
        return json_incref((json_t *)value); /* never had plugins: no query, no run */
    tool_check_budget b;
    tool_check_budget_start(&b, s->cfg);
    b.deadline_ns = budget->deadline_ns;
    b.instructions_left = budget->instructions_left;
    json_t *context = json_pack("{s:s, s:s, s:s}", "tool", n->slug, "tool_version", n->entry->version, "called_by",
                                n->caller_slug ? n->caller_slug : "");
    json_t *out = context ? hook_system_run_chain(s->db, s->cfg, n->entry->tool_id, n->plugins_version, point, value,
                                                  context, &b, NULL, err)
                          : NULL;
    if (!context)
        error_set(err, ERROR_INTERNAL, "out of memory");
    budget->spent += budget->instructions_left - b.instructions_left;
    json_decref(context);
    return out;
}

/* tool:beforeExecute, then the input schema (on what the chain produced). */
static json_t *tool_compose_before(void *ud, void *tool, const json_t *input, sandbox_budget *budget, mkt_error *err)
{
    const tool_compose_node *n = tool;
    json_t *in = tool_compose_chain(ud, n, PLUGIN_HOOK_TOOL_BEFORE_EXECUTE, input, budget, err);
    if (in && schema_validate(n->entry->input_schema, in, "input", err) < 0) {
        if (err->kind == ERROR_VALIDATION)
            error_set(err, ERROR_VALIDATION, "the input does not match the input schema of \"%s\"", n->slug);
        json_decref(in);
        return NULL;
    }
    return in;
}

static int tool_compose_output_ok(const tool_compose_node *n, const json_t *output, mkt_error *err)
{
    if (schema_validate(n->entry->output_schema, output, "output", err) < 0) {
        if (err->kind == ERROR_VALIDATION)
            error_set(err, ERROR_VALIDATION, "the output of \"%s\" does not match its output schema", n->slug);
        return -1;
    }
    return 0;
}

/* The output schema, tool:afterExecute, and the schema again when a hook changed the output; then the
 * call counts as an execution of the callee. */
static json_t *tool_compose_after(void *ud, void *tool, json_t *output, sandbox_budget *budget, mkt_error *err)
{
    tool_compose_session *s = ud;
    const tool_compose_node *n = tool;
    if (tool_compose_output_ok(n, output, err) < 0)
        return NULL;
    json_t *out = tool_compose_chain(s, n, PLUGIN_HOOK_TOOL_AFTER_EXECUTE, output, budget, err);
    if (out && out != output && tool_compose_output_ok(n, out, err) < 0) {
        json_decref(out);
        return NULL;
    }
    if (out && s->count)
        tool_usage_count_call(n->entry->tool_id);
    return out;
}

static tool_compose_session *tool_compose_session_new(db *db, const config *cfg, int count)
{
    tool_compose_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->db = db;
    s->cfg = cfg;
    s->count = count;
    s->root = tool_compose_node_new(s);
    if (!s->root) {
        free(s);
        return NULL;
    }
    s->calls = (sandbox_calls){tool_compose_resolve_call, tool_compose_before, tool_compose_after, s, s->root};
    return s;
}

tool_compose_session *tool_compose_for_version(db *db, const config *cfg, int64_t version_id, int count)
{
    tool_compose_session *s = tool_compose_session_new(db, cfg, count);
    if (s) {
        s->root->version_id = version_id;
        s->root->slug = "";
    }
    return s;
}

tool_compose_session *tool_compose_for_draft(db *db, const config *cfg, const char *slug,
                                             const tool_compose_resolved *r, const tool_compose_owner *owner)
{
    tool_compose_session *s = tool_compose_session_new(db, cfg, 0);
    if (s) {
        s->root->deps = r->deps;
        s->root->dep_count = r->count;
        s->root->developer_id = owner->developer_id;
        s->root->developer_user_id = owner->user_id;
        s->root->slug = slug;
    }
    return s;
}

const sandbox_calls *tool_compose_calls(tool_compose_session *s)
{
    return s ? &s->calls : NULL;
}

void tool_compose_session_free(tool_compose_session *s)
{
    if (!s)
        return;
    for (tool_compose_node *n = s->nodes, *next; n; n = next) {
        next = n->next;
        tool_compose_entry_release(n->entry);
        free(n);
    }
    free(s);
}

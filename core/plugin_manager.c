#include "core/plugin_manager.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/body.h"
#include "core/hook_system.h"
#include "core/paging.h"
#include "core/sandbox.h"
#include "core/semver.h"
#include "core/tool_record.h"

#define PLUGIN_TIME(column) "DATE_FORMAT(" column ", '%Y-%m-%dT%H:%i:%sZ')"

/* Field names echo keys from outside: clipped so a huge key cannot make a huge answer. */
#define PLUGIN_KEY_ECHO 80

static json_t *plugin_oom(mkt_error *err)
{
    error_set(err, ERROR_INTERNAL, "out of memory");
    return NULL;
}

/* ---- reading a version's body ---------------------------------------------------------------------- */

typedef struct {
    const char *name; /* POST /plugins only */
    const char *version, *description;
    const json_t *hooks, *dependencies; /* dependencies NULL: none */
    int64_t priority;
} plugin_body;

static size_t plugin_utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void plugin_read_version(const json_t *body, plugin_body *b, mkt_error *err)
{
    const json_t *v = body_member(body, "version", JSON_STRING, err);
    if (v) {
        semver parsed;
        mkt_error parse_err = MKT_ERROR_INIT;
        if (strlen(json_string_value(v)) > SEMVER_MAX_LENGTH ||
            semver_parse(json_string_value(v), &parsed, &parse_err) < 0)
            error_add_field(err, "version", "must be a semantic version such as 1.0.0 (%s)",
                            parse_err.message ? parse_err.message : "too long");
        else
            b->version = json_string_value(v);
        semver_free(&parsed);
        error_clear(&parse_err);
    }
    const json_t *d = json_object_get(body, "description");
    if (d && !json_is_null(d) && !json_is_string(d))
        error_add_field(err, "description", "must be a string");
    else if (d && json_is_string(d) && plugin_utf8_length(json_string_value(d)) > PLUGIN_DESCRIPTION_MAX)
        error_add_field(err, "description", "at most %d characters", PLUGIN_DESCRIPTION_MAX);
    else
        b->description = json_is_string(d) ? json_string_value(d) : "";
    const json_t *p = json_object_get(body, "priority");
    int64_t priority = json_is_integer(p) ? json_integer_value(p) : 0;
    if (p && !json_is_null(p) &&
        (!json_is_integer(p) || priority < PLUGIN_PRIORITY_MIN || priority > PLUGIN_PRIORITY_MAX))
        error_add_field(err, "priority", "must be an integer from %d to %d", PLUGIN_PRIORITY_MIN, PLUGIN_PRIORITY_MAX);
    else
        b->priority = priority;
}

static void plugin_read_hooks(const json_t *body, plugin_body *b, mkt_error *err)
{
    const json_t *hooks = body_member(body, "hooks", JSON_OBJECT, err);
    if (!hooks)
        return;
    if (json_object_size(hooks) == 0) {
        error_add_field(err, "hooks", "must name at least one hook point (%s, %s or %s)", plugin_hook_names[0],
                        plugin_hook_names[1], plugin_hook_names[2]);
        return;
    }
    const char *key;
    const json_t *code;
    json_object_foreach((json_t *)hooks, key, code) {
        char field[PLUGIN_KEY_ECHO + 8], clip[PLUGIN_KEY_ECHO];
        snprintf(field, sizeof field, "hooks.%s", error_text_clip(clip, sizeof clip, key));
        if (plugin_hook_parse(key) < 0)
            error_add_field(err, field, "unknown hook point: must be one of %s, %s, %s", plugin_hook_names[0],
                            plugin_hook_names[1], plugin_hook_names[2]);
        else if (!json_is_string(code) || json_string_length(code) == 0)
            error_add_field(err, field, "must be Lua code (a non-empty string) defining hook(value, context)");
        else if (json_string_length(code) > PLUGIN_CODE_MAX)
            error_add_field(err, field, "at most %d bytes of code", PLUGIN_CODE_MAX);
    }
    b->hooks = hooks;
}

static void plugin_read_dependencies(db *db, const json_t *body, plugin_body *b, const char *self, mkt_error *err)
{
    const json_t *deps = json_object_get(body, "dependencies");
    if (!deps || json_is_null(deps))
        return;
    if (!json_is_object(deps)) {
        error_add_field(err, "dependencies", "must be an object {plugin name: semver range}");
        return;
    }
    if (json_object_size(deps) > PLUGIN_DEPENDENCIES_MAX) {
        error_add_field(err, "dependencies", "at most %d dependencies", PLUGIN_DEPENDENCIES_MAX);
        return;
    }
    const char *key;
    const json_t *range;
    json_object_foreach((json_t *)deps, key, range) {
        char field[PLUGIN_KEY_ECHO + 16], clip[PLUGIN_KEY_ECHO];
        snprintf(field, sizeof field, "dependencies.%s", error_text_clip(clip, sizeof clip, key));
        mkt_error parse_err = MKT_ERROR_INIT;
        semver_range *r = NULL;
        if (!plugin_name_valid(key))
            error_add_field(err, field, "a plugin name is 3 to 64 characters of a-z, 0-9 and -");
        else if (self && strcmp(key, self) == 0)
            error_add_field(err, field, "a plugin cannot depend on itself");
        else if (!json_is_string(range) || json_string_length(range) > SEMVER_RANGE_MAX_LENGTH ||
                 !(r = semver_range_parse(json_string_value(range), &parse_err)))
            error_add_field(err, field, "must be a semver range such as ^1.2.0 (%s)",
                            parse_err.message ? parse_err.message : "not a string of at most 1024 bytes");
        semver_range_free(r);
        error_clear(&parse_err);
    }
    if (error_is_set(err))
        return;
    json_object_foreach((json_t *)deps, key, range) {
        db_rows rows = {0};
        if (db_query(db, "SELECT 1 FROM plugins WHERE name = ?", DB_PARAMS(db_text(key)), &rows, err) < 0)
            return;
        if (rows.row_count == 0)
            error_add_field(err, "dependencies", "no plugin named %s", key);
        db_rows_free(&rows);
    }
    b->dependencies = deps;
}

/* Each hook compiles, runs its top level within the caps and defines hook(value, context); the checks
 * of one request share its sandbox budget, as a tool's publish does. */
static void plugin_check_hooks(const config *cfg, const json_t *hooks, mkt_error *err)
{
    tool_check_budget budget;
    tool_check_budget_start(&budget, cfg);
    const char *key;
    const json_t *code;
    json_object_foreach((json_t *)hooks, key, code) {
        char field[64];
        snprintf(field, sizeof field, "hooks.%s", key);
        sandbox_limits lim;
        if (hook_system_limits(cfg, &budget, &lim) < 0) {
            error_add_field(err, field, "not checked: the request's sandbox budget is spent");
            continue;
        }
        mkt_error lua_err = MKT_ERROR_INIT;
        sandbox_stats stats;
        if (sandbox_check_function(json_string_value(code), json_string_length(code), "hook", &lim, &stats,
                                   &lua_err) < 0)
            error_add_field(err, field, "%s", lua_err.message ? lua_err.message : "does not compile");
        budget.instructions_left -= stats.instructions;
        error_clear(&lua_err);
    }
}

static int plugin_read_body(db *db, const config *cfg, const json_t *body, int creating, const char *self,
                            plugin_body *b, mkt_error *err)
{
    memset(b, 0, sizeof *b);
    if (!json_is_object(body))
        return error_set(err, ERROR_VALIDATION,
                         "the body must be a JSON object {%sversion, description?, hooks, dependencies?, priority?}",
                         creating ? "name, " : "");
    static const char *const create_fields[] = {"name",  "version",      "description", "hooks",
                                                "dependencies", "priority", NULL};
    body_unknown_fields(body, creating ? create_fields : create_fields + 1, err);
    if (creating) {
        const json_t *name = body_member(body, "name", JSON_STRING, err);
        if (name && !plugin_name_valid(json_string_value(name)))
            error_add_field(err, "name", "must be 3 to 64 characters of a-z, 0-9 and -");
        else if (name)
            self = b->name = json_string_value(name);
    }
    plugin_read_version(body, b, err);
    plugin_read_hooks(body, b, err);
    if (err->kind == ERROR_NONE || err->kind == ERROR_VALIDATION)
        plugin_read_dependencies(db, body, b, self, err);
    /* compiling costs sandbox runs: only for a body that is otherwise right */
    if (!error_is_set(err))
        plugin_check_hooks(cfg, b->hooks, err);
    if (err->kind == ERROR_VALIDATION)
        return error_set(err, ERROR_VALIDATION, "invalid plugin version");
    return error_is_set(err) ? -1 : 0;
}

/* ---- the registry ------------------------------------------------------------------------------------ */

enum { PCOL_ID, PCOL_NAME, PCOL_DEVELOPER, PCOL_DESCRIPTION, PCOL_LATEST, PCOL_DEPRECATED, PCOL_CREATED, PCOL_UPDATED };
#define PLUGIN_COLUMNS                                                                                  \
    "SELECT id, name, developer_id, description, latest_version, deprecated, " PLUGIN_TIME("created_at") \
    ", " PLUGIN_TIME("updated_at") " FROM plugins"

static json_t *plugin_summary(const db_rows *rows, size_t i)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "name", db_rows_text(rows, i, PCOL_NAME), "description",
                     db_rows_text(rows, i, PCOL_DESCRIPTION), "latest_version", db_rows_text(rows, i, PCOL_LATEST),
                     "deprecated", (int)db_rows_int(rows, i, PCOL_DEPRECATED), "developer_id",
                     db_rows_text(rows, i, PCOL_DEVELOPER), "created_at", db_rows_text(rows, i, PCOL_CREATED),
                     "updated_at", db_rows_text(rows, i, PCOL_UPDATED));
}

/* The plugin row by name (404 when none); lock: FOR UPDATE inside a transaction. */
static int plugin_row(db *db, const char *name, int lock, db_rows *rows, mkt_error *err)
{
    if (!plugin_name_valid(name))
        return error_set(err, ERROR_NOT_FOUND, "no plugin with that name");
    if (db_query(db, lock ? PLUGIN_COLUMNS " WHERE name = ? FOR UPDATE" : PLUGIN_COLUMNS " WHERE name = ?",
                 DB_PARAMS(db_text(name)), rows, err) < 0)
        return -1;
    if (rows->row_count == 0) {
        db_rows_free(rows);
        return error_set(err, ERROR_NOT_FOUND, "no plugin named %s", name);
    }
    return 0;
}

static int plugin_owned(const db_rows *rows, const account_caller *caller, mkt_error *err)
{
    if (!caller || caller->developer_id == 0 || db_rows_int(rows, 0, PCOL_DEVELOPER) != caller->developer_id)
        return error_set(err, ERROR_FORBIDDEN, "only the plugin's developer may change it");
    return 0;
}

enum { VCOL_VERSION, VCOL_DESCRIPTION, VCOL_HOOKS, VCOL_DEPS, VCOL_PRIORITY, VCOL_CREATED };

static json_t *plugin_version_json(const db_rows *rows, size_t i, mkt_error *err)
{
    json_t *hooks = json_loads(db_rows_text(rows, i, VCOL_HOOKS), 0, NULL);
    json_t *deps = json_loads(db_rows_text(rows, i, VCOL_DEPS), 0, NULL);
    if (!hooks || !deps) {
        json_decref(hooks);
        json_decref(deps);
        error_set(err, ERROR_INTERNAL, "a stored plugin version does not parse");
        return NULL;
    }
    json_t *v = json_pack("{s:s, s:s, s:o, s:o, s:I, s:s}", "version", db_rows_text(rows, i, VCOL_VERSION),
                          "description", db_rows_text(rows, i, VCOL_DESCRIPTION), "hooks", hooks, "dependencies", deps,
                          "priority", (json_int_t)db_rows_int(rows, i, VCOL_PRIORITY), "created_at",
                          db_rows_text(rows, i, VCOL_CREATED));
    return v ? v : plugin_oom(err);
}

typedef struct {
    semver v;
    size_t row;
} plugin_sorted_version;

static int plugin_newest_first(const void *a, const void *b)
{
    return semver_compare(&((const plugin_sorted_version *)b)->v, &((const plugin_sorted_version *)a)->v);
}

/* The versions of plugin_id as JSON, newest first by semver precedence. */
static json_t *plugin_versions_json(db *db, int64_t plugin_id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT version, description, hooks, dependencies, priority, " PLUGIN_TIME("created_at")
                 " FROM plugin_versions WHERE plugin_id = ?",
                 DB_PARAMS(db_int(plugin_id)), &rows, err) < 0)
        return NULL;
    plugin_sorted_version *sorted = calloc(rows.row_count ? rows.row_count : 1, sizeof *sorted);
    json_t *list = sorted ? json_array() : NULL;
    for (size_t i = 0; list && i < rows.row_count; i++) {
        sorted[i].row = i;
        mkt_error ignored = MKT_ERROR_INIT;
        semver_parse(db_rows_text(&rows, i, VCOL_VERSION), &sorted[i].v, &ignored);
        error_clear(&ignored);
    }
    if (list)
        qsort(sorted, rows.row_count, sizeof *sorted, plugin_newest_first);
    for (size_t i = 0; list && i < rows.row_count; i++) {
        json_t *v = plugin_version_json(&rows, sorted[i].row, err);
        if (!v || json_array_append_new(list, v) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    for (size_t i = 0; sorted && i < rows.row_count; i++)
        semver_free(&sorted[i].v);
    free(sorted);
    db_rows_free(&rows);
    if (!list && !error_is_set(err))
        plugin_oom(err);
    return list;
}

json_t *plugin_manager_get(db *db, const char *name, mkt_error *err)
{
    db_rows rows = {0};
    if (plugin_row(db, name, 0, &rows, err) < 0)
        return NULL;
    json_t *out = plugin_summary(&rows, 0);
    json_t *versions = out ? plugin_versions_json(db, db_rows_int(&rows, 0, PCOL_ID), err) : NULL;
    db_rows_free(&rows);
    if (!versions || json_object_set_new(out, "versions", versions) < 0) {
        json_decref(out);
        return error_is_set(err) ? NULL : plugin_oom(err);
    }
    return out;
}

json_t *plugin_manager_list(db *db, const char *prefix, int64_t page, int64_t per_page, mkt_error *err)
{
    if (paging_check(page, per_page, err) < 0)
        return NULL;
    prefix = prefix ? prefix : "";
    /* the name alphabet has no LIKE wildcards, so the prefix is matched as written */
    for (const char *c = prefix; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-') || c - prefix >= PLUGIN_NAME_MAX) {
            error_set(err, ERROR_BAD_REQUEST, "q must be a name prefix: at most 64 characters of a-z, 0-9 and -");
            error_add_field(err, "q", "at most 64 characters of a-z, 0-9 and -");
            return NULL;
        }
    char like[PLUGIN_NAME_MAX + 2];
    snprintf(like, sizeof like, "%s%%", prefix);
    db_rows count = {0}, rows = {0};
    if (db_query(db, "SELECT COUNT(*) FROM plugins WHERE name LIKE ?", DB_PARAMS(db_text(like)), &count, err) < 0)
        return NULL;
    int64_t total = db_rows_int(&count, 0, 0);
    db_rows_free(&count);
    if (db_query(db, PLUGIN_COLUMNS " WHERE name LIKE ? ORDER BY name LIMIT ? OFFSET ?",
                 DB_PARAMS(db_text(like), db_int(per_page), db_int(paging_offset(page, per_page))), &rows, err) < 0)
        return NULL;
    json_t *items = json_array();
    for (size_t i = 0; items && i < rows.row_count; i++)
        if (json_array_append_new(items, plugin_summary(&rows, i)) < 0) {
            json_decref(items);
            items = NULL;
        }
    db_rows_free(&rows);
    return paging_list(items, total, page, per_page, err);
}

/* ---- publishing ---------------------------------------------------------------------------------------- */

typedef struct {
    const account_caller *caller;
    const plugin_body *b;
    char *hooks_text, *deps_text;
    int creating;
} plugin_publish_ctx;

static int plugin_insert_version(db *db, int64_t plugin_id, const plugin_publish_ctx *ctx, mkt_error *err)
{
    return db_exec(db,
                   "INSERT INTO plugin_versions (plugin_id, version, description, hooks, dependencies, priority)"
                   " VALUES (?, ?, ?, ?, ?, ?)",
                   DB_PARAMS(db_int(plugin_id), db_text(ctx->b->version), db_text(ctx->b->description),
                             db_text(ctx->hooks_text), db_text(ctx->deps_text), db_int(ctx->b->priority)),
                   NULL, err);
}

static int plugin_create_tx(db *db, void *arg, mkt_error *err)
{
    plugin_publish_ctx *ctx = arg;
    db_result r;
    if (db_exec(db, "INSERT INTO plugins (name, developer_id, description, latest_version) VALUES (?, ?, ?, ?)",
                DB_PARAMS(db_text(ctx->b->name), db_int(ctx->caller->developer_id), db_text(ctx->b->description),
                          db_text(ctx->b->version)),
                &r, err) < 0) {
        if (db_last_errno(db) != DB_ER_DUP_ENTRY)
            return -1;
        error_clear(err);
        error_set(err, ERROR_CONFLICT, "the plugin name %s is taken", ctx->b->name);
        return error_add_field(err, "name", "taken");
    }
    return plugin_insert_version(db, (int64_t)r.insert_id, ctx, err);
}

/* 409 unless version is greater than latest. */
static int plugin_version_grows(const char *version, const char *latest, mkt_error *err)
{
    semver v, l;
    mkt_error ignored = MKT_ERROR_INIT;
    int ok = semver_parse(version, &v, &ignored) == 0 && semver_parse(latest, &l, &ignored) == 0 &&
             semver_compare(&v, &l) > 0;
    semver_free(&v);
    semver_free(&l);
    error_clear(&ignored);
    if (ok)
        return 0;
    error_set(err, ERROR_CONFLICT, "version %s is not greater than the latest version %s", version, latest);
    return error_add_field(err, "version", "must be greater than %s", latest);
}

static int plugin_add_version_tx(db *db, void *arg, mkt_error *err)
{
    plugin_publish_ctx *ctx = arg;
    db_rows rows = {0};
    if (plugin_row(db, ctx->b->name, 1, &rows, err) < 0)
        return -1;
    int64_t id = db_rows_int(&rows, 0, PCOL_ID);
    int rc = plugin_owned(&rows, ctx->caller, err);
    if (rc == 0)
        rc = plugin_version_grows(ctx->b->version, db_rows_text(&rows, 0, PCOL_LATEST), err);
    db_rows_free(&rows);
    if (rc < 0 || plugin_insert_version(db, id, ctx, err) < 0)
        return -1;
    return db_exec(db,
                   "UPDATE plugins SET latest_version = ?, description = ?, updated_at = CURRENT_TIMESTAMP(6)"
                   " WHERE id = ?",
                   DB_PARAMS(db_text(ctx->b->version), db_text(ctx->b->description), db_int(id)), NULL, err);
}

static json_t *plugin_publish(db *db, const account_caller *caller, plugin_body *b, int creating, mkt_error *err)
{
    json_t *empty = json_object();
    plugin_publish_ctx ctx = {.caller = caller, .b = b, .creating = creating};
    ctx.hooks_text = json_dumps(b->hooks, JSON_COMPACT | JSON_SORT_KEYS);
    ctx.deps_text = json_dumps(b->dependencies ? b->dependencies : empty, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(empty);
    json_t *out = NULL;
    if (!ctx.hooks_text || !ctx.deps_text)
        plugin_oom(err);
    else if (db_transaction(db, creating ? plugin_create_tx : plugin_add_version_tx, &ctx, err) == 0)
        out = plugin_manager_get(db, b->name, err);
    free(ctx.hooks_text);
    free(ctx.deps_text);
    return out;
}

json_t *plugin_manager_create(db *db, const config *cfg, const account_caller *caller, const json_t *body,
                              mkt_error *err)
{
    if (!caller || caller->developer_id == 0) {
        error_set(err, ERROR_FORBIDDEN, "create a developer profile first (POST /developers)");
        return NULL;
    }
    plugin_body b;
    if (plugin_read_body(db, cfg, body, 1, NULL, &b, err) < 0)
        return NULL;
    return plugin_publish(db, caller, &b, 1, err);
}

json_t *plugin_manager_add_version(db *db, const config *cfg, const account_caller *caller, const char *name,
                                   const json_t *body, mkt_error *err)
{
    /* who may publish is decided before the code is compiled, and again under the row lock */
    db_rows rows = {0};
    if (plugin_row(db, name, 0, &rows, err) < 0)
        return NULL;
    int rc = plugin_owned(&rows, caller, err);
    db_rows_free(&rows);
    plugin_body b;
    if (rc < 0 || plugin_read_body(db, cfg, body, 0, name, &b, err) < 0)
        return NULL;
    b.name = name;
    return plugin_publish(db, caller, &b, 0, err);
}

json_t *plugin_manager_update(db *db, const account_caller *caller, const char *name, const json_t *body,
                              mkt_error *err)
{
    db_rows rows = {0};
    if (plugin_row(db, name, 0, &rows, err) < 0)
        return NULL;
    int rc = plugin_owned(&rows, caller, err);
    int64_t id = db_rows_int(&rows, 0, PCOL_ID);
    db_rows_free(&rows);
    if (rc < 0)
        return NULL;
    static const char *const allowed[] = {"deprecated", NULL};
    if (!json_is_object(body)) {
        error_set(err, ERROR_VALIDATION, "the body must be a JSON object {deprecated}");
        return NULL;
    }
    body_unknown_fields(body, allowed, err);
    const json_t *d = body_member(body, "deprecated", JSON_TRUE, err); /* either boolean */
    if (error_is_set(err)) {
        error_set(err, ERROR_VALIDATION, "invalid plugin update");
        return NULL;
    }
    if (db_exec(db, "UPDATE plugins SET deprecated = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
                DB_PARAMS(db_int(json_is_true(d)), db_int(id)), NULL, err) < 0)
        return NULL;
    return plugin_manager_get(db, name, err);
}

/* ---- a tool's plugin set ----------------------------------------------------------------------------- */

/* What resolution reads of one plugin: its versions' ids, numbers, priorities and dependencies, rows
 * [first, first + n) of rows (its own query's, or the batch the requested plugins came in). */
typedef struct {
    plugin_resolve_plugin p;
    db_rows own;
    const db_rows *rows;
    size_t first, n;
    plugin_resolve_version *versions;
    plugin_resolve_dep *deps;
    json_t **deps_json;
} plugin_loaded;

typedef struct {
    db *db;
    db_rows batch; /* the plugins the tool asked for, in one query */
    plugin_loaded items[PLUGIN_RESOLVED_MAX];
    size_t count;
} plugin_find_ctx;

#define PLUGIN_FIND_SQL                                                    \
    "SELECT p.name, p.deprecated, v.id, v.version, v.priority, v.dependencies" \
    " FROM plugins p JOIN plugin_versions v ON v.plugin_id = p.id WHERE p.name "
enum { FCOL_NAME, FCOL_DEPRECATED, FCOL_VID, FCOL_VERSION, FCOL_PRIORITY, FCOL_DEPS };

static void plugin_loaded_free(plugin_loaded *l)
{
    for (size_t i = 0; l->deps_json && i < l->n; i++)
        json_decref(l->deps_json[i]);
    free(l->deps_json);
    free(l->versions);
    free(l->deps);
    db_rows_free(&l->own);
}

/* Fills l's versions from its rows: every dependency object becomes {name, range} pairs. */
static int plugin_loaded_fill(plugin_loaded *l, mkt_error *err)
{
    size_t n = l->n, dep_total = 0;
    l->p.name = db_rows_text(l->rows, l->first, FCOL_NAME);
    l->p.deprecated = (int)db_rows_int(l->rows, l->first, FCOL_DEPRECATED);
    l->versions = calloc(n, sizeof *l->versions);
    l->deps_json = calloc(n, sizeof *l->deps_json);
    if (!l->versions || !l->deps_json)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        l->deps_json[i] = json_loads(db_rows_text(l->rows, l->first + i, FCOL_DEPS), 0, NULL);
        if (!json_is_object(l->deps_json[i]))
            return error_set(err, ERROR_INTERNAL, "stored dependencies of %s do not parse", l->p.name);
        dep_total += json_object_size(l->deps_json[i]);
    }
    l->deps = calloc(dep_total ? dep_total : 1, sizeof *l->deps);
    if (!l->deps)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t row = l->first + i;
        plugin_resolve_version *v = &l->versions[i];
        *v = (plugin_resolve_version){db_rows_int(l->rows, row, FCOL_VID), db_rows_text(l->rows, row, FCOL_VERSION),
                                      db_rows_int(l->rows, row, FCOL_PRIORITY), &l->deps[at], 0};
        const char *key;
        json_t *range;
        json_object_foreach(l->deps_json[i], key, range) {
            l->deps[at++] = (plugin_resolve_dep){key, json_string_value(range)};
            v->dep_count++;
        }
    }
    l->p.versions = l->versions;
    l->p.version_count = n;
    return 0;
}

/* Loads the plugins the tool asked for in one query (ordered by name, so each plugin's rows are
 * together); their dependencies are read one by one as resolution reaches them. */
static int plugin_prefetch(plugin_find_ctx *ctx, const plugin_resolve_request *req, size_t n, mkt_error *err)
{
    db_value params[PLUGIN_SET_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (plugin_name_valid(req[i].name))
            params[k++] = db_text(req[i].name);
    if (k == 0)
        return 0;
    char *sql = db_sql_rows(PLUGIN_FIND_SQL "IN (", "?", ") ORDER BY p.name, v.id", k, err);
    int rc = sql ? db_query(ctx->db, sql, params, k, &ctx->batch, err) : -1;
    free(sql);
    for (size_t row = 0; rc == 0 && row < ctx->batch.row_count; ctx->count++) {
        plugin_loaded *l = &ctx->items[ctx->count];
        memset(l, 0, sizeof *l);
        l->rows = &ctx->batch;
        l->first = row;
        const char *name = db_rows_text(&ctx->batch, row, FCOL_NAME);
        while (row < ctx->batch.row_count && strcmp(db_rows_text(&ctx->batch, row, FCOL_NAME), name) == 0)
            row++;
        l->n = row - l->first;
        rc = plugin_loaded_fill(l, err);
    }
    return rc;
}

static const plugin_resolve_plugin *plugin_find(void *arg, const char *name, mkt_error *err)
{
    plugin_find_ctx *ctx = arg;
    for (size_t i = 0; i < ctx->count; i++)
        if (strcmp(ctx->items[i].p.name, name) == 0)
            return &ctx->items[i].p;
    if (ctx->count == PLUGIN_RESOLVED_MAX || !plugin_name_valid(name))
        return NULL;
    plugin_loaded *l = &ctx->items[ctx->count];
    memset(l, 0, sizeof *l);
    if (db_query(ctx->db, PLUGIN_FIND_SQL "= ? ORDER BY v.id", DB_PARAMS(db_text(name)), &l->own, err) < 0)
        return NULL;
    if (l->own.row_count == 0) {
        db_rows_free(&l->own);
        return NULL;
    }
    ctx->count++;
    l->rows = &l->own;
    l->n = l->own.row_count;
    return plugin_loaded_fill(l, err) < 0 ? NULL : &l->p;
}

/* Member name of a PUT item: a string of at most max bytes, else NULL with "<field>.<name>: ...". */
static const char *plugin_set_member(const json_t *item, const char *field, const char *name, size_t max,
                                     mkt_error *err)
{
    const json_t *v = json_object_get(item, name);
    char at[80];
    snprintf(at, sizeof at, "%s.%s", field, name);
    if (!v)
        error_add_field(err, at, "is required");
    else if (!json_is_string(v))
        error_add_field(err, at, "must be a string");
    else if (json_string_length(v) > max)
        error_add_field(err, at, "at most %zu bytes", max);
    else
        return json_string_value(v);
    return NULL;
}

/* The PUT body: [{name, range}] with field errors naming plugins[i].name / .range. */
static int plugin_read_set(const json_t *body, plugin_resolve_request *req, size_t *n, mkt_error *err)
{
    *n = 0;
    if (!json_is_array(body))
        return error_set(err, ERROR_VALIDATION, "the body must be a JSON array [{name, range}]");
    if (json_array_size(body) > PLUGIN_SET_MAX) {
        error_set(err, ERROR_VALIDATION, "a tool may ask for at most %d plugins", PLUGIN_SET_MAX);
        return error_add_field(err, "plugins", "at most %d plugins (got %zu)", PLUGIN_SET_MAX, json_array_size(body));
    }
    for (size_t i = 0; i < json_array_size(body); i++) {
        const json_t *item = json_array_get(body, i);
        char field[64];
        snprintf(field, sizeof field, "plugins[%zu]", i);
        if (!json_is_object(item)) {
            error_add_field(err, field, "must be an object {name, range}");
            continue;
        }
        const char *key;
        const json_t *value;
        json_object_foreach((json_t *)item, key, value)
            if (strcmp(key, "name") != 0 && strcmp(key, "range") != 0) {
                char clip[PLUGIN_KEY_ECHO];
                error_add_field(err, field, "unknown field %s", error_text_clip(clip, sizeof clip, key));
            }
        req[i].name = plugin_set_member(item, field, "name", PLUGIN_NAME_MAX, err);
        req[i].range = plugin_set_member(item, field, "range", SEMVER_RANGE_MAX_LENGTH, err);
    }
    *n = json_array_size(body);
    return error_is_set(err) ? error_set(err, ERROR_VALIDATION, "invalid plugin set") : 0;
}

typedef struct {
    int64_t tool_id;
    const plugin_resolve_request *req;
    size_t n;
    const plugin_resolve_item *items;
    size_t item_count;
} plugin_store_ctx;

static int plugin_store_tx(db *db, void *arg, mkt_error *err)
{
    plugin_store_ctx *ctx = arg;
    if (tool_record_lock(db, ctx->tool_id, err) < 0 ||
        db_exec(db, "DELETE FROM tool_plugin_requests WHERE tool_id = ?", DB_PARAMS(db_int(ctx->tool_id)), NULL,
                err) < 0 ||
        db_exec(db, "DELETE FROM tool_plugins WHERE tool_id = ?", DB_PARAMS(db_int(ctx->tool_id)), NULL, err) < 0)
        return -1;
    size_t rows = ctx->n > ctx->item_count ? ctx->n : ctx->item_count;
    db_value *params = calloc(rows ? rows * 4 : 1, sizeof *params);
    if (!params)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < ctx->n; i++) {
        params[i * 4] = db_int(ctx->tool_id);
        params[i * 4 + 1] = db_int((int64_t)i);
        params[i * 4 + 2] = db_text(ctx->req[i].name);
        params[i * 4 + 3] = db_text(ctx->req[i].range);
    }
    if (ctx->n)
        rc = db_exec_row_batches(db, "INSERT INTO tool_plugin_requests (tool_id, position, name, range_text) VALUES ",
                                 "(?, ?, ?, ?)", params, 4, ctx->n, PLUGIN_SET_MAX, err);
    for (size_t i = 0; rc == 0 && i < ctx->item_count; i++) {
        params[i * 3] = db_int(ctx->tool_id);
        params[i * 3 + 1] = db_int((int64_t)i);
        params[i * 3 + 2] = db_int(ctx->items[i].version->id);
    }
    if (rc == 0 && ctx->item_count)
        rc = db_exec_row_batches(db, "INSERT INTO tool_plugins (tool_id, position, plugin_version_id) VALUES ",
                                 "(?, ?, ?)", params, 3, ctx->item_count, PLUGIN_RESOLVED_MAX, err);
    free(params);
    return rc < 0 ? -1 : tool_record_plugins_touch(db, ctx->tool_id, err);
}

json_t *plugin_manager_tool_set(db *db, const account_caller *caller, const char *ref, const json_t *body,
                                mkt_error *err)
{
    tool_record_glance g;
    if (tool_record_glance_find(db, ref, caller, &g, err) < 0)
        return NULL;
    if (!tool_record_glance_owned(&g, caller)) {
        error_set(err, ERROR_FORBIDDEN, "only the tool's developer may set its plugins");
        return NULL;
    }
    plugin_resolve_request req[PLUGIN_SET_MAX];
    size_t n;
    if (plugin_read_set(body, req, &n, err) < 0)
        return NULL;
    plugin_find_ctx *fctx = calloc(1, sizeof *fctx);
    if (!fctx)
        return plugin_oom(err);
    fctx->db = db;
    plugin_resolve_item *items = NULL;
    size_t item_count = 0;
    json_t *out = NULL;
    if (plugin_prefetch(fctx, req, n, err) == 0 &&
        plugin_resolve(req, n, plugin_find, fctx, &items, &item_count, err) == 0) {
        plugin_store_ctx sctx = {g.id, req, n, items, item_count};
        if (db_transaction(db, plugin_store_tx, &sctx, err) == 0)
            out = plugin_manager_tool_get(db, caller, ref, err);
    }
    free(items);
    for (size_t i = 0; i < fctx->count; i++)
        plugin_loaded_free(&fctx->items[i]);
    db_rows_free(&fctx->batch);
    free(fctx);
    return out;
}

static json_t *plugin_hook_list(const char *hooks_text)
{
    json_t *hooks = json_loads(hooks_text, 0, NULL);
    json_t *list = json_array();
    for (int h = 0; list && h < PLUGIN_HOOK_COUNT; h++)
        if (json_object_get(hooks, plugin_hook_names[h]))
            json_array_append_new(list, json_string(plugin_hook_names[h]));
    json_decref(hooks);
    return list;
}

json_t *plugin_manager_tool_get(db *db, const account_caller *caller, const char *ref, mkt_error *err)
{
    tool_record_glance g;
    if (tool_record_glance_find(db, ref, caller, &g, err) < 0)
        return NULL;
    db_rows req = {0}, chain = {0};
    if (db_query(db, "SELECT name, range_text FROM tool_plugin_requests WHERE tool_id = ? ORDER BY position",
                 DB_PARAMS(db_int(g.id)), &req, err) < 0)
        return NULL;
    if (db_query(db,
                 "SELECT p.name, v.version, v.priority, p.deprecated, v.hooks FROM tool_plugins tp"
                 " JOIN plugin_versions v ON v.id = tp.plugin_version_id JOIN plugins p ON p.id = v.plugin_id"
                 " WHERE tp.tool_id = ? ORDER BY tp.position",
                 DB_PARAMS(db_int(g.id)), &chain, err) < 0) {
        db_rows_free(&req);
        return NULL;
    }
    json_t *requested = json_array(), *plugins = json_array();
    for (size_t i = 0; requested && i < req.row_count; i++)
        json_array_append_new(requested, json_pack("{s:s, s:s}", "name", db_rows_text(&req, i, 0), "range",
                                                   db_rows_text(&req, i, 1)));
    for (size_t i = 0; plugins && i < chain.row_count; i++)
        json_array_append_new(plugins, json_pack("{s:s, s:s, s:I, s:b, s:o}", "name", db_rows_text(&chain, i, 0),
                                                 "version", db_rows_text(&chain, i, 1), "priority",
                                                 (json_int_t)db_rows_int(&chain, i, 2), "deprecated",
                                                 (int)db_rows_int(&chain, i, 3), "hooks",
                                                 plugin_hook_list(db_rows_text(&chain, i, 4))));
    db_rows_free(&req);
    db_rows_free(&chain);
    json_t *out = json_pack("{s:o*, s:o*}", "requested", requested, "plugins", plugins);
    return out ? out : plugin_oom(err);
}

/* ---- chains for core/hook_system -------------------------------------------------------------------- */

void plugin_manager_chain_free(plugin_manager_chain *c)
{
    for (size_t i = 0; c->entries && i < c->count; i++) {
        free(c->entries[i].name);
        free(c->entries[i].version);
        for (int h = 0; h < PLUGIN_HOOK_COUNT; h++)
            free(c->entries[i].code[h]);
    }
    free(c->entries);
    memset(c, 0, sizeof *c);
}

static int plugin_chain_entry_fill(plugin_manager_chain_entry *e, const db_rows *rows, size_t i, size_t *bytes)
{
    e->name = strdup(db_rows_text(rows, i, 0));
    e->version = strdup(db_rows_text(rows, i, 1));
    json_t *hooks = json_loads(db_rows_text(rows, i, 2), 0, NULL);
    if (!e->name || !e->version || !hooks) {
        json_decref(hooks);
        return -1;
    }
    for (int h = 0; h < PLUGIN_HOOK_COUNT; h++) {
        const json_t *code = json_object_get(hooks, plugin_hook_names[h]);
        if (!json_is_string(code))
            continue;
        e->code_len[h] = json_string_length(code);
        e->code[h] = malloc(e->code_len[h] + 1);
        if (!e->code[h]) {
            json_decref(hooks);
            return -1;
        }
        memcpy(e->code[h], json_string_value(code), e->code_len[h] + 1);
        *bytes += e->code_len[h];
    }
    json_decref(hooks);
    return 0;
}

int plugin_manager_chain_load(db *db, int64_t tool_id, plugin_manager_chain *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT p.name, v.version, v.hooks FROM tool_plugins tp"
                 " JOIN plugin_versions v ON v.id = tp.plugin_version_id JOIN plugins p ON p.id = v.plugin_id"
                 " WHERE tp.tool_id = ? ORDER BY tp.position",
                 DB_PARAMS(db_int(tool_id)), &rows, err) < 0)
        return -1;
    out->entries = calloc(rows.row_count ? rows.row_count : 1, sizeof *out->entries);
    int rc = out->entries ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < rows.row_count; i++, out->count++)
        rc = plugin_chain_entry_fill(&out->entries[i], &rows, i, &out->code_bytes);
    db_rows_free(&rows);
    if (rc < 0) {
        plugin_manager_chain_free(out);
        return error_set(err, ERROR_INTERNAL, "out of memory reading a plugin chain");
    }
    return 0;
}

/* PluginManager: the plugin registry and each tool's plugin set. Owns the tables plugins,
 * plugin_versions, tool_plugin_requests and tool_plugins; moves tools.plugins_version through
 * core/tool_record. Resolution itself is core/plugin_resolve (pure); running chains is core/hook_system.
 *
 * A plugin version: {name, version, description, hooks{point: code}, dependencies{name: range},
 * priority}. Names are [a-z0-9-]{3,64} and belong to the developer who published the first version;
 * versions are immutable and must grow (semver precedence, 409 otherwise). Before a version is stored
 * each hook's code is compiled and run at top level in the sandbox and must define hook(value,
 * context) (422 naming "hooks.<point>" with the Lua error). Unknown hook points, dependencies on a
 * plugin that does not exist (or on itself) and ranges that do not parse are 422 naming the field.
 * A deprecated plugin (PATCH /plugins/{name} {deprecated}) stays resolvable and is flagged in every view.
 *
 * Errors: 401/403 (not a developer, not the owner: 403), 404 unknown plugin or tool, 409 name taken or
 * version not greater than the latest, 422 invalid body or a plugin set that does not resolve. */
#ifndef CORE_PLUGIN_MANAGER_H
#define CORE_PLUGIN_MANAGER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "core/plugin_resolve.h"
#include "sql/db.h"

#define PLUGIN_CODE_MAX (64 * 1024)     /* bytes of one hook's code */
#define PLUGIN_DESCRIPTION_MAX 1000     /* characters */

/* POST /plugins {name, version, description?, hooks, dependencies?, priority?} -> 201 the plugin (as
 * plugin_manager_get). 409 when the name is taken. */
json_t *plugin_manager_create(db *db, const config *cfg, const account_caller *caller, const json_t *body,
                              mkt_error *err);

/* POST /plugins/{name}/versions {version, description?, hooks, dependencies?, priority?} -> 201 the
 * plugin. Owner only (403). */
json_t *plugin_manager_add_version(db *db, const config *cfg, const account_caller *caller, const char *name,
                                   const json_t *body, mkt_error *err);

/* PATCH /plugins/{name} {deprecated: bool} -> the plugin. Owner only. */
json_t *plugin_manager_update(db *db, const account_caller *caller, const char *name, const json_t *body,
                              mkt_error *err);

/* GET /plugins?q=&page=&per_page= -> paged {items[{name, description, latest_version, deprecated,
 * developer_id, created_at, updated_at}]} by name; q is a name prefix ([a-z0-9-]{0,64}, 400 otherwise). */
json_t *plugin_manager_list(db *db, const char *prefix, int64_t page, int64_t per_page, mkt_error *err);

/* GET /plugins/{name} -> {name, description, latest_version, deprecated, developer_id, created_at,
 * updated_at, versions[{version, description, hooks, dependencies, priority, created_at}] newest first}. */
json_t *plugin_manager_get(db *db, const char *name, mkt_error *err);

/* PUT /tools/{tool}/plugins [{name, range}] (at most PLUGIN_SET_MAX) -> 200 as plugin_manager_tool_get.
 * Tool owner only (403; 404 for a tool the caller cannot see). Resolves and stores the chain and moves
 * the tool's plugins_version in one transaction. */
json_t *plugin_manager_tool_set(db *db, const account_caller *caller, const char *ref, const json_t *body,
                                mkt_error *err);

/* GET /tools/{tool}/plugins -> {requested[{name, range}], plugins[{name, version, priority, deprecated,
 * hooks[points]}]} in execution order. caller may be NULL. */
json_t *plugin_manager_tool_get(db *db, const account_caller *caller, const char *ref, mkt_error *err);

/* ---- for core/hook_system ---- */

/* One plugin of a stored chain with its hook code by point (NULL: no hook there). */
typedef struct {
    char *name, *version;
    char *code[PLUGIN_HOOK_COUNT];
    size_t code_len[PLUGIN_HOOK_COUNT];
} plugin_manager_chain_entry;

typedef struct {
    plugin_manager_chain_entry *entries;
    size_t count;
    size_t code_bytes; /* all hook code together */
} plugin_manager_chain;

/* The stored chain of tool_id in execution order (empty when it has none). */
int plugin_manager_chain_load(db *db, int64_t tool_id, plugin_manager_chain *out, mkt_error *err);
void plugin_manager_chain_free(plugin_manager_chain *c);

#endif

/* HookSystem: runs a tool's stored plugin chain at one hook point. Owns no table: the chain is read
 * through core/plugin_manager (tool_plugins joined with the published versions' hook code).
 *
 * Hooks are filters: each hook(value, context) gets the value the previous one returned and returns the
 * value for the next; the chain's result goes on (a tool's input to its input schema and code, its
 * output to its output schema, a review to the review rules). Each hook runs in a fresh sandbox with
 * the sandbox caps from config, lowered to what is left of the request's budget when one is given.
 * context is the caller's object plus {hook, plugin, plugin_version}.
 *
 * A failing hook stops the chain: 422 (ERROR_VALIDATION) whose message names the plugin, its version
 * and the hook ("plugin upper 1.0.0, hook tool:beforeExecute: hook error: code:2: ..."), with the
 * field "plugins.<name>". That covers the hook's own error() (how review:beforeCreate rejects a
 * review: error("message", 0) shows the author "message"), every cap (instructions, memory, time,
 * output size), a value that does not convert to JSON (a function), and nil or json.null returned
 * (a filter must hand a value on).
 *
 * Caching: the chain of each tool is cached in the worker (HOOK_SYSTEM_CACHE_SLOTS tools, chains of
 * at most HOOK_SYSTEM_CACHE_CODE_MAX bytes of code), keyed by the tool's plugins_version
 * (tools.plugins_version, read with the tool by tool_record_target_load and tool_record_glance_find),
 * which moves whenever the owner sets a new plugin set. A matching version costs no query; a tool
 * whose plugins_version is 0 never had plugins and costs nothing. Published versions never change, so
 * the cached code is never stale. */
#ifndef CORE_HOOK_SYSTEM_H
#define CORE_HOOK_SYSTEM_H

#include <jansson.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/plugin_manager.h"
#include "core/plugin_resolve.h"
#include "core/sandbox.h"
#include "core/tool_check.h"
#include "sql/db.h"

#define HOOK_SYSTEM_CACHE_SLOTS 64
#define HOOK_SYSTEM_CACHE_CODE_MAX (1024 * 1024)

/* Runs tool_id's chain at `point` over value and returns the final value (a new reference; value
 * itself, referenced again, when no plugin of the chain has a hook there), or NULL with err set.
 *   plugins_version: the tool's tools.plugins_version as read with the tool (0: no chain, no query);
 *   context: a JSON object the hooks get as their second argument (NULL: {});
 *   budget: the request's sandbox budget every hook draws from (NULL: each hook gets the full caps);
 *   trace: when not NULL, an array that gets {plugin, version, hook, duration_us, changed} per hook run
 *          (the failing one included, with changed false). */
json_t *hook_system_run_chain(db *db, const config *cfg, int64_t tool_id, int64_t plugins_version,
                              plugin_hook point, const json_t *value, const json_t *context,
                              tool_check_budget *budget, json_t *trace, mkt_error *err);

/* The same over a chain already in hand (what run_chain does once it has the chain; the in-process
 * benchmark calls it). chain NULL: no plugins. */
json_t *hook_system_run_loaded(const config *cfg, const plugin_manager_chain *chain, plugin_hook point,
                               const json_t *value, const json_t *context, tool_check_budget *budget, json_t *trace,
                               mkt_error *err);

/* The sandbox caps for one run: cfg's, lowered to what is left of budget (NULL: none). 0, or -1 when
 * the budget is spent. Also for the other runs of a request that has hooks (publishing a plugin's
 * hooks, the tool's own run between its chains), so the request's code never outlasts the budget. */
int hook_system_limits(const config *cfg, const tool_check_budget *budget, sandbox_limits *lim);

/* Drops the worker's cached chains (tests and benchmarks measuring the first run). */
void hook_system_cache_clear(void);

#endif

#include "core/hook_system.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/plugin_manager.h"
#include "core/sandbox.h"

/* ---- the worker's cache of chains ------------------------------------------------------------------ */

typedef struct {
    int64_t tool_id, plugins_version; /* tool_id 0: empty slot */
    uint64_t used;                    /* last use, for eviction */
    plugin_manager_chain chain;
} hook_cache_slot;

static hook_cache_slot hook_cache[HOOK_SYSTEM_CACHE_SLOTS];
static uint64_t hook_cache_clock;

void hook_system_cache_clear(void)
{
    for (size_t i = 0; i < HOOK_SYSTEM_CACHE_SLOTS; i++) {
        plugin_manager_chain_free(&hook_cache[i].chain);
        memset(&hook_cache[i], 0, sizeof hook_cache[i]);
    }
}

/* The slot holding tool_id (any version), else the least recently used one. */
static hook_cache_slot *hook_cache_slot_for(int64_t tool_id)
{
    hook_cache_slot *oldest = &hook_cache[0];
    for (size_t i = 0; i < HOOK_SYSTEM_CACHE_SLOTS; i++) {
        if (hook_cache[i].tool_id == tool_id)
            return &hook_cache[i];
        if (hook_cache[i].used < oldest->used)
            oldest = &hook_cache[i];
    }
    return oldest;
}

/* The chain for (tool_id, plugins_version): cached, or loaded (and cached when small enough). *owned
 * is set when the caller must free the returned chain (too large to keep). */
static const plugin_manager_chain *hook_chain_get(db *db, int64_t tool_id, int64_t plugins_version,
                                                  plugin_manager_chain *owned, mkt_error *err)
{
    hook_cache_slot *slot = hook_cache_slot_for(tool_id);
    if (slot->tool_id == tool_id && slot->plugins_version == plugins_version) {
        slot->used = ++hook_cache_clock;
        return &slot->chain;
    }
    plugin_manager_chain chain;
    if (plugin_manager_chain_load(db, tool_id, &chain, err) < 0)
        return NULL;
    plugin_manager_chain_free(&slot->chain);
    memset(slot, 0, sizeof *slot);
    if (chain.code_bytes > HOOK_SYSTEM_CACHE_CODE_MAX) {
        *owned = chain;
        return owned;
    }
    *slot = (hook_cache_slot){tool_id, plugins_version, ++hook_cache_clock, chain};
    return &slot->chain;
}

/* ---- running ------------------------------------------------------------------------------------- */

static int64_t hook_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int hook_system_limits(const config *cfg, const tool_check_budget *budget, sandbox_limits *lim)
{
    *lim = sandbox_limits_from_config(cfg);
    if (!budget)
        return 0;
    int64_t left_ms = (budget->deadline_ns - hook_now_ns()) / 1000000;
    if (left_ms <= 0 || budget->instructions_left <= 0)
        return -1;
    if (left_ms < lim->timeout_ms)
        lim->timeout_ms = left_ms;
    if (budget->instructions_left < lim->instructions)
        lim->instructions = budget->instructions_left;
    return 0;
}

/* The hooks' second argument: the caller's object plus {hook, plugin, plugin_version}; one copy per
 * chain, its plugin fields rewritten before each hook (the sandbox converts it, never keeps it). */
static json_t *hook_context_new(const json_t *base, plugin_hook point)
{
    json_t *ctx = json_is_object(base) ? json_copy((json_t *)base) : json_object();
    if (ctx && json_object_set_new(ctx, "hook", json_string(plugin_hook_names[point])) < 0) {
        json_decref(ctx);
        return NULL;
    }
    return ctx;
}

static int hook_context_for(json_t *ctx, const plugin_manager_chain_entry *e)
{
    return json_object_set_new(ctx, "plugin", json_string(e->name)) < 0 ||
                   json_object_set_new(ctx, "plugin_version", json_string(e->version)) < 0
               ? -1
               : 0;
}

static int hook_trace_add(json_t *trace, const plugin_manager_chain_entry *e, plugin_hook point, int64_t us,
                          int changed, mkt_error *err)
{
    if (!trace)
        return 0;
    if (json_array_append_new(trace, json_pack("{s:s, s:s, s:s, s:I, s:b}", "plugin", e->name, "version",
                                               e->version, "hook", plugin_hook_names[point], "duration_us",
                                               (json_int_t)us, "changed", changed)) < 0)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    return 0;
}

/* Rewrites a hook's failure as the chain's: the plugin, version and hook in front of the reason. */
static void hook_fail(const plugin_manager_chain_entry *e, plugin_hook point, mkt_error *err, const char *why)
{
    if (err->kind == ERROR_INTERNAL)
        return;
    char *reason = tool_check_error_text(err);
    const char *text = why ? why : reason ? reason : "failed";
    mkt_error out = MKT_ERROR_INIT;
    error_set(&out, ERROR_VALIDATION, "plugin %s %s, hook %s: %s", e->name, e->version, plugin_hook_names[point],
              text);
    error_add_field(&out, "plugins", "%s %s (%s): %s", e->name, e->version, plugin_hook_names[point], text);
    free(reason);
    error_move(err, &out);
}

/* One hook over value: the new value, or NULL with err set (already naming the plugin). */
static json_t *hook_run_one(const config *cfg, const plugin_manager_chain_entry *e, plugin_hook point,
                            const json_t *value, json_t *ctx, tool_check_budget *budget, json_t *trace, mkt_error *err)
{
    sandbox_limits lim;
    if (hook_system_limits(cfg, budget, &lim) < 0) {
        hook_fail(e, point, err, "not run: the request's sandbox budget is spent");
        return NULL;
    }
    if (hook_context_for(ctx, e) < 0) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    sandbox_stats stats;
    json_t *out = sandbox_call_with(e->code[point], e->code_len[point], "hook", value, ctx, &lim, &stats, err);
    if (budget)
        budget->instructions_left -= stats.instructions;
    const char *why = NULL;
    if (out && json_is_null(out)) {
        why = "the hook returned nil (a filter must return the value for the next step)";
        error_set(err, ERROR_VALIDATION, "%s", why);
        json_decref(out);
        out = NULL;
    }
    /* only a trace tells whether the value changed: the comparison is not paid otherwise */
    int changed = trace && out && !json_equal(out, (json_t *)value);
    if (hook_trace_add(trace, e, point, stats.duration_us, changed, err) < 0) {
        json_decref(out);
        return NULL;
    }
    if (!out)
        hook_fail(e, point, err, why);
    return out;
}

json_t *hook_system_run_loaded(const config *cfg, const plugin_manager_chain *chain, plugin_hook point,
                               const json_t *value, const json_t *context, tool_check_budget *budget, json_t *trace,
                               mkt_error *err)
{
    if ((unsigned)point >= PLUGIN_HOOK_COUNT || !value) {
        error_set(err, ERROR_INTERNAL, "hook chain called without a hook point or a value");
        return NULL;
    }
    json_t *current = json_incref((json_t *)value), *ctx = NULL;
    for (size_t i = 0; current && chain && i < chain->count; i++) {
        const plugin_manager_chain_entry *e = &chain->entries[i];
        if (!e->code[point])
            continue;
        if (!ctx && !(ctx = hook_context_new(context, point))) {
            error_set(err, ERROR_INTERNAL, "out of memory");
            json_decref(current);
            return NULL;
        }
        json_t *next = hook_run_one(cfg, e, point, current, ctx, budget, trace, err);
        json_decref(current);
        current = next;
    }
    json_decref(ctx);
    return current;
}

json_t *hook_system_run_chain(db *db, const config *cfg, int64_t tool_id, int64_t plugins_version,
                              plugin_hook point, const json_t *value, const json_t *context,
                              tool_check_budget *budget, json_t *trace, mkt_error *err)
{
    if (plugins_version == 0)
        return hook_system_run_loaded(cfg, NULL, point, value, context, budget, trace, err);
    plugin_manager_chain owned = {0};
    const plugin_manager_chain *chain = hook_chain_get(db, tool_id, plugins_version, &owned, err);
    json_t *out = chain ? hook_system_run_loaded(cfg, chain, point, value, context, budget, trace, err) : NULL;
    plugin_manager_chain_free(&owned);
    return out;
}

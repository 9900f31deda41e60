/* Plugins' pure rules: names, hook points, and dependency resolution. No database, no Lua: the
 * registry (core/plugin_manager) feeds it what it reads, the unit tests and the fuzz target feed it
 * tables.
 *
 * Resolution (PUT /tools/{tool}/plugins): the tool asks for plugins by name and semver range; each
 * chosen version names its dependencies the same way. Every plugin reached gets the highest version
 * that satisfies every range on it (pre-releases only where a range names the same MAJOR.MINOR.PATCH
 * with a pre-release, as npm does: core/semver). Choices move dependencies, so this repeats until no
 * choice changes (a fixed point; at most PLUGIN_RESOLVE_ROUNDS rounds). The result is in execution
 * order: dependencies before dependents, and among the plugins free to go next, lower priority first,
 * then name (byte order), so the same set always gives the same order. Everything is iterative (work
 * lists, no recursion), so deep chains and large sets cost no C stack.
 *
 * Failures are ERROR_VALIDATION (422) with a field naming where:
 *   - "plugins[i].name" / "plugins[i].range": a request that is malformed, unknown or listed twice;
 *   - "plugins.<name>": no version satisfies every range on it (message: which dependents asked for
 *     which ranges), a dependency that does not exist (who required it), a cycle ("a -> b -> a"), or
 *     more than PLUGIN_RESOLVED_MAX plugins in the set. */
#ifndef CORE_PLUGIN_RESOLVE_H
#define CORE_PLUGIN_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define PLUGIN_NAME_MIN 3
#define PLUGIN_NAME_MAX 64
#define PLUGIN_SET_MAX 50           /* plugins one tool may ask for */
#define PLUGIN_DEPENDENCIES_MAX 50  /* dependencies of one version */
#define PLUGIN_RESOLVED_MAX 200     /* plugins in one resolved set, dependencies included */
#define PLUGIN_RESOLVE_ROUNDS 64    /* rounds before a set that keeps changing is refused */
#define PLUGIN_PRIORITY_MIN (-1000000)
#define PLUGIN_PRIORITY_MAX 1000000

/* The points where hooks run, as plugins name them in `hooks`. */
typedef enum {
    PLUGIN_HOOK_TOOL_BEFORE_EXECUTE, /* "tool:beforeExecute": filters a tool's input */
    PLUGIN_HOOK_TOOL_AFTER_EXECUTE,  /* "tool:afterExecute": filters its output */
    PLUGIN_HOOK_REVIEW_BEFORE_CREATE, /* "review:beforeCreate": filters (or rejects) a new review */
    PLUGIN_HOOK_COUNT
} plugin_hook;

/* The names in enum order, NULL-terminated (for body_choose). */
extern const char *const plugin_hook_names[];

/* -1 when name is no hook point. */
int plugin_hook_parse(const char *name);

/* Is name 3 to 64 characters of [a-z0-9-]? */
int plugin_name_valid(const char *name);

typedef struct {
    const char *name, *range;
} plugin_resolve_dep;

typedef struct {
    int64_t id;           /* the caller's (plugin_versions.id) */
    const char *version;  /* text; versions that do not parse are never chosen */
    int64_t priority;
    const plugin_resolve_dep *deps;
    size_t dep_count;
} plugin_resolve_version;

typedef struct {
    const char *name;
    int deprecated;
    const plugin_resolve_version *versions;
    size_t version_count;
} plugin_resolve_plugin;

/* The plugin named name, NULL when there is none (err untouched), or NULL with err set when the
 * look-up itself failed. What it returns must live until the caller is done with the result. */
typedef const plugin_resolve_plugin *(*plugin_resolve_find)(void *ctx, const char *name, mkt_error *err);

typedef plugin_resolve_dep plugin_resolve_request; /* {name, range} as the tool's owner sent it */

typedef struct {
    const plugin_resolve_plugin *plugin;
    const plugin_resolve_version *version;
} plugin_resolve_item;

/* Resolves the requests (n <= PLUGIN_SET_MAX). Returns 0 with *out (malloc'd, *out_n items in execution
 * order; free()) or -1 with err set. */
int plugin_resolve(const plugin_resolve_request *requests, size_t n, plugin_resolve_find find, void *ctx,
                   plugin_resolve_item **out, size_t *out_n, mkt_error *err);

#endif

/* Composed tools: tools whose code calls other tools with tools.call(slug, input) (core/sandbox.h).
 *
 * Owns the tool_dependencies table (the only file that writes it): what each published version calls,
 * every range resolved at publish to the highest published version of that tool satisfying it, stored
 * with the version and never resolved again. Reads tools, tool_versions and developers read-only (the
 * callee versions and their developers' accounts), and decides access through core/tool_library.
 *
 * The rules:
 *   - a draft declares `dependencies` {"slug": "semver range", ...} (form, count and existence are
 *     checked with the other draft fields, core/tool_fields.h);
 *   - publishing (and testing a draft) resolves each range: 422 naming dependencies.<slug> when no
 *     published version satisfies it, or when the tool is paid and the publishing developer does not
 *     own it (is not its developer and holds no access now: buy it first);
 *   - the graph of tools through all published versions stays acyclic: a publish that would close a
 *     cycle is refused with 422 naming it in order ("a -> b -> a"); no chain of calls may hold more than
 *     SANDBOX_CALL_DEPTH tools (422 naming the chain). Both are walked iteratively (the cycle check is
 *     core/tool_compose_graph). The edges are read with shared locks inside the publish transaction,
 *     after the tool's own row lock: of two publishes that would close a cycle together, one waits for
 *     the other (or deadlocks and is retried by db_transaction) and then reads its edge;
 *   - running: a version may call only the slugs it declared, and runs the stored callee version as
 *     POST /execute would: the callee's tool:beforeExecute hook chain (core/hook_system), its input
 *     schema, its code, its output schema, its tool:afterExecute chain (and the output schema again when
 *     a hook changed the output), all in the caller's one budget (the hooks' work units and wall clock
 *     are the tree's; each hook has its own memory cap, as at the root). Access
 *     is checked again on every run (a purchase can be refunded, a free tool repriced): the developer of
 *     the CALLING tool must own a paid callee, by tool_library_can_execute's rule;
 *   - every successful call counts as an execution of the callee (core/tool_usage, batched) when the
 *     run is an execution (POST /execute), not for test runs of a draft.
 *
 * Caching: published versions are immutable, so each worker keeps the last TOOL_COMPOSE_CACHE versions
 * it ran as callees (code, parsed schemas, resolved dependencies, developer's account; at most 64 x
 * 256 KiB of code). Access is decided once per run for each (calling developer, callee): one query for
 * the callee's current status, price and hook chain version, plus the access row when it is paid; the
 * run's further calls of that callee cost no query. The next run decides again, so a refund or a new
 * price takes effect from the next execution. Measured (e2e.composed, test_call_cost): about 30 us per
 * call in the steady state, the nested state's creation. */
#ifndef CORE_TOOL_COMPOSE_H
#define CORE_TOOL_COMPOSE_H

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "core/sandbox.h"
#include "core/tool_fields.h"
#include "sql/db.h"

#define TOOL_COMPOSE_CACHE 64 /* callee versions a worker keeps */

typedef struct {
    char slug[TOOL_FIELDS_SLUG_MAX + 1];
    const char *range; /* borrowed from the resolution's parsed declaration */
    int64_t tool_id, version_id;
    char version[64];
} tool_compose_dep;

/* A draft's declaration with every range resolved. */
typedef struct {
    json_t *declared; /* the parsed {"slug": "range"} */
    size_t count;
    tool_compose_dep deps[TOOL_FIELDS_DEPENDENCIES_MAX];
} tool_compose_resolved;

/* Who the draft belongs to, for the paid-access rule. */
typedef struct {
    int64_t developer_id, user_id;
} tool_compose_owner;

/* Resolves the draft's declaration (JSON text; NULL or "{}" is none). 0, or -1 with err: ERROR_VALIDATION
 * with a field per dependency that does not resolve, ERROR_INTERNAL. Free with tool_compose_resolved_free
 * either way. */
int tool_compose_resolve(db *db, const char *declared, const tool_compose_owner *owner, tool_compose_resolved *out,
                         mkt_error *err);
void tool_compose_resolved_free(tool_compose_resolved *r);

/* Inside the publish transaction, after version_id of tool_id (slug) was written: the cycle and depth
 * checks, then the rows. 422 (field "dependencies") for a cycle or a chain too deep. */
int tool_compose_publish(db *db, int64_t tool_id, const char *slug, int64_t version_id,
                         const tool_compose_resolved *r, mkt_error *err);

/* ---- running: the sandbox_calls provider of one run (request-local) ---- */

typedef struct tool_compose_session tool_compose_session;

/* For an execution of published version_id (its dependencies are loaded on the first tools.call, so a
 * tool that calls nothing costs nothing). count: each successful call counts as an execution. */
tool_compose_session *tool_compose_for_version(db *db, const config *cfg, int64_t version_id, int count);

/* For a test run of a draft: the resolution (borrowed, must outlive the session) and its owner. */
tool_compose_session *tool_compose_for_draft(db *db, const config *cfg, const char *slug,
                                             const tool_compose_resolved *r, const tool_compose_owner *owner);

/* The provider to hand to the sandbox (NULL for a NULL session). */
const sandbox_calls *tool_compose_calls(tool_compose_session *s);

void tool_compose_session_free(tool_compose_session *s);

#endif

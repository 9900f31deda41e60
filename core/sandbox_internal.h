/* The parts of the Lua sandbox shared between core/sandbox*.c and nothing else: they take a
 * lua_State, and Lua is private to the sandbox (no other module includes a Lua header; see
 * docs/architecture.md, "Layers"). The contract of the sandbox is core/sandbox.h. */
#ifndef CORE_SANDBOX_INTERNAL_H
#define CORE_SANDBOX_INTERNAL_H

#include <lua.h>

#include "core/sandbox.h"

/* ---- The conversion pair. Only valid on a state set up by this module (json.null and the array marker
 * live in its registry). ---- */

/* Pushes value (NULL = nil). May raise a Lua error (memory, or nesting deeper than SANDBOX_MAX_DEPTH):
 * call it in protected mode. */
void sandbox_push_json(lua_State *L, const json_t *value);

/* Converts the value at idx; root names it in error paths ("output"). Never raises a Lua error and never
 * runs script code. Returns a new reference, or NULL with err set. */
json_t *sandbox_to_json(lua_State *L, int idx, size_t max_bytes, const char *root, mkt_error *err);

/* Adds units of work; raises "instruction limit exceeded"/"time limit exceeded" when a cap trips, and
 * re-raises when one already has. sandbox_charge(L, 0) only re-raises. */
void sandbox_charge(lua_State *L, int64_t units);
/* Records that script code now runs in thread `to` (coroutine switches) and returns the thread that ran
 * before; the timer arms the hook of the running thread. Never raises. */
lua_State *sandbox_enter_thread(lua_State *L, lua_State *to);
/* Opens the whitelisted environment into the globals table. Raises on memory errors. */
void sandbox_env_open(lua_State *L);
/* Replaces find/match/gmatch/gsub in the string library table at index idx. */
void sandbox_patterns_open(lua_State *L, int idx);
/* Creates the json table and the registry markers. */
void sandbox_json_open(lua_State *L);
/* Copies src into dst (cap > 0) as valid UTF-8: invalid bytes become '?', cut at a character boundary. */
void sandbox_utf8_clean(char *dst, size_t cap, const char *src, size_t len);

#endif

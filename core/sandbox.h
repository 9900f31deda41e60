/* The Lua 5.4 sandbox that runs tool and plugin code. Pure: no database, no FastCGI.
 *
 * Every call gets a fresh lua_State, torn down before returning, so nothing leaks between runs:
 *   - memory: a custom allocator refuses growth past limits.memory_bytes (Lua raises its memory error);
 *   - instructions: a count hook every SANDBOX_HOOK_EVERY VM instructions adds to a work counter and
 *     checks it against limits.instructions and the wall clock against limits.timeout_ms. Work done in C
 *     on the script's behalf (pattern matching, table.sort/move/insert/...) is charged to the same counter,
 *     so "instructions" is really "work units": VM instructions plus C steps.
 *   - wall clock: besides the hook (and the allocator, every 256 KiB), a one-shot POSIX timer
 *     (CLOCK_MONOTONIC, signal SANDBOX_TIMER_SIGNAL, SA_RESTART) fires at the deadline; its handler sets
 *     the hook of the running thread and of the main thread to count 1, so the very next instruction
 *     trips the cap. The overshoot left is the one instruction in progress, and no single instruction
 *     costs more than a pass over the longest string the memory cap allows (`a < b` is one strcoll,
 *     `a == b` one memcmp). The signal is unblocked for the run whatever the caller's mask; the handler
 *     only reads an atomic pointer to the live state, cleared (timer disarmed first) before lua_close.
 *     coroutine.resume/wrap/close record which thread runs, so the handler reaches it. One timer per
 *     process serves one run at a time (a second concurrent run in the same process, not done today,
 *     would fall back to the hook's checks).
 *     Once a cap trips it is sticky: every thread's hook drops to count 1, pcall/xpcall/coroutine.resume
 *     re-raise, allocations are refused, so no script can catch its way past a cap.
 *   - code is loaded as text only (luaL_loadbufferx mode "t"); crafted bytecode never reaches the VM.
 *
 * Environment (everything else is absent):
 *   base: assert error getmetatable ipairs next pairs rawequal rawget rawlen rawset select setmetatable
 *         tonumber tostring type _G _VERSION; pcall/xpcall (wrapped: a tripped cap is re-raised);
 *         print (a no-op, so debugging prints do not break a tool);
 *         load (wrapped: string chunks only, always text mode, env = the globals unless a 4th argument
 *         is given). Removed: dofile loadfile collectgarbage warn require.
 *   string: all but dump; find/match/gmatch/gsub are our own implementation of Lua patterns with the
 *         same semantics, charged one work unit per matcher step (Lua's own matcher runs unhooked and
 *         '.-.-.-.-b' on a long subject would backtrack for hours). The string metatable is protected:
 *         getmetatable("") returns false.
 *         string.rep answers an empty result itself (stock rep('', 2^62) loops 2^62 times in C).
 *   table: all; insert/remove/move/sort/concat/unpack are charged for the elements they touch and refuse
 *         tables whose metatable has __index/__newindex/__len (a lying __len would dodge the charge).
 *   math, utf8, coroutine (resume/wrap/close wrapped; coroutines inherit the count hook), os.time/
 *   os.clock/os.date.
 *   Long C scans that neither allocate nor run instructions (load, utf8.len, utf8.offset, tonumber,
 *   string.rep, plain find) are charged by length. What remains unhooked (comparing two long strings)
 *   is bounded by the memory cap per instruction and stopped at the deadline by the timer; the master's
 *   request_timeout is the last line of defence. Callers that run several sandboxes for one request
 *   (tool tests) share one budget between them (core/tool_check.h).
 *   json: json.null (see below) and json.array([t]) which marks a table as an array.
 *   setmetatable refuses metatables with a __gc field: Lua 5.4 runs finalizers with hooks disabled, so
 *   a looping finalizer could not be stopped by any cap (not even at lua_close). __close is fine (hooked).
 *
 * JSON <-> Lua (sandbox_push_json / sandbox_to_json in core/sandbox_internal.h, the one place that converts):
 *   null     -> nil at the top level, key left out inside an object, json.null inside an array (so
 *               positions stay); json.null -> null anywhere, nil (a returned nil) -> null.
 *   boolean <-> boolean.
 *   integer <-> Lua integer; real <-> Lua float. The subtype is kept both ways: 1 stays 1, 1.0 stays 1.0.
 *               NaN and +-inf are rejected on the way out.
 *   string  <-> string; on the way out it must be valid UTF-8.
 *   array   -> table with keys 1..n and the json.array marker metatable (so an empty array round-trips).
 *   object  -> table with string keys.
 *   table   -> array when its keys are exactly 1..n (n >= 1); object when all keys are strings; empty:
 *               [] when it carries the json.array marker, else {}. Mixed keys, holes ("sparse array"),
 *               keys of other types, cycles and nesting deeper than SANDBOX_MAX_DEPTH are errors naming
 *               the path ("output.items[2]: sparse array ..."; array positions in paths are 0-based like
 *               JSON). Functions, userdata and threads are errors. Metatables are otherwise ignored and
 *               all reads are raw, so no script code runs during conversion.
 *   The output is capped at limits.output_bytes of its compact JSON encoding ("output too large").
 *   Object key order follows Lua's table order; dump with JSON_SORT_KEYS when order matters.
 *
 * Errors: ERROR_VALIDATION for everything the code did (caps, Lua errors, escape attempts, bad output),
 * ERROR_INTERNAL only for our own failures (out of host memory). Messages:
 *   "instruction limit exceeded (N instructions)", "memory limit exceeded (N bytes)",
 *   "time limit exceeded (N ms)", "output too large (more than N bytes)", "syntax error: code:1: ...",
 *   "code error: code:3: ..." (the chunk's top level failed), "handler error: code:7: ..." (the entry
 *   function failed; non-string error values read "(error object is a table value)"),
 *   "code does not define function handler", "output.x: ..." (conversion).
 */
#ifndef CORE_SANDBOX_H
#define CORE_SANDBOX_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/error.h"

#define SANDBOX_HOOK_EVERY 1000  /* VM instructions between two count-hook calls */
#define SANDBOX_MAX_DEPTH 32     /* nesting of arrays/objects, both directions */
#define SANDBOX_TIMER_SIGNAL (SIGRTMIN + 2) /* the wall-clock timer's signal (see above) */

typedef struct {
    int64_t instructions;  /* work units (VM instructions + charged C work) */
    int64_t memory_bytes;  /* everything the lua_State allocates, libraries included */
    int64_t output_bytes;  /* compact JSON size of the result */
    int64_t timeout_ms;    /* wall clock from the start of the call, setup included */
} sandbox_limits;

/* Which cap ended a run (callers that lower a cap for one run, like a request budget, tell their cap
 * from the run's own). */
typedef enum { SANDBOX_CAP_NONE = 0, SANDBOX_CAP_INSTRUCTIONS, SANDBOX_CAP_MEMORY, SANDBOX_CAP_TIME } sandbox_cap;

typedef struct {
    int64_t instructions;  /* work units used, VM part counted in steps of SANDBOX_HOOK_EVERY */
    int64_t peak_memory;   /* bytes */
    int64_t duration_us;   /* whole call: state creation, run, conversion, close */
    sandbox_cap cap_hit;   /* the cap that ended the run, if one did */
} sandbox_stats;

/* The caps from config; a NULL cfg gives the config defaults. */
sandbox_limits sandbox_limits_from_config(const config *cfg);

/* Compiles (text only) and runs the chunk's top level under the limits, then checks it defined a global
 * function `handler`. Returns 0, or -1 with err set. */
int sandbox_check(const char *code, size_t len, const sandbox_limits *lim, mkt_error *err);

/* Same for any entry function name (plugins define hook functions). stats may be NULL. */
int sandbox_check_function(const char *code, size_t len, const char *function, const sandbox_limits *lim,
                           sandbox_stats *stats, mkt_error *err);

/* Runs the chunk, calls handler(input) and returns its first result as JSON (a new reference), or NULL
 * with err set. input may be NULL (the handler gets nil). stats may be NULL; it is filled on failure too. */
json_t *sandbox_run(const char *code, size_t len, const json_t *input, const sandbox_limits *lim,
                    sandbox_stats *stats, mkt_error *err);

/* sandbox_run with the entry function named by `function`; errors read "<function> error: ...". */
json_t *sandbox_call(const char *code, size_t len, const char *function, const json_t *input,
                     const sandbox_limits *lim, sandbox_stats *stats, mkt_error *err);

/* sandbox_call with a second argument: function(input, context) (plugin hooks get the value to filter
 * and what it is about). context converts like input (NULL: nil). */
json_t *sandbox_call_with(const char *code, size_t len, const char *function, const json_t *input,
                          const json_t *context, const sandbox_limits *lim, sandbox_stats *stats, mkt_error *err);

#endif

/* Sandbox lifecycle: the capped allocator, the count hook, one protected run per call, and turning what
 * happened into a result or a clear error. The environment is in sandbox_env.c, the pattern matcher in
 * sandbox_pattern.c, the JSON conversion in sandbox_json.c. */
#include "core/sandbox_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "core/log.h"

#define SANDBOX_CHUNKNAME "=code"
#define SANDBOX_CLOCK_EVERY_BYTES (256 * 1024) /* allocation volume between two clock checks */
#define SANDBOX_MESSAGE_MAX 512                /* a script's error text, as quoted back to the caller */

typedef enum {
    SANDBOX_TRIP_NONE = 0,
    SANDBOX_TRIP_INSTRUCTIONS,
    SANDBOX_TRIP_TIME,
    SANDBOX_TRIP_CLOSING /* lua_close: finalizers may not run any code */
} sandbox_trip;

/* Per-call state, reached from Lua through the allocator's user data, and from the timer's signal
 * handler through sandbox_live. */
typedef struct {
    lua_State *L;       /* main thread */
    lua_State *running; /* the thread running script code now (atomic: the signal handler reads it) */
    volatile sig_atomic_t timer_fired; /* set by the signal handler */
    size_t used, peak, limit;
    size_t allocated_since_clock;
    int memory_refused; /* the allocator said no at least once */
    int64_t work, work_limit, work_at_clock;
    int64_t deadline_ns;
    sandbox_trip trip;
} sandbox_ctx;

typedef enum { PHASE_SETUP, PHASE_LOAD, PHASE_CHUNK, PHASE_INPUT, PHASE_CALL, PHASE_DONE } sandbox_phase;

typedef struct {
    const char *code;
    size_t len;
    const char *function;
    const json_t *input;
    const json_t *context; /* the second argument when with_context (plugin hooks) */
    int with_context;
    int call; /* 0: only check that the function exists */
    sandbox_phase phase;
    int missing; /* the chunk did not define the function */
} sandbox_job;

static int64_t sandbox_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static sandbox_ctx *sandbox_ctx_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static void sandbox_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    sandbox_charge(L, SANDBOX_HOOK_EVERY);
}

/* From now on every instruction of this thread (and of the main thread) calls the hook, which raises:
 * a script that catches the error cannot execute anything after the catch. Other threads reach their own
 * hook within SANDBOX_HOOK_EVERY instructions and get the same treatment. */
static void sandbox_make_sticky(sandbox_ctx *ctx, lua_State *L)
{
    lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, 1);
    if (L != ctx->L)
        lua_sethook(ctx->L, sandbox_hook, LUA_MASKCOUNT, 1);
}

static const char *sandbox_trip_text(sandbox_trip trip)
{
    switch (trip) {
    case SANDBOX_TRIP_INSTRUCTIONS: return "instruction limit exceeded";
    case SANDBOX_TRIP_TIME: return "time limit exceeded";
    case SANDBOX_TRIP_CLOSING: return "sandbox is closing";
    default: return "sandbox error";
    }
}

/* The timer's signal arrived: true when the deadline has passed. A signal left over from an earlier run
 * (it cannot normally happen: each run's timer is disarmed before the next is armed) only costs a clock
 * read, and the hooks it armed (this thread's and the main thread's) go back to their normal period: the
 * hook charges SANDBOX_HOOK_EVERY units per call. */
static int sandbox_timer_says_late(sandbox_ctx *ctx, lua_State *L)
{
    ctx->timer_fired = 0;
    if (sandbox_now_ns() >= ctx->deadline_ns)
        return 1;
    lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, SANDBOX_HOOK_EVERY);
    if (L != ctx->L)
        lua_sethook(ctx->L, sandbox_hook, LUA_MASKCOUNT, SANDBOX_HOOK_EVERY);
    return 0;
}

void sandbox_charge(lua_State *L, int64_t units)
{
    sandbox_ctx *ctx = sandbox_ctx_of(L);
    if (ctx->trip == SANDBOX_TRIP_NONE && ctx->timer_fired && sandbox_timer_says_late(ctx, L))
        ctx->trip = SANDBOX_TRIP_TIME;
    if (ctx->trip == SANDBOX_TRIP_NONE) {
        if (units > ctx->work_limit - ctx->work) {
            ctx->work = ctx->work_limit + 1; /* saturate: charges like 2^40 must not wrap */
            ctx->trip = SANDBOX_TRIP_INSTRUCTIONS;
        } else {
            ctx->work += units;
            /* clock_gettime is cheap (vDSO) but not free: read it once per hook's worth of work */
            if (ctx->work - ctx->work_at_clock >= SANDBOX_HOOK_EVERY) {
                ctx->work_at_clock = ctx->work;
                if (sandbox_now_ns() > ctx->deadline_ns)
                    ctx->trip = SANDBOX_TRIP_TIME;
            }
        }
    }
    if (ctx->trip == SANDBOX_TRIP_NONE)
        return;
    sandbox_make_sticky(ctx, L);
    lua_pushstring(L, sandbox_trip_text(ctx->trip)); /* may itself fail with a memory error: fine */
    lua_error(L);
}

/* Lua's allocator contract: nsize == 0 frees; shrinking must not fail; returning NULL on growth makes Lua
 * raise its memory error. Growth is also where heavy C functions (string.rep, concat, gsub, upper, ...)
 * spend their time, so the wall clock is checked here too, every SANDBOX_CLOCK_EVERY_BYTES. */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sandbox_ctx *ctx = ud;
    size_t old = ptr ? osize : 0; /* for new blocks osize carries the object type */
    if (nsize == 0) {
        free(ptr);
        ctx->used -= old;
        return NULL;
    }
    if (nsize > old) {
        size_t grow = nsize - old;
        if (ctx->trip != SANDBOX_TRIP_NONE || grow > ctx->limit - ctx->used) {
            ctx->memory_refused = 1;
            return NULL;
        }
        ctx->allocated_since_clock += grow;
        if (ctx->allocated_since_clock >= SANDBOX_CLOCK_EVERY_BYTES) {
            ctx->allocated_since_clock = 0;
            if (sandbox_now_ns() > ctx->deadline_ns) {
                ctx->trip = SANDBOX_TRIP_TIME;
                /* lua_sethook is safe to call at any point (the manual allows it from signal handlers) */
                sandbox_make_sticky(ctx, ctx->L);
                return NULL;
            }
        }
    }
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL; /* host out of memory: Lua raises a memory error, we report it as the cap */
    ctx->used = ctx->used - old + nsize;
    if (ctx->used > ctx->peak)
        ctx->peak = ctx->used;
    return p;
}

/* ---- the wall-clock timer -------------------------------------------------------------------------
 * The count hook sees the clock only every SANDBOX_HOOK_EVERY instructions, and one instruction can run
 * long in C (`a < b` on two long strings is one strcoll). So each run also arms a one-shot POSIX timer
 * (CLOCK_MONOTONIC, absolute deadline) whose signal handler sets the hook of the running thread, and of
 * the main thread, to fire at the very next instruction (lua_sethook is documented as safe to call from a
 * signal handler); the hook sees the deadline and trips the cap. What is left is the cost of the one
 * instruction in progress, bounded by the memory cap (the longest string it can touch).
 * The timer belongs to the process (timers are not inherited by fork: a worker creates its own on its
 * first run) and serves one run at a time: a run started while another is live in the same process (not
 * done today) keeps the hook-only checks. The handler touches only sandbox_live (atomic) and the state
 * it points to; the pointer is cleared, with the timer disarmed, before lua_close. */

static sandbox_ctx *sandbox_live; /* the run the timer serves; __atomic access only */
static timer_t sandbox_timer;
static pid_t sandbox_timer_pid;   /* the process that created sandbox_timer; 0: none yet */

static void sandbox_on_timer(int sig)
{
    (void)sig;
    int saved_errno = errno;
    sandbox_ctx *ctx = __atomic_load_n(&sandbox_live, __ATOMIC_ACQUIRE);
    if (ctx) {
        ctx->timer_fired = 1;
        lua_State *running = __atomic_load_n(&ctx->running, __ATOMIC_ACQUIRE);
        lua_sethook(running, sandbox_hook, LUA_MASKCOUNT, 1);
        if (running != ctx->L)
            lua_sethook(ctx->L, sandbox_hook, LUA_MASKCOUNT, 1);
    }
    errno = saved_errno;
}

/* Installs the handler and creates this process's timer, once per process. SA_RESTART: should the signal
 * ever land outside a run, a slow system call resumes instead of failing with EINTR. */
static int sandbox_timer_ready(void)
{
    static pid_t warned;
    pid_t pid = getpid();
    if (sandbox_timer_pid == pid)
        return 1;
    if (warned == pid)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sandbox_on_timer;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SANDBOX_TIMER_SIGNAL;
    if (sigaction(SANDBOX_TIMER_SIGNAL, &sa, NULL) < 0 || timer_create(CLOCK_MONOTONIC, &sev, &sandbox_timer) < 0) {
        log_warn("sandbox: no wall-clock timer (%s); the count hook alone watches the clock", strerror(errno));
        warned = pid;
        return 0;
    }
    sandbox_timer_pid = pid;
    return 1;
}

typedef struct {
    int armed;
    sigset_t saved_mask;
} sandbox_timer_guard;

/* Arms the timer for ctx's deadline. The signal is unblocked for the run (the worker blocks its stop
 * signals during a request; a caller may block more) and the caller's mask restored by disarm. */
static void sandbox_timer_arm(sandbox_ctx *ctx, sandbox_timer_guard *g)
{
    g->armed = 0;
    sandbox_ctx *none = NULL;
    if (!sandbox_timer_ready() ||
        !__atomic_compare_exchange_n(&sandbox_live, &none, ctx, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    sigset_t timer_only;
    sigemptyset(&timer_only);
    sigaddset(&timer_only, SANDBOX_TIMER_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &timer_only, &g->saved_mask);
    struct itimerspec at;
    memset(&at, 0, sizeof at);
    at.it_value.tv_sec = (time_t)(ctx->deadline_ns / 1000000000);
    at.it_value.tv_nsec = (long)(ctx->deadline_ns % 1000000000);
    if (timer_settime(sandbox_timer, TIMER_ABSTIME, &at, NULL) < 0) {
        pthread_sigmask(SIG_SETMASK, &g->saved_mask, NULL);
        __atomic_store_n(&sandbox_live, NULL, __ATOMIC_RELEASE);
        return;
    }
    g->armed = 1;
}

/* Disarms before the pointer is cleared, and clears it before the caller closes the state: a signal
 * already on its way finds either the live state or nothing. */
static void sandbox_timer_disarm(sandbox_timer_guard *g)
{
    if (!g->armed)
        return;
    struct itimerspec off;
    memset(&off, 0, sizeof off);
    timer_settime(sandbox_timer, 0, &off, NULL);
    __atomic_store_n(&sandbox_live, NULL, __ATOMIC_RELEASE);
    pthread_sigmask(SIG_SETMASK, &g->saved_mask, NULL);
    g->armed = 0;
}

lua_State *sandbox_enter_thread(lua_State *L, lua_State *to)
{
    sandbox_ctx *ctx = sandbox_ctx_of(L);
    lua_State *was = __atomic_load_n(&ctx->running, __ATOMIC_ACQUIRE);
    __atomic_store_n(&ctx->running, to, __ATOMIC_RELEASE);
    return was;
}

/* Everything that can raise runs here, under lua_pcall: an unprotected error would abort the worker. */
static int sandbox_main(lua_State *L)
{
    sandbox_job *job = lua_touserdata(L, 1);
    lua_settop(L, 0);
    sandbox_env_open(L);
    job->phase = PHASE_LOAD;
    if (luaL_loadbufferx(L, job->code, job->len, SANDBOX_CHUNKNAME, "t") != LUA_OK)
        return lua_error(L);
    job->phase = PHASE_CHUNK;
    lua_call(L, 0, 0);
    /* raw lookup: a metatable on _G must not get to run code outside the handler call */
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushstring(L, job->function);
    if (lua_rawget(L, -2) != LUA_TFUNCTION) {
        job->missing = 1;
        return 0;
    }
    if (!job->call)
        return 0;
    job->phase = PHASE_INPUT;
    sandbox_push_json(L, job->input);
    if (job->with_context)
        sandbox_push_json(L, job->context);
    job->phase = PHASE_CALL;
    lua_call(L, 1 + job->with_context, 1);
    job->phase = PHASE_DONE;
    /* sandbox_to_json runs unprotected and needs stack room; reserve it while errors are still caught */
    luaL_checkstack(L, 3 * SANDBOX_MAX_DEPTH + 8, "output conversion");
    return 1;
}

/* The error value at idx as text, without running script code (__tostring is not consulted) and without
 * allocating in Lua (lua_tolstring on a number would, and could fail unprotected). */
static void sandbox_error_text(lua_State *L, int idx, char *buf, size_t cap)
{
    int type = lua_type(L, idx);
    if (type == LUA_TSTRING) {
        size_t len = 0;
        const char *s = lua_tolstring(L, idx, &len);
        sandbox_utf8_clean(buf, cap, s, len);
    } else if (type == LUA_TNUMBER && lua_isinteger(L, idx)) {
        snprintf(buf, cap, "%lld", (long long)lua_tointeger(L, idx));
    } else if (type == LUA_TNUMBER) {
        snprintf(buf, cap, "%.14g", (double)lua_tonumber(L, idx));
    } else {
        snprintf(buf, cap, "(error object is a %s value)", lua_typename(L, type));
    }
}

static int sandbox_is_memory_message(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        return 0;
    size_t len = 0;
    const char *s = lua_tolstring(L, idx, &len);
    return len == 17 && memcmp(s, "not enough memory", 17) == 0;
}

/* Which cap a failed run hit, for sandbox_stats. */
static sandbox_cap sandbox_cap_of(lua_State *L, const sandbox_ctx *ctx, int status)
{
    if (ctx->trip == SANDBOX_TRIP_INSTRUCTIONS)
        return SANDBOX_CAP_INSTRUCTIONS;
    if (ctx->trip == SANDBOX_TRIP_TIME)
        return SANDBOX_CAP_TIME;
    if (status == LUA_ERRMEM || (status != LUA_OK && ctx->memory_refused && sandbox_is_memory_message(L, -1)))
        return SANDBOX_CAP_MEMORY;
    return SANDBOX_CAP_NONE;
}

static void sandbox_report_failure(lua_State *L, const sandbox_ctx *ctx, const sandbox_job *job,
                                   const sandbox_limits *lim, int status, mkt_error *err)
{
    if (ctx->trip == SANDBOX_TRIP_INSTRUCTIONS) {
        error_set(err, ERROR_VALIDATION, "instruction limit exceeded (%" PRId64 " instructions)", lim->instructions);
        return;
    }
    if (ctx->trip == SANDBOX_TRIP_TIME) {
        error_set(err, ERROR_VALIDATION, "time limit exceeded (%" PRId64 " ms)", lim->timeout_ms);
        return;
    }
    if (status == LUA_OK) {
        error_set(err, ERROR_VALIDATION, "code does not define function %s", job->function);
        return;
    }
    if (status == LUA_ERRMEM || (ctx->memory_refused && sandbox_is_memory_message(L, -1))) {
        error_set(err, ERROR_VALIDATION, "memory limit exceeded (%" PRId64 " bytes)", lim->memory_bytes);
        return;
    }
    char text[SANDBOX_MESSAGE_MAX];
    sandbox_error_text(L, -1, text, sizeof text);
    switch (job->phase) {
    case PHASE_SETUP: error_set(err, ERROR_INTERNAL, "sandbox setup failed: %s", text); break;
    case PHASE_LOAD: error_set(err, ERROR_VALIDATION, "syntax error: %s", text); break;
    case PHASE_CHUNK: error_set(err, ERROR_VALIDATION, "code error: %s", text); break;
    case PHASE_INPUT: error_set(err, ERROR_VALIDATION, "input: %s", text); break;
    default: error_set(err, ERROR_VALIDATION, "%s error: %s", job->function, text); break;
    }
}

static int sandbox_limits_valid(const sandbox_limits *lim)
{
    return lim && lim->instructions > 0 && lim->memory_bytes > 0 && lim->output_bytes > 0 &&
           lim->timeout_ms > 0;
}

/* One sandboxed execution from fresh state to lua_close. Returns the JSON result when job->call is set,
 * json_null() as a success marker for a check, NULL on failure. */
static json_t *sandbox_execute(sandbox_job *job, const sandbox_limits *lim, sandbox_stats *stats, mkt_error *err)
{
    int64_t start = sandbox_now_ns();
    if (stats)
        *stats = (sandbox_stats){0, 0, 0, SANDBOX_CAP_NONE};
    if (!job->code || !job->function || !sandbox_limits_valid(lim)) {
        error_set(err, ERROR_INTERNAL, "sandbox called without code, function or valid limits");
        return NULL;
    }
    sandbox_ctx ctx = {0};
    ctx.limit = (size_t)lim->memory_bytes;
    ctx.work_limit = lim->instructions;
    ctx.deadline_ns = start + lim->timeout_ms * 1000000;
    lua_State *L = lua_newstate(sandbox_alloc, &ctx);
    if (!L) {
        error_set(err, ERROR_INTERNAL, "cannot create a Lua state");
        return NULL;
    }
    ctx.L = L;
    ctx.running = L;
    lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, SANDBOX_HOOK_EVERY);
    sandbox_timer_guard timer;
    sandbox_timer_arm(&ctx, &timer);

    json_t *result = NULL;
    lua_pushcfunction(L, sandbox_main); /* light C function: no allocation, cannot fail */
    lua_pushlightuserdata(L, job);
    int status = lua_pcall(L, 1, 1, 0);
    if (status != LUA_OK || ctx.trip != SANDBOX_TRIP_NONE || job->missing) {
        sandbox_report_failure(L, &ctx, job, lim, status, err);
        if (stats)
            stats->cap_hit = sandbox_cap_of(L, &ctx, status);
    }
    else if (!job->call)
        result = json_null();
    else
        result = sandbox_to_json(L, -1, (size_t)lim->output_bytes, "output", err);

    if (stats) {
        stats->instructions = ctx.work > lim->instructions ? lim->instructions : ctx.work;
        stats->peak_memory = (int64_t)ctx.peak;
    }
    /* Defence in depth: nothing the script wrote may run during lua_close (scripts cannot set __gc, and
     * Lua would run finalizers unhooked anyway; this stops anything hooked, like a stray __close). */
    sandbox_timer_disarm(&timer);
    ctx.trip = SANDBOX_TRIP_CLOSING;
    lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, 1);
    lua_close(L);
    if (stats)
        stats->duration_us = (sandbox_now_ns() - start) / 1000;
    return result;
}

json_t *sandbox_call(const char *code, size_t len, const char *function, const json_t *input,
                     const sandbox_limits *lim, sandbox_stats *stats, mkt_error *err)
{
    sandbox_job job = {.code = code, .len = len, .function = function, .input = input, .call = 1};
    return sandbox_execute(&job, lim, stats, err);
}

json_t *sandbox_call_with(const char *code, size_t len, const char *function, const json_t *input,
                          const json_t *context, const sandbox_limits *lim, sandbox_stats *stats, mkt_error *err)
{
    sandbox_job job = {.code = code, .len = len, .function = function, .input = input, .context = context,
                       .with_context = 1, .call = 1};
    return sandbox_execute(&job, lim, stats, err);
}

json_t *sandbox_run(const char *code, size_t len, const json_t *input, const sandbox_limits *lim,
                    sandbox_stats *stats, mkt_error *err)
{
    return sandbox_call(code, len, "handler", input, lim, stats, err);
}

int sandbox_check_function(const char *code, size_t len, const char *function, const sandbox_limits *lim,
                           sandbox_stats *stats, mkt_error *err)
{
    sandbox_job job = {.code = code, .len = len, .function = function, .call = 0};
    json_t *ok = sandbox_execute(&job, lim, stats, err);
    if (!ok)
        return -1;
    json_decref(ok);
    return 0;
}

int sandbox_check(const char *code, size_t len, const sandbox_limits *lim, mkt_error *err)
{
    return sandbox_check_function(code, len, "handler", lim, NULL, err);
}

sandbox_limits sandbox_limits_from_config(const config *cfg)
{
    config defaults;
    if (!cfg) {
        config_defaults(&defaults);
        cfg = &defaults;
    }
    sandbox_limits lim = {
        .instructions = cfg->sandbox_instructions,
        .memory_bytes = cfg->sandbox_memory,
        .output_bytes = cfg->sandbox_output,
        .timeout_ms = cfg->sandbox_timeout_ms,
    };
    if (cfg == &defaults)
        config_free(&defaults);
    return lim;
}

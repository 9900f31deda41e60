/* Sandbox figures: the cost of starting a sandbox, and in-process executions/s of a
 * trivial tool and of a tool transforming a 1,000-element JSON array; and how far past its wall-clock
 * limit a run of slow single instructions (comparisons of two equal 32 MiB strings, about 500 of them
 * between two count-hook calls) gets before it is stopped. Prints figures, never fails.
 *
 *   cmake --build build --target bench_sandbox && build/tests/bench/bench_sandbox [seconds-per-figure]
 *
 * "start" is a whole sandbox_check of a one-line chunk: fresh lua_State with the capped allocator and
 * the hook, the whitelisted environment, compiling and running the chunk, lua_close. The lines before it
 * break that cost down with plain Lua states for comparison. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/sandbox_internal.h"

static double bench_seconds = 1.0;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef void (*bench_fn)(void *arg);

/* Runs fn repeatedly for bench_seconds (after a short warm-up); prints median and p99 per call and
 * calls per second. */
static void bench(const char *label, bench_fn fn, void *arg)
{
    for (int i = 0; i < 200; i++)
        fn(arg);
    size_t cap = 1 << 20, n = 0;
    int64_t *samples = malloc(cap * sizeof *samples);
    if (!samples)
        return;
    int64_t start = now_ns(), end = start + (int64_t)(bench_seconds * 1e9), t = start;
    while (t < end && n < cap) {
        int64_t t0 = now_ns();
        fn(arg);
        t = now_ns();
        samples[n++] = t - t0;
    }
    qsort(samples, n, sizeof *samples, cmp_i64);
    double total_s = (double)(t - start) / 1e9;
    printf("%-58s median %8.1f us   p99 %8.1f us   %9.0f /s   (n=%zu)\n", label, (double)samples[n / 2] / 1e3,
           (double)samples[n * 99 / 100] / 1e3, (double)n / total_s, n);
    free(samples);
}

/* ---- breakdown with plain states ---- */

static void plain_state(void *arg)
{
    (void)arg;
    lua_State *L = luaL_newstate();
    lua_close(L);
}

static void plain_openlibs(void *arg)
{
    (void)arg;
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_close(L);
}

static int open_env(lua_State *L)
{
    sandbox_env_open(L);
    return 0;
}

static void plain_sandbox_env(void *arg)
{
    (void)arg;
    lua_State *L = luaL_newstate();
    lua_pushcfunction(L, open_env);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK)
        fprintf(stderr, "env: %s\n", lua_tostring(L, -1));
    lua_close(L);
}

/* ---- the real thing ---- */

typedef struct {
    const char *code;
    const json_t *input;
    sandbox_limits lim;
} run_arg;

static void sandbox_start(void *arg)
{
    run_arg *r = arg;
    mkt_error err = MKT_ERROR_INIT;
    if (sandbox_check(r->code, strlen(r->code), &r->lim, &err) < 0) {
        fprintf(stderr, "check failed: %s\n", err.message);
        exit(1);
    }
}

static void sandbox_execute(void *arg)
{
    run_arg *r = arg;
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = sandbox_run(r->code, strlen(r->code), r->input, &r->lim, NULL, &err);
    if (!out) {
        fprintf(stderr, "run failed: %s\n", err.message);
        exit(1);
    }
    json_decref(out);
}

/* ---- overshoot of the wall-clock limit ---- */

#define SLOW_CMP4 "if a < b then end if a == b then end if a < b then end if a == b then end "
#define SLOW_CMP32 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4 SLOW_CMP4
#define SLOW_BODY                                                                                  \
    "  local a, b = 'x', 'x'\n"                                                                    \
    "  for i = 1, 25 do a = a .. a end\n"                                                          \
    "  for i = 1, 25 do b = b .. b end\n"                                                          \
    "  while true do " SLOW_CMP32 SLOW_CMP32 SLOW_CMP32 SLOW_CMP32 " end\n"

static void overshoot(const char *label, const char *code, int64_t limit_ms, int runs)
{
    sandbox_limits lim = sandbox_limits_from_config(NULL);
    lim.timeout_ms = limit_ms;
    lim.instructions = INT64_C(1) << 40;
    lim.memory_bytes = 160 * 1024 * 1024;
    int64_t worst = 0, sum = 0;
    for (int i = 0; i < runs; i++) {
        mkt_error err = MKT_ERROR_INIT;
        int64_t t0 = now_ns();
        json_t *out = sandbox_run(code, strlen(code), NULL, &lim, NULL, &err);
        int64_t took = now_ns() - t0;
        if (out || !err.message || !strstr(err.message, "time limit exceeded"))
            fprintf(stderr, "unexpected: %s\n", err.message ? err.message : "a result");
        json_decref(out);
        error_clear(&err);
        sum += took;
        if (took > worst)
            worst = took;
    }
    printf("%-44s limit %5lld ms   mean %7.1f ms (%.3fx)   worst %7.1f ms (%.3fx)   (n=%d)\n", label,
           (long long)limit_ms, (double)sum / runs / 1e6, (double)sum / runs / 1e6 / (double)limit_ms,
           (double)worst / 1e6, (double)worst / 1e6 / (double)limit_ms, runs);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        bench_seconds = atof(argv[1]) > 0 ? atof(argv[1]) : 1.0;
    sandbox_limits lim = sandbox_limits_from_config(NULL);

    printf("sandbox benchmark (%s, %.1f s per figure)\n", LUA_RELEASE, bench_seconds);
    bench("plain luaL_newstate + lua_close", plain_state, NULL);
    bench("plain state + luaL_openlibs (all libraries, reference)", plain_openlibs, NULL);
    bench("plain state + sandbox environment", plain_sandbox_env, NULL);

    run_arg start = {.code = "function handler() end", .lim = lim};
    bench("sandbox start (sandbox_check of a one-line chunk)", sandbox_start, &start);

    run_arg trivial = {.code = "function handler() return {ok = true} end", .lim = lim};
    bench("execute trivial tool: return {ok=true}", sandbox_execute, &trivial);

    json_t *array = json_array();
    for (int i = 0; i < 1000; i++)
        json_array_append_new(array, json_integer(i));
    run_arg transform = {
        .code = "function handler(input)\n"
                "  local out, sum = {}, 0\n"
                "  for i, x in ipairs(input) do out[i] = x * 2; sum = sum + x end\n"
                "  return {items = out, sum = sum}\n"
                "end\n",
        .input = array,
        .lim = lim};
    bench("execute 1,000-element array transform (x*2 and sum)", sandbox_execute, &transform);

    sandbox_stats stats;
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = sandbox_run(transform.code, strlen(transform.code), array, &lim, &stats, &err);
    printf("transform run: %" PRId64 " work units, peak memory %" PRId64 " bytes, %" PRId64 " us\n",
           stats.instructions, stats.peak_memory, stats.duration_us);
    json_decref(out);
    json_decref(array);

    const char *main_thread = "function handler()\n" SLOW_BODY "end\n";
    const char *in_coroutine = "function handler()\n  coroutine.wrap(function()\n" SLOW_BODY "  end)()\nend\n";
    overshoot("overshoot: 32 MiB string compares", main_thread, 100, 10);
    overshoot("overshoot: 32 MiB string compares", main_thread, 2000, 3);
    overshoot("overshoot: the same inside coroutine.wrap", in_coroutine, 100, 10);
    overshoot("overshoot: the same inside coroutine.wrap", in_coroutine, 2000, 3);
    return 0;
}

/* Plugin figures in-process: what a hook chain adds to one execution (0, 1, 10 and 50 trivial
 * tool:beforeExecute hooks run by hook_system_run_loaded, the code path of hook_system_run_chain once the
 * worker has the chain cached: a fresh sandbox per hook), and the time to resolve a 50-plugin set with
 * diamonds (core/plugin_resolve, no database). Prints a table, never fails.
 *
 *   cmake --build build --target bench_plugins && build/tests/bench/bench_plugins [seconds-per-figure]
 *
 * Goals: a chain of 10 adds under 1 ms per execution; resolving 50 takes under 5 ms. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hook_system.h"
#include "core/plugin_resolve.h"

static double bench_seconds = 1.0;
static config bench_cfg; /* the defaults: the caps a production worker runs hooks with */

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

typedef int (*bench_fn)(void *arg);

/* Median and p99 of fn's calls over bench_seconds (after a warm-up), in microseconds. */
static void bench(bench_fn fn, void *arg, double *median_us, double *p99_us)
{
    for (int i = 0; i < 20; i++)
        fn(arg);
    size_t cap = 1 << 18, n = 0;
    int64_t *samples = malloc(cap * sizeof *samples);
    int64_t end = now_ns() + (int64_t)(bench_seconds * 1e9);
    while (n < cap && now_ns() < end) {
        int64_t t0 = now_ns();
        if (fn(arg) < 0) {
            fprintf(stderr, "bench: a call failed\n");
            exit(1);
        }
        samples[n++] = now_ns() - t0;
    }
    qsort(samples, n, sizeof *samples, cmp_i64);
    *median_us = (double)samples[n / 2] / 1e3;
    *p99_us = (double)samples[n * 99 / 100] / 1e3;
    free(samples);
}

/* ---- chains ----------------------------------------------------------------------------------------- */

typedef struct {
    plugin_manager_chain chain;
    json_t *input, *context;
} chain_case;

static const char trivial_hook[] = "function hook(input, context) return input end";

static void chain_make(chain_case *c, size_t n)
{
    memset(c, 0, sizeof *c);
    c->chain.entries = calloc(n ? n : 1, sizeof *c->chain.entries);
    c->chain.count = n;
    for (size_t i = 0; i < n; i++) {
        plugin_manager_chain_entry *e = &c->chain.entries[i];
        char name[32];
        snprintf(name, sizeof name, "trivial-%02zu", i);
        e->name = strdup(name);
        e->version = strdup("1.0.0");
        e->code[PLUGIN_HOOK_TOOL_BEFORE_EXECUTE] = strdup(trivial_hook);
        e->code_len[PLUGIN_HOOK_TOOL_BEFORE_EXECUTE] = strlen(trivial_hook);
    }
    c->input = json_pack("{s:i}", "n", 41);
    c->context = json_pack("{s:s, s:s}", "tool", "bench", "tool_version", "1.0.0");
}

static int chain_run(void *arg)
{
    chain_case *c = arg;
    mkt_error err = MKT_ERROR_INIT;
    tool_check_budget budget;
    tool_check_budget_start(&budget, &bench_cfg);
    json_t *out = hook_system_run_loaded(&bench_cfg, &c->chain, PLUGIN_HOOK_TOOL_BEFORE_EXECUTE, c->input, c->context,
                                         &budget, NULL, &err);
    int rc = out ? 0 : -1;
    if (!out)
        fprintf(stderr, "bench: %s\n", err.message);
    json_decref(out);
    error_clear(&err);
    return rc;
}

/* ---- resolution -------------------------------------------------------------------------------------- */

/* 10 bases with 2 versions, 20 middles each on two bases (diamonds), 50 tops each on two middles and a
 * base: 80 plugins resolved for 50 asked for. */
#define RB_BASES 10
#define RB_MIDDLES 20
#define RB_TOPS 50

typedef struct {
    plugin_resolve_plugin plugins[RB_BASES + RB_MIDDLES + RB_TOPS];
    plugin_resolve_version versions[2 * RB_BASES + RB_MIDDLES + RB_TOPS];
    plugin_resolve_dep deps[3 * (RB_MIDDLES + RB_TOPS)];
    char names[RB_BASES + RB_MIDDLES + RB_TOPS][24];
    size_t count;
    plugin_resolve_request req[RB_TOPS];
} resolve_case;

static const plugin_resolve_plugin *resolve_find(void *ctx, const char *name, mkt_error *err)
{
    (void)err;
    resolve_case *r = ctx;
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->plugins[i].name, name) == 0)
            return &r->plugins[i];
    return NULL;
}

static void resolve_make(resolve_case *r)
{
    memset(r, 0, sizeof *r);
    size_t v = 0, d = 0;
    for (size_t i = 0; i < RB_BASES + RB_MIDDLES + RB_TOPS; i++) {
        const char *kind = i < RB_BASES ? "base" : i < RB_BASES + RB_MIDDLES ? "middle" : "top";
        snprintf(r->names[i], sizeof r->names[i], "%s-%02zu", kind, i);
        plugin_resolve_plugin *p = &r->plugins[r->count++];
        p->name = r->names[i];
        p->versions = &r->versions[v];
        if (i < RB_BASES) {
            r->versions[v++] = (plugin_resolve_version){(int64_t)v, "1.0.0", (int64_t)(i % 4), NULL, 0};
            r->versions[v++] = (plugin_resolve_version){(int64_t)v, "1.2.0", (int64_t)(i % 4), NULL, 0};
            p->version_count = 2;
            continue;
        }
        plugin_resolve_version *pv = &r->versions[v++];
        *pv = (plugin_resolve_version){(int64_t)v, "2.0.0", (int64_t)(i % 7), &r->deps[d], 0};
        p->version_count = 1;
        if (i < RB_BASES + RB_MIDDLES) {
            r->deps[d++] = (plugin_resolve_dep){r->names[i % RB_BASES], "^1.0.0"};
            r->deps[d++] = (plugin_resolve_dep){r->names[(i * 3 + 1) % RB_BASES], "~1.2.0"};
            pv->dep_count = 2;
        } else {
            r->deps[d++] = (plugin_resolve_dep){r->names[RB_BASES + i % RB_MIDDLES], "^2"};
            r->deps[d++] = (plugin_resolve_dep){r->names[RB_BASES + (i * 7 + 3) % RB_MIDDLES], ">=2.0.0 <3"};
            r->deps[d++] = (plugin_resolve_dep){r->names[i % RB_BASES], "1.x"};
            pv->dep_count = 3;
            r->req[i - RB_BASES - RB_MIDDLES] = (plugin_resolve_request){r->names[i], "^2.0.0"};
        }
    }
}

static int resolve_run(void *arg)
{
    resolve_case *r = arg;
    plugin_resolve_item *items = NULL;
    size_t n = 0;
    mkt_error err = MKT_ERROR_INIT;
    int rc = plugin_resolve(r->req, RB_TOPS, resolve_find, r, &items, &n, &err);
    if (rc < 0 || n != RB_BASES + RB_MIDDLES + RB_TOPS) {
        fprintf(stderr, "bench: resolution failed: %s\n", err.message ? err.message : "wrong count");
        rc = -1;
    }
    free(items);
    error_clear(&err);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        bench_seconds = atof(argv[1]);
    config_defaults(&bench_cfg);
    printf("%-52s %12s %12s %14s\n", "in-process", "median us", "p99 us", "added/hook us");
    double base = 0;
    static const size_t sizes[] = {0, 1, 10, 50};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        chain_case c;
        chain_make(&c, sizes[i]);
        double median, p99;
        bench(chain_run, &c, &median, &p99);
        if (sizes[i] == 0)
            base = median;
        char label[80];
        snprintf(label, sizeof label, "tool:beforeExecute chain of %zu trivial hooks", sizes[i]);
        printf("%-52s %12.1f %12.1f %14.1f\n", label, median, p99,
               sizes[i] ? (median - base) / (double)sizes[i] : 0.0);
        plugin_manager_chain_free(&c.chain);
        json_decref(c.input);
        json_decref(c.context);
    }
    resolve_case *r = malloc(sizeof *r);
    resolve_make(r);
    double median, p99;
    bench(resolve_run, r, &median, &p99);
    printf("%-52s %12.1f %12.1f %14s\n", "resolve 50 asked (80 with diamonds), no database", median, p99, "-");
    free(r);
    config_free(&bench_cfg);
    return 0;
}

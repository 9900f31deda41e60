/* Composed tools end to end through nginx: a tool declares `dependencies` and calls them with
 * tools.call; publishing resolves and stores them (cycles and chains deeper than 4 refused); a paid
 * callee needs the calling tool's developer to own it, at publish and on every run; callee calls count as
 * executions of the callee; hostile callees are contained (422, the worker lives and serves the next
 * run normally), and a callee's loop spends the caller's one budget. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/provider.h"

#define INT_N_SCHEMA "{\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\"}}, \"required\": [\"n\"]}"
#define DOUBLE_CODE "function handler(input) return {n = input.n * 2} end"
#define SAME_WORKER_TRIES 60

static http_user g_dev, g_caller_dev, g_buyer;

/* ---- helpers ------------------------------------------------------------------------------------ */

/* POST /tools as dev: a tool {n} -> {n} with code, dependencies (JSON text or NULL), tests (JSON text
 * or NULL: none) and pricing (JSON text or NULL: free). Returns the answer. */
static http_response *create_tool(const http_user *dev, const char *slug, const char *code, const char *deps,
                                  const char *tests, const char *pricing)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "slug", slug, "name", "Composed case", "category",
                             "math", "code", code, "input_schema", fixture_json(INT_N_SCHEMA), "output_schema",
                             fixture_json(INT_N_SCHEMA), "tests", fixture_json(tests ? tests : "[]"));
    if (deps)
        json_object_set_new(body, "dependencies", fixture_json(deps));
    if (pricing)
        json_object_set_new(body, "pricing", fixture_json(pricing));
    http_response *res = http_post_json("/tools", dev->token, body);
    json_decref(body);
    return res;
}

static http_response *publish(const http_user *dev, const char *slug, const char *version)
{
    char path[192], body[64];
    snprintf(path, sizeof path, "/tools/%s/publish", slug);
    snprintf(body, sizeof body, "{\"version\": \"%s\"}", version);
    return http_post_text(path, dev->token, body);
}

/* A tool created and published as 1.0.0; exits 2 when the set-up fails. */
static void published_tool(const http_user *dev, const char *slug, const char *code, const char *deps,
                           const char *pricing)
{
    http_response *res = create_tool(dev, slug, code, deps, NULL, pricing);
    if (res->status != 201) {
        http_dump("create", res);
        exit(2);
    }
    http_response_free(res);
    res = publish(dev, slug, "1.0.0");
    if (res->status != 201) {
        http_dump("publish", res);
        exit(2);
    }
    http_response_free(res);
}

static http_response *execute(const http_user *u, const char *slug, long n)
{
    char path[192], body[64];
    snprintf(path, sizeof path, "/tools/%s/execute", slug);
    snprintf(body, sizeof body, "{\"input\": {\"n\": %ld}}", n);
    return http_post_text(path, u->token, body);
}

/* The run answers 200 with output.n == n. */
static void expect_output(const http_user *u, const char *slug, long in, long out, int line)
{
    http_response *res = execute(u, slug, in);
    json_int_t got = json_integer_value(json_object_get(json_object_get(res->json, "output"), "n"));
    if (res->status != 200 || got != out) {
        fprintf(stderr, "  line %d: expected output n = %ld\n", line, out);
        http_dump("got", res);
        check_failures++;
    }
    http_response_free(res);
}

/* The answer is a 422 problem whose detail (or a field message) contains needle. */
static int problem_says(const http_response *res, const char *needle)
{
    if (!http_is_problem(res, 422))
        return 0;
    const char *detail = json_string_value(json_object_get(res->json, "detail"));
    if (detail && strstr(detail, needle))
        return 1;
    json_t *errors = json_object_get(res->json, "errors");
    for (size_t i = 0; i < json_array_size(errors); i++) {
        const char *m = json_string_value(json_object_get(json_array_get(errors, i), "message"));
        if (m && strstr(m, needle))
            return 1;
    }
    return 0;
}

static void expect_422_at(http_response *res, const char *field, const char *needle, int line)
{
    if (!problem_says(res, needle) || (field && !http_problem_has_field(res, field))) {
        fprintf(stderr, "  line %d: expected a 422%s%s saying \"%s\"\n", line, field ? " naming " : "",
                field ? field : "", needle);
        http_dump("got", res);
        check_failures++;
    }
    http_response_free(res);
}
#define EXPECT_422(res, field, needle) expect_422_at((res), (field), (needle), __LINE__)

static http_response *patch(const http_user *dev, const char *slug, const char *body)
{
    char path[192];
    snprintf(path, sizeof path, "/tools/%s", slug);
    return http_request("PATCH", path, dev->token, NULL, body, strlen(body), NULL);
}

static char *slug_copy(char *dst, const char *tag)
{
    snprintf(dst, FIXTURE_SLUG_SIZE, "%s", fixture_slug(tag));
    return dst;
}

/* Code that returns tools.call(slug, {n = input.n}) (plus extra Lua before it). */
static char *calling_code(char *dst, size_t cap, const char *slug)
{
    snprintf(dst, cap, "function handler(input) return tools.call('%s', {n = input.n}) end", slug);
    return dst;
}

static char *deps_of(char *dst, size_t cap, const char *slug, const char *range)
{
    snprintf(dst, cap, "{\"%s\": \"%s\"}", slug, range);
    return dst;
}

static int64_t executions_of(const char *slug)
{
    return fixture_sql_int("SELECT COALESCE(SUM(e.executions), 0) FROM tool_execution_days e"
                           " JOIN tools t ON t.id = e.tool_id WHERE t.slug = ?",
                           db_text(slug));
}

/* ---- the cases --------------------------------------------------------------------------------- */

static char g_double[FIXTURE_SLUG_SIZE];

static void test_free_callee(void)
{
    char quad[FIXTURE_SLUG_SIZE], code[1024], deps[1024];
    slug_copy(quad, "quad");
    snprintf(code, sizeof code,
             "function handler(input) local a = tools.call('%s', {n = input.n})"
             " return tools.call('%s', a) end",
             g_double, g_double);
    deps_of(deps, sizeof deps, g_double, "^1.0.0");
    http_response *res = create_tool(&g_caller_dev, quad, code, deps,
                                     "[{\"name\": \"four\", \"input\": {\"n\": 1}, \"expected\": {\"n\": 4}}]", NULL);
    EXPECT_STATUS(res, 201);
    CHECK(json_is_object(json_object_get(res->json, "dependencies")));
    http_response_free(res);
    /* the draft's test run calls the callee */
    char path[192];
    snprintf(path, sizeof path, "/tools/%s/test", quad);
    res = http_post_text(path, g_caller_dev.token, "{}");
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "passed")), 1);
    http_response_free(res);
    res = publish(&g_caller_dev, quad, "1.0.0");
    EXPECT_STATUS(res, 201);
    CHECK_STR(json_string_value(json_object_get(json_object_get(res->json, "dependencies"), g_double)), "1.0.0");
    http_response_free(res);
    expect_output(&g_buyer, quad, 3, 12, __LINE__);

    /* a newer callee version inside the range changes nothing: the resolution is stored */
    res = patch(&g_dev, g_double, "{\"code\": \"function handler(input) return {n = input.n * 3} end\"}");
    EXPECT_STATUS_FREE(res, 200);
    EXPECT_STATUS_FREE(publish(&g_dev, g_double, "1.1.0"), 201);
    expect_output(&g_buyer, quad, 3, 12, __LINE__);
    /* and the callee's executions were counted: two calls per run, two runs; written back in batches */
    int64_t counted = 0, runs = 0;
    for (int i = 0; i < 50 && ((counted = executions_of(g_double)) < 4 || (runs = executions_of(quad)) < 2); i++)
        usleep(100 * 1000);
    CHECK_INT(counted, 4);
    CHECK_INT(runs, 2);
}

/* A figure, not a check: what one tools.call costs in the steady state (cached callee version, one
 * query for its current status and price). */
static void test_call_cost(void)
{
    char many[FIXTURE_SLUG_SIZE], one[FIXTURE_SLUG_SIZE], code[1024], deps[1024];
    snprintf(code, sizeof code,
             "function handler(input) local s = 0 for i = 1, 200 do s = s + tools.call('%s', {n = i}).n end"
             " return {n = s} end",
             g_double);
    published_tool(&g_caller_dev, slug_copy(many, "many-calls"), code, deps_of(deps, sizeof deps, g_double, "1.0.0"),
                   NULL);
    published_tool(&g_caller_dev, slug_copy(one, "no-calls"), "function handler(input) return {n = 40200} end", NULL,
                   NULL);
    json_int_t best_many = -1, best_one = -1;
    for (int i = 0; i < 5; i++) {
        http_response *a = execute(&g_buyer, many, 0), *b = execute(&g_buyer, one, 0);
        CHECK_INT(json_integer_value(json_object_get(json_object_get(a->json, "output"), "n")), 40200);
        json_int_t da = json_integer_value(json_object_get(a->json, "duration_us"));
        json_int_t db = json_integer_value(json_object_get(b->json, "duration_us"));
        if (best_many < 0 || da < best_many)
            best_many = da;
        if (best_one < 0 || db < best_one)
            best_one = db;
        http_response_free(a);
        http_response_free(b);
    }
    fprintf(stderr, "    200 tools.call in %lld us (best of 5), a tool calling nothing %lld us: %.1f us per call\n",
            (long long)best_many, (long long)best_one, (double)(best_many - best_one) / 200.0);
}

static void test_draft_fields(void)
{
    char slug[FIXTURE_SLUG_SIZE], deps[1024];
    slug_copy(slug, "fields");
    EXPECT_422(create_tool(&g_caller_dev, slug, DOUBLE_CODE, "{\"no-such-tool-here\": \"^1\"}", NULL, NULL),
               "dependencies.no-such-tool-here", "no published tool");
    EXPECT_422(create_tool(&g_caller_dev, slug, DOUBLE_CODE, deps_of(deps, sizeof deps, g_double, ">=x.y"), NULL,
                           NULL),
               NULL, "is not a semver range");
    EXPECT_422(create_tool(&g_caller_dev, slug, DOUBLE_CODE, deps_of(deps, sizeof deps, slug, "^1"), NULL, NULL),
               NULL, "cannot depend on itself");
    EXPECT_422(create_tool(&g_caller_dev, slug, DOUBLE_CODE, "[\"a\"]", NULL, NULL), "dependencies",
               "must be an object");
    char many[2048] = "{";
    for (int i = 0; i < 17; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"tool-%d-x\": \"^1\"", i ? ", " : "", i);
    strcat(many, "}");
    EXPECT_422(create_tool(&g_caller_dev, slug, DOUBLE_CODE, many, NULL, NULL), "dependencies", "at most 16");
    /* self-dependency through PATCH, where the slug is the stored one */
    http_response *res = create_tool(&g_caller_dev, slug, DOUBLE_CODE, NULL, NULL, NULL);
    EXPECT_STATUS_FREE(res, 201);
    EXPECT_STATUS_FREE(publish(&g_caller_dev, slug, "1.0.0"), 201);
    char path[192], body[1024];
    snprintf(path, sizeof path, "/tools/%s", slug);
    snprintf(body, sizeof body, "{\"dependencies\": {\"%s\": \"^1\"}}", slug);
    res = patch(&g_caller_dev, slug, body);
    char field[256];
    snprintf(field, sizeof field, "dependencies.%s", slug);
    EXPECT_422(res, field, "cannot depend on itself");
    /* a range nothing satisfies: the draft is kept, publishing says which */
    snprintf(body, sizeof body, "{\"dependencies\": {\"%s\": \"^7.0.0\"}}", g_double);
    res = patch(&g_caller_dev, slug, body);
    EXPECT_STATUS_FREE(res, 200);
    snprintf(field, sizeof field, "dependencies.%s", g_double);
    EXPECT_422(publish(&g_caller_dev, slug, "1.1.0"), field, "no published version satisfies");
    snprintf(path, sizeof path, "/tools/%s/validate", slug);
    res = http_post_text(path, g_caller_dev.token, "{}");
    EXPECT_STATUS(res, 200);
    CHECK(json_is_false(json_object_get(res->json, "valid")));
    http_response_free(res);
}

static void test_paid_callee(void)
{
    char paid[FIXTURE_SLUG_SIZE], paid_id[FIXTURE_ID_SIZE], user[FIXTURE_SLUG_SIZE], code[1024], deps[1024], txn[32];
    slug_copy(paid, "paid");
    published_tool(&g_dev, paid, DOUBLE_CODE, NULL,
                   "{\"model\": \"one_time\", \"price_cents\": 500, \"currency\": \"USD\"}");
    snprintf(paid_id, sizeof paid_id, "%lld",
             (long long)fixture_sql_int("SELECT id FROM tools WHERE slug = ?", db_text(paid)));
    slug_copy(user, "uses-paid");
    http_response *res = create_tool(&g_caller_dev, user, calling_code(code, sizeof code, paid),
                                     deps_of(deps, sizeof deps, paid, "^1"), NULL, NULL);
    EXPECT_STATUS_FREE(res, 201);
    char field[256];
    snprintf(field, sizeof field, "dependencies.%s", paid);
    EXPECT_422(publish(&g_caller_dev, user, "1.0.0"), field, "buy it first");
    /* the caller's developer buys it: publishing works, and buyers of the composed tool run it */
    CHECK(fixture_buy(&g_caller_dev, paid_id, 500, txn) == 0);
    EXPECT_STATUS_FREE(publish(&g_caller_dev, user, "1.0.0"), 201);
    expect_output(&g_buyer, user, 5, 10, __LINE__);
    /* refunded: access is checked again on every run */
    res = provider_payment_refunded(NULL, txn, 500);
    EXPECT_STATUS_FREE(res, 200);
    res = execute(&g_buyer, user, 5);
    EXPECT_422(res, NULL, "may not call it");
    fixture_check_money_at(__LINE__);
}

static void test_depth_and_cycles(void)
{
    char chain[5][FIXTURE_SLUG_SIZE], code[1024], deps[1024];
    slug_copy(chain[0], "c1");
    published_tool(&g_dev, chain[0], DOUBLE_CODE, NULL, NULL);
    for (int i = 1; i < 4; i++)
        published_tool(&g_dev, slug_copy(chain[i], "cn"), calling_code(code, sizeof code, chain[i - 1]),
                       deps_of(deps, sizeof deps, chain[i - 1], "*"), NULL);
    /* four tools deep runs */
    expect_output(&g_buyer, chain[3], 1, 2, __LINE__);
    /* a fifth refused at publish, naming the chain */
    slug_copy(chain[4], "c5");
    EXPECT_STATUS_FREE(create_tool(&g_dev, chain[4], calling_code(code, sizeof code, chain[3]),
                                   deps_of(deps, sizeof deps, chain[3], "*"), NULL, NULL),
                       201);
    char chain_text[1024];
    snprintf(chain_text, sizeof chain_text, "%s -> %s -> %s -> %s -> %s", chain[4], chain[3], chain[2], chain[1],
             chain[0]);
    EXPECT_422(publish(&g_dev, chain[4], "1.0.0"), "dependencies", chain_text);
    /* ... and at run time for a draft calling the 4-deep chain: the fifth live tool is refused */
    char path[192];
    snprintf(path, sizeof path, "/tools/%s", chain[4]);
    char tests[] = "{\"tests\": [{\"name\": \"deep\", \"input\": {\"n\": 1}, \"expected\": {\"n\": 2}}]}";
    EXPECT_STATUS_FREE(patch(&g_dev, chain[4], tests), 200);
    snprintf(path, sizeof path, "/tools/%s/test", chain[4]);
    http_response *res = http_post_text(path, g_dev.token, "{}");
    const char *error = json_string_value(json_object_get(json_array_get(json_object_get(res->json, "results"), 0),
                                                          "error"));
    CHECK(res->status == 200 && error && strstr(error, "call depth limit exceeded"));
    http_response_free(res);

    /* a 2-cycle: x <- y, then x would call y */
    char x[FIXTURE_SLUG_SIZE], y[FIXTURE_SLUG_SIZE], text[1024];
    published_tool(&g_dev, slug_copy(x, "x"), DOUBLE_CODE, NULL, NULL);
    published_tool(&g_dev, slug_copy(y, "y"), calling_code(code, sizeof code, x), deps_of(deps, sizeof deps, x, "^1"),
                   NULL);
    char body[1024];
    snprintf(body, sizeof body, "{\"dependencies\": {\"%s\": \"^1\"}}", y);
    EXPECT_STATUS_FREE(patch(&g_dev, x, body), 200);
    snprintf(text, sizeof text, "%s -> %s -> %s", x, y, x);
    EXPECT_422(publish(&g_dev, x, "2.0.0"), "dependencies", text);
    /* a 3-cycle: p <- q <- r, then p would call r */
    char p[FIXTURE_SLUG_SIZE], q[FIXTURE_SLUG_SIZE], r[FIXTURE_SLUG_SIZE];
    published_tool(&g_dev, slug_copy(p, "p"), DOUBLE_CODE, NULL, NULL);
    published_tool(&g_dev, slug_copy(q, "q"), calling_code(code, sizeof code, p), deps_of(deps, sizeof deps, p, "^1"),
                   NULL);
    published_tool(&g_dev, slug_copy(r, "r"), calling_code(code, sizeof code, q), deps_of(deps, sizeof deps, q, "^1"),
                   NULL);
    snprintf(body, sizeof body, "{\"dependencies\": {\"%s\": \"^1\"}}", r);
    EXPECT_STATUS_FREE(patch(&g_dev, p, body), 200);
    snprintf(text, sizeof text, "%s -> %s -> %s -> %s", p, r, q, p);
    EXPECT_422(publish(&g_dev, p, "2.0.0"), "dependencies", text);
}

/* Two publishes that would close a cycle together, sent at once: exactly one may win. */
typedef struct {
    const char *slug;
    long status;
} publish_job;

static void *publish_thread(void *arg)
{
    publish_job *job = arg;
    http_response *res = publish(&g_dev, job->slug, "2.0.0");
    job->status = res->status;
    if (res->status != 201 && !problem_says(res, "cycle"))
        http_dump("concurrent publish", res);
    http_response_free(res);
    return NULL;
}

/* The new edges p -> q and r -> s close p -> q -> r -> s -> p over the stored q -> r and s -> p. The
 * two publishes lock different rows (p and r, and the foreign keys' q and s), so only the shared locks
 * on the edges they read keep them from both passing. */
static void test_concurrent_cycle(void)
{
    for (int round = 0; round < 20; round++) {
        char p[FIXTURE_SLUG_SIZE], q[FIXTURE_SLUG_SIZE], r[FIXTURE_SLUG_SIZE], t[FIXTURE_SLUG_SIZE], body[1024];
        char code[1024], deps[1024];
        published_tool(&g_dev, slug_copy(p, "cp"), DOUBLE_CODE, NULL, NULL);
        published_tool(&g_dev, slug_copy(r, "cr"), DOUBLE_CODE, NULL, NULL);
        published_tool(&g_dev, slug_copy(q, "cq"), calling_code(code, sizeof code, r), deps_of(deps, sizeof deps, r, "*"),
                       NULL);
        published_tool(&g_dev, slug_copy(t, "cs"), calling_code(code, sizeof code, p), deps_of(deps, sizeof deps, p, "*"),
                       NULL);
        snprintf(body, sizeof body, "{\"dependencies\": {\"%s\": \"*\"}}", q);
        EXPECT_STATUS_FREE(patch(&g_dev, p, body), 200);
        snprintf(body, sizeof body, "{\"dependencies\": {\"%s\": \"*\"}}", t);
        EXPECT_STATUS_FREE(patch(&g_dev, r, body), 200);
        publish_job jobs[2] = {{p, 0}, {r, 0}};
        pthread_t threads[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&threads[i], NULL, publish_thread, &jobs[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(threads[i], NULL);
        int won = (jobs[0].status == 201) + (jobs[1].status == 201);
        int refused = (jobs[0].status == 422) + (jobs[1].status == 422);
        if (won != 1 || refused != 1) {
            fprintf(stderr, "  round %d: expected one publish and one cycle refusal, got %ld and %ld\n", round,
                    jobs[0].status, jobs[1].status);
            check_failures++;
        }
    }
}

/* POST /plugins: a one-hook plugin (exits 2 when set-up fails); its name into name. */
static void plugin(const char *tag, const char *hook, const char *code, char *name)
{
    snprintf(name, FIXTURE_SLUG_SIZE, "%s", fixture_slug(tag));
    json_t *body = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{}, s:i}", "name", name, "version", "1.0.0", "description",
                             "a test plugin", "hooks", hook, code, "dependencies", "priority", 0);
    http_response *res = http_post_json("/plugins", g_dev.token, body);
    json_decref(body);
    if (res->status != 201) {
        http_dump("plugin", res);
        exit(2);
    }
    http_response_free(res);
}

static void test_callee_hooks(void)
{
    char hooked[FIXTURE_SLUG_SIZE], caller[FIXTURE_SLUG_SIZE], before[FIXTURE_SLUG_SIZE], after[FIXTURE_SLUG_SIZE];
    char code[1024], deps[1024], set[1024], path[192];
    published_tool(&g_dev, slug_copy(hooked, "hooked"), DOUBLE_CODE, NULL, NULL);
    published_tool(&g_caller_dev, slug_copy(caller, "calls-hooked"), calling_code(code, sizeof code, hooked),
                   deps_of(deps, sizeof deps, hooked, "^1"), NULL);
    plugin("plus-one", "tool:beforeExecute", "function hook(input, context) input.n = input.n + 1 return input end",
           before);
    snprintf(code, sizeof code,
             "function hook(output, context) assert(context.called_by == '%s' and context.tool == '%s')"
             " output.n = output.n * 10 return output end",
             caller, hooked);
    plugin("tenfold", "tool:afterExecute", code, after);
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^1\"}, {\"name\": \"%s\", \"range\": \"^1\"}]", before,
             after);
    snprintf(path, sizeof path, "/tools/%s/plugins", hooked);
    EXPECT_STATUS_FREE(http_request("PUT", path, g_dev.token, NULL, set, strlen(set), NULL), 200);
    /* the callee's chain applies around the nested call: (1 + 1) * 2 * 10 */
    expect_output(&g_buyer, caller, 1, 40, __LINE__);
    /* a hook that fails fails the call, naming the plugin */
    char failing[FIXTURE_SLUG_SIZE];
    plugin("refuses", "tool:beforeExecute", "function hook(input, context) error('no thanks', 0) end", failing);
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^1\"}]", failing);
    EXPECT_STATUS_FREE(http_request("PUT", path, g_dev.token, NULL, set, strlen(set), NULL), 200);
    http_response *res = execute(&g_buyer, caller, 1);
    EXPECT_422(res, NULL, failing);
}

/* ---- abuse: contained, and the worker lives --------------------------------------------------- */

static char g_normal[FIXTURE_SLUG_SIZE];
static int g_cases, g_same_worker_hits;

/* Runs the normal composed tool until worker pid serves it (every run must succeed); 1 when it did. As
 * in e2e.sandbox_abuse, nginx may keep sending the runs elsewhere, so the hits are counted over all
 * cases rather than required of each. */
static int normal_run_on_worker(long pid, const char *name)
{
    for (int i = 0; i < SAME_WORKER_TRIES; i++) {
        http_response *res = execute(&g_buyer, g_normal, 21);
        int ok = res->status == 200 && json_integer_value(json_object_get(json_object_get(res->json, "output"), "n")) ==
                                           42;
        long served_by = ok ? fixture_worker_pid_of(res->request_id) : 0;
        if (!ok) {
            fprintf(stderr, "  %s: the normal composed tool failed after the abuse case\n", name);
            http_dump("normal", res);
            check_failures++;
        }
        http_response_free(res);
        if (!ok)
            return 0;
        if (served_by == pid)
            return 1;
    }
    fprintf(stderr, "    %s: worker %ld did not serve the normal tool in %d runs\n", name, pid, SAME_WORKER_TRIES);
    return 0;
}

/* A caller whose code is caller_code (%s is the callee's slug) calls a callee whose code is callee_code;
 * the run must be a 422 containing expect (or alt). */
static void abuse_case(const char *name, const char *callee_code, const char *caller_code, const char *expect,
                       const char *alt)
{
    char callee[FIXTURE_SLUG_SIZE], caller[FIXTURE_SLUG_SIZE], code[2048], deps[1024];
    published_tool(&g_dev, slug_copy(callee, name), callee_code, NULL, NULL);
    snprintf(code, sizeof code, caller_code, callee, callee, callee);
    published_tool(&g_caller_dev, slug_copy(caller, "caller"), code, deps_of(deps, sizeof deps, callee, "^1"), NULL);
    http_response *res = execute(&g_buyer, caller, 1);
    int ok = problem_says(res, expect) || (alt && problem_says(res, alt));
    if (!ok) {
        fprintf(stderr, "  %s: expected a 422 saying \"%s\"%s%s\n", name, expect, alt ? " or " : "", alt ? alt : "");
        http_dump("got", res);
        check_failures++;
    } else {
        fprintf(stderr, "    %-16s 422 in %.0f ms: %.160s\n", name, res->seconds * 1000.0,
                json_string_value(json_object_get(res->json, "detail")));
    }
    long pid = fixture_worker_pid_of(res->request_id);
    http_response_free(res);
    CHECK(pid > 0);
    g_cases++;
    g_same_worker_hits += normal_run_on_worker(pid, name);
    if (pid > 0 && kill((pid_t)pid, 0) != 0) {
        fprintf(stderr, "  %s: worker %ld is gone\n", name, pid);
        check_failures++;
    }
}

#define CALLS_IT "function handler(input) return tools.call('%s', {n = input.n}) end"

static void test_abuse(void)
{
    char code[1024], deps[1024];
    published_tool(&g_caller_dev, slug_copy(g_normal, "normal"), calling_code(code, sizeof code, g_double),
                   deps_of(deps, sizeof deps, g_double, "1.0.0"), NULL);
    /* the callee's loop is stopped by the caller's budget, and the report names the call */
    abuse_case("loop", "function handler(input) while true do end end", CALLS_IT, "limit exceeded", NULL);
    abuse_case("loop-caught",
               "function handler(input) while true do end end",
               "function handler(input) local ok = pcall(tools.call, '%s', {n = 1}) while true do end end",
               "limit exceeded", NULL);
    abuse_case("membomb",
               "function handler(input) local t = {} local i = 0 while true do i = i + 1; t[i] = {i, i, tostring(i)}"
               " end end",
               CALLS_IT, "memory limit exceeded", "time limit exceeded");
    abuse_case("recursion", "local function f(n) return f(n + 1) + 1 end function handler(input) return {n = f(1)} end",
               CALLS_IT, "overflow", "memory limit exceeded");
    abuse_case("forbidden", "function handler(input) return {n = io.open('/etc/passwd')} end", CALLS_IT,
               "handler error", NULL);
    abuse_case("undeclared", DOUBLE_CODE, "function handler(input) return tools.call('not-declared-x', input) end",
               "is not among the dependencies", NULL);
    abuse_case("non-table", DOUBLE_CODE, "function handler(input) return tools.call('%s', 5) end",
               "the input must be a table", NULL);
    abuse_case("arity", DOUBLE_CODE, "function handler(input) return tools.call('%s') end", "takes 2 arguments",
               NULL);
    abuse_case("huge-input", DOUBLE_CODE,
               "function handler(input) local t = {} for i = 1, 400000 do t[i] = 'xxxxxxxxxxxxxxxx' end"
               " return tools.call('%s', {n = 1, pad = t}) end",
               "input too large", "memory limit exceeded");
    abuse_case("bad-input", DOUBLE_CODE, "function handler(input) return tools.call('%s', {n = 'nine'}) end",
               "does not match the input schema", NULL);
    fprintf(stderr, "    the worker of the case served the normal tool next in %d of %d cases\n", g_same_worker_hits,
            g_cases);
    CHECK(g_same_worker_hits * 10 >= g_cases * 9);
}

int main(void)
{
    fixture_developer(&g_dev, "Callee maker");
    fixture_developer(&g_caller_dev, "Composer");
    fixture_user(&g_buyer);
    published_tool(&g_dev, slug_copy(g_double, "double"), DOUBLE_CODE, NULL, NULL);
    RUN(test_draft_fields);
    RUN(test_free_callee);
    RUN(test_paid_callee);
    RUN(test_depth_and_cycles);
    RUN(test_concurrent_cycle);
    RUN(test_callee_hooks);
    RUN(test_call_cost);
    RUN(test_abuse);
    fixture_close();
    return check_finish();
}

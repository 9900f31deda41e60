/* The caches end to end, through nginx and the stack's 4 workers: every worker's cached copy (a
 * tool's public view, the version an execute runs, the caller's profile) is warmed first, then a
 * write in one worker must be seen by the next read in EVERY worker; ETag / If-None-Match -> 304
 * and Cache-Control on public reads (no-store elsewhere); nginx's microcache answers anonymous
 * reads only, never a signed-in one, and a change reaches anonymous readers within its promise. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/procs.h"

#define WORKERS 4 /* scripts/stack --test */
#define BURST_THREADS 4
#define BURST_EACH 6
#define BURST (BURST_THREADS * BURST_EACH)
/* How long bursts go on before a worker counts as unreachable: longer than another test may hold one
 * (a draft's tests run up to 8 s, e2e.tool_budget holds two workers so), with room for a loaded machine. */
#define REACH_S 30.0

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
    const char *method, *path, *token, *body;
    http_response *res[BURST_EACH];
} burst_arg;

static void *burst_run(void *p)
{
    burst_arg *a = p;
    for (int i = 0; i < BURST_EACH; i++)
        a->res[i] = a->body ? http_post_text(a->path, a->token, a->body) : http_request(a->method, a->path, a->token, NULL, NULL, 0, NULL);
    return NULL;
}

/* BURST requests from BURST_THREADS clients at once, so every worker answers some; into out[]. */
static void burst(const char *method, const char *path, const char *token, const char *body, http_response **out)
{
    pthread_t threads[BURST_THREADS];
    burst_arg args[BURST_THREADS];
    for (int t = 0; t < BURST_THREADS; t++) {
        args[t] = (burst_arg){.method = method, .path = path, .token = token, .body = body};
        pthread_create(&threads[t], NULL, burst_run, &args[t]);
    }
    for (int t = 0; t < BURST_THREADS; t++) {
        pthread_join(threads[t], NULL);
        memcpy(out + t * BURST_EACH, args[t].res, sizeof args[t].res);
    }
}

static void burst_free(http_response **res)
{
    for (int i = 0; i < BURST; i++)
        http_response_free(res[i]);
}

/* How many distinct workers answered res[] with at least `times` answers each. */
/* Counts the workers that answered res into pids/counts (distinct so far, grown). */
static void workers_count(http_response **res, long *pids, int *counts, int *distinct, int cap)
{
    for (int i = 0; i < BURST; i++) {
        long pid = fixture_worker_pid_of(res[i]->request_id);
        if (pid <= 0)
            continue;
        int k = 0;
        while (k < *distinct && pids[k] != pid)
            k++;
        if (k == *distinct) {
            if (*distinct == cap)
                continue;
            pids[k] = pid;
            counts[(*distinct)++] = 0;
        }
        counts[k]++;
    }
}

/* Repeats bursts until every worker answered at least twice in all (the second read of a slug is the
 * one a worker keeps); the bursts add up, so a worker busy with another test's long request for a
 * while is still reached. */
static int warm_every_worker(const char *method, const char *path, const char *token, const char *body)
{
    long pids[WORKERS * 4];
    int counts[WORKERS * 4], distinct = 0;
    for (double end = now_seconds() + REACH_S; now_seconds() < end;) {
        http_response *res[BURST];
        burst(method, path, token, body, res);
        workers_count(res, pids, counts, &distinct, WORKERS * 4);
        burst_free(res);
        int warm = 0;
        for (int k = 0; k < distinct; k++)
            warm += counts[k] >= 2;
        if (warm >= WORKERS)
            return 1;
    }
    fprintf(stderr, "  could not reach all %d workers twice\n", WORKERS);
    return 0;
}

/* Does res answer status with, when key is set, JSON key == want (a string; "*": any value) or, for
 * want NULL, the integer want_int? */
static int answer_is(const http_response *res, long status, const char *key, const char *want, long long want_int)
{
    json_t *v = key && res->json ? json_object_get(res->json, key) : NULL;
    if (key && want && strcmp(want, "*") == 0)
        return res->status == status && v != NULL;
    return res->status == status && (!key || (want ? json_is_string(v) && strcmp(json_string_value(v), want) == 0
                                                   : json_is_integer(v) && json_integer_value(v) == want_int));
}

/* Bursts after a write, until every worker has answered (for at most REACH_S): every answer must be
 * the new one. */
static void check_every_worker_at(const char *method, const char *path, const char *token, const char *body,
                                  long status, const char *key, const char *want, long long want_int, int line)
{
    long pids[WORKERS * 4];
    int distinct = 0, stale = 0;
    for (double end = now_seconds() + REACH_S; now_seconds() < end && distinct < WORKERS && !stale;) {
        http_response *res[BURST];
        burst(method, path, token, body, res);
        for (int i = 0; i < BURST; i++) {
            long pid = fixture_worker_pid_of(res[i]->request_id);
            int k = 0;
            while (k < distinct && pids[k] != pid)
                k++;
            if (k == distinct && pid > 0 && distinct < (int)(sizeof pids / sizeof pids[0]))
                pids[distinct++] = pid;
            if (!stale && !answer_is(res[i], status, key, want, want_int)) {
                stale = 1;
                fprintf(stderr, "  line %d: an answer of %s %s (worker %ld) is stale:\n", line, method, path, pid);
                http_dump("got", res[i]);
            }
        }
        burst_free(res);
    }
    if (stale)
        check_failures++;
    if (distinct < WORKERS) {
        fprintf(stderr, "  line %d: only %d workers answered\n", line, distinct);
        check_failures++;
    }
}
#define CHECK_EVERY_WORKER(method, path, token, body, status, key, want, want_int)                      \
    check_every_worker_at((method), (path), (token), (body), (status), (key), (want), (want_int), __LINE__)

static void tool_path(char *out, size_t size, const char *ref, const char *suffix)
{
    snprintf(out, size, "/tools/%s%s", ref, suffix);
}

static long patch_tool(const http_user *dev, const char *ref, const char *json)
{
    char path[160];
    tool_path(path, sizeof path, ref, "");
    return http_status_free(http_request("PATCH", path, dev->token, NULL, json, strlen(json), NULL));
}

/* ---- the public view -------------------------------------------------------------------------- */

static void test_view_changes_reach_every_worker(void)
{
    http_user dev, reader, runner;
    fixture_developer(&dev, "Cache Shop");
    fixture_user(&reader);
    fixture_user(&runner);
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], path[160];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    tool_path(path, sizeof path, slug, "");

    /* a draft edit of the name shows in the public view */
    CHECK(warm_every_worker("GET", path, reader.token, NULL));
    CHECK_INT(patch_tool(&dev, slug, "{\"name\": \"Adder Renamed\"}"), 200);
    CHECK_EVERY_WORKER("GET", path, reader.token, NULL, 200, "name", "Adder Renamed", 0);

    /* a download (another user's first run) moves the counter */
    CHECK(warm_every_worker("GET", path, reader.token, NULL));
    char run[160];
    tool_path(run, sizeof run, slug, "/execute");
    CHECK_INT(http_status_free(http_post_text(run, runner.token, "{\"input\": {\"a\": 1, \"b\": 2}}")), 200);
    CHECK_EVERY_WORKER("GET", path, reader.token, NULL, 200, "downloads", NULL, 1);

    /* a review moves the rating */
    CHECK(warm_every_worker("GET", path, reader.token, NULL));
    json_t *review = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", id, "rating", 4, "title", "Fine", "content", "Adds.");
    CHECK_INT(http_status_free(http_post_json("/reviews", runner.token, review)), 201);
    json_decref(review);
    http_response *res = http_get(path, reader.token);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(res->json, "rating"), "count")), 1);
    http_response_free(res);
    CHECK(warm_every_worker("GET", path, reader.token, NULL));

    /* delisting hides it from everyone but its developer, in every worker */
    CHECK_INT(http_status_free(http_request("DELETE", path, dev.token, NULL, NULL, 0, NULL)), 204);
    CHECK_EVERY_WORKER("GET", path, reader.token, NULL, 404, NULL, NULL, 0);
}

/* The owner never gets the cached public view: theirs has the draft. */
static void test_owner_sees_the_draft(void)
{
    http_user dev, reader;
    fixture_developer(&dev, "Cache Owner");
    fixture_user(&reader);
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], path[160];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    tool_path(path, sizeof path, slug, "");
    warm_every_worker("GET", path, reader.token, NULL); /* the public view cached where it can be */
    http_response *res = http_get(path, dev.token);
    CHECK_INT(res->status, 200);
    CHECK(json_is_string(json_object_get(res->json, "code")));
    http_response_free(res);
    res = http_get(path, reader.token);
    CHECK(json_object_get(res->json, "code") == NULL);
    http_response_free(res);
}

/* ---- the version an execute runs -------------------------------------------------------------- */

static void test_execute_changes_reach_every_worker(void)
{
    http_user dev, buyer;
    fixture_developer(&dev, "Cache Runs");
    fixture_user(&buyer);
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], run[160];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    tool_path(run, sizeof run, slug, "/execute");
    const char *input = "{\"input\": {\"a\": 2, \"b\": 3}}";

    /* a new version runs everywhere at once */
    CHECK(warm_every_worker("POST", run, buyer.token, input));
    CHECK_INT(patch_tool(&dev, slug, "{\"code\": \"function handler(input) return {sum = input.a * input.b} end\","
                                     " \"tests\": [{\"name\": \"t\", \"input\": {\"a\": 2, \"b\": 3},"
                                     " \"expected\": {\"sum\": 6}}]}"),
              200);
    fixture_publish(&dev, slug, "1.1.0");
    CHECK_EVERY_WORKER("POST", run, buyer.token, input, 200, "version", "1.1.0", 0);

    /* a price makes it paid everywhere at once: 402 for a buyer without a purchase */
    CHECK(warm_every_worker("POST", run, buyer.token, input));
    CHECK_INT(patch_tool(&dev, slug, "{\"pricing\": {\"model\": \"one_time\", \"price_cents\": 500, \"currency\": \"USD\"}}"),
              200);
    CHECK_EVERY_WORKER("POST", run, buyer.token, input, 402, NULL, NULL, 0);
}

/* The plans a tool sells set its pricing (the default plan): a change of them reaches every worker's
 * cached view and the access facts a cached execute checks. */
static void test_plans_change_reaches_every_worker(void)
{
    http_user dev, buyer;
    fixture_developer(&dev, "Cache Plans");
    fixture_user(&buyer);
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], run[160], path[160], plans[160];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    tool_path(run, sizeof run, slug, "/execute");
    tool_path(path, sizeof path, slug, "");
    tool_path(plans, sizeof plans, slug, "/plans");
    const char *input = "{\"input\": {\"a\": 2, \"b\": 3}}";
    CHECK(warm_every_worker("POST", run, buyer.token, input));
    CHECK(warm_every_worker("GET", path, buyer.token, NULL));
    const char *paid = "[{\"name\": \"Pro\", \"model\": \"one_time\", \"price_cents\": 700, \"currency\": \"USD\"}]";
    CHECK_INT(http_status_free(http_request("PUT", plans, dev.token, "application/json", paid, strlen(paid), NULL)),
              200);
    CHECK_EVERY_WORKER("POST", run, buyer.token, input, 402, NULL, NULL, 0);
    CHECK_EVERY_WORKER("GET", path, buyer.token, NULL, 200, "pricing", "*", 0);
    http_response *view = http_get(path, buyer.token);
    CHECK_STR(json_string_value(json_object_get(json_object_get(view->json, "pricing"), "model")), "one_time");
    http_response_free(view);
}

/* ---- the caller's profile --------------------------------------------------------------------- */

static void test_profile_changes_reach_every_worker(void)
{
    http_user u;
    fixture_user(&u);
    CHECK(warm_every_worker("GET", "/me", u.token, NULL));
    json_t *body = json_pack("{s:s}", "display_name", "Cache Profile");
    CHECK_INT(http_status_free(http_post_json("/developers", u.token, body)), 201);
    json_decref(body);
    /* the developer profile (and with it the role), in every worker */
    CHECK_EVERY_WORKER("GET", "/me", u.token, NULL, 200, "developer", "*", 0);
}

/* ---- HTTP caching ----------------------------------------------------------------------------- */

static void test_etag_and_304(void)
{
    http_user dev, reader;
    fixture_developer(&dev, "Cache Tags");
    fixture_user(&reader);
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], path[160];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    tool_path(path, sizeof path, slug, "");

    http_response *res = http_get(path, reader.token);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_header(res, "Cache-Control"), "private, no-cache");
    char etag[64];
    snprintf(etag, sizeof etag, "%s", http_header(res, "ETag") ? http_header(res, "ETag") : "");
    CHECK(etag[0] == '"');
    http_response_free(res);

    char line[96];
    snprintf(line, sizeof line, "If-None-Match: W/\"x\", %s", etag);
    const char *headers[] = {line, NULL};
    res = http_request("GET", path, reader.token, NULL, NULL, 0, headers);
    CHECK_INT(res->status, 304);
    CHECK_INT(res->body_len, 0);
    CHECK_STR(http_header(res, "ETag"), etag);
    http_response_free(res);

    /* a change: a new tag and the whole answer */
    CHECK_INT(patch_tool(&dev, slug, "{\"summary\": \"Adds two integers, quickly\"}"), 200);
    res = http_request("GET", path, reader.token, NULL, NULL, 0, headers);
    CHECK_INT(res->status, 200);
    CHECK(http_header(res, "ETag") && strcmp(http_header(res, "ETag"), etag) != 0);
    CHECK_STR(http_json_string(res, "summary"), "Adds two integers, quickly");
    http_response_free(res);

    /* anonymous: public for a second; health, the caller's own data and errors: no-store, no tag */
    res = http_get(path, NULL);
    CHECK_STR(http_header(res, "Cache-Control"), "public, max-age=1");
    http_response_free(res);
    res = http_get("/health", NULL);
    CHECK_STR(http_header(res, "Cache-Control"), "no-store");
    CHECK(http_header(res, "ETag") == NULL);
    http_response_free(res);
    res = http_get("/me", reader.token);
    CHECK_STR(http_header(res, "Cache-Control"), "no-store");
    CHECK(http_header(res, "ETag") == NULL);
    http_response_free(res);
    res = http_get("/tools/no-such-tool-anywhere", NULL);
    CHECK_INT(res->status, 404);
    CHECK_STR(http_header(res, "Cache-Control"), "no-store");
    http_response_free(res);
}

/* A GET as a browser or plain client sends it (no Cache-Control: no-cache), with extra headers. */
static http_response *plain_get(const char *path, const char *header)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", HTTP_API_BASE, path);
    const char *headers[] = {"Accept: application/json", header, NULL};
    return http_raw("GET", url, headers, NULL, 0);
}

/* An anonymous read of path that nginx answered from its microcache, or the last of a few tries: the
 * copy lives one second, so on a loaded machine the read after the one that stored it may already
 * find it expired (and refresh it). */
static http_response *anonymous_hit(const char *path)
{
    http_response *res = plain_get(path, NULL);
    for (int i = 0; i < 5; i++) {
        const char *cache = http_header(res, "X-Cache");
        if (cache && strcmp(cache, "HIT") == 0)
            break;
        http_response_free(res);
        res = plain_get(path, NULL);
    }
    return res;
}

static void test_microcache(void)
{
    http_user dev;
    fixture_developer(&dev, "Cache Micro");
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], path[160], bearer[200];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    tool_path(path, sizeof path, slug, "");
    snprintf(bearer, sizeof bearer, "Authorization: Bearer %s", dev.token);

    /* anonymous reads: the second comes from nginx */
    http_response_free(plain_get(path, NULL));
    http_response *res = anonymous_hit(path);
    CHECK_STR(http_header(res, "X-Cache"), "HIT");
    CHECK(json_object_get(res->json, "code") == NULL);
    http_response_free(res);

    /* signed in (token or cookie): never from the microcache, and the owner gets the draft */
    res = plain_get(path, bearer);
    CHECK_STR(http_header(res, "X-Cache"), "BYPASS");
    CHECK(json_is_string(json_object_get(res->json, "code")));
    http_response_free(res);
    res = plain_get(path, "Cookie: marketplace_session=whatever");
    CHECK_STR(http_header(res, "X-Cache"), "BYPASS");
    http_response_free(res);

    /* a change reaches anonymous readers within the promise: max-age=1, which nginx counts in whole
     * clock seconds (up to 2 s), plus one refresh: 3 s */
    res = anonymous_hit(path);
    CHECK_STR(http_header(res, "X-Cache"), "HIT");
    http_response_free(res);
    CHECK_INT(patch_tool(&dev, slug, "{\"name\": \"Adder Seen Soon\"}"), 200);
    double changed = now_seconds(); /* the promise runs from the write's answer */
    double seen = 0;
    while (!seen && now_seconds() - changed < 5) {
        res = plain_get(path, NULL);
        const char *name = http_json_string(res, "name");
        if (name && strcmp(name, "Adder Seen Soon") == 0)
            seen = now_seconds();
        http_response_free(res);
        if (!seen)
            procs_sleep(0.05);
    }
    CHECK(seen > 0);
    if (seen > 0 && seen - changed > 3.0) {
        fprintf(stderr, "  the change took %.2f s to reach anonymous readers (promise: 3 s)\n", seen - changed);
        check_failures++;
    }

    /* /health never goes near the cache: concurrent uncacheable requests would queue on its lock */
    res = plain_get("/health", NULL);
    CHECK_STR(http_header(res, "X-Cache"), "BYPASS");
    http_response_free(res);

    /* money and account routes are never kept, even anonymously (401 here, no-store) */
    res = plain_get("/transactions", NULL);
    CHECK(http_header(res, "X-Cache") == NULL || strcmp(http_header(res, "X-Cache"), "HIT") != 0);
    CHECK_STR(http_header(res, "Cache-Control"), "no-store");
    http_response_free(res);
}

int main(void)
{
    RUN(test_view_changes_reach_every_worker);
    RUN(test_owner_sees_the_draft);
    RUN(test_execute_changes_reach_every_worker);
    RUN(test_plans_change_reaches_every_worker);
    RUN(test_profile_changes_reach_every_worker);
    RUN(test_etag_and_304);
    RUN(test_microcache);
    return check_finish();
}

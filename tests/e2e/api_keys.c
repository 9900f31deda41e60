/* API keys end to end, through real nginx -> marketplace -> MariaDB: create (the key shown once,
 * `mk_` + 43 base64url characters, never listed), execute with a key, public reads with a key, 403
 * with a key on every other kind of route (buying, payouts, account changes, reviews, its own keys),
 * tool scopes, bad bodies (422 naming the field), one 401 for malformed, unknown, expired and revoked
 * keys, another user's key, revocation seen by every worker at once, the per-key limit counted across
 * the workers (exactly the limit passes, then 429 with Retry-After), batched usage and last use, and
 * no key in any log. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/stack_env.h"

#define KEY_SIZE 64

typedef struct {
    char id[FIXTURE_ID_SIZE];
    char key[KEY_SIZE];
} api_key;

/* A developer with two published free adders, shared by the tests (they only run them). */
static http_user dev;
static char tool_a[FIXTURE_ID_SIZE], tool_b[FIXTURE_ID_SIZE];

static void setup(void)
{
    fixture_developer(&dev, "Key Shop");
    fixture_adder_tool(&dev, "free", 0, 0, tool_a, NULL);
    fixture_adder_tool(&dev, "free", 0, 0, tool_b, NULL);
}

static http_response *create_key_text(const http_user *u, const char *body)
{
    return http_post_text("/me/api-keys", u->token, body);
}

/* A new key for u from body (JSON text); 0 with k filled, -1 (failure counted) otherwise. */
static int create_key(const http_user *u, const char *body, api_key *k)
{
    http_response *res = create_key_text(u, body);
    int ok = res->status == 201 && http_json_string(res, "id") && http_json_string(res, "key");
    if (ok) {
        snprintf(k->id, sizeof k->id, "%s", http_json_string(res, "id"));
        snprintf(k->key, sizeof k->key, "%s", http_json_string(res, "key"));
    } else {
        http_dump("create key", res);
    }
    CHECK(ok);
    http_response_free(res);
    return ok ? 0 : -1;
}

static http_response *execute_with(const char *credential, const char *tool)
{
    char path[128];
    snprintf(path, sizeof path, "/tools/%s/execute", tool);
    return http_post_text(path, credential, "{\"input\": {\"a\": 20, \"b\": 22}}");
}

static http_response *read_tool_with(const char *credential, const char *tool)
{
    char path[128];
    snprintf(path, sizeof path, "/tools/%s", tool);
    return http_get(path, credential);
}

static int key_shape_ok(const char *key)
{
    if (!key || strlen(key) != 46 || strncmp(key, "mk_", 3) != 0)
        return 0;
    return strspn(key + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43;
}

/* ---- create and list ---------------------------------------------------------------------------- */

static void test_create_shows_the_key_once(void)
{
    http_user u;
    fixture_user(&u);
    http_response *res = create_key_text(&u, "{\"name\": \"CI server\"}");
    EXPECT_STATUS(res, 201);
    const char *key = http_json_string(res, "key");
    const char *prefix = http_json_string(res, "prefix");
    CHECK(key_shape_ok(key));
    CHECK(prefix && key && strlen(prefix) == 11 && strncmp(prefix, key, 11) == 0);
    CHECK_STR(http_json_string(res, "name"), "CI server");
    CHECK(json_is_array(json_object_get(res->json, "tools")) && json_array_size(json_object_get(res->json, "tools")) == 0);
    CHECK(json_is_null(json_object_get(res->json, "expires_at")));
    CHECK(json_is_null(json_object_get(res->json, "last_used_at")));
    CHECK(res->location && strstr(res->location, "/me/api-keys/") != NULL);
    CHECK(http_header(res, "Cache-Control") && strstr(http_header(res, "Cache-Control"), "no-store"));
    char saved[KEY_SIZE], id[FIXTURE_ID_SIZE];
    snprintf(saved, sizeof saved, "%s", key ? key : "");
    snprintf(id, sizeof id, "%s", http_json_string(res, "id") ? http_json_string(res, "id") : "");
    http_response_free(res);

    /* the list: the key by id and prefix, never the key itself */
    res = http_get("/me/api-keys", u.token);
    EXPECT_STATUS(res, 200);
    json_t *items = json_object_get(res->json, "items");
    CHECK_INT((long long)json_array_size(items), 1);
    json_t *item = json_array_get(items, 0);
    CHECK_STR(json_string_value(json_object_get(item, "id")), id);
    CHECK(json_object_get(item, "key") == NULL);
    CHECK(json_string_value(json_object_get(item, "created_at")) != NULL);
    CHECK(strstr(res->body, saved + 11) == NULL);
    http_response_free(res);

    /* the key works (the one answer that showed it was enough) */
    res = execute_with(saved, tool_a);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(res->json, "output"), "sum")), 42);
    http_response_free(res);
}

static void test_bad_bodies(void)
{
    http_user u;
    fixture_user(&u);
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{}", "name"},
        {"{\"name\": \"\"}", "name"},
        {"{\"name\": 5}", "name"},
        {"{\"name\": \"x\", \"tools\": \"1\"}", "tools"},
        {"{\"name\": \"x\", \"tools\": [\"abc\"]}", "tools[0]"},
        {"{\"name\": \"x\", \"tools\": [\"999999999999\"]}", "tools[0]"},
        {"{\"name\": \"x\", \"expires_at\": \"tomorrow\"}", "expires_at"},
        {"{\"name\": \"x\", \"expires_at\": \"2020-01-01T00:00:00Z\"}", "expires_at"},
        {"{\"name\": \"x\", \"expires_at\": \"2030-02-30T00:00:00Z\"}", "expires_at"},
        {"{\"name\": \"x\", \"scopes\": []}", "scopes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_response *res = create_key_text(&u, cases[i].body);
        if (res->status != 422 || !http_problem_has_field(res, cases[i].field)) {
            fprintf(stderr, "  case %zu (%s): expected 422 naming %s\n", i, cases[i].body, cases[i].field);
            http_dump("bad body", res);
            check_failures++;
        }
        http_response_free(res);
    }
    /* a tool named twice, and one the caller cannot see (another developer's draft) */
    http_user other;
    fixture_developer(&other, "Draft Shop");
    char draft[FIXTURE_ID_SIZE];
    fixture_create_tool(&other, fixture_adder_draft(fixture_slug("keydraft")), draft);
    char body[256];
    snprintf(body, sizeof body, "{\"name\": \"x\", \"tools\": [\"%s\", \"%s\"]}", tool_a, tool_a);
    http_response *res = create_key_text(&u, body);
    CHECK(res->status == 422 && http_problem_has_field(res, "tools[1]"));
    http_response_free(res);
    snprintf(body, sizeof body, "{\"name\": \"x\", \"tools\": [\"%s\"]}", draft);
    res = create_key_text(&u, body);
    CHECK(res->status == 422 && http_problem_has_field(res, "tools[0]"));
    http_response_free(res);
    /* nothing was made */
    res = http_get("/me/api-keys", u.token);
    CHECK_INT((long long)json_array_size(json_object_get(res->json, "items")), 0);
    http_response_free(res);
}

/* ---- what a key may do -------------------------------------------------------------------------- */

static void test_key_only_runs_tools_and_reads(void)
{
    http_user u;
    fixture_user(&u);
    api_key k;
    if (create_key(&u, "{\"name\": \"runner\"}", &k) < 0)
        return;
    EXPECT_STATUS_FREE(execute_with(k.key, tool_a), 200);
    EXPECT_STATUS_FREE(execute_with(k.key, tool_b), 200);
    EXPECT_STATUS_FREE(read_tool_with(k.key, tool_a), 200);
    EXPECT_STATUS_FREE(http_get("/categories", k.key), 200);
    EXPECT_STATUS_FREE(http_get("/health", k.key), 200);

    char review[256];
    snprintf(review, sizeof review, "{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"t\", \"content\": \"c\"}", tool_a);
    char buy[128];
    snprintf(buy, sizeof buy, "{\"tool_id\": \"%s\"}", tool_a);
    static const char *const idem[] = {"Idempotency-Key: key-refused-checkout", NULL};
    struct {
        const char *method, *path, *body;
        const char *const *headers;
    } refused[] = {
        {"GET", "/me", NULL, NULL},
        {"POST", "/transactions", buy, idem},
        {"GET", "/transactions", NULL, NULL},
        {"POST", "/reviews", review, NULL},
        {"POST", "/developers", "{\"display_name\": \"Key Dev\"}", NULL},
        {"GET", "/developers/me/earnings", NULL, NULL},
        {"POST", "/developers/me/payouts", "{\"amount_cents\": 1000, \"currency\": \"USD\"}", NULL},
        {"POST", "/payouts/redeem", "{\"token\": \"x\"}", NULL},
        {"POST", "/auth/logout", NULL, NULL},
        {"POST", "/me/api-keys", "{\"name\": \"child\"}", NULL},
        {"GET", "/me/api-keys", NULL, NULL},
        {"DELETE", "/me/api-keys/1", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        http_response *res = http_request(refused[i].method, refused[i].path, k.key, NULL, refused[i].body,
                                          refused[i].body ? strlen(refused[i].body) : 0, refused[i].headers);
        if (!http_is_problem(res, 403)) {
            fprintf(stderr, "  %s %s with a key: expected 403\n", refused[i].method, refused[i].path);
            http_dump("refused", res);
            check_failures++;
        }
        http_response_free(res);
    }
    /* the key still works and no key was made with it */
    EXPECT_STATUS_FREE(execute_with(k.key, tool_a), 200);
    http_response *res = http_get("/me/api-keys", u.token);
    CHECK_INT((long long)json_array_size(json_object_get(res->json, "items")), 1);
    http_response_free(res);
}

static void test_tool_scope(void)
{
    http_user u;
    fixture_user(&u);
    api_key k;
    char body[128];
    snprintf(body, sizeof body, "{\"name\": \"only A\", \"tools\": [\"%s\"]}", tool_a);
    if (create_key(&u, body, &k) < 0)
        return;
    EXPECT_STATUS_FREE(execute_with(k.key, tool_a), 200);
    http_response *res = execute_with(k.key, tool_b);
    CHECK(http_is_problem(res, 403));
    http_response_free(res);
    /* the session of the same user is not scoped */
    EXPECT_STATUS_FREE(execute_with(u.token, tool_b), 200);
    res = http_get("/me/api-keys", u.token);
    json_t *tools = json_object_get(json_array_get(json_object_get(res->json, "items"), 0), "tools");
    CHECK(json_array_size(tools) == 1 && strcmp(json_string_value(json_array_get(tools, 0)), tool_a) == 0);
    http_response_free(res);
}

/* A 401 whatever the reason, with the same detail: nothing tells which keys exist. */
static void check_refused_401(const char *credential, const char *want_detail, int line)
{
    http_response *res = execute_with(credential, tool_a);
    const char *detail = http_json_string(res, "detail");
    if (!http_is_problem(res, 401) || !detail || strcmp(detail, want_detail) != 0 ||
        !http_header(res, "WWW-Authenticate")) {
        fprintf(stderr, "  line %d: expected the one 401\n", line);
        http_dump("refused key", res);
        check_failures++;
    }
    http_response_free(res);
}

static void test_refused_keys_look_alike(void)
{
    http_user u;
    fixture_user(&u);
    api_key live, expiring, revoked;
    time_t soon = time(NULL) + 2;
    struct tm tm;
    gmtime_r(&soon, &tm);
    char body[128];
    strftime(body, sizeof body, "{\"name\": \"brief\", \"expires_at\": \"%Y-%m-%dT%H:%M:%SZ\"}", &tm);
    if (create_key(&u, "{\"name\": \"live\"}", &live) < 0 || create_key(&u, body, &expiring) < 0 ||
        create_key(&u, "{\"name\": \"gone\"}", &revoked) < 0)
        return;
    EXPECT_STATUS_FREE(execute_with(expiring.key, tool_a), 200);
    char path[96];
    snprintf(path, sizeof path, "/me/api-keys/%s", revoked.id);
    EXPECT_STATUS_FREE(http_request("DELETE", path, u.token, NULL, NULL, 0, NULL), 204);
    EXPECT_STATUS_FREE(http_request("DELETE", path, u.token, NULL, NULL, 0, NULL), 204); /* again: no change */
    sleep(3);

    const char *detail = "invalid, expired or revoked API key";
    char unknown[KEY_SIZE];
    snprintf(unknown, sizeof unknown, "%s", live.key);
    unknown[20] = unknown[20] == 'A' ? 'B' : 'A';
    check_refused_401("mk_short", detail, __LINE__);
    check_refused_401(unknown, detail, __LINE__);
    check_refused_401(expiring.key, detail, __LINE__);
    check_refused_401(revoked.key, detail, __LINE__);
    EXPECT_STATUS_FREE(execute_with(live.key, tool_a), 200);

    /* the revoked key is gone from the list; the expired one is listed as expired */
    http_response *res = http_get("/me/api-keys", u.token);
    json_t *items = json_object_get(res->json, "items");
    CHECK_INT((long long)json_array_size(items), 2);
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        const char *id = json_string_value(json_object_get(item, "id"));
        CHECK(id && strcmp(id, revoked.id) != 0);
        if (id && strcmp(id, expiring.id) == 0)
            CHECK(json_is_true(json_object_get(item, "expired")));
    }
    http_response_free(res);

    /* another user can neither revoke nor see it: the same 404 as for no key at all */
    http_user other;
    fixture_user(&other);
    snprintf(path, sizeof path, "/me/api-keys/%s", live.id);
    http_response *gone = http_request("DELETE", path, other.token, NULL, NULL, 0, NULL);
    CHECK(http_is_problem(gone, 404));
    http_response_free(gone);
    gone = http_request("DELETE", "/me/api-keys/999999999999", other.token, NULL, NULL, 0, NULL);
    CHECK(http_is_problem(gone, 404));
    http_response_free(gone);
    EXPECT_STATUS_FREE(execute_with(live.key, tool_a), 200);
}

/* Every worker has the key in its auth cache; one revocation and none of them takes it again. */
static void test_revocation_on_every_worker(void)
{
    http_user u;
    fixture_user(&u);
    api_key k;
    if (create_key(&u, "{\"name\": \"everywhere\"}", &k) < 0)
        return;
    int workers = config_worker_count(fixture_config());
    int rounds = 10 * (workers > 0 ? workers : 4);
    for (int i = 0; i < rounds; i++)
        EXPECT_STATUS_FREE(read_tool_with(k.key, tool_a), 200);
    char path[96];
    snprintf(path, sizeof path, "/me/api-keys/%s", k.id);
    EXPECT_STATUS_FREE(http_request("DELETE", path, u.token, NULL, NULL, 0, NULL), 204);
    int accepted = 0;
    for (int i = 0; i < rounds; i++) {
        http_response *res = execute_with(k.key, tool_a);
        accepted += res->status != 401;
        http_response_free(res);
    }
    CHECK_INT(accepted, 0);
}

/* ---- the per-key limit -------------------------------------------------------------------------- */

typedef struct {
    const char *key;
    int n;
    int ok, limited, other;
    long retry_min, retry_max;
} burst;

static void *burst_run(void *arg)
{
    burst *b = arg;
    for (int i = 0; i < b->n; i++) {
        http_response *res = read_tool_with(b->key, tool_a);
        if (res->status == 200) {
            b->ok++;
        } else if (res->status == 429 && http_is_problem(res, 429) && http_header(res, "Retry-After")) {
            long retry = atol(http_header(res, "Retry-After"));
            b->limited++;
            if (retry < b->retry_min)
                b->retry_min = retry;
            if (retry > b->retry_max)
                b->retry_max = retry;
        } else {
            b->other++;
        }
        http_response_free(res);
    }
    return NULL;
}

/* limit + 40 requests from 8 threads, spread by nginx over the workers: exactly limit pass (the
 * counter is shared, not per worker), the rest are 429 problems with a Retry-After of at most a
 * minute. The burst starts early in a minute, so it does not straddle two. */
static void test_per_key_limit(void)
{
    int64_t limit = fixture_config()->api_key_rate_per_minute;
    CHECK(limit > 0);
    if (limit <= 0)
        return;
    http_user u;
    fixture_user(&u);
    api_key k;
    if (create_key(&u, "{\"name\": \"busy\"}", &k) < 0)
        return;
    time_t now = time(NULL);
    if (now % 60 > 40) /* the burst takes a few seconds; twenty are left for it */
        sleep((unsigned)(61 - now % 60));
    enum { THREADS = 8 };
    int total = (int)limit + 40;
    burst b[THREADS];
    pthread_t th[THREADS];
    http_set_retry_429(0);
    for (int i = 0; i < THREADS; i++) {
        b[i] = (burst){.key = k.key, .n = total / THREADS + (i < total % THREADS), .retry_min = 1000};
        pthread_create(&th[i], NULL, burst_run, &b[i]);
    }
    int ok = 0, limited = 0, other = 0;
    long retry_min = 1000, retry_max = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += b[i].ok;
        limited += b[i].limited;
        other += b[i].other;
        retry_min = b[i].retry_min < retry_min ? b[i].retry_min : retry_min;
        retry_max = b[i].retry_max > retry_max ? b[i].retry_max : retry_max;
    }
    http_set_retry_429(1);
    CHECK_INT(ok, limit);
    CHECK_INT(limited, 40);
    CHECK_INT(other, 0);
    CHECK(retry_min >= 1 && retry_max <= 61);
    /* the owner's session is not the key: it is not limited by it */
    EXPECT_STATUS_FREE(read_tool_with(u.token, tool_a), 200);
    /* another key of the same user has its own allowance */
    api_key second;
    if (create_key(&u, "{\"name\": \"second\"}", &second) == 0)
        EXPECT_STATUS_FREE(execute_with(second.key, tool_a), 200);
}

/* ---- usage and logs ----------------------------------------------------------------------------- */

static void test_usage_is_counted(void)
{
    http_user u;
    fixture_user(&u);
    api_key k;
    if (create_key(&u, "{\"name\": \"counted\"}", &k) < 0)
        return;
    for (int i = 0; i < 5; i++)
        EXPECT_STATUS_FREE(execute_with(k.key, tool_a), 200);
    /* written back within a second or so by whichever workers served them */
    int64_t today = 0;
    const char *used = NULL;
    for (int tries = 0; tries < 50 && today < 5; tries++) {
        usleep(200000);
        http_response *res = http_get("/me/api-keys", u.token);
        json_t *item = json_array_get(json_object_get(res->json, "items"), 0);
        today = json_integer_value(json_object_get(item, "requests_today"));
        used = json_string_value(json_object_get(item, "last_used_at"));
        int have_used = used != NULL;
        http_response_free(res);
        used = have_used ? "yes" : NULL;
    }
    CHECK_INT(today, 5);
    CHECK(used != NULL);
}

/* The whole text of path (empty when it cannot be read). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return calloc(1, 1);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    if (text && n > 0 && fread(text, 1, (size_t)n, f) != (size_t)n)
        text[0] = '\0';
    fclose(f);
    return text;
}

/* Keys are sent on good, refused and failing requests; neither the server's log nor nginx's access
 * and error logs hold any key's secret part afterwards. */
static void test_keys_never_logged(void)
{
    http_user u;
    fixture_user(&u);
    api_key k;
    if (create_key(&u, "{\"name\": \"quiet\"}", &k) < 0)
        return;
    EXPECT_STATUS_FREE(execute_with(k.key, tool_a), 200);
    EXPECT_STATUS_FREE(http_get("/me", k.key), 403);
    EXPECT_STATUS_FREE(http_post_text("/tools/no-such-tool-here/execute", k.key, "{\"input\": {}}"), 404);
    EXPECT_STATUS_FREE(http_post_text("/tools/x/execute", k.key, "{broken"), 404);
    char path[128];
    snprintf(path, sizeof path, "/tools/%s/execute", tool_a);
    EXPECT_STATUS_FREE(http_post_text(path, k.key, "{broken"), 400);
    snprintf(path, sizeof path, "/me/api-keys/%s", k.id);
    EXPECT_STATUS_FREE(http_request("DELETE", path, u.token, NULL, NULL, 0, NULL), 204);
    EXPECT_STATUS_FREE(execute_with(k.key, tool_a), 401);
    usleep(300000);
    /* nginx writes its logs beside the server's (the stack's log directory) */
    const char *server_log = stack_env("MKT_SERVER_LOG");
    char dir[400], nginx_access[512], nginx_error[512];
    snprintf(dir, sizeof dir, "%s", server_log ? server_log : "./x");
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    snprintf(nginx_access, sizeof nginx_access, "%s/nginx-access.log", dir);
    snprintf(nginx_error, sizeof nginx_error, "%s/nginx-error.log", dir);
    const char *paths[] = {server_log ? server_log : "", nginx_access, nginx_error};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char *text = slurp(paths[i]);
        if (i < 2)
            CHECK(text && text[0] != '\0'); /* the logs exist and were written */
        if (text && strstr(text, k.key + 11)) {
            fprintf(stderr, "  %s holds the key\n", paths[i]);
            check_failures++;
        }
        free(text);
    }
}

int main(void)
{
    setup();
    RUN(test_create_shows_the_key_once);
    RUN(test_bad_bodies);
    RUN(test_key_only_runs_tools_and_reads);
    RUN(test_tool_scope);
    RUN(test_refused_keys_look_alike);
    RUN(test_revocation_on_every_worker);
    RUN(test_usage_is_counted);
    RUN(test_keys_never_logged);
    RUN(test_per_key_limit);
    return check_finish();
}

/* Several app hosts (scripts/stack --hosts 2): what one host keeps in memory follows a change made
 * on the other within a second (docs/scaling.md, "Several app hosts"). Each test warms host B (its
 * workers cache the caller or the tool), changes something through host A, and then asks B every
 * 50 ms until it answers the new state, which must happen within HOSTS_BOUND_S:
 *   - a logout on A: B refuses the token (401) — before the cross-host epochs B's auth caches kept the
 *     token for up to their 10 s TTL;
 *   - an API key revoked on A: B refuses the key (401);
 *   - a role gained on A (POST /developers): B lets the caller into a developer route;
 *   - a delisting on A: B's tool view answers 404;
 *   - a review written on A: B's tool view counts it and B's review list shows it.
 * (The last two were already seen at once before the epochs: nothing in this server keeps a tool
 * between requests without checking its version; they guard per-host caches to come.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/procs.h"

#define HOST_A 1
#define HOST_B 2
#define HOSTS_BOUND_S 1.0
/* Enough requests that every worker of host B (3 in the test stack) has served the caller. */
#define HOSTS_WARM_REQUESTS 12

typedef int (*hosts_seen_fn)(const void *arg);

/* Every worker of B must have moved, not just one: a few more asks must all see the change. */
static int hosts_all_see(hosts_seen_fn seen, const void *arg)
{
    http_use_host(HOST_B);
    int all = 1;
    for (int i = 0; i < HOSTS_WARM_REQUESTS; i++)
        all &= seen(arg) != 0;
    http_use_host(0);
    return all;
}

/* Asks host B until seen() holds for HOSTS_STREAK asks in a row and then for hosts_all_see too: a
 * worker that never cached the thing answers the new state at once, so a short streak may come from
 * such workers alone while a worker that did cache it still answers the old one. The seconds until
 * the streak that lasted began, or -1 when none did within 5 s. */
#define HOSTS_STREAK 6
static double hosts_wait_on_b(hosts_seen_fn seen, const void *arg, double since)
{
    http_use_host(HOST_B);
    double took = -1, streak_from = 0;
    int streak = 0;
    while (procs_now() - since < 5.0) {
        double now = procs_now();
        if (!seen(arg)) {
            streak = 0;
            procs_sleep(0.05);
            continue;
        }
        if (streak++ == 0)
            streak_from = now;
        if (streak < HOSTS_STREAK)
            continue;
        if (hosts_all_see(seen, arg)) {
            took = streak_from - since;
            break;
        }
        streak = 0;
        http_use_host(HOST_B); /* hosts_all_see went back to the upstream */
    }
    http_use_host(0);
    return took;
}

static void hosts_check_bound(const char *what, double took, hosts_seen_fn seen, const void *arg)
{
    fprintf(stderr, "  %s: seen on host B after %.3f s\n", what, took);
    CHECK(took >= 0 && took <= HOSTS_BOUND_S);
    CHECK(hosts_all_see(seen, arg));
}

static void hosts_warm_b(const char *path, const char *token, long status)
{
    http_use_host(HOST_B);
    for (int i = 0; i < HOSTS_WARM_REQUESTS; i++)
        CHECK_INT(http_status_free(http_get(path, token)), status);
    http_use_host(0);
}

/* ---- auth ------------------------------------------------------------------------------------- */

static int hosts_me_refused(const void *arg)
{
    return http_status_free(http_get("/me", arg)) == 401;
}

static void test_logout_on_a_refused_on_b(void)
{
    http_user u;
    fixture_user(&u);
    hosts_warm_b("/me", u.token, 200);
    http_use_host(HOST_A);
    double since = procs_now();
    CHECK_INT(http_status_free(http_request("POST", "/auth/logout", u.token, NULL, NULL, 0, NULL)), 204);
    http_use_host(0);
    hosts_check_bound("logout", hosts_wait_on_b(hosts_me_refused, u.token, since), hosts_me_refused, u.token);
}

/* An API key revoked on A: B refuses it (a valid key on /me is a 403 — keys do not reach account
 * routes — and a revoked one a 401, as the logout). */
static void test_api_key_revoked_on_a_refused_on_b(void)
{
    http_user u;
    fixture_user(&u);
    http_use_host(HOST_A);
    http_response *made = http_post_text("/me/api-keys", u.token, "{\"name\": \"across hosts\"}");
    http_use_host(0);
    CHECK_INT(made->status, 201);
    char key[96], path[64];
    snprintf(key, sizeof key, "%s", json_string_value(json_object_get(made->json, "key")) ?: "");
    snprintf(path, sizeof path, "/me/api-keys/%s", json_string_value(json_object_get(made->json, "id")) ?: "0");
    http_response_free(made);
    hosts_warm_b("/me", key, 403);
    http_use_host(HOST_A);
    double since = procs_now();
    CHECK_INT(http_status_free(http_request("DELETE", path, u.token, NULL, NULL, 0, NULL)), 204);
    http_use_host(0);
    hosts_check_bound("API key revoked", hosts_wait_on_b(hosts_me_refused, key, since), hosts_me_refused, key);
}

static int hosts_is_developer(const void *arg)
{
    return http_status_free(http_get("/developers/me/earnings", arg)) == 200;
}

static void test_role_on_a_seen_on_b(void)
{
    http_user u;
    fixture_user(&u);
    hosts_warm_b("/developers/me/earnings", u.token, 403);
    http_use_host(HOST_A);
    double since = procs_now();
    json_t *body = json_pack("{s:s}", "display_name", "Cross-host Tools");
    CHECK_INT(http_status_free(http_post_json("/developers", u.token, body)), 201);
    json_decref(body);
    http_use_host(0);
    hosts_check_bound("role", hosts_wait_on_b(hosts_is_developer, u.token, since), hosts_is_developer, u.token);
}

/* ---- tools -------------------------------------------------------------------------------------- */

typedef struct {
    char path[160];
    char reviews_path[192];
    char review_title[64];
} hosts_tool;

static int hosts_tool_gone(const void *arg)
{
    const hosts_tool *t = arg;
    return http_status_free(http_get(t->path, NULL)) == 404;
}

static void test_delisting_on_a_seen_on_b(void)
{
    http_user dev;
    fixture_developer(&dev, "Delisting Shop");
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    hosts_tool t;
    snprintf(t.path, sizeof t.path, "/tools/%s", slug);
    hosts_warm_b(t.path, NULL, 200);
    http_use_host(HOST_A);
    double since = procs_now();
    CHECK_INT(http_status_free(http_request("DELETE", t.path, dev.token, NULL, NULL, 0, NULL)), 204);
    http_use_host(0);
    hosts_check_bound("delisting", hosts_wait_on_b(hosts_tool_gone, &t, since), hosts_tool_gone, &t);
}

/* The tool view counts the review and the review list shows it. */
static int hosts_review_seen(const void *arg)
{
    const hosts_tool *t = arg;
    http_response *tool = http_get(t->path, NULL);
    json_t *count = json_object_get(json_object_get(tool->json, "rating"), "count");
    int counted = tool->status == 200 && json_integer_value(count) == 1;
    http_response_free(tool);
    http_response *list = http_get(t->reviews_path, NULL);
    int listed = list->status == 200 && strstr(list->body, t->review_title) != NULL;
    http_response_free(list);
    return counted && listed;
}

static void test_review_on_a_seen_on_b(void)
{
    http_user dev, buyer;
    fixture_developer(&dev, "Review Shop");
    fixture_user(&buyer);
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    hosts_tool t;
    snprintf(t.path, sizeof t.path, "/tools/%s", slug);
    snprintf(t.reviews_path, sizeof t.reviews_path, "/tools/%s/reviews", slug);
    snprintf(t.review_title, sizeof t.review_title, "Cross host %s", id);
    hosts_warm_b(t.path, NULL, 200);
    hosts_warm_b(t.reviews_path, NULL, 200);
    CHECK(!hosts_review_seen(&t));
    http_use_host(HOST_A);
    double since = procs_now();
    json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", id, "rating", 4, "title", t.review_title, "content",
                             "Seen from the other host.");
    CHECK_INT(http_status_free(http_post_json("/reviews", buyer.token, body)), 201);
    json_decref(body);
    http_use_host(0);
    hosts_check_bound("review", hosts_wait_on_b(hosts_review_seen, &t, since), hosts_review_seen, &t);
}

/* Another tool's reviews move the global rating totals, which every tool's Bayesian rating leans
 * on: B's cached view of a tool that itself did not change must follow them. */
typedef struct {
    char path[FIXTURE_SLUG_SIZE + 16];
    double before;
} hosts_bayesian;

static double hosts_bayesian_of(const char *path)
{
    http_response *r = http_get(path, NULL);
    double v = json_number_value(json_object_get(json_object_get(r->json, "rating"), "bayesian"));
    http_response_free(r);
    return v;
}

static int hosts_bayesian_moved(const void *arg)
{
    const hosts_bayesian *b = arg;
    double now = hosts_bayesian_of(b->path);
    return now > 0 && (now - b->before > 0.015 || b->before - now > 0.015);
}

static void hosts_sql(const char *sql)
{
    mkt_error err = MKT_ERROR_INIT;
    if (db_exec(fixture_db(), sql, DB_NO_PARAMS, NULL, &err) < 0) {
        fprintf(stderr, "%s: %s\n", sql, err.message ? err.message : "?");
        CHECK(0);
    }
    error_clear(&err);
}

static void test_global_rating_on_a_seen_on_b(void)
{
    http_user dev, buyer;
    fixture_developer(&dev, "Bayes Shop");
    fixture_user(&buyer);
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], other[FIXTURE_ID_SIZE];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    fixture_adder_tool(&dev, "free", 0, 0, other, NULL);
    json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", id, "rating", 3, "title", "Middling", "content",
                             "Its Bayesian rating leans on the mean.");
    CHECK_INT(http_status_free(http_post_json("/reviews", buyer.token, body)), 201);
    json_decref(body);
    hosts_bayesian b;
    snprintf(b.path, sizeof b.path, "/tools/%s", slug);
    hosts_warm_b(b.path, NULL, 200);
    http_use_host(HOST_B);
    b.before = hosts_bayesian_of(b.path);
    http_use_host(0);
    CHECK(b.before > 0);
    /* enough ones on the other tool to pull the mean down by well over 0.05, as core/rating writes them */
    int64_t n = fixture_sql_int("SELECT rating_count FROM rating_totals WHERE id = ?", db_int(1));
    int64_t k = n + 10;
    char sql[256];
    double since = procs_now();
    hosts_sql("START TRANSACTION");
    snprintf(sql, sizeof sql, "UPDATE tools SET rating_count = rating_count + %lld, rating_sum = rating_sum + %lld,"
             " rating_1 = rating_1 + %lld WHERE id = %s", (long long)k, (long long)k, (long long)k, other);
    hosts_sql(sql);
    snprintf(sql, sizeof sql, "UPDATE rating_totals SET rating_count = rating_count + %lld,"
             " rating_sum = rating_sum + %lld WHERE id = 1", (long long)k, (long long)k);
    hosts_sql(sql);
    hosts_sql("COMMIT");
    hosts_check_bound("global rating", hosts_wait_on_b(hosts_bayesian_moved, &b, since), hosts_bayesian_moved, &b);
    hosts_sql("START TRANSACTION");
    snprintf(sql, sizeof sql, "UPDATE tools SET rating_count = rating_count - %lld, rating_sum = rating_sum - %lld,"
             " rating_1 = rating_1 - %lld WHERE id = %s", (long long)k, (long long)k, (long long)k, other);
    hosts_sql(sql);
    snprintf(sql, sizeof sql, "UPDATE rating_totals SET rating_count = rating_count - %lld,"
             " rating_sum = rating_sum - %lld WHERE id = 1", (long long)k, (long long)k);
    hosts_sql(sql);
    hosts_sql("COMMIT");
}


/* Requests a host has answered (its /metrics, every status class), for telling which host served. */
static unsigned long long hosts_requests(int host)
{
    http_use_host(host);
    http_response *res = http_get("/metrics", NULL);
    http_use_host(0);
    unsigned long long total = 0;
    const char *p = res->body;
    while ((p = strstr(p, "\nmarketplace_requests_total{"))) {
        p = strchr(p, '}');
        total += p ? strtoull(p + 1, NULL, 10) : 0;
        if (!p)
            break;
    }
    http_response_free(res);
    return total;
}

/* nginx hashes a signed-in caller's credentials onto one host (so that host's read-your-writes
 * memory, fcgi/replica.h, sees every write of theirs), and spreads anonymous requests by their
 * random request id. Each /metrics read adds one request to its own host. */
static void test_signed_in_caller_sticks_to_one_host(void)
{
    http_user u;
    fixture_user(&u);
    unsigned long long a0 = hosts_requests(HOST_A), b0 = hosts_requests(HOST_B);
    for (int i = 0; i < 20; i++)
        CHECK_INT(http_status_free(http_get("/me", u.token)), 200);
    unsigned long long a1 = hosts_requests(HOST_A), b1 = hosts_requests(HOST_B);
    unsigned long long da = a1 - a0, db = b1 - b0;
    fprintf(stderr, "  one signed-in caller: host A served %llu, host B %llu\n", da, db);
    CHECK((da >= 20 && db <= 2) || (db >= 20 && da <= 2));
    for (int i = 0; i < 40; i++)
        CHECK_INT(http_status_free(http_get("/categories", NULL)), 200);
    unsigned long long a2 = hosts_requests(HOST_A), b2 = hosts_requests(HOST_B);
    fprintf(stderr, "  anonymous: host A served %llu, host B %llu\n", a2 - a1, b2 - b1);
    CHECK(a2 - a1 >= 5 && b2 - b1 >= 5);
}

int main(void)
{
    RUN(test_logout_on_a_refused_on_b);
    RUN(test_api_key_revoked_on_a_refused_on_b);
    RUN(test_role_on_a_seen_on_b);
    RUN(test_delisting_on_a_seen_on_b);
    RUN(test_review_on_a_seen_on_b);
    RUN(test_global_rating_on_a_seen_on_b);
    RUN(test_signed_in_caller_sticks_to_one_host);
    fixture_close();
    return check_finish();
}

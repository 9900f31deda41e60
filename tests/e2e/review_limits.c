/* Review limits end to end, through real nginx -> marketplace -> MariaDB: the per-account rate limit
 * on review creation (the 11th POST /reviews within an hour is a 429 problem with Retry-After and
 * creates nothing; deleting a review does not give the allowance back; 15 parallel creations by one
 * user on 15 tools create exactly review_rate_limit reviews), the Bayesian rating with the global
 * mean compared with a recount of the visible reviews, and the analytics rating over time. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tool_record.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

#define WINDOW_SECONDS 3600
#define PARALLEL_TOOLS 15

/* ---- helpers -------------------------------------------------------------------------------- */

static int64_t rate_limit(void)
{
    return fixture_config()->review_rate_limit;
}

/* n published free adders of one fresh developer, ids into ids[i]. */
static void free_tools(fixture_seller *dev, int n, char ids[][FIXTURE_ID_SIZE])
{
    dev->developer_id = fixture_developer(&dev->user, "Limits Shop");
    for (int i = 0; i < n; i++)
        fixture_adder_tool(&dev->user, "free", 0, 0, ids[i], NULL);
}

static http_response *post_review(const http_user *u, const char *tool, int rating)
{
    json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", tool, "rating", rating, "title", "Limits",
                             "content", "Counted once.");
    http_response *res = http_post_json("/reviews", u->token, body);
    json_decref(body);
    return res;
}

/* post_review with 429s not retried (process-wide: the parallel test switches it around its threads). */
static http_response *post_review_once(const http_user *u, const char *tool, int rating)
{
    http_set_retry_429(0);
    http_response *res = post_review(u, tool, rating);
    http_set_retry_429(1);
    return res;
}

/* A review that must be created: its id into id (FIXTURE_ID_SIZE). -1 (failure counted) otherwise. */
static int review(const http_user *u, const char *tool, int rating, char *id)
{
    http_response *res = post_review(u, tool, rating);
    int ok = res->status == 201 && http_json_string(res, "id");
    if (ok && id)
        snprintf(id, FIXTURE_ID_SIZE, "%s", http_json_string(res, "id"));
    if (!ok)
        http_dump("review", res);
    CHECK(ok);
    http_response_free(res);
    return ok ? 0 : -1;
}

static int64_t reviews_by(const http_user *u)
{
    return fixture_sql_int("SELECT COUNT(*) FROM reviews WHERE user_id = ?", db_text(u->id));
}

/* The answer is the rate-limit problem: 429, problem+json, Retry-After in 1..window. Its value. */
static long check_limited_at(const http_response *res, int line)
{
    if (res->status != 429 || !http_is_problem(res, 429)) {
        fprintf(stderr, "  line %d: expected a 429 problem\n", line);
        http_dump("limited", res);
        check_failures++;
        return -1;
    }
    const char *retry = http_header(res, "Retry-After");
    char *end = NULL;
    long seconds = retry ? strtol(retry, &end, 10) : -1;
    if (!retry || *end != '\0' || seconds < 1 || seconds > WINDOW_SECONDS) {
        fprintf(stderr, "  line %d: Retry-After is %s\n", line, retry ? retry : "missing");
        check_failures++;
        return -1;
    }
    CHECK(strstr(http_json_string(res, "type") ? http_json_string(res, "type") : "", "too-many-requests") != NULL);
    return seconds;
}
#define CHECK_LIMITED(res) check_limited_at((res), __LINE__)

/* ---- the rate limit -------------------------------------------------------------------------- */

static void test_limit_and_retry_after(void)
{
    int64_t limit = rate_limit();
    CHECK(limit > 0);
    if (limit <= 0 || limit > 20)
        return;
    fixture_seller dev;
    char tools[21][FIXTURE_ID_SIZE];
    free_tools(&dev, (int)limit + 1, tools);
    http_user u;
    fixture_user(&u);
    for (int64_t i = 0; i < limit; i++)
        if (review(&u, tools[i], 4, NULL) < 0)
            return;
    http_response *res = post_review_once(&u, tools[limit], 5);
    long retry = CHECK_LIMITED(res);
    /* the oldest counted creation is seconds old: almost the whole window is left */
    CHECK(retry > WINDOW_SECONDS - 300);
    http_response_free(res);
    CHECK_INT(reviews_by(&u), limit);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM reviews WHERE tool_id = ?", db_text(tools[limit])), 0);
    CHECK_INT(fixture_sql_int("SELECT rating_count FROM tools WHERE id = ?", db_text(tools[limit])), 0);

    /* another account is not affected */
    http_user other;
    fixture_user(&other);
    review(&other, tools[limit], 3, NULL);
}

/* Deleting a review does not give the allowance back: creations are counted, not rows. */
static void test_delete_does_not_refund(void)
{
    int64_t limit = rate_limit();
    if (limit <= 0 || limit > 20)
        return;
    fixture_seller dev;
    char tools[21][FIXTURE_ID_SIZE], first[FIXTURE_ID_SIZE], second[FIXTURE_ID_SIZE], path[64];
    free_tools(&dev, (int)limit + 1, tools);
    http_user u;
    fixture_user(&u);
    if (review(&u, tools[0], 2, first) < 0)
        return;
    for (int64_t i = 1; i < limit; i++)
        if (review(&u, tools[i], 4, i == 1 ? second : NULL) < 0)
            return;
    snprintf(path, sizeof path, "/reviews/%s", first);
    EXPECT_STATUS_FREE(http_request("DELETE", path, u.token, NULL, NULL, 0, NULL), 204);
    CHECK_INT(reviews_by(&u), limit - 1);
    http_response *res = post_review_once(&u, tools[limit], 5);
    CHECK_LIMITED(res);
    http_response_free(res);
    /* not even a second review of the tool whose review was deleted */
    res = post_review_once(&u, tools[0], 5);
    CHECK_LIMITED(res);
    http_response_free(res);
    CHECK_INT(reviews_by(&u), limit - 1);
    /* editing is not creating: still allowed while limited */
    snprintf(path, sizeof path, "/reviews/%s", second);
    EXPECT_STATUS_FREE(http_request("PATCH", path, u.token, NULL, "{\"rating\": 1}", 13, NULL), 200);
}

typedef struct {
    const http_user *user;
    const char *tool;
    long status;
} race_slot;

static void *race_review(void *arg)
{
    race_slot *s = arg;
    http_response *res = post_review(s->user, s->tool, 5);
    s->status = res->status;
    if (res->status == 429)
        CHECK_LIMITED(res);
    else if (res->status != 201)
        http_dump("race", res);
    http_response_free(res);
    return NULL;
}

static void test_parallel_limit(void)
{
    int64_t limit = rate_limit();
    if (limit <= 0 || limit >= PARALLEL_TOOLS)
        return;
    fixture_seller dev;
    static char tools[PARALLEL_TOOLS][FIXTURE_ID_SIZE];
    free_tools(&dev, PARALLEL_TOOLS, tools);
    http_user u;
    fixture_user(&u);
    race_slot slots[PARALLEL_TOOLS];
    pthread_t threads[PARALLEL_TOOLS];
    http_set_retry_429(0); /* the 429s are the point: see them, do not retry them */
    for (int i = 0; i < PARALLEL_TOOLS; i++) {
        slots[i] = (race_slot){.user = &u, .tool = tools[i]};
        pthread_create(&threads[i], NULL, race_review, &slots[i]);
    }
    int created = 0, limited = 0;
    for (int i = 0; i < PARALLEL_TOOLS; i++) {
        pthread_join(threads[i], NULL);
        created += slots[i].status == 201;
        limited += slots[i].status == 429;
    }
    http_set_retry_429(1);
    CHECK_INT(created, limit);
    CHECK_INT(limited, PARALLEL_TOOLS - limit);
    CHECK_INT(reviews_by(&u), limit);
}

/* ---- the Bayesian rating --------------------------------------------------------------------- */

/* The global totals of the visible reviews, recounted from the rows. */
static void recount(int64_t *count, int64_t *sum)
{
    *count = fixture_sql_int("SELECT COUNT(*) FROM reviews WHERE status = ?", db_text("visible"));
    *sum = fixture_sql_int("SELECT COALESCE(SUM(rating), 0) FROM reviews WHERE status = ?", db_text("visible"));
}

/* (C*m + sum) / (m + count), C the mean of all visible reviews, compared to two decimals with what
 * GET /tools/{tool} answers. Other tests write reviews meanwhile, so the recount is taken before
 * and after the GET and the comparison is made only when they agree. */
static void check_bayesian(const char *tool, int64_t tool_count, int64_t tool_sum)
{
    int64_t m = fixture_config()->rating_prior_weight;
    char path[64];
    snprintf(path, sizeof path, "/tools/%s", tool);
    for (int attempt = 0; attempt < 50; attempt++) {
        int64_t c1, s1, c2, s2;
        recount(&c1, &s1);
        http_response *res = http_get(path, NULL);
        /* the SQL expression ranking code uses gives the same value */
        int64_t sql_cents = fixture_query_int(
            fixture_db(),
            "SELECT ROUND(" TOOL_RECORD_BAYESIAN_SQL("t", "g") " * 100) FROM tools t " TOOL_RECORD_TOTALS_JOIN("g")
            " WHERE t.id = ?",
            DB_PARAMS(db_int(m), db_int(m), db_text(tool)));
        recount(&c2, &s2);
        if (c1 != c2 || s1 != s2) {
            http_response_free(res);
            continue;
        }
        CHECK_INT(res->status, 200);
        json_t *rating = json_object_get(res->json, "rating");
        double got = json_number_value(json_object_get(rating, "bayesian"));
        double mean = c1 > 0 ? (double)s1 / (double)c1 : 3.0;
        double want = tool_count > 0 ? (mean * (double)m + (double)tool_sum) / ((double)m + (double)tool_count) : 0.0;
        if (fabs(got - want) > 0.005 + 1e-9) {
            fprintf(stderr, "  bayesian of %s: got %.4f, want %.4f (C = %" PRId64 "/%" PRId64 ", m = %" PRId64 ")\n",
                    tool, got, want, s1, c1, m);
            check_failures++;
        }
        CHECK_INT(json_integer_value(json_object_get(rating, "count")), tool_count);
        if (llabs(sql_cents - llround(want * 100.0)) > 1) {
            fprintf(stderr, "  bayesian of %s in SQL: %" PRId64 " hundredths, want %.4f\n", tool, sql_cents, want);
            check_failures++;
        }
        http_response_free(res);
        return;
    }
    fprintf(stderr, "  bayesian of %s: the totals never held still\n", tool);
    check_failures++;
}

static void test_bayesian_exact(void)
{
    fixture_seller dev;
    char tools[2][FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE];
    free_tools(&dev, 2, tools);
    check_bayesian(tools[0], 0, 0);
    /* ratings far from any plausible global mean, so a fixed prior of 3.0 / 5 would not match */
    static const int ratings[] = {5, 5, 5, 4, 5, 5};
    int64_t sum = 0;
    for (size_t i = 0; i < sizeof ratings / sizeof ratings[0]; i++) {
        http_user u;
        fixture_user(&u);
        if (review(&u, tools[0], ratings[i], i == 0 ? id : NULL) < 0)
            return;
        sum += ratings[i];
    }
    check_bayesian(tools[0], 6, sum);
    /* the global mean moves with a review of another tool, and with an edit and a delete */
    http_user other;
    fixture_user(&other);
    char other_id[FIXTURE_ID_SIZE], path[64];
    if (review(&other, tools[1], 1, other_id) < 0)
        return;
    check_bayesian(tools[0], 6, sum);
    check_bayesian(tools[1], 1, 1);
    snprintf(path, sizeof path, "/reviews/%s", other_id);
    EXPECT_STATUS_FREE(http_request("PATCH", path, other.token, NULL, "{\"rating\": 2}", 13, NULL), 200);
    check_bayesian(tools[1], 1, 2);
    EXPECT_STATUS_FREE(http_request("DELETE", path, other.token, NULL, NULL, 0, NULL), 204);
    check_bayesian(tools[1], 0, 0);
    check_bayesian(tools[0], 6, sum);

    /* the developer's public profile prints the same rating */
    snprintf(path, sizeof path, "/developers/%" PRId64, dev.developer_id);
    http_response *res = http_get(path, NULL);
    EXPECT_STATUS(res, 200);
    json_t *list = json_object_get(res->json, "tools");
    json_t *tool = NULL;
    for (size_t i = 0; i < json_array_size(list); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(list, i), "id")), tools[0]) == 0)
            tool = json_array_get(list, i);
    CHECK(tool != NULL);
    double profile = json_number_value(json_object_get(json_object_get(tool, "rating"), "bayesian"));
    http_response_free(res);
    snprintf(path, sizeof path, "/tools/%s", tools[0]);
    res = http_get(path, NULL);
    double direct = json_number_value(json_object_get(json_object_get(res->json, "rating"), "bayesian"));
    http_response_free(res);
    /* both read the totals at their own moment; a concurrent test may move the third decimal only */
    CHECK(fabs(profile - direct) < 0.05);
    CHECK(profile > 0);
}

/* ---- analytics ------------------------------------------------------------------------------- */

static void test_analytics_rating_over_time(void)
{
    fixture_seller dev;
    char tools[2][FIXTURE_ID_SIZE], hidden[FIXTURE_ID_SIZE];
    free_tools(&dev, 2, tools);
    static const int ratings[] = {5, 4, 2};
    for (size_t i = 0; i < sizeof ratings / sizeof ratings[0]; i++) {
        http_user u;
        fixture_user(&u);
        review(&u, tools[0], ratings[i], NULL);
    }
    /* a hidden review is not counted: written as a moderator's hiding is, with the counters following */
    http_user h;
    fixture_user(&h);
    if (review(&h, tools[0], 1, hidden) < 0)
        return;
    mkt_error err = MKT_ERROR_INIT;
    CHECK(db_exec(fixture_db(),
                  "UPDATE reviews r JOIN tools t ON t.id = r.tool_id JOIN rating_totals g SET r.status = 'hidden',"
                  " t.rating_count = t.rating_count - 1, t.rating_sum = t.rating_sum - 1, t.rating_1 = t.rating_1 - 1,"
                  " g.rating_count = g.rating_count - 1, g.rating_sum = g.rating_sum - 1"
                  " WHERE r.id = ? AND r.status = 'visible'",
                  DB_PARAMS(db_text(hidden)), NULL, &err) == 0);
    error_clear(&err);

    char month[16];
    snprintf(month, sizeof month, "%s", fixture_sql_text("SELECT DATE_FORMAT(UTC_TIMESTAMP(), ?)", db_text("%Y-%m")));
    http_response *res = http_get("/developers/me/analytics", dev.user.token);
    EXPECT_STATUS(res, 200);
    json_t *list = json_object_get(res->json, "tools");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *tool = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(tool, "tool_id"));
        json_t *series = json_object_get(tool, "rating_over_time");
        CHECK(json_is_array(series));
        if (strcmp(id, tools[1]) == 0) {
            CHECK_INT(json_array_size(series), 0);
            CHECK_INT(json_integer_value(json_object_get(tool, "review_count")), 0);
            seen++;
            continue;
        }
        if (strcmp(id, tools[0]) != 0)
            continue;
        seen++;
        CHECK_INT(json_integer_value(json_object_get(tool, "review_count")), 3);
        CHECK_INT(json_array_size(series), 1);
        json_t *point = json_array_get(series, 0);
        CHECK_STR(json_string_value(json_object_get(point, "month")), month);
        CHECK_INT(json_integer_value(json_object_get(point, "count")), 3);
        CHECK(fabs(json_number_value(json_object_get(point, "average")) - 3.67) < 1e-9);
    }
    CHECK_INT(seen, 2);
    http_response_free(res);
}

int main(void)
{
    RUN(test_limit_and_retry_after);
    RUN(test_delete_does_not_refund);
    RUN(test_parallel_limit);
    RUN(test_bayesian_exact);
    RUN(test_analytics_rating_over_time);
    fixture_close();
    return check_finish();
}

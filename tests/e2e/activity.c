/* Discovery's activity side end to end, through real nginx -> marketplace -> MariaDB: GET
 * /tools/trending (parameters, which events move a tool, decay ordering with event times injected
 * through core/activity's clock, the window), views of GET /tools/{tool} written back in batches and
 * shown by analytics, GET /tools/{tool}/recommendations (similar by shared tags then quality,
 * bought together from co-use and purchases, what a signed-in caller has left out) and GET
 * /me/recommendations. Every test makes its own tools with tags no other test uses. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/activity.h"
#include "core/trending.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

/* ---- helpers -------------------------------------------------------------------------------- */

/* A tag no other test or run uses: "x<pid>-<counter>-<name>". Rotating static buffers. */
static const char *unique_tag(const char *name)
{
    static char bufs[16][40];
    static unsigned counter;
    char *out = bufs[counter % 16];
    snprintf(out, sizeof bufs[0], "x%ld-%u-%s", (long)getpid() % 100000, counter++, name);
    return out;
}

/* A tool of dev in category with the tags (NULL-terminated), published unless draft; id and slug out. */
static void make_tool(const http_user *dev, const char *category, const char *const *tags, int draft, char *id,
                      char *slug)
{
    const char *made = fixture_slug("act");
    json_t *body = fixture_adder_draft(made);
    json_t *list = json_array();
    for (size_t i = 0; tags && tags[i]; i++)
        json_array_append_new(list, json_string(tags[i]));
    json_object_set_new(body, "tags", list);
    json_object_set_new(body, "category", json_string(category));
    fixture_create_tool(dev, body, id);
    if (!draft)
        fixture_publish(dev, id, "1.0.0");
    if (slug)
        snprintf(slug, FIXTURE_SLUG_SIZE, "%s", made);
}

static void execute(const http_user *u, const char *tool)
{
    char path[160];
    snprintf(path, sizeof path, "/tools/%.100s/execute", tool);
    fixture_post_expect(u, path, fixture_json("{\"input\": {\"a\": 1, \"b\": 2}}"), NULL, 200, "execute");
}

/* A free tool "bought" through checkout: completes at once. */
static void checkout_free(const http_user *u, const char *tool)
{
    char key[64];
    fixture_idempotency_key(key, sizeof key);
    http_response *res = fixture_checkout(u, key, tool);
    EXPECT_STATUS(res, 201);
    CHECK_STR(http_json_string(res, "status"), "completed");
    http_response_free(res);
}

/* Pages a walk of the trending list reads at most: the list holds every tool with activity in the
 * window, and the test stack's database keeps what earlier runs made, so it may be long. */
#define TRENDING_PAGES_MAX 1000

/* The position (0-based, across pages) of tool id in GET /tools/trending?query; -1 when absent. */
static int trending_position(const char *query, const char *id)
{
    for (int page = 1, seen = 0; page <= TRENDING_PAGES_MAX; page++) {
        char path[256];
        snprintf(path, sizeof path, "/tools/trending?%s&per_page=100&page=%d", query, page);
        http_response *res = http_get(path, NULL);
        fixture_check_jansson_text(res); /* written as text by core/activity */
        if (res->status != 200) {
            http_dump("trending", res);
            http_response_free(res);
            return -2;
        }
        json_t *items = json_object_get(res->json, "items");
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item) {
            if (strcmp(json_string_value(json_object_get(item, "id")), id) == 0) {
                http_response_free(res);
                return seen + (int)i;
            }
        }
        seen += (int)json_array_size(items);
        size_t n = json_array_size(items);
        http_response_free(res);
        if (n < 100)
            return -1;
    }
    return -1;
}

/* Position of id in the array (items of a recommendation list); -1 when absent. */
static int list_position(const json_t *list, const char *id)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
        if (strcmp(json_string_value(json_object_get(item, "id")), id) == 0)
            return (int)i;
    return -1;
}

/* GET /tools/{tool}/recommendations as u (NULL: anonymous); the answer, 200 checked. */
static http_response *recommendations(const char *tool, const http_user *u)
{
    char path[128];
    snprintf(path, sizeof path, "/tools/%s/recommendations", tool);
    http_response *res = http_get(path, u ? u->token : NULL);
    EXPECT_STATUS(res, 200);
    return res;
}

/* ---- trending ------------------------------------------------------------------------------- */

static void expect_422(const char *path, const char *field)
{
    http_response *res = http_get(path, NULL);
    EXPECT_STATUS(res, 422);
    if (!http_problem_has_field(res, field)) {
        fprintf(stderr, "  %s: no field %s\n", path, field);
        check_failures++;
    }
    http_response_free(res);
}

static void test_trending_parameters(void)
{
    static const char *const bad_windows[] = {"0", "91", "abc", "-1", "7.5", "07", "", "100000000000000000000"};
    for (size_t i = 0; i < sizeof bad_windows / sizeof bad_windows[0]; i++) {
        char path[160];
        snprintf(path, sizeof path, "/tools/trending?window_days=%s", bad_windows[i]);
        expect_422(path, "window_days");
    }
    expect_422("/tools/trending?category=no-such-category", "category");
    http_response *res = http_get("/tools/trending?window_days=90&category=math&page=2&per_page=5", NULL);
    EXPECT_STATUS(res, 200);
    CHECK(json_is_array(json_object_get(res->json, "items")));
    CHECK(json_is_integer(json_object_get(res->json, "total")));
    CHECK_INT(json_integer_value(json_object_get(res->json, "page")), 2);
    CHECK_INT(json_integer_value(json_object_get(res->json, "per_page")), 5);
    http_response_free(res);
    /* /tools/trending is the list, not a tool named "trending"; an empty category means any */
    res = http_get("/tools/trending?category=", NULL);
    EXPECT_STATUS(res, 200);
    CHECK(json_is_array(json_object_get(res->json, "items")));
    http_response_free(res);
    EXPECT_STATUS_FREE(http_get("/tools/trending?per_page=0", NULL), 400);
}

/* A purchase (weight 20), a review (10) and one execution (1, after the batch write-back) each put a
 * tool in trending, in that order; a tool without activity and a draft are not there. */
static void test_trending_events(void)
{
    http_user dev, buyer;
    fixture_developer(&dev, "Trending Shop");
    fixture_user(&buyer);
    char bought[FIXTURE_ID_SIZE], reviewed[FIXTURE_ID_SIZE], run[FIXTURE_ID_SIZE], idle[FIXTURE_ID_SIZE];
    const char *tags[] = {unique_tag("trend"), NULL};
    make_tool(&dev, "security", tags, 0, bought, NULL);
    make_tool(&dev, "security", tags, 0, reviewed, NULL);
    make_tool(&dev, "security", tags, 0, run, NULL);
    make_tool(&dev, "security", tags, 0, idle, NULL);

    checkout_free(&buyer, bought);
    json_t *review = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", reviewed, "rating", 4, "title", "Fine",
                               "content", "Does what it says.");
    fixture_post_expect(&buyer, "/reviews", review, NULL, 201, "review");
    execute(&buyer, run);

    CHECK(trending_position("category=security", bought) >= 0);
    CHECK(trending_position("category=security", reviewed) > trending_position("category=security", bought));
    /* executions reach the score with the batch write-back: within a couple of idle seconds */
    int pos = -1;
    for (int i = 0; i < 50 && pos < 0; i++) {
        pos = trending_position("category=security", run);
        if (pos < 0)
            usleep(100 * 1000);
    }
    CHECK(pos > trending_position("category=security", reviewed));
    CHECK_INT(trending_position("category=security", idle), -1);
    /* the category filter: none of them is in math */
    CHECK_INT(trending_position("category=math", bought), -1);
}

/* Items in a full walk of GET /tools/trending?query, and the total the pages reported (-1 when two
 * pages disagreed: activity of other tests moved the list during the walk). */
static int64_t trending_walk(const char *query, int64_t *total)
{
    int64_t items = 0;
    *total = -2;
    for (int page = 1; page <= TRENDING_PAGES_MAX; page++) {
        char path[256];
        snprintf(path, sizeof path, "/tools/trending?%s&per_page=100&page=%d", query, page);
        http_response *res = http_get(path, NULL);
        int64_t t = res->status == 200 ? (int64_t)json_integer_value(json_object_get(res->json, "total")) : -1;
        size_t n = json_array_size(json_object_get(res->json, "items"));
        http_response_free(res);
        *total = *total == -2 || *total == t ? t : -1;
        items += (int64_t)n;
        if (n < 100)
            break;
    }
    return items;
}

/* A delisted tool leaves trending, and total still counts exactly the listed tools: without a
 * category it is the window's index range minus the unpublished tools in it. Other tests add
 * activity while this walks, so a walk that disagrees is tried again (a wrong total disagrees every
 * time). */
static void test_trending_delisted(void)
{
    http_user dev, buyer;
    fixture_developer(&dev, "Delist Trend Shop");
    fixture_user(&buyer);
    const char *tags[] = {unique_tag("gone"), NULL};
    char id[FIXTURE_ID_SIZE];
    make_tool(&dev, "media", tags, 0, id, NULL);
    checkout_free(&buyer, id);
    CHECK(trending_position("window_days=90", id) >= 0);
    char path[96];
    snprintf(path, sizeof path, "/tools/%s", id);
    EXPECT_STATUS_FREE(http_request("DELETE", path, dev.token, NULL, NULL, 0, NULL), 204);
    CHECK_INT(trending_position("window_days=90", id), -1);
    CHECK_INT(trending_position("window_days=90&category=media", id), -1);
    static const char *const queries[] = {"window_days=90", "window_days=90&category=media"};
    for (size_t q = 0; q < 2; q++) {
        int64_t items = 0, total = -1;
        for (int attempt = 0; attempt < 5 && (attempt == 0 || items != total); attempt++)
            items = trending_walk(queries[q], &total);
        CHECK(items > 0);
        if (items != total)
            fprintf(stderr, "  %s: %" PRId64 " items, total %" PRId64 "\n", queries[q], items, total);
        CHECK(items == total);
    }
}

/* Free checkouts cost nothing, so they must not be a free way to push a tool up: the same user's
 * second checkout is refused (409, they own it) and moves nothing; another user's is one event. */
static void test_trending_free_checkout_once(void)
{
    http_user dev, buyer, other;
    fixture_developer(&dev, "Free Trend Shop");
    fixture_user(&buyer);
    fixture_user(&other);
    const char *tags[] = {unique_tag("free"), NULL};
    char id[FIXTURE_ID_SIZE];
    make_tool(&dev, "media", tags, 0, id, NULL);
    static const char sql[] = "SELECT CAST(score_log AS CHAR) FROM tool_activity WHERE tool_id = ?";
    checkout_free(&buyer, id);
    char first[64];
    snprintf(first, sizeof first, "%s", fixture_sql_text(sql, db_int(atoll(id))));
    CHECK(*first);
    char key[64];
    fixture_idempotency_key(key, sizeof key);
    EXPECT_STATUS_FREE(fixture_checkout(&buyer, key, id), 409);
    CHECK_STR(fixture_sql_text(sql, db_int(atoll(id))), first);
    checkout_free(&other, id);
    CHECK(strtod(fixture_sql_text(sql, db_int(atoll(id))), NULL) > strtod(first, NULL) + 0.9);
}

/* A deleted review takes its trending event back: create and delete cycles leave no activity, and
 * after them one kept review scores what one review scores (within the millisecond between the
 * review's row and its event). */
static void test_trending_review_deleted(void)
{
    http_user dev, author, other;
    fixture_developer(&dev, "Review Trend Shop");
    fixture_user(&author);
    fixture_user(&other);
    const char *tags[] = {unique_tag("undo"), NULL};
    char id[FIXTURE_ID_SIZE], review[FIXTURE_ID_SIZE], path[96];
    make_tool(&dev, "media", tags, 0, id, NULL);
    static const char sql[] = "SELECT CAST(score_log AS CHAR) FROM tool_activity WHERE tool_id = ?";
    static const char count[] = "SELECT COUNT(*) FROM tool_activity WHERE tool_id = ?";
    char body[256];
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"t\", \"content\": \"c\"}", id);
    json_t *review_body = fixture_json(body);
    for (int k = 0; k < 4; k++) {
        http_response *res = http_post_json("/reviews", author.token, review_body);
        EXPECT_STATUS(res, 201);
        snprintf(review, sizeof review, "%s", http_json_string(res, "id") ? http_json_string(res, "id") : "0");
        http_response_free(res);
        CHECK_INT(fixture_sql_int(count, db_int(atoll(id))), 1);
        snprintf(path, sizeof path, "/reviews/%s", review);
        EXPECT_STATUS_FREE(http_request("DELETE", path, author.token, NULL, NULL, 0, NULL), 204);
        CHECK_INT(fixture_sql_int(count, db_int(atoll(id))), 0);
    }
    /* one review by another user, and one by the author that is then deleted: one review's worth stays */
    http_response *res = http_post_json("/reviews", other.token, review_body);
    EXPECT_STATUS(res, 201);
    http_response_free(res);
    char one[64];
    snprintf(one, sizeof one, "%s", fixture_sql_text(sql, db_int(atoll(id))));
    res = http_post_json("/reviews", author.token, review_body);
    EXPECT_STATUS(res, 201);
    snprintf(review, sizeof review, "%s", http_json_string(res, "id") ? http_json_string(res, "id") : "0");
    http_response_free(res);
    CHECK(strtod(fixture_sql_text(sql, db_int(atoll(id))), NULL) > strtod(one, NULL) + 0.9);
    snprintf(path, sizeof path, "/reviews/%s", review);
    EXPECT_STATUS_FREE(http_request("DELETE", path, author.token, NULL, NULL, 0, NULL), 204);
    double left = strtod(fixture_sql_text(sql, db_int(atoll(id))), NULL);
    CHECK(left > strtod(one, NULL) - 1e-3 && left < strtod(one, NULL) + 1e-3);
    json_decref(review_body);
}

/* Decay: events with injected times (core/activity's activity_record_at, the server's half-life).
 * A burst of weight 100 eight half-lives ago decays to 100/256 < 1 and loses to one event of weight 1
 * now; the same burst two half-lives ago (25) wins. The window leaves out tools whose last event is
 * older than window_days. */
static void test_trending_decay(void)
{
    http_user dev;
    fixture_developer(&dev, "Decay Shop");
    const char *tags[] = {unique_tag("decay"), NULL};
    char old_burst[FIXTURE_ID_SIZE], recent_burst[FIXTURE_ID_SIZE], one_now[FIXTURE_ID_SIZE];
    make_tool(&dev, "finance", tags, 0, old_burst, NULL);
    make_tool(&dev, "finance", tags, 0, recent_burst, NULL);
    make_tool(&dev, "finance", tags, 0, one_now, NULL);
    activity_configure(fixture_config());
    double h = (double)fixture_config()->activity_half_life_hours * 3600.0, now = (double)time(NULL);
    CHECK(8 * h < 30 * 86400.0 && 8 * h > 7 * 86400.0); /* the windows below assume the default 72 h */
    mkt_error err = MKT_ERROR_INIT;
    for (int i = 0; i < 100; i++) {
        CHECK_INT(activity_record_at(fixture_db(), atoll(old_burst), 1, now - 8 * h, &err), 0);
        CHECK_INT(activity_record_at(fixture_db(), atoll(recent_burst), 1, now - 2 * h, &err), 0);
    }
    CHECK_INT(activity_record_at(fixture_db(), atoll(one_now), 1, now, &err), 0);
    error_clear(&err);
    /* the stored L (added up in SQL, TRENDING_ADD_SQL) is core/trending's log-sum-exp of the same
     * events: 100 events of weight 1 at one time are log2(100) + t / h */
    const char *stored = fixture_sql_text("SELECT CAST(score_log AS CHAR) FROM tool_activity WHERE tool_id = ?",
                                          db_int(atoll(recent_burst)));
    double want = trending_event_log(100, now - 2 * h, h);
    CHECK(*stored && fabs(strtod(stored, NULL) - want) < 1e-9);

    int old_pos = trending_position("window_days=30&category=finance", old_burst);
    int now_pos = trending_position("window_days=30&category=finance", one_now);
    int recent_pos = trending_position("window_days=30&category=finance", recent_burst);
    CHECK(old_pos >= 0 && now_pos >= 0 && recent_pos >= 0);
    CHECK(recent_pos < now_pos);
    CHECK(now_pos < old_pos);
    /* eight half-lives (24 days) ago is outside a 7-day window */
    CHECK_INT(trending_position("window_days=7&category=finance", old_burst), -1);
    CHECK(trending_position("window_days=7&category=finance", recent_burst) >= 0);
}

/* ---- views ---------------------------------------------------------------------------------- */

static json_t *analytics_tool(const http_user *dev, const char *id, http_response **res)
{
    *res = http_get("/developers/me/analytics", dev->token);
    if ((*res)->status != 200)
        return NULL;
    json_t *tools = json_object_get((*res)->json, "tools");
    size_t i;
    json_t *tool;
    json_array_foreach(tools, i, tool)
        if (strcmp(json_string_value(json_object_get(tool, "tool_id")), id) == 0)
            return tool;
    return NULL;
}

/* N reads of the page by others are N views once the workers have written them back; the
 * developer's own reads are not views; analytics shows the total and today's figure. */
static void test_views(void)
{
    enum { N = 7 };
    http_user dev, reader;
    fixture_developer(&dev, "Views Shop");
    fixture_user(&reader);
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE];
    const char *tags[] = {unique_tag("views"), NULL};
    make_tool(&dev, "text", tags, 0, id, slug);
    for (int i = 0; i < N; i++) {
        char path[160];
        snprintf(path, sizeof path, "/tools/%s", i % 2 ? slug : id);
        EXPECT_STATUS_FREE(http_get(path, i % 3 ? NULL : reader.token), 200);
        EXPECT_STATUS_FREE(http_get(path, dev.token), 200); /* not a view */
    }
    EXPECT_STATUS_FREE(http_get("/tools/no-such-tool-anywhere/recommendations", NULL), 404);

    /* the counts are in the workers' memory until a worker is idle or, busy, past ACTIVITY_FLUSH_MS
     * after its last write-back: wait for it */
    int64_t views = -1;
    for (int i = 0; i < 40 && views < N; i++) {
        http_response *res;
        json_t *tool = analytics_tool(&dev, id, &res);
        views = tool ? (int64_t)json_integer_value(json_object_get(tool, "views")) : -1;
        http_response_free(res);
        if (views < N)
            usleep(250 * 1000);
    }
    CHECK_INT(views, N);
    sleep(2); /* anything more would have been written by now */
    http_response *res;
    json_t *tool = analytics_tool(&dev, id, &res);
    CHECK(tool != NULL);
    CHECK_INT(json_integer_value(json_object_get(tool, "views")), N);
    json_t *daily = json_object_get(tool, "daily");
    CHECK_INT(json_array_size(daily), 1);
    json_t *today = json_array_get(daily, 0);
    CHECK_INT(json_integer_value(json_object_get(today, "views")), N);
    CHECK_INT(json_integer_value(json_object_get(today, "executions")), 0);
    http_response_free(res);
}

/* ---- recommendations ------------------------------------------------------------------------ */

/* similar: by shared tags, then the rating; never the tool itself or a draft; a signed-in caller
 * does not get the tools they have used or their own tools. */
static void test_similar(void)
{
    http_user dev, other_dev, user, reviewer;
    fixture_developer(&dev, "Similar Shop");
    fixture_developer(&other_dev, "Other Shop");
    fixture_user(&user);
    fixture_user(&reviewer);
    const char *t1 = unique_tag("a"), *t2 = unique_tag("b"), *t3 = unique_tag("c");
    const char *all[] = {t1, t2, t3, NULL}, *two[] = {t1, t2, NULL}, *one[] = {t1, NULL};
    char source[FIXTURE_ID_SIZE], three[FIXTURE_ID_SIZE], pair[FIXTURE_ID_SIZE], single[FIXTURE_ID_SIZE],
        single_rated[FIXTURE_ID_SIZE], single_same[FIXTURE_ID_SIZE], draft[FIXTURE_ID_SIZE], mine[FIXTURE_ID_SIZE];
    make_tool(&dev, "media", all, 0, source, NULL);
    make_tool(&dev, "data", one, 0, single, NULL);
    make_tool(&dev, "data", one, 0, single_rated, NULL);
    make_tool(&dev, "media", one, 0, single_same, NULL); /* one tag and the source's category */
    make_tool(&dev, "data", two, 0, pair, NULL);
    make_tool(&dev, "data", all, 0, three, NULL);
    make_tool(&dev, "data", all, 1, draft, NULL);
    make_tool(&other_dev, "data", all, 0, mine, NULL);
    json_t *review = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", single_rated, "rating", 5, "title", "Great",
                               "content", "Best of its kind.");
    fixture_post_expect(&reviewer, "/reviews", review, NULL, 201, "review");

    http_response *res = recommendations(source, NULL);
    json_t *similar = json_object_get(res->json, "similar");
    CHECK(json_array_size(similar) <= ACTIVITY_LIST_MAX);
    CHECK_INT(list_position(similar, mine), 0); /* a tie on 3 shared tags: then quality, then the newest */
    CHECK_INT(list_position(similar, three), 1);
    CHECK_INT(list_position(similar, pair), 2);
    CHECK_INT(list_position(similar, single_same), 3); /* one tag, same category: before other categories */
    CHECK_INT(list_position(similar, single_rated), 4); /* one tag, rated: before the unrated one */
    CHECK_INT(list_position(similar, single), 5);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(similar, 0), "shared_tags")), 3);
    CHECK_INT(list_position(similar, source), -1);
    CHECK_INT(list_position(similar, draft), -1);
    CHECK(json_is_array(json_object_get(res->json, "bought_together")));
    http_response_free(res);

    /* the user has used `three`: left out for them, still there for everyone else */
    execute(&user, three);
    res = recommendations(source, &user);
    similar = json_object_get(res->json, "similar");
    CHECK_INT(list_position(similar, three), -1);
    CHECK_INT(list_position(similar, mine), 0);
    http_response_free(res);

    /* other_dev's own tool is not recommended to other_dev */
    res = recommendations(source, &other_dev);
    CHECK_INT(list_position(json_object_get(res->json, "similar"), mine), -1);
    CHECK_INT(list_position(json_object_get(res->json, "similar"), three), 0);
    http_response_free(res);

    /* a draft has no public recommendations: 404 as for a missing tool; its owner sees them */
    char path[128];
    snprintf(path, sizeof path, "/tools/%s/recommendations", draft);
    EXPECT_STATUS_FREE(http_get(path, NULL), 404);
    EXPECT_STATUS_FREE(http_get(path, dev.token), 200);
}

/* bought together: users who have both tools (first runs and completed purchases), most first; a
 * caller who has one of the partners does not get it. */
static void test_bought_together(void)
{
    http_user dev, u1, u2, u3, u4;
    fixture_developer(&dev, "Pairs Shop");
    fixture_user(&u1);
    fixture_user(&u2);
    fixture_user(&u3);
    fixture_user(&u4);
    const char *tags[] = {unique_tag("pairs"), NULL};
    char p[FIXTURE_ID_SIZE], q[FIXTURE_ID_SIZE], r[FIXTURE_ID_SIZE], paid[FIXTURE_ID_SIZE], txn[FIXTURE_ID_SIZE];
    make_tool(&dev, "productivity", tags, 0, p, NULL);
    make_tool(&dev, "productivity", tags, 0, q, NULL);
    make_tool(&dev, "productivity", tags, 0, r, NULL);
    fixture_adder_tool(&dev, "one_time", 500, 0, paid, NULL);

    execute(&u1, p);
    execute(&u1, q);
    execute(&u1, q); /* a second run of the same tool pairs nothing again */
    execute(&u2, q);
    checkout_free(&u2, p); /* a free checkout counts as having it too */
    execute(&u3, r);
    execute(&u3, p);
    CHECK_INT(fixture_buy(&u3, paid, 500, txn), 0); /* a paid purchase pairs with what u3 has */
    CHECK_INT(fixture_buy(&u1, paid, 500, txn), 0);
    CHECK_INT(fixture_buy(&u2, paid, 500, txn), 0);

    http_response *res = recommendations(p, NULL);
    json_t *together = json_object_get(res->json, "bought_together");
    CHECK_INT(json_array_size(together), 3);
    /* paid: u1, u2, u3 (3); q: u1, u2 (2); r: u3 (1) */
    CHECK_INT(list_position(together, paid), 0);
    CHECK_INT(list_position(together, q), 1);
    CHECK_INT(list_position(together, r), 2);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(together, 0), "together")), 3);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(together, 1), "together")), 2);
    CHECK_INT(list_position(together, p), -1);
    http_response_free(res);

    /* the pairs go both ways: r's partners are p and paid (u3), one user each */
    res = recommendations(r, NULL);
    together = json_object_get(res->json, "bought_together");
    CHECK_INT(json_array_size(together), 2);
    CHECK(list_position(together, p) >= 0 && list_position(together, paid) >= 0);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(together, 1), "together")), 1);
    http_response_free(res);

    /* u4 has q: p's partners for u4 leave it out */
    execute(&u4, q);
    res = recommendations(p, &u4);
    together = json_object_get(res->json, "bought_together");
    CHECK_INT(list_position(together, q), -1);
    CHECK_INT(list_position(together, paid), 0);
    http_response_free(res);
    FIXTURE_CHECK_MONEY();
}

/* A user's new tool is paired with their ACTIVITY_PAIR_RECENT most recent tools only: bounded work
 * per event however many tools the user has. */
static void test_pairs_bounded(void)
{
    enum { TOOLS = ACTIVITY_PAIR_RECENT + 2 };
    http_user dev, user;
    fixture_developer(&dev, "Bound Shop");
    fixture_user(&user);
    const char *tags[] = {unique_tag("bound"), NULL};
    char ids[TOOLS][FIXTURE_ID_SIZE];
    for (int i = 0; i < TOOLS; i++) {
        make_tool(&dev, "other", tags, 0, ids[i], NULL);
        execute(&user, ids[i]);
    }
    /* the last tool met the 50 before it, not the first one */
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM tool_pairs WHERE tool_id = ?", db_int(atoll(ids[TOOLS - 1]))),
              ACTIVITY_PAIR_RECENT);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM tool_pairs WHERE tool_id = ?", db_int(atoll(ids[0]))),
              ACTIVITY_PAIR_RECENT);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM tool_pairs WHERE tool_id = ? AND other_id = %s", ids[TOOLS - 1]);
    CHECK_INT(fixture_sql_int(sql, db_int(atoll(ids[0]))), 0);
    snprintf(sql, sizeof sql, "SELECT together FROM tool_pairs WHERE tool_id = ? AND other_id = %s", ids[TOOLS - 2]);
    CHECK_INT(fixture_sql_int(sql, db_int(atoll(ids[TOOLS - 1]))), 1);
}

/* /me/recommendations: tools sharing tags with what the caller uses, most shared first, never one
 * they have; at most ten; signed-in only. */
static void test_me_recommendations(void)
{
    enum { MANY = 12 };
    http_user dev, user;
    fixture_developer(&dev, "Me Shop");
    fixture_user(&user);
    const char *t1 = unique_tag("m1"), *t2 = unique_tag("m2");
    const char *both[] = {t1, t2, NULL}, *first[] = {t1, NULL};
    char used[FIXTURE_ID_SIZE], best[FIXTURE_ID_SIZE], many[MANY][FIXTURE_ID_SIZE];
    make_tool(&dev, "web", both, 0, used, NULL);
    make_tool(&dev, "web", both, 0, best, NULL);
    for (int i = 0; i < MANY; i++)
        make_tool(&dev, "web", first, 0, many[i], NULL);

    EXPECT_STATUS_FREE(http_get("/me/recommendations", NULL), 401);
    http_response *res = http_get("/me/recommendations", user.token);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_array_size(json_object_get(res->json, "items")), 0); /* uses nothing yet */
    http_response_free(res);

    execute(&user, used);
    res = http_get("/me/recommendations", user.token);
    EXPECT_STATUS(res, 200);
    json_t *items = json_object_get(res->json, "items");
    CHECK_INT(json_array_size(items), ACTIVITY_LIST_MAX);
    CHECK_INT(list_position(items, best), 0);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(items, 0), "shared_tags")), 2);
    CHECK_INT(list_position(items, used), -1);
    /* the rest share one tag, newest first on equal quality */
    CHECK_INT(list_position(items, many[MANY - 1]), 1);
    http_response_free(res);

    execute(&user, best);
    res = http_get("/me/recommendations", user.token);
    items = json_object_get(res->json, "items");
    CHECK_INT(list_position(items, best), -1);
    CHECK_INT(list_position(items, used), -1);
    /* many[] share t1 with both used tools now: 2 each */
    CHECK_INT(json_integer_value(json_object_get(json_array_get(items, 0), "shared_tags")), 2);
    http_response_free(res);
}

int main(void)
{
    RUN(test_trending_parameters);
    RUN(test_trending_events);
    RUN(test_trending_free_checkout_once);
    RUN(test_trending_delisted);
    RUN(test_trending_decay);
    RUN(test_trending_review_deleted);
    RUN(test_views);
    RUN(test_similar);
    RUN(test_bought_together);
    RUN(test_pairs_bounded);
    RUN(test_me_recommendations);
    fixture_close();
    return check_finish();
}

/* Reviews end to end, through real nginx -> marketplace -> MariaDB: writing, editing and deleting a
 * review with the tool's rating counters following in the same transaction; every input rule (bad
 * types, ratings 0/6/3.5/"5", empty and oversized text, invalid UTF-8, control characters, unknown
 * fields and ids) answered 4xx naming the field with nothing changed; verified purchases; helpful
 * votes (replace, withdraw, not on your own review) and the three sort orders; the developer's reply;
 * and 50 parallel reviews, then 50 parallel edits, 25 parallel deletes and 100 parallel votes, after
 * each of which the counters equal a recount of the rows. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

/* ---- helpers -------------------------------------------------------------------------------- */

/* A published free adder of a fresh developer: its id (and slug when not NULL). */
static void free_tool(fixture_seller *dev, char *id, char *slug)
{
    dev->developer_id = fixture_developer(&dev->user, "Review Shop");
    fixture_adder_tool(&dev->user, "free", 0, 0, id, slug);
}

static http_response *post_review(const http_user *u, const char *tool, int rating, const char *title,
                                  const char *content)
{
    json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", tool, "rating", rating, "title", title, "content",
                             content);
    http_response *res = http_post_json("/reviews", u->token, body);
    json_decref(body);
    return res;
}

/* A review that must be created: its id into id (FIXTURE_ID_SIZE); -1 (failure counted) otherwise. */
static int review(const http_user *u, const char *tool, int rating, char *id)
{
    http_response *res = post_review(u, tool, rating, "Does what it says", "Added two numbers.\nTwice.");
    int ok = res->status == 201 && http_json_string(res, "id");
    if (ok)
        snprintf(id, FIXTURE_ID_SIZE, "%s", http_json_string(res, "id"));
    else
        http_dump("review", res);
    CHECK(ok);
    http_response_free(res);
    return ok ? 0 : -1;
}

static http_response *send(const char *method, const http_user *u, const char *path, const char *body)
{
    return http_request(method, path, u ? u->token : NULL, NULL, body, body ? strlen(body) : 0, NULL);
}

static int64_t reviews_of(const char *tool)
{
    return fixture_sql_int("SELECT COUNT(*) FROM reviews WHERE tool_id = ?", db_text(tool));
}

/* The tool's counters equal a recount of its visible reviews (count, sum and each star). */
static void check_counters_at(const char *tool, int line)
{
    static const char *const sql[] = {
        "SELECT CAST((SELECT rating_count FROM tools WHERE id = t.id) AS SIGNED) - (SELECT COUNT(*) FROM reviews r"
        " WHERE r.tool_id = t.id AND r.status = 'visible') FROM tools t WHERE t.id = ?",
        "SELECT CAST((SELECT rating_sum FROM tools WHERE id = t.id) AS SIGNED) - (SELECT COALESCE(SUM(rating), 0)"
        " FROM reviews r WHERE r.tool_id = t.id AND r.status = 'visible') FROM tools t WHERE t.id = ?",
        "SELECT CAST(rating_1 + rating_2 * 2 + rating_3 * 3 + rating_4 * 4 + rating_5 * 5 AS SIGNED) - CAST(rating_sum AS SIGNED) FROM tools"
        " WHERE id = ?",
        "SELECT CAST(rating_1 + rating_2 + rating_3 + rating_4 + rating_5 AS SIGNED) - CAST(rating_count AS SIGNED) FROM tools WHERE id = ?",
        "SELECT CAST(rating_5 AS SIGNED) - (SELECT COUNT(*) FROM reviews r WHERE r.tool_id = t.id"
        " AND r.status = 'visible' AND r.rating = 5) FROM tools t WHERE t.id = ?",
        "SELECT CAST(rating_1 AS SIGNED) - (SELECT COUNT(*) FROM reviews r WHERE r.tool_id = t.id"
        " AND r.status = 'visible' AND r.rating = 1) FROM tools t WHERE t.id = ?",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        int64_t diff = fixture_sql_int(sql[i], db_text(tool));
        if (diff != 0) {
            fprintf(stderr, "  line %d: counter check %zu of tool %s is off by %" PRId64 "\n", line, i, tool, diff);
            check_failures++;
        }
    }
}
#define CHECK_COUNTERS(tool) check_counters_at((tool), __LINE__)

/* GET /tools/{tool}: rating.count and rating.distribution[star]. */
static void check_tool_rating(const char *tool, int64_t count, int star, int64_t at_star)
{
    char path[128];
    snprintf(path, sizeof path, "/tools/%s", tool);
    http_response *res = http_get(path, NULL);
    CHECK_INT(res->status, 200);
    json_t *rating = json_object_get(res->json, "rating");
    CHECK_INT(json_integer_value(json_object_get(rating, "count")), count);
    char key[2] = {(char)('0' + star), 0};
    CHECK_INT(json_integer_value(json_object_get(json_object_get(rating, "distribution"), key)), at_star);
    http_response_free(res);
}

/* A moderator's decision on review id (action hide or remove) through the real route, as a
 * moderator of this test. */
static http_user moderator;

static void moderate(const char *id, const char *action)
{
    char path[96], body[96];
    snprintf(path, sizeof path, "/moderation/reviews/%s", id);
    snprintf(body, sizeof body, "{\"action\": \"%s\", \"note\": \"by the reviews test\"}", action);
    EXPECT_STATUS_FREE(send("POST", &moderator, path, body), 200);
}

/* ---- create, read, edit, delete ------------------------------------------------------------------ */

static void test_create_list_edit_delete(void)
{
    fixture_seller dev;
    char tool[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], id[FIXTURE_ID_SIZE], path[128];
    free_tool(&dev, tool, slug);
    http_user a, b;
    fixture_user(&a);
    fixture_user(&b);

    http_response *res = post_review(&a, tool, 4, "Handy", "Adds numbers.\r\nNothing else.\tFine.");
    EXPECT_STATUS(res, 201);
    snprintf(id, sizeof id, "%s", http_json_string(res, "id") ? http_json_string(res, "id") : "0");
    CHECK(res->location && strstr(res->location, "/reviews/"));
    CHECK_STR(http_json_string(res, "tool_id"), tool);
    CHECK_INT(json_integer_value(json_object_get(res->json, "rating")), 4);
    CHECK_STR(json_string_value(json_object_get(json_object_get(res->json, "author"), "id")), a.id);
    CHECK(json_is_false(json_object_get(res->json, "verified_purchase")));
    CHECK(json_is_null(json_object_get(res->json, "response")));
    http_response_free(res);
    check_tool_rating(tool, 1, 4, 1);
    CHECK_COUNTERS(tool);

    /* one per user per tool */
    EXPECT_STATUS_FREE(post_review(&a, tool, 5, "Again", "Second try"), 409);
    CHECK_INT(reviews_of(tool), 1);

    /* the list, by slug and anonymously */
    snprintf(path, sizeof path, "/tools/%s/reviews", slug);
    res = http_get(path, NULL);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 1);
    CHECK_INT(json_integer_value(json_object_get(res->json, "page")), 1);
    CHECK_INT(json_integer_value(json_object_get(res->json, "per_page")), 20);
    json_t *item = json_array_get(json_object_get(res->json, "items"), 0);
    CHECK_STR(json_string_value(json_object_get(item, "id")), id);
    CHECK_STR(json_string_value(json_object_get(item, "content")), "Adds numbers.\r\nNothing else.\tFine.");
    CHECK_STR(json_string_value(json_object_get(json_object_get(item, "author"), "display_name")), a.display_name);
    http_response_free(res);

    /* edit: only the author; the counters follow the rating */
    snprintf(path, sizeof path, "/reviews/%s", id);
    EXPECT_STATUS_FREE(send("PATCH", &b, path, "{\"rating\": 1}"), 403);
    res = send("PATCH", &a, path, "{\"rating\": 2, \"title\": \"Less handy\"}");
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "rating")), 2);
    CHECK_STR(http_json_string(res, "title"), "Less handy");
    CHECK_STR(http_json_string(res, "content"), "Adds numbers.\r\nNothing else.\tFine.");
    http_response_free(res);
    check_tool_rating(tool, 1, 4, 0);
    check_tool_rating(tool, 1, 2, 1);
    CHECK_COUNTERS(tool);
    CHECK(fixture_sql_int("SELECT rating_sum FROM tools WHERE id = ?", db_text(tool)) == 2);
    EXPECT_STATUS_FREE(send("PATCH", &a, path, "{}"), 422);

    /* delete: only the author; then the review is gone for everyone */
    EXPECT_STATUS_FREE(send("DELETE", &b, path, NULL), 403);
    EXPECT_STATUS_FREE(send("DELETE", &a, path, NULL), 204);
    check_tool_rating(tool, 0, 2, 0);
    CHECK_COUNTERS(tool);
    CHECK_INT(reviews_of(tool), 0);
    EXPECT_STATUS_FREE(send("PATCH", &a, path, "{\"rating\": 3}"), 404);
    EXPECT_STATUS_FREE(send("DELETE", &a, path, NULL), 404);
    /* after deleting, the author may review again */
    CHECK(review(&a, tool, 5, id) == 0);
    check_tool_rating(tool, 1, 5, 1);
}

/* A removed review (a moderator's decision, see moderate) cannot be edited or deleted: 404, as if it
 * were gone. */
static void test_removed_is_gone(void)
{
    fixture_seller dev;
    char tool[FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE], path[128];
    free_tool(&dev, tool, NULL);
    http_user a;
    fixture_user(&a);
    if (review(&a, tool, 3, id) < 0)
        return;
    moderate(id, "remove");
    snprintf(path, sizeof path, "/reviews/%s", id);
    EXPECT_STATUS_FREE(send("PATCH", &a, path, "{\"rating\": 5}"), 404);
    EXPECT_STATUS_FREE(send("DELETE", &a, path, NULL), 404);
    CHECK_INT(fixture_sql_int("SELECT rating FROM reviews WHERE id = ?", db_text(id)), 3);
}

/* ---- who may review ------------------------------------------------------------------------------ */

static void test_who_may_review(void)
{
    fixture_seller dev;
    char tool[FIXTURE_ID_SIZE], draft[FIXTURE_ID_SIZE];
    free_tool(&dev, tool, NULL);
    fixture_create_tool(&dev.user, fixture_adder_draft(fixture_slug("review-draft")), draft);
    http_user a;
    fixture_user(&a);

    EXPECT_STATUS_FREE(post_review(&dev.user, tool, 5, "Mine", "My own tool is great"), 403);
    EXPECT_STATUS_FREE(post_review(&a, draft, 5, "Draft", "Not published"), 404);
    EXPECT_STATUS_FREE(post_review(&a, "999999999999", 5, "Nothing", "No such tool"), 404);
    http_response *res = http_request("POST", "/reviews", NULL, NULL, "{}", 2, NULL);
    EXPECT_STATUS(res, 401);
    http_response_free(res);
    CHECK_INT(reviews_of(tool), 0);
    CHECK_INT(reviews_of(draft), 0);
    CHECK_COUNTERS(tool);
}

/* ---- bad input -------------------------------------------------------------------------------- */

static void test_bad_input(void)
{
    fixture_seller dev;
    char tool[FIXTURE_ID_SIZE], body[8192];
    free_tool(&dev, tool, NULL);
    http_user a;
    fixture_user(&a);
    char *long_title = check_repeat("x", 121), *long_content = check_repeat("y", 5001);
    static const struct {
        const char *fmt, *field;
    } cases[] = {
        {"{\"tool_id\": \"%s\", \"rating\": 0, \"title\": \"t\", \"content\": \"c\"}", "rating"},
        {"{\"tool_id\": \"%s\", \"rating\": 6, \"title\": \"t\", \"content\": \"c\"}", "rating"},
        {"{\"tool_id\": \"%s\", \"rating\": 3.5, \"title\": \"t\", \"content\": \"c\"}", "rating"},
        {"{\"tool_id\": \"%s\", \"rating\": \"5\", \"title\": \"t\", \"content\": \"c\"}", "rating"},
        {"{\"tool_id\": \"%s\", \"rating\": true, \"title\": \"t\", \"content\": \"c\"}", "rating"},
        {"{\"tool_id\": \"%s\", \"title\": \"t\", \"content\": \"c\"}", "rating"},
        {"{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"\", \"content\": \"c\"}", "title"},
        {"{\"tool_id\": \"%s\", \"rating\": 5, \"title\": 7, \"content\": \"c\"}", "title"},
        {"{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"a\\nb\", \"content\": \"c\"}", "title"},
        {"{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"a\\u0001b\", \"content\": \"c\"}", "title"},
        {"{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"a\\u0085b\", \"content\": \"c\"}", "title"},
        {"{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"t\", \"content\": \"\"}", "content"},
        {"{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"t\", \"content\": \"a\\u001bb\"}", "content"},
        {"{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"t\", \"content\": null}", "content"},
        {"{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"t\", \"content\": \"c\", \"stars\": 5}", "stars"},
        {"{\"tool_id\": \"0%s\", \"rating\": 5, \"title\": \"t\", \"content\": \"c\"}", "tool_id"},
        {"{\"tool_id\": [\"%s\"], \"rating\": 5, \"title\": \"t\", \"content\": \"c\"}", "tool_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(body, sizeof body, cases[i].fmt, tool);
        http_response *res = send("POST", &a, "/reviews", body);
        if (!http_is_problem(res, 422) || !http_problem_has_field(res, cases[i].field)) {
            fprintf(stderr, "  case %zu (%s): expected 422 naming %s\n", i, body, cases[i].field);
            http_dump("bad input", res);
            check_failures++;
        }
        http_response_free(res);
    }
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"%s\", \"content\": \"c\"}", tool,
             long_title);
    http_response *res = send("POST", &a, "/reviews", body);
    CHECK(http_is_problem(res, 422) && http_problem_has_field(res, "title"));
    http_response_free(res);
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"t\", \"content\": \"%s\"}", tool,
             long_content);
    res = send("POST", &a, "/reviews", body);
    CHECK(http_is_problem(res, 422) && http_problem_has_field(res, "content"));
    http_response_free(res);
    /* invalid UTF-8 never gets past the body parser */
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"\xC3\x28\", \"content\": \"c\"}",
             tool);
    res = send("POST", &a, "/reviews", body);
    CHECK(res->status >= 400 && res->status < 500);
    http_response_free(res);
    /* a NUL character is refused by the body parser before the service sees it (400 naming body) */
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"t\", \"content\": \"a\\u0000b\"}",
             tool);
    res = send("POST", &a, "/reviews", body);
    CHECK(http_is_problem(res, 400) && http_problem_has_field(res, "body"));
    http_response_free(res);
    /* not an object, malformed */
    EXPECT_STATUS_FREE(send("POST", &a, "/reviews", "[1]"), 422);
    res = send("POST", &a, "/reviews", "{\"tool_id\": ");
    CHECK(res->status == 400);
    http_response_free(res);
    CHECK_INT(reviews_of(tool), 0);
    CHECK_COUNTERS(tool);
    check_tool_rating(tool, 0, 5, 0);

    /* limits count characters, not bytes: 120 two-byte characters and 5000 three-byte ones are fine */
    char *title = check_repeat("\xC3\xA9", 120), *content = check_repeat("\xE2\x82\xAC", 5000);
    res = post_review(&a, tool, 5, title, content);
    EXPECT_STATUS(res, 201);
    char path[128];
    snprintf(path, sizeof path, "/reviews/%s", http_json_string(res, "id") ? http_json_string(res, "id") : "0");
    http_response_free(res);

    /* the same rules on edits; nothing changes */
    static const struct {
        const char *body, *field;
    } edits[] = {
        {"{\"rating\": 0}", "rating"},       {"{\"rating\": 3.5}", "rating"}, {"{\"rating\": \"5\"}", "rating"},
        {"{\"title\": \"\"}", "title"},      {"{\"content\": 5}", "content"}, {"{\"tool_id\": \"1\"}", "tool_id"},
        {"{\"title\": \"a\\tb\"}", "title"}, {"{\"rating\": 6, \"bogus\": 1}", "bogus"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        res = send("PATCH", &a, path, edits[i].body);
        if (!http_is_problem(res, 422) || !http_problem_has_field(res, edits[i].field)) {
            fprintf(stderr, "  edit %zu (%s): expected 422 naming %s\n", i, edits[i].body, edits[i].field);
            http_dump("bad edit", res);
            check_failures++;
        }
        http_response_free(res);
    }
    CHECK_INT(fixture_sql_int("SELECT rating FROM reviews WHERE tool_id = ?", db_text(tool)), 5);
    CHECK_INT(fixture_sql_int("SELECT CHAR_LENGTH(title) FROM reviews WHERE tool_id = ?", db_text(tool)), 120);
    CHECK_COUNTERS(tool);
    /* unknown ids */
    EXPECT_STATUS_FREE(send("PATCH", &a, "/reviews/999999999999", "{\"rating\": 2}"), 404);
    EXPECT_STATUS_FREE(send("DELETE", &a, "/reviews/999999999999", NULL), 404);
    EXPECT_STATUS_FREE(send("PATCH", &a, "/reviews/abc", "{\"rating\": 2}"), 404);
    EXPECT_STATUS_FREE(send("POST", &a, "/reviews/999999999999/votes", "{\"helpful\": true}"), 404);
    EXPECT_STATUS_FREE(send("POST", &a, "/reviews/999999999999/response", "{\"content\": \"x\"}"), 404);
    EXPECT_STATUS_FREE(http_get("/tools/999999999999/reviews", NULL), 404);
    free(title);
    free(content);
    free(long_title);
    free(long_content);
}

/* ---- verified purchase ------------------------------------------------------------------------- */

static void test_verified_purchase(void)
{
    fixture_sale sale;
    if (fixture_sell(&sale, "Verified Shop", 500) < 0)
        return;
    http_response *res = post_review(&sale.buyer, sale.tool, 5, "Paid and happy", "Worth it");
    EXPECT_STATUS(res, 201);
    CHECK(json_is_true(json_object_get(res->json, "verified_purchase")));
    http_response_free(res);

    /* running a free tool counts as using it */
    fixture_seller dev;
    char tool[FIXTURE_ID_SIZE], path[128];
    free_tool(&dev, tool, NULL);
    http_user runner, stranger;
    fixture_user(&runner);
    fixture_user(&stranger);
    snprintf(path, sizeof path, "/tools/%s/execute", tool);
    EXPECT_STATUS_FREE(send("POST", &runner, path, "{\"input\": {\"a\": 1, \"b\": 2}}"), 200);
    res = post_review(&runner, tool, 4, "Ran it", "It ran");
    EXPECT_STATUS(res, 201);
    CHECK(json_is_true(json_object_get(res->json, "verified_purchase")));
    http_response_free(res);
    res = post_review(&stranger, tool, 1, "Never ran it", "Just guessing");
    EXPECT_STATUS(res, 201);
    CHECK(json_is_false(json_object_get(res->json, "verified_purchase")));
    http_response_free(res);
}

/* ---- votes and sorting ------------------------------------------------------------------------- */

static http_response *vote(const http_user *u, const char *review_id, const char *helpful)
{
    char path[128], body[64];
    snprintf(path, sizeof path, "/reviews/%s/votes", review_id);
    snprintf(body, sizeof body, "{\"helpful\": %s}", helpful);
    return send("POST", u, path, body);
}

static void check_counts(http_response *res, int64_t helpful, int64_t unhelpful)
{
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "helpful_count")), helpful);
    CHECK_INT(json_integer_value(json_object_get(res->json, "unhelpful_count")), unhelpful);
    http_response_free(res);
}

static void test_votes(void)
{
    fixture_seller dev;
    char tool[FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE], path[128];
    free_tool(&dev, tool, NULL);
    http_user a, b, c;
    fixture_user(&a);
    fixture_user(&b);
    fixture_user(&c);
    if (review(&a, tool, 4, id) < 0)
        return;
    check_counts(vote(&b, id, "true"), 1, 0);
    check_counts(vote(&c, id, "true"), 2, 0);
    check_counts(vote(&b, id, "false"), 1, 1); /* replaces b's vote */
    check_counts(vote(&b, id, "false"), 1, 1); /* the same vote again changes nothing */
    snprintf(path, sizeof path, "/reviews/%s/votes", id);
    check_counts(send("DELETE", &b, path, NULL), 1, 0);
    check_counts(send("DELETE", &b, path, NULL), 1, 0); /* nothing to withdraw */
    EXPECT_STATUS_FREE(vote(&a, id, "true"), 403);
    static const char *const bad[] = {"\"yes\"", "1", "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_response *res = vote(&b, id, bad[i]);
        CHECK(http_is_problem(res, 422) && http_problem_has_field(res, "helpful"));
        http_response_free(res);
    }
    http_response *res = send("POST", &b, path, "{\"helpful\": true, \"x\": 1}");
    CHECK(http_is_problem(res, 422) && http_problem_has_field(res, "x"));
    http_response_free(res);
    EXPECT_STATUS_FREE(send("POST", NULL, path, "{\"helpful\": true}"), 401);
    CHECK_INT(fixture_sql_int("SELECT helpful_count FROM reviews WHERE id = ?", db_text(id)), 1);
    CHECK_INT(fixture_sql_int("SELECT unhelpful_count FROM reviews WHERE id = ?", db_text(id)), 0);
}

static const char *item_id(const http_response *res, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(res->json, "items"), i), "id"));
}

static void test_sort_and_pages(void)
{
    fixture_seller dev;
    char tool[FIXTURE_ID_SIZE], low[FIXTURE_ID_SIZE], mid[FIXTURE_ID_SIZE], high[FIXTURE_ID_SIZE], path[160];
    free_tool(&dev, tool, NULL);
    http_user a, b, c, v[3];
    fixture_user(&a);
    fixture_user(&b);
    fixture_user(&c);
    for (int i = 0; i < 3; i++)
        fixture_user(&v[i]);
    if (review(&a, tool, 5, high) < 0 || review(&b, tool, 1, low) < 0 || review(&c, tool, 3, mid) < 0)
        return;
    /* mid: 3 helpful; low: 1 helpful; high: 1 unhelpful */
    for (int i = 0; i < 3; i++)
        EXPECT_STATUS_FREE(vote(&v[i], mid, "true"), 200);
    EXPECT_STATUS_FREE(vote(&v[0], low, "true"), 200);
    EXPECT_STATUS_FREE(vote(&v[0], high, "false"), 200);

    snprintf(path, sizeof path, "/tools/%s/reviews?sort=helpful", tool);
    http_response *res = http_get(path, NULL);
    EXPECT_STATUS(res, 200);
    CHECK_STR(item_id(res, 0), mid);
    CHECK_STR(item_id(res, 1), low);
    CHECK_STR(item_id(res, 2), high);
    http_response_free(res);
    snprintf(path, sizeof path, "/tools/%s/reviews", tool); /* helpful is the default */
    res = http_get(path, NULL);
    CHECK_STR(item_id(res, 0), mid);
    http_response_free(res);
    snprintf(path, sizeof path, "/tools/%s/reviews?sort=rating", tool);
    res = http_get(path, NULL);
    CHECK_STR(item_id(res, 0), high);
    CHECK_STR(item_id(res, 1), mid);
    CHECK_STR(item_id(res, 2), low);
    http_response_free(res);
    snprintf(path, sizeof path, "/tools/%s/reviews?sort=newest&per_page=1&page=2", tool);
    res = http_get(path, NULL);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 3);
    CHECK_INT(json_array_size(json_object_get(res->json, "items")), 1);
    CHECK_STR(item_id(res, 0), low);
    http_response_free(res);
    /* a page after the first is read through another statement (a deferred join): same order */
    snprintf(path, sizeof path, "/tools/%s/reviews?sort=helpful&per_page=1&page=2", tool);
    res = http_get(path, NULL);
    CHECK_STR(item_id(res, 0), low);
    http_response_free(res);
    snprintf(path, sizeof path, "/tools/%s/reviews?sort=rating&per_page=2&page=2", tool);
    res = http_get(path, NULL);
    CHECK_INT(json_array_size(json_object_get(res->json, "items")), 1);
    CHECK_STR(item_id(res, 0), low);
    http_response_free(res);
    snprintf(path, sizeof path, "/tools/%s/reviews?sort=best", tool);
    res = http_get(path, NULL);
    CHECK(http_is_problem(res, 400) && http_problem_has_field(res, "sort"));
    http_response_free(res);
    snprintf(path, sizeof path, "/tools/%s/reviews?per_page=101", tool);
    res = http_get(path, NULL);
    CHECK(http_is_problem(res, 400) && http_problem_has_field(res, "per_page"));
    http_response_free(res);
    /* hidden reviews are not listed (a moderator's decision, written straight into the rows) */
    moderate(low, "hide");
    CHECK_COUNTERS(tool);
    snprintf(path, sizeof path, "/tools/%s/reviews?sort=newest", tool);
    res = http_get(path, NULL);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 2);
    CHECK_STR(item_id(res, 0), mid);
    CHECK_STR(item_id(res, 1), high);
    http_response_free(res);
}

/* ---- the developer's reply --------------------------------------------------------------------- */

static void test_response(void)
{
    fixture_seller dev, other;
    char tool[FIXTURE_ID_SIZE], other_tool[FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE], path[160];
    free_tool(&dev, tool, NULL);
    free_tool(&other, other_tool, NULL);
    http_user a;
    fixture_user(&a);
    if (review(&a, tool, 2, id) < 0)
        return;
    snprintf(path, sizeof path, "/reviews/%s/response", id);
    EXPECT_STATUS_FREE(send("POST", &a, path, "{\"content\": \"I am not the developer\"}"), 403);
    EXPECT_STATUS_FREE(send("POST", &other.user, path, "{\"content\": \"Nor am I\"}"), 403);
    http_response *res = send("POST", &dev.user, path, "{\"content\": \"\"}");
    CHECK(http_is_problem(res, 422) && http_problem_has_field(res, "content"));
    http_response_free(res);
    res = send("POST", &dev.user, path, "{\"content\": \"Thanks, fixed in 1.0.1\"}");
    EXPECT_STATUS(res, 201);
    CHECK_STR(http_json_string(res, "content"), "Thanks, fixed in 1.0.1");
    http_response_free(res);
    res = send("POST", &dev.user, path, "{\"content\": \"Thanks, fixed in 1.0.2\"}");
    EXPECT_STATUS(res, 201);
    http_response_free(res);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM review_responses WHERE review_id = ?", db_text(id)), 1);
    snprintf(path, sizeof path, "/tools/%s/reviews", tool);
    res = http_get(path, NULL);
    json_t *reply = json_object_get(json_array_get(json_object_get(res->json, "items"), 0), "response");
    CHECK_STR(json_string_value(json_object_get(reply, "content")), "Thanks, fixed in 1.0.2");
    CHECK(json_is_string(json_object_get(reply, "created_at")));
    http_response_free(res);
}

/* ---- concurrency ------------------------------------------------------------------------------- */

enum { RACE_USERS = 50, RACE_VOTES = 100 };

typedef struct {
    const http_user *user;
    const char *tool;
    int rating;
    char id[FIXTURE_ID_SIZE];
    const char *target; /* votes: the review voted on */
    const char *helpful;
    long status;
} race_slot;

static void *race_review(void *arg)
{
    race_slot *s = arg;
    http_response *res = post_review(s->user, s->tool, s->rating, "Raced", "Written at the same time");
    s->status = res->status;
    if (res->status == 201 && http_json_string(res, "id"))
        snprintf(s->id, sizeof s->id, "%s", http_json_string(res, "id"));
    else
        http_dump("race review", res);
    http_response_free(res);
    return NULL;
}

/* An edit (rating set) or, with rating 0, a delete of the slot's review. */
static void *race_change(void *arg)
{
    race_slot *s = arg;
    char path[64], body[32];
    snprintf(path, sizeof path, "/reviews/%s", s->id);
    snprintf(body, sizeof body, "{\"rating\": %d}", s->rating);
    http_response *res = send(s->rating ? "PATCH" : "DELETE", s->user, path, s->rating ? body : NULL);
    s->status = res->status;
    if (res->status != 200 && res->status != 204)
        http_dump("race change", res);
    http_response_free(res);
    return NULL;
}

static void *race_vote(void *arg)
{
    race_slot *s = arg;
    http_response *res = vote(s->user, s->target, s->helpful);
    s->status = res->status;
    if (res->status != 200)
        http_dump("race vote", res);
    http_response_free(res);
    return NULL;
}

static void run_parallel(race_slot *slots, size_t n, void *(*fn)(void *))
{
    pthread_t threads[RACE_VOTES];
    for (size_t i = 0; i < n; i++)
        pthread_create(&threads[i], NULL, fn, &slots[i]);
    for (size_t i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
}

/* ---- the workers' page cache never serves a stale page ------------------------------------------ */

/* Reads the list enough times that every worker of the test stack has answered it (and kept the
 * page), then checks that each answer's first item has member key equal to want (want NULL: the
 * list is empty) and total items. */
static void check_list_everywhere_at(const char *tool, const char *key, const char *want, int64_t total, int line)
{
    char path[128];
    snprintf(path, sizeof path, "/tools/%s/reviews?sort=newest", tool);
    for (int i = 0; i < 16; i++) {
        http_response *res = http_get(path, NULL);
        json_t *first = json_array_get(json_object_get(res->json, "items"), 0);
        json_t *value = json_object_get(first, key);
        char seen[256];
        if (json_is_object(value))
            value = json_object_get(value, "content");
        if (json_is_integer(value))
            snprintf(seen, sizeof seen, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        else
            snprintf(seen, sizeof seen, "%s", json_is_string(value) ? json_string_value(value) : "(none)");
        int64_t got_total = json_integer_value(json_object_get(res->json, "total"));
        if (res->status != 200 || got_total != total || (want ? strcmp(seen, want) != 0 : first != NULL)) {
            fprintf(stderr, "  line %d: answer %d: status %ld, total %" PRId64 " (want %" PRId64 "), %s = %s (want %s)\n",
                    line, i, res->status, got_total, total, key, seen, want ? want : "no item");
            check_failures++;
            http_response_free(res);
            return;
        }
        http_response_free(res);
    }
}
#define CHECK_LIST_EVERYWHERE(tool, key, want, total) check_list_everywhere_at((tool), (key), (want), (total), __LINE__)

/* Every change a reader can see shows at once on every worker, though each keeps recent pages. */
static void test_list_never_stale(void)
{
    fixture_seller dev;
    char tool[FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE], path[128];
    free_tool(&dev, tool, NULL);
    http_user author, voter;
    fixture_user(&author);
    fixture_user(&voter);
    if (review(&author, tool, 3, id) < 0)
        return;
    CHECK_LIST_EVERYWHERE(tool, "helpful_count", "0", 1);

    snprintf(path, sizeof path, "/reviews/%s/votes", id);
    EXPECT_STATUS_FREE(send("POST", &voter, path, "{\"helpful\": true}"), 200);
    CHECK_LIST_EVERYWHERE(tool, "helpful_count", "1", 1);
    EXPECT_STATUS_FREE(send("DELETE", &voter, path, NULL), 200);
    CHECK_LIST_EVERYWHERE(tool, "helpful_count", "0", 1);

    snprintf(path, sizeof path, "/reviews/%s", id);
    EXPECT_STATUS_FREE(send("PATCH", &author, path, "{\"title\": \"Second thoughts\"}"), 200);
    CHECK_LIST_EVERYWHERE(tool, "title", "Second thoughts", 1);
    EXPECT_STATUS_FREE(send("PATCH", &author, path, "{\"rating\": 5}"), 200);
    CHECK_LIST_EVERYWHERE(tool, "rating", "5", 1);

    snprintf(path, sizeof path, "/reviews/%s/response", id);
    EXPECT_STATUS_FREE(send("POST", &dev.user, path, "{\"content\": \"Thank you\"}"), 201);
    CHECK_LIST_EVERYWHERE(tool, "response", "Thank you", 1);
    EXPECT_STATUS_FREE(send("POST", &dev.user, path, "{\"content\": \"Thank you again\"}"), 201);
    CHECK_LIST_EVERYWHERE(tool, "response", "Thank you again", 1);

    moderate(id, "hide");
    CHECK_LIST_EVERYWHERE(tool, "id", NULL, 0);
    char approve[96];
    snprintf(approve, sizeof approve, "/moderation/reviews/%s", id);
    EXPECT_STATUS_FREE(send("POST", &moderator, approve, "{\"action\": \"approve\", \"note\": \"fine\"}"), 200);
    CHECK_LIST_EVERYWHERE(tool, "id", id, 1);

    snprintf(path, sizeof path, "/reviews/%s", id);
    EXPECT_STATUS_FREE(send("DELETE", &author, path, NULL), 204);
    CHECK_LIST_EVERYWHERE(tool, "id", NULL, 0);
}

static void test_parallel(void)
{
    fixture_seller dev;
    char tool[FIXTURE_ID_SIZE];
    free_tool(&dev, tool, NULL);
    static http_user users[RACE_USERS];
    static race_slot reviews[RACE_USERS], votes[RACE_VOTES];
    for (int i = 0; i < RACE_USERS; i++)
        fixture_user(&users[i]);
    for (int i = 0; i < RACE_USERS; i++)
        reviews[i] = (race_slot){.user = &users[i], .tool = tool, .rating = i % 5 + 1};
    run_parallel(reviews, RACE_USERS, race_review);
    for (int i = 0; i < RACE_USERS; i++)
        CHECK_INT(reviews[i].status, 201);
    CHECK_INT(reviews_of(tool), RACE_USERS);
    CHECK_COUNTERS(tool);
    check_tool_rating(tool, RACE_USERS, 3, RACE_USERS / 5);

    /* every author edits at once (a new rating for each), then half of them delete at once */
    for (int i = 0; i < RACE_USERS; i++)
        reviews[i].rating = (i + 2) % 5 + 1;
    run_parallel(reviews, RACE_USERS, race_change);
    for (int i = 0; i < RACE_USERS; i++)
        CHECK_INT(reviews[i].status, 200);
    CHECK_COUNTERS(tool);
    check_tool_rating(tool, RACE_USERS, 5, RACE_USERS / 5);
    static race_slot deletes[RACE_USERS / 2];
    for (int i = 0; i < RACE_USERS / 2; i++) {
        deletes[i] = reviews[RACE_USERS / 2 + i];
        deletes[i].rating = 0;
    }
    run_parallel(deletes, RACE_USERS / 2, race_change);
    for (int i = 0; i < RACE_USERS / 2; i++)
        CHECK_INT(deletes[i].status, 204);
    CHECK_INT(reviews_of(tool), RACE_USERS - RACE_USERS / 2);
    CHECK_COUNTERS(tool);
    check_tool_rating(tool, RACE_USERS - RACE_USERS / 2, 5, RACE_USERS / 10);

    /* 100 votes on one review (user 0's) from the 49 other users, several from the same user with
     * different values, so new votes and replacements race on one row */
    for (int k = 0; k < RACE_VOTES; k++)
        votes[k] = (race_slot){.user = &users[1 + k % (RACE_USERS - 1)], .target = reviews[0].id,
                               .helpful = k % 3 ? "true" : "false"};
    run_parallel(votes, RACE_VOTES, race_vote);
    for (int k = 0; k < RACE_VOTES; k++)
        CHECK_INT(votes[k].status, 200);
    int64_t off = fixture_sql_int(
        "SELECT COUNT(*) FROM reviews r WHERE r.tool_id = ? AND (r.helpful_count <> (SELECT COUNT(*) FROM"
        " review_votes v WHERE v.review_id = r.id AND v.helpful) OR r.unhelpful_count <> (SELECT COUNT(*) FROM"
        " review_votes v WHERE v.review_id = r.id AND NOT v.helpful))",
        db_text(tool));
    CHECK_INT(off, 0);
    CHECK(fixture_sql_int("SELECT COUNT(*) FROM review_votes v JOIN reviews r ON r.id = v.review_id"
                          " WHERE r.tool_id = ?",
                          db_text(tool)) > 0);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM review_votes v JOIN reviews r ON r.id = v.review_id"
                              " WHERE r.tool_id = ? AND v.user_id = r.user_id",
                              db_text(tool)),
              0);
    /* the stored Wilson bound follows the counts: a review with helpful votes only scores above 0 */
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM reviews WHERE tool_id = ? AND helpful_count > 0 AND wilson <= 0",
                              db_text(tool)),
              0);
}

int main(void)
{
    fixture_staff(&moderator, "moderator");
    RUN(test_create_list_edit_delete);
    RUN(test_removed_is_gone);
    RUN(test_who_may_review);
    RUN(test_bad_input);
    RUN(test_verified_purchase);
    RUN(test_votes);
    RUN(test_sort_and_pages);
    RUN(test_response);
    RUN(test_list_never_stale);
    RUN(test_parallel);
    fixture_close();
    return check_finish();
}

/* GET /search and /search/suggest end to end, through real nginx -> marketplace -> MariaDB. Every
 * tool made here carries one random word of this run (the token), and every query names it, so
 * parallel tests and earlier runs never show up in what is counted. Covers: an exact name first
 * (over a tool that repeats the words and is far more downloaded), prefixes, hyphens and
 * underscores splitting words, any word order, FULLTEXT operators typed by the user being harmless,
 * words shorter than the index minimum (q=a, q=js), a typo answered with a suggestion and the
 * corrected results, each filter, each sort, the facet counts, the bad-parameter table (422 naming
 * the parameter), drafts and delisted tools never found, the index following publish, edit, delist
 * and a moderator's delist and restore in the same request, and search_index_missing catching up a
 * published tool without a document; every answer is checked to be jansson's own text of it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/activity.h"
#include "core/search.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

static char token[16];   /* the run's word: 10 lower-case letters */
static char typo[16];    /* the token with one letter changed (not the first) */

typedef struct {
    char id[FIXTURE_ID_SIZE];
    char slug[FIXTURE_SLUG_SIZE];
} made_tool;

static void make_token(void)
{
    fixture_random_seed();
    token[0] = 'q'; /* a letter rarely first in words, so other vocabulary stays far */
    for (int i = 1; i < 10; i++)
        token[i] = (char)('a' + rand() % 26);
    token[10] = '\0';
    memcpy(typo, token, sizeof typo);
    typo[5] = typo[5] == 'x' ? 'y' : 'x';
}

/* A draft of the adder with these listing fields (tags: the token plus extra, comma-separated). */
static json_t *draft(const char *slug_word, const char *name, const char *summary, const char *description,
                     const char *category, const char *extra_tags, const char *model, int64_t price)
{
    char slug[FIXTURE_SLUG_SIZE];
    snprintf(slug, sizeof slug, "%s-%s", token, slug_word);
    json_t *body = fixture_adder_draft(slug);
    json_t *tags = json_array();
    json_array_append_new(tags, json_string(token));
    char list[128];
    snprintf(list, sizeof list, "%s", extra_tags ? extra_tags : "");
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(tags, json_string(t));
    json_object_set_new(body, "name", json_string(name));
    json_object_set_new(body, "summary", json_string(summary));
    json_object_set_new(body, "description", json_string(description));
    json_object_set_new(body, "category", json_string(category));
    json_object_set_new(body, "tags", tags);
    json_t *pricing = json_pack("{s:s}", "model", model);
    if (strcmp(model, "free") != 0) {
        json_object_set_new(pricing, "price_cents", json_integer(price));
        json_object_set_new(pricing, "currency", json_string("USD"));
    }
    if (strcmp(model, "subscription") == 0)
        json_object_set_new(pricing, "period_days", json_integer(30));
    json_object_set_new(body, "pricing", pricing);
    return body;
}

static void create(const http_user *dev, json_t *body, made_tool *out, int publish)
{
    snprintf(out->slug, sizeof out->slug, "%s", json_string_value(json_object_get(body, "slug")));
    fixture_create_tool(dev, body, out->id);
    if (publish)
        fixture_publish(dev, out->id, "1.0.0");
}

/* Downloads and rating counters written straight into the row: set-up, not what is tested. */
static void set_quality(const made_tool *t, int64_t downloads, int64_t count, int64_t sum)
{
    db_result res;
    mkt_error err = MKT_ERROR_INIT;
    if (db_exec(fixture_db(), "UPDATE tools SET downloads = ?, rating_count = ?, rating_sum = ? WHERE id = ?",
                DB_PARAMS(db_int(downloads), db_int(count), db_int(sum), db_text(t->id)), &res, &err) < 0) {
        fprintf(stderr, "set_quality: %s\n", err.message ? err.message : "?");
        exit(2);
    }
}

/* GET /search?<query> (query already URL-encoded). */
static http_response *search(const char *query)
{
    char path[2048];
    snprintf(path, sizeof path, "/search?%s", query);
    http_response *res = http_get(path, NULL);
    fixture_check_jansson_text(res); /* written as text by core/discovery */
    return res;
}

/* The slugs of the answer's tools, space-separated, with the token cut off ("sorter mega"). */
static const char *slugs(const http_response *res)
{
    static char out[1024];
    out[0] = '\0';
    json_t *tools = json_object_get(res->json, "tools");
    for (size_t i = 0; i < json_array_size(tools); i++) {
        const char *slug = json_string_value(json_object_get(json_array_get(tools, i), "slug"));
        if (slug && strncmp(slug, token, strlen(token)) == 0 && slug[strlen(token)] == '-')
            slug += strlen(token) + 1;
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", slug ? slug : "?");
    }
    return out;
}

static int64_t total(const http_response *res)
{
    return json_integer_value(json_object_get(res->json, "total"));
}

/* GET /search?q=<token><rest>&<more>: the slugs found, checked against want. */
static void expect_at(const char *query, const char *want, int line)
{
    http_response *res = search(query);
    if (res->status != 200 || strcmp(slugs(res), want) != 0) {
        fprintf(stderr, "  line %d: %s\n    want [%s]\n    got  [%s]\n", line, query, want, slugs(res));
        http_dump("answer", res);
        check_failures++;
    }
    http_response_free(res);
}
#define EXPECT(query, want) expect_at((query), (want), __LINE__)

/* fmt with every %s standing for the token (at most two). */
static const char *qs(const char *fmt)
{
    static char out[8][512];
    static int n;
    char *o = out[n++ % 8];
    snprintf(o, 512, fmt, token, token);
    return o;
}

static const char *tool_path(const made_tool *t)
{
    static char out[64];
    snprintf(out, sizeof out, "/tools/%s", t->id);
    return out;
}

/* ---- the catalogue of this run ------------------------------------------------------------------- */

static http_user dev, dev2;
static int64_t dev_id, dev2_id;
static made_tool sorter, mega, csv, zeta, draft_only, gone;

static void catalogue(void)
{
    dev_id = fixture_developer(&dev, "Search Shop");
    dev2_id = fixture_developer(&dev2, "Other Search Shop");
    char name[128], text[2048] = "";
    snprintf(name, sizeof name, "%s Sorter", token);
    create(&dev, draft("sorter", name, "Sorts things", "Puts lists in order.", "data", "sorting", "free", 0), &sorter,
           1);
    snprintf(name, sizeof name, "Mega %s kit", token);
    for (int i = 0; i < 20; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s sorter, ", token);
    create(&dev, draft("mega", name, "Everything", text, "text", NULL, "one_time", 500), &mega, 1);
    snprintf(name, sizeof name, "%s csv-cleaner", token);
    create(&dev2, draft("csv", name, "Cleans snake_case files", "Tidy tables.", "data", "csv", "subscription", 300),
           &csv, 1);
    snprintf(name, sizeof name, "Zeta %s widget", token);
    create(&dev, draft("zeta", name, "A widget", "Does widget things.", "math", "js", "one_time", 2000), &zeta, 1);
    snprintf(name, sizeof name, "%s draftonly", token);
    create(&dev, draft("draft", name, "Never published", "Hidden.", "math", NULL, "free", 0), &draft_only, 0);
    snprintf(name, sizeof name, "%s vanished", token);
    create(&dev, draft("gone", name, "Delisted soon", "Gone.", "math", NULL, "free", 0), &gone, 1);
    /* downloads: mega >> zeta > csv > sorter; ratings: sorter 5.0 (2), zeta 4.5 (2), mega 3.0 (1), csv none */
    set_quality(&sorter, 10, 2, 10);
    set_quality(&mega, 100000, 1, 3);
    set_quality(&csv, 50, 0, 0);
    set_quality(&zeta, 1000, 2, 9);
}

/* ---- tests -------------------------------------------------------------------------------------- */

static void test_delisted_and_drafts_never_found(void)
{
    /* published: found; then delisted: gone from the very next search */
    EXPECT(qs("q=%s+vanished"), "gone");
    CHECK_INT(http_status_free(http_request("DELETE", tool_path(&gone), dev.token, NULL, NULL, 0, NULL)), 204);
    EXPECT(qs("q=%s+vanished"), "");
    /* a draft is never indexed */
    EXPECT(qs("q=%s+draftonly"), "");
}

static void test_exact_name_first(void)
{
    /* mega repeats "<token> sorter" twenty times and has 10000x the downloads; the tool named
     * exactly the query still comes first */
    EXPECT(qs("q=%s+sorter"), "sorter mega");
    EXPECT(qs("q=%s-sorter"), "sorter mega"); /* the slug form */
    EXPECT(qs("q=%s+SORTER&sort=relevance"), "sorter mega");
}

static void test_matching(void)
{
    char q[64];
    snprintf(q, sizeof q, "q=%.7s&sort=downloads", token); /* a prefix of the token while typing */
    EXPECT(q, "mega zeta csv sorter");
    EXPECT(qs("q=%s+csv"), "csv");          /* csv finds csv-cleaner */
    EXPECT(qs("q=%s+clea"), "csv");         /* prefix of the last word */
    EXPECT(qs("q=%s-csv-cleaner"), "csv");  /* hyphens split */
    EXPECT(qs("q=cleaner+csv+%s"), "csv");  /* any order */
    EXPECT(qs("q=%s+snake"), "csv");        /* underscores split: snake_case */
    EXPECT(qs("q=%s_snake_case"), "csv");
    EXPECT(qs("q=%s+widget+things"), "zeta"); /* name and description together */
    EXPECT(qs("q=%s+nosuchwordhere"), "");
}

static void test_operators_harmless(void)
{
    /* every FULLTEXT operator is stripped: the words remain, nothing is excluded or errors */
    EXPECT(qs("q=%%2B%s+-sorter*+~%%3C%%3E%%40%%22%%28%%29"), "sorter mega");
    EXPECT(qs("q=%%22%s&sort=downloads"), "mega zeta csv sorter");
    static const char *const junk[] = {"q=%22", "q=%2B", "q=-", "q=*", "q=%28%29", "q=~%3C%3E%40", "q=%22%22%22",
                                       "q=%2B-*", "q=a*", "q=%40%40%40"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        http_response *res = search(junk[i]);
        if (res->status != 200)
            http_dump(junk[i], res);
        CHECK_INT(res->status, 200);
        http_response_free(res);
    }
}

static void test_short_words(void)
{
    /* shorter than the FULLTEXT minimum: the last word matches title words by prefix */
    EXPECT(qs("q=js&tags=%s"), "zeta");
    EXPECT(qs("q=%s+js"), "zeta");
    EXPECT(qs("q=ze&tags=%s"), "zeta");
    EXPECT(qs("q=ab&tags=%s"), "");
    /* one character matches too much to mean anything: dropped, so the list is by rating as without q */
    EXPECT(qs("q=a&tags=%s"), "sorter zeta mega csv");
    EXPECT(qs("q=z&tags=%s"), "sorter zeta mega csv");
    /* a short word that is not last is dropped, not required */
    EXPECT(qs("q=a+%s+csv"), "csv");
    http_response *res = search("q=a");
    CHECK_INT(res->status, 200);
    http_response_free(res);
    res = search("q=js");
    CHECK_INT(res->status, 200);
    http_response_free(res);
}

static void test_typo_suggests(void)
{
    char q[64];
    snprintf(q, sizeof q, "q=%s+sorter", typo);
    http_response *res = search(q);
    CHECK_INT(res->status, 200);
    json_t *suggestions = json_object_get(res->json, "suggestions");
    char want[64];
    snprintf(want, sizeof want, "%s sorter", token);
    CHECK_STR(json_string_value(json_array_get(suggestions, 0)), want);
    CHECK_STR(http_json_string(res, "corrected_to"), want);
    CHECK_STR(slugs(res), "sorter mega");
    http_response_free(res);
    /* found at once: no suggestions, no correction */
    res = search(qs("q=%s+sorter"));
    CHECK_INT(json_array_size(json_object_get(res->json, "suggestions")), 0);
    CHECK(json_object_get(res->json, "corrected_to") == NULL);
    http_response_free(res);
    /* nothing near: an empty list and nothing found */
    res = search("q=qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq");
    CHECK_INT(res->status, 200);
    CHECK_INT(json_array_size(json_object_get(res->json, "suggestions")), 0);
    CHECK_INT(total(res), 0);
    http_response_free(res);
}

static void test_filters(void)
{
    char q[256];
    EXPECT(qs("q=%s&category=math"), "zeta");
    EXPECT(qs("q=%s&category=data&sort=price_asc"), "sorter csv");
    EXPECT(qs("q=%s&tags=%s,js"), "zeta");
    EXPECT(qs("q=%s&tags=sorting,%s"), "sorter");
    EXPECT(qs("q=%s&tags=sorting,js"), "");
    EXPECT(qs("q=%s&min_rating=4&sort=price_asc"), "sorter zeta");
    EXPECT(qs("q=%s&min_rating=4.6"), "sorter");
    EXPECT(qs("q=%s&max_price_cents=500&sort=price_asc"), "sorter csv mega");
    EXPECT(qs("q=%s&max_price_cents=0"), "sorter");
    EXPECT(qs("q=%s&pricing=one_time&sort=price_asc"), "mega zeta");
    EXPECT(qs("q=%s&pricing=subscription"), "csv");
    snprintf(q, sizeof q, "q=%s&developer=%" PRId64, token, dev2_id);
    EXPECT(q, "csv");
    snprintf(q, sizeof q, "q=%s&developer=%" PRId64 "&sort=price_desc", token, dev_id);
    EXPECT(q, "zeta mega sorter");
    /* tags alone, without q */
    EXPECT(qs("tags=%s&sort=downloads"), "mega zeta csv sorter");
}

static void test_sorts(void)
{
    EXPECT(qs("q=%s&sort=downloads"), "mega zeta csv sorter");
    /* trending: by the decayed activity score, tools without activity after them by downloads */
    mkt_error err = MKT_ERROR_INIT;
    CHECK(activity_record_at(fixture_db(), atoll(csv.id), 50, (double)time(NULL), &err) == 0);
    CHECK(activity_record_at(fixture_db(), atoll(sorter.id), 5, (double)time(NULL), &err) == 0);
    error_clear(&err);
    fixture_search_settle(); /* written here, not through the server */
    EXPECT(qs("q=%s&sort=trending"), "csv sorter mega zeta");
    EXPECT(qs("q=%s&sort=rating"), "sorter zeta mega csv");   /* Bayesian: 5.0 x2 > 4.5 x2 > 3 x1 > none */
    EXPECT(qs("q=%s&sort=newest"), "zeta csv mega sorter");
    EXPECT(qs("q=%s&sort=price_asc"), "sorter csv mega zeta");
    EXPECT(qs("q=%s&sort=price_desc"), "zeta mega csv sorter");
    /* relevance without q is by rating */
    EXPECT(qs("tags=%s"), "sorter zeta mega csv");
    EXPECT(qs("tags=%s&sort=relevance"), "sorter zeta mega csv");
    /* pages */
    EXPECT(qs("q=%s&sort=downloads&per_page=2&page=2"), "csv sorter");
    http_response *res = search(qs("q=%s&per_page=2&page=3"));
    CHECK_INT(res->status, 200);
    CHECK_STR(slugs(res), "");
    CHECK_INT(total(res), 4);
    CHECK_INT(json_integer_value(json_object_get(res->json, "page")), 3);
    CHECK_INT(json_integer_value(json_object_get(res->json, "per_page")), 2);
    http_response_free(res);
    /* no q, no filter: the whole catalogue by rating, best first */
    res = search("sort=rating&per_page=50");
    CHECK_INT(res->status, 200);
    json_t *tools = json_object_get(res->json, "tools");
    for (size_t i = 1; i < json_array_size(tools); i++) {
        double a = json_real_value(json_object_get(json_object_get(json_array_get(tools, i - 1), "rating"), "bayesian"));
        double b = json_real_value(json_object_get(json_object_get(json_array_get(tools, i), "rating"), "bayesian"));
        CHECK(a + 1e-9 >= b);
    }
    http_response_free(res);
}

static int64_t facet(const http_response *res, const char *group, const char *key)
{
    json_t *v = json_object_get(json_object_get(json_object_get(res->json, "facets"), group), key);
    return v ? json_integer_value(v) : -1;
}

static void test_facets(void)
{
    http_response *res = search(qs("q=%s"));
    CHECK_INT(total(res), 4);
    CHECK_INT(facet(res, "categories", "data"), 2);
    CHECK_INT(facet(res, "categories", "text"), 1);
    CHECK_INT(facet(res, "categories", "math"), 1); /* the draft and the delisted one do not count */
    CHECK_INT(facet(res, "categories", "web"), -1);
    CHECK_INT(facet(res, "pricing", "free"), 1);
    CHECK_INT(facet(res, "pricing", "one_time"), 2);
    CHECK_INT(facet(res, "pricing", "subscription"), 1);
    CHECK_INT(facet(res, "rating", "4+"), 2);
    CHECK_INT(facet(res, "rating", "3+"), 3);
    CHECK_INT(facet(res, "rating", "2+"), 3);
    http_response_free(res);
    /* over the filtered set */
    res = search(qs("q=%s&category=data"));
    CHECK_INT(total(res), 2);
    CHECK_INT(facet(res, "categories", "data"), 2);
    CHECK_INT(facet(res, "categories", "text"), -1);
    CHECK_INT(facet(res, "pricing", "free"), 1);
    CHECK_INT(facet(res, "pricing", "subscription"), 1);
    CHECK_INT(facet(res, "pricing", "one_time"), 0);
    CHECK_INT(facet(res, "rating", "4+"), 1);
    http_response_free(res);
}

static void test_bad_parameters(void)
{
    char long_q[300] = "q=";
    memset(long_q + 2, 'a', 201);
    long_q[203] = '\0';
    static const struct {
        const char *query, *field;
    } bad[] = {
        {"per_page=101", "per_page"},      {"per_page=0", "per_page"},       {"per_page=x", "per_page"},
        {"page=0", "page"},                {"page=-1", "page"},              {"page=1.5", "page"},
        {"sort=best", "sort"},             {"sort=RATING", "sort"},                {"min_rating=abc", "min_rating"},
        {"min_rating=6", "min_rating"},    {"min_rating=-1", "min_rating"},  {"min_rating=nan", "min_rating"},
        {"category=nope", "category"},     {"category=%C3%28", "category"},  {"tags=BAD!", "tags"},
        {"tags=a,b,c,d,e,f,g,h,i,j,k", "tags"}, {"tags=ok,x", "tags"},      {"max_price_cents=-5", "max_price_cents"},
        {"max_price_cents=1e3", "max_price_cents"}, {"pricing=gratis", "pricing"}, {"developer=abc", "developer"},
        {"developer=0", "developer"},      {"q=%FF%FE", "q"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_response *res = search(bad[i].query);
        if (res->status != 422 || !http_problem_has_field(res, bad[i].field)) {
            fprintf(stderr, "  %s: want 422 naming %s\n", bad[i].query, bad[i].field);
            http_dump("got", res);
            check_failures++;
        } else {
            EXPECT_STATUS(res, 422);
        }
        http_response_free(res);
    }
    http_response *res = search(long_q);
    EXPECT_STATUS(res, 422);
    CHECK(http_problem_has_field(res, "q"));
    http_response_free(res);
    /* 200 characters is fine; so are several bad parameters named together */
    long_q[202] = '\0';
    CHECK_INT(http_status_free(search(long_q)), 200);
    res = search("sort=x&per_page=500&category=zzz");
    EXPECT_STATUS(res, 422);
    CHECK(http_problem_has_field(res, "sort") && http_problem_has_field(res, "per_page") &&
          http_problem_has_field(res, "category"));
    http_response_free(res);
}

static void test_index_follows_edits(void)
{
    char body[256], q[128];
    /* an edit of a published tool's listing fields is searchable in the next request */
    snprintf(body, sizeof body, "{\"summary\": \"Now also %sfresh\", \"tags\": [\"%s\", \"csv\", \"tidy\"]}", token,
             token);
    http_response *res = http_request("PATCH", tool_path(&csv), dev2.token, NULL, body, strlen(body), NULL);
    EXPECT_STATUS(res, 200);
    http_response_free(res);
    snprintf(q, sizeof q, "q=%sfresh", token);
    EXPECT(q, "csv");
    EXPECT(qs("q=%s+tidy"), "csv");
    EXPECT(qs("q=%s+snake"), ""); /* the old summary is gone from the index */
    /* a tool with more title words than one statement writes: every word is indexed */
    char many_name[128];
    snprintf(many_name, sizeof many_name, "%s one two three four five six seven", token);
    made_tool many;
    create(&dev, draft("many", many_name, "Many words", "Words.", "other", "t01,t02,t03,t04,t05,t06,t07,t08,t09", "free", 0),
           &many, 1);
    /* token, one..seven, t01..t09, many (the slug's other word) */
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM search_terms WHERE tool_id = ?", db_text(many.id)), 18);
    EXPECT(qs("q=%s+t09"), "many");
    EXPECT(qs("q=%s+seven&tags=t01"), "many");
    EXPECT(qs("q=%s+one+t"), "many"); /* a short last word against the last chunk's words */
    CHECK_INT(http_status_free(http_request("DELETE", tool_path(&many), dev.token, NULL, NULL, 0, NULL)), 204);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM search_terms WHERE tool_id = ?", db_text(many.id)), 0);
    /* publishing a new tool: found at once */
    char name[128];
    snprintf(name, sizeof name, "%s latecomer", token);
    made_tool late;
    create(&dev, draft("late", name, "Late", "Arrives late.", "web", NULL, "free", 0), &late, 1);
    EXPECT(qs("q=%s+latecomer"), "late");
    CHECK_INT(http_status_free(http_request("DELETE", tool_path(&late), dev.token, NULL, NULL, 0, NULL)), 204);
    EXPECT(qs("q=%s+latecomer"), "");
}

static http_response *moderate(const http_user *moderator, const made_tool *t, const char *action)
{
    char path[96], body[128];
    snprintf(path, sizeof path, "/moderation/tools/%s", t->id);
    snprintf(body, sizeof body, "{\"action\": \"%s\", \"note\": \"search test\"}", action);
    return http_request("POST", path, moderator->token, NULL, body, strlen(body), NULL);
}

/* A moderator's delist and restore move the index in their own transaction too: a tool the owner
 * delisted (document gone) and a moderator restored is found in the very next search. */
static void test_index_follows_moderation(void)
{
    http_user moderator;
    fixture_staff(&moderator, "moderator");
    char name[128];
    snprintf(name, sizeof name, "%s moderated", token);
    made_tool t;
    create(&dev, draft("moderated", name, "Judged", "By a moderator.", "other", NULL, "free", 0), &t, 1);
    EXPECT(qs("q=%s+moderated"), "moderated");
    EXPECT_STATUS_FREE(moderate(&moderator, &t, "delist"), 200);
    EXPECT(qs("q=%s+moderated"), "");
    EXPECT_STATUS_FREE(moderate(&moderator, &t, "restore"), 200);
    EXPECT(qs("q=%s+moderated"), "moderated");
    CHECK_INT(http_status_free(http_request("DELETE", tool_path(&t), dev.token, NULL, NULL, 0, NULL)), 204);
    EXPECT(qs("q=%s+moderated"), "");
    EXPECT_STATUS_FREE(moderate(&moderator, &t, "restore"), 200);
    EXPECT(qs("q=%s+moderated"), "moderated");
    /* the document itself follows, not only the status the search joins */
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM search_documents WHERE tool_id = ?", db_text(t.id)), 1);
    EXPECT_STATUS_FREE(moderate(&moderator, &t, "delist"), 200);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM search_documents WHERE tool_id = ?", db_text(t.id)), 0);
}

/* A published tool without a document (written by a path that did not index it) is found once
 * search_index_missing has run: what the worker hook and a bulk load rely on. */
static void test_index_missing(void)
{
    char name[128];
    snprintf(name, sizeof name, "%s backfilled", token);
    made_tool t;
    create(&dev, draft("backfill", name, "Indexed late", "Later.", "other", NULL, "free", 0), &t, 1);
    EXPECT(qs("q=%s+backfilled"), "backfill");
    mkt_error err = MKT_ERROR_INIT;
    CHECK(db_exec(fixture_db(), "DELETE FROM search_documents WHERE tool_id = ?", DB_PARAMS(db_text(t.id)), NULL,
                  &err) == 0);
    fixture_search_settle();
    EXPECT(qs("q=%s+backfilled"), "");
    int rounds = 0, done;
    while ((done = search_index_missing(fixture_db(), 0, &err)) > 0 && rounds < 1000)
        rounds++;
    CHECK_INT(done, 0);
    fixture_search_settle();
    EXPECT(qs("q=%s+backfilled"), "backfill");
    error_clear(&err);
    CHECK_INT(http_status_free(http_request("DELETE", tool_path(&t), dev.token, NULL, NULL, 0, NULL)), 204);
}

static void test_suggest(void)
{
    char path[256];
    snprintf(path, sizeof path, "/search/suggest?q=%.8s", token);
    http_response *res = http_get(path, NULL);
    CHECK_INT(res->status, 200);
    json_t *list = json_object_get(res->json, "suggestions");
    /* the tag (all four tools' downloads) first, then the names starting with the token by downloads */
    CHECK_INT(json_array_size(list), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "text")), token);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "kind")), "tag");
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 1), "slug")), csv.slug);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 1), "kind")), "tool");
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 2), "slug")), sorter.slug);
    http_response_free(res);
    res = http_get("/search/suggest?q=", NULL);
    CHECK_INT(res->status, 200);
    CHECK_INT(json_array_size(json_object_get(res->json, "suggestions")), 0);
    http_response_free(res);
    /* one character is too little to suggest from (it would read a large share of the catalogue) */
    res = http_get("/search/suggest?q=q", NULL);
    CHECK_INT(res->status, 200);
    CHECK_INT(json_array_size(json_object_get(res->json, "suggestions")), 0);
    http_response_free(res);
    res = http_get("/search/suggest?q=qa", NULL);
    CHECK_INT(res->status, 200);
    CHECK(json_array_size(json_object_get(res->json, "suggestions")) <= 10);
    http_response_free(res);
    char long_q[300] = "/search/suggest?q=";
    memset(long_q + strlen(long_q), 'b', 201);
    res = http_get(long_q, NULL);
    EXPECT_STATUS(res, 422);
    CHECK(http_problem_has_field(res, "q"));
    http_response_free(res);
}

int main(void)
{
    make_token();
    catalogue();
    RUN(test_delisted_and_drafts_never_found);
    RUN(test_exact_name_first);
    RUN(test_matching);
    RUN(test_operators_harmless);
    RUN(test_short_words);
    RUN(test_typo_suggests);
    RUN(test_filters);
    RUN(test_sorts);
    RUN(test_facets);
    RUN(test_bad_parameters);
    RUN(test_suggest);
    RUN(test_index_follows_edits);
    RUN(test_index_missing);
    RUN(test_index_follows_moderation);
    fixture_close();
    return check_finish();
}

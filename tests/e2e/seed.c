/* `marketplace seed --tools N --seed S --namespace NS`: the generated catalogue, run with the real
 * binary ($MKT_BIN) against the test stack's database and read back through SQL and HTTP.
 *
 * Determinism is checked by seeding the same N and S into two fresh namespaces and comparing a dump of
 * everything the catalogue decides (names, slugs without the namespace, texts, tags, prices, counters,
 * versions, code, execution counts and each review with its author's place in the buyer list), and a
 * third namespace with another seed must differ. Namespaces are unique per run, so the test can run
 * again on the same stack and beside any other test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/catalogue.h"
#include "core/tool_check.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/stack_env.h"

#define SEED_TOOLS 300
#define SEED_TOOLS_STR "300"
#define SEED_SEED "4242"

static char ns_a[16], ns_b[16], ns_c[16], ns_d[16];

/* Runs `marketplace seed --tools N --seed S --namespace NS --config <stack>`; its exit code, and
 * its output (stdout and stderr) in out. */
static int seed_run(const char *tools, const char *seed, const char *ns, char *out, size_t size)
{
    char command[2048];
    snprintf(command, sizeof command, "'%s' seed --config '%s' --tools '%s' --seed '%s' --namespace '%s' 2>&1",
             getenv("MKT_BIN"), stack_env("MKT_CONFIG"), tools, seed, ns);
    FILE *p = popen(command, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* "%@<ns>.seed.invalid": the seeded accounts of a namespace. */
static const char *seed_domain(const char *ns)
{
    static char like[64];
    snprintf(like, sizeof like, "%%@%s.seed.invalid", ns);
    return like;
}

#define SEED_TOOLS_OF "tools t JOIN developers d ON d.id = t.developer_id JOIN users du ON du.id = d.user_id" \
                      " WHERE du.email LIKE ?"

/* Everything the catalogue of ns decides, as one text in tool order (ids grow with the tool index). */
static char *seed_dump(const char *ns)
{
    char strip[32];
    snprintf(strip, sizeof strip, "-%s-", ns);
    db_rows rows = {0};
    int rc = db_query(fixture_db(),
                      "SELECT CONCAT_WS('|', REPLACE(t.slug, ?, '-'), t.name, t.summary, t.description, t.category,"
                      " t.pricing_model, t.price_cents, t.currency, IFNULL(t.period_days, 0), t.status,"
                      " t.latest_version, t.downloads, t.rating_count, t.rating_sum, t.rating_1, t.rating_2,"
                      " t.rating_3, t.rating_4, t.rating_5, d.display_name, SUBSTRING_INDEX(du.email, '@', 1),"
                      " (SELECT GROUP_CONCAT(g.tag ORDER BY g.tag) FROM tool_tags g WHERE g.tool_id = t.id),"
                      " (SELECT CONCAT_WS('/', v.changelog, v.code, v.tests, v.input_schema, v.output_schema)"
                      "  FROM tool_versions v WHERE v.tool_id = t.id),"
                      " (SELECT GROUP_CONCAT(CONCAT(DATEDIFF(UTC_DATE(), e.day), ':', e.executions) ORDER BY e.day)"
                      "  FROM tool_execution_days e WHERE e.tool_id = t.id),"
                      " (SELECT GROUP_CONCAT(CONCAT(SUBSTRING_INDEX(u.email, '@', 1), ':', r.rating, ':', r.title, ':',"
                      "   r.content) ORDER BY u.email SEPARATOR '~') FROM reviews r JOIN users u ON u.id = r.user_id"
                      "  WHERE r.tool_id = t.id))"
                      " FROM " SEED_TOOLS_OF " ORDER BY t.id",
                      DB_PARAMS(db_text(strip), db_text(seed_domain(ns))), &rows, NULL);
    if (rc < 0)
        return strdup("(query failed)");
    size_t total = 1;
    for (size_t i = 0; i < rows.row_count; i++)
        total += strlen(db_rows_text(&rows, i, 0) ?: "") + 1;
    char *dump = malloc(total), *p = dump;
    for (size_t i = 0; i < rows.row_count; i++)
        p += sprintf(p, "%s\n", db_rows_text(&rows, i, 0) ?: "");
    *p = '\0';
    db_rows_free(&rows);
    return dump;
}

static int64_t seed_count(const char *sql, const char *ns)
{
    return fixture_sql_int(sql, db_text(seed_domain(ns)));
}

/* The first run writes the catalogue; the same arguments again write nothing and succeed. */
static void test_seed_twice(void)
{
    char out[8192];
    int rc = seed_run(SEED_TOOLS_STR, SEED_SEED, ns_a, out, sizeof out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "300 tools written") != NULL);
    if (rc != 0)
        fprintf(stderr, "  seed printed: %s\n", out);
    rc = seed_run(SEED_TOOLS_STR, SEED_SEED, ns_a, out, sizeof out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "already seeded: 300 tools") != NULL);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF, ns_a), SEED_TOOLS);
}

/* Counts: N tools, all published with their version row; N/50 developers, max(50, N/10) buyers;
 * 2..10 tags a tool; prices only on paid tools. */
static void test_seed_counts(void)
{
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF " AND t.status = 'published'", ns_a), SEED_TOOLS);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF " AND EXISTS (SELECT 1 FROM tool_versions v"
                         " WHERE v.tool_id = t.id AND v.version = t.latest_version AND v.code = t.code)", ns_a),
              SEED_TOOLS);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM developers d JOIN users u ON u.id = d.user_id WHERE u.email LIKE ?"
                         " AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'developer')",
                         ns_a),
              SEED_TOOLS / 50);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM users u WHERE u.email LIKE ?", ns_a), SEED_TOOLS / 50 + 50);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF " AND ((SELECT COUNT(*) FROM tool_tags g"
                         " WHERE g.tool_id = t.id) NOT BETWEEN 2 AND 10 OR (t.pricing_model = 'free') <> (t.price_cents = 0))",
                         ns_a),
              0);
    /* the pricing mix: every model present */
    CHECK_INT(seed_count("SELECT COUNT(DISTINCT t.pricing_model) FROM " SEED_TOOLS_OF, ns_a), 3);
    CHECK(seed_count("SELECT COUNT(DISTINCT t.category) FROM " SEED_TOOLS_OF, ns_a) >= 8);
}

/* Common words in many tools, rare ones in few: the most used tag is on >= 20% of the tools, and some
 * tag on a single one. Long tails: the busiest tool has far more downloads than the median one, and
 * most tools have no review while a few have many. */
static void test_seed_shape(void)
{
    int64_t top = seed_count("SELECT MAX(c) FROM (SELECT COUNT(*) c FROM tool_tags g JOIN " SEED_TOOLS_OF
                             " AND g.tool_id = t.id GROUP BY g.tag) x", ns_a);
    int64_t rare = seed_count("SELECT MIN(c) FROM (SELECT COUNT(*) c FROM tool_tags g JOIN " SEED_TOOLS_OF
                              " AND g.tool_id = t.id GROUP BY g.tag) x", ns_a);
    CHECK(top * 5 >= SEED_TOOLS);
    CHECK_INT(rare, 1);
    int64_t max_downloads = seed_count("SELECT MAX(t.downloads) FROM " SEED_TOOLS_OF, ns_a);
    int64_t median = fixture_query_int(fixture_db(),
                                       "SELECT t.downloads FROM " SEED_TOOLS_OF " ORDER BY t.downloads LIMIT 1 OFFSET 150",
                                       DB_PARAMS(db_text(seed_domain(ns_a))));
    CHECK(max_downloads > 20 * (median + 1));
    int64_t unreviewed = seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF " AND t.rating_count = 0", ns_a);
    int64_t most = seed_count("SELECT MAX(t.rating_count) FROM " SEED_TOOLS_OF, ns_a);
    CHECK(unreviewed * 2 > SEED_TOOLS);
    CHECK(most >= 10);
    CHECK(seed_count("SELECT COUNT(*) FROM tool_execution_days e JOIN " SEED_TOOLS_OF " AND e.tool_id = t.id", ns_a) >
          SEED_TOOLS);
}

/* The tools' rating counters equal a recount of their visible reviews. */
static void test_seed_rating_counters(void)
{
    CHECK(seed_count("SELECT COUNT(*) FROM reviews r JOIN " SEED_TOOLS_OF " AND r.tool_id = t.id", ns_a) > 0);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF " AND (t.rating_count, t.rating_sum, t.rating_1,"
                         " t.rating_2, t.rating_3, t.rating_4, t.rating_5) <> (SELECT COUNT(*), IFNULL(SUM(r.rating), 0),"
                         " COUNT(IF(r.rating = 1, 1, NULL)), COUNT(IF(r.rating = 2, 1, NULL)),"
                         " COUNT(IF(r.rating = 3, 1, NULL)), COUNT(IF(r.rating = 4, 1, NULL)),"
                         " COUNT(IF(r.rating = 5, 1, NULL)) FROM reviews r WHERE r.tool_id = t.id AND r.status = 'visible')",
                         ns_a),
              0);
    /* the marketplace-wide totals of the Bayesian rating moved with them (this test runs alone) */
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM rating_totals g WHERE g.id = ? AND (g.rating_count, g.rating_sum) <>"
                              " (SELECT COUNT(*), IFNULL(SUM(rating), 0) FROM reviews WHERE status = 'visible')",
                              db_int(1)),
              0);
        /* reviewers are seeded buyers of the same namespace, never the tool's developer */
    CHECK_INT(seed_count("SELECT COUNT(*) FROM reviews r JOIN users u ON u.id = r.user_id JOIN " SEED_TOOLS_OF
                         " AND r.tool_id = t.id AND u.email NOT LIKE 'buyer-%'", ns_a),
              0);
}

/* Same N and S into a fresh namespace: the same catalogue; another seed: a different one. */
static void test_seed_deterministic(void)
{
    char out[8192];
    CHECK_INT(seed_run(SEED_TOOLS_STR, SEED_SEED, ns_b, out, sizeof out), 0);
    CHECK_INT(seed_run(SEED_TOOLS_STR, "4243", ns_c, out, sizeof out), 0);
    char *a = seed_dump(ns_a), *b = seed_dump(ns_b), *c = seed_dump(ns_c);
    CHECK(strlen(a) > 100000);
    CHECK(strcmp(a, b) == 0);
    CHECK(strcmp(a, c) != 0);
    if (strcmp(a, b) != 0) {
        size_t i = 0;
        while (a[i] && a[i] == b[i])
            i++;
        fprintf(stderr, "  dumps differ at byte %zu: ...%.80s... vs ...%.80s...\n", i, a + i, b + i);
    }
    free(a);
    free(b);
    free(c);
}

/* Bad options are usage errors (2) and write nothing. */
static void test_seed_usage(void)
{
    char out[4096];
    CHECK_INT(seed_run("0", SEED_SEED, "unused", out, sizeof out), 2);
    CHECK_INT(seed_run("12x", SEED_SEED, "unused", out, sizeof out), 2);
    CHECK_INT(seed_run("10", "-1", "unused", out, sizeof out), 2);
    CHECK_INT(seed_run("10", SEED_SEED, "Bad_NS", out, sizeof out), 2);
    CHECK(strstr(out, "namespace") != NULL);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM users WHERE email LIKE ?", "unused"), 0);
}

/* A run cut short after its first batch (simulated: the second batch's tools are deleted) finishes
 * the rest when run again; a slug of the missing batch taken by someone else's tool stops it with a
 * conflict naming --namespace, and nothing of that batch is written. */
static void test_seed_resume(void)
{
    char out[8192], taken[128];
    CHECK_INT(seed_run("1200", SEED_SEED, ns_d, out, sizeof out), 0);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF, ns_d), 1200);
    char *full = seed_dump(ns_d);
    snprintf(taken, sizeof taken, "%s",
             fixture_sql_text("SELECT t.slug FROM " SEED_TOOLS_OF " ORDER BY t.id LIMIT 1 OFFSET 1100",
                              db_text(seed_domain(ns_d))));
    int64_t cut = seed_count("SELECT t.id FROM " SEED_TOOLS_OF " ORDER BY t.id LIMIT 1 OFFSET 999", ns_d);
    /* the batch never committed: neither its tools nor its ratings in the marketplace-wide totals */
    db_exec(fixture_db(), "UPDATE rating_totals g JOIN (SELECT IFNULL(SUM(t.rating_count), 0) c, IFNULL(SUM(t.rating_sum), 0) s"
            " FROM " SEED_TOOLS_OF " AND t.id > ?) x SET g.rating_count = g.rating_count - x.c,"
            " g.rating_sum = g.rating_sum - x.s WHERE g.id = 1",
            DB_PARAMS(db_text(seed_domain(ns_d)), db_int(cut)), NULL, NULL);
    db_exec(fixture_db(), "DELETE t FROM " SEED_TOOLS_OF " AND t.id > ?",
            DB_PARAMS(db_text(seed_domain(ns_d)), db_int(cut)), NULL, NULL);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF, ns_d), 1000);

    /* someone else's draft holds one slug of the missing batch */
    http_user dev;
    fixture_developer(&dev, "Slug Squatter");
    char id[FIXTURE_ID_SIZE];
    fixture_create_tool(&dev, fixture_adder_draft(taken), id);
    CHECK_INT(seed_run("1200", SEED_SEED, ns_d, out, sizeof out), 1);
    CHECK(strstr(out, "--namespace") != NULL);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF, ns_d), 1000);

    db_exec(fixture_db(), "DELETE FROM tools WHERE id = ?", DB_PARAMS(db_text(id)), NULL, NULL);
    CHECK_INT(seed_run("1200", SEED_SEED, ns_d, out, sizeof out), 0);
    CHECK(strstr(out, "200 tools written, 1000 already there") != NULL);
    char *resumed = seed_dump(ns_d);
    CHECK(strcmp(full, resumed) == 0);
    free(full);
    free(resumed);
}

/* Every family's own tests pass through the one run path (the same a publish would demand). */
static void test_seed_families_pass(void)
{
    for (size_t i = 0; i < catalogue_family_count(); i++) {
        const catalogue_family *f = catalogue_family_get(i);
        json_t *in = json_loads(f->input_schema, 0, NULL), *out = json_loads(f->output_schema, 0, NULL),
               *tests = json_loads(f->tests, 0, NULL);
        tool_check_draft d = {in, out, tests, f->code, strlen(f->code), NULL, NULL};
        mkt_error err = MKT_ERROR_INIT;
        CHECK_INT(tool_check_draft_errors(fixture_config(), &d, &err), 0);
        error_clear(&err);
        json_t *run = tool_check_run_tests(fixture_config(), &d, &err);
        CHECK(run != NULL);
        CHECK_INT(json_integer_value(json_object_get(run, "passed")), json_array_size(tests));
        if (json_integer_value(json_object_get(run, "failed")) != 0) {
            char *text = json_dumps(run, 0);
            fprintf(stderr, "  family %s: %s\n", f->key, text);
            free(text);
        }
        json_decref(run);
        error_clear(&err);
        json_decref(in);
        json_decref(out);
        json_decref(tests);
    }
}

/* One tool of each code the catalogue uses: public through GET /tools/{slug}, and each of its tests
 * run by its developer through POST /tools/{slug}/execute gives the expected output. */
static void test_seed_tools_run(void)
{
    db_rows rows = {0};
    if (db_query(fixture_db(),
                 "SELECT t.slug, t.name, du.email, v.tests FROM tools t JOIN developers d ON d.id = t.developer_id"
                 " JOIN users du ON du.id = d.user_id JOIN tool_versions v ON v.tool_id = t.id"
                 " WHERE t.id IN (SELECT MIN(t2.id) FROM tools t2 JOIN developers d2 ON d2.id = t2.developer_id"
                 " JOIN users u2 ON u2.id = d2.user_id WHERE u2.email LIKE ? GROUP BY t2.code) ORDER BY t.id",
                 DB_PARAMS(db_text(seed_domain(ns_a))), &rows, NULL) < 0) {
        CHECK(0);
        return;
    }
    CHECK(rows.row_count >= 8);
    for (size_t i = 0; i < rows.row_count; i++) {
        const char *slug = db_rows_text(&rows, i, 0);
        char path[256], token[128];
        snprintf(path, sizeof path, "/tools/%s", slug);
        http_response *res = http_get(path, NULL);
        EXPECT_STATUS(res, 200);
        CHECK_STR(http_json_string(res, "name"), db_rows_text(&rows, i, 1));
        CHECK_STR(http_json_string(res, "status"), "published");
        http_response_free(res);
        CHECK_INT(http_login(db_rows_text(&rows, i, 2), CATALOGUE_PASSWORD, token, sizeof token), 200);
        json_t *tests = json_loads(db_rows_text(&rows, i, 3), 0, NULL);
        snprintf(path, sizeof path, "/tools/%s/execute", slug);
        for (size_t k = 0; k < json_array_size(tests); k++) {
            json_t *test = json_array_get(tests, k);
            json_t *body = json_pack("{s:O}", "input", json_object_get(test, "input"));
            res = http_post_json(path, token, body);
            json_decref(body);
            EXPECT_STATUS(res, 200);
            CHECK(res->json && tool_check_json_same(json_object_get(res->json, "output"),
                                                    json_object_get(test, "expected")));
            http_response_free(res);
        }
        json_decref(tests);
    }
    db_rows_free(&rows);
}

/* Seeded tools are searchable as soon as the seed ends: each batch writes their search documents
 * in its own transaction (not left to the workers' catch-up), and GET /search finds a seeded tool by
 * its exact name first. */
static void test_seed_searchable(void)
{
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF
                         " AND EXISTS (SELECT 1 FROM search_documents s WHERE s.tool_id = t.id)", ns_a),
              SEED_TOOLS);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM " SEED_TOOLS_OF
                         " AND NOT EXISTS (SELECT 1 FROM search_terms w WHERE w.tool_id = t.id)", ns_a),
              0);
    db_rows rows = {0};
    if (db_query(fixture_db(),
                 "SELECT t.slug FROM " SEED_TOOLS_OF " ORDER BY t.id DESC LIMIT 1",
                 DB_PARAMS(db_text(seed_domain(ns_a))), &rows, NULL) < 0 || rows.row_count != 1) {
        CHECK(0);
        db_rows_free(&rows);
        return;
    }
    char path[256];
    snprintf(path, sizeof path, "/search?q=%s", db_rows_text(&rows, 0, 0));
    http_response *res = http_get(path, NULL);
    EXPECT_STATUS(res, 200);
    json_t *first = json_array_get(json_object_get(res->json, "tools"), 0);
    CHECK_STR(json_string_value(json_object_get(first, "slug")), db_rows_text(&rows, 0, 0));
    http_response_free(res);
    db_rows_free(&rows);
}

/* The catalogue's executions become trending scores: every tool that ran has one
 * (with its newest run), none of the others, and the most run of them is on GET /tools/trending. */
static void test_seed_trending(void)
{
    int64_t ran = seed_count("SELECT COUNT(DISTINCT t.id) FROM tool_execution_days e JOIN " SEED_TOOLS_OF
                             " AND e.tool_id = t.id AND e.executions > 0", ns_a);
    int64_t scored = seed_count("SELECT COUNT(*) FROM tool_activity a JOIN " SEED_TOOLS_OF " AND a.tool_id = t.id",
                                ns_a);
    CHECK(ran > 0);
    CHECK_INT(scored, ran);
    CHECK_INT(seed_count("SELECT COUNT(*) FROM tool_activity a JOIN " SEED_TOOLS_OF " AND a.tool_id = t.id"
                         " AND DATE(a.last_at) <> (SELECT MAX(e.day) FROM tool_execution_days e"
                         " WHERE e.tool_id = t.id AND e.executions > 0)", ns_a),
              0);
    const char *top = fixture_sql_text("SELECT t.id FROM tool_activity a JOIN " SEED_TOOLS_OF
                                       " AND a.tool_id = t.id ORDER BY a.score_log DESC LIMIT 1",
                                       db_text(seed_domain(ns_a)));
    char want[32];
    snprintf(want, sizeof want, "%s", top ? top : "?");
    int found = 0;
    for (int page = 1; page <= 20 && !found; page++) {
        char path[96];
        snprintf(path, sizeof path, "/tools/trending?per_page=100&page=%d", page);
        http_response *res = http_get(path, NULL);
        json_t *items = json_object_get(res->json, "items");
        for (size_t i = 0; i < json_array_size(items) && !found; i++)
            found = strcmp(json_string_value(json_object_get(json_array_get(items, i), "id")) ?: "", want) == 0;
        int last = json_array_size(items) < 100;
        http_response_free(res);
        if (last)
            break;
    }
    CHECK(found);
}

int main(void)
{
    fixture_random_seed();
    unsigned tag = (unsigned)rand() % 1000000u;
    snprintf(ns_a, sizeof ns_a, "ta%uz%u", tag, (unsigned)getpid() % 1000u);
    snprintf(ns_b, sizeof ns_b, "tb%uz%u", tag, (unsigned)getpid() % 1000u);
    snprintf(ns_c, sizeof ns_c, "tc%uz%u", tag, (unsigned)getpid() % 1000u);
    snprintf(ns_d, sizeof ns_d, "td%uz%u", tag, (unsigned)getpid() % 1000u);
    RUN(test_seed_twice);
    RUN(test_seed_counts);
    RUN(test_seed_shape);
    RUN(test_seed_trending);
    RUN(test_seed_rating_counters);
    RUN(test_seed_deterministic);
    RUN(test_seed_usage);
    RUN(test_seed_resume);
    RUN(test_seed_families_pass);
    RUN(test_seed_tools_run);
    RUN(test_seed_searchable);
    fixture_close();
    return check_finish();
}

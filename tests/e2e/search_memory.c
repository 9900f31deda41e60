/* The in-memory search engine (search_engine = memory, the test stack's default) end to end: every
 * worker's index follows the change feed of migration 0014. A change written by any path — here
 * straight SQL from the test's own connection, which no server process announces — is seen by
 * every worker's searches within SEARCH_FEED_EVERY_MS (fixture_search_settle waits that long; the
 * searches are repeated so all the stack's workers answer); one made through the server is seen by
 * the very next search of every worker; a change whose feed number was taken before a later,
 * already-read one but committed after it is not lost. The rules of matching and ranking are
 * e2e.search's, run against both engines. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/server_log.h"

/* More than the test stack's workers: nginx spreads them, so each worker answers at least once. */
#define ROUNDS 24

static char token[16];
static char id_a[FIXTURE_ID_SIZE], id_b[FIXTURE_ID_SIZE];
static http_user dev;

static void make_token(void)
{
    fixture_random_seed();
    token[0] = 'q';
    for (int i = 1; i < 10; i++)
        token[i] = (char)('a' + rand() % 26);
    token[10] = '\0';
}

static void make_tool(const http_user *dev, const char *word, char *id)
{
    char slug[FIXTURE_SLUG_SIZE], name[96];
    snprintf(slug, sizeof slug, "%s-%s", token, word);
    snprintf(name, sizeof name, "%s %s", token, word);
    json_t *body = fixture_adder_draft(slug);
    json_object_set_new(body, "name", json_string(name));
    fixture_create_tool(dev, body, id);
    fixture_publish(dev, id, "1.0.0");
}

/* q=<token>&sort=<sort>, ROUNDS times: how many answers listed the words in want's order. */
static int answers_sorted(const char *sort, const char *want)
{
    char path[128];
    snprintf(path, sizeof path, "/search?q=%s&sort=%s", token, sort);
    int good = 0;
    for (int r = 0; r < ROUNDS; r++) {
        http_response *res = http_get(path, NULL);
        char got[256] = "";
        json_t *tools = json_object_get(res->json, "tools");
        for (size_t i = 0; i < json_array_size(tools); i++) {
            const char *slug = json_string_value(json_object_get(json_array_get(tools, i), "slug"));
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? " " : "",
                     slug ? slug + strlen(token) + 1 : "?");
        }
        if (res->status == 200 && strcmp(got, want) == 0)
            good++;
        else
            fprintf(stderr, "  round %d: want [%s] got [%s]\n", r, want, got);
        http_response_free(res);
    }
    return good;
}

static int answers_in_order(const char *want)
{
    return answers_sorted("downloads", want);
}

static void set_downloads(db *db, const char *id, int64_t downloads)
{
    mkt_error err = MKT_ERROR_INIT;
    if (db_exec(db, "UPDATE tools SET downloads = ? WHERE id = ?", DB_PARAMS(db_int(downloads), db_text(id)), NULL,
                &err) < 0) {
        fprintf(stderr, "set_downloads: %s\n", err.message ? err.message : "?");
        exit(2);
    }
}

static void exec_or_die(db *db, const char *sql)
{
    mkt_error err = MKT_ERROR_INIT;
    if (db_exec(db, sql, DB_NO_PARAMS, NULL, &err) < 0) {
        fprintf(stderr, "%s: %s\n", sql, err.message ? err.message : "?");
        exit(2);
    }
}

/* Counters written by plain SQL reach every worker's index by the next search. */
static void test_every_worker_follows_the_feed(void)
{
    CHECK_INT(answers_in_order("beta alpha"), ROUNDS); /* equal downloads: the newer first */
    CHECK(fixture_sql_int("SELECT COUNT(*) FROM search_changes WHERE tool_id = ?", db_text(id_a)) > 0);
    set_downloads(fixture_db(), id_a, 7);
    fixture_search_settle();
    CHECK_INT(answers_in_order("alpha beta"), ROUNDS);
    set_downloads(fixture_db(), id_b, 9);
    fixture_search_settle();
    CHECK_INT(answers_in_order("beta alpha"), ROUNDS);
}

/* A feed number taken by a transaction still open when a later number is read is a gap: read
 * again once it commits, so its change is not lost. */
static void test_late_commit_not_lost(void)
{
    db *other = fixture_db_open();
    exec_or_die(other, "START TRANSACTION");
    set_downloads(other, id_a, 100); /* takes a feed number, not committed yet */
    set_downloads(fixture_db(), id_b, 50); /* a later number, committed at once */
    fixture_search_settle();
    CHECK_INT(answers_in_order("beta alpha"), ROUNDS);
    exec_or_die(other, "COMMIT");
    fixture_search_settle();
    CHECK_INT(answers_in_order("alpha beta"), ROUNDS);
    db_close(other);
}

static void exec_id(const char *sql, const char *id)
{
    mkt_error err = MKT_ERROR_INIT;
    if (db_exec(fixture_db(), sql, DB_PARAMS(db_text(id)), NULL, &err) < 0) {
        fprintf(stderr, "%s: %s\n", sql, err.message ? err.message : "?");
        exit(2);
    }
}

/* A trending score that goes away (its row deleted: core/activity takes a last event back) sends
 * the tool after the tools with one in every worker. */
static void test_trending_row_deleted(void)
{
    exec_id("INSERT INTO tool_activity (tool_id, score_log, last_at) VALUES (?, 1, NOW(6))", id_a);
    exec_id("INSERT INTO tool_activity (tool_id, score_log, last_at) VALUES (?, 5, NOW(6))", id_b);
    fixture_search_settle();
    CHECK_INT(answers_sorted("trending", "beta alpha"), ROUNDS);
    exec_id("DELETE FROM tool_activity WHERE tool_id = ?", id_b);
    fixture_search_settle();
    CHECK_INT(answers_sorted("trending", "alpha beta"), ROUNDS);
}

#define DIGITS "SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4" \
               " UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9"

/* A burst of more changes than one read of the feed applies (a bulk load: here 5000 rows written
 * straight into the feed) is applied a part at a time, a part per search or idle moment, with SQL
 * answering until the worker has caught up: no worker drops its index to build it again, and a
 * change made after the burst is seen by every worker. */
static void test_burst_applied_in_parts(void)
{
    set_downloads(fixture_db(), id_a, 1);
    set_downloads(fixture_db(), id_b, 2);
    fixture_search_settle();
    CHECK_INT(answers_in_order("beta alpha"), ROUNDS); /* every worker current */
    int dropped = server_log_count_unparsed("in-memory index dropped");
    exec_id("INSERT INTO search_changes (tool_id) SELECT ? FROM"
            " (SELECT 1 FROM (" DIGITS ") a, (" DIGITS ") b, (" DIGITS ") c, (" DIGITS ") d LIMIT 5000) n",
            id_b);
    set_downloads(fixture_db(), id_a, 500);
    fixture_search_settle();
    CHECK_INT(answers_in_order("alpha beta"), ROUNDS);
    set_downloads(fixture_db(), id_b, 900);
    fixture_search_settle();
    CHECK_INT(answers_in_order("beta alpha"), ROUNDS);
    CHECK_INT(server_log_count_unparsed("in-memory index dropped"), dropped);
}

/* Tool `word`'s value at path (keys separated by '/') in its summary in a search answer, or NULL. */
static json_t *summary_value(const http_response *res, const char *word, const char *path)
{
    char slug[64], keys[64];
    snprintf(slug, sizeof slug, "%s-%s", token, word);
    snprintf(keys, sizeof keys, "%s", path);
    json_t *tools = json_object_get(res->json, "tools"), *v = NULL;
    for (size_t i = 0; i < json_array_size(tools); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(tools, i), "slug")) ?: "", slug) == 0)
            v = json_array_get(tools, i);
    char *save = NULL;
    for (char *k = strtok_r(keys, "/", &save); v && k; k = strtok_r(NULL, "/", &save))
        v = json_object_get(v, k);
    return v;
}

/* q=<token>, ROUNDS times: how many answers showed tool `word` with want (a string or an integer
 * printed) at path; when want is NULL, a number within tolerance of wanted (or, with a negative
 * tolerance, at least -tolerance away from it). */
static int answers_showing_near(const char *word, const char *path, const char *want, double wanted, double tolerance)
{
    char url[128];
    snprintf(url, sizeof url, "/search?q=%s", token);
    int good = 0;
    for (int r = 0; r < ROUNDS; r++) {
        http_response *res = http_get(url, NULL);
        json_t *v = summary_value(res, word, path);
        char got[64] = "?";
        if (json_is_string(v))
            snprintf(got, sizeof got, "%s", json_string_value(v));
        else if (json_is_number(v))
            snprintf(got, sizeof got, json_is_integer(v) ? "%.0f" : "%.4f", json_number_value(v));
        double off = json_is_number(v) ? fabs(json_number_value(v) - wanted) : NAN;
        int ok = want ? strcmp(got, want) == 0 : tolerance >= 0 ? off <= tolerance : off >= -tolerance;
        if (res->status == 200 && ok)
            good++;
        else if (want)
            fprintf(stderr, "  round %d: %s %s: want %s got %s\n", r, word, path, want, got);
        else
            fprintf(stderr, "  round %d: %s %s: want %s %.4f got %s\n", r, word, path,
                    tolerance >= 0 ? "near" : "far from", wanted, got);
        http_response_free(res);
    }
    return good;
}

static int answers_showing(const char *word, const char *path, const char *want)
{
    return answers_showing_near(word, path, want, 0, 0);
}

static double global_mean(int64_t *count, int64_t *sum)
{
    *count = fixture_sql_int("SELECT rating_count FROM rating_totals WHERE id = ?", db_int(1));
    *sum = fixture_sql_int("SELECT rating_sum FROM rating_totals WHERE id = ?", db_int(1));
    return *count ? (double)*sum / (double)*count : 0;
}

/* Ratings of one value written the way core/rating writes a review's: on the tool and on the global
 * totals in one transaction (sign -1 takes them back). */
static void add_ratings(const char *id, int64_t k, int value, int sign)
{
    char sql[256];
    db *db = fixture_db();
    exec_or_die(db, "START TRANSACTION");
    snprintf(sql, sizeof sql,
             "UPDATE tools SET rating_count = rating_count + %" PRId64 ", rating_sum = rating_sum + %" PRId64 ","
             " rating_%d = rating_%d + %" PRId64 " WHERE id = ?", sign * k, sign * k * value, value, value, sign * k);
    exec_id(sql, id);
    snprintf(sql, sizeof sql,
             "UPDATE rating_totals SET rating_count = rating_count + %" PRId64 ", rating_sum = rating_sum + %" PRId64
             " WHERE id = 1", sign * k, sign * k * value);
    exec_or_die(db, sql);
    exec_or_die(db, "COMMIT");
}

/* The result summaries a worker keeps (core/summary_cache) follow every change to what they show,
 * by any path: the columns only a summary shows (latest version, summary text, rating distribution)
 * as well as counters, and the global rating mean that every tool's Bayesian rating leans on. */
static void test_summaries_follow_every_change(void)
{
    CHECK_INT(answers_showing("alpha", "latest_version", "1.0.0"), ROUNDS); /* every worker keeps it */
    exec_id("UPDATE tools SET latest_version = '1.0.1' WHERE id = ?", id_a);
    fixture_search_settle();
    CHECK_INT(answers_showing("alpha", "latest_version", "1.0.1"), ROUNDS);
    exec_id("UPDATE tools SET summary = 'Now adds faster.' WHERE id = ?", id_a);
    fixture_search_settle();
    CHECK_INT(answers_showing("alpha", "summary", "Now adds faster."), ROUNDS);
    set_downloads(fixture_db(), id_a, 4321);
    fixture_search_settle();
    CHECK_INT(answers_showing("alpha", "downloads", "4321"), ROUNDS);
    /* beta's Bayesian rating leans on the global mean: enough ratings on alpha to move the mean by
     * 0.05 or more must move beta's, which did not change itself (other tests may review meanwhile:
     * the margins are well under the move) */
    add_ratings(id_b, 1, 3, 1);
    fixture_search_settle();
    char url[128];
    snprintf(url, sizeof url, "/search?q=%s", token);
    http_response *res = http_get(url, NULL);
    double beta_before = json_number_value(summary_value(res, "beta", "rating/bayesian"));
    http_response_free(res);
    CHECK(beta_before > 0);
    CHECK_INT(answers_showing_near("beta", "rating/bayesian", NULL, beta_before, 0.015), ROUNDS);
    int64_t n, sum;
    double before = global_mean(&n, &sum);
    int value = before < 4 ? 5 : 1;
    int64_t k = (int64_t)ceil(0.05 * (double)n / (fabs(value - before) - 0.05)) + 1;
    add_ratings(id_a, k, value, 1);
    fixture_search_settle();
    CHECK(fabs(global_mean(&n, &sum) - before) >= 0.05);
    char want[32], path[32];
    snprintf(want, sizeof want, "%" PRId64, k);
    snprintf(path, sizeof path, "rating/distribution/%d", value);
    CHECK_INT(answers_showing("alpha", path, want), ROUNDS);
    CHECK_INT(answers_showing_near("beta", "rating/bayesian", NULL, beta_before, -0.015), ROUNDS);
    add_ratings(id_b, 1, 3, -1);
    add_ratings(id_a, k, value, -1);
}

/* A change made through the server needs no wait: its commit moves the host's write count, so the
 * very next search of every worker reads the feed (the check runs at once, ROUNDS times). */
static void test_change_through_the_server_seen_at_once(void)
{
    char path[128], body[128];
    for (int i = 1; i <= 3; i++) {
        snprintf(path, sizeof path, "/tools/%s", id_a);
        snprintf(body, sizeof body, "{\"summary\": \"Adds, edit %d.\"}", i);
        CHECK_INT(http_status_free(http_request("PATCH", path, dev.token, NULL, body, strlen(body), NULL)), 200);
        snprintf(body, sizeof body, "Adds, edit %d.", i);
        CHECK_INT(answers_showing("alpha", "summary", body), ROUNDS);
    }
}

int main(void)
{
    make_token();
    fixture_developer(&dev, "Memory Search Shop");
    make_tool(&dev, "alpha", id_a);
    make_tool(&dev, "beta", id_b);
    RUN(test_every_worker_follows_the_feed);
    RUN(test_late_commit_not_lost);
    RUN(test_trending_row_deleted);
    RUN(test_burst_applied_in_parts);
    RUN(test_summaries_follow_every_change);
    RUN(test_change_through_the_server_seen_at_once);
    fixture_close();
    return check_finish();
}

/* Reports and moderation end to end, through real nginx -> marketplace -> MariaDB: three reports from
 * different (old enough) accounts hide a review, two do not, a second report by the same user is 409,
 * and fresh accounts are recorded without counting (the test stack sets report_min_account_age = 3600);
 * parallel reporters hide a review exactly once, and one user's parallel tool reports make one report;
 * the tool's rating stats leave and come back exactly
 * (GET /tools/{tool} and the counters against a recount of the rows); the queue's three lists (hidden
 * reviews with their reports, reported tools by reason, a transaction flagged by a webhook mismatch);
 * approve / hide / remove and a removed review staying gone for its author; tool delist / restore
 * with a buyer keeping access; one audit row per action with before and after, the log admin-only and
 * refusing UPDATE and DELETE in the database; who may call what; and a table of bad input, each 4xx
 * naming the field with nothing changed. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/provider.h"

/* ---- helpers -------------------------------------------------------------------------------- */

/* Older than the test stack's report_min_account_age. */
#define AGED_SECONDS 7200

static http_user moderator, admin;

static http_response *send(const char *method, const http_user *u, const char *path, const char *body)
{
    return http_request(method, path, u ? u->token : NULL, body ? "application/json" : NULL, body,
                        body ? strlen(body) : 0, NULL);
}

/* A user whose reports count toward hiding a review. */
static void aged_user(http_user *u)
{
    fixture_user(u);
    fixture_user_age(u, AGED_SECONDS);
}

/* A published free adder of a fresh developer: its id (and slug when not NULL). */
static void free_tool(http_user *dev, char *id, char *slug)
{
    fixture_developer(dev, "Moderated Shop");
    fixture_adder_tool(dev, "free", 0, 0, id, slug);
}

/* A review by a fresh user that must be created: its id into id (FIXTURE_ID_SIZE), author into author. */
static void review(const char *tool, int rating, http_user *author, char *id)
{
    fixture_user(author);
    json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", tool, "rating", rating, "title", "Opinion", "content",
                             "It adds numbers.");
    http_response *res = http_post_json("/reviews", author->token, body);
    json_decref(body);
    if (res->status != 201 || !http_json_string(res, "id")) {
        http_dump("review", res);
        exit(2);
    }
    snprintf(id, FIXTURE_ID_SIZE, "%s", http_json_string(res, "id"));
    http_response_free(res);
}

static http_response *report_review(const http_user *u, const char *id, const char *reason)
{
    char path[96], body[128];
    snprintf(path, sizeof path, "/reviews/%s/reports", id);
    snprintf(body, sizeof body, "{\"reason\": \"%s\", \"detail\": \"Looks like an advert.\"}", reason);
    return send("POST", u, path, body);
}

static http_response *act(const http_user *u, const char *kind, const char *id, const char *action)
{
    char path[160], body[160];
    snprintf(path, sizeof path, "/moderation/%s/%s", kind, id);
    snprintf(body, sizeof body, "{\"action\": \"%s\", \"note\": \"checked by hand\"}", action);
    return send("POST", u, path, body);
}

static const char *review_status(const char *id)
{
    return fixture_sql_text("SELECT status FROM reviews WHERE id = ?", db_text(id));
}

/* The tool's counters equal a recount of its visible reviews, and GET /tools/{tool} says count and sum
 * (average * count) of exactly those. */
static void check_stats_at(const char *tool, int64_t count, int64_t sum, int line)
{
    int64_t off = fixture_sql_int(
        "SELECT (SELECT COUNT(*) FROM reviews r WHERE r.tool_id = t.id AND r.status = 'visible') <> t.rating_count"
        " OR (SELECT COALESCE(SUM(rating), 0) FROM reviews r WHERE r.tool_id = t.id AND r.status = 'visible')"
        " <> t.rating_sum OR (SELECT COUNT(*) FROM reviews r WHERE r.tool_id = t.id AND r.status = 'visible'"
        " AND r.rating = 5) <> t.rating_5 OR t.rating_1 + t.rating_2 + t.rating_3 + t.rating_4 + t.rating_5"
        " <> t.rating_count FROM tools t WHERE t.id = ?",
        db_text(tool));
    char path[96];
    snprintf(path, sizeof path, "/tools/%s", tool);
    http_response *res = http_get(path, NULL);
    json_t *rating = json_object_get(res->json, "rating");
    int64_t got_count = json_integer_value(json_object_get(rating, "count"));
    double average = json_number_value(json_object_get(rating, "average"));
    int64_t got_sum = (int64_t)(average * (double)got_count + 0.5);
    if (off != 0 || res->status != 200 || got_count != count || got_sum != sum) {
        fprintf(stderr, "  line %d: tool %s stats: recount off %" PRId64 ", GET %ld count %" PRId64 " sum %" PRId64
                        " (want %" PRId64 " / %" PRId64 ")\n",
                line, tool, off, res->status, got_count, got_sum, count, sum);
        check_failures++;
    }
    http_response_free(res);
}
#define CHECK_STATS(tool, count, sum) check_stats_at((tool), (count), (sum), __LINE__)

/* Is review id in GET /tools/{tool}/reviews? */
static int listed(const char *tool, const char *id)
{
    char path[96];
    snprintf(path, sizeof path, "/tools/%s/reviews?sort=newest&per_page=100", tool);
    http_response *res = http_get(path, NULL);
    int found = 0;
    json_t *item;
    size_t i;
    json_array_foreach(json_object_get(res->json, "items"), i, item)
        found |= strcmp(json_string_value(json_object_get(item, "id")), id) == 0;
    http_response_free(res);
    return found;
}

/* The queue entry of kind ("reviews", "tools", "transactions") whose id (or tool.id) is id; a new
 * reference, NULL when absent. */
static json_t *queued(const char *kind, const char *id)
{
    http_response *res = send("GET", &moderator, "/moderation/queue", NULL);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "cap")), 100);
    json_t *found = NULL, *item;
    size_t i;
    json_array_foreach(json_object_get(res->json, kind), i, item) {
        json_t *key = strcmp(kind, "tools") == 0 ? json_object_get(json_object_get(item, "tool"), "id")
                                                 : json_object_get(item, "id");
        if (!found && json_is_string(key) && strcmp(json_string_value(key), id) == 0)
            found = json_incref(item);
    }
    http_response_free(res);
    return found;
}

static int64_t audit_rows(const char *type, const char *id)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM moderation_audit WHERE target_type = '%s' AND target_id = ?",
             strcmp(type, "tool") == 0 ? "tool" : "review");
    return fixture_sql_int(sql, db_text(id));
}

/* A review (rating 5) hidden by three aged reporters; the tool also has a visible 2-star review. */
typedef struct {
    http_user dev, author, other, reporters[3];
    char tool[FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE], other_id[FIXTURE_ID_SIZE];
} hidden_review;

static void hide_by_reports(hidden_review *h)
{
    free_tool(&h->dev, h->tool, NULL);
    review(h->tool, 5, &h->author, h->id);
    review(h->tool, 2, &h->other, h->other_id);
    for (int i = 0; i < 3; i++) {
        aged_user(&h->reporters[i]);
        EXPECT_STATUS_FREE(report_review(&h->reporters[i], h->id, i ? "fake" : "spam"), 202);
    }
    CHECK_STR(review_status(h->id), "hidden");
}

/* ---- reports hide a review ------------------------------------------------------------------ */

static void test_auto_hide(void)
{
    http_user dev, author, other, r[4];
    char tool[FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE], other_id[FIXTURE_ID_SIZE];
    free_tool(&dev, tool, NULL);
    review(tool, 5, &author, id);
    review(tool, 2, &other, other_id);
    CHECK_STATS(tool, 2, 7);
    for (int i = 0; i < 4; i++)
        aged_user(&r[i]);

    /* not on your own review */
    EXPECT_STATUS_FREE(report_review(&author, id, "spam"), 403);

    http_response *res = report_review(&r[0], id, "spam");
    EXPECT_STATUS(res, 202);
    CHECK_STR(http_json_string(res, "review_id"), id);
    CHECK_STR(http_json_string(res, "reason"), "spam");
    CHECK_STR(http_json_string(res, "reporter_id"), r[0].id);
    CHECK_STR(http_json_string(res, "status"), "open");
    http_response_free(res);
    /* the same user twice is one report: 409, and it does not count twice */
    EXPECT_STATUS_FREE(report_review(&r[0], id, "abuse"), 409);
    EXPECT_STATUS_FREE(report_review(&r[1], id, "off_topic"), 202);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM review_reports WHERE review_id = ?", db_text(id)), 2);
    /* two reporters do not hide it */
    CHECK_STR(review_status(id), "visible");
    CHECK(listed(tool, id));
    CHECK_STATS(tool, 2, 7);

    /* the third does: out of the list and the stats, into the queue */
    EXPECT_STATUS_FREE(report_review(&r[2], id, "fake"), 202);
    CHECK_STR(review_status(id), "hidden");
    CHECK(!listed(tool, id));
    CHECK(listed(tool, other_id));
    CHECK_STATS(tool, 1, 2);
    json_t *entry = queued("reviews", id);
    CHECK(entry != NULL);
    json_t *reports = json_object_get(entry, "reports");
    CHECK_INT((int64_t)json_array_size(reports), 3);
    CHECK_STR(json_string_value(json_object_get(entry, "status")), "hidden");
    CHECK_STR(json_string_value(json_object_get(json_array_get(reports, 0), "reason")), "spam");
    CHECK_STR(json_string_value(json_object_get(json_array_get(reports, 0), "reporter_id")), r[0].id);
    CHECK_STR(json_string_value(json_object_get(json_array_get(reports, 0), "detail")), "Looks like an advert.");
    CHECK(json_is_string(json_object_get(json_array_get(reports, 2), "created_at")));
    CHECK_STR(json_string_value(json_object_get(json_array_get(reports, 2), "reason")), "fake");
    json_decref(entry);

    /* hidden: no longer reportable or votable by the public, and the author's edit leaves the stats alone */
    EXPECT_STATUS_FREE(report_review(&r[3], id, "spam"), 404);
    char path[96];
    snprintf(path, sizeof path, "/reviews/%s/votes", id);
    EXPECT_STATUS_FREE(send("POST", &r[3], path, "{\"helpful\": true}"), 404);
    snprintf(path, sizeof path, "/reviews/%s", id);
    EXPECT_STATUS_FREE(send("PATCH", &author, path, "{\"rating\": 4}"), 200);
    CHECK_STR(review_status(id), "hidden");
    CHECK_STATS(tool, 1, 2);
}

static void test_young_accounts(void)
{
    http_user dev, author, other, young[3], old[3];
    char tool[FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE], other_id[FIXTURE_ID_SIZE];
    free_tool(&dev, tool, NULL);
    review(tool, 4, &author, id);
    review(tool, 1, &other, other_id);
    /* three fresh accounts: recorded (202) but not counted */
    for (int i = 0; i < 3; i++) {
        fixture_user(&young[i]);
        EXPECT_STATUS_FREE(report_review(&young[i], id, "spam"), 202);
    }
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM review_reports WHERE review_id = ? AND NOT counted", db_text(id)),
              3);
    CHECK_STR(review_status(id), "visible");
    CHECK_STATS(tool, 2, 5);
    /* two old ones with the three young still do not make three that count */
    for (int i = 0; i < 2; i++) {
        aged_user(&old[i]);
        EXPECT_STATUS_FREE(report_review(&old[i], id, "abuse"), 202);
    }
    CHECK_STR(review_status(id), "visible");
    aged_user(&old[2]);
    EXPECT_STATUS_FREE(report_review(&old[2], id, "abuse"), 202);
    CHECK_STR(review_status(id), "hidden");
    CHECK_STATS(tool, 1, 1);
}

/* ---- parallel reporters ------------------------------------------------------------------------ */

#define RACE_REPORTERS 8

typedef struct {
    const http_user *user;
    const char *review; /* or the tool, for tool reports */
    long status;
} race_slot;

static void *race_report(void *arg)
{
    race_slot *slot = arg;
    http_response *res = report_review(slot->user, slot->review, "spam");
    slot->status = res->status;
    http_response_free(res);
    return NULL;
}

static void test_parallel_reporters(void)
{
    http_user dev, author, other;
    static http_user users[RACE_REPORTERS];
    char tool[FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE], other_id[FIXTURE_ID_SIZE];
    free_tool(&dev, tool, NULL);
    review(tool, 5, &author, id);
    review(tool, 3, &other, other_id);
    race_slot slots[RACE_REPORTERS];
    pthread_t threads[RACE_REPORTERS];
    for (int i = 0; i < RACE_REPORTERS; i++) {
        aged_user(&users[i]);
        slots[i] = (race_slot){.user = &users[i], .review = id};
    }
    for (int i = 0; i < RACE_REPORTERS; i++)
        pthread_create(&threads[i], NULL, race_report, &slots[i]);
    for (int i = 0; i < RACE_REPORTERS; i++)
        pthread_join(threads[i], NULL);
    /* the review's row lock orders them: three are taken, the third hides it, the rest find it hidden */
    int accepted = 0, gone = 0;
    for (int i = 0; i < RACE_REPORTERS; i++) {
        accepted += slots[i].status == 202;
        gone += slots[i].status == 404;
    }
    CHECK_INT(accepted, 3);
    CHECK_INT(gone, RACE_REPORTERS - 3);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM review_reports WHERE review_id = ?", db_text(id)), 3);
    CHECK_STR(review_status(id), "hidden");
    /* the stats moved once: exactly the other review is left */
    CHECK_STATS(tool, 1, 3);
}

static void *race_tool_report(void *arg)
{
    race_slot *slot = arg;
    char path[160];
    snprintf(path, sizeof path, "/tools/%s/reports", slot->review);
    slot->status = http_status_free(send("POST", slot->user, path, "{\"reason\": \"broken\"}"));
    return NULL;
}

/* One user reporting one tool from several connections at once: the unique key lets one report in. */
static void test_parallel_tool_reports(void)
{
    http_user dev, u;
    char tool[FIXTURE_ID_SIZE];
    free_tool(&dev, tool, NULL);
    fixture_user(&u);
    race_slot slots[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        slots[i] = (race_slot){.user = &u, .review = tool};
    for (int i = 0; i < 4; i++)
        pthread_create(&threads[i], NULL, race_tool_report, &slots[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    int accepted = 0, conflicts = 0;
    for (int i = 0; i < 4; i++) {
        accepted += slots[i].status == 202;
        conflicts += slots[i].status == 409;
    }
    CHECK_INT(accepted, 1);
    CHECK_INT(conflicts, 3);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM tool_reports WHERE tool_id = ?", db_text(tool)), 1);
}

/* ---- moderators' decisions on reviews -------------------------------------------------------- */

/* The newest audit entry of target ("review:12") read as admin; a new reference, NULL when none. */
static json_t *last_audit(const char *target)
{
    char path[128];
    snprintf(path, sizeof path, "/moderation/audit?target=%s&per_page=1", target);
    http_response *res = send("GET", &admin, path, NULL);
    EXPECT_STATUS(res, 200);
    json_t *item = json_incref(json_array_get(json_object_get(res->json, "items"), 0));
    http_response_free(res);
    return item;
}

static void check_audit_at(const char *target, const char *action, const char *before, const char *after, int line)
{
    json_t *e = last_audit(target);
    const char *got_action = json_string_value(json_object_get(e, "action"));
    const char *got_before = json_string_value(json_object_get(json_object_get(e, "before"), "status"));
    const char *got_after = json_string_value(json_object_get(json_object_get(e, "after"), "status"));
    const char *actor = json_string_value(json_object_get(e, "actor_id"));
    if (!e || !got_action || strcmp(got_action, action) != 0 || !got_before || strcmp(got_before, before) != 0 ||
        !got_after || strcmp(got_after, after) != 0 || !actor || strcmp(actor, moderator.id) != 0 ||
        strcmp(json_string_value(json_object_get(e, "note")), "checked by hand") != 0) {
        fprintf(stderr, "  line %d: audit of %s: %s %s -> %s (want %s %s -> %s)\n", line, target,
                got_action ? got_action : "(none)", got_before ? got_before : "?", got_after ? got_after : "?",
                action, before, after);
        check_failures++;
    }
    json_decref(e);
}
#define CHECK_AUDIT(target, action, before, after) check_audit_at((target), (action), (before), (after), __LINE__)

static void test_review_actions(void)
{
    hidden_review h;
    hide_by_reports(&h);
    char target[48], path[96];
    snprintf(target, sizeof target, "review:%s", h.id);
    CHECK_STATS(h.tool, 1, 2);
    CHECK_INT(audit_rows("review", h.id), 0);

    /* approve: visible again, its reports closed (out of the queue), the stats back exactly */
    http_response *res = act(&moderator, "reviews", h.id, "approve");
    EXPECT_STATUS(res, 200);
    CHECK_STR(http_json_string(res, "action"), "review.approve");
    CHECK_STR(http_json_string(res, "target"), target);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(res->json, "before"), "open_reports")), 3);
    http_response_free(res);
    CHECK_STR(review_status(h.id), "visible");
    CHECK(listed(h.tool, h.id));
    CHECK_STATS(h.tool, 2, 7);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM review_reports WHERE review_id = ? AND status = 'open'",
                              db_text(h.id)),
              0);
    json_t *entry = queued("reviews", h.id);
    CHECK(entry == NULL);
    json_decref(entry);
    CHECK_AUDIT(target, "review.approve", "hidden", "visible");
    /* the same reporters cannot hide it again: one report per user per review */
    EXPECT_STATUS_FREE(report_review(&h.reporters[0], h.id, "spam"), 409);

    /* hide, twice: the stats leave once */
    EXPECT_STATUS_FREE(act(&moderator, "reviews", h.id, "hide"), 200);
    CHECK_STR(review_status(h.id), "hidden");
    CHECK_STATS(h.tool, 1, 2);
    CHECK_AUDIT(target, "review.hide", "visible", "hidden");
    EXPECT_STATUS_FREE(act(&moderator, "reviews", h.id, "hide"), 200);
    CHECK_STATS(h.tool, 1, 2);
    CHECK_AUDIT(target, "review.hide", "hidden", "hidden");

    /* remove from hidden: the stats had left already */
    EXPECT_STATUS_FREE(act(&moderator, "reviews", h.id, "remove"), 200);
    CHECK_STR(review_status(h.id), "removed");
    CHECK_STATS(h.tool, 1, 2);
    CHECK_AUDIT(target, "review.remove", "hidden", "removed");
    CHECK_INT(audit_rows("review", h.id), 4);
    /* removed for good: the author cannot bring it back, moderators cannot act on it again */
    snprintf(path, sizeof path, "/reviews/%s", h.id);
    EXPECT_STATUS_FREE(send("PATCH", &h.author, path, "{\"rating\": 1, \"title\": \"Back\"}"), 404);
    EXPECT_STATUS_FREE(send("DELETE", &h.author, path, NULL), 404);
    EXPECT_STATUS_FREE(act(&moderator, "reviews", h.id, "approve"), 404);
    CHECK_STR(review_status(h.id), "removed");
    CHECK_STATS(h.tool, 1, 2);
    CHECK_INT(audit_rows("review", h.id), 4);

    /* remove straight from visible: the stats leave */
    EXPECT_STATUS_FREE(act(&admin, "reviews", h.other_id, "remove"), 200);
    CHECK_STATS(h.tool, 0, 0);
    CHECK(!listed(h.tool, h.other_id));
}

/* ---- tools: reports, delist, restore ---------------------------------------------------------- */

static http_response *report_tool(const http_user *u, const char *tool, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/tools/%s/reports", tool);
    return send("POST", u, path, body);
}

static long get_tool(const http_user *u, const char *tool)
{
    char path[160];
    snprintf(path, sizeof path, "/tools/%s", tool);
    return http_status_free(http_get(path, u ? u->token : NULL));
}

static void test_tool_actions(void)
{
    http_user dev, buyer, a, b, stranger;
    char tool[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], target[48], txn[FIXTURE_ID_SIZE];
    fixture_developer(&dev, "Moderated Shop");
    fixture_adder_tool(&dev, "one_time", 500, 0, tool, slug);
    snprintf(target, sizeof target, "tool:%s", tool);
    fixture_user(&buyer);
    fixture_user(&a);
    fixture_user(&b);
    fixture_user(&stranger);
    CHECK(fixture_buy(&buyer, tool, 500, txn) == 0);

    http_response *res = report_tool(&a, slug, "{\"reason\": \"malware\", \"detail\": \"It phones home.\"}");
    EXPECT_STATUS(res, 202);
    CHECK_STR(http_json_string(res, "tool_id"), tool);
    CHECK_STR(http_json_string(res, "reason"), "malware");
    CHECK_STR(http_json_string(res, "status"), "open");
    http_response_free(res);
    EXPECT_STATUS_FREE(report_tool(&a, tool, "{\"reason\": \"broken\"}"), 409);
    EXPECT_STATUS_FREE(report_tool(&b, tool, "{\"reason\": \"broken\"}"), 202);
    EXPECT_STATUS_FREE(report_tool(&dev, tool, "{\"reason\": \"spam\"}"), 403);
    json_t *entry = queued("tools", tool);
    CHECK(entry != NULL);
    CHECK_INT(json_integer_value(json_object_get(entry, "open_reports")), 2);
    json_t *reasons = json_object_get(entry, "reasons");
    CHECK_INT(json_integer_value(json_object_get(reasons, "malware")), 1);
    CHECK_INT(json_integer_value(json_object_get(reasons, "broken")), 1);
    CHECK_INT(json_integer_value(json_object_get(reasons, "spam")), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(entry, "tool"), "slug")), slug);
    json_decref(entry);

    /* delist: gone for strangers, kept by the buyer, reports closed and out of the queue */
    res = act(&moderator, "tools", slug, "delist");
    EXPECT_STATUS(res, 200);
    CHECK_STR(http_json_string(res, "target"), target);
    CHECK_STR(json_string_value(json_object_get(json_object_get(res->json, "after"), "status")), "delisted");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(res->json, "before"), "open_reports")), 2);
    http_response_free(res);
    CHECK_STR(fixture_sql_text("SELECT status FROM tools WHERE id = ?", db_text(tool)), "delisted");
    CHECK_INT(get_tool(&stranger, tool), 404);
    CHECK_INT(get_tool(NULL, tool), 404);
    CHECK_INT(get_tool(&buyer, tool), 200);
    char path[160];
    snprintf(path, sizeof path, "/tools/%s/execute", tool);
    EXPECT_STATUS_FREE(send("POST", &buyer, path, "{\"input\": {\"a\": 2, \"b\": 3}}"), 200);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM tool_reports WHERE tool_id = ? AND status = 'open'", db_text(tool)),
              0);
    entry = queued("tools", tool);
    CHECK(entry == NULL);
    json_decref(entry);
    CHECK_AUDIT(target, "tool.delist", "published", "delisted");
    /* a stranger cannot report what they cannot see */
    EXPECT_STATUS_FREE(report_tool(&stranger, tool, "{\"reason\": \"spam\"}"), 404);
    /* a closed report does not block a new one: the buyer still sees it, and a first reporter may come back */
    EXPECT_STATUS_FREE(report_tool(&buyer, tool, "{\"reason\": \"other\"}"), 202);

    /* restore: public again; its open reports close */
    EXPECT_STATUS_FREE(act(&moderator, "tools", tool, "restore"), 200);
    CHECK_INT(get_tool(NULL, tool), 200);
    CHECK_AUDIT(target, "tool.restore", "delisted", "published");
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM tool_reports WHERE tool_id = ? AND status = 'open'", db_text(tool)),
              0);
    EXPECT_STATUS_FREE(report_tool(&a, tool, "{\"reason\": \"misleading\"}"), 202);
    CHECK_INT(audit_rows("tool", tool), 2);

    /* a tool that never had a published version cannot be restored; a draft is not the moderators' */
    http_user dev2;
    char draft[FIXTURE_ID_SIZE];
    fixture_developer(&dev2, "Draft Shop");
    fixture_create_tool(&dev2, fixture_adder_draft(fixture_slug("mod-draft")), draft);
    EXPECT_STATUS_FREE(act(&moderator, "tools", draft, "delist"), 404);
    snprintf(path, sizeof path, "/tools/%s", draft);
    EXPECT_STATUS_FREE(send("DELETE", &dev2, path, NULL), 204);
    EXPECT_STATUS_FREE(act(&moderator, "tools", draft, "restore"), 409);
    CHECK_STR(fixture_sql_text("SELECT status FROM tools WHERE id = ?", db_text(draft)), "delisted");
    CHECK_INT(audit_rows("tool", draft), 0);
    FIXTURE_CHECK_MONEY();
}

/* ---- the queue's flagged transactions ----------------------------------------------------------- */

static void test_queue_flagged_transaction(void)
{
    fixture_sale sale;
    if (fixture_sell_pending(&sale, "Flag Shop", "one_time", 900, 0) < 0)
        return;
    /* the provider says it was paid a different amount: refused and flagged for a human */
    http_response *res = provider_payment_succeeded(NULL, sale.txn, 901, "USD");
    CHECK_INT(res->status, 422);
    http_response_free(res);
    json_t *entry = queued("transactions", sale.txn);
    CHECK(entry != NULL);
    CHECK(json_is_true(json_object_get(entry, "flagged_for_review")));
    CHECK_STR(json_string_value(json_object_get(entry, "status")), "pending");
    json_decref(entry);
    FIXTURE_CHECK_MONEY();
}

/* ---- the audit log ---------------------------------------------------------------------------- */

static void test_audit_log(void)
{
    hidden_review h;
    hide_by_reports(&h);
    EXPECT_STATUS_FREE(act(&moderator, "reviews", h.id, "approve"), 200);
    EXPECT_STATUS_FREE(act(&moderator, "reviews", h.id, "hide"), 200);
    char path[160], target[48];
    snprintf(target, sizeof target, "review:%s", h.id);

    /* newest first, filtered by target and by actor, paged */
    snprintf(path, sizeof path, "/moderation/audit?target=%s", target);
    http_response *res = send("GET", &admin, path, NULL);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 2);
    json_t *items = json_object_get(res->json, "items");
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 0), "action")), "review.hide");
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 1), "action")), "review.approve");
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 1), "target_type")), "review");
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 1), "target_id")), h.id);
    CHECK(json_is_string(json_object_get(json_array_get(items, 1), "created_at")));
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_array_get(items, 1), "before"), "rating")), 5);
    http_response_free(res);
    snprintf(path, sizeof path, "/moderation/audit?target=%s&actor=%s&page=2&per_page=1", target, moderator.id);
    res = send("GET", &admin, path, NULL);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(res->json, "items"), 0), "action")),
              "review.approve");
    http_response_free(res);
    snprintf(path, sizeof path, "/moderation/audit?target=%s&actor=%s", target, admin.id);
    res = send("GET", &admin, path, NULL);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 0);
    http_response_free(res);

    /* admin only */
    EXPECT_STATUS_FREE(send("GET", &moderator, "/moderation/audit", NULL), 403);
    EXPECT_STATUS_FREE(send("GET", &h.author, "/moderation/audit", NULL), 403);
    EXPECT_STATUS_FREE(send("GET", NULL, "/moderation/audit", NULL), 401);
    /* malformed filters name themselves */
    static const char *const bad[][2] = {
        {"/moderation/audit?target=review", "target"},     {"/moderation/audit?target=user:1", "target"},
        {"/moderation/audit?target=review:abc", "target"}, {"/moderation/audit?target=tool:01", "target"},
        {"/moderation/audit?actor=x", "actor"},            {"/moderation/audit?actor=-1", "actor"},
        {"/moderation/audit?per_page=0", "per_page"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        res = send("GET", &admin, bad[i][0], NULL);
        EXPECT_STATUS(res, 400);
        if (!http_problem_has_field(res, bad[i][1])) {
            fprintf(stderr, "  %s: no field %s\n", bad[i][0], bad[i][1]);
            check_failures++;
        }
        http_response_free(res);
    }

    /* append-only in the database itself: UPDATE and DELETE fail and change nothing */
    mkt_error err = {0};
    CHECK(db_exec(fixture_db(), "UPDATE moderation_audit SET note = 'rewritten' WHERE target_type = 'review' AND target_id = ?",
                  DB_PARAMS(db_text(h.id)), NULL, &err) < 0);
    error_clear(&err);
    CHECK(db_exec(fixture_db(), "DELETE FROM moderation_audit WHERE target_type = 'review' AND target_id = ?",
                  DB_PARAMS(db_text(h.id)), NULL, &err) < 0);
    error_clear(&err);
    CHECK_INT(audit_rows("review", h.id), 2);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM moderation_audit WHERE note = 'rewritten' AND target_id = ?",
                              db_text(h.id)),
              0);
}

/* ---- who may call what -------------------------------------------------------------------------- */

static void test_access(void)
{
    hidden_review h;
    hide_by_reports(&h);
    http_user dev = h.dev;
    /* signed-in users without the role: 403; anonymous: 401; nothing changes */
    EXPECT_STATUS_FREE(send("GET", &h.author, "/moderation/queue", NULL), 403);
    EXPECT_STATUS_FREE(send("GET", &dev, "/moderation/queue", NULL), 403);
    EXPECT_STATUS_FREE(send("GET", NULL, "/moderation/queue", NULL), 401);
    EXPECT_STATUS_FREE(act(&h.other, "reviews", h.id, "approve"), 403);
    EXPECT_STATUS_FREE(act(NULL, "reviews", h.id, "approve"), 401);
    EXPECT_STATUS_FREE(act(&dev, "tools", h.tool, "delist"), 403);
    EXPECT_STATUS_FREE(act(NULL, "tools", h.tool, "delist"), 401);
    EXPECT_STATUS_FREE(report_review(NULL, h.other_id, "spam"), 401);
    EXPECT_STATUS_FREE(report_tool(NULL, h.tool, "{\"reason\": \"spam\"}"), 401);
    CHECK_STR(review_status(h.id), "hidden");
    CHECK_STR(fixture_sql_text("SELECT status FROM tools WHERE id = ?", db_text(h.tool)), "published");
    CHECK_INT(audit_rows("review", h.id), 0);
    /* admins pass the moderators' routes */
    EXPECT_STATUS_FREE(send("GET", &admin, "/moderation/queue", NULL), 200);
    EXPECT_STATUS_FREE(act(&admin, "reviews", h.id, "approve"), 200);
    CHECK_STR(review_status(h.id), "visible");
    /* unknown ids: 404 */
    EXPECT_STATUS_FREE(act(&moderator, "reviews", "999999999999", "approve"), 404);
    EXPECT_STATUS_FREE(act(&moderator, "tools", "999999999999", "delist"), 404);
    EXPECT_STATUS_FREE(act(&moderator, "tools", "no-such-tool-here", "delist"), 404);
    EXPECT_STATUS_FREE(report_review(&h.other, "999999999999", "spam"), 404);
    EXPECT_STATUS_FREE(report_tool(&h.other, "999999999999", "{\"reason\": \"spam\"}"), 404);
}

/* ---- bad input ------------------------------------------------------------------------------- */

typedef struct {
    const char *body, *field;
} bad_body;

/* Each body to path as u: 422 naming field, and the counted rows (sql on param) unchanged. */
static void check_bad_bodies(const http_user *u, const char *path, const bad_body *bad, size_t n, const char *sql,
                             const char *param)
{
    int64_t before = fixture_sql_int(sql, db_text(param));
    for (size_t i = 0; i < n; i++) {
        http_response *res = send("POST", u, path, bad[i].body);
        if (res->status != 422 || !http_is_problem(res, 422) ||
            (bad[i].field && !http_problem_has_field(res, bad[i].field))) {
            fprintf(stderr, "  %s %s: want 422 naming %s\n", path, bad[i].body, bad[i].field ? bad[i].field : "-");
            http_dump("bad body", res);
            check_failures++;
        }
        http_response_free(res);
    }
    CHECK_INT(fixture_sql_int(sql, db_text(param)), before);
}

static void test_bad_input(void)
{
    hidden_review h;
    hide_by_reports(&h);
    char *long_text = check_repeat("x", 1001);
    char too_long_detail[1100], too_long_note[1100];
    snprintf(too_long_detail, sizeof too_long_detail, "{\"reason\": \"spam\", \"detail\": \"%s\"}", long_text);
    snprintf(too_long_note, sizeof too_long_note, "{\"action\": \"hide\", \"note\": \"%s\"}", long_text);
    free(long_text);
    const bad_body reports[] = {
        {"[]", ""},
        {"{}", "reason"},
        {"{\"reason\": 3}", "reason"},
        {"{\"reason\": \"boring\"}", "reason"},
        {"{\"reason\": \"malware\"}", "reason"}, /* a tool's reason, not a review's */
        {"{\"reason\": \"spam\", \"detail\": \"\"}", "detail"},
        {"{\"reason\": \"spam\", \"detail\": 5}", "detail"},
        {"{\"reason\": \"spam\", \"detail\": \"bell\\u0007\"}", "detail"},
        {too_long_detail, "detail"},
        {"{\"reason\": \"spam\", \"severity\": 3}", "severity"},
    };
    http_user u;
    aged_user(&u);
    char path[160];
    snprintf(path, sizeof path, "/reviews/%s/reports", h.other_id);
    check_bad_bodies(&u, path, reports, sizeof reports / sizeof reports[0],
                     "SELECT COUNT(*) FROM review_reports WHERE review_id = ?", h.other_id);
    const bad_body tool_reports[] = {
        {"{}", "reason"},
        {"{\"reason\": \"fake\"}", "reason"},
        {"{\"reason\": null}", "reason"},
        {"{\"reason\": \"spam\", \"detail\": \"\"}", "detail"},
        {"{\"reason\": \"spam\", \"extra\": true}", "extra"},
    };
    snprintf(path, sizeof path, "/tools/%s/reports", h.tool);
    check_bad_bodies(&u, path, tool_reports, sizeof tool_reports / sizeof tool_reports[0],
                     "SELECT COUNT(*) FROM tool_reports WHERE tool_id = ?", h.tool);
    const bad_body review_actions[] = {
        {"[\"hide\"]", ""},
        {"{\"note\": \"why\"}", "action"},
        {"{\"action\": \"delist\", \"note\": \"why\"}", "action"},
        {"{\"action\": \"HIDE\", \"note\": \"why\"}", "action"},
        {"{\"action\": 1, \"note\": \"why\"}", "action"},
        {"{\"action\": \"approve\"}", "note"},
        {"{\"action\": \"approve\", \"note\": \"\"}", "note"},
        {"{\"action\": \"approve\", \"note\": [\"why\"]}", "note"},
        {too_long_note, "note"},
        {"{\"action\": \"approve\", \"note\": \"why\", \"force\": true}", "force"},
    };
    snprintf(path, sizeof path, "/moderation/reviews/%s", h.id);
    check_bad_bodies(&moderator, path, review_actions, sizeof review_actions / sizeof review_actions[0],
                     "SELECT COUNT(*) FROM moderation_audit WHERE target_type = 'review' AND target_id = ?", h.id);
    CHECK_STR(review_status(h.id), "hidden");
    CHECK_STATS(h.tool, 1, 2);
    const bad_body tool_actions[] = {
        {"{\"action\": \"remove\", \"note\": \"why\"}", "action"},
        {"{\"action\": \"delist\"}", "note"},
        {"{\"action\": \"delist\", \"note\": 7}", "note"},
        {"{\"action\": \"delist\", \"note\": \"why\", \"until\": \"never\"}", "until"},
    };
    snprintf(path, sizeof path, "/moderation/tools/%s", h.tool);
    check_bad_bodies(&moderator, path, tool_actions, sizeof tool_actions / sizeof tool_actions[0],
                     "SELECT COUNT(*) FROM moderation_audit WHERE target_type = 'tool' AND target_id = ?", h.tool);
    CHECK_STR(fixture_sql_text("SELECT status FROM tools WHERE id = ?", db_text(h.tool)), "published");
}

/* No one decides on their own work: a moderator's own review, a review of a moderator's own tool and
 * the moderator's own tool are 403 to that moderator (and change nothing), while an admin may act. */
static void test_not_on_own_work(void)
{
    http_user dev_mod, dev, stranger;
    char own_tool[FIXTURE_ID_SIZE], tool[FIXTURE_ID_SIZE], on_own[FIXTURE_ID_SIZE], mine[FIXTURE_ID_SIZE];
    fixture_staff(&dev_mod, "moderator");
    EXPECT_STATUS_FREE(send("POST", &dev_mod, "/developers", "{\"display_name\": \"Moderating Shop\"}"), 201);
    fixture_adder_tool(&dev_mod, "free", 0, 0, own_tool, NULL);
    review(own_tool, 1, &stranger, on_own);
    free_tool(&dev, tool, NULL);
    json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", tool, "rating", 5, "title", "Mine", "content", "My own.");
    http_response *res = http_post_json("/reviews", dev_mod.token, body);
    json_decref(body);
    EXPECT_STATUS(res, 201);
    snprintf(mine, sizeof mine, "%s", http_json_string(res, "id") ? http_json_string(res, "id") : "0");
    http_response_free(res);

    EXPECT_STATUS_FREE(act(&dev_mod, "reviews", on_own, "remove"), 403);
    EXPECT_STATUS_FREE(act(&dev_mod, "reviews", mine, "hide"), 403);
    EXPECT_STATUS_FREE(act(&dev_mod, "tools", own_tool, "delist"), 403);
    CHECK_STR(fixture_sql_text("SELECT status FROM reviews WHERE id = ?", db_text(on_own)), "visible");
    CHECK_STR(fixture_sql_text("SELECT status FROM reviews WHERE id = ?", db_text(mine)), "visible");
    CHECK_STR(fixture_sql_text("SELECT status FROM tools WHERE id = ?", db_text(own_tool)), "published");
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM moderation_audit WHERE actor_user_id = ?", db_text(dev_mod.id)), 0);

    /* another moderator, or an admin, decides */
    EXPECT_STATUS_FREE(act(&moderator, "reviews", mine, "hide"), 200);
    EXPECT_STATUS_FREE(act(&admin, "tools", own_tool, "delist"), 200);
}

/* A hidden review waits for a moderator: its author cannot delete it (which would drop its reports and
 * free the one-review slot for the same text again); after an approve they can. */
static void test_hidden_not_deleted(void)
{
    http_user dev, author;
    char tool[FIXTURE_ID_SIZE], id[FIXTURE_ID_SIZE], path[96];
    free_tool(&dev, tool, NULL);
    review(tool, 1, &author, id);
    EXPECT_STATUS_FREE(act(&moderator, "reviews", id, "hide"), 200);
    snprintf(path, sizeof path, "/reviews/%s", id);
    EXPECT_STATUS_FREE(send("DELETE", &author, path, NULL), 409);
    CHECK_STR(fixture_sql_text("SELECT status FROM reviews WHERE id = ?", db_text(id)), "hidden");
    json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", tool, "rating", 1, "title", "Again", "content", "Again.");
    http_response *res = http_post_json("/reviews", author.token, body);
    json_decref(body);
    EXPECT_STATUS(res, 409);
    http_response_free(res);
    EXPECT_STATUS_FREE(act(&moderator, "reviews", id, "approve"), 200);
    EXPECT_STATUS_FREE(send("DELETE", &author, path, NULL), 204);
}

int main(void)
{
    fixture_staff(&moderator, "moderator");
    fixture_staff(&admin, "admin");
    RUN(test_auto_hide);
    RUN(test_young_accounts);
    RUN(test_parallel_reporters);
    RUN(test_parallel_tool_reports);
    RUN(test_review_actions);
    RUN(test_tool_actions);
    RUN(test_queue_flagged_transaction);
    RUN(test_audit_log);
    RUN(test_access);
    RUN(test_bad_input);
    RUN(test_not_on_own_work);
    RUN(test_hidden_not_deleted);
    fixture_close();
    return check_finish();
}

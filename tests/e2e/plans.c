/* Plans and quotas end to end, through nginx to every worker: a tool's pricing is its default plan;
 * owners edit plans (bad lists are 422 naming the field); checkout with a plan records its terms on the
 * transaction, the receipt and the access, and edits do not touch them; moving to another plan ends
 * the old access; quotas are exact under parallel load (quota 100, 300 attempts at once: exactly 100
 * succeed) with 402 quota-exceeded naming the period end and the plans that allow more; GET /me/usage
 * and the developer's analytics per plan show the counts. The ledger invariants hold afterwards. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/jws.h"
#include "sql/db.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/provider.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

static http_response *put_plans(const http_user *u, const char *tool, const char *text)
{
    char path[96];
    snprintf(path, sizeof path, "/tools/%s/plans", tool);
    return http_request("PUT", path, u->token, "application/json", text, strlen(text), NULL);
}

static http_response *get_plans(const char *tool)
{
    char path[96];
    snprintf(path, sizeof path, "/tools/%s/plans", tool);
    return http_get(path, NULL);
}

/* The id of the plan named name in a plans answer, into out (32). */
static int plan_id_named(const http_response *res, const char *name, char *out)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(res->json, "plans"), i, p)
        if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0) {
            snprintf(out, 32, "%s", json_string_value(json_object_get(p, "id")));
            return 0;
        }
    out[0] = '\0';
    return -1;
}

static long execute_status(const http_user *u, const char *tool)
{
    char path[96];
    snprintf(path, sizeof path, "/tools/%s/execute", tool);
    return http_status_free(http_post_text(path, u->token, "{\"input\": {\"a\": 2, \"b\": 3}}"));
}

static http_response *checkout_plan(const http_user *buyer, const char *tool, const char *plan)
{
    char key[96], header[140], body[160];
    fixture_idempotency_key(key, sizeof key);
    snprintf(header, sizeof header, "Idempotency-Key: %s", key);
    const char *headers[] = {header, NULL};
    if (plan)
        snprintf(body, sizeof body, "{\"tool_id\": \"%s\", \"plan_id\": \"%s\"}", tool, plan);
    else
        snprintf(body, sizeof body, "{\"tool_id\": \"%s\"}", tool);
    return http_request("POST", "/transactions", buyer->token, NULL, body, strlen(body), headers);
}

/* Checkout of plan and the provider's payment.succeeded; the transaction id into txn (32). */
static int buy_plan(const http_user *buyer, const char *tool, const char *plan, int64_t cents, char *txn)
{
    http_response *res = checkout_plan(buyer, tool, plan);
    EXPECT_STATUS(res, 201);
    snprintf(txn, 32, "%s", res->status == 201 ? http_json_string(res, "id") : "");
    if (res->status == 201 && plan)
        CHECK_STR(http_json_string(res, "plan_id"), plan);
    http_response_free(res);
    if (!txn[0])
        return -1;
    return http_status_free(provider_payment_succeeded(NULL, txn, cents, "USD")) == 200 ? 0 : -1;
}

/* The caller's usage item of tool (GET /me/usage?tool=), or NULL; free with json_decref. */
static json_t *usage_of(const http_user *u, const char *tool)
{
    char path[96];
    snprintf(path, sizeof path, "/me/usage?tool=%s", tool);
    http_response *res = http_get(path, u->token);
    EXPECT_STATUS(res, 200);
    json_t *item = res->status == 200 ? json_array_get(json_object_get(res->json, "items"), 0) : NULL;
    json_incref(item);
    http_response_free(res);
    return item;
}

/* used of the usage item, waiting up to 5 s for the workers' write-back to reach want. */
static int64_t usage_used_eventually(const http_user *u, const char *tool, int64_t want)
{
    int64_t used = -1;
    for (int i = 0; i < 50 && used != want; i++) {
        if (i)
            usleep(100000);
        json_t *item = usage_of(u, tool);
        used = item ? json_integer_value(json_object_get(item, "used")) : -1;
        json_decref(item);
    }
    return used;
}

/* ---- tests -------------------------------------------------------------------------------------- */

/* An existing tool's pricing is its default plan; checkout without plan_id buys it, as before. */
static void test_default_plan_from_pricing(void)
{
    http_user dev, buyer;
    char tool[FIXTURE_ID_SIZE], txn[32], plan[32];
    fixture_developer(&dev, "Plan Shop");
    fixture_user(&buyer);
    fixture_adder_tool(&dev, "one_time", 500, 0, tool, NULL);
    http_response *res = get_plans(tool);
    EXPECT_STATUS(res, 200);
    json_t *plans = json_object_get(res->json, "plans");
    CHECK_INT(json_array_size(plans), 1);
    json_t *p = json_array_get(plans, 0);
    CHECK_STR(json_string_value(json_object_get(p, "model")), "one_time");
    CHECK_INT(json_integer_value(json_object_get(p, "price_cents")), 500);
    CHECK(json_is_true(json_object_get(p, "default")));
    CHECK(json_object_get(p, "quota") == NULL);
    plan_id_named(res, "Standard", plan);
    CHECK(plan[0] != '\0');
    http_response_free(res);
    CHECK_INT(buy_plan(&buyer, tool, NULL, 500, txn), 0);
    CHECK_INT(execute_status(&buyer, tool), 200);
    /* a plan without a quota counts the buyer's executions too */
    CHECK_INT(usage_used_eventually(&buyer, tool, 1), 1);
    json_t *item = usage_of(&buyer, tool);
    CHECK(json_is_null(json_object_get(item, "quota")));
    CHECK_STR(json_string_value(json_object_get(json_object_get(item, "plan"), "id")), plan);
    json_decref(item);
    /* buying the plan held for good again is refused as before */
    EXPECT_STATUS_FREE(checkout_plan(&buyer, tool, NULL), 409);
    /* a draft pricing edit moves the default plan with it */
    static const char patch[] = "{\"pricing\": {\"model\": \"one_time\", \"price_cents\": 700, \"currency\": \"USD\"}}";
    char tool_path[64];
    snprintf(tool_path, sizeof tool_path, "/tools/%s", tool);
    EXPECT_STATUS_FREE(http_request("PATCH", tool_path, dev.token, "application/json", patch, strlen(patch), NULL), 200);
    res = get_plans(tool);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(res->json, "plans"), 0), "price_cents")),
              700);
    http_response_free(res);
    fixture_check_money_at(__LINE__);
}

static void expect_plans_refused(const http_user *dev, const char *tool, const char *text, const char *field)
{
    http_response *res = put_plans(dev, tool, text);
    EXPECT_STATUS(res, 422);
    if (!http_problem_has_field(res, field)) {
        fprintf(stderr, "  expected field %s for %s\n", field, text);
        http_dump("got", res);
        check_failures++;
    }
    http_response_free(res);
}

static void test_plan_rules(void)
{
    http_user dev, other;
    char tool[FIXTURE_ID_SIZE];
    fixture_developer(&dev, "Rule Shop");
    fixture_developer(&other, "Other Shop");
    fixture_adder_tool(&dev, "free", 0, 0, tool, NULL);
    expect_plans_refused(&dev, tool, "[]", "plans");
    expect_plans_refused(&dev, tool, "{\"name\": \"x\"}", "plans");
    expect_plans_refused(&dev, tool,
                         "[{\"name\":\"a\",\"model\":\"free\"},{\"name\":\"b\",\"model\":\"free\"},"
                         "{\"name\":\"c\",\"model\":\"free\"},{\"name\":\"d\",\"model\":\"free\"},"
                         "{\"name\":\"e\",\"model\":\"free\"},{\"name\":\"f\",\"model\":\"free\"}]",
                         "plans");
    expect_plans_refused(&dev, tool, "[{\"name\":\"Pro\",\"model\":\"one_time\",\"price_cents\":-5,\"currency\":\"USD\"}]",
                         "plans[0].price_cents");
    expect_plans_refused(&dev, tool, "[{\"name\":\"Free\",\"model\":\"free\",\"quota\":0}]", "plans[0].quota");
    expect_plans_refused(&dev, tool, "[{\"name\":\"Free\",\"model\":\"free\",\"price_cents\":100}]",
                         "plans[0].price_cents");
    expect_plans_refused(&dev, tool,
                         "[{\"name\":\"Free\",\"model\":\"free\"},"
                         "{\"name\":\"Once\",\"model\":\"one_time\",\"price_cents\":100,\"currency\":\"USD\","
                         "\"period_days\":30}]",
                         "plans[1].period_days");
    expect_plans_refused(&dev, tool, "[{\"model\":\"free\"}]", "plans[0].name");
    expect_plans_refused(&dev, tool, "[{\"name\":\"Free\",\"model\":\"free\",\"rate_per_minute\":0}]",
                         "plans[0].rate_per_minute");
    expect_plans_refused(&dev, tool, "[{\"id\":\"999999999\",\"name\":\"Free\",\"model\":\"free\"}]", "plans[0].id");
    expect_plans_refused(&dev, tool, "[{\"name\":\"Free\",\"model\":\"gratis\"}]", "plans[0].model");
    /* only the owner */
    EXPECT_STATUS_FREE(put_plans(&other, tool, "[{\"name\":\"Free\",\"model\":\"free\"}]"), 403);
    expect_plans_refused(&dev, tool,
                         "[{\"name\":\"A\",\"model\":\"free\",\"default\":true},"
                         "{\"name\":\"B\",\"model\":\"free\",\"default\":true}]",
                         "plans");
    /* nothing changed: still the one default plan */
    http_response *res = get_plans(tool);
    CHECK_INT(json_array_size(json_object_get(res->json, "plans")), 1);
    http_response_free(res);
    /* the plan marked default leads the list and becomes the tool's pricing */
    res = put_plans(&dev, tool,
                    "[{\"name\":\"Free\",\"model\":\"free\",\"quota\":10},"
                    "{\"name\":\"Pro\",\"model\":\"one_time\",\"price_cents\":300,\"currency\":\"EUR\","
                    "\"default\":true}]");
    EXPECT_STATUS(res, 200);
    json_t *first = json_array_get(json_object_get(res->json, "plans"), 0);
    CHECK_STR(json_string_value(json_object_get(first, "name")), "Pro");
    CHECK(json_is_true(json_object_get(first, "default")));
    http_response_free(res);
    char path[64];
    snprintf(path, sizeof path, "/tools/%s", tool);
    res = http_get(path, NULL);
    json_t *pricing = json_object_get(res->json, "pricing");
    CHECK_STR(json_string_value(json_object_get(pricing, "model")), "one_time");
    CHECK_INT(json_integer_value(json_object_get(pricing, "price_cents")), 300);
    CHECK_STR(json_string_value(json_object_get(pricing, "currency")), "EUR");
    http_response_free(res);
}

/* Free with a quota, Pro with more, Team a subscription: the free quota ends in 402 naming the period
 * end and the plans that allow more; buying Pro records its terms; an edit after does not change them. */
static void test_plans_checkout_and_quota(void)
{
    http_user dev, buyer;
    char tool[FIXTURE_ID_SIZE], free_id[32], pro[32], team[32], txn[32];
    fixture_developer(&dev, "Tier Shop");
    fixture_user(&buyer);
    fixture_adder_tool(&dev, "free", 0, 0, tool, NULL);
    http_response *res = put_plans(&dev, tool,
                                   "[{\"name\":\"Free\",\"model\":\"free\",\"quota\":3},"
                                   "{\"name\":\"Pro\",\"model\":\"one_time\",\"price_cents\":900,\"currency\":\"USD\","
                                   "\"quota\":1000,\"rate_per_minute\":60},"
                                   "{\"name\":\"Team\",\"model\":\"subscription\",\"price_cents\":2000,"
                                   "\"currency\":\"USD\",\"period_days\":30}]");
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_array_size(json_object_get(res->json, "plans")), 3);
    plan_id_named(res, "Free", free_id);
    plan_id_named(res, "Pro", pro);
    plan_id_named(res, "Team", team);
    http_response_free(res);

    for (int i = 0; i < 3; i++)
        CHECK_INT(execute_status(&buyer, tool), 200);
    char path[96];
    snprintf(path, sizeof path, "/tools/%s/execute", tool);
    res = http_post_text(path, buyer.token, "{\"input\": {\"a\": 1, \"b\": 1}}");
    EXPECT_STATUS(res, 402);
    CHECK_STR(http_json_string(res, "type"), "urn:marketplace:problem:quota-exceeded");
    CHECK(http_json_string(res, "period_end") != NULL);
    CHECK_INT(json_integer_value(json_object_get(res->json, "quota")), 3);
    json_t *more = json_object_get(res->json, "plans");
    CHECK_INT(json_array_size(more), 2); /* Pro and Team, not Free */
    http_response_free(res);
    CHECK_INT(usage_used_eventually(&buyer, tool, 3), 3);

    /* an unknown plan, and a retired one later, are 422 plan_id */
    EXPECT_STATUS_FREE(checkout_plan(&buyer, tool, "999999999"), 422);
    CHECK_INT(buy_plan(&buyer, tool, pro, 900, txn), 0);
    CHECK_INT(execute_status(&buyer, tool), 200);
    /* the receipt's claims carry the plan */
    char rpath[96];
    snprintf(rpath, sizeof rpath, "/transactions/%s/receipt", txn);
    res = http_get(rpath, buyer.token);
    json_t *claims = NULL;
    if (res->status == 200) {
        json_t *body = json_pack("{s:s}", "receipt", http_json_string(res, "receipt"));
        http_response *v = http_post_json("/receipts/verify", NULL, body);
        json_decref(body);
        claims = json_incref(json_object_get(v->json, "claims"));
        http_response_free(v);
    }
    http_response_free(res);
    json_t *cp = json_object_get(claims, "plan");
    CHECK_STR(json_string_value(json_object_get(cp, "id")), pro);
    CHECK_INT(json_integer_value(json_object_get(cp, "quota")), 1000);
    json_decref(claims);

    /* the owner cuts Pro's quota and drops Team: the buyer keeps 1000 */
    char edit[512];
    snprintf(edit, sizeof edit,
             "[{\"id\":\"%s\",\"name\":\"Free\",\"model\":\"free\",\"quota\":3},"
             "{\"id\":\"%s\",\"name\":\"Pro\",\"model\":\"one_time\",\"price_cents\":900,\"currency\":\"USD\","
             "\"quota\":5}]",
             free_id, pro);
    EXPECT_STATUS_FREE(put_plans(&dev, tool, edit), 200);
    json_t *item = usage_of(&buyer, tool);
    CHECK_STR(json_string_value(json_object_get(json_object_get(item, "plan"), "id")), pro);
    CHECK_INT(json_integer_value(json_object_get(item, "quota")), 1000);
    json_decref(item);
    EXPECT_STATUS_FREE(checkout_plan(&buyer, tool, team), 422);
    fixture_check_money_at(__LINE__);
}

/* Moving to another plan is a new purchase that ends the old access; refunding the old one after
 * the move changes nothing of the new access. */
static void test_move_plan(void)
{
    http_user dev, buyer;
    char tool[FIXTURE_ID_SIZE], std[32], sub[32], t1[32], t2[32];
    fixture_developer(&dev, "Move Shop");
    fixture_user(&buyer);
    fixture_adder_tool(&dev, "one_time", 400, 0, tool, NULL);
    http_response *res = put_plans(&dev, tool,
                                   "[{\"name\":\"Standard\",\"model\":\"one_time\",\"price_cents\":400,\"currency\":\"USD\"},"
                                   "{\"name\":\"Monthly\",\"model\":\"subscription\",\"price_cents\":100,"
                                   "\"currency\":\"USD\",\"period_days\":30,\"quota\":50}]");
    EXPECT_STATUS(res, 200);
    plan_id_named(res, "Standard", std);
    plan_id_named(res, "Monthly", sub);
    http_response_free(res);
    CHECK_INT(buy_plan(&buyer, tool, std, 400, t1), 0);
    CHECK_INT(buy_plan(&buyer, tool, sub, 100, t2), 0);
    json_t *item = usage_of(&buyer, tool);
    CHECK_STR(json_string_value(json_object_get(json_object_get(item, "plan"), "id")), sub);
    CHECK_INT(json_integer_value(json_object_get(item, "quota")), 50);
    json_decref(item);
    /* access until about now + 30 days: the one_time access for good ended */
    int64_t hours = fixture_sql_int("SELECT TIMESTAMPDIFF(HOUR, NOW(6), access_until) FROM tool_access WHERE tool_id = ?",
                                    db_int(atoll(tool)));
    CHECK(hours >= 30 * 24 - 1 && hours <= 30 * 24);
    CHECK_INT(http_status_free(provider_payment_refunded(NULL, t1, 400)), 200);
    CHECK_INT(execute_status(&buyer, tool), 200);
    /* refunding the plan held takes the access away */
    CHECK_INT(http_status_free(provider_payment_refunded(NULL, t2, 100)), 200);
    CHECK_INT(execute_status(&buyer, tool), 402);
    fixture_check_money_at(__LINE__);
}

/* ---- exact quotas under parallel load ------------------------------------------------------------ */

enum { PARALLEL_THREADS = 30, PER_THREAD = 10 };

typedef struct {
    const http_user *u;
    const char *tool;
    int ok, refused, other;
} hammer_arg;

static void *hammer(void *p)
{
    hammer_arg *a = p;
    for (int i = 0; i < PER_THREAD; i++) {
        long s = execute_status(a->u, a->tool);
        if (s == 200)
            a->ok++;
        else if (s == 402)
            a->refused++;
        else
            a->other++;
    }
    return NULL;
}

static void test_quota_exact_in_parallel(void)
{
    http_user dev, buyer;
    char tool[FIXTURE_ID_SIZE], plan[32];
    fixture_developer(&dev, "Exact Shop");
    fixture_user(&buyer);
    fixture_adder_tool(&dev, "free", 0, 0, tool, NULL);
    http_response *res = put_plans(&dev, tool, "[{\"name\":\"Free\",\"model\":\"free\",\"quota\":100}]");
    EXPECT_STATUS(res, 200);
    plan_id_named(res, "Free", plan);
    http_response_free(res);
    pthread_t threads[PARALLEL_THREADS];
    hammer_arg args[PARALLEL_THREADS];
    for (int i = 0; i < PARALLEL_THREADS; i++) {
        args[i] = (hammer_arg){.u = &buyer, .tool = tool};
        pthread_create(&threads[i], NULL, hammer, &args[i]);
    }
    int ok = 0, refused = 0, other = 0;
    for (int i = 0; i < PARALLEL_THREADS; i++) {
        pthread_join(threads[i], NULL);
        ok += args[i].ok;
        refused += args[i].refused;
        other += args[i].other;
    }
    fprintf(stderr, "  %d attempts: %d succeeded, %d refused (402), %d other\n", ok + refused + other, ok, refused,
            other);
    CHECK_INT(ok, 100);
    CHECK_INT(refused, 200);
    CHECK_INT(other, 0);
    /* the database agrees once every worker wrote back: 100 used, nothing left leased */
    CHECK_INT(usage_used_eventually(&buyer, tool, 100), 100);
    CHECK_INT(fixture_sql_int("SELECT used + leased FROM plan_usage WHERE plan_id = ?", db_int(atoll(plan))), 100);
    /* the developer's analytics count the plan's executions this month */
    int64_t counted = 0;
    for (int i = 0; i < 50 && counted != 100; i++) {
        if (i)
            usleep(100000);
        http_response *a = http_get("/developers/me/analytics", dev.token);
        json_t *t = json_array_get(json_object_get(a->json, "tools"), 0);
        json_t *row = json_array_get(json_object_get(t, "plans"), 0);
        counted = json_integer_value(json_object_get(row, "executions"));
        if (row)
            CHECK_STR(json_string_value(json_object_get(row, "plan_id")), plan);
        http_response_free(a);
    }
    CHECK_INT(counted, 100);
}

/* The plan's rate_per_minute, counted per buyer and tool across the workers: the runs past it in a
 * minute get 429 with Retry-After and use none of the quota. */
static void test_plan_rate_per_minute(void)
{
    http_user dev, buyer;
    char tool[FIXTURE_ID_SIZE];
    fixture_developer(&dev, "Rate Shop");
    fixture_user(&buyer);
    fixture_adder_tool(&dev, "free", 0, 0, tool, NULL);
    http_response *res = put_plans(&dev, tool, "[{\"name\":\"Free\",\"model\":\"free\",\"quota\":50,"
                                               "\"rate_per_minute\":3}]");
    EXPECT_STATUS(res, 200);
    http_response_free(res);
    int ok = 0, limited = 0;
    time_t minute = time(NULL) / 60;
    for (int i = 0; i < 8; i++) { /* more than the workers: several of them answer */
        char path[96];
        snprintf(path, sizeof path, "/tools/%s/execute", tool);
        http_response *r = http_post_text(path, buyer.token, "{\"input\": {\"a\": 2, \"b\": 3}}");
        if (r->status == 200)
            ok++;
        if (r->status == 429) {
            limited++;
            CHECK(http_header(r, "Retry-After") != NULL);
        }
        http_response_free(r);
    }
    /* within one minute exactly the rate; across a minute boundary the sliding window lets part of
     * the new minute's allowance through, depending on how far into it the last runs came */
    fprintf(stderr, "  8 runs: %d succeeded, %d got 429\n", ok, limited);
    if (time(NULL) / 60 == minute)
        CHECK_INT(ok, 3);
    else
        CHECK(ok >= 3 && limited >= 1);
    CHECK_INT(ok + limited, 8);
    CHECK_INT(usage_used_eventually(&buyer, tool, ok), ok);
}

int main(void)
{
    fixture_random_seed();
    http_set_timeout_ms(60000);
    RUN(test_default_plan_from_pricing);
    RUN(test_plan_rules);
    RUN(test_plans_checkout_and_quota);
    RUN(test_move_plan);
    RUN(test_quota_exact_in_parallel);
    RUN(test_plan_rate_per_minute);
    fixture_close();
    return check_finish();
}

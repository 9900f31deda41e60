/* core/quota and core/tool_plans against a real MariaDB: the quota periods, the size of a lease and
 * what MariaDB holds after a write-back, the last unit, a failed execution giving its unit back, and
 * what a worker that dies mid-execution loses (the one unit it took, no more). The exactness under
 * parallel load through nginx is e2e.plans. */
#include <sys/wait.h>

#include "core/quota.h"
#include "core/tool_plans.h"
#include "tests/integration/tools_support.h"

/* A published adder of a new developer with one free plan of quota; its id and the plan's. */
static int64_t quota_tool(int64_t quota, int64_t *plan_id)
{
    account_caller dev;
    new_user(&dev, 1, NULL);
    json_t *tool = create(&dev, fixture_adder_draft(unique("quota", "")));
    int64_t id = tool ? strtoll(str(tool, "id"), NULL, 10) : 0;
    json_decref(tool);
    char ref[24], plans[160];
    snprintf(ref, sizeof ref, "%lld", (long long)id);
    snprintf(plans, sizeof plans, "[{\"name\": \"Free\", \"model\": \"free\", \"quota\": %lld}]", (long long)quota);
    mkt_error err = MKT_ERROR_INIT;
    json_t *body = fixture_json(plans);
    json_t *out = tool_plans_put(g_db, &dev, ref, body, &err);
    json_decref(body);
    if (!out)
        dump(&err);
    *plan_id = out ? strtoll(str(json_array_get(json_object_get(out, "plans"), 0), "id"), NULL, 10) : 0;
    json_decref(out);
    error_clear(&err);
    return id;
}

static int64_t usage_column(const char *column, int64_t plan_id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM plan_usage WHERE plan_id = ?", column);
    return query_int(sql, plan_id);
}

static int terms_of(int64_t user_id, int64_t tool_id, tool_plans_terms *t)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = tool_plans_terms_for(g_db, user_id, tool_id, time(NULL), t, &err);
    error_clear(&err);
    return rc;
}

static void test_periods(void)
{
    time_t start, end;
    /* calendar months, UTC, across a year's end: 2026-12-15 -> [2026-12-01, 2027-01-01) */
    tool_plans_period("free", 0, 0, 1797336000, &start, &end);
    CHECK_INT((int64_t)start, 1796083200);
    CHECK_INT((int64_t)end, 1798761600);
    tool_plans_period("one_time", 0, 0, 1798761600, &start, &end);
    CHECK_INT((int64_t)start, 1798761600);
    /* subscriptions: periods of period_days from the anchor */
    tool_plans_period("subscription", 30, 1000000, 1000000 + 45 * 86400, &start, &end);
    CHECK_INT((int64_t)start, 1000000 + 30 * 86400);
    CHECK_INT((int64_t)end, 1000000 + 60 * 86400);
}

/* One lease of what is left / 16, written back as used; the rest goes back when the host gives it. */
static void test_lease_and_write_back(void)
{
    account_caller buyer;
    new_user(&buyer, 0, NULL);
    int64_t plan, tool = quota_tool(1000, &plan);
    tool_plans_terms t;
    CHECK_INT(terms_of(buyer.user_id, tool, &t), 1);
    CHECK_INT(t.plan_id, plan);
    CHECK_INT(t.quota, 1000);
    quota_ticket k;
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(quota_take(g_db, &g_cfg, buyer.user_id, tool, &t, &k, &err), 0);
    CHECK_INT(usage_column("leased", plan), 1000 / 16);
    quota_settle(g_db, &k, 1);
    /* a failed execution gives its unit back */
    CHECK_INT(quota_take(g_db, &g_cfg, buyer.user_id, tool, &t, &k, &err), 0);
    quota_settle(g_db, &k, 0);
    quota_flush(g_db, 0);
    CHECK_INT(usage_column("used", plan), 1);
    CHECK_INT(usage_column("leased", plan), 1000 / 16 - 1);
    quota_flush(g_db, 1);
    CHECK_INT(usage_column("used", plan), 1);
    CHECK_INT(usage_column("leased", plan), 0);
    error_clear(&err);
}

/* The last unit: quota 3 -> three takes, the fourth is quota-exceeded with the period end. */
static void test_last_unit(void)
{
    account_caller buyer;
    new_user(&buyer, 0, NULL);
    int64_t plan, tool = quota_tool(3, &plan);
    tool_plans_terms t;
    terms_of(buyer.user_id, tool, &t);
    quota_ticket k;
    mkt_error err = MKT_ERROR_INIT;
    for (int i = 0; i < 3; i++) {
        CHECK_INT(quota_take(g_db, &g_cfg, buyer.user_id, tool, &t, &k, &err), 0);
        quota_settle(g_db, &k, 1);
    }
    CHECK_INT(quota_take(g_db, &g_cfg, buyer.user_id, tool, &t, &k, &err), -1);
    CHECK_INT(err.kind, ERROR_QUOTA_EXCEEDED);
    CHECK(err.extension && strstr(err.extension, "\"period_end\""));
    error_clear(&err);
    quota_flush(g_db, 1);
    CHECK_INT(usage_column("used", plan), 3);
    CHECK_INT(usage_column("leased", plan), 0);
}

/* A worker killed in the middle of an execution loses the unit it took, and only that one: the
 * rest of the pool goes back to MariaDB. */
static void test_crash_loses_one_unit(void)
{
    account_caller buyer;
    new_user(&buyer, 0, NULL);
    int64_t plan, tool = quota_tool(1000, &plan);
    tool_plans_terms t;
    terms_of(buyer.user_id, tool, &t);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* the child: its own connection (none crosses fork), one unit taken, then killed */
        mkt_error err = MKT_ERROR_INIT;
        db *mine = db_open(&g_cfg, &err);
        quota_ticket k;
        if (!mine || quota_take(mine, &g_cfg, buyer.user_id, tool, &t, &k, &err) < 0)
            _exit(3);
        raise(SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    quota_flush(g_db, 1);
    CHECK_INT(usage_column("used", plan), 0);
    CHECK_INT(usage_column("leased", plan), 1); /* the lost unit: counted against the quota, never used */
}

int main(void)
{
    if (tools_support_open() < 0)
        return 2;
    RUN(test_periods);
    RUN(test_lease_and_write_back);
    RUN(test_last_unit);
    RUN(test_crash_loses_one_unit);
    tools_support_close();
    return check_finish();
}

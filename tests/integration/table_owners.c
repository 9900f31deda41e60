/* The owner modules' own functions against a real MariaDB (docs/architecture.md, "Tables and their
 * owners"): tool_access (grants, revocations, what a user holds), the download rule of tool_usage,
 * the tools-row reads tool_record gives other modules, and account_developer_lock. The paths that
 * use them (purchases, refunds, runs) are covered end to end; these pin each function's contract. */
#include "core/tool_access.h"
#include "core/tool_record.h"
#include "core/tool_usage.h"
#include "tests/integration/tools_support.h"

/* A draft tool of a new developer; *developer (may be NULL) gets that developer. */
static int64_t new_tool(account_caller *developer, const char *pricing_json)
{
    account_caller dev;
    new_user(&dev, 1, NULL);
    json_t *body = fixture_adder_draft(unique("own", ""));
    if (pricing_json)
        json_object_set_new(body, "pricing", fixture_json(pricing_json));
    json_t *tool = create(&dev, body);
    int64_t id = tool ? strtoll(str(tool, "id"), NULL, 10) : 0;
    json_decref(tool);
    if (developer)
        *developer = dev;
    return id;
}

/* Hours of access left (rounded down), -1 for access for good, -2 when there is no row. */
static int64_t hours_left(int64_t user_id, int64_t tool_id)
{
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    int64_t out = -2;
    if (db_query(g_db,
                 "SELECT access_until IS NULL, TIMESTAMPDIFF(HOUR, NOW(6), access_until) FROM tool_access"
                 " WHERE user_id = ? AND tool_id = ?",
                 DB_PARAMS(db_int(user_id), db_int(tool_id)), &rows, &err) == 0 &&
        rows.row_count == 1)
        out = db_rows_int(&rows, 0, 0) ? -1 : db_rows_int(&rows, 0, 1);
    db_rows_free(&rows);
    error_clear(&err);
    return out;
}

static int holds(int64_t user_id, int64_t tool_id, int which)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = tool_access_holds(g_db, user_id, tool_id, which, &err);
    error_clear(&err);
    return rc;
}

/* ---- tool_access ---------------------------------------------------------------------------- */

static void test_access_for_good(void)
{
    account_caller buyer;
    new_user(&buyer, 0, NULL);
    int64_t tool = new_tool(NULL, NULL);
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_EVER), 0);
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_NOW), 0);
    CHECK_INT(tool_access_grant(g_db, buyer.user_id, tool, 0, &err), 0);
    CHECK_INT(hours_left(buyer.user_id, tool), -1);
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_EVER), 1);
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_NOW), 1);
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_FOR_GOOD), 1);
    /* a subscription bought on top never shortens access for good */
    CHECK_INT(tool_access_grant(g_db, buyer.user_id, tool, 30, &err), 0);
    CHECK_INT(hours_left(buyer.user_id, tool), -1);
    CHECK_INT(tool_access_revoke(g_db, buyer.user_id, tool, 0, &err), 0);
    CHECK_INT(hours_left(buyer.user_id, tool), -2);
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_EVER), 0);
    /* an unknown question is a programming error, not "no" */
    CHECK_INT(tool_access_holds(g_db, buyer.user_id, tool, 7, &err), -1);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    error_clear(&err);
}

static void test_access_subscription(void)
{
    account_caller buyer;
    new_user(&buyer, 0, NULL);
    int64_t tool = new_tool(NULL, NULL);
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(tool_access_grant(g_db, buyer.user_id, tool, 30, &err), 0);
    CHECK(hours_left(buyer.user_id, tool) >= 30 * 24 - 1);
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_NOW), 1);
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_FOR_GOOD), 0);
    /* a renewal before expiry adds to what is left */
    CHECK_INT(tool_access_grant(g_db, buyer.user_id, tool, 30, &err), 0);
    CHECK(hours_left(buyer.user_id, tool) >= 60 * 24 - 1);
    /* a refund takes back one period; the renewal stays */
    CHECK_INT(tool_access_revoke(g_db, buyer.user_id, tool, 30, &err), 0);
    int64_t left = hours_left(buyer.user_id, tool);
    CHECK(left >= 30 * 24 - 1 && left <= 30 * 24);
    /* the last period taken back leaves no row */
    CHECK_INT(tool_access_revoke(g_db, buyer.user_id, tool, 30, &err), 0);
    CHECK_INT(hours_left(buyer.user_id, tool), -2);
    /* an expired subscription is still "bought" (the tool stays visible), but gives no access */
    CHECK_INT(tool_access_grant(g_db, buyer.user_id, tool, 1, &err), 0);
    CHECK_INT(db_exec(g_db, "UPDATE tool_access SET access_until = NOW(6) - INTERVAL 1 SECOND"
                            " WHERE user_id = ? AND tool_id = ?",
                      DB_PARAMS(db_int(buyer.user_id), db_int(tool)), NULL, &err), 0);
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_EVER), 1);
    CHECK_INT(holds(buyer.user_id, tool, TOOL_ACCESS_NOW), 0);
    error_clear(&err);
}

/* ---- the download rule ---------------------------------------------------------------------- */

typedef struct {
    tool_usage_event e;
    int counted;
} download_ctx;

static int download_tx(db *db, void *arg, mkt_error *err)
{
    download_ctx *c = arg;
    c->counted = tool_usage_count_download(db, &c->e, err);
    return c->counted < 0 ? -1 : 0;
}

/* Runs the rule for one event in its own transaction: 1 counted, 0 not, -1 error. */
static int count(tool_usage_kind kind, int64_t tool, int64_t user, const char *model, int by_developer)
{
    download_ctx c = {.e = {.kind = kind, .tool_id = tool, .user_id = user, .pricing_model = model,
                            .by_developer = by_developer}};
    mkt_error err = MKT_ERROR_INIT;
    if (db_transaction(g_db, download_tx, &c, &err) < 0)
        c.counted = -1;
    error_clear(&err);
    return c.counted;
}

static void test_download_rule_free(void)
{
    account_caller dev, a, b;
    int64_t tool = new_tool(&dev, NULL);
    new_user(&a, 0, NULL);
    new_user(&b, 0, NULL);
    /* the tool's developer is testing: never a download, and not remembered as a user */
    CHECK_INT(count(TOOL_USAGE_RUN, tool, dev.user_id, "free", 1), 0);
    CHECK_INT(query_int("SELECT COUNT(*) FROM tool_users WHERE tool_id = ?", tool), 0);
    /* one download per user, whichever comes first: a run or a (free) purchase */
    CHECK_INT(count(TOOL_USAGE_RUN, tool, a.user_id, "free", 0), 1);
    CHECK_INT(count(TOOL_USAGE_RUN, tool, a.user_id, "free", 0), 0);
    CHECK_INT(count(TOOL_USAGE_PURCHASE, tool, a.user_id, "free", 0), 0);
    CHECK_INT(count(TOOL_USAGE_PURCHASE, tool, b.user_id, "free", 0), 1);
    CHECK_INT(count(TOOL_USAGE_RUN, tool, b.user_id, "free", 0), 0);
    CHECK_INT(query_int("SELECT downloads FROM tools WHERE id = ?", tool), 2);
    CHECK_INT(query_int("SELECT COUNT(*) FROM tool_users WHERE tool_id = ?", tool), 2);
}

static void test_download_rule_paid(void)
{
    account_caller a;
    int64_t tool = new_tool(NULL, "{\"model\": \"subscription\", \"price_cents\": 500, \"currency\": \"USD\","
                                  " \"period_days\": 30}");
    new_user(&a, 0, NULL);
    /* running a paid tool is no download; every completed purchase is one (renewals too) */
    CHECK_INT(count(TOOL_USAGE_RUN, tool, a.user_id, "subscription", 0), 0);
    CHECK_INT(count(TOOL_USAGE_PURCHASE, tool, a.user_id, "subscription", 0), 1);
    CHECK_INT(count(TOOL_USAGE_PURCHASE, tool, a.user_id, "subscription", 0), 1);
    CHECK_INT(query_int("SELECT downloads FROM tools WHERE id = ?", tool), 2);
    CHECK_INT(query_int("SELECT COUNT(*) FROM tool_users WHERE tool_id = ?", tool), 0);
}

/* ---- tool_record for other modules, account_developer_lock ------------------------------------- */

static int offer_tx(db *db, void *arg, mkt_error *err)
{
    tool_record_offer *o = arg;
    return tool_record_offer_locked(db, o->developer_id, o, err);
}

static void test_offer_and_developer_lock(void)
{
    account_caller dev, buyer;
    int64_t tool = new_tool(&dev, "{\"model\": \"one_time\", \"price_cents\": 1250, \"currency\": \"EUR\"}");
    mkt_error err = MKT_ERROR_INIT;
    tool_record_offer offer = {.developer_id = tool};
    /* a draft is not for sale */
    CHECK_INT(db_transaction(g_db, offer_tx, &offer, &err), -1);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);
    char ref[24];
    snprintf(ref, sizeof ref, "%lld", (long long)tool);
    json_decref(publish(&dev, ref, "1.0.0", &err));
    offer = (tool_record_offer){.developer_id = tool};
    CHECK_INT(db_transaction(g_db, offer_tx, &offer, &err), 0);
    CHECK_INT(offer.developer_id, dev.developer_id);
    CHECK_INT(offer.price_cents, 1250);
    CHECK_INT(offer.period_days, 0);
    CHECK_STR(offer.pricing_model, "one_time");
    CHECK_STR(offer.currency, "EUR");
    error_clear(&err);

    new_user(&buyer, 0, NULL);
    CHECK_INT(account_developer_lock(g_db, dev.developer_id, &err), 0);
    CHECK_INT(account_developer_lock(g_db, INT64_C(999999999999), &err), -1);
    CHECK_INT(err.kind, ERROR_FORBIDDEN);
    error_clear(&err);
}

int main(void)
{
    if (tools_support_open() < 0)
        return 2;
    RUN(test_access_for_good);
    RUN(test_access_subscription);
    RUN(test_download_rule_free);
    RUN(test_download_rule_paid);
    RUN(test_offer_and_developer_lock);
    tools_support_close();
    return check_finish();
}

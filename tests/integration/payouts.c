/* core/payout and core/earnings against a real MariaDB: payout requests under the row lock, the
 * minimum and the balance, signed single-use tokens (forged, other audience, expired, replayed),
 * paid/failed with their ledger postings, negative balances after refunds, earnings figures.
 * Balances are made by posting purchases straight to the ledger with fake transaction ids (the
 * purchase flow is tested elsewhere); the ledger stays balanced. After every test the ledger
 * invariants and the payout/posting agreement are checked. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/account.h"
#include "core/earnings.h"
#include "core/ledger.h"
#include "core/payout.h"
#include "tests/support/check.h"
#include "tests/support/stack_env.h"

static db *g_db;
static config g_cfg;
static jws_keyring *g_keys;

/* ---- helpers -------------------------------------------------------------------------------- */

static void dump(const char *what, const mkt_error *err)
{
    fprintf(stderr, "    %s: kind %d, message %s, fields:", what, err->kind, err->message ? err->message : "(none)");
    for (size_t i = 0; i < err->field_count; i++)
        fprintf(stderr, " [%s: %s]", err->fields[i].field, err->fields[i].message);
    fprintf(stderr, "\n");
}

static int has_field(const mkt_error *err, const char *field)
{
    for (size_t i = 0; i < err->field_count; i++)
        if (strcmp(err->fields[i].field, field) == 0)
            return 1;
    return 0;
}

/* Expects kind (and a field error on field, when given); clears err. */
static void expect_error_at(mkt_error *err, error_kind kind, const char *field, int line)
{
    if (err->kind != kind || (field && !has_field(err, field))) {
        fprintf(stderr, "  line %d: expected error kind %d%s%s\n", line, kind, field ? " on " : "", field ? field : "");
        dump("got", err);
        check_failures++;
    }
    error_clear(err);
}
#define EXPECT_ERROR(err, kind, field) expect_error_at((err), (kind), (field), __LINE__)

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A fresh developer; returns the caller. */
static account_caller new_developer(void)
{
    static unsigned counter;
    char email[160];
    snprintf(email, sizeof email, "payout-%d-%ld-%u@example.test", (int)getpid(), (long)time(NULL), counter++);
    json_t *body = json_pack("{s:s, s:s, s:s}", "email", email, "password", "correct horse battery", "display_name",
                             "Payee");
    mkt_error err = MKT_ERROR_INIT;
    account_caller caller;
    json_t *user = account_register(g_db, &g_cfg, body, &err);
    json_decref(body);
    json_t *dev = json_pack("{s:s}", "display_name", "Payee Shop");
    json_t *profile = NULL;
    if (!user || account_authenticate(g_db, str(user, "token"), &caller, &err) < 0 ||
        !(profile = account_developer_create(g_db, &caller, dev, &err)) ||
        account_authenticate(g_db, str(user, "token"), &caller, &err) < 0) {
        dump("new developer", &err);
        exit(2);
    }
    json_decref(dev);
    json_decref(profile);
    json_decref(user);
    return caller;
}

/* Transaction ids far above any real one (auto-increment) so a fake purchase never takes the
 * posting key of a real transaction; pid and time keep parallel and repeated runs apart. */
static int64_t fake_transaction_id(void)
{
    static int64_t counter;
    return INT64_C(4000000000000000000) + (int64_t)(time(NULL) % 100000) * INT64_C(10000000000000) +
           (int64_t)(getpid() % 1000000) * INT64_C(10000000) + counter++;
}

typedef struct {
    int64_t txn, developer_id, dev_cents;
    const char *currency;
    int refund;
} fund_ctx;

static int fund_tx(db *db, void *arg, mkt_error *err)
{
    fund_ctx *f = arg;
    int64_t plat = 100; /* some platform share, so the posting has all three legs */
    if (f->refund)
        return ledger_post_refund(db, f->txn, f->developer_id, f->currency, f->dev_cents + plat, f->dev_cents, plat,
                                  err);
    return ledger_post_purchase(db, f->txn, f->developer_id, f->currency, f->dev_cents + plat, f->dev_cents, plat,
                                err);
}

/* Posts a purchase (or its refund) worth dev_cents to the developer; returns the fake txn id. */
static int64_t fund(int64_t developer_id, const char *currency, int64_t dev_cents, int64_t refund_of)
{
    fund_ctx f = {.txn = refund_of ? refund_of : fake_transaction_id(),
                  .developer_id = developer_id,
                  .dev_cents = dev_cents,
                  .currency = currency,
                  .refund = refund_of != 0};
    mkt_error err = MKT_ERROR_INIT;
    if (db_transaction(g_db, fund_tx, &f, &err) < 0) {
        dump("fund", &err);
        exit(2);
    }
    return f.txn;
}

static int64_t balance(int64_t developer_id, const char *bucket, const char *currency)
{
    char account[LEDGER_ACCOUNT_MAX];
    int64_t cents = INT64_MIN;
    mkt_error err = MKT_ERROR_INIT;
    if (ledger_account_developer(account, developer_id, bucket) < 0 ||
        ledger_balance(g_db, account, currency, &cents, &err) < 0)
        dump("balance", &err);
    error_clear(&err);
    return cents;
}

static void check_invariants_at(int line)
{
    mkt_error err = MKT_ERROR_INIT;
    if (ledger_check_invariants(g_db, &err) < 0 || payout_check_invariants(g_db, &err) < 0) {
        fprintf(stderr, "  line %d: invariants broken\n", line);
        dump("invariants", &err);
        check_failures++;
    }
    error_clear(&err);
}
#define CHECK_INVARIANTS() check_invariants_at(__LINE__)

static json_t *request_payout(const account_caller *dev, int64_t amount, const char *currency, mkt_error *err)
{
    json_t *body = json_pack("{s:I, s:s}", "amount_cents", (json_int_t)amount, "currency", currency);
    json_t *out = payout_request(g_db, &g_cfg, g_keys, dev, body, err);
    json_decref(body);
    return out;
}

static json_t *redeem(const char *token, mkt_error *err)
{
    json_t *body = json_pack("{s:s}", "token", token);
    json_t *out = payout_redeem(g_db, &g_cfg, g_keys, body, err);
    json_decref(body);
    return out;
}

static int64_t payout_id_of(const json_t *out)
{
    const char *id = str(json_object_get(out, "payout"), "id");
    return id ? strtoll(id, NULL, 10) : 0;
}

static const char *payout_status(int64_t id)
{
    static char status[16];
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    status[0] = '\0';
    if (db_query(g_db, "SELECT status FROM payouts WHERE id = ?", DB_PARAMS(db_int(id)), &rows, &err) == 0 &&
        rows.row_count)
        snprintf(status, sizeof status, "%s", db_rows_text(&rows, 0, 0));
    db_rows_free(&rows);
    error_clear(&err);
    return status;
}

/* A token with the claims of a real one for payout, changed by edit (which may be NULL). */
static char *craft_token(const json_t *out, const char *key, json_t *value)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *claims = jws_verify(g_keys, str(out, "token"), &err);
    if (!claims) {
        dump("craft", &err);
        exit(2);
    }
    if (key)
        json_object_set_new(claims, key, value);
    char *token = jws_sign(g_keys, claims, &err);
    json_decref(claims);
    error_clear(&err);
    return token;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_request_rules(void)
{
    account_caller dev = new_developer();
    fund(dev.developer_id, "USD", 5000, 0);
    mkt_error err = MKT_ERROR_INIT;

    CHECK(!request_payout(&dev, g_cfg.min_payout_cents - 1, "USD", &err));
    EXPECT_ERROR(&err, ERROR_VALIDATION, "amount_cents");
    CHECK(!request_payout(&dev, 5001, "USD", &err));
    EXPECT_ERROR(&err, ERROR_VALIDATION, "amount_cents");
    CHECK(!request_payout(&dev, 2000, "EUR", &err)); /* no EUR balance at all */
    EXPECT_ERROR(&err, ERROR_VALIDATION, "amount_cents");
    CHECK(!request_payout(&dev, 2000, "usd", &err));
    EXPECT_ERROR(&err, ERROR_VALIDATION, "currency");

    json_t *body = json_pack("{s:s, s:s, s:b}", "amount_cents", "2000", "currency", "USD", "extra", 1);
    CHECK(!payout_request(g_db, &g_cfg, g_keys, &dev, body, &err));
    CHECK(has_field(&err, "amount_cents") && has_field(&err, "extra"));
    EXPECT_ERROR(&err, ERROR_VALIDATION, NULL);
    json_decref(body);
    body = json_pack("[]");
    CHECK(!payout_request(g_db, &g_cfg, g_keys, &dev, body, &err));
    EXPECT_ERROR(&err, ERROR_VALIDATION, "");
    json_decref(body);

    account_caller buyer = dev;
    buyer.developer_id = 0;
    CHECK(!request_payout(&buyer, 2000, "USD", &err));
    EXPECT_ERROR(&err, ERROR_FORBIDDEN, NULL);

    CHECK_INT(balance(dev.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 5000);
    CHECK_INVARIANTS();
}

static void test_request_and_token(void)
{
    account_caller dev = new_developer();
    fund(dev.developer_id, "USD", 5000, 0);
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = request_payout(&dev, 5000, "USD", &err); /* exactly the balance */
    CHECK(out);
    if (!out) {
        dump("request", &err);
        error_clear(&err);
        return;
    }
    json_t *payout = json_object_get(out, "payout");
    CHECK_STR(str(payout, "status"), "requested");
    CHECK_INT(json_integer_value(json_object_get(payout, "amount_cents")), 5000);
    CHECK_STR(str(payout, "currency"), "USD");
    CHECK_INT(balance(dev.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 0);
    CHECK_INT(balance(dev.developer_id, LEDGER_BUCKET_PAYOUT_PENDING, "USD"), 5000);

    json_t *claims = jws_verify(g_keys, str(out, "token"), &err);
    CHECK(claims);
    char sub[32];
    snprintf(sub, sizeof sub, "%" PRId64, dev.developer_id);
    CHECK_STR(str(claims, "aud"), "payouts");
    CHECK_STR(str(claims, "iss"), g_cfg.issuer);
    CHECK_STR(str(claims, "sub"), sub);
    CHECK_STR(str(claims, "jti"), str(payout, "id"));
    CHECK_STR(str(claims, "currency"), "USD");
    CHECK_INT(json_integer_value(json_object_get(claims, "amount_cents")), 5000);
    CHECK_INT(json_integer_value(json_object_get(claims, "exp")) - json_integer_value(json_object_get(claims, "iat")),
              g_cfg.payout_token_ttl);
    json_decref(claims);

    /* Nothing left: the next request is over the balance. */
    CHECK(!request_payout(&dev, g_cfg.min_payout_cents, "USD", &err));
    EXPECT_ERROR(&err, ERROR_VALIDATION, "amount_cents");
    json_decref(out);
    CHECK_INVARIANTS();
}

static void test_redeem_once(void)
{
    account_caller dev = new_developer();
    fund(dev.developer_id, "EUR", 3000, 0);
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = request_payout(&dev, 2500, "EUR", &err);
    CHECK(out);
    if (!out)
        return;
    json_t *r = redeem(str(out, "token"), &err);
    CHECK(r);
    CHECK_STR(str(json_object_get(r, "payout"), "status"), "processing");
    CHECK(str(json_object_get(r, "payout"), "redeemed_at"));
    json_decref(r);
    CHECK(!redeem(str(out, "token"), &err));
    EXPECT_ERROR(&err, ERROR_CONFLICT, NULL);
    CHECK_STR(payout_status(payout_id_of(out)), "processing");
    CHECK_INT(balance(dev.developer_id, LEDGER_BUCKET_AVAILABLE, "EUR"), 500);
    CHECK_INT(balance(dev.developer_id, LEDGER_BUCKET_PAYOUT_PENDING, "EUR"), 2500);
    json_decref(out);
    CHECK_INVARIANTS();
}

static void test_redeem_refusals(void)
{
    account_caller dev = new_developer();
    fund(dev.developer_id, "USD", 9000, 0);
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = request_payout(&dev, 3000, "USD", &err);
    CHECK(out);
    if (!out)
        return;
    char *token = strdup(str(out, "token"));

    /* One changed character of the signature. */
    char *forged = strdup(token);
    char *last = forged + strlen(forged) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    CHECK(!redeem(forged, &err));
    EXPECT_ERROR(&err, ERROR_UNAUTHORIZED, NULL);
    free(forged);
    CHECK(!redeem("garbage", &err));
    EXPECT_ERROR(&err, ERROR_UNAUTHORIZED, NULL);
    CHECK(!redeem("", &err));
    EXPECT_ERROR(&err, ERROR_UNAUTHORIZED, NULL);

    char *other = craft_token(out, "aud", json_string("receipts"));
    CHECK(!redeem(other, &err));
    EXPECT_ERROR(&err, ERROR_UNAUTHORIZED, NULL);
    free(other);
    other = craft_token(out, "iss", json_string("someone-else"));
    CHECK(!redeem(other, &err));
    EXPECT_ERROR(&err, ERROR_UNAUTHORIZED, NULL);
    free(other);
    other = craft_token(out, "amount_cents", json_integer(9000));
    CHECK(!redeem(other, &err));
    EXPECT_ERROR(&err, ERROR_UNAUTHORIZED, NULL);
    free(other);
    other = craft_token(out, "exp", json_integer((json_int_t)time(NULL) - 10));
    CHECK(!redeem(other, &err));
    EXPECT_ERROR(&err, ERROR_GONE, NULL);
    free(other);
    json_t *claims = jws_verify(g_keys, token, &err);
    json_object_del(claims, "exp");
    other = jws_sign(g_keys, claims, &err);
    json_decref(claims);
    CHECK(!redeem(other, &err));
    EXPECT_ERROR(&err, ERROR_UNAUTHORIZED, NULL);
    free(other);

    json_t *body = json_pack("{s:i}", "token", 1);
    CHECK(!payout_redeem(g_db, &g_cfg, g_keys, body, &err));
    EXPECT_ERROR(&err, ERROR_VALIDATION, "token");
    json_decref(body);

    /* None of that touched the payout: the real token still redeems once. */
    CHECK_STR(payout_status(payout_id_of(out)), "requested");
    json_t *r = redeem(token, &err);
    CHECK(r);
    json_decref(r);
    free(token);
    json_decref(out);
    CHECK_INVARIANTS();
}

static void test_paid_and_failed(void)
{
    account_caller dev = new_developer();
    fund(dev.developer_id, "USD", 10000, 0);
    mkt_error err = MKT_ERROR_INIT;
    json_t *a = request_payout(&dev, 4000, "USD", &err);
    json_t *b = request_payout(&dev, 3000, "USD", &err);
    json_t *c = request_payout(&dev, 2000, "USD", &err);
    CHECK(a && b && c);
    if (!a || !b || !c)
        goto out;
    json_decref(redeem(str(a, "token"), &err));
    json_decref(redeem(str(b, "token"), &err));
    CHECK_INT(err.kind, ERROR_NONE);

    /* a: processing -> paid; a second paid changes nothing; failed after paid contradicts the
     * record: accepted (a retry could never change it), no money moves, the payout is flagged. */
    CHECK_INT(payout_mark_paid(g_db, payout_id_of(a), &err), 0);
    CHECK_INT(payout_mark_paid(g_db, payout_id_of(a), &err), 0);
    CHECK_INT(payout_mark_failed(g_db, payout_id_of(a), "late", &err), 0);
    CHECK_INT(err.kind, ERROR_NONE);
    CHECK_STR(payout_status(payout_id_of(a)), "paid");

    /* b: processing -> failed: the money is available again. */
    CHECK_INT(payout_mark_failed(g_db, payout_id_of(b), "bank account closed", &err), 0);
    CHECK_INT(payout_mark_failed(g_db, payout_id_of(b), "bank account closed", &err), 0);
    CHECK_INT(payout_mark_paid(g_db, payout_id_of(b), &err), 0);
    CHECK_INT(err.kind, ERROR_NONE);
    CHECK_STR(payout_status(payout_id_of(b)), "failed");

    /* c: failed straight from requested; its token then no longer redeems. */
    char reason[700];
    memset(reason, 'x', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    CHECK_INT(payout_mark_failed(g_db, payout_id_of(c), reason, &err), 0);
    CHECK(!redeem(str(c, "token"), &err));
    EXPECT_ERROR(&err, ERROR_CONFLICT, NULL);

    CHECK_INT(payout_mark_paid(g_db, INT64_C(9000000000000000000), &err), -1);
    EXPECT_ERROR(&err, ERROR_NOT_FOUND, NULL);

    CHECK_INT(balance(dev.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 10000 - 4000);
    CHECK_INT(balance(dev.developer_id, LEDGER_BUCKET_PAYOUT_PENDING, "USD"), 0);

    json_t *earn = earnings_get(g_db, &dev, &err);
    CHECK(earn);
    json_t *usd = json_array_get(json_object_get(earn, "balances"), 0);
    CHECK_STR(str(usd, "currency"), "USD");
    CHECK_INT(json_integer_value(json_object_get(usd, "available_cents")), 6000);
    CHECK_INT(json_integer_value(json_object_get(usd, "pending_payout_cents")), 0);
    CHECK_INT(json_integer_value(json_object_get(usd, "paid_out_cents")), 4000);
    CHECK_INT(json_integer_value(json_object_get(usd, "lifetime_cents")), 10000);
    json_decref(earn);

    json_t *list = payout_list(g_db, &dev, 1, 2, &err);
    CHECK(list);
    CHECK_INT(json_integer_value(json_object_get(list, "total")), 3);
    CHECK_INT(json_array_size(json_object_get(list, "items")), 2);
    CHECK_STR(str(json_array_get(json_object_get(list, "items"), 0), "status"), "failed"); /* c, newest */
    json_decref(list);
out:
    json_decref(a);
    json_decref(b);
    json_decref(c);
    error_clear(&err);
    CHECK_INVARIANTS();
}

/* Refunds after a payout can leave the balance negative; no payout until it is positive again. */
static void test_negative_balance_blocks(void)
{
    account_caller dev = new_developer();
    int64_t sale = fund(dev.developer_id, "USD", 5000, 0);
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = request_payout(&dev, 4000, "USD", &err);
    CHECK(out);
    json_decref(out);
    fund(dev.developer_id, "USD", 5000, sale); /* refund of the sale */
    CHECK_INT(balance(dev.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), -4000);
    CHECK(!request_payout(&dev, g_cfg.min_payout_cents, "USD", &err));
    EXPECT_ERROR(&err, ERROR_VALIDATION, "amount_cents");
    fund(dev.developer_id, "USD", 4000 + g_cfg.min_payout_cents - 1, 0);
    CHECK(!request_payout(&dev, g_cfg.min_payout_cents, "USD", &err));
    EXPECT_ERROR(&err, ERROR_VALIDATION, "amount_cents");
    fund(dev.developer_id, "USD", 1, 0);
    out = request_payout(&dev, g_cfg.min_payout_cents, "USD", &err);
    CHECK(out);
    json_decref(out);
    CHECK_INT(balance(dev.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 0);

    json_t *earn = earnings_get(g_db, &dev, &err);
    json_t *month = json_array_get(json_object_get(earn, "by_month"), 0);
    CHECK_INT(json_integer_value(json_object_get(month, "sales")), 3);
    CHECK_INT(json_integer_value(json_object_get(month, "refunds")), 1);
    CHECK_INT(json_integer_value(json_object_get(month, "refunded_cents")), 5000);
    CHECK_INT(json_integer_value(json_object_get(month, "net_cents")), 4000 + g_cfg.min_payout_cents);
    CHECK(json_is_array(json_object_get(earn, "by_tool")));
    json_decref(earn);
    json_t *analytics = earnings_analytics(g_db, &dev, &err);
    CHECK(analytics && json_array_size(json_object_get(analytics, "tools")) == 0);
    json_decref(analytics);
    error_clear(&err);
    CHECK_INVARIANTS();
}

/* A sold tool: by_tool and analytics read completed transactions and the execution counters. The
 * transaction row and its purchase posting are written here as the purchase flow writes them. */
typedef struct {
    int64_t user_id, developer_id, tool_id, txn_id;
} sale_ctx;

static int sale_tx(db *db, void *arg, mkt_error *err)
{
    sale_ctx *c = arg;
    char ref[96];
    snprintf(ref, sizeof ref, "payout-test-%d-%ld-%" PRId64, (int)getpid(), (long)time(NULL), c->tool_id);
    db_result result;
    if (db_exec(db,
                "INSERT INTO transactions (buyer_user_id, tool_id, developer_id, amount_cents, currency,"
                " developer_cents, platform_cents, pricing_model, status, provider_ref, completed_at)"
                " VALUES (?, ?, ?, 1000, 'USD', 700, 300, 'one_time', 'completed', ?, UTC_TIMESTAMP(6))",
                DB_PARAMS(db_int(c->user_id), db_int(c->tool_id), db_int(c->developer_id), db_text(ref)), &result,
                err) < 0)
        return -1;
    c->txn_id = (int64_t)result.insert_id;
    return ledger_post_purchase(db, c->txn_id, c->developer_id, "USD", 1000, 700, 300, err);
}

static void test_earnings_by_tool(void)
{
    account_caller dev = new_developer();
    mkt_error err = MKT_ERROR_INIT;
    char slug[64];
    snprintf(slug, sizeof slug, "payout-tool-%d-%ld", (int)getpid(), (long)time(NULL) % 100000);
    db_result result = {0};
    int rc = db_exec(g_db,
                     "INSERT INTO tools (slug, developer_id, name, description, category, pricing_model, price_cents,"
                     " currency, input_schema, output_schema, code, tests, status, rating_count, rating_sum)"
                     " VALUES (?, ?, 'Sold Tool', '', 'math', 'one_time', 1000, 'USD', '{}', '{}', '', '[]',"
                     " 'published', 2, 9)",
                     DB_PARAMS(db_text(slug), db_int(dev.developer_id)), &result, &err);
    CHECK_INT(rc, 0);
    if (rc < 0) {
        dump("tool", &err);
        error_clear(&err);
        return;
    }
    sale_ctx sale = {.user_id = dev.user_id, .developer_id = dev.developer_id, .tool_id = (int64_t)result.insert_id};
    CHECK_INT(db_transaction(g_db, sale_tx, &sale, &err), 0);
    CHECK_INT(db_exec(g_db, "INSERT INTO tool_execution_days (tool_id, day, executions) VALUES (?, UTC_DATE(), 42)",
                      DB_PARAMS(db_int(sale.tool_id)), NULL, &err),
              0);

    json_t *earn = earnings_get(g_db, &dev, &err);
    CHECK(earn);
    json_t *tool = json_array_get(json_object_get(earn, "by_tool"), 0);
    CHECK_STR(str(tool, "slug"), slug);
    CHECK_STR(str(tool, "currency"), "USD");
    CHECK_INT(json_integer_value(json_object_get(tool, "sales")), 1);
    CHECK_INT(json_integer_value(json_object_get(tool, "revenue_cents")), 1000);
    CHECK_INT(json_integer_value(json_object_get(tool, "developer_cents")), 700);
    json_t *usd = json_array_get(json_object_get(earn, "balances"), 0);
    CHECK_INT(json_integer_value(json_object_get(usd, "available_cents")), 700);
    CHECK_INT(json_integer_value(json_object_get(usd, "lifetime_cents")), 700);
    json_decref(earn);

    json_t *analytics = earnings_analytics(g_db, &dev, &err);
    CHECK(analytics);
    tool = json_array_get(json_object_get(analytics, "tools"), 0);
    CHECK_STR(str(tool, "slug"), slug);
    CHECK_INT(json_integer_value(json_object_get(tool, "executions")), 42);
    CHECK_INT(json_integer_value(json_object_get(tool, "sales")), 1);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(tool, "rating"), "count")), 2);
    CHECK(json_real_value(json_object_get(json_object_get(tool, "rating"), "average")) == 4.5);
    json_t *revenue = json_array_get(json_object_get(tool, "revenue"), 0);
    CHECK_INT(json_integer_value(json_object_get(revenue, "revenue_cents")), 1000);
    CHECK_INT(json_integer_value(json_object_get(revenue, "developer_cents")), 700);
    json_t *day = json_array_get(json_object_get(tool, "daily"), 0);
    CHECK_INT(json_array_size(json_object_get(tool, "daily")), 1);
    CHECK_INT(json_integer_value(json_object_get(day, "executions")), 42);
    CHECK_INT(json_integer_value(json_object_get(day, "sales")), 1);
    json_decref(analytics);
    if (err.kind)
        dump("by tool", &err);
    error_clear(&err);
    CHECK_INVARIANTS();
}

/* ---- concurrency: each thread its own connection, as each worker has ------------------------ */

typedef struct {
    account_caller dev;
    int ok, refused;
} race_ctx;

static pthread_mutex_t race_lock = PTHREAD_MUTEX_INITIALIZER;

static void *race_thread(void *arg)
{
    race_ctx *race = arg;
    mkt_error err = MKT_ERROR_INIT;
    db *db = db_open(&g_cfg, &err);
    if (!db) {
        dump("race db_open", &err);
        error_clear(&err);
        return NULL;
    }
    json_t *body = json_pack("{s:I, s:s}", "amount_cents", (json_int_t)1000, "currency", "USD");
    json_t *out = payout_request(db, &g_cfg, g_keys, &race->dev, body, &err);
    pthread_mutex_lock(&race_lock);
    if (out)
        race->ok++;
    else if (err.kind == ERROR_VALIDATION)
        race->refused++;
    else
        dump("race", &err);
    pthread_mutex_unlock(&race_lock);
    json_decref(out);
    json_decref(body);
    error_clear(&err);
    db_close(db);
    return NULL;
}

static void test_concurrent_requests(void)
{
    enum { THREADS = 24 };
    race_ctx race = {.dev = new_developer()};
    fund(race.dev.developer_id, "USD", 7500, 0);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, race_thread, &race);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    CHECK_INT(race.ok, 7);
    CHECK_INT(race.refused, THREADS - 7);
    CHECK_INT(balance(race.dev.developer_id, LEDGER_BUCKET_AVAILABLE, "USD"), 500);
    CHECK_INT(balance(race.dev.developer_id, LEDGER_BUCKET_PAYOUT_PENDING, "USD"), 7000);
    CHECK_INVARIANTS();
}

int main(void)
{
    stack_env_config(&g_cfg);
    mkt_error err = MKT_ERROR_INIT;
    g_db = db_open(&g_cfg, &err);
    g_keys = g_db ? jws_keyring_load(g_cfg.signing_key_dir, &err) : NULL;
    if (!g_db || !g_keys || !jws_keyring_signing_kid(g_keys)) {
        dump("setup", &err);
        return 2;
    }
    RUN(test_request_rules);
    RUN(test_request_and_token);
    RUN(test_redeem_once);
    RUN(test_redeem_refusals);
    RUN(test_paid_and_failed);
    RUN(test_negative_balance_blocks);
    RUN(test_earnings_by_tool);
    RUN(test_concurrent_requests);
    jws_keyring_free(g_keys);
    db_close(g_db);
    config_free(&g_cfg);
    return check_finish();
}

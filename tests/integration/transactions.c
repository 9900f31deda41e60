/* core/transaction_manager against a real MariaDB, without HTTP: checkout and the webhook state
 * machine, receipts that verify with the keyring, idempotency keys that expire after 24 h, are
 * taken over when their request died, answer 409 while in progress; secret rotation. The ledger
 * invariants and the transaction/posting agreement hold after every test. */
#include <inttypes.h>
#include <openssl/evp.h>

#include "core/jws.h"
#include "core/ledger.h"
#include "core/transaction_manager.h"
#include "core/webhook.h"
#include "tests/integration/tools_support.h"

static jws_keyring *g_keys;

static void check_money(void)
{
    mkt_error err = MKT_ERROR_INIT;
    if (ledger_check_invariants(g_db, &err) < 0 || transaction_check_postings(g_db, &err) < 0) {
        fprintf(stderr, "  money invariants broken: %s\n", err.message ? err.message : "?");
        check_failures++;
    }
    error_clear(&err);
}

/* A published adder with the given pricing; returns its id. */
static int64_t priced_tool(const account_caller *dev, const char *model, int64_t price, int64_t period)
{
    const char *slug = unique("txn", "");
    char ref[96];
    snprintf(ref, sizeof ref, "%s", slug);
    json_t *body = fixture_adder_draft(ref);
    json_t *pricing = json_pack("{s:s}", "model", model);
    if (price) {
        json_object_set_new(pricing, "price_cents", json_integer(price));
        json_object_set_new(pricing, "currency", json_string("EUR"));
    }
    if (period)
        json_object_set_new(pricing, "period_days", json_integer(period));
    json_object_set_new(body, "pricing", pricing);
    json_t *tool = create(dev, body);
    mkt_error err = MKT_ERROR_INIT;
    json_t *pub = publish(dev, ref, "1.0.0", &err);
    if (!tool || !pub) {
        dump(&err);
        exit(2);
    }
    int64_t id = strtoll(str(tool, "id"), NULL, 10);
    json_decref(tool);
    json_decref(pub);
    return id;
}

static json_t *buy_with(const config *cfg, const account_caller *buyer, int64_t tool, const char *key, mkt_error *err)
{
    char id[32];
    snprintf(id, sizeof id, "%" PRId64, tool);
    json_t *body = json_pack("{s:s}", "tool_id", id);
    json_t *out = transaction_checkout(g_db, cfg, g_keys, buyer, key, body, err);
    json_decref(body);
    return out;
}

static json_t *buy(const account_caller *buyer, int64_t tool, const char *key, mkt_error *err)
{
    return buy_with(&g_cfg, buyer, tool, key, err);
}

/* Delivers one event with the given id, signed with secret at now; returns 0 when it was acknowledged (or -1)
 * and keeps err. */
static int deliver_as(const char *id, const char *secrets_configured, const char *secret, const char *type,
                      json_t *data, mkt_error *err)
{
    json_t *ev = json_pack("{s:s, s:s, s:I, s:o}", "id", id, "type", type, "created", (json_int_t)time(NULL), "data",
                           data);
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    char header[WEBHOOK_SIGN_MAX];
    webhook_sign(secret, (int64_t)time(NULL), text, strlen(text), header);
    config cfg = g_cfg;
    cfg.webhook_secret = (char *)secrets_configured;
    json_t *out = NULL;
    int rc = transaction_webhook(g_db, &cfg, g_keys, header, text, strlen(text), time(NULL), &out, err);
    json_decref(out);
    free(text);
    return rc;
}

/* Delivers one event under a fresh id. */
static int deliver(const char *secrets_configured, const char *secret, const char *type, json_t *data, mkt_error *err)
{
    char id[64];
    snprintf(id, sizeof id, "evt_i_%d_%u", (int)getpid(), g_counter++);
    return deliver_as(id, secrets_configured, secret, type, data, err);
}

static json_t *succeeded(const char *txn, int64_t amount, const char *currency)
{
    return json_pack("{s:s, s:I, s:s}", "transaction_id", txn, "amount_cents", (json_int_t)amount, "currency",
                     currency);
}

static void test_checkout_complete_receipt(void)
{
    account_caller dev, buyer;
    new_user(&dev, 1, NULL);
    new_user(&buyer, 0, NULL);
    int64_t tool = priced_tool(&dev, "one_time", 999, 0);
    mkt_error err = MKT_ERROR_INIT;
    json_t *t = buy(&buyer, tool, unique("k", ""), &err);
    CHECK(t != NULL);
    if (!t) {
        dump(&err);
        return;
    }
    CHECK_STR(str(t, "status"), "pending");
    CHECK_INT(json_integer_value(json_object_get(t, "developer_cents")), 699);
    CHECK_INT(json_integer_value(json_object_get(t, "platform_cents")), 300);
    char id[32];
    snprintf(id, sizeof id, "%s", str(t, "id"));
    json_decref(t);

    /* the webhook with a rotated secret: the old one still signs while both are configured */
    CHECK_INT(deliver("new-secret,old-secret", "old-secret", "payment.succeeded", succeeded(id, 999, "EUR"), &err), 0);
    error_clear(&err);
    json_t *r = transaction_receipt(g_db, &buyer, id, &err);
    CHECK(r != NULL);
    json_t *claims = r ? jws_verify(g_keys, str(r, "receipt"), &err) : NULL;
    CHECK(claims != NULL);
    CHECK_STR(str(claims, "txn"), id);
    CHECK_STR(str(claims, "iss"), g_cfg.issuer);
    CHECK_STR(str(claims, "currency"), "EUR");
    json_decref(claims);
    json_decref(r);
    /* access via the one access check */
    tool_library_tool tl = {.id = tool, .developer_id = dev.developer_id, .status = "published",
                            .pricing_model = "one_time", .price_cents = 999, .currency = "EUR"};
    CHECK_INT(tool_library_can_execute(g_db, &buyer, &tl, &err), 0);
    /* delisted later: the buyer keeps access, a stranger gets 403 */
    tl.status = "delisted";
    CHECK_INT(tool_library_can_execute(g_db, &buyer, &tl, &err), 0);
    account_caller stranger;
    new_user(&stranger, 0, NULL);
    CHECK_INT(tool_library_can_execute(g_db, &stranger, &tl, &err), -1);
    CHECK_INT(err.kind, ERROR_FORBIDDEN);
    error_clear(&err);
    /* a secret that is not configured is refused */
    CHECK_INT(deliver("new-secret", "old-secret", "payment.failed",
                      json_pack("{s:s, s:s}", "transaction_id", id, "reason", "x"), &err), -1);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    /* listing */
    json_t *list = transaction_list(g_db, &dev, "seller", 1, 10, &err);
    CHECK(list && json_integer_value(json_object_get(list, "total")) == 1);
    json_decref(list);
    check_money();
}

static void request_hash(const char *tool_id_text, unsigned char out[32])
{
    json_t *body = json_pack("{s:s}", "tool_id", tool_id_text);
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    char *msg = NULL;
    if (asprintf(&msg, "POST /transactions\n%s", text) < 0)
        exit(2);
    unsigned len = 0;
    EVP_Digest(msg, strlen(msg), out, &len, EVP_sha256(), NULL);
    free(msg);
    free(text);
}

static void test_idempotency_lifetimes(void)
{
    account_caller dev, buyer;
    new_user(&dev, 1, NULL);
    new_user(&buyer, 0, NULL);
    int64_t tool = priced_tool(&dev, "subscription", 100, 7);
    char tool_text[32];
    snprintf(tool_text, sizeof tool_text, "%" PRId64, tool);
    mkt_error err = MKT_ERROR_INIT;
    char key[128];
    snprintf(key, sizeof key, "%s", unique("life", ""));
    json_t *first = buy(&buyer, tool, key, &err);
    CHECK(first != NULL);
    /* replay */
    json_t *again = buy(&buyer, tool, key, &err);
    CHECK(again && json_equal(first, again));
    json_decref(again);
    /* after 24 h the key is free again: a new transaction */
    db_exec(g_db, "UPDATE idempotency_keys SET created_at = NOW(6) - INTERVAL 25 HOUR WHERE user_id = ? AND idem_key = ?",
            DB_PARAMS(db_int(buyer.user_id), db_text(key)), NULL, &err);
    again = buy(&buyer, tool, key, &err);
    CHECK(again && first && strcmp(str(again, "id"), str(first, "id")) != 0);
    json_decref(again);
    json_decref(first);

    /* a reservation whose request died (no answer, a minute old) is taken over */
    unsigned char hash[32];
    request_hash(tool_text, hash);
    char dead[128];
    snprintf(dead, sizeof dead, "%s", unique("dead", ""));
    CHECK_INT(db_exec(g_db,
                      "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, created_at)"
                      " VALUES (?, ?, ?, NOW(6) - INTERVAL 2 MINUTE)",
                      DB_PARAMS(db_int(buyer.user_id), db_text(dead), db_bytes(hash, 32)), NULL, &err),
              0);
    json_t *taken = buy(&buyer, tool, dead, &err);
    CHECK(taken != NULL);
    json_decref(taken);
    /* one in progress right now: 409 after waiting a while; another body: 422 at once */
    char busy[128];
    snprintf(busy, sizeof busy, "%s", unique("busy", ""));
    db_exec(g_db, "INSERT INTO idempotency_keys (user_id, idem_key, request_hash) VALUES (?, ?, ?)",
            DB_PARAMS(db_int(buyer.user_id), db_text(busy), db_bytes(hash, 32)), NULL, &err);
    CHECK(buy(&buyer, tool, busy, &err) == NULL);
    CHECK_INT(err.kind, ERROR_CONFLICT);
    error_clear(&err);
    CHECK(buy(&buyer, tool + 1000000, busy, &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    error_clear(&err);
    /* a failed request releases its key: the same key works once the cause is gone */
    char lost[128];
    snprintf(lost, sizeof lost, "%s", unique("lost", ""));
    CHECK(buy(&buyer, 999999999999LL, lost, &err) == NULL);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);
    CHECK_INT(query_int("SELECT COUNT(*) FROM idempotency_keys WHERE user_id = ? AND idem_key LIKE 'lost%'",
                        buyer.user_id),
              0);
    check_money();
}

/* An event id is a token: printable ASCII without spaces (an Idempotency-Key may hold spaces; the
 * two rules share one check with a parameter, so this pins the event side). */
static void test_event_id_rule(void)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = deliver_as("evt with space", "id-secret", "id-secret", "payment.failed", succeeded("1", 100, "USD"), &err);
    CHECK(rc < 0);
    CHECK(err.field_count == 1 && strcmp(err.fields[0].field, "id") == 0);
    error_clear(&err);
    rc = deliver_as("evt\x7f", "id-secret", "id-secret", "payment.failed", succeeded("1", 100, "USD"), &err);
    CHECK(rc < 0 && err.field_count == 1);
    error_clear(&err);
}

/* checkout_url: only with the config key set (the test-mode provider), only for a pending checkout. */
static void test_checkout_url_only_when_configured(void)
{
    account_caller dev, buyer;
    new_user(&dev, 1, NULL);
    new_user(&buyer, 0, NULL);
    config production = g_cfg, test_mode = g_cfg;
    production.checkout_url = "";
    test_mode.checkout_url = "/pay";
    mkt_error err = MKT_ERROR_INIT;

    json_t *t = buy_with(&production, &buyer, priced_tool(&dev, "one_time", 999, 0), unique("k", ""), &err);
    CHECK(t && json_object_get(t, "checkout_url") == NULL);
    json_decref(t);

    t = buy_with(&test_mode, &buyer, priced_tool(&dev, "one_time", 999, 0), unique("k", ""), &err);
    char expected[96];
    snprintf(expected, sizeof expected, "/pay/%s?amount_cents=999&currency=EUR", t ? str(t, "id") : "?");
    CHECK_STR(t ? str(t, "checkout_url") : NULL, expected);
    json_decref(t);

    t = buy_with(&test_mode, &buyer, priced_tool(&dev, "free", 0, 0), unique("k", ""), &err);
    CHECK(t && strcmp(str(t, "status"), "completed") == 0 && json_object_get(t, "checkout_url") == NULL);
    json_decref(t);
    if (check_failures)
        dump(&err);
    error_clear(&err);
    check_money();
}

/* A completed purchase's webhook is one transaction of few round trips: the event row, the locked
 * transaction, its completion with the receipt (one UPDATE), the posting and all its entries (one
 * multi-row INSERT), access, the download and the event's result. Measured on a second purchase, so
 * every statement is prepared already. */
static void test_completion_round_trips(void)
{
    account_caller dev, buyer;
    new_user(&dev, 1, NULL);
    int64_t tool = priced_tool(&dev, "one_time", 500, 0);
    int64_t used = 0;
    for (int i = 0; i < 2; i++) {
        new_user(&buyer, 0, NULL);
        mkt_error err = MKT_ERROR_INIT;
        json_t *t = buy(&buyer, tool, unique("rt", ""), &err);
        CHECK(t != NULL);
        if (!t) {
            dump(&err);
            return;
        }
        char id[32];
        snprintf(id, sizeof id, "%s", str(t, "id"));
        json_decref(t);
        int64_t before = statements_sent();
        CHECK_INT(deliver(g_cfg.webhook_secret, g_cfg.webhook_secret, "payment.succeeded", succeeded(id, 500, "EUR"), &err),
                  0);
        used = statements_sent() - before - 1; /* the SHOW itself counts */
        error_clear(&err);
    }
    fprintf(stderr, "  a completion took %" PRId64 " statements\n", used);
    /* 17 before the entries were one INSERT and the receipt one UPDATE; one of the 14 asks the server
     * whether the transaction is still open before the ledger writes (a Galera abort between two
     * statements leaves none open, and the entries would commit one by one) */
    CHECK(used > 0 && used <= 14);
    check_money();
}

int main(void)
{
    if (tools_support_open() < 0)
        return 2;
    mkt_error err = MKT_ERROR_INIT;
    g_keys = jws_keyring_load(g_cfg.signing_key_dir, &err);
    if (!g_keys || jws_keyring_count(g_keys) == 0) {
        fprintf(stderr, "no signing keys in %s: %s\n", g_cfg.signing_key_dir, err.message ? err.message : "empty");
        return 2;
    }
    RUN(test_checkout_complete_receipt);
    RUN(test_idempotency_lifetimes);
    RUN(test_event_id_rule);
    RUN(test_checkout_url_only_when_configured);
    RUN(test_completion_round_trips);
    jws_keyring_free(g_keys);
    tools_support_close();
    return check_finish();
}

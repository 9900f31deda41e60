#include "tests/support/fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/account.h"
#include "core/ledger.h"
#include "core/payout.h"
#include "core/search.h"
#include "core/transaction_manager.h"
#include "tests/support/check.h"
#include "tests/support/procs.h"
#include "tests/support/provider.h"
#include "tests/support/stack_env.h"
#include "tests/support/tmpdir.h"

json_t *fixture_json(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v) {
        fprintf(stderr, "bad test JSON: %s: %s\n", jerr.text, text);
        exit(2);
    }
    return v;
}

/* ---- accounts ----------------------------------------------------------------------------------- */

void fixture_user(http_user *u)
{
    if (http_register_user(u) < 0)
        exit(2);
}

void fixture_staff(http_user *u, const char *role)
{
    fixture_user(u);
    mkt_error err = {0};
    if (account_grant_role(fixture_db(), u->email, role, &err) < 0) {
        fprintf(stderr, "granting %s to %s: %s\n", role, u->email, err.message);
        exit(2);
    }
    error_clear(&err);
    long status = http_login(u->email, u->password, u->token, sizeof u->token);
    if (status != 200) {
        fprintf(stderr, "signing %s in again: %ld\n", u->email, status);
        exit(2);
    }
}

void fixture_user_age(const http_user *u, int64_t seconds)
{
    mkt_error err = {0};
    if (db_exec(fixture_db(), "UPDATE users SET created_at = created_at - INTERVAL ? SECOND WHERE id = ?",
                DB_PARAMS(db_int(seconds), db_text(u->id)), NULL, &err) < 0) {
        fprintf(stderr, "ageing %s: %s\n", u->email, err.message);
        exit(2);
    }
}

int64_t fixture_developer(http_user *u, const char *display_name)
{
    fixture_user(u);
    json_t *body = json_pack("{s:s}", "display_name", display_name);
    http_response *res = http_post_json("/developers", u->token, body);
    json_decref(body);
    const char *id = http_json_string(res, "id");
    if (res->status != 201 || !id) {
        http_dump("POST /developers", res);
        exit(2);
    }
    int64_t developer_id = strtoll(id, NULL, 10);
    http_response_free(res);
    return developer_id;
}

/* ---- tools -------------------------------------------------------------------------------------- */

void fixture_search_settle(void)
{
    usleep((SEARCH_FEED_EVERY_MS + 50) * 1000);
}

void fixture_check_jansson_text(const http_response *res)
{
    if (res->status != 200 || !res->json)
        return;
    char *want = json_dumps(res->json, JSON_COMPACT);
    CHECK(want != NULL);
    if (want) {
        size_t n = strlen(want);
        CHECK_INT(res->body_len, n + 1);
        if (res->body_len == n + 1 && (memcmp(res->body, want, n) != 0 || res->body[n] != '\n')) {
            fprintf(stderr, "  the answer differs from jansson's text:\n  got  %s\n  want %s\n", res->body, want);
            check_failures++;
        }
    }
    free(want);
}

void fixture_random_seed(void)
{
    unsigned seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
}

const char *fixture_slug(const char *tag)
{
    static char buf[8][FIXTURE_SLUG_SIZE];
    static unsigned counter;
    char *out = buf[counter % 8];
    snprintf(out, sizeof buf[0], "%s-%d-%ld-%u", tag, (int)getpid(), (long)time(NULL) % 100000, counter);
    counter++;
    return out;
}

const char fixture_adder_code[] = "function handler(input)\n  return {sum = input.a + input.b}\nend\n";

json_t *fixture_adder_draft(const char *slug)
{
    json_t *body = fixture_json(
        "{\"name\": \"Adder\", \"summary\": \"Adds two integers\", \"category\": \"math\","
        " \"tags\": [\"math\", \"sum\"],"
        " \"input_schema\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"},"
        "   \"b\": {\"type\": \"integer\"}}, \"required\": [\"a\", \"b\"]},"
        " \"output_schema\": {\"type\": \"object\", \"properties\": {\"sum\": {\"type\": \"integer\"}},"
        "   \"required\": [\"sum\"]},"
        " \"tests\": [{\"name\": \"one plus two\", \"input\": {\"a\": 1, \"b\": 2}, \"expected\": {\"sum\": 3}}]}");
    json_object_set_new(body, "slug", json_string(slug));
    json_object_set_new(body, "code", json_string(fixture_adder_code));
    return body;
}

void fixture_create_tool(const http_user *dev, json_t *body, char *id)
{
    http_response *res = http_post_json("/tools", dev->token, body);
    json_decref(body);
    if (res->status != 201 || !http_json_string(res, "id")) {
        http_dump("POST /tools", res);
        exit(2);
    }
    snprintf(id, FIXTURE_ID_SIZE, "%s", http_json_string(res, "id"));
    http_response_free(res);
}

int fixture_post_expect(const http_user *u, const char *path, json_t *body, const char *body_text, long status,
                        const char *what)
{
    http_response *res = body_text ? http_post_text(path, u->token, body_text) : http_post_json(path, u->token, body);
    json_decref(body);
    int ok = res->status == status;
    if (!ok)
        http_dump(what, res);
    http_response_free(res);
    return ok ? 0 : -1;
}

void fixture_publish(const http_user *dev, const char *ref, const char *version)
{
    char path[192];
    snprintf(path, sizeof path, "/tools/%s/publish", ref);
    json_t *body = json_pack("{s:s, s:s}", "version", version, "changelog", "first");
    http_response *res = http_post_json(path, dev->token, body);
    json_decref(body);
    if (res->status != 201) {
        http_dump("publish", res);
        exit(2);
    }
    http_response_free(res);
}

void fixture_adder_tool(const http_user *dev, const char *model, int64_t price_cents, int64_t period_days, char *id,
                        char *slug)
{
    const char *made = fixture_slug("adder");
    json_t *body = fixture_adder_draft(made);
    json_t *pricing = json_pack("{s:s}", "model", model);
    if (strcmp(model, "free") != 0) {
        json_object_set_new(pricing, "price_cents", json_integer(price_cents));
        json_object_set_new(pricing, "currency", json_string("USD"));
    }
    if (period_days)
        json_object_set_new(pricing, "period_days", json_integer(period_days));
    json_object_set_new(body, "pricing", pricing);
    fixture_create_tool(dev, body, id);
    fixture_publish(dev, id, "1.0.0");
    if (slug)
        snprintf(slug, FIXTURE_SLUG_SIZE, "%s", made);
}

void fixture_expect_status_at(const http_response *res, long status, int line)
{
    if (res->status != status) {
        fprintf(stderr, "  line %d: expected %ld\n", line, status);
        http_dump("got", res);
        check_failures++;
    } else if (status >= 400 && !http_is_problem(res, status)) {
        fprintf(stderr, "  line %d: not a problem document\n", line);
        http_dump("got", res);
        check_failures++;
    }
}

void fixture_expect_status_free_at(http_response *res, long status, int line)
{
    fixture_expect_status_at(res, status, line);
    http_response_free(res);
}

/* ---- purchases ---------------------------------------------------------------------------------- */

void fixture_idempotency_key(char *out, size_t size)
{
    static unsigned n;
    snprintf(out, size, "key-%d-%ld-%u-%d", (int)getpid(), (long)time(NULL), n++, rand());
}

http_response *fixture_checkout(const http_user *buyer, const char *key, const char *tool_id)
{
    char header[400], body[96];
    const char *headers[] = {header, NULL};
    if (key)
        snprintf(header, sizeof header, "Idempotency-Key: %s", key);
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\"}", tool_id);
    return http_request("POST", "/transactions", buyer->token, NULL, body, strlen(body), key ? headers : NULL);
}

/* Counts a failure when res is not the expected status (the purchase steps are checked). */
static int fixture_expect(const http_response *res, long status, const char *what)
{
    if (res->status == status)
        return 0;
    fprintf(stderr, "  %s: expected %ld\n", what, status);
    http_dump("got", res);
    check_failures++;
    return -1;
}

int fixture_checkout_pending(const http_user *buyer, const char *tool_id, char *txn)
{
    char key[128];
    fixture_idempotency_key(key, sizeof key);
    http_response *res = fixture_checkout(buyer, key, tool_id);
    int rc = fixture_expect(res, 201, "checkout");
    if (rc == 0 && !http_json_string(res, "id"))
        rc = fixture_expect(res, -1, "checkout without an id");
    if (rc == 0)
        snprintf(txn, FIXTURE_ID_SIZE, "%s", http_json_string(res, "id"));
    http_response_free(res);
    return rc;
}

int fixture_buy(const http_user *buyer, const char *tool_id, int64_t price_cents, char *txn)
{
    if (fixture_checkout_pending(buyer, tool_id, txn) < 0)
        return -1;
    http_response *res = provider_payment_succeeded(NULL, txn, price_cents, "USD");
    int rc = fixture_expect(res, 200, "payment.succeeded");
    http_response_free(res);
    return rc;
}

int fixture_sell_pending(fixture_sale *sale, const char *shop, const char *model, int64_t price_cents,
                         int64_t period_days)
{
    memset(sale, 0, sizeof *sale);
    sale->seller.developer_id = fixture_developer(&sale->seller.user, shop);
    fixture_user(&sale->buyer);
    fixture_adder_tool(&sale->seller.user, model, price_cents, period_days, sale->tool, sale->slug);
    return fixture_checkout_pending(&sale->buyer, sale->tool, sale->txn);
}

int fixture_sell(fixture_sale *sale, const char *shop, int64_t price_cents)
{
    if (fixture_sell_pending(sale, shop, "one_time", price_cents, 0) < 0)
        return -1;
    http_response *res = provider_payment_succeeded(NULL, sale->txn, price_cents, "USD");
    int rc = fixture_expect(res, 200, "payment.succeeded");
    http_response_free(res);
    return rc;
}

http_response *fixture_post_payout(const http_user *dev, int64_t amount_cents, const char *currency)
{
    json_t *body = json_pack("{s:I, s:s}", "amount_cents", (json_int_t)amount_cents, "currency", currency);
    http_response *res = http_post_json("/developers/me/payouts", dev->token, body);
    json_decref(body);
    return res;
}

int fixture_request_payout(const http_user *dev, int64_t amount_cents, const char *currency, fixture_payout *out)
{
    http_response *res = fixture_post_payout(dev, amount_cents, currency);
    const char *token = http_json_string(res, "token");
    const char *id = json_string_value(json_object_get(json_object_get(res->json, "payout"), "id"));
    int rc = fixture_expect(res, 201, "payout request");
    if (rc == 0 && (!token || !id || strlen(token) >= sizeof out->token))
        rc = fixture_expect(res, -1, "payout answer without a usable token and id");
    if (rc == 0) {
        snprintf(out->token, sizeof out->token, "%s", token);
        snprintf(out->id, sizeof out->id, "%s", id);
    }
    http_response_free(res);
    return rc;
}

http_response *fixture_redeem(const char *token)
{
    json_t *body = json_pack("{s:s}", "token", token);
    http_response *res = http_post_json("/payouts/redeem", NULL, body);
    json_decref(body);
    return res;
}

/* ---- database ----------------------------------------------------------------------------------- */

static config fixture_cfg;
static int fixture_cfg_loaded;
static db *fixture_conn;

const config *fixture_config(void)
{
    if (!fixture_cfg_loaded) {
        stack_env_config(&fixture_cfg);
        fixture_cfg_loaded = 1;
    }
    return &fixture_cfg;
}

db *fixture_db_open(void)
{
    mkt_error err = MKT_ERROR_INIT;
    db *conn = db_open(fixture_config(), &err);
    if (!conn) {
        fprintf(stderr, "cannot open the test database: %s\n", err.message ? err.message : "?");
        exit(2);
    }
    return conn;
}

db *fixture_db(void)
{
    if (!fixture_conn)
        fixture_conn = fixture_db_open();
    return fixture_conn;
}

static jws_keyring *fixture_keyring;

jws_keyring *fixture_keys(void)
{
    if (!fixture_keyring) {
        mkt_error err = MKT_ERROR_INIT;
        const char *dir = fixture_config()->signing_key_dir;
        fixture_keyring = jws_keyring_load(dir, &err);
        if (!fixture_keyring || !jws_keyring_signing_kid(fixture_keyring)) {
            fprintf(stderr, "no signing key in the stack's %s: %s\n", dir, err.message ? err.message : "empty");
            exit(2);
        }
    }
    return fixture_keyring;
}

void fixture_close(void)
{
    jws_keyring_free(fixture_keyring);
    fixture_keyring = NULL;
    db_close(fixture_conn);
    fixture_conn = NULL;
    if (fixture_cfg_loaded)
        config_free(&fixture_cfg);
    fixture_cfg_loaded = 0;
}

/* The single value of a query into rows; 0 when there is exactly one row and it is not NULL. */
static int fixture_query_one(db *db, const char *sql, const db_value *params, size_t count, db_rows *rows)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = db_query(db, sql, params, count, rows, &err);
    if (rc < 0)
        fprintf(stderr, "    query failed: %s: %s\n", sql, err.message ? err.message : "?");
    error_clear(&err);
    return rc == 0 && rows->row_count == 1 && !db_rows_is_null(rows, 0, 0) ? 0 : -1;
}

int64_t fixture_query_int(db *db, const char *sql, const db_value *params, size_t count)
{
    db_rows rows = {0};
    int64_t v = fixture_query_one(db, sql, params, count, &rows) == 0 ? db_rows_int(&rows, 0, 0) : INT64_MIN;
    db_rows_free(&rows);
    return v;
}

int64_t fixture_sql_int(const char *sql, db_value param)
{
    return fixture_query_int(fixture_db(), sql, &param, 1);
}

const char *fixture_sql_text(const char *sql, db_value param)
{
    static char out[256];
    db_rows rows = {0};
    out[0] = '\0';
    if (fixture_query_one(fixture_db(), sql, &param, 1, &rows) == 0)
        snprintf(out, sizeof out, "%s", db_rows_text(&rows, 0, 0));
    db_rows_free(&rows);
    return out;
}

/* Far above any real transaction id (and apart per process), so a fake purchase never takes a real
 * one's posting key. */
static int64_t fixture_fake_transaction_id(void)
{
    static int64_t counter;
    return INT64_C(4100000000000000000) + (int64_t)(time(NULL) % 100000) * INT64_C(10000000000000) +
           (int64_t)(getpid() % 1000000) * INT64_C(10000000) + counter++;
}

typedef struct {
    int64_t developer_id, dev_cents;
    const char *currency;
} fixture_fund_ctx;

static int fixture_fund_tx(db *db, void *arg, mkt_error *err)
{
    fixture_fund_ctx *f = arg;
    return ledger_post_purchase(db, fixture_fake_transaction_id(), f->developer_id, f->currency, f->dev_cents + 50,
                                f->dev_cents, 50, err);
}

void fixture_fund(int64_t developer_id, const char *currency, int64_t dev_cents)
{
    fixture_fund_ctx f = {developer_id, dev_cents, currency};
    mkt_error err = MKT_ERROR_INIT;
    if (db_transaction(fixture_db(), fixture_fund_tx, &f, &err) < 0) {
        fprintf(stderr, "fund: %s\n", err.message ? err.message : "?");
        exit(2);
    }
}

int64_t fixture_balance(int64_t developer_id, const char *bucket, const char *currency)
{
    char account[LEDGER_ACCOUNT_MAX];
    int64_t cents = INT64_MIN;
    mkt_error err = MKT_ERROR_INIT;
    if (ledger_account_developer(account, developer_id, bucket) < 0 ||
        ledger_balance(fixture_db(), account, currency, &cents, &err) < 0)
        fprintf(stderr, "    balance: %s\n", err.message ? err.message : "?");
    error_clear(&err);
    return cents;
}

void fixture_check_money_at(int line)
{
    static const struct {
        const char *what;
        int (*check)(db *, mkt_error *);
    } checks[] = {
        {"ledger invariants", ledger_check_invariants},
        {"payout invariants", payout_check_invariants},
        {"transaction postings", transaction_check_postings},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        mkt_error err = MKT_ERROR_INIT;
        if (checks[i].check(fixture_db(), &err) < 0) {
            fprintf(stderr, "  line %d: %s broken: %s\n", line, checks[i].what, err.message ? err.message : "?");
            check_failures++;
        }
        error_clear(&err);
    }
}

/* ---- OpenSSL as the independent judge of our signatures ------------------------------------------ */

int fixture_openssl_b64url(const char *in, size_t len, unsigned char *out, size_t cap)
{
    if (len % 4 == 1)
        return -1;
    size_t padded = (len + 3) / 4 * 4;
    char *std = malloc(padded + 1);
    unsigned char *buf = malloc(padded + 1);
    if (!std || !buf) {
        free(std);
        free(buf);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    for (size_t i = len; i < padded; i++)
        std[i] = '=';
    std[padded] = '\0';
    int n = EVP_DecodeBlock(buf, (const unsigned char *)std, (int)padded);
    free(std);
    if (n >= 0)
        n -= (int)(padded - len); /* EVP_DecodeBlock counts the padding as zero bytes */
    if (n < 0 || (size_t)n > cap) {
        free(buf);
        return -1;
    }
    memcpy(out, buf, (size_t)n);
    free(buf);
    return n;
}

void fixture_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

int fixture_write_public_pem(const char *dir, const char *x)
{
    /* SubjectPublicKeyInfo for Ed25519: a fixed 12-byte DER prefix + the 32 raw bytes */
    static const unsigned char spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                  0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    unsigned char der[12 + 32];
    memcpy(der, spki_prefix, sizeof spki_prefix);
    int raw_len = x ? fixture_openssl_b64url(x, strlen(x), der + 12, 32) : -1;
    if (raw_len != 32)
        return raw_len;
    unsigned char pem_body[80];
    EVP_EncodeBlock(pem_body, der, (int)sizeof der);
    char pem[256], path[512];
    int pem_len = snprintf(pem, sizeof pem, "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n", pem_body);
    snprintf(path, sizeof path, "%s/pub.pem", dir);
    fixture_write_file(path, pem, (size_t)pem_len);
    return raw_len;
}

static char *fixture_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 8192);
    if (buf)
        (void)fread(buf, 1, 8191, f);
    fclose(f);
    return buf;
}

int fixture_openssl_verifies(const char *dir, const char *token)
{
    const char *last_dot = strrchr(token, '.');
    if (!last_dot)
        return 0;
    char path[512], cmd[2048];
    snprintf(path, sizeof path, "%s/input", dir);
    fixture_write_file(path, token, (size_t)(last_dot - token));
    unsigned char sig[128];
    int sig_len = fixture_openssl_b64url(last_dot + 1, strlen(last_dot + 1), sig, sizeof sig);
    if (sig_len < 0)
        return 0;
    snprintf(path, sizeof path, "%s/sig", dir);
    fixture_write_file(path, sig, (size_t)sig_len);
    snprintf(cmd, sizeof cmd,
             "openssl pkeyutl -verify -pubin -inkey %s/pub.pem -rawin -in %s/input -sigfile %s/sig >%s/out 2>&1", dir,
             dir, dir, dir);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/out", dir);
    char *out = fixture_read_text(path);
    int said = out && strstr(out, "Signature Verified Successfully") != NULL;
    free(out);
    return rc == 0 && said;
}

fixture_worker_counters fixture_worker_counters_now(void)
{
    return (fixture_worker_counters){(long)fixture_metric("marketplace_worker_crashes_total"),
                                     (long)fixture_metric("marketplace_worker_timeouts_total")};
}

int fixture_check_workers_since(fixture_worker_counters before)
{
    if (before.crashes < 0 || before.timeouts < 0)
        return -1;
    fixture_worker_counters now = fixture_worker_counters_now();
    CHECK_INT(now.crashes, before.crashes);
    CHECK_INT(now.timeouts, before.timeouts);
    return 0;
}

void fixture_openssl_done(const char *dir)
{
    if (check_failures) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "cat %s/out %s/pub.pem >&2", dir, dir);
        if (system(cmd) != 0)
            fprintf(stderr, "  (no openssl output)\n");
    }
    tmpdir_remove(dir);
}

/* ---- the server --------------------------------------------------------------------------------- */

double fixture_metric(const char *name)
{
    http_response *res = http_raw("GET", HTTP_API_BASE "/metrics", NULL, NULL, 0);
    double v = -1;
    size_t n = strlen(name);
    const char *p = res->status == 200 ? strstr(res->body, name) : NULL;
    while (p) {
        /* a sample line, not the HELP/TYPE comment */
        if ((p == res->body || p[-1] == '\n') && p[n] == ' ') {
            v = strtod(p + n + 1, NULL);
            break;
        }
        p = strstr(p + 1, name);
    }
    http_response_free(res);
    return v;
}

long fixture_worker_pid_of(const char *request_id)
{
    const char *log = stack_env("MKT_SERVER_LOG");
    if (!request_id || !log || !*log)
        return 0;
    char path[1024], needle[128];
    snprintf(path, sizeof path, "%s", log);
    snprintf(needle, sizeof needle, "\"request_id\":\"%s\"", request_id);
    for (int attempt = 0; attempt < 40; attempt++) {
        FILE *f = fopen(path, "r");
        char line[4096];
        long pid = 0;
        while (f && !pid && fgets(line, sizeof line, f)) {
            const char *p = strstr(line, needle);
            const char *q = p ? strstr(p, "\"pid\":") : NULL;
            if (q)
                pid = strtol(q + 6, NULL, 10);
        }
        if (f)
            fclose(f);
        if (pid > 0)
            return pid;
        procs_sleep(0.05);
    }
    return 0;
}

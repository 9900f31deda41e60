/* The set-up steps the end-to-end tests share: accounts, developers, published tools, purchases
 * completed by a signed webhook, payouts, and direct database reads for checks (the integration tests
 * use the database part too). Everything goes through the real stack (nginx -> server -> MariaDB),
 * with unique names, so tests stay independent and can run in any order.
 *
 * A set-up step that fails is not what a test checks: it prints the answer and exits the test with
 * status 2. The purchase steps are part of what the money tests check, so they count a failure
 * (check.h) and return -1 instead. */
#ifndef TESTS_FIXTURES_H
#define TESTS_FIXTURES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/jws.h"
#include "sql/db.h"
#include "tests/support/http.h"

/* Room for an id ("123") or a slug the fixtures make. */
#define FIXTURE_ID_SIZE 32
#define FIXTURE_SLUG_SIZE 96

/* JSON text written in a test, parsed (any value); exits 2 when the test's own JSON is malformed. */
json_t *fixture_json(const char *text);

/* ---- accounts ----------------------------------------------------------------------------------- */

/* A freshly registered user with a unique email. */
void fixture_user(http_user *u);

/* A fresh user holding role ("moderator" or "admin"), granted through core/account's
 * account_grant_role (what `marketplace user grant` runs) and then signed in again: u->token is a new
 * session, so no worker's auth cache can still hold the account's rolesless caller. */
void fixture_staff(http_user *u, const char *role);

/* Makes u's account look seconds older (its created_at moves back), for rules about fresh accounts:
 * the test stack sets report_min_account_age = 3600, so a reporter that must count toward hiding a
 * review is aged first. */
void fixture_user_age(const http_user *u, int64_t seconds);

/* A fresh user who became a developer (POST /developers with display_name); returns the developer id. */
int64_t fixture_developer(http_user *u, const char *display_name);

/* A developer and its id, for the tests that post to its ledger accounts. */
typedef struct {
    http_user user;
    int64_t developer_id;
} fixture_seller;

/* Seeds rand() from the kernel's random source: tests started together must not draw the same
 * words (time ^ pid can coincide across two processes started a second apart). */
void fixture_random_seed(void);

/* Waits until what the test wrote straight into MariaDB (which no server process announces) reaches
 * every worker's search index: SEARCH_FEED_EVERY_MS, and a little more. */
void fixture_search_settle(void);

/* Checks (CHECK) that a 200 JSON answer is byte for byte what jansson writes for the same document
 * (compact, members in order, a newline): answers the server writes as text without jansson
 * (search, trending) must not differ from the others, for ETags and clients alike. */
void fixture_check_jansson_text(const http_response *res);

/* ---- tools -------------------------------------------------------------------------------------- */

/* "<tag>-<pid>-<time>-<counter>": unique across tests and runs. Eight rotating static buffers, so a
 * few may be held at once. */
const char *fixture_slug(const char *tag);

/* The adder's code, and a complete valid draft of it under slug: {a, b} integers -> {sum}, tags
 * [math, sum], one passing test, no pricing (free). */
extern const char fixture_adder_code[];
json_t *fixture_adder_draft(const char *slug);

/* POST /tools with body (taken); the new tool's id into id (FIXTURE_ID_SIZE). */
void fixture_create_tool(const http_user *dev, json_t *body, char *id);

/* POST path with body as u (body taken; text when body_text is not NULL instead): 0 when the answer
 * has status, else -1 with the answer printed under what. For set-up steps the caller may survive. */
int fixture_post_expect(const http_user *u, const char *path, json_t *body, const char *body_text, long status,
                        const char *what);

/* POST /tools/{ref}/publish {version, changelog}. */
void fixture_publish(const http_user *dev, const char *ref, const char *version);

/* A published adder. model "free", "one_time" or "subscription"; price_cents in USD (ignored when
 * free); period_days 0 for none. Its id into id (FIXTURE_ID_SIZE) and, when slug is not NULL, its
 * slug (FIXTURE_SLUG_SIZE). */
void fixture_adder_tool(const http_user *dev, const char *model, int64_t price_cents, int64_t period_days, char *id,
                        char *slug);

/* Counts a failure (with the line) unless res has status; a 4xx/5xx must also be a problem document. */
void fixture_expect_status_at(const http_response *res, long status, int line);
#define EXPECT_STATUS(res, status) fixture_expect_status_at((res), (status), __LINE__)

/* The same, then frees res: for answers that matter only by their status. */
void fixture_expect_status_free_at(http_response *res, long status, int line);
#define EXPECT_STATUS_FREE(res, status) fixture_expect_status_free_at((res), (status), __LINE__)

/* ---- purchases ---------------------------------------------------------------------------------- */

/* A unique Idempotency-Key. */
void fixture_idempotency_key(char *out, size_t size);

/* POST /transactions {"tool_id": tool_id} with Idempotency-Key key (NULL: no header). */
http_response *fixture_checkout(const http_user *buyer, const char *key, const char *tool_id);

/* A pending checkout under a fresh key: 201 expected, the transaction id into txn (FIXTURE_ID_SIZE). */
int fixture_checkout_pending(const http_user *buyer, const char *tool_id, char *txn);

/* A checkout completed by the provider's signed payment.succeeded for price_cents USD: 201 then 200
 * expected; the transaction id into txn (FIXTURE_ID_SIZE). */
int fixture_buy(const http_user *buyer, const char *tool_id, int64_t price_cents, char *txn);

/* A completed sale: a fresh developer (display name shop) sells a fresh one_time adder at price_cents
 * USD to a fresh buyer, paid by the provider's signed payment.succeeded. -1 (failure counted) when
 * the purchase did not complete. */
typedef struct {
    fixture_seller seller;
    http_user buyer;
    char tool[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], txn[FIXTURE_ID_SIZE];
} fixture_sale;
int fixture_sell(fixture_sale *sale, const char *shop, int64_t price_cents);

/* The same up to a pending checkout (no webhook yet): the model's tool ("one_time" or "subscription"
 * with period_days) and the pending transaction in sale->txn. -1 (failure counted) when the checkout
 * was refused. */
int fixture_sell_pending(fixture_sale *sale, const char *shop, const char *model, int64_t price_cents,
                         int64_t period_days);

/* POST /developers/me/payouts {amount_cents, currency} as dev. */
http_response *fixture_post_payout(const http_user *dev, int64_t amount_cents, const char *currency);

/* A payout requested over HTTP (201 expected, failure counted): the answer's token and payout id. */
typedef struct {
    char token[2048];
    char id[FIXTURE_ID_SIZE];
} fixture_payout;
int fixture_request_payout(const http_user *dev, int64_t amount_cents, const char *currency, fixture_payout *out);

/* POST /payouts/redeem {token} (no bearer: the token is the credential). */
http_response *fixture_redeem(const char *token);

/* ---- database ----------------------------------------------------------------------------------- */

/* The stack's config and a connection to its database, opened on first use (exits 2 when it fails). */
const config *fixture_config(void);
db *fixture_db(void);

/* The stack's signing keyring (the server's signing_key_dir), loaded on first use; exits 2 when it
 * has no signing key. */
jws_keyring *fixture_keys(void);

/* Closes the connection and frees the config and keyring (at the end of main; a later fixture_db opens again). */
void fixture_close(void);

/* A connection of its own (the caller closes it), for tests that hold several at once. */
db *fixture_db_open(void);

/* The single value of a query on db: INT64_MIN when it fails, finds no row or NULL. */
int64_t fixture_query_int(db *db, const char *sql, const db_value *params, size_t count);

/* One value of a one-parameter query on fixture_db(): INT64_MIN when it fails, finds no row or NULL; the text form
 * (static buffer) "" then. */
int64_t fixture_sql_int(const char *sql, db_value param);
const char *fixture_sql_text(const char *sql, db_value param);

/* Posts a purchase worth dev_cents to the developer straight into the ledger (a balance to pay out
 * without going through checkout). */
void fixture_fund(int64_t developer_id, const char *currency, int64_t dev_cents);

/* The developer's balance in bucket (LEDGER_BUCKET_*) and currency; INT64_MIN when unreadable. */
int64_t fixture_balance(int64_t developer_id, const char *bucket, const char *currency);

/* The money proof: ledger invariants, payout invariants and that every transaction has exactly the
 * postings its status implies. Counts a failure (with the line) when one is broken. */
void fixture_check_money_at(int line);
#define FIXTURE_CHECK_MONEY() fixture_check_money_at(__LINE__)

/* ---- OpenSSL as the independent judge of our signatures ------------------------------------------ */

/* base64url (no padding) -> bytes through OpenSSL's base64 decoder, not core/codec. Returns the byte
 * count, or -1 when it is not base64url or needs more than cap bytes. */
int fixture_openssl_b64url(const char *in, size_t len, unsigned char *out, size_t cap);

/* Writes len bytes to path (exits 2 when it cannot). */
void fixture_write_file(const char *path, const void *data, size_t len);

/* Writes dir/pub.pem for the raw Ed25519 public key given as base64url x (a JWKS "x"); returns the raw
 * key's length (32 when well formed; -1 when x is NULL or not base64url). */
int fixture_write_public_pem(const char *dir, const char *x);

/* Runs `openssl pkeyutl -verify` on token's signing input ("<header>.<payload>") and its raw
 * signature bytes with dir/pub.pem. 1 only when openssl exits 0 AND says so. */
int fixture_openssl_verifies(const char *dir, const char *token);

/* Worker crash and timeout counters from /metrics (-1 each when /metrics is not reachable). */
typedef struct {
    long crashes, timeouts;
} fixture_worker_counters;
fixture_worker_counters fixture_worker_counters_now(void);

/* Counts a failure when a worker crashed or was killed for a timeout since before. Returns 0 when
 * compared, -1 when the counters could not be read. */
int fixture_check_workers_since(fixture_worker_counters before);

/* After the OpenSSL checks in dir: when the test has failures so far, prints openssl's last output and
 * the key to stderr; then removes dir and the files in it. */
void fixture_openssl_done(const char *dir);

/* ---- the server --------------------------------------------------------------------------------- */

/* The value of a sample line "<name> <value>" of GET /metrics (-1 when absent). */
double fixture_metric(const char *name);

/* The pid of the worker that answered request_id, from its access-log line (written just after the
 * answer, so it polls for up to 2 s). 0 when not found. */
long fixture_worker_pid_of(const char *request_id);

#endif

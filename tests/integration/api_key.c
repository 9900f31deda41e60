/* core/api_key against a real MariaDB: a created key authenticates as its owner (and only as a key:
 * session_id 0, no expiry given -> far away), the batched usage write-back counts exactly and moves
 * last_used_at, a key whose user was deleted meanwhile has its pending count dropped without an error
 * (and stays refused), and the per-key limit refuses with ERROR_RATE_LIMITED. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/api_key.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"

/* A fresh user as a session caller, and a key of theirs (text into key). */
static int fresh_key(account_caller *caller, char key[64], int64_t *key_id)
{
    http_user u;
    fixture_user(&u);
    *caller = (account_caller){.user_id = strtoll(u.id, NULL, 10), .session_id = 1};
    mkt_error err = MKT_ERROR_INIT;
    json_t *body = json_pack("{s:s}", "name", "integration");
    json_t *out = api_key_create(fixture_db(), caller, body, &err);
    json_decref(body);
    CHECK(out != NULL);
    if (!out) {
        fprintf(stderr, "  create: %s\n", err.message ? err.message : "?");
        error_clear(&err);
        return -1;
    }
    snprintf(key, 64, "%s", json_string_value(json_object_get(out, "key")));
    *key_id = strtoll(json_string_value(json_object_get(out, "id")), NULL, 10);
    json_decref(out);
    return 0;
}

static void test_authenticates_as_owner(void)
{
    account_caller owner, who;
    char key[64];
    int64_t key_id;
    if (fresh_key(&owner, key, &key_id) < 0)
        return;
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(api_key_authenticate(fixture_db(), key, &who, &err), 0);
    CHECK_INT(who.user_id, owner.user_id);
    CHECK_INT(who.api_key_id, key_id);
    CHECK_INT(who.session_id, 0);
    CHECK_INT((long long)who.key_tool_count, 0);
    CHECK(who.expires_at > (int64_t)time(NULL) + 100 * 365 * 86400LL);
    CHECK_INT(api_key_allows_tool(&who, 12345, &err), 0);
    /* a session token with the key's characters is not the key */
    CHECK_INT(api_key_authenticate(fixture_db(), key + 3, &who, &err), -1);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
}

static void test_usage_written_back(void)
{
    account_caller owner, who;
    char key[64];
    int64_t key_id;
    if (fresh_key(&owner, key, &key_id) < 0)
        return;
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(api_key_authenticate(fixture_db(), key, &who, &err), 0);
    config cfg = *fixture_config();
    cfg.api_key_rate_per_minute = 0;
    api_key_flush_usage(fixture_db()); /* nothing of another test left pending */
    for (int i = 0; i < 3; i++)
        CHECK_INT(api_key_use(NULL, &cfg, &who, &err), 0); /* no connection: kept for the write-back */
    CHECK_INT(api_key_flush_usage(fixture_db()), 3);
    CHECK_INT(fixture_sql_int("SELECT requests FROM api_key_days WHERE key_id = ? AND day = UTC_DATE()", db_int(key_id)), 3);
    CHECK_INT(fixture_sql_int("SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = ?", db_int(key_id)), 1);
    CHECK_INT(api_key_use(NULL, &cfg, &who, &err), 0);
    CHECK_INT(api_key_flush_usage(fixture_db()), 1);
    CHECK_INT(fixture_sql_int("SELECT requests FROM api_key_days WHERE key_id = ? AND day = UTC_DATE()", db_int(key_id)), 4);
    error_clear(&err);
}

static void test_deleted_user_dropped(void)
{
    account_caller owner, who;
    char key[64];
    int64_t key_id;
    if (fresh_key(&owner, key, &key_id) < 0)
        return;
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(api_key_authenticate(fixture_db(), key, &who, &err), 0);
    config cfg = *fixture_config();
    cfg.api_key_rate_per_minute = 0;
    api_key_flush_usage(fixture_db());
    CHECK_INT(api_key_use(NULL, &cfg, &who, &err), 0);
    CHECK_INT(db_exec(fixture_db(), "DELETE FROM users WHERE id = ?", DB_PARAMS(db_int(owner.user_id)), NULL, &err), 0);
    /* taken off the pending list (a failed write would stay there, retried and logged for ever) */
    CHECK_INT(api_key_flush_usage(fixture_db()), 1);
    CHECK_INT(api_key_flush_usage(fixture_db()), 0);
    CHECK_INT(fixture_sql_int("SELECT COUNT(*) FROM api_key_days WHERE key_id = ?", db_int(key_id)), 0);
    CHECK_INT(api_key_authenticate(fixture_db(), key, &who, &err), -1);
    CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
}

static void test_per_key_limit(void)
{
    account_caller owner, who;
    char key[64];
    int64_t key_id;
    if (fresh_key(&owner, key, &key_id) < 0)
        return;
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(api_key_authenticate(fixture_db(), key, &who, &err), 0);
    config cfg = *fixture_config();
    cfg.api_key_rate_per_minute = 3;
    int allowed = 0;
    while (allowed < 6 && api_key_use(NULL, &cfg, &who, &err) == 0)
        allowed++;
    CHECK(allowed == 3 || allowed == 4); /* 4 only when the minute turned between the calls */
    CHECK_INT(err.kind, ERROR_RATE_LIMITED);
    CHECK(err.retry_after >= 1);
    error_clear(&err);
    api_key_flush_usage(fixture_db());
}

int main(void)
{
    RUN(test_authenticates_as_owner);
    RUN(test_usage_written_back);
    RUN(test_deleted_user_dropped);
    RUN(test_per_key_limit);
    fixture_close();
    return check_finish();
}

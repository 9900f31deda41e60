/* Helpers shared by the tools integration tests (tools.c: drafts and publishing; tools_execute.c:
 * execution, counters, categories). Each test program has its own copy of the globals. */
#ifndef TESTS_INTEGRATION_TOOLS_SUPPORT_H
#define TESTS_INTEGRATION_TOOLS_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/account.h"
#include "core/tool_builder.h"
#include "core/tool_library.h"
#include "core/tool_usage.h"
#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/stack_env.h"

static db *g_db;
static config g_cfg;

/* ---- helpers -------------------------------------------------------------------------------- */

static unsigned g_counter;

static inline const char *unique(const char *tag, const char *suffix)
{
    static char buf[8][128];
    char *out = buf[g_counter % 8];
    snprintf(out, sizeof buf[0], "%s-%d-%ld-%u%s", tag, (int)getpid(), (long)time(NULL) % 100000, g_counter,
             suffix);
    g_counter++;
    return out;
}

static inline void dump(const mkt_error *err)
{
    fprintf(stderr, "    kind %d, message %s, fields:", err->kind, err->message ? err->message : "(none)");
    for (size_t i = 0; i < err->field_count; i++)
        fprintf(stderr, " [%s: %s]", err->fields[i].field, err->fields[i].message);
    fprintf(stderr, "\n");
}

static inline void check_field_at(const mkt_error *err, const char *field, int line)
{
    for (size_t i = 0; i < err->field_count; i++)
        if (strcmp(err->fields[i].field, field) == 0)
            return;
    fprintf(stderr, "  %s:%d: no field error \"%s\"\n", __FILE__, line, field);
    dump(err);
    check_failures++;
}
#define CHECK_FIELD(err, field) check_field_at((err), (field), __LINE__)

static inline const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A signed-in user, optionally with a developer profile; email_out gets the address. */
static inline void new_user(account_caller *caller, int developer, char *email_out)
{
    const char *email = unique("tools", "@example.test");
    if (email_out)
        strcpy(email_out, email);
    json_t *body = json_pack("{s:s, s:s, s:s}", "email", email, "password", "correct horse battery",
                             "display_name", "Tool Tester");
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = account_register(g_db, &g_cfg, body, &err);
    json_decref(body);
    if (!out || account_authenticate(g_db, str(out, "token"), caller, &err) < 0) {
        dump(&err);
        fprintf(stderr, "cannot make a user\n");
        exit(2);
    }
    if (developer) {
        json_t *dev = json_pack("{s:s}", "display_name", "Dev Shop");
        json_t *profile = account_developer_create(g_db, caller, dev, &err);
        json_decref(dev);
        json_decref(profile);
        if (!profile || account_authenticate(g_db, str(out, "token"), caller, &err) < 0) {
            dump(&err);
            exit(2);
        }
    }
    json_decref(out);
    error_clear(&err);
}

static inline json_t *create(const account_caller *dev, json_t *body)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *tool = tool_builder_create(g_db, dev, body, &err);
    if (!tool) {
        fprintf(stderr, "  create failed\n");
        dump(&err);
        check_failures++;
    }
    json_decref(body);
    error_clear(&err);
    return tool;
}

static inline json_t *publish(const account_caller *dev, const char *ref, const char *version, mkt_error *err)
{
    json_t *body = json_pack("{s:s, s:s}", "version", version, "changelog", "notes");
    json_t *out = tool_builder_publish(g_db, &g_cfg, dev, ref, body, err);
    json_decref(body);
    return out;
}

static inline json_t *execute(const account_caller *caller, const char *ref, const char *body_text, mkt_error *err)
{
    json_t *body = fixture_json(body_text);
    json_t *out = tool_library_execute(g_db, &g_cfg, caller, ref, body, err);
    json_decref(body);
    return out;
}

static inline int64_t query_int(const char *sql, int64_t id)
{
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    int64_t n = -1;
    if (db_query(g_db, sql, DB_PARAMS(db_int(id)), &rows, &err) == 0 && rows.row_count)
        n = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    error_clear(&err);
    return n;
}

/* Statements this connection has sent to the server so far (its session's Questions counter; the
 * SHOW itself is one more). */
static inline int64_t statements_sent(void)
{
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    int64_t n = -1;
    if (db_query(g_db, "SHOW SESSION STATUS LIKE 'Questions'", DB_NO_PARAMS, &rows, &err) == 0 && rows.row_count == 1)
        n = strtoll(db_rows_text(&rows, 0, 1), NULL, 10);
    db_rows_free(&rows);
    error_clear(&err);
    return n;
}

static inline int tools_support_open(void)
{
    stack_env_config(&g_cfg);
    mkt_error err = MKT_ERROR_INIT;
    g_db = db_open(&g_cfg, &err);
    if (!g_db) {
        fprintf(stderr, "db_open: %s\n", err.message ? err.message : "?");
        error_clear(&err);
        return -1;
    }
    return 0;
}

static inline void tools_support_close(void)
{
    db_close(g_db);
    config_free(&g_cfg);
}

#endif

/* core/tool_library against a real MariaDB, part 2: executing published versions (latest or asked
 * for), the access check, input/output schemas, the counters (executions per day, downloads on first
 * use) and the category counts. */
#include "tests/integration/tools_support.h"

/* ---- execute ---------------------------------------------------------------------------------- */

static void test_execute_and_counters(void)
{
    account_caller dev, buyer, buyer2;
    new_user(&dev, 1, NULL);
    new_user(&buyer, 0, NULL);
    new_user(&buyer2, 0, NULL);
    const char *slug = unique("exec", "");
    json_t *tool = create(&dev, fixture_adder_draft(slug));
    if (!tool)
        return;
    int64_t id = strtoll(str(tool, "id"), NULL, 10);
    json_decref(tool);
    mkt_error err = MKT_ERROR_INIT;

    /* nothing published: the owner hears why, everyone else sees no tool */
    CHECK(execute(&dev, slug, "{\"input\": {\"a\": 1, \"b\": 1}}", &err) == NULL);
    CHECK_INT(err.kind, ERROR_CONFLICT);
    error_clear(&err);
    CHECK(execute(&buyer, slug, "{\"input\": {\"a\": 1, \"b\": 1}}", &err) == NULL);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);

    json_decref(publish(&dev, slug, "1.0.0", &err));
    /* the draft moves on; 1.0.0 keeps running the published code */
    json_t *edit = fixture_json("{\"code\": \"function handler(input) return {sum = input.a * input.b} end\","
                         " \"tests\": [{\"name\": \"product\", \"input\": {\"a\": 2, \"b\": 3},"
                         " \"expected\": {\"sum\": 6}}]}");
    json_decref(tool_builder_update(g_db, &dev, slug, edit, &err));
    json_decref(edit);
    json_decref(publish(&dev, slug, "2.0.0", &err));
    error_clear(&err);

    json_t *out = execute(&buyer, slug, "{\"input\": {\"a\": 2, \"b\": 5}}", &err);
    CHECK(out != NULL);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "output"), "sum")), 10);
    CHECK_STR(str(out, "version"), "2.0.0");
    CHECK(json_is_integer(json_object_get(out, "duration_us")));
    json_decref(out);
    out = execute(&buyer, slug, "{\"input\": {\"a\": 2, \"b\": 5}, \"version\": \"1.0.0\"}", &err);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "output"), "sum")), 7);
    CHECK_STR(str(out, "version"), "1.0.0");
    json_decref(out);

    /* counters: two runs by one user are one download; the owner's runs are no download */
    CHECK_INT(query_int("SELECT downloads FROM tools WHERE id = ?", id), 1);
    json_decref(execute(&buyer2, slug, "{\"input\": {\"a\": 0, \"b\": 0}}", &err));
    json_decref(execute(&dev, slug, "{\"input\": {\"a\": 0, \"b\": 0}}", &err));
    CHECK_INT(query_int("SELECT downloads FROM tools WHERE id = ?", id), 2);
    /* executions are counted in memory and written in batches; a flush writes them all */
    tool_usage_flush_executions(g_db);
    CHECK_INT(query_int("SELECT SUM(executions) FROM tool_execution_days WHERE tool_id = ?", id), 4);
    CHECK_INT(query_int("SELECT COUNT(*) FROM tool_users WHERE tool_id = ?", id), 2);
    error_clear(&err);

    /* input, output and request rules */
    CHECK(execute(&buyer, slug, "{\"input\": {\"a\": \"x\", \"b\": 1}}", &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "input.a");
    error_clear(&err);
    CHECK(execute(&buyer, slug, "{\"input\": {\"a\": 1, \"b\": 1}, \"version\": \"3.0.0\"}", &err) == NULL);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);
    CHECK(execute(&buyer, slug, "{\"input\": {\"a\": 1, \"b\": 1}, \"version\": \"latest\"}", &err) == NULL);
    CHECK_FIELD(&err, "version");
    error_clear(&err);
    CHECK(execute(&buyer, slug, "{\"inptu\": {}}", &err) == NULL);
    CHECK_FIELD(&err, "input");
    CHECK_FIELD(&err, "inptu");
    error_clear(&err);
    /* a failed run counts nothing */
    tool_usage_flush_executions(g_db);
    CHECK_INT(query_int("SELECT SUM(executions) FROM tool_execution_days WHERE tool_id = ?", id), 4);
}

static void test_execute_output_schema_and_paid(void)
{
    account_caller dev, buyer;
    new_user(&dev, 1, NULL);
    new_user(&buyer, 0, NULL);
    const char *slug = unique("outschema", "");
    json_t *body = fixture_adder_draft(slug);
    /* right for the test, wrong for a = 0 */
    json_object_set_new(body, "code", json_string("function handler(input) if input.a == 0 then return {sum = 'zero'}"
                                                  " end return {sum = input.a + input.b} end"));
    json_decref(create(&dev, body));
    mkt_error err = MKT_ERROR_INIT;
    json_decref(publish(&dev, slug, "0.1.0", &err));
    CHECK(execute(&buyer, slug, "{\"input\": {\"a\": 0, \"b\": 1}}", &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "output.sum");
    error_clear(&err);

    const char *paid = unique("paid", "");
    body = fixture_adder_draft(paid);
    json_object_set_new(body, "pricing", fixture_json("{\"model\": \"one_time\", \"price_cents\": 499, \"currency\": \"EUR\"}"));
    json_decref(create(&dev, body));
    json_decref(publish(&dev, paid, "1.0.0", &err));
    error_clear(&err);
    CHECK(execute(&buyer, paid, "{\"input\": {\"a\": 1, \"b\": 1}}", &err) == NULL);
    CHECK_INT(err.kind, ERROR_PAYMENT_REQUIRED);
    error_clear(&err);
    json_t *out = execute(&dev, paid, "{\"input\": {\"a\": 1, \"b\": 1}}", &err);
    CHECK(out != NULL);
    json_decref(out);
    error_clear(&err);
}

/* A run of a version this process has cached asks the database one thing, the caller's terms (the
 * plan they run on, its quota and rate): the tool, the version and its parsed schemas come from
 * core/tool_cache while the tool is unchanged, the quota is counted in the host's lease pool, and the
 * counters are batched. After a change to the tool it reads it once again. */
static void test_cached_execute_needs_no_query(void)
{
    account_caller dev, buyer;
    new_user(&dev, 1, NULL);
    new_user(&buyer, 0, NULL);
    const char *slug = unique("fast", "");
    json_decref(create(&dev, fixture_adder_draft(slug)));
    mkt_error err = MKT_ERROR_INIT;
    json_decref(publish(&dev, slug, "1.0.0", &err));
    for (int i = 0; i < 3; i++) /* the first run learns the id, the second caches, the third counts */
        json_decref(execute(&buyer, slug, "{\"input\": {\"a\": 1, \"b\": 2}}", &err));
    int64_t before = statements_sent();
    json_t *out = execute(&buyer, slug, "{\"input\": {\"a\": 20, \"b\": 22}}", &err);
    CHECK_INT(statements_sent() - before - 1, 1);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "output"), "sum")), 42);
    json_decref(out);

    /* a new version: the next run reads the tool again and runs it */
    json_t *edit = fixture_json("{\"code\": \"function handler(input) return {sum = input.a * input.b} end\","
                                " \"tests\": [{\"name\": \"p\", \"input\": {\"a\": 2, \"b\": 3}, \"expected\": {\"sum\": 6}}]}");
    json_decref(tool_builder_update(g_db, &dev, slug, edit, &err));
    json_decref(edit);
    json_decref(publish(&dev, slug, "1.1.0", &err));
    out = execute(&buyer, slug, "{\"input\": {\"a\": 20, \"b\": 22}}", &err);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "output"), "sum")), 440);
    CHECK_STR(str(out, "version"), "1.1.0");
    json_decref(out);
    if (check_failures)
        dump(&err);
    error_clear(&err);
}

static void test_categories(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *before = tool_library_categories(g_db, &err);
    CHECK(before != NULL);
    json_t *list = json_object_get(before, "categories");
    CHECK_INT(json_array_size(list), 10);
    CHECK_STR(str(json_array_get(list, 0), "name"), "text");
    json_int_t media_before = -1;
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
        if (strcmp(str(c, "name"), "media") == 0)
            media_before = json_integer_value(json_object_get(c, "count"));
    }
    account_caller dev;
    new_user(&dev, 1, NULL);
    const char *slug = unique("cat", "");
    json_t *body = fixture_adder_draft(slug);
    json_object_set_new(body, "category", json_string("media"));
    json_decref(create(&dev, body));
    json_decref(publish(&dev, slug, "1.0.0", &err));
    json_t *after = tool_library_categories(g_db, &err);
    json_array_foreach(json_object_get(after, "categories"), i, c) {
        if (strcmp(str(c, "name"), "media") == 0)
            CHECK(json_integer_value(json_object_get(c, "count")) >= media_before + 1);
    }
    json_decref(before);
    json_decref(after);
    error_clear(&err);
}

int main(void)
{
    if (tools_support_open() < 0)
        return 2;
    RUN(test_execute_and_counters);
    RUN(test_execute_output_schema_and_paid);
    RUN(test_cached_execute_needs_no_query);
    RUN(test_categories);
    tools_support_close();
    return check_finish();
}

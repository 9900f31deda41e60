/* core/tool_builder and core/tool_library against a real MariaDB, part 1: drafts and every field rule,
 * visibility and ownership, validate/test/publish and the semver ordering of versions (execution is in
 * tools_execute.c). Each test makes its own users and slugs. */
#include "tests/integration/tools_support.h"

/* ---- drafts ---------------------------------------------------------------------------------- */

static void test_create_defaults(void)
{
    account_caller dev;
    new_user(&dev, 1, NULL);
    const char *slug = unique("minimal", "");
    json_t *tool = create(&dev, json_pack("{s:s, s:s, s:s}", "slug", slug, "name", "Minimal", "category", "text"));
    if (!tool)
        return;
    CHECK(str(tool, "id") != NULL);
    CHECK_STR(str(tool, "slug"), slug);
    CHECK_STR(str(tool, "status"), "draft");
    CHECK_STR(str(tool, "summary"), "");
    CHECK(json_is_null(json_object_get(tool, "latest_version")));
    CHECK_INT(json_array_size(json_object_get(tool, "tags")), 0);
    json_t *pricing = json_object_get(tool, "pricing");
    CHECK_STR(str(pricing, "model"), "free");
    CHECK_INT(json_integer_value(json_object_get(pricing, "price_cents")), 0);
    CHECK_STR(str(pricing, "currency"), "USD");
    CHECK(json_object_get(pricing, "period_days") == NULL);
    json_t *rating = json_object_get(tool, "rating");
    CHECK_INT(json_integer_value(json_object_get(rating, "count")), 0);
    CHECK(json_real_value(json_object_get(rating, "average")) == 0.0);
    CHECK_INT(json_object_size(json_object_get(rating, "distribution")), 5);
    CHECK(json_object_get(rating, "bayesian") != NULL);
    CHECK_STR(str(json_object_get(tool, "developer"), "display_name"), "Dev Shop");
    CHECK_STR(str(tool, "code"), "");
    CHECK(json_is_array(json_object_get(tool, "tests")));
    CHECK_INT(json_integer_value(json_object_get(tool, "downloads")), 0);
    json_decref(tool);
}

static void test_every_bad_field_at_once(void)
{
    account_caller dev;
    new_user(&dev, 1, NULL);
    char *long_summary = malloc(202);
    memset(long_summary, 'x', 201);
    long_summary[201] = '\0';
    json_t *body = fixture_json("{\"slug\": \"Bad Slug\", \"name\": \"ab\", \"category\": \"nope\","
                         " \"tags\": [\"ok\", \"x\", \"ok\"], \"color\": \"red\","
                         " \"pricing\": {\"model\": \"one_time\", \"currency\": \"usd\", \"period_days\": 3, \"x\": 1},"
                         " \"input_schema\": {\"type\": \"strin\"}, \"output_schema\": {\"minLenght\": 2},"
                         " \"code\": 42, \"tests\": [{\"name\": \"\", \"input\": 1}, {\"name\": \"t\"}]}");
    json_object_set_new(body, "summary", json_string(long_summary));
    free(long_summary);
    mkt_error err = MKT_ERROR_INIT;
    CHECK(tool_builder_create(g_db, &dev, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    const char *fields[] = {"slug", "name", "category", "tags[1]", "tags[2]", "color", "summary",
                            "pricing.price_cents", "pricing.currency", "pricing.period_days", "pricing.x", "code",
                            "tests[0].name", "tests[0].expected", "tests[1].input", "tests[1].expected"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        CHECK_FIELD(&err, fields[i]);
    int schema_fields = 0;
    for (size_t i = 0; i < err.field_count; i++)
        schema_fields += strncmp(err.fields[i].field, "input_schema", 12) == 0 ||
                         strncmp(err.fields[i].field, "output_schema", 13) == 0;
    CHECK(schema_fields >= 2);
    error_clear(&err);
    json_decref(body);

    /* required fields, and a body that is not an object */
    body = fixture_json("{}");
    CHECK(tool_builder_create(g_db, &dev, body, &err) == NULL);
    CHECK_FIELD(&err, "slug");
    CHECK_FIELD(&err, "name");
    CHECK_FIELD(&err, "category");
    error_clear(&err);
    json_decref(body);
    body = fixture_json("[1]");
    CHECK(tool_builder_create(g_db, &dev, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    error_clear(&err);
    json_decref(body);
}

static void test_pricing_rules(void)
{
    account_caller dev;
    new_user(&dev, 1, NULL);
    static const struct {
        const char *pricing, *field; /* field NULL: accepted */
    } cases[] = {
        {"{\"model\": \"free\", \"price_cents\": 5}", "pricing.price_cents"},
        {"{\"model\": \"one_time\", \"price_cents\": 0, \"currency\": \"EUR\"}", "pricing.price_cents"},
        {"{\"model\": \"one_time\", \"price_cents\": 500}", "pricing.currency"},
        {"{\"model\": \"one_time\", \"price_cents\": 500, \"currency\": \"XXX\"}", "pricing.currency"},
        {"{\"model\": \"one_time\", \"price_cents\": 1.5, \"currency\": \"EUR\"}", "pricing.price_cents"},
        {"{\"model\": \"rent\"}", "pricing.model"},
        {"{\"model\": \"subscription\", \"price_cents\": 900, \"currency\": \"GBP\", \"period_days\": 0}",
         "pricing.period_days"},
        {"{\"model\": \"subscription\", \"price_cents\": 900, \"currency\": \"GBP\", \"period_days\": 3651}",
         "pricing.period_days"},
        {"\"free\"", "pricing"},
        {"{\"model\": \"one_time\", \"price_cents\": 500, \"currency\": \"EUR\"}", NULL},
        {"{\"model\": \"subscription\", \"price_cents\": 900, \"currency\": \"GBP\"}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *body = json_pack("{s:s, s:s, s:s, s:o}", "slug", unique("price", ""), "name", "Priced", "category",
                                 "finance", "pricing", fixture_json(cases[i].pricing));
        mkt_error err = MKT_ERROR_INIT;
        json_t *tool = tool_builder_create(g_db, &dev, body, &err);
        if (cases[i].field) {
            CHECK(tool == NULL);
            CHECK_FIELD(&err, cases[i].field);
        } else if (!tool) {
            fprintf(stderr, "  case %zu refused\n", i);
            dump(&err);
            check_failures++;
        } else if (strstr(cases[i].pricing, "subscription")) {
            CHECK_INT(json_integer_value(json_object_get(json_object_get(tool, "pricing"), "period_days")), 30);
        }
        json_decref(tool);
        json_decref(body);
        error_clear(&err);
    }
}

static void test_slug_rules(void)
{
    account_caller dev, plain;
    new_user(&dev, 1, NULL);
    new_user(&plain, 0, NULL);
    const char *bad[] = {"trending", "12345", "ab", "UPPER-case", "with_underscore", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *body = json_pack("{s:s, s:s, s:s}", "slug", bad[i], "name", "Slug test", "category", "text");
        mkt_error err = MKT_ERROR_INIT;
        CHECK(tool_builder_create(g_db, &dev, body, &err) == NULL);
        CHECK_FIELD(&err, "slug");
        error_clear(&err);
        json_decref(body);
    }
    const char *slug = unique("taken", "");
    json_decref(create(&dev, json_pack("{s:s, s:s, s:s}", "slug", slug, "name", "First", "category", "text")));
    json_t *body = json_pack("{s:s, s:s, s:s}", "slug", slug, "name", "Second", "category", "text");
    mkt_error err = MKT_ERROR_INIT;
    CHECK(tool_builder_create(g_db, &dev, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_CONFLICT);
    CHECK_FIELD(&err, "slug");
    error_clear(&err);
    /* no developer profile */
    CHECK(tool_builder_create(g_db, &plain, body, &err) == NULL);
    CHECK_INT(err.kind, ERROR_FORBIDDEN);
    error_clear(&err);
    json_decref(body);
}

static void test_visibility_and_update(void)
{
    account_caller dev, other;
    new_user(&dev, 1, NULL);
    new_user(&other, 1, NULL);
    const char *slug = unique("vis", "");
    json_t *tool = create(&dev, fixture_adder_draft(slug));
    if (!tool)
        return;
    char id[32];
    snprintf(id, sizeof id, "%s", str(tool, "id"));
    json_decref(tool);
    mkt_error err = MKT_ERROR_INIT;

    /* a draft is the owner's alone: 404 for anyone else, by slug or id */
    CHECK(tool_library_get(g_db, NULL, slug, &err) == NULL);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);
    CHECK(tool_library_get(g_db, &other, id, &err) == NULL);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);
    json_t *patch = fixture_json("{\"name\": \"Stolen\"}");
    CHECK(tool_builder_update(g_db, &other, slug, patch, &err) == NULL);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);

    /* partial update: only the given fields change; tags are replaced as a whole */
    json_t *edit = fixture_json("{\"summary\": \"Adds\", \"tags\": [\"arith\"]}");
    json_t *updated = tool_builder_update(g_db, &dev, id, edit, &err);
    CHECK(updated != NULL);
    CHECK_STR(str(updated, "summary"), "Adds");
    CHECK_STR(str(updated, "name"), "Adder");
    CHECK_STR(str(updated, "code"), fixture_adder_code);
    CHECK_INT(json_array_size(json_object_get(updated, "tags")), 1);
    json_decref(updated);
    json_decref(edit);
    edit = fixture_json("{\"name\": \"x\", \"status\": \"published\"}");
    CHECK(tool_builder_update(g_db, &dev, id, edit, &err) == NULL);
    CHECK_FIELD(&err, "name");
    CHECK_FIELD(&err, "status");
    error_clear(&err);
    json_decref(edit);

    /* the slug may change until the first publish */
    const char *slug2 = unique("vis-renamed", "");
    edit = json_pack("{s:s}", "slug", slug2);
    updated = tool_builder_update(g_db, &dev, id, edit, &err);
    CHECK_STR(str(updated, "slug"), slug2);
    json_decref(updated);
    json_decref(edit);

    json_t *version = publish(&dev, id, "1.0.0", &err);
    CHECK(version != NULL);
    json_decref(version);
    error_clear(&err);

    /* published: public, without code or tests, with the published schemas */
    json_t *seen = tool_library_get(g_db, NULL, slug2, &err);
    CHECK(seen != NULL);
    CHECK(json_object_get(seen, "code") == NULL);
    CHECK(json_object_get(seen, "tests") == NULL);
    CHECK(json_is_object(json_object_get(seen, "input_schema")));
    CHECK_STR(str(seen, "latest_version"), "1.0.0");
    CHECK_STR(str(seen, "status"), "published");
    json_decref(seen);

    /* a visible tool the caller does not own: 403 */
    CHECK(tool_builder_update(g_db, &other, slug2, patch, &err) == NULL);
    CHECK_INT(err.kind, ERROR_FORBIDDEN);
    error_clear(&err);
    CHECK(tool_builder_delist(g_db, &other, slug2, &err) < 0);
    CHECK_INT(err.kind, ERROR_FORBIDDEN);
    error_clear(&err);
    edit = json_pack("{s:s}", "slug", unique("vis-late", ""));
    CHECK(tool_builder_update(g_db, &dev, id, edit, &err) == NULL);
    CHECK_FIELD(&err, "slug");
    error_clear(&err);
    json_decref(edit);
    json_decref(patch);

    /* delisted: gone for the public, still there for the owner; publishing is refused */
    CHECK_INT(tool_builder_delist(g_db, &dev, id, &err), 0);
    CHECK(tool_library_get(g_db, &other, id, &err) == NULL);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);
    seen = tool_library_get(g_db, &dev, id, &err);
    CHECK_STR(str(seen, "status"), "delisted");
    json_decref(seen);
    CHECK(publish(&dev, id, "2.0.0", &err) == NULL);
    CHECK_INT(err.kind, ERROR_CONFLICT);
    error_clear(&err);
}

/* ---- validate, test, publish ---------------------------------------------------------------- */

static void test_validate_and_test(void)
{
    account_caller dev;
    new_user(&dev, 1, NULL);
    const char *slug = unique("check", "");
    json_t *body = fixture_adder_draft(slug);
    /* a second test whose input breaks the schema, and a third that fails on its output */
    json_array_append_new(json_object_get(body, "tests"),
                          fixture_json("{\"name\": \"bad input\", \"input\": {\"a\": \"1\"}, \"expected\": {\"sum\": 1}}"));
    json_array_append_new(json_object_get(body, "tests"),
                          fixture_json("{\"name\": \"wrong\", \"input\": {\"a\": 2, \"b\": 2}, \"expected\": {\"sum\": 5}}"));
    json_t *tool = create(&dev, body);
    json_decref(tool);
    mkt_error err = MKT_ERROR_INIT;

    json_t *v = tool_builder_validate(g_db, &g_cfg, &dev, slug, &err);
    CHECK(v != NULL);
    CHECK(json_is_false(json_object_get(v, "valid")));
    const char *first = str(json_array_get(json_object_get(v, "errors"), 0), "field");
    CHECK(first && strncmp(first, "tests[1].input", 14) == 0);
    json_decref(v);

    json_t *run = tool_builder_test(g_db, &g_cfg, &dev, slug, &err);
    CHECK(run != NULL);
    CHECK_INT(json_integer_value(json_object_get(run, "passed")), 1);
    CHECK_INT(json_integer_value(json_object_get(run, "failed")), 2);
    json_t *results = json_object_get(run, "results");
    CHECK(json_is_true(json_object_get(json_array_get(results, 0), "passed")));
    CHECK(json_is_null(json_object_get(json_array_get(results, 0), "error")));
    CHECK(json_object_get(json_array_get(results, 0), "duration_us") != NULL);
    CHECK(strstr(str(json_array_get(results, 1), "error"), "input.a") != NULL);
    CHECK(strstr(str(json_array_get(results, 2), "error"), "does not equal") != NULL);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_array_get(results, 2), "output"), "sum")), 4);
    json_decref(run);

    /* publish refuses: the draft does not validate */
    CHECK(publish(&dev, slug, "1.0.0", &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "tests[1].input.a");
    error_clear(&err);

    /* fix the input; the wrong expectation still fails and is listed by name */
    json_t *edit = json_pack("{s:[o, o]}", "tests",
                             fixture_json("{\"name\": \"ok\", \"input\": {\"a\": 1, \"b\": 2}, \"expected\": {\"sum\": 3.0}}"),
                             fixture_json("{\"name\": \"wrong\", \"input\": {\"a\": 2, \"b\": 2}, \"expected\": {\"sum\": 5}}"));
    json_decref(tool_builder_update(g_db, &dev, slug, edit, &err));
    json_decref(edit);
    CHECK(publish(&dev, slug, "1.0.0", &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "tests[1]");
    CHECK(err.field_count == 1);
    error_clear(&err);

    /* syntax error and missing handler are validation errors on code */
    edit = fixture_json("{\"code\": \"function handler(input) return end end\"}");
    json_decref(tool_builder_update(g_db, &dev, slug, edit, &err));
    json_decref(edit);
    v = tool_builder_validate(g_db, &g_cfg, &dev, slug, &err);
    CHECK(json_is_false(json_object_get(v, "valid")));
    CHECK_STR(str(json_array_get(json_object_get(v, "errors"), 0), "field"), "code");
    json_decref(v);
    edit = fixture_json("{\"code\": \"function helper() end\", \"tests\": []}");
    json_decref(tool_builder_update(g_db, &dev, slug, edit, &err));
    json_decref(edit);
    v = tool_builder_validate(g_db, &g_cfg, &dev, slug, &err);
    CHECK(json_is_false(json_object_get(v, "valid")));
    CHECK(strstr(str(json_array_get(json_object_get(v, "errors"), 0), "message"), "handler") != NULL);
    json_decref(v);
    error_clear(&err);
}

static void test_publish_versions(void)
{
    account_caller dev, other;
    new_user(&dev, 1, NULL);
    new_user(&other, 0, NULL);
    const char *slug = unique("semver", "");
    json_decref(create(&dev, fixture_adder_draft(slug)));
    mkt_error err = MKT_ERROR_INIT;

    CHECK(publish(&dev, slug, "1.0", &err) == NULL);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    CHECK_FIELD(&err, "version");
    error_clear(&err);
    CHECK(publish(&other, slug, "1.0.0", &err) == NULL);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);

    /* published in precedence order; beta.11 > beta.2 numerically, which text order gets wrong */
    const char *order[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0", "1.10.0"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        json_t *v = publish(&dev, slug, order[i], &err);
        if (!v) {
            dump(&err);
            check_failures++;
            error_clear(&err);
            continue;
        }
        CHECK_STR(str(v, "version"), order[i]);
        CHECK_STR(str(v, "changelog"), "notes");
        CHECK(json_is_boolean(json_object_get(v, "prerelease")));
        json_decref(v);
    }
    /* not greater than the latest */
    const char *stale[] = {"1.10.0", "1.9.0", "1.10.0+build.7"};
    for (size_t i = 0; i < 3; i++) {
        CHECK(publish(&dev, slug, stale[i], &err) == NULL);
        CHECK_INT(err.kind, ERROR_CONFLICT);
        error_clear(&err);
    }

    json_t *list = tool_builder_versions(g_db, &other, slug, 1, 4, &err);
    CHECK(list != NULL);
    CHECK_INT(json_integer_value(json_object_get(list, "total")), 6);
    json_t *versions = json_object_get(list, "items");
    CHECK_INT(json_array_size(versions), 4);
    CHECK_STR(str(json_array_get(versions, 0), "version"), "1.10.0");
    CHECK_STR(str(json_array_get(versions, 1), "version"), "1.0.0");
    CHECK_STR(str(json_array_get(versions, 2), "version"), "1.0.0-beta.11");
    CHECK_STR(str(json_array_get(versions, 3), "version"), "1.0.0-beta.2");
    json_decref(list);
    list = tool_builder_versions(g_db, NULL, slug, 2, 4, &err);
    versions = json_object_get(list, "items");
    CHECK_INT(json_array_size(versions), 2);
    CHECK_STR(str(json_array_get(versions, 1), "version"), "1.0.0-alpha");
    json_decref(list);
    error_clear(&err);
}

static void test_admin_delists(void)
{
    account_caller dev, admin;
    char admin_email[128];
    new_user(&dev, 1, NULL);
    new_user(&admin, 0, admin_email);
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(account_grant_role(g_db, admin_email, "admin", &err), 0);
    admin.roles |= ACCOUNT_ROLE_ADMIN;
    const char *slug = unique("admin", "");
    json_decref(create(&dev, fixture_adder_draft(slug)));
    json_decref(publish(&dev, slug, "1.0.0", &err));
    CHECK_INT(tool_builder_delist(g_db, &admin, slug, &err), 0);
    json_t *seen = tool_library_get(g_db, &admin, slug, &err);
    CHECK_STR(str(seen, "status"), "delisted");
    CHECK(json_object_get(seen, "code") == NULL);
    json_decref(seen);
    CHECK(tool_library_get(g_db, NULL, slug, &err) == NULL);
    CHECK_INT(err.kind, ERROR_NOT_FOUND);
    error_clear(&err);
}

int main(void)
{
    if (tools_support_open() < 0)
        return 2;
    RUN(test_create_defaults);
    RUN(test_every_bad_field_at_once);
    RUN(test_pricing_rules);
    RUN(test_slug_rules);
    RUN(test_visibility_and_update);
    RUN(test_validate_and_test);
    RUN(test_publish_versions);
    RUN(test_admin_delists);
    tools_support_close();
    return check_finish();
}

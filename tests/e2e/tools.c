/* Tools end to end, through nginx: a developer takes a tool from draft to published versions and
 * other users run it; every field rule answers 422 naming the field; conflicts answer 409;
 * ownership answers 403/404; a paid tool answers 402. Each test makes its own users and slugs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

static void path_of(char *out, size_t size, const char *ref, const char *suffix)
{
    snprintf(out, size, "/tools/%s%s", ref, suffix ? suffix : "");
}

static http_response *tool_call(const char *method, const char *ref, const char *suffix, const http_user *u,
                                const json_t *body)
{
    char path[256];
    path_of(path, sizeof path, ref, suffix);
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    http_response *res = http_request(method, path, u ? u->token : NULL, NULL, text, text ? strlen(text) : 0, NULL);
    free(text);
    return res;
}

/* Creates (201 expected) and returns the tool's id in id_out. */
static int create_tool(const http_user *dev, json_t *body, char *id_out, size_t size)
{
    http_response *res = http_post_json("/tools", dev->token, body);
    json_decref(body);
    int ok = res->status == 201;
    if (!ok)
        http_dump("POST /tools", res);
    else if (id_out)
        snprintf(id_out, size, "%s", http_json_string(res, "id"));
    http_response_free(res);
    return ok ? 0 : -1;
}

static long publish(const http_user *dev, const char *ref, const char *version)
{
    json_t *body = json_pack("{s:s, s:s}", "version", version, "changelog", "e2e");
    http_response *res = tool_call("POST", ref, "/publish", dev, body);
    json_decref(body);
    long status = res->status;
    if (status != 201 && status != 409)
        http_dump("publish", res);
    http_response_free(res);
    return status;
}

static http_response *execute(const http_user *u, const char *ref, const char *body_text)
{
    char path[256];
    path_of(path, sizeof path, ref, "/execute");
    return http_post_text(path, u ? u->token : NULL, body_text);
}

static void check_problem_at(http_response *res, long status, const char *field, int line)
{
    if (!http_is_problem(res, status) || (field && !http_problem_has_field(res, field))) {
        fprintf(stderr, "  %s:%d: expected a %ld problem naming \"%s\"\n", __FILE__, line, status,
                field ? field : "-");
        http_dump("got", res);
        check_failures++;
    }
}
#define CHECK_PROBLEM(res, status, field) check_problem_at((res), (status), (field), __LINE__)

/* The same for an answer the test needs no more: checks it, then frees it. */
static void check_problem_free_at(http_response *res, long status, const char *field, int line)
{
    check_problem_at(res, status, field, line);
    http_response_free(res);
}
#define CHECK_PROBLEM_FREE(res, status, field) check_problem_free_at((res), (status), (field), __LINE__)

/* ---- the whole journey -------------------------------------------------------------------------- */

static void test_draft_to_execution(void)
{
    http_user dev, buyer;
    fixture_developer(&dev, "E2E Tools");
    fixture_user(&buyer);
    const char *slug = fixture_slug("journey");
    char id[32] = "";

    json_t *body = fixture_adder_draft(slug);
    http_response *res = http_post_json("/tools", dev.token, body);
    json_decref(body);
    CHECK_INT(res->status, 201);
    CHECK_STR(http_json_string(res, "status"), "draft");
    CHECK(res->location && strstr(res->location, "/api/marketplace/tools/") != NULL);
    CHECK(res->request_id != NULL);
    snprintf(id, sizeof id, "%s", http_json_string(res, "id") ? http_json_string(res, "id") : "0");
    http_response_free(res);

    /* the draft: the owner sees code, nobody else sees anything */
    res = tool_call("GET", slug, NULL, &dev, NULL);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "code"), fixture_adder_code);
    http_response_free(res);
    CHECK_PROBLEM_FREE(tool_call("GET", id, NULL, NULL, NULL), 404, NULL);
    CHECK_PROBLEM_FREE(tool_call("GET", slug, NULL, &buyer, NULL), 404, NULL);

    res = tool_call("POST", slug, "/validate", &dev, NULL);
    CHECK_INT(res->status, 200);
    CHECK(json_is_true(json_object_get(res->json, "valid")));
    CHECK_INT(json_array_size(json_object_get(res->json, "errors")), 0);
    http_response_free(res);

    res = tool_call("POST", slug, "/test", &dev, NULL);
    CHECK_INT(res->status, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "passed")), 1);
    CHECK_INT(json_integer_value(json_object_get(res->json, "failed")), 0);
    json_t *result = json_array_get(json_object_get(res->json, "results"), 0);
    CHECK_STR(json_string_value(json_object_get(result, "name")), "one plus two");
    CHECK(json_is_true(json_object_get(result, "passed")));
    CHECK_INT(json_integer_value(json_object_get(json_object_get(result, "output"), "sum")), 3);
    CHECK(json_is_integer(json_object_get(result, "duration_us")));
    http_response_free(res);

    json_t *pub = json_pack("{s:s, s:s}", "version", "1.0.0", "changelog", "First release");
    res = tool_call("POST", slug, "/publish", &dev, pub);
    json_decref(pub);
    CHECK_INT(res->status, 201);
    CHECK_STR(http_json_string(res, "version"), "1.0.0");
    CHECK_STR(http_json_string(res, "changelog"), "First release");
    CHECK(http_json_string(res, "created_at") != NULL);
    http_response_free(res);
    CHECK_INT(publish(&dev, slug, "1.1.0-rc.1"), 201);
    CHECK_INT(publish(&dev, slug, "1.1.0"), 201);

    res = tool_call("GET", slug, "/versions", NULL, NULL);
    CHECK_INT(res->status, 200);
    json_t *versions = json_object_get(res->json, "items");
    CHECK_INT(json_array_size(versions), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(versions, 0), "version")), "1.1.0");
    CHECK_STR(json_string_value(json_object_get(json_array_get(versions, 1), "version")), "1.1.0-rc.1");
    CHECK_STR(json_string_value(json_object_get(json_array_get(versions, 2), "version")), "1.0.0");
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 3);
    CHECK_INT(json_integer_value(json_object_get(res->json, "per_page")), 20);
    http_response_free(res);
    CHECK_PROBLEM_FREE(http_get("/tools/no-such-tool-here/versions", NULL), 404, NULL);
    char path[256];
    snprintf(path, sizeof path, "/tools/%s/versions?page=0", slug);
    CHECK_PROBLEM_FREE(http_get(path, NULL), 400, "page");
    snprintf(path, sizeof path, "/tools/%s/versions?per_page=2&page=2", slug);
    res = http_get(path, NULL);
    CHECK_INT(json_array_size(json_object_get(res->json, "items")), 1);
    http_response_free(res);
    /* the list rule: exactly {items, total, page, per_page}; a page past the end is empty */
    snprintf(path, sizeof path, "/tools/%s/versions?per_page=2&page=3", slug);
    res = http_get(path, NULL);
    CHECK_INT(res->status, 200);
    CHECK_INT(json_object_size(res->json), 4);
    CHECK_INT(json_array_size(json_object_get(res->json, "items")), 0);
    CHECK(json_is_array(json_object_get(res->json, "items")));
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 3);
    CHECK_INT(json_integer_value(json_object_get(res->json, "page")), 3);
    CHECK_INT(json_integer_value(json_object_get(res->json, "per_page")), 2);
    http_response_free(res);
    snprintf(path, sizeof path, "/tools/%s/versions?per_page=101", slug);
    CHECK_PROBLEM_FREE(http_get(path, NULL), 400, "per_page");

    /* published: public without the code */
    res = tool_call("GET", slug, NULL, NULL, NULL);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "status"), "published");
    CHECK_STR(http_json_string(res, "latest_version"), "1.1.0");
    CHECK(json_object_get(res->json, "code") == NULL);
    CHECK(json_is_object(json_object_get(res->json, "input_schema")));
    CHECK(json_is_object(json_object_get(json_object_get(res->json, "rating"), "distribution")));
    CHECK_STR(json_string_value(json_object_get(json_object_get(res->json, "developer"), "display_name")), "E2E Tools");
    char developer_path[96];
    snprintf(developer_path, sizeof developer_path, "/developers/%s",
             json_string_value(json_object_get(json_object_get(res->json, "developer"), "id")));
    http_response_free(res);

    /* the developer's public profile lists the published tool */
    res = http_get(developer_path, NULL);
    CHECK_INT(res->status, 200);
    json_t *listed = json_object_get(res->json, "tools");
    int found = 0;
    size_t t;
    json_t *entry;
    json_array_foreach(listed, t, entry) found |= strcmp(json_string_value(json_object_get(entry, "slug")), slug) == 0;
    CHECK(found);
    http_response_free(res);

    /* another user runs it; the first run is a download */
    res = execute(&buyer, slug, "{\"input\": {\"a\": 20, \"b\": 22}}");
    CHECK_INT(res->status, 200);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(res->json, "output"), "sum")), 42);
    CHECK_STR(http_json_string(res, "version"), "1.1.0");
    CHECK(json_is_integer(json_object_get(res->json, "duration_us")));
    http_response_free(res);
    res = execute(&buyer, id, "{\"input\": {\"a\": 1, \"b\": 1}, \"version\": \"1.0.0\"}");
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "version"), "1.0.0");
    http_response_free(res);
    res = tool_call("GET", slug, NULL, NULL, NULL);
    CHECK_INT(json_integer_value(json_object_get(res->json, "downloads")), 1);
    http_response_free(res);

    /* execution errors */
    CHECK_PROBLEM_FREE(execute(&buyer, slug, "{\"input\": {\"a\": \"x\", \"b\": 1}}"), 422, "input.a");
    CHECK_PROBLEM_FREE(execute(&buyer, slug, "{\"input\": {\"a\": 1, \"b\": 1}, \"version\": \"9.9.9\"}"), 404, NULL);
    CHECK_PROBLEM_FREE(execute(&buyer, slug, "{\"input\": {}, \"speed\": \"fast\"}"), 422, "speed");
    CHECK_PROBLEM_FREE(execute(NULL, slug, "{\"input\": {\"a\": 1, \"b\": 1}}"), 401, NULL);
    CHECK_PROBLEM_FREE(execute(&buyer, slug, "{\"input\": "), 400, NULL);

    /* categories count published tools */
    res = http_get("/categories", NULL);
    CHECK_INT(res->status, 200);
    json_t *cats = json_object_get(res->json, "categories");
    CHECK_INT(json_array_size(cats), 10);
    size_t i;
    json_t *c;
    json_array_foreach(cats, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "name")), "math") == 0)
            CHECK(json_integer_value(json_object_get(c, "count")) >= 1);
    }
    http_response_free(res);
}

/* ---- field rules ---------------------------------------------------------------------------- */

static void expect_field(const http_user *dev, const char *json_fields, const char *field)
{
    json_t *body = fixture_json(json_fields);
    if (!json_object_get(body, "slug"))
        json_object_set_new(body, "slug", json_string(fixture_slug("rule")));
    if (!json_object_get(body, "name"))
        json_object_set_new(body, "name", json_string("Rule check"));
    if (!json_object_get(body, "category"))
        json_object_set_new(body, "category", json_string("text"));
    http_response *res = http_post_json("/tools", dev->token, body);
    json_decref(body);
    if (!http_is_problem(res, 422) || !http_problem_has_field(res, field)) {
        fprintf(stderr, "  %s: expected 422 naming %s\n", json_fields, field);
        http_dump("got", res);
        check_failures++;
    }
    http_response_free(res);
}

static void test_field_rules(void)
{
    http_user dev;
    fixture_developer(&dev, "E2E Tools");
    static const struct {
        const char *body, *field;
    } rules[] = {
        {"{\"slug\": \"ab\"}", "slug"},
        {"{\"slug\": \"Has-Upper\"}", "slug"},
        {"{\"slug\": \"trending\"}", "slug"},
        {"{\"slug\": \"123456\"}", "slug"},
        {"{\"slug\": 7}", "slug"},
        {"{\"name\": \"ab\"}", "name"},
        {"{\"name\": \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901\"}", "name"},
        {"{\"category\": \"cooking\"}", "category"},
        {"{\"tags\": [\"fine\", \"Not-Fine\"]}", "tags[1]"},
        {"{\"tags\": [\"dup\", \"dup\"]}", "tags[1]"},
        {"{\"tags\": [\"a\"]}", "tags[0]"},
        {"{\"tags\": [\"t1\",\"t2\",\"t3\",\"t4\",\"t5\",\"t6\",\"t7\",\"t8\",\"t9\",\"t10\",\"t11\"]}", "tags"},
        {"{\"pricing\": {\"model\": \"one_time\", \"currency\": \"EUR\"}}", "pricing.price_cents"},
        {"{\"pricing\": {\"model\": \"free\", \"price_cents\": 100}}", "pricing.price_cents"},
        {"{\"pricing\": {\"model\": \"one_time\", \"price_cents\": 100, \"currency\": \"eur\"}}", "pricing.currency"},
        {"{\"pricing\": {\"model\": \"one_time\", \"price_cents\": 100, \"currency\": \"EUR\", \"period_days\": 30}}",
         "pricing.period_days"},
        {"{\"pricing\": {\"model\": \"subscription\", \"price_cents\": 100, \"currency\": \"EUR\", \"period_days\": 0}}",
         "pricing.period_days"},
        {"{\"pricing\": {\"model\": \"lease\"}}", "pricing.model"},
        {"{\"input_schema\": {\"type\": \"strng\"}}", "input_schema.type"},
        {"{\"output_schema\": {\"properties\": 5}}", "output_schema.properties"},
        {"{\"code\": 5}", "code"},
        {"{\"tests\": [{\"name\": \"t\", \"input\": 1}]}", "tests[0].expected"},
        {"{\"tests\": [{\"name\": \"t\", \"input\": 1, \"expected\": 1, \"extra\": 0}]}", "tests[0].extra"},
        {"{\"tests\": {}}", "tests"},
        {"{\"rating\": 5}", "rating"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        expect_field(&dev, rules[i].body, rules[i].field);

    /* lengths measured in characters; the limits exactly */
    char *text = malloc(20002);
    memset(text, 'd', 20001);
    text[20001] = '\0';
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "slug", fixture_slug("long"), "name", "Long", "category", "text",
                             "description", text);
    CHECK_PROBLEM_FREE(http_post_json("/tools", dev.token, body), 422, "description");
    text[20000] = '\0';
    json_object_set_new(body, "description", json_string(text));
    json_object_set_new(body, "summary", json_string("\xc3\xa9t\xc3\xa9"));
    CHECK_INT(http_status_free(http_post_json("/tools", dev.token, body)), 201);
    json_decref(body);
    free(text);
    char *code = malloc(256 * 1024 + 2);
    memset(code, '-', 256 * 1024 + 1);
    code[256 * 1024 + 1] = '\0';
    body = json_pack("{s:s, s:s, s:s, s:s}", "slug", fixture_slug("code"), "name", "Big", "category", "text", "code",
                     code);
    CHECK_PROBLEM_FREE(http_post_json("/tools", dev.token, body), 422, "code");
    json_decref(body);
    free(code);

    /* every bad field at once */
    http_response *res = http_post_text("/tools", dev.token,
                         "{\"slug\": \"X\", \"name\": \"\", \"category\": 1, \"tags\": 3, \"pricing\": {},"
                         " \"mystery\": true}");
    CHECK_PROBLEM(res, 422, "slug");
    const char *fields[] = {"name", "category", "tags", "pricing.model", "mystery"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        CHECK(http_problem_has_field(res, fields[i]));
    http_response_free(res);

    /* transport-level rules of the API */
    CHECK_PROBLEM_FREE(http_request("POST", "/tools", dev.token, "text/plain", "{}", 2, NULL), 415, NULL);
    CHECK_PROBLEM_FREE(http_post_text("/tools", dev.token, "{\"slug\": "), 400, NULL);
    CHECK_PROBLEM_FREE(http_post_text("/tools", NULL, "{}"), 401, NULL);
    http_user plain;
    fixture_user(&plain);
    CHECK_PROBLEM_FREE(http_post_json("/tools", plain.token, NULL), 403, NULL);
}

/* ---- conflicts, ownership, money --------------------------------------------------------------- */

static void test_conflicts(void)
{
    http_user dev;
    fixture_developer(&dev, "E2E Tools");
    const char *slug = fixture_slug("conflict");
    char slug_copy[96];
    snprintf(slug_copy, sizeof slug_copy, "%s", slug);
    CHECK_INT(create_tool(&dev, fixture_adder_draft(slug_copy), NULL, 0), 0);
    json_t *again = fixture_adder_draft(slug_copy);
    http_response *res = http_post_json("/tools", dev.token, again);
    json_decref(again);
    CHECK_PROBLEM(res, 409, "slug");
    http_response_free(res);

    json_t *bad = json_pack("{s:s}", "version", "1.0");
    res = tool_call("POST", slug_copy, "/publish", &dev, bad);
    json_decref(bad);
    CHECK_PROBLEM(res, 422, "version");
    http_response_free(res);
    CHECK_INT(publish(&dev, slug_copy, "2.0.0"), 201);
    CHECK_INT(publish(&dev, slug_copy, "2.0.0"), 409);
    CHECK_INT(publish(&dev, slug_copy, "1.9.9"), 409);
    CHECK_INT(publish(&dev, slug_copy, "2.0.0-rc.1"), 409);

    /* a failing test blocks publishing and is named */
    json_t *patch = fixture_json("{\"tests\": [{\"name\": \"wrong on purpose\", \"input\": {\"a\": 1, \"b\": 1},"
                          " \"expected\": {\"sum\": 3}}]}");
    res = tool_call("PATCH", slug_copy, NULL, &dev, patch);
    json_decref(patch);
    CHECK_INT(res->status, 200);
    http_response_free(res);
    json_t *pub = json_pack("{s:s}", "version", "3.0.0");
    res = tool_call("POST", slug_copy, "/publish", &dev, pub);
    json_decref(pub);
    CHECK_PROBLEM(res, 422, "tests[0]");
    CHECK(strstr(res->body, "wrong on purpose") != NULL);
    http_response_free(res);
    res = tool_call("POST", slug_copy, "/test", &dev, NULL);
    CHECK_INT(json_integer_value(json_object_get(res->json, "failed")), 1);
    http_response_free(res);
}

static void test_ownership(void)
{
    http_user dev, other, buyer;
    fixture_developer(&dev, "E2E Tools");
    fixture_developer(&other, "E2E Tools");
    fixture_user(&buyer);
    char draft[96], pub[96];
    snprintf(draft, sizeof draft, "%s", fixture_slug("own-draft"));
    snprintf(pub, sizeof pub, "%s", fixture_slug("own-pub"));
    CHECK_INT(create_tool(&dev, fixture_adder_draft(draft), NULL, 0), 0);
    CHECK_INT(create_tool(&dev, fixture_adder_draft(pub), NULL, 0), 0);
    CHECK_INT(publish(&dev, pub, "1.0.0"), 201);

    json_t *patch = fixture_json("{\"name\": \"Taken over\"}");
    const char *suffixes[] = {"/validate", "/test"};
    /* a draft is invisible to others: 404 everywhere */
    CHECK_PROBLEM_FREE(tool_call("PATCH", draft, NULL, &other, patch), 404, NULL);
    CHECK_PROBLEM_FREE(tool_call("DELETE", draft, NULL, &other, NULL), 404, NULL);
    for (size_t i = 0; i < 2; i++) {
        CHECK_PROBLEM_FREE(tool_call("POST", draft, suffixes[i], &other, NULL), 404, NULL);
        CHECK_PROBLEM_FREE(tool_call("POST", pub, suffixes[i], &other, NULL), 403, NULL);
    }
    CHECK_PROBLEM_FREE(execute(&buyer, draft, "{\"input\": {\"a\": 1, \"b\": 1}}"), 404, NULL);
    CHECK_PROBLEM_FREE(execute(&dev, draft, "{\"input\": {\"a\": 1, \"b\": 1}}"), 409, NULL);
    /* a published tool is visible: 403 for the owner's actions */
    CHECK_PROBLEM_FREE(tool_call("PATCH", pub, NULL, &other, patch), 403, NULL);
    CHECK_PROBLEM_FREE(tool_call("DELETE", pub, NULL, &buyer, NULL), 403, NULL);
    json_t *v = json_pack("{s:s}", "version", "9.0.0");
    http_response *res = tool_call("POST", pub, "/publish", &other, v);
    json_decref(v);
    CHECK_PROBLEM(res, 403, NULL);
    http_response_free(res);
    CHECK_PROBLEM_FREE(tool_call("PATCH", pub, NULL, NULL, patch), 401, NULL);

    /* the owner edits; the published version keeps running the published code */
    json_t *edit = fixture_json("{\"code\": \"function handler(input) return {sum = 0} end\", \"name\": \"Adder Two\"}");
    res = tool_call("PATCH", pub, NULL, &dev, edit);
    json_decref(edit);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "name"), "Adder Two");
    http_response_free(res);
    res = execute(&buyer, pub, "{\"input\": {\"a\": 2, \"b\": 2}}");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(res->json, "output"), "sum")), 4);
    http_response_free(res);

    /* delist: 204, then gone for others, kept for the owner */
    CHECK_INT(http_status_free(tool_call("DELETE", pub, NULL, &dev, NULL)), 204);
    CHECK_PROBLEM_FREE(tool_call("GET", pub, NULL, &buyer, NULL), 404, NULL);
    CHECK_PROBLEM_FREE(execute(&buyer, pub, "{\"input\": {\"a\": 2, \"b\": 2}}"), 404, NULL);
    res = tool_call("GET", pub, NULL, &dev, NULL);
    CHECK_STR(http_json_string(res, "status"), "delisted");
    http_response_free(res);
    json_decref(patch);
}

static void test_paid_tool(void)
{
    http_user dev, buyer;
    fixture_developer(&dev, "E2E Tools");
    fixture_user(&buyer);
    char slug[96];
    snprintf(slug, sizeof slug, "%s", fixture_slug("paid"));
    json_t *body = fixture_adder_draft(slug);
    json_object_set_new(body, "pricing",
                        fixture_json("{\"model\": \"subscription\", \"price_cents\": 999, \"currency\": \"EUR\"}"));
    CHECK_INT(create_tool(&dev, body, NULL, 0), 0);
    CHECK_INT(publish(&dev, slug, "1.0.0"), 201);
    http_response *res = tool_call("GET", slug, NULL, NULL, NULL);
    json_t *pricing = json_object_get(res->json, "pricing");
    CHECK_STR(json_string_value(json_object_get(pricing, "model")), "subscription");
    CHECK_INT(json_integer_value(json_object_get(pricing, "period_days")), 30);
    CHECK_STR(json_string_value(json_object_get(pricing, "currency")), "EUR");
    http_response_free(res);
    CHECK_PROBLEM_FREE(execute(&buyer, slug, "{\"input\": {\"a\": 1, \"b\": 1}}"), 402, NULL);
    CHECK_INT(http_status_free(execute(&dev, slug, "{\"input\": {\"a\": 1, \"b\": 1}}")), 200);
}

int main(void)
{
    RUN(test_draft_to_execution);
    RUN(test_field_rules);
    RUN(test_conflicts);
    RUN(test_ownership);
    RUN(test_paid_tool);
    return check_finish();
}

/* Odd input, without a server: core/error's UTF-8 helpers (cut at characters, invalid bytes become
 * U+FFFD, the same rules jansson applies), error_set/error_add_field storing only valid UTF-8, the
 * problem document built whatever bytes its message, fields and instance hold (with its fixed
 * fallback), and the path-parameter alphabets: core/ident ids, core/tool_record references, and
 * every {param} of the real route table having a check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/ident.h"
#include "core/tool_record.h"
#include "fcgi/response.h"
#include "fcgi/routes/routes.h"
#include "tests/support/check.h"

#define E_ACUTE "\xc3\xa9"
#define FFFD "\xef\xbf\xbd"

static void test_clip(void)
{
    char buf[8];
    CHECK_STR(error_text_clip(buf, sizeof buf, "abc"), "abc");
    /* 7 bytes of room: "a" + 3 x "é" = 7 fits exactly; a 4th "é" would be cut in half, so it goes */
    CHECK_STR(error_text_clip(buf, sizeof buf, "a" E_ACUTE E_ACUTE E_ACUTE E_ACUTE), "a" E_ACUTE E_ACUTE E_ACUTE);
    CHECK_STR(error_text_clip(buf, 7, "a" E_ACUTE E_ACUTE E_ACUTE), "a" E_ACUTE E_ACUTE);
    CHECK_STR(error_text_clip(buf, 1, "abc"), "");
    CHECK_STR(error_text_clip(buf, sizeof buf, NULL), "");
    /* a 4-byte character is kept whole or not at all */
    CHECK_STR(error_text_clip(buf, 5, "\xf0\x9f\x98\x80x"), "\xf0\x9f\x98\x80");
    CHECK_STR(error_text_clip(buf, 4, "\xf0\x9f\x98\x80x"), "");
    /* invalid bytes become U+FFFD; a replacement that does not fit is left out like any character */
    CHECK_STR(error_text_clip(buf, sizeof buf, "a\xff" "b"), "a" FFFD "b");
    CHECK_STR(error_text_clip(buf, 4, "a\xff" "b"), "a");
}

static void test_clean_and_valid(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"caf" E_ACUTE, "caf" E_ACUTE},
        {"\xff", FFFD},
        {"caf\xc3", "caf" FFFD},                      /* cut in the middle of a character */
        {"\xc3\xa9\xa9", E_ACUTE FFFD},               /* a stray continuation byte */
        {"\xc0\xaf", FFFD FFFD},                      /* overlong '/' */
        {"\xe0\x80\xaf", FFFD FFFD FFFD},             /* overlong, 3 bytes */
        {"\xed\xa0\x80", FFFD FFFD FFFD},             /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD},    /* past U+10FFFF */
        {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},     /* U+10FFFF itself */
        {"\xef\xbf\xbd", FFFD},                       /* U+FFFD is valid text */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *clean = error_text_clean(cases[i].in);
        CHECK_STR(clean, cases[i].out);
        CHECK(error_text_valid(clean));
        CHECK_INT(error_text_valid(cases[i].in), strcmp(cases[i].in, cases[i].out) == 0);
        /* jansson agrees on what is valid */
        json_t *s = json_string(cases[i].in);
        CHECK_INT(s != NULL, error_text_valid(cases[i].in));
        json_decref(s);
        free(clean);
    }
}

static void test_error_stores_valid_utf8(void)
{
    mkt_error err = MKT_ERROR_INIT;
    /* "%.4s" cuts the second "é" in half: the stray lead byte becomes U+FFFD */
    error_set(&err, ERROR_VALIDATION, "unsupported event type \"%.4s\"", "a" E_ACUTE E_ACUTE E_ACUTE);
    CHECK_STR(err.message, "unsupported event type \"a" E_ACUTE FFFD "\"");
    error_add_field(&err, "caf\xc3", "unknown \xff");
    CHECK_STR(err.fields[0].field, "caf" FFFD);
    CHECK_STR(err.fields[0].message, "unknown " FFFD);
    error_clear(&err);
}

static json_t *problem_of(const mkt_error *err, const char *instance, response *res)
{
    memset(res, 0, sizeof *res);
    response_problem(res, err, instance, "00112233445566778899aabbccddeeff");
    CHECK(res->body != NULL);
    CHECK_STR(res->content_type, "application/problem+json; charset=utf-8");
    char *text = res->body ? json_dumps(res->body, JSON_COMPACT) : NULL;
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(back != NULL);
    free(text);
    return back;
}

/* An mkt_error written by hand with raw bytes (not through error_set) still gives a whole document. */
static void test_problem_with_invalid_utf8(void)
{
    error_field fields[2] = {{(char *)"a" E_ACUTE "\xc3", (char *)"unknown field"},
                             {(char *)"type", (char *)"unsupported \"\xff\xfe\""}};
    mkt_error err = {ERROR_VALIDATION, (char *)"bad \xc3", fields, 2, 2, 0, NULL};
    response res;
    json_t *doc = problem_of(&err, "/tools/\xff", &res);
    CHECK_INT(json_integer_value(json_object_get(doc, "status")), 422);
    CHECK_STR(json_string_value(json_object_get(doc, "detail")), "bad " FFFD);
    CHECK_STR(json_string_value(json_object_get(doc, "instance")), "/tools/" FFFD);
    json_t *errors = json_object_get(doc, "errors");
    CHECK_INT(json_array_size(errors), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 0), "field")), "a" E_ACUTE FFFD);
    CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 1), "field")), "type");
    CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 1), "message")), "unsupported \"" FFFD FFFD "\"");
    /* the fixed fallback is always ready, and is a problem document of the same status */
    json_t *fallback = json_loads(res.problem_fallback, 0, NULL);
    CHECK_INT(json_integer_value(json_object_get(fallback, "status")), 422);
    CHECK_STR(json_string_value(json_object_get(fallback, "type")), "urn:marketplace:problem:validation");
    json_decref(fallback);
    json_decref(doc);
    response_free(&res);

    /* a later ordinary answer forgets the fallback */
    memset(&res, 0, sizeof res);
    response_problem(&res, &err, "/", NULL);
    response_json(&res, 200, json_object());
    CHECK_INT(res.problem_fallback[0], 0);
    response_free(&res);
}

/* The rate-limit kind is a 429 whose Retry-After header comes from the error; other kinds have none. */
static void test_problem_retry_after(void)
{
    mkt_error err = MKT_ERROR_INIT;
    error_set_rate_limited(&err, 0, "at most %d reviews per hour", 10);
    CHECK_INT(err.retry_after, 1); /* never 0: that would invite a retry that fails again */
    error_set_rate_limited(&err, 1234, "at most %d reviews per hour", 10);
    response res;
    json_t *doc = problem_of(&err, "/reviews", &res);
    CHECK_INT(res.status, 429);
    CHECK_INT(json_integer_value(json_object_get(doc, "status")), 429);
    CHECK_STR(json_string_value(json_object_get(doc, "type")), "urn:marketplace:problem:too-many-requests");
    CHECK_STR(json_string_value(json_object_get(doc, "detail")), "at most 10 reviews per hour");
    int found = 0;
    for (int i = 0; i < res.header_count; i++)
        if (strcmp(res.headers[i].name, "Retry-After") == 0) {
            CHECK_STR(res.headers[i].value, "1234");
            found++;
        }
    CHECK_INT(found, 1);
    json_decref(doc);
    response_free(&res);
    error_clear(&err);
    CHECK_INT(err.retry_after, 0);

    error_set_rate_limited(&err, 60, "slow down");
    error_set(&err, ERROR_CONFLICT, "busy"); /* a later failure does not inherit the Retry-After */
    CHECK_INT(err.retry_after, 0);
    doc = problem_of(&err, "/reviews", &res);
    for (int i = 0; i < res.header_count; i++)
        CHECK(strcmp(res.headers[i].name, "Retry-After") != 0);
    json_decref(doc);
    response_free(&res);
    error_clear(&err);
}

static void test_ident_ids(void)
{
    static const char *const bad[] = {"", "0", "00", "089", "+89", "-1", " 89", "89 ", "8 9", "0x10", "1e3",
                                      "9223372036854775808", "99999999999999999999", E_ACUTE, "\xff"};
    int64_t id = 42;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ident_id_parse(bad[i], &id) != -1) {
            fprintf(stderr, "  accepted id \"%s\"\n", bad[i]);
            check_failures++;
        }
    }
    CHECK_INT(ident_id_parse(NULL, &id), -1);
    CHECK_INT(id, 42);
    CHECK_INT(ident_id_parse("1", &id), 0);
    CHECK_INT(id, 1);
    CHECK_INT(ident_id_parse("9223372036854775807", &id), 0);
    CHECK_INT(id, INT64_MAX);
}

static void test_tool_refs(void)
{
    tool_ref ref;
    CHECK_INT(tool_record_ref_parse("89", &ref), 0);
    CHECK(ref.id == 89 && ref.slug == NULL);
    CHECK_INT(tool_record_ref_parse("word-count", &ref), 0);
    CHECK(ref.id == 0 && ref.slug && strcmp(ref.slug, "word-count") == 0);
    char longest[65];
    memset(longest, 'a', 64);
    longest[64] = '\0';
    CHECK_INT(tool_record_ref_parse(longest, &ref), 0);
    char too_long[301];
    memset(too_long, 'a', 300);
    too_long[300] = '\0';
    const char *const bad[] = {"", "089", "0", "-1", "+89", "ab", "Word-Count", "caf" E_ACUTE, "\xff",
                                      "a b c", "a/b/c", "a_b_c", "9223372036854775808", too_long, NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (tool_record_ref_parse(bad[i], &ref) != -1) {
            fprintf(stderr, "  accepted tool reference \"%.40s\"\n", bad[i] ? bad[i] : "(null)");
            check_failures++;
        }
    }
}

/* A value each parameter accepts and one it refuses (ids and tool references: "1" and "01"; plugin
 * names are 3 to 64 characters of a-z, 0-9 and '-'). */
static void route_param_samples(const char *name, const char **good, const char **bad)
{
    int plugin = strcmp(name, "plugin") == 0;
    *good = plugin ? "abc" : "1";
    *bad = plugin ? "Abc" : "01";
}

/* Every {param} in the real route table has an alphabet; a name without one is refused. */
static void test_route_params_checked(void)
{
    size_t count;
    const route *routes = routes_all(&count);
    CHECK(count > 0);
    size_t params = 0;
    for (size_t i = 0; i < count; i++) {
        for (const char *p = strchr(routes[i].pattern, '{'); p; p = strchr(p + 1, '{')) {
            char name[32];
            size_t len = strcspn(p + 1, "}");
            snprintf(name, sizeof name, "%.*s", (int)len, p + 1);
            params++;
            const char *good, *bad;
            route_param_samples(name, &good, &bad);
            if (!routes_param_ok(name, good) || routes_param_ok(name, bad) || routes_param_ok(name, E_ACUTE)) {
                fprintf(stderr, "  %s %s: {%s} is not checked as it should be\n", routes[i].method,
                        routes[i].pattern, name);
                check_failures++;
            }
        }
    }
    CHECK(params >= 3);
    CHECK(routes_param_ok("tool", "word-count"));
    CHECK(!routes_param_ok("id", "word-count"));
    CHECK(!routes_param_ok("no-such-param", "1"));
    CHECK(routes_param_ok("plugin", "profanity-filter"));
    CHECK(!routes_param_ok("plugin", "ab"));
}

int main(void)
{
    RUN(test_clip);
    RUN(test_clean_and_valid);
    RUN(test_error_stores_valid_utf8);
    RUN(test_problem_with_invalid_utf8);
    RUN(test_problem_retry_after);
    RUN(test_ident_ids);
    RUN(test_tool_refs);
    RUN(test_route_params_checked);
    return check_finish();
}

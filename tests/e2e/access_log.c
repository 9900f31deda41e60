/* The access log explains each request: one JSON line per request with the request id, method,
 * path, status, duration and pid; the caller's user id when the request was authenticated; and for
 * every 4xx/5xx the problem type, detail and the names of the fields at fault. Odd bytes in the path
 * never break the line's JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"
#include "tests/support/http.h"
#include "tests/support/server_log.h"

/* The one access line of the request res answered (NULL, counted as a failure, when not exactly one). */
static json_t *access_line_of(const http_response *res)
{
    if (!res->request_id) {
        fprintf(stderr, "  the answer has no X-Request-Id\n");
        check_failures++;
        return NULL;
    }
    json_t *lines = server_log_find("access", res->request_id, 5000);
    size_t n = json_array_size(lines);
    json_t *line = n == 1 ? json_incref(json_array_get(lines, 0)) : NULL;
    if (n != 1) {
        fprintf(stderr, "  %zu access lines carry request id %s (expected 1)\n", n, res->request_id);
        check_failures++;
    }
    json_decref(lines);
    return line;
}

static const char *member(const json_t *line, const char *key)
{
    return json_string_value(json_object_get(line, key));
}

static void test_fields_of_a_success(void)
{
    http_response *res = http_get("/health?from=access-log-test", NULL);
    CHECK_INT(res->status, 200);
    json_t *line = access_line_of(res);
    if (line) {
        CHECK_STR(member(line, "method"), "GET");
        CHECK_STR(member(line, "path"), "/api/marketplace/health");
        CHECK_INT(json_integer_value(json_object_get(line, "status")), 200);
        CHECK_STR(member(line, "request_id"), res->request_id);
        CHECK(json_is_integer(json_object_get(line, "duration_us")));
        CHECK(json_integer_value(json_object_get(line, "duration_us")) >= 0);
        CHECK(json_integer_value(json_object_get(line, "pid")) > 1);
        CHECK(json_is_string(json_object_get(line, "time")));
        /* anonymous and successful: no caller, no problem */
        CHECK(json_is_null(json_object_get(line, "user_id")));
        CHECK(json_object_get(line, "problem") == NULL);
        CHECK(json_object_get(line, "detail") == NULL);
    }
    json_decref(line);
    http_response_free(res);
}

static void test_user_id_of_the_caller(void)
{
    http_user u;
    CHECK_INT(http_register_user(&u), 0);
    http_response *res = http_get("/me", u.token);
    CHECK_INT(res->status, 200);
    json_t *line = access_line_of(res);
    if (line)
        CHECK_STR(member(line, "user_id"), u.id);
    json_decref(line);
    http_response_free(res);
}

static void test_problem_of_an_anonymous_404(void)
{
    http_response *res = http_get("/tools/no-such-tool-for-the-access-log", NULL);
    CHECK_INT(res->status, 404);
    json_t *line = access_line_of(res);
    if (line) {
        CHECK(json_is_null(json_object_get(line, "user_id")));
        CHECK_STR(member(line, "problem"), "not-found");
        CHECK_STR(member(line, "detail"), http_json_string(res, "detail"));
    }
    json_decref(line);
    http_response_free(res);
}

/* A refused body names the caller, the problem and every field at fault, as the answer did. */
static void test_fields_of_a_422(void)
{
    http_user u;
    CHECK_INT(http_register_user(&u), 0);
    http_response *res = http_post_text("/developers", u.token, "{\"display_name\": 5, \"website\": []}");
    json_t *line = access_line_of(res);
    if (line && res->status == 422) {
        CHECK_STR(member(line, "user_id"), u.id);
        CHECK_STR(member(line, "problem"), "validation");
        json_t *fields = json_object_get(line, "fields");
        CHECK(json_is_array(fields) && json_array_size(fields) >= 1);
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f) CHECK(http_problem_has_field(res, json_string_value(f)));
    } else {
        http_dump("POST /developers with bad types", res);
        CHECK_INT(res->status, 422);
    }
    json_decref(line);
    http_response_free(res);
}

/* A 401 is logged with the problem but no user id (the token did not resolve to one). */
static void test_unauthorized(void)
{
    http_response *res = http_get("/me", "not-a-real-token");
    CHECK_INT(res->status, 401);
    json_t *line = access_line_of(res);
    if (line) {
        CHECK(json_is_null(json_object_get(line, "user_id")));
        CHECK_STR(member(line, "problem"), "unauthorized");
    }
    json_decref(line);
    http_response_free(res);
}

/* Quotes, backslashes, control characters, invalid UTF-8 and long non-ASCII text in the path and in
 * the echoed detail still give one parseable line per request. */
static void test_odd_bytes_stay_json(void)
{
    static const char *paths[] = {
        "/api/marketplace/tools/%22%5C%00%01%7F",
        "/api/marketplace/tools/\"quoted\\back",
        "/api/marketplace/nothing/\xff\xfe\xc3",
        "/api/marketplace/caf\xc3\xa9/\xe2\x82\xac",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_response *res = http_raw("GET", paths[i], NULL, NULL, 0);
        if (res->status == 0 || !res->request_id) {
            http_response_free(res);  /* refused before any request id existed: nothing to log */
            continue;
        }
        /* nginx may answer some of these itself; whatever the server logged must be JSON */
        json_t *lines = server_log_find("access", res->request_id, 1000);
        CHECK(json_array_size(lines) <= 1);
        CHECK_INT(server_log_count_unparsed(res->request_id), 0);
        if (json_array_size(lines) == 1)
            CHECK_INT(json_integer_value(json_object_get(json_array_get(lines, 0), "status")), res->status);
        json_decref(lines);
        http_response_free(res);
    }
    /* a detail made of 300 two-byte characters is cut on a character boundary */
    char body[2048] = "{\"";
    size_t o = strlen(body);
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(body + o, sizeof body - o, "\xc3\xa9");
    snprintf(body + o, sizeof body - o, "\": 1}");
    http_response *res = http_post_text("/auth/login", NULL, body);
    json_t *line = access_line_of(res);
    CHECK(res->status >= 400);
    CHECK_INT(server_log_count_unparsed(res->request_id ? res->request_id : "?"), 0);
    if (line)
        CHECK_INT(json_integer_value(json_object_get(line, "status")), res->status);
    json_decref(line);
    http_response_free(res);
}

int main(void)
{
    RUN(test_fields_of_a_success);
    RUN(test_user_id_of_the_caller);
    RUN(test_problem_of_an_anonymous_404);
    RUN(test_fields_of_a_422);
    RUN(test_unauthorized);
    RUN(test_odd_bytes_stay_json);
    return check_finish();
}

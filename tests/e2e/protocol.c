/* The HTTP contract every route shares, through real nginx: unknown routes are 404 and wrong methods
 * 405 with Allow, both as RFC 9457 problem documents; every answer (success or error, from the
 * server or from nginx) carries one X-Request-Id, equal to request_id in problem documents (the
 * access-log line is tested in access_log.c); /health and /metrics; JSON limits (depth 32, duplicate keys); nginx's
 * security headers. Content-Length mismatches are nginx's business and not tested here. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/http.h"
#include "tests/support/stack_env.h"

static int expect_problem_at(const http_response *res, long status, const char *what, int line)
{
    const char *rid = http_json_string(res, "request_id");
    int ok = http_is_problem(res, status) && res->request_id && rid && strcmp(rid, res->request_id) == 0;
    if (!ok) {
        fprintf(stderr, "  line %d: %s: expected a %ld problem with request_id == X-Request-Id\n", line, what, status);
        http_dump(what, res);
        check_failures++;
    }
    return ok;
}
#define EXPECT_PROBLEM(res, status, what) expect_problem_at(res, status, what, __LINE__)

/* POST path with a body of size spaces: over the body limit, nginx answers it itself. */
static http_response *post_spaces(const char *path, size_t size)
{
    char *body = malloc(size);
    memset(body, ' ', size);
    http_response *res = http_request("POST", path, NULL, NULL, body, size, NULL);
    free(body);
    return res;
}

static size_t header_count(const http_response *res, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < res->header_count; i++)
        n += strcasecmp(res->headers[i].name, name) == 0;
    return n;
}

/* A request id nginx made: 32 lower-case hex digits. */
static int is_request_id(const char *s)
{
    return s && strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

/* ---- routing ------------------------------------------------------------------------------------ */

static void test_unknown_route(void)
{
    /* ("/auth" without the slash is answered by nginx: a 301 to "/auth/", from its location block.) */
    static const char *paths[] = {"/nope", "/", "/me/", "/auth/", "/auth/nothing", "/health/extra",
                                  "/HEALTH", "/caf%C3%A9", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z",
                                  "/developers/1/2/3"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_response *res = http_get(paths[i], NULL);
        if (EXPECT_PROBLEM(res, 404, paths[i])) {
            CHECK_STR(http_json_string(res, "title"), "Not Found");
            CHECK(json_object_get(res->json, "errors") == NULL ||
                  json_array_size(json_object_get(res->json, "errors")) == 0);
        }
        http_response_free(res);
    }
    /* with a token and a body it is still just 404 */
    http_response *res = http_request("POST", "/nope", "some-token", NULL, "{}", 2, NULL);
    EXPECT_PROBLEM(res, 404, "POST /nope");
    http_response_free(res);
}

static void test_wrong_method(void)
{
    static const struct {
        const char *method, *path, *allow;
    } cases[] = {
        {"DELETE", "/health", "GET, HEAD"}, {"POST", "/health", "GET, HEAD"},  {"PUT", "/me", "GET, HEAD"},
        {"POST", "/me", "GET, HEAD"},       {"GET", "/auth/register", "POST"}, {"PUT", "/auth/login", "POST"},
        {"DELETE", "/auth/logout", "POST"}, {"PATCH", "/developers", "POST"},  {"POST", "/metrics", "GET, HEAD"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "%s %s", cases[i].method, cases[i].path);
        http_response *res = http_request(cases[i].method, cases[i].path, NULL, NULL, NULL, 0, NULL);
        if (EXPECT_PROBLEM(res, 405, what)) {
            CHECK_STR(res->allow, cases[i].allow);
            CHECK_INT(header_count(res, "Allow"), 1);
            const char *detail = http_json_string(res, "detail");
            CHECK(detail && strstr(detail, cases[i].allow));
        }
        http_response_free(res);
    }
    /* 405 comes before authentication: no token needed to learn the allowed methods */
    http_response *res = http_request("DELETE", "/me", NULL, NULL, NULL, 0, NULL);
    EXPECT_PROBLEM(res, 405, "DELETE /me without a token");
    http_response_free(res);
}

/* A query string does not change the route. */
static void test_query_string_ignored_by_router(void)
{
    CHECK_INT(http_status_free(http_get("/health?verbose=1&x=%41", NULL)), 200);
    http_response *res = http_get("/nope?x=1", NULL);
    EXPECT_PROBLEM(res, 404, "/nope?x=1");
    CHECK_STR(http_json_string(res, "instance"), "/nope");
    http_response_free(res);
}

/* ---- request ids -------------------------------------------------------------------------------- */

static void check_request_id(const http_response *res, const char *what, int line)
{
    int ok = is_request_id(res->request_id) && header_count(res, "X-Request-Id") == 1;
    if (ok && res->json && json_object_get(res->json, "request_id"))
        ok = strcmp(http_json_string(res, "request_id"), res->request_id) == 0;
    if (!ok) {
        fprintf(stderr, "  line %d: %s: X-Request-Id missing, repeated or not matching the body (%zu headers)\n",
                line, what, header_count(res, "X-Request-Id"));
        http_dump(what, res);
        check_failures++;
    }
}
#define CHECK_REQUEST_ID(res, what) check_request_id(res, what, __LINE__)

static void test_request_id_everywhere(void)
{
    http_user u;
    CHECK_INT(http_register_user(&u), 0); /* 201 */

    http_response *res = http_get("/health", NULL); /* 200 */
    CHECK_REQUEST_ID(res, "200 health");
    char first[64];
    snprintf(first, sizeof first, "%s", res->request_id ? res->request_id : "");
    http_response_free(res);

    res = http_get("/health", NULL);
    CHECK_REQUEST_ID(res, "200 health again");
    CHECK(res->request_id && strcmp(res->request_id, first) != 0); /* one per request */
    http_response_free(res);

    res = http_get("/me", u.token);
    CHECK_REQUEST_ID(res, "200 me");
    http_response_free(res);
    res = http_get("/nope", NULL);
    CHECK_REQUEST_ID(res, "404");
    http_response_free(res);
    res = http_request("DELETE", "/health", NULL, NULL, NULL, 0, NULL);
    CHECK_REQUEST_ID(res, "405");
    http_response_free(res);
    res = http_get("/me", NULL);
    CHECK_REQUEST_ID(res, "401");
    http_response_free(res);
    res = http_post_text("/auth/login", NULL, "{");
    CHECK_REQUEST_ID(res, "400");
    http_response_free(res);
    res = http_request("POST", "/auth/login", NULL, "text/plain", "x", 1, NULL);
    CHECK_REQUEST_ID(res, "415");
    http_response_free(res);
    res = http_post_text("/auth/login", NULL, "{}");
    CHECK_REQUEST_ID(res, "422");
    http_response_free(res);
    res = http_raw("GET", "/metrics", NULL, NULL, 0);
    CHECK_REQUEST_ID(res, "metrics");
    http_response_free(res);

    /* nginx's own answers carry it too: 413 */
    res = post_spaces("/auth/login", 2 * 1024 * 1024);
    CHECK_INT(res->status, 413);
    CHECK_REQUEST_ID(res, "413 from nginx");
    http_response_free(res);

    res = http_request("POST", "/auth/logout", u.token, NULL, NULL, 0, NULL); /* 204 */
    CHECK_INT(res->status, 204);
    CHECK_REQUEST_ID(res, "204");
    http_response_free(res);
}

/* The id the client sends is not trusted: nginx's own $request_id wins, and a hostile value never
 * reaches a header or the body. */
static void test_request_id_not_from_client(void)
{
    static const char *sent[] = {"X-Request-Id: 0123456789abcdef0123456789abcdef",
                                 "X-Request-Id: </script><script>alert(1)</script>",
                                 "X-Request-Id: \"injected\":true"};
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++) {
        const char *headers[] = {sent[i], NULL};
        http_response *res = http_request("GET", "/nope", NULL, NULL, NULL, 0, headers);
        EXPECT_PROBLEM(res, 404, sent[i]);
        CHECK_REQUEST_ID(res, sent[i]);
        CHECK(res->request_id && strcmp(res->request_id, sent[i] + strlen("X-Request-Id: ")) != 0);
        CHECK(strstr(res->body, "script") == NULL && strstr(res->body, "injected") == NULL);
        http_response_free(res);
    }
}

/* ---- operations --------------------------------------------------------------------------------- */

static void test_health(void)
{
    http_response *res = http_get("/health", NULL);
    CHECK_INT(res->status, 200);
    CHECK(res->content_type && strncmp(res->content_type, "application/json", 16) == 0);
    CHECK(json_is_object(res->json));
    CHECK_STR(http_json_string(res, "status"), "ok");
    CHECK_STR(http_json_string(res, "db"), "up");
    CHECK_INT(json_object_size(res->json), 2);
    CHECK_STR(http_header(res, "Cache-Control"), "no-store");
    http_response_free(res);
}

static int prometheus_line_ok(const char *line)
{
    if (line[0] == '#')
        return strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0;
    const char *p = line;
    if (!(isalpha((unsigned char)*p) || *p == '_' || *p == ':'))
        return 0;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
        p++;
    if (*p == '{') {
        const char *close = strchr(p, '}');
        if (!close)
            return 0;
        p = close + 1;
    }
    if (*p++ != ' ')
        return 0;
    char *end = NULL;
    strtod(p, &end);
    if (end == p)
        return strcmp(p, "+Inf") == 0 || strcmp(p, "NaN") == 0;
    return *end == '\0' || *end == ' '; /* an optional timestamp may follow */
}

/* The value of the first sample line starting with prefix, or -1. */
static double metric_value(const char *text, const char *prefix)
{
    const char *p = text;
    size_t len = strlen(prefix);
    while (p && *p) {
        if (strncmp(p, prefix, len) == 0 && p[len] == ' ')
            return strtod(p + len + 1, NULL);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

static void test_metrics(void)
{
    static const char *paths[] = {"/metrics", "/api/marketplace/metrics"};
    for (size_t i = 0; i < 2; i++) {
        http_response *res = http_raw("GET", paths[i], NULL, NULL, 0);
        CHECK_INT(res->status, 200);
        CHECK(res->content_type && strncmp(res->content_type, "text/plain", 10) == 0);
        CHECK(res->content_type && strstr(res->content_type, "version=0.0.4"));
        CHECK(strstr(res->body, "# TYPE ") != NULL);
        CHECK(strstr(res->body, "marketplace_requests_total") != NULL);
        /* every line is Prometheus text exposition */
        char *copy = strdup(res->body);
        int lines = 0, bad = 0;
        for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            lines++;
            if (!prometheus_line_ok(line)) {
                if (bad++ < 3)
                    fprintf(stderr, "  not Prometheus text: %s\n", line);
            }
        }
        CHECK(lines > 5);
        CHECK_INT(bad, 0);
        free(copy);
        http_response_free(res);
    }

    /* counters count: three more 2xx answers show up (other tests may add more) */
    http_response *before = http_raw("GET", "/metrics", NULL, NULL, 0);
    double ok_before = metric_value(before->body, "marketplace_requests_total{class=\"2xx\"}");
    CHECK(ok_before >= 0);
    for (int i = 0; i < 3; i++)
        http_response_free(http_get("/health", NULL));
    http_response *after = http_raw("GET", "/metrics", NULL, NULL, 0);
    double ok_after = metric_value(after->body, "marketplace_requests_total{class=\"2xx\"}");
    CHECK(ok_after >= ok_before + 3);
    http_response_free(before);
    http_response_free(after);
}

/* ---- JSON limits -------------------------------------------------------------------------------- */

/* {"email": [[...[1]...]]} with the whole document `depth` levels deep. */
static char *nested_body(int depth)
{
    size_t cap = (size_t)depth * 2 + 64;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "{\"email\": ");
    for (int i = 1; i < depth; i++)
        s[n++] = '[';
    s[n++] = '1';
    for (int i = 1; i < depth; i++)
        s[n++] = ']';
    s[n++] = '}';
    s[n] = '\0';
    return s;
}

static void test_json_depth(void)
{
    char *at_limit = nested_body(32);
    http_response *res = http_post_text("/auth/login", NULL, at_limit);
    /* 32 levels parse; the login then refuses the shape */
    EXPECT_PROBLEM(res, 422, "32 levels");
    http_response_free(res);
    free(at_limit);

    char *over = nested_body(33);
    res = http_post_text("/auth/register", NULL, over);
    EXPECT_PROBLEM(res, 400, "33 levels");
    const char *detail = http_json_string(res, "detail");
    CHECK(detail && strstr(detail, "32"));
    http_response_free(res);
    free(over);

    /* far deeper: refused the same way, and nothing crashed */
    char *deep = nested_body(200000);
    res = http_post_text("/auth/register", NULL, deep);
    EXPECT_PROBLEM(res, 400, "200000 levels");
    http_response_free(res);
    free(deep);
    CHECK_INT(http_status_free(http_get("/health", NULL)), 200);

    /* objects count like arrays */
    char objects[1024] = "";
    for (int i = 0; i < 33; i++)
        strcat(objects, "{\"a\":");
    strcat(objects, "1");
    for (int i = 0; i < 33; i++)
        strcat(objects, "}");
    res = http_post_text("/auth/login", NULL, objects);
    EXPECT_PROBLEM(res, 400, "33 nested objects");
    http_response_free(res);
}

static void test_duplicate_keys(void)
{
    http_response *res = http_post_text(
        "/auth/login", NULL, "{\"email\": \"a@example.test\", \"password\": \"0123456789\", \"email\": \"b@example.test\"}");
    EXPECT_PROBLEM(res, 400, "duplicate top-level key");
    http_response_free(res);
    res = http_post_text("/developers", NULL, "{\"display_name\": \"x\", \"display_name\": \"y\"}");
    /* authentication runs first on a protected route: 401, not the body's 400 */
    EXPECT_PROBLEM(res, 401, "duplicate keys without a token");
    http_response_free(res);
    http_user u;
    if (http_register_user(&u) == 0) {
        res = http_post_text("/developers", u.token, "{\"display_name\": \"x\", \"display_name\": \"y\"}");
        EXPECT_PROBLEM(res, 400, "duplicate keys on /developers");
        http_response_free(res);
        res = http_post_text("/developers", u.token, "{\"display_name\": \"x\", \"bio\": {\"k\": 1, \"k\": 2}}");
        EXPECT_PROBLEM(res, 400, "nested duplicate keys");
        http_response_free(res);
    }
}

/* ---- headers ------------------------------------------------------------------------------------ */

static void check_security_headers(const http_response *res, const char *what, int line)
{
    const char *nosniff = http_header(res, "X-Content-Type-Options");
    const char *frame = http_header(res, "X-Frame-Options");
    const char *referrer = http_header(res, "Referrer-Policy");
    const char *csp = http_header(res, "Content-Security-Policy");
    const char *server = http_header(res, "Server");
    int ok = nosniff && strcasecmp(nosniff, "nosniff") == 0 && frame && referrer && csp &&
             strstr(csp, "default-src") != NULL && (!server || !strchr(server, '/'));
    if (!ok) {
        fprintf(stderr, "  line %d: %s: security headers missing (nosniff=%s frame=%s referrer=%s csp=%s server=%s)\n",
                line, what, nosniff ? nosniff : "-", frame ? frame : "-", referrer ? referrer : "-", csp ? csp : "-",
                server ? server : "-");
        check_failures++;
    }
}
#define CHECK_SECURITY_HEADERS(res, what) check_security_headers(res, what, __LINE__)

/* JSON answers and problem documents end with a newline (a shell prompt after curl starts on its own
 * line), and Content-Length counts it. */
static void test_bodies_end_with_newline(void)
{
    static const char *paths[] = {"/health", "/no-such-route", "/me"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_response *res = http_get(paths[i], NULL);
        CHECK(res->body_len > 1 && res->body[res->body_len - 1] == '\n' && res->body[res->body_len - 2] != '\n');
        CHECK(res->json != NULL);
        const char *length = http_header(res, "Content-Length");
        CHECK(length && strtoul(length, NULL, 10) == res->body_len);
        http_response_free(res);
    }
}

static void test_security_headers(void)
{
    http_response *res = http_get("/health", NULL);
    CHECK_SECURITY_HEADERS(res, "200");
    /* API answers are never cached */
    CHECK_STR(http_header(res, "Cache-Control"), "no-store");
    http_response_free(res);

    res = http_get("/nope", NULL);
    CHECK_SECURITY_HEADERS(res, "404");
    http_response_free(res);
    res = http_get("/me", NULL);
    CHECK_SECURITY_HEADERS(res, "401");
    CHECK_STR(http_header(res, "Cache-Control"), "no-store");
    http_response_free(res);
    res = http_request("DELETE", "/health", NULL, NULL, NULL, 0, NULL);
    CHECK_SECURITY_HEADERS(res, "405");
    http_response_free(res);
    res = post_spaces("/auth/register", 1024 * 1024 + 1);
    CHECK_INT(res->status, 413);
    CHECK_SECURITY_HEADERS(res, "413");
    http_response_free(res);
    res = http_raw("GET", "/metrics", NULL, NULL, 0);
    CHECK_SECURITY_HEADERS(res, "metrics");
    http_response_free(res);
}

/* A JSON answer says so, with its charset; a problem says it is a problem. */
static void test_content_types(void)
{
    http_response *res = http_get("/health", NULL);
    CHECK_STR(res->content_type, "application/json; charset=utf-8");
    http_response_free(res);
    res = http_get("/nope", NULL);
    CHECK_STR(res->content_type, "application/problem+json; charset=utf-8");
    http_response_free(res);
}

/* Requests nginx itself refuses (here a NUL in the path) are still answered as problem+json. */
static void test_nginx_bad_request(void)
{
    http_response *res = http_raw("GET", "/api/marketplace/a%00b", NULL, NULL, 0);
    CHECK_INT(res->status, 400);
    CHECK(res->content_type && strstr(res->content_type, "application/problem+json"));
    CHECK_STR(http_json_string(res, "type"), "urn:marketplace:problem:bad-request");
    http_response_free(res);
}

int main(void)
{
    http_base_url();
    RUN(test_unknown_route);
    RUN(test_wrong_method);
    RUN(test_query_string_ignored_by_router);
    RUN(test_request_id_everywhere);
    RUN(test_request_id_not_from_client);
    RUN(test_health);
    RUN(test_metrics);
    RUN(test_json_depth);
    RUN(test_duplicate_keys);
    RUN(test_bodies_end_with_newline);
    RUN(test_security_headers);
    RUN(test_content_types);
    RUN(test_nginx_bad_request);
    return check_finish();
}

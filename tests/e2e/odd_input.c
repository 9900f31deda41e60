/* Odd input end to end, through real nginx: path parameters outside their alphabet (non-ASCII, leading
 * zeros, signs, overflow, overlong slugs) are 404 on every route that takes one, before any query and
 * before authentication; version numbers past the documented bound are 422 naming `version`; text
 * from outside cut or invalid as UTF-8 never empties a problem document; and the answers nginx
 * makes itself (TRACE, an oversized header, an unknown Transfer-Encoding, /metrics from elsewhere)
 * are problem+json like the rest. Nothing here may ever answer 500. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/provider.h"
#include "tests/support/stack_env.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

static http_response *publish(const http_user *dev, const char *ref, const char *version)
{
    char path[160];
    snprintf(path, sizeof path, "/tools/%s/publish", ref);
    json_t *body = json_pack("{s:s, s:s}", "version", version, "changelog", "e2e");
    http_response *res = http_post_json(path, dev->token, body);
    json_decref(body);
    return res;
}

static int problem_ok_at(const http_response *res, long status, const char *field, const char *what, int line)
{
    int ok = http_is_problem(res, status) && (!field || http_problem_has_field(res, field));
    if (!ok) {
        fprintf(stderr, "  line %d: %s: expected a %ld problem%s%s\n", line, what, status, field ? " naming " : "",
                field ? field : "");
        http_dump(what, res);
        check_failures++;
    }
    return ok;
}
#define CHECK_PROBLEM(res, status, field, what) problem_ok_at((res), (status), (field), (what), __LINE__)

/* The same for an answer the test needs no more: checks it, then frees it. */
static void problem_free_at(http_response *res, long status, const char *field, const char *what, int line)
{
    problem_ok_at(res, status, field, what, line);
    http_response_free(res);
}
#define CHECK_PROBLEM_FREE(res, status, field, what) problem_free_at((res), (status), (field), (what), __LINE__)

/* Some errors[i].field starts with prefix. */
static int problem_field_starts(const http_response *res, const char *prefix)
{
    json_t *errors = json_object_get(res->json, "errors");
    for (size_t i = 0; i < json_array_size(errors); i++) {
        const char *f = json_string_value(json_object_get(json_array_get(errors, i), "field"));
        if (f && strncmp(f, prefix, strlen(prefix)) == 0)
            return 1;
    }
    return 0;
}

/* n copies of "é" (U+00E9, two bytes), after an optional ASCII lead that shifts every later cut by one
 * byte, so a cut at an even byte count lands inside a character. */
static char *accents(const char *lead, size_t n)
{
    size_t lead_len = strlen(lead);
    char *s = malloc(lead_len + 2 * n + 1);
    memcpy(s, lead, lead_len);
    for (size_t i = 0; i < n; i++)
        memcpy(s + lead_len + 2 * i, "\xc3\xa9", 2);
    s[lead_len + 2 * n] = '\0';
    return s;
}

/* ---- a raw HTTP/1.1 exchange: bytes curl would refuse or rewrite ------------------------------- */

typedef struct {
    int status;
    char content_type[128];
    char *body;
    size_t body_len;
    json_t *json;
} raw_response;

static void raw_free(raw_response *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* Undoes chunked transfer coding in place. */
static void raw_dechunk(raw_response *r)
{
    char *in = r->body, *end = r->body + r->body_len, *out = r->body;
    while (in < end) {
        char *stop;
        unsigned long n = strtoul(in, &stop, 16);
        char *line_end = strstr(stop, "\r\n");
        if (!line_end || n == 0)
            break;
        in = line_end + 2;
        if (in + n > end)
            n = (unsigned long)(end - in);
        memmove(out, in, n);
        out += n;
        in += n + 2;
    }
    r->body_len = (size_t)(out - r->body);
    r->body[r->body_len] = '\0';
}

/* Sends request (whole, as given) to nginx from source address `from` (NULL: any) and reads the
 * answer until the connection closes. status 0 when nothing came back. */
static void raw_exchange(const char *request, size_t len, const char *from, raw_response *out)
{
    memset(out, 0, sizeof *out);
    const char *port = stack_env("MKT_HTTP_PORT");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (from) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        inet_pton(AF_INET, from, &src.sin_addr);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
            close(fd);
            return;
        }
    }
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port ? port : "0"))};
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
        close(fd);
        return;
    }
    for (size_t sent = 0; sent < len;) {
        ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap + 1);
    ssize_t n;
    while ((n = recv(fd, buf + used, cap - used, 0)) > 0) {
        used += (size_t)n;
        if (used == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    close(fd);
    buf[used] = '\0';
    char *head_end = strstr(buf, "\r\n\r\n");
    if (!head_end || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
        free(buf);
        return;
    }
    *head_end = '\0';
    int chunked = 0;
    for (char *line = strstr(buf, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Type:", 13) == 0)
            sscanf(line + 15, " %127[^\r]", out->content_type);
        if (strncasecmp(line + 2, "Transfer-Encoding: chunked", 26) == 0)
            chunked = 1;
    }
    out->body_len = used - (size_t)(head_end + 4 - buf);
    out->body = malloc(out->body_len + 1);
    memcpy(out->body, head_end + 4, out->body_len);
    out->body[out->body_len] = '\0';
    free(buf);
    if (chunked)
        raw_dechunk(out);
    out->json = json_loadb(out->body, out->body_len, 0, NULL); /* jansson refuses invalid UTF-8 */
}

/* status, problem+json, and a body that parses into {type, title, status == status, detail}. */
static int raw_problem_at(const raw_response *r, int status, const char *what, int line)
{
    int ok = r->status == status && strncmp(r->content_type, "application/problem+json", 24) == 0 &&
             json_is_object(r->json) && json_is_string(json_object_get(r->json, "type")) &&
             json_is_string(json_object_get(r->json, "title")) &&
             json_integer_value(json_object_get(r->json, "status")) == status &&
             json_is_string(json_object_get(r->json, "detail"));
    if (!ok) {
        fprintf(stderr, "  line %d: %s: expected a %d problem+json, got %d [%s] %.300s\n", line, what, status,
                r->status, r->content_type, r->body ? r->body : "");
        check_failures++;
    }
    return ok;
}
#define CHECK_RAW_PROBLEM(r, status, what) raw_problem_at((r), (status), (what), __LINE__)

/* ---- path parameters ------------------------------------------------------------------------- */

/* Spellings that name nothing: not ASCII, not canonical decimal, out of int64 range, too long. */
static const char *bad_refs[] = {"%C3%A9", "%FF", "089", "0", "-1", "%2B89", "%2089", "89%20",
                                 "9223372036854775808", "99999999999999999999999", NULL /* 300 x 'a' */};

static void bad_ref_text(size_t i, char *out, size_t size)
{
    if (bad_refs[i]) {
        snprintf(out, size, "%s", bad_refs[i]);
        return;
    }
    memset(out, 'a', 300);
    out[300] = '\0';
}

static const struct {
    const char *method, *suffix;
    int body;
} tool_routes[] = {
    {"GET", "", 0},       {"PATCH", "", 1},        {"DELETE", "", 0},    {"POST", "/validate", 0},
    {"POST", "/test", 0}, {"POST", "/publish", 1}, {"GET", "/versions", 0}, {"POST", "/execute", 1},
};

/* Every {tool} route, anonymous and signed in, answers 404 problem+json for every bad reference:
 * a spelling that cannot name a tool names no tool whoever asks, so 404 comes before 401. */
static void test_tool_ref_alphabet(void)
{
    http_user dev;
    fixture_developer(&dev, "E2E Odd Input");
    char id[32];
    fixture_create_tool(&dev, fixture_adder_draft(fixture_slug("odd-ref")), id);
    char ref[400], path[512];
    for (size_t r = 0; r < sizeof bad_refs / sizeof bad_refs[0]; r++) {
        bad_ref_text(r, ref, sizeof ref);
        for (size_t i = 0; i < sizeof tool_routes / sizeof tool_routes[0]; i++) {
            snprintf(path, sizeof path, "/tools/%s%s", ref, tool_routes[i].suffix);
            const char *body = tool_routes[i].body ? "{\"version\":\"1.0.0\"}" : NULL;
            for (int signed_in = 0; signed_in < 2; signed_in++) {
                http_response *res = http_request(tool_routes[i].method, path, signed_in ? dev.token : NULL, NULL,
                                                  body, body ? strlen(body) : 0, NULL);
                char what[600];
                snprintf(what, sizeof what, "%s %.60s%s (%s)", tool_routes[i].method, path,
                         strlen(path) > 60 ? "..." : "", signed_in ? "signed in" : "anonymous");
                CHECK_PROBLEM(res, 404, NULL, what);
                http_response_free(res);
            }
        }
    }
    /* one spelling per id: the canonical one works, a zero-padded one does not */
    snprintf(path, sizeof path, "/tools/%s", id);
    CHECK_INT(http_status_free(http_get(path, dev.token)), 200);
    snprintf(path, sizeof path, "/tools/0%s", id);
    CHECK_PROBLEM_FREE(http_get(path, dev.token), 404, NULL, "zero-padded id");
}

/* The other path parameters (transaction and developer ids) follow the same rule. */
static void test_other_path_params(void)
{
    http_user u;
    fixture_user(&u);
    static const char *prefixes[] = {"/transactions/", "/developers/"};
    static const char *suffixes[] = {"", "/receipt"};
    char ref[400], path[512];
    for (size_t r = 0; r < sizeof bad_refs / sizeof bad_refs[0]; r++) {
        bad_ref_text(r, ref, sizeof ref);
        for (size_t p = 0; p < 2; p++) {
            for (size_t s = 0; s < (p == 0 ? 2u : 1u); s++) {
                snprintf(path, sizeof path, "%s%s%s", prefixes[p], ref, suffixes[s]);
                for (int signed_in = 0; signed_in < 2; signed_in++) {
                    http_response *res = http_get(path, signed_in ? u.token : NULL);
                    char what[600];
                    snprintf(what, sizeof what, "GET %.60s (%s)", path, signed_in ? "signed in" : "anonymous");
                    CHECK_PROBLEM(res, 404, NULL, what);
                    http_response_free(res);
                }
            }
        }
    }
    /* the developer's own id works; zero-padded it does not */
    http_user dev;
    fixture_developer(&dev, "E2E Odd Input");
    http_response *me = http_get("/me", dev.token);
    const char *developer_id = json_string_value(json_object_get(json_object_get(me->json, "developer"), "id"));
    if (developer_id) {
        snprintf(path, sizeof path, "/developers/%s", developer_id);
        CHECK_INT(http_status_free(http_get(path, NULL)), 200);
        snprintf(path, sizeof path, "/developers/00%s", developer_id);
        CHECK_PROBLEM_FREE(http_get(path, NULL), 404, NULL, "zero-padded developer id");
    }
    http_response_free(me);
}

/* ---- version bounds ---------------------------------------------------------------------------- */

/* Past 9007199254740991 (2^53 - 1) a version number is 422 naming `version`, never 500; the bound
 * itself publishes, and a normal version still follows a big one. */
static void test_publish_huge_version(void)
{
    http_user dev;
    fixture_developer(&dev, "E2E Odd Input");
    char id[32];
    const char *slug = fixture_slug("odd-version");
    fixture_create_tool(&dev, fixture_adder_draft(slug), id);
    static const char *too_big[] = {"9223372036854775808.0.0", "9223372036854775807.0.0", "9007199254740992.0.0",
                                    "1.9007199254740992.0", "1.0.18446744073709551616", "1.0.0"};
    CHECK_INT(http_status_free(publish(&dev, slug, "1.0.0")), 201);
    for (size_t i = 0; i + 1 < sizeof too_big / sizeof too_big[0]; i++) {
        CHECK_PROBLEM_FREE(publish(&dev, slug, too_big[i]), 422, "version", too_big[i]);
    }
    CHECK_INT(http_status_free(publish(&dev, slug, "9007199254740990.0.0")), 201);
    CHECK_INT(http_status_free(publish(&dev, slug, "9007199254740991.9007199254740991.9007199254740991")), 201);
    char path[160];
    snprintf(path, sizeof path, "/tools/%s/versions", slug);
    http_response *res = http_get(path, NULL);
    CHECK_INT(res->status, 200);
    CHECK_INT(json_array_size(json_object_get(res->json, "items")), 3);
    http_response_free(res);
}

/* ---- problem documents with text cut or invalid as UTF-8 ------------------------------------- */

static void test_raw_path_byte(void)
{
    static const char *requests[] = {
        "GET /api/marketplace/\xff HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /api/marketplace/tools/\xff HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /api/marketplace/caf\xc3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        raw_response r;
        raw_exchange(requests[i], strlen(requests[i]), NULL, &r);
        if (CHECK_RAW_PROBLEM(&r, 404, "raw byte in the path")) {
            const char *instance = json_string_value(json_object_get(r.json, "instance"));
            CHECK(instance && strncmp(instance, "/", 1) == 0);
        }
        raw_free(&r);
    }
}

/* A key of 200 "é" (odd-aligned too, so any byte cut lands inside a character) as an unknown field
 * of every body that names unknown fields: the problem is there, parses, and names the field. */
static void test_long_accented_key(void)
{
    http_user dev;
    fixture_developer(&dev, "E2E Odd Input");
    char id[32];
    const char *slug = fixture_slug("odd-key");
    fixture_create_tool(&dev, fixture_adder_draft(slug), id);
    char tool_path[160], publish_path[160];
    snprintf(tool_path, sizeof tool_path, "/tools/%s", slug);
    snprintf(publish_path, sizeof publish_path, "/tools/%s/publish", slug);
    for (int lead = 0; lead < 2; lead++) {
        char *key = accents(lead ? "a" : "", 200);
        const struct {
            const char *method, *path, *prefix;
            json_t *body;
        } cases[] = {
            {"POST", "/auth/register", "", json_pack("{s:s, s:i}", "email", "x@example.test", key, 1)},
            {"POST", "/tools", "", json_pack("{s:i}", key, 1)},
            {"PATCH", tool_path, "", json_pack("{s:i}", key, 1)},
            {"PATCH", tool_path, "pricing.", json_pack("{s:{s:s, s:i}}", "pricing", "model", "free", key, 1)},
            {"POST", publish_path, "", json_pack("{s:s, s:i}", "version", "1.0.0", key, 1)},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char *text = json_dumps(cases[i].body, JSON_COMPACT);
            http_response *res = http_request(cases[i].method, cases[i].path,
                                              strcmp(cases[i].path, "/auth/register") ? dev.token : NULL, NULL, text,
                                              strlen(text), NULL);
            char what[200], prefix[64];
            snprintf(what, sizeof what, "%s %s, key %s200 x U+00E9", cases[i].method, cases[i].path, lead ? "a + " : "");
            snprintf(prefix, sizeof prefix, "%s%s\xc3\xa9", cases[i].prefix, lead ? "a" : "");
            if (CHECK_PROBLEM(res, 422, NULL, what) && !problem_field_starts(res, prefix)) {
                fprintf(stderr, "  %s: no errors[].field starting with %s\n", what, prefix);
                http_dump(what, res);
                check_failures++;
            }
            http_response_free(res);
            free(text);
            json_decref(cases[i].body);
        }
        free(key);
    }
}

/* A payments webhook whose type is 40 "é" (and "a" + 40 "é"): 422 naming `type`, with a body. */
static void test_webhook_accented_type(void)
{
    for (int lead = 0; lead < 2; lead++) {
        char *type = accents(lead ? "a" : "", 40);
        char event_id[96];
        provider_event_id(event_id, sizeof event_id);
        char *event = provider_event(event_id, type, json_pack("{s:s}", "transaction_id", "1"));
        http_response *res = provider_deliver(event, NULL, 0);
        CHECK_PROBLEM(res, 422, "type", lead ? "webhook type a + 40 x U+00E9" : "webhook type 40 x U+00E9");
        const char *detail = http_json_string(res, "detail");
        CHECK(detail && strstr(detail, "\xc3\xa9") != NULL);
        http_response_free(res);
        free(event);
        free(type);
    }
}

/* ---- nginx's own answers ---------------------------------------------------------------------- */

static void test_nginx_trace(void)
{
    static const char req[] = "TRACE /api/marketplace/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    raw_response r;
    raw_exchange(req, sizeof req - 1, NULL, &r);
    CHECK_RAW_PROBLEM(&r, 405, "TRACE");
    raw_free(&r);
}

/* A header line longer than nginx's large_client_header_buffers (8k): 494 inside nginx, 400 on the
 * wire; and a request line over the same limit: 414. */
static void test_nginx_header_too_large(void)
{
    size_t big = 16 * 1024;
    char *req = malloc(big + 256);
    int n = snprintf(req, 256, "GET /api/marketplace/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Big: ");
    memset(req + n, 'x', big);
    memcpy(req + n + big, "\r\n\r\n", 5);
    raw_response r;
    raw_exchange(req, strlen(req), NULL, &r);
    CHECK_RAW_PROBLEM(&r, 400, "header over the buffer");
    raw_free(&r);
    n = snprintf(req, 256, "GET /api/marketplace/");
    memset(req + n, 'x', big);
    snprintf(req + n + big, 256, " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    raw_exchange(req, strlen(req), NULL, &r);
    CHECK_RAW_PROBLEM(&r, 414, "request line over the buffer");
    raw_free(&r);
    free(req);
}

static void test_nginx_transfer_encoding(void)
{
    static const char req[] = "POST /api/marketplace/auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                              "Transfer-Encoding: gzip\r\nContent-Type: application/json\r\n\r\n";
    raw_response r;
    raw_exchange(req, sizeof req - 1, NULL, &r);
    CHECK_RAW_PROBLEM(&r, 501, "Transfer-Encoding: gzip");
    raw_free(&r);
}

/* /metrics is for this host only; 127.0.0.2 is loopback but not the allowed address. */
static void test_nginx_metrics_forbidden(void)
{
    static const char *paths[] = {"/metrics", "/api/marketplace/metrics"};
    for (size_t i = 0; i < 2; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", paths[i]);
        raw_response r;
        raw_exchange(req, strlen(req), "127.0.0.2", &r);
        if (r.status == 0)
            fprintf(stderr, "  skip %s from 127.0.0.2 (cannot bind it here)\n", paths[i]);
        else
            CHECK_RAW_PROBLEM(&r, 403, paths[i]);
        raw_free(&r);
    }
}

int main(void)
{
    http_base_url();
    RUN(test_tool_ref_alphabet);
    RUN(test_other_path_params);
    RUN(test_publish_huge_version);
    RUN(test_raw_path_byte);
    RUN(test_long_accented_key);
    RUN(test_webhook_accented_type);
    RUN(test_nginx_trace);
    RUN(test_nginx_header_too_large);
    RUN(test_nginx_transfer_encoding);
    RUN(test_nginx_metrics_forbidden);
    return check_finish();
}

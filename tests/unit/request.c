/* fcgi/request: percent-decoding, JSON depth, query parameters, JSON body parsing (415/400 rules),
 * bearer tokens and request_read (path below base_path, request id, Content-Length handling) on
 * hand-built FastCGI requests. */
#include "fcgi/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"
#include "fcgi/problem.h"

/* ---- a fake FastCGI request ------------------------------------------------------------------ */

typedef struct {
    FCGX_Request fcgi;
    FCGX_Stream in;
    char *env[16];
    size_t env_count;
    unsigned char *data;
} fake;

static void fake_fill(FCGX_Stream *stream);

/* env: NULL-terminated "NAME=value" list; body: what the input stream holds (may be shorter than
 * CONTENT_LENGTH on purpose). */
static void fake_init(fake *f, const char *const *env, const char *body, size_t body_len)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; env && env[i] && i < 15; i++)
        f->env[f->env_count++] = strdup(env[i]);
    f->env[f->env_count] = NULL;
    f->data = malloc(body_len + 1);
    if (body_len)
        memcpy(f->data, body, body_len);
    f->in.rdNext = f->in.stopUnget = f->data;
    f->in.stop = f->in.wrNext = f->data + body_len;
    f->in.isReader = 1;
    f->in.fillBuffProc = fake_fill; /* nothing more will come */
    f->fcgi.in = &f->in;
    f->fcgi.envp = f->env;
}

/* Called when the buffer runs dry: there is no more input. */
static void fake_fill(FCGX_Stream *stream)
{
    stream->isClosed = 1;
}

static void fake_free(fake *f)
{
    for (size_t i = 0; i < f->env_count; i++)
        free(f->env[i]);
    free(f->data);
}

static config g_cfg;

/* A request over a fake whose only header is name=value (none when value is NULL) and no body. */
static void fake_request_with(fake *f, request *req, const char *name, const char *value)
{
    char var[512];
    const char *env[] = {var, NULL};
    snprintf(var, sizeof var, "%s=%s", name, value ? value : "");
    fake_init(f, value ? env : NULL, NULL, 0);
    memset(req, 0, sizeof *req);
    req->fcgi = &f->fcgi;
}

/* ---- request_percent_decode ------------------------------------------------------------------ */

/* Decodes the first len bytes of src; expected NULL: the input must be refused. */
static void check_decode(const char *src, size_t len, int plus, const char *expected)
{
    char *out = request_percent_decode(src, len, plus);
    if (expected == NULL ? out != NULL : (out == NULL || strcmp(out, expected) != 0)) {
        fprintf(stderr, "  decode(\"%.*s\", plus %d) gave %s%s%s, expected %s%s%s\n", (int)len, src, plus,
                out ? "\"" : "", out ? out : "NULL", out ? "\"" : "", expected ? "\"" : "",
                expected ? expected : "NULL", expected ? "\"" : "");
        check_failures++;
    }
    free(out);
}

/* A whole input, decoded with or without '+' as space. */
typedef struct {
    const char *src;
    int plus;
    const char *expected;
} decode_case;

static void check_decodes(const decode_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_decode(cases[i].src, strlen(cases[i].src), cases[i].plus, cases[i].expected);
}

static void test_percent_decode(void)
{
    static const decode_case cases[] = {
        {"", 0, ""},
        {"abc", 0, "abc"},
        {"%41%42", 0, "AB"},
        {"%4a%4A", 0, "JJ"},
        {"a%20b", 0, "a b"},
        {"a+b", 0, "a+b"},
        {"a+b", 1, "a b"},
        {"%2B", 1, "+"}, /* an encoded plus stays a plus */
        {"%2541", 0, "%41"}, /* decoded exactly once */
        {"caf%C3%A9", 0, "caf\xc3\xa9"},
        {"%ff", 0, "\xff"}, /* bytes, not validated as UTF-8 here */
        {"%2F", 0, "/"},
    };
    check_decodes(cases, sizeof cases / sizeof cases[0]);
}

static void test_percent_decode_rejects(void)
{
    static const char *const refused[] = {"%", "%4", "a%", "ab%4", "%zz", "%g0", "%0g", "%-1", "% 1", "%00", "a%00b"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        check_decode(refused[i], strlen(refused[i]), 0, NULL);
    check_decode("%00", 3, 1, NULL);
    /* len cuts the input: only that much is decoded, and an escape cut in half is refused */
    check_decode("abc%41", 3, 0, "abc");
    check_decode("%41", 2, 0, NULL);
    check_decode("%41", 1, 0, NULL);
    check_decode("%41zz", 3, 0, "A");
    /* a raw NUL inside the given length is refused too */
    check_decode("a\0b", 3, 0, NULL);
}

/* ---- request_json_depth ---------------------------------------------------------------------- */

static json_t *nested_arrays(int depth)
{
    json_t *v = json_integer(1);
    for (int i = 0; i < depth; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

static void test_json_depth(void)
{
    json_t *v = json_integer(7);
    CHECK_INT(request_json_depth(v, 32), 0);
    json_decref(v);
    v = json_string("x");
    CHECK_INT(request_json_depth(v, 32), 0);
    json_decref(v);
    v = json_object();
    CHECK_INT(request_json_depth(v, 32), 1);
    json_decref(v);
    v = json_array();
    CHECK_INT(request_json_depth(v, 32), 1);
    json_decref(v);
    v = json_loads("{\"a\": {\"b\": [1, {\"c\": []}]}, \"d\": 1}", 0, NULL);
    CHECK_INT(request_json_depth(v, 32), 5);
    json_decref(v);
    /* the deepest branch counts, wherever it is */
    v = json_loads("[1, [2], [[3]], {\"x\": [[[[4]]]]}, 5]", 0, NULL);
    CHECK_INT(request_json_depth(v, 32), 6);
    json_decref(v);

    v = nested_arrays(32);
    CHECK_INT(request_json_depth(v, 32), 32);
    json_decref(v);
    v = nested_arrays(33);
    CHECK(request_json_depth(v, 32) > 32);
    json_decref(v);
    /* far deeper than the limit: the count stops early but still reports "too deep" */
    v = nested_arrays(5000);
    CHECK(request_json_depth(v, 32) > 32);
    json_decref(v);
}

/* ---- request_query --------------------------------------------------------------------------- */

static char *query(const char *q, const char *name, mkt_error *err)
{
    request req;
    memset(&req, 0, sizeof req);
    req.query = q;
    return request_query(&req, name, err);
}

static void check_query(const char *q, const char *name, const char *expected, int line)
{
    mkt_error err = MKT_ERROR_INIT;
    char *out = query(q, name, &err);
    if (expected == NULL ? out != NULL : (out == NULL || strcmp(out, expected) != 0)) {
        fprintf(stderr, "  line %d: query(\"%s\", %s) gave %s, expected %s\n", line, q, name, out ? out : "NULL",
                expected ? expected : "NULL");
        check_failures++;
    }
    if (error_is_set(&err)) {
        fprintf(stderr, "  line %d: query(\"%s\", %s) set an error: %s\n", line, q, name,
                err.message ? err.message : "");
        check_failures++;
    }
    free(out);
    error_clear(&err);
}
#define QUERY(q, name, expected) check_query(q, name, expected, __LINE__)

static void test_query(void)
{
    static const char q[] = "a=1&b=hello+world&c=%41%20z&d&e=&page=2&per_page=50&a=2";
    QUERY(q, "a", "1"); /* the first one wins */
    QUERY(q, "b", "hello world");
    QUERY(q, "c", "A z");
    QUERY(q, "d", ""); /* present without '=' */
    QUERY(q, "e", "");
    QUERY(q, "page", "2");
    QUERY(q, "per_page", "50");
    QUERY(q, "per", NULL); /* no prefix matches */
    QUERY(q, "ab", NULL);
    QUERY(q, "", NULL);
    QUERY(q, "missing", NULL);
    QUERY("", "a", NULL);
    QUERY("&&a=x&&", "a", "x");
    QUERY("a==b", "a", "=b");
    QUERY("x=1&tag=a%26b", "tag", "a&b");
    QUERY("q=%E2%82%AC", "q", "\xe2\x82\xac");
}

static void test_query_malformed(void)
{
    static const char *bad[] = {"f=%zz", "f=%", "f=%4", "f=a%00b", "x=1&f=%G1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mkt_error err = MKT_ERROR_INIT;
        char *out = query(bad[i], "f", &err);
        CHECK(out == NULL);
        CHECK_INT(err.kind, ERROR_BAD_REQUEST);
        CHECK_INT(problem_status(err.kind), 400);
        CHECK(err.field_count == 1 && strcmp(err.fields[0].field, "f") == 0);
        free(out);
        error_clear(&err);
    }
    /* another malformed parameter does not disturb this one */
    QUERY("f=%zz&g=ok", "g", "ok");
    /* a NULL err is allowed */
    char *out = query("f=%zz", "f", NULL);
    CHECK(out == NULL);
}

/* ---- request_parse_json ---------------------------------------------------------------------- */

static int parse(const char *content_type, const char *body, size_t len, mkt_error *err, json_t **json_out)
{
    fake f;
    request req;
    fake_request_with(&f, &req, "CONTENT_TYPE", content_type);
    req.cfg = &g_cfg;
    req.body = malloc(len + 1);
    memcpy(req.body, body, len);
    req.body[len] = '\0';
    req.body_len = len;
    int rc = request_parse_json(&req, err);
    if (json_out)
        *json_out = json_incref(req.json);
    request_free(&req);
    fake_free(&f);
    return rc;
}

static void check_parse(const char *content_type, const char *body, error_kind expected, int line)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *json = NULL;
    int rc = parse(content_type, body, strlen(body), &err, &json);
    error_kind got = rc < 0 ? err.kind : ERROR_NONE;
    if (got != expected || (rc == 0) != (json != NULL)) {
        fprintf(stderr, "  line %d: parse(%s, %.60s) gave kind %d (%s), expected %d\n", line,
                content_type ? content_type : "(none)", body, (int)got, err.message ? err.message : "", (int)expected);
        check_failures++;
    }
    if (expected == ERROR_BAD_REQUEST && !(err.field_count >= 1 && strcmp(err.fields[0].field, "body") == 0)) {
        fprintf(stderr, "  line %d: a 400 for the body should name the field \"body\"\n", line);
        check_failures++;
    }
    json_decref(json);
    error_clear(&err);
}
#define PARSE(ct, body, expected) check_parse(ct, body, expected, __LINE__)

static char *nested_text(int depth)
{
    char *s = malloc((size_t)depth * 2 + 2);
    for (int i = 0; i < depth; i++)
        s[i] = '[';
    for (int i = 0; i < depth; i++)
        s[depth + i] = ']';
    s[2 * depth] = '\0';
    return s;
}

static void test_query_int(void)
{
    static const struct {
        const char *query;
        int rc;
        int64_t value;
    } cases[] = {
        {"", 0, 7},          {"page=1", 0, 1},     {"page=100", 0, 100}, {"page=101", -1, 0},
        {"page=0", -1, 0},   {"page=-1", -1, 0},   {"page=+1", -1, 0},   {"page=1x", -1, 0},
        {"page=", -1, 0},    {"page=%201", -1, 0}, {"page=1.0", -1, 0},  {"page=99999999999999999999", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        request req;
        memset(&req, 0, sizeof req);
        req.query = cases[i].query;
        mkt_error err = MKT_ERROR_INIT;
        int64_t v = 0;
        CHECK_INT(request_query_int(&req, "page", 7, 100, &v, &err), cases[i].rc);
        if (cases[i].rc == 0) {
            CHECK_INT(v, cases[i].value);
        } else {
            CHECK_INT(err.kind, ERROR_BAD_REQUEST);
            CHECK(err.field_count == 1 && strcmp(err.fields[0].field, "page") == 0);
        }
        error_clear(&err);
    }
}

static void test_parse_json(void)
{
    PARSE("application/json", "{\"a\": 1}", ERROR_NONE);
    PARSE("application/json; charset=utf-8", "{\"a\": 1}", ERROR_NONE);
    PARSE("Application/JSON", "[1, 2]", ERROR_NONE);
    PARSE("application/json", "  {}  ", ERROR_NONE);

    /* only application/json (any case, with parameters) is JSON */
    static const char *const not_json[] = {NULL, "", "text/plain", "application/jsonp", "application/json-patch+json",
                                           "multipart/form-data; boundary=x"};
    for (size_t i = 0; i < sizeof not_json / sizeof not_json[0]; i++)
        PARSE(not_json[i], "{}", ERROR_UNSUPPORTED_MEDIA);
    PARSE("application/x-www-form-urlencoded", "a=1", ERROR_UNSUPPORTED_MEDIA);

    static const char *const malformed[] = {
        "{", "{\"a\": }", "{\"a\": 1,}", "{'a': 1}", "{} {}", "nul",
        "42", /* a bare scalar is not a body */
        "{\"a\": 1, \"a\": 2}", "{\"x\": {\"a\": 1, \"a\": 1}}", /* duplicate keys, at any depth */
        "{\"s\": \"\xff\"}", "{\"s\": \"\xc3\"}", /* invalid UTF-8, a truncated sequence */
        "{\"s\": \"\xed\xa0\x80\"}", "{\"s\": \"\\ud800\"}", /* a UTF-16 surrogate, raw or escaped alone */
        "{\"s\": \"a\\u0000b\"}", /* NUL (no JSON_ALLOW_NUL) */
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        PARSE("application/json", malformed[i], ERROR_BAD_REQUEST);

    char *ok = nested_text(32), *deep = nested_text(33), *deeper = nested_text(1500);
    PARSE("application/json", ok, ERROR_NONE);
    PARSE("application/json", deep, ERROR_BAD_REQUEST);
    PARSE("application/json", deeper, ERROR_BAD_REQUEST);
    free(ok);
    free(deep);
    free(deeper);

    /* an embedded NUL byte in the body is malformed JSON, not a truncated document */
    mkt_error err = MKT_ERROR_INIT;
    CHECK(parse("application/json", "{}\0{}", 5, &err, NULL) < 0);
    CHECK_INT(err.kind, ERROR_BAD_REQUEST);
    error_clear(&err);
}

static void test_parse_json_empty_body(void)
{
    /* no body at all parses as {} whatever the content type (a POST without a body) */
    mkt_error err = MKT_ERROR_INIT;
    json_t *json = NULL;
    CHECK_INT(parse(NULL, "", 0, &err, &json), 0);
    CHECK(json_is_object(json) && json_object_size(json) == 0);
    json_decref(json);
    error_clear(&err);
}

/* ---- request_bearer_token -------------------------------------------------------------------- */

static void check_bearer(const char *header, const char *expected, int line)
{
    fake f;
    request req;
    fake_request_with(&f, &req, "HTTP_AUTHORIZATION", header);
    const char *got = request_bearer_token(&req);
    if (expected == NULL ? got != NULL : (got == NULL || strcmp(got, expected) != 0)) {
        fprintf(stderr, "  line %d: bearer(%s) gave %s, expected %s\n", line, header ? header : "(none)",
                got ? got : "NULL", expected ? expected : "NULL");
        check_failures++;
    }
    fake_free(&f);
}
#define BEARER(h, e) check_bearer(h, e, __LINE__)

static void test_bearer_token(void)
{
    static const char *const accepted[] = {"Bearer abc", "bearer abc", "BEARER abc", "Bearer    abc"};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
        BEARER(accepted[i], "abc");
    static const char *const refused[] = {NULL, "", "Bearer", "Bearer ", "Bearer    ", "Basic dXNlcjpwYXNz",
                                          "Bearerabc", "Token abc"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        BEARER(refused[i], NULL);
}

/* ---- request_read ---------------------------------------------------------------------------- */

typedef struct {
    fake f;
    request req;
    mkt_error err;
    int rc;
} read_case;

static void do_read(read_case *c, const char *const *env, const char *body, size_t body_len)
{
    memset(c, 0, sizeof *c);
    fake_init(&c->f, env, body, body_len);
    c->rc = request_read(&c->req, &c->f.fcgi, &g_cfg, &c->err);
}

static void read_done(read_case *c)
{
    request_free(&c->req);
    error_clear(&c->err);
    fake_free(&c->f);
}

static void test_read_path(void)
{
    read_case c;
    const char *env1[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/marketplace/auth/login?x=1&y=2",
                          "QUERY_STRING=x=1&y=2", NULL};
    do_read(&c, env1, NULL, 0);
    CHECK_INT(c.rc, 0);
    CHECK_STR(c.req.method, "POST");
    CHECK_STR(c.req.path, "/auth/login");
    CHECK_STR(c.req.query, "x=1&y=2");
    CHECK(c.req.body == NULL && c.req.body_len == 0);
    read_done(&c);

    /* the base path alone is the root below it */
    const char *env2[] = {"REQUEST_URI=/api/marketplace", NULL};
    do_read(&c, env2, NULL, 0);
    CHECK_INT(c.rc, 0);
    CHECK_STR(c.req.method, "GET");
    CHECK_STR(c.req.path, "/");
    CHECK_STR(c.req.query, "");
    read_done(&c);

    /* a path that only starts like the base path is outside it, and never routes */
    static const char *outside[] = {"REQUEST_URI=/api/marketplacefoo/me", "REQUEST_URI=/me",
                                    "REQUEST_URI=/api/market", "REQUEST_URI=/API/MARKETPLACE/me"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        const char *env[] = {outside[i], NULL};
        do_read(&c, env, NULL, 0);
        CHECK_INT(c.rc, 0);
        CHECK(c.req.path && strcmp(c.req.path, "/me") != 0 && c.req.path[0] == '/' && c.req.path[1] == '\x01');
        read_done(&c);
    }

    /* the path stays raw (the router decodes parameters); the fragment and query are cut */
    const char *env3[] = {"REQUEST_URI=/api/marketplace/tools/a%20b#frag", NULL};
    do_read(&c, env3, NULL, 0);
    CHECK_STR(c.req.path, "/tools/a%20b");
    read_done(&c);

    /* DOCUMENT_URI is the fallback when REQUEST_URI is missing */
    const char *env4[] = {"DOCUMENT_URI=/api/marketplace/health", NULL};
    do_read(&c, env4, NULL, 0);
    CHECK_STR(c.req.path, "/health");
    read_done(&c);
}

static int is_hex_id(const char *s)
{
    return s && strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

static void test_read_request_id(void)
{
    read_case c;
    const char *env1[] = {"REQUEST_URI=/api/marketplace/health", "HTTP_X_REQUEST_ID=0123456789abcdef0123456789ABCDEF",
                          NULL};
    do_read(&c, env1, NULL, 0);
    CHECK_STR(c.req.request_id, "0123456789abcdef0123456789ABCDEF");
    read_done(&c);

    /* none given: a fresh 128-bit id in hex; two requests get two ids */
    const char *env2[] = {"REQUEST_URI=/api/marketplace/health", NULL};
    do_read(&c, env2, NULL, 0);
    char first[64];
    snprintf(first, sizeof first, "%s", c.req.request_id ? c.req.request_id : "");
    CHECK(is_hex_id(first));
    read_done(&c);
    do_read(&c, env2, NULL, 0);
    CHECK(is_hex_id(c.req.request_id));
    CHECK(c.req.request_id && strcmp(first, c.req.request_id) != 0);
    read_done(&c);

    /* anything that could break a log line or a header is replaced */
    static const char *bad[] = {"HTTP_X_REQUEST_ID=", "HTTP_X_REQUEST_ID=<script>",
                                "HTTP_X_REQUEST_ID=abc\"def", "HTTP_X_REQUEST_ID=abc def",
                                "HTTP_X_REQUEST_ID=00000000000000000000000000000000000000000000000000000000000000001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *env[] = {"REQUEST_URI=/api/marketplace/health", bad[i], NULL};
        do_read(&c, env, NULL, 0);
        if (!is_hex_id(c.req.request_id))
            fprintf(stderr, "  %s kept as %s\n", bad[i], c.req.request_id ? c.req.request_id : "NULL");
        CHECK(is_hex_id(c.req.request_id));
        read_done(&c);
    }
}

static void test_read_body(void)
{
    read_case c;
    const char *env1[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/marketplace/auth/login",
                          "CONTENT_TYPE=application/json", "CONTENT_LENGTH=13", NULL};
    do_read(&c, env1, "{\"a\":\"bcde\"}x", 13);
    CHECK_INT(c.rc, 0);
    CHECK_INT(c.req.body_len, 13);
    CHECK(c.req.body && memcmp(c.req.body, "{\"a\":\"bcde\"}x", 13) == 0 && c.req.body[13] == '\0');
    read_done(&c);

    /* Content-Length 0 or empty: no body */
    const char *env2[] = {"REQUEST_URI=/api/marketplace/x", "CONTENT_LENGTH=0", NULL};
    do_read(&c, env2, NULL, 0);
    CHECK_INT(c.rc, 0);
    CHECK(c.req.body == NULL);
    read_done(&c);
    const char *env2b[] = {"REQUEST_URI=/api/marketplace/x", "CONTENT_LENGTH=", NULL};
    do_read(&c, env2b, NULL, 0);
    CHECK_INT(c.rc, 0);
    read_done(&c);

    /* shorter than announced: 400 */
    const char *env3[] = {"REQUEST_URI=/api/marketplace/x", "CONTENT_LENGTH=100", NULL};
    do_read(&c, env3, "{}", 2);
    CHECK_INT(c.rc, -1);
    CHECK_INT(c.err.kind, ERROR_BAD_REQUEST);
    read_done(&c);

    /* junk lengths: 400 */
    static const char *junk[] = {"CONTENT_LENGTH=abc", "CONTENT_LENGTH=-1", "CONTENT_LENGTH=+5",
                                 "CONTENT_LENGTH=5x", "CONTENT_LENGTH=99999999999999999999999",
                                 "CONTENT_LENGTH= 5", "CONTENT_LENGTH=\t5", "CONTENT_LENGTH=\n 5"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        const char *env[] = {"REQUEST_URI=/api/marketplace/x", junk[i], NULL};
        do_read(&c, env, "12345", 5);
        if (c.rc != -1 || c.err.kind != ERROR_BAD_REQUEST)
            fprintf(stderr, "  %s: rc %d kind %d\n", junk[i], c.rc, (int)c.err.kind);
        CHECK_INT(c.rc, -1);
        CHECK_INT(c.err.kind, ERROR_BAD_REQUEST);
        /* the request is still usable for a problem answer */
        CHECK(c.req.request_id != NULL);
        read_done(&c);
    }

    /* over max_body: 413 before reading anything */
    char over[64];
    snprintf(over, sizeof over, "CONTENT_LENGTH=%lld", (long long)g_cfg.max_body + 1);
    const char *env4[] = {"REQUEST_URI=/api/marketplace/x", over, NULL};
    do_read(&c, env4, "{}", 2);
    CHECK_INT(c.rc, -1);
    CHECK_INT(c.err.kind, ERROR_TOO_LARGE);
    CHECK_INT(problem_status(c.err.kind), 413);
    CHECK(c.req.body == NULL);
    read_done(&c);

    /* exactly max_body is fine */
    size_t max = (size_t)g_cfg.max_body;
    char *big = malloc(max);
    memset(big, ' ', max);
    char exact[64];
    snprintf(exact, sizeof exact, "CONTENT_LENGTH=%zu", max);
    const char *env5[] = {"REQUEST_URI=/api/marketplace/x", exact, NULL};
    do_read(&c, env5, big, max);
    CHECK_INT(c.rc, 0);
    CHECK_INT(c.req.body_len, max);
    read_done(&c);
    free(big);
}

int main(void)
{
    config_defaults(&g_cfg);
    RUN(test_percent_decode);
    RUN(test_percent_decode_rejects);
    RUN(test_json_depth);
    RUN(test_query);
    RUN(test_query_malformed);
    RUN(test_query_int);
    RUN(test_parse_json);
    RUN(test_parse_json_empty_body);
    RUN(test_bearer_token);
    RUN(test_read_path);
    RUN(test_read_request_id);
    RUN(test_read_body);
    config_free(&g_cfg);
    return check_finish();
}

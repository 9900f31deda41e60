/* fcgi/router: matching by method and path pattern. Literal segments beat parameters (from the
 * left), parameters are captured percent-decoded, unknown paths are 404, a known path with another
 * method is 405 with the allowed methods, and odd paths (trailing slash, empty segments, too many
 * segments, bad escapes) never match. */
#include "fcgi/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/routes/routes.h"
#include "tests/support/check.h"

static int h_a(request *req, response *res, mkt_error *err) { (void)req; (void)res; (void)err; return 0; }
static int h_b(request *req, response *res, mkt_error *err) { (void)req; (void)res; (void)err; return 0; }
static int h_c(request *req, response *res, mkt_error *err) { (void)req; (void)res; (void)err; return 0; }
static int h_d(request *req, response *res, mkt_error *err) { (void)req; (void)res; (void)err; return 0; }

/* The parameter route comes first on purpose: order in the table must not matter. */
static const route table[] = {
    {"GET", "/tools/{tool}", h_a, ROUTE_PUBLIC, 0},
    {"PATCH", "/tools/{tool}", h_a, ROUTE_USER, ROUTE_BODY},
    {"DELETE", "/tools/{tool}", h_a, ROUTE_USER, 0},
    {"GET", "/tools/trending", h_b, ROUTE_PUBLIC, 0},
    {"POST", "/tools", h_c, ROUTE_DEVELOPER, ROUTE_BODY},
    {"GET", "/tools", h_d, ROUTE_PUBLIC, 0},
    {"GET", "/tools/{tool}/reviews/{review}", h_c, ROUTE_PUBLIC, 0},
    {"GET", "/developers/{id}", h_a, ROUTE_PUBLIC, 0},
    {"GET", "/developers/me/earnings", h_b, ROUTE_DEVELOPER, 0},
    {"GET", "/{area}/b/c", h_c, ROUTE_PUBLIC, 0},
    {"GET", "/a/{x}/c", h_d, ROUTE_PUBLIC, 0},
    {"GET", "/me", h_b, ROUTE_USER, 0},
    {"POST", "/auth/login", h_c, ROUTE_PUBLIC, ROUTE_BODY},
    {"GET", "/s1/s2/s3/s4/s5/s6/s7/s8/s9/s10/s11/s12/s13/s14/s15/s16", h_d, ROUTE_PUBLIC, 0},
    {"GET", "/p/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}/{p7}/{p8}/{p9}", h_d, ROUTE_PUBLIC, 0},
};
#define TABLE_SIZE (sizeof table / sizeof table[0])

typedef struct {
    request req;
    const route *found;
    router_result result;
    char allow[128];
} match;

static void do_match(match *m, const route *routes, size_t count, const char *method, const char *path)
{
    memset(m, 0, sizeof *m);
    m->req.method = method;
    m->req.path = strdup(path);
    m->req.query = "";
    strcpy(m->allow, "garbage from before");
    m->result = router_match(routes, count, &m->req, &m->found, m->allow, sizeof m->allow);
}

static router_result run(match *m, const char *method, const char *path)
{
    do_match(m, table, TABLE_SIZE, method, path);
    return m->result;
}

static void done(match *m)
{
    request_free(&m->req);
}

/* ---- literal beats parameter ------------------------------------------------------------------ */

static void test_literal_beats_parameter(void)
{
    match m;
    CHECK_INT(run(&m, "GET", "/tools/trending"), ROUTER_FOUND);
    CHECK(m.found && m.found->handler == h_b);
    CHECK_STR(m.found ? m.found->pattern : NULL, "/tools/trending");
    CHECK_INT(m.req.param_count, 0);
    CHECK(request_param_value(&m.req, "tool") == NULL);
    done(&m);

    CHECK_INT(run(&m, "GET", "/tools/trendy"), ROUTER_FOUND);
    CHECK(m.found && m.found->handler == h_a);
    CHECK_STR(request_param_value(&m.req, "tool"), "trendy");
    done(&m);

    /* The literal decides the resource: DELETE /tools/trending is 405, never DELETE /tools/{tool}. */
    CHECK_INT(run(&m, "DELETE", "/tools/trending"), ROUTER_METHOD_NOT_ALLOWED);
    CHECK(m.found == NULL);
    CHECK_STR(m.allow, "GET, HEAD");
    done(&m);

    /* /developers/me/earnings is the caller's, /developers/{id} a profile. */
    CHECK_INT(run(&m, "GET", "/developers/me/earnings"), ROUTER_FOUND);
    CHECK_STR(m.found ? m.found->pattern : NULL, "/developers/me/earnings");
    done(&m);
    CHECK_INT(run(&m, "GET", "/developers/me"), ROUTER_FOUND);
    CHECK_STR(m.found ? m.found->pattern : NULL, "/developers/{id}");
    CHECK_STR(request_param_value(&m.req, "id"), "me");
    done(&m);
}

static void test_leftmost_literal_wins(void)
{
    match m;
    /* /a/{x}/c has its literal further left than /{area}/b/c. */
    CHECK_INT(run(&m, "GET", "/a/b/c"), ROUTER_FOUND);
    CHECK_STR(m.found ? m.found->pattern : NULL, "/a/{x}/c");
    CHECK_STR(request_param_value(&m.req, "x"), "b");
    CHECK(request_param_value(&m.req, "area") == NULL);
    done(&m);

    CHECK_INT(run(&m, "GET", "/z/b/c"), ROUTER_FOUND);
    CHECK_STR(m.found ? m.found->pattern : NULL, "/{area}/b/c");
    CHECK_STR(request_param_value(&m.req, "area"), "z");
    done(&m);
}

/* ---- parameters --------------------------------------------------------------------------------- */

static void test_params_captured(void)
{
    match m;
    CHECK_INT(run(&m, "GET", "/tools/my-tool/reviews/42"), ROUTER_FOUND);
    CHECK_INT(m.req.param_count, 2);
    CHECK_STR(request_param_value(&m.req, "tool"), "my-tool");
    CHECK_STR(request_param_value(&m.req, "review"), "42");
    CHECK(request_param_value(&m.req, "nope") == NULL);
    done(&m);
}

static void test_params_percent_decoded(void)
{
    match m;
    CHECK_INT(run(&m, "GET", "/tools/hello%20world"), ROUTER_FOUND);
    CHECK_STR(request_param_value(&m.req, "tool"), "hello world");
    done(&m);

    CHECK_INT(run(&m, "GET", "/tools/%41%62c"), ROUTER_FOUND);
    CHECK_STR(request_param_value(&m.req, "tool"), "Abc");
    done(&m);

    /* '+' is only a space in query strings */
    CHECK_INT(run(&m, "GET", "/tools/a+b"), ROUTER_FOUND);
    CHECK_STR(request_param_value(&m.req, "tool"), "a+b");
    done(&m);

    /* an encoded slash stays inside the one segment */
    CHECK_INT(run(&m, "GET", "/tools/a%2Fb"), ROUTER_FOUND);
    CHECK_STR(request_param_value(&m.req, "tool"), "a/b");
    done(&m);

    /* UTF-8 survives */
    CHECK_INT(run(&m, "GET", "/tools/caf%C3%A9"), ROUTER_FOUND);
    CHECK_STR(request_param_value(&m.req, "tool"), "caf\xc3\xa9");
    done(&m);

    /* decoding happens once: %2541 is the text "%41" */
    CHECK_INT(run(&m, "GET", "/tools/%2541"), ROUTER_FOUND);
    CHECK_STR(request_param_value(&m.req, "tool"), "%41");
    done(&m);
}

static void test_params_bad_escapes(void)
{
    static const char *bad[] = {"/tools/%", "/tools/%4", "/tools/%zz", "/tools/a%2", "/tools/%00",
                                "/tools/x%00y", "/developers/%g1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        match m;
        router_result r = run(&m, "GET", bad[i]);
        if (r != ROUTER_NOT_FOUND)
            fprintf(stderr, "  path %s\n", bad[i]);
        CHECK_INT(r, ROUTER_NOT_FOUND);
        done(&m);
    }
}

/* More parameters than the request can hold must not overflow it. */
static void test_params_overflow(void)
{
    match m;
    CHECK_INT(run(&m, "GET", "/p/1/2/3/4/5/6/7/8/9"), ROUTER_FOUND);
    CHECK(m.req.param_count <= REQUEST_MAX_PARAMS);
    CHECK_STR(request_param_value(&m.req, "p1"), "1");
    CHECK_STR(request_param_value(&m.req, "p8"), "8");
    done(&m);
}

/* ---- 404 ---------------------------------------------------------------------------------------- */

static void test_not_found(void)
{
    static const char *paths[] = {
        "/",           "",              "/nothing",          "/tools/x/y",  "/TOOLS",     "/Me",
        "/me/",        "/tools/",       "/tools//reviews/1", "//me",        "/me//",      "/auth",
        "/auth/login/", "/tools/x/reviews/", "/\x01outside", "/tools/trending/extra",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        match m;
        router_result r = run(&m, "GET", paths[i]);
        if (r != ROUTER_NOT_FOUND)
            fprintf(stderr, "  path '%s' gave %d\n", paths[i], (int)r);
        CHECK_INT(r, ROUTER_NOT_FOUND);
        CHECK(m.found == NULL);
        done(&m);
    }
}

static void test_trailing_slash(void)
{
    match m;
    CHECK_INT(run(&m, "GET", "/me"), ROUTER_FOUND);
    done(&m);
    CHECK_INT(run(&m, "GET", "/me/"), ROUTER_NOT_FOUND);
    done(&m);
    CHECK_INT(run(&m, "GET", "/tools"), ROUTER_FOUND);
    CHECK(m.found && m.found->handler == h_d);
    done(&m);
    /* "/tools/" has an empty last segment: not the list and not a tool named "" */
    CHECK_INT(run(&m, "GET", "/tools/"), ROUTER_NOT_FOUND);
    done(&m);
}

static void test_too_many_segments(void)
{
    match m;
    /* 16 segments is the limit and still matches */
    CHECK_INT(run(&m, "GET", "/s1/s2/s3/s4/s5/s6/s7/s8/s9/s10/s11/s12/s13/s14/s15/s16"), ROUTER_FOUND);
    done(&m);
    CHECK_INT(run(&m, "GET", "/s1/s2/s3/s4/s5/s6/s7/s8/s9/s10/s11/s12/s13/s14/s15/s16/s17"), ROUTER_NOT_FOUND);
    done(&m);
    char deep[4096] = "";
    for (int i = 0; i < 500; i++)
        strcat(deep, "/x");
    CHECK_INT(run(&m, "GET", deep), ROUTER_NOT_FOUND);
    done(&m);
    /* slashes alone are segments too */
    char slashes[200];
    memset(slashes, '/', sizeof slashes - 1);
    slashes[sizeof slashes - 1] = '\0';
    CHECK_INT(run(&m, "GET", slashes), ROUTER_NOT_FOUND);
    done(&m);
}

/* ---- 405 ---------------------------------------------------------------------------------------- */

static void test_method_not_allowed(void)
{
    match m;
    CHECK_INT(run(&m, "PUT", "/tools/x"), ROUTER_METHOD_NOT_ALLOWED);
    CHECK(m.found == NULL);
    CHECK_STR(m.allow, "GET, HEAD, PATCH, DELETE");
    done(&m);

    CHECK_INT(run(&m, "DELETE", "/tools"), ROUTER_METHOD_NOT_ALLOWED);
    CHECK_STR(m.allow, "POST, GET, HEAD");
    done(&m);

    CHECK_INT(run(&m, "GET", "/auth/login"), ROUTER_METHOD_NOT_ALLOWED);
    CHECK_STR(m.allow, "POST");
    done(&m);

    /* methods are case-sensitive (RFC 9110) */
    CHECK_INT(run(&m, "get", "/me"), ROUTER_METHOD_NOT_ALLOWED);
    CHECK_STR(m.allow, "GET, HEAD");
    done(&m);

    /* HEAD is answered wherever GET is */
    CHECK_INT(run(&m, "HEAD", "/tools/x"), ROUTER_FOUND);
    CHECK(m.found && strcmp(m.found->method, "GET") == 0);
    done(&m);

    /* a found route leaves allow listing the methods of that resource */
    CHECK_INT(run(&m, "PATCH", "/tools/x"), ROUTER_FOUND);
    CHECK(m.found && m.found == &table[1]);
    done(&m);
}

/* A small allow buffer truncates rather than overflowing. */
static void test_allow_truncated(void)
{
    request req;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = strdup("/tools/x");
    req.query = "";
    const route *found = NULL;
    char allow[8];
    memset(allow, 'Z', sizeof allow);
    CHECK_INT(router_match(table, TABLE_SIZE, &req, &found, allow, sizeof allow), ROUTER_METHOD_NOT_ALLOWED);
    CHECK(memchr(allow, '\0', sizeof allow) != NULL);
    CHECK(strncmp(allow, "GET", 3) == 0);
    request_free(&req);
}

/* ---- the real table ----------------------------------------------------------------------------- */

static void test_real_routes(void)
{
    size_t count = 0;
    const route *routes = routes_all(&count);
    CHECK(routes != NULL);
    CHECK(count >= 8);
    static const struct {
        const char *method, *path, *pattern;
        router_result result;
        const char *allow;
    } cases[] = {
        {"GET", "/health", "/health", ROUTER_FOUND, NULL},
        {"GET", "/metrics", "/metrics", ROUTER_FOUND, NULL},
        {"POST", "/health", NULL, ROUTER_METHOD_NOT_ALLOWED, "GET, HEAD"},
        {"HEAD", "/health", "/health", ROUTER_FOUND, NULL},
        {"POST", "/auth/register", "/auth/register", ROUTER_FOUND, NULL},
        {"POST", "/auth/login", "/auth/login", ROUTER_FOUND, NULL},
        {"GET", "/auth/login", NULL, ROUTER_METHOD_NOT_ALLOWED, "POST"},
        {"POST", "/auth/logout", "/auth/logout", ROUTER_FOUND, NULL},
        {"GET", "/me", "/me", ROUTER_FOUND, NULL},
        {"DELETE", "/me", NULL, ROUTER_METHOD_NOT_ALLOWED, "GET, HEAD"},
        {"POST", "/developers", "/developers", ROUTER_FOUND, NULL},
        {"GET", "/developers/17", "/developers/{id}", ROUTER_FOUND, NULL},
        {"DELETE", "/developers/17", NULL, ROUTER_METHOD_NOT_ALLOWED, "GET, HEAD"},
        {"GET", "/nope", NULL, ROUTER_NOT_FOUND, NULL},
        {"GET", "/auth", NULL, ROUTER_NOT_FOUND, NULL},
        {"GET", "/me/", NULL, ROUTER_NOT_FOUND, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        match m;
        do_match(&m, routes, count, cases[i].method, cases[i].path);
        if (m.result != cases[i].result)
            fprintf(stderr, "  %s %s gave %d\n", cases[i].method, cases[i].path, (int)m.result);
        CHECK_INT(m.result, cases[i].result);
        if (cases[i].pattern)
            CHECK_STR(m.found ? m.found->pattern : NULL, cases[i].pattern);
        if (cases[i].allow)
            CHECK_STR(m.allow, cases[i].allow);
        done(&m);
    }
    match m;
    do_match(&m, routes, count, "GET", "/developers/17");
    CHECK_STR(request_param_value(&m.req, "id"), "17");
    done(&m);
}

int main(void)
{
    RUN(test_literal_beats_parameter);
    RUN(test_leftmost_literal_wins);
    RUN(test_params_captured);
    RUN(test_params_percent_decoded);
    RUN(test_params_bad_escapes);
    RUN(test_params_overflow);
    RUN(test_not_found);
    RUN(test_trailing_slash);
    RUN(test_too_many_segments);
    RUN(test_method_not_allowed);
    RUN(test_allow_truncated);
    RUN(test_real_routes);
    return check_finish();
}

/* fcgi/session_cookie on hand-built requests: the name and the Secure attribute follow the scheme
 * nginx reports, the Cookie header is read strictly (once, by exact name), and the X-Requested-With
 * rule lets only safe methods or the right header through. */
#include "fcgi/session_cookie.h"

#include <string.h>

#include "tests/support/check.h"

/* A request whose parameters are env (NULL-terminated "NAME=value"). */
static void fake_request(request *req, FCGX_Request *fcgi, char **env, const char *method)
{
    memset(fcgi, 0, sizeof *fcgi);
    memset(req, 0, sizeof *req);
    fcgi->envp = env;
    req->fcgi = fcgi;
    req->method = method;
}

static void test_plain_http_cookie(void)
{
    char *env[] = {NULL};
    FCGX_Request fcgi;
    request req;
    fake_request(&req, &fcgi, env, "POST");
    response res = {0};
    session_cookie_set(&req, &res, "tok", 3600);
    CHECK_INT(res.header_count, 1);
    CHECK_STR(res.headers[0].name, "Set-Cookie");
    CHECK_STR(res.headers[0].value, "marketplace_session=tok; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict");
    session_cookie_clear(&req, &res);
    CHECK_STR(res.headers[1].value, "marketplace_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    response_free(&res);
}

static void test_tls_cookie(void)
{
    static const char *const variants[][2] = {{"HTTPS=on", "REQUEST_SCHEME=https"}, {"HTTPS=on", NULL},
                                             {"REQUEST_SCHEME=https", NULL}};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char *env[] = {(char *)variants[i][0], (char *)variants[i][1], NULL};
        FCGX_Request fcgi;
        request req;
        fake_request(&req, &fcgi, env, "POST");
        CHECK(session_cookie_secure(&req));
        response res = {0};
        session_cookie_set(&req, &res, "tok", 60);
        CHECK_STR(res.headers[0].value,
                  "__Host-marketplace_session=tok; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
        response_free(&res);
    }
    char *env[] = {"HTTPS=", "REQUEST_SCHEME=http", NULL};
    FCGX_Request fcgi;
    request req;
    fake_request(&req, &fcgi, env, "GET");
    CHECK(!session_cookie_secure(&req));
}

/* What session_cookie_read makes of one Cookie header: -1 absent, else the value read. */
static int read_cookie(const char *header, const char *scheme, char *token)
{
    char cookie[4096], scheme_param[64];
    snprintf(cookie, sizeof cookie, "HTTP_COOKIE=%s", header);
    snprintf(scheme_param, sizeof scheme_param, "REQUEST_SCHEME=%s", scheme);
    char *env[] = {cookie, scheme_param, NULL};
    FCGX_Request fcgi;
    request req;
    fake_request(&req, &fcgi, env, "GET");
    return session_cookie_read(&req, token) ? 0 : -1;
}

static void test_read(void)
{
    char token[SESSION_COOKIE_TOKEN_SIZE];
    CHECK_INT(read_cookie("marketplace_session=abc", "http", token), 0);
    CHECK_STR(token, "abc");
    CHECK_INT(read_cookie("a=1; marketplace_session = abc ;b=2", "http", token), 0);
    CHECK_STR(token, "abc");
    CHECK_INT(read_cookie("marketplace_session=abc; marketplace_session=abc", "http", token), -1);
    CHECK_INT(read_cookie("xmarketplace_session=abc", "http", token), -1);
    CHECK_INT(read_cookie("marketplace_sessionx=abc", "http", token), -1);
    CHECK_INT(read_cookie("marketplace_session", "http", token), -1);
    CHECK_INT(read_cookie("", "http", token), -1);
    CHECK_INT(read_cookie(";;;", "http", token), -1);
    CHECK_INT(read_cookie("marketplace_session=", "http", token), 0);
    CHECK_STR(token, "");
    /* too long to be a token: read as "" so authentication refuses it */
    CHECK_INT(read_cookie("marketplace_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "http", token), 0);
    CHECK_STR(token, "");
    CHECK_INT(read_cookie("marketplace_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "http", token), 0);
    CHECK_INT(strlen(token), 43);
    /* the name follows the scheme: the plain one is not read under TLS, nor the other way round */
    CHECK_INT(read_cookie("marketplace_session=abc", "https", token), -1);
    CHECK_INT(read_cookie("__Host-marketplace_session=abc", "https", token), 0);
    CHECK_STR(token, "abc");
    CHECK_INT(read_cookie("__Host-marketplace_session=abc", "http", token), -1);
}

static int allowed(const char *method, const char *header)
{
    char param[128];
    snprintf(param, sizeof param, "HTTP_X_REQUESTED_WITH=%s", header ? header : "");
    char *env[] = {header ? param : NULL, NULL};
    FCGX_Request fcgi;
    request req;
    fake_request(&req, &fcgi, env, method);
    return session_cookie_request_allowed(&req);
}

static void test_request_allowed(void)
{
    CHECK(allowed("GET", NULL));
    CHECK(allowed("HEAD", NULL));
    CHECK(allowed("OPTIONS", NULL));
    CHECK(!allowed("POST", NULL));
    CHECK(!allowed("PATCH", NULL));
    CHECK(!allowed("DELETE", NULL));
    CHECK(!allowed("PUT", NULL));
    CHECK(!allowed("POST", ""));
    CHECK(!allowed("POST", "XMLHttpRequest"));
    CHECK(!allowed("POST", "marketplace "));
    CHECK(allowed("POST", "marketplace"));
    CHECK(allowed("DELETE", "marketplace"));
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(session_cookie_refuse(&err), -1);
    CHECK_INT(err.kind, ERROR_FORBIDDEN);
    CHECK_INT(err.field_count, 1);
    CHECK_STR(err.fields[0].field, "X-Requested-With");
    error_clear(&err);
}

int main(void)
{
    RUN(test_plain_http_cookie);
    RUN(test_tls_cookie);
    RUN(test_read);
    RUN(test_request_allowed);
    return check_finish();
}

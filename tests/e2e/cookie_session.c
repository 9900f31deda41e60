/* Browser sessions end to end, through real nginx -> marketplace -> MariaDB: a login (or a
 * registration) with "session": "cookie" sets an HttpOnly, SameSite=Strict cookie and keeps the
 * token out of the answer; the cookie alone authenticates reads; a state change it authenticates
 * needs "X-Requested-With: marketplace" (403 naming the header otherwise); a Bearer header wins over
 * the cookie; logout clears it and the old value stops working; odd Cookie headers are a 401 or
 * ignored, never a 500. Each test makes its own users. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

#define COOKIE_NAME "marketplace_session"

/* ---- helpers ------------------------------------------------------------------------------------- */

/* POST /auth/login {email, password, session} as JSON. */
static http_response *login_with(const http_user *u, const char *session)
{
    json_t *body = json_pack("{s:s, s:s}", "email", u->email, "password", u->password);
    if (session)
        json_object_set_new(body, "session", json_string(session));
    http_response *res = http_post_json("/auth/login", NULL, body);
    json_decref(body);
    return res;
}

/* The value of our cookie in res's Set-Cookie into out (size bytes); 0 when there is none. */
static int set_cookie_value(const http_response *res, char *out, size_t size)
{
    const char *line = http_header(res, "Set-Cookie");
    size_t prefix = strlen(COOKIE_NAME "=");
    if (!line || strncmp(line, COOKIE_NAME "=", prefix) != 0)
        return 0;
    snprintf(out, size, "%.*s", (int)strcspn(line + prefix, ";"), line + prefix);
    return 1;
}

/* A fresh user signed in with a cookie session: the cookie's value into cookie (128 bytes). */
static void cookie_user(http_user *u, char *cookie)
{
    fixture_user(u);
    http_response *res = login_with(u, "cookie");
    if (res->status != 200 || !set_cookie_value(res, cookie, 128)) {
        http_dump("cookie login", res);
        exit(2);
    }
    http_response_free(res);
}

/* METHOD path with exactly one Cookie header line (cookie_line, NULL: none) and, when csrf, the
 * X-Requested-With header; body as JSON text (NULL: none). */
static http_response *cookie_request(const char *method, const char *path, const char *cookie_line, int csrf,
                                     const char *body)
{
    char cookie_header[32768];
    const char *headers[3] = {NULL, NULL, NULL};
    size_t n = 0;
    if (cookie_line) {
        snprintf(cookie_header, sizeof cookie_header, "Cookie: %s", cookie_line);
        headers[n++] = cookie_header;
    }
    if (csrf)
        headers[n++] = "X-Requested-With: marketplace";
    return http_request(method, path, NULL, NULL, body, body ? strlen(body) : 0, headers);
}

/* "marketplace_session=<value>" */
static const char *cookie_pair(const char *value)
{
    static char pair[256];
    snprintf(pair, sizeof pair, COOKIE_NAME "=%s", value);
    return pair;
}

/* ---- tests ------------------------------------------------------------------------------------------ */

/* The cookie's attributes, and the answer without the token. */
static void test_login_sets_cookie(void)
{
    http_user u;
    fixture_user(&u);
    http_response *res = login_with(&u, "cookie");
    CHECK_INT(res->status, 200);
    CHECK(http_json_string(res, "token") == NULL);
    CHECK(http_json_string(res, "expires_at") != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(res->json, "user"), "id")), u.id);
    const char *line = http_header(res, "Set-Cookie");
    CHECK(line != NULL);
    char value[128] = "";
    CHECK(set_cookie_value(res, value, sizeof value));
    CHECK_INT(strlen(value), 43);
    char max_age[64];
    snprintf(max_age, sizeof max_age, "; Max-Age=%lld", (long long)fixture_config()->token_ttl);
    CHECK(line && strstr(line, "; Path=/;") != NULL);
    CHECK(line && strstr(line, max_age) != NULL);
    CHECK(line && strstr(line, "; HttpOnly") != NULL);
    CHECK(line && strstr(line, "; SameSite=Strict") != NULL);
    CHECK(line && strstr(line, "Secure") == NULL); /* the test stack is plain HTTP */
    CHECK(line && strstr(line, "Domain") == NULL);
    CHECK(http_header(res, "Cache-Control") && strstr(http_header(res, "Cache-Control"), "no-store"));
    if (check_failures)
        http_dump("cookie login", res);
    http_response_free(res);

    /* The default stays a token in the body and sets no cookie. */
    res = login_with(&u, NULL);
    CHECK_INT(res->status, 200);
    CHECK(http_json_string(res, "token") != NULL);
    CHECK(http_header(res, "Set-Cookie") == NULL);
    http_response_free(res);
    res = login_with(&u, "token");
    CHECK_INT(res->status, 200);
    CHECK(http_json_string(res, "token") != NULL);
    CHECK(http_header(res, "Set-Cookie") == NULL);
    http_response_free(res);
}

static void test_session_field_checked(void)
{
    http_user u;
    fixture_user(&u);
    http_response *res = login_with(&u, "jar");
    CHECK(http_is_problem(res, 422));
    CHECK(http_problem_has_field(res, "session"));
    CHECK(http_header(res, "Set-Cookie") == NULL);
    http_response_free(res);
    res = http_post_text("/auth/login", NULL, "{\"email\":\"a@b.test\",\"password\":\"0123456789\",\"session\":1}");
    CHECK(http_is_problem(res, 422));
    CHECK(http_problem_has_field(res, "session"));
    http_response_free(res);
}

/* A registration can start a cookie session too (the web UI signs a new user in at once). */
static void test_register_sets_cookie(void)
{
    char email[160], body[512];
    http_unique_email(email, sizeof email, "cookiereg");
    snprintf(body, sizeof body,
             "{\"email\":\"%s\",\"password\":\"a perfectly fine password\",\"display_name\":\"Jar\",\"session\":\"cookie\"}",
             email);
    http_response *res = http_post_text("/auth/register", NULL, body);
    CHECK_INT(res->status, 201);
    CHECK(http_json_string(res, "token") == NULL);
    char value[128] = "";
    CHECK(set_cookie_value(res, value, sizeof value));
    http_response_free(res);
    res = cookie_request("GET", "/me", cookie_pair(value), 0, NULL);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "email"), email);
    http_response_free(res);
}

static void test_cookie_reads(void)
{
    http_user u;
    char cookie[128];
    cookie_user(&u, cookie);
    http_response *res = cookie_request("GET", "/me", cookie_pair(cookie), 0, NULL);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "id"), u.id);
    http_response_free(res);
    /* HEAD is as safe as GET */
    CHECK_INT(http_status_free(cookie_request("HEAD", "/me", cookie_pair(cookie), 0, NULL)), 200);
    /* among other cookies, with spaces after the separators */
    char line[512];
    snprintf(line, sizeof line, "theme=dark;  %s ; lang=en", cookie_pair(cookie));
    res = cookie_request("GET", "/me", line, 0, NULL);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "id"), u.id);
    http_response_free(res);
    /* no cookie at all: 401 as ever */
    res = cookie_request("GET", "/me", NULL, 0, NULL);
    CHECK(http_is_problem(res, 401));
    http_response_free(res);
}

/* A state change the cookie authenticates needs the header; with it, it works. */
static void test_state_change_needs_header(void)
{
    http_user u;
    char cookie[128];
    cookie_user(&u, cookie);
    const char *body = "{\"display_name\":\"Cookie Dev\"}";
    http_response *res = cookie_request("POST", "/developers", cookie_pair(cookie), 0, body);
    CHECK(http_is_problem(res, 403));
    CHECK(http_problem_has_field(res, "X-Requested-With"));
    const char *detail = http_json_string(res, "detail");
    CHECK(detail && strstr(detail, "X-Requested-With") != NULL);
    http_response_free(res);
    /* nothing happened: the account is no developer yet */
    res = cookie_request("GET", "/me", cookie_pair(cookie), 0, NULL);
    CHECK(res->json && json_object_get(res->json, "developer") == NULL);
    http_response_free(res);

    /* a wrong value is no better than none */
    char cookie_header[320];
    snprintf(cookie_header, sizeof cookie_header, "Cookie: %s", cookie_pair(cookie));
    const char *wrong[] = {cookie_header, "X-Requested-With: XMLHttpRequest", NULL};
    res = http_request("POST", "/developers", NULL, NULL, body, strlen(body), wrong);
    CHECK(http_is_problem(res, 403));
    http_response_free(res);
    /* DELETE and PATCH are state changes too */
    res = cookie_request("DELETE", "/reviews/1", cookie_pair(cookie), 0, NULL);
    CHECK(http_is_problem(res, 403) && http_problem_has_field(res, "X-Requested-With"));
    http_response_free(res);
    res = cookie_request("PATCH", "/reviews/1", cookie_pair(cookie), 0, "{\"body\":\"x\"}");
    CHECK(http_is_problem(res, 403) && http_problem_has_field(res, "X-Requested-With"));
    http_response_free(res);

    res = cookie_request("POST", "/developers", cookie_pair(cookie), 1, body);
    CHECK_INT(res->status, 201);
    http_response_free(res);
    res = cookie_request("GET", "/me", cookie_pair(cookie), 0, NULL);
    CHECK(res->json && json_object_get(res->json, "developer") != NULL);
    http_response_free(res);
}

/* A public route that changes state does not need the caller: without the header the cookie is
 * ignored rather than refused (a login with a stale cookie still works). */
static void test_public_route_ignores_cookie_without_header(void)
{
    http_user u;
    char cookie[128];
    cookie_user(&u, cookie);
    char body[512];
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", u.email, u.password);
    http_response *res = cookie_request("POST", "/auth/login", cookie_pair(cookie), 0, body);
    CHECK_INT(res->status, 200);
    http_response_free(res);
}

/* A Bearer header wins: another account's cookie does not change who calls, and a bad Bearer is a
 * 401 even beside a good cookie. */
static void test_bearer_wins(void)
{
    http_user a, b;
    char cookie_b[128];
    fixture_user(&a);
    cookie_user(&b, cookie_b);
    char cookie_header[320];
    snprintf(cookie_header, sizeof cookie_header, "Cookie: %s", cookie_pair(cookie_b));
    const char *headers[] = {cookie_header, NULL};
    http_response *res = http_request("GET", "/me", a.token, NULL, NULL, 0, headers);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "id"), a.id);
    http_response_free(res);
    res = http_request("GET", "/me", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, 0, headers);
    CHECK(http_is_problem(res, 401));
    http_response_free(res);
    /* a Bearer request needs no X-Requested-With, cookie or not */
    res = http_request("POST", "/developers", a.token, NULL, "{\"display_name\":\"Bearer Dev\"}", 29, headers);
    CHECK_INT(res->status, 201);
    http_response_free(res);
}

static void test_logout_clears(void)
{
    http_user u;
    char cookie[128];
    cookie_user(&u, cookie);
    /* logout is a state change too */
    CHECK_INT(http_status_free(cookie_request("POST", "/auth/logout", cookie_pair(cookie), 0, NULL)), 403);
    http_response *res = cookie_request("POST", "/auth/logout", cookie_pair(cookie), 1, NULL);
    CHECK_INT(res->status, 204);
    const char *line = http_header(res, "Set-Cookie");
    CHECK(line && strncmp(line, COOKIE_NAME "=;", strlen(COOKIE_NAME "=;")) == 0);
    CHECK(line && strstr(line, "Max-Age=0") != NULL);
    CHECK(line && strstr(line, "HttpOnly") != NULL);
    http_response_free(res);
    res = cookie_request("GET", "/me", cookie_pair(cookie), 0, NULL);
    CHECK(http_is_problem(res, 401));
    /* a dead cookie is cleared on the way */
    line = http_header(res, "Set-Cookie");
    CHECK(line && strstr(line, "Max-Age=0") != NULL);
    http_response_free(res);
}

/* Odd Cookie headers: a 401 (or ignored on public routes), never a 500. */
static void test_odd_cookies(void)
{
    http_user u;
    char cookie[128];
    cookie_user(&u, cookie);

    /* the same name twice, both valid: ambiguous, so ignored */
    char line[32768];
    snprintf(line, sizeof line, "%s; %s", cookie_pair(cookie), cookie_pair(cookie));
    http_response *res = cookie_request("GET", "/me", line, 0, NULL);
    CHECK(http_is_problem(res, 401));
    http_response_free(res);

    /* huge (but within nginx's header limit) */
    char *huge = check_repeat("A", 6000);
    snprintf(line, sizeof line, COOKIE_NAME "=%s", huge);
    free(huge);
    res = cookie_request("GET", "/me", line, 0, NULL);
    CHECK(http_is_problem(res, 401));
    http_response_free(res);
    CHECK_INT(http_status_free(cookie_request("GET", "/health", line, 0, NULL)), 200);

    /* beyond nginx's header limit: nginx refuses it as a problem document */
    huge = check_repeat("B", 20000);
    snprintf(line, sizeof line, COOKIE_NAME "=%s", huge);
    free(huge);
    res = cookie_request("GET", "/me", line, 0, NULL);
    CHECK(res->status == 400 || res->status == 401);
    CHECK(http_is_problem(res, res->status));
    http_response_free(res);

    /* not ASCII, quoted, empty, a token one character short, with a NUL-ish escape */
    static const char *const odd[] = {
        COOKIE_NAME "=\xc3\xa9\xc3\xa9\xc3\xa9", COOKIE_NAME "=\xff\xfe", COOKIE_NAME "=",
        COOKIE_NAME "=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
        COOKIE_NAME "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", COOKIE_NAME "=%00", COOKIE_NAME,
        "=; ;;", COOKIE_NAME "==", "MARKETPLACE_SESSION=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        res = cookie_request("GET", "/me", odd[i], 0, NULL);
        if (!http_is_problem(res, 401)) {
            fprintf(stderr, "  odd cookie %zu\n", i);
            http_dump("odd cookie", res);
            check_failures++;
        }
        http_response_free(res);
        CHECK_INT(http_status_free(cookie_request("GET", "/tools/trending", odd[i], 0, NULL)), 200);
    }

    /* many cookies, ours among them: still found */
    size_t used = 0;
    for (int i = 0; i < 150; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, "c%d=v%d; ", i, i);
    snprintf(line + used, sizeof line - used, "%s", cookie_pair(cookie));
    res = cookie_request("GET", "/me", line, 0, NULL);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "id"), u.id);
    http_response_free(res);
    /* many cookies, none ours */
    line[used] = '\0';
    CHECK(http_is_problem(res = cookie_request("GET", "/me", line, 0, NULL), 401));
    http_response_free(res);
}

int main(void)
{
    RUN(test_login_sets_cookie);
    RUN(test_session_field_checked);
    RUN(test_register_sets_cookie);
    RUN(test_cookie_reads);
    RUN(test_state_change_needs_header);
    RUN(test_public_route_ignores_cookie_without_header);
    RUN(test_bearer_wins);
    RUN(test_logout_clears);
    RUN(test_odd_cookies);
    fixture_close();
    return check_finish();
}

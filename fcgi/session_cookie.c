#include "fcgi/session_cookie.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int session_cookie_secure(const request *req)
{
    const char *https = request_header(req, "HTTPS");
    const char *scheme = request_header(req, "REQUEST_SCHEME");
    return (https && strcasecmp(https, "on") == 0) || (scheme && strcasecmp(scheme, "https") == 0);
}

const char *session_cookie_name(const request *req)
{
    return session_cookie_secure(req) ? SESSION_COOKIE_TLS_NAME : SESSION_COOKIE_NAME;
}

/* The value of the pair at p (up to ';') when its name is name; NULL otherwise. Spaces around
 * names and values are skipped (RFC 6265 allows them after the ';'); a quoted value stays quoted
 * and so never looks like a token. */
static const char *session_cookie_match(const char *p, size_t pair_len, const char *name, size_t *value_len)
{
    while (pair_len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        pair_len--;
    }
    size_t name_len = strlen(name);
    const char *eq = memchr(p, '=', pair_len);
    if (!eq)
        return NULL;
    size_t key_len = (size_t)(eq - p);
    while (key_len > 0 && (p[key_len - 1] == ' ' || p[key_len - 1] == '\t'))
        key_len--;
    if (key_len != name_len || memcmp(p, name, name_len) != 0)
        return NULL;
    const char *value = eq + 1;
    size_t len = pair_len - (size_t)(value - p);
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    *value_len = len;
    return value;
}

int session_cookie_read(const request *req, char token[SESSION_COOKIE_TOKEN_SIZE])
{
    const char *header = request_header(req, "HTTP_COOKIE");
    const char *name = session_cookie_name(req);
    const char *found = NULL;
    size_t found_len = 0;
    int count = 0;
    for (const char *p = header; p && *p;) {
        size_t pair_len = strcspn(p, ";");
        size_t value_len;
        const char *value = session_cookie_match(p, pair_len, name, &value_len);
        if (value) {
            found = value;
            found_len = value_len;
            count++;
        }
        p += pair_len;
        if (*p == ';')
            p++;
    }
    if (count != 1)
        return 0;
    if (found_len >= SESSION_COOKIE_TOKEN_SIZE)
        found_len = 0;
    memcpy(token, found, found_len);
    token[found_len] = '\0';
    return 1;
}

int session_cookie_request_allowed(const request *req)
{
    static const char *const safe[] = {"GET", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
        if (strcmp(req->method, safe[i]) == 0)
            return 1;
    const char *given = request_header(req, "HTTP_X_REQUESTED_WITH");
    return given && strcmp(given, SESSION_COOKIE_CSRF_VALUE) == 0;
}

int session_cookie_refuse(mkt_error *err)
{
    error_set(err, ERROR_FORBIDDEN,
              "a request signed in by the session cookie that changes something must carry the header "
              SESSION_COOKIE_CSRF_HEADER ": " SESSION_COOKIE_CSRF_VALUE);
    return error_add_field(err, SESSION_COOKIE_CSRF_HEADER, "must be \"" SESSION_COOKIE_CSRF_VALUE "\"");
}

void session_cookie_set(const request *req, response *res, const char *value, int64_t max_age)
{
    char line[256];
    snprintf(line, sizeof line, "%s=%s; Path=/; Max-Age=%" PRId64 "; HttpOnly; SameSite=Strict%s",
             session_cookie_name(req), value, max_age, session_cookie_secure(req) ? "; Secure" : "");
    response_header(res, "Set-Cookie", line);
}

void session_cookie_clear(const request *req, response *res)
{
    session_cookie_set(req, res, "", 0);
}

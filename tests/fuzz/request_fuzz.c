/* libFuzzer target for the FastCGI parameters a request carries (fcgi/request.c) and the router that
 * turns its path into route parameters (fcgi/router.c), through the real libfcgi parameter lookup.
 *
 * The input is up to six lines, each one FastCGI parameter (a missing line = the parameter is absent):
 *   QUERY_STRING \n REQUEST_URI \n REQUEST_METHOD \n HTTP_AUTHORIZATION \n HTTP_X_REQUEST_ID \n NAME
 * where NAME is one more query parameter to look up besides the ones the routes use.
 *
 * Invariants besides memory safety and no leaks:
 *   - request_read never fails without a body; the path lies below base_path and starts with '/', or is
 *     the marker the router never matches; the request id is 1..64 characters of hex and '-';
 *   - request_query gives NULL without an error exactly when the name is not a key of the query; a
 *     value decodes to at most its raw length, equals the raw text when nothing was encoded, and comes
 *     back unchanged through percent-encoding; a decoding error is a 400 naming the parameter;
 *   - request_query_int gives the default when absent, else a value in [1, max] spelled in digits, or a
 *     400 naming the parameter;
 *   - the bearer token is a non-empty suffix of the Authorization header without leading spaces;
 *   - the router finds a route whose method matches, with at most REQUEST_MAX_PARAMS captured values
 *     each findable by name, or answers 405 with a non-empty Allow list. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/routes/routes.h"
#include "tests/fuzz/fuzz_support.h"

#define REQUEST_FUZZ_LINES 6

FUZZ_REQUEST_CONFIG(NULL, NULL)

/* Splits data into up to REQUEST_FUZZ_LINES NUL-terminated lines; absent ones stay NULL. */
static int request_fuzz_split(const uint8_t *data, size_t size, char *lines[REQUEST_FUZZ_LINES])
{
    const char *p = (const char *)data, *end = p + size;
    for (int i = 0; i < REQUEST_FUZZ_LINES && p <= end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        lines[i] = strndup(p, (size_t)(stop - p));
        if (!lines[i])
            return -1;
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}

/* The raw value of the first pair whose key is name, as request_query looks it up; NULL if none. */
static const char *request_fuzz_raw(const char *query, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    const char *p = query;
    for (;;) {
        size_t pair_len = strcspn(p, "&");
        const char *eq = memchr(p, '=', pair_len);
        size_t key_len = eq ? (size_t)(eq - p) : pair_len;
        if (key_len == name_len && memcmp(p, name, name_len) == 0) {
            *len = eq ? pair_len - key_len - 1 : 0;
            return eq ? eq + 1 : p + pair_len;
        }
        if (!p[pair_len])
            return NULL;
        p += pair_len + 1;
    }
}

/* Does err name the parameter? Field names are stored as valid UTF-8 (invalid bytes become U+FFFD,
 * core/error.h), so compare with the name cleaned the same way. */
static int request_fuzz_has_field(const mkt_error *err, const char *name)
{
    char *clean = error_text_clean(name);
    if (!clean)
        abort();
    int found = 0;
    for (size_t i = 0; i < err->field_count && !found; i++)
        found = strcmp(err->fields[i].field, clean) == 0;
    free(clean);
    return found;
}

/* Percent-encodes every byte outside [A-Za-z0-9] so the decoder sees each escape form. */
static char *request_fuzz_encode(const char *text)
{
    size_t len = strlen(text);
    char *out = malloc(3 * len + 1), *o = out;
    if (!out)
        abort();
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            *o++ = (char)c;
        else
            o += sprintf(o, (i & 1) ? "%%%02X" : "%%%02x", c);
    }
    *o = '\0';
    return out;
}

static void request_fuzz_query(const request *req, const char *name)
{
    if (!*name)
        return;
    mkt_error err = MKT_ERROR_INIT;
    char *value = request_query(req, name, &err);
    size_t raw_len = 0;
    const char *raw = request_fuzz_raw(req->query, name, &raw_len);
    if (!value) {
        if (!raw != !error_is_set(&err))
            abort();
        if (raw && (err.kind != ERROR_BAD_REQUEST || !request_fuzz_has_field(&err, name)))
            abort();
    } else {
        if (!raw || error_is_set(&err) || strlen(value) > raw_len)
            abort();
        if (!memchr(raw, '%', raw_len) && !memchr(raw, '+', raw_len) &&
            (strlen(value) != raw_len || memcmp(value, raw, raw_len) != 0))
            abort();
        char *encoded = request_fuzz_encode(value);
        char *back = request_percent_decode(encoded, strlen(encoded), 1);
        if (!back || strcmp(back, value) != 0)
            abort();
        free(back);
        free(encoded);
    }
    free(value);
    error_clear(&err);
}

static void request_fuzz_query_int(const request *req, const char *name, int64_t max)
{
    if (!*name)
        return;
    mkt_error err = MKT_ERROR_INIT;
    int64_t out = -1;
    size_t raw_len = 0;
    const char *raw = request_fuzz_raw(req->query, name, &raw_len);
    if (request_query_int(req, name, 7, max, &out, &err) == 0) {
        if (error_is_set(&err))
            abort();
        if (!raw && out != 7)
            abort();
        if (raw) {
            char *text = request_query(req, name, NULL);
            char spelled[32];
            snprintf(spelled, sizeof spelled, "%lld", (long long)out);
            /* leading zeros are allowed: compare the digits after them */
            const char *digits = text ? text + strspn(text, "0") : NULL;
            if (out < 1 || out > max || !digits || strcmp(digits, spelled) != 0)
                abort();
            free(text);
        }
    } else if (err.kind != ERROR_BAD_REQUEST || !request_fuzz_has_field(&err, name) || !raw) {
        abort();
    }
    error_clear(&err);
}

static void request_fuzz_path(const request *req, const char *uri)
{
    static const char outside[] = "/\x01outside";
    if (!req->path || req->path[0] != '/')
        abort();
    if (strcmp(req->path, outside) == 0)
        return;
    const char *base = fuzz_cfg.base_path;
    size_t base_len = strlen(base);
    if (!uri || !*uri)
        uri = "/";
    /* below the base path: the URI (up to ? or #) is base_path followed by the path, or base_path alone */
    size_t uri_len = strcspn(uri, "?#");
    if (uri_len < base_len || memcmp(uri, base, base_len) != 0)
        abort();
    if (uri_len == base_len ? strcmp(req->path, "/") != 0
                            : (strlen(req->path) != uri_len - base_len || memcmp(req->path, uri + base_len, uri_len - base_len) != 0))
        abort();
}

static void request_fuzz_id(const request *req, const char *given)
{
    size_t len = strlen(req->request_id);
    if (len == 0 || len > 64 || strspn(req->request_id, "0123456789abcdefABCDEF-") != len)
        abort();
    if (given && *given && strlen(given) <= 64 && strspn(given, "0123456789abcdefABCDEF-") == strlen(given) &&
        strcmp(given, req->request_id) != 0)
        abort();
}

static void request_fuzz_bearer(const request *req, const char *header)
{
    const char *token = request_bearer_token(req);
    if (!token)
        return;
    if (!header || strncasecmp(header, "Bearer ", 7) != 0 || !*token || *token == ' ')
        abort();
    size_t hl = strlen(header), tl = strlen(token);
    if (tl > hl - 7 || strcmp(header + hl - tl, token) != 0)
        abort();
}

static void request_fuzz_route(request *req)
{
    size_t count;
    const route *routes = routes_all(&count);
    const route *found = NULL;
    char allow[128];
    router_result r = router_match(routes, count, req, &found, allow, sizeof allow);
    if (r == ROUTER_FOUND) {
        if (!found || req->param_count > REQUEST_MAX_PARAMS)
            abort();
        if (strcmp(found->method, req->method) != 0 &&
            !(strcmp(found->method, "GET") == 0 && strcmp(req->method, "HEAD") == 0))
            abort();
        for (size_t i = 0; i < req->param_count; i++)
            if (!req->params[i].value || !req->params[i].name[0] ||
                request_param_value(req, req->params[i].name) == NULL)
                abort();
    } else if (r == ROUTER_METHOD_NOT_ALLOWED) {
        if (found || !allow[0])
            abort();
    }
    /* ROUTER_NOT_FOUND: a path segment that does not percent-decode ends here too; whatever was
     * captured before is freed by request_free (checked by the leak detector). */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *lines[REQUEST_FUZZ_LINES] = {0};
    if (request_fuzz_split(data, size, lines) < 0)
        abort();
    static const char *names[] = {"QUERY_STRING=", "REQUEST_URI=", "REQUEST_METHOD=", "HTTP_AUTHORIZATION=",
                                  "HTTP_X_REQUEST_ID="};
    char *env[REQUEST_FUZZ_LINES] = {0};
    size_t n = 0;
    for (int i = 0; i < 5; i++) {
        if (!lines[i])
            continue;
        env[n] = malloc(strlen(names[i]) + strlen(lines[i]) + 1);
        if (!env[n])
            abort();
        strcpy(stpcpy(env[n], names[i]), lines[i]);
        n++;
    }
    FCGX_Request fcgi = {.envp = env};
    request req = {0};
    mkt_error err = MKT_ERROR_INIT;
    if (request_read(&req, &fcgi, &fuzz_cfg, &err) < 0 || error_is_set(&err))
        abort();
    if (strcmp(req.query, lines[0] ? lines[0] : "") != 0)
        abort();
    request_fuzz_path(&req, lines[1]);
    request_fuzz_id(&req, lines[4]);
    request_fuzz_bearer(&req, lines[3]);
    request_fuzz_query(&req, lines[5] ? lines[5] : "q");
    request_fuzz_query(&req, "as");
    request_fuzz_query_int(&req, "page", 1000);
    request_fuzz_query_int(&req, "per_page", 100);
    if (lines[5])
        request_fuzz_query_int(&req, lines[5], INT64_MAX);
    request_fuzz_route(&req);

    request_free(&req);
    for (size_t i = 0; i < n; i++)
        free(env[i]);
    for (int i = 0; i < REQUEST_FUZZ_LINES; i++)
        free(lines[i]);
    return 0;
}

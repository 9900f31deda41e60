#include "fcgi/response.h"
#include "fcgi/problem.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void response_json(response *res, int status, json_t *body)
{
    res->problem_fallback[0] = '\0';
    json_decref(res->body);
    res->status = status;
    res->body = body;
    res->content_type = "application/json; charset=utf-8";
}

void response_text(response *res, int status, const char *content_type, char *text)
{
    res->problem_fallback[0] = '\0';
    free(res->text);
    res->status = status;
    res->text = text;
    res->content_type = content_type;
}

void response_empty(response *res, int status)
{
    res->problem_fallback[0] = '\0';
    json_decref(res->body);
    res->body = NULL;
    res->status = status;
}

void response_header(response *res, const char *name, const char *value)
{
    if (res->header_count >= RESPONSE_MAX_HEADERS)
        return;
    char *copy = strdup(value);
    if (!copy)
        return;
    res->headers[res->header_count].name = name;
    res->headers[res->header_count].value = copy;
    res->header_count++;
}

static int response_has_header(const response *res, const char *name)
{
    for (int i = 0; i < res->header_count; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return 1;
    return 0;
}

/* A JSON string of s, cleaned first when it is not valid UTF-8; NULL only when out of memory. */
static json_t *response_string(const char *s)
{
    json_t *v = json_string(s);
    if (!v && s) {
        char *clean = error_text_clean(s);
        v = clean ? json_string(clean) : NULL;
        free(clean);
    }
    return v;
}

/* Sets key to the string s (skipped when s is NULL); -1 when it could not be set. */
static int response_set_string(json_t *obj, const char *key, const char *s)
{
    return s ? json_object_set_new(obj, key, response_string(s)) : 0;
}

static json_t *response_problem_errors(const mkt_error *err)
{
    json_t *fields = json_array();
    for (size_t i = 0; fields && i < err->field_count; i++) {
        json_t *entry = json_object();
        if (response_set_string(entry, "field", err->fields[i].field) < 0 ||
            response_set_string(entry, "message", err->fields[i].message) < 0 ||
            json_array_append_new(fields, entry) < 0) {
            json_decref(fields);
            return NULL;
        }
    }
    return fields;
}

static json_t *response_problem_build(const mkt_error *err, error_kind kind, const char *type, const char *detail,
                                      const char *instance, const char *request_id)
{
    int status = problem_status(kind);
    json_t *problem = json_object();
    if (!problem || response_set_string(problem, "type", type) < 0 ||
        response_set_string(problem, "title", problem_title(kind)) < 0 ||
        json_object_set_new(problem, "status", json_integer(status)) < 0 ||
        response_set_string(problem, "detail", detail) < 0 || response_set_string(problem, "instance", instance) < 0 ||
        response_set_string(problem, "request_id", request_id) < 0)
        goto fail;
    if (err->field_count > 0 && kind != ERROR_INTERNAL &&
        json_object_set_new(problem, "errors", response_problem_errors(err)) < 0)
        goto fail;
    /* members a kind adds (quota-exceeded: the period end and the plans allowing more); the
     * standard members above win over any of the same name */
    json_t *extension = err->extension && kind != ERROR_INTERNAL ? json_loads(err->extension, 0, NULL) : NULL;
    if (json_is_object(extension))
        json_object_update_missing(problem, extension);
    json_decref(extension);
    return problem;
fail:
    json_decref(problem);
    return NULL;
}

void response_problem(response *res, const mkt_error *err, const char *instance, const char *request_id)
{
    error_kind kind = err->kind == ERROR_NONE ? ERROR_INTERNAL : err->kind;
    int status = problem_status(kind);
    char type[96];
    snprintf(type, sizeof type, "urn:marketplace:problem:%s", problem_slug(kind));
    const char *detail = err->message ? err->message : problem_title(kind);
    if (!err->message && kind == ERROR_VALIDATION)
        detail = "one or more fields are invalid; see errors";
    if (kind == ERROR_INTERNAL)
        detail = "internal error; the request id identifies it in the server log";
    response_json(res, status, response_problem_build(err, kind, type, detail, instance, request_id));
    res->content_type = "application/problem+json; charset=utf-8";
    if (status == 401 && !response_has_header(res, "WWW-Authenticate"))
        response_header(res, "WWW-Authenticate", "Bearer realm=\"marketplace\"");  /* RFC 9110: every 401 */
    if (err->retry_after > 0 && !response_has_header(res, "Retry-After")) {
        char seconds[24];
        snprintf(seconds, sizeof seconds, "%ld", err->retry_after);
        response_header(res, "Retry-After", seconds);
    }
    /* Fixed ASCII from the error table: this one cannot fail. */
    snprintf(res->problem_fallback, sizeof res->problem_fallback,
             "{\"type\":\"%s\",\"title\":\"%s\",\"status\":%d,\"detail\":\"%s\"}", type, problem_title(kind),
             status, problem_title(kind));
}

const char *response_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Unknown";
    }
}

/* Appends one whole header line, or nothing when it would not fit, so a header block is never cut
 * mid-line. */
static void response_head_append(char *head, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void response_head_append(char *head, size_t size, size_t *used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(head + *used, size - *used, fmt, ap);
    va_end(ap);
    if (n >= 0 && *used + (size_t)n < size)
        *used += (size_t)n;
    else
        head[*used] = '\0';
}

/* A strong validator of the body: FNV-1a 64 of its bytes, quoted. Equal bodies, equal tags, in
 * every worker and across restarts. */
static void response_etag(const char *bytes, size_t len, char out[20])
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)bytes[i]) * 1099511628211u;
    snprintf(out, 20, "\"%016" PRIx64 "\"", h);
}

/* Does If-None-Match (a list of entity tags, or "*") name etag? The weak comparison RFC 9110 asks
 * for: a W/ prefix is ignored. */
static int response_etag_matches(const char *if_none_match, const char *etag)
{
    size_t etag_len = strlen(etag);
    for (const char *p = if_none_match; *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ", \t");
        if (n == etag_len && memcmp(p, etag, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

static const char *response_cache_control(response_cache cache)
{
    switch (cache) {
    case RESPONSE_PUBLIC: return "public, max-age=1";
    case RESPONSE_PRIVATE: return "private, no-cache";
    case RESPONSE_NO_STORE: break;
    }
    return "no-store";
}

/* Headers are formatted with snprintf: libfcgi's own FCGX_FPrintF does not know %zu or %lld. */
size_t response_send(const response *res, FCGX_Stream *out, const char *request_id)
{
    char *payload = res->body ? json_dumps(res->body, JSON_COMPACT) : NULL;
    const char *bytes = payload; /* what follows the header block */
    if (!res->body && res->text)
        bytes = res->text;
    if (!bytes && res->problem_fallback[0])
        bytes = res->problem_fallback;
    size_t bytes_len = bytes ? strlen(bytes) : 0;
    /* a JSON body ends with a newline, as text on a terminal (curl) should: sent after it, not copied */
    size_t payload_len = bytes_len + (payload ? 1 : 0);
    int status = res->status;
    response_cache cache = status == 200 && bytes ? res->cache : RESPONSE_NO_STORE;
    char etag[20] = "";
    if (cache != RESPONSE_NO_STORE) {
        response_etag(bytes, bytes_len, etag);
        if (res->if_none_match && response_etag_matches(res->if_none_match, etag)) {
            status = 304;
            bytes_len = payload_len = 0;
        }
    }
    char head[2048];
    const size_t lines_room = sizeof head - 2; /* the blank line that ends the block always fits */
    size_t used = 0;
    response_head_append(head, lines_room, &used, "Status: %d %s\r\n", status, response_reason(status));
    if (payload_len > 0)
        response_head_append(head, lines_room, &used, "Content-Type: %s\r\n",
                             res->content_type ? res->content_type : "application/json");
    if (status != 304)
        response_head_append(head, lines_room, &used, "Content-Length: %zu\r\n", payload_len);
    if (etag[0])
        response_head_append(head, lines_room, &used, "ETag: %s\r\n", etag);
    response_head_append(head, lines_room, &used, "Cache-Control: %s\r\nX-Request-Id: %s\r\n",
                         response_cache_control(cache), request_id ? request_id : "");
    for (int i = 0; i < res->header_count; i++)
        response_head_append(head, lines_room, &used, "%s: %s\r\n", res->headers[i].name, res->headers[i].value);
    head[used++] = '\r';
    head[used++] = '\n';
    FCGX_PutStr(head, (int)used, out);
    if (bytes_len > 0)
        FCGX_PutStr(bytes, (int)bytes_len, out);
    if (payload && payload_len > 0)
        FCGX_PutStr("\n", 1, out);
    free(payload);
    return payload_len;
}

void response_free(response *res)
{
    json_decref(res->body);
    free(res->text);
    for (int i = 0; i < res->header_count; i++)
        free(res->headers[i].value);
    memset(res, 0, sizeof *res);
}

#include "fcgi/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "core/codec.h"
#include "core/paging.h"

const char *request_header(const request *req, const char *cgi_name)
{
    if (!req->fcgi)
        return NULL;
    return FCGX_GetParam(cgi_name, req->fcgi->envp);
}

/* nginx always sends $request_id; a request that reaches us some other way still gets an id so
 * that log lines and problem documents can be correlated. */
static void request_assign_id(request *req)
{
    const char *given = request_header(req, "HTTP_X_REQUEST_ID");
    if (given && *given && strlen(given) <= 64 && strspn(given, "0123456789abcdefABCDEF-") == strlen(given)) {
        req->request_id = given;
        return;
    }
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        memset(raw, 0, sizeof raw);
    codec_hex_encode(raw, sizeof raw, req->request_id_buf);
    req->request_id = req->request_id_buf;
}

static int request_split_path(request *req, mkt_error *err)
{
    const char *uri = request_header(req, "REQUEST_URI");
    if (!uri || !*uri)
        uri = request_header(req, "DOCUMENT_URI");
    if (!uri)
        uri = "/";
    size_t uri_len = strcspn(uri, "?#");
    size_t base_len = strlen(req->cfg->base_path);
    const char *below = uri;
    size_t below_len = uri_len;
    if (base_len > 0 && uri_len >= base_len && strncmp(uri, req->cfg->base_path, base_len) == 0 &&
        (uri_len == base_len || uri[base_len] == '/')) {
        below = uri + base_len;
        below_len = uri_len - base_len;
    } else if (base_len > 0) {
        /* Outside our base path: keep a path the router will not match. */
        below = "/\x01outside";
        below_len = strlen(below);
    }
    req->path = strndup(below_len ? below : "/", below_len ? below_len : 1);
    if (!req->path)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    return 0;
}

static int request_read_body(request *req, mkt_error *err)
{
    const char *length_text = request_header(req, "CONTENT_LENGTH");
    if (!length_text || !*length_text)
        return 0;
    /* Digits only: strtoull alone would also take leading white space and a sign. */
    errno = 0;
    char *end = NULL;
    unsigned long long length = strtoull(length_text, &end, 10);
    if (errno || *end != '\0' || strspn(length_text, "0123456789") != strlen(length_text))
        return error_set(err, ERROR_BAD_REQUEST, "Content-Length is not a valid number");
    if (length == 0)
        return 0;
    if (length > (unsigned long long)req->cfg->max_body)
        return error_set(err, ERROR_TOO_LARGE, "request body exceeds %lld bytes", (long long)req->cfg->max_body);
    req->body = malloc(length + 1);
    if (!req->body)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    size_t got = 0;
    while (got < length) {
        int n = FCGX_GetStr(req->body + got, (int)(length - got), req->fcgi->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != length || FCGX_GetError(req->fcgi->in) != 0)
        return error_set(err, ERROR_BAD_REQUEST, "request body shorter than Content-Length");
    req->body[length] = '\0';
    req->body_len = length;
    return 0;
}

int request_read(request *req, FCGX_Request *fcgi, const config *cfg, mkt_error *err)
{
    req->fcgi = fcgi;
    req->cfg = cfg;
    req->method = request_header(req, "REQUEST_METHOD");
    if (!req->method)
        req->method = "GET";
    req->query = request_header(req, "QUERY_STRING");
    if (!req->query)
        req->query = "";
    request_assign_id(req);
    if (request_split_path(req, err) < 0)
        return -1;
    return request_read_body(req, err);
}

void request_free(request *req)
{
    free(req->path);
    free(req->body);
    json_decref(req->json);
    for (size_t i = 0; i < req->param_count; i++)
        free(req->params[i].value);
    memset(req, 0, sizeof *req);
}

const char *request_param_value(const request *req, const char *name)
{
    for (size_t i = 0; i < req->param_count; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

char *request_percent_decode(const char *src, size_t len, int plus_is_space)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            unsigned char byte;
            if (i + 2 >= len || codec_hex_decode(src + i + 1, 2, &byte, 1) != 1) {
                free(out);
                return NULL;
            }
            c = (char)byte;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

char *request_query(const request *req, const char *name, mkt_error *err)
{
    size_t name_len = strlen(name);
    const char *p = req->query;
    while (*p) {
        size_t pair_len = strcspn(p, "&");
        const char *eq = memchr(p, '=', pair_len);
        size_t key_len = eq ? (size_t)(eq - p) : pair_len;
        if (key_len == name_len && strncmp(p, name, name_len) == 0) {
            const char *value = eq ? eq + 1 : p + pair_len;
            size_t value_len = eq ? pair_len - key_len - 1 : 0;
            char *decoded = request_percent_decode(value, value_len, 1);
            if (!decoded && err) {
                error_add_field(err, name, "malformed percent-encoding");
                err->kind = ERROR_BAD_REQUEST;
            }
            return decoded;
        }
        p += pair_len;
        if (*p == '&')
            p++;
    }
    return NULL;
}

int request_query_int(const request *req, const char *name, int64_t def, int64_t max, int64_t *out, mkt_error *err)
{
    char *text = request_query(req, name, err);
    if (!text) {
        if (error_is_set(err))
            return -1;
        *out = def;
        return 0;
    }
    /* Digits only, and few enough that strtoll cannot overflow. */
    size_t len = strlen(text);
    int ok = len > 0 && len <= 18 && strspn(text, "0123456789") == len;
    long long v = ok ? strtoll(text, NULL, 10) : 0;
    free(text);
    if (!ok || v < 1 || v > max) {
        error_set(err, ERROR_BAD_REQUEST, "%s must be an integer from 1 to %lld", name, (long long)max);
        return error_add_field(err, name, "must be an integer from 1 to %lld", (long long)max);
    }
    *out = v;
    return 0;
}

int request_paging(const request *req, int64_t *page, int64_t *per_page, mkt_error *err)
{
    if (request_query_int(req, "page", 1, PAGING_PAGE_MAX, page, err) < 0)
        return -1;
    return request_query_int(req, "per_page", PAGING_PER_PAGE_DEFAULT, PAGING_PER_PAGE_MAX, per_page, err);
}

int request_json_depth(const json_t *value, int limit)
{
    if (limit < 0 || (!json_is_object(value) && !json_is_array(value)))
        return 0;
    int deepest = 0;
    if (json_is_object(value)) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)value, key, child) {
            int d = request_json_depth(child, limit - 1);
            if (d > deepest)
                deepest = d;
            if (deepest > limit)
                break;
        }
    } else {
        size_t i;
        json_t *child;
        json_array_foreach(value, i, child) {
            int d = request_json_depth(child, limit - 1);
            if (d > deepest)
                deepest = d;
            if (deepest > limit)
                break;
        }
    }
    return deepest + 1;
}

static int request_is_json_type(const char *content_type)
{
    if (!content_type)
        return 0;
    static const char json_type[] = "application/json";
    if (strncasecmp(content_type, json_type, sizeof json_type - 1) != 0)
        return 0;
    char next = content_type[sizeof json_type - 1];
    return next == '\0' || next == ';' || next == ' ';
}

int request_parse_json(request *req, mkt_error *err)
{
    if (req->body_len == 0) {
        req->json = json_object();
        return 0;
    }
    if (!request_is_json_type(request_header(req, "CONTENT_TYPE")))
        return error_set(err, ERROR_UNSUPPORTED_MEDIA, "the request body must be application/json");
    json_error_t parse_error;
    req->json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &parse_error);
    if (!req->json) {
        error_set(err, ERROR_BAD_REQUEST, "malformed JSON at line %d column %d: %s", parse_error.line,
                  parse_error.column, parse_error.text);
        error_add_field(err, "body", "%s", parse_error.text);
        err->kind = ERROR_BAD_REQUEST;
        return -1;
    }
    if (request_json_depth(req->json, REQUEST_MAX_JSON_DEPTH) > REQUEST_MAX_JSON_DEPTH) {
        json_decref(req->json);
        req->json = NULL;
        error_set(err, ERROR_BAD_REQUEST, "JSON nesting deeper than %d levels", REQUEST_MAX_JSON_DEPTH);
        error_add_field(err, "body", "nesting deeper than %d levels", REQUEST_MAX_JSON_DEPTH);
        err->kind = ERROR_BAD_REQUEST;
        return -1;
    }
    return 0;
}

const char *request_bearer_token(const request *req)
{
    const char *auth = request_header(req, "HTTP_AUTHORIZATION");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return *auth ? auth : NULL;
}

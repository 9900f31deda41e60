/* libFuzzer target for JSON request bodies through the request layer (fcgi/request.c): request_read
 * takes CONTENT_LENGTH and reads the body from a libfcgi input stream, request_parse_json checks the
 * content type and parses it, as the worker does for a route that takes a body. max_body is the
 * smallest the config allows (1024) so the size limit is reachable.
 *
 * The input is "CONTENT_TYPE\nCONTENT_LENGTH\nbody": a CONTENT_LENGTH of "=" stands for the real
 * length of the body, anything else is passed as it is (and may promise more or fewer bytes than
 * the stream holds).
 *
 * Invariants besides memory safety and no leaks:
 *   - request_read fails only with 413 (a valid length over max_body) or 400 (a length that is not a
 *     plain decimal number, or a stream shorter than it); on success body/body_len are exactly the
 *     first CONTENT_LENGTH bytes of the stream, NUL-terminated, within max_body;
 *   - request_parse_json accepts an empty body as {}; otherwise it refuses with 415 exactly when the
 *     content type is not application/json, else with 400 naming "body", or accepts an object or array
 *     that is no deeper than REQUEST_MAX_JSON_DEPTH, whose text is valid UTF-8, has no duplicate keys
 *     (as many members as ':' outside strings) and round-trips through json_dumps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/request.h"
#include "tests/fuzz/fuzz_support.h"

FUZZ_REQUEST_CONFIG("max_body", "1024")

/* libfcgi calls this when the buffer is used up: the fuzzer's stream has nothing more. */
static void body_fuzz_fill(FCGX_Stream *stream)
{
    stream->isClosed = 1;
}

/* The depth of nested arrays and objects, without a limit (a scalar is 0). */
static int body_fuzz_depth(const json_t *v)
{
    int deepest = 0;
    size_t i;
    const char *key;
    json_t *child;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child) {
            int d = body_fuzz_depth(child);
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, child) {
            int d = body_fuzz_depth(child);
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    return 0;
}

static size_t body_fuzz_members(const json_t *v)
{
    size_t n = 0, i;
    const char *key;
    json_t *child;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child) n += 1 + body_fuzz_members(child);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child) n += body_fuzz_members(child);
    }
    return n;
}

/* ':' outside string literals: one per object member in any JSON text. */
static size_t body_fuzz_colons(const char *text, size_t len)
{
    size_t n = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (text[i] == '\\')
                i++;
            else if (text[i] == '"')
                in_string = 0;
        } else if (text[i] == '"') {
            in_string = 1;
        } else if (text[i] == ':') {
            n++;
        }
    }
    return n;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static int body_fuzz_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

static int body_fuzz_is_json_type(const char *type)
{
    static const char json_type[] = "application/json";
    size_t n = sizeof json_type - 1;
    return type && strncasecmp(type, json_type, n) == 0 && (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static int body_fuzz_has_body_field(const mkt_error *err)
{
    for (size_t i = 0; i < err->field_count; i++)
        if (strcmp(err->fields[i].field, "body") == 0)
            return 1;
    return 0;
}

/* request_read succeeded: check what it read, then parse. */
static void body_fuzz_parse(request *req, const char *type, const char *stream, size_t stream_len)
{
    if (req->body_len > (size_t)fuzz_cfg.max_body || req->body_len > stream_len)
        abort();
    if (req->body_len && (!req->body || req->body[req->body_len] != '\0' || memcmp(req->body, stream, req->body_len) != 0))
        abort();
    mkt_error err = MKT_ERROR_INIT;
    int rc = request_parse_json(req, &err);
    if ((rc == 0) == error_is_set(&err) || (rc == 0) != (req->json != NULL))
        abort();
    if (req->body_len == 0) {
        if (rc != 0 || !json_is_object(req->json) || json_object_size(req->json) != 0)
            abort();
        return;
    }
    if (!body_fuzz_is_json_type(type)) {
        if (rc == 0 || err.kind != ERROR_UNSUPPORTED_MEDIA)
            abort();
    } else if (rc < 0) {
        if (err.kind != ERROR_BAD_REQUEST || !body_fuzz_has_body_field(&err))
            abort();
    } else {
        json_t *json = req->json;
        if (!json_is_object(json) && !json_is_array(json))
            abort();
        if (body_fuzz_depth(json) > REQUEST_MAX_JSON_DEPTH)
            abort();
        if (!body_fuzz_utf8((const unsigned char *)req->body, req->body_len))
            abort();
        if (body_fuzz_members(json) != body_fuzz_colons(req->body, req->body_len))
            abort();
        char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
        json_t *again = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
        if (!again || !json_equal(again, json))
            abort();
        json_decref(again);
        free(text);
    }
    error_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *type = fuzz_line(&p, end);
    char *length = type ? fuzz_line(&p, end) : NULL;
    if (!length) {
        free(type);
        return 0;
    }
    size_t stream_len = (size_t)(end - p);
    unsigned char *stream = malloc(stream_len + 1);
    if (!stream)
        abort();
    memcpy(stream, p, stream_len);
    char real_length[32];
    snprintf(real_length, sizeof real_length, "%zu", stream_len);
    const char *declared = strcmp(length, "=") == 0 ? real_length : length;

    char *env[3];
    if (asprintf(&env[0], "CONTENT_TYPE=%s", type) < 0 || asprintf(&env[1], "CONTENT_LENGTH=%s", declared) < 0)
        abort();
    env[2] = NULL;
    FCGX_Stream in;
    memset(&in, 0, sizeof in);
    in.rdNext = in.stopUnget = stream;
    in.stop = stream + stream_len;
    in.wrNext = in.stop;
    in.isReader = 1;
    in.fillBuffProc = body_fuzz_fill;
    FCGX_Request fcgi;
    memset(&fcgi, 0, sizeof fcgi);
    fcgi.envp = env;
    fcgi.in = &in;

    request req;
    memset(&req, 0, sizeof req);
    mkt_error err = MKT_ERROR_INIT;
    if (request_read(&req, &fcgi, &fuzz_cfg, &err) == 0) {
        /* a body was read only for a plain decimal length */
        if (error_is_set(&err) || (req.body_len && strspn(declared, "0123456789") != strlen(declared)))
            abort();
        body_fuzz_parse(&req, type, (const char *)stream, stream_len);
    } else {
        /* only a length that is a plain number over max_body is 413 */
        int digits = *declared && strspn(declared, "0123456789") == strlen(declared);
        if (err.kind == ERROR_TOO_LARGE ? !digits || strtoull(declared, NULL, 10) <= (unsigned long long)fuzz_cfg.max_body
                                        : err.kind != ERROR_BAD_REQUEST)
            abort();
    }
    error_clear(&err);
    request_free(&req);
    free(env[0]);
    free(env[1]);
    free(stream);
    free(type);
    free(length);
    return 0;
}

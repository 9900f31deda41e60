/* One HTTP request as the routes see it: method, path, query, selected headers, the body and its
 * parsed JSON, path parameters, and who is calling. Header and parameter strings point into
 * libfcgi's request memory and are valid only until the response is finished. */
#ifndef FCGI_REQUEST_H
#define FCGI_REQUEST_H

#include <fcgiapp.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "core/jws.h"
#include "sql/db.h"

#define REQUEST_MAX_PARAMS 8
#define REQUEST_MAX_JSON_DEPTH 32

struct worker;

typedef struct {
    char name[32];
    char *value; /* percent-decoded copy */
} request_param;

typedef struct request {
    FCGX_Request *fcgi;
    const config *cfg;
    struct worker *worker;
    db *db;                  /* the worker's connection; set before the handler runs */
    const jws_keyring *keys; /* signing keys loaded by the master before fork (receipts); never NULL in a worker */

    const char *method;
    char *path;              /* below base_path, e.g. "/auth/login"; raw (not decoded) */
    const char *query;       /* raw query string, never NULL */
    const char *request_id;  /* from nginx's $request_id, or generated */
    char request_id_buf[40];

    char *body;
    size_t body_len;
    json_t *json;            /* parsed body, when the route takes one */

    request_param params[REQUEST_MAX_PARAMS];
    size_t param_count;

    account_caller caller;
    int authenticated;
} request;

/* Fills req from the FastCGI request: method, path below cfg->base_path, query, request id, body
 * (CONTENT_LENGTH checked: junk 400, over max_body 413, short read 400). On error req is still
 * usable for writing a problem response. */
int request_read(request *req, FCGX_Request *fcgi, const config *cfg, mkt_error *err);
void request_free(request *req);

/* A CGI-style parameter ("HTTP_AUTHORIZATION", "CONTENT_TYPE", …) or NULL. */
const char *request_header(const request *req, const char *cgi_name);

/* A path parameter captured by the router ({id} -> "id"), or NULL. */
const char *request_param_value(const request *req, const char *name);

/* A query-string parameter, percent- and '+'-decoded into a malloc'd string (caller frees), or
 * NULL when absent. Decoding errors (bad %xx, embedded NUL) give NULL with a 400 naming the field. */
char *request_query(const request *req, const char *name, mkt_error *err);

/* A positive integer query parameter in [1, max]; absent gives def. Anything else (signs, spaces,
 * junk, out of range) is a 400 naming the parameter. */
int request_query_int(const request *req, const char *name, int64_t def, int64_t max, int64_t *out, mkt_error *err);

/* ?page= and ?per_page= of a paged list, by the one rule in core/paging.h (page from 1, per_page
 * default 20, at most 100); a 400 naming the parameter otherwise. */
int request_paging(const request *req, int64_t *page, int64_t *per_page, mkt_error *err);

/* Parses the body as a JSON object/array: 415 unless Content-Type is application/json, 400 for
 * malformed JSON, invalid UTF-8, duplicate keys or nesting deeper than REQUEST_MAX_JSON_DEPTH. An
 * empty body parses as an empty object. */
int request_parse_json(request *req, mkt_error *err);

/* The bearer token from "Authorization: Bearer <token>", or NULL. */
const char *request_bearer_token(const request *req);

/* Percent-decodes src[0..len) into a new string; NULL on bad escapes or an embedded NUL. */
char *request_percent_decode(const char *src, size_t len, int plus_is_space);

/* Depth of nested arrays/objects (a scalar is 0); stops counting past limit. */
int request_json_depth(const json_t *value, int limit);

#endif

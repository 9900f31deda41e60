/* What a handler answers: a status, a JSON body (or none) and a few headers. response_send turns
 * it, or an mkt_error as RFC 9457 problem+json, into FastCGI output. */
#ifndef FCGI_RESPONSE_H
#define FCGI_RESPONSE_H

#include <fcgiapp.h>
#include <jansson.h>

#include "core/error.h"

#define RESPONSE_MAX_HEADERS 8

/* What caches may keep of an answer. Only a 200 is ever cacheable; every other answer is no-store. */
typedef enum {
    RESPONSE_NO_STORE = 0, /* Cache-Control: no-store (the default: money, accounts, anything private) */
    RESPONSE_PRIVATE,      /* a public resource read signed in: private, no-cache, with an ETag */
    RESPONSE_PUBLIC,       /* a public resource read anonymously: public, max-age=1 (nginx's microcache
                            * and browsers keep it a second), with an ETag */
} response_cache;

typedef struct {
    int status;
    json_t *body;            /* owned; NULL for no body (204) */
    char *text;              /* owned; a non-JSON body (e.g. Prometheus text), used when body is NULL */
    const char *content_type;
    struct {
        const char *name;
        char *value;         /* owned */
    } headers[RESPONSE_MAX_HEADERS];
    int header_count;
    /* A fixed problem document written by response_problem without allocating, sent when the
     * real one cannot be built or serialised: a problem answer never goes out without a body. */
    char problem_fallback[256];
    /* HTTP caching (the worker sets both for GETs of public routes; see response_send) */
    response_cache cache;
    const char *if_none_match; /* the request's If-None-Match, or NULL */
} response;

/* Takes ownership of body. */
void response_json(response *res, int status, json_t *body);
void response_text(response *res, int status, const char *content_type, char *text);
void response_empty(response *res, int status);
/* Adds a header (value copied). */
void response_header(response *res, const char *name, const char *value);

/* Replaces whatever res holds with the problem document for err. Internal errors are answered
 * without their detail (it is logged by the caller). Text that is not valid UTF-8 (the instance is
 * the raw request path) is cleaned with error_text_clean; when building the document fails anyway
 * (out of memory), problem_fallback ({type, title, status, detail}) is sent instead. */
void response_problem(response *res, const mkt_error *err, const char *instance, const char *request_id);

/* Writes status line, headers and body. Returns the number of body bytes written. A 200 whose
 * cache is not RESPONSE_NO_STORE gets an ETag (a hash of the body) and Cache-Control as above, and
 * goes out as 304 Not Modified without a body when if_none_match names that ETag (or is "*"). */
size_t response_send(const response *res, FCGX_Stream *out, const char *request_id);
void response_free(response *res);

const char *response_reason(int status);

#endif

/* One error type for the whole program. Core code fills it with a KIND of failure — never an HTTP
 * status: services do not know the transport. fcgi/problem.c alone maps kinds to statuses, titles
 * and problem types, and fcgi/response.c turns an error into RFC 9457 problem+json. */
#ifndef CORE_ERROR_H
#define CORE_ERROR_H

#include <stddef.h>

typedef enum {
    ERROR_NONE = 0,
    ERROR_BAD_REQUEST,        /* the request itself is malformed (JSON, parameters, headers) */
    ERROR_UNAUTHORIZED,       /* no valid credentials */
    ERROR_PAYMENT_REQUIRED,   /* the caller has not paid for this */
    ERROR_FORBIDDEN,          /* valid credentials, not allowed */
    ERROR_NOT_FOUND,          /* nothing there (or nothing the caller may see) */
    ERROR_METHOD_NOT_ALLOWED, /* the resource exists, the action does not */
    ERROR_CONFLICT,           /* the current state forbids it (or: retry later) */
    ERROR_GONE,               /* it existed and is over for good (an expired token) */
    ERROR_TOO_LARGE,          /* over a size limit */
    ERROR_UNSUPPORTED_MEDIA,  /* a body in a format we do not read */
    ERROR_VALIDATION,         /* well-formed but invalid; fields say where */
    ERROR_UNAVAILABLE,        /* a dependency (the database, the signing keys) is missing now */
    ERROR_INTERNAL,           /* our own failure; the detail is logged, never sent */
    ERROR_RATE_LIMITED,       /* too many of these lately; retry_after says when one more is allowed */
    /* plans and quotas */
    ERROR_QUOTA_EXCEEDED      /* the caller's plan allows no more executions this period (extension says more) */
} error_kind;

typedef struct {
    char *field;   /* JSON path of the offending value, e.g. "email" or "input.items[2].name" */
    char *message;
} error_field;

typedef struct mkt_error {
    error_kind kind;
    char *message;          /* human-readable detail */
    error_field *fields;
    size_t field_count;
    size_t field_capacity;
    long retry_after;       /* seconds until a retry can succeed (the Retry-After header), 0 = unsaid */
    char *extension;        /* a JSON object's text whose members the problem document adds, or NULL */
} mkt_error;

#define MKT_ERROR_INIT {ERROR_NONE, NULL, NULL, 0, 0, 0, NULL}

/* Text from outside echoed into messages and field names must stay valid UTF-8: jansson refuses
 * anything else, and a problem document would lose its detail or its errors. error_set and
 * error_add_field pass what they format through error_text_clean, so an mkt_error only ever holds
 * valid UTF-8; callers that shorten echoed text use error_text_clip instead of "%.Ns". */

/* Copies src into dst (size bytes, always NUL-terminated), keeping whole characters only and
 * replacing every byte that does not start a valid UTF-8 sequence (overlong forms, surrogates and
 * code points past U+10FFFF included, as jansson rules) with U+FFFD. Returns dst. */
char *error_text_clip(char *dst, size_t size, const char *src);

/* A malloc'd valid-UTF-8 copy of src, invalid bytes replaced as above (NULL when out of memory). */
char *error_text_clean(const char *src);

/* Is src valid UTF-8 throughout? */
int error_text_valid(const char *src);

/* Sets kind and message (printf-style); replaces an earlier message and clears retry_after. Returns
 * -1 so callers can `return error_set(err, ...)`. A NULL err is allowed and ignored. */
int error_set(mkt_error *err, error_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends a field error; sets kind to ERROR_VALIDATION when no kind is set yet. Returns -1. */
int error_add_field(mkt_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets kind ERROR_RATE_LIMITED, the message (printf-style) and retry_after (at least 1 second: a
 * Retry-After of 0 would invite an immediate retry that fails again). Returns -1. */
int error_set_rate_limited(mkt_error *err, long retry_after, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets the problem document's extension members (a JSON object's text, copied; NULL clears them).
 * Returns -1 (out of memory leaves none). */
int error_set_extension(mkt_error *err, const char *json_object_text);

/* Frees everything and resets to ERROR_NONE. Safe to call twice. */
void error_clear(mkt_error *err);

/* Moves src into dst (dst cleared first); src is left empty. */
void error_move(mkt_error *dst, mkt_error *src);

int error_is_set(const mkt_error *err);

#endif

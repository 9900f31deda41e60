/* A small libcurl wrapper for end-to-end tests: one request, one fresh connection, the whole
 * answer in memory (status, body, parsed JSON, headers). The base URL comes from the test stack
 * (stack.env MKT_URL, or $MKT_URL when set); API paths are given below "/api/marketplace".
 *
 * Safe to use from several threads and from forked children (each call has its own handle).
 * A 429 from nginx's rate limit on /auth/ is retried after a short pause (tests never expect one). */
#ifndef TESTS_HTTP_H
#define TESTS_HTTP_H

#include <jansson.h>
#include <stddef.h>

#define HTTP_API_BASE "/api/marketplace"

typedef struct {
    char *name;  /* as sent (case kept) */
    char *value; /* surrounding whitespace trimmed */
} http_header_field;

typedef struct {
    long status;          /* 0 when the request failed at transport level (see error) */
    char *body;           /* NUL-terminated (may also contain NULs; see body_len); never NULL */
    size_t body_len;
    json_t *json;         /* the body parsed as a JSON object or array, or NULL */
    const char *content_type; /* these point into headers[], or NULL when absent */
    const char *request_id;   /* X-Request-Id */
    const char *allow;
    const char *location;
    http_header_field *headers; /* every header of the final response */
    size_t header_count;
    char error[256];      /* transport error text when status == 0 */
    double seconds;       /* total time */
} http_response;

/* Base URL of the stack, e.g. "http://127.0.0.1:34567" (no trailing slash); exits the test with
 * status 2 and a message when no stack is configured. */
const char *http_base_url(void);

/* METHOD MKT_URL/api/marketplace<path>.
 *   token         NULL: no Authorization header; otherwise "Authorization: Bearer <token>"
 *   content_type  NULL: "application/json" when body is non-NULL (nothing without a body);
 *                 "": send no Content-Type at all
 *   body          NULL: no body (a POST then sends Content-Length: 0); body_len bytes otherwise
 *   extra_headers NULL-terminated list of "Name: value" lines, or NULL
 * Never returns NULL (a transport failure gives status 0). */
http_response *http_request(const char *method, const char *path, const char *token, const char *content_type,
                            const char *body, size_t body_len, const char *const *extra_headers);

/* Same, for any path below the base URL (e.g. "/metrics", "/api/marketplace/health?x=1",
 * "/nothing-here"), with explicit headers only. */
http_response *http_raw(const char *method, const char *url_path, const char *const *headers, const char *body,
                        size_t body_len);

/* Shorthands. A json body is serialised compactly; a NULL json sends no body. */
http_response *http_get(const char *path, const char *token);
http_response *http_post_json(const char *path, const char *token, const json_t *body);
/* body given as text (may be malformed on purpose), Content-Type application/json */
http_response *http_post_text(const char *path, const char *token, const char *text);

/* Case-insensitive header lookup in the final response, or NULL. */
const char *http_header(const http_response *res, const char *name);

/* A string member of res->json (NULL when absent, not a string, or no JSON). */
const char *http_json_string(const http_response *res, const char *key);

/* Does the problem document's errors[] name field? */
int http_problem_has_field(const http_response *res, const char *field);

/* Is res an RFC 9457 problem document with the given status: Content-Type
 * application/problem+json, and "type", "title", "status" (== status) and "detail" present? */
int http_is_problem(const http_response *res, long status);

/* Prints a one-line summary of the response to stderr, prefixed with what. */
void http_dump(const char *what, const http_response *res);

void http_response_free(http_response *res);

/* res's status, and res freed: for CHECK_INT(http_status_free(http_get(...)), 200) where the answer
 * matters only by its status. */
long http_status_free(http_response *res);

/* Pins the calling thread's requests to app host `host` (1, 2, ...) of a stack started with
 * `scripts/stack --hosts N` (stack.env MKT_HOST<host>_URL: nginx's port that reaches that host only);
 * 0 goes back through the upstream of all hosts (MKT_URL). Exits 2 when the stack has no such host. */
void http_use_host(int host);

/* Per-request timeout in milliseconds for calls made after this (default 30000). Process-wide. */
void http_set_timeout_ms(long ms);

/* Whether a 429 is retried (default 1). A test of the rate limit itself turns this off. Process-wide. */
void http_set_retry_429(int on);

/* ---- accounts helpers ---------------------------------------------------------------------- */

typedef struct {
    char email[160];
    char password[64];
    char display_name[96];
    char id[32];
    char token[128];
} http_user;

/* A unique address: "<prefix>-<pid>-<counter>-<time>-<random>@example.test" (lower case). */
void http_unique_email(char *out, size_t size, const char *prefix);

/* Registers a fresh user with a unique email; fills u (id, token, credentials). Returns 0 on 201,
 * -1 otherwise (and prints the answer). */
int http_register_user(http_user *u);

/* Logs in; copies the token into token_out (size bytes). Returns the HTTP status (200 on success). */
long http_login(const char *email, const char *password, char *token_out, size_t size);

#endif

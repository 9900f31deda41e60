/* Browser sessions: the session token carried in a cookie instead of an Authorization header, so
 * page scripts never hold it (POST /auth/login or /auth/register with "session": "cookie").
 *
 * The cookie is HttpOnly, SameSite=Strict, Path=/, with Max-Age equal to the token's lifetime, and
 * Secure when nginx says the request came over TLS (fastcgi param HTTPS=on or REQUEST_SCHEME=https).
 * Under TLS it is named "__Host-marketplace_session": browsers accept that prefix only from a secure
 * origin, for Path=/ and without Domain, so a sibling subdomain cannot plant one. On plain HTTP (the
 * local stack) it is "marketplace_session". Only the name for the request's scheme is read.
 *
 * A request that a cookie authenticates and that may change state (any method but GET, HEAD and
 * OPTIONS) must carry "X-Requested-With: marketplace": a cross-site HTML form cannot set a header,
 * and a cross-site script that could would need a CORS preflight we never grant. A Bearer header
 * always wins over the cookie. */
#ifndef FCGI_SESSION_COOKIE_H
#define FCGI_SESSION_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/error.h"
#include "fcgi/request.h"
#include "fcgi/response.h"

#define SESSION_COOKIE_NAME "marketplace_session"
#define SESSION_COOKIE_TLS_NAME "__Host-marketplace_session"
#define SESSION_COOKIE_CSRF_HEADER "X-Requested-With"
#define SESSION_COOKIE_CSRF_VALUE "marketplace"

/* Room for a token read from the cookie; a longer value is kept as "" (it cannot be a token). */
#define SESSION_COOKIE_TOKEN_SIZE (AUTH_TOKEN_TEXT_LEN + 1)

/* 1 when the request arrived over TLS, as nginx reports it. */
int session_cookie_secure(const request *req);

/* The cookie name for the request's scheme. */
const char *session_cookie_name(const request *req);

/* 1 when the Cookie header holds the session cookie exactly once, its value copied into token
 * ("" when the value is too long to be a token: the caller's check refuses it); 0 when it is
 * absent or named more than once (an ambiguous cookie is ignored rather than guessed at). */
int session_cookie_read(const request *req, char token[SESSION_COOKIE_TOKEN_SIZE]);

/* 1 when a cookie-authenticated request with this method and headers may go on: a safe method,
 * or the X-Requested-With header with the expected value. */
int session_cookie_request_allowed(const request *req);

/* The 403 for a cookie-authenticated state change without the header; returns -1. */
int session_cookie_refuse(mkt_error *err);

/* Adds Set-Cookie with token for max_age seconds. */
void session_cookie_set(const request *req, response *res, const char *token, int64_t max_age);

/* Adds Set-Cookie that makes the browser drop the cookie (empty value, Max-Age=0). */
void session_cookie_clear(const request *req, response *res);

#endif

/* Incoming payment-provider webhooks: the signature check, nothing else (pure, no database).
 *
 * Header: "Marketplace-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>".
 * Several v1= entries may be present (the provider signs with old and new secret while a secret is
 * rotated) and several secrets may be configured (comma-separated): any configured secret matching
 * any v1 accepts. Unknown schemes (v0=, ...) are ignored. The signature covers the exact raw bytes
 * of the body, so callers must verify BEFORE parsing or re-serialising anything. */
#ifndef CORE_WEBHOOK_H
#define CORE_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"

/* Seconds a signature timestamp may differ from our clock (either way). */
#define WEBHOOK_TOLERANCE 300
/* Longest signature header we look at, and most v1 entries taken from it. */
#define WEBHOOK_HEADER_MAX 4096
#define WEBHOOK_MAX_SIGNATURES 8
/* Longest single secret. */
#define WEBHOOK_SECRET_MAX 512

typedef struct {
    int64_t timestamp;
    size_t count;                                  /* v1 signatures found */
    unsigned char v1[WEBHOOK_MAX_SIGNATURES][32];
} webhook_signature;

/* Parses the header strictly: comma-separated key=value items; exactly one t= (decimal, no sign);
 * v1= values of exactly 64 hex digits. 0, or -1 ERROR_UNAUTHORIZED with the reason. */
int webhook_parse_header(const char *header, webhook_signature *out, mkt_error *err);

/* Full check: secrets is the configured list ("s1" or "s1,s2"; empty entries ignored; an empty list
 * refuses everything), header the raw header value (NULL = missing), body/len the exact raw body,
 * now our clock. 0 when some secret signs "<t>.<body>" to some v1 and |now - t| <= tolerance;
 * otherwise -1 ERROR_UNAUTHORIZED. Signatures are compared with CRYPTO_memcmp. */
int webhook_verify(const char *secrets, const char *header, const char *body, size_t len, time_t now,
                   int64_t tolerance, mkt_error *err);

/* Computes the header value for body at time t with one secret (tests and the provider helper).
 * out must hold at least WEBHOOK_SIGN_MAX bytes. Returns 0, -1 on a failure of the HMAC. */
#define WEBHOOK_SIGN_MAX 96
int webhook_sign(const char *secret, int64_t t, const char *body, size_t len, char out[WEBHOOK_SIGN_MAX]);

#endif

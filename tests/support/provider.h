/* Plays the payment provider in end-to-end tests: builds events {id, type, created, data}, signs
 * them like the provider does (Marketplace-Signature: t=…,v1=hex HMAC-SHA256(secret, "<t>.<body>"))
 * with the stack's webhook secret (stack.env MKT_WEBHOOK_SECRET), and POSTs the exact raw body to
 * /webhooks/payments through nginx. The HMAC is computed here with OpenSSL directly, not with the
 * server's core/webhook, so a bug there cannot hide itself. Thread- and fork-safe like http.h. */
#ifndef TESTS_PROVIDER_H
#define TESTS_PROVIDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/support/http.h"

/* The stack's webhook secret (the first one when several are configured); exits 2 when unknown. */
const char *provider_secret(void);

/* A fresh event id "evt_<pid>_<counter>_<random hex>" into out (at least 64 bytes). */
void provider_event_id(char *out, size_t size);

/* The event as compact JSON text (malloc'd): {"id","type","created":now,"data"}; data is stolen. */
char *provider_event(const char *id, const char *type, json_t *data);

/* "t=<t>,v1=<hex>" for body with secret into out (at least 96 bytes). */
void provider_sign(const char *secret, int64_t t, const char *body, size_t len, char *out, size_t size);

/* POSTs body as is with a signature by secret (NULL: the stack's) at time t (0: now). */
http_response *provider_deliver(const char *body, const char *secret, int64_t t);
/* POSTs body with exactly this Marketplace-Signature header value (NULL: no header at all). */
http_response *provider_deliver_header(const char *body, const char *signature);

/* Builds, signs and delivers one event (event_id NULL: a fresh one). */
http_response *provider_payment_succeeded(const char *event_id, const char *transaction_id, int64_t amount_cents,
                                          const char *currency);
http_response *provider_payment_failed(const char *event_id, const char *transaction_id, const char *reason);
http_response *provider_payment_refunded(const char *event_id, const char *transaction_id, int64_t amount_cents);
http_response *provider_payout(const char *event_id, const char *type, const char *payout_id, const char *reason);

#endif

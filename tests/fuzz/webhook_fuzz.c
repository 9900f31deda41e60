/* libFuzzer target for the payment webhook signature (core/webhook.c). The input is
 * "SECRETS\nHEADER\nbody": the configured secret list, the Marketplace-Signature header value and the
 * raw body (any bytes). The clock is set from the header's own timestamp, moved by up to ±500 s
 * (chosen by the body's length) so both sides of the tolerance are reached.
 *
 * Invariants besides memory safety and no leaks:
 *   - webhook_parse_header succeeds only with 1..WEBHOOK_MAX_SIGNATURES v1 entries for a header of at
 *     most WEBHOOK_HEADER_MAX bytes; every failure (parse or verify) is ERROR_UNAUTHORIZED;
 *   - webhook_verify accepts only within the tolerance and only when one configured secret's own
 *     signature of this body at this time is in the header (compared as lowercase hex);
 *   - for the first usable secret, webhook_sign's header verifies at its own time, still verifies with
 *     an unknown scheme appended, and is refused one second past the tolerance and for a body with
 *     one bit changed. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/webhook.h"
#include "tests/fuzz/fuzz_support.h"

static int webhook_fuzz_verify(const char *secrets, const char *header, const char *body, size_t len, time_t now)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = webhook_verify(secrets, header, body, len, now, WEBHOOK_TOLERANCE, &err);
    if ((rc == 0) == error_is_set(&err) || (rc < 0 && err.kind != ERROR_UNAUTHORIZED))
        abort();
    error_clear(&err);
    return rc;
}

static void webhook_fuzz_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Whether some configured secret's signature of body at t appears in the (lowercased) header. */
static int webhook_fuzz_signed_by_one(const char *secrets, const char *lower_header, int64_t t, const char *body,
                                      size_t len)
{
    int found = 0;
    const char *p = secrets;
    while (*p && !found) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n <= WEBHOOK_SECRET_MAX) {
            char *secret = strndup(p, n), sig[WEBHOOK_SIGN_MAX];
            if (!secret || webhook_sign(secret, t, body, len, sig) < 0)
                abort();
            found = strstr(lower_header, strstr(sig, "v1=")) != NULL;
            free(secret);
        }
        p += n + (p[n] == ',');
    }
    return found;
}

/* The first non-empty secret of the list that verification uses, or NULL. */
static char *webhook_fuzz_first_secret(const char *secrets)
{
    const char *p = secrets;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n <= WEBHOOK_SECRET_MAX)
            return strndup(p, n);
        p += n + (p[n] == ',');
    }
    return NULL;
}

static void webhook_fuzz_roundtrip(const char *secrets, char *body, size_t len, int64_t t)
{
    char *secret = webhook_fuzz_first_secret(secrets);
    if (!secret)
        return;
    char sig[WEBHOOK_SIGN_MAX + 16];
    if (webhook_sign(secret, t, body, len, sig) < 0)
        abort();
    free(secret);
    if (webhook_fuzz_verify(secrets, sig, body, len, (time_t)t) != 0)
        abort();
    if (webhook_fuzz_verify(secrets, sig, body, len, (time_t)(t + WEBHOOK_TOLERANCE + 1)) == 0)
        abort();
    strcat(sig, ",v0=x");
    if (webhook_fuzz_verify(secrets, sig, body, len, (time_t)(t - WEBHOOK_TOLERANCE)) != 0)
        abort();
    if (len > 0) {
        body[len / 2] ^= 1;
        if (webhook_fuzz_verify(secrets, sig, body, len, (time_t)t) == 0)
            abort();
        body[len / 2] ^= 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * WEBHOOK_HEADER_MAX + 4096)
        return 0;
    const char *p = (const char *)data, *end = p + size;
    char *secrets = fuzz_line(&p, end);
    char *header = secrets ? fuzz_line(&p, end) : NULL;
    if (!header) {
        free(secrets);
        return 0;
    }
    size_t len = (size_t)(end - p);
    char *body = malloc(len + 1);
    if (!body)
        abort();
    memcpy(body, p, len);

    webhook_signature sig;
    mkt_error err = MKT_ERROR_INIT;
    int parsed = webhook_parse_header(header, &sig, &err);
    if ((parsed == 0) == error_is_set(&err) || (parsed < 0 && err.kind != ERROR_UNAUTHORIZED))
        abort();
    error_clear(&err);
    int64_t t = 1700000000;
    if (parsed == 0) {
        if (sig.count < 1 || sig.count > WEBHOOK_MAX_SIGNATURES || strlen(header) > WEBHOOK_HEADER_MAX ||
            sig.timestamp < 0)
            abort();
        t = sig.timestamp;
        time_t now = (time_t)(t + ((int64_t)(len % 11) - 5) * 100);
        if (webhook_fuzz_verify(secrets, header, body, len, now) == 0) {
            char *lower = strdup(header);
            if (!lower)
                abort();
            webhook_fuzz_lower(lower);
            if (now - t > WEBHOOK_TOLERANCE || t - now > WEBHOOK_TOLERANCE ||
                !webhook_fuzz_signed_by_one(secrets, lower, t, body, len))
                abort();
            free(lower);
        }
    } else if (webhook_fuzz_verify(secrets, header, body, len, (time_t)t) == 0) {
        abort();
    }
    webhook_fuzz_roundtrip(secrets, body, len, t);
    free(body);
    free(secrets);
    free(header);
    return 0;
}

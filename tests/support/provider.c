#include "tests/support/provider.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "tests/support/stack_env.h"

const char *provider_secret(void)
{
    static char secret[512];
    if (!secret[0]) {
        const char *all = stack_env("MKT_WEBHOOK_SECRET");
        if (!all || !*all) {
            fprintf(stderr, "provider: no MKT_WEBHOOK_SECRET in stack.env\n");
            exit(2);
        }
        size_t n = strcspn(all, ",");
        if (n >= sizeof secret)
            n = sizeof secret - 1;
        memcpy(secret, all, n);
        secret[n] = '\0';
    }
    return secret;
}

void provider_event_id(char *out, size_t size)
{
    static unsigned counter;
    unsigned char r[8];
    RAND_bytes(r, sizeof r);
    snprintf(out, size, "evt_%d_%u_%02x%02x%02x%02x%02x%02x%02x%02x", (int)getpid(),
             __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED), r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

char *provider_event(const char *id, const char *type, json_t *data)
{
    json_t *ev = json_pack("{s:s, s:s, s:I, s:o}", "id", id, "type", type, "created", (json_int_t)time(NULL), "data",
                           data);
    char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    if (!text) {
        fprintf(stderr, "provider: cannot build the event\n");
        exit(2);
    }
    return text;
}

void provider_sign(const char *secret, int64_t t, const char *body, size_t len, char *out, size_t size)
{
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%" PRId64 ".", t);
    size_t signed_len = (size_t)n + len;
    unsigned char *msg = malloc(signed_len + 1);
    if (!msg)
        exit(2);
    memcpy(msg, prefix, (size_t)n);
    memcpy(msg + n, body, len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, signed_len, mac, &mac_len);
    free(msg);
    int w = snprintf(out, size, "t=%" PRId64 ",v1=", t);
    for (unsigned i = 0; i < mac_len && (size_t)w + 2 * i + 3 <= size; i++)
        snprintf(out + w + 2 * i, 3, "%02x", mac[i]);
}

http_response *provider_deliver_header(const char *body, const char *signature)
{
    char header[1024];
    const char *headers[] = {header, NULL};
    if (signature)
        snprintf(header, sizeof header, "Marketplace-Signature: %s", signature);
    return http_request("POST", "/webhooks/payments", NULL, NULL, body, strlen(body), signature ? headers : NULL);
}

http_response *provider_deliver(const char *body, const char *secret, int64_t t)
{
    char signature[160];
    provider_sign(secret ? secret : provider_secret(), t ? t : (int64_t)time(NULL), body, strlen(body), signature,
                  sizeof signature);
    return provider_deliver_header(body, signature);
}

static http_response *provider_send(const char *event_id, const char *type, json_t *data)
{
    char id[80];
    if (event_id)
        snprintf(id, sizeof id, "%s", event_id);
    else
        provider_event_id(id, sizeof id);
    char *body = provider_event(id, type, data);
    http_response *res = provider_deliver(body, NULL, 0);
    free(body);
    return res;
}

http_response *provider_payment_succeeded(const char *event_id, const char *transaction_id, int64_t amount_cents,
                                          const char *currency)
{
    return provider_send(event_id, "payment.succeeded",
                         json_pack("{s:s, s:I, s:s}", "transaction_id", transaction_id, "amount_cents",
                                   (json_int_t)amount_cents, "currency", currency));
}

http_response *provider_payment_failed(const char *event_id, const char *transaction_id, const char *reason)
{
    return provider_send(event_id, "payment.failed",
                         json_pack("{s:s, s:s}", "transaction_id", transaction_id, "reason", reason));
}

http_response *provider_payment_refunded(const char *event_id, const char *transaction_id, int64_t amount_cents)
{
    return provider_send(event_id, "payment.refunded",
                         json_pack("{s:s, s:I}", "transaction_id", transaction_id, "amount_cents",
                                   (json_int_t)amount_cents));
}

http_response *provider_payout(const char *event_id, const char *type, const char *payout_id, const char *reason)
{
    json_t *data = json_pack("{s:s}", "payout_id", payout_id);
    if (reason)
        json_object_set_new(data, "reason", json_string(reason));
    return provider_send(event_id, type, data);
}

/* Webhook signature checks: the header grammar, the tolerance window, rotation (several v1 and
 * several secrets), and that any change to body, timestamp or signature is refused. */
#include <stdio.h>
#include <string.h>

#include "core/webhook.h"
#include "tests/support/check.h"

static const char body[] = "{\"id\":\"evt_1\",\"type\":\"payment.succeeded\",\"created\":1,\"data\":{}}";

static int verify(const char *secrets, const char *header, const char *b, time_t now)
{
    mkt_error err = MKT_ERROR_INIT;
    int rc = webhook_verify(secrets, header, b, strlen(b), now, WEBHOOK_TOLERANCE, &err);
    if (rc < 0)
        CHECK_INT(err.kind, ERROR_UNAUTHORIZED);
    error_clear(&err);
    return rc;
}

static void test_sign_and_verify(void)
{
    char h[WEBHOOK_SIGN_MAX];
    CHECK_INT(webhook_sign("whsec_a", 1000000, body, strlen(body), h), 0);
    CHECK(strncmp(h, "t=1000000,v1=", 13) == 0);
    CHECK_INT(strlen(h), 13 + 64);
    CHECK_INT(verify("whsec_a", h, body, 1000000), 0);
    /* the window, both ways, inclusive */
    CHECK_INT(verify("whsec_a", h, body, 1000000 + WEBHOOK_TOLERANCE), 0);
    CHECK_INT(verify("whsec_a", h, body, 1000000 - WEBHOOK_TOLERANCE), 0);
    CHECK_INT(verify("whsec_a", h, body, 1000000 + WEBHOOK_TOLERANCE + 1), -1);
    CHECK_INT(verify("whsec_a", h, body, 1000000 - WEBHOOK_TOLERANCE - 1), -1);
    /* another secret, another body, a changed timestamp */
    CHECK_INT(verify("whsec_b", h, body, 1000000), -1);
    CHECK_INT(verify("whsec_a", h, "{\"id\":\"evt_2\"}", 1000000), -1);
    char moved[WEBHOOK_SIGN_MAX];
    snprintf(moved, sizeof moved, "t=1000001%s", h + strlen("t=1000000"));
    CHECK_INT(verify("whsec_a", moved, body, 1000000), -1);
    /* one flipped hex digit */
    char flipped[WEBHOOK_SIGN_MAX];
    snprintf(flipped, sizeof flipped, "%s", h);
    flipped[20] = flipped[20] == '0' ? '1' : '0';
    CHECK_INT(verify("whsec_a", flipped, body, 1000000), -1);
    /* no secret configured refuses everything */
    CHECK_INT(verify("", h, body, 1000000), -1);
    CHECK_INT(verify(",,", h, body, 1000000), -1);
}

static void test_rotation(void)
{
    char old_h[WEBHOOK_SIGN_MAX], new_h[WEBHOOK_SIGN_MAX], both[2 * WEBHOOK_SIGN_MAX];
    webhook_sign("old", 5000, body, strlen(body), old_h);
    webhook_sign("new", 5000, body, strlen(body), new_h);
    /* the provider sends both signatures; either configured secret accepts */
    snprintf(both, sizeof both, "%s,%s", old_h, new_h + strlen("t=5000,"));
    CHECK_INT(verify("new", both, body, 5000), 0);
    CHECK_INT(verify("old", both, body, 5000), 0);
    CHECK_INT(verify("other", both, body, 5000), -1);
    /* several secrets configured: a signature by any of them is accepted */
    CHECK_INT(verify("new,old", old_h, body, 5000), 0);
    CHECK_INT(verify("old,new", new_h, body, 5000), 0);
    CHECK_INT(verify("x,y", new_h, body, 5000), -1);
    /* unknown schemes are ignored, spaces after commas tolerated */
    char extra[3 * WEBHOOK_SIGN_MAX];
    snprintf(extra, sizeof extra, "t=5000, v0=abc, %s", new_h + strlen("t=5000,"));
    CHECK_INT(verify("new", extra, body, 5000), 0);
}

static void test_malformed_headers(void)
{
    const char *bad[] = {
        NULL, "", "t=", "v1=", "t=5000", "t=5000,v1=zz",
        "t=5000,v1=0000000000000000000000000000000000000000000000000000000000000000,",
        "t=-5,v1=0000000000000000000000000000000000000000000000000000000000000000",
        "t=5000,t=5000,v1=0000000000000000000000000000000000000000000000000000000000000000",
        "t=5a00,v1=0000000000000000000000000000000000000000000000000000000000000000",
        "t=5000,v1=000000000000000000000000000000000000000000000000000000000000000",
        "t=5000,v1=000000000000000000000000000000000000000000000000000000000000000g",
        "garbage", "=5000", "t=99999999999999999999,v1=0000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        webhook_signature sig;
        mkt_error err = MKT_ERROR_INIT;
        int rc = webhook_parse_header(bad[i], &sig, &err);
        if (rc != -1 || err.kind != ERROR_UNAUTHORIZED)
            fprintf(stderr, "  header %zu \"%s\" accepted\n", i, bad[i] ? bad[i] : "(null)");
        CHECK_INT(rc, -1);
        error_clear(&err);
    }
    webhook_signature sig;
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(webhook_parse_header("t=7,v1=00000000000000000000000000000000000000000000000000000000000000FF", &sig, &err), 0);
    CHECK_INT(sig.timestamp, 7);
    CHECK_INT(sig.count, 1);
    CHECK_INT(sig.v1[0][31], 0xff);
    error_clear(&err);
}

int main(void)
{
    RUN(test_sign_and_verify);
    RUN(test_rotation);
    RUN(test_malformed_headers);
    return check_finish();
}

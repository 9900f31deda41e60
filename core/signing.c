#include "core/signing.h"

#include "core/log.h"

static jws_keyring *signing_current;

const jws_keyring *signing_keys(void)
{
    if (!signing_current)
        signing_current = jws_keyring_empty();
    return signing_current;
}

void signing_reload(const config *cfg)
{
    mkt_error err = MKT_ERROR_INIT;
    jws_keyring *fresh = jws_keyring_load(cfg->signing_key_dir, &err);
    if (!fresh) {
        log_error("signing keys: %s; %s", err.message ? err.message : "cannot load",
                  signing_current ? "keeping the keys in use" : "running without keys");
        error_clear(&err);
        return;
    }
    if (!jws_keyring_signing_kid(fresh))
        log_warn("no signing key in %s: receipts cannot be signed (run `marketplace keygen`)", cfg->signing_key_dir);
    else
        log_info("signing with key %s (%zu keys trusted)", jws_keyring_signing_kid(fresh), jws_keyring_count(fresh));
    /* Workers hold their own copy since their fork, so the old keyring can go. */
    jws_keyring_free(signing_current);
    signing_current = fresh;
}

static void signing_exit(void)
{
    jws_keyring_free(signing_current);
    signing_current = NULL;
}

const service_hooks signing_service = {.name = "signing", .master_load = signing_reload, .master_exit = signing_exit};

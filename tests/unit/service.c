/* The lifecycle seam (core/service.h): the master's load gives every later fork the signing keys,
 * and the rating prior weight, and the workers' hooks ask for the database only when they have work
 * for it — the payout sweep once per payout_sweep_interval, the rate-limit sweep once a minute, the
 * execution-count flush only with counts pending, the search index's catch-up once a minute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/keystore.h"
#include "core/service.h"
#include "core/signing.h"
#include "core/tool_record.h"
#include "tests/support/check.h"

static int db_asked;

/* No MariaDB in unit tests: count the asks and answer "unreachable", as a worker would when it is down. */
static db *no_db(service_worker *sw, mkt_error *err)
{
    (void)sw;
    db_asked++;
    error_set(err, ERROR_UNAVAILABLE, "no database in unit tests");
    return NULL;
}

static void test_worker_hooks_ask_for_the_database_only_when_due(void)
{
    config cfg;
    config_defaults(&cfg);
    cfg.payout_sweep_interval = 3600;
    service_worker sw = {.cfg = &cfg, .db = no_db, .owner = NULL};
    db_asked = 0;
    /* the first payout and rate-limit sweeps and the first search catch-up are due at once; no
     * execution counts pending */
    service_worker_idle(&sw);
    CHECK_INT(db_asked, 3);
    service_worker_idle(&sw);
    service_worker_after_request(&sw);
    service_worker_exit(&sw);
    CHECK_INT(db_asked, 3);  /* nothing due within the intervals, nothing to flush */
    config_free(&cfg);
}

static void test_master_load_reads_the_signing_keys(void)
{
    char dir[] = "/tmp/mkt-service-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(jws_keyring_signing_kid(signing_keys()) == NULL);  /* nothing loaded yet: empty, never NULL */
    char kid[KEYSTORE_KID_LEN + 1];
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(keystore_generate(dir, kid, &err), 0);
    config cfg;
    config_defaults(&cfg);
    free(cfg.signing_key_dir);
    cfg.signing_key_dir = strdup(dir);
    cfg.rating_prior_weight = 7;
    CHECK_INT(tool_record_prior_weight(), TOOL_RECORD_PRIOR_WEIGHT_DEFAULT);
    service_master_load(&cfg);
    CHECK_STR(jws_keyring_signing_kid(signing_keys()), kid);
    CHECK_INT(tool_record_prior_weight(), 7);  /* what every later fork inherits */
    /* a key directory that cannot be read (here: a file) keeps the keys in use */
    char file[64];
    snprintf(file, sizeof file, "%s/not-a-directory", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    free(cfg.signing_key_dir);
    cfg.signing_key_dir = strdup(file);
    service_master_load(&cfg);
    CHECK_STR(jws_keyring_signing_kid(signing_keys()), kid);
    service_master_exit();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    config_free(&cfg);
    error_clear(&err);
}

int main(void)
{
    RUN(test_worker_hooks_ask_for_the_database_only_when_due);
    RUN(test_master_load_reads_the_signing_keys);
    return check_finish();
}

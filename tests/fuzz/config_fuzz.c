/* libFuzzer target for the configuration file reader (core/config.c). The input is the file's
 * content; config_load reads it through a real path (/proc/self/fd/N of a memfd, so no disk file is
 * written per input). The environment overrides and the systemd credential are cleared at start so
 * only the file decides.
 *
 * Invariants besides memory safety and no leaks:
 *   - config_load returns 0 exactly when no error is set; a failure is ERROR_VALIDATION and names the
 *     file and the line ("<path>:<n>: ...");
 *   - a loaded configuration is complete (every string set) and every value in it is accepted again by
 *     config_set (so every number is within its bounds and the log level is known);
 *   - written back as "key = value" lines, it loads to the same configuration. */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"

typedef struct {
    const char *key;
    char kind; /* 's' string, 'i' decimal, 'o' octal */
    size_t offset;
} config_fuzz_key;

#define S(name) {#name, 's', offsetof(config, name)}
#define I(name) {#name, 'i', offsetof(config, name)}

/* Every field of struct config (core/config.h). */
static const config_fuzz_key config_fuzz_keys[] = {
    S(listen), {"listen_mode", 'o', offsetof(config, listen_mode)}, I(listen_backlog), I(workers),
    I(max_requests), I(shutdown_timeout), I(request_timeout), S(base_path), I(max_body), S(log_level),
    S(db_host), I(db_port), S(db_socket), S(db_user), S(db_password), S(db_name), I(db_timeout),
    I(token_ttl), I(scrypt_n), I(scrypt_r), I(scrypt_p), I(sandbox_instructions), I(sandbox_memory),
    I(sandbox_output), I(sandbox_timeout_ms), S(issuer), S(signing_key_dir), S(webhook_secret),
    I(sandbox_request_ms), I(sandbox_request_instructions), I(sandbox_request_output), I(platform_fee_bps),
    I(min_payout_cents), I(payout_token_ttl), I(payout_sweep_interval), I(report_min_account_age),
    I(review_rate_limit), I(rating_prior_weight), I(search_weight_text), I(search_weight_rating),
    I(search_weight_downloads), I(search_weight_freshness), I(search_freshness_days),
    I(activity_weight_execution), I(activity_weight_purchase), I(activity_weight_review),
    I(activity_half_life_hours), S(search_engine),
};
#define CONFIG_FUZZ_KEYS (sizeof config_fuzz_keys / sizeof config_fuzz_keys[0])

static int fuzz_fd = -1;
static char fuzz_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    unsetenv("CREDENTIALS_DIRECTORY");
    for (size_t i = 0; i < CONFIG_FUZZ_KEYS; i++) {
        char name[64] = "MARKETPLACE_";
        for (const char *p = config_fuzz_keys[i].key; *p; p++)
            name[strlen(name)] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        unsetenv(name);
    }
    fuzz_fd = memfd_create("config-fuzz", 0);
    if (fuzz_fd < 0)
        abort();
    snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d", fuzz_fd);
    return 0;
}

static void config_fuzz_write(const void *data, size_t size)
{
    if (ftruncate(fuzz_fd, 0) < 0 || pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
        abort();
}

static char **config_fuzz_string(config *cfg, const config_fuzz_key *k)
{
    return (char **)((char *)cfg + k->offset);
}

static int64_t *config_fuzz_int(config *cfg, const config_fuzz_key *k)
{
    return (int64_t *)((char *)cfg + k->offset);
}

static void config_fuzz_format(config *cfg, const config_fuzz_key *k, char *buf, size_t size)
{
    if (k->kind == 's')
        snprintf(buf, size, "%s", *config_fuzz_string(cfg, k));
    else if (k->kind == 'o')
        snprintf(buf, size, "0%" PRIo64, *config_fuzz_int(cfg, k));
    else
        snprintf(buf, size, "%" PRId64, *config_fuzz_int(cfg, k));
}

/* Every value is accepted again by config_set, and the whole configuration written back as a file
 * loads to the same values. */
static void config_fuzz_check(config *cfg)
{
    size_t cap = 4096, used = 0;
    char *file = malloc(cap);
    if (!file)
        abort();
    for (size_t i = 0; i < CONFIG_FUZZ_KEYS; i++) {
        const config_fuzz_key *k = &config_fuzz_keys[i];
        if (k->kind == 's' && !*config_fuzz_string(cfg, k))
            abort();
        size_t value_len = k->kind == 's' ? strlen(*config_fuzz_string(cfg, k)) : 0;
        char *value = malloc(value_len + 32);
        if (!value)
            abort();
        config_fuzz_format(cfg, k, value, value_len + 32);
        config probe;
        config_defaults(&probe);
        mkt_error err = MKT_ERROR_INIT;
        if (config_set(&probe, k->key, value, &err) < 0)
            abort();
        config_free(&probe);
        size_t need = strlen(k->key) + strlen(value) + 5;
        if (used + need >= cap) {
            cap = 2 * (used + need);
            file = realloc(file, cap);
            if (!file)
                abort();
        }
        used += (size_t)sprintf(file + used, "%s = %s\n", k->key, value);
        free(value);
    }
    config_fuzz_write(file, used);
    free(file);
    config again;
    mkt_error err = MKT_ERROR_INIT;
    if (config_load(&again, fuzz_path, 1, &err) < 0)
        abort();
    for (size_t i = 0; i < CONFIG_FUZZ_KEYS; i++) {
        const config_fuzz_key *k = &config_fuzz_keys[i];
        if (k->kind == 's' ? strcmp(*config_fuzz_string(cfg, k), *config_fuzz_string(&again, k)) != 0
                           : *config_fuzz_int(cfg, k) != *config_fuzz_int(&again, k))
            abort();
    }
    config_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    config_fuzz_write(data, size);
    config cfg;
    mkt_error err = MKT_ERROR_INIT;
    int rc = config_load(&cfg, fuzz_path, 1, &err);
    if ((rc == 0) == error_is_set(&err))
        abort();
    if (rc < 0) {
        /* every refusal names the file: "FILE:LINE: …" for one key, "FILE (with …): …" across keys */
        if (err.kind != ERROR_VALIDATION || !err.message || strncmp(err.message, fuzz_path, strlen(fuzz_path)) != 0)
            abort();
    } else {
        config_fuzz_check(&cfg);
    }
    error_clear(&err);
    config_free(&cfg);
    return 0;
}

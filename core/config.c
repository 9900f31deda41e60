#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

typedef enum { CONFIG_STRING, CONFIG_INT, CONFIG_OCTAL } config_type;

typedef struct {
    const char *key;
    config_type type;
    size_t offset;
    const char *fallback;
    int64_t min, max;
} config_key;

#define STR(name, def) {#name, CONFIG_STRING, offsetof(config, name), def, 0, 0}
#define INT(name, def, lo, hi) {#name, CONFIG_INT, offsetof(config, name), def, lo, hi}

static const config_key config_keys[] = {
    STR(listen, "127.0.0.1:9000"),
    {"listen_mode", CONFIG_OCTAL, offsetof(config, listen_mode), "0660", 0, 0777},
    INT(listen_backlog, "1024", 1, 65535),
    INT(workers, "0", 0, 1024),
    INT(max_requests, "0", 0, INT64_C(1) << 40),
    INT(shutdown_timeout, "10", 1, 3600),
    INT(request_timeout, "30", 0, 3600),
    STR(base_path, "/api/marketplace"),
    INT(max_body, "1048576", 1024, 64 * 1024 * 1024),
    STR(log_level, "info"),
    STR(db_host, ""),
    INT(db_port, "3306", 1, 65535),
    STR(db_socket, "/run/mysqld/mysqld.sock"),
    STR(db_user, "marketplace"),
    STR(db_password, ""),
    STR(db_name, "marketplace"),
    INT(db_timeout, "5", 1, 600),
    INT(token_ttl, "2592000", 60, INT64_C(10) * 365 * 86400),
    INT(scrypt_n, "32768", 2, INT64_C(1) << 24),
    INT(scrypt_r, "8", 1, 64),
    INT(scrypt_p, "1", 1, 16),
    INT(sandbox_instructions, "10000000", 1000, INT64_C(1) << 40),
    INT(sandbox_memory, "33554432", 1 << 20, INT64_C(1) << 34),
    INT(sandbox_output, "1048576", 1024, INT64_C(1) << 30),
    INT(sandbox_timeout_ms, "2000", 1, 600000),
    INT(sandbox_request_ms, "8000", 1, 3600000),
    INT(sandbox_request_instructions, "50000000", 1000, INT64_C(1) << 44),
    INT(sandbox_request_output, "262144", 65536, INT64_C(1) << 30),
    STR(issuer, "marketplace"),
    STR(signing_key_dir, "/etc/marketplace/keys"),
    STR(webhook_secret, ""),
    INT(platform_fee_bps, "3000", 0, 10000),
    INT(min_payout_cents, "1000", 1, INT64_C(1) << 40),
    INT(payout_token_ttl, "86400", 60, INT64_C(365) * 86400),
    INT(payout_sweep_interval, "60", 1, 86400),
    /* moderation */
    INT(report_min_account_age, "0", 0, INT64_C(10) * 365 * 86400),
    /* review limits and ratings */
    INT(review_rate_limit, "10", 0, 1000000),
    INT(rating_prior_weight, "10", 0, 1000000),
    /* search */
    INT(search_weight_text, "100", 0, 1000),
    INT(search_weight_rating, "40", 0, 1000),
    INT(search_weight_downloads, "30", 0, 1000),
    INT(search_weight_freshness, "10", 0, 1000),
    INT(search_freshness_days, "30", 1, 3650),
    /* activity (trending) */
    INT(activity_weight_execution, "1", 0, 1000000),
    INT(activity_weight_purchase, "20", 0, 1000000),
    INT(activity_weight_review, "10", 0, 1000000),
    INT(activity_half_life_hours, "72", 1, 8760),
    /* search engine */
    STR(search_engine, "memory"),
    /* test-mode payment provider */
    STR(checkout_url, ""),
    /* search answers */
    INT(search_answer_cache_ms, "1000", 0, 10000),
    /* API keys: requests one key may make a minute (core/throttle), 0 = no limit */
    INT(api_key_rate_per_minute, "600", 0, 1000000),
    /* plans and quotas */
    INT(quota_lease_max, "100", 1, 1000000),
    /* several app hosts */
    STR(host_id, ""),
    INT(cluster_poll_ms, "200", 0, 60000),
    /* read replica */
    STR(db_replica_socket, ""),
    STR(db_replica_host, ""),
    INT(db_replica_port, "3306", 1, 65535),
    INT(replica_max_lag, "2", 0, 86400),
    INT(replica_ryw_window, "5", 0, 86400),
};

#define CONFIG_KEY_COUNT (sizeof config_keys / sizeof config_keys[0])

static const config_key *config_find(const char *key)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
        if (strcmp(config_keys[i].key, key) == 0)
            return &config_keys[i];
    return NULL;
}

static int config_parse_int(const config_key *k, const char *value, int64_t *out, mkt_error *err)
{
    errno = 0;
    char *end = NULL;
    long long n = strtoll(value, &end, k->type == CONFIG_OCTAL ? 8 : 10);
    if (errno || end == value || *end != '\0')
        return error_set(err, ERROR_VALIDATION, "%s: '%s' is not a%s integer", k->key, value,
                         k->type == CONFIG_OCTAL ? "n octal" : "n");
    if (n < k->min || n > k->max)
        return error_set(err, ERROR_VALIDATION, "%s: %lld is outside %" PRId64 "..%" PRId64, k->key, n,
                         k->min, k->max);
    *out = n;
    return 0;
}

static int config_apply(config *cfg, const config_key *k, const char *value, mkt_error *err)
{
    char *base = (char *)cfg;
    if (k->type == CONFIG_STRING) {
        char **slot = (char **)(base + k->offset);
        char *copy = strdup(value);
        if (!copy)
            return error_set(err, ERROR_INTERNAL, "out of memory");
        free(*slot);
        *slot = copy;
        return 0;
    }
    int64_t n = 0;
    if (config_parse_int(k, value, &n, err) < 0)
        return -1;
    *(int64_t *)(base + k->offset) = n;
    return 0;
}

int config_set(config *cfg, const char *key, const char *value, mkt_error *err)
{
    const config_key *k = config_find(key);
    if (!k)
        return error_set(err, ERROR_VALIDATION, "unknown key '%s'", key);
    if (config_apply(cfg, k, value, err) < 0)
        return -1;
    if (strcmp(key, "log_level") == 0) {
        log_level level;
        if (log_level_parse(value, &level) < 0)
            return error_set(err, ERROR_VALIDATION, "log_level: '%s' is not debug, info, warn or error", value);
    }
    if (strcmp(key, "search_engine") == 0 && strcmp(value, "memory") != 0 && strcmp(value, "sql") != 0)
        return error_set(err, ERROR_VALIDATION, "search_engine: '%s' is not memory or sql", value);
    return 0;
}

void config_defaults(config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        mkt_error ignored = MKT_ERROR_INIT;
        config_apply(cfg, &config_keys[i], config_keys[i].fallback, &ignored);
        error_clear(&ignored);
    }
}

static char *config_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int config_read_file(config *cfg, const char *path, FILE *f, mkt_error *err)
{
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *text = config_trim(line);
        if (*text == '\0' || *text == '#' || *text == ';')
            continue;
        char *eq = strchr(text, '=');
        if (!eq) {
            rc = error_set(err, ERROR_VALIDATION, "%s:%d: expected 'key = value'", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = config_trim(text);
        char *value = config_trim(eq + 1);
        mkt_error inner = MKT_ERROR_INIT;
        if (config_set(cfg, key, value, &inner) < 0) {
            rc = error_set(err, ERROR_VALIDATION, "%s:%d: %s", path, lineno, inner.message ? inner.message : "invalid");
            error_clear(&inner);
        }
    }
    free(line);
    return rc;
}

static int config_read_environment(config *cfg, mkt_error *err)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        char name[64] = "MARKETPLACE_";
        size_t len = strlen(name);
        for (const char *p = config_keys[i].key; *p && len < sizeof name - 1; p++)
            name[len++] = (char)toupper((unsigned char)*p);
        name[len] = '\0';
        const char *value = getenv(name);
        if (!value)
            continue;
        mkt_error inner = MKT_ERROR_INIT;
        if (config_set(cfg, config_keys[i].key, value, &inner) < 0) {
            error_set(err, ERROR_VALIDATION, "environment %s: %s", name, inner.message ? inner.message : "invalid");
            error_clear(&inner);
            return -1;
        }
    }
    return 0;
}

/* The first line of the file at path (malloc'd, newline kept), or NULL when there is none to read. */
static char *config_first_line(const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    if (f && getline(&line, &cap, f) < 0) {
        free(line);
        line = NULL;
    }
    if (f)
        fclose(f);
    return line;
}

/* Under systemd the webhook secret arrives as a credential (LoadCredential=webhook-secret:…) in
 * $CREDENTIALS_DIRECTORY, readable only by the service user; the master reads it before forking. */
static int config_read_credentials(config *cfg, mkt_error *err)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (!dir || cfg->webhook_secret[0] != '\0')
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/webhook-secret", dir);
    char *line = config_first_line(path);
    int rc = line ? config_set(cfg, "webhook_secret", config_trim(line), err) : 0;
    free(line);
    return rc;
}

int config_load(config *cfg, const char *path, int path_required, mkt_error *err)
{
    config_defaults(cfg);
    if (path) {
        FILE *f = fopen(path, "r");
        if (!f && (path_required || errno != ENOENT))
            return error_set(err, ERROR_VALIDATION, "%s: cannot open: %s", path, strerror(errno));
        if (f) {
            int rc = config_read_file(cfg, path, f, err);
            fclose(f);
            if (rc < 0)
                return -1;
        }
    }
    if (config_read_environment(cfg, err) < 0 || config_read_credentials(cfg, err) < 0)
        return -1;
    mkt_error inner = MKT_ERROR_INIT;
    if (config_check(cfg, &inner) < 0) {
        /* the keys may come from the file or the environment: name both places */
        error_set(err, ERROR_VALIDATION, "%s (with MARKETPLACE_* overrides): %s", path ? path : "defaults",
                  inner.message ? inner.message : "invalid");
        error_clear(&inner);
        return -1;
    }
    log_level level = LOG_LEVEL_INFO;
    log_level_parse(cfg->log_level, &level);
    log_set_level(level);
    return 0;
}

int config_check(const config *cfg, mkt_error *err)
{
    /* the tests of one request stop at sandbox_request_ms; the master kills the worker at request_timeout,
     * which must stay the last line of defence, never the way a request ends */
    if (cfg->request_timeout > 0 && cfg->sandbox_request_ms >= cfg->request_timeout * 1000)
        return error_set(err, ERROR_VALIDATION,
                         "sandbox_request_ms (%" PRId64 ") must be below request_timeout (%" PRId64 " s = %" PRId64
                         " ms)",
                         cfg->sandbox_request_ms, cfg->request_timeout, cfg->request_timeout * 1000);
    if (cfg->sandbox_timeout_ms > cfg->sandbox_request_ms)
        return error_set(err, ERROR_VALIDATION,
                         "sandbox_timeout_ms (%" PRId64 ") must not exceed sandbox_request_ms (%" PRId64 ")",
                         cfg->sandbox_timeout_ms, cfg->sandbox_request_ms);
    if (cfg->sandbox_instructions > cfg->sandbox_request_instructions)
        return error_set(err, ERROR_VALIDATION,
                         "sandbox_instructions (%" PRId64 ") must not exceed sandbox_request_instructions (%" PRId64
                         ")",
                         cfg->sandbox_instructions, cfg->sandbox_request_instructions);
    return 0;
}

void config_free(config *cfg)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        if (config_keys[i].type == CONFIG_STRING) {
            char **slot = (char **)((char *)cfg + config_keys[i].offset);
            free(*slot);
            *slot = NULL;
        }
    }
}

int config_worker_count(const config *cfg)
{
    if (cfg->workers > 0)
        return (int)cfg->workers;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 ? (int)(2 * cpus) : 2;
}

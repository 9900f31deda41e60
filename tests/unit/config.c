/* core/config: defaults, the `key = value` file (comments, blanks, whitespace, last value wins),
 * "file:line: reason" errors for bad lines, unknown keys, non-numbers and out-of-range values,
 * octal listen_mode, and MARKETPLACE_<KEY> environment overrides. */
#include "core/config.h"

#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/tmpdir.h"

static char g_dir[] = "/tmp/mkt-unit-config-XXXXXX";
static int g_file_counter;

/* Writes text to a fresh file in the scratch directory; returns its path (static storage rotates). */
static const char *write_conf(const char *text)
{
    static char paths[4][256];
    char *path = paths[g_file_counter % 4];
    snprintf(path, sizeof paths[0], "%s/c%d.conf", g_dir, g_file_counter++);
    tmpdir_write(g_dir, path + strlen(g_dir) + 1, text);
    return path;
}

/* Loads text as a config file; returns config_load's result, the message in *message (malloc'd). */
static int load_text(config *cfg, const char *text, char **message)
{
    const char *path = write_conf(text);
    mkt_error err = MKT_ERROR_INIT;
    int rc = config_load(cfg, path, 1, &err);
    if (message)
        *message = err.message ? strdup(err.message) : NULL;
    error_clear(&err);
    return rc;
}

static void clear_env(void)
{
    static const char *names[] = {"MARKETPLACE_WORKERS", "MARKETPLACE_LISTEN", "MARKETPLACE_LISTEN_MODE",
                                  "MARKETPLACE_MAX_BODY", "MARKETPLACE_DB_PASSWORD", "MARKETPLACE_LOG_LEVEL",
                                  "MARKETPLACE_BASE_PATH", "MARKETPLACE_DB_SOCKET", "MARKETPLACE_SANDBOX_REQUEST_MS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
}

/* ---- defaults ------------------------------------------------------------------------------------ */

static void test_defaults(void)
{
    config cfg;
    config_defaults(&cfg);
    CHECK_STR(cfg.listen, "127.0.0.1:9000");
    CHECK_INT(cfg.listen_mode, 0660);
    CHECK_INT(cfg.listen_backlog, 1024);
    CHECK_INT(cfg.workers, 0);
    CHECK_INT(cfg.max_requests, 0);
    CHECK_INT(cfg.shutdown_timeout, 10);
    CHECK_INT(cfg.request_timeout, 30);
    CHECK_STR(cfg.base_path, "/api/marketplace");
    CHECK_INT(cfg.max_body, 1048576);
    CHECK_STR(cfg.log_level, "info");
    CHECK_STR(cfg.db_host, "");
    CHECK_INT(cfg.db_port, 3306);
    CHECK_STR(cfg.db_socket, "/run/mysqld/mysqld.sock");
    CHECK_STR(cfg.db_user, "marketplace");
    CHECK_STR(cfg.db_password, "");
    CHECK_STR(cfg.db_name, "marketplace");
    CHECK_INT(cfg.db_timeout, 5);
    CHECK_INT(cfg.token_ttl, 30 * 86400);
    CHECK_INT(cfg.scrypt_n, 32768);
    CHECK_INT(cfg.scrypt_r, 8);
    CHECK_INT(cfg.scrypt_p, 1);
    CHECK_STR(cfg.signing_key_dir, "/etc/marketplace/keys");
    CHECK_INT(cfg.platform_fee_bps, 3000);
    CHECK_INT(cfg.report_min_account_age, 0); /* off: every account's report counts */
    CHECK_INT(cfg.review_rate_limit, 10);
    CHECK_INT(cfg.rating_prior_weight, 10);
    CHECK_INT(cfg.activity_weight_execution, 1);
    CHECK_INT(cfg.activity_weight_purchase, 20);
    CHECK_INT(cfg.activity_weight_review, 10);
    CHECK_INT(cfg.activity_half_life_hours, 72);
    CHECK_STR(cfg.search_engine, "memory");
    config_free(&cfg);
    CHECK(cfg.listen == NULL); /* config_free leaves no dangling strings */
    config_free(&cfg);         /* and is safe twice */
}

static void test_worker_count(void)
{
    config cfg;
    config_defaults(&cfg);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK_INT(config_worker_count(&cfg), cpus > 0 ? 2 * cpus : 2);
    cfg.workers = 3;
    CHECK_INT(config_worker_count(&cfg), 3);
    config_free(&cfg);
}

/* A missing file is fine unless it was asked for explicitly. */
static void test_missing_file(void)
{
    config cfg;
    mkt_error err = MKT_ERROR_INIT;
    char path[300];
    snprintf(path, sizeof path, "%s/does-not-exist.conf", g_dir);
    CHECK_INT(config_load(&cfg, path, 0, &err), 0);
    CHECK_STR(cfg.listen, "127.0.0.1:9000");
    config_free(&cfg);
    error_clear(&err);

    CHECK_INT(config_load(&cfg, path, 1, &err), -1);
    CHECK(err.message && strstr(err.message, path) && strstr(err.message, "cannot open"));
    config_free(&cfg);
    error_clear(&err);

    CHECK_INT(config_load(&cfg, NULL, 0, &err), 0);
    CHECK_INT(cfg.workers, 0);
    config_free(&cfg);
    error_clear(&err);
}

/* ---- the file ------------------------------------------------------------------------------------ */

static void test_file_parsing(void)
{
    config cfg;
    char *message = NULL;
    int rc = load_text(&cfg,
                       "# a comment\n"
                       "; another comment style\n"
                       "\n"
                       "   \t  \n"
                       "listen = /run/marketplace/fcgi.sock\n"
                       "  workers=3  \n"
                       "\tmax_requests\t=\t500\t\n"
                       "   # indented comment = with an equals sign\n"
                       "db_password = se=cret with spaces   \n"
                       "db_host =\n"
                       "base_path = /api/shop\n"
                       "log_level = debug\n"
                       "max_body = 2048\n"
                       "workers = 5\n" /* the last value wins */
                       "db_name = last-line-without-newline",
                       &message);
    if (rc != 0)
        fprintf(stderr, "  load failed: %s\n", message ? message : "");
    CHECK_INT(rc, 0);
    CHECK_STR(cfg.listen, "/run/marketplace/fcgi.sock");
    CHECK_INT(cfg.workers, 5);
    CHECK_INT(cfg.max_requests, 500);
    CHECK_STR(cfg.db_password, "se=cret with spaces");
    CHECK_STR(cfg.db_host, "");
    CHECK_STR(cfg.base_path, "/api/shop");
    CHECK_STR(cfg.log_level, "debug");
    CHECK_INT(cfg.max_body, 2048);
    CHECK_STR(cfg.db_name, "last-line-without-newline");
    /* untouched keys keep their defaults */
    CHECK_INT(cfg.db_port, 3306);
    CHECK_INT(cfg.listen_mode, 0660);
    config_free(&cfg);
    free(message);

    /* CRLF line ends are whitespace too */
    rc = load_text(&cfg, "workers = 7\r\nlisten = 127.0.0.1:9100\r\n", &message);
    CHECK_INT(rc, 0);
    CHECK_INT(cfg.workers, 7);
    CHECK_STR(cfg.listen, "127.0.0.1:9100");
    config_free(&cfg);
    free(message);

    /* an empty file is all defaults */
    rc = load_text(&cfg, "", &message);
    CHECK_INT(rc, 0);
    CHECK_INT(cfg.max_body, 1048576);
    config_free(&cfg);
    free(message);
}

/* A bad file and how it fails: "<path>:<line>: <reason>", reason_part somewhere in the reason. */
typedef struct {
    const char *text;
    int line;
    const char *reason_part;
} bad_file;

static void check_bad_file(const char *text, int line, const char *reason_part)
{
    const char *path = write_conf(text);
    config cfg;
    mkt_error err = MKT_ERROR_INIT;
    int rc = config_load(&cfg, path, 1, &err);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    int ok = rc == -1 && err.message && strncmp(err.message, prefix, strlen(prefix)) == 0 &&
             strstr(err.message + strlen(prefix), reason_part) != NULL;
    if (!ok) {
        fprintf(stderr, "  file \"%s\": rc %d, message \"%s\"; expected \"%s...%s...\"\n", text, rc,
                err.message ? err.message : "(none)", prefix, reason_part);
        check_failures++;
    }
    config_free(&cfg);
    error_clear(&err);
}

static void check_bad_files(const bad_file *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_bad_file(cases[i].text, cases[i].line, cases[i].reason_part);
}
#define CHECK_BAD_FILES(cases) check_bad_files(cases, sizeof cases / sizeof cases[0])

static void test_bad_lines(void)
{
    static const bad_file cases[] = {
        {"workers = 2\n# fine\njust some words\n", 3, "expected 'key = value'"},
        {"\n\n\n\nlisten\n", 5, "expected 'key = value'"},
        {"= 5\n", 1, "unknown key ''"},
    };
    CHECK_BAD_FILES(cases);
}

static void test_unknown_key(void)
{
    static const bad_file cases[] = {
        {"workers = 2\nfrobnicate = yes\n", 2, "unknown key 'frobnicate'"},
        {"Workers = 2\n", 1, "unknown key 'Workers'"}, /* keys are case-sensitive */
        {"work ers = 2\n", 1, "unknown key 'work ers'"},
    };
    CHECK_BAD_FILES(cases);
}

static void test_bad_numbers(void)
{
    static const bad_file cases[] = {
        {"workers = many\n", 1, "workers: 'many' is not an integer"},
        {"workers = 12abc\n", 1, "not an integer"},
        {"workers =\n", 1, "not an integer"},
        {"workers = 1.5\n", 1, "not an integer"},
        {"workers = 0x10\n", 1, "not an integer"},
        {"db_port = 99999999999999999999999\n", 1, "not an integer"},
    };
    CHECK_BAD_FILES(cases);
}

static void test_out_of_range(void)
{
    static const bad_file cases[] = {
        {"workers = 1025\n", 1, "workers: 1025 is outside 0..1024"},
        {"workers = -1\n", 1, "workers: -1 is outside 0..1024"},
        {"# ok\nmax_body = 10\n", 2, "max_body: 10 is outside 1024..67108864"},
        {"db_port = 0\n", 1, "db_port: 0 is outside 1..65535"},
        {"db_port = 65536\n", 1, "outside"},
        {"shutdown_timeout = 0\n", 1, "outside"},
        {"platform_fee_bps = 10001\n", 1, "outside"},
        {"token_ttl = 59\n", 1, "outside"},
        {"review_rate_limit = -1\n", 1, "review_rate_limit: -1 is outside 0..1000000"},
        {"rating_prior_weight = -1\n", 1, "outside"},
        {"activity_half_life_hours = 0\n", 1, "outside"},
        {"activity_weight_purchase = -1\n", 1, "outside"},
        {"log_level = loud\n", 1, "log_level: 'loud' is not debug, info, warn or error"},
        {"search_engine = fulltext\n", 1, "search_engine: 'fulltext' is not memory or sql"},
        {"report_min_account_age = -1\n", 1, "report_min_account_age: -1 is outside 0..315360000"},
    };
    CHECK_BAD_FILES(cases);

    /* the bounds themselves are allowed */
    config cfg;
    CHECK_INT(load_text(&cfg, "workers = 1024\ndb_port = 65535\nmax_body = 1024\nworkers = 0\n"
                              "report_min_account_age = 604800\n", NULL), 0);
    CHECK_INT(cfg.report_min_account_age, 604800);
    CHECK_INT(cfg.workers, 0);
    CHECK_INT(cfg.db_port, 65535);
    CHECK_INT(cfg.max_body, 1024);
    config_free(&cfg);
}

static void test_octal_listen_mode(void)
{
    static const struct {
        const char *text;
        long mode;
    } good[] = {
        {"listen_mode = 0600\n", 0600},
        {"listen_mode = 0666\n", 438},
        {"listen_mode = 660\n", 0660}, /* octal even without the leading 0 */
        {"listen_mode = 0\n", 0},
        {"listen_mode = 0777\n", 0777},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        config cfg;
        CHECK_INT(load_text(&cfg, good[i].text, NULL), 0);
        if (cfg.listen_mode != good[i].mode) {
            fprintf(stderr, "  %s: listen_mode %lo, expected %lo\n", good[i].text, (long)cfg.listen_mode, good[i].mode);
            check_failures++;
        }
        config_free(&cfg);
    }

    static const bad_file cases[] = {
        {"listen_mode = 0800\n", 1, "listen_mode: '0800' is not an octal integer"},
        {"listen_mode = 0668\n", 1, "not an octal integer"},
        {"listen_mode = rw-rw----\n", 1, "not an octal integer"},
        {"listen_mode = 01000\n", 1, "listen_mode: 512 is outside 0..511"},
        {"listen_mode = -1\n", 1, "outside"},
    };
    CHECK_BAD_FILES(cases);
}

/* ---- the environment ----------------------------------------------------------------------------- */

/* Under systemd the webhook secret comes as the credential file webhook-secret; a secret in the
 * config file wins, and a missing or empty credential leaves it empty. */
static void test_webhook_secret_credential(void)
{
    char creds[300], secret_path[340];
    snprintf(creds, sizeof creds, "%s/credentials", g_dir);
    CHECK_INT(mkdir(creds, 0700), 0);
    snprintf(secret_path, sizeof secret_path, "%s/webhook-secret", creds);
    setenv("CREDENTIALS_DIRECTORY", creds, 1);
    config cfg;
    mkt_error err = MKT_ERROR_INIT;

    CHECK_INT(config_load(&cfg, write_conf("workers = 2\n"), 1, &err), 0);  /* no credential file yet */
    CHECK_STR(cfg.webhook_secret, "");
    config_free(&cfg);

    FILE *f = fopen(secret_path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("  s3cret-from-systemd  \nsecond line ignored\n", f);
        fclose(f);
    }
    CHECK_INT(config_load(&cfg, write_conf("workers = 2\n"), 1, &err), 0);
    CHECK_STR(cfg.webhook_secret, "s3cret-from-systemd");
    config_free(&cfg);

    CHECK_INT(config_load(&cfg, write_conf("webhook_secret = from-file\n"), 1, &err), 0);
    CHECK_STR(cfg.webhook_secret, "from-file");
    config_free(&cfg);

    unlink(secret_path);
    rmdir(creds);
    unsetenv("CREDENTIALS_DIRECTORY");
    error_clear(&err);
}

static void test_env_override(void)
{
    config cfg;
    mkt_error err = MKT_ERROR_INIT;
    const char *path = write_conf("workers = 3\nlisten = /tmp/from-file.sock\n");

    setenv("MARKETPLACE_WORKERS", "7", 1);
    CHECK_INT(config_load(&cfg, path, 1, &err), 0);
    CHECK_INT(cfg.workers, 7);                      /* the environment beats the file */
    CHECK_STR(cfg.listen, "/tmp/from-file.sock");   /* other keys still come from the file */
    CHECK_INT(config_worker_count(&cfg), 7);
    config_free(&cfg);
    error_clear(&err);

    /* without a file, on top of the defaults */
    setenv("MARKETPLACE_LISTEN", "127.0.0.1:9999", 1);
    setenv("MARKETPLACE_LISTEN_MODE", "0640", 1);
    setenv("MARKETPLACE_DB_PASSWORD", "from env", 1);
    CHECK_INT(config_load(&cfg, NULL, 0, &err), 0);
    CHECK_INT(cfg.workers, 7);
    CHECK_STR(cfg.listen, "127.0.0.1:9999");
    CHECK_INT(cfg.listen_mode, 0640);
    CHECK_STR(cfg.db_password, "from env");
    config_free(&cfg);
    error_clear(&err);

    /* an empty value is a value (it clears a string) */
    setenv("MARKETPLACE_DB_SOCKET", "", 1);
    CHECK_INT(config_load(&cfg, NULL, 0, &err), 0);
    CHECK_STR(cfg.db_socket, "");
    config_free(&cfg);
    error_clear(&err);

    /* a bad value in the environment fails the load and names the variable */
    setenv("MARKETPLACE_WORKERS", "lots", 1);
    CHECK_INT(config_load(&cfg, path, 1, &err), -1);
    CHECK(err.message && strstr(err.message, "MARKETPLACE_WORKERS") && strstr(err.message, "not an integer"));
    config_free(&cfg);
    error_clear(&err);

    setenv("MARKETPLACE_WORKERS", "5000", 1);
    CHECK_INT(config_load(&cfg, NULL, 0, &err), -1);
    CHECK(err.message && strstr(err.message, "MARKETPLACE_WORKERS") && strstr(err.message, "outside"));
    config_free(&cfg);
    error_clear(&err);

    clear_env();
}

/* ---- config_set ---------------------------------------------------------------------------------- */

static void test_config_set(void)
{
    config cfg;
    config_defaults(&cfg);
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(config_set(&cfg, "workers", "9", &err), 0);
    CHECK_INT(cfg.workers, 9);
    CHECK_INT(config_set(&cfg, "issuer", "example", &err), 0);
    CHECK_STR(cfg.issuer, "example");
    CHECK_INT(config_set(&cfg, "nope", "1", &err), -1);
    CHECK(err.message && strstr(err.message, "unknown key 'nope'"));
    error_clear(&err);
    /* a rejected value leaves the previous one */
    CHECK_INT(config_set(&cfg, "workers", "9999", &err), -1);
    CHECK_INT(cfg.workers, 9);
    error_clear(&err);
    config_free(&cfg);
}

/* ---- keys that bound each other: the sandbox's request budget ------------------------------------ */

static void expect_load_error(const char *text, const char *needle, const char *needle2)
{
    config cfg;
    char *message = NULL;
    CHECK_INT(load_text(&cfg, text, &message), -1);
    if (!message || !strstr(message, needle) || !strstr(message, needle2)) {
        fprintf(stderr, "  %s: message \"%s\" lacks \"%s\" or \"%s\"\n", text, message ? message : "(null)", needle,
                needle2);
        check_failures++;
    }
    free(message);
    config_free(&cfg);
}

static void expect_load_ok(const char *text)
{
    config cfg;
    char *message = NULL;
    CHECK_INT(load_text(&cfg, text, &message), 0);
    if (message)
        fprintf(stderr, "  %s: %s\n", text, message);
    free(message);
    config_free(&cfg);
}

static void test_sandbox_request_budget(void)
{
    config cfg;
    config_defaults(&cfg);
    CHECK_INT(cfg.sandbox_request_ms, 8000);
    CHECK_INT(cfg.sandbox_request_instructions, 50000000);
    CHECK_INT(cfg.sandbox_request_output, 262144);
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(config_check(&cfg, &err), 0);
    config_free(&cfg);
    error_clear(&err);

    /* the budget must end before the master's request_timeout kills the worker */
    expect_load_error("request_timeout = 8\n", "sandbox_request_ms (8000)", "request_timeout (8 s");
    expect_load_error("sandbox_request_ms = 30000\n", "sandbox_request_ms", "request_timeout");
    expect_load_ok("request_timeout = 9\n");
    expect_load_ok("request_timeout = 5\nsandbox_request_ms = 4000\nsandbox_timeout_ms = 1000\n");
    expect_load_ok("request_timeout = 0\nsandbox_request_ms = 100000\n"); /* 0: the master never kills */
    /* and hold at least one whole run */
    expect_load_error("sandbox_timeout_ms = 9000\n", "sandbox_timeout_ms (9000)", "sandbox_request_ms (8000)");
    expect_load_error("sandbox_instructions = 60000000\n", "sandbox_instructions", "sandbox_request_instructions");
    expect_load_error("sandbox_request_output = 1000\n", "sandbox_request_output", "outside");

    setenv("MARKETPLACE_SANDBOX_REQUEST_MS", "30000", 1);
    expect_load_error("request_timeout = 30\n", "sandbox_request_ms (30000)", "request_timeout");
    setenv("MARKETPLACE_SANDBOX_REQUEST_MS", "29999", 1);
    expect_load_ok("request_timeout = 30\n");
    unsetenv("MARKETPLACE_SANDBOX_REQUEST_MS");
}

int main(void)
{
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 2;
    }
    clear_env();
    RUN(test_defaults);
    RUN(test_worker_count);
    RUN(test_missing_file);
    RUN(test_file_parsing);
    RUN(test_bad_lines);
    RUN(test_unknown_key);
    RUN(test_bad_numbers);
    RUN(test_out_of_range);
    RUN(test_octal_listen_mode);
    RUN(test_env_override);
    RUN(test_webhook_secret_credential);
    RUN(test_config_set);
    RUN(test_sandbox_request_budget);
    for (int i = 0; i < g_file_counter; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/c%d.conf", g_dir, i);
        unlink(path);
    }
    rmdir(g_dir);
    return check_finish();
}

/* The marketplace command line: serve, migrate, keygen, user grant, seed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/account.h"
#include "core/catalogue.h"
#include "core/config.h"
#include "core/demo.h"
#include "core/keystore.h"
#include "core/log.h"
#include "fcgi/master.h"
#include "sql/db.h"
#include "sql/migrate.h"

static void main_usage(FILE *out)
{
    fprintf(out,
            "usage: marketplace COMMAND [ARGS] [--config FILE]   (options may come anywhere)\n"
            "\n"
            "commands:\n"
            "  serve                 run the FastCGI master and its workers (foreground)\n"
            "  migrate               apply pending database migrations\n"
            "  keygen [--dir DIR]    add an Ed25519 signing key (default: signing_key_dir)\n"
            "  user grant EMAIL ROLE give an account a role (developer, moderator, admin)\n"
            "  seed [--tools N [--seed S] [--namespace NS]]\n"
            "                        load the demo accounts (idempotent); with --tools also a generated\n"
            "                        catalogue of N published tools (same N and S: same catalogue)\n"
            "  help                  this text\n"
            "  version               the version of this build (also --version)\n"
            "\n"
            "The config file defaults to " CONFIG_DEFAULT_PATH "; MARKETPLACE_<KEY> environment\n"
            "variables override it. See README.md for every key.\n");
}

typedef struct {
    const char *command;
    const char *config_path;
    int config_required;
    const char *dir;
    const char *tools, *seed, *namespace; /* seed --tools N --seed S --namespace NS, as typed */
    const char *args[4];
    int arg_count;
} main_options;

/* Options may come anywhere: before the command, between its arguments or after them, as
 * "--config FILE" or "--config=FILE". The first other word is the command. */
static const char *main_option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static int main_parse(int argc, char **argv, main_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->config_path = CONFIG_DEFAULT_PATH;
    for (int i = 1; i < argc; i++) {
        const char *value;
        if ((value = main_option_value(argc, argv, &i, "--config"))) {
            opt->config_path = value;
            opt->config_required = 1;
        } else if ((value = main_option_value(argc, argv, &i, "--dir"))) {
            opt->dir = value;
        } else if ((value = main_option_value(argc, argv, &i, "--tools"))) {
            opt->tools = value;
        } else if ((value = main_option_value(argc, argv, &i, "--seed"))) {
            opt->seed = value;
        } else if ((value = main_option_value(argc, argv, &i, "--namespace"))) {
            opt->namespace = value;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            opt->command = "help";
        } else if (strcmp(argv[i], "--version") == 0) {
            opt->command = "version";
        } else if (argv[i][0] == '-' || opt->arg_count == 4) {
            fprintf(stderr, "marketplace: unexpected argument '%s'\n", argv[i]);
            return -1;
        } else if (!opt->command) {
            opt->command = argv[i];
        } else {
            opt->args[opt->arg_count++] = argv[i];
        }
    }
    return 0;
}

static int main_fail(mkt_error *err)
{
    fprintf(stderr, "marketplace: %s\n", err->message ? err->message : "failed");
    for (size_t i = 0; i < err->field_count; i++)
        fprintf(stderr, "  %s: %s\n", err->fields[i].field, err->fields[i].message);
    error_clear(err);
    return 1;
}

/* Runs fn with a database connection made from the config. */
static int main_with_db(const config *cfg, const main_options *opt,
                        int (*fn)(db *db, const config *cfg, const main_options *opt, mkt_error *err))
{
    mkt_error err = MKT_ERROR_INIT;
    db *db = db_open(cfg, &err);
    if (!db)
        return main_fail(&err);
    int rc = fn(db, cfg, opt, &err);
    db_close(db);
    return rc < 0 ? main_fail(&err) : 0;
}

static int main_migrate(db *db, const config *cfg, const main_options *opt, mkt_error *err)
{
    (void)cfg;
    (void)opt;
    int applied = 0;
    if (migrate_run(db, &applied, err) < 0)
        return -1;
    printf("migrations applied: %d\n", applied);
    return 0;
}

static int main_grant(db *db, const config *cfg, const main_options *opt, mkt_error *err)
{
    (void)cfg;
    if (account_grant_role(db, opt->args[1], opt->args[2], err) < 0)
        return -1;
    printf("granted %s to %s\n", opt->args[2], opt->args[1]);
    return 0;
}

/* A whole decimal number in [min, max], or -1 (the caller prints the usage error). */
static int main_number(const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    if (!text || !*text || strspn(text, "0123456789") != strlen(text) || strlen(text) > 12)
        return -1;
    long long v = strtoll(text, &end, 10);
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

typedef struct {
    int tty;
    int last_tenth;
    struct timespec start;
} main_progress;

static double main_elapsed(const main_progress *p)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - p->start.tv_sec) + (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
}

/* A bar redrawn in place on a terminal; a plain line per tenth otherwise (logs, pipes). */
static void main_seed_progress(void *ctx, int64_t done, int64_t total)
{
    main_progress *p = ctx;
    int percent = (int)(done * 100 / total);
    if (p->tty) {
        char bar[41];
        memset(bar, ' ', 40);
        memset(bar, '#', (size_t)(percent * 40 / 100));
        bar[40] = '\0';
        fprintf(stderr, "\rseed: [%s] %3d%% %" PRId64 "/%" PRId64 " tools %.1fs", bar, percent, done, total,
                main_elapsed(p));
        if (done == total)
            fputc('\n', stderr);
    } else if (percent / 10 > p->last_tenth || done == total) {
        p->last_tenth = percent / 10;
        fprintf(stderr, "seed: %" PRId64 "/%" PRId64 " tools (%d%%) %.1fs\n", done, total, percent, main_elapsed(p));
    }
    fflush(stderr);
}

static int main_seed_catalogue(db *db, const config *cfg, const main_options *opt, mkt_error *err)
{
    int64_t tools = 0, seed = 1;
    if (main_number(opt->tools, 1, CATALOGUE_TOOLS_MAX, &tools) < 0)
        return error_set(err, ERROR_VALIDATION, "--tools must be a whole number from 1 to %d", CATALOGUE_TOOLS_MAX);
    if (opt->seed && main_number(opt->seed, 0, UINT32_MAX, &seed) < 0)
        return error_set(err, ERROR_VALIDATION, "--seed must be a whole number from 0 to %" PRIu32, UINT32_MAX);
    catalogue_options copt = {.tools = tools, .seed = (uint32_t)seed, .namespace = opt->namespace};
    main_progress progress = {.tty = isatty(STDERR_FILENO)};
    clock_gettime(CLOCK_MONOTONIC, &progress.start);
    catalogue_result res;
    if (catalogue_seed(db, cfg, &copt, main_seed_progress, &progress, &res, err) < 0)
        return -1;
    if (res.tools_written == 0)
        printf("already seeded: %" PRId64 " tools in namespace %s (seed %" PRId64 ")\n", res.tools_skipped,
               res.namespace, seed);
    else
        printf("seeded namespace %s (seed %" PRId64 "): %" PRId64 " tools written, %" PRId64 " already there, %" PRId64
               " developers, %" PRId64 " buyers, %" PRId64 " reviews, %" PRId64 " execution days in %.1fs\n",
               res.namespace, seed, res.tools_written, res.tools_skipped, res.developers, res.buyers, res.reviews,
               res.execution_days, main_elapsed(&progress));
    return 0;
}

/* Usage errors of seed's options, said before anything is written (exit 2). */
static int main_seed_options_ok(const main_options *opt)
{
    int64_t v;
    const char *problem = NULL;
    if (!opt->tools && (opt->seed || opt->namespace))
        problem = "--seed and --namespace need --tools N";
    else if (opt->tools && main_number(opt->tools, 1, CATALOGUE_TOOLS_MAX, &v) < 0)
        problem = "--tools must be a whole number from 1 to 1000000";
    else if (opt->seed && main_number(opt->seed, 0, UINT32_MAX, &v) < 0)
        problem = "--seed must be a whole number from 0 to 4294967295";
    else if (opt->namespace && (strlen(opt->namespace) < 1 || strlen(opt->namespace) > CATALOGUE_NAMESPACE_MAX ||
                                strspn(opt->namespace, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(opt->namespace)))
        problem = "--namespace must be 1 to 12 characters of a-z and 0-9";
    if (problem)
        fprintf(stderr, "marketplace: %s\n", problem);
    return problem == NULL;
}

static int main_seed(db *db, const config *cfg, const main_options *opt, mkt_error *err)
{
    if (demo_seed(db, cfg, err) < 0)
        return -1;
    return opt->tools ? main_seed_catalogue(db, cfg, opt, err) : 0;
}

static int main_keygen(const config *cfg, const main_options *opt)
{
    mkt_error err = MKT_ERROR_INIT;
    char kid[KEYSTORE_KID_LEN + 1];
    const char *dir = opt->dir ? opt->dir : cfg->signing_key_dir;
    if (keystore_generate(dir, kid, &err) < 0)
        return main_fail(&err);
    printf("%s\n", kid);
    return 0;
}

int main(int argc, char **argv)
{
    main_options opt;
    if (main_parse(argc, argv, &opt) < 0)
        return 2;
    if (!opt.command || strcmp(opt.command, "help") == 0) {
        main_usage(opt.command ? stdout : stderr);
        return opt.command ? 0 : 2;
    }
    if (strcmp(opt.command, "version") == 0) {
        printf("marketplace %s\n", MKT_VERSION);
        return 0;
    }
    config cfg;
    mkt_error err = MKT_ERROR_INIT;
    if (config_load(&cfg, opt.config_path, opt.config_required, &err) < 0) {
        config_free(&cfg);
        return main_fail(&err);
    }
    const char *command = opt.command;
    int rc;
    if (strcmp(command, "serve") == 0) {
        return master_run(opt.config_path, opt.config_required, &cfg);
    } else if (strcmp(command, "migrate") == 0) {
        rc = main_with_db(&cfg, &opt, main_migrate);
    } else if ((opt.tools || opt.seed || opt.namespace) && strcmp(command, "seed") != 0) {
        fprintf(stderr, "marketplace: --tools, --seed and --namespace belong to seed\n");
        rc = 2;
    } else if (strcmp(command, "seed") == 0 && !main_seed_options_ok(&opt)) {
        rc = 2;
    } else if (strcmp(command, "seed") == 0) {
        rc = main_with_db(&cfg, &opt, main_seed);
    } else if (strcmp(command, "keygen") == 0) {
        rc = main_keygen(&cfg, &opt);
    } else if (strcmp(command, "user") == 0 && opt.arg_count == 3 && strcmp(opt.args[0], "grant") == 0) {
        rc = main_with_db(&cfg, &opt, main_grant);
    } else {
        fprintf(stderr, "marketplace: unknown command\n");
        main_usage(stderr);
        rc = 2;
    }
    config_free(&cfg);
    return rc;
}

/* The marketplace command line: serve, migrate, keygen, user grant, seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/account.h"
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
            "  seed                  load demo data (idempotent)\n"
            "  help                  this text\n"
            "\n"
            "The config file defaults to " CONFIG_DEFAULT_PATH "; MARKETPLACE_<KEY> environment\n"
            "variables override it. See README.md for every key.\n");
}

typedef struct {
    const char *command;
    const char *config_path;
    int config_required;
    const char *dir;
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
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            opt->command = "help";
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

static int main_seed(db *db, const config *cfg, const main_options *opt, mkt_error *err)
{
    (void)opt;
    return demo_seed(db, cfg, err);
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

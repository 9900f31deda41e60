/* The command line as an operator types it: options anywhere (before the command, after it, as
 * --config=FILE), help and usage errors with their exit codes. Runs the real binary ($MKT_BIN)
 * against the test stack's config and database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/support/check.h"
#include "tests/support/stack_env.h"

/* Runs the binary with the given arguments (a NULL-terminated list); returns its exit code and its
 * output (stdout and stderr together) in out. */
static int cli_run(char *out, size_t size, const char *const *args)
{
    char command[4096];
    size_t o = (size_t)snprintf(command, sizeof command, "'%s'", getenv("MKT_BIN"));
    for (size_t i = 0; args[i]; i++)
        o += (size_t)snprintf(command + o, sizeof command - o, " '%s'", args[i]);
    snprintf(command + o, sizeof command - o, " 2>&1");
    FILE *p = popen(command, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *config_path(void)
{
    const char *path = stack_env("MKT_CONFIG");
    if (!path || !getenv("MKT_BIN")) {
        fprintf(stderr, "no MKT_CONFIG in stack.env or no MKT_BIN\n");
        exit(2);
    }
    static char copy[1024];
    snprintf(copy, sizeof copy, "%s", path);
    return copy;
}

static void test_config_anywhere(void)
{
    const char *cfg = config_path();
    char with_equals[1100];
    snprintf(with_equals, sizeof with_equals, "--config=%s", cfg);
    const char *before[] = {"--config", cfg, "migrate", NULL};
    const char *after[] = {"migrate", "--config", cfg, NULL};
    const char *joined[] = {with_equals, "migrate", NULL};
    const char *const *forms[] = {before, after, joined};
    for (size_t i = 0; i < 3; i++) {
        char out[4096];
        int rc = cli_run(out, sizeof out, forms[i]);
        CHECK_INT(rc, 0);
        CHECK(strstr(out, "migrations applied: ") != NULL);
        if (rc != 0)
            fprintf(stderr, "  form %zu printed: %s\n", i, out);
    }
}

static void test_config_between_arguments(void)
{
    /* an unknown account is refused by the command itself, which proves the config was read
     * (a missing config would fail earlier, naming the file) */
    const char *cfg = config_path();
    const char *args[] = {"user", "grant", "--config", cfg, "nobody-cli@example.test", "developer", NULL};
    char out[4096];
    int rc = cli_run(out, sizeof out, args);
    CHECK_INT(rc, 1);
    CHECK(strstr(out, "nobody-cli@example.test") != NULL || strstr(out, "no account") != NULL);
    CHECK(strstr(out, "unexpected argument") == NULL);
}

static void test_help_and_usage(void)
{
    char out[4096];
    const char *help[] = {"help", NULL};
    CHECK_INT(cli_run(out, sizeof out, help), 0);
    CHECK(strstr(out, "usage: marketplace") != NULL);
    const char *dash_help[] = {"--help", NULL};
    CHECK_INT(cli_run(out, sizeof out, dash_help), 0);
    const char *none[] = {NULL};
    CHECK_INT(cli_run(out, sizeof out, none), 2);
    const char *unknown_option[] = {"migrate", "--nope", NULL};
    CHECK_INT(cli_run(out, sizeof out, unknown_option), 2);
    CHECK(strstr(out, "--nope") != NULL);
    const char *missing_file[] = {"migrate", "--config", "/nonexistent/marketplace.conf", NULL};
    CHECK_INT(cli_run(out, sizeof out, missing_file), 1);
    CHECK(strstr(out, "/nonexistent/marketplace.conf") != NULL);
}

int main(void)
{
    RUN(test_config_anywhere);
    RUN(test_config_between_arguments);
    RUN(test_help_and_usage);
    return check_finish();
}

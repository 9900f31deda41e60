#include "tests/support/stack_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *stack_env(const char *key)
{
    static char value[1024];
    const char *dir = getenv("MKT_TEST_STACK");
    if (!dir)
        return NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/stack.env", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[2048];
    size_t key_len = strlen(key);
    const char *found = NULL;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, key_len) == 0 && line[key_len] == '=') {
            snprintf(value, sizeof value, "%s", line + key_len + 1);
            value[strcspn(value, "\r\n")] = '\0';
            found = value;
            break;
        }
    }
    fclose(f);
    return found;
}

void stack_env_config(config *cfg)
{
    const char *path = stack_env("MKT_CONFIG");
    if (!path) {
        fprintf(stderr, "no test stack: set MKT_TEST_STACK to a directory with stack.env\n");
        exit(2);
    }
    char *copy = strdup(path);
    mkt_error err = MKT_ERROR_INIT;
    if (config_load(cfg, copy, 1, &err) < 0) {
        fprintf(stderr, "test stack config: %s\n", err.message);
        exit(2);
    }
    free(copy);
}

#include "tests/support/server_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/stack_env.h"

static int server_log_type_matches(const json_t *line, const char *type)
{
    if (!json_is_object(line))
        return 0;
    if (!type)
        return 1;
    const char *t = json_string_value(json_object_get(line, "type"));
    return t && strcmp(t, type) == 0;
}

static json_t *server_log_scan(const char *path, const char *type, const char *needle)
{
    json_t *found = json_array();
    FILE *f = fopen(path, "r");
    if (!f || !found)
        return found;
    char *text = NULL;
    size_t cap = 0;
    while (getline(&text, &cap, f) > 0) {
        if (text[0] != '{' || (needle && !strstr(text, needle)))
            continue;
        json_t *line = json_loads(text, 0, NULL);
        if (server_log_type_matches(line, type))
            json_array_append(found, line);
        json_decref(line);
    }
    free(text);
    fclose(f);
    return found;
}

json_t *server_log_find(const char *type, const char *needle, int wait_ms)
{
    const char *log = stack_env("MKT_SERVER_LOG");
    if (!log) {
        fprintf(stderr, "  stack.env names no MKT_SERVER_LOG\n");
        return json_array();
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", log);
    for (int waited = 0;; waited += 50) {
        json_t *found = server_log_scan(path, type, needle);
        if (!found || json_array_size(found) > 0 || waited >= wait_ms)
            return found;
        json_decref(found);
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

int server_log_count_unparsed(const char *needle)
{
    const char *log = stack_env("MKT_SERVER_LOG");
    FILE *f = log ? fopen(log, "r") : NULL;
    if (!f)
        return 0;
    char *text = NULL;
    size_t cap = 0;
    int bad = 0;
    while (getline(&text, &cap, f) > 0) {
        if (!strstr(text, needle))
            continue;
        json_t *line = json_loads(text, 0, NULL);
        bad += !json_is_object(line);
        json_decref(line);
    }
    free(text);
    fclose(f);
    return bad;
}

#include "core/money_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

const char *money_log_id(char buf[24], int64_t id)
{
    snprintf(buf, 24, "%" PRId64, id);
    return buf;
}

void money_log(const char *event, json_t *fields)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *request_id = log_request_id();
    /* time, type and event first so a person reading the raw file sees them at the start */
    json_t *line = json_pack("{s:s, s:s, s:s}", "time", ts, "type", "money", "event", event);
    if (line && fields)
        json_object_update(line, fields);
    if (line)
        json_object_set_new(line, "request_id", json_string(request_id ? request_id : ""));
    if (line)
        json_object_set_new(line, "pid", json_integer((json_int_t)getpid()));
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;
    if (text)
        log_line(text);
    else
        log_error("money event %s: cannot build its log line", event);
    free(text);
    json_decref(line);
    json_decref(fields);
}

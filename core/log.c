#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static log_level log_threshold = LOG_LEVEL_INFO;
static const char *log_current_request_id;

void log_set_request_id(const char *request_id)
{
    log_current_request_id = request_id;
}

const char *log_request_id(void)
{
    return log_current_request_id;
}

void log_set_level(log_level level)
{
    log_threshold = level;
}

int log_level_parse(const char *text, log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

static void log_write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

void log_line(const char *line)
{
    char buf[8192];
    size_t len = strlen(line);
    if (len > sizeof buf - 2)
        len = sizeof buf - 2;
    memcpy(buf, line, len);
    buf[len++] = '\n';
    log_write_all(buf, len);
}

void log_msg(log_level level, const char *fmt, ...)
{
    static const char *labels[] = {"debug", "info", "warn", "error"};
    if (level < log_threshold)
        return;
    char buf[4096];
    int head = snprintf(buf, sizeof buf, "marketplace[%d] %s: ", (int)getpid(), labels[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + head, sizeof buf - (size_t)head, fmt, ap);
    va_end(ap);
    log_line(buf);
}

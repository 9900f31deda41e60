/* Logging to stderr. Access-log lines are JSON (one per request); diagnostics are
 * "marketplace[pid] level: message" so journald and the dev stack show them as they are. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

typedef enum { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR } log_level;

void log_set_level(log_level level);
/* Parses "debug|info|warn|error"; returns -1 on anything else. */
int log_level_parse(const char *text, log_level *out);

void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

/* Writes one already-formatted line (a newline is appended) with a single write(2), so lines from
 * several workers sharing stderr never interleave. */
void log_line(const char *line);

/* The id of the request this process is answering (nginx's X-Request-Id), so lines written deep in
 * core code (money events) can name it without every function passing it along. The worker sets it
 * when a request starts and clears it (NULL) when it is answered; the string must outlive that. */
void log_set_request_id(const char *request_id);
/* The current request id, or NULL between requests (timers, sweeps). */
const char *log_request_id(void);

#endif

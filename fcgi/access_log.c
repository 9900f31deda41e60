#include "fcgi/access_log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "fcgi/problem.h"

#define ACCESS_LOG_TEXT_MAX 512   /* source bytes of one echoed string (path, detail) */
#define ACCESS_LOG_FIELD_MAX 128  /* source bytes of one field name */
#define ACCESS_LOG_FIELDS 8       /* field names listed at most */
#define ACCESS_LOG_ESCAPED(n) (6 * (n) + 2)  /* one source byte becomes at most 6 ("\u001f") */
/* Every piece is bounded, so the whole line always fits and is never cut mid-token. */
#define ACCESS_LOG_LINE_MAX                                                                     \
    (1024 + 2 * ACCESS_LOG_ESCAPED(ACCESS_LOG_TEXT_MAX) + ACCESS_LOG_FIELDS * (ACCESS_LOG_ESCAPED(ACCESS_LOG_FIELD_MAX) + 1) + \
     ACCESS_LOG_ESCAPED(64) * 3 + ACCESS_LOG_ESCAPED(16))

typedef struct {
    char text[ACCESS_LOG_LINE_MAX];
    size_t len;
} access_line;

static void access_line_raw(access_line *l, const char *s, size_t n)
{
    if (l->len + n >= sizeof l->text)
        return;  /* cannot happen (see ACCESS_LOG_LINE_MAX); never overrun */
    memcpy(l->text + l->len, s, n);
    l->len += n;
    l->text[l->len] = '\0';
}

static void access_line_printf(access_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void access_line_printf(access_line *l, const char *fmt, ...)
{
    char piece[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(piece, sizeof piece, fmt, ap);
    va_end(ap);
    if (n > 0)
        access_line_raw(l, piece, (size_t)n < sizeof piece ? (size_t)n : sizeof piece - 1);
}

/* A JSON string of at most max bytes of s: clipped to whole valid UTF-8 characters first (invalid
 * bytes become U+FFFD, as in problem documents), then escaped. */
static void access_line_string(access_line *l, const char *s, size_t max)
{
    char clipped[ACCESS_LOG_TEXT_MAX + 1];
    if (max > ACCESS_LOG_TEXT_MAX)
        max = ACCESS_LOG_TEXT_MAX;
    error_text_clip(clipped, max + 1, s);
    access_line_raw(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)clipped; *p; p++) {
        if (*p == '"' || *p == '\\') {
            access_line_raw(l, "\\", 1);
            access_line_raw(l, (const char *)p, 1);
        } else if (*p < 0x20 || *p == 0x7f) {
            access_line_printf(l, "\\u%04x", *p);
        } else {
            access_line_raw(l, (const char *)p, 1);
        }
    }
    access_line_raw(l, "\"", 1);
}

static void access_line_key_string(access_line *l, const char *key, const char *value, size_t max)
{
    access_line_printf(l, ",\"%s\":", key);
    access_line_string(l, value ? value : "", max);
}

static void access_line_problem(access_line *l, int status, const mkt_error *err)
{
    int failed = err && err->kind != ERROR_NONE;
    error_kind kind = failed ? err->kind : ERROR_INTERNAL;
    if (!failed && status < 500)
        return;  /* a handler's own 4xx without an error (none today) has nothing more to say */
    access_line_key_string(l, "problem", problem_slug(kind), 64);
    access_line_key_string(l, "detail", failed && err->message ? err->message : problem_title(kind),
                           ACCESS_LOG_TEXT_MAX);
    if (!failed || err->field_count == 0)
        return;
    access_line_raw(l, ",\"fields\":[", 11);
    for (size_t i = 0; i < err->field_count && i < ACCESS_LOG_FIELDS; i++) {
        if (i)
            access_line_raw(l, ",", 1);
        access_line_string(l, err->fields[i].field ? err->fields[i].field : "", ACCESS_LOG_FIELD_MAX);
    }
    access_line_raw(l, "]", 1);
}

void access_log_write(const request *req, int status, uint64_t duration_us, const mkt_error *err)
{
    static access_line l;  /* ~12 KiB: off the stack; one request at a time per worker */
    l.len = 0;
    l.text[0] = '\0';
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *uri = request_header(req, "REQUEST_URI");
    char path[ACCESS_LOG_TEXT_MAX + 1];
    snprintf(path, sizeof path, "%.*s", uri ? (int)strcspn(uri, "?") : 0, uri ? uri : "");

    access_line_printf(&l, "{\"time\":\"%s\",\"type\":\"access\"", ts);
    access_line_key_string(&l, "method", req->method, 16);
    access_line_key_string(&l, "path", path, ACCESS_LOG_TEXT_MAX);
    access_line_printf(&l, ",\"status\":%d,\"duration_us\":%" PRIu64, status, duration_us);
    access_line_key_string(&l, "request_id", req->request_id, 64);
    access_line_printf(&l, ",\"pid\":%d", (int)getpid());
    if (req->authenticated)
        access_line_printf(&l, ",\"user_id\":\"%" PRId64 "\"", req->caller.user_id);
    else
        access_line_raw(&l, ",\"user_id\":null", 15);
    if (status >= 400)
        access_line_problem(&l, status, err);
    access_line_raw(&l, "}", 1);
    log_line(l.text);
}

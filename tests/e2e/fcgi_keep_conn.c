/* FastCGI connection reuse at the worker (fcgi/worker.c, docs/performance.md "FastCGI connection
 * reuse"): speaking FastCGI straight to the server's socket, as nginx would with fastcgi_keep_conn
 * on, a worker answers several requests over one kept connection, gives it up once it sits idle (so
 * it never pins a worker), and closes a connection that did not ask to be kept after one answer. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/stack_env.h"

enum { FCGI_BEGIN = 1, FCGI_END = 3, FCGI_PARAMS = 4, FCGI_STDIN = 5, FCGI_STDOUT = 6, FCGI_KEEP = 1 };

static int connect_server(void)
{
    const char *path = stack_env("MKT_FCGI_SOCKET");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!path || strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "no MKT_FCGI_SOCKET in the stack's stack.env\n");
        exit(1);
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "cannot connect to %s: %s\n", path, strerror(errno));
        exit(1);
    }
    struct timeval tv = {2, 0}; /* a worker that never answers fails the test instead of hanging it */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static size_t record(unsigned char *out, int type, const unsigned char *body, size_t len)
{
    unsigned char head[8] = {1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8), (unsigned char)len, 0, 0};
    memcpy(out, head, 8);
    if (len)
        memcpy(out + 8, body, len);
    return 8 + len;
}

static size_t param(unsigned char *out, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    out[0] = (unsigned char)n;
    out[1] = (unsigned char)v;
    memcpy(out + 2, name, n);
    memcpy(out + 2 + n, value, v);
    return 2 + n + v;
}

/* Sends GET /health as request 1, asking the server to keep the connection when keep is set. */
static int send_health(int fd, int keep)
{
    unsigned char params[512], buf[1024];
    size_t p = 0, n = 0;
    static const char *const pairs[][2] = {
        {"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/api/marketplace/health"},
        {"SCRIPT_NAME", "/api/marketplace/health"}, {"QUERY_STRING", ""}, {"CONTENT_LENGTH", ""},
        {"REMOTE_ADDR", "127.0.0.1"}, {"SERVER_PROTOCOL", "HTTP/1.1"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        p += param(params + p, pairs[i][0], pairs[i][1]);
    unsigned char begin[8] = {0, 1, (unsigned char)(keep ? FCGI_KEEP : 0), 0, 0, 0, 0, 0};
    n += record(buf + n, FCGI_BEGIN, begin, sizeof begin);
    n += record(buf + n, FCGI_PARAMS, params, p);
    n += record(buf + n, FCGI_PARAMS, NULL, 0);
    n += record(buf + n, FCGI_STDIN, NULL, 0);
    return send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static int read_exact(int fd, unsigned char *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t r = recv(fd, buf + got, len - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Reads one answer up to its END_REQUEST record; 1 when its output says Status 200. */
static int read_answer_ok(int fd)
{
    char out[8192];
    size_t used = 0;
    for (;;) {
        unsigned char head[8], body[65536 + 256];
        if (read_exact(fd, head, 8) < 0)
            return 0;
        size_t len = ((size_t)head[4] << 8 | head[5]) + head[6];
        if (read_exact(fd, body, len) < 0)
            return 0;
        if (head[1] == FCGI_STDOUT) {
            size_t take = len - head[6] < sizeof out - 1 - used ? len - head[6] : sizeof out - 1 - used;
            memcpy(out + used, body, take);
            used += take;
        } else if (head[1] == FCGI_END) {
            out[used] = '\0';
            return strstr(out, "Status: 200") != NULL;
        }
    }
}

/* 1 when the server closed fd within ms milliseconds (a read sees the end). */
static int closed_within(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, ms) <= 0)
        return 0;
    char c;
    return recv(fd, &c, 1, 0) == 0;
}

/* Three answers over one connection. A worker also gives its kept connection up the moment another
 * connection waits (other tests run beside this one), and a request sent in that instant finds it
 * closed: that try is repeated on a new connection, and one of twenty must go through whole. */
static void test_requests_share_a_kept_connection(void)
{
    int whole = 0;
    for (int try = 0; try < 20 && !whole; try++) {
        int fd = connect_server();
        int answered = 0;
        while (answered < 3 && send_health(fd, 1) == 0 && read_answer_ok(fd))
            answered++;
        close(fd);
        whole = answered == 3;
        if (!whole)
            usleep(20000);
    }
    CHECK_INT(whole, 1);
}

/* One request, kept or not, answered; then the worker closes the connection within a second. */
static void check_closed_after_answer(int keep)
{
    int fd = connect_server();
    CHECK_INT(send_health(fd, keep), 0);
    CHECK_INT(read_answer_ok(fd), 1);
    CHECK_INT(closed_within(fd, 1000), 1);
    close(fd);
}

static void test_idle_kept_connection_given_up(void)
{
    /* a worker waits 2 ms for the next request on it; a second is plenty on a loaded machine */
    check_closed_after_answer(1);
}

static void test_more_kept_connections_than_workers(void)
{
    /* Every worker could be holding one of these; each gives its connection up when idle, so a new
     * connection is still answered. */
    enum { KEPT = 12 };
    int fds[KEPT];
    for (int i = 0; i < KEPT; i++) {
        fds[i] = connect_server();
        CHECK_INT(send_health(fds[i], 1), 0);
        CHECK_INT(read_answer_ok(fds[i]), 1);
    }
    int fresh = connect_server();
    CHECK_INT(send_health(fresh, 0), 0);
    CHECK_INT(read_answer_ok(fresh), 1);
    close(fresh);
    for (int i = 0; i < KEPT; i++)
        close(fds[i]);
}

static void test_connection_not_kept_is_closed(void)
{
    check_closed_after_answer(0);
}

int main(void)
{
    RUN(test_requests_share_a_kept_connection);
    RUN(test_idle_kept_connection_given_up);
    RUN(test_more_kept_connections_than_workers);
    RUN(test_connection_not_kept_is_closed);
    return check_finish();
}

/* The ceiling for the foundation benchmark: the least a libfcgi responder can do. A few forked
 * processes accept on one unix socket and answer every request with a fixed small JSON body (and
 * the X-Request-Id nginx passed, as the real server does). No routing, no database, no logging.
 * A connection nginx keeps open is served again while requests keep coming on it.
 *
 *   bench_bare_fcgi SOCKET_PATH [PROCESSES]     (PROCESSES defaults to 2 x online CPUs)
 *
 * Creates the socket (mode 0666), prints "ready" once the children run, and on SIGTERM or SIGINT
 * stops its children, removes the socket and exits. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

#define BARE_MAX_CHILDREN 1024

static const char bare_body[] = "{\"status\":\"ok\",\"db\":\"up\"}";

/* A connection nginx keeps (fastcgi_keep_conn) is given up when a new connection waits or after
 * this long idle, as the server's workers do (fcgi/worker.c), so the ceiling pays what they pay. */
#define BARE_KEPT_IDLE_MS 2

static int bare_child(int listen_fd)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    FCGX_Request req;
    if (FCGX_InitRequest(&req, listen_fd, 0) != 0)
        return 1;
    char head[256];
    while (FCGX_Accept_r(&req) >= 0) {
        const char *rid = FCGX_GetParam("HTTP_X_REQUEST_ID", req.envp);
        int len = snprintf(head, sizeof head,
                           "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                           "Content-Length: %zu\r\nCache-Control: no-store\r\nX-Request-Id: %.64s\r\n\r\n",
                           sizeof bare_body - 1, rid ? rid : "");
        FCGX_PutStr(head, len, req.out);
        FCGX_PutStr(bare_body, (int)sizeof bare_body - 1, req.out);
        FCGX_Finish_r(&req);
        if (req.ipcFd >= 0) {
            struct pollfd pfd[2] = {{.fd = req.ipcFd, .events = POLLIN}, {.fd = listen_fd, .events = POLLIN}};
            if (poll(pfd, 2, BARE_KEPT_IDLE_MS) <= 0 || !(pfd[0].revents & (POLLIN | POLLHUP))) {
                close(req.ipcFd); /* at once, as the server's workers do */
                req.ipcFd = -1;
            }
        }
    }
    return 0;
}

static volatile sig_atomic_t bare_stop;

static void bare_on_signal(int sig)
{
    (void)sig;
    bare_stop = 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: %s /absolute/socket/path [processes]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int processes = argc > 2 ? atoi(argv[2]) : (int)(cpus > 0 ? 2 * cpus : 2);
    if (processes < 1 || processes > BARE_MAX_CHILDREN) {
        fprintf(stderr, "processes must be 1..%d\n", BARE_MAX_CHILDREN);
        return 2;
    }
    if (FCGX_Init() != 0) {
        fprintf(stderr, "FCGX_Init failed\n");
        return 1;
    }
    unlink(path);
    int fd = FCGX_OpenSocket(path, 1024);
    if (fd < 0) {
        fprintf(stderr, "cannot listen on %s: %s\n", path, strerror(errno));
        return 1;
    }
    chmod(path, 0666);

    struct sigaction sa = {.sa_handler = bare_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    pid_t children[BARE_MAX_CHILDREN];
    int started = 0;
    for (int i = 0; i < processes; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            break;
        }
        if (pid == 0)
            _exit(bare_child(fd));
        children[started++] = pid;
    }
    printf("ready: %d processes on %s (pid %d)\n", started, path, (int)getpid());
    fflush(stdout);

    /* Waits for a stop signal; a child that dies is reported but not replaced (it is a benchmark). */
    while (!bare_stop) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid > 0) {
            fprintf(stderr, "bare_fcgi: child %d ended (status %d)\n", (int)pid, status);
            for (int i = 0; i < started; i++)
                if (children[i] == pid)
                    children[i] = 0;
        } else if (errno == ECHILD) {
            break;
        }
    }
    for (int i = 0; i < started; i++)
        if (children[i] > 0)
            kill(children[i], SIGTERM);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
    }
    close(fd);
    unlink(path);
    return 0;
}

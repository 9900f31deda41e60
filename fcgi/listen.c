#include "fcgi/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

static int listen_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int listen_unix(listen_socket *ls, const config *cfg, mkt_error *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(cfg->listen) >= sizeof addr.sun_path)
        return error_set(err, ERROR_VALIDATION, "listen: unix socket path too long");
    strcpy(addr.sun_path, cfg->listen);
    /* Remove a stale socket left by a crash, but never a regular file someone put there. */
    struct stat st;
    if (lstat(cfg->listen, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return error_set(err, ERROR_VALIDATION, "listen: %s exists and is not a socket", cfg->listen);
        unlink(cfg->listen);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return error_set(err, ERROR_INTERNAL, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(cfg->listen, (mode_t)cfg->listen_mode) < 0 ||
        listen(fd, (int)cfg->listen_backlog) < 0) {
        int saved = errno;
        close(fd);
        return error_set(err, ERROR_INTERNAL, "listen on %s: %s", cfg->listen, strerror(saved));
    }
    ls->fd = fd;
    ls->unix_path = strdup(cfg->listen);
    return 0;
}

static int listen_tcp(listen_socket *ls, const config *cfg, mkt_error *err)
{
    char host[256];
    const char *colon = strrchr(cfg->listen, ':');
    if (!colon || colon == cfg->listen || (size_t)(colon - cfg->listen) >= sizeof host)
        return error_set(err, ERROR_VALIDATION, "listen: expected host:port or an absolute path, got '%s'",
                         cfg->listen);
    const char *start = cfg->listen;
    size_t len = (size_t)(colon - start);
    if (start[0] == '[' && len >= 2 && start[len - 1] == ']') {
        start++;
        len -= 2;
    }
    memcpy(host, start, len);
    host[len] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *found = NULL;
    int gai = getaddrinfo(host, colon + 1, &hints, &found);
    if (gai != 0)
        return error_set(err, ERROR_VALIDATION, "listen: cannot resolve '%s': %s", cfg->listen, gai_strerror(gai));
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, found->ai_addr, found->ai_addrlen) < 0 || listen(fd, (int)cfg->listen_backlog) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(found);
        return error_set(err, ERROR_INTERNAL, "listen on %s: %s", cfg->listen, strerror(saved));
    }
    freeaddrinfo(found);
    ls->fd = fd;
    return 0;
}

int listen_open(listen_socket *ls, const config *cfg, mkt_error *err)
{
    memset(ls, 0, sizeof *ls);
    ls->fd = -1;
    int n = sd_listen_fds(1);
    if (n > 0) {
        ls->fd = SD_LISTEN_FDS_START;
        ls->from_systemd = 1;
    } else if (cfg->listen[0] == '/') {
        if (listen_unix(ls, cfg, err) < 0)
            return -1;
    } else if (listen_tcp(ls, cfg, err) < 0) {
        return -1;
    }
    if (listen_nonblocking(ls->fd) < 0)
        return error_set(err, ERROR_INTERNAL, "listen socket: %s", strerror(errno));
    /* Workers are forked with the socket; it must not leak into anything they exec (nothing today). */
    return 0;
}

void listen_close(listen_socket *ls)
{
    if (ls->fd >= 0 && !ls->from_systemd)
        close(ls->fd);
    if (ls->unix_path) {
        unlink(ls->unix_path);
        free(ls->unix_path);
    }
    ls->fd = -1;
    ls->unix_path = NULL;
}

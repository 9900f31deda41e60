/* The FastCGI listen socket: taken from systemd (socket activation) or bound here. Bound here rather
 * than by libfcgi because FCGX_OpenSocket exit()s on failure and unlinks paths unchecked. */
#ifndef FCGI_LISTEN_H
#define FCGI_LISTEN_H

#include "core/config.h"
#include "core/error.h"

typedef struct {
    int fd;
    int from_systemd;
    char *unix_path; /* set when we created a unix socket (removed at exit) */
} listen_socket;

/* Opens the socket named by cfg->listen ("host:port", "[v6]:port" or "/abs/path"), non-blocking. */
int listen_open(listen_socket *ls, const config *cfg, mkt_error *err);
void listen_close(listen_socket *ls);

#endif

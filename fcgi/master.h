/* The master process (php-fpm is the model): holds the listen socket, forks `workers` children,
 * respawns the ones that die (with back-off when they keep dying), kills a child stuck in one
 * request past request_timeout, drains on SIGTERM, replaces workers on SIGHUP with the re-read
 * config, and talks to systemd (READY, RELOADING, STOPPING, WATCHDOG). Never in the request path. */
#ifndef FCGI_MASTER_H
#define FCGI_MASTER_H

#include "core/config.h"

/* Runs until SIGTERM/SIGINT/SIGQUIT; returns the process exit status. cfg is owned by the master
 * from here on (freed and replaced on reload). */
int master_run(const char *config_path, int config_required, config *cfg);

#endif

/* Finds the test stack started by scripts/stack (ctest fixture). $MKT_TEST_STACK names a directory
 * holding stack.env, lines of KEY=value:
 *   MKT_URL         http://127.0.0.1:PORT  (nginx in front of the server)
 *   MKT_HTTP_PORT   PORT
 *   MKT_CONFIG      the server's config file (db_socket, db_user, ... as the server uses them)
 *   MKT_DB_SOCKET   MariaDB unix socket
 *   MKT_DB_PID, MKT_MASTER_PID, MKT_NGINX_PID   process ids of what the stack started
 *   MKT_SERVER_LOG  the server's stderr (access log and diagnostics)
 */
#ifndef TESTS_STACK_ENV_H
#define TESTS_STACK_ENV_H

#include "core/config.h"

/* Value of KEY from stack.env (static storage, valid until the next call with another key), or NULL. */
const char *stack_env(const char *key);
/* Loads the server's config (MKT_CONFIG) so integration tests connect exactly as the server does.
 * Exits the test with a message when the stack is not there. */
void stack_env_config(config *cfg);

#endif

/* MariaDB goes away and comes back, through real nginx:
 *   stopped  -> GET /health is 503 {status, db: "down"}; authenticated and database-backed routes
 *               answer 503 problem+json quickly (no crash, no hang, login is not a misleading 401);
 *               the workers stay up (same PIDs).
 *   started  -> /health is 200 again within 20 s, the token issued before the outage still works
 *               (the data survived), every worker reconnects, and new accounts can be made.
 * The database is always started again, whatever failed, so later tests find it up.
 * Runs serially (RUN_SERIAL): it stops the shared test stack's database. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/http.h"
#include "tests/support/procs.h"
#include "tests/support/stack_env.h"

#define MAX_WORKERS 256

static char g_script[1024], g_stack_dir[1024];
static pid_t g_master;
static int g_db_stopped;

/* Runs `scripts/stack COMMAND --dir DIR`; returns its exit status (or -1). */
static int stack_command(const char *command)
{
    fprintf(stderr, "  running %s %s --dir %s\n", g_script, command, g_stack_dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO); /* the script's chatter goes to the test log */
        execl(g_script, g_script, command, "--dir", g_stack_dir, (char *)NULL);
        perror(g_script);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Whatever happens, the database is started again before the test exits. */
static void restart_database(void)
{
    if (!g_db_stopped)
        return;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (stack_command("db-start") == 0) {
            g_db_stopped = 0;
            return;
        }
        procs_sleep(1.0);
    }
    fprintf(stderr, "  could not start the database again: later tests will fail\n");
}

static void on_fatal_signal(int sig)
{
    /* best effort on an abort or a timeout kill: bring the database back, then die as asked */
    restart_database();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int same_set(const pid_t *a, size_t na, const pid_t *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Polls /health until it answers `status` (up to timeout seconds); returns the seconds it took or -1. */
static double wait_health(long status, double timeout)
{
    double start = procs_now();
    for (;;) {
        http_response *res = http_get("/health", NULL);
        long got = res->status;
        http_response_free(res);
        if (got == status)
            return procs_now() - start;
        if (procs_now() - start > timeout)
            return -1;
        procs_sleep(0.2);
    }
}

static int expect_unavailable_at(http_response *res, double seconds, const char *what, int line)
{
    const char *rid = http_json_string(res, "request_id");
    int ok = http_is_problem(res, 503) && rid && res->request_id && strcmp(rid, res->request_id) == 0;
    if (!ok) {
        fprintf(stderr, "  line %d: %s while the database is down: expected a 503 problem\n", line, what);
        http_dump(what, res);
        check_failures++;
    }
    if (seconds > 15.0) {
        fprintf(stderr, "  line %d: %s took %.1f s to answer\n", line, what, seconds);
        check_failures++;
    }
    return ok;
}
#define EXPECT_UNAVAILABLE(res, seconds, what) expect_unavailable_at(res, seconds, what, __LINE__)

static void test_database_outage(void)
{
    http_user u;
    CHECK_INT(http_register_user(&u), 0);
    CHECK_INT(http_status_free(http_get("/me", u.token)), 200);
    CHECK(wait_health(200, 5.0) >= 0);

    pid_t before[MAX_WORKERS], during[MAX_WORKERS], after[MAX_WORKERS];
    size_t n_before = procs_workers_of(g_master, before, MAX_WORKERS);
    CHECK(n_before >= 1);

    /* ---- down ---- */
    g_db_stopped = 1;
    int rc = stack_command("db-stop");
    CHECK_INT(rc, 0);

    double took = wait_health(503, 15.0);
    if (took < 0)
        fprintf(stderr, "  /health did not turn 503 within 15 s of db-stop\n");
    CHECK(took >= 0);
    http_response *res = http_get("/health", NULL);
    CHECK_INT(res->status, 503);
    CHECK(res->content_type && strncmp(res->content_type, "application/json", 16) == 0);
    CHECK_STR(http_json_string(res, "db"), "down");
    CHECK(http_json_string(res, "status") && strcmp(http_json_string(res, "status"), "ok") != 0);
    CHECK(res->request_id != NULL);
    http_response_free(res);

    /* every worker answers the same way, quickly (one request per worker and then some); the
     * caller's purchases, which are always read from the database (GET /me may come from a
     * worker's profile cache, fcgi/auth_cache.h) */
    for (size_t i = 0; i < 2 * n_before + 2; i++) {
        double t0 = procs_now();
        res = http_get("/transactions", u.token);
        EXPECT_UNAVAILABLE(res, procs_now() - t0, "GET /transactions");
        http_response_free(res);
    }
    double t0 = procs_now();
    json_t *login = json_pack("{s:s, s:s}", "email", u.email, "password", u.password);
    res = http_post_json("/auth/login", NULL, login);
    EXPECT_UNAVAILABLE(res, procs_now() - t0, "POST /auth/login"); /* not a 401: the password may be right */
    http_response_free(res);
    json_decref(login);
    char email[160];
    http_unique_email(email, sizeof email, "outage");
    json_t *reg = json_pack("{s:s, s:s, s:s}", "email", email, "password", "during the outage", "display_name", "Down");
    t0 = procs_now();
    res = http_post_json("/auth/register", NULL, reg);
    EXPECT_UNAVAILABLE(res, procs_now() - t0, "POST /auth/register");
    http_response_free(res);
    t0 = procs_now();
    res = http_get("/developers/1", NULL);
    EXPECT_UNAVAILABLE(res, procs_now() - t0, "GET /developers/1");
    http_response_free(res);
    /* routes that never touch the database keep working */
    CHECK_INT(http_status_free(http_raw("GET", "/metrics", NULL, NULL, 0)), 200);
    CHECK_INT(http_status_free(http_get("/nope", NULL)), 404);

    /* nobody crashed: the very same workers are there */
    CHECK(procs_alive(g_master));
    size_t n_during = procs_workers_of(g_master, during, MAX_WORKERS);
    if (!same_set(before, n_before, during, n_during))
        fprintf(stderr, "  the workers changed during the outage (%zu before, %zu now)\n", n_before, n_during);
    CHECK(same_set(before, n_before, during, n_during));

    /* ---- up again ---- */
    restart_database();
    CHECK_INT(g_db_stopped, 0);
    took = wait_health(200, 20.0);
    if (took < 0)
        fprintf(stderr, "  /health did not come back to 200 within 20 s of db-start\n");
    else
        fprintf(stderr, "  /health back to 200 %.1f s after db-start returned\n", took);
    CHECK(took >= 0);
    res = http_get("/health", NULL);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "status"), "ok");
    CHECK_STR(http_json_string(res, "db"), "up");
    http_response_free(res);

    /* the token from before the outage still works, on every worker */
    for (size_t i = 0; i < 2 * n_before + 2; i++) {
        res = http_get("/me", u.token);
        if (res->status != 200)
            http_dump("GET /me after the outage", res);
        CHECK_INT(res->status, 200);
        CHECK_STR(http_json_string(res, "id"), u.id);
        CHECK_STR(http_json_string(res, "email"), u.email);
        http_response_free(res);
    }
    /* and writes work: the account refused during the outage can be made now, and logs in */
    CHECK_INT(http_status_free(http_post_json("/auth/register", NULL, reg)), 201);
    json_decref(reg);
    char token[128];
    CHECK_INT(http_login(u.email, u.password, token, sizeof token), 200);
    CHECK_INT(http_login(email, "during the outage", token, sizeof token), 200);

    /* still the same workers: the outage cost reconnects, not processes */
    CHECK(procs_alive(g_master));
    size_t n_after = procs_workers_of(g_master, after, MAX_WORKERS);
    CHECK(same_set(before, n_before, after, n_after));
}

/* A second, short outage right after the first: reconnecting twice works as well as once. */
static void test_second_outage(void)
{
    http_user u;
    CHECK_INT(http_register_user(&u), 0);
    g_db_stopped = 1;
    CHECK_INT(stack_command("db-stop"), 0);
    CHECK(wait_health(503, 15.0) >= 0);
    CHECK_INT(http_status_free(http_get("/me", u.token)), 503);
    restart_database();
    CHECK(wait_health(200, 20.0) >= 0);
    http_response *res = http_get("/me", u.token);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "id"), u.id);
    http_response_free(res);
}

int main(void)
{
    http_base_url();
    http_set_timeout_ms(20000);
    const char *script = getenv("MKT_STACK_SCRIPT");
    const char *dir = stack_env("MKT_STACK_DIR");
    if (!script || !*script || access(script, X_OK) != 0) {
        fprintf(stderr, "MKT_STACK_SCRIPT must name scripts/stack (got %s)\n", script ? script : "nothing");
        return 2;
    }
    snprintf(g_script, sizeof g_script, "%s", script);
    if (!dir || !*dir) {
        fprintf(stderr, "stack.env has no MKT_STACK_DIR\n");
        return 2;
    }
    snprintf(g_stack_dir, sizeof g_stack_dir, "%s", dir);
    const char *master = stack_env("MKT_MASTER_PID");
    g_master = master ? (pid_t)atoi(master) : 0;
    if (g_master <= 1 || !procs_alive(g_master)) {
        fprintf(stderr, "stack.env has no live MKT_MASTER_PID\n");
        return 2;
    }
    atexit(restart_database);
    signal(SIGABRT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    signal(SIGINT, on_fatal_signal);
    signal(SIGALRM, on_fatal_signal);
    alarm(240); /* under ctest's 300 s: time to start the database again before being killed */

    RUN(test_database_outage);
    RUN(test_second_outage);
    restart_database();
    return check_finish();
}

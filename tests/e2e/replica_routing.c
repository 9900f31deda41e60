/* The read replica (scripts/stack --replica, fcgi/replica.h), through real nginx against a primary and
 * a GTID replica:
 *   - a lag-tolerant read (tool view, review list, categories) is answered from the replica: the
 *     replica's own Com_select moves, and marketplace_replica_reads_total by one per read; the views
 *     those reads count are written on the primary, never tried on the read-only replica;
 *   - read-your-writes: with the replica held a second behind (MASTER_DELAY=1, still under
 *     replica_max_lag), the writer of a review sees it in the review list at once, every time;
 *   - a worker's cached tool view filled from a lagging replica does not outlive the lag by much: a
 *     delisting is answered 404 by every worker within 3.5 s (a cache entry otherwise lives 10 s);
 *   - the replica stopped and started under a read load: no read fails, and reads go back to it;
 *   - the primary stopped and started under reads and writes: writes answer 503 with Retry-After,
 *     reads keep answering 200 (from the replica), writes recover, and no acknowledged write is lost.
 * Signed-in reads throughout: nginx's microcache keeps anonymous answers, which would not reach the
 * server. Runs alone on its own stack (fixture stack_replica, RUN_SERIAL): it stops both databases,
 * and always starts them again. */
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"
#include "tests/support/procs.h"
#include "tests/support/server_log.h"
#include "tests/support/stack_env.h"

#define READ_THREADS 3
#define MAX_ACKED 512

static db *g_replica_admin;
static int g_replica_stopped, g_primary_stopped, g_delayed;

/* Runs `scripts/stack COMMAND --dir DIR`, its chatter to the test log; returns its exit status. */
static int stack_command(const char *command)
{
    char line[2048];
    snprintf(line, sizeof line, "'%s' %s --dir '%s' 1>&2", getenv("MKT_STACK_SCRIPT"), command,
             getenv("MKT_TEST_STACK"));
    fprintf(stderr, "  running %s\n", line);
    fflush(NULL);
    int rc = system(line);
    return rc == 0 ? 0 : -1;
}

/* The replica as its administrator (the OS user, by unix_socket authentication), for what the
 * marketplace user may not do there: SHOW GLOBAL STATUS counters of everyone, MASTER_DELAY. */
static db *replica_admin(void)
{
    if (g_replica_admin)
        return g_replica_admin;
    config cfg = *fixture_config();
    struct passwd *pw = getpwuid(getuid());
    cfg.db_socket = (char *)stack_env("MKT_REPLICA_SOCKET");
    cfg.db_user = pw ? pw->pw_name : "root";
    cfg.db_password = "";
    cfg.db_name = "marketplace";
    mkt_error err = MKT_ERROR_INIT;
    if (!cfg.db_socket || !(g_replica_admin = db_open(&cfg, &err))) {
        fprintf(stderr, "cannot reach the replica (MKT_REPLICA_SOCKET): %s\n", err.message ? err.message : "not in stack.env");
        exit(2);
    }
    return g_replica_admin;
}

static int64_t replica_int(const char *sql, int column)
{
    db_rows rows = {0};
    mkt_error err = MKT_ERROR_INIT;
    int64_t v = -1;
    if (db_query(replica_admin(), sql, DB_NO_PARAMS, &rows, &err) == 0 && rows.row_count == 1)
        v = db_rows_int(&rows, 0, (size_t)column);
    else
        fprintf(stderr, "  replica: %s: %s\n", sql, err.message ? err.message : "no row");
    db_rows_free(&rows);
    error_clear(&err);
    return v;
}

static int64_t replica_com_select(void) { return replica_int("SHOW GLOBAL STATUS LIKE 'Com_select'", 1); }

static void replica_script(const char *sql)
{
    mkt_error err = MKT_ERROR_INIT;
    if (db_exec_script(replica_admin(), sql, &err) < 0) {
        fprintf(stderr, "  replica: %s: %s\n", sql, err.message ? err.message : "?");
        check_failures++;
    }
    error_clear(&err);
}

static void replica_delay(int seconds)
{
    char sql[160];
    snprintf(sql, sizeof sql, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = %d; START SLAVE", seconds);
    replica_script(sql);
    g_delayed = seconds > 0;
}

/* Whatever failed, both databases run again and the replica is not held back when the test exits. */
static void restore_stack(void)
{
    if (g_primary_stopped && stack_command("db-start") == 0)
        g_primary_stopped = 0;
    if (g_replica_stopped && stack_command("replica-start") == 0)
        g_replica_stopped = 0;
    if (g_delayed)
        replica_delay(0);
}

static void on_fatal_signal(int sig)
{
    restore_stack();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Waits up to 10 s until the replica has the tool (replication is asynchronous). */
static void wait_replicated(const char *tool_id)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM tools WHERE id = %lld", (long long)strtoll(tool_id, NULL, 10));
    for (int i = 0; i < 100 && replica_int(sql, 0) != 1; i++)
        procs_sleep(0.1);
    CHECK_INT(replica_int(sql, 0), 1);
}

typedef struct {
    char paths[3][200];
} replica_tool;

/* A published free tool and its three lag-tolerant paths (the categories list among them). */
static void replica_tool_make(replica_tool *t, char *id)
{
    http_user dev;
    fixture_developer(&dev, "Replica Shop");
    char slug[FIXTURE_SLUG_SIZE];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    snprintf(t->paths[0], sizeof t->paths[0], "/tools/%s", slug);
    snprintf(t->paths[1], sizeof t->paths[1], "/tools/%s/reviews", slug);
    snprintf(t->paths[2], sizeof t->paths[2], "/categories");
    wait_replicated(id);
}

static void test_reads_hit_the_replica(void)
{
    replica_tool t;
    char id[FIXTURE_ID_SIZE];
    replica_tool_make(&t, id);
    http_user reader;
    fixture_user(&reader);
    double metric_before = fixture_metric("marketplace_replica_reads_total");
    int64_t selects_before = replica_com_select();
    int reads = 30;
    for (int i = 0; i < reads; i++)
        CHECK_INT(http_status_free(http_get(t.paths[i % 3], reader.token)), 200);
    int64_t selects = replica_com_select() - selects_before - 1; /* the second SHOW counts itself */
    double served = fixture_metric("marketplace_replica_reads_total") - metric_before;
    fprintf(stderr, "  %d reads: %lld statements on the replica, %.0f requests served from it\n", reads,
            (long long)selects, served);
    CHECK(selects >= reads / 2); /* some answers come from the per-worker caches after one statement */
    CHECK(served >= reads);
    int64_t views = 0;
    for (int i = 0; i < 50 && views < reads / 3; i++) { /* workers write their counts back within a second */
        procs_sleep(0.1);
        views = fixture_sql_int("SELECT COALESCE(SUM(views), 0) FROM tool_view_days WHERE tool_id = ?",
                                db_int(strtoll(id, NULL, 10)));
    }
    fprintf(stderr, "  %lld views of the %d tool views written\n", (long long)views, reads / 3);
    CHECK_INT(views, reads / 3);
    CHECK_INT(server_log_count_unparsed("read-only"), 0);
}

static void test_writer_reads_own_review(void)
{
    replica_tool t;
    char id[FIXTURE_ID_SIZE];
    replica_tool_make(&t, id);
    http_user other;
    fixture_user(&other);
    replica_delay(1);
    procs_sleep(1.5); /* every worker's once-a-second check sees the delayed replica, still fresh enough */
    double metric_before = fixture_metric("marketplace_replica_reads_total");
    for (int i = 0; i < 3; i++) {
        http_user buyer;
        fixture_user(&buyer);
        char title[96];
        snprintf(title, sizeof title, "Read my write %s %d", id, i);
        json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "tool_id", id, "rating", 5, "title", title, "content",
                                 "Written just now.");
        CHECK_INT(http_status_free(http_post_json("/reviews", buyer.token, body)), 201);
        json_decref(body);
        http_response *list = http_get(t.paths[1], buyer.token);
        CHECK_INT(list->status, 200);
        if (!strstr(list->body ? list->body : "", title)) {
            fprintf(stderr, "  line %d: the writer's own review is missing from the list right after it\n", __LINE__);
            check_failures++;
        }
        http_response_free(list);
        /* a caller who wrote nothing is still served by the (delayed) replica */
        CHECK_INT(http_status_free(http_get(t.paths[0], other.token)), 200);
    }
    CHECK(fixture_metric("marketplace_replica_reads_total") - metric_before >= 3);
    replica_delay(0);
}

static void test_cached_view_follows_a_delisting(void)
{
    http_user dev, reader;
    fixture_developer(&dev, "Replica Delist Shop");
    fixture_user(&reader);
    char id[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], path[200];
    fixture_adder_tool(&dev, "free", 0, 0, id, slug);
    snprintf(path, sizeof path, "/tools/%s", slug);
    wait_replicated(id);
    for (int i = 0; i < 12; i++) /* every worker knows the tool's id (views are cached from the second read) */
        CHECK_INT(http_status_free(http_get(path, reader.token)), 200);
    replica_delay(1);
    procs_sleep(1.5);
    char tool_path[200];
    snprintf(tool_path, sizeof tool_path, "/tools/%s", id);
    CHECK_INT(http_status_free(http_request("DELETE", tool_path, dev.token, NULL, NULL, 0, NULL)), 204);
    double delisted = procs_now();
    int lagging = 0;
    procs_sleep(0.4); /* after the master's cluster poll moved the tool's counter once more (cluster_poll_ms) */
    for (int i = 0; i < 12; i++) /* the replica still shows it published: workers may cache that */
        lagging += http_status_free(http_get(path, reader.token)) == 200;
    fprintf(stderr, "  right after the delisting, %d of 12 reads found the tool (the replica lags)\n", lagging);
    procs_sleep(3.5 - (procs_now() - delisted));
    int stale = 0;
    for (int i = 0; i < 12; i++)
        stale += http_status_free(http_get(path, reader.token)) == 200;
    fprintf(stderr, "  3.5 s after the delisting, %d of 12 reads still found the tool\n", stale);
    CHECK_INT(stale, 0);
    replica_delay(0);
}

typedef struct {
    const replica_tool *tool;
    http_user reader;
    volatile int *stop;
    long reads, failures;
} read_load;

static void *read_loop(void *arg)
{
    read_load *l = arg;
    for (long i = 0; !*l->stop; i++) {
        http_response *res = http_get(l->tool->paths[i % 3], l->reader.token);
        l->reads++;
        if (res->status != 200) {
            if (l->failures++ < 3)
                http_dump("read under load", res);
        }
        http_response_free(res);
    }
    return NULL;
}

static long read_loads_start(read_load *loads, pthread_t *threads, const replica_tool *t, volatile int *stop)
{
    for (int i = 0; i < READ_THREADS; i++) {
        loads[i] = (read_load){.tool = t, .stop = stop};
        fixture_user(&loads[i].reader);
        pthread_create(&threads[i], NULL, read_loop, &loads[i]);
    }
    return 0;
}

static void read_loads_finish(read_load *loads, pthread_t *threads, long *reads, long *failures)
{
    *reads = *failures = 0;
    for (int i = 0; i < READ_THREADS; i++) {
        pthread_join(threads[i], NULL);
        *reads += loads[i].reads;
        *failures += loads[i].failures;
    }
}

static void test_replica_restart_under_reads(void)
{
    replica_tool t;
    char id[FIXTURE_ID_SIZE];
    replica_tool_make(&t, id);
    volatile int stop = 0;
    read_load loads[READ_THREADS];
    pthread_t threads[READ_THREADS];
    read_loads_start(loads, threads, &t, &stop);
    procs_sleep(1.0);
    g_replica_stopped = 1;
    CHECK_INT(stack_command("replica-stop"), 0);
    procs_sleep(2.0);
    CHECK_INT(stack_command("replica-start"), 0);
    g_replica_stopped = 0;
    procs_sleep(2.5); /* every worker's next check finds it again */
    double back = fixture_metric("marketplace_replica_reads_total");
    procs_sleep(1.5);
    double after = fixture_metric("marketplace_replica_reads_total");
    stop = 1;
    long reads, failures;
    read_loads_finish(loads, threads, &reads, &failures);
    fprintf(stderr, "  %ld reads while the replica stopped and started, %ld failed; %.0f served by it after\n",
            reads, failures, after - back);
    CHECK(reads > 30);
    CHECK_INT(failures, 0);
    CHECK(after - back > 0);
}

typedef struct {
    http_user dev;
    volatile int *stop;
    char acked[MAX_ACKED][FIXTURE_SLUG_SIZE];
    int acked_count;
    long unavailable, unavailable_without_retry_after, other;
    double last_ack;
} write_load;

static void *write_loop(void *arg)
{
    write_load *l = arg;
    while (!*l->stop && l->acked_count < MAX_ACKED) {
        const char *slug = fixture_slug("replica-write");
        char mine[FIXTURE_SLUG_SIZE];
        snprintf(mine, sizeof mine, "%s", slug);
        json_t *body = fixture_adder_draft(mine);
        http_response *res = http_post_json("/tools", l->dev.token, body);
        json_decref(body);
        if (res->status == 201) {
            snprintf(l->acked[l->acked_count++], FIXTURE_SLUG_SIZE, "%s", mine);
            l->last_ack = procs_now();
        } else if (res->status == 503) {
            l->unavailable++;
            if (!http_header(res, "Retry-After"))
                l->unavailable_without_retry_after++;
        } else if (l->other++ < 3) {
            http_dump("write under a primary restart", res);
        }
        http_response_free(res);
        procs_sleep(0.05);
    }
    return NULL;
}

static void test_primary_restart(void)
{
    replica_tool t;
    char id[FIXTURE_ID_SIZE];
    replica_tool_make(&t, id);
    volatile int stop = 0, stop_writes = 0;
    read_load loads[READ_THREADS];
    pthread_t threads[READ_THREADS], writer;
    static write_load w;
    memset(&w, 0, sizeof w);
    w.stop = &stop_writes;
    fixture_developer(&w.dev, "Replica Writer");
    read_loads_start(loads, threads, &t, &stop);
    pthread_create(&writer, NULL, write_loop, &w);
    procs_sleep(1.0);
    g_primary_stopped = 1;
    CHECK_INT(stack_command("db-stop"), 0);
    double stopped_at = procs_now();
    procs_sleep(3.0);
    long unavailable_while_down = w.unavailable;
    CHECK_INT(stack_command("db-start"), 0);
    g_primary_stopped = 0;
    double started_at = procs_now();
    while (w.last_ack < started_at && procs_now() - started_at < 30)
        procs_sleep(0.2);
    double recovered = w.last_ack >= started_at ? w.last_ack - started_at : -1;
    procs_sleep(1.0);
    stop = stop_writes = 1;
    pthread_join(writer, NULL);
    long reads, failures;
    read_loads_finish(loads, threads, &reads, &failures);
    fprintf(stderr, "  primary down %.1f s: %ld reads (%ld failed); %d writes acknowledged, %ld answered 503; writes "
                    "recovered %.1f s after the start\n",
            started_at - stopped_at, reads, failures, w.acked_count, w.unavailable, recovered);
    CHECK(unavailable_while_down > 0);
    CHECK_INT(w.unavailable_without_retry_after, 0);
    CHECK_INT(w.other, 0);
    CHECK(recovered >= 0);
    CHECK(reads > 30);
    CHECK_INT(failures, 0);
    /* every acknowledged write is on the primary */
    int missing = 0;
    for (int i = 0; i < w.acked_count; i++)
        if (fixture_sql_int("SELECT COUNT(*) FROM tools WHERE slug = ?", db_text(w.acked[i])) != 1)
            missing++;
    CHECK_INT(missing, 0);
}

int main(void)
{
    signal(SIGABRT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    signal(SIGINT, on_fatal_signal);
    if (!stack_env("MKT_REPLICA_SOCKET")) {
        fprintf(stderr, "this stack has no replica (scripts/stack start --replica)\n");
        return 2;
    }
    RUN(test_reads_hit_the_replica);
    RUN(test_writer_reads_own_review);
    RUN(test_cached_view_follows_a_delisting);
    RUN(test_replica_restart_under_reads);
    RUN(test_primary_restart);
    restore_stack();
    db_close(g_replica_admin);
    fixture_close();
    return check_finish();
}

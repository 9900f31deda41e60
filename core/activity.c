/* Owns tool_activity, tool_view_days, activity_user_tools and tool_pairs (see core/activity.h). */
#include "core/activity.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/day_count.h"
#include "core/log.h"
#include "core/paging.h"
#include "core/search.h"
#include "core/tool_library.h"
#include "core/tool_record.h"
#include "core/trending.h"

/* ---- configuration ---------------------------------------------------------------------------- */

static struct {
    int64_t weights[3]; /* by activity_kind */
    double half_life_s;
} activity_cfg = {{1, 20, 10}, 72 * 3600.0};

void activity_configure(const config *cfg)
{
    activity_cfg.weights[ACTIVITY_EXECUTION] = cfg->activity_weight_execution;
    activity_cfg.weights[ACTIVITY_PURCHASE] = cfg->activity_weight_purchase;
    activity_cfg.weights[ACTIVITY_REVIEW] = cfg->activity_weight_review;
    activity_cfg.half_life_s = (double)cfg->activity_half_life_hours * 3600.0;
}

/* ---- the trending score ----------------------------------------------------------------------- */

int activity_record_at(db *db, int64_t tool_id, double weight, double at, mkt_error *err)
{
    if (!(weight > 0))
        return 0; /* log2(0): the event adds nothing */
    /* No double parameter type: x travels as its shortest exact text and is CAST back. */
    char x[40], when[40];
    snprintf(x, sizeof x, "%.17g", trending_event_log(weight, at, activity_cfg.half_life_s));
    snprintf(when, sizeof when, "%.6f", at);
    return db_exec(db,
                   "INSERT INTO tool_activity (tool_id, score_log, last_at)"
                   " VALUES (?, CAST(? AS DOUBLE), FROM_UNIXTIME(?))"
                   " ON DUPLICATE KEY UPDATE score_log = " TRENDING_ADD_SQL("score_log", "VALUES(score_log)") ","
                   " last_at = GREATEST(last_at, VALUES(last_at))",
                   DB_PARAMS(db_int(tool_id), db_text(x), db_text(when)), NULL, err);
}

#define ACTIVITY_BULK_MAX 500 /* rows per INSERT of a bulk load */

/* One tool's days (rows[0..n), all of it) into params: its L and newest event time. */
static void activity_bulk_tool(const tool_usage_bulk_day *rows, size_t n, double now, char x[40], char when[40])
{
    double l = TRENDING_EMPTY, newest = 0;
    double weight = (double)activity_cfg.weights[ACTIVITY_EXECUTION];
    for (size_t i = 0; i < n; i++) {
        double at = now - (double)rows[i].days_ago * 86400.0;
        if (rows[i].executions > 0) {
            l = trending_add(l, trending_event_log(weight * (double)rows[i].executions, at, activity_cfg.half_life_s));
            newest = at > newest ? at : newest;
        }
    }
    snprintf(x, 40, "%.17g", l);
    snprintf(when, 40, "%.6f", newest);
}

int activity_bulk_executions(db *db, const tool_usage_bulk_day *rows, size_t n, mkt_error *err)
{
    if (n == 0 || !(activity_cfg.weights[ACTIVITY_EXECUTION] > 0))
        return 0;
    /* the texts the parameters point at, one pair per tool at most */
    char (*text)[2][40] = calloc(n, sizeof *text);
    db_value *params = calloc(3 * n, sizeof *params);
    if (!text || !params) {
        free(text);
        free(params);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    double now = (double)time(NULL);
    size_t tools = 0;
    for (size_t i = 0; i < n;) {
        size_t end = i;
        int any = 0;
        for (; end < n && rows[end].tool_id == rows[i].tool_id; end++)
            any |= rows[end].executions > 0;
        if (any) {
            activity_bulk_tool(rows + i, end - i, now, text[tools][0], text[tools][1]);
            params[3 * tools] = db_int(rows[i].tool_id);
            params[3 * tools + 1] = db_text(text[tools][0]);
            params[3 * tools + 2] = db_text(text[tools][1]);
            tools++;
        }
        i = end;
    }
    int rc = db_exec_row_batches(db, "INSERT INTO tool_activity (tool_id, score_log, last_at) VALUES ",
                                 "(?, CAST(? AS DOUBLE), FROM_UNIXTIME(?))", params, 3, tools, ACTIVITY_BULK_MAX, err);
    free(params);
    free(text);
    return rc;
}

int activity_review_deleted(db *db, int64_t tool_id, double at, mkt_error *err)
{
    double weight = (double)activity_cfg.weights[ACTIVITY_REVIEW];
    if (!(weight > 0))
        return 0; /* it added nothing, so it takes nothing back */
    char x[40];
    snprintf(x, sizeof x, "%.17g", trending_event_log(weight, at, activity_cfg.half_life_s));
    /* -1e300 marks "nothing left" for the DELETE that follows (log2 of 0 has no DOUBLE) */
    if (db_exec(db,
                "UPDATE tool_activity SET score_log = IF(CAST(? AS DOUBLE) >= score_log - 1e-6, -1e300,"
                " score_log + LOG2(1 - POW(2, CAST(? AS DOUBLE) - score_log))) WHERE tool_id = ?",
                DB_PARAMS(db_text(x), db_text(x), db_int(tool_id)), NULL, err) < 0)
        return -1;
    return db_exec(db, "DELETE FROM tool_activity WHERE tool_id = ? AND score_log <= -1e300", DB_PARAMS(db_int(tool_id)),
                   NULL, err);
}

static double activity_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int activity_record(db *db, int64_t tool_id, activity_kind kind, int64_t count, mkt_error *err)
{
    if (count <= 0)
        return 0;
    return activity_record_at(db, tool_id, (double)activity_cfg.weights[kind] * (double)count, activity_now(), err);
}

/* ---- whose tools: activity_user_tools and tool_pairs ------------------------------------------- */

/* Pairs tool_id with the user's most recent other tools, both directions, in ONE statement whose rows
 * are written in key order: two users pairing the same two tools at once (each completing a purchase
 * of the tool the other already has) then lock the pair rows in the same order instead of (A,B) then
 * (B,A) against (B,A) then (A,B), which deadlocked inside the purchase's transaction. */
static int activity_pair(db *db, int64_t user_id, int64_t tool_id, mkt_error *err)
{
#define ACTIVITY_RECENT_OTHERS                                                                                \
    " FROM (SELECT tool_id FROM activity_user_tools WHERE user_id = ? AND tool_id <> ?"                       \
    " ORDER BY first_at DESC, tool_id DESC LIMIT 50) u"
    _Static_assert(ACTIVITY_PAIR_RECENT == 50, "ACTIVITY_RECENT_OTHERS says 50");
    const db_value params[] = {db_int(tool_id), db_int(user_id), db_int(tool_id),
                               db_int(tool_id), db_int(user_id), db_int(tool_id)};
    return db_exec(db,
                   "INSERT INTO tool_pairs (tool_id, other_id, together) SELECT p.a, p.b, 1 FROM"
                   " (SELECT ? AS a, u.tool_id AS b" ACTIVITY_RECENT_OTHERS
                   " UNION ALL SELECT u.tool_id, ?" ACTIVITY_RECENT_OTHERS ") p"
                   " ORDER BY p.a, p.b ON DUPLICATE KEY UPDATE together = together + 1",
                   params, 6, NULL, err);
#undef ACTIVITY_RECENT_OTHERS
}

int activity_user_tool(db *db, int64_t user_id, int64_t tool_id, mkt_error *err)
{
    db_result res = {0};
    if (db_exec(db, "INSERT IGNORE INTO activity_user_tools (user_id, tool_id, first_at) VALUES (?, ?, UTC_TIMESTAMP(6))",
                DB_PARAMS(db_int(user_id), db_int(tool_id)), &res, err) < 0)
        return -1;
    if (res.affected_rows == 0)
        return 0; /* theirs already: paired when it first was */
    return activity_pair(db, user_id, tool_id, err);
}

int activity_purchase(db *db, int64_t user_id, int64_t tool_id, mkt_error *err)
{
    if (activity_record(db, tool_id, ACTIVITY_PURCHASE, 1, err) < 0)
        return -1;
    return activity_user_tool(db, user_id, tool_id, err);
}

typedef struct {
    int64_t user_id, tool_id;
} activity_pair_key;

/* Has this worker recorded (user, tool) already? Rows of activity_user_tools are never removed
 * while both exist, so a remembered pair needs no statement; a forgotten one costs a no-op insert. */
static int activity_pair_known(const activity_pair_key *k, int remember)
{
    static activity_pair_key seen[512];
    size_t slot = ((uint64_t)k->tool_id * 0x9E3779B97F4A7C15u ^ (uint64_t)k->user_id) % (sizeof seen / sizeof seen[0]);
    if (remember) {
        seen[slot] = *k;
        return 1;
    }
    return seen[slot].tool_id == k->tool_id && seen[slot].user_id == k->user_id;
}

static int activity_user_tool_tx(db *db, void *arg, mkt_error *err)
{
    const activity_pair_key *k = arg;
    return activity_user_tool(db, k->user_id, k->tool_id, err);
}

void activity_user_tool_run(db *db, int64_t user_id, int64_t tool_id)
{
    activity_pair_key k = {user_id, tool_id};
    if (user_id <= 0 || activity_pair_known(&k, 0))
        return;
    mkt_error err = MKT_ERROR_INIT;
    if (db_transaction(db, activity_user_tool_tx, &k, &err) < 0)
        log_warn("tool %" PRId64 ": use by user %" PRId64 " not recorded: %s", tool_id, user_id,
                 err.message ? err.message : "?");
    else
        activity_pair_known(&k, 1);
    error_clear(&err);
}

/* ---- views ------------------------------------------------------------------------------------ */

static int activity_write_views(db *db, int64_t tool_id, const char *day, int64_t views, mkt_error *err)
{
    return db_exec(db,
                   "INSERT INTO tool_view_days (tool_id, day, views) VALUES (?, ?, ?)"
                   " ON DUPLICATE KEY UPDATE views = views + VALUES(views)",
                   DB_PARAMS(db_int(tool_id), db_text(day), db_int(views)), NULL, err);
}

static day_count activity_views = {.what = "views", .write = activity_write_views, .flush_ms = ACTIVITY_FLUSH_MS};

int activity_flush_views(db *db)
{
    return day_count_flush(&activity_views, db);
}

void activity_count_view(db *db, int64_t tool_id)
{
    day_count_add(&activity_views, db, tool_id);
}

static void activity_master_load(const config *cfg)
{
    activity_configure(cfg);
}

static void activity_flush_hook(service_worker *sw)
{
    day_count_flush_hook(&activity_views, sw);
}

static void activity_due_hook(service_worker *sw)
{
    day_count_due_hook(&activity_views, sw);
}

const service_hooks activity_service = {.name = "activity",
                                        .master_load = activity_master_load,
                                        .worker_idle = activity_flush_hook,
                                        .worker_after_request = activity_due_hook,
                                        .worker_exit = activity_flush_hook};

/* ---- lists ------------------------------------------------------------------------------------ */

/* The summaries of rows (TOOL_RECORD_SUMMARY_COLUMNS first), with the extra column `extra` (at
 * TOOL_RECORD_SUMMARY_COLUMN_COUNT, an integer) as member extra_name when that is not NULL. */
static json_t *activity_items(const db_rows *rows, const char *extra_name, mkt_error *err)
{
    json_t *items = json_array();
    for (size_t i = 0; items && i < rows->row_count; i++) {
        json_t *item = tool_record_summary_json(rows, i);
        if (item && extra_name &&
            json_object_set_new(item, extra_name,
                                json_integer((json_int_t)db_rows_int(rows, i, TOOL_RECORD_SUMMARY_COLUMN_COUNT))) < 0) {
            json_decref(item);
            item = NULL;
        }
        if (!item || json_array_append_new(items, item) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    if (!items)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return items;
}

static int activity_window_parse(const char *text, int64_t *days, mkt_error *err)
{
    *days = ACTIVITY_WINDOW_DEFAULT;
    if (!text)
        return 0;
    int64_t v = 0;
    size_t n = strlen(text);
    for (size_t i = 0; i < n && n <= 2; i++) {
        if (text[i] < '0' || text[i] > '9' || (i == 0 && text[i] == '0' && n > 1)) {
            n = 0;
            break;
        }
        v = v * 10 + (text[i] - '0');
    }
    if (n == 0 || n > 2 || v < 1 || v > ACTIVITY_WINDOW_MAX) {
        error_set(err, ERROR_VALIDATION, "window_days is not a number of days from 1 to %d", ACTIVITY_WINDOW_MAX);
        return error_add_field(err, "window_days", "must be a whole number of days from 1 to %d", ACTIVITY_WINDOW_MAX);
    }
    *days = v;
    return 0;
}

static int activity_category_check(db *db, const char *category, mkt_error *err)
{
    int found = tool_library_category_exists(db, category, err);
    if (found != 0)
        return found > 0 ? 0 : -1;
    error_set(err, ERROR_VALIDATION, "unknown category");
    return error_add_field(err, "category", "unknown category (see GET /categories)");
}

/* The trending list without a category walks tool_activity's score index from the top (STRAIGHT_JOIN:
 * the tools row is only a check per candidate) and stops at the page's end; its total is the index
 * range of the window minus the few tools in it that are no longer published (found from the tools
 * status index), so neither reads every tool. With a category the optimizer starts from that
 * category's tools. Either way only the page's ids are ordered, and the summaries are read for them
 * alone (measured on 100,000 tools with activity: 4-8 s for the one-join version, tens of ms now). */
#define ACTIVITY_WINDOW_SQL "a.last_at > UTC_TIMESTAMP(6) - INTERVAL ? DAY"
#define ACTIVITY_PAGE_SQL(join, filter)                                                                     \
    "SELECT " TOOL_RECORD_SUMMARY_COLUMNS " FROM (SELECT a.tool_id, a.score_log FROM tool_activity a " join  \
    " tools t ON t.id = a.tool_id WHERE t.status = 'published' AND " ACTIVITY_WINDOW_SQL filter            \
    " ORDER BY a.score_log DESC, a.tool_id DESC LIMIT ? OFFSET ?) p"                                        \
    " JOIN tools t ON t.id = p.tool_id " TOOL_RECORD_TOTALS_JOIN("g")                                       \
    " ORDER BY p.score_log DESC, p.tool_id DESC"

static int activity_count(db *db, const char *sql, const db_value *params, size_t n, int64_t *out, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, sql, params, n, &rows, err) < 0)
        return -1;
    *out = rows.row_count ? db_rows_int(&rows, 0, 0) : 0;
    db_rows_free(&rows);
    return 0;
}

static int activity_trending_total(db *db, int64_t days, const char *category, int64_t *total, mkt_error *err)
{
    if (category)
        return activity_count(db,
                              "SELECT COUNT(*) FROM tool_activity a JOIN tools t ON t.id = a.tool_id"
                              " WHERE t.status = 'published' AND t.category = ? AND " ACTIVITY_WINDOW_SQL,
                              DB_PARAMS(db_text(category), db_int(days)), total, err);
    int64_t all, unlisted;
    if (activity_count(db, "SELECT COUNT(*) FROM tool_activity a WHERE " ACTIVITY_WINDOW_SQL, DB_PARAMS(db_int(days)),
                       &all, err) < 0 ||
        activity_count(db,
                       "SELECT COUNT(*) FROM tools t JOIN tool_activity a ON a.tool_id = t.id"
                       " WHERE t.status IN ('draft', 'delisted') AND " ACTIVITY_WINDOW_SQL,
                       DB_PARAMS(db_int(days)), &unlisted, err) < 0)
        return -1;
    *total = all - unlisted;
    return 0;
}

/* {items, total, page, per_page} as text ending with a newline (json_dumps' bytes for the same
 * document): the items are the index's page, whose kept summaries are copied as text
 * (search_summaries_write), or, from SQL, the array items. NULL with err. */
static char *activity_page_text(db *db, const search_page *found, const json_t *items, int64_t total, int64_t page,
                                int64_t per_page, mkt_error *err)
{
    json_text b = {0};
    json_text_lit(&b, "{\"items\":");
    if (!found)
        json_text_value(&b, items);
    else if (search_summaries_write(db, found, &b, err) < 0) {
        free(b.data);
        return NULL;
    }
    paging_text_counts(&b, total, page, per_page);
    json_text_lit(&b, "}\n");
    return json_text_finish_answer(&b, NULL, err);
}

/* The trending page from the worker's search index (none yet: 0, SQL answers). */
static int activity_trending_memory(db *db, const config *cfg, int64_t days, const char *category, int64_t page,
                                    int64_t per_page, char **out, mkt_error *err)
{
    search_page found;
    int rc = search_trending(db, cfg, days, category, page, per_page, &found, err);
    if (rc <= 0)
        return rc;
    *out = activity_page_text(db, &found, NULL, found.total, page, per_page, err);
    search_page_free(&found);
    return *out ? 1 : -1;
}

char *activity_trending(db *db, const config *cfg, const char *window_days, const char *category, int64_t page,
                        int64_t per_page, mkt_error *err)
{
    int64_t days, total;
    if (category && !*category)
        category = NULL;
    if (paging_check(page, per_page, err) < 0 || activity_window_parse(window_days, &days, err) < 0 ||
        (category && activity_category_check(db, category, err) < 0))
        return NULL;
    char *listed = NULL;
    int memory = activity_trending_memory(db, cfg, days, category, page, per_page, &listed, err);
    if (memory != 0)
        return memory > 0 ? listed : NULL;
    if (activity_trending_total(db, days, category, &total, err) < 0)
        return NULL;
    db_rows rows = {0};
    int64_t offset = paging_offset(page, per_page);
    int rc = category ? db_query(db, ACTIVITY_PAGE_SQL("JOIN", " AND t.category = ?"),
                                 DB_PARAMS(db_int(days), db_text(category), db_int(per_page), db_int(offset)), &rows,
                                 err)
                      : db_query(db, ACTIVITY_PAGE_SQL("STRAIGHT_JOIN", ""),
                                 DB_PARAMS(db_int(days), db_int(per_page), db_int(offset)), &rows, err);
    if (rc < 0)
        return NULL;
    json_t *items = activity_items(&rows, NULL, err);
    db_rows_free(&rows);
    char *text = items ? activity_page_text(db, NULL, items, total, page, per_page, err) : NULL;
    json_decref(items);
    return text;
}

/* What a signed-in caller already has or made is never recommended; anonymous callers pass 0s,
 * which match no user and no developer. */
#define ACTIVITY_NOT_THEIRS                                                                                  \
    " AND t.developer_id <> ? AND NOT EXISTS (SELECT 1 FROM activity_user_tools h"                         \
    " WHERE h.user_id = ? AND h.tool_id = t.id)"

#define ACTIVITY_QUALITY_ORDER TOOL_RECORD_BAYESIAN_SQL("t", "g") " DESC, t.downloads DESC, t.id DESC"

/* ---- similar tools: bounded candidates --------------------------------------------------------

 * Ranking every tool that shares a popular tag reads a large share of the catalogue (on 100,000
 * tools: 0.6-0.8 s for one tool's list, 3-4 s for a user's). So the candidates are, per tag, the
 * ACTIVITY_TAG_CANDIDATES newest tools carrying it (and, for a tool's list, as many of its
 * category's newest published tools): exact while a tag has fewer tools, bounded work after. The
 * SQL is built from constant pieces and a count, like db_exec_rows; values are only bound. */
#define ACTIVITY_TAG_CANDIDATES 1000
#define ACTIVITY_TAGS_MAX 10 /* a tool has at most 10 tags; a user's list uses their 10 most common */

typedef struct {
    char tags[ACTIVITY_TAGS_MAX][40];
    int64_t weights[ACTIVITY_TAGS_MAX]; /* how many of the user's tools carry it (1 for a tool's own) */
    size_t count;
    char category[40]; /* "" for none */
} activity_basis;

static const char activity_tag_part[] =
    "(SELECT tool_id, CAST(? AS SIGNED) AS w, 0 AS c FROM tool_tags WHERE tag = ?"
    " ORDER BY tool_id DESC LIMIT 1000)";
static const char activity_category_part[] =
    "(SELECT id AS tool_id, 0 AS w, 1 AS c FROM tools WHERE category = ? AND status = 'published'"
    " ORDER BY id DESC LIMIT 1000)";
static const char activity_ranked_head[] =
    "SELECT " TOOL_RECORD_SUMMARY_COLUMNS ", m.shared FROM (SELECT x.tool_id, SUM(x.w) AS shared,"
    " MAX(x.c) AS same_category FROM (";
static const char activity_ranked_tail[] =
    ") x GROUP BY x.tool_id) m JOIN tools t ON t.id = m.tool_id " TOOL_RECORD_TOTALS_JOIN("g")
    " WHERE t.status = 'published' AND t.id <> ?" ACTIVITY_NOT_THEIRS
    " ORDER BY m.shared DESC, m.same_category DESC, " ACTIVITY_QUALITY_ORDER " LIMIT 10";
_Static_assert(ACTIVITY_LIST_MAX == 10 && ACTIVITY_TAG_CANDIDATES == 1000, "the SQL pieces say 10 and 1000");

/* The ranked list for basis b: shared = the sum of the weights of the tags a candidate carries. */
static json_t *activity_ranked(db *db, const activity_basis *b, int64_t self_id, int64_t user_id, int64_t developer_id,
                               mkt_error *err)
{
    size_t parts = b->count + (b->category[0] ? 1 : 0);
    if (parts == 0) {
        json_t *empty = json_array();
        if (!empty)
            error_set(err, ERROR_INTERNAL, "out of memory");
        return empty;
    }
    size_t size = sizeof activity_ranked_head + sizeof activity_ranked_tail +
                  parts * (sizeof activity_tag_part + sizeof activity_category_part + sizeof " UNION ALL ");
    char *sql = malloc(size);
    db_value params[2 * ACTIVITY_TAGS_MAX + 6];
    size_t n = 0;
    if (!sql) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    strcpy(sql, activity_ranked_head);
    for (size_t i = 0; i < b->count; i++) {
        strcat(sql, i ? " UNION ALL " : "");
        strcat(sql, activity_tag_part);
        params[n++] = db_int(b->weights[i]);
        params[n++] = db_text(b->tags[i]);
    }
    if (b->category[0]) {
        strcat(sql, b->count ? " UNION ALL " : "");
        strcat(sql, activity_category_part);
        params[n++] = db_text(b->category);
    }
    strcat(sql, activity_ranked_tail);
    int64_t m = tool_record_prior_weight();
    params[n++] = db_int(self_id);
    params[n++] = db_int(developer_id);
    params[n++] = db_int(user_id);
    params[n++] = db_int(m);
    params[n++] = db_int(m);
    db_rows rows = {0};
    int rc = db_query(db, sql, params, n, &rows, err);
    free(sql);
    if (rc < 0)
        return NULL;
    json_t *items = activity_items(&rows, "shared_tags", err);
    db_rows_free(&rows);
    return items;
}

/* Fills b from rows of (tag, weight[, category]) — tag NULL when the tool has none. */
static void activity_basis_fill(activity_basis *b, const db_rows *rows, int with_category)
{
    memset(b, 0, sizeof *b);
    for (size_t i = 0; i < rows->row_count; i++) {
        const char *tag = db_rows_text(rows, i, 0);
        if (with_category && i == 0)
            snprintf(b->category, sizeof b->category, "%s", db_rows_text(rows, 0, 2));
        if (tag && b->count < ACTIVITY_TAGS_MAX) {
            snprintf(b->tags[b->count], sizeof b->tags[0], "%s", tag);
            b->weights[b->count++] = db_rows_int(rows, i, 1);
        }
    }
}

static json_t *activity_similar(db *db, int64_t tool_id, int64_t user_id, int64_t developer_id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT g.tag, 1, t.category FROM tools t LEFT JOIN tool_tags g ON g.tool_id = t.id"
                 " WHERE t.id = ? ORDER BY g.tag",
                 DB_PARAMS(db_int(tool_id)), &rows, err) < 0)
        return NULL;
    activity_basis b;
    activity_basis_fill(&b, &rows, 1);
    db_rows_free(&rows);
    return activity_ranked(db, &b, tool_id, user_id, developer_id, err);
}

static json_t *activity_bought_together(db *db, int64_t tool_id, int64_t user_id, int64_t developer_id,
                                        mkt_error *err)
{
    static const char sql[] =
        "SELECT " TOOL_RECORD_SUMMARY_COLUMNS ", p.together"
        " FROM tool_pairs p JOIN tools t ON t.id = p.other_id " TOOL_RECORD_TOTALS_JOIN("g")
        " WHERE p.tool_id = ? AND t.status = 'published'" ACTIVITY_NOT_THEIRS
        " ORDER BY p.together DESC, " ACTIVITY_QUALITY_ORDER " LIMIT 10";
    int64_t m = tool_record_prior_weight();
    db_rows rows = {0};
    if (db_query(db, sql, DB_PARAMS(db_int(tool_id), db_int(developer_id), db_int(user_id), db_int(m), db_int(m)),
                 &rows, err) < 0)
        return NULL;
    json_t *items = activity_items(&rows, "together", err);
    db_rows_free(&rows);
    return items;
}

json_t *activity_recommendations(db *db, const account_caller *caller, const char *ref, mkt_error *err)
{
    tool_record_glance g;
    if (tool_record_glance_find(db, ref, caller, &g, err) < 0)
        return NULL;
    int64_t user_id = caller ? caller->user_id : 0, developer_id = caller ? caller->developer_id : 0;
    json_t *similar = activity_similar(db, g.id, user_id, developer_id, err);
    json_t *together = similar ? activity_bought_together(db, g.id, user_id, developer_id, err) : NULL;
    if (!together) {
        json_decref(similar);
        return NULL;
    }
    json_t *out = json_pack("{s:o, s:o}", "similar", similar, "bought_together", together);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

json_t *activity_me_recommendations(db *db, const account_caller *caller, mkt_error *err)
{
    /* the tags of the caller's recent tools, the most common first: each weighs as many tools */
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT a.tag, COUNT(*) FROM (SELECT tool_id FROM activity_user_tools WHERE user_id = ?"
                 " ORDER BY first_at DESC, tool_id DESC LIMIT 50) u JOIN tool_tags a ON a.tool_id = u.tool_id"
                 " GROUP BY a.tag ORDER BY COUNT(*) DESC, a.tag LIMIT 10",
                 DB_PARAMS(db_int(caller->user_id)), &rows, err) < 0)
        return NULL;
    activity_basis b;
    activity_basis_fill(&b, &rows, 0);
    db_rows_free(&rows);
    json_t *items = activity_ranked(db, &b, 0, caller->user_id, caller->developer_id, err);
    json_t *out = items ? json_pack("{s:o}", "items", items) : NULL;
    if (items && !out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

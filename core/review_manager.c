/* Owns reviews, review_votes, review_responses and review_reports (see core/review_manager.h): every statement on
 * those tables is here. */
#include "core/review_manager.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/account_rules.h"
#include "core/body.h"
#include "core/hook_system.h"
#include "core/ident.h"
#include "core/paging.h"
#include "core/activity.h"
#include "core/rate_limit.h"
#include "core/tool_access.h"
#include "core/tool_record.h"
#include "core/tool_usage.h"
#include "core/wilson.h"

#define REVIEW_TIME(column) "DATE_FORMAT(" column ", '%Y-%m-%dT%H:%i:%sZ')"

/* ---- input -------------------------------------------------------------------------------------- */

/* The text rules of reviews (code points; control characters refused, line breaks and tabs only in
 * the content), checked by the same code as every other free text of the API. */
static const account_rules_text_rule review_title_rule = {1, REVIEW_TITLE_MAX, 1, 0, 0};
static const account_rules_text_rule review_content_rule = {1, REVIEW_CONTENT_MAX, 1, 1, 0};

/* rating: a JSON integer 1-5 (3.5, "5", true are refused, not rounded or converted). 0 when absent. */
static int review_read_rating(const json_t *body, int required, mkt_error *err)
{
    json_t *v = json_object_get(body, "rating");
    if (!v) {
        if (required)
            error_add_field(err, "rating", "is required");
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 5) {
        error_add_field(err, "rating", "must be an integer from 1 to 5");
        return 0;
    }
    return (int)json_integer_value(v);
}

typedef struct {
    int64_t tool_id;
    int rating; /* 0: unchanged (updates) */
    const char *title, *content;
} review_input;

static int review_read_body(const json_t *body, int creating, review_input *in, mkt_error *err)
{
    memset(in, 0, sizeof *in);
    if (!json_is_object(body))
        return error_set(err, ERROR_VALIDATION, "the body must be a JSON object");
    static const char *const create_fields[] = {"tool_id", "rating", "title", "content", NULL};
    static const char *const update_fields[] = {"rating", "title", "content", NULL};
    body_unknown_fields(body, creating ? create_fields : update_fields, err);
    const char *tool_id_problem =
        creating ? tool_record_id_problem(json_object_get(body, "tool_id"), &in->tool_id) : NULL;
    if (tool_id_problem)
        error_add_field(err, "tool_id", "%s", tool_id_problem);
    in->rating = review_read_rating(body, creating, err);
    in->title = account_rules_read_text(body, "title", &review_title_rule, creating, err);
    in->content = account_rules_read_text(body, "content", &review_content_rule, creating, err);
    if (error_is_set(err))
        return error_set(err, ERROR_VALIDATION, "invalid review");
    if (!creating && !in->rating && !in->title && !in->content)
        return error_set(err, ERROR_VALIDATION, "nothing to change: send rating, title or content");
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------------ */

#define REVIEW_COLUMNS                                                                                        \
    "SELECT r.id, r.tool_id, r.user_id, u.display_name, r.rating, r.title, r.content, r.verified_purchase," \
    " r.helpful_count, r.unhelpful_count, r.status, " REVIEW_TIME("r.created_at") ", "                        \
    REVIEW_TIME("r.updated_at") ", rr.content, " REVIEW_TIME("rr.created_at") ", " REVIEW_TIME("rr.updated_at")
#define REVIEW_JOINS " JOIN users u ON u.id = r.user_id LEFT JOIN review_responses rr ON rr.review_id = r.id"
#define REVIEW_SELECT REVIEW_COLUMNS " FROM reviews r" REVIEW_JOINS

/* One page of a tool's visible reviews in ORDER (over alias r); parameters tool_id, limit, offset.
 * The first page selects its rows directly. A later page is a deferred join: the subquery picks the
 * page's ids from an index and only those rows are read and joined, because selecting the rows
 * directly made MariaDB read and join every row skipped for the OFFSET (page 200 of 20: 4,000 rows
 * and their authors for 20 answers). With nothing to skip, the deferred join's temporary table only
 * costs (page 1: 0.35 -> 0.63 ms a statement); its outer ORDER BY sorts the page again because a
 * join keeps no order. */
#define REVIEW_FIRST_PAGE(order) \
    REVIEW_SELECT " WHERE r.tool_id = ? AND r.status = 'visible' ORDER BY " order " LIMIT ? OFFSET ?"
#define REVIEW_LATER_PAGE(order)                                                                         \
    REVIEW_COLUMNS " FROM (SELECT r.id FROM reviews r WHERE r.tool_id = ? AND r.status = 'visible' ORDER BY " \
    order " LIMIT ? OFFSET ?) page JOIN reviews r ON r.id = page.id" REVIEW_JOINS " ORDER BY " order
#define REVIEW_PAGES(order) REVIEW_FIRST_PAGE(order), REVIEW_LATER_PAGE(order)

enum {
    RCOL_ID, RCOL_TOOL, RCOL_USER, RCOL_AUTHOR, RCOL_RATING, RCOL_TITLE, RCOL_CONTENT, RCOL_VERIFIED,
    RCOL_HELPFUL, RCOL_UNHELPFUL, RCOL_STATUS, RCOL_CREATED, RCOL_UPDATED, RCOL_REPLY, RCOL_REPLY_CREATED,
    RCOL_REPLY_UPDATED
};

static json_t *review_row_json(const db_rows *rows, size_t i)
{
    json_t *response = json_null();
    if (!db_rows_is_null(rows, i, RCOL_REPLY))
        response = json_pack("{s:s, s:s, s:s}", "content", db_rows_text(rows, i, RCOL_REPLY), "created_at",
                             db_rows_text(rows, i, RCOL_REPLY_CREATED), "updated_at",
                             db_rows_text(rows, i, RCOL_REPLY_UPDATED));
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:I, s:s, s:s, s:b, s:I, s:I, s:s, s:s, s:s, s:o*}", "id",
                     db_rows_text(rows, i, RCOL_ID), "tool_id", db_rows_text(rows, i, RCOL_TOOL), "author", "id",
                     db_rows_text(rows, i, RCOL_USER), "display_name", db_rows_text(rows, i, RCOL_AUTHOR), "rating",
                     (json_int_t)db_rows_int(rows, i, RCOL_RATING), "title", db_rows_text(rows, i, RCOL_TITLE),
                     "content", db_rows_text(rows, i, RCOL_CONTENT), "verified_purchase",
                     (int)db_rows_int(rows, i, RCOL_VERIFIED), "helpful_count",
                     (json_int_t)db_rows_int(rows, i, RCOL_HELPFUL), "unhelpful_count",
                     (json_int_t)db_rows_int(rows, i, RCOL_UNHELPFUL), "status", db_rows_text(rows, i, RCOL_STATUS),
                     "created_at", db_rows_text(rows, i, RCOL_CREATED), "updated_at",
                     db_rows_text(rows, i, RCOL_UPDATED), "response", response);
}

static json_t *review_get_json(db *db, int64_t id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, REVIEW_SELECT " WHERE r.id = ?", DB_PARAMS(db_int(id)), &rows, err) < 0)
        return NULL;
    json_t *out = NULL;
    if (rows.row_count == 0)
        error_set(err, ERROR_NOT_FOUND, "no review %" PRId64, id);
    else if (!(out = review_row_json(&rows, 0)))
        error_set(err, ERROR_INTERNAL, "out of memory");
    db_rows_free(&rows);
    return out;
}

/* The facts of one review that every change checks. */
typedef struct {
    int64_t id, tool_id, user_id;
    int rating;
    char status[16];
    double created_at; /* Unix seconds */
} review_head;

/* Reads review id (locked FOR UPDATE when lock is set, inside the caller's transaction). 404 when it
 * does not exist or is removed. */
static int review_head_read(db *db, int64_t id, int lock, review_head *out, mkt_error *err)
{
    enum { HCOL_TOOL, HCOL_USER, HCOL_RATING, HCOL_STATUS, HCOL_CREATED };
#define REVIEW_HEAD_SQL "SELECT tool_id, user_id, rating, status, UNIX_TIMESTAMP(created_at) FROM reviews WHERE id = ?"
    db_rows rows = {0};
    int rc = lock ? db_query(db, REVIEW_HEAD_SQL " FOR UPDATE", DB_PARAMS(db_int(id)), &rows, err)
                  : db_query(db, REVIEW_HEAD_SQL, DB_PARAMS(db_int(id)), &rows, err);
#undef REVIEW_HEAD_SQL
    if (rc < 0)
        return -1;
    if (rows.row_count == 0 || strcmp(db_rows_text(&rows, 0, HCOL_STATUS), "removed") == 0) {
        db_rows_free(&rows);
        return error_set(err, ERROR_NOT_FOUND, "no review %" PRId64, id);
    }
    out->id = id;
    out->tool_id = db_rows_int(&rows, 0, HCOL_TOOL);
    out->user_id = db_rows_int(&rows, 0, HCOL_USER);
    out->rating = (int)db_rows_int(&rows, 0, HCOL_RATING);
    snprintf(out->status, sizeof out->status, "%s", db_rows_text(&rows, 0, HCOL_STATUS));
    const char *created = db_rows_text(&rows, 0, HCOL_CREATED);
    out->created_at = created ? strtod(created, NULL) : 0;
    db_rows_free(&rows);
    return 0;
}

static int review_parse_id(const char *text, int64_t *id, mkt_error *err)
{
    if (ident_id_parse(text, id) < 0)
        return error_set(err, ERROR_NOT_FOUND, "no such review");
    return 0;
}

/* The tool of a review (its id, developer, status) with the visibility rule of tools: 404 when the
 * caller may not see it. A glance, not the whole tool: the checks here need no code or texts. */
static int review_tool_glance(db *db, int64_t tool_id, const account_caller *caller, tool_record_glance *out,
                              mkt_error *err)
{
    char ref[24];
    snprintf(ref, sizeof ref, "%" PRId64, tool_id);
    return tool_record_glance_find(db, ref, caller, out, err);
}

/* A review the caller may see: it exists, is not removed, and its tool is visible to them. */
static int review_head_visible(db *db, const account_caller *caller, const char *id_text, review_head *out,
                               mkt_error *err)
{
    int64_t id;
    if (review_parse_id(id_text, &id, err) < 0 || review_head_read(db, id, 0, out, err) < 0)
        return -1;
    tool_record_glance g;
    return review_tool_glance(db, out->tool_id, caller, &g, err);
}

/* Bought (any tool_access row) or used (core/tool_usage) the tool: 1, 0, -1 on a database error. */
static int review_verified(db *db, int64_t tool_id, int64_t user_id, mkt_error *err)
{
    int bought = tool_access_holds(db, user_id, tool_id, TOOL_ACCESS_EVER, err);
    if (bought != 0)
        return bought;
    return tool_usage_has_used(db, tool_id, user_id, err);
}

/* ---- create ------------------------------------------------------------------------------------- */

typedef struct {
    const account_caller *caller;
    const review_input *in;
    int verified;
    int64_t id;
    rate_limit_rule limit;
} review_create_ctx;

static int review_create_tx(db *db, void *arg, mkt_error *err)
{
    review_create_ctx *ctx = arg;
    const review_input *in = ctx->in;
    /* the rate limit first: it serialises this user's creations and records this one, rolled back
     * with the review when the insert fails */
    if (rate_limit_take(db, ctx->caller->user_id, &ctx->limit, err) < 0)
        return -1;
    /* the counters next: this takes the tool row's lock, so creates on one tool queue here */
    if (tool_record_rating_move(db, in->tool_id, 0, in->rating, err) < 0)
        return -1;
    db_result r;
    if (db_exec(db,
                "INSERT INTO reviews (tool_id, user_id, rating, title, content, verified_purchase)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                DB_PARAMS(db_int(in->tool_id), db_int(ctx->caller->user_id), db_int(in->rating), db_text(in->title),
                          db_text(in->content), db_int(ctx->verified)),
                &r, err) < 0) {
        if (db_last_errno(db) != DB_ER_DUP_ENTRY)
            return -1;
        /* the unique key (tool_id, user_id) decides, so two concurrent creates cannot both win */
        error_clear(err);
        error_set(err, ERROR_CONFLICT, "you have reviewed this tool already: edit that review instead");
        error_add_field(err, "tool_id", "already reviewed by you");
        return -1;
    }
    ctx->id = (int64_t)r.insert_id;
    /* a review is activity: the trending score moves with it, in its transaction */
    return activity_record(db, in->tool_id, ACTIVITY_REVIEW, 1, err);
}

/* The tool's review:beforeCreate chain (core/hook_system) over {rating, title, content}, the tool's id
 * in the hooks' context; the review rules apply again to what the chain returns, and in then points
 * into *filtered (the caller frees it). A hook rejects a review by raising an error: 422 with its
 * message. Nothing to do (and no query) for a tool without plugins. */
static int review_filter(db *db, const config *cfg, const tool_record_glance *g, const json_t *body,
                         review_input *in, json_t **filtered, mkt_error *err)
{
    *filtered = NULL;
    if (g->plugins_version == 0)
        return 0;
    tool_check_budget budget;
    tool_check_budget_start(&budget, cfg);
    json_t *value = json_pack("{s:I, s:s, s:s}", "rating", (json_int_t)in->rating, "title", in->title, "content",
                              in->content);
    json_t *context = json_pack("{s:O}", "tool_id", json_object_get(body, "tool_id"));
    json_t *out = value && context ? hook_system_run_chain(db, cfg, g->id, g->plugins_version,
                                                           PLUGIN_HOOK_REVIEW_BEFORE_CREATE, value, context, &budget,
                                                           NULL, err)
                                   : NULL;
    json_decref(value);
    json_decref(context);
    if (!out)
        return error_is_set(err) ? -1 : error_set(err, ERROR_INTERNAL, "out of memory");
    *filtered = out;
    if (!json_is_object(out)) {
        error_set(err, ERROR_VALIDATION, "the review plugins did not return a review object");
        return error_add_field(err, "plugins", "review:beforeCreate must return {rating, title, content}");
    }
    /* the tool is not the plugins' to change */
    if (json_object_set(out, "tool_id", json_object_get(body, "tool_id")) < 0)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    return review_read_body(out, 1, in, err);
}

json_t *review_create(db *db, const config *cfg, const account_caller *caller, const json_t *body, mkt_error *err)
{
    review_input in;
    if (review_read_body(body, 1, &in, err) < 0)
        return NULL;
    tool_record_glance g;
    if (review_tool_glance(db, in.tool_id, caller, &g, err) < 0)
        return NULL;
    if (tool_record_glance_owned(&g, caller)) {
        error_set(err, ERROR_FORBIDDEN, "you cannot review your own tool");
        return NULL;
    }
    json_t *filtered;
    review_create_ctx ctx = {.caller = caller, .in = &in,
                             .limit = {"review.create", cfg->review_rate_limit, 3600, "reviews"}};
    json_t *out = NULL;
    if (review_filter(db, cfg, &g, body, &in, &filtered, err) == 0 &&
        (ctx.verified = review_verified(db, in.tool_id, caller->user_id, err)) >= 0 &&
        db_transaction(db, review_create_tx, &ctx, err) == 0)
        out = review_get_json(db, ctx.id, err);
    json_decref(filtered);
    return out;
}

/* ---- update and delete -------------------------------------------------------------------------- */

typedef struct {
    const account_caller *caller;
    int64_t id;
    const review_input *in; /* NULL: delete */
    int verified;
} review_change_ctx;

static int review_change_tx(db *db, void *arg, mkt_error *err)
{
    review_change_ctx *ctx = arg;
    review_head h;
    if (review_head_read(db, ctx->id, 1, &h, err) < 0)
        return -1;
    if (h.user_id != ctx->caller->user_id)
        return error_set(err, ERROR_FORBIDDEN, "only the review's author may change it");
    if (!ctx->in && strcmp(h.status, "hidden") == 0)
        return error_set(err, ERROR_CONFLICT, "the review is hidden until a moderator decides; it cannot be deleted now");
    int new_rating = ctx->in ? (ctx->in->rating ? ctx->in->rating : h.rating) : 0;
    /* the counters count visible reviews only; the list shows the new text even when they stay */
    if (strcmp(h.status, "visible") == 0 &&
        (new_rating != h.rating ? tool_record_rating_move(db, h.tool_id, h.rating, new_rating, err)
                                : tool_record_reviews_touch(db, h.tool_id, err)) < 0)
        return -1;
    if (!ctx->in)
        return db_exec(db, "DELETE FROM reviews WHERE id = ?", DB_PARAMS(db_int(ctx->id)), NULL, err) < 0
                   ? -1
                   : activity_review_deleted(db, h.tool_id, h.created_at, err);
    return db_exec(db,
                   "UPDATE reviews SET rating = ?, title = COALESCE(?, title), content = COALESCE(?, content),"
                   " verified_purchase = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
                   DB_PARAMS(db_int(new_rating), db_text(ctx->in->title), db_text(ctx->in->content),
                             db_int(ctx->verified), db_int(ctx->id)),
                   NULL, err);
}

json_t *review_update(db *db, const account_caller *caller, const char *id, const json_t *body, mkt_error *err)
{
    review_input in;
    review_change_ctx ctx = {.caller = caller, .in = &in};
    review_head h;
    if (review_parse_id(id, &ctx.id, err) < 0 || review_read_body(body, 0, &in, err) < 0 ||
        review_head_read(db, ctx.id, 0, &h, err) < 0)
        return NULL;
    if ((ctx.verified = review_verified(db, h.tool_id, caller->user_id, err)) < 0)
        return NULL;
    if (db_transaction(db, review_change_tx, &ctx, err) < 0)
        return NULL;
    return review_get_json(db, ctx.id, err);
}

int review_delete(db *db, const account_caller *caller, const char *id, mkt_error *err)
{
    review_change_ctx ctx = {.caller = caller};
    if (review_parse_id(id, &ctx.id, err) < 0)
        return -1;
    return db_transaction(db, review_change_tx, &ctx, err);
}

/* ---- list --------------------------------------------------------------------------------------- */

/* one constant statement per order: no SQL text is ever built from the request */
static const struct {
    const char *name, *first, *later;
} review_orders[] = {
    {"helpful", REVIEW_PAGES("r.wilson DESC, r.id DESC")},
    {"newest", REVIEW_PAGES("r.id DESC")},
    {"rating", REVIEW_PAGES("r.rating DESC, r.id DESC")},
};

/* Each worker keeps the answers of recently read pages, keyed by tool, order, page and per_page and
 * valid for one reviews_version of the tool (core/tool_record): every change a reader could see
 * moves that version in its own transaction, and each request reads the version afresh, so a page
 * is served from memory only while the database would answer the same. A page is the same for
 * every caller (who may see the tool is checked per request, before the cache), so one entry serves
 * all. Direct-mapped: a colliding page replaces the older one. */
#define REVIEW_PAGE_SLOTS 64

typedef struct {
    int64_t tool_id, version, page, per_page;
    size_t order;
    json_t *list; /* NULL: empty slot */
} review_page_slot;

static review_page_slot review_pages[REVIEW_PAGE_SLOTS];

static review_page_slot *review_page_slot_for(int64_t tool_id, size_t order, int64_t page, int64_t per_page)
{
    uint64_t h = (uint64_t)tool_id * 0x9E3779B97F4A7C15u ^ (uint64_t)order * 0xC2B2AE3D27D4EB4Fu ^
                 (uint64_t)page * 0x165667B19E3779F9u ^ (uint64_t)per_page;
    return &review_pages[(h ^ h >> 29) % REVIEW_PAGE_SLOTS];
}

/* A copy of the cached answer when the slot holds this very page at this version, else NULL. */
static json_t *review_page_cached(const review_page_slot *s, const tool_record_glance *g, size_t order, int64_t page,
                                  int64_t per_page)
{
    if (!s->list || s->tool_id != g->id || s->version != g->reviews_version || s->order != order ||
        s->page != page || s->per_page != per_page)
        return NULL;
    return json_deep_copy(s->list);
}

static void review_page_keep(review_page_slot *s, const tool_record_glance *g, size_t order, int64_t page,
                             int64_t per_page, const json_t *list)
{
    json_t *copy = json_deep_copy(list);
    if (!copy)
        return; /* out of memory: the page is simply not kept */
    json_decref(s->list);
    *s = (review_page_slot){g->id, g->reviews_version, page, per_page, order, copy};
}

/* The page read from the database: {items, total, page, per_page}. */
static json_t *review_page_read(db *db, const tool_record_glance *g, const char *sql, int64_t page, int64_t per_page,
                                mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, sql, DB_PARAMS(db_int(g->id), db_int(per_page), db_int(paging_offset(page, per_page))), &rows,
                 err) < 0)
        return NULL;
    json_t *items = json_array();
    for (size_t i = 0; items && i < rows.row_count; i++)
        if (json_array_append_new(items, review_row_json(&rows, i)) < 0) {
            json_decref(items);
            items = NULL;
        }
    db_rows_free(&rows);
    /* rating_count counts exactly the visible reviews: every change of a review's visibility moves it
     * in the same transaction (tool_record_rating_move), so it is the list's total without a count */
    return paging_list(items, g->rating_count, page, per_page, err);
}

json_t *review_list(db *db, const account_caller *caller, const char *tool_ref, const char *sort, int64_t page,
                    int64_t per_page, mkt_error *err)
{
    size_t order = 0, orders = sizeof review_orders / sizeof review_orders[0];
    while (order < orders && strcmp(review_orders[order].name, sort ? sort : "helpful") != 0)
        order++;
    if (order == orders) {
        error_set(err, ERROR_BAD_REQUEST, "unknown sort order");
        error_add_field(err, "sort", "must be helpful, newest or rating");
        return NULL;
    }
    if (paging_check(page, per_page, err) < 0)
        return NULL;
    tool_record_glance g;
    if (tool_record_glance_find(db, tool_ref, caller, &g, err) < 0)
        return NULL;
    review_page_slot *slot = review_page_slot_for(g.id, order, page, per_page);
    json_t *list = review_page_cached(slot, &g, order, page, per_page);
    if (list)
        return list;
    list = review_page_read(db, &g, page == 1 ? review_orders[order].first : review_orders[order].later, page,
                            per_page, err);
    if (list)
        review_page_keep(slot, &g, order, page, per_page, list);
    return list;
}

/* ---- votes -------------------------------------------------------------------------------------- */

typedef struct {
    const account_caller *caller;
    int64_t id;
    int helpful; /* -1: withdraw the vote */
    int64_t helpful_count, unhelpful_count;
} review_vote_ctx;

/* Recounts the review's votes (its row is locked, so no vote of it can land in between) and
 * stores the counts and the Wilson bound. */
static int review_vote_recount(db *db, review_vote_ctx *ctx, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(NOT helpful), 0) FROM review_votes"
                 " WHERE review_id = ?",
                 DB_PARAMS(db_int(ctx->id)), &rows, err) < 0)
        return -1;
    ctx->helpful_count = db_rows_int(&rows, 0, 0);
    ctx->unhelpful_count = db_rows_int(&rows, 0, 1);
    db_rows_free(&rows);
    char wilson[32];
    snprintf(wilson, sizeof wilson, "%.17g", wilson_lower_bound(ctx->helpful_count, ctx->unhelpful_count));
    return db_exec(db, "UPDATE reviews SET helpful_count = ?, unhelpful_count = ?, wilson = ? WHERE id = ?",
                   DB_PARAMS(db_int(ctx->helpful_count), db_int(ctx->unhelpful_count), db_text(wilson),
                             db_int(ctx->id)),
                   NULL, err);
}

static int review_vote_tx(db *db, void *arg, mkt_error *err)
{
    review_vote_ctx *ctx = arg;
    review_head h;
    if (review_head_read(db, ctx->id, 1, &h, err) < 0)
        return -1;
    if (strcmp(h.status, "visible") != 0)
        return error_set(err, ERROR_NOT_FOUND, "no review %" PRId64, ctx->id);
    if (ctx->helpful >= 0) {
        if (h.user_id == ctx->caller->user_id)
            return error_set(err, ERROR_FORBIDDEN, "you cannot vote on your own review");
        if (db_exec(db,
                    "INSERT INTO review_votes (review_id, user_id, helpful) VALUES (?, ?, ?)"
                    " ON DUPLICATE KEY UPDATE helpful = VALUES(helpful)",
                    DB_PARAMS(db_int(ctx->id), db_int(ctx->caller->user_id), db_int(ctx->helpful)), NULL, err) < 0)
            return -1;
    } else if (db_exec(db, "DELETE FROM review_votes WHERE review_id = ? AND user_id = ?",
                       DB_PARAMS(db_int(ctx->id), db_int(ctx->caller->user_id)), NULL, err) < 0) {
        return -1;
    }
    return review_vote_recount(db, ctx, err) < 0 ? -1 : tool_record_reviews_touch(db, h.tool_id, err);
}

static json_t *review_vote_run(db *db, const account_caller *caller, const char *id, int helpful, mkt_error *err)
{
    review_head h;
    if (review_head_visible(db, caller, id, &h, err) < 0)
        return NULL;
    review_vote_ctx ctx = {.caller = caller, .id = h.id, .helpful = helpful};
    if (db_transaction(db, review_vote_tx, &ctx, err) < 0)
        return NULL;
    json_t *out = json_pack("{s:I, s:I}", "helpful_count", (json_int_t)ctx.helpful_count, "unhelpful_count",
                            (json_int_t)ctx.unhelpful_count);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

json_t *review_vote(db *db, const account_caller *caller, const char *id, const json_t *body, mkt_error *err)
{
    if (!json_is_object(body)) {
        error_set(err, ERROR_VALIDATION, "the body must be a JSON object {helpful}");
        return NULL;
    }
    static const char *const allowed[] = {"helpful", NULL};
    body_unknown_fields(body, allowed, err);
    json_t *helpful = body_member(body, "helpful", JSON_TRUE, err);
    if (error_is_set(err)) {
        error_set(err, ERROR_VALIDATION, "invalid vote");
        return NULL;
    }
    return review_vote_run(db, caller, id, json_is_true(helpful), err);
}

json_t *review_unvote(db *db, const account_caller *caller, const char *id, mkt_error *err)
{
    return review_vote_run(db, caller, id, -1, err);
}

/* ---- the developer's reply ---------------------------------------------------------------------- */

typedef struct {
    int64_t review_id, tool_id, developer_id;
    const char *content;
} review_reply_ctx;

/* The reply and the version of the list that shows it move together. */
static int review_reply_tx(db *db, void *arg, mkt_error *err)
{
    const review_reply_ctx *ctx = arg;
    /* the primary key is the one-reply rule: a second POST edits the reply */
    if (db_exec(db,
                "INSERT INTO review_responses (review_id, developer_id, content) VALUES (?, ?, ?)"
                " ON DUPLICATE KEY UPDATE content = VALUES(content), updated_at = CURRENT_TIMESTAMP(6)",
                DB_PARAMS(db_int(ctx->review_id), db_int(ctx->developer_id), db_text(ctx->content)), NULL, err) < 0)
        return -1;
    return tool_record_reviews_touch(db, ctx->tool_id, err);
}

json_t *review_respond(db *db, const account_caller *caller, const char *id, const json_t *body, mkt_error *err)
{
    const char *content = NULL;
    if (!json_is_object(body)) {
        error_set(err, ERROR_VALIDATION, "the body must be a JSON object {content}");
        return NULL;
    }
    static const char *const allowed[] = {"content", NULL};
    body_unknown_fields(body, allowed, err);
    content = account_rules_read_text(body, "content", &review_content_rule, 1, err);
    if (error_is_set(err)) {
        error_set(err, ERROR_VALIDATION, "invalid response");
        return NULL;
    }
    int64_t review_id;
    review_head h;
    if (review_parse_id(id, &review_id, err) < 0 || review_head_read(db, review_id, 0, &h, err) < 0)
        return NULL;
    tool_record_glance g;
    if (review_tool_glance(db, h.tool_id, caller, &g, err) < 0)
        return NULL;
    if (!tool_record_glance_owned(&g, caller)) {
        error_set(err, ERROR_FORBIDDEN, "only the tool's developer may do this");
        return NULL;
    }
    review_reply_ctx ctx = {review_id, h.tool_id, caller->developer_id, content};
    if (db_transaction(db, review_reply_tx, &ctx, err) < 0)
        return NULL;
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT content, " REVIEW_TIME("created_at") ", " REVIEW_TIME("updated_at")
                 " FROM review_responses WHERE review_id = ?",
                 DB_PARAMS(db_int(review_id)), &rows, err) < 0)
        return NULL;
    json_t *out = NULL;
    if (rows.row_count == 1)
        out = json_pack("{s:s, s:s, s:s, s:s}", "review_id", id, "content", db_rows_text(&rows, 0, 0), "created_at",
                        db_rows_text(&rows, 0, 1), "updated_at", db_rows_text(&rows, 0, 2));
    db_rows_free(&rows);
    if (!out)
        error_set(err, ERROR_INTERNAL, "the reply was not read back");
    return out;
}

/* ---- reports ------------------------------------------------------------------------------------ */

static const account_rules_text_rule review_detail_rule = {1, REVIEW_DETAIL_MAX, 1, 1, 0};

/* reason (one of reasons, a NULL-terminated list) and the optional detail of a report body; 422
 * naming each bad or unknown field. Shared with core/moderation's tool reports. */
int review_report_body(const json_t *body, const char *const reasons[], const char **reason, const char **detail,
                       mkt_error *err)
{
    *reason = *detail = NULL;
    if (!json_is_object(body)) {
        error_set(err, ERROR_VALIDATION, "the body must be a JSON object {reason, detail?}");
        return error_add_field(err, "", "must be a JSON object");
    }
    static const char *const allowed[] = {"reason", "detail", NULL};
    body_unknown_fields(body, allowed, err);
    int chosen = body_choice(body, "reason", reasons, err);
    *reason = chosen < 0 ? NULL : reasons[chosen];
    *detail = account_rules_read_text(body, "detail", &review_detail_rule, 0, err);
    if (error_is_set(err))
        return error_set(err, ERROR_VALIDATION, "invalid report");
    return 0;
}

typedef struct {
    const account_caller *caller;
    int64_t id;
    const char *reason, *detail;
    int counted;
    int64_t report_id;
} review_report_ctx;

/* Hides review h when its open counted reports reach REVIEW_REPORTS_TO_HIDE. The review's row lock
 * is held, so of several reporters at once exactly one sees the threshold crossed while the review
 * is still visible, and the stats leave once. */
static int review_report_maybe_hide(db *db, const review_head *h, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT COUNT(*) FROM review_reports WHERE review_id = ? AND status = 'open' AND counted",
                 DB_PARAMS(db_int(h->id)), &rows, err) < 0)
        return -1;
    int64_t counted = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    if (counted < REVIEW_REPORTS_TO_HIDE)
        return 0;
    if (tool_record_rating_move(db, h->tool_id, h->rating, 0, err) < 0)
        return -1;
    return db_exec(db, "UPDATE reviews SET status = 'hidden' WHERE id = ?", DB_PARAMS(db_int(h->id)), NULL, err);
}

static int review_report_tx(db *db, void *arg, mkt_error *err)
{
    review_report_ctx *ctx = arg;
    review_head h;
    if (review_head_read(db, ctx->id, 1, &h, err) < 0)
        return -1;
    if (strcmp(h.status, "visible") != 0)
        return error_set(err, ERROR_NOT_FOUND, "no review %" PRId64, ctx->id);
    db_result r;
    if (db_exec(db, "INSERT INTO review_reports (review_id, user_id, reason, detail, counted) VALUES (?, ?, ?, ?, ?)",
                DB_PARAMS(db_int(ctx->id), db_int(ctx->caller->user_id), db_text(ctx->reason),
                          db_text(ctx->detail), db_int(ctx->counted)),
                &r, err) < 0) {
        if (db_last_errno(db) != DB_ER_DUP_ENTRY)
            return -1;
        error_clear(err);
        return error_set(err, ERROR_CONFLICT, "you have reported this review already");
    }
    ctx->report_id = (int64_t)r.insert_id;
    return ctx->counted ? review_report_maybe_hide(db, &h, err) : 0;
}

/* Does a report by caller count toward the automatic hide? Not when the account is younger than
 * report_min_account_age (fresh throwaway accounts cannot hide a review by themselves). */
static int review_report_counts(db *db, const config *cfg, const account_caller *caller, mkt_error *err)
{
    if (cfg->report_min_account_age <= 0)
        return 1;
    int64_t age;
    if (account_age_seconds(db, caller->user_id, &age, err) < 0)
        return -1;
    return age >= cfg->report_min_account_age;
}

json_t *review_report_read(db *db, const char *sql, int64_t report_id, const char *target_key, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, sql, DB_PARAMS(db_int(report_id)), &rows, err) < 0)
        return NULL;
    json_t *out = NULL;
    if (rows.row_count == 1)
        out = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:s}", "id", db_rows_text(&rows, 0, 0), target_key,
                        db_rows_text(&rows, 0, 1), "reporter_id", db_rows_text(&rows, 0, 2), "reason",
                        db_rows_text(&rows, 0, 3), "detail", db_rows_text(&rows, 0, 4), "status",
                        db_rows_text(&rows, 0, 5), "created_at", db_rows_text(&rows, 0, 6));
    db_rows_free(&rows);
    if (!out)
        error_set(err, ERROR_INTERNAL, "the report was not read back");
    return out;
}

static json_t *review_report_json(db *db, int64_t report_id, mkt_error *err)
{
    return review_report_read(db,
                              "SELECT id, review_id, user_id, reason, detail, status, " REVIEW_TIME("created_at")
                              " FROM review_reports WHERE id = ?",
                              report_id, "review_id", err);
}

json_t *review_report(db *db, const config *cfg, const account_caller *caller, const char *id, const json_t *body,
                      mkt_error *err)
{
    static const char *const reasons[] = {"spam", "abuse", "off_topic", "fake", "other", NULL};
    review_report_ctx ctx = {.caller = caller};
    if (review_report_body(body, reasons, &ctx.reason, &ctx.detail, err) < 0)
        return NULL;
    review_head h;
    if (review_head_visible(db, caller, id, &h, err) < 0)
        return NULL;
    if (strcmp(h.status, "visible") != 0) {
        error_set(err, ERROR_NOT_FOUND, "no review %s", id);
        return NULL;
    }
    if (h.user_id == caller->user_id) {
        error_set(err, ERROR_FORBIDDEN, "you cannot report your own review");
        return NULL;
    }
    ctx.id = h.id;
    if ((ctx.counted = review_report_counts(db, cfg, caller, err)) < 0)
        return NULL;
    if (db_transaction(db, review_report_tx, &ctx, err) < 0)
        return NULL;
    return review_report_json(db, ctx.report_id, err);
}

/* ---- moderation --------------------------------------------------------------------------------- */

/* {status, rating, tool_id, open_reports}: what an audit row records of a review before and after. */
static json_t *review_state_json(const review_head *h, const char *status, int64_t open_reports, mkt_error *err)
{
    char tool[24];
    snprintf(tool, sizeof tool, "%" PRId64, h->tool_id);
    json_t *out = json_pack("{s:s, s:i, s:s, s:I}", "status", status, "rating", h->rating, "tool_id", tool,
                            "open_reports", (json_int_t)open_reports);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

static const char *review_decision_status(review_decision d)
{
    return d == REVIEW_APPROVE ? "visible" : d == REVIEW_HIDE ? "hidden" : "removed";
}

/* 403 when the actor wrote the review or develops the reviewed tool: no one decides on their own work. */
static int review_decide_not_own(db *db, const account_caller *actor, const review_head *h, mkt_error *err)
{
    if (h->user_id == actor->user_id)
        return error_set(err, ERROR_FORBIDDEN, "you cannot moderate your own review");
    tool_record_glance g;
    if (review_tool_glance(db, h->tool_id, actor, &g, err) < 0)
        return -1;
    if (tool_record_glance_owned(&g, actor))
        return error_set(err, ERROR_FORBIDDEN, "you cannot moderate reviews of your own tool");
    return 0;
}

int review_decide(db *db, const account_caller *actor, const char *id_text, review_decision d, int64_t *id,
                  json_t **before, json_t **after, mkt_error *err)
{
    *before = *after = NULL;
    review_head h;
    if (review_parse_id(id_text, id, err) < 0 || review_head_read(db, *id, 1, &h, err) < 0 ||
        review_decide_not_own(db, actor, &h, err) < 0)
        return -1;
    db_rows rows = {0};
    if (db_query(db, "SELECT COUNT(*) FROM review_reports WHERE review_id = ? AND status = 'open'",
                 DB_PARAMS(db_int(*id)), &rows, err) < 0)
        return -1;
    int64_t open_reports = db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    const char *status = review_decision_status(d);
    int was_visible = strcmp(h.status, "visible") == 0, now_visible = d == REVIEW_APPROVE;
    /* the counters count visible reviews: they move only when visibility changes, so any path
     * between the three states moves them exactly once each way */
    if (was_visible != now_visible &&
        tool_record_rating_move(db, h.tool_id, was_visible ? h.rating : 0, now_visible ? h.rating : 0, err) < 0)
        return -1;
    /* every decision answers the open reports: they leave the queue */
    if (db_exec(db, "UPDATE reviews SET status = ? WHERE id = ?", DB_PARAMS(db_text(status), db_int(*id)), NULL,
                err) < 0 ||
        db_exec(db,
                "UPDATE review_reports SET status = 'closed', closed_at = CURRENT_TIMESTAMP(6)"
                " WHERE review_id = ? AND status = 'open'",
                DB_PARAMS(db_int(*id)), NULL, err) < 0)
        return -1;
    if (!(*before = review_state_json(&h, h.status, open_reports, err)) ||
        !(*after = review_state_json(&h, status, 0, err))) {
        json_decref(*before);
        *before = NULL;
        return -1;
    }
    return 0;
}

/* The open reports of review id, oldest first. */
static json_t *review_open_reports(db *db, int64_t id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT id, user_id, reason, detail, counted, " REVIEW_TIME("created_at")
                 " FROM review_reports WHERE review_id = ? AND status = 'open' ORDER BY id",
                 DB_PARAMS(db_int(id)), &rows, err) < 0)
        return NULL;
    json_t *out = json_array();
    for (size_t i = 0; out && i < rows.row_count; i++)
        if (json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s?, s:b, s:s}", "id", db_rows_text(&rows, i, 0),
                                                 "reporter_id", db_rows_text(&rows, i, 1), "reason",
                                                 db_rows_text(&rows, i, 2), "detail", db_rows_text(&rows, i, 3),
                                                 "counted", (int)db_rows_int(&rows, i, 4), "created_at",
                                                 db_rows_text(&rows, i, 5))) < 0) {
            json_decref(out);
            out = NULL;
        }
    db_rows_free(&rows);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

/* Appends review i of rows with its open reports to out; -1 when that fails (err set unless out of memory). */
static int review_queue_add(db *db, json_t *out, const db_rows *rows, size_t i, mkt_error *err)
{
    json_t *item = review_row_json(rows, i);
    if (!item)
        return -1;
    json_t *reports = review_open_reports(db, db_rows_int(rows, i, RCOL_ID), err);
    /* the _new setters take their argument's reference even when they fail */
    if (!reports || json_object_set_new(item, "reports", reports) < 0) {
        json_decref(item);
        return -1;
    }
    return json_array_append_new(out, item);
}

json_t *review_queue(db *db, int64_t limit, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 REVIEW_SELECT " WHERE r.status = 'hidden' AND EXISTS (SELECT 1 FROM review_reports p"
                               " WHERE p.review_id = r.id AND p.status = 'open') ORDER BY r.id LIMIT ?",
                 DB_PARAMS(db_int(limit)), &rows, err) < 0)
        return NULL;
    json_t *out = json_array();
    for (size_t i = 0; out && i < rows.row_count; i++)
        if (review_queue_add(db, out, &rows, i, err) < 0) {
            json_decref(out);
            out = NULL;
        }
    db_rows_free(&rows);
    if (!out && !error_is_set(err))
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

/* ---- analytics ---------------------------------------------------------------------------------- */

int review_months(db *db, int64_t developer_id, int months, review_month **out, size_t *count, mkt_error *err)
{
    enum { MCOL_TOOL, MCOL_MONTH, MCOL_COUNT, MCOL_SUM };
    *out = NULL;
    *count = 0;
    db_rows rows = {0};
    /* the developer's tools are joined read-only (core/tool_record owns them) */
    if (db_query(db,
                 "SELECT r.tool_id, DATE_FORMAT(r.created_at, '%Y-%m') AS month, COUNT(*), SUM(r.rating)"
                 " FROM reviews r JOIN tools t ON t.id = r.tool_id"
                 " WHERE t.developer_id = ? AND r.status = 'visible'"
                 " AND r.created_at >= DATE_FORMAT(UTC_DATE() - INTERVAL ? MONTH, '%Y-%m-01')"
                 " GROUP BY r.tool_id, month ORDER BY r.tool_id, month",
                 DB_PARAMS(db_int(developer_id), db_int(months - 1)), &rows, err) < 0)
        return -1;
    if (rows.row_count && !(*out = calloc(rows.row_count, sizeof **out))) {
        db_rows_free(&rows);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < rows.row_count; i++) {
        review_month *m = &(*out)[i];
        m->tool_id = db_rows_int(&rows, i, MCOL_TOOL);
        snprintf(m->month, sizeof m->month, "%s", db_rows_text(&rows, i, MCOL_MONTH));
        m->count = db_rows_int(&rows, i, MCOL_COUNT);
        m->sum = db_rows_int(&rows, i, MCOL_SUM);
    }
    *count = rows.row_count;
    db_rows_free(&rows);
    return 0;
}

/* ---- bulk reviews (marketplace seed --tools) ------------------------------------------------- */

#define REVIEW_BULK_PARAMS 7

int review_bulk_insert(db *db, const review_bulk_row *rows, size_t n, mkt_error *err)
{
    if (n == 0)
        return 0;
    db_value *params = calloc(n * REVIEW_BULK_PARAMS, sizeof *params);
    if (!params)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        db_value *p = params + i * REVIEW_BULK_PARAMS;
        p[0] = db_int(rows[i].tool_id);
        p[1] = db_int(rows[i].user_id);
        p[2] = db_int(rows[i].rating);
        p[3] = db_text(rows[i].title);
        p[4] = db_text(rows[i].content);
        p[5] = db_int(rows[i].age_seconds);
        p[6] = db_int(rows[i].age_seconds);
    }
    int rc = db_exec_row_batches(db,
                                 "INSERT INTO reviews (tool_id, user_id, rating, title, content, created_at, updated_at)"
                                 " VALUES ",
                                 "(?, ?, ?, ?, ?, NOW(6) - INTERVAL ? SECOND, NOW(6) - INTERVAL ? SECOND)", params,
                                 REVIEW_BULK_PARAMS, n, REVIEW_BULK_MAX, err);
    free(params);
    return rc;
}

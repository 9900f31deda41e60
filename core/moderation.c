/* Owns tool_reports and moderation_audit (see core/moderation.h): every statement on those tables is
 * here, and no statement here updates or deletes an audit row (the database would refuse it). */
#include "core/moderation.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/account_rules.h"
#include "core/body.h"
#include "core/ident.h"
#include "core/paging.h"
#include "core/review_manager.h"
#include "core/search.h"
#include "core/tool_record.h"
#include "core/transaction_manager.h"

#define MODERATION_TIME(column) "DATE_FORMAT(" column ", '%Y-%m-%dT%H:%i:%sZ')"

/* ---- tool reports ------------------------------------------------------------------------------- */

static const char *const moderation_tool_reasons[] = {"malware", "broken", "misleading", "spam", "other", NULL};

static json_t *moderation_tool_report_json(db *db, int64_t report_id, mkt_error *err)
{
    return review_report_read(db,
                              "SELECT id, tool_id, user_id, reason, detail, status, " MODERATION_TIME("created_at")
                              " FROM tool_reports WHERE id = ?",
                              report_id, "tool_id", err);
}

json_t *moderation_tool_report(db *db, const account_caller *caller, const char *tool_ref, const json_t *body,
                               mkt_error *err)
{
    const char *reason, *detail;
    if (review_report_body(body, moderation_tool_reasons, &reason, &detail, err) < 0)
        return NULL;
    tool_record_glance g;
    if (tool_record_glance_find(db, tool_ref, caller, &g, err) < 0)
        return NULL;
    int64_t tool_id = g.id;
    if (tool_record_glance_owned(&g, caller)) {
        error_set(err, ERROR_FORBIDDEN, "you cannot report your own tool");
        return NULL;
    }
    db_result r;
    /* the unique key over (tool_id, open_user) is the one-open-report rule, so two at once cannot both win */
    if (db_exec(db, "INSERT INTO tool_reports (tool_id, user_id, reason, detail) VALUES (?, ?, ?, ?)",
                DB_PARAMS(db_int(tool_id), db_int(caller->user_id), db_text(reason), db_text(detail)), &r,
                err) < 0) {
        if (db_last_errno(db) == DB_ER_DUP_ENTRY) {
            error_clear(err);
            error_set(err, ERROR_CONFLICT, "you have an open report on this tool already");
        }
        return NULL;
    }
    return moderation_tool_report_json(db, (int64_t)r.insert_id, err);
}

/* ---- the queue ---------------------------------------------------------------------------------- */

/* One reported tool: who it is and its open reports counted by reason. */
static json_t *moderation_queue_tool(db *db, int64_t tool_id, const char *first_reported_at, mkt_error *err)
{
    char ref[24];
    snprintf(ref, sizeof ref, "%" PRId64, tool_id);
    tool_record t;
    if (tool_record_load(db, ref, &t, err) < 0)
        return NULL;
    json_t *reasons = json_object();
    for (size_t i = 0; reasons && moderation_tool_reasons[i]; i++)
        json_object_set_new(reasons, moderation_tool_reasons[i], json_integer(0));
    json_t *out = json_pack("{s:{s:s, s:s, s:s, s:s}, s:I, s:o*, s:s}", "tool", "id", ref, "slug", t.slug, "name",
                            t.name, "status", t.status, "open_reports", (json_int_t)0, "reasons", reasons,
                            "first_reported_at", first_reported_at);
    tool_record_free(&t);
    db_rows rows = {0};
    if (!out || !reasons) {
        json_decref(out);
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    if (db_query(db, "SELECT reason, COUNT(*) FROM tool_reports WHERE tool_id = ? AND status = 'open' GROUP BY reason",
                 DB_PARAMS(db_int(tool_id)), &rows, err) < 0) {
        json_decref(out);
        return NULL;
    }
    int64_t total = 0;
    for (size_t i = 0; i < rows.row_count; i++) {
        total += db_rows_int(&rows, i, 1);
        json_object_set_new(reasons, db_rows_text(&rows, i, 0), json_integer(db_rows_int(&rows, i, 1)));
    }
    db_rows_free(&rows);
    json_object_set_new(out, "open_reports", json_integer(total));
    return out;
}

static json_t *moderation_queue_tools(db *db, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT tool_id, " MODERATION_TIME("MIN(created_at)") " FROM tool_reports WHERE status = 'open'"
                 " GROUP BY tool_id ORDER BY MIN(id) LIMIT ?",
                 DB_PARAMS(db_int(MODERATION_QUEUE_CAP)), &rows, err) < 0)
        return NULL;
    json_t *out = json_array();
    for (size_t i = 0; out && i < rows.row_count; i++) {
        json_t *item = moderation_queue_tool(db, db_rows_int(&rows, i, 0), db_rows_text(&rows, i, 1), err);
        if (!item || json_array_append_new(out, item) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    db_rows_free(&rows);
    if (!out && !error_is_set(err))
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

json_t *moderation_queue(db *db, mkt_error *err)
{
    json_t *reviews = review_queue(db, MODERATION_QUEUE_CAP, err);
    json_t *tools = reviews ? moderation_queue_tools(db, err) : NULL;
    json_t *transactions = tools ? transaction_flagged(db, MODERATION_QUEUE_CAP, err) : NULL;
    if (!transactions) {
        json_decref(reviews);
        json_decref(tools);
        return NULL;
    }
    json_t *out = json_pack("{s:o, s:o, s:o, s:i}", "reviews", reviews, "tools", tools, "transactions", transactions,
                            "cap", MODERATION_QUEUE_CAP);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

/* ---- actions and the audit log ------------------------------------------------------------------ */

static const account_rules_text_rule moderation_note_rule = {1, REVIEW_DETAIL_MAX, 1, 1, 0};

/* {action, note}: action one of actions (NULL-terminated), *action its index. 422 naming each problem. */
static int moderation_action_body(const json_t *body, const char *const actions[], int *action, const char **note,
                                  mkt_error *err)
{
    *action = -1;
    *note = NULL;
    if (!json_is_object(body)) {
        error_set(err, ERROR_VALIDATION, "the body must be a JSON object {action, note}");
        return error_add_field(err, "", "must be a JSON object");
    }
    static const char *const allowed[] = {"action", "note", NULL};
    body_unknown_fields(body, allowed, err);
    *action = body_choice(body, "action", actions, err);
    *note = account_rules_read_text(body, "note", &moderation_note_rule, 1, err);
    if (error_is_set(err))
        return error_set(err, ERROR_VALIDATION, "invalid moderation action");
    return 0;
}

/* Appends the audit row of an action (inside the action's transaction); *id gets its id. */
static int moderation_audit_write(db *db, const account_caller *actor, const char *action, const char *target_type,
                                  int64_t target_id, const char *note, const json_t *before, const json_t *after,
                                  int64_t *id, mkt_error *err)
{
    char *before_text = json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS);
    char *after_text = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
    int rc;
    db_result r;
    if (!before_text || !after_text)
        rc = error_set(err, ERROR_INTERNAL, "out of memory");
    else
        rc = db_exec(db,
                     "INSERT INTO moderation_audit (actor_user_id, action, target_type, target_id, note, before_state,"
                     " after_state) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     DB_PARAMS(db_int(actor->user_id), db_text(action), db_text(target_type), db_int(target_id),
                               db_text(note), db_text(before_text), db_text(after_text)),
                     &r, err);
    free(before_text);
    free(after_text);
    if (rc == 0)
        *id = (int64_t)r.insert_id;
    return rc < 0 ? -1 : 0;
}

#define MODERATION_AUDIT_SELECT                                                                              \
    "SELECT id, actor_user_id, action, target_type, target_id, note, before_state, after_state, "            \
    MODERATION_TIME("created_at") " FROM moderation_audit"

static json_t *moderation_audit_row_json(const db_rows *rows, size_t i, mkt_error *err)
{
    json_t *before = tool_record_parse(db_rows_text(rows, i, 6), err);
    json_t *after = before ? tool_record_parse(db_rows_text(rows, i, 7), err) : NULL;
    if (!after) {
        json_decref(before);
        return NULL;
    }
    char target[48];
    snprintf(target, sizeof target, "%s:%s", db_rows_text(rows, i, 3), db_rows_text(rows, i, 4));
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "id", db_rows_text(rows, i, 0),
                            "actor_id", db_rows_text(rows, i, 1), "action", db_rows_text(rows, i, 2), "target", target,
                            "target_type", db_rows_text(rows, i, 3), "target_id", db_rows_text(rows, i, 4), "note",
                            db_rows_text(rows, i, 5), "before", before, "after", after, "created_at",
                            db_rows_text(rows, i, 8));
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

static json_t *moderation_audit_get(db *db, int64_t id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, MODERATION_AUDIT_SELECT " WHERE id = ?", DB_PARAMS(db_int(id)), &rows, err) < 0)
        return NULL;
    json_t *out = NULL;
    if (rows.row_count == 1)
        out = moderation_audit_row_json(&rows, 0, err);
    else
        error_set(err, ERROR_INTERNAL, "audit entry %" PRId64 " was not read back", id);
    db_rows_free(&rows);
    return out;
}

/* ---- review actions ----------------------------------------------------------------------------- */

typedef struct {
    const account_caller *caller;
    const char *id, *note;
    int action;
    int64_t audit_id;
} moderation_action_ctx;

static const char *const moderation_review_actions[] = {"approve", "hide", "remove", NULL};

static int moderation_review_tx(db *db, void *arg, mkt_error *err)
{
    moderation_action_ctx *ctx = arg;
    static const review_decision decisions[] = {REVIEW_APPROVE, REVIEW_HIDE, REVIEW_REMOVE};
    static const char *const names[] = {"review.approve", "review.hide", "review.remove"};
    int64_t review_id;
    json_t *before, *after;
    if (review_decide(db, ctx->caller, ctx->id, decisions[ctx->action], &review_id, &before, &after, err) < 0)
        return -1;
    int rc = moderation_audit_write(db, ctx->caller, names[ctx->action], "review", review_id, ctx->note, before, after,
                                    &ctx->audit_id, err);
    json_decref(before);
    json_decref(after);
    return rc;
}

json_t *moderation_review(db *db, const account_caller *caller, const char *id, const json_t *body, mkt_error *err)
{
    moderation_action_ctx ctx = {.caller = caller, .id = id};
    if (moderation_action_body(body, moderation_review_actions, &ctx.action, &ctx.note, err) < 0 ||
        db_transaction(db, moderation_review_tx, &ctx, err) < 0)
        return NULL;
    return moderation_audit_get(db, ctx.audit_id, err);
}

/* ---- tool actions ------------------------------------------------------------------------------- */

static const char *const moderation_tool_actions[] = {"delist", "restore", NULL};
enum { MODERATION_DELIST, MODERATION_RESTORE };

/* {status, latest_version, open_reports} of tool id, read under its row lock. */
static json_t *moderation_tool_state(db *db, int64_t id, int *has_version, mkt_error *err)
{
    tool_record_publish_state st;
    if (tool_record_publish_state_read(db, id, &st, err) < 0)
        return NULL;
    db_rows rows = {0};
    json_t *out = NULL;
    if (db_query(db, "SELECT COUNT(*) FROM tool_reports WHERE tool_id = ? AND status = 'open'", DB_PARAMS(db_int(id)),
                 &rows, err) == 0) {
        out = json_pack("{s:s, s:s?, s:I}", "status", st.status, "latest_version", st.latest_version, "open_reports",
                        (json_int_t)db_rows_int(&rows, 0, 0));
        if (!out)
            error_set(err, ERROR_INTERNAL, "out of memory");
        db_rows_free(&rows);
    }
    *has_version = st.latest_version != NULL;
    tool_record_publish_state_free(&st);
    return out;
}

typedef struct {
    moderation_action_ctx base;
    int64_t tool_id;
} moderation_tool_ctx;

/* The change itself, with before already read: delist, or restore when there is a version to show;
 * the search index follows in the same transaction. */
static int moderation_tool_apply(db *db, const moderation_tool_ctx *ctx, int has_version, mkt_error *err)
{
    int rc;
    if (ctx->base.action == MODERATION_DELIST)
        rc = tool_record_delist(db, ctx->tool_id, err);
    else if (!has_version)
        return error_set(err, ERROR_CONFLICT, "the tool has no published version to restore");
    else
        rc = tool_record_restore(db, ctx->tool_id, err);
    return rc < 0 ? -1 : search_index_tool(db, ctx->tool_id, err);
}

static int moderation_tool_tx(db *db, void *arg, mkt_error *err)
{
    moderation_tool_ctx *ctx = arg;
    static const char *const names[] = {"tool.delist", "tool.restore"};
    int has_version;
    if (tool_record_lock(db, ctx->tool_id, err) < 0)
        return -1;
    json_t *before = moderation_tool_state(db, ctx->tool_id, &has_version, err), *after = NULL;
    int rc = before ? moderation_tool_apply(db, ctx, has_version, err) : -1;
    /* a moderator's decision answers the tool's open reports */
    if (rc == 0)
        rc = db_exec(db,
                     "UPDATE tool_reports SET status = 'closed', closed_at = CURRENT_TIMESTAMP(6)"
                     " WHERE tool_id = ? AND status = 'open'",
                     DB_PARAMS(db_int(ctx->tool_id)), NULL, err);
    if (rc == 0 && !(after = moderation_tool_state(db, ctx->tool_id, &has_version, err)))
        rc = -1;
    if (rc == 0)
        rc = moderation_audit_write(db, ctx->base.caller, names[ctx->base.action], "tool", ctx->tool_id,
                                    ctx->base.note, before, after, &ctx->base.audit_id, err);
    json_decref(before);
    json_decref(after);
    return rc;
}

json_t *moderation_tool(db *db, const account_caller *caller, const char *tool_ref, const json_t *body,
                        mkt_error *err)
{
    moderation_tool_ctx ctx = {.base = {.caller = caller}};
    if (moderation_action_body(body, moderation_tool_actions, &ctx.base.action, &ctx.base.note, err) < 0)
        return NULL;
    tool_record_glance g;
    if (tool_record_glance_find(db, tool_ref, caller, &g, err) < 0)
        return NULL;
    ctx.tool_id = g.id;
    if (tool_record_glance_owned(&g, caller)) {
        /* no one decides on their own work: another moderator or an admin does */
        error_set(err, ERROR_FORBIDDEN, "you cannot moderate your own tool");
        return NULL;
    }
    if (db_transaction(db, moderation_tool_tx, &ctx, err) < 0)
        return NULL;
    return moderation_audit_get(db, ctx.base.audit_id, err);
}

/* ---- reading the log ---------------------------------------------------------------------------- */

/* The audit filters: 0 / "" when off. */
typedef struct {
    int64_t actor;
    char target_type[8];
    int64_t target_id;
} moderation_audit_filter;

static int moderation_audit_filter_parse(const char *actor, const char *target, moderation_audit_filter *f,
                                         mkt_error *err)
{
    memset(f, 0, sizeof *f);
    if (actor && ident_id_parse(actor, &f->actor) < 0)
        error_add_field(err, "actor", "must be a user id");
    if (target) {
        const char *colon = strchr(target, ':');
        size_t type_len = colon ? (size_t)(colon - target) : 0;
        int type_ok = (type_len == 6 && strncmp(target, "review", 6) == 0) ||
                      (type_len == 4 && strncmp(target, "tool", 4) == 0);
        if (!type_ok || ident_id_parse(colon + 1, &f->target_id) < 0)
            error_add_field(err, "target", "must be review:<id> or tool:<id>");
        else
            snprintf(f->target_type, sizeof f->target_type, "%.*s", (int)type_len, target);
    }
    if (error_is_set(err))
        return error_set(err, ERROR_BAD_REQUEST, "invalid audit filter");
    return 0;
}

/* One constant statement: a filter that is off compares with itself. */
#define MODERATION_AUDIT_WHERE                                                                              \
    " WHERE (? = 0 OR actor_user_id = ?) AND (? = '' OR (target_type = ? AND target_id = ?))"
#define MODERATION_AUDIT_PARAMS(f)                                                                          \
    db_int((f).actor), db_int((f).actor), db_text((f).target_type), db_text((f).target_type), db_int((f).target_id)

json_t *moderation_audit_list(db *db, const char *actor, const char *target, int64_t page, int64_t per_page,
                              mkt_error *err)
{
    moderation_audit_filter f;
    if (moderation_audit_filter_parse(actor, target, &f, err) < 0 || paging_check(page, per_page, err) < 0)
        return NULL;
    db_rows count = {0}, rows = {0};
    if (db_query(db, "SELECT COUNT(*) FROM moderation_audit" MODERATION_AUDIT_WHERE,
                 DB_PARAMS(MODERATION_AUDIT_PARAMS(f)), &count, err) < 0)
        return NULL;
    int64_t total = db_rows_int(&count, 0, 0);
    db_rows_free(&count);
    if (db_query(db, MODERATION_AUDIT_SELECT MODERATION_AUDIT_WHERE " ORDER BY id DESC LIMIT ? OFFSET ?",
                 DB_PARAMS(MODERATION_AUDIT_PARAMS(f), db_int(per_page), db_int(paging_offset(page, per_page))),
                 &rows, err) < 0)
        return NULL;
    json_t *items = json_array();
    for (size_t i = 0; items && i < rows.row_count; i++) {
        json_t *item = moderation_audit_row_json(&rows, i, err);
        if (!item || json_array_append_new(items, item) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    db_rows_free(&rows);
    if (!items && error_is_set(err))
        return NULL;
    return paging_list(items, total, page, per_page, err);
}

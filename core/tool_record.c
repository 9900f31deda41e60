#include "core/tool_record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ident.h"
#include "core/json_text.h"
#include "core/rating.h"
#include "core/tool_access.h"
#include "core/tool_fields.h"
#include "core/view_epoch.h"

/* m of the Bayesian rating (core/rating.h), from the config key rating_prior_weight. Set by the
 * master before it forks (tool_record_service), so every worker inherits the value of the config
 * it was started with, and a reload (SIGHUP) replaces the workers with ones that have the new one. */
static int64_t tool_record_weight = TOOL_RECORD_PRIOR_WEIGHT_DEFAULT;

/* The row of a tool. The draft's columns (schemas, tests, code, dependencies) come last, and only
 * the full read selects them: the public read (TOOL_RECORD_PUBLIC_COLUMNS) stops before them, so it
 * neither fetches nor binds what it would drop. */
#define TOOL_RECORD_SELECT(draft)                                                                           \
    "SELECT t.id, t.slug, t.developer_id, d.display_name, t.name, t.summary, t.description, t.category,"   \
    " t.pricing_model, t.price_cents, t.currency, t.period_days, t.status, t.latest_version, t.downloads,"  \
    " t.rating_count, t.rating_sum, t.rating_1, t.rating_2, t.rating_3, t.rating_4, t.rating_5, "          \
    TOOL_RECORD_TIME("t.created_at") ", " TOOL_RECORD_TIME("t.updated_at") ","                             \
    " (SELECT GROUP_CONCAT(g.tag ORDER BY g.tag SEPARATOR ',') FROM tool_tags g WHERE g.tool_id = t.id),"  \
    " v.input_schema, v.output_schema, g.rating_count, g.rating_sum" draft                                  \
    " FROM tools t JOIN developers d ON d.id = t.developer_id " TOOL_RECORD_TOTALS_JOIN("g")                \
    " LEFT JOIN tool_versions v ON v.tool_id = t.id AND v.version = t.latest_version"
#define TOOL_RECORD_COLUMNS TOOL_RECORD_SELECT(", t.input_schema, t.output_schema, t.tests, t.code, t.dependencies")
#define TOOL_RECORD_PUBLIC_COLUMNS TOOL_RECORD_SELECT("")

enum {
    COL_ID, COL_SLUG, COL_DEVELOPER_ID, COL_DEVELOPER_NAME, COL_NAME, COL_SUMMARY, COL_DESCRIPTION,
    COL_CATEGORY, COL_PRICING_MODEL, COL_PRICE_CENTS, COL_CURRENCY, COL_PERIOD_DAYS, COL_STATUS,
    COL_LATEST_VERSION, COL_DOWNLOADS, COL_RATING_COUNT, COL_RATING_SUM, COL_RATING_1,
    COL_CREATED_AT = COL_RATING_1 + 5, COL_UPDATED_AT, COL_TAGS, COL_PUBLISHED_INPUT, COL_PUBLISHED_OUTPUT,
    COL_ALL_RATING_COUNT, COL_ALL_RATING_SUM,
    /* the full read only: a public row ends before these (db_rows_text answers NULL past the end) */
    COL_DRAFT_INPUT, COL_DRAFT_OUTPUT, COL_DRAFT_TESTS, COL_CODE, COL_DRAFT_DEPENDENCIES,
};

const char *tool_record_id_problem(const json_t *id, int64_t *tool_id)
{
    if (!id || json_is_null(id))
        return "is required: the id of a published tool (a string of digits, as GET /tools/{slug} answers it)";
    if (json_is_integer(id))
        return (*tool_id = json_integer_value(id)) > 0 ? NULL : "must be a positive tool id";
    if (!json_is_string(id))
        return "must be a tool id: a string of digits";
    const char *text = json_string_value(id);
    if (strlen(text) <= 18 && ident_id_parse(text, tool_id) == 0)
        return NULL;
    if (text[0] && strspn(text, "0123456789") == strlen(text))
        return "must be a tool id: digits without leading zeros";
    return "must be the tool's id, not its slug: GET /tools/{slug} answers the id";
}

int tool_record_ref_parse(const char *text, tool_ref *out)
{
    *out = (tool_ref){0, NULL};
    if (!text)
        return -1;
    if (ident_id_parse(text, &out->id) == 0)
        return 0;
    const char *why;
    if (!tool_fields_slug_ok(text, &why))  /* the slug rule of drafts: anything else names no tool */
        return -1;
    out->slug = text;
    return 0;
}

#define TOOL_RECORD_INT(member, column) DB_FIELD(tool_record, member, column, DB_INT)
#define TOOL_RECORD_TEXT(member, column) DB_FIELD(tool_record, member, column, DB_TEXT)
static const db_field tool_record_fields[] = {
    TOOL_RECORD_INT(id, COL_ID),
    TOOL_RECORD_TEXT(slug, COL_SLUG),
    TOOL_RECORD_INT(developer_id, COL_DEVELOPER_ID),
    TOOL_RECORD_TEXT(developer_name, COL_DEVELOPER_NAME),
    TOOL_RECORD_TEXT(name, COL_NAME),
    TOOL_RECORD_TEXT(summary, COL_SUMMARY),
    TOOL_RECORD_TEXT(description, COL_DESCRIPTION),
    TOOL_RECORD_TEXT(category, COL_CATEGORY),
    TOOL_RECORD_TEXT(pricing_model, COL_PRICING_MODEL),
    TOOL_RECORD_INT(price_cents, COL_PRICE_CENTS),
    TOOL_RECORD_TEXT(currency, COL_CURRENCY),
    TOOL_RECORD_INT(period_days, COL_PERIOD_DAYS),
    TOOL_RECORD_TEXT(status, COL_STATUS),
    TOOL_RECORD_TEXT(latest_version, COL_LATEST_VERSION),
    TOOL_RECORD_INT(downloads, COL_DOWNLOADS),
    TOOL_RECORD_INT(rating_count, COL_RATING_COUNT),
    TOOL_RECORD_INT(rating_sum, COL_RATING_SUM),
    TOOL_RECORD_INT(ratings[0], COL_RATING_1),
    TOOL_RECORD_INT(ratings[1], COL_RATING_1 + 1),
    TOOL_RECORD_INT(ratings[2], COL_RATING_1 + 2),
    TOOL_RECORD_INT(ratings[3], COL_RATING_1 + 3),
    TOOL_RECORD_INT(ratings[4], COL_RATING_1 + 4),
    TOOL_RECORD_TEXT(created_at, COL_CREATED_AT),
    TOOL_RECORD_TEXT(updated_at, COL_UPDATED_AT),
    TOOL_RECORD_TEXT(tags, COL_TAGS),
    TOOL_RECORD_TEXT(draft_input_schema, COL_DRAFT_INPUT),
    TOOL_RECORD_TEXT(draft_output_schema, COL_DRAFT_OUTPUT),
    TOOL_RECORD_TEXT(draft_tests, COL_DRAFT_TESTS),
    TOOL_RECORD_TEXT(code, COL_CODE),
    TOOL_RECORD_TEXT(published_input_schema, COL_PUBLISHED_INPUT),
    TOOL_RECORD_TEXT(published_output_schema, COL_PUBLISHED_OUTPUT),
    TOOL_RECORD_INT(all_rating_count, COL_ALL_RATING_COUNT),
    TOOL_RECORD_INT(all_rating_sum, COL_ALL_RATING_SUM),
    TOOL_RECORD_TEXT(draft_dependencies, COL_DRAFT_DEPENDENCIES),
};

static void tool_record_fill(tool_record *t)
{
    db_rows_into(&t->rows, 0, t, tool_record_fields, sizeof tool_record_fields / sizeof tool_record_fields[0]);
    t->code_len = t->rows.column_count > COL_CODE ? t->rows.cells[COL_CODE].len : 0;
}

/* One query written twice, by slug and by id; the ref's parameter comes last. */
typedef struct {
    const char *by_slug, *by_id;
} tool_record_ref_sql;

/* Runs q for ref after lead_count (at most 1) leading parameters. ERROR_NOT_FOUND when ref cannot
 * name a tool (before any query) or names none. */
static int tool_record_query_ref(db *db, const tool_record_ref_sql *q, const db_value *lead, size_t lead_count,
                                 const char *ref, db_rows *rows, mkt_error *err)
{
    tool_ref parsed;
    if (lead_count > 1 || tool_record_ref_parse(ref, &parsed) < 0)
        return error_set(err, ERROR_NOT_FOUND, "no such tool");
    db_value params[2];
    if (lead_count)
        params[0] = lead[0];
    params[lead_count] = parsed.slug ? db_text(parsed.slug) : db_int(parsed.id);
    if (db_query(db, parsed.slug ? q->by_slug : q->by_id, params, lead_count + 1, rows, err) < 0)
        return -1;
    if (rows->row_count == 0) {
        db_rows_free(rows);
        return error_set(err, ERROR_NOT_FOUND, "no tool \"%s\"", ref);
    }
    return 0;
}

static int tool_record_load_with(db *db, const tool_record_ref_sql *q, const char *ref, tool_record *out,
                                 mkt_error *err)
{
    memset(out, 0, sizeof *out);
    if (tool_record_query_ref(db, q, NULL, 0, ref, &out->rows, err) < 0)
        return -1;
    tool_record_fill(out);
    return 0;
}

int tool_record_load(db *db, const char *ref, tool_record *out, mkt_error *err)
{
    static const tool_record_ref_sql q = {TOOL_RECORD_COLUMNS " WHERE t.slug = ?", TOOL_RECORD_COLUMNS " WHERE t.id = ?"};
    return tool_record_load_with(db, &q, ref, out, err);
}

void tool_record_free(tool_record *t)
{
    if (!t)
        return;
    db_rows_free(&t->rows);
    memset(t, 0, sizeof *t);
}

int tool_record_lock(db *db, int64_t id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT id FROM tools WHERE id = ? FOR UPDATE", DB_PARAMS(db_int(id)), &rows, err) < 0)
        return -1;
    size_t n = rows.row_count;
    db_rows_free(&rows);
    return n ? 0 : error_set(err, ERROR_NOT_FOUND, "no such tool");
}

static int tool_record_owned_by(int64_t developer_id, const account_caller *caller)
{
    return caller && caller->developer_id != 0 && caller->developer_id == developer_id;
}

int tool_record_is_owner(const tool_record *t, const account_caller *caller)
{
    return tool_record_owned_by(t->developer_id, caller);
}

int tool_record_glance_owned(const tool_record_glance *g, const account_caller *caller)
{
    return tool_record_owned_by(g->developer_id, caller);
}

int tool_record_visible_to(const char *status, int64_t developer_id, const account_caller *caller)
{
    if (strcmp(status, "published") == 0)
        return 1;
    if (caller && caller->developer_id != 0 && caller->developer_id == developer_id)
        return 1;
    if (strcmp(status, "delisted") == 0 && caller)
        return (caller->roles & (ACCOUNT_ROLE_ADMIN | ACCOUNT_ROLE_MODERATOR)) != 0;
    return 0;
}

int tool_record_visible(const tool_record *t, const account_caller *caller)
{
    return tool_record_visible_to(t->status, t->developer_id, caller);
}

/* A buyer keeps seeing a tool they paid for after it is delisted: any tool_access row counts, even
 * an expired subscription (they bought it; running it is tool_library_can_execute's decision).
 * 1 yes, 0 no, -1 on a database error. */
int tool_record_bought(db *db, int64_t tool_id, const account_caller *caller, mkt_error *err)
{
    if (!caller || caller->user_id <= 0)
        return 0;
    return tool_access_holds(db, caller->user_id, tool_id, TOOL_ACCESS_EVER, err);
}

/* The visibility rule of a found tool: 0 when the caller may see it (a delisted one also when they
 * bought it), else -1 with 404 (or the database's error). */
static int tool_record_may_see(db *db, int64_t id, const char *status, int64_t developer_id,
                               const account_caller *caller, const char *ref, mkt_error *err)
{
    if (tool_record_visible_to(status, developer_id, caller))
        return 0;
    int bought = strcmp(status, "delisted") == 0 ? tool_record_bought(db, id, caller, err) : 0;
    if (bought > 0)
        return 0;
    return bought < 0 ? -1 : error_set(err, ERROR_NOT_FOUND, "no tool \"%s\"", ref);
}

int tool_record_find(db *db, const char *ref, const account_caller *caller, tool_record *out, mkt_error *err)
{
    if (tool_record_load(db, ref, out, err) < 0)
        return -1;
    if (tool_record_may_see(db, out->id, out->status, out->developer_id, caller, ref, err) < 0) {
        tool_record_free(out);
        return -1;
    }
    return 0;
}

int tool_record_find_view(db *db, const char *ref, const account_caller *caller, tool_record *out, mkt_error *err)
{
    static const tool_record_ref_sql q = {TOOL_RECORD_PUBLIC_COLUMNS " WHERE t.slug = ?",
                                          TOOL_RECORD_PUBLIC_COLUMNS " WHERE t.id = ?"};
    if (tool_record_load_with(db, &q, ref, out, err) < 0)
        return -1;
    if (tool_record_is_owner(out, caller)) { /* the owner's view has the draft: the whole row */
        tool_record_free(out);
        return tool_record_find(db, ref, caller, out, err);
    }
    if (tool_record_may_see(db, out->id, out->status, out->developer_id, caller, ref, err) < 0) {
        tool_record_free(out);
        return -1;
    }
    return 0;
}

int tool_record_glance_find(db *db, const char *ref, const account_caller *caller, tool_record_glance *out,
                            mkt_error *err)
{
    static const tool_record_ref_sql q = {
        "SELECT id, developer_id, rating_count, reviews_version, status, plugins_version FROM tools WHERE slug = ?",
        "SELECT id, developer_id, rating_count, reviews_version, status, plugins_version FROM tools WHERE id = ?"};
    db_rows rows = {0};
    memset(out, 0, sizeof *out);
    if (tool_record_query_ref(db, &q, NULL, 0, ref, &rows, err) < 0)
        return -1;
    out->id = db_rows_int(&rows, 0, 0);
    out->developer_id = db_rows_int(&rows, 0, 1);
    out->rating_count = db_rows_int(&rows, 0, 2);
    out->reviews_version = db_rows_int(&rows, 0, 3);
    snprintf(out->status, sizeof out->status, "%s", db_rows_text(&rows, 0, 4));
    out->plugins_version = db_rows_int(&rows, 0, 5);
    db_rows_free(&rows);
    return tool_record_may_see(db, out->id, out->status, out->developer_id, caller, ref, err);
}

/* Every write below that changes what a worker may cache of tool id (its public view, the version an
 * execute runs: core/tool_library) goes through this, so each worker's copy is dropped (0: every
 * tool). Passes rc through. */
static int tool_record_changed(int64_t id, int rc)
{
    if (rc >= 0)
        view_epoch_bump(id);
    return rc;
}

int tool_record_plugins_touch(db *db, int64_t id, mkt_error *err)
{
    return tool_record_changed(id, db_exec(db, "UPDATE tools SET plugins_version = plugins_version + 1 WHERE id = ?", DB_PARAMS(db_int(id)),
                   NULL, err));
}

int tool_record_reviews_touch(db *db, int64_t id, mkt_error *err)
{
    return db_exec(db, "UPDATE tools SET reviews_version = reviews_version + 1 WHERE id = ?", DB_PARAMS(db_int(id)),
                   NULL, err);
}

int tool_record_find_owned(db *db, const char *ref, const account_caller *caller, tool_record *out, mkt_error *err)
{
    if (tool_record_find(db, ref, caller, out, err) < 0)
        return -1;
    if (!tool_record_is_owner(out, caller)) {
        tool_record_free(out);
        return error_set(err, ERROR_FORBIDDEN, "only the tool's developer may do this");
    }
    return 0;
}

json_t *tool_record_parse(const char *text, mkt_error *err)
{
    json_error_t jerr;
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : NULL;
    if (!v)
        error_set(err, ERROR_INTERNAL, "stored tool JSON is corrupt: %s", text ? jerr.text : "NULL");
    return v;
}

int64_t tool_record_prior_weight(void)
{
    return tool_record_weight;
}

void tool_record_set_prior_weight(int64_t weight)
{
    tool_record_weight = weight < 0 ? 0 : weight;
}

double tool_record_bayesian(int64_t count, int64_t sum, int64_t all_count, int64_t all_sum)
{
    return rating_bayesian(count, sum, all_count, all_sum, tool_record_weight);
}

static void tool_record_master_load(const config *cfg)
{
    tool_record_set_prior_weight(cfg->rating_prior_weight);
}

const service_hooks tool_record_service = {.name = "tool_record", .master_load = tool_record_master_load};

json_t *tool_record_rating_json(int64_t count, int64_t sum, const int64_t ratings[5], int64_t all_count,
                                int64_t all_sum)
{
    double average = rating_round2(count > 0 ? (double)sum / (double)count : 0.0);
    double bayesian = rating_round2(tool_record_bayesian(count, sum, all_count, all_sum));
    return json_pack("{s:f, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:f}", "average", average, "count", (json_int_t)count,
                     "distribution", "1", (json_int_t)ratings[0], "2", (json_int_t)ratings[1], "3",
                     (json_int_t)ratings[2], "4", (json_int_t)ratings[3], "5", (json_int_t)ratings[4], "bayesian",
                     bayesian);
}

json_t *tool_record_pricing_json(const char *model, int64_t price_cents, const char *currency, int64_t period_days)
{
    json_t *p = json_pack("{s:s, s:I, s:s}", "model", model, "price_cents", (json_int_t)price_cents, "currency",
                          currency);
    if (p && strcmp(model, "subscription") == 0 && json_object_set_new(p, "period_days", json_integer(period_days)) < 0) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static json_t *tool_record_tags_json(const char *list)
{
    json_t *tags = json_array();
    while (tags && list && *list) {
        size_t len = strcspn(list, ",");
        if (json_array_append_new(tags, json_stringn(list, len)) < 0) {
            json_decref(tags);
            return NULL;
        }
        list += len + (list[len] == ',');
    }
    return tags;
}

/* A stored JSON cell as a value; JSON null for NULL. A corrupt cell also gives null rather than
 * failing the whole read: the row is still worth showing, and the corruption is logged by callers
 * that run the code. */
static json_t *tool_record_cell_json(const char *text)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    return v ? v : json_null();
}

static int tool_record_add_draft(json_t *tool, const tool_record *t)
{
    return json_object_set_new(tool, "input_schema", tool_record_cell_json(t->draft_input_schema)) |
           json_object_set_new(tool, "output_schema", tool_record_cell_json(t->draft_output_schema)) |
           json_object_set_new(tool, "code", json_stringn(t->code ? t->code : "", t->code_len)) |
           json_object_set_new(tool, "tests", tool_record_cell_json(t->draft_tests)) |
           json_object_set_new(tool, "dependencies", tool_record_cell_json(t->draft_dependencies));
}

json_t *tool_record_json_take(tool_record *t, const account_caller *caller, mkt_error *err)
{
    json_t *out = tool_record_json(t, caller);
    tool_record_free(t);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

json_t *tool_record_json(const tool_record *t, const account_caller *caller)
{
    char id[24], developer_id[24];
    snprintf(id, sizeof id, "%" PRId64, t->id);
    snprintf(developer_id, sizeof developer_id, "%" PRId64, t->developer_id);
    json_t *tool = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s}, s:o, s:s, s:s?, s:o, s:I, s:s, s:s}",
                             "id", id, "slug", t->slug, "name", t->name, "summary", t->summary, "description",
                             t->description, "category", t->category, "tags", tool_record_tags_json(t->tags),
                             "developer", "id", developer_id, "display_name", t->developer_name, "pricing",
                             tool_record_pricing_json(t->pricing_model, t->price_cents, t->currency, t->period_days),
                             "status", t->status, "latest_version", t->latest_version, "rating",
                             tool_record_rating_json(t->rating_count, t->rating_sum, t->ratings, t->all_rating_count,
                                                     t->all_rating_sum),
                             "downloads",
                             (json_int_t)t->downloads, "created_at", t->created_at, "updated_at", t->updated_at);
    if (!tool)
        return NULL;
    if (tool_record_is_owner(t, caller)) {
        if (tool_record_add_draft(tool, t) != 0)
            goto fail;
    } else if (json_object_set_new(tool, "input_schema", tool_record_cell_json(t->published_input_schema)) < 0 ||
               json_object_set_new(tool, "output_schema", tool_record_cell_json(t->published_output_schema)) < 0) {
        goto fail;
    }
    return tool;
fail:
    json_decref(tool);
    return NULL;
}

/* A string member: key is its punctuation and name (",\"slug\":"); NULL writes null. */
static void tool_record_text_member(json_text *b, const char *key, const char *value)
{
    json_text_lit(b, key);
    json_text_string(b, value);
}

/* tool_record_json's pricing, rating and tags, written as text in the same order. */
static void tool_record_text_pricing(json_text *b, const tool_record *t)
{
    json_text_lit(b, "{\"model\":");
    json_text_string(b, t->pricing_model);
    json_text_lit(b, ",\"price_cents\":");
    json_text_int(b, t->price_cents);
    json_text_lit(b, ",\"currency\":");
    json_text_string(b, t->currency);
    if (t->pricing_model && strcmp(t->pricing_model, "subscription") == 0) {
        json_text_lit(b, ",\"period_days\":");
        json_text_int(b, t->period_days);
    }
    json_text_lit(b, "}");
}

static void tool_record_text_rating(json_text *b, const tool_record *t)
{
    double average = rating_round2(t->rating_count > 0 ? (double)t->rating_sum / (double)t->rating_count : 0.0);
    double bayesian =
        rating_round2(tool_record_bayesian(t->rating_count, t->rating_sum, t->all_rating_count, t->all_rating_sum));
    json_text_lit(b, "{\"average\":");
    json_text_real(b, average);
    json_text_lit(b, ",\"count\":");
    json_text_int(b, t->rating_count);
    json_text_lit(b, ",\"distribution\":{");
    for (int i = 0; i < 5; i++) {
        char key[8];
        snprintf(key, sizeof key, "%s\"%d\":", i ? "," : "", i + 1);
        json_text_lit(b, key);
        json_text_int(b, t->ratings[i]);
    }
    json_text_lit(b, "},\"bayesian\":");
    json_text_real(b, bayesian);
    json_text_lit(b, "}");
}

static void tool_record_text_tags(json_text *b, const char *list)
{
    json_text_lit(b, "[");
    for (int first = 1; list && *list; first = 0) {
        size_t len = strcspn(list, ",");
        if (!first)
            json_text_lit(b, ",");
        json_text_stringn(b, list, len);
        list += len + (list[len] == ',');
    }
    json_text_lit(b, "]");
}

/* A stored JSON cell as tool_record_cell_json gives it: parsed and written compact, null when NULL
 * or corrupt. */
static void tool_record_text_cell(json_text *b, const char *text)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    json_text_value(b, v);
    json_decref(v);
}

char *tool_record_view_text(const tool_record *t, size_t *len, mkt_error *err)
{
    json_text b = {0};
    char id[24];
    snprintf(id, sizeof id, "{\"id\":\"%" PRId64 "\"", t->id);
    json_text_lit(&b, id);
    tool_record_text_member(&b, ",\"slug\":", t->slug);
    tool_record_text_member(&b, ",\"name\":", t->name);
    tool_record_text_member(&b, ",\"summary\":", t->summary);
    tool_record_text_member(&b, ",\"description\":", t->description);
    tool_record_text_member(&b, ",\"category\":", t->category);
    json_text_lit(&b, ",\"tags\":");
    tool_record_text_tags(&b, t->tags);
    snprintf(id, sizeof id, "\"%" PRId64 "\"", t->developer_id);
    json_text_lit(&b, ",\"developer\":{\"id\":");
    json_text_lit(&b, id);
    tool_record_text_member(&b, ",\"display_name\":", t->developer_name);
    json_text_lit(&b, "},\"pricing\":");
    tool_record_text_pricing(&b, t);
    tool_record_text_member(&b, ",\"status\":", t->status);
    tool_record_text_member(&b, ",\"latest_version\":", t->latest_version);
    json_text_lit(&b, ",\"rating\":");
    tool_record_text_rating(&b, t);
    json_text_lit(&b, ",\"downloads\":");
    json_text_int(&b, t->downloads);
    tool_record_text_member(&b, ",\"created_at\":", t->created_at);
    tool_record_text_member(&b, ",\"updated_at\":", t->updated_at);
    json_text_lit(&b, ",\"input_schema\":");
    tool_record_text_cell(&b, t->published_input_schema);
    json_text_lit(&b, ",\"output_schema\":");
    tool_record_text_cell(&b, t->published_output_schema);
    json_text_lit(&b, "}\n");
    return json_text_finish_answer(&b, len, err);
}

/* ---- writes: tools and tool_tags -------------------------------------------------------------- */

static int tool_record_write_tags(db *db, int64_t id, const json_t *tags, mkt_error *err)
{
    if (db_exec(db, "DELETE FROM tool_tags WHERE tool_id = ?", DB_PARAMS(db_int(id)), NULL, err) < 0)
        return -1;
    for (size_t i = 0; i < json_array_size(tags); i++) {
        const char *tag = json_string_value(json_array_get(tags, i));
        if (db_exec(db, "INSERT INTO tool_tags (tool_id, tag) VALUES (?, ?)", DB_PARAMS(db_int(id), db_text(tag)),
                    NULL, err) < 0)
            return -1;
    }
    return 0;
}

/* The unique key on slug is what decides "taken", so two concurrent writers cannot both win. */
static int tool_record_slug_conflict(db *db, const char *slug, mkt_error *err)
{
    if (db_last_errno(db) != DB_ER_DUP_ENTRY)
        return -1;
    error_clear(err);
    error_set(err, ERROR_CONFLICT, "the slug \"%s\" is taken", slug);
    error_add_field(err, "slug", "is taken");
    return -1;
}

static db_value tool_record_period(const tool_pricing *p)
{
    return p->period_days ? db_int(p->period_days) : db_null();
}

int tool_record_insert(db *db, int64_t developer_id, const tool_record_draft *d, int64_t *id, mkt_error *err)
{
    db_result res = {0};
    if (db_exec(db,
                "INSERT INTO tools (slug, developer_id, name, summary, description, category, pricing_model,"
                " price_cents, currency, period_days, input_schema, output_schema, code, tests, dependencies)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                DB_PARAMS(db_text(d->slug), db_int(developer_id), db_text(d->name), db_text(d->summary),
                          db_text(d->description), db_text(d->category), db_text(d->pricing.model),
                          db_int(d->pricing.price_cents), db_text(d->pricing.currency), tool_record_period(&d->pricing),
                          db_text(d->input_schema), db_text(d->output_schema), db_bytes(d->code, d->code_len),
                          db_text(d->tests), db_text(d->dependencies)),
                &res, err) < 0)
        return tool_record_slug_conflict(db, d->slug, err);
    *id = (int64_t)res.insert_id;
    return tool_record_changed(*id, d->tags ? tool_record_write_tags(db, *id, d->tags, err) : 0);
}

int tool_record_update_draft(db *db, int64_t id, const tool_record_draft *d, mkt_error *err)
{
    if (db_exec(db,
                "UPDATE tools SET slug = ?, name = ?, summary = ?, description = ?, category = ?, pricing_model = ?,"
                " price_cents = ?, currency = ?, period_days = ?, input_schema = ?, output_schema = ?, code = ?,"
                " tests = ?, dependencies = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
                DB_PARAMS(db_text(d->slug), db_text(d->name), db_text(d->summary), db_text(d->description),
                          db_text(d->category), db_text(d->pricing.model), db_int(d->pricing.price_cents),
                          db_text(d->pricing.currency), tool_record_period(&d->pricing), db_text(d->input_schema),
                          db_text(d->output_schema), db_bytes(d->code, d->code_len), db_text(d->tests),
                          db_text(d->dependencies), db_int(id)),
                NULL, err) < 0)
        return tool_record_slug_conflict(db, d->slug, err);
    return tool_record_changed(id, d->tags ? tool_record_write_tags(db, id, d->tags, err) : 0);
}

int tool_record_set_pricing(db *db, int64_t id, const tool_pricing *p, mkt_error *err)
{
    if (!p)
        return error_set(err, ERROR_INTERNAL, "tool_record_set_pricing: no pricing");
    /* the public view and the access facts a cached execute checks show the pricing */
    return tool_record_changed(id, db_exec(db,
                   "UPDATE tools SET pricing_model = ?, price_cents = ?, currency = ?, period_days = ?,"
                   " updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
                   DB_PARAMS(db_text(p->model), db_int(p->price_cents), db_text(p->currency), tool_record_period(p),
                             db_int(id)),
                   NULL, err));
}

int tool_record_delist(db *db, int64_t id, mkt_error *err)
{
    return tool_record_changed(id, db_exec(db,
                   "UPDATE tools SET status = 'delisted', updated_at = CURRENT_TIMESTAMP(6)"
                   " WHERE id = ? AND status <> 'delisted'",
                   DB_PARAMS(db_int(id)), NULL, err));
}

int tool_record_restore(db *db, int64_t id, mkt_error *err)
{
    return tool_record_changed(id, db_exec(db,
                   "UPDATE tools SET status = 'published', updated_at = CURRENT_TIMESTAMP(6)"
                   " WHERE id = ? AND status = 'delisted' AND latest_version IS NOT NULL",
                   DB_PARAMS(db_int(id)), NULL, err));
}

int tool_record_publish_state_read(db *db, int64_t id, tool_record_publish_state *out, mkt_error *err)
{
    enum { PCOL_STATUS, PCOL_LATEST };
    memset(out, 0, sizeof *out);
    db_rows rows = {0};
    if (db_query(db, "SELECT status, latest_version FROM tools WHERE id = ?", DB_PARAMS(db_int(id)), &rows, err) < 0)
        return -1;
    int rc = 0;
    if (rows.row_count == 0) {
        rc = error_set(err, ERROR_NOT_FOUND, "no such tool");
    } else {
        snprintf(out->status, sizeof out->status, "%s", db_rows_text(&rows, 0, PCOL_STATUS));
        const char *latest = db_rows_text(&rows, 0, PCOL_LATEST);
        if (latest && !(out->latest_version = strdup(latest)))
            rc = error_set(err, ERROR_INTERNAL, "out of memory");
    }
    db_rows_free(&rows);
    return rc;
}

void tool_record_publish_state_free(tool_record_publish_state *s)
{
    free(s->latest_version);
    s->latest_version = NULL;
}

int tool_record_mark_published(db *db, int64_t id, const char *version, mkt_error *err)
{
    return tool_record_changed(id, db_exec(db,
                   "UPDATE tools SET status = 'published', latest_version = ?,"
                   " published_at = COALESCE(published_at, CURRENT_TIMESTAMP(6)), updated_at = CURRENT_TIMESTAMP(6)"
                   " WHERE id = ?",
                   DB_PARAMS(db_text(version), db_int(id)), NULL, err));
}

int tool_record_add_download(db *db, int64_t id, mkt_error *err)
{
    return tool_record_changed(
        id, db_exec(db, "UPDATE tools SET downloads = downloads + 1 WHERE id = ?", DB_PARAMS(db_int(id)), NULL, err));
}

int tool_record_rating_move(db *db, int64_t id, int old_rating, int new_rating, mkt_error *err)
{
    int64_t had = old_rating > 0, has = new_rating > 0;
    /* additions first, then subtractions: the columns are unsigned and a subtraction only ever
     * takes back what a row of reviews put there. The tool row first, then the totals row: every
     * rating change takes the two locks in that order. */
    if (db_exec(db,
                   "UPDATE tools SET rating_count = rating_count + ? - ?, rating_sum = rating_sum + ? - ?,"
                   " rating_1 = rating_1 + (? = 1) - (? = 1), rating_2 = rating_2 + (? = 2) - (? = 2),"
                   " rating_3 = rating_3 + (? = 3) - (? = 3), rating_4 = rating_4 + (? = 4) - (? = 4),"
                   " rating_5 = rating_5 + (? = 5) - (? = 5), reviews_version = reviews_version + 1 WHERE id = ?",
                   DB_PARAMS(db_int(has), db_int(had), db_int(new_rating), db_int(old_rating), db_int(new_rating),
                             db_int(old_rating), db_int(new_rating), db_int(old_rating), db_int(new_rating),
                             db_int(old_rating), db_int(new_rating), db_int(old_rating), db_int(new_rating),
                             db_int(old_rating), db_int(id)),
                   NULL, err) < 0)
        return -1;
    /* the totals are in every tool's Bayesian rating: every tool's view changes (0) */
    return tool_record_changed(0, db_exec(db,
                   "UPDATE rating_totals SET rating_count = rating_count + ? - ?, rating_sum = rating_sum + ? - ?"
                   " WHERE id = 1",
                   DB_PARAMS(db_int(has), db_int(had), db_int(new_rating), db_int(old_rating)), NULL, err));
}

int tool_record_rating_totals(db *db, int64_t *count, int64_t *sum, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT rating_count, rating_sum FROM rating_totals WHERE id = 1", DB_NO_PARAMS, &rows, err) < 0)
        return -1;
    *count = rows.row_count ? db_rows_int(&rows, 0, 0) : 0;
    *sum = rows.row_count ? db_rows_int(&rows, 0, 1) : 0;
    db_rows_free(&rows);
    return 0;
}

/* ---- reads for other modules ------------------------------------------------------------------ */

int tool_record_offer_locked(db *db, int64_t id, tool_record_offer *out, mkt_error *err)
{
    enum { OCOL_DEVELOPER, OCOL_STATUS, OCOL_MODEL, OCOL_PRICE, OCOL_CURRENCY, OCOL_PERIOD };
    memset(out, 0, sizeof *out);
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT developer_id, status, pricing_model, price_cents, currency, COALESCE(period_days, 0)"
                 " FROM tools WHERE id = ? LOCK IN SHARE MODE",
                 DB_PARAMS(db_int(id)), &rows, err) < 0)
        return -1;
    int rc = 0;
    if (rows.row_count == 0 || strcmp(db_rows_text(&rows, 0, OCOL_STATUS), "published") != 0) {
        rc = error_set(err, ERROR_NOT_FOUND, "no published tool %" PRId64, id);
    } else {
        out->developer_id = db_rows_int(&rows, 0, OCOL_DEVELOPER);
        out->price_cents = db_rows_int(&rows, 0, OCOL_PRICE);
        out->period_days = db_rows_int(&rows, 0, OCOL_PERIOD);
        snprintf(out->pricing_model, sizeof out->pricing_model, "%s", db_rows_text(&rows, 0, OCOL_MODEL));
        snprintf(out->currency, sizeof out->currency, "%s", db_rows_text(&rows, 0, OCOL_CURRENCY));
    }
    db_rows_free(&rows);
    return rc;
}

/* The columns of TOOL_RECORD_SUMMARY_COLUMNS, in order. */
enum { SCOL_ID, SCOL_SLUG, SCOL_NAME, SCOL_SUMMARY, SCOL_CATEGORY, SCOL_MODEL, SCOL_PRICE, SCOL_CURRENCY,
       SCOL_PERIOD, SCOL_LATEST, SCOL_DOWNLOADS, SCOL_RATING_COUNT, SCOL_RATING_SUM, SCOL_RATING_1,
       SCOL_ALL_RATING_COUNT = SCOL_RATING_1 + 5, SCOL_ALL_RATING_SUM, SCOL_COUNT };
_Static_assert(SCOL_COUNT == TOOL_RECORD_SUMMARY_COLUMN_COUNT, "TOOL_RECORD_SUMMARY_COLUMNS and its enum differ");

json_t *tool_record_summary_json(const db_rows *rows, size_t i)
{
    int64_t ratings[5];
    for (int k = 0; k < 5; k++)
        ratings[k] = db_rows_int(rows, i, SCOL_RATING_1 + (size_t)k);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s?, s:I, s:o}", "id", db_rows_text(rows, i, SCOL_ID), "slug",
                     db_rows_text(rows, i, SCOL_SLUG), "name", db_rows_text(rows, i, SCOL_NAME), "summary",
                     db_rows_text(rows, i, SCOL_SUMMARY), "category", db_rows_text(rows, i, SCOL_CATEGORY), "pricing",
                     tool_record_pricing_json(db_rows_text(rows, i, SCOL_MODEL), db_rows_int(rows, i, SCOL_PRICE),
                                              db_rows_text(rows, i, SCOL_CURRENCY), db_rows_int(rows, i, SCOL_PERIOD)),
                     "latest_version", db_rows_text(rows, i, SCOL_LATEST), "downloads",
                     (json_int_t)db_rows_int(rows, i, SCOL_DOWNLOADS), "rating",
                     tool_record_rating_json(db_rows_int(rows, i, SCOL_RATING_COUNT),
                                             db_rows_int(rows, i, SCOL_RATING_SUM), ratings,
                                             db_rows_int(rows, i, SCOL_ALL_RATING_COUNT),
                                             db_rows_int(rows, i, SCOL_ALL_RATING_SUM)));
}

json_t *tool_record_developer_tools(db *db, int64_t developer_id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT " TOOL_RECORD_SUMMARY_COLUMNS " FROM tools t " TOOL_RECORD_TOTALS_JOIN("g")
                 " WHERE t.developer_id = ? AND t.status = 'published' ORDER BY t.name, t.id",
                 DB_PARAMS(db_int(developer_id)), &rows, err) < 0)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; list && i < rows.row_count; i++) {
        if (json_array_append_new(list, tool_record_summary_json(&rows, i)) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    db_rows_free(&rows);
    if (!list)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return list;
}

/* One round trip: the tool's access facts and the version to run. */
#define TOOL_RECORD_TARGET_COLUMNS                                                                         \
    "SELECT t.id, t.developer_id, t.status, t.pricing_model, t.price_cents, t.currency, t.latest_version," \
    " v.version, v.input_schema, v.output_schema, v.code, t.plugins_version, v.id"                         \
    " FROM tools t LEFT JOIN tool_versions v ON v.tool_id = t.id AND v.version = COALESCE(?, t.latest_version)"

enum { XCOL_ID, XCOL_DEVELOPER_ID, XCOL_STATUS, XCOL_PRICING, XCOL_PRICE, XCOL_CURRENCY, XCOL_LATEST,
       XCOL_VERSION, XCOL_INPUT, XCOL_OUTPUT, XCOL_CODE, XCOL_PLUGINS_VERSION, XCOL_VERSION_ID };

#define TOOL_TARGET_INT(member, column) DB_FIELD(tool_record_target, member, column, DB_INT)
#define TOOL_TARGET_TEXT(member, column) DB_FIELD(tool_record_target, member, column, DB_TEXT)
static const db_field tool_record_target_fields[] = {
    TOOL_TARGET_INT(id, XCOL_ID),           TOOL_TARGET_INT(developer_id, XCOL_DEVELOPER_ID),
    TOOL_TARGET_TEXT(status, XCOL_STATUS),  TOOL_TARGET_TEXT(pricing_model, XCOL_PRICING),
    TOOL_TARGET_INT(price_cents, XCOL_PRICE), TOOL_TARGET_TEXT(currency, XCOL_CURRENCY),
    TOOL_TARGET_TEXT(latest_version, XCOL_LATEST), TOOL_TARGET_TEXT(version, XCOL_VERSION),
    TOOL_TARGET_TEXT(input_schema, XCOL_INPUT), TOOL_TARGET_TEXT(output_schema, XCOL_OUTPUT),
    TOOL_TARGET_TEXT(code, XCOL_CODE),      TOOL_TARGET_INT(plugins_version, XCOL_PLUGINS_VERSION),
    TOOL_TARGET_INT(version_id, XCOL_VERSION_ID),
};

static void tool_record_target_fill(tool_record_target *t)
{
    db_rows_into(&t->rows, 0, t, tool_record_target_fields,
                 sizeof tool_record_target_fields / sizeof tool_record_target_fields[0]);
    t->code_len = t->rows.cells[XCOL_CODE].len;
}

int tool_record_target_load(db *db, const char *ref, const char *version, tool_record_target *out, mkt_error *err)
{
    static const tool_record_ref_sql q = {TOOL_RECORD_TARGET_COLUMNS " WHERE t.slug = ?",
                                          TOOL_RECORD_TARGET_COLUMNS " WHERE t.id = ?"};
    memset(out, 0, sizeof *out);
    const db_value lead[] = {db_text(version)};
    if (tool_record_query_ref(db, &q, lead, 1, ref, &out->rows, err) < 0)
        return -1;
    tool_record_target_fill(out);
    return 0;
}

void tool_record_target_free(tool_record_target *t)
{
    db_rows_free(&t->rows);
    memset(t, 0, sizeof *t);
}

/* ---- bulk writes (marketplace seed --tools) -------------------------------------------------- */

int tool_record_bulk_taken(db *db, const char *const *slugs, size_t n, mkt_error *err)
{
    if (n == 0)
        return 0;
    char *sql = db_sql_rows("SELECT COUNT(*) FROM tools WHERE slug IN (", "?", ")", n, err);
    db_value *params = calloc(n, sizeof *params);
    if (!sql || !params) {
        free(sql);
        free(params);
        return error_is_set(err) ? -1 : error_set(err, ERROR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        params[i] = db_text(slugs[i]);
    db_rows rows = {0};
    int rc = db_query(db, sql, params, n, &rows, err);
    free(sql);
    free(params);
    if (rc < 0)
        return -1;
    int taken = (int)db_rows_int(&rows, 0, 0);
    db_rows_free(&rows);
    return taken;
}

#define TOOL_RECORD_BULK_PARAMS 26

static void tool_record_bulk_params(const tool_record_bulk_row *r, db_value *p)
{
    int64_t count = 0, sum = 0;
    for (int k = 0; k < 5; k++) {
        count += r->ratings[k];
        sum += r->ratings[k] * (k + 1);
    }
    size_t i = 0;
    p[i++] = db_text(r->slug);
    p[i++] = db_int(r->developer_id);
    p[i++] = db_text(r->name);
    p[i++] = db_text(r->summary);
    p[i++] = db_text(r->description);
    p[i++] = db_text(r->category);
    p[i++] = db_text(r->pricing.model);
    p[i++] = db_int(r->pricing.price_cents);
    p[i++] = db_text(r->pricing.currency);
    p[i++] = tool_record_period(&r->pricing);
    p[i++] = db_text(r->input_schema);
    p[i++] = db_text(r->output_schema);
    p[i++] = db_text(r->code);
    p[i++] = db_text(r->tests);
    p[i++] = db_text(r->version);
    p[i++] = db_int(r->downloads);
    p[i++] = db_int(count);
    p[i++] = db_int(sum);
    for (int k = 0; k < 5; k++)
        p[i++] = db_int(r->ratings[k]);
    for (int k = 0; k < 3; k++) /* created_at, updated_at, published_at */
        p[i++] = db_int(r->age_seconds);
}

static int tool_record_bulk_tags(db *db, const tool_record_bulk_row *rows, size_t n, const int64_t *ids,
                                 mkt_error *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += rows[i].tag_count;
    if (total == 0)
        return 0;
    db_value *params = calloc(total * 2, sizeof *params);
    if (!params)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < rows[i].tag_count; t++) {
            params[k++] = db_int(ids[i]);
            params[k++] = db_text(rows[i].tags[t]);
        }
    int rc = db_exec_rows(db, "INSERT INTO tool_tags (tool_id, tag) VALUES ", "(?, ?)", NULL, params, 2, total,
                          NULL, err);
    free(params);
    return rc;
}

/* The ids of a multi-row INSERT are consecutive when the last row holds first + n - 1. */
static int tool_record_bulk_check_ids(db *db, const tool_record_bulk_row *rows, size_t n, int64_t first,
                                      mkt_error *err)
{
    db_rows found = {0};
    if (db_query(db, "SELECT slug FROM tools WHERE id = ?", DB_PARAMS(db_int(first + (int64_t)n - 1)), &found, err) < 0)
        return -1;
    int same = found.row_count == 1 && strcmp(db_rows_text(&found, 0, 0), rows[n - 1].slug) == 0;
    db_rows_free(&found);
    return same ? 0
                : error_set(err, ERROR_INTERNAL, "a bulk insert did not get consecutive tool ids"
                            " (innodb_autoinc_lock_mode 2 with concurrent inserts?); run it again");
}

/* The marketplace-wide totals the Bayesian rating reads move with the batch's counters, in its
 * transaction, exactly as tool_record_rating_move moves them for one review. */
static int tool_record_bulk_totals(db *db, const tool_record_bulk_row *rows, size_t n, mkt_error *err)
{
    int64_t count = 0, sum = 0;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 5; k++) {
            count += rows[i].ratings[k];
            sum += rows[i].ratings[k] * (k + 1);
        }
    if (count == 0)
        return 0;
    return tool_record_changed(
        0, db_exec(db, "UPDATE rating_totals SET rating_count = rating_count + ?, rating_sum = rating_sum + ? WHERE id = 1",
                   DB_PARAMS(db_int(count), db_int(sum)), NULL, err));
}

int tool_record_bulk_insert(db *db, const tool_record_bulk_row *rows, size_t n, int64_t *ids, mkt_error *err)
{
    if (n == 0)
        return 0;
    if (n > TOOL_RECORD_BULK_MAX)
        return error_set(err, ERROR_INTERNAL, "internal error: more than %d tools in one bulk insert",
                         TOOL_RECORD_BULK_MAX);
    db_value *params = calloc(n * TOOL_RECORD_BULK_PARAMS, sizeof *params);
    if (!params)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        tool_record_bulk_params(&rows[i], params + i * TOOL_RECORD_BULK_PARAMS);
    db_result res = {0};
    int rc = db_exec_rows(db,
                          "INSERT INTO tools (slug, developer_id, name, summary, description, category, pricing_model,"
                          " price_cents, currency, period_days, input_schema, output_schema, code, tests,"
                          " latest_version, downloads, rating_count, rating_sum, rating_1, rating_2, rating_3,"
                          " rating_4, rating_5, created_at, updated_at, published_at, status) VALUES ",
                          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                          " NOW(6) - INTERVAL ? SECOND, NOW(6) - INTERVAL ? SECOND, NOW(6) - INTERVAL ? SECOND,"
                          " 'published')",
                          NULL,
                          params, TOOL_RECORD_BULK_PARAMS, n, &res, err);
    free(params);
    if (rc < 0)
        return db_last_errno(db) == DB_ER_DUP_ENTRY ? tool_record_slug_conflict(db, rows[0].slug, err) : -1;
    for (size_t i = 0; i < n; i++)
        ids[i] = (int64_t)res.insert_id + (int64_t)i;
    return tool_record_bulk_check_ids(db, rows, n, (int64_t)res.insert_id, err) < 0 ||
                   tool_record_bulk_tags(db, rows, n, ids, err) < 0 || tool_record_bulk_totals(db, rows, n, err) < 0
               ? -1
               : 0;
}

/* ---- for search ---------------------------------------------------------------------------------- */

/* One statement for any page: the ids fill a fixed list of placeholders (0, which names no tool,
 * pads the rest), and C puts the rows back in the order asked for. */
json_t *tool_record_summaries(db *db, const int64_t *ids, size_t count, mkt_error *err)
{
#define TOOL_RECORD_Q10 "?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
#define TOOL_RECORD_Q100 TOOL_RECORD_Q10 ", " TOOL_RECORD_Q10 ", " TOOL_RECORD_Q10 ", " TOOL_RECORD_Q10 ", " \
    TOOL_RECORD_Q10 ", " TOOL_RECORD_Q10 ", " TOOL_RECORD_Q10 ", " TOOL_RECORD_Q10 ", " TOOL_RECORD_Q10 ", " TOOL_RECORD_Q10
    db_value params[TOOL_RECORD_SUMMARIES_MAX];
    if (count > TOOL_RECORD_SUMMARIES_MAX)
        count = TOOL_RECORD_SUMMARIES_MAX;
    for (size_t i = 0; i < TOOL_RECORD_SUMMARIES_MAX; i++)
        params[i] = db_int(i < count ? ids[i] : 0);
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT t.id, t.slug, t.name, t.summary, t.category, t.pricing_model, t.price_cents, t.currency,"
                 " t.period_days, t.latest_version, t.downloads, t.rating_count, t.rating_sum, t.rating_1,"
                 " t.rating_2, t.rating_3, t.rating_4, t.rating_5, g.rating_count, g.rating_sum"
                 " FROM tools t " TOOL_RECORD_TOTALS_JOIN("g")
                 " WHERE t.status = 'published' AND t.id IN (" TOOL_RECORD_Q100 ")",
                 params, TOOL_RECORD_SUMMARIES_MAX, &rows, err) < 0)
        return NULL;
#undef TOOL_RECORD_Q100
#undef TOOL_RECORD_Q10
    json_t *list = json_array();
    for (size_t k = 0; list && k < count; k++) {
        for (size_t i = 0; i < rows.row_count; i++) {
            if (db_rows_int(&rows, i, SCOL_ID) != ids[k])
                continue;
            if (json_array_append_new(list, tool_record_summary_json(&rows, i)) < 0) {
                json_decref(list);
                list = NULL;
            }
            break;
        }
    }
    db_rows_free(&rows);
    if (!list)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return list;
}

/* ---- for composed tools (core/tool_compose) ---------------------------------------------------- */

int tool_record_slugs_published(db *db, const char *const *slugs, size_t n, int *found, mkt_error *err)
{
    size_t asked = 0;
    db_value params[TOOL_FIELDS_DEPENDENCIES_MAX];
    for (size_t i = 0; i < n && asked < TOOL_FIELDS_DEPENDENCIES_MAX; i++)
        if (slugs[i])
            params[asked++] = db_text(slugs[i]);
    if (asked == 0)
        return 0;
    char *sql = db_sql_rows("SELECT slug FROM tools WHERE status = 'published' AND slug IN (", "?", ")", asked, err);
    if (!sql)
        return -1;
    db_rows rows = {0};
    int rc = db_query(db, sql, params, asked, &rows, err);
    free(sql);
    for (size_t r = 0; rc == 0 && r < rows.row_count; r++)
        for (size_t i = 0; i < n; i++)
            if (slugs[i] && strcmp(slugs[i], db_rows_text(&rows, r, 0)) == 0)
                found[i] = 1;
    db_rows_free(&rows);
    return rc;
}

int tool_record_call_facts(db *db, int64_t id, tool_record_call *out, mkt_error *err)
{
    enum { FCOL_DEVELOPER, FCOL_STATUS, FCOL_MODEL, FCOL_PRICE, FCOL_CURRENCY, FCOL_PLUGINS };
    db_rows rows = {0};
    memset(out, 0, sizeof *out);
    if (db_query(db,
                 "SELECT developer_id, status, pricing_model, price_cents, currency, plugins_version FROM tools"
                 " WHERE id = ?",
                 DB_PARAMS(db_int(id)), &rows, err) < 0)
        return -1;
    if (rows.row_count == 0) {
        db_rows_free(&rows);
        return error_set(err, ERROR_NOT_FOUND, "the tool is gone");
    }
    out->id = id;
    out->developer_id = db_rows_int(&rows, 0, FCOL_DEVELOPER);
    snprintf(out->status, sizeof out->status, "%s", db_rows_text(&rows, 0, FCOL_STATUS));
    snprintf(out->pricing_model, sizeof out->pricing_model, "%s", db_rows_text(&rows, 0, FCOL_MODEL));
    out->price_cents = db_rows_int(&rows, 0, FCOL_PRICE);
    snprintf(out->currency, sizeof out->currency, "%s", db_rows_text(&rows, 0, FCOL_CURRENCY));
    out->plugins_version = db_rows_int(&rows, 0, FCOL_PLUGINS);
    db_rows_free(&rows);
    return 0;
}

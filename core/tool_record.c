#include "core/tool_record.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ident.h"
#include "core/tool_fields.h"

/* Bayesian average: the mean pulled towards a neutral prior by a few imaginary votes, so one 5-star
 * review does not outrank a hundred 4.8s. The ranking issue may replace the prior with the
 * marketplace-wide mean; unrated tools answer 0 so they are clearly "no rating yet". */
#define TOOL_RECORD_PRIOR_MEAN 3.0
#define TOOL_RECORD_PRIOR_WEIGHT 5.0

#define TOOL_RECORD_COLUMNS                                                                                 \
    "SELECT t.id, t.slug, t.developer_id, d.display_name, t.name, t.summary, t.description, t.category,"   \
    " t.pricing_model, t.price_cents, t.currency, t.period_days, t.status, t.latest_version, t.downloads,"  \
    " t.rating_count, t.rating_sum, t.rating_1, t.rating_2, t.rating_3, t.rating_4, t.rating_5, "          \
    TOOL_RECORD_TIME("t.created_at") ", " TOOL_RECORD_TIME("t.updated_at") ","                             \
    " (SELECT GROUP_CONCAT(g.tag ORDER BY g.tag SEPARATOR ',') FROM tool_tags g WHERE g.tool_id = t.id),"  \
    " t.input_schema, t.output_schema, t.tests, t.code, v.input_schema, v.output_schema"                   \
    " FROM tools t JOIN developers d ON d.id = t.developer_id"                                              \
    " LEFT JOIN tool_versions v ON v.tool_id = t.id AND v.version = t.latest_version"

enum {
    COL_ID, COL_SLUG, COL_DEVELOPER_ID, COL_DEVELOPER_NAME, COL_NAME, COL_SUMMARY, COL_DESCRIPTION,
    COL_CATEGORY, COL_PRICING_MODEL, COL_PRICE_CENTS, COL_CURRENCY, COL_PERIOD_DAYS, COL_STATUS,
    COL_LATEST_VERSION, COL_DOWNLOADS, COL_RATING_COUNT, COL_RATING_SUM, COL_RATING_1,
    COL_CREATED_AT = COL_RATING_1 + 5, COL_UPDATED_AT, COL_TAGS, COL_DRAFT_INPUT, COL_DRAFT_OUTPUT,
    COL_DRAFT_TESTS, COL_CODE, COL_PUBLISHED_INPUT, COL_PUBLISHED_OUTPUT,
};

int tool_record_ref_parse(const char *text, tool_ref *out)
{
    *out = (tool_ref){0, NULL};
    if (!text)
        return -1;
    if (ident_id_parse(text, &out->id) == 0)
        return 0;
    size_t len = strlen(text);
    if (len < 3 || len > TOOL_FIELDS_SLUG_MAX || strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789-") != len ||
        strspn(text, "0123456789") == len)
        return -1;
    out->slug = text;
    return 0;
}

static void tool_record_fill(tool_record *t)
{
    const db_rows *r = &t->rows;
    t->id = db_rows_int(r, 0, COL_ID);
    t->slug = db_rows_text(r, 0, COL_SLUG);
    t->developer_id = db_rows_int(r, 0, COL_DEVELOPER_ID);
    t->developer_name = db_rows_text(r, 0, COL_DEVELOPER_NAME);
    t->name = db_rows_text(r, 0, COL_NAME);
    t->summary = db_rows_text(r, 0, COL_SUMMARY);
    t->description = db_rows_text(r, 0, COL_DESCRIPTION);
    t->category = db_rows_text(r, 0, COL_CATEGORY);
    t->pricing_model = db_rows_text(r, 0, COL_PRICING_MODEL);
    t->price_cents = db_rows_int(r, 0, COL_PRICE_CENTS);
    t->currency = db_rows_text(r, 0, COL_CURRENCY);
    t->period_days = db_rows_int(r, 0, COL_PERIOD_DAYS);
    t->status = db_rows_text(r, 0, COL_STATUS);
    t->latest_version = db_rows_text(r, 0, COL_LATEST_VERSION);
    t->downloads = db_rows_int(r, 0, COL_DOWNLOADS);
    t->rating_count = db_rows_int(r, 0, COL_RATING_COUNT);
    t->rating_sum = db_rows_int(r, 0, COL_RATING_SUM);
    for (int i = 0; i < 5; i++)
        t->ratings[i] = db_rows_int(r, 0, COL_RATING_1 + i);
    t->created_at = db_rows_text(r, 0, COL_CREATED_AT);
    t->updated_at = db_rows_text(r, 0, COL_UPDATED_AT);
    t->tags = db_rows_text(r, 0, COL_TAGS);
    t->draft_input_schema = db_rows_text(r, 0, COL_DRAFT_INPUT);
    t->draft_output_schema = db_rows_text(r, 0, COL_DRAFT_OUTPUT);
    t->draft_tests = db_rows_text(r, 0, COL_DRAFT_TESTS);
    t->code = db_rows_text(r, 0, COL_CODE);
    t->code_len = r->cells[COL_CODE].len;
    t->published_input_schema = db_rows_text(r, 0, COL_PUBLISHED_INPUT);
    t->published_output_schema = db_rows_text(r, 0, COL_PUBLISHED_OUTPUT);
}

int tool_record_load(db *db, const char *ref, tool_record *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    tool_ref parsed;
    int rc;
    if (tool_record_ref_parse(ref, &parsed) < 0)
        return error_set(err, ERROR_NOT_FOUND, "no such tool");
    if (parsed.slug)
        rc = db_query(db, TOOL_RECORD_COLUMNS " WHERE t.slug = ?", DB_PARAMS(db_text(parsed.slug)), &out->rows, err);
    else
        rc = db_query(db, TOOL_RECORD_COLUMNS " WHERE t.id = ?", DB_PARAMS(db_int(parsed.id)), &out->rows, err);
    if (rc < 0)
        return -1;
    if (out->rows.row_count == 0) {
        db_rows_free(&out->rows);
        return error_set(err, ERROR_NOT_FOUND, "no tool \"%s\"", ref);
    }
    tool_record_fill(out);
    return 0;
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

int tool_record_is_owner(const tool_record *t, const account_caller *caller)
{
    return caller && caller->developer_id != 0 && caller->developer_id == t->developer_id;
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
    db_rows rows = {0};
    if (db_query(db, "SELECT 1 FROM tool_access WHERE user_id = ? AND tool_id = ? LIMIT 1",
                 DB_PARAMS(db_int(caller->user_id), db_int(tool_id)), &rows, err) < 0)
        return -1;
    int found = rows.row_count > 0;
    db_rows_free(&rows);
    return found;
}

int tool_record_find(db *db, const char *ref, const account_caller *caller, tool_record *out, mkt_error *err)
{
    if (tool_record_load(db, ref, out, err) < 0)
        return -1;
    if (!tool_record_visible(out, caller)) {
        int bought = strcmp(out->status, "delisted") == 0 ? tool_record_bought(db, out->id, caller, err) : 0;
        if (bought > 0)
            return 0;
        tool_record_free(out);
        return bought < 0 ? -1 : error_set(err, ERROR_NOT_FOUND, "no tool \"%s\"", ref);
    }
    return 0;
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

json_t *tool_record_rating_json(int64_t count, int64_t sum, const int64_t ratings[5])
{
    double average = count > 0 ? (double)sum / (double)count : 0.0;
    double bayesian = count > 0 ? (TOOL_RECORD_PRIOR_MEAN * TOOL_RECORD_PRIOR_WEIGHT + (double)sum) /
                                      (TOOL_RECORD_PRIOR_WEIGHT + (double)count)
                                : 0.0;
    /* two decimals are what a client shows; more would only look precise */
    average = round(average * 100.0) / 100.0;
    bayesian = round(bayesian * 100.0) / 100.0;
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
           json_object_set_new(tool, "tests", tool_record_cell_json(t->draft_tests));
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
                             tool_record_rating_json(t->rating_count, t->rating_sum, t->ratings), "downloads",
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

/* Owns tool_plans (see core/tool_plans.h): every statement that writes it is in this file. Reads
 * the tools row through core/tool_record and the buyer's terms through core/tool_access. */
#include "core/tool_plans.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/search.h"
#include "core/tool_record.h"

/* ---- rows ---------------------------------------------------------------------------------------- */

#define TOOL_PLANS_COLUMNS                                                                               \
    "SELECT id, tool_id, name, model, price_cents, currency, COALESCE(period_days, 0), COALESCE(quota, 0)," \
    " COALESCE(rate_per_minute, 0), default_for IS NOT NULL FROM tool_plans"
enum { PCOL_ID, PCOL_TOOL, PCOL_NAME, PCOL_MODEL, PCOL_PRICE, PCOL_CURRENCY, PCOL_PERIOD, PCOL_QUOTA, PCOL_RATE,
       PCOL_DEFAULT };

static void tool_plans_read_row(const db_rows *rows, size_t i, tool_plan *out)
{
    memset(out, 0, sizeof *out);
    out->id = db_rows_int(rows, i, PCOL_ID);
    out->tool_id = db_rows_int(rows, i, PCOL_TOOL);
    snprintf(out->name, sizeof out->name, "%s", db_rows_text(rows, i, PCOL_NAME));
    snprintf(out->pricing.model, sizeof out->pricing.model, "%s", db_rows_text(rows, i, PCOL_MODEL));
    out->pricing.price_cents = db_rows_int(rows, i, PCOL_PRICE);
    snprintf(out->pricing.currency, sizeof out->pricing.currency, "%s", db_rows_text(rows, i, PCOL_CURRENCY));
    out->pricing.period_days = db_rows_int(rows, i, PCOL_PERIOD);
    out->quota = db_rows_int(rows, i, PCOL_QUOTA);
    out->rate_per_minute = db_rows_int(rows, i, PCOL_RATE);
    out->is_default = db_rows_int(rows, i, PCOL_DEFAULT) != 0;
}

static const char *tool_plans_default_name(const char *model)
{
    return strcmp(model, "free") == 0 ? "Free" : strcmp(model, "one_time") == 0 ? "Standard" : "Subscription";
}

/* A tool with no plan rows (a new draft, a bulk-loaded tool) gets its default plan from its pricing.
 * The unique default_for key makes two workers doing this at once insert one row. */
static int tool_plans_ensure_default(db *db, int64_t tool_id, mkt_error *err)
{
    return db_exec(db,
                   "INSERT IGNORE INTO tool_plans (tool_id, position, name, model, price_cents, currency, period_days,"
                   " default_for)"
                   " SELECT t.id, 0, CASE t.pricing_model WHEN 'free' THEN 'Free' WHEN 'one_time' THEN 'Standard'"
                   " ELSE 'Subscription' END, t.pricing_model, t.price_cents, t.currency, t.period_days, t.id"
                   " FROM tools t WHERE t.id = ? AND NOT EXISTS (SELECT 1 FROM tool_plans p WHERE p.tool_id = t.id)",
                   DB_PARAMS(db_int(tool_id)), NULL, err);
}

static int tool_plans_select(db *db, int64_t tool_id, db_rows *rows, mkt_error *err)
{
    return db_query(db,
                    TOOL_PLANS_COLUMNS " WHERE tool_id = ? AND retired_at IS NULL ORDER BY default_for IS NULL, position, id",
                    DB_PARAMS(db_int(tool_id)), rows, err);
}

/* The tool's current plans, the default first then by position: *out malloc'd, *n of them. The
 * default plan is made from the pricing only when the tool has none yet, so a read stays a read. */
static int tool_plans_load(db *db, int64_t tool_id, tool_plan **out, size_t *n, mkt_error *err)
{
    *out = NULL;
    *n = 0;
    db_rows rows = {0};
    if (tool_plans_select(db, tool_id, &rows, err) < 0)
        return -1;
    if (rows.row_count == 0) {
        db_rows_free(&rows);
        if (tool_plans_ensure_default(db, tool_id, err) < 0 || tool_plans_select(db, tool_id, &rows, err) < 0)
            return -1;
    }
    tool_plan *plans = calloc(rows.row_count + 1, sizeof *plans);
    if (!plans) {
        db_rows_free(&rows);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < rows.row_count; i++)
        tool_plans_read_row(&rows, i, &plans[i]);
    *n = rows.row_count;
    *out = plans;
    db_rows_free(&rows);
    return 0;
}

json_t *tool_plans_json(const tool_plan *p)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, p->id);
    json_t *out = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b}", "id", id, "name", p->name, "model", p->pricing.model,
                            "price_cents", (json_int_t)p->pricing.price_cents, "currency", p->pricing.currency,
                            "default", p->is_default);
    if (out && p->pricing.period_days > 0 && strcmp(p->pricing.model, "subscription") == 0)
        json_object_set_new(out, "period_days", json_integer(p->pricing.period_days));
    if (out && p->quota > 0)
        json_object_set_new(out, "quota", json_integer(p->quota));
    if (out && p->rate_per_minute > 0)
        json_object_set_new(out, "rate_per_minute", json_integer(p->rate_per_minute));
    return out;
}

static json_t *tool_plans_list_json(int64_t tool_id, const tool_plan *plans, size_t n, mkt_error *err)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, tool_plans_json(&plans[i])) < 0) {
            json_decref(list);
            list = NULL;
        }
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, tool_id);
    json_t *out = list ? json_pack("{s:s, s:o}", "tool_id", id, "plans", list) : NULL;
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

static json_t *tool_plans_answer(db *db, int64_t tool_id, mkt_error *err)
{
    tool_plan *plans;
    size_t n;
    if (tool_plans_load(db, tool_id, &plans, &n, err) < 0)
        return NULL;
    json_t *out = tool_plans_list_json(tool_id, plans, n, err);
    free(plans);
    return out;
}

json_t *tool_plans_get(db *db, const account_caller *caller, const char *ref, mkt_error *err)
{
    tool_record t;
    if (tool_record_find(db, ref, caller, &t, err) < 0)
        return NULL;
    int64_t id = t.id;
    tool_record_free(&t);
    return tool_plans_answer(db, id, err);
}

/* ---- PUT: reading and checking the list ------------------------------------------------------------ */

typedef struct {
    tool_plan plan;
    int wants_default;
} tool_plans_input;

static void tool_plans_bad(mkt_error *err, size_t i, const char *member, const char *message)
{
    char field[48];
    snprintf(field, sizeof field, "plans[%zu].%s", i, member);
    error_add_field(err, field, "%s", message);
}

/* An optional positive integer member (null or absent: 0), at most max. */
static void tool_plans_read_limit(const json_t *item, size_t i, const char *member, int64_t max, int64_t *out,
                                  mkt_error *err)
{
    const json_t *v = json_object_get(item, member);
    *out = 0;
    if (!v || json_is_null(v))
        return;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
        char message[96];
        snprintf(message, sizeof message, "must be an integer from 1 to %" PRId64 ", or null for no limit", max);
        tool_plans_bad(err, i, member, message);
        return;
    }
    *out = json_integer_value(v);
}

static void tool_plans_read_item(const json_t *item, size_t i, tool_plans_input *out, mkt_error *err)
{
    static const char *const extra[] = {"id", "name", "quota", "rate_per_minute", "default", NULL};
    memset(out, 0, sizeof *out);
    if (!json_is_object(item)) {
        char field[24];
        snprintf(field, sizeof field, "plans[%zu]", i);
        error_add_field(err, field, "must be an object {name, model, price_cents, currency, period_days?, quota?,"
                                    " rate_per_minute?}");
        return;
    }
    char prefix[24];
    snprintf(prefix, sizeof prefix, "plans[%zu].", i);
    tool_fields_read_pricing(item, prefix, extra, &out->plan.pricing, err);
    const char *name = json_string_value(json_object_get(item, "name"));
    size_t len = name ? tool_fields_utf8_length(name) : 0;
    if (!name || len < 1 || len > TOOL_PLANS_NAME_MAX || strlen(name) != json_string_length(json_object_get(item, "name")))
        tool_plans_bad(err, i, "name", "must be 1 to 80 characters");
    else
        snprintf(out->plan.name, sizeof out->plan.name, "%s", name);
    tool_plans_read_limit(item, i, "quota", TOOL_PLANS_QUOTA_MAX, &out->plan.quota, err);
    tool_plans_read_limit(item, i, "rate_per_minute", TOOL_PLANS_RATE_MAX, &out->plan.rate_per_minute, err);
    const json_t *id = json_object_get(item, "id");
    if (id && !json_is_null(id) && tool_record_id_problem(id, &out->plan.id))
        tool_plans_bad(err, i, "id", "must be the id of one of the tool's plans (a string of digits)");
    const json_t *def = json_object_get(item, "default");
    if (def && !json_is_boolean(def))
        tool_plans_bad(err, i, "default", "must be true or false");
    out->wants_default = json_is_true(def);
}

/* Rules across the list: ids of this tool's current plans, each once; names once; one default. */
static void tool_plans_check_list(tool_plans_input *in, size_t n, const tool_plan *current, size_t current_n,
                                  mkt_error *err)
{
    size_t defaults = 0;
    for (size_t i = 0; i < n; i++) {
        defaults += in[i].wants_default != 0;
        int known = in[i].plan.id == 0;
        for (size_t c = 0; !known && c < current_n; c++)
            known = current[c].id == in[i].plan.id;
        if (!known)
            tool_plans_bad(err, i, "id", "is not one of the tool's plans (leave it out for a new plan)");
        for (size_t j = 0; j < i; j++) {
            if (in[i].plan.id != 0 && in[i].plan.id == in[j].plan.id)
                tool_plans_bad(err, i, "id", "appears twice");
            if (in[i].plan.name[0] && strcmp(in[i].plan.name, in[j].plan.name) == 0)
                tool_plans_bad(err, i, "name", "is the name of another plan");
        }
    }
    if (defaults > 1)
        error_add_field(err, "plans", "at most one plan may be the default");
    for (size_t i = 0; i < n; i++)
        in[i].plan.is_default = defaults ? in[i].wants_default : i == 0;
}

static int tool_plans_read_list(const json_t *body, tool_plans_input **out, size_t *n, mkt_error *err)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(body)) {
        error_add_field(err, "plans", "the body must be a JSON array of plans");
        return error_set(err, ERROR_VALIDATION, "invalid plans");
    }
    size_t count = json_array_size(body);
    if (count == 0 || count > TOOL_PLANS_MAX) {
        error_add_field(err, "plans", count == 0 ? "a tool sells at least one plan" : "a tool sells at most 5 plans");
        return error_set(err, ERROR_VALIDATION, "invalid plans");
    }
    tool_plans_input *in = calloc(count, sizeof *in);
    if (!in)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    for (size_t i = 0; i < count; i++)
        tool_plans_read_item(json_array_get(body, i), i, &in[i], err);
    *out = in;
    *n = count;
    return error_is_set(err) ? error_set(err, ERROR_VALIDATION, "invalid plans") : 0;
}

/* ---- PUT: writing --------------------------------------------------------------------------------- */

static db_value tool_plans_optional(int64_t v)
{
    return v > 0 ? db_int(v) : db_null();
}

static db_value tool_plans_period_value(const tool_pricing *p)
{
    return strcmp(p->model, "subscription") == 0 ? db_int(p->period_days) : db_null();
}

static int tool_plans_write_one(db *db, int64_t tool_id, size_t position, tool_plan *p, mkt_error *err)
{
    db_value tool_default = p->is_default ? db_int(tool_id) : db_null();
    if (p->id == 0) {
        db_result res = {0};
        if (db_exec(db,
                    "INSERT INTO tool_plans (tool_id, position, name, model, price_cents, currency, period_days, quota,"
                    " rate_per_minute, default_for) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    DB_PARAMS(db_int(tool_id), db_int((int64_t)position), db_text(p->name), db_text(p->pricing.model),
                              db_int(p->pricing.price_cents), db_text(p->pricing.currency),
                              tool_plans_period_value(&p->pricing), tool_plans_optional(p->quota),
                              tool_plans_optional(p->rate_per_minute), tool_default),
                    &res, err) < 0)
            return -1;
        p->id = (int64_t)res.insert_id;
        return 0;
    }
    return db_exec(db,
                   "UPDATE tool_plans SET position = ?, name = ?, model = ?, price_cents = ?, currency = ?,"
                   " period_days = ?, quota = ?, rate_per_minute = ?, default_for = ? WHERE id = ? AND tool_id = ?",
                   DB_PARAMS(db_int((int64_t)position), db_text(p->name), db_text(p->pricing.model),
                             db_int(p->pricing.price_cents), db_text(p->pricing.currency),
                             tool_plans_period_value(&p->pricing), tool_plans_optional(p->quota),
                             tool_plans_optional(p->rate_per_minute), tool_default, db_int(p->id), db_int(tool_id)),
                   NULL, err);
}

typedef struct {
    int64_t tool_id;
    const json_t *body;
} tool_plans_put_ctx;

/* Under the tool's row lock: check against the plans as they are now, retire the ones left out,
 * write the list, and mirror the default into the tool's pricing (and its search document). */
static int tool_plans_put_tx(db *db, void *arg, mkt_error *err)
{
    tool_plans_put_ctx *c = arg;
    tool_plan *current = NULL;
    tool_plans_input *in = NULL;
    size_t current_n = 0, n = 0;
    int rc = -1;
    if (tool_record_lock(db, c->tool_id, err) < 0 || tool_plans_load(db, c->tool_id, &current, &current_n, err) < 0)
        goto done;
    if (tool_plans_read_list(c->body, &in, &n, err) < 0)
        goto done;
    tool_plans_check_list(in, n, current, current_n, err);
    if (error_is_set(err)) {
        error_set(err, ERROR_VALIDATION, "invalid plans");
        goto done;
    }
    /* the default and the retired go first, so the unique default_for never sees two defaults */
    if (db_exec(db, "UPDATE tool_plans SET default_for = NULL WHERE tool_id = ?", DB_PARAMS(db_int(c->tool_id)), NULL,
                err) < 0)
        goto done;
    for (size_t k = 0; k < current_n; k++) {
        int kept = 0;
        for (size_t i = 0; i < n && !kept; i++)
            kept = in[i].plan.id == current[k].id;
        if (!kept && db_exec(db, "UPDATE tool_plans SET retired_at = NOW(6) WHERE id = ?",
                             DB_PARAMS(db_int(current[k].id)), NULL, err) < 0)
            goto done;
    }
    const tool_pricing *pricing = NULL;
    for (size_t i = 0; i < n; i++) {
        if (tool_plans_write_one(db, c->tool_id, i, &in[i].plan, err) < 0)
            goto done;
        if (in[i].plan.is_default)
            pricing = &in[i].plan.pricing;
    }
    rc = tool_record_set_pricing(db, c->tool_id, pricing, err) < 0 || search_index_tool(db, c->tool_id, err) < 0 ? -1 : 0;
done:
    free(current);
    free(in);
    return rc;
}

json_t *tool_plans_put(db *db, const account_caller *caller, const char *ref, const json_t *body, mkt_error *err)
{
    tool_record t;
    if (tool_record_find_owned(db, ref, caller, &t, err) < 0)
        return NULL;
    tool_plans_put_ctx c = {.tool_id = t.id, .body = body};
    tool_record_free(&t);
    if (db_transaction(db, tool_plans_put_tx, &c, err) < 0)
        return NULL;
    return tool_plans_answer(db, c.tool_id, err);
}

/* ---- checkout and drafts ---------------------------------------------------------------------------- */

int tool_plans_offer(db *db, int64_t tool_id, int64_t plan_id, tool_plan *out, mkt_error *err)
{
    if (tool_plans_ensure_default(db, tool_id, err) < 0)
        return -1;
    db_rows rows = {0};
    if (db_query(db,
                 plan_id ? TOOL_PLANS_COLUMNS " WHERE id = ? AND tool_id = ? AND retired_at IS NULL LOCK IN SHARE MODE"
                         : TOOL_PLANS_COLUMNS " WHERE default_for = ? AND tool_id = ? LOCK IN SHARE MODE",
                 DB_PARAMS(db_int(plan_id ? plan_id : tool_id), db_int(tool_id)), &rows, err) < 0)
        return -1;
    int found = rows.row_count == 1;
    if (found)
        tool_plans_read_row(&rows, 0, out);
    db_rows_free(&rows);
    if (found)
        return 0;
    error_add_field(err, "plan_id", "is not a plan this tool sells (GET /tools/{tool}/plans lists them)");
    return error_set(err, ERROR_VALIDATION, "no such plan");
}

int tool_plans_follow_pricing(db *db, int64_t tool_id, const tool_pricing *p, mkt_error *err)
{
    return db_exec(db,
                   /* name first: MariaDB assigns left to right, and it compares the old model */
                   "UPDATE tool_plans SET name = IF(model = ?, name, ?), model = ?, price_cents = ?, currency = ?,"
                   " period_days = ? WHERE default_for = ?",
                   DB_PARAMS(db_text(p->model), db_text(tool_plans_default_name(p->model)), db_text(p->model),
                             db_int(p->price_cents), db_text(p->currency), tool_plans_period_value(p),
                             db_int(tool_id)),
                   NULL, err);
}

/* ---- terms ------------------------------------------------------------------------------------------- */

void tool_plans_period(const char *model, int64_t period_days, time_t anchor, time_t now, time_t *start, time_t *end)
{
    if (strcmp(model, "subscription") == 0 && period_days > 0) {
        int64_t length = period_days * 86400;
        int64_t k = now > anchor ? (int64_t)(now - anchor) / length : 0;
        *start = anchor + (time_t)(k * length);
        *end = *start + (time_t)length;
        return;
    }
    struct tm tm;
    gmtime_r(&now, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    *start = timegm(&tm);
    tm.tm_mon += 1;
    *end = timegm(&tm);
}

/* In one round trip (this runs on every execution): the caller's access with its recorded terms
 * (source 1), else the tool's first free plan as it is now (source 0), else no row. The access
 * columns are core/tool_access's, read here read-only. */
int tool_plans_terms_for(db *db, int64_t user_id, int64_t tool_id, time_t now, tool_plans_terms *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    db_rows rows = {0};
    if (db_query(db,
                 "(SELECT 1, " TOOL_ACCESS_TERMS_COLUMNS " FROM tool_access WHERE user_id = ? AND tool_id = ?"
                 "   AND " TOOL_ACCESS_NOW_SQL ")"
                 " UNION ALL"
                 " (SELECT 0, id, name, model, 0, COALESCE(quota, 0), COALESCE(rate_per_minute, 0), 0 FROM tool_plans"
                 "   WHERE tool_id = ? AND retired_at IS NULL AND model = 'free'"
                 "   ORDER BY default_for IS NULL, position, id LIMIT 1)"
                 " ORDER BY 1 DESC LIMIT 1",
                 DB_PARAMS(db_int(user_id), db_int(tool_id), db_int(tool_id)), &rows, err) < 0)
        return -1;
    int found = rows.row_count > 0;
    if (found) {
        tool_access_terms a;
        tool_access_terms_read(&rows, 0, 1, &a);
        out->bought = db_rows_int(&rows, 0, 0) == 1;
        out->plan_id = a.plan_id;
        snprintf(out->plan_name, sizeof out->plan_name, "%s", a.plan_name);
        snprintf(out->model, sizeof out->model, "%s", a.model);
        out->quota = a.quota;
        out->rate_per_minute = a.rate_per_minute;
        tool_plans_period(a.model, a.period_days, (time_t)a.anchor, now, &out->period_start, &out->period_end);
    }
    db_rows_free(&rows);
    return found;
}

json_t *tool_plans_allowing_more(db *db, int64_t tool_id, int64_t plan_id, int64_t quota, mkt_error *err)
{
    tool_plan *plans;
    size_t n;
    if (tool_plans_load(db, tool_id, &plans, &n, err) < 0)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        if (plans[i].id == plan_id || (plans[i].quota > 0 && plans[i].quota <= quota))
            continue;
        if (json_array_append_new(list, tool_plans_json(&plans[i])) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    free(plans);
    if (!list)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return list;
}

/* ToolBuilder drafts: create, edit, delist, validate, test. Publishing and versions live in
 * tool_builder_versions.c. */
#include "core/tool_builder.h"

#include <stdlib.h>
#include <string.h>

#include "core/tool_check.h"
#include "core/tool_fields.h"
#include "core/tool_record.h"

/* The values a draft row is written with: the caller's fields where given, else the stored ones. */
typedef struct {
    const char *slug, *name, *summary, *description, *category, *code;
    size_t code_len;
    tool_pricing pricing;
    char *input_schema, *output_schema, *tests; /* JSON text, owned */
    const json_t *tags;                         /* NULL: leave the stored tags alone */
} tool_builder_row;

static void tool_builder_row_free(tool_builder_row *row)
{
    free(row->input_schema);
    free(row->output_schema);
    free(row->tests);
}

/* JSON text of a given field, else of a default (given as text). */
static char *tool_builder_json_text(const json_t *value, const char *fallback)
{
    if (value)
        return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    return strdup(fallback);
}

static int tool_builder_row_texts(tool_builder_row *row, const tool_fields *f, const char *input, const char *output,
                                  const char *tests, mkt_error *err)
{
    row->input_schema = tool_builder_json_text(f->input_schema, input);
    row->output_schema = tool_builder_json_text(f->output_schema, output);
    row->tests = tool_builder_json_text(f->tests, tests);
    if (!row->input_schema || !row->output_schema || !row->tests)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    return 0;
}

static int tool_builder_write_tags(db *db, int64_t id, const json_t *tags, mkt_error *err)
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

/* The unique key on slug is what decides "taken", so two concurrent creates cannot both win. */
static int tool_builder_slug_conflict(db *db, const char *slug, mkt_error *err)
{
    if (db_last_errno(db) != DB_ER_DUP_ENTRY)
        return -1;
    error_clear(err);
    error_set(err, ERROR_CONFLICT, "the slug \"%s\" is taken", slug);
    error_add_field(err, "slug", "is taken");
    return -1;
}

static db_value tool_builder_period(const tool_pricing *p)
{
    return p->period_days ? db_int(p->period_days) : db_null();
}

/* ---- create ------------------------------------------------------------------------------------ */

typedef struct {
    const account_caller *caller;
    tool_builder_row *row;
    int64_t id;
} tool_builder_create_ctx;

static int tool_builder_create_tx(db *db, void *arg, mkt_error *err)
{
    tool_builder_create_ctx *ctx = arg;
    const tool_builder_row *r = ctx->row;
    db_result res = {0};
    if (db_exec(db,
                "INSERT INTO tools (slug, developer_id, name, summary, description, category, pricing_model,"
                " price_cents, currency, period_days, input_schema, output_schema, code, tests)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                DB_PARAMS(db_text(r->slug), db_int(ctx->caller->developer_id), db_text(r->name), db_text(r->summary),
                          db_text(r->description), db_text(r->category), db_text(r->pricing.model),
                          db_int(r->pricing.price_cents), db_text(r->pricing.currency),
                          tool_builder_period(&r->pricing), db_text(r->input_schema), db_text(r->output_schema),
                          db_bytes(r->code, r->code_len), db_text(r->tests)),
                &res, err) < 0)
        return tool_builder_slug_conflict(db, r->slug, err);
    ctx->id = (int64_t)res.insert_id;
    return r->tags ? tool_builder_write_tags(db, ctx->id, r->tags, err) : 0;
}

static json_t *tool_builder_reload(db *db, const account_caller *caller, int64_t id, mkt_error *err)
{
    char ref[24];
    snprintf(ref, sizeof ref, "%lld", (long long)id);
    tool_record t;
    if (tool_record_load(db, ref, &t, err) < 0)
        return NULL;
    json_t *out = tool_record_json(&t, caller);
    tool_record_free(&t);
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

json_t *tool_builder_create(db *db, const account_caller *caller, const json_t *body, mkt_error *err)
{
    if (!caller || caller->developer_id == 0) {
        error_set(err, ERROR_FORBIDDEN, "create a developer profile first (POST /developers)");
        return NULL;
    }
    tool_fields f;
    if (tool_fields_read(db, body, TOOL_FIELD_SLUG | TOOL_FIELD_NAME | TOOL_FIELD_CATEGORY, &f, err) < 0)
        return NULL;
    tool_builder_row row = {
        .slug = f.slug, .name = f.name, .summary = f.summary ? f.summary : "",
        .description = f.description ? f.description : "", .category = f.category,
        .code = f.code ? f.code : "", .code_len = f.code ? f.code_len : 0, .tags = f.tags,
    };
    if (f.present & TOOL_FIELD_PRICING)
        row.pricing = f.pricing;
    else
        row.pricing = (tool_pricing){.model = "free", .price_cents = 0, .currency = "USD"};
    json_t *out = NULL;
    if (tool_builder_row_texts(&row, &f, "{}", "{}", "[]", err) == 0) {
        tool_builder_create_ctx ctx = {.caller = caller, .row = &row};
        if (db_transaction(db, tool_builder_create_tx, &ctx, err) == 0)
            out = tool_builder_reload(db, caller, ctx.id, err);
    }
    tool_builder_row_free(&row);
    return out;
}

/* ---- update ------------------------------------------------------------------------------------ */

typedef struct {
    const account_caller *caller;
    const tool_fields *f;
    int64_t id;
} tool_builder_update_ctx;

static void tool_builder_merge(tool_builder_row *row, const tool_fields *f, const tool_record *t)
{
    unsigned p = f->present;
    row->slug = (p & TOOL_FIELD_SLUG) ? f->slug : t->slug;
    row->name = (p & TOOL_FIELD_NAME) ? f->name : t->name;
    row->summary = (p & TOOL_FIELD_SUMMARY) ? f->summary : t->summary;
    row->description = (p & TOOL_FIELD_DESCRIPTION) ? f->description : t->description;
    row->category = (p & TOOL_FIELD_CATEGORY) ? f->category : t->category;
    row->code = (p & TOOL_FIELD_CODE) ? f->code : t->code;
    row->code_len = (p & TOOL_FIELD_CODE) ? f->code_len : t->code_len;
    row->tags = (p & TOOL_FIELD_TAGS) ? f->tags : NULL;
    if (p & TOOL_FIELD_PRICING) {
        row->pricing = f->pricing;
    } else {
        memset(&row->pricing, 0, sizeof row->pricing);
        snprintf(row->pricing.model, sizeof row->pricing.model, "%s", t->pricing_model);
        snprintf(row->pricing.currency, sizeof row->pricing.currency, "%s", t->currency);
        row->pricing.price_cents = t->price_cents;
        row->pricing.period_days = t->period_days;
    }
}

/* Runs under the tool's row lock and merges into the row as it is now, so two edits of different
 * fields both survive. */
static int tool_builder_update_tx(db *db, void *arg, mkt_error *err)
{
    tool_builder_update_ctx *ctx = arg;
    char ref[24];
    snprintf(ref, sizeof ref, "%lld", (long long)ctx->id);
    tool_record t;
    if (tool_record_lock(db, ctx->id, err) < 0 || tool_record_load(db, ref, &t, err) < 0)
        return -1;
    const tool_fields *f = ctx->f;
    if ((f->present & TOOL_FIELD_SLUG) && strcmp(f->slug, t.slug) != 0 && t.latest_version) {
        tool_record_free(&t);
        error_add_field(err, "slug", "cannot change once a version is published");
        return error_set(err, ERROR_VALIDATION, "the tool has invalid fields");
    }
    tool_builder_row row;
    memset(&row, 0, sizeof row);
    tool_builder_merge(&row, f, &t);
    int rc = tool_builder_row_texts(&row, f, t.draft_input_schema, t.draft_output_schema, t.draft_tests, err);
    if (rc == 0 &&
        db_exec(db,
                "UPDATE tools SET slug = ?, name = ?, summary = ?, description = ?, category = ?, pricing_model = ?,"
                " price_cents = ?, currency = ?, period_days = ?, input_schema = ?, output_schema = ?, code = ?,"
                " tests = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
                DB_PARAMS(db_text(row.slug), db_text(row.name), db_text(row.summary), db_text(row.description),
                          db_text(row.category), db_text(row.pricing.model), db_int(row.pricing.price_cents),
                          db_text(row.pricing.currency), tool_builder_period(&row.pricing),
                          db_text(row.input_schema), db_text(row.output_schema), db_bytes(row.code, row.code_len),
                          db_text(row.tests), db_int(ctx->id)),
                NULL, err) < 0)
        rc = tool_builder_slug_conflict(db, row.slug, err);
    if (rc == 0 && row.tags)
        rc = tool_builder_write_tags(db, ctx->id, row.tags, err);
    tool_builder_row_free(&row);
    tool_record_free(&t);
    return rc;
}

json_t *tool_builder_update(db *db, const account_caller *caller, const char *ref, const json_t *body,
                            mkt_error *err)
{
    tool_record t;
    if (tool_record_find_owned(db, ref, caller, &t, err) < 0)
        return NULL;
    int64_t id = t.id;
    tool_record_free(&t);
    tool_fields f;
    if (tool_fields_read(db, body, 0, &f, err) < 0)
        return NULL;
    if (f.present) {
        tool_builder_update_ctx ctx = {.caller = caller, .f = &f, .id = id};
        if (db_transaction(db, tool_builder_update_tx, &ctx, err) < 0)
            return NULL;
    }
    return tool_builder_reload(db, caller, id, err);
}

/* ---- delist ------------------------------------------------------------------------------------ */

int tool_builder_delist(db *db, const account_caller *caller, const char *ref, mkt_error *err)
{
    tool_record t;
    if (tool_record_load(db, ref, &t, err) < 0)
        return -1;
    int owner = tool_record_is_owner(&t, caller);
    int admin = caller && (caller->roles & ACCOUNT_ROLE_ADMIN);
    int visible = tool_record_visible(&t, caller);
    int64_t id = t.id;
    tool_record_free(&t);
    if (!owner && !admin) {
        if (!visible)
            return error_set(err, ERROR_NOT_FOUND, "no tool \"%s\"", ref);
        return error_set(err, ERROR_FORBIDDEN, "only the tool's developer or an admin may delist it");
    }
    return db_exec(db,
                   "UPDATE tools SET status = 'delisted', updated_at = CURRENT_TIMESTAMP(6)"
                   " WHERE id = ? AND status <> 'delisted'",
                   DB_PARAMS(db_int(id)), NULL, err);
}

/* ---- validate and test ------------------------------------------------------------------------ */

typedef struct {
    json_t *input_schema, *output_schema, *tests;
    tool_check_draft draft;
} tool_builder_draft;

static void tool_builder_draft_free(tool_builder_draft *d)
{
    json_decref(d->input_schema);
    json_decref(d->output_schema);
    json_decref(d->tests);
}

static int tool_builder_draft_load(const tool_record *t, tool_builder_draft *d, mkt_error *err)
{
    memset(d, 0, sizeof *d);
    d->input_schema = tool_record_parse(t->draft_input_schema, err);
    d->output_schema = d->input_schema ? tool_record_parse(t->draft_output_schema, err) : NULL;
    d->tests = d->output_schema ? tool_record_parse(t->draft_tests, err) : NULL;
    if (!d->tests) {
        tool_builder_draft_free(d);
        return -1;
    }
    d->draft = (tool_check_draft){.input_schema = d->input_schema, .output_schema = d->output_schema,
                                  .tests = d->tests, .code = t->code, .code_len = t->code_len};
    return 0;
}

typedef json_t *(*tool_builder_check_fn)(const config *cfg, const tool_check_draft *d, mkt_error *err);

static json_t *tool_builder_on_draft(db *db, const config *cfg, const account_caller *caller, const char *ref,
                                     tool_builder_check_fn fn, mkt_error *err)
{
    tool_record t;
    if (tool_record_find_owned(db, ref, caller, &t, err) < 0)
        return NULL;
    tool_builder_draft d;
    json_t *out = NULL;
    if (tool_builder_draft_load(&t, &d, err) == 0) {
        out = fn(cfg, &d.draft, err);
        tool_builder_draft_free(&d);
    }
    tool_record_free(&t);
    return out;
}

json_t *tool_builder_validate(db *db, const config *cfg, const account_caller *caller, const char *ref,
                              mkt_error *err)
{
    return tool_builder_on_draft(db, cfg, caller, ref, tool_check_validate, err);
}

json_t *tool_builder_test(db *db, const config *cfg, const account_caller *caller, const char *ref, mkt_error *err)
{
    return tool_builder_on_draft(db, cfg, caller, ref, tool_check_run_tests, err);
}

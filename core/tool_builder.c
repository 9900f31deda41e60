/* ToolBuilder drafts: create, edit, delist, validate, test. Publishing and versions live in
 * tool_builder_versions.c. */
#include "core/tool_builder.h"

#include <stdlib.h>
#include <string.h>

#include "core/search.h"
#include "core/tool_check.h"
#include "core/tool_compose.h"
#include "core/tool_fields.h"
#include "core/tool_plans.h"
#include "core/tool_record.h"

static void tool_builder_row_free(tool_record_draft *row)
{
    free(row->input_schema);
    free(row->output_schema);
    free(row->tests);
    free(row->dependencies);
}

/* JSON text of a given field, else of a default (given as text). */
static char *tool_builder_json_text(const json_t *value, const char *fallback)
{
    if (value)
        return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    return strdup(fallback);
}

static int tool_builder_row_texts(tool_record_draft *row, const tool_fields *f, const char *input, const char *output,
                                  const char *tests, const char *dependencies, mkt_error *err)
{
    row->input_schema = tool_builder_json_text(f->input_schema, input);
    row->output_schema = tool_builder_json_text(f->output_schema, output);
    row->tests = tool_builder_json_text(f->tests, tests);
    row->dependencies = tool_builder_json_text(f->dependencies, dependencies ? dependencies : "{}");
    if (!row->input_schema || !row->output_schema || !row->tests || !row->dependencies)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    return 0;
}

/* A draft may not call itself: checked against the slug the row ends up with (a PATCH may change the
 * slug, or the dependencies, or both). */
static int tool_builder_self_dependency(const tool_record_draft *row, mkt_error *err)
{
    json_t *deps = json_loads(row->dependencies, 0, NULL);
    int self = json_object_get(deps, row->slug) != NULL;
    json_decref(deps);
    if (!self)
        return 0;
    char field[TOOL_FIELDS_SLUG_MAX + 16];
    snprintf(field, sizeof field, "dependencies.%s", row->slug);
    error_add_field(err, field, "a tool cannot depend on itself");
    return error_set(err, ERROR_VALIDATION, "the tool has invalid fields");
}

/* ---- create ------------------------------------------------------------------------------------ */

typedef struct {
    const account_caller *caller;
    tool_record_draft *row;
    int64_t id;
} tool_builder_create_ctx;

static int tool_builder_create_tx(db *db, void *arg, mkt_error *err)
{
    tool_builder_create_ctx *ctx = arg;
    return tool_record_insert(db, ctx->caller->developer_id, ctx->row, &ctx->id, err);
}

static json_t *tool_builder_reload(db *db, const account_caller *caller, int64_t id, mkt_error *err)
{
    char ref[24];
    snprintf(ref, sizeof ref, "%lld", (long long)id);
    tool_record t;
    return tool_record_load(db, ref, &t, err) < 0 ? NULL : tool_record_json_take(&t, caller, err);
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
    tool_record_draft row = {
        .slug = f.slug, .name = f.name, .summary = f.summary ? f.summary : "",
        .description = f.description ? f.description : "", .category = f.category,
        .code = f.code ? f.code : "", .code_len = f.code ? f.code_len : 0, .tags = f.tags,
    };
    if (f.present & TOOL_FIELD_PRICING)
        row.pricing = f.pricing;
    else
        row.pricing = (tool_pricing){.model = "free", .price_cents = 0, .currency = "USD"};
    json_t *out = NULL;
    if (tool_builder_row_texts(&row, &f, "{}", "{}", "[]", "{}", err) == 0) {
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

static void tool_builder_merge(tool_record_draft *row, const tool_fields *f, const tool_record *t)
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
    tool_record_draft row;
    memset(&row, 0, sizeof row);
    tool_builder_merge(&row, f, &t);
    int rc = tool_builder_row_texts(&row, f, t.draft_input_schema, t.draft_output_schema, t.draft_tests,
                                    t.draft_dependencies, err);
    if (rc == 0)
        rc = tool_builder_self_dependency(&row, err);
    if (rc == 0)
        rc = tool_record_update_draft(db, ctx->id, &row, err);
    /* the pricing is the default plan's: the plan follows (core/tool_plans) */
    if (rc == 0 && (f->present & TOOL_FIELD_PRICING))
        rc = tool_plans_follow_pricing(db, ctx->id, &row.pricing, err);
    /* the listing fields of a published tool live in this row: its search document follows now */
    if (rc == 0)
        rc = search_index_tool(db, ctx->id, err);
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

/* The row and its search document change together, so a delisted tool is never found. */
static int tool_builder_delist_tx(db *db, void *arg, mkt_error *err)
{
    int64_t id = *(const int64_t *)arg;
    if (tool_record_delist(db, id, err) < 0)
        return -1;
    return search_index_tool(db, id, err);
}

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
    return db_transaction(db, tool_builder_delist_tx, &id, err);
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

/* validate lists dependencies that do not resolve with the other problems; its result is {valid, errors}. */
static json_t *tool_builder_add_problems(json_t *out, mkt_error *problems, mkt_error *err)
{
    json_t *errors = json_object_get(out, "errors");
    if (tool_check_append_errors(errors, problems, "dependencies") < 0 ||
        json_object_set_new(out, "valid", json_false()) < 0) {
        json_decref(out);
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    return out;
}

/* Runs fn on the caller's draft with its dependencies resolved now (test runs call what publishing
 * would store). Dependencies that do not resolve fail the request (422), except for validate
 * (list_problems), which lists them. */
static json_t *tool_builder_on_draft(db *db, const config *cfg, const account_caller *caller, const char *ref,
                                     tool_builder_check_fn fn, int list_problems, mkt_error *err)
{
    tool_record t;
    if (tool_record_find_owned(db, ref, caller, &t, err) < 0)
        return NULL;
    tool_compose_owner owner = {.developer_id = t.developer_id, .user_id = caller->user_id};
    tool_compose_resolved deps;
    mkt_error problems = MKT_ERROR_INIT;
    tool_builder_draft d;
    json_t *out = NULL;
    int resolved = tool_compose_resolve(db, t.draft_dependencies, &owner, &deps, &problems) == 0;
    if (!resolved && (problems.kind != ERROR_VALIDATION || !list_problems))
        error_move(err, &problems);
    else if (tool_builder_draft_load(&t, &d, err) == 0) {
        tool_compose_session *session = resolved ? tool_compose_for_draft(db, cfg, t.slug, &deps, &owner) : NULL;
        d.draft.calls = tool_compose_calls(session);
        if (resolved && !session)
            error_set(err, ERROR_INTERNAL, "out of memory");
        else
            out = fn(cfg, &d.draft, err);
        if (out && !resolved)
            out = tool_builder_add_problems(out, &problems, err);
        tool_compose_session_free(session);
        tool_builder_draft_free(&d);
    }
    error_clear(&problems);
    tool_compose_resolved_free(&deps);
    tool_record_free(&t);
    return out;
}

json_t *tool_builder_validate(db *db, const config *cfg, const account_caller *caller, const char *ref,
                              mkt_error *err)
{
    return tool_builder_on_draft(db, cfg, caller, ref, tool_check_validate, 1, err);
}

json_t *tool_builder_test(db *db, const config *cfg, const account_caller *caller, const char *ref, mkt_error *err)
{
    return tool_builder_on_draft(db, cfg, caller, ref, tool_check_run_tests, 0, err);
}

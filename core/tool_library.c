#include "core/tool_library.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/activity.h"
#include "core/api_key.h"
#include "core/body.h"
#include "core/hook_system.h"
#include "core/quota.h"
#include "core/schema.h"
#include "core/semver.h"
#include "core/tool_access.h"
#include "core/tool_cache.h"
#include "core/tool_check.h"
#include "core/tool_compose.h"
#include "core/tool_plans.h"
#include "core/tool_record.h"
#include "core/throttle.h"
#include "core/tool_usage.h"

/* ---- reading ------------------------------------------------------------------------------------ */

char *tool_library_get_text(db *db, const account_caller *caller, const char *ref, mkt_error *err)
{
    int64_t tool_id = 0;
    int owner = 0;
    char *text = tool_cache_view(db, caller, ref, &tool_id, &owner, err);
    /* a view is someone else reading the tool's page: the developer's own reads are not audience */
    if (text && !owner)
        activity_count_view(db, tool_id);
    return text;
}

json_t *tool_library_get(db *db, const account_caller *caller, const char *ref, mkt_error *err)
{
    char *text = tool_library_get_text(db, caller, ref, err);
    json_t *out = text ? json_loads(text, 0, NULL) : NULL;
    if (text && !out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    free(text);
    return out;
}

json_t *tool_library_categories(db *db, mkt_error *err)
{
    enum { CCOL_NAME, CCOL_LABEL, CCOL_COUNT };
    db_rows rows = {0};
    if (db_query(db,
                 "SELECT c.name, c.label,"
                 " (SELECT COUNT(*) FROM tools t WHERE t.category = c.name AND t.status = 'published')"
                 " FROM categories c ORDER BY c.position, c.name",
                 DB_NO_PARAMS, &rows, err) < 0)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; list && i < rows.row_count; i++) {
        if (json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "name", db_rows_text(&rows, i, CCOL_NAME),
                                                  "label", db_rows_text(&rows, i, CCOL_LABEL), "count",
                                                  (json_int_t)db_rows_int(&rows, i, CCOL_COUNT))) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    db_rows_free(&rows);
    json_t *out = list ? json_pack("{s:o}", "categories", list) : NULL;
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

static struct {
    char **names;
    size_t count;
    int loaded;
} tool_library_category_names;

static int tool_library_category_load(db *db, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, "SELECT name FROM categories", DB_NO_PARAMS, &rows, err) < 0)
        return -1;
    char **names = calloc(rows.row_count + 1, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; names && i < rows.row_count; i++)
        if ((names[n] = strdup(db_rows_text(&rows, i, 0))))
            n++;
    db_rows_free(&rows);
    if (!names || n < rows.row_count) {
        for (size_t i = 0; names && i < n; i++)
            free(names[i]);
        free(names);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    tool_library_category_names.names = names;
    tool_library_category_names.count = n;
    tool_library_category_names.loaded = 1;
    return 0;
}

int tool_library_category_exists(db *db, const char *name, mkt_error *err)
{
    if (!tool_library_category_names.loaded && tool_library_category_load(db, err) < 0)
        return -1;
    for (size_t i = 0; i < tool_library_category_names.count; i++)
        if (strcmp(tool_library_category_names.names[i], name) == 0)
            return 1;
    return 0;
}

json_t *tool_library_developer_tools(db *db, int64_t developer_id, mkt_error *err)
{
    return tool_record_developer_tools(db, developer_id, err);
}

/* ---- access ------------------------------------------------------------------------------------- */

/* tool_library_can_execute, and the terms the caller runs on (plan_id 0 and no quota for the tool's
 * developer and for a free tool that has no plan rows yet). */
static int tool_library_access(db *db, const account_caller *caller, const tool_library_tool *tool,
                               tool_plans_terms *terms, mkt_error *err)
{
    memset(terms, 0, sizeof *terms);
    if (!caller)
        return error_set(err, ERROR_UNAUTHORIZED, "sign in to run tools");
    if (api_key_allows_tool(caller, tool->id, err) < 0) /* a key that names tools runs those only */
        return -1;
    if (caller->developer_id != 0 && caller->developer_id == tool->developer_id)
        return 0;
    int published = strcmp(tool->status, "published") == 0;
    /* a purchase keeps working when the tool is delisted later: buyers keep what they paid for; a
     * free plan serves anyone signed in while the tool is published */
    if (strcmp(tool->status, "draft") != 0) {
        int found = tool_plans_terms_for(db, caller->user_id, tool->id, time(NULL), terms, err);
        if (found < 0)
            return -1;
        if (found && (terms->bought || published))
            return 0;
        memset(terms, 0, sizeof *terms);
    }
    if (published && strcmp(tool->pricing_model, "free") == 0)
        return 0;
    if (!published)
        return error_set(err, ERROR_FORBIDDEN, "the tool is not available");
    return error_set(err, ERROR_PAYMENT_REQUIRED, "this tool costs %" PRId64 " %s (minor units); buy it first",
                     tool->price_cents, tool->currency);
}

int tool_library_can_execute(db *db, const account_caller *caller, const tool_library_tool *tool, mkt_error *err)
{
    tool_plans_terms terms;
    return tool_library_access(db, caller, tool, &terms, err);
}

/* ---- execute ------------------------------------------------------------------------------------ */

typedef struct {
    const json_t *input;
    const char *version; /* NULL: the latest */
} tool_library_request;

static int tool_library_read_request(const json_t *body, tool_library_request *out, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return error_set(err, ERROR_VALIDATION, "the body must be a JSON object {input, version?}");
    static const char *const allowed[] = {"input", "version", NULL};
    body_unknown_fields(body, allowed, err);
    out->input = json_object_get(body, "input");
    if (!out->input)
        error_add_field(err, "input", "is required (the JSON value the tool's handler gets)");
    const json_t *version = json_object_get(body, "version");
    if (version && !json_is_null(version)) {
        semver v;
        mkt_error parse_err = MKT_ERROR_INIT;
        if (!json_is_string(version) || semver_parse(json_string_value(version), &v, &parse_err) < 0)
            error_add_field(err, "version", "must be a published semantic version such as 1.0.0");
        else
            out->version = json_string_value(version);
        if (out->version)
            semver_free(&v);
        error_clear(&parse_err);
    }
    if (error_is_set(err))
        return error_set(err, ERROR_VALIDATION, "invalid execute request");
    return 0;
}

static void tool_library_count(db *db, const tool_library_tool *t, const account_caller *caller)
{
    tool_usage_event e = {.kind = TOOL_USAGE_RUN, .tool_id = t->id, .user_id = caller->user_id,
                          .pricing_model = t->pricing_model, .by_developer = caller->developer_id == t->developer_id};
    tool_usage_record_run(db, &e);
    if (!e.by_developer)
        activity_user_tool_run(db, caller->user_id, t->id);
}

/* The afterExecute chain's result still has to be a valid output. */
static json_t *tool_library_output_checked(json_t *output, const json_t *output_schema, mkt_error *err)
{
    if (output && schema_validate(output_schema, output, "output", err) < 0) {
        if (err->kind == ERROR_VALIDATION)
            error_set(err, ERROR_VALIDATION, "the output the plugins produced does not match the tool's output schema");
        json_decref(output);
        return NULL;
    }
    return output;
}

/* input -> tool:beforeExecute chain -> the tool (schemas and sandbox) -> tool:afterExecute chain. The
 * hooks share one request budget; the tool's own run keeps its caps. */
static json_t *tool_library_run_chained(db *db, const config *cfg, const char *ref, const tool_record_target *x,
                                        const json_t *input_schema, const json_t *output_schema, const json_t *input,
                                        const sandbox_calls *calls, json_t *trace, uint64_t *duration, mkt_error *err)
{
    tool_check_budget budget;
    tool_check_budget_start(&budget, cfg);
    json_t *context = json_pack("{s:s, s:s}", "tool", ref, "tool_version", x->version);
    if (!context) {
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    json_t *in = hook_system_run_chain(db, cfg, x->id, x->plugins_version, PLUGIN_HOOK_TOOL_BEFORE_EXECUTE, input,
                                       context, &budget, trace, err);
    /* behind plugins the tool's own run gets at most what the hooks left of the budget, so the whole
     * request's code stays within sandbox_request_* (and so below the master's request_timeout) */
    config capped = *cfg;
    sandbox_limits left;
    if (in && x->plugins_version && hook_system_limits(cfg, &budget, &left) < 0) {
        error_set(err, ERROR_VALIDATION, "the plugins spent the request's sandbox budget before the tool ran");
        error_add_field(err, "plugins", "request budget exhausted (%lld ms)", (long long)budget.ms);
        json_decref(in);
        in = NULL;
    } else if (in && x->plugins_version) {
        capped.sandbox_timeout_ms = left.timeout_ms;
        capped.sandbox_instructions = left.instructions;
    }
    json_t *output = in ? tool_check_execute_calls(&capped, x->code, x->code_len, input_schema, output_schema, in,
                                                   calls, duration, err)
                        : NULL;
    json_t *out = output ? hook_system_run_chain(db, cfg, x->id, x->plugins_version, PLUGIN_HOOK_TOOL_AFTER_EXECUTE,
                                                 output, context, &budget, trace, err)
                         : NULL;
    if (out && out != output)
        out = tool_library_output_checked(out, output_schema, err);
    json_decref(in);
    json_decref(output);
    json_decref(context);
    return out;
}

static json_t *tool_library_run(db *db, const config *cfg, const account_caller *caller, const char *ref,
                                const tool_library_tool *t, const tool_cache_target *c, const json_t *input,
                                json_t *trace, mkt_error *err)
{
    const tool_record_target *x = &c->target;
    const json_t *input_schema = c->input_schema, *output_schema = c->output_schema;
    json_t *out = NULL;
    /* tools.call: the version's stored dependencies, loaded on its first call; each call is counted */
    tool_compose_session *session = tool_compose_for_version(db, cfg, x->version_id, 1);
    if (!session)
        error_set(err, ERROR_INTERNAL, "out of memory");
    if (session) {
        uint64_t duration = 0;
        json_t *output = tool_library_run_chained(db, cfg, ref, x, input_schema, output_schema, input,
                                                  tool_compose_calls(session), trace, &duration, err);
        if (output) {
            tool_library_count(db, t, caller);
            out = json_pack("{s:o, s:s, s:I}", "output", output, "version", x->version, "duration_us",
                            (json_int_t)duration);
            if (!out || (trace && json_object_set(out, "trace", trace) < 0))
                error_set(err, ERROR_INTERNAL, "out of memory");
        }
    }
    tool_compose_session_free(session);
    return out;
}

/* Which answer wins: an unknown or invisible tool (404), then access (401/402/403), then a bad body
 * (422), then the version (409 none published, 404 unknown). */
static json_t *tool_library_execute_found(db *db, const config *cfg, const account_caller *caller, const char *ref,
                                          const tool_cache_target *c, const tool_library_request *req,
                                          json_t *trace, mkt_error *body_err, mkt_error *err)
{
    const tool_record_target *x = &c->target;
    tool_library_tool t = {.id = x->id, .developer_id = x->developer_id, .status = x->status,
                           .pricing_model = x->pricing_model, .price_cents = x->price_cents, .currency = x->currency};
    if (!tool_record_visible_to(t.status, t.developer_id, caller)) {
        int bought = strcmp(t.status, "delisted") == 0 ? tool_record_bought(db, t.id, caller, err) : 0;
        if (bought < 0)
            return NULL;
        if (!bought) {
            error_set(err, ERROR_NOT_FOUND, "no tool \"%s\"", ref);
            return NULL;
        }
    }
    tool_plans_terms terms;
    if (tool_library_access(db, caller, &t, &terms, err) < 0)
        return NULL;
    /* the plan's rate_per_minute (0: none), counted per buyer and tool in shared memory
     * (core/throttle); over it, 429 with Retry-After — before the quota, so a refused run uses none */
    if (throttle_check(throttle_key(THROTTLE_KIND_PLAN, caller->user_id, t.id), terms.rate_per_minute, "plan", err) < 0)
        return NULL;
    /* a trace shows which plugins run and how: the tool's own business */
    if (trace && caller->developer_id != t.developer_id) {
        error_set(err, ERROR_FORBIDDEN, "only the tool's developer may ask for a trace");
        return NULL;
    }
    if (error_is_set(body_err)) {
        error_move(err, body_err);
        return NULL;
    }
    if (!x->latest_version) {
        error_set(err, ERROR_CONFLICT, "the tool has no published version yet");
        return NULL;
    }
    if (!x->version) {
        error_set(err, ERROR_NOT_FOUND, "the tool has no version %s", req->version);
        return NULL;
    }
    /* the plan's quota: one unit taken before the run, kept when it succeeds (core/quota) */
    quota_ticket ticket;
    if (quota_take(db, cfg, caller->user_id, t.id, &terms, &ticket, err) < 0)
        return NULL;
    json_t *out = tool_library_run(db, cfg, caller, ref, &t, c, req->input, trace, err);
    quota_settle(db, &ticket, out != NULL);
    return out;
}

json_t *tool_library_execute(db *db, const config *cfg, const account_caller *caller, const char *ref,
                             const json_t *body, mkt_error *err)
{
    return tool_library_execute_traced(db, cfg, caller, ref, body, 0, err);
}

json_t *tool_library_execute_traced(db *db, const config *cfg, const account_caller *caller, const char *ref,
                                    const json_t *body, int want_trace, mkt_error *err)
{
    json_t *trace = want_trace ? json_array() : NULL;
    tool_library_request req;
    mkt_error body_err = MKT_ERROR_INIT;
    tool_library_read_request(body, &req, &body_err);
    json_t *out = NULL;
    /* the version to run comes from this worker's cache while the tool is unchanged (core/tool_cache) */
    const tool_cache_target *c = ref ? tool_cache_target_get(db, ref, req.version, err) : NULL;
    if (c)
        out = tool_library_execute_found(db, cfg, caller, ref, c, &req, trace, &body_err, err);
    error_clear(&body_err);
    json_decref(trace);
    return out;
}

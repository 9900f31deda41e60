/* ToolBuilder versions: publishing the draft as an immutable semver snapshot, and listing versions
 * newest first by semver precedence (which SQL cannot order: pre-release identifiers compare
 * numerically or lexically per identifier).
 *
 * Owns the tool_versions table (the only file that writes it); core/tool_record.c joins it read-only
 * into a tool's document and into the version an execution runs. */
#include "core/tool_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/body.h"
#include "core/paging.h"
#include "core/search.h"
#include "core/semver.h"
#include "core/tool_check.h"
#include "core/tool_compose.h"
#include "core/tool_fields.h"
#include "core/tool_record.h"

/* The resolved dependencies come along as "slug@version,..." (neither contains '@' or ','). */
#define TOOL_BUILDER_VERSION_COLUMNS                                                                        \
    "SELECT tool_id, version, changelog, " TOOL_RECORD_TIME("created_at") ", input_schema, output_schema," \
    " (SELECT GROUP_CONCAT(CONCAT(dt.slug, '@', dv.version) ORDER BY dt.slug SEPARATOR ',')"              \
    " FROM tool_dependencies x JOIN tools dt ON dt.id = x.dep_tool_id"                                    \
    " JOIN tool_versions dv ON dv.id = x.dep_version_id WHERE x.version_id = tool_versions.id)"           \
    " FROM tool_versions"

enum { VCOL_TOOL_ID, VCOL_VERSION, VCOL_CHANGELOG, VCOL_CREATED_AT, VCOL_INPUT, VCOL_OUTPUT, VCOL_DEPENDENCIES };

/* {"slug": "version", ...} from the "slug@version,..." column (NULL: none). */
static json_t *tool_builder_dependencies_json(const char *text)
{
    json_t *out = json_object();
    char *copy = text ? strdup(text) : NULL, *save = NULL;
    for (char *item = copy ? strtok_r(copy, ",", &save) : NULL; out && item; item = strtok_r(NULL, ",", &save)) {
        char *at = strchr(item, '@');
        if (at) {
            *at = '\0';
            json_object_set_new(out, item, json_string(at + 1));
        }
    }
    free(copy);
    return out;
}

/* Pre-release: a '-' before any build metadata ("1.0.0+build-5" is a release). */
static int tool_builder_is_prerelease(const char *version)
{
    return memchr(version, '-', strcspn(version, "+")) != NULL;
}

static json_t *tool_builder_version_json(const db_rows *rows, size_t i)
{
    const char *version = db_rows_text(rows, i, VCOL_VERSION);
    return json_pack("{s:s, s:s, s:b, s:s, s:s, s:o, s:o, s:o}", "tool_id", db_rows_text(rows, i, VCOL_TOOL_ID),
                     "version", version, "prerelease", tool_builder_is_prerelease(version), "changelog",
                     db_rows_text(rows, i, VCOL_CHANGELOG), "created_at", db_rows_text(rows, i, VCOL_CREATED_AT),
                     "input_schema", json_loads(db_rows_text(rows, i, VCOL_INPUT), JSON_DECODE_ANY, NULL),
                     "output_schema", json_loads(db_rows_text(rows, i, VCOL_OUTPUT), JSON_DECODE_ANY, NULL),
                     "dependencies", tool_builder_dependencies_json(db_rows_text(rows, i, VCOL_DEPENDENCIES)));
}

/* ---- publish ------------------------------------------------------------------------------------ */

typedef struct {
    const char *version, *changelog;
} tool_builder_publish_body;

static int tool_builder_publish_read(const json_t *body, tool_builder_publish_body *out, semver *v, mkt_error *err)
{
    memset(out, 0, sizeof *out);
    memset(v, 0, sizeof *v);
    if (!json_is_object(body))
        return error_set(err, ERROR_VALIDATION, "the body must be a JSON object {version, changelog}");
    static const char *const allowed[] = {"version", "changelog", NULL};
    body_unknown_fields(body, allowed, err);
    const json_t *version = json_object_get(body, "version");
    mkt_error parse_err = MKT_ERROR_INIT;
    if (!version)
        error_add_field(err, "version", "is required (a semantic version such as 1.0.0)");
    else if (!json_is_string(version))
        error_add_field(err, "version", "must be a string (a semantic version such as 1.0.0)");
    else if (semver_parse(json_string_value(version), v, &parse_err) < 0)
        error_add_field(err, "version", "%s", parse_err.message ? parse_err.message : "is not a semantic version");
    else
        out->version = json_string_value(version);
    error_clear(&parse_err);
    const json_t *changelog = json_object_get(body, "changelog");
    out->changelog = "";
    if (changelog && (!json_is_string(changelog) ||
                      tool_fields_utf8_length(json_string_value(changelog)) > TOOL_BUILDER_CHANGELOG_MAX ||
                      strlen(json_string_value(changelog)) != json_string_length(changelog)))
        error_add_field(err, "changelog", "must be a string of at most %d characters", TOOL_BUILDER_CHANGELOG_MAX);
    else if (changelog)
        out->changelog = json_string_value(changelog);
    if (error_is_set(err)) {
        semver_free(v);
        return error_set(err, ERROR_VALIDATION, "invalid publish request");
    }
    return 0;
}

/* 409 unless v is greater than latest (NULL: nothing published yet). */
static int tool_builder_check_greater(const semver *v, const char *version, const char *latest, mkt_error *err)
{
    if (!latest)
        return 0;
    semver current;
    /* Only a version stored before numbers were bounded (SEMVER_NUMBER_MAX) can fail here: nothing
     * within the bound is greater than it, so that is a conflict, not a server fault. */
    if (semver_parse(latest, &current, NULL) < 0)
        return error_set(err, ERROR_CONFLICT, "the latest published version %s is past the version bound; no later "
                         "version can be published", latest);
    int cmp = semver_compare(v, &current);
    semver_free(&current);
    if (cmp <= 0)
        return error_set(err, ERROR_CONFLICT, "version %s is not greater than the latest published version %s",
                         version, latest);
    return 0;
}

/* The draft must validate and every test must pass; a test that failed or was not run (the request's
 * budget ran out) becomes a field error. The check and the tests share d's budget. */
static int tool_builder_publish_gate(const config *cfg, const tool_check_draft *d, mkt_error *err)
{
    int problems = tool_check_draft_errors(cfg, d, err);
    if (problems < 0)
        return -1;
    if (problems > 0)
        return error_set(err, ERROR_VALIDATION, "the draft does not validate (see POST /validate)");
    json_t *run = tool_check_run_tests(cfg, d, err);
    if (!run)
        return -1;
    json_t *results = json_object_get(run, "results");
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *r = json_array_get(results, i);
        if (json_is_true(json_object_get(r, "passed")))
            continue;
        char field[32];
        snprintf(field, sizeof field, "tests[%zu]", i);
        int not_run = strcmp(json_string_value(json_object_get(r, "status")) ?: "", "not_run") == 0;
        error_add_field(err, field, "\"%s\" %s: %s", json_string_value(json_object_get(r, "name")),
                        not_run ? "was not run" : "failed", json_string_value(json_object_get(r, "error")));
    }
    json_int_t failed = json_integer_value(json_object_get(run, "failed"));
    json_int_t not_run = json_integer_value(json_object_get(run, "not_run"));
    json_decref(run);
    if (failed > 0 && not_run > 0)
        return error_set(err, ERROR_VALIDATION,
                         "%lld of the tool's tests failed and %lld were not run (request budget exhausted)",
                         (long long)failed, (long long)not_run);
    if (not_run > 0)
        return error_set(err, ERROR_VALIDATION, "%lld of the tool's tests were not run (request budget exhausted)",
                         (long long)not_run);
    if (failed > 0)
        return error_set(err, ERROR_VALIDATION, "%lld of the tool's tests failed", (long long)failed);
    return 0;
}

typedef struct {
    const tool_record *t;
    const semver *v;
    const tool_builder_publish_body *body;
    const tool_compose_resolved *deps;
    int64_t version_id;
} tool_builder_publish_ctx;

/* Under the row lock the latest version and status are read again: of two concurrent publishes the
 * second sees the first's version and gets its 409. The snapshot is the draft as loaded and tested,
 * not whatever an edit may have stored since. */
static int tool_builder_publish_tx(db *db, void *arg, mkt_error *err)
{
    tool_builder_publish_ctx *ctx = arg;
    const tool_record *t = ctx->t;
    tool_record_publish_state state;
    if (tool_record_lock(db, t->id, err) < 0 || tool_record_publish_state_read(db, t->id, &state, err) < 0)
        return -1;
    int rc = 0;
    if (strcmp(state.status, "delisted") == 0)
        rc = error_set(err, ERROR_CONFLICT, "the tool is delisted");
    if (rc == 0)
        rc = tool_builder_check_greater(ctx->v, ctx->body->version, state.latest_version, err);
    tool_record_publish_state_free(&state);
    if (rc < 0)
        return -1;
    db_result res = {0};
    const semver *v = ctx->v;
    if (db_exec(db,
                "INSERT INTO tool_versions (tool_id, version, major, minor, patch, prerelease, changelog,"
                " input_schema, output_schema, code, tests) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                DB_PARAMS(db_int(t->id), db_text(ctx->body->version), db_int((int64_t)v->major),
                          db_int((int64_t)v->minor), db_int((int64_t)v->patch), db_text(v->prerelease),
                          db_text(ctx->body->changelog), db_text(t->draft_input_schema),
                          db_text(t->draft_output_schema), db_bytes(t->code, t->code_len), db_text(t->draft_tests)),
                &res, err) < 0) {
        if (db_last_errno(db) == DB_ER_DUP_ENTRY)
            error_set(err, ERROR_CONFLICT, "version %s is already published", ctx->body->version);
        return -1;
    }
    ctx->version_id = (int64_t)res.insert_id;
    /* the calls this version makes, stored with it once the graph checks pass */
    if (tool_compose_publish(db, t->id, t->slug, ctx->version_id, ctx->deps, err) < 0)
        return -1;
    if (tool_record_mark_published(db, t->id, ctx->body->version, err) < 0)
        return -1;
    return search_index_tool(db, t->id, err); /* searchable when the publish commits, not later */
}

static json_t *tool_builder_version_get(db *db, int64_t version_id, mkt_error *err)
{
    db_rows rows = {0};
    if (db_query(db, TOOL_BUILDER_VERSION_COLUMNS " WHERE id = ?", DB_PARAMS(db_int(version_id)), &rows, err) < 0)
        return NULL;
    json_t *out = rows.row_count ? tool_builder_version_json(&rows, 0) : NULL;
    db_rows_free(&rows);
    if (!out)
        error_set(err, ERROR_INTERNAL, "cannot read the new version back");
    return out;
}

static json_t *tool_builder_publish_checked(db *db, const config *cfg, const tool_record *t, const semver *v,
                                            const tool_builder_publish_body *body, const tool_compose_owner *owner,
                                            mkt_error *err)
{
    if (strcmp(t->status, "delisted") == 0) {
        error_set(err, ERROR_CONFLICT, "the tool is delisted");
        return NULL;
    }
    /* cheap 409 before the tests run; the transaction checks again under the lock */
    if (tool_builder_check_greater(v, body->version, t->latest_version, err) < 0)
        return NULL;
    json_t *input = tool_record_parse(t->draft_input_schema, err);
    json_t *output = input ? tool_record_parse(t->draft_output_schema, err) : NULL;
    json_t *tests = output ? tool_record_parse(t->draft_tests, err) : NULL;
    json_t *out = NULL;
    /* resolved once: the tests run the callee versions the new version will store */
    tool_compose_resolved deps;
    tool_compose_session *session = NULL;
    if (tests && tool_compose_resolve(db, t->draft_dependencies, owner, &deps, err) == 0 &&
        !(session = tool_compose_for_draft(db, cfg, t->slug, &deps, owner)))
        error_set(err, ERROR_INTERNAL, "out of memory");
    if (session) {
        tool_check_budget budget;
        tool_check_budget_start(&budget, cfg);
        tool_check_draft d = {.input_schema = input, .output_schema = output, .tests = tests, .code = t->code,
                              .code_len = t->code_len, .budget = &budget, .calls = tool_compose_calls(session)};
        tool_builder_publish_ctx ctx = {.t = t, .v = v, .body = body, .deps = &deps};
        if (tool_builder_publish_gate(cfg, &d, err) == 0 && db_transaction(db, tool_builder_publish_tx, &ctx, err) == 0)
            out = tool_builder_version_get(db, ctx.version_id, err);
    }
    tool_compose_session_free(session);
    if (tests)
        tool_compose_resolved_free(&deps);
    json_decref(input);
    json_decref(output);
    json_decref(tests);
    return out;
}

json_t *tool_builder_publish(db *db, const config *cfg, const account_caller *caller, const char *ref,
                             const json_t *body, mkt_error *err)
{
    tool_record t;
    if (tool_record_find_owned(db, ref, caller, &t, err) < 0)
        return NULL;
    semver v;
    tool_builder_publish_body req;
    json_t *out = NULL;
    if (tool_builder_publish_read(body, &req, &v, err) == 0) {
        tool_compose_owner owner = {.developer_id = t.developer_id, .user_id = caller->user_id};
        out = tool_builder_publish_checked(db, cfg, &t, &v, &req, &owner, err);
        semver_free(&v);
    }
    tool_record_free(&t);
    return out;
}

/* ---- versions ----------------------------------------------------------------------------------- */

typedef struct {
    semver v;
    size_t row;
} tool_builder_sorted;

static int tool_builder_newest_first(const void *a, const void *b)
{
    const tool_builder_sorted *x = a, *y = b;
    int cmp = semver_compare(&y->v, &x->v);
    /* equal precedence (build metadata only) cannot be published twice, but keep the order total */
    return cmp ? cmp : (x->row < y->row) - (x->row > y->row);
}

static json_t *tool_builder_versions_page(const db_rows *rows, int64_t page, int64_t per_page, mkt_error *err)
{
    size_t n = rows->row_count;
    tool_builder_sorted *sorted = calloc(n ? n : 1, sizeof *sorted);
    json_t *items = json_array();
    json_t *out = NULL;
    if (!sorted || !items)
        goto done;
    for (size_t i = 0; i < n; i++) {
        sorted[i].row = i;
        if (semver_parse(db_rows_text(rows, i, VCOL_VERSION), &sorted[i].v, NULL) < 0)
            memset(&sorted[i].v, 0, sizeof sorted[i].v); /* sorts as 0.0.0; cannot happen for stored rows */
    }
    qsort(sorted, n, sizeof *sorted, tool_builder_newest_first);
    size_t first = (size_t)paging_offset(page, per_page);
    for (size_t i = first; i < n && i < first + (size_t)per_page; i++)
        if (json_array_append_new(items, tool_builder_version_json(rows, sorted[i].row)) < 0)
            goto done;
    out = paging_list(json_incref(items), (int64_t)n, page, per_page, err);
done:
    for (size_t i = 0; sorted && i < n; i++)
        semver_free(&sorted[i].v);
    free(sorted);
    json_decref(items);
    if (!out && !error_is_set(err))
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

json_t *tool_builder_versions(db *db, const account_caller *caller, const char *ref, int64_t page,
                              int64_t per_page, mkt_error *err)
{
    if (paging_check(page, per_page, err) < 0)
        return NULL;
    tool_record t;
    if (tool_record_find(db, ref, caller, &t, err) < 0)
        return NULL;
    db_rows rows = {0};
    json_t *out = NULL;
    if (db_query(db, TOOL_BUILDER_VERSION_COLUMNS " WHERE tool_id = ?", DB_PARAMS(db_int(t.id)), &rows, err) == 0)
        out = tool_builder_versions_page(&rows, page, per_page, err);
    db_rows_free(&rows);
    tool_record_free(&t);
    return out;
}

/* ---- bulk versions (marketplace seed --tools) ------------------------------------------------ */

#define TOOL_BUILDER_BULK_PARAMS 11

int tool_builder_bulk_versions(db *db, const tool_builder_bulk_version *rows, size_t n, mkt_error *err)
{
    if (n == 0)
        return 0;
    db_value *params = calloc(n * TOOL_BUILDER_BULK_PARAMS, sizeof *params);
    if (!params)
        return error_set(err, ERROR_INTERNAL, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        semver v;
        if (semver_parse(rows[i].version, &v, err) < 0)
            rc = -1;
        else if (v.prerelease)
            rc = error_set(err, ERROR_INTERNAL, "internal error: bulk version %s is a pre-release", rows[i].version);
        semver_free(&v);
        db_value *p = params + i * TOOL_BUILDER_BULK_PARAMS;
        size_t k = 0;
        p[k++] = db_int(rows[i].tool_id);
        p[k++] = db_text(rows[i].version);
        p[k++] = db_int((int64_t)v.major);
        p[k++] = db_int((int64_t)v.minor);
        p[k++] = db_int((int64_t)v.patch);
        p[k++] = db_text(rows[i].changelog);
        p[k++] = db_text(rows[i].input_schema);
        p[k++] = db_text(rows[i].output_schema);
        p[k++] = db_text(rows[i].code);
        p[k++] = db_text(rows[i].tests);
        p[k++] = db_int(rows[i].age_seconds);
    }
    if (rc == 0)
        rc = db_exec_row_batches(db,
                                 "INSERT INTO tool_versions (tool_id, version, major, minor, patch, changelog,"
                                 " input_schema, output_schema, code, tests, created_at) VALUES ",
                                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NOW(6) - INTERVAL ? SECOND)", params,
                                 TOOL_BUILDER_BULK_PARAMS, n, TOOL_BUILDER_BULK_MAX, err);
    free(params);
    return rc;
}

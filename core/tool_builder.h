/* ToolBuilder: a developer's side of a tool — drafts (create, edit, delist), validating and testing
 * the draft in the sandbox, publishing immutable semver versions, and listing them.
 *
 * `ref` is a tool id or slug. Ownership: an action on a tool the caller cannot see is 404; on a tool
 * the caller sees but does not own it is 403.
 *
 * Tables: tool_builder_versions.c owns tool_versions (the only file that writes it); the tools row
 * and its tags are written through core/tool_record, which owns them; every change to a tool that
 * search sees (publish, edit, delist) also calls search_index_tool (core/search) in its transaction. */
#ifndef CORE_TOOL_BUILDER_H
#define CORE_TOOL_BUILDER_H

#include <jansson.h>

#include "core/account.h"
#include "core/config.h"
#include "core/error.h"
#include "sql/db.h"

#define TOOL_BUILDER_CHANGELOG_MAX 10000

/* POST /tools: a new draft owned by the caller's developer profile. Required: slug, name, category;
 * defaults: summary/description "", tags [], pricing free in USD, schemas {} (anything), code "",
 * tests []. 422 naming every bad field, 409 slug taken, 403 when the caller has no developer profile. */
json_t *tool_builder_create(db *db, const account_caller *caller, const json_t *body, mkt_error *err);

/* PATCH /tools/{tool}: changes the given draft fields with the same rules; published versions never
 * change. The slug may change only until the first publish (links and receipts name it after). */
json_t *tool_builder_update(db *db, const account_caller *caller, const char *ref, const json_t *body,
                            mkt_error *err);

/* DELETE /tools/{tool}: the owner or an admin delists the tool (kept for those who own it). */
int tool_builder_delist(db *db, const account_caller *caller, const char *ref, mkt_error *err);

/* POST /tools/{tool}/validate -> {valid, errors[]} */
json_t *tool_builder_validate(db *db, const config *cfg, const account_caller *caller, const char *ref,
                              mkt_error *err);

/* POST /tools/{tool}/test -> {passed, failed, results[]} */
json_t *tool_builder_test(db *db, const config *cfg, const account_caller *caller, const char *ref, mkt_error *err);

/* POST /tools/{tool}/publish {version, changelog?} -> the version. 422 for a bad version, a draft that
 * does not validate or any failing test (each listed); 409 when the version is not greater than every
 * published one, or the tool is delisted. */
json_t *tool_builder_publish(db *db, const config *cfg, const account_caller *caller, const char *ref,
                             const json_t *body, mkt_error *err);

/* GET /tools/{tool}/versions -> {items[], total, page, per_page} (core/paging.h), newest first by
 * semver precedence. */
json_t *tool_builder_versions(db *db, const account_caller *caller, const char *ref, int64_t page,
                              int64_t per_page, mkt_error *err);

/* ---- bulk versions (marketplace seed --tools) ---- */

/* One published version as a bulk load writes it (the tools row comes from tool_record_bulk_insert,
 * with the same version as its latest_version). version is a release (no pre-release part). */
typedef struct {
    int64_t tool_id, age_seconds; /* created this long ago */
    const char *version, *changelog, *input_schema, *output_schema, *code, *tests;
} tool_builder_bulk_version;

/* Inserts the n versions, at most TOOL_BUILDER_BULK_MAX per statement, inside the caller's
 * db_transaction. ERROR_INTERNAL when a version does not parse. */
#define TOOL_BUILDER_BULK_MAX 1000
int tool_builder_bulk_versions(db *db, const tool_builder_bulk_version *rows, size_t n, mkt_error *err);

#endif

/* One tool as stored: loading a row by id or slug, who may see or change it, and its JSON views.
 * Shared by tool_builder (drafts, publishing) and tool_library (reading, executing) so the
 * visibility rules and the shape of a tool exist once.
 *
 * Owns the tools and tool_tags tables: every write to them is a function below (drafts, delisting,
 * publishing, the download counter, the rating counters), and other files read them through these
 * functions. Owns rating_totals too: the count and sum of the visible reviews of all tools (the
 * Bayesian rating's global mean), moved with each tool's counters by tool_record_rating_move. The reads here join developers (the display name) and tool_versions (the published
 * schemas, the version to run), read-only; docs/architecture.md lists every table's owner. */
#ifndef CORE_TOOL_RECORD_H
#define CORE_TOOL_RECORD_H

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/error.h"
#include "core/service.h"
#include "core/tool_fields.h"
#include "sql/db.h"

/* RFC 3339 UTC from a DATETIME column (the connection's time_zone is +00:00). */
#define TOOL_RECORD_TIME(column) "DATE_FORMAT(" column ", '%Y-%m-%dT%H:%i:%sZ')"

typedef struct {
    db_rows rows; /* owns every string below */
    int64_t id, developer_id;
    const char *slug, *developer_name, *name, *summary, *description, *category;
    const char *pricing_model, *currency, *status;
    const char *latest_version; /* NULL before the first publish */
    int64_t price_cents, period_days; /* period_days 0 unless a subscription */
    int64_t downloads, rating_count, rating_sum, ratings[5];
    int64_t all_rating_count, all_rating_sum; /* rating_totals: every tool's visible reviews */
    const char *created_at, *updated_at;
    const char *tags; /* "a,b,c" sorted, NULL when none */
    /* the draft, as JSON text (code as plain text) */
    const char *draft_input_schema, *draft_output_schema, *draft_tests, *code;
    size_t code_len;
    /* the latest published version's schemas as JSON text, NULL before the first publish */
    const char *published_input_schema, *published_output_schema;
    const char *draft_dependencies; /* JSON text {"slug": "range", ...} (core/tool_compose.h) */
} tool_record;

/* The few columns a check of a tool needs (who may see it, how many visible reviews it has, the
 * version of its review list) without the texts, code and schemas tool_record_load reads. */
typedef struct {
    int64_t id, developer_id, rating_count, reviews_version;
    char status[16];
    int64_t plugins_version; /* the version of its plugin chain (core/hook_system) */
} tool_record_glance;

/* tool_record_find's rule on the glance: the tool named by ref when the caller (NULL: anonymous) may
 * see it, a delisted one also to its buyers. 404 otherwise. */
int tool_record_glance_find(db *db, const char *ref, const account_caller *caller, tool_record_glance *out,
                            mkt_error *err);

/* Is the caller the glanced tool's developer? (tool_record_is_owner's rule) */
int tool_record_glance_owned(const tool_record_glance *g, const account_caller *caller);

/* Moves tool id's reviews_version inside the caller's transaction: every change to what its public
 * review list shows calls this (tool_record_rating_move does it as part of its own update). */
int tool_record_reviews_touch(db *db, int64_t id, mkt_error *err);

/* Moves tool id's plugins_version inside the caller's transaction: core/plugin_manager calls this
 * whenever the tool's stored plugin chain changes, so every worker's cached chain is dropped. */
int tool_record_plugins_touch(db *db, int64_t id, mkt_error *err);

/* Loads the tool named by ref (a decimal id or a slug). 404 when there is no such tool. */
int tool_record_load(db *db, const char *ref, tool_record *out, mkt_error *err);
void tool_record_free(tool_record *t);

/* Takes the row lock of tool id inside a transaction, so read-check-write sequences on one tool
 * (publishing, editing) are serialised. 404 when the tool is gone. */
int tool_record_lock(db *db, int64_t id, mkt_error *err);

/* A tool reference from outside (the {tool} path segment): a canonical id (core/ident.h) or a slug
 * ([a-z0-9-]{3,64}, not all digits, so the two never collide). Exactly one of id (> 0) and slug
 * (pointing into the text) is set. */
typedef struct {
    int64_t id;
    const char *slug;
} tool_ref;

/* The one parser for a tool reference, used by every route that takes {tool} (before any query)
 * and by the lookups here. 0 and *out set, or -1 when text cannot name a tool (then 404). */
int tool_record_ref_parse(const char *text, tool_ref *out);

/* What is wrong with a tool_id member of a request body (NULL when it is a good id, then in *tool_id),
 * said about what was sent. A tool id is a string of digits as the API answers it (at most 18, no
 * leading zeros) or a positive JSON integer; a slug is refused rather than resolved, so a purchase
 * or a review names exactly one tool whatever slug it has later. */
const char *tool_record_id_problem(const json_t *id, int64_t *tool_id);

/* caller may be NULL (anonymous). The owner is the developer profile that created the tool. */
int tool_record_is_owner(const tool_record *t, const account_caller *caller);
/* Published tools are public; drafts only for the owner; delisted ones for the owner, moderators
 * and admins — and for buyers, which needs the database: see tool_record_bought. */
int tool_record_visible(const tool_record *t, const account_caller *caller);
/* The same rule from the two facts it needs, for callers that did not load a whole record. */
int tool_record_visible_to(const char *status, int64_t developer_id, const account_caller *caller);

/* Has the caller ever bought this tool (any tool_access row, even expired)? Buyers keep seeing a
 * delisted tool. 1 yes, 0 no, -1 on a database error. */
int tool_record_bought(db *db, int64_t tool_id, const account_caller *caller, mkt_error *err);

/* Loads and applies visibility: 404 (the same answer as a missing tool) when the caller may not see it. */
int tool_record_find(db *db, const char *ref, const account_caller *caller, tool_record *out, mkt_error *err);
/* tool_record_find for tool_record_json: without the draft's columns (NULL in *out) unless the caller
 * owns the tool, the only reader tool_record_json shows them to. */
int tool_record_find_view(db *db, const char *ref, const account_caller *caller, tool_record *out, mkt_error *err);
/* As tool_record_find, then 403 when the caller sees the tool but does not own it. */
int tool_record_find_owned(db *db, const char *ref, const account_caller *caller, tool_record *out, mkt_error *err);

/* The full tool document. The owner gets the draft (schemas, code, tests); everyone else gets the
 * schemas of the latest published version and neither code nor tests. NULL only when out of memory. */
json_t *tool_record_json(const tool_record *t, const account_caller *caller);

/* tool_record_json of t, then frees t (it is consumed, success or not); NULL with err set
 * (ERROR_INTERNAL) only when out of memory. */
json_t *tool_record_json_take(tool_record *t, const account_caller *caller, mkt_error *err);
/* The JSON text of tool_record_json for a caller who is not the developer, ending in a newline:
 * byte for byte json_dumps(..., JSON_COMPACT) of that document, written without building it (the
 * uncached public view; tests/unit/tool_view_text.c holds the two equal). NULL with ERROR_INTERNAL
 * when out of memory. */
char *tool_record_view_text(const tool_record *t, size_t *len, mkt_error *err);

/* Parses stored JSON text (any value); NULL on a corrupt cell, which is an internal error. */
json_t *tool_record_parse(const char *text, mkt_error *err);

/* ---- the rating ---- */

/* The default of rating_prior_weight (m, core/rating.h). */
#define TOOL_RECORD_PRIOR_WEIGHT_DEFAULT 10

/* The rating_totals row joined as alias g: one row, so a join costs a primary-key lookup and every
 * tool read gets the global mean in the same SELECT. A LEFT JOIN, so a missing row (it never is:
 * migration 0010 writes it) could only make C the empty mean, never hide a tool. */
#define TOOL_RECORD_TOTALS_JOIN(g) "LEFT JOIN rating_totals " g " ON " g ".id = 1"

/* The Bayesian rating (core/rating.h) as a SQL expression, for ranking in SQL: over a tools row
 * aliased t and the rating_totals row aliased g (TOOL_RECORD_TOTALS_JOIN), with TWO parameters to
 * bind, both tool_record_prior_weight(). The same value tool_record_rating_json shows, unrounded. */
#define TOOL_RECORD_BAYESIAN_SQL(t, g)                                                                        \
    "(CASE WHEN " t ".rating_count = 0 THEN 0 ELSE (COALESCE(CAST(" g ".rating_sum AS DOUBLE) / NULLIF("      \
    g ".rating_count, 0), 3.0) * ? + " t ".rating_sum) / (? + " t ".rating_count) END)"

/* m as configured (rating_prior_weight; the default until tool_record_service's master_load ran). */
int64_t tool_record_prior_weight(void);
/* Sets m (negative: 0); the master_load hook calls it, tests may. */
void tool_record_set_prior_weight(int64_t weight);
/* core/rating.h's rating_bayesian with m = tool_record_prior_weight(), unrounded. */
double tool_record_bayesian(int64_t count, int64_t sum, int64_t all_count, int64_t all_sum);
/* The rating_totals row: count and sum of the visible reviews of all tools. */
int tool_record_rating_totals(db *db, int64_t *count, int64_t *sum, mkt_error *err);

/* {average, count, distribution{"1".."5"}, bayesian} from the counters tool_record_rating_move keeps
 * (the visible reviews of core/review_manager) and the totals of all tools (all_count, all_sum);
 * average and bayesian rounded to two decimals (core/rating.h). */
json_t *tool_record_rating_json(int64_t count, int64_t sum, const int64_t ratings[5], int64_t all_count,
                                int64_t all_sum);
/* {model, price_cents, currency[, period_days]} */
json_t *tool_record_pricing_json(const char *model, int64_t price_cents, const char *currency, int64_t period_days);

/* ---- writes (inside the caller's db_transaction where it says so) ---- */

/* The values a draft row is written with. */
typedef struct {
    const char *slug, *name, *summary, *description, *category, *code;
    size_t code_len;
    tool_pricing pricing;
    char *input_schema, *output_schema, *tests; /* JSON text, owned by whoever fills it */
    char *dependencies;                         /* JSON text {"slug": "range"}, owned likewise */
    const json_t *tags;                         /* an array of strings; NULL: leave the stored tags alone */
} tool_record_draft;

/* A new draft of developer_id; *id gets the new tool's id. 409 (field slug) when the slug is taken:
 * the unique key decides, so two concurrent creates cannot both win. In a transaction (row + tags). */
int tool_record_insert(db *db, int64_t developer_id, const tool_record_draft *d, int64_t *id, mkt_error *err);
/* Rewrites every draft field of tool id (tags only when d->tags is set); 409 slug taken. In a transaction. */
int tool_record_update_draft(db *db, int64_t id, const tool_record_draft *d, mkt_error *err);
/* The tool's pricing columns become p: they mirror its default plan, which core/tool_plans owns and
 * sets (PUT /tools/{tool}/plans). Inside the caller's transaction. */
int tool_record_set_pricing(db *db, int64_t id, const tool_pricing *p, mkt_error *err);
/* Delists the tool (a no-op when it is delisted already). */
int tool_record_delist(db *db, int64_t id, mkt_error *err);
/* Publishes a delisted tool again (a moderator's restore). Changes nothing unless the tool is
 * delisted and has a published version: the caller checks that under tool_record_lock first. */
int tool_record_restore(db *db, int64_t id, mkt_error *err);

/* The facts publishing re-reads under tool_record_lock. */
typedef struct {
    char status[16];
    char *latest_version; /* NULL before the first publish; free with tool_record_publish_state_free */
} tool_record_publish_state;
int tool_record_publish_state_read(db *db, int64_t id, tool_record_publish_state *out, mkt_error *err);
void tool_record_publish_state_free(tool_record_publish_state *s);
/* version (already stored in tool_versions) becomes the latest; the tool is published. */
int tool_record_mark_published(db *db, int64_t id, const char *version, mkt_error *err);

/* Moves the rating counters (rating_count, rating_sum, rating_1..rating_5) of tool id from a review
 * rated old_rating to one rated new_rating (0 for none: 0 -> r a new review, r -> 0 one gone), and
 * the rating_totals row the same way. Relative UPDATEs, so they take the tool row's lock, then the
 * totals row's, and concurrent reviews never lose a count; call it inside the transaction that
 * writes the review (core/review_manager decides when: a review that becomes visible or stops being
 * visible moves the counters too). */
int tool_record_rating_move(db *db, int64_t id, int old_rating, int new_rating, mkt_error *err);

/* The master_load hook that sets m from the config (core/service.c). */
extern const service_hooks tool_record_service;

/* One more download (core/tool_usage decides when: the download rule lives there). */
int tool_record_add_download(db *db, int64_t id, mkt_error *err);

/* What a checkout needs of a tool, read with a shared lock (LOCK IN SHARE MODE) so the tool cannot
 * be delisted or repriced before the purchase is written. 404 unless the tool is published. */
typedef struct {
    int64_t developer_id, price_cents, period_days; /* period_days 0 unless a subscription */
    char pricing_model[16];
    char currency[4];
} tool_record_offer;
int tool_record_offer_locked(db *db, int64_t id, tool_record_offer *out, mkt_error *err);

/* A tool in a list (GET /developers/{id}, trending, recommendations): the columns to SELECT first,
 * over a tools row aliased t and TOOL_RECORD_TOTALS_JOIN("g"), and the JSON of row i made from them
 * ({id, slug, name, summary, category, pricing, latest_version, downloads, rating}; NULL only when
 * out of memory). A query may select more columns after these: they start at
 * TOOL_RECORD_SUMMARY_COLUMN_COUNT. */
#define TOOL_RECORD_SUMMARY_COLUMNS                                                                    \
    "t.id, t.slug, t.name, t.summary, t.category, t.pricing_model, t.price_cents, t.currency,"        \
    " t.period_days, t.latest_version, t.downloads, t.rating_count, t.rating_sum, t.rating_1,"       \
    " t.rating_2, t.rating_3, t.rating_4, t.rating_5, g.rating_count, g.rating_sum"
#define TOOL_RECORD_SUMMARY_COLUMN_COUNT 20
json_t *tool_record_summary_json(const db_rows *rows, size_t i);

/* The developer's published tools as summaries (GET /developers/{id}). NULL with err on failure. */
json_t *tool_record_developer_tools(db *db, int64_t developer_id, mkt_error *err);

/* The version of a tool to run: the tool's access facts and, when it exists, the version asked for
 * (NULL: the latest published). 404 for no such tool. Free with tool_record_target_free. */
typedef struct {
    db_rows rows; /* owns every string below */
    int64_t id, developer_id, price_cents;
    const char *status, *pricing_model, *currency;
    const char *latest_version; /* NULL: nothing published yet */
    const char *version;        /* NULL: no such version */
    const char *input_schema, *output_schema, *code;
    size_t code_len;
    int64_t plugins_version; /* the version of its plugin chain (core/hook_system) */
    int64_t version_id; /* 0: no such version */
} tool_record_target;
int tool_record_target_load(db *db, const char *ref, const char *version, tool_record_target *out, mkt_error *err);
void tool_record_target_free(tool_record_target *t);

/* ---- bulk writes (marketplace seed --tools) ---- */

/* At most this many tools per call (one INSERT). */
#define TOOL_RECORD_BULK_MAX 1000

/* One published tool as a bulk load writes it: the draft columns equal the published version's
 * (core/tool_builder writes that row, tool_builder_bulk_versions), and the counters are given. */
typedef struct {
    const char *slug, *name, *summary, *description, *category;
    tool_pricing pricing;
    const char *input_schema, *output_schema, *code, *tests; /* JSON text; code plain text */
    const char *version;                                     /* the latest (and only) version */
    int64_t developer_id, downloads;
    int64_t ratings[5];   /* visible reviews rated 1..5: the caller writes exactly those reviews */
    int64_t age_seconds;  /* created and published this long ago */
    const char *tags[TOOL_FIELDS_TAGS_MAX];
    size_t tag_count;
} tool_record_bulk_row;

/* How many of slugs (n <= TOOL_RECORD_BULK_MAX) name a tool already; -1 on a database error. */
int tool_record_bulk_taken(db *db, const char *const *slugs, size_t n, mkt_error *err);

/* Inserts n published tools and their tags in one INSERT each (inside the caller's db_transaction),
 * ids[i] getting row i's id. A multi-row INSERT takes consecutive auto-increment values (InnoDB's
 * lock modes 0 and 1); this checks that the last row got first + n - 1 and fails (ERROR_INTERNAL)
 * otherwise rather than guessing. 409 when a slug is taken. */
int tool_record_bulk_insert(db *db, const tool_record_bulk_row *rows, size_t n, int64_t *ids, mkt_error *err);

/* ---- for search (core/search, core/discovery) ---- */

/* Summaries of the published tools among ids, in the order of ids (the shape of
 * tool_record_developer_tools); ids that are not (or no longer) published are left out. NULL with
 * err on failure. count <= TOOL_RECORD_SUMMARIES_MAX. */
#define TOOL_RECORD_SUMMARIES_MAX 100
json_t *tool_record_summaries(db *db, const int64_t *ids, size_t count, mkt_error *err);

/* ---- for composed tools (core/tool_compose) ---- */

/* found[i] = 1 for each slugs[i] (NULL entries skipped; n <= TOOL_FIELDS_DEPENDENCIES_MAX) that names
 * a published tool. 0, or -1 on a database error. */
int tool_record_slugs_published(db *db, const char *const *slugs, size_t n, int *found, mkt_error *err);

/* What deciding a call of tool id needs, read now (status and price change after publishing). 404
 * when the tool is gone. */
typedef struct {
    int64_t id, developer_id, price_cents;
    char status[16], pricing_model[16], currency[4];
    int64_t plugins_version; /* its hook chain's (core/hook_system) */
} tool_record_call;
int tool_record_call_facts(db *db, int64_t id, tool_record_call *out, mkt_error *err);

#endif

/* A generated catalogue for `marketplace seed --tools N [--seed S] [--namespace NS]`: developers, buyer
 * accounts and N published tools with names, summaries, descriptions and tags drawn from word lists
 * (power-law picks, so common words are in a large share of tools and rare ones in few), a pricing
 * mix, working Lua code with matching schemas and passing tests (a small family of handlers),
 * long-tailed downloads, daily execution counts and reviews whose ratings the tools' rating counters
 * count exactly.
 *
 * Deterministic: the same N and S give the same catalogue — names, texts, tags, prices, counts, who
 * wrote which review. NS only names the rows (slugs "<words>-<NS>-<i>", emails "...@<NS>.seed.invalid";
 * default "s<S>"), so two namespaces with the same N and S hold equal catalogues, and a catalogue never
 * collides with tools people made. Dates are relative to the time of the run.
 *
 * Idempotent and resumable: accounts are created unless they exist; tools go in batches of
 * CATALOGUE_BATCH, each one transaction (tools, tags, versions, execution days, reviews), and a batch
 * whose slugs all exist is skipped, so a second run writes nothing and a run cut short finishes the
 * rest. A batch whose slugs exist only in part (someone took one) fails, naming the namespace.
 *
 * Writes go through the bulk functions of each table's owner (core/account, core/tool_record,
 * core/tool_builder, core/tool_usage, core/review_manager): multi-row INSERTs of up to 1000 rows; each
 * batch also writes its tools' search documents (core/search), so they are searchable at once. */
#ifndef CORE_CATALOGUE_H
#define CORE_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "sql/db.h"

#define CATALOGUE_TOOLS_MAX 1000000
#define CATALOGUE_BATCH 1000
#define CATALOGUE_NAMESPACE_MAX 12
/* Every seeded account's password (hashed once with the config's scrypt cost). */
#define CATALOGUE_PASSWORD "demo-password"

typedef struct {
    int64_t tools;         /* 1..CATALOGUE_TOOLS_MAX */
    uint32_t seed;
    const char *namespace; /* [a-z0-9]{1,12}; NULL: "s<seed>" */
} catalogue_options;

typedef struct {
    int64_t developers, buyers;
    int64_t tools_written, tools_skipped; /* skipped: already there from an earlier run */
    int64_t reviews, execution_days;      /* rows written by this run */
    char namespace[CATALOGUE_NAMESPACE_MAX + 1];
} catalogue_result;

/* Told after each batch of tools (done of total, skipped included). */
typedef void (*catalogue_progress_fn)(void *ctx, int64_t done, int64_t total);

/* Writes the catalogue. ERROR_VALIDATION for bad options (field "tools", "seed" or "namespace"),
 * ERROR_CONFLICT when a batch's slugs are taken in part; database errors as sql/db.h reports them. */
int catalogue_seed(db *db, const config *cfg, const catalogue_options *opt, catalogue_progress_fn progress,
                   void *progress_ctx, catalogue_result *out, mkt_error *err);

/* The tool families the catalogue's code comes from (each tool runs one): JSON text of the schemas and
 * tests, and the Lua code. Exposed so a test can prove every family's tests pass. */
typedef struct {
    const char *key;
    const char *input_schema, *output_schema, *code, *tests;
} catalogue_family;

size_t catalogue_family_count(void);
const catalogue_family *catalogue_family_get(size_t i);

#endif

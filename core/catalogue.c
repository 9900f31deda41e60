/* The generated catalogue (core/catalogue.h): drawing each tool from the word lists with a seeded
 * generator, then writing batches through the table owners' bulk functions. */
#include "core/catalogue.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/account.h"
#include "core/account_rules.h"
#include "core/activity.h"
#include "core/catalogue_internal.h"
#include "core/grow.h"
#include "core/review_manager.h"
#include "core/search.h"
#include "core/tool_builder.h"
#include "core/tool_record.h"
#include "core/tool_usage.h"

/* Shape of the catalogue. Popularity is Pareto-distributed (shape CATALOGUE_PARETO, capped), and
 * downloads, executions and reviews follow it, so most tools have a handful and a few have very many. */
#define CATALOGUE_TOOLS_PER_DEVELOPER 50
#define CATALOGUE_BUYERS_MIN 50
#define CATALOGUE_TOOLS_PER_BUYER 10
#define CATALOGUE_REVIEWS_MAX 400
#define CATALOGUE_PARETO 1.1
#define CATALOGUE_POPULARITY_MAX 10000.0
#define CATALOGUE_AGE_MAX_DAYS 720
#define CATALOGUE_HISTORY_DAYS 30
#define CATALOGUE_DAY_SECONDS 86400

/* Independent random streams, so adding a draw to one (say reviews) leaves the others unchanged. */
enum { STREAM_TOOL = 1, STREAM_REVIEWS, STREAM_DEVELOPER, STREAM_BUYER };

/* ---- the seeded generator (splitmix64) ------------------------------------------------------- */

typedef struct {
    uint64_t s;
} catalogue_rng;

static uint64_t catalogue_next(catalogue_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* One stream per (seed, kind, index): a tool's draws do not depend on how many tools came before. */
static catalogue_rng catalogue_stream(uint32_t seed, uint64_t kind, uint64_t index)
{
    catalogue_rng r = {((uint64_t)seed << 32) ^ (kind << 56) ^ index};
    catalogue_next(&r);
    r.s ^= catalogue_next(&r);
    return r;
}

/* Uniform in [0, 1). */
static double catalogue_unit(catalogue_rng *r)
{
    return (double)(catalogue_next(r) >> 11) * 0x1.0p-53;
}

/* An index below n, the first ones most likely: floor(n * u^skew); skew 1 is uniform. */
static size_t catalogue_pick(catalogue_rng *r, size_t n, double skew)
{
    size_t i = (size_t)((double)n * pow(catalogue_unit(r), skew));
    return i < n ? i : n - 1;
}

/* ---- one batch of generated rows ---------------------------------------------------------------- */

typedef struct {
    tool_record_bulk_row tools[CATALOGUE_BATCH];
    tool_builder_bulk_version versions[CATALOGUE_BATCH];
    const char *slugs[CATALOGUE_BATCH];
    int64_t ids[CATALOGUE_BATCH];
    size_t count;
    review_bulk_row *reviews;
    size_t *review_slots; /* the batch position of each review's tool (ids come after the insert) */
    size_t review_count, review_cap, review_slot_cap;
    tool_usage_bulk_day *days;
    size_t *day_slots;
    size_t day_count, day_cap, day_slot_cap;
    char **owned; /* every string made for the batch */
    size_t owned_count, owned_cap;
} catalogue_batch;

static void catalogue_batch_clear(catalogue_batch *b)
{
    for (size_t i = 0; i < b->owned_count; i++)
        free(b->owned[i]);
    b->owned_count = b->count = b->review_count = b->day_count = 0;
}

static void catalogue_batch_free(catalogue_batch *b)
{
    if (!b)
        return;
    catalogue_batch_clear(b);
    free(b->owned);
    free(b->reviews);
    free(b->review_slots);
    free(b->days);
    free(b->day_slots);
    free(b);
}

/* A string owned by the batch; NULL with err when out of memory. */
__attribute__((format(printf, 3, 4))) static char *catalogue_printf(catalogue_batch *b, mkt_error *err,
                                                                     const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0 || grow_for_one(&b->owned, &b->owned_cap, b->owned_count, sizeof *b->owned) < 0) {
        if (n >= 0)
            free(s);
        error_set(err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    return b->owned[b->owned_count++] = s;
}

/* ---- what a run knows ----------------------------------------------------------------------------- */

typedef struct {
    uint32_t seed;
    int64_t tools, developers, buyers;
    char ns[CATALOGUE_NAMESPACE_MAX + 1];
    int64_t *developer_ids; /* developers[j] -> developers.id */
    int64_t *buyer_ids;     /* buyers[j] -> users.id */
    catalogue_batch *batch;
    int skipped; /* the batch in hand was there already */
    catalogue_result *out;
} catalogue_run;

/* ---- accounts ------------------------------------------------------------------------------------ */

typedef struct {
    const account_bulk_row *rows;
    size_t n;
    const char *hash;
    int64_t *user_ids, *developer_ids;
} catalogue_accounts_tx;

static int catalogue_accounts_tx_fn(db *db, void *arg, mkt_error *err)
{
    catalogue_accounts_tx *t = arg;
    return account_bulk_ensure(db, t->rows, t->n, t->hash, t->user_ids, t->developer_ids, err);
}

/* One account's generated texts into row (strings owned by b). */
static int catalogue_account_row(catalogue_run *run, catalogue_batch *b, int developer, int64_t j,
                                 account_bulk_row *row, mkt_error *err)
{
    catalogue_rng r = catalogue_stream(run->seed, developer ? STREAM_DEVELOPER : STREAM_BUYER, (uint64_t)j);
    const char *first = catalogue_first_names[catalogue_pick(&r, catalogue_first_names_count, 1)];
    const char *last = catalogue_last_names[catalogue_pick(&r, catalogue_last_names_count, 1)];
    memset(row, 0, sizeof *row);
    row->email = catalogue_printf(b, err, "%s-%07" PRId64 "@%s.seed" ACCOUNT_RULES_GENERATED_DOMAIN, developer ? "dev" : "buyer", j + 1,
                                  run->ns);
    row->display_name = developer ? catalogue_printf(b, err, "%s %s", first, last)
                                  : catalogue_printf(b, err, "%s %.1s.", first, last);
    if (developer) {
        const char *studio = catalogue_studio_words[catalogue_pick(&r, catalogue_studio_words_count, 1)];
        const char *suffix = catalogue_studio_suffixes[catalogue_pick(&r, catalogue_studio_suffixes_count, 1.5)];
        const catalogue_subject *s = &catalogue_subjects[catalogue_pick(&r, catalogue_subjects_count, 2)];
        row->developer_name = catalogue_printf(b, err, "%s %s", studio, suffix);
        row->developer_bio = catalogue_printf(b, err, "%s %s makes small, tested tools for %s.", first, last,
                                              s->phrase);
    }
    return error_is_set(err) ? -1 : 0;
}

/* Creates (or finds) count accounts of one kind, CATALOGUE_BATCH per transaction; ids[j] gets the
 * developer id (developers) or the user id (buyers). */
static int catalogue_accounts(db *db, catalogue_run *run, int developer, int64_t count, const char *hash,
                              int64_t *ids, mkt_error *err)
{
    account_bulk_row rows[ACCOUNT_BULK_MAX];
    int64_t user_ids[ACCOUNT_BULK_MAX], developer_ids[ACCOUNT_BULK_MAX];
    for (int64_t start = 0; start < count; start += ACCOUNT_BULK_MAX) {
        size_t n = (size_t)(count - start < ACCOUNT_BULK_MAX ? count - start : ACCOUNT_BULK_MAX);
        catalogue_batch_clear(run->batch);
        for (size_t k = 0; k < n; k++)
            if (catalogue_account_row(run, run->batch, developer, start + (int64_t)k, &rows[k], err) < 0)
                return -1;
        catalogue_accounts_tx t = {rows, n, hash, user_ids, developer_ids};
        if (db_transaction(db, catalogue_accounts_tx_fn, &t, err) < 0)
            return -1;
        for (size_t k = 0; k < n; k++) {
            if (developer && developer_ids[k] == 0)
                return error_set(err, ERROR_CONFLICT, "%s exists without a developer profile; use another --namespace",
                                 rows[k].email);
            ids[start + (int64_t)k] = developer ? developer_ids[k] : user_ids[k];
        }
    }
    return 0;
}

/* ---- one tool ------------------------------------------------------------------------------------- */

/* "Fast JSON diff" -> "fast-json-diff-<ns>-<i>" */
static char *catalogue_slug(catalogue_run *run, const char *name, int64_t i, mkt_error *err)
{
    char *slug = catalogue_printf(run->batch, err, "%s-%s-%" PRId64, name, run->ns, i);
    if (!slug)
        return NULL;
    for (char *p = slug; *p; p++)
        *p = *p == ' ' ? '-' : (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    return slug;
}

/* Three to six sentences from the pool, in two paragraphs, after the summary. */
static char *catalogue_description(catalogue_run *run, catalogue_rng *r, const char *summary,
                                   const catalogue_subject *s, mkt_error *err)
{
    size_t count = 3 + catalogue_pick(r, 4, 1), used[6];
    char *text = catalogue_printf(run->batch, err, "%s", summary);
    for (size_t k = 0; k < count && text; k++) {
        size_t pick;
        int again;
        do { /* no sentence twice in one description */
            pick = catalogue_pick(r, catalogue_sentences_count, 2);
            again = 0;
            for (size_t m = 0; m < k; m++)
                again |= used[m] == pick;
        } while (again);
        used[k] = pick;
        char *sentence = catalogue_printf(run->batch, err, catalogue_sentences[pick], s->phrase);
        if (sentence)
            text = catalogue_printf(run->batch, err, "%s%s%s", text, k == 0 || k == count / 2 + 1 ? "\n\n" : " ",
                                    sentence);
    }
    return text;
}

static void catalogue_add_tag(tool_record_bulk_row *t, const char *tag)
{
    for (size_t k = 0; k < t->tag_count; k++)
        if (strcmp(t->tags[k], tag) == 0)
            return;
    if (t->tag_count < TOOL_FIELDS_TAGS_MAX)
        t->tags[t->tag_count++] = tag;
}

static const catalogue_family *catalogue_family_by_key(const char *key)
{
    for (size_t i = 0; i < catalogue_families_count; i++)
        if (strcmp(catalogue_families[i].key, key) == 0)
            return &catalogue_families[i];
    return &catalogue_families[0];
}

/* The code a tool runs: one of its category's families. */
static const catalogue_family *catalogue_family_for(catalogue_rng *r, const char *category)
{
    for (size_t i = 0; i < catalogue_category_map_count; i++) {
        const catalogue_category_families *m = &catalogue_category_map[i];
        if (strcmp(m->category, category) == 0)
            return catalogue_family_by_key(m->families[1] && catalogue_unit(r) < 0.5 ? m->families[1]
                                                                                     : m->families[0]);
    }
    return &catalogue_families[0];
}

/* 60% free, 25% one-time, 15% subscription; cheap prices far more common than dear ones. */
static void catalogue_pricing(catalogue_rng *r, tool_pricing *p)
{
    static const int64_t one_time[] = {499, 299, 999, 199, 99, 1499, 1999, 2999, 4999};
    static const int64_t monthly[] = {299, 499, 199, 999, 1999};
    static const char *const currencies[] = {"USD", "USD", "USD", "EUR", "EUR", "GBP"};
    double u = catalogue_unit(r);
    memset(p, 0, sizeof *p);
    snprintf(p->currency, sizeof p->currency, "%s", currencies[catalogue_pick(r, 6, 1)]);
    if (u < 0.60) {
        snprintf(p->model, sizeof p->model, "free");
        snprintf(p->currency, sizeof p->currency, "USD");
    } else if (u < 0.85) {
        snprintf(p->model, sizeof p->model, "one_time");
        p->price_cents = one_time[catalogue_pick(r, sizeof one_time / sizeof one_time[0], 2)];
    } else {
        snprintf(p->model, sizeof p->model, "subscription");
        int yearly = catalogue_unit(r) < 0.2;
        p->price_cents = monthly[catalogue_pick(r, sizeof monthly / sizeof monthly[0], 2)] * (yearly ? 10 : 1);
        p->period_days = yearly ? 365 : 30;
    }
}

static const char *catalogue_review_pick(catalogue_rng *r, int rating, const char *const *good, size_t good_n,
                                         const char *const *mixed, size_t mixed_n, const char *const *bad,
                                         size_t bad_n)
{
    if (rating >= 4)
        return good[catalogue_pick(r, good_n, 1.5)];
    if (rating == 3)
        return mixed[catalogue_pick(r, mixed_n, 1.5)];
    return bad[catalogue_pick(r, bad_n, 1.5)];
}

#define CATALOGUE_REVIEW_LIST(kind) \
    catalogue_review_##kind##_good, catalogue_review_##kind##_good_count, catalogue_review_##kind##_mixed, \
        catalogue_review_##kind##_mixed_count, catalogue_review_##kind##_bad, catalogue_review_##kind##_bad_count

/* count reviews of the tool in batch slot, by consecutive buyers from a random start (so distinct),
 * with ratings around the tool's quality; the tool's counters get exactly these ratings. */
static int catalogue_reviews(catalogue_run *run, int64_t i, size_t slot, int64_t count, const catalogue_subject *s,
                             mkt_error *err)
{
    catalogue_batch *b = run->batch;
    tool_record_bulk_row *t = &b->tools[slot];
    catalogue_rng r = catalogue_stream(run->seed, STREAM_REVIEWS, (uint64_t)i);
    double quality = 2.2 + 2.8 * sqrt(catalogue_unit(&r));
    int64_t start = (int64_t)(catalogue_next(&r) % (uint64_t)run->buyers);
    for (int64_t j = 0; j < count; j++) {
        double noise = (catalogue_unit(&r) + catalogue_unit(&r) + catalogue_unit(&r) - 1.5) * 1.3;
        long rating = lround(quality + noise);
        rating = rating < 1 ? 1 : rating > 5 ? 5 : rating;
        const char *title = catalogue_review_pick(&r, (int)rating, CATALOGUE_REVIEW_LIST(titles));
        const char *line = catalogue_review_pick(&r, (int)rating, CATALOGUE_REVIEW_LIST(lines));
        const char *line2 = catalogue_unit(&r) < 0.5 ? catalogue_review_pick(&r, (int)rating, CATALOGUE_REVIEW_LIST(lines))
                                                     : NULL;
        char *first = catalogue_printf(b, err, line, s->phrase);
        char *content = !first ? NULL
                        : line2 && strcmp(line, line2) != 0
                            ? catalogue_printf(b, err, "%s %s", first, catalogue_printf(b, err, line2, s->phrase))
                            : first;
        if (!content || grow_for_one(&b->reviews, &b->review_cap, b->review_count, sizeof *b->reviews) < 0 ||
            grow_for_one(&b->review_slots, &b->review_slot_cap, b->review_count, sizeof *b->review_slots) < 0)
            return error_is_set(err) ? -1 : error_set(err, ERROR_INTERNAL, "out of memory");
        int64_t age = (int64_t)(catalogue_unit(&r) * (double)t->age_seconds);
        b->review_slots[b->review_count] = slot;
        b->reviews[b->review_count++] = (review_bulk_row){
            .user_id = run->buyer_ids[(start + j) % run->buyers], .age_seconds = age, .rating = (int)rating,
            .title = title, .content = content};
        t->ratings[rating - 1]++;
    }
    return 0;
}

/* The last days' execution counts: total spread over more days the more popular the tool. */
static int catalogue_days(catalogue_run *run, catalogue_rng *r, size_t slot, double popularity, mkt_error *err)
{
    catalogue_batch *b = run->batch;
    int64_t total = (int64_t)((popularity - 1.0) * 50.0 * (0.5 + catalogue_unit(r)));
    int64_t days = 1 + (int64_t)(log2(popularity) * 4.0);
    days = days > CATALOGUE_HISTORY_DAYS ? CATALOGUE_HISTORY_DAYS : days;
    days = days > total ? total : days;
    for (int64_t d = 0; d < days; d++) {
        if (grow_for_one(&b->days, &b->day_cap, b->day_count, sizeof *b->days) < 0 ||
            grow_for_one(&b->day_slots, &b->day_slot_cap, b->day_count, sizeof *b->day_slots) < 0)
            return error_set(err, ERROR_INTERNAL, "out of memory");
        b->day_slots[b->day_count] = slot;
        b->days[b->day_count++] = (tool_usage_bulk_day){
            .days_ago = d, .executions = total / days + (d == 0 ? total % days : 0)};
    }
    return 0;
}

/* Names, texts and tags of tool i into t. */
static int catalogue_tool_texts(catalogue_run *run, catalogue_rng *r, int64_t i, tool_record_bulk_row *t,
                                const catalogue_subject **subject, mkt_error *err)
{
    const catalogue_subject *s = &catalogue_subjects[catalogue_pick(r, catalogue_subjects_count, 3)];
    const catalogue_action *a = &catalogue_actions[catalogue_pick(r, catalogue_actions_count, 2.5)];
    const char *adjective = catalogue_unit(r) < 0.55 ? catalogue_adjectives[catalogue_pick(r, catalogue_adjectives_count, 2)]
                                                     : NULL;
    const char *qualifier = catalogue_qualifiers[catalogue_pick(r, catalogue_qualifiers_count, 2)];
    catalogue_batch *b = run->batch;
    /* "Fast JSON diff", "Tiny color converter": after an adjective only acronyms keep their capitals. */
    int acronym = strspn(s->label, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(s->label);
    char *name = adjective ? catalogue_printf(b, err, "%s %c%s %s", adjective,
                                              acronym ? s->label[0] : (char)(s->label[0] - 'A' + 'a'), s->label + 1,
                                              a->tag)
                           : catalogue_printf(b, err, "%s %s", s->label, a->tag);
    t->name = name;
    t->slug = name ? catalogue_slug(run, name, i, err) : NULL;
    t->summary = catalogue_printf(b, err, "%s %s %s.", a->verb, s->phrase, qualifier);
    t->description = t->summary ? catalogue_description(run, r, t->summary, s, err) : NULL;
    t->category = s->category;
    catalogue_add_tag(t, s->tag);
    catalogue_add_tag(t, a->tag);
    for (size_t k = catalogue_pick(r, 4, 1.5); k > 0; k--)
        catalogue_add_tag(t, catalogue_extra_tags[catalogue_pick(r, catalogue_extra_tags_count, 2.5)]);
    *subject = s;
    return error_is_set(err) ? -1 : 0;
}

/* Tool i (1-based) into batch slot. */
static int catalogue_tool(catalogue_run *run, int64_t i, size_t slot, mkt_error *err)
{
    catalogue_batch *b = run->batch;
    tool_record_bulk_row *t = &b->tools[slot];
    memset(t, 0, sizeof *t);
    catalogue_rng r = catalogue_stream(run->seed, STREAM_TOOL, (uint64_t)i);
    const catalogue_subject *s;
    if (catalogue_tool_texts(run, &r, i, t, &s, err) < 0)
        return -1;
    const catalogue_family *f = catalogue_family_for(&r, t->category);
    catalogue_pricing(&r, &t->pricing);
    t->input_schema = f->input_schema;
    t->output_schema = f->output_schema;
    t->code = f->code;
    t->tests = f->tests;
    int minor_release = catalogue_unit(&r) < 0.3;
    t->version = minor_release ? catalogue_printf(b, err, "1.%zu.%zu", 1 + catalogue_pick(&r, 9, 2),
                                                  catalogue_pick(&r, 6, 2))
                               : "1.0.0";
    t->developer_id = run->developer_ids[catalogue_pick(&r, (size_t)run->developers, 2)];
    t->age_seconds = 60 + (int64_t)(pow(catalogue_unit(&r), 2) * CATALOGUE_AGE_MAX_DAYS * CATALOGUE_DAY_SECONDS);
    double popularity = fmin(CATALOGUE_POPULARITY_MAX, pow(1.0 - catalogue_unit(&r), -1.0 / CATALOGUE_PARETO));
    int free_tool = strcmp(t->pricing.model, "free") == 0;
    t->downloads = (int64_t)((popularity - 1.0) * (free_tool ? 30.0 : 4.0) + catalogue_unit(&r) * 5.0);
    int64_t max_reviews = run->buyers < CATALOGUE_REVIEWS_MAX ? run->buyers : CATALOGUE_REVIEWS_MAX;
    int64_t reviews = (int64_t)((popularity - 1.0) * 0.4);
    reviews = reviews > max_reviews ? max_reviews : reviews;
    t->downloads = t->downloads < reviews ? reviews : t->downloads;
    b->versions[slot] = (tool_builder_bulk_version){
        .age_seconds = t->age_seconds, .version = t->version,
        .changelog = catalogue_changelogs[minor_release ? 1 + catalogue_pick(&r, catalogue_changelogs_count - 1, 1) : 0],
        .input_schema = t->input_schema, .output_schema = t->output_schema, .code = t->code, .tests = t->tests};
    b->slugs[slot] = t->slug;
    if (error_is_set(err) || catalogue_days(run, &r, slot, popularity, err) < 0)
        return -1;
    return catalogue_reviews(run, i, slot, reviews, s, err);
}

/* ---- writing a batch ------------------------------------------------------------------------------ */

static int catalogue_batch_tx(db *db, void *arg, mkt_error *err)
{
    catalogue_run *run = arg;
    catalogue_batch *b = run->batch;
    run->skipped = 0;
    int taken = tool_record_bulk_taken(db, b->slugs, b->count, err);
    if (taken < 0)
        return -1;
    if ((size_t)taken == b->count) {
        run->skipped = 1; /* written by an earlier run */
        return 0;
    }
    if (taken > 0)
        return error_set(err, ERROR_CONFLICT,
                         "%d of the slugs from %s exist already, not from this catalogue; use another --namespace",
                         taken, b->slugs[0]);
    if (tool_record_bulk_insert(db, b->tools, b->count, b->ids, err) < 0)
        return -1;
    for (size_t k = 0; k < b->count; k++)
        b->versions[k].tool_id = b->ids[k];
    for (size_t k = 0; k < b->review_count; k++)
        b->reviews[k].tool_id = b->ids[b->review_slots[k]];
    for (size_t k = 0; k < b->day_count; k++)
        b->days[k].tool_id = b->ids[b->day_slots[k]];
    if (tool_builder_bulk_versions(db, b->versions, b->count, err) < 0 ||
        tool_usage_bulk_days(db, b->days, b->day_count, err) < 0 ||
        activity_bulk_executions(db, b->days, b->day_count, err) < 0 ||
        review_bulk_insert(db, b->reviews, b->review_count, err) < 0)
        return -1;
    /* searchable when the batch commits, like a tool published through the API */
    for (size_t k = 0; k < b->count; k++)
        if (search_index_tool(db, b->ids[k], err) < 0)
            return -1;
    return 0;
}

static int catalogue_tools(db *db, catalogue_run *run, catalogue_progress_fn progress, void *progress_ctx,
                           mkt_error *err)
{
    for (int64_t start = 1; start <= run->tools; start += CATALOGUE_BATCH) {
        catalogue_batch *b = run->batch;
        catalogue_batch_clear(b);
        b->count = (size_t)(run->tools - start + 1 < CATALOGUE_BATCH ? run->tools - start + 1 : CATALOGUE_BATCH);
        for (size_t k = 0; k < b->count; k++)
            if (catalogue_tool(run, start + (int64_t)k, k, err) < 0)
                return -1;
        if (db_transaction(db, catalogue_batch_tx, run, err) < 0)
            return -1;
        if (run->skipped) {
            run->out->tools_skipped += (int64_t)b->count;
        } else {
            run->out->tools_written += (int64_t)b->count;
            run->out->reviews += (int64_t)b->review_count;
            run->out->execution_days += (int64_t)b->day_count;
        }
        if (progress)
            progress(progress_ctx, start - 1 + (int64_t)b->count, run->tools);
    }
    return 0;
}

/* ---- the run ---------------------------------------------------------------------------------------- */

static int catalogue_options_check(const catalogue_options *opt, char *ns, mkt_error *err)
{
    if (opt->tools < 1 || opt->tools > CATALOGUE_TOOLS_MAX)
        error_add_field(err, "tools", "must be a whole number from 1 to %d", CATALOGUE_TOOLS_MAX);
    if (opt->namespace) {
        size_t n = strlen(opt->namespace);
        if (n < 1 || n > CATALOGUE_NAMESPACE_MAX || strspn(opt->namespace, "abcdefghijklmnopqrstuvwxyz0123456789") != n)
            error_add_field(err, "namespace", "must be 1 to %d characters of a-z and 0-9", CATALOGUE_NAMESPACE_MAX);
        else
            snprintf(ns, CATALOGUE_NAMESPACE_MAX + 1, "%s", opt->namespace);
    } else {
        snprintf(ns, CATALOGUE_NAMESPACE_MAX + 1, "s%" PRIu32, opt->seed);
    }
    return error_is_set(err) ? error_set(err, ERROR_VALIDATION, "invalid seed options") : 0;
}

int catalogue_seed(db *db, const config *cfg, const catalogue_options *opt, catalogue_progress_fn progress,
                   void *progress_ctx, catalogue_result *out, mkt_error *err)
{
    catalogue_run run = {.seed = opt->seed, .tools = opt->tools, .out = out};
    memset(out, 0, sizeof *out);
    if (catalogue_options_check(opt, run.ns, err) < 0)
        return -1;
    activity_configure(cfg); /* the executions' trending weight and half-life */
    snprintf(out->namespace, sizeof out->namespace, "%s", run.ns);
    run.developers = (run.tools + CATALOGUE_TOOLS_PER_DEVELOPER - 1) / CATALOGUE_TOOLS_PER_DEVELOPER;
    run.buyers = run.tools / CATALOGUE_TOOLS_PER_BUYER;
    run.buyers = run.buyers < CATALOGUE_BUYERS_MIN ? CATALOGUE_BUYERS_MIN : run.buyers;
    out->developers = run.developers;
    out->buyers = run.buyers;
    run.developer_ids = calloc((size_t)run.developers, sizeof *run.developer_ids);
    run.buyer_ids = calloc((size_t)run.buyers, sizeof *run.buyer_ids);
    run.batch = calloc(1, sizeof *run.batch);
    /* One scrypt hash for every account: the cost is per hash, and thousands would take minutes. */
    char *hash = run.developer_ids && run.buyer_ids && run.batch ? account_password_hash(cfg, CATALOGUE_PASSWORD, err)
                                                                 : NULL;
    int rc = -1;
    if (!hash && !error_is_set(err))
        error_set(err, ERROR_INTERNAL, "out of memory");
    else if (hash && catalogue_accounts(db, &run, 1, run.developers, hash, run.developer_ids, err) == 0 &&
             catalogue_accounts(db, &run, 0, run.buyers, hash, run.buyer_ids, err) == 0)
        rc = catalogue_tools(db, &run, progress, progress_ctx, err);
    free(hash);
    free(run.developer_ids);
    free(run.buyer_ids);
    catalogue_batch_free(run.batch);
    return rc;
}

size_t catalogue_family_count(void)
{
    return catalogue_families_count;
}

const catalogue_family *catalogue_family_get(size_t i)
{
    return i < catalogue_families_count ? &catalogue_families[i] : NULL;
}

/* core/plugin_resolve: choosing versions (highest satisfying every range, npm's pre-release rule),
 * transitive dependencies, conflicts, missing plugins, cycles of 2 and 3, 50-plugin sets, and a
 * deterministic order (dependencies first, then priority, then name). */
#include "core/plugin_resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"

/* A registry written as rows "name version priority deps", deps as "b:^1.0.0,c:~2.0.0". */
typedef struct {
    const char *name, *version;
    int64_t priority;
    const char *deps;
} reg_row;

#define REG_MAX 400

typedef struct {
    plugin_resolve_plugin plugins[REG_MAX];
    plugin_resolve_version versions[REG_MAX];
    plugin_resolve_dep deps[REG_MAX * 4];
    char *strings[REG_MAX * 8];
    size_t plugin_count, version_count, dep_count, string_count;
    int lookups;
} registry;

static char *reg_keep(registry *r, const char *s, size_t n)
{
    char *copy = strndup(s, n);
    r->strings[r->string_count++] = copy;
    return copy;
}

static void reg_deps(registry *r, plugin_resolve_version *v, const char *text)
{
    v->deps = &r->deps[r->dep_count];
    for (const char *p = text; p && *p;) {
        const char *colon = strchr(p, ':'), *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        r->deps[r->dep_count++] = (plugin_resolve_dep){reg_keep(r, p, (size_t)(colon - p)),
                                                        reg_keep(r, colon + 1, (size_t)(end - colon - 1))};
        v->dep_count++;
        p = comma ? comma + 1 : end;
    }
}

/* Rows of one plugin must be adjacent. */
static void reg_load(registry *r, const reg_row *rows, size_t n)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < n; i++) {
        if (r->plugin_count == 0 || strcmp(r->plugins[r->plugin_count - 1].name, rows[i].name) != 0)
            r->plugins[r->plugin_count++] = (plugin_resolve_plugin){rows[i].name, 0, &r->versions[r->version_count], 0};
        plugin_resolve_version *v = &r->versions[r->version_count++];
        *v = (plugin_resolve_version){(int64_t)r->version_count, rows[i].version, rows[i].priority, NULL, 0};
        reg_deps(r, v, rows[i].deps);
        r->plugins[r->plugin_count - 1].version_count++;
    }
}

static void reg_free(registry *r)
{
    for (size_t i = 0; i < r->string_count; i++)
        free(r->strings[i]);
}

static const plugin_resolve_plugin *reg_find(void *ctx, const char *name, mkt_error *err)
{
    (void)err;
    registry *r = ctx;
    r->lookups++;
    for (size_t i = 0; i < r->plugin_count; i++)
        if (strcmp(r->plugins[i].name, name) == 0)
            return &r->plugins[i];
    return NULL;
}

/* Resolves "a:^1,b:*" and answers "a@1.2.0 b@2.0.0", or "ERR <message> | <field>: <message> ...". */
static char *resolve_text(registry *r, const char *requests)
{
    plugin_resolve_request req[PLUGIN_SET_MAX + 8];
    char *copy = strdup(requests), *save = NULL;
    size_t n = 0;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        *colon = '\0';
        req[n++] = (plugin_resolve_request){item, colon + 1};
    }
    plugin_resolve_item *items = NULL;
    size_t count = 0;
    mkt_error err = MKT_ERROR_INIT;
    char *out = calloc(1, 16384);
    size_t len = 0;
    if (plugin_resolve(req, n, reg_find, r, &items, &count, &err) == 0) {
        for (size_t i = 0; i < count; i++)
            len += (size_t)snprintf(out + len, 16384 - len, "%s%s@%s", i ? " " : "", items[i].plugin->name,
                                    items[i].version->version);
    } else {
        CHECK_INT(err.kind, ERROR_VALIDATION);
        len += (size_t)snprintf(out + len, 16384 - len, "ERR %s", err.message);
        for (size_t f = 0; f < err.field_count; f++)
            len += (size_t)snprintf(out + len, 16384 - len, " | %s: %s", err.fields[f].field, err.fields[f].message);
    }
    free(items);
    free(copy);
    error_clear(&err);
    return out;
}

#define CHECK_RESOLVES(reg, requests, expected)     \
    do {                                            \
        char *got_ = resolve_text((reg), (requests)); \
        CHECK_STR(got_, (expected));                \
        free(got_);                                 \
    } while (0)

#define CHECK_FAILS_WITH(reg, requests, needle)                                              \
    do {                                                                                     \
        char *got_ = resolve_text((reg), (requests));                                        \
        if (strncmp(got_, "ERR ", 4) != 0 || !strstr(got_, (needle))) {                      \
            fprintf(stderr, "  %s:%d: got \"%s\", expected an error with \"%s\"\n", __FILE__, \
                    __LINE__, got_, (needle));                                               \
            check_failures++;                                                                \
        }                                                                                    \
        free(got_);                                                                          \
    } while (0)

static void test_names_and_hooks(void)
{
    CHECK(plugin_name_valid("abc"));
    CHECK(plugin_name_valid("profanity-filter-2"));
    CHECK(!plugin_name_valid("ab"));
    CHECK(!plugin_name_valid("Abc"));
    CHECK(!plugin_name_valid("a_c"));
    CHECK(!plugin_name_valid("caf\xc3\xa9"));
    CHECK(!plugin_name_valid(NULL));
    char *long_name = check_repeat("a", 65);
    CHECK(!plugin_name_valid(long_name));
    long_name[64] = '\0';
    CHECK(plugin_name_valid(long_name));
    free(long_name);
    CHECK_INT(plugin_hook_parse("tool:beforeExecute"), PLUGIN_HOOK_TOOL_BEFORE_EXECUTE);
    CHECK_INT(plugin_hook_parse("tool:afterExecute"), PLUGIN_HOOK_TOOL_AFTER_EXECUTE);
    CHECK_INT(plugin_hook_parse("review:beforeCreate"), PLUGIN_HOOK_REVIEW_BEFORE_CREATE);
    CHECK_INT(plugin_hook_parse("tool:beforeexecute"), -1);
    CHECK_INT(plugin_hook_parse(NULL), -1);
}

static void test_highest_satisfying(void)
{
    static const reg_row rows[] = {
        {"alpha", "1.0.0", 0, ""}, {"alpha", "1.4.2", 0, ""}, {"alpha", "2.0.0", 0, ""},
        {"alpha", "1.5.0-beta.1", 0, ""}, {"alpha", "2.1.0-rc.1", 0, ""},
    };
    registry r;
    reg_load(&r, rows, sizeof rows / sizeof rows[0]);
    CHECK_RESOLVES(&r, "alpha:^1.0.0", "alpha@1.4.2");     /* not the 1.5.0 pre-release */
    CHECK_RESOLVES(&r, "alpha:*", "alpha@2.0.0");          /* no pre-release unless asked */
    CHECK_RESOLVES(&r, "alpha:>=1.5.0-beta.0 <2", "alpha@1.5.0-beta.1");
    CHECK_RESOLVES(&r, "alpha:^2.1.0-rc.0", "alpha@2.1.0-rc.1");
    CHECK_RESOLVES(&r, "alpha:~1.0", "alpha@1.0.0");
    CHECK_FAILS_WITH(&r, "alpha:^3", "no version of alpha satisfies every range on it: ^3 (the tool)");
    CHECK_FAILS_WITH(&r, "alpha:^3", "versions: 1.0.0, 1.4.2, 2.0.0, 1.5.0-beta.1, 2.1.0-rc.1");
    reg_free(&r);
}

/* top -> left, right; left -> base ^1.1; right -> base ~1.2: one base, the highest both admit. */
static void test_diamond(void)
{
    static const reg_row rows[] = {
        {"top", "1.0.0", 0, "left:^1,right:^1"},
        {"left", "1.0.0", 0, "base:^1.1.0"},
        {"right", "1.0.0", 0, "base:~1.2.0"},
        {"base", "1.1.0", 0, ""}, {"base", "1.2.5", 0, ""}, {"base", "1.3.0", 0, ""}, {"base", "2.0.0", 0, ""},
    };
    registry r;
    reg_load(&r, rows, sizeof rows / sizeof rows[0]);
    CHECK_RESOLVES(&r, "top:^1", "base@1.2.5 left@1.0.0 right@1.0.0 top@1.0.0");
    /* the tool's own range on the shared dependency joins the others */
    CHECK_RESOLVES(&r, "top:^1,base:<1.2.3", "ERR conflicting ranges on plugin base | plugins: no version of base "
                                              "satisfies every range on it: <1.2.3 (the tool), ^1.1.0 (left 1.0.0), "
                                              "~1.2.0 (right 1.0.0); versions: 1.1.0, 1.2.5, 1.3.0, 2.0.0");
    reg_free(&r);
}

/* A dependent's chosen version moves its dependency: a newer app needs lib 2, the tool pins lib 1, so
 * the app must fall back to the version that takes lib 1... but resolution picks the highest app
 * first and reports the conflict naming both (no backtracking across a dependent's versions). */
static void test_conflict_names_dependents(void)
{
    static const reg_row rows[] = {
        {"app", "1.0.0", 0, "lib:^1"}, {"app", "2.0.0", 0, "lib:^2"},
        {"lib", "1.0.0", 0, ""}, {"lib", "2.0.0", 0, ""},
    };
    registry r;
    reg_load(&r, rows, sizeof rows / sizeof rows[0]);
    CHECK_RESOLVES(&r, "app:^2", "lib@2.0.0 app@2.0.0");
    CHECK_RESOLVES(&r, "app:^1,lib:*", "lib@1.0.0 app@1.0.0");
    CHECK_FAILS_WITH(&r, "app:^2,lib:^1", "^1 (the tool), ^2 (app 2.0.0)");
    reg_free(&r);
}

/* A dependency chosen in one round can be dropped in the next when its dependent's version changes. */
static void test_fixed_point(void)
{
    static const reg_row rows[] = {
        {"host", "1.0.0", 0, "helper:^1"}, {"host", "1.1.0", 0, "helper:^1,extra:^1"},
        {"helper", "1.0.0", 0, "host:<1.1.0"},
        {"extra", "1.0.0", 0, ""},
    };
    registry r;
    reg_load(&r, rows, sizeof rows / sizeof rows[0]);
    /* round 1 picks host 1.1.0; helper then pins host below 1.1.0, so host moves to 1.0.0 and extra
     * is no longer needed; host <-> helper is a cycle though, reported as such */
    CHECK_FAILS_WITH(&r, "host:^1", "dependency cycle: helper -> host -> helper");
    reg_free(&r);
}

static void test_missing(void)
{
    static const reg_row rows[] = {
        {"uses-ghost", "1.0.0", 0, "ghost:^1"},
    };
    registry r;
    reg_load(&r, rows, sizeof rows / sizeof rows[0]);
    CHECK_RESOLVES(&r, "nobody:^1", "ERR missing plugin nobody, required by the tool | plugins[0].name: "
                                    "no plugin named nobody (required by the tool)");
    CHECK_FAILS_WITH(&r, "uses-ghost:^1", "missing plugin ghost, required by uses-ghost 1.0.0");
    reg_free(&r);
}

static void test_cycles(void)
{
    static const reg_row rows[] = {
        {"one", "1.0.0", 0, "two:^1"}, {"two", "1.0.0", 0, "one:^1"},
        {"cy-a", "1.0.0", 0, "cy-b:*"}, {"cy-b", "1.0.0", 0, "cy-c:*"}, {"cy-c", "1.0.0", 0, "cy-a:*"},
        {"feeds-cycle", "1.0.0", 0, "cy-b:*"},
    };
    registry r;
    reg_load(&r, rows, sizeof rows / sizeof rows[0]);
    CHECK_RESOLVES(&r, "one:*",
                   "ERR dependency cycle: one -> two -> one | plugins: dependency cycle: one -> two -> one");
    CHECK_FAILS_WITH(&r, "two:*", "dependency cycle: one -> two -> one");
    CHECK_FAILS_WITH(&r, "cy-c:*", "dependency cycle: cy-a -> cy-b -> cy-c -> cy-a");
    CHECK_FAILS_WITH(&r, "feeds-cycle:*", "dependency cycle: cy-a -> cy-b -> cy-c -> cy-a");
    reg_free(&r);
}

static void test_order_priority_then_name(void)
{
    static const reg_row rows[] = {
        {"zeta", "1.0.0", -5, ""}, {"alpha", "1.0.0", 10, ""}, {"beta", "1.0.0", 10, ""},
        {"needs-late", "1.0.0", -100, "late:*"}, {"late", "1.0.0", 50, ""},
    };
    registry r;
    reg_load(&r, rows, sizeof rows / sizeof rows[0]);
    CHECK_RESOLVES(&r, "beta:*,alpha:*,zeta:*", "zeta@1.0.0 alpha@1.0.0 beta@1.0.0");
    CHECK_RESOLVES(&r, "zeta:*,beta:*,alpha:*", "zeta@1.0.0 alpha@1.0.0 beta@1.0.0");
    /* a plugin waits for its dependencies; among the plugins free to go, priority decides */
    CHECK_RESOLVES(&r, "needs-late:*,alpha:*", "alpha@1.0.0 late@1.0.0 needs-late@1.0.0");
    reg_free(&r);
}

static void test_requests_checked(void)
{
    static const reg_row rows[] = {{"alpha", "1.0.0", 0, ""}};
    registry r;
    reg_load(&r, rows, sizeof rows / sizeof rows[0]);
    CHECK_FAILS_WITH(&r, "alpha:^1,alpha:^1", "plugins[1].name: alpha is listed twice");
    CHECK_FAILS_WITH(&r, "Alpha:^1", "plugins[0].name: must be 3 to 64 characters");
    CHECK_FAILS_WITH(&r, "alpha:not a range", "plugins[0].range:");
    char *many = calloc(1, 64 * 20);
    for (int i = 0; i <= PLUGIN_SET_MAX; i++)
        sprintf(many + strlen(many), "%sp%03d:*", i ? "," : "", i);
    CHECK_FAILS_WITH(&r, many, "plugins: at most 50 plugins");
    free(many);
    reg_free(&r);
}

/* 50 requested plugins in diamonds over a shared base layer: every one resolved, each plugin once, the
 * order valid, and the same whatever order the tool lists them in. */
static void test_fifty_with_diamonds(void)
{
    static reg_row rows[REG_MAX];
    static char names[REG_MAX][16], deps[REG_MAX][64];
    size_t n = 0;
    for (int i = 0; i < 10; i++) {
        snprintf(names[n], sizeof names[n], "base-%02d", i);
        rows[n] = (reg_row){names[n], "1.0.0", i % 3, ""};
        n++;
        rows[n] = (reg_row){names[n - 1], "1.1.0", i % 3, ""};
        n++;
    }
    for (int i = 0; i < 50; i++) {
        snprintf(names[n], sizeof names[n], "top-%02d", i);
        snprintf(deps[n], sizeof deps[n], "base-%02d:^1,base-%02d:~1.1", i % 10, (i * 7 + 3) % 10);
        rows[n] = (reg_row){names[n], "2.0.0", 50 - i, deps[n]};
        n++;
    }
    registry r;
    reg_load(&r, rows, n);
    char forward[2048] = "", backward[2048] = "";
    for (int i = 0; i < 50; i++) {
        sprintf(forward + strlen(forward), "%stop-%02d:^2", i ? "," : "", i);
        sprintf(backward + strlen(backward), "%stop-%02d:^2", i ? "," : "", 49 - i);
    }
    char *a = resolve_text(&r, forward), *b = resolve_text(&r, backward);
    CHECK_STR(a, b);
    /* 60 plugins: the 10 bases (all at 1.1.0) and the 50 tops, lowest priority first once free */
    int words = 1;
    for (const char *p = a; *p; p++)
        words += *p == ' ';
    CHECK_INT(words, 60);
    CHECK(strncmp(a, "base-00@1.1.0 base-03@1.1.0 base-06@1.1.0 base-09@1.1.0 base-01@1.1.0", 69) == 0);
    /* top-49 (priority 1) goes as soon as its bases 09 and 06 are placed, before base-02 (priority 2) */
    CHECK(strstr(a, "base-07@1.1.0 top-49@2.0.0 base-02@1.1.0") != NULL);
    CHECK(strstr(a, "top-01@2.0.0 top-00@2.0.0") != NULL);
    free(a);
    free(b);
    reg_free(&r);
}

/* A chain 150 deep (each depends on the next) resolves without recursion; 201 plugins is too many. */
static void test_deep_chain_and_limit(void)
{
    static reg_row rows[REG_MAX];
    static char names[REG_MAX][16], deps[REG_MAX][32];
    for (int i = 0; i < 201; i++) {
        snprintf(names[i], sizeof names[i], "link-%03d", i);
        if (i < 200)
            snprintf(deps[i], sizeof deps[i], "link-%03d:^1", i + 1);
        else
            deps[i][0] = '\0';
        rows[i] = (reg_row){names[i], "1.0.0", 0, deps[i]};
    }
    registry r;
    reg_load(&r, rows, 201);
    char *got = resolve_text(&r, "link-050:^1");
    CHECK(strncmp(got, "link-200@1.0.0 link-199@1.0.0", 29) == 0);
    CHECK(strstr(got, "link-051@1.0.0 link-050@1.0.0") != NULL);
    free(got);
    CHECK_FAILS_WITH(&r, "link-000:^1", "more than 200 plugins");
    reg_free(&r);
}

int main(void)
{
    RUN(test_names_and_hooks);
    RUN(test_highest_satisfying);
    RUN(test_diamond);
    RUN(test_conflict_names_dependents);
    RUN(test_fixed_point);
    RUN(test_missing);
    RUN(test_cycles);
    RUN(test_order_priority_then_name);
    RUN(test_requests_checked);
    RUN(test_fifty_with_diamonds);
    RUN(test_deep_chain_and_limit);
    return check_finish();
}

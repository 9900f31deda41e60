/* Plugins end to end through nginx: publishing (and what publishing refuses), attaching a plugin set to
 * a tool (resolution, order, conflicts, cycles, missing plugins), hook chains filtering a tool's input and
 * output, a review:beforeCreate hook that rewrites or rejects reviews, traces, the chain cache following
 * a new plugin set in every worker, and hostile hook code contained with 422 while the workers live. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

#define PLUGIN_NAME_BUF 65

static http_user g_author, g_owner, g_buyer, g_other_dev;
static char g_tool[FIXTURE_ID_SIZE], g_slug[FIXTURE_SLUG_SIZE];

/* ---- helpers ---------------------------------------------------------------------------------------- */

/* A unique plugin name ("<tag>-<pid>-..." lowered to the plugin alphabet). */
static const char *plugin_name(const char *tag)
{
    static char names[8][PLUGIN_NAME_BUF];
    static int next;
    char *out = names[next++ % 8];
    snprintf(out, PLUGIN_NAME_BUF, "%s", fixture_slug(tag));
    for (char *c = out; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
            *c = '-';
    return out;
}

static http_response *send_json(const char *method, const char *path, const http_user *u, const char *text)
{
    return http_request(method, path, u ? u->token : NULL, NULL, text, strlen(text), NULL);
}

/* POST /plugins {name, version, hooks, dependencies, priority} from a one-hook shorthand. */
static http_response *publish(const http_user *u, const char *name, const char *version, const char *hook,
                              const char *code, const char *deps, int priority)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:{s:s}, s:o, s:i}", "name", name, "version", version, "description",
                             "a test plugin", "hooks", hook, code, "dependencies",
                             deps ? fixture_json(deps) : json_object(), "priority", priority);
    http_response *res = http_post_json("/plugins", u->token, body);
    json_decref(body);
    return res;
}

static http_response *add_version(const http_user *u, const char *name, const char *version, const char *hook,
                                  const char *code, const char *deps, int priority)
{
    json_t *body = json_pack("{s:s, s:{s:s}, s:o, s:i}", "version", version, "hooks", hook, code, "dependencies",
                             deps ? fixture_json(deps) : json_object(), "priority", priority);
    char path[160];
    snprintf(path, sizeof path, "/plugins/%s/versions", name);
    http_response *res = http_post_json(path, u->token, body);
    json_decref(body);
    return res;
}

static void must_publish(const char *name, const char *version, const char *hook, const char *code, const char *deps,
                         int priority)
{
    http_response *res = publish(&g_author, name, version, hook, code, deps, priority);
    if (res->status != 201) {
        http_dump("publish", res);
        exit(2);
    }
    http_response_free(res);
}

static void must_add_version(const char *name, const char *version, const char *hook, const char *code,
                             const char *deps, int priority)
{
    http_response *res = add_version(&g_author, name, version, hook, code, deps, priority);
    if (res->status != 201) {
        http_dump("add version", res);
        exit(2);
    }
    http_response_free(res);
}

/* PUT /tools/{tool}/plugins with a JSON text. */
static http_response *attach(const char *tool, const http_user *u, const char *set)
{
    char path[160];
    snprintf(path, sizeof path, "/tools/%s/plugins", tool);
    return send_json("PUT", path, u, set);
}

static void must_attach(const char *tool, const char *set)
{
    http_response *res = attach(tool, &g_owner, set);
    if (res->status != 200) {
        http_dump("attach", res);
        exit(2);
    }
    http_response_free(res);
}

static http_response *run(const char *tool, const http_user *u, const char *query, const char *input)
{
    char path[192], body[512];
    snprintf(path, sizeof path, "/tools/%s/execute%s", tool, query);
    snprintf(body, sizeof body, "{\"input\": %s}", input);
    return http_post_text(path, u->token, body);
}

static json_int_t sum_of(const http_response *res)
{
    return json_integer_value(json_object_get(json_object_get(res->json, "output"), "sum"));
}

/* "a b c": the names of GET /tools/{tool}/plugins' plugins in order. */
static void chain_names(const char *tool, char *out, size_t size)
{
    char path[160];
    snprintf(path, sizeof path, "/tools/%s/plugins", tool);
    http_response *res = http_get(path, NULL);
    out[0] = '\0';
    json_t *plugins = json_object_get(res->json, "plugins");
    size_t i;
    json_t *p;
    json_array_foreach(plugins, i, p)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "",
                 json_string_value(json_object_get(p, "name")));
    http_response_free(res);
}

static const char *detail(const http_response *res)
{
    return json_string_value(json_object_get(res->json, "detail")) ?: "";
}

/* Counts a failure unless res is a problem with status whose detail contains needle (NULL: any). */
static void expect_problem_at(http_response *res, long status, const char *field, const char *needle, int line)
{
    if (!http_is_problem(res, status) || (field && !http_problem_has_field(res, field)) ||
        (needle && !strstr(res->body, needle))) {
        fprintf(stderr, "  %s:%d: expected %ld naming %s with \"%s\"\n", __FILE__, line, status, field ?: "-",
                needle ?: "");
        http_dump("got", res);
        check_failures++;
    }
    http_response_free(res);
}
#define EXPECT_PROBLEM(res, status, field, needle) expect_problem_at((res), (status), (field), (needle), __LINE__)

/* ---- the registry ----------------------------------------------------------------------------------- */

static const char noop_code[] = "function hook(value, context) return value end";

static void test_publish_and_read(void)
{
    const char *name = plugin_name("reg");
    http_response *res = publish(&g_author, name, "1.0.0", "tool:beforeExecute", noop_code, NULL, 3);
    EXPECT_STATUS(res, 201);
    CHECK_STR(http_json_string(res, "name"), name);
    CHECK_STR(http_json_string(res, "latest_version"), "1.0.0");
    http_response_free(res);
    /* the name is taken, whoever asks */
    EXPECT_PROBLEM(publish(&g_other_dev, name, "9.0.0", "tool:beforeExecute", noop_code, NULL, 0), 409, "name", NULL);
    must_add_version(name, "1.1.0", "tool:afterExecute", noop_code, NULL, 1);
    must_add_version(name, "1.2.0-beta.1", "tool:afterExecute", noop_code, NULL, 1);
    /* versions only grow */
    EXPECT_PROBLEM(add_version(&g_author, name, "1.1.0", "tool:afterExecute", noop_code, NULL, 0), 409, "version",
                   NULL);
    EXPECT_PROBLEM(add_version(&g_author, name, "1.0.5", "tool:afterExecute", noop_code, NULL, 0), 409, "version",
                   NULL);
    /* only the owner publishes versions */
    EXPECT_PROBLEM(add_version(&g_other_dev, name, "2.0.0", "tool:afterExecute", noop_code, NULL, 0), 403, NULL, NULL);
    EXPECT_PROBLEM(add_version(&g_author, "no-such-plugin-here", "2.0.0", "tool:afterExecute", noop_code, NULL, 0),
                   404, NULL, NULL);

    char path[160];
    snprintf(path, sizeof path, "/plugins/%s", name);
    res = http_get(path, NULL);
    EXPECT_STATUS(res, 200);
    json_t *versions = json_object_get(res->json, "versions");
    CHECK_INT(json_array_size(versions), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(versions, 0), "version")), "1.2.0-beta.1");
    CHECK_STR(json_string_value(json_object_get(json_array_get(versions, 1), "version")), "1.1.0");
    CHECK_STR(json_string_value(json_object_get(json_array_get(versions, 2), "version")), "1.0.0");
    CHECK(json_is_string(json_object_get(json_object_get(json_array_get(versions, 2), "hooks"), "tool:beforeExecute")));
    CHECK(json_is_false(json_object_get(res->json, "deprecated")));
    http_response_free(res);

    /* search by prefix, paged */
    char query[192];
    snprintf(query, sizeof query, "/plugins?q=%s&per_page=5", name);
    res = http_get(query, NULL);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_integer_value(json_object_get(res->json, "total")), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(res->json, "items"), 0), "name")), name);
    http_response_free(res);
    EXPECT_PROBLEM(http_get("/plugins?q=NOT%20A%20PREFIX", NULL), 400, "q", NULL);

    /* deprecation: the owner only; still listed, flagged */
    EXPECT_PROBLEM(send_json("PATCH", path, &g_other_dev, "{\"deprecated\": true}"), 403, NULL, NULL);
    EXPECT_PROBLEM(send_json("PATCH", path, &g_author, "{\"deprecated\": \"yes\"}"), 422, "deprecated", NULL);
    res = send_json("PATCH", path, &g_author, "{\"deprecated\": false}");
    EXPECT_STATUS(res, 200);
    CHECK(json_is_false(json_object_get(res->json, "deprecated")));
    http_response_free(res);
    res = send_json("PATCH", path, &g_author, "{\"deprecated\": true}");
    EXPECT_STATUS(res, 200);
    CHECK(json_is_true(json_object_get(res->json, "deprecated")));
    http_response_free(res);
    EXPECT_PROBLEM(send_json("PATCH", path, &g_author, "{\"deprecated\": true, \"name\": \"x\"}"), 422, "name", NULL);
    EXPECT_PROBLEM(http_get("/plugins/No-Such", NULL), 404, NULL, NULL);

    /* a deprecated plugin still resolves (1.1.0: ^1 does not take the 1.2.0 pre-release), flagged */
    char tool[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], set[256];
    fixture_adder_tool(&g_owner, "free", 0, 0, tool, slug);
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^1\"}]", name);
    res = attach(slug, &g_owner, set);
    EXPECT_STATUS(res, 200);
    json_t *first = json_array_get(json_object_get(res->json, "plugins"), 0);
    CHECK_STR(json_string_value(json_object_get(first, "version")), "1.1.0");
    CHECK(json_is_true(json_object_get(first, "deprecated")));
    http_response_free(res);
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \">=1.2.0-beta.0\"}]", name);
    res = attach(slug, &g_owner, set);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(res->json, "plugins"), 0), "version")),
              "1.2.0-beta.1");
    http_response_free(res);
}

static void test_publish_refuses(void)
{
    const char *name = plugin_name("bad");
    EXPECT_PROBLEM(publish(&g_author, name, "1.0.0", "tool:beforeExecute", "function hook(value", NULL, 0), 422,
                   "hooks.tool:beforeExecute", "syntax error");
    EXPECT_PROBLEM(publish(&g_author, name, "1.0.0", "tool:beforeExecute", "function handler(v) return v end", NULL, 0),
                   422, "hooks.tool:beforeExecute", "does not define function hook");
    EXPECT_PROBLEM(publish(&g_author, name, "1.0.0", "tool:beforeExecute", "while true do end", NULL, 0), 422,
                   "hooks.tool:beforeExecute", "limit exceeded");
    EXPECT_PROBLEM(publish(&g_author, name, "1.0.0", "tool:beforeExecute",
                           "local x = require('os') function hook(v) return v end", NULL, 0),
                   422, "hooks.tool:beforeExecute", "code error");
    EXPECT_PROBLEM(publish(&g_author, name, "1.0.0", "tool:duringExecute", noop_code, NULL, 0), 422,
                   "hooks.tool:duringExecute", "unknown hook point");
    EXPECT_PROBLEM(publish(&g_author, name, "one", "tool:beforeExecute", noop_code, NULL, 0), 422, "version", NULL);
    EXPECT_PROBLEM(publish(&g_author, name, "1.0.0", "tool:beforeExecute", noop_code,
                           "{\"ghost-plugin-x\": \"^1\"}", 0),
                   422, "dependencies", "no plugin named ghost-plugin-x");
    EXPECT_PROBLEM(publish(&g_author, name, "1.0.0", "tool:beforeExecute", noop_code, "{\"abc\": \">>1\"}", 0), 422,
                   "dependencies.abc", NULL);
    EXPECT_PROBLEM(publish(&g_author, name, "1.0.0", "tool:beforeExecute", noop_code, "{\"abc\": 1}", 0), 422,
                   "dependencies.abc", NULL);
    EXPECT_PROBLEM(publish(&g_author, "Upper-Case", "1.0.0", "tool:beforeExecute", noop_code, NULL, 0), 422, "name",
                   NULL);
    EXPECT_PROBLEM(publish(&g_author, "caf\xc3\xa9-plugin", "1.0.0", "tool:beforeExecute", noop_code, NULL, 0), 422,
                   "name", NULL);
    char *huge = check_repeat("a", 5000);
    EXPECT_PROBLEM(publish(&g_author, huge, "1.0.0", "tool:beforeExecute", noop_code, NULL, 0), 422, "name", NULL);
    free(huge);
    EXPECT_PROBLEM(http_post_text("/plugins", g_author.token, "{\"name\": \"abc-def\", \"version\": \"1.0.0\","
                                                              " \"hooks\": {}, \"bogus\": 1}"),
                   422, "bogus", NULL);
    EXPECT_PROBLEM(http_post_text("/plugins", g_author.token, "{\"name\": 7, \"version\": \"1.0.0\", \"hooks\": 1,"
                                                              " \"priority\": \"high\"}"),
                   422, "priority", NULL);
    /* a buyer is not a developer */
    EXPECT_PROBLEM(publish(&g_buyer, name, "1.0.0", "tool:beforeExecute", noop_code, NULL, 0), 403, NULL, NULL);
    /* nothing of the above was stored */
    char path[160];
    snprintf(path, sizeof path, "/plugins/%s", name);
    EXPECT_PROBLEM(http_get(path, NULL), 404, NULL, NULL);
}

/* ---- chains ----------------------------------------------------------------------------------------- */

static char g_add_one[PLUGIN_NAME_BUF], g_double[PLUGIN_NAME_BUF], g_base[PLUGIN_NAME_BUF],
    g_times_ten[PLUGIN_NAME_BUF];

static void test_chain_filters_input_and_output(void)
{
    /* double depends on base (priority 100: it would go last but must go first); add-one has a
     * lower priority than double, so it runs before it */
    snprintf(g_base, sizeof g_base, "%s", plugin_name("base"));
    snprintf(g_add_one, sizeof g_add_one, "%s", plugin_name("addone"));
    snprintf(g_double, sizeof g_double, "%s", plugin_name("double"));
    snprintf(g_times_ten, sizeof g_times_ten, "%s", plugin_name("tenfold"));
    must_publish(g_base, "1.0.0", "tool:beforeExecute", noop_code, NULL, 100);
    must_publish(g_add_one, "1.0.0", "tool:beforeExecute",
                 "function hook(input, context) input.a = input.a + 1 return input end", NULL, 5);
    char deps[160];
    snprintf(deps, sizeof deps, "{\"%s\": \"^1.0.0\"}", g_base);
    must_publish(g_double, "1.0.0", "tool:beforeExecute",
                 "function hook(input, context) input.a = input.a * 2 return input end", deps, 10);
    must_publish(g_times_ten, "1.0.0", "tool:afterExecute",
                 "function hook(output, context)\n"
                 "  assert(context.hook == 'tool:afterExecute' and context.plugin_version == '1.0.0')\n"
                 "  output.sum = output.sum * 10 return output end",
                 NULL, 0);

    char set[512];
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^1\"}, {\"name\": \"%s\", \"range\": \"*\"},"
                              " {\"name\": \"%s\", \"range\": \"~1.0\"}]",
             g_double, g_times_ten, g_add_one);
    http_response *res = attach(g_tool, &g_owner, set);
    EXPECT_STATUS(res, 200);
    CHECK_INT(json_array_size(json_object_get(res->json, "plugins")), 4);
    CHECK_INT(json_array_size(json_object_get(res->json, "requested")), 3);
    http_response_free(res);
    char names[512], expected[512];
    chain_names(g_slug, names, sizeof names);
    /* times-ten (0) and add-one (5) are free first; base (100) must precede double (10) */
    snprintf(expected, sizeof expected, "%s %s %s %s", g_times_ten, g_add_one, g_base, g_double);
    CHECK_STR(names, expected);

    /* (3 + 1) * 2 + 1 = 9, then times ten */
    res = run(g_slug, &g_buyer, "", "{\"a\": 3, \"b\": 1}");
    EXPECT_STATUS(res, 200);
    CHECK_INT(sum_of(res), 90);
    CHECK(json_object_get(res->json, "trace") == NULL);
    http_response_free(res);
}

static void test_trace(void)
{
    http_response *res = run(g_slug, &g_owner, "?trace=1", "{\"a\": 1, \"b\": 1}");
    EXPECT_STATUS(res, 200);
    CHECK_INT(sum_of(res), 50);
    json_t *trace = json_object_get(res->json, "trace");
    CHECK_INT(json_array_size(trace), 4);
    const char *order[] = {g_add_one, g_base, g_double, g_times_ten};
    const int changed[] = {1, 0, 1, 1};
    const char *hooks[] = {"tool:beforeExecute", "tool:beforeExecute", "tool:beforeExecute", "tool:afterExecute"};
    for (size_t i = 0; i < 4 && i < json_array_size(trace); i++) {
        json_t *t = json_array_get(trace, i);
        CHECK_STR(json_string_value(json_object_get(t, "plugin")), order[i]);
        CHECK_STR(json_string_value(json_object_get(t, "version")), "1.0.0");
        CHECK_STR(json_string_value(json_object_get(t, "hook")), hooks[i]);
        CHECK(json_is_integer(json_object_get(t, "duration_us")));
        CHECK_INT(json_is_true(json_object_get(t, "changed")), changed[i]);
    }
    http_response_free(res);
    /* the trace is the owner's: a buyer asking is refused, one not asking runs normally */
    EXPECT_PROBLEM(run(g_slug, &g_buyer, "?trace=1", "{\"a\": 1, \"b\": 1}"), 403, NULL, "trace");
    EXPECT_PROBLEM(run(g_slug, &g_owner, "?trace=maybe", "{\"a\": 1, \"b\": 1}"), 400, "trace", NULL);
    res = run(g_slug, &g_owner, "?trace=0", "{\"a\": 1, \"b\": 1}");
    EXPECT_STATUS(res, 200);
    CHECK(json_object_get(res->json, "trace") == NULL);
    http_response_free(res);
}

/* A new set reaches every worker at once: each caches chains by the tool's plugins_version. */
static void test_new_set_replaces_cached_chains(void)
{
    for (int i = 0; i < 8; i++) /* warm every worker's cache with the current chain */
        http_status_free(run(g_slug, &g_buyer, "", "{\"a\": 1, \"b\": 1}"));
    char set[256];
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^1\"}]", g_add_one);
    must_attach(g_slug, set);
    int right = 0;
    for (int i = 0; i < 12; i++) {
        http_response *res = run(g_slug, &g_buyer, "", "{\"a\": 1, \"b\": 1}");
        right += res->status == 200 && sum_of(res) == 3;
        http_response_free(res);
    }
    CHECK_INT(right, 12);
    /* an empty set: the tool runs bare */
    must_attach(g_slug, "[]");
    http_response *res = run(g_slug, &g_buyer, "", "{\"a\": 1, \"b\": 1}");
    CHECK_INT(sum_of(res), 2);
    http_response_free(res);
    char names[64];
    chain_names(g_slug, names, sizeof names);
    CHECK_STR(names, "");
}

/* The tool's schemas apply to what the chain produces. */
static void test_schemas_after_chain(void)
{
    const char *breaks_input = plugin_name("breakin"), *breaks_output = plugin_name("breakout");
    must_publish(breaks_input, "1.0.0", "tool:beforeExecute", "function hook(v) v.a = 'text' return v end", NULL, 0);
    must_publish(breaks_output, "1.0.0", "tool:afterExecute", "function hook(v) v.sum = 'text' return v end", NULL, 0);
    char set[256];
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"*\"}]", breaks_input);
    must_attach(g_slug, set);
    EXPECT_PROBLEM(run(g_slug, &g_buyer, "", "{\"a\": 1, \"b\": 1}"), 422, "input.a", NULL);
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"*\"}]", breaks_output);
    must_attach(g_slug, set);
    EXPECT_PROBLEM(run(g_slug, &g_buyer, "", "{\"a\": 1, \"b\": 1}"), 422, "output.sum", NULL);
    must_attach(g_slug, "[]");
}

/* ---- resolution over HTTP ---------------------------------------------------------------------------- */

static void test_attach_refuses(void)
{
    char set[4096];
    EXPECT_PROBLEM(attach(g_slug, &g_owner, "[{\"name\": \"no-such-plugin-anywhere\", \"range\": \"^1\"}]"), 422,
                   "plugins[0].name", "no-such-plugin-anywhere");
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^7\"}]", g_add_one);
    EXPECT_PROBLEM(attach(g_slug, &g_owner, set), 422, "plugins", "no version of");
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"not a range\"}]", g_add_one);
    EXPECT_PROBLEM(attach(g_slug, &g_owner, set), 422, "plugins[0].range", NULL);
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"*\", \"colour\": \"red\"}]", g_add_one);
    EXPECT_PROBLEM(attach(g_slug, &g_owner, set), 422, "plugins[0]", "unknown field colour");
    EXPECT_PROBLEM(attach(g_slug, &g_owner, "[{\"name\": 5, \"range\": []}]"), 422, "plugins[0].name", NULL);
    EXPECT_PROBLEM(attach(g_slug, &g_owner, "{\"name\": \"x\"}"), 422, NULL, "JSON array");
    EXPECT_PROBLEM(attach(g_slug, &g_owner, "[{\"name\": \"caf\xc3\xa9s\", \"range\": \"*\"}]"), 422, "plugins[0].name",
                   NULL);
    size_t len = 1;
    strcpy(set, "[");
    for (int i = 0; i <= 50; i++)
        len += (size_t)snprintf(set + len, sizeof set - len, "%s{\"name\": \"p%03d\", \"range\": \"*\"}",
                                i ? "," : "", i);
    snprintf(set + len, sizeof set - len, "]");
    EXPECT_PROBLEM(attach(g_slug, &g_owner, set), 422, "plugins", "at most 50");
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"*\"}]", g_add_one);
    EXPECT_PROBLEM(attach(g_slug, &g_buyer, set), 403, NULL, NULL);
    EXPECT_PROBLEM(attach("no-such-tool-slug-x", &g_owner, set), 404, NULL, NULL);

    /* cycles appear through later versions: a 1.0.0 stands alone, b depends on a, a 2.0.0 on b */
    char a[PLUGIN_NAME_BUF], b[PLUGIN_NAME_BUF], c[PLUGIN_NAME_BUF], deps[160];
    snprintf(a, sizeof a, "%s", plugin_name("cyca"));
    snprintf(b, sizeof b, "%s", plugin_name("cycb"));
    snprintf(c, sizeof c, "%s", plugin_name("cycc"));
    must_publish(a, "1.0.0", "tool:beforeExecute", noop_code, NULL, 0);
    snprintf(deps, sizeof deps, "{\"%s\": \"*\"}", a);
    must_publish(b, "1.0.0", "tool:beforeExecute", noop_code, deps, 0);
    snprintf(deps, sizeof deps, "{\"%s\": \"*\"}", b);
    must_publish(c, "1.0.0", "tool:beforeExecute", noop_code, deps, 0);
    snprintf(deps, sizeof deps, "{\"%s\": \"^1\"}", b);
    must_add_version(a, "2.0.0", "tool:beforeExecute", noop_code, deps, 0);
    char cycle[512];
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^2\"}]", a);
    snprintf(cycle, sizeof cycle, "dependency cycle: %s -> %s -> %s", a, b, a);
    EXPECT_PROBLEM(attach(g_slug, &g_owner, set), 422, "plugins", cycle);
    /* three: a 3.0.0 depends on c, c on b, b on a */
    snprintf(deps, sizeof deps, "{\"%s\": \"*\"}", c);
    must_add_version(a, "3.0.0", "tool:beforeExecute", noop_code, deps, 0);
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^3\"}]", a);
    snprintf(cycle, sizeof cycle, "dependency cycle: %s -> %s -> %s -> %s", a, c, b, a);
    EXPECT_PROBLEM(attach(g_slug, &g_owner, set), 422, "plugins", cycle);
    /* a range that keeps a at 1.x has no cycle */
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"*\"}, {\"name\": \"%s\", \"range\": \"^1\"}]", b, a);
    http_response *res = attach(g_slug, &g_owner, set);
    EXPECT_STATUS(res, 200);
    http_response_free(res);
    must_attach(g_slug, "[]");
}

/* ---- reviews ------------------------------------------------------------------------------------------ */

static void test_review_hook(void)
{
    char tool[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE];
    fixture_adder_tool(&g_owner, "free", 0, 0, tool, slug);
    const char *filter = plugin_name("civil");
    must_publish(filter, "1.0.0", "review:beforeCreate",
                 "function hook(review, context)\n"
                 "  if string.find(string.lower(review.content), 'darn') then error('please keep it civil', 0) end\n"
                 "  review.content = string.gsub(review.content, 'meh', 'm*h')\n"
                 "  return review\n"
                 "end",
                 NULL, 0);
    char set[256];
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^1\"}]", filter);
    must_attach(slug, set);
    http_user author, other;
    fixture_user(&author);
    fixture_user(&other);
    char body[512];
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\", \"rating\": 2, \"title\": \"Hmm\", \"content\": \"Darn slow\"}",
             tool);
    EXPECT_PROBLEM(http_post_text("/reviews", author.token, body), 422, "plugins", "please keep it civil");
    snprintf(body, sizeof body,
             "{\"tool_id\": \"%s\", \"rating\": 3, \"title\": \"Ok\", \"content\": \"meh but fine\"}", tool);
    http_response *res = http_post_text("/reviews", author.token, body);
    EXPECT_STATUS(res, 201);
    CHECK_STR(http_json_string(res, "content"), "m*h but fine");
    http_response_free(res);
    /* a hook that breaks the review rules: the rules still apply */
    const char *wipe = plugin_name("wipe");
    must_publish(wipe, "1.0.0", "review:beforeCreate", "function hook(review) review.rating = 9 return review end",
                 NULL, 0);
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^1\"}]", wipe);
    must_attach(slug, set);
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\", \"rating\": 3, \"title\": \"Ok\", \"content\": \"fine\"}", tool);
    EXPECT_PROBLEM(http_post_text("/reviews", other.token, body), 422, "rating", NULL);
}

/* ---- hostile hooks ------------------------------------------------------------------------------------ */

static void hostile_case(const char *tag, const char *code, const char *needle)
{
    char tool[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE];
    fixture_adder_tool(&g_owner, "free", 0, 0, tool, slug);
    const char *name = plugin_name(tag);
    must_publish(name, "1.0.0", "tool:beforeExecute", code, NULL, 0);
    char set[256], plugin_field[160];
    snprintf(set, sizeof set, "[{\"name\": \"%s\", \"range\": \"^1\"}]", name);
    must_attach(slug, set);
    http_response *res = run(slug, &g_buyer, "", "{\"a\": 1, \"b\": 2}");
    long pid = fixture_worker_pid_of(res->request_id);
    snprintf(plugin_field, sizeof plugin_field, "plugin %s 1.0.0, hook tool:beforeExecute", name);
    int ok = http_is_problem(res, 422) && strstr(detail(res), plugin_field) &&
             (strstr(detail(res), needle) || strstr(detail(res), "time limit exceeded"));
    if (!ok) {
        fprintf(stderr, "  %s: expected a 422 naming the plugin and \"%s\"\n", tag, needle);
        http_dump("got", res);
        check_failures++;
    } else {
        fprintf(stderr, "    %-12s 422 in %.0f ms: %.160s\n", tag, res->seconds * 1000.0, detail(res));
    }
    http_response_free(res);
    /* the worker lives and the next run is normal */
    CHECK(pid > 0);
    res = run(g_slug, &g_buyer, "", "{\"a\": 20, \"b\": 22}");
    EXPECT_STATUS(res, 200);
    CHECK_INT(sum_of(res), 42);
    http_response_free(res);
}

static void test_hostile_hooks(void)
{
    fixture_worker_counters before = fixture_worker_counters_now();
    hostile_case("loop", "function hook(v) while true do end end", "instruction limit exceeded");
    hostile_case("membomb", "function hook(v) local t = {} local i = 0 while true do i = i + 1 t[i] = {i, i} end end",
                 "memory limit exceeded");
    /* unbounded recursion ends on Lua's stack limit or, first, the memory cap */
    hostile_case("recurse", "local function f(n) return f(n + 1) + 1 end function hook(v) return f(1) end",
                 "limit exceeded");
    hostile_case("os", "function hook(v) os.execute('true') return v end", "attempt to call a nil value");
    hostile_case("io", "function hook(v) return io.open('/etc/passwd') end", "attempt to index a nil value");
    hostile_case("require", "function hook(v) return require('os') end", "attempt to call a nil value");
    hostile_case("nil", "function hook(v) return nil end", "returned nil");
    hostile_case("function", "function hook(v) return print end", "function");
    hostile_case("huge", "function hook(v) return {s = string.rep('x', 4000000)} end", "too large");
    if (fixture_check_workers_since(before) < 0)
        fprintf(stderr, "  (no /metrics from this host; crash counters not compared)\n");
}

/* The hooks of one execution share the request budget (sandbox_request_instructions, 50,000,000 in the
 * test config): five hooks of 9,000,000 work units each pass, a sixth gets the 5,000,000 left and is
 * stopped there, although its own cap (10,000,000) would have let it finish. */
static void test_hooks_share_budget(void)
{
    char tool[FIXTURE_ID_SIZE], slug[FIXTURE_SLUG_SIZE], set[1024], names[6][PLUGIN_NAME_BUF];
    fixture_adder_tool(&g_owner, "free", 0, 0, tool, slug);
    size_t len = 0;
    for (int i = 0; i < 6; i++) {
        snprintf(names[i], sizeof names[i], "%s", plugin_name("burn"));
        must_publish(names[i], "1.0.0", "tool:beforeExecute",
                     "function hook(v) for i = 1, 9000000 do end return v end", NULL, i);
    }
    len += (size_t)snprintf(set + len, sizeof set - len, "[");
    for (int i = 0; i < 5; i++)
        len += (size_t)snprintf(set + len, sizeof set - len, "%s{\"name\": \"%s\", \"range\": \"*\"}", i ? "," : "",
                                names[i]);
    snprintf(set + len, sizeof set - len, "]");
    must_attach(slug, set);
    http_response *res = run(slug, &g_buyer, "", "{\"a\": 1, \"b\": 2}");
    EXPECT_STATUS(res, 200);
    CHECK_INT(sum_of(res), 3);
    http_response_free(res);
    snprintf(set + len, sizeof set - len, ",{\"name\": \"%s\", \"range\": \"*\"}]", names[5]);
    must_attach(slug, set);
    char needle[160];
    snprintf(needle, sizeof needle, "plugin %s 1.0.0, hook tool:beforeExecute: instruction limit exceeded", names[5]);
    EXPECT_PROBLEM(run(slug, &g_buyer, "", "{\"a\": 1, \"b\": 2}"), 422, "plugins", needle);
}

static void setup(void)
{
    fixture_developer(&g_author, "Plugin Author");
    fixture_developer(&g_owner, "Tool Owner");
    fixture_developer(&g_other_dev, "Someone Else");
    fixture_user(&g_buyer);
    fixture_adder_tool(&g_owner, "free", 0, 0, g_tool, g_slug);
}

int main(void)
{
    setup();
    RUN(test_publish_and_read);
    RUN(test_publish_refuses);
    RUN(test_chain_filters_input_and_output);
    RUN(test_trace);
    RUN(test_new_set_replaces_cached_chains);
    RUN(test_schemas_after_chain);
    RUN(test_attach_refuses);
    RUN(test_review_hook);
    RUN(test_hostile_hooks);
    RUN(test_hooks_share_budget);
    return check_finish();
}

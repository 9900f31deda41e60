/* libFuzzer target for core/plugin_resolve. The input is lines:
 *   "R NAME RANGE"                           a plugin the tool asks for
 *   "P NAME VERSION PRIORITY [DEP:RANGE,...]"  a published version (versions of a name need not be adjacent)
 * Anything else is skipped. Invariants checked besides memory safety:
 *   - success and failure are exclusive: a failure sets a validation (or internal) error with a message;
 *   - on success every plugin appears once, each chosen version satisfies every range the tool and the
 *     other chosen versions put on it, every dependency comes before its dependent, and every plugin
 *     asked for is there;
 *   - resolving the same input again gives the same answer (order included). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plugin_resolve.h"
#include "core/semver.h"
#include "tests/fuzz/fuzz_support.h"

#define FZ_MAX 64

typedef struct {
    plugin_resolve_plugin plugins[FZ_MAX];
    plugin_resolve_version versions[FZ_MAX][FZ_MAX];
    plugin_resolve_dep deps[FZ_MAX * 4];
    plugin_resolve_request req[PLUGIN_SET_MAX + 1];
    char *strings[FZ_MAX * 16];
    size_t plugin_count, dep_count, req_count, string_count;
} fz_registry;

static char *fz_keep(fz_registry *r, const char *s)
{
    if (r->string_count == sizeof r->strings / sizeof r->strings[0])
        return NULL;
    char *copy = strdup(s ? s : "");
    if (!copy)
        abort();
    return r->strings[r->string_count++] = copy;
}

static const plugin_resolve_plugin *fz_find(void *ctx, const char *name, mkt_error *err)
{
    (void)err;
    fz_registry *r = ctx;
    for (size_t i = 0; i < r->plugin_count; i++)
        if (strcmp(r->plugins[i].name, name) == 0)
            return &r->plugins[i];
    return NULL;
}

static plugin_resolve_plugin *fz_plugin(fz_registry *r, const char *name)
{
    for (size_t i = 0; i < r->plugin_count; i++)
        if (strcmp(r->plugins[i].name, name) == 0)
            return &r->plugins[i];
    if (r->plugin_count == FZ_MAX)
        return NULL;
    plugin_resolve_plugin *p = &r->plugins[r->plugin_count];
    p->name = fz_keep(r, name);
    if (!p->name)
        return NULL;
    p->versions = r->versions[r->plugin_count++];
    return p;
}

static void fz_version(fz_registry *r, char *rest)
{
    char *save = NULL, *name = strtok_r(rest, " ", &save), *version = strtok_r(NULL, " ", &save);
    char *priority = strtok_r(NULL, " ", &save), *deps = strtok_r(NULL, " ", &save);
    plugin_resolve_plugin *p = name && version ? fz_plugin(r, name) : NULL;
    if (!p || p->version_count == FZ_MAX)
        return;
    plugin_resolve_version *v = (plugin_resolve_version *)&p->versions[p->version_count];
    *v = (plugin_resolve_version){(int64_t)p->version_count, fz_keep(r, version), priority ? atoi(priority) : 0,
                                  &r->deps[r->dep_count], 0};
    if (!v->version)
        return;
    p->version_count++;
    char *dsave = NULL;
    for (char *d = deps ? strtok_r(deps, ",", &dsave) : NULL; d && r->dep_count < FZ_MAX * 4;
         d = strtok_r(NULL, ",", &dsave)) {
        char *colon = strchr(d, ':');
        if (colon)
            *colon = '\0';
        const char *dn = fz_keep(r, d), *dr = fz_keep(r, colon ? colon + 1 : "*");
        if (!dn || !dr)
            return;
        r->deps[r->dep_count++] = (plugin_resolve_dep){dn, dr};
        v->dep_count++;
    }
}

static void fz_request(fz_registry *r, char *rest)
{
    char *space = strchr(rest, ' ');
    if (r->req_count == PLUGIN_SET_MAX + 1)
        return;
    if (space)
        *space = '\0';
    const char *name = fz_keep(r, rest), *range = fz_keep(r, space ? space + 1 : "");
    if (name && range)
        r->req[r->req_count++] = (plugin_resolve_request){name, range};
}

static int fz_satisfies(const char *range_text, const char *version_text)
{
    mkt_error err = MKT_ERROR_INIT;
    semver v;
    semver_range *range = semver_range_parse(range_text, &err);
    int ok = range && semver_parse(version_text, &v, &err) == 0;
    int sat = ok && semver_range_satisfies(range, &v);
    if (ok)
        semver_free(&v);
    semver_range_free(range);
    error_clear(&err);
    return sat;
}

static int fz_position(const plugin_resolve_item *items, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].plugin->name, name) == 0)
            return (int)i;
    return -1;
}

static void fz_check(const fz_registry *r, const plugin_resolve_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fz_position(items, n, items[i].plugin->name) != (int)i)
            abort(); /* twice */
        const plugin_resolve_version *v = items[i].version;
        for (size_t d = 0; d < v->dep_count; d++) {
            int at = fz_position(items, n, v->deps[d].name);
            if (at < 0 || at >= (int)i || !fz_satisfies(v->deps[d].range, items[at].version->version))
                abort();
        }
    }
    for (size_t q = 0; q < r->req_count; q++) {
        int at = fz_position(items, n, r->req[q].name);
        if (at < 0 || !fz_satisfies(r->req[q].range, items[at].version->version))
            abort();
    }
}

static char *fz_resolve(fz_registry *r)
{
    plugin_resolve_item *items = NULL;
    size_t n = 0;
    mkt_error err = MKT_ERROR_INIT;
    int rc = plugin_resolve(r->req, r->req_count, fz_find, r, &items, &n, &err);
    if ((rc == 0) == error_is_set(&err) || (rc < 0 && (!err.message || items || n)))
        abort();
    if (rc < 0 && err.kind != ERROR_VALIDATION && err.kind != ERROR_INTERNAL)
        abort();
    size_t cap = 64 + n * (PLUGIN_NAME_MAX + SEMVER_MAX_LENGTH + 2), len = 0;
    char *out = malloc(cap + (err.message ? strlen(err.message) : 0));
    if (!out)
        abort();
    if (rc == 0) {
        fz_check(r, items, n);
        out[0] = '\0';
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(out + len, cap - len, "%s@%s ", items[i].plugin->name, items[i].version->version);
    } else {
        strcpy(out, err.message);
    }
    free(items);
    error_clear(&err);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_registry *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    const char *p = (const char *)data, *end = p + size;
    char *line;
    while ((line = fuzz_line(&p, end))) {
        if (strncmp(line, "P ", 2) == 0)
            fz_version(r, line + 2);
        else if (strncmp(line, "R ", 2) == 0)
            fz_request(r, line + 2);
        free(line);
    }
    char *first = fz_resolve(r), *second = fz_resolve(r);
    if (strcmp(first, second) != 0)
        abort();
    free(first);
    free(second);
    for (size_t i = 0; i < r->string_count; i++)
        free(r->strings[i]);
    free(r);
    return 0;
}

#include "core/plugin_resolve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/semver.h"

const char *const plugin_hook_names[] = {"tool:beforeExecute", "tool:afterExecute", "review:beforeCreate", NULL};

int plugin_hook_parse(const char *name)
{
    for (int i = 0; name && plugin_hook_names[i]; i++)
        if (strcmp(name, plugin_hook_names[i]) == 0)
            return i;
    return -1;
}

int plugin_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < PLUGIN_NAME_MIN || n > PLUGIN_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
            return 0;
    return 1;
}

/* ---- the working set ------------------------------------------------------------------------------ */

/* One range on a node, and who put it there (-1: the tool). The range is borrowed from the parse cache. */
typedef struct {
    int from;
    const char *text;
    const semver_range *range;
} resolve_constraint;

typedef struct {
    const plugin_resolve_plugin *plugin;
    semver *versions;    /* parsed versions[i] (zeroed when it did not parse) */
    char *parsed;        /* 1 where versions[i] parsed */
    semver_range ***dep_ranges; /* [version][dependency], parsed the first time that version is chosen */
    int *dep_nodes;      /* the chosen version's dependencies as node indices (for ordering) */
    int chosen;          /* index into plugin->versions, -1 none yet */
    int reached;         /* in this round's set */
    int conflict;        /* this round found no version for it */
    resolve_constraint *constraints;
    size_t constraint_count, constraint_cap;
} resolve_node;

typedef struct {
    plugin_resolve_find find;
    void *ctx;
    semver_range *request_ranges[PLUGIN_SET_MAX];
    resolve_node nodes[PLUGIN_RESOLVED_MAX];
    size_t count;
    mkt_error *err;
} resolve_state;

static void resolve_constraints_clear(resolve_node *n)
{
    n->constraint_count = 0;
}

static void resolve_node_free(resolve_node *n)
{
    free(n->constraints);
    for (size_t v = 0; v < n->plugin->version_count; v++) {
        if (n->versions)
            semver_free(&n->versions[v]);
        for (size_t d = 0; n->dep_ranges && n->dep_ranges[v] && d < n->plugin->versions[v].dep_count; d++)
            semver_range_free(n->dep_ranges[v][d]);
        if (n->dep_ranges)
            free(n->dep_ranges[v]);
    }
    free(n->dep_ranges);
    free(n->dep_nodes);
    free(n->versions);
    free(n->parsed);
}

static void resolve_state_free(resolve_state *s)
{
    for (size_t i = 0; i < s->count; i++)
        resolve_node_free(&s->nodes[i]);
    s->count = 0;
    for (size_t i = 0; i < PLUGIN_SET_MAX; i++)
        semver_range_free(s->request_ranges[i]);
}

static int resolve_find_node(const resolve_state *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->nodes[i].plugin->name, name) == 0)
            return (int)i;
    return -1;
}

/* Who put a range on a plugin, into buf: "the tool" or "<plugin> <version>". */
static const char *resolve_who(const resolve_state *s, int from, char *buf, size_t cap)
{
    if (from < 0)
        snprintf(buf, cap, "the tool");
    else
        snprintf(buf, cap, "%s %s", s->nodes[from].plugin->name,
                 s->nodes[from].plugin->versions[s->nodes[from].chosen].version);
    return buf;
}

/* The node for name, added (versions parsed) when new. -1 with err set when it does not exist. */
static int resolve_node_for(resolve_state *s, const char *name, int from, const char *field)
{
    int i = resolve_find_node(s, name);
    if (i >= 0)
        return i;
    const plugin_resolve_plugin *p = s->find(s->ctx, name, s->err);
    if (!p) {
        if (error_is_set(s->err))
            return -1;
        char who[PLUGIN_NAME_MAX + SEMVER_MAX_LENGTH + 2];
        resolve_who(s, from, who, sizeof who);
        error_set(s->err, ERROR_VALIDATION, "missing plugin %s, required by %s", name, who);
        error_add_field(s->err, field, "no plugin named %s (required by %s)", name, who);
        return -1;
    }
    if (s->count == PLUGIN_RESOLVED_MAX) {
        error_set(s->err, ERROR_VALIDATION, "the plugin set needs more than %d plugins", PLUGIN_RESOLVED_MAX);
        error_add_field(s->err, field, "more than %d plugins with dependencies", PLUGIN_RESOLVED_MAX);
        return -1;
    }
    resolve_node *n = &s->nodes[s->count];
    memset(n, 0, sizeof *n);
    n->plugin = p;
    n->chosen = -1;
    size_t vc = p->version_count ? p->version_count : 1;
    n->versions = calloc(vc, sizeof *n->versions);
    n->parsed = calloc(vc, 1);
    n->dep_ranges = calloc(vc, sizeof *n->dep_ranges);
    if (!n->versions || !n->parsed || !n->dep_ranges) {
        free(n->versions);
        free(n->parsed);
        free(n->dep_ranges);
        return error_set(s->err, ERROR_INTERNAL, "out of memory");
    }
    s->count++;
    for (size_t v = 0; v < p->version_count; v++) {
        mkt_error ignored = MKT_ERROR_INIT;
        n->parsed[v] = p->versions[v].version && semver_parse(p->versions[v].version, &n->versions[v], &ignored) == 0;
        error_clear(&ignored);
    }
    return (int)(s->count - 1);
}

/* The parsed range text (from: its dependent, -1 the tool), or NULL with err set naming field. */
static semver_range *resolve_parse(resolve_state *s, const char *text, int node, int from, const char *field)
{
    mkt_error parse_err = MKT_ERROR_INIT;
    semver_range *r = semver_range_parse(text ? text : "", &parse_err);
    if (!r) {
        char who[PLUGIN_NAME_MAX + SEMVER_MAX_LENGTH + 2];
        error_set(s->err, parse_err.kind == ERROR_INTERNAL ? ERROR_INTERNAL : ERROR_VALIDATION,
                  "range \"%s\" on %s (from %s) does not parse", text ? text : "", s->nodes[node].plugin->name,
                  resolve_who(s, from, who, sizeof who));
        error_add_field(s->err, field, "%s", parse_err.message ? parse_err.message : "not a semver range");
        error_clear(&parse_err);
    }
    return r;
}

/* The ranges of the dependencies of node's chosen version, parsed once per version. */
static semver_range **resolve_dep_ranges(resolve_state *s, int node, const char *field)
{
    resolve_node *n = &s->nodes[node];
    const plugin_resolve_version *v = &n->plugin->versions[n->chosen];
    if (n->dep_ranges[n->chosen])
        return n->dep_ranges[n->chosen];
    semver_range **ranges = calloc(v->dep_count ? v->dep_count : 1, sizeof *ranges);
    if (!ranges) {
        error_set(s->err, ERROR_INTERNAL, "out of memory");
        return NULL;
    }
    n->dep_ranges[n->chosen] = ranges;
    for (size_t d = 0; d < v->dep_count; d++) {
        int target = resolve_find_node(s, v->deps[d].name);
        if (!(ranges[d] = resolve_parse(s, v->deps[d].range, target >= 0 ? target : node, node, field)))
            return NULL;
    }
    return ranges;
}

static int resolve_add_constraint(resolve_state *s, int node, int from, const char *text, const semver_range *r)
{
    resolve_node *n = &s->nodes[node];
    if (n->constraint_count == n->constraint_cap) {
        size_t cap = n->constraint_cap ? n->constraint_cap * 2 : 4;
        resolve_constraint *c = realloc(n->constraints, cap * sizeof *c);
        if (!c)
            return error_set(s->err, ERROR_INTERNAL, "out of memory");
        n->constraints = c;
        n->constraint_cap = cap;
    }
    n->constraints[n->constraint_count++] = (resolve_constraint){from, text, r};
    return 0;
}

/* ---- one round ------------------------------------------------------------------------------------- */

/* The highest version of node satisfying every range on it; -1 when none does. */
static int resolve_pick(const resolve_node *n)
{
    int best = -1;
    for (size_t v = 0; v < n->plugin->version_count; v++) {
        if (!n->parsed[v])
            continue;
        size_t c = 0;
        while (c < n->constraint_count && semver_range_satisfies(n->constraints[c].range, &n->versions[v]))
            c++;
        if (c == n->constraint_count && (best < 0 || semver_compare(&n->versions[v], &n->versions[best]) > 0))
            best = (int)v;
    }
    return best;
}

/* Marks the set reached from the requests through the current choices and gathers every range on each
 * node: a breadth-first walk over an explicit queue. */
static int resolve_gather(resolve_state *s, const plugin_resolve_request *req, size_t n)
{
    for (size_t i = 0; i < s->count; i++) {
        resolve_constraints_clear(&s->nodes[i]);
        s->nodes[i].reached = 0;
    }
    int queue[PLUGIN_RESOLVED_MAX];
    size_t head = 0, tail = 0;
    char field[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(field, sizeof field, "plugins[%zu].name", i);
        int node = resolve_node_for(s, req[i].name, -1, field);
        snprintf(field, sizeof field, "plugins[%zu].range", i);
        if (node < 0)
            return -1;
        if (!s->request_ranges[i] && !(s->request_ranges[i] = resolve_parse(s, req[i].range, node, -1, field)))
            return -1;
        if (resolve_add_constraint(s, node, -1, req[i].range, s->request_ranges[i]) < 0)
            return -1;
        if (!s->nodes[node].reached) {
            s->nodes[node].reached = 1;
            queue[tail++] = node;
        }
    }
    while (head < tail) {
        int from = queue[head++];
        resolve_node *f = &s->nodes[from];
        /* reached for the first time: a provisional choice from the ranges seen so far lets its own
         * dependencies join this round (a chain N deep would otherwise take N rounds); the choice
         * counts as a change, so the next round checks it against every range */
        if (f->chosen < 0)
            f->chosen = resolve_pick(f);
        if (f->chosen < 0)
            continue;
        const plugin_resolve_version *v = &f->plugin->versions[f->chosen];
        char dep_field[PLUGIN_NAME_MAX + 16];
        snprintf(dep_field, sizeof dep_field, "plugins.%s", f->plugin->name);
        for (size_t d = 0; d < v->dep_count; d++)
            if (resolve_node_for(s, v->deps[d].name, from, dep_field) < 0)
                return -1;
        semver_range **ranges = resolve_dep_ranges(s, from, dep_field);
        if (!ranges)
            return -1;
        for (size_t d = 0; d < v->dep_count; d++) {
            int node = resolve_find_node(s, v->deps[d].name);
            if (resolve_add_constraint(s, node, from, v->deps[d].range, ranges[d]) < 0)
                return -1;
            if (!s->nodes[node].reached) {
                s->nodes[node].reached = 1;
                queue[tail++] = node;
            }
        }
    }
    return 0;
}

/* Chooses a version for every reached node; returns how many choices changed. */
static int resolve_choose(resolve_state *s)
{
    int changed = 0;
    for (size_t i = 0; i < s->count; i++) {
        resolve_node *n = &s->nodes[i];
        int pick = n->reached ? resolve_pick(n) : -1;
        n->conflict = n->reached && pick < 0;
        if (n->conflict)
            pick = n->chosen; /* keep the old choice: another change this round may settle it */
        if (pick != n->chosen)
            changed++;
        n->chosen = pick;
    }
    return changed;
}

/* "no version of b satisfies ^1.0.0 (the tool), ^2.0.0 (a 1.0.0); versions: 1.0.0, 2.0.0" */
static int resolve_report_conflict(resolve_state *s, const resolve_node *n)
{
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    if (!text)
        return error_set(s->err, ERROR_INTERNAL, "out of memory");
    len += (size_t)snprintf(text, cap, "no version of %s satisfies every range on it:", n->plugin->name);
    for (size_t c = 0; c < n->constraint_count && len < cap; c++) {
        char who[PLUGIN_NAME_MAX + SEMVER_MAX_LENGTH + 2];
        len += (size_t)snprintf(text + len, cap - len, "%s %s (%s)", c ? "," : "", n->constraints[c].text,
                                resolve_who(s, n->constraints[c].from, who, sizeof who));
    }
    for (size_t v = 0; v < n->plugin->version_count && len < cap; v++)
        len += (size_t)snprintf(text + len, cap - len, "%s%s", v ? ", " : "; versions: ",
                                n->plugin->versions[v].version);
    if (n->plugin->version_count == 0 && len < cap)
        snprintf(text + len, cap - len, "; it has no versions");
    error_set(s->err, ERROR_VALIDATION, "conflicting ranges on plugin %s", n->plugin->name);
    error_add_field(s->err, "plugins", "%s", text);
    free(text);
    return -1;
}

/* ---- order ------------------------------------------------------------------------------------------ */

static const plugin_resolve_version *resolve_chosen(const resolve_state *s, int i)
{
    return &s->nodes[i].plugin->versions[s->nodes[i].chosen];
}

/* Does node a go before b among the ready ones: lower priority, then name. */
static int resolve_before(const resolve_state *s, int a, int b)
{
    int64_t pa = resolve_chosen(s, a)->priority, pb = resolve_chosen(s, b)->priority;
    if (pa != pb)
        return pa < pb;
    return strcmp(s->nodes[a].plugin->name, s->nodes[b].plugin->name) < 0;
}

/* The dependency of node i still waiting (not placed) with the smallest name, -1 when none. */
static int resolve_waiting_dep(const resolve_state *s, int i, const char *placed)
{
    const plugin_resolve_version *v = resolve_chosen(s, i);
    int best = -1;
    for (size_t d = 0; d < v->dep_count; d++) {
        int j = s->nodes[i].dep_nodes[d];
        if (j >= 0 && s->nodes[j].reached && !placed[j] &&
            (best < 0 || strcmp(s->nodes[j].plugin->name, s->nodes[best].plugin->name) < 0))
            best = j;
    }
    return best;
}

/* Every node left waits on another left: walk waiting dependencies from the smallest name until one
 * repeats, and name the loop "a -> b -> a". */
static int resolve_report_cycle(resolve_state *s, const char *placed)
{
    int start = -1;
    for (size_t i = 0; i < s->count; i++)
        if (s->nodes[i].reached && !placed[i] &&
            (start < 0 || strcmp(s->nodes[i].plugin->name, s->nodes[start].plugin->name) < 0))
            start = (int)i;
    int path[PLUGIN_RESOLVED_MAX + 1], seen_at[PLUGIN_RESOLVED_MAX];
    for (size_t i = 0; i < s->count; i++)
        seen_at[i] = -1;
    size_t len = 0;
    int at = start;
    while (at >= 0 && seen_at[at] < 0) {
        seen_at[at] = (int)len;
        path[len++] = at;
        at = resolve_waiting_dep(s, at, placed);
    }
    size_t cap = (size_t)(PLUGIN_NAME_MAX + 4) * (PLUGIN_RESOLVED_MAX + 1) + 1, used = 0;
    char *text = malloc(cap);
    if (!text)
        return error_set(s->err, ERROR_INTERNAL, "out of memory");
    text[0] = '\0';
    /* the loop is path[first..len); name it from its smallest name, so one cycle reads one way */
    size_t first = at >= 0 ? (size_t)seen_at[at] : 0, least = first;
    for (size_t k = first; k < len; k++)
        if (strcmp(s->nodes[path[k]].plugin->name, s->nodes[path[least]].plugin->name) < 0)
            least = k;
    for (size_t k = 0; k < len - first; k++)
        used += (size_t)snprintf(text + used, cap - used, "%s -> ",
                                 s->nodes[path[first + (least - first + k) % (len - first)]].plugin->name);
    snprintf(text + used, cap - used, "%s", s->nodes[path[least]].plugin->name);
    error_set(s->err, ERROR_VALIDATION, "dependency cycle: %s", text);
    error_add_field(s->err, "plugins", "dependency cycle: %s", text);
    free(text);
    return -1;
}

/* Each reached node's dependencies as node indices, and how many of them are reached: Kahn's
 * in-degrees. */
static int resolve_link(resolve_state *s, int *waiting)
{
    for (size_t i = 0; i < s->count; i++) {
        resolve_node *n = &s->nodes[i];
        waiting[i] = 0;
        if (!n->reached)
            continue;
        const plugin_resolve_version *v = resolve_chosen(s, (int)i);
        free(n->dep_nodes);
        n->dep_nodes = calloc(v->dep_count ? v->dep_count : 1, sizeof *n->dep_nodes);
        if (!n->dep_nodes)
            return error_set(s->err, ERROR_INTERNAL, "out of memory");
        for (size_t d = 0; d < v->dep_count; d++) {
            n->dep_nodes[d] = resolve_find_node(s, v->deps[d].name);
            waiting[i] += n->dep_nodes[d] >= 0 && s->nodes[n->dep_nodes[d]].reached;
        }
    }
    return 0;
}

/* Kahn's algorithm: repeatedly place the first (priority, name) of the nodes whose dependencies are all
 * placed. O(n^2) comparisons for n <= PLUGIN_RESOLVED_MAX: microseconds, no heap needed. */
static int resolve_order(resolve_state *s, plugin_resolve_item *out, size_t *out_n)
{
    char placed[PLUGIN_RESOLVED_MAX] = {0};
    int waiting[PLUGIN_RESOLVED_MAX];
    size_t total = 0, done = 0;
    if (resolve_link(s, waiting) < 0)
        return -1;
    for (size_t i = 0; i < s->count; i++)
        total += s->nodes[i].reached;
    while (done < total) {
        int next = -1;
        for (size_t i = 0; i < s->count; i++)
            if (s->nodes[i].reached && !placed[i] && waiting[i] == 0 && (next < 0 || resolve_before(s, (int)i, next)))
                next = (int)i;
        if (next < 0)
            return resolve_report_cycle(s, placed);
        placed[next] = 1;
        out[done++] = (plugin_resolve_item){s->nodes[next].plugin, resolve_chosen(s, next)};
        for (size_t i = 0; i < s->count; i++)
            for (size_t d = 0; s->nodes[i].reached && !placed[i] && d < resolve_chosen(s, (int)i)->dep_count; d++)
                waiting[i] -= s->nodes[i].dep_nodes[d] == next;
    }
    *out_n = done;
    return 0;
}

/* ---- the whole resolution -------------------------------------------------------------------------- */

static int resolve_check_requests(const plugin_resolve_request *req, size_t n, mkt_error *err)
{
    if (n > PLUGIN_SET_MAX) {
        error_add_field(err, "plugins", "at most %d plugins", PLUGIN_SET_MAX);
        return error_set(err, ERROR_VALIDATION, "invalid plugin set");
    }
    for (size_t i = 0; i < n; i++) {
        char field[64];
        snprintf(field, sizeof field, "plugins[%zu].name", i);
        if (!plugin_name_valid(req[i].name)) {
            error_add_field(err, field, "must be 3 to 64 characters of a-z, 0-9 and -");
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (plugin_name_valid(req[j].name) && strcmp(req[i].name, req[j].name) == 0) {
                error_add_field(err, field, "%s is listed twice", req[i].name);
                break;
            }
    }
    return error_is_set(err) ? error_set(err, ERROR_VALIDATION, "invalid plugin set") : 0;
}

static int resolve_rounds(resolve_state *s, const plugin_resolve_request *req, size_t n)
{
    for (int round = 0; round < PLUGIN_RESOLVE_ROUNDS; round++) {
        if (resolve_gather(s, req, n) < 0)
            return -1;
        int changed = resolve_choose(s);
        if (changed)
            continue;
        for (size_t i = 0; i < s->count; i++)
            if (s->nodes[i].conflict)
                return resolve_report_conflict(s, &s->nodes[i]);
        /* a node reached for the first time this round has no choice yet: it counted as a change */
        return 0;
    }
    error_set(s->err, ERROR_VALIDATION, "the dependency ranges do not settle on one set of versions");
    return error_add_field(s->err, "plugins", "versions keep changing after %d rounds", PLUGIN_RESOLVE_ROUNDS);
}

int plugin_resolve(const plugin_resolve_request *requests, size_t n, plugin_resolve_find find, void *ctx,
                   plugin_resolve_item **out, size_t *out_n, mkt_error *err)
{
    *out = NULL;
    *out_n = 0;
    if (resolve_check_requests(requests, n, err) < 0)
        return -1;
    resolve_state *s = calloc(1, sizeof *s);
    plugin_resolve_item *items = calloc(PLUGIN_RESOLVED_MAX, sizeof *items);
    if (!s || !items) {
        free(s);
        free(items);
        return error_set(err, ERROR_INTERNAL, "out of memory");
    }
    s->find = find;
    s->ctx = ctx;
    s->err = err;
    int rc = resolve_rounds(s, requests, n);
    if (rc == 0)
        rc = resolve_order(s, items, out_n);
    resolve_state_free(s);
    free(s);
    if (rc < 0) {
        free(items);
        *out_n = 0;
        return -1;
    }
    *out = items;
    return 0;
}

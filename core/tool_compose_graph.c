/* Breadth first from the new edges over the stored ones; see core/tool_compose_graph.h. */
#include "core/tool_compose_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tool_graph_by_from(const void *a, const void *b)
{
    const tool_graph_edge *x = a, *y = b;
    return (x->from > y->from) - (x->from < y->from);
}

static int tool_graph_id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Index of id in the sorted ids (it is always there: every id of the graph was added). */
static size_t tool_graph_index(const int64_t *ids, size_t n, int64_t id)
{
    const int64_t *at = bsearch(&id, ids, n, sizeof *ids, tool_graph_id_cmp);
    return at ? (size_t)(at - ids) : 0;
}

/* The first edge leaving id in the edges sorted by from, or n. */
static size_t tool_graph_first_edge(const tool_graph_edge *edges, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (edges[mid].from < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct {
    int64_t *ids;       /* every node, sorted, unique */
    size_t count;
    long *parent;       /* -2 unseen, -1 reached straight from the new tool */
    const char **name;
    size_t *queue;
} tool_graph;

static void tool_graph_free(tool_graph *g)
{
    free(g->ids);
    free(g->parent);
    free(g->name);
    free(g->queue);
}

static int tool_graph_build(tool_graph *g, const tool_graph_edge *edges, size_t n, int64_t tool,
                            const int64_t *starts, size_t count)
{
    memset(g, 0, sizeof *g);
    size_t max = 2 * n + count + 1;
    g->ids = malloc(max * sizeof *g->ids);
    if (!g->ids)
        return -1;
    size_t k = 0;
    g->ids[k++] = tool;
    for (size_t i = 0; i < count; i++)
        g->ids[k++] = starts[i];
    for (size_t i = 0; i < n; i++) {
        g->ids[k++] = edges[i].from;
        g->ids[k++] = edges[i].to;
    }
    qsort(g->ids, k, sizeof *g->ids, tool_graph_id_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || g->ids[u - 1] != g->ids[i])
            g->ids[u++] = g->ids[i];
    g->count = u;
    g->parent = malloc(u * sizeof *g->parent);
    g->name = calloc(u, sizeof *g->name);
    g->queue = malloc(u * sizeof *g->queue);
    if (!g->parent || !g->name || !g->queue)
        return -1;
    for (size_t i = 0; i < u; i++)
        g->parent[i] = -2;
    return 0;
}

/* "slug -> ... -> name(at) -> slug" following parents from at back to a start. */
static void tool_graph_text(const tool_graph *g, size_t at, const char *slug, char *out, size_t cap)
{
    size_t depth = 0;
    for (long k = (long)at; k >= 0; k = g->parent[k])
        depth++;
    const char **path = malloc((depth ? depth : 1) * sizeof *path);
    size_t n = 0;
    for (long k = (long)at; path && k >= 0; k = g->parent[k])
        path[n++] = g->name[k] ? g->name[k] : "?";
    size_t used = (size_t)snprintf(out, cap, "%s", slug);
    for (size_t k = n; k-- > 0 && used < cap;)
        used += (size_t)snprintf(out + used, cap - used, " -> %s", path[k]);
    if (used < cap)
        snprintf(out + used, cap - used, " -> %s", slug);
    free(path);
}

int tool_graph_cycle(tool_graph_edge *edges, size_t n, int64_t tool, const char *slug, const int64_t *starts,
                     const char *const *start_slugs, size_t count, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    qsort(edges, n, sizeof *edges, tool_graph_by_from);
    tool_graph g;
    if (tool_graph_build(&g, edges, n, tool, starts, count) < 0) {
        tool_graph_free(&g);
        return -1;
    }
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < count; i++) {
        size_t s = tool_graph_index(g.ids, g.count, starts[i]);
        if (starts[i] == tool) { /* calling itself: the shortest cycle there is */
            snprintf(out, cap, "%s -> %s", slug, slug);
            tool_graph_free(&g);
            return 1;
        }
        if (g.parent[s] == -2) {
            g.parent[s] = -1;
            g.name[s] = start_slugs[i];
            g.queue[tail++] = s;
        }
    }
    int found = 0;
    while (head < tail && !found) {
        size_t u = g.queue[head++];
        for (size_t e = tool_graph_first_edge(edges, n, g.ids[u]); e < n && edges[e].from == g.ids[u]; e++) {
            if (!g.name[u])
                g.name[u] = edges[e].from_slug; /* named by an edge leaving it */
            if (edges[e].to == tool) {
                tool_graph_text(&g, u, slug, out, cap);
                found = 1;
                break;
            }
            size_t v = tool_graph_index(g.ids, g.count, edges[e].to);
            if (g.parent[v] == -2) {
                g.parent[v] = (long)u;
                g.queue[tail++] = v;
            }
        }
    }
    tool_graph_free(&g);
    return found;
}

/* The cycle check of composed tools as a pure function (no database): core/tool_compose reads the
 * stored tool-level edges and asks whether a publish's new edges would close a cycle. Iterative and
 * O((V + E) log E), so neither a long chain nor a large graph can exhaust the C stack or the clock. */
#ifndef CORE_TOOL_COMPOSE_GRAPH_H
#define CORE_TOOL_COMPOSE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

/* A stored edge: tool `from` (named from_slug) calls tool `to`. */
typedef struct {
    int64_t from, to;
    const char *from_slug;
} tool_graph_edge;

/* Would `tool` (named slug) calling starts[0..count) (named start_slugs) close a cycle through edges?
 * 1 with the shortest such cycle written to out as "slug -> a -> b -> slug" (cut to cap), 0 when not,
 * -1 when out of memory. Sorts edges in place. */
int tool_graph_cycle(tool_graph_edge *edges, size_t n, int64_t tool, const char *slug, const int64_t *starts,
                     const char *const *start_slugs, size_t count, char *out, size_t cap);

#endif

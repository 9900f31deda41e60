/* core/tool_compose_graph: the publish-time cycle check of composed tools, on graphs built in code. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tool_compose_graph.h"
#include "tests/support/check.h"

static const char *const names[] = {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"};

/* Edges given as "from>to" pairs of small ids named t<id>. */
static size_t edges_of(tool_graph_edge *out, const int (*pairs)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (tool_graph_edge){pairs[i][0], pairs[i][1], names[pairs[i][0]]};
    return n;
}

/* Publishing tool `tool` with calls to `starts`: expect the cycle text (NULL: none). */
static void expect_cycle(const int (*pairs)[2], size_t n, int tool, const int *starts, size_t count,
                         const char *expected, int line)
{
    tool_graph_edge edges[32];
    edges_of(edges, pairs, n);
    int64_t ids[8];
    const char *start_names[8];
    for (size_t i = 0; i < count; i++) {
        ids[i] = starts[i];
        start_names[i] = names[starts[i]];
    }
    char text[256];
    int found = tool_graph_cycle(edges, n, tool, names[tool], ids, start_names, count, text, sizeof text);
    if (found != (expected != NULL) || (expected && strcmp(text, expected) != 0)) {
        fprintf(stderr, "  line %d: expected %s, got %d \"%s\"\n", line, expected ? expected : "no cycle", found, text);
        check_failures++;
    }
}

static void test_small_graphs(void)
{
    static const int none[][2] = {{0, 0}};
    static const int chain[][2] = {{2, 1}, {3, 2}};        /* t2 -> t1, t3 -> t2 */
    static const int diamond[][2] = {{1, 3}, {2, 3}, {4, 1}, {4, 2}};
    int s1[] = {1}, s3[] = {3}, s12[] = {1, 2}, s0[] = {0}, s4[] = {4};
    expect_cycle(none, 0, 0, s1, 1, NULL, __LINE__);
    /* t1 calling t2: t2 -> t1 closes a 2-cycle */
    int s2[] = {2};
    expect_cycle(chain, 1, 1, s2, 1, "t1 -> t2 -> t1", __LINE__);
    /* t1 calling t3: t3 -> t2 -> t1, named in call order */
    expect_cycle(chain, 2, 1, s3, 1, "t1 -> t3 -> t2 -> t1", __LINE__);
    /* the shortest of two cycles is named */
    expect_cycle(chain, 2, 1, (int[]){3, 2}, 2, "t1 -> t2 -> t1", __LINE__);
    /* a diamond is no cycle; a new tool on top of it neither */
    expect_cycle(diamond, 4, 5, s4, 1, NULL, __LINE__);
    expect_cycle(diamond, 4, 0, s12, 2, NULL, __LINE__);
    /* t3 calling t4 closes t3 -> t4 -> t1 -> t3 (and another through t2, as long) */
    expect_cycle(diamond, 4, 3, s4, 1, "t3 -> t4 -> t1 -> t3", __LINE__);
    /* calling itself */
    expect_cycle(none, 0, 0, s0, 1, "t0 -> t0", __LINE__);
}

/* A chain of 200,000 tools and a publish that closes it: iterative, and quick. */
static void test_long_chain(void)
{
    size_t n = 200000;
    tool_graph_edge *edges = malloc(n * sizeof *edges);
    CHECK(edges != NULL);
    if (!edges)
        return;
    for (size_t i = 0; i < n; i++) /* tool i+1 calls tool i; shuffled by writing them backwards */
        edges[n - 1 - i] = (tool_graph_edge){(int64_t)i + 1, (int64_t)i, "x"};
    int64_t start = (int64_t)n;
    const char *start_name = "top";
    char text[64];
    CHECK_INT(tool_graph_cycle(edges, n, 0, "bottom", &start, &start_name, 1, text, sizeof text), 1);
    CHECK(strncmp(text, "bottom -> top -> x -> x", 23) == 0);
    CHECK_INT(tool_graph_cycle(edges, n, (int64_t)n + 1, "other", &start, &start_name, 1, text, sizeof text), 0);
    free(edges);
}

int main(void)
{
    RUN(test_small_graphs);
    RUN(test_long_chain);
    return check_finish();
}

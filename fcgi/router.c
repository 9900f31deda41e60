#include "fcgi/router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTER_MAX_SEGMENTS 16

typedef struct {
    const char *start;
    size_t len;
} router_segment;

/* Splits "/a/b/c" into segments; an empty path or "/" has none. A trailing slash makes an empty last
 * segment, so "/me/" does not match "/me" (one spelling per resource). */
static int router_split(const char *path, router_segment *segments, int max)
{
    int n = 0;
    if (*path == '/')
        path++;
    if (*path == '\0')
        return 0;
    for (;;) {
        if (n == max)
            return -1;
        size_t len = strcspn(path, "/");
        segments[n].start = path;
        segments[n].len = len;
        n++;
        if (path[len] == '\0')
            return n;
        path += len + 1;
    }
}

static int router_is_param(const router_segment *s)
{
    return s->len >= 2 && s->start[0] == '{' && s->start[s->len - 1] == '}';
}

/* Returns a score where higher means more literal segments further left, or -1 for no match. */
static int64_t router_score(const router_segment *pattern, int pattern_count, const router_segment *path,
                            int path_count)
{
    if (pattern_count != path_count)
        return -1;
    int64_t score = 0;
    for (int i = 0; i < pattern_count; i++) {
        score <<= 1;
        if (router_is_param(&pattern[i])) {
            if (path[i].len == 0)
                return -1;
            continue;
        }
        if (pattern[i].len != path[i].len || memcmp(pattern[i].start, path[i].start, path[i].len) != 0)
            return -1;
        score |= 1;
    }
    return score;
}

static void router_allow_append(char *allow, size_t size, const char *method)
{
    if (strstr(allow, method))
        return;
    size_t used = strlen(allow);
    snprintf(allow + used, size - used, "%s%s", used ? ", " : "", method);
}

static int router_capture(request *req, const router_segment *pattern, const router_segment *path, int count)
{
    for (int i = 0; i < count; i++) {
        if (!router_is_param(&pattern[i]) || req->param_count >= REQUEST_MAX_PARAMS)
            continue;
        char *value = request_percent_decode(path[i].start, path[i].len, 0);
        if (!value)
            return -1;
        request_param *param = &req->params[req->param_count];
        snprintf(param->name, sizeof param->name, "%.*s", (int)(pattern[i].len - 2), pattern[i].start + 1);
        param->value = value;
        req->param_count++;
    }
    return 0;
}

router_result router_match(const route *routes, size_t count, request *req, const route **found, char *allow,
                           size_t allow_size)
{
    router_segment path[ROUTER_MAX_SEGMENTS], pattern[ROUTER_MAX_SEGMENTS];
    int path_count = router_split(req->path, path, ROUTER_MAX_SEGMENTS);
    if (allow_size)
        allow[0] = '\0';
    *found = NULL;
    if (path_count < 0)
        return ROUTER_NOT_FOUND;

    /* The best pattern decides the resource; methods are then looked up among routes with exactly
     * that pattern, so GET /tools/trending never falls through to DELETE /tools/{tool}. */
    int64_t best = -1;
    const char *best_pattern = NULL;
    for (size_t i = 0; i < count; i++) {
        int n = router_split(routes[i].pattern, pattern, ROUTER_MAX_SEGMENTS);
        int64_t score = router_score(pattern, n, path, path_count);
        if (score > best) {
            best = score;
            best_pattern = routes[i].pattern;
        }
    }
    if (!best_pattern)
        return ROUTER_NOT_FOUND;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(routes[i].pattern, best_pattern) != 0)
            continue;
        router_allow_append(allow, allow_size, routes[i].method);
        int is_get = strcmp(routes[i].method, "GET") == 0;
        if (is_get)
            router_allow_append(allow, allow_size, "HEAD");
        /* HEAD is GET without the body (nginx drops it), as HTTP requires wherever GET works. */
        if (!*found && (strcmp(routes[i].method, req->method) == 0 || (is_get && strcmp(req->method, "HEAD") == 0)))
            *found = &routes[i];
    }
    if (!*found)
        return ROUTER_METHOD_NOT_ALLOWED;
    int n = router_split(best_pattern, pattern, ROUTER_MAX_SEGMENTS);
    if (router_capture(req, pattern, path, n) < 0)
        return ROUTER_NOT_FOUND;
    return ROUTER_FOUND;
}

/* nginx serving the web UI next to the API (nginx/local.conf.template, as scripts/stack fills it):
 * hashed bundles under /assets/ cached for a year and immutable, index.html and client routes (the SPA fallback)
 * revalidated every time, a strict Content-Security-Policy on the UI, and no fallback under /api/:
 * API 404s stay problem+json. Works on the real build (web/dist) when the stack serves it, or on the
 * stack's placeholder page, beside which it puts a fixture asset of its own for the run. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/http.h"
#include "tests/support/stack_env.h"

static char fixture_asset[600]; /* a file this test wrote (removed at the end), or "" */

/* "/assets/<name>" of some file in the web root's assets/ into out; writes a fixture file there
 * when the root is the stack's own placeholder and has none. 0 on success. */
static int find_asset(char *out, size_t size)
{
    const char *root = stack_env("MKT_WEB_ROOT");
    if (!root) {
        fprintf(stderr, "stack.env has no MKT_WEB_ROOT\n");
        return -1;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/assets", root);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] != '.' && e->d_type == DT_REG) {
            snprintf(out, size, "/assets/%s", e->d_name);
            closedir(d);
            return 0;
        }
    }
    if (d)
        closedir(d);
    const char *stack_dir = stack_env("MKT_STACK_DIR");
    if (!stack_dir || strncmp(root, stack_dir, strlen(stack_dir)) != 0) {
        fprintf(stderr, "%s has no assets and is not the stack's placeholder root\n", root);
        return -1;
    }
    mkdir(dir, 0755);
    snprintf(fixture_asset, sizeof fixture_asset, "%s/fixture-%ld.js", dir, (long)getpid());
    FILE *f = fopen(fixture_asset, "w");
    if (!f)
        return -1;
    fputs("console.log('fixture');\n", f);
    fclose(f);
    snprintf(out, size, "/assets/fixture-%ld.js", (long)getpid());
    return 0;
}

static int has_header_value(const http_response *res, const char *name, const char *value)
{
    const char *got = http_header(res, name);
    return got && strcmp(got, value) == 0;
}

/* How many times the answer carries header name. */
static int header_count(const http_response *res, const char *name)
{
    int n = 0;
    for (size_t i = 0; i < res->header_count; i++)
        n += strcasecmp(res->headers[i].name, name) == 0;
    return n;
}

/* The policy a UI page must carry: same-origin everything, no inline or eval'd script, no framing. */
static void check_ui_policy(const http_response *res)
{
    const char *csp = http_header(res, "Content-Security-Policy");
    CHECK(csp != NULL);
    if (!csp)
        return;
    CHECK(strstr(csp, "default-src 'self'") != NULL);
    CHECK(strstr(csp, "script-src 'self';") != NULL);
    CHECK(strstr(csp, "unsafe-eval") == NULL);
    CHECK(strstr(csp, "frame-ancestors 'none'") != NULL);
    CHECK(strstr(csp, "object-src 'none'") != NULL);
    /* 'unsafe-inline' only for styles (CodeMirror injects <style> elements) */
    const char *inline_at = strstr(csp, "'unsafe-inline'");
    const char *style = strstr(csp, "style-src");
    CHECK(!inline_at || (style && inline_at > style && !memchr(style, ';', (size_t)(inline_at - style))));
    CHECK(has_header_value(res, "X-Content-Type-Options", "nosniff"));
    CHECK(http_header(res, "Referrer-Policy") != NULL);
}

static void test_index_no_cache(void)
{
    http_response *res = http_raw("GET", "/", NULL, NULL, 0);
    CHECK_INT(res->status, 200);
    CHECK(res->content_type && strncmp(res->content_type, "text/html", 9) == 0);
    CHECK(has_header_value(res, "Cache-Control", "no-cache"));
    CHECK_INT(header_count(res, "Cache-Control"), 1);
    check_ui_policy(res);
    http_response *direct = http_raw("GET", "/index.html", NULL, NULL, 0);
    CHECK_INT(direct->status, 200);
    CHECK(has_header_value(direct, "Cache-Control", "no-cache"));
    CHECK(direct->body_len == res->body_len && memcmp(direct->body, res->body, res->body_len) == 0);
    if (check_failures)
        http_dump("GET /", res);
    http_response_free(direct);
    http_response_free(res);
}

/* Client routes get index.html (the app resolves them), revalidated like it. */
static void test_spa_fallback(void)
{
    http_response *index = http_raw("GET", "/", NULL, NULL, 0);
    static const char *const routes[] = {"/tools/some-tool", "/developers/me/earnings", "/login?next=%2Fme",
                                         "/a/b/c/d"};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        http_response *res = http_raw("GET", routes[i], NULL, NULL, 0);
        CHECK_INT(res->status, 200);
        CHECK(res->body_len == index->body_len && memcmp(res->body, index->body, res->body_len) == 0);
        CHECK(has_header_value(res, "Cache-Control", "no-cache"));
        check_ui_policy(res);
        if (check_failures)
            http_dump(routes[i], res);
        http_response_free(res);
    }
    http_response_free(index);
}

static void test_assets_immutable(void)
{
    char path[600];
    if (find_asset(path, sizeof path) < 0) {
        check_failures++;
        return;
    }
    http_response *res = http_raw("GET", path, NULL, NULL, 0);
    CHECK_INT(res->status, 200);
    CHECK(has_header_value(res, "Cache-Control", "public, max-age=31536000, immutable"));
    CHECK_INT(header_count(res, "Cache-Control"), 1);
    CHECK(has_header_value(res, "X-Content-Type-Options", "nosniff"));
    if (check_failures)
        http_dump(path, res);
    http_response_free(res);

    /* a missing bundle is a 404, not index.html, and not cached for a year */
    res = http_raw("GET", "/assets/no-such-bundle-0123abcd.js", NULL, NULL, 0);
    CHECK_INT(res->status, 404);
    CHECK(http_header(res, "Cache-Control") == NULL || !strstr(http_header(res, "Cache-Control"), "immutable"));
    http_response_free(res);
}

/* No SPA fallback under /api/: API 404s stay problem+json, with the API's own caching. */
static void test_api_404_stays_json(void)
{
    static const char *const paths[] = {"/api/marketplace/no-such-route", "/api/marketplace/tools/1/nothing",
                                        "/api/elsewhere", "/api/marketplace", "/api/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_response *res = http_raw("GET", paths[i], NULL, NULL, 0);
        if (!http_is_problem(res, 404)) {
            fprintf(stderr, "  %s is not a 404 problem\n", paths[i]);
            http_dump(paths[i], res);
            check_failures++;
        }
        const char *cc = http_header(res, "Cache-Control");
        CHECK(!cc || strstr(cc, "immutable") == NULL);
        CHECK(!cc || strcmp(cc, "no-cache") != 0);
        CHECK(res->body_len == 0 || res->body[0] == '{');
        http_response_free(res);
    }
    /* the API keeps its own policy and caching, once */
    http_response *res = http_raw("GET", "/api/marketplace/health", NULL, NULL, 0);
    CHECK_INT(res->status, 200);
    CHECK(has_header_value(res, "Cache-Control", "no-store"));
    CHECK_INT(header_count(res, "Cache-Control"), 1);
    const char *csp = http_header(res, "Content-Security-Policy");
    CHECK(csp && strncmp(csp, "default-src 'none'", 18) == 0);
    http_response_free(res);
}

int main(void)
{
    RUN(test_index_no_cache);
    RUN(test_spa_fallback);
    RUN(test_assets_immutable);
    RUN(test_api_404_stays_json);
    if (fixture_asset[0])
        unlink(fixture_asset);
    return check_finish();
}

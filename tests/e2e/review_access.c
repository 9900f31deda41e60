/* Who may call which review and moderation route, end to end through nginx: one table, one row per
 * route x caller, with the status each caller gets. The callers are anonymous, a buyer (a user who ran
 * the tool), the review's author, the tool's owner, another developer, a moderator and an admin.
 *
 * Every cell runs in a world of its own — a fresh developer publishes a fresh free tool, a fresh author
 * reviews it, a fresh buyer runs it — so a cell that changes state (a delete, a hide, a delist) cannot
 * change what the next cell sees, and the table reads the same in any order. Moderator and admin are
 * shared: nothing a cell does changes what they may do. */
#include <stdio.h>
#include <string.h>

#include "tests/support/check.h"
#include "tests/support/fixtures.h"
#include "tests/support/http.h"

enum { ANON, BUYER, AUTHOR, OWNER, OTHER_DEV, MODERATOR, ADMIN, CALLERS };

static const char *const caller_names[CALLERS] = {"anonymous", "buyer",     "author", "owner",
                                                  "other developer", "moderator", "admin"};

/* One route: method, path and body with {tool} and {review} standing for the cell's tool and review
 * ids, and the status each caller gets, in the order of the enum above. */
typedef struct {
    const char *method;
    const char *path;
    const char *body;
    long status[CALLERS];
} access_row;

static const access_row access_table[] = {
    /*                                                                anon buyer author owner other  mod admin */
    {"POST", "/reviews", "{\"tool_id\": \"{tool}\", \"rating\": 4, \"title\": \"Good\", \"content\": \"Adds.\"}",
     {401, 201, 409, 403, 201, 201, 201}},
    {"PATCH", "/reviews/{review}", "{\"rating\": 2}", {401, 403, 200, 403, 403, 403, 403}},
    {"DELETE", "/reviews/{review}", NULL, {401, 403, 204, 403, 403, 403, 403}},
    {"GET", "/tools/{tool}/reviews", NULL, {200, 200, 200, 200, 200, 200, 200}},
    {"GET", "/tools/{tool}/reviews?sort=newest&page=2", NULL, {200, 200, 200, 200, 200, 200, 200}},
    {"POST", "/reviews/{review}/votes", "{\"helpful\": true}", {401, 200, 403, 200, 200, 200, 200}},
    /* withdrawing is idempotent: the author, who can have no vote, withdraws nothing */
    {"DELETE", "/reviews/{review}/votes", NULL, {401, 200, 200, 200, 200, 200, 200}},
    {"POST", "/reviews/{review}/reports", "{\"reason\": \"spam\"}", {401, 202, 403, 202, 202, 202, 202}},
    {"POST", "/reviews/{review}/response", "{\"content\": \"Thanks.\"}", {401, 403, 403, 201, 403, 403, 403}},
    {"POST", "/tools/{tool}/reports", "{\"reason\": \"broken\"}", {401, 202, 202, 403, 202, 202, 202}},
    {"GET", "/moderation/queue", NULL, {401, 403, 403, 403, 403, 200, 200}},
    {"POST", "/moderation/reviews/{review}", "{\"action\": \"hide\", \"note\": \"n\"}",
     {401, 403, 403, 403, 403, 200, 200}},
    {"POST", "/moderation/reviews/{review}", "{\"action\": \"remove\", \"note\": \"n\"}",
     {401, 403, 403, 403, 403, 200, 200}},
    {"POST", "/moderation/tools/{tool}", "{\"action\": \"delist\", \"note\": \"n\"}",
     {401, 403, 403, 403, 403, 200, 200}},
    {"POST", "/moderation/tools/{tool}", "{\"action\": \"restore\", \"note\": \"n\"}",
     {401, 403, 403, 403, 403, 200, 200}},
    {"GET", "/moderation/audit", NULL, {401, 403, 403, 403, 403, 403, 200}},
    {"GET", "/moderation/audit?target=review:1&page=1", NULL, {401, 403, 403, 403, 403, 403, 200}},
};

/* The fresh objects of one cell. */
typedef struct {
    http_user owner, author, buyer;
    char tool[FIXTURE_ID_SIZE], review[FIXTURE_ID_SIZE];
} access_world;

static http_user other_dev, moderator, admin;

static void access_world_make(access_world *w)
{
    fixture_developer(&w->owner, "Access Shop");
    fixture_adder_tool(&w->owner, "free", 0, 0, w->tool, NULL);

    fixture_user(&w->author);
    char body[160];
    snprintf(body, sizeof body, "{\"tool_id\": \"%s\", \"rating\": 5, \"title\": \"Fine\", \"content\": \"Works.\"}",
             w->tool);
    http_response *res = http_request("POST", "/reviews", w->author.token, "application/json", body, strlen(body), NULL);
    if (res->status != 201 || !http_json_string(res, "id")) {
        http_dump("the cell's review", res);
        exit(2);
    }
    snprintf(w->review, sizeof w->review, "%s", http_json_string(res, "id"));
    http_response_free(res);

    fixture_user(&w->buyer);
    char path[96];
    snprintf(path, sizeof path, "/tools/%s/execute", w->tool);
    fixture_post_expect(&w->buyer, path, fixture_json("{\"input\": {\"a\": 1, \"b\": 2}}"), NULL, 200, "the buyer's run");
}

/* text with {tool} and {review} replaced by the cell's ids, into out. */
static void access_expand(const char *text, const access_world *w, char *out, size_t size)
{
    size_t n = 0;
    while (*text && n + 1 < size) {
        const char *value = NULL;
        size_t skip = 0;
        if (strncmp(text, "{tool}", 6) == 0)
            value = w->tool, skip = 6;
        else if (strncmp(text, "{review}", 8) == 0)
            value = w->review, skip = 8;
        if (value) {
            n += (size_t)snprintf(out + n, size - n, "%s", value);
            text += skip;
        } else {
            out[n++] = *text++;
        }
    }
    out[n < size ? n : size - 1] = '\0';
}

static const http_user *access_caller(int who, const access_world *w)
{
    switch (who) {
    case BUYER: return &w->buyer;
    case AUTHOR: return &w->author;
    case OWNER: return &w->owner;
    case OTHER_DEV: return &other_dev;
    case MODERATOR: return &moderator;
    case ADMIN: return &admin;
    default: return NULL;
    }
}

/* The restore row needs a delisted tool: the cell's tool is delisted by the owner first. */
static void access_prepare(const access_row *row, const access_world *w)
{
    if (strcmp(row->path, "/moderation/tools/{tool}") == 0 && row->body && strstr(row->body, "restore")) {
        char path[96];
        snprintf(path, sizeof path, "/tools/%s", w->tool);
        http_response *res = http_request("DELETE", path, w->owner.token, NULL, NULL, 0, NULL);
        if (res->status != 204) {
            http_dump("delisting the cell's tool", res);
            exit(2);
        }
        http_response_free(res);
    }
}

static void test_route_by_caller(void)
{
    for (size_t r = 0; r < sizeof access_table / sizeof access_table[0]; r++) {
        const access_row *row = &access_table[r];
        for (int who = 0; who < CALLERS; who++) {
            access_world w;
            access_world_make(&w);
            access_prepare(row, &w);
            char path[256], body[512];
            access_expand(row->path, &w, path, sizeof path);
            if (row->body)
                access_expand(row->body, &w, body, sizeof body);
            const http_user *u = access_caller(who, &w);
            http_response *res = http_request(row->method, path, u ? u->token : NULL,
                                              row->body ? "application/json" : NULL, row->body ? body : NULL,
                                              row->body ? strlen(body) : 0, NULL);
            if (res->status != row->status[who]) {
                fprintf(stderr, "  %s %s as %s: got %ld, want %ld\n", row->method, row->path, caller_names[who],
                        res->status, row->status[who]);
                http_dump("answer", res);
                check_failures++;
            } else if (res->status >= 400 && !http_is_problem(res, res->status)) {
                fprintf(stderr, "  %s %s as %s: %ld is not a problem document\n", row->method, row->path,
                        caller_names[who], res->status);
                check_failures++;
            }
            http_response_free(res);
        }
    }
}

int main(void)
{
    fixture_developer(&other_dev, "Another Shop");
    fixture_staff(&moderator, "moderator");
    fixture_staff(&admin, "admin");
    RUN(test_route_by_caller);
    fixture_close();
    return check_finish();
}

/* Accounts end to end, through real nginx -> marketplace -> MariaDB: register, login, logout, /me,
 * developer profiles, and every kind of bad input (malformed JSON, wrong types, missing and extra
 * fields, oversized bodies, invalid UTF-8, overlong strings, wrong Content-Type, missing, malformed
 * and revoked tokens). Every error must be an RFC 9457 problem document whose request_id equals the
 * X-Request-Id header, and a rejected register must change nothing. Each test makes its own users. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/http.h"

static const char good_password[] = "a perfectly fine password";

/* ---- helpers -------------------------------------------------------------------------------------- */

/* Checks res is a problem document with status, request_id equal to X-Request-Id and, when field is
 * given, errors[] naming it. Prints the answer on failure. */
static int expect_problem_at(const http_response *res, long status, const char *field, const char *what, int line)
{
    int ok = http_is_problem(res, status);
    if (ok && field && !http_problem_has_field(res, field))
        ok = 0;
    const char *rid = http_json_string(res, "request_id");
    if (ok && (!res->request_id || !rid || strcmp(rid, res->request_id) != 0))
        ok = 0;
    if (!ok) {
        fprintf(stderr, "  line %d: %s: expected a %ld problem%s%s%s\n", line, what, status, field ? " naming '" : "",
                field ? field : "", field ? "'" : "");
        http_dump(what, res);
        check_failures++;
    }
    return ok;
}
#define EXPECT_PROBLEM(res, status, field, what) expect_problem_at(res, status, field, what, __LINE__)

/* The same for an answer the test needs no more: checks it, then frees it. */
static void expect_problem_free_at(http_response *res, long status, const char *field, const char *what, int line)
{
    expect_problem_at(res, status, field, what, line);
    http_response_free(res);
}
#define EXPECT_PROBLEM_FREE(res, status, field, what) expect_problem_free_at(res, status, field, what, __LINE__)

/* method path (as token, which may be NULL) is a 405 problem whose Allow header is allow. */
static void expect_not_allowed_at(const char *method, const char *path, const char *token, const char *allow, int line)
{
    char what[128];
    snprintf(what, sizeof what, "%s %s", method, path);
    http_response *res = http_request(method, path, token, NULL, NULL, 0, NULL);
    expect_problem_at(res, 405, NULL, what, line);
    CHECK_STR(res->allow, allow);
    http_response_free(res);
}
#define EXPECT_NOT_ALLOWED(method, path, token, allow) expect_not_allowed_at(method, path, token, allow, __LINE__)

/* The errors[] array of a problem has exactly this many entries. */
static size_t problem_error_count(const http_response *res)
{
    return json_array_size(json_object_get(res->json, "errors"));
}

static http_response *register_json(const json_t *body)
{
    return http_post_json("/auth/register", NULL, body);
}

static http_response *register_fields(const char *email, const char *password, const char *display_name)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "email", email, "password", password, "display_name", display_name);
    http_response *res = register_json(body);
    json_decref(body);
    return res;
}

static http_response *login_fields(const char *email, const char *password)
{
    json_t *body = json_pack("{s:s, s:s}", "email", email, "password", password);
    http_response *res = http_post_json("/auth/login", NULL, body);
    json_decref(body);
    return res;
}

/* Registers body (taken): a 422 naming field, and other_field when it is not NULL, with exactly errors
 * entries in errors[]. */
static void expect_register_refused_at(json_t *body, const char *field, const char *other_field, size_t errors,
                                       const char *what, int line)
{
    http_response *res = register_json(body);
    expect_problem_at(res, 422, field, what, line);
    if (other_field && !http_problem_has_field(res, other_field)) {
        fprintf(stderr, "  line %d: %s: errors[] does not name '%s'\n", line, what, other_field);
        check_failures++;
    }
    if (problem_error_count(res) != errors) {
        fprintf(stderr, "  line %d: %s: %zu errors, expected %zu\n", line, what, problem_error_count(res), errors);
        check_failures++;
    }
    http_response_free(res);
    json_decref(body);
}
#define EXPECT_REGISTER_REFUSED(body, field, other_field, errors, what) \
    expect_register_refused_at(body, field, other_field, errors, what, __LINE__)

static void new_user(http_user *u)
{
    if (http_register_user(u) < 0) {
        fprintf(stderr, "cannot register a test user; is the stack up?\n");
        exit(2);
    }
}

static int is_rfc3339_utc(const char *s)
{
    if (!s || strlen(s) != 20)
        return 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return end && *end == '\0';
}

static time_t parse_utc(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return 0;
    return timegm(&tm);
}

static int roles_contain(const json_t *user, const char *role)
{
    const json_t *roles = json_object_get(user, "roles");
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
        if (json_is_string(r) && strcmp(json_string_value(r), role) == 0)
            return 1;
    return 0;
}

/* A rejected register must leave nothing behind: logging in with those credentials fails, and
 * registering the same email properly afterwards succeeds. */
static void check_nothing_registered(const char *email, const char *password, int line)
{
    http_response *res = login_fields(email, password);
    if (res->status != 401) {
        fprintf(stderr, "  line %d: login after a rejected register gave %ld\n", line, res->status);
        check_failures++;
    }
    http_response_free(res);
    res = register_fields(email, good_password, "Second Try");
    if (res->status != 201) {
        fprintf(stderr, "  line %d: registering %s after a rejected register gave %ld\n", line, email, res->status);
        http_dump("register", res);
        check_failures++;
    }
    http_response_free(res);
}

/* ---- register ------------------------------------------------------------------------------------- */

static void test_register_shape(void)
{
    char email[160], mixed[200];
    http_unique_email(email, sizeof email, "shape");
    snprintf(mixed, sizeof mixed, "Shape.%s", email);
    for (char *p = mixed; *p && *p != '@'; p++)
        if (*p >= 'a' && *p <= 'z' && (p - mixed) % 2 == 0)
            *p = (char)(*p - 'a' + 'A');
    http_response *res = register_fields(mixed, good_password, "Ada Lovelace");
    CHECK_INT(res->status, 201);
    CHECK(res->content_type && strncmp(res->content_type, "application/json", 16) == 0);
    CHECK(res->request_id && *res->request_id);
    json_t *user = json_object_get(res->json, "user");
    const char *token = http_json_string(res, "token");
    CHECK(json_is_object(user));
    CHECK(token && strlen(token) >= 32);
    /* the same shape as login: the session's expiry comes with the token */
    const char *expires_at = http_json_string(res, "expires_at");
    CHECK(is_rfc3339_utc(expires_at));
    CHECK(expires_at && parse_utc(expires_at) > time(NULL));
    CHECK(json_is_string(json_object_get(user, "id")));
    const char *id = json_string_value(json_object_get(user, "id"));
    CHECK(id && *id && strspn(id, "0123456789") == strlen(id));
    /* stored and answered in lower case */
    char lower[200];
    snprintf(lower, sizeof lower, "%s", mixed);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    CHECK_STR(json_string_value(json_object_get(user, "email")), lower);
    CHECK_STR(json_string_value(json_object_get(user, "display_name")), "Ada Lovelace");
    CHECK(json_is_array(json_object_get(user, "roles")));
    CHECK(roles_contain(user, "buyer"));
    CHECK_INT(json_array_size(json_object_get(user, "roles")), 1);
    CHECK(is_rfc3339_utc(json_string_value(json_object_get(user, "created_at"))));
    /* never any secret */
    CHECK(json_object_get(user, "password") == NULL);
    CHECK(json_object_get(user, "password_hash") == NULL);
    CHECK(strstr(res->body, good_password) == NULL);
    CHECK(strstr(res->body, "scrypt") == NULL);

    /* the token works at once */
    http_response *me = http_get("/me", token);
    CHECK_INT(me->status, 200);
    CHECK_STR(http_json_string(me, "id"), id);
    http_response_free(me);
    http_response_free(res);
}

/* Every 401 says how to authenticate (RFC 9110 requires WWW-Authenticate on 401). */
static void test_unauthorized_says_how(void)
{
    static const char *tokens[] = {NULL, "not-a-token", "0123456789abcdef0123456789abcdef0123456789a"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        http_response *res = http_get("/me", tokens[i]);
        CHECK_INT(res->status, 401);
        const char *how = http_header(res, "WWW-Authenticate");
        CHECK(how && strncmp(how, "Bearer realm=\"marketplace\"", 26) == 0);
        if (tokens[i])
            CHECK(how && strstr(how, "error=\"invalid_token\"") != NULL);
        http_response_free(res);
    }
}

static void test_register_duplicate(void)
{
    http_user u;
    new_user(&u);
    EXPECT_PROBLEM_FREE(register_fields(u.email, good_password, "Someone Else"), 409, "email", "duplicate email");

    /* the same address in another case is the same address */
    char upper[160];
    snprintf(upper, sizeof upper, "%s", u.email);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    EXPECT_PROBLEM_FREE(register_fields(upper, good_password, "Someone Else"),
                        409, "email", "duplicate email in upper case");

    /* and the first account is untouched: its password still works, the other one does not */
    char token[128];
    CHECK_INT(http_login(u.email, u.password, token, sizeof token), 200);
    CHECK_INT(http_login(u.email, good_password, token, sizeof token), 401);
}

typedef struct {
    const char *email;
    long status;
} race_arg;

static void *race_register(void *arg)
{
    race_arg *a = arg;
    http_response *res = register_fields(a->email, good_password, "Racer");
    a->status = res->status;
    http_response_free(res);
    return NULL;
}

/* Many simultaneous registrations of one address: exactly one wins, the rest are 409, none 500. */
static void test_register_race(void)
{
    char email[160];
    http_unique_email(email, sizeof email, "race");
    enum { N = 6 };
    pthread_t threads[N];
    race_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (race_arg){.email = email};
        pthread_create(&threads[i], NULL, race_register, &args[i]);
    }
    int created = 0, conflicts = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        created += args[i].status == 201;
        conflicts += args[i].status == 409;
        if (args[i].status != 201 && args[i].status != 409)
            fprintf(stderr, "  racing register gave %ld\n", args[i].status);
    }
    CHECK_INT(created, 1);
    CHECK_INT(conflicts, N - 1);
}

/* ---- login ---------------------------------------------------------------------------------------- */

static void test_login(void)
{
    http_user u;
    new_user(&u);
    time_t before = time(NULL);
    http_response *res = login_fields(u.email, u.password);
    CHECK_INT(res->status, 200);
    const char *token = http_json_string(res, "token");
    const char *expires_at = http_json_string(res, "expires_at");
    json_t *user = json_object_get(res->json, "user");
    CHECK(token && strlen(token) >= 32);
    CHECK(token && strcmp(token, u.token) != 0); /* a new session */
    CHECK(is_rfc3339_utc(expires_at));
    time_t expires = parse_utc(expires_at);
    CHECK(expires > before + 3600); /* the default lifetime is days, not seconds */
    CHECK_STR(json_string_value(json_object_get(user, "id")), u.id);
    CHECK_STR(json_string_value(json_object_get(user, "email")), u.email);
    CHECK(roles_contain(user, "buyer"));
    CHECK(strstr(res->body, u.password) == NULL);

    /* both sessions work */
    http_response *me = http_get("/me", token);
    CHECK_INT(me->status, 200);
    http_response_free(me);
    me = http_get("/me", u.token);
    CHECK_INT(me->status, 200);
    http_response_free(me);
    http_response_free(res);

    /* the email is matched regardless of case */
    char upper[160];
    snprintf(upper, sizeof upper, "%s", u.email);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    char token2[128];
    CHECK_INT(http_login(upper, u.password, token2, sizeof token2), 200);
}

/* Wrong password and unknown email: the same 401, byte for byte apart from the request id. */
static void test_login_failures_identical(void)
{
    http_user u;
    new_user(&u);
    char unknown[160];
    http_unique_email(unknown, sizeof unknown, "nobody");

    http_response *wrong = login_fields(u.email, "not the password at all");
    http_response *missing = login_fields(unknown, "not the password at all");
    EXPECT_PROBLEM(wrong, 401, NULL, "wrong password");
    EXPECT_PROBLEM(missing, 401, NULL, "unknown email");
    if (json_is_object(wrong->json) && json_is_object(missing->json)) {
        json_t *a = json_deep_copy(wrong->json), *b = json_deep_copy(missing->json);
        CHECK(json_object_get(a, "request_id") && json_object_get(b, "request_id"));
        CHECK(!json_equal(json_object_get(a, "request_id"), json_object_get(b, "request_id")));
        json_object_del(a, "request_id");
        json_object_del(b, "request_id");
        if (!json_equal(a, b)) {
            fprintf(stderr, "  the two 401 answers differ:\n");
            http_dump("wrong password", wrong);
            http_dump("unknown email", missing);
            check_failures++;
        }
        json_decref(a);
        json_decref(b);
    }
    CHECK_STR(wrong->content_type, missing->content_type);
    CHECK(http_json_string(wrong, "token") == NULL);
    http_response_free(wrong);
    http_response_free(missing);

    /* a malformed email and an empty password are the same 401 as well (not 422: nothing is revealed) */
    http_response *odd = login_fields("not-an-email", "whatever123");
    EXPECT_PROBLEM(odd, 401, NULL, "malformed email at login");
    http_response_free(odd);
    odd = login_fields(u.email, "");
    EXPECT_PROBLEM(odd, 401, NULL, "empty password at login");
    http_response_free(odd);
    /* the registered password with a trailing space is not the password */
    char almost[96];
    snprintf(almost, sizeof almost, "%s ", u.password);
    odd = login_fields(u.email, almost);
    EXPECT_PROBLEM(odd, 401, NULL, "password with a trailing space");
    http_response_free(odd);
}

static void test_login_bad_input(void)
{
    /* each body: the problem's status and the fields its errors[] must name (NULL: none required) */
    static const struct {
        const char *body;
        long status;
        const char *field, *other_field;
        const char *what;
    } cases[] = {
        {"{\"email\": \"a@b.c\", ", 400, NULL, NULL, "login malformed JSON"},
        {"{\"email\": 42, \"password\": [\"x\"]}", 422, "email", "password", "login wrong types"},
        {"{\"email\": \"someone@example.test\"}", 422, "password", NULL, "login missing password"},
        {"{}", 422, "email", "password", "login empty object"},
        {"{\"email\": \"someone@example.test\", \"password\": \"0123456789\", \"remember\": true}", 422, "remember",
         NULL, "login extra field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_response *res = http_post_text("/auth/login", NULL, cases[i].body);
        EXPECT_PROBLEM(res, cases[i].status, cases[i].field, cases[i].what);
        if (cases[i].other_field && !http_problem_has_field(res, cases[i].other_field)) {
            fprintf(stderr, "  %s: errors[] does not name '%s'\n", cases[i].what, cases[i].other_field);
            check_failures++;
        }
        http_response_free(res);
    }

    static const char form[] = "email=a%40b.c&password=0123456789";
    http_response *res =
        http_request("POST", "/auth/login", NULL, "application/x-www-form-urlencoded", form, strlen(form), NULL);
    EXPECT_PROBLEM(res, 415, NULL, "login form-encoded");
    http_response_free(res);

    EXPECT_NOT_ALLOWED("GET", "/auth/login", NULL, "POST");
}

/* ---- /me, logout, tokens -------------------------------------------------------------------------- */

static void test_me(void)
{
    http_user u;
    new_user(&u);
    http_response *res = http_get("/me", u.token);
    CHECK_INT(res->status, 200);
    CHECK(res->content_type && strncmp(res->content_type, "application/json", 16) == 0);
    CHECK_STR(http_json_string(res, "id"), u.id);
    CHECK_STR(http_json_string(res, "email"), u.email);
    CHECK_STR(http_json_string(res, "display_name"), u.display_name);
    CHECK(json_is_array(json_object_get(res->json, "roles")));
    CHECK(roles_contain(res->json, "buyer"));
    CHECK(!roles_contain(res->json, "developer"));
    CHECK(!roles_contain(res->json, "admin"));
    /* not a developer yet: no profile (absent or null) */
    json_t *dev = json_object_get(res->json, "developer");
    CHECK(dev == NULL || json_is_null(dev));
    CHECK(json_object_get(res->json, "password_hash") == NULL);
    CHECK(json_object_get(res->json, "token") == NULL);
    http_response_free(res);

    /* someone else's token gives someone else */
    http_user v;
    new_user(&v);
    res = http_get("/me", v.token);
    CHECK_STR(http_json_string(res, "id"), v.id);
    CHECK(strcmp(u.id, v.id) != 0);
    http_response_free(res);
}

static void test_logout(void)
{
    http_user u;
    new_user(&u);
    char second[128];
    CHECK_INT(http_login(u.email, u.password, second, sizeof second), 200);

    /* Every worker resolves (and remembers) the token first; logout must still reach them all. */
    for (int i = 0; i < 24; i++) {
        http_response *warm = http_get("/me", u.token);
        CHECK_INT(warm->status, 200);
        http_response_free(warm);
    }

    http_response *res = http_request("POST", "/auth/logout", u.token, NULL, NULL, 0, NULL);
    CHECK_INT(res->status, 204);
    CHECK_INT(res->body_len, 0);
    CHECK(res->request_id != NULL);
    http_response_free(res);

    /* the same token is dead everywhere, on every worker */
    for (int i = 0; i < 24; i++) {
        EXPECT_PROBLEM_FREE(http_get("/me", u.token), 401, NULL, "/me after logout");
    }
    EXPECT_PROBLEM_FREE(http_request("POST", "/auth/logout", u.token, NULL, NULL, 0, NULL), 401, NULL, "logout twice");
    json_t *body = json_pack("{s:s}", "display_name", "Revoked Dev");
    res = http_post_json("/developers", u.token, body);
    EXPECT_PROBLEM(res, 401, NULL, "POST /developers with a revoked token");
    json_decref(body);
    http_response_free(res);

    /* the other session of the same user is not affected */
    res = http_get("/me", second);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "id"), u.id);
    http_response_free(res);

    /* logging in again works */
    char third[128];
    CHECK_INT(http_login(u.email, u.password, third, sizeof third), 200);

    /* logout needs a token */
    EXPECT_PROBLEM_FREE(http_request("POST", "/auth/logout", NULL, NULL, NULL, 0, NULL),
                        401, NULL, "logout without a token");
    EXPECT_NOT_ALLOWED("GET", "/auth/logout", second, "POST");
}

static void test_bad_tokens(void)
{
    http_user u;
    new_user(&u);

    EXPECT_PROBLEM_FREE(http_get("/me", NULL), 401, NULL, "/me without a token");

    /* well-formed but unknown: 43 base64url characters nobody was given */
    static const char *bad_tokens[] = {
        "abc",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "not a token at all",
        "'; DROP TABLE sessions; --",
        "\xc3\xa9\xc3\xa9\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++) {
        EXPECT_PROBLEM_FREE(http_get("/me", bad_tokens[i]), 401, NULL, bad_tokens[i]);
    }

    /* the real token with something added, or cut short, is not the token */
    char longer[160], shorter[160];
    snprintf(longer, sizeof longer, "%sx", u.token);
    snprintf(shorter, sizeof shorter, "%.*s", (int)strlen(u.token) - 1, u.token);
    EXPECT_PROBLEM_FREE(http_get("/me", longer), 401, NULL, "token + x");
    EXPECT_PROBLEM_FREE(http_get("/me", shorter), 401, NULL, "token - 1");

    /* other schemes and malformed headers */
    char line[256];
    static const char *schemes[] = {"Basic %s", "Token %s", "Bearer%s", "%s"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        char header[200];
        snprintf(header, sizeof header, schemes[i], u.token);
        snprintf(line, sizeof line, "Authorization: %s", header);
        const char *headers[] = {line, NULL};
        EXPECT_PROBLEM_FREE(http_request("GET", "/me", NULL, NULL, NULL, 0, headers), 401, NULL, line);
    }
    const char *empty_bearer[] = {"Authorization: Bearer ", NULL};
    EXPECT_PROBLEM_FREE(http_request("GET", "/me", NULL, NULL, NULL, 0, empty_bearer), 401, NULL, "empty bearer");

    /* the scheme name is case-insensitive (RFC 9110 11.1) */
    snprintf(line, sizeof line, "Authorization: bearer %s", u.token);
    const char *lower_scheme[] = {line, NULL};
    CHECK_INT(http_status_free(http_request("GET", "/me", NULL, NULL, NULL, 0, lower_scheme)), 200);

    /* the good token still works after all that */
    CHECK_INT(http_status_free(http_get("/me", u.token)), 200);
}

/* ---- developers ----------------------------------------------------------------------------------- */

static void test_developers(void)
{
    http_user u;
    new_user(&u);
    json_t *body = json_pack("{s:s, s:s, s:s}", "display_name", "Ada Tools", "bio", "Writes engines.\nAnd notes.",
                             "website", "https://ada.example.test/tools");
    http_response *res = http_post_json("/developers", u.token, body);
    json_decref(body);
    CHECK_INT(res->status, 201);
    const char *dev_id = http_json_string(res, "id");
    char id[32] = "";
    if (dev_id)
        snprintf(id, sizeof id, "%s", dev_id);
    CHECK(id[0] && strspn(id, "0123456789") == strlen(id));
    CHECK_STR(http_json_string(res, "user_id"), u.id);
    CHECK_STR(http_json_string(res, "display_name"), "Ada Tools");
    CHECK_STR(http_json_string(res, "bio"), "Writes engines.\nAnd notes.");
    CHECK_STR(http_json_string(res, "website"), "https://ada.example.test/tools");
    char location[128];
    snprintf(location, sizeof location, "/api/marketplace/developers/%s", id);
    CHECK_STR(res->location, location);
    http_response_free(res);

    /* /me shows the role and the profile */
    res = http_get("/me", u.token);
    CHECK_INT(res->status, 200);
    CHECK(roles_contain(res->json, "buyer"));
    CHECK(roles_contain(res->json, "developer"));
    json_t *dev = json_object_get(res->json, "developer");
    CHECK(json_is_object(dev));
    CHECK_STR(json_string_value(json_object_get(dev, "id")), id);
    http_response_free(res);

    /* a second profile is a conflict, and changes nothing */
    body = json_pack("{s:s}", "display_name", "Second Profile");
    res = http_post_json("/developers", u.token, body);
    json_decref(body);
    EXPECT_PROBLEM(res, 409, NULL, "second developer profile");
    http_response_free(res);

    /* the public profile: anyone, no email */
    char path[96];
    snprintf(path, sizeof path, "/developers/%s", id);
    res = http_get(path, NULL);
    CHECK_INT(res->status, 200);
    CHECK_STR(http_json_string(res, "id"), id);
    CHECK_STR(http_json_string(res, "display_name"), "Ada Tools");
    CHECK(json_object_get(res->json, "email") == NULL);
    CHECK(strstr(res->body, u.email) == NULL);
    CHECK(strstr(res->body, "@") == NULL || strstr(res->body, "example.test/tools") != NULL);
    CHECK(json_is_array(json_object_get(res->json, "tools")));
    http_response_free(res);

    /* with somebody's token it is the same public profile */
    http_user other;
    new_user(&other);
    res = http_get(path, other.token);
    CHECK_INT(res->status, 200);
    CHECK(json_object_get(res->json, "email") == NULL);
    http_response_free(res);

    /* a user who is not a developer has no profile */
    res = http_get("/me", other.token);
    CHECK(!roles_contain(res->json, "developer"));
    http_response_free(res);
}

static void test_developer_lookup_errors(void)
{
    static const char *paths[] = {
        "/developers/999999999999",  "/developers/0",        "/developers/abc",         "/developers/-1",
        "/developers/1.5",           "/developers/1e3",      "/developers/%201",        "/developers/99999999999999999999999",
        "/developers/9223372036854775808", "/developers/0x10",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        EXPECT_PROBLEM_FREE(http_get(paths[i], NULL), 404, NULL, paths[i]);
    }
    /* the trailing slash is another resource, and not one of ours */
    EXPECT_PROBLEM_FREE(http_get("/developers/", NULL), 404, NULL, "/developers/");
    EXPECT_NOT_ALLOWED("DELETE", "/developers/1", NULL, "GET, HEAD");
}

static void test_developer_bad_input(void)
{
    http_user u;
    new_user(&u);

    json_t *body = json_pack("{s:s}", "display_name", "Nobody");
    EXPECT_PROBLEM_FREE(http_post_json("/developers", NULL, body), 401, NULL, "POST /developers without a token");
    json_decref(body);

    EXPECT_PROBLEM_FREE(http_post_text("/developers", u.token, "{}"),
                        422, "display_name", "developer without display_name");

    http_response *res = http_post_text("/developers", u.token, "{\"display_name\": 7, \"bio\": false}");
    EXPECT_PROBLEM(res, 422, "display_name", "developer wrong types");
    CHECK(http_problem_has_field(res, "bio"));
    http_response_free(res);

    EXPECT_PROBLEM_FREE(http_post_text("/developers", u.token, "{\"display_name\": \"Dev\", \"website\": \"ftp://x.example\"}"),
                        
                        422, "website", "developer ftp website");

    EXPECT_PROBLEM_FREE(http_post_text("/developers", u.token, "{\"display_name\": \"Dev\", \"verified\": true}"),
                        422, "verified", "developer extra field");

    char *long_name = check_repeat("n", 81);
    body = json_pack("{s:s}", "display_name", long_name);
    EXPECT_PROBLEM_FREE(http_post_json("/developers", u.token, body),
                        422, "display_name", "developer display_name of 81");
    json_decref(body);
    free(long_name);

    EXPECT_PROBLEM_FREE(http_post_text("/developers", u.token, "{\"display_name\": "),
                        400, NULL, "developer malformed JSON");

    EXPECT_PROBLEM_FREE(http_request("POST", "/developers", u.token, "text/plain", "display_name=x", 14, NULL),
                        415, NULL, "developer text/plain");

    /* none of that made a profile: the user is still not a developer and can still become one */
    res = http_get("/me", u.token);
    CHECK(!roles_contain(res->json, "developer"));
    http_response_free(res);
    body = json_pack("{s:s, s:n}", "display_name", "Finally", "bio");
    CHECK_INT(http_status_free(http_post_json("/developers", u.token, body)), 201);
    json_decref(body);
}

/* ---- bad input on register ------------------------------------------------------------------------ */

static void test_register_malformed_json(void)
{
    char email[160];
    http_unique_email(email, sizeof email, "malformed");
    char text[512];
    static const char *const shapes[] = {
        "{\"email\": \"%s\", \"password\": \"%s\", \"display_name\": \"X\"",    /* unclosed */
        "{\"email\": \"%s\", \"password\": \"%s\", \"display_name\": \"X\",}", /* trailing comma */
        "{'email': '%s', 'password': '%s', 'display_name': 'X'}",              /* single quotes */
        "{\"email\": \"%s\", \"password\": \"%s\", \"display_name\": \"X\"} garbage",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        snprintf(text, sizeof text, shapes[i], email, good_password);
        EXPECT_PROBLEM_FREE(http_post_text("/auth/register", NULL, text), 400, NULL, text);
    }
    EXPECT_PROBLEM_FREE(http_post_text("/auth/register", NULL, "\"just a string\""),
                        400, NULL, "a JSON string as the body");
    /* duplicate keys are refused rather than silently taking one */
    snprintf(text, sizeof text, "{\"email\": \"%s\", \"email\": \"other@example.test\", \"password\": \"%s\", "
             "\"display_name\": \"X\"}", email, good_password);
    EXPECT_PROBLEM_FREE(http_post_text("/auth/register", NULL, text), 400, NULL, "duplicate keys");
    check_nothing_registered(email, good_password, __LINE__);
}

static void test_register_wrong_types(void)
{
    char email[160];
    http_unique_email(email, sizeof email, "types");
    char text[512];
    snprintf(text, sizeof text, "{\"email\": \"%s\", \"password\": 1234567890123, \"display_name\": [\"X\"]}", email);
    http_response *res = http_post_text("/auth/register", NULL, text);
    EXPECT_PROBLEM(res, 422, "password", "password as a number");
    CHECK(http_problem_has_field(res, "display_name"));
    CHECK(!http_problem_has_field(res, "email"));
    http_response_free(res);

    snprintf(text, sizeof text, "{\"email\": {\"v\": \"%s\"}, \"password\": \"%s\", \"display_name\": true}", email,
             good_password);
    res = http_post_text("/auth/register", NULL, text);
    EXPECT_PROBLEM(res, 422, "email", "email as an object");
    CHECK(http_problem_has_field(res, "display_name"));
    http_response_free(res);

    snprintf(text, sizeof text, "{\"email\": \"%s\", \"password\": \"%s\", \"display_name\": null}", email,
             good_password);
    EXPECT_PROBLEM_FREE(http_post_text("/auth/register", NULL, text), 422, "display_name", "display_name null");

    EXPECT_PROBLEM_FREE(http_post_text("/auth/register", NULL, "[1, 2, 3]"), 422, "", "an array as the body");
    check_nothing_registered(email, good_password, __LINE__);
}

static void test_register_missing_fields(void)
{
    http_response *res = http_post_text("/auth/register", NULL, "{}");
    EXPECT_PROBLEM(res, 422, "email", "empty object");
    CHECK(http_problem_has_field(res, "password"));
    CHECK(http_problem_has_field(res, "display_name"));
    CHECK_INT(problem_error_count(res), 3);
    http_response_free(res);

    /* no body at all is an empty object */
    res = http_request("POST", "/auth/register", NULL, NULL, NULL, 0, NULL);
    EXPECT_PROBLEM(res, 422, "email", "no body");
    CHECK(http_problem_has_field(res, "password"));
    CHECK(http_problem_has_field(res, "display_name"));
    http_response_free(res);

    char email[160];
    http_unique_email(email, sizeof email, "missing");
    EXPECT_REGISTER_REFUSED(json_pack("{s:s, s:s}", "email", email, "password", good_password), "display_name", NULL, 1,
                            "no display_name");
    EXPECT_REGISTER_REFUSED(json_pack("{s:s, s:s}", "email", email, "display_name", "No Password"), "password", NULL, 1,
                            "no password");
    check_nothing_registered(email, good_password, __LINE__);
}

static void test_register_extra_fields(void)
{
    char email[160];
    http_unique_email(email, sizeof email, "extra");
    json_t *body = json_pack("{s:s, s:s, s:s, s:[s], s:b}", "email", email, "password", good_password, "display_name",
                             "Mallory", "roles", "admin", "is_admin", 1);
    EXPECT_REGISTER_REFUSED(body, "roles", "is_admin", 2, "extra fields");
    check_nothing_registered(email, good_password, __LINE__);
}

static void test_register_oversized(void)
{
    char email[160];
    http_unique_email(email, sizeof email, "oversized");
    /* just over 1 MiB: nginx stops it with a problem document */
    size_t size = 1024 * 1024 + 512;
    char *name = malloc(size);
    memset(name, 'x', size - 1);
    name[size - 1] = '\0';
    json_t *body = json_pack("{s:s, s:s, s:s}", "email", email, "password", good_password, "display_name", name);
    http_response *res = register_json(body);
    json_decref(body);
    CHECK_INT(res->status, 413);
    CHECK(res->content_type && strncmp(res->content_type, "application/problem+json", 24) == 0);
    CHECK(json_is_object(res->json));
    CHECK_INT(json_integer_value(json_object_get(res->json, "status")), 413);
    CHECK(json_is_string(json_object_get(res->json, "type")));
    CHECK(json_is_string(json_object_get(res->json, "title")));
    CHECK(json_is_string(json_object_get(res->json, "detail")));
    CHECK(res->request_id != NULL);
    CHECK_STR(http_json_string(res, "request_id"), res->request_id);
    http_response_free(res);

    /* much larger still: the same, quickly */
    char *huge = malloc(8 * 1024 * 1024);
    memset(huge, ' ', 8 * 1024 * 1024);
    huge[0] = '{';
    huge[8 * 1024 * 1024 - 1] = '}';
    CHECK_INT(http_status_free(http_request("POST", "/auth/register", NULL, NULL, huge, 8 * 1024 * 1024, NULL)), 413);
    free(huge);

    /* just under the limit reaches the server and is judged on its content (display_name too long) */
    memset(name, 'x', 1000 * 1000);
    name[1000 * 1000] = '\0';
    body = json_pack("{s:s, s:s, s:s}", "email", email, "password", good_password, "display_name", name);
    res = register_json(body);
    json_decref(body);
    EXPECT_PROBLEM(res, 422, "display_name", "1 MB display_name");
    http_response_free(res);
    free(name);
    check_nothing_registered(email, good_password, __LINE__);
}

static void test_register_invalid_utf8(void)
{
    char email[160];
    http_unique_email(email, sizeof email, "utf8");
    static const char *const names[] = {
        "Bad \xff name",          /* never valid */
        "Bad \xc3 name",          /* truncated sequence */
        "Bad \xc0\xaf name",      /* overlong encoding of '/' */
        "Bad \xed\xa0\x80 name",  /* UTF-16 surrogate */
        "Bad \xf4\x90\x80\x80 name", /* above U+10FFFF */
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"email\": \"%s\", \"password\": \"%s\", \"display_name\": \"%s\"}", email,
                 good_password, names[i]);
        http_response *res = http_post_text("/auth/register", NULL, text);
        char what[64];
        snprintf(what, sizeof what, "invalid UTF-8 #%zu", i);
        EXPECT_PROBLEM(res, 400, NULL, what);
        http_response_free(res);
    }
    /* in the password too */
    char text[512];
    snprintf(text, sizeof text, "{\"email\": \"%s\", \"password\": \"secret\xfe\xfepassword\", \"display_name\": \"U\"}",
             email);
    EXPECT_PROBLEM_FREE(http_post_text("/auth/register", NULL, text), 400, NULL, "invalid UTF-8 in the password");
    /* an escaped lone surrogate and an escaped NUL are not text either */
    snprintf(text, sizeof text, "{\"email\": \"%s\", \"password\": \"%s\", \"display_name\": \"a\\ud800b\"}", email,
             good_password);
    EXPECT_PROBLEM_FREE(http_post_text("/auth/register", NULL, text), 400, NULL, "escaped lone surrogate");
    snprintf(text, sizeof text, "{\"email\": \"%s\", \"password\": \"%s\", \"display_name\": \"a\\u0000b\"}", email,
             good_password);
    http_response *res = http_post_text("/auth/register", NULL, text);
    CHECK(res->status == 400 || res->status == 422);
    CHECK(http_is_problem(res, res->status));
    http_response_free(res);
    check_nothing_registered(email, good_password, __LINE__);
}

static void test_register_lengths(void)
{
    char email[160];
    http_unique_email(email, sizeof email, "lengths");

    char *name81 = check_repeat("a", 81);
    EXPECT_PROBLEM_FREE(register_fields(email, good_password, name81), 422, "display_name", "display_name of 81");
    free(name81);

    /* 81 characters of two bytes each: still 81 characters */
    char *wide81 = check_repeat("\xc3\xa9", 81);
    EXPECT_PROBLEM_FREE(register_fields(email, good_password, wide81),
                        422, "display_name", "display_name of 81 two-byte characters");
    free(wide81);

    EXPECT_PROBLEM_FREE(register_fields(email, good_password, ""), 422, "display_name", "empty display_name");
    EXPECT_PROBLEM_FREE(register_fields(email, good_password, "   "), 422, "display_name", "blank display_name");
    EXPECT_PROBLEM_FREE(register_fields(email, good_password, "Line\nBreak"),
                        422, "display_name", "control character in display_name");

    EXPECT_PROBLEM_FREE(register_fields(email, "short", "Shorty"), 422, "password", "password of 5");
    EXPECT_PROBLEM_FREE(register_fields(email, "123456789", "Shorty"), 422, "password", "password of 9");

    /* an email longer than 254 bytes: local part 64, domain long enough */
    char long_email[400];
    char *label = check_repeat("d", 60);
    snprintf(long_email, sizeof long_email, "%.*s@%s.%s.%s.%s.example", 40, email, label, label, label, label);
    CHECK(strlen(long_email) > 254);
    EXPECT_PROBLEM_FREE(register_fields(long_email, good_password, "Long Mail"), 422, "email", "email over 254 bytes");
    free(label);
    /* local part over 64 */
    char *local65 = check_repeat("l", 65);
    snprintf(long_email, sizeof long_email, "%s@example.test", local65);
    EXPECT_PROBLEM_FREE(register_fields(long_email, good_password, "Long Local"), 422, "email", "local part of 65");
    free(local65);

    static const char *bad_emails[] = {"", "plainaddress", "@example.test", "a@", "a@b", "a b@example.test",
                                       "a@@example.test", "a@example..test", "a@.example.test"};
    for (size_t i = 0; i < sizeof bad_emails / sizeof bad_emails[0]; i++) {
        EXPECT_PROBLEM_FREE(register_fields(bad_emails[i], good_password, "Bad Mail"), 422, "email", bad_emails[i]);
    }

    /* every problem at once */
    http_response *res = register_fields("nope", "short", "");
    EXPECT_PROBLEM(res, 422, "email", "three bad fields");
    CHECK(http_problem_has_field(res, "password"));
    CHECK(http_problem_has_field(res, "display_name"));
    http_response_free(res);

    check_nothing_registered(email, good_password, __LINE__);

    /* the limits themselves are fine: 80 characters (multi-byte) and a 10-character password */
    char email2[160];
    http_unique_email(email2, sizeof email2, "limits");
    char *wide80 = check_repeat("\xc3\xa9", 80);
    res = register_fields(email2, "0123456789", wide80);
    CHECK_INT(res->status, 201);
    CHECK_STR(json_string_value(json_object_get(json_object_get(res->json, "user"), "display_name")), wide80);
    http_response_free(res);
    free(wide80);
    char token[128];
    CHECK_INT(http_login(email2, "0123456789", token, sizeof token), 200);
}

static void test_register_content_type(void)
{
    char email[160];
    http_unique_email(email, sizeof email, "ctype");
    char text[512];
    snprintf(text, sizeof text, "{\"email\": \"%s\", \"password\": \"%s\", \"display_name\": \"CT\"}", email,
             good_password);
    static const char *types[] = {"text/plain", "application/x-www-form-urlencoded", "text/json",
                                  "application/jsonx", "multipart/form-data; boundary=xyz", ""};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        EXPECT_PROBLEM_FREE(http_request("POST", "/auth/register", NULL, types[i], text, strlen(text), NULL),
                            415, NULL, *types[i] ? types[i] : "no Content-Type");
    }
    check_nothing_registered(email, good_password, __LINE__);

    /* parameters after the media type are fine */
    char email2[160];
    http_unique_email(email2, sizeof email2, "ctype-ok");
    snprintf(text, sizeof text, "{\"email\": \"%s\", \"password\": \"%s\", \"display_name\": \"CT\"}", email2,
             good_password);
    http_response *res =
        http_request("POST", "/auth/register", NULL, "application/json; charset=utf-8", text, strlen(text), NULL);
    CHECK_INT(res->status, 201);
    http_response_free(res);
}

static void test_register_wrong_method(void)
{
    static const char *methods[] = {"GET", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        EXPECT_NOT_ALLOWED(methods[i], "/auth/register", NULL, "POST");
}

int main(void)
{
    http_base_url(); /* exits at once when there is no stack */
    RUN(test_register_shape);
    RUN(test_unauthorized_says_how);
    RUN(test_register_duplicate);
    RUN(test_register_race);
    RUN(test_login);
    RUN(test_login_failures_identical);
    RUN(test_login_bad_input);
    RUN(test_me);
    RUN(test_logout);
    RUN(test_bad_tokens);
    RUN(test_developers);
    RUN(test_developer_lookup_errors);
    RUN(test_developer_bad_input);
    RUN(test_register_malformed_json);
    RUN(test_register_wrong_types);
    RUN(test_register_missing_fields);
    RUN(test_register_extra_fields);
    RUN(test_register_oversized);
    RUN(test_register_invalid_utf8);
    RUN(test_register_lengths);
    RUN(test_register_content_type);
    RUN(test_register_wrong_method);
    return check_finish();
}

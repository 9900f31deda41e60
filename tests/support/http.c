#include "tests/support/http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/support/stack_env.h"

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static char http_base[512];
static _Atomic long http_timeout = 30000;

static void http_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *url = getenv("MKT_URL");
    if (!url || !*url)
        url = stack_env("MKT_URL");
    if (url && *url) {
        snprintf(http_base, sizeof http_base, "%s", url);
        size_t len = strlen(http_base);
        while (len > 0 && http_base[len - 1] == '/')
            http_base[--len] = '\0';
    }
}

static _Thread_local char http_host_base[128]; /* http_use_host: empty = the upstream */

void http_use_host(int host)
{
    http_host_base[0] = '\0';
    if (host == 0)
        return;
    char key[32];
    snprintf(key, sizeof key, "MKT_HOST%d_URL", host);
    const char *url = stack_env(key);
    if (!url || !*url) {
        fprintf(stderr, "the test stack has no app host %d (%s); start it with --hosts\n", host, key);
        exit(2);
    }
    snprintf(http_host_base, sizeof http_host_base, "%s", url);
}

const char *http_base_url(void)
{
    if (http_host_base[0])
        return http_host_base;
    pthread_once(&http_once, http_init);
    if (!http_base[0]) {
        fprintf(stderr, "no test stack: set MKT_TEST_STACK to a directory with stack.env (or MKT_URL)\n");
        exit(2);
    }
    return http_base;
}

void http_set_timeout_ms(long ms)
{
    http_timeout = ms > 0 ? ms : 30000;
}

static atomic_int http_retry_429 = 1;

void http_set_retry_429(int on)
{
    http_retry_429 = on != 0;
}

/* ---- collecting the answer ------------------------------------------------------------------- */

typedef struct {
    http_response *res;
    size_t body_cap;
} http_sink;

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    http_sink *sink = arg;
    http_response *res = sink->res;
    size_t n = size * nmemb;
    if (res->body_len + n + 1 > sink->body_cap) {
        size_t cap = sink->body_cap ? sink->body_cap : 4096;
        while (cap < res->body_len + n + 1)
            cap *= 2;
        char *grown = realloc(res->body, cap);
        if (!grown)
            return 0;
        res->body = grown;
        sink->body_cap = cap;
    }
    memcpy(res->body + res->body_len, data, n);
    res->body_len += n;
    res->body[res->body_len] = '\0';
    return n;
}

static void http_headers_clear(http_response *res)
{
    for (size_t i = 0; i < res->header_count; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    free(res->headers);
    res->headers = NULL;
    res->header_count = 0;
}

static size_t http_on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    http_sink *sink = arg;
    http_response *res = sink->res;
    size_t n = size * nmemb;
    /* A new status line (after "100 Continue") starts a new header block. */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        http_headers_clear(res);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t name_len = (size_t)(colon - data);
    const char *value = colon + 1;
    size_t value_len = n - name_len - 1;
    while (value_len > 0 && isspace((unsigned char)*value)) {
        value++;
        value_len--;
    }
    while (value_len > 0 && isspace((unsigned char)value[value_len - 1]))
        value_len--;
    http_header_field *grown = realloc(res->headers, (res->header_count + 1) * sizeof *grown);
    if (!grown)
        return 0;
    res->headers = grown;
    res->headers[res->header_count].name = strndup(data, name_len);
    res->headers[res->header_count].value = strndup(value, value_len);
    res->header_count++;
    return n;
}

const char *http_header(const http_response *res, const char *name)
{
    if (!res)
        return NULL;
    for (size_t i = 0; i < res->header_count; i++)
        if (res->headers[i].name && strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

/* ---- performing a request -------------------------------------------------------------------- */

static http_response *http_perform(const char *method, const char *url, struct curl_slist *headers,
                                   const char *body, size_t body_len)
{
    http_response *res = calloc(1, sizeof *res);
    if (!res) {
        perror("calloc");
        exit(2);
    }
    http_sink sink = {.res = res};
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(res->error, sizeof res->error, "curl_easy_init failed");
        res->body = strdup("");
        return res;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)http_timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
    /* Paths are sent exactly as given (tests send "..", "%00" and such on purpose). */
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
        }
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        snprintf(res->error, sizeof res->error, "%s", curl_easy_strerror(rc));
        res->status = 0;
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
    }
    curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &res->seconds);
    curl_easy_cleanup(curl);
    if (!res->body)
        res->body = strdup("");
    res->content_type = http_header(res, "Content-Type");
    res->request_id = http_header(res, "X-Request-Id");
    res->allow = http_header(res, "Allow");
    res->location = http_header(res, "Location");
    if (res->body_len > 0)
        res->json = json_loadb(res->body, res->body_len, 0, NULL);
    return res;
}

static struct curl_slist *http_append(struct curl_slist *list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(list, line);
    if (!grown) {
        fprintf(stderr, "curl_slist_append failed\n");
        exit(2);
    }
    return grown;
}

/* nginx's limit_req on /auth/ answers 429 when many tests register at once; wait and retry. */
static http_response *http_perform_retrying(const char *method, const char *url, struct curl_slist *headers,
                                            const char *body, size_t body_len)
{
    for (int attempt = 0;; attempt++) {
        http_response *res = http_perform(method, url, headers, body, body_len);
        if (res->status != 429 || !http_retry_429 || attempt >= 50)
            return res;
        http_response_free(res);
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

/* METHOD base_url+prefix+path with the headers in list (taken) and then extra (NULL-terminated, may be NULL). */
static http_response *http_send(const char *method, const char *prefix, const char *path, struct curl_slist *list,
                                const char *const *extra, const char *body, size_t body_len)
{
    const char *base = http_base_url();
    size_t url_len = strlen(base) + strlen(prefix) + strlen(path) + 1;
    char *url = malloc(url_len);
    snprintf(url, url_len, "%s%s%s", base, prefix, path);
    for (size_t i = 0; extra && extra[i]; i++)
        list = http_append(list, extra[i]);
    http_response *res = http_perform_retrying(method, url, list, body, body_len);
    curl_slist_free_all(list);
    free(url);
    return res;
}

http_response *http_raw(const char *method, const char *url_path, const char *const *headers, const char *body,
                        size_t body_len)
{
    return http_send(method, "", url_path, http_append(NULL, "Expect:"), headers, body, body_len);
}

http_response *http_request(const char *method, const char *path, const char *token, const char *content_type,
                            const char *body, size_t body_len, const char *const *extra_headers)
{
    struct curl_slist *list = NULL;
    char line[1024];
    list = http_append(list, "Expect:");
    list = http_append(list, "Accept: application/json");
    /* tests read what they have just written: an anonymous GET asks past nginx's one-second
     * microcache, as a browser's reload does (e2e.caches tests the microcache itself) */
    list = http_append(list, "Cache-Control: no-cache");
    if (token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", token);
        list = http_append(list, line);
    }
    if (content_type && !*content_type) {
        list = http_append(list, "Content-Type:");
    } else if (content_type || body) {
        snprintf(line, sizeof line, "Content-Type: %s", content_type ? content_type : "application/json");
        list = http_append(list, line);
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        /* libcurl would otherwise add application/x-www-form-urlencoded to a bodiless POST */
        list = http_append(list, "Content-Type:");
    }
    return http_send(method, HTTP_API_BASE, path, list, extra_headers, body, body_len);
}

http_response *http_get(const char *path, const char *token)
{
    return http_request("GET", path, token, NULL, NULL, 0, NULL);
}

http_response *http_post_json(const char *path, const char *token, const json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    http_response *res = http_request("POST", path, token, NULL, text, text ? strlen(text) : 0, NULL);
    free(text);
    return res;
}

http_response *http_post_text(const char *path, const char *token, const char *text)
{
    return http_request("POST", path, token, NULL, text, text ? strlen(text) : 0, NULL);
}

void http_response_free(http_response *res)
{
    if (!res)
        return;
    http_headers_clear(res);
    free(res->body);
    json_decref(res->json);
    free(res);
}

/* ---- reading answers ------------------------------------------------------------------------- */

const char *http_json_string(const http_response *res, const char *key)
{
    if (!res || !json_is_object(res->json))
        return NULL;
    return json_string_value(json_object_get(res->json, key));
}

int http_problem_has_field(const http_response *res, const char *field)
{
    if (!res || !json_is_object(res->json))
        return 0;
    json_t *errors = json_object_get(res->json, "errors");
    size_t i;
    json_t *item;
    json_array_foreach(errors, i, item) {
        const char *name = json_string_value(json_object_get(item, "field"));
        if (name && strcmp(name, field) == 0 && json_is_string(json_object_get(item, "message")))
            return 1;
    }
    return 0;
}

int http_is_problem(const http_response *res, long status)
{
    if (!res || res->status != status || !res->content_type)
        return 0;
    if (strncasecmp(res->content_type, "application/problem+json", 24) != 0)
        return 0;
    json_t *doc = res->json;
    return json_is_object(doc) && json_is_string(json_object_get(doc, "type")) &&
           json_is_string(json_object_get(doc, "title")) && json_is_integer(json_object_get(doc, "status")) &&
           json_integer_value(json_object_get(doc, "status")) == status &&
           json_is_string(json_object_get(doc, "detail"));
}

void http_dump(const char *what, const http_response *res)
{
    if (!res) {
        fprintf(stderr, "  %s: (no response)\n", what);
        return;
    }
    if (res->status == 0) {
        fprintf(stderr, "  %s: transport error: %s\n", what, res->error);
        return;
    }
    fprintf(stderr, "  %s: %ld %s %.*s\n", what, res->status, res->content_type ? res->content_type : "-",
            res->body_len > 600 ? 600 : (int)res->body_len, res->body);
}

/* ---- accounts helpers ------------------------------------------------------------------------ */

void http_unique_email(char *out, size_t size, const char *prefix)
{
    static _Atomic unsigned counter;
    unsigned n = atomic_fetch_add(&counter, 1);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, size, "%s-%d-%u-%lld%06ld@example.test", prefix ? prefix : "e2e", (int)getpid(), n,
             (long long)ts.tv_sec, ts.tv_nsec / 1000);
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

int http_register_user(http_user *u)
{
    memset(u, 0, sizeof *u);
    http_unique_email(u->email, sizeof u->email, "e2e");
    snprintf(u->password, sizeof u->password, "pw-%d-long-enough", (int)getpid());
    snprintf(u->display_name, sizeof u->display_name, "Test User %d", (int)getpid());
    json_t *body = json_pack("{s:s, s:s, s:s}", "email", u->email, "password", u->password, "display_name",
                             u->display_name);
    http_response *res = http_post_json("/auth/register", NULL, body);
    json_decref(body);
    int rc = -1;
    json_t *user = json_object_get(res->json, "user");
    const char *token = http_json_string(res, "token");
    const char *id = json_string_value(json_object_get(user, "id"));
    if (res->status == 201 && token && id) {
        snprintf(u->token, sizeof u->token, "%s", token);
        snprintf(u->id, sizeof u->id, "%s", id);
        rc = 0;
    } else {
        http_dump("register", res);
    }
    http_response_free(res);
    return rc;
}

long http_login(const char *email, const char *password, char *token_out, size_t size)
{
    json_t *body = json_pack("{s:s, s:s}", "email", email, "password", password);
    http_response *res = http_post_json("/auth/login", NULL, body);
    json_decref(body);
    long status = res->status;
    const char *token = http_json_string(res, "token");
    if (token_out && size) {
        token_out[0] = '\0';
        if (status == 200 && token)
            snprintf(token_out, size, "%s", token);
    }
    http_response_free(res);
    return status;
}

long http_status_free(http_response *res)
{
    long status = res ? res->status : 0;
    http_response_free(res);
    return status;
}

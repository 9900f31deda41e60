/* testpay — the test-mode payment provider of the local stack (scripts/stack starts it; production
 * never runs it: a real provider hosts checkout and sends the signed webhooks itself).
 *
 * A FastCGI responder behind nginx's /testpay/ location (nginx/local.conf.template only):
 *   GET  /testpay/checkout/{txn}?amount_cents=N&currency=C&return_to=/path   the checkout page
 *   POST /testpay/checkout/{txn}  action=pay|decline|refund (+ the same fields, as a form)
 *        sends payment.succeeded / payment.failed / payment.refunded, signed with the webhook
 *        secret, to the API's /webhooks/payments, then 303 to return_to
 *   GET  /testpay/payout?return_to=/path                                     the payout page
 *   POST /testpay/payout          token=<payout token>&action=paid|failed
 *        redeems the token (POST /payouts/redeem), sends payout.paid / payout.failed, then 303
 *
 * The pages are plain HTML forms: no script and no inline style, so they work under the UI's strict
 * Content-Security-Policy. Everything echoed is HTML-escaped, every field is checked (a bad one is a
 * 400 page), and return_to must be a path on this origin ("/x", not "//host" or "/\host"); anything
 * else returns to "/". One request at a time: this is a developer's tool, not a service.
 *
 *   testpay --listen SOCKET --api URL --secret-file FILE
 * URL is the API's base through nginx (http://127.0.0.1:PORT/api/marketplace); FILE holds the
 * webhook secret (the first of a comma-separated list is used). */
#include <curl/curl.h>
#include <errno.h>
#include <fcgiapp.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "core/codec.h"
#include "core/webhook.h"

#define TESTPAY_RETURN_MAX 512
#define TESTPAY_TOKEN_MAX 4096

typedef struct {
    const char *listen;
    const char *api;
    char secret[WEBHOOK_SECRET_MAX + 1];
} testpay_options;

/* What the marketplace answered to a call: status (0 when unreachable) and the parsed body. */
typedef struct {
    long status;
    json_t *json;
    char detail[256]; /* the problem's detail, or the transport error */
} testpay_answer;

/* ---- small text helpers ------------------------------------------------------------------------- */

/* Writes s HTML-escaped (the five characters that matter in text and attribute values). */
static void testpay_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* A percent- and '+'-decoded copy of src[0..len); NULL on a bad escape or an embedded NUL. */
static char *testpay_decode(const char *src, size_t len)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; out && i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (i + 2 >= len || codec_hex_decode(src + i + 1, 2, &c, 1) != 1) {
                free(out);
                return NULL;
            }
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = (char)c;
    }
    if (out)
        out[o] = '\0';
    return out;
}

/* The decoded value of name in an application/x-www-form-urlencoded text (a query string or a form
 * body); NULL when absent or malformed. The first occurrence counts. */
static char *testpay_field(const char *form, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *p = form; p && *p;) {
        size_t pair_len = strcspn(p, "&");
        const char *eq = memchr(p, '=', pair_len);
        if (eq && (size_t)(eq - p) == name_len && strncmp(p, name, name_len) == 0)
            return testpay_decode(eq + 1, pair_len - name_len - 1);
        p += pair_len + (p[pair_len] == '&');
    }
    return NULL;
}

/* 1 when s is 1..max_digits decimal digits without a leading zero. */
static int testpay_is_number(const char *s, size_t max_digits)
{
    size_t len = s ? strlen(s) : 0;
    return len > 0 && len <= max_digits && s[0] != '0' && strspn(s, "0123456789") == len;
}

static int testpay_is_currency(const char *s)
{
    return s && strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
}

/* return_to when it is a path on this origin, else "/": it must start with one '/' (not "//" or
 * "/\", which browsers read as another host) and hold printable ASCII only, no backslash. */
static const char *testpay_return_to(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > TESTPAY_RETURN_MAX || s[0] != '/' || s[1] == '/' || s[1] == '\\')
        return "/";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '\\')
            return "/";
    return s;
}

/* ---- answering ---------------------------------------------------------------------------------- */

static int testpay_status; /* of the answer just written, for the log line */

static const char *testpay_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    default: return "Bad Gateway";
    }
}

/* An HTML page: the head, body_html (already escaped by its writer), the end. */
static void testpay_page(FCGX_Stream *out, int status, const char *title, const char *body_html)
{
    char *page = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&page, &len);
    if (!f)
        return;
    fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
          f);
    testpay_escape(f, title);
    fputs(" (test mode)</title></head>\n<body>\n<h1>", f);
    testpay_escape(f, title);
    fputs("</h1>\n<p>Test mode: no money moves. This page stands in for the payment provider and sends "
          "its signed events to the marketplace.</p>\n",
          f);
    fputs(body_html, f);
    fputs("</body></html>\n", f);
    fclose(f);
    testpay_status = status;
    FCGX_FPrintF(out, "Status: %d %s\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n",
                 status, testpay_reason(status));
    char length[64];
    snprintf(length, sizeof length, "Content-Length: %zu\r\n\r\n", len);
    FCGX_PutS(length, out);
    FCGX_PutStr(page, (int)len, out);
    free(page);
}

/* A page whose body is one escaped paragraph: message, then a link to return_to. */
static void testpay_message(FCGX_Stream *out, int status, const char *title, const char *message,
                            const char *return_to)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return;
    fputs("<p class=\"message\">", f);
    testpay_escape(f, message);
    fputs("</p>\n<p><a href=\"", f);
    testpay_escape(f, return_to);
    fputs("\">Back to the marketplace</a></p>\n", f);
    fclose(f);
    testpay_page(out, status, title, body);
    free(body);
}

static void testpay_redirect(FCGX_Stream *out, const char *location)
{
    /* location passed testpay_return_to: printable ASCII, so no header can be split */
    testpay_status = 303;
    FCGX_FPrintF(out, "Status: 303 See Other\r\nLocation: %s\r\nCache-Control: no-store\r\nContent-Length: 0\r\n\r\n",
                 location);
}

/* ---- calling the marketplace -------------------------------------------------------------------- */

static size_t testpay_collect(char *data, size_t size, size_t n, void *arg)
{
    return fwrite(data, size, n, arg) * size;
}

/* POSTs body (JSON) to the API path, with a Marketplace-Signature when signature is not NULL. */
static void testpay_post(const testpay_options *o, const char *path, const char *body, const char *signature,
                         testpay_answer *a)
{
    memset(a, 0, sizeof *a);
    char url[1024], sig_header[WEBHOOK_SIGN_MAX + 40];
    snprintf(url, sizeof url, "%s%s", o->api, path);
    char *text = NULL;
    size_t text_len = 0;
    FILE *sink = open_memstream(&text, &text_len);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (signature) {
        snprintf(sig_header, sizeof sig_header, "Marketplace-Signature: %s", signature);
        headers = curl_slist_append(headers, sig_header);
    }
    if (!sink || !curl || !headers) {
        snprintf(a->detail, sizeof a->detail, "out of memory");
    } else {
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, testpay_collect);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        CURLcode rc = curl_easy_perform(curl);
        if (rc == CURLE_OK)
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a->status);
        else
            snprintf(a->detail, sizeof a->detail, "the marketplace is not reachable: %s", curl_easy_strerror(rc));
    }
    if (sink)
        fclose(sink);
    if (a->status) {
        a->json = json_loadb(text ? text : "", text_len, 0, NULL);
        const char *detail = json_string_value(json_object_get(a->json, "detail"));
        snprintf(a->detail, sizeof a->detail, "%s", detail ? detail : "");
    }
    free(text);
    curl_slist_free_all(headers);
    if (curl)
        curl_easy_cleanup(curl);
}

/* Builds one event {id, type, created, data} (data taken), signs it as the provider does and
 * delivers it to /webhooks/payments. */
static void testpay_send_event(const testpay_options *o, const char *type, json_t *data, testpay_answer *a)
{
    unsigned char raw[12];
    char hex[2 * sizeof raw + 1], id[64], signature[WEBHOOK_SIGN_MAX];
    if (RAND_bytes(raw, sizeof raw) != 1)
        memset(raw, 0, sizeof raw);
    codec_hex_encode(raw, sizeof raw, hex);
    snprintf(id, sizeof id, "evt_testpay_%s", hex);
    int64_t now = (int64_t)time(NULL);
    json_t *event = json_pack("{s:s, s:s, s:I, s:o}", "id", id, "type", type, "created", (json_int_t)now, "data", data);
    char *body = event ? json_dumps(event, JSON_COMPACT) : NULL;
    json_decref(event);
    if (!body || webhook_sign(o->secret, now, body, strlen(body), signature) < 0) {
        memset(a, 0, sizeof *a);
        snprintf(a->detail, sizeof a->detail, "cannot build the event");
    } else {
        testpay_post(o, "/webhooks/payments", body, signature, a);
    }
    free(body);
}

/* After an event: back to return_to when the marketplace took it, else a page saying why. */
static void testpay_after_event(FCGX_Stream *out, const testpay_answer *a, const char *return_to)
{
    if (a->status == 200) {
        testpay_redirect(out, return_to);
        return;
    }
    char message[400];
    if (a->status)
        snprintf(message, sizeof message, "The marketplace refused the event (%ld): %s", a->status, a->detail);
    else
        snprintf(message, sizeof message, "%s", a->detail);
    testpay_message(out, 502, "Payment event refused", message, return_to);
}

/* ---- checkout ----------------------------------------------------------------------------------- */

typedef struct {
    const char *txn;
    char *amount_cents, *currency, *return_to_raw;
    const char *return_to;
} testpay_checkout;

/* Reads and checks the checkout's fields from form; 0, or -1 after answering 400. */
static int testpay_checkout_read(FCGX_Stream *out, const char *form, testpay_checkout *c)
{
    c->amount_cents = testpay_field(form, "amount_cents");
    c->currency = testpay_field(form, "currency");
    c->return_to_raw = testpay_field(form, "return_to");
    c->return_to = testpay_return_to(c->return_to_raw);
    const char *problem = NULL;
    if (!testpay_is_number(c->amount_cents, 12))
        problem = "amount_cents must be a positive whole number of cents";
    else if (!testpay_is_currency(c->currency))
        problem = "currency must be three capital letters (USD, EUR, GBP)";
    if (!problem)
        return 0;
    testpay_message(out, 400, "Bad checkout link", problem, c->return_to);
    return -1;
}

static void testpay_checkout_free(testpay_checkout *c)
{
    free(c->amount_cents);
    free(c->currency);
    free(c->return_to_raw);
}

static void testpay_hidden(FILE *f, const char *name, const char *value)
{
    fprintf(f, "<input type=\"hidden\" name=\"%s\" value=\"", name);
    testpay_escape(f, value);
    fputs("\">\n", f);
}

static void testpay_checkout_page(FCGX_Stream *out, const testpay_checkout *c)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return;
    long long cents = strtoll(c->amount_cents, NULL, 10);
    char amount[64];
    snprintf(amount, sizeof amount, "%lld.%02lld %s", cents / 100, cents % 100, c->currency);
    fputs("<dl>\n<dt>Transaction</dt><dd class=\"transaction\">", f);
    testpay_escape(f, c->txn);
    fputs("</dd>\n<dt>Amount</dt><dd class=\"amount\">", f);
    testpay_escape(f, amount);
    fputs("</dd>\n</dl>\n<form method=\"post\" action=\"/testpay/checkout/", f);
    testpay_escape(f, c->txn);
    fputs("\">\n", f);
    testpay_hidden(f, "amount_cents", c->amount_cents);
    testpay_hidden(f, "currency", c->currency);
    testpay_hidden(f, "return_to", c->return_to);
    fputs("<button type=\"submit\" name=\"action\" value=\"pay\">Pay</button>\n"
          "<button type=\"submit\" name=\"action\" value=\"decline\">Decline</button>\n"
          "<button type=\"submit\" name=\"action\" value=\"refund\">Refund</button>\n</form>\n",
          f);
    fclose(f);
    testpay_page(out, 200, "Test payment", body);
    free(body);
}

/* The event for action on c: payment.succeeded, payment.failed or payment.refunded. */
static void testpay_checkout_act(FCGX_Stream *out, const testpay_options *o, const testpay_checkout *c,
                                 const char *action)
{
    json_int_t cents = (json_int_t)strtoll(c->amount_cents, NULL, 10);
    const char *type = NULL;
    json_t *data = NULL;
    if (action && strcmp(action, "pay") == 0) {
        type = "payment.succeeded";
        data = json_pack("{s:s, s:I, s:s}", "transaction_id", c->txn, "amount_cents", cents, "currency", c->currency);
    } else if (action && strcmp(action, "decline") == 0) {
        type = "payment.failed";
        data = json_pack("{s:s, s:s}", "transaction_id", c->txn, "reason", "declined in test mode");
    } else if (action && strcmp(action, "refund") == 0) {
        type = "payment.refunded";
        data = json_pack("{s:s, s:I}", "transaction_id", c->txn, "amount_cents", cents);
    }
    if (!type) {
        testpay_message(out, 400, "Bad checkout form", "action must be pay, decline or refund", c->return_to);
        return;
    }
    testpay_answer a;
    testpay_send_event(o, type, data, &a);
    testpay_after_event(out, &a, c->return_to);
    json_decref(a.json);
}

static void testpay_checkout_route(FCGX_Stream *out, const testpay_options *o, const char *method, const char *txn,
                                   const char *query, const char *form)
{
    testpay_checkout c = {.txn = txn};
    int is_post = strcmp(method, "POST") == 0;
    if (!testpay_is_number(txn, 19)) {
        testpay_message(out, 404, "No such transaction", "the transaction id must be a decimal number", "/");
        return;
    }
    if (testpay_checkout_read(out, is_post ? form : query, &c) == 0) {
        if (is_post) {
            char *action = testpay_field(form, "action");
            testpay_checkout_act(out, o, &c, action);
            free(action);
        } else {
            testpay_checkout_page(out, &c);
        }
    }
    testpay_checkout_free(&c);
}

/* ---- payouts ------------------------------------------------------------------------------------ */

static void testpay_payout_page(FCGX_Stream *out, const char *return_to)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return;
    fputs("<form method=\"post\" action=\"/testpay/payout\">\n"
          "<p><label>Payout token<br><textarea name=\"token\" rows=\"6\" cols=\"80\" required></textarea></label></p>\n",
          f);
    testpay_hidden(f, "return_to", return_to);
    fputs("<button type=\"submit\" name=\"action\" value=\"paid\">Mark paid</button>\n"
          "<button type=\"submit\" name=\"action\" value=\"failed\">Mark failed</button>\n</form>\n",
          f);
    fclose(f);
    testpay_page(out, 200, "Test payout", body);
    free(body);
}

/* Redeems the token (POST /payouts/redeem), then sends payout.paid or payout.failed for its payout. */
static void testpay_payout_act(FCGX_Stream *out, const testpay_options *o, const char *token, const char *action,
                               const char *return_to)
{
    int paid = action && strcmp(action, "paid") == 0;
    if (!paid && !(action && strcmp(action, "failed") == 0)) {
        testpay_message(out, 400, "Bad payout form", "action must be paid or failed", return_to);
        return;
    }
    size_t token_len = token ? strlen(token) : 0;
    if (token_len == 0 || token_len > TESTPAY_TOKEN_MAX) {
        testpay_message(out, 400, "Bad payout form", "token must be the payout token (1 to 4096 characters)", return_to);
        return;
    }
    json_t *request = json_pack("{s:s}", "token", token);
    char *body = request ? json_dumps(request, JSON_COMPACT) : NULL;
    json_decref(request);
    testpay_answer a = {0};
    if (body)
        testpay_post(o, "/payouts/redeem", body, NULL, &a);
    free(body);
    const char *payout_id = json_string_value(json_object_get(json_object_get(a.json, "payout"), "id"));
    if (a.status != 200 || !payout_id) {
        char message[400];
        snprintf(message, sizeof message, "The marketplace did not redeem the token (%ld): %s", a.status, a.detail);
        testpay_message(out, 502, "Payout token refused", message, return_to);
        json_decref(a.json);
        return;
    }
    json_t *data = paid ? json_pack("{s:s}", "payout_id", payout_id)
                        : json_pack("{s:s, s:s}", "payout_id", payout_id, "reason", "failed in test mode");
    testpay_answer event;
    testpay_send_event(o, paid ? "payout.paid" : "payout.failed", data, &event);
    testpay_after_event(out, &event, return_to);
    json_decref(event.json);
    json_decref(a.json);
}

static void testpay_payout_route(FCGX_Stream *out, const testpay_options *o, const char *method, const char *query,
                                 const char *form)
{
    int is_post = strcmp(method, "POST") == 0;
    char *return_raw = testpay_field(is_post ? form : query, "return_to");
    const char *return_to = testpay_return_to(return_raw);
    if (is_post) {
        char *token = testpay_field(form, "token");
        char *action = testpay_field(form, "action");
        testpay_payout_act(out, o, token, action, return_to);
        free(token);
        free(action);
    } else {
        testpay_payout_page(out, return_to);
    }
    free(return_raw);
}

/* ---- requests ----------------------------------------------------------------------------------- */

#define TESTPAY_FORM_MAX 16384

/* The form body of a POST (at most TESTPAY_FORM_MAX bytes), malloc'd; "" for none. */
static char *testpay_read_form(FCGX_Request *r)
{
    const char *length_text = FCGX_GetParam("CONTENT_LENGTH", r->envp);
    long length = length_text ? strtol(length_text, NULL, 10) : 0;
    if (length < 0 || length > TESTPAY_FORM_MAX)
        length = 0;
    char *form = calloc((size_t)length + 1, 1);
    if (form && length > 0) {
        int got = FCGX_GetStr(form, (int)length, r->in);
        form[got > 0 ? got : 0] = '\0';
    }
    return form;
}

static void testpay_handle(FCGX_Request *r, const testpay_options *o)
{
    const char *method = FCGX_GetParam("REQUEST_METHOD", r->envp);
    const char *uri = FCGX_GetParam("REQUEST_URI", r->envp);
    method = method ? method : "GET";
    uri = uri ? uri : "/";
    size_t path_len = strcspn(uri, "?");
    char path[256];
    snprintf(path, sizeof path, "%.*s", (int)(path_len < sizeof path ? path_len : sizeof path - 1), uri);
    const char *query = uri[path_len] == '?' ? uri + path_len + 1 : "";
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!is_get && strcmp(method, "POST") != 0) {
        testpay_message(r->out, 405, "Not allowed", "only GET and POST", "/");
        return;
    }
    char *form = is_get ? strdup("") : testpay_read_form(r);
    static const char checkout[] = "/testpay/checkout/";
    if (!form)
        testpay_message(r->out, 502, "Out of memory", "testpay ran out of memory", "/");
    else if (strncmp(path, checkout, sizeof checkout - 1) == 0)
        testpay_checkout_route(r->out, o, is_get ? "GET" : "POST", path + sizeof checkout - 1, query, form);
    else if (strcmp(path, "/testpay/payout") == 0)
        testpay_payout_route(r->out, o, is_get ? "GET" : "POST", query, form);
    else
        testpay_message(r->out, 404, "Not found", "testpay serves /testpay/checkout/{transaction} and /testpay/payout",
                        "/");
    free(form);
}

/* ---- start-up ----------------------------------------------------------------------------------- */

static int testpay_read_secret(const char *path, testpay_options *o)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "testpay: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    size_t len = strcspn(line, ",\r\n");
    if (len == 0 || len > WEBHOOK_SECRET_MAX) {
        fprintf(stderr, "testpay: %s holds no usable webhook secret\n", path);
        return -1;
    }
    snprintf(o->secret, sizeof o->secret, "%.*s", (int)len, line);
    return 0;
}

static int testpay_usage(void)
{
    fprintf(stderr, "usage: testpay --listen SOCKET --api URL --secret-file FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    testpay_options o = {0};
    const char *secret_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0)
            o.listen = argv[i + 1];
        else if (strcmp(argv[i], "--api") == 0)
            o.api = argv[i + 1];
        else if (strcmp(argv[i], "--secret-file") == 0)
            secret_file = argv[i + 1];
        else
            return testpay_usage();
    }
    if (!o.listen || !o.api || !secret_file || argc % 2 == 0)
        return testpay_usage();
    if (testpay_read_secret(secret_file, &o) < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    FCGX_Init();
    unlink(o.listen);
    int fd = FCGX_OpenSocket(o.listen, 64);
    if (fd < 0) {
        fprintf(stderr, "testpay: cannot listen on %s\n", o.listen);
        return 1;
    }
    chmod(o.listen, 0666); /* nginx's workers connect to it */
    fprintf(stderr, "testpay: listening on %s, events to %s/webhooks/payments\n", o.listen, o.api);
    FCGX_Request r;
    FCGX_InitRequest(&r, fd, 0);
    while (FCGX_Accept_r(&r) >= 0) {
        testpay_status = 0;
        testpay_handle(&r, &o);
        const char *method = FCGX_GetParam("REQUEST_METHOD", r.envp), *path = FCGX_GetParam("DOCUMENT_URI", r.envp);
        fprintf(stderr, "testpay: %s %s -> %d\n", method ? method : "?", path ? path : "?", testpay_status);
        FCGX_Finish_r(&r);
    }
    curl_global_cleanup();
    return 0;
}

/* core/account_rules: UTF-8 text checks, the name/password/bio/email/website rules and the strict
 * JSON body helpers. */
#include "core/account_rules.h"

#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"

/* The message of the only field error on field, or NULL (fails the test) when there is not exactly one. */
static const char *only_field_message(const mkt_error *err, const char *field)
{
    if (err->field_count != 1 || strcmp(err->fields[0].field, field) != 0) {
        fprintf(stderr, "  expected one field error on \"%s\", got %zu\n", field, err->field_count);
        check_failures++;
        return NULL;
    }
    return err->fields[0].message;
}

/* Runs check_text on a NUL-terminated s: returns the message, or "" when it passed (in a static buffer). */
static const char *text_problem(const char *s, const account_rules_text_rule *rule)
{
    static char message[256];
    mkt_error err = MKT_ERROR_INIT;
    int broke = account_rules_check_text("f", s, strlen(s), rule, &err);
    message[0] = '\0';
    if (broke) {
        const char *m = only_field_message(&err, "f");
        snprintf(message, sizeof message, "%s", m ? m : "(none)");
        CHECK_INT(err.kind, ERROR_VALIDATION);
    } else {
        CHECK_INT(err.field_count, 0);
    }
    error_clear(&err);
    return message;
}

/* ---------------------------------------------------------------- UTF-8 */

static void test_utf8_next(void)
{
    const char s[] = "a\xc3\xa9\xe2\x80\xae\xf0\x9f\x98\x80"; /* a, é, U+202E, U+1F600 */
    size_t len = sizeof s - 1, i = 0;
    CHECK_INT(account_rules_utf8_next(s, len, &i), 'a');
    CHECK_INT(i, 1);
    CHECK_INT(account_rules_utf8_next(s, len, &i), 0xe9);
    CHECK_INT(i, 3);
    CHECK_INT(account_rules_utf8_next(s, len, &i), 0x202e);
    CHECK_INT(i, 6);
    CHECK_INT(account_rules_utf8_next(s, len, &i), 0x1f600);
    CHECK_INT(i, 10);
    /* A sequence cut short by len stops at len. */
    i = 0;
    account_rules_utf8_next("\xe2\x80", 2, &i);
    CHECK_INT(i, 2);
}

static void test_text_length(void)
{
    CHECK_INT(account_rules_text_length("", 0), 0);
    CHECK_INT(account_rules_text_length("abc", 3), 3);
    CHECK_INT(account_rules_text_length("\xc3\xa9t\xc3\xa9", 5), 3);            /* été */
    CHECK_INT(account_rules_text_length("\xf0\x9f\x98\x80", 4), 1);            /* one emoji */
    CHECK_INT(account_rules_text_length("a\0b", 3), 3);                        /* NULs count */
    CHECK_INT(account_rules_text_length("\xe6\x97\xa5\xe6\x9c\xac", 6), 2);    /* 日本 */
}

static void test_control_chars(void)
{
    CHECK(account_rules_is_control_char(0));
    CHECK(account_rules_is_control_char('\n'));
    CHECK(account_rules_is_control_char(0x1f));
    CHECK(!account_rules_is_control_char(' '));
    CHECK(!account_rules_is_control_char('~'));
    CHECK(account_rules_is_control_char(0x7f));
    CHECK(account_rules_is_control_char(0x85));
    CHECK(account_rules_is_control_char(0x9f));
    CHECK(!account_rules_is_control_char(0xa0));
    CHECK(account_rules_is_control_char(0x2028));
    CHECK(account_rules_is_control_char(0x2029));
    CHECK(account_rules_is_control_char(0x202a));
    CHECK(account_rules_is_control_char(0x202e));
    CHECK(!account_rules_is_control_char(0x202f));
    CHECK(account_rules_is_control_char(0x2066));
    CHECK(account_rules_is_control_char(0x2069));
    CHECK(!account_rules_is_control_char(0x206a));
    CHECK(!account_rules_is_control_char(0xe9));

    CHECK(!account_rules_has_control_chars("", 0, 0));
    CHECK(!account_rules_has_control_chars("plain text", 10, 0));
    CHECK(account_rules_has_control_chars("a\0b", 3, 0));
    CHECK(account_rules_has_control_chars("a\nb", 3, 0));
    CHECK(!account_rules_has_control_chars("a\nb\tc\r\n", 7, 1));
    CHECK(account_rules_has_control_chars("a\x1b[0m", 5, 1)); /* ESC is not a newline */
    CHECK(account_rules_has_control_chars("abc\xe2\x80\xae", 6, 1)); /* RIGHT-TO-LEFT OVERRIDE */
    CHECK(account_rules_has_control_chars("\xc2\x85", 2, 1));        /* NEL (C1) */
    CHECK(!account_rules_has_control_chars("caf\xc3\xa9", 5, 0));
}

static void test_blank(void)
{
    CHECK(account_rules_is_blank_char(' '));
    CHECK(account_rules_is_blank_char(0xa0));
    CHECK(account_rules_is_blank_char(0x200b));
    CHECK(account_rules_is_blank_char(0x3164));
    CHECK(account_rules_is_blank_char(0xfeff));
    CHECK(!account_rules_is_blank_char('a'));
    CHECK(!account_rules_is_blank_char('\t')); /* a control, refused as such */

    CHECK(account_rules_is_blank_text("", 0));
    CHECK(account_rules_is_blank_text("   ", 3));
    CHECK(account_rules_is_blank_text(" \xc2\xa0\xe2\x80\x8b\xe3\x80\x80", 9)); /* space, NBSP, ZWSP, ideographic */
    CHECK(!account_rules_is_blank_text("  a ", 4));
}

/* ---------------------------------------------------------------- text rules */

/* One text and the problem the rule reports for it ("" when it passes). */
typedef struct {
    const char *text;
    const char *problem;
} text_case;

static void check_text_cases(const account_rules_text_rule *r, const text_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *got = text_problem(cases[i].text, r);
        if (strcmp(got, cases[i].problem) != 0) {
            fprintf(stderr, "  text \"%s\": problem \"%s\", expected \"%s\"\n", cases[i].text, got, cases[i].problem);
            check_failures++;
        }
    }
}

/* max characters of fill pass r; one more breaks it with message. */
static void check_max_length(const account_rules_text_rule *r, char fill, size_t max, const char *message)
{
    char *text = malloc(max + 2);
    memset(text, fill, max + 1);
    text[max + 1] = '\0';
    CHECK_STR(text_problem(text, r), message);
    text[max] = '\0';
    CHECK_STR(text_problem(text, r), "");
    free(text);
}

static void test_display_name_rule(void)
{
    const account_rules_text_rule *r = &account_rules_display_name;
    static const text_case cases[] = {
        {"Ada Lovelace", ""},
        {"\xc3\x89lodie", ""},
        {"", "must not be empty"},
        {"   ", "must not be only whitespace"},
        {"\xe2\x80\x8b", "must not be only whitespace"},
        {"Ada\nLovelace", "must not contain control characters"},
        {"evil\xe2\x80\xae" "gnp.exe", "must not contain control characters"},
        /* Controls are reported before blankness. */
        {" \t ", "must not contain control characters"},
    };
    check_text_cases(r, cases, sizeof cases / sizeof cases[0]);
    check_max_length(r, 'x', 80, "must be at most 80 characters");

    /* Length is in characters, not bytes: 80 two-byte characters pass. */
    char name[200];
    for (int i = 0; i < 80; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[160] = '\0';
    CHECK_STR(text_problem(name, r), "");
}

static void test_password_rule(void)
{
    static const text_case cases[] = {
        {"", "must be at least 10 characters"},
        {"123456789", "must be at least 10 characters"},
        {"1234567890", ""},
        /* Anything goes in a password: controls and spaces only. */
        {"          ", ""},
        {"pass\tword\n\x01!", ""},
    };
    check_text_cases(&account_rules_password, cases, sizeof cases / sizeof cases[0]);
    check_max_length(&account_rules_password, 'p', 1024, "must be at most 1024 characters");
}

static void test_bio_rule(void)
{
    static const text_case cases[] = {
        {"", ""},
        {"   ", ""},
        {"Line one.\r\nLine two.\n\tIndented.", ""},
        {"bell\a", "must not contain control characters"},
        {"\xe2\x81\xa6isolate", "must not contain control characters"},
    };
    check_text_cases(&account_rules_bio, cases, sizeof cases / sizeof cases[0]);
    check_max_length(&account_rules_bio, 'b', 2000, "must be at most 2000 characters");
}

static void test_check_text_null_err(void)
{
    /* A NULL err is allowed and the result still says the text broke a rule. */
    CHECK_INT(account_rules_check_text("f", "", 0, &account_rules_display_name, NULL), 1);
    CHECK_INT(account_rules_check_text("f", "ok", 2, &account_rules_display_name, NULL), 0);
}

/* ---------------------------------------------------------------- email */

static const char *email(const char *s)
{
    const char *p = account_rules_email_problem(s, strlen(s));
    return p ? p : "";
}

static void test_email(void)
{
    CHECK_STR(email("a@b.co"), "");
    CHECK_STR(email("first.last+tag@mail.example.com"), "");
    CHECK_STR(email("J\xc3\xb6rg@example.de"), "");
    CHECK_STR(email(""), "must be a valid email address");
    CHECK_STR(email("no-at-sign"), "must be a valid email address");
    CHECK_STR(email("@example.com"), "must be a valid email address");
    CHECK_STR(email("a@"), "must be a valid email address");
    CHECK_STR(email("a@b"), "must be a valid email address");
    CHECK_STR(email("a@localhost"), "must be a valid email address");
    CHECK_STR(email("a@.b.c"), "must be a valid email address");
    CHECK_STR(email("a@b.c."), "must be a valid email address");
    CHECK_STR(email("a@b..c"), "must be a valid email address");
    CHECK_STR(email("a@b@c.d"), "must be a valid email address");
    CHECK_STR(email("a b@c.d"), "must not contain spaces or control characters");
    CHECK_STR(email("a@c.d "), "must not contain spaces or control characters");
    CHECK_STR(email("a\n@c.d"), "must not contain spaces or control characters");
    CHECK_STR(email("a\xe2\x80\xae@c.d"), "must not contain spaces or control characters");
    /* Embedded NUL: the length given counts, not strlen. */
    CHECK_STR(account_rules_email_problem("a@b.c\0x", 7), "must not contain spaces or control characters");

    char s[400];
    memset(s, 'l', 64);
    strcpy(s + 64, "@example.com");
    CHECK_STR(email(s), "");
    memset(s, 'l', 65);
    strcpy(s + 65, "@example.com");
    CHECK_STR(email(s), "must be a valid email address");
    /* 254 bytes in all passes, 255 does not. */
    strcpy(s, "a@");
    memset(s + 2, 'd', 248);
    strcpy(s + 250, ".com");
    CHECK_INT(strlen(s), 254);
    CHECK_STR(email(s), "");
    strcpy(s + 250, ".coms");
    CHECK_STR(email(s), "must be at most 254 bytes");
}

/* Registration refuses the domain generated accounts live under, whatever its case; login does not ask. */
static void test_email_register(void)
{
    CHECK(account_rules_email_register_problem("a@b.co", 6) == NULL);
    CHECK(account_rules_email_register_problem("dev-0000001@s1.seed.invalid", 27) != NULL);
    CHECK(account_rules_email_register_problem("x@Y.INVALID", 11) != NULL);
    CHECK(account_rules_email_register_problem("x@invalid.example", 17) == NULL);
    CHECK(account_rules_email_problem("dev-0000001@s1.seed.invalid", 27) == NULL);
    CHECK_STR(account_rules_email_register_problem("nope", 4), "must be a valid email address");
}

static void test_email_lower(void)
{
    char *lower = account_rules_email_lower("Ada.LOVELACE@Example.COM");
    CHECK_STR(lower, "ada.lovelace@example.com");
    free(lower);
    /* Only ASCII is folded here; the column's collation folds the rest. */
    lower = account_rules_email_lower("\xc3\x89LO@X.Y");
    CHECK_STR(lower, "\xc3\x89lo@x.y");
    free(lower);
    CHECK(account_rules_email_lower(NULL) == NULL);
}

/* ---------------------------------------------------------------- website */

static const char *website(const char *s)
{
    const char *p = account_rules_website_problem(s, strlen(s));
    return p ? p : "";
}

static void test_website(void)
{
    CHECK_STR(website("https://example.com"), "");
    CHECK_STR(website("http://example.com/"), "");
    CHECK_STR(website("HTTPS://Example.COM/path?q=1#frag"), "");
    CHECK_STR(website("https://example.com:8443/x"), "");
    CHECK_STR(website("https://192.0.2.1"), "");
    CHECK_STR(website("https://[2001:db8::1]:443/"), "");
    CHECK_STR(website("https://my-host.example"), "");
    CHECK_STR(website("https://example.com/caf%C3%A9"), "");

    const char *not_ascii = "must not contain spaces, control or non-ASCII characters (percent-encode them)";
    CHECK_STR(website("https://example.com/a b"), not_ascii);
    CHECK_STR(website("https://example.com/caf\xc3\xa9"), not_ascii);
    CHECK_STR(website("https://example.com/\x7f"), not_ascii);
    CHECK_STR(website("https://example.com\n"), not_ascii);

    CHECK_STR(website(""), "must start with https:// or http://");
    CHECK_STR(website("example.com"), "must start with https:// or http://");
    CHECK_STR(website("ftp://example.com"), "must start with https:// or http://");
    CHECK_STR(website("javascript:alert(1)"), "must start with https:// or http://");
    CHECK_STR(website("https:/example.com"), "must start with https:// or http://");

    CHECK_STR(website("https://user:pw@example.com"), "must not contain a user name or password");
    CHECK_STR(website("https://user@example.com/"), "must not contain a user name or password");
    /* An '@' after the authority is just part of the path. */
    CHECK_STR(website("https://example.com/@someone"), "");

    CHECK_STR(website("https://"), "must name a host");
    CHECK_STR(website("https:///path"), "must name a host");
    CHECK_STR(website("https://.example.com"), "must name a host");
    CHECK_STR(website("https://-example.com"), "must name a host");
    CHECK_STR(website("https://exa_mple.com"), "must name a host");
    CHECK_STR(website("https://example.com:"), "must name a host");
    CHECK_STR(website("https://example.com:65535"), "");
    CHECK_STR(website("https://example.com:65536"), "must name a host");
    CHECK_STR(website("https://example.com:123456"), "must name a host");
    CHECK_STR(website("https://example.com:8x"), "must name a host");
    CHECK_STR(website("https://[]"), "must name a host");
    CHECK_STR(website("https://[2001:db8::g]"), "must name a host");
    CHECK_STR(website("https://[::1"), "must name a host");
    CHECK_STR(website("https://[::1]x"), "must name a host");

    char *s = malloc(2100);
    strcpy(s, "https://example.com/");
    size_t n = strlen(s);
    memset(s + n, 'p', 2048 - n);
    s[2048] = '\0';
    CHECK_STR(website(s), "");
    s[2048] = 'p';
    s[2049] = '\0';
    CHECK_STR(website(s), "must be at most 2048 characters");
    free(s);
}

/* ---------------------------------------------------------------- strict bodies */

static const account_rules_field test_fields[] = {{"name", 1}, {"bio", 0}};
#define TEST_FIELD_COUNT (sizeof test_fields / sizeof test_fields[0])

static void test_check_fields_ok(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *b = check_json("{\"name\": \"x\"}");
    CHECK_INT(account_rules_check_fields(b, test_fields, TEST_FIELD_COUNT, &err), 0);
    json_decref(b);
    /* An optional field may be null, meaning absent. */
    b = check_json("{\"name\": \"x\", \"bio\": null}");
    CHECK_INT(account_rules_check_fields(b, test_fields, TEST_FIELD_COUNT, &err), 0);
    json_decref(b);
    CHECK_INT(err.field_count, 0);
    CHECK(!error_is_set(&err));
    error_clear(&err);
}

static void test_check_fields_not_object(void)
{
    static const char *const bodies[] = {"[]", "\"text\"", "42", "null"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        mkt_error err = MKT_ERROR_INIT;
        json_t *b = check_json(bodies[i]);
        CHECK_INT(account_rules_check_fields(b, test_fields, TEST_FIELD_COUNT, &err), 1);
        const char *m = only_field_message(&err, "");
        CHECK_STR(m, "must be a JSON object");
        CHECK_INT(err.kind, ERROR_VALIDATION);
        json_decref(b);
        error_clear(&err);
    }
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(account_rules_check_fields(NULL, test_fields, TEST_FIELD_COUNT, &err), 1);
    error_clear(&err);
}

static const char *field_message(const mkt_error *err, const char *field)
{
    for (size_t i = 0; i < err->field_count; i++)
        if (strcmp(err->fields[i].field, field) == 0)
            return err->fields[i].message;
    return NULL;
}

static void test_check_fields_all_problems(void)
{
    mkt_error err = MKT_ERROR_INIT;
    /* Every problem at once: unknown field, wrong types (null is not allowed for a required one). */
    json_t *b = check_json("{\"name\": null, \"bio\": 5, \"extra\": \"x\", \"more\": true}");
    CHECK_INT(account_rules_check_fields(b, test_fields, TEST_FIELD_COUNT, &err), 4);
    CHECK_INT(err.field_count, 4);
    CHECK_STR(field_message(&err, "name"), "must be a string");
    CHECK_STR(field_message(&err, "bio"), "must be a string");
    CHECK_STR(field_message(&err, "extra"), "unknown field");
    CHECK_STR(field_message(&err, "more"), "unknown field");
    json_decref(b);
    error_clear(&err);

    b = check_json("{}");
    CHECK_INT(account_rules_check_fields(b, test_fields, TEST_FIELD_COUNT, &err), 1);
    CHECK_STR(only_field_message(&err, "name"), "is required");
    json_decref(b);
    error_clear(&err);

    /* A NULL err still counts the problems. */
    b = check_json("{\"x\": 1}");
    CHECK_INT(account_rules_check_fields(b, test_fields, TEST_FIELD_COUNT, NULL), 2);
    json_decref(b);
}

static void test_body_string(void)
{
    json_t *b = check_json("{\"s\": \"a\\u0000b\", \"n\": 3, \"z\": null}");
    size_t len = 99;
    const char *s = account_rules_body_string(b, "s", &len);
    CHECK(s != NULL);
    CHECK_INT(len, 3); /* the length in bytes, embedded NUL included */
    CHECK(account_rules_body_string(b, "n", &len) == NULL);
    CHECK_INT(len, 0);
    CHECK(account_rules_body_string(b, "z", NULL) == NULL);
    CHECK(account_rules_body_string(b, "missing", NULL) == NULL);
    json_decref(b);
}

static void test_check_body_text_and_with(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *b = check_json("{\"name\": \" \", \"bio\": 7, \"email\": \"nope\", \"site\": \"https://ok.example\","
                     " \"nul\": \"a\\u0000b\"}");
    CHECK_INT(account_rules_check_body_text(b, "name", &account_rules_display_name, &err), 1);
    CHECK_STR(field_message(&err, "name"), "must not be only whitespace");
    /* Absent or not a string: left to check_fields. */
    CHECK_INT(account_rules_check_body_text(b, "bio", &account_rules_bio, &err), 0);
    CHECK_INT(account_rules_check_body_text(b, "missing", &account_rules_display_name, &err), 0);
    /* The whole value is checked, past an embedded NUL. */
    CHECK_INT(account_rules_check_body_text(b, "nul", &account_rules_display_name, &err), 1);
    CHECK_STR(field_message(&err, "nul"), "must not contain control characters");

    CHECK_INT(account_rules_check_body_with(b, "email", account_rules_email_problem, &err), 1);
    CHECK_STR(field_message(&err, "email"), "must be a valid email address");
    CHECK_INT(account_rules_check_body_with(b, "site", account_rules_website_problem, &err), 0);
    CHECK_INT(account_rules_check_body_with(b, "bio", account_rules_website_problem, &err), 0);
    CHECK_INT(account_rules_check_body_with(b, "missing", account_rules_email_problem, &err), 0);
    CHECK_INT(err.field_count, 3);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    json_decref(b);
    error_clear(&err);
}

int main(void)
{
    RUN(test_utf8_next);
    RUN(test_text_length);
    RUN(test_control_chars);
    RUN(test_blank);
    RUN(test_display_name_rule);
    RUN(test_password_rule);
    RUN(test_bio_rule);
    RUN(test_check_text_null_err);
    RUN(test_email);
    RUN(test_email_register);
    RUN(test_email_lower);
    RUN(test_website);
    RUN(test_check_fields_ok);
    RUN(test_check_fields_not_object);
    RUN(test_check_fields_all_problems);
    RUN(test_body_string);
    RUN(test_check_body_text_and_with);
    return check_finish();
}

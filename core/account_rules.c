#include "core/account_rules.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/body.h"
#include "core/text.h"

/* ---- UTF-8 text ----------------------------------------------------------------------------- */

/* Jansson hands over valid UTF-8 only; the bounds check is for safety. */
uint32_t account_rules_utf8_next(const char *text, size_t len, size_t *i)
{
    const unsigned char *s = (const unsigned char *)text;
    unsigned char c = s[(*i)++];
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    uint32_t cp = extra ? (uint32_t)(c & (0x3f >> extra)) : c;
    while (extra-- > 0 && *i < len)
        cp = (cp << 6) | (s[(*i)++] & 0x3fu);
    return cp;
}

size_t account_rules_text_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

int account_rules_is_control_char(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int account_rules_is_blank_char(uint32_t cp)
{
    return cp == ' ' || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200d) || cp == 0x202f ||
           cp == 0x205f || cp == 0x2060 || cp == 0x3000 || cp == 0x3164 || cp == 0xfeff;
}

int account_rules_has_control_chars(const char *s, size_t len, int allow_newlines)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp = account_rules_utf8_next(s, len, &i);
        int newline = cp == '\t' || cp == '\n' || cp == '\r';
        if (account_rules_is_control_char(cp) && !(allow_newlines && newline))
            return 1;
    }
    return 0;
}

int account_rules_is_blank_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len;)
        if (!account_rules_is_blank_char(account_rules_utf8_next(s, len, &i)))
            return 0;
    return 1;
}

const account_rules_text_rule account_rules_password = {10, 1024, 0, 0, 0};
const account_rules_text_rule account_rules_display_name = {1, 80, 1, 0, 1};
const account_rules_text_rule account_rules_bio = {0, 2000, 1, 1, 0};

/* The checks count their problems rather than asking err afterwards, so a NULL err can never let
 * bad input through. */
int account_rules_check_text(const char *field, const char *s, size_t len, const account_rules_text_rule *rule,
                             mkt_error *err)
{
    size_t count = account_rules_text_length(s, len);
    if (count < rule->min || count > rule->max) {
        if (rule->min == 1 && count == 0)
            error_add_field(err, field, "must not be empty");
        else
            error_add_field(err, field, "must be %s %zu characters", count < rule->min ? "at least" : "at most",
                            count < rule->min ? rule->min : rule->max);
        return 1;
    }
    if (rule->check_controls && account_rules_has_control_chars(s, len, rule->allow_newlines)) {
        error_add_field(err, field, "must not contain control characters");
        return 1;
    }
    if (rule->refuse_blank && account_rules_is_blank_text(s, len)) {
        error_add_field(err, field, "must not be only whitespace");
        return 1;
    }
    return 0;
}

/* ---- email ---------------------------------------------------------------------------------- */

/* Labels separated by single dots, at least two of them, none empty. */
static int account_rules_domain_ok(const char *d, size_t len)
{
    if (len < 3 || d[0] == '.' || d[len - 1] == '.' || !memchr(d, '.', len))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (d[i] == '.' && d[i - 1] == '.')
            return 0;
    return 1;
}

const char *account_rules_email_problem(const char *s, size_t len)
{
    if (len > ACCOUNT_RULES_EMAIL_MAX)
        return "must be at most 254 bytes";
    for (size_t i = 0; i < len;) {
        uint32_t cp = account_rules_utf8_next(s, len, &i);
        if (cp == ' ' || account_rules_is_control_char(cp))
            return "must not contain spaces or control characters";
    }
    const char *at = memchr(s, '@', len);
    if (!at || at == s || at - s > ACCOUNT_RULES_EMAIL_LOCAL_MAX)
        return "must be a valid email address";
    size_t domain_len = len - (size_t)(at + 1 - s);
    if (memchr(at + 1, '@', domain_len) || !account_rules_domain_ok(at + 1, domain_len))
        return "must be a valid email address";
    return NULL;
}

const char *account_rules_email_register_problem(const char *s, size_t len)
{
    const char *problem = account_rules_email_problem(s, len);
    if (problem)
        return problem;
    size_t suffix = sizeof ACCOUNT_RULES_GENERATED_DOMAIN - 1;
    if (len > suffix && strncasecmp(s + len - suffix, ACCOUNT_RULES_GENERATED_DOMAIN, suffix) == 0)
        return "must not be at a .invalid domain (reserved for accounts the marketplace generates)";
    return NULL;
}

char *account_rules_email_lower(const char *s)
{
    char *out = s ? strdup(s) : NULL;
    for (char *p = out; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* ---- website -------------------------------------------------------------------------------- */

static int account_rules_port_ok(const char *p, size_t len)
{
    unsigned port = 0;
    if (len < 1 || len > 5)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        port = port * 10 + (unsigned)(p[i] - '0');
    }
    return port <= 65535;
}

/* host[:port] where host is a DNS name, an IPv4 address or a bracketed IPv6 address. */
static int account_rules_authority_ok(const char *a, size_t len)
{
    size_t host_len;
    const char *allowed;
    if (len > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        if (!close || close == a + 1)
            return 0;
        host_len = (size_t)(close - a) + 1;
        allowed = "0123456789abcdefABCDEF:.";
        if (strspn(a + 1, allowed) < host_len - 2)
            return 0;
    } else {
        const char *colon = memchr(a, ':', len);
        host_len = colon ? (size_t)(colon - a) : len;
        allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";
        if (host_len == 0 || a[0] == '.' || a[0] == '-' || strspn(a, allowed) < host_len)
            return 0;
    }
    if (host_len == len)
        return 1;
    return a[host_len] == ':' && account_rules_port_ok(a + host_len + 1, len - host_len - 1);
}

const char *account_rules_website_problem(const char *s, size_t len)
{
    if (len > ACCOUNT_RULES_WEBSITE_MAX)
        return "must be at most 2048 characters";
    if (!text_printable_ascii(s, len, TEXT_SPACE_REFUSED))
        return "must not contain spaces, control or non-ASCII characters (percent-encode them)";
    size_t scheme = strncasecmp(s, "https://", 8) == 0 ? 8 : strncasecmp(s, "http://", 7) == 0 ? 7 : 0;
    if (!scheme)
        return "must start with https:// or http://";
    const char *authority = s + scheme;
    size_t authority_len = strcspn(authority, "/?#");
    if (memchr(authority, '@', authority_len))
        return "must not contain a user name or password";
    if (!account_rules_authority_ok(authority, authority_len))
        return "must name a host";
    return NULL;
}

/* ---- strict JSON bodies --------------------------------------------------------------------- */

static const account_rules_field *account_rules_field_find(const account_rules_field *fields, size_t count,
                                                           const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

int account_rules_check_fields(const json_t *body, const account_rules_field *fields, size_t count, mkt_error *err)
{
    if (!json_is_object(body)) {
        error_add_field(err, "", "must be a JSON object");
        return 1;
    }
    int problems = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)body, key, value) {
        const account_rules_field *field = account_rules_field_find(fields, count, key);
        const char *problem = !field ? "unknown field"
                              : json_is_string(value) || (json_is_null(value) && !field->required) ? NULL
                                                                                                   : "must be a string";
        if (problem) {
            error_add_field(err, key, "%s", problem);
            problems++;
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (fields[i].required && !json_object_get(body, fields[i].name)) {
            error_add_field(err, fields[i].name, "is required");
            problems++;
        }
    }
    return problems;
}

const char *account_rules_body_string(const json_t *body, const char *field, size_t *len)
{
    json_t *value = json_object_get(body, field);
    if (len)
        *len = json_string_length(value);
    return json_string_value(value);
}

const char *account_rules_read_text(const json_t *body, const char *name, const account_rules_text_rule *rule,
                                    int required, mkt_error *err)
{
    if (!required && !json_object_get(body, name))
        return NULL;
    json_t *v = body_member(body, name, JSON_STRING, err);
    if (!v)
        return NULL;
    const char *s = json_string_value(v);
    if (!error_text_valid(s)) {
        error_add_field(err, name, "must be valid UTF-8");
        return NULL;
    }
    return account_rules_check_text(name, s, json_string_length(v), rule, err) ? NULL : s;
}

int account_rules_check_body_text(const json_t *body, const char *field, const account_rules_text_rule *rule,
                                  mkt_error *err)
{
    size_t len;
    const char *s = account_rules_body_string(body, field, &len);
    return s ? account_rules_check_text(field, s, len, rule, err) : 0;
}

int account_rules_check_body_with(const json_t *body, const char *field,
                                  const char *(*problem_of)(const char *s, size_t len), mkt_error *err)
{
    size_t len;
    const char *s = account_rules_body_string(body, field, &len);
    const char *problem = s ? problem_of(s, len) : NULL;
    if (problem)
        error_add_field(err, field, "%s", problem);
    return problem != NULL;
}

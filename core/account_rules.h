/* The pure input rules of accounts and developer profiles: UTF-8 text checks, the display name,
 * password, bio, email and website rules, and the strict JSON body helpers. No database and no
 * I/O: every function looks only at its arguments, so they can be unit-tested and reused (the
 * text checks are not account-specific).
 *
 * Text comes as bytes and a length (it may hold NULs). The UTF-8 functions expect valid UTF-8,
 * which is all Jansson hands over; on other bytes they still never read past len. Field errors
 * use error_add_field with the messages the API documents; a NULL err is allowed, and every check
 * returns whether it found a problem, so a NULL err can never let bad input through. */
#ifndef CORE_ACCOUNT_RULES_H
#define CORE_ACCOUNT_RULES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define ACCOUNT_RULES_EMAIL_MAX 254 /* bytes, RFC 5321 path limit */
#define ACCOUNT_RULES_EMAIL_LOCAL_MAX 64
#define ACCOUNT_RULES_WEBSITE_MAX 2048

/* ---- UTF-8 text ---- */

/* Decodes the code point starting at s[*i] and advances *i past it (never beyond len). */
uint32_t account_rules_utf8_next(const char *s, size_t len, size_t *i);
/* Length in code points (bytes that are not UTF-8 continuation bytes). */
size_t account_rules_text_length(const char *s, size_t len);
/* C0/C1 controls, U+2028/U+2029 and the bidi embedding/override/isolate controls: none belongs in
 * text shown to other users, and the bidi ones make a name read as something it is not. */
int account_rules_is_control_char(uint32_t cp);
/* Spaces and the invisible characters that make a name look empty. */
int account_rules_is_blank_char(uint32_t cp);
/* 1 when the text holds an account_rules_is_control_char character; with allow_newlines, tab, CR
 * and LF are allowed (multi-line text). */
int account_rules_has_control_chars(const char *s, size_t len, int allow_newlines);
/* 1 when every character is account_rules_is_blank_char (so also for empty text). */
int account_rules_is_blank_text(const char *s, size_t len);

typedef struct {
    size_t min, max;    /* length in code points */
    int check_controls; /* refuse account_rules_has_control_chars text */
    int allow_newlines; /* ... except tab, CR and LF (multi-line text) */
    int refuse_blank;   /* refuse account_rules_is_blank_text text */
} account_rules_text_rule;

extern const account_rules_text_rule account_rules_password;     /* 10..1024, anything goes */
extern const account_rules_text_rule account_rules_display_name; /* 1..80, no controls, not blank */
extern const account_rules_text_rule account_rules_bio;          /* 0..2000, no controls but newlines */

/* Reports the first rule the text breaks as a field error on field ("must not be empty", "must be
 * at least/at most N characters", "must not contain control characters", "must not be only
 * whitespace"). 1 when it broke one, 0 otherwise. */
int account_rules_check_text(const char *field, const char *s, size_t len, const account_rules_text_rule *rule,
                             mkt_error *err);

/* The string member name of body when it is valid UTF-8 and keeps rule; NULL otherwise, with the
 * problem on err ("is required" only when required: an absent optional member is NULL quietly).
 * UTF-8 is checked again (jansson checked it) because a service may be called from elsewhere. */
const char *account_rules_read_text(const json_t *body, const char *name, const account_rules_text_rule *rule,
                                    int required, mkt_error *err);

/* ---- email and website ---- */

/* NULL when s is an acceptable email address (at most 254 bytes, no spaces or controls, a local
 * part of 1..64 bytes, one '@', a dotted domain), else the message for the field error. */
const char *account_rules_email_problem(const char *s, size_t len);

/* The domain of the accounts the marketplace generates itself (`marketplace seed --tools`): under the
 * reserved top-level domain .invalid, which no one can receive mail at. */
#define ACCOUNT_RULES_GENERATED_DOMAIN ".invalid"

/* account_rules_email_problem, and not under ACCOUNT_RULES_GENERATED_DOMAIN: what registration asks,
 * so no one can register an address a generated catalogue will use and be handed its tools. */
const char *account_rules_email_register_problem(const char *s, size_t len);
/* A malloc'd copy with ASCII A-Z lowered: emails are stored and compared lower-case (the column's
 * collation folds the rest). NULL for a NULL s or out of memory. */
char *account_rules_email_lower(const char *s);
/* NULL when s is an acceptable website: an http:// or https:// URL of at most 2048 printable ASCII
 * characters with a host (DNS name, IPv4 or bracketed IPv6), an optional port and no user info;
 * else the message for the field error. */
const char *account_rules_website_problem(const char *s, size_t len);

/* ---- strict JSON bodies ---- */

typedef struct {
    const char *name;
    int required; /* optional fields also accept null, meaning absent */
} account_rules_field;

/* Reports every shape problem at once: a body that is not an object (field ""), unknown fields,
 * missing required fields and values that are not strings. Content rules run after this. Returns
 * the number of problems. */
int account_rules_check_fields(const json_t *body, const account_rules_field *fields, size_t count, mkt_error *err);
/* The string value of field, or NULL when absent or not a string; *len (when len is not NULL)
 * gets its length in bytes, 0 for NULL. */
const char *account_rules_body_string(const json_t *body, const char *field, size_t *len);
/* account_rules_check_text on the field's string value; 0 when the field is absent or not a string
 * (account_rules_check_fields reports that). */
int account_rules_check_body_text(const json_t *body, const char *field, const account_rules_text_rule *rule,
                                  mkt_error *err);
/* Reports problem_of(value) (e.g. account_rules_email_problem) as a field error; 1 when there was
 * one, 0 when the value is fine, absent or not a string. */
int account_rules_check_body_with(const json_t *body, const char *field,
                                  const char *(*problem_of)(const char *s, size_t len), mkt_error *err);

#endif

#include "core/json_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int json_text_reserve(json_text *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (!data) {
        b->failed = 1;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

void json_text_raw(json_text *b, const char *s, size_t n)
{
    if (json_text_reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void json_text_lit(json_text *b, const char *s)
{
    json_text_raw(b, s, strlen(s));
}

/* The escape of byte c, NULL when it is written as it is: jansson's set without JSON_ESCAPE_SLASH or
 * JSON_ENSURE_ASCII (bytes of multi-byte UTF-8 sequences are all >= 0x80 and pass through). */
static const char *json_text_escape(unsigned char c, char seq[7])
{
    switch (c) {
    case '\\': return "\\\\";
    case '"': return "\\\"";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default:
        if (c >= 0x20)
            return NULL;
        snprintf(seq, 7, "\\u%04X", (unsigned)c);
        return seq;
    }
}

void json_text_stringn(json_text *b, const char *s, size_t n)
{
    json_text_raw(b, "\"", 1);
    size_t run = 0; /* bytes before i not yet written */
    char seq[7];
    for (size_t i = 0; i < n; i++) {
        const char *esc = json_text_escape((unsigned char)s[i], seq);
        if (!esc)
            continue;
        json_text_raw(b, s + run, i - run);
        json_text_lit(b, esc);
        run = i + 1;
    }
    json_text_raw(b, s + run, n - run);
    json_text_raw(b, "\"", 1);
}

void json_text_string(json_text *b, const char *s)
{
    if (s)
        json_text_stringn(b, s, strlen(s));
    else
        json_text_raw(b, "null", 4);
}

void json_text_int(json_text *b, int64_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRId64, v);
    json_text_raw(b, digits, (size_t)n);
}

static int json_text_dump_part(const char *part, size_t size, void *data)
{
    json_text *b = data;
    json_text_raw(b, part, size);
    return b->failed ? -1 : 0;
}

void json_text_value(json_text *b, const json_t *v)
{
    if (!v) {
        json_text_raw(b, "null", 4);
        return;
    }
    if (json_dump_callback(v, json_text_dump_part, b, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
        b->failed = 1;
}

/* jansson's own formatting of a real, so the text cannot drift from what json_dumps writes. */
void json_text_real(json_text *b, double v)
{
    json_t *real = json_real(v);
    if (!real) {
        b->failed = 1;
        return;
    }
    json_text_value(b, real);
    json_decref(real);
}

char *json_text_finish(json_text *b, size_t *len)
{
    if (json_text_reserve(b, 0) < 0) {
        free(b->data);
        *b = (json_text){0};
        return NULL;
    }
    char *out = b->data;
    *len = b->len;
    out[b->len] = '\0';
    *b = (json_text){0};
    return out;
}

char *json_text_finish_answer(json_text *b, size_t *len, mkt_error *err)
{
    size_t ignored;
    char *text = json_text_finish(b, len ? len : &ignored);
    if (!text)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return text;
}

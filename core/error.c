#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

/* Length of the valid UTF-8 sequence at s (1 to 4 bytes), or 0 when s does not start one. The NUL
 * that ends s is never a continuation byte, so no read goes past it. */
static size_t error_utf8_sequence(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static const char error_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

char *error_text_clip(char *dst, size_t size, const char *src)
{
    if (size == 0)
        return dst;
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)(src ? src : "");
    while (*p) {
        size_t n = error_utf8_sequence(p);
        const char *bytes = n ? (const char *)p : error_replacement;
        size_t len = n ? n : sizeof error_replacement - 1;
        if (used + len >= size)
            break; /* the whole character or nothing */
        memcpy(dst + used, bytes, len);
        used += len;
        p += n ? n : 1;
    }
    dst[used] = '\0';
    return dst;
}

char *error_text_clean(const char *src)
{
    size_t size = 3 * strlen(src ? src : "") + 1; /* every byte may become a 3-byte U+FFFD */
    char *out = malloc(size);
    return out ? error_text_clip(out, size, src) : NULL;
}

int error_text_valid(const char *src)
{
    for (const unsigned char *p = (const unsigned char *)src; *p;) {
        size_t n = error_utf8_sequence(p);
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

/* Formats, then makes the result valid UTF-8 (a copy only when it is not already). */
static char *error_vformat(const char *fmt, va_list ap)
{
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        return NULL;
    if (error_text_valid(out))
        return out;
    char *clean = error_text_clean(out);
    free(out);
    return clean;
}

/* Replaces err's kind and message; retry_after (seconds, 0 none) goes with the new failure only. */
static int error_vset(mkt_error *err, error_kind kind, long retry_after, const char *fmt, va_list ap)
{
    if (!err)
        return -1;
    char *message = error_vformat(fmt, ap); /* before the free: the arguments may be the old message */
    free(err->message);
    err->message = message;
    err->kind = kind;
    err->retry_after = retry_after;
    return -1;
}

int error_set(mkt_error *err, error_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, kind, 0, fmt, ap);
    va_end(ap);
    return -1;
}

int error_set_rate_limited(mkt_error *err, long retry_after, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, ERROR_RATE_LIMITED, retry_after < 1 ? 1 : retry_after, fmt, ap);
    va_end(ap);
    return -1;
}

int error_add_field(mkt_error *err, const char *field, const char *fmt, ...)
{
    if (!err)
        return -1;
    if (err->kind == ERROR_NONE)
        err->kind = ERROR_VALIDATION;
    if (grow_for_one(&err->fields, &err->field_capacity, err->field_count, sizeof *err->fields) < 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *message = error_vformat(fmt, ap);
    va_end(ap);
    char *name = error_text_clean(field ? field : "");
    if (!message || !name) {
        free(message);
        free(name);
        return -1;
    }
    err->fields[err->field_count].field = name;
    err->fields[err->field_count].message = message;
    err->field_count++;
    return -1;
}

void error_clear(mkt_error *err)
{
    if (!err)
        return;
    for (size_t i = 0; i < err->field_count; i++) {
        free(err->fields[i].field);
        free(err->fields[i].message);
    }
    free(err->fields);
    free(err->message);
    free(err->extension);
    *err = (mkt_error)MKT_ERROR_INIT;
}

int error_set_extension(mkt_error *err, const char *json_object_text)
{
    if (!err)
        return -1;
    free(err->extension);
    err->extension = json_object_text ? strdup(json_object_text) : NULL;
    return -1;
}

void error_move(mkt_error *dst, mkt_error *src)
{
    error_clear(dst);
    *dst = *src;
    *src = (mkt_error)MKT_ERROR_INIT;
}

int error_is_set(const mkt_error *err)
{
    return err && err->kind != ERROR_NONE;
}


/* Search text rules: see core/search_text.h. */
#include "core/search_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A byte that belongs to a word: ASCII letters and digits, and every byte of a multi-byte UTF-8
 * character (so other scripts stay searchable; InnoDB's own parser splits those). */
static int search_text_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

size_t search_text_normalize(const char *in, char *out, size_t size)
{
    size_t len = 0;
    if (size == 0)
        return 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p) {
        while (*p && !search_text_word_byte(*p))
            p++;
        size_t n = 0;
        while (p[n] && search_text_word_byte(p[n]))
            n++;
        if (n == 0)
            break;
        size_t need = n + (len > 0);
        if (len + need + 1 > size) /* whole words only */
            break;
        if (len > 0)
            out[len++] = ' ';
        for (size_t i = 0; i < n; i++)
            out[len++] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] - 'A' + 'a' : p[i]);
        p += n;
    }
    out[len] = '\0';
    return len;
}

/* Bytes of the first max characters of word (never splitting a UTF-8 sequence). */
static size_t search_text_prefix_bytes(const char *word, size_t max)
{
    size_t bytes = 0, chars = 0;
    while (word[bytes] && chars < max) {
        bytes++;
        while ((word[bytes] & 0xC0) == 0x80)
            bytes++;
        chars++;
    }
    return bytes;
}

void search_text_split(const char *in, search_text_words *out)
{
    out->count = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p && out->count < SEARCH_TEXT_WORDS_MAX) {
        while (*p && !search_text_word_byte(*p))
            p++;
        size_t n = 0;
        while (p[n] && search_text_word_byte(p[n]))
            n++;
        if (n == 0)
            break;
        char *w = out->word[out->count];
        char raw[SEARCH_TEXT_WORD_MAX * 4 + 1];
        size_t take = n < sizeof raw - 1 ? n : sizeof raw - 1;
        memcpy(raw, p, take);
        raw[take] = '\0';
        search_text_normalize(raw, w, sizeof out->word[0]);
        w[search_text_prefix_bytes(w, SEARCH_TEXT_WORD_MAX)] = '\0';
        out->count++;
        p += n;
    }
}

size_t search_text_chars(const char *word)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)word; *p; p++)
        chars += (*p & 0xC0) != 0x80;
    return chars;
}

size_t search_text_boolean(const search_text_words *w, char *out, size_t size)
{
    size_t len = 0, used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < w->count; i++) {
        if (search_text_chars(w->word[i]) < SEARCH_TEXT_MIN_TOKEN)
            continue;
        int n = snprintf(out + len, size - len, "%s+%s%s", len ? " " : "", w->word[i], i + 1 == w->count ? "*" : "");
        if (n < 0 || (size_t)n >= size - len) {
            out[len] = '\0';
            break;
        }
        len += (size_t)n;
        used++;
    }
    return used;
}

void search_text_join(const search_text_words *w, char sep, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < w->count; i++) {
        size_t n = strlen(w->word[i]) + (i > 0);
        if (len + n + 1 > size)
            break;
        if (i > 0)
            out[len++] = sep;
        memcpy(out + len, w->word[i], strlen(w->word[i]) + 1);
        len += strlen(w->word[i]);
    }
}

/* Optimal string alignment with three rolling rows; a row whose smallest value exceeds max ends it. */
int search_text_distance(const char *a, const char *b, int max)
{
    enum { CAP = SEARCH_TEXT_WORD_MAX * 4 + 1 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= CAP || lb >= CAP)
        return max + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)max)
        return max + 1;
    int rows[3][CAP];
    int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        int best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d)
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
            if (d < best)
                best = d;
        }
        if (best > max)
            return max + 1;
        int *spare = prev2;
        prev2 = prev;
        prev = cur;
        cur = spare;
    }
    return prev[lb] > max ? max + 1 : prev[lb];
}

char *search_text_normalize_parts(const char *const *parts, size_t count, int pad)
{
    size_t total = 3;
    for (size_t i = 0; i < count; i++)
        total += (parts[i] ? strlen(parts[i]) : 0) + 1;
    char *raw = malloc(total), *out = malloc(total);
    if (!raw || !out) {
        free(raw);
        free(out);
        return NULL;
    }
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = parts[i] ? strlen(parts[i]) : 0;
        memcpy(raw + len, parts[i] ? parts[i] : "", n);
        len += n;
        raw[len++] = ' ';
    }
    raw[len] = '\0';
    size_t n = search_text_normalize(raw, out + (pad ? 1 : 0), total - 2);
    free(raw);
    if (pad) {
        out[0] = ' ';
        out[n + 1] = ' ';
        out[n + 2] = '\0';
    }
    return out;
}

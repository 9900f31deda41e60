/* libFuzzer target for core/search_text, the rules every user-typed search query goes through. The
 * input is a query; a second line, when there is one, is a word to compare with. Invariants checked
 * besides memory safety:
 *   - the normal form is idempotent, has no leading, trailing or doubled space, no upper-case ASCII
 *     and no byte that separates words (so no FULLTEXT operator survives);
 *   - the boolean expression holds only '+', '*', spaces and normal-form word bytes, every '+' starts
 *     a word and only the last word may end in '*': what a user types can never become an operator;
 *   - the edit distance is symmetric, 0 exactly for equal words, never above the cutoff + 1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/search_text.h"

static int search_text_fuzz_separator(unsigned char c)
{
    return c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
}

static void search_text_fuzz_normal(const char *in)
{
    size_t size = strlen(in) + 1;
    char *once = malloc(size), *twice = malloc(size);
    if (!once || !twice)
        abort();
    size_t n = search_text_normalize(in, once, size);
    if (n != strlen(once) || search_text_normalize(once, twice, size) != n || strcmp(once, twice) != 0)
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)once[i];
        if (c == ' ' ? (i == 0 || i + 1 == n || once[i - 1] == ' ') : search_text_fuzz_separator(c))
            abort();
    }
    free(once);
    free(twice);
}

static void search_text_fuzz_boolean(const char *in)
{
    search_text_words w;
    search_text_split(in, &w);
    if (w.count > SEARCH_TEXT_WORDS_MAX)
        abort();
    char out[SEARCH_TEXT_BOOLEAN_SIZE];
    size_t used = search_text_boolean(&w, out, sizeof out);
    if (used > w.count || (used == 0) != (out[0] == '\0'))
        abort();
    size_t len = strlen(out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c == '+' && !(i == 0 || out[i - 1] == ' '))
            abort();
        if (c == '*' && i + 1 != len)
            abort();
        if (c != '+' && c != '*' && c != ' ' && search_text_fuzz_separator(c))
            abort();
    }
}

static void search_text_fuzz_distance(const char *a, const char *b)
{
    int ab = search_text_distance(a, b, SEARCH_TEXT_DISTANCE_MAX);
    int ba = search_text_distance(b, a, SEARCH_TEXT_DISTANCE_MAX);
    if (ab != ba || ab < 0 || ab > SEARCH_TEXT_DISTANCE_MAX + 1 || (ab == 0) != (strcmp(a, b) == 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = strndup((const char *)data, size);
    if (!text)
        return 0;
    char *second = strchr(text, '\n');
    if (second)
        *second++ = '\0';
    search_text_fuzz_normal(text);
    search_text_fuzz_boolean(text);
    if (second)
        search_text_fuzz_distance(text, second);
    free(text);
    return 0;
}

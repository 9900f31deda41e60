/* core/search_text: the normal form shared by index and query, query words, the boolean-mode
 * expression (no user-typed operator survives) and the edit distance of "did you mean". */
#include <stdlib.h>
#include <string.h>

#include "core/search_text.h"
#include "tests/support/check.h"

static const char *norm(const char *in)
{
    static char out[512];
    search_text_normalize(in, out, sizeof out);
    return out;
}

static void test_normalize(void)
{
    CHECK_STR(norm("CSV-Cleaner"), "csv cleaner");
    CHECK_STR(norm("snake_case_name"), "snake case name");
    CHECK_STR(norm("  Two   spaces\tand\ntabs  "), "two spaces and tabs");
    CHECK_STR(norm("+csv -json *\"quoted\" (group) ~tilde <less >more @at"), "csv json quoted group tilde less more at");
    CHECK_STR(norm("+-*\"()~<>@"), "");
    CHECK_STR(norm(""), "");
    CHECK_STR(norm("Café Ünïcode"), "café Ünïcode"); /* multi-byte characters are kept as they are */
    CHECK_STR(norm("v2.0 x86_64"), "v2 0 x86 64");
    /* a short buffer keeps whole words */
    char small[8];
    search_text_normalize("alpha beta gamma", small, sizeof small);
    CHECK_STR(small, "alpha");
}

/* The parts joined, NULLs as empty, in normal form; padded with one space each side on request. */
static void test_normalize_parts(void)
{
    const char *parts[] = {"CSV-Cleaner", NULL, "json_tools"};
    char *plain = search_text_normalize_parts(parts, 3, 0), *padded = search_text_normalize_parts(parts, 3, 1);
    CHECK_STR(plain, "csv cleaner json tools");
    CHECK_STR(padded, " csv cleaner json tools ");
    free(plain);
    free(padded);
    const char *none[] = {NULL};
    char *empty = search_text_normalize_parts(none, 1, 1);
    CHECK_STR(empty, "  ");
    free(empty);
}

static void test_split(void)
{
    search_text_words w;
    search_text_split("Hello, csv-cleaner!", &w);
    CHECK_INT(w.count, 3);
    CHECK_STR(w.word[0], "hello");
    CHECK_STR(w.word[2], "cleaner");
    search_text_split("a b c d e f g h i j k l m n o p", &w);
    CHECK_INT(w.count, SEARCH_TEXT_WORDS_MAX);
    char longword[400];
    memset(longword, 'x', sizeof longword - 1);
    longword[sizeof longword - 1] = '\0';
    search_text_split(longword, &w);
    CHECK_INT(w.count, 1);
    CHECK_INT(strlen(w.word[0]), SEARCH_TEXT_WORD_MAX);
    search_text_split("@@ ++", &w);
    CHECK_INT(w.count, 0);
}

static void test_chars(void)
{
    CHECK_INT(search_text_chars("abc"), 3);
    CHECK_INT(search_text_chars("é"), 1);
    CHECK_INT(search_text_chars("日本"), 2);
    CHECK_INT(search_text_chars(""), 0);
}

static const char *boolean(const char *q, size_t *used)
{
    static char out[SEARCH_TEXT_BOOLEAN_SIZE];
    search_text_words w;
    search_text_split(q, &w);
    *used = search_text_boolean(&w, out, sizeof out);
    return out;
}

static void test_boolean(void)
{
    size_t used;
    CHECK_STR(boolean("csv cleaner", &used), "+csv +cleaner*");
    CHECK_INT(used, 2);
    CHECK_STR(boolean("csv", &used), "+csv*");
    /* operators typed by the user are words or nothing */
    CHECK_STR(boolean("-csv +\"cleaner\" (json)*", &used), "+csv +cleaner +json*");
    CHECK_STR(boolean("json@ <>~", &used), "+json*");
    /* words under the index's minimum are left out (the caller handles a short last word) */
    CHECK_STR(boolean("a csv to", &used), "+csv");
    CHECK_INT(used, 1);
    CHECK_STR(boolean("js", &used), "");
    CHECK_INT(used, 0);
    CHECK_STR(boolean("日本語 ab", &used), "+日本語");
}

static void test_join(void)
{
    search_text_words w;
    char out[64];
    search_text_split("CSV  Cleaner", &w);
    search_text_join(&w, '-', out, sizeof out);
    CHECK_STR(out, "csv-cleaner");
    search_text_join(&w, ' ', out, sizeof out);
    CHECK_STR(out, "csv cleaner");
    search_text_split("", &w);
    search_text_join(&w, '-', out, sizeof out);
    CHECK_STR(out, "");
}

static void test_distance(void)
{
    CHECK_INT(search_text_distance("csv", "csv", 2), 0);
    CHECK_INT(search_text_distance("cvs", "csv", 2), 1);      /* a swap of neighbours is one edit */
    CHECK_INT(search_text_distance("csvv", "csv", 2), 1);
    CHECK_INT(search_text_distance("cs", "csv", 2), 1);
    CHECK_INT(search_text_distance("formater", "formatter", 2), 1);
    CHECK_INT(search_text_distance("kitten", "sitting", 3), 3);
    CHECK_INT(search_text_distance("", "abc", 5), 3);
    CHECK_INT(search_text_distance("abc", "", 5), 3);
    /* past max it answers max + 1, whatever the true distance */
    CHECK_INT(search_text_distance("kitten", "sitting", 2), 3);
    CHECK_INT(search_text_distance("a", "abcdefgh", 2), 3);
    CHECK_INT(search_text_distance("json", "yaml", 2), 3);
    /* symmetric */
    CHECK_INT(search_text_distance("clenaer", "cleaner", 2), search_text_distance("cleaner", "clenaer", 2));
    CHECK_INT(search_text_distance("clenaer", "cleaner", 2), 1);
}

int main(void)
{
    RUN(test_normalize);
    RUN(test_normalize_parts);
    RUN(test_split);
    RUN(test_chars);
    RUN(test_boolean);
    RUN(test_join);
    RUN(test_distance);
    return check_finish();
}

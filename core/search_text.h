/* The text rules of search, pure so they are unit-tested on their own: one normalization shared by
 * the index (core/search.c writes documents with it) and the query, the words of a query, the
 * InnoDB boolean-mode expression built from them, and the edit distance behind "did you mean".
 *
 * Normal form: ASCII letters lower-cased; ASCII digits kept; bytes of multi-byte UTF-8 characters
 * kept as they are (word characters); every other byte (space, punctuation, '-', '_', and every
 * FULLTEXT operator + - * " ( ) ~ < > @) separates words. Words are joined by one space, with none
 * leading or trailing. Because operators never survive normalization, what a user types can only
 * ever be words: the boolean expression is built here from words alone. */
#ifndef CORE_SEARCH_TEXT_H
#define CORE_SEARCH_TEXT_H

#include <stddef.h>

/* Longest query accepted, in characters (longer is a 422 naming q). */
#define SEARCH_TEXT_QUERY_MAX 200
/* Words of a query that count; later ones are ignored. */
#define SEARCH_TEXT_WORDS_MAX 12
/* Bytes of a word kept (InnoDB indexes at most 84 characters; longer words cannot match anyway). */
#define SEARCH_TEXT_WORD_MAX 84
/* InnoDB's innodb_ft_min_token_size default: shorter words are not in the FULLTEXT index. */
#define SEARCH_TEXT_MIN_TOKEN 3
/* The largest edit distance "did you mean" offers. */
#define SEARCH_TEXT_DISTANCE_MAX 2

/* Writes the normal form of in into out (size bytes, at least strlen(in) + 1 for the whole text;
 * a shorter out keeps whole words only). Returns the length written. */
size_t search_text_normalize(const char *in, char *out, size_t size);

/* The normal form of parts (NULL ones count as empty) joined by spaces, malloc'd (NULL when out of
 * memory); with pad, one space before and after it, so " word " can be looked for as a whole word.
 * What the index (core/search_index) and the documents (core/search) both build a text with. */
char *search_text_normalize_parts(const char *const *parts, size_t count, int pad);

typedef struct {
    char word[SEARCH_TEXT_WORDS_MAX][SEARCH_TEXT_WORD_MAX * 4 + 1];
    size_t count;
} search_text_words;

/* The words of in (normalized here), at most SEARCH_TEXT_WORDS_MAX, each cut to
 * SEARCH_TEXT_WORD_MAX characters. */
void search_text_split(const char *in, search_text_words *out);

/* Characters (UTF-8 sequences) of a word. */
size_t search_text_chars(const char *word);

/* The boolean-mode expression for words: every word of at least SEARCH_TEXT_MIN_TOKEN characters
 * required ("+word"), the last one as a prefix ("+word*") because it may still be being typed.
 * Shorter words are not in the index and are left out here (core/search.c matches a short last word
 * by prefix on the title words instead, and drops the others). Returns the number of words used
 * (0: out is ""). out needs (SEARCH_TEXT_WORD_MAX * 4 + 3) * SEARCH_TEXT_WORDS_MAX + 1 bytes. */
#define SEARCH_TEXT_BOOLEAN_SIZE ((SEARCH_TEXT_WORD_MAX * 4 + 3) * SEARCH_TEXT_WORDS_MAX + 1)
size_t search_text_boolean(const search_text_words *w, char *out, size_t size);

/* The words joined by sep ("-" gives the slug form of a query, " " its normal form). */
void search_text_join(const search_text_words *w, char sep, char *out, size_t size);

/* Optimal string alignment distance between a and b (insertions, deletions, substitutions and
 * swaps of two neighbours each cost 1), on bytes: exact for the ASCII vocabulary, approximate for
 * other scripts. Answers max + 1 as soon as the distance is known to exceed max, so comparing a
 * word with thousands of candidates stays cheap. Words longer than SEARCH_TEXT_WORD_MAX * 4 bytes
 * count as too far. */
int search_text_distance(const char *a, const char *b, int max);

#endif

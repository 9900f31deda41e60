/* What core/catalogue.c draws from (core/catalogue_words.c): word lists, sentence pools and the tool
 * families. Lists are ordered most common first: catalogue.c picks index floor(n * u^k), a power law,
 * so the first entries land in a large share of tools and the last ones in few. */
#ifndef CORE_CATALOGUE_INTERNAL_H
#define CORE_CATALOGUE_INTERNAL_H

#include <stddef.h>

#include "core/catalogue.h"

typedef struct {
    const char *tag;      /* a tool tag: [a-z0-9-] */
    const char *label;    /* in a name: "JSON" */
    const char *phrase;   /* in a sentence: "JSON documents" */
    const char *category; /* a name from the categories table (migration 0003) */
} catalogue_subject;

typedef struct {
    const char *tag;  /* also the last word of a name: "cleaner" */
    const char *verb; /* starts a summary: "Cleans" */
} catalogue_action;

typedef struct {
    const char *category;
    const char *families[2]; /* keys of catalogue_families; the second may be NULL */
} catalogue_category_families;

#define CATALOGUE_LIST(name, type) \
    extern const type name[];      \
    extern const size_t name##_count

CATALOGUE_LIST(catalogue_subjects, catalogue_subject);
CATALOGUE_LIST(catalogue_actions, catalogue_action);
CATALOGUE_LIST(catalogue_adjectives, char *const);
CATALOGUE_LIST(catalogue_qualifiers, char *const);
CATALOGUE_LIST(catalogue_sentences, char *const); /* each has at most one %s: the subject's phrase */
CATALOGUE_LIST(catalogue_extra_tags, char *const);
CATALOGUE_LIST(catalogue_first_names, char *const);
CATALOGUE_LIST(catalogue_last_names, char *const);
CATALOGUE_LIST(catalogue_studio_words, char *const);
CATALOGUE_LIST(catalogue_studio_suffixes, char *const);
CATALOGUE_LIST(catalogue_review_titles_good, char *const);
CATALOGUE_LIST(catalogue_review_titles_mixed, char *const);
CATALOGUE_LIST(catalogue_review_titles_bad, char *const);
CATALOGUE_LIST(catalogue_review_lines_good, char *const);  /* at most one %s: the subject's phrase */
CATALOGUE_LIST(catalogue_review_lines_mixed, char *const);
CATALOGUE_LIST(catalogue_review_lines_bad, char *const);
CATALOGUE_LIST(catalogue_changelogs, char *const);
CATALOGUE_LIST(catalogue_category_map, catalogue_category_families);
CATALOGUE_LIST(catalogue_families, catalogue_family);

#endif

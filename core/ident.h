/* Identifiers that arrive from outside (path segments): one spelling each, checked before any query.
 * An id is canonical decimal: 1 to INT64_MAX, no sign, no leading zero, no spaces; "089", "+89",
 * "0" and "9223372036854775808" name nothing. A text that is not in the alphabet cannot reach SQL,
 * so a collation or range error there can never turn odd input into a 500. */
#ifndef CORE_IDENT_H
#define CORE_IDENT_H

#include <stdint.h>

/* 0 and *out set when text is a canonical id; -1 otherwise (*out untouched). NULL is not an id. */
int ident_id_parse(const char *text, int64_t *out);

#endif

/* JSON text written straight into one growing buffer, byte for byte what jansson's json_dumps with
 * JSON_COMPACT writes for the same document, for answers built often enough that making a jansson
 * tree only to dump it shows in the profile (the public view of a tool: core/tool_record.c). The
 * caller writes the punctuation and keys with json_text_raw. Pure. */
#ifndef CORE_JSON_TEXT_H
#define CORE_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct {
    char *data;
    size_t len, cap;
    int failed; /* out of memory, or a value jansson could not dump: json_text_finish answers NULL */
} json_text;

/* Appends n bytes as they are. */
void json_text_raw(json_text *b, const char *s, size_t n);
/* Appends a NUL-terminated literal as it is (punctuation and keys: ",\"slug\":"). */
void json_text_lit(json_text *b, const char *s);
/* Appends s as a JSON string, escaped as jansson escapes (", \, control characters; UTF-8 kept as
 * it is); NULL appends null. */
void json_text_string(json_text *b, const char *s);
/* Appends the first n bytes of s as a JSON string. */
void json_text_stringn(json_text *b, const char *s, size_t n);
void json_text_int(json_text *b, int64_t v);
/* Appends v as jansson writes a real (17 significant digits, always a '.' or an exponent). */
void json_text_real(json_text *b, double v);
/* Appends any jansson value, compact; NULL appends null. */
void json_text_value(json_text *b, const json_t *v);
/* The text, NUL-terminated, its length in *len; the caller frees it. NULL (the buffer freed) when
 * anything failed. */
char *json_text_finish(json_text *b, size_t *len);
/* json_text_finish for an answer: when it fails, err is set (ERROR_INTERNAL, out of memory). len may
 * be NULL. */
char *json_text_finish_answer(json_text *b, size_t *len, mkt_error *err);

#endif

/* Private to the schema module (core/schema.c, core/schema_check.c, core/schema_validate.c): do not include
 * it from anywhere else; the public interface is core/schema.h. */
#ifndef CORE_SCHEMA_INTERNAL_H
#define CORE_SCHEMA_INTERNAL_H

#include <stddef.h>

#include "core/schema.h"

/* A growable byte buffer. The path of the walk lives in one of these for the whole call: each step
 * appends and then truncates back, so a walk does not allocate per level. */
typedef struct {
    char *data;
    size_t len, cap;
} schema_buf;

typedef struct {
    mkt_error *err;
    schema_buf path;
    const char *root;   /* the caller's prefix, for errors about the whole schema */
    size_t errors;      /* field errors added by this call (the caller's earlier ones don't count) */
    size_t subschemas;
    int stopped;        /* error cap reached or out of memory: unwind without doing more work */
    int oom;
} schema_ctx;

enum {
    SCHEMA_T_STRING = 1 << 0,
    SCHEMA_T_NUMBER = 1 << 1,
    SCHEMA_T_INTEGER = 1 << 2,
    SCHEMA_T_BOOLEAN = 1 << 3,
    SCHEMA_T_OBJECT = 1 << 4,
    SCHEMA_T_ARRAY = 1 << 5,
    SCHEMA_T_NULL = 1 << 6,
};

/* ---- core/schema.c: paths, reporting, numbers, type names ---- */

/* Sets ERROR_INTERNAL once and stops the walk. */
void schema_oom(schema_ctx *ctx);

/* Each push returns the length to restore with schema_path_pop. */
size_t schema_path_key(schema_ctx *ctx, const char *key);
size_t schema_path_index(schema_ctx *ctx, size_t index);
void schema_path_pop(schema_ctx *ctx, size_t saved);

/* init returns -1 when out of memory (already reported); finish frees the path and returns the call's
 * result, 0 or -1. */
int schema_ctx_init(schema_ctx *ctx, mkt_error *err, const char *root);
int schema_ctx_finish(schema_ctx *ctx);

/* Adds a field error at `field`, or the closing "too many errors" one once SCHEMA_MAX_ERRORS are in. */
void schema_report(schema_ctx *ctx, const char *field, const char *msg);
/* A field error at the current path; nothing once the walk is stopped. */
__attribute__((format(printf, 2, 3))) void schema_fail(schema_ctx *ctx, const char *fmt, ...);
/* A message naming a property: `prefix "name"`. */
void schema_fail_name(schema_ctx *ctx, const char *prefix, const char *name);
/* "expected string", "expected string or null", ... for a set of SCHEMA_T_* bits. */
void schema_fail_type(schema_ctx *ctx, unsigned mask);

/* Numbers by value, exactly, whether integer or real: -1, 0 or 1. */
int schema_number_cmp(const json_t *a, const json_t *b);
/* Shortest text that reads back as the same number. */
void schema_number_text(const json_t *n, char *out, size_t size);

/* The SCHEMA_T_* bit of a type name, 0 when unknown. */
unsigned schema_type_bit(const char *name);

/* ---- core/schema_validate.c: values ---- */

/* Reports and returns 1 when v nests deeper than SCHEMA_MAX_DEPTH. */
int schema_value_too_deep(schema_ctx *ctx, const json_t *v);
/* Validates value at the current path (depth check first); schema_check uses it for "default". */
void schema_validate_value(schema_ctx *ctx, const json_t *schema, const json_t *value);

#endif

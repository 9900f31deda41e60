/* The one printable-ASCII check for identifiers that come from outside (idempotency keys, provider
 * event ids, URLs). Pure. Whether a space is allowed is the caller's documented rule, so it is a
 * parameter rather than a second function that could drift:
 *   Idempotency-Key header  0x20-0x7E (space allowed, docs/openapi.yaml)
 *   webhook event id        0x21-0x7E (no space: it is stored and compared as a token)
 *   account website         0x21-0x7E (a space in a URL must be percent-encoded) */
#ifndef CORE_TEXT_H
#define CORE_TEXT_H

#include <stddef.h>

typedef enum { TEXT_SPACE_REFUSED, TEXT_SPACE_ALLOWED } text_space;

/* 1 when every one of the len bytes of s is printable ASCII (0x21-0x7E, and 0x20 when space is
 * TEXT_SPACE_ALLOWED); 0 at the first control, DEL, non-ASCII or NUL byte. Length limits are the
 * caller's: each names its own. An empty string is printable. */
int text_printable_ascii(const char *s, size_t len, text_space space);

#endif

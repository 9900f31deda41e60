/* The one place that turns bytes into text and back: base64 (RFC 4648 section 4, padded and
 * unpadded), base64url (section 5, unpadded) and hex (section 8). Pure, no allocation.
 *
 * Every decoder is strict, so each byte string has exactly ONE accepted text form: a changed
 * character always changes the bytes (a signature, token or stored hash cannot be re-spelled).
 * Refused: characters outside the alphabet (whitespace and NUL included), '=' anywhere in the
 * unpadded forms, wrong or missing padding in the padded form, impossible lengths (len % 4 == 1;
 * odd hex lengths), and non-zero unused bits in the last character. Decoders read exactly len
 * bytes of in (no terminator needed) and write at most cap bytes of out. */
#ifndef CORE_CODEC_H
#define CORE_CODEC_H

#include <stddef.h>

typedef enum {
    CODEC_BASE64,       /* "+/" alphabet, '=' padded to a multiple of 4: the RFC 4648 form */
    CODEC_BASE64_NOPAD, /* "+/" alphabet, no padding: the scrypt password-hash string */
    CODEC_BASE64URL,    /* "-_" alphabet, no padding: tokens, JWS segments, key ids */
} codec_base64_kind;

/* Characters codec_base64_encode writes for n bytes, not counting the terminating NUL. */
size_t codec_base64_encoded_len(codec_base64_kind kind, size_t n);

/* Encodes n bytes into out, which must hold codec_base64_encoded_len(kind, n) + 1 bytes, and
 * NUL-terminates it. Returns the length written. */
size_t codec_base64_encode(codec_base64_kind kind, const void *in, size_t n, char *out);

/* Decodes len characters of in. Returns the byte count, or -1 when the text is not the canonical
 * encoding of anything or would need more than cap bytes. out may be NULL when cap is 0. */
long codec_base64_decode(codec_base64_kind kind, const char *in, size_t len, unsigned char *out, size_t cap);

/* Lowercase hex of n bytes into out (2n + 1 bytes, NUL-terminated). Returns 2n. */
size_t codec_hex_encode(const void *in, size_t n, char *out);

/* Decodes len hex digits (either case; len must be even). Returns the byte count, or -1 for a
 * foreign character, an odd length or more than cap bytes. */
long codec_hex_decode(const char *in, size_t len, unsigned char *out, size_t cap);

#endif

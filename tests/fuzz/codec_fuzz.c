/* libFuzzer target for core/codec (base64, unpadded base64, base64url and hex). The whole input is
 * used twice: as bytes to encode and as text to decode, in every form.
 *
 * Invariants besides memory safety and no leaks:
 *   - decode(encode(x)) == x in every form, with codec_*_encoded_len's length exactly, and a
 *     decode into one byte less room is refused rather than overrunning;
 *   - decoders read only the len bytes they are given: the text is copied into a heap block of
 *     exactly that size, so AddressSanitizer reports a read past it;
 *   - a decoder never claims more bytes than fit in cap, and a text it accepts is canonical:
 *     encoding the bytes again gives the same text (hex compared without case, as either case is
 *     accepted). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/codec.h"

static void *codec_fuzz_copy(const uint8_t *data, size_t size)
{
    void *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    if (size)
        memcpy(copy, data, size);
    return copy;
}

static void codec_fuzz_round_trip(codec_base64_kind kind, const uint8_t *data, size_t size)
{
    size_t len = codec_base64_encoded_len(kind, size);
    char *text = malloc(len + 1);
    unsigned char *back = malloc(size ? size : 1);
    if (!text || !back)
        abort();
    if (codec_base64_encode(kind, data, size, text) != len || text[len] != '\0')
        abort();
    if (codec_base64_decode(kind, text, len, back, size) != (long)size || memcmp(back, data, size) != 0)
        abort();
    if (size > 0 && codec_base64_decode(kind, text, len, back, size - 1) != -1)
        abort();
    free(text);
    free(back);
}

static void codec_fuzz_hex_round_trip(const uint8_t *data, size_t size)
{
    char *text = malloc(2 * size + 1);
    unsigned char *back = malloc(size ? size : 1);
    if (!text || !back)
        abort();
    if (codec_hex_encode(data, size, text) != 2 * size)
        abort();
    if (codec_hex_decode(text, 2 * size, back, size) != (long)size || memcmp(back, data, size) != 0)
        abort();
    free(text);
    free(back);
}

/* Decodes the input as text; an accepted text must be the one encoding of what it decoded to. */
static void codec_fuzz_decode(codec_base64_kind kind, const uint8_t *data, size_t size)
{
    const char *text = codec_fuzz_copy(data, size);
    size_t cap = size * 3 / 4;
    unsigned char *out = malloc(cap ? cap : 1);
    if (!out)
        abort();
    long n = codec_base64_decode(kind, text, size, out, cap);
    if (n > (long)cap || n < -1)
        abort();
    if (n >= 0) {
        char *again = malloc(codec_base64_encoded_len(kind, (size_t)n) + 1);
        if (!again)
            abort();
        size_t len = codec_base64_encode(kind, out, (size_t)n, again);
        if (len != size || memcmp(again, text, size) != 0)
            abort();
        free(again);
    }
    free(out);
    free((void *)text);
}

static void codec_fuzz_hex_decode(const uint8_t *data, size_t size)
{
    const char *text = codec_fuzz_copy(data, size);
    unsigned char *out = malloc(size / 2 ? size / 2 : 1);
    if (!out)
        abort();
    long n = codec_hex_decode(text, size, out, size / 2);
    if (n != -1 && (size % 2 != 0 || n != (long)(size / 2)))
        abort();
    if (n >= 0) {
        char *again = malloc(size + 1);
        if (!again)
            abort();
        codec_hex_encode(out, (size_t)n, again);
        if (strncasecmp(again, text, size) != 0)
            abort();
        free(again);
    }
    free(out);
    free((void *)text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int kind = CODEC_BASE64; kind <= CODEC_BASE64URL; kind++) {
        codec_fuzz_round_trip((codec_base64_kind)kind, data, size);
        codec_fuzz_decode((codec_base64_kind)kind, data, size);
    }
    codec_fuzz_hex_round_trip(data, size);
    codec_fuzz_hex_decode(data, size);
    return 0;
}

#include "core/codec.h"

#include <stdint.h>

static const char codec_alphabet_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char codec_alphabet_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *codec_alphabet(codec_base64_kind kind)
{
    return kind == CODEC_BASE64URL ? codec_alphabet_url : codec_alphabet_std;
}

/* The 6-bit value of c in the kind's alphabet, or -1. Compares ranges rather than searching the
 * alphabet string, so NUL and bytes >= 0x80 can never match. */
static int codec_base64_value(codec_base64_kind kind, unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (kind == CODEC_BASE64URL ? '-' : '+'))
        return 62;
    if (c == (kind == CODEC_BASE64URL ? '_' : '/'))
        return 63;
    return -1;
}

size_t codec_base64_encoded_len(codec_base64_kind kind, size_t n)
{
    if (kind == CODEC_BASE64)
        return (n + 2) / 3 * 4;
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t codec_base64_encode(codec_base64_kind kind, const void *in, size_t n, char *out)
{
    const unsigned char *b = in;
    const char *alphabet = codec_alphabet(kind);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)b[i + 1] << 8;
        if (i + 2 < n)
            v |= b[i + 2];
        size_t chars = n - i >= 3 ? 4 : n - i + 1;
        for (size_t k = 0; k < chars; k++)
            out[o++] = alphabet[(v >> (18 - 6 * k)) & 63];
        for (size_t k = chars; kind == CODEC_BASE64 && k < 4; k++)
            out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* For the padded form: how many data characters precede the padding, or -1 when the padding is
 * not exactly what the encoder writes (a multiple of 4, at most two '=', only at the end). */
static long codec_base64_unpad(const char *in, size_t len)
{
    if (len % 4 != 0)
        return -1;
    size_t data = len;
    while (data > 0 && len - data < 2 && in[data - 1] == '=')
        data--;
    /* a third '=' (or one inside the data) falls to the alphabet check of the caller */
    return (long)data;
}

long codec_base64_decode(codec_base64_kind kind, const char *in, size_t len, unsigned char *out, size_t cap)
{
    if (kind == CODEC_BASE64) {
        long data = codec_base64_unpad(in, len);
        if (data < 0)
            return -1;
        len = (size_t)data;
    }
    if (len % 4 == 1)
        return -1;
    size_t n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (n > cap)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = codec_base64_value(kind, (unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero: otherwise two texts would give the same bytes, and a changed last
     * character of a signature could still verify. */
    if (acc != 0)
        return -1;
    return (long)o;
}

size_t codec_hex_encode(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
    return 2 * n;
}

static int codec_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long codec_hex_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    if (len % 2 != 0 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = codec_hex_value((unsigned char)in[2 * i]), lo = codec_hex_value((unsigned char)in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(len / 2);
}

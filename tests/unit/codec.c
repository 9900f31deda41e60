/* core/codec: RFC 4648 section 10 test vectors in every form, round trips of every length, and
 * every class of text the strict decoders must refuse. */
#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "tests/support/check.h"

/* Decodes text (as a C string) and returns the length, -1 on refusal; out gets the bytes. */
static long dec(codec_base64_kind kind, const char *text, unsigned char *out, size_t cap)
{
    return codec_base64_decode(kind, text, strlen(text), out, cap);
}

static void check_vector(codec_base64_kind kind, const char *plain, const char *text)
{
    char enc[64];
    CHECK_INT(codec_base64_encode(kind, plain, strlen(plain), enc), strlen(text));
    CHECK_STR(enc, text);
    CHECK_INT(codec_base64_encoded_len(kind, strlen(plain)), strlen(text));
    unsigned char raw[64];
    long n = dec(kind, text, raw, sizeof raw);
    CHECK_INT(n, strlen(plain));
    CHECK(n >= 0 && memcmp(raw, plain, (size_t)n) == 0);
}

static void test_rfc4648_vectors(void)
{
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *padded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *bare[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    static const char *hex[] = {"", "66", "666f", "666f6f", "666f6f62", "666f6f6261", "666f6f626172"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        check_vector(CODEC_BASE64, plain[i], padded[i]);
        check_vector(CODEC_BASE64_NOPAD, plain[i], bare[i]);
        check_vector(CODEC_BASE64URL, plain[i], bare[i]);
        char h[16];
        CHECK_INT(codec_hex_encode(plain[i], strlen(plain[i]), h), strlen(hex[i]));
        CHECK_STR(h, hex[i]);
        unsigned char raw[8];
        CHECK_INT(codec_hex_decode(hex[i], strlen(hex[i]), raw, sizeof raw), strlen(plain[i]));
        CHECK(memcmp(raw, plain[i], strlen(plain[i])) == 0);
    }
}

/* The two alphabets differ in exactly the last two characters. */
static void test_alphabets(void)
{
    const unsigned char b[] = {0xfb, 0xff, 0xbf};
    char out[8];
    codec_base64_encode(CODEC_BASE64, b, 3, out);
    CHECK_STR(out, "+/+/");
    codec_base64_encode(CODEC_BASE64URL, b, 3, out);
    CHECK_STR(out, "-_-_");
    unsigned char raw[4];
    CHECK_INT(dec(CODEC_BASE64URL, "-_-_", raw, sizeof raw), 3);
    CHECK_INT(dec(CODEC_BASE64URL, "+/+/", raw, sizeof raw), -1);
    CHECK_INT(dec(CODEC_BASE64, "-_-_", raw, sizeof raw), -1);
    CHECK_INT(dec(CODEC_BASE64_NOPAD, "-_-_", raw, sizeof raw), -1);
    /* hex output is lowercase; input may be either case */
    const unsigned char h[] = {0xab, 0xcd};
    codec_hex_encode(h, 2, out);
    CHECK_STR(out, "abcd");
    CHECK_INT(codec_hex_decode("ABcd", 4, raw, sizeof raw), 2);
    CHECK(raw[0] == 0xab && raw[1] == 0xcd);
}

/* Every length 0..40 and every byte value survive encode then decode in every form. */
static void test_round_trips(void)
{
    unsigned char in[256], back[256];
    char text[2 * 256 + 1];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    for (int kind = CODEC_BASE64; kind <= CODEC_BASE64URL; kind++)
        for (size_t n = 0; n <= 40; n++) {
            size_t len = codec_base64_encode((codec_base64_kind)kind, in + n, n, text);
            CHECK_INT(len, codec_base64_encoded_len((codec_base64_kind)kind, n));
            CHECK_INT(codec_base64_decode((codec_base64_kind)kind, text, len, back, n), n);
            CHECK(memcmp(back, in + n, n) == 0);
            /* one byte short of room is refused, not overrun */
            if (n > 0)
                CHECK_INT(codec_base64_decode((codec_base64_kind)kind, text, len, back, n - 1), -1);
        }
    size_t len = codec_hex_encode(in, sizeof in, text);
    CHECK_INT(codec_hex_decode(text, len, back, sizeof back), sizeof in);
    CHECK(memcmp(back, in, sizeof in) == 0);
    CHECK_INT(codec_hex_decode(text, len, back, sizeof back - 1), -1);
}

static void test_bad_alphabet(void)
{
    unsigned char raw[16];
    static const char *bad[] = {"Zm9v\n", " Zm9v", "Zm9*", "Zm.v", "Zm\xc3\xa9", "Zm9v\t"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_INT(dec(CODEC_BASE64, bad[i], raw, sizeof raw), -1);
        CHECK_INT(dec(CODEC_BASE64_NOPAD, bad[i], raw, sizeof raw), -1);
        CHECK_INT(dec(CODEC_BASE64URL, bad[i], raw, sizeof raw), -1);
    }
    /* an embedded NUL is a foreign character, not the end of the text */
    CHECK_INT(codec_base64_decode(CODEC_BASE64URL, "Zm\0v", 4, raw, sizeof raw), -1);
    CHECK_INT(codec_hex_decode("0g", 2, raw, sizeof raw), -1);
    CHECK_INT(codec_hex_decode("g0", 2, raw, sizeof raw), -1);
    CHECK_INT(codec_hex_decode("0 ", 2, raw, sizeof raw), -1);
    CHECK_INT(codec_hex_decode("\0"
                               "0",
                               2, raw, sizeof raw),
              -1);
    CHECK_INT(codec_hex_decode("0x12", 4, raw, sizeof raw), -1);
}

static void test_bad_padding(void)
{
    unsigned char raw[16];
    /* the padded form: padding must be exactly what the encoder writes */
    static const char *bad[] = {"Zg",    "Zg=",   "Zg===",    "Z===",     "====", "Zm8",
                                "Zm8==", "Zm9v=", "Zm9v====", "Zg==Zg==", "Z=g=", "=Zm9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_INT(dec(CODEC_BASE64, bad[i], raw, sizeof raw), -1);
    /* the unpadded forms: any '=' is refused */
    static const char *padded[] = {"Zg==", "Zm8=", "Zg=", "=", "Zm9v="};
    for (size_t i = 0; i < sizeof padded / sizeof *padded; i++) {
        CHECK_INT(dec(CODEC_BASE64_NOPAD, padded[i], raw, sizeof raw), -1);
        CHECK_INT(dec(CODEC_BASE64URL, padded[i], raw, sizeof raw), -1);
    }
    /* no length leaves a single character in the last group */
    CHECK_INT(dec(CODEC_BASE64URL, "Z", raw, sizeof raw), -1);
    CHECK_INT(dec(CODEC_BASE64_NOPAD, "Zm9vY", raw, sizeof raw), -1);
}

/* A last character whose unused low bits are not zero decodes to the same bytes as the canonical
 * one, so it must be refused: "Zh" would otherwise be a second spelling of "Zg". */
static void test_noncanonical_bits(void)
{
    unsigned char raw[16];
    CHECK_INT(dec(CODEC_BASE64URL, "Zh", raw, sizeof raw), -1);
    CHECK_INT(dec(CODEC_BASE64_NOPAD, "Zh", raw, sizeof raw), -1);
    CHECK_INT(dec(CODEC_BASE64, "Zh==", raw, sizeof raw), -1);
    CHECK_INT(dec(CODEC_BASE64, "Zm9=", raw, sizeof raw), -1);
    CHECK_INT(dec(CODEC_BASE64URL, "Zm9", raw, sizeof raw), -1);
    CHECK_INT(dec(CODEC_BASE64URL, "Zm8", raw, sizeof raw), 2);
    /* each of the 15 non-canonical last characters after 'Z' in a two-character group */
    int refused = 0;
    for (const char *c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"; *c; c++) {
        char text[3] = {'Z', *c, '\0'};
        refused += dec(CODEC_BASE64URL, text, raw, sizeof raw) < 0;
    }
    CHECK_INT(refused, 60);
}

static void test_odd_hex(void)
{
    unsigned char raw[16];
    CHECK_INT(codec_hex_decode("abc", 3, raw, sizeof raw), -1);
    CHECK_INT(codec_hex_decode("a", 1, raw, sizeof raw), -1);
    CHECK_INT(codec_hex_decode("", 0, NULL, 0), 0);
    CHECK_INT(codec_base64_decode(CODEC_BASE64, "", 0, NULL, 0), 0);
}

int main(void)
{
    RUN(test_rfc4648_vectors);
    RUN(test_alphabets);
    RUN(test_round_trips);
    RUN(test_bad_alphabet);
    RUN(test_bad_padding);
    RUN(test_noncanonical_bits);
    RUN(test_odd_hex);
    return check_finish();
}

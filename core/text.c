#include "core/text.h"

int text_printable_ascii(const char *s, size_t len, text_space space)
{
    unsigned char lowest = space == TEXT_SPACE_ALLOWED ? 0x20 : 0x21;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < lowest || c > 0x7e)
            return 0;
    }
    return 1;
}

#include "core/ident.h"

#include <string.h>

/* Digits are added one by one with an overflow check, so no length limit below INT64_MAX's 19
 * digits is needed and strtoll's sign and whitespace rules never apply. */
int ident_id_parse(const char *text, int64_t *out)
{
    if (!text || text[0] < '1' || text[0] > '9')
        return -1;
    int64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        int digit = *p - '0';
        if (v > (INT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

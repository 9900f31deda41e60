/* core/text: the printable-ASCII check and the two rules built on it (an Idempotency-Key may hold
 * a space, a webhook event id and a website may not). */
#include <string.h>

#include "core/account_rules.h"
#include "core/text.h"
#include "core/transaction_manager.h"
#include "tests/support/check.h"

static int printable(const char *s, text_space space)
{
    return text_printable_ascii(s, strlen(s), space);
}

static void test_ranges(void)
{
    CHECK_INT(printable("", TEXT_SPACE_REFUSED), 1);
    CHECK_INT(printable("!~azAZ09", TEXT_SPACE_REFUSED), 1);
    CHECK_INT(printable("a b", TEXT_SPACE_REFUSED), 0);
    CHECK_INT(printable("a b", TEXT_SPACE_ALLOWED), 1);
    CHECK_INT(printable(" ", TEXT_SPACE_ALLOWED), 1);
    /* every byte outside 0x20..0x7E is refused either way */
    for (int c = 1; c < 256; c++) {
        char s[4] = {'a', (char)c, 'b', '\0'};
        int visible = c > 0x20 && c < 0x7f;
        CHECK_INT(printable(s, TEXT_SPACE_REFUSED), visible);
        CHECK_INT(printable(s, TEXT_SPACE_ALLOWED), visible || c == 0x20);
    }
    /* an embedded NUL inside len is refused, not taken as the end */
    CHECK_INT(text_printable_ascii("a\0b", 3, TEXT_SPACE_ALLOWED), 0);
}

static void test_idempotency_key(void)
{
    CHECK_INT(transaction_idem_key_valid("order 42 / retry"), 1);
    CHECK_INT(transaction_idem_key_valid("~"), 1);
    CHECK_INT(transaction_idem_key_valid(""), 0);
    CHECK_INT(transaction_idem_key_valid("tab\there"), 0);
    CHECK_INT(transaction_idem_key_valid("caf\xc3\xa9"), 0);
    CHECK_INT(transaction_idem_key_valid("del\x7f"), 0);
    char key[TRANSACTION_IDEM_KEY_MAX + 2];
    memset(key, 'k', sizeof key);
    key[TRANSACTION_IDEM_KEY_MAX] = '\0';
    CHECK_INT(transaction_idem_key_valid(key), 1);
    key[TRANSACTION_IDEM_KEY_MAX] = 'k';
    key[TRANSACTION_IDEM_KEY_MAX + 1] = '\0';
    CHECK_INT(transaction_idem_key_valid(key), 0);
}

static void test_website(void)
{
    const char *ok = "https://example.com/a?b=c";
    CHECK(account_rules_website_problem(ok, strlen(ok)) == NULL);
    const char *spaced = "https://example.com/a b";
    CHECK(account_rules_website_problem(spaced, strlen(spaced)) != NULL);
    const char *accented = "https://caf\xc3\xa9.example";
    CHECK(account_rules_website_problem(accented, strlen(accented)) != NULL);
}

int main(void)
{
    RUN(test_ranges);
    RUN(test_idempotency_key);
    RUN(test_website);
    return check_finish();
}

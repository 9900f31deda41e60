/* core/body: unknown members of a strict body are each named, known ones never. */
#include <string.h>

#include "core/body.h"
#include "tests/support/check.h"

static void test_unknown_fields_named(void)
{
    static const char *const allowed[] = {"amount_cents", "currency", NULL};
    json_t *body = json_pack("{s:i, s:s, s:b, s:n}", "amount_cents", 5, "currency", "EUR", "extra", 1, "caf\xc3\xa9");
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(body_unknown_fields(body, allowed, &err), 2);
    CHECK_INT(err.field_count, 2);
    CHECK_INT(err.kind, ERROR_VALIDATION);
    for (size_t i = 0; i < err.field_count; i++) {
        CHECK_STR(err.fields[i].message, "unknown field");
        CHECK(strcmp(err.fields[i].field, "extra") == 0 || strcmp(err.fields[i].field, "caf\xc3\xa9") == 0);
    }
    error_clear(&err);
    json_decref(body);
}

static void test_nothing_unknown(void)
{
    static const char *const allowed[] = {"token", NULL};
    json_t *body = json_pack("{s:s}", "token", "x");
    json_t *empty = json_object();
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(body_unknown_fields(body, allowed, &err), 0);
    CHECK_INT(body_unknown_fields(empty, allowed, &err), 0);
    CHECK_INT(body_unknown_fields(NULL, allowed, &err), 0);
    CHECK(!error_is_set(&err));
    json_decref(body);
    json_decref(empty);
}

static void test_member_type(void)
{
    json_t *body = json_pack("{s:i, s:s, s:b}", "amount_cents", 5, "currency", "EUR", "flag", 1);
    mkt_error err = MKT_ERROR_INIT;
    CHECK(body_member(body, "amount_cents", JSON_INTEGER, &err) != NULL);
    CHECK(body_member(body, "currency", JSON_STRING, &err) != NULL);
    CHECK(body_member(body, "flag", JSON_TRUE, &err) != NULL);
    CHECK(!error_is_set(&err));
    CHECK(body_member(body, "currency", JSON_INTEGER, &err) == NULL);
    CHECK(body_member(body, "token", JSON_STRING, &err) == NULL);
    CHECK_INT(err.field_count, 2);
    if (err.field_count == 2) {
        CHECK_STR(err.fields[0].field, "currency");
        CHECK_STR(err.fields[0].message, "must be an integer");
        CHECK_STR(err.fields[1].field, "token");
        CHECK_STR(err.fields[1].message, "is required");
    }
    error_clear(&err);
    json_decref(body);
}

/* A member (or any named text) is one of a list, its index answered; anything else is named with the list. */
static void test_choice(void)
{
    static const char *const actions[] = {"approve", "hide", "remove", NULL};
    json_t *body = json_pack("{s:s, s:i, s:s}", "action", "hide", "number", 3, "other", "Hide");
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(body_choice(body, "action", actions, &err), 1);
    CHECK_INT(body_choose("sort", "remove", actions, &err), 2);
    CHECK(!error_is_set(&err));
    CHECK_INT(body_choice(body, "other", actions, &err), -1);
    CHECK_INT(body_choice(body, "number", actions, &err), -1);
    CHECK_INT(body_choice(body, "missing", actions, &err), -1);
    CHECK_INT(err.field_count, 3);
    if (err.field_count == 3) {
        CHECK_STR(err.fields[0].field, "other");
        CHECK_STR(err.fields[0].message, "must be one of approve, hide, remove");
        CHECK_STR(err.fields[1].message, "must be a string");
        CHECK_STR(err.fields[2].message, "is required");
    }
    error_clear(&err);
    json_decref(body);
}

int main(void)
{
    RUN(test_member_type);
    RUN(test_choice);
    RUN(test_unknown_fields_named);
    RUN(test_nothing_unknown);
    return check_finish();
}

/* The one paged-list rule: core/paging (range check, offset, the {items, total, page, per_page}
 * wrapper) and request_paging (the two query parameters). */
#include <stdlib.h>
#include <string.h>

#include "core/paging.h"
#include "fcgi/request.h"
#include "tests/support/check.h"

static int paging_rc(const char *query, int64_t *page, int64_t *per_page, const char **field)
{
    request req;
    memset(&req, 0, sizeof req);
    req.query = query;
    mkt_error err = MKT_ERROR_INIT;
    int rc = request_paging(&req, page, per_page, &err);
    static char named[32];
    named[0] = '\0';
    if (rc < 0 && err.field_count == 1)
        snprintf(named, sizeof named, "%s", err.fields[0].field);
    if (rc < 0)
        CHECK_INT(err.kind, ERROR_BAD_REQUEST);
    *field = named;
    error_clear(&err);
    return rc;
}

static void test_request_paging(void)
{
    int64_t page = 0, per_page = 0;
    const char *field;
    CHECK_INT(paging_rc("", &page, &per_page, &field), 0);
    CHECK_INT(page, 1);
    CHECK_INT(per_page, PAGING_PER_PAGE_DEFAULT);
    CHECK_INT(PAGING_PER_PAGE_DEFAULT, 20);
    CHECK_INT(paging_rc("page=3&per_page=100", &page, &per_page, &field), 0);
    CHECK_INT(page, 3);
    CHECK_INT(per_page, 100);
    CHECK_INT(paging_rc("per_page=101", &page, &per_page, &field), -1);
    CHECK_STR(field, "per_page");
    CHECK_INT(paging_rc("per_page=0", &page, &per_page, &field), -1);
    CHECK_STR(field, "per_page");
    CHECK_INT(paging_rc("page=0", &page, &per_page, &field), -1);
    CHECK_STR(field, "page");
    CHECK_INT(paging_rc("page=1000001", &page, &per_page, &field), -1);
    CHECK_STR(field, "page");
}

static void test_check_and_offset(void)
{
    mkt_error err = MKT_ERROR_INIT;
    CHECK_INT(paging_check(1, 1, &err), 0);
    CHECK_INT(paging_check(PAGING_PAGE_MAX, PAGING_PER_PAGE_MAX, &err), 0);
    CHECK_INT(paging_check(1, PAGING_PER_PAGE_MAX + 1, &err), -1);
    CHECK(err.field_count == 1 && strcmp(err.fields[0].field, "per_page") == 0);
    error_clear(&err);
    CHECK_INT(paging_check(0, 20, &err), -1);
    CHECK(err.field_count == 1 && strcmp(err.fields[0].field, "page") == 0);
    error_clear(&err);
    CHECK_INT(paging_offset(1, 20), 0);
    CHECK_INT(paging_offset(3, 20), 40);
    CHECK_INT(paging_offset(PAGING_PAGE_MAX, PAGING_PER_PAGE_MAX),
              (int64_t)(PAGING_PAGE_MAX - 1) * PAGING_PER_PAGE_MAX);
}

static void test_list_shape(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *out = paging_list(json_pack("[i, i]", 1, 2), 7, 2, 5, &err);
    CHECK(out != NULL);
    CHECK_INT(json_object_size(out), 4);
    CHECK_INT(json_array_size(json_object_get(out, "items")), 2);
    CHECK_INT(json_integer_value(json_object_get(out, "total")), 7);
    CHECK_INT(json_integer_value(json_object_get(out, "page")), 2);
    CHECK_INT(json_integer_value(json_object_get(out, "per_page")), 5);
    json_decref(out);
    /* a failed json_array() upstream is an internal error, not a crash */
    CHECK(paging_list(NULL, 0, 1, 20, &err) == NULL);
    CHECK_INT(err.kind, ERROR_INTERNAL);
    error_clear(&err);
}

/* The text form is paging_list's document, byte for byte, once the items come first. */
static void test_text_counts_match_list(void)
{
    mkt_error err = MKT_ERROR_INIT;
    json_t *list = paging_list(json_pack("[i, s]", 1, "x"), 123456789012, 7, 100, &err);
    char *want = json_dumps(list, JSON_COMPACT);
    json_text b = {0};
    json_text_lit(&b, "{\"items\":[1,\"x\"]");
    paging_text_counts(&b, 123456789012, 7, 100);
    json_text_lit(&b, "}");
    char *got = json_text_finish_answer(&b, NULL, &err);
    CHECK(want != NULL && got != NULL);
    if (want && got)
        CHECK_STR(got, want);
    CHECK_INT(err.kind, ERROR_NONE);
    free(want);
    free(got);
    json_decref(list);
}

int main(void)
{
    RUN(test_request_paging);
    RUN(test_check_and_offset);
    RUN(test_list_shape);
    RUN(test_text_counts_match_list);
    return check_finish();
}

/* core/summary_cache: what is put is found until forgotten or cleared, a slot's new tool replaces
 * the old one, references are counted (a hit is the object put, and clearing releases it), and a
 * summary's text is json_dumps' compact text of the summary kept at the time. */
#include "core/summary_cache.h"

#include <stdlib.h>
#include <string.h>
#include "tests/support/check.h"

static json_t *summary_of(int64_t id)
{
    return json_pack("{s:I, s:s}", "id", (json_int_t)id, "name", "a tool");
}

static void test_put_get_forget(void)
{
    summary_cache_clear();
    json_t *a = summary_of(7);
    summary_cache_put(7, a);
    CHECK(summary_cache_get(7) == a);
    CHECK_INT(a->refcount, 2); /* the cache's and ours */
    CHECK(summary_cache_get(8) == NULL);
    CHECK_INT(summary_cache_count(), 1);
    summary_cache_forget(8); /* not there: nothing happens */
    CHECK(summary_cache_get(7) == a);
    summary_cache_forget(7);
    CHECK(summary_cache_get(7) == NULL);
    CHECK_INT(summary_cache_count(), 0);
    CHECK_INT(a->refcount, 1);
    json_decref(a);
    /* ids that name no tool are never kept */
    json_t *z = summary_of(0);
    summary_cache_put(0, z);
    summary_cache_put(-3, z);
    CHECK(summary_cache_get(0) == NULL);
    CHECK_INT(summary_cache_count(), 0);
    json_decref(z);
}

static void test_replace_and_same_object(void)
{
    summary_cache_clear();
    json_t *a = summary_of(5), *b = summary_of(5);
    summary_cache_put(5, a);
    summary_cache_put(5, b); /* the tool changed: the new summary replaces the old */
    CHECK(summary_cache_get(5) == b);
    CHECK_INT(a->refcount, 1);
    summary_cache_put(5, b); /* putting the same object again keeps it alive */
    CHECK(summary_cache_get(5) == b);
    CHECK_INT(b->refcount, 2);
    CHECK_INT(summary_cache_count(), 1);
    json_decref(a);
    json_decref(b);
    summary_cache_clear();
}

/* The text of the summary in the slot now, byte for byte json_dumps' compact text. */
static void check_text_is(int64_t id, const json_t *summary)
{
    char *want = json_dumps(summary, JSON_COMPACT);
    size_t len = 0;
    const char *text = summary_cache_text(id, &len);
    CHECK(text != NULL);
    if (text && want) {
        CHECK_INT(len, strlen(want));
        CHECK_STR(text, want);
    }
    free(want);
}

static void test_text(void)
{
    summary_cache_clear();
    size_t len = 99;
    CHECK(summary_cache_text(9, &len) == NULL); /* nothing kept */
    CHECK_INT(len, 99);
    json_t *a = json_pack("{s:s, s:s, s:f, s:{s:i}}", "id", "9", "name", "q\"uote \\ \u00e9\n", "bayesian", 4.01,
                          "pricing", "price_cents", 0);
    summary_cache_put(9, a);
    check_text_is(9, a);
    const char *first = summary_cache_text(9, &len);
    CHECK(summary_cache_text(9, &len) == first); /* made once, then kept */
    /* a new summary for the tool: its own text, not the old one */
    json_t *b = json_pack("{s:s, s:s}", "id", "9", "name", "renamed");
    summary_cache_put(9, b);
    check_text_is(9, b);
    summary_cache_forget(9);
    CHECK(summary_cache_text(9, &len) == NULL);
    CHECK(summary_cache_text(0, &len) == NULL);
    json_decref(a);
    json_decref(b);
    summary_cache_clear();
}

static void test_bounded(void)
{
    summary_cache_clear();
    /* more tools than slots: the count never passes the slots, every kept entry is its own tool's */
    for (int64_t id = 1; id <= 3 * SUMMARY_CACHE_SLOTS; id++) {
        json_t *s = summary_of(id);
        summary_cache_put(id, s);
        json_decref(s);
    }
    CHECK(summary_cache_count() <= SUMMARY_CACHE_SLOTS);
    CHECK(summary_cache_count() > SUMMARY_CACHE_SLOTS / 2);
    size_t found = 0;
    for (int64_t id = 1; id <= 3 * SUMMARY_CACHE_SLOTS; id++) {
        json_t *s = summary_cache_get(id);
        if (!s)
            continue;
        found++;
        CHECK_INT(json_integer_value(json_object_get(s, "id")), id);
    }
    CHECK_INT(found, summary_cache_count());
    summary_cache_clear();
    CHECK_INT(summary_cache_count(), 0);
    CHECK(summary_cache_get(3 * SUMMARY_CACHE_SLOTS) == NULL);
}

int main(void)
{
    RUN(test_put_get_forget);
    RUN(test_text);
    RUN(test_replace_and_same_object);
    RUN(test_bounded);
    return check_finish();
}

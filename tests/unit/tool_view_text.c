/* core/json_text and tool_record_view_text: the public view written as text is byte for byte the
 * compact dump of tool_record_json's document (what it replaced), for every escape, both pricing
 * shapes, no tags, no published version, corrupt and odd schema cells, and ratings across 0..5. */
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/tool_record.h"
#include "tests/support/check.h"

/* What the view was before: the document dumped compact, with the newline every answer ends in. */
static char *view_by_document(const tool_record *t)
{
    json_t *doc = tool_record_json(t, NULL);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body)
        return NULL;
    char *text = malloc(strlen(body) + 2);
    strcpy(text, body);
    strcat(text, "\n");
    free(body);
    return text;
}

static void check_same(const tool_record *t)
{
    char *expected = view_by_document(t);
    size_t len = 0;
    mkt_error err = MKT_ERROR_INIT;
    char *actual = tool_record_view_text(t, &len, &err);
    CHECK(expected != NULL);
    CHECK_STR(actual, expected);
    CHECK_INT(actual ? len : 0, actual ? strlen(actual) : 1);
    free(expected);
    free(actual);
    error_clear(&err);
}

static tool_record sample(void)
{
    return (tool_record){.id = 42, .developer_id = 7, .slug = "json-tidy", .developer_name = "Lab \"Q\"",
                         .name = "JSON tidy", .summary = "Tidies\tJSON\n", .description = "caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80 a/b \\",
                         .category = "developer-tools", .pricing_model = "one_time", .currency = "EUR",
                         .status = "published", .latest_version = "1.2.0", .price_cents = 499, .downloads = 12,
                         .rating_count = 3, .rating_sum = 13, .ratings = {0, 0, 1, 0, 2}, .all_rating_count = 90,
                         .all_rating_sum = 301, .created_at = "2026-01-02T03:04:05Z",
                         .updated_at = "2026-02-03T04:05:06Z", .tags = "format,json,lint",
                         .published_input_schema = "{ \"type\" : \"object\", \"properties\": {\"n\": {\"type\": \"number\", \"maximum\": 1e3}} }",
                         .published_output_schema = "{\"type\":\"string\",\"pattern\":\"^\\\\u00e9/\"}"};
}

static void test_shapes(void)
{
    tool_record t = sample();
    check_same(&t);
    t.pricing_model = "subscription";
    t.period_days = 30;
    t.tags = NULL;
    t.latest_version = NULL;
    t.published_input_schema = NULL;
    t.published_output_schema = "{not json";
    check_same(&t);
    t.pricing_model = "free";
    t.tags = "solo";
    t.published_input_schema = "true";
    t.published_output_schema = "[1.5, -0.0, 12345678901234567890, \"\\u0001\"]";
    t.rating_count = 0;
    t.rating_sum = 0;
    t.all_rating_count = 0;
    t.all_rating_sum = 0;
    check_same(&t);
}

static void test_every_ascii_byte(void)
{
    tool_record t = sample();
    for (int c = 1; c < 128; c++) {
        char text[4] = {'a', (char)c, 'b', '\0'};
        t.name = text;
        check_same(&t);
    }
}

static void test_ratings(void)
{
    tool_record t = sample();
    for (int count = 1; count <= 7; count++)
        for (int sum = count; sum <= 5 * count; sum++) {
            t.rating_count = count;
            t.rating_sum = sum;
            t.all_rating_count = 1000 + count;
            t.all_rating_sum = 3 * (1000 + count) + sum;
            check_same(&t);
        }
}

static void test_writer(void)
{
    json_text b = {0};
    json_text_lit(&b, "[");
    json_text_string(&b, NULL);
    json_text_lit(&b, ",");
    json_text_int(&b, -9007199254740993);
    json_text_lit(&b, ",");
    json_text_real(&b, 2.0);
    json_text_lit(&b, ",");
    json_text_stringn(&b, "ab\x1f", 3);
    json_text_lit(&b, "]");
    size_t len = 0;
    char *text = json_text_finish(&b, &len);
    CHECK_STR(text, "[null,-9007199254740993,2.0,\"ab\\u001F\"]");
    CHECK_INT(len, strlen("[null,-9007199254740993,2.0,\"ab\\u001F\"]"));
    free(text);
    /* a long text grows the buffer past its first size */
    char *long_text = check_repeat("x", 5000);
    json_text_string(&b, long_text);
    text = json_text_finish(&b, &len);
    CHECK_INT(len, 5002);
    free(text);
    free(long_text);
}

int main(void)
{
    RUN(test_shapes);
    RUN(test_every_ascii_byte);
    RUN(test_ratings);
    RUN(test_writer);
    return check_finish();
}

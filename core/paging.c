#include "core/paging.h"

int paging_check(int64_t page, int64_t per_page, mkt_error *err)
{
    if (page < 1 || page > PAGING_PAGE_MAX) {
        error_set(err, ERROR_BAD_REQUEST, "page must be an integer from 1 to %d", PAGING_PAGE_MAX);
        return error_add_field(err, "page", "must be an integer from 1 to %d", PAGING_PAGE_MAX);
    }
    if (per_page < 1 || per_page > PAGING_PER_PAGE_MAX) {
        error_set(err, ERROR_BAD_REQUEST, "per_page must be an integer from 1 to %d", PAGING_PER_PAGE_MAX);
        return error_add_field(err, "per_page", "must be an integer from 1 to %d", PAGING_PER_PAGE_MAX);
    }
    return 0;
}

int64_t paging_offset(int64_t page, int64_t per_page)
{
    return (page - 1) * per_page;
}

json_t *paging_list(json_t *items, int64_t total, int64_t page, int64_t per_page, mkt_error *err)
{
    json_t *out = items ? json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", (json_int_t)total, "page",
                                    (json_int_t)page, "per_page", (json_int_t)per_page)
                        : NULL;
    if (!out)
        error_set(err, ERROR_INTERNAL, "out of memory");
    return out;
}

void paging_text_counts(json_text *b, int64_t total, int64_t page, int64_t per_page)
{
    json_text_lit(b, ",\"total\":");
    json_text_int(b, total);
    json_text_lit(b, ",\"page\":");
    json_text_int(b, page);
    json_text_lit(b, ",\"per_page\":");
    json_text_int(b, per_page);
}

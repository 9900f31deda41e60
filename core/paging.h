/* Paged lists: ONE rule for every list the API answers (docs/openapi.yaml, info):
 *   {items: [...], total, page, per_page}; page counts from 1, per_page defaults to 20 and is at
 *   most 100; a page past the end is an empty items array (total still says how many exist).
 * The request side (parsing ?page=&per_page=) is request_paging in fcgi/request.c; services check
 * the numbers again with paging_check (they may be called from elsewhere) and answer with
 * paging_list (or, an answer written as text, paging_text_counts after the items). */
#ifndef CORE_PAGING_H
#define CORE_PAGING_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"
#include "core/json_text.h"

#define PAGING_PER_PAGE_DEFAULT 20
#define PAGING_PER_PAGE_MAX 100
/* Keeps (page - 1) * per_page far from overflow and the OFFSET sane. */
#define PAGING_PAGE_MAX 1000000

/* 0 when 1 <= page <= PAGING_PAGE_MAX and 1 <= per_page <= PAGING_PER_PAGE_MAX; otherwise -1 with
 * ERROR_BAD_REQUEST naming the field. */
int paging_check(int64_t page, int64_t per_page, mkt_error *err);

/* Rows to skip before the page: the OFFSET. */
int64_t paging_offset(int64_t page, int64_t per_page);

/* {items, total, page, per_page}. Takes the reference to items (also on failure). NULL with
 * ERROR_INTERNAL when items is NULL (a failed json_array) or memory runs out. */
json_t *paging_list(json_t *items, int64_t total, int64_t page, int64_t per_page, mkt_error *err);

/* The members after a list written as text, as paging_list orders them: ,"total":..,"page":..,"per_page":.. */
void paging_text_counts(json_text *b, int64_t total, int64_t page, int64_t per_page);

#endif

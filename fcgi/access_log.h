/* The access log: one JSON object per request on the log sink, written after the answer is sent.
 * Fields: time, type "access", method, path (without the query), status, duration_us, request_id,
 * pid, user_id (the authenticated caller as the API spells ids, or null), and for every 4xx/5xx
 * answer: problem (the problem type's slug), detail (the full message, internal ones included —
 * the log is the operator's) and fields (the names of the fields at fault, when there are any).
 * Whatever bytes the request carried, the line is valid JSON and valid UTF-8: invalid bytes become
 * U+FFFD and long text is cut on a character boundary. See docs/operations.md ("Logs"). */
#ifndef FCGI_ACCESS_LOG_H
#define FCGI_ACCESS_LOG_H

#include <stdint.h>

#include "core/error.h"
#include "fcgi/request.h"

/* err: what the request failed with (NULL or ERROR_NONE when it did not fail). */
void access_log_write(const request *req, int status, uint64_t duration_us, const mkt_error *err);

#endif

/* Reading the test stack's server log (MKT_SERVER_LOG: the access log and structured event lines,
 * one JSON object per line, mixed with plain diagnostics). */
#ifndef TESTS_SERVER_LOG_H
#define TESTS_SERVER_LOG_H

#include <jansson.h>

/* The JSON log lines whose "type" equals type (NULL: any) and whose raw text contains needle,
 * in file order, as a new array. Lines are written right after the answer is sent, so it polls for
 * up to wait_ms until at least one matches. Returns an empty array when none does (never NULL
 * unless out of memory); when the stack has no log, prints why and returns an empty array. */
json_t *server_log_find(const char *type, const char *needle, int wait_ms);

/* How many lines of the log contain needle but are not a JSON object (0 when the log is missing). */
int server_log_count_unparsed(const char *needle);

#endif

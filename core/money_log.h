/* Money events as structured log lines: one JSON object per line on the same sink as the access
 * log (stderr, written with a single write), so a person with nothing but the server's log can
 * follow a purchase or a payout by its id.
 *
 *   {"time":"2026-01-31T12:00:00Z","type":"money","event":"purchase.completed",
 *    "transaction_id":"42","buyer_user_id":"7","developer_id":"3","tool_id":"9",
 *    "amount_cents":1999,"currency":"EUR","developer_cents":1399,"platform_cents":600,
 *    "request_id":"…","pid":1234}
 *
 * Events: purchase.created|completed|failed|refunded, payout.requested|redeemed|paid|failed|expired,
 * webhook.refused (with reason bad_signature, stale_timestamp, malformed, invalid_event,
 * unknown_event, unknown_object, amount_mismatch, not_yet, unavailable, error), webhook.ignored (an
 * acknowledged event that changed nothing, flagged when it contradicts what we recorded) and
 * webhook.duplicate. Ids are strings as in the API; request_id is "" outside a request (the payout
 * sweep). Lines are written only after the change they describe has committed. */
#ifndef CORE_MONEY_LOG_H
#define CORE_MONEY_LOG_H

#include <jansson.h>
#include <stdint.h>

/* Writes {time, type:"money", event, <fields>, request_id, pid} as one line. fields is an object
 * and is stolen (NULL = no extra fields). Never fails loudly: logging must not change an answer. */
void money_log(const char *event, json_t *fields);

/* An id as the API shows it (decimal string), for json_pack "s" arguments; buf holds 24 bytes. */
const char *money_log_id(char buf[24], int64_t id);

#endif

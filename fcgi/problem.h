/* The one place where a kind of failure (core/error.h) becomes HTTP: its status code, its title and
 * the slug of its problem type (`urn:marketplace:problem:<slug>`). Services report kinds; only the
 * transport knows statuses. */
#ifndef FCGI_PROBLEM_H
#define FCGI_PROBLEM_H

#include "core/error.h"

/* 400 … 503 (429 for ERROR_RATE_LIMITED); 500 for ERROR_INTERNAL and anything unknown. */
int problem_status(error_kind kind);
/* "Not Found", "Unprocessable Content", … (RFC 9110 reason phrases). */
const char *problem_title(error_kind kind);
/* Stable problem type slug, e.g. "validation", "not-found". */
const char *problem_slug(error_kind kind);

#endif

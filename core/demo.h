/* Demo data for the local stack (`marketplace seed`): known accounts a person can log in with.
 * Idempotent: running it again leaves existing data alone. */
#ifndef CORE_DEMO_H
#define CORE_DEMO_H

#include "core/config.h"
#include "core/error.h"
#include "sql/db.h"

#define DEMO_PASSWORD "demo-password"

int demo_seed(db *db, const config *cfg, mkt_error *err);

#endif

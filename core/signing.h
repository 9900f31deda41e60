/* The process's signing keys (receipts and payout tokens): the keyring loaded from
 * signing_key_dir by the master before it forks — the key files may be readable only by the
 * master (systemd credentials) — and inherited by every worker. */
#ifndef CORE_SIGNING_H
#define CORE_SIGNING_H

#include "core/jws.h"
#include "core/service.h"

/* The keyring in use; never NULL (an empty keyring before the first load or when no key could be
 * read: /keys is then empty and signing answers 503). */
const jws_keyring *signing_keys(void);

/* (Re)loads signing_key_dir. Never fatal: a directory that cannot be read keeps the keyring in use
 * (logged), so a bad reload does not take signing away from the running service. */
void signing_reload(const config *cfg);

/* master_load: signing_reload; master_exit: frees the keyring. */
extern const service_hooks signing_service;

#endif

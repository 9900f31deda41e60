/* Ed25519 signing keys on disk (receipts and payout tokens). A key is a pair of PEM files in
 * signing_key_dir named by its key id: <kid>.key.pem (private, mode 0600) and <kid>.pub.pem, plus a
 * sidecar <kid>.created holding its creation time (one line, "YYYYMMDDTHHMMSS.ffffffZ", UTC).
 * The kid is the RFC 7638 JWK thumbprint of the public key, so anyone can recompute it.
 *
 * Why the sidecar: copies (systemd's LoadCredential, a backup restore, a config-management push)
 * give every file the same mtime, and rotation must still know which key is the newest. It travels
 * with the key files under any prefix (systemd presents <kid>.key.pem as signing-key_<kid>.key.pem
 * and the sidecar as signing-key_<kid>.created). Keys without one (made before it existed) still
 * load. */
#ifndef CORE_KEYSTORE_H
#define CORE_KEYSTORE_H

#include <stddef.h>
#include <time.h>

#include "core/error.h"

#define KEYSTORE_KID_LEN 43

/* Length of a creation stamp "YYYYMMDDTHHMMSS.ffffffZ": fixed width, so comparing two stamps as
 * strings compares the times. */
#define KEYSTORE_CREATED_LEN 23

/* Generates a key pair and its sidecar into dir (created with mode 0700 when missing), stamped
 * with the current time; kid gets the key id. */
int keystore_generate(const char *dir, char kid[KEYSTORE_KID_LEN + 1], mkt_error *err);
/* The same with a given creation time (UTC). */
int keystore_generate_at(const char *dir, const struct timespec *created, char kid[KEYSTORE_KID_LEN + 1],
                         mkt_error *err);

/* The creation stamp of the key in file dir/name (a *.key.pem or *.pub.pem, any prefix): read from
 * the sidecar next to it (the same name with .created instead of .key.pem/.pub.pem). 1 and out
 * filled when the sidecar exists and holds a well-formed stamp, 0 otherwise (an old key). */
int keystore_read_created(const char *dir, const char *name, char out[KEYSTORE_CREATED_LEN + 1]);

/* RFC 7638 thumbprint of a raw 32-byte Ed25519 public key, base64url without padding. */
void keystore_thumbprint(const unsigned char public_key[32], char kid[KEYSTORE_KID_LEN + 1]);

#endif

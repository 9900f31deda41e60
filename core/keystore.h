/* Ed25519 signing keys on disk (receipts and payout tokens). A key is a pair of PEM files in
 * signing_key_dir named by its key id: <kid>.key.pem (private, mode 0600) and <kid>.pub.pem.
 * The kid is the RFC 7638 JWK thumbprint of the public key, so anyone can recompute it. */
#ifndef CORE_KEYSTORE_H
#define CORE_KEYSTORE_H

#include <stddef.h>

#include "core/error.h"

#define KEYSTORE_KID_LEN 43

/* Generates a key pair into dir (created with mode 0700 when missing); kid gets the key id. */
int keystore_generate(const char *dir, char kid[KEYSTORE_KID_LEN + 1], mkt_error *err);

/* RFC 7638 thumbprint of a raw 32-byte Ed25519 public key, base64url without padding. */
void keystore_thumbprint(const unsigned char public_key[32], char kid[KEYSTORE_KID_LEN + 1]);

/* base64url without padding; out must hold 4 * ((len + 2) / 3) + 1 bytes. Returns the length written. */
size_t keystore_base64url(const unsigned char *in, size_t len, char *out);

#endif

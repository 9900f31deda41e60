#include "core/keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "core/codec.h"

void keystore_thumbprint(const unsigned char public_key[32], char kid[KEYSTORE_KID_LEN + 1])
{
    char x[48];
    codec_base64_encode(CODEC_BASE64URL, public_key, 32, x);
    /* Members in lexicographic order, no whitespace, as RFC 7638 requires. */
    char canonical[128];
    int n = snprintf(canonical, sizeof canonical, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)canonical, (size_t)n, digest);
    codec_base64_encode(CODEC_BASE64URL, digest, sizeof digest, kid);
}

static int keystore_write_pem(const char *path, EVP_PKEY *key, int private_part, mkt_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private_part ? 0600 : 0644);
    if (fd < 0)
        return error_set(err, ERROR_INTERNAL, "%s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return error_set(err, ERROR_INTERNAL, "%s: %s", path, strerror(errno));
    }
    int ok = private_part ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_PUBKEY(f, key);
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        unlink(path);
        return error_set(err, ERROR_INTERNAL, "%s: cannot write the key", path);
    }
    return 0;
}

/* "YYYYMMDDTHHMMSS.ffffffZ" in UTC. */
static void keystore_stamp(const struct timespec *t, char out[KEYSTORE_CREATED_LEN + 1])
{
    struct tm tm;
    gmtime_r(&t->tv_sec, &tm);
    char secs[20];
    strftime(secs, sizeof secs, "%Y%m%dT%H%M%S", &tm);
    char full[64]; /* roomy: the compiler cannot see that the microseconds fit in 6 digits */
    snprintf(full, sizeof full, "%.15s.%06dZ", secs, (int)((t->tv_nsec / 1000) % 1000000));
    memcpy(out, full, KEYSTORE_CREATED_LEN);
    out[KEYSTORE_CREATED_LEN] = '\0';
}

static int keystore_stamp_valid(const char *s)
{
    /* YYYYMMDD T HHMMSS . ffffff Z */
    for (int i = 0; i < KEYSTORE_CREATED_LEN; i++) {
        char want = i == 8 ? 'T' : i == 15 ? '.' : i == KEYSTORE_CREATED_LEN - 1 ? 'Z' : 'd';
        if (want == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != want)
            return 0;
    }
    return 1;
}

int keystore_read_created(const char *dir, const char *name, char out[KEYSTORE_CREATED_LEN + 1])
{
    size_t len = strlen(name), suffix = strlen(".key.pem");
    if (len <= suffix)
        return 0;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%.*s.created", dir, (int)(len - suffix), name) >= sizeof path)
        return 0;
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[64] = "";
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!ok || strlen(line) != KEYSTORE_CREATED_LEN || !keystore_stamp_valid(line))
        return 0;
    memcpy(out, line, KEYSTORE_CREATED_LEN + 1);
    return 1;
}

static int keystore_write_created(const char *path, const char *stamp, mkt_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return error_set(err, ERROR_INTERNAL, "%s: %s", path, strerror(errno));
    char line[KEYSTORE_CREATED_LEN + 2];
    int n = snprintf(line, sizeof line, "%s\n", stamp);
    int ok = write(fd, line, (size_t)n) == n;
    if (close(fd) != 0)
        ok = 0;
    if (!ok) {
        unlink(path);
        return error_set(err, ERROR_INTERNAL, "%s: cannot write the creation time", path);
    }
    return 0;
}

int keystore_generate(const char *dir, char kid[KEYSTORE_KID_LEN + 1], mkt_error *err)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return keystore_generate_at(dir, &now, kid, err);
}

int keystore_generate_at(const char *dir, const struct timespec *created, char kid[KEYSTORE_KID_LEN + 1],
                         mkt_error *err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return error_set(err, ERROR_INTERNAL, "%s: %s", dir, strerror(errno));
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!key)
        return error_set(err, ERROR_INTERNAL, "Ed25519 key generation failed");
    unsigned char raw[32];
    size_t raw_len = sizeof raw;
    int rc = -1;
    if (EVP_PKEY_get_raw_public_key(key, raw, &raw_len) != 1 || raw_len != 32) {
        error_set(err, ERROR_INTERNAL, "cannot read the public key");
        goto done;
    }
    keystore_thumbprint(raw, kid);
    char private_path[4096], public_path[4096], created_path[4096], stamp[KEYSTORE_CREATED_LEN + 1];
    snprintf(private_path, sizeof private_path, "%s/%s.key.pem", dir, kid);
    snprintf(public_path, sizeof public_path, "%s/%s.pub.pem", dir, kid);
    snprintf(created_path, sizeof created_path, "%s/%s.created", dir, kid);
    keystore_stamp(created, stamp);
    /* the sidecar first: a private key that exists without its time could be mistaken for an old one */
    if (keystore_write_created(created_path, stamp, err) < 0)
        goto done;
    if (keystore_write_pem(private_path, key, 1, err) < 0) {
        unlink(created_path);
        goto done;
    }
    if (keystore_write_pem(public_path, key, 0, err) < 0) {
        unlink(private_path);
        unlink(created_path);
        goto done;
    }
    rc = 0;
done:
    EVP_PKEY_free(key);
    return rc;
}

/* Signing-key rotation when every key file has the same mtime, as systemd's LoadCredential=
 * presents them (copies named signing-key_<file name>, all stamped with the service start): the key
 * created last must sign, whatever the names' order. Keys are made both with keystore_generate_at
 * and with the real `marketplace keygen` (MKT_BIN), copied the way systemd copies them. Keys from
 * before creation times were recorded (no .created sidecar) still load, and lose to any key that
 * has one. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/jws.h"
#include "core/keystore.h"
#include "tests/support/check.h"
#include "tests/support/tmpdir.h"

/* Copies every file of from into to as systemd does for LoadCredential=signing-key:<dir>: named
 * signing-key_<name>, and every copy with the same mtime. */
static void copy_as_credentials(const char *from, const char *to, time_t mtime)
{
    DIR *d = opendir(from);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char src[4096], dst[4096], buf[16384];
        snprintf(src, sizeof src, "%s/%s", from, e->d_name);
        snprintf(dst, sizeof dst, "%s/signing-key_%s", to, e->d_name);
        FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
        size_t n;
        while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
        utimensat(AT_FDCWD, dst, times, 0);
    }
    if (d)
        closedir(d);
}

static jws_keyring *load(const char *dir)
{
    mkt_error err = MKT_ERROR_INIT;
    jws_keyring *kr = jws_keyring_load(dir, &err);
    if (!kr) {
        fprintf(stderr, "load %s: %s\n", dir, err.message);
        exit(2);
    }
    return kr;
}

static void generate_at(const char *dir, time_t when, char kid[KEYSTORE_KID_LEN + 1])
{
    struct timespec t = {when, 0};
    mkt_error err = MKT_ERROR_INIT;
    if (keystore_generate_at(dir, &t, kid, &err) < 0) {
        fprintf(stderr, "keygen: %s\n", err.message);
        exit(2);
    }
}

static void remove_key(const char *dir, const char *kid)
{
    const char *suffixes[] = {".key.pem", ".pub.pem", ".created"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s%s", dir, kid, suffixes[i]);
        unlink(path);
    }
}

/* An older key and a newer one whose kid sorts BEFORE the older one's, so that name order (the old
 * tie-break) would pick the wrong one. */
static void older_and_newer(const char *dir, char old_kid[KEYSTORE_KID_LEN + 1], char new_kid[KEYSTORE_KID_LEN + 1])
{
    time_t now = time(NULL);
    /* An old kid starting in the upper half of the base64url alphabet ('_' or a-z, > every '-',
     * digit and capital) leaves room below it: each new key then sorts first with p > 0.5. An old
     * kid like "-…" would leave almost none, and the loop below would run out of tries. */
    for (int tries = 0;; tries++) {
        generate_at(dir, now - 86400, old_kid);
        if (old_kid[0] > 'Z' || tries == 200)
            break;
        remove_key(dir, old_kid);
    }
    for (int tries = 0; tries < 200; tries++) {
        generate_at(dir, now - 60, new_kid);
        if (strcmp(new_kid, old_kid) < 0)
            return;
        remove_key(dir, new_kid);
    }
    fprintf(stderr, "could not make a key whose kid sorts first\n");
    exit(2);
}

static void test_same_mtime_newest_created_signs(void)
{
    char keys[64], creds[64], old_kid[KEYSTORE_KID_LEN + 1], new_kid[KEYSTORE_KID_LEN + 1];
    tmpdir_make(keys, sizeof keys, "keyring-rotation");
    tmpdir_make(creds, sizeof creds, "keyring-rotation");
    older_and_newer(keys, old_kid, new_kid);
    copy_as_credentials(keys, creds, time(NULL));
    jws_keyring *kr = load(creds);
    CHECK_INT(jws_keyring_count(kr), 2);
    CHECK_STR(jws_keyring_signing_kid(kr) ?: "(none)", new_kid);
    jws_keyring_free(kr);

    /* the stamp is what counts, not the mtime: an older key touched later still does not sign */
    kr = load(keys);
    CHECK_STR(jws_keyring_signing_kid(kr) ?: "(none)", new_kid);
    jws_keyring_free(kr);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.key.pem", keys, old_kid);
    struct timespec later[2] = {{time(NULL) + 100, 0}, {time(NULL) + 100, 0}};
    CHECK(utimensat(AT_FDCWD, path, later, 0) == 0);
    kr = load(keys);
    CHECK_STR(jws_keyring_signing_kid(kr) ?: "(none)", new_kid);
    jws_keyring_free(kr);
    tmpdir_remove(keys);
    tmpdir_remove(creds);
}

static void test_old_keys_without_created(void)
{
    char keys[64], creds[64], old_kid[KEYSTORE_KID_LEN + 1], new_kid[KEYSTORE_KID_LEN + 1];
    tmpdir_make(keys, sizeof keys, "keyring-rotation");
    tmpdir_make(creds, sizeof creds, "keyring-rotation");
    older_and_newer(keys, old_kid, new_kid);
    /* the older key predates sidecars: it still loads and verifies, and the stamped key signs
     * even when the old file is the newer one by mtime */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.created", keys, old_kid);
    CHECK(unlink(path) == 0);
    snprintf(path, sizeof path, "%s/%s.key.pem", keys, old_kid);
    struct timespec later[2] = {{time(NULL) + 100, 0}, {time(NULL) + 100, 0}};
    CHECK(utimensat(AT_FDCWD, path, later, 0) == 0);
    jws_keyring *kr = load(keys);
    CHECK_INT(jws_keyring_count(kr), 2);
    CHECK_STR(jws_keyring_signing_kid(kr) ?: "(none)", new_kid);
    jws_keyring_free(kr);
    copy_as_credentials(keys, creds, time(NULL));
    kr = load(creds);
    CHECK_STR(jws_keyring_signing_kid(kr) ?: "(none)", new_kid);
    jws_keyring_free(kr);

    /* only old keys: the mtime rule as before (newest file signs) */
    snprintf(path, sizeof path, "%s/%s.created", keys, new_kid);
    CHECK(unlink(path) == 0);
    kr = load(keys);
    CHECK_STR(jws_keyring_signing_kid(kr) ?: "(none)", old_kid);
    jws_keyring_free(kr);

    /* a garbled sidecar counts as none rather than failing the load */
    char created[KEYSTORE_KID_LEN + 16];
    snprintf(created, sizeof created, "%s.created", new_kid);
    tmpdir_write(keys, created, "yesterday\n");
    kr = load(keys);
    CHECK_INT(jws_keyring_count(kr), 2);
    jws_keyring_free(kr);
    tmpdir_remove(keys);
    tmpdir_remove(creds);
}

/* `marketplace keygen --dir DIR`, its printed kid into kid. */
static int run_keygen(const char *bin, const char *dir, char kid[KEYSTORE_KID_LEN + 1])
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' keygen --config /dev/null --dir '%s'", bin, dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[128] = "";
    int ok = fgets(line, sizeof line, p) != NULL;
    int rc = pclose(p);
    line[strcspn(line, "\n")] = '\0';
    if (!ok || rc != 0 || strlen(line) != KEYSTORE_KID_LEN)
        return -1;
    memcpy(kid, line, KEYSTORE_KID_LEN + 1);
    return 0;
}

static void test_keygen_rotation_under_credentials(void)
{
    const char *bin = getenv("MKT_BIN");
    if (!bin || access(bin, X_OK) != 0) {
        fprintf(stderr, "  MKT_BIN (the marketplace binary) is not set\n");
        check_failures++;
        return;
    }
    /* rotate a few times; every time the key keygen made last must sign from the copies, whatever
     * the order of the kids */
    char keys[64], first[KEYSTORE_KID_LEN + 1], kid[KEYSTORE_KID_LEN + 1];
    tmpdir_make(keys, sizeof keys, "keyring-rotation");
    CHECK_INT(run_keygen(bin, keys, first), 0);
    for (int round = 0; round < 4; round++) {
        CHECK_INT(run_keygen(bin, keys, kid), 0);
        char creds[64];
        tmpdir_make(creds, sizeof creds, "keyring-rotation");
        copy_as_credentials(keys, creds, time(NULL));
        jws_keyring *kr = load(creds);
        CHECK_INT(jws_keyring_count(kr), (size_t)round + 2);
        CHECK_STR(jws_keyring_signing_kid(kr) ?: "(none)", kid);
        jws_keyring_free(kr);
        tmpdir_remove(creds);
    }
    tmpdir_remove(keys);
}

int main(void)
{
    RUN(test_same_mtime_newest_created_signs);
    RUN(test_old_keys_without_created);
    RUN(test_keygen_rotation_under_credentials);
    return check_finish();
}

/* bench_jws — in-process Ed25519 receipt signing and verification rate (per core).
 *
 *   bench_jws [rounds (7)] [seconds per round (0.5)]
 *
 * Generates a signing key into a temporary directory with keystore_generate, loads it with
 * jws_keyring_load, and signs a receipt with the claims the server puts in one (see
 * core/transaction_events.c transaction_issue_receipt), then verifies it, each for a fixed time per
 * round. Prints the median (and min/max) over the rounds of signs/s and verifies/s. Single thread.
 * It prints figures; it is not a test. The temporary directory is removed at the end. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/error.h"
#include "core/jws.h"
#include "core/keystore.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 7;
    double seconds = argc > 2 ? atof(argv[2]) : 0.5;
    if (rounds < 1 || rounds > 1000 || !(seconds > 0)) {
        fprintf(stderr, "usage: bench_jws [rounds (7)] [seconds per round (0.5)]\n");
        return 2;
    }

    char dir[] = "/tmp/mkt-bench-jws.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench_jws: mkdtemp");
        return 1;
    }
    mkt_error err = {0};
    char kid[KEYSTORE_KID_LEN + 1];
    if (keystore_generate(dir, kid, &err) < 0) {
        fprintf(stderr, "bench_jws: keystore_generate: %s\n", err.message);
        remove_dir(dir);
        return 1;
    }
    jws_keyring *kr = jws_keyring_load(dir, &err);
    if (!kr || !jws_keyring_signing_kid(kr)) {
        fprintf(stderr, "bench_jws: jws_keyring_load: %s\n", kr ? "no signing key" : err.message);
        jws_keyring_free(kr);
        remove_dir(dir);
        return 1;
    }

    /* the claims of a receipt, as transaction_issue_receipt builds them */
    json_t *claims = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:I, s:I}", "iss",
                               "https://marketplace.example.test", "sub", "1048576", "jti", "rcpt_73421", "iat",
                               (json_int_t)time(NULL), "txn", "73421", "tool", "4242", "amount_cents",
                               (json_int_t)1999, "currency", "USD", "developer_cents", (json_int_t)1399,
                               "platform_cents", (json_int_t)600);
    char *token = claims ? jws_sign(kr, claims, &err) : NULL;
    if (!token) {
        fprintf(stderr, "bench_jws: jws_sign: %s\n", err.message);
        return 1;
    }
    json_t *back = jws_verify(kr, token, &err);
    if (!back || !json_equal(back, claims)) {
        fprintf(stderr, "bench_jws: the receipt does not verify back: %s\n", err.message);
        return 1;
    }
    json_decref(back);

    double *sign_rate = calloc((size_t)rounds, sizeof *sign_rate);
    double *verify_rate = calloc((size_t)rounds, sizeof *verify_rate);
    if (!sign_rate || !verify_rate)
        return 1;
    for (int r = 0; r < rounds; r++) {
        long n = 0;
        double t0 = now_s(), t1;
        do {
            for (int i = 0; i < 64; i++, n++) {
                char *tok = jws_sign(kr, claims, &err);
                if (!tok) {
                    fprintf(stderr, "bench_jws: jws_sign: %s\n", err.message);
                    return 1;
                }
                free(tok);
            }
        } while ((t1 = now_s()) - t0 < seconds);
        sign_rate[r] = (double)n / (t1 - t0);

        n = 0;
        t0 = now_s();
        do {
            for (int i = 0; i < 64; i++, n++) {
                json_t *c = jws_verify(kr, token, &err);
                if (!c) {
                    fprintf(stderr, "bench_jws: jws_verify: %s\n", err.message);
                    return 1;
                }
                json_decref(c);
            }
        } while ((t1 = now_s()) - t0 < seconds);
        verify_rate[r] = (double)n / (t1 - t0);
    }
    qsort(sign_rate, (size_t)rounds, sizeof *sign_rate, cmp_double);
    qsort(verify_rate, (size_t)rounds, sizeof *verify_rate, cmp_double);

    printf("bench_jws: Ed25519 receipts (JWS compact, %zu-byte token, kid %s), 1 thread, %d rounds of %.2f s\n",
           strlen(token), kid, rounds, seconds);
    printf("%-10s %14s %14s %14s %12s\n", "operation", "median ops/s", "min ops/s", "max ops/s", "median us/op");
    printf("%-10s %14.0f %14.0f %14.0f %12.1f\n", "sign", sign_rate[rounds / 2], sign_rate[0], sign_rate[rounds - 1],
           1e6 / sign_rate[rounds / 2]);
    printf("%-10s %14.0f %14.0f %14.0f %12.1f\n", "verify", verify_rate[rounds / 2], verify_rate[0],
           verify_rate[rounds - 1], 1e6 / verify_rate[rounds / 2]);

    free(sign_rate);
    free(verify_rate);
    free(token);
    json_decref(claims);
    jws_keyring_free(kr);
    remove_dir(dir);
    return 0;
}

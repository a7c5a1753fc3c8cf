/* scrypt password hashes: round trip, self-describing format, refusals. */
#include <time.h>

#include "check.h"
#include "sr_password.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
    char h1[SR_PASSWORD_STORED_MAX], h2[SR_PASSWORD_STORED_MAX];
    double t0 = now();
    CHECK(sr_password_hash("hunter2", 7, h1, sizeof h1) == SR_PASSWORD_OK);
    double t1 = now();
    printf("password: one default hash (N=2^%d r=%d p=%d) took %.0f ms\n", SR_PASSWORD_LOG2N,
           SR_PASSWORD_R, SR_PASSWORD_P, (t1 - t0) * 1e3);
    CHECK(strncmp(h1, "scrypt$14$8$1$", 14) == 0);
    CHECK(strlen(h1) == 14 + 24 + 1 + 44); /* 16-byte salt, 32-byte hash, base64 */
    CHECK(sr_password_verify("hunter2", 7, h1) == SR_PASSWORD_OK);
    CHECK(sr_password_verify("hunter3", 7, h1) == SR_PASSWORD_MISMATCH);
    CHECK(sr_password_verify("hunter2", 6, h1) == SR_PASSWORD_MISMATCH);
    CHECK(sr_password_verify("", 0, h1) == SR_PASSWORD_MISMATCH);
    /* a fresh salt each time */
    CHECK(sr_password_hash("hunter2", 7, h2, sizeof h2) == SR_PASSWORD_OK && strcmp(h1, h2) != 0);
    /* bytes, not C strings: an embedded NUL counts */
    CHECK(sr_password_hash("a\0b", 3, h2, sizeof h2) == SR_PASSWORD_OK);
    CHECK(sr_password_verify("a\0b", 3, h2) == SR_PASSWORD_OK);
    CHECK(sr_password_verify("a", 1, h2) == SR_PASSWORD_MISMATCH);
    /* explicit parameters are stored and honoured */
    CHECK(sr_password_hash_params("pw", 2, 10, 4, 2, h2, sizeof h2) == SR_PASSWORD_OK);
    CHECK(strncmp(h2, "scrypt$10$4$2$", 14) == 0 && sr_password_verify("pw", 2, h2) == 0);
    CHECK(sr_password_hash_params("pw", 2, 30, 8, 1, h2, sizeof h2) == SR_PASSWORD_MALFORMED);
    CHECK(sr_password_hash("pw", 2, h2, 40) == SR_PASSWORD_ERROR); /* does not fit */

    /* a record written by another scrypt implementation (Python's hashlib.scrypt,
     * password "pleaseletmein", salt "saltsaltsaltsalt", N=2^10, r=8, p=1) */
    const char *known = "scrypt$10$8$1$c2FsdHNhbHRzYWx0c2FsdA==$"
                        "eId7BTBGuklif4LNX1YGoJvQdllpHh+x8fuog6Rmd3I=";
    CHECK(sr_password_verify("pleaseletmein", 13, known) == SR_PASSWORD_OK);
    CHECK(sr_password_verify("pleaseletmeout", 14, known) == SR_PASSWORD_MISMATCH);

    /* malformed or absurd stored strings are refused before any work */
    const char *salt = "c2FsdHNhbHRzYWx0c2FsdA==";                     /* 16 bytes */
    const char *hash = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; /* 32 bytes */
    char rec[256];
    snprintf(rec, sizeof rec, "scrypt$10$1$1$%s$%s", salt, hash);
    CHECK(sr_password_verify("x", 1, rec) == SR_PASSWORD_MISMATCH); /* well-formed */
    const char *bad_params[] = {"scrypt$30$8$1$",  "scrypt$9$8$1$",   "scrypt$14$0$1$",
                                "scrypt$14$8$0$",  "scrypt$14$8$5$",  "scrypt$20$32$1$",
                                "scrypt$014$8$1$", "scrypt$14$8$$",   "scrypt$-1$8$1$",
                                "bcrypt$14$8$1$",  "scrypt$100$8$1$", "scrypt$14$8$1"};
    for (size_t i = 0; i < sizeof bad_params / sizeof bad_params[0]; i++) {
        snprintf(rec, sizeof rec, "%s%s$%s", bad_params[i], salt, hash);
        CHECK(sr_password_verify("x", 1, rec) == SR_PASSWORD_MALFORMED);
    }
    const char *bad[] = {
        "",
        "scrypt",
        "scrypt$14$8$1$c2FsdHNhbHRzYWx0c2FsdA==",                              /* no hash */
        "scrypt$14$8$1$c2FsdHNhbHRzYWx0c2FsdA==$",                             /* empty hash */
        "scrypt$14$8$1$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",         /* empty salt */
        "scrypt$14$8$1$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", /* 4-byte salt */
        "scrypt$14$8$1$c2FsdHNhbHRzYWx0c2FsdA==$AAAA",                         /* 3-byte hash */
        "scrypt$14$8$1$c2FsdHNhbHRzYWx0c2FsdA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$14$8$1$c2FsdHNhbHRzYWx0c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",
        "scrypt$14$8$1$c2FsdHNhbHRzYWx0c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*A=",
        "scrypt$14$8$1$c2FsdHNhbHRzYWx0c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$",
        "scrypt$14$8$1$c2Fs=HNhbHRzYWx0c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(sr_password_verify("x", 1, bad[i]) == SR_PASSWORD_MALFORMED);
    CHECK(sr_password_verify("x", 1, NULL) == SR_PASSWORD_MALFORMED);
    char huge[400];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    memcpy(huge, "scrypt$14$8$1$", 14);
    CHECK(sr_password_verify("x", 1, huge) == SR_PASSWORD_MALFORMED);
    printf("password: all checks took %.0f ms\n", (now() - t0) * 1e3);
    return check_done("password");
}

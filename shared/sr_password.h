/* sr_password.h - password hashing for the device-sync REST accounts.
 *
 * scrypt (OpenSSL 3, EVP_PBE_scrypt) rather than PBKDF2-HMAC-SHA256: scrypt is
 * memory-hard (128*N*r bytes per hash), so guessing on GPUs or ASICs costs far
 * more than the iteration count alone suggests, and it needs no extra library.
 *
 * The stored form describes itself, so parameters can be raised later without
 * breaking old accounts:
 *     scrypt$<log2 N>$<r>$<p>$<salt, base64>$<hash, base64>
 *     scrypt$14$8$1$Zm9vYmFyYmF6cXV4MTIzNA==$...
 * Defaults: N = 2^14, r = 8, p = 1 (16 MiB and about 30-60 ms a hash on one
 * core), 16-byte salt from the CSPRNG, 32-byte hash. A hash runs synchronously:
 * callers on the event loop should rate-limit login attempts. */
#ifndef SR_PASSWORD_H
#define SR_PASSWORD_H

#include <stddef.h>

#define SR_PASSWORD_LOG2N 14
#define SR_PASSWORD_R 8
#define SR_PASSWORD_P 1
/* Longest stored string this module writes or accepts, NUL included. */
#define SR_PASSWORD_STORED_MAX 160

enum sr_password_result {
    SR_PASSWORD_OK = 0,         /* the password matches */
    SR_PASSWORD_MISMATCH = -1,  /* well-formed, but another password */
    SR_PASSWORD_MALFORMED = -2, /* not our format, or parameters out of the accepted range */
    SR_PASSWORD_ERROR = -3,     /* the CSPRNG or the KDF failed (out of memory) */
};

/* Hashes password[0..len) with the default parameters into out (at least
 * SR_PASSWORD_STORED_MAX bytes). Returns SR_PASSWORD_OK or SR_PASSWORD_ERROR. */
int sr_password_hash(const char *password, size_t len, char *out, size_t cap);
/* The same with explicit parameters (tests, future upgrades). Parameters outside
 * the range sr_password_verify accepts are refused with SR_PASSWORD_MALFORMED. */
int sr_password_hash_params(const char *password, size_t len, unsigned log2n, unsigned r,
                            unsigned p, char *out, size_t cap);
/* Checks password[0..len) against a stored string, comparing in constant time.
 * Accepted parameters: 10 <= log2 N <= 20, 1 <= r <= 32, 1 <= p <= 4, and at most
 * 64 MiB of scrypt memory (128*N*r); salt 8..64 bytes; hash 16..64 bytes. Anything
 * else is SR_PASSWORD_MALFORMED, so a planted record cannot make a login burn
 * gigabytes or minutes. */
int sr_password_verify(const char *password, size_t len, const char *stored);

#endif

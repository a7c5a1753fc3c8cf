/* sr_password.c - scrypt password hashes in a self-describing string (see
 * sr_password.h). */
#include "sr_password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sr_random.h"

#define SALT_BYTES 16
#define HASH_BYTES 32
#define SALT_MIN 8
#define HASH_MIN 16
#define BLOB_MAX 64 /* largest salt or hash accepted */
#define MEM_MAX (64u << 20)

static int params_ok(unsigned log2n, unsigned r, unsigned p)
{
    if (log2n < 10 || log2n > 20 || r < 1 || r > 32 || p < 1 || p > 4) return 0;
    return 128ull * r * (1ull << log2n) <= MEM_MAX;
}

static int kdf(const char *password, size_t len, const unsigned char *salt, size_t salt_len,
               unsigned log2n, unsigned r, unsigned p, unsigned char *out, size_t out_len)
{
    /* maxmem must cover V (128*N*r) plus B (128*r*p); leave room for both. */
    uint64_t maxmem = 128ull * r * (1ull << log2n) + 128ull * r * p + (1u << 20);
    return EVP_PBE_scrypt(password, len, salt, salt_len, 1ull << log2n, r, p, maxmem, out,
                          out_len) == 1
               ? 0
               : -1;
}

/* Strict base64 (standard alphabet, padded, canonical): returns the decoded
 * length or -1. */
static int b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap + 2) return -1;
    size_t pad = (s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
    for (size_t i = 0; i < n - pad; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return -1;
    }
    unsigned char tmp[BLOB_MAX + 3];
    if (n / 4 * 3 > sizeof tmp) return -1;
    int len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
    if (len < 0 || (size_t)len < pad) return -1;
    len -= (int)pad;
    if ((size_t)len > cap) return -1;
    /* canonical: re-encoding gives the same text (no stray bits in the padding) */
    char again[(BLOB_MAX + 3) / 3 * 4 + 1];
    if (EVP_EncodeBlock((unsigned char *)again, tmp, len) != (int)n || memcmp(again, s, n) != 0)
        return -1;
    memcpy(out, tmp, (size_t)len);
    return len;
}

int sr_password_hash_params(const char *password, size_t len, unsigned log2n, unsigned r,
                            unsigned p, char *out, size_t cap)
{
    if (!params_ok(log2n, r, p)) return SR_PASSWORD_MALFORMED;
    unsigned char salt[SALT_BYTES], hash[HASH_BYTES];
    if (sr_random_bytes(salt, sizeof salt) < 0) return SR_PASSWORD_ERROR;
    if (kdf(password, len, salt, sizeof salt, log2n, r, p, hash, sizeof hash) < 0)
        return SR_PASSWORD_ERROR;
    char salt64[(SALT_BYTES + 2) / 3 * 4 + 1], hash64[(HASH_BYTES + 2) / 3 * 4 + 1];
    EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof salt);
    EVP_EncodeBlock((unsigned char *)hash64, hash, sizeof hash);
    OPENSSL_cleanse(hash, sizeof hash);
    int n = snprintf(out, cap, "scrypt$%u$%u$%u$%s$%s", log2n, r, p, salt64, hash64);
    return n > 0 && (size_t)n < cap ? SR_PASSWORD_OK : SR_PASSWORD_ERROR;
}

int sr_password_hash(const char *password, size_t len, char *out, size_t cap)
{
    return sr_password_hash_params(password, len, SR_PASSWORD_LOG2N, SR_PASSWORD_R, SR_PASSWORD_P,
                                   out, cap);
}

/* A small decimal field ending at '$': 1-2 digits, no leading zero. */
static int field_uint(const char **s, unsigned *out)
{
    const char *p = *s;
    unsigned v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 3) {
        v = v * 10 + (unsigned)(*p++ - '0');
        digits++;
    }
    if (digits == 0 || digits > 2 || *p != '$' || (digits > 1 && **s == '0')) return -1;
    *out = v;
    *s = p + 1;
    return 0;
}

int sr_password_verify(const char *password, size_t len, const char *stored)
{
    if (!stored || strlen(stored) >= SR_PASSWORD_STORED_MAX) return SR_PASSWORD_MALFORMED;
    if (strncmp(stored, "scrypt$", 7) != 0) return SR_PASSWORD_MALFORMED;
    const char *s = stored + 7;
    unsigned log2n, r, p;
    if (field_uint(&s, &log2n) < 0 || field_uint(&s, &r) < 0 || field_uint(&s, &p) < 0)
        return SR_PASSWORD_MALFORMED;
    if (!params_ok(log2n, r, p)) return SR_PASSWORD_MALFORMED;
    const char *dollar = strchr(s, '$');
    if (!dollar || strchr(dollar + 1, '$')) return SR_PASSWORD_MALFORMED;
    unsigned char salt[BLOB_MAX], want[BLOB_MAX], got[BLOB_MAX];
    int salt_len = b64_decode(s, (size_t)(dollar - s), salt, sizeof salt);
    int hash_len = b64_decode(dollar + 1, strlen(dollar + 1), want, sizeof want);
    if (salt_len < SALT_MIN || hash_len < HASH_MIN) return SR_PASSWORD_MALFORMED;
    if (kdf(password, len, salt, (size_t)salt_len, log2n, r, p, got, (size_t)hash_len) < 0)
        return SR_PASSWORD_ERROR;
    int same = CRYPTO_memcmp(got, want, (size_t)hash_len) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return same ? SR_PASSWORD_OK : SR_PASSWORD_MISMATCH;
}

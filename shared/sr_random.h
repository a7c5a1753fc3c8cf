/* sr_random.h - identifiers and codes from the CSPRNG (OpenSSL RAND_bytes). */
#ifndef SR_RANDOM_H
#define SR_RANDOM_H

#include <stddef.h>

/* Fills out with n random bytes; returns 0 or -1 when the CSPRNG fails. */
int sr_random_bytes(void *out, size_t n);
/* Writes n characters drawn uniformly (no modulo bias) from alphabet, then a NUL. */
int sr_random_code(char *out, size_t n, const char *alphabet);

#define SR_ALPHABET_HEX_UPPER "0123456789ABCDEF"
#define SR_ALPHABET_UPPER_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

#endif

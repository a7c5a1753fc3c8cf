/* sr_random.c - CSPRNG-backed codes. Rejection sampling keeps every
 * character of the alphabet equally likely. */
#include "sr_random.h"

#include <openssl/rand.h>
#include <string.h>

int sr_random_bytes(void *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int sr_random_code(char *out, size_t n, const char *alphabet)
{
    size_t k = strlen(alphabet);
    unsigned limit = 256 - (256 % (unsigned)k); /* largest multiple of k below 256 */
    unsigned char pool[64];
    size_t used = sizeof pool, i = 0;

    while (i < n) {
        if (used == sizeof pool) {
            if (sr_random_bytes(pool, sizeof pool) < 0) return -1;
            used = 0;
        }
        unsigned char r = pool[used++];
        if (r < limit) out[i++] = alphabet[r % k];
    }
    out[n] = '\0';
    return 0;
}

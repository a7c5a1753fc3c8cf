/* fuzz_resp.h - what the RESP-reading targets share. */
#ifndef SR_FUZZ_RESP_H
#define SR_FUZZ_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* hiredis allocates an aggregate's element array from its declared count
 * before any element arrives (0.14 without a limit, 1.x up to 2^32-1 elements
 * by default): "*455555555\r\n" is a 3.6 GB calloc (found by fuzz_resp).
 * Redis is trusted and the node talks to nothing else, so such inputs are
 * not read here. */
static inline bool declares_huge_aggregate(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!s[i] || !strchr("*%~>|", s[i]))
            continue; /* anywhere: bulk lengths move reply starts */
        unsigned long long count = 0;
        for (size_t j = i + 1; j < n && s[j] >= '0' && s[j] <= '9' && count < (1u << 20); j++)
            count = count * 10 + (unsigned)(s[j] - '0');
        if (count >= (1u << 20)) return true;
    }
    return false;
}

#endif

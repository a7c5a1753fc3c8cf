/* sr_utf8.c - see sr_utf8.h. Text messages are mostly ASCII JSON, so the
 * loop skips sixteen (SSE2) or eight bytes per step while their high bits
 * are clear and checks a multi-byte sequence only where one starts. */
#include "sr_utf8.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The length of the sequence starting at p (at most n bytes there), or 0. */
static size_t sequence(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0; /* overlong */
        if (c == 0xed) hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90; /* overlong */
        if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return len;
}

bool sr_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
#if defined(__SSE2__)
        if ((size_t)(end - p) >= 16 &&
            !_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)p))) {
            p += 16; /* sixteen ASCII bytes */
            continue;
        }
#endif
        if ((size_t)(end - p) >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (!(w & 0x8080808080808080ull)) {
                p += 8;
                continue;
            }
        }
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = sequence(p, (size_t)(end - p));
        if (!n) return false;
        p += n;
    }
    return true;
}

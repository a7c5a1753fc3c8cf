/* fuzz_envelope.c - the envelope codec (shared/sr_envelope.c) on arbitrary
 * bytes, as a channel or the log could hand them over; what parses is
 * written again and must read back the same (seq, from, to and frame). */
#include "sr_envelope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    sr_envelope e;
    if (sr_envelope_parse(&e, s, size) < 0) return 0;
    CHECK(e.from >= s && e.from + e.from_len <= s + size);
    CHECK(e.to >= s && e.to + e.to_len <= s + size);
    CHECK(e.frame >= s && e.frame + e.frame_len == s + size);
    sr_envelope_is_for(&e, "web");
    sr_envelope_is_for(&e, "");
    if (memchr(e.from, 0, e.from_len) || memchr(e.to, 0, e.to_len)) return 0;

    char from[256], to[256];
    if (e.from_len >= sizeof from || e.to_len >= sizeof to) return 0;
    memcpy(from, e.from, e.from_len);
    from[e.from_len] = '\0';
    memcpy(to, e.to, e.to_len);
    to[e.to_len] = '\0';
    sr_buf b;
    sr_buf_init(&b);
    sr_envelope_write(&b, e.kind, e.seq, from, to, e.frame, e.frame_len);
    sr_envelope again;
    CHECK(sr_envelope_parse(&again, b.data, b.len) == 0);
    CHECK(again.kind == e.kind && again.seq == e.seq);
    CHECK(again.from_len == e.from_len && !memcmp(again.from, e.from, e.from_len));
    CHECK(again.to_len == e.to_len && !memcmp(again.to, e.to, e.to_len));
    CHECK(again.frame_len == e.frame_len && !memcmp(again.frame, e.frame, e.frame_len));
    sr_buf_free(&b);
    return 0;
}

/* sr_envelope.c - envelope codec (see sr_envelope.h). */
#include "sr_envelope.h"

#include <string.h>

static bool digits(const char *s, size_t n, uint64_t *out)
{
    *out = 0;
    if (n == 0 || n > 19) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        *out = *out * 10 + (uint64_t)(s[i] - '0');
    }
    return true;
}

static const char *field(const char *p, const char *end, const char **start, size_t *len)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return NULL;
    *start = p;
    *len = (size_t)(nl - p);
    return nl + 1;
}

int sr_envelope_parse(sr_envelope *e, const char *s, size_t n)
{
    const char *p = s, *end = s + n, *seq;
    size_t kind_len, seq_len;
    const char *kind;

    if (!(p = field(p, end, &kind, &kind_len)) || kind_len == 0) return -1;
    e->time_us = 0;
    if (kind_len != 1 && (kind[1] != ' ' || !digits(kind + 2, kind_len - 2, &e->time_us)))
        return -1;
    if (!(p = field(p, end, &seq, &seq_len)) || !digits(seq, seq_len, &e->seq)) return -1;
    if (!(p = field(p, end, &e->from, &e->from_len))) return -1;
    if (!(p = field(p, end, &e->to, &e->to_len))) return -1;
    e->kind = kind[0];
    e->frame = p;
    e->frame_len = (size_t)(end - p);
    return 0;
}

void sr_envelope_write(sr_buf *b, char kind, uint64_t seq, const char *from, const char *to,
                       const char *frame, size_t frame_len)
{
    sr_buf_printf(b, "%c\n%llu\n%s\n%s\n", kind, (unsigned long long)seq, from, to);
    sr_buf_append(b, frame, frame_len);
}

bool sr_envelope_is_for(const sr_envelope *e, const char *member)
{
    size_t n = strlen(member);
    bool is_sender = e->from_len == n && memcmp(e->from, member, n) == 0;
    if (e->to_len == 1 && e->to[0] == '*') return !is_sender;
    if (e->to_len == 1 && e->to[0] == '@') return true;
    return e->to_len == n && memcmp(e->to, member, n) == 0;
}

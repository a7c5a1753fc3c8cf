/* sr_envelope.c - envelope codec (see sr_envelope.h). */
#include "sr_envelope.h"

#include <string.h>

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

    if (!(p = field(p, end, &kind, &kind_len)) || kind_len != 1) return -1;
    if (!(p = field(p, end, &seq, &seq_len)) || seq_len == 0 || seq_len > 19) return -1;
    if (!(p = field(p, end, &e->from, &e->from_len))) return -1;
    if (!(p = field(p, end, &e->to, &e->to_len))) return -1;
    e->kind = kind[0];
    e->seq = 0;
    for (size_t i = 0; i < seq_len; i++) {
        if (seq[i] < '0' || seq[i] > '9') return -1;
        e->seq = e->seq * 10 + (uint64_t)(seq[i] - '0');
    }
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

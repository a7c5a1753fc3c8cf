/* seqcheck.c - delivery checker (see seqcheck.h). */
#include "seqcheck.h"
#include "sr_alloc.h"
#include "sr_buf.h"

#include <stdlib.h>
#include <string.h>

/* A number this far past the highest one is garbage, not a message. */
#define SR_SEQCHECK_MAX_JUMP (1ull << 26)

void sr_seqcheck_init(sr_seqcheck *c)
{
    memset(c, 0, sizeof *c);
}

void sr_seqcheck_free(sr_seqcheck *c)
{
    free(c->bits);
    memset(c, 0, sizeof *c);
}

void sr_seqcheck_record(sr_seqcheck *c, uint64_t n)
{
    if (n == 0 || n > c->highest + SR_SEQCHECK_MAX_JUMP) {
        c->invalid++;
        return;
    }
    uint64_t i = n - 1;
    if (i >= c->nbits) {
        uint64_t words = c->nbits / 64, want = words ? words : 16;
        while (want * 64 <= i)
            want *= 2;
        c->bits = sr_xrealloc(c->bits, want * sizeof *c->bits);
        memset(c->bits + words, 0, (want - words) * sizeof *c->bits);
        c->nbits = want * 64;
    }
    uint64_t mask = 1ull << (i % 64);
    if (c->bits[i / 64] & mask) {
        c->duplicated++;
        return;
    }
    c->bits[i / 64] |= mask;
    c->distinct++;
    if (n < c->highest)
        c->out_of_order++;
    else
        c->highest = n;
}

uint64_t sr_seqcheck_lost(const sr_seqcheck *c, uint64_t sent)
{
    uint64_t got = 0;
    for (uint64_t i = 0; i < sent && i < c->nbits; i++)
        if (c->bits[i / 64] & (1ull << (i % 64))) got++;
    return sent - got;
}

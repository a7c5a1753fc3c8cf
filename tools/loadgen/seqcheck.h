/* seqcheck.h - checks one direction of a stream of numbered messages: the
 * sender numbers its messages 1, 2, 3...; the receiver records each number
 * it gets. Counts what arrived twice (duplicate), what arrived after a higher
 * number (out of order), and at the end, given how many were sent, what
 * never arrived (lost). One bit per message sent. */
#ifndef SR_SEQCHECK_H
#define SR_SEQCHECK_H

#include <stdint.h>

typedef struct sr_seqcheck {
    uint64_t *bits;
    uint64_t nbits;        /* capacity in messages */
    uint64_t distinct;     /* different numbers received */
    uint64_t highest;      /* highest number received */
    uint64_t duplicated;   /* receipts of a number already received */
    uint64_t out_of_order; /* first receipts of a number below the highest */
    uint64_t invalid;      /* 0, or absurdly far ahead */
} sr_seqcheck;

void sr_seqcheck_init(sr_seqcheck *c);
void sr_seqcheck_free(sr_seqcheck *c);
/* Records the receipt of number n (1-based). */
void sr_seqcheck_record(sr_seqcheck *c, uint64_t n);
/* Messages numbered 1..sent that never arrived. */
uint64_t sr_seqcheck_lost(const sr_seqcheck *c, uint64_t sent);

#endif

/* hist.c - log-linear histogram (see hist.h). */
#include "hist.h"
#include "sr_alloc.h"
#include "sr_buf.h"

#include <stdlib.h>
#include <string.h>

/* Bucket of v: exact below SR_HIST_SUB; above, the power of two e >= 6 and
 * the top 6 bits below the leading one. */
static unsigned bucket_of(uint64_t v)
{
    if (v < SR_HIST_SUB) return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 6..63 */
    unsigned sub = (unsigned)(v >> (e - 6)) & (SR_HIST_SUB - 1);
    return SR_HIST_SUB + (e - 6) * SR_HIST_SUB + sub;
}

/* The largest value that falls into bucket i. */
static uint64_t bucket_top(unsigned i)
{
    if (i < SR_HIST_SUB) return i;
    unsigned e = (i - SR_HIST_SUB) / SR_HIST_SUB + 6, sub = (i - SR_HIST_SUB) % SR_HIST_SUB;
    uint64_t low = ((uint64_t)(SR_HIST_SUB + sub)) << (e - 6);
    return low + ((uint64_t)1 << (e - 6)) - 1;
}

void sr_hist_init(sr_hist *h)
{
    memset(h, 0, sizeof *h);
    h->buckets = sr_xcalloc(SR_HIST_BUCKETS, sizeof *h->buckets);
    h->min = UINT64_MAX;
}

void sr_hist_free(sr_hist *h)
{
    free(h->buckets);
    h->buckets = NULL;
}

void sr_hist_reset(sr_hist *h)
{
    memset(h->buckets, 0, SR_HIST_BUCKETS * sizeof *h->buckets);
    h->count = h->sum = h->max = 0;
    h->min = UINT64_MAX;
}

void sr_hist_record(sr_hist *h, uint64_t v)
{
    h->buckets[bucket_of(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max) h->max = v;
    if (v < h->min) h->min = v;
}

void sr_hist_merge(sr_hist *dst, const sr_hist *src)
{
    for (unsigned i = 0; i < SR_HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->max > dst->max) dst->max = src->max;
    if (src->min < dst->min) dst->min = src->min;
}

uint64_t sr_hist_quantile(const sr_hist *h, double q)
{
    if (!h->count) return 0;
    if (q <= 0) return h->min;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > h->count) rank = h->count;
    uint64_t seen = 0;
    for (unsigned i = 0; i < SR_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t top = bucket_top(i);
            return top > h->max ? h->max : top;
        }
    }
    return h->max;
}

double sr_hist_mean(const sr_hist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

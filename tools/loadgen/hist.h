/* hist.h - a log-linear latency histogram (HdrHistogram's idea, fixed
 * precision): values below 64 are exact, larger ones fall into one of 64
 * buckets per power of two, so any reported percentile is within 1/64
 * (1.6 %) of the true value. Recording is a few instructions; no allocation
 * after sr_hist_init. Values are nanoseconds in the load generator. */
#ifndef SR_HIST_H
#define SR_HIST_H

#include <stdint.h>

#define SR_HIST_SUB 64
#define SR_HIST_BUCKETS (SR_HIST_SUB + 58 * SR_HIST_SUB)

typedef struct sr_hist {
    uint64_t count, sum, min, max;
    uint64_t *buckets; /* SR_HIST_BUCKETS counters */
} sr_hist;

void sr_hist_init(sr_hist *h);
void sr_hist_free(sr_hist *h);
void sr_hist_reset(sr_hist *h);
void sr_hist_record(sr_hist *h, uint64_t v);
/* Adds every sample of src to dst. */
void sr_hist_merge(sr_hist *dst, const sr_hist *src);
/* The value at quantile q (0..1): the upper end of the bucket holding the
 * ceil(q*count)-th smallest sample, capped at the exact maximum. 0 when empty. */
uint64_t sr_hist_quantile(const sr_hist *h, double q);
double sr_hist_mean(const sr_hist *h);

#endif

#include "check.h"
#include "hist.h"

#include <math.h>

/* Within the histogram's promised precision (1/64) of want. */
static int close_to(uint64_t got, double want)
{
    return fabs((double)got - want) <= want / 64.0 + 1.0;
}

int main(void)
{
    sr_hist h, g;
    sr_hist_init(&h);
    CHECK(sr_hist_quantile(&h, 0.5) == 0);
    for (uint64_t v = 1; v <= 10000; v++)
        sr_hist_record(&h, v * 1000); /* 1 us .. 10 ms in ns */
    CHECK(h.count == 10000 && h.min == 1000 && h.max == 10000000);
    CHECK(close_to(sr_hist_quantile(&h, 0.5), 5000000));
    CHECK(close_to(sr_hist_quantile(&h, 0.9), 9000000));
    CHECK(close_to(sr_hist_quantile(&h, 0.99), 9900000));
    CHECK(close_to(sr_hist_quantile(&h, 0.999), 9990000));
    CHECK(sr_hist_quantile(&h, 1.0) == 10000000);
    CHECK(sr_hist_quantile(&h, 0) == 1000);
    CHECK(fabs(sr_hist_mean(&h) - 5000500.0) < 1.0);
    /* exact below 64, and the quantile never exceeds the maximum */
    sr_hist_init(&g);
    for (uint64_t v = 0; v < 64; v++)
        sr_hist_record(&g, v);
    CHECK(sr_hist_quantile(&g, 0.5) == 31);
    CHECK(sr_hist_quantile(&g, 1.0) == 63);
    sr_hist_record(&g, UINT64_MAX / 2); /* large values land in range */
    CHECK(sr_hist_quantile(&g, 1.0) == UINT64_MAX / 2);
    /* merge */
    sr_hist_reset(&g);
    sr_hist_record(&g, 20000000);
    sr_hist_merge(&h, &g);
    CHECK(h.count == 10001 && h.max == 20000000);
    CHECK(sr_hist_quantile(&h, 1.0) == 20000000);
    sr_hist_free(&g);
    sr_hist_free(&h);
    return check_done("hist");
}

#include "check.h"
#include "seqcheck.h"

int main(void)
{
    sr_seqcheck c;
    sr_seqcheck_init(&c);
    for (uint64_t n = 1; n <= 100000; n++)
        sr_seqcheck_record(&c, n);
    CHECK(c.distinct == 100000 && c.duplicated == 0 && c.out_of_order == 0);
    CHECK(sr_seqcheck_lost(&c, 100000) == 0);
    CHECK(sr_seqcheck_lost(&c, 100002) == 2); /* two still missing */
    sr_seqcheck_free(&c);

    /* 1 2 4 3 3 6: 5 lost, 3 late, one 3 twice */
    sr_seqcheck_init(&c);
    uint64_t seq[] = {1, 2, 4, 3, 3, 6};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        sr_seqcheck_record(&c, seq[i]);
    CHECK(c.distinct == 5);
    CHECK(c.duplicated == 1);
    CHECK(c.out_of_order == 1);
    CHECK(c.highest == 6);
    CHECK(sr_seqcheck_lost(&c, 6) == 1);
    CHECK(sr_seqcheck_lost(&c, 7) == 2);
    sr_seqcheck_record(&c, 0);
    sr_seqcheck_record(&c, 1ull << 40);
    CHECK(c.invalid == 2 && c.distinct == 5);
    sr_seqcheck_free(&c);
    return check_done("seqcheck");
}

#include "check.h"
#include "sr_random.h"
#include "sr_token.h"

int main(void)
{
    char code[7], tok[SR_DTS_DIGITS + 1], out[SR_DTS_DIGITS + 1];
    int counts[36] = {0};
    for (int i = 0; i < 6000; i++) {
        CHECK(sr_random_code(code, 6, SR_ALPHABET_UPPER_ALNUM) == 0);
        for (int k = 0; k < 6; k++) {
            const char *p = strchr(SR_ALPHABET_UPPER_ALNUM, code[k]);
            if (p) counts[p - SR_ALPHABET_UPPER_ALNUM]++;
        }
    }
    for (int i = 0; i < 36; i++) /* 1000 expected each; far outside means bias */
        CHECK(counts[i] > 800 && counts[i] < 1200);

    CHECK(sr_token_dts_new(tok) == 0 && strlen(tok) == 12);
    for (int i = 0; i < 12; i++)
        CHECK(strchr("0123456789ABCDEF", tok[i]) != NULL);
    char other[SR_DTS_DIGITS + 1];
    sr_token_dts_new(other);
    CHECK(strcmp(tok, other) != 0);

    const char *ok[] = {"dts://A1B2C3D4E5F6", "a1b2c3d4e5f6", "  DTS://a1b2C3d4e5f6\n",
                        "A1B2C3D4E5F6 "};
    for (size_t i = 0; i < 4; i++) {
        CHECK(sr_token_dts_normalize(ok[i], strlen(ok[i]), out) == 0);
        CHECK_STR(out, "A1B2C3D4E5F6");
    }
    const char *bad[] = {"",
                         "dts://",
                         "dts://A1B2C3D4E5F",
                         "dts://A1B2C3D4E5F6A",
                         "dts://G1B2C3D4E5F6",
                         "http://A1B2C3D4E5F6",
                         "A1B2 C3D4E5F6"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(sr_token_dts_normalize(bad[i], strlen(bad[i]), out) == -1);
    return check_done("random");
}

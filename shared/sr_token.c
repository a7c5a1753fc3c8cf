/* sr_token.c - token-sync pairing tokens (see sr_token.h). */
#include "sr_token.h"
#include "sr_random.h"

#include <ctype.h>
#include <strings.h>

int sr_token_dts_new(char out[SR_DTS_DIGITS + 1])
{
    return sr_random_code(out, SR_DTS_DIGITS, SR_ALPHABET_HEX_UPPER);
}

int sr_token_dts_normalize(const char *in, size_t len, char out[SR_DTS_DIGITS + 1])
{
    const size_t plen = sizeof SR_DTS_PREFIX - 1;
    while (len && isspace((unsigned char)*in)) {
        in++;
        len--;
    }
    while (len && isspace((unsigned char)in[len - 1]))
        len--;
    if (len >= plen && !strncasecmp(in, SR_DTS_PREFIX, plen)) {
        in += plen;
        len -= plen;
    }
    if (len != SR_DTS_DIGITS) return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit((unsigned char)in[i])) return -1;
        out[i] = (char)toupper((unsigned char)in[i]);
    }
    out[len] = '\0';
    return 0;
}

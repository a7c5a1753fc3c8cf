/* sr_token.h - token-sync pairing tokens: "dts://" + 12 upper-case hex digits
 * (48 bits from the CSPRNG). Shared by the node and the load generator. */
#ifndef SR_TOKEN_H
#define SR_TOKEN_H

#include <stddef.h>

#define SR_DTS_PREFIX "dts://"
#define SR_DTS_DIGITS 12

/* Writes 12 random upper-case hex digits and a NUL. Returns 0 or -1. */
int sr_token_dts_new(char out[SR_DTS_DIGITS + 1]);
/* Accepts the token as a user may paste it: any case, with or without
 * "dts://", surrounded by white space. Writes the canonical 12 digits.
 * Returns 0, or -1 when it is not a token. */
int sr_token_dts_normalize(const char *in, size_t len, char out[SR_DTS_DIGITS + 1]);

#endif

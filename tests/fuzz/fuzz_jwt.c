/* fuzz_jwt.c - JWT parsing and verification (shared/sr_jwt.c) with fixed
 * keys. The first byte picks the key (HS256 or RS256), the rules, and the
 * mode: verify the rest as a token, or sign "header\npayload" with the HS256
 * key (the fuzzer cannot forge signatures, so this is how the claim checks
 * behind the signature get explored) and verify that. The rest also goes
 * through the base64url decoder, whose output must encode back to the input. */
#include "fuzz_keys.h"
#include "sr_jwt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

static sr_jwt_key *hs256, *rs256;

static void setup(void)
{
    char err[256];
    hs256 = sr_jwt_key_hs256(FUZZ_HS256_SECRET, strlen(FUZZ_HS256_SECRET), err, sizeof err);
    rs256 = sr_jwt_key_rs256_pem(fuzz_rs256_public_pem, NULL, err, sizeof err);
    if (!hs256 || !rs256) abort();
}

static int verify(const sr_jwt_key *key, const char *token, size_t len, const sr_jwt_rules *rules)
{
    json_t *claims = (json_t *)1;
    int rc = sr_jwt_verify(key, token, len, rules, &claims);
    CHECK(rc <= 0 && sr_jwt_strerror(rc) != NULL);
    CHECK(rc == 0 ? json_is_object(claims) : claims == NULL);
    if (rc == 0 && rules->subject_claim) {
        const char *sub = json_string_value(json_object_get(claims, rules->subject_claim));
        CHECK(sub && sub[0]);
    }
    json_decref(claims);
    return rc;
}

static void base64url(const char *s, size_t n)
{
    sr_buf raw, text;
    sr_buf_init(&raw);
    sr_buf_init(&text);
    if (sr_b64url_decode(&raw, s, n) == 0) {
        sr_b64url_encode(&text, raw.data, raw.len);
        CHECK(text.len == n && !memcmp(text.data, s, n));
    } else {
        CHECK(raw.len == 0);
    }
    sr_buf_free(&raw);
    sr_buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!hs256) setup();
    if (size < 1) return 0;
    uint8_t mode = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    sr_jwt_rules rules = {
        .subject_claim = (mode & 4) ? ((mode & 16) ? "sub" : "userId") : NULL,
        .leeway = (mode & 8) ? 30 : 0,
        .now = 1700000000,
    };
    base64url(s, n);
    if (!(mode & 2)) {
        verify((mode & 1) ? rs256 : hs256, s, n, &rules);
        return 0;
    }
    const char *nl = memchr(s, '\n', n);
    if (!nl) return 0;
    char *token = NULL;
    if (sr_jwt_sign_raw(hs256, s, (size_t)(nl - s), nl + 1, n - (size_t)(nl - s) - 1, &token) ==
        0) {
        verify(hs256, token, strlen(token), &rules);
        CHECK(verify(rs256, token, strlen(token), &rules) < 0); /* the wrong key */
        free(token);
    }
    return 0;
}

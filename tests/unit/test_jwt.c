/* test_jwt.c - base64url, key loading, RS256/HS256 sign and verify, and every
 * refusal. Run by test_jwt.sh, which makes the keys in the directory given as
 * the one argument (see that script for what each file is). */
#include "check.h"
#include "sr_alloc.h"
#include "sr_jwt.h"

#include <stdlib.h>

#define NOW 1700000100LL
#define HDR_RS "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define HDR_HS "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static const char *dir;

static char *path(const char *name)
{
    static char buf[4][1024];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static char *slurp(const char *name)
{
    FILE *f = fopen(path(name), "rb");
    if (!f) return NULL;
    sr_buf b;
    sr_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sr_buf_append(&b, chunk, n);
    fclose(f);
    return b.data;
}

/* A token over these exact header and payload texts. */
static char *raw(const sr_jwt_key *k, const char *header, const char *payload)
{
    char *t = NULL;
    CHECK(sr_jwt_sign_raw(k, header, strlen(header), payload, strlen(payload), &t) == 0);
    return t;
}

/* Verifies with subject "userId" at NOW; returns the code, frees the claims. */
static int verify_at(const sr_jwt_key *k, const char *token, long long now, int leeway)
{
    sr_jwt_rules rules = {.subject_claim = "userId", .now = now, .leeway = leeway};
    json_t *claims = (json_t *)1;
    int rc = sr_jwt_verify(k, token, strlen(token), &rules, &claims);
    CHECK(rc == 0 ? claims != NULL : claims == NULL);
    json_decref(claims);
    return rc;
}

static int verify(const sr_jwt_key *k, const char *token)
{
    return verify_at(k, token, NOW, 0);
}

/* verify(k, token) == want, then frees token. */
static void expect(const sr_jwt_key *k, char *token, int want)
{
    int got = verify(k, token);
    if (got != want)
        fprintf(stderr, "  token %.80s: got %d (%s), want %d\n", token, got, sr_jwt_strerror(got),
                want);
    CHECK(got == want);
    free(token);
}

static char *b64(const char *s)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_b64url_encode(&b, s, strlen(s));
    return b.data ? b.data : sr_xstrdup("");
}

/* header.payload.sig from texts, unsigned: for tokens no key would make. */
static char *unsigned_token(const char *header, const char *payload, const char *sig)
{
    char *h = b64(header), *p = b64(payload);
    sr_buf t;
    sr_buf_init(&t);
    sr_buf_printf(&t, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);
    return t.data;
}

static void test_base64url(void)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        sr_buf b;
        sr_buf_init(&b);
        sr_b64url_encode(&b, plain[i], strlen(plain[i]));
        CHECK(b.len == strlen(coded[i]) && (!b.len || !strcmp(b.data, coded[i])));
        sr_buf_reset(&b);
        CHECK(sr_b64url_decode(&b, coded[i], strlen(coded[i])) == 0);
        CHECK(b.len == strlen(plain[i]) && (!b.len || !memcmp(b.data, plain[i], b.len)));
        sr_buf_free(&b);
    }
    /* The URL-safe characters, not + and /. */
    sr_buf b;
    sr_buf_init(&b);
    sr_b64url_encode(&b, "\xfb\xff\xbf", 3);
    CHECK_STR(b.data, "-_-_");
    sr_buf_reset(&b);
    /* Round trips of every length up to 70 and every byte value. */
    unsigned char bytes[70];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof bytes; n++) {
        sr_buf enc, dec;
        sr_buf_init(&enc);
        sr_buf_init(&dec);
        sr_b64url_encode(&enc, bytes, n);
        CHECK(enc.len == (4 * n + 2) / 3);
        CHECK(sr_b64url_decode(&dec, enc.data ? enc.data : "", enc.len) == 0);
        CHECK(dec.len == n && (!n || !memcmp(dec.data, bytes, n)));
        sr_buf_free(&enc);
        sr_buf_free(&dec);
    }
    /* Strict: padding, the standard alphabet, white space, impossible
     * lengths and non-zero unused bits are all refused, leaving out alone. */
    const char *bad[] = {"Zg==",  "Zm8=",   "Zg=", "Z=g", "Z",   "Zm9vY",  "Zm9v+A",  "Zm9v/A",
                         "Zm 9v", "Zm9v\n", "Zh",  "Zm8", "Zm8", "Zm9vYh", "Zm9vYmF", "Zm9\x80"};
    sr_buf_append(&b, "xy", 2);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sr_b64url_decode(&b, bad[i], strlen(bad[i]));
        if (i == 11 || i == 12) { /* "Zm8" itself is fine: the control */
            CHECK(rc == 0);
            b.len = 2;
            continue;
        }
        if (rc != -1) fprintf(stderr, "  accepted bad base64url \"%s\"\n", bad[i]);
        CHECK(rc == -1 && b.len == 2);
    }
    /* "Zh": 'h' leaves bits set past the one byte; "Zm9vYh", "Zm9vYmF" likewise. */
    sr_buf_free(&b);
}

static void test_keys(void)
{
    char err[400];
    sr_jwt_key *k;
    /* Loadable forms: PKCS#8 + SPKI pair, private only, public only, PKCS#1 both ways. */
    CHECK((k = sr_jwt_key_rs256_files(path("pub.pem"), path("priv.pem"), err, sizeof err)));
    char *pub_text = slurp("pub.pem");
    CHECK(pub_text && k && !strcmp(sr_jwt_key_public_pem(k), pub_text));
    CHECK(k && sr_jwt_key_can_sign(k) && !strcmp(sr_jwt_key_alg(k), "RS256"));
    sr_jwt_key_free(k);
    CHECK((k = sr_jwt_key_rs256_files(NULL, path("priv.pem"), err, sizeof err)));
    CHECK(k && pub_text && !strcmp(sr_jwt_key_public_pem(k), pub_text) && sr_jwt_key_can_sign(k));
    sr_jwt_key_free(k);
    CHECK((k = sr_jwt_key_rs256_files(path("pub.pem"), NULL, err, sizeof err)));
    CHECK(k && !sr_jwt_key_can_sign(k));
    json_t *claims = json_pack("{s:s}", "userId", "u");
    char *t = (char *)1;
    CHECK(k && sr_jwt_sign(k, claims, &t) == SR_JWT_KEY && t == NULL);
    json_decref(claims);
    sr_jwt_key_free(k);
    free(pub_text);
    CHECK((k = sr_jwt_key_rs256_files(path("other-pub-pkcs1.pem"), path("other-priv.pem"), err,
                                      sizeof err)));
    sr_jwt_key_free(k);

    /* Refused, each with a message. */
    struct {
        const char *pub, *priv, *says;
    } bad[] = {
        {"pub.pem", "other-priv.pem", "other half"}, {NULL, "small-priv.pem", "1024 bits"},
        {NULL, "encrypted-priv.pem", "private key"}, {NULL, "ec-priv.pem", "private key"},
        {"garbage.pem", NULL, "public key"},         {"missing.pem", NULL, "cannot open"},
        {"priv.pem", "missing.pem", "cannot open"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        k = sr_jwt_key_rs256_files(bad[i].pub ? path(bad[i].pub) : NULL,
                                   bad[i].priv ? path(bad[i].priv) : NULL, err, sizeof err);
        if (k || !strstr(err, bad[i].says))
            fprintf(stderr, "  key case %zu: %s (want \"%s\")\n", i, k ? "loaded" : err,
                    bad[i].says);
        CHECK(!k && strstr(err, bad[i].says));
        sr_jwt_key_free(k);
    }
    CHECK(!sr_jwt_key_rs256_files(NULL, NULL, err, sizeof err));
    CHECK(!sr_jwt_key_rs256_pem(NULL, NULL, err, sizeof err));
    CHECK(!sr_jwt_key_hs256("", 0, err, sizeof err));

    /* An ephemeral pair: its public PEM, loaded elsewhere, verifies its tokens. */
    sr_jwt_key *gen = sr_jwt_key_rs256_generate(err, sizeof err);
    CHECK(gen && sr_jwt_key_can_sign(gen));
    const char *pem = gen ? sr_jwt_key_public_pem(gen) : "";
    CHECK(!strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27));
    sr_jwt_key *pub = sr_jwt_key_rs256_pem(pem, NULL, err, sizeof err);
    CHECK(pub && !sr_jwt_key_can_sign(pub));
    if (gen && pub) {
        expect(pub, raw(gen, HDR_RS, "{\"userId\":\"u1\"}"), 0);
        sr_jwt_key *gen2 = sr_jwt_key_rs256_generate(err, sizeof err);
        CHECK(gen2 && strcmp(sr_jwt_key_public_pem(gen2), pem) != 0);
        if (gen2) expect(pub, raw(gen2, HDR_RS, "{\"userId\":\"u1\"}"), SR_JWT_BAD_SIGNATURE);
        sr_jwt_key_free(gen2);
    }
    sr_jwt_key_free(pub);
    sr_jwt_key_free(gen);
}

static void test_rs256(sr_jwt_key *rs, sr_jwt_key *rs_pub, sr_jwt_key *other)
{
    /* sign -> verify, claims back as given. */
    json_t *in =
        json_pack("{s:s,s:s,s:s,s:I,s:I}", "userId", "user_123", "email", "john@example.com",
                  "displayName", "John", "iat", NOW, "exp", NOW + 3600);
    char *t = NULL;
    CHECK(sr_jwt_sign(rs, in, &t) == 0 && t);
    sr_jwt_rules rules = {.subject_claim = "userId", .now = NOW};
    json_t *out = NULL;
    CHECK(t && sr_jwt_verify(rs_pub, t, strlen(t), &rules, &out) == 0);
    CHECK(out && json_equal(in, out));
    CHECK(out && !strcmp(json_string_value(json_object_get(out, "displayName")), "John"));
    json_decref(out);
    json_t *arr = json_array();
    char *none = (char *)1;
    CHECK(sr_jwt_sign(rs, arr, &none) == SR_JWT_MALFORMED && !none);
    json_decref(arr);
    /* The header is exactly jsonwebtoken's. */
    char *h = b64(HDR_RS);
    CHECK(t && !strncmp(t, h, strlen(h)) && t[strlen(h)] == '.');
    free(h);
    /* No rules: judged by time(NULL), long after this exp. */
    CHECK(t && sr_jwt_verify(rs, t, strlen(t), NULL, &out) == SR_JWT_EXPIRED && !out);
    /* Bad signatures: another key's, a flipped signature byte, a changed payload. */
    expect(other, sr_xstrdup(t), SR_JWT_BAD_SIGNATURE);
    char *flip = sr_xstrdup(t);
    char *c = strrchr(flip, '.') + 10;
    *c = *c == 'A' ? 'B' : 'A';
    expect(rs, flip, SR_JWT_BAD_SIGNATURE);
    /* Another payload under this token's header and signature. */
    char *forged = raw(other, HDR_RS, "{\"userId\":\"admin\"}");
    sr_buf sp;
    sr_buf_init(&sp);
    sr_buf_append(&sp, t, (size_t)(strchr(t, '.') + 1 - t));
    sr_buf_append(&sp, strchr(forged, '.') + 1,
                  (size_t)(strrchr(forged, '.') - strchr(forged, '.') - 1));
    sr_buf_append_str(&sp, strrchr(t, '.'));
    expect(rs, sp.data, SR_JWT_BAD_SIGNATURE);
    free(forged);
    /* A signature one byte short of the RSA block (342 -> 340 characters). */
    char *trunc = sr_xstrdup(t);
    trunc[strlen(trunc) - 2] = 0;
    expect(rs, trunc, SR_JWT_BAD_SIGNATURE);
    free(t);
    json_decref(in);
}

static void test_hs256(sr_jwt_key *rs)
{
    char err[200];
    sr_jwt_key *hs = sr_jwt_key_hs256("s3cret", 6, err, sizeof err);
    sr_jwt_key *hs2 = sr_jwt_key_hs256("s3cres", 6, err, sizeof err);
    CHECK(hs && hs2 && sr_jwt_key_can_sign(hs) && !sr_jwt_key_public_pem(hs));
    CHECK(hs && !strcmp(sr_jwt_key_alg(hs), "HS256"));
    json_t *in = json_pack("{s:s,s:I}", "userId", "dev-1", "exp", NOW + 60);
    char *t = NULL;
    CHECK(sr_jwt_sign(hs, in, &t) == 0 && t);
    json_decref(in);
    expect(hs, sr_xstrdup(t), 0);
    expect(hs2, sr_xstrdup(t), SR_JWT_BAD_SIGNATURE);
    /* An HS256 key refuses RSA-signed tokens as algorithm confusion. */
    expect(hs, raw(rs, HDR_RS, "{\"userId\":\"u\"}"), SR_JWT_ALG_CONFUSION);
    free(t);
    /* The well-known example token (secret "your-256-bit-secret"), subject "sub". */
    sr_jwt_key *ex = sr_jwt_key_hs256("your-256-bit-secret", 19, err, sizeof err);
    const char *jwtio = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZ"
                        "SI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6"
                        "yJV_adQssw5c";
    sr_jwt_rules sub = {.subject_claim = "sub", .now = NOW};
    json_t *out = NULL;
    CHECK(ex && sr_jwt_verify(ex, jwtio, strlen(jwtio), &sub, &out) == 0);
    CHECK(out && !strcmp(json_string_value(json_object_get(out, "sub")), "1234567890"));
    json_decref(out);
    CHECK(ex && verify(ex, jwtio) == SR_JWT_BAD_SUBJECT); /* no userId in it */
    sr_jwt_key_free(ex);
    sr_jwt_key_free(hs);
    sr_jwt_key_free(hs2);
}

static void test_refusals(sr_jwt_key *rs)
{
    char err[200];
    const char *claims = "{\"userId\":\"u\"}";
    /* alg none, in any spelling, with or without a signature part. */
    expect(rs, unsigned_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, ""), SR_JWT_ALG_NONE);
    expect(rs, unsigned_token("{\"alg\":\"None\"}", claims, ""), SR_JWT_ALG_NONE);
    expect(rs, unsigned_token("{\"alg\":\"NONE\"}", claims, "c2ln"), SR_JWT_ALG_NONE);
    /* Algorithm confusion: HS256 with the RSA public key PEM as its secret. */
    const char *pem = sr_jwt_key_public_pem(rs);
    sr_jwt_key *evil = sr_jwt_key_hs256(pem, strlen(pem), err, sizeof err);
    expect(rs, raw(evil, HDR_HS, claims), SR_JWT_ALG_CONFUSION);
    expect(rs, raw(evil, "{\"alg\":\"HS512\"}", claims), SR_JWT_ALG_CONFUSION);
    sr_jwt_key_free(evil);
    /* Other algorithms, even with a valid RS256 signature under them. */
    const char *algs[] = {"RS512", "RS384", "PS256", "ES256", "rs256", "RS256 ", "EdDSA", ""};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        char hdr[100];
        snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", algs[i]);
        expect(rs, raw(rs, hdr, claims), SR_JWT_ALG_UNEXPECTED);
    }
    /* Malformed structure, base64url, JSON. */
    const char *shapes[] = {"", "abc", "a.b", "a.b.c.d", "..", "eyJ9.eyJ9.eyJ9", "e\x01.a.b"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        expect(rs, sr_xstrdup(shapes[i]), SR_JWT_MALFORMED);
    const char *headers[] = {"{\"typ\":\"JWT\"}",
                             "{\"alg\":256}",
                             "{\"alg\":null}",
                             "[\"RS256\"]",
                             "\"RS256\"",
                             "{\"alg\":\"RS256\"",
                             "{\"alg\":\"RS256\",\"alg\":\"none\"}",
                             "{\"alg\":\"RS256\",\"crit\":[\"exp\"]}"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        expect(rs, raw(rs, headers[i], claims), SR_JWT_MALFORMED);
    const char *payloads[] = {
        "",      "not json",          "[1,2]",
        "\"u\"", "{\"userId\":\"u\"", "{\"userId\":\"u\",\"userId\":\"admin\"}"};
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
        expect(rs, raw(rs, HDR_RS, payloads[i]), SR_JWT_MALFORMED);
    /* A good token made bad by padding, a stray character, an empty signature, length. */
    char *good = raw(rs, HDR_RS, claims);
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_printf(&b, "%s=", good);
    expect(rs, sr_xstrdup(b.data), SR_JWT_MALFORMED);
    sr_buf_reset(&b);
    sr_buf_printf(&b, " %s", good);
    expect(rs, sr_xstrdup(b.data), SR_JWT_MALFORMED);
    sr_buf_reset(&b);
    sr_buf_append(&b, good, (size_t)(strrchr(good, '.') + 1 - good));
    expect(rs, sr_xstrdup(b.data), SR_JWT_MALFORMED);
    sr_buf_reset(&b);
    char big[SR_JWT_MAX_TOKEN];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sr_buf_printf(&b, "{\"userId\":\"u\",\"pad\":\"%s\"}", big);
    expect(rs, raw(rs, HDR_RS, b.data), SR_JWT_MALFORMED);
    sr_buf_free(&b);
    expect(rs, good, 0);

    /* exp, nbf and the leeway (exp is exclusive, nbf inclusive, as jsonwebtoken). */
    char pl[200];
    snprintf(pl, sizeof pl, "{\"userId\":\"u\",\"exp\":%lld}", NOW - 1);
    expect(rs, raw(rs, HDR_RS, pl), SR_JWT_EXPIRED);
    snprintf(pl, sizeof pl, "{\"userId\":\"u\",\"exp\":%lld}", NOW);
    expect(rs, raw(rs, HDR_RS, pl), SR_JWT_EXPIRED);
    snprintf(pl, sizeof pl, "{\"userId\":\"u\",\"exp\":%lld}", NOW + 1);
    expect(rs, raw(rs, HDR_RS, pl), 0);
    snprintf(pl, sizeof pl, "{\"userId\":\"u\",\"exp\":%lld.5}", NOW);
    expect(rs, raw(rs, HDR_RS, pl), 0);
    snprintf(pl, sizeof pl, "{\"userId\":\"u\",\"exp\":%lld}", NOW - 5);
    char *t = raw(rs, HDR_RS, pl);
    CHECK(verify_at(rs, t, NOW, 5) == SR_JWT_EXPIRED);
    CHECK(verify_at(rs, t, NOW, 6) == 0);
    free(t);
    snprintf(pl, sizeof pl, "{\"userId\":\"u\",\"nbf\":%lld}", NOW + 1);
    expect(rs, raw(rs, HDR_RS, pl), SR_JWT_NOT_YET_VALID);
    snprintf(pl, sizeof pl, "{\"userId\":\"u\",\"nbf\":%lld}", NOW);
    expect(rs, raw(rs, HDR_RS, pl), 0);
    snprintf(pl, sizeof pl, "{\"userId\":\"u\",\"nbf\":%lld}", NOW + 3);
    t = raw(rs, HDR_RS, pl);
    CHECK(verify_at(rs, t, NOW, 2) == SR_JWT_NOT_YET_VALID);
    CHECK(verify_at(rs, t, NOW, 3) == 0);
    free(t);
    const char *bad_times[] = {"{\"userId\":\"u\",\"exp\":\"4102444800\"}",
                               "{\"userId\":\"u\",\"nbf\":null}", "{\"userId\":\"u\",\"iat\":[]}"};
    for (size_t i = 0; i < 3; i++)
        expect(rs, raw(rs, HDR_RS, bad_times[i]), SR_JWT_BAD_CLAIM);

    /* The subject claim: present, a non-empty string, no NUL. */
    const char *subjects[] = {"{}",
                              "{\"sub\":\"u\"}",
                              "{\"userId\":7}",
                              "{\"userId\":null}",
                              "{\"userId\":\"\"}",
                              "{\"userId\":[\"u\"]}",
                              "{\"userId\":\"u\\u0000admin\"}"};
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        int want = i == 6 ? SR_JWT_MALFORMED : SR_JWT_BAD_SUBJECT; /* jansson refuses \u0000 */
        expect(rs, raw(rs, HDR_RS, subjects[i]), want);
    }
}

/* The token test_jwt.sh made like jsonwebtoken: RS256, iat, exp one hour on. */
static void test_node_token(sr_jwt_key *rs, sr_jwt_key *rs_pub)
{
    char *t = slurp("node-token.txt");
    CHECK(t != NULL);
    if (!t) return;
    json_t *out = NULL;
    sr_jwt_rules rules = {.subject_claim = "userId", .now = NOW};
    CHECK(sr_jwt_verify(rs_pub, t, strlen(t), &rules, &out) == 0);
    CHECK(out && !strcmp(json_string_value(json_object_get(out, "email")), "dev@example.com"));
    CHECK(out && !strcmp(json_string_value(json_object_get(out, "displayName")), "Developer"));
    json_decref(out);
    CHECK(verify_at(rs_pub, t, 1700003600, 0) == SR_JWT_EXPIRED);
    CHECK(verify_at(rs_pub, t, 1700003600, 1) == 0);
    free(t);
    /* And one of ours for test_jwt.sh to check with openssl dgst -verify. */
    json_t *in = json_pack("{s:s,s:s,s:s}", "userId", "user_123", "email", "dev@example.com",
                           "displayName", "Developer");
    FILE *f = fopen(path("ours-token.txt"), "w");
    CHECK(f && sr_jwt_sign(rs, in, &t) == 0);
    if (f && t) fputs(t, f);
    if (f) fclose(f);
    free(t);
    json_decref(in);
}

static void test_strerror(void)
{
    for (int a = SR_JWT_INTERNAL; a <= 0; a++) {
        CHECK(strlen(sr_jwt_strerror(a)) > 1);
        for (int b = SR_JWT_INTERNAL; b < a; b++)
            CHECK(strcmp(sr_jwt_strerror(a), sr_jwt_strerror(b)) != 0);
    }
    CHECK_STR(sr_jwt_strerror(-99), "unknown error");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_jwt KEY-DIR (run it through test_jwt.sh)\n");
        return 2;
    }
    dir = argv[1];
    char err[400];
    sr_jwt_key *rs = sr_jwt_key_rs256_files(path("pub.pem"), path("priv.pem"), err, sizeof err);
    sr_jwt_key *rs_pub = sr_jwt_key_rs256_files(path("pub.pem"), NULL, err, sizeof err);
    sr_jwt_key *other = sr_jwt_key_rs256_files(NULL, path("other-priv.pem"), err, sizeof err);
    if (!rs || !rs_pub || !other) {
        fprintf(stderr, "test_jwt: keys: %s\n", err);
        return 1;
    }
    test_base64url();
    test_keys();
    test_rs256(rs, rs_pub, other);
    test_hs256(rs);
    test_refusals(rs);
    test_node_token(rs, rs_pub);
    test_strerror();
    sr_jwt_key_free(rs);
    sr_jwt_key_free(rs_pub);
    sr_jwt_key_free(other);
    return check_done("jwt");
}

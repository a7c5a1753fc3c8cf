/* sr_jwt.c - JWT verify and sign (RS256, HS256), base64url, key loading. */
#include "sr_jwt.h"
#include "sr_alloc.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SR_JWT_MIN_RSA_BITS 2048
/* jansson's decoding flag that refuses an object naming one member twice
 * (value 0x1 since jansson 2.1; test_jwt checks the refusal). */
#define SR_JSON_UNIQUE_NAMES 0x1

enum key_alg { KEY_RS256, KEY_HS256 };

struct sr_jwt_key {
    enum key_alg alg;
    EVP_PKEY *pkey;   /* RS256: the private key when known, else the public key */
    bool has_private; /* RS256 */
    char *public_pem; /* RS256 */
    unsigned char *secret;
    size_t secret_len; /* HS256 */
};

const char *sr_jwt_strerror(int code)
{
    switch (code) {
    case SR_JWT_OK:
        return "ok";
    case SR_JWT_MALFORMED:
        return "malformed token";
    case SR_JWT_ALG_NONE:
        return "unsigned token (alg none) refused";
    case SR_JWT_ALG_CONFUSION:
        return "token algorithm does not match the key type";
    case SR_JWT_ALG_UNEXPECTED:
        return "token algorithm not accepted";
    case SR_JWT_BAD_SIGNATURE:
        return "invalid signature";
    case SR_JWT_EXPIRED:
        return "token expired";
    case SR_JWT_NOT_YET_VALID:
        return "token not yet valid";
    case SR_JWT_BAD_CLAIM:
        return "exp, nbf or iat is not a number";
    case SR_JWT_BAD_SUBJECT:
        return "subject claim missing or not a string";
    case SR_JWT_KEY:
        return "key cannot sign";
    case SR_JWT_INTERNAL:
        return "internal error";
    default:
        return "unknown error";
    }
}

/* ---- base64url ---- */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void sr_b64url_encode(sr_buf *out, const void *data, size_t n)
{
    const unsigned char *p = data;
    sr_buf_reserve(out, (n + 2) / 3 * 4 + 1);
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = b64url_alphabet[v >> 18 & 63];
        *o++ = b64url_alphabet[v >> 12 & 63];
        *o++ = b64url_alphabet[v >> 6 & 63];
        *o++ = b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        *o++ = b64url_alphabet[v >> 18 & 63];
        *o++ = b64url_alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        *o++ = b64url_alphabet[v >> 18 & 63];
        *o++ = b64url_alphabet[v >> 12 & 63];
        *o++ = b64url_alphabet[v >> 6 & 63];
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

int sr_b64url_decode(sr_buf *out, const char *in, size_t len)
{
    if (len % 4 == 1) return -1; /* 6 bits cannot make a byte */
    sr_buf_reserve(out, len / 4 * 3 + 3);
    unsigned char *o = (unsigned char *)out->data + out->len;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (unsigned char)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1)) return -1; /* non-zero unused bits */
    out->len = (size_t)((char *)o - out->data);
    out->data[out->len] = '\0';
    return 0;
}

/* ---- keys ---- */

static void set_err(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char detail[200] = "";
    if (e) ERR_error_string_n(e, detail, sizeof detail);
    ERR_clear_error();
    snprintf(err, errlen, "%s%s%s", what, detail[0] ? ": " : "", detail);
}

static EVP_PKEY *decode_pem(const char *pem, int selection)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", selection, NULL, NULL);
    if (!dctx) return NULL;
    /* An encrypted key fails here instead of prompting on the terminal. */
    OSSL_DECODER_CTX_set_passphrase(dctx, (const unsigned char *)"", 0);
    const unsigned char *p = (const unsigned char *)pem;
    size_t n = strlen(pem);
    if (!OSSL_DECODER_from_data(dctx, &p, &n)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

static char *public_pem_of(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *text = NULL, *data;
    if (bio && PEM_write_bio_PUBKEY(bio, pkey)) {
        long n = BIO_get_mem_data(bio, &data);
        text = sr_xmalloc((size_t)n + 1);
        memcpy(text, data, (size_t)n);
        text[n] = '\0';
    }
    BIO_free(bio);
    return text;
}

/* Takes ownership of pkey. */
static sr_jwt_key *rs256_key(EVP_PKEY *pkey, bool has_private, char *err, size_t errlen)
{
    if (EVP_PKEY_get_bits(pkey) < SR_JWT_MIN_RSA_BITS) {
        snprintf(err, errlen, "RSA key has %d bits; RS256 needs at least %d",
                 EVP_PKEY_get_bits(pkey), SR_JWT_MIN_RSA_BITS);
        EVP_PKEY_free(pkey);
        return NULL;
    }
    char *pem = public_pem_of(pkey);
    if (!pem) {
        set_err(err, errlen, "cannot write the public key as PEM");
        EVP_PKEY_free(pkey);
        return NULL;
    }
    sr_jwt_key *k = sr_xcalloc(1, sizeof *k);
    k->alg = KEY_RS256;
    k->pkey = pkey;
    k->has_private = has_private;
    k->public_pem = pem;
    return k;
}

sr_jwt_key *sr_jwt_key_rs256_pem(const char *public_pem, const char *private_pem, char *err,
                                 size_t errlen)
{
    EVP_PKEY *pub = NULL, *priv = NULL;
    if (!public_pem && !private_pem) {
        snprintf(err, errlen, "no RSA key given");
        return NULL;
    }
    if (public_pem && !(pub = decode_pem(public_pem, OSSL_KEYMGMT_SELECT_PUBLIC_KEY))) {
        set_err(err, errlen, "not an RSA public key in PEM");
        return NULL;
    }
    if (private_pem && !(priv = decode_pem(private_pem, OSSL_KEYMGMT_SELECT_KEYPAIR))) {
        set_err(err, errlen, "not an unencrypted RSA private key in PEM");
        EVP_PKEY_free(pub);
        return NULL;
    }
    if (pub && priv && EVP_PKEY_eq(pub, priv) != 1) {
        snprintf(err, errlen, "the public key is not the private key's other half");
        ERR_clear_error();
        EVP_PKEY_free(pub);
        EVP_PKEY_free(priv);
        return NULL;
    }
    if (priv) {
        EVP_PKEY_free(pub);
        return rs256_key(priv, true, err, errlen);
    }
    return rs256_key(pub, false, err, errlen);
}

static char *read_text_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    sr_buf b;
    sr_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1 << 20))
        sr_buf_append(&b, chunk, n);
    int bad = ferror(f) || !b.len || b.len >= (1 << 20) || memchr(b.data, 0, b.len);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "cannot read %s as a PEM text file", path);
        sr_buf_free(&b);
        return NULL;
    }
    return b.data; /* sr_buf keeps data NUL-terminated */
}

sr_jwt_key *sr_jwt_key_rs256_files(const char *public_pem_path, const char *private_pem_path,
                                   char *err, size_t errlen)
{
    char *pub = NULL, *priv = NULL, msg[300];
    sr_jwt_key *k = NULL;
    if (public_pem_path && !(pub = read_text_file(public_pem_path, err, errlen))) return NULL;
    if (private_pem_path && !(priv = read_text_file(private_pem_path, err, errlen))) goto out;
    k = sr_jwt_key_rs256_pem(pub, priv, msg, sizeof msg);
    if (!k)
        snprintf(err, errlen, "%s%s%s: %s", public_pem_path ? public_pem_path : "",
                 public_pem_path && private_pem_path ? " and " : "",
                 private_pem_path ? private_pem_path : "", msg);
out:
    free(pub);
    if (priv) OPENSSL_cleanse(priv, strlen(priv));
    free(priv);
    return k;
}

sr_jwt_key *sr_jwt_key_rs256_generate(char *err, size_t errlen)
{
    EVP_PKEY *pkey = EVP_RSA_gen(2048);
    if (!pkey) {
        set_err(err, errlen, "cannot generate an RSA-2048 key");
        return NULL;
    }
    return rs256_key(pkey, true, err, errlen);
}

sr_jwt_key *sr_jwt_key_hs256(const void *secret, size_t len, char *err, size_t errlen)
{
    if (!secret || !len) {
        snprintf(err, errlen, "HS256 secret is empty");
        return NULL;
    }
    sr_jwt_key *k = sr_xcalloc(1, sizeof *k);
    k->alg = KEY_HS256;
    k->secret = sr_xmalloc(len);
    memcpy(k->secret, secret, len);
    k->secret_len = len;
    return k;
}

void sr_jwt_key_free(sr_jwt_key *key)
{
    if (!key) return;
    EVP_PKEY_free(key->pkey);
    free(key->public_pem);
    if (key->secret) OPENSSL_cleanse(key->secret, key->secret_len);
    free(key->secret);
    free(key);
}

const char *sr_jwt_key_alg(const sr_jwt_key *key)
{
    return key->alg == KEY_RS256 ? "RS256" : "HS256";
}

bool sr_jwt_key_can_sign(const sr_jwt_key *key)
{
    return key->alg == KEY_HS256 || key->has_private;
}

const char *sr_jwt_key_public_pem(const sr_jwt_key *key)
{
    return key->public_pem;
}

/* ---- signatures ---- */

static int hs256(const sr_jwt_key *key, const char *data, size_t n, unsigned char mac[32])
{
    size_t outlen = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key->secret, key->secret_len,
                   (const unsigned char *)data, n, mac, 32, &outlen) ||
        outlen != 32) {
        ERR_clear_error();
        return SR_JWT_INTERNAL;
    }
    return 0;
}

/* Appends the signature of data to sig. */
static int sign_bytes(const sr_jwt_key *key, const char *data, size_t n, sr_buf *sig)
{
    if (key->alg == KEY_HS256) {
        sr_buf_reserve(sig, 32);
        if (hs256(key, data, n, (unsigned char *)sig->data + sig->len) < 0) return SR_JWT_INTERNAL;
        sig->len += 32;
        return 0;
    }
    if (!key->has_private) return SR_JWT_KEY;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t siglen = (size_t)EVP_PKEY_get_size(key->pkey);
    sr_buf_reserve(sig, siglen);
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
             EVP_DigestSign(ctx, (unsigned char *)sig->data + sig->len, &siglen,
                            (const unsigned char *)data, n) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return SR_JWT_INTERNAL;
    }
    sig->len += siglen;
    return 0;
}

static int verify_bytes(const sr_jwt_key *key, const char *data, size_t n, const unsigned char *sig,
                        size_t siglen)
{
    if (key->alg == KEY_HS256) {
        unsigned char mac[32];
        if (hs256(key, data, n, mac) < 0) return SR_JWT_INTERNAL;
        int same = siglen == sizeof mac && CRYPTO_memcmp(mac, sig, sizeof mac) == 0;
        return same ? 0 : SR_JWT_BAD_SIGNATURE;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) return SR_JWT_INTERNAL;
    int rc = SR_JWT_BAD_SIGNATURE;
    /* PKCS#1 v1.5 padding is the RSA default: RS256 by definition. */
    if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) != 1)
        rc = SR_JWT_INTERNAL;
    else if (EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)data, n) == 1)
        rc = 0;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

int sr_jwt_sign_raw(const sr_jwt_key *key, const char *header, size_t header_len,
                    const char *payload, size_t payload_len, char **token)
{
    *token = NULL;
    sr_buf t, sig;
    sr_buf_init(&t);
    sr_buf_init(&sig);
    sr_b64url_encode(&t, header, header_len);
    sr_buf_append(&t, ".", 1);
    sr_b64url_encode(&t, payload, payload_len);
    int rc = sign_bytes(key, t.data, t.len, &sig);
    if (rc == 0) {
        sr_buf_append(&t, ".", 1);
        sr_b64url_encode(&t, sig.data, sig.len);
        *token = t.data;
    } else {
        sr_buf_free(&t);
    }
    sr_buf_free(&sig);
    return rc;
}

int sr_jwt_sign(const sr_jwt_key *key, const json_t *claims, char **token)
{
    *token = NULL;
    if (!json_is_object(claims)) return SR_JWT_MALFORMED;
    char header[64];
    int hn =
        snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", sr_jwt_key_alg(key));
    char *payload = json_dumps(claims, JSON_COMPACT);
    if (!payload) return SR_JWT_INTERNAL;
    int rc = sr_jwt_sign_raw(key, header, (size_t)hn, payload, strlen(payload), token);
    free(payload);
    return rc;
}

/* ---- verify ---- */

/* Classifies a header alg other than the key's. */
static int alg_refusal(const sr_jwt_key *key, const char *alg)
{
    if (!strcasecmp(alg, "none")) return SR_JWT_ALG_NONE;
    bool hmac = !strncmp(alg, "HS", 2);
    bool asym = !strncmp(alg, "RS", 2) || !strncmp(alg, "PS", 2) || !strncmp(alg, "ES", 2) ||
                !strcmp(alg, "EdDSA");
    if ((key->alg == KEY_RS256 && hmac) || (key->alg == KEY_HS256 && asym))
        return SR_JWT_ALG_CONFUSION;
    return SR_JWT_ALG_UNEXPECTED;
}

static json_t *decode_json_object(const char *b64, size_t n)
{
    sr_buf raw;
    sr_buf_init(&raw);
    json_t *obj = NULL;
    if (sr_b64url_decode(&raw, b64, n) == 0 && raw.len) {
        obj = json_loadb(raw.data, raw.len, SR_JSON_UNIQUE_NAMES, NULL);
        if (obj && !json_is_object(obj)) {
            json_decref(obj);
            obj = NULL;
        }
    }
    sr_buf_free(&raw);
    return obj;
}

/* exp/nbf/iat: absent is fine; present must be a number. */
static int time_claim(json_t *claims, const char *name, double *out)
{
    json_t *v = json_object_get(claims, name);
    if (!v) return 0;
    if (!json_is_number(v)) return SR_JWT_BAD_CLAIM;
    *out = json_number_value(v);
    return 1;
}

static int check_claims(json_t *claims, const sr_jwt_rules *rules)
{
    long long now = rules && rules->now ? rules->now : (long long)time(NULL);
    double leeway = rules && rules->leeway > 0 ? rules->leeway : 0, t;
    int r;
    if ((r = time_claim(claims, "iat", &t)) < 0) return r;
    if ((r = time_claim(claims, "nbf", &t)) < 0) return r;
    if (r && t > (double)now + leeway) return SR_JWT_NOT_YET_VALID;
    if ((r = time_claim(claims, "exp", &t)) < 0) return r;
    if (r && (double)now >= t + leeway) return SR_JWT_EXPIRED;
    if (rules && rules->subject_claim) {
        json_t *s = json_object_get(claims, rules->subject_claim);
        if (!json_is_string(s) || !json_string_length(s) ||
            strlen(json_string_value(s)) != json_string_length(s))
            return SR_JWT_BAD_SUBJECT;
    }
    return 0;
}

int sr_jwt_verify(const sr_jwt_key *key, const char *token, size_t len, const sr_jwt_rules *rules,
                  json_t **claims)
{
    *claims = NULL;
    if (!token || !len || len > SR_JWT_MAX_TOKEN) return SR_JWT_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) return SR_JWT_MALFORMED;

    json_t *header = decode_json_object(token, (size_t)(dot1 - token));
    if (!header) return SR_JWT_MALFORMED;
    json_t *alg = json_object_get(header, "alg");
    int rc = 0;
    if (!json_is_string(alg) || json_object_get(header, "crit"))
        rc = SR_JWT_MALFORMED;
    else if (strcmp(json_string_value(alg), sr_jwt_key_alg(key)) != 0)
        rc = alg_refusal(key, json_string_value(alg));
    json_decref(header);
    if (rc < 0) return rc;

    sr_buf sig;
    sr_buf_init(&sig);
    const char *sig_b64 = dot2 + 1;
    size_t sig_n = len - (size_t)(sig_b64 - token);
    if (!sig_n || sr_b64url_decode(&sig, sig_b64, sig_n) < 0)
        rc = SR_JWT_MALFORMED;
    else
        rc = verify_bytes(key, token, (size_t)(dot2 - token), (unsigned char *)sig.data, sig.len);
    sr_buf_free(&sig);
    if (rc < 0) return rc;

    json_t *payload = decode_json_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!payload) return SR_JWT_MALFORMED;
    if ((rc = check_claims(payload, rules)) < 0) {
        json_decref(payload);
        return rc;
    }
    *claims = payload;
    return 0;
}

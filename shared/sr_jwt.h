/* sr_jwt.h - JSON Web Tokens (RFC 7519, compact JWS) for the dialects that
 * authenticate with them: RS256 (peersync, seed 003) and HS256 (device sync,
 * seed 001). OpenSSL 3 EVP for the cryptography, jansson for the claims.
 *
 * A key fixes its algorithm: an RS256 key never computes an HMAC and an HS256
 * key never verifies RSA, whatever a token's header says, so the "alg: HS256
 * signed with the public key PEM" confusion cannot work. The header is read
 * only to refuse tokens whose alg differs from the key's.
 *
 * Typical use (peersync):
 *
 *     sr_jwt_key *k = sr_jwt_key_rs256_files(pub_path, priv_path, err, sizeof err);
 *     sr_jwt_rules rules = {.subject_claim = "userId"};
 *     json_t *claims;
 *     int rc = sr_jwt_verify(k, token, strlen(token), &rules, &claims);
 *     if (rc < 0) reply(rc == SR_JWT_EXPIRED ? "ERR_1003" : "ERR_1002", sr_jwt_strerror(rc));
 *     else { use(json_string_value(json_object_get(claims, "userId"))); json_decref(claims); }
 */
#ifndef SR_JWT_H
#define SR_JWT_H

#include "sr_buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Result codes: 0 or one of these negative values. sr_jwt_strerror names them. */
enum sr_jwt_error {
    SR_JWT_OK = 0,
    SR_JWT_MALFORMED = -1,      /* not header.payload.signature, bad base64url or JSON */
    SR_JWT_ALG_NONE = -2,       /* alg "none" (any case): unsigned tokens are never accepted */
    SR_JWT_ALG_CONFUSION = -3,  /* HMAC alg for an RSA key, or RSA/EC alg for an HMAC key */
    SR_JWT_ALG_UNEXPECTED = -4, /* any other alg than the key's (RS512, PS256, ...) */
    SR_JWT_BAD_SIGNATURE = -5,  /* signature does not verify with this key */
    SR_JWT_EXPIRED = -6,        /* now >= exp + leeway */
    SR_JWT_NOT_YET_VALID = -7,  /* nbf > now + leeway */
    SR_JWT_BAD_CLAIM = -8,      /* exp, nbf or iat present but not a number */
    SR_JWT_BAD_SUBJECT = -9,    /* subject claim missing, not a string, empty or holding NUL */
    SR_JWT_KEY = -10,           /* the key cannot do this (signing with a public-only key) */
    SR_JWT_INTERNAL = -11,      /* OpenSSL failed unexpectedly */
};

/* A short, stable, lower-case message for a result code ("token expired"). */
const char *sr_jwt_strerror(int code);

/* ---- base64url (RFC 4648 section 5) without padding, as JWS requires ---- */

/* Appends the unpadded base64url text of n bytes to out. */
void sr_b64url_encode(sr_buf *out, const void *data, size_t n);
/* Appends the bytes that len characters of base64url decode to. Strict: only
 * A-Z a-z 0-9 - _, no '=' padding, no white space, no length that is 1 mod 4,
 * and the unused low bits of the last character must be zero (one text per
 * byte string). Returns 0, or -1 leaving out's length as it was. */
int sr_b64url_decode(sr_buf *out, const char *in, size_t len);

/* ---- keys ---- */

typedef struct sr_jwt_key sr_jwt_key;

/* The RSA pair for RS256 from PEM files (SPKI or PKCS#1 public keys; PKCS#8
 * or traditional private keys, unencrypted). Either path may be NULL, not
 * both. With only the private key the public half is derived from it; with
 * only the public key the result verifies but cannot sign. With both they
 * must be halves of one pair. Keys shorter than 2048 bits are refused.
 * Returns NULL with a message in err. */
sr_jwt_key *sr_jwt_key_rs256_files(const char *public_pem_path, const char *private_pem_path,
                                   char *err, size_t errlen);
/* The same from PEM text in memory (either may be NULL, not both). */
sr_jwt_key *sr_jwt_key_rs256_pem(const char *public_pem, const char *private_pem, char *err,
                                 size_t errlen);
/* A fresh RSA-2048 pair that lives as long as the process (tokens die with
 * it; on more than one node they do not verify elsewhere: the caller warns). */
sr_jwt_key *sr_jwt_key_rs256_generate(char *err, size_t errlen);
/* An HS256 key from a secret of len > 0 bytes (copied). */
sr_jwt_key *sr_jwt_key_hs256(const void *secret, size_t len, char *err, size_t errlen);
void sr_jwt_key_free(sr_jwt_key *key);

/* "RS256" or "HS256". */
const char *sr_jwt_key_alg(const sr_jwt_key *key);
/* True when the key can sign (HS256 always; RS256 when the private half is known). */
bool sr_jwt_key_can_sign(const sr_jwt_key *key);
/* The RS256 public key as SPKI PEM text ("-----BEGIN PUBLIC KEY-----..."),
 * owned by the key, for GET /api/v1/auth/public-key. NULL for HS256. */
const char *sr_jwt_key_public_pem(const sr_jwt_key *key);

/* ---- verify and sign ---- */

typedef struct sr_jwt_rules {
    /* Claim that names the user ("userId" in seed 003, "sub" in RFC 7519): it
     * must be a non-empty string without NUL. NULL: not checked. */
    const char *subject_claim;
    /* Seconds of clock skew allowed for exp and nbf. 0 (the default, as in
     * jsonwebtoken's clockTolerance) is exact. */
    int leeway;
    /* Unix time in seconds to judge exp and nbf against; 0: time(NULL). */
    long long now;
} sr_jwt_rules;

#define SR_JWT_MAX_TOKEN 16384 /* longer tokens are SR_JWT_MALFORMED */

/* Verifies a compact token of len bytes with key: structure, alg (must be
 * the key's), signature, then claims: exp and nbf (each optional, as in
 * jsonwebtoken), and the subject claim when rules name one. rules may be
 * NULL. On 0 *claims is the payload object (the caller json_decrefs it);
 * on an error *claims is NULL. A "crit" header is refused (MALFORMED); other
 * header fields (typ, kid, jku, x5u, jwk) are ignored, never followed. */
int sr_jwt_verify(const sr_jwt_key *key, const char *token, size_t len, const sr_jwt_rules *rules,
                  json_t **claims);

/* Signs claims (any JSON object; the caller sets iat/exp) with the header
 * {"alg":"<alg>","typ":"JWT"}, as jsonwebtoken does. On 0 *token is a
 * NUL-terminated string the caller frees. */
int sr_jwt_sign(const sr_jwt_key *key, const json_t *claims, char **token);

/* Signs arbitrary header and payload bytes as given, unchecked: for tests and
 * tools that must build hostile or foreign-looking tokens. */
int sr_jwt_sign_raw(const sr_jwt_key *key, const char *header, size_t header_len,
                    const char *payload, size_t payload_len, char **token);

#endif

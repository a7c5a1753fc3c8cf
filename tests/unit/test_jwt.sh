#!/usr/bin/env bash
# Makes RSA keys with the openssl command line and a token the way Node's
# jsonwebtoken (seed 003) writes one, then runs test_jwt on them.
# usage: test_jwt.sh path/to/test_jwt scratch-dir
set -eu
bin=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
q() { "$@" 2>/dev/null; }
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out priv.pem # PKCS#8
q openssl pkey -in priv.pem -pubout -out pub.pem                              # SPKI
q openssl genrsa -traditional -out other-priv.pem 2048                        # PKCS#1
q openssl rsa -in other-priv.pem -RSAPublicKey_out -out other-pub-pkcs1.pem
q openssl genrsa -out small-priv.pem 1024
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-128-cbc \
    -pass pass:secret -out encrypted-priv.pem
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec-priv.pem
printf 'not a key\n' >garbage.pem

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# jsonwebtoken.sign(payload, privateKey, {algorithm: 'RS256', expiresIn: '1h'})
header=$(printf '%s' '{"alg":"RS256","typ":"JWT"}' | b64url)
payload=$(printf '%s' '{"userId":"user_123","email":"dev@example.com","displayName":"Developer","iat":1700000000,"exp":1700003600}' | b64url)
sig=$(printf '%s' "$header.$payload" | openssl dgst -sha256 -sign priv.pem -binary | b64url)
printf '%s' "$header.$payload.$sig" >node-token.txt

exec "$bin" "$PWD"

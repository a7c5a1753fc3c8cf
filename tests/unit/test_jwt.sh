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

"$bin" "$PWD"

# The other way: a token test_jwt signed verifies with openssl, as it would
# with jsonwebtoken (same header, same RSASSA-PKCS1-v1_5 with SHA-256).
unb64url() {
    local s
    s=$(tr -- '-_' '+/')
    while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
    printf '%s' "$s" | openssl base64 -d -A
}
IFS=. read -r h p s <ours-token.txt || [ -n "$s" ] # no final newline
[ "$(printf '%s' "$h" | unb64url)" = '{"alg":"RS256","typ":"JWT"}' ] || {
    echo "test_jwt.sh: header of our token differs from jsonwebtoken's"
    exit 1
}
printf '%s' "$s" | unb64url >ours-sig.bin
printf '%s' "$h.$p" | openssl dgst -sha256 -verify pub.pem -signature ours-sig.bin >/dev/null || {
    echo "test_jwt.sh: openssl does not verify our RS256 token"
    exit 1
}
echo "jwt: our RS256 token verifies with openssl dgst"

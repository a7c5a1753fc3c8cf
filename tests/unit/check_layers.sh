#!/usr/bin/env bash
# Layering rule (see docs/design.md): only the transport includes
# libwebsockets, only the store/bus includes hiredis, and the core and
# dialects include neither. The compiler enforces the libwebsockets half (its
# headers are not on the core's include path); hiredis lives in /usr/include,
# so this check enforces that half.
set -u
cd "$(dirname "$0")/../.."
fail=0
check() { # pattern, allowed-files regex
    local bad
    bad=$(grep -lE "#include *[<\"]$1" node/*.[ch] shared/*.[ch] | grep -vE "$2" || true)
    if [ -n "$bad" ]; then
        echo "layering: $1 included by: $bad"
        fail=1
    fi
}
check "libwebsockets" '^node/transport_[a-z]+\.[ch]$'
check "hiredis" '^node/(store_redis|bus_redis|redis_conn)\.[ch]$'
check "(redis_conn|transport_lws)\.h" '^node/(store_redis|bus_redis|redis_conn|transport_[a-z]+)\.[ch]$'
[ $fail -eq 0 ] && echo "layers: 1 passed, 0 failed"
exit $fail

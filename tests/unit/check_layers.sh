#!/usr/bin/env bash
# Layering rule (see docs/design.md): only the transport includes
# libwebsockets, only the store/bus includes hiredis, and the core and
# dialects include neither. The compiler enforces the libwebsockets half (its
# headers are not on the core's include path); hiredis's may also be in
# /usr/include, so this check enforces that half. Dialects reach Redis only through the
# core (core_*.h): no node/dialects/*.[ch] includes a store or bus header or
# calls an sr_store_* / sr_bus_* function (the store's types, such as an
# argument struct a core_*.h call takes, may be named).
set -u
cd "$(dirname "$0")/../.."
fail=0
check() { # pattern, allowed-files regex
    local bad
    bad=$(grep -lE "#include *[<\"]$1" node/*.[ch] node/*/*.[ch] shared/*.[ch] | grep -vE "$2" || true)
    if [ -n "$bad" ]; then
        echo "layering: $1 included by: $bad"
        fail=1
    fi
}
check "libwebsockets" '^node/transport/transport_[a-z]+\.[ch]$'
check "hiredis" '^node/redis/(store_redis|bus_redis|redis_conn|cluster_slots)\.[ch]$'
check "(redis_conn|transport_lws)\.h" '^node/(redis/(store_redis|bus_redis|redis_conn)|transport/transport_[a-z]+)\.[ch]$'
dialects=$(ls node/dialects/*.[ch])
bad=$(grep -lE '#include *[<"](store[a-z_]*|bus[a-z_]*)\.h' $dialects || true)
if [ -n "$bad" ]; then
    echo "layering: a store/bus header included by dialect: $bad"
    fail=1
fi
bad=$(grep -nE '\b(sr_store|sr_bus)_[A-Za-z0-9_]+[[:space:]]*\(' $dialects || true)
if [ -n "$bad" ]; then
    echo "layering: a dialect calls the store/bus directly:"
    echo "$bad"
    fail=1
fi
[ $fail -eq 0 ] && echo "layers: 1 passed, 0 failed"
exit $fail

#!/usr/bin/env bash
# Layering rule (see docs/design.md), the part the compiler cannot see.
#
# The compiler checks most of it: each layer is compiled with only the include
# paths it may use, and the layers_* probes (tests/unit/layers/) show that a
# dialect naming sr_store_*, sr_reply_* or a core-internal field, or the
# transport naming the store, fails to compile. What include paths cannot
# stop is checked here:
#  * hiredis's headers may also be in /usr/include, on every path: only the
#    store/bus include them (libwebsockets is on the transport's path alone;
#    checked anyway);
#  * a relative or path-qualified include ("../redis/store.h",
#    "redis/store.h", "internal/core_internal.h") would reach around the
#    paths: no dialect or transport file includes a store, bus, redis or
#    core-internal header by any path, and only node/core includes
#    core_internal.h.
set -u
cd "$(dirname "$0")/../.."
fail=0
check() { # pattern, allowed-files regex
    local bad
    bad=$(grep -lE "#include *[<\"]$1" node/*.[ch] node/*/*.[ch] node/*/*/*.[ch] shared/*.[ch] |
        grep -vE "$2" || true)
    if [ -n "$bad" ]; then
        echo "layering: $1 included by: $bad"
        fail=1
    fi
}
check "libwebsockets" '^node/transport/transport_[a-z]+\.[ch]$'
check "hiredis" '^node/redis/(store_redis|store_reply|bus_redis|redis_conn|redis_reply|cluster_slots)\.[ch]$'
check "(redis_conn|transport_lws)\.h" '^node/(redis/(store_redis|store_reply|bus_redis|redis_conn|redis_reply)|transport/transport_[a-z]+)\.[ch]$'
check "([a-z_./]*/)?core_internal\.h" '^node/core/(internal/)?[a-z_]+\.[ch]$'
upper=$(ls node/dialects/*.[ch] node/transport/*.[ch])
bad=$(grep -nE '#include *[<"]([a-z_.]*/)*(store[a-z_]*|bus[a-z_]*|redis_[a-z_]*|sr_scripts)\.h' $upper |
    grep -vE '"[a-z]+_store\.h"' || true)
if [ -n "$bad" ]; then
    echo "layering: a store/bus header included by a dialect or the transport:"
    echo "$bad"
    fail=1
fi
bad=$(grep -nE '#include *"[^"]*/' $upper || true)
if [ -n "$bad" ]; then
    echo "layering: a path-qualified include in a dialect or the transport:"
    echo "$bad"
    fail=1
fi
[ $fail -eq 0 ] && echo "layers: 1 passed, 0 failed"
exit $fail

#!/usr/bin/env bash
# Installs what syncrelay needs to build, run and test on Debian bookworm, and
# builds libwebsockets with libevent support from Debian's own source package
# (Debian's libwebsockets-dev is built without it). Idempotent: a second run
# only checks. Usage: tools/install-deps.sh [BUILD_DIR]
set -euo pipefail

build_dir=${1:-build}
lws_prefix="$build_dir/deps/lws"
lws_version=4.1.6

packages=(build-essential cmake pkg-config dpkg-dev libevent-dev libhiredis-dev
          libjansson-dev libssl-dev zlib1g-dev libcap-dev)
# SR_DEPS=build (the Dockerfile's build stage): what building needs, nothing to test with
if [ "${SR_DEPS:-all}" != build ]; then
    packages+=(redis-server haproxy openssl python3-pytest python3-websockets python3-redis
              python3-socketio python3-websocket python3-requests
              clang-14 libclang-rt-14-dev)  # the fuzz targets (libFuzzer, tests/fuzz)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

need_src=0
[ -f "$lws_prefix/lib/libwebsockets.a" ] || need_src=1

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

if [ ${#missing[@]} -gt 0 ] || [ $need_src -eq 1 ]; then
    if [ $need_src -eq 1 ] && ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "install-deps: adding a deb-src entry for bookworm"
        printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
            $sudo tee /etc/apt/sources.list.d/syncrelay-src.sources >/dev/null
    fi
    echo "install-deps: apt-get update"
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $need_src -eq 1 ]; then
    src="$build_dir/deps/src"
    rm -rf "$src" && mkdir -p "$src"
    echo "install-deps: fetching libwebsockets source package"
    (cd "$src" && apt-get source --download-only "libwebsockets=$lws_version*" >/dev/null 2>&1 ||
                  apt-get source --download-only libwebsockets >/dev/null)
    tarball=$(ls "$src"/libwebsockets_*.orig.tar.* | head -1)
    mkdir -p "$src/lws" && tar -xf "$tarball" -C "$src/lws" --strip-components=1
    echo "install-deps: building libwebsockets (static, libevent) - about a minute"
    CFLAGS="-Wno-error=deprecated-declarations -fno-strict-aliasing" \
    cmake -S "$src/lws" -B "$src/lws-build" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$(realpath -m "$lws_prefix")" \
        -DLWS_WITH_LIBEVENT=ON -DLWS_WITH_EVLIB_PLUGINS=OFF \
        -DLWS_WITH_STATIC=ON -DLWS_WITH_SHARED=OFF -DLWS_WITHOUT_TESTAPPS=ON \
        -DLWS_WITH_MINIMAL_EXAMPLES=OFF -DLWS_WITH_SSL=ON -DLWS_WITHOUT_EXTENSIONS=OFF \
        -DLWS_WITH_ZLIB=ON -DLWS_WITH_EXTERNAL_POLL=OFF >"$src/cmake.log" 2>&1 ||
        { tail -30 "$src/cmake.log"; exit 1; }
    cmake --build "$src/lws-build" -j"$(nproc)" >"$src/build.log" 2>&1 || { tail -30 "$src/build.log"; exit 1; }
    cmake --install "$src/lws-build" >/dev/null
    rm -rf "$src/lws-build"
fi

#!/usr/bin/env bash
# Installs what syncrelay needs to build, run and test on Debian bookworm, and
# builds libwebsockets with libevent support from Debian's own source package
# (Debian's libwebsockets-dev is built without it), and hiredis 1.2 with its
# TLS part from a newer Debian suite's source package (bookworm's hiredis 0.14
# has no TLS; docs/design.md says why 1.2). Both static, into BUILD_DIR/deps.
# Idempotent: a second run only checks. Usage: tools/install-deps.sh [BUILD_DIR]
set -euo pipefail

build_dir=${1:-build}
lws_prefix="$build_dir/deps/lws"
lws_version=4.1.6
hiredis_prefix="$build_dir/deps/hiredis"
hiredis_version=1.2.0
hiredis_suite=trixie

packages=(build-essential cmake pkg-config dpkg-dev libevent-dev
          libjansson-dev libssl-dev zlib1g-dev libcap-dev)
# SR_DEPS=build (the Dockerfile's build stage): what building needs, nothing to test with
if [ "${SR_DEPS:-all}" != build ]; then
    packages+=(redis-server haproxy openssl curl jq python3-pytest python3-websockets python3-redis
              python3-socketio python3-websocket python3-requests)
    # the browser tests (tests/integration/test_web.py): headless chromium driven by
    # selenium, and zbarimg to read back the QR code the demo page draws
    packages+=(chromium chromium-driver python3-selenium zbar-tools)
    packages+=(clang-14 libclang-rt-14-dev)  # the fuzz targets (libFuzzer, tests/fuzz)
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

# hiredis from the newer suite's source package, fetched with a private apt
# state under BUILD_DIR/deps/apt: the machine's own sources stay as they are.
if [ ! -f "$hiredis_prefix/lib/libhiredis_ssl.a" ]; then
    apt_dir="$(realpath -m "$build_dir/deps/apt")"
    mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$hiredis_suite" >"$apt_dir/sources/hiredis.sources"
    apt_opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt_dir/sources"
              -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
              -o APT::Sandbox::User=root)
    echo "install-deps: fetching hiredis $hiredis_version source package ($hiredis_suite)"
    apt-get "${apt_opts[@]}" update -qq
    src="$build_dir/deps/src-hiredis"
    rm -rf "$src" && mkdir -p "$src"
    (cd "$src" && apt-get "${apt_opts[@]}" source --download-only hiredis >/dev/null)
    tarball=$(ls "$src"/hiredis_"$hiredis_version".orig.tar.* | head -1)
    mkdir -p "$src/hiredis" && tar -xf "$tarball" -C "$src/hiredis" --strip-components=1
    echo "install-deps: building hiredis (static, with TLS)"
    cmake -S "$src/hiredis" -B "$src/build" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$(realpath -m "$hiredis_prefix")" -DCMAKE_INSTALL_LIBDIR=lib \
        -DBUILD_SHARED_LIBS=OFF -DENABLE_SSL=ON -DDISABLE_TESTS=ON \
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON >"$src/cmake.log" 2>&1 ||
        { tail -30 "$src/cmake.log"; exit 1; }
    cmake --build "$src/build" -j"$(nproc)" >"$src/build.log" 2>&1 || { tail -30 "$src/build.log"; exit 1; }
    cmake --install "$src/build" >/dev/null
    rm -rf "$src" "$apt_dir"
fi

#!/usr/bin/env bash
# Installs the stock Socket.IO client the device-sync tests drive
# (tests/sio-client: socket.io-client pinned by package-lock.json) into
# BUILD_DIR/deps/sio-client with `npm ci`. Node.js and npm come from Debian
# when missing. Cached: a second run only compares the lock file.
# Usage: tools/install-sio-client.sh [BUILD_DIR]
set -euo pipefail

build_dir=${1:-build}
src="$(cd "$(dirname "$0")/.." && pwd)/tests/sio-client"
prefix="$build_dir/deps/sio-client"

if [ -d "$prefix/node_modules/socket.io-client" ] && cmp -s "$src/package-lock.json" "$prefix/package-lock.json"; then
    exit 0
fi
"$(dirname "$0")/install-node.sh"
echo "install-sio-client: npm ci (socket.io-client, once)"
mkdir -p "$prefix"
cp "$src/package.json" "$src/package-lock.json" "$prefix/"
(cd "$prefix" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

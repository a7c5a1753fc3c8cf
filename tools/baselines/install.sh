#!/bin/sh
# Installs the baselines' npm dependencies (pinned by package-lock.json) into
# tools/baselines/node_modules, once: again only when the lockfile changed.
# Installs Debian's nodejs and npm first when node is missing.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "baselines: installing nodejs and npm (Debian)" >&2
    apt-get -o DPkg::Lock::Timeout=600 install -y nodejs npm >&2
fi
stamp="$dir/node_modules/.lock-stamp"
if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
    exit 0
fi
echo "baselines: npm ci in $dir" >&2
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error >&2
cp package-lock.json "$stamp"

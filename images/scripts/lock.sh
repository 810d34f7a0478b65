#!/usr/bin/env bash
# Regenerates images/package-lock.json, the standalone lock the Dockerfile's `npm ci` uses: the image's build
# context is images/ alone, so the workspace's root lock is not in it.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$tmp/"
(cd "$tmp" && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --package-lock-only --ignore-scripts --no-audit --no-fund >/dev/null)
cp "$tmp/package-lock.json" "$here/package-lock.json"
echo "wrote $here/package-lock.json"

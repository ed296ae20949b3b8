#!/usr/bin/env bash
# Set up (Debian packages), build, and run the main job on the bundled demo case (data/demo):
# rank the likely sources of the SO2 episode, print the ranking table, write outputs to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
bash scripts/build.sh release plumetrace
# the demo's audit records go beside the build, not into the user's audit log
export PLUMETRACE_AUDIT_LOG="${PLUMETRACE_AUDIT_LOG:-$PWD/build/release/demo-audit.log}"
./build/release/plumetrace inspect data/demo
./build/release/plumetrace trace data/demo --start "$(cut -d' ' -f1 data/demo.window.txt)" \
  --end "$(cut -d' ' -f2 data/demo.window.txt)" --out out/demo
echo "outputs: $(ls out/demo | tr '\n' ' ')"

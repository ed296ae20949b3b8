#!/usr/bin/env bash
# End-to-end trace benchmark: an example case, and a large generated case (200 candidates,
# 40 stations with 10-minute means over 14 h, a survey car: about 20,000 observations).
# Usage: scripts/bench-trace.sh [BUILD_DIR]   (default build/release; builds trace_bench and plumetrace-sim)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
cmake --build "$build" -j "${JOBS:-2}" --target trace_bench plumetrace-sim >/dev/null
large="${TMPDIR:-/tmp}/plumetrace-bench-large"
if [ ! -f "$large/truth.json" ]; then
  rm -rf "$large"
  "$build/plumetrace-sim" --kind single --seed 4242 --out "$large" --sources 200 --stations 40 \
    --averaging PT10M --hours 14 --scale-m 20000 --boundaries data/zhejiang_counties.geojson >/dev/null
fi
echo "large case: $(($(wc -l < "$large/case/readings.csv") - 1)) readings, $(($(cat "$large"/case/traces/*.csv | wc -l) - 1)) trace samples, $(($(wc -l < "$large/case/sources.csv") - 1)) sources"
PLUMETRACE_BENCH_LARGE_CASE="$large" "$build/trace_bench"

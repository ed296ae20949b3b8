#!/usr/bin/env bash
# `plumetrace regions` benchmark: a month (30 days) of hourly SO2 and wind at 10 stations
# (scripts/make-regions-case.py, seed 1), load + PSCF/CWT + shares, 2 threads by default.
# Usage: scripts/bench-regions.sh [BUILD_DIR]   (default build/release; builds regions_bench)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
cmake --build "$build" -j "${JOBS:-2}" --target regions_bench plumetrace >/dev/null
case_dir="${TMPDIR:-/tmp}/plumetrace-bench-regions"
if [ ! -f "$case_dir/readings.csv" ]; then
  rm -rf "$case_dir"
  python3 scripts/make-regions-case.py --out "$case_dir" --days 30 --stations 10 --seed 1
  rm -f "$case_dir/truth.json"
fi
echo "regions case: $(($(wc -l < "$case_dir/readings.csv") - 1)) readings, $(($(wc -l < "$case_dir/stations.csv") - 1)) stations"
PLUMETRACE_BENCH_REGIONS_CASE="$case_dir" "$build/regions_bench"
echo "whole command (/usr/bin/time):"
/usr/bin/time -f "%e s wall, %U s user, %M KB max RSS" "$build/plumetrace" regions "$case_dir" --out "${TMPDIR:-/tmp}/plumetrace-bench-regions-out" >/dev/null

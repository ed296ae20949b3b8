#!/usr/bin/env bash
# Race the C++ plume sensitivity kernel (plume_sensitivity_batch) against the same formula in
# numpy, single-threaded, on the same receptors. Builds nothing.
#
#   scripts/bench-plume-vs-numpy.sh [BUILD_DIR] [N]     (defaults: build/release, 65536)
#
# Prints one line: "plume kernel: C++ X pairs/s, numpy Y pairs/s, ratio Z" (per core: both run
# on one thread; throughput from CPU time), preceded by the numpy/C++ cross-check
# ("max rel diff" over 4096 receptors; the script fails if it exceeds 1e-9).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-build/release}"
n="${2:-65536}"
case "$build" in /*) ;; *) build="$here/$build" ;; esac
bench="$build/plume_bench"
py=/usr/bin/python3   # Debian's python3 with python3-numpy (not a pyenv python on PATH)
if [[ ! -x "$bench" ]]; then
  echo "no $bench: build it first (cmake --build $build --target plume_bench)" >&2
  exit 2
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# 1. Correctness: same receptors, same formula.
"$bench" --dump-values=4096 > "$tmp/cpp_values.csv"
"$py" "$here/scripts/plume_numpy.py" --n 4096 --repeat 1 --check "$tmp/cpp_values.csv" | grep '^check:'

# 2. Speed, one thread each.
"$bench" --benchmark_filter="BM_PlumeSensitivityBatch/${n}\$" --benchmark_min_time=1 \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json > "$tmp/cpp.json" 2> /dev/null
cpp=$("$py" - "$tmp/cpp.json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
med = [r["items_per_second"] for r in runs if r.get("aggregate_name") == "median"]
best = med[0] if med else max(r["items_per_second"] for r in runs)
print(f"{best:.6g}")
PY
)
numpy=$("$py" "$here/scripts/plume_numpy.py" --n "$n" --repeat 30 | sed -E 's/.* ([0-9.e+]+) pairs\/s$/\1/')
ratio=$("$py" -c "print(f'{$cpp/$numpy:.2f}')")
echo "plume kernel: C++ $cpp pairs/s, numpy $numpy pairs/s, ratio $ratio (N=$n, one core each)"

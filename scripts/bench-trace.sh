#!/usr/bin/env bash
# End-to-end trace benchmark: an example case, and a large generated case: 200 candidates, 40
# stations with 10-minute means over 16 h, and the simulated survey car's route driven by 12 more
# cars (copies shifted 5 s apart in time, the same values: a throughput case, not physics), about
# 20,000 observations in all.
# Usage: scripts/bench-trace.sh [BUILD_DIR]   (default build/release; builds trace_bench and plumetrace-sim)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
cmake --build "$build" -j "${JOBS:-2}" --target trace_bench plumetrace-sim >/dev/null
large="${TMPDIR:-/tmp}/plumetrace-bench-large"
if [ ! -f "$large/truth.json" ]; then
  rm -rf "$large"
  "$build/plumetrace-sim" --kind single --seed 4242 --out "$large" --sources 200 --stations 40 \
    --averaging PT10M --hours 16 --scale-m 20000 --boundaries data/zhejiang_counties.geojson >/dev/null
  /usr/bin/python3 - "$large/case/traces" <<'PY'
import csv, datetime, pathlib, sys
d = pathlib.Path(sys.argv[1])
rows = list(csv.reader(open(d / "car_01.csv")))
for k in range(2, 14):
    with open(d / f"car_{k:02d}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(rows[0])
        for r in rows[1:]:
            t = datetime.datetime.fromisoformat(r[0]) + datetime.timedelta(seconds=5 * (k - 1))
            w.writerow([t.isoformat()] + r[1:])
PY
fi
echo "large case: $(($(wc -l < "$large/case/readings.csv") - 1)) readings, $(($(cat "$large"/case/traces/*.csv | wc -l) - 1)) trace samples, $(($(wc -l < "$large/case/sources.csv") - 1)) sources"
PLUMETRACE_BENCH_LARGE_CASE="$large" "$build/trace_bench"

#!/usr/bin/env bash
# Set up (Debian packages), build, and run the main job on the bundled demo case (data/demo):
# rank the likely sources of the SO2 episode, print the ranking table, write outputs to out/demo/,
# then turn the ranking into a joint enforcement plan (out/demo/plan/report.html, bundle.zip).
#
#   scripts/demo.sh [--serve [HOST:PORT]]
#
# With --serve it then starts `plumetrace serve` (default 127.0.0.1:8080, data under
# out/demo-serve/), uploads the demo case to it as case `demo`, runs the same trace as a job and
# prints the dashboard's address (`/?case=demo&job=...`); the server runs until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
serve=""
listen="127.0.0.1:8080"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --serve) serve=1; if [[ $# -gt 1 && "$2" != --* ]]; then listen="$2"; shift; fi ;;
    *) echo "usage: scripts/demo.sh [--serve [HOST:PORT]]" >&2; exit 2 ;;
  esac
  shift
done
start="$(cut -d' ' -f1 data/demo.window.txt)"
end="$(cut -d' ' -f2 data/demo.window.txt)"
bash scripts/setup-deps.sh
bash scripts/build.sh release plumetrace
# the demo's audit records go beside the build, not into the user's audit log
export PLUMETRACE_AUDIT_LOG="${PLUMETRACE_AUDIT_LOG:-$PWD/build/release/demo-audit.log}"
./build/release/plumetrace inspect data/demo
./build/release/plumetrace trace data/demo --start "$start" --end "$end" --out out/demo
echo "outputs: $(ls out/demo | tr '\n' ' ')"
# the plan's route starts at the Yongkang bureau's side of the border (an example start point)
./build/release/plumetrace plan data/demo --ranking out/demo/ranking.json --out out/demo/plan --start-point 120.06,28.92
[[ -n "$serve" ]] || exit 0

mkdir -p out/demo-serve
./build/release/plumetrace serve --data out/demo-serve/data --listen "$listen" > out/demo-serve/serve.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' EXIT INT TERM
base=""
for _ in $(seq 100); do
  base="$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' out/demo-serve/serve.log)"
  [[ -n "$base" ]] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$base" ]] || { echo "demo: the server did not start:" >&2; cat out/demo-serve/serve.log >&2; exit 1; }
# the demo's case.json names the county layer outside the case: it is uploaded as boundaries.geojson
for f in case.json sources.csv stations.csv readings.csv traces/car_01.csv imagery/drone.tif imagery/drone.json; do
  curl -sfS -o /dev/null -T "data/demo/$f" "$base/api/v1/cases/demo/files/$f"
done
curl -sfS -o /dev/null -T data/zhejiang_counties.geojson "$base/api/v1/cases/demo/files/boundaries.geojson"
job="$(curl -sfS -H 'Prefer: respond-async' -H 'Content-Type: application/json' \
  -d "{\"inputs\": {\"case\": \"demo\", \"start\": \"$start\", \"end\": \"$end\"}}" \
  "$base/processes/trace/execution" | sed -n 's/.*"jobID":"\([0-9a-f]*\)".*/\1/p')"
[[ -n "$job" ]] || { echo "demo: the trace job was not accepted" >&2; exit 1; }
status=""
for _ in $(seq 600); do
  status="$(curl -sfS "$base/jobs/$job" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')"
  [[ "$status" == accepted || "$status" == running ]] || break
  sleep 0.2
done
echo "trace job $job: $status"
echo
echo "dashboard: $base/?case=demo&job=$job"
echo "(plumetrace serve is running, data in out/demo-serve/; Ctrl-C stops it)"
wait "$server"

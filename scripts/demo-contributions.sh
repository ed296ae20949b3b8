#!/usr/bin/env bash
# What each kind of evidence contributes on the demo case (data/demo): trace it with the fixed
# stations alone, with the survey car added, with the drone image added, and with everything,
# and print the culprit's probability and rank, its rate, the unregistered / "no release"
# shares and the tempering the held-out check chose. The culprit and its true rate come from data/demo.truth.json (beside the case folder).
# Usage: scripts/demo-contributions.sh [BUILD_DIR]   (default build/release; needs plumetrace built)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
start="$(cut -d' ' -f1 data/demo.window.txt)"
end="$(cut -d' ' -f2 data/demo.window.txt)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PLUMETRACE_AUDIT_LOG="$work/audit.log"
cp data/zhejiang_counties.geojson "$work/"
for set in stations stations+car stations+drone all; do
  d="$work/$set/demo"
  mkdir -p "$d"
  cp data/demo/case.json data/demo/sources.csv data/demo/stations.csv data/demo/readings.csv "$d/"
  sed -i 's#"\.\./zhejiang_counties.geojson"#"../../zhejiang_counties.geojson"#' "$d/case.json"
  [[ "$set" == *car* || "$set" == all ]] && cp -r data/demo/traces "$d/"
  [[ "$set" == *drone* || "$set" == all ]] && cp -r data/demo/imagery "$d/"
  "$build/plumetrace" trace "$d" --start "$start" --end "$end" --out "$work/$set/out" > /dev/null
done
/usr/bin/python3 - "$work" data/demo.truth.json <<'PY'
import json, sys
work, truth = sys.argv[1], json.load(open(sys.argv[2]))
culprit = truth["sources"][0]
print(f"culprit {culprit['id']}, {culprit['q_g_s']:.1f} g/s")
print(f"{'evidence':16} {'obs':>5} {'top':>8} {'p(culprit)':>10} {'rank':>4} {'rate g/s (p05-p95)':>22} {'unlisted':>8} {'no_release':>10} {'temper':>6}")
for s in ["stations", "stations+car", "stations+drone", "all"]:
    d = json.load(open(f"{work}/{s}/out/ranking.json"))
    cands = d["candidates"]
    ids = [c["id"] for c in cands]
    c = cands[ids.index(culprit["id"])]
    r = c["emission_rate_g_s"]
    top = cands[0]["id"]
    print(f"{s:16} {d['diagnostics']['observations_used']:>5} {top:>8} {c['probability']:>10.3f} {ids.index(culprit['id']) + 1:>4} "
          f"{r['estimate']:>7.1f} ({r['p05']:.1f}-{r['p95']:.1f}){'':>3} {d['unlisted']['probability']:>8.3f} {d['no_release']['probability']:>10.3f} "
          f"{d['diagnostics']['tempering']['temper']:>6}")
PY

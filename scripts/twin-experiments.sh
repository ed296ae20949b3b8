#!/usr/bin/env bash
# Twin experiments from the command line: generate synthetic incidents with tools/plumetrace-sim
# (Lagrangian puff truth model), optionally trace each with `plumetrace trace` and score the
# rankings against truth.json with the acceptance metrics of tests/accuracy/twin_test.cpp.
#
# Usage: scripts/twin-experiments.sh [--out DIR] [--count N] [--first-seed S]
#                                    [--kinds single,border,pair,unlisted] [--scales 15000,2000,20000]
#                                    [--averaging PT1H,PT10M] [--jobs J] [--trace] [--build DIR]
#   --out DIR         where incidents go (default out/twin); each is DIR/KIND-SEED/{case/,truth.json}
#   --count N         incidents (default 20), cycling through kinds, scales and averaging periods
#   --first-seed S    first seed (default 1000). Seeds 900000-999999 are reserved for the acceptance
#                     test (twin_test.cpp): do not tune on them. The shared examples use 101-103.
#   --trace           also run the tracer and print the score table (needs the plumetrace binary)
#   --build DIR       build directory holding plumetrace and plumetrace-sim (default build/release;
#                     PLUMETRACE_SIM / PLUMETRACE_TRACER override the two programs)
#   --jobs J          parallel incidents (default 2)
#   --sim-args "..."  extra simulator options for every incident (e.g. "--sigma-theta", "--no-car")
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/twin; count=20; first=1000; kinds=single,border,pair,unlisted; scales=15000,2000,20000
averaging=PT1H,PT1H,PT10M; jobs=2; trace=0; build=build/release; sim_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --first-seed) first="$2"; shift 2 ;;
    --kinds) kinds="$2"; shift 2 ;;
    --scales) scales="$2"; shift 2 ;;
    --averaging) averaging="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --trace) trace=1; shift ;;
    --sim-args) sim_args="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "twin-experiments: unknown argument $1" >&2; exit 2 ;;
  esac
done
sim="${PLUMETRACE_SIM:-$build/plumetrace-sim}"
tracer="${PLUMETRACE_TRACER:-$build/plumetrace}"
[ -x "$sim" ] || { echo "twin-experiments: no simulator at $sim (ninja -C $build plumetrace-sim)" >&2; exit 2; }
if [ "$trace" = 1 ] && [ ! -x "$tracer" ]; then echo "twin-experiments: no tracer at $tracer" >&2; exit 2; fi
mkdir -p "$out"
IFS=, read -r -a K <<< "$kinds"; IFS=, read -r -a S <<< "$scales"; IFS=, read -r -a A <<< "$averaging"
plan="$out/plan.txt"; : > "$plan"
for ((i = 0; i < count; i++)); do
  echo "${K[i % ${#K[@]}]} $((first + i)) ${S[(i / ${#K[@]}) % ${#S[@]}]} ${A[i % ${#A[@]}]}" >> "$plan"
done
export sim tracer out trace sim_args
# the experiments' audit records go beside the build, not into the user's audit log
export PLUMETRACE_AUDIT_LOG="${PLUMETRACE_AUDIT_LOG:-$build/test-audit/twin-experiments.log}"
one() {
  set -euo pipefail
  local kind=$1 seed=$2 scale=$3 avg=$4 dir="$out/$1-$2"
  # shellcheck disable=SC2086  # sim_args is a list of options on purpose
  "$sim" --kind "$kind" --seed "$seed" --scale-m "$scale" --averaging "$avg" $sim_args --out "$dir" 2> "$dir.sim.log" || {
    echo "FAILED sim $kind $seed (see $dir.sim.log)"; return 0; }
  if [ "$trace" = 1 ]; then
    local w0 w1
    w0=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["window"][0])' "$dir/truth.json")
    w1=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["window"][1])' "$dir/truth.json")
    timeout 600 "$tracer" trace "$dir/case" --start "$w0" --end "$w1" --json > "$dir/ranking.json" 2> "$dir/trace.log" ||
      echo "FAILED trace $kind $seed (see $dir/trace.log)"
  fi
  echo "done $kind $seed scale $scale $avg"
}
export -f one
xargs -P "$jobs" -L 1 bash -c 'one "$@"' _ < "$plan"
[ "$trace" = 1 ] || { echo "incidents in $out (plan: $plan)"; exit 0; }
/usr/bin/python3 - "$out" "$plan" <<'PY'
import json, math, os, statistics, sys
out, plan = sys.argv[1], sys.argv[2]
def dist(a, b, c, d):
    r, k = 6371008.8, math.pi / 180
    x = math.sin((d - b) * k / 2) ** 2 + math.cos(b * k) * math.cos(d * k) * math.sin((c - a) * k / 2) ** 2
    return 2 * r * math.asin(min(1, math.sqrt(x)))
one = [0, 0]; pair = [0, 0]; rate = [0, 0]; cross = [0, 0]; unl = []; failed = 0
print(f"{'kind':9} {'seed':>6} {'scale':>6} {'top':>6} {'rank':>7} {'rate':>11} {'xb':>5} {'unl_m':>7}")
for line in open(plan):
    kind, seed, scale, avg = line.split()
    d = f"{out}/{kind}-{seed}"
    try:
        t = json.load(open(f"{d}/truth.json")); r = json.load(open(f"{d}/ranking.json"))
    except Exception as e:
        failed += 1; print(f"{kind:9} {seed:>6} FAILED {e}"); continue
    cands = r["candidates"]; pos = {c["id"]: i + 1 for i, c in enumerate(cands)}; by = {c["id"]: c for c in cands}
    ranks, rates, xb, ue = [], [], "-", "-"
    for s in t["sources"]:
        if s["id"] == "UNLISTED":
            p = (r.get("unlisted") or {}).get("peak")
            e = dist(p["lon"], p["lat"], s["lon"], s["lat"]) if p else float("inf")
            unl.append(e); ue = f"{e:.0f}"; continue
        rk = pos.get(s["id"], 0); ranks.append(rk)
        c = by.get(s["id"], {}); est = (c.get("emission_rate_g_s") or {}).get("estimate")
        ratio = est / s["q_g_s"] if est is not None else float("nan"); rates.append(ratio)
        rate[1] += 1; rate[0] += 0.5 <= ratio <= 2
        if s.get("cross_border"):
            ok = c.get("cross_border") is True and (c.get("jurisdiction") or {}).get("code") == s["county"]
            cross[1] += 1; cross[0] += ok; xb = "ok" if ok else "MISS"
    if kind in ("single", "border"): one[1] += 1; one[0] += ranks[0] == 1
    if kind == "pair": pair[1] += 1; pair[0] += all(1 <= x <= 4 for x in ranks)
    print(f"{kind:9} {seed:>6} {scale:>6} {cands[0]['id'] if cands else '-':>6} {','.join(map(str, ranks)) or '-':>7} "
          f"{','.join(f'{x:.2f}' for x in rates) or '-':>11} {xb:>5} {ue:>7}")
pct = lambda a: 100.0 * a[0] / a[1] if a[1] else float("nan")
print(f"\nculprit first {one[0]}/{one[1]} = {pct(one):.0f} % (>= 90)   pair top-4 {pair[0]}/{pair[1]} = {pct(pair):.0f} % (>= 70)")
print(f"rate within x2 {rate[0]}/{rate[1]} = {pct(rate):.0f} % (>= 85)   cross-border {cross[0]}/{cross[1]} (all)")
print(f"unlisted peak error median {statistics.median(unl) if unl else float('nan'):.0f} m (<= 300)   failed {failed}")
PY

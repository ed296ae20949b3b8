#!/usr/bin/env bash
# Regenerate the bundled demo case, data/demo/: a synthetic single-culprit SO2 incident on the
# Yongkang (永康市, 330784) / Jinyun (缙云县, 331122) border. The culprit is a registered facility
# in Jinyun; the night wind carries its release into Yongkang, where every station and the survey
# car are — a cross-border case. Written by tools/plumetrace-sim (a Lagrangian puff model, not the
# tracer's model); data/demo.truth.json holds the answer and data/demo.window.txt the release
# window ("START END") that scripts/demo.sh passes to `plumetrace trace`; both lie beside the case
# folder, not in it, so the tracer never reads them.
#
# Usage: scripts/make-demo-case.sh            (builds plumetrace-sim with the release preset if needed)
#        PLUMETRACE_SIM=/path/to/plumetrace-sim scripts/make-demo-case.sh
# Output is deterministic for a given seed and platform.
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${DEMO_SEED:-20210728}"
sim="${PLUMETRACE_SIM:-}"
if [ -z "$sim" ]; then
  if [ ! -x build/release/plumetrace-sim ]; then
    bash scripts/build.sh release plumetrace-sim
  fi
  sim=build/release/plumetrace-sim
fi
out=data/demo
rm -rf "$out"
"$sim" --kind border --seed "$seed" --county-pair 331122,330784 --scale-m 15000 \
  --boundaries data/zhejiang_counties.geojson --flat --out "$out" --drone \
  --name "demo: SO2 release across the Jinyun / Yongkang border (synthetic, seed $seed)"
# the release window, for scripts/demo.sh
/usr/bin/python3 - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
os.replace(f"{d}/truth.json", f"{d}.truth.json")
t = json.load(open(f"{d}.truth.json"))
with open(f"{d}.window.txt", "w") as f:
    f.write(f"{t['window'][0]} {t['window'][1]}\n")
c = t["sources"][0]
print(f"demo case in {d}: culprit {c['id']} in {c['county_name']} ({c['county']}), "
      f"{c['q_g_s']:.1f} g/s, window {t['window'][0]} .. {t['window'][1]}; receptors in {t['receptor_counties']}")
PY

#!/usr/bin/env bash
# Race `plumetrace tiles` (2 threads) against `gdaldem color-relief` + `gdal2tiles.py --xyz
# --processes=2` (Debian's gdal-bin / python3-gdal), in one run, on the same GeoTIFF and zooms,
# producing the same tile set (checked). Builds nothing.
#
#   scripts/bench-tiles-vs-gdal2tiles.sh [BUILD_DIR] [ZOOMS]     (defaults: build/release, 9-15)
#
# The GeoTIFF: a typical posterior field, 500 x 500 cells of 100 m in UTM 50N (Float32, NaN nodata on
# a corner), written here with python3-gdal. Both render viridis over the same value range.
# Prints both wall times and their ratio.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-build/release}"
zooms="${2:-9-15}"
case "$build" in /*) ;; *) build="$here/$build" ;; esac
bin="$build/plumetrace"
py=/usr/bin/python3   # Debian's python3 with python3-gdal (gdal2tiles.py runs on it too)
if [[ ! -x "$bin" ]]; then
  echo "no $bin: build it first (scripts/build.sh release plumetrace)" >&2
  exit 2
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# 1. The GeoTIFF and gdaldem's colour table (viridis over [0, max], from the same 256 entries).
"$py" "$here/scripts/make-bench-posterior.py" "$tmp" "$here/src/render/colormap_tables.hpp"
rescale="$(cat "$tmp/rescale")"

now() { date +%s.%N; }

# 2. plumetrace tiles, 2 threads.
t0=$(now)
"$bin" tiles "$tmp/posterior.tif" "$tmp/pt" --zoom "$zooms" --colormap-name viridis --rescale "$rescale" --threads 2 >/dev/null
t1=$(now)

# 3. gdaldem color-relief (RGBA) + gdal2tiles, 2 processes.
t2=$(now)
gdaldem color-relief -q -alpha "$tmp/posterior.tif" "$tmp/viridis.txt" "$tmp/rgba.tif"
"$py" /usr/bin/gdal2tiles.py -q --xyz --processes=2 -z "$zooms" -w none "$tmp/rgba.tif" "$tmp/g2t" >/dev/null
t3=$(now)

# 4. Same tile set?
(cd "$tmp/pt" && find . -name '*.png' | sort) > "$tmp/pt.list"
(cd "$tmp/g2t" && find . -name '*.png' | sort) > "$tmp/g2t.list"
n_pt=$(wc -l < "$tmp/pt.list"); n_g2t=$(wc -l < "$tmp/g2t.list")
only_pt=$(comm -23 "$tmp/pt.list" "$tmp/g2t.list" | wc -l); only_g2t=$(comm -13 "$tmp/pt.list" "$tmp/g2t.list" | wc -l)
echo "tile sets: plumetrace $n_pt, gdal2tiles $n_g2t, only in plumetrace $only_pt, only in gdal2tiles $only_g2t"
"$py" - "$t0" "$t1" "$t2" "$t3" "$zooms" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5])
pt, g = t1 - t0, t3 - t2
print(f"pyramid z {sys.argv[5]}: plumetrace tiles {pt:.2f} s, gdaldem color-relief + gdal2tiles {g:.2f} s, ratio {g / pt:.1f}x (2 threads / 2 processes)")
PY

#!/usr/bin/python3
"""The benchmarks' GeoTIFF: a typical posterior field, 500 x 500 cells of 100 m in UTM 50N (Float32,
NaN nodata on a corner), with gdaldem's colour table for viridis over [0, max] and that range.

    make-bench-posterior.py OUT_DIR COLORMAP_TABLES_HPP
writes OUT_DIR/posterior.tif, OUT_DIR/viridis.txt (gdaldem color-relief) and OUT_DIR/rescale ("0,MAX").
Used by scripts/bench-tiles-vs-gdal2tiles.sh and scripts/bench-serve.sh (python3-gdal, numpy).
"""
import re, sys
import numpy as np
from osgeo import gdal, osr
tmp, tables = sys.argv[1], sys.argv[2]
gdal.UseExceptions()
y, x = np.mgrid[0:500, 0:500].astype(np.float64)
v = np.exp(-((x - 180) ** 2 + (y - 220) ** 2) / (2 * 30.0 ** 2)) + 0.4 * np.exp(-((x - 350) ** 2 + (y - 300) ** 2) / (2 * 12.0 ** 2)) + 1e-4
v = (v / v.sum()).astype(np.float32)
v[400:, 420:] = np.nan
ds = gdal.GetDriverByName("GTiff").Create(f"{tmp}/posterior.tif", 500, 500, 1, gdal.GDT_Float32, ["TILED=YES", "COMPRESS=DEFLATE"])
ds.SetGeoTransform([700000, 100, 0, 3200000, 0, -100])
srs = osr.SpatialReference(); srs.ImportFromEPSG(32650)
ds.SetProjection(srs.ExportToWkt())
b = ds.GetRasterBand(1); b.SetNoDataValue(float("nan")); b.WriteArray(v)
ds = None
hi = float(np.nanmax(v))
text = open(tables).read()
block = text[text.index('{"viridis"'):]
block = block[:block.index("}}},")]
rgba = [tuple(map(int, m)) for m in re.findall(r"\{(\d+), (\d+), (\d+), (\d+)\}", block)]
assert len(rgba) == 256
with open(f"{tmp}/viridis.txt", "w") as f:
    f.write("nv 0 0 0 0\n")
    for i, (r, g, bl, a) in enumerate(rgba):
        f.write(f"{hi * i / 255:.10g} {r} {g} {bl} {a}\n")
open(f"{tmp}/rescale", "w").write(f"0,{hi:.10g}")

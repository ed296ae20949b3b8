#!/usr/bin/python3
"""Reference answers for the jurisdiction index (tests/data/geo/jurisdiction_reference.csv).

10,000 random points (fixed seed) over the combined bounding box of Jinhua (prefecture 330700)
and Lishui (331100). For each point: the county whose GEOS-repaired polygon (OGR MakeValid)
contains it ("" when none, e.g. outside the province), and the distance in metres to the nearest
county border, measured in a local transverse Mercator projection centred on the box.

Run with Debian's python3 (python3-gdal, python3-numpy):
    /usr/bin/python3 scripts/make-jurisdiction-fixture.py \
        data/zhejiang_counties.geojson tests/data/geo/jurisdiction_reference.csv
"""
import sys

import numpy as np
from osgeo import ogr, osr

ogr.UseExceptions()
osr.UseExceptions()

SEED = 20261128
N_POINTS = 10000
PREFECTURES = ("330700", "331100")


def polygonal(geom):
    """The polygonal part of a MakeValid result (MakeValid keeps collapsed spikes as lines)."""
    out = ogr.Geometry(ogr.wkbMultiPolygon)
    flat = ogr.GT_Flatten(geom.GetGeometryType())
    if flat == ogr.wkbPolygon:
        out.AddGeometry(geom)
    elif flat in (ogr.wkbMultiPolygon, ogr.wkbGeometryCollection):
        for i in range(geom.GetGeometryCount()):
            part = polygonal(geom.GetGeometryRef(i))
            for j in range(part.GetGeometryCount()):
                out.AddGeometry(part.GetGeometryRef(j))
    return out


def main(src, dst):
    ds = ogr.Open(src)
    layer = ds.GetLayer(0)
    feats = []
    for f in layer:
        g = polygonal(f.GetGeometryRef().MakeValid())
        feats.append((f.GetField("adcode"), f.GetField("prefecture_code"), g))

    env = None
    for code, pref, g in feats:
        if pref in PREFECTURES:
            e = g.GetEnvelope()  # (minx, maxx, miny, maxy)
            env = e if env is None else (min(env[0], e[0]), max(env[1], e[1]),
                                         min(env[2], e[2]), max(env[3], e[3]))
    lon0 = 0.5 * (env[0] + env[1])
    lat0 = 0.5 * (env[2] + env[3])

    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    local = osr.SpatialReference()
    local.ImportFromProj4(f"+proj=tmerc +lon_0={lon0} +lat_0={lat0} +k=1 +ellps=WGS84 +units=m")
    to_local = osr.CoordinateTransformation(wgs, local)

    projected = []  # (code, lon/lat geometry, envelope, boundary in metres)
    for code, pref, g in feats:
        gm = g.Clone()
        gm.Transform(to_local)
        projected.append((code, g, g.GetEnvelope(), gm.GetBoundary(), gm.GetEnvelope()))

    rng = np.random.default_rng(SEED)
    lons = rng.uniform(env[0], env[1], N_POINTS)
    lats = rng.uniform(env[2], env[3], N_POINTS)

    with open(dst, "w", encoding="utf-8") as out:
        out.write("lon,lat,code,dist_border_m\n")
        for lon, lat in zip(lons, lats):
            p = ogr.Geometry(ogr.wkbPoint)
            p.AddPoint_2D(float(lon), float(lat))
            pm = p.Clone()
            pm.Transform(to_local)
            x, y = pm.GetX(), pm.GetY()
            inside = [k for k, (code, g, e, b, em) in enumerate(projected)
                      if e[0] <= lon <= e[1] and e[2] <= lat <= e[3] and g.Contains(p)]
            # nearest border: start from the containing area (or every area), then refine with
            # every area whose envelope lies within the current best distance
            best = float("inf")
            for k in inside:
                best = min(best, pm.Distance(projected[k][3]))
            if not inside:
                for code, g, e, b, em in projected:
                    dx = max(em[0] - x, 0.0, x - em[1])
                    dy = max(em[2] - y, 0.0, y - em[3])
                    if dx * dx + dy * dy < best * best:
                        best = min(best, pm.Distance(b))
            for k, (code, g, e, b, em) in enumerate(projected):
                if k in inside:
                    continue
                dx = max(em[0] - x, 0.0, x - em[1])
                dy = max(em[2] - y, 0.0, y - em[3])
                if dx * dx + dy * dy < best * best:
                    best = min(best, pm.Distance(b))
            if len(inside) == 1:
                code = projected[inside[0]][0]
            elif not inside:
                code = ""
            else:  # overlap of dirty neighbours: the deepest one (only ever within a few metres of a border)
                code = max(inside, key=lambda k: pm.Distance(projected[k][3]))
                code = projected[code][0]
            out.write(f"{lon:.7f},{lat:.7f},{code},{best:.2f}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Write a long-term case folder for `plumetrace regions` tests and benchmarks.

Fixed stations in 永康市 (Yongkang, 330784) just north of its border with 缙云县 (Jinyun, 331122)
report hourly SO2 and wind for --days days. One steady source (--source LON,LAT; by default
7.5 km south of the border, in Jinyun) adds a ground-level Gaussian plume (Briggs rural class D
sigmas widened by hourly direction meander, Turner 1970 eq. 3-2 at ground level) to a diurnal
background with multiplicative noise. The wind is one hourly random walk over the area (each
station reads it with its own small error). truth.json names the source and its county.

This is not the tracer's model (regions uses trajectories only, no dispersion); it is the
simplest physics that makes polluted hours depend on where the wind came from.

Usage: make-regions-case.py --out DIR [--days 30] [--stations 10] [--seed 1]
                            [--source LON,LAT] [--boundaries data/zhejiang_counties.geojson]
"""

import argparse
import datetime as dt
import json
import math
import pathlib
import random
import shutil

EARTH_RADIUS_M = 6371008.8
STATION_LON = (120.00, 120.20)   # station box: Yongkang, 2-10 km north of the border (~28.77)
STATION_LAT = (28.79, 28.86)
SOURCE_RATE_G_S = 60.0
BACKGROUND_UG_M3 = 8.0
DIURNAL_UG_M3 = 3.0
NOISE_FRACTION = 0.10
MEANDER_RAD = math.radians(10.0)  # hourly direction meander that widens the plume
DIR_WALK_DEG = 30.0               # hourly random-walk step of the wind direction
START = dt.datetime(2026, 6, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def plane(lon0, lat0):
    kx = EARTH_RADIUS_M * math.radians(1) * math.cos(math.radians(lat0))
    ky = EARTH_RADIUS_M * math.radians(1)
    return lambda lon, lat: ((lon - lon0) * kx, (lat - lat0) * ky)


def plume_ug_m3(q_g_s, speed, wind_from_deg, dx, dy):
    """Ground-level concentration at (dx, dy) m from a ground-level source."""
    to = math.radians(wind_from_deg + 180.0)
    ux, uy = math.sin(to), math.cos(to)
    x = dx * ux + dy * uy          # downwind
    y = -dx * uy + dy * ux         # crosswind
    if x <= 1.0:
        return 0.0
    sy = 0.08 * x / math.sqrt(1 + 0.0001 * x)
    sy = math.hypot(sy, x * MEANDER_RAD)
    sz = min(0.06 * x / math.sqrt(1 + 0.0015 * x), 800.0)
    return q_g_s / (math.pi * speed * sy * sz) * math.exp(-0.5 * (y / sy) ** 2) * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--stations", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--source", default="120.10,28.70")
    ap.add_argument("--boundaries", default=str(pathlib.Path(__file__).resolve().parent.parent / "data" / "zhejiang_counties.geojson"))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    src_lon, src_lat = (float(v) for v in a.source.split(","))
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(a.boundaries, out / "boundaries.geojson")
    to_xy = plane(src_lon, src_lat)

    stations = []
    for i in range(a.stations):
        lon = rng.uniform(*STATION_LON)
        lat = rng.uniform(*STATION_LAT)
        stations.append((f"ST{i + 1:02d}", lon, lat))
    with open(out / "stations.csv", "w") as f:
        f.write("id,name,lon,lat,height_m\n")
        for sid, lon, lat in stations:
            f.write(f"{sid},station {sid},{lon:.6f},{lat:.6f},3\n")

    hours = a.days * 24
    wind_from = rng.uniform(0, 360)
    rows = []
    polluted = 0
    for h in range(hours):
        t = START + dt.timedelta(hours=h)
        wind_from = (wind_from + rng.gauss(0, DIR_WALK_DEG)) % 360
        speed = max(0.6, 2.5 * math.exp(rng.gauss(0, 0.4)))
        diurnal = DIURNAL_UG_M3 * math.cos(2 * math.pi * (t.hour - 6) / 24)
        stamp = t.isoformat()
        for sid, lon, lat in stations:
            dx, dy = to_xy(lon, lat)
            c = plume_ug_m3(SOURCE_RATE_G_S, speed, wind_from, dx, dy)
            polluted += c > 5.0
            value = (BACKGROUND_UG_M3 + diurnal + c) * math.exp(rng.gauss(0, NOISE_FRACTION))
            rows.append(f"{sid},{stamp},so2,{value:.3f},ug/m3,PT1H")
            rows.append(f"{sid},{stamp},wind_speed,{speed * math.exp(rng.gauss(0, 0.05)):.2f},m/s,PT1H")
            rows.append(f"{sid},{stamp},wind_dir,{(wind_from + rng.gauss(0, 5)) % 360:.1f},deg,PT1H")
    with open(out / "readings.csv", "w") as f:
        f.write("station_id,time,variable,value,unit,period\n")
        f.write("\n".join(rows) + "\n")
    (out / "case.json").write_text(json.dumps(
        {"name": f"regions twin seed {a.seed}", "pollutant": "so2", "units": "ug/m3", "timezone": "+08:00"},
        indent=2) + "\n")
    (out / "truth.json").write_text(json.dumps(
        {"source": {"lon": src_lon, "lat": src_lat, "rate_g_s": SOURCE_RATE_G_S},
         "stations": len(stations), "hours": hours, "polluted_station_hours": polluted}, indent=2) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Peer implementation of plume_sensitivity_batch in numpy (same formula, same receptors).

Usage: /usr/bin/python3 scripts/plume_numpy.py [--n N] [--repeat R] [--check DUMP_CSV]

Prints "numpy: N pairs, best T s, X pairs/s" (single thread: numpy's ufuncs are single-threaded).
With --check, reads the C++ values written by `plume_bench --dump-values=M` and prints the
maximum relative difference over the receptors where the reference is > 1e-250.

Formula (ISC3 rural Pasquill-Gifford, EPA-454/B-95-003b Vol. II): x, y = downwind/crosswind
offsets for a wind from `dir` (radians clockwise from north); x_km = max(x, 1 m)/1000;
sy = 465.11628 x_km tan(0.017453293 (c - d ln x_km)); sz = min(a x_km^b, 5000) on the Table
1-2 segment; C/Q = exp(-y^2/2sy^2) / (2 pi u sy sz) * sum of vertical images (ground + lid at
zi: n = 0 for all, |n| = 1 (and 2) where the nearest such lid image is within 8.5 sz; 1/zi well mixed when
sz > 1.6 zi), zero upwind (upwind receptors are masked out before the math, as in C++).
"""
import argparse
import sys
import time

import numpy as np

DIR, U, H, ZI = 0.7, 4.0, 30.0, 800.0
# ISC3 class D (Table 1-1 c, d; Table 1-2 segment upper bounds in km, a, b)
C_D, D_D = 8.3330, 0.72382
BOUNDS = np.array([0.30, 1.00, 3.00, 10.00, 30.00])
A = np.array([34.459, 32.093, 32.093, 33.504, 36.650, 44.053])
B = np.array([0.86974, 0.81066, 0.64403, 0.60486, 0.56589, 0.51179])


def receptors(n):
    i = np.arange(n, dtype=np.float64)
    r = 50.0 + 19950.0 * ((i * 0.6180339887498949) % 1.0)
    az = 2.0 * np.pi * ((i * 0.7548776662466927) % 1.0)
    return r * np.cos(az), r * np.sin(az), 1.5 + 10.0 * ((i * 0.5698402909980532) % 1.0)


def plume_sensitivity(dx, dy, z, wind_dir=DIR, u=U, h=H, zi=ZI):
    sn, cs = np.sin(wind_dir), np.cos(wind_dir)
    x_all = -(dx * sn + dy * cs)
    down = x_all > 0.0  # upwind receptors are 0: compute only the downwind ones (as C++ does)
    x = x_all[down]
    y = dx[down] * cs - dy[down] * sn
    z = z[down]
    xkm = np.maximum(x, 1.0) * 1e-3
    lx = np.log(xkm)
    sy = 465.11628 * xkm * np.tan(0.017453293 * (C_D - D_D * lx))
    seg = np.searchsorted(BOUNDS, xkm, side="left")  # upper bounds inclusive
    sz = np.minimum(A[seg] * np.exp(B[seg] * lx), 5000.0)
    ay = -0.5 * (y / sy) ** 2
    iz = 0.5 / (sz * sz)
    dm, dp = z - h, z + h
    t = np.exp(ay - dm * dm * iz) + np.exp(ay - dp * dp * iz)
    # Lid images only where they matter (as C++): |n| = 1 where the nearest one is within 8.5 sz,
    # |n| = 2 where the nearest of those is too.
    for n_abs, reach in ((1, 2.0 * zi - z - h), (2, 4.0 * zi - z - h)):
        near = reach < 8.5 * sz
        if not near.any():
            break
        ayn, izn, dmn, dpn = ay[near], iz[near], dm[near], dp[near]
        extra = np.zeros(ayn.shape)
        for n in (-n_abs, n_abs):
            off = 2.0 * n * zi
            extra += np.exp(ayn - (dmn + off) ** 2 * izn) + np.exp(ayn - (dpn + off) ** 2 * izn)
        t[near] += extra
    c = t / (2.0 * np.pi * u * sy * sz)
    mixed = sz > 1.6 * zi
    if mixed.any():
        c[mixed] = np.exp(ay[mixed]) / (np.sqrt(2.0 * np.pi) * sy[mixed] * u * zi)
    out = np.zeros(dx.shape)
    out[down] = c
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=65536)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--check", help="CSV from plume_bench --dump-values=M")
    args = ap.parse_args()
    dx, dy, z = receptors(args.n)
    plume_sensitivity(dx, dy, z)  # warm-up
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.process_time()
        out = plume_sensitivity(dx, dy, z)
        best = min(best, time.process_time() - t0)
    print(f"numpy: {args.n} pairs, best {best:.6f} s, {args.n / best:.6g} pairs/s")
    if args.check:
        ref = np.loadtxt(args.check, delimiter=",", skiprows=1)
        m = ref.shape[0]
        # Same formula on the C++ receptor coordinates (numpy's SIMD sin/cos may differ from
        # libm's in the last bit, so the receptors are taken from the dump, not rebuilt).
        dx2, dy2, z2 = ref[:, 1], ref[:, 2], ref[:, 3]
        mine = plume_sensitivity(dx2, dy2, z2)
        sel = ref[:, 4] > 1e-250
        diff = np.abs(mine[sel] - ref[sel, 4]) / ref[sel, 4]
        zero_ok = np.all(mine[~sel] <= 1e-250)
        print(f"check: {m} receptors, {sel.sum()} nonzero, max rel diff {diff.max():.3e}, "
              f"zeros agree: {bool(zero_ok)}")
        if diff.max() > 1e-9 or not zero_ok:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

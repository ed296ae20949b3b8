#!/usr/bin/env python3
"""Twin-experiment evaluation: generate incidents with the independent simulator plumetrace-twin,
trace each with `plumetrace trace --json`, and score the rankings against truth.json (accuracy per
kind and the calibration of the top hypothesis's probability). See docs/twins.md.

Usage:
  scripts/twin-eval.py [--kinds single,none,...] [--seeds 1-6] [--windows given] [--jobs 1]
                       [--tracer PATH] [--sim PATH] [--sim-args "..."] [--keep DIR] [--json OUT] [--timeout S]

Seeds: 1-9999 are development seeds (tune on these). Seeds 900000 and above are ACCEPTANCE seeds:
run them once, at the very end, with the model frozen, and report what they give; they are refused
unless --acceptance is given.

Windows (--windows, comma-separated, each incident traced once per mode): `given` (truth.json's
window: the release rounded out to whole hours), `none` (no --start/--end), `early` and `late`
(the given window shifted 2 h earlier or later).

Incidents whose release no instrument could see (truth.json `detectable: false`: the simulator
found no weather, network and route, in 60 blind draws, under which the release raises an alarm)
are traced but not scored unless --include-undetectable is given; their count is printed.

Fields missing from a ranking (say `no_release` before it exists) count as probability 0, so the
same harness scores today's tracer and the next one. Python 3 standard library only.
"""

import argparse
import concurrent.futures
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import statistics
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_KINDS = ["single", "none", "unlisted", "pair", "field", "field-noreg", "border", "hotstack", "large"]
ONE_CULPRIT = {"single", "border", "hotstack", "large", "field"}
UNLISTED_KINDS = {"unlisted", "field-noreg"}
ACCEPTANCE_FIRST_SEED = 900000


# Targets of issue #7's acceptance list, shown beside the figures: (kind or "*", metric) -> text.
# A kind's own entry wins over "*". Fractions are of incidents (or culprits, for rates).
TARGETS = {
    ("field", "culprit_first"): ">= 95 %", ("field", "rate_within_x2"): ">= 90 %",
    ("field-noreg", "unlisted_peak_m_median"): "<= 25 m",
    ("*", "culprit_first"): ">= 90 %", ("large", "culprit_first"): ">= 50 %", ("large", "culprit_top5"): ">= 90 %",
    ("large", "runtime_s_median"): "< 10 s on 2 cores",
    ("*", "rate_within_x2"): ">= 80 %", ("pair", "pair_both_top2"): ">= 80 %", ("pair", "pair_both_rates_x2"): ">= 70 %",
    ("none", "no_release_ge_0.5_and_no_facility_ge_0.5"): ">= 90 %", ("*", "no_release_median"): "<= 0.05",
    ("none", "no_release_median"): "",
    ("*", "unlisted_ge_0.5"): ">= 90 %", ("*", "unlisted_peak_m_median"): "<= 200 m", ("*", "unlisted_median"): "<= 0.1",
    ("*", "rate_p05_p95_covers"): "85-95 %", ("border", "cross_border_right"): "all",
}


def target(kind, metric):
    return TARGETS.get((kind, metric), TARGETS.get(("*", metric), ""))


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            seeds.extend(range(int(a), int(b) + 1))
        else:
            seeds.append(int(part))
    return seeds


def distance_m(lon1, lat1, lon2, lat2):
    r, k = 6371008.8, math.pi / 180
    a = math.sin((lat2 - lat1) * k / 2) ** 2 + math.cos(lat1 * k) * math.cos(lat2 * k) * math.sin((lon2 - lon1) * k / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def shift_iso(text, hours):
    t = dt.datetime.fromisoformat(text) + dt.timedelta(hours=hours)
    return t.isoformat()


def window_args(truth, mode):
    given = truth.get("given_window") or truth.get("window")
    if mode == "none" or not given:
        return []
    shift = {"given": 0, "early": -2, "late": 2}[mode]
    return ["--start", shift_iso(given[0], shift), "--end", shift_iso(given[1], shift)]


def prob(obj, *path):
    """A probability deep in the ranking, 0 when any step is missing or not a number."""
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return 0.0
        obj = obj[key]
    return float(obj) if isinstance(obj, (int, float)) else 0.0


def rate_of(obj):
    r = (obj or {}).get("emission_rate_g_s") or {}
    return r.get("estimate"), r.get("p05"), r.get("p95")


def score(truth, ranking):
    """Everything the summary needs from one incident, as a flat dict."""
    kind = truth["kind"]
    cands = ranking.get("candidates") or []
    by_id = {c.get("id"): (i + 1, c) for i, c in enumerate(cands)}
    culprits = truth.get("culprits") or []
    ids = {c["id"] for c in culprits}
    out = {"kind": kind, "ranks": [], "rate_ratio": [], "covered": [], "cross_border": [], "top_id": cands[0].get("id") if cands else None}
    p_unlisted = prob(ranking, "unlisted", "probability")
    p_none = prob(ranking, "no_release", "probability")
    out["p_unlisted"], out["p_no_release"] = p_unlisted, p_none
    out["p_max_candidate"] = max((float(c.get("probability") or 0.0) for c in cands), default=0.0)
    for c in culprits:
        if c["id"] == "UNLISTED":
            peak = (ranking.get("unlisted") or {}).get("peak")
            if isinstance(peak, dict) and "lon" in peak:
                out["unlisted_peak_m"] = distance_m(peak["lon"], peak["lat"], c["lon"], c["lat"])
            est, p05, p95 = rate_of(ranking.get("unlisted"))
        else:
            rank, cand = by_id.get(c["id"], (0, None))
            out["ranks"].append(rank)
            est, p05, p95 = rate_of(cand)
            if c.get("county"):
                flagged = bool((cand or {}).get("cross_border", False))
                out["cross_border"].append(flagged == bool(c.get("expected_cross_border")))
        if est is not None and c["q_g_s"] > 0:
            out["rate_ratio"].append(est / c["q_g_s"])
            if p05 is not None and p95 is not None:
                out["covered"].append(p05 <= c["q_g_s"] <= p95)
    # the top hypothesis among candidates, unlisted and no_release
    best_name, best_p = "no_release", p_none
    if p_unlisted > best_p:
        best_name, best_p = "unlisted", p_unlisted
    if cands and out["p_max_candidate"] > best_p:
        top = max(cands, key=lambda c: float(c.get("probability") or 0.0))
        best_name, best_p = top.get("id"), out["p_max_candidate"]
    if best_name == "no_release":
        hit = not culprits
    elif best_name == "unlisted":
        hit = "UNLISTED" in ids
    else:
        hit = best_name in ids
    out["top_hypothesis"], out["top_p"], out["top_hit"] = best_name, best_p, bool(hit)
    out["temper"] = ((ranking.get("diagnostics") or {}).get("tempering") or {}).get("temper")
    return out


def run_one(task, args, work):
    kind, seed, modes = task
    inc = os.path.join(work, f"{kind}-{seed}")
    results = []
    t0 = time.time()
    sim = subprocess.run([args.sim, "--kind", kind, "--seed", str(seed), "--out", inc] + args.sim_args.split(),
                         capture_output=True, text=True)
    sim_s = time.time() - t0
    if sim.returncode != 0:
        return [{"kind": kind, "seed": seed, "mode": m, "error": "simulator: " + sim.stderr.strip()[:300]} for m in modes]
    with open(os.path.join(inc, "truth.json")) as f:
        truth = json.load(f)
    for mode in modes:
        cmd = [args.tracer, "trace", os.path.join(inc, "case"), "--json"] + window_args(truth, mode) + args.trace_args.split()
        t1 = time.time()
        try:
            tr = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            results.append({"kind": kind, "seed": seed, "mode": mode, "error": f"tracer timed out after {args.timeout} s"})
            continue
        run_s = time.time() - t1
        with open(os.path.join(inc, f"ranking-{mode}.json"), "w") as f:
            f.write(tr.stdout)
        if tr.returncode != 0:
            results.append({"kind": kind, "seed": seed, "mode": mode, "error": f"tracer exit {tr.returncode}: {tr.stderr.strip()[:300]}"})
            continue
        try:
            ranking = json.loads(tr.stdout)
        except json.JSONDecodeError as e:
            results.append({"kind": kind, "seed": seed, "mode": mode, "error": f"ranking is not JSON: {e}"})
            continue
        s = score(truth, ranking)
        s.update({"seed": seed, "mode": mode, "runtime_s": run_s, "sim_s": sim_s, "detectable": truth.get("detectable", True),
                  "registry_size": truth.get("registry_size")})
        results.append(s)
    return results


def frac(values):
    values = list(values)
    return (sum(bool(v) for v in values), len(values))


def fmt_frac(pair):
    k, n = pair
    return f"{k}/{n} ({100.0 * k / n:.0f} %)" if n else "-"


def median(values):
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else float("nan")


def reliability(rows, bins=10):
    p = [float(r["top_p"]) for r in rows]
    hit = [1.0 if r["top_hit"] else 0.0 for r in rows]
    table = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [i for i, x in enumerate(p) if lo <= x and (x < hi or (b == bins - 1 and x <= hi))]
        n = len(sel)
        if n:
            conf, acc = sum(p[i] for i in sel) / n, sum(hit[i] for i in sel) / n
            ece += n / len(p) * abs(acc - conf)
            table.append({"bin": [lo, hi], "n": n, "mean_p": conf, "hit_rate": acc})
        else:
            table.append({"bin": [lo, hi], "n": 0, "mean_p": None, "hit_rate": None})
    return table, (ece if len(p) else float("nan"))


def summarise(rows, include_undetectable=False):
    skipped = [r for r in rows if "error" not in r and not r["detectable"] and not include_undetectable]
    rows = [r for r in rows if r not in skipped]
    ok = [r for r in rows if "error" not in r]
    kinds = [k for k in ALL_KINDS if any(r["kind"] == k for r in rows)]
    modes = sorted({r["mode"] for r in rows}, key=["given", "none", "early", "late"].index)
    summary = {"incidents": len(rows), "failed": len(rows) - len(ok), "undetectable_skipped": len(skipped), "groups": []}
    for kind in kinds:
        for mode in modes:
            g = [r for r in ok if r["kind"] == kind and r["mode"] == mode]
            failed = sum(1 for r in rows if r["kind"] == kind and r["mode"] == mode and "error" in r)
            if not g and not failed and not any(r["kind"] == kind and r["mode"] == mode for r in skipped):
                continue
            m = {"kind": kind, "mode": mode, "n": len(g), "failed": failed}
            ratios = [x for r in g for x in r["rate_ratio"]]
            if kind in ONE_CULPRIT:
                m["culprit_first"] = frac(r["ranks"] and r["ranks"][0] == 1 for r in g)
            if kind == "pair":
                m["pair_both_top2"] = frac(len(r["ranks"]) == 2 and all(1 <= x <= 2 for x in r["ranks"]) for r in g)
                m["pair_both_rates_x2"] = frac(len(r["rate_ratio"]) == 2 and all(0.5 <= x <= 2 for x in r["rate_ratio"]) for r in g)
            if any(r["ranks"] for r in g):
                m["culprit_top5"] = frac(all(1 <= x <= 5 for x in r["ranks"]) for r in g if r["ranks"])
            if kind != "none":
                m["rate_within_x2"] = frac(0.5 <= x <= 2 for x in ratios)
                m["rate_ratio_median"] = median(ratios)
                m["rate_p05_p95_covers"] = frac(x for r in g for x in r["covered"])
                m["no_release_median"] = median([r["p_no_release"] for r in g])
                m["no_release_le_0.05"] = frac(r["p_no_release"] <= 0.05 for r in g)
            else:
                m["no_release_ge_0.5_and_no_facility_ge_0.5"] = frac(r["p_no_release"] >= 0.5 and r["p_max_candidate"] < 0.5 for r in g)
                m["no_release_median"] = median([r["p_no_release"] for r in g])
                m["facility_ge_0.5"] = frac(r["p_max_candidate"] >= 0.5 for r in g)
            if kind in UNLISTED_KINDS:
                m["unlisted_ge_0.5"] = frac(r["p_unlisted"] >= 0.5 for r in g)
                m["unlisted_peak_m_median"] = median([r.get("unlisted_peak_m") for r in g])
                m["facility_ge_0.5"] = frac(r["p_max_candidate"] >= 0.5 for r in g)
            elif kind != "none":
                m["unlisted_median"] = median([r["p_unlisted"] for r in g])
            xb = [x for r in g for x in r["cross_border"]]
            if xb:
                m["cross_border_right"] = frac(xb)
            m["runtime_s_median"] = median([r["runtime_s"] for r in g])
            m["runtime_s_max"] = max((r["runtime_s"] for r in g), default=float("nan"))
            m["sim_s_max"] = max((r["sim_s"] for r in g), default=float("nan"))
            m["undetectable"] = sum(1 for r in g if not r["detectable"])  # only with --include-undetectable
            m["skipped_undetectable"] = sum(1 for r in skipped if r["kind"] == kind and r["mode"] == mode)
            summary["groups"].append(m)
    table, ece = reliability(ok)
    summary["reliability"] = table
    summary["ece"] = ece
    summary["top_hit_rate"] = frac(r["top_hit"] for r in ok)
    summary["top_p_mean"] = statistics.fmean([r["top_p"] for r in ok]) if ok else float("nan")
    return summary


def print_summary(summary, rows, out=sys.stdout):
    p = lambda *a: print(*a, file=out)
    p(f"incidents scored: {summary['incidents'] - summary['failed']}, failed: {summary['failed']}, "
      f"skipped as undetectable: {summary['undetectable_skipped']}")
    for r in rows:
        if "error" in r:
            p(f"  FAILED {r['kind']} {r['seed']} {r['mode']}: {r['error']}")
    for m in summary["groups"]:
        p(f"\n[{m['kind']} / window {m['mode']}] n = {m['n']}" + (f", failed {m['failed']}" if m["failed"] else "")
          + (f", undetectable {m['undetectable']}" if m["undetectable"] else "")
          + (f" (skipped {m['skipped_undetectable']} undetectable)" if m["skipped_undetectable"] else ""))
        for key, value in m.items():
            if key in ("kind", "mode", "n", "failed", "undetectable", "skipped_undetectable"):
                continue
            text = fmt_frac(value) if isinstance(value, tuple) else f"{value:.3g}"
            goal = target(m["kind"], key)
            p(f"  {key:42} {text:18} {('target ' + goal) if goal else ''}".rstrip())
    p("\nreliability of the top hypothesis (candidates, unlisted, no_release):")
    p(f"  {'bin':>11} {'n':>5} {'mean p':>8} {'hit rate':>9}")
    for b in summary["reliability"]:
        lo, hi = b["bin"]
        if b["n"]:
            p(f"  {lo:.1f}-{hi:.1f}    {b['n']:5d} {b['mean_p']:8.3f} {b['hit_rate']:9.3f}")
        else:
            p(f"  {lo:.1f}-{hi:.1f}    {0:5d} {'-':>8} {'-':>9}")
    p(f"  top hypothesis right {fmt_frac(summary['top_hit_rate'])}, mean p {summary['top_p_mean']:.3f}, "
      f"expected calibration error {summary['ece']:.3f} (target <= 0.05; CI fails above 0.08)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kinds", default=",".join(ALL_KINDS), help="comma-separated kinds (default all)")
    ap.add_argument("--seeds", default="1-6", help="development seeds, e.g. 1-6 or 1,5,9 (default 1-6)")
    ap.add_argument("--windows", default="given", help="window modes: given,none,early,late (default given)")
    ap.add_argument("--jobs", type=int, default=1, help="incidents in parallel (default 1)")
    ap.add_argument("--tracer", default=os.path.join(ROOT, "build", "release", "plumetrace"))
    ap.add_argument("--sim", default=os.path.join(ROOT, "build", "release", "plumetrace-twin"))
    ap.add_argument("--keep", help="keep the incidents and rankings in this folder")
    ap.add_argument("--json", help="write the machine-readable summary (and every incident's score) here")
    ap.add_argument("--sim-args", default="", help='extra simulator options for every incident, e.g. "--permitted-scale 0 --no-car"')
    ap.add_argument("--trace-args", default="", help='extra tracer options for every trace, e.g. "--usual-emissions off"')
    ap.add_argument("--timeout", type=float, default=600, help="seconds per trace (default 600)")
    ap.add_argument("--include-undetectable", action="store_true",
                    help="also score incidents whose release no station or car could see (truth detectable: false)")
    ap.add_argument("--acceptance", action="store_true", help="allow acceptance seeds (>= 900000): run them once, at the end")
    args = ap.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    for k in kinds:
        if k not in ALL_KINDS:
            ap.error(f"unknown kind {k} (known: {', '.join(ALL_KINDS)})")
    modes = [m for m in args.windows.split(",") if m]
    for m in modes:
        if m not in ("given", "none", "early", "late"):
            ap.error(f"unknown window mode {m}")
    seeds = parse_seeds(args.seeds)
    if any(s >= ACCEPTANCE_FIRST_SEED for s in seeds) and not args.acceptance:
        ap.error(f"seeds >= {ACCEPTANCE_FIRST_SEED} are acceptance seeds: run them once at the end, with --acceptance")
    for prog in (args.tracer, args.sim):
        if not os.access(prog, os.X_OK):
            ap.error(f"no executable at {prog} (JOBS=1 bash scripts/build.sh release plumetrace plumetrace-twin)")
    # the evaluation's audit records go beside the tracer, not into the user's audit log
    os.environ.setdefault("PLUMETRACE_AUDIT_LOG",
                          os.path.join(os.path.dirname(os.path.abspath(args.tracer)), "test-audit", "twin-eval.log"))
    work = args.keep or tempfile.mkdtemp(prefix="twin-eval-")
    os.makedirs(work, exist_ok=True)
    tasks = [(k, s, modes) for k in kinds for s in seeds]
    rows = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for done in pool.map(lambda t: run_one(t, args, work), tasks):
                for r in done:
                    rows.append(r)
                    if "error" in r:
                        print(f"{r['kind']:12} {r['seed']:>7} {r['mode']:6} FAILED", file=sys.stderr)
                    else:
                        print(f"{r['kind']:12} {r['seed']:>7} {r['mode']:6} top {str(r['top_hypothesis']):10} p {r['top_p']:.2f} "
                              f"{'hit ' if r['top_hit'] else 'miss'} ranks {r['ranks']} rates "
                              f"{[round(x, 2) for x in r['rate_ratio']]} temper {r['temper']} {r['runtime_s']:.1f} s", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    summary = summarise(rows, args.include_undetectable)
    print_summary(summary, rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "incidents": rows, "tracer": args.tracer, "seeds": args.seeds, "windows": modes},
                      f, indent=1, default=lambda o: list(o) if isinstance(o, tuple) else str(o))
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

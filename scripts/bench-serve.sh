#!/usr/bin/env bash
# The HTTP service's benchmarks (issue #8 item 5), side by side in one run. Builds nothing.
#
#   scripts/bench-serve.sh [BUILD_DIR] [SECONDS]        (defaults: build/release, 10)
#
# On the benchmarks' GeoTIFF (scripts/make-bench-posterior.py: 500 x 500 cells of 100 m, UTM 50N),
# uploaded to a fresh `plumetrace serve` as the case layer imagery/posterior:
#  (a) rendered tiles/s per core: the server pinned to one CPU (taskset) with --tile-cache-mb 0,
#      wrk (on the other CPU, 2 connections) cycling over every tile of zooms 10-14 touching the
#      raster, so that every request renders (goal >= 300);
#  (b) a cached tile: `wrk -c 50` on one tile of the same server restarted with the default cache,
#      both CPUs shared by server and wrk (goal >= 20,000 requests/s);
#  (c) slow headers: 40 clients trickle one header byte each 0.5 s (reconnecting when the server's
#      10 s read timeout drops them) while a client times normal requests on fresh connections,
#      one each 20 ms (goal: < 50 ms);
#  (d) the pyramid writer vs gdaldem + gdal2tiles (scripts/bench-tiles-vs-gdal2tiles.sh, zooms 9-15).
# Needs wrk, taskset (util-linux), Debian's python3 with python3-gdal and numpy, gdal2tiles.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-build/release}"
secs="${2:-10}"
case "$build" in /*) ;; *) build="$here/$build" ;; esac
bin="$build/plumetrace"
py=/usr/bin/python3
for tool in wrk taskset "$py"; do
  command -v "$tool" >/dev/null || { echo "bench-serve: $tool is missing (scripts/setup-deps.sh)" >&2; exit 2; }
done
[[ -x "$bin" ]] || { echo "no $bin: build it first (scripts/build.sh release plumetrace)" >&2; exit 2; }
tmp="$(mktemp -d)"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
trap 'stop_server; rm -rf "$tmp"' EXIT

# start_server CACHE_MB [taskset CPU list]: sets $port
start_server() {
  local cache_mb="$1" cpus="${2:-}"
  local -a pin=()
  [[ -n "$cpus" ]] && pin=(taskset -c "$cpus")
  "${pin[@]}" "$bin" serve --data "$tmp/data" --listen 127.0.0.1:0 --tile-cache-mb "$cache_mb" > "$tmp/serve.out" 2> "$tmp/serve.err" &
  server_pid=$!
  for _ in $(seq 100); do
    [[ -s "$tmp/serve.out" ]] && break
    sleep 0.1
  done
  port="$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/serve.out")"
  [[ -n "$port" ]] || { echo "bench-serve: the server did not start: $(cat "$tmp/serve.err")" >&2; exit 1; }
}

# CPU seconds (user + system) the server has used so far
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$server_pid/stat"; }
# REQUESTS / SECONDS with 1 decimal
per() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}'; }
# the number of requests wrk reported ("N requests in ...")
wrk_requests() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p'; }

echo "bench-serve: $(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $("$bin" --version)"
"$py" "$here/scripts/make-bench-posterior.py" "$tmp" "$here/src/render/colormap_tables.hpp"
rescale="$(cat "$tmp/rescale")"
query="colormap_name=viridis&rescale=$rescale"

start_server 0
curl -sf -T "$tmp/posterior.tif" "http://127.0.0.1:$port/api/v1/cases/bench/files/imagery/posterior.tif" >/dev/null
curl -sf "http://127.0.0.1:$port/tiles/bench/imagery/posterior/tilejson.json" > "$tmp/tilejson.json"

# every tile of zooms 10-14 touching the raster's bounds, as wrk's request list
"$py" - "$tmp/tilejson.json" "$query" > "$tmp/tiles.lua" <<'PY'
import json, math, sys
tj = json.load(open(sys.argv[1])); q = sys.argv[2]
w, s, e, n = tj["bounds"]
def tile(lon, lat, z):
    k = 2 ** z; r = math.radians(lat)
    return int((lon + 180) / 360 * k), int((1 - math.asinh(math.tan(r)) / math.pi) / 2 * k)
urls = []
for z in range(10, 15):
    x0, y0 = tile(w, n, z); x1, y1 = tile(e, s, z)
    urls += [f"/tiles/bench/imagery/posterior/{z}/{x}/{y}.png?{q}" for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
print("local urls = {" + ",".join(f'"{u}"' for u in urls) + "}")
print("local i = 0")
print("request = function() i = i % #urls + 1; return wrk.format('GET', urls[i]) end")
print(f"-- {len(urls)} tiles", file=sys.stderr)
PY
stop_server

# (a) rendered tiles/s on one core, no cache
start_server 0 0
cpu0="$(server_cpu)"
wrk_a="$(taskset -c 1 wrk -t1 -c2 -d"${secs}s" -s "$tmp/tiles.lua" "http://127.0.0.1:$port" 2>&1)"
cpu_a="$(awk -v a="$cpu0" -v b="$(server_cpu)" 'BEGIN {printf "%.2f", b - a}')"
stop_server
echo "$wrk_a" | grep -q "Non-2xx" && { echo "bench-serve: (a) had errors:"; echo "$wrk_a"; exit 1; }
rate_a="$(echo "$wrk_a" | sed -n 's/^Requests\/sec: *//p')"
n_a="$(echo "$wrk_a" | wrk_requests)"
echo "(a) rendered tiles, server pinned to 1 CPU, cache off, zooms 10-14 ($(grep -o '"/tiles' "$tmp/tiles.lua" | wc -l) tiles cycled): $rate_a tiles/s wall on that CPU; $n_a tiles in $cpu_a s of server CPU time = $(per "$n_a" "$cpu_a") tiles per CPU-second (goal >= 300 per core)"

# (b) one cached tile, wrk -c 50
start_server 256
"$py" - "$tmp/tilejson.json" "$query" > "$tmp/one.url" <<'PY'
import json, math, sys
tj = json.load(open(sys.argv[1])); w, s, e, n = tj["bounds"]
z = 12; k = 2 ** z; lon, lat = (w + e) / 2, (s + n) / 2
x = int((lon + 180) / 360 * k); y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k)
print(f"/tiles/bench/imagery/posterior/{z}/{x}/{y}.png?{sys.argv[2]}")
PY
one="$(cat "$tmp/one.url")"
curl -sf -o "$tmp/one.png" "http://127.0.0.1:$port$one"
cpu0="$(server_cpu)"
wrk_b="$(wrk -t2 -c50 -d"${secs}s" "http://127.0.0.1:$port$one" 2>&1)"
cpu_b="$(awk -v a="$cpu0" -v b="$(server_cpu)" 'BEGIN {printf "%.2f", b - a}')"
echo "$wrk_b" | grep -q "Non-2xx" && { echo "bench-serve: (b) had errors:"; echo "$wrk_b"; exit 1; }
rate_b="$(echo "$wrk_b" | sed -n 's/^Requests\/sec: *//p')"
lat_b="$(echo "$wrk_b" | awk '/Latency/ {print $2" mean, "$4" max"}')"
n_b="$(echo "$wrk_b" | wrk_requests)"
echo "(b) one cached tile ($(stat -c %s "$tmp/one.png") bytes), wrk -t2 -c50, server and wrk on the same 2 CPUs: $rate_b requests/s, latency $lat_b; $n_b requests in $cpu_b s of server CPU time = $(per "$n_b" "$cpu_b") per CPU-second (goal >= 20,000 requests/s)"

# (c) 40 slow-header clients, normal requests timed
"$py" - "$port" "$secs" "$one" <<'PY'
import socket, statistics, sys, threading, time
port, secs, path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
stop = time.monotonic() + secs
drops = [0]
def slow():
    while time.monotonic() < stop:
        s = None
        try:
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            while time.monotonic() < stop:
                s.sendall(b"X"); time.sleep(0.5)
        except OSError:
            drops[0] += 1
        finally:
            if s: s.close()
slows = [threading.Thread(target=slow, daemon=True) for _ in range(40)]
for t in slows: t.start()
time.sleep(1.0)
lat = []
req = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
while time.monotonic() < stop:
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(req)
        data = b""
        while True:
            b = s.recv(65536)
            if not b: break
            data += b
    lat.append((time.perf_counter() - t0) * 1000)
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    time.sleep(0.02)
lat.sort()
p95 = lat[int(0.95 * (len(lat) - 1))]
print(f"(c) 40 slow-header clients: {len(lat)} normal requests, latency median {statistics.median(lat):.2f} ms, "
      f"p95 {p95:.2f} ms, max {lat[-1]:.2f} ms (goal < 50 ms; slow clients dropped by the read timeout and reconnected: {drops[0]})")
PY
stop_server

# (d) the pyramid writer vs gdaldem color-relief + gdal2tiles (BENCH_SERVE_PYRAMID=0 skips it)
[[ "${BENCH_SERVE_PYRAMID:-1}" == 0 ]] || echo "(d) $(bash "$here/scripts/bench-tiles-vs-gdal2tiles.sh" "$build" 9-15 | tr '\n' ' ')"
echo "bench-serve: done, load average $(cut -d' ' -f1-3 /proc/loadavg)"

// Plume sensitivity kernel benchmark: pairs (source x receptor) per second, one core.
//
//   plume_bench [--benchmark_* flags]       Google Benchmark run (items_per_second = pairs/s)
//   plume_bench --dump-values=N             print "i,dx,dy,z,value" for the bench receptors
//                                           (used by scripts/bench-plume-vs-numpy.sh to
//                                           cross-check scripts/plume_numpy.py)
//
// Receptors are a deterministic low-discrepancy set (no RNG, so numpy can rebuild it exactly):
// r = 50 + 19950 frac(i φ1) m, azimuth 2π frac(i φ2), z = 1.5 + 10 frac(i φ3) m, all around the
// source; scenario: wind from 0.7 rad at 4 m/s, h_eff 30 m, class D, ISC3 rural, zi 800 m.

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "plumetrace/kernels/plume.hpp"

namespace {

using namespace plumetrace;

constexpr double kDir = 0.7;
constexpr double kU = 4.0;
constexpr double kH = 30.0;
constexpr double kZi = 800.0;

struct Receptors {
  std::vector<double> dx, dy, z;
};

double frac(double v) { return v - std::floor(v); }

Receptors make_receptors(std::size_t n) {
  Receptors r;
  r.dx.resize(n);
  r.dy.resize(n);
  r.z.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double di = static_cast<double>(i);
    const double rad = 50.0 + 19950.0 * frac(di * 0.6180339887498949);
    const double az = 2.0 * M_PI * frac(di * 0.7548776662466927);
    r.dx[i] = rad * std::cos(az);
    r.dy[i] = rad * std::sin(az);
    r.z[i] = 1.5 + 10.0 * frac(di * 0.5698402909980532);
  }
  return r;
}

void BM_PlumeSensitivityBatch(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const Receptors r = make_receptors(n);
  std::vector<double> out(n);
  for (auto _ : state) {
    plume_sensitivity_batch(r.dx.data(), r.dy.data(), r.z.data(), n, kDir, kU, kH,
                            SigmaScheme::Isc3Rural, Stability::D, kZi, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.counters["pairs_per_s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PlumeSensitivityBatch)->Arg(4096)->Arg(65536)->Arg(1 << 20);

/// The scalar reference path (dispersion_sigmas + gaussian_plume_g_m3 per pair), for context.
void BM_PlumeScalarReference(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const Receptors r = make_receptors(n);
  std::vector<double> out(n);
  const double sn = std::sin(kDir), cs = std::cos(kDir);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      const double x = -(r.dx[i] * sn + r.dy[i] * cs);
      const double y = r.dx[i] * cs - r.dy[i] * sn;
      out[i] = gaussian_plume_g_m3(1.0, kU, x, y, r.z[i], kH, SigmaScheme::Isc3Rural,
                                   Stability::D, kZi);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}
BENCHMARK(BM_PlumeScalarReference)->Arg(65536);

int dump_values(std::size_t n) {
  const Receptors r = make_receptors(n);
  std::vector<double> out(n);
  plume_sensitivity_batch(r.dx.data(), r.dy.data(), r.z.data(), n, kDir, kU, kH,
                          SigmaScheme::Isc3Rural, Stability::D, kZi, out.data());
  std::printf("i,dx,dy,z,value\n");
  for (std::size_t i = 0; i < n; ++i) {
    std::printf("%zu,%.17g,%.17g,%.17g,%.17g\n", i, r.dx[i], r.dy[i], r.z[i], out[i]);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--dump-values=", 14) == 0) {
      return dump_values(static_cast<std::size_t>(std::strtoull(argv[i] + 14, nullptr, 10)));
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Benchmarks of the met/trajectory hot paths: WindField::wind and wind_batch (IDW over stations,
// bilinear on a grid), Heun trajectories, and backward particle footprints (particle-steps per second).

#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "plumetrace/kernels/trajectory.hpp"
#include "plumetrace/met/wind_field.hpp"

using namespace plumetrace;

namespace {

constexpr double kT0 = 1622505600.0;

/// A station field built by hand: `n` stations scattered over 20 km, `hours` hourly slices.
WindField station_field(int n, int hours) {
  WindField f;
  for (int i = 0; i < n; ++i)
    f.nodes.push_back({20000.0 * std::fmod(0.618 * (i + 1), 1.0) - 10000,
                       20000.0 * std::fmod(0.414 * (i + 1), 1.0) - 10000});
  for (int h = 0; h < hours; ++h) {
    WindField::Slice s;
    s.t = kT0 + 3600.0 * h + 1800;
    for (int i = 0; i < n; ++i) {
      const double dir = 0.3 * h + 0.1 * i;
      s.u.push_back(static_cast<float>(3 * std::cos(dir)));
      s.v.push_back(static_cast<float>(3 * std::sin(dir)));
      s.speed.push_back(3.2f);
    }
    s.stability = Stability::C;
    s.mixing_height_m = 900;
    s.obukhov_length_m = std::nan("");
    s.friction_velocity_m_s = std::nan("");
    f.slices.push_back(std::move(s));
  }
  f.finalize();
  return f;
}

Grid bench_grid() {
  Grid g;
  g.x0_m = -20000;
  g.y1_m = 20000;
  g.cell_m = 200;
  g.cols = 200;
  g.rows = 200;
  return g;
}

void BM_WindIdw(benchmark::State& state) {
  const WindField f = station_field(static_cast<int>(state.range(0)), 24);
  double x = 0, y = 0, t = kT0 + 100, acc = 0;
  for (auto _ : state) {
    double u, v;
    f.wind(x, y, t, u, v);
    acc += u;
    x += 13.7;
    y -= 7.1;
    t += 11.0;
    if (x > 10000) x = -10000;
    if (y < -10000) y = 10000;
    if (t > kT0 + 23 * 3600) t = kT0 + 100;
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(state.iterations());
  state.counters["wind_calls_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WindIdw)->Arg(5)->Arg(20);

/// WindField::wind_batch on 1000 points in release order (as particle_footprint calls it): times
/// spread over 1 h, so one block of 8 in ~125 straddles a slice time.
void BM_WindIdwBatch(benchmark::State& state) {
  const WindField f = station_field(static_cast<int>(state.range(0)), 24);
  constexpr std::size_t n = 1000;
  std::vector<double> x(n), y(n), t(n), u(n), v(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = -9000 + 18.1 * i;
    y[i] = 8000 - 15.3 * i;
    t[i] = kT0 + 6 * 3600 + 3.6 * i;
  }
  for (auto _ : state) {
    f.wind_batch(x.data(), y.data(), t.data(), n, u.data(), v.data());
    benchmark::DoNotOptimize(u.data());
    for (std::size_t i = 0; i < n; ++i) t[i] = t[i] > kT0 + 20 * 3600 ? t[i] - 12 * 3600 : t[i] + 30;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_WindIdwBatch)->Arg(5)->Arg(20);

void BM_WindGridded(benchmark::State& state) {
  std::vector<EpochSeconds> times;
  for (int k = 0; k < 24; ++k) times.push_back(kT0 + 3600.0 * k);
  const WindField f = WindField::from_function(
      -50000, 50000, 1000, 1000, 101, 101, times,
      [](double x, double y, EpochSeconds, double& u, double& v) {
        u = -1e-4 * y;
        v = 1e-4 * x;
      });
  double x = 0, y = 0, t = kT0 + 100, acc = 0;
  for (auto _ : state) {
    double u, v;
    f.wind(x, y, t, u, v);
    acc += u;
    x += 137.7;
    y -= 71.1;
    t += 11.0;
    if (x > 50000) x = -50000;
    if (y < -50000) y = 50000;
    if (t > kT0 + 23 * 3600) t = kT0 + 100;
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(state.iterations());
  state.counters["wind_calls_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WindGridded);

void BM_TrajectoryHeun(benchmark::State& state) {
  const WindField f = station_field(20, 24);
  std::size_t steps = 0;
  for (auto _ : state) {
    const auto tr = trajectory(f, 0, 0, kT0 + 12 * 3600, -6 * 3600, 60);
    steps += tr.size() - 1;
    benchmark::DoNotOptimize(tr.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(steps));
}
BENCHMARK(BM_TrajectoryHeun);

/// particle_footprint: 1000 particles, 3 h back at dt = 30 s (360 steps each).
void footprint_bench(benchmark::State& state, const WindField& f) {
  const Grid g = bench_grid();
  FootprintOptions o;
  o.particles = 1000;
  o.duration_s = 3 * 3600;
  o.dt_s = 30;
  std::int64_t particle_steps = 0;
  for (auto _ : state) {
    const auto fp = particle_footprint(f, g, 0, 0, kT0 + 12 * 3600, 3600, o);
    benchmark::DoNotOptimize(fp.data());
    particle_steps += static_cast<std::int64_t>(o.particles) * 360;
  }
  state.SetItemsProcessed(particle_steps);
  state.counters["particle_steps_per_s"] = benchmark::Counter(static_cast<double>(particle_steps), benchmark::Counter::kIsRate);
}

void BM_FootprintUniform(benchmark::State& state) {
  footprint_bench(state, WindField::uniform(3, 1, Stability::C, 900));
}
BENCHMARK(BM_FootprintUniform)->Unit(benchmark::kMillisecond);

void BM_FootprintStations(benchmark::State& state) {
  footprint_bench(state, station_field(static_cast<int>(state.range(0)), 24));
}
BENCHMARK(BM_FootprintStations)->Arg(5)->Arg(20)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

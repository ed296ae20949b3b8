// `plumetrace regions` end to end (load_case + run_regions) on a month of hourly readings at 10
// stations, made by scripts/make-regions-case.py (scripts/bench-regions.sh makes it and sets
// PLUMETRACE_BENCH_REGIONS_CASE). Goal (issue #9 item 6): under 60 s on 2 cores.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "plumetrace/ingest/case.hpp"
#include "plumetrace/outputs/regions.hpp"

namespace {

void BM_RegionsMonth10Stations(benchmark::State& state) {
  const char* dir = std::getenv("PLUMETRACE_BENCH_REGIONS_CASE");
  if (dir == nullptr) {
    state.SkipWithError("set PLUMETRACE_BENCH_REGIONS_CASE (scripts/bench-regions.sh does)");
    return;
  }
  std::size_t trajectories = 0, cells = 0;
  for (auto _ : state) {
    const plumetrace::Case c = plumetrace::load_case(dir);
    const auto r = plumetrace::run_regions(c, {});
    trajectories = r.document.at("trajectories").get<std::size_t>();
    cells = r.grid.size();
    benchmark::DoNotOptimize(r.fields.pscf.data());
  }
  state.counters["trajectories"] = static_cast<double>(trajectories);
  state.counters["cells"] = static_cast<double>(cells);
}
BENCHMARK(BM_RegionsMonth10Stations)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();

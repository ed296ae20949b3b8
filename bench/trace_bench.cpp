// The main job end to end (load_case + run_trace), on a bundled example case and, when
// PLUMETRACE_BENCH_LARGE_CASE names one (scripts/bench-trace.sh makes it with plumetrace-sim),
// on a large case: 200 candidates and about 20,000 observations.
// Goals (issue #3): an example case in under 2 s; the large case in under 15 s on 2 cores.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "plumetrace/ingest/case.hpp"
#include "plumetrace/outputs/trace.hpp"

namespace {

void trace_case(benchmark::State& state, const std::string& dir) {
  std::ifstream tf(dir + "/truth.json");
  if (!tf) {
    state.SkipWithError(("no truth.json in " + dir).c_str());
    return;
  }
  const auto truth = nlohmann::json::parse(tf);
  plumetrace::TraceRequest req;
  req.start = truth.at("window").at(0).get<std::string>();
  req.end = truth.at("window").at(1).get<std::string>();
  std::size_t observations = 0;
  for (auto _ : state) {
    const plumetrace::Case c = plumetrace::load_case(dir + "/case");
    const auto r = plumetrace::run_trace(c, req);
    observations = r.ranking.at("diagnostics").at("raw_samples").get<std::size_t>();
    benchmark::DoNotOptimize(r.ranking);
  }
  state.counters["raw_observations"] = static_cast<double>(observations);
}

void BM_TraceExample101(benchmark::State& state) {
  trace_case(state, std::string(PLUMETRACE_SOURCE_DIR) + "/tests/data/examples/example-101");
}
BENCHMARK(BM_TraceExample101)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void BM_TraceLarge(benchmark::State& state) {
  const char* dir = std::getenv("PLUMETRACE_BENCH_LARGE_CASE");
  if (dir == nullptr) {
    state.SkipWithError("set PLUMETRACE_BENCH_LARGE_CASE (scripts/bench-trace.sh does)");
    return;
  }
  trace_case(state, dir);
}
BENCHMARK(BM_TraceLarge)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();

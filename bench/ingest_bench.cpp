/// Ingest throughput: our readings.csv / trace CSV readers against GDAL's CSV driver feature loop
/// over the same files. The files (1,000,000 readings rows: stations M01..M50, ISO times with
/// +08:00, four variables; 1,000,000 trace points) are generated once into
/// $TMPDIR/plumetrace_ingest_bench/ and reused. Prints rows/s of each and the ratio ours/GDAL.
///
///   cmake -S . -B build/ingest-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
///   ninja -C build/ingest-rel ingest_bench && build/ingest-rel/ingest_bench

#include <benchmark/benchmark.h>
#include <gdal.h>
#include <ogr_api.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/ingest/readers.hpp"

namespace {

namespace fs = std::filesystem;
using namespace plumetrace;

constexpr std::size_t kRows = 1'000'000;
constexpr int kStations = 50;

fs::path bench_dir() { return fs::temp_directory_path() / "plumetrace_ingest_bench"; }

std::vector<Station> bench_stations() {
  std::vector<Station> st;
  for (int i = 1; i <= kStations; ++i) {
    char id[16];  // "M" + any int: GCC checks the whole int range
    std::snprintf(id, sizeof id, "M%02d", i);
    st.push_back({id, id, 120.0 + 0.01 * i, 28.9 + 0.005 * i, 10.0, std::nullopt});
  }
  return st;
}

/// readings.csv: hourly, station-interleaved, 4 variables, 1e6 rows (5,000 hours).
fs::path readings_file() {
  const fs::path p = bench_dir() / "readings.csv";
  if (fs::exists(p) && fs::file_size(p) > 1000) return p;
  fs::create_directories(bench_dir());
  std::FILE* f = std::fopen(p.c_str(), "wb");
  std::fputs("station_id,time,variable,value,unit\n", f);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const char* vars[] = {"so2", "no2", "pm25", "wind_speed"};
  const char* units[] = {"ug/m3", "ug/m3", "ug/m3", "m/s"};
  const double t0 = parse_iso8601("2021-01-01T00:00:00+08:00");
  std::size_t n = 0;
  for (int h = 0; n < kRows; ++h) {
    const std::string ts = format_iso8601(t0 + h * 3600.0, 480);
    for (int s = 1; s <= kStations && n < kRows; ++s)
      for (int v = 0; v < 4 && n < kRows; ++v, ++n)
        std::fprintf(f, "M%02d,%s,%s,%.2f,%s\n", s, ts.c_str(), vars[v], u(rng) * (v == 3 ? 8 : 120),
                     units[v]);
  }
  std::fclose(f);
  return p;
}

/// A wide trace CSV: 1 Hz, lon/lat with 6 decimals, so2 and no2.
fs::path trace_file() {
  const fs::path p = bench_dir() / "trace.csv";
  if (fs::exists(p) && fs::file_size(p) > 1000) return p;
  fs::create_directories(bench_dir());
  std::FILE* f = std::fopen(p.c_str(), "wb");
  std::fputs("time,lon,lat,so2,no2\n", f);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double t0 = parse_iso8601("2021-06-01T00:00:00+08:00");
  double lon = 120.0, lat = 28.9;
  for (std::size_t i = 0; i < kRows; ++i) {
    lon += (u(rng) - 0.5) * 1e-4;
    lat += (u(rng) - 0.5) * 1e-4;
    std::fprintf(f, "%s,%.6f,%.6f,%.2f,%.2f\n", format_iso8601(t0 + static_cast<double>(i), 480).c_str(),
                 lon, lat, u(rng) * 50, u(rng) * 30);
  }
  std::fclose(f);
  return p;
}

void BM_Readings_Plumetrace(benchmark::State& state) {
  const fs::path p = readings_file();
  const auto stations = bench_stations();
  std::size_t rows = 0;
  for (auto _ : state) {
    auto csv = CsvReader::open(p);
    Diagnostics d;
    const ReadingTable t = read_readings_csv(csv, "readings.csv", stations, TimeZone{}, d);
    rows = t.rows.size();
    if (!d.rejected().empty()) state.SkipWithError("unexpected rejections");
    benchmark::DoNotOptimize(t.rows.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  state.counters["rows"] = static_cast<double>(rows);
}

/// GDAL's CSV driver over the same file: open, loop features, read each field as string/double.
std::size_t gdal_loop(const fs::path& p, const std::vector<int>& double_fields) {
  const char* const drivers[] = {"CSV", nullptr};
  GDALDatasetH ds = GDALOpenEx(p.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, nullptr, nullptr);
  if (ds == nullptr) return 0;
  OGRLayerH l = GDALDatasetGetLayer(ds, 0);
  const int nf = OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(l));
  std::vector<bool> is_double(static_cast<std::size_t>(nf), false);
  for (int i : double_fields) is_double[static_cast<std::size_t>(i)] = true;
  std::size_t n = 0;
  double sum = 0;
  std::size_t chars = 0;
  OGRFeatureH f = nullptr;
  while ((f = OGR_L_GetNextFeature(l)) != nullptr) {
    for (int i = 0; i < nf; ++i) {
      if (is_double[static_cast<std::size_t>(i)]) sum += OGR_F_GetFieldAsDouble(f, i);
      else chars += std::char_traits<char>::length(OGR_F_GetFieldAsString(f, i));
    }
    OGR_F_Destroy(f);
    ++n;
  }
  benchmark::DoNotOptimize(sum);
  benchmark::DoNotOptimize(chars);
  GDALClose(ds);
  return n;
}

void BM_Readings_GdalCsv(benchmark::State& state) {
  const fs::path p = readings_file();
  std::size_t rows = 0;
  for (auto _ : state) rows = gdal_loop(p, {3});
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  state.counters["rows"] = static_cast<double>(rows);
}

void BM_Trace_Plumetrace(benchmark::State& state) {
  const fs::path p = trace_file();
  std::size_t rows = 0;
  for (auto _ : state) {
    auto csv = CsvReader::open(p);
    Diagnostics d;
    const Trace t = read_trace_csv(csv, "traces/bench.csv", "bench", TimeZone{}, d);
    rows = t.size();
    if (!d.rejected().empty()) state.SkipWithError("unexpected rejections");
    benchmark::DoNotOptimize(t.time_s.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  state.counters["rows"] = static_cast<double>(rows);
}

void BM_Trace_GdalCsv(benchmark::State& state) {
  const fs::path p = trace_file();
  std::size_t rows = 0;
  for (auto _ : state) rows = gdal_loop(p, {1, 2, 3, 4});
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  state.counters["rows"] = static_cast<double>(rows);
}

/// The raw CSV tokenizer alone (no validation), for reference.
void BM_CsvTokenizer(benchmark::State& state) {
  const fs::path p = readings_file();
  std::size_t rows = 0;
  for (auto _ : state) {
    auto csv = CsvReader::open(p);
    CsvRecord rec;
    rows = 0;
    while (csv.next(rec)) ++rows;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * fs::file_size(p)));
}

BENCHMARK(BM_Readings_Plumetrace)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Readings_GdalCsv)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK(BM_Trace_Plumetrace)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Trace_GdalCsv)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK(BM_CsvTokenizer)->Unit(benchmark::kMillisecond)->MinTime(1.0);

/// Console output plus a record of items/s per benchmark, to print the ratios at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      const auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) rate_[r.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void print_ratios() const {
    auto find = [&](const std::string& prefix) -> double {
      for (const auto& [name, rate] : rate_)
        if (name.rfind(prefix, 0) == 0) return rate;
      return 0;
    };
    auto ratio = [&](const char* label, const char* ours, const char* gdal) {
      const double a = find(ours), b = find(gdal);
      if (a <= 0 || b <= 0) return;
      std::printf("%-10s plumetrace %12.0f rows/s   GDAL CSV %12.0f rows/s   ratio %.1fx\n", label, a,
                  b, a / b);
    };
    ratio("readings", "BM_Readings_Plumetrace", "BM_Readings_GdalCsv");
    ratio("trace", "BM_Trace_Plumetrace", "BM_Trace_GdalCsv");
  }

 private:
  std::map<std::string, double> rate_;
};

}  // namespace

int main(int argc, char** argv) {
  GDALAllRegister();
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}

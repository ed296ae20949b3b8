// Benchmarks for the geo room: jurisdiction lookups on the real (dirty) Zhejiang county layer and
// PROJ forward transforms. Run from a Release build:
//   build/geo-rel/geo_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <random>
#include <string>
#include <vector>

#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/jurisdictions.hpp"

namespace {

using plumetrace::BoundaryFeature;
using plumetrace::BoundaryLayer;
using RingLL = std::vector<std::pair<double, double>>;

/// The county layer, read with OGR (same as the geo tests' helper).
const BoundaryLayer& zhejiang() {
  static const BoundaryLayer layer = [] {
    GDALAllRegister();
    BoundaryLayer out;
    out.file = PLUMETRACE_SOURCE_DIR "/data/zhejiang_counties.geojson";
    GDALDatasetUniquePtr ds(GDALDataset::Open(out.file.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
    if (!ds) return out;
    auto ring_of = [](const OGRLinearRing* r) {
      RingLL ring;
      for (int i = 0; i < r->getNumPoints(); ++i) ring.emplace_back(r->getX(i), r->getY(i));
      return ring;
    };
    auto polygon_of = [&](const OGRPolygon* p) {
      std::vector<RingLL> rings{ring_of(p->getExteriorRing())};
      for (int i = 0; i < p->getNumInteriorRings(); ++i) rings.push_back(ring_of(p->getInteriorRing(i)));
      return rings;
    };
    for (auto& f : *ds->GetLayer(0)) {
      BoundaryFeature bf;
      bf.code = f->GetFieldAsString("adcode");
      bf.name = f->GetFieldAsString("name");
      const OGRGeometry* g = f->GetGeometryRef();
      if (!g) continue;
      if (wkbFlatten(g->getGeometryType()) == wkbPolygon)
        bf.polygons.push_back(polygon_of(g->toPolygon()));
      else if (wkbFlatten(g->getGeometryType()) == wkbMultiPolygon)
        for (const OGRPolygon* p : *g->toMultiPolygon()) bf.polygons.push_back(polygon_of(p));
      out.features.push_back(std::move(bf));
    }
    return out;
  }();
  return layer;
}

const plumetrace::JurisdictionIndex& index() {
  static plumetrace::Diagnostics diag;
  static const plumetrace::JurisdictionIndex idx(zhejiang(), diag);
  return idx;
}

/// Random points over the combined bounding box of Jinhua (3307xx) and Lishui (3311xx).
const std::vector<std::pair<double, double>>& points() {
  static const std::vector<std::pair<double, double>> pts = [] {
    const auto& idx = index();
    double b[4] = {1e9, 1e9, -1e9, -1e9};
    for (std::size_t i = 0; i < idx.areas().size(); ++i) {
      const std::string& c = idx.areas()[i].code;
      if (c.rfind("3307", 0) != 0 && c.rfind("3311", 0) != 0) continue;
      const auto e = idx.bounds(static_cast<int>(i));
      b[0] = std::min(b[0], e[0]);
      b[1] = std::min(b[1], e[1]);
      b[2] = std::max(b[2], e[2]);
      b[3] = std::max(b[3], e[3]);
    }
    std::mt19937_64 rng(20261128);
    std::uniform_real_distribution<double> ux(b[0], b[2]), uy(b[1], b[3]);
    std::vector<std::pair<double, double>> v(1 << 20);
    for (auto& p : v) p = {ux(rng), uy(rng)};
    return v;
  }();
  return pts;
}

void BM_JurisdictionBuild(benchmark::State& state) {
  const auto& layer = zhejiang();
  for (auto _ : state) {
    plumetrace::Diagnostics diag;
    plumetrace::JurisdictionIndex idx(layer, diag);
    benchmark::DoNotOptimize(idx.repaired_count());
  }
  state.counters["features"] = static_cast<double>(layer.features.size());
}
BENCHMARK(BM_JurisdictionBuild)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_JurisdictionLocate(benchmark::State& state) {
  const auto& idx = index();
  const auto& pts = points();
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& p = pts[i++ & (pts.size() - 1)];
    benchmark::DoNotOptimize(idx.locate_index(p.first, p.second));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_JurisdictionLocate);

void BM_JurisdictionLocateThreads(benchmark::State& state) {
  const auto& idx = index();
  const auto& pts = points();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    const auto& p = pts[i++ & (pts.size() - 1)];
    benchmark::DoNotOptimize(idx.locate_index(p.first, p.second));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_JurisdictionLocateThreads)->Threads(2)->UseRealTime();

void BM_DistanceToBorder(benchmark::State& state) {
  const auto& idx = index();
  const auto& pts = points();
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& p = pts[i++ & (pts.size() - 1)];
    benchmark::DoNotOptimize(idx.distance_to_border_m(p.first, p.second));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DistanceToBorder);

void BM_TransformerForward(benchmark::State& state) {
  plumetrace::Transformer tr("EPSG:32650");
  const auto& pts = points();
  std::size_t i = 0;
  double x, y;
  for (auto _ : state) {
    const auto& p = pts[i++ & (pts.size() - 1)];
    benchmark::DoNotOptimize(tr.forward(p.first, p.second, x, y));
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TransformerForward);

}  // namespace

BENCHMARK_MAIN();

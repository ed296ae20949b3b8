// Tile rendering throughput: rendered PNG tiles per second on one core from a typical posterior COG
// (500 x 500 cells of 100 m in UTM 50N, written by write_cog as `plumetrace trace --out` writes
// posterior.tif), at zooms 12-16, cycling over every tile that touches the raster. Also the split
// (render vs PNG), zlib levels, and GDAL's warper per tile (gdalwarp to a MEM tile) for comparison.
//   build/release/tiles_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>
#include <gdal.h>
#include <gdal_utils.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "plumetrace/geo/crs.hpp"
#include "plumetrace/outputs/raster.hpp"
#include "plumetrace/render/png.hpp"
#include "plumetrace/render/tile_renderer.hpp"

namespace {

using namespace plumetrace;

/// The posterior COG, written once per process: two Gaussian blobs and a weak floor, summing to 1.
const std::filesystem::path& posterior_cog() {
  static const std::filesystem::path file = [] {
    GDALAllRegister();
    const auto path = std::filesystem::temp_directory_path() / "plumetrace_tiles_bench_posterior.tif";
    Grid g;
    g.crs = "EPSG:32650";
    g.x0_m = 700000;
    g.y1_m = 3200000;
    g.cell_m = 100;
    g.cols = g.rows = 500;
    std::vector<float> v(g.size());
    double sum = 0;
    for (int r = 0; r < g.rows; ++r)
      for (int c = 0; c < g.cols; ++c) {
        const double a = std::exp(-(std::pow(c - 180, 2) + std::pow(r - 220, 2)) / (2 * 30.0 * 30.0));
        const double b = 0.4 * std::exp(-(std::pow(c - 350, 2) + std::pow(r - 300, 2)) / (2 * 12.0 * 12.0));
        v[static_cast<std::size_t>(r) * g.cols + c] = static_cast<float>(a + b + 1e-4);
        sum += a + b + 1e-4;
      }
    for (auto& x : v) x = static_cast<float>(x / sum);
    write_cog(path, g, Transformer(g.crs).wkt(), v, "posterior", "probability");
    return path;
  }();
  return file;
}

/// Every tile at zoom z touching the raster.
std::vector<TileId> tiles_at(const TileRenderer& r, int z) {
  const TileRange range = tiles_covering(r.bounds_lonlat(), z);
  std::vector<TileId> tiles;
  for (int x = range.min_x; x <= range.max_x; ++x)
    for (int y = range.min_y; y <= range.max_y; ++y) tiles.push_back({z, x, y});
  return tiles;
}

void BM_RenderTilePng(benchmark::State& state) {
  const TileRenderer r(posterior_cog());
  const auto tiles = tiles_at(r, static_cast<int>(state.range(0)));
  const TileStyle style;
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string png = r.render_png(tiles[i++ % tiles.size()], style);
    bytes += png.size();
    benchmark::DoNotOptimize(png.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["tiles_at_z"] = static_cast<double>(tiles.size());
  state.counters["png_bytes"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RenderTilePng)->DenseRange(12, 16)->Unit(benchmark::kMillisecond);

void BM_RenderTileRgbaOnly(benchmark::State& state) {
  const TileRenderer r(posterior_cog());
  const auto tiles = tiles_at(r, static_cast<int>(state.range(0)));
  const TileStyle style;
  std::size_t i = 0;
  for (auto _ : state) {
    const TileImage img = r.render(tiles[i++ % tiles.size()], style);
    benchmark::DoNotOptimize(img.rgba.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderTileRgbaOnly)->Arg(12)->Arg(14)->Arg(16)->Unit(benchmark::kMillisecond);

void BM_EncodePng(benchmark::State& state) {
  const TileRenderer r(posterior_cog());
  const auto tiles = tiles_at(r, 13);
  const TileImage img = r.render(tiles[tiles.size() / 2], {});
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string png = encode_png_rgba(img.rgba, kTileSizePx, kTileSizePx, static_cast<int>(state.range(0)));
    bytes = png.size();
    benchmark::DoNotOptimize(png.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["png_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodePng)->Arg(1)->Arg(3)->Arg(6)->Unit(benchmark::kMillisecond);

/// For comparison: GDAL's warper per tile (gdalwarp -t_srs EPSG:3857 -te tile -ts 256 256 -r bilinear
/// -of MEM), data only (no colormap, no PNG).
void BM_GdalWarpTile(benchmark::State& state) {
  GDALDatasetH src = GDALOpen(posterior_cog().c_str(), GA_ReadOnly);
  const TileRenderer r(posterior_cog());
  const auto tiles = tiles_at(r, static_cast<int>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    const MercatorBox b = tile_box_3857(tiles[i++ % tiles.size()]);
    const std::vector<std::string> args{"-t_srs", "EPSG:3857", "-te", std::to_string(b.min_x_m), std::to_string(b.min_y_m),
                                        std::to_string(b.max_x_m), std::to_string(b.max_y_m), "-ts", "256", "256",
                                        "-r", "bilinear", "-of", "MEM", "-q"};
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    GDALWarpAppOptions* opts = GDALWarpAppOptionsNew(argv.data(), nullptr);
    GDALDatasetH out = GDALWarp("", nullptr, 1, &src, opts, nullptr);
    GDALWarpAppOptionsFree(opts);
    benchmark::DoNotOptimize(out);
    GDALClose(out);
  }
  GDALClose(src);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GdalWarpTile)->Arg(12)->Arg(14)->Arg(16)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

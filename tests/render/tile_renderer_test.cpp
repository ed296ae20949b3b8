// Rendered tiles against what the raster holds at each tile pixel's centre, located independently
// (tile math -> WGS 84 -> UTM through OGR in the test): opaque/transparent halves at the right
// place, colours, rescale, bilinear when zoomed in, area mean when zoomed out, overviews, threads,
// ETags and typed refusals.

#include "plumetrace/render/tile_renderer.hpp"

#include <gtest/gtest.h>
#include <ogr_srs_api.h>

#include <map>
#include <thread>

#include "plumetrace/core/error.hpp"
#include "plumetrace/render/png.hpp"
#include "render_fixture.hpp"

namespace plumetrace {
namespace {

using test::kOriginEastM;
using test::kOriginNorthM;
using test::kPixelM;

constexpr std::size_t kPixels = static_cast<std::size_t>(kTileSizePx) * kTileSizePx;

/// Source pixel coordinates (col, row; pixel i covers [i, i+1)) of every pixel centre of a tile,
/// computed independently of the renderer, and the tile's pixel size in source pixels.
struct TileGeometry {
  std::vector<double> col, row;
  double source_px_per_tile_px = 0;
};

/// Transform n points in place between WGS 84 lon/lat and the fixtures' UTM zone 50N, through OGR.
void wgs84_utm(bool to_utm, int n, double* x, double* y) {
  OGRSpatialReferenceH wgs = OSRNewSpatialReference(nullptr), utm = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(wgs, 4326);
  OSRImportFromEPSG(utm, 32650);
  OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
  OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
  OGRCoordinateTransformationH ct = to_utm ? OCTNewCoordinateTransformation(wgs, utm) : OCTNewCoordinateTransformation(utm, wgs);
  OCTTransform(ct, n, x, y, nullptr);
  OCTDestroyCoordinateTransformation(ct);
  OSRDestroySpatialReference(wgs);
  OSRDestroySpatialReference(utm);
}

TileGeometry locate(const TileId& t) {
  const MercatorBox b = tile_box_3857(t);
  const double res = (b.max_x_m - b.min_x_m) / kTileSizePx;
  TileGeometry g;
  for (int r = 0; r < kTileSizePx; ++r)
    for (int c = 0; c < kTileSizePx; ++c) {
      double lon = 0, lat = 0;
      mercator_to_lonlat(b.min_x_m + (c + 0.5) * res, b.max_y_m - (r + 0.5) * res, lon, lat);
      g.col.push_back(lon);
      g.row.push_back(lat);
    }
  wgs84_utm(true, static_cast<int>(g.col.size()), g.col.data(), g.row.data());
  for (std::size_t i = 0; i < g.col.size(); ++i) {
    g.col[i] = (g.col[i] - kOriginEastM) / kPixelM;
    g.row[i] = (kOriginNorthM - g.row[i]) / kPixelM;
  }
  g.source_px_per_tile_px = std::hypot(g.col[1] - g.col[0], g.row[1] - g.row[0]);
  return g;
}

Rgba pixel(const TileImage& img, std::size_t p) {
  return {img.rgba[p * 4], img.rgba[p * 4 + 1], img.rgba[p * 4 + 2], img.rgba[p * 4 + 3]};
}

/// The left half of a 200 x 200 raster is 5.0, the right half NaN: with rescale 0..10 the left half
/// is viridis[128] and everything else transparent, at every zoom, with and without overviews.
void check_halves(const std::filesystem::path& file, int zoom) {
  const TileRenderer r(file);
  TileStyle style;
  style.rescale = Rescale(0.0, 10.0);
  const Rgba inside = colormap_by_name("viridis")[128];
  const TileRange range = tiles_covering(r.bounds_lonlat(), zoom);
  std::int64_t opaque = 0, transparent = 0;
  for (int x = range.min_x; x <= range.max_x; ++x)
    for (int y = range.min_y; y <= range.max_y; ++y) {
      const TileId t{zoom, x, y};
      const TileImage img = r.render(t, style);
      const TileGeometry g = locate(t);
      // pixels closer than half a footprint (+ interpolation slack) to an edge may go either way
      const double margin = 0.5 * std::max(1.0, g.source_px_per_tile_px) + 0.3;
      for (std::size_t p = 0; p < g.col.size(); ++p) {
        const double c = g.col[p], w = g.row[p];
        const bool in_rows = w > margin && w < 200 - margin, out_rows = w < -margin || w > 200 + margin;
        if (in_rows && c > margin && c < 100 - margin) {
          ASSERT_EQ(pixel(img, p), inside) << "z" << zoom << " tile " << x << "/" << y << " pixel " << p;
          ++opaque;
        } else if (out_rows || c < -margin || c > 100 + margin) {
          ASSERT_EQ(pixel(img, p)[3], 0) << "z" << zoom << " tile " << x << "/" << y << " pixel " << p;
          ++transparent;
        }
      }
    }
  EXPECT_GT(opaque, 10) << "z" << zoom;
  EXPECT_GT(transparent, 1000) << "z" << zoom;
}

TEST(TileRenderer, DataHalfOpaqueNodataHalfTransparent) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 200, 200, 5.0f);
  for (int z : {7, 9, 10, 11, 13, 15}) check_halves(file, z);
}

TEST(TileRenderer, DataHalfOpaqueWithOverviews) {
  test::TempDir dir;
  const auto file = test::write_utm_tiff(dir.path() / "half_ovr.tif", 200, 200, [](int c, int) {
    return c < 100 ? 5.0f : std::numeric_limits<float>::quiet_NaN();
  }, true);
  for (int z : {6, 7, 8, 9, 11}) check_halves(file, z);
}

TEST(TileRenderer, RescaleAndDefaultRange) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 200, 200, 5.0f);
  const TileRenderer r(file);
  const TileId t = tile_containing(r.bounds_lonlat().west_deg + 0.02, r.bounds_lonlat().north_deg - 0.02, 12);
  const auto first_opaque = [&](const TileStyle& s) {
    const TileImage img = r.render(t, s);
    for (std::size_t p = 0; p < kPixels; ++p)
      if (pixel(img, p)[3] != 0) return pixel(img, p);
    return Rgba{};
  };
  TileStyle s;
  s.colormap_name = "magma";
  s.rescale = Rescale(5.0, 10.0);
  EXPECT_EQ(first_opaque(s), colormap_by_name("magma")[0]);
  s.rescale = Rescale(0.0, 5.0);
  EXPECT_EQ(first_opaque(s), colormap_by_name("magma")[255]);
  // default: min/max of a constant band is (5, 10): the first colour
  s.rescale.reset();
  EXPECT_DOUBLE_EQ(r.default_rescale(1).lo(), 5.0);
  EXPECT_EQ(first_opaque(s), colormap_by_name("magma")[0]);
}

/// Colour -> colormap index (viridis has 256 distinct colours).
int viridis_index(const Rgba& c) {
  static const std::map<Rgba, int> index = [] {
    std::map<Rgba, int> m;
    const ColormapTable& t = colormap_by_name("viridis");
    for (int i = 0; i < 256; ++i) m.emplace(t[static_cast<std::size_t>(i)], i);
    return m;
  }();
  const auto it = index.find(c);
  return it == index.end() ? -1 : it->second;
}

TEST(TileRenderer, BilinearWhenZoomedIn) {
  // value = column; rescale 100..101 spreads one pixel's worth of ramp over the whole colormap:
  // nearest neighbour would give only the two ends, bilinear the ramp u - 0.5 in between
  test::TempDir dir;
  const auto file = test::write_utm_tiff(dir.path() / "ramp.tif", 200, 200, [](int c, int) { return static_cast<float>(c); });
  const TileRenderer r(file);
  TileStyle s;
  s.rescale = Rescale(100.0, 101.0);
  double lon = kOriginEastM + 101 * kPixelM, lat = kOriginNorthM - 100 * kPixelM;
  wgs84_utm(false, 1, &lon, &lat);
  const TileId t = tile_containing(lon, lat, 17);  // ~1 m pixels: 100 tile pixels per source pixel
  const TileImage img = r.render(t, s);
  const TileGeometry g = locate(t);
  int checked = 0;
  for (std::size_t p = 0; p < g.col.size(); ++p) {
    const double u = g.col[p];
    if (u < 100.55 || u > 101.45) continue;
    const double expected = (u - 0.5 - 100.0) * 255.0;
    const int got = viridis_index(pixel(img, p));
    ASSERT_GE(got, 0);
    ASSERT_NEAR(got, expected, 3.0) << "u " << u;
    ++checked;
  }
  EXPECT_GT(checked, 1000);
}

TEST(TileRenderer, AreaMeanWhenZoomedOut) {
  // a 0/10 checkerboard seen from far away is about its mean, 5 (nearest would show 0 or 10):
  // footprints of 5.4 and 2.7 source pixels (z 8, 9) on a checkerboard average within 5 +- 1
  test::TempDir dir;
  for (bool overviews : {false, true}) {
    const auto file = test::write_utm_tiff(dir.path() / (overviews ? "check_ovr.tif" : "check.tif"), 256, 256,
                                           [](int c, int w) { return (c + w) % 2 ? 10.0f : 0.0f; }, overviews);
    const TileRenderer r(file);
    TileStyle s;
    s.rescale = Rescale(0.0, 10.0);
    for (int z : {8, 9}) {
      const TileRange range = tiles_covering(r.bounds_lonlat(), z);
      int checked = 0;
      for (int x = range.min_x; x <= range.max_x; ++x)
        for (int y = range.min_y; y <= range.max_y; ++y) {
          const TileImage img = r.render({z, x, y}, s);
          const TileGeometry g = locate({z, x, y});
          for (std::size_t p = 0; p < g.col.size(); ++p) {
            if (g.col[p] < 4 || g.row[p] < 4 || g.col[p] > 252 || g.row[p] > 252) continue;
            const int idx = viridis_index(pixel(img, p));
            ASSERT_NEAR(idx, 128, 30) << "z" << z << " overviews " << overviews;
            ++checked;
          }
        }
      EXPECT_GT(checked, 100) << "z" << z;
    }
  }
}

TEST(TileRenderer, ConcurrentRendersEqualSerialOnes) {
  test::TempDir dir;
  const auto file = test::write_utm_tiff(dir.path() / "grad.tif", 300, 300,
                                         [](int c, int w) { return c < 250 ? static_cast<float>(c * w) : NAN; });
  const TileRenderer r(file);
  const TileRange range = tiles_covering(r.bounds_lonlat(), 12);
  std::vector<TileId> tiles;
  for (int x = range.min_x; x <= range.max_x; ++x)
    for (int y = range.min_y; y <= range.max_y; ++y) tiles.push_back({12, x, y});
  const TileStyle s;
  std::vector<std::string> serial;
  for (const auto& t : tiles) serial.push_back(r.render_png(t, s));
  std::vector<std::vector<std::string>> parallel(4, std::vector<std::string>(tiles.size()));
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (std::size_t i = 0; i < tiles.size(); ++i) parallel[static_cast<std::size_t>(k)][i] = r.render_png(tiles[i], s);
    });
  for (auto& th : threads) th.join();
  for (const auto& run : parallel) EXPECT_EQ(run, serial);
}

TEST(TileRenderer, PngOfATileDecodesToItsPixels) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 200, 200, 5.0f);
  const TileRenderer r(file);
  const TileId t = tile_containing(r.bounds_lonlat().west_deg + 0.05, r.bounds_lonlat().north_deg - 0.05, 11);
  const TileImage img = r.render(t, {});
  ASSERT_TRUE(img.any_opaque);
  const RgbaImage back = decode_png_rgba(r.render_png(t, {}));
  EXPECT_EQ(back.width, kTileSizePx);
  EXPECT_EQ(back.rgba, img.rgba);
  // a tile far away is the shared empty tile
  EXPECT_FALSE(r.touches({11, 0, 0}));
  EXPECT_EQ(r.render_png({11, 0, 0}, {}), empty_tile_png());
  const RgbaImage empty = decode_png_rgba(empty_tile_png());
  EXPECT_EQ(empty.rgba, std::vector<std::uint8_t>(kPixels * 4, 0));
}

TEST(TileRenderer, EtagChangesWithEveryParameterAndTheFile) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 200, 200, 5.0f);
  const TileId t{11, 1701, 853};
  TileStyle s;
  std::string base;
  {
    const TileRenderer r(file);
    base = r.etag(t, s);
    EXPECT_EQ(base.size(), 18u);
    EXPECT_EQ(base.front(), '"');
    EXPECT_EQ(base, r.etag(t, s));
    EXPECT_NE(base, r.etag({11, 1702, 853}, s));
    EXPECT_NE(base, r.etag({11, 1701, 854}, s));
    EXPECT_NE(base, r.etag({12, 1701, 853}, s));
    TileStyle other = s;
    other.colormap_name = "magma";
    EXPECT_NE(base, r.etag(t, other));
    other = s;
    other.rescale = Rescale(0, 1);
    const std::string ranged = r.etag(t, other);
    EXPECT_NE(base, ranged);
    other.rescale = Rescale(0, 2);
    EXPECT_NE(ranged, r.etag(t, other));
    other = s;
    other.band = 2;
    EXPECT_NE(base, tile_etag(r.identity(), t, other));
  }
  test::write_half_tiff(file, 200, 200, 6.0f);
  std::filesystem::last_write_time(file, std::filesystem::last_write_time(file) + std::chrono::seconds(2));
  EXPECT_NE(base, TileRenderer(file).etag(t, s));
}

TEST(TileRenderer, TypedRefusals) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 200, 200, 5.0f);
  const TileRenderer r(file);
  EXPECT_THROW((void)r.render({3, 8, 0}, {}), InvalidInput);
  EXPECT_THROW((void)r.render({kMaxTileZoom + 1, 0, 0}, {}), InvalidInput);
  TileStyle s;
  s.band = 2;
  EXPECT_THROW((void)r.render({10, 850, 426}, s), InvalidInput);
  s.band = 1;
  s.colormap_name = "rainbow";
  EXPECT_THROW((void)r.render({10, 850, 426}, s), InvalidInput);
  // a raster without georeferencing, and one without a CRS
  GDALAllRegister();
  const auto plain = dir.path() / "plain.tif";
  GDALClose(GDALCreate(GDALGetDriverByName("GTiff"), plain.c_str(), 10, 10, 1, GDT_Float32, nullptr));
  try {
    TileRenderer bad(plain);
    FAIL() << "opened a raster without georeferencing";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("plain.tif"), std::string::npos) << e.what();
  }
}

TEST(TileRenderer, DefaultZoomsLikeGdal2tiles) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 500, 500, 5.0f);
  const TileRenderer r(file);
  // 100 m pixels at 28.7 N are ~114 m in EPSG:3857: z 10 (153 m) is the last without upsampling;
  // 500 px * 114 m fit in one 256-px tile at z 9 (306 m)
  EXPECT_NEAR(r.pixel_size_3857_m(), 100.0 / std::cos(28.7 * M_PI / 180), 3.0);
  EXPECT_EQ(r.default_max_zoom(), 10);
  EXPECT_EQ(r.default_min_zoom(), 9);
  EXPECT_NEAR(r.bounds_lonlat().west_deg, 119.04, 0.01);
  EXPECT_NEAR(r.bounds_lonlat().north_deg, 28.91, 0.01);
}

}  // namespace
}  // namespace plumetrace

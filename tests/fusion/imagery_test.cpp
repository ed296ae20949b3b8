// Imagery warped onto the analysis grid by GDAL (include/plumetrace/fusion/imagery.hpp), on a
// real GeoTIFF in UTM whose pixels nest in the grid's cells, so that every answer is known.
#include "plumetrace/fusion/imagery.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include <unistd.h>

#include "../support/temp_dir.hpp"
#include "geotiff_fixture.hpp"
#include "plumetrace/fusion/observations.hpp"
#include "plumetrace/geo/crs.hpp"

namespace plumetrace {
namespace {

namespace fs = std::filesystem;

// 100 x 100 pixels of 10 m in UTM 50N, west edge 500000 m, north edge 3200000 m.
constexpr double kX0 = 500000.0, kY1 = 3200000.0, kPx = 10.0;
constexpr int kSide = 100;
constexpr float kNodata = -9999.0F;

/// Pixel (col, row) value: col + 1000 row; rows 40-44 and the block cols 0-9 x rows 0-9 nodata.
float pixel(int col, int row) {
  if ((row >= 40 && row < 45) || (col < 10 && row < 10)) return kNodata;
  return static_cast<float>(col + 1000 * row);
}

fs::path make_case() {
  const fs::path d = testing_support::fresh_temp_dir("plumetrace_imagery");
  fs::create_directories(d / "imagery");
  std::ofstream(d / "imagery" / "drone.json") << R"({"variable": "so2", "unit": "ug/m3", "time": "2026-06-01T10:00:00Z"})";
  const double gt[6] = {kX0, kPx, 0, kY1, 0, -kPx};
  std::vector<float> v(kSide * kSide);
  for (int r = 0; r < kSide; ++r)
    for (int c = 0; c < kSide; ++c) v[static_cast<std::size_t>(r) * kSide + c] = pixel(c, r);
  EXPECT_TRUE(testing_support::write_float_geotiff(d / "imagery" / "drone.tif", kSide, kSide, gt, 32650, kNodata, v));
  // a station so that the case has more than the image
  std::ofstream(d / "stations.csv") << "id,lon,lat,height_m\n";
  return d;
}

/// The valid pixels of the block of `n` x `n` pixels whose top-left pixel is (c0, r0).
void block_stats(int c0, int r0, int n, double& mean, double& max, int& count) {
  double sum = 0;
  max = -1e300;
  count = 0;
  for (int r = r0; r < r0 + n; ++r)
    for (int c = c0; c < c0 + n; ++c) {
      const float v = pixel(c, r);
      if (v == kNodata) continue;
      sum += v;
      max = std::max<double>(max, v);
      ++count;
    }
  mean = count ? sum / count : NAN;
}

TEST(Imagery, AreaAverageMaxAndCountOnTheGridCells) {
  const fs::path d = make_case();
  const Case c = load_case(d);
  ASSERT_EQ(c.imagery.size(), 1U);
  const Imagery& im = c.imagery[0];
  // a 50 m grid over the image and 500 m around it
  const Grid grid{"EPSG:32650", kX0 - 500.0, kY1 + 500.0, 50.0, 40, 40};
  const Transformer tr(grid.crs);
  ImageryOnGrid on;
  std::string why;
  ASSERT_TRUE(warp_imagery_band(im, im.bands[0], grid, tr.wkt(), 4000, on, why)) << why;
  EXPECT_EQ(on.factor, 1);
  EXPECT_DOUBLE_EQ(on.grid.cell_m, 50.0);
  // the footprint (1 km) in 50 m cells, starting at the image's corner (a cell edge)
  EXPECT_EQ(on.grid.cols, 20);
  EXPECT_EQ(on.grid.rows, 20);
  EXPECT_DOUBLE_EQ(on.grid.x0_m, kX0);
  EXPECT_DOUBLE_EQ(on.grid.y1_m, kY1);
  int checked = 0, empty = 0;
  for (int r = 0; r < on.grid.rows; ++r)
    for (int col = 0; col < on.grid.cols; ++col) {
      const std::size_t k = static_cast<std::size_t>(r) * on.grid.cols + col;
      double mean = 0, max = 0;
      int count = 0;
      block_stats(col * 5, r * 5, 5, mean, max, count);
      if (count == 0) {
        ++empty;
        EXPECT_TRUE(std::isnan(on.mean[k])) << col << "," << r;
        continue;
      }
      ++checked;
      EXPECT_NEAR(on.mean[k], mean, 1e-2) << col << "," << r;
      EXPECT_EQ(on.max[k], static_cast<float>(max)) << col << "," << r;
      EXPECT_NEAR(on.count[k], count, 1e-3) << col << "," << r;
    }
  EXPECT_EQ(empty, 2 * 2 + 20);  // the 100 m nodata block and the nodata rows 40-44 (cell row 8)
  EXPECT_EQ(checked, 400 - empty);
}

TEST(Imagery, CoarsenedToAtMostTheCellsAsked) {
  const fs::path d = make_case();
  const Case c = load_case(d);
  const Grid grid{"EPSG:32650", kX0 - 500.0, kY1 + 500.0, 50.0, 40, 40};
  const Transformer tr(grid.crs);
  ImageryOnGrid on;
  std::string why;
  ASSERT_TRUE(warp_imagery_band(c.imagery[0], c.imagery[0].bands[0], grid, tr.wkt(), 100, on, why)) << why;
  EXPECT_EQ(on.factor, 2);  // 400 footprint cells -> 100 cells of 100 m
  EXPECT_EQ(on.grid.cols * on.grid.rows, 100);
  double mean = 0, max = 0;
  int count = 0;
  block_stats(30, 50, 10, mean, max, count);  // cell (3, 5)
  EXPECT_NEAR(on.mean[5 * 10 + 3], mean, 1e-2);
  EXPECT_NEAR(on.count[5 * 10 + 3], 100.0, 1e-3);
  // an image that misses the grid
  const Grid far{"EPSG:32650", kX0 + 50000.0, kY1, 50.0, 10, 10};
  EXPECT_FALSE(warp_imagery_band(c.imagery[0], c.imagery[0].bands[0], far, tr.wkt(), 100, on, why));
  EXPECT_EQ(why, "outside the analysis grid");
}

TEST(Imagery, EachCellIsOneObservationOfItsPixels) {
  const fs::path d = make_case();
  const Case c = load_case(d);
  const Grid grid{"EPSG:32650", kX0 - 500.0, kY1 + 500.0, 50.0, 40, 40};
  const Transformer tr(grid.crs);
  const ObservationSet set = gather_observations(c, tr, grid, "so2", -1e12, 1e12);
  ASSERT_EQ(set.platforms.size(), 1U);
  EXPECT_EQ(set.platforms[0].id, "imagery/drone");
  EXPECT_EQ(set.obs.size(), 400U - 24U);
  std::size_t pixels = 0;
  for (const Observation& o : set.obs) {
    EXPECT_EQ(o.kind, ObservationKind::Imagery);
    pixels += static_cast<std::size_t>(o.samples);
  }
  EXPECT_EQ(pixels, static_cast<std::size_t>(kSide * kSide - 5 * kSide - 100));
  EXPECT_EQ(set.raw_samples, pixels);
}

}  // namespace
}  // namespace plumetrace

// Hotspots of imagery (include/plumetrace/fusion/hotspots.hpp) on a real GeoTIFF read through
// the case folder.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <random>
#include <unistd.h>

#include "../support/temp_dir.hpp"
#include "geotiff_fixture.hpp"
#include "plumetrace/fusion/hotspots.hpp"

namespace {

namespace fs = std::filesystem;
using namespace plumetrace;

constexpr double kLon0 = 120.0, kLat0 = 28.9, kDegPerPx = 8.0 / 111195.0;  // ~8 m pixels

/// Pixel (col, row) centre of the test image -> lon/lat.
double px_lon(double col) { return kLon0 + (col + 0.5) * kDegPerPx / std::cos(kLat0 * M_PI / 180); }
double px_lat(double row) { return kLat0 - (row + 0.5) * kDegPerPx; }

/// A 200 x 200 so2 image: background 10 with noise sd 0.5, a blob of +200 at (120, 80) and one
/// of +80 at (40, 150), a single hot pixel at (10, 10), rows 180-189 missing; and a registry
/// with one facility 40 m from the second blob.
fs::path make_case() {
  GDALAllRegister();
  const fs::path d = testing_support::fresh_temp_dir("plumetrace_hotspots");
  fs::create_directories(d / "imagery");
  const double lon_px = kDegPerPx / std::cos(kLat0 * M_PI / 180);
  std::ofstream(d / "sources.csv") << std::setprecision(12) << "id,name,lon,lat,height_m\nF1,works," << px_lon(40) + 5 * lon_px << "," << px_lat(150)
                                   << ",10\nF2,far," << px_lon(0) << "," << px_lat(0) + 0.05 << ",10\n";
  std::ofstream(d / "imagery" / "drone.json") << R"({"variable": "so2", "unit": "ug/m3"})";
  const double gt[6] = {kLon0, lon_px, 0, kLat0, 0, -kDegPerPx};
  std::mt19937 rng(3);
  std::normal_distribution<double> n(0, 0.5);
  std::vector<float> v(200 * 200);
  for (int r = 0; r < 200; ++r)
    for (int k = 0; k < 200; ++k) {
      double x = 10 + n(rng);
      x += 200 * std::exp(-(std::pow(k - 120, 2) + std::pow(r - 80, 2)) / (2 * 3.0 * 3.0));
      x += 80 * std::exp(-(std::pow(k - 40, 2) + std::pow(r - 150, 2)) / (2 * 2.0 * 2.0));
      if (k == 10 && r == 10) x += 50;
      v[static_cast<std::size_t>(r) * 200 + k] = r >= 180 && r < 190 ? -9999.0f : static_cast<float>(x);
    }
  EXPECT_TRUE(testing_support::write_float_geotiff(d / "imagery" / "drone.tif", 200, 200, gt, 4326, -9999, v));
  return d;
}

TEST(Hotspots, FindsConnectedRegionsAboveTheLocalBackgroundAndMatchesTheRegistry) {
  const fs::path d = make_case();
  const Case c = load_case(d);
  ASSERT_EQ(c.imagery.size(), 1u);
  const Transformer tr("EPSG:32651");
  Diagnostics diag;
  const std::vector<Hotspot> hs = detect_hotspots(c, tr, "so2", -1e12, 1e12, diag);
  ASSERT_EQ(hs.size(), 2u);  // the lone hot pixel is noise
  // highest first: the unmatched blob, placed on its peak pixel
  EXPECT_FALSE(hs[0].matched.has_value());
  const double m_per_deg_lon = 111195.0 * std::cos(kLat0 * M_PI / 180);
  EXPECT_LT(std::hypot((hs[0].lon - px_lon(120)) * m_per_deg_lon, (hs[0].lat - px_lat(80)) * 111195.0), 8.0);
  EXPECT_NEAR(hs[0].peak, 210.0, 2.0);
  EXPECT_NEAR(hs[0].background, 10.0, 0.2);
  EXPECT_EQ(hs[0].image, "imagery/drone");
  EXPECT_EQ(hs[0].unit, "ug/m3");
  // pixels above 10 + 5 sigma (2.5): radius 3 * sqrt(2 ln(200 / 2.5)) = 8.9 px, ~250 px of 64 m2
  EXPECT_GT(hs[0].area_m2, 150 * 64.0);
  EXPECT_LT(hs[0].area_m2, 350 * 64.0);
  // the second blob is 40 m from F1: matched
  ASSERT_TRUE(hs[1].matched.has_value());
  EXPECT_EQ(*hs[1].matched, "F1");
  EXPECT_NEAR(hs[1].matched_distance_m, 40.0, 6.0);
  EXPECT_TRUE(diag.warnings().empty());
  // another pollutant: nothing
  EXPECT_TRUE(detect_hotspots(c, tr, "no2", -1e12, 1e12, diag).empty());
  fs::remove_all(d);
}

}  // namespace

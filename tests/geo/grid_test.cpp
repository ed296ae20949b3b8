// Tests for plumetrace/geo/grid.hpp: analysis CRS choice and grid layout.

#include "plumetrace/geo/grid.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "plumetrace/core/error.hpp"
#include "plumetrace/geo/crs.hpp"

namespace plumetrace {
namespace {

Source source_at(double lon, double lat) {
  Source s;
  s.id = "S";
  s.lon = lon;
  s.lat = lat;
  return s;
}

Station station_at(double lon, double lat) {
  Station s;
  s.id = "M";
  s.lon = lon;
  s.lat = lat;
  return s;
}

/// True when v is an integer multiple of step (to 1e-9 relative).
bool is_multiple(double v, double step) {
  const double q = v / step;
  return std::fabs(q - std::round(q)) < 1e-9 * std::max(1.0, std::fabs(q));
}

/// Every located point of `c` lies inside `g`, at least `margin_m` from its edges.
void expect_covers(const Grid& g, const std::vector<std::pair<double, double>>& lonlat, double margin_m) {
  Transformer t(g.crs);
  for (const auto& [lon, lat] : lonlat) {
    double x, y;
    ASSERT_TRUE(t.forward(lon, lat, x, y));
    EXPECT_TRUE(g.contains(x, y));
    EXPECT_GE(x - g.x0_m, margin_m - 1e-6);
    EXPECT_GE(g.x1_m() - x, margin_m - 1e-6);
    EXPECT_GE(y - g.y0_m(), margin_m - 1e-6);
    EXPECT_GE(g.y1_m - y, margin_m - 1e-6);
  }
}

TEST(AnalysisCrs, UtmOfTheCentreOrTheSetting) {
  Case c;
  c.sources.push_back(source_at(119.9, 28.9));
  c.stations.push_back(station_at(120.3, 28.9));  // centre 120.1 -> zone 51
  EXPECT_EQ(analysis_crs_for(c), "EPSG:32651");
  c.stations[0].lon = 119.95;  // centre 119.925 -> zone 50
  EXPECT_EQ(analysis_crs_for(c), "EPSG:32650");
  c.settings.crs = "EPSG:3857";
  EXPECT_EQ(analysis_crs_for(c), "EPSG:3857");

  Case south;
  Trace tr;
  tr.lon = {151.20, 151.22};
  tr.lat = {-33.86, -33.88};
  tr.time_s = {0.0, 1.0};
  south.traces.push_back(tr);
  EXPECT_EQ(analysis_crs_for(south), "EPSG:32756");

  Case imagery_only;
  Imagery im;
  im.lon_min = 5.30;
  im.lon_max = 5.34;
  im.lat_min = 60.38;
  im.lat_max = 60.40;
  imagery_only.imagery.push_back(im);
  EXPECT_EQ(analysis_crs_for(imagery_only), "EPSG:32632");  // Norway exception

  Case empty;
  EXPECT_THROW(analysis_crs_for(empty), InvalidInput);
  EXPECT_THROW(make_grid(empty, "EPSG:32651"), InvalidInput);
  Case bad;
  bad.sources.push_back(source_at(std::nan(""), 28.0));  // not located
  EXPECT_THROW(analysis_crs_for(bad), InvalidInput);
}

TEST(MakeGrid, MetreScaleExperiment) {
  // A 60 m release experiment: source and three samplers.
  Case c;
  const double lon0 = 120.04, lat0 = 28.89;
  const double dlon = 60.0 / 97500.0, dlat = 60.0 / 110800.0;  // about 60 m
  c.sources.push_back(source_at(lon0, lat0));
  c.stations.push_back(station_at(lon0 + dlon, lat0));
  c.stations.push_back(station_at(lon0, lat0 + dlat));
  c.stations.push_back(station_at(lon0 + dlon, lat0 + dlat));
  const std::string crs = analysis_crs_for(c);
  ASSERT_EQ(crs, "EPSG:32651");
  GridOptions fine;
  fine.min_cell_m = 0.1;
  const Grid g = make_grid(c, crs, fine);
  EXPECT_DOUBLE_EQ(g.cell_m, 0.2);  // 60 m / 200 cells = 0.3 -> nearest of 1-2-5 is 0.2
  EXPECT_EQ(g.crs, crs);
  expect_covers(g, {{lon0, lat0}, {lon0 + dlon, lat0 + dlat}}, 200.0);
  EXPECT_TRUE(is_multiple(g.x0_m, g.cell_m));
  EXPECT_TRUE(is_multiple(g.y1_m, g.cell_m));
  EXPECT_NEAR(g.cols * g.cell_m, 460.0, 3.0);  // ~60 m (a bit more in UTM) + 2 x 200 m margin
  // Default options respect min_cell_m = 1 m.
  const Grid coarse = make_grid(c, crs);
  EXPECT_DOUBLE_EQ(coarse.cell_m, 1.0);
  EXPECT_NEAR(coarse.cols, 461, 3);
}

TEST(MakeGrid, FiftyKilometreRegion) {
  Case c;
  Transformer t("EPSG:32650");
  // stations on a 50 km x 30 km rectangle (exact in UTM 50N)
  for (auto [x, y] : {std::pair{700000.0, 3200000.0}, {750000.0, 3200000.0}, {720000.0, 3230000.0}}) {
    double lon, lat;
    ASSERT_TRUE(t.inverse(x, y, lon, lat));
    c.stations.push_back(station_at(lon, lat));
  }
  ASSERT_EQ(analysis_crs_for(c), "EPSG:32650");
  const Grid g = make_grid(c, "EPSG:32650");
  EXPECT_DOUBLE_EQ(g.cell_m, 200.0);  // 50 km / 200 = 250 m -> nearest 1-2-5 value is 200 m
  // margin 25 % of 50 km = 12.5 km on every side, snapped outwards to whole cells
  EXPECT_DOUBLE_EQ(g.x0_m, 687400.0);
  EXPECT_DOUBLE_EQ(g.y1_m, 3242600.0);
  EXPECT_EQ(g.cols, 376);  // 75 km / 200 m, plus the half cell the snapping adds
  EXPECT_EQ(g.rows, 276);  // 55 km / 200 m, likewise
  EXPECT_EQ(g.col_of(700000.0), 63);
  EXPECT_EQ(g.row_of(3230000.0), 63);
  EXPECT_DOUBLE_EQ(g.x_center(63), 700100.0);
  EXPECT_DOUBLE_EQ(g.y_center(63), 3229900.0);
  double gt[6];
  g.geotransform(gt);
  EXPECT_DOUBLE_EQ(gt[0], 687400.0);
  EXPECT_DOUBLE_EQ(gt[1], 200.0);
  EXPECT_DOUBLE_EQ(gt[2], 0.0);
  EXPECT_DOUBLE_EQ(gt[3], 3242600.0);
  EXPECT_DOUBLE_EQ(gt[4], 0.0);
  EXPECT_DOUBLE_EQ(gt[5], -200.0);
  EXPECT_TRUE(g.contains(700000.0, 3200000.0));
  EXPECT_FALSE(g.contains(g.x1_m() + 1.0, 3200000.0));
  EXPECT_FALSE(g.contains(700000.0, g.y1_m + 1.0));
  EXPECT_EQ(g.col_of(g.x0_m - 1.0), -1);
  EXPECT_EQ(g.row_of(g.y0_m() - 1.0), g.rows);
  EXPECT_EQ(g.size(), 376u * 276u);

  // case.json grid_m wins; a silly one is refused
  c.settings.grid_m = 50.0;
  EXPECT_DOUBLE_EQ(make_grid(c, "EPSG:32650").cell_m, 50.0);
  c.settings.grid_m = 0.01;
  EXPECT_THROW(make_grid(c, "EPSG:32650"), InvalidInput);
  c.settings.grid_m = -5.0;
  EXPECT_THROW(make_grid(c, "EPSG:32650"), InvalidInput);
  EXPECT_THROW(make_grid(c, "EPSG:4326"), InvalidInput);
}

TEST(MakeGrid, SinglePointGetsTheMinimumMargin) {
  Case c;
  c.sources.push_back(source_at(120.04, 28.89));
  const Grid g = make_grid(c, analysis_crs_for(c));
  EXPECT_DOUBLE_EQ(g.cell_m, 2.0);  // 400 m / 200 cells
  EXPECT_GE(g.cols, 200);
  EXPECT_LE(g.cols, 201);
  EXPECT_GE(g.rows, 200);
  EXPECT_LE(g.rows, 201);
  expect_covers(g, {{120.04, 28.89}}, 200.0);
  Transformer t(g.crs);
  double x, y;
  ASSERT_TRUE(t.forward(120.04, 28.89, x, y));
  EXPECT_NEAR(g.col_of(x), g.cols / 2, 1);
  EXPECT_NEAR(g.row_of(y), g.rows / 2, 1);
}

TEST(MakeGrid, TracesAndImageryAreCovered) {
  Case c;
  Trace tr;
  tr.lon = {119.60, 119.62, 119.64};
  tr.lat = {29.05, 29.06, 29.07};
  tr.time_s = {0.0, 1.0, 2.0};
  c.traces.push_back(tr);
  Imagery im;
  im.lon_min = 119.66;
  im.lon_max = 119.67;
  im.lat_min = 29.00;
  im.lat_max = 29.01;
  c.imagery.push_back(im);
  const Grid g = make_grid(c, analysis_crs_for(c));
  expect_covers(g, {{119.60, 29.05}, {119.64, 29.07}, {119.66, 29.00}, {119.67, 29.01}}, 200.0);
  EXPECT_DOUBLE_EQ(g.cell_m, 50.0);  // ~8.9 km long side / 200 = 44 m -> 50 m
}

}  // namespace
}  // namespace plumetrace

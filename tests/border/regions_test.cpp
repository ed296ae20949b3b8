// Long-term source regions (border/regions.hpp): PSCF, CWT, the contribution map and its shares
// per area, on winds whose answer is known.
#include "plumetrace/border/regions.hpp"

#include <gtest/gtest.h>

#include "../geo/boundary_squares.hpp"

#include <cmath>
#include <cstring>
#include <vector>

#include "plumetrace/core/diagnostics.hpp"

namespace plumetrace {
namespace {

constexpr double kHour = 3600.0;
constexpr int kHours = 96;

/// The wind of hour h blows FROM this direction (degrees): a sequence that visits every sector.
double wind_from_deg(long long h) { return std::fmod(static_cast<double>(h) * 37.0 + 360.0 * 100, 360.0); }

/// Air arriving from the east (wind from 60..120 deg) is polluted.
bool from_the_east(long long h) {
  const double d = wind_from_deg(h);
  return d >= 60.0 && d <= 120.0;
}

struct RotatingWind {
  Grid grid{"EPSG:32650", 0.0, 20000.0, 200.0, 100, 100};
  WindField wind;
  std::vector<RegionsSample> samples;
  std::vector<RegionsStation> stations;
  RotatingWind() {
    // 8 m/s, steady within each hour (slices every 5 min), direction by hour: a back-trajectory
    // from the centre leaves the 10 km half-width in 1250 s, inside its own hour
    std::vector<EpochSeconds> times;
    for (double t = -kHour; t <= (kHours + 1) * kHour; t += 300.0) times.push_back(t);
    wind = WindField::from_function(0.0, 20000.0, 2000.0, 2000.0, 11, 11, times,
                                    [](double, double, EpochSeconds t, double& u, double& v) {
                                      const double from = wind_from_deg(static_cast<long long>(std::floor(t / kHour)));
                                      const double rad = from * M_PI / 180.0;
                                      u = -8.0 * std::sin(rad);
                                      v = -8.0 * std::cos(rad);
                                    });
    double sum = 0;
    for (long long h = 0; h < kHours; ++h) {
      const double value = from_the_east(h) ? 100.0 : 10.0;
      samples.push_back({0, 10000.0, 10000.0, (static_cast<double>(h) + 0.5) * kHour, value});
      sum += value;
    }
    stations.push_back({50.0, sum / kHours});
  }
  [[nodiscard]] std::size_t cell(double x, double y) const {
    return static_cast<std::size_t>(grid.row_of(y)) * grid.cols + grid.col_of(x);
  }
};

TEST(Regions, PscfAndCwtPointUpwindOfThePollutedHours) {
  const RotatingWind s;
  const RegionsFields f = source_regions(s.wind, s.grid, s.samples, s.stations);
  EXPECT_EQ(f.trajectories, s.samples.size());
  // a cell at bearing β from the station (3 km or more away) is crossed only by trajectories
  // that came from within a few degrees of β
  int east = 0, west = 0;
  for (int r = 0; r < s.grid.rows; ++r)
    for (int c = 0; c < s.grid.cols; ++c) {
      const double dx = s.grid.x_center(c) - 10000.0, dy = s.grid.y_center(r) - 10000.0;
      const double bearing = std::fmod(std::atan2(dx, dy) * 180.0 / M_PI + 360.0, 360.0);
      const std::size_t i = static_cast<std::size_t>(r) * s.grid.cols + c;
      if (std::hypot(dx, dy) < 3000.0 || f.count[i] == 0) continue;
      if (bearing > 70.0 && bearing < 110.0) {
        ++east;
        EXPECT_EQ(f.pscf_unweighted[i], 1.0F) << "bearing " << bearing;
        EXPECT_NEAR(f.cwt_unweighted[i], 100.0F, 1e-3);
        EXPECT_GT(f.contribution[i], 0.0);
      } else if (bearing > 250.0 && bearing < 290.0) {
        ++west;
        EXPECT_EQ(f.pscf_unweighted[i], 0.0F);
        EXPECT_NEAR(f.cwt_unweighted[i], 10.0F, 1e-3);
        EXPECT_EQ(f.contribution[i], 0.0);  // clean air only: a negative anomaly, clipped
      }
    }
  EXPECT_GT(east, 20);
  EXPECT_GT(west, 20);
  // the weights never raise a value, and a cell nobody reached has none
  for (std::size_t c = 0; c < s.grid.size(); ++c) {
    if (f.count[c] == 0) {
      EXPECT_TRUE(std::isnan(f.pscf[c]) && std::isnan(f.cwt[c]));
      continue;
    }
    EXPECT_LE(f.pscf[c], f.pscf_unweighted[c]);
    EXPECT_LE(f.cwt[c], f.cwt_unweighted[c]);
  }
}

TEST(Regions, TheResultDoesNotDependOnTheThreads) {
  const RotatingWind s;
  RegionsOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const RegionsFields a = source_regions(s.wind, s.grid, s.samples, s.stations, one);
  const RegionsFields b = source_regions(s.wind, s.grid, s.samples, s.stations, two);
  ASSERT_EQ(a.pscf.size(), b.pscf.size());
  EXPECT_EQ(std::memcmp(a.pscf.data(), b.pscf.data(), a.pscf.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(a.cwt.data(), b.cwt.data(), a.cwt.size() * sizeof(float)), 0);
  EXPECT_EQ(a.contribution, b.contribution);
  EXPECT_EQ(a.count, b.count);
}

TEST(Regions, AReceptorOffTheGridContributesNothing) {
  RotatingWind s;
  for (auto& smp : s.samples) smp.x_m = -5000.0;
  const RegionsFields f = source_regions(s.wind, s.grid, s.samples, s.stations);
  EXPECT_EQ(f.trajectories, s.samples.size());
  EXPECT_EQ(f.steps, 0U);
  for (std::size_t c = 0; c < s.grid.size(); ++c) ASSERT_EQ(f.count[c], 0U);
}

TEST(Regions, OpenairWeights) {
  EXPECT_EQ(cwt_weight(81), 1.0);
  EXPECT_EQ(cwt_weight(80), 0.7);
  EXPECT_EQ(cwt_weight(21), 0.7);
  EXPECT_EQ(cwt_weight(20), 0.42);
  EXPECT_EQ(cwt_weight(11), 0.42);
  EXPECT_EQ(cwt_weight(10), 0.05);
  EXPECT_EQ(pscf_weight(21, 10), 1.0);
  EXPECT_EQ(pscf_weight(20, 10), 0.75);
  EXPECT_EQ(pscf_weight(10, 10), 0.5);
  EXPECT_EQ(pscf_weight(5.5, 10), 0.5);
  EXPECT_EQ(pscf_weight(5, 10), 0.15);
}

TEST(Regions, QuantileType7MatchesRAndNumpy) {
  std::vector<double> v{10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_DOUBLE_EQ(quantile_type7(v, 0.9), 9.1);  // numpy.quantile(range(1, 11), 0.9)
  EXPECT_DOUBLE_EQ(quantile_type7(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile_type7(v, 1.0), 10.0);
  EXPECT_DOUBLE_EQ(quantile_type7(v, 0.15), 2.35);
  std::vector<double> one{4.0};
  EXPECT_DOUBLE_EQ(quantile_type7(one, 0.9), 4.0);
  std::vector<double> none;
  EXPECT_TRUE(std::isnan(quantile_type7(none, 0.9)));
}

TEST(Regions, SharesByArea) {
  // areas A (0..1 E) and B (1..2 E) at 0..1 N; a grid over 0.2..1.8 E, 0.2..0.8 N in UTM 31N
  const BoundaryLayer layer{"squares", {testing_support::square("A", 0.0, 0.0, 1.0, 1.0),
                                        testing_support::square("B", 1.0, 0.0, 2.0, 1.0)}};
  Diagnostics diag;
  const JurisdictionIndex index(layer, diag);
  const Transformer tr("EPSG:32631");
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  ASSERT_TRUE(tr.forward(0.2, 0.2, x0, y0));
  ASSERT_TRUE(tr.forward(1.8, 0.8, x1, y1));
  const Grid grid{"EPSG:32631", x0, y1, 2000.0, static_cast<int>((x1 - x0) / 2000.0), static_cast<int>((y1 - y0) / 2000.0)};
  std::vector<double> contribution(grid.size(), 0.0);
  int in_b = 0;
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) {
      double lon = 0, lat = 0;
      ASSERT_TRUE(tr.inverse(grid.x_center(c), grid.y_center(r), lon, lat));
      // 3 units in each cell of B, 1 in each of A
      contribution[static_cast<std::size_t>(r) * grid.cols + c] = lon > 1.0 ? 3.0 : 1.0;
      in_b += lon > 1.0;
    }
  const int in_a = static_cast<int>(grid.size()) - in_b;
  const RegionsByArea by = regions_by_area(index, grid, tr, contribution);
  ASSERT_EQ(by.areas.size(), 2U);
  EXPECT_EQ(by.areas[0].area.code, "B");
  EXPECT_EQ(by.areas[0].cells, in_b);
  EXPECT_EQ(by.areas[1].cells, in_a);
  EXPECT_NEAR(by.areas[0].share, 3.0 * in_b / (3.0 * in_b + in_a), 1e-12);
  EXPECT_NEAR(by.areas[0].share + by.areas[1].share, 1.0, 1e-12);
  EXPECT_EQ(by.outside, 0.0);
  // an area without contribution is left out
  for (double& v : contribution) v = v > 2.0 ? 0.0 : v;
  const RegionsByArea a_only = regions_by_area(index, grid, tr, contribution);
  ASSERT_EQ(a_only.areas.size(), 1U);
  EXPECT_EQ(a_only.areas[0].area.code, "A");
  EXPECT_DOUBLE_EQ(a_only.areas[0].share, 1.0);
}

}  // namespace
}  // namespace plumetrace

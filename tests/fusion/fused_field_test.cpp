// The fused field by simple kriging (include/plumetrace/fusion/fused_field.hpp), against the
// closed-form answers for one and two data.
#include "plumetrace/fusion/fused_field.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace plumetrace {
namespace {

// a 100 m grid, 40 x 40 cells; cell (r, c) has its centre at (50 + 100 c, 3950 - 100 r)
const Grid kGrid{"EPSG:32650", 0.0, 4000.0, 100.0, 40, 40};

/// A station platform (background 5, noise `noise`) with `hours` hourly means of 5 + excess at (x, y).
void add_station(ObservationSet& set, double x, double y, double excess, double noise, int hours) {
  Platform p;
  p.id = "S" + std::to_string(set.platforms.size());
  p.kind = ObservationKind::Station;
  p.background = 5.0;
  p.noise = noise;
  const int pi = static_cast<int>(set.platforms.size());
  set.platforms.push_back(p);
  for (int h = 0; h < hours; ++h) {
    Observation o;
    o.kind = ObservationKind::Station;
    o.platform = pi;
    o.x_m = o.x0_m = o.x1_m = x;
    o.y_m = o.y0_m = o.y1_m = y;
    o.t_start = 3600.0 * h;
    o.averaging_s = 3600.0;
    o.value = 5.0 + excess;
    set.obs.push_back(o);
  }
}

std::size_t cell(int r, int c) { return static_cast<std::size_t>(r) * kGrid.cols + c; }

TEST(FusedField, OneStationMatchesTheClosedForm) {
  ObservationSet set;
  add_station(set, 1050.0, 2950.0, 10.0, 1.0, 4);  // the centre of cell (10, 10)
  const FusedField f = fuse_on_grid(set, kGrid, 0.0, 4 * 3600.0);
  EXPECT_EQ(f.data, 1U);
  EXPECT_DOUBLE_EQ(f.length_m, kFusedCorrelationM);
  // σ² = mean square − mean error variance = 100 − 1/4; R = 1/4 (four hourly means)
  const double s2 = 100.0 - 0.25, r = 0.25;
  EXPECT_NEAR(f.sigma, std::sqrt(s2), 1e-9);
  EXPECT_NEAR(f.value[cell(10, 10)], s2 / (s2 + r) * 10.0, 1e-4);
  EXPECT_NEAR(f.uncertainty[cell(10, 10)], std::sqrt(s2 - s2 * s2 / (s2 + r)), 1e-4);
  // 300 m east: the covariance e^-1
  const double c = s2 * std::exp(-1.0);
  EXPECT_NEAR(f.value[cell(10, 13)], c / (s2 + r) * 10.0, 1e-4);
  EXPECT_NEAR(f.uncertainty[cell(10, 13)], std::sqrt(s2 - c * c / (s2 + r)), 1e-4);
  // beyond 4 L: the prior (no excess, ± σ)
  EXPECT_EQ(f.value[cell(10, 30)], 0.0F);
  EXPECT_NEAR(f.uncertainty[cell(10, 30)], std::sqrt(s2), 1e-4);
  EXPECT_EQ(f.count[cell(10, 10)], 4.0F);
  EXPECT_EQ(f.count[cell(10, 11)], 0.0F);
}

TEST(FusedField, TwoStationsAreSymmetricAndTheWindowCounts) {
  ObservationSet set;
  add_station(set, 1050.0, 2950.0, 10.0, 1.0, 4);
  add_station(set, 1650.0, 2950.0, 10.0, 1.0, 4);
  const FusedField f = fuse_on_grid(set, kGrid, 0.0, 4 * 3600.0);
  EXPECT_EQ(f.data, 2U);
  for (int d = 0; d <= 3; ++d) {
    EXPECT_NEAR(f.value[cell(10, 10 + d)], f.value[cell(10, 16 - d)], 1e-4) << d;
    EXPECT_NEAR(f.uncertainty[cell(10, 10 + d)], f.uncertainty[cell(10, 16 - d)], 1e-4) << d;
  }
  // between two data the uncertainty is smaller than beside one at the same distance
  EXPECT_LT(f.uncertainty[cell(10, 13)], f.uncertainty[cell(10, 7)]);
  // observations outside the window are not data
  const FusedField late = fuse_on_grid(set, kGrid, 10 * 3600.0, 11 * 3600.0);
  EXPECT_EQ(late.data, 0U);
  EXPECT_EQ(late.value[cell(10, 10)], 0.0F);
  EXPECT_EQ(late.count[cell(10, 10)], 0.0F);
}

TEST(FusedField, NoisyDataAreSmoothedTowardZero) {
  ObservationSet set;
  add_station(set, 1050.0, 2950.0, 2.0, 4.0, 1);  // noise 4 > excess 2: σ² floors at 0.1 × 4
  const FusedField f = fuse_on_grid(set, kGrid, 0.0, 3600.0);
  const double s2 = kFusedMinSignalShare * 4.0;
  EXPECT_NEAR(f.sigma, std::sqrt(s2), 1e-9);
  EXPECT_NEAR(f.value[cell(10, 10)], s2 / (s2 + 16.0) * 2.0, 1e-4);
}

}  // namespace
}  // namespace plumetrace

// Border flux against the analytic answer in a uniform wind (issue #10 item 2), the shared edge of
// two (clean and dirty) neighbours, and the fused concentration between receptors.

#include <gtest/gtest.h>

#include <cmath>

#include "plumetrace/border/flux.hpp"
#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/jurisdictions.hpp"

namespace plumetrace {
namespace {

constexpr EpochSeconds kT0 = 1.6e9;
constexpr double kPi = 3.14159265358979323846;

/// A uniform concentration: `excess` above a background `bg` (µg/m³).
ConcentrationField uniform_field(double excess, double bg) {
  return [=](double, double, EpochSeconds, double& e, double& t) {
    e = excess;
    t = excess + bg;
    return true;
  };
}

TEST(BorderFlux, StraightBorderInUniformWindMatchesTheAnalyticAnswer) {
  // A west of x = 0, B east; the border runs north (A on its left), 12 km in 50 m pieces
  std::vector<BorderSegment> border;
  for (int k = 0; k < 240; ++k) border.push_back({0, -6000.0 + 50 * k, 0, -6000.0 + 50 * (k + 1)});
  const double c_total_ug = 56.0, c_excess_ug = 50.0, h = 800.0, T = 3 * 3600.0 + 100.0, L = 12000.0;
  for (const double dir_deg : {270.0, 240.0, 300.0, 90.0, 135.0}) {  // wind FROM
    const double speed = 3.0;
    const double u = -speed * std::sin(dir_deg * kPi / 180), v = -speed * std::cos(dir_deg * kPi / 180);
    const WindField wind = WindField::uniform(u, v, Stability::D, h);
    const BorderFluxResult r = integrate_border_flux(border, wind, uniform_field(c_excess_ug, c_total_ug - c_excess_ug),
                                                     kT0, kT0 + T, 1e6);
    const double un = u;  // normal from A (west) to B (east) is +x
    const double expect_total = c_total_ug * 1e-9 * std::abs(un) * h * L * T;  // kg
    const double expect_excess = c_excess_ug * 1e-9 * std::abs(un) * h * L * T;
    const double ab = un > 0 ? expect_total : 0, ba = un > 0 ? 0 : expect_total;
    EXPECT_NEAR(r.a_to_b_kg, ab, 1e-6 * expect_total) << dir_deg;
    EXPECT_NEAR(r.b_to_a_kg, ba, 1e-6 * expect_total) << dir_deg;
    EXPECT_NEAR(r.a_to_b_excess_kg + r.b_to_a_excess_kg, expect_excess, 1e-6 * expect_excess) << dir_deg;
    EXPECT_NEAR(r.border_length_m, L, 1e-9 * L);
    EXPECT_EQ(r.steps, r.steps_with_data);
    EXPECT_NEAR(r.mean_mixing_height_m, h, 1e-9);
  }
}

TEST(BorderFlux, AFoldedBorderSplitsTheFluxBothWays) {
  // a border with a bay: north-going 5 km, east 2 km, north 5 km; wind from the south-west.
  // ∮ u·n dl over a path depends on its end points only: (u Δy − v Δx), split by sign per leg.
  const std::vector<BorderSegment> border = {{0, 0, 0, 5000}, {0, 5000, 2000, 5000}, {2000, 5000, 2000, 10000}};
  const double u = 2.0, v = 2.0, h = 600.0, T = 7200.0, c = 10.0;
  const WindField wind = WindField::uniform(u, v, Stability::D, h);
  const BorderFluxResult r = integrate_border_flux(border, wind, uniform_field(c, 0), kT0, kT0 + T, 1e6);
  const double k = c * 1e-9 * h * T;
  EXPECT_NEAR(r.a_to_b_kg, k * u * 10000.0, 1e-6 * k * u * 10000.0);  // the two north-going legs
  EXPECT_NEAR(r.b_to_a_kg, k * v * 2000.0, 1e-6 * k * v * 2000.0);    // the east-going leg: −v Δx < 0
}

/// A clean square [lon0, lon0 + d] x [lat0, lat0 + d] as one feature.
BoundaryFeature square(const std::string& code, double lon0, double lat0, double d,
                       std::vector<std::pair<double, double>> extra_east = {}) {
  BoundaryFeature f;
  f.code = code;
  f.name = code;
  std::vector<std::pair<double, double>> ring = {{lon0, lat0}, {lon0 + d, lat0}};
  for (const auto& p : extra_east) ring.push_back(p);
  ring.insert(ring.end(), {{lon0 + d, lat0 + d}, {lon0, lat0 + d}, {lon0, lat0}});
  f.polygons = {{ring}};
  return f;
}

TEST(SharedBorder, CleanNeighboursShareTheirCommonSideOnly) {
  BoundaryLayer layer;
  layer.file = "b.geojson";
  layer.features = {square("A", 120.0, 28.8, 0.1), square("B", 120.1, 28.8, 0.1), square("C", 120.0, 28.9, 0.2)};
  Diagnostics d;
  const JurisdictionIndex index(layer, d);
  const auto pieces = index.shared_border(0, 1, 50.0);
  ASSERT_FALSE(pieces.empty());
  double lat_len = 0;
  for (const auto& p : pieces) {
    EXPECT_DOUBLE_EQ(p.lon0, 120.1);
    EXPECT_DOUBLE_EQ(p.lon1, 120.1);
    EXPECT_GT(p.lat1, p.lat0);  // north-going: A (west) on the left
    lat_len += p.lat1 - p.lat0;
  }
  EXPECT_NEAR(lat_len, 0.1, 1e-12);
  // B's side, directed the other way
  for (const auto& p : index.shared_border(1, 0, 50.0)) EXPECT_LT(p.lat1, p.lat0);
  // A and C share A's north side; B and A do not share their corner with C
  double c_len = 0;
  for (const auto& p : index.shared_border(0, 2, 50.0)) {
    EXPECT_DOUBLE_EQ(p.lat0, 28.9);
    c_len += std::abs(p.lon1 - p.lon0);
  }
  EXPECT_NEAR(c_len, 0.1, 1e-12);
}

TEST(SharedBorder, ASliverBetweenNeighboursIsBridged) {
  // B's west side digitised 40-80 m east of A's east side, with extra vertices
  BoundaryLayer layer;
  layer.file = "b.geojson";
  BoundaryFeature b;
  b.code = b.name = "B";
  b.polygons = {{{{120.1005, 28.8}, {120.2, 28.8}, {120.2, 28.9}, {120.1008, 28.9}, {120.1004, 28.85}, {120.1005, 28.8}}}};
  layer.features = {square("A", 120.0, 28.8, 0.1), b};
  Diagnostics d;
  const JurisdictionIndex index(layer, d, 200.0);
  double lat_len = 0;
  for (const auto& p : index.shared_border(0, 1, 50.0)) lat_len += p.lat1 - p.lat0;
  EXPECT_NEAR(lat_len, 0.1, 1e-9);
}

TEST(BorderFlux, ProjectedBorderOfTwoCountiesInUniformWind) {
  // the whole path: shared edge in lon/lat -> analysis CRS -> flux; the analytic answer for a
  // uniform field is C h T (u Δy − v Δx) between the border's projected end points
  BoundaryLayer layer;
  layer.file = "b.geojson";
  layer.features = {square("A", 120.0, 28.8, 0.1), square("B", 120.1, 28.8, 0.1)};
  Diagnostics d;
  const JurisdictionIndex index(layer, d);
  const Transformer tr("EPSG:32651");
  const auto border = project_border(index.shared_border(0, 1, 50.0), tr);
  double x0, y0, x1, y1;
  tr.forward(120.1, 28.8, x0, y0);
  tr.forward(120.1, 28.9, x1, y1);
  const double u = 2.5, v = -1.0, h = 700, T = 4 * 3600.0, c = 80.0;
  const WindField wind = WindField::uniform(u, v, Stability::D, h);
  const BorderFluxResult r = integrate_border_flux(border, wind, uniform_field(c, 0), kT0, kT0 + T, 1e6);
  const double expect = c * 1e-9 * h * T * (u * (y1 - y0) - v * (x1 - x0));
  EXPECT_NEAR(r.a_to_b_kg, expect, 1e-6 * expect);
  EXPECT_EQ(r.b_to_a_kg, 0.0);
  EXPECT_NEAR(r.border_length_m, std::hypot(x1 - x0, y1 - y0), 1e-6 * 11000);
}

TEST(ObservedConcentration, InterpolatesFadesAndKnowsWhenItKnowsNothing) {
  ObservationSet obs;
  obs.platforms.push_back({"S1", ObservationKind::Station, 6.0, 0.3, BackgroundSource::Own});
  obs.platforms.push_back({"S2", ObservationKind::Station, 6.0, 0.3, BackgroundSource::Own});
  for (int h = 0; h < 2; ++h)
    for (int s = 0; s < 2; ++s) {
      Observation o;
      o.platform = s;
      o.x_m = s == 0 ? 0 : 2000;
      o.t_start = kT0 + 3600.0 * h;
      o.averaging_s = 3600;
      o.value = 36.0;
      obs.obs.push_back(o);
    }
  double e = 0, t = 0;
  const ObservedConcentration pure(obs, 3600, 0);
  ASSERT_TRUE(pure(1000, 500, kT0 + 1800, e, t));
  EXPECT_DOUBLE_EQ(e, 30.0);
  EXPECT_DOUBLE_EQ(t, 36.0);
  const ObservedConcentration fading(obs, 3600, 3000);
  ASSERT_TRUE(fading(0, 0, kT0 + 1800, e, t));
  EXPECT_DOUBLE_EQ(e, 30.0);  // on a receptor: its value
  ASSERT_TRUE(fading(1000, 30000, kT0 + 5000, e, t));
  EXPECT_LT(e, 0.05 * 30.0);   // 30 km away: about background
  EXPECT_NEAR(t, 6.0 + e, 1e-12);
  EXPECT_TRUE(fading(1000, 0, kT0 + 2 * 3600.0 + 100, e, t));  // the next bin borrows its neighbour
  EXPECT_FALSE(fading(1000, 0, kT0 + 5 * 3600.0, e, t));       // hours later: nothing known
}

}  // namespace
}  // namespace plumetrace

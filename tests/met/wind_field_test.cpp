// Tests for wind_field.hpp: station vector means, IDW, calms, time interpolation, stability
// precedence, gridded met, uniform and default fields. Cases are built by hand (no load_case).

#include "plumetrace/met/wind_field.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "plumetrace/core/error.hpp"
#include "plumetrace/geo/crs.hpp"

using namespace plumetrace;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kT0 = 1622505600.0;  // 2021-06-01T00:00:00Z

/// Builds a Case with stations and readings.
struct CaseBuilder {
  Case c;
  std::uint32_t station(const std::string& id, double lon, double lat) {
    c.stations.push_back({id, id, lon, lat, 10.0, std::nullopt});
    return static_cast<std::uint32_t>(c.stations.size() - 1);
  }
  std::uint16_t var(const std::string& name) {
    const int i = c.readings.variable_index(name);
    if (i >= 0) return static_cast<std::uint16_t>(i);
    c.readings.variables.push_back(name);
    return static_cast<std::uint16_t>(c.readings.variables.size() - 1);
  }
  void add(std::uint32_t st, double t, const std::string& name, double value, double period = 3600) {
    if (c.readings.units.empty()) c.readings.units.push_back("");
    Reading r;
    r.time_s = t;
    r.period_s = period;
    r.value = value;
    r.station = st;
    r.variable = var(name);
    r.unit = 0;
    c.readings.rows.push_back(r);
  }
  void wind(std::uint32_t st, double t, double speed, double dir_from_deg, double period = 3600) {
    add(st, t, "wind_speed", speed, period);
    add(st, t, "wind_dir", dir_from_deg, period);
  }
};

void expected_uv(double speed, double dir_deg, double& u, double& v) {
  u = -speed * std::sin(dir_deg * kPi / 180);
  v = -speed * std::cos(dir_deg * kPi / 180);
}

}  // namespace

TEST(WindField, IdwAtStationEqualsStation) {
  CaseBuilder b;
  const auto s0 = b.station("A", 120.00, 30.00);
  const auto s1 = b.station("B", 120.10, 30.05);
  const auto s2 = b.station("C", 120.05, 29.95);
  b.wind(s0, kT0, 3.0, 45);
  b.wind(s1, kT0, 5.0, 180);
  b.wind(s2, kT0, 2.0, 270);
  Transformer tr("EPSG:32651");
  const WindField f = WindField::from_case(b.c, tr);
  EXPECT_EQ(f.source(), "stations");
  ASSERT_EQ(f.nodes.size(), 3u);
  ASSERT_EQ(f.slices.size(), 1u);
  EXPECT_DOUBLE_EQ(f.slices[0].t, kT0 + 1800);  // hour bin centre
  const double speeds[3] = {3, 5, 2}, dirs[3] = {45, 180, 270};
  const double lons[3] = {120.00, 120.10, 120.05}, lats[3] = {30.00, 30.05, 29.95};
  for (int i = 0; i < 3; ++i) {
    double x, y, ue, ve;
    ASSERT_TRUE(tr.forward(lons[i], lats[i], x, y));
    expected_uv(speeds[i], dirs[i], ue, ve);
    const MetSample m = f.at(x, y, kT0 + 1800);
    EXPECT_NEAR(m.u_m_s, ue, 1e-5) << i;
    EXPECT_NEAR(m.v_m_s, ve, 1e-5) << i;
    EXPECT_NEAR(m.speed_m_s, speeds[i], 1e-5) << i;
    double u, v;
    f.wind(x, y, kT0 + 1800, u, v);
    EXPECT_NEAR(u, ue, 1e-5);  // wind() (branch-free fast path) agrees with at()
    EXPECT_NEAR(v, ve, 1e-5);
    EXPECT_NEAR(u, m.u_m_s, 1e-12);
    EXPECT_NEAR(v, m.v_m_s, 1e-12);
  }
  // Between stations the value is a weighted mean: bounded by the station values.
  double x0, y0, x1, y1;
  tr.forward(120.00, 30.00, x0, y0);
  tr.forward(120.10, 30.05, x1, y1);
  const MetSample mid = f.at(0.5 * (x0 + x1), 0.5 * (y0 + y1), kT0 + 1800);
  EXPECT_GT(mid.speed_m_s, 2.0);
  EXPECT_LT(mid.speed_m_s, 5.0);
  // wind() and at() agree away from stations, at and between slice times.
  double u, v;
  f.wind(0.3 * x0 + 0.7 * x1, 0.6 * y0 + 0.4 * y1, kT0 + 1800, u, v);
  const MetSample m2 = f.at(0.3 * x0 + 0.7 * x1, 0.6 * y0 + 0.4 * y1, kT0 + 1800);
  EXPECT_NEAR(u, m2.u_m_s, 1e-12);
  EXPECT_NEAR(v, m2.v_m_s, 1e-12);
}

TEST(WindField, VectorMeanOf350And10IsNorth) {
  CaseBuilder b;
  const auto s = b.station("A", 120.0, 30.0);
  b.wind(s, kT0, 3.0, 350, 1800);
  b.wind(s, kT0 + 1800, 3.0, 10, 1800);
  Transformer tr("EPSG:32651");
  const WindField f = WindField::from_case(b.c, tr);
  ASSERT_EQ(f.slices.size(), 1u);
  const MetSample m = f.at(0, 0, kT0 + 1800);
  EXPECT_NEAR(m.u_m_s, 0.0, 1e-6);
  EXPECT_NEAR(m.v_m_s, -3.0 * std::cos(10 * kPi / 180), 1e-5);  // from 0 deg: blows south
  const double dir_from = std::fmod(std::atan2(-m.u_m_s, -m.v_m_s) * 180 / kPi + 360, 360);
  EXPECT_NEAR(std::fmod(dir_from + 180, 360) - 180, 0.0, 1e-4);
  EXPECT_NEAR(m.speed_m_s, 3.0, 1e-6);  // scalar mean speed kept
}

TEST(WindField, CalmKeepsDirectionNoNaN) {
  CaseBuilder b;
  const auto s = b.station("A", 120.0, 30.0);
  b.wind(s, kT0, 3.0, 90);             // from the east: u = -3
  b.wind(s, kT0 + 3600, 0.0, 0);       // calm
  b.wind(s, kT0 + 7200, 0.1, 200);     // nearly calm, own direction
  Transformer tr("EPSG:32651");
  const WindField f = WindField::from_case(b.c, tr);
  ASSERT_EQ(f.slices.size(), 3u);
  const MetSample calm = f.at(0, 0, kT0 + 3600 + 1800);
  EXPECT_FALSE(std::isnan(calm.u_m_s) || std::isnan(calm.v_m_s) || std::isnan(calm.speed_m_s));
  EXPECT_NEAR(calm.u_m_s, -kMinWindSpeed, 1e-6);
  EXPECT_NEAR(calm.v_m_s, 0.0, 1e-6);
  EXPECT_NEAR(calm.speed_m_s, kMinWindSpeed, 1e-6);
  const MetSample weak = f.at(0, 0, kT0 + 7200 + 1800);
  double ue, ve;
  expected_uv(kMinWindSpeed, 200, ue, ve);
  EXPECT_NEAR(weak.u_m_s, ue, 1e-5);
  EXPECT_NEAR(weak.v_m_s, ve, 1e-5);
  EXPECT_GE(weak.speed_m_s, kMinWindSpeed);
}

TEST(WindField, CalmFirstHourTakesNextDirection) {
  CaseBuilder b;
  const auto s = b.station("A", 120.0, 30.0);
  b.wind(s, kT0, 0.0, 0);
  b.wind(s, kT0 + 3600, 4.0, 270);  // from the west: u = +4
  Transformer tr("EPSG:32651");
  const WindField f = WindField::from_case(b.c, tr);
  const MetSample m = f.at(0, 0, kT0 + 1800);
  EXPECT_NEAR(m.u_m_s, kMinWindSpeed, 1e-6);
  EXPECT_NEAR(m.v_m_s, 0.0, 1e-6);
}

TEST(WindField, LinearInTimeAndNearestOutside) {
  CaseBuilder b;
  const auto s = b.station("A", 120.0, 30.0);
  b.wind(s, kT0, 2.0, 270);
  b.wind(s, kT0 + 3600, 4.0, 270);
  Transformer tr("EPSG:32651");
  const WindField f = WindField::from_case(b.c, tr);
  EXPECT_DOUBLE_EQ(f.t_begin(), kT0);
  EXPECT_DOUBLE_EQ(f.t_end(), kT0 + 7200);
  double u, v;
  f.wind(0, 0, kT0 + 3600, u, v);  // midway between slice times 00:30 and 01:30
  EXPECT_NEAR(u, 3.0, 1e-6);
  EXPECT_NEAR(v, 0.0, 1e-6);
  f.wind(0, 0, kT0 + 1800 + 900, u, v);
  EXPECT_NEAR(u, 2.5, 1e-6);
  f.wind(0, 0, kT0 - 86400, u, v);
  EXPECT_NEAR(u, 2.0, 1e-6);
  f.wind(0, 0, kT0 + 86400, u, v);
  EXPECT_NEAR(u, 4.0, 1e-6);
  EXPECT_NEAR(f.at(0, 0, kT0 + 3600).speed_m_s, 3.0, 1e-6);
}

TEST(WindField, MissingStationHourUsesOthers) {
  CaseBuilder b;
  const auto s0 = b.station("A", 120.0, 30.0);
  const auto s1 = b.station("B", 120.1, 30.0);
  b.wind(s0, kT0, 2.0, 270);
  b.wind(s1, kT0, 2.0, 270);
  b.wind(s0, kT0 + 3600, 6.0, 270);  // B missing in hour 1
  Transformer tr("EPSG:32651");
  const WindField f = WindField::from_case(b.c, tr);
  ASSERT_EQ(f.slices.size(), 2u);
  EXPECT_TRUE(std::isnan(f.slices[1].u[1]));
  double xb, yb;
  tr.forward(120.1, 30.0, xb, yb);
  const MetSample m = f.at(xb, yb, kT0 + 5400);
  EXPECT_NEAR(m.u_m_s, 6.0, 1e-5);  // only A has a value in that hour
  const MetSample mid = f.at(xb, yb, kT0 + 3600);
  EXPECT_NEAR(mid.u_m_s, 4.0, 1e-5);  // halfway between 2 (B itself) and 6
  EXPECT_FALSE(std::isnan(mid.v_m_s));
}

TEST(WindField, SubHourlyReadingsAveragePerHour) {
  CaseBuilder b;
  const auto s = b.station("A", 120.0, 30.0);
  for (int i = 0; i < 6; ++i) b.wind(s, kT0 + 600 * i, 1.0 + i, 270, 600);  // 1..6 m/s from west
  Transformer tr("EPSG:32651");
  const WindField f = WindField::from_case(b.c, tr);
  ASSERT_EQ(f.slices.size(), 1u);
  EXPECT_NEAR(f.at(0, 0, kT0).u_m_s, 3.5, 1e-6);
}

TEST(WindField, KnotsAreConverted) {
  CaseBuilder b;
  const auto s = b.station("A", 120.0, 30.0);
  b.c.readings.units = {"", "kt"};
  b.wind(s, kT0, 10.0, 270);
  b.c.readings.rows[0].unit = 1;  // the wind_speed row
  Transformer tr("EPSG:32651");
  EXPECT_NEAR(WindField::from_case(b.c, tr).at(0, 0, kT0).u_m_s, 5.14444, 1e-4);
}

TEST(WindField, NoWindGivesDefaultFromNorth) {
  CaseBuilder b;
  b.station("A", 120.0, 30.0);
  Transformer tr("EPSG:32651");
  WindFieldOptions o;
  o.default_speed_m_s = 2.5;
  const WindField f = WindField::from_case(b.c, tr, o);
  EXPECT_EQ(f.source(), "default");
  const MetSample m = f.at(1e5, -3e4, kT0);
  EXPECT_NEAR(m.u_m_s, 0.0, 1e-9);
  EXPECT_NEAR(m.v_m_s, -2.5, 1e-6);
  EXPECT_EQ(m.stability, Stability::D);
}

TEST(WindField, StabilityPrecedence) {
  Transformer tr("EPSG:32651");
  const double night = kT0 + 18 * 3600;  // 02:00 local at 120E: sun below the horizon
  {  // explicit reading wins (5 = E) even with L measured
    CaseBuilder b;
    const auto s = b.station("A", 120.0, 30.0);
    b.wind(s, night, 3.0, 0);
    b.add(s, night, "stability", 5);
    b.add(s, night, "obukhov_length", -5);
    b.add(s, night, "mixing_height", 321);
    const MetSample m = WindField::from_case(b.c, tr).at(0, 0, night);
    EXPECT_EQ(m.stability, Stability::E);
    EXPECT_NEAR(m.mixing_height_m, 321, 1e-9);
    EXPECT_NEAR(m.obukhov_length_m, -5, 1e-9);
  }
  {  // Obukhov length (Golder) next
    CaseBuilder b;
    const auto s = b.station("A", 120.0, 30.0);
    b.wind(s, night, 3.0, 0);
    b.add(s, night, "obukhov_length", -5);
    b.add(s, night, "friction_velocity", 0.4);
    b.add(s, night, "wind_dir_std", 12.0);
    const MetSample m = WindField::from_case(b.c, tr).at(0, 0, night);
    EXPECT_EQ(m.stability, Stability::A);
    EXPECT_NEAR(m.mixing_height_m, default_mixing_height_m(Stability::A), 1e-9);
    EXPECT_NEAR(m.friction_velocity_m_s, 0.4, 1e-9);
    EXPECT_NEAR(m.sigma_theta_deg, 12.0, 1e-9);
    EXPECT_NEAR(m.sigma_theta_period_s, 3600.0, 1e-9);  // hourly readings
  }
  {  // σθ over 10-minute periods (a field campaign's mast): the operator scales it by that period
    CaseBuilder b;
    const auto s = b.station("A", 120.0, 30.0);
    b.wind(s, night, 3.0, 0, 600);
    b.add(s, night, "wind_dir_std", 12.0, 600);
    const MetSample m = WindField::from_case(b.c, tr).at(0, 0, night);
    EXPECT_NEAR(m.sigma_theta_deg, 12.0, 1e-9);
    EXPECT_NEAR(m.sigma_theta_period_s, 600.0, 1e-9);
  }
  {  // Turner: clear night, 1 m/s -> F; clear noon (sun ~80 deg), 1 m/s -> A
    CaseBuilder b;
    const auto s = b.station("A", 120.0, 30.0);
    b.wind(s, night, 1.0, 0);
    b.add(s, night, "cloud_cover", 1);
    const double noon = kT0 + 4 * 3600;  // 12:00 local solar time at 120E
    b.wind(s, noon, 1.0, 0);
    b.add(s, noon, "cloud_cover", 1);
    const WindField f = WindField::from_case(b.c, tr);
    EXPECT_EQ(f.at(0, 0, night).stability, Stability::F);
    EXPECT_TRUE(std::isnan(f.at(0, 0, night).sigma_theta_deg));
    EXPECT_TRUE(std::isnan(f.at(0, 0, night).obukhov_length_m));
    EXPECT_EQ(f.at(0, 0, noon).stability, Stability::A);
  }
}

TEST(WindField, UniformField) {
  const WindField f = WindField::uniform(3, -4, Stability::B, 1100, 15);
  const MetSample m = f.at(12345, -999, kT0);
  EXPECT_DOUBLE_EQ(m.u_m_s, 3);
  EXPECT_DOUBLE_EQ(m.v_m_s, -4);
  EXPECT_NEAR(m.speed_m_s, 5, 1e-6);
  EXPECT_EQ(m.stability, Stability::B);
  EXPECT_EQ(m.mixing_height_m, 1100);
  EXPECT_EQ(m.sigma_theta_deg, 15);
}

TEST(WindField, GriddedMetLonLat) {
  // 0.1-degree lon/lat grid, 8 x 6 nodes from (119.8, 30.3) north-west corner; u linear in lon,
  // v linear in lat, two times. Bilinear resampling reproduces a field linear in lon/lat closely.
  CaseBuilder b;
  MetGrid m;
  m.file = "met/test.tif";
  m.width = 8;
  m.height = 6;
  const double gt[6] = {119.8, 0.1, 0, 30.3, 0, -0.1};
  std::copy(gt, gt + 6, m.geotransform);
  m.times = {kT0, kT0 + 3600};
  for (int k = 0; k < 2; ++k)
    for (int i = 0; i < m.height; ++i)
      for (int j = 0; j < m.width; ++j) {
        const double lon = 119.8 + (j + 0.5) * 0.1, lat = 30.3 - (i + 0.5) * 0.1;
        m.u.push_back(static_cast<float>(10 * (lon - 120.0) + k));
        m.v.push_back(static_cast<float>(-5 * (lat - 30.0)));
      }
  b.c.met.push_back(m);
  Transformer tr("EPSG:32651");
  const WindField f = WindField::from_case(b.c, tr);
  EXPECT_EQ(f.source(), "met-grid");
  EXPECT_TRUE(f.gridded);
  ASSERT_EQ(f.slices.size(), 2u);
  double x, y;
  ASSERT_TRUE(tr.forward(120.23, 30.07, x, y));
  MetSample s = f.at(x, y, kT0);
  EXPECT_NEAR(s.u_m_s, 2.3, 0.03);
  EXPECT_NEAR(s.v_m_s, -0.35, 0.03);
  s = f.at(x, y, kT0 + 1800);
  EXPECT_NEAR(s.u_m_s, 2.8, 0.03);
  // Outside the grid the edge value is extended: no NaN.
  s = f.at(x + 1e6, y, kT0);
  EXPECT_TRUE(std::isfinite(s.u_m_s) && std::isfinite(s.v_m_s));
}

TEST(WindField, FinalizeRejectsInconsistentSlices) {
  WindField f;
  f.nodes = {{0, 0}, {1, 1}};
  WindField::Slice s;
  s.u = {1};
  s.v = {1};
  f.slices.push_back(s);
  EXPECT_THROW(f.finalize(), InvalidInput);
}

TEST(WindField, GriddedMetProjected) {
  // A met grid already in the analysis CRS (UTM 51N, WKT from the transformer): 2 km cells.
  Transformer tr("EPSG:32651");
  double xc, yc;
  ASSERT_TRUE(tr.forward(120.5, 30.0, xc, yc));
  CaseBuilder b;
  MetGrid m;
  m.file = "met/utm.tif";
  m.width = 10;
  m.height = 10;
  m.crs_wkt = tr.wkt();
  const double x0 = std::round(xc) - 10000, y1 = std::round(yc) + 10000;
  const double gt[6] = {x0, 2000, 0, y1, 0, -2000};
  std::copy(gt, gt + 6, m.geotransform);
  m.times = {kT0};
  for (int i = 0; i < m.height; ++i)
    for (int j = 0; j < m.width; ++j) {
      const double x = x0 + (j + 0.5) * 2000;
      m.u.push_back(static_cast<float>((x - x0) / 2000.0));  // 0.5 .. 9.5
      m.v.push_back(1.0f);
    }
  b.c.met.push_back(m);
  const WindField f = WindField::from_case(b.c, tr);
  EXPECT_EQ(f.source(), "met-grid");
  const MetSample s = f.at(x0 + 7300, y1 - 9000, kT0);
  EXPECT_NEAR(s.u_m_s, 3.65, 0.01);
  EXPECT_NEAR(s.v_m_s, 1.0, 1e-5);
}

TEST(WindField, DefaultConstructedIsCalmNotNaN) {
  const WindField f;
  double u = 1, v = 1;
  f.wind(0, 0, kT0, u, v);
  EXPECT_EQ(u, 0.0);
  EXPECT_EQ(v, 0.0);
  const MetSample m = f.at(0, 0, kT0);
  EXPECT_EQ(m.speed_m_s, kMinWindSpeed);
}

namespace {

/// A station field built by hand: n stations over 20 km, `hours` hourly slices; station `gap`
/// (when >= 0) has no value in slice 3.
WindField batch_test_field(int n, int hours, int gap = -1) {
  WindField f;
  for (int i = 0; i < n; ++i)
    f.nodes.push_back({20000.0 * std::fmod(0.618 * (i + 1), 1.0) - 10000,
                       20000.0 * std::fmod(0.414 * (i + 1), 1.0) - 10000});
  for (int h = 0; h < hours; ++h) {
    WindField::Slice s;
    s.t = kT0 + 3600.0 * h + 1800;
    for (int i = 0; i < n; ++i) {
      const double dir = 0.3 * h + 0.7 * i;
      const bool missing = i == gap && h == 3;
      s.u.push_back(missing ? std::nanf("") : static_cast<float>((2 + 0.1 * i) * std::cos(dir)));
      s.v.push_back(missing ? std::nanf("") : static_cast<float>((2 + 0.1 * i) * std::sin(dir)));
    }
    f.slices.push_back(std::move(s));
  }
  f.finalize();
  return f;
}

/// wind_batch over (x, y, t) equals wind() point by point, to 1e-12 of the field's largest speed.
void expect_batch_equals_wind(const WindField& f, const std::vector<double>& x,
                              const std::vector<double>& y, const std::vector<double>& t) {
  double scale = 0;
  for (const auto& s : f.slices)
    for (std::size_t i = 0; i < s.u.size(); ++i)
      if (std::isfinite(s.u[i])) scale = std::max({scale, std::abs(double(s.u[i])), std::abs(double(s.v[i]))});
  std::vector<double> u(x.size(), -1e300), v(x.size(), -1e300);
  f.wind_batch(x.data(), y.data(), t.data(), x.size(), u.data(), v.data());
  for (std::size_t i = 0; i < x.size(); ++i) {
    double ue, ve;
    f.wind(x[i], y[i], t[i], ue, ve);
    ASSERT_TRUE(std::isfinite(u[i]) && std::isfinite(v[i])) << i;
    EXPECT_NEAR(u[i], ue, 1e-12 * scale) << "point " << i << " at " << x[i] << ", " << y[i] << ", " << t[i] - kT0;
    EXPECT_NEAR(v[i], ve, 1e-12 * scale) << "point " << i;
  }
}

}  // namespace

// Particles in lockstep: blocks of 8 share the slice pair (the vectorised path), with some blocks
// straddling a slice time, before the first and after the last slice, and points on stations.
TEST(WindField, WindBatchEqualsWindInLockstep) {
  for (int n : {2, 5, 20, 33}) {
    const WindField f = batch_test_field(n, 6);
    std::vector<double> x, y, t;
    for (int p = 0; p < 203; ++p) {  // not a multiple of 8: a scalar tail
      x.push_back(-12000 + 117.3 * p);
      y.push_back(9000 - 91.7 * p);
      t.push_back(kT0 + 5000 + 3.0 * p);  // crosses the slice at kT0 + 5400 s
    }
    for (double t0 : {kT0 - 7200.0, kT0 + 1800.0, kT0 + 6 * 3600.0, kT0 + 30000.0}) {
      for (int p = 0; p < 16; ++p) {  // two blocks at or beyond an end of the time span
        x.push_back(500.0 * p - 4000);
        y.push_back(300.0 * p);
        t.push_back(t0 + (t0 < kT0 + 1800.0 ? -10.0 * p : 10.0 * p));
      }
    }
    for (int p = 0; p < 8; ++p) {  // on stations (within 1 µm: the station's own value)
      x.push_back(f.nodes[p % n].x_m + (p % 3) * 1e-7);
      y.push_back(f.nodes[p % n].y_m);
      t.push_back(kT0 + 9000 + p);
    }
    for (int p = 0; p < 8; ++p) {  // exactly on slice times
      x.push_back(1000.0 * p);
      y.push_back(-700.0 * p);
      t.push_back(kT0 + 1800 + 3600.0 * (p % 6));
    }
    expect_batch_equals_wind(f, x, y, t);
  }
}

// The general case: random times (every block mixes slice pairs), a slice with a missing station
// (not the fast path), far and non-finite positions, a single-node field and a gridded one.
TEST(WindField, WindBatchEqualsWindInGeneral) {
  std::vector<double> x, y, t;
  std::uint64_t r = 12345;
  auto next = [&r] {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(r >> 11) * 0x1.0p-53;
  };
  for (int p = 0; p < 160; ++p) {
    x.push_back(-15000 + 30000 * next());
    y.push_back(-15000 + 30000 * next());
    t.push_back(kT0 - 3600 + 8 * 3600 * next());
  }
  for (int p = 0; p < 16; ++p) {  // lockstep blocks around the slice with a missing station
    x.push_back(100.0 * p);
    y.push_back(-50.0 * p);
    t.push_back(kT0 + 3 * 3600 + 1800 + (p < 8 ? -20.0 : 20.0) * p);
  }
  for (double far : {3e7, 1e16}) {  // far away: the scalar path where the float seed would fail
    for (int p = 0; p < 8; ++p) {
      x.push_back(far + p);
      y.push_back(-far);
      t.push_back(kT0 + 2000 + p);
    }
  }
  expect_batch_equals_wind(batch_test_field(20, 6, 7), x, y, t);
  expect_batch_equals_wind(batch_test_field(3, 1), x, y, t);  // a single slice
  expect_batch_equals_wind(WindField::uniform(3, -1, Stability::D), x, y, t);
  std::vector<EpochSeconds> times = {kT0, kT0 + 3600, kT0 + 7200};
  const WindField g = WindField::from_function(
      -20000, 20000, 1000, 1000, 41, 41, times, [](double gx, double gy, EpochSeconds gt, double& u, double& v) {
        u = 1e-4 * gy + 1e-4 * (gt - kT0) / 36;
        v = -1e-4 * gx;
      });
  expect_batch_equals_wind(g, x, y, t);
  // Non-finite positions and times: never NaN, as wind().
  const WindField f = batch_test_field(20, 6);
  std::vector<double> nx(8, 100.0), ny(8, 200.0), nt(8, kT0 + 4000);
  nx[2] = std::nan("");
  ny[5] = std::numeric_limits<double>::infinity();
  nt[7] = std::nan("");
  std::vector<double> u(8), v(8);
  f.wind_batch(nx.data(), ny.data(), nt.data(), 8, u.data(), v.data());
  for (int p = 0; p < 8; ++p) {
    double ue, ve;
    f.wind(nx[p], ny[p], nt[p], ue, ve);
    EXPECT_TRUE(std::isfinite(u[p]) && std::isfinite(v[p])) << p;
    EXPECT_NEAR(u[p], ue, 1e-12 * 5) << p;
    EXPECT_NEAR(v[p], ve, 1e-12 * 5) << p;
  }
}

// Tests for trajectory.hpp: Heun trajectories (reversibility in a rotating flow), stochastic
// particles (Taylor's theory) and backward footprints (upwind, time window, Gaussian plume check).

#include "plumetrace/kernels/trajectory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>

#include "plumetrace/core/error.hpp"

using namespace plumetrace;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kT0 = 1622505600.0;  // 2021-06-01T00:00:00Z
constexpr double kOmega = 1e-4;       // rad/s, solid-body rotation about (0, 0)

/// Solid-body rotation (counter-clockwise) plus an optional uniform, time-varying drift.
WindField rotating_field(double drift_m_s) {
  std::vector<EpochSeconds> times;
  for (int k = 0; k <= 8 * 6; ++k) times.push_back(kT0 + 600.0 * k);  // 8 h of 10-min slices
  return WindField::from_function(
      -40000, 40000, 500, 500, 161, 161, times,
      [drift_m_s](double x, double y, EpochSeconds t, double& u, double& v) {
        u = -kOmega * y + drift_m_s * std::sin(2 * kPi * (t - kT0) / 10800.0);
        v = kOmega * x + 0.5 * drift_m_s * std::cos(2 * kPi * (t - kT0) / 7200.0);
      });
}

}  // namespace

// (a) Pure rotation: the Heun solution stays on the circle and lands where the analytic solution
// does; forward-then-backward returns to the start within 1 % of the path length.
TEST(Trajectory, SolidBodyRotationAccuracy) {
  const WindField f = rotating_field(0.0);
  const double r = 10000, duration = 6 * 3600.0;
  const auto fw = trajectory(f, r, 0, kT0, duration, 60);
  ASSERT_EQ(fw.size(), 361u);
  const double path = fw.back().path_m;
  EXPECT_NEAR(path, kOmega * r * duration, 0.001 * kOmega * r * duration);
  const double ang = kOmega * duration;
  EXPECT_LT(std::hypot(fw.back().x_m - r * std::cos(ang), fw.back().y_m - r * std::sin(ang)), 0.002 * path);
  for (const auto& p : fw) EXPECT_NEAR(std::hypot(p.x_m, p.y_m), r, 0.002 * r);
  EXPECT_DOUBLE_EQ(fw.back().t, kT0 + duration);
}

TEST(Trajectory, ForwardThenBackwardReturnsToStart) {
  const WindField f = rotating_field(1.5);
  const double duration = 6 * 3600.0;
  const auto fw = trajectory(f, 12000, -3000, kT0 + 300, duration, 60);
  const auto bw = trajectory(f, fw.back().x_m, fw.back().y_m, fw.back().t, -duration, 60);
  const double path = fw.back().path_m;
  ASSERT_GT(path, 10000);
  EXPECT_DOUBLE_EQ(bw.back().t, kT0 + 300);
  const double err = std::hypot(bw.back().x_m - 12000, bw.back().y_m + 3000);
  EXPECT_LT(err, 0.01 * path) << "error " << err << " m over " << path << " m";
  // With a 60 s step the error is in fact far smaller (second-order scheme).
  EXPECT_LT(err, 1e-3 * path);
  std::cout << "Reversibility: returned within " << err << " m after " << path << " m\n";
}

TEST(Trajectory, BackwardGoesUpwindAndStepLimit) {
  const WindField f = WindField::uniform(5, 0, Stability::D);
  const auto bw = trajectory(f, 0, 0, kT0, -3600, 60);
  EXPECT_NEAR(bw.back().x_m, -18000, 1e-6);
  EXPECT_NEAR(bw.back().y_m, 0, 1e-9);
  EXPECT_NEAR(bw.back().t, kT0 - 3600, 1e-9);
  const auto lim = trajectory(f, 0, 0, kT0, 600, 60, 100);
  ASSERT_EQ(lim.size(), 31u);  // 20 s steps of 100 m
  for (std::size_t i = 1; i < lim.size(); ++i)
    EXPECT_LE(std::hypot(lim[i].x_m - lim[i - 1].x_m, lim[i].y_m - lim[i - 1].y_m), 100 + 1e-9);
  EXPECT_THROW(trajectory(f, 0, 0, kT0, 600, 0), InvalidInput);
}

TEST(Trajectory, OnGridStopsAtTheFirstPointOutside) {
  const WindField f = WindField::uniform(5, 0, Stability::D);
  const Grid grid{"EPSG:32650", -5000.0, 1000.0, 100.0, 100, 20};  // x -5000..5000, y -1000..1000
  // backward from x = 0 at 5 m/s: x falls by 300 m per 60 s step, outside after 17 steps (-5100 m)
  const auto on = trajectory_on_grid(f, grid, 0, 0, kT0, -3600, 60);
  ASSERT_EQ(on.size(), 18U);
  EXPECT_NEAR(on.back().x_m, -5100, 1e-6);
  EXPECT_FALSE(grid.contains(on.back().x_m, on.back().y_m));
  for (std::size_t i = 0; i + 1 < on.size(); ++i) EXPECT_TRUE(grid.contains(on[i].x_m, on[i].y_m));
  // the same steps as the unbounded trajectory up to there
  const auto all = trajectory(f, 0, 0, kT0, -3600, 60);
  for (std::size_t i = 0; i < on.size(); ++i) EXPECT_EQ(on[i].x_m, all[i].x_m);
}

// (b) Homogeneous turbulence: lateral variance follows Taylor (1921),
// σy²(t) = 2 σv² T_L² (t/T_L - 1 + exp(-t/T_L)), within 10 %.
TEST(Particles, TaylorLateralSpread) {
  const WindField f = WindField::uniform(5, 0, Stability::D, 1000);
  FootprintOptions o;
  o.particles = 10000;
  o.dt_s = 10;
  o.fixed_sigma_uv_m_s = 1.0;
  o.fixed_sigma_w_m_s = 0.3;
  o.fixed_lagrangian_time_s = 100;
  o.seed = 42;
  const std::vector<double> ages = {50, 200, 1000, 3000};
  const auto pos = particle_positions(f, 0, 0, kT0, 0, ages, o);
  ASSERT_EQ(pos.size(), ages.size());
  for (std::size_t i = 0; i < ages.size(); ++i) {
    ASSERT_EQ(pos[i].size(), 10000u);
    double my = 0, mx = 0;
    for (const auto& p : pos[i]) {
      my += p.y_m;
      mx += p.x_m;
    }
    my /= pos[i].size();
    mx /= pos[i].size();
    double vy = 0;
    for (const auto& p : pos[i]) vy += (p.y_m - my) * (p.y_m - my);
    vy /= pos[i].size() - 1;
    const double t = ages[i], tl = 100;
    const double theory = 2 * 1.0 * tl * tl * (t / tl - 1 + std::exp(-t / tl));
    EXPECT_NEAR(vy / theory, 1.0, 0.10) << "age " << t << ": " << vy << " vs " << theory;
    std::cout << "Taylor: age " << t << " s, lateral variance / theory = " << vy / theory << "\n";
    EXPECT_NEAR(mx, -5 * t, 0.02 * 5 * t + 5);  // mean moves upwind
    EXPECT_NEAR(pos[i].front().t, kT0 - t, 1e-6);
  }
}

TEST(Particles, DeterministicGivenSeed) {
  const WindField f = WindField::uniform(3, 1, Stability::C);
  FootprintOptions o;
  o.particles = 50;
  o.seed = 7;
  const auto a = particle_positions(f, 0, 0, kT0, 600, {900}, o);
  const auto b = particle_positions(f, 0, 0, kT0, 600, {900}, o);
  o.seed = 8;
  const auto c = particle_positions(f, 0, 0, kT0, 600, {900}, o);
  ASSERT_EQ(a[0].size(), 50u);
  for (std::size_t i = 0; i < a[0].size(); ++i) {
    EXPECT_EQ(a[0][i].x_m, b[0][i].x_m);
    EXPECT_EQ(a[0][i].z_m, b[0][i].z_m);
  }
  EXPECT_NE(a[0][0].x_m, c[0][0].x_m);
  // Released uniformly over [t0, t0 + 600]: particle times spread over that interval minus 900 s.
  for (const auto& p : a[0]) {
    EXPECT_GE(p.t, kT0 - 900 - 1e-6);
    EXPECT_LE(p.t, kT0 + 600 - 900 + 1e-6);
    EXPECT_GE(p.z_m, 0.0);
    EXPECT_LE(p.z_m, 800.0);
  }
}

TEST(Particles, WellMixedInTheBoundaryLayer) {
  // After many Lagrangian time scales the particles fill [0, zi] uniformly (no accumulation at
  // the ground despite the strong σw gradient there): the mean height is zi/2 within 10 %.
  const WindField f = WindField::uniform(4, 0, Stability::B, 1000);
  FootprintOptions o;
  o.particles = 2000;
  o.dt_s = 30;
  const auto pos = particle_positions(f, 0, 0, kT0, 0, {6 * 3600.0}, o);
  double mz = 0;
  int low = 0;
  for (const auto& p : pos[0]) {
    mz += p.z_m;
    if (p.z_m < 100) ++low;
  }
  mz /= pos[0].size();
  EXPECT_NEAR(mz, 500, 50);
  EXPECT_NEAR(low / double(pos[0].size()), 0.1, 0.04);
}

namespace {

/// Briggs (1973) open-country σy, σz for class D (m).
void briggs_rural_d(double x, double& sy, double& sz) {
  sy = 0.08 * x / std::sqrt(1 + 0.0001 * x);
  sz = 0.06 * x / std::sqrt(1 + 0.0015 * x);
}

Grid test_grid() {
  Grid g;
  g.crs = "EPSG:32651";
  g.x0_m = -6000;
  g.y1_m = 2000;
  g.cell_m = 100;
  g.cols = 80;  // x in [-6000, 2000]
  g.rows = 40;  // y in [-2000, 2000]
  return g;
}

double cell_value(const Grid& g, const std::vector<float>& f, double x, double y) {
  const int c = static_cast<int>(std::floor((x - g.x0_m) / g.cell_m));
  const int r = static_cast<int>(std::floor((g.y1_m - y) / g.cell_m));
  return f[static_cast<std::size_t>(r) * g.cols + c];
}

}  // namespace

// (c) Footprint in a uniform westerly: upwind only; a unit-rate ground source in the cell 2 km
// upwind gives, through the footprint, a concentration within a factor of 2 of the Gaussian
// plume (Briggs rural D sigmas, ground source and receptor, Q / (π σy σz U)). The crosswind
// integral agrees with the crosswind-integrated plume sqrt(2/π) q / (σz U) within a factor of 2.5
// (Hanna's neutral turbulence grows σz faster than Briggs' class-D curve).
TEST(Footprint, UpwindAndGaussianPlumeCheck) {
  const WindField f = WindField::uniform(5, 0, Stability::D, 800);
  const Grid g = test_grid();
  FootprintOptions o;
  o.particles = 3000;
  o.dt_s = 10;
  o.duration_s = 1800;
  o.receptor_height_m = 2;
  const auto fp = particle_footprint(f, g, 50, 50, kT0, 0, o);  // receptor at a cell centre
  ASSERT_EQ(fp.size(), g.size());
  for (std::size_t i = 0; i < fp.size(); ++i) EXPECT_TRUE(std::isfinite(fp[i]) && fp[i] >= 0);
  // Nothing downwind (x > 300 m).
  for (int r = 0; r < g.rows; ++r)
    for (int c = 0; c < g.cols; ++c)
      if (g.x_center(c) > 300) {
        EXPECT_EQ(fp[static_cast<std::size_t>(r) * g.cols + c], 0.0f);
      }
  // Centre cell 2 km upwind vs the Gaussian plume.
  double sy, sz;
  briggs_rural_d(2000, sy, sz);
  const double gauss = 1.0 / (kPi * sy * sz * 5.0);
  const double c_fp = cell_value(g, fp, -1950, 50);
  EXPECT_GT(c_fp, 0.5 * gauss) << c_fp << " vs " << gauss;
  EXPECT_LT(c_fp, 2.0 * gauss) << c_fp << " vs " << gauss;
  // Crosswind integral over the column at 2 km: a line of 1 g/s per 100 m cell.
  double col = 0;
  for (int r = 0; r < g.rows; ++r) col += cell_value(g, fp, -1950, g.y_center(r));
  const double line = std::sqrt(2 / kPi) * (1.0 / 100.0) / (sz * 5.0);
  EXPECT_GT(col, line / 2.5) << col << " vs " << line;
  EXPECT_LT(col, line * 2.5) << col << " vs " << line;
  // Farther upwind the sensitivity falls.
  EXPECT_LT(cell_value(g, fp, -4950, 50), c_fp);
}

TEST(Footprint, ZeroOutsideEmissionWindow) {
  const WindField f = WindField::uniform(5, 0, Stability::D, 800);
  const Grid g = test_grid();
  FootprintOptions o;
  o.particles = 300;
  o.dt_s = 10;
  o.duration_s = 1800;
  // Emissions only after the sample: nothing.
  o.emit_start = kT0 + 700;
  o.emit_end = kT0 + 3000;
  auto fp = particle_footprint(f, g, 50, 50, kT0, 600, o);
  EXPECT_EQ(std::accumulate(fp.begin(), fp.end(), 0.0), 0.0);
  // Emissions only between 600 and 300 s before the sample: only 1.5..3 km upwind (±turbulence).
  o.emit_start = kT0 - 600;
  o.emit_end = kT0 - 300;
  fp = particle_footprint(f, g, 50, 50, kT0, 0, o);
  double total = 0;
  for (int r = 0; r < g.rows; ++r)
    for (int c = 0; c < g.cols; ++c) {
      const double v = fp[static_cast<std::size_t>(r) * g.cols + c];
      total += v;
      if (g.x_center(c) > -1000 || g.x_center(c) < -4000) {
        EXPECT_EQ(v, 0.0) << g.x_center(c);
      }
    }
  EXPECT_GT(total, 0.0);
}

TEST(Footprint, RejectsBadOptions) {
  const WindField f = WindField::uniform(5, 0, Stability::D);
  const Grid g = test_grid();
  FootprintOptions o;
  o.particles = 0;
  EXPECT_THROW(particle_footprint(f, g, 0, 0, kT0, 0, o), InvalidInput);
  o.particles = 10;
  o.dt_s = -1;
  EXPECT_THROW(particle_footprint(f, g, 0, 0, kT0, 0, o), InvalidInput);
  o.dt_s = 30;
  EXPECT_THROW(particle_footprint(WindField{}, g, 0, 0, kT0, 0, o), InvalidInput);
  Grid empty = g;
  empty.cols = 0;
  EXPECT_THROW(particle_footprint(f, empty, 0, 0, kT0, 0, o), InvalidInput);
}

TEST(Particles, FollowTimeVaryingWindAndMixingHeight) {
  // Two hourly slices: at kT0 - 3600 wind towards the north (v = 5) under a 300 m lid; at kT0
  // towards the east (u = 5) under 1200 m. Backward particles from kT0 first go west, then south,
  // and after the switch of the nearest slice they stay under the 300 m lid.
  WindField f;
  f.nodes = {{0, 0}};
  WindField::Slice early, late;
  early.t = kT0 - 3600;
  early.u = {0};
  early.v = {5};
  early.mixing_height_m = 300;
  early.stability = Stability::E;
  late.t = kT0;
  late.u = {5};
  late.v = {0};
  late.mixing_height_m = 1200;
  late.stability = Stability::C;
  for (auto* s : {&early, &late}) {
    s->obukhov_length_m = std::nan("");
    s->friction_velocity_m_s = std::nan("");
  }
  f.slices = {late, early};  // finalize() sorts by time
  f.finalize();
  EXPECT_EQ(f.slices.front().t, kT0 - 3600);
  FootprintOptions o;
  o.particles = 500;
  o.dt_s = 30;
  const auto pos = particle_positions(f, 0, 0, kT0, 0, {7200}, o);
  double mx = 0, my = 0, zmax = 0;
  for (const auto& p : pos[0]) {
    mx += p.x_m / pos[0].size();
    my += p.y_m / pos[0].size();
    zmax = std::max(zmax, p.z_m);
    EXPECT_TRUE(std::isfinite(p.x_m) && std::isfinite(p.y_m));
  }
  // Mean path: 1 h of linearly turning wind (-9 km, -9 km), then 1 h from the south (-18 km in y).
  EXPECT_LT(mx, -7000);
  EXPECT_LT(my, -20000);
  EXPECT_LE(zmax, 300.0);
}

TEST(Footprint, EveryStabilityClassAndSigmaThetaFiniteAndUpwind) {
  const Grid g = test_grid();
  FootprintOptions o;
  o.particles = 200;
  o.dt_s = 30;
  o.duration_s = 1800;
  for (int cls = 0; cls < 6; ++cls) {
    for (double sigma_theta : {-1.0, 20.0}) {
      const auto s = static_cast<Stability>(cls);
      const WindField f = WindField::uniform(3, 0, s, default_mixing_height_m(s), sigma_theta);
      const auto fp = particle_footprint(f, g, 50, 50, kT0, 600, o);
      double total = 0, downwind = 0;
      for (int r = 0; r < g.rows; ++r)
        for (int c = 0; c < g.cols; ++c) {
          const double v = fp[static_cast<std::size_t>(r) * g.cols + c];
          ASSERT_TRUE(std::isfinite(v) && v >= 0) << cls;
          total += v;
          if (g.x_center(c) > 300) downwind += v;
        }
      EXPECT_GT(total, 0.0) << cls;
      EXPECT_LT(downwind, 0.01 * total) << cls;  // 300 m+ downwind of the receptor
    }
  }
}

// Batched station winds inside the particle run: a 20-station field whose stations all report the
// same wind (two hourly slices, so blocks of particles straddle a slice time) moves the particles
// as the uniform field does, to rounding (IDW of equal values is that value).
TEST(Particles, StationFieldWithEqualWindsMatchesUniform) {
  const WindField uni = WindField::uniform(3, -1.5, Stability::C, 900);
  WindField st;
  for (int i = 0; i < 20; ++i)
    st.nodes.push_back({20000.0 * std::fmod(0.618 * (i + 1), 1.0) - 10000,
                        20000.0 * std::fmod(0.414 * (i + 1), 1.0) - 10000});
  for (double t : {kT0 - 1800.0, kT0 + 1800.0}) {
    WindField::Slice s = uni.slices[0];
    s.t = t;
    s.u.assign(20, uni.slices[0].u[0]);
    s.v.assign(20, uni.slices[0].v[0]);
    s.speed.assign(20, uni.slices[0].speed[0]);
    st.slices.push_back(s);
  }
  st.finalize();
  FootprintOptions o;
  o.particles = 203;  // not a multiple of the 8-particle blocks
  o.dt_s = 30;
  o.seed = 3;
  const auto a = particle_positions(uni, 0, 0, kT0 + 600, 1200, {1800}, o);
  const auto b = particle_positions(st, 0, 0, kT0 + 600, 1200, {1800}, o);
  ASSERT_EQ(a[0].size(), 203u);
  ASSERT_EQ(b[0].size(), 203u);
  double spread = 0;
  for (std::size_t i = 0; i < a[0].size(); ++i) {
    EXPECT_NEAR(a[0][i].x_m, b[0][i].x_m, 1e-6) << i;
    EXPECT_NEAR(a[0][i].y_m, b[0][i].y_m, 1e-6) << i;
    EXPECT_EQ(a[0][i].z_m, b[0][i].z_m) << i;
    spread += std::abs(a[0][i].y_m - a[0][0].y_m);
  }
  EXPECT_GT(spread, 203 * 10.0);  // the particles did spread (not a trivial comparison)
}

// The batched normal deviates: with T_L << dt each step's cross-wind velocity is a fresh σv ξ
// (Ornstein–Uhlenbeck with a = exp(-dt/T_L) ~ 0), so after k steps of 1 s the lateral
// displacement is a sum of k independent N(0, σv²) deviates: variance k σv², kurtosis 3.
TEST(Particles, BatchNormalsGiveGaussianSteps) {
  const WindField f = WindField::uniform(4, 0, Stability::D, 1000);
  FootprintOptions o;
  o.particles = 100000;
  o.dt_s = 1;
  o.fixed_sigma_uv_m_s = 2.0;
  o.fixed_lagrangian_time_s = 0.01;
  o.seed = 11;
  const auto pos = particle_positions(f, 0, 0, kT0, 0, {1, 3}, o);
  for (int i = 0; i < 2; ++i) {
    const double k = i == 0 ? 1 : 3;
    double m = 0, m2 = 0, m4 = 0;
    for (const auto& p : pos[i]) m += p.y_m;
    m /= pos[i].size();
    for (const auto& p : pos[i]) {
      const double d = p.y_m - m;
      m2 += d * d;
      m4 += d * d * d * d;
    }
    m2 /= pos[i].size();
    m4 /= pos[i].size();
    EXPECT_NEAR(m2 / (4.0 * k), 1.0, 0.02) << k;       // 100 000 samples: 0.45 % s.e.
    EXPECT_NEAR(m4 / (m2 * m2), 3.0, 0.1) << k;        // Gaussian kurtosis; s.e. ~0.015
    EXPECT_NEAR(m, 0.0, 0.03 * std::sqrt(k)) << k;     // s.e. 0.0063 sqrt(k)
  }
}

// Tests for sigmas.hpp: ISC3 rural Pasquill–Gifford (EPA-454/B-95-003b Vol. II, Tables 1-1/1-2)
// and Briggs (1973) rural/urban dispersion coefficients.

#include "plumetrace/kernels/sigmas.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace plumetrace {
namespace {

constexpr Stability kAll[] = {Stability::A, Stability::B, Stability::C,
                              Stability::D, Stability::E, Stability::F};
constexpr SigmaScheme kSchemes[] = {SigmaScheme::Isc3Rural, SigmaScheme::BriggsRural,
                                    SigmaScheme::BriggsUrban};

double rel(double a, double b) { return std::abs(a - b) / std::abs(b); }
char cls_char(Stability s) { return static_cast<char>('A' + static_cast<int>(s)); }

TEST(Isc3Sigmas, HandComputedAt100m) {
  // σy = 465.11628 x tan(0.017453293 (c - d ln x)), σz = a x^b, x = 0.1 km (hand-computed).
  const Sigmas d = dispersion_sigmas(SigmaScheme::Isc3Rural, Stability::D, 100.0);
  EXPECT_LT(rel(d.y_m, 8.200968184497388), 1e-12);
  EXPECT_LT(rel(d.z_m, 4.651174892531855), 1e-12);
  const Sigmas f = dispersion_sigmas(SigmaScheme::Isc3Rural, Stability::F, 100.0);
  EXPECT_LT(rel(f.y_m, 4.069263655561505), 1e-12);
  EXPECT_LT(rel(f.z_m, 2.3255231110829815), 1e-12);
}

TEST(Isc3Sigmas, MatchesPublishedSegmentValues) {
  // σz at segment ends as printed next to Table 1-2 (e.g. de Nevers / Wark & Warner reprints):
  // (printed to 0.1 m; the A 0.1 km entry, 14.0, is the value of the next segment at the join)
  // A 0.5 km 104.7, A 0.1 km 14.0, B 0.4 km 40.0, D 1 km 32.1, D 10 km 134.9, E 20 km 109.3.
  struct Case { Stability s; double x_m; double sz; };
  const Case cases[] = {{Stability::A, 500, 104.7}, {Stability::A, 100, 14.0},
                        {Stability::B, 400, 40.0},  {Stability::D, 1000, 32.1},
                        {Stability::D, 10000, 134.9}, {Stability::E, 20000, 109.3}};
  for (const Case& c : cases) {
    const double sz = dispersion_sigmas(SigmaScheme::Isc3Rural, c.s, c.x_m).z_m;
    EXPECT_NEAR(sz, c.sz, 0.06) << cls_char(c.s) << " " << c.x_m;
  }
}

TEST(Isc3Sigmas, SigmaZContinuousAtEverySegmentJoin) {
  // Acceptance: the relative jump of σz at every Table 1-2 segment boundary is < 0.05 %.
  // (With the published 5-significant-figure coefficients the worst join is A at 0.10 km: 0.041 %.)
  const std::vector<std::vector<double>> joins_km = {
      {0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 3.107},  // A; 3.107 km: where 453.85 x^2.1166 hits 5000
      {0.20, 0.40, 34.9},                                   // B; cap reached near 35 km
      {1.0, 10.0, 50.0},                                    // C: single segment (checks the cap logic)
      {0.30, 1.00, 3.00, 10.00, 30.00},                     // D
      {0.10, 0.30, 1.00, 2.00, 4.00, 10.00, 20.00, 40.00},  // E
      {0.20, 0.70, 1.00, 2.00, 3.00, 7.00, 15.00, 30.00, 60.00}};  // F
  double worst = 0.0;
  for (int c = 0; c < 6; ++c) {
    for (double xb_km : joins_km[c]) {
      const double xb = xb_km * 1000.0;
      const double left = dispersion_sigmas(SigmaScheme::Isc3Rural, kAll[c], xb * (1 - 1e-12)).z_m;
      const double right = dispersion_sigmas(SigmaScheme::Isc3Rural, kAll[c], xb * (1 + 1e-12)).z_m;
      const double jump = std::abs(right - left) / left;
      worst = std::max(worst, jump);
      EXPECT_LT(jump, 5e-4) << "class " << cls_char(kAll[c]) << " join " << xb_km << " km";
    }
  }
  EXPECT_GT(worst, 3e-4);  // the A 0.10 km join really is exercised (0.041 %)
  EXPECT_LT(worst, 4.2e-4);
}

TEST(Isc3Sigmas, SigmaZCappedAt5000m) {
  EXPECT_DOUBLE_EQ(dispersion_sigmas(SigmaScheme::Isc3Rural, Stability::A, 3200.0).z_m, 5000.0);
  EXPECT_DOUBLE_EQ(dispersion_sigmas(SigmaScheme::Isc3Rural, Stability::A, 50000.0).z_m, 5000.0);
  EXPECT_DOUBLE_EQ(dispersion_sigmas(SigmaScheme::Isc3Rural, Stability::B, 40000.0).z_m, 5000.0);
  EXPECT_LT(dispersion_sigmas(SigmaScheme::Isc3Rural, Stability::A, 3000.0).z_m, 5000.0);
}

TEST(BriggsSigmas, FormulasAt1km) {
  const double x = 1000.0;
  const Sigmas rd = dispersion_sigmas(SigmaScheme::BriggsRural, Stability::D, x);
  EXPECT_LT(rel(rd.y_m, 0.08 * x / std::sqrt(1.1)), 1e-14);
  EXPECT_LT(rel(rd.z_m, 0.06 * x / std::sqrt(2.5)), 1e-14);
  const Sigmas rf = dispersion_sigmas(SigmaScheme::BriggsRural, Stability::F, x);
  EXPECT_LT(rel(rf.y_m, 0.04 * x / std::sqrt(1.1)), 1e-14);
  EXPECT_LT(rel(rf.z_m, 16.0 / 1.3), 1e-14);
  const Sigmas ra = dispersion_sigmas(SigmaScheme::BriggsRural, Stability::A, x);
  EXPECT_LT(rel(ra.z_m, 200.0), 1e-14);
  const Sigmas ub = dispersion_sigmas(SigmaScheme::BriggsUrban, Stability::B, x);
  EXPECT_LT(rel(ub.y_m, 320.0 / std::sqrt(1.4)), 1e-14);
  EXPECT_LT(rel(ub.z_m, 240.0 * std::sqrt(2.0)), 1e-14);
  const Sigmas ud = dispersion_sigmas(SigmaScheme::BriggsUrban, Stability::D, x);
  EXPECT_LT(rel(ud.z_m, 140.0 / std::sqrt(1.3)), 1e-14);
  const Sigmas ue = dispersion_sigmas(SigmaScheme::BriggsUrban, Stability::E, x);
  EXPECT_LT(rel(ue.y_m, 110.0 / std::sqrt(1.4)), 1e-14);
  EXPECT_LT(rel(ue.z_m, 80.0 / std::sqrt(2.5)), 1e-14);
}

TEST(Sigmas, IncreaseWithDistanceAndStabilityOrdering) {
  for (SigmaScheme sch : kSchemes) {
    for (Stability s : kAll) {
      Sigmas prev = dispersion_sigmas(sch, s, 1.0);
      for (double x = 1.5; x <= 1e5; x *= 1.5) {
        const Sigmas cur = dispersion_sigmas(sch, s, x);
        EXPECT_GT(cur.y_m, prev.y_m) << static_cast<int>(sch) << cls_char(s) << " x=" << x;
        EXPECT_GE(cur.z_m, prev.z_m) << static_cast<int>(sch) << cls_char(s) << " x=" << x;
        prev = cur;
      }
    }
    // More stable -> narrower at 1 km.
    for (int c = 1; c < 6; ++c) {
      EXPECT_LE(dispersion_sigmas(sch, kAll[c], 1000.0).y_m,
                dispersion_sigmas(sch, kAll[c - 1], 1000.0).y_m);
    }
  }
}

TEST(Sigmas, ClampBelowOneMetreNeverZeroOrNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (SigmaScheme sch : kSchemes) {
    for (Stability s : kAll) {
      const Sigmas one = dispersion_sigmas(sch, s, 1.0);
      for (double x : {0.0, -5.0, 0.3, nan}) {
        const Sigmas v = dispersion_sigmas(sch, s, x);
        EXPECT_EQ(v.y_m, one.y_m);
        EXPECT_EQ(v.z_m, one.z_m);
        EXPECT_GT(v.y_m, 0.0);
        EXPECT_GT(v.z_m, 0.0);
      }
    }
  }
}

TEST(SigmaTheta, DraxlerLateralSpread) {
  // σθ = 10°, x = 1 km, u = 5 m/s: t = 200 s, f = 1/(1 + 0.9 sqrt(0.2)).
  const double expect = 10.0 * M_PI / 180.0 * 1000.0 / (1.0 + 0.9 * std::sqrt(0.2));
  EXPECT_LT(rel(sigma_y_from_sigma_theta(10.0, 1000.0, 5.0), expect), 1e-14);
  EXPECT_NEAR(expect, 124.44, 0.01);
  // Calm: u clamped to 0.5 m/s, finite.
  const double calm = sigma_y_from_sigma_theta(10.0, 1000.0, 0.0);
  EXPECT_TRUE(std::isfinite(calm));
  EXPECT_DOUBLE_EQ(calm, sigma_y_from_sigma_theta(10.0, 1000.0, 0.5));
  EXPECT_GT(sigma_y_from_sigma_theta(0.0, 1000.0, 3.0), 0.0);
}

}  // namespace
}  // namespace plumetrace

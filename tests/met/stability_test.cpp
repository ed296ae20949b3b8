// Tests for stability.hpp: parsing, NOAA solar position, Turner, Golder, EPA σA.

#include "plumetrace/met/stability.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace plumetrace;

TEST(Stability, ParseAndPrint) {
  EXPECT_EQ(parse_stability("A"), Stability::A);
  EXPECT_EQ(parse_stability("f"), Stability::F);
  EXPECT_EQ(parse_stability(" d "), Stability::D);
  EXPECT_EQ(parse_stability("3"), Stability::C);
  EXPECT_EQ(parse_stability("6"), Stability::F);
  EXPECT_FALSE(parse_stability("G").has_value());
  EXPECT_FALSE(parse_stability("7").has_value());
  EXPECT_FALSE(parse_stability("").has_value());
  EXPECT_FALSE(parse_stability("AB").has_value());
  EXPECT_EQ(to_char(Stability::A), 'A');
  EXPECT_EQ(to_char(Stability::E), 'E');
}

// Reda & Andreas (2004), NREL SPA report, worked example: 2003-10-17 12:30:30 MST (-7 h),
// lat 39.742476, lon -105.1786: topocentric zenith 50.11162 deg (elevation 39.88838, with
// refraction at 820 mbar). NOAA's algorithm with standard-atmosphere refraction agrees to ~0.01 deg.
TEST(Stability, SolarElevationSpaExample) {
  const double t = 1066419030.0;  // 2003-10-17T19:30:30Z
  EXPECT_NEAR(solar_elevation_deg(-105.1786, 39.742476, t), 90.0 - 50.11162, 0.05);
}

// At the June solstice the noon elevation is 90 - lat + 23.44 (declination 23.44 deg, 2021-06-21).
TEST(Stability, SolarElevationSolsticeNoon) {
  const double day = 1624233600.0;  // 2021-06-21T00:00:00Z
  double best = -90;
  for (int minute = 11 * 60; minute < 13 * 60; ++minute)
    best = std::max(best, solar_elevation_deg(0.0, 40.0, day + minute * 60.0));
  EXPECT_NEAR(best, 90.0 - 40.0 + 23.44, 0.1);
  // Midnight at the same place: the sun is below the horizon by 90 - 40 - 23.44 = 26.56 deg.
  EXPECT_NEAR(solar_elevation_deg(0.0, 40.0, day), -(90.0 - 40.0 - 23.44), 0.2);
}

// Turner's key (EPA-454/R-99-005 Table 6-4) cells.
TEST(Stability, TurnerTableCells) {
  EXPECT_EQ(turner_stability(65, 0, 1.0), Stability::A);   // NRI 4, 0.8-1.8 m/s -> 1
  EXPECT_EQ(turner_stability(65, 0, 5.0), Stability::C);   // NRI 4, 4.9-5.4 -> 3
  EXPECT_EQ(turner_stability(65, 0, 6.5), Stability::C);   // NRI 4, >= 6 -> 3
  EXPECT_EQ(turner_stability(40, 2, 2.5), Stability::B);   // NRI 3, 1.9-2.8 -> 2
  EXPECT_EQ(turner_stability(40, 2, 6.5), Stability::D);   // NRI 3, >= 6 -> 4
  EXPECT_EQ(turner_stability(20, 0, 3.5), Stability::C);   // NRI 2, 3.4-3.8 -> 3
  EXPECT_EQ(turner_stability(10, 0, 0.5), Stability::C);   // NRI 1, 0-0.7 -> 3
  EXPECT_EQ(turner_stability(10, 0, 6.5), Stability::D);   // NRI 1 -> 4
  EXPECT_EQ(turner_stability(-10, 2, 1.0), Stability::F);  // NRI -2 -> 7 (G) -> F
  EXPECT_EQ(turner_stability(-10, 2, 3.0), Stability::F);  // NRI -2, 2.9-3.3 -> 6
  EXPECT_EQ(turner_stability(-10, 2, 4.0), Stability::E);  // NRI -2, 3.9-4.8 -> 5
  EXPECT_EQ(turner_stability(-10, 6, 2.0), Stability::E);  // NRI -1, 1.9-2.8 -> 5
  EXPECT_EQ(turner_stability(-10, 6, 3.6), Stability::D);  // NRI -1, 3.4-3.8 -> 4
  EXPECT_EQ(turner_stability(-10, 2, 6.5), Stability::D);  // NRI -2, >= 6 -> 4
}

TEST(Stability, TurnerCloudAdjustments) {
  EXPECT_EQ(turner_stability(65, 8, 1.0), Stability::D);   // overcast -> NRI 0 -> 4
  EXPECT_EQ(turner_stability(-20, 8, 1.0), Stability::D);  // overcast at night too
  EXPECT_EQ(turner_stability(65, 6, 1.0), Stability::B);   // >4 okta: ICN 4 -> 3 -> class 2
  EXPECT_EQ(turner_stability(10, 6, 1.0), Stability::C);   // ICN 1 stays 1 (not below 1)
  EXPECT_EQ(turner_stability(65, 4, 1.0), Stability::A);   // 4 okta does not reduce
  EXPECT_EQ(turner_stability(-10, 3, 2.0), Stability::F);  // <= 3 okta night -> -2 -> 6
  EXPECT_EQ(turner_stability(-10, 4, 2.0), Stability::E);  // >= 4 okta night -> -1 -> 5
  // Unknown cloud is treated as 4 okta.
  EXPECT_EQ(turner_stability(-10, std::nan(""), 2.0), Stability::E);
  EXPECT_EQ(turner_stability(65, std::nan(""), 1.0), Stability::A);
}

// Golder (1972) with z0 = 0.1 m: class centres 1/L = -0.125, -0.066, -0.020, 0, 0.022, 0.071.
TEST(Stability, GolderClasses) {
  EXPECT_EQ(golder_stability(-5, 0.1), Stability::A);
  EXPECT_EQ(golder_stability(-12, 0.1), Stability::B);
  EXPECT_EQ(golder_stability(-20, 0.1), Stability::B);
  EXPECT_EQ(golder_stability(-50, 0.1), Stability::C);
  EXPECT_EQ(golder_stability(-1000, 0.1), Stability::D);
  EXPECT_EQ(golder_stability(1000, 0.1), Stability::D);
  EXPECT_EQ(golder_stability(50, 0.1), Stability::E);
  EXPECT_EQ(golder_stability(10, 0.1), Stability::F);
  EXPECT_EQ(golder_stability(0, 0.1), Stability::D);
  EXPECT_EQ(golder_stability(std::nan(""), 0.1), Stability::D);
  // Rougher surface: the same L = -50 m is closer to neutral (C/D boundary moves to -0.0095 + ...).
  EXPECT_EQ(golder_stability(-30, 1.0), Stability::B);  // z0 = 1: centres B -0.037, C -0.002
  EXPECT_NEAR(golder_inverse_obukhov(Stability::A, 0.1), -0.125, 1e-12);
  EXPECT_EQ(golder_inverse_obukhov(Stability::D, 0.1), 0.0);
}

TEST(Stability, DefaultMixingHeights) {
  EXPECT_EQ(default_mixing_height_m(Stability::A), 1600);
  EXPECT_EQ(default_mixing_height_m(Stability::D), 800);
  EXPECT_EQ(default_mixing_height_m(Stability::F), 200);
}

// EPA σA method with wind-speed adjustments.
TEST(Stability, SigmaTheta) {
  EXPECT_EQ(stability_from_sigma_theta(25, 2, true), Stability::A);
  EXPECT_EQ(stability_from_sigma_theta(25, 3.5, true), Stability::B);
  EXPECT_EQ(stability_from_sigma_theta(25, 5, true), Stability::C);
  EXPECT_EQ(stability_from_sigma_theta(25, 7, true), Stability::D);
  EXPECT_EQ(stability_from_sigma_theta(20, 2, true), Stability::B);
  EXPECT_EQ(stability_from_sigma_theta(15, 2, true), Stability::C);
  EXPECT_EQ(stability_from_sigma_theta(10, 2, true), Stability::D);
  EXPECT_EQ(stability_from_sigma_theta(5, 2, true), Stability::D);
  EXPECT_EQ(stability_from_sigma_theta(25, 2, false), Stability::F);
  EXPECT_EQ(stability_from_sigma_theta(25, 3, false), Stability::E);
  EXPECT_EQ(stability_from_sigma_theta(25, 4, false), Stability::D);
  EXPECT_EQ(stability_from_sigma_theta(15, 2, false), Stability::E);
  EXPECT_EQ(stability_from_sigma_theta(15, 3, false), Stability::D);
  EXPECT_EQ(stability_from_sigma_theta(5, 1, false), Stability::E);
  EXPECT_EQ(stability_from_sigma_theta(2, 1, false), Stability::F);
}

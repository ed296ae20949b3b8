/// @file stability.cpp
/// Pasquill–Gifford stability: Turner (1964), Golder (1972), EPA σA method, NOAA solar position.

#include "plumetrace/met/stability.hpp"

#include <algorithm>
#include <cmath>

namespace plumetrace {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;

/// Golder (1972) fitted lines 1/L = a + b log10(z0) for the centre of each class (1/m), as
/// tabulated in Seinfeld & Pandis (Atmospheric Chemistry and Physics, Table "Golder").
constexpr double kGolderA[6] = {-0.096, -0.037, -0.002, 0.0, 0.004, 0.035};
constexpr double kGolderB[6] = {0.029, 0.029, 0.018, 0.0, -0.018, -0.036};

}  // namespace

std::optional<Stability> parse_stability(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() != 1) return std::nullopt;
  const char c = s.front();
  if (c >= 'A' && c <= 'F') return static_cast<Stability>(c - 'A');
  if (c >= 'a' && c <= 'f') return static_cast<Stability>(c - 'a');
  if (c >= '1' && c <= '6') return static_cast<Stability>(c - '1');
  return std::nullopt;
}

char to_char(Stability s) noexcept { return static_cast<char>('A' + static_cast<int>(s)); }

/// NOAA Global Monitoring Division solar calculator (Meeus-based), as in NOAA's spreadsheet
/// "NOAA_Solar_Calculations_day.xls": apparent (refraction-corrected, standard atmosphere)
/// elevation of the sun's centre, degrees. Accuracy ~0.01 deg for 1800–2100, refraction model
/// error a few 0.01 deg below 5 deg elevation.
double solar_elevation_deg(double lon_deg, double lat_deg, EpochSeconds t) noexcept {
  const double jd = t / 86400.0 + 2440587.5;
  const double jc = (jd - 2451545.0) / 36525.0;
  const double l0 = std::fmod(280.46646 + jc * (36000.76983 + jc * 0.0003032), 360.0);
  const double m = 357.52911 + jc * (35999.05029 - 0.0001537 * jc);
  const double e = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc);
  const double mr = m * kDeg;
  const double c = std::sin(mr) * (1.914602 - jc * (0.004817 + 0.000014 * jc)) +
                   std::sin(2 * mr) * (0.019993 - 0.000101 * jc) + std::sin(3 * mr) * 0.000289;
  const double true_long = l0 + c;
  const double omega = (125.04 - 1934.136 * jc) * kDeg;
  const double app_long = true_long - 0.00569 - 0.00478 * std::sin(omega);
  const double mean_obliq =
      23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60.0) / 60.0;
  const double obliq = mean_obliq + 0.00256 * std::cos(omega);
  const double decl = std::asin(std::sin(obliq * kDeg) * std::sin(app_long * kDeg));
  const double y = std::pow(std::tan(obliq * kDeg / 2), 2);
  const double l0r = l0 * kDeg;
  const double eot_min = 4.0 / kDeg *
                         (y * std::sin(2 * l0r) - 2 * e * std::sin(mr) +
                          4 * e * y * std::sin(mr) * std::cos(2 * l0r) -
                          0.5 * y * y * std::sin(4 * l0r) - 1.25 * e * e * std::sin(2 * mr));
  double day_frac = std::fmod(t, 86400.0);
  if (day_frac < 0) day_frac += 86400.0;
  double tst = std::fmod(day_frac / 60.0 + eot_min + 4.0 * lon_deg, 1440.0);
  if (tst < 0) tst += 1440.0;
  const double ha = (tst / 4.0 < 0) ? tst / 4.0 + 180.0 : tst / 4.0 - 180.0;
  const double latr = lat_deg * kDeg;
  double cz = std::sin(latr) * std::sin(decl) + std::cos(latr) * std::cos(decl) * std::cos(ha * kDeg);
  cz = std::clamp(cz, -1.0, 1.0);
  const double elev = 90.0 - std::acos(cz) / kDeg;
  // Atmospheric refraction (NOAA's piecewise formula), arcseconds.
  double refr = 0;
  if (elev > 85.0) {
    refr = 0;
  } else {
    const double te = std::tan(elev * kDeg);
    if (elev > 5.0)
      refr = 58.1 / te - 0.07 / (te * te * te) + 0.000086 / std::pow(te, 5);
    else if (elev > -0.575)
      refr = 1735.0 + elev * (-518.2 + elev * (103.4 + elev * (-12.79 + elev * 0.711)));
    else
      refr = -20.772 / te;
  }
  return elev + refr / 3600.0;
}

/// Turner (1964) as given in EPA-454/R-99-005 §6.4.1 (Tables 6-4, 6-5). Cloud cover in okta:
/// Turner's "≤ 4/10" (night) maps to ≤ 3 okta, "> 5/10" (day) to > 4 okta. The ceiling height is
/// not known here: total overcast (8 okta) is taken as a low ceiling (NRI = 0, day or night) and
/// 5–7 okta by day as a 7000–16000 ft ceiling (insolation class − 1, not below 1). Night is a
/// sun at or below the horizon. Class 7 (G) is reported as F.
Stability turner_stability(double solar_elevation_deg, double cloud_okta,
                           double wind_speed_m_s) noexcept {
  double okta = std::isnan(cloud_okta) ? 4.0 : std::clamp(cloud_okta, 0.0, 8.0);
  int nri;
  if (okta >= 7.5) {
    nri = 0;
  } else if (!(solar_elevation_deg > 0.0)) {
    nri = okta <= 3.5 ? -2 : -1;
  } else {
    int icn = solar_elevation_deg > 60 ? 4 : solar_elevation_deg > 35 ? 3 : solar_elevation_deg > 15 ? 2 : 1;
    if (okta > 4.0) icn = std::max(1, icn - 1);
    nri = icn;
  }
  // Rows: wind speed classes (m/s upper bounds per EPA Table 6-4); columns NRI 4,3,2,1,0,-1,-2.
  static constexpr double kUpper[8] = {0.7, 1.8, 2.8, 3.3, 3.8, 4.8, 5.4, 5.9};
  static constexpr int kTable[9][7] = {
      {1, 1, 2, 3, 4, 6, 7}, {1, 2, 2, 3, 4, 6, 7}, {1, 2, 3, 4, 4, 5, 6},
      {2, 2, 3, 4, 4, 5, 6}, {2, 2, 3, 4, 4, 4, 5}, {2, 3, 3, 4, 4, 4, 5},
      {3, 3, 4, 4, 4, 4, 5}, {3, 3, 4, 4, 4, 4, 4}, {3, 4, 4, 4, 4, 4, 4}};
  const double ws = std::isnan(wind_speed_m_s) ? 0.0 : wind_speed_m_s;
  int row = 8;
  for (int i = 0; i < 8; ++i) {
    // Table speeds are 0.1 m/s bins: 0–0.7, 0.8–1.8, ... ; a value between bins goes up.
    if (ws < kUpper[i] + 0.05) {
      row = i;
      break;
    }
  }
  const int col = 4 - nri;
  const int cls = std::min(kTable[row][col], 6);
  return static_cast<Stability>(cls - 1);
}

/// Golder (1972): each class k has a centre line 1/L = a_k + b_k log10(z0) (kGolderA/B); L is
/// assigned to the class whose centre is nearest in 1/L, i.e. class boundaries are the midpoints
/// between adjacent centres. z0 is clamped to [1e-4, 3] m (the nomogram's range). L = 0 or NaN
/// gives D.
Stability golder_stability(double obukhov_length_m, double roughness_m) noexcept {
  if (!(std::abs(obukhov_length_m) > 0) || std::isnan(obukhov_length_m)) return Stability::D;
  const double inv_l = 1.0 / obukhov_length_m;
  const double lz = std::log10(std::clamp(std::isnan(roughness_m) ? 0.1 : roughness_m, 1e-4, 3.0));
  double centre[6];
  for (int k = 0; k < 6; ++k) centre[k] = kGolderA[k] + kGolderB[k] * lz;
  for (int k = 0; k < 5; ++k) {
    if (inv_l < 0.5 * (centre[k] + centre[k + 1])) return static_cast<Stability>(k);
  }
  return Stability::F;
}

double default_mixing_height_m(Stability s) noexcept {
  static constexpr double kZi[6] = {1600, 1200, 900, 800, 400, 200};
  return kZi[static_cast<int>(s)];
}

/// EPA (2000) σA method (EPA-454/R-99-005 §6.4.4): initial class from σA, then the wind-speed
/// adjustments. Daytime: A→B at u ≥ 3, →C at u ≥ 4, →D at u ≥ 6; B→C at u ≥ 4, →D at u ≥ 6;
/// C→D at u ≥ 6; D, E, F → D. Night: A: u < 2.9 F, < 3.6 E, else D; B: u < 2.4 F, < 3.0 E, else D;
/// C: u < 2.4 E, else D; D, E, F unchanged.
Stability stability_from_sigma_theta(double sigma_theta_deg, double wind_speed_m_s,
                                     bool daytime) noexcept {
  const double sa = std::isnan(sigma_theta_deg) ? 10.0 : sigma_theta_deg;
  const double u = std::isnan(wind_speed_m_s) ? 0.0 : wind_speed_m_s;
  Stability initial = sa >= 22.5   ? Stability::A
                      : sa >= 17.5 ? Stability::B
                      : sa >= 12.5 ? Stability::C
                      : sa >= 7.5  ? Stability::D
                      : sa >= 3.8  ? Stability::E
                                   : Stability::F;
  if (daytime) {
    switch (initial) {
      case Stability::A:
        return u < 3 ? Stability::A : u < 4 ? Stability::B : u < 6 ? Stability::C : Stability::D;
      case Stability::B:
        return u < 4 ? Stability::B : u < 6 ? Stability::C : Stability::D;
      case Stability::C:
        return u < 6 ? Stability::C : Stability::D;
      default:
        return Stability::D;
    }
  }
  switch (initial) {
    case Stability::A:
      return u < 2.9 ? Stability::F : u < 3.6 ? Stability::E : Stability::D;
    case Stability::B:
      return u < 2.4 ? Stability::F : u < 3.0 ? Stability::E : Stability::D;
    case Stability::C:
      return u < 2.4 ? Stability::E : Stability::D;
    default:
      return initial;
  }
}

/// Inverse of Golder's relation at the class centre: representative 1/L (1/m) for a class and
/// roughness; 0 for D (neutral).
double golder_inverse_obukhov(Stability s, double roughness_m) noexcept {
  const double lz = std::log10(std::clamp(std::isnan(roughness_m) ? 0.1 : roughness_m, 1e-4, 3.0));
  const int k = static_cast<int>(s);
  return kGolderA[k] + kGolderB[k] * lz;
}

}  // namespace plumetrace

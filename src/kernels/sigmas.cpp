/// @file sigmas.cpp
/// Dispersion coefficients: ISC3 rural Pasquill–Gifford (EPA-454/B-95-003b Vol. II, §1.1.5.3,
/// eqs. 1-33/1-34, Tables 1-1 and 1-2) and Briggs (1973) open-country / urban formulas as tabulated
/// by Hanna, Briggs & Hosker (1982) and Seinfeld & Pandis (Table 18.3).

#include "plumetrace/kernels/sigmas.hpp"

#include <algorithm>
#include <cmath>

#include "isc3_tables.hpp"

namespace plumetrace {

namespace {

constexpr double kMinDistanceM = 1.0;

/// ISC3 σy (m) at x_km (Vol. II eq. 1-33/1-34): σy = 465.11628 x tan(TH), TH = 0.017453293 (c − d ln x).
double isc3_sigma_y_m(Stability s, double x_km) noexcept {
  const Isc3SigmaYCoef& k = kIsc3SigmaY[static_cast<int>(s)];
  const double th_rad = 0.017453293 * (k.c - k.d * std::log(x_km));
  return 465.11628 * x_km * std::tan(th_rad);
}

/// ISC3 σz (m) at x_km: a x^b on the Table 1-2 segment containing x (segment upper bounds
/// inclusive, as ISC3's SIGZ uses `.LE.`), capped at 5000 m.
double isc3_sigma_z_m(Stability s, double x_km) noexcept {
  const Isc3SigmaZClass& t = kIsc3SigmaZ[static_cast<int>(s)];
  int i = 0;
  while (i + 1 < t.n && x_km > t.seg[i].x_max_km) ++i;
  const double sz = t.seg[i].a * std::pow(x_km, t.seg[i].b);
  return std::min(sz, kIsc3SigmaZCapM);
}

Sigmas briggs_rural(Stability s, double x) noexcept {
  const double ry = 1.0 / std::sqrt(1.0 + 1e-4 * x);  // (1 + 0.0001 x)^-1/2, all classes
  switch (s) {
    case Stability::A: return {0.22 * x * ry, 0.20 * x};
    case Stability::B: return {0.16 * x * ry, 0.12 * x};
    case Stability::C: return {0.11 * x * ry, 0.08 * x / std::sqrt(1.0 + 2e-4 * x)};
    case Stability::D: return {0.08 * x * ry, 0.06 * x / std::sqrt(1.0 + 1.5e-3 * x)};
    case Stability::E: return {0.06 * x * ry, 0.03 * x / (1.0 + 3e-4 * x)};
    case Stability::F: return {0.04 * x * ry, 0.016 * x / (1.0 + 3e-4 * x)};
  }
  return {0.08 * x * ry, 0.06 * x / std::sqrt(1.0 + 1.5e-3 * x)};
}

Sigmas briggs_urban(Stability s, double x) noexcept {
  const double ry = 1.0 / std::sqrt(1.0 + 4e-4 * x);  // (1 + 0.0004 x)^-1/2, all classes
  switch (s) {
    case Stability::A:
    case Stability::B: return {0.32 * x * ry, 0.24 * x * std::sqrt(1.0 + 1e-3 * x)};
    case Stability::C: return {0.22 * x * ry, 0.20 * x};
    case Stability::D: return {0.16 * x * ry, 0.14 * x / std::sqrt(1.0 + 3e-4 * x)};
    case Stability::E:
    case Stability::F: return {0.11 * x * ry, 0.08 * x / std::sqrt(1.0 + 1.5e-3 * x)};
  }
  return {0.16 * x * ry, 0.14 * x / std::sqrt(1.0 + 3e-4 * x)};
}

}  // namespace

Sigmas dispersion_sigmas(SigmaScheme scheme, Stability s, double x_m) noexcept {
  // Clamp below 1 m (and NaN) to 1 m so that σ is never zero or NaN.
  const double x = (x_m >= kMinDistanceM) ? x_m : kMinDistanceM;
  const int si = static_cast<int>(s);
  if (si < 0 || si > 5) s = Stability::D;
  switch (scheme) {
    case SigmaScheme::Isc3Rural: {
      const double x_km = x * 1e-3;
      return {isc3_sigma_y_m(s, x_km), isc3_sigma_z_m(s, x_km)};
    }
    case SigmaScheme::BriggsRural: return briggs_rural(s, x);
    case SigmaScheme::BriggsUrban: return briggs_urban(s, x);
  }
  return {isc3_sigma_y_m(s, x * 1e-3), isc3_sigma_z_m(s, x * 1e-3)};
}

double sigma_y_from_sigma_theta(double sigma_theta_deg, double x_m, double u_m_s) noexcept {
  const double x = (x_m >= kMinDistanceM) ? x_m : kMinDistanceM;
  const double u = (u_m_s >= kMinWindSpeedMS) ? u_m_s : kMinWindSpeedMS;
  const double st_deg = (sigma_theta_deg > 0.0) ? sigma_theta_deg : 0.0;
  const double t_s = x / u;
  const double f = 1.0 / (1.0 + 0.9 * std::sqrt(t_s / 1000.0));
  const double sy = st_deg * (M_PI / 180.0) * x * f;
  return (sy > 1e-3) ? sy : 1e-3;  // never zero
}

}  // namespace plumetrace

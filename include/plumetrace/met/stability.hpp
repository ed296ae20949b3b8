#pragma once
/// @file stability.hpp
/// Pasquill–Gifford stability class: explicit reading > Obukhov length (Golder 1972) > Turner's
/// method (solar elevation, cloud cover, wind speed). Also solar elevation and default mixing heights.

#include <optional>
#include <string_view>

#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

/// Pasquill–Gifford classes A (very unstable) .. F (moderately stable). Values 0..5.
enum class Stability : int { A = 0, B = 1, C = 2, D = 3, E = 4, F = 5 };

/// 'A'..'F' (case-insensitive), also "1".."6"; nullopt otherwise.
std::optional<Stability> parse_stability(std::string_view s) noexcept;
char to_char(Stability s) noexcept;

/// Solar elevation angle in degrees (NOAA algorithm, accuracy ~0.1 deg) at lon/lat and UTC time.
double solar_elevation_deg(double lon_deg, double lat_deg, EpochSeconds t) noexcept;

/// Turner (1964) method: net radiation index from solar elevation and cloud cover (okta 0..8,
/// NaN = unknown, treated as 4), combined with wind speed (m/s at 10 m). Night: E/F/D by cloud.
Stability turner_stability(double solar_elevation_deg, double cloud_okta, double wind_speed_m_s) noexcept;

/// Golder (1972) classes from the Obukhov length L (m) and roughness length z0 (m), using the
/// class boundaries 1/L = a + b log10(z0) fitted to Golder's nomogram.
Stability golder_stability(double obukhov_length_m, double roughness_m) noexcept;

/// Default convective/mechanical mixing height (m) by class, used when none is measured:
/// A 1600, B 1200, C 900, D 800, E 400, F 200 (a conservative daytime/night-time table).
double default_mixing_height_m(Stability s) noexcept;

/// σθ (deg) to class per the EPA (2000) σA method (Table 6-7 of EPA-454/R-99-005), daytime table.
Stability stability_from_sigma_theta(double sigma_theta_deg, double wind_speed_m_s, bool daytime) noexcept;

/// (Added by met.) Representative inverse Obukhov length 1/L (1/m) of a class: the centre line of
/// Golder's relation used by golder_stability, a + b log10(z0); 0 for D. Used for class-based
/// turbulence defaults when L is not measured.
double golder_inverse_obukhov(Stability s, double roughness_m) noexcept;

}  // namespace plumetrace

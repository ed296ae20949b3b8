#pragma once
/// @file sigmas.hpp
/// Dispersion coefficients σy, σz (metres) as functions of downwind distance x (metres).
/// ISC3 Pasquill–Gifford rural (EPA-454/B-95-003b, eqs. 1-33..1-35, Table 1-1/1-2 segments),
/// Briggs (1973) rural and urban open-country formulas. Valid for x in [1 m, 100 km]; below 1 m
/// x is clamped to 1 m (never NaN, never zero).

#include "plumetrace/met/stability.hpp"

namespace plumetrace {

enum class SigmaScheme { Isc3Rural, BriggsRural, BriggsUrban };

/// Calm-wind floor (m/s): every kernel clamps the transport speed to at least this value
/// (EPA practice for Gaussian models; the plume is never silently zero and never NaN in calms).
inline constexpr double kMinWindSpeedMS = 0.5;

struct Sigmas {
  double y_m{};
  double z_m{};
};

/// σy and σz at downwind distance x_m. ISC3 σz is min(a x^b, 5000 m) as in ISC3 (Table 1-2's
/// "> 3.11 km: 5000 m" for class A and "> 35 km" for B are exactly where the power law reaches the cap).
/// Errors: exact to double rounding of the published coefficients; x < 1 m (or NaN) acts as 1 m;
/// a Stability outside A..F acts as D.
Sigmas dispersion_sigmas(SigmaScheme scheme, Stability s, double x_m) noexcept;

/// Lateral spread from measured σθ (deg): σy = σθ[rad] * x * f(x), Draxler (1976) f = 1/(1+0.9 sqrt(t/1000 s)) with t = x/u.
/// u is clamped to >= kMinWindSpeedMS and x to >= 1 m; the result is at least 1 mm (never zero).
double sigma_y_from_sigma_theta(double sigma_theta_deg, double x_m, double u_m_s) noexcept;

}  // namespace plumetrace

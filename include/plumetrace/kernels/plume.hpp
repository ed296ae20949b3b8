#pragma once
/// @file plume.hpp
/// Steady-state Gaussian plume with ground and mixing-lid reflection, and Briggs plume rise.
/// Units: q in g/s, u in m/s, lengths in m, result in g/m³. Relative error of the image sum vs the
/// infinite series < 1e-6 for z, h < mixing height (sum truncated when terms fall below that).

#include "plumetrace/kernels/sigmas.hpp"

namespace plumetrace {

/// Concentration (g/m³) at crosswind offset y, height z, given σy, σz at that downwind distance,
/// for a source of effective height h_eff in wind u (m/s, clamped to >= 0.5), with ground and
/// lid reflection at mixing_height_m (<= 0 or inf disables the lid). Once σz > 1.6 zi the
/// well-mixed form q / (sqrt(2π) σy u zi) is used (ISC3). Returns 0 for x <= 0 (upwind).
double gaussian_plume_g_m3(double q_g_s, double u_m_s, double x_m, double y_m, double z_m,
                           double h_eff_m, double sigma_y_m, double sigma_z_m,
                           double mixing_height_m) noexcept;

/// Convenience: with sigmas from a scheme and class.
double gaussian_plume_g_m3(double q_g_s, double u_m_s, double x_m, double y_m, double z_m,
                           double h_eff_m, SigmaScheme scheme, Stability s,
                           double mixing_height_m) noexcept;

/// The vertical factor alone (1/m): sum of image terms exp(-(z∓h+2nzi)²/2σz²)/(sqrt(2π)σz).
double vertical_factor_per_m(double z_m, double h_eff_m, double sigma_z_m, double mixing_height_m) noexcept;

/// Stack parameters for Briggs plume rise.
struct StackParams {
  double height_m{};
  double diameter_m{};
  double exit_velocity_m_s{};
  double exit_temp_k{};
  double ambient_temp_k{293.15};
};

/// Final Briggs (1975) plume rise (m) for buoyant/momentum plumes, unstable-neutral (A-D) and
/// stable (E-F) forms as in ISC3 (EPA-454/B-95-003b §1.1.4); 0 when exit data are missing.
/// Transitional (distance-dependent) rise at x: min(final, 1.6 F^(1/3) x^(2/3) / u).
double briggs_plume_rise_m(const StackParams& stack, double u_m_s, Stability s, double x_m) noexcept;

}  // namespace plumetrace

#pragma once
/// @file plume.hpp
/// Steady-state Gaussian plume with ground and mixing-lid reflection, and Briggs plume rise.
/// Units: q in g/s, u in m/s, lengths in m, result in g/m³. Relative error of the image sum vs the
/// infinite series < 1e-14 for 0 <= z, h <= mixing height (the sum stops once a pair of images adds
/// less than 1e-15 of it; terms fall monotonically in |n|).

#include <cstddef>

#include "plumetrace/kernels/sigmas.hpp"

namespace plumetrace {

/// Concentration (g/m³) at crosswind offset y, height z, given σy, σz at that downwind distance,
/// for a source of effective height h_eff in wind u (m/s, clamped to >= 0.5), with ground and
/// lid reflection at mixing_height_m (<= 0 or inf disables the lid). Once σz > 1.6 zi the
/// well-mixed form q / (sqrt(2π) σy u zi) exp(-y²/2σy²) is used (ISC3). Returns 0 for x <= 0 (upwind).
/// With a lid (ISC3 conventions): a receptor above the lid (z > zi) under a plume below it gets 0;
/// a plume above the lid (h_eff > zi) gives 0 below the lid and, above it, the direct term plus
/// the image reflected downward by the lid.
/// Formula: q/(2π u σy σz) exp(-y²/2σy²) Σ_n [exp(-(z-h+2n zi)²/2σz²) + exp(-(z+h+2n zi)²/2σz²)].
double gaussian_plume_g_m3(double q_g_s, double u_m_s, double x_m, double y_m, double z_m,
                           double h_eff_m, double sigma_y_m, double sigma_z_m,
                           double mixing_height_m) noexcept;

/// Convenience: with sigmas from a scheme and class.
double gaussian_plume_g_m3(double q_g_s, double u_m_s, double x_m, double y_m, double z_m,
                           double h_eff_m, SigmaScheme scheme, Stability s,
                           double mixing_height_m) noexcept;

/// The vertical factor alone (1/m): sum of image terms exp(-(z∓h+2nzi)²/2σz²)/(sqrt(2π)σz);
/// 1/zi in the well-mixed limit σz > 1.6 zi; conventions above the lid as gaussian_plume_g_m3.
/// Its integral over z in [0, zi] is 1 (mass conservation between ground and lid); the image
/// sum stops when a pair of images adds less than 1e-15 of the sum (at most |n| = 50).
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
/// Momentum-dominated plumes (ΔT below the crossover temperature difference) use the ISC3
/// momentum rise: final 3 d vs/u (A-D), min(1.5 (Fm/(u √s))^(1/3), 3 d vs/u) (E-F); gradual
/// (3 Fm x/(βj² u²))^(1/3) with βj = 1/3 + u/vs (A-D; E-F with sin(x√s/u)/√s in place of x).
/// Constants: g = 9.80616 m/s² and dθ/dz = 0.020 (E), 0.035 (F) K/m, as ISC3. u is the wind at
/// stack height, clamped to >= 0.5 m/s (ISC3 uses 1 m/s; we use the kernels' calm floor).
/// x_m <= 0 gives 0 (at the stack); x_m = +inf gives the final rise. Stack-tip downwash is not
/// applied (exit velocity is taken as given).
double briggs_plume_rise_m(const StackParams& stack, double u_m_s, Stability s, double x_m) noexcept;

/// Final Briggs rise (m): briggs_plume_rise_m at x = +inf.
double briggs_final_plume_rise_m(const StackParams& stack, double u_m_s, Stability s) noexcept;

/// Effective height (m): stack.height_m + briggs_plume_rise_m(stack, u, s, x).
double effective_height_m(const StackParams& stack, double u_m_s, Stability s, double x_m) noexcept;

}  // namespace plumetrace

#pragma once
/// @file puff.hpp
/// Gaussian puff: an instantaneous release of mass m (g) centred at (xc, yc) at effective height h,
/// spread σx = σy (horizontal) and σz; with ground and lid reflection. Result g/m³.
/// Used when the wind changes within the window (a sequence of puffs along trajectories).

namespace plumetrace {

/// Concentration (g/m³) at offset (dx, dy) from the puff centre and height z:
/// mass / ((2π)^{3/2} σh² σz) exp(-(dx²+dy²)/2σh²) Σ_n [image terms] — i.e.
/// mass · exp(-(dx²+dy²)/2σh²)/(2π σh²) · vertical_factor_per_m(z, h, σz, zi), with the same
/// reflection, well-mixed and above-lid conventions as the plume (plume.hpp). Its integral over
/// the horizontal plane and z in [0, zi] (or [0, ∞) without a lid) is mass_g. σ below 1e-6 m
/// acts as 1e-6 m.
double gaussian_puff_g_m3(double mass_g, double dx_m, double dy_m, double z_m, double h_eff_m,
                          double sigma_h_m, double sigma_z_m, double mixing_height_m) noexcept;

}  // namespace plumetrace

#pragma once
/// @file puff.hpp
/// Gaussian puff: an instantaneous release of mass m (g) centred at (xc, yc) at effective height h,
/// spread σx = σy (horizontal) and σz; with ground and lid reflection. Result g/m³.
/// Used when the wind changes within the window (a sequence of puffs along trajectories).

namespace plumetrace {

double gaussian_puff_g_m3(double mass_g, double dx_m, double dy_m, double z_m, double h_eff_m,
                          double sigma_h_m, double sigma_z_m, double mixing_height_m) noexcept;

}  // namespace plumetrace

/// @file puff.cpp
/// Gaussian puff with ground and lid reflection (the vertical factor is the plume's image sum).

#include "plumetrace/kernels/puff.hpp"

#include <cmath>

#include "plumetrace/kernels/plume.hpp"

namespace plumetrace {

double gaussian_puff_g_m3(double mass_g, double dx_m, double dy_m, double z_m, double h_eff_m,
                          double sigma_h_m, double sigma_z_m, double mixing_height_m) noexcept {
  const double sh = (sigma_h_m > 1e-6) ? sigma_h_m : 1e-6;
  const double r2 = dx_m * dx_m + dy_m * dy_m;
  const double horizontal_per_m2 = std::exp(-r2 / (2.0 * sh * sh)) / (2.0 * M_PI * sh * sh);
  return mass_g * horizontal_per_m2 * vertical_factor_per_m(z_m, h_eff_m, sigma_z_m, mixing_height_m);
}

}  // namespace plumetrace

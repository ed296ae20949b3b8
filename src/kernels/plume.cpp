/// @file plume.cpp
/// Steady Gaussian plume with ground and lid reflection (ISC3, EPA-454/B-95-003b Vol. II §1.1.6),
/// and Briggs plume rise as ISC3 applies it (§1.1.4).

#include "plumetrace/kernels/plume.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace plumetrace {

namespace {

constexpr double kSqrt2Pi = 2.5066282746310002;  // sqrt(2π)
constexpr double kGravity = 9.80616;             // m/s², the value ISC3 uses
constexpr double kWellMixedRatio = 1.6;          // σz > 1.6 zi: uniform in the vertical (ISC3)

inline double clamp_wind(double u_m_s) noexcept {
  return (u_m_s >= kMinWindSpeedMS) ? u_m_s : kMinWindSpeedMS;  // also maps NaN to the floor
}

inline bool has_lid(double zi_m) noexcept { return zi_m > 0.0 && std::isfinite(zi_m); }

inline double gauss(double d, double inv_two_sz2) noexcept { return std::exp(-d * d * inv_two_sz2); }

}  // namespace

double vertical_factor_per_m(double z_m, double h_eff_m, double sigma_z_m,
                             double mixing_height_m) noexcept {
  const double sz = (sigma_z_m > 1e-6) ? sigma_z_m : 1e-6;
  const double inv = 1.0 / (2.0 * sz * sz);
  const double norm = 1.0 / (kSqrt2Pi * sz);
  if (!has_lid(mixing_height_m)) {
    return norm * (gauss(z_m - h_eff_m, inv) + gauss(z_m + h_eff_m, inv));
  }
  const double zi = mixing_height_m;
  if (h_eff_m > zi) {
    // Plume penetrated the elevated inversion (ISC3: zero below the lid). Above the lid: the
    // direct term plus the image reflected downward by the lid.
    if (z_m <= zi) return 0.0;
    return norm * (gauss(z_m - h_eff_m, inv) + gauss(z_m + h_eff_m - 2.0 * zi, inv));
  }
  if (z_m > zi) return 0.0;  // plume trapped below the lid
  if (sz > kWellMixedRatio * zi) return 1.0 / zi;
  double sum = gauss(z_m - h_eff_m, inv) + gauss(z_m + h_eff_m, inv);
  for (int n = 1; n <= 50; ++n) {
    const double two_n_zi = 2.0 * n * zi;
    const double add = gauss(z_m - h_eff_m - two_n_zi, inv) + gauss(z_m + h_eff_m - two_n_zi, inv) +
                       gauss(z_m - h_eff_m + two_n_zi, inv) + gauss(z_m + h_eff_m + two_n_zi, inv);
    sum += add;
    if (add <= 1e-15 * sum) break;  // terms decrease monotonically in |n| for 0 <= z, h <= zi
  }
  return norm * sum;
}

double gaussian_plume_g_m3(double q_g_s, double u_m_s, double x_m, double y_m, double z_m,
                           double h_eff_m, double sigma_y_m, double sigma_z_m,
                           double mixing_height_m) noexcept {
  if (!(x_m > 0.0)) return 0.0;  // upwind (or at the source)
  const double u = clamp_wind(u_m_s);
  const double sy = (sigma_y_m > 1e-6) ? sigma_y_m : 1e-6;
  const double lateral = std::exp(-y_m * y_m / (2.0 * sy * sy)) / (kSqrt2Pi * sy);
  return q_g_s / u * lateral * vertical_factor_per_m(z_m, h_eff_m, sigma_z_m, mixing_height_m);
}

double gaussian_plume_g_m3(double q_g_s, double u_m_s, double x_m, double y_m, double z_m,
                           double h_eff_m, SigmaScheme scheme, Stability s,
                           double mixing_height_m) noexcept {
  if (!(x_m > 0.0)) return 0.0;
  const Sigmas sig = dispersion_sigmas(scheme, s, x_m);
  return gaussian_plume_g_m3(q_g_s, u_m_s, x_m, y_m, z_m, h_eff_m, sig.y_m, sig.z_m,
                             mixing_height_m);
}

// ---------------------------------------------------------------------------------------------
// Briggs plume rise, ISC3 Vol. II §1.1.4.

namespace {

struct RiseTerms {
  double final_m;   // final rise
  double xf_m;      // distance to final rise
  bool buoyant;     // buoyancy-dominated (else momentum)
  bool stable;
  double fb;        // buoyancy flux (m⁴/s³)
  double fm;        // momentum flux (m⁴/s²)
  double s;         // stability parameter (1/s²), stable only
  double beta_j;    // jet entrainment coefficient 1/3 + u/vs
  double u;
};

bool valid_stack(const StackParams& st) noexcept {
  return st.diameter_m > 0.0 && st.exit_velocity_m_s > 0.0 && st.exit_temp_k > 0.0 &&
         st.ambient_temp_k > 0.0 && std::isfinite(st.diameter_m) &&
         std::isfinite(st.exit_velocity_m_s) && std::isfinite(st.exit_temp_k) &&
         std::isfinite(st.ambient_temp_k);
}

RiseTerms rise_terms(const StackParams& st, double u_m_s, Stability cls) noexcept {
  RiseTerms r{};
  const double u = clamp_wind(u_m_s);
  const double d = st.diameter_m;
  const double vs = st.exit_velocity_m_s;
  const double ts = st.exit_temp_k;
  const double ta = st.ambient_temp_k;
  const double dt = std::max(ts - ta, 0.0);
  r.u = u;
  r.fb = kGravity * vs * d * d * dt / (4.0 * ts);       // eq. 1-7
  r.fm = vs * vs * d * d * ta / (4.0 * ts);             // eq. 1-8
  r.beta_j = 1.0 / 3.0 + u / vs;
  r.stable = (cls == Stability::E || cls == Stability::F);
  if (!r.stable) {
    // Crossover ΔT (eqs. 1-9, 1-10) decides buoyancy vs momentum dominance.
    const double dtc = (r.fb < 55.0) ? 0.0297 * ts * std::cbrt(vs) / std::pow(d, 2.0 / 3.0)
                                     : 0.00575 * ts * std::pow(vs, 2.0 / 3.0) / std::cbrt(d);
    r.buoyant = dt >= dtc && r.fb > 0.0;
    if (r.buoyant) {
      if (r.fb < 55.0) {
        r.final_m = 21.425 * std::pow(r.fb, 0.75) / u;    // eq. 1-11
        r.xf_m = 49.0 * std::pow(r.fb, 5.0 / 8.0);
      } else {
        r.final_m = 38.71 * std::pow(r.fb, 0.6) / u;      // eq. 1-12
        r.xf_m = 119.0 * std::pow(r.fb, 0.4);
      }
    } else {
      r.final_m = 3.0 * d * vs / u;                        // eq. 1-13
      r.xf_m = 4.0 * d * (vs + 3.0 * u) * (vs + 3.0 * u) / (vs * u);
    }
  } else {
    const double dtheta_dz = (cls == Stability::E) ? 0.020 : 0.035;
    r.s = kGravity * dtheta_dz / ta;                      // eq. 1-14
    const double sqrt_s = std::sqrt(r.s);
    const double dtc = 0.019582 * ts * vs * sqrt_s;       // eq. 1-15
    r.buoyant = dt >= dtc && r.fb > 0.0;
    if (r.buoyant) {
      r.final_m = 2.6 * std::cbrt(r.fb / (u * r.s));      // eq. 1-16
      r.xf_m = 2.0715 * u / sqrt_s;
    } else {
      const double stable_mom = 1.5 * std::cbrt(r.fm / (u * sqrt_s));  // eq. 1-17
      r.final_m = std::min(stable_mom, 3.0 * d * vs / u);
      r.xf_m = 0.5 * M_PI * u / sqrt_s;
    }
  }
  return r;
}

}  // namespace

double briggs_plume_rise_m(const StackParams& stack, double u_m_s, Stability s, double x_m) noexcept {
  if (!valid_stack(stack) || !(x_m > 0.0)) return 0.0;
  const RiseTerms r = rise_terms(stack, u_m_s, s);
  if (x_m >= r.xf_m) return r.final_m;
  double gradual = 0.0;
  if (r.buoyant) {
    gradual = 1.6 * std::cbrt(r.fb) * std::pow(x_m, 2.0 / 3.0) / r.u;  // eq. 1-18
  } else if (!r.stable) {
    gradual = std::cbrt(3.0 * r.fm * x_m / (r.beta_j * r.beta_j * r.u * r.u));  // eq. 1-19
  } else {
    const double sqrt_s = std::sqrt(r.s);
    gradual = std::cbrt(3.0 * r.fm * std::sin(x_m * sqrt_s / r.u) /
                        (r.beta_j * r.beta_j * r.u * sqrt_s));  // eq. 1-20
  }
  return std::min(gradual, r.final_m);
}

double briggs_final_plume_rise_m(const StackParams& stack, double u_m_s, Stability s) noexcept {
  return briggs_plume_rise_m(stack, u_m_s, s, std::numeric_limits<double>::infinity());
}

double effective_height_m(const StackParams& stack, double u_m_s, Stability s, double x_m) noexcept {
  return stack.height_m + briggs_plume_rise_m(stack, u_m_s, s, x_m);
}

}  // namespace plumetrace

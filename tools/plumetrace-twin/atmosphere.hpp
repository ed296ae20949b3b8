#pragma once
/// @file atmosphere.hpp
/// The twin simulator's atmosphere and puff physics: a boundary layer diagnosed from surface
/// energy balance, turbulence profiles, Draxler time functions, plume rise and the vertical
/// distribution between the ground and the mixing lid. Written for plumetrace-twin only: it shares
/// no code or coefficient table with the tracer (src/met, src/kernels) on purpose, so that twin
/// experiments are not an inverse crime. Every formula names its source; see docs/twins.md.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

namespace twin {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRad = kPi / 180.0;          // radians per degree
constexpr double kGravity_m_s2 = 9.81;
constexpr double kKarman = 0.4;               // von Kármán constant
constexpr double kRhoCp_J_m3_K = 1200.0;      // volumetric heat capacity of air near the ground
constexpr double kCoriolis_s = 7.0e-5;        // 2 Ω sin(29°N)

/// A point in a local metric plane (metres east, north).
struct P2 {
  double x = 0, y = 0;
};

inline double distance(P2 a, P2 b) { return std::hypot(a.x - b.x, a.y - b.y); }

/// A seedable random stream (xoshiro256** fed by splitmix64; Blackman & Vigna 2018). Streams are
/// keyed by a label and an index so that one part of an incident (say the car route) can be
/// redrawn without shifting the draws of another (the registry).
class Stream {
 public:
  Stream(std::uint64_t seed, std::string_view label, std::uint64_t index = 0) {
    std::uint64_t key = 0xcbf29ce484222325ULL;  // FNV-1a of the label
    for (const char c : label) key = (key ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    std::uint64_t mix = seed * 0x9E3779B97F4A7C15ULL ^ key ^ (index + 1) * 0xD1B54A32D192ED03ULL;
    for (auto& word : state_) {
      mix += 0x9E3779B97F4A7C15ULL;
      std::uint64_t z = mix;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      word = z ^ (z >> 31);
    }
  }
  std::uint64_t bits() {
    const std::uint64_t out = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return out;
  }
  /// Uniform in [0, 1).
  double unit() { return static_cast<double>(bits() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double in(double lo, double hi) { return lo + (hi - lo) * unit(); }
  /// Log-uniform in [lo, hi) (lo > 0).
  double log_in(double lo, double hi) { return lo * std::exp(unit() * std::log(hi / lo)); }
  /// Integer in [0, n).
  int below(int n) { return static_cast<int>(bits() % static_cast<std::uint64_t>(std::max(1, n))); }
  /// True with probability p.
  bool chance(double p) { return unit() < p; }
  /// Standard normal (Marsaglia's polar method).
  double gauss() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double a, b, r2;
    do {
      a = in(-1, 1);
      b = in(-1, 1);
      r2 = a * a + b * b;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double k = std::sqrt(-2.0 * std::log(r2) / r2);
    spare_ = b * k;
    has_spare_ = true;
    return a * k;
  }

 private:
  static std::uint64_t rotl(std::uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
  double spare_ = 0;
  bool has_spare_ = false;
};

/// The state of the surface layer and the mixed layer at one instant.
struct Surface {
  double u10_m_s = 3;        // wind speed at 10 m
  double u_star_m_s = 0.3;   // friction velocity
  double obukhov_m = 1e4;    // Obukhov length (negative: unstable)
  double mix_h_m = 800;      // mixing height
  double w_star_m_s = 0;     // convective velocity scale (0 when the heat flux is not upward)
  double heat_w_m2 = 0;      // sensible heat flux
  double temp_k = 293;       // air temperature near the ground
  double cloud_okta = 4;
};

/// Sine of the solar elevation at a UTC instant and place (Spencer-free textbook approximation:
/// declination 23.44° sin(2π(284 + doy)/365), hour angle from local solar time; ~1° accurate).
inline double sun_height_sin(double t_utc_s, double lon_deg, double lat_deg) {
  const double days = t_utc_s / 86400.0;
  const double doy = std::fmod(days - 10957.0 + 3652500.0, 365.2422);  // days since a 1 January
  const double decl = 23.44 * kRad * std::sin(2 * kPi * (284.0 + doy) / 365.0);
  const double solar_h = std::fmod(std::fmod(t_utc_s / 3600.0 + lon_deg / 15.0, 24.0) + 24.0, 24.0);
  const double omega = (solar_h - 12.0) * 15.0 * kRad;
  return std::sin(lat_deg * kRad) * std::sin(decl) + std::cos(lat_deg * kRad) * std::cos(decl) * std::cos(omega);
}

/// Businger–Dyer integrated stability function for momentum, ψm(z/L) (Paulson 1970 for
/// unstable, Webb 1970 linear form for stable, capped at ζ = 1).
inline double psi_m(double zeta) {
  if (zeta >= 0) return -5.0 * std::min(zeta, 1.0);
  const double x = std::pow(1.0 - 16.0 * zeta, 0.25);
  return 2.0 * std::log((1 + x) / 2) + std::log((1 + x * x) / 2) - 2.0 * std::atan(x) + kPi / 2;
}

/// Diagnose u*, L and H from the 10 m wind, cloud cover, sun and roughness.
/// Day (sun above 5°): net radiation Rn = 990 sin(φ)(1 − 0.75 (N/8)^3.4) − 30 W/m² and
/// H = 0.35 Rn − 20 (Holtslag & van Ulden 1983, J. Clim. Appl. Meteor. 22, 517), iterated with the
/// Businger–Dyer log profile. Night: temperature scale θ* = 0.09 (1 − 0.5 (N/8)²) K and
/// L = T u*² / (κ g θ*) (van Ulden & Holtslag 1985, J. Clim. Appl. Meteor. 24, 1196).
inline void surface_fluxes(Surface& s, double sun_sin, double z0_m) {
  const double n = std::clamp(s.cloud_okta / 8.0, 0.0, 1.0);
  const double u = std::max(0.3, s.u10_m_s);
  const double log_z = std::log(10.0 / z0_m);
  double rn = 990.0 * sun_sin * (1 - 0.75 * std::pow(n, 3.4)) - 30.0;
  double heat = sun_sin > 0.087 ? 0.35 * rn - 20.0 : -1.0;
  double ustar = kKarman * u / log_z, obukhov = 1e4;
  if (heat > 5.0) {
    for (int it = 0; it < 6; ++it) {
      obukhov = -kRhoCp_J_m3_K * s.temp_k * ustar * ustar * ustar / (kKarman * kGravity_m_s2 * heat);
      ustar = kKarman * u / (log_z - psi_m(10.0 / obukhov) + psi_m(z0_m / obukhov));
    }
  } else {
    const double theta_star = 0.09 * (1 - 0.5 * n * n);
    for (int it = 0; it < 6; ++it) {
      obukhov = std::max(2.0, s.temp_k * ustar * ustar / (kKarman * kGravity_m_s2 * theta_star));
      ustar = kKarman * u / (log_z - psi_m(10.0 / obukhov));
    }
    heat = -kRhoCp_J_m3_K * ustar * theta_star;
  }
  s.u_star_m_s = std::max(0.02, ustar);
  s.obukhov_m = obukhov;
  s.heat_w_m2 = heat;
}

/// Turbulence at height z: σv and σw (m/s).
/// Unstable (L < 0): σv = u* (12 + 0.5 h/|L|)^(1/3) and σw = 1.3 u* (1 + 3 z/|L|)^(1/3)
/// (Panofsky, Tennekes, Lenschow & Wyngaard 1977, BLM 11, 355), σw at least the mixed-layer
/// profile σw² = 1.8 w*² (z/h)^(2/3) (1 − 0.8 z/h)² (Lenschow, Wyngaard & Pennell 1980, JAS 37).
/// Stable (0 < L < 500 m): σv = σw = 1.3 u* (1 − z/h) (Hanna 1982, in Atmospheric Turbulence and
/// Air Pollution Modelling, Reidel); near neutral: 1.3 u* exp(−2 f z/u*) (ibid.).
/// Low-wind floors σv ≥ 0.25 m/s, σw ≥ 0.03 m/s (meandering of weak winds, Anfossi et al. 2005).
inline void turbulence(const Surface& s, double z_m, double& sigma_v, double& sigma_w) {
  const double h = s.mix_h_m;
  const double zr = std::clamp(z_m / h, 0.0, 0.95);
  if (s.obukhov_m < 0) {
    sigma_v = s.u_star_m_s * std::cbrt(12.0 + 0.5 * h / -s.obukhov_m);
    const double near = 1.3 * s.u_star_m_s * std::cbrt(1.0 + 3.0 * z_m / -s.obukhov_m);
    const double mixed = std::sqrt(1.8) * s.w_star_m_s * std::cbrt(zr) * (1 - 0.8 * zr);
    sigma_w = std::max(near, mixed);
  } else if (s.obukhov_m < 500) {
    sigma_v = sigma_w = 1.3 * s.u_star_m_s * (1 - zr);
  } else {
    sigma_v = sigma_w = 1.3 * s.u_star_m_s * std::exp(-2.0 * kCoriolis_s * z_m / s.u_star_m_s);
  }
  sigma_v = std::max(sigma_v, 0.25);
  sigma_w = std::max(sigma_w, 0.03);
}

/// Draxler (1976) time function scale: σ = σ_turb t / (1 + 0.9 sqrt(t/T)). T = 1000 s laterally;
/// vertically 500 s (unstable and neutral) and 50 s (stable) — the forms Irwin (1983, J. Clim.
/// Appl. Meteor. 22, 92) recommends for near-surface releases.
inline double lagrangian_scale_s(bool vertical, const Surface& s) {
  if (!vertical) return 1000.0;
  return s.obukhov_m > 0 && s.obukhov_m < 500 ? 50.0 : 500.0;
}

/// Grow a puff size σ (m) by dt (s) under turbulence σ_turb (m/s) with time scale T (s), through
/// the virtual age at which the Draxler curve of the present turbulence reaches the present size
/// (the usual way puff models carry a size across changing turbulence). The Draxler curve
/// g(t) = t / (1 + a sqrt t), a = 0.9/sqrt T, inverts in closed form: sqrt t = (aG + sqrt(a²G² + 4G))/2.
inline double grow_sigma(double sigma_m, double sigma_turb, double scale_s, double dt_s) {
  const double a = 0.9 / std::sqrt(scale_s);
  const double g = sigma_m / sigma_turb;
  const double root = 0.5 * (a * g + std::sqrt(a * a * g * g + 4.0 * g));
  const double t = root * root + dt_s;
  return sigma_turb * t / (1.0 + a * std::sqrt(t));
}

/// Buoyant plume rise (m) at downwind distance x (m), for buoyancy flux Fb (m⁴/s³), wind u at
/// stack top (m/s) and the surface state. Transitional "2/3 law" Δh = 1.6 Fb^(1/3) x^(2/3) / u
/// up to the final rise: neutral/unstable at x_f = 3.5 x*, x* = 14 Fb^(5/8) (Fb < 55) or 34 Fb^(2/5);
/// stable Δh = 2.6 (Fb / (u s))^(1/3), calm stable 4 Fb^(1/4) s^(-3/8), with s = g/T dθ/dz and
/// dθ/dz = 0.005 + 0.03 min(1, 50/L) K/m. (Briggs 1975, Lectures on Air Pollution and Environmental
/// Impact Analyses, AMS, 59-111.)
inline double plume_rise_m(double fb, double u_m_s, double x_m, const Surface& s) {
  if (fb <= 0) return 0.0;
  const double u = std::max(u_m_s, 1.0);
  const double xstar = fb < 55 ? 14.0 * std::pow(fb, 0.625) : 34.0 * std::pow(fb, 0.4);
  double final_rise = 1.6 * std::cbrt(fb) * std::pow(3.5 * xstar, 2.0 / 3.0) / u;
  if (s.obukhov_m > 0 && s.obukhov_m < 500) {
    const double dtheta = 0.005 + 0.03 * std::min(1.0, 50.0 / s.obukhov_m);
    const double stab = kGravity_m_s2 / s.temp_k * dtheta;
    const double windy = 2.6 * std::cbrt(fb / (u * stab));
    const double calm = 4.0 * std::pow(fb, 0.25) * std::pow(stab, -0.375);
    final_rise = std::min(final_rise, u_m_s < 1.0 ? std::min(windy, calm) : windy);
  }
  return std::min(final_rise, 1.6 * std::cbrt(fb) * std::pow(std::max(x_m, 0.0), 2.0 / 3.0) / u);
}

/// Buoyancy flux Fb = g v d² (Ts − Ta) / (4 Ts) (m⁴/s³) of a stack (Briggs 1975).
inline double buoyancy_flux(double exit_velocity_m_s, double exit_temp_k, double diameter_m, double air_temp_k) {
  if (exit_velocity_m_s <= 0 || diameter_m <= 0 || exit_temp_k <= air_temp_k) return 0.0;
  return kGravity_m_s2 * exit_velocity_m_s * diameter_m * diameter_m * (exit_temp_k - air_temp_k) / (4.0 * exit_temp_k);
}

/// Probability density (1/m) of a puff's mass at height z, for a centre at height H and vertical
/// spread σz between a reflecting ground and a reflecting lid at h (no mass above h while H < h;
/// nothing reaches the ground from a puff above the lid). For σz < 0.35 h the direct term and the
/// first images; otherwise the cosine series of the same problem, which converges fast there:
/// p(z) = (1/h) [1 + 2 Σ exp(−(nπσz/h)²/2) cos(nπH/h) cos(nπz/h)] (Carslaw & Jaeger 1959, §3.3).
inline double vertical_density(double z, double height, double sz, double lid) {
  if (height >= lid) return 0.0;
  if (sz < 0.35 * lid) {
    const double k = 1.0 / (std::sqrt(2 * kPi) * sz);
    double sum = 0;
    for (const double c : {height, -height, 2 * lid - height, -2 * lid + height, 2 * lid + height}) {
      const double d = (z - c) / sz;
      sum += std::exp(-0.5 * d * d);
    }
    return k * sum;
  }
  // cos(nθ) by the Chebyshev recurrence cos(nθ) = 2 cos θ cos((n−1)θ) − cos((n−2)θ)
  const double a1 = kPi / lid, c_h = std::cos(a1 * height), c_z = std::cos(a1 * z);
  double h_prev = 1, h_cur = c_h, z_prev = 1, z_cur = c_z, sum = 1.0;
  for (int n = 1; n < 40; ++n) {
    const double a = n * a1;
    const double damp = std::exp(-0.5 * a * a * sz * sz);
    if (damp < 1e-7) break;
    sum += 2.0 * damp * h_cur * z_cur;
    const double h_next = 2 * c_h * h_cur - h_prev, z_next = 2 * c_z * z_cur - z_prev;
    h_prev = h_cur;
    h_cur = h_next;
    z_prev = z_cur;
    z_cur = z_next;
  }
  return std::max(0.0, sum / lid);
}

}  // namespace twin

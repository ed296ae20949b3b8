#pragma once
/// @file puffs.hpp
/// plumetrace-twin's weather (a wind field varying in space and time, with calms and meander)
/// and its puff engine: every emitter releases elongated Gaussian puffs that are advected through
/// the wind at their own height, grow with the turbulence of the moment (atmosphere.hpp), rise
/// when hot, and are sampled by fixed stations (period means) and by a moving platform
/// (instantaneous samples).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "atmosphere.hpp"

namespace twin {

/// The wind and boundary layer of one incident. Hourly nodes of direction and speed (domain
/// centre, 10 m) blended with a smoothstep, three sinusoidal meanders whose amplitude grows as
/// the wind weakens, a slow speed wobble, linear gradients of direction and speed across the
/// domain, and a power-law speed profile with a stability-dependent exponent.
struct Weather {
  double t0_s = 0;                      // UTC of node 0; node k stands for t0 + 3600 k
  std::vector<double> dir_from_deg;     // hourly nodes
  std::vector<double> speed_m_s;        // hourly nodes (10 m)
  std::vector<double> cloud_okta;       // hourly nodes
  std::array<double, 3> meander_period_s{600, 1500, 3000}, meander_phase{0, 0, 0}, meander_amp_deg{4, 4, 4};
  double wobble_amp = 0.08, wobble_period_s = 1200, wobble_phase = 0;
  double grad_dir_x_deg = 0, grad_dir_y_deg = 0;  // direction change from the centre to the domain edge
  double grad_speed_x = 0, grad_speed_y = 0;      // relative speed change likewise
  double half_m = 7000;                           // half the domain side
  double z0_m = 0.2;                              // roughness length
  double temp_mean_c = 20, temp_amp_c = 4;
  double lon_deg = 120, lat_deg = 29;
  double mix_day_cap_m = 1800;                    // the convective boundary layer stops growing here
  // the boundary layer, tabulated each table_dt_s from table_t0_s
  std::vector<Surface> table;
  double table_t0_s = 0, table_dt_s = 60;

  /// Smoothstep blend of an hourly series at t (angles along the shorter arc).
  [[nodiscard]] double node_value(const std::vector<double>& v, double t, bool angle) const {
    const double h = std::clamp((t - t0_s) / 3600.0, 0.0, static_cast<double>(v.size()) - 1.000001);
    const auto k = static_cast<std::size_t>(h);
    const double f = h - static_cast<double>(k);
    const double w = f * f * (3 - 2 * f);
    const double step = angle ? std::remainder(v[k + 1] - v[k], 360.0) : v[k + 1] - v[k];
    return v[k] + w * step;
  }

  /// Local hour (decimal) at +08:00.
  [[nodiscard]] static double local_hour(double t) { return std::fmod(t / 3600.0 + 8.0 + 2400.0, 24.0); }

  [[nodiscard]] double temperature_c(double t) const {
    return temp_mean_c + temp_amp_c * std::cos(2 * kPi * (local_hour(t) - 14.5) / 24.0);
  }

  /// Direction the wind blows FROM at the domain centre (degrees), meander included.
  [[nodiscard]] double centre_dir_from(double t) const {
    const double u = node_value(speed_m_s, t, false);
    const double gain = std::clamp(2.0 / std::max(u, 0.3), 0.6, 6.0);
    double d = node_value(dir_from_deg, t, true);
    for (std::size_t i = 0; i < 3; ++i)
      d += gain * meander_amp_deg[i] * std::sin(2 * kPi * t / meander_period_s[i] + meander_phase[i]);
    return d;
  }

  [[nodiscard]] double centre_speed(double t) const {
    return node_value(speed_m_s, t, false) * (1 + wobble_amp * std::sin(2 * kPi * t / wobble_period_s + wobble_phase));
  }

  /// Power-law exponent of the speed profile for the stability of the moment (Irwin 1979 rural
  /// values, grouped by Obukhov length).
  [[nodiscard]] static double profile_exponent(const Surface& s) {
    if (s.obukhov_m < 0) return s.obukhov_m > -50 ? 0.07 : 0.12;
    if (s.obukhov_m < 50) return 0.45;
    if (s.obukhov_m < 300) return 0.3;
    return 0.16;
  }

  /// Wind vector (m/s, east and north components) at p, height z, time t, given the centre
  /// direction and speed of that moment (callers evaluate those once per step).
  [[nodiscard]] P2 wind(P2 p, double z_m, double dir_from_c, double speed_c, const Surface& s) const {
    const double rx = p.x / half_m, ry = p.y / half_m;
    const double dir = dir_from_c + grad_dir_x_deg * rx + grad_dir_y_deg * ry;
    double speed = speed_c * std::max(0.3, 1 + grad_speed_x * rx + grad_speed_y * ry);
    speed *= std::pow(std::clamp(z_m, 1.0, 300.0) / 10.0, profile_exponent(s));
    speed = std::max(speed, 0.2);
    const double to = (dir + 180.0) * kRad;
    return {speed * std::sin(to), speed * std::cos(to)};
  }

  /// Boundary layer at t (nearest tabulated instant).
  [[nodiscard]] const Surface& surface(double t) const {
    const double k = std::round((t - table_t0_s) / table_dt_s);
    const auto i = static_cast<std::size_t>(std::clamp(k, 0.0, static_cast<double>(table.size()) - 1));
    return table[i];
  }

  /// Tabulate the boundary layer over [from, to): fluxes from surface_fluxes(), mixing height the
  /// larger of the mechanical h = 2400 u*^1.5 (Venkatram 1980, BLM 19, 481) and the convective
  /// height grown by encroachment, d(h²)/dt = 2 (1 + 2A) H / (ρ cp γ) with A = 0.2 and
  /// γ = 0.005 K/m (Carson 1973, QJRMS 99, 450), reset at sunset; w* = (g H h / (ρ cp T))^(1/3).
  void tabulate(double from, double to) {
    table.clear();
    table_t0_s = from;
    double conv2 = 0;
    for (double t = from; t <= to + table_dt_s; t += table_dt_s) {
      Surface s;
      s.u10_m_s = centre_speed(t);
      s.cloud_okta = std::round(node_value(cloud_okta, t, false));
      s.temp_k = temperature_c(t) + 273.15;
      surface_fluxes(s, sun_height_sin(t, lon_deg, lat_deg), z0_m);
      const double mech = std::clamp(2400.0 * std::pow(s.u_star_m_s, 1.5), 30.0, 1500.0);
      if (s.heat_w_m2 > 0) {
        conv2 += 2.0 * 1.4 * s.heat_w_m2 / (kRhoCp_J_m3_K * 0.005) * table_dt_s;
        conv2 = std::min(conv2, mix_day_cap_m * mix_day_cap_m);
      } else {
        conv2 = 0;
      }
      s.mix_h_m = std::max(mech, std::sqrt(conv2));
      s.w_star_m_s = s.heat_w_m2 > 0 ? std::cbrt(kGravity_m_s2 * s.heat_w_m2 * s.mix_h_m / (kRhoCp_J_m3_K * s.temp_k)) : 0.0;
      table.push_back(s);
    }
  }
};

/// Something that emits: a facility, a culprit, an unregistered workshop or a field release.
struct Emitter {
  P2 p;
  double z_m = 10;              // release height before plume rise
  double sigma0_m = 5;          // initial size (the works' extent)
  double exit_velocity_m_s = 0, exit_temp_k = 0, diameter_m = 0;  // hot stacks only
  double permitted_g_s = 0;     // emitted always
  double release_g_s = 0;       // instead of it during [on, off), ramped over ramp_s
  double on_s = 0, off_s = 0, ramp_s = 600;
  double wobble = 0.2, wobble_period_s = 1800, wobble_phase = 0;  // relative fluctuation of the release
  int tag = -1;                 // culprit index (release mass is tracked separately), -1 otherwise
  bool fine = false;            // release puffs at the fine interval (culprits)
  bool release_only = false;    // puffs only while the rate exceeds the permitted one (detection runs)

  /// Emission rate (g/s) at t: the permitted rate (±10 % over 3 h), replaced by the release rate
  /// (with its own fluctuation) during the release window, with linear ramps at both ends.
  [[nodiscard]] double rate(double t) const {
    const double base = permitted_g_s * (1 + 0.1 * std::sin(2 * kPi * t / 10800.0 + wobble_phase));
    if (release_g_s <= 0 || t < on_s || t >= off_s) return base;
    const double ramp = std::clamp(std::min(t - on_s, off_s - t) / std::max(ramp_s, 1.0), 0.0, 1.0);
    const double rel = release_g_s * (1 + wobble * std::sin(2 * kPi * t / wobble_period_s + wobble_phase));
    return base + ramp * (rel - base);
  }
  /// Part of rate(t) above the permitted rate (g/s): the release proper.
  [[nodiscard]] double excess(double t) const {
    const double base = permitted_g_s * (1 + 0.1 * std::sin(2 * kPi * t / 10800.0 + wobble_phase));
    return std::max(0.0, rate(t) - base);
  }
};

/// A moving platform's sample: where and when the air was taken in.
struct Intake {
  double t_s = 0;
  P2 p;
};

struct Puff {
  P2 p, v;                 // centre (m) and velocity (m/s) at the end of the step
  double age_s = 0, travel_m = 0;
  double sy = 0, sz = 0;   // turbulent growth (m)
  double sy0 = 0, sz0 = 0; // initial size (m)
  double elong = 0;        // along-wind half-spacing spread (m): neighbouring puffs overlap
  double z_m = 0, fb = 0, u_rel = 1;  // release height, buoyancy flux, wind at release
  double mass_ug = 0, tagged_ug = 0;  // all mass, and the part that is a culprit's release
  int tag = -1;
  // derived each step for sampling
  double height = 0, sig_y = 0, sig_z = 0, sig_a = 0, cos_h = 1, sin_h = 0, reach = 0;
};

struct EngineConfig {
  double start_s = 0, end_s = 0;  // sampling span (UTC)
  double spinup_s = 7200;
  double dt_s = 60;               // advection step
  double fine_s = 10;             // release interval of fine emitters
  double coarse_s = 120;          // release interval of the others (a multiple of dt_s, or below it)
  double period_s = 3600;         // station averaging period
  double half_m = 8000;           // puffs leave beyond this (|x| or |y|)
  double station_z_default = 3;
  double platform_z_m = 2;
};

struct Samples {
  std::vector<std::vector<double>> station;                  // [station][period] µg/m³
  std::vector<std::vector<std::vector<double>>> station_tag;  // [tag][station][period]
  std::vector<double> platform;                               // [sample]
  std::vector<std::vector<double>> platform_tag;              // [tag][sample]
};

/// Concentration (µg/m³) of one puff at (x, y, z) under a lid: a Gaussian elongated along its
/// heading, times the vertical density.
inline double puff_at(const Puff& f, double dx, double dy, double z, double lid) {
  const double along = dx * f.cos_h + dy * f.sin_h, across = -dx * f.sin_h + dy * f.cos_h;
  const double q = along * along / (f.sig_a * f.sig_a) + across * across / (f.sig_y * f.sig_y);
  if (q > 25.0) return 0.0;
  return f.mass_ug / (2 * kPi * f.sig_a * f.sig_y) * std::exp(-0.5 * q) * vertical_density(z, f.height, f.sig_z, lid);
}

/// Run the puffs of `emitters` (ntag culprit tags) and sample stations (period means, one sample
/// per step) and platform intakes (sorted by time; puffs moved back along their velocity to the
/// intake instant). Pure computation.
Samples run_puffs(const std::vector<Emitter>& emitters, int ntag, const std::vector<P2>& stations,
                  const std::vector<double>& station_z, const std::vector<Intake>& intakes, const Weather& w,
                  const EngineConfig& cfg);

}  // namespace twin

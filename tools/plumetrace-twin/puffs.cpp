/// @file puffs.cpp
/// The puff engine of plumetrace-twin (see puffs.hpp).

#if defined(__GNUC__) && !defined(__clang__) && !defined(__OPTIMIZE__)
#pragma GCC optimize("O2")  // test data generator: fast even in a Debug build
#endif

#include "puffs.hpp"

#include <cstdint>

namespace twin {

namespace {

/// Fixed stations binned on a square grid over the puff box, so that a puff visits only the
/// cells it reaches.
class StationBins {
 public:
  StationBins(const std::vector<P2>& stations, double half_m, double cell_m)
      : half_(half_m), cell_(cell_m), n_(static_cast<int>(std::ceil(2 * half_m / cell_m)) + 1), count_(stations.size()) {
    bins_.resize(static_cast<std::size_t>(n_ * n_));
    for (std::size_t i = 0; i < stations.size(); ++i) bins_[index(cell(stations[i].x), cell(stations[i].y))].push_back(i);
  }
  template <class F>
  void visit(P2 c, double reach, F&& f) const {
    const int x0 = cell(c.x - reach), x1 = cell(c.x + reach), y0 = cell(c.y - reach), y1 = cell(c.y + reach);
    if (static_cast<std::size_t>((x1 - x0 + 1) * (y1 - y0 + 1)) > count_) {  // a wide puff: every station
      for (std::size_t i = 0; i < count_; ++i) f(i);
      return;
    }
    for (int gy = y0; gy <= y1; ++gy)
      for (int gx = x0; gx <= x1; ++gx)
        for (const std::size_t i : bins_[index(gx, gy)]) f(i);
  }

 private:
  [[nodiscard]] int cell(double v) const { return std::clamp(static_cast<int>(std::floor((v + half_) / cell_)), 0, n_ - 1); }
  [[nodiscard]] std::size_t index(int gx, int gy) const { return static_cast<std::size_t>(gy * n_ + gx); }
  double half_, cell_;
  int n_;
  std::size_t count_;
  std::vector<std::vector<std::size_t>> bins_;
};

/// Advance a puff by dt through the wind and the turbulence of the moment (midpoint rule), then
/// refresh what sampling needs.
void advance(Puff& f, double dt, const Weather& w, double dir_c, double speed_c, const Surface& s) {
  const P2 v1 = w.wind(f.p, f.height, dir_c, speed_c, s);
  const P2 mid{f.p.x + 0.5 * dt * v1.x, f.p.y + 0.5 * dt * v1.y};
  f.v = w.wind(mid, f.height, dir_c, speed_c, s);
  f.p = {f.p.x + dt * f.v.x, f.p.y + dt * f.v.y};
  double sv, sw;
  turbulence(s, std::max(2.0, f.height), sv, sw);
  f.sy = grow_sigma(std::max(f.sy, 1e-3), sv, lagrangian_scale_s(false, s), dt);
  f.sz = grow_sigma(std::max(f.sz, 1e-3), sw, lagrangian_scale_s(true, s), dt);
  f.age_s += dt;
  f.travel_m += std::hypot(f.v.x, f.v.y) * dt;
}

void refresh(Puff& f, const Surface& s) {
  const double rise = plume_rise_m(f.fb, f.u_rel, f.travel_m, s);
  f.height = f.z_m + rise;
  const double buoyant = rise / 3.5;  // buoyancy-induced spread (Pasquill 1976)
  f.sig_y = std::sqrt(f.sy * f.sy + f.sy0 * f.sy0 + buoyant * buoyant);
  f.sig_z = std::sqrt(f.sz * f.sz + f.sz0 * f.sz0 + buoyant * buoyant);
  f.sig_a = std::sqrt(f.sig_y * f.sig_y + f.elong * f.elong);
  const double speed = std::hypot(f.v.x, f.v.y);
  f.cos_h = speed > 1e-9 ? f.v.x / speed : 1.0;
  f.sin_h = speed > 1e-9 ? f.v.y / speed : 0.0;
  f.reach = 5.0 * f.sig_a;
}

}  // namespace

Samples run_puffs(const std::vector<Emitter>& emitters, int ntag, const std::vector<P2>& stations,
                  const std::vector<double>& station_z, const std::vector<Intake>& intakes, const Weather& w,
                  const EngineConfig& cfg) {
  const auto n_periods = static_cast<std::size_t>(std::llround((cfg.end_s - cfg.start_s) / cfg.period_s));
  Samples out;
  out.station.assign(stations.size(), std::vector<double>(n_periods, 0.0));
  out.station_tag.assign(static_cast<std::size_t>(ntag), out.station);
  out.platform.assign(intakes.size(), 0.0);
  out.platform_tag.assign(static_cast<std::size_t>(ntag), out.platform);
  std::vector<int> visits(n_periods, 0);
  const StationBins bins(stations, cfg.half_m, std::max(100.0, cfg.half_m / 12));
  std::vector<Puff> puffs;
  const double dt = cfg.dt_s;
  const auto n_steps = static_cast<std::int64_t>(std::llround((cfg.end_s - cfg.start_s + cfg.spinup_s) / dt));
  std::size_t next_intake = 0;
  for (std::int64_t step = 0; step < n_steps; ++step) {
    const double ta = cfg.start_s - cfg.spinup_s + static_cast<double>(step) * dt, tb = ta + dt;
    const double tm = ta + 0.5 * dt;
    const Surface& s = w.surface(tm);
    const double dir_c = w.centre_dir_from(tm), speed_c = w.centre_speed(tm);
    for (Puff& f : puffs) advance(f, dt, w, dir_c, speed_c, s);
    // releases: each puff is carried from its release instant to tb
    for (std::size_t e = 0; e < emitters.size(); ++e) {
      const Emitter& em = emitters[e];
      // background emitters release at a fixed spacing along the wind (coarse_s at 2 m/s), so
      // calm hours do not pile up puffs; each puff carries the mass of its interval
      const double every = em.fine ? cfg.fine_s : cfg.coarse_s * std::max(1.0, 2.0 / std::max(speed_c, 0.2));
      // the release instants t_k = k * every + phase that fall in [ta, tb); phase staggers emitters
      const double phase = em.fine ? 0.0 : std::fmod(static_cast<double>(e) * 37.0, every);
      const double k0 = std::ceil((ta - phase) / every);
      for (double k = k0;; k += 1) {
        const double t_rel = k * every + phase;
        if (t_rel >= tb) break;
        const double q = em.rate(t_rel);
        if (q <= 0 || (em.release_only && em.excess(t_rel) <= 0)) continue;
        const double age = tb - t_rel;
        Puff f;
        f.p = em.p;
        f.z_m = em.z_m;
        f.height = em.z_m;
        f.sy0 = em.sigma0_m;
        f.sz0 = 0.5 * em.sigma0_m;
        f.fb = buoyancy_flux(em.exit_velocity_m_s, em.exit_temp_k, em.diameter_m, s.temp_k);
        const P2 v0 = w.wind(em.p, em.z_m, dir_c, speed_c, s);
        f.u_rel = std::hypot(v0.x, v0.y);
        f.elong = 0.5 * f.u_rel * every;
        f.mass_ug = q * every * 1e6;
        f.tag = em.tag;
        f.tagged_ug = em.tag >= 0 ? em.excess(t_rel) * every * 1e6 : 0.0;
        f.v = v0;
        if (age > 0) advance(f, age, w, dir_c, speed_c, s);
        puffs.push_back(f);
      }
    }
    std::erase_if(puffs, [&](const Puff& f) {
      return std::abs(f.p.x) > cfg.half_m || std::abs(f.p.y) > cfg.half_m || f.age_s > 6 * 3600.0;
    });
    for (Puff& f : puffs) refresh(f, s);
    const double lid = s.mix_h_m;
    // stations: the state at tb stands for the step
    const double t_sample = tb - 0.5 * dt;
    if (t_sample >= cfg.start_s && t_sample < cfg.end_s) {
      const auto period = static_cast<std::size_t>((t_sample - cfg.start_s) / cfg.period_s);
      if (period < n_periods) {
        ++visits[period];
        for (const Puff& f : puffs) {
          bins.visit(f.p, f.reach, [&](std::size_t i) {
            const double c = puff_at(f, stations[i].x - f.p.x, stations[i].y - f.p.y, station_z[i], lid);
            if (c <= 0) return;
            out.station[i][period] += c;
            if (f.tag >= 0 && f.tagged_ug > 0)
              out.station_tag[static_cast<std::size_t>(f.tag)][i][period] += c * f.tagged_ug / f.mass_ug;
          });
        }
      }
    }
    // platform intakes in [ta, tb): their bounding box first, then each intake
    std::size_t first = next_intake;
    while (next_intake < intakes.size() && intakes[next_intake].t_s < tb) ++next_intake;
    if (next_intake > first) {
      while (first < next_intake && intakes[first].t_s < ta) ++first;
      P2 lo{1e300, 1e300}, hi{-1e300, -1e300};
      for (std::size_t i = first; i < next_intake; ++i) {
        lo = {std::min(lo.x, intakes[i].p.x), std::min(lo.y, intakes[i].p.y)};
        hi = {std::max(hi.x, intakes[i].p.x), std::max(hi.y, intakes[i].p.y)};
      }
      for (const Puff& f : puffs) {
        const double r = f.reach + std::hypot(f.v.x, f.v.y) * dt;
        if (f.p.x + r < lo.x || f.p.x - r > hi.x || f.p.y + r < lo.y || f.p.y - r > hi.y) continue;
        for (std::size_t i = first; i < next_intake; ++i) {
          const double back = tb - intakes[i].t_s;
          const double c = puff_at(f, intakes[i].p.x - (f.p.x - f.v.x * back), intakes[i].p.y - (f.p.y - f.v.y * back),
                                   cfg.platform_z_m, lid);
          if (c <= 0) continue;
          out.platform[i] += c;
          if (f.tag >= 0 && f.tagged_ug > 0) out.platform_tag[static_cast<std::size_t>(f.tag)][i] += c * f.tagged_ug / f.mass_ug;
        }
      }
    }
  }
  for (std::size_t p = 0; p < n_periods; ++p) {
    const double n = std::max(1, visits[p]);
    for (auto& series : out.station) series[p] /= n;
    for (auto& per_tag : out.station_tag)
      for (auto& series : per_tag) series[p] /= n;
  }
  return out;
}

}  // namespace twin

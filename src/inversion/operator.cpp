#include "plumetrace/inversion/operator.hpp"

#include <algorithm>
#include <numeric>
#include <cassert>
#include <cmath>
#include <limits>
#include <numbers>

#include "plumetrace/core/error.hpp"
#include "plumetrace/kernels/plume.hpp"

namespace plumetrace {
namespace {

constexpr double kDegToRad = std::numbers::pi / 180.0;

/// Douglas–Peucker: indices of the points kept so that no dropped point is farther than
/// max(tol_m, 2 % of its path length) from the simplified polyline.
void simplify(const std::vector<TrajectoryPoint>& pts, std::size_t a, std::size_t b, double tol_m,
              std::vector<char>& keep) {
  if (b <= a + 1) return;
  const double ax = pts[a].x_m, ay = pts[a].y_m;
  const double dx = pts[b].x_m - ax, dy = pts[b].y_m - ay;
  const double len = std::hypot(dx, dy);
  double worst = -1;
  std::size_t at = a;
  for (std::size_t i = a + 1; i < b; ++i) {
    const double px = pts[i].x_m - ax, py = pts[i].y_m - ay;
    const double d = len > 0 ? std::abs(px * dy - py * dx) / len : std::hypot(px, py);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  // tolerance grows with distance from the receptor (2 % of the path length): plumes widen
  if (worst > std::max(tol_m, 0.02 * pts[at].path_m)) {
    keep[at] = 1;
    simplify(pts, a, at, tol_m, keep);
    simplify(pts, at, b, tol_m, keep);
  }
}

double normal_cdf(double z) noexcept { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

/// Local maxima of the plume along a path below this fraction of its largest are dropped: they
/// change no likelihood term (the plume is far below the noise where the largest one matters).
constexpr double kMinPassFractionOfPeak = 1e-3;

constexpr double kEdgeSigmas = kReleaseEdgeSigmas;

/// Along-wind smoothing of the release time of air that travelled tau_s (s): 10 % of the travel
/// time, at least a minute (along-wind dispersion spreads one instant's release over arrival times).
double release_edge_s(double tau_s) noexcept { return std::max(60.0, 0.1 * tau_s); }

}  // namespace

std::vector<double> default_rotations_deg() {
  std::vector<double> r;
  const int n = static_cast<int>(std::lround(tuning::kRotationMaxDeg / tuning::kRotationStepDeg));
  for (int k = -n; k <= n; ++k) r.push_back(k * tuning::kRotationStepDeg);
  return r;
}

SourceReceptorOperator::SourceReceptorOperator(const WindField& wind, const ObservationSet& obs,
                                               const Grid& grid, const OperatorOptions& options)
    : wind_(&wind), obs_(&obs), opt_(options) {
  if (!(opt_.emit_end > opt_.emit_start)) throw InvalidInput("emission window is empty (end <= start)");
  if (opt_.rotations_deg.empty()) opt_.rotations_deg = {0.0};
  if (opt_.stability_shifts.empty()) opt_.stability_shifts = {0};
  if (opt_.stability_weights.size() != opt_.stability_shifts.size())
    opt_.stability_weights.assign(opt_.stability_shifts.size(), 1.0);
  double wsum = 0;
  for (std::size_t si = 0; si < opt_.stability_shifts.size(); ++si) {
    for (double r : opt_.rotations_deg) {
      const double w = (opt_.rotation_sigma_deg > 0
                            ? std::exp(-0.5 * (r / opt_.rotation_sigma_deg) * (r / opt_.rotation_sigma_deg))
                            : (r == 0 ? 1.0 : 0.0)) *
                       opt_.stability_weights[si];
      member_weight_.push_back(w);
      wsum += w;
      cos_k_.push_back(std::cos(-r * kDegToRad));
      sin_k_.push_back(std::sin(-r * kDegToRad));
      shift_k_.push_back(opt_.stability_shifts[si]);
    }
  }
  for (double& w : member_weight_) w /= wsum;

  const double diag = std::hypot(grid.cols * grid.cell_m, grid.rows * grid.cell_m);
  const double max_range = opt_.max_range_m > 0 ? opt_.max_range_m : 1.5 * diag;
  // no trajectory needs to run longer than the slowest plausible crossing of its range
  const double mean_speed = std::max(wind.mean_speed_m_s(), kMinWindSpeed);
  const double max_duration_s = std::max(3600.0, 3.0 * max_range / mean_speed);
  // step: about half a cell at the mean speed, within [1 s, 120 s]
  const double dt_s = std::clamp(0.5 * grid.cell_m / mean_speed, 1.0, 120.0);
  const double tol_m = std::max(0.05 * grid.cell_m, 0.5);
  const double edge_s = release_edge_s(opt_.max_back_s);

  receptors_.reserve(obs.obs.size());
  for (std::size_t i = 0; i < obs.obs.size(); ++i) {
    const Observation& ob = obs.obs[i];
    Receptor rec;
    rec.obs = static_cast<std::uint32_t>(i);
    // sub-samples: over time for a fixed receptor's averaging period; over time AND along the
    // segment for a mobile segment (one per half cell of its length); over time and along the
    // beam for an open path: n points evenly spaced along it (half a cell apart, 2 to
    // kMaxPathSamples) visited in the order m·k mod n (k ≈ 0.618 n, coprime to n) while the
    // times step evenly through the period, so that place and time are not tied together
    const double seg_len = std::hypot(ob.x1_m - ob.x0_m, ob.y1_m - ob.y0_m);
    const bool mobile = ob.kind == ObservationKind::Mobile, beam = ob.kind == ObservationKind::Path;
    const int n_time = std::clamp(static_cast<int>(std::ceil(ob.averaging_s / opt_.sub_sample_s)), 1, 12);
    const int n_sub =
        mobile ? std::clamp(static_cast<int>(std::ceil(seg_len / (0.5 * grid.cell_m))), 1, 8)
        : beam ? std::max(n_time, std::clamp(static_cast<int>(std::ceil(seg_len / (0.5 * grid.cell_m))), 2,
                                             tuning::kMaxPathSamples))
               : n_time;
    int stride = std::max(1, static_cast<int>(std::lround(0.618 * n_sub)));
    while (std::gcd(stride, n_sub) != 1) ++stride;
    // direction spread inside a member: none for samples up to 10 min (the plume seen is the
    // instantaneous/short-term one, its direction is the member's), full for hourly means
    // (meander within the hour that the hourly vector-mean wind does not show)
    const double ramp = std::clamp(std::log(std::max(ob.averaging_s, 1.0) / 600.0) / std::log(6.0), 0.0, 1.0);
    const double sigma_dir_deg = std::max(opt_.min_within_member_deg, opt_.within_member_deg * ramp);
    const double sigma_dir_rad = sigma_dir_deg * kDegToRad;
    for (int m = 0; m < n_sub; ++m) {
      const double frac = n_sub > 1 ? static_cast<double>(m) / (n_sub - 1) : 0.5;
      const EpochSeconds t0 = mobile ? ob.t_start + frac * ob.averaging_s : ob.t_start + (m + 0.5) * ob.averaging_s / n_sub;
      // where along the segment (mobile: its ends included) or the beam (cell midpoints)
      const double along = mobile ? frac : (static_cast<double>((m * stride) % n_sub) + 0.5) / n_sub;
      Path p;
      p.rx = (mobile && n_sub > 1) || beam ? ob.x0_m + along * (ob.x1_m - ob.x0_m) : ob.x_m;
      p.ry = (mobile && n_sub > 1) || beam ? ob.y0_m + along * (ob.y1_m - ob.y0_m) : ob.y_m;
      p.sigma_dir_rad = sigma_dir_rad;
      const double back = std::min({opt_.max_back_s, t0 - opt_.emit_start + edge_s, max_duration_s});
      if (back > 0) {
        auto pts = trajectory(wind, p.rx, p.ry, t0, -back, dt_s, 0.5 * grid.cell_m);
        // truncate beyond the useful range
        std::size_t n = pts.size();
        for (std::size_t k = 0; k < pts.size(); ++k)
          if (pts[k].path_m > max_range) {
            n = k + 1;
            break;
          }
        pts.resize(n);
        if (pts.size() >= 2) {
          std::vector<char> keep(pts.size(), 0);
          keep.front() = keep.back() = 1;
          simplify(pts, 0, pts.size() - 1, tol_m, keep);
          double scale_period_s = -1, sigma_theta_scale = 1;  // σθ's averaging-time scale, per period
          for (std::size_t k = 0; k < pts.size(); ++k) {
            if (!keep[k]) continue;
            p.x.push_back(pts[k].x_m);
            p.y.push_back(pts[k].y_m);
            p.t.push_back(pts[k].t);
            p.s.push_back(pts[k].path_m);
            const MetSample met = wind.at(pts[k].x_m, pts[k].y_m, pts[k].t);
            p.stability.push_back(static_cast<std::uint8_t>(met.stability));
            p.mixing_height_m.push_back(static_cast<float>(met.mixing_height_m));
            // a measured σθ is the spread of the directions over its period: a shorter sample
            // sees less of it (the averaging-time power law; tuning::kAveragingTimeExponent)
            double sigma_theta_deg = met.sigma_theta_deg;  // NaN when unmeasured
            if (sigma_theta_deg > 0) {
              if (met.sigma_theta_period_s != scale_period_s) {  // the same period along a path, as a rule
                scale_period_s = met.sigma_theta_period_s;
                const double period_s = std::max(scale_period_s, tuning::kPowerLawMinAveragingS);
                sigma_theta_scale = std::pow(
                    std::clamp(ob.averaging_s, tuning::kPowerLawMinAveragingS, period_s) / period_s,
                    tuning::kAveragingTimeExponent);
              }
              sigma_theta_deg *= sigma_theta_scale;
            }
            p.sigma_theta_deg.push_back(static_cast<float>(sigma_theta_deg));
          }
          p.reach_m = pts.back().path_m;
        }
      }
      if (p.x.empty()) {  // no emission can reach this sub-sample: keep t0 for bookkeeping
        p.t.push_back(t0);
      }
      rec.paths.push_back(std::move(p));
    }
    receptors_.push_back(std::move(rec));
  }
}

std::size_t SourceReceptorOperator::trajectory_points() const noexcept {
  std::size_t n = 0;
  for (const auto& r : receptors_)
    for (const auto& p : r.paths) n += p.x.size();
  return n;
}

void SourceReceptorOperator::contribution(const Path& p, double sx, double sy, double h_m,
                                          const StackParams* stack, double z_m, std::vector<TimedPlume>& seg,
                                          std::vector<Pass>& passes) const {
  const std::size_t ns = opt_.stability_shifts.size();
  passes.clear();
  const std::size_t n = p.x.size();
  if (n < 2) return;
  // quick reject: the source is farther than the trajectory ever went
  const double rdx = sx - p.rx, rdy = sy - p.ry;
  if (rdx * rdx + rdy * rdy > (p.reach_m + 100.0) * (p.reach_m + 100.0)) return;
  seg.assign((n - 1) * ns, TimedPlume{});
  bool any = false;  // some segment has a plume: else there are no passes
  const double t0 = p.t[0];
  const double sdir = p.sigma_dir_rad;
  bool after_far_end = false;  // the previous segment's foot point lay beyond its far end
  for (std::size_t k = 0; k + 1 < n; ++k) {
    const double ax = p.x[k], ay = p.y[k];
    const double dx = p.x[k + 1] - ax, dy = p.y[k + 1] - ay;
    const double l2 = dx * dx + dy * dy;
    if (l2 <= 0) continue;
    double f = ((sx - ax) * dx + (sy - ay) * dy) / l2;
    const bool was_after = after_far_end;
    after_far_end = f > 1;
    if (f > 1) continue;
    if (f < 0) {
      // the source is downwind of the receptor (k == 0), or its foot lay on an earlier segment;
      // only the outside corner of a bend (foot beyond the previous segment, before this one)
      // is nearest to the vertex itself
      if (k == 0 || !was_after) continue;
      f = 0;
    }
    const double cx = ax + f * dx, cy = ay + f * dy;
    const double y2 = (sx - cx) * (sx - cx) + (sy - cy) * (sy - cy);
    const double x = p.s[k] + f * std::sqrt(l2);
    if (x < 1.0) continue;
    const double reject = 0.9 * x + 30.0;  // far outside any plume width (σy < 0.3 x)
    if (y2 > reject * reject) continue;
    const double ycross = std::sqrt(y2);
    const double t_rel = p.t[k] + f * (p.t[k + 1] - p.t[k]);
    // the air passed the source before the trajectories begin: outside every release window
    const double tau = std::max(t0 - t_rel, 1.0);
    const double edge_s = release_edge_s(tau);
    if (t_rel < opt_.emit_start - kEdgeSigmas * edge_s || t_rel > opt_.emit_end + kEdgeSigmas * edge_s) continue;
    const double u = std::max(x / tau, kMinWindSpeed);
    for (std::size_t si = 0; si < ns; ++si) {
      const Stability stab =
          static_cast<Stability>(std::clamp(p.stability[k] + opt_.stability_shifts[si], 0, 5));
      Sigmas sg = dispersion_sigmas(opt_.scheme, stab, x);
      if (p.sigma_theta_deg[k] > 0) sg.y_m = sigma_y_from_sigma_theta(p.sigma_theta_deg[k], x, u);
      const double sy_eff = std::sqrt(sg.y_m * sg.y_m + (x * sdir) * (x * sdir));
      if (ycross > 6.0 * sy_eff) continue;
      const double h_eff = stack != nullptr ? effective_height_m(*stack, u, stab, x) : h_m;
      const double c = gaussian_plume_g_m3(1.0, u, x, ycross, z_m, h_eff, sy_eff, sg.z_m, p.mixing_height_m[k]);
      seg[k * ns + si] = {c, t_rel, edge_s};
      any = true;
    }
  }
  if (!any) return;
  // one pass of the air over the source = one local maximum of the plume along the path (a
  // meandering trajectory can pass a source twice, at different release times)
  for (std::size_t si = 0; si < ns; ++si) {
    double peak = 0;
    for (std::size_t k = 0; k + 1 < n; ++k) peak = std::max(peak, seg[k * ns + si].h_s_m3);
    if (!(peak > 0)) continue;
    for (std::size_t k = 0; k + 1 < n; ++k) {
      const double c = seg[k * ns + si].h_s_m3;
      if (c < kMinPassFractionOfPeak * peak) continue;
      const double before = k > 0 ? seg[(k - 1) * ns + si].h_s_m3 : 0.0;
      const double after = k + 2 < n ? seg[(k + 1) * ns + si].h_s_m3 : 0.0;
      if (c >= before && c > after) passes.push_back({si, seg[k * ns + si]});
    }
  }
}

double release_weight(double t_release, double edge_s, EpochSeconds window_start, EpochSeconds window_end) noexcept {
  assert(edge_s > 0);
  const double z0 = (t_release - window_start) / edge_s, z1 = (t_release - window_end) / edge_s;
  if (z0 < -kEdgeSigmas || z1 > kEdgeSigmas) return 0.0;
  if (z0 > kEdgeSigmas && z1 < -kEdgeSigmas) return 1.0;
  return std::max(normal_cdf(z0) - normal_cdf(z1), 0.0);
}

void release_weights(double t_release, double edge_s, const EpochSeconds* starts, std::size_t b0, std::size_t b1,
                     double* w) noexcept {
  assert(edge_s > 0);
  // the CDF at boundary b, computed at most once: z of a block's end is z of the next one's start
  double cdf_prev = std::numeric_limits<double>::quiet_NaN();
  std::size_t cdf_prev_at = b1 + 1;  // the boundary index cdf_prev belongs to (none yet)
  for (std::size_t b = b0; b < b1; ++b) {
    const double z0 = (t_release - starts[b]) / edge_s, z1 = (t_release - starts[b + 1]) / edge_s;
    if (z0 < -kEdgeSigmas || z1 > kEdgeSigmas) {
      w[b - b0] = 0.0;
    } else if (z0 > kEdgeSigmas && z1 < -kEdgeSigmas) {
      w[b - b0] = 1.0;
    } else {
      const double c0 = cdf_prev_at == b ? cdf_prev : normal_cdf(z0);
      const double c1 = normal_cdf(z1);
      w[b - b0] = std::max(c0 - c1, 0.0);
      cdf_prev = c1;
      cdf_prev_at = b + 1;
    }
  }
}

void SourceReceptorOperator::timed_columns(double x_m, double y_m, double h_m, TimedColumns& out,
                                           const StackParams* stack) const {
  const std::size_t nk = member_weight_.size();
  out.member.resize(nk);
  for (auto& m : out.member) m.clear();
  const std::size_t ns = opt_.stability_shifts.size();
  const std::size_t nr = nk / ns;  // members: k = shift index · nr + rotation index
  std::vector<TimedPlume> seg;
  std::vector<Pass> passes;
  for (const Receptor& rec : receptors_) {
    const Observation& ob = obs_->obs[rec.obs];
    const double dx0 = x_m - ob.x_m, dy0 = y_m - ob.y_m;
    const double per_path = 1.0 / static_cast<double>(rec.paths.size());
    for (std::size_t r = 0; r < nr; ++r) {
      // rotating the flow by +δ about the receptor == rotating the source by −δ
      const double sx = ob.x_m + cos_k_[r] * dx0 - sin_k_[r] * dy0;
      const double sy = ob.y_m + sin_k_[r] * dx0 + cos_k_[r] * dy0;
      for (std::size_t pi = 0; pi < rec.paths.size(); ++pi) {
        contribution(rec.paths[pi], sx, sy, h_m, stack, ob.z_m, seg, passes);
        for (const Pass& ps : passes) {
          TimedColumns::Member& m = out.member[ps.shift * nr + r];
          m.index.push_back(rec.obs);
          m.path.push_back(static_cast<std::uint16_t>(pi));
          m.h_s_m3.push_back(static_cast<float>(ps.plume.h_s_m3 * per_path));
          m.t_release.push_back(ps.plume.t_release);
          m.edge_s.push_back(static_cast<float>(ps.plume.edge_s));
        }
      }
    }
  }
}

void window_columns(const TimedColumns& timed, EpochSeconds window_start, EpochSeconds window_end,
                    std::vector<SparseColumn>& out) {
  assert(window_start < window_end);
  out.resize(timed.member.size());
  for (std::size_t k = 0; k < timed.member.size(); ++k) {
    const TimedColumns::Member& m = timed.member[k];
    SparseColumn& col = out[k];
    col.index.clear();
    col.h_s_m3.clear();
    double sum = 0, path_max = 0;
    for (std::size_t e = 0; e < m.index.size(); ++e) {
      // a path's passes: the largest windowed one (as the nearest segment is for one pass)
      path_max = std::max(path_max, m.h_s_m3[e] * release_weight(m.t_release[e], m.edge_s[e], window_start, window_end));
      const bool last_of_obs = e + 1 == m.index.size() || m.index[e + 1] != m.index[e];
      if (last_of_obs || m.path[e + 1] != m.path[e]) {
        sum += path_max;
        path_max = 0;
      }
      if (last_of_obs) {
        if (sum > 0) {
          col.index.push_back(m.index[e]);
          col.h_s_m3.push_back(static_cast<float>(sum));
        }
        sum = 0;
      }
    }
  }
}

void SourceReceptorOperator::columns(double x_m, double y_m, double h_m, std::vector<SparseColumn>& out,
                                     const StackParams* stack) const {
  columns_in_window(x_m, y_m, h_m, opt_.emit_start, opt_.emit_end, out, stack);
}

void SourceReceptorOperator::columns_in_window(double x_m, double y_m, double h_m, EpochSeconds emit_start,
                                               EpochSeconds emit_end, std::vector<SparseColumn>& out,
                                               const StackParams* stack) const {
  assert(emit_start < emit_end);
  TimedColumns timed;
  timed_columns(x_m, y_m, h_m, timed, stack);
  window_columns(timed, emit_start, emit_end, out);
}

}  // namespace plumetrace

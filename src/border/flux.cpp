/// Border flux (border/flux.hpp).

#include "plumetrace/border/flux.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace plumetrace {

std::vector<BorderSegment> project_border(const std::vector<BorderPiece>& pieces, const Transformer& tr) {
  std::vector<BorderSegment> out;
  out.reserve(pieces.size());
  for (const BorderPiece& p : pieces) {
    BorderSegment s;
    tr.forward(p.lon0, p.lat0, s.x0_m, s.y0_m);
    tr.forward(p.lon1, p.lat1, s.x1_m, s.y1_m);
    if (std::isfinite(s.x0_m + s.y0_m + s.x1_m + s.y1_m)) out.push_back(s);
  }
  return out;
}

BorderFluxResult integrate_border_flux(const std::vector<BorderSegment>& border, const WindField& wind,
                                       const ConcentrationField& field, EpochSeconds t0, EpochSeconds t1,
                                       double to_case_units) {
  BorderFluxResult r;
  for (const BorderSegment& s : border) r.border_length_m += std::hypot(s.x1_m - s.x0_m, s.y1_m - s.y0_m);
  if (!(t1 > t0) || border.empty()) return r;
  const int steps = std::max(1, static_cast<int>(std::ceil((t1 - t0) / kBorderFluxStepS - 1e-9)));
  const double dt = (t1 - t0) / steps;
  const double kg_per_case_unit_m3 = 1.0 / (to_case_units * 1000.0);  // case units -> kg/m³
  double h_sum = 0;
  long h_n = 0;
  r.steps = steps;
  for (int k = 0; k < steps; ++k) {
    const EpochSeconds t = t0 + (k + 0.5) * dt;
    bool any = false;
    for (const BorderSegment& s : border) {
      const double mx = 0.5 * (s.x0_m + s.x1_m), my = 0.5 * (s.y0_m + s.y1_m);
      double excess = 0, total = 0;
      if (!field(mx, my, t, excess, total)) continue;
      any = true;
      const MetSample m = wind.at(mx, my, t);
      // right-hand normal of the piece (A on the left) times its length: (dy, -dx)
      const double un_l = m.u_m_s * (s.y1_m - s.y0_m) - m.v_m_s * (s.x1_m - s.x0_m);  // m²/s
      const double column = un_l * m.mixing_height_m * dt * kg_per_case_unit_m3;      // kg per case unit
      h_sum += m.mixing_height_m;
      ++h_n;
      if (column > 0) {
        r.a_to_b_kg += total * column;
        r.a_to_b_excess_kg += excess * column;
      } else {
        r.b_to_a_kg -= total * column;
        r.b_to_a_excess_kg -= excess * column;
      }
    }
    if (any) ++r.steps_with_data;
  }
  r.mean_mixing_height_m = h_n > 0 ? h_sum / static_cast<double>(h_n) : 0.0;
  return r;
}

BorderFluxResult border_flux_between(const JurisdictionIndex& index, int a, int b, const Transformer& tr,
                                     const WindField& wind, const ObservationSet& obs, EpochSeconds t0, EpochSeconds t1,
                                     double to_case_units) {
  const ObservedConcentration field(obs, kBorderFluxBinS, kBorderFluxRangeM);
  return integrate_border_flux(project_border(index.shared_border(a, b, kBorderPieceM), tr), wind, std::cref(field), t0,
                               t1, to_case_units);
}

ObservedConcentration::ObservedConcentration(const ObservationSet& obs, double bin_s, double range_m)
    : bin_s_(bin_s > 0 ? bin_s : 3600.0), range2_(range_m > 0 ? range_m * range_m : 0.0) {
  if (obs.obs.empty()) return;
  origin_ = obs.obs.front().t_start;
  EpochSeconds last = origin_;
  for (const Observation& o : obs.obs) {
    origin_ = std::min(origin_, o.t_start);
    last = std::max(last, o.t_start + o.averaging_s);
  }
  bins_.resize(static_cast<std::size_t>(std::floor((last - origin_) / bin_s_)) + 1);
  for (const Observation& o : obs.obs) {
    const Platform& p = obs.platforms[static_cast<std::size_t>(o.platform)];
    // every bin the averaging period overlaps (an instant sample: its own bin)
    const auto b0 = static_cast<std::size_t>(std::floor((o.t_start - origin_) / bin_s_));
    auto b1 = static_cast<std::size_t>(std::ceil((o.t_start + o.averaging_s - origin_) / bin_s_)) ;
    b1 = std::clamp(b1, b0 + 1, bins_.size());
    for (std::size_t b = b0; b < b1; ++b) bins_[b].push_back({o.x_m, o.y_m, o.value - p.background, p.background});
  }
}

bool ObservedConcentration::operator()(double x_m, double y_m, EpochSeconds t, double& excess, double& total) const {
  if (bins_.empty()) return false;
  const double f = std::floor((t - origin_) / bin_s_);
  if (f < -1 || f > static_cast<double>(bins_.size())) return false;
  const std::vector<Point>* pts = nullptr;
  const auto k = static_cast<long>(f);
  for (const long d : {0L, -1L, 1L}) {  // this bin, else a neighbour
    const long b = k + d;
    if (b >= 0 && b < static_cast<long>(bins_.size()) && !bins_[static_cast<std::size_t>(b)].empty()) {
      pts = &bins_[static_cast<std::size_t>(b)];
      break;
    }
  }
  if (pts == nullptr) return false;
  double w_sum = 0, e_sum = 0, b_sum = 0;
  for (const Point& p : *pts) {
    const double d2 = (p.x - x_m) * (p.x - x_m) + (p.y - y_m) * (p.y - y_m);
    if (d2 < 1e-6) {  // on a receptor
      excess = p.excess;
      total = p.excess + p.background;
      return true;
    }
    const double w = 1.0 / d2;
    w_sum += w;
    e_sum += w * p.excess;
    b_sum += w * p.background;
  }
  const double background = b_sum / w_sum;
  excess = e_sum / (w_sum + (range2_ > 0 ? 1.0 / range2_ : 0.0));
  total = background + excess;
  return true;
}

}  // namespace plumetrace

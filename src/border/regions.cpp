/// Long-term source regions: PSCF, CWT and the contribution map (border/regions.hpp).

#include "plumetrace/border/regions.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

#include "plumetrace/core/parallel.hpp"
#include "plumetrace/kernels/trajectory.hpp"

namespace plumetrace {
namespace {

/// The cells one trajectory visited: (cell, seconds there), one entry per cell, by cell index.
using Visits = std::vector<std::pair<std::uint32_t, double>>;

/// Residence time per cell of the back-trajectory from `s`: each step's duration goes to the cell
/// of its midpoint; the trajectory stops where it leaves the grid.
Visits trajectory_visits(const WindField& wind, const Grid& grid, const RegionsSample& s,
                         const RegionsOptions& options) {
  Visits visits;
  if (!grid.contains(s.x_m, s.y_m)) return visits;
  const auto path = trajectory_on_grid(wind, grid, s.x_m, s.y_m, s.arrival, -options.max_back_s, options.step_s,
                                       0.5 * grid.cell_m);
  visits.reserve(path.size());
  for (std::size_t k = 1; k < path.size(); ++k) {
    const double xm = 0.5 * (path[k - 1].x_m + path[k].x_m), ym = 0.5 * (path[k - 1].y_m + path[k].y_m);
    if (!grid.contains(xm, ym)) break;
    const auto cell = static_cast<std::uint32_t>(static_cast<std::size_t>(grid.row_of(ym)) * grid.cols + grid.col_of(xm));
    const double dt = std::abs(path[k].t - path[k - 1].t);
    if (!visits.empty() && visits.back().first == cell)
      visits.back().second += dt;
    else
      visits.emplace_back(cell, dt);
  }
  // one entry per cell (a trajectory may come back to a cell it left)
  std::sort(visits.begin(), visits.end());
  std::size_t w = 0;
  for (std::size_t i = 0; i < visits.size(); ++i) {
    if (w > 0 && visits[w - 1].first == visits[i].first)
      visits[w - 1].second += visits[i].second;
    else
      visits[w++] = visits[i];
  }
  visits.resize(w);
  return visits;
}

}  // namespace

double quantile_type7(std::vector<double>& values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double h = (static_cast<double>(values.size()) - 1.0) * std::clamp(q, 0.0, 1.0);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

double pscf_weight(double count, double mean_count) noexcept {
  assert(mean_count > 0);
  if (count > 2 * mean_count) return 1.0;
  if (count > mean_count) return kPscfWeightMid;
  if (count > 0.5 * mean_count) return kPscfWeightLow;
  return kPscfWeightLowest;
}

double cwt_weight(double count) noexcept {
  if (count > kCwtCountHigh) return 1.0;
  if (count > kCwtCountMid) return kCwtWeightMid;
  if (count > kCwtCountLow) return kCwtWeightLow;
  return kCwtWeightLowest;
}

RegionsFields source_regions(const WindField& wind, const Grid& grid, const std::vector<RegionsSample>& samples,
                             const std::vector<RegionsStation>& stations, const RegionsOptions& options) {
  assert(options.step_s > 0 && options.max_back_s > 0);
  // trajectories in parallel, each into its own list; summed below in sample order, so the
  // result does not depend on the number of threads
  std::vector<Visits> visits(samples.size());
  parallel_for(samples.size(), worker_threads(options.threads),
               [&](std::size_t i) { visits[i] = trajectory_visits(wind, grid, samples[i], options); });

  const std::size_t n = grid.size();
  RegionsFields f;
  f.trajectories = samples.size();
  f.count.assign(n, 0);
  f.residence_s.assign(n, 0.0);
  f.contribution.assign(n, 0.0);
  std::vector<double> high_s(n, 0.0), weighted_sum(n, 0.0);
  double time_on_grid_sum = 0;
  std::size_t with_time = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const RegionsSample& s = samples[i];
    assert(s.station < stations.size());
    const RegionsStation& st = stations[s.station];
    double on_grid = 0;
    for (const auto& [cell, dt] : visits[i]) on_grid += dt;
    if (!(on_grid > 0)) continue;
    time_on_grid_sum += on_grid;
    ++with_time;
    const bool high = s.value > st.threshold;
    const double anomaly = s.value - st.mean;
    for (const auto& [cell, dt] : visits[i]) {
      ++f.count[cell];
      f.residence_s[cell] += dt;
      weighted_sum[cell] += s.value * dt;
      if (high) high_s[cell] += dt;
      f.contribution[cell] += anomaly * dt;
    }
    f.steps += visits[i].size();
  }
  f.mean_time_on_grid_s = with_time ? time_on_grid_sum / static_cast<double>(with_time) : 0.0;

  double count_sum = 0;
  std::size_t reached = 0;
  for (std::size_t c = 0; c < n; ++c)
    if (f.count[c] > 0) {
      count_sum += f.count[c];
      ++reached;
    }
  const double mean_count = reached ? count_sum / static_cast<double>(reached) : 0.0;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  f.pscf.assign(n, nan);
  f.cwt.assign(n, nan);
  f.pscf_unweighted.assign(n, nan);
  f.cwt_unweighted.assign(n, nan);
  for (std::size_t c = 0; c < n; ++c) {
    f.contribution[c] = std::max(f.contribution[c], 0.0);
    if (f.count[c] == 0 || !(f.residence_s[c] > 0)) continue;
    const double pscf = high_s[c] / f.residence_s[c];
    const double cwt = weighted_sum[c] / f.residence_s[c];
    f.pscf_unweighted[c] = static_cast<float>(pscf);
    f.cwt_unweighted[c] = static_cast<float>(cwt);
    f.pscf[c] = static_cast<float>(pscf * pscf_weight(f.count[c], mean_count));
    f.cwt[c] = static_cast<float>(cwt * cwt_weight(f.count[c]));
  }
  return f;
}

RegionsByArea regions_by_area(const JurisdictionIndex& index, const Grid& grid, const Transformer& tr,
                              const std::vector<double>& contribution) {
  assert(contribution.size() == grid.size());
  RegionsByArea out;
  std::vector<double> sum(index.areas().size(), 0.0);
  std::vector<int> cells(index.areas().size(), 0);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) {
      double lon = 0, lat = 0;
      const double v = contribution[static_cast<std::size_t>(r) * grid.cols + c];
      const int a = tr.inverse(grid.x_center(c), grid.y_center(r), lon, lat) ? index.locate_index(lon, lat) : -1;
      if (a < 0) {
        out.outside += v;
        continue;
      }
      sum[static_cast<std::size_t>(a)] += v;
      ++cells[static_cast<std::size_t>(a)];
      out.inside += v;
    }
  for (std::size_t a = 0; a < sum.size(); ++a)
    if (sum[a] > 0)
      out.areas.push_back({index.areas()[a], out.inside > 0 ? sum[a] / out.inside : 0.0, sum[a], cells[a]});
  std::stable_sort(out.areas.begin(), out.areas.end(),
                   [](const RegionShare& x, const RegionShare& y) { return x.share > y.share; });
  return out;
}

}  // namespace plumetrace

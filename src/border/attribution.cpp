#include "plumetrace/border/attribution.hpp"

#include <algorithm>
#include <cassert>
#include <map>

namespace plumetrace {

Attribution attribute(const JurisdictionIndex& index, const std::vector<LonLat>& candidates,
                      const std::vector<double>& candidate_probability,
                      const std::vector<std::vector<std::uint32_t>>& explained,
                      const std::vector<LonLat>& receptors, const Grid& grid,
                      const Transformer& tr, const std::vector<float>& grid_posterior,
                      double unlisted_probability, double receptor_border_margin_m) {
  assert(explained.empty() || explained.size() == candidates.size());
  Attribution out;
  // area of each receptor (-1 outside every area) and whether it stands clear of every border
  std::vector<int> receptor_area(receptors.size(), -1);
  std::vector<char> receptor_clear(receptors.size(), 0);
  std::vector<int> receptor_ids, near_border_ids;
  for (std::size_t k = 0; k < receptors.size(); ++k) {
    const LonLat& r = receptors[k];
    const int i = index.locate_index(r.lon, r.lat);
    if (i < 0) continue;
    const bool clear = !(receptor_border_margin_m > 0) ||
                       index.distance_to_border_m(r.lon, r.lat) > receptor_border_margin_m;
    receptor_area[k] = i;
    receptor_clear[k] = clear ? 1 : 0;
    auto& ids = clear ? receptor_ids : near_border_ids;
    if (std::find(ids.begin(), ids.end(), i) == ids.end()) ids.push_back(i);
  }
  if (receptor_ids.empty()) receptor_ids = near_border_ids;  // every receptor hugs a border
  for (int i : receptor_ids) out.receptors.push_back(index.areas()[static_cast<std::size_t>(i)]);

  // areas affected by each candidate: its explained observations' receptor areas
  out.affected.resize(candidates.size());
  for (std::size_t j = 0; j < explained.size(); ++j) {
    std::map<int, int> clear_counts, all_counts;
    for (const std::uint32_t k : explained[j]) {
      assert(k < receptors.size());
      const int a = receptor_area[k];
      if (a < 0) continue;
      ++all_counts[a];
      if (receptor_clear[k]) ++clear_counts[a];
    }
    const auto& counts = clear_counts.empty() ? all_counts : clear_counts;
    for (const auto& [a, n] : counts) out.affected[j].push_back({index.areas()[static_cast<std::size_t>(a)], n});
    std::stable_sort(out.affected[j].begin(), out.affected[j].end(),
                     [](const AffectedArea& x, const AffectedArea& y) { return x.observations > y.observations; });
  }

  std::map<int, double> mass;
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    const int i = index.locate_index(candidates[j].lon, candidates[j].lat);
    if (i < 0) {
      out.candidate.emplace_back(std::nullopt);
      out.cross_border.push_back(false);
      continue;
    }
    const Jurisdiction& own = index.areas()[static_cast<std::size_t>(i)];
    out.candidate.emplace_back(own);
    const auto& aff = out.affected[j];
    out.cross_border.push_back(
        std::any_of(aff.begin(), aff.end(), [&](const AffectedArea& a) { return a.area.code != own.code; }));
    if (j < candidate_probability.size()) mass[i] += candidate_probability[j];
  }
  if (unlisted_probability > 0 && grid_posterior.size() == grid.size()) {
    for (int r = 0; r < grid.rows; ++r)
      for (int c = 0; c < grid.cols; ++c) {
        const float p = grid_posterior[static_cast<std::size_t>(r) * grid.cols + c];
        if (!(p > 0)) continue;
        double lon, lat;
        if (!tr.inverse(grid.x_center(c), grid.y_center(r), lon, lat)) continue;
        const int i = index.locate_index(lon, lat);
        if (i >= 0) mass[i] += unlisted_probability * p;
      }
  }
  for (const auto& [i, p] : mass) out.areas.push_back({index.areas()[static_cast<std::size_t>(i)], p});
  std::stable_sort(out.areas.begin(), out.areas.end(),
                   [](const AreaShare& a, const AreaShare& b) { return a.probability > b.probability; });
  return out;
}

}  // namespace plumetrace

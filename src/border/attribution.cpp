#include "plumetrace/border/attribution.hpp"

#include <algorithm>
#include <map>

namespace plumetrace {

Attribution attribute(const JurisdictionIndex& index, const std::vector<LonLat>& candidates,
                      const std::vector<double>& candidate_probability,
                      const std::vector<LonLat>& receptors, const Grid& grid,
                      const Transformer& tr, const std::vector<float>& grid_posterior,
                      double unlisted_probability, double receptor_border_margin_m) {
  Attribution out;
  std::vector<int> receptor_ids, near_border_ids;
  for (const LonLat& r : receptors) {
    const int i = index.locate_index(r.lon, r.lat);
    if (i < 0) continue;
    const bool clear = !(receptor_border_margin_m > 0) ||
                       index.distance_to_border_m(r.lon, r.lat) > receptor_border_margin_m;
    auto& ids = clear ? receptor_ids : near_border_ids;
    if (std::find(ids.begin(), ids.end(), i) == ids.end()) ids.push_back(i);
  }
  if (receptor_ids.empty()) receptor_ids = near_border_ids;  // every receptor hugs a border
  for (int i : receptor_ids) out.receptors.push_back(index.areas()[static_cast<std::size_t>(i)]);

  std::map<int, double> mass;
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    const int i = index.locate_index(candidates[j].lon, candidates[j].lat);
    if (i < 0) {
      out.candidate.emplace_back(std::nullopt);
      out.cross_border.push_back(false);
      continue;
    }
    out.candidate.emplace_back(index.areas()[static_cast<std::size_t>(i)]);
    out.cross_border.push_back(!receptor_ids.empty() &&
                               std::find(receptor_ids.begin(), receptor_ids.end(), i) == receptor_ids.end());
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

#pragma once
/// @file attribution.hpp
/// Jurisdiction of every candidate and of the posterior mass; cross-border flags.

#include <cstdint>
#include <optional>
#include <vector>

#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/grid.hpp"
#include "plumetrace/geo/jurisdictions.hpp"

namespace plumetrace {

struct AreaShare {
  Jurisdiction area;
  double probability{};
};

/// A jurisdiction and how many observations there a candidate's fitted plume explains.
struct AffectedArea {
  Jurisdiction area;
  int observations{};
};

struct Attribution {
  std::vector<std::optional<Jurisdiction>> candidate;  ///< per candidate; nullopt outside every area
  std::vector<bool> cross_border;                      ///< per candidate (by impact, see attribute)
  std::vector<std::vector<AffectedArea>> affected;     ///< per candidate, most observations first
  std::vector<Jurisdiction> receptors;                 ///< distinct areas of the receptors, first-seen order
  std::vector<AreaShare> areas;                        ///< posterior per area, descending
};

struct LonLat {
  double lon{}, lat{};
};

/// Receptors closer than this to a border do not decide the receptor areas (unless every
/// receptor is that close): boundary layers such as the Zhejiang one are quantised to ~1/1024°
/// (~100 m) and GPS fixes scatter by metres, so a survey car driving along a border would
/// otherwise make the neighbouring county a "receptor" county and hide a cross-border source.
constexpr double kReceptorBorderMarginM = 100.0;

/// Cross-border by impact (README "Ranking document"): `affected[j]` lists the areas of the
/// observations that candidate j's fitted plume explains (`explained[j]`: one entry per explained
/// observation, the index of its receptor position in `receptors`), with their counts; a
/// receptor counts for its area when it lies more than `receptor_border_margin_m` from every
/// border, or when none of the candidate's explained receptors does. `cross_border[j]` is true
/// when the candidate's own area is known and some affected area differs from it: a survey car
/// that follows the plume back into the source's own county does not hide a case, and a plume
/// seen only at home is not cross-border. `receptors` (the output) lists the areas of all
/// receptors by the same margin rule. `areas` sums candidate probabilities by their area plus
/// `unlisted_probability` × the grid posterior by the area of each cell centre (mass outside
/// every area is dropped from the list, not renormalised).
/// @pre explained.empty() or explained.size() == candidates.size(); every index < receptors.size()
Attribution attribute(const JurisdictionIndex& index, const std::vector<LonLat>& candidates,
                      const std::vector<double>& candidate_probability,
                      const std::vector<std::vector<std::uint32_t>>& explained,
                      const std::vector<LonLat>& receptors, const Grid& grid,
                      const Transformer& tr, const std::vector<float>& grid_posterior,
                      double unlisted_probability,
                      double receptor_border_margin_m = kReceptorBorderMarginM);

}  // namespace plumetrace

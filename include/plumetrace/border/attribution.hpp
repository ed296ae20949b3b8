#pragma once
/// @file attribution.hpp
/// Jurisdiction of every candidate and of the posterior mass; cross-border flags.

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

struct Attribution {
  std::vector<std::optional<Jurisdiction>> candidate;  ///< per candidate; nullopt outside every area
  std::vector<bool> cross_border;                      ///< per candidate
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

/// `cross_border` is true when the candidate's area is known, at least one receptor's area is
/// known, and the candidate's differs from every receptor's (CONTRACT §3); a receptor's area counts
/// when the receptor lies more than `receptor_border_margin_m` from every border, or when no
/// receptor does. `areas` sums candidate probabilities by their area plus `unlisted_probability`
/// × the grid posterior by the area of each cell centre (mass outside every area is dropped from
/// the list, not renormalised).
Attribution attribute(const JurisdictionIndex& index, const std::vector<LonLat>& candidates,
                      const std::vector<double>& candidate_probability,
                      const std::vector<LonLat>& receptors, const Grid& grid,
                      const Transformer& tr, const std::vector<float>& grid_posterior,
                      double unlisted_probability,
                      double receptor_border_margin_m = kReceptorBorderMarginM);

}  // namespace plumetrace

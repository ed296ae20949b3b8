#pragma once
/// @file regions.hpp
/// Long-term source regions (README "regions"; docs/regions.md): back-trajectories from every
/// station for every hour of weeks to months of readings, gridded as
///
///  - PSCF, the potential source contribution function (Ashbaugh, Malm & Sadeh 1985):
///    PSCF_ij = m_ij / n_ij, the share of the trajectory residence time in cell ij that belongs to
///    trajectories arriving at a station while its concentration exceeded that station's
///    percentile threshold (the 90th);
///  - CWT, the concentration-weighted trajectory (Hsu, Holsen & Hopke 2003):
///    CWT_ij = Σ_l c_l τ_ijl / Σ_l τ_ijl, c_l the hourly mean that trajectory l arrived with and
///    τ_ijl the time it spent in cell ij;
///
/// both down-weighted where few trajectories pass, with openair's weights (Carslaw & Ropkins 2012,
/// `trajLevel`): PSCF × 1, 0.75, 0.5, 0.15 for N > 2n̄, n̄ < N ≤ 2n̄, n̄/2 < N ≤ n̄, N ≤ n̄/2 (n̄
/// the mean N over the cells any trajectory reached); CWT × 1, 0.7, 0.42, 0.05 for N > 80,
/// 20 < N ≤ 80, 10 < N ≤ 20, N ≤ 10. N is the number of trajectories that pass through the cell
/// (openair counts hourly endpoints, which at its 1° cells is about the same thing; at a county
/// grid's 100 m cells one trajectory crosses a cell between two hourly endpoints).
///
/// The contribution map is the residence-time-weighted concentration anomaly,
/// Σ_l τ_ijl (c_l − c̄_s), c̄_s the mean of trajectory l's station over the period, kept where it
/// is positive: a cell that every trajectory crosses, polluted or clean (around the stations),
/// sums to about zero, while a cell that mostly polluted air crossed stands out. Summed per
/// jurisdiction it gives the share of the contribution each area sent (regions_by_area). One
/// station cannot tell where along its polluted trajectories the source lies, so the map streaks
/// along them; stations on several sides narrow it where their streaks cross (docs/regions.md).

#include <cstdint>
#include <vector>

#include "plumetrace/core/time.hpp"
#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/grid.hpp"
#include "plumetrace/geo/jurisdictions.hpp"
#include "plumetrace/met/wind_field.hpp"

namespace plumetrace {

/// PSCF threshold: each station's 90th percentile of its hourly means (openair's default
/// `percentile = 90`; a station's own, so that a station in a dirtier place does not set the
/// threshold for the others).
inline constexpr double kPscfPercentile = 0.90;
/// Back-trajectories run this long at most (s); most leave a county-sized grid much sooner, where
/// they stop. 24 h is the shortest span HYSPLIT-based PSCF studies use for regional sources.
inline constexpr double kRegionsMaxBackS = 24 * 3600.0;
/// Trajectory time step (s), shortened so that no step moves more than half a grid cell (every
/// cell a trajectory crosses is counted; the residence time of a step goes to its midpoint's cell).
inline constexpr double kRegionsStepS = 60.0;
/// Margin of the regions grid around the stations (m): the source regions of a county's stations
/// lie in its neighbours, and Zhejiang's counties are 20–50 km across.
inline constexpr double kRegionsMarginM = 15000.0;
/// Cells on the long side of the regions grid (unless case.json sets grid_m): PSCF and CWT need
/// tens of trajectories per cell; a month at a few stations gives that over ~200 m cells of a
/// 40 km grid, not over the trace grid's finer ones.
inline constexpr int kRegionsCellsLongSide = 200;
/// openair's CWT count thresholds and weights (trajectories per cell).
inline constexpr int kCwtCountHigh = 80;
inline constexpr int kCwtCountMid = 20;
inline constexpr int kCwtCountLow = 10;
inline constexpr double kCwtWeightMid = 0.7, kCwtWeightLow = 0.42, kCwtWeightLowest = 0.05;
/// openair's PSCF weights relative to the mean count n̄: > 2n̄ 1, (n̄, 2n̄] 0.75, (n̄/2, n̄] 0.5, ≤ n̄/2 0.15.
inline constexpr double kPscfWeightMid = 0.75, kPscfWeightLow = 0.5, kPscfWeightLowest = 0.15;

/// One station's hourly mean: the receptor of one back-trajectory.
struct RegionsSample {
  std::uint32_t station{};  ///< index into the station list given to source_regions
  double x_m{}, y_m{};      ///< receptor, analysis CRS
  EpochSeconds arrival{};   ///< when the air arrived (the middle of the hour)
  double value{};           ///< hourly mean concentration, case units
};

/// Per station: the PSCF threshold and the mean that the contribution map subtracts.
struct RegionsStation {
  double threshold{};  ///< kPscfPercentile of its hourly means, case units
  double mean{};       ///< mean of its hourly means, case units
};

struct RegionsOptions {
  double max_back_s{kRegionsMaxBackS};
  double step_s{kRegionsStepS};
  int threads{0};  ///< 0 = all cores; the result does not depend on it
};

/// The gridded fields (row-major, grid.size()). Cells no trajectory reached are NaN in pscf/cwt
/// (and their raw forms) and 0 elsewhere.
struct RegionsFields {
  std::vector<float> pscf;            ///< weighted PSCF (0..1)
  std::vector<float> cwt;             ///< weighted CWT, case units
  std::vector<float> pscf_unweighted;
  std::vector<float> cwt_unweighted;
  std::vector<std::uint32_t> count;   ///< N_ij: trajectories through the cell
  std::vector<double> residence_s;    ///< Σ_l τ_ijl
  /// max(Σ_l τ_ijl (c_l − c̄_s), 0): the concentration anomaly carried through the cell
  /// (case units × s)
  std::vector<double> contribution;
  std::size_t trajectories{};         ///< trajectories run (= samples)
  std::size_t steps{};                ///< trajectory steps inside the grid, all together
  double mean_time_on_grid_s{};       ///< mean T_l
};

/// Back-trajectories from every sample and the PSCF/CWT fields on `grid`.
/// REQUIRES: every sample's station < stations.size(); options.step_s > 0, options.max_back_s > 0.
/// A sample whose receptor is off the grid contributes nothing (it is still counted in
/// `trajectories`).
[[nodiscard]] RegionsFields source_regions(const WindField& wind, const Grid& grid,
                                           const std::vector<RegionsSample>& samples,
                                           const std::vector<RegionsStation>& stations,
                                           const RegionsOptions& options = {});

/// openair's weight of a PSCF cell with `count` trajectories when the mean over reached cells is
/// `mean_count` (> 0), and of a CWT cell with `count` trajectories.
[[nodiscard]] double pscf_weight(double count, double mean_count) noexcept;
[[nodiscard]] double cwt_weight(double count) noexcept;

/// Share of an area in the contribution map.
struct RegionShare {
  Jurisdiction area;
  double share{};         ///< of the contribution inside every area (the shares sum to 1)
  double contribution{};  ///< Σ contribution over the area's cells, case units
  int cells{};            ///< grid cells whose centre lies in the area
};

struct RegionsByArea {
  std::vector<RegionShare> areas;  ///< descending by share; areas without contribution left out
  double inside{};                 ///< contribution in cells of some area
  double outside{};                ///< contribution in cells outside every area
};

/// Sum `contribution` (grid.size()) by the area of each cell centre (lon/lat through `tr`).
/// REQUIRES: contribution.size() == grid.size().
[[nodiscard]] RegionsByArea regions_by_area(const JurisdictionIndex& index, const Grid& grid,
                                            const Transformer& tr, const std::vector<double>& contribution);

/// The q-quantile (0..1) of `values` by linear interpolation between order statistics (R's and
/// numpy's default, "type 7"); NaN for an empty list. `values` is reordered.
[[nodiscard]] double quantile_type7(std::vector<double>& values, double q);

}  // namespace plumetrace

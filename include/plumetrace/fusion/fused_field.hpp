#pragma once
/// @file fused_field.hpp
/// The fused field (issue #9 item 4; README "fused.tif"): every measurement of the pollutant as
/// its excess over its platform's background, interpolated onto the analysis grid by simple
/// kriging, i.e. optimal interpolation with a zero prior mean (the background removed), with an
/// exponential covariance
///
///     C(d) = σ² exp(−d / L)
///
/// (Gandin 1963; Daley 1991 "Atmospheric Data Analysis" §4). The data: each fixed station or open
/// path as the mean of its excess over the window (at its receptor; an open path at its middle),
/// each survey segment and each imagery cell as one datum. A datum's error variance is its
/// platform's noise² over the number of values averaged into it. σ² is the data's mean square
/// excess less their mean error variance (at least kFusedMinSignalShare of the mean square); L is
/// kFusedCorrelationM or two cells, whichever is larger. Each cell is estimated from its
/// kFusedNeighbours nearest data within kFusedSearchLengths × L (none: the prior, 0 ± σ).
/// Per cell: the estimate, its standard error sqrt(σ² − cᵀ(C + R)⁻¹c), and the number of
/// observations whose receptor falls in it.

#include <cstddef>
#include <vector>

#include "plumetrace/fusion/observations.hpp"
#include "plumetrace/geo/grid.hpp"

namespace plumetrace {

/// Correlation length of the excess (m): a plume's width a few km from a low source (Briggs rural
/// D σy ≈ 0.08 x: ±2σy ≈ 320 m at 1 km, 960 m at 3 km); shorter scales are not resolved by
/// stations a km apart, and survey segments and imagery cells that resolve them are dense.
inline constexpr double kFusedCorrelationM = 300.0;
/// Data used per cell (nearest first), and how far they may lie (in correlation lengths: at 4 L
/// the covariance is e⁻⁴ ≈ 2 % of σ²).
inline constexpr int kFusedNeighbours = 24;
inline constexpr double kFusedSearchLengths = 4.0;
/// σ² is kept at least this share of the data's mean square excess (noisy data whose error
/// variance exceeds their spread still have a signal scale).
inline constexpr double kFusedMinSignalShare = 0.1;

struct FusedField {
  std::vector<float> value;        ///< estimated excess over background, case units (0 far from data)
  std::vector<float> uncertainty;  ///< its standard error, case units (σ far from data)
  std::vector<float> count;        ///< observations whose receptor lies in the cell
  double sigma{};                  ///< signal standard deviation σ, case units
  double length_m{};               ///< correlation length L
  std::size_t data{};              ///< data interpolated (after the per-station means)
};

/// Interpolate the excess of `set`'s observations whose averaging period overlaps
/// [use_start, use_end] onto `grid`.
[[nodiscard]] FusedField fuse_on_grid(const ObservationSet& set, const Grid& grid, EpochSeconds use_start,
                                      EpochSeconds use_end, int threads = 0);

}  // namespace plumetrace

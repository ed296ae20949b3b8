#pragma once
/// @file flux.hpp
/// Mass carried across the border between two jurisdictions (README "border-flux"; docs/border-flux.md).
///
///   F(A→B) = ∫dt ∮ C(x, t) · max(u(x, t) · n(x), 0) · h(x, t) dl,   and F(B→A) with max(−u·n, 0),
///
/// over the shared edge of the repaired polygons (JurisdictionIndex::shared_border), n the unit
/// normal pointing from A into B, u the wind (met room), h the mixing height, C the fused
/// concentration. The plume is taken as mixed through the boundary layer (a column of height h
/// at the surface concentration): right for a plume that has travelled a few km, an overestimate
/// near a ground-level source. Integrated with the midpoint rule: border pieces of at most
/// kBorderPieceM, time steps of at most kBorderFluxStepS; exact for fields uniform along a piece
/// and over a step (tests/border/flux_test.cpp checks 1e-6 against the analytic answer).

#include <functional>
#include <vector>

#include "plumetrace/core/time.hpp"
#include "plumetrace/fusion/observations.hpp"
#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/jurisdictions.hpp"
#include "plumetrace/met/wind_field.hpp"

namespace plumetrace {

/// Border pieces: at most this long (m). Short against the concentration and wind scales.
inline constexpr double kBorderPieceM = 50.0;
/// Time steps: at most this long (s). Short against the hourly data.
inline constexpr double kBorderFluxStepS = 300.0;
/// The fused concentration (ObservedConcentration) is binned hourly, the stations' averaging time,
/// and an excess fades to background beyond about this distance (m) from the receptors that saw
/// it: a plume seen at one station is not assumed to cover a county. 3 km is the width of a plume
/// some 10 km downwind in neutral air (Briggs rural σy ≈ 0.08 x, ±2σ).
inline constexpr double kBorderFluxBinS = 3600.0;
inline constexpr double kBorderFluxRangeM = 3000.0;

/// A border piece in the analysis CRS (m), directed with A on its left.
struct BorderSegment {
  double x0_m{}, y0_m{}, x1_m{}, y1_m{};
};

/// Concentration at (x, y, t) in the case's units: the part above background (`excess`) and
/// the whole (`total`). Returns false where nothing is known (that step is skipped and counted).
using ConcentrationField =
    std::function<bool(double x_m, double y_m, EpochSeconds t, double& excess, double& total)>;

struct BorderFluxResult {
  double a_to_b_kg{}, b_to_a_kg{};                  ///< with the background concentration
  double a_to_b_excess_kg{}, b_to_a_excess_kg{};    ///< concentration above background only
  double border_length_m{};
  int steps{};                                       ///< time steps
  int steps_with_data{};                             ///< steps where the field had a value
  double mean_mixing_height_m{};                     ///< over pieces and steps
};

/// The pieces of JurisdictionIndex::shared_border(a, b) projected through `tr` (lon/lat → analysis CRS).
[[nodiscard]] std::vector<BorderSegment> project_border(const std::vector<BorderPiece>& pieces, const Transformer& tr);

/// Integrate the flux across `border` over [t0, t1] (@pre t1 >= t0). `to_case_units` converts
/// g/m³ to the concentration's units (1e6 for µg/m³).
[[nodiscard]] BorderFluxResult integrate_border_flux(const std::vector<BorderSegment>& border, const WindField& wind,
                                                     const ConcentrationField& field, EpochSeconds t0, EpochSeconds t1,
                                                     double to_case_units);

/// The flux across the shared border of areas `a` and `b` of `index` (shared_border, projected
/// through `tr`), with the fused concentration of `obs` (ObservedConcentration with kBorderFluxBinS,
/// kBorderFluxRangeM), over [t0, t1].
[[nodiscard]] BorderFluxResult border_flux_between(const JurisdictionIndex& index, int a, int b, const Transformer& tr,
                                                   const WindField& wind, const ObservationSet& obs, EpochSeconds t0,
                                                   EpochSeconds t1, double to_case_units);

/// The fused concentration between the receptors: per time bin of `bin_s` (s), the observations
/// whose averaging period overlaps it, interpolated by inverse squared distance together with a
/// pseudo-observation of background (excess 0) of weight 1 / range_m² — so that the excess fades
/// toward background farther than about range_m from every receptor that saw it (range_m <= 0:
/// pure inverse-distance weighting). Backgrounds are the platforms' (fusion room). A time in a
/// bin without observations takes the nearest bin with some within one bin, else has no value.
class ObservedConcentration {
 public:
  ObservedConcentration(const ObservationSet& obs, double bin_s, double range_m);
  bool operator()(double x_m, double y_m, EpochSeconds t, double& excess, double& total) const;

 private:
  struct Point {
    double x, y, excess, background;
  };
  double bin_s_, range2_;
  EpochSeconds origin_{};
  std::vector<std::vector<Point>> bins_;
};

}  // namespace plumetrace

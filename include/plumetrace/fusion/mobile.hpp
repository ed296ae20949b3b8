#pragma once
/// @file mobile.hpp
/// Fusion: one mobile-survey trace (a car, a boat, a drone-borne sensor: they differ only in
/// their TraceSettings) made into evidence, in the order a survey analyst works:
///
/// 1. **Sensor lag.** A value stamped t was drawn through the inlet lag seconds earlier, when the
///    platform was elsewhere. The lag is case.json's (`traces.NAME.lag_s`), or estimated where
///    passes overlap: a lag error moves a plume crossing along the direction of travel, so passes
///    over the same place in different directions agree best at the true lag
///    (estimate_sensor_lag_s).
/// 2. **Background** by a rolling low quantile of the platform's own series (a window of
///    `background_window_s`, centred), which follows instrument drift and a changing regional
///    level (rolling_low_quantile).
/// 3. **Peaks**: runs standing kPeakNoiseMultiple noise levels above the background, edges
///    extended down to one noise level, with their height and their **area** (the excess
///    integrated over the distance travelled, units·m): a slower instrument lowers and widens a
///    crossing but keeps its area (detect_peaks).
/// 4. **Cells and passes**: the lag-corrected, background-levelled samples fall into cells of
///    `cell_m` along the route; consecutive samples in one cell are one pass; the passes over a
///    cell within kMobilePassGroupS are one observation, the **median** of the passes' means,
///    with the pass count kept (aggregate_passes).
///
/// Pure functions on plain arrays; gather_observations (observations.hpp) calls them per trace.

#include <cstddef>
#include <string>
#include <vector>

#include "plumetrace/core/time.hpp"

namespace plumetrace {

/// One trace's samples, time-ordered (non-decreasing: two samples may share a time stamp),
/// positions in the analysis CRS (metres).
struct MobileSeries {
  std::vector<EpochSeconds> t;
  std::vector<double> x_m, y_m;
  std::vector<double> value;  ///< case units, finite
  [[nodiscard]] std::size_t size() const noexcept { return t.size(); }
};

/// The robust spread of a series about its background `level`: kMadToSigma × the median absolute
/// deviation from it of the values at or below the series' median, floored at
/// kNoiseFloorFractionOfBackground of the level (and 1e-6). Every platform's noise is this.
/// @pre !values.empty()
double spread_about(const std::vector<double>& values, double level);

/// A background level and the noise about it (case units).
struct QuietLevel {
  double level{};
  double noise{};
};

/// The level a series' samples outside any plume scatter about (case units): starting from its
/// `low_quantile` quantile, the median of the values at most kBackgroundClipSigmas spreads above
/// the current estimate, repeated until it settles (at most kBackgroundClipIterations times);
/// the spread is kMadToSigma × the median deviation of the values below the estimate (plumes only
/// add to a series, so its lower side is quiet). For Gaussian noise it settles within 0.05 σ of
/// the centre whatever share of the series lies in plumes well above it. A low quantile alone is
/// robust to plumes but lies about one noise level below the centre (q_0.15 = μ − 1.04σ):
/// compared with it every quiet sample reads as a small release, and a broad plume from far away
/// (or a large unregistered source) "explains" hundreds of quiet samples at once.
/// Returns the centre and that spread (floored as spread_about's).
/// @pre !values.empty(), 0 < low_quantile < 0.5
QuietLevel background_centre(const std::vector<double>& values, double low_quantile);

/// Position at time t by linear interpolation between the fixes (clamped to the first and last
/// fix; of equal time stamps, the last). @pre s.size() > 0, s.t non-decreasing.
void position_at(const MobileSeries& s, EpochSeconds t, double& x_m, double& y_m) noexcept;

/// Rolling low quantile: out[i] = the q-quantile (0..1) of the values whose time lies within
/// window_s/2 of t[i]; a sorted window updated as it slides, O(n·w) for w samples in a window.
/// @pre t ascending, window_s > 0.
std::vector<double> rolling_low_quantile(const std::vector<EpochSeconds>& t, const std::vector<double>& value,
                                         double window_s, double q);

/// A trace's values with a drifting background levelled out (rolling_low_quantile over window_s
/// at quantile q, kept within kMaxDriftFraction of the trace's own q-quantile or kMaxDriftNoise
/// of its spread: drift, not plume): value[i] − rolling[i] + level, where level is the median of
/// the rolling background; and `typical` with `noise`, the background_centre of the levelled
/// values: the level their quiet samples scatter about, which peaks stand above and which is the
/// platform's background (the low quantile lies ~1.3 noise levels under it).
struct LevelledSeries {
  std::vector<double> value;
  double level{};                      ///< the one background level the values now share
  double typical{};                    ///< the levelled values' background_centre
  double noise{};                      ///< the noise about it (background_centre)
  double rolling_min{}, rolling_max{}; ///< the rolling background's range
};
/// @pre t ascending, t.size() == value.size() > 0, window_s > 0.
LevelledSeries level_background(const std::vector<EpochSeconds>& t, const std::vector<double>& value,
                                double window_s, double q);

/// The lag estimate and how it was reached.
struct LagEstimate {
  double lag_s{0};            ///< the estimate; 0 when not determined
  bool determined{false};     ///< false: too few crossing pairs, or pairs that disagree
  std::size_t pairs{0};       ///< pairs of crossings in opposite directions that met
  double spread_s{0};         ///< median absolute deviation of the pairs' lags
  std::string why;            ///< when not determined: the reason
};

/// Estimate the sensor lag (s) of a trace in [0, max_lag_s]: a value stamped t was sampled where
/// the platform was at t − lag, so a plume crossed in opposite directions appears displaced
/// forward along each direction of travel, by speed × lag. For each pair of crossings
/// (detect_peaks at lag 0; excess-weighted centre times) whose headings differ by at least
/// kLagMinHeadingDifferenceDeg and that lie within kMobilePassGroupS of each other, the trial
/// lag (kLagStepS steps) that brings their two lag-corrected positions closest is that pair's
/// lag, kept when they come within kLagPairMatchM (the same place) short of max_lag_s. The
/// estimate is the median over at least kLagMinPairs pairs whose median absolute deviation is at
/// most kLagMaxSpreadS. `excess`: value − the background's centre (LevelledSeries::typical).
/// @pre s.size() == excess.size(); noise > 0.
LagEstimate estimate_sensor_lag_s(const MobileSeries& s, const std::vector<double>& excess, double noise,
                                  double max_lag_s);

/// One plume crossing on a trace.
struct MobilePeak {
  EpochSeconds t_start{}, t_end{}, t_peak{};  ///< lag-corrected times
  double x_m{}, y_m{};        ///< where the largest excess was sampled (lag-corrected)
  double height{};            ///< the largest excess, case units
  double area{};              ///< excess integrated over the distance travelled, case units · m
  double length_m{};          ///< distance travelled from start to end
};

/// Peaks of `excess` (value − the background's centre) along a lag-corrected series: runs of at
/// least kPeakMinSamples samples above kPeakNoiseMultiple·noise, widened to where the excess
/// falls below kPeakEdgeNoiseMultiple·noise,
/// runs less than kPeakMergeGapS apart merged. @pre s.size() == excess.size(); noise > 0.
std::vector<MobilePeak> detect_peaks(const MobileSeries& s, const std::vector<double>& excess, double noise);

/// One cell's evidence: the median of the means of the passes over it within kMobilePassGroupS.
/// Place and time are the median pass's (the pass whose mean is nearest the median): the
/// observation stands for one short sample, which the operator models as such.
struct MobileCell {
  double x_m{}, y_m{};               ///< mean position of the median pass's samples
  double x0_m{}, y0_m{}, x1_m{}, y1_m{};  ///< first and last sample of the median pass
  EpochSeconds t_start{}, t_end{};   ///< first and last sample of the median pass
  EpochSeconds first_t{}, last_t{};  ///< first sample of the first pass, last of the last
  double value{};                    ///< median of the pass means (case units)
  int passes{};                      ///< passes over the cell in this group
  int samples{};                     ///< samples in those passes
  std::vector<std::size_t> sample_index;  ///< the series indices in those passes (for z and lon/lat)
};

/// Cells of cell_m (a lattice anchored at (origin_x_m, origin_y_m)) along a lag-corrected
/// series: consecutive samples in one cell are one pass (a pass closes after max_pass_s, or at
/// a gap longer than kPassGapS); a cell's passes starting within kMobilePassGroupS of the
/// group's first are one MobileCell. Ordered by first_t. @pre cell_m > 0.
std::vector<MobileCell> aggregate_passes(const MobileSeries& s, double cell_m, double origin_x_m,
                                         double origin_y_m, double max_pass_s);

}  // namespace plumetrace

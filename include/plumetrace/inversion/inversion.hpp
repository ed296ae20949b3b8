#pragma once
/// @file inversion.hpp
/// Bayesian source attribution. Hypotheses: "registry candidate j alone emitted at rate q",
/// "candidates j1 and j2 both emitted", "an unregistered source in grid cell c emitted" and
/// "no release" (nothing beyond background and the usual emissions).
/// Each is scored against every observation with a heavy-tailed (Student-t) error in log space,
///   r_i = ln(y_i + c_i) − ln(b_i + u_i + q·H_i + c_i),
///   σ_i² = σ_model²·((m_i + u_i)/(b_i + m_i + u_i))² + (n_i/(b_i+c_i))²,
/// where b_i and n_i are the platform background and noise (fusion), c_i = max(n_i, 0.2 b_i),
/// u_i the registry's usual emissions at the observation (fit_usual_emissions; 0 until set), and
/// m_i the release part, modelled or observed (y_i − b_i − u_i), whichever is larger.
/// The rate q is marginalised on a log-uniform grid, the wind direction over the operator's
/// ensemble members independently in each `direction_block_s` block of time (meander and
/// hourly wind errors are not shared by the whole episode), the rate being common to all blocks.
/// The rate prior of a release is log-uniform over the rates the data could see: from the rate
/// whose plume reaches one noise level at the site's best-placed observation (q_detect) to
/// q_max; a release smaller than that is "no release" as far as these data can tell, and a site
/// no observation can see explains nothing. Every likelihood term is relative to the no-source
/// likelihood, so "no release" scores exactly 0 (its prior alone).
/// Posterior probabilities = prior × marginal likelihood, normalised over all hypotheses; a
/// candidate's probability is its single-source probability plus its share of every two-source
/// hypothesis it belongs to (shares split by how well each member explains the data alone, within
/// [kPairShareMin, 1 − kPairShareMin]), so candidates, `unlisted` and `no_release` sum to 1.
/// Tempering: every log-likelihood is multiplied by τ < 1 (model errors are correlated between
/// observations). τ is chosen per case from InversionOptions::temper_grid by a held-out
/// predictive check, the learning-rate selection of generalised Bayes (Grünwald & van Ommen 2017,
/// "Inconsistency of Bayesian inference for misspecified linear models, and a proposal for
/// repairing it", Bayesian Analysis 12(4); here by cross-validation over blocks rather than
/// SafeBayes' sequential order): each wind-direction block b in turn is held out, the posterior
/// tempered by τ is fitted to the other blocks, and its predictive density of block b (the
/// untempered likelihood averaged over that posterior) is scored; τ maximises Σ_b log p(y_b | y_−b).
/// When the model fits, the blocks agree and trusting them more predicts better (τ stays at the
/// top of the grid); when some blocks mislead about others (meander, a wrong stability, a plume
/// the model cannot draw), a confident posterior mispredicts and a lower τ wins. The check runs
/// over the single candidates, the unregistered source's coarse blocks and "no release" (pairs
/// and the finer unregistered quadrature come after it and use the chosen τ); each site's release
/// interval and best member are chosen at kTemperGrid[0]. Blocks no hypothesis reaches predict
/// alike under every τ and are not counted.
/// Tuned numbers: core/tuning.hpp.

#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plumetrace/core/tuning.hpp"
#include "plumetrace/geo/grid.hpp"
#include "plumetrace/inversion/operator.hpp"

namespace plumetrace {

/// An unmatched imagery hotspot as the inversion sees it.
struct HotspotPrior {
  double x_m{}, y_m{};  ///< its peak pixel, analysis CRS
  double weight{1.0};   ///< > 0: its share of the hotspots' prior mass (the caller: its excess over background)
};

struct InversionOptions {
  double prior_single{tuning::kPriorSingle};        ///< total prior mass of the one-culprit registry hypotheses
  double prior_pair{tuning::kPriorPair};            ///< total prior mass of the two-culprit registry hypotheses
  double prior_unlisted{tuning::kPriorUnlisted};    ///< total prior mass of "not in the registry"
  double prior_no_release{tuning::kPriorNoRelease}; ///< prior mass of "nothing beyond the usual"
  double sigma_model_log{tuning::kSigmaModelLog};   ///< model error of the plume part, natural-log units
  double student_nu{tuning::kStudentNu};
  double mobile_weight{tuning::kMobileWeight};      ///< weight of a mobile segment relative to a station mean
  double temper{tuning::kTemper};                   ///< all log-likelihoods are multiplied by this
  /// The tempering values the held-out predictive check chooses from (see "Tempering" above; the
  /// scoring runs at `temper` and is rescaled to each value); one value: that tempering, the
  /// check's score still reported (held_out_log_density); empty: no check, `temper` as given.
  std::vector<double> temper_grid{std::begin(tuning::kTemperGrid), std::end(tuning::kTemperGrid)};
  double q_min_g_s{tuning::kRateMinGS};             ///< rate grid, log-uniform prior (see tuning.hpp)
  double q_max_g_s{tuning::kRateMaxGS};
  int q_steps{tuning::kRateSteps};
  int pair_top{tuning::kPairTop};                   ///< pairs are formed among the top-N single candidates
  int grid_max_side{tuning::kUnlistedMaxSide};      ///< the unlisted search runs on blocks so no side exceeds this
  double to_case_units{1e6};                        ///< observation units per g/m³ (1e6 for µg/m³)
  double direction_block_s{tuning::kDirectionBlockS};  ///< the wind-direction error is independent between blocks this long
  double short_direction_block_s{tuning::kShortDirectionBlockS};  ///< ...and this long for samples shorter than 10 minutes
  int threads{0};                                   ///< 0: hardware concurrency
  /// model the registry's usual emissions (fit_usual_emissions, run by the caller); off by default
  bool usual_emissions{false};
  /// The analyst's suspected release window, a prior on the release timing (ReleaseTiming in
  /// inversion.cpp; tuning::kGivenWindowPrior); releases anywhere in the operator's emission span
  /// stay possible.
  std::optional<EpochSeconds> given_start, given_end;
  /// Unmatched imagery hotspots: the unregistered source's spatial prior puts
  /// tuning::kHotspotPriorShare of its mass around them, shared by weight (none: uniform).
  std::vector<HotspotPrior> unlisted_hotspots;
};

struct CandidateSite {
  double x_m{}, y_m{};  ///< analysis CRS
  double h_m{};         ///< release height
  double prior{1.0};    ///< relative prior weight
  /// stack exit data when the registry gives them: the release height is then the effective
  /// height (stack height + Briggs rise), h_m unused
  std::optional<StackParams> stack;
  /// its usual (permitted) emission rate, g/s, when the registry gives one (fit_usual_emissions)
  std::optional<double> usual_g_s;
};

struct RateEstimate {
  double estimate{};  ///< posterior median, g/s
  double p05{};
  double p95{};
};

struct PairResult {
  int a{}, b{};
  double probability{};
  RateEstimate rate_a, rate_b;
};

struct InversionResult {
  std::vector<double> probability;     ///< per candidate (with pair shares)
  std::vector<double> single_probability;
  std::vector<RateEstimate> rate;      ///< per candidate
  std::vector<int> explained;          ///< observations explained, per candidate
  /// indices (into ObservationSet::obs) of the observations each candidate's fitted plume explains
  std::vector<std::vector<std::uint32_t>> explained_obs;
  std::vector<PairResult> pairs;       ///< evaluated pairs, by probability descending
  double unlisted_probability{};
  double no_release_probability{};     ///< "nothing beyond background and the usual emissions"
  std::vector<float> grid_posterior;   ///< on the analysis grid; sums to 1 (registry aside)
  double peak_x_m{}, peak_y_m{};
  double area_m2_90{};                 ///< area of the 90 % credible region of grid_posterior
  RateEstimate unlisted_rate;
  int best_member{};                   ///< most probable wind-rotation member of the top candidate
  int top_candidate{-1};               ///< the candidate best_member and top_modelled belong to (-1: none)
  /// per observation: the top candidate's modelled plume part (case units), its median rate under
  /// that member and its dominant release interval, as `explained` counts it (0 where it does not reach)
  std::vector<double> top_modelled;
  /// per candidate: the release interval whose timing hypothesis dominates its evidence
  std::vector<std::pair<EpochSeconds, EpochSeconds>> release_interval;
  std::size_t hypotheses{};            ///< how many were scored
  double temper{};                     ///< the tempering the probabilities and rates were computed with
  /// the held-out predictive check: (tempering, Σ_b log p(y_b | y_−b)) for each temper_grid value,
  /// in its order; empty when the grid was
  std::vector<std::pair<double, double>> temper_scores;
  std::size_t temper_folds{};          ///< direction blocks that held observations a hypothesis reaches
  /// Σ_b log p(y_b | y_−b) at the chosen tempering, in absolute terms (the "no release"
  /// likelihood of every observation added back; natural log of a density of ln(y + c)): how well
  /// this model, with its background and usual emissions, predicts the data held out block by
  /// block. Comparable between runs on the same observations; NaN when temper_grid was empty.
  double held_out_log_density{std::numeric_limits<double>::quiet_NaN()};
};

/// Unit conversion: observation units per g/m³ for "ug/m3", "mg/m3", "ng/m3", "g/m3", and "ppb" /
/// "ppm" (at 25 °C, 1 atm) for pollutants with a known molar mass. @throws InvalidInput otherwise.
double units_per_g_m3(const std::string& units, const std::string& pollutant);

/// Release-time blocks over [span_start, span_end]: hourly (kProfileBlockS), or the span over
/// kMinProfileBlocks (at least kMinProfileBlockS) for short spans; the last block ends at span_end.
/// Returns the B + 1 block edges. @pre span_end > span_start.
std::vector<EpochSeconds> release_blocks(EpochSeconds span_start, EpochSeconds span_end);

/// Release profile of one site: non-negative rates (g/s) per release-time block
/// [block_starts[b], block_starts[b+1]) that best fit the observations' plume parts (y − b), by
/// weighted non-negative least squares (coordinate descent) on the member-weighted mean
/// sensitivities; weights 1 / (n² + (kProfileModelErrorFraction (y − b))²) (noise and the model
/// error of the plume part). A point estimate for the `release` profile of the ranking, not a posterior.
/// A block is `constrained` when the network's information about its rate, Σ h² / n² (for the
/// chosen ensemble member), is at least kProfileMinInformationShare of the median block's; the rate of another block is
/// what the fit happened to give a release the data barely see (it may be huge or zero) and is
/// not an estimate.
/// @pre block_starts.size() >= 2, increasing, inside the operator's emission window.
struct ReleaseProfile {
  std::vector<double> rate_g_s;  ///< per block, >= 0
  std::vector<bool> constrained; ///< per block
  /// The release period [first, last] block: the constrained blocks whose rate reaches
  /// kReleasePeriodFractionOfPeak of the constrained peak; nullopt when none is positive.
  std::optional<std::pair<std::size_t, std::size_t>> period_blocks;
};
ReleaseProfile release_profile_g_s(const SourceReceptorOperator& op, const ObservationSet& obs,
                                   const CandidateSite& site, const std::vector<EpochSeconds>& block_starts,
                                   double to_case_units);

/// The registry's usual emissions: what every facility emits on an ordinary day, steadily over
/// the operator's emission span. At observation i they give U_i = Σ_j s_j H̄_ij (H̄: the
/// member-weighted mean sensitivity; s_j: the site's usual_g_s, or where it has none the median
/// of those given, else 1 g/s), and their common scale a ≥ 0 is fitted by maximum likelihood under
/// the inversion's own error model (Student-t in log space: the few observations of an incident
/// are outliers to it, not its signal), at most 1 when every site has its rate. a·U_i is written
/// to each observation's `usual` (every other observation's is set to 0) and from then on is part
/// of the level that "no release" expects: a release is what stands above background AND the
/// usual emissions (issue #7: a registry emitting its permits through a calm night built up
/// readings that the tracer gave to whichever facility lay upwind).
struct UsualEmissions {
  double scale{};                ///< a, a multiple of the s_j
  double mean_rate_g_s{};        ///< a × the mean s_j: the typical facility's usual rate, g/s
  std::size_t facilities{};      ///< sites whose usual plume reaches an observation
  std::size_t permitted{};       ///< sites with a usual_g_s of their own
  double max_usual{};            ///< the largest a·U_i, case units
  double log_likelihood_gain{};  ///< of the fitted a over a = 0 (tempered log units)
};
UsualEmissions fit_usual_emissions(const SourceReceptorOperator& op, ObservationSet& obs,
                                   const std::vector<CandidateSite>& candidates, const InversionOptions& options);

InversionResult invert(const SourceReceptorOperator& op, const ObservationSet& obs, const Grid& grid,
                       const std::vector<CandidateSite>& candidates, const InversionOptions& options);

}  // namespace plumetrace

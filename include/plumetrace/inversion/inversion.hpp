#pragma once
/// @file inversion.hpp
/// Bayesian source attribution. Hypotheses: "registry candidate j alone emitted at rate q",
/// "candidates j1 and j2 both emitted" and "an unregistered source in grid cell c emitted".
/// Each is scored against every observation with a heavy-tailed (Student-t) error in log space,
///   r_i = ln(y_i + c_i) − ln(b_i + q·H_i + c_i),   σ_i² = σ_model²·(m_i/(b_i+m_i))² + (n_i/(b_i+c_i))²,
/// where b_i and n_i are the platform background and noise (fusion) and c_i = max(n_i, 0.2 b_i).
/// The rate q is marginalised on a log-uniform grid, the wind direction over the operator's
/// ensemble members independently in each `direction_block_s` block of time (meander and
/// hourly wind errors are not shared by the whole episode), the rate being common to all blocks. Posterior probabilities = prior × marginal likelihood, normalised over all
/// hypotheses; a candidate's probability is its single-source probability plus its share of every
/// two-source hypothesis it belongs to (shares split by how well each member explains the data
/// alone, within [0.1, 0.9]), so candidates and `unlisted` sum to 1.

#include <string>
#include <vector>

#include "plumetrace/geo/grid.hpp"
#include "plumetrace/inversion/operator.hpp"

namespace plumetrace {

struct InversionOptions {
  double prior_single{0.75};    ///< total prior mass of the one-culprit registry hypotheses
  double prior_pair{0.15};      ///< total prior mass of the two-culprit registry hypotheses
  double prior_unlisted{0.10};  ///< total prior mass of "not in the registry"
  double sigma_model_log{0.7};  ///< model error of the plume part, natural-log units (factor 2)
  double student_nu{4};
  double mobile_weight{0.5};    ///< weight of a mobile segment relative to a station mean
  double temper{0.5};           ///< all log-likelihoods are multiplied by this: model errors are
                                ///< correlated between observations, so each carries less information
  // Rate grid: 1 µg/s (a laboratory or field tracer release a few metres from the samplers) to
  // 100 kg/s (an industrial accident), log-spaced, 10^(11/88) ≈ 1.33 per step. The prior on the
  // rate is log-uniform over it.
  double q_min_g_s{1e-6};
  double q_max_g_s{1e5};
  int q_steps{89};
  int pair_top{6};              ///< pairs are formed among the top-N single candidates
  int grid_max_side{28};        ///< the unlisted search runs on blocks so no side exceeds this
  double unlisted_height_m{10}; ///< release height assumed for an unregistered source
  double to_case_units{1e6};    ///< observation units per g/m³ (1e6 for µg/m³)
  double direction_block_s{3600};  ///< the wind-direction error is independent between blocks this long
  double short_direction_block_s{900};  ///< ...and this long for samples shorter than 10 minutes
  int threads{0};               ///< 0: hardware concurrency
};

struct CandidateSite {
  double x_m{}, y_m{};  ///< analysis CRS
  double h_m{};         ///< release height
  double prior{1.0};    ///< relative prior weight
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
  std::vector<PairResult> pairs;       ///< evaluated pairs, by probability descending
  double unlisted_probability{};
  std::vector<float> grid_posterior;   ///< on the analysis grid; sums to 1 (registry aside)
  double peak_x_m{}, peak_y_m{};
  double area_m2_90{};                 ///< area of the 90 % credible region of grid_posterior
  RateEstimate unlisted_rate;
  int best_member{};                   ///< most probable wind-rotation member of the top candidate
  std::size_t hypotheses{};            ///< how many were scored
};

/// Unit conversion: observation units per g/m³ for "ug/m3", "mg/m3", "ng/m3", "g/m3", and "ppb" /
/// "ppm" (at 25 °C, 1 atm) for pollutants with a known molar mass. @throws InvalidInput otherwise.
double units_per_g_m3(const std::string& units, const std::string& pollutant);

InversionResult invert(const SourceReceptorOperator& op, const ObservationSet& obs, const Grid& grid,
                       const std::vector<CandidateSite>& candidates, const InversionOptions& options);

}  // namespace plumetrace

#pragma once
/// @file operator.hpp
/// Source–receptor operator: the sensitivity H (s/m³, i.e. (g/m³) per (g/s)) of every observation
/// to a point source at any place, for each member of a wind-direction ensemble.
///
/// Method ("Lagrangian plume"): from each receptor, back-trajectories through the time-varying wind
/// (predictor–corrector) are started at sub-sample times spread over the observation's averaging
/// period (one for a mobile sample, one per `sub_sample_s` for station means; for an open path, at
/// up to kMaxPathSamples points along its beam too, so that the mean is over the beam). A source's
/// contribution to one sub-sample is a Gaussian plume evaluated in the trajectory's own frame:
/// along-path distance x to the source's foot point, crosswind offset y from the path, transport
/// speed x/τ, stability and mixing height at the release time, and σy from measured σθ when there
/// is one. The source emits only inside [emit_start, emit_end]; the release time t − τ is taken
/// with a smooth edge (σ = 10 % of τ, ≥ 60 s) to represent along-wind dispersion. The observation's
/// sensitivity is the mean over its sub-samples, i.e. the operator integrates the averaging time.
/// Wind-direction error is marginalised by an ensemble of rotations of the flow about each receptor
/// (the inversion draws the member independently per block of time) plus, for long averaging
/// times, an analytic lateral broadening σy² += (x·σ_dir)² for meander within the period.

#include <cstdint>
#include <iterator>
#include <vector>

#include "plumetrace/core/tuning.hpp"
#include "plumetrace/fusion/observations.hpp"
#include "plumetrace/geo/grid.hpp"
#include "plumetrace/kernels/plume.hpp"
#include "plumetrace/kernels/sigmas.hpp"
#include "plumetrace/kernels/trajectory.hpp"
#include "plumetrace/met/wind_field.hpp"

namespace plumetrace {

/// The wind-direction members: −kRotationMaxDeg .. +kRotationMaxDeg in kRotationStepDeg steps.
std::vector<double> default_rotations_deg();

struct OperatorOptions {
  std::vector<double> rotations_deg{default_rotations_deg()};  ///< ensemble members
  double rotation_sigma_deg{tuning::kRotationSigmaDeg};  ///< members are weighted by a N(0, σ) prior on the direction error
  /// Stability-class uncertainty: every rotation is paired with each shift of the diagnosed
  /// Pasquill class (−1 = one class less stable), weighted by stability_weights.
  std::vector<int> stability_shifts{std::begin(tuning::kStabilityShifts), std::end(tuning::kStabilityShifts)};
  std::vector<double> stability_weights{std::begin(tuning::kStabilityWeights), std::end(tuning::kStabilityWeights)};
  double within_member_deg{tuning::kWithinMemberDeg};  ///< analytic broadening σ_dir inside a member, for hourly means
                                     ///< (scaled down at 10-minute and shorter samples...)
  double min_within_member_deg{0.0};  ///< ...to this (0: the members' 5° spacing is fine enough
                                      ///< for Briggs plumes beyond ~100 m; adding spread widens the
                                      ///< plume tails, which the log-space fit punishes)
  double sub_sample_s{tuning::kSubSampleS};  ///< one back-trajectory per this much averaging time (≤ 12)
  double max_back_s{tuning::kMaxBackS};      ///< never integrate further back than this
  SigmaScheme scheme{SigmaScheme::BriggsRural};
  EpochSeconds emit_start{};
  EpochSeconds emit_end{};
  double max_range_m{0};             ///< stop trajectories beyond this path length (0: 1.5 × grid diagonal)
};

/// Sparse sensitivities of all observations to one source, one member.
struct SparseColumn {
  std::vector<std::uint32_t> index;  ///< observation indices with H > 0
  std::vector<float> h_s_m3;         ///< sensitivity, s/m³
};

/// Sensitivities of all observations to one source with the release time kept: for each member,
/// one entry per pass of a back-trajectory (sub-sample) over the source (a meandering path can
/// pass it more than once), with its plume for a source emitting at all times (already divided
/// by the observation's number of sub-samples) and the time its air passed the source. Entries
/// are sorted by observation, then path. A source emitting only in a window contributes, per
/// path, its largest entry·release_weight(t_release, edge_s, window) (window_columns()), so one
/// geometry pass serves every release-timing hypothesis.
struct TimedColumns {
  struct Member {
    std::vector<std::uint32_t> index;   ///< observation of each entry (non-decreasing)
    std::vector<std::uint16_t> path;    ///< its sub-sample (entries of one path are consecutive)
    std::vector<float> h_s_m3;          ///< plume of a steady unit source, s/m³
    std::vector<double> t_release;      ///< when the entry's air passed the source (epoch s)
    std::vector<float> edge_s;          ///< smoothing of that time by along-wind dispersion (s)
    void clear() {
      index.clear();
      path.clear();
      h_s_m3.clear();
      t_release.clear();
      edge_s.clear();
    }
  };
  std::vector<Member> member;  ///< per ensemble member
};

/// Beyond this many edge widths (edge_s) from a window's edge a release time is wholly in or out of
/// it: release_weight is exactly 0 for a window ending before t_release − kReleaseEdgeSigmas·edge_s
/// or starting after t_release + kReleaseEdgeSigmas·edge_s (the normal tail there is < 1e-9).
inline constexpr double kReleaseEdgeSigmas = 6.0;

/// Fraction of a release-time distribution N(t_release, edge_s²) inside [window_start, window_end]
/// (1 well inside, 0 well outside). @pre edge_s > 0.
double release_weight(double t_release, double edge_s, EpochSeconds window_start, EpochSeconds window_end) noexcept;

/// release_weight(t_release, edge_s, starts[b], starts[b + 1]) for each b in [b0, b1), written to
/// w[b − b0]: the same values bit for bit, each boundary's normal CDF evaluated once (adjacent
/// blocks share it). @pre edge_s > 0; starts holds at least b1 + 1 entries.
void release_weights(double t_release, double edge_s, const EpochSeconds* starts, std::size_t b0, std::size_t b1,
                     double* w) noexcept;

/// Columns of a source emitting (steadily) only during [window_start, window_end], from its timed
/// columns. @pre window_start < window_end.
void window_columns(const TimedColumns& timed, EpochSeconds window_start, EpochSeconds window_end,
                    std::vector<SparseColumn>& out);

class SourceReceptorOperator {
 public:
  /// Precomputes the back-trajectories of every observation. @pre emit_start < emit_end.
  SourceReceptorOperator(const WindField& wind, const ObservationSet& obs, const Grid& grid,
                         const OperatorOptions& options);

  /// Sensitivities of every observation to a unit source at (x, y) with release height h_m:
  /// out[k] for ensemble member k. With `stack` (exit velocity, temperature and diameter known),
  /// the release height is the stack's effective height: stack.height_m plus the Briggs rise at
  /// each receptor's downwind distance, transport speed and stability (h_m is then unused).
  /// Thread-safe (const, no shared scratch).
  void columns(double x_m, double y_m, double h_m, std::vector<SparseColumn>& out,
               const StackParams* stack = nullptr) const;

  /// As columns(), for a source emitting only during [emit_start, emit_end] (smooth edges as
  /// for the operator's own window). @pre emit_start < emit_end, inside the operator's window
  /// (trajectories reach back only that far).
  void columns_in_window(double x_m, double y_m, double h_m, EpochSeconds emit_start, EpochSeconds emit_end,
                         std::vector<SparseColumn>& out, const StackParams* stack = nullptr) const;

  /// The release-timed sensitivities of every observation to a unit source at (x, y) (see
  /// TimedColumns; stack as for columns()). Thread-safe.
  void timed_columns(double x_m, double y_m, double h_m, TimedColumns& out, const StackParams* stack = nullptr) const;

  [[nodiscard]] EpochSeconds emit_start() const noexcept { return opt_.emit_start; }
  [[nodiscard]] EpochSeconds emit_end() const noexcept { return opt_.emit_end; }

  /// Prior weight of each ensemble member (sums to 1).
  [[nodiscard]] const std::vector<double>& member_weights() const noexcept { return member_weight_; }
  [[nodiscard]] std::size_t members() const noexcept { return member_weight_.size(); }
  [[nodiscard]] std::size_t observations() const noexcept { return obs_->obs.size(); }
  /// Total number of trajectory points held (diagnostics).
  [[nodiscard]] std::size_t trajectory_points() const noexcept;

 private:
  struct Path {                         ///< one back-trajectory, simplified
    std::vector<double> x, y, t, s;     ///< position (m), time (s), cumulative path (m)
    std::vector<std::uint8_t> stability;     ///< met at each vertex (held along the next segment)
    std::vector<float> mixing_height_m, sigma_theta_deg;  ///< σθ scaled to the observation's averaging time
    double rx{}, ry{};                  ///< receptor
    double reach_m{};                   ///< total path length
    double sigma_dir_rad{};             ///< within-member direction spread for this observation
  };
  struct Receptor {
    std::uint32_t obs{};
    std::vector<Path> paths;            ///< sub-samples
  };
  struct TimedPlume {
    double h_s_m3{};     ///< plume of a steady unit source (s/m³)
    double t_release{};  ///< when the air passed the source (epoch s)
    double edge_s{1};    ///< smoothing of that time (s)
  };
  struct Pass {
    std::size_t shift{};  ///< stability shift index
    TimedPlume plume;
  };
  /// Plume contributions of a steady source at (sx, sy) to one sub-sample path: for every
  /// stability shift, each pass of the path over the source (a local maximum of the plume along
  /// the path's segments), with the time its air passed the source. Air that passed outside the
  /// operator's emission span contributes nothing. seg: scratch.
  void contribution(const Path& p, double sx, double sy, double h_m, const StackParams* stack, double z_m,
                    std::vector<TimedPlume>& seg, std::vector<Pass>& passes) const;

  const WindField* wind_;
  const ObservationSet* obs_;
  OperatorOptions opt_;
  std::vector<Receptor> receptors_;
  std::vector<double> member_weight_;
  std::vector<double> cos_k_, sin_k_;
  std::vector<int> shift_k_;
};

}  // namespace plumetrace

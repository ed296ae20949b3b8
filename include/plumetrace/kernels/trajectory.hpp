#pragma once
/// @file trajectory.hpp
/// Trajectories through the time-varying wind field (HYSPLIT-style predictor–corrector: Heun,
/// P' = P + V(P,t)Δt; P'' = P + ½(V(P,t)+V(P',t+Δt))Δt), forward or backward, and stochastic
/// particles (Langevin / Hanna 1982 turbulence, or σθ) that give footprints on the grid.

#include <cstdint>
#include <vector>

#include "plumetrace/geo/grid.hpp"
#include "plumetrace/met/wind_field.hpp"

namespace plumetrace {

struct TrajectoryPoint {
  double x_m{};
  double y_m{};
  EpochSeconds t{};
  double path_m{};  ///< cumulative path length from the start
};

/// Integrate from (x0, y0) at t0 for |duration_s| seconds; duration < 0 goes backward in time.
/// dt_s > 0 is the step magnitude; the step is reduced so that no step moves more than
/// max_step_m (default: 0.75 grid cell as HYSPLIT). Returns start + every step.
std::vector<TrajectoryPoint> trajectory(const WindField& wind, double x0_m, double y0_m,
                                        EpochSeconds t0, double duration_s, double dt_s,
                                        double max_step_m = 1e9);

/// As trajectory(), but stops at the first point that lies outside `grid` (that point is the
/// last one returned): a back-trajectory that has left the analysis grid says nothing more about it.
std::vector<TrajectoryPoint> trajectory_on_grid(const WindField& wind, const Grid& grid, double x0_m,
                                                double y0_m, EpochSeconds t0, double duration_s,
                                                double dt_s, double max_step_m = 1e9);

/// Particle footprint options.
struct FootprintOptions {
  int particles{500};
  double duration_s{3 * 3600.0};   ///< how far back in time
  double dt_s{30.0};
  double receptor_height_m{3.0};
  double surface_layer_fraction{0.5};  ///< STILT: particles below this fraction of zi "see" the surface
  EpochSeconds emit_start{-1e300};   ///< emissions happen only in [emit_start, emit_end]
  EpochSeconds emit_end{1e300};
  std::uint64_t seed{1};
  /// (Added by met.) Homogeneous turbulence for tests and synthetic studies: when > 0, σu = σv =
  /// fixed_sigma_uv_m_s, σw = fixed_sigma_w_m_s (when > 0, else fixed_sigma_uv_m_s) and every
  /// Lagrangian time scale = fixed_lagrangian_time_s (when > 0, else 100 s), at all heights.
  double fixed_sigma_uv_m_s{-1};
  double fixed_sigma_w_m_s{-1};
  double fixed_lagrangian_time_s{-1};
  /// (Added by met.) STILT-R v2 near-field correction ("hnf_plume", Fasoli et al. 2018): a
  /// particle of age τ dilutes into min(h_layer, sqrt(π/2) σz(τ)) instead of h_layer, σz(τ) from
  /// Taylor's theory with the surface layer's σw and T_Lw, so that nearby sources are not diluted
  /// into half the mixed layer. sqrt(π/2) σz is the depth that gives a Gaussian plume's
  /// ground-level concentration for a ground-level source.
  bool near_field_correction{true};
};

/// (Added by met.) One particle's state.
struct ParticlePosition {
  double x_m{};
  double y_m{};
  double z_m{};     ///< height above ground
  EpochSeconds t{};
};

/// (Added by met.) The particles of particle_footprint (same release, same random stream for a
/// seed) at the given backward travel times `ages_s` (seconds since each particle's release, each
/// rounded to the nearest step). Result [age][particle]. For tests (Taylor's theory) and plots.
std::vector<std::vector<ParticlePosition>> particle_positions(const WindField& wind, double x_m,
                                                              double y_m, EpochSeconds t_start,
                                                              double averaging_s,
                                                              const std::vector<double>& ages_s,
                                                              const FootprintOptions& options = {});

/// Backward stochastic-particle footprint of a receptor at (x, y) averaged over the receptor's
/// sampling interval [t_start, t_start + averaging_s] (averaging_s = 0 for an instantaneous sample):
/// particles are released uniformly over that interval and moved backward with the mean wind plus
/// Langevin turbulence (Hanna 1982 σu, σv, σw and Lagrangian time scales by stability class;
/// σv from σθ when measured), reflected at the ground and the mixing lid.
/// Result: per grid cell (row-major, grid.size()), the sensitivity of the receptor's mean
/// concentration to a unit emission rate from that cell, in s/m³ (i.e. (g/m³) per (g/s)), computed
/// STILT-style as Σ Δt_in_surface_layer / (N · h_layer · A_cell). Cells upwind of nothing are 0.
std::vector<float> particle_footprint(const WindField& wind, const Grid& grid, double x_m, double y_m,
                                      EpochSeconds t_start, double averaging_s,
                                      const FootprintOptions& options = {});

}  // namespace plumetrace

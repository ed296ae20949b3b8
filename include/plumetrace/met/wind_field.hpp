#pragma once
/// @file wind_field.hpp
/// The wind field u,v(x,y,t) in the analysis CRS (m/s, u eastward = +x, v northward = +y; grid
/// convergence of the projection is neglected, < 2 deg inside a UTM zone), plus the per-time
/// stability, σθ and mixing height. Built from station readings (hourly vector means, inverse-
/// distance weighting across stations, linear in time) or from gridded met (GRIB/NetCDF via GDAL).

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "plumetrace/geo/crs.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/met/stability.hpp"

namespace plumetrace {

/// Meteorology at one place and time.
struct MetSample {
  double u_m_s{};             ///< eastward
  double v_m_s{};             ///< northward
  double speed_m_s{};         ///< scalar mean speed, >= kMinWindSpeed
  double sigma_theta_deg{};   ///< measured σθ, NaN when not measured
  double sigma_theta_period_s{3600};  ///< the period σθ was measured over (its readings' `period`)
  Stability stability{Stability::D};
  double mixing_height_m{800};
  double obukhov_length_m{};  ///< NaN when unknown
  double friction_velocity_m_s{};  ///< NaN when unknown
};

/// Winds slower than this are treated as this speed (calm handling; direction kept from the
/// vector mean or the last non-calm hour). m/s.
inline constexpr double kMinWindSpeed = 0.5;

struct WindFieldOptions {
  double idw_power{2.0};
  double roughness_m{0.1};        ///< for Golder's relation
  double default_speed_m_s{2.0};  ///< when no wind is available at all (reported via wind_source)
};

class WindField {
 public:
  /// From the case: met/ grids when present, else the stations' wind_speed/wind_dir readings.
  /// `tr` maps lon/lat to the analysis CRS. Met variables used: wind_speed, wind_dir, wind_dir_std,
  /// cloud_cover, stability, obukhov_length, friction_velocity, mixing_height, temperature.
  ///
  /// Stations: wind_speed and wind_dir rows of the same station and start time are paired
  /// (speed units m/s, km/h, kt/kn/knots, mph); each pair goes to the hour containing the middle of
  /// its averaging period; per station and hour the slice holds the vector mean (u, v) and the
  /// scalar mean speed, at the hour's centre (HH:30). A vector mean below kMinWindSpeed keeps its
  /// own direction (or the station's last, else next, non-calm direction; else from the north)
  /// at kMinWindSpeed. Hours without a value at a station are NaN there (IDW uses the others).
  /// Per slice, from the network means within ±3 h: stability = `stability` reading (1..6 = A..F)
  /// > Golder(obukhov_length, roughness) > Turner(solar elevation at the stations' centroid,
  /// cloud_cover, mean speed); σθ = mean wind_dir_std (else -1); mixing height = mixing_height
  /// reading else default_mixing_height_m; L and u* when measured, else NaN. t_begin/t_end span
  /// the first to the last hour bin.
  /// Met grids (first usable one): resampled onto a regular grid in the analysis CRS (spacing =
  /// the native spacing at the grid centre, at most 1000 nodes a side) by bilinear interpolation
  /// in the native grid (lon/lat when crs_wkt is empty or geographic, 0..360 longitudes handled;
  /// else transformed through crs_wkt); outside the native grid the edge value is extended; u, v
  /// are taken as east/north components. Scalar met per slice as for stations.
  /// @throws InvalidInput when a met grid is inconsistent or no station can be located.
  static WindField from_case(const Case& c, const Transformer& tr, const WindFieldOptions& o = {});

  /// A uniform, steady field (tests, synthetic studies). source() is "uniform".
  static WindField uniform(double u_m_s, double v_m_s, Stability s, double mixing_height_m = 800,
                           double sigma_theta_deg = -1);

  /// (Added by met.) A gridded field sampled from an analytic function `fn(x_m, y_m, t, u, v)` on
  /// `w` x `h` nodes (node (row i, col j) at x = x0_m + j dx_m, y = y1_m - i dy_m, row 0 north) at
  /// each of `times` (ascending). Stability, mixing height and σθ are the same for every slice.
  /// Used by tests (reversibility in solid-body rotation) and synthetic studies. No calm floor
  /// is applied to the sampled values.
  static WindField from_function(
      double x0_m, double y1_m, double dx_m, double dy_m, int w, int h,
      const std::vector<EpochSeconds>& times,
      const std::function<void(double, double, EpochSeconds, double&, double&)>& fn,
      Stability s = Stability::D, double mixing_height_m = 800, double sigma_theta_deg = -1);

  /// Sample at (x, y) in the analysis CRS and time t. Outside the data's time span the nearest
  /// time is used; never NaN. u, v and speed are interpolated (IDW or bilinear, linear in time);
  /// stability, σθ, L and u* come from the nearest slice, the mixing height is linear in time.
  [[nodiscard]] MetSample at(double x_m, double y_m, EpochSeconds t) const noexcept;
  /// Wind vector only (hot path of trajectories).
  void wind(double x_m, double y_m, EpochSeconds t, double& u_m_s, double& v_m_s) const noexcept;
  /// Wind vectors of `n` points at once: u[i], v[i] = wind(x[i], y[i], t[i]) to ~1e-15 relative
  /// (summation order and the reciprocal differ from wind(); never NaN). Fastest when runs of 8
  /// consecutive points fall between the same two slices (e.g. particles released in time order
  /// and moved in lockstep): station IDW (power 2, every node valid in both slices) is then done
  /// for 8 points per SIMD operation; all other points go through wind().
  void wind_batch(const double* x_m, const double* y_m, const EpochSeconds* t, std::size_t n,
                  double* u_m_s, double* v_m_s) const noexcept;

  /// "stations", "met-grid" or "default" (no wind data: default_speed from the north, a warning).
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  /// Time span covered by wind data.
  [[nodiscard]] EpochSeconds t_begin() const noexcept { return t_begin_; }
  [[nodiscard]] EpochSeconds t_end() const noexcept { return t_end_; }

  /// (Added by met.) Build the derived lookup structures (time index, packed per-slice node
  /// arrays, network mean speeds) from `nodes`/`slices`/grid members. Called by every factory;
  /// call it yourself after filling or changing the public members by hand. NaN values of a
  /// gridded slice are replaced by that slice's mean. @throws InvalidInput on inconsistent sizes.
  void finalize();

  /// Mean scalar wind speed over all slices and nodes (m/s, >= kMinWindSpeed); 2 m/s when the
  /// field has no speeds at all. Used to size time steps and travel-time windows.
  [[nodiscard]] double mean_speed_m_s() const noexcept;
  /// (Added by met.) Index k and weight a such that a time t is interpolated as
  /// (1 - a) * slices[k] + a * slices[k + 1] (a = 0 and k = last when one slice or t outside).
  void time_index(EpochSeconds t, std::size_t& k, double& a) const noexcept;

  // Representation (public for tests/benchmarks; treat as read-only).
  struct Node {                 ///< a station (or grid node) with an hourly series
    double x_m{}, y_m{};
  };
  struct Slice {                ///< one time step: values per node
    EpochSeconds t{};
    std::vector<float> u, v, speed;  ///< per node; NaN where the node has no value at t
    double sigma_theta_deg{-1};      ///< network mean, -1 when unmeasured
    double sigma_theta_period_s{3600};  ///< the period σθ was measured over (median `period` of its readings)
    Stability stability{Stability::D};
    double mixing_height_m{800};
    double obukhov_length_m{};       ///< NaN when unknown
    double friction_velocity_m_s{};  ///< NaN when unknown
    double mean_speed_m_s{};         ///< (added) network mean scalar speed (finalize() fills it when 0)
  };
  std::vector<Node> nodes;
  std::vector<Slice> slices;          ///< sorted by t
  bool gridded{false};                ///< nodes form a regular grid (bilinear) instead of IDW
  int grid_w{0}, grid_h{0};           ///< when gridded: nodes in row-major order, row 0 north
  /// When gridded: node (row i, col j) is at x = grid_x0 + j grid_dx, y = grid_y1 - i grid_dy
  /// (node positions, not cell edges; grid_dx, grid_dy > 0).
  double grid_x0{}, grid_y1{}, grid_dx{}, grid_dy{};
  double idw_power{2.0};
  double roughness_m{0.1};            ///< (added) z0 for class-based turbulence defaults

 private:
  std::string source_{"default"};
  EpochSeconds t_begin_{}, t_end_{};

  // Derived by finalize().
  std::vector<double> slice_t_;            ///< slice times
  double slice_dt_{0};                     ///< > 0 when slices are equally spaced (direct index)
  std::vector<double> node_x_, node_y_;    ///< SoA copy of nodes
  double bbox_m_{0};                       ///< max |x - x0|, |y - y0| over the nodes (node 0's offsets)
  std::vector<unsigned char> all_valid_;   ///< per slice: every node has a value
  std::vector<double> uv_;                 ///< per slice: u[0..n), v[0..n) as double (IDW fast path)
  struct Packed {                          ///< valid nodes of one slice (IDW when some are missing)
    std::vector<double> x, y, u, v, s;
  };
  std::vector<Packed> packed_;
  bool finalized_{false};

  void unfinalized(double x, double y, EpochSeconds t, double& u, double& v, double& s) const noexcept;
  void idw_fast(std::size_t k, double a, double x, double y, double& u, double& v) const noexcept;
  void idw_one(std::size_t k, double x, double y, double& u, double& v, double* s) const noexcept;
  void idw_two(std::size_t k, double a, double x, double y, double& u, double& v,
               double* s) const noexcept;
  void bilinear(std::size_t k, double a, double x, double y, double& u, double& v,
                double* s) const noexcept;
};

}  // namespace plumetrace

#pragma once
/// @file wind_field.hpp
/// The wind field u,v(x,y,t) in the analysis CRS (m/s, u eastward = +x, v northward = +y; grid
/// convergence of the projection is neglected, < 2 deg inside a UTM zone), plus the per-time
/// stability, σθ and mixing height. Built from station readings (hourly vector means, inverse-
/// distance weighting across stations, linear in time) or from gridded met (GRIB/NetCDF via GDAL).

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
  static WindField from_case(const Case& c, const Transformer& tr, const WindFieldOptions& o = {});

  /// A uniform, steady field (tests, synthetic studies).
  static WindField uniform(double u_m_s, double v_m_s, Stability s, double mixing_height_m = 800,
                           double sigma_theta_deg = -1);

  /// Sample at (x, y) in the analysis CRS and time t. Outside the data's time span the nearest
  /// time is used; never NaN.
  [[nodiscard]] MetSample at(double x_m, double y_m, EpochSeconds t) const noexcept;
  /// Wind vector only (hot path of trajectories).
  void wind(double x_m, double y_m, EpochSeconds t, double& u_m_s, double& v_m_s) const noexcept;

  /// "stations", "met-grid" or "default" (no wind data: default_speed from the north, a warning).
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  /// Time span covered by wind data.
  [[nodiscard]] EpochSeconds t_begin() const noexcept { return t_begin_; }
  [[nodiscard]] EpochSeconds t_end() const noexcept { return t_end_; }

  // Representation (public for tests/benchmarks; treat as read-only).
  struct Node {                 ///< a station (or grid node) with an hourly series
    double x_m{}, y_m{};
  };
  struct Slice {                ///< one time step: values per node
    EpochSeconds t{};
    std::vector<float> u, v, speed;  ///< per node; NaN where the node has no value at t
    double sigma_theta_deg{-1};      ///< network mean, -1 when unmeasured
    Stability stability{Stability::D};
    double mixing_height_m{800};
    double obukhov_length_m{};       ///< NaN when unknown
    double friction_velocity_m_s{};  ///< NaN when unknown
  };
  std::vector<Node> nodes;
  std::vector<Slice> slices;          ///< sorted by t
  bool gridded{false};                ///< nodes form a regular grid (bilinear) instead of IDW
  int grid_w{0}, grid_h{0};           ///< when gridded: nodes in row-major order, row 0 north
  double grid_x0{}, grid_y1{}, grid_dx{}, grid_dy{};
  double idw_power{2.0};

 private:
  std::string source_{"default"};
  EpochSeconds t_begin_{}, t_end_{};
};

}  // namespace plumetrace

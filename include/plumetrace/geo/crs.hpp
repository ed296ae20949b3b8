#pragma once
/// @file crs.hpp
/// Coordinate transforms between WGS 84 lon/lat and the analysis CRS, through PROJ.
/// Each Transformer owns its own PROJ context (PJ_CONTEXT is not thread-safe): make one per thread
/// (or use `thread_local`), never share one between threads.

#include <memory>
#include <string>

namespace plumetrace {

/// "EPSG:326zz" (north) or "EPSG:327zz" (south) for the UTM zone containing (lon, lat),
/// with the Norway/Svalbard exceptions. @pre lon in [-180, 180], lat in [-80, 84].
std::string utm_crs_for(double lon_deg, double lat_deg);

/// lon/lat (WGS 84, degrees, east/north order) <-> x/y in a projected CRS (metres, easting/northing).
class Transformer {
 public:
  /// @throws InvalidInput when `crs` is not understood by PROJ or is not projected in metres.
  explicit Transformer(const std::string& crs);
  ~Transformer();
  Transformer(Transformer&&) noexcept;
  Transformer& operator=(Transformer&&) noexcept;
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  /// Forward: WGS 84 degrees -> metres. Returns false (x, y = NaN) when PROJ cannot transform.
  bool forward(double lon_deg, double lat_deg, double& x_m, double& y_m) const noexcept;
  /// Inverse: metres -> WGS 84 degrees.
  bool inverse(double x_m, double y_m, double& lon_deg, double& lat_deg) const noexcept;
  /// The CRS as given ("EPSG:32650").
  [[nodiscard]] const std::string& crs() const noexcept;
  /// WKT2 of the CRS, for writing rasters.
  [[nodiscard]] std::string wkt() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plumetrace

#pragma once
/// @file readers.hpp
/// One reader per case-folder file kind (README "Case folder"). load_case() calls them; the server
/// calls them on uploads. Each reader records every bad row in `diag` as
/// `reject(file, line, reason)` with `file` the name it was given (relative to the case folder),
/// and never throws for bad rows. A file that cannot be used at all (missing required column,
/// unreadable, not georeferenced) is one rejection with line 1 (header problems) or 0 (the file).
///
/// Conventions of the stored values:
/// - variable names are lower-cased and trimmed; units are kept verbatim;
/// - readings of `stability` (Pasquill class) are stored as 1..6 for A..F (a letter `A`..`F`,
///   case-insensitive, or a number 1..6 in the file);
/// - coordinates are WGS 84 lon/lat degrees (OGR inputs are reprojected when they carry a CRS).

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/diagnostics.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

/// Limits applied to rasters right after opening them, before reading pixels.
struct RasterLimits {
  int max_side_px{100000};              ///< width and height each at most this
  double max_pixels{4.0e9};             ///< width * height * bands at most this
};

/// Parse case.json text. Throws InvalidInput naming `file` and the line for malformed JSON, a
/// key of the wrong type or an unknown time zone; unknown keys produce warnings in `diag`.
[[nodiscard]] CaseSettings parse_case_settings(std::string_view json_text, const std::string& file,
                                               Diagnostics& diag);

/// Read case.json from disk (see parse_case_settings).
[[nodiscard]] CaseSettings read_case_settings(const std::filesystem::path& path,
                                              const std::string& file, Diagnostics& diag);

/// sources.csv: `id,lon,lat` required; `name` (default: the id), `height_m` (default 0 m with a
/// warning), `industry`, `pollutants` (`;`-separated), `jurisdiction`, `prior` (> 0, default 1),
/// `exit_velocity_m_s`, `exit_temp_k` or `exit_temp_c`, `stack_diameter_m` optional; any other
/// column goes to Source::extra. Duplicate ids: the later row is rejected.
[[nodiscard]] std::vector<Source> read_sources_csv(CsvReader& csv, const std::string& file,
                                                   Diagnostics& diag);

/// Sources from any OGR vector (GeoJSON, GPKG, Shapefile, FlatGeobuf): point features whose
/// properties carry the same names as sources.csv; reprojected to WGS 84 when the layer has
/// another CRS. Source::line is the 1-based feature number.
[[nodiscard]] std::vector<Source> read_sources_ogr(const std::filesystem::path& path,
                                                   const std::string& file, Diagnostics& diag);

/// stations.csv: `id,lon,lat` required; `name` (default: the id), `height_m` (default 0).
[[nodiscard]] std::vector<Station> read_stations_csv(CsvReader& csv, const std::string& file,
                                                     Diagnostics& diag);

/// paths.csv (open-path sensors): `id,lon1,lat1,lon2,lat2` required; `name` (default: the id),
/// `height_m` (default 0). Each beam becomes a Station at its first end with `path_end` its second.
/// Rejected with a reason: an id that stations.csv (`stations`) or an earlier row already has,
/// ends outside the world, ends that coincide, a beam longer than kMaxPathLengthM.
[[nodiscard]] std::vector<Station> read_paths_csv(CsvReader& csv, const std::string& file,
                                                  const std::vector<Station>& stations, Diagnostics& diag);

/// Longest open path accepted (m): long-path DOAS and FTIR reach a few km, fence-line lasers less.
inline constexpr double kMaxPathLengthM = 10000.0;

/// readings.csv (long format): `station_id,time,variable,value` required, `unit`, `period`
/// optional. Rows are validated (known station, finite value, pollutant >= 0, wind_dir in
/// [0, 360], wind_speed >= 0, cloud_cover in [0, 8], stability A-F), deduplicated on
/// (station, time, variable) with the first occurrence kept, periods inferred per
/// station+variable series (median positive spacing, else 3600 s) and sorted by
/// (station, variable, time). Naive times are read in `tz` (one warning per file).
/// `accepted` (when given) receives the number of rows kept.
[[nodiscard]] ReadingTable read_readings_csv(CsvReader& csv, const std::string& file,
                                             const std::vector<Station>& stations,
                                             const TimeZone& tz, Diagnostics& diag,
                                             std::size_t* accepted = nullptr);

/// A wide trace CSV: `time,lon,lat` required, `alt_m`, `platform` optional, then one numeric
/// column per variable (empty cell = NaN). Rows are sorted by time (a warning when the file was
/// not). `name` is the trace name (file stem).
[[nodiscard]] Trace read_trace_csv(CsvReader& csv, const std::string& file, const std::string& name,
                                   const TimeZone& tz, Diagnostics& diag);

/// A trace from an OGR file: GPX (track points, else route points, else waypoints; `<time>`,
/// `<ele>` and extension elements as variables) or GeoJSON/GPKG (Point features with a `time`
/// property, or LineStrings whose M values are epoch seconds).
[[nodiscard]] Trace read_trace_ogr(const std::filesystem::path& path, const std::string& file,
                                   const std::string& name, const TimeZone& tz, Diagnostics& diag);

/// Metadata of a georeferenced raster under imagery/ (pixels are not read). Band variable, unit
/// and time come from band metadata (`variable`, `unit`, `time`), the band description and unit
/// type, then from the sidecar `imagery/NAME.json` (`{"variable","unit","time"}` for all bands or
/// `{"bands":[{...}, ...]}` per band), which wins. Opened with a driver allow-list (GTiff, COG,
/// PNG, JPEG, netCDF, HFA, ...); `/vsi` paths and VRT are refused. Returns nullopt (with a
/// rejection) when the file is unusable.
[[nodiscard]] std::optional<Imagery> read_imagery(const std::filesystem::path& path,
                                                  const std::string& file, const TimeZone& tz,
                                                  Diagnostics& diag,
                                                  const RasterLimits& limits = RasterLimits{});

/// An administrative boundary layer (polygons / multipolygons, not repaired). `code_field` ""
/// = first of adcode, code; `name_field` "" = name. Features without a polygon are rejected.
/// A plain GeoJSON FeatureCollection (.geojson/.json, WGS 84, every feature a (multi)polygon with
/// string code and name) is parsed with nlohmann::json, ~3x faster than GDAL's driver and with
/// the same result; every other file goes through GDAL/OGR (read_boundaries_with_gdal).
[[nodiscard]] std::optional<BoundaryLayer> read_boundaries(const std::filesystem::path& path,
                                                           const std::string& file,
                                                           const std::string& code_field,
                                                           const std::string& name_field,
                                                           Diagnostics& diag);

/// read_boundaries through GDAL/OGR always (any OGR vector format, any CRS).
[[nodiscard]] std::optional<BoundaryLayer> read_boundaries_with_gdal(const std::filesystem::path& path,
                                                                     const std::string& file,
                                                                     const std::string& code_field,
                                                                     const std::string& name_field,
                                                                     Diagnostics& diag);

/// A gridded wind field from met/: GRIB (GRIB_ELEMENT UGRD/VGRD, GRIB_VALID_TIME), NetCDF
/// (variables u/v, u10/v10, eastward_wind/northward_wind; NETCDF_DIM_time with its units) or a
/// GeoTIFF whose bands are described `u` and `v` (band metadata `time`, or sidecar
/// `met/NAME.json` `{"time": ...}` / `{"times": [...]}`). Steps with both u and v are kept,
/// sorted by time. Returns nullopt (with a rejection) when no u/v pair with a time is found.
[[nodiscard]] std::optional<MetGrid> read_met_grid(const std::filesystem::path& path,
                                                   const std::string& file, const TimeZone& tz,
                                                   Diagnostics& diag,
                                                   const RasterLimits& limits = RasterLimits{});

/// Stability letter or number -> 1..6 (A=1 .. F=6); 0 when not a Pasquill class.
[[nodiscard]] int pasquill_class_number(std::string_view text) noexcept;

}  // namespace plumetrace

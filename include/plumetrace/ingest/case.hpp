#pragma once
/// @file case.hpp
/// The in-memory case: everything read from a case folder (README "Case folder"), validated, in SI-ish
/// units, with times as seconds since the Unix epoch (UTC). This is the data model every later room
/// (geo, met, fusion, kernels, inversion) reads; ingest is the only room that writes it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plumetrace/core/diagnostics.hpp"
#include "plumetrace/ingest/signal_tables.hpp"

namespace plumetrace {

/// Seconds since 1970-01-01T00:00:00Z. Double keeps sub-millisecond precision until year 2255.
using EpochSeconds = double;

/// `case.json` settings. Absent keys keep these defaults.
struct CaseSettings {
  std::string name;
  std::string pollutant;           ///< default variable for trace/regions ("" = none given)
  std::string units;               ///< units of that pollutant as reported ("ug/m3", ...)
  std::string crs;                 ///< analysis CRS as a user string ("EPSG:32650"); "" = auto UTM
  std::optional<double> grid_m;    ///< analysis grid cell size in metres; unset = chosen from extent
  struct Boundaries {
    std::string file;              ///< relative to the case folder; "" = boundaries.geojson if present
    std::string code_field;        ///< "" = first of adcode, code
    std::string name_field;        ///< "" = name
  } boundaries;
  std::string timezone;            ///< for naive times: "+08:00", "UTC", or an IANA name; "" = UTC
  /// Known regional background per pollutant (lower-case name -> value in the case's units):
  /// `"background": {"so2": 6.0}`. A plain number `"background": 6.0` applies to every pollutant
  /// and is kept under the key "*".
  std::map<std::string, double> background;
  /// How a survey trace is read (fusion/mobile.hpp): `"traces": {"NAME": {...}, "*": {...}}` by
  /// trace name (the file stem), "*" for every trace; a trace's own entry wins key by key.
  /// Cars and boats differ only here.
  struct TraceSettings {
    std::optional<double> lag_s;                ///< sensor lag (s); unset or "auto": estimated
    std::optional<double> inlet_height_m;       ///< above ground or water; unset: the trace's alt, else 2 m
    std::optional<double> background_window_s;  ///< rolling background window; unset: 600 s
    std::optional<double> cell_m;               ///< aggregation cell; unset: two analysis-grid cells
  };
  std::map<std::string, TraceSettings> traces;
  /// The settings of trace `name`: its own entry over "*".
  [[nodiscard]] TraceSettings trace_settings(const std::string& name) const {
    TraceSettings out;
    for (const std::string& key : {std::string("*"), name}) {
      const auto it = traces.find(key);
      if (it == traces.end()) continue;
      if (it->second.lag_s) out.lag_s = it->second.lag_s;
      if (it->second.inlet_height_m) out.inlet_height_m = it->second.inlet_height_m;
      if (it->second.background_window_s) out.background_window_s = it->second.background_window_s;
      if (it->second.cell_m) out.cell_m = it->second.cell_m;
    }
    return out;
  }

  /// The known background of `pollutant` (lower-case), or nullopt when case.json gives none.
  [[nodiscard]] std::optional<double> background_for(const std::string& pollutant) const {
    if (const auto it = background.find(pollutant); it != background.end()) return it->second;
    if (const auto it = background.find("*"); it != background.end()) return it->second;
    return std::nullopt;
  }
};

/// One registered facility (candidate source). lon/lat WGS 84 degrees.
struct Source {
  std::string id;
  std::string name;
  double lon{};
  double lat{};
  double height_m{};                     ///< release (stack) height above ground
  std::string industry;
  std::vector<std::string> pollutants;   ///< lower-case variable names it is permitted/known to emit
  std::string jurisdiction;              ///< as declared in the registry (code), may be empty
  double prior{1.0};                     ///< relative prior weight, > 0
  std::optional<double> exit_velocity_m_s;
  std::optional<double> exit_temp_k;
  std::optional<double> stack_diameter_m;
  /// Its usual (permitted) emission rate of the traced pollutant, g/s, when the registry gives
  /// one (`permitted_g_s`): what it emits on an ordinary day, part of "no release".
  std::optional<double> permitted_g_s;
  std::map<std::string, std::string> extra;  ///< any other column/property, verbatim
  std::size_t line{};                    ///< line (CSV) or feature number in its file
};

/// One fixed monitoring station.
struct Station {
  std::string id;
  std::string name;
  double lon{};
  double lat{};
  double height_m{};  ///< sampling height above ground
  /// An open-path sensor (paths.csv: a fence-line laser, an FTIR): the far end of its beam, WGS 84
  /// lon/lat (lon/lat above is the near end). Its readings are the mean along the beam.
  std::optional<std::pair<double, double>> path_end;
};

/// One value of `readings.csv`. Variables and units are interned in ReadingTable.
struct Reading {
  EpochSeconds time_s{};     ///< START of the averaging period
  double period_s{};         ///< averaging period length (given, inferred, or 3600)
  double value{};            ///< as reported, in `units[unit]`; `stability`: Pasquill class A..F as 1..6
  std::uint32_t station{};   ///< index into Case::stations
  std::uint16_t variable{};  ///< index into ReadingTable::variables
  std::uint16_t unit{};      ///< index into ReadingTable::units
  bool period_given{};       ///< true when the row had a `period`
};

/// Long-format readings, deduplicated on (station, time, variable): the first occurrence wins and
/// each later duplicate is reported as a rejection.
struct ReadingTable {
  std::vector<std::string> variables;  ///< lower-case names: "so2", "wind_speed", ...
  std::vector<std::string> units;      ///< verbatim unit strings ("ug/m3", "m/s", "")
  std::vector<Reading> rows;           ///< sorted by (station, variable, time)

  /// Index of a variable name, or -1 when no reading has it.
  [[nodiscard]] int variable_index(const std::string& name) const noexcept {
    for (std::size_t i = 0; i < variables.size(); ++i)
      if (variables[i] == name) return static_cast<int>(i);
    return -1;
  }
};

/// One mobile survey trace (a vehicle, boat or drone-borne sensor), one file each.
struct Trace {
  std::string name;                    ///< file stem ("car_01")
  std::string file;                    ///< path relative to the case folder
  std::string platform;                ///< from a `platform` column/property, else the name
  std::vector<EpochSeconds> time_s;    ///< per sample, sorted ascending
  std::vector<double> lon;
  std::vector<double> lat;
  std::vector<double> alt_m;           ///< NaN where unknown
  std::vector<std::string> variables;  ///< measured variables, lower-case
  std::vector<std::vector<double>> values;  ///< values[v][i]; NaN where that sample lacks v
  [[nodiscard]] std::size_t size() const noexcept { return time_s.size(); }
};

/// One band of a georeferenced raster under imagery/.
struct ImageryBand {
  int band{};                          ///< 1-based GDAL band number
  std::string variable;                ///< from the band description or the JSON sidecar
  std::string unit;
  std::optional<EpochSeconds> time_s;  ///< acquisition time, when known
  std::optional<double> nodata;
};

/// A raster under imagery/: metadata only; pixels are read on demand by fusion/tiles.
struct Imagery {
  std::string name;                    ///< file stem ("drone_0601")
  std::string file;                    ///< path relative to the case folder
  std::filesystem::path path;          ///< absolute path
  int width{};
  int height{};
  double geotransform[6]{};            ///< GDAL affine geotransform
  std::string crs_wkt;                 ///< WKT of the raster's CRS ("" = assume WGS 84)
  std::vector<ImageryBand> bands;
  double lon_min{}, lat_min{}, lon_max{}, lat_max{};  ///< WGS 84 bounds
};

/// One administrative polygon as read (not yet repaired: geo repairs and indexes them).
/// Rings are closed or not as in the file; coordinates WGS 84 lon/lat.
struct BoundaryFeature {
  std::string code;
  std::string name;
  /// polygons[p][0] is the outer ring, [1..] holes; each ring is a list of (lon, lat).
  std::vector<std::vector<std::vector<std::pair<double, double>>>> polygons;
};

struct BoundaryLayer {
  std::string file;                    ///< path as resolved
  std::vector<BoundaryFeature> features;
};

/// A gridded wind field read from met/ (u, v in m/s on a regular lon/lat or projected grid).
struct MetGrid {
  std::string file;
  int width{};
  int height{};
  double geotransform[6]{};
  std::string crs_wkt;
  std::vector<EpochSeconds> times;     ///< one per time step (size T)
  std::vector<float> u;                ///< [T][height][width], m/s eastward, NaN = missing
  std::vector<float> v;                ///< [T][height][width], m/s northward
};

/// Everything read from a case folder.
struct Case {
  std::filesystem::path dir;
  CaseSettings settings;
  std::vector<Source> sources;
  std::vector<Station> stations;
  ReadingTable readings;
  std::vector<Trace> traces;
  std::vector<Imagery> imagery;
  std::optional<BoundaryLayer> boundaries;
  std::vector<MetGrid> met;
  MonitoringTables monitoring;  ///< cems.csv, power.csv, mandates.csv
  Diagnostics diagnostics;
  /// number of data rows/features accepted per file (relative path -> count), for `inspect`
  std::map<std::string, std::size_t> accepted_rows;
};

/// Read a whole case folder. Never throws for bad rows (they go to `diagnostics`); throws
/// InvalidInput only when the folder itself is unusable (missing, not a directory, unreadable
/// case.json). Unknown files produce a warning.
Case load_case(const std::filesystem::path& dir);

}  // namespace plumetrace

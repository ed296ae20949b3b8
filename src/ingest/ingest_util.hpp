#pragma once
/// @file ingest_util.hpp
/// Private helpers shared by the ingest readers (not installed, not part of the public surface).

#include <cstdio>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <vector>
#include <optional>
#include <string>
#include <string_view>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/diagnostics.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/ingest/case.hpp"

namespace plumetrace::ingest_detail {

/// What a variable measures, for range checks of its values.
enum class VariableKind {
  kConcentration,  ///< any pollutant: >= 0
  kWindSpeed,      ///< m/s, >= 0
  kWindDir,        ///< degrees FROM, [0, 360]
  kTemperature,    ///< degC, [-100, 100]
  kCloudCover,     ///< okta, [0, 8]
  kWindDirStd,     ///< degrees, [0, 180]
  kObukhov,        ///< m, any finite
  kFrictionVelocity,  ///< m/s, >= 0
  kStability,      ///< Pasquill A-F stored as 1..6
  kMixingHeight,   ///< m, >= 0
  kHumidity,       ///< %, [0, 100]
  kPressure,       ///< > 0
};

/// Kind of a lower-case variable name; every name that is not a known met variable is a
/// concentration.
VariableKind variable_kind(std::string_view lower_name) noexcept;

/// Check a value of a variable of that kind; returns the reason for rejection or "" when fine.
/// `value` for kStability must already be the class number 1..6.
std::string check_value(VariableKind kind, std::string_view variable, double value);

/// Format a double compactly ("95.2", "1e+30").
inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

/// Format a double so that it parses back to the same value (17 significant digits).
inline std::string exact_num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// Quote a field for a message, shortened to 40 bytes.
inline std::string quote_text(std::string_view s) {
  const bool cut = s.size() > 40;
  std::string r;
  r.reserve(45);
  r.push_back('\'');
  r.append(cut ? s.substr(0, 37) : s);
  if (cut) r.append("...");
  r.push_back('\'');
  return r;
}

/// Common structural checks of one record against its header: column count, invalid UTF-8,
/// unterminated quote. Rejects (and returns false) when any fails.
bool check_record(const CsvRecord& rec, const CsvHeader& header, const std::string& file,
                  Diagnostics& diag);

/// Read the header of a CSV; rejects "empty file" (warning) and returns false when there is none.
bool read_header(CsvReader& csv, CsvHeader& header, const std::string& file, Diagnostics& diag);

/// Reject the whole file (line 1) for the first missing required column; false when one is missing.
bool require_columns(const CsvHeader& h, std::initializer_list<const char*> names,
                     const std::string& file, Diagnostics& diag);

/// Parse a finite number from column `col`; on failure reject the row ("column NAME: empty" or
/// "column NAME: 'abc' is not a finite number") and return false.
bool number_field(const CsvRecord& rec, int col, const char* name, double& out,
                  const std::string& file, Diagnostics& diag);

/// A producer of records (a CSV reader, or OGR features turned into records); false at the end.
using RowSource = std::function<bool(CsvRecord&)>;

/// Sources from records under header `h` (the body of read_sources_csv).
std::vector<Source> sources_from_rows(const CsvHeader& h, const RowSource& next_row,
                                      const std::string& file, Diagnostics& diag);

/// A trace from records under header `h` (the body of read_trace_csv).
Trace trace_from_rows(const CsvHeader& h, const RowSource& next_row, const std::string& file,
                      const std::string& name, const TimeZone& tz, Diagnostics& diag);

/// The boundary layer of a plain GeoJSON FeatureCollection (WGS 84, Polygon/MultiPolygon
/// features, string code and name properties on every feature), read in one pass; nullopt when
/// the file is anything else, and the caller reads it with GDAL (geojson_boundaries.cpp).
std::optional<BoundaryLayer> read_plain_geojson_boundaries(const std::filesystem::path& path,
                                                           const std::string& code_field,
                                                           const std::string& name_field);

}  // namespace plumetrace::ingest_detail

#pragma once
/// @file cases.hpp
/// Case folders kept by the service: which names a client may use, live readings in and out,
/// and a case folder written out for the pipeline.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plumetrace/core/diagnostics.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/server/store.hpp"

namespace plumetrace::server {

/// A case name: 1 to 64 of [A-Za-z0-9_-], not starting with '-'.
[[nodiscard]] bool valid_case_name(std::string_view name) noexcept;

/// A case file path from CONTRACT §1's allow-list: `case.json`, `sources.(csv|geojson|gpkg)`,
/// `stations.csv`, `readings.csv`, `paths.csv`, `cems.csv`, `power.csv`, `mandates.csv`,
/// `boundaries.(geojson|gpkg|json)`, `traces/NAME.(csv|gpx|geojson|gpkg)`,
/// `imagery/NAME.(tif|tiff|png|jpg|jpeg|json)`, `met/NAME.(grib|grib2|grb|grb2|nc|tif|tiff|json)`,
/// with NAME 1 to 64 of [A-Za-z0-9_.-], not starting with '.', no "..".
[[nodiscard]] bool valid_case_path(std::string_view path) noexcept;

/// The bytes of the stored blob `sha256`. @throws Unavailable when it cannot be read.
[[nodiscard]] std::string read_blob(const Store& store, const std::string& sha256);

/// The case's settings from its stored case.json (defaults when there is none).
/// @throws UnusableData when case.json is broken.
[[nodiscard]] CaseSettings stored_settings(Store& store, const std::string& case_name);

/// What an append of readings did.
struct ReadingsReport {
  std::size_t valid{};              ///< rows that passed validation (duplicates within the body once)
  std::size_t added{};              ///< of those, rows new to the store
  std::vector<Rejection> rejected;  ///< bad rows: line (1-based, in the body) and reason
  std::vector<StoredReading> rows;  ///< the valid rows (new and already stored), for the alert check
};

/// Validate a readings CSV body (readings.csv's format) with the project's reader against the
/// case's stored stations.csv and case.json time zone, store the valid rows once each
/// (idempotent on station, time, variable) and report.
/// @throws InvalidInput when the body has no usable header; UnusableData when case.json is broken.
[[nodiscard]] ReadingsReport append_readings_csv(Store& store, const std::string& case_name, std::string body);

/// The case's time zone (case.json's `timezone`; UTC when there is none).
/// @throws UnusableData when case.json is broken.
[[nodiscard]] TimeZone case_time_zone(Store& store, const std::string& case_name);

/// Keep the stations of an uploaded stations.csv `text` in the store (their positions; rows the
/// reader refuses are left out, as they are for a trace).
void store_stations_csv(Store& store, const std::string& case_name, const std::string& text);

/// Every stored reading of the case as readings.csv text (header `station_id,time,variable,
/// value,unit,period`), each once; times in the case's time zone; values in shortest round-trip
/// form, so that reading the text back gives the same numbers.
[[nodiscard]] std::string readings_csv(Store& store, const std::string& case_name);

/// Write the case as a folder at `dir` (created; emptied first) for the pipeline: every stored
/// file under its case path (hard link to the blob, copy when linking fails), readings.csv from the
/// stored readings, and case.json with a `boundaries.file` that names no stored file removed (so
/// that a path outside the case is never followed; `boundaries.*` in the case is used instead).
/// @throws NotFound when the case does not exist; Unavailable when the disk refuses.
void materialize_case(Store& store, const std::string& case_name, const std::filesystem::path& dir);

}  // namespace plumetrace::server

#pragma once
/// @file regions.hpp
/// `plumetrace regions`: long-term source regions of a case's stations (README "regions";
/// border/regions.hpp for PSCF, CWT and the contribution map; docs/regions.md).

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/border/regions.hpp"
#include "plumetrace/geo/grid.hpp"
#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

struct RegionsRequest {
  std::string pollutant;   ///< "" = case.json's pollutant
  std::string start, end;  ///< ISO 8601; "" = start / end of the pollutant's data
  int threads{0};          ///< 0 = all cores; the result does not depend on it
};

struct RegionsResult {
  /// `{"pollutant", "units", "window", "stations", "hours", "trajectories", "method", "percentile",
  /// "jurisdictions": [{"code", "name", "share", "cells"}], "outside_share", "station_summary",
  /// "pscf_peak", "cwt_peak", "grid", "wind_source", ...}`; jurisdictions sorted by share,
  /// descending (shares sum to 1; empty without a boundary layer).
  nlohmann::json document;
  Grid grid;
  std::string crs_wkt;
  RegionsFields fields;
};

/// Hourly means of every station reading of the pollutant whose hour lies in the window, one
/// back-trajectory each (border/regions.hpp), the PSCF and CWT fields on a grid around the
/// stations (kRegionsMarginM), and the share of the contribution per jurisdiction.
/// @throws InvalidInput without a pollutant, without station readings of it in the window,
/// without wind (readings or met/ grids), or for bad times.
[[nodiscard]] RegionsResult run_regions(const Case& c, const RegionsRequest& request);

/// Write `regions.json`, `pscf.tif` and `cwt.tif` (weighted fields, COG, NaN where no trajectory
/// passed) into `dir` (created). @throws InvalidInput when the folder cannot be written.
void write_regions_outputs(const RegionsResult& result, const std::filesystem::path& dir);

/// The document as a short table for people.
[[nodiscard]] std::string format_regions_table(const nlohmann::json& document);

/// How the fields are computed, in one line (the document's "method").
[[nodiscard]] const char* regions_method() noexcept;

}  // namespace plumetrace

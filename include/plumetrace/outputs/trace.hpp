#pragma once
/// @file trace.hpp
/// The main job: rank the likely sources of one pollutant in a case (CONTRACT §2–3).
/// Pipeline: case -> analysis CRS and grid -> wind field -> observations -> back-trajectory
/// operator -> inversion -> jurisdictions -> ranking document + rasters.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/fusion/fused_field.hpp"
#include "plumetrace/geo/grid.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/inversion/inversion.hpp"

namespace plumetrace {

/// Whether the registry's usual emissions are part of "no release" (fit_usual_emissions).
enum class UsualEmissionsMode {
  off,     ///< the background alone
  fit,     ///< background + the fitted usual emissions
  choose,  ///< whichever of the two predicts held-out blocks better (InversionResult::
           ///< held_out_log_density; the trace runs twice; the usual scale itself is fitted on
           ///< all the data, a one-parameter head start for fit); off when temper_grid is empty
};

/// "off", "fit" or "auto" (UsualEmissionsMode::choose).
[[nodiscard]] const char* to_string(UsualEmissionsMode mode) noexcept;
/// The inverse of to_string; nullopt for anything else.
[[nodiscard]] std::optional<UsualEmissionsMode> parse_usual_emissions_mode(std::string_view text) noexcept;

struct TraceRequest {
  std::string pollutant;           ///< "" = case.json's pollutant
  std::string start;               ///< ISO 8601; "" = start of the data
  std::string end;                 ///< ISO 8601; "" = end of the data
  int threads{0};                  ///< 0 = all cores
  int footprint_particles{200};    ///< particles per footprint receptor
  OperatorOptions op;              ///< emit_start/emit_end are set from start/end
  InversionOptions inv;            ///< to_case_units is set from the case units; usual_emissions from the mode
  UsualEmissionsMode usual_emissions{UsualEmissionsMode::choose};
  /// Called after each phase with its name (the keys of diagnostics.timings_s); may throw to
  /// abandon the run (the pipeline's cancellation). Empty = not called.
  std::function<void(std::string_view phase)> on_phase;
};

/// One observation as the tracer used it, for observations.csv: what each platform reported
/// after fusion (a survey trace's cells, an image's cells), the level "no release" expects there,
/// and what the top candidate's fitted plume puts there — the numbers to check a ranking against.
struct ObservationRecord {
  std::string platform;   ///< station, trace, image or path id
  std::string kind;       ///< "station", "mobile", "imagery" or "path"
  std::string time;       ///< start of its averaging period, ISO 8601 in the case's time zone
  double averaging_s{};
  double lon{}, lat{}, height_m{};
  double value{};         ///< case units
  double background{};    ///< the platform's background, case units
  double usual{};         ///< the registry's usual emissions there (0 unless modelled), case units
  double noise{};         ///< the platform's noise, case units
  int samples{1}, passes{1};
  double top_modelled{};  ///< the top candidate's fitted plume part (InversionResult::top_modelled)
};

struct TraceResult {
  nlohmann::json ranking;          ///< the ranking document (CONTRACT §3)
  Grid grid;
  std::string crs_wkt;
  std::vector<float> posterior;    ///< P(source in cell | data), all hypotheses (sums to 1 − no_release with registry mass outside)
  std::vector<float> footprint;    ///< mean receptor sensitivity, s/m³ per (g/s) emitted from the cell
  FusedField fused;                ///< excess over background interpolated onto the grid (fusion/fused_field.hpp)
  std::vector<ObservationRecord> observations;  ///< every observation used, in the inversion's order
  std::string top_candidate;       ///< id of the candidate whose plume ObservationRecord::top_modelled holds ("" if none)
};

/// Run the main job. @throws InvalidInput when the case cannot support a trace (no pollutant, no
/// observations of it, no registry and no grid, bad times).
TraceResult run_trace(const Case& c, const TraceRequest& request);

/// Write ranking.json, ranking.geojson, posterior.tif, footprint.tif, fused.tif (bands: value,
/// uncertainty, count) and observations.csv into `dir` (created when missing).
void write_trace_outputs(const TraceResult& result, const std::filesystem::path& dir);

/// The human-readable ranking table printed by `plumetrace trace` without --json: the top 10
/// candidates (every one with `all_rows`) and a line for the rest, rates in g/s with 3
/// significant figures, the inferred release period, and the unlisted and no-release lines.
std::string format_ranking_table(const nlohmann::json& ranking, bool all_rows = false);

/// Ranking as GeoJSON: one Point feature per candidate and one for the unlisted peak.
nlohmann::json ranking_geojson(const nlohmann::json& ranking);

}  // namespace plumetrace

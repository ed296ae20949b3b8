#pragma once
/// @file plan_job.hpp
/// The plan job (CONTRACT §2 `plan`) as one call for the CLI and the service: read the ranking,
/// the case (boundaries, stations) and the posterior, build the plan (plan.hpp), draw the map
/// (map_image.hpp), write the report (report.hpp), and pack everything into `bundle.zip` with a
/// `manifest.json` of every file's SHA-256. The audited form appends an audit record
/// (docs/audit.md) before the result is given out.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/audit/log.hpp"
#include "plumetrace/core/diagnostics.hpp"
#include "plumetrace/pipeline/audited_jobs.hpp"
#include "plumetrace/plan/plan.hpp"

namespace plumetrace::plan {

/// The files a plan writes, in bundle order (manifest.json lists the others, not itself).
inline constexpr const char* kPlanFiles[] = {"plan.json", "ranking.json", "posterior.tif", "map.png", "report.html"};

struct PlanJobRequest {
  std::filesystem::path case_dir;                      ///< the case folder (boundaries, stations, name)
  std::filesystem::path ranking;                       ///< a ranking document (CONTRACT §3)
  std::optional<std::filesystem::path> posterior;      ///< nullopt: posterior.tif beside the ranking, if there
  std::optional<LonLat> start;
  std::optional<std::filesystem::path> travel_times;   ///< CSV from,to,minutes
  double speed_km_h{kStraightLineSpeedKmH};
  std::filesystem::path out_dir;                       ///< created when missing
  std::string case_name;                               ///< "" = case.json's name, else the folder's name
};

struct PlanJobResult {
  nlohmann::json plan;       ///< the plan document as written to plan.json
  nlohmann::json manifest;   ///< as written to manifest.json
  std::filesystem::path bundle;  ///< out_dir/bundle.zip
  Diagnostics diagnostics;   ///< rejected travel-time rows, warnings
  std::string plan_sha256;   ///< audit::json_sha256(plan)
};

/// Run the plan. @throws InvalidInput "FILE: reason" for an unreadable or malformed ranking,
/// posterior, travel-time file or case; Unavailable when the outputs cannot be written.
[[nodiscard]] PlanJobResult run_plan_job(const PlanJobRequest& request);

/// A plan with its audit record.
struct AuditedPlan {
  PlanJobResult result;
  audit::Record record;
};

/// run_plan_job, then append a `plan` record (inputs: the ranking, the posterior, the travel
/// times and the case's files with their SHA-256; parameters: the start point and speed;
/// result_sha256: the plan document's). `origin` "cli" or "serve"; `extra` adds keys.
/// @throws as run_plan_job; Unavailable when the record cannot be written (the plan's files are
/// then removed: no result without its record).
[[nodiscard]] AuditedPlan run_audited_plan(const PlanJobRequest& request, const std::filesystem::path& log,
                                           const std::string& origin,
                                           const nlohmann::json& extra = nlohmann::json::object());

/// Re-run a `plan` audit record and compare its result hash (`plumetrace audit replay`). Inputs
/// are checked first, as for a trace: the ranking (`ranking` when given, else the path recorded),
/// the posterior.tif beside it, the travel times at their recorded path and the case folder's
/// files (`case_dir` when given, else the folder a CLI record names); when any differs from the
/// record nothing is re-run. The plan is re-run into a temporary folder, removed afterwards.
/// A service record names its case by name and its ranking as a working copy: give both.
/// @throws InvalidInput when the record is not a plan record, or names no case folder or ranking
/// that exists.
[[nodiscard]] pipeline::ReplayOutcome replay_plan(const nlohmann::json& record, const std::filesystem::path& case_dir,
                                                  const std::filesystem::path& ranking);

}  // namespace plumetrace::plan

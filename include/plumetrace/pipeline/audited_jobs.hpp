#pragma once
/// @file audited_jobs.hpp
/// The jobs whose every run leaves an audit record (docs/audit.md): `trace` and
/// `sample-inspections`. The CLI and the server's job runner both call these, so their records
/// are alike (they differ only in `origin` and in how they name the case: a folder or a stored
/// case and job id).
///
/// A job's result is given out only after its record is written: when the append fails the job
/// fails (Unavailable; CLI exit 3).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/audit/log.hpp"
#include "plumetrace/core/diagnostics.hpp"
#include "plumetrace/pipeline/trace_job.hpp"
#include "plumetrace/sampling/inspections.hpp"

namespace plumetrace::pipeline {

/// The first seed of the trace's particle footprints (observation i uses kFootprintSeedBase + i);
/// fixed in the code and recorded in each trace record's `seeds`.
inline constexpr std::uint64_t kFootprintSeedBase = 1000;

/// SHA-256 of a trace's result: the ranking document without its wall-clock fields
/// (diagnostics.timings_s and diagnostics.elapsed_s), dumped canonically (audit::json_sha256).
/// The same inputs and parameters give the same hash whatever the thread count.
[[nodiscard]] std::string trace_result_sha256(const TraceResult& result);

/// `[{"path", "sha256", "bytes"}]` of every regular file under `case_dir` (paths relative to it,
/// '/'-separated, sorted). @throws InvalidInput when a file cannot be read.
[[nodiscard]] nlohmann::json hash_case_files(const std::filesystem::path& case_dir);

/// A trace with its audit record.
struct AuditedTrace {
  TraceResult result;
  audit::Record record;
};

/// Hash the case folder's files, run the trace on the loaded case `c` (read from
/// request.case_dir), and append its record to `log`. `origin` is "cli" or "serve"; `extra` adds
/// keys to the record (`case`: the folder or the stored case name; `job`: the service's job id).
/// @throws as run_trace_job; Unavailable when the record cannot be written.
[[nodiscard]] AuditedTrace run_audited_trace(const Case& c, const TraceJobRequest& request,
                                             const std::filesystem::path& log, const std::string& origin,
                                             const nlohmann::json& extra = nlohmann::json::object(),
                                             const ProgressFn& progress = {}, const CancelToken* cancel = nullptr);

/// The same, loading request.case_dir first.
[[nodiscard]] AuditedTrace run_audited_trace(const TraceJobRequest& request, const std::filesystem::path& log,
                                             const std::string& origin,
                                             const nlohmann::json& extra = nlohmann::json::object(),
                                             const ProgressFn& progress = {}, const CancelToken* cancel = nullptr);

/// A sampling draw with its audit record.
struct AuditedDraw {
  sampling::Draw draw;
  nlohmann::json document;  ///< sampling::to_json(draw)
  Diagnostics diagnostics;  ///< rows of the registry and inspectors files that were left out
  audit::Record record;
};

/// Read the registry and the inspectors, draw, and append the record (inputs: both files'
/// SHA-256; parameters: rates; seeds: {"draw": seed}; result: SHA-256 of the document).
/// @throws InvalidInput for unusable inputs; Unavailable when the record cannot be written.
/// `extra` adds keys to the record (the service: `case` and `job`).
[[nodiscard]] AuditedDraw run_audited_sampling(const std::filesystem::path& registry,
                                               const std::filesystem::path& inspectors, const sampling::Rates& rates,
                                               std::uint64_t seed, const std::filesystem::path& log,
                                               const std::string& origin,
                                               const nlohmann::json& extra = nlohmann::json::object());

/// What a replay found.
struct ReplayOutcome {
  std::vector<std::string> input_differences;  ///< "path: recorded SHA, now SHA|missing|extra"
  std::string recorded_sha256;
  std::string replayed_sha256;                 ///< empty when the inputs differ (not re-run)
  [[nodiscard]] bool match() const noexcept {
    return input_differences.empty() && !replayed_sha256.empty() && replayed_sha256 == recorded_sha256;
  }
};

/// How two lists of file entries ({"path", "sha256"}, as hash_case_files gives) differ, one line
/// per file: "LABELpath: recorded SHA, now SHA", "...: missing (recorded SHA)" or "...: not in
/// the record (extra file)" (SHAs cut to 12 digits); empty when they hold the same files.
[[nodiscard]] std::vector<std::string> file_differences(const nlohmann::json& recorded, const nlohmann::json& now,
                                                        const std::string& label = "");

/// Re-run a recorded `trace` (on `case_dir`, else the folder the record names) or
/// `sample-inspections` (on the files it names) and compare the result hash. Inputs are checked
/// first: when any differs from the record, nothing is re-run. `threads` 0 = all cores.
/// @throws InvalidInput when the record cannot be replayed (another command, no case folder).
[[nodiscard]] ReplayOutcome replay(const nlohmann::json& record, const std::filesystem::path& case_dir, int threads = 0);

}  // namespace plumetrace::pipeline

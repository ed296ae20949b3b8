#pragma once
/// @file trace_job.hpp
/// The trace job (CONTRACT §2 `trace`) as one call shared by the CLI and the server: a typed
/// request in, progress out, cancellation between phases, the TraceResult back.
///
/// The result is today's TraceResult: the ranking document (CONTRACT §3) as a JSON tree plus the
/// rasters. Turning the ranking into typed numbers that render reads is a later step.

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "plumetrace/core/error.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/outputs/trace.hpp"

namespace plumetrace::pipeline {

/// A time given by a user, parsed: an instant with the offset it was written in, or a local
/// wall-clock time (no offset) that the job resolves in the case's `timezone`.
struct RequestTime {
  /// With an offset: seconds since the Unix epoch (UTC). Without: the wall-clock time read as if
  /// it were UTC (seconds since 1970-01-01T00:00 local).
  EpochSeconds seconds{};
  /// Minutes east of UTC as written ("Z" = 0); nullopt for a naive time.
  std::optional<int> offset_min;

  /// The time as ISO 8601 text: with its offset, or naive (no suffix) when it had none.
  [[nodiscard]] std::string iso8601() const;
};

/// Parse an ISO 8601 date-time as CONTRACT §1 accepts it (offset optional).
/// @throws InvalidInput "cannot parse 'TEXT' as an ISO 8601 date-time" (TEXT cut to 64 bytes).
[[nodiscard]] RequestTime parse_request_time(std::string_view text);

/// What to trace.
struct TraceJobRequest {
  std::filesystem::path case_dir;    ///< the case folder (CONTRACT §1)
  std::string pollutant;             ///< "" = case.json's pollutant
  std::optional<RequestTime> start;  ///< suspected release start; nullopt = start of the data
  std::optional<RequestTime> end;    ///< suspected release end; nullopt = end of the data
  int threads{0};                    ///< kernel threads; 0 = all cores
  /// Whether the registry's usual emissions are part of "no release" (fit_usual_emissions): by
  /// default chosen per case (UsualEmissionsMode::choose; README, Pipeline "Usual emissions").
  UsualEmissionsMode usual_emissions{UsualEmissionsMode::choose};
  /// The likelihood's tempering: nullopt chooses it per case by the held-out predictive check
  /// (InversionOptions::temper_from_data); a value in (0, 1] fixes it.
  std::optional<double> temper;
};

/// Thrown out of run_trace_job when its CancelToken was cancelled (checked between phases).
class Cancelled : public Error {
 public:
  Cancelled() : Error("the job was cancelled") {}
};

/// A flag a job polls between phases; cancel() may be called from any thread.
class CancelToken {
 public:
  void cancel() noexcept { cancelled_.store(true, std::memory_order_relaxed); }
  [[nodiscard]] bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

/// Progress report: `percent` in [0, 100], non-decreasing over one run, and the phase just
/// finished ("load_case", "met_and_grid", "observations", "operator", "inversion", "footprints",
/// "jurisdictions", "release_profiles", "done"). Called on the job's thread.
using ProgressFn = std::function<void(int percent, std::string_view phase)>;

/// Run the trace on an already loaded case `c` (request.case_dir is not read again).
/// @throws InvalidInput when the case cannot support a trace (see run_trace); Cancelled when
/// `cancel` was cancelled before a phase boundary.
[[nodiscard]] TraceResult run_trace_job(const Case& c, const TraceJobRequest& request,
                                        const ProgressFn& progress = {},
                                        const CancelToken* cancel = nullptr);

/// Load request.case_dir (load_case) and run the trace on it (see the overload above).
[[nodiscard]] TraceResult run_trace_job(const TraceJobRequest& request, const ProgressFn& progress = {},
                                        const CancelToken* cancel = nullptr);

}  // namespace plumetrace::pipeline

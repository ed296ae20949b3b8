#pragma once
/// @file job_runner.hpp
/// Runs the service's jobs (OGC API – Processes) on their own threads, off the network and
/// request threads: each job's state, progress and result live in the Store, so they survive a
/// restart (resume() queues again what was accepted or running).

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/pipeline/trace_job.hpp"
#include "plumetrace/server/store.hpp"
#include "plumetrace/server/worker_pool.hpp"

namespace plumetrace::server {

class JobRunner {
 public:
  /// Called once with the job's final record (successful, failed or dismissed).
  using Done = std::function<void(const JobRecord&)>;

  /// `job_threads` jobs at once (>= 1), each using `kernel_threads` threads (0 = all cores);
  /// each trace appends its record to `audit_log` (empty = audit::default_log_path(), resolved here).
  JobRunner(Store& store, int job_threads, int kernel_threads, std::filesystem::path audit_log = {});
  /// Cancels running jobs without recording an end (they are queued again on the next start).
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  /// Check a trace execution's `inputs` (`case` required and existing; `pollutant`, `start`, `end`
  /// optional strings; times ISO 8601), record an accepted job and queue it.
  /// @throws InvalidInput for bad inputs; NotFound for an unknown case; Unavailable when the queue is full.
  [[nodiscard]] JobRecord submit_trace(const nlohmann::json& inputs);

  /// Check a plan execution's `inputs` (`job`: a successful trace job, required; `start_point`
  /// [lon, lat] optional; `speed_km_h` optional, > 0; `travel_times` optional CSV text
  /// `from,to,minutes`), record an accepted plan job for the trace job's case and queue it.
  /// @throws InvalidInput for bad inputs; NotFound for an unknown trace job; UnusableData when it
  /// is not a successful trace; Unavailable when the queue is full.
  [[nodiscard]] JobRecord submit_plan(const nlohmann::json& inputs);

  /// Check a "double random" draw's `inputs` (`case` with a stored sources.csv or sources.geojson
  /// carrying `credit`, required; `inspectors` CSV text `id,name[,exclude]`, required; `rates`
  /// {"A": 0.03, ...} or "A=0.03,...", required; `seed` unsigned integer, optional: a random one is
  /// chosen and recorded), record an accepted job and queue it.
  /// @throws InvalidInput for bad inputs; NotFound for an unknown case; UnusableData when the case
  /// has no registry; Unavailable when the queue is full.
  [[nodiscard]] JobRecord submit_sampling(const nlohmann::json& inputs);

  /// Check a regions execution's `inputs` (`case` required and existing; `pollutant`, `start`,
  /// `end` optional strings; times ISO 8601), record an accepted job and queue it.
  /// @throws InvalidInput for bad inputs; NotFound for an unknown case; Unavailable when the queue is full.
  [[nodiscard]] JobRecord submit_regions(const nlohmann::json& inputs);

  /// Queue the jobs a previous run left accepted or running. Call once, at start.
  void resume();

  /// Call `done` with the job's final record once it has finished (at once when it already has).
  /// @throws NotFound for an unknown job.
  void when_finished(const std::string& id, Done done);

  /// Dismiss a job: cancel it when running, record it dismissed, delete its outputs.
  /// @throws NotFound for an unknown job.
  [[nodiscard]] JobRecord dismiss(const std::string& id);

  /// The folder of a job's output files (trace: posterior.tif, ...; plan: bundle.zip, ...;
  /// regions: pscf.tif, cwt.tif).
  [[nodiscard]] std::filesystem::path output_dir(const std::string& id) const;

 private:
  /// Record an accepted job of `process` for `case_name` with its checked `request` and queue it.
  [[nodiscard]] JobRecord accept(const std::string& process, const std::string& case_name, const nlohmann::json& request);
  void queue(const std::string& id);
  void run(const std::string& id);
  /// The body of a plan job (run() handles its states and errors).
  [[nodiscard]] std::string run_plan(const JobRecord& rec, const std::filesystem::path& work);
  /// The body of a regions job (its outputs: regions.json, pscf.tif, cwt.tif).
  [[nodiscard]] std::string run_regions_job(const JobRecord& rec, const std::filesystem::path& work);
  /// The body of a sampling job.
  [[nodiscard]] std::string run_sampling(const JobRecord& rec, const std::filesystem::path& work);
  void notify(const std::string& id);

  Store& store_;
  int kernel_threads_;
  std::filesystem::path audit_log_;
  std::mutex mu_;
  bool stopping_{false};
  std::map<std::string, std::shared_ptr<pipeline::CancelToken>> running_;
  std::map<std::string, std::vector<Done>> waiters_;
  std::unique_ptr<WorkerPool> pool_;  // last: joined first on destruction
};

/// A new job id: 32 random lower-case hex digits.
[[nodiscard]] std::string new_job_id();

}  // namespace plumetrace::server

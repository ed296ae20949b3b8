#include "plumetrace/server/job_runner.hpp"

#include <iostream>
#include <random>

#include "plumetrace/audit/log.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/pipeline/audited_jobs.hpp"
#include "plumetrace/server/cases.hpp"
#include "plumetrace/server/problem.hpp"

namespace plumetrace::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// Queued jobs at most (beyond: 503).
constexpr std::size_t kMaxQueuedJobs = 10000;

bool finished(JobStatus s) noexcept {
  return s == JobStatus::successful || s == JobStatus::failed || s == JobStatus::dismissed;
}

/// The optional string input `key`, validated. @throws InvalidInput when present and not a string.
std::string string_input(const json& inputs, const char* key) {
  if (!inputs.contains(key) || inputs[key].is_null()) return {};
  if (!inputs[key].is_string()) throw InvalidInput(std::string("inputs.") + key + " must be a string");
  return inputs[key].get<std::string>();
}

}  // namespace

std::string new_job_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = rng();
    for (int i = 0; i < 16; ++i, v >>= 4) id[static_cast<std::size_t>(half * 16 + i)] = kHex[v & 15];
  }
  return id;
}

JobRunner::JobRunner(Store& store, int job_threads, int kernel_threads, fs::path audit_log)
    : store_(store), kernel_threads_(kernel_threads),
      audit_log_(audit_log.empty() ? audit::default_log_path() : std::move(audit_log)),
      pool_(std::make_unique<WorkerPool>(std::max(job_threads, 1), kMaxQueuedJobs)) {}

JobRunner::~JobRunner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, token] : running_) token->cancel();
  }
  pool_.reset();
}

fs::path JobRunner::output_dir(const std::string& id) const { return store_.data_dir() / "jobs" / id; }

JobRecord JobRunner::submit_trace(const json& inputs) {
  if (!inputs.is_object()) throw InvalidInput("the body needs an object \"inputs\"");
  const std::string case_name = string_input(inputs, "case");
  if (case_name.empty()) throw InvalidInput("inputs.case is required");
  if (!valid_case_name(case_name)) throw InvalidInput("inputs.case is not a valid case name");
  const std::string pollutant = string_input(inputs, "pollutant");
  if (pollutant.size() > 64) throw InvalidInput("inputs.pollutant is too long");
  for (const char* key : {"start", "end"})
    if (const std::string t = string_input(inputs, key); !t.empty()) (void)pipeline::parse_request_time(t);
  if (!store_.case_exists(case_name)) throw NotFound("no case '" + case_name + "'");
  JobRecord j;
  j.id = new_job_id();
  j.process = "trace";
  j.case_name = case_name;
  j.status = JobStatus::accepted;
  j.message = "queued";
  json req = {{"case", case_name}};
  for (const char* key : {"pollutant", "start", "end"})
    if (const std::string v = string_input(inputs, key); !v.empty()) req[key] = v;
  j.request_json = req.dump();
  j.created = j.updated = now_iso8601();
  store_.create_job(j);
  queue(j.id);
  return j;
}

void JobRunner::resume() {
  for (const std::string& id : store_.requeue_unfinished_jobs()) queue(id);
}

void JobRunner::queue(const std::string& id) {
  if (!pool_->try_submit([this, id] { run(id); })) {
    store_.finish_job(id, JobStatus::failed, "the job queue is full", "");
    throw Unavailable("the job queue is full; try again later");
  }
}

void JobRunner::when_finished(const std::string& id, Done done) {
  {
    std::lock_guard lock(mu_);
    const auto j = store_.job(id);
    if (!j) throw NotFound("no job '" + id + "'");
    if (!finished(j->status)) {
      waiters_[id].push_back(std::move(done));
      return;
    }
  }
  done(*store_.job(id));
}

void JobRunner::notify(const std::string& id) {
  std::vector<Done> ds;
  {
    std::lock_guard lock(mu_);
    if (auto it = waiters_.find(id); it != waiters_.end()) {
      ds = std::move(it->second);
      waiters_.erase(it);
    }
  }
  if (ds.empty()) return;
  const auto j = store_.job(id);
  if (!j) return;
  for (auto& d : ds) d(*j);
}

JobRecord JobRunner::dismiss(const std::string& id) {
  if (!store_.job(id)) throw NotFound("no job '" + id + "'");
  {
    std::lock_guard lock(mu_);
    if (auto it = running_.find(id); it != running_.end()) it->second->cancel();
  }
  store_.finish_job(id, JobStatus::dismissed, "dismissed", "");
  std::error_code ec;
  fs::remove_all(output_dir(id), ec);
  notify(id);
  return *store_.job(id);
}

void JobRunner::run(const std::string& id) {
  auto token = std::make_shared<pipeline::CancelToken>();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;  // left accepted: queued again on the next start
    running_[id] = token;
  }
  const fs::path work = store_.data_dir() / "work" / id;
  const std::string root = store_.data_dir().string();
  try {
    const auto rec = store_.job(id);
    if (rec && rec->status == JobStatus::accepted && store_.update_job(id, JobStatus::running, 0, "running")) {
      const json req = json::parse(rec->request_json);
      materialize_case(store_, rec->case_name, work);
      pipeline::TraceJobRequest r;
      r.case_dir = work;
      r.pollutant = req.value("pollutant", "");
      if (req.contains("start")) r.start = pipeline::parse_request_time(req["start"].get<std::string>());
      if (req.contains("end")) r.end = pipeline::parse_request_time(req["end"].get<std::string>());
      r.threads = kernel_threads_;
      const json extra = {{"case", rec->case_name}, {"job", id}};
      const TraceResult result =
          pipeline::run_audited_trace(
              r, audit_log_, "serve", extra,
              [&](int pct, std::string_view phase) { store_.update_job(id, JobStatus::running, pct, std::string(phase)); },
              token.get())
              .result;
      write_trace_outputs(result, output_dir(id));
      store_.finish_job(id, JobStatus::successful, "done", result.ranking.dump());
    }
  } catch (const pipeline::Cancelled&) {
    // dismissed (already recorded) or the server stopping (queued again on the next start)
  } catch (const Internal& e) {
    std::cerr << "plumetrace serve: job " << id << ": " << e.what() << "\n";
    store_.finish_job(id, JobStatus::failed, "internal error", "");
  } catch (const Error& e) {
    store_.finish_job(id, JobStatus::failed, scrub_paths(e.what(), root), "");
  } catch (const std::exception& e) {
    std::cerr << "plumetrace serve: job " << id << ": " << e.what() << "\n";
    store_.finish_job(id, JobStatus::failed, "internal error", "");
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  {
    std::lock_guard lock(mu_);
    running_.erase(id);
  }
  notify(id);
}

}  // namespace plumetrace::server

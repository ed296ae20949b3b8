#include "plumetrace/server/job_runner.hpp"

#include <cmath>
#include <fstream>
#include <iostream>
#include <random>

#include "plumetrace/audit/log.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/outputs/regions.hpp"
#include "plumetrace/pipeline/audited_jobs.hpp"
#include "plumetrace/plan/plan_job.hpp"
#include "plumetrace/server/cases.hpp"
#include "plumetrace/server/problem.hpp"

namespace plumetrace::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// Queued jobs at most (beyond: 503).
constexpr std::size_t kMaxQueuedJobs = 10000;
/// An inline CSV input (a plan's travel times, a draw's inspectors) at most: a 13-stop plan needs
/// 182 rows of ~30 bytes, a county's inspectors a few hundred rows.
constexpr std::size_t kMaxInlineCsvBytes = 1u << 20;

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

/// The request of a job on a stored case with a pollutant and a period (trace, regions), its
/// inputs checked: `case` required, a valid name, stored; `pollutant` at most 64 bytes; `start`
/// and `end` ISO 8601; `extra` names further string inputs copied when given (checked by the caller).
static json case_period_request(Store& store, const json& inputs, std::initializer_list<const char*> extra) {
  if (!inputs.is_object()) throw InvalidInput("the body needs an object \"inputs\"");
  const std::string case_name = string_input(inputs, "case");
  if (case_name.empty()) throw InvalidInput("inputs.case is required");
  if (!valid_case_name(case_name)) throw InvalidInput("inputs.case is not a valid case name");
  if (string_input(inputs, "pollutant").size() > 64) throw InvalidInput("inputs.pollutant is too long");
  for (const char* key : {"start", "end"})
    if (const std::string t = string_input(inputs, key); !t.empty()) (void)pipeline::parse_request_time(t);
  if (!store.case_exists(case_name)) throw NotFound("no case '" + case_name + "'");
  json req = {{"case", case_name}};
  for (const char* key : {"pollutant", "start", "end"})
    if (const std::string v = string_input(inputs, key); !v.empty()) req[key] = v;
  for (const char* key : extra)
    if (const std::string v = string_input(inputs, key); !v.empty()) req[key] = v;
  return req;
}

JobRecord JobRunner::submit_trace(const json& inputs) {
  const std::string usual = inputs.is_object() ? string_input(inputs, "usual_emissions") : "";
  if (!usual.empty() && !parse_usual_emissions_mode(usual))
    throw InvalidInput("inputs.usual_emissions is \"auto\", \"fit\" or \"off\", got \"" + usual.substr(0, 16) + "\"");
  const json req = case_period_request(store_, inputs, {"usual_emissions"});
  return accept("trace", req.at("case").get<std::string>(), req);
}

JobRecord JobRunner::submit_regions(const json& inputs) {
  const json req = case_period_request(store_, inputs, {});
  return accept("regions", req.at("case").get<std::string>(), req);
}

std::string JobRunner::run_regions_job(const JobRecord& rec, const fs::path& work) {
  const json req = json::parse(rec.request_json);
  materialize_case(store_, rec.case_name, work);
  const Case c = load_case(work);
  RegionsRequest r;
  r.pollutant = req.value("pollutant", "");
  r.start = req.value("start", "");
  r.end = req.value("end", "");
  r.threads = kernel_threads_;
  const RegionsResult res = run_regions(c, r);
  write_regions_outputs(res, output_dir(rec.id));
  return res.document.dump();
}

JobRecord JobRunner::accept(const std::string& process, const std::string& case_name, const json& request) {
  JobRecord j;
  j.id = new_job_id();
  j.process = process;
  j.case_name = case_name;
  j.status = JobStatus::accepted;
  j.message = "queued";
  j.request_json = request.dump();
  j.created = j.updated = now_iso8601();
  store_.create_job(j);
  queue(j.id);
  return j;
}

JobRecord JobRunner::submit_plan(const json& inputs) {
  if (!inputs.is_object()) throw InvalidInput("the body needs an object \"inputs\"");
  const std::string trace_id = string_input(inputs, "job");
  if (trace_id.empty()) throw InvalidInput("inputs.job (a trace job's id) is required");
  const auto trace = store_.job(trace_id);
  if (!trace || trace->status == JobStatus::dismissed) throw NotFound("no job '" + trace_id + "'");
  if (trace->process != "trace") throw UnusableData("job '" + trace_id + "' is not a trace job");
  if (trace->status != JobStatus::successful) throw UnusableData("trace job '" + trace_id + "' has not succeeded");
  json req = {{"job", trace_id}};
  if (inputs.contains("start_point") && !inputs["start_point"].is_null()) {
    const json& p = inputs["start_point"];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
      throw InvalidInput("inputs.start_point must be [lon, lat]");
    const double lon = p[0].get<double>(), lat = p[1].get<double>();
    if (!(std::abs(lon) <= 180) || !(std::abs(lat) <= 90)) throw InvalidInput("inputs.start_point is out of range");
    req["start_point"] = {lon, lat};
  }
  if (inputs.contains("speed_km_h") && !inputs["speed_km_h"].is_null()) {
    if (!inputs["speed_km_h"].is_number() || !(inputs["speed_km_h"].get<double>() > 0) ||
        !std::isfinite(inputs["speed_km_h"].get<double>()))
      throw InvalidInput("inputs.speed_km_h must be a positive number");
    req["speed_km_h"] = inputs["speed_km_h"];
  }
  if (const std::string t = string_input(inputs, "travel_times"); !t.empty()) {
    if (t.size() > kMaxInlineCsvBytes) throw InvalidInput("inputs.travel_times is larger than 1 MiB");
    req["travel_times"] = t;
  }
  return accept("plan", trace->case_name, req);
}

std::string JobRunner::run_plan(const JobRecord& rec, const fs::path& work) {
  const json req = json::parse(rec.request_json);
  const std::string trace_id = req.at("job").get<std::string>();
  const auto trace = store_.job(trace_id);
  if (!trace || trace->status != JobStatus::successful)
    throw UnusableData("trace job '" + trace_id + "' is no longer available");
  materialize_case(store_, rec.case_name, work / "case");
  plan::PlanJobRequest r;
  r.case_dir = work / "case";
  r.case_name = rec.case_name;
  r.ranking = work / "ranking.json";
  {
    std::ofstream f(r.ranking, std::ios::binary);
    f << trace->result_json;
    if (!f) throw Unavailable("cannot write the plan's working copy of the ranking");
  }
  std::error_code ec;
  if (const fs::path post = output_dir(trace_id) / "posterior.tif"; fs::is_regular_file(post, ec)) r.posterior = post;
  if (req.contains("start_point")) r.start = plan::LonLat{req["start_point"][0].get<double>(), req["start_point"][1].get<double>()};
  if (req.contains("speed_km_h")) r.speed_km_h = req["speed_km_h"].get<double>();
  if (req.contains("travel_times")) {
    r.travel_times = work / "travel_times.csv";
    std::ofstream f(*r.travel_times, std::ios::binary);
    f << req["travel_times"].get<std::string>();
    if (!f) throw Unavailable("cannot write the plan's working copy of the travel times");
  }
  r.out_dir = output_dir(rec.id);
  const json extra = {{"case", rec.case_name}, {"job", rec.id}, {"trace_job", trace_id}};
  return plan::run_audited_plan(r, audit_log_, "serve", extra).result.plan.dump();
}

/// The registry file of a stored case, or "" when it has none.
static std::string registry_path(Store& store, const std::string& case_name) {
  for (const char* p : {"sources.csv", "sources.geojson", "sources.gpkg"})
    if (store.file(case_name, p)) return p;
  return {};
}

JobRecord JobRunner::submit_sampling(const json& inputs) {
  if (!inputs.is_object()) throw InvalidInput("the body needs an object \"inputs\"");
  const std::string case_name = string_input(inputs, "case");
  if (case_name.empty()) throw InvalidInput("inputs.case is required");
  if (!valid_case_name(case_name)) throw InvalidInput("inputs.case is not a valid case name");
  if (!store_.case_exists(case_name)) throw NotFound("no case '" + case_name + "'");
  if (registry_path(store_, case_name).empty()) throw UnusableData("case '" + case_name + "' has no sources.csv");
  const std::string inspectors = string_input(inputs, "inspectors");
  if (inspectors.empty()) throw InvalidInput("inputs.inspectors (CSV text id,name[,exclude]) is required");
  if (inspectors.size() > kMaxInlineCsvBytes) throw InvalidInput("inputs.inspectors is larger than 1 MiB");
  std::string rates_text;
  if (inputs.contains("rates") && inputs["rates"].is_object()) {
    for (const auto& [tier, r] : inputs["rates"].items()) {
      if (!r.is_number()) throw InvalidInput("inputs.rates." + tier + " must be a number");
      rates_text += (rates_text.empty() ? "" : ",") + tier + "=" + r.dump();
    }
  } else {
    rates_text = string_input(inputs, "rates");
  }
  if (rates_text.empty()) throw InvalidInput("inputs.rates is required ({\"A\": 0.03, ...} or \"A=0.03,...\")");
  const sampling::Rates rates = sampling::parse_rates(rates_text);
  std::uint64_t seed = 0;
  if (inputs.contains("seed") && !inputs["seed"].is_null()) {
    if (!inputs["seed"].is_number_unsigned()) throw InvalidInput("inputs.seed must be an unsigned 64-bit integer");
    seed = inputs["seed"].get<std::uint64_t>();
  } else {
    std::random_device rd;
    seed = (std::uint64_t{rd()} << 32) ^ rd();
  }
  return accept("sample-inspections", case_name,
                {{"case", case_name}, {"inspectors", inspectors}, {"rates", rates}, {"seed", seed}});
}

std::string JobRunner::run_sampling(const JobRecord& rec, const fs::path& work) {
  const json req = json::parse(rec.request_json);
  materialize_case(store_, rec.case_name, work);
  const std::string registry = registry_path(store_, rec.case_name);
  if (registry.empty()) throw UnusableData("case '" + rec.case_name + "' has no sources.csv");
  const fs::path inspectors = work / ".inspectors.csv";
  {
    std::ofstream f(inspectors, std::ios::binary);
    f << req.at("inspectors").get<std::string>();
    if (!f) throw Unavailable("cannot write the draw's working copy of the inspectors");
  }
  sampling::Rates rates;
  for (const auto& [tier, r] : req.at("rates").items()) rates[tier] = r.get<double>();
  const json extra = {{"case", rec.case_name}, {"job", rec.id}};
  const auto res = pipeline::run_audited_sampling(work / registry, inspectors, rates, req.at("seed").get<std::uint64_t>(),
                                                  audit_log_, "serve", extra);
  json doc = res.document;
  doc["audit"] = {{"seq", res.record.seq}, {"hash", res.record.hash}};
  json rejected = json::array();
  for (const Rejection& r : res.diagnostics.rejected())
    rejected.push_back({{"file", fs::path(r.file).filename().string() == ".inspectors.csv" ? "inputs.inspectors" : registry},
                        {"line", r.line}, {"reason", r.reason}});
  doc["rejected"] = rejected;
  return doc.dump();
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
    if (rec && rec->status == JobStatus::accepted && rec->process != "trace" &&
        store_.update_job(id, JobStatus::running, 0, "running")) {
      const std::string result = rec->process == "plan"      ? run_plan(*rec, work)
                                 : rec->process == "regions" ? run_regions_job(*rec, work)
                                                             : run_sampling(*rec, work);
      store_.finish_job(id, JobStatus::successful, "done", result);
    } else if (rec && rec->status == JobStatus::accepted && store_.update_job(id, JobStatus::running, 0, "running")) {
      const json req = json::parse(rec->request_json);
      materialize_case(store_, rec->case_name, work);
      pipeline::TraceJobRequest r;
      r.case_dir = work;
      r.pollutant = req.value("pollutant", "");
      if (req.contains("start")) r.start = pipeline::parse_request_time(req["start"].get<std::string>());
      if (req.contains("end")) r.end = pipeline::parse_request_time(req["end"].get<std::string>());
      r.threads = kernel_threads_;
      r.usual_emissions = parse_usual_emissions_mode(req.value("usual_emissions", "auto")).value_or(UsualEmissionsMode::choose);
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

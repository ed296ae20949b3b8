#include "plumetrace/pipeline/audited_jobs.hpp"

#include <algorithm>
#include <fstream>
#include <map>

#include "plumetrace/audit/sha256.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/core/tuning.hpp"

namespace plumetrace::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json file_entry(const std::string& name, const fs::path& file) {
  std::uintmax_t bytes = 0;
  const std::string sha = audit::sha256_file(file, &bytes);
  return {{"path", name}, {"sha256", sha}, {"bytes", bytes}};
}

json trace_parameters(const TraceJobRequest& r) {
  json p = json::object();
  p["pollutant"] = r.pollutant;
  p["start"] = r.start ? r.start->iso8601() : "";
  p["end"] = r.end ? r.end->iso8601() : "";
  p["threads"] = r.threads;  // recorded; the result does not depend on it
  p["usual_emissions"] = to_string(r.usual_emissions);
  p["temper"] = r.temper ? json(*r.temper) : json("auto");
  return p;
}

/// The case folder's files, and the boundary file case.json names when it lies outside the folder
/// (`path` as written there, `outside_case`: true): the trace reads it too. Not for the service
/// (`follow_outside` false), which never follows a client's path out of its case.
json trace_inputs(const fs::path& dir, bool follow_outside) {
  json files = hash_case_files(dir);
  if (!follow_outside) return files;
  std::ifstream f(dir / "case.json", std::ios::binary);
  if (!f) return files;
  const json cj = json::parse(f, nullptr, false);
  if (cj.is_discarded() || !cj.is_object() || !cj.contains("boundaries") || !cj["boundaries"].is_object()) return files;
  const json& b = cj["boundaries"];
  if (!b.contains("file") || !b["file"].is_string()) return files;
  const std::string rel = b["file"].get<std::string>();
  const fs::path p = (dir / rel).lexically_normal();
  const std::string inside = p.lexically_relative(dir.lexically_normal()).generic_string();
  std::error_code ec;
  if (rel.empty() || (inside.rfind("..", 0) != 0 && !fs::path(rel).is_absolute()) || !fs::is_regular_file(p, ec)) return files;
  json e = file_entry(rel, p);
  e["outside_case"] = true;
  files.push_back(std::move(e));
  return files;
}

}  // namespace

std::string trace_result_sha256(const TraceResult& result) {
  json doc = result.ranking;
  if (doc.contains("diagnostics") && doc["diagnostics"].is_object()) {
    doc["diagnostics"].erase("timings_s");
    doc["diagnostics"].erase("elapsed_s");
  }
  return audit::json_sha256(doc);
}

json hash_case_files(const fs::path& case_dir) {
  std::vector<std::pair<std::string, fs::path>> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(case_dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) files.emplace_back(fs::relative(it->path(), case_dir).generic_string(), it->path());
  if (ec) throw InvalidInput("cannot list the case folder " + case_dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  json out = json::array();
  for (const auto& [name, path] : files) out.push_back(file_entry(name, path));
  return out;
}

AuditedTrace run_audited_trace(const Case& c, const TraceJobRequest& request, const fs::path& log,
                               const std::string& origin, const json& extra, const ProgressFn& progress,
                               const CancelToken* cancel) {
  audit::RecordDraft d;
  d.command = "trace";
  d.origin = origin;
  d.inputs = trace_inputs(request.case_dir, origin != "serve");
  d.parameters = trace_parameters(request);
  d.seeds = {{"footprint_seed_base", kFootprintSeedBase}};
  d.extra = extra.is_object() ? extra : json::object();
  audit::check_writable(log);  // fail before the trace's minutes, not after
  AuditedTrace out{run_trace_job(c, request, progress, cancel), {}};
  d.result_sha256 = trace_result_sha256(out.result);
  if (out.result.ranking.contains("pollutant")) d.parameters["pollutant_traced"] = out.result.ranking["pollutant"];
  out.record = audit::append(log, d);
  return out;
}

AuditedTrace run_audited_trace(const TraceJobRequest& request, const fs::path& log, const std::string& origin,
                               const json& extra, const ProgressFn& progress, const CancelToken* cancel) {
  if (cancel != nullptr && cancel->cancelled()) throw Cancelled();
  const Case c = load_case(request.case_dir);
  if (progress) progress(5, "load_case");
  return run_audited_trace(c, request, log, origin, extra, progress, cancel);
}

AuditedDraw run_audited_sampling(const fs::path& registry, const fs::path& inspectors, const sampling::Rates& rates,
                                 std::uint64_t seed, const fs::path& log, const std::string& origin, const json& extra) {
  AuditedDraw out;
  audit::RecordDraft d;
  d.command = "sample-inspections";
  d.origin = origin;
  d.extra = extra.is_object() ? extra : json::object();
  const fs::path reg_abs = fs::absolute(registry);
  const fs::path ins_abs = fs::absolute(inspectors);
  d.inputs = json::array({file_entry(reg_abs.string(), reg_abs), file_entry(ins_abs.string(), ins_abs)});
  d.inputs[0]["role"] = "registry";
  d.inputs[1]["role"] = "inspectors";
  audit::check_writable(log);
  const auto facilities = sampling::read_facilities(reg_abs, out.diagnostics);
  const auto people = sampling::read_inspectors(ins_abs, out.diagnostics);
  out.draw = sampling::draw_inspections(facilities, people, rates, seed);
  out.document = sampling::to_json(out.draw);
  d.parameters = {{"rates", rates}};
  d.seeds = {{"draw", seed}};
  d.result_sha256 = audit::json_sha256(out.document);
  out.record = audit::append(log, d);
  return out;
}

std::vector<std::string> file_differences(const json& recorded, const json& now, const std::string& label) {
  std::map<std::string, std::string> then_sha, now_sha;
  for (const json& f : recorded) then_sha[f.value("path", "")] = f.value("sha256", "");
  for (const json& f : now) now_sha[f.value("path", "")] = f.value("sha256", "");
  std::vector<std::string> out;
  for (const auto& [path, sha] : then_sha) {
    const auto it = now_sha.find(path);
    if (it == now_sha.end())
      out.push_back(label + path + ": missing (recorded " + sha.substr(0, 12) + ")");
    else if (it->second != sha)
      out.push_back(label + path + ": recorded " + sha.substr(0, 12) + ", now " + it->second.substr(0, 12));
  }
  for (const auto& [path, sha] : now_sha)
    if (!then_sha.count(path)) out.push_back(label + path + ": not in the record (extra file)");
  return out;
}

ReplayOutcome replay(const json& record, const fs::path& case_dir, int threads) {
  ReplayOutcome out;
  const std::string command = record.value("command", "");
  out.recorded_sha256 = record.value("result_sha256", "");
  const json recorded_inputs = record.value("inputs", json::array());
  if (command == "trace") {
    fs::path dir = case_dir;
    if (dir.empty()) {
      if (record.value("origin", "") != "cli" || !record.contains("case") || !record["case"].is_string())
        throw InvalidInput("this record names no case folder (a service job): give --case DIR");
      dir = record["case"].get<std::string>();
    }
    // inputs first: a replay on other inputs is not a replay
    out.input_differences = file_differences(recorded_inputs, trace_inputs(dir, record.value("origin", "") != "serve"));
    if (!out.input_differences.empty()) return out;
    const json p = record.value("parameters", json::object());
    TraceJobRequest r;
    r.case_dir = dir;
    r.pollutant = p.value("pollutant", "");
    if (const std::string s = p.value("start", ""); !s.empty()) r.start = parse_request_time(s);
    if (const std::string s = p.value("end", ""); !s.empty()) r.end = parse_request_time(s);
    r.threads = threads;
    // records before 2026-12-03 evening hold a boolean (fit or off); absent: off
    if (const auto it = p.find("usual_emissions"); it == p.end())
      r.usual_emissions = UsualEmissionsMode::off;
    else if (it->is_boolean())
      r.usual_emissions = it->get<bool>() ? UsualEmissionsMode::fit : UsualEmissionsMode::off;
    else if (const auto m = parse_usual_emissions_mode(it->is_string() ? it->get<std::string>() : ""))
      r.usual_emissions = *m;
    else
      throw InvalidInput("the record's usual_emissions is not off, fit or auto");
    // records written before the tempering was chosen per case ran at the fixed tuning::kTemper
    if (!p.contains("temper")) r.temper = tuning::kTemper;
    else if (p["temper"].is_number()) r.temper = p["temper"].get<double>();
    out.replayed_sha256 = trace_result_sha256(run_trace_job(r));
    return out;
  }
  if (command == "sample-inspections") {
    fs::path files[2];
    for (const json& f : recorded_inputs) {
      const std::string role = f.value("role", "");
      const fs::path path = f.value("path", "");
      const int k = role == "registry" ? 0 : role == "inspectors" ? 1 : -1;
      if (k < 0) continue;
      files[k] = path;
      std::error_code ec;
      if (!fs::is_regular_file(path, ec)) {
        out.input_differences.push_back(path.string() + ": missing");
        continue;
      }
      const std::string sha = audit::sha256_file(path);
      if (sha != f.value("sha256", ""))
        out.input_differences.push_back(path.string() + ": recorded " + f.value("sha256", "").substr(0, 12) + ", now " +
                                        sha.substr(0, 12));
    }
    if (files[0].empty() || files[1].empty()) throw InvalidInput("this sampling record does not name its two input files");
    if (!out.input_differences.empty()) return out;
    sampling::Rates rates;
    for (const auto& [tier, r] : record.at("parameters").at("rates").items()) rates[tier] = r.get<double>();
    const std::uint64_t seed = record.at("seeds").at("draw").get<std::uint64_t>();
    Diagnostics diag;
    const auto facilities = sampling::read_facilities(files[0], diag);
    const auto people = sampling::read_inspectors(files[1], diag);
    out.replayed_sha256 = audit::json_sha256(sampling::to_json(sampling::draw_inspections(facilities, people, rates, seed)));
    return out;
  }
  throw InvalidInput("record " + std::to_string(record.value("seq", 0)) + " is a '" + command +
                     "' record; replay re-runs trace and sample-inspections records");
}

}  // namespace plumetrace::pipeline

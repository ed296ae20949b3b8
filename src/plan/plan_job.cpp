#include "plumetrace/plan/plan_job.hpp"

#include <fstream>
#include <sstream>

#include <cpl_conv.h>
#include <unistd.h>

#include "plumetrace/audit/sha256.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/core/version.hpp"
#include "plumetrace/geo/jurisdictions.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/pipeline/audited_jobs.hpp"
#include "plumetrace/pipeline/init.hpp"
#include "plumetrace/plan/map_image.hpp"
#include "plumetrace/plan/report.hpp"

namespace plumetrace::plan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// A ranking document larger than this is refused (a 2,000-facility ranking is ~2 MB).
constexpr std::uintmax_t kMaxRankingBytes = 256u << 20;

std::string read_file(const fs::path& p, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) throw InvalidInput(p.string() + ": cannot read (" + ec.message() + ")");
  if (size > max_bytes) throw InvalidInput(p.string() + ": too large (" + std::to_string(size) + " bytes)");
  std::ifstream f(p, std::ios::binary);
  if (!f) throw InvalidInput(p.string() + ": cannot open");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw Unavailable("cannot write " + p.string());
}

/// Write `files` (name -> bytes, in the given order) into a new zip at `zip` with GDAL's minizip.
void write_zip(const fs::path& zip, const std::vector<std::pair<std::string, const std::string*>>& files) {
  std::error_code ec;
  fs::remove(zip, ec);
  void* h = CPLCreateZip(zip.string().c_str(), nullptr);
  if (h == nullptr) throw Unavailable("cannot create " + zip.string());
  bool ok = true;
  for (const auto& [name, bytes] : files) {
    ok = ok && CPLCreateFileInZip(h, name.c_str(), nullptr) == CE_None;
    for (std::size_t off = 0; ok && off < bytes->size(); off += 1u << 24) {
      const std::size_t n = std::min<std::size_t>(bytes->size() - off, 1u << 24);
      ok = CPLWriteFileInZip(h, bytes->data() + off, static_cast<int>(n)) == CE_None;
    }
    ok = ok && CPLCloseFileInZip(h) == CE_None;
  }
  ok = CPLCloseZip(h) == CE_None && ok;
  if (!ok) throw Unavailable("cannot write " + zip.string());
}

}  // namespace

PlanJobResult run_plan_job(const PlanJobRequest& req) {
  pipeline::init();
  PlanJobResult out;
  const std::string ranking_bytes = read_file(req.ranking, kMaxRankingBytes);
  json ranking = json::parse(ranking_bytes, nullptr, false);
  if (ranking.is_discarded()) throw InvalidInput(req.ranking.string() + ": not valid JSON");
  try {
    validate_ranking(ranking);
  } catch (const InvalidInput& e) {
    throw InvalidInput(req.ranking.string() + ": " + e.what());
  }
  const Case c = load_case(req.case_dir);
  std::optional<fs::path> posterior = req.posterior;
  if (!posterior) {
    std::error_code ec;
    const fs::path beside = req.ranking.parent_path() / "posterior.tif";
    if (fs::is_regular_file(beside, ec)) posterior = beside;
    else out.diagnostics.warn(req.ranking.string(), "no posterior.tif beside the ranking: the map and the bundle have no posterior");
  }
  TravelTimes times;
  if (req.travel_times) times = read_travel_times(*req.travel_times, out.diagnostics);

  std::optional<JurisdictionIndex> areas;
  if (c.boundaries) {
    Diagnostics ignored;  // the trace reported the boundary layer's repairs already
    areas.emplace(*c.boundaries, ignored);
  }
  PlanOptions opt;
  opt.case_name = !req.case_name.empty() ? req.case_name
                  : !c.settings.name.empty() ? c.settings.name
                                             : fs::absolute(req.case_dir).lexically_normal().filename().string();
  opt.start = req.start;
  opt.travel_times = req.travel_times ? &times : nullptr;
  opt.straight_line_speed_km_h = req.speed_km_h;
  if (areas)
    opt.locate = [&](double lon, double lat) -> std::optional<std::pair<std::string, std::string>> {
      if (const auto j = areas->locate(lon, lat)) return std::make_pair(j->code, j->name);
      return std::nullopt;
    };
  out.plan = build_plan(ranking, opt, out.diagnostics);
  out.plan["ranking_sha256"] = audit::sha256_hex(ranking_bytes);
  out.plan_sha256 = audit::json_sha256(out.plan);

  MapInputs mi;
  mi.plan = &out.plan;
  mi.ranking = &ranking;
  mi.boundaries = c.boundaries ? &*c.boundaries : nullptr;
  mi.stations = &c.stations;
  mi.posterior = posterior;
  const MapImage map = render_plan_map(mi);

  std::string posterior_bytes;
  if (posterior) posterior_bytes = read_file(*posterior, std::uintmax_t{4} << 30);
  json provenance = {{"plumetrace version", kVersion},
                     {"ranking SHA-256", out.plan["ranking_sha256"]},
                     {"plan SHA-256 (canonical JSON)", out.plan_sha256}};
  if (posterior) provenance["posterior SHA-256"] = audit::sha256_hex(posterior_bytes);
  if (req.travel_times) provenance["travel times SHA-256"] = audit::sha256_file(*req.travel_times);
  const std::string plan_bytes = out.plan.dump(2) + "\n";
  const std::string report = render_report_html(out.plan, map.png, provenance);

  std::vector<std::pair<std::string, const std::string*>> files = {
      {"plan.json", &plan_bytes}, {"ranking.json", &ranking_bytes}, {"map.png", &map.png}, {"report.html", &report}};
  if (posterior) files.insert(files.begin() + 2, {"posterior.tif", &posterior_bytes});
  json listed = json::array();
  for (const auto& [name, bytes] : files)
    listed.push_back({{"path", name}, {"sha256", audit::sha256_hex(*bytes)}, {"bytes", bytes->size()}});
  out.manifest = {{"plumetrace_version", kVersion}, {"case", out.plan["case"]}, {"plan_sha256", out.plan_sha256},
                  {"files", listed}};
  const std::string manifest_bytes = out.manifest.dump(2) + "\n";

  std::error_code ec;
  fs::create_directories(req.out_dir, ec);
  if (ec) throw Unavailable("cannot create " + req.out_dir.string() + ": " + ec.message());
  for (const auto& [name, bytes] : files) write_file(req.out_dir / name, *bytes);
  write_file(req.out_dir / "manifest.json", manifest_bytes);
  files.emplace_back("manifest.json", &manifest_bytes);
  out.bundle = req.out_dir / "bundle.zip";
  write_zip(out.bundle, files);
  return out;
}

AuditedPlan run_audited_plan(const PlanJobRequest& req, const fs::path& log, const std::string& origin, const json& extra) {
  audit::check_writable(log);
  audit::RecordDraft d;
  d.command = "plan";
  d.origin = origin;
  const auto entry = [](const std::string& role, const fs::path& p) {
    std::uintmax_t bytes = 0;
    const std::string sha = audit::sha256_file(p, &bytes);
    return json{{"path", fs::absolute(p).lexically_normal().string()}, {"role", role}, {"sha256", sha}, {"bytes", bytes}};
  };
  AuditedPlan out{run_plan_job(req), {}};
  json inputs = json::array();
  inputs.push_back(entry("ranking", req.ranking));
  if (out.result.manifest.contains("files"))
    for (const json& f : out.result.manifest["files"])
      if (f["path"] == "posterior.tif")
        inputs.push_back({{"path", "posterior.tif"}, {"role", "posterior"}, {"sha256", f["sha256"]}, {"bytes", f["bytes"]}});
  if (req.travel_times) inputs.push_back(entry("travel_times", *req.travel_times));
  for (json f : pipeline::hash_case_files(req.case_dir)) {
    f["role"] = "case";
    inputs.push_back(std::move(f));
  }
  d.inputs = inputs;
  json params = {{"speed_km_h", req.speed_km_h}};
  params["start"] = req.start ? json::array({req.start->lon_deg, req.start->lat_deg}) : json(nullptr);
  d.parameters = params;
  d.result_sha256 = out.result.plan_sha256;
  json ex = extra.is_object() ? extra : json::object();
  if (!ex.contains("case")) ex["case"] = fs::absolute(req.case_dir).lexically_normal().string();
  d.extra = ex;
  try {
    out.record = audit::append(log, d);
  } catch (...) {
    std::error_code ec;
    for (const char* f : kPlanFiles) fs::remove(req.out_dir / f, ec);
    fs::remove(req.out_dir / "manifest.json", ec);
    fs::remove(req.out_dir / "bundle.zip", ec);
    throw;
  }
  return out;
}

pipeline::ReplayOutcome replay_plan(const json& record, const fs::path& case_dir, const fs::path& ranking) {
  if (record.value("command", "") != "plan")
    throw InvalidInput("record " + std::to_string(record.value("seq", 0)) + " is not a plan record");
  pipeline::ReplayOutcome out;
  out.recorded_sha256 = record.value("result_sha256", "");
  const bool cli = record.value("origin", "") == "cli";
  PlanJobRequest req;
  req.case_dir = case_dir;
  if (req.case_dir.empty()) {
    if (!cli || !record.contains("case") || !record["case"].is_string())
      throw InvalidInput("this plan record names no case folder (a service job): give --case DIR");
    req.case_dir = record["case"].get<std::string>();
  }
  // a service job's plan is made under the case's name (its folder is the service's own copy)
  if (!cli && record.contains("case") && record["case"].is_string()) req.case_name = record["case"].get<std::string>();
  json case_then = json::array();
  std::string ranking_sha, posterior_sha;
  for (const json& f : record.value("inputs", json::array())) {
    const std::string role = f.value("role", ""), path = f.value("path", ""), sha = f.value("sha256", "");
    if (role == "ranking") {
      if (req.ranking.empty()) req.ranking = path;
      ranking_sha = sha;
    } else if (role == "posterior") {
      posterior_sha = sha;
    } else if (role == "travel_times") {
      req.travel_times = fs::path(path);
      std::error_code ec;
      const std::string now = fs::is_regular_file(path, ec) ? audit::sha256_file(path) : "";
      if (now != sha)
        out.input_differences.push_back(path + ": recorded " + sha.substr(0, 12) + ", now " + (now.empty() ? "missing" : now.substr(0, 12)));
    } else if (role == "case") {
      case_then.push_back(f);
    }
  }
  if (!ranking.empty()) req.ranking = ranking;
  std::error_code ec;
  if (req.ranking.empty() || !fs::is_regular_file(req.ranking, ec))
    throw InvalidInput("the plan's ranking " + (req.ranking.empty() ? std::string("is not in the record") : req.ranking.string() + " does not exist") +
                       (cli ? "" : " (a service job: give --ranking FILE, the trace job's ranking)"));
  // the ranking, and the posterior.tif the plan reads beside it
  if (const std::string now = audit::sha256_file(req.ranking); now != ranking_sha)
    out.input_differences.push_back(req.ranking.string() + ": recorded " + ranking_sha.substr(0, 12) + ", now " + now.substr(0, 12));
  const fs::path posterior = req.ranking.parent_path() / "posterior.tif";
  const std::string posterior_now = fs::is_regular_file(posterior, ec) ? audit::sha256_file(posterior) : "";
  if (posterior_now != posterior_sha)
    out.input_differences.push_back(posterior.string() + ": recorded " + (posterior_sha.empty() ? "none" : posterior_sha.substr(0, 12)) +
                                    ", now " + (posterior_now.empty() ? "none" : posterior_now.substr(0, 12)));
  // the case folder's files
  for (std::string& d : pipeline::file_differences(case_then, pipeline::hash_case_files(req.case_dir), "case "))
    out.input_differences.push_back(std::move(d));
  if (!out.input_differences.empty()) return out;

  const json p = record.value("parameters", json::object());
  req.speed_km_h = p.value("speed_km_h", kStraightLineSpeedKmH);
  if (p.contains("start") && p["start"].is_array() && p["start"].size() == 2)
    req.start = LonLat{p["start"][0].get<double>(), p["start"][1].get<double>()};
  // a folder of its own for the re-run's files, removed whatever happens
  fs::path tmp;
  for (int attempt = 0; tmp.empty(); ++attempt) {
    const fs::path t = fs::temp_directory_path() / ("plumetrace-plan-replay-" + std::to_string(::getpid()) + "-" + std::to_string(attempt));
    if (fs::create_directory(t, ec)) tmp = t;
    else if (ec || attempt > 1000) throw Unavailable("cannot make a temporary folder for the replay: " + (ec ? ec.message() : t.string()));
  }
  struct Remove {
    fs::path dir;
    ~Remove() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{tmp};
  req.out_dir = tmp / "plan";
  out.replayed_sha256 = run_plan_job(req).plan_sha256;
  return out;
}

}  // namespace plumetrace::plan

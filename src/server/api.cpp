#include "api.hpp"

#include <charconv>
#include <fstream>
#include <iostream>
#include <list>
#include <map>
#include <mutex>
#include <span>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/core/error.hpp"
#include "plumetrace/core/version.hpp"
#include "plumetrace/render/tile_renderer.hpp"
#include "plumetrace/render/tilejson.hpp"
#include "plumetrace/server/alerts.hpp"
#include "plumetrace/server/cases.hpp"
#include "plumetrace/server/problem.hpp"
#include "plumetrace/server/tile_cache.hpp"
#include "vector_layers.hpp"
#include "web_assets.hpp"

namespace plumetrace::server {
namespace {

namespace http = boost::beast::http;
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kJson = "application/json";
constexpr const char* kProblemJson = "application/problem+json";
constexpr const char* kResultsRel = "http://www.opengis.net/def/rel/ogc/1.0/results";
/// Raster layers a trace job writes (CONTRACT §4 `{jobID}:posterior` ...).
constexpr std::array<const char*, 3> kJobLayers{"posterior", "footprint", "fused"};

/// Percent-decode a URL component ('+' stays '+'). @throws InvalidInput on a bad escape.
std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int v = 0;
    if (i + 2 >= s.size() || std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr != s.data() + i + 3)
      throw InvalidInput("bad percent-escape in the URL");
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

/// A request target split into decoded path segments and query parameters.
struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
  std::string raw_query;
};

Target parse_target(std::string_view target) {
  Target t;
  const auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) {
    t.raw_query = std::string(target.substr(q + 1));
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view kv = rest.substr(0, amp);
      const auto eq = kv.find('=');
      if (!kv.empty())
        t.query[url_decode(kv.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(kv.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    t.segments.push_back(url_decode(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return t;
}

/// Segments [from, to) joined with '/'.
std::string join(const std::vector<std::string>& s, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) out += (i > from ? "/" : "") + s[i];
  return out;
}

std::string content_type_for(const std::string& path) {
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  if (ext == "json") return kJson;
  if (ext == "geojson") return "application/geo+json";
  if (ext == "csv") return "text/csv; charset=utf-8";
  if (ext == "tif" || ext == "tiff") return "image/tiff";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gpx") return "application/gpx+xml";
  return "application/octet-stream";
}

int parse_int(const std::string& s, const char* what) {
  int v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) throw InvalidInput(std::string("bad ") + what + " in the URL");
  return v;
}

/// The files of a plan job served under /jobs/{id}/results/ (name, media type).
const std::pair<const char*, const char*> kPlanResultFiles[] = {
    {"bundle.zip", "application/zip"}, {"report.html", "text/html; charset=utf-8"}, {"map.png", "image/png"},
    {"manifest.json", "application/json"}, {"plan.json", "application/json"}};

/// The files of a regions job served under /jobs/{id}/results/ (name, media type).
const std::pair<const char*, const char*> kRegionsResultFiles[] = {
    {"pscf.tif", "image/tiff; application=geotiff; profile=cloud-optimized"},
    {"cwt.tif", "image/tiff; application=geotiff; profile=cloud-optimized"},
    {"regions.json", "application/json"}};

/// The OGC status document of a job.
json status_document(const JobRecord& j) {
  json doc = {{"jobID", j.id},          {"processID", j.process}, {"type", "process"},
              {"status", to_string(j.status)}, {"progress", j.progress}, {"message", j.message},
              {"created", j.created},   {"updated", j.updated}, {"case", j.case_name}};
  if (!j.started.empty()) doc["started"] = j.started;
  if (!j.finished.empty()) doc["finished"] = j.finished;
  doc["links"] = json::array({{{"href", "/jobs/" + j.id}, {"rel", "self"}, {"type", kJson}, {"title", "this document"}}});
  if (j.status == JobStatus::successful) {
    doc["links"].push_back({{"href", "/jobs/" + j.id + "/results"}, {"rel", kResultsRel}, {"type", kJson},
                            {"title", j.process == "plan"      ? "the plan document"
                                      : j.process == "trace"   ? "the ranking document"
                                      : j.process == "regions" ? "the regions document"
                                                               : "the draw"}});
    if (j.process == "plan")
      for (const auto& [file, type] : kPlanResultFiles)
        doc["links"].push_back({{"href", "/jobs/" + j.id + "/results/" + file}, {"rel", "enclosure"}, {"type", type},
                                {"title", file}});
    if (j.process == "regions")
      for (const auto& [file, type] : kRegionsResultFiles)
        doc["links"].push_back({{"href", "/jobs/" + j.id + "/results/" + file}, {"rel", "enclosure"}, {"type", type},
                                {"title", file}});
  }
  return doc;
}

/// The OGC process summary of one of the service's processes.
json process_summary(const std::string& id, const char* title, const char* description, json transmission) {
  return {{"id", id},
          {"title", title},
          {"description", description},
          {"version", kVersion},
          {"jobControlOptions", {"sync-execute", "async-execute", "dismiss"}},
          {"outputTransmission", std::move(transmission)},
          {"links", json::array({{{"href", "/processes/" + id}, {"rel", "self"}, {"type", kJson}}})}};
}

json trace_process_summary() {
  return process_summary("trace", "Rank the likely sources of a pollutant",
                         "plumetrace trace on a case stored in this service (CONTRACT §2-3)", {"value"});
}

json plan_process_summary() {
  return process_summary("plan", "A joint enforcement plan from a trace job's ranking",
                         "plumetrace plan on a finished trace job: jurisdictions, inspections in order, route, "
                         "report.html, map.png and bundle.zip with manifest.json (CONTRACT §2)",
                         {"value", "reference"});
}

json plan_process_description() {
  json d = plan_process_summary();
  d["inputs"] = {
      {"job", {{"title", "trace job"}, {"description", "id of a successful trace job"}, {"minOccurs", 1}, {"maxOccurs", 1},
               {"schema", {{"type", "string"}}}}},
      {"start_point", {{"title", "start point"}, {"description", "[lon, lat] WGS 84 where the route starts; default: the most probable stop"},
                       {"minOccurs", 0}, {"maxOccurs", 1},
                       {"schema", {{"type", "array"}, {"items", {{"type", "number"}}}, {"minItems", 2}, {"maxItems", 2}}}}},
      {"speed_km_h", {{"title", "straight-line speed"}, {"description", "km/h for travel minutes (default 30)"}, {"minOccurs", 0},
                      {"maxOccurs", 1}, {"schema", {{"type", "number"}, {"exclusiveMinimum", 0}}}}},
      {"travel_times", {{"title", "travel times"}, {"description", "CSV text from,to,minutes between 'start', facility ids and 'unlisted'"},
                        {"minOccurs", 0}, {"maxOccurs", 1}, {"schema", {{"type", "string"}}}}}};
  d["outputs"] = {{"plan", {{"title", "plan document"}, {"schema", {{"type", "object"}, {"contentMediaType", kJson}}}}},
                  {"bundle", {{"title", "bundle.zip"}, {"schema", {{"type", "string"}, {"contentMediaType", "application/zip"}}}}}};
  return d;
}

/// An OGC process input that is one string.
json string_input_description(const char* title, const char* desc, int min_occurs) {
  return json{{"title", title}, {"description", desc}, {"minOccurs", min_occurs}, {"maxOccurs", 1},
              {"schema", {{"type", "string"}}}};
}

json regions_process_summary() {
  return process_summary("regions", "Long-term source regions of a case's stations",
                         "plumetrace regions on a stored case: hourly back-trajectories from every station, PSCF and "
                         "CWT on the grid (pscf.tif, cwt.tif) and the share per jurisdiction (CONTRACT §2)",
                         {"value", "reference"});
}

json regions_process_description() {
  json d = regions_process_summary();
  d["inputs"] = {{"case", string_input_description("case", "name of a case uploaded to /api/v1/cases/{case}", 1)},
                 {"pollutant", string_input_description("pollutant", "variable; default: case.json's pollutant", 0)},
                 {"start", string_input_description("start", "ISO 8601 start of the period; default: start of the data", 0)},
                 {"end", string_input_description("end", "ISO 8601 end of the period; default: end of the data", 0)}};
  d["inputs"]["start"]["schema"]["format"] = "date-time";
  d["inputs"]["end"]["schema"]["format"] = "date-time";
  d["outputs"] = {{"regions", {{"title", "regions document"}, {"schema", {{"type", "object"}, {"contentMediaType", kJson}}}}},
                  {"pscf", {{"title", "pscf.tif"}, {"schema", {{"type", "string"}, {"contentMediaType", "image/tiff"}}}}},
                  {"cwt", {{"title", "cwt.tif"}, {"schema", {{"type", "string"}, {"contentMediaType", "image/tiff"}}}}}};
  return d;
}

json sampling_process_summary() {
  return process_summary("sample-inspections", "A \"double random\" inspection draw",
                         "plumetrace sample-inspections on a stored case's registry (its credit tiers): facilities drawn "
                         "at a rate per tier, two inspectors each, exclusions honoured, reproducible from the recorded seed",
                         {"value"});
}

json sampling_process_description() {
  json d = sampling_process_summary();
  const auto in = [](const char* desc, int min_occurs, json schema) {
    return json{{"description", desc}, {"minOccurs", min_occurs}, {"maxOccurs", 1}, {"schema", std::move(schema)}};
  };
  d["inputs"] = {{"case", in("a stored case whose sources.csv carries credit A-D", 1, {{"type", "string"}})},
                 {"inspectors", in("CSV text id,name[,exclude] (exclude: ;-separated facility ids)", 1, {{"type", "string"}})},
                 {"rates", in("rate per tier, {\"A\": 0.03, ...} or \"A=0.03,...\"", 1, {{"type", {"object", "string"}}})},
                 {"seed", in("unsigned 64-bit seed; default: chosen at random and recorded", 0, {{"type", "integer"}, {"minimum", 0}})}};
  d["outputs"] = {{"draw", {{"title", "the draw (as sample-inspections --json)"}, {"schema", {{"type", "object"}}}}}};
  return d;
}

json trace_process_description() {
  json d = trace_process_summary();
  d["inputs"] = {{"case", string_input_description("case", "name of a case uploaded to /api/v1/cases/{case}", 1)},
                 {"pollutant", string_input_description("pollutant", "variable to trace; default: case.json's pollutant", 0)},
                 {"start", string_input_description("start", "ISO 8601 start of the suspected release", 0)},
                 {"end", string_input_description("end", "ISO 8601 end of the suspected release", 0)},
                 {"usual_emissions", string_input_description("usual emissions", "\"fit\": the registry's usual emissions are part of "
                                         "\"no release\"; \"off\": the background alone; \"auto\" (default): whichever "
                                         "predicts held-out hours better", 0)}};
  d["inputs"]["usual_emissions"]["schema"]["enum"] = {"auto", "fit", "off"};
  d["inputs"]["start"]["schema"]["format"] = "date-time";
  d["inputs"]["end"]["schema"]["format"] = "date-time";
  d["outputs"] = {{"ranking", {{"title", "ranking document"}, {"schema", {{"type", "object"}, {"contentMediaType", kJson}}}}}};
  return d;
}

/// Open TileRenderers, one per raster file, shared by all requests (at most kMax, oldest dropped).
class RendererCache {
 public:
  std::shared_ptr<const TileRenderer> get(const fs::path& raster) {
    const std::string key = raster.string();
    {
      std::lock_guard lock(mu_);
      if (auto it = map_.find(key); it != map_.end()) return it->second;
    }
    auto r = std::make_shared<const TileRenderer>(raster);  // opened outside the lock
    std::lock_guard lock(mu_);
    auto [it, added] = map_.emplace(key, r);
    if (added) {
      order_.push_back(key);
      if (order_.size() > kMax) {
        map_.erase(order_.front());
        order_.pop_front();
      }
    }
    return it->second;
  }

 private:
  static constexpr std::size_t kMax = 64;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const TileRenderer>> map_;
  std::list<std::string> order_;
};

/// Boost 1.74's string_view as std's.
std::string_view sv(boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }

/// The tile cache's key of a tile request `/tiles/{case}/{layer}/{z}/{x}/{y}.png?...`: case, layer,
/// z/x/y and the query parameters a tile depends on (colormap_name, rescale, bidx; others are
/// ignored by the renderer too). "" when the target is not shaped as a tile.
std::string tile_cache_key(const Target& t) {
  const auto& s = t.segments;
  if (s.size() < 6 || s[0] != "tiles" || !s.back().ends_with(".png")) return "";
  std::string key = join(s, 1, s.size());
  for (const char* q : {"colormap_name", "rescale", "bidx"}) {
    key += '\n';
    if (auto it = t.query.find(q); it != t.query.end()) key += it->second;
  }
  return key;
}

/// Whether If-None-Match `inm` matches the strong `etag`.
bool etag_matches(std::string_view inm, const std::string& etag) {
  return !inm.empty() && (inm == "*" || inm.find(etag) != std::string_view::npos);
}

/// A file name under /static/leaflet/: segments of [A-Za-z0-9._-], none starting with '.'.
bool valid_static_path(const std::vector<std::string>& s, std::size_t from) {
  if (from >= s.size()) return false;
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i].empty() || s[i].front() == '.' || s[i].size() > 128) return false;
    for (char c : s[i])
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::string static_content_type(const std::string& name) {
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".map")) return kJson;
  if (name.ends_with(".svg")) return "image/svg+xml";
  return content_type_for(name);
}

}  // namespace

struct Api::Impl {
  Impl(Store& s, JobRunner& j, ApiOptions o)
      : store(s), jobs(j), opt(std::move(o)), tile_cache(opt.tile_cache_bytes) {}
  Store& store;
  JobRunner& jobs;
  ApiOptions opt;
  RendererCache renderers;
  TileCache tile_cache;
  VectorLayerCache vector_layers;

  std::shared_ptr<Response> make(http::status status, const Request& req, std::string body, const std::string& type) const {
    auto res = std::make_shared<Response>(status, req.version());
    res->set(http::field::server, std::string("plumetrace/") + kVersion);
    if (!type.empty()) res->set(http::field::content_type, type);
    res->keep_alive(req.keep_alive());
    res->body() = std::move(body);
    return res;
  }
  std::shared_ptr<Response> json_response(http::status status, const Request& req, const json& doc,
                                          const char* type = kJson) const {
    return make(status, req, doc.dump(), type);
  }

  /// The case name of a route, validated. @throws InvalidInput.
  static const std::string& case_name(const std::string& name) {
    if (!valid_case_name(name)) throw InvalidInput("not a valid case name (1-64 of A-Z a-z 0-9 _ -)");
    return name;
  }

  static void require(bool ok, const char* allowed) {
    if (!ok) throw MethodNotAllowed(std::string("this path answers ") + allowed);
  }

  std::shared_ptr<Response> route(const Request& req, const Target& t, const Reply& reply, bool& deferred) {
    const auto& s = t.segments;
    const http::verb m = req.method() == http::verb::head ? http::verb::get : req.method();
    const bool get = m == http::verb::get;
    if (s.empty() || (s.size() == 1 && s[0] == "index.html")) {
      require(get, "GET, HEAD");
      return dashboard_file(req, "index.html");
    }
    if (s[0] == "static") {
      require(get, "GET, HEAD");
      return static_file(req, s);
    }
    if (s.size() == 1 && s[0] == "health") {
      require(get, "GET");
      return json_response(http::status::ok, req, {{"status", "ok"}, {"version", kVersion}});
    }
    if (s[0] == "processes") return processes(req, t, m, reply, deferred);
    if (s[0] == "jobs") return jobs_route(req, t, m);
    if (s[0] == "tiles") {
      require(get, "GET, HEAD");
      return tiles(req, t);
    }
    if (s.size() >= 4 && s[0] == "api" && s[1] == "v1" && s[2] == "cases") return cases_route(req, t, m);
    if (s.size() == 3 && s[0] == "api" && s[1] == "v1" && s[2] == "alerts") {
      require(get, "GET, HEAD");
      return alerts_route(req, t);
    }
    throw NotFound("no such resource");
  }

  std::shared_ptr<Response> processes(const Request& req, const Target& t, http::verb m, const Reply& reply,
                                      bool& deferred) {
    const auto& s = t.segments;
    if (s.size() == 1) {
      require(m == http::verb::get, "GET");
      return json_response(http::status::ok, req,
                           {{"processes", json::array({trace_process_summary(), plan_process_summary(), sampling_process_summary(),
                                                        regions_process_summary()})},
                            {"links", json::array({{{"href", "/processes"}, {"rel", "self"}, {"type", kJson}}})}});
    }
    if (s[1] != "trace" && s[1] != "plan" && s[1] != "sample-inspections" && s[1] != "regions")
      throw NotFound("no process '" + s[1] + "'");
    if (s.size() == 2) {
      require(m == http::verb::get, "GET");
      return json_response(http::status::ok, req,
                           s[1] == "plan"      ? plan_process_description()
                           : s[1] == "trace"   ? trace_process_description()
                           : s[1] == "regions" ? regions_process_description()
                                               : sampling_process_description());
    }
    if (s.size() != 3 || s[2] != "execution") throw NotFound("no such resource");
    require(m == http::verb::post, "POST");
    const json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) throw InvalidInput("the body must be a JSON object {\"inputs\": {...}}");
    const json inputs = body.value("inputs", json());
    const JobRecord job = s[1] == "plan"      ? jobs.submit_plan(inputs)
                          : s[1] == "trace"   ? jobs.submit_trace(inputs)
                          : s[1] == "regions" ? jobs.submit_regions(inputs)
                                              : jobs.submit_sampling(inputs);
    const bool async = sv(req[http::field::prefer]).find("respond-async") != std::string_view::npos;
    if (async) {
      auto res = json_response(http::status::created, req, status_document(job));
      res->set(http::field::location, "/jobs/" + job.id);
      res->set("Preference-Applied", "respond-async");
      return res;
    }
    // synchronous: answer when the job ends (the request worker is not held meanwhile)
    deferred = true;
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    const Request head = [&] {
      Request h(req.method(), req.target(), version);
      h.keep_alive(keep_alive);
      return h;
    }();
    jobs.when_finished(job.id, [this, head, reply](const JobRecord& done) {
      std::shared_ptr<Response> res;
      if (done.status == JobStatus::successful) {
        res = make(http::status::ok, head, done.result_json, kJson);
        res->set(http::field::location, "/jobs/" + done.id);
      } else if (done.status == JobStatus::dismissed) {
        res = problem_for(503, "the job was dismissed", head);
      } else {
        res = problem_for(422, done.message, head);
      }
      finish(head, *res);
      reply(res);
    });
    return nullptr;
  }

  std::shared_ptr<Response> jobs_route(const Request& req, const Target& t, http::verb m) {
    const auto& s = t.segments;
    if (s.size() == 1) {
      require(m == http::verb::get, "GET");
      json list = json::array();
      for (const JobRecord& j : store.jobs()) list.push_back(status_document(j));
      return json_response(http::status::ok, req,
                           {{"jobs", list}, {"links", json::array({{{"href", "/jobs"}, {"rel", "self"}, {"type", kJson}}})}});
    }
    const std::string& id = s[1];
    if (s.size() == 2) {
      if (m == http::verb::delete_) {
        const JobRecord j = jobs.dismiss(id);
        tile_cache.erase_prefix(j.case_name + "/");  // its layers are gone
        return json_response(http::status::ok, req, status_document(j));
      }
      require(m == http::verb::get, "GET, DELETE");
      const auto j = store.job(id);
      if (!j) throw NotFound("no job '" + id + "'");
      return json_response(http::status::ok, req, status_document(*j));
    }
    // a job whose results can be given: 404 unknown, dismissed or unfinished; 422 failed
    const auto finished_job = [&] {
      const auto j = store.job(id);
      if (!j || j->status == JobStatus::dismissed) throw NotFound("no job '" + id + "'");
      if (j->status == JobStatus::failed) throw UnusableData(j->message);
      if (j->status != JobStatus::successful) throw NotFound("the results of job '" + id + "' are not ready");
      return *j;
    };
    if (s.size() == 3 && s[2] == "results") {
      require(m == http::verb::get, "GET");
      return make(http::status::ok, req, finished_job().result_json, kJson);
    }
    if (s.size() == 4 && s[2] == "results") {
      require(m == http::verb::get, "GET");
      const JobRecord done = finished_job();
      using Files = std::span<const std::pair<const char*, const char*>>;
      const Files files = done.process == "plan"      ? Files(kPlanResultFiles)
                          : done.process == "regions" ? Files(kRegionsResultFiles)
                                                      : Files();
      for (const auto& [file, type] : files) {
        if (s[3] != file) continue;
        std::ifstream f(jobs.output_dir(id) / file, std::ios::binary);
        if (!f) throw NotFound("job '" + id + "' has no " + file);
        std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        auto res = make(http::status::ok, req, std::move(bytes), type);
        if (s[3] == "report.html")  // a page from data: no script, only its own styles and embedded map
          res->set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'");
        if (s[3] == "bundle.zip") res->set(http::field::content_disposition, "attachment; filename=\"plan-" + id + ".zip\"");
        return res;
      }
      throw NotFound("job '" + id + "' has no result '" + s[3] + "'");
    }
    throw NotFound("no such resource");
  }

  std::shared_ptr<Response> cases_route(const Request& req, const Target& t, http::verb m) {
    const auto& s = t.segments;
    const std::string& name = case_name(s[3]);
    if (s.size() >= 5 && s[4] == "files") {
      const std::string path = join(s, 5, s.size());
      if (m == http::verb::put) {
        if (!valid_case_path(path)) throw InvalidInput("not a case file path of CONTRACT §1 (e.g. sources.csv, traces/car_01.csv)");
        if (path == "readings.csv") return readings_answer(req, name, append_readings_csv(store, name, req.body()));
        const auto [f, created] = store.put_file(name, path, req.body());
        if (path == "stations.csv") store_stations_csv(store, name, req.body());
        tile_cache.erase_prefix(name + "/");  // an imagery layer may have changed
        return json_response(created ? http::status::created : http::status::ok, req,
                             {{"path", f.path}, {"sha256", f.sha256}, {"bytes", f.bytes}});
      }
      require(m == http::verb::get, "GET, HEAD, PUT");
      if (!store.case_exists(name)) throw NotFound("no case '" + name + "'");
      if (path == "readings.csv") return make(http::status::ok, req, readings_csv(store, name), "text/csv; charset=utf-8");
      if (const auto f = store.file(name, path)) return make(http::status::ok, req, read_blob(store, f->sha256), content_type_for(path));
      // a folder (or the case itself): list what is under it
      json list = json::array();
      const std::string prefix = path.empty() ? "" : path + "/";
      for (const StoredFile& f : store.files(name))
        if (f.path.rfind(prefix, 0) == 0) list.push_back({{"path", f.path}, {"sha256", f.sha256}, {"bytes", f.bytes}});
      if (path.empty() || path == "readings.csv") list.push_back({{"path", "readings.csv"}});
      if (list.empty()) throw NotFound("no file '" + path + "' in case '" + name + "'");
      return json_response(http::status::ok, req, {{"case", name}, {"files", list}});
    }
    if (s.size() == 5 && s[4] == "readings") {
      require(m == http::verb::post, "POST");
      return readings_answer(req, name, append_readings_csv(store, name, req.body()));
    }
    if (s.size() == 5 && s[4] == "alert-rules") return alert_rules_route(req, name, m);
    if (s.size() == 5 && s[4] == "layers") {
      require(m == http::verb::get, "GET");
      return json_response(http::status::ok, req, layers(name));
    }
    if (s.size() >= 6 && s[4] == "layers" && s.back().ends_with(".geojson")) {
      require(m == http::verb::get, "GET, HEAD");
      std::string layer = join(s, 5, s.size());
      layer.resize(layer.size() - 8);
      const VectorLayer v = vector_layers.get(store, name, layer);
      if (etag_matches(sv(req[http::field::if_none_match]), v.etag)) {
        auto res = make(http::status::not_modified, req, "", "");
        res->set(http::field::etag, v.etag);
        res->set(http::field::cache_control, "no-cache");
        return res;
      }
      auto res = make(http::status::ok, req, *v.geojson, "application/geo+json");
      res->set(http::field::etag, v.etag);
      res->set(http::field::cache_control, "no-cache");
      return res;
    }
    throw NotFound("no such resource");
  }

  /// The answer to an append, after checking the readings against the case's alert rules.
  std::shared_ptr<Response> readings_answer(const Request& req, const std::string& name, const ReadingsReport& r) {
    json rejected = json::array();
    for (const Rejection& x : r.rejected) rejected.push_back({{"line", x.line}, {"reason", x.reason}});
    json doc = {{"valid", r.valid}, {"added", r.added}, {"duplicates", r.valid - r.added}, {"rejected", rejected}};
    if (r.valid == 0 && !r.rejected.empty()) {
      json p = problem_document(422, "no usable reading in the body");
      p["rejected"] = rejected;
      return json_response(http::status::unprocessable_entity, req, p, kProblemJson);
    }
    const AlertCheck check = check_alerts(store, jobs, name, r.rows, case_time_zone(store, name));
    doc["alerts"] = json::array();
    for (const AlertRecord& a : check.raised) doc["alerts"].push_back(to_json(a));
    if (check.left_out > 0) doc["alerts_left_out"] = check.left_out;
    return json_response(http::status::ok, req, doc);
  }

  /// PUT/GET /api/v1/cases/{case}/alert-rules.
  std::shared_ptr<Response> alert_rules_route(const Request& req, const std::string& name, http::verb m) {
    if (m == http::verb::put) {
      const json body = json::parse(req.body(), nullptr, false);
      if (body.is_discarded()) throw InvalidInput("the body is not JSON");
      AlertRules rules;
      try {
        rules = parse_alert_rules(body);
      } catch (const InvalidAlertRules& e) {
        json p = problem_document(400, e.what());
        p["field"] = e.field();
        return json_response(http::status::bad_request, req, p, kProblemJson);
      }
      store.put_alert_rules(name, to_json(rules).dump());
      return json_response(http::status::ok, req, to_json(rules));
    }
    require(m == http::verb::get, "GET, HEAD, PUT");
    const auto text = store.alert_rules(name);
    if (!text) throw NotFound("case '" + name + "' has no alert rules");
    return make(http::status::ok, req, *text, kJson);
  }

  /// GET /api/v1/alerts[?case=].
  std::shared_ptr<Response> alerts_route(const Request& req, const Target& t) {
    std::string name;
    if (auto it = t.query.find("case"); it != t.query.end()) name = case_name(it->second);
    json list = json::array();
    for (const AlertRecord& a : store.alerts(name)) list.push_back(to_json(a));
    return json_response(http::status::ok, req, {{"alerts", list}});
  }

  json layers(const std::string& name) {
    if (!store.case_exists(name)) throw NotFound("no case '" + name + "'");
    json out = json::array();
    auto tiles_link = [&](const std::string& layer) { return "/tiles/" + name + "/" + layer + "/tilejson.json"; };
    for (const StoredFile& f : store.files(name)) {
      const auto dot = f.path.rfind('.');
      const std::string stem = f.path.substr(0, dot);
      const std::string ext = dot == std::string::npos ? "" : f.path.substr(dot + 1);
      if (f.path.rfind("imagery/", 0) == 0 && ext != "json")
        out.push_back({{"id", stem}, {"kind", "imagery"}, {"type", "raster"}, {"tilejson", tiles_link(stem)}});
      else if (stem == "boundaries" || stem == "sources" || stem == "stations" || f.path.rfind("traces/", 0) == 0)
        out.push_back({{"id", stem}, {"kind", stem.substr(0, stem.find('/'))}, {"type", "vector"}, {"file", f.path}});
    }
    for (const JobRecord& j : store.jobs())
      if (j.case_name == name && j.status == JobStatus::successful)
        for (const char* l : kJobLayers) {
          const std::string id = j.id + ":" + l;
          out.push_back({{"id", id}, {"kind", l}, {"type", "raster"}, {"job", j.id}, {"tilejson", tiles_link(id)}});
        }
    return {{"case", name}, {"layers", out}};
  }

  /// The raster file of a tile layer and whether it is immutable (a job output).
  std::pair<fs::path, bool> layer_raster(const std::string& name, const std::string& layer) {
    if (!store.case_exists(name)) throw NotFound("no case '" + name + "'");
    if (layer.rfind("imagery/", 0) == 0) {
      for (const char* ext : {"", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}) {
        const std::string path = layer + ext;
        if (!valid_case_path(path) || path.ends_with(".json")) continue;
        if (const auto f = store.file(name, path)) return {store.blob_path(f->sha256), false};
      }
      throw NotFound("no layer '" + layer + "' in case '" + name + "'");
    }
    const auto colon = layer.find(':');
    if (colon != std::string::npos) {
      const std::string id = layer.substr(0, colon), kind = layer.substr(colon + 1);
      const auto j = store.job(id);
      if (j && j->case_name == name && j->status == JobStatus::successful)
        for (const char* l : kJobLayers)
          if (kind == l) return {jobs.output_dir(id) / (kind + ".tif"), true};
    }
    throw NotFound("no layer '" + layer + "' in case '" + name + "'");
  }

  std::shared_ptr<Response> tiles(const Request& req, const Target& t) {
    const auto& s = t.segments;
    if (s.size() < 4) throw NotFound("no such resource");
    const std::string& name = case_name(s[1]);
    TileStyle style;
    if (auto it = t.query.find("colormap_name"); it != t.query.end()) {
      (void)colormap_by_name(it->second);
      style.colormap_name = it->second;
    }
    if (auto it = t.query.find("rescale"); it != t.query.end()) style.rescale = parse_rescale(it->second);
    if (auto it = t.query.find("bidx"); it != t.query.end()) style.band = parse_int(it->second, "bidx");
    if (s.back() == "tilejson.json") {
      const std::string layer = join(s, 2, s.size() - 1);
      const auto [raster, immutable] = layer_raster(name, layer);
      const auto r = renderers.get(raster);
      TileJsonInfo info;
      info.name = name + " " + layer;
      info.tiles_url = "/tiles/" + name + "/" + layer + "/{z}/{x}/{y}.png" + (t.raw_query.empty() ? "" : "?" + t.raw_query);
      info.bounds = r->bounds_lonlat();
      info.min_zoom = r->default_min_zoom();
      info.max_zoom = std::max(r->default_max_zoom(), info.min_zoom);
      return json_response(http::status::ok, req, tilejson_document(info));
    }
    if (s.size() < 6 || !s.back().ends_with(".png")) throw NotFound("no such resource");
    const std::string layer = join(s, 2, s.size() - 3);
    TileId tile{parse_int(s[s.size() - 3], "z"), parse_int(s[s.size() - 2], "x"),
                parse_int(s.back().substr(0, s.back().size() - 4), "y")};
    if (!is_valid_tile(tile)) throw InvalidInput("z/x/y is not a valid XYZ tile");
    const std::uint64_t generation = tile_cache.generation();  // before the layer is looked up
    const auto [raster, immutable] = layer_raster(name, layer);
    const auto r = renderers.get(raster);
    auto tile_out = std::make_shared<CachedTile>();
    tile_out->etag = r->etag(tile, style);
    tile_out->cache_control = immutable ? "public, max-age=86400" : "no-cache";
    if (etag_matches(sv(req[http::field::if_none_match]), tile_out->etag)) return tile_response(req, *tile_out);
    tile_out->png = r->render_png(tile, style);
    if (tile_cache.enabled()) tile_cache.put(tile_cache_key(t), tile_out, generation);
    return tile_response(req, *tile_out);
  }

  /// 200 with the tile, or 304 when If-None-Match names its ETag.
  std::shared_ptr<Response> tile_response(const Request& req, const CachedTile& tile) const {
    const bool fresh = etag_matches(sv(req[http::field::if_none_match]), tile.etag);
    auto res = fresh ? make(http::status::not_modified, req, "", "") : make(http::status::ok, req, tile.png, "image/png");
    res->set(http::field::etag, tile.etag);
    res->set(http::field::cache_control, tile.cache_control);
    return res;
  }

  /// The dashboard's embedded files (web/).
  std::shared_ptr<Response> dashboard_file(const Request& req, const std::string& file) const {
    const web::Asset* a = web::find_asset(file);
    if (a == nullptr) throw NotFound("no such resource");
    auto res = make(http::status::ok, req, std::string(a->body), std::string(a->content_type));
    res->set(http::field::cache_control, "no-cache");
    res->set("X-Content-Type-Options", "nosniff");
    if (file.ends_with(".html")) {
      // everything the page needs comes from this server (no internet needed, nothing else allowed)
      res->set("Content-Security-Policy",
               "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
      res->set("Referrer-Policy", "no-referrer");
    }
    return res;
  }

  /// /static/{file} (embedded) and /static/leaflet/{path} (from --leaflet-dir).
  std::shared_ptr<Response> static_file(const Request& req, const std::vector<std::string>& s) const {
    if (s.size() == 2 && s[1] != "index.html") return dashboard_file(req, s[1]);
    if (s.size() < 3 || s[1] != "leaflet" || !valid_static_path(s, 2)) throw NotFound("no such resource");
    const fs::path file = opt.leaflet_dir / join(s, 2, s.size());
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw NotFound("no such resource");
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) throw NotFound("no such resource");
    auto res = make(http::status::ok, req, ss.str(), static_content_type(s.back()));
    res->set(http::field::cache_control, "public, max-age=3600");
    res->set("X-Content-Type-Options", "nosniff");
    return res;
  }

  std::shared_ptr<Response> problem_for(int status, std::string_view detail, const Request& req) const {
    const bool keep = req.keep_alive() && status != 413 && status != 431;
    Request h(req.method(), req.target(), req.version());
    h.keep_alive(keep);
    return json_response(static_cast<http::status>(status), h,
                         problem_document(status, scrub_paths(std::string(detail), store.data_dir().string())),
                         kProblemJson);
  }

  /// Headers every response gets (CORS), the length, and HEAD's empty body.
  void finish(const Request& req, Response& res) const {
    if (!opt.cors_origin.empty()) {
      res.set(http::field::access_control_allow_origin, opt.cors_origin);
      res.set(http::field::access_control_expose_headers, "Location, ETag, Preference-Applied");
      if (opt.cors_origin != "*") res.set(http::field::vary, "Origin");
    }
    if (res.result() == http::status::not_modified) return;  // Beast 1.74: no prepare_payload on a 304
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();  // Content-Length stays the GET's
  }
};

Api::Api(Store& store, JobRunner& jobs, ApiOptions options)
    : impl_(std::make_unique<Impl>(store, jobs, std::move(options))) {}

Api::~Api() = default;

std::shared_ptr<Response> Api::cached(const Request& req) const noexcept {
  try {
    if ((req.method() != http::verb::get && req.method() != http::verb::head) || !impl_->tile_cache.enabled())
      return nullptr;
    const std::string_view target = sv(req.target());
    if (!target.starts_with("/tiles/")) return nullptr;
    const std::string key = tile_cache_key(parse_target(target));
    if (key.empty()) return nullptr;
    const auto tile = impl_->tile_cache.get(key);
    if (!tile) return nullptr;
    auto res = impl_->tile_response(req, *tile);
    impl_->finish(req, *res);
    return res;
  } catch (...) {
    return nullptr;  // a malformed target: the worker answers it
  }
}

std::uint64_t Api::body_limit(http::verb method, std::string_view target) const noexcept {
  const std::string_view path = target.substr(0, target.find('?'));
  if (method == http::verb::put && path.starts_with("/api/v1/cases/") && path.find("/files/") != std::string_view::npos)
    return impl_->opt.max_upload_bytes;
  if (method == http::verb::post && path.starts_with("/api/v1/cases/") && path.ends_with("/readings"))
    return impl_->opt.max_readings_bytes;
  if (method == http::verb::post && path.starts_with("/processes/")) return impl_->opt.max_execute_bytes;
  if (method == http::verb::put && path.starts_with("/api/v1/cases/") && path.ends_with("/alert-rules"))
    return impl_->opt.max_alert_rules_bytes;
  return 0;
}

std::shared_ptr<Response> Api::problem(int status, std::string_view detail, unsigned version, bool keep_alive) const {
  Request h(http::verb::get, "/", version);
  h.keep_alive(keep_alive);
  auto res = impl_->problem_for(status, detail, h);
  impl_->finish(h, *res);
  return res;
}

void Api::handle(const Request& req, const Reply& reply) noexcept {
  std::shared_ptr<Response> res;
  try {
    if (req.method() == http::verb::options && !impl_->opt.cors_origin.empty()) {
      res = impl_->make(http::status::no_content, req, "", "");
      res->set(http::field::access_control_allow_methods, "GET, HEAD, PUT, POST, DELETE, OPTIONS");
      res->set(http::field::access_control_allow_headers, "Content-Type, Prefer, If-None-Match");
      res->set(http::field::access_control_max_age, "600");
    } else {
      bool deferred = false;
      res = impl_->route(req, parse_target(sv(req.target())), reply, deferred);
      if (deferred) return;
    }
  } catch (const std::exception& e) {
    const int status = http_status_for(e);
    if (status == 500) std::cerr << "plumetrace serve: " << req.method_string() << " " << req.target() << ": " << e.what() << "\n";
    try {
      res = impl_->problem_for(status, status == 500 ? "internal error" : e.what(), req);
    } catch (...) {
      return;  // out of memory: the connection times out
    }
  }
  try {
    impl_->finish(req, *res);
    reply(res);
  } catch (...) {
  }
}

}  // namespace plumetrace::server

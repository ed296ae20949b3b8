#include "plumetrace/server/cases.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/ingest/readers.hpp"
#include "plumetrace/server/problem.hpp"

namespace plumetrace::server {
namespace {

namespace fs = std::filesystem;

bool name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool has_ext(std::string_view name, std::initializer_list<std::string_view> exts) noexcept {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string low(name.substr(dot + 1));
  for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view e : exts)
    if (low == e) return true;
  return false;
}

}  // namespace

std::string read_blob(const Store& store, const std::string& sha256) {
  std::ifstream f(store.blob_path(sha256), std::ios::binary);
  if (!f) throw Unavailable("a stored file cannot be read");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {

std::string stored_text(Store& store, const std::string& case_name, const std::string& path) {
  const auto f = store.file(case_name, path);
  return f ? read_blob(store, f->sha256) : std::string();
}

std::string shortest(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string csv_field(const std::string& s) {
  return s.find_first_of(",\"\r\n") == std::string::npos ? s : csv_quoted(s);
}

}  // namespace

CaseSettings stored_settings(Store& store, const std::string& case_name) {
  const std::string text = stored_text(store, case_name, "case.json");
  if (text.empty()) return {};
  Diagnostics diag;
  try {
    return parse_case_settings(text, "case.json", diag);
  } catch (const InvalidInput& e) {
    throw UnusableData(e.what());
  }
}

bool valid_case_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64 || name.front() == '-') return false;
  for (char c : name)
    if (!name_char(c)) return false;
  return true;
}

bool valid_case_path(std::string_view path) noexcept {
  for (std::string_view top : {"case.json", "sources.csv", "sources.geojson", "sources.gpkg", "stations.csv",
                               "readings.csv", "paths.csv", "cems.csv", "power.csv", "mandates.csv",
                               "boundaries.geojson", "boundaries.gpkg", "boundaries.json"})
    if (path == top) return true;
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view folder = path.substr(0, slash), name = path.substr(slash + 1);
  if (name.empty() || name.size() > 64 || name.front() == '.' || name.find("..") != std::string_view::npos)
    return false;
  for (char c : name)
    if (!name_char(c) && c != '.') return false;
  if (folder == "traces") return has_ext(name, {"csv", "gpx", "geojson", "gpkg"});
  if (folder == "imagery") return has_ext(name, {"tif", "tiff", "png", "jpg", "jpeg", "json"});
  if (folder == "met") return has_ext(name, {"grib", "grib2", "grb", "grb2", "nc", "tif", "tiff", "json"});
  return false;
}

ReadingsReport append_readings_csv(Store& store, const std::string& case_name, std::string body) {
  const CaseSettings settings = stored_settings(store, case_name);
  const TimeZone tz = TimeZone::parse(settings.timezone);
  Diagnostics diag;
  std::vector<Station> stations;
  if (const std::string text = stored_text(store, case_name, "stations.csv"); !text.empty()) {
    CsvReader csv = CsvReader::from_string(text);
    Diagnostics ignored;  // stations.csv's own rows were reported when it was uploaded
    stations = read_stations_csv(csv, "stations.csv", ignored);
  }
  if (const std::string text = stored_text(store, case_name, "paths.csv"); !text.empty()) {  // open paths report too
    CsvReader csv = CsvReader::from_string(text);
    Diagnostics ignored;
    for (Station& p : read_paths_csv(csv, "paths.csv", stations, ignored)) stations.push_back(std::move(p));
  }
  CsvReader csv = CsvReader::from_string(std::move(body));
  std::size_t accepted = 0;
  const ReadingTable table = read_readings_csv(csv, "readings", stations, tz, diag, &accepted);
  if (table.rows.empty())  // a header the reader refused: the body is not readings.csv at all
    for (const Rejection& r : diag.rejected())
      if (r.line <= 1) throw InvalidInput("readings: line " + std::to_string(r.line) + ": " + r.reason);
  std::vector<StoredReading> rows;
  rows.reserve(table.rows.size());
  for (const Reading& r : table.rows) {
    StoredReading s;
    s.station_id = stations[r.station].id;
    s.time_s = r.time_s;
    s.variable = table.variables[r.variable];
    s.value = r.value;
    s.unit = table.units[r.unit];
    if (r.period_given) s.period_s = r.period_s;
    rows.push_back(std::move(s));
  }
  ReadingsReport report;
  report.valid = rows.size();
  report.added = rows.empty() ? 0 : store.append_readings(case_name, rows);
  report.rejected = diag.rejected();
  report.rows = std::move(rows);
  return report;
}

TimeZone case_time_zone(Store& store, const std::string& case_name) {
  return TimeZone::parse(stored_settings(store, case_name).timezone);
}

void store_stations_csv(Store& store, const std::string& case_name, const std::string& text) {
  CsvReader csv = CsvReader::from_string(text);
  Diagnostics ignored;  // the trace reports stations.csv's bad rows; the store keeps the good ones
  std::vector<StoredStation> rows;
  try {
    for (const Station& s : read_stations_csv(csv, "stations.csv", ignored)) rows.push_back({s.id, s.lon, s.lat});
  } catch (const InvalidInput&) {
    // not a stations table at all: stored as a file, no positions
  }
  store.put_stations(case_name, rows);
}

std::string readings_csv(Store& store, const std::string& case_name) {
  const CaseSettings settings = stored_settings(store, case_name);
  const TimeZone tz = TimeZone::parse(settings.timezone);
  std::string out = "station_id,time,variable,value,unit,period\n";
  for (const StoredReading& r : store.readings(case_name)) {
    out += csv_field(r.station_id);
    out += ',';
    out += format_iso8601(r.time_s, tz);
    out += ',';
    out += csv_field(r.variable);
    out += ',';
    out += shortest(r.value);
    out += ',';
    out += csv_field(r.unit);
    out += ',';
    if (r.period_s) out += "PT" + shortest(*r.period_s) + "S";
    out += '\n';
  }
  return out;
}

void materialize_case(Store& store, const std::string& case_name, const fs::path& dir) {
  if (!store.case_exists(case_name)) throw NotFound("no case '" + case_name + "'");
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) throw Unavailable("cannot prepare the case for the job");
  const std::vector<StoredFile> files = store.files(case_name);
  for (const StoredFile& f : files) {
    if (f.path == "readings.csv" || f.path == "case.json") continue;
    const fs::path target = dir / f.path;
    fs::create_directories(target.parent_path(), ec);
    fs::create_hard_link(store.blob_path(f.sha256), target, ec);
    if (ec) {
      ec.clear();
      fs::copy_file(store.blob_path(f.sha256), target, ec);
      if (ec) throw Unavailable("cannot prepare the case for the job");
    }
  }
  if (const std::string text = stored_text(store, case_name, "case.json"); !text.empty()) {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_object() && doc.contains("boundaries")) {
      nlohmann::json& b = doc["boundaries"];
      auto named_ok = [&](const nlohmann::json& v) {
        if (!v.is_string()) return false;
        const std::string p = v.get<std::string>();
        for (const StoredFile& f : files)
          if (f.path == p) return true;
        return false;
      };
      if (b.is_string() && !named_ok(b)) doc.erase("boundaries");
      else if (b.is_object() && b.contains("file") && !named_ok(b["file"])) b.erase("file");
    }
    std::ofstream(dir / "case.json", std::ios::binary) << (doc.is_discarded() ? text : doc.dump(1));
  }
  const std::string readings = readings_csv(store, case_name);
  if (readings.find('\n') + 1 < readings.size())
    std::ofstream(dir / "readings.csv", std::ios::binary) << readings;
}

}  // namespace plumetrace::server

/// case.json settings and load_case(): walks a case folder and dispatches each file to its reader.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "ingest_util.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/ingest/readers.hpp"

namespace plumetrace {

namespace {

/// 1-based line of byte offset `byte` in `text`.
std::size_t line_of_byte(std::string_view text, std::size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n'));
}

/// Line where `"key"` first appears in the JSON text (0 when not found), for error messages.
std::size_t line_of_key(std::string_view text, const std::string& key) {
  const auto pos = text.find("\"" + key + "\"");
  return pos == std::string_view::npos ? 0 : line_of_byte(text, pos);
}

std::string read_text_file(const std::filesystem::path& path, const std::string& file) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidInput("cannot read " + file);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lower_ext(const std::filesystem::path& p) { return ascii_lower(p.extension().string()); }

}  // namespace

CaseSettings parse_case_settings(std::string_view text, const std::string& file, Diagnostics& diag) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    const std::size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    if (const auto k = what.find("syntax error"); k != std::string::npos) what = what.substr(k);
    throw InvalidInput(file + " line " + std::to_string(line_of_byte(text, byte)) +
                       ": invalid JSON: " + what);
  }
  if (!j.is_object()) throw InvalidInput(file + " line 1: expected a JSON object");
  CaseSettings s;
  auto bad = [&](const std::string& key, const std::string& want) {
    const std::size_t line = line_of_key(text, key);
    return InvalidInput(file + (line > 0 ? " line " + std::to_string(line) : std::string{}) +
                        ": key '" + key + "' must be " + want);
  };
  auto get_string = [&](const nlohmann::json& v, const std::string& key) {
    if (v.is_null()) return std::string{};
    if (!v.is_string()) throw bad(key, "a string");
    return v.get<std::string>();
  };
  auto get_positive = [&](const nlohmann::json& v, const std::string& key) -> std::optional<double> {
    if (v.is_null()) return std::nullopt;
    if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>()))
      throw bad(key, "a positive number");
    return v.get<double>();
  };
  for (const auto& [key, v] : j.items()) {
    if (key == "name") {
      s.name = get_string(v, key);
    } else if (key == "pollutant") {
      s.pollutant = ascii_lower(trim_view(get_string(v, key)));
    } else if (key == "units") {
      s.units = get_string(v, key);
    } else if (key == "crs") {
      s.crs = get_string(v, key);
    } else if (key == "grid_m") {
      s.grid_m = get_positive(v, key);
    } else if (key == "background") {
      auto non_negative = [&](const nlohmann::json& x) {
        return x.is_number() && std::isfinite(x.get<double>()) && x.get<double>() >= 0;
      };
      if (v.is_object()) {
        for (const auto& [pollutant, value] : v.items()) {
          if (!non_negative(value))
            throw bad(key, "an object of non-negative numbers per pollutant ('" + pollutant + "' is not)");
          s.background[ascii_lower(trim_view(pollutant))] = value.get<double>();
        }
      } else if (!v.is_null()) {
        if (!non_negative(v)) throw bad(key, "a non-negative number or {\"pollutant\": number, ...}");
        s.background["*"] = v.get<double>();
      }
    } else if (key == "timezone") {
      s.timezone = get_string(v, key);
      try {
        (void)TimeZone::parse(s.timezone);
      } catch (const InvalidInput& e) {
        const std::size_t line = line_of_key(text, key);
        throw InvalidInput(file + (line > 0 ? " line " + std::to_string(line) : std::string{}) +
                           ": " + e.what());
      }
    } else if (key == "boundaries") {
      if (v.is_string()) {
        s.boundaries.file = v.get<std::string>();
      } else if (v.is_object()) {
        for (const auto& [bk, bv] : v.items()) {
          if (bk == "file") s.boundaries.file = get_string(bv, "file");
          else if (bk == "code_field") s.boundaries.code_field = get_string(bv, "code_field");
          else if (bk == "name_field") s.boundaries.name_field = get_string(bv, "name_field");
          else diag.warn(file, "unknown key 'boundaries." + bk + "' ignored");
        }
      } else if (!v.is_null()) {
        throw bad(key, "an object {file, code_field, name_field} or a file name");
      }
    } else if (key == "traces") {
      if (!v.is_object()) throw bad(key, "an object {\"TRACE_NAME\" or \"*\": {lag_s, inlet_height_m, background_window_s, cell_m}}");
      for (const auto& [name, tv] : v.items()) {
        const std::string where = "traces." + name;
        if (!tv.is_object()) throw bad(key, "an object of objects ('" + name + "' is not)");
        CaseSettings::TraceSettings ts;
        for (const auto& [tk, x] : tv.items()) {
          const std::string full = where + "." + tk;
          if (tk == "lag_s") {
            if (x.is_string() && x.get<std::string>() == "auto") continue;
            if (!x.is_number() || !std::isfinite(x.get<double>()) || x.get<double>() < 0 || x.get<double>() > 600)
              throw bad(key, "traces with 'lag_s' a number of seconds in 0..600 or \"auto\" ('" + full + "' is not)");
            ts.lag_s = x.get<double>();
          } else if (tk == "inlet_height_m" || tk == "background_window_s" || tk == "cell_m") {
            if (!x.is_number() || !std::isfinite(x.get<double>()) || !(x.get<double>() > 0))
              throw bad(key, "traces with '" + tk + "' a positive number ('" + full + "' is not)");
            (tk == "inlet_height_m" ? ts.inlet_height_m : tk == "cell_m" ? ts.cell_m : ts.background_window_s) =
                x.get<double>();
          } else {
            diag.warn(file, "unknown key '" + full + "' ignored");
          }
        }
        s.traces[name] = ts;
      }
    } else {
      diag.warn(file, "unknown key '" + key + "' ignored");
    }
  }
  return s;
}

CaseSettings read_case_settings(const std::filesystem::path& path, const std::string& file,
                                Diagnostics& diag) {
  return parse_case_settings(read_text_file(path, file), file, diag);
}

namespace {

bool is_vector_ext(const std::string& e) {
  return e == ".geojson" || e == ".json" || e == ".gpkg" || e == ".shp" || e == ".fgb" ||
         e == ".kml";
}
bool is_shapefile_part(const std::string& e) {
  return e == ".shx" || e == ".dbf" || e == ".prj" || e == ".cpg" || e == ".qix" || e == ".sbn" ||
         e == ".sbx";
}

/// Open a CSV of the case; an unreadable file is a whole-file rejection (line 0), not an error.
std::optional<CsvReader> open_csv(const std::filesystem::path& p, const std::string& rel,
                                  Diagnostics& diag) {
  try {
    return CsvReader::open(p);
  } catch (const Error& e) {
    diag.reject(rel, 0, e.what());
    return std::nullopt;
  }
}

/// Run one file's reader; a plumetrace::Error escaping it (an environment failure such as a CRS
/// PROJ cannot transform) rejects that file instead of failing the whole case.
template <typename F>
void guarded(const std::string& rel, Diagnostics& diag, F&& f) {
  try {
    f();
  } catch (const Error& e) {
    diag.reject(rel, 0, e.what());
  }
}

std::vector<std::filesystem::path> sorted_entries(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> v;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

Case load_case(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw InvalidInput("case folder " + dir.string() + " does not exist");
  if (!fs::is_directory(dir, ec)) throw InvalidInput(dir.string() + " is not a folder");
  Case c;
  c.dir = dir;
  Diagnostics& diag = c.diagnostics;
  if (fs::exists(dir / "case.json")) c.settings = read_case_settings(dir / "case.json", "case.json", diag);
  const TimeZone tz = TimeZone::parse(c.settings.timezone);

  // Which boundary file: the one case.json names, else boundaries.{geojson,gpkg,shp,...}.
  std::string boundary_rel;
  if (!c.settings.boundaries.file.empty()) {
    boundary_rel = c.settings.boundaries.file;
  } else {
    for (const char* n : {"boundaries.geojson", "boundaries.gpkg", "boundaries.shp", "boundaries.fgb",
                          "boundaries.json"})
      if (fs::exists(dir / n)) {
        boundary_rel = n;
        break;
      }
  }

  std::string sources_vector;  // first OGR sources file, if any
  for (const auto& p : sorted_entries(dir)) {
    const std::string fname = p.filename().string();
    const std::string ext = lower_ext(p);
    const std::string stem = p.stem().string();
    if (fname.empty() || fname[0] == '.') continue;  // hidden files (.DS_Store, .git)
    if (fs::is_directory(p, ec)) {
      if (fname == "traces" || fname == "imagery" || fname == "met") continue;
      diag.warn(fname + "/", "unknown folder in the case, ignored");
      continue;
    }
    if (fname == "case.json" || fname == "sources.csv" || fname == "stations.csv" || fname == "paths.csv" ||
        fname == "readings.csv" || fname == "cems.csv" || fname == "power.csv" || fname == "mandates.csv")
      continue;
    if (fname == boundary_rel) continue;
    if (stem == "sources" && is_vector_ext(ext) && ext != ".json") {
      if (sources_vector.empty()) sources_vector = fname;
      else diag.warn(fname, "another sources file was read (" + sources_vector + "); ignored");
      continue;
    }
    if ((stem == "sources" || stem == "boundaries" ||
         stem == fs::path(boundary_rel).stem().string()) && is_shapefile_part(ext))
      continue;
    diag.warn(fname, "unknown file in the case folder, ignored");
  }

  // sources
  if (fs::exists(dir / "sources.csv")) {
    if (auto csv = open_csv(dir / "sources.csv", "sources.csv", diag)) {
      c.sources = read_sources_csv(*csv, "sources.csv", diag);
      c.accepted_rows["sources.csv"] = c.sources.size();
    }
    if (!sources_vector.empty()) diag.warn(sources_vector, "sources.csv was read; this file ignored");
  } else if (!sources_vector.empty()) {
    guarded(sources_vector, diag, [&] {
      c.sources = read_sources_ogr(dir / sources_vector, sources_vector, diag);
      c.accepted_rows[sources_vector] = c.sources.size();
    });
  }
  // stations, readings
  if (fs::exists(dir / "stations.csv")) {
    if (auto csv = open_csv(dir / "stations.csv", "stations.csv", diag)) {
      c.stations = read_stations_csv(*csv, "stations.csv", diag);
      c.accepted_rows["stations.csv"] = c.stations.size();
    }
  }
  // open-path sensors: stations whose receptor is their beam (readings name them as stations)
  if (fs::exists(dir / "paths.csv")) {
    if (auto csv = open_csv(dir / "paths.csv", "paths.csv", diag)) {
      std::vector<Station> paths = read_paths_csv(*csv, "paths.csv", c.stations, diag);
      c.accepted_rows["paths.csv"] = paths.size();
      for (Station& p : paths) c.stations.push_back(std::move(p));
    }
  }
  if (fs::exists(dir / "readings.csv")) {
    if (auto csv = open_csv(dir / "readings.csv", "readings.csv", diag)) {
      std::size_t n = 0;
      c.readings = read_readings_csv(*csv, "readings.csv", c.stations, tz, diag, &n);
      c.accepted_rows["readings.csv"] = n;
    }
  }
  // facility monitoring tables (after the registry: rows name its facilities)
  if (fs::exists(dir / "cems.csv"))
    if (auto csv = open_csv(dir / "cems.csv", "cems.csv", diag)) {
      c.monitoring.cems = read_cems_csv(*csv, "cems.csv", c.sources, tz, diag);
      c.accepted_rows["cems.csv"] = c.monitoring.cems.size();
    }
  if (fs::exists(dir / "power.csv"))
    if (auto csv = open_csv(dir / "power.csv", "power.csv", diag)) {
      c.monitoring.power = read_power_csv(*csv, "power.csv", c.sources, tz, diag);
      c.accepted_rows["power.csv"] = c.monitoring.power.size();
    }
  if (fs::exists(dir / "mandates.csv"))
    if (auto csv = open_csv(dir / "mandates.csv", "mandates.csv", diag)) {
      c.monitoring.mandates = read_mandates_csv(*csv, "mandates.csv", c.sources, tz, diag);
      c.accepted_rows["mandates.csv"] = c.monitoring.mandates.size();
    }
  // traces
  if (fs::is_directory(dir / "traces")) {
    for (const auto& p : sorted_entries(dir / "traces")) {
      const std::string fname = p.filename().string();
      if (fname.empty() || fname[0] == '.') continue;
      const std::string rel = "traces/" + fname;
      const std::string ext = lower_ext(p);
      Trace tr;
      if (ext == ".csv") {
        auto csv = open_csv(p, rel, diag);
        if (!csv) continue;
        tr = read_trace_csv(*csv, rel, p.stem().string(), tz, diag);
      } else if (ext == ".gpx" || ext == ".geojson" || ext == ".json" || ext == ".gpkg" ||
                 ext == ".fgb") {
        guarded(rel, diag, [&] { tr = read_trace_ogr(p, rel, p.stem().string(), tz, diag); });
      } else {
        diag.warn(rel, "unknown file in traces/, ignored");
        continue;
      }
      c.accepted_rows[rel] = tr.size();
      if (tr.size() == 0) {
        diag.warn(rel, "no usable sample; trace dropped");
        continue;
      }
      c.traces.push_back(std::move(tr));
    }
  }
  // imagery
  if (fs::is_directory(dir / "imagery")) {
    for (const auto& p : sorted_entries(dir / "imagery")) {
      const std::string fname = p.filename().string();
      if (fname.empty() || fname[0] == '.') continue;
      const std::string rel = "imagery/" + fname;
      const std::string ext = lower_ext(p);
      if (ext == ".tif" || ext == ".tiff" || ext == ".png" || ext == ".jpg" || ext == ".jpeg" ||
          ext == ".img" || ext == ".jp2") {
        guarded(rel, diag, [&] {
          auto im = read_imagery(p, rel, tz, diag);
          c.accepted_rows[rel] = im ? 1 : 0;
          if (im) c.imagery.push_back(std::move(*im));
        });
      } else if (ext == ".json" || ext == ".xml" || ext == ".tfw" || ext == ".pgw" || ext == ".jgw" ||
                 ext == ".wld" || ext == ".ovr") {
        // sidecars: read with their raster
      } else {
        diag.warn(rel, "unknown file in imagery/, ignored");
      }
    }
  }
  // boundaries
  if (!boundary_rel.empty()) {
    const fs::path bp = dir / boundary_rel;
    if (!fs::exists(bp)) {
      diag.reject(boundary_rel, 0, "boundary file named in case.json does not exist");
    } else {
      guarded(boundary_rel, diag, [&] {
        auto layer = read_boundaries(bp, boundary_rel, c.settings.boundaries.code_field,
                                     c.settings.boundaries.name_field, diag);
        c.accepted_rows[boundary_rel] = layer ? layer->features.size() : 0;
        if (layer) c.boundaries = std::move(*layer);
      });
    }
  }
  // met grids
  if (fs::is_directory(dir / "met")) {
    for (const auto& p : sorted_entries(dir / "met")) {
      const std::string fname = p.filename().string();
      if (fname.empty() || fname[0] == '.') continue;
      const std::string rel = "met/" + fname;
      const std::string ext = lower_ext(p);
      if (ext == ".json" || ext == ".idx" || ext == ".xml") continue;  // sidecars
      guarded(rel, diag, [&] {
        auto g = read_met_grid(p, rel, tz, diag);
        c.accepted_rows[rel] = g ? g->times.size() : 0;
        if (g) c.met.push_back(std::move(*g));
      });
    }
  }
  return c;
}

}  // namespace plumetrace

#include "plumetrace/outputs/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "plumetrace/core/error.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/grid.hpp"
#include "plumetrace/geo/jurisdictions.hpp"

namespace plumetrace {

using nlohmann::json;

json inspect_case(const Case& c) {
  json doc;
  doc["case"] = c.dir.string();
  doc["name"] = c.settings.name;
  doc["pollutant"] = c.settings.pollutant;
  std::size_t trace_points = 0;
  for (const Trace& t : c.traces) trace_points += t.size();
  std::size_t bands = 0;
  for (const Imagery& im : c.imagery) bands += im.bands.size();
  doc["counts"] = {{"sources", c.sources.size()},
                   {"stations", c.stations.size()},
                   {"readings", c.readings.rows.size()},
                   {"traces", c.traces.size()},
                   {"trace_points", trace_points},
                   {"imagery", c.imagery.size()},
                   {"imagery_bands", bands},
                   {"boundaries", c.boundaries ? c.boundaries->features.size() : 0},
                   {"met_grids", c.met.size()}};
  json files = json::object();
  for (const auto& [f, n] : c.accepted_rows) files[f] = n;
  doc["accepted_rows"] = files;

  // time span and variables
  double t0 = 1e300, t1 = -1e300;
  std::map<std::string, std::size_t> vars;
  for (const Reading& r : c.readings.rows) {
    t0 = std::min(t0, r.time_s);
    t1 = std::max(t1, r.time_s + r.period_s);
    ++vars[c.readings.variables[r.variable]];
  }
  for (const Trace& t : c.traces) {
    if (t.size() == 0) continue;
    t0 = std::min(t0, t.time_s.front());
    t1 = std::max(t1, t.time_s.back());
    for (std::size_t v = 0; v < t.variables.size(); ++v) {
      std::size_t n = 0;
      for (double x : t.values[v]) n += std::isfinite(x) ? 1 : 0;
      vars[t.variables[v]] += n;
    }
  }
  for (const Imagery& im : c.imagery)
    for (const ImageryBand& b : im.bands) {
      ++vars[b.variable];
      if (b.time_s) {
        t0 = std::min(t0, *b.time_s);
        t1 = std::max(t1, *b.time_s);
      }
    }
  TimeZone tz;
  try {
    tz = TimeZone::parse(c.settings.timezone);
  } catch (const Error&) {
  }
  if (t0 <= t1)
    doc["time_span"] = {{"start", format_iso8601(t0, tz)}, {"end", format_iso8601(t1, tz)}};
  else
    doc["time_span"] = nullptr;
  doc["variables"] = vars;

  // extent of located data
  double lon0 = 1e9, lat0 = 1e9, lon1 = -1e9, lat1 = -1e9;
  auto add = [&](double lon, double lat) {
    lon0 = std::min(lon0, lon);
    lat0 = std::min(lat0, lat);
    lon1 = std::max(lon1, lon);
    lat1 = std::max(lat1, lat);
  };
  for (const Source& s : c.sources) add(s.lon, s.lat);
  for (const Station& s : c.stations) add(s.lon, s.lat);
  for (const Trace& t : c.traces)
    for (std::size_t i = 0; i < t.size(); ++i) add(t.lon[i], t.lat[i]);
  for (const Imagery& im : c.imagery) {
    add(im.lon_min, im.lat_min);
    add(im.lon_max, im.lat_max);
  }
  if (lon0 <= lon1) {
    doc["extent"] = {lon0, lat0, lon1, lat1};
    const std::string crs = analysis_crs_for(c);
    const Grid g = make_grid(c, crs);
    doc["analysis"] = {{"crs", crs},
                       {"grid", {{"x0_m", g.x0_m}, {"y1_m", g.y1_m}, {"cell_m", g.cell_m},
                                 {"cols", g.cols}, {"rows", g.rows}}}};
  } else {
    doc["extent"] = nullptr;
    doc["analysis"] = nullptr;
  }

  // jurisdictions touched
  json touched = json::array();
  Diagnostics geo_diag;
  if (c.boundaries) {
    const JurisdictionIndex index(*c.boundaries, geo_diag);
    std::map<std::string, std::pair<std::string, std::map<std::string, int>>> by_code;
    auto locate = [&](double lon, double lat, const char* what) {
      if (const auto j = index.locate(lon, lat)) {
        auto& e = by_code[j->code];
        e.first = j->name;
        ++e.second[what];
      }
    };
    for (const Source& s : c.sources) locate(s.lon, s.lat, "sources");
    for (const Station& s : c.stations) locate(s.lon, s.lat, "stations");
    for (const Trace& t : c.traces)
      for (std::size_t i = 0; i < t.size(); i += std::max<std::size_t>(1, t.size() / 200))
        locate(t.lon[i], t.lat[i], "trace_points_sampled");
    for (const auto& [code, e] : by_code) {
      json j = {{"code", code}, {"name", e.first}};
      for (const auto& [what, n] : e.second) j[what] = n;
      touched.push_back(j);
    }
    doc["boundaries"] = {{"file", c.boundaries->file}, {"areas", index.areas().size()},
                         {"repaired", index.repaired_count()}};
  } else {
    doc["boundaries"] = nullptr;
  }
  doc["jurisdictions"] = touched;

  json rejected = json::array();
  for (const Rejection& r : c.diagnostics.rejected())
    rejected.push_back({{"file", r.file}, {"line", r.line}, {"reason", r.reason}});
  for (const Rejection& r : geo_diag.rejected())
    rejected.push_back({{"file", r.file}, {"line", r.line}, {"reason", r.reason}});
  doc["rejected_rows"] = rejected.size();
  doc["rejected"] = rejected;
  json warnings = json::array();
  for (const Warning& w : c.diagnostics.warnings()) warnings.push_back({{"file", w.file}, {"message", w.message}});
  doc["warnings"] = warnings;
  return doc;
}

std::string format_inspect(const json& d) {
  std::ostringstream os;
  os << "case " << d.value("case", "") << (d.value("name", "").empty() ? "" : " (" + d.value("name", "") + ")") << "\n";
  const json& n = d.at("counts");
  os << "  sources " << n.value("sources", 0) << ", stations " << n.value("stations", 0) << ", readings "
     << n.value("readings", 0) << ", traces " << n.value("traces", 0) << " (" << n.value("trace_points", 0)
     << " points), imagery " << n.value("imagery", 0) << " (" << n.value("imagery_bands", 0) << " bands), boundaries "
     << n.value("boundaries", 0) << ", met grids " << n.value("met_grids", 0) << "\n";
  if (d["time_span"].is_object())
    os << "  time span " << d["time_span"].value("start", "") << " .. " << d["time_span"].value("end", "") << "\n";
  os << "  variables:";
  for (const auto& [k, v] : d.at("variables").items()) os << " " << k << " (" << v.get<std::size_t>() << ")";
  os << "\n";
  if (d["extent"].is_array()) {
    const json& e = d["extent"];
    os << "  extent lon " << e[0].get<double>() << " .. " << e[2].get<double>() << ", lat " << e[1].get<double>()
       << " .. " << e[3].get<double>() << "\n";
    const json& a = d["analysis"];
    os << "  analysis CRS " << a.value("crs", "") << ", grid " << a["grid"].value("cols", 0) << " x "
       << a["grid"].value("rows", 0) << " cells of " << a["grid"].value("cell_m", 0.0) << " m\n";
  }
  if (d["boundaries"].is_object())
    os << "  boundaries " << d["boundaries"].value("file", "") << ": " << d["boundaries"].value("areas", 0)
       << " areas (" << d["boundaries"].value("repaired", 0) << " repaired)\n";
  for (const json& j : d.at("jurisdictions")) {
    os << "  jurisdiction " << j.value("code", "") << " " << j.value("name", "") << ":";
    for (const char* k : {"sources", "stations", "trace_points_sampled"})
      if (j.contains(k)) os << " " << k << " " << j[k].get<int>();
    os << "\n";
  }
  os << "  rejected rows: " << d.value("rejected_rows", 0) << "\n";
  for (const json& r : d.at("rejected"))
    os << "    " << r.value("file", "") << ":" << r.value("line", 0) << ": " << r.value("reason", "") << "\n";
  for (const json& w : d.at("warnings")) os << "  warning: " << w.value("file", "") << ": " << w.value("message", "") << "\n";
  return os.str();
}

}  // namespace plumetrace

#include "plumetrace/plan/plan.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <set>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/plan/route.hpp"

namespace plumetrace::plan {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& path, const std::string& reason) {
  throw InvalidInput("ranking: " + path + ": " + reason);
}

double number_in(const json& v, const std::string& path, double lo, double hi) {
  if (!v.is_number()) bad(path, "not a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%g is outside [%g, %g]", x, lo, hi);
    bad(path, buf);
  }
  return x;
}

void string_at(const json& obj, const char* key, const std::string& path, bool required) {
  if (!obj.contains(key) || obj[key].is_null()) {
    if (required) bad(path + "." + key, "missing");
    return;
  }
  if (!obj[key].is_string()) bad(path + "." + key, "not a string");
}

void jurisdiction_ref(const json& j, const std::string& path) {
  if (j.is_null()) return;
  if (!j.is_object()) bad(path, "not an object");
  string_at(j, "code", path, true);
  string_at(j, "name", path, false);
}

/// A probability as people read it: two decimals, or "< 0.01".
std::string fmt_p(double p) {
  if (p < 0.005) return "< 0.01";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", p);
  return buf;
}

std::string fmt3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

double prob_of(const json& doc, const char* key) {
  if (!doc.contains(key) || !doc[key].is_object() || !doc[key].contains("probability")) return 0.0;
  return doc[key]["probability"].get<double>();
}

/// One stop of the plan: a facility or the search area.
struct Stop {
  std::string id, name, kind;  // kind: "facility" | "search_area"
  double lon{}, lat{}, probability{};
  int rank{};                  // 0 for the search area
  std::string code, area_name; // jurisdiction ("" = none)
  const json* candidate{};     // the ranking entry (facilities)
  double radius_m{};           // search area
};

constexpr const char* kNoJurisdictionName = "(outside the boundaries)";

std::string reason_text(const Stop& s, const json& ranking) {
  std::string r = "p = " + fmt_p(s.probability);
  if (s.kind == "search_area") {
    r += " that the source is not in the registry; search within " + fmt3(s.radius_m) + " m of the posterior peak";
    const json& u = ranking["unlisted"];
    if (u.contains("emission_rate_g_s") && u["emission_rate_g_s"].is_object() && u["emission_rate_g_s"].contains("estimate"))
      r += "; rate " + fmt3(u["emission_rate_g_s"].value("estimate", 0.0)) + " g/s";
    return r;
  }
  const json& c = *s.candidate;
  r += " (rank " + std::to_string(s.rank) + ")";
  if (c.contains("emission_rate_g_s") && c["emission_rate_g_s"].is_object()) {
    const json& e = c["emission_rate_g_s"];
    if (e.contains("estimate") && e["estimate"].is_number()) {
      r += "; rate " + fmt3(e["estimate"].get<double>()) + " g/s";
      if (e.contains("p05") && e.contains("p95") && e["p05"].is_number() && e["p95"].is_number())
        r += " (" + fmt3(e["p05"].get<double>()) + " to " + fmt3(e["p95"].get<double>()) + ")";
    }
  }
  // a release period is absent (start and end null) when no block's rate was positive
  if (c.contains("release") && c["release"].is_object() && c["release"].contains("start") &&
      c["release"]["start"].is_string() && c["release"].contains("end") && c["release"]["end"].is_string())
    r += "; release " + c["release"]["start"].get<std::string>() + " to " + c["release"]["end"].get<std::string>();
  if (c.contains("evidence") && c["evidence"].is_object()) {
    const json& ev = c["evidence"];
    if (ev.contains("upwind_of") && ev["upwind_of"].is_array() && !ev["upwind_of"].empty()) {
      r += "; upwind of ";
      for (std::size_t i = 0; i < ev["upwind_of"].size(); ++i) {
        if (i) r += ", ";
        r += ev["upwind_of"][i].is_string() ? ev["upwind_of"][i].get<std::string>() : ev["upwind_of"][i].dump();
      }
    }
    if (ev.contains("observations_explained") && ev["observations_explained"].is_number())
      r += "; explains " + std::to_string(ev["observations_explained"].get<long long>()) + " observations";
    if (ev.contains("flags") && ev["flags"].is_array() && !ev["flags"].empty()) {
      r += "; monitoring flags: ";
      for (std::size_t i = 0; i < ev["flags"].size(); ++i) {
        if (i) r += ", ";
        r += ev["flags"][i].value("kind", "?");
      }
    }
  }
  if (c.value("cross_border", false)) r += "; cross-border";
  return r;
}

json inspection_entry(const Stop& s, const json& ranking) {
  json e = {{"id", s.id}, {"name", s.name}, {"kind", s.kind}, {"lon", s.lon}, {"lat", s.lat},
            {"probability", s.probability}, {"reason", reason_text(s, ranking)}};
  if (s.kind == "facility") {
    const json& c = *s.candidate;
    e["rank"] = s.rank;
    for (const char* k : {"emission_rate_g_s", "cross_border", "affected_jurisdictions"})
      if (c.contains(k)) e[k] = c[k];
    if (c.contains("release") && c["release"].is_object())
      e["release"] = {{"start", c["release"].contains("start") ? c["release"]["start"] : json(nullptr)},
                      {"end", c["release"].contains("end") ? c["release"]["end"] : json(nullptr)}};
    if (c.contains("evidence")) e["evidence"] = c["evidence"];
  } else {
    e["radius_m"] = s.radius_m;
    if (ranking["unlisted"].contains("emission_rate_g_s")) e["emission_rate_g_s"] = ranking["unlisted"]["emission_rate_g_s"];
  }
  return e;
}

}  // namespace

std::optional<double> TravelTimes::lookup(const std::string& a, const std::string& b) const {
  if (const auto it = minutes.find({a, b}); it != minutes.end()) return it->second;
  if (const auto it = minutes.find({b, a}); it != minutes.end()) return it->second;
  return std::nullopt;
}

TravelTimes read_travel_times(const std::filesystem::path& file, Diagnostics& diag) {
  TravelTimes t;
  t.file = file.string();
  CsvReader reader = CsvReader::open(file);
  CsvRecord rec;
  if (!reader.next(rec)) throw InvalidInput(t.file + ": empty file (expected a header from,to,minutes)");
  int ci[3] = {-1, -1, -1};
  const char* names[3] = {"from", "to", "minutes"};
  for (std::size_t i = 0; i < rec.size(); ++i)
    for (int k = 0; k < 3; ++k)
      if (rec[i] == names[k]) ci[k] = static_cast<int>(i);
  for (int k = 0; k < 3; ++k)
    if (ci[k] < 0) throw InvalidInput(t.file + ":" + std::to_string(rec.line) + ": the header has no column '" + names[k] + "'");
  while (reader.next(rec)) {
    const auto field = [&](int k) -> std::string_view {
      return static_cast<std::size_t>(ci[k]) < rec.size() ? rec[static_cast<std::size_t>(ci[k])] : std::string_view{};
    };
    const std::string from(field(0)), to(field(1)), text(field(2));
    if (rec.invalid_utf8_field >= 0) {
      diag.reject(t.file, rec.line, "invalid UTF-8");
      continue;
    }
    if (from.empty() || to.empty()) {
      diag.reject(t.file, rec.line, "missing from or to");
      continue;
    }
    char* end = nullptr;
    const double m = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(m) || m < 0) {
      diag.reject(t.file, rec.line, "minutes '" + text.substr(0, 32) + "' is not a finite non-negative number");
      continue;
    }
    if (!t.minutes.emplace(std::make_pair(from, to), m).second) {
      diag.reject(t.file, rec.line, "the pair " + from + " -> " + to + " is given twice; the first is kept");
      continue;
    }
  }
  return t;
}

void validate_ranking(const json& r) {
  if (!r.is_object()) bad("(document)", "not a JSON object");
  if (!r.contains("candidates") || !r["candidates"].is_array()) bad("candidates", "missing or not an array");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < r["candidates"].size(); ++i) {
    const json& c = r["candidates"][i];
    const std::string path = "candidates[" + std::to_string(i) + "]";
    if (!c.is_object()) bad(path, "not an object");
    string_at(c, "id", path, true);
    string_at(c, "name", path, false);
    if (!ids.insert(c["id"].get<std::string>()).second) bad(path + ".id", "'" + c["id"].get<std::string>() + "' repeats");
    if (!c.contains("probability")) bad(path + ".probability", "missing");
    number_in(c["probability"], path + ".probability", 0.0, 1.0);
    if (!c.contains("lon") || !c.contains("lat")) bad(path, "missing lon or lat");
    number_in(c["lon"], path + ".lon", -180.0, 180.0);
    number_in(c["lat"], path + ".lat", -90.0, 90.0);
    if (c.contains("jurisdiction")) jurisdiction_ref(c["jurisdiction"], path + ".jurisdiction");
    if (c.contains("affected_jurisdictions")) {
      if (!c["affected_jurisdictions"].is_array()) bad(path + ".affected_jurisdictions", "not an array");
      for (std::size_t k = 0; k < c["affected_jurisdictions"].size(); ++k)
        jurisdiction_ref(c["affected_jurisdictions"][k], path + ".affected_jurisdictions[" + std::to_string(k) + "]");
    }
    if (c.contains("evidence") && !c["evidence"].is_null()) {
      if (!c["evidence"].is_object()) bad(path + ".evidence", "not an object");
      if (c["evidence"].contains("flags") && !c["evidence"]["flags"].is_array()) bad(path + ".evidence.flags", "not an array");
    }
  }
  for (const char* key : {"unlisted", "no_release"}) {
    if (!r.contains(key) || r[key].is_null()) continue;
    if (!r[key].is_object()) bad(key, "not an object");
    if (!r[key].contains("probability")) bad(std::string(key) + ".probability", "missing");
    number_in(r[key]["probability"], std::string(key) + ".probability", 0.0, 1.0);
  }
  if (r.contains("unlisted") && r["unlisted"].is_object()) {
    const json& u = r["unlisted"];
    if (u.contains("peak") && !u["peak"].is_null()) {
      if (!u["peak"].is_object() || !u["peak"].contains("lon") || !u["peak"].contains("lat"))
        bad("unlisted.peak", "needs lon and lat");
      number_in(u["peak"]["lon"], "unlisted.peak.lon", -180.0, 180.0);
      number_in(u["peak"]["lat"], "unlisted.peak.lat", -90.0, 90.0);
    }
    if (u.contains("area_km2_90") && !u["area_km2_90"].is_null()) number_in(u["area_km2_90"], "unlisted.area_km2_90", 0.0, 1e9);
  }
  for (const char* key : {"jurisdictions", "receptor_jurisdictions"}) {
    if (!r.contains(key) || r[key].is_null()) continue;
    if (!r[key].is_array()) bad(key, "not an array");
    for (std::size_t i = 0; i < r[key].size(); ++i) {
      const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
      jurisdiction_ref(r[key][i], path);
      if (r[key][i].is_null()) bad(path, "null");
      if (r[key][i].contains("probability")) number_in(r[key][i]["probability"], path + ".probability", 0.0, 1.0);
    }
  }
}

json build_plan(const json& ranking, const PlanOptions& options, Diagnostics& diag) {
  validate_ranking(ranking);
  assert(options.straight_line_speed_km_h > 0);
  if (options.start) {
    const LonLat& s = *options.start;
    if (!std::isfinite(s.lon_deg) || !std::isfinite(s.lat_deg) || std::abs(s.lon_deg) > 180 || std::abs(s.lat_deg) > 90)
      throw InvalidInput("the start point must be LON,LAT in WGS 84 degrees");
  }
  // candidates in ranking order (probability descending, then id)
  std::vector<const json*> cands;
  for (const json& c : ranking["candidates"]) cands.push_back(&c);
  std::stable_sort(cands.begin(), cands.end(), [](const json* a, const json* b) {
    const double pa = (*a)["probability"].get<double>(), pb = (*b)["probability"].get<double>();
    if (pa != pb) return pa > pb;
    return (*a)["id"].get<std::string>() < (*b)["id"].get<std::string>();
  });
  const double p_none = prob_of(ranking, "no_release");
  const double p_unlisted = prob_of(ranking, "unlisted");
  const double p_release = std::max(0.0, 1.0 - p_none);

  std::vector<Stop> stops;
  double held = 0.0;
  const bool search = p_unlisted >= kInspectMinProbability && ranking["unlisted"].contains("peak") &&
                      ranking["unlisted"]["peak"].is_object();
  Stop area;
  if (search) {
    const json& u = ranking["unlisted"];
    area.id = "unlisted";
    area.name = "search area (unregistered source)";
    area.kind = "search_area";
    area.lon = u["peak"]["lon"].get<double>();
    area.lat = u["peak"]["lat"].get<double>();
    area.probability = p_unlisted;
    const double km2 = u.contains("area_km2_90") && u["area_km2_90"].is_number() ? u["area_km2_90"].get<double>() : 0.0;
    area.radius_m = std::sqrt(km2 * 1e6 / std::numbers::pi);
    if (options.locate)
      if (const auto j = options.locate(area.lon, area.lat)) {
        area.code = j->first;
        area.area_name = j->second;
      }
    held += p_unlisted;
  }
  int rank = 0;
  std::size_t facilities = 0;
  for (const json* cp : cands) {
    ++rank;
    const json& c = *cp;
    const double p = c["probability"].get<double>();
    if (p < kInspectFloorProbability || facilities >= kMaxInspectedFacilities) break;
    const bool flagged = c.contains("evidence") && c["evidence"].is_object() && c["evidence"].contains("flags") &&
                         !c["evidence"]["flags"].empty();
    if (!(p >= kInspectMinProbability || held < kInspectCoverage * p_release || flagged)) continue;
    Stop s;
    s.id = c["id"].get<std::string>();
    s.name = c.value("name", "");
    s.kind = "facility";
    s.lon = c["lon"].get<double>();
    s.lat = c["lat"].get<double>();
    s.probability = p;
    s.rank = c.contains("rank") && c["rank"].is_number_integer() ? c["rank"].get<int>() : rank;
    s.candidate = cp;
    if (c.contains("jurisdiction") && c["jurisdiction"].is_object()) {
      s.code = c["jurisdiction"]["code"].get<std::string>();
      s.area_name = c["jurisdiction"].value("name", "");
    }
    stops.push_back(std::move(s));
    held += p;
    ++facilities;
  }
  if (search) {
    // the search area takes its place in probability order
    const auto at = std::find_if(stops.begin(), stops.end(), [&](const Stop& s) { return s.probability < area.probability; });
    stops.insert(at, area);
  }

  // the route
  json route = json::object();
  const std::size_t n = stops.size();
  LonLat start{};
  std::string start_id = "start";
  if (options.start) {
    start = *options.start;
    route["start"] = {{"lon", start.lon_deg}, {"lat", start.lat_deg}, {"kind", "given"}};
  } else if (n > 0) {
    start = {stops[0].lon, stops[0].lat};
    start_id = stops[0].id;
    route["start"] = {{"lon", start.lon_deg}, {"lat", start.lat_deg}, {"kind", "first_stop"}, {"id", stops[0].id}};
  } else {
    route["start"] = nullptr;
  }
  std::vector<LonLat> at(n + 1);
  std::vector<std::string> ids(n + 1);
  at[0] = start;
  ids[0] = start_id;
  for (std::size_t i = 0; i < n; ++i) {
    at[i + 1] = {stops[i].lon, stops[i].lat};
    ids[i + 1] = stops[i].id;
  }
  CostMatrix dist(n + 1), minutes(n + 1);
  std::size_t fallbacks = 0;
  const double m_per_min = options.straight_line_speed_km_h * 1000.0 / 60.0;
  for (std::size_t i = 0; i <= n; ++i)
    for (std::size_t j = 0; j <= n; ++j) {
      if (i == j) continue;
      const double d = great_circle_m(at[i].lon_deg, at[i].lat_deg, at[j].lon_deg, at[j].lat_deg);
      dist.set(i, j, d);
      std::optional<double> t;
      if (options.travel_times != nullptr && ids[i] != ids[j]) t = options.travel_times->lookup(ids[i], ids[j]);
      if (options.travel_times != nullptr && !t && ids[i] != ids[j]) ++fallbacks;
      minutes.set(i, j, t ? *t : (ids[i] == ids[j] ? 0.0 : d / m_per_min));
    }
  const bool by_time = options.travel_times != nullptr;
  const Route solved = solve_route(by_time ? minutes : dist);
  if (by_time && fallbacks > 0)
    diag.warn(options.travel_times->file, std::to_string(fallbacks) + " of " + std::to_string(n * (n + 1)) +
                                              " legs have no configured time; straight-line distance at " +
                                              fmt3(options.straight_line_speed_km_h) + " km/h used for them");
  route["cost_basis"] = by_time ? "travel_times" : "straight_line";
  route["method"] = route_method(n);
  route["exact"] = solved.exact;
  json legs = json::array();
  double cum_m = 0, cum_min = 0;
  std::size_t prev = 0;
  std::map<std::string, int> stop_number;
  for (std::size_t k = 0; k < solved.order.size(); ++k) {
    const std::size_t node = solved.order[k];
    const Stop& s = stops[node - 1];
    const double leg_m = dist(prev, node), leg_min = minutes(prev, node);
    cum_m += leg_m;
    cum_min += leg_min;
    stop_number[s.id] = static_cast<int>(k + 1);
    legs.push_back({{"stop", k + 1}, {"id", s.id}, {"name", s.name}, {"kind", s.kind}, {"lon", s.lon}, {"lat", s.lat},
                    {"jurisdiction", s.code.empty() ? json(nullptr) : json(s.code)},
                    {"leg_m", std::round(leg_m)}, {"cumulative_distance_m", std::round(cum_m)},
                    {"leg_minutes", std::round(leg_min * 10) / 10}, {"cumulative_minutes", std::round(cum_min * 10) / 10}});
    prev = node;
  }
  route["stops"] = legs;
  route["total_distance_m"] = std::round(cum_m);
  route["total_minutes"] = std::round(cum_min * 10) / 10;
  if (!by_time) route["speed_km_h"] = options.straight_line_speed_km_h;

  // jurisdictions
  struct Area {
    std::string name;
    double share{};
    std::set<std::string> roles;
    std::vector<const Stop*> stops;
  };
  // the ranking's posterior share per area; an area takes part when its share is large enough,
  // or for a role it plays
  std::map<std::string, double> share_of;
  if (ranking.contains("jurisdictions") && ranking["jurisdictions"].is_array())
    for (const json& j : ranking["jurisdictions"]) share_of[j["code"].get<std::string>()] = j.value("probability", 0.0);
  std::map<std::string, Area> areas;
  const auto area_entry = [&](const std::string& code, const std::string& name) -> Area& {
    auto [it, added] = areas.try_emplace(code);
    if (added) {
      const auto s = share_of.find(code);
      it->second.share = s == share_of.end() ? 0.0 : s->second;
    }
    if (it->second.name.empty()) it->second.name = name;
    return it->second;
  };
  if (ranking.contains("jurisdictions") && ranking["jurisdictions"].is_array())
    for (const json& j : ranking["jurisdictions"])
      if (j.value("probability", 0.0) >= kListJurisdictionMinShare) area_entry(j["code"].get<std::string>(), j.value("name", ""));
  for (const Stop& s : stops) {
    Area& a = area_entry(s.code, s.code.empty() ? kNoJurisdictionName : s.area_name);
    a.roles.insert("inspect");
    a.stops.push_back(&s);
    if (s.candidate != nullptr && s.candidate->contains("affected_jurisdictions"))
      for (const json& j : (*s.candidate)["affected_jurisdictions"])
        if (j.is_object()) area_entry(j["code"].get<std::string>(), j.value("name", "")).roles.insert("affected");
  }
  if (ranking.contains("receptor_jurisdictions") && ranking["receptor_jurisdictions"].is_array())
    for (const json& j : ranking["receptor_jurisdictions"]) area_entry(j["code"].get<std::string>(), j.value("name", "")).roles.insert("monitoring");
  std::vector<std::pair<std::string, const Area*>> ordered;
  for (const auto& [code, a] : areas) ordered.emplace_back(code, &a);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& x, const auto& y) { return x.second->share > y.second->share; });
  json jout = json::array();
  std::string lead;
  double lead_share = -1;
  std::size_t real_areas = 0;
  for (const auto& [code, a] : ordered) {
    json insp = json::array();
    for (std::size_t k = 0; k < a->stops.size(); ++k) {
      json e = inspection_entry(*a->stops[k], ranking);
      e["order"] = k + 1;
      e["route_stop"] = stop_number[a->stops[k]->id];
      insp.push_back(std::move(e));
    }
    json roles = json::array();
    for (const std::string& r : a->roles) roles.push_back(r);
    jout.push_back({{"code", code.empty() ? json(nullptr) : json(code)}, {"name", a->name}, {"posterior_share", a->share},
                    {"roles", roles}, {"inspections", insp}});
    if (!code.empty()) ++real_areas;
    double stops_p = 0;
    for (const Stop* s : a->stops) stops_p += s->probability;
    if (!code.empty() && !a->stops.empty() && stops_p > lead_share) {
      lead_share = stops_p;
      lead = code;
    }
  }

  // assessment
  json assessment;
  const double top_p = cands.empty() ? 0.0 : (*cands[0])["probability"].get<double>();
  if (p_none >= kDecisiveProbability) {
    assessment = {{"kind", "no_release"},
                  {"text", "No release beyond permitted emissions is the most likely reading (p = " + fmt_p(p_none) +
                               "). The visits below check the remaining hypotheses."}};
  } else if (top_p >= kDecisiveProbability) {
    const json& c = *cands[0];
    assessment = {{"kind", "source_identified"},
                  {"id", c["id"]},
                  {"text", c["id"].get<std::string>() + " " + c.value("name", "") + " holds p = " + fmt_p(top_p) +
                               ". Inspect it first; the others are checks."}};
  } else if (p_unlisted >= kDecisiveProbability) {
    assessment = {{"kind", "unregistered_source"},
                  {"text", "A source missing from the registry is most likely (p = " + fmt_p(p_unlisted) +
                               "): search the area around the posterior peak."}};
  } else {
    std::string best = cands.empty() ? std::string("none") : (*cands[0])["id"].get<std::string>() + " at " + fmt_p(top_p);
    assessment = {{"kind", "undetermined"},
                  {"text", "No hypothesis reaches " + fmt_p(kDecisiveProbability) + " (most likely facility: " + best +
                               "; unregistered " + fmt_p(p_unlisted) + "; no release " + fmt_p(p_none) +
                               "). Inspect in order; no name is established."}};
  }

  json doc;
  doc["case"] = options.case_name;
  doc["pollutant"] = ranking.value("pollutant", "");
  doc["window"] = ranking.contains("window") ? ranking["window"] : json(nullptr);
  doc["assessment"] = assessment;
  doc["probabilities"] = {{"registry", std::max(0.0, 1.0 - p_none - p_unlisted)}, {"unlisted", p_unlisted}, {"no_release", p_none},
                          {"held_by_stops", held}};
  doc["jurisdictions"] = jout;
  doc["joint"] = real_areas >= 2;
  doc["lead"] = lead.empty() ? json(nullptr) : json(lead);
  doc["route"] = route;
  doc["parameters"] = {{"inspect_min_probability", kInspectMinProbability},
                       {"inspect_coverage", kInspectCoverage},
                       {"inspect_floor_probability", kInspectFloorProbability},
                       {"max_inspected_facilities", kMaxInspectedFacilities},
                       {"decisive_probability", kDecisiveProbability}};
  json warnings = json::array();
  for (const Warning& w : diag.warnings()) warnings.push_back(w.file.empty() ? w.message : w.file + ": " + w.message);
  for (const Rejection& r : diag.rejected()) warnings.push_back(r.file + ":" + std::to_string(r.line) + ": " + r.reason);
  doc["warnings"] = warnings;
  return doc;
}

}  // namespace plumetrace::plan

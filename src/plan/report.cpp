#include "plumetrace/plan/report.hpp"

#include <cstdio>

namespace plumetrace::plan {
namespace {

using nlohmann::json;

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string num(double v, const char* fmt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string cell(const std::string& s) { return "<td>" + html_escape(s) + "</td>"; }

}  // namespace

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string o;
  o.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    o += kAlphabet[(v >> 18) & 63];
    o += kAlphabet[(v >> 12) & 63];
    o += kAlphabet[(v >> 6) & 63];
    o += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    o += kAlphabet[(v >> 18) & 63];
    o += kAlphabet[(v >> 12) & 63];
    o += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    o += '=';
  }
  return o;
}

std::string render_report_html(const json& plan, const std::string& map_png, const json& provenance) {
  std::string h;
  const std::string title = "Joint enforcement plan: " + text_of(plan.value("case", json("")));
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + html_escape(title) + "</title>\n";
  h += "<style>body{font-family:'Noto Sans CJK SC','Noto Sans',sans-serif;max-width:60em;margin:1em auto;color:#111}"
       "table{border-collapse:collapse;margin:.5em 0 1em;width:100%}th,td{border:1px solid #999;padding:3px 6px;"
       "text-align:left;vertical-align:top;font-size:.9em}th{background:#eee}h2{border-bottom:2px solid #333;margin-top:1.4em}"
       ".assess{padding:.6em;border:2px solid #333;background:#f6f6f6}img{max-width:100%;border:1px solid #666}"
       ".small{font-size:.8em;color:#444;word-break:break-all}"
       "@media print{body{max-width:none;margin:0}h2{page-break-after:avoid}table,img{page-break-inside:avoid}}</style>\n";
  h += "</head><body>\n<h1>" + html_escape(title) + "</h1>\n";
  const json& w = plan.value("window", json());
  h += "<p>Pollutant: <b>" + html_escape(text_of(plan.value("pollutant", json("")))) + "</b>";
  if (w.is_object())
    h += "; window " + html_escape(text_of(w.value("start", json("")))) + " to " + html_escape(text_of(w.value("end", json("")))) +
         (w.value("given", false) ? " (given)" : " (from the data)");
  h += "</p>\n";
  h += "<div class=\"assess\"><b>Assessment (" + html_escape(text_of(plan["assessment"]["kind"])) + "):</b> " +
       html_escape(text_of(plan["assessment"]["text"])) + "</div>\n";
  const json& pr = plan["probabilities"];
  h += "<p>Probabilities: a registered facility " + num(pr.value("registry", 0.0), "%.3f") + ", an unregistered source " +
       num(pr.value("unlisted", 0.0), "%.3f") + ", no release " + num(pr.value("no_release", 0.0), "%.3f") +
       "; the stops below hold " + num(pr.value("held_by_stops", 0.0), "%.3f") +
       ". A probability of 0.8 means that about 8 in 10 such answers are right (README, \"What the probabilities mean\").</p>\n";

  h += "<h2>Jurisdictions</h2>\n<p>" +
       std::string(plan.value("joint", false) ? "A joint case: more than one jurisdiction is involved." : "One jurisdiction.") +
       (plan["lead"].is_string() ? " Lead: " + html_escape(plan["lead"].get<std::string>()) + "." : std::string()) + "</p>\n";
  h += "<table><tr><th>Code</th><th>Name</th><th>Posterior share</th><th>Roles</th><th>Inspections</th></tr>\n";
  for (const json& j : plan["jurisdictions"]) {
    std::string roles;
    for (const json& r : j["roles"]) roles += (roles.empty() ? "" : ", ") + r.get<std::string>();
    h += "<tr>" + cell(text_of(j["code"])) + cell(text_of(j["name"])) + cell(num(j.value("posterior_share", 0.0), "%.3f")) +
         cell(roles) + cell(std::to_string(j["inspections"].size())) + "</tr>\n";
  }
  h += "</table>\n<p class=\"small\">Roles: inspect = holds facilities or the search area to visit; affected = the candidates' "
       "fitted plumes explain observations there; monitoring = observations were made there.</p>\n";

  for (const json& j : plan["jurisdictions"]) {
    if (j["inspections"].empty()) continue;
    h += "<h2>Inspections in " + html_escape(text_of(j["name"])) + " " + html_escape(text_of(j["code"])) + "</h2>\n";
    h += "<table><tr><th>#</th><th>Route stop</th><th>Id</th><th>Name</th><th>Probability</th><th>Evidence</th></tr>\n";
    for (const json& e : j["inspections"])
      h += "<tr>" + cell(std::to_string(e["order"].get<int>())) + cell(std::to_string(e["route_stop"].get<int>())) +
           cell(text_of(e["id"])) + cell(text_of(e["name"])) + cell(num(e.value("probability", 0.0), "%.3f")) +
           cell(text_of(e["reason"])) + "</tr>\n";
    h += "</table>\n";
  }

  const json& r = plan["route"];
  h += "<h2>Route</h2>\n<p>" + html_escape(text_of(r["method"])) + ", by " +
       (r.value("cost_basis", "") == "travel_times" ? std::string("configured travel times")
                                                    : "straight-line distance at " + num(r.value("speed_km_h", 0.0), "%.0f") + " km/h") +
       ". Total " + num(r.value("total_distance_m", 0.0) / 1000, "%.1f") + " km, " + num(r.value("total_minutes", 0.0), "%.0f") +
       " min.";
  if (r["start"].is_object())
    h += " Start: " + num(r["start"]["lon"].get<double>(), "%.5f") + ", " + num(r["start"]["lat"].get<double>(), "%.5f") +
         (r["start"].value("kind", "") == "given" ? " (given)" : " (the most probable stop)") + ".";
  h += "</p>\n<table><tr><th>Stop</th><th>Id</th><th>Name</th><th>Jurisdiction</th><th>Lon, lat</th><th>Leg (km)</th>"
       "<th>Cumulative (km)</th><th>Cumulative (min)</th></tr>\n";
  for (const json& s : r["stops"])
    h += "<tr>" + cell(std::to_string(s["stop"].get<int>())) + cell(text_of(s["id"])) + cell(text_of(s["name"])) +
         cell(text_of(s["jurisdiction"])) + cell(num(s["lon"].get<double>(), "%.5f") + ", " + num(s["lat"].get<double>(), "%.5f")) +
         cell(num(s.value("leg_m", 0.0) / 1000, "%.2f")) + cell(num(s.value("cumulative_distance_m", 0.0) / 1000, "%.2f")) +
         cell(num(s.value("cumulative_minutes", 0.0), "%.0f")) + "</tr>\n";
  h += "</table>\n";

  h += "<h2>Map</h2>\n<img alt=\"map of the posterior, the boundaries and the route\" src=\"data:image/png;base64," + base64(map_png) +
       "\">\n<p class=\"small\">Yellow to red: posterior probability of the source location, log scale over six decades below its peak (a facility's own cell can hold most of it; the faint spread is where an unregistered source would be). Grey lines: "
       "administrative boundaries. Blue squares: stations. Grey dots: registered facilities. Red discs: stops in route order; "
       "purple: the search area for an unregistered source (dashed circle: its 90 % credible area). Black S: the start. "
       "Web Mercator; no base map.</p>\n";

  if (plan.contains("warnings") && !plan["warnings"].empty()) {
    h += "<h2>Warnings</h2>\n<ul>\n";
    for (const json& wmsg : plan["warnings"]) h += "<li>" + html_escape(text_of(wmsg)) + "</li>\n";
    h += "</ul>\n";
  }
  h += "<h2>Provenance</h2>\n<table>\n";
  for (const auto& [k, v] : provenance.items()) h += "<tr><th>" + html_escape(k) + "</th><td class=\"small\">" + html_escape(text_of(v)) + "</td></tr>\n";
  h += "</table>\n</body></html>\n";
  return h;
}

}  // namespace plumetrace::plan

#include "plan_cmd.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "plumetrace/audit/log.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/plan/plan_job.hpp"

namespace plumetrace::cli {

const char* const kPlanHelp =
    "usage: plumetrace plan CASE_DIR --ranking FILE --out DIR [--start-point LON,LAT] [--json]\n"
    "                       [--posterior FILE] [--travel-times FILE] [--speed-km-h V] [--audit-log FILE]\n"
    "\n"
    "A joint enforcement plan from a ranking (plumetrace trace --out): the jurisdictions involved with\n"
    "their posterior share, per jurisdiction the facilities to inspect in order with their evidence,\n"
    "and one inspection route (exact up to 13 stops, else nearest neighbour + 2-opt + or-opt).\n"
    "Writes DIR/plan.json, DIR/map.png, DIR/report.html (printable, map embedded), copies of the\n"
    "ranking and posterior, DIR/manifest.json (every file's SHA-256) and DIR/bundle.zip (all of them).\n"
    "\n"
    "  --ranking FILE       the ranking document (ranking.json)\n"
    "  --out DIR            output folder (created when missing)\n"
    "  --start-point LON,LAT  where the route starts (default: the most probable stop)\n"
    "  --posterior FILE     the posterior raster (default: posterior.tif beside the ranking, if there)\n"
    "  --travel-times FILE  CSV from,to,minutes between 'start', facility ids and 'unlisted'; legs\n"
    "                       without a time go at straight-line distance and --speed-km-h\n"
    "  --speed-km-h V       straight-line travel speed for minutes (default 30)\n"
    "  --json               print the plan document on standard output and nothing else there\n"
    "  --audit-log FILE     where the audit record goes (as for trace)\n";

void parse_lonlat(const std::string& text, double& lon, double& lat) {
  const auto comma = text.find(',');
  const auto num = [&](std::string_view s, const char* what) {
    double v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
      throw InvalidInput(std::string("--start-point: ") + what + " '" + std::string(s.substr(0, 32)) + "' is not a number");
    return v;
  };
  if (comma == std::string::npos) throw InvalidInput("--start-point needs LON,LAT, got '" + text.substr(0, 64) + "'");
  const std::string_view t(text);
  lon = num(t.substr(0, comma), "longitude");
  lat = num(t.substr(comma + 1), "latitude");
  if (std::abs(lon) > 180 || std::abs(lat) > 90) throw InvalidInput("--start-point: LON,LAT out of range: " + text.substr(0, 64));
}

int run_plan(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options, bool json_out) {
  if (positional.size() != 1) throw InvalidInput("plan needs exactly one CASE_DIR");
  plan::PlanJobRequest r;
  r.case_dir = positional[0];
  const auto need = [&](const char* k) {
    const auto it = options.find(k);
    if (it == options.end() || it->second.empty()) throw InvalidInput(std::string("plan needs ") + k);
    return it->second;
  };
  r.ranking = need("--ranking");
  r.out_dir = need("--out");
  if (const auto it = options.find("--start-point"); it != options.end()) {
    plan::LonLat s;
    parse_lonlat(it->second, s.lon_deg, s.lat_deg);
    r.start = s;
  }
  if (const auto it = options.find("--posterior"); it != options.end()) r.posterior = it->second;
  if (const auto it = options.find("--travel-times"); it != options.end()) r.travel_times = it->second;
  if (const auto it = options.find("--speed-km-h"); it != options.end()) {
    const std::string& s = it->second;
    double v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !(v > 0) || !std::isfinite(v))
      throw InvalidInput("--speed-km-h needs a positive number, got '" + s.substr(0, 32) + "'");
    r.speed_km_h = v;
  }
  const auto log = audit::resolve_log_path(options.count("--audit-log") ? options.at("--audit-log") : "");
  const plan::AuditedPlan res = plan::run_audited_plan(r, log, "cli");
  const nlohmann::json& doc = res.result.plan;
  if (!json_out)
    for (const auto& rej : res.result.diagnostics.rejected())
      std::cerr << "plumetrace: rejected " << rej.file << ":" << rej.line << ": " << rej.reason << "\n";
  if (!json_out)
    for (const auto& w : res.result.diagnostics.warnings()) std::cerr << "plumetrace: warning: " << w.file << ": " << w.message << "\n";
  if (json_out) {
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  std::cout << "assessment: " << doc["assessment"]["text"].get<std::string>() << "\n";
  for (const auto& j : doc["jurisdictions"]) {
    char share[32];
    std::snprintf(share, sizeof share, "%.3f", j["posterior_share"].get<double>());
    std::cout << (j["code"].is_string() ? j["code"].get<std::string>() : std::string("-")) << " "
              << j["name"].get<std::string>() << ": share " << share << ", " << j["inspections"].size() << " to inspect";
    if (!j["inspections"].empty()) {
      std::cout << " (";
      for (std::size_t k = 0; k < j["inspections"].size(); ++k) std::cout << (k ? ", " : "") << j["inspections"][k]["id"].get<std::string>();
      std::cout << ")";
    }
    std::cout << "\n";
  }
  const auto& route = doc["route"];
  std::cout << "route (" << route["method"].get<std::string>() << "): ";
  for (std::size_t k = 0; k < route["stops"].size(); ++k) std::cout << (k ? " -> " : "") << route["stops"][k]["id"].get<std::string>();
  char tot[64];
  std::snprintf(tot, sizeof tot, "%.1f km, %.0f min", route["total_distance_m"].get<double>() / 1000,
                route["total_minutes"].get<double>());
  std::cout << "; " << tot << "\n";
  std::cout << "wrote " << (r.out_dir / "report.html").string() << " and " << res.result.bundle.string() << " (audit record "
            << res.record.seq << ")\n";
  return 0;
}

}  // namespace plumetrace::cli

// plumetrace — the command-line shell over the library (README "Command line").
// Exit status: 0 success, 2 bad input (one-line reason on stderr), 3 unavailable, 1 internal error.

#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "plumetrace/core/error.hpp"
#include "plumetrace/core/version.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/outputs/border_flux.hpp"
#include "plumetrace/outputs/inspect.hpp"
#include "plumetrace/outputs/regions.hpp"
#include "plumetrace/outputs/trace.hpp"
#include "audit_cmd.hpp"
#include "plumetrace/audit/log.hpp"
#include "plumetrace/pipeline/audited_jobs.hpp"
#include "plumetrace/pipeline/init.hpp"
#include "plumetrace/pipeline/trace_job.hpp"
#include "plan_cmd.hpp"
#include "serve_cmd.hpp"
#include "tiles_cmd.hpp"

namespace {

using namespace plumetrace;

constexpr const char* kUsage =
    "usage: plumetrace COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  trace CASE_DIR [--pollutant P] [--start T] [--end T] [--out DIR] [--json] [--all] [--threads N]\n"
    "        [--audit-log FILE]\n"
    "        rank the likely sources of the pollutant observed in the window\n"
    "  inspect CASE_DIR [--json]\n"
    "        show what was read from a case folder: counts, time span, variables, extent,\n"
    "        analysis CRS and grid, jurisdictions touched, rejected rows\n"
    "  border-flux CASE_DIR --between A,B [--pollutant P] [--start T] [--end T] [--json]\n"
    "        mass carried across the border of jurisdictions A and B, each way\n"
    "  regions CASE_DIR [--pollutant P] [--start T] [--end T] [--out DIR] [--json] [--threads N]\n"
    "        long-term source regions: PSCF and CWT from hourly back-trajectories, share per jurisdiction\n"
    "  tiles RASTER OUT_DIR [--zoom MIN-MAX] [--colormap-name NAME] [--rescale LO,HI]\n"
    "        write an XYZ PNG tile pyramid and tilejson.json for static hosting\n"
    "  serve [--data DIR] [--listen HOST:PORT] [--store URL] [--cors ORIGIN]\n"
    "        the HTTP service: case uploads, trace jobs, map tiles, the dashboard at / (docs/http.md)\n"
    "  sample-inspections REGISTRY --inspectors FILE --rates A=..,B=..,C=..,D=.. [--seed N] [--json]\n"
    "        \"double random\" inspection draw by credit tier, two inspectors each (audited)\n"
    "  plan CASE_DIR --ranking FILE --out DIR [--start-point LON,LAT] [--json]\n"
    "        joint enforcement plan: jurisdictions, inspections in order, route, report, bundle.zip\n"
    "  audit list|verify|replay ID [--log FILE]\n"
    "        the audit log of trace, plan and sample-inspections runs (docs/audit.md)\n"
    "  --version\n"
    "\n"
    "Run 'plumetrace COMMAND --help' for a command's options.\n";

constexpr const char* kTraceHelp =
    "usage: plumetrace trace CASE_DIR [--pollutant P] [--start T] [--end T] [--out DIR] [--json] [--all]\n"
    "                        [--usual-emissions auto|fit|off] [--temper auto|T]\n"
    "\n"
    "Rank every registered facility by the probability that it emitted the pollutant observed in\n"
    "the case, estimate its emission rate (g/s, median with 5-95 % interval), and locate a source\n"
    "missing from the registry on the analysis grid.\n"
    "\n"
    "  --pollutant P  variable to trace (default: case.json's pollutant)\n"
    "  --start T      ISO 8601 start of the suspected release (default: start of the data)\n"
    "  --end T        ISO 8601 end of the suspected release (default: end of the data)\n"
    "  --out DIR      also write ranking.json, ranking.geojson, posterior.tif, footprint.tif, fused.tif,\n"
    "                 observations.csv\n"
    "  --json         print the ranking document (JSON) on standard output and nothing else\n"
    "  --all          list every facility in the table (default: the top 10 and a line for the rest)\n"
    "  --threads N    worker threads (default: all cores; the result does not depend on it)\n"
    "  --usual-emissions auto|fit|off  fit: the registry's usual emissions (permitted_g_s, or a\n"
    "                 common rate fitted to the data) are part of \"no release\"; off: the background\n"
    "                 alone is; auto (default): traced both ways, the one whose posterior predicts\n"
    "                 held-out hours better is kept (twice the time; README, Pipeline 6)\n"
    "  --temper auto|T  the likelihood's tempering: auto (default) chooses it per case from 0.5,\n"
    "                 0.35, 0.25, 0.15, 0.1 by how well the data predict themselves held out (README,\n"
    "                 \"What the probabilities mean\"); T in (0, 1] fixes it (0.5 before 2026-12-03)\n"
    "  --audit-log FILE  append the run's audit record here (default $PLUMETRACE_AUDIT_LOG, else\n"
    "                 $XDG_DATA_HOME/plumetrace/audit.log, else ~/.local/share/plumetrace/audit.log);\n"
    "                 when it cannot be written the trace fails (exit 3)\n";

constexpr const char* kInspectHelp =
    "usage: plumetrace inspect CASE_DIR [--json]\n"
    "\n"
    "Read a case folder and report what was accepted and rejected (file, line and reason).\n"
    "  --json         print the report as JSON\n";

constexpr const char* kBorderFluxHelp =
    "usage: plumetrace border-flux CASE_DIR --between A,B [--pollutant P] [--start T] [--end T] [--json]\n"
    "\n"
    "Mass of the pollutant carried across the shared border of jurisdictions A and B (codes of the\n"
    "case's boundary layer) in each direction over the window: fused concentration x wind component\n"
    "normal to the border x mixing height, integrated along the shared edge and over time\n"
    "(docs/border-flux.md). Reported with the background concentration and above it.\n"
    "\n"
    "  --between A,B  the two jurisdiction codes\n"
    "  --pollutant P  variable (default: case.json's pollutant)\n"
    "  --start T      ISO 8601 start of the window (default: start of the data); also --from\n"
    "  --end T        ISO 8601 end of the window (default: end of the data); also --to\n"
    "  --json         print the result as JSON on standard output and nothing else there\n";

constexpr const char* kRegionsHelp =
    "usage: plumetrace regions CASE_DIR [--pollutant P] [--start T] [--end T] [--out DIR] [--json] [--threads N]\n"
    "\n"
    "Long-term source regions of the case's fixed stations (weeks to months of readings): a\n"
    "back-trajectory from every station for every hourly mean (24 h, or until it leaves the grid),\n"
    "gridded as PSCF (share of residence time above each station's 90th percentile) and CWT\n"
    "(residence-time-weighted mean concentration) with openair's count weights, and the share of\n"
    "the excess over background that each jurisdiction sent (docs/regions.md).\n"
    "\n"
    "  --pollutant P  variable (default: case.json's pollutant)\n"
    "  --start T      ISO 8601 start of the period (default: start of the data)\n"
    "  --end T        ISO 8601 end of the period (default: end of the data)\n"
    "  --out DIR      write regions.json, pscf.tif and cwt.tif (Cloud-Optimised GeoTIFF)\n"
    "  --json         print the document as JSON on standard output and nothing else there\n"
    "  --threads N    worker threads (default: all cores; the result does not depend on it)\n";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  std::vector<std::string> flags;
};

Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& with_value,
                const std::vector<std::string>& flags) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      std::string value;
      const auto eq = s.find('=');
      if (eq != std::string::npos) {
        value = s.substr(eq + 1);
        s = s.substr(0, eq);
      }
      if (std::find(with_value.begin(), with_value.end(), s) != with_value.end()) {
        if (eq == std::string::npos) {
          if (i + 1 >= argc) throw InvalidInput("option " + s + " needs a value");
          value = argv[++i];
        }
        a.options[s] = value;
      } else if (std::find(flags.begin(), flags.end(), s) != flags.end()) {
        a.flags.push_back(s);
      } else {
        throw InvalidInput("unknown option " + s);
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

bool has_flag(const Args& a, const std::string& f) {
  return std::find(a.flags.begin(), a.flags.end(), f) != a.flags.end();
}

void print_diagnostics_summary(const Case& c) {
  const auto& rej = c.diagnostics.rejected();
  for (std::size_t i = 0; i < rej.size() && i < 20; ++i)
    std::cerr << "plumetrace: rejected " << rej[i].file << ":" << rej[i].line << ": " << rej[i].reason << "\n";
  if (rej.size() > 20) std::cerr << "plumetrace: ... and " << rej.size() - 20 << " more rejected rows\n";
  for (const auto& w : c.diagnostics.warnings()) std::cerr << "plumetrace: warning: " << w.file << ": " << w.message << "\n";
}

int cmd_trace(int argc, char** argv) {
  const Args a = parse_args(argc, argv, 2,
                            {"--pollutant", "--start", "--end", "--out", "--threads", "--audit-log", "--usual-emissions",
                             "--temper"},
                            {"--json", "--all", "--help"});
  if (has_flag(a, "--help")) {
    std::cout << kTraceHelp;
    return 0;
  }
  if (a.positional.size() != 1) throw InvalidInput("trace needs exactly one CASE_DIR");
  const Case c = load_case(a.positional[0]);
  const bool json_out = has_flag(a, "--json");
  if (!json_out) print_diagnostics_summary(c);
  pipeline::TraceJobRequest r;
  r.case_dir = a.positional[0];
  if (auto it = a.options.find("--pollutant"); it != a.options.end()) r.pollutant = it->second;
  if (auto it = a.options.find("--start"); it != a.options.end()) r.start = pipeline::parse_request_time(it->second);
  if (auto it = a.options.find("--end"); it != a.options.end()) r.end = pipeline::parse_request_time(it->second);
  if (auto it = a.options.find("--threads"); it != a.options.end()) {
    try {
      r.threads = std::stoi(it->second);
    } catch (const std::exception&) {
      throw InvalidInput("--threads needs a number, got '" + it->second + "'");
    }
  }
  if (auto it = a.options.find("--usual-emissions"); it != a.options.end()) {
    const auto mode = parse_usual_emissions_mode(it->second);
    if (!mode) throw InvalidInput("--usual-emissions is 'auto', 'fit' or 'off', got '" + it->second + "'");
    r.usual_emissions = *mode;
  }
  if (auto it = a.options.find("--temper"); it != a.options.end() && it->second != "auto") {
    // strict and locale-free, as the other numeric options (plan_cmd.cpp)
    const std::string& s = it->second;
    double t = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), t);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !(t > 0 && t <= 1))
      throw InvalidInput("--temper is 'auto' or a number in (0, 1], got '" + s.substr(0, 32) + "'");
    r.temper = t;
  }
  const auto log = audit::resolve_log_path(a.options.count("--audit-log") ? a.options.at("--audit-log") : "");
  const nlohmann::json extra = {{"case", std::filesystem::absolute(r.case_dir).lexically_normal().string()}};
  const TraceResult res = pipeline::run_audited_trace(c, r, log, "cli", extra).result;
  if (auto it = a.options.find("--out"); it != a.options.end()) write_trace_outputs(res, it->second);
  if (json_out)
    std::cout << res.ranking.dump(2) << "\n";
  else
    std::cout << format_ranking_table(res.ranking, has_flag(a, "--all"));
  return 0;
}

int cmd_inspect(int argc, char** argv) {
  const Args a = parse_args(argc, argv, 2, {}, {"--json", "--help"});
  if (has_flag(a, "--help")) {
    std::cout << kInspectHelp;
    return 0;
  }
  if (a.positional.size() != 1) throw InvalidInput("inspect needs exactly one CASE_DIR");
  const Case c = load_case(a.positional[0]);
  const auto doc = inspect_case(c);
  if (has_flag(a, "--json"))
    std::cout << doc.dump(2) << "\n";
  else
    std::cout << format_inspect(doc);
  return 0;
}

int cmd_border_flux(int argc, char** argv) {
  const Args a = parse_args(argc, argv, 2, {"--between", "--pollutant", "--start", "--end", "--from", "--to"},
                            {"--json", "--help"});
  if (has_flag(a, "--help")) {
    std::cout << kBorderFluxHelp;
    return 0;
  }
  if (a.positional.size() != 1) throw InvalidInput("border-flux needs exactly one CASE_DIR");
  const auto between = a.options.find("--between");
  if (between == a.options.end()) throw InvalidInput("border-flux needs --between A,B");
  const auto comma = between->second.find(',');
  if (comma == std::string::npos) throw InvalidInput("--between needs two codes A,B, got '" + between->second + "'");
  BorderFluxRequest r;
  r.code_a = between->second.substr(0, comma);
  r.code_b = between->second.substr(comma + 1);
  auto option = [&](const char* name, const char* alias) {
    if (auto it = a.options.find(name); it != a.options.end()) return it->second;
    if (auto it = a.options.find(alias); it != a.options.end()) return it->second;
    return std::string{};
  };
  r.pollutant = option("--pollutant", "--pollutant");
  r.start = option("--start", "--from");
  r.end = option("--end", "--to");
  const Case c = load_case(a.positional[0]);
  const bool json_out = has_flag(a, "--json");
  if (!json_out) print_diagnostics_summary(c);
  const auto doc = run_border_flux(c, r);
  if (json_out) {
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  const auto& bg = doc["above_background"];
  std::cout << doc["pollutant"].get<std::string>() << " across the border " << r.code_a << " | " << r.code_b << " ("
            << doc["border_length_m"].get<double>() / 1000.0 << " km), " << doc["window"]["start"].get<std::string>()
            << " .. " << doc["window"]["end"].get<std::string>() << "\n"
            << "  " << r.code_a << " -> " << r.code_b << ": " << doc["a_to_b_kg"].get<double>() << " kg ("
            << bg["a_to_b_kg"].get<double>() << " kg above background)\n"
            << "  " << r.code_b << " -> " << r.code_a << ": " << doc["b_to_a_kg"].get<double>() << " kg ("
            << bg["b_to_a_kg"].get<double>() << " kg above background)\n";
  return 0;
}

int cmd_regions(int argc, char** argv) {
  const Args a = parse_args(argc, argv, 2, {"--pollutant", "--start", "--end", "--out", "--threads"},
                            {"--json", "--help"});
  if (has_flag(a, "--help")) {
    std::cout << kRegionsHelp;
    return 0;
  }
  if (a.positional.size() != 1) throw InvalidInput("regions needs exactly one CASE_DIR");
  RegionsRequest r;
  if (auto it = a.options.find("--pollutant"); it != a.options.end()) r.pollutant = it->second;
  if (auto it = a.options.find("--start"); it != a.options.end()) r.start = it->second;
  if (auto it = a.options.find("--end"); it != a.options.end()) r.end = it->second;
  if (auto it = a.options.find("--threads"); it != a.options.end()) {
    try {
      r.threads = std::stoi(it->second);
    } catch (const std::exception&) {
      throw InvalidInput("--threads needs a number, got '" + it->second + "'");
    }
  }
  const Case c = load_case(a.positional[0]);
  const bool json_out = has_flag(a, "--json");
  if (!json_out) print_diagnostics_summary(c);
  const RegionsResult res = run_regions(c, r);
  if (auto it = a.options.find("--out"); it != a.options.end()) write_regions_outputs(res, it->second);
  if (json_out)
    std::cout << res.document.dump(2) << "\n";
  else
    std::cout << format_regions_table(res.document);
  return 0;
}

int cmd_tiles(int argc, char** argv) {
  const Args a = parse_args(argc, argv, 2, cli::kTilesOptions, {"--help"});
  if (has_flag(a, "--help")) {
    std::cout << cli::kTilesHelp;
    return 0;
  }
  return cli::run_tiles(a.positional, a.options);
}

int cmd_sample_inspections(int argc, char** argv) {
  const Args a = parse_args(argc, argv, 2, cli::kSampleOptions, {"--json", "--help"});
  if (has_flag(a, "--help")) {
    std::cout << cli::kSampleHelp;
    return 0;
  }
  return cli::run_sample_inspections(a.positional, a.options, has_flag(a, "--json"));
}

int cmd_plan(int argc, char** argv) {
  const Args a = parse_args(argc, argv, 2, cli::kPlanOptions, {"--json", "--help"});
  if (has_flag(a, "--help")) {
    std::cout << cli::kPlanHelp;
    return 0;
  }
  return cli::run_plan(a.positional, a.options, has_flag(a, "--json"));
}

int cmd_audit(int argc, char** argv) {
  const Args a = parse_args(argc, argv, 2, cli::kAuditOptions, {"--json", "--help"});
  if (has_flag(a, "--help")) {
    std::cout << cli::kAuditHelp;
    return 0;
  }
  return cli::run_audit(a.positional, a.options, has_flag(a, "--json"));
}

int cmd_serve(int argc, char** argv) {
  const Args a = parse_args(argc, argv, 2, cli::kServeOptions, {"--help"});
  if (has_flag(a, "--help")) {
    std::cout << cli::kServeHelp;
    return 0;
  }
  return cli::run_serve(a.positional, a.options);
}

}  // namespace

int main(int argc, char** argv) {
  pipeline::init();
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "--version" || cmd == "version") {
      std::cout << "plumetrace " << plumetrace::kVersion << "\n";
      return 0;
    }
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (cmd == "trace") return cmd_trace(argc, argv);
    if (cmd == "inspect") return cmd_inspect(argc, argv);
    if (cmd == "tiles") return cmd_tiles(argc, argv);
    if (cmd == "border-flux") return cmd_border_flux(argc, argv);
    if (cmd == "regions") return cmd_regions(argc, argv);
    if (cmd == "serve") return cmd_serve(argc, argv);
    if (cmd == "sample-inspections") return cmd_sample_inspections(argc, argv);
    if (cmd == "plan") return cmd_plan(argc, argv);
    if (cmd == "audit") return cmd_audit(argc, argv);
    std::cerr << "plumetrace: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "plumetrace: " << e.what() << "\n";
    return plumetrace::exit_code_for(e);
  }
}

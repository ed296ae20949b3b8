#pragma once
/// @file harness.hpp
/// Shared helpers of the accuracy tests: locate and run the `plumetrace` executable and the
/// `plumetrace-sim` simulator, and score a ranking document (CONTRACT.md §3) against a
/// `truth.json` written by the simulator (or by the shared examples).
///
/// Programs: the tracer is the compile definition PLUMETRACE_BINARY (override with the environment
/// variable PLUMETRACE_TRACER); the simulator is `plumetrace-sim` in the same build directory
/// (override with PLUMETRACE_SIM).

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace plumetrace::accuracy {

namespace fs = std::filesystem;

/// The traces these tests run append to an audit log beside the build, never the user's (ctest
/// sets PLUMETRACE_AUDIT_LOG too; this covers running the test binary by hand).
inline const bool kAuditLogSet = [] {
  const fs::path log = fs::path(PLUMETRACE_BINARY).parent_path() / "test-audit" / "accuracy.log";
  return ::setenv("PLUMETRACE_AUDIT_LOG", log.c_str(), 0) == 0;
}();

/// Path of the tracer executable.
inline fs::path tracer_path() {
  if (const char* env = std::getenv("PLUMETRACE_TRACER"); env != nullptr && *env != '\0') return env;
  return PLUMETRACE_BINARY;
}

/// Path of the simulator executable (same build directory as the tracer unless overridden).
inline fs::path sim_path() {
  if (const char* env = std::getenv("PLUMETRACE_SIM"); env != nullptr && *env != '\0') return env;
  return fs::path(PLUMETRACE_BINARY).parent_path() / "plumetrace-sim";
}

/// Quote one argument for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

struct CommandResult {
  int exit_code = -1;   // the program's exit status; -1 when it did not exit normally
  std::string out;      // standard output
};

/// Run a shell command line, capturing standard output (standard error goes to `stderr_file`
/// when given, else is inherited). Thread-safe (popen).
inline CommandResult run_command(const std::string& command, const std::optional<fs::path>& stderr_file = {}) {
  CommandResult r;
  std::string line = command;
  if (stderr_file) line += " 2>" + shell_quote(stderr_file->string());
  FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

/// Great-circle distance (m) between two lon/lat points (spherical Earth, < 0.5 % error).
inline double distance_m(double lon1, double lat1, double lon2, double lat2) {
  constexpr double kR = 6371008.8, kDeg = 3.14159265358979323846 / 180.0;
  const double dlat = (lat2 - lat1) * kDeg, dlon = (lon2 - lon1) * kDeg;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kDeg) * std::cos(lat2 * kDeg) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kR * std::asin(std::min(1.0, std::sqrt(a)));
}

/// What one incident's ranking achieved against its truth.
struct Score {
  std::string kind;              // truth kind (single, border/crossborder, pair, unlisted)
  bool ran = false;              // the tracer exited 0 and printed parseable JSON
  std::string error;             // why not, when !ran
  std::vector<int> culprit_rank;         // 1-based rank of each registered culprit (0 = missing)
  std::vector<double> rate_ratio;        // estimate / truth for each registered culprit (NaN: none)
  int cross_border_truth = 0;            // registered culprits that are cross-border in truth
  int cross_border_flagged = 0;          // ... of those flagged cross_border with the right county
  std::vector<std::string> county_mismatch;  // registered culprits whose jurisdiction.code differs
  std::optional<double> unlisted_peak_error_m;  // unlisted kind: distance peak - truth
  double probability_sum = 0;            // candidates + unlisted + no_release
  bool registry_complete = false;        // every sources.csv id is a candidate
  std::string top_id;                    // rank 1 candidate

  [[nodiscard]] bool one_culprit() const { return kind == "single" || kind == "border" || kind == "crossborder"; }
  [[nodiscard]] bool first() const { return !culprit_rank.empty() && culprit_rank[0] == 1; }
  [[nodiscard]] bool pair_top4() const {
    return culprit_rank.size() == 2 && culprit_rank[0] >= 1 && culprit_rank[0] <= 4 && culprit_rank[1] >= 1 &&
           culprit_rank[1] <= 4;
  }
};

/// Registry ids listed in a case's sources.csv (first column, header skipped).
inline std::vector<std::string> registry_ids(const fs::path& case_dir) {
  std::vector<std::string> ids;
  std::istringstream in(read_text(case_dir / "sources.csv"));
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty() || line == "\r") continue;
    ids.push_back(line.substr(0, line.find(',')));
  }
  return ids;
}

/// Score the tracer's JSON document against truth (both as parsed JSON). `ids` are the registry
/// ids of the case. Never throws on a malformed ranking: it records the reason in `error`.
inline Score score_ranking(const nlohmann::json& truth, const std::string& ranking_text,
                           const std::vector<std::string>& ids) {
  Score s;
  s.kind = truth.value("kind", "");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(ranking_text);
  } catch (const std::exception& e) {
    s.error = std::string("ranking is not JSON: ") + e.what();
    return s;
  }
  try {
    const auto& cands = doc.at("candidates");
    for (const auto& c : cands) s.probability_sum += c.at("probability").get<double>();
    for (const char* key : {"unlisted", "no_release"})
      if (doc.contains(key) && doc[key].contains("probability")) s.probability_sum += doc[key]["probability"].get<double>();
    s.registry_complete = true;
    for (const auto& id : ids) {
      const bool found = std::any_of(cands.begin(), cands.end(), [&](const nlohmann::json& c) { return c.at("id") == id; });
      s.registry_complete = s.registry_complete && found;
    }
    if (!cands.empty()) s.top_id = cands[0].at("id").get<std::string>();
    for (const auto& src : truth.at("sources")) {
      const std::string id = src.at("id");
      if (id == "UNLISTED") {
        if (doc.contains("unlisted") && doc["unlisted"].contains("peak") && doc["unlisted"]["peak"].is_object()) {
          const auto& peak = doc["unlisted"]["peak"];
          s.unlisted_peak_error_m = distance_m(peak.at("lon").get<double>(), peak.at("lat").get<double>(),
                                               src.at("lon").get<double>(), src.at("lat").get<double>());
        }
        continue;
      }
      // rank by position in the (probability-sorted) list, 1-based
      int rank = 0;
      const nlohmann::json* cand = nullptr;
      for (std::size_t i = 0; i < cands.size(); ++i) {
        if (cands[i].at("id") == id) {
          rank = static_cast<int>(i) + 1;
          cand = &cands[i];
          break;
        }
      }
      s.culprit_rank.push_back(rank);
      double ratio = std::nan("");
      if (cand != nullptr && cand->contains("emission_rate_g_s") && (*cand)["emission_rate_g_s"].contains("estimate"))
        ratio = (*cand)["emission_rate_g_s"]["estimate"].get<double>() / src.at("q_g_s").get<double>();
      s.rate_ratio.push_back(ratio);
      const std::string truth_county = src.value("county", "");
      std::string code;
      if (cand != nullptr && cand->contains("jurisdiction") && (*cand)["jurisdiction"].is_object() &&
          (*cand)["jurisdiction"].contains("code") && (*cand)["jurisdiction"]["code"].is_string())
        code = (*cand)["jurisdiction"]["code"].get<std::string>();
      if (!truth_county.empty() && code != truth_county) s.county_mismatch.push_back(id + " " + code + "!=" + truth_county);
      if (src.value("cross_border", false)) {
        ++s.cross_border_truth;
        const bool flagged = cand != nullptr && cand->value("cross_border", false);
        if (flagged && code == truth_county) ++s.cross_border_flagged;
      }
    }
    s.ran = true;
  } catch (const std::exception& e) {
    s.error = std::string("ranking lacks a contract field: ") + e.what();
  }
  return s;
}

/// Run `plumetrace trace CASE --start W0 --end W1 --json` (windows from truth) under a time limit
/// and score it. stderr goes to `log`; the ranking document is also saved to `save` when given.
inline Score trace_and_score(const fs::path& case_dir, const nlohmann::json& truth, const fs::path& log,
                             int timeout_s = 600, const std::optional<fs::path>& save = {}) {
  const std::string cmd = "timeout " + std::to_string(timeout_s) + " " + shell_quote(tracer_path().string()) + " trace " +
                          shell_quote(case_dir.string()) + " --start " + shell_quote(truth.at("window")[0].get<std::string>()) +
                          " --end " + shell_quote(truth.at("window")[1].get<std::string>()) + " --json";
  const CommandResult r = run_command(cmd, log);
  if (save) std::ofstream(*save, std::ios::binary) << r.out;
  if (r.exit_code != 0) {
    Score s;
    s.kind = truth.value("kind", "");
    s.error = "tracer exit " + std::to_string(r.exit_code) + ": " + read_text(log).substr(0, 300);
    return s;
  }
  return score_ranking(truth, r.out, registry_ids(case_dir));
}

}  // namespace plumetrace::accuracy

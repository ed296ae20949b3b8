#include "audit_cmd.hpp"

#include <iomanip>
#include <iostream>
#include <random>

#include "plumetrace/audit/log.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/pipeline/audited_jobs.hpp"
#include "plumetrace/plan/plan_job.hpp"

namespace plumetrace::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string option(const std::map<std::string, std::string>& o, const std::string& key) {
  const auto it = o.find(key);
  return it == o.end() ? std::string() : it->second;
}

void print_diagnostics(const Diagnostics& d) {
  for (const auto& r : d.rejected()) std::cerr << "plumetrace: rejected " << r.file << ":" << r.line << ": " << r.reason << "\n";
  for (const auto& w : d.warnings()) std::cerr << "plumetrace: warning: " << w.file << ": " << w.message << "\n";
}

}  // namespace

const char* const kSampleHelp =
    "usage: plumetrace sample-inspections REGISTRY --inspectors FILE --rates A=0.03,B=0.05,C=0.2,D=0.5\n"
    "                                     [--seed N] [--audit-log FILE] [--json]\n"
    "\n"
    "\"Double random\" inspection sampling: facilities of the registry (sources.csv or any OGR\n"
    "vector with a `credit` tier A-D) drawn at random with the rate of their tier (floor(rate*n)\n"
    "plus one more with probability of the remainder), each assigned two inspectors drawn at random\n"
    "from those not excluded from it. The same inputs and seed give the same draw; the seed, the\n"
    "inputs' SHA-256 and the result's SHA-256 are appended to the audit log.\n"
    "\n"
    "  --inspectors FILE  CSV id,name[,exclude] (exclude: ';'-separated facility ids)\n"
    "  --rates LIST       TIER=RATE,... with RATE in [0, 1]; every tier in the registry needs one\n"
    "  --seed N           unsigned 64-bit seed (default: a random one, printed and recorded)\n"
    "  --audit-log FILE   audit log (default $PLUMETRACE_AUDIT_LOG, else\n"
    "                     $XDG_DATA_HOME/plumetrace/audit.log, else ~/.local/share/plumetrace/audit.log)\n"
    "  --json             print {\"seed\", \"rates\", \"drawn\", \"population\", \"drawn_per_tier\", \"audit\"}\n";

const char* const kAuditHelp =
    "usage: plumetrace audit list|verify|replay ID [--log FILE] [--case DIR] [--ranking FILE] [--threads N] [--json]\n"
    "\n"
    "The audit log that trace, plan and sample-inspections append to (docs/audit.md).\n"
    "\n"
    "  list          one line per record: seq, time, command, origin, case, result hash\n"
    "  verify        check every record's hash and the chain; exit 1 naming the first broken record.\n"
    "                An incomplete last line (an interrupted append) is a warning: exit 0\n"
    "  replay ID     re-run record ID (its seq, or 8+ hex digits of its hash) and compare the result\n"
    "                hash: exit 0 on a match, 1 when the inputs or the result differ\n"
    "  --log FILE    the log (default $PLUMETRACE_AUDIT_LOG, else $XDG_DATA_HOME/plumetrace/audit.log,\n"
    "                else ~/.local/share/plumetrace/audit.log)\n"
    "  --case DIR    replay a trace or a plan on this case folder (needed for records of the service)\n"
    "  --ranking FILE  replay a plan on this ranking (needed for plan records of the service: the\n"
    "                trace job's ranking, with its posterior.tif beside it)\n"
    "  --threads N   threads for a replayed trace (default: all cores; the result does not depend on it)\n"
    "  --json        list: the records as a JSON array; verify: a JSON report\n";

int run_sample_inspections(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options,
                           bool json_out) {
  if (positional.size() != 1) throw InvalidInput("sample-inspections needs exactly one REGISTRY file");
  const std::string inspectors = option(options, "--inspectors");
  if (inspectors.empty()) throw InvalidInput("sample-inspections needs --inspectors FILE");
  const std::string rates_text = option(options, "--rates");
  if (rates_text.empty()) throw InvalidInput("sample-inspections needs --rates A=...,B=...,C=...,D=...");
  const sampling::Rates rates = sampling::parse_rates(rates_text);
  std::uint64_t seed = 0;
  if (const std::string s = option(options, "--seed"); !s.empty()) {
    std::size_t used = 0;
    try {
      if (s.find_first_not_of("0123456789") != std::string::npos) throw std::invalid_argument("");
      seed = std::stoull(s, &used);
    } catch (const std::exception&) {
      throw InvalidInput("--seed needs an unsigned 64-bit integer, got '" + s.substr(0, 40) + "'");
    }
  } else {
    std::random_device rd;
    seed = (std::uint64_t{rd()} << 32) ^ rd();
  }
  const fs::path log = audit::resolve_log_path(option(options, "--audit-log"));
  const auto res = pipeline::run_audited_sampling(positional[0], inspectors, rates, seed, log, "cli");
  print_diagnostics(res.diagnostics);
  if (json_out) {
    json doc = res.document;
    doc["audit"] = {{"log", log.string()}, {"seq", res.record.seq}, {"hash", res.record.hash}};
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  std::cout << "seed " << res.draw.seed << "\n";
  for (const auto& [tier, n] : res.draw.population)
    std::cout << "tier " << tier << ": " << res.draw.drawn_per_tier.at(tier) << " of " << n << " drawn (rate "
              << res.draw.rates.at(tier) << ")\n";
  for (const auto& a : res.draw.drawn)
    std::cout << "  " << a.facility_id << "  " << a.credit << "  " << a.inspectors[0] << ", " << a.inspectors[1] << "\n";
  std::cout << "audit record " << res.record.seq << " (" << res.record.hash.substr(0, 12) << ") in " << log.string() << "\n";
  return 0;
}

int run_audit(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options,
              bool json_out) {
  if (positional.empty()) throw InvalidInput("audit needs list, verify or replay ID");
  const std::string& sub = positional[0];
  const fs::path log = audit::resolve_log_path(option(options, "--log"));
  if (sub != "list" && sub != "verify" && sub != "replay")
    throw InvalidInput("unknown audit command '" + sub + "' (list, verify, replay ID)");
  std::error_code ec;
  if (!fs::exists(log, ec)) throw NotFound("no audit log at " + log.string());
  if (sub == "list") {
    if (positional.size() != 1) throw InvalidInput("audit list takes no argument");
    const auto records = audit::read_records(log);
    if (json_out) {
      std::cout << json(records).dump(2) << "\n";
      return 0;
    }
    for (const json& r : records) {
      std::string what;
      if (r.contains("case") && r["case"].is_string()) what = r["case"].get<std::string>();
      if (r.contains("job") && r["job"].is_string()) what += " job " + r["job"].get<std::string>();
      if (r.value("command", "") == "sample-inspections" && r.contains("seeds") && r["seeds"].contains("draw"))
        what = "seed " + r["seeds"]["draw"].dump();
      std::cout << std::setw(5) << r.value("seq", 0) << "  " << r.value("time", "") << "  " << std::left << std::setw(19)
                << r.value("command", "") << std::setw(6) << r.value("origin", "") << std::right << "  result "
                << r.value("result_sha256", "").substr(0, 12) << "  hash " << r.value("hash", "").substr(0, 12) << "  "
                << what << "\n";
    }
    return 0;
  }
  if (sub == "verify") {
    if (positional.size() != 1) throw InvalidInput("audit verify takes no argument");
    const audit::VerifyReport rep = audit::verify(log);
    if (json_out) {
      json doc = {{"log", log.string()}, {"records", rep.records}, {"ok", rep.ok()}, {"last_hash", rep.last_hash}};
      if (rep.error) doc["error"] = {{"line", rep.error->line}, {"seq", rep.error->seq ? json(*rep.error->seq) : json()},
                                      {"message", rep.error->message}};
      if (rep.torn_tail) doc["warning"] = rep.torn_tail->message;
      std::cout << doc.dump(2) << "\n";
    }
    if (rep.torn_tail) std::cerr << "plumetrace: warning: " << log.string() << ": " << rep.torn_tail->message << "\n";
    if (rep.error) {
      std::cerr << "plumetrace: " << log.string() << ": " << rep.error->message << "\n";
      return 1;
    }
    if (!json_out)
      std::cout << log.string() << ": " << rep.records << " records verify; last hash " << rep.last_hash << "\n";
    return 0;
  }
  if (sub == "replay") {
    if (positional.size() != 2) throw InvalidInput("audit replay needs one record ID");
    int threads = 0;
    if (const std::string t = option(options, "--threads"); !t.empty()) {
      try {
        threads = std::stoi(t);
      } catch (const std::exception&) {
        throw InvalidInput("--threads needs a number, got '" + t + "'");
      }
    }
    const json rec = audit::find_record(log, positional[1]);
    const auto out = rec.value("command", "") == "plan"
                         ? plan::replay_plan(rec, option(options, "--case"), option(options, "--ranking"))
                         : pipeline::replay(rec, option(options, "--case"), threads);
    const std::string name = "record " + std::to_string(rec.value("seq", 0));
    for (const auto& d : out.input_differences) std::cerr << "plumetrace: input differs: " << d << "\n";
    if (!out.input_differences.empty()) {
      std::cerr << "plumetrace: " << name << ": the inputs differ from the record; not re-run\n";
      return 1;
    }
    std::cout << name << " (" << rec.value("command", "") << "): recorded result " << out.recorded_sha256 << "\n"
              << name << " (" << rec.value("command", "") << "): replayed result " << out.replayed_sha256 << "\n"
              << (out.match() ? "match" : "MISMATCH") << "\n";
    return out.match() ? 0 : 1;
  }
  throw InvalidInput("unknown audit command '" + sub + "' (list, verify, replay ID)");
}

}  // namespace plumetrace::cli

// `plumetrace sample-inspections` and `plumetrace audit`, run as a user runs them: the records
// that trace, plan and sample-inspections append, verify's exit codes, replay, and a trace whose
// audit record cannot be written.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../audit/audit_test_support.hpp"
#include "../support/temp_dir.hpp"
#include "plumetrace/audit/log.hpp"
#include "plumetrace/audit/sha256.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace plumetrace;
using plumetrace::test::slurp;
using plumetrace::test::spit;
using plumetrace::test::test_log;

struct Ran {
  int code{};
  std::string out, err;
};

fs::path work_dir(const std::string& name) { return testing_support::fresh_temp_dir("plumetrace_audit_cli_" + name); }

Ran plumetrace_cmd(const std::string& args) {
  static int counter = 0;
  const fs::path d = work_dir("run" + std::to_string(counter++));
  const std::string cmd = std::string("'") + PLUMETRACE_BINARY + "' " + args + " >'" + (d / "out").string() + "' 2>'" +
                          (d / "err").string() + "'";
  const int status = std::system(cmd.c_str());
  Ran r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(d / "out"), slurp(d / "err")};
  fs::remove_all(d);
  return r;
}

const fs::path kExample = fs::path(PLUMETRACE_TEST_DATA) / "examples/example-101/case";
const std::string kWindow = "--start 2021-07-28T21:00:00+08:00 --end 2021-07-29T00:00:00+08:00";

/// A registry of 40 facilities (tiers A-D) and four inspectors, one excluded from F01-F05.
fs::path sampling_inputs(const std::string& name) {
  const fs::path d = work_dir(name);
  std::ofstream r(d / "sources.csv");
  r << "id,name,lon,lat,height_m,credit\n";
  for (int i = 1; i <= 40; ++i)
    r << "F" << (i < 10 ? "0" : "") << i << ",f" << i << "," << 120 + i * 0.01 << ",28,10," << "ABCD"[i % 4] << "\n";
  std::ofstream in(d / "inspectors.csv");
  in << "id,name,exclude\nI1,Li,F01;F02;F03;F04;F05\nI2,Wang,\nI3,Zhang,\nI4,Zhao,\n";
  return d;
}

std::string sample_args(const fs::path& d, const fs::path& log, int seed) {
  return "sample-inspections '" + (d / "sources.csv").string() + "' --inspectors '" + (d / "inspectors.csv").string() +
         "' --rates A=0.2,B=0.3,C=0.5,D=1 --seed " + std::to_string(seed) + " --audit-log '" + log.string() + "'";
}

TEST(AuditCli, SampleInspectionsDrawsReproduciblyAndAppendsARecord) {
  const fs::path d = sampling_inputs("sample");
  const fs::path log = test_log("cli_sample");
  const Ran a = plumetrace_cmd(sample_args(d, log, 7) + " --json");
  ASSERT_EQ(a.code, 0) << a.err;
  json doc = json::parse(a.out);
  EXPECT_EQ(doc["seed"], 7);
  EXPECT_EQ(doc["population"], (json{{"A", 10}, {"B", 10}, {"C", 10}, {"D", 10}}));
  EXPECT_EQ(doc["drawn"].size(), 2u + 3u + 5u + 10u);
  for (const json& x : doc["drawn"]) {
    ASSERT_EQ(x["inspectors"].size(), 2u);
    EXPECT_NE(x["inspectors"][0], x["inspectors"][1]);
    if (x["facility_id"].get<std::string>() <= "F05") {
      EXPECT_NE(x["inspectors"][0], "I1");
      EXPECT_NE(x["inspectors"][1], "I1");
    }
  }
  EXPECT_EQ(doc["audit"]["seq"], 1);
  const json rec = audit::find_record(log, "1");
  EXPECT_EQ(rec["command"], "sample-inspections");
  EXPECT_EQ(rec["origin"], "cli");
  EXPECT_EQ(rec["seeds"]["draw"], 7);
  EXPECT_EQ(rec["parameters"]["rates"]["D"], 1.0);
  EXPECT_EQ(rec["inputs"].size(), 2u);
  EXPECT_EQ(rec["inputs"][0]["sha256"], audit::sha256_hex(slurp(d / "sources.csv")));
  doc.erase("audit");
  EXPECT_EQ(rec["result_sha256"], audit::json_sha256(doc));
  // the same seed: the same draw; the record replays
  const Ran b = plumetrace_cmd(sample_args(d, log, 7) + " --json");
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(json::parse(b.out)["drawn"], doc["drawn"]);
  const Ran rp = plumetrace_cmd("audit replay 1 --log '" + log.string() + "'");
  EXPECT_EQ(rp.code, 0) << rp.out << rp.err;
  EXPECT_NE(rp.out.find("match"), std::string::npos);
  const Ran ls = plumetrace_cmd("audit list --log '" + log.string() + "'");
  EXPECT_EQ(ls.code, 0);
  EXPECT_NE(ls.out.find("sample-inspections"), std::string::npos);
  EXPECT_NE(ls.out.find("seed 7"), std::string::npos);
  // a changed input: replay refuses (exit 1, naming the file)
  spit(d / "inspectors.csv", slurp(d / "inspectors.csv") + "I5,Sun,\n");
  const Ran changed = plumetrace_cmd("audit replay 1 --log '" + log.string() + "'");
  EXPECT_EQ(changed.code, 1);
  EXPECT_NE(changed.err.find("inspectors.csv"), std::string::npos) << changed.err;
  // fewer than two inspectors for a facility: a clear error, nothing recorded
  spit(d / "inspectors.csv", "id,name,exclude\nI1,Li,F07\nI2,Wang,\n");
  const Ran few = plumetrace_cmd(sample_args(d, log, 8));
  EXPECT_EQ(few.code, 2);
  EXPECT_NE(few.err.find("F07 (1)"), std::string::npos) << few.err;
  EXPECT_EQ(audit::verify(log).records, 2u);
  fs::remove_all(d);
}

TEST(AuditCli, VerifyExitsOneNamingTheBrokenRecordAndWarnsOnATornTail) {
  const fs::path d = sampling_inputs("verify");
  const fs::path log = test_log("cli_verify");
  for (int s = 1; s <= 3; ++s) ASSERT_EQ(plumetrace_cmd(sample_args(d, log, s)).code, 0);
  const std::string good = slurp(log);
  const Ran ok = plumetrace_cmd("audit verify --log '" + log.string() + "'");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("3 records verify"), std::string::npos) << ok.out;
  // edited: the second record's seed
  std::string edited = good;
  const std::size_t at = edited.find("\"draw\":2");
  ASSERT_NE(at, std::string::npos);
  edited.replace(at, 8, "\"draw\":9");
  spit(log, edited);
  const Ran bad = plumetrace_cmd("audit verify --log '" + log.string() + "'");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("record 2 (line 2) was edited"), std::string::npos) << bad.err;
  // torn tail: a warning, exit 0
  spit(log, good + "{\"seq\":4,\"prev\":\"");
  const Ran torn = plumetrace_cmd("audit verify --log '" + log.string() + "'");
  EXPECT_EQ(torn.code, 0) << torn.err;
  EXPECT_NE(torn.err.find("warning"), std::string::npos);
  EXPECT_NE(torn.out.find("3 records verify"), std::string::npos);
  // no log at all: not an empty success
  const Ran none = plumetrace_cmd("audit verify --log '" + (log.string() + ".none") + "'");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("no audit log at"), std::string::npos) << none.err;
  fs::remove_all(d);
}

TEST(AuditCli, TraceRecordsTheSameResultHashWhateverTheThreadsAndReplays) {
  const fs::path log = test_log("cli_trace");
  std::string first;
  for (int threads : {1, 2, 3}) {
    const Ran r = plumetrace_cmd("trace '" + kExample.string() + "' " + kWindow + " --json --threads " +
                                 std::to_string(threads) + " --audit-log '" + log.string() + "'");
    ASSERT_EQ(r.code, 0) << r.err;
    const json rec = audit::find_record(log, std::to_string(threads));
    EXPECT_EQ(rec["command"], "trace");
    EXPECT_EQ(rec["origin"], "cli");
    EXPECT_EQ(rec["case"], fs::absolute(kExample).lexically_normal().string());
    EXPECT_EQ(rec["parameters"]["threads"], threads);
    EXPECT_EQ(rec["parameters"]["temper"], "auto");
    EXPECT_EQ(rec["parameters"]["usual_emissions"], "auto");
    // auto traced it both ways and kept the model with the larger held-out log density
    const json ue = json::parse(r.out)["diagnostics"]["usual_emissions"];
    EXPECT_EQ(ue["mode"], "auto");
    ASSERT_TRUE(ue.contains("held_out_log_density")) << ue.dump();
    const json& hold = ue["held_out_log_density"];
    if (hold.contains("fit"))
      EXPECT_EQ(ue["modelled"].get<bool>(), hold["fit"].get<double>() > hold["off"].get<double>()) << ue.dump();
    else
      EXPECT_FALSE(ue["modelled"].get<bool>());
    EXPECT_EQ(rec["seeds"]["footprint_seed_base"], 1000);
    EXPECT_GE(rec["inputs"].size(), 4u);
    std::cout << "threads " << threads << ": result " << rec["result_sha256"].get<std::string>() << "\n";
    if (first.empty()) first = rec["result_sha256"];
    EXPECT_EQ(rec["result_sha256"], first) << "threads " << threads;
  }
  const Ran rp = plumetrace_cmd("audit replay 2 --log '" + log.string() + "'");
  EXPECT_EQ(rp.code, 0) << rp.out << rp.err;
  EXPECT_NE(rp.out.find("match"), std::string::npos) << rp.out;
  EXPECT_EQ(plumetrace_cmd("audit verify --log '" + log.string() + "'").code, 0);
  // a fixed tempering is recorded as given and replayed with it (not chosen again)
  const Ran fixed = plumetrace_cmd("trace '" + kExample.string() + "' " + kWindow + " --json --temper 0.25 --audit-log '" +
                                   log.string() + "'");
  ASSERT_EQ(fixed.code, 0) << fixed.err;
  const json fixed_rec = audit::find_record(log, "4");
  EXPECT_EQ(fixed_rec["parameters"]["temper"], 0.25);
  EXPECT_NE(fixed_rec["result_sha256"], first);  // another tempering, another result
  EXPECT_EQ(json::parse(fixed.out)["diagnostics"]["tempering"]["temper"], 0.25);
  const Ran rp4 = plumetrace_cmd("audit replay 4 --log '" + log.string() + "'");
  EXPECT_EQ(rp4.code, 0) << rp4.out << rp4.err;
  EXPECT_NE(rp4.out.find("match"), std::string::npos) << rp4.out;
  const Ran no_u = plumetrace_cmd("trace '" + kExample.string() + "' --usual-emissions sometimes");
  EXPECT_EQ(no_u.code, 2);
  EXPECT_NE(no_u.err.find("--usual-emissions is 'auto', 'fit' or 'off'"), std::string::npos) << no_u.err;
  for (const char* bad : {"0", "1.5", "half", "0.3x"}) {
    const Ran no_t = plumetrace_cmd("trace '" + kExample.string() + "' --temper " + bad);
    EXPECT_EQ(no_t.code, 2) << bad;
    EXPECT_NE(no_t.err.find("--temper is 'auto' or a number in (0, 1]"), std::string::npos) << no_t.err;
  }
  // an audit log that cannot be written fails the trace (exit 3) before it runs
  const fs::path blocker = test_log("cli_blocker");
  spit(blocker, "");
  const Ran no = plumetrace_cmd("trace '" + kExample.string() + "' " + kWindow + " --json --audit-log '" +
                                (blocker / "audit.log").string() + "'");
  EXPECT_EQ(no.code, 3) << no.err;
  EXPECT_TRUE(no.out.empty());
}

TEST(AuditCli, APlanRecordReplaysOnItsRankingAndRefusesAnEditedOne) {
  const fs::path log = test_log("cli_plan");
  const fs::path d = work_dir("plan");
  const Ran tr = plumetrace_cmd("trace '" + kExample.string() + "' " + kWindow + " --out '" + (d / "trace").string() +
                                "' --json --audit-log '" + log.string() + "'");
  ASSERT_EQ(tr.code, 0) << tr.err;
  const std::string ranking = (d / "trace" / "ranking.json").string();
  const Ran pl = plumetrace_cmd("plan '" + kExample.string() + "' --ranking '" + ranking + "' --out '" + (d / "plan").string() +
                                "' --start-point 120.03,28.90 --audit-log '" + log.string() + "'");
  ASSERT_EQ(pl.code, 0) << pl.err;
  const json rec = audit::find_record(log, "2");
  ASSERT_EQ(rec["command"], "plan");
  // the plan's own files are not inputs: the replay writes elsewhere and leaves them as they were
  const std::string plan_json = slurp(d / "plan" / "plan.json");
  const Ran rp = plumetrace_cmd("audit replay 2 --log '" + log.string() + "'");
  EXPECT_EQ(rp.code, 0) << rp.out << rp.err;
  EXPECT_NE(rp.out.find("replayed result " + rec["result_sha256"].get<std::string>()), std::string::npos) << rp.out;
  EXPECT_NE(rp.out.find("\nmatch\n"), std::string::npos) << rp.out;
  EXPECT_EQ(slurp(d / "plan" / "plan.json"), plan_json);
  // an edited ranking: nothing is re-run, and the file is named
  std::string edited = slurp(ranking);
  edited.insert(edited.find('{') + 1, "\"note\": \"edited\", ");
  spit(d / "trace" / "ranking.json", edited);
  const Ran changed = plumetrace_cmd("audit replay 2 --log '" + log.string() + "'");
  EXPECT_EQ(changed.code, 1) << changed.out;
  EXPECT_NE(changed.err.find("input differs: " + ranking + ": recorded "), std::string::npos) << changed.err;
  EXPECT_NE(changed.err.find("not re-run"), std::string::npos) << changed.err;
  // a ranking that is not there (--ranking, as for a service record): a clear error, exit 2
  const Ran no_case = plumetrace_cmd("audit replay 2 --log '" + log.string() + "' --ranking '" + (d / "missing.json").string() + "'");
  EXPECT_EQ(no_case.code, 2) << no_case.err;
  EXPECT_NE(no_case.err.find("missing.json does not exist"), std::string::npos) << no_case.err;
}

}  // namespace

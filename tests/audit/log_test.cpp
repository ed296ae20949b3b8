// The audit log: SHA-256, the hash chain, concurrent appends from two processes, a torn tail,
// and what verify finds in an edited, a removed and a reordered record.

#include "plumetrace/audit/log.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "plumetrace/audit/sha256.hpp"
#include "plumetrace/core/error.hpp"
#include "audit_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace plumetrace;
using plumetrace::test::slurp;
using plumetrace::test::spit;
using plumetrace::test::test_log;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

audit::RecordDraft draft(int i, const std::string& origin = "cli") {
  audit::RecordDraft d;
  d.command = "trace";
  d.origin = origin;
  d.inputs = json::array({{{"path", "readings.csv"}, {"sha256", audit::sha256_hex("x" + std::to_string(i))}, {"bytes", 2}}});
  d.parameters = {{"pollutant", "so2"}, {"i", i}};
  d.seeds = {{"footprint_seed_base", 1000}};
  d.result_sha256 = audit::sha256_hex("result " + std::to_string(i));
  return d;
}

fs::path log_with(const std::string& name, int n) {
  const fs::path p = test_log(name);
  for (int i = 1; i <= n; ++i) (void)audit::append(p, draft(i));
  return p;
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(audit::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(audit::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const fs::path p = test_log("sha256_file");
  spit(p, "abc");
  std::uintmax_t bytes = 0;
  EXPECT_EQ(audit::sha256_file(p, &bytes), audit::sha256_hex("abc"));
  EXPECT_EQ(bytes, 3u);
  EXPECT_THROW((void)audit::sha256_file(p.string() + ".missing"), InvalidInput);
}

TEST(AuditLog, AppendChainsRecordsOverTheBytesWritten) {
  const fs::path p = log_with("chain", 3);
  const auto lines = lines_of(slurp(p));
  ASSERT_EQ(lines.size(), 3u);
  std::string prev = audit::kGenesisHash;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const json d = json::parse(lines[i]);
    EXPECT_EQ(d["seq"], i + 1);
    EXPECT_EQ(d["prev"], prev);
    EXPECT_EQ(d["command"], "trace");
    EXPECT_TRUE(d.contains("version") && d.contains("time") && d.contains("inputs") && d.contains("parameters") &&
                d.contains("seeds") && d.contains("result_sha256"));
    // the hash is over the line as written, without its own hash field
    const std::string key = ",\"hash\":\"";
    const std::size_t at = lines[i].rfind(key);
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(d["hash"], audit::sha256_hex(lines[i].substr(0, at) + "}"));
    prev = d["hash"];
  }
  const auto rep = audit::verify(p);
  EXPECT_TRUE(rep.ok()) << rep.error->message;
  EXPECT_EQ(rep.records, 3u);
  EXPECT_EQ(rep.last_hash, prev);
  EXPECT_FALSE(rep.torn_tail);
  EXPECT_EQ(audit::find_record(p, "2")["seq"], 2);
  EXPECT_EQ(audit::find_record(p, prev.substr(0, 10))["seq"], 3);
  EXPECT_THROW((void)audit::find_record(p, "9"), NotFound);
}

TEST(AuditLog, TwoProcessesAppendingConcurrentlyNeverCorruptTheLog) {
  const fs::path p = test_log("concurrent");
  constexpr int kPerProcess = 200;
  std::vector<pid_t> kids;
  for (int k = 0; k < 2; ++k) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        // four threads per process, 50 appends each: contention within and across processes
        std::vector<std::thread> ts;
        for (int t = 0; t < 4; ++t)
          ts.emplace_back([&, t] {
            for (int i = 0; i < kPerProcess / 4; ++i) (void)audit::append(p, draft(t * 1000 + i, k == 0 ? "cli" : "serve"));
          });
        for (auto& t : ts) t.join();
      } catch (...) {
        code = 1;
      }
      std::_Exit(code);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const auto rep = audit::verify(p);
  EXPECT_TRUE(rep.ok()) << rep.error->message;
  EXPECT_EQ(rep.records, 2u * kPerProcess);
  EXPECT_FALSE(rep.torn_tail);
  std::map<std::string, int> per_origin;
  for (const json& r : audit::read_records(p)) ++per_origin[r["origin"].get<std::string>()];
  EXPECT_EQ(per_origin["cli"], kPerProcess);
  EXPECT_EQ(per_origin["serve"], kPerProcess);
  std::cout << "2 processes x " << kPerProcess << " appends: " << rep.records << " records verify\n";
}

TEST(AuditLog, ATornTailVerifiesUpToTheLastCompleteRecordAndTheNextAppendRemovesIt) {
  const fs::path p = log_with("torn", 3);
  const std::string whole = slurp(p);
  // a crash mid-append: half of a fourth record, no line end
  const std::string fourth = audit::seal(json{{"seq", 4}, {"prev", "x"}}.dump());
  spit(p, whole + fourth.substr(0, fourth.size() / 2));
  auto rep = audit::verify(p);
  EXPECT_TRUE(rep.ok());
  EXPECT_EQ(rep.records, 3u);
  ASSERT_TRUE(rep.torn_tail);
  EXPECT_EQ(rep.torn_tail->line, 4u);
  const auto rec = audit::append(p, draft(4));
  EXPECT_EQ(rec.seq, 4u);
  rep = audit::verify(p);
  EXPECT_TRUE(rep.ok()) << rep.error->message;
  EXPECT_EQ(rep.records, 4u);
  EXPECT_FALSE(rep.torn_tail);
  EXPECT_EQ(slurp(p).rfind(whole, 0), 0u);  // the complete records untouched
  // a log that is nothing but a torn line
  const fs::path q = test_log("torn_only");
  spit(q, "{\"seq\":1,\"pr");
  EXPECT_TRUE(audit::verify(q).ok());
  EXPECT_EQ(audit::append(q, draft(1)).seq, 1u);
  EXPECT_EQ(audit::verify(q).records, 1u);
}

TEST(AuditLog, VerifyNamesAnEditedRecord) {
  const fs::path p = log_with("edited", 4);
  auto lines = lines_of(slurp(p));
  const std::size_t at = lines[1].find("\"so2\"");
  ASSERT_NE(at, std::string::npos);
  lines[1].replace(at, 5, "\"no2\"");
  spit(p, join(lines));
  const auto rep = audit::verify(p);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error->line, 2u);
  EXPECT_EQ(rep.error->seq, 2u);
  EXPECT_NE(rep.error->message.find("record 2 (line 2) was edited"), std::string::npos) << rep.error->message;
  EXPECT_EQ(rep.records, 1u);
}

TEST(AuditLog, VerifyNamesAnEditedRecordWhoseHashWasRecomputed) {
  const fs::path p = log_with("resealed", 4);
  auto lines = lines_of(slurp(p));
  json d = json::parse(lines[1]);
  d.erase("hash");
  d["result_sha256"] = audit::sha256_hex("forged");
  std::string resealed = audit::seal(d.dump());
  resealed.pop_back();
  lines[1] = resealed;
  spit(p, join(lines));
  const auto rep = audit::verify(p);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error->line, 3u);
  EXPECT_NE(rep.error->message.find("does not chain to record 2 (line 2)"), std::string::npos) << rep.error->message;
}

TEST(AuditLog, VerifyNamesARemovedRecord) {
  const fs::path p = log_with("removed", 4);
  auto lines = lines_of(slurp(p));
  lines.erase(lines.begin() + 1);
  spit(p, join(lines));
  const auto rep = audit::verify(p);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error->line, 2u);
  EXPECT_NE(rep.error->message.find("record 2 removed"), std::string::npos) << rep.error->message;
  // the first record removed
  lines = lines_of(slurp(log_with("removed_first", 3)));
  lines.erase(lines.begin());
  const fs::path q = test_log("removed_first");
  spit(q, join(lines));
  const auto rq = audit::verify(q);
  ASSERT_FALSE(rq.ok());
  EXPECT_NE(rq.error->message.find("record 1 removed"), std::string::npos) << rq.error->message;
}

TEST(AuditLog, VerifyNamesReorderedRecords) {
  const fs::path p = log_with("reordered", 4);
  auto lines = lines_of(slurp(p));
  std::swap(lines[1], lines[2]);
  spit(p, join(lines));
  const auto rep = audit::verify(p);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error->line, 2u);
  EXPECT_NE(rep.error->message.find("record 3 (line 2) is out of order"), std::string::npos) << rep.error->message;
}

TEST(AuditLog, AppendRefusesToChainToALastLineThatIsNoRecord) {
  const fs::path p = log_with("garbage", 2);
  spit(p, slurp(p) + "not a record\n");
  EXPECT_THROW((void)audit::append(p, draft(3)), InvalidInput);
  EXPECT_FALSE(audit::verify(p).ok());
}

TEST(AuditLog, AnUnwritableLogIsUnavailable) {
  const fs::path p = test_log("unwritable");
  spit(p, "");
  EXPECT_THROW(audit::check_writable(p / "sub" / "audit.log"), Unavailable);  // a file as a folder
  EXPECT_THROW((void)audit::append(p / "sub" / "audit.log", draft(1)), Unavailable);
}

TEST(AuditLog, DefaultPathPrecedence) {
  const char* saved = std::getenv("PLUMETRACE_AUDIT_LOG");
  const std::string keep = saved ? saved : "";
  ::setenv("PLUMETRACE_AUDIT_LOG", "/tmp/a/audit.log", 1);
  ::setenv("XDG_DATA_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(audit::default_log_path(), fs::path("/tmp/a/audit.log"));
  EXPECT_EQ(audit::resolve_log_path("/tmp/opt.log"), fs::path("/tmp/opt.log"));
  ::unsetenv("PLUMETRACE_AUDIT_LOG");
  EXPECT_EQ(audit::default_log_path(), fs::path("/tmp/xdg/plumetrace/audit.log"));
  ::unsetenv("XDG_DATA_HOME");
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(audit::default_log_path(), fs::path("/home/someone/.local/share/plumetrace/audit.log"));
  if (saved) ::setenv("PLUMETRACE_AUDIT_LOG", keep.c_str(), 1);
}

}  // namespace

/// @file twin_sim_test.cpp
/// The independent twin simulator (tools/plumetrace-twin, docs/twins.md): its puff train agrees
/// with the analytic steady plume and carries the emitted flux (--self-check); incidents are
/// deterministic per arguments; the case folder and truth.json have what the evaluation harness
/// (scripts/twin-eval.py) reads; nothing in the registry marks the culprit. A few seconds in all.

#include <gtest/gtest.h>

#include <unistd.h>

#include <map>
#include <set>
#include <sstream>

#include "harness.hpp"

namespace plumetrace::accuracy {
namespace {

/// plumetrace-twin beside the tracer (override with PLUMETRACE_TWIN).
fs::path twin_path() {
  if (const char* env = std::getenv("PLUMETRACE_TWIN"); env != nullptr && *env != '\0') return env;
  return fs::path(PLUMETRACE_BINARY).parent_path() / "plumetrace-twin";
}

/// A scratch folder removed at the end of the test unless it failed.
struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("plumetrace-twintest-" + std::to_string(::getpid()) + "-" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  Scratch() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    if (!::testing::Test::HasFailure()) fs::remove_all(dir, ec);
  }
  /// Run plumetrace-twin with `args` into dir/name; its exit status.
  [[nodiscard]] int twin(const std::string& args, const std::string& name) const {
    const std::string cmd = shell_quote(twin_path().string()) + " " + args + " --out " + shell_quote((dir / name).string());
    return run_command(cmd, dir / (name + ".stderr")).exit_code;
  }
  [[nodiscard]] nlohmann::json truth(const std::string& name) const {
    return nlohmann::json::parse(read_text(dir / name / "truth.json"));
  }
};

#define REQUIRE_TWIN() \
  if (!fs::exists(twin_path())) GTEST_SKIP() << "plumetrace-twin not built: " << twin_path()

TEST(TwinSimulator, SelfCheckPuffsMatchTheSteadyPlumeAndCarryTheFlux) {
  REQUIRE_TWIN();
  const CommandResult r = run_command(shell_quote(twin_path().string()) + " --self-check");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("self-check passed"), std::string::npos) << r.out;
}

TEST(TwinSimulator, DeterministicPerArgumentsAndTheWindowModeChangesOnlyTheWindow) {
  REQUIRE_TWIN();
  const Scratch s;
  ASSERT_EQ(s.twin("--kind field --seed 7", "a"), 0);
  ASSERT_EQ(s.twin("--kind field --seed 7", "b"), 0);
  ASSERT_EQ(s.twin("--kind field --seed 8", "c"), 0);
  ASSERT_EQ(s.twin("--kind field --seed 7 --window none", "d"), 0);
  for (const char* f : {"case/readings.csv", "case/sources.csv", "case/stations.csv", "truth.json"})
    EXPECT_EQ(read_text(s.dir / "a" / f), read_text(s.dir / "b" / f)) << f;
  EXPECT_NE(read_text(s.dir / "a" / "case/readings.csv"), read_text(s.dir / "c" / "case/readings.csv"));
  EXPECT_EQ(read_text(s.dir / "a" / "case/readings.csv"), read_text(s.dir / "d" / "case/readings.csv"));
  EXPECT_TRUE(s.truth("d").at("window").is_null());
  EXPECT_EQ(s.truth("d").at("given_window"), s.truth("a").at("window"));
}

TEST(TwinSimulator, FieldCampaignHasOneTenMinuteMeanPerSamplerAndAMast) {
  REQUIRE_TWIN();
  const Scratch s;
  ASSERT_EQ(s.twin("--kind field --seed 3", "f"), 0);
  const nlohmann::json t = s.truth("f");
  ASSERT_EQ(t.at("culprits").size(), 1u);
  EXPECT_NE(t["culprits"][0].at("id"), "UNLISTED");
  EXPECT_EQ(registry_ids(s.dir / "f" / "case").size(), 7u);  // the release and six decoys
  std::istringstream in(read_text(s.dir / "f" / "case" / "readings.csv"));
  std::string line;
  std::map<std::string, int> per_sampler;
  std::set<std::string> mast_variables;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const auto c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1);
    const std::string id = line.substr(0, c1), variable = line.substr(c2 + 1, c3 - c2 - 1);
    EXPECT_EQ(line.substr(line.rfind(',') + 1), "PT10M") << line;
    if (id.rfind("MAST", 0) == 0) mast_variables.insert(variable);
    else ++per_sampler[id];
  }
  EXPECT_GE(per_sampler.size(), 35u);
  for (const auto& [id, n] : per_sampler) EXPECT_EQ(n, 1) << id;
  for (const char* v : {"wind_speed", "wind_dir", "wind_dir_std", "obukhov_length", "friction_velocity", "mixing_height"})
    EXPECT_TRUE(mast_variables.count(v)) << v;
  // the registry's columns say nothing about which point is the release
  std::set<std::string> industries;
  std::istringstream reg(read_text(s.dir / "f" / "case" / "sources.csv"));
  std::getline(reg, line);
  while (std::getline(reg, line)) {
    std::istringstream cells(line);
    std::string cell;
    for (int column = 0; column <= 5; ++column) std::getline(cells, cell, ',');  // id,name,lon,lat,height_m,industry
    industries.insert(cell);
  }
  EXPECT_EQ(industries.size(), 1u);
}

TEST(TwinSimulator, NothingReleasedAndUnregisteredCulpritsHaveTheirTruth) {
  REQUIRE_TWIN();
  const Scratch s;
  ASSERT_EQ(s.twin("--kind none --seed 2 --registry 25", "none"), 0);
  ASSERT_EQ(s.twin("--kind field-noreg --seed 2", "noreg"), 0);
  const nlohmann::json none = s.truth("none"), noreg = s.truth("noreg");
  EXPECT_TRUE(none.at("culprits").empty());
  EXPECT_TRUE(none.at("release").is_null());
  EXPECT_EQ(none.at("window").size(), 2u);  // the analyst still asks about a period
  EXPECT_EQ(none.at("registry_size"), 25);
  EXPECT_EQ(registry_ids(s.dir / "none" / "case").size(), 25u);
  EXPECT_TRUE(fs::exists(s.dir / "none" / "case" / "traces" / "car_01.csv"));
  ASSERT_EQ(noreg.at("culprits").size(), 1u);
  EXPECT_EQ(noreg["culprits"][0].at("id"), "UNLISTED");
  EXPECT_TRUE(registry_ids(s.dir / "noreg" / "case").empty());
  EXPECT_GT(noreg["culprits"][0].at("q_g_s").get<double>(), 0.0);
}

}  // namespace
}  // namespace plumetrace::accuracy

/// @file sim_test.cpp
/// The twin-experiment simulator itself (tools/plumetrace-sim): deterministic per seed, writes
/// the case-folder formats of CONTRACT.md §1 and a truth.json that means what it says (kinds,
/// counties, cross-border flags). Small domains and short windows keep these fast.

#include <gtest/gtest.h>

#include <unistd.h>

#include <set>

#include "../support/temp_dir.hpp"
#include "harness.hpp"

namespace plumetrace::accuracy {
namespace {

class SimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(sim_path())) GTEST_SKIP() << "simulator not built: " << sim_path();
    root_ = testing_support::fresh_temp_dir(std::string("plumetrace-simtest-") +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(root_, ec);
  }
  /// Run the simulator with `args` into root_/name; returns its exit status.
  int sim(const std::string& args, const std::string& name) {
    return run_command(shell_quote(sim_path().string()) + " " + args + " --out " + shell_quote((root_ / name).string()),
                       root_ / (name + ".stderr"))
        .exit_code;
  }
  nlohmann::json truth(const std::string& name) { return nlohmann::json::parse(read_text(root_ / name / "truth.json")); }
  std::vector<std::vector<std::string>> csv(const fs::path& p) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(read_text(p));
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> cells;
      std::istringstream ls(line);
      std::string cell;
      while (std::getline(ls, cell, ',')) cells.push_back(cell);
      rows.push_back(cells);
    }
    return rows;
  }
  fs::path root_;
};

constexpr const char* kSmall = " --scale-m 2000 --hours 6 --sources 6 --stations 5";

TEST_F(SimulatorTest, SameSeedSameFilesOtherSeedOtherFiles) {
  ASSERT_EQ(sim(std::string("--kind single --seed 42") + kSmall, "a"), 0);
  ASSERT_EQ(sim(std::string("--kind single --seed 42") + kSmall, "b"), 0);
  ASSERT_EQ(sim(std::string("--kind single --seed 43") + kSmall, "c"), 0);
  for (const char* f : {"case/readings.csv", "case/sources.csv", "case/stations.csv", "case/traces/car_01.csv", "truth.json"})
    EXPECT_EQ(read_text(root_ / "a" / f), read_text(root_ / "b" / f)) << f;
  EXPECT_NE(read_text(root_ / "a" / "case/readings.csv"), read_text(root_ / "c" / "case/readings.csv"));
}

TEST_F(SimulatorTest, SingleWritesTheContractFormats) {
  ASSERT_EQ(sim(std::string("--kind single --seed 7") + kSmall, "s"), 0);
  const fs::path c = root_ / "s" / "case";
  const auto sources = csv(c / "sources.csv");
  const auto stations = csv(c / "stations.csv");
  const auto readings = csv(c / "readings.csv");
  const auto car = csv(c / "traces" / "car_01.csv");
  ASSERT_EQ(sources.size(), 7u);  // header + 6
  EXPECT_EQ(sources[0], (std::vector<std::string>{"id", "name", "lon", "lat", "height_m", "industry", "pollutants"}));
  ASSERT_EQ(stations.size(), 6u);
  EXPECT_EQ(stations[0], (std::vector<std::string>{"id", "name", "lon", "lat", "height_m"}));
  EXPECT_EQ(readings[0], (std::vector<std::string>{"station_id", "time", "variable", "value", "unit"}));
  EXPECT_EQ(car[0], (std::vector<std::string>{"time", "lon", "lat", "so2"}));
  // 6 hourly periods: 5 so2 rows + 2 met stations x 4 variables per period
  EXPECT_EQ(readings.size(), 1u + 6 * (5 + 8));
  std::set<std::string> variables;
  for (std::size_t i = 1; i < readings.size(); ++i) {
    ASSERT_EQ(readings[i].size(), 5u);
    variables.insert(readings[i][2]);
    EXPECT_EQ(readings[i][1].substr(19), "+08:00") << readings[i][1];
    EXPECT_GE(std::stod(readings[i][3]), 0.0);
  }
  EXPECT_EQ(variables, (std::set<std::string>{"so2", "wind_speed", "wind_dir", "temperature", "cloud_cover"}));
  EXPECT_GT(car.size(), 100u);

  const nlohmann::json t = truth("s");
  EXPECT_EQ(t["kind"], "single");
  EXPECT_EQ(t["seed"], 7);
  ASSERT_EQ(t["sources"].size(), 1u);
  const std::string id = t["sources"][0]["id"];
  bool listed = false;
  for (const auto& row : sources) listed = listed || row[0] == id;
  EXPECT_TRUE(listed) << id;
  // 2 km domain: rates scaled by (2/15)^2 from 15-60 g/s
  const double q = t["sources"][0]["q_g_s"];
  EXPECT_GE(q, 15.0 * 0.0177);
  EXPECT_LE(q, 60.0 * 0.0178);
  EXPECT_EQ(t["sources"][0]["county"], "330784");  // around Yongkang
  EXPECT_EQ(t["sources"][0]["county_name"], "永康市");
  EXPECT_EQ(t["window"].size(), 2u);
  EXPECT_LT(t["data_window"][0].get<std::string>(), t["window"][0].get<std::string>());
  const nlohmann::json cj = nlohmann::json::parse(read_text(c / "case.json"));
  EXPECT_TRUE(fs::exists(c / cj["boundaries"]["file"].get<std::string>())) << cj.dump();
}

TEST_F(SimulatorTest, BorderCulpritIsInAnotherCountyThanEveryReceptor) {
  ASSERT_EQ(sim("--kind border --seed 11 --scale-m 15000 --hours 8 --county-pair 331122,330784", "b"), 0);
  const nlohmann::json t = truth("b");
  ASSERT_EQ(t["sources"].size(), 1u);
  EXPECT_EQ(t["sources"][0]["county"], "331122");
  EXPECT_EQ(t["receptor_counties"], nlohmann::json::array({"330784"}));
  EXPECT_EQ(t["station_counties"], nlohmann::json::array({"330784"}));
  EXPECT_TRUE(t["sources"][0]["cross_border"].get<bool>());
  EXPECT_TRUE(t["cross_border"].get<bool>());
}

TEST_F(SimulatorTest, UnlistedCulpritIsNotInTheRegistryAndPairsAreApart) {
  ASSERT_EQ(sim(std::string("--kind unlisted --seed 5") + kSmall, "u"), 0);
  const nlohmann::json u = truth("u");
  EXPECT_EQ(u["sources"][0]["id"], "UNLISTED");
  for (const auto& row : csv(root_ / "u" / "case" / "sources.csv")) EXPECT_NE(row[0], "UNLISTED");

  ASSERT_EQ(sim(std::string("--kind pair --seed 5") + kSmall, "p"), 0);
  const nlohmann::json p = truth("p");
  ASSERT_EQ(p["sources"].size(), 2u);
  const double d = distance_m(p["sources"][0]["lon"], p["sources"][0]["lat"], p["sources"][1]["lon"], p["sources"][1]["lat"]);
  EXPECT_GT(d, 1100.0 * 2000 / 15000);  // > 1.1 km at the default scale, scaled
  EXPECT_NE(p["sources"][0]["id"], p["sources"][1]["id"]);
}

TEST_F(SimulatorTest, MetreScaleExperimentUsesTenMinuteMeans) {
  ASSERT_EQ(sim("--kind single --seed 3 --scale-m 50 --hours 2 --sources 5 --stations 5", "m"), 0);
  const auto readings = csv(root_ / "m" / "case" / "readings.csv");
  EXPECT_EQ(readings[0].back(), "period");
  EXPECT_EQ(readings[1].back(), "PT10M");
  EXPECT_EQ(readings.size(), 1u + 12 * (5 + 8));  // 2 h of 10-minute periods
  const nlohmann::json t = truth("m");
  EXPECT_EQ(t["averaging"], "PT10M");
  EXPECT_LT(t["sources"][0]["q_g_s"].get<double>(), 0.01);  // a tracer release, grams per second scaled
}

TEST_F(SimulatorTest, PuffTrainConservesMassLikeTheSteadyPlume) {
  // steady uniform wind, class D: the puff model must reproduce the analytic Gaussian plume
  // within 10 % at 0.5, 1 and 2 km (it does to about 0.1 %)
  const CommandResult r = run_command(shell_quote(sim_path().string()) + " --self-check");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("x = 2000 m"), std::string::npos) << r.out;
}

TEST_F(SimulatorTest, SigmaThetaIsOptionalAndLeavesEverythingElseAlone) {
  ASSERT_EQ(sim(std::string("--kind single --seed 42") + kSmall, "plain"), 0);
  ASSERT_EQ(sim(std::string("--kind single --seed 42 --sigma-theta") + kSmall, "st"), 0);
  const auto plain = csv(root_ / "plain" / "case" / "readings.csv");
  std::vector<std::vector<std::string>> rest;
  int n_std = 0;
  for (const auto& row : csv(root_ / "st" / "case" / "readings.csv")) {
    if (row.size() > 3 && row[2] == "wind_dir_std") {
      ++n_std;
      EXPECT_GT(std::stod(row[3]), 0.5);  // the meander alone is a few degrees
      EXPECT_LT(std::stod(row[3]), 40.0);
    } else {
      rest.push_back(row);
    }
  }
  EXPECT_EQ(n_std, 6 * 2);  // 6 hours x 2 met stations
  EXPECT_EQ(rest, plain);
}

TEST_F(SimulatorTest, RejectsBadArguments) {
  EXPECT_EQ(sim("--kind sideways --seed 1", "x"), 2);
  EXPECT_EQ(sim("--kind single --seed 1 --scale-m 5", "x"), 2);
  EXPECT_EQ(sim("--kind single --seed 1 --averaging PT7M", "x"), 2);
}

}  // namespace
}  // namespace plumetrace::accuracy

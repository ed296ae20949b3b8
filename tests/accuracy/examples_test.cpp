/// @file examples_test.cpp
/// Acceptance on the three shared example incidents (tests/data/examples, see its README): the
/// real `plumetrace trace` executable must rank the true culprit first, estimate its rate within
/// a factor of 2, publish a proper probability distribution over the whole registry plus the
/// unlisted hypothesis, and put the culprit in its true county.

#include <gtest/gtest.h>

#include <string>

#include "../support/temp_dir.hpp"
#include "harness.hpp"

namespace plumetrace::accuracy {
namespace {

class ExampleIncident : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleIncident, TraceFindsTheCulpritItsRateAndCounty) {
  const fs::path dir = fs::path(PLUMETRACE_TEST_DATA) / "examples" / GetParam();
  ASSERT_TRUE(fs::exists(dir / "truth.json")) << dir;
  ASSERT_TRUE(fs::exists(tracer_path())) << "tracer not built: " << tracer_path();
  const nlohmann::json truth = nlohmann::json::parse(read_text(dir / "truth.json"));
  const fs::path case_dir = dir / "case";
  const fs::path log = fs::temp_directory_path() / ("plumetrace-example-" + GetParam() + ".stderr");
  testing_support::register_for_cleanup(log);

  const std::string cmd = shell_quote(tracer_path().string()) + " trace " + shell_quote(case_dir.string()) + " --start " +
                          shell_quote(truth["window"][0].get<std::string>()) + " --end " +
                          shell_quote(truth["window"][1].get<std::string>()) + " --json";
  const CommandResult r = run_command("timeout 600 " + cmd, log);
  ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << read_text(log);
  nlohmann::json doc;
  ASSERT_NO_THROW(doc = nlohmann::json::parse(r.out)) << "stdout is not JSON:\n" << r.out.substr(0, 500);

  const Score s = score_ranking(truth, r.out, registry_ids(case_dir));
  ASSERT_TRUE(s.ran) << s.error;
  ASSERT_EQ(s.culprit_rank.size(), 1u);
  const std::string culprit = truth["sources"][0]["id"];
  const double q = truth["sources"][0]["q_g_s"];
  EXPECT_EQ(s.culprit_rank[0], 1) << "culprit " << culprit << " ranked " << s.culprit_rank[0] << ", first is " << s.top_id;
  EXPECT_GE(s.rate_ratio[0], 0.5) << "rate estimate / truth (" << q << " g/s)";
  EXPECT_LE(s.rate_ratio[0], 2.0) << "rate estimate / truth (" << q << " g/s)";
  EXPECT_NEAR(s.probability_sum, 1.0, 1e-6) << "candidate probabilities + unlisted + no_release must sum to 1";
  EXPECT_TRUE(s.registry_complete) << "every sources.csv entry must be a candidate";
  EXPECT_EQ(doc["candidates"].size(), registry_ids(case_dir).size());
  EXPECT_TRUE(s.county_mismatch.empty()) << s.county_mismatch.front();
  // candidates sorted by probability, descending, ranks 1..n
  double previous = 2.0;
  int rank = 0;
  for (const auto& c : doc["candidates"]) {
    EXPECT_LE(c["probability"].get<double>(), previous + 1e-12);
    previous = c["probability"].get<double>();
    EXPECT_EQ(c.value("rank", -1), ++rank);
  }
}

INSTANTIATE_TEST_SUITE_P(SharedExamples, ExampleIncident,
                         ::testing::Values("example-101", "example-102", "example-103"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace plumetrace::accuracy

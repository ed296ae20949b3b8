// The alert rules (include/plumetrace/server/alerts.hpp): parsing, the robust score, period means,
// and the false-alert rate of the default score on simulated readings.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "plumetrace/server/alerts.hpp"

namespace {

using namespace plumetrace::server;
using nlohmann::json;

std::string field_of(const json& doc) {
  try {
    (void)parse_alert_rules(doc);
  } catch (const InvalidAlertRules& e) {
    return e.field();
  }
  return "";
}

TEST(AlertRules, ParseTheContractShape) {
  const AlertRules r = parse_alert_rules(json::parse(
      R"({"rules": [{"pollutant": "SO2", "period": "PT1H", "threshold": 150.0}], "anomaly": {"pollutant": "so2", "score": 5.0}})"));
  ASSERT_EQ(r.rules.size(), 1u);
  EXPECT_EQ(r.rules[0].pollutant, "so2");
  EXPECT_EQ(r.rules[0].period_s, 3600.0);
  EXPECT_EQ(r.rules[0].threshold, 150.0);
  ASSERT_TRUE(r.anomaly);
  EXPECT_EQ(r.anomaly->score, 5.0);
  const AlertRules d = parse_alert_rules(json::parse(R"({"anomaly": {"pollutant": "no2"}})"));
  EXPECT_TRUE(d.rules.empty());
  EXPECT_EQ(d.anomaly->score, kDefaultAnomalyScore);
  EXPECT_EQ(to_json(d)["anomaly"]["score"], kDefaultAnomalyScore);
  EXPECT_EQ(parse_alert_rules(to_json(r)).rules[0].period, "PT1H");  // round trip
}

TEST(AlertRules, BadRulesNameTheField) {
  EXPECT_EQ(field_of(json::array()), "(body)");
  EXPECT_EQ(field_of(json::parse(R"({"rules": {}})")), "rules");
  EXPECT_EQ(field_of(json::parse(R"({"rulez": []})")), "rulez");
  EXPECT_EQ(field_of(json::parse(R"({"rules": [{"pollutant": "so2", "period": "PT1H", "threshold": 1}, 3]})")), "rules[1]");
  EXPECT_EQ(field_of(json::parse(R"({"rules": [{"period": "PT1H", "threshold": 1}]})")), "rules[0].pollutant");
  EXPECT_EQ(field_of(json::parse(R"({"rules": [{"pollutant": "so2", "period": "1 hour", "threshold": 1}]})")), "rules[0].period");
  EXPECT_EQ(field_of(json::parse(R"({"rules": [{"pollutant": "so2", "period": "PT1S", "threshold": 1}]})")), "rules[0].period");
  EXPECT_EQ(field_of(json::parse(R"({"rules": [{"pollutant": "so2", "period": "P1M", "threshold": 1}]})")), "rules[0].period");
  EXPECT_EQ(field_of(json::parse(R"({"rules": [{"pollutant": "so2", "period": "PT1H", "threshold": "150"}]})")), "rules[0].threshold");
  EXPECT_EQ(field_of(json::parse(R"({"rules": [{"pollutant": "so2", "period": "PT1H", "threshold": 1, "unit": "x"}]})")), "rules[0].unit");
  EXPECT_EQ(field_of(json::parse(R"({"anomaly": {"pollutant": "so2", "score": -1}})")), "anomaly.score");
  EXPECT_EQ(field_of(json::parse(R"({"anomaly": {"pollutant": ""}})")), "anomaly.pollutant");
  EXPECT_EQ(field_of(json::parse(R"({"anomaly": 5})")), "anomaly");
}

TEST(AlertRules, RobustZ) {
  std::vector<double> base(11, 10.0);
  EXPECT_FALSE(robust_z(100.0, base));  // fewer than kMinBaselineReadings
  base = {8, 9, 10, 10, 11, 12, 9, 10, 11, 10, 9, 11};  // median 10, MAD 1
  EXPECT_NEAR(*robust_z(10.0 + 8 * kMadToSigma, base), 8.0, 1e-12);
  EXPECT_NEAR(*robust_z(10.0, base), 0.0, 1e-12);
  const std::vector<double> flat(24, 20.0);  // MAD 0: floored at 5 % of the median
  EXPECT_NEAR(*robust_z(21.0, flat), 1.0 / (kMadToSigma * kMadFloorFractionOfMedian * 20.0), 1e-12);
  EXPECT_FALSE(robust_z(1.0, std::vector<double>(24, 0.0)));
}

TEST(AlertRules, PeriodMeanNeedsThreeQuartersOfThePeriod) {
  const double t0 = 1627480800.0;
  std::vector<StoredReading> hourly;
  for (int h = 0; h < 24; ++h) hourly.push_back({"M01", t0 + 3600.0 * h, "so2", double(h), "", std::nullopt});
  PeriodMean day = period_mean(hourly, t0, 86400.0);
  EXPECT_EQ(day.count, 24u);
  EXPECT_DOUBLE_EQ(day.capture, 1.0);
  EXPECT_DOUBLE_EQ(day.mean, 11.5);
  hourly.resize(17);  // 17 of 24 hours: below 75 %
  day = period_mean(hourly, t0, 86400.0);
  EXPECT_LT(day.capture, kMinDataCapture);
  hourly.push_back({"M01", t0 + 3600.0 * 17, "so2", 17.0, "", std::nullopt});
  EXPECT_GE(period_mean(hourly, t0, 86400.0).capture, kMinDataCapture);  // 18 of 24
  // hourly means that start at half past cover an hour half each
  const std::vector<StoredReading> offset = {{"M01", t0 - 1800, "so2", 10.0, "", 3600.0},
                                             {"M01", t0 + 1800, "so2", 30.0, "", 3600.0}};
  const PeriodMean h = period_mean(offset, t0, 3600.0);
  EXPECT_DOUBLE_EQ(h.capture, 1.0);
  EXPECT_DOUBLE_EQ(h.mean, 20.0);
  // one 10-minute sample is not an hourly mean
  const std::vector<StoredReading> one = {{"M01", t0, "so2", 500.0, "", 600.0}};
  EXPECT_LT(period_mean(one, t0, 3600.0).capture, kMinDataCapture);
}

/// The false-alert rate of the robust score on clean data: hourly log-normal readings (no plume),
/// the previous 24 as baseline. alerts.hpp quotes these numbers next to kDefaultAnomalyScore.
TEST(AlertRules, FalseAlertRateOnLogNormalReadings) {
  constexpr int kReadings = 200000;
  for (const double log_sd : {0.5, 1.0}) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(std::log(10.0), log_sd);
    std::vector<double> x(kReadings + 24);
    for (double& v : x) v = dist(rng);
    int over8 = 0, over5 = 0;
    for (int i = 24; i < kReadings + 24; ++i) {
      const auto z = robust_z(x[i], std::span<const double>(x.data() + i - 24, 24));
      ASSERT_TRUE(z);
      over8 += *z >= kDefaultAnomalyScore;
      over5 += *z >= 5.0;
    }
    const double rate8 = double(over8) / kReadings, rate5 = double(over5) / kReadings;
    std::printf("log-sd %.1f: false alerts per reading at score 8: %.2e (%d), at score 5: %.2e (%d)\n", log_sd, rate8,
                over8, rate5, over5);
    // the bounds alerts.hpp states
    EXPECT_LT(rate8, log_sd == 0.5 ? 5e-3 : 5e-2);
    EXPECT_LT(rate8, rate5 / 2);
  }
}

}  // namespace

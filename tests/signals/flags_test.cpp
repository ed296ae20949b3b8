// Each flag kind on a synthetic record, and the records that must NOT raise it.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "plumetrace/core/tuning.hpp"
#include "plumetrace/signals/flags.hpp"

namespace plumetrace {
namespace {

constexpr EpochSeconds kT0 = 1.6e9;   // record start
constexpr double kH = 3600.0;

/// 48 hourly samples of both circuits: production 800 kW (+/- a little), treatment 120 kW.
MonitoringTables normal_power(const std::string& id = "F1") {
  MonitoringTables t;
  for (int h = 0; h < 48; ++h) {
    t.power.push_back({id, kT0 + h * kH, PowerCircuit::Production, 800.0 + 10 * (h % 3), 0});
    t.power.push_back({id, kT0 + h * kH, PowerCircuit::Treatment, 120.0 + (h % 2), 0});
  }
  return t;
}

/// 48 hourly so2 values of a noisy, compliant analyser (limit 200).
void add_normal_cems(MonitoringTables& t, const std::string& id = "F1") {
  for (int h = 0; h < 48; ++h)
    t.cems.push_back({id, kT0 + h * kH, "so2", 100.0 + 17.0 * std::sin(h * 1.7) + 0.1 * h, "mg/m3", 200.0, 0});
}

PowerRow& power_at(MonitoringTables& t, int hour, PowerCircuit c) {
  return *std::find_if(t.power.begin(), t.power.end(),
                       [&](const PowerRow& r) { return r.time_s == kT0 + hour * kH && r.circuit == c; });
}

std::vector<std::string> kinds(const FacilitySignals& s) {
  std::vector<std::string> k;
  for (const auto& f : s.flags) k.push_back(f.kind);
  return k;
}

TEST(Signals, NormalOperationRaisesNothing) {
  MonitoringTables t = normal_power();
  add_normal_cems(t);
  t.mandates.push_back({"F1", kT0 + 60 * kH, kT0 + 70 * kH, MandateKind::Shutdown, 2});  // after the record
  const auto s = facility_signals(t, "F1", kT0 + 20 * kH, kT0 + 24 * kH);
  EXPECT_TRUE(s.flags.empty()) << s.flags.front().kind << ": " << s.flags.front().detail;
  EXPECT_EQ(s.prior_factor, 1.0);
  EXPECT_TRUE(facility_signals(t, "nobody", kT0, kT0 + kH).flags.empty());
}

TEST(Signals, TreatmentOffWhileProductionRuns) {
  MonitoringTables t = normal_power();
  for (int h = 21; h <= 23; ++h) power_at(t, h, PowerCircuit::Treatment).kw = 4.0;
  const auto s = facility_signals(t, "F1", kT0 + 20 * kH, kT0 + 24 * kH);
  ASSERT_EQ(kinds(s), std::vector<std::string>{"treatment_off"});
  EXPECT_EQ(s.flags[0].start_s, kT0 + 21 * kH);
  EXPECT_EQ(s.flags[0].end_s, kT0 + 24 * kH);
  EXPECT_NE(s.flags[0].detail.find("treatment at most 4 kW"), std::string::npos) << s.flags[0].detail;
  EXPECT_EQ(s.prior_factor, tuning::kFlagFactorTreatmentOff);
  // outside the window (and its margin) it is not this incident's flag
  EXPECT_TRUE(facility_signals(t, "F1", kT0 + 40 * kH, kT0 + 44 * kH).flags.empty());
}

TEST(Signals, TreatmentOffNeedsProductionAndMoreThanOneSample) {
  MonitoringTables t = normal_power();
  // both circuits off together: a stop, not a bypass
  for (int h = 10; h <= 14; ++h) {
    power_at(t, h, PowerCircuit::Treatment).kw = 0;
    power_at(t, h, PowerCircuit::Production).kw = 0;
  }
  power_at(t, 30, PowerCircuit::Treatment).kw = 0;  // one low reading: a glitch
  EXPECT_TRUE(facility_signals(t, "F1", kT0, kT0 + 48 * kH).flags.empty());
}

TEST(Signals, ProductionDuringAShutdown) {
  MonitoringTables t = normal_power();
  t.mandates.push_back({"F1", kT0 + 20 * kH, kT0 + 26 * kH, MandateKind::Shutdown, 2});
  t.mandates.push_back({"F1", kT0 + 30 * kH, kT0 + 36 * kH, MandateKind::Limit, 3});  // a limit is not a stop
  const auto s = facility_signals(t, "F1", kT0 + 18 * kH, kT0 + 40 * kH);
  ASSERT_EQ(kinds(s), std::vector<std::string>{"production_in_shutdown"});
  EXPECT_EQ(s.flags[0].start_s, kT0 + 20 * kH);
  EXPECT_NE(s.flags[0].detail.find("mandates.csv line 2"), std::string::npos);
  // the same shutdown obeyed: production at standby
  for (int h = 20; h < 26; ++h) power_at(t, h, PowerCircuit::Production).kw = 30;
  for (int h = 20; h < 26; ++h) power_at(t, h, PowerCircuit::Treatment).kw = 5;
  EXPECT_TRUE(facility_signals(t, "F1", kT0 + 18 * kH, kT0 + 40 * kH).flags.empty());
}

TEST(Signals, FlatLineAndRepeatedBlock) {
  MonitoringTables t;
  add_normal_cems(t);
  for (int h = 20; h < 27; ++h) t.cems[static_cast<std::size_t>(h)].value = 88.0;  // 7 equal values
  auto s = facility_signals(t, "F1", kT0 + 20 * kH, kT0 + 24 * kH);
  ASSERT_EQ(kinds(s), std::vector<std::string>{"cems_flatline"});
  EXPECT_EQ(s.flags[0].start_s, kT0 + 20 * kH);
  EXPECT_NE(s.flags[0].detail.find("so2 flat at 88"), std::string::npos) << s.flags[0].detail;
  EXPECT_EQ(s.prior_factor, tuning::kFlagFactorCemsFlatline);

  MonitoringTables r;
  add_normal_cems(r);
  for (int h = 24; h < 36; ++h) r.cems[static_cast<std::size_t>(h)].value = r.cems[static_cast<std::size_t>(h - 4)].value;
  s = facility_signals(r, "F1", kT0 + 20 * kH, kT0 + 36 * kH);
  ASSERT_EQ(kinds(s), std::vector<std::string>{"cems_flatline"});
  EXPECT_NE(s.flags[0].detail.find("repeating a block of 4 values for 16"), std::string::npos) << s.flags[0].detail;

  // five equal values, or a plant at zero, are not a flat line
  MonitoringTables z;
  add_normal_cems(z);
  for (int h = 10; h < 15; ++h) z.cems[static_cast<std::size_t>(h)].value = 50.0;
  for (int h = 30; h < 40; ++h) z.cems[static_cast<std::size_t>(h)].value = 0.0;
  EXPECT_TRUE(facility_signals(z, "F1", kT0, kT0 + 48 * kH).flags.empty());
}

TEST(Signals, PinnedUnderTheLimit) {
  MonitoringTables t;
  for (int h = 0; h < 48; ++h)
    t.cems.push_back({"F1", kT0 + h * kH, "so2", 190.0 + 9.0 * std::sin(h * 1.3), "mg/m3", 200.0, 0});
  const auto s = facility_signals(t, "F1", kT0 + 20 * kH, kT0 + 24 * kH);
  ASSERT_EQ(kinds(s), std::vector<std::string>{"cems_near_limit"});
  EXPECT_NE(s.flags[0].detail.find("under the limit 200 mg/m3"), std::string::npos) << s.flags[0].detail;
  EXPECT_EQ(s.prior_factor, tuning::kFlagFactorCemsNearLimit);
}

TEST(Signals, GapNextToAnExceedance) {
  MonitoringTables t;
  add_normal_cems(t);
  t.cems[21].value = 260;                                  // an exceedance...
  t.cems.erase(t.cems.begin() + 22, t.cems.begin() + 26);  // ...then four hours missing
  auto s = facility_signals(t, "F1", kT0 + 20 * kH, kT0 + 24 * kH);
  ASSERT_EQ(kinds(s), std::vector<std::string>{"cems_gap"});
  EXPECT_EQ(s.flags[0].start_s, kT0 + 22 * kH);
  EXPECT_EQ(s.flags[0].end_s, kT0 + 26 * kH);
  EXPECT_NE(s.flags[0].detail.find("no data for 4 h next to 260 mg/m3"), std::string::npos) << s.flags[0].detail;
  // the same gap among compliant values is a data outage, not a flag
  MonitoringTables g;
  add_normal_cems(g);
  g.cems.erase(g.cems.begin() + 22, g.cems.begin() + 26);
  EXPECT_TRUE(facility_signals(g, "F1", kT0 + 20 * kH, kT0 + 24 * kH).flags.empty());
}

TEST(Signals, PriorFactorIsBoundedAndCountsEachKindOnce) {
  EXPECT_EQ(signal_prior_factor({}), 1.0);
  std::vector<SignalFlag> two_same{{"cems_gap", 0, 1, ""}, {"cems_gap", 5, 6, ""}};
  EXPECT_EQ(signal_prior_factor(two_same), tuning::kFlagFactorCemsGap);
  std::vector<SignalFlag> all{{"treatment_off", 0, 1, ""},   {"production_in_shutdown", 0, 1, ""},
                              {"cems_flatline", 0, 1, ""},   {"cems_near_limit", 0, 1, ""},
                              {"cems_gap", 0, 1, ""}};
  EXPECT_EQ(signal_prior_factor(all), tuning::kSignalsMaxPriorFactor);
  std::vector<SignalFlag> unknown{{"something_else", 0, 1, ""}};
  EXPECT_EQ(signal_prior_factor(unknown), 1.0);
}

}  // namespace
}  // namespace plumetrace

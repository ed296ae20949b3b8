// The plan document (include/plumetrace/plan/plan.hpp) from hand-made rankings.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "../support/temp_dir.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/plan/plan.hpp"

namespace {

using namespace plumetrace;
using namespace plumetrace::plan;
using nlohmann::json;

json candidate(const std::string& id, double p, double lon, double lat, const std::string& code) {
  return {{"id", id}, {"name", "works " + id}, {"lon", lon}, {"lat", lat}, {"probability", p},
          {"emission_rate_g_s", {{"estimate", 30.0}, {"p05", 15.0}, {"p95", 60.0}}},
          {"jurisdiction", {{"code", code}, {"name", "county " + code}}},
          {"affected_jurisdictions", json::array({{{"code", code}, {"name", "county " + code}, {"observations", 5}}})},
          {"cross_border", false},
          {"evidence", {{"observations_explained", 12}, {"upwind_of", json::array({"M1"})}}}};
}

json ranking_with(json cands, double unlisted, double none) {
  for (std::size_t i = 0; i < cands.size(); ++i) cands[i]["rank"] = i + 1;
  return {{"pollutant", "so2"},
          {"window", {{"start", "2021-07-28T00:00:00Z"}, {"end", "2021-07-28T06:00:00Z"}, {"given", false}}},
          {"candidates", cands},
          {"unlisted", {{"probability", unlisted}, {"peak", {{"lon", 120.13}, {"lat", 28.86}}}, {"area_km2_90", 0.5}}},
          {"no_release", {{"probability", none}}},
          {"jurisdictions", json::array({{{"code", "A"}, {"name", "county A"}, {"probability", 0.7}},
                                         {{"code", "B"}, {"name", "county B"}, {"probability", 0.3}}})},
          {"receptor_jurisdictions", json::array({{{"code", "A"}, {"name", "county A"}}})}};
}

std::vector<std::string> inspected_ids(const json& plan) {
  std::vector<std::string> ids;
  for (const json& s : plan["route"]["stops"]) ids.push_back(s["id"].get<std::string>());
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(Plan, ConfidentCulpritIsOneStopAndNamed) {
  const json r = ranking_with(json::array({candidate("S1", 0.95, 120.05, 28.85, "A"), candidate("S2", 0.03, 120.06, 28.86, "A"),
                                           candidate("S3", 0.01, 120.15, 28.85, "B")}),
                              0.006, 0.004);
  Diagnostics d;
  const json p = build_plan(r, {}, d);
  EXPECT_EQ(p["assessment"]["kind"], "source_identified");
  EXPECT_EQ(p["assessment"]["id"], "S1");
  EXPECT_EQ(inspected_ids(p), (std::vector<std::string>{"S1"}));
  EXPECT_EQ(p["route"]["start"]["kind"], "first_stop");
  EXPECT_EQ(p["route"]["total_distance_m"], 0.0);
  EXPECT_EQ(p["jurisdictions"][0]["code"], "A");
  EXPECT_DOUBLE_EQ(p["jurisdictions"][0]["posterior_share"].get<double>(), 0.7);
  EXPECT_EQ(p["jurisdictions"][0]["inspections"][0]["id"], "S1");
  EXPECT_NE(p["jurisdictions"][0]["inspections"][0]["reason"].get<std::string>().find("upwind of M1"), std::string::npos);
  EXPECT_FALSE(p["joint"].get<bool>() && p["jurisdictions"][1]["inspections"].size() > 0);
}

TEST(Plan, ACandidateWithoutAReleasePeriodIsStillPlanned) {
  // trace writes release.start and .end as null when no block's rate was positive
  json c1 = candidate("S1", 0.6, 120.05, 28.85, "A"), c2 = candidate("S2", 0.3, 120.06, 28.86, "A");
  c1["release"] = {{"start", "2021-07-28T01:00:00Z"}, {"end", "2021-07-28T03:00:00Z"}};
  c2["release"] = {{"start", nullptr}, {"end", nullptr}, {"profile", json::array()}};
  Diagnostics d;
  const json p = build_plan(ranking_with(json::array({c1, c2}), 0.05, 0.05), {}, d);
  std::map<std::string, json> stop;
  for (const json& j : p["jurisdictions"])
    for (const json& s : j["inspections"]) stop[s["id"].get<std::string>()] = s;
  ASSERT_EQ(stop.count("S1"), 1u);
  ASSERT_EQ(stop.count("S2"), 1u);
  EXPECT_NE(stop["S1"]["reason"].get<std::string>().find("release 2021-07-28T01:00:00Z to 2021-07-28T03:00:00Z"),
            std::string::npos);
  EXPECT_EQ(stop["S2"]["reason"].get<std::string>().find("release"), std::string::npos);
  EXPECT_TRUE(stop["S2"]["release"]["start"].is_null());
  EXPECT_EQ(stop["S1"]["release"]["end"], "2021-07-28T03:00:00Z");
}

TEST(Plan, SpreadPosteriorIsUndeterminedAndCoveredToNinetyPercentCappedAtTwelve) {
  json cands = json::array();
  for (int i = 0; i < 30; ++i) cands.push_back(candidate("F" + std::to_string(100 + i), 0.03, 120.0 + 0.005 * i, 28.85, "A"));
  const json r = ranking_with(cands, 0.05, 0.05);
  Diagnostics d;
  const json p = build_plan(r, {}, d);
  EXPECT_EQ(p["assessment"]["kind"], "undetermined");
  std::size_t facilities = 0;
  for (const json& s : p["route"]["stops"]) facilities += s["kind"] == "facility";
  EXPECT_EQ(facilities, kMaxInspectedFacilities);
  EXPECT_EQ(p["route"]["stops"].size(), kMaxInspectedFacilities + 1);  // plus the search area at 0.05
  EXPECT_FALSE(p["route"]["exact"].get<bool>() == false);               // 13 stops: still exact
}

TEST(Plan, CoverageStopsOnceNinetyPercentIsHeld) {
  // 0.5 + 0.3 + 0.1 = 0.9 of the release probability: the fourth (0.02) is not needed
  const json r = ranking_with(json::array({candidate("S1", 0.5, 120.05, 28.85, "A"), candidate("S2", 0.3, 120.06, 28.85, "A"),
                                           candidate("S3", 0.1, 120.07, 28.85, "A"), candidate("S4", 0.02, 120.08, 28.85, "A")}),
                              0.04, 0.04);
  Diagnostics d;
  const json p = build_plan(r, {}, d);
  EXPECT_EQ(inspected_ids(p), (std::vector<std::string>{"S1", "S2", "S3"}));
}

TEST(Plan, AFlaggedFacilityIsVisitedFromTheFloorUnflaggedNot) {
  json flagged = candidate("S9", 0.02, 120.09, 28.84, "A");
  flagged["evidence"]["flags"] = json::array({{{"kind", "treatment_off"}, {"start", "x"}, {"end", "y"}, {"detail", "z"}}});
  const json r = ranking_with(json::array({candidate("S1", 0.94, 120.05, 28.85, "A"), flagged,
                                           candidate("S2", 0.02, 120.06, 28.86, "A"), candidate("S3", 0.005, 120.07, 28.86, "A")}),
                              0.01, 0.01);
  Diagnostics d;
  const json p = build_plan(r, {}, d);
  EXPECT_EQ(inspected_ids(p), (std::vector<std::string>{"S1", "S9"}));
  bool saw = false;
  for (const json& e : p["jurisdictions"][0]["inspections"])
    if (e["id"] == "S9") saw = e["reason"].get<std::string>().find("treatment_off") != std::string::npos;
  EXPECT_TRUE(saw);
}

TEST(Plan, UnregisteredSourceBecomesASearchArea) {
  const json r = ranking_with(json::array({candidate("S1", 0.2, 120.05, 28.85, "A")}), 0.78, 0.02);
  Diagnostics d;
  PlanOptions o;
  o.locate = [](double lon, double) -> std::optional<std::pair<std::string, std::string>> {
    return lon > 120.1 ? std::make_pair(std::string("B"), std::string("county B")) : std::make_pair(std::string("A"), std::string("county A"));
  };
  const json p = build_plan(r, o, d);
  EXPECT_EQ(p["assessment"]["kind"], "unregistered_source");
  EXPECT_EQ(p["route"]["stops"][0]["id"], "unlisted");  // most probable stop first
  EXPECT_EQ(p["route"]["stops"][0]["jurisdiction"], "B");
  bool found = false;
  for (const json& j : p["jurisdictions"])
    for (const json& e : j["inspections"])
      if (e["id"] == "unlisted") {
        found = true;
        EXPECT_EQ(j["code"], "B");
        EXPECT_NEAR(e["radius_m"].get<double>(), std::sqrt(0.5e6 / M_PI), 1e-6);
      }
  EXPECT_TRUE(found);
  EXPECT_TRUE(p["joint"].get<bool>());  // a stop in A and the search area in B
}

TEST(Plan, NoReleaseIsSaidFirst) {
  const json r = ranking_with(json::array({candidate("S1", 0.1, 120.05, 28.85, "A")}), 0.02, 0.88);
  Diagnostics d;
  const json p = build_plan(r, {}, d);
  EXPECT_EQ(p["assessment"]["kind"], "no_release");
  EXPECT_EQ(inspected_ids(p), (std::vector<std::string>{"S1"}));
}

TEST(Plan, CrossBorderCaseIsJointWithTheSourceCountyLeading) {
  json c = candidate("S7", 0.9, 120.15, 28.85, "B");
  c["affected_jurisdictions"] = json::array({{{"code", "A"}, {"name", "county A"}, {"observations", 30}}});
  c["cross_border"] = true;
  json r = ranking_with(json::array({c, candidate("S1", 0.06, 120.05, 28.85, "A")}), 0.02, 0.02);
  r["jurisdictions"] = json::array({{{"code", "B"}, {"name", "county B"}, {"probability", 0.91}},
                                    {{"code", "A"}, {"name", "county A"}, {"probability", 0.09}}});
  Diagnostics d;
  const json p = build_plan(r, {}, d);
  EXPECT_TRUE(p["joint"].get<bool>());
  EXPECT_EQ(p["lead"], "B");
  ASSERT_EQ(p["jurisdictions"].size(), 2u);
  EXPECT_EQ(p["jurisdictions"][0]["code"], "B");
  EXPECT_EQ(p["jurisdictions"][0]["roles"], json::array({"inspect"}));
  EXPECT_EQ(p["jurisdictions"][1]["code"], "A");
  EXPECT_EQ(p["jurisdictions"][1]["roles"], json::array({"affected", "inspect", "monitoring"}));
  EXPECT_NE(p["jurisdictions"][0]["inspections"][0]["reason"].get<std::string>().find("cross-border"), std::string::npos);
}

TEST(Plan, GivenStartAndTravelTimesDecideTheOrder) {
  // S1 is 1 km east of the start, S2 2 km east; by road S2 is reached first (a ring road)
  json r = ranking_with(json::array({candidate("S1", 0.5, 120.0103, 28.85, "A"), candidate("S2", 0.45, 120.0206, 28.85, "A")}),
                        0.03, 0.02);
  Diagnostics d;
  PlanOptions o;
  o.start = LonLat{120.0, 28.85};
  json p = build_plan(r, o, d);
  EXPECT_EQ(p["route"]["stops"][0]["id"], "S1");
  EXPECT_EQ(p["route"]["cost_basis"], "straight_line");
  EXPECT_NEAR(p["route"]["total_distance_m"].get<double>(), 2006.0, 25.0);
  EXPECT_NEAR(p["route"]["total_minutes"].get<double>(), 2.006 / kStraightLineSpeedKmH * 60, 0.15);

  const auto file = std::filesystem::temp_directory_path() / ("plumetrace_times_" + std::to_string(::getpid()) + ".csv");
  testing_support::register_for_cleanup(file);
  std::ofstream(file) << "from,to,minutes\nstart,S2,4\nS2,S1,3\nstart,S1,20\nS1,S2,15\nS1,S2,9\nstart,S9,abc\n";
  Diagnostics td;
  const TravelTimes t = read_travel_times(file, td);
  ASSERT_EQ(td.rejected().size(), 2u);
  EXPECT_EQ(td.rejected()[0].line, 6u);  // the repeated pair
  EXPECT_EQ(td.rejected()[1].line, 7u);  // not a number
  o.travel_times = &t;
  p = build_plan(r, o, d);
  EXPECT_EQ(p["route"]["cost_basis"], "travel_times");
  EXPECT_EQ(p["route"]["stops"][0]["id"], "S2");
  EXPECT_DOUBLE_EQ(p["route"]["total_minutes"].get<double>(), 7.0);
  std::filesystem::remove(file);
}

TEST(Plan, MissingTravelTimesFallBackWithAWarning) {
  json r = ranking_with(json::array({candidate("S1", 0.5, 120.0103, 28.85, "A"), candidate("S2", 0.45, 120.0206, 28.85, "A")}),
                        0.03, 0.02);
  TravelTimes t;
  t.file = "times.csv";
  t.minutes[{"start", "S1"}] = 3;  // used both ways: 4 of the 6 directed legs lack a time
  PlanOptions o;
  o.start = LonLat{120.0, 28.85};
  o.travel_times = &t;
  Diagnostics d;
  const json p = build_plan(r, o, d);
  ASSERT_EQ(p["warnings"].size(), 1u);
  EXPECT_NE(p["warnings"][0].get<std::string>().find("4 of 6 legs have no configured time"), std::string::npos);
}

TEST(Plan, BadRankingsAreRefusedNamingTheField) {
  const auto message = [](const json& r) {
    try {
      Diagnostics d;
      (void)build_plan(r, {}, d);
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  json r = ranking_with(json::array({candidate("S1", 0.5, 120.05, 28.85, "A"), candidate("S2", 0.3, 120.06, 28.85, "A")}), 0.1, 0.1);
  EXPECT_EQ(message(r), "accepted");
  json bad = r;
  bad["candidates"][1]["probability"] = 1.5;
  EXPECT_EQ(message(bad), "ranking: candidates[1].probability: 1.5 is outside [0, 1]");
  bad = r;
  bad["candidates"][0].erase("lat");
  EXPECT_EQ(message(bad), "ranking: candidates[0]: missing lon or lat");
  bad = r;
  bad["candidates"][1]["id"] = "S1";
  EXPECT_EQ(message(bad), "ranking: candidates[1].id: 'S1' repeats");
  bad = r;
  bad["unlisted"]["peak"]["lon"] = "east";
  EXPECT_EQ(message(bad), "ranking: unlisted.peak.lon: not a number");
  EXPECT_EQ(message(json::array()), "ranking: (document): not a JSON object");
  EXPECT_EQ(message(json::object()), "ranking: candidates: missing or not an array");
  PlanOptions o;
  o.start = LonLat{200.0, 28.0};
  Diagnostics d;
  EXPECT_THROW((void)build_plan(r, o, d), InvalidInput);
}

TEST(Plan, IsAPureFunctionOfItsInputs) {
  json cands = json::array();
  for (int i = 0; i < 8; ++i) cands.push_back(candidate("F" + std::to_string(i), 0.1, 120.0 + 0.01 * (i % 3), 28.8 + 0.01 * i, "A"));
  const json r = ranking_with(cands, 0.1, 0.1);
  Diagnostics d1, d2;
  EXPECT_EQ(build_plan(r, {}, d1).dump(), build_plan(r, {}, d2).dump());
}

}  // namespace

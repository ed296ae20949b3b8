// `plumetrace border-flux` and the monitoring signals in `plumetrace trace`, run as a user runs
// them (issue #10 items 2 and 3).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../support/temp_dir.hpp"
#include "plumetrace/geo/crs.hpp"
#include "run_command.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// Runs the plumetrace binary; returns the exit status, stdout in `out` and stderr in `err`.
int plumetrace(const std::string& args, std::string& out, std::string& err) {
  return plumetrace::testing_support::run_command(std::string("'") + PLUMETRACE_BINARY + "' " + args, out, err);
}

fs::path fresh_dir(const std::string& name) {
  return plumetrace::testing_support::fresh_temp_dir("plumetrace_enf_" + name);
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

/// Two counties A (west) and B (east) sharing the meridian 120.1 E from 28.8 to 28.9 N; four
/// stations reporting 40 µg/m³ of so2 every hour, a wind of 3 m/s from the west and a mixing
/// height of 900 m, 00:00 to 06:00 UTC.
fs::path uniform_case() {
  const fs::path d = fresh_dir("uniform");
  write(d / "case.json", R"({"pollutant": "so2", "units": "ug/m3"})");
  write(d / "boundaries.geojson", R"({"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"adcode": "A", "name": "West"}, "geometry": {"type": "Polygon",
  "coordinates": [[[120.0, 28.8], [120.1, 28.8], [120.1, 28.9], [120.0, 28.9], [120.0, 28.8]]]}},
 {"type": "Feature", "properties": {"adcode": "B", "name": "East"}, "geometry": {"type": "Polygon",
  "coordinates": [[[120.1, 28.8], [120.2, 28.8], [120.2, 28.9], [120.1, 28.9], [120.1, 28.8]]]}}]})");
  write(d / "stations.csv", "id,lon,lat,height_m\nM1,120.05,28.85,3\nM2,120.15,28.85,3\nM3,120.09,28.82,3\nM4,120.12,28.88,3\n");
  std::string r = "station_id,time,variable,value,unit\n";
  for (const char* st : {"M1", "M2", "M3", "M4"})
    for (int h = 0; h < 6; ++h) {
      const std::string t = "2021-07-28T0" + std::to_string(h) + ":00:00Z";
      r += std::string(st) + "," + t + ",so2,40,ug/m3\n";
      r += std::string(st) + "," + t + ",wind_speed,3,m/s\n";
      r += std::string(st) + "," + t + ",wind_dir,270,deg\n";
      r += std::string(st) + "," + t + ",mixing_height,900,m\n";
    }
  write(d / "readings.csv", r);
  return d;
}

TEST(BorderFluxCli, UniformWindMatchesTheAnalyticAnswer) {
  const fs::path d = uniform_case();
  std::string out, err;
  ASSERT_EQ(plumetrace("border-flux '" + d.string() +
                           "' --between A,B --from 2021-07-28T01:00:00Z --to 2021-07-28T05:00:00Z --json",
                       out, err),
            0)
      << err;
  const json doc = json::parse(out);
  EXPECT_EQ(doc.at("between"), json::array({"A", "B"}));
  // C h T ∫ u·n dl = C h T (u Δy − v Δx) between the border's end points in the analysis CRS
  const plumetrace::Transformer tr(doc.contains("crs") ? doc["crs"].get<std::string>() : "EPSG:32651");
  double x0, y0, x1, y1;
  tr.forward(120.1, 28.8, x0, y0);
  tr.forward(120.1, 28.9, x1, y1);
  const double expect_kg = 40e-9 * 900.0 * 4 * 3600.0 * 3.0 * (y1 - y0);
  EXPECT_NEAR(doc.at("a_to_b_kg").get<double>(), expect_kg, 1e-6 * expect_kg) << out;
  EXPECT_NEAR(doc.at("b_to_a_kg").get<double>(), 0.0, 1e-6 * expect_kg);
  // every station reads its background: nothing above it
  EXPECT_NEAR(doc.at("above_background").at("a_to_b_kg").get<double>(), 0.0, 1e-6 * expect_kg);
  EXPECT_NEAR(doc.at("border_length_m").get<double>(), std::hypot(x1 - x0, y1 - y0), 0.1);
  EXPECT_TRUE(doc.at("method").is_string());
  // the reverse question is the same answer turned round
  ASSERT_EQ(plumetrace("border-flux '" + d.string() + "' --between B,A --start 2021-07-28T01:00:00Z --end 2021-07-28T05:00:00Z --json",
                       out, err),
            0);
  EXPECT_NEAR(json::parse(out).at("b_to_a_kg").get<double>(), expect_kg, 1e-6 * expect_kg);
  // without --json: a readable summary
  ASSERT_EQ(plumetrace("border-flux '" + d.string() + "' --between A,B", out, err), 0) << err;
  EXPECT_NE(out.find("A -> B"), std::string::npos) << out;
  fs::remove_all(d);
}

TEST(BorderFluxCli, BadRequestsExitTwo) {
  const fs::path d = uniform_case();
  std::string out, err;
  for (const std::string& args : {std::string("--between A,Z"), std::string("--between A,A"), std::string("--between A"),
                                  std::string(""), std::string("--between A,B --from nonsense")}) {
    EXPECT_EQ(plumetrace("border-flux '" + d.string() + "' " + args, out, err), 2) << args;
    EXPECT_EQ(err.rfind("plumetrace: ", 0), 0u) << args << ": " << err;
  }
  fs::remove(d / "boundaries.geojson");
  EXPECT_EQ(plumetrace("border-flux '" + d.string() + "' --between A,B", out, err), 2);
  fs::remove_all(d);
}

const std::string kExample = std::string(PLUMETRACE_TEST_DATA) + "/examples/example-101/case";

TEST(BorderFluxCli, ACrossBorderCandidateGetsItsBorderFluxInTheRanking) {
  // the uniform case, with a stack in A 500 m west of the border and its plume over stations in B
  // (2 km downwind) from 01:00 to 05:00; a second facility far north-west
  const fs::path d = uniform_case();
  write(d / "sources.csv", "id,name,lon,lat,height_m\nS1,west works,120.095,28.85,10\nS2,far works,120.02,28.89,10\n");
  write(d / "stations.csv",
        "id,lon,lat,height_m\nM1,120.1155,28.841,3\nM2,120.1155,28.8455,3\nM3,120.1155,28.85,3\nM4,120.1155,28.8545,3\n"
        "M5,120.1155,28.859,3\n");
  const double plume[] = {2.0, 30.0, 110.0, 30.0, 2.0};  // µg/m³ above 6 across the line
  std::string r = "station_id,time,variable,value,unit\n";
  for (int s = 0; s < 5; ++s)
    for (int h = 0; h < 8; ++h) {
      const std::string st = "M" + std::to_string(s + 1), t = "2021-07-28T0" + std::to_string(h) + ":00:00Z";
      r += st + "," + t + ",so2," + std::to_string(6.0 + (h >= 1 && h < 5 ? plume[s] : 0.0) + 0.1 * ((h + s) % 3)) + ",ug/m3\n";
      r += st + "," + t + ",wind_speed,3,m/s\n" + st + "," + t + ",wind_dir,270,deg\n";
    }
  write(d / "readings.csv", r);
  std::string out, err;
  ASSERT_EQ(plumetrace("trace '" + d.string() + "' --json", out, err), 0) << err;
  const json doc = json::parse(out);
  const json& top = doc.at("candidates").at(0);
  ASSERT_EQ(top.at("id"), "S1") << out;
  ASSERT_TRUE(top.at("cross_border").get<bool>()) << top.dump();
  const json& pairs = doc.at("diagnostics").at("border_flux").at("pairs");
  ASSERT_EQ(pairs.size(), 1u) << doc.at("diagnostics").at("border_flux").dump();
  EXPECT_EQ(pairs[0].at("between"), json::array({"A", "B"}));
  EXPECT_EQ(pairs[0].at("candidates"), json::array({"S1"}));
  EXPECT_GT(pairs[0].at("above_background").at("a_to_b_kg").get<double>(), 0);
  EXPECT_EQ(pairs[0].at("b_to_a_kg").get<double>(), 0);  // the wind never turned
  std::printf("synthetic cross-border case: %s\n", pairs[0].dump().c_str());
  fs::remove_all(d);
}

TEST(BorderFluxCli, Example101) {
  std::string out, err;
  ASSERT_EQ(plumetrace("border-flux " + kExample + " --between 330784,331122 --json", out, err), 0) << err;
  const json doc = json::parse(out);
  EXPECT_EQ(doc.at("window").at("given"), false);
  std::printf("example-101 330784 -> 331122 %.4g kg (%.4g above background), 331122 -> 330784 %.4g kg (%.4g); border %.1f km\n",
              doc.at("a_to_b_kg").get<double>(), doc.at("above_background").at("a_to_b_kg").get<double>(),
              doc.at("b_to_a_kg").get<double>(), doc.at("above_background").at("b_to_a_kg").get<double>(),
              doc.at("border_length_m").get<double>() / 1000);
  EXPECT_GT(doc.at("a_to_b_kg").get<double>(), 0);
  EXPECT_GT(doc.at("b_to_a_kg").get<double>(), 0);
  EXPECT_GT(doc.at("border_length_m").get<double>(), 10000);  // the counties share tens of km
  // a window given with an offset is answered in that offset
  ASSERT_EQ(plumetrace("border-flux " + kExample +
                           " --between 330784,331122 --from 2021-07-28T21:00:00+08:00 --to 2021-07-29T00:00:00+08:00 --json",
                       out, err),
            0)
      << err;
  const json w = json::parse(out).at("window");
  EXPECT_EQ(w.at("start"), "2021-07-28T21:00:00+08:00");
  EXPECT_EQ(w.at("end"), "2021-07-29T00:00:00+08:00");
}

/// example-101 with the monitoring tables: S003 (a decoy far from the plume) had its treatment
/// switched off during the night, S007 (the culprit) has a compliant record.
fs::path example_with_signals() {
  const fs::path d = fresh_dir("signals");
  for (const char* f : {"readings.csv", "sources.csv", "stations.csv"}) fs::copy_file(fs::path(kExample) / f, d / f);
  fs::copy(fs::path(kExample) / "traces", d / "traces");
  write(d / "case.json", std::string(R"({"pollutant": "so2", "units": "ug/m3", "boundaries": {"file": ")") +
                             PLUMETRACE_SOURCE_DIR + R"(/data/zhejiang_counties.geojson"}})");
  std::string power = "facility_id,time,circuit,kw\n", cems = "facility_id,time,variable,value,unit,limit\n";
  for (int h = 0; h < 24; ++h) {
    char t[40];
    std::snprintf(t, sizeof t, "2021-07-28T%02d:00:00+08:00", h);
    const bool bypass = h >= 20;
    power += std::string("S003,") + t + ",production,900\n";
    power += std::string("S003,") + t + ",treatment," + (bypass ? "3" : "150") + "\n";
    cems += std::string("S007,") + t + ",so2," + std::to_string(80 + (h * 37) % 23) + ",mg/m3,200\n";
  }
  cems += "S007,2021-07-28T25:00:00+08:00,so2,1,mg/m3,200\n";  // a bad row: reported, not fatal
  write(d / "power.csv", power);
  write(d / "cems.csv", cems);
  return d;
}

TEST(SignalsCli, FlagsAppearInTheRankingAndTheCulpritStaysFirst) {
  const fs::path d = example_with_signals();
  std::string out, err;
  ASSERT_EQ(plumetrace("trace '" + d.string() +
                           "' --start 2021-07-28T21:00:00+08:00 --end 2021-07-29T00:00:00+08:00 --json",
                       out, err),
            0)
      << err;
  const json doc = json::parse(out);
  EXPECT_EQ(doc.at("candidates").at(0).at("id"), "S007");
  bool seen = false;
  for (const json& c : doc.at("candidates")) {
    const json& ev = c.at("evidence");
    if (c.at("id") == "S003") {
      seen = true;
      ASSERT_EQ(ev.at("flags").size(), 1u) << ev.dump();
      EXPECT_EQ(ev.at("flags").at(0).at("kind"), "treatment_off");
      EXPECT_EQ(ev.at("flags").at(0).at("start"), "2021-07-28T20:00:00+08:00");
      EXPECT_EQ(ev.at("prior_factor"), 2.0);
    } else {
      EXPECT_TRUE(ev.at("flags").empty()) << c.at("id") << ev.dump();
      EXPECT_EQ(ev.at("prior_factor"), 1.0);
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_TRUE(doc.at("diagnostics").at("border_flux").at("pairs").is_array());
  // the bad cems.csv row is named with its file and line
  ASSERT_EQ(plumetrace("trace '" + d.string() + "' --all", out, err), 0) << err;
  EXPECT_NE(err.find("rejected cems.csv:26: column time"), std::string::npos) << err;
  EXPECT_NE(out.find("flags S003 (prior x2): treatment_off"), std::string::npos) << out;
  fs::remove_all(d);
}

}  // namespace

namespace {

TEST(PlanCli, TraceThenPlanWritesTheBundleAndBadArgumentsExitTwo) {
  const fs::path d = fresh_dir("plan");
  std::string out, err;
  ASSERT_EQ(plumetrace("trace '" + kExample + "' --out '" + (d / "trace").string() + "' --json", out, err), 0) << err;
  const std::string ranking = (d / "trace" / "ranking.json").string();
  ASSERT_EQ(plumetrace("plan '" + kExample + "' --ranking '" + ranking + "' --out '" + (d / "plan").string() +
                           "' --start-point 120.03,28.90",
                       out, err),
            0)
      << err;
  EXPECT_NE(out.find("assessment: "), std::string::npos) << out;
  EXPECT_NE(out.find("route (exact (Held-Karp)): "), std::string::npos) << out;
  for (const char* f : {"plan.json", "ranking.json", "posterior.tif", "map.png", "report.html", "manifest.json", "bundle.zip"})
    EXPECT_TRUE(fs::is_regular_file(d / "plan" / f)) << f;
  const json plan = json::parse(std::ifstream(d / "plan" / "plan.json"));
  json ranked = json::parse(std::ifstream(ranking));
  EXPECT_EQ(plan["route"]["stops"][0]["id"], ranked["candidates"][0]["id"]);
  {
    // the culprit's release is still going when the data end: its last hour is barely seen, so it
    // has no rate and is not part of the period (it used to come out at 7,390 g/s and become the period)
    const json& rel = ranked["candidates"][0]["release"];
    const json& last = rel["profile"].back();
    EXPECT_EQ(last.value("constrained", true), false) << rel.dump();
    EXPECT_TRUE(last["rate_g_s"].is_null());
    EXPECT_LE(rel["end"].get<std::string>(), last["start"].get<std::string>());
    for (const json& b : rel["profile"])
      if (!b["rate_g_s"].is_null()) {
        EXPECT_LT(b["rate_g_s"].get<double>(), 500.0) << rel.dump();
      }
  }

  // --json prints the document and nothing else
  ASSERT_EQ(plumetrace("plan '" + kExample + "' --ranking '" + ranking + "' --out '" + (d / "plan2").string() + "' --json", out, err), 0);
  EXPECT_EQ(json::parse(out)["assessment"], plan["assessment"]);

  write(d / "broken.json", "{\"candidates\": [{\"id\": \"X\", \"probability\": 2, \"lon\": 120, \"lat\": 28}]}");
  const std::string base = "plan '" + kExample + "' --out '" + (d / "bad").string() + "' ";
  for (const std::string& args : {std::string("--ranking '") + ranking + "' --start-point 120.0",
                                  std::string("--ranking '") + ranking + "' --start-point east,north",
                                  std::string("--ranking '") + ranking + "' --start-point 190,28",
                                  std::string("--ranking '") + ranking + "' --speed-km-h 0",
                                  std::string("--start-point 120,28"),
                                  std::string("--ranking '") + (d / "broken.json").string() + "'"}) {
    EXPECT_EQ(plumetrace(base + args, out, err), 2) << args;
    EXPECT_EQ(err.rfind("plumetrace: ", 0), 0u) << args << ": " << err;
  }
  EXPECT_NE(err.find("broken.json: ranking: candidates[0].probability: 2 is outside [0, 1]"), std::string::npos) << err;
}

}  // namespace

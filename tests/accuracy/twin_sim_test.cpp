/// @file twin_sim_test.cpp
/// The independent twin simulator (tools/plumetrace-twin, docs/twins.md): its puff train agrees
/// with the analytic steady plume and carries the emitted flux (--self-check); incidents are
/// deterministic per arguments; the case folder and truth.json have what the evaluation harness
/// (scripts/twin-eval.py) reads; nothing in the registry marks the culprit. A few seconds in all.

#include <gtest/gtest.h>

#include <cmath>
#include <gdal.h>

#include <unistd.h>

#include <map>
#include <set>
#include <sstream>

#include "plumetrace/pipeline/init.hpp"
#include "../support/temp_dir.hpp"
#include "harness.hpp"

namespace plumetrace::accuracy {
namespace {

/// plumetrace-twin beside the tracer (override with PLUMETRACE_TWIN).
fs::path twin_path() {
  if (const char* env = std::getenv("PLUMETRACE_TWIN"); env != nullptr && *env != '\0') return env;
  return fs::path(PLUMETRACE_BINARY).parent_path() / "plumetrace-twin";
}

/// A scratch folder removed at the end of the test unless it failed, and at exit in any case
/// (tests/support/temp_dir.hpp).
struct Scratch {
  fs::path dir = testing_support::fresh_temp_dir(std::string("plumetrace-twintest-") +
                                                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
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


TEST(TwinSimulator, DroneRasterIsGeoreferencedNearTheCulpritWithAMissingStrip) {
  REQUIRE_TWIN();
  const Scratch s;
  ASSERT_EQ(s.twin("--kind unlisted --seed 1 --drone", "drone"), 0);
  const nlohmann::json t = s.truth("drone");
  ASSERT_TRUE(t.contains("drone"));
  pipeline::init();
  const fs::path tif = s.dir / "drone" / "case" / "imagery" / "drone.tif";
  GDALDatasetH ds = GDALOpen(tif.string().c_str(), GA_ReadOnly);
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(GDALGetRasterXSize(ds), 200);
  EXPECT_EQ(GDALGetRasterYSize(ds), 200);
  double gt[6];
  ASSERT_EQ(GDALGetGeoTransform(ds, gt), CE_None);
  GDALRasterBandH b = GDALGetRasterBand(ds, 1);
  int has_nodata = 0;
  const double nodata = GDALGetRasterNoDataValue(b, &has_nodata);
  EXPECT_TRUE(has_nodata);
  std::vector<float> v(200 * 200);
  ASSERT_EQ(GDALRasterIO(b, GF_Read, 0, 0, 200, 200, v.data(), 200, 200, GDT_Float32, 0, 0), CE_None);
  GDALClose(ds);
  // a strip of whole rows is missing; the hottest pixel lies within the square, which lies
  // within 600 m (+ half its 1.6 km side) of the culprit
  int missing_rows = 0;
  std::size_t hot = 0;
  for (int r = 0; r < 200; ++r) {
    bool all = true;
    for (int k = 0; k < 200; ++k) all = all && v[static_cast<std::size_t>(r) * 200 + k] == static_cast<float>(nodata);
    missing_rows += all;
  }
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] != static_cast<float>(nodata) && (v[hot] == static_cast<float>(nodata) || v[i] > v[hot])) hot = i;
  EXPECT_GE(missing_rows, 10);
  EXPECT_LE(missing_rows, 30);
  const double lon = gt[0] + (hot % 200 + 0.5) * gt[1], lat = gt[3] + (hot / 200 + 0.5) * gt[5];
  const double clon = t["culprits"][0]["lon"], clat = t["culprits"][0]["lat"];
  const double dx = (lon - clon) * 111195.0 * std::cos(clat * M_PI / 180), dy = (lat - clat) * 111195.0;
  EXPECT_LT(std::hypot(dx, dy), 600.0 * std::sqrt(2.0) + 800.0 * std::sqrt(2.0));
  EXPECT_NEAR(gt[1] * 111195.0 * std::cos(clat * M_PI / 180), 8.0, 0.05);  // 8 m pixels
  const nlohmann::json side = nlohmann::json::parse(read_text(s.dir / "drone" / "case" / "imagery" / "drone.json"));
  EXPECT_EQ(side.at("variable"), "so2");
  EXPECT_EQ(side.at("time"), t["drone"]["time"]);
}

TEST(TwinSimulator, BeamsFenceAYardRoundTheCulprit) {
  REQUIRE_TWIN();
  const Scratch s;
  ASSERT_EQ(s.twin("--kind unlisted --seed 11 --beams", "beams"), 0);
  const nlohmann::json t = s.truth("beams");
  ASSERT_TRUE(t.contains("beams"));
  ASSERT_EQ(t["beams"].size(), 4U);
  // the four beams close a 500 m square; the culprit lies inside it, >= 50 m from the fence
  const double clon = t["culprits"][0]["lon"], clat = t["culprits"][0]["lat"];
  const double mx = 111195.0 * std::cos(clat * M_PI / 180), my = 111195.0;
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (std::size_t b = 0; b < 4; ++b) {
    const auto& e = t["beams"][b];
    const auto& next = t["beams"][(b + 1) % 4];
    EXPECT_NEAR(e["lon2"].get<double>(), next["lon1"].get<double>(), 1e-9);  // closed ring
    EXPECT_NEAR(std::hypot((e["lon2"].get<double>() - e["lon1"].get<double>()) * mx,
                           (e["lat2"].get<double>() - e["lat1"].get<double>()) * my),
                500.0, 1.0);
    for (const char* end : {"1", "2"}) {
      const double x = (e[std::string("lon") + end].get<double>() - clon) * mx;
      const double y = (e[std::string("lat") + end].get<double>() - clat) * my;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  EXPECT_LE(x0, -50.0);
  EXPECT_GE(x1, 50.0);
  EXPECT_LE(y0, -50.0);
  EXPECT_GE(y1, 50.0);
  // paths.csv in the contract's columns, hourly readings for each beam; the fence sees the release
  const std::string paths = read_text(s.dir / "beams" / "case" / "paths.csv");
  EXPECT_EQ(paths.substr(0, paths.find('\n')), "id,name,lon1,lat1,lon2,lat2,height_m");
  const std::string readings = read_text(s.dir / "beams" / "case" / "readings.csv");
  double top = 0;
  for (const char* id : {"B01", "B02", "B03", "B04"}) {
    std::size_t n = 0;
    for (std::size_t at = readings.find(std::string("\n") + id + ","); at != std::string::npos;
         at = readings.find(std::string("\n") + id + ",", at + 1)) {
      ++n;
      const std::size_t v0 = readings.find(",so2,", at) + 5;
      top = std::max(top, std::stod(readings.substr(v0, readings.find(',', v0) - v0)));
    }
    EXPECT_GE(n, 12U) << id;
  }
  EXPECT_GT(top, 50.0);  // backgrounds are 5-15 ug/m3
}

}  // namespace
}  // namespace plumetrace::accuracy

// The plumetrace executable, run as a user runs it: exit codes, stdout/stderr discipline, outputs.

#include <gdal.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct RunResult {
  int code{};
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

fs::path temp_dir(const std::string& name) {
  return plumetrace::testing_support::fresh_temp_dir("plumetrace_cli_" + name);
}

RunResult run(const std::string& args) {
  static int counter = 0;
  const fs::path d = temp_dir("run" + std::to_string(counter++));
  const std::string cmd = std::string("'") + PLUMETRACE_BINARY + "' " + args + " >'" + (d / "out").string() +
                          "' 2>'" + (d / "err").string() + "'";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(d / "out");
  r.err = slurp(d / "err");
  fs::remove_all(d);
  return r;
}

const std::string kExample = std::string(PLUMETRACE_TEST_DATA) + "/examples/example-101/case";
const std::string kWindow = "--start 2021-07-28T21:00:00+08:00 --end 2021-07-29T00:00:00+08:00";

TEST(Cli, VersionAndHelp) {
  const RunResult v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.out.rfind("plumetrace ", 0), 0u);
  const RunResult h = run("trace --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--pollutant"), std::string::npos);
}

TEST(Cli, BadInputExitsTwoWithOneLineReason) {
  for (const std::string& args : std::vector<std::string>{"trace /nonexistent/case", "trace " + kExample + " --start yesterday",
                                 "trace " + kExample + " --bogus", "trace",
                                 "trace " + kExample + " --pollutant xyz", "trace " + kExample + " --usual-emissions maybe",
                                 "inspect /nonexistent/case",
                                 "frobnicate"}) {
    const RunResult r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_FALSE(r.err.empty()) << args;
    EXPECT_EQ(r.err.rfind("plumetrace: ", 0), 0u) << args << ": " << r.err;
  }
}

TEST(Cli, TraceJsonPrintsOnlyTheRankingDocument) {
  const RunResult r = run("trace " + kExample + " " + kWindow + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = json::parse(r.out);  // throws if anything else is on stdout
  EXPECT_EQ(doc.at("pollutant"), "so2");
  EXPECT_EQ(doc.at("window").at("start"), "2021-07-28T21:00:00+08:00");
  EXPECT_EQ(doc.at("window").at("end"), "2021-07-29T00:00:00+08:00");
  const auto& cands = doc.at("candidates");
  EXPECT_EQ(cands.size(), 22u);
  double total = doc.at("unlisted").at("probability").get<double>();
  double prev = 2.0;
  int rank = 0;
  for (const auto& c : cands) {
    const double p = c.at("probability").get<double>();
    EXPECT_LE(p, prev + 1e-12);
    prev = p;
    EXPECT_EQ(c.at("rank").get<int>(), ++rank);
    total += p;
    const auto& er = c.at("emission_rate_g_s");
    EXPECT_LE(er.at("p05").get<double>(), er.at("estimate").get<double>());
    EXPECT_GE(er.at("p95").get<double>(), er.at("estimate").get<double>());
    EXPECT_TRUE(c.at("cross_border").is_boolean());
    EXPECT_TRUE(c.at("affected_jurisdictions").is_array());
    EXPECT_TRUE(c.at("evidence").at("upwind_of").is_array());
  }
  total += doc.at("no_release").at("probability").get<double>();
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_FALSE(doc.at("jurisdictions").empty());
  EXPECT_FALSE(doc.at("receptor_jurisdictions").empty());
  EXPECT_GT(doc.at("diagnostics").at("observations_used").get<int>(), 0);
}

TEST(Cli, TraceOutWritesValidCogsAndGeoJson) {
  const fs::path out = temp_dir("out");
  const RunResult r = run("trace " + kExample + " " + kWindow + " --out '" + out.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("rank"), std::string::npos);  // the table
  for (const char* f : {"ranking.json", "ranking.geojson", "posterior.tif", "footprint.tif", "fused.tif"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const json gj = json::parse(slurp(out / "ranking.geojson"));
  EXPECT_EQ(gj.at("type"), "FeatureCollection");
  EXPECT_EQ(gj.at("features").size(), 23u);
  GDALAllRegister();
  for (const char* f : {"posterior.tif", "footprint.tif", "fused.tif"}) {
    GDALDatasetH ds = GDALOpen((out / f).c_str(), GA_ReadOnly);
    ASSERT_NE(ds, nullptr) << f;
    double gt[6];
    EXPECT_EQ(GDALGetGeoTransform(ds, gt), CE_None) << f;
    EXPECT_GT(gt[1], 0);
    EXPECT_LT(gt[5], 0);
    const std::string wkt = GDALGetProjectionRef(ds);
    EXPECT_NE(wkt.find("UTM zone 51N"), std::string::npos) << f;
    const char* layout = GDALGetMetadataItem(ds, "LAYOUT", "IMAGE_STRUCTURE");
    ASSERT_NE(layout, nullptr) << f;
    EXPECT_STREQ(layout, "COG") << f;
    if (std::string(f) == "fused.tif") {  // value, uncertainty (0..σ), count
      ASSERT_EQ(GDALGetRasterCount(ds), 3);
      const json doc = json::parse(slurp(out / "ranking.json"));
      const double sigma = doc.at("diagnostics").at("fused").at("sigma").get<double>();
      const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
      std::vector<float> u(static_cast<std::size_t>(w) * h), n(u.size());
      ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 2), GF_Read, 0, 0, w, h, u.data(), w, h, GDT_Float32, 0, 0), CE_None);
      ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 3), GF_Read, 0, 0, w, h, n.data(), w, h, GDT_Float32, 0, 0), CE_None);
      double counted = 0;
      for (std::size_t i = 0; i < u.size(); ++i) {
        EXPECT_GE(u[i], 0.0F);
        EXPECT_LE(u[i], sigma * 1.001 + 1e-6);
        counted += n[i];
      }
      EXPECT_GT(counted, 100.0);
    }
    if (std::string(f) == "posterior.tif") {
      const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
      std::vector<float> v(static_cast<std::size_t>(w) * h);
      ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, w, h, v.data(), w, h, GDT_Float32, 0, 0),
                CE_None);
      double sum = 0;
      for (float x : v)
        if (std::isfinite(x)) sum += x;
      // registry inside the grid + unlisted mass: every hypothesis but "no release"
      const json doc = json::parse(slurp(out / "ranking.json"));
      EXPECT_NEAR(sum, 1.0 - doc.at("no_release").at("probability").get<double>(), 1e-3);
    }
    GDALClose(ds);
  }
  // observations.csv: one row per observation used; the top candidate's modelled plume counts
  // the same observations as explained as the ranking does (both stand 2 noise levels up)
  const json doc = json::parse(slurp(out / "ranking.json"));
  std::istringstream csv(slurp(out / "observations.csv"));
  std::string line;
  ASSERT_TRUE(std::getline(csv, line));
  EXPECT_EQ(line, "platform,kind,time,averaging_s,lon,lat,height_m,value,background,usual,noise,samples,passes,"
                  "top_candidate,top_modelled");
  int rows = 0, explained = 0, reached = 0;
  std::string top;
  for (; std::getline(csv, line); ++rows) {
    if (line.empty()) break;
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string v; std::getline(fields, v, ',');) f.push_back(v);
    ASSERT_EQ(f.size(), 15u) << line;
    EXPECT_TRUE(f[1] == "station" || f[1] == "mobile" || f[1] == "imagery" || f[1] == "path") << line;
    EXPECT_TRUE(f[2].size() >= 20 && f[2][10] == 'T') << line;  // ISO 8601 in the case's time zone
    top = f[13];
    const double value = std::stod(f[7]), bg = std::stod(f[8]), usual = std::stod(f[9]), noise = std::stod(f[10]);
    const double modelled = std::stod(f[14]);
    EXPECT_GE(modelled, 0.0);
    EXPECT_GT(noise, 0.0);
    reached += modelled > 0;
    explained += modelled >= 2 * noise && value - bg - usual >= 2 * noise;
  }
  EXPECT_EQ(rows, doc.at("diagnostics").at("observations_used").get<int>());
  EXPECT_GT(reached, 0);
  const json& first = doc.at("candidates").at(0);
  ASSERT_EQ(top, "\"" + first.at("id").get<std::string>() + "\"");
  EXPECT_EQ(explained, first.at("evidence").at("observations_explained").get<int>());
  fs::remove_all(out);
}

TEST(Cli, TraceTableShowsTopTenReleaseAndNoReleaseLines) {
  const RunResult r = run("trace " + kExample + " " + kWindow);
  ASSERT_EQ(r.code, 0) << r.err;
  int rows = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) ++rows;
  EXPECT_EQ(rows, 10);
  EXPECT_NE(r.out.find("12 more facilities"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no release"), std::string::npos);
  EXPECT_NE(r.out.find("unlisted source: probability"), std::string::npos);
  // example 101's hours agree with each other: the held-out check keeps the highest tempering
  EXPECT_NE(r.out.find("tempering 0.5 (chosen by the held-out check"), std::string::npos) << r.out;
  // --usual-emissions auto (the default) says which model it kept and why
  EXPECT_TRUE(r.out.find("usual emissions: modelled, ") != std::string::npos ||
              r.out.find("usual emissions: not modelled (the held-out check preferred the background alone)") !=
                  std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("the held-out check preferred"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("07-28 "), std::string::npos) << "the release period of the leading candidates";
  // the culprit's row: probability with 3 decimals, the rate in fixed notation with 3 significant
  // figures and its interval as "(lo to hi)"
  const auto row_at = r.out.find("S007 ");
  ASSERT_NE(row_at, std::string::npos) << r.out;
  std::istringstream row(r.out.substr(row_at, r.out.find('\n', row_at) - row_at));
  std::string id, prob, rate, lo, to, hi;
  row >> id >> prob >> rate >> lo >> to >> hi;
  EXPECT_EQ(prob.size(), 5U) << prob;           // "0.992"
  EXPECT_EQ(rate.size(), 4U) << rate;           // "77.3"
  EXPECT_EQ(rate.find('e'), std::string::npos);
  EXPECT_EQ(lo.front(), '(') << lo;
  EXPECT_EQ(to, "to");
  EXPECT_EQ(hi.back(), ')') << hi;
  const RunResult all = run("trace " + kExample + " " + kWindow + " --all");
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(all.out.find("more facilities"), std::string::npos);
  EXPECT_NE(all.out.find("S018"), std::string::npos);
}

TEST(Cli, InspectReportsCounts) {
  const RunResult r = run("inspect " + kExample + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc.at("counts").at("sources"), 22);
  EXPECT_EQ(doc.at("counts").at("stations"), 8);
  EXPECT_EQ(doc.at("counts").at("readings"), 192);
  EXPECT_EQ(doc.at("counts").at("trace_points"), 1001);
  EXPECT_EQ(doc.at("analysis").at("crs"), "EPSG:32651");
  EXPECT_EQ(doc.at("rejected_rows"), 0);
  bool yongkang = false;
  for (const auto& j : doc.at("jurisdictions")) yongkang |= j.at("code") == "330784";
  EXPECT_TRUE(yongkang);
}

}  // namespace

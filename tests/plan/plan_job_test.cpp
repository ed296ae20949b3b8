// The plan job end to end on files (include/plumetrace/plan/plan_job.hpp): a real case folder, a
// real GeoTIFF posterior, the bundle opened again through GDAL's /vsizip/ and its manifest checked.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <nlohmann/json.hpp>
#include <ogr_srs_api.h>

#include "../support/temp_dir.hpp"
#include "plumetrace/audit/log.hpp"
#include "plumetrace/audit/sha256.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/pipeline/init.hpp"
#include "plumetrace/plan/plan_job.hpp"
#include "plumetrace/render/png.hpp"

namespace {

namespace fs = std::filesystem;
using namespace plumetrace;
using nlohmann::json;

fs::path fresh_dir(const std::string& name) { return testing_support::fresh_temp_dir("plumetrace_plan_" + name); }

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

/// Two counties A (west) and B (east) split at 120.1 E; stations in A; facilities on both sides.
fs::path make_case() {
  const fs::path d = fresh_dir("case");
  write(d / "case.json", R"({"name": "two counties", "pollutant": "so2"})");
  write(d / "boundaries.geojson", R"({"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"adcode": "A", "name": "West"}, "geometry": {"type": "Polygon",
  "coordinates": [[[120.0, 28.8], [120.1, 28.8], [120.1, 28.9], [120.0, 28.9], [120.0, 28.8]]]}},
 {"type": "Feature", "properties": {"adcode": "B", "name": "East"}, "geometry": {"type": "Polygon",
  "coordinates": [[[120.1, 28.8], [120.2, 28.8], [120.2, 28.9], [120.1, 28.9], [120.1, 28.8]]]}}]})");
  write(d / "stations.csv", "id,name,lon,lat,height_m\nM1,m1,120.05,28.85,3\nM2,m2,120.07,28.83,3\n");
  write(d / "sources.csv",
        "id,name,lon,lat,height_m\nS1,one,120.13,28.86,20\nS2,two,120.06,28.84,15\nS3,three,120.17,28.82,30\n");
  return d;
}

json make_ranking() {
  const auto cand = [](const char* id, double p, double lon, double lat, const char* code) {
    return json{{"id", id}, {"name", std::string("works ") + id}, {"lon", lon}, {"lat", lat}, {"probability", p},
                {"emission_rate_g_s", {{"estimate", 30.0}, {"p05", 15.0}, {"p95", 60.0}}},
                {"jurisdiction", {{"code", code}, {"name", code[0] == 'A' ? "West" : "East"}}},
                {"affected_jurisdictions", json::array({{{"code", "A"}, {"name", "West"}, {"observations", 9}}})},
                {"cross_border", code[0] != 'A'},
                {"evidence", {{"observations_explained", 9}, {"upwind_of", json::array({"M1"})}}}};
  };
  return {{"pollutant", "so2"},
          {"window", {{"start", "2021-07-28T00:00:00Z"}, {"end", "2021-07-28T06:00:00Z"}, {"given", false}}},
          {"candidates", json::array({cand("S1", 0.55, 120.13, 28.86, "B"), cand("S2", 0.2, 120.06, 28.84, "A"),
                                      cand("S3", 0.01, 120.17, 28.82, "B")})},
          {"unlisted", {{"probability", 0.2}, {"peak", {{"lon", 120.11}, {"lat", 28.87}}}, {"area_km2_90", 0.8}}},
          {"no_release", {{"probability", 0.04}}},
          {"jurisdictions", json::array({{{"code", "B"}, {"name", "East"}, {"probability", 0.76}},
                                         {{"code", "A"}, {"name", "West"}, {"probability", 0.24}}})},
          {"receptor_jurisdictions", json::array({{{"code", "A"}, {"name", "West"}}})}};
}

/// A posterior GeoTIFF in UTM 51N around the case, peaking on S1.
void make_posterior(const fs::path& file) {
  pipeline::init();
  GDALDriverH drv = GDALGetDriverByName("GTiff");
  const int n = 200;
  GDALDatasetH ds = GDALCreate(drv, file.string().c_str(), n, n, 1, GDT_Float32, nullptr);
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(srs, 32651);
  char* wkt = nullptr;
  OSRExportToWkt(srs, &wkt);
  GDALSetProjection(ds, wkt);
  CPLFree(wkt);
  // S1 (120.13, 28.86) is near x = 220,800 m, y = 3,195,600 m in UTM 51N
  double gt[6] = {211000.0, 100.0, 0.0, 3203000.0, 0.0, -100.0};
  GDALSetGeoTransform(ds, gt);
  std::vector<float> v(static_cast<std::size_t>(n) * n);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      const double x = gt[0] + (c + 0.5) * gt[1], y = gt[3] + (r + 0.5) * gt[5];
      v[static_cast<std::size_t>(r) * n + c] = static_cast<float>(std::exp(-(std::pow(x - 220800, 2) + std::pow(y - 3195600, 2)) / (2 * 800.0 * 800.0)));
    }
  EXPECT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, n, n, v.data(), n, n, GDT_Float32, 0, 0), CE_None);
  GDALClose(ds);
  OSRDestroySpatialReference(srs);
}

std::string read_vsi(const std::string& path) {
  VSILFILE* f = VSIFOpenL(path.c_str(), "rb");
  if (f == nullptr) return {};
  std::string s;
  char buf[65536];
  for (std::size_t k; (k = VSIFReadL(buf, 1, sizeof buf, f)) > 0;) s.append(buf, k);
  VSIFCloseL(f);
  return s;
}

TEST(PlanJob, WritesABundleWhoseManifestListsEveryFileWithItsSha256) {
  const fs::path c = make_case();
  const fs::path in = fresh_dir("in");
  write(in / "ranking.json", make_ranking().dump());
  make_posterior(in / "posterior.tif");
  plan::PlanJobRequest r;
  r.case_dir = c;
  r.ranking = in / "ranking.json";
  r.start = plan::LonLat{120.02, 28.89};
  r.out_dir = fresh_dir("out");
  const plan::PlanJobResult res = plan::run_plan_job(r);

  // the plan: both counties, B leads, S1, S2 and the search area visited, S3 (0.01, unflagged) not
  const json& p = res.plan;
  EXPECT_EQ(p["case"], "two counties");
  EXPECT_TRUE(p["joint"].get<bool>());
  EXPECT_EQ(p["lead"], "B");
  std::set<std::string> visited;
  for (const json& s : p["route"]["stops"]) visited.insert(s["id"].get<std::string>());
  EXPECT_EQ(visited, (std::set<std::string>{"S1", "S2", "unlisted"}));
  EXPECT_EQ(p["route"]["stops"][0]["id"], "S2");  // nearest to the start in the west
  EXPECT_EQ(p["ranking_sha256"], audit::sha256_file(r.ranking));

  // the bundle, opened through GDAL's zip reader: manifest <-> members, hashes equal
  const std::string zip = "/vsizip/" + res.bundle.string();
  char** members = VSIReadDir(zip.c_str());
  std::set<std::string> in_zip;
  for (char** m = members; m != nullptr && *m != nullptr; ++m) in_zip.insert(*m);
  CSLDestroy(members);
  EXPECT_EQ(in_zip, (std::set<std::string>{"plan.json", "ranking.json", "posterior.tif", "map.png", "report.html", "manifest.json"}));
  const json manifest = json::parse(read_vsi(zip + "/manifest.json"));
  std::set<std::string> listed;
  for (const json& f : manifest["files"]) {
    const std::string name = f["path"].get<std::string>();
    listed.insert(name);
    const std::string bytes = read_vsi(zip + "/" + name);
    EXPECT_EQ(audit::sha256_hex(bytes), f["sha256"]) << name;
    EXPECT_EQ(bytes.size(), f["bytes"].get<std::size_t>()) << name;
    // and the loose copy in the output folder is the same file
    std::ifstream loose(r.out_dir / name, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(loose), {}), bytes) << name;
  }
  in_zip.erase("manifest.json");
  EXPECT_EQ(listed, in_zip);
  EXPECT_EQ(manifest["plan_sha256"], audit::json_sha256(p));
  EXPECT_EQ(json::parse(read_vsi(zip + "/plan.json")), p);
  // a member changed after the fact no longer matches (the manifest can fail)
  EXPECT_NE(audit::sha256_hex(read_vsi(zip + "/plan.json") + " "), manifest["files"][0]["sha256"].get<std::string>());

  // the map: a PNG 1200 px on its long side; stop 1 is a red disc; the posterior is coloured
  const RgbaImage img = decode_png_rgba(read_vsi(zip + "/map.png"));
  EXPECT_EQ(std::max(img.width, img.height), 1200);
  std::size_t red = 0, posterior_px = 0, blue_route = 0;
  for (std::size_t i = 0; i < img.rgba.size(); i += 4) {
    const int R = img.rgba[i], G = img.rgba[i + 1], B = img.rgba[i + 2];
    red += R == 200 && G == 30 && B == 30;
    blue_route += R == 0 && G == 110 && B == 220;
    posterior_px += R > 200 && B < 200 && G < 250 && !(R == 200 && G == 30 && B == 30);
  }
  EXPECT_GT(red, 2u * 300u);       // two facility stops, ~415 px each
  EXPECT_GT(blue_route, 1000u);    // three legs, 3.5 px wide
  EXPECT_GT(posterior_px, 20000u); // the 800 m blob over many decades

  // the report: self-contained, escaped, with every stop and the map
  const std::string report = read_vsi(zip + "/report.html");
  EXPECT_NE(report.find("data:image/png;base64,"), std::string::npos);
  EXPECT_NE(report.find("works S1"), std::string::npos);
  EXPECT_NE(report.find("search area (unregistered source)"), std::string::npos);
  EXPECT_EQ(report.find("<script"), std::string::npos);
  EXPECT_NE(report.find(manifest["plan_sha256"].get<std::string>()), std::string::npos);
}

TEST(PlanJob, AuditedPlanAppendsAVerifiableRecordWithTheResultHash) {
  const fs::path c = make_case();
  const fs::path in = fresh_dir("in2");
  write(in / "ranking.json", make_ranking().dump());
  plan::PlanJobRequest r;
  r.case_dir = c;
  r.ranking = in / "ranking.json";  // no posterior beside it: a warning, no posterior in the bundle
  r.out_dir = fresh_dir("out2");
  const fs::path log = fresh_dir("log") / "audit.log";
  const plan::AuditedPlan a = plan::run_audited_plan(r, log, "cli");
  EXPECT_EQ(a.record.doc["command"], "plan");
  EXPECT_EQ(a.record.doc["result_sha256"], audit::json_sha256(a.result.plan));
  bool has_ranking = false, has_case = false;
  for (const json& f : a.record.doc["inputs"]) {
    has_ranking |= f["role"] == "ranking" && f["sha256"] == audit::sha256_file(r.ranking);
    has_case |= f["role"] == "case" && f["path"] == "sources.csv";
  }
  EXPECT_TRUE(has_ranking);
  EXPECT_TRUE(has_case);
  EXPECT_TRUE(audit::verify(log).ok());
  EXPECT_EQ(audit::verify(log).records, 1u);
  ASSERT_FALSE(a.result.plan["warnings"].empty());
  EXPECT_NE(a.result.plan["warnings"][0].get<std::string>().find("no posterior.tif"), std::string::npos);
  for (const json& f : a.result.manifest["files"]) EXPECT_NE(f["path"], "posterior.tif");
}

TEST(PlanJob, BadInputsNameTheFile) {
  const fs::path c = make_case();
  const fs::path in = fresh_dir("in3");
  plan::PlanJobRequest r;
  r.case_dir = c;
  r.out_dir = fresh_dir("out3");
  const auto message = [&]() {
    try {
      (void)plan::run_plan_job(r);
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  r.ranking = in / "missing.json";
  EXPECT_NE(message().find("missing.json: cannot read"), std::string::npos) << message();
  write(in / "broken.json", "{\"candidates\": [");
  r.ranking = in / "broken.json";
  EXPECT_NE(message().find("broken.json: not valid JSON"), std::string::npos) << message();
  json bad = make_ranking();
  bad["candidates"][2]["lat"] = 123.0;
  write(in / "bad.json", bad.dump());
  r.ranking = in / "bad.json";
  EXPECT_NE(message().find("bad.json: ranking: candidates[2].lat: 123 is outside [-90, 90]"), std::string::npos) << message();
  write(in / "ok.json", make_ranking().dump());
  write(in / "not-a-raster.tif", "hello");
  r.ranking = in / "ok.json";
  r.posterior = in / "not-a-raster.tif";
  EXPECT_NE(message().find("not-a-raster.tif"), std::string::npos) << message();
  EXPECT_FALSE(fs::exists(r.out_dir / "bundle.zip"));  // nothing half-written
}

}  // namespace

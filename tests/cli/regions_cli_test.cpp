// `plumetrace regions` run as a user runs it, on long-term cases written by
// scripts/make-regions-case.py (issue #9 item 6): stations in 永康市 next to its border with
// 缙云县, one steady source on either side of it.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <sys/wait.h>
#include <unistd.h>

#include <gdal_priv.h>
#include <nlohmann/json.hpp>

#include "../support/temp_dir.hpp"
#include "plumetrace/geo/crs.hpp"
#include "run_command.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using plumetrace::testing_support::run_command;

int plumetrace(const std::string& args, std::string& out, std::string& err) {
  return run_command(std::string("'") + PLUMETRACE_BINARY + "' " + args, out, err);
}

/// A case of `days` days at 4 stations with the source at `source` ("LON,LAT").
fs::path make_case(const std::string& name, const std::string& source, int days = 10) {
  const fs::path d = plumetrace::testing_support::fresh_temp_dir("plumetrace_regions_" + name);
  std::string out, err;
  const int rc = run_command(std::string("python3 '") + PLUMETRACE_SOURCE_DIR + "/scripts/make-regions-case.py' --out '" +
                         d.string() + "' --days " + std::to_string(days) + " --stations 4 --seed 3 --source " + source,
                     out, err);
  EXPECT_EQ(rc, 0) << err;
  fs::remove(d / "truth.json");  // not a case file
  return d;
}

/// Bearing (degrees from north) from (lon0, lat0) to (lon1, lat1), local plane.
double bearing_deg(double lon0, double lat0, double lon1, double lat1) {
  const double dx = (lon1 - lon0) * std::cos(lat0 * M_PI / 180.0), dy = lat1 - lat0;
  return std::fmod(std::atan2(dx, dy) * 180.0 / M_PI + 360.0, 360.0);
}

double angle_between(double a, double b) {
  const double d = std::fmod(std::abs(a - b), 360.0);
  return std::min(d, 360.0 - d);
}

TEST(RegionsCli, ASourceAcrossTheBorderSendsTheLargestShare) {
  const fs::path d = make_case("jinyun", "120.10,28.70");
  const fs::path out_dir = d.parent_path() / (d.filename().string() + "_out");
  plumetrace::testing_support::register_for_cleanup(out_dir);
  std::string out, err;
  ASSERT_EQ(plumetrace("regions '" + d.string() + "' --json --out '" + out_dir.string() + "'", out, err), 0) << err;
  const json doc = json::parse(out);
  EXPECT_EQ(doc.at("pollutant"), "so2");
  EXPECT_EQ(doc.at("stations"), 4);
  EXPECT_EQ(doc.at("hours"), 240);
  EXPECT_EQ(doc.at("trajectories"), 960);
  EXPECT_EQ(doc.at("wind_source"), "stations");
  EXPECT_FALSE(doc.at("window").at("given").get<bool>());
  const auto& areas = doc.at("jurisdictions");
  ASSERT_GE(areas.size(), 2U);
  EXPECT_EQ(areas[0].at("code"), "331122") << areas.dump();
  EXPECT_EQ(areas[0].at("name"), "缙云县");
  double sum = 0, previous = 2;
  for (const auto& a : areas) {
    sum += a.at("share").get<double>();
    EXPECT_LE(a.at("share").get<double>(), previous);
    previous = a.at("share").get<double>();
  }
  EXPECT_NEAR(sum, 1.0, 1e-4);
  EXPECT_GT(areas[0].at("share").get<double>(), 0.5);
  // the CWT peak lies toward the source as seen from the stations (they are 10-20 km north of it)
  double lon = 0, lat = 0;
  std::ifstream sf(d / "stations.csv");
  std::string line;
  std::getline(sf, line);
  int n = 0;
  while (std::getline(sf, line)) {
    const auto c1 = line.find(',', line.find(',') + 1), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1);
    lon += std::stod(line.substr(c1 + 1, c2 - c1 - 1));
    lat += std::stod(line.substr(c2 + 1, c3 - c2 - 1));
    ++n;
  }
  ASSERT_EQ(n, 4);
  lon /= n;
  lat /= n;
  const double to_source = bearing_deg(lon, lat, 120.10, 28.70);

  // the rasters: the grid of the document, PSCF within 0..1, both higher toward the source than
  // away from it (cells 5 km or more from the stations' centre, ±30° sectors)
  GDALAllRegister();
  const plumetrace::Transformer tr(doc["grid"]["crs"].get<std::string>());
  for (const char* name : {"pscf.tif", "cwt.tif"}) {
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open((out_dir / name).c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    ASSERT_NE(ds, nullptr) << name;
    const int w = ds->GetRasterXSize(), h = ds->GetRasterYSize();
    EXPECT_EQ(w, doc["grid"]["cols"].get<int>());
    EXPECT_EQ(h, doc["grid"]["rows"].get<int>());
    std::vector<float> v(static_cast<std::size_t>(w) * h);
    ASSERT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, w, h, v.data(), w, h, GDT_Float32, 0, 0, nullptr), CE_None);
    double gt[6];
    ASSERT_EQ(ds->GetGeoTransform(gt), CE_None);
    double toward = 0, away = 0, max_value = 0;
    int n_toward = 0, n_away = 0;
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c) {
        const float value = v[static_cast<std::size_t>(r) * w + c];
        if (std::isnan(value)) continue;
        EXPECT_GE(value, 0.0F);
        max_value = std::max<double>(max_value, value);
        double clon = 0, clat = 0;
        ASSERT_TRUE(tr.inverse(gt[0] + (c + 0.5) * gt[1], gt[3] + (r + 0.5) * gt[5], clon, clat));
        const double km = 111.2 * std::hypot((clon - lon) * std::cos(lat * M_PI / 180.0), clat - lat);
        if (km < 5.0) continue;
        const double off = angle_between(bearing_deg(lon, lat, clon, clat), to_source);
        if (off < 30.0) {
          toward += value;
          ++n_toward;
        } else if (off > 150.0) {
          away += value;
          ++n_away;
        }
      }
    ASSERT_GT(n_toward, 0);
    ASSERT_GT(n_away, 0);
    // PSCF is a share (0 in clean air); CWT a concentration that clean air keeps at background
    const double contrast = std::string(name) == "pscf.tif" ? 3.0 : 1.2;
    EXPECT_GT(toward / n_toward, contrast * away / n_away) << name;
    if (std::string(name) == "pscf.tif") {
      EXPECT_LE(max_value, 1.0);
    }
  }
  EXPECT_TRUE(fs::exists(out_dir / "regions.json"));

  // the table for people names the county
  ASSERT_EQ(plumetrace("regions '" + d.string() + "'", out, err), 0) << err;
  EXPECT_NE(out.find("缙云县"), std::string::npos) << out;
  fs::remove_all(d);
  fs::remove_all(out_dir);
}

TEST(RegionsCli, ASourceAtHomeKeepsTheShareAtHome) {
  const fs::path d = make_case("yongkang", "120.10,29.00");
  std::string out, err;
  ASSERT_EQ(plumetrace("regions '" + d.string() + "' --json", out, err), 0) << err;
  const json doc = json::parse(out);
  ASSERT_FALSE(doc.at("jurisdictions").empty());
  EXPECT_EQ(doc["jurisdictions"][0].at("code"), "330784") << doc["jurisdictions"].dump();
  // a window: only the hours whose middle lies in it
  ASSERT_EQ(plumetrace("regions '" + d.string() +
                           "' --json --start 2026-06-02T00:00:00+08:00 --end 2026-06-03T00:00:00+08:00",
                       out, err),
            0)
      << err;
  const json day = json::parse(out);
  EXPECT_EQ(day.at("hours"), 24);
  EXPECT_TRUE(day.at("window").at("given").get<bool>());
  fs::remove_all(d);
}

TEST(RegionsCli, BadInputIsExitTwoWithAReason) {
  const fs::path d = make_case("bad", "120.10,28.70", 2);
  std::string out, err;
  EXPECT_EQ(plumetrace("regions '" + d.string() + "' --pollutant no2 --json", out, err), 2);
  EXPECT_NE(err.find("no observations of 'no2'"), std::string::npos) << err;
  EXPECT_EQ(plumetrace("regions '" + d.string() + "' --start yesterday", out, err), 2);
  EXPECT_NE(err.find("yesterday"), std::string::npos) << err;
  EXPECT_EQ(plumetrace("regions '" + d.string() + "' --bogus", out, err), 2);
  // without wind there are no trajectories to run
  std::ifstream in(d / "readings.csv");
  std::string line, kept;
  while (std::getline(in, line))
    if (line.find(",wind_") == std::string::npos) kept += line + "\n";
  in.close();
  std::ofstream(d / "readings.csv") << kept;
  EXPECT_EQ(plumetrace("regions '" + d.string() + "'", out, err), 2);
  EXPECT_NE(err.find("regions needs wind"), std::string::npos) << err;
  fs::remove_all(d);
}

}  // namespace

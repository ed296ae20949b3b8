#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <gdal.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>

#include "plumetrace/core/error.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/ingest/readers.hpp"
#include "test_support.hpp"

namespace plumetrace {
namespace {

using test::dump;
using test::has_rejection;
using test::has_warning;
using test::TempDir;

TEST(CaseSettings, AllKeys) {
  Diagnostics d;
  const auto s = parse_case_settings(R"({
    "name": "incident 7", "pollutant": "SO2", "units": "ug/m3", "crs": "EPSG:32650",
    "grid_m": 250, "timezone": "Asia/Shanghai", "background": 4.5,
    "boundaries": {"file": "counties.gpkg", "code_field": "gb", "name_field": "mc"},
    "colour": "red"})", "case.json", d);
  EXPECT_EQ(s.name, "incident 7");
  EXPECT_EQ(s.pollutant, "so2");
  EXPECT_EQ(s.units, "ug/m3");
  EXPECT_EQ(s.crs, "EPSG:32650");
  EXPECT_EQ(s.grid_m, 250.0);
  EXPECT_EQ(s.timezone, "Asia/Shanghai");
  EXPECT_EQ(s.background_for("so2"), 4.5);  // a plain number applies to every pollutant
  EXPECT_EQ(s.background_for("no2"), 4.5);
  EXPECT_EQ(s.boundaries.file, "counties.gpkg");
  EXPECT_EQ(s.boundaries.code_field, "gb");
  EXPECT_EQ(s.boundaries.name_field, "mc");
  EXPECT_TRUE(has_warning(d, "case.json", "unknown key 'colour'"));
  const auto defaults = parse_case_settings("{}", "case.json", d);
  EXPECT_FALSE(defaults.grid_m.has_value());
  EXPECT_TRUE(defaults.timezone.empty());
  EXPECT_FALSE(defaults.background_for("so2").has_value());
}

TEST(CaseSettings, BackgroundPerPollutant) {
  Diagnostics d;
  const auto s = parse_case_settings(R"({"background": {"SO2": 6.0, "no2": 18.5}})", "case.json", d);
  EXPECT_EQ(s.background_for("so2"), 6.0);
  EXPECT_EQ(s.background_for("no2"), 18.5);
  EXPECT_FALSE(s.background_for("pm25").has_value());
  try {
    (void)parse_case_settings("{\n \"background\": {\"so2\": -1}\n}", "case.json", d);
    FAIL() << "a negative background must be refused";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("case.json line 2"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("'so2' is not"));
  }
}

TEST(CaseSettings, TraceSettingsByNameOverTheDefault) {
  Diagnostics d;
  const auto s = parse_case_settings(R"({"traces": {
    "*": {"inlet_height_m": 2.5, "lag_s": "auto", "background_window_s": 900},
    "boat_01": {"lag_s": 20, "inlet_height_m": 1.0, "cell_m": 30}}})",
                                     "case.json", d);
  const auto boat = s.trace_settings("boat_01");
  EXPECT_EQ(boat.lag_s, 20.0);
  EXPECT_EQ(boat.inlet_height_m, 1.0);
  EXPECT_EQ(boat.cell_m, 30.0);
  EXPECT_EQ(boat.background_window_s, 900.0);  // from "*"
  const auto car = s.trace_settings("car_01");
  EXPECT_FALSE(car.lag_s.has_value());  // "auto": estimated
  EXPECT_EQ(car.inlet_height_m, 2.5);
  EXPECT_FALSE(car.cell_m.has_value());
  try {
    (void)parse_case_settings("{\n \"traces\": {\n  \"car_01\": {\"lag_s\": -3}}\n}", "case.json", d);
    FAIL() << "a negative lag must be refused";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("case.json line 2"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("traces.car_01.lag_s"));
  }
  EXPECT_THROW((void)parse_case_settings(R"({"traces": {"car_01": {"cell_m": 0}}})", "case.json", d), InvalidInput);
  EXPECT_THROW((void)parse_case_settings(R"({"traces": [1]})", "case.json", d), InvalidInput);
  Diagnostics warn;
  (void)parse_case_settings(R"({"traces": {"car_01": {"speed": 3}}})", "case.json", warn);
  ASSERT_EQ(warn.warnings().size(), 1U);
  EXPECT_THAT(warn.warnings()[0].message, ::testing::HasSubstr("traces.car_01.speed"));
}

TEST(CaseSettings, ErrorsNameFileAndLine) {
  Diagnostics d;
  try {
    (void)parse_case_settings("{\n  \"name\": \"x\",\n  \"grid_m\": ,\n}", "case.json", d);
    FAIL() << "no throw";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("case.json line 3: invalid JSON"), std::string::npos) << e.what();
  }
  try {
    (void)parse_case_settings("{\n\"name\": \"x\",\n\"grid_m\": -5\n}", "case.json", d);
    FAIL() << "no throw";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("case.json line 3: key 'grid_m' must be a positive number"),
              std::string::npos) << e.what();
  }
  EXPECT_THROW((void)parse_case_settings(R"({"timezone": "Nowhere/City"})", "case.json", d), InvalidInput);
  EXPECT_THROW((void)parse_case_settings(R"({"name": 5})", "case.json", d), InvalidInput);
  EXPECT_THROW((void)parse_case_settings(R"([1, 2])", "case.json", d), InvalidInput);
  EXPECT_THROW((void)parse_case_settings("", "case.json", d), InvalidInput);
}

TEST(LoadCase, MissingFolderAndBadCaseJson) {
  EXPECT_THROW((void)load_case("/nonexistent/plumetrace/case"), InvalidInput);
  TempDir dir;
  const auto f = dir.write("file.txt", "x");
  EXPECT_THROW((void)load_case(f), InvalidInput);
  dir.write("case.json", "{\"name\": \"x\"");
  try {
    (void)load_case(dir.path());
    FAIL() << "no throw";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("case.json"), std::string::npos);
  }
}

TEST(LoadCase, WholeFolder) {
  TempDir dir;
  dir.write("case.json", R"({"name": "t", "pollutant": "so2", "timezone": "+08:00"})");
  dir.write("sources.csv", "id,name,lon,lat,height_m\nS1,a,120.1,28.9,30\nS2,b,120.2,28.8,10\nS2,dup,1,1,1\n");
  dir.write("stations.csv", "id,name,lon,lat,height_m\nM01,a,120.15,28.85,10\n");
  dir.write("readings.csv",
            "station_id,time,variable,value,unit\n"
            "M01,2021-06-01 23:00:00,so2,5,ug/m3\n"
            "M01,2021-06-02 00:00:00,so2,7,ug/m3\n"
            "M02,2021-06-02 00:00:00,so2,7,ug/m3\n");
  dir.write("traces/car_01.csv", "time,lon,lat,so2\n2021-06-01T23:10:00+08:00,120.1,28.9,3\n");
  dir.write("traces/empty.csv", "");
  dir.write("traces/notes.md", "hello");
  dir.write("boundaries.geojson", R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"331122","name":"A"},"geometry":{"type":"Polygon","coordinates":[[[120,28],[121,28],[121,29],[120,28]]]}}]})");
  dir.write("notes.txt", "unknown");
  dir.write(".hidden", "ignored silently");
  {
    GDALAllRegister();
    std::filesystem::create_directories(dir.path() / "imagery");
    const auto p = dir.path() / "imagery" / "d.tif";
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), p.c_str(), 4, 4, 1, GDT_Float32, nullptr);
    double gt[6] = {120, 0.01, 0, 29, 0, -0.01};
    GDALSetGeoTransform(ds, gt);
    GDALSetDescription(GDALGetRasterBand(ds, 1), "so2");
    GDALClose(ds);
  }
  const Case c = load_case(dir.path());
  EXPECT_EQ(c.settings.name, "t");
  EXPECT_EQ(c.sources.size(), 2U);
  EXPECT_EQ(c.stations.size(), 1U);
  EXPECT_EQ(c.readings.rows.size(), 2U);
  EXPECT_DOUBLE_EQ(c.readings.rows[0].time_s, parse_iso8601("2021-06-01T15:00:00Z"));
  ASSERT_EQ(c.traces.size(), 1U);
  EXPECT_EQ(c.traces[0].name, "car_01");
  EXPECT_EQ(c.traces[0].file, "traces/car_01.csv");
  ASSERT_EQ(c.imagery.size(), 1U);
  EXPECT_EQ(c.imagery[0].bands[0].variable, "so2");
  EXPECT_TRUE(c.imagery[0].crs_wkt.empty());
  ASSERT_TRUE(c.boundaries.has_value());
  EXPECT_EQ(c.boundaries->features.size(), 1U);
  EXPECT_EQ(c.accepted_rows.at("sources.csv"), 2U);
  EXPECT_EQ(c.accepted_rows.at("stations.csv"), 1U);
  EXPECT_EQ(c.accepted_rows.at("readings.csv"), 2U);
  EXPECT_EQ(c.accepted_rows.at("traces/car_01.csv"), 1U);
  EXPECT_EQ(c.accepted_rows.at("traces/empty.csv"), 0U);
  EXPECT_EQ(c.accepted_rows.at("boundaries.geojson"), 1U);
  EXPECT_EQ(c.accepted_rows.at("imagery/d.tif"), 1U);
  const auto& d = c.diagnostics;
  EXPECT_TRUE(has_rejection(d, "sources.csv", 4, "duplicate source id 'S2'")) << dump(d);
  EXPECT_TRUE(has_rejection(d, "readings.csv", 4, "unknown station 'M02'"));
  EXPECT_TRUE(has_warning(d, "readings.csv", "read in time zone +08:00"));
  EXPECT_TRUE(has_warning(d, "notes.txt", "unknown file"));
  EXPECT_TRUE(has_warning(d, "traces/notes.md", "unknown file"));
  EXPECT_TRUE(has_warning(d, "traces/empty.csv", "empty file"));
  EXPECT_FALSE(has_warning(d, ".hidden", ""));
  EXPECT_EQ(d.rejected().size(), 2U) << dump(d);
}

TEST(LoadCase, OpenPathsReportLikeStations) {
  TempDir dir;
  dir.write("stations.csv", "id,lon,lat\nM01,120.15,28.85\n");
  dir.write("paths.csv", "id,name,lon1,lat1,lon2,lat2,height_m\nL1,fence,120.10,28.90,120.11,28.90,2\n");
  dir.write("readings.csv",
            "station_id,time,variable,value,unit\n"
            "M01,2021-06-01T23:00:00Z,so2,5,ug/m3\n"
            "L1,2021-06-01T23:00:00Z,so2,9,ug/m3\n"
            "L2,2021-06-01T23:00:00Z,so2,9,ug/m3\n");
  const Case c = load_case(dir.path());
  ASSERT_EQ(c.stations.size(), 2U);
  EXPECT_FALSE(c.stations[0].path_end.has_value());
  ASSERT_TRUE(c.stations[1].path_end.has_value());
  EXPECT_EQ(c.stations[1].id, "L1");
  EXPECT_EQ(c.readings.rows.size(), 2U);
  EXPECT_EQ(c.accepted_rows.at("paths.csv"), 1U);
  EXPECT_FALSE(has_warning(c.diagnostics, "paths.csv", "unknown file"));
  EXPECT_TRUE(has_rejection(c.diagnostics, "readings.csv", 4, "unknown station 'L2'")) << dump(c.diagnostics);
}

TEST(LoadCase, UnreadableFileAndMetFolder) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "readings.csv");  // a folder, not a file
  dir.write("stations.csv", "id,lon,lat\nM01,120,28\n");
  dir.write("met/bad.grib2", "GRIB but not really");
  {
    GDALAllRegister();
    const auto p = dir.path() / "met" / "wind.tif";
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), p.c_str(), 2, 2, 2, GDT_Float32, nullptr);
    double gt[6] = {120, 0.5, 0, 29, 0, -0.5};
    GDALSetGeoTransform(ds, gt);
    GDALSetDescription(GDALGetRasterBand(ds, 1), "u");
    GDALSetDescription(GDALGetRasterBand(ds, 2), "v");
    GDALSetMetadataItem(GDALGetRasterBand(ds, 1), "time", "2021-06-01T00:00:00Z", nullptr);
    GDALSetMetadataItem(GDALGetRasterBand(ds, 2), "time", "2021-06-01T00:00:00Z", nullptr);
    GDALClose(ds);
  }
  const Case c = load_case(dir.path());
  EXPECT_EQ(c.stations.size(), 1U);
  EXPECT_TRUE(c.readings.rows.empty());
  EXPECT_TRUE(has_rejection(c.diagnostics, "readings.csv", 0, "cannot read")) << dump(c.diagnostics);
  ASSERT_EQ(c.met.size(), 1U);
  EXPECT_EQ(c.met[0].file, "met/wind.tif");
  EXPECT_EQ(c.accepted_rows.at("met/wind.tif"), 1U);
  EXPECT_TRUE(has_rejection(c.diagnostics, "met/bad.grib2", 0, "cannot open"));
}

TEST(LoadCase, Example101) {
  const std::filesystem::path dir = std::filesystem::path(PLUMETRACE_TEST_DATA) / "ingest" / "example-101";
  const Case c = load_case(dir);
  EXPECT_EQ(c.settings.pollutant, "so2");
  EXPECT_EQ(c.sources.size(), 22U);
  EXPECT_EQ(c.stations.size(), 8U);
  EXPECT_EQ(c.readings.rows.size(), 192U);
  ASSERT_EQ(c.traces.size(), 1U);
  EXPECT_EQ(c.traces[0].size(), 1001U);
  EXPECT_EQ(c.traces[0].variables, (std::vector<std::string>{"so2"}));
  EXPECT_TRUE(c.diagnostics.rejected().empty()) << dump(c.diagnostics);
  // all hourly: periods inferred from the spacing
  for (const auto& r : c.readings.rows) ASSERT_DOUBLE_EQ(r.period_s, 3600.0);
  EXPECT_DOUBLE_EQ(c.readings.rows[0].time_s, parse_iso8601("2021-07-28T18:00:00+08:00"));
  EXPECT_DOUBLE_EQ(c.sources[0].lon, 120.086760);
  EXPECT_EQ(c.sources[0].pollutants, (std::vector<std::string>{"so2", "nox", "pm10"}));
  const auto boundary = dir / "../../../../data/zhejiang_counties.geojson";
  if (std::filesystem::exists(boundary)) {
    ASSERT_TRUE(c.boundaries.has_value());
    EXPECT_GT(c.boundaries->features.size(), 10U);
  } else {
    EXPECT_FALSE(c.boundaries.has_value());
  }
}

}  // namespace
}  // namespace plumetrace

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "plumetrace/core/error.hpp"
#include "plumetrace/ingest/readers.hpp"
#include "test_support.hpp"

namespace plumetrace {
namespace {

using test::dump;
using test::has_rejection;
using test::has_warning;

std::vector<Station> two_stations() {
  Diagnostics d;
  auto csv = CsvReader::from_string("id,name,lon,lat,height_m\nM01,a,120.1,28.9,10\nM02,b,120.2,28.8,4\n");
  return read_stations_csv(csv, "stations.csv", d);
}

TEST(SourcesCsv, GoodAndBadRows) {
  auto csv = CsvReader::from_string(
      "\xEF\xBB\xBFid,name,lon,lat,height_m,industry,pollutants,prior,exit_temp_c,permit\r\n"  // 1
      "S001,\"Foundry, East \"\"A\"\"\",120.1,28.9,30,foundry,SO2; NOx ;,2,150,P-1\r\n"        // 2
      "S002,Bad lat,120.1,95.2,10,,,,,\r\n"                                                 // 3
      "S003,Bad lon,abc,28.9,10,,,,,\r\n"                                                   // 4
      "S004,NaN height,120.1,28.9,nan,,,,,\r\n"                                             // 5
      "S001,dup,120.2,28.8,10,,,,,\r\n"                                                     // 6
      "S005,short,120.1\r\n"                                                                // 7
      "S006,extra,120.1,28.9,10,,,,,,x\r\n"                                                 // 8
      "S007,\xFF bad,120.1,28.9,10,,,,,\r\n"                                                // 9
      "S008,neg prior,120.1,28.9,10,,,-1,,\r\n"                                             // 10
      "S009,inf height,120.1,28.9,inf,,,,,\r\n"                                             // 11
      "S010,,-120.3,-28.7,0,,,,,\r\n"                                                       // 12
      ",no id,120.1,28.9,10,,,,,\r\n"                                                       // 13
      "S011,Truncated,120.3,28.7,5");                                                       // 14
  Diagnostics d;
  const auto s = read_sources_csv(csv, "sources.csv", d);
  ASSERT_EQ(s.size(), 2U) << dump(d);
  EXPECT_EQ(s[0].id, "S001");
  EXPECT_EQ(s[0].name, "Foundry, East \"A\"");
  EXPECT_DOUBLE_EQ(s[0].lon, 120.1);
  EXPECT_DOUBLE_EQ(s[0].lat, 28.9);
  EXPECT_DOUBLE_EQ(s[0].height_m, 30);
  EXPECT_EQ(s[0].industry, "foundry");
  EXPECT_EQ(s[0].pollutants, (std::vector<std::string>{"so2", "nox"}));
  EXPECT_DOUBLE_EQ(s[0].prior, 2);
  ASSERT_TRUE(s[0].exit_temp_k.has_value());
  EXPECT_DOUBLE_EQ(*s[0].exit_temp_k, 423.15);
  EXPECT_FALSE(s[0].exit_velocity_m_s.has_value());
  EXPECT_EQ(s[0].extra.at("permit"), "P-1");
  EXPECT_EQ(s[0].line, 2U);
  EXPECT_EQ(s[1].id, "S010");
  EXPECT_EQ(s[1].name, "S010");  // empty name -> id
  EXPECT_DOUBLE_EQ(s[1].prior, 1.0);
  EXPECT_TRUE(has_rejection(d, "sources.csv", 3, "column lat: 95.2 outside [-90, 90]")) << dump(d);
  EXPECT_TRUE(has_rejection(d, "sources.csv", 4, "column lon: 'abc' is not a finite number"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 5, "column height_m: 'nan' is not a finite number"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 6, "duplicate source id 'S001' first seen on line 2"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 7, "expected 10 columns, got 3"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 8, "expected 10 columns, got 11"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 9, "invalid UTF-8 in column name"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 10, "column prior: -1 must be > 0"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 11, "column height_m: 'inf' is not a finite number"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 13, "column id: empty"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 14, "expected 10 columns, got 5"));
  EXPECT_EQ(d.rejected().size(), 11U);
}

TEST(SourcesCsv, MissingColumnRejectsFile) {
  auto csv = CsvReader::from_string("id,name,lat,height_m\nS1,a,28,10\n");
  Diagnostics d;
  EXPECT_TRUE(read_sources_csv(csv, "sources.csv", d).empty());
  ASSERT_EQ(d.rejected().size(), 1U);
  EXPECT_TRUE(has_rejection(d, "sources.csv", 1, "missing required column 'lon'"));
}

TEST(SourcesCsv, OptionalColumnsAndKelvin) {
  auto csv = CsvReader::from_string(
      "id,lon,lat,exit_velocity_m_s,exit_temp_k,stack_diameter_m,jurisdiction,permitted_g_s\n"
      "S1,120,28,12.5,420,1.5,331122,2.5\nS2,120,28,,,,,\nS3,120,28,-1,,,,\nS4,120,28,,0,,,\nS5,120,28,,,,,-0.1\n");
  Diagnostics d;
  const auto s = read_sources_csv(csv, "sources.csv", d);
  ASSERT_EQ(s.size(), 2U) << dump(d);
  EXPECT_DOUBLE_EQ(*s[0].exit_velocity_m_s, 12.5);
  EXPECT_DOUBLE_EQ(*s[0].exit_temp_k, 420);
  EXPECT_DOUBLE_EQ(*s[0].stack_diameter_m, 1.5);
  EXPECT_EQ(s[0].jurisdiction, "331122");
  EXPECT_DOUBLE_EQ(s[0].height_m, 0);
  EXPECT_FALSE(s[1].exit_temp_k.has_value());
  EXPECT_DOUBLE_EQ(*s[0].permitted_g_s, 2.5);
  EXPECT_FALSE(s[1].permitted_g_s.has_value());
  EXPECT_EQ(s[0].extra.count("permitted_g_s"), 0U);  // a known column, not an extra
  EXPECT_TRUE(has_rejection(d, "sources.csv", 6, "column permitted_g_s: -0.1 must be >= 0"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 4, "column exit_velocity_m_s: -1 must be >= 0"));
  EXPECT_TRUE(has_rejection(d, "sources.csv", 5, "column exit_temp_k: 0 must be > 0"));
}

TEST(SourcesCsv, EmptyFileIsAWarning) {
  auto csv = CsvReader::from_string("");
  Diagnostics d;
  EXPECT_TRUE(read_sources_csv(csv, "sources.csv", d).empty());
  EXPECT_TRUE(d.rejected().empty());
  EXPECT_TRUE(has_warning(d, "sources.csv", "empty file"));
  auto header_only = CsvReader::from_string("id,lon,lat,height_m\r\n");
  Diagnostics d2;
  EXPECT_TRUE(read_sources_csv(header_only, "sources.csv", d2).empty());
  EXPECT_TRUE(d2.rejected().empty());
}

TEST(StationsCsv, GoodAndBadRows) {
  auto csv = CsvReader::from_string(
      "id,name,lon,lat,height_m\r\n"
      "M01,\"Station, one\",120.1,28.9,10\r\n"  // 2
      "M02,two,181,28.9,4\r\n"                  // 3
      "M01,again,120.2,28.8,4\r\n"              // 4
      "M03,three,120.3,-90.5,4\r\n"             // 5
      "M04,four,120.3,28.7,-1\r\n"              // 6
      "M05,five,120.3,28.7,\r\n"                // 7 (height blank -> 0)
      "M06,\xE6\xB0\xB8\xE5\xBA\xB7,120.3,28.7,2\r\n"  // 8 UTF-8 name
      "M07,seven,1e999,28.7,2\r\n"              // 9
      "M08,eight,120.3");                       // 10 truncated
  Diagnostics d;
  const auto s = read_stations_csv(csv, "stations.csv", d);
  ASSERT_EQ(s.size(), 3U) << dump(d);
  EXPECT_EQ(s[0].name, "Station, one");
  EXPECT_EQ(s[1].id, "M05");
  EXPECT_DOUBLE_EQ(s[1].height_m, 0.0);
  EXPECT_EQ(s[2].name, "永康");
  EXPECT_TRUE(has_rejection(d, "stations.csv", 3, "column lon: 181 outside [-180, 180]"));
  EXPECT_TRUE(has_rejection(d, "stations.csv", 4, "duplicate station id 'M01' first seen on line 2"));
  EXPECT_TRUE(has_rejection(d, "stations.csv", 5, "column lat: -90.5 outside [-90, 90]"));
  EXPECT_TRUE(has_rejection(d, "stations.csv", 6, "column height_m: -1 is negative"));
  EXPECT_TRUE(has_rejection(d, "stations.csv", 9, "column lon: '1e999' is not a finite number"));
  EXPECT_TRUE(has_rejection(d, "stations.csv", 10, "expected 5 columns, got 3"));
  EXPECT_EQ(d.rejected().size(), 6U);
}

TEST(StationsCsv, MissingColumn) {
  auto csv = CsvReader::from_string("id,name,lon\nM01,a,120\n");
  Diagnostics d;
  EXPECT_TRUE(read_stations_csv(csv, "stations.csv", d).empty());
  EXPECT_TRUE(has_rejection(d, "stations.csv", 1, "missing required column 'lat'"));
}

TEST(PathsCsv, BeamsBecomeStationsWithAFarEnd) {
  const auto stations = two_stations();  // M01, M02
  auto csv = CsvReader::from_string(
      "id,name,lon1,lat1,lon2,lat2,height_m\n"
      "L1,fence north,120.100,28.900,120.105,28.900,2\n"  // 2: ~490 m
      "L2,,120.1,28.9,120.1,28.9,2\n"                     // 3: ends coincide
      "M01,clash,120.1,28.9,120.11,28.9,2\n"              // 4: a station's id
      "L1,again,120.1,28.9,120.11,28.9,2\n"               // 5: duplicate
      "L3,long,120.0,28.9,120.2,28.9,2\n"                 // 6: ~19.5 km
      "L4,bad,120.1,28.9,190,28.9,2\n"                    // 7: far end outside the world
      "L5,,120.2,28.8,120.2,28.801,\n");                  // 8: name = id, height 0
  Diagnostics d;
  const auto p = read_paths_csv(csv, "paths.csv", stations, d);
  ASSERT_EQ(p.size(), 2U) << dump(d);
  EXPECT_EQ(p[0].id, "L1");
  EXPECT_EQ(p[0].name, "fence north");
  ASSERT_TRUE(p[0].path_end.has_value());
  EXPECT_DOUBLE_EQ(p[0].path_end->first, 120.105);
  EXPECT_DOUBLE_EQ(p[0].lon, 120.100);
  EXPECT_EQ(p[1].name, "L5");
  EXPECT_TRUE(has_rejection(d, "paths.csv", 3, "the beam's two ends coincide"));
  EXPECT_TRUE(has_rejection(d, "paths.csv", 4, "path id 'M01' is already a station in stations.csv"));
  EXPECT_TRUE(has_rejection(d, "paths.csv", 5, "duplicate path id 'L1' first seen on line 2"));
  EXPECT_TRUE(has_rejection(d, "paths.csv", 6, "the beam is 19469 m long, more than 10000 m"));
  EXPECT_TRUE(has_rejection(d, "paths.csv", 7, "column lon2: 190 outside [-180, 180]"));
  EXPECT_EQ(d.rejected().size(), 5U);
}

TEST(ReadingsCsv, ValidationDedupeSortAndStability) {
  const auto stations = two_stations();
  auto csv = CsvReader::from_string(
      "station_id,time,variable,value,unit\n"                      // 1
      "M01,2021-06-01T23:00:00+08:00,SO2,10.5,ug/m3\n"             // 2
      "M01,2021-06-01T22:00:00+08:00,so2,9,ug/m3\n"                // 3
      "M99,2021-06-01T23:00:00+08:00,so2,1,ug/m3\n"                // 4
      "M01,2021-06-01T15:00:00Z,so2,11,ug/m3\n"                    // 5 same instant as line 2
      "M02,2021-06-01T23:00:00+08:00,so2,-1,ug/m3\n"               // 6
      "M02,2021-06-01T23:00:00+08:00,temperature,-5,degC\n"        // 7
      "M02,2021-06-01T23:00:00+08:00,wind_dir,361,deg\n"           // 8
      "M02,2021-06-01T23:00:00+08:00,wind_speed,-0.5,m/s\n"        // 9
      "M02,2021-06-01T23:00:00+08:00,cloud_cover,9,okta\n"         // 10
      "M02,2021-06-01T23:00:00+08:00,stability,d,\n"               // 11
      "M02,2021-06-01T23:00:00+08:00,so2,NaN,ug/m3\n"              // 12
      "M02,not-a-time,so2,1,ug/m3\n"                               // 13
      "M02,2021-06-01T23:00:00,so2,2,ug/m3\n"                      // 14 naive, +08:00
      "M02,2021-06-02T00:00:00+08:00,stability,G,\n"               // 15
      "\"M02\",\"2021-06-01T22:00:00+08:00\",\"wind_dir\",\"360\",\"deg\"\n"  // 16 quoted
      "M02,2021-06-02T00:00:00+08:00,so2,\xC3\x28,ug/m3\n"         // 17 invalid UTF-8
      "M01,2021-06-02T00:00:00+08:00,so2,8");                      // 18 truncated
  Diagnostics d;
  std::size_t accepted = 0;
  const auto t = read_readings_csv(csv, "readings.csv", stations, TimeZone::parse("+08:00"), d, &accepted);
  EXPECT_EQ(accepted, 6U) << dump(d);
  ASSERT_EQ(t.rows.size(), 6U);
  EXPECT_EQ(t.variables, (std::vector<std::string>{"so2", "temperature", "wind_dir", "wind_speed",
                                                   "cloud_cover", "stability"}));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 4, "unknown station 'M99'")) << dump(d);
  EXPECT_TRUE(has_rejection(d, "readings.csv", 5,
                            "duplicate reading (M01, 2021-06-01T23:00:00+08:00, so2) first seen on line 2"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 6, "negative concentration -1 of so2"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 8, "wind_dir 361 outside [0, 360]"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 9, "wind_speed -0.5 is negative"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 10, "cloud_cover 9 outside [0, 8]"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 12, "column value: 'NaN' is not a finite number"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 13, "column time: cannot parse 'not-a-time'"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 15, "stability 'G' is not a Pasquill class A-F"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 17, "invalid UTF-8 in column value"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 18, "expected 5 columns, got 4"));
  EXPECT_EQ(d.rejected().size(), 11U);
  EXPECT_TRUE(has_warning(d, "readings.csv", "read in time zone +08:00"));
  // sorted by (station, variable, time)
  const int so2 = t.variable_index("so2");
  ASSERT_GE(so2, 0);
  const auto& r = t.rows;
  EXPECT_EQ(r[0].station, 0U);
  EXPECT_EQ(r[0].variable, so2);
  EXPECT_DOUBLE_EQ(r[0].time_s, parse_iso8601("2021-06-01T14:00:00Z"));
  EXPECT_DOUBLE_EQ(r[0].value, 9);
  EXPECT_DOUBLE_EQ(r[1].value, 10.5);  // first occurrence kept
  EXPECT_DOUBLE_EQ(r[0].period_s, 3600);  // inferred: spacing 1 h
  EXPECT_FALSE(r[0].period_given);
  EXPECT_EQ(t.units[r[0].unit], "ug/m3");
  for (std::size_t i = 1; i < r.size(); ++i) {
    const auto key = [](const Reading& x) { return std::make_tuple(x.station, x.variable, x.time_s); };
    EXPECT_LT(key(r[i - 1]), key(r[i]));
  }
  // M02: so2 from the naive row (line 14), temperature -5, wind_dir 360 (quoted), stability D = 4
  EXPECT_EQ(r[2].station, 1U);
  EXPECT_EQ(r[2].variable, so2);
  EXPECT_DOUBLE_EQ(r[2].value, 2);
  EXPECT_DOUBLE_EQ(r[2].time_s, parse_iso8601("2021-06-01T15:00:00Z"));
  EXPECT_DOUBLE_EQ(r[2].period_s, 3600);  // single value: default
  EXPECT_DOUBLE_EQ(r[3].value, -5);
  EXPECT_DOUBLE_EQ(r[4].value, 360);
  EXPECT_EQ(r[5].variable, t.variable_index("stability"));
  EXPECT_DOUBLE_EQ(r[5].value, 4);
}

TEST(ReadingsCsv, PeriodGivenAndInferred) {
  const auto stations = two_stations();
  auto csv = CsvReader::from_string(
      "station_id,time,variable,value,unit,period\n"
      "M01,2021-06-01T00:00:00Z,no2,1,ug/m3,\n"
      "M01,2021-06-01T00:10:00Z,no2,1,ug/m3,\n"
      "M01,2021-06-01T00:20:00Z,no2,1,ug/m3,PT10M\n"
      "M01,2021-06-01T00:40:00Z,no2,1,ug/m3,\n"
      "M02,2021-06-01T00:00:00Z,no2,1,ug/m3,PT1H\n"
      "M02,2021-06-01T01:00:00Z,no2,1,ug/m3,P1H\n"
      "M02,2021-06-01T02:00:00Z,no2,1,ug/m3,PT0S\n");
  Diagnostics d;
  const auto t = read_readings_csv(csv, "readings.csv", stations, TimeZone{}, d);
  ASSERT_EQ(t.rows.size(), 5U) << dump(d);
  EXPECT_DOUBLE_EQ(t.rows[0].period_s, 600);  // median of 600, 600, 1200
  EXPECT_DOUBLE_EQ(t.rows[3].period_s, 600);
  EXPECT_TRUE(t.rows[2].period_given);
  EXPECT_DOUBLE_EQ(t.rows[4].period_s, 3600);
  EXPECT_TRUE(t.rows[4].period_given);
  EXPECT_TRUE(has_rejection(d, "readings.csv", 7, "column period: 'P1H' is not a positive ISO 8601 duration"));
  EXPECT_TRUE(has_rejection(d, "readings.csv", 8, "column period: 'PT0S'"));
  EXPECT_TRUE(d.warnings().empty()) << dump(d);
}

TEST(ReadingsCsv, MissingColumnAndEmpty) {
  const auto stations = two_stations();
  auto csv = CsvReader::from_string("station_id,time,value\nM01,2021-06-01T00:00:00Z,1\n");
  Diagnostics d;
  EXPECT_TRUE(read_readings_csv(csv, "readings.csv", stations, TimeZone{}, d).rows.empty());
  EXPECT_TRUE(has_rejection(d, "readings.csv", 1, "missing required column 'variable'"));
  auto empty = CsvReader::from_string("");
  Diagnostics d2;
  std::size_t n = 99;
  EXPECT_TRUE(read_readings_csv(empty, "readings.csv", stations, TimeZone{}, d2, &n).rows.empty());
  EXPECT_EQ(n, 0U);
  EXPECT_TRUE(has_warning(d2, "readings.csv", "empty file"));
}

TEST(TraceCsv, WideRowsSortedAndValidated) {
  auto csv = CsvReader::from_string(
      "\xEF\xBB\xBFtime,lon,lat,alt_m,platform,SO2,wind_speed\r\n"   // 1
      "2021-06-01T23:00:04+08:00,120.1,28.9,,\"car, A\",10,2\r\n"   // 2
      "2021-06-01T23:00:00+08:00,120.1,28.9,12,\"car, A\",11,\r\n"  // 3
      "2021-06-01T23:00:02+08:00,200,28.9,,car A,1,1\r\n"            // 4
      "2021-06-01T23:00:06+08:00,120.1,28.9,,car A,-2,1\r\n"         // 5
      "2021-06-01T23:00:08+08:00,120.1,28.9,,car A,inf,1\r\n"        // 6
      "2021-06-01T23:00:09,120.1,28.91,,car A,3,1\r\n"               // 7 naive (UTC)
      "2021-06-01T23:00:10+08:00,120.1,28.9\r\n");                   // 8
  Diagnostics d;
  const Trace tr = read_trace_csv(csv, "traces/car_01.csv", "car_01", TimeZone{}, d);
  ASSERT_EQ(tr.size(), 3U) << dump(d);
  EXPECT_EQ(tr.name, "car_01");
  EXPECT_EQ(tr.platform, "car, A");
  EXPECT_EQ(tr.variables, (std::vector<std::string>{"so2", "wind_speed"}));
  EXPECT_DOUBLE_EQ(tr.time_s[0], parse_iso8601("2021-06-01T15:00:00Z"));
  EXPECT_DOUBLE_EQ(tr.time_s[1], parse_iso8601("2021-06-01T15:00:04Z"));
  EXPECT_DOUBLE_EQ(tr.time_s[2], parse_iso8601("2021-06-01T23:00:09Z"));
  EXPECT_DOUBLE_EQ(tr.alt_m[0], 12);
  EXPECT_TRUE(std::isnan(tr.alt_m[1]));
  EXPECT_DOUBLE_EQ(tr.values[0][0], 11);
  EXPECT_TRUE(std::isnan(tr.values[1][0]));
  EXPECT_DOUBLE_EQ(tr.values[0][1], 10);
  EXPECT_DOUBLE_EQ(tr.values[1][1], 2);
  EXPECT_DOUBLE_EQ(tr.lat[2], 28.91);
  EXPECT_TRUE(has_warning(d, "traces/car_01.csv", "sorted by time"));
  EXPECT_TRUE(has_warning(d, "traces/car_01.csv", "read in time zone UTC"));
  EXPECT_TRUE(has_rejection(d, "traces/car_01.csv", 4, "column lon: 200 outside [-180, 180]"));
  EXPECT_TRUE(has_rejection(d, "traces/car_01.csv", 5, "negative concentration -2 of so2"));
  EXPECT_TRUE(has_rejection(d, "traces/car_01.csv", 6, "column so2: 'inf' is not a finite number"));
  EXPECT_TRUE(has_rejection(d, "traces/car_01.csv", 8, "expected 7 columns, got 3"));
  EXPECT_EQ(d.rejected().size(), 4U);
}

TEST(TraceCsv, MissingTimeColumnAndBadUtf8Header) {
  auto csv = CsvReader::from_string("lon,lat,so2\n120,28,1\n");
  Diagnostics d;
  EXPECT_EQ(read_trace_csv(csv, "traces/x.csv", "x", TimeZone{}, d).size(), 0U);
  EXPECT_TRUE(has_rejection(d, "traces/x.csv", 1, "missing required column 'time'"));
  auto bad = CsvReader::from_string("time,lon,lat,s\xE9\n");
  Diagnostics d2;
  EXPECT_EQ(read_trace_csv(bad, "traces/y.csv", "y", TimeZone{}, d2).size(), 0U);
  EXPECT_TRUE(has_rejection(d2, "traces/y.csv", 1, "invalid UTF-8 in the header"));
}

TEST(Stability, ClassNumbers) {
  EXPECT_EQ(pasquill_class_number("A"), 1);
  EXPECT_EQ(pasquill_class_number(" f "), 6);
  EXPECT_EQ(pasquill_class_number("4"), 4);
  EXPECT_EQ(pasquill_class_number("4.0"), 4);
  EXPECT_EQ(pasquill_class_number("G"), 0);
  EXPECT_EQ(pasquill_class_number("7"), 0);
  EXPECT_EQ(pasquill_class_number("AB"), 0);
}

}  // namespace
}  // namespace plumetrace

namespace plumetrace {
namespace {

/// One kind of CSV file and how to read it, for the hygiene checks every kind must pass.
struct CsvKind {
  const char* name;
  const char* header;
  const char* good_row;        ///< one valid row (uses a quoted field with a comma)
  const char* numeric_column;  ///< the column the NaN/inf rows spoil
  const char* nan_row;
  const char* inf_row;
  const char* bad_utf8_row;
  /// Read the text, return the accepted row count.
  std::size_t (*read)(const std::string& text, Diagnostics& d);
};

std::size_t read_sources_text(const std::string& text, Diagnostics& d) {
  auto csv = CsvReader::from_string(text);
  return read_sources_csv(csv, "f.csv", d).size();
}
std::size_t read_stations_text(const std::string& text, Diagnostics& d) {
  auto csv = CsvReader::from_string(text);
  return read_stations_csv(csv, "f.csv", d).size();
}
std::size_t read_readings_text(const std::string& text, Diagnostics& d) {
  std::vector<Station> st(1);
  st[0].id = "M,1";
  auto csv = CsvReader::from_string(text);
  return read_readings_csv(csv, "f.csv", st, TimeZone{}, d).rows.size();
}
std::size_t read_trace_text(const std::string& text, Diagnostics& d) {
  auto csv = CsvReader::from_string(text);
  return read_trace_csv(csv, "f.csv", "f", TimeZone{}, d).size();
}

const CsvKind kKinds[] = {
    {"sources", "id,name,lon,lat,height_m", "S1,\"Works, Ltd\",120.1,28.9,30", "height_m",
     "S2,a,120.1,28.9,NaN", "S3,a,120.1,28.9,-inf", "S4,\xC3\x28,120.1,28.9,1", read_sources_text},
    {"stations", "id,name,lon,lat,height_m", "M1,\"Hill, top\",120.1,28.9,3", "lon",
     "M2,a,nan,28.9,3", "M3,a,Infinity,28.9,3", "M4,\xFF,120.1,28.9,3", read_stations_text},
    {"readings", "station_id,time,variable,value,unit", "\"M,1\",2021-06-01T00:00:00Z,so2,5,ug/m3",
     "value", "\"M,1\",2021-06-01T01:00:00Z,so2,nan,ug/m3", "\"M,1\",2021-06-01T02:00:00Z,so2,inf,ug/m3",
     "\"M,1\",2021-06-01T03:00:00Z,so2,1,\xE9g/m3", read_readings_text},
    {"trace", "time,lon,lat,so2", "\"2021-06-01T00:00:00Z\",120.1,28.9,\"5\"", "so2",
     "2021-06-01T00:00:01Z,120.1,28.9,NAN", "2021-06-01T00:00:02Z,120.1,28.9,+inf",
     "2021-06-01T00:00:03Z,120.1,28.9,\xF0\x28\x8C\x28", read_trace_text},
};

class CsvHygiene : public ::testing::TestWithParam<CsvKind> {};

TEST_P(CsvHygiene, BomCrlfQuotesBadRowsAndTruncation) {
  const CsvKind& k = GetParam();
  const std::string text = std::string("\xEF\xBB\xBF") + k.header + "\r\n" +  // 1
                           k.good_row + "\r\n" +                              // 2
                           k.good_row + ",extra\r\n" +                        // 3
                           k.nan_row + "\r\n" +                               // 4
                           k.inf_row + "\r\n" +                               // 5
                           k.bad_utf8_row + "\r\n" +                          // 6
                           "x,y";                                             // 7 truncated
  Diagnostics d;
  EXPECT_EQ(k.read(text, d), 1U) << dump(d);
  const int ncol = static_cast<int>(std::count(k.header, k.header + std::strlen(k.header), ',')) + 1;
  EXPECT_TRUE(has_rejection(d, "f.csv", 3,
                            "expected " + std::to_string(ncol) + " columns, got " + std::to_string(ncol + 1)))
      << dump(d);
  EXPECT_TRUE(has_rejection(d, "f.csv", 4, std::string("column ") + k.numeric_column + ": '"))
      << dump(d);
  EXPECT_TRUE(has_rejection(d, "f.csv", 5, "is not a finite number")) << dump(d);
  EXPECT_TRUE(has_rejection(d, "f.csv", 6, "invalid UTF-8")) << dump(d);
  EXPECT_TRUE(has_rejection(d, "f.csv", 7, "expected " + std::to_string(ncol) + " columns, got 2")) << dump(d);
  EXPECT_EQ(d.rejected().size(), 5U) << dump(d);
}

TEST_P(CsvHygiene, EmptyHeaderOnlyAndMissingColumn) {
  const CsvKind& k = GetParam();
  Diagnostics d;
  EXPECT_EQ(k.read("", d), 0U);
  EXPECT_TRUE(d.rejected().empty());
  EXPECT_TRUE(has_warning(d, "f.csv", "empty file"));
  Diagnostics d2;
  EXPECT_EQ(k.read(std::string(k.header) + "\n", d2), 0U);
  EXPECT_TRUE(d2.rejected().empty()) << dump(d2);
  // drop the last required-ish column name: "lat" for registries/traces, "value" for readings
  std::string h = k.header;
  const std::string victim = std::string(k.name) == "readings" ? "value" : "lat";
  h.replace(h.find(victim), victim.size(), "zzz");
  Diagnostics d3;
  EXPECT_EQ(k.read(h + "\n" + k.good_row + "\n", d3), 0U);
  EXPECT_TRUE(has_rejection(d3, "f.csv", 1, "missing required column '" + victim + "'")) << dump(d3);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, CsvHygiene, ::testing::ValuesIn(kKinds),
                         [](const ::testing::TestParamInfo<CsvKind>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace plumetrace

namespace plumetrace {
namespace {

/// Deterministic pseudo-random CSV-ish bytes through every reader: no crash, no exception, every
/// non-blank data record either accepted or rejected (never silently dropped).
TEST(CsvFuzz, RandomBytesNeverCrashOrVanish) {
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::string alphabet[] = {",", "\"", "\n", "\r\n", "a", "M01", "\xFF", "\xC3", "1.5", "-2",
                                  "nan", "2021-06-01T00:00:00Z", "so2", " ", "\xEF\xBB\xBF", "\"\""};
  std::vector<Station> st(1);
  st[0].id = "M01";
  for (int round = 0; round < 300; ++round) {
    std::string body;
    const int n = static_cast<int>(next() % 60);
    for (int i = 0; i < n; ++i) body += alphabet[next() % std::size(alphabet)];
    const std::string headers[] = {"id,name,lon,lat,height_m\n", "station_id,time,variable,value,unit\n",
                                   "time,lon,lat,so2\n"};
    for (int kind = 0; kind < 3; ++kind) {
      const std::string text = headers[kind] + body;
      // count records as the tokenizer sees them
      auto counter = CsvReader::from_string(text);
      CsvRecord rec;
      std::size_t records = 0;
      while (counter.next(rec)) ++records;
      Diagnostics d;
      std::size_t accepted = 0;
      auto csv = CsvReader::from_string(text);
      ASSERT_NO_THROW({
        if (kind == 0) accepted = read_sources_csv(csv, "f.csv", d).size();
        if (kind == 1) accepted = read_readings_csv(csv, "f.csv", st, TimeZone{}, d).rows.size();
        if (kind == 2) accepted = read_trace_csv(csv, "f.csv", "f", TimeZone{}, d).size();
      });
      EXPECT_EQ(accepted + d.rejected().size(), records - 1) << "round " << round << " kind " << kind;
    }
  }
}

}  // namespace
}  // namespace plumetrace

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../support/temp_dir.hpp"
#include "plumetrace/ingest/case.hpp"
#include "plumetrace/ingest/readers.hpp"
#include "plumetrace/ingest/signal_tables.hpp"
#include "test_support.hpp"

namespace plumetrace {
namespace {

using test::dump;
using test::has_rejection;
using test::has_warning;

std::vector<Source> registry() {
  Diagnostics d;
  auto csv = CsvReader::from_string("id,lon,lat,height_m\nS1,120.1,28.9,10\nS2,120.2,28.8,4\n");
  return read_sources_csv(csv, "sources.csv", d);
}

TEST(CemsCsv, GoodAndBadRows) {
  auto csv = CsvReader::from_string(
      "facility_id,time,variable,value,unit,limit,note\n"         // 1
      "S1,2021-07-28T21:00:00+08:00,SO2,180,mg/m3,200,\n"        // 2
      "S1,2021-07-28T20:00:00+08:00,so2,170,mg/m3,200,\n"        // 3 (out of order: sorted)
      "S9,2021-07-28T21:00:00+08:00,so2,1,mg/m3,,\n"             // 4 unknown facility
      "S1,yesterday,so2,1,mg/m3,,\n"                             // 5 bad time
      "S1,2021-07-28T22:00:00+08:00,so2,-3,mg/m3,,\n"            // 6 negative
      "S1,2021-07-28T22:00:00+08:00,so2,abc,mg/m3,,\n"           // 7 not a number
      "S1,2021-07-28T22:00:00+08:00,so2,5,mg/m3,0,\n"            // 8 limit not > 0
      "S1,2021-07-28T21:00:00+08:00,so2,181,mg/m3,200,\n"        // 9 repeated
      "S2,2021-07-28T21:00:00,nox,40,mg/m3,,\n"                  // 10 naive time: tz
      "S2,2021-07-28T22:00:00+08:00,,40,mg/m3,,\n"               // 11 empty variable
      "S2,2021-07-28T23:00:00+08:00,nox,40\n");                  // 12 short row
  Diagnostics d;
  const auto rows = read_cems_csv(csv, "cems.csv", registry(), TimeZone::parse("+08:00"), d);
  ASSERT_EQ(rows.size(), 3U) << dump(d);
  EXPECT_EQ(rows[0].facility_id, "S1");
  EXPECT_EQ(rows[0].variable, "so2");
  EXPECT_EQ(rows[0].line, 3U);  // sorted by time within (facility, variable)
  EXPECT_DOUBLE_EQ(rows[1].value, 180);
  EXPECT_DOUBLE_EQ(rows[1].limit, 200);
  EXPECT_EQ(rows[1].unit, "mg/m3");
  EXPECT_LT(rows[2].limit, 0);  // none given
  EXPECT_DOUBLE_EQ(rows[2].time_s, parse_iso8601("2021-07-28T13:00:00Z"));
  EXPECT_TRUE(has_rejection(d, "cems.csv", 4, "unknown facility 'S9'")) << dump(d);
  EXPECT_TRUE(has_rejection(d, "cems.csv", 5, "column time: cannot parse 'yesterday'"));
  EXPECT_TRUE(has_rejection(d, "cems.csv", 6, "column value: -3 is negative"));
  EXPECT_TRUE(has_rejection(d, "cems.csv", 7, "column value: 'abc' is not a finite number"));
  EXPECT_TRUE(has_rejection(d, "cems.csv", 8, "column limit: 0 must be > 0"));
  EXPECT_TRUE(has_rejection(d, "cems.csv", 9, "repeated facility, variable and time (first on line 2)"));
  EXPECT_TRUE(has_rejection(d, "cems.csv", 11, "column variable: empty"));
  EXPECT_TRUE(has_rejection(d, "cems.csv", 12, "expected 7 columns, got 4"));
  EXPECT_EQ(d.rejected().size(), 8U) << dump(d);
  EXPECT_TRUE(has_warning(d, "cems.csv", "column 'note' ignored"));
  EXPECT_TRUE(has_warning(d, "cems.csv", "without a UTC offset"));
}

TEST(CemsCsv, MissingColumnRejectsTheFile) {
  auto csv = CsvReader::from_string("facility_id,time,value\nS1,2021-07-28T21:00:00Z,1\n");
  Diagnostics d;
  EXPECT_TRUE(read_cems_csv(csv, "cems.csv", registry(), TimeZone{}, d).empty());
  EXPECT_TRUE(has_rejection(d, "cems.csv", 1, "missing required column 'variable'")) << dump(d);
}

TEST(PowerCsv, GoodAndBadRows) {
  auto csv = CsvReader::from_string(
      "facility_id,time,circuit,kw\n"                 // 1
      "S1,2021-07-28T21:00:00Z,Production,800\n"      // 2
      "S1,2021-07-28T21:00:00Z,treatment,120\n"       // 3
      "S1,2021-07-28T21:00:00Z,lighting,5\n"          // 4 unknown circuit
      "S1,2021-07-28T22:00:00Z,treatment,-1\n"        // 5 negative
      "S1,2021-07-28T22:00:00Z,treatment,inf\n"       // 6 not finite
      "S1,2021-07-28T21:00:00Z,production,801\n"      // 7 repeated
      ",2021-07-28T21:00:00Z,production,1\n");        // 8 empty facility
  Diagnostics d;
  const auto rows = read_power_csv(csv, "power.csv", registry(), TimeZone{}, d);
  ASSERT_EQ(rows.size(), 2U) << dump(d);
  EXPECT_EQ(rows[0].circuit, PowerCircuit::Production);
  EXPECT_DOUBLE_EQ(rows[0].kw, 800);
  EXPECT_EQ(rows[1].circuit, PowerCircuit::Treatment);
  EXPECT_TRUE(has_rejection(d, "power.csv", 4, "column circuit: 'lighting' is not 'production' or 'treatment'"));
  EXPECT_TRUE(has_rejection(d, "power.csv", 5, "column kw: -1 is negative"));
  EXPECT_TRUE(has_rejection(d, "power.csv", 6, "column kw: 'inf' is not a finite number"));
  EXPECT_TRUE(has_rejection(d, "power.csv", 7, "repeated facility, circuit and time (first on line 2)"));
  EXPECT_TRUE(has_rejection(d, "power.csv", 8, "column facility_id: empty"));
  EXPECT_EQ(d.rejected().size(), 5U) << dump(d);
}

TEST(MandatesCsv, GoodAndBadRows) {
  auto csv = CsvReader::from_string(
      "facility_id,start,end,kind\n"                                        // 1
      "S2,2021-07-28T18:00:00Z,2021-07-29T06:00:00Z,SHUTDOWN\n"             // 2
      "S1,2021-07-28T18:00:00Z,2021-07-29T06:00:00Z,limit\n"                // 3
      "S1,2021-07-29T06:00:00Z,2021-07-28T18:00:00Z,shutdown\n"             // 4 end before start
      "S1,2021-07-28T18:00:00Z,2021-07-29T06:00:00Z,curfew\n"               // 5 unknown kind
      "S1,2021-07-28T18:00:00Z,soon,shutdown\n");                           // 6 bad end
  Diagnostics d;
  const auto rows = read_mandates_csv(csv, "mandates.csv", registry(), TimeZone{}, d);
  ASSERT_EQ(rows.size(), 2U) << dump(d);
  EXPECT_EQ(rows[0].facility_id, "S1");
  EXPECT_EQ(rows[0].kind, MandateKind::Limit);
  EXPECT_EQ(rows[1].kind, MandateKind::Shutdown);
  EXPECT_TRUE(has_rejection(d, "mandates.csv", 4, "column end: not later than start"));
  EXPECT_TRUE(has_rejection(d, "mandates.csv", 5, "column kind: 'curfew' is not 'shutdown' or 'limit'"));
  EXPECT_TRUE(has_rejection(d, "mandates.csv", 6, "column end: cannot parse 'soon'"));
  EXPECT_EQ(d.rejected().size(), 3U) << dump(d);
}

TEST(MonitoringTables, LoadCaseReadsThemWithoutUnknownFileWarnings) {
  const auto dir = testing_support::fresh_temp_dir("plumetrace_signal_tables_case");
  auto write = [&](const char* name, const char* text) { std::ofstream(dir / name) << text; };
  write("sources.csv", "id,lon,lat,height_m\nS1,120.1,28.9,10\n");
  write("cems.csv", "facility_id,time,variable,value,unit,limit\nS1,2021-07-28T21:00:00Z,so2,1,mg/m3,2\nS2,2021-07-28T21:00:00Z,so2,1,mg/m3,2\n");
  write("power.csv", "facility_id,time,circuit,kw\nS1,2021-07-28T21:00:00Z,production,1\n");
  write("mandates.csv", "facility_id,start,end,kind\nS1,2021-07-28T21:00:00Z,2021-07-28T22:00:00Z,shutdown\n");
  const Case c = load_case(dir);
  EXPECT_EQ(c.monitoring.cems.size(), 1U);
  EXPECT_EQ(c.monitoring.power.size(), 1U);
  EXPECT_EQ(c.monitoring.mandates.size(), 1U);
  EXPECT_EQ(c.accepted_rows.at("cems.csv"), 1U);
  EXPECT_TRUE(has_rejection(c.diagnostics, "cems.csv", 3, "unknown facility 'S2'")) << dump(c.diagnostics);
  for (const auto& w : c.diagnostics.warnings()) EXPECT_EQ(w.message.find("unknown file"), std::string::npos) << w.file;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace plumetrace

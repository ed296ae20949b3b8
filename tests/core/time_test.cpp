#include "plumetrace/core/time.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "plumetrace/core/error.hpp"

namespace plumetrace {
namespace {

constexpr double k20210601T15Z = 1622559600.0;  // 2021-06-01T15:00:00Z

TEST(Time, DaysFromCivil) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(2021, 6, 1), 18779);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
}

TEST(Time, ParsesOffsetsAndForms) {
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01T23:00:00+08:00"), k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01T23:00:00+0800"), k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01T23:00:00+08"), k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01T15:00:00Z"), k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01 15:00:00z"), k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01T10:00:00-05:00"), k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01T15:00Z"), k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("  2021-06-01T15:00:00Z "), k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01T15:00:00.250Z"), k20210601T15Z + 0.25);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01T15:00:00,5Z"), k20210601T15Z + 0.5);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01"), k20210601T15Z - 15 * 3600);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-02T00:00:00+00:00"), parse_iso8601("2021-06-01T24:00:00Z"));
  EXPECT_DOUBLE_EQ(parse_iso8601("2020-02-29T00:00:00Z"), 1582934400.0);
  EXPECT_DOUBLE_EQ(parse_iso8601("1969-12-31T23:59:59Z"), -1.0);
}

TEST(Time, NaiveTimesTakeTheZone) {
  bool naive = false;
  EpochSeconds t = 0;
  ASSERT_TRUE(parse_iso8601("2021-06-01T23:00:00", TimeZone::parse("+08:00"), t, &naive));
  EXPECT_TRUE(naive);
  EXPECT_DOUBLE_EQ(t, k20210601T15Z);
  ASSERT_TRUE(parse_iso8601("2021-06-01T23:00:00+08:00", TimeZone::parse("-03:00"), t, &naive));
  EXPECT_FALSE(naive);
  EXPECT_DOUBLE_EQ(t, k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01T23:00:00", TimeZone::parse("Asia/Shanghai")), k20210601T15Z);
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-06-01", TimeZone::parse("UTC+8")), k20210601T15Z - 23 * 3600);
  const TimeZone ny = TimeZone::parse("America/New_York");
  EXPECT_FALSE(ny.is_fixed());
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-07-01T12:00:00", ny), parse_iso8601("2021-07-01T16:00:00Z"));
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-01-01T12:00:00", ny), parse_iso8601("2021-01-01T17:00:00Z"));
  // fold (01:30 happens twice on 2021-11-07): the earlier instant, EDT
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-11-07T01:30:00", ny), parse_iso8601("2021-11-07T05:30:00Z"));
  // gap (02:30 does not exist on 2021-03-14): the transition instant 07:00Z
  EXPECT_DOUBLE_EQ(parse_iso8601("2021-03-14T02:30:00", ny), parse_iso8601("2021-03-14T07:00:00Z"));
  EXPECT_EQ(ny.offset_minutes_at(parse_iso8601("2021-07-01T16:00:00Z")), -240);
}

TEST(Time, RejectsInvalid) {
  EpochSeconds t = 42;
  for (const char* bad : {"", "2021", "2021-6-1", "2021-02-29", "2021-13-01", "2021-04-31",
                          "2021-06-01T25:00:00Z", "2021-06-01T23:60:00Z", "2021-06-01T24:00:01Z",
                          "2021-06-01T23:00:00+8", "2021-06-01T23:00:00+19:00", "2021-06-01T23:00:00+08:00x",
                          "2021-06-01Z", "2021-06-01T23", "2021-06-01T23:00:00.Z", "yesterday",
                          "2021-06-01T23:00:00 +08:00"}) {
    EXPECT_FALSE(parse_iso8601(bad, TimeZone{}, t)) << bad;
  }
  EXPECT_EQ(t, 42);
  EXPECT_THROW((void)parse_iso8601("2021-02-30"), InvalidInput);
}

TEST(Time, TimeZoneParse) {
  EXPECT_EQ(TimeZone::parse("").name(), "UTC");
  EXPECT_EQ(TimeZone::parse("UTC").name(), "UTC");
  EXPECT_EQ(TimeZone::parse("+0800").name(), "+08:00");
  EXPECT_EQ(TimeZone::parse("UTC-05:30").name(), "-05:30");
  EXPECT_EQ(TimeZone::parse("+8").name(), "+08:00");
  EXPECT_EQ(TimeZone::parse("Asia/Shanghai").name(), "Asia/Shanghai");
  EXPECT_THROW((void)TimeZone::parse("Mars/Olympus_Mons"), InvalidInput);
  EXPECT_THROW((void)TimeZone::parse("+25:00"), InvalidInput);
  EXPECT_THROW((void)TimeZone::fixed(19 * 60), InvalidInput);
}

TEST(Time, Durations) {
  EXPECT_EQ(parse_iso8601_duration("PT1H"), 3600.0);
  EXPECT_EQ(parse_iso8601_duration("PT10M"), 600.0);
  EXPECT_EQ(parse_iso8601_duration("PT30S"), 30.0);
  EXPECT_EQ(parse_iso8601_duration("P1D"), 86400.0);
  EXPECT_EQ(parse_iso8601_duration("P1W"), 604800.0);
  EXPECT_EQ(parse_iso8601_duration("P1DT12H"), 129600.0);
  EXPECT_EQ(parse_iso8601_duration("PT1H30M"), 5400.0);
  EXPECT_EQ(parse_iso8601_duration("pt0.5s"), 0.5);
  EXPECT_EQ(parse_iso8601_duration("PT1.5H"), 5400.0);
  for (const char* bad : {"", "P", "PT", "1H", "PT1", "P1Y", "P1M", "PT1H1H", "PT1M1H", "P1H", "PTH", "PT1X"})
    EXPECT_FALSE(parse_iso8601_duration(bad).has_value()) << bad;
}

TEST(Time, Format) {
  EXPECT_EQ(format_iso8601(k20210601T15Z, 480), "2021-06-01T23:00:00+08:00");
  EXPECT_EQ(format_iso8601(k20210601T15Z), "2021-06-01T15:00:00Z");
  EXPECT_EQ(format_iso8601(k20210601T15Z, -330), "2021-06-01T09:30:00-05:30");
  EXPECT_EQ(format_iso8601(k20210601T15Z + 0.25, 0), "2021-06-01T15:00:00.250Z");
  EXPECT_EQ(format_iso8601(-1.0), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_iso8601(1582934400.0 + 86399), "2020-02-29T23:59:59Z");
  EXPECT_EQ(format_iso8601(parse_iso8601("2021-07-01T16:00:00Z"), TimeZone::parse("America/New_York")),
            "2021-07-01T12:00:00-04:00");
  // round trip over a range of instants and offsets
  for (double t = -1e9; t < 4e9; t += 12345678.9) {
    for (int off : {0, 480, -300, 345}) {
      const double tr = std::round(t * 1000) / 1000;
      EXPECT_NEAR(parse_iso8601(format_iso8601(tr, off)), tr, 1e-6);
    }
  }
}

}  // namespace
}  // namespace plumetrace

// Backgrounds of the fusion room: a platform's own series, the network's pooled low quantile, or
// case.json's `background` (README "Method" step 4).
#include "plumetrace/fusion/observations.hpp"

#include <gtest/gtest.h>

#include "gather_fixture.hpp"

#include <string>

namespace plumetrace {
namespace {

constexpr double kT0 = test::kGatherT0;

/// A case of `n_stations` samplers around (120.0, 28.9), each reporting `per_station` 10-minute
/// means of so2: samplers 0..plume-1 stand in a plume (value 50 + station index), the others see
/// a background of 6 + 0.1 × (station index % 5).
Case sampler_case(int n_stations, int per_station, int plume) {
  Case c;
  c.readings.variables = {"so2"};
  c.readings.units = {"ug/m3"};
  for (int s = 0; s < n_stations; ++s) {
    c.stations.push_back({"M" + std::to_string(s), "", 120.0 + 0.001 * s, 28.9, 1.5, std::nullopt});
    for (int k = 0; k < per_station; ++k) {
      Reading r;
      r.time_s = kT0 + 600.0 * k;
      r.period_s = 600;
      r.station = static_cast<std::uint32_t>(s);
      r.value = s < plume ? 50.0 + s : 6.0 + 0.1 * (s % 5);
      c.readings.rows.push_back(r);
    }
  }
  return c;
}

ObservationSet gather(const Case& c) { return test::gather_so2(c); }

TEST(Background, OneSamplePerSamplerTakesTheNetworkLowQuantile) {
  // 40 samplers, one 10-minute mean each, 12 of them in the plume: every sampler's own
  // "15th percentile" would be its single value (the plume itself for the 12).
  const ObservationSet set = gather(sampler_case(40, 1, 12));
  ASSERT_EQ(set.platforms.size(), 40U);
  for (const Platform& p : set.platforms) {
    EXPECT_EQ(p.background_source, BackgroundSource::Network) << p.id;
    EXPECT_GE(p.background, 6.0) << p.id;
    EXPECT_LE(p.background, 6.4) << p.id;
    EXPECT_GT(p.noise, 0.0);
    EXPECT_LT(p.noise, 1.0) << p.id;
  }
}

TEST(Background, CaseBackgroundWinsOverTheNetworkForShortSeries) {
  Case c = sampler_case(40, 1, 12);
  c.settings.background["so2"] = 5.0;
  const ObservationSet set = gather(c);
  for (const Platform& p : set.platforms) {
    EXPECT_EQ(p.background_source, BackgroundSource::Case);
    EXPECT_DOUBLE_EQ(p.background, 5.0);
  }
  // another pollutant's background is not this one's
  Case other = sampler_case(40, 1, 12);
  other.settings.background["no2"] = 50.0;
  EXPECT_EQ(gather(other).platforms[0].background_source, BackgroundSource::Network);
}

TEST(Background, LongSeriesKeepTheirOwn) {
  // 5 stations with 24 values each: each has enough of its own (the plume stations too: a
  // station inside a plume all day is an odd case the network would not fix either)
  const ObservationSet set = gather(sampler_case(5, 24, 0));
  ASSERT_EQ(set.platforms.size(), 5U);
  for (std::size_t s = 0; s < set.platforms.size(); ++s) {
    EXPECT_EQ(set.platforms[s].background_source, BackgroundSource::Own);
    EXPECT_NEAR(set.platforms[s].background, 6.0 + 0.1 * static_cast<double>(s % 5), 1e-12);
  }
}

TEST(Background, TooSmallANetworkFallsBackToOwnValues) {
  // two one-sample samplers: no network to pool, no case background
  const ObservationSet set = gather(sampler_case(2, 1, 0));
  ASSERT_EQ(set.platforms.size(), 2U);
  EXPECT_EQ(set.platforms[0].background_source, BackgroundSource::Own);
  EXPECT_DOUBLE_EQ(set.platforms[0].background, 6.0);
}

}  // namespace
}  // namespace plumetrace

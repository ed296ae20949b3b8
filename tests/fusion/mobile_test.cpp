// Survey traces (fusion/mobile.hpp): a car driving back and forth across a plume with a known
// sensor lag, a drifting background, noise, and a slow instrument; and the same through
// gather_observations with case.json `traces` settings.
#include "plumetrace/fusion/mobile.hpp"

#include <gtest/gtest.h>

#include "gather_fixture.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "plumetrace/fusion/observations.hpp"

namespace plumetrace {
namespace {

constexpr double kT0 = test::kGatherT0;
constexpr double kSpeedMS = 10.0;
constexpr double kLegM = 2000.0;
constexpr double kPlumeXM = 1000.0, kPlumeSigmaM = 40.0, kPlumePeak = 50.0;
constexpr double kNoise = 0.2;

/// Background drifting linearly from 10 to 14 over 1200 s.
double background_at(double t_rel) { return 10.0 + 4.0 * t_rel / 1200.0; }

/// The plume: a Gaussian across x on the road y ∈ (−100, 100); nothing elsewhere.
double plume_at(double x, double y) {
  if (std::abs(y) > 100) return 0.0;
  return kPlumePeak * std::exp(-0.5 * std::pow((x - kPlumeXM) / kPlumeSigmaM, 2));
}

/// Where the car is at t_rel: back and forth along y = 0 (or, with `one_way`, east along y = 0
/// and back west along y = 600, out of the plume).
void car_at(double t_rel, bool one_way, double& x, double& y) {
  const double leg_s = kLegM / kSpeedMS;
  const int leg = static_cast<int>(std::floor(t_rel / leg_s));
  const double f = (t_rel - leg * leg_s) / leg_s;
  const bool east = leg % 2 == 0;
  x = east ? f * kLegM : (1 - f) * kLegM;
  y = one_way && !east ? 600.0 : 0.0;
}

/// 1 Hz samples for 1200 s (six legs); each value stamped t was drawn at the position of
/// t − lag_s. `tau_s` > 0: a first-order (slow) instrument response.
MobileSeries drive(double lag_s, bool one_way = false, double tau_s = 0.0, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, kNoise);
  MobileSeries s;
  double slow = 0;
  for (int k = 0; k <= 1200; ++k) {
    const double t = k;
    double x, y, xs, ys;
    car_at(t, one_way, x, y);
    car_at(std::max(t - lag_s, 0.0), one_way, xs, ys);
    const double plume = plume_at(xs, ys);
    slow = tau_s > 0 ? slow + (plume - slow) * (1.0 - std::exp(-1.0 / tau_s)) : plume;
    s.t.push_back(kT0 + t);
    s.x_m.push_back(x);
    s.y_m.push_back(y);
    s.value.push_back(background_at(t) + slow + noise(rng));
  }
  return s;
}

/// value − the background's centre, after levelling the drift (as gather_observations does).
std::vector<double> excess_over(const MobileSeries& s) {
  const LevelledSeries lv = level_background(s.t, s.value, 600.0, 0.10);
  std::vector<double> e(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) e[i] = lv.value[i] - lv.typical;
  return e;
}

/// The series with each value moved to where the car was lag_s before its stamp.
MobileSeries corrected(const MobileSeries& s, double lag_s) {
  MobileSeries c = s;
  for (std::size_t i = 0; i < s.size(); ++i) {
    c.t[i] = s.t[i] - lag_s;
    position_at(s, c.t[i], c.x_m[i], c.y_m[i]);
  }
  return c;
}

TEST(MobileBackground, RollingLowQuantileFollowsTheDrift) {
  const MobileSeries s = drive(12.0);
  const std::vector<double> bg = rolling_low_quantile(s.t, s.value, 600.0, 0.10);
  // within a centred window the drift spans ±1 and the noise's 10th percentile lies 0.26 below:
  // the rolling background stays within 0.9 of the truth; within 1.3 near the ends, where the
  // window is one-sided
  for (std::size_t i = 0; i < s.size(); ++i) {
    const double tr = s.t[i] - kT0;
    EXPECT_NEAR(bg[i], background_at(tr), tr >= 300 && tr <= 900 ? 0.9 : 1.3) << "t = " << tr;
  }
  // one low quantile over the whole trace is > 3 off at the end
  std::vector<double> v = s.value;
  std::sort(v.begin(), v.end());
  EXPECT_GT(background_at(1200) - v[v.size() / 10], 3.0);
  // levelled, the values away from the plume have no drift left: two stretches 500 s apart
  // differ by the noise only, against 1.7 units raw
  const LevelledSeries lv = level_background(s.t, s.value, 600.0, 0.10);
  const auto mean_away = [&](const std::vector<double>& val, double t0, double t1) {
    double sum = 0;
    int n = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (s.t[i] - kT0 >= t0 && s.t[i] - kT0 < t1 && std::abs(s.x_m[i] - kPlumeXM) > 300) {
        sum += val[i];
        ++n;
      }
    return sum / n;
  };
  EXPECT_NEAR(mean_away(s.value, 750, 950) - mean_away(s.value, 250, 450), 1.67, 0.2);
  EXPECT_NEAR(mean_away(lv.value, 750, 950), mean_away(lv.value, 250, 450), 0.2);
  EXPECT_NEAR(lv.rolling_max - lv.rolling_min, 4.0, 1.0);
}

TEST(MobileBackground, AWindowSpentInsideAPlumeIsNotDrift) {
  // parked downwind for 12 of 20 minutes: the rolling 10th percentile of those windows is the
  // plume; the background keeps within 50 % of the trace's own low level and the plume stays
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, kNoise);
  std::vector<EpochSeconds> t;
  std::vector<double> v;
  for (int k = 0; k < 1200; ++k) {
    t.push_back(kT0 + k);
    v.push_back(10.0 + (k >= 300 && k < 1020 ? 40.0 : 0.0) + noise(rng));
  }
  const LevelledSeries lv = level_background(t, v, 600.0, 0.10);
  EXPECT_LE(lv.rolling_max, 15.0);
  EXPECT_GT(lv.value[660] - lv.typical, 30.0);  // the middle of the plume
  EXPECT_NEAR(lv.value[100] - lv.typical, 0.0, 1.0);
}

TEST(MobileLag, EstimatedFromCrossingsInOppositeDirections) {
  for (const double lag : {0.0, 5.0, 12.0, 20.0}) {
    const MobileSeries s = drive(lag);
    const std::vector<double> e = excess_over(s);
    const LagEstimate est = estimate_sensor_lag_s(s, e, kNoise, 60.0);
    ASSERT_TRUE(est.determined) << "lag " << lag << ": " << est.why;
    EXPECT_NEAR(est.lag_s, lag, 1.0) << "lag " << lag;
    EXPECT_GE(est.pairs, 5U);  // six crossings alternate east/west: five neighbouring pairs at least
  }
}

TEST(MobileLag, UndeterminedWhenEveryCrossingGoesOneWay) {
  const MobileSeries s = drive(12.0, /*one_way=*/true);
  const std::vector<double> e = excess_over(s);
  const LagEstimate est = estimate_sensor_lag_s(s, e, kNoise, 60.0);
  EXPECT_FALSE(est.determined);
  EXPECT_EQ(est.lag_s, 0.0);
  EXPECT_EQ(est.pairs, 0U);
  EXPECT_NE(est.why.find("opposite directions"), std::string::npos) << est.why;
}

TEST(MobilePeaks, OnePerCrossingAtThePlumeWithItsArea) {
  const MobileSeries s = corrected(drive(12.0), 12.0);
  const std::vector<double> e = excess_over(s);
  const std::vector<MobilePeak> peaks = detect_peaks(s, e, kNoise);
  ASSERT_EQ(peaks.size(), 6U);
  const double area = kPlumePeak * kPlumeSigmaM * std::sqrt(2 * 3.14159265358979);  // 5013 units·m
  for (const MobilePeak& p : peaks) {
    EXPECT_NEAR(p.x_m, kPlumeXM, 25.0);
    EXPECT_NEAR(p.height, kPlumePeak, 3.0);
    EXPECT_NEAR(p.area, area, 0.08 * area);
    EXPECT_GT(p.length_m, 4 * kPlumeSigmaM);
  }
}

TEST(MobilePeaks, ASlowInstrumentLowersThePeakButKeepsItsArea) {
  const MobileSeries fast = corrected(drive(12.0), 12.0);
  const MobileSeries slow = corrected(drive(12.0, false, /*tau_s=*/8.0), 12.0);
  const auto peaks_of = [](const MobileSeries& s) {
    return detect_peaks(s, excess_over(s), kNoise);
  };
  const std::vector<MobilePeak> pf = peaks_of(fast), ps = peaks_of(slow);
  ASSERT_EQ(pf.size(), 6U);
  ASSERT_EQ(ps.size(), 6U);
  for (std::size_t k = 0; k < 6; ++k) {
    EXPECT_LT(ps[k].height, 0.8 * pf[k].height) << k;
    EXPECT_NEAR(ps[k].area, pf[k].area, 0.10 * pf[k].area) << k;
  }
}

TEST(MobileCells, MedianOfPassMeansWithThePassCount) {
  MobileSeries s = corrected(drive(12.0), 12.0);
  // a spike in one pass over the plume's cell: the median of five passes ignores it
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s.t[i] - kT0 > 280 && s.t[i] - kT0 < 320 && std::abs(s.x_m[i] - kPlumeXM) < 40) s.value[i] += 500;
  const std::vector<MobileCell> cells = aggregate_passes(s, 100.0, 0.0, 50.0, 90.0);
  // the cell [1000, 1100) x [-50, 50): passes at legs 1..5 within 900 s of the first, then leg 6
  std::vector<const MobileCell*> at_plume;
  for (const MobileCell& c : cells)
    if (c.x_m >= 1000 && c.x_m < 1100) at_plume.push_back(&c);
  ASSERT_EQ(at_plume.size(), 2U);
  EXPECT_EQ(at_plume[0]->passes, 5);
  EXPECT_EQ(at_plume[1]->passes, 1);
  // the passes' means by hand
  std::vector<double> means;
  for (int leg = 0; leg < 5; ++leg) {
    double sum = 0;
    int n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const double tr = s.t[i] - kT0;
      if (tr >= leg * 200.0 - 12 && tr < (leg + 1) * 200.0 - 12 && s.x_m[i] >= 1000 && s.x_m[i] < 1100) {
        sum += s.value[i];
        ++n;
      }
    }
    ASSERT_GT(n, 0) << leg;
    means.push_back(sum / n);
  }
  std::sort(means.begin(), means.end());
  EXPECT_DOUBLE_EQ(at_plume[0]->value, means[2]);
  EXPECT_LT(at_plume[0]->value, 40.0);  // the spiked pass (mean > 100) is not the median
  EXPECT_GT(means[4], 100.0);
  EXPECT_GE(at_plume[0]->samples, 45);
}

// ---- through gather_observations, with case.json `traces` ----

Case car_case(double lag_s) {
  const MobileSeries s = drive(lag_s);
  const Transformer tr("EPSG:32651");
  double x0, y0;
  EXPECT_TRUE(tr.forward(120.0, 28.9, x0, y0));
  Case c;
  Trace t;
  t.name = "boat_01";
  t.variables = {"so2"};
  t.values.resize(1);
  for (std::size_t i = 0; i < s.size(); ++i) {
    double lon, lat;
    EXPECT_TRUE(tr.inverse(x0 + s.x_m[i], y0 + s.y_m[i], lon, lat));
    t.time_s.push_back(s.t[i]);
    t.lon.push_back(lon);
    t.lat.push_back(lat);
    t.alt_m.push_back(std::nan(""));
    t.values[0].push_back(s.value[i]);
  }
  c.traces.push_back(t);
  return c;
}

ObservationSet gather(const Case& c) { return test::gather_so2(c); }

TEST(MobileBackground, CentreOfTheQuietSamplesWhateverTheirPlumeShare) {
  // 2,000 samples about 15 with σ 2, a share of them raised into plumes (+20 to +200): the centre
  // the quiet ones scatter about within half a σ (their 10th percentile lies 2.6 below it), the
  // noise σ within 25 %, with plumes in 0, 30 and 60 % of the samples
  for (const double share : {0.0, 0.3, 0.6}) {
    for (unsigned seed = 1; seed <= 5; ++seed) {
      std::mt19937 rng(seed);
      std::normal_distribution<double> noise(0.0, 2.0);
      std::uniform_real_distribution<double> plume(20.0, 200.0), u(0.0, 1.0);
      std::vector<double> v;
      for (int k = 0; k < 2000; ++k) v.push_back(15.0 + noise(rng) + (u(rng) < share ? plume(rng) : 0.0));
      const QuietLevel q = background_centre(v, 0.10);
      EXPECT_NEAR(q.level, 15.0, 1.0) << "plume share " << share << ", seed " << seed;
      EXPECT_NEAR(q.noise, 2.0, 0.5) << "plume share " << share << ", seed " << seed;
    }
  }
}

TEST(MobileFusion, QuietCellsSitOnThePlatformBackground) {
  // the cells away from the plume are medians of pass means of quiet samples: they scatter about
  // the platform's background (a low quantile would put them 1.3 noise levels above it, where a
  // broad plume from far away "explains" every one of them)
  const ObservationSet set = gather(car_case(12.0));
  ASSERT_EQ(set.platforms.size(), 1U);
  const Transformer tr("EPSG:32651");
  double x0, y0;
  ASSERT_TRUE(tr.forward(120.0, 28.9, x0, y0));
  std::vector<double> quiet;
  for (const Observation& ob : set.obs)
    if (std::abs(ob.x_m - x0 - kPlumeXM) > 300) quiet.push_back(ob.value - set.platforms[0].background);
  ASSERT_GE(quiet.size(), 10U);
  std::nth_element(quiet.begin(), quiet.begin() + static_cast<std::ptrdiff_t>(quiet.size() / 2), quiet.end());
  EXPECT_NEAR(quiet[quiet.size() / 2], 0.0, 0.5 * kNoise);
  // its noise: σ, or the floor of 5 % of the level (a calibration error) where that is more
  EXPECT_NEAR(set.platforms[0].noise, std::max(kNoise, 0.05 * set.platforms[0].background), 0.3 * kNoise);
}

TEST(MobileFusion, EstimatedLagAndRollingBackgroundReachTheObservations) {
  const ObservationSet set = gather(car_case(12.0));
  ASSERT_EQ(set.mobile.size(), 1U);
  const MobileReport& m = set.mobile[0];
  EXPECT_EQ(m.lag_source, "estimated");
  EXPECT_NEAR(m.lag_s, 12.0, 1.0);
  EXPECT_TRUE(m.rolling_background);
  EXPECT_LT(m.background_min, 10.5);
  EXPECT_GT(m.background_max, 13.0);
  EXPECT_EQ(m.peaks.size(), 6U);
  EXPECT_EQ(m.cell_m, 100.0);  // two 50 m grid cells
  EXPECT_EQ(set.platforms[0].background_source, BackgroundSource::Own);
  // levelled: the drift is gone from the values far from the plume
  for (const Observation& ob : set.obs) {
    if (std::abs(ob.x_m - set.obs[0].x_m) > 1e9) continue;  // (all are the boat's)
    EXPECT_EQ(ob.kind, ObservationKind::Mobile);
    EXPECT_DOUBLE_EQ(ob.z_m, 2.0);
  }
  // the largest cell is at the plume, within one cell of it; the cells there hold the five
  // passes of the first 900 s
  const auto top = std::max_element(set.obs.begin(), set.obs.end(),
                                    [](const Observation& a, const Observation& b) { return a.value < b.value; });
  const Transformer tr("EPSG:32651");
  double x0, y0;
  ASSERT_TRUE(tr.forward(120.0, 28.9, x0, y0));
  EXPECT_NEAR(top->x_m - x0, kPlumeXM, 100.0);
  int most_passes = 0;
  for (const Observation& ob : set.obs)
    if (std::abs(ob.x_m - x0 - kPlumeXM) < 100) most_passes = std::max(most_passes, ob.passes);
  EXPECT_EQ(most_passes, 5);
  EXPECT_EQ(m.max_passes, 6);  // east of x = 1500 m all six passes start within 900 s of the first
}

TEST(MobileFusion, CaseSettingsGiveTheLagAndTheInletHeight) {
  Case c = car_case(12.0);
  c.settings.traces["*"].inlet_height_m = 1.0;   // a boat's inlet above the water
  c.settings.traces["boat_01"].lag_s = 20.0;     // told, not estimated (and wrong here)
  c.settings.traces["boat_01"].cell_m = 30.0;
  const ObservationSet set = gather(c);
  ASSERT_EQ(set.mobile.size(), 1U);
  EXPECT_EQ(set.mobile[0].lag_source, "case");
  EXPECT_EQ(set.mobile[0].lag_s, 20.0);
  EXPECT_EQ(set.mobile[0].cell_m, 30.0);
  for (const Observation& ob : set.obs) EXPECT_DOUBLE_EQ(ob.z_m, 1.0);
}

}  // namespace
}  // namespace plumetrace

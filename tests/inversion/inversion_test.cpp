// Twin tests of the operator and the inversion in a steady, uniform wind where the truth is known
// analytically: observations are made with the Gaussian plume formula of the kernels room.

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "plumetrace/core/error.hpp"
#include "plumetrace/inversion/inversion.hpp"
#include "plumetrace/inversion/operator.hpp"
#include "plumetrace/kernels/plume.hpp"
#include "plumetrace/kernels/sigmas.hpp"

namespace plumetrace {
namespace {

constexpr double kT0 = 1.6e9;  // an arbitrary epoch

struct Fixture {
  Grid grid;
  WindField wind = WindField::uniform(3.0, 0.0, Stability::D, 800.0);  // from the west
  ObservationSet obs;
  std::vector<CandidateSite> sites;
};

/// A 10 km square of 100 m cells centred on the origin.
Grid test_grid() {
  Grid g;
  g.crs = "EPSG:32650";
  g.x0_m = -5000;
  g.y1_m = 5000;
  g.cell_m = 100;
  g.cols = 100;
  g.rows = 100;
  return g;
}

/// Stations on a crosswind line 3 km east of the origin; hourly means over 4 hours; a source at
/// sites[truth] emitting q_g_s during [kT0, kT0 + 4h]; background 6 µg/m³ with 5 % noise.
/// With release_hour >= 0 the culprit emits only from kT0 + release_hour h to the end (kT0 + 4 h):
/// each hourly mean sees the part of its hour whose air (1000 s from source to stations) left then.
/// Every candidate also emits usual_g_s all the time (its usual, permitted emissions).
Fixture make_case(int truth, double q_g_s, int second = -1, double q2_g_s = 0, bool include_truth = true,
                  int release_hour = -1, double usual_g_s = 0) {
  Fixture f;
  f.grid = test_grid();
  const double ys[] = {-1500, -900, -300, 0, 300, 900, 1500};
  // candidates well apart across the wind (from the west), so the stations can tell them apart
  const double cand[][2] = {{0, 0}, {0, 700}, {-1000, -700}, {500, 1400}, {-2000, 350}, {1000, -1400}};
  for (const auto& c : cand) f.sites.push_back({c[0], c[1], 10.0, 1.0, std::nullopt, std::nullopt});
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (std::size_t s = 0; s < std::size(ys); ++s) {
    Platform p;
    p.id = "S" + std::to_string(s);
    p.kind = ObservationKind::Station;
    p.background = 6.0;
    p.noise = 0.3;
    f.obs.platforms.push_back(p);
    for (int h = 0; h < 4; ++h) {
      Observation ob;
      ob.platform = static_cast<int>(s);
      ob.x_m = 3000;
      ob.y_m = ys[s];
      ob.z_m = 3;
      ob.t_start = kT0 + 3600.0 * h;
      ob.averaging_s = 3600;
      double c = 6.0;
      auto add = [&](int j, double q) {
        const double x = ob.x_m - cand[j][0], y = ob.y_m - cand[j][1];
        c += 1e6 * gaussian_plume_g_m3(q, 3.0, x, y, 3.0, 10.0, SigmaScheme::BriggsRural, Stability::D, 800.0);
      };
      double on = 1.0;  // fraction of the hour's air released while the culprit emitted
      if (release_hour >= 0) {
        const double travel_s = 3000.0 / 3.0, rel0 = kT0 + 3600.0 * release_hour;
        const double a = ob.t_start - travel_s, b = a + ob.averaging_s;
        on = std::max(0.0, b - std::max(a, rel0)) / ob.averaging_s;
      }
      if (truth >= 0) add(truth, q_g_s * on);
      if (second >= 0) add(second, q2_g_s);
      for (std::size_t j = 0; j < std::size(cand) && usual_g_s > 0; ++j) add(static_cast<int>(j), usual_g_s);
      ob.value = c * (1.0 + 0.05 * noise(rng));
      f.obs.obs.push_back(ob);
    }
  }
  if (!include_truth && truth >= 0) f.sites.erase(f.sites.begin() + truth);
  return f;
}

/// The model the twin data were made with: steady plume, known class, no meander. The direction
/// ensemble stays on, so its marginalisation is exercised.
OperatorOptions op_options() {
  OperatorOptions o;
  o.emit_start = kT0;
  o.emit_end = kT0 + 4 * 3600.0;
  o.stability_shifts = {0};
  o.within_member_deg = 0.0;
  return o;
}

/// The same with the wind known precisely: with a ±20° wind-direction ensemble a registered
/// source 700 m across the wind at 3 km can explain the plume by a 13° rotation (and rightly wins:
/// its prior is higher); with a narrow ensemble only an unregistered source fits.
OperatorOptions known_wind_options() {
  OperatorOptions o = op_options();
  o.rotations_deg = {-4, -2, 0, 2, 4};
  o.rotation_sigma_deg = 2;
  return o;
}

TEST(Operator, PlumeSensitivityMatchesTheFormulaInSteadyWind) {
  Fixture f = make_case(0, 10.0);
  OperatorOptions o = op_options();
  o.rotations_deg = {0.0};
  o.stability_shifts = {0};
  o.within_member_deg = 0.0;
  o.min_within_member_deg = 0.0;
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, o);
  std::vector<SparseColumn> cols;
  op.columns(0, 0, 10.0, cols);
  ASSERT_EQ(cols.size(), 1u);
  ASSERT_FALSE(cols[0].index.empty());
  int checked = 0;
  for (std::size_t n = 0; n < cols[0].index.size(); ++n) {
    const Observation& ob = f.obs.obs[cols[0].index[n]];
    if (ob.t_start < kT0 + 3600) continue;  // the first hour is partly before the plume arrives
    const double expect =
        gaussian_plume_g_m3(1.0, 3.0, ob.x_m, ob.y_m, 3.0, 10.0, SigmaScheme::BriggsRural, Stability::D, 800.0);
    if (expect < 1e-9) continue;
    EXPECT_NEAR(cols[0].h_s_m3[n] / expect, 1.0, 0.03) << "receptor y=" << ob.y_m;
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(Operator, AShortSampleSeesLessOfAnHourlySigmaTheta) {
  // σθ = 10° measured over hours: an hourly mean sees the plume spread by all of it, a sample of
  // 10 s (held to a minute: kPowerLawMinAveragingS) by 10° × (60 / 3600)^0.2 = 4.4°; on the axis
  // its sensitivity is larger by the ratio of the two σy (the vertical is the same)
  Fixture f;
  f.grid = test_grid();
  f.wind = WindField::uniform(3.0, 0.0, Stability::D, 800.0, 10.0);
  Platform p;
  p.id = "S";
  p.background = 6.0;
  p.noise = 0.3;
  f.obs.platforms.push_back(p);
  for (const double averaging_s : {3600.0, 10.0}) {
    Observation ob;
    ob.x_m = 3000;
    ob.y_m = 0;
    ob.z_m = 3;
    ob.t_start = kT0 + 2 * 3600.0;
    ob.averaging_s = averaging_s;
    f.obs.obs.push_back(ob);
  }
  OperatorOptions o = op_options();
  o.rotations_deg = {0.0};
  o.min_within_member_deg = 0.0;
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, o);
  std::vector<SparseColumn> cols;
  op.columns(0, 0, 10.0, cols);
  ASSERT_EQ(cols.size(), 1u);
  ASSERT_EQ(cols[0].index.size(), 2u);
  const double hourly = cols[0].h_s_m3[0], short_sample = cols[0].h_s_m3[1];
  const double sy_hourly = sigma_y_from_sigma_theta(10.0, 3000.0, 3.0);
  const double sy_short = sigma_y_from_sigma_theta(10.0 * std::pow(60.0 / 3600.0, 0.2), 3000.0, 3.0);
  EXPECT_NEAR(short_sample / hourly, sy_hourly / sy_short, 0.03 * sy_hourly / sy_short);
  EXPECT_GT(short_sample / hourly, 2.0);
}

TEST(Operator, NothingArrivesBeforeTheReleaseOrFromDownwind) {
  Fixture f = make_case(0, 10.0);
  OperatorOptions o = op_options();
  o.emit_start = kT0 + 3 * 3600.0;  // release during the last hour only
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, o);
  std::vector<SparseColumn> cols;
  op.columns(0, 0, 10.0, cols);
  for (const auto& col : cols)
    for (auto i : col.index) EXPECT_GE(f.obs.obs[i].t_start, kT0 + 2 * 3600.0);
  op.columns(4000, 0, 10.0, cols);  // east of (downwind of) every receptor
  for (const auto& col : cols) EXPECT_TRUE(col.index.empty());
}

TEST(Inversion, AWrongReleaseWindowIsAPriorNotACut) {
  // the culprit emits from hour 2 on; the analyst's window says hour 0
  const int truth = 0;
  Fixture f = make_case(truth, 25.0, -1, 0, true, 2);
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, op_options());
  InversionOptions io;
  io.threads = 2;
  io.given_start = kT0;
  io.given_end = kT0 + 3600.0;
  const InversionResult r = invert(op, f.obs, f.grid, f.sites, io);
  const auto best = static_cast<int>(std::max_element(r.probability.begin(), r.probability.end()) - r.probability.begin());
  EXPECT_EQ(best, truth);
  EXPECT_GT(r.probability[truth], 0.5);
  // the timing the data show pays the prior of one interval among many (the given window held
  // half the mass): less certain than with the right window, still far from "no release"
  EXPECT_LT(r.no_release_probability, 0.1);
  const double rate = r.rate[truth].estimate;
  EXPECT_GT(rate, 25.0 / 2);
  EXPECT_LT(rate, 25.0 * 2);
  // the timing that carries the culprit's evidence is the true one, not the given one
  ASSERT_EQ(r.release_interval.size(), f.sites.size());
  const auto [t0, t1] = r.release_interval[truth];
  EXPECT_NEAR(t0, kT0 + 2 * 3600.0, 1800.0);
  EXPECT_GT(t1, kT0 + 3 * 3600.0);
  // the profile puts the release in hours 2 and 3: blocks of the span, most of the mass there
  const std::vector<EpochSeconds> blocks = release_blocks(kT0, kT0 + 4 * 3600.0);
  const ReleaseProfile prof = release_profile_g_s(op, f.obs, f.sites[truth], blocks, 1e6);
  const std::vector<double>& q = prof.rate_g_s;
  // 7 stations every hour of the span: every block is seen
  for (std::size_t b = 0; b + 1 < blocks.size(); ++b) EXPECT_TRUE(prof.constrained[b]) << "block " << b;
  double in = 0, all = 0;
  for (std::size_t b = 0; b + 1 < blocks.size(); ++b) {
    all += q[b] * (blocks[b + 1] - blocks[b]);
    if (blocks[b + 1] > kT0 + 2 * 3600.0) in += q[b] * (blocks[b + 1] - blocks[b]);
  }
  EXPECT_GT(in, 0.9 * all);
}

TEST(Inversion, AnImageIsOneSnapshotAndDoesNotOutvoteTheStations) {
  // the stations see site 0; a 1,600-cell image taken at hour 2 shows a plume from site 2 instead
  // (a wrong image, or one of another release): together its cells weigh as
  // kImageryEffectiveObservations, not 1,600 independent samples, so it cannot decide alone
  Fixture f = make_case(0, 25.0);
  Platform img;
  img.id = "imagery/drone";
  img.kind = ObservationKind::Imagery;
  img.background = 6.0;
  img.noise = 0.3;
  f.obs.platforms.push_back(img);
  const int ip = static_cast<int>(f.obs.platforms.size()) - 1;
  std::size_t cells = 0;
  for (int i = 0; i < 40; ++i)
    for (int k = 0; k < 40; ++k) {
      Observation ob;
      ob.kind = ObservationKind::Imagery;
      ob.platform = ip;
      ob.x_m = -1000 + 200 + 30.0 * i;  // 200-1400 m downwind of site 2 (-1000, -700)
      ob.y_m = -700 - 600 + 30.0 * k;
      ob.x0_m = ob.x1_m = ob.x_m;
      ob.y0_m = ob.y1_m = ob.y_m;
      ob.z_m = 2;
      ob.t_start = kT0 + 2 * 3600.0;
      ob.averaging_s = 60;
      ob.value = 6.0 + 1e6 * gaussian_plume_g_m3(25.0, 3.0, ob.x_m + 1000, ob.y_m + 700, 2.0, 10.0, SigmaScheme::BriggsRural,
                                                 Stability::D, 800.0);
      f.obs.obs.push_back(ob);
      ++cells;
    }
  ASSERT_EQ(cells, 1600u);
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, op_options());
  InversionOptions io;
  io.threads = 2;
  const InversionResult r = invert(op, f.obs, f.grid, f.sites, io);
  // evidence that contradicts itself leaves the ranking undetermined (measured 0.48 / 0.50), never
  // certain of the image's site (with every cell an independent sample: 0.99987 for site 2)
  EXPECT_GT(r.probability[0], 0.3) << "site 2: " << r.probability[2];
  EXPECT_LT(r.probability[2], 0.6);
}

TEST(Inversion, RanksTheTrueSourceFirstAndRecoversItsRate) {
  for (int truth : {0, 1, 2}) {
    Fixture f = make_case(truth, 25.0);
    const SourceReceptorOperator op(f.wind, f.obs, f.grid, op_options());
    InversionOptions io;
    io.threads = 2;
    const InversionResult r = invert(op, f.obs, f.grid, f.sites, io);
    const auto best = static_cast<int>(std::max_element(r.probability.begin(), r.probability.end()) - r.probability.begin());
    EXPECT_EQ(best, truth);
    EXPECT_GT(r.probability[static_cast<std::size_t>(truth)], 0.5);
    const double rate = r.rate[static_cast<std::size_t>(truth)].estimate;
    EXPECT_GT(rate, 25.0 / 2) << "truth " << truth;  // the acceptance tolerance (issue #3)
    EXPECT_LT(rate, 25.0 * 2) << "truth " << truth;
    EXPECT_LE(r.rate[static_cast<std::size_t>(truth)].p05, rate);
    EXPECT_GE(r.rate[static_cast<std::size_t>(truth)].p95, rate);
    const double total = std::accumulate(r.probability.begin(), r.probability.end(), 0.0) +
                         r.unlisted_probability + r.no_release_probability;
    EXPECT_NEAR(total, 1.0, 1e-9);
    // a 25 g/s plume over seven stations is no accident of noise (issue #7: incidents ≤ 0.05; the
    // release timing is not given here, so its prior spreads over every interval of the span)
    EXPECT_LT(r.no_release_probability, 0.05);
    const double grid_total = std::accumulate(r.grid_posterior.begin(), r.grid_posterior.end(), 0.0);
    EXPECT_NEAR(grid_total, 1.0, 1e-4);
  }
}

TEST(Inversion, TheTemperingFollowsHowWellHeldOutHoursArePredicted) {
  Fixture f = make_case(0, 25.0);
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, op_options());
  InversionOptions io;
  io.threads = 2;
  // a steady release the model fits: every hour is predicted well from the other three, and the
  // more the posterior trusts the data the better; the check keeps the highest tempering
  const InversionResult fits = invert(op, f.obs, f.grid, f.sites, io);
  ASSERT_EQ(fits.temper_scores.size(), std::size(tuning::kTemperGrid));
  EXPECT_EQ(fits.temper_folds, 4u);  // the four hourly direction blocks
  EXPECT_EQ(fits.temper, tuning::kTemperGrid[0]);
  for (std::size_t e = 1; e < fits.temper_scores.size(); ++e)
    EXPECT_LT(fits.temper_scores[e].second, fits.temper_scores[0].second) << fits.temper_scores[e].first;

  // the same release with each hour's plume 4x up or down in turn: no steady rate fits every
  // hour, three hours mislead about the fourth, and the check tempers harder
  Fixture g = f;
  for (Observation& ob : g.obs.obs) {
    const int hour = static_cast<int>((ob.t_start - kT0) / 3600.0);
    ob.value = 6.0 + (ob.value - 6.0) * (hour % 2 == 0 ? 4.0 : 0.25);
  }
  const SourceReceptorOperator op_g(g.wind, g.obs, g.grid, op_options());
  const InversionResult misfit = invert(op_g, g.obs, g.grid, g.sites, io);
  EXPECT_LT(misfit.temper, tuning::kTemperGrid[0]);
  const auto best = std::max_element(misfit.temper_scores.begin(), misfit.temper_scores.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
  EXPECT_EQ(best->first, misfit.temper);
  EXPECT_EQ(static_cast<int>(std::max_element(misfit.probability.begin(), misfit.probability.end()) -
                             misfit.probability.begin()), 0);

  // given, the tempering is used as it is; at the value the check chose, the probabilities are
  // those of the checked run (which chose the release interval and member at kTemperGrid[0])
  io.temper_grid.clear();
  io.temper = misfit.temper;
  const InversionResult fixed = invert(op_g, g.obs, g.grid, g.sites, io);
  EXPECT_TRUE(fixed.temper_scores.empty());
  EXPECT_TRUE(std::isnan(fixed.held_out_log_density));
  EXPECT_EQ(fixed.temper, misfit.temper);
  EXPECT_NEAR(fixed.probability[0], misfit.probability[0], 0.02);
  EXPECT_NEAR(fixed.no_release_probability, misfit.no_release_probability, 0.02);
}

TEST(Inversion, AnUnregisteredSourceIsLocatedOnTheGrid) {
  Fixture f = make_case(2, 25.0, -1, 0, /*include_truth=*/false);  // truth at (-1000, -700) removed
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, known_wind_options());
  InversionOptions io;
  io.threads = 2;
  const InversionResult r = invert(op, f.obs, f.grid, f.sites, io);
  EXPECT_GT(r.unlisted_probability, 0.5)
      << "candidates " << r.probability[0] << " " << r.probability[1] << " " << r.probability[2] << " "
      << r.probability[3] << " " << r.probability[4] << "; top pair "
      << (r.pairs.empty() ? 0.0 : r.pairs[0].probability) << " (" << (r.pairs.empty() ? -1 : r.pairs[0].a) << ","
      << (r.pairs.empty() ? -1 : r.pairs[0].b) << "); peak " << r.peak_x_m << "," << r.peak_y_m;
  // crosswind position is well constrained by 7 stations; along-wind less so
  EXPECT_NEAR(r.peak_y_m, -700.0, 250.0);
  EXPECT_LT(std::abs(r.peak_x_m + 1000.0), 1500.0);
  EXPECT_GT(r.area_m2_90, 0.0);
}

TEST(Inversion, AnUnmatchedHotspotFocusesTheUnregisteredSourceButDoesNotOverrideTheData) {
  // the case above: one line of stations fixes the plume's crosswind position, not how far upwind
  // the source is; a drone hotspot at the source settles that
  Fixture f = make_case(2, 25.0, -1, 0, /*include_truth=*/false);
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, known_wind_options());
  InversionOptions io;
  io.threads = 2;
  const InversionResult plain = invert(op, f.obs, f.grid, f.sites, io);
  io.unlisted_hotspots = {{-1000.0, -700.0, 1.0}};
  const InversionResult hot = invert(op, f.obs, f.grid, f.sites, io);
  EXPECT_LT(std::hypot(hot.peak_x_m + 1000.0, hot.peak_y_m + 700.0), 150.0) << hot.peak_x_m << "," << hot.peak_y_m;
  EXPECT_LT(hot.area_m2_90, plain.area_m2_90);
  EXPECT_GE(hot.unlisted_probability, plain.unlisted_probability);
  double sum = 0;
  for (float v : hot.grid_posterior) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-4);
  // two hotspots on the plume line: the one standing higher above its background gets more of the prior
  io.unlisted_hotspots = {{-1000.0, -700.0, 10.0}, {-3500.0, -700.0, 1.0}};
  const InversionResult two = invert(op, f.obs, f.grid, f.sites, io);
  EXPECT_LT(std::hypot(two.peak_x_m + 1000.0, two.peak_y_m + 700.0), 150.0) << two.peak_x_m << "," << two.peak_y_m;
  // a hotspot where no plume reached the stations (2.5 km off the plume line) does not pull the peak there
  io.unlisted_hotspots = {{-1000.0, 2500.0, 1.0}};
  const InversionResult off = invert(op, f.obs, f.grid, f.sites, io);
  EXPECT_NEAR(off.peak_y_m, -700.0, 250.0) << off.peak_x_m << "," << off.peak_y_m;
  // a hotspot far outside the grid is no information
  io.unlisted_hotspots = {{-90000.0, 0.0, 1.0}};
  const InversionResult outside = invert(op, f.obs, f.grid, f.sites, io);
  EXPECT_EQ(outside.peak_x_m, plain.peak_x_m);
  EXPECT_EQ(outside.peak_y_m, plain.peak_y_m);
  EXPECT_EQ(outside.unlisted_probability, plain.unlisted_probability);
}

TEST(Inversion, UsualEmissionsAreNoRelease) {
  // every facility emits its usual 3 g/s all day and nothing more: with the usual emissions
  // modelled (a common rate fitted, as when the registry gives none) "no release" wins; left
  // out, the facility most upwind of the stations is accused of the build-up
  for (const bool modelled : {false, true}) {
    Fixture f = make_case(-1, 0.0, -1, 0, true, -1, 3.0);
    const SourceReceptorOperator op(f.wind, f.obs, f.grid, op_options());
    InversionOptions io;
    io.threads = 2;
    UsualEmissions u;
    if (modelled) u = fit_usual_emissions(op, f.obs, f.sites, io);
    const InversionResult r = invert(op, f.obs, f.grid, f.sites, io);
    const double top = *std::max_element(r.probability.begin(), r.probability.end());
    if (modelled) {
      EXPECT_GT(u.mean_rate_g_s, 3.0 / 1.5);
      EXPECT_LT(u.mean_rate_g_s, 3.0 * 1.5);
      EXPECT_EQ(u.facilities, f.sites.size());
      EXPECT_EQ(u.permitted, 0u);
      EXPECT_GT(r.no_release_probability, 0.5) << "top facility " << top;
      EXPECT_LT(top, 0.5);
    } else {
      EXPECT_LT(r.no_release_probability, 0.1) << "the test no longer shows what the usual emissions fix";
    }
  }
}

TEST(Inversion, AReleaseStandsAboveTheUsualEmissions) {
  // every facility emits its usual 1 g/s all day, and site 0 releases 25 g/s more from hour 2 on
  // (a culprit 25x the others, as issue #7's twins). Left out, the build-up of the usual
  // emissions hides the release (measured: site 0 at p 0.17, its rate 10.8 g/s); modelled, from
  // the registry's permits or with a common rate fitted, the culprit stands out with its excess
  // rate (measured 0.58 and 0.58, 21.0 and 20.9 g/s)
  for (const int mode : {0, 1, 2}) {  // 0: not modelled, 1: permits in the registry, 2: fitted
    Fixture f = make_case(0, 25.0, -1, 0, true, 2, 1.0);
    if (mode == 1)
      for (CandidateSite& c : f.sites) c.usual_g_s = 1.0;
    const SourceReceptorOperator op(f.wind, f.obs, f.grid, op_options());
    InversionOptions io;
    io.threads = 2;
    UsualEmissions u;
    if (mode > 0) u = fit_usual_emissions(op, f.obs, f.sites, io);
    if (mode == 1) {
      EXPECT_EQ(u.permitted, f.sites.size());
      EXPECT_LE(u.scale, 1.0);  // permits are the ceiling of "usual"
      EXPECT_GT(u.scale, 0.5);
    }
    const InversionResult r = invert(op, f.obs, f.grid, f.sites, io);
    if (mode == 0) {
      EXPECT_LT(r.probability[0], 0.3) << "the test no longer shows what the usual emissions fix";
      continue;
    }
    const auto best = static_cast<int>(std::max_element(r.probability.begin(), r.probability.end()) - r.probability.begin());
    EXPECT_EQ(best, 0) << "mode " << mode;
    EXPECT_GT(r.probability[0], 0.5) << "mode " << mode;
    EXPECT_LT(r.no_release_probability, 0.3) << "mode " << mode;
    const std::vector<EpochSeconds> blocks = release_blocks(kT0, kT0 + 4 * 3600.0);
    const ReleaseProfile prof = release_profile_g_s(op, f.obs, f.sites[0], blocks, 1e6);
    ASSERT_TRUE(prof.period_blocks);
    double q = 0, n = 0;
    for (std::size_t b = prof.period_blocks->first; b <= prof.period_blocks->second; ++b) {
      q += prof.rate_g_s[b];
      ++n;
    }
    EXPECT_GT(q / n, 25.0 / 2) << "mode " << mode;
    EXPECT_LT(q / n, 25.0 * 2) << "mode " << mode;
    EXPECT_GT(r.rate[0].estimate, 25.0 / 2) << "mode " << mode;
    EXPECT_LT(r.rate[0].estimate, 25.0 * 2) << "mode " << mode;
  }
}

TEST(Inversion, OpenPathsAroundASiteLocateTheSourceInsideIt) {
  // a works' yard fenced by four beams (a 500 m square about the origin, 3 m up) in a 3 m/s west
  // wind; each beam reports its hourly mean along its length for 4 hours. A source in the yard
  // lights up the east (downwind) beam only; one upwind of the yard would light the west beam too,
  // one beside it neither, one downwind of it none.
  Fixture f;
  f.grid = {"EPSG:32650", -2500.0, 2500.0, 25.0, 200, 200};
  const double half = 250.0;
  const double beams[][4] = {{-half, -half, half, -half}, {half, -half, half, half}, {half, half, -half, half},
                             {-half, half, -half, -half}};  // south, east, north, west
  const double cand[][2] = {{0, 50}, {-900, 50}, {0, 900}, {900, 50}, {-600, -700}};
  for (const auto& c : cand) f.sites.push_back({c[0], c[1], 2.0, 1.0, std::nullopt, std::nullopt});
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (std::size_t b = 0; b < std::size(beams); ++b) {
    Platform p;
    p.id = "B" + std::to_string(b);
    p.kind = ObservationKind::Path;
    p.background = 6.0;
    p.noise = 0.3;
    f.obs.platforms.push_back(p);
    for (int h = 0; h < 4; ++h) {
      Observation ob;
      ob.kind = ObservationKind::Path;
      ob.platform = static_cast<int>(b);
      ob.x0_m = beams[b][0];
      ob.y0_m = beams[b][1];
      ob.x1_m = beams[b][2];
      ob.y1_m = beams[b][3];
      ob.x_m = 0.5 * (ob.x0_m + ob.x1_m);
      ob.y_m = 0.5 * (ob.y0_m + ob.y1_m);
      ob.z_m = 3;
      ob.t_start = kT0 + 3600.0 * h;
      ob.averaging_s = 3600;
      // the mean along the beam of the plume of 2 g/s from the yard's source (400 points)
      double sum = 0;
      constexpr int kPoints = 400;
      for (int k = 0; k < kPoints; ++k) {
        const double a = (k + 0.5) / kPoints;
        const double x = ob.x0_m + a * (ob.x1_m - ob.x0_m) - cand[0][0], y = ob.y0_m + a * (ob.y1_m - ob.y0_m) - cand[0][1];
        sum += 1e6 * gaussian_plume_g_m3(2.0, 3.0, x, y, 3.0, 2.0, SigmaScheme::BriggsRural, Stability::D, 800.0);
      }
      ob.value = (6.0 + sum / kPoints) * (1.0 + 0.05 * noise(rng));
      f.obs.obs.push_back(ob);
    }
  }
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, known_wind_options());
  InversionOptions io;
  io.threads = 2;
  const InversionResult r = invert(op, f.obs, f.grid, f.sites, io);
  const auto best = static_cast<std::size_t>(std::max_element(r.probability.begin(), r.probability.end()) - r.probability.begin());
  EXPECT_EQ(best, 0U) << r.probability[0] << " " << r.probability[1] << " " << r.probability[2] << " " << r.probability[3]
                      << " unlisted " << r.unlisted_probability;
  EXPECT_GT(r.probability[0], 0.5);
  EXPECT_GT(r.rate[0].estimate, 1.0);
  EXPECT_LT(r.rate[0].estimate, 4.0);
  // with the yard's source out of the registry, the unregistered source is placed inside the fence
  // and no registered facility is blamed. (Its probability is not decisive: one beam in a steady
  // wind leaves the source anywhere on a 40 m wide line across the yard, and the location prior
  // over the 25 km² grid costs it more than these 4 hourly means pay: measured 0.22, "no release"
  // 0.76. Issue #7 item 2/3: "no release" against a well-placed unregistered source.)
  std::vector<CandidateSite> others(f.sites.begin() + 1, f.sites.end());
  const InversionResult u = invert(op, f.obs, f.grid, others, io);
  for (double p : u.probability) EXPECT_LT(10 * p, u.unlisted_probability) << "no release " << u.no_release_probability;
  EXPECT_LT(std::abs(u.peak_x_m), half) << u.peak_x_m << "," << u.peak_y_m;
  EXPECT_LT(std::abs(u.peak_y_m), half) << u.peak_x_m << "," << u.peak_y_m;
}

TEST(Inversion, UnitsConversion) {
  EXPECT_DOUBLE_EQ(units_per_g_m3("ug/m3", "so2"), 1e6);
  EXPECT_DOUBLE_EQ(units_per_g_m3("mg/m3", "so2"), 1e3);
  EXPECT_NEAR(units_per_g_m3("ppb", "so2"), 24.45e6 / 64.066, 1e-6);
  EXPECT_THROW(units_per_g_m3("furlongs", "so2"), InvalidInput);
  EXPECT_THROW(units_per_g_m3("ppb", "pm25"), InvalidInput);
}

}  // namespace
}  // namespace plumetrace

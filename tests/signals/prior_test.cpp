// Flags raise a candidate's prior in a bounded way (issue #10 item 3): through the inversion, a
// flagged decoy never outranks a culprit that the measurements single out, and a flag breaks a tie
// between two facilities that the measurements cannot separate. Twin data from the Gaussian plume
// formula in a steady wind, as tests/inversion/inversion_test.cpp does.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <set>

#include "plumetrace/core/tuning.hpp"
#include "plumetrace/inversion/inversion.hpp"
#include "plumetrace/kernels/plume.hpp"
#include "plumetrace/signals/flags.hpp"

namespace plumetrace {
namespace {

constexpr EpochSeconds kT0 = 1.6e9;

struct Twin {
  Grid grid;
  WindField wind = WindField::uniform(3.0, 0.0, Stability::D, 800.0);  // from the west
  ObservationSet obs;
  OperatorOptions op;
};

/// Seven stations on a crosswind line 3 km east of the origin, four hourly means each; the
/// culprit at (culprit_x, culprit_y) emits `q_g_s` throughout; background 6 µg/m³, 5 % noise.
Twin make_twin(double culprit_x, double culprit_y, double q_g_s) {
  Twin f;
  f.grid.crs = "EPSG:32650";
  f.grid.x0_m = -5000;
  f.grid.y1_m = 5000;
  f.grid.cell_m = 100;
  f.grid.cols = f.grid.rows = 100;
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0.0, 1.0);
  int s = 0;
  for (const double y : {-1500.0, -900.0, -300.0, 0.0, 300.0, 900.0, 1500.0}) {
    f.obs.platforms.push_back({"S" + std::to_string(s), ObservationKind::Station, 6.0, 0.3, BackgroundSource::Own});
    for (int h = 0; h < 4; ++h) {
      Observation ob;
      ob.platform = s;
      ob.x_m = ob.x0_m = ob.x1_m = 3000;
      ob.y_m = ob.y0_m = ob.y1_m = y;
      ob.z_m = 3;
      ob.t_start = kT0 + 3600.0 * h;
      ob.averaging_s = 3600;
      const double plume = 1e6 * gaussian_plume_g_m3(q_g_s, 3.0, ob.x_m - culprit_x, y - culprit_y, 3.0, 10.0,
                                                     SigmaScheme::BriggsRural, Stability::D, 800.0);
      ob.value = (6.0 + plume) * (1.0 + 0.05 * noise(rng));
      f.obs.obs.push_back(ob);
    }
    ++s;
  }
  f.op.emit_start = kT0;
  f.op.emit_end = kT0 + 4 * 3600.0;
  f.op.stability_shifts = {0};
  f.op.within_member_deg = 0.0;
  return f;
}

/// The decoy's own record: treatment switched off while production ran, during the incident,
/// and its CEMS flat-lined, a gap next to an exceedance and values pinned under the limit, so
/// that every kind is present and the factor is the cap.
MonitoringTables decoy_record(const std::string& id) {
  MonitoringTables t;
  for (int h = -24; h < 24; ++h) {
    const EpochSeconds at = kT0 + 3600.0 * h;
    const bool bypass = h >= 0 && h < 4;
    t.power.push_back({id, at, PowerCircuit::Production, 800.0, 0});
    t.power.push_back({id, at, PowerCircuit::Treatment, bypass ? 2.0 : 120.0, 0});
    if (h == 5 || h == 6) continue;  // the gap, after the exceedance at h = 4
    const double v = h == 4 ? 250.0 : (h >= 8 && h < 16 ? 195.0 : 190.0 + 5 * std::sin(h * 1.3));
    t.cems.push_back({id, at, "so2", v, "mg/m3", 200.0, 0});
  }
  t.mandates.push_back({id, kT0 - 3600.0, kT0 + 4 * 3600.0, MandateKind::Shutdown, 2});
  return t;
}

/// The inversion with the signals' prior factors applied as run_trace does.
InversionResult invert_with_signals(const Twin& f, std::vector<CandidateSite> sites, const std::vector<std::string>& ids,
                                    const MonitoringTables& tables) {
  for (std::size_t j = 0; j < sites.size(); ++j)
    sites[j].prior *= facility_signals(tables, ids[j], kT0, kT0 + 4 * 3600.0).prior_factor;
  const SourceReceptorOperator op(f.wind, f.obs, f.grid, f.op);
  InversionOptions io;
  io.threads = 2;
  return invert(op, f.obs, f.grid, sites, io);
}

std::vector<double> posterior(const Twin& f, const std::vector<CandidateSite>& sites,
                              const std::vector<std::string>& ids, const MonitoringTables& tables) {
  return invert_with_signals(f, sites, ids, tables).probability;
}

TEST(SignalsPrior, TheDecoyRecordCarriesEveryFlagAndTheCap) {
  const auto s = facility_signals(decoy_record("D"), "D", kT0, kT0 + 4 * 3600.0);
  std::set<std::string> kinds;
  for (const auto& f : s.flags) kinds.insert(f.kind);
  EXPECT_EQ(kinds, (std::set<std::string>{"treatment_off", "production_in_shutdown", "cems_flatline",
                                          "cems_near_limit", "cems_gap"}));
  EXPECT_EQ(s.prior_factor, tuning::kSignalsMaxPriorFactor);
}

TEST(SignalsPrior, AFlaggedDecoyNeverOutranksAClearCulprit) {
  const Twin f = make_twin(0, 0, 30.0);
  // culprit C at the origin; decoys across the wind, each in turn carrying every flag (factor 4).
  // N stands 700 m off the plume axis, within the wind-direction ensemble's reach (13 deg at 3 km):
  // the measurements favour C only about 25:1 there. F1-F3 stand beyond it.
  const std::vector<CandidateSite> sites = {{0, 0, 10, 1, std::nullopt, std::nullopt},
                                            {0, 700, 10, 1, std::nullopt, std::nullopt},
                                            {0, 1600, 10, 1, std::nullopt, std::nullopt},
                                            {-1000, -1500, 10, 1, std::nullopt, std::nullopt},
                                            {500, 1400, 10, 1, std::nullopt, std::nullopt}};
  const std::vector<std::string> ids = {"C", "N", "F1", "F2", "F3"};
  const auto unflagged = posterior(f, sites, ids, MonitoringTables{});
  for (std::size_t d = 1; d < ids.size(); ++d) {
    const auto p = posterior(f, sites, ids, decoy_record(ids[d]));
    EXPECT_GT(p[d], unflagged[d]) << ids[d];  // the flags do raise it
    for (std::size_t j = 1; j < p.size(); ++j) EXPECT_GT(p[0], p[j]) << ids[d] << " flagged";
    if (d == 1) continue;
    // the measurements single C out (at least 40:1 against the decoy without flags)...
    ASSERT_LT(unflagged[d], unflagged[0] / 40) << ids[d];
    // ...and the flagged decoy stays under a tenth of it
    EXPECT_LT(p[d], 0.1 * p[0]) << ids[d] << " " << p[d] << " vs culprit " << p[0];
  }
  // the culprit's own flags change nothing in its rank
  const auto p = posterior(f, sites, ids, decoy_record("C"));
  for (std::size_t j = 1; j < p.size(); ++j) EXPECT_LT(p[j], p[0]);
}

TEST(SignalsPrior, AFlagBreaksATieTheMeasurementsCannotSeparate) {
  // two facilities in the same yard (10 m apart across the wind): the stations 3 km downwind
  // cannot tell them apart; only the one with treatment switched off is flagged
  const Twin f = make_twin(0, 0, 10.0);
  const std::vector<CandidateSite> sites = {{0, -5, 10, 1, std::nullopt, std::nullopt}, {0, 5, 10, 1, std::nullopt, std::nullopt}};
  const std::vector<std::string> ids = {"A", "B"};
  const auto tied = posterior(f, sites, ids, MonitoringTables{});
  EXPECT_NEAR(tied[0] / tied[1], 1.0, 0.05);

  MonitoringTables t;
  for (int h = -24; h < 24; ++h) {
    t.power.push_back({"B", kT0 + 3600.0 * h, PowerCircuit::Production, 800.0, 0});
    t.power.push_back({"B", kT0 + 3600.0 * h, PowerCircuit::Treatment, h >= 0 && h < 4 ? 0.0 : 120.0, 0});
  }
  ASSERT_EQ(facility_signals(t, "B", kT0, kT0 + 4 * 3600.0).prior_factor, tuning::kFlagFactorTreatmentOff);
  const InversionResult r = invert_with_signals(f, sites, ids, t);
  const auto& p = r.probability;
  EXPECT_GT(p[1], p[0]);
  // the single-culprit odds are the factor; the two-culprit hypotheses, shared between their
  // members by likelihood alone, pull the total a little toward 1
  EXPECT_NEAR(r.single_probability[1] / r.single_probability[0] / (tied[1] / tied[0]),
              tuning::kFlagFactorTreatmentOff, 0.05 * tuning::kFlagFactorTreatmentOff);
  const double odds = p[1] / p[0] / (tied[1] / tied[0]);
  std::printf("odds B:A with B flagged %.3f (singles %.3f), unflagged %.3f\n", odds,
              r.single_probability[1] / r.single_probability[0], tied[1] / tied[0]);
  EXPECT_GT(odds, 0.8 * tuning::kFlagFactorTreatmentOff) << odds;
  EXPECT_LT(odds, 1.05 * tuning::kFlagFactorTreatmentOff) << odds;
}

}  // namespace
}  // namespace plumetrace

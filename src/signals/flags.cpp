/// Monitoring-signal flags (signals/flags.hpp).

#include "plumetrace/signals/flags.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "plumetrace/core/tuning.hpp"

namespace plumetrace {
namespace {

/// Compact number for a detail text ("812", "0.25", "1.2e+03").
std::string g3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

/// Linear-interpolated quantile q in [0, 1] of `v` (copied); 0 for an empty vector.
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(std::floor(pos));
  const std::size_t j = std::min(i + 1, v.size() - 1);
  return v[i] + (pos - static_cast<double>(i)) * (v[j] - v[i]);
}

/// Median positive spacing of sorted times; 3600 s when the series has fewer than two times.
double median_spacing_s(const std::vector<EpochSeconds>& t) {
  std::vector<double> d;
  for (std::size_t i = 1; i < t.size(); ++i)
    if (t[i] > t[i - 1]) d.push_back(t[i] - t[i - 1]);
  return d.empty() ? 3600.0 : quantile(std::move(d), 0.5);
}

struct Series {
  std::vector<EpochSeconds> t;
  std::vector<double> v;
};

/// Consecutive flagged samples of a series as intervals [t_first, t_last + spacing], kept when
/// they hold at least `min_samples` samples; `detail` names each run from its sample indices.
template <typename Detail>
void flag_runs(const std::vector<EpochSeconds>& t, const std::vector<bool>& on, int min_samples, double spacing_s,
               const char* kind, Detail detail, std::vector<SignalFlag>& out) {
  for (std::size_t i = 0; i < on.size();) {
    if (!on[i]) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j + 1 < on.size() && on[j + 1]) ++j;
    if (static_cast<int>(j - i + 1) >= min_samples) out.push_back({kind, t[i], t[j] + spacing_s, detail(i, j)});
    i = j + 1;
  }
}

/// Power flags: treatment_off and production_in_shutdown.
void power_flags(const Series& production, const Series& treatment, const std::vector<Mandate>& shutdowns,
                 std::vector<SignalFlag>& out) {
  if (production.t.empty()) return;
  const double usual_production = quantile(production.v, tuning::kUsualLoadQuantile);
  if (!(usual_production > 0)) return;  // never ran in the record
  const double running_kw = tuning::kProductionRunningFraction * usual_production;
  const double spacing = median_spacing_s(production.t);
  std::vector<bool> running(production.t.size());
  for (std::size_t i = 0; i < running.size(); ++i) running[i] = production.v[i] >= running_kw;

  // treatment at each production time: the same time, else the nearest within half a spacing
  std::vector<double> treat(production.t.size(), std::nan(""));
  for (std::size_t i = 0; i < production.t.size() && !treatment.t.empty(); ++i) {
    const auto it = std::lower_bound(treatment.t.begin(), treatment.t.end(), production.t[i]);
    double best = 0.5 * spacing;
    for (auto k = it == treatment.t.begin() ? it : it - 1; k != treatment.t.end() && k <= it; ++k)
      if (std::abs(*k - production.t[i]) <= best) {
        best = std::abs(*k - production.t[i]);
        treat[i] = treatment.v[static_cast<std::size_t>(k - treatment.t.begin())];
      }
  }
  std::vector<double> treat_running;
  for (std::size_t i = 0; i < treat.size(); ++i)
    if (running[i] && std::isfinite(treat[i])) treat_running.push_back(treat[i]);
  const double usual_treatment = quantile(treat_running, tuning::kUsualLoadQuantile);
  if (usual_treatment > 0) {
    std::vector<bool> off(production.t.size());
    for (std::size_t i = 0; i < off.size(); ++i)
      off[i] = running[i] && std::isfinite(treat[i]) && treat[i] < tuning::kTreatmentLowFraction * usual_treatment;
    flag_runs(production.t, off, tuning::kPowerFlagMinSamples, spacing, "treatment_off",
              [&](std::size_t i, std::size_t j) {
                double tmax = 0, pmin = 1e300;
                for (std::size_t k = i; k <= j; ++k) {
                  tmax = std::max(tmax, treat[k]);
                  pmin = std::min(pmin, production.v[k]);
                }
                return "treatment at most " + g3(tmax) + " kW (usual " + g3(usual_treatment) +
                       " kW) while production drew at least " + g3(pmin) + " kW (usual " + g3(usual_production) +
                       " kW), " + std::to_string(j - i + 1) + " samples";
              },
              out);
  }
  for (const Mandate& m : shutdowns) {
    std::vector<bool> in(production.t.size());
    for (std::size_t i = 0; i < in.size(); ++i)
      in[i] = running[i] && production.t[i] >= m.start_s && production.t[i] < m.end_s;
    flag_runs(production.t, in, tuning::kPowerFlagMinSamples, spacing, "production_in_shutdown",
              [&](std::size_t i, std::size_t j) {
                double pmax = 0;
                for (std::size_t k = i; k <= j; ++k) pmax = std::max(pmax, production.v[k]);
                return "production up to " + g3(pmax) + " kW (usual " + g3(usual_production) +
                       " kW) during the shutdown ordered from " + format_iso8601(m.start_s) + " to " +
                       format_iso8601(m.end_s) + " (mandates.csv line " + std::to_string(m.line) + ")";
              },
              out);
  }
}

/// CEMS flags of one variable's series (sorted by time).
void cems_flags(const std::string& variable, const std::vector<const CemsRow*>& rows, EpochSeconds w0,
                EpochSeconds w1, std::vector<SignalFlag>& out) {
  const std::size_t n = rows.size();
  if (n == 0) return;
  std::vector<EpochSeconds> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = rows[i]->time_s;
  const double spacing = median_spacing_s(t);
  const std::string unit = rows.front()->unit.empty() ? "" : " " + rows.front()->unit;
  auto equal = [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a)); };

  // flat line (p = 1) or a repeated block (p >= 2): the shortest period wins for each sample
  std::vector<bool> taken(n, false);
  for (int p = 1; p <= tuning::kRepeatMaxPeriod; ++p) {
    const auto pp = static_cast<std::size_t>(p);
    const std::size_t need = static_cast<std::size_t>(std::max(tuning::kFlatlineMinSamples, 3 * p));
    for (std::size_t i = pp; i < n;) {
      if (!equal(rows[i]->value, rows[i - pp]->value)) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j + 1 < n && equal(rows[j + 1]->value, rows[j + 1 - pp]->value)) ++j;
      const std::size_t first = i - pp, covered = j - first + 1;
      bool all_zero = true, fresh = true;
      for (std::size_t k = first; k <= j; ++k) {
        all_zero = all_zero && rows[k]->value == 0;
        fresh = fresh && !taken[k];
      }
      if (covered >= need && !all_zero && fresh) {
        for (std::size_t k = first; k <= j; ++k) taken[k] = true;
        const std::string what = p == 1 ? "flat at " + g3(rows[i]->value) + unit
                                        : "repeating a block of " + std::to_string(p) + " values";
        out.push_back({"cems_flatline", t[first], t[j] + spacing,
                       variable + " " + what + " for " + std::to_string(covered) + " consecutive samples"});
      }
      i = j + 1;
    }
  }

  // pinned just under the limit, over the samples in the window
  int with_limit = 0, pinned = 0;
  EpochSeconds p0 = 0, p1 = 0;
  double limit = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (rows[i]->limit <= 0 || t[i] < w0 || t[i] > w1) continue;
    ++with_limit;
    if (rows[i]->value >= tuning::kNearLimitLowFraction * rows[i]->limit && rows[i]->value <= rows[i]->limit) {
      if (pinned++ == 0) p0 = t[i];
      p1 = t[i];
      limit = rows[i]->limit;
    }
  }
  if (pinned >= tuning::kNearLimitMinSamples && pinned >= tuning::kNearLimitShare * with_limit)
    out.push_back({"cems_near_limit", p0, p1 + spacing,
                   variable + ": " + std::to_string(pinned) + " of " + std::to_string(with_limit) + " values within " +
                       g3(100 * (1 - tuning::kNearLimitLowFraction)) + " % under the limit " + g3(limit) + unit});

  // gaps next to an exceedance
  auto exceeds = [&](std::size_t k) { return rows[k]->limit > 0 && rows[k]->value >= rows[k]->limit; };
  for (std::size_t i = 1; i < n; ++i) {
    if (!(t[i] - t[i - 1] > tuning::kGapSpacingFactor * spacing)) continue;
    const auto m = static_cast<std::size_t>(tuning::kGapExceedanceSamples);
    int hit = -1;
    for (std::size_t k = i > m ? i - m : 0; k < std::min(n, i + m) && hit < 0; ++k)
      if (exceeds(k)) hit = static_cast<int>(k);
    if (hit < 0) continue;
    const CemsRow& r = *rows[static_cast<std::size_t>(hit)];
    out.push_back({"cems_gap", t[i - 1] + spacing, t[i],
                   variable + ": no data for " + g3((t[i] - t[i - 1] - spacing) / 3600.0) + " h next to " + g3(r.value) +
                       unit + " at or over the limit " + g3(r.limit) + unit + " (cems.csv line " +
                       std::to_string(r.line) + ")"});
  }
}

}  // namespace

double signal_prior_factor(const std::vector<SignalFlag>& flags) noexcept {
  static constexpr struct {
    const char* kind;
    double factor;
  } kFactors[] = {{"treatment_off", tuning::kFlagFactorTreatmentOff},
                  {"production_in_shutdown", tuning::kFlagFactorProductionInShutdown},
                  {"cems_flatline", tuning::kFlagFactorCemsFlatline},
                  {"cems_near_limit", tuning::kFlagFactorCemsNearLimit},
                  {"cems_gap", tuning::kFlagFactorCemsGap}};
  double f = 1.0;
  for (const auto& k : kFactors)
    if (std::any_of(flags.begin(), flags.end(), [&](const SignalFlag& s) { return s.kind == k.kind; }))
      f *= k.factor;
  return std::min(f, tuning::kSignalsMaxPriorFactor);
}

FacilitySignals facility_signals(const MonitoringTables& tables, const std::string& facility_id, EpochSeconds t0_s,
                                 EpochSeconds t1_s) {
  const EpochSeconds w0 = t0_s - tuning::kSignalsWindowMarginS, w1 = t1_s + tuning::kSignalsWindowMarginS;
  std::vector<SignalFlag> all;

  Series production, treatment;
  for (const PowerRow& r : tables.power) {
    if (r.facility_id != facility_id) continue;
    Series& s = r.circuit == PowerCircuit::Production ? production : treatment;
    s.t.push_back(r.time_s);
    s.v.push_back(r.kw);
  }
  std::vector<Mandate> shutdowns;
  for (const Mandate& m : tables.mandates)
    if (m.facility_id == facility_id && m.kind == MandateKind::Shutdown) shutdowns.push_back(m);
  power_flags(production, treatment, shutdowns, all);

  std::map<std::string, std::vector<const CemsRow*>> by_variable;  // rows are sorted by time within a variable
  for (const CemsRow& r : tables.cems)
    if (r.facility_id == facility_id) by_variable[r.variable].push_back(&r);
  for (auto& [variable, rows] : by_variable) {
    std::stable_sort(rows.begin(), rows.end(), [](const CemsRow* a, const CemsRow* b) { return a->time_s < b->time_s; });
    cems_flags(variable, rows, w0, w1, all);
  }

  FacilitySignals out;
  for (SignalFlag& f : all)
    if (f.end_s >= w0 && f.start_s <= w1) out.flags.push_back(std::move(f));
  std::stable_sort(out.flags.begin(), out.flags.end(),
                   [](const SignalFlag& a, const SignalFlag& b) { return a.start_s < b.start_s; });
  out.prior_factor = signal_prior_factor(out.flags);
  return out;
}

}  // namespace plumetrace

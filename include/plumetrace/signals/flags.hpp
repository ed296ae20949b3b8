#pragma once
/// @file flags.hpp
/// Monitoring signals: what a facility's own records (cems.csv, power.csv, mandates.csv) say about
/// it around an incident, as `evidence.flags` (README "Ranking document"; docs/signals.md), and
/// the bounded factor by which they raise its prior in the inversion.
///
/// Flag kinds:
/// - `treatment_off`: the treatment circuit draws under kTreatmentLowFraction of its usual load
///   while production runs (>= kProductionRunningFraction of its usual load), for at least
///   kPowerFlagMinSamples consecutive production samples;
/// - `production_in_shutdown`: production runs during a `shutdown` mandate (same sample rule);
/// - `cems_flatline`: a CEMS series flat (period 1) or repeating a block (period 2..kRepeatMaxPeriod);
/// - `cems_near_limit`: values pinned just under the permitted limit;
/// - `cems_gap`: samples missing next to a value at or over the limit.
/// Usual loads and the series' spacing come from the whole record; flags are reported when their
/// interval overlaps the window widened by kSignalsWindowMarginS (core/tuning.hpp).

#include <string>
#include <vector>

#include "plumetrace/core/time.hpp"
#include "plumetrace/ingest/signal_tables.hpp"

namespace plumetrace {

struct SignalFlag {
  std::string kind;         ///< treatment_off, production_in_shutdown, cems_flatline, cems_near_limit, cems_gap
  EpochSeconds start_s{};   ///< the interval the flag covers
  EpochSeconds end_s{};
  std::string detail;       ///< human-readable, with the numbers behind it
};

struct FacilitySignals {
  std::vector<SignalFlag> flags;  ///< sorted by start time
  double prior_factor{1.0};       ///< signal_prior_factor(flags)
};

/// The flags of facility `facility_id` for the window [t0_s, t1_s] (@pre t1_s >= t0_s).
/// Never throws; a facility absent from every table has no flags and factor 1.
[[nodiscard]] FacilitySignals facility_signals(const MonitoringTables& tables, const std::string& facility_id,
                                               EpochSeconds t0_s, EpochSeconds t1_s);

/// Prior multiplier of a set of flags: the product over the distinct kinds present of their
/// factor (tuning::kFlagFactor*), capped at tuning::kSignalsMaxPriorFactor; 1 for no flags.
/// Always in [1, kSignalsMaxPriorFactor].
[[nodiscard]] double signal_prior_factor(const std::vector<SignalFlag>& flags) noexcept;

}  // namespace plumetrace

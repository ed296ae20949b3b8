#pragma once
/// @file alerts.hpp
/// Live early warning (CONTRACT §4 `PUT /api/v1/cases/{case}/alert-rules`): readings appended over
/// HTTP are checked against the case's rules, fixed thresholds on a pollutant's mean over an
/// averaging period and a robust anomaly score against each station's recent baseline; a
/// triggered alert is recorded (once per station and pollutant within kAlertDedupeS) and starts a
/// trace job for the hours around it.
///
/// Every tuned number of the alerting is here, named once, with its reason.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/core/error.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/server/store.hpp"

namespace plumetrace::server {

class JobRunner;

/// A threshold rule's period mean counts only when readings cover at least this fraction of the
/// period: the 75 % data-capture rule of air-quality standards (EU 2008/50/EC Annex VII: 45 min
/// of an hour, 18 of 24 hourly values; China GB 3095-2012 requires 18 hourly values for a daily
/// mean), so that one high reading in an otherwise empty day is not called a daily exceedance.
inline constexpr double kMinDataCapture = 0.75;

/// The anomaly baseline: a station's readings of the pollutant in the previous 24 h, which spans
/// one full diurnal cycle (traffic, boundary-layer growth and collapse) so that an ordinary
/// morning peak is inside the baseline's spread.
inline constexpr double kBaselineWindowS = 24.0 * 3600.0;

/// Fewest baseline readings for an anomaly score: with fewer than 12 (half a day of hourly means)
/// the median and MAD are too unstable; a new or long-silent station raises no anomaly alerts.
inline constexpr std::size_t kMinBaselineReadings = 12;

/// MAD x 1.4826 estimates the standard deviation of normal data (1 / Phi^-1(3/4)), so the robust
/// z-score reads like an ordinary z-score on well-behaved data.
inline constexpr double kMadToSigma = 1.4826;

/// The MAD is floored at this fraction of the baseline median: a flat baseline (a sensor
/// reporting the same value, or values quantised to its resolution) has MAD 0, which would make
/// any change an infinite score.
inline constexpr double kMadFloorFractionOfMedian = 0.05;

/// Robust z at or above which an anomaly alert fires when the rules give no `score`. Measured on
/// simulated independent log-normal hourly readings (no plume; the previous 24 as baseline;
/// tests/server/alerts_test.cpp FalseAlertRateOnLogNormalReadings, 200,000 readings each), the
/// false alerts per reading are:
///   log-sd 0.5 (a steady station):        score 8: 2.6e-3 (about one in 16 days of hourly data),
///                                         score 5: 1.4e-2
///   log-sd 1.0 (a very variable station): score 8: 2.6e-2 (one in 1.6 days), score 5: 5.8e-2
/// The log-normal's long right tail against a 24-value MAD is what fires; kAlertDedupeS caps a
/// station at 4 alerts a day. At log-sd 0.5 a score of 8 is a reading about 5x the baseline
/// median, well under a plume hit at a station near the source (tens of times the background).
/// Scoring log values instead would cut false alerts to near zero but would need ~55x the median
/// at log-sd 0.5, missing plumes that hit a station's edge: we keep the linear score.
inline constexpr double kDefaultAnomalyScore = 8.0;

/// One alert per station and pollutant within 6 h of another: a plume passing a station raises
/// many high readings over a few hours; one alert and one trace job cover them (the job's window,
/// kTraceBeforeS + kTraceAfterS = 7 h, spans the same event).
inline constexpr double kAlertDedupeS = 6.0 * 3600.0;

/// A triggered alert at time t starts a trace job for [t - 6 h, t + 1 h]: the release began
/// before the reading that crossed the line (transport over tens of km at a few m/s takes hours),
/// and the hour after lets the job see the plume's tail.
inline constexpr double kTraceBeforeS = 6.0 * 3600.0;
inline constexpr double kTraceAfterS = 1.0 * 3600.0;

/// At most this many alerts (and trace jobs) from one append request: a backlog upload of a
/// month of readings must not flood the job queue; the rest are not raised (the response counts
/// the exceedances left unchecked, at most one per station and pollutant per kAlertDedupeS).
inline constexpr std::size_t kMaxAlertsPerAppend = 16;

/// Validation bounds of a rules document (not tuned: they keep one PUT small and a check cheap).
inline constexpr std::size_t kMaxAlertRules = 64;
inline constexpr double kMinRulePeriodS = 60.0;              ///< PT1M
inline constexpr double kMaxRulePeriodS = 7.0 * 24 * 3600.0;  ///< P7D

/// A fixed threshold: alert when the mean of `pollutant` over an averaging period exceeds it.
struct ThresholdRule {
  std::string pollutant;  ///< lower-case variable name
  std::string period;     ///< ISO 8601 duration as given ("PT1H", "PT8H", "P1D")
  double period_s{};      ///< its length; periods are aligned to midnight in the case's time zone
  double threshold{};     ///< in the readings' unit
};

/// The robust anomaly score of one pollutant against each station's previous kBaselineWindowS.
struct AnomalyRule {
  std::string pollutant;
  double score{kDefaultAnomalyScore};  ///< robust z at or above which an alert fires
};

/// A case's alert rules.
struct AlertRules {
  std::vector<ThresholdRule> rules;
  std::optional<AnomalyRule> anomaly;
};

/// A rules document that cannot be used: `field` names the offending member ("rules[1].period").
class InvalidAlertRules : public InvalidInput {
 public:
  InvalidAlertRules(std::string field, const std::string& why)
      : InvalidInput(field + ": " + why), field_(std::move(field)) {}
  [[nodiscard]] const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

/// Validate a rules document `{"rules": [{"pollutant", "period", "threshold"}], "anomaly":
/// {"pollutant", "score"}}` (both members optional; pollutants lower-cased; `score` defaults to
/// kDefaultAnomalyScore). @throws InvalidAlertRules naming the first bad field.
[[nodiscard]] AlertRules parse_alert_rules(const nlohmann::json& doc);

/// The normalised document of `rules` (what GET returns and the store keeps).
[[nodiscard]] nlohmann::json to_json(const AlertRules& rules);

/// Robust z-score of `value` against `baseline`: (value - median) / (kMadToSigma x MAD), the MAD
/// floored at kMadFloorFractionOfMedian x |median|. nullopt when the baseline has fewer than
/// kMinBaselineReadings values or a zero scale (all zero).
[[nodiscard]] std::optional<double> robust_z(double value, std::span<const double> baseline);

/// The mean of the readings over one averaging period and the fraction of it they cover: each
/// reading covers its own period (given, else the median spacing of `series`, else one hour, as
/// readings.csv infers it); the part inside the averaging period weighs its value in the mean.
struct PeriodMean {
  double mean{};
  double capture{};  ///< 0..1
  std::size_t count{};
};
/// @pre `series` sorted by time. Covers [start_s, start_s + period_s). `spacing_s`, when given,
/// replaces the spacing inferred from `series` (a caller passing part of a series gives the whole's).
[[nodiscard]] PeriodMean period_mean(std::span<const StoredReading> series, EpochSeconds start_s, double period_s,
                                     std::optional<double> spacing_s = std::nullopt);

/// What checking one append did.
struct AlertCheck {
  std::vector<AlertRecord> raised;  ///< recorded alerts, each with the trace job it started
  std::size_t left_out{};           ///< alerts not raised because of kMaxAlertsPerAppend
};

/// Check the readings just appended to `case_name` against its stored rules (none: nothing to
/// do), using the store's series around them; record new alerts (deduplicated in the store) and
/// start a trace job for each. `tz` aligns the averaging periods (midnight in the case's zone).
[[nodiscard]] AlertCheck check_alerts(Store& store, JobRunner& jobs, const std::string& case_name,
                                      const std::vector<StoredReading>& appended, const TimeZone& tz);

/// An alert as CONTRACT §4 lists it (`id`, `case`, `station_id`, `time`, `rule`, `value`, `job`).
[[nodiscard]] nlohmann::json to_json(const AlertRecord& alert);

}  // namespace plumetrace::server

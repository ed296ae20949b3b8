#include "plumetrace/server/alerts.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "plumetrace/server/job_runner.hpp"

namespace plumetrace::server {
namespace {

using nlohmann::json;

/// One hour: a reading's period when neither given nor inferable (readings.csv's rule).
constexpr double kDefaultReadingPeriodS = 3600.0;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string pollutant_of(const json& obj, const std::string& field) {
  if (!obj.contains("pollutant")) throw InvalidAlertRules(field + ".pollutant", "is required");
  const json& p = obj["pollutant"];
  if (!p.is_string() || p.get<std::string>().empty() || p.get<std::string>().size() > 64)
    throw InvalidAlertRules(field + ".pollutant", "must be a variable name of 1 to 64 characters");
  return lower(p.get<std::string>());
}

void only_members(const json& obj, const std::string& field, std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : obj.items()) {
    (void)value;
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
      throw InvalidAlertRules(field.empty() ? key : field + "." + key, "is not a member of alert rules");
  }
}

std::string format_number(double v) {
  json j = v;
  return j.dump();
}

double median_of(std::vector<double>& v) {
  const std::size_t n = v.size(), mid = n / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = v[mid];
  if (n % 2 == 1) return hi;
  return 0.5 * (hi + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)));
}

/// Median positive spacing of a sorted series, or nullopt.
std::optional<double> median_spacing(std::span<const StoredReading> series) {
  std::vector<double> gaps;
  for (std::size_t i = 1; i < series.size(); ++i)
    if (const double g = series[i].time_s - series[i - 1].time_s; g > 0) gaps.push_back(g);
  if (gaps.empty()) return std::nullopt;
  return median_of(gaps);
}

/// Start of the averaging period of length `period_s` holding `t`, periods aligned to midnight in
/// `tz` (its offset at t).
EpochSeconds period_start(EpochSeconds t, double period_s, const TimeZone& tz) {
  const double offset_s = tz.offset_minutes_at(t) * 60.0;
  return std::floor((t + offset_s) / period_s) * period_s - offset_s;
}

}  // namespace

AlertRules parse_alert_rules(const json& doc) {
  if (!doc.is_object()) throw InvalidAlertRules("(body)", "must be a JSON object {\"rules\": [...], \"anomaly\": {...}}");
  only_members(doc, "", {"rules", "anomaly"});
  AlertRules out;
  if (doc.contains("rules") && !doc["rules"].is_null()) {
    const json& rules = doc["rules"];
    if (!rules.is_array()) throw InvalidAlertRules("rules", "must be an array");
    if (rules.size() > kMaxAlertRules)
      throw InvalidAlertRules("rules", "has more than " + std::to_string(kMaxAlertRules) + " rules");
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const std::string field = "rules[" + std::to_string(i) + "]";
      const json& r = rules[i];
      if (!r.is_object()) throw InvalidAlertRules(field, "must be an object {\"pollutant\", \"period\", \"threshold\"}");
      only_members(r, field, {"pollutant", "period", "threshold"});
      ThresholdRule t;
      t.pollutant = pollutant_of(r, field);
      if (!r.contains("period") || !r["period"].is_string())
        throw InvalidAlertRules(field + ".period", "must be an ISO 8601 duration such as \"PT1H\"");
      t.period = r["period"].get<std::string>();
      const auto p = parse_iso8601_duration(t.period);
      if (!p) throw InvalidAlertRules(field + ".period", "'" + t.period + "' is not an ISO 8601 duration such as \"PT1H\"");
      if (*p < kMinRulePeriodS || *p > kMaxRulePeriodS)
        throw InvalidAlertRules(field + ".period", "must be between PT1M and P7D");
      t.period_s = *p;
      if (!r.contains("threshold") || !r["threshold"].is_number() || !std::isfinite(r["threshold"].get<double>()))
        throw InvalidAlertRules(field + ".threshold", "must be a finite number");
      t.threshold = r["threshold"].get<double>();
      out.rules.push_back(std::move(t));
    }
  }
  if (doc.contains("anomaly") && !doc["anomaly"].is_null()) {
    const json& a = doc["anomaly"];
    if (!a.is_object()) throw InvalidAlertRules("anomaly", "must be an object {\"pollutant\", \"score\"}");
    only_members(a, "anomaly", {"pollutant", "score"});
    AnomalyRule r;
    r.pollutant = pollutant_of(a, "anomaly");
    if (a.contains("score")) {
      if (!a["score"].is_number() || !std::isfinite(a["score"].get<double>()) || a["score"].get<double>() <= 0)
        throw InvalidAlertRules("anomaly.score", "must be a positive number (a robust z-score)");
      r.score = a["score"].get<double>();
    }
    out.anomaly = r;
  }
  return out;
}

json to_json(const AlertRules& rules) {
  json list = json::array();
  for (const ThresholdRule& r : rules.rules)
    list.push_back({{"pollutant", r.pollutant}, {"period", r.period}, {"threshold", r.threshold}});
  json doc = {{"rules", list}, {"anomaly", nullptr}};
  if (rules.anomaly) doc["anomaly"] = {{"pollutant", rules.anomaly->pollutant}, {"score", rules.anomaly->score}};
  return doc;
}

std::optional<double> robust_z(double value, std::span<const double> baseline) {
  if (baseline.size() < kMinBaselineReadings) return std::nullopt;
  std::vector<double> v(baseline.begin(), baseline.end());
  const double median = median_of(v);
  for (double& x : v) x = std::abs(x - median);
  const double mad = median_of(v);
  const double scale = kMadToSigma * std::max(mad, kMadFloorFractionOfMedian * std::abs(median));
  if (!(scale > 0)) return std::nullopt;
  return (value - median) / scale;
}

PeriodMean period_mean(std::span<const StoredReading> series, EpochSeconds start_s, double period_s,
                       std::optional<double> spacing_s) {
  const double spacing = spacing_s ? *spacing_s : median_spacing(series).value_or(kDefaultReadingPeriodS);
  const EpochSeconds end_s = start_s + period_s;
  PeriodMean m;
  double weighted = 0, covered = 0;
  for (const StoredReading& r : series) {
    const double own = r.period_s.value_or(spacing);
    const double overlap = std::min(r.time_s + own, end_s) - std::max(r.time_s, start_s);
    if (!(overlap > 0)) continue;  // outside the period (or a reading of zero length)
    weighted += overlap * r.value;  // a reading counts for the part of the period it covers
    covered += overlap;
    ++m.count;
  }
  if (m.count == 0) return m;
  m.mean = weighted / covered;
  m.capture = std::min(1.0, covered / period_s);
  return m;
}

AlertCheck check_alerts(Store& store, JobRunner& jobs, const std::string& case_name,
                        const std::vector<StoredReading>& appended, const TimeZone& tz) {
  AlertCheck out;
  if (appended.empty()) return out;
  const auto text = store.alert_rules(case_name);
  if (!text) return out;
  const AlertRules rules = parse_alert_rules(json::parse(*text));
  // the appended readings a rule looks at, by (station, pollutant), in time order
  std::map<std::pair<std::string, std::string>, std::vector<const StoredReading*>> groups;
  for (const StoredReading& r : appended) {
    const bool watched = (rules.anomaly && rules.anomaly->pollutant == r.variable) ||
                         std::any_of(rules.rules.begin(), rules.rules.end(),
                                     [&](const ThresholdRule& t) { return t.pollutant == r.variable; });
    if (watched) groups[{r.station_id, r.variable}].push_back(&r);
  }
  double longest_s = 0;
  for (const ThresholdRule& t : rules.rules) longest_s = std::max(longest_s, t.period_s);

  // alerts raised by this check, per (station, pollutant): a candidate within kAlertDedupeS of
  // one of them is settled without asking the store
  std::map<std::pair<std::string, std::string>, std::vector<EpochSeconds>> raised_at;
  auto raise = [&](const StoredReading& r, std::string rule, double value) {
    auto& times = raised_at[{r.station_id, r.variable}];
    if (std::any_of(times.begin(), times.end(), [&](EpochSeconds t) { return std::abs(t - r.time_s) < kAlertDedupeS; }))
      return;
    if (out.raised.size() >= kMaxAlertsPerAppend) {
      ++out.left_out;
      times.push_back(r.time_s);  // counted once per dedupe window
      return;
    }
    AlertRecord a;
    a.id = new_job_id();
    a.case_name = case_name;
    a.station_id = r.station_id;
    a.pollutant = r.variable;
    a.time_s = r.time_s;
    a.rule = std::move(rule);
    a.value = value;
    a.created = now_iso8601();
    if (!store.record_alert(a, kAlertDedupeS)) return;
    times.push_back(r.time_s);
    try {
      const JobRecord job = jobs.submit_trace({{"case", case_name},
                                               {"pollutant", r.variable},
                                               {"start", format_iso8601(r.time_s - kTraceBeforeS)},
                                               {"end", format_iso8601(r.time_s + kTraceAfterS)}});
      a.job = job.id;
      store.set_alert_job(a.id, a.job);
    } catch (const Error&) {
      // the job queue is full: the alert stands without a job (its `job` is empty)
    }
    out.raised.push_back(std::move(a));
  };

  auto before = [](const StoredReading& x, EpochSeconds t) { return x.time_s < t; };
  for (auto& [key, rows] : groups) {
    std::sort(rows.begin(), rows.end(), [](const StoredReading* a, const StoredReading* b) { return a->time_s < b->time_s; });
    const std::vector<StoredReading> series =
        store.readings(case_name, key.first, key.second, rows.front()->time_s - std::max(kBaselineWindowS, longest_s),
                       rows.back()->time_s + longest_s + 1.0);
    const double spacing = median_spacing(series).value_or(kDefaultReadingPeriodS);
    double longest_reading_s = spacing;  // how far before a period a reading covering part of it can start
    for (const StoredReading& x : series) longest_reading_s = std::max(longest_reading_s, x.period_s.value_or(0.0));
    auto slice = [&](EpochSeconds from, EpochSeconds to) {  // the readings with from <= time < to
      const auto lo = std::lower_bound(series.begin(), series.end(), from, before);
      const auto hi = std::lower_bound(lo, series.end(), to, before);
      return std::span<const StoredReading>(lo, hi);
    };
    std::vector<double> baseline;
    for (const StoredReading* r : rows) {
      if (rules.anomaly && rules.anomaly->pollutant == r->variable) {
        baseline.clear();
        for (const StoredReading& b : slice(r->time_s - kBaselineWindowS, r->time_s)) baseline.push_back(b.value);
        const auto z = robust_z(r->value, baseline);
        if (z && *z >= rules.anomaly->score)
          raise(*r, r->variable + " robust z >= " + format_number(rules.anomaly->score), *z);
      }
      for (const ThresholdRule& t : rules.rules) {
        if (t.pollutant != r->variable) continue;
        const EpochSeconds start = period_start(r->time_s, t.period_s, tz);
        const PeriodMean m =
            period_mean(slice(start - longest_reading_s, start + t.period_s), start, t.period_s, spacing);
        if (m.count > 0 && m.capture >= kMinDataCapture && m.mean > t.threshold)
          raise(*r, t.pollutant + " " + t.period + " mean > " + format_number(t.threshold), m.mean);
      }
    }
  }
  return out;
}

json to_json(const AlertRecord& a) {
  json doc = {{"id", a.id},
              {"case", a.case_name},
              {"station_id", a.station_id},
              {"pollutant", a.pollutant},
              {"time", format_iso8601(a.time_s)},
              {"rule", a.rule},
              {"value", a.value},
              {"job", a.job.empty() ? json(nullptr) : json(a.job)},
              {"created", a.created}};
  if (!a.job.empty()) doc["links"] = json::array({{{"href", "/jobs/" + a.job}, {"rel", "monitor"}, {"type", "application/json"}}});
  return doc;
}

}  // namespace plumetrace::server

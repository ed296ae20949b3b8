#include "plumetrace/pipeline/trace_job.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace plumetrace::pipeline {
namespace {

/// Percent done after each phase of run_trace (rough shares of the example cases' wall time).
constexpr std::array<std::pair<std::string_view, int>, 7> kPhasePercent{{
    {"met_and_grid", 15},
    {"observations", 25},
    {"operator", 40},
    {"inversion", 70},
    {"footprints", 85},
    {"jurisdictions", 92},
    {"release_profiles", 98},
}};

int percent_after(std::string_view phase) noexcept {
  for (const auto& [name, pct] : kPhasePercent)
    if (name == phase) return pct;
  return -1;
}

void check(const CancelToken* cancel) {
  if (cancel != nullptr && cancel->cancelled()) throw Cancelled();
}

}  // namespace

std::string RequestTime::iso8601() const {
  if (offset_min) return format_iso8601(seconds, *offset_min);
  std::string text = format_iso8601(seconds, 0);  // "...Z": the wall-clock digits, naive
  text.pop_back();
  return text;
}

RequestTime parse_request_time(std::string_view text) {
  EpochSeconds t = 0;
  bool naive = false;
  if (!parse_iso8601(text, TimeZone::utc(), t, &naive))
    throw InvalidInput("cannot parse '" + std::string(text.substr(0, 64)) + "' as an ISO 8601 date-time");
  RequestTime r;
  if (naive) {
    r.seconds = t;
    return r;
  }
  // the offset as written: the local digits read as UTC, minus the instant
  EpochSeconds local = 0;
  std::string_view digits = text;
  while (!digits.empty() && digits.back() == ' ') digits.remove_suffix(1);
  const auto cut = digits.find_last_of("Zz+-");
  if (cut != std::string_view::npos && cut > digits.find_first_of("Tt ")) digits = digits.substr(0, cut);
  if (!parse_iso8601(digits, TimeZone::utc(), local))
    throw InvalidInput("cannot parse '" + std::string(text.substr(0, 64)) + "' as an ISO 8601 date-time");
  r.offset_min = static_cast<int>(std::lround((local - t) / 60.0));
  r.seconds = t;
  return r;
}

TraceResult run_trace_job(const Case& c, const TraceJobRequest& request, const ProgressFn& progress,
                          const CancelToken* cancel) {
  check(cancel);
  TraceRequest r;
  r.pollutant = request.pollutant;
  if (request.start) r.start = request.start->iso8601();
  if (request.end) r.end = request.end->iso8601();
  r.threads = request.threads;
  r.usual_emissions = request.usual_emissions;
  if (request.temper) {
    r.inv.temper = *request.temper;
    r.inv.temper_grid = {*request.temper};  // the check still scores it (--usual-emissions auto)
  }
  r.on_phase = [&](std::string_view phase) {
    if (progress) {
      const int pct = percent_after(phase);
      if (pct >= 0) progress(pct, phase);
    }
    check(cancel);
  };
  TraceResult result = run_trace(c, r);
  if (progress) progress(100, "done");
  return result;
}

TraceResult run_trace_job(const TraceJobRequest& request, const ProgressFn& progress, const CancelToken* cancel) {
  check(cancel);
  const Case c = load_case(request.case_dir);
  if (progress) progress(5, "load_case");
  return run_trace_job(c, request, progress, cancel);
}

}  // namespace plumetrace::pipeline

#pragma once
/// @file time.hpp
/// ISO 8601 date-times and durations <-> seconds since the Unix epoch (UTC).
///
/// Accepted date-times: `YYYY-MM-DD` optionally followed by `T` (or one space) and `hh:mm[:ss[.f…]]`,
/// optionally followed by an offset `Z`, `±hh:mm`, `±hhmm` or `±hh`. A time without an offset
/// ("naive") is read in a TimeZone (a fixed offset, UTC, or an IANA zone from the system tzdata).
/// A date alone is midnight local time. Parsing never allocates on the common path.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace plumetrace {

/// Seconds since 1970-01-01T00:00:00Z. Double keeps sub-millisecond precision until year 2255.
using EpochSeconds = double;

/// A time zone for naive (offset-less) times, resolved once: a fixed offset, UTC, or an IANA zone.
class TimeZone {
 public:
  /// UTC.
  TimeZone() = default;

  /// UTC.
  [[nodiscard]] static TimeZone utc() noexcept { return TimeZone{}; }

  /// A fixed offset, minutes east of UTC (|offset| <= 18 h). Throws InvalidInput otherwise.
  [[nodiscard]] static TimeZone fixed(int offset_minutes);

  /// Parse a user's zone: "" or "UTC"/"Z"/"GMT" = UTC; "+08:00", "+0800", "-05", "UTC+8",
  /// "UTC+08:00" = fixed offsets; anything else an IANA name ("Asia/Shanghai") looked up in the
  /// system tzdata. Throws InvalidInput with the reason when it is none of these.
  [[nodiscard]] static TimeZone parse(std::string_view spec);

  /// Canonical name: "UTC", "+08:00" or the IANA name.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  /// True for UTC and fixed offsets (no daylight-saving rules).
  [[nodiscard]] bool is_fixed() const noexcept { return zone_ == nullptr; }

  /// Convert a local wall-clock time (seconds since 1970-01-01T00:00 local) to UTC. For IANA zones
  /// a repeated local time (DST fold) takes the earlier instant and a skipped one (DST gap) maps
  /// to the transition instant.
  [[nodiscard]] EpochSeconds local_to_utc(double local_s) const;

  /// The zone's offset from UTC (minutes east) at the UTC instant `t`.
  [[nodiscard]] int offset_minutes_at(EpochSeconds t) const;

 private:
  std::string name_{"UTC"};
  int fixed_offset_min_{0};
  const date::time_zone* zone_{nullptr};
};

/// Days since 1970-01-01 of a proleptic Gregorian date (exact for any int year).
[[nodiscard]] constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// Parse an ISO 8601 date-time into `out` (UTC seconds). Naive times are read in `tz`; `naive`
/// (when given) is set to true for them. Returns false (leaving `out` untouched) when the text is
/// not a valid date-time (bad field, day 31 of a 30-day month, hour 25, ...). Never allocates for
/// fixed-offset zones. Leading/trailing spaces are ignored.
bool parse_iso8601(std::string_view text, const TimeZone& tz, EpochSeconds& out,
                   bool* naive = nullptr) noexcept;

/// Throwing form of parse_iso8601: InvalidInput "cannot parse 'TEXT' as an ISO 8601 date-time".
[[nodiscard]] EpochSeconds parse_iso8601(std::string_view text, const TimeZone& tz = TimeZone{});

/// Parse an ISO 8601 duration (`PT1H`, `PT10M`, `PT30S`, `P1D`, `P1W`, `P1DT12H`, `PT0.5S`,
/// case-insensitive) into seconds. Years and months (`P1Y`, `P1M`) are refused because their
/// length is not fixed. Returns nullopt when invalid.
[[nodiscard]] std::optional<double> parse_iso8601_duration(std::string_view text) noexcept;

/// Format a UTC instant as ISO 8601 in the given offset (minutes east of UTC):
/// `2021-06-01T23:00:00+08:00`; `Z` for offset 0; milliseconds (`.250`) only when non-zero after
/// rounding to the millisecond.
[[nodiscard]] std::string format_iso8601(EpochSeconds t, int offset_minutes = 0);

/// Format a UTC instant in the offset that `tz` has at that instant.
[[nodiscard]] std::string format_iso8601(EpochSeconds t, const TimeZone& tz);

}  // namespace plumetrace

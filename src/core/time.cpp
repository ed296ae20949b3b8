#include "plumetrace/core/time.hpp"

#include <date/tz.h>

#include <cmath>
#include <cstdio>
#include <exception>

#include "plumetrace/core/error.hpp"

namespace plumetrace {
namespace {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Read exactly `n` digits at s[i..i+n) into `v`; false when any is not a digit or out of range.
inline bool digits(std::string_view s, std::size_t i, std::size_t n, int& v) noexcept {
  if (i + n > s.size()) return false;
  int r = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const char c = s[i + k];
    if (!is_digit(c)) return false;
    r = r * 10 + (c - '0');
  }
  v = r;
  return true;
}

constexpr bool is_leap(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr unsigned days_in_month(int y, int m) noexcept {
  constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29U : kDays[m - 1];
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// Parse an offset at s[i..] to the end: Z, ±hh:mm, ±hhmm, ±hh. Returns false if malformed.
inline bool parse_offset(std::string_view s, std::size_t i, int& offset_min) noexcept {
  const std::size_t n = s.size() - i;
  if (n == 1 && (s[i] == 'Z' || s[i] == 'z')) {
    offset_min = 0;
    return true;
  }
  if (n < 3 || (s[i] != '+' && s[i] != '-')) return false;
  const int sign = s[i] == '-' ? -1 : 1;
  int hh = 0;
  int mm = 0;
  if (!digits(s, i + 1, 2, hh)) return false;
  if (n == 3) {
    mm = 0;
  } else if (n == 5) {
    if (!digits(s, i + 3, 2, mm)) return false;
  } else if (n == 6 && s[i + 3] == ':') {
    if (!digits(s, i + 4, 2, mm)) return false;
  } else {
    return false;
  }
  if (hh > 18 || mm > 59) return false;
  offset_min = sign * (hh * 60 + mm);
  return true;
}

}  // namespace

TimeZone TimeZone::fixed(int offset_minutes) {
  if (offset_minutes < -18 * 60 || offset_minutes > 18 * 60)
    throw InvalidInput("time zone offset " + std::to_string(offset_minutes) +
                       " min outside [-18 h, +18 h]");
  TimeZone tz;
  tz.fixed_offset_min_ = offset_minutes;
  if (offset_minutes == 0) {
    tz.name_ = "UTC";
  } else {
    const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', a / 60, a % 60);
    tz.name_ = buf;
  }
  return tz;
}

TimeZone TimeZone::parse(std::string_view spec) {
  const std::string_view s = trim(spec);
  if (s.empty() || s == "UTC" || s == "utc" || s == "Z" || s == "GMT" || s == "Etc/UTC")
    return TimeZone{};
  std::string_view off = s;
  if (off.size() > 3 && (off.substr(0, 3) == "UTC" || off.substr(0, 3) == "GMT")) off.remove_prefix(3);
  if (!off.empty() && (off[0] == '+' || off[0] == '-')) {
    int minutes = 0;
    // accept "+8" / "+08" / "+0800" / "+08:00"
    const char padded[3] = {off[0], '0', off.size() == 2 ? off[1] : '0'};
    const std::string_view normal =
        off.size() == 2 && is_digit(off[1]) ? std::string_view(padded, 3) : off;
    if (parse_offset(normal, 0, minutes)) return fixed(minutes);
    throw InvalidInput("time zone '" + std::string(s) + "': bad UTC offset (expected like +08:00)");
  }
  TimeZone tz;
  try {
    tz.zone_ = date::locate_zone(std::string(s));
  } catch (const std::exception& e) {
    throw InvalidInput("time zone '" + std::string(s) +
                       "' is neither a UTC offset (+08:00) nor a known IANA zone name");
  }
  tz.name_ = std::string(s);
  return tz;
}

EpochSeconds TimeZone::local_to_utc(double local_s) const {
  if (zone_ == nullptr) return local_s - fixed_offset_min_ * 60.0;
  const double whole = std::floor(local_s);
  const date::local_seconds ls{std::chrono::seconds{static_cast<std::int64_t>(whole)}};
  const auto info = zone_->get_info(ls);
  std::int64_t off_s = 0;
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:  // earlier instant: the first (pre-transition) offset
      off_s = info.first.offset.count();
      break;
    case date::local_info::nonexistent:  // in the gap: map to the transition instant
      return static_cast<double>(info.second.begin.time_since_epoch().count());
  }
  return local_s - static_cast<double>(off_s);
}

int TimeZone::offset_minutes_at(EpochSeconds t) const {
  if (zone_ == nullptr) return fixed_offset_min_;
  const date::sys_seconds ss{std::chrono::seconds{static_cast<std::int64_t>(std::floor(t))}};
  return static_cast<int>(zone_->get_info(ss).offset.count() / 60);
}

bool parse_iso8601(std::string_view text, const TimeZone& tz, EpochSeconds& out,
                   bool* naive) noexcept {
  const std::string_view s = trim(text);
  int y = 0;
  int mo = 0;
  int d = 0;
  if (s.size() < 10 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, mo)) return false;
  int hh = 0;
  int mi = 0;
  int ss = 0;
  double frac = 0.0;
  std::size_t i = 10;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    if (!digits(s, i + 1, 2, hh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, mi))
      return false;
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!digits(s, i + 1, 2, ss)) return false;
      i += 3;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        double scale = 0.1;
        const std::size_t start = i;
        while (i < s.size() && is_digit(s[i])) {
          frac += (s[i] - '0') * scale;
          scale *= 0.1;
          ++i;
        }
        if (i == start) return false;
      }
    }
    if (hh > 24 || mi > 59 || ss > 60) return false;
    if (hh == 24 && (mi != 0 || ss != 0 || frac != 0.0)) return false;
  }
  const double local = static_cast<double>(days_from_civil(y, static_cast<unsigned>(mo),
                                                           static_cast<unsigned>(d)) * 86400 +
                                           hh * 3600 + mi * 60 + ss) + frac;
  if (i == s.size()) {
    if (naive != nullptr) *naive = true;
    try {
      out = tz.local_to_utc(local);
    } catch (...) {
      return false;
    }
    return true;
  }
  if (i == 10) return false;  // a date alone cannot carry an offset
  int offset_min = 0;
  if (!parse_offset(s, i, offset_min)) return false;
  if (naive != nullptr) *naive = false;
  out = local - offset_min * 60.0;
  return true;
}

EpochSeconds parse_iso8601(std::string_view text, const TimeZone& tz) {
  EpochSeconds t = 0.0;
  if (!parse_iso8601(text, tz, t))
    throw InvalidInput("cannot parse '" + std::string(text) + "' as an ISO 8601 date-time");
  return t;
}

std::optional<double> parse_iso8601_duration(std::string_view text) noexcept {
  const std::string_view s = trim(text);
  if (s.size() < 3 || (s[0] != 'P' && s[0] != 'p')) return std::nullopt;
  bool in_time = false;
  bool any = false;
  double total = 0.0;
  std::size_t i = 1;
  int last_rank = -1;  // enforce W/D then H/M/S order, each at most once
  while (i < s.size()) {
    if (s[i] == 'T' || s[i] == 't') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++i;
      if (i == s.size()) return std::nullopt;
      continue;
    }
    const std::size_t start = i;
    double v = 0.0;
    while (i < s.size() && is_digit(s[i])) v = v * 10 + (s[i++] - '0');
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      double scale = 0.1;
      while (i < s.size() && is_digit(s[i])) {
        v += (s[i++] - '0') * scale;
        scale *= 0.1;
      }
    }
    if (i == start || i == s.size()) return std::nullopt;
    const char u = static_cast<char>(s[i] & ~0x20);  // upper-case
    ++i;
    int rank = 0;
    double unit = 0.0;
    if (!in_time) {
      if (u == 'W') { rank = 0; unit = 7 * 86400.0; }
      else if (u == 'D') { rank = 1; unit = 86400.0; }
      else return std::nullopt;  // Y and M (months) have no fixed length
    } else {
      if (u == 'H') { rank = 2; unit = 3600.0; }
      else if (u == 'M') { rank = 3; unit = 60.0; }
      else if (u == 'S') { rank = 4; unit = 1.0; }
      else return std::nullopt;
    }
    if (rank <= last_rank) return std::nullopt;
    last_rank = rank;
    total += v * unit;
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

std::string format_iso8601(EpochSeconds t, int offset_minutes) {
  const double local = t + offset_minutes * 60.0;
  auto ms = static_cast<std::int64_t>(std::llround(local * 1000.0));
  std::int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const auto milli = static_cast<int>(ms - secs * 1000);
  std::int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  const auto sod = static_cast<int>(secs - days * 86400);
  // civil_from_days (Howard Hinnant)
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d",
                        static_cast<long long>(y), m, d, sod / 3600, sod / 60 % 60, sod % 60);
  if (milli != 0) n += std::snprintf(buf + n, sizeof buf - n, ".%03d", milli);
  if (offset_minutes == 0) {
    std::snprintf(buf + n, sizeof buf - n, "Z");
  } else {
    const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', a / 60,
                  a % 60);
  }
  return buf;
}

std::string format_iso8601(EpochSeconds t, const TimeZone& tz) {
  return format_iso8601(t, tz.offset_minutes_at(t));
}

}  // namespace plumetrace

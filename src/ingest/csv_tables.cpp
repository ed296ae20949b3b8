/// Readers of the CSV files of a case folder: sources.csv, stations.csv, readings.csv and wide
/// trace CSVs, plus the value checks shared with the OGR readers.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingest_util.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/ingest/readers.hpp"

namespace plumetrace {

using namespace ingest_detail;

namespace ingest_detail {

VariableKind variable_kind(std::string_view n) noexcept {
  if (n == "wind_speed" || n == "ws") return VariableKind::kWindSpeed;
  if (n == "wind_dir" || n == "wd") return VariableKind::kWindDir;
  if (n == "temperature" || n == "temp" || n == "air_temperature") return VariableKind::kTemperature;
  if (n == "cloud_cover") return VariableKind::kCloudCover;
  if (n == "wind_dir_std" || n == "sigma_theta") return VariableKind::kWindDirStd;
  if (n == "obukhov_length") return VariableKind::kObukhov;
  if (n == "friction_velocity") return VariableKind::kFrictionVelocity;
  if (n == "stability") return VariableKind::kStability;
  if (n == "mixing_height") return VariableKind::kMixingHeight;
  if (n == "relative_humidity" || n == "humidity" || n == "rh") return VariableKind::kHumidity;
  if (n == "pressure") return VariableKind::kPressure;
  return VariableKind::kConcentration;
}

std::string check_value(VariableKind kind, std::string_view variable, double v) {
  auto outside = [&](double lo, double hi) {
    return std::string(variable) + " " + num(v) + " outside [" + num(lo) + ", " + num(hi) + "]";
  };
  switch (kind) {
    case VariableKind::kConcentration:
      if (v < 0) return "negative concentration " + num(v) + " of " + std::string(variable);
      return {};
    case VariableKind::kWindSpeed:
    case VariableKind::kFrictionVelocity:
    case VariableKind::kMixingHeight:
      if (v < 0) return std::string(variable) + " " + num(v) + " is negative";
      return {};
    case VariableKind::kWindDir:
      return v < 0 || v > 360 ? outside(0, 360) : std::string{};
    case VariableKind::kTemperature:
      return v < -100 || v > 100 ? outside(-100, 100) + " degC" : std::string{};
    case VariableKind::kCloudCover:
      return v < 0 || v > 8 ? outside(0, 8) + " okta" : std::string{};
    case VariableKind::kWindDirStd:
      return v < 0 || v > 180 ? outside(0, 180) : std::string{};
    case VariableKind::kObukhov:
      return {};
    case VariableKind::kStability:
      return v < 1 || v > 6 ? "stability must be a Pasquill class A-F (or 1-6)" : std::string{};
    case VariableKind::kHumidity:
      return v < 0 || v > 100 ? outside(0, 100) + " %" : std::string{};
    case VariableKind::kPressure:
      if (v <= 0) return std::string(variable) + " " + num(v) + " is not positive";
      return {};
  }
  return {};
}

bool check_record(const CsvRecord& rec, const CsvHeader& header, const std::string& file,
                  Diagnostics& diag) {
  if (rec.unterminated_quote) {
    diag.reject(file, rec.line, "unterminated quoted field at end of file");
    return false;
  }
  if (rec.size() != header.size()) {
    diag.reject(file, rec.line,
                "expected " + std::to_string(header.size()) + " columns, got " +
                    std::to_string(rec.size()));
    return false;
  }
  if (rec.invalid_utf8_field >= 0) {
    diag.reject(file, rec.line,
                "invalid UTF-8 in column " +
                    header.names()[static_cast<std::size_t>(rec.invalid_utf8_field)]);
    return false;
  }
  return true;
}

bool read_header(CsvReader& csv, CsvHeader& header, const std::string& file, Diagnostics& diag) {
  CsvRecord rec;
  if (!csv.next(rec)) {
    diag.warn(file, "empty file: no header, no rows");
    return false;
  }
  if (rec.invalid_utf8_field >= 0) {
    diag.reject(file, rec.line, "invalid UTF-8 in the header; the file is not UTF-8");
    return false;
  }
  header = CsvHeader(rec);
  return true;
}

}  // namespace ingest_detail

int pasquill_class_number(std::string_view text) noexcept {
  text = trim_view(text);
  if (text.size() == 1) {
    const char c = static_cast<char>(text[0] | 0x20);
    if (c >= 'a' && c <= 'f') return c - 'a' + 1;
    if (text[0] >= '1' && text[0] <= '6') return text[0] - '0';
  }
  double v = 0;
  if (parse_finite_double(text, v) && v >= 1 && v <= 6 && v == std::floor(v)) return static_cast<int>(v);
  return 0;
}

namespace ingest_detail {

/// Reject the whole file for a missing required column; returns false when one is missing.
bool require_columns(const CsvHeader& h, std::initializer_list<const char*> names,
                     const std::string& file, Diagnostics& diag) {
  for (const char* n : names) {
    if (h.index(n) < 0) {
      diag.reject(file, 1, std::string("missing required column '") + n + "'; file not read");
      return false;
    }
  }
  return true;
}

/// Parse a numeric column; on failure reject the row ("column X: 'abc' is not a number").
bool number_field(const CsvRecord& rec, int col, const char* name, double& out,
                  const std::string& file, Diagnostics& diag) {
  const std::string_view f = rec[static_cast<std::size_t>(col)];
  if (parse_finite_double(f, out)) return true;
  const std::string_view t = trim_view(f);
  if (t.empty())
    diag.reject(file, rec.line, std::string("column ") + name + ": empty");
  else
    diag.reject(file, rec.line, std::string("column ") + name + ": " + quote_text(t) + " is not a finite number");
  return false;
}

}  // namespace ingest_detail

namespace {

bool lon_lat_ok(double lon, double lat, std::size_t line, const std::string& file,
                Diagnostics& diag, const char* lon_name = "lon", const char* lat_name = "lat") {
  if (lon < -180 || lon > 180) {
    diag.reject(file, line, std::string("column ") + lon_name + ": " + num(lon) + " outside [-180, 180]");
    return false;
  }
  if (lat < -90 || lat > 90) {
    diag.reject(file, line, std::string("column ") + lat_name + ": " + num(lat) + " outside [-90, 90]");
    return false;
  }
  return true;
}

/// The columns every located point has (sources, stations): a non-empty id, lon/lat in range and,
/// when the column exists, a height >= 0 (an empty height cell is left at its default when
/// `empty_height_ok`). Rejects the row with its reason and returns false otherwise.
bool located_point(const CsvRecord& rec, int c_id, int c_lon, int c_lat, int c_h, bool empty_height_ok,
                   std::string& id, double& lon, double& lat, double& height_m,
                   const std::string& file, Diagnostics& diag, const char* lon_name = "lon",
                   const char* lat_name = "lat") {
  id = std::string(trim_view(rec[static_cast<std::size_t>(c_id)]));
  if (id.empty()) {
    diag.reject(file, rec.line, "column id: empty");
    return false;
  }
  if (!number_field(rec, c_lon, lon_name, lon, file, diag) || !number_field(rec, c_lat, lat_name, lat, file, diag) ||
      !lon_lat_ok(lon, lat, rec.line, file, diag, lon_name, lat_name))
    return false;
  if (c_h < 0 || (empty_height_ok && trim_view(rec[static_cast<std::size_t>(c_h)]).empty())) return true;
  if (!number_field(rec, c_h, "height_m", height_m, file, diag)) return false;
  if (height_m < 0) {
    diag.reject(file, rec.line, "column height_m: " + num(height_m) + " is negative");
    return false;
  }
  return true;
}

/// Optional numeric column (empty cell = unset) with a lower bound check.
bool optional_number(const CsvRecord& rec, int col, const char* name, std::optional<double>& out,
                     double min_exclusive, bool allow_equal, const std::string& file,
                     Diagnostics& diag) {
  if (col < 0) return true;
  const std::string_view t = trim_view(rec[static_cast<std::size_t>(col)]);
  if (t.empty()) return true;
  double v = 0;
  if (!number_field(rec, col, name, v, file, diag)) return false;
  if (v < min_exclusive || (!allow_equal && v == min_exclusive)) {
    diag.reject(file, rec.line,
                std::string("column ") + name + ": " + num(v) + " must be " +
                    (allow_equal ? ">= " : "> ") + num(min_exclusive));
    return false;
  }
  out = v;
  return true;
}

struct IdSeen {
  std::unordered_map<std::string, std::size_t> first_line;
  /// True (and rejects) when `id` was seen before.
  bool duplicate(const std::string& id, const char* what, std::size_t line, const std::string& file,
                 Diagnostics& diag) {
    auto [it, inserted] = first_line.emplace(id, line);
    if (inserted) return false;
    diag.reject(file, line,
                std::string("duplicate ") + what + " id " + quote_text(id) + " first seen on line " +
                    std::to_string(it->second));
    return true;
  }
};

}  // namespace

std::vector<Source> read_sources_csv(CsvReader& csv, const std::string& file, Diagnostics& diag) {
  CsvHeader h;
  if (!read_header(csv, h, file, diag)) return {};
  return sources_from_rows(h, [&](CsvRecord& r) { return csv.next(r); }, file, diag);
}

std::vector<Source> ingest_detail::sources_from_rows(const CsvHeader& h, const RowSource& next_row,
                                                     const std::string& file, Diagnostics& diag) {
  std::vector<Source> out;
  if (!require_columns(h, {"id", "lon", "lat"}, file, diag)) return out;
  const int c_id = h.index("id"), c_name = h.index("name"), c_lon = h.index("lon"),
            c_lat = h.index("lat"), c_h = h.index("height_m"), c_ind = h.index("industry"),
            c_pol = h.index("pollutants"), c_jur = h.index("jurisdiction"),
            c_prior = h.index("prior"), c_vel = h.index("exit_velocity_m_s"),
            c_tk = h.index("exit_temp_k"), c_tc = h.index("exit_temp_c"),
            c_dia = h.index("stack_diameter_m"), c_perm = h.index("permitted_g_s");
  if (c_h < 0) diag.warn(file, "no height_m column: release heights taken as 0 m (ground level)");
  std::vector<int> extra_cols;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const int ii = static_cast<int>(i);
    if (ii != c_id && ii != c_name && ii != c_lon && ii != c_lat && ii != c_h && ii != c_ind &&
        ii != c_pol && ii != c_jur && ii != c_prior && ii != c_vel && ii != c_tk && ii != c_tc &&
        ii != c_dia && ii != c_perm)
      extra_cols.push_back(ii);
  }
  IdSeen seen;
  CsvRecord rec;
  auto field = [&](int c) { return std::string(trim_view(rec[static_cast<std::size_t>(c)])); };
  while (next_row(rec)) {
    if (!check_record(rec, h, file, diag)) continue;
    Source s;
    s.line = rec.line;
    if (!located_point(rec, c_id, c_lon, c_lat, c_h, false, s.id, s.lon, s.lat, s.height_m, file, diag))
      continue;
    std::optional<double> prior;
    std::optional<double> temp_c;
    if (!optional_number(rec, c_prior, "prior", prior, 0, false, file, diag) ||
        !optional_number(rec, c_vel, "exit_velocity_m_s", s.exit_velocity_m_s, 0, true, file, diag) ||
        !optional_number(rec, c_tk, "exit_temp_k", s.exit_temp_k, 0, false, file, diag) ||
        !optional_number(rec, c_tc, "exit_temp_c", temp_c, -273.15, false, file, diag) ||
        !optional_number(rec, c_dia, "stack_diameter_m", s.stack_diameter_m, 0, false, file, diag) ||
        !optional_number(rec, c_perm, "permitted_g_s", s.permitted_g_s, 0, true, file, diag))
      continue;
    if (prior) s.prior = *prior;
    if (!s.exit_temp_k && temp_c) s.exit_temp_k = *temp_c + 273.15;
    s.name = c_name >= 0 ? field(c_name) : std::string{};
    if (s.name.empty()) s.name = s.id;
    if (c_ind >= 0) s.industry = field(c_ind);
    if (c_jur >= 0) s.jurisdiction = field(c_jur);
    if (c_pol >= 0) {
      std::string_view rest = rec[static_cast<std::size_t>(c_pol)];
      while (!rest.empty()) {
        const auto k = rest.find(';');
        const std::string_view item = trim_view(rest.substr(0, k));
        if (!item.empty()) s.pollutants.push_back(ascii_lower(item));
        if (k == std::string_view::npos) break;
        rest.remove_prefix(k + 1);
      }
    }
    for (const int c : extra_cols) s.extra[h.names()[static_cast<std::size_t>(c)]] = field(c);
    if (seen.duplicate(s.id, "source", rec.line, file, diag)) continue;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Station> read_stations_csv(CsvReader& csv, const std::string& file, Diagnostics& diag) {
  std::vector<Station> out;
  CsvHeader h;
  if (!read_header(csv, h, file, diag)) return out;
  if (!require_columns(h, {"id", "lon", "lat"}, file, diag)) return out;
  const int c_id = h.index("id"), c_name = h.index("name"), c_lon = h.index("lon"),
            c_lat = h.index("lat"), c_h = h.index("height_m");
  IdSeen seen;
  CsvRecord rec;
  while (csv.next(rec)) {
    if (!check_record(rec, h, file, diag)) continue;
    Station s;
    if (!located_point(rec, c_id, c_lon, c_lat, c_h, true, s.id, s.lon, s.lat, s.height_m, file, diag))
      continue;
    if (c_name >= 0) s.name = std::string(trim_view(rec[static_cast<std::size_t>(c_name)]));
    if (s.name.empty()) s.name = s.id;
    if (seen.duplicate(s.id, "station", rec.line, file, diag)) continue;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Station> read_paths_csv(CsvReader& csv, const std::string& file, const std::vector<Station>& stations,
                                    Diagnostics& diag) {
  std::vector<Station> out;
  CsvHeader h;
  if (!read_header(csv, h, file, diag)) return out;
  if (!require_columns(h, {"id", "lon1", "lat1", "lon2", "lat2"}, file, diag)) return out;
  const int c_id = h.index("id"), c_name = h.index("name"), c_lon1 = h.index("lon1"), c_lat1 = h.index("lat1"),
            c_lon2 = h.index("lon2"), c_lat2 = h.index("lat2"), c_h = h.index("height_m");
  IdSeen seen;
  for (const Station& st : stations) seen.first_line.emplace(st.id, 0);
  CsvRecord rec;
  while (csv.next(rec)) {
    if (!check_record(rec, h, file, diag)) continue;
    Station s;
    double lon2 = 0, lat2 = 0;
    if (!located_point(rec, c_id, c_lon1, c_lat1, c_h, true, s.id, s.lon, s.lat, s.height_m, file, diag, "lon1", "lat1") ||
        !number_field(rec, c_lon2, "lon2", lon2, file, diag) || !number_field(rec, c_lat2, "lat2", lat2, file, diag) ||
        !lon_lat_ok(lon2, lat2, rec.line, file, diag, "lon2", "lat2"))
      continue;
    // local equirectangular metres: exact enough to refuse a degenerate or absurd beam
    constexpr double kMetresPerDegree = 111195.0;
    const double length_m = kMetresPerDegree * std::hypot((lon2 - s.lon) * std::cos(0.5 * (s.lat + lat2) * M_PI / 180.0),
                                                          lat2 - s.lat);
    if (!(length_m > 0)) {
      diag.reject(file, rec.line, "the beam's two ends coincide");
      continue;
    }
    if (length_m > kMaxPathLengthM) {
      diag.reject(file, rec.line, "the beam is " + num(std::round(length_m)) + " m long, more than " +
                                      num(kMaxPathLengthM) + " m");
      continue;
    }
    s.path_end = std::make_pair(lon2, lat2);
    if (c_name >= 0) s.name = std::string(trim_view(rec[static_cast<std::size_t>(c_name)]));
    if (s.name.empty()) s.name = s.id;
    const auto it = seen.first_line.find(s.id);
    if (it != seen.first_line.end() && it->second == 0) {
      diag.reject(file, rec.line, "path id " + quote_text(s.id) + " is already a station in stations.csv");
      continue;
    }
    if (seen.duplicate(s.id, "path", rec.line, file, diag)) continue;
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

/// Interns short strings (variables, units) keyed by their raw text, with a one-entry cache.
class Interner {
 public:
  explicit Interner(std::vector<std::string>& names, bool lower) : names_(names), lower_(lower) {}
  /// Index of the (trimmed, maybe lower-cased) text; -1 when more than 65535 distinct names.
  int get(std::string_view raw) {
    if (last_ < raw_.size() && raw == raw_[last_].first) return raw_[last_].second;
    for (std::size_t k = 0; k < raw_.size(); ++k) {
      if (raw == raw_[k].first) {
        last_ = k;
        return raw_[k].second;
      }
    }
    const std::string name = lower_ ? ascii_lower(trim_view(raw)) : std::string(trim_view(raw));
    int idx = -1;
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) idx = static_cast<int>(i);
    if (idx < 0) {
      if (names_.size() >= 65535) return -1;
      names_.push_back(name);
      idx = static_cast<int>(names_.size() - 1);
    }
    raw_.emplace_back(std::string(raw), idx);
    last_ = raw_.size() - 1;
    return idx;
  }

 private:
  std::vector<std::string>& names_;
  bool lower_;
  std::vector<std::pair<std::string, int>> raw_;
  std::size_t last_{static_cast<std::size_t>(-1)};
};

struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace

ReadingTable read_readings_csv(CsvReader& csv, const std::string& file,
                               const std::vector<Station>& stations, const TimeZone& tz,
                               Diagnostics& diag, std::size_t* accepted) {
  ReadingTable table;
  if (accepted != nullptr) *accepted = 0;
  CsvHeader h;
  if (!read_header(csv, h, file, diag)) return table;
  if (!require_columns(h, {"station_id", "time", "variable", "value"}, file, diag)) return table;
  const auto c_st = static_cast<std::size_t>(h.index("station_id"));
  const auto c_time = static_cast<std::size_t>(h.index("time"));
  const auto c_var = static_cast<std::size_t>(h.index("variable"));
  const auto c_val = static_cast<std::size_t>(h.index("value"));
  const int c_unit = h.index("unit");
  const int c_period = h.index("period");
  for (std::size_t i = 0; i < h.size(); ++i) {
    const auto& n = h.names()[i];
    if (n != "station_id" && n != "time" && n != "variable" && n != "value" && n != "unit" &&
        n != "period")
      diag.warn(file, "column '" + n + "' ignored");
  }

  std::unordered_map<std::string_view, std::uint32_t, TransparentHash, std::equal_to<>> station_index;
  for (std::size_t i = 0; i < stations.size(); ++i)
    station_index.emplace(stations[i].id, static_cast<std::uint32_t>(i));

  Interner variables(table.variables, true);
  Interner units(table.units, false);
  std::vector<VariableKind> kinds;
  std::vector<Reading> rows;
  std::vector<std::uint32_t> lines;
  rows.reserve(csv.size_bytes() / 24 + 16);  // rows are rarely under 24 bytes
  lines.reserve(rows.capacity());
  bool warned_naive = false;
  char last_time_text[48];
  std::size_t last_time_len = 0;
  double last_time = 0;
  std::string_view last_station;
  std::uint32_t last_station_idx = 0;

  CsvRecord rec;
  while (csv.next(rec)) {
    if (!check_record(rec, h, file, diag)) continue;
    Reading r;
    // station
    const std::string_view st = trim_view(rec[c_st]);
    if (!last_station.empty() && st == last_station) {
      r.station = last_station_idx;
    } else {
      const auto it = station_index.find(st);
      if (it == station_index.end()) {
        diag.reject(file, rec.line, "unknown station " + quote_text(st));
        continue;
      }
      r.station = it->second;
      last_station = it->first;
      last_station_idx = it->second;
    }
    // time (long-format rows often repeat the previous row's time text: reuse its value)
    bool naive = false;
    const std::string_view time_text = rec[c_time];
    if (time_text.size() == last_time_len && last_time_len > 0 &&
        std::memcmp(time_text.data(), last_time_text, last_time_len) == 0) {
      r.time_s = last_time;
    } else if (parse_iso8601(time_text, tz, r.time_s, &naive)) {
      if (time_text.size() <= sizeof last_time_text) {
        std::memcpy(last_time_text, time_text.data(), time_text.size());
        last_time_len = time_text.size();
        last_time = r.time_s;
      } else {
        last_time_len = 0;
      }
    } else {
      diag.reject(file, rec.line,
                  "column time: cannot parse " + quote_text(trim_view(time_text)) +
                      " as an ISO 8601 date-time");
      continue;
    }
    if (naive && !warned_naive) {
      warned_naive = true;
      diag.warn(file, "times without a UTC offset read in time zone " + tz.name() +
                          " (case.json timezone)");
    }
    // variable
    const std::string_view var_text = trim_view(rec[c_var]);
    if (var_text.empty()) {
      diag.reject(file, rec.line, "column variable: empty");
      continue;
    }
    const int vi = variables.get(var_text);
    if (vi < 0) {
      diag.reject(file, rec.line, "too many distinct variables");
      continue;
    }
    if (static_cast<std::size_t>(vi) >= kinds.size())
      kinds.push_back(variable_kind(table.variables[static_cast<std::size_t>(vi)]));
    r.variable = static_cast<std::uint16_t>(vi);
    const VariableKind kind = kinds[static_cast<std::size_t>(vi)];
    // value
    if (kind == VariableKind::kStability) {
      const int cls = pasquill_class_number(rec[c_val]);
      if (cls == 0) {
        diag.reject(file, rec.line,
                    "column value: stability " + quote_text(trim_view(rec[c_val])) +
                        " is not a Pasquill class A-F");
        continue;
      }
      r.value = cls;
    } else {
      if (!number_field(rec, static_cast<int>(c_val), "value", r.value, file, diag)) continue;
      if (auto why = check_value(kind, table.variables[r.variable], r.value); !why.empty()) {
        diag.reject(file, rec.line, "column value: " + why);
        continue;
      }
    }
    // unit
    if (c_unit >= 0) {
      const int ui = units.get(rec[static_cast<std::size_t>(c_unit)]);
      if (ui < 0) {
        diag.reject(file, rec.line, "too many distinct units");
        continue;
      }
      r.unit = static_cast<std::uint16_t>(ui);
    } else {
      r.unit = static_cast<std::uint16_t>(units.get(""));
    }
    // period
    if (c_period >= 0) {
      const std::string_view p = trim_view(rec[static_cast<std::size_t>(c_period)]);
      if (!p.empty()) {
        const auto d = parse_iso8601_duration(p);
        if (!d || *d <= 0) {
          diag.reject(file, rec.line,
                      "column period: " + quote_text(p) +
                          " is not a positive ISO 8601 duration (PT1H, PT10M, ...)");
          continue;
        }
        r.period_s = *d;
        r.period_given = true;
      }
    }
    rows.push_back(r);
    lines.push_back(static_cast<std::uint32_t>(rec.line));
  }

  // Group by series (station, variable) with a stable counting sort of row indices, order each
  // series by time (stable, so the first occurrence of a duplicated time comes first), drop
  // later duplicates and gather into the final table in one sequential pass.
  const std::size_t nvar = std::max<std::size_t>(table.variables.size(), 1);
  const std::size_t nseries = stations.size() * nvar;
  std::vector<std::size_t> start(nseries + 1, 0);
  for (const auto& r : rows) ++start[r.station * nvar + r.variable + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<std::uint32_t> order(rows.size());
  {
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < rows.size(); ++i)
      order[fill[rows[i].station * nvar + rows[i].variable]++] = static_cast<std::uint32_t>(i);
  }
  table.rows.reserve(rows.size());
  std::vector<double> gaps;
  for (std::size_t s = 0; s < nseries; ++s) {
    const auto b = order.begin() + static_cast<std::ptrdiff_t>(start[s]);
    const auto e = order.begin() + static_cast<std::ptrdiff_t>(start[s + 1]);
    if (b == e) continue;
    const auto by_time = [&](std::uint32_t x, std::uint32_t y) { return rows[x].time_s < rows[y].time_s; };
    if (!std::is_sorted(b, e, by_time)) std::stable_sort(b, e, by_time);
    const std::size_t series_begin = table.rows.size();
    std::uint32_t kept = *b;
    for (auto it = b; it != e; ++it) {
      const std::uint32_t i = *it;
      if (table.rows.size() > series_begin && rows[i].time_s == table.rows.back().time_s) {
        diag.reject(file, lines[i],
                    "duplicate reading (" + stations[rows[i].station].id + ", " +
                        format_iso8601(rows[i].time_s, tz) + ", " + table.variables[rows[i].variable] +
                        ") first seen on line " + std::to_string(lines[kept]));
        continue;
      }
      kept = i;
      table.rows.push_back(rows[i]);
    }
    // infer missing periods: median positive spacing of the series, else one hour
    const std::size_t w = table.rows.size();
    auto& out = table.rows;
    bool need = false;
    for (std::size_t k = series_begin; k < w; ++k) need |= !out[k].period_given;
    if (!need) continue;
    gaps.clear();
    for (std::size_t k = series_begin + 1; k < w; ++k) gaps.push_back(out[k].time_s - out[k - 1].time_s);
    double period = 3600.0;
    if (!gaps.empty()) {
      auto mid = gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2);
      std::nth_element(gaps.begin(), mid, gaps.end());
      period = *mid;
      if (gaps.size() % 2 == 0) {
        const double lower = *std::max_element(gaps.begin(), mid);
        period = 0.5 * (period + lower);
      }
    }
    for (std::size_t k = series_begin; k < w; ++k)
      if (!out[k].period_given) out[k].period_s = period;
  }
  if (accepted != nullptr) *accepted = table.rows.size();
  return table;
}

Trace read_trace_csv(CsvReader& csv, const std::string& file, const std::string& name,
                     const TimeZone& tz, Diagnostics& diag) {
  CsvHeader h;
  if (!read_header(csv, h, file, diag)) {
    Trace tr;
    tr.name = name;
    tr.file = file;
    tr.platform = name;
    return tr;
  }
  return trace_from_rows(h, [&](CsvRecord& r) { return csv.next(r); }, file, name, tz, diag);
}

Trace ingest_detail::trace_from_rows(const CsvHeader& h, const RowSource& next_row,
                                     const std::string& file, const std::string& name,
                                     const TimeZone& tz, Diagnostics& diag) {
  Trace tr;
  tr.name = name;
  tr.file = file;
  tr.platform = name;
  if (!require_columns(h, {"time", "lon", "lat"}, file, diag)) return tr;
  const int c_time = h.index("time"), c_lon = h.index("lon"), c_lat = h.index("lat");
  int c_alt = h.index("alt_m");
  if (c_alt < 0) c_alt = h.index("alt");
  const int c_plat = h.index("platform");
  std::vector<int> var_cols;
  std::vector<VariableKind> kinds;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const int ii = static_cast<int>(i);
    if (ii == c_time || ii == c_lon || ii == c_lat || ii == c_alt || ii == c_plat) continue;
    if (h.names()[i].empty()) {
      diag.warn(file, "column " + std::to_string(i + 1) + " has no name; ignored");
      continue;
    }
    var_cols.push_back(ii);
    tr.variables.push_back(h.names()[i]);
    kinds.push_back(variable_kind(h.names()[i]));
  }
  tr.values.resize(var_cols.size());
  bool warned_naive = false;
  std::string platform;
  std::vector<double> vals(var_cols.size());
  CsvRecord rec;
  while (next_row(rec)) {
    if (!check_record(rec, h, file, diag)) continue;
    double t = 0;
    bool naive = false;
    if (!parse_iso8601(rec[static_cast<std::size_t>(c_time)], tz, t, &naive)) {
      diag.reject(file, rec.line,
                  "column time: cannot parse " +
                      quote_text(trim_view(rec[static_cast<std::size_t>(c_time)])) +
                      " as an ISO 8601 date-time");
      continue;
    }
    double lon = 0, lat = 0;
    if (!number_field(rec, c_lon, "lon", lon, file, diag) ||
        !number_field(rec, c_lat, "lat", lat, file, diag) ||
        !lon_lat_ok(lon, lat, rec.line, file, diag))
      continue;
    double alt = std::numeric_limits<double>::quiet_NaN();
    if (c_alt >= 0 && !trim_view(rec[static_cast<std::size_t>(c_alt)]).empty() &&
        !number_field(rec, c_alt, "alt_m", alt, file, diag))
      continue;
    bool ok = true;
    for (std::size_t v = 0; v < var_cols.size() && ok; ++v) {
      const std::string_view f = trim_view(rec[static_cast<std::size_t>(var_cols[v])]);
      if (f.empty()) {
        vals[v] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      if (kinds[v] == VariableKind::kStability) {
        const int cls = pasquill_class_number(f);
        if (cls == 0) {
          diag.reject(file, rec.line, "column stability: " + quote_text(f) + " is not a Pasquill class A-F");
          ok = false;
        }
        vals[v] = cls;
        continue;
      }
      if (!number_field(rec, var_cols[v], tr.variables[v].c_str(), vals[v], file, diag)) {
        ok = false;
      } else if (auto why = check_value(kinds[v], tr.variables[v], vals[v]); !why.empty()) {
        diag.reject(file, rec.line, "column " + tr.variables[v] + ": " + why);
        ok = false;
      }
    }
    if (!ok) continue;
    if (naive && !warned_naive) {
      warned_naive = true;
      diag.warn(file, "times without a UTC offset read in time zone " + tz.name() +
                          " (case.json timezone)");
    }
    if (c_plat >= 0 && platform.empty())
      platform = std::string(trim_view(rec[static_cast<std::size_t>(c_plat)]));
    tr.time_s.push_back(t);
    tr.lon.push_back(lon);
    tr.lat.push_back(lat);
    tr.alt_m.push_back(alt);
    for (std::size_t v = 0; v < var_cols.size(); ++v) tr.values[v].push_back(vals[v]);
  }
  if (!platform.empty()) tr.platform = platform;
  if (!std::is_sorted(tr.time_s.begin(), tr.time_s.end())) {
    diag.warn(file, "rows were not in time order; sorted by time");
    std::vector<std::size_t> perm(tr.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::stable_sort(perm.begin(), perm.end(),
                     [&](std::size_t a, std::size_t b) { return tr.time_s[a] < tr.time_s[b]; });
    auto apply = [&](std::vector<double>& x) {
      std::vector<double> y(x.size());
      for (std::size_t i = 0; i < perm.size(); ++i) y[i] = x[perm[i]];
      x.swap(y);
    };
    apply(tr.time_s);
    apply(tr.lon);
    apply(tr.lat);
    apply(tr.alt_m);
    for (auto& col : tr.values) apply(col);
  }
  return tr;
}

}  // namespace plumetrace

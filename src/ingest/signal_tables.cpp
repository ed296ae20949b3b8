/// Readers of the facility monitoring tables: cems.csv, power.csv, mandates.csv
/// (ingest/signal_tables.hpp).

#include "plumetrace/ingest/signal_tables.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "ingest_util.hpp"
#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

using namespace ingest_detail;

namespace {

/// Read the header, require `required` and warn about every column outside `required` and
/// `optional`; false (the file rejected or empty) when the rows cannot be read.
bool table_header(CsvReader& csv, CsvHeader& h, std::initializer_list<const char*> required,
                  std::initializer_list<const char*> optional, const std::string& file, Diagnostics& diag) {
  if (!read_header(csv, h, file, diag) || !require_columns(h, required, file, diag)) return false;
  auto known = [&](const std::string& n) {
    auto is = [&](const char* u) { return n == u; };
    return std::any_of(required.begin(), required.end(), is) || std::any_of(optional.begin(), optional.end(), is);
  };
  for (const auto& n : h.names())
    if (!known(n)) diag.warn(file, "column '" + n + "' ignored");
  return true;
}

/// The index (0, 1) of a column's lower-cased value among two keywords; rejects the row and
/// returns -1 otherwise ("column NAME: 'x' is not 'a' or 'b'").
int keyword_field(const CsvRecord& rec, int col, const char* name, const char* first, const char* second,
                  const std::string& file, Diagnostics& diag) {
  const std::string v = ascii_lower(trim_view(rec[static_cast<std::size_t>(col)]));
  if (v == first) return 0;
  if (v == second) return 1;
  diag.reject(file, rec.line,
              std::string("column ") + name + ": " + quote_text(v) + " is not '" + first + "' or '" + second + "'");
  return -1;
}

/// Shared row checks: a known facility and a parsable time. Rejects and returns false otherwise.
class RowChecks {
 public:
  RowChecks(const std::vector<Source>& sources, const TimeZone& tz, const std::string& file, Diagnostics& diag)
      : tz_(tz), file_(file), diag_(diag) {
    for (const Source& s : sources) ids_.insert(s.id);
  }
  bool facility(const CsvRecord& rec, int col, std::string& id) {
    id = std::string(trim_view(rec[static_cast<std::size_t>(col)]));
    if (id.empty()) {
      diag_.reject(file_, rec.line, "column facility_id: empty");
      return false;
    }
    if (!ids_.count(id)) {
      diag_.reject(file_, rec.line, "unknown facility " + quote_text(id) + " (not in the registry)");
      return false;
    }
    return true;
  }
  bool time(const CsvRecord& rec, int col, const char* name, EpochSeconds& t) {
    const std::string_view text = rec[static_cast<std::size_t>(col)];
    bool naive = false;
    if (!parse_iso8601(text, tz_, t, &naive)) {
      diag_.reject(file_, rec.line,
                   std::string("column ") + name + ": cannot parse " + quote_text(trim_view(text)) +
                       " as an ISO 8601 date-time");
      return false;
    }
    if (naive && !warned_naive_) {
      warned_naive_ = true;
      diag_.warn(file_, "times without a UTC offset read in time zone " + tz_.name() + " (case.json timezone)");
    }
    return true;
  }

 private:
  std::set<std::string, std::less<>> ids_;
  const TimeZone& tz_;
  const std::string& file_;
  Diagnostics& diag_;
  bool warned_naive_{false};
};

/// Keep the first row of each key (rows in file order); reject the later ones naming the first.
template <typename Row, typename Key>
std::vector<Row> first_of_each(std::vector<Row> rows, Key key, const char* what, const std::string& file,
                               Diagnostics& diag) {
  std::map<decltype(key(rows.front())), std::size_t> first_line;
  std::vector<Row> out;
  out.reserve(rows.size());
  for (Row& r : rows) {
    const auto [it, added] = first_line.emplace(key(r), r.line);
    if (!added) {
      diag.reject(file, r.line, std::string("repeated ") + what + " (first on line " + std::to_string(it->second) + ")");
      continue;
    }
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(), [&](const Row& a, const Row& b) { return key(a) < key(b); });
  return out;
}

}  // namespace

std::vector<CemsRow> read_cems_csv(CsvReader& csv, const std::string& file, const std::vector<Source>& sources,
                                   const TimeZone& tz, Diagnostics& diag) {
  CsvHeader h;
  if (!table_header(csv, h, {"facility_id", "time", "variable", "value"}, {"unit", "limit"}, file, diag)) return {};
  const int c_fac = h.index("facility_id"), c_time = h.index("time"), c_var = h.index("variable"),
            c_val = h.index("value"), c_unit = h.index("unit"), c_lim = h.index("limit");
  RowChecks check(sources, tz, file, diag);
  std::vector<CemsRow> rows;
  CsvRecord rec;
  while (csv.next(rec)) {
    if (!check_record(rec, h, file, diag)) continue;
    CemsRow r;
    r.line = rec.line;
    if (!check.facility(rec, c_fac, r.facility_id) || !check.time(rec, c_time, "time", r.time_s)) continue;
    r.variable = ascii_lower(trim_view(rec[static_cast<std::size_t>(c_var)]));
    if (r.variable.empty()) {
      diag.reject(file, rec.line, "column variable: empty");
      continue;
    }
    if (!number_field(rec, c_val, "value", r.value, file, diag)) continue;
    if (r.value < 0) {
      diag.reject(file, rec.line, "column value: " + num(r.value) + " is negative");
      continue;
    }
    if (c_unit >= 0) r.unit = std::string(trim_view(rec[static_cast<std::size_t>(c_unit)]));
    if (c_lim >= 0 && !trim_view(rec[static_cast<std::size_t>(c_lim)]).empty()) {
      if (!number_field(rec, c_lim, "limit", r.limit, file, diag)) continue;
      if (!(r.limit > 0)) {
        diag.reject(file, rec.line, "column limit: " + num(r.limit) + " must be > 0");
        continue;
      }
    }
    rows.push_back(std::move(r));
  }
  if (rows.empty()) return rows;
  return first_of_each(
      std::move(rows), [](const CemsRow& r) { return std::make_tuple(r.facility_id, r.variable, r.time_s); },
      "facility, variable and time", file, diag);
}

std::vector<PowerRow> read_power_csv(CsvReader& csv, const std::string& file, const std::vector<Source>& sources,
                                     const TimeZone& tz, Diagnostics& diag) {
  CsvHeader h;
  if (!table_header(csv, h, {"facility_id", "time", "circuit", "kw"}, {}, file, diag)) return {};
  const int c_fac = h.index("facility_id"), c_time = h.index("time"), c_circ = h.index("circuit"),
            c_kw = h.index("kw");
  RowChecks check(sources, tz, file, diag);
  std::vector<PowerRow> rows;
  CsvRecord rec;
  while (csv.next(rec)) {
    if (!check_record(rec, h, file, diag)) continue;
    PowerRow r;
    r.line = rec.line;
    if (!check.facility(rec, c_fac, r.facility_id) || !check.time(rec, c_time, "time", r.time_s)) continue;
    const int circuit = keyword_field(rec, c_circ, "circuit", "production", "treatment", file, diag);
    if (circuit < 0) continue;
    r.circuit = circuit == 0 ? PowerCircuit::Production : PowerCircuit::Treatment;
    if (!number_field(rec, c_kw, "kw", r.kw, file, diag)) continue;
    if (r.kw < 0) {
      diag.reject(file, rec.line, "column kw: " + num(r.kw) + " is negative");
      continue;
    }
    rows.push_back(std::move(r));
  }
  if (rows.empty()) return rows;
  return first_of_each(
      std::move(rows), [](const PowerRow& r) { return std::make_tuple(r.facility_id, static_cast<int>(r.circuit), r.time_s); },
      "facility, circuit and time", file, diag);
}

std::vector<Mandate> read_mandates_csv(CsvReader& csv, const std::string& file, const std::vector<Source>& sources,
                                       const TimeZone& tz, Diagnostics& diag) {
  CsvHeader h;
  if (!table_header(csv, h, {"facility_id", "start", "end", "kind"}, {}, file, diag)) return {};
  const int c_fac = h.index("facility_id"), c_start = h.index("start"), c_end = h.index("end"),
            c_kind = h.index("kind");
  RowChecks check(sources, tz, file, diag);
  std::vector<Mandate> out;
  CsvRecord rec;
  while (csv.next(rec)) {
    if (!check_record(rec, h, file, diag)) continue;
    Mandate m;
    m.line = rec.line;
    if (!check.facility(rec, c_fac, m.facility_id) || !check.time(rec, c_start, "start", m.start_s) ||
        !check.time(rec, c_end, "end", m.end_s))
      continue;
    if (!(m.end_s > m.start_s)) {
      diag.reject(file, rec.line, "column end: not later than start");
      continue;
    }
    const int kind = keyword_field(rec, c_kind, "kind", "shutdown", "limit", file, diag);
    if (kind < 0) continue;
    m.kind = kind == 0 ? MandateKind::Shutdown : MandateKind::Limit;
    out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(), [](const Mandate& a, const Mandate& b) {
    return std::tie(a.facility_id, a.start_s) < std::tie(b.facility_id, b.start_s);
  });
  return out;
}

}  // namespace plumetrace

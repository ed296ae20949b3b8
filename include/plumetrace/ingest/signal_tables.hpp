#pragma once
/// @file signal_tables.hpp
/// The facility monitoring tables of a case folder (README "Case folder"): online emission
/// monitoring at the outlet (`cems.csv`), electricity use of the production and treatment circuits
/// (`power.csv`) and ordered shutdowns or limits (`mandates.csv`). The signals room reads them for
/// `evidence.flags`. Rows are validated with the same hygiene as readings.csv: every bad row is
/// rejected in `diag` with file, line and reason, never dropped silently, never a crash.

#include <cstdint>
#include <string>
#include <vector>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/diagnostics.hpp"
#include "plumetrace/core/time.hpp"

namespace plumetrace {

struct Source;  // ingest/case.hpp

/// One `cems.csv` row: a value measured at a facility's outlet.
struct CemsRow {
  std::string facility_id;
  EpochSeconds time_s{};
  std::string variable;     ///< lower-case ("so2", "nox", "flow", ...)
  double value{};           ///< as reported, in `unit`
  std::string unit;         ///< verbatim
  double limit{-1};         ///< the permitted limit in the same unit; < 0 when the row gives none
  std::size_t line{};
};

enum class PowerCircuit : std::uint8_t { Production, Treatment };

/// One `power.csv` row: electricity use of one circuit of a facility.
struct PowerRow {
  std::string facility_id;
  EpochSeconds time_s{};
  PowerCircuit circuit{PowerCircuit::Production};
  double kw{};              ///< kilowatts, >= 0
  std::size_t line{};
};

enum class MandateKind : std::uint8_t { Shutdown, Limit };

/// One `mandates.csv` row: an ordered shutdown (production must stop) or limit, [start, end).
struct Mandate {
  std::string facility_id;
  EpochSeconds start_s{};
  EpochSeconds end_s{};
  MandateKind kind{MandateKind::Shutdown};
  std::size_t line{};
};

/// The three tables together, each sorted by (facility_id, [variable | circuit], time).
struct MonitoringTables {
  std::vector<CemsRow> cems;
  std::vector<PowerRow> power;
  std::vector<Mandate> mandates;
  [[nodiscard]] bool empty() const noexcept { return cems.empty() && power.empty() && mandates.empty(); }
};

/// cems.csv: `facility_id,time,variable,value` required, `unit`, `limit` optional. Rejected: an
/// unknown facility (not in `sources`), an unparsable time, an empty variable, a value that is not
/// a finite number or is negative, a limit that is not a positive number, a repeated
/// (facility, variable, time) (the first row wins). Naive times are read in `tz` (one warning).
[[nodiscard]] std::vector<CemsRow> read_cems_csv(CsvReader& csv, const std::string& file,
                                                 const std::vector<Source>& sources,
                                                 const TimeZone& tz, Diagnostics& diag);

/// power.csv: `facility_id,time,circuit,kw` required; `circuit` is `production` or `treatment`
/// (case-insensitive); `kw` finite and >= 0; a repeated (facility, circuit, time) is rejected.
[[nodiscard]] std::vector<PowerRow> read_power_csv(CsvReader& csv, const std::string& file,
                                                   const std::vector<Source>& sources,
                                                   const TimeZone& tz, Diagnostics& diag);

/// mandates.csv: `facility_id,start,end,kind` required; `kind` is `shutdown` or `limit`
/// (case-insensitive); `end` must be later than `start`.
[[nodiscard]] std::vector<Mandate> read_mandates_csv(CsvReader& csv, const std::string& file,
                                                     const std::vector<Source>& sources,
                                                     const TimeZone& tz, Diagnostics& diag);

}  // namespace plumetrace

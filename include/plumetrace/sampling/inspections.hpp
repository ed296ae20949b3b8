#pragma once
/// @file inspections.hpp
/// "Double random" inspection sampling (README "sample-inspections"): facilities drawn at random
/// with a rate per environmental-credit tier, each given two inspectors drawn at random from those
/// not excluded from it. The draw is a pure function of (registry, inspectors, rates, seed): the
/// same inputs and seed give the same draw on every machine (own generator and integer
/// sampling, nothing implementation-defined from <random>).
///
/// Per tier with n facilities and rate r, the number drawn is floor(r*n) plus one more with
/// probability r*n - floor(r*n), so its mean is exactly r*n; the facilities are a uniform sample
/// without replacement of that size (so each is drawn with probability r).

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/core/diagnostics.hpp"

namespace plumetrace::sampling {

/// A facility that can be drawn: its id and credit tier (`A`..`D`).
struct Facility {
  std::string id;
  std::string credit;
};

struct Inspector {
  std::string id;
  std::string name;
  std::vector<std::string> exclude;  ///< facility ids this inspector must never inspect
};

/// Rates per tier, each in [0, 1].
using Rates = std::map<std::string, double>;

struct Assignment {
  std::string facility_id;
  std::string credit;
  std::string inspectors[2];
};

struct Draw {
  std::uint64_t seed{};
  Rates rates;
  std::vector<Assignment> drawn;              ///< sorted by facility id
  std::map<std::string, std::size_t> population;  ///< facilities per tier
  std::map<std::string, std::size_t> drawn_per_tier;
};

/// Parse `A=0.03,B=0.05,C=0.2,D=0.5`. @throws InvalidInput naming the bad part (tier not A-D,
/// a rate outside [0, 1], a repeated tier).
[[nodiscard]] Rates parse_rates(const std::string& text);

/// The facilities of a registry file (sources.csv-like CSV or any OGR vector, as the case folder
/// reads them) with their `credit`. Rows without a credit A-D are reported in `diag` (file,
/// line, reason) and left out of the population. @throws InvalidInput when the file is unusable.
[[nodiscard]] std::vector<Facility> read_facilities(const std::filesystem::path& registry, Diagnostics& diag);

/// The inspectors CSV `id,name[,exclude]` (`exclude`: `;`-separated facility ids). Bad rows
/// (no id, duplicate id) are reported in `diag`. @throws InvalidInput when the file is unusable.
[[nodiscard]] std::vector<Inspector> read_inspectors(const std::filesystem::path& file, Diagnostics& diag);

/// Draw. Checks first, whatever the seed: every tier present has a rate, and every facility has
/// at least two inspectors not excluded from it. @throws InvalidInput otherwise, naming them.
[[nodiscard]] Draw draw_inspections(const std::vector<Facility>& facilities, const std::vector<Inspector>& inspectors,
                                    const Rates& rates, std::uint64_t seed);

/// The document `--json` prints: `{"seed", "rates", "drawn": [{"facility_id", "credit",
/// "inspectors": [id, id]}], "population": {"A": n, ...}, "drawn_per_tier": {...}}`.
[[nodiscard]] nlohmann::json to_json(const Draw& d);

}  // namespace plumetrace::sampling

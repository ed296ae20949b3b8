#pragma once
/// @file plan.hpp
/// A joint enforcement plan from a ranking document (CONTRACT §2 `plan`, README "plan"): which
/// jurisdictions are involved and with what share of the posterior, which facilities each
/// should inspect and in what order (with the evidence for each), and one inspection route.
///
/// The plan follows the ranking; it adds no evidence. What it chooses:
/// - a facility is inspected when its probability is at least kInspectMinProbability, or, down
///   the ranking, while the stops chosen so far hold less than kInspectCoverage of the release
///   probability (1 - no_release) and its probability is at least kInspectFloorProbability;
///   a facility with monitoring flags (evidence.flags) is inspected from that floor on;
///   at most kMaxInspectedFacilities;
/// - the unregistered-source hypothesis becomes a search-area stop at the ranking's `unlisted`
///   peak, with the radius of its 90 % credible area, when its probability is at least
///   kInspectMinProbability;
/// - the assessment names the hypothesis that holds at least kDecisiveProbability, or says the
///   ranking is undetermined.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "plumetrace/core/diagnostics.hpp"

namespace plumetrace::plan {

/// A facility this probable is visited whatever else the ranking says. A policy choice, not a
/// fit: one visit in twenty finding the source is far better odds per visit than routine
/// inspections give, and the count is capped by kMaxInspectedFacilities anyway.
inline constexpr double kInspectMinProbability = 0.05;
/// Down the ranking, stops are added until they hold this share of the release probability, so
/// that a spread posterior yields several visits rather than one unlikely one.
inline constexpr double kInspectCoverage = 0.90;
/// Below this probability a facility is not visited for coverage or for its flags alone.
inline constexpr double kInspectFloorProbability = 0.01;
/// At most this many facilities per plan: a day's work for two teams (the route is then solved
/// exactly, route.hpp kExactRouteMaxStops).
inline constexpr std::size_t kMaxInspectedFacilities = 12;
/// A jurisdiction holding at least this share of the posterior is listed even without a stop.
inline constexpr double kListJurisdictionMinShare = 0.01;
/// The assessment names a hypothesis only when it holds at least this probability.
inline constexpr double kDecisiveProbability = 0.5;
/// Straight-line travel speed for minutes when no travel time is configured (county roads,
/// detours included), km/h.
inline constexpr double kStraightLineSpeedKmH = 30.0;

/// A start point in WGS 84 degrees.
struct LonLat {
  double lon_deg{};
  double lat_deg{};
};

/// Configured travel times in minutes between route nodes, by id: "start", a facility id, or
/// "unlisted" for the search area. A pair given one way is used both ways unless the other way
/// is given too.
struct TravelTimes {
  std::string file;
  std::map<std::pair<std::string, std::string>, double> minutes;
  /// The minutes from `a` to `b`, or nullopt when neither direction is configured.
  [[nodiscard]] std::optional<double> lookup(const std::string& a, const std::string& b) const;
};

/// Read a travel-time CSV `from,to,minutes` (header required). Bad rows (missing id, a time that
/// is not a finite non-negative number, a repeated pair) are reported in `diag` with file, line
/// and reason and left out. @throws InvalidInput when the file cannot be read or has no usable
/// header.
[[nodiscard]] TravelTimes read_travel_times(const std::filesystem::path& file, Diagnostics& diag);

/// The jurisdiction {code, name} of a point, or nullopt (no boundaries, or outside them).
using LocateFn = std::function<std::optional<std::pair<std::string, std::string>>(double lon_deg, double lat_deg)>;

struct PlanOptions {
  std::string case_name;               ///< for the document
  std::optional<LonLat> start;         ///< nullopt: the route starts at the most probable stop
  const TravelTimes* travel_times{};   ///< nullptr: straight-line distances
  double straight_line_speed_km_h{kStraightLineSpeedKmH};  ///< > 0
  LocateFn locate;                     ///< for the search area's jurisdiction; may be empty
};

/// Check a ranking document (CONTRACT §3) for what a plan reads: `candidates` (each with `id`,
/// `probability` in [0, 1], `lon`/`lat` in range), optional `unlisted`, `no_release`,
/// `jurisdictions`, `receptor_jurisdictions`.
/// @throws InvalidInput "ranking: PATH: reason" (PATH such as candidates[3].probability).
void validate_ranking(const nlohmann::json& ranking);

/// The plan document (README "plan"): `case`, `pollutant`, `window`, `assessment`,
/// `jurisdictions` (each with `posterior_share`, `roles` and its ordered `inspections`),
/// `joint`, `lead`, `route`, `parameters`, `warnings`. A pure function of its arguments.
/// @throws InvalidInput as validate_ranking, or for a start point out of range.
[[nodiscard]] nlohmann::json build_plan(const nlohmann::json& ranking, const PlanOptions& options, Diagnostics& diag);

}  // namespace plumetrace::plan

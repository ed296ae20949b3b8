#pragma once
/// @file route.hpp
/// The inspection route of a plan (README "plan"): an open path that leaves a start point and
/// visits every stop once, at least total travel cost. Costs may be asymmetric (configured travel
/// times) or straight-line distances.
///
/// Small sets are solved exactly by the Held–Karp dynamic programme (Held & Karp, "A dynamic
/// programming approach to sequencing problems", J. SIAM 10(1), 1962), O(2^n n^2); larger ones by
/// nearest neighbour followed by 2-opt (Croes 1958) and or-opt (Or 1976) moves until no move
/// improves the path (a local optimum, not a proven one).

#include <cstddef>
#include <string>
#include <vector>

namespace plumetrace::plan {

/// Stops up to which the route is solved exactly: a plan's at most 12 facilities plus one search
/// area (plan.hpp). Held–Karp at n = 13 takes 2^13 * 13^2 ~ 1.4 M steps and 2^13 * 13 doubles
/// (850 KB), a few milliseconds; each extra stop doubles both.
inline constexpr std::size_t kExactRouteMaxStops = 13;

/// Travel costs between route nodes: node 0 is the start, nodes 1..n the stops. cost(i, j) is the
/// cost of going from i to j (metres or minutes; >= 0, finite); it need not equal cost(j, i).
class CostMatrix {
 public:
  /// A matrix of `nodes` x `nodes` zeros. @pre nodes >= 1.
  explicit CostMatrix(std::size_t nodes);
  [[nodiscard]] std::size_t nodes() const noexcept { return nodes_; }
  /// @pre i, j < nodes().
  [[nodiscard]] double operator()(std::size_t i, std::size_t j) const noexcept;
  /// Set cost(i, j). @pre i, j < nodes(), cost finite and >= 0.
  void set(std::size_t i, std::size_t j, double cost) noexcept;

 private:
  std::size_t nodes_;
  std::vector<double> cost_;
};

/// A path from node 0 through every stop once.
struct Route {
  std::vector<std::size_t> order;  ///< the stops (1..n) in visiting order
  double cost{};                   ///< total cost of the path, in the matrix's unit
  bool exact{};                    ///< true when proven least-cost (Held–Karp)
};

/// The cost of visiting `order` from node 0 (no return). @pre every index < costs.nodes().
[[nodiscard]] double path_cost(const CostMatrix& costs, const std::vector<std::size_t>& order);

/// The least-cost path by Held–Karp. @pre costs.nodes() - 1 <= kExactRouteMaxStops.
[[nodiscard]] Route solve_route_exact(const CostMatrix& costs);

/// Nearest neighbour from node 0 (ties: the lower index), then 2-opt segment reversals and
/// or-opt moves of 1-3 consecutive stops, first improvement, until none improves by more than
/// 1e-9 of the path cost.
[[nodiscard]] Route solve_route_heuristic(const CostMatrix& costs);

/// solve_route_exact when there are at most kExactRouteMaxStops stops, else solve_route_heuristic.
[[nodiscard]] Route solve_route(const CostMatrix& costs);

/// The method solve_route uses for `stops` stops, as text for the plan document.
[[nodiscard]] std::string route_method(std::size_t stops);

/// Great-circle distance in metres between two WGS 84 points (haversine on the sphere of the
/// mean Earth radius; within 0.5 % of the geodesic, well inside the error of straight-line travel).
[[nodiscard]] double great_circle_m(double lon1_deg, double lat1_deg, double lon2_deg, double lat2_deg) noexcept;

}  // namespace plumetrace::plan

#include "plumetrace/plan/route.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

namespace plumetrace::plan {
namespace {

/// Mean Earth radius (IUGG R1), metres.
constexpr double kEarthMeanRadiusM = 6371008.8;
/// A move must shorten the path by more than this fraction of its cost (floating-point noise).
constexpr double kRelativeImprovement = 1e-9;

}  // namespace

CostMatrix::CostMatrix(std::size_t nodes) : nodes_(nodes), cost_(nodes * nodes, 0.0) { assert(nodes >= 1); }

double CostMatrix::operator()(std::size_t i, std::size_t j) const noexcept {
  assert(i < nodes_ && j < nodes_);
  return cost_[i * nodes_ + j];
}

void CostMatrix::set(std::size_t i, std::size_t j, double cost) noexcept {
  assert(i < nodes_ && j < nodes_ && std::isfinite(cost) && cost >= 0.0);
  cost_[i * nodes_ + j] = cost;
}

double path_cost(const CostMatrix& costs, const std::vector<std::size_t>& order) {
  double total = 0.0;
  std::size_t at = 0;
  for (const std::size_t s : order) {
    total += costs(at, s);
    at = s;
  }
  return total;
}

Route solve_route_exact(const CostMatrix& costs) {
  const std::size_t n = costs.nodes() - 1;
  assert(n <= kExactRouteMaxStops);
  Route r;
  r.exact = true;
  if (n == 0) return r;
  const std::size_t full = (std::size_t{1} << n) - 1;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // dp[mask * n + j]: least cost from the start through the stops in mask, ending at stop j+1
  std::vector<double> dp((full + 1) * n, kInf);
  std::vector<std::uint8_t> parent((full + 1) * n, 0xff);
  for (std::size_t j = 0; j < n; ++j) dp[(std::size_t{1} << j) * n + j] = costs(0, j + 1);
  for (std::size_t mask = 1; mask <= full; ++mask) {
    for (std::size_t j = 0; j < n; ++j) {
      if (!(mask & (std::size_t{1} << j))) continue;
      const double here = dp[mask * n + j];
      if (here == kInf) continue;
      for (std::size_t k = 0; k < n; ++k) {
        if (mask & (std::size_t{1} << k)) continue;
        const std::size_t next = mask | (std::size_t{1} << k);
        const double c = here + costs(j + 1, k + 1);
        if (c < dp[next * n + k]) {
          dp[next * n + k] = c;
          parent[next * n + k] = static_cast<std::uint8_t>(j);
        }
      }
    }
  }
  std::size_t last = 0;
  for (std::size_t j = 1; j < n; ++j)
    if (dp[full * n + j] < dp[full * n + last]) last = j;
  r.cost = dp[full * n + last];
  std::vector<std::size_t> rev;
  std::size_t mask = full, j = last;
  while (true) {
    rev.push_back(j + 1);
    const std::uint8_t p = parent[mask * n + j];
    mask &= ~(std::size_t{1} << j);
    if (p == 0xff) break;
    j = p;
  }
  assert(mask == 0);
  r.order.assign(rev.rbegin(), rev.rend());
  return r;
}

Route solve_route_heuristic(const CostMatrix& costs) {
  const std::size_t n = costs.nodes() - 1;
  Route r;
  if (n == 0) return r;
  // nearest neighbour
  std::vector<bool> used(n + 1, false);
  std::size_t at = 0;
  for (std::size_t step = 0; step < n; ++step) {
    std::size_t best = 0;
    for (std::size_t k = 1; k <= n; ++k)
      if (!used[k] && (best == 0 || costs(at, k) < costs(at, best))) best = k;
    used[best] = true;
    r.order.push_back(best);
    at = best;
  }
  double cost = path_cost(costs, r.order);
  // take `cand` when it is shorter by more than floating-point noise
  const auto accept = [&](std::vector<std::size_t>& cand) {
    const double c = path_cost(costs, cand);
    if (!(c < cost - kRelativeImprovement * cost)) return false;
    r.order = std::move(cand);
    cost = c;
    return true;
  };
  bool improved = true;
  while (improved) {
    improved = false;
    // 2-opt: reverse order[i..j]
    for (std::size_t i = 0; i + 1 < n && !improved; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        std::vector<std::size_t> cand = r.order;
        std::reverse(cand.begin() + static_cast<std::ptrdiff_t>(i), cand.begin() + static_cast<std::ptrdiff_t>(j) + 1);
        if ((improved = accept(cand))) break;
      }
    }
    // or-opt: move a run of 1-3 stops elsewhere
    for (std::size_t len = 1; len <= 3 && len < n && !improved; ++len) {
      for (std::size_t i = 0; i + len <= n && !improved; ++i) {
        std::vector<std::size_t> rest;
        rest.reserve(n);
        for (std::size_t k = 0; k < n; ++k)
          if (k < i || k >= i + len) rest.push_back(r.order[k]);
        for (std::size_t p = 0; p <= rest.size(); ++p) {
          if (p == i) continue;  // the same path
          std::vector<std::size_t> cand = rest;
          cand.insert(cand.begin() + static_cast<std::ptrdiff_t>(p), r.order.begin() + static_cast<std::ptrdiff_t>(i),
                      r.order.begin() + static_cast<std::ptrdiff_t>(i + len));
          if ((improved = accept(cand))) break;
        }
      }
    }
  }
  r.cost = cost;
  return r;
}

Route solve_route(const CostMatrix& costs) {
  return costs.nodes() - 1 <= kExactRouteMaxStops ? solve_route_exact(costs) : solve_route_heuristic(costs);
}

std::string route_method(std::size_t stops) {
  return stops <= kExactRouteMaxStops ? "exact (Held-Karp)" : "nearest neighbour + 2-opt + or-opt";
}

double great_circle_m(double lon1_deg, double lat1_deg, double lon2_deg, double lat2_deg) noexcept {
  constexpr double kRad = std::numbers::pi / 180.0;
  const double dlat = (lat2_deg - lat1_deg) * kRad;
  const double dlon = (lon2_deg - lon1_deg) * kRad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1_deg * kRad) * std::cos(lat2_deg * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2.0 * kEarthMeanRadiusM * std::asin(std::min(1.0, std::sqrt(a)));
}

}  // namespace plumetrace::plan

// The inspection route (include/plumetrace/plan/route.hpp) against brute force on small sets.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "plumetrace/plan/route.hpp"

namespace {

using namespace plumetrace::plan;

/// The least path cost over every permutation of the stops.
double brute_force(const CostMatrix& c) {
  std::vector<std::size_t> order(c.nodes() - 1);
  std::iota(order.begin(), order.end(), std::size_t{1});
  double best = std::numeric_limits<double>::infinity();
  do best = std::min(best, path_cost(c, order));
  while (std::next_permutation(order.begin(), order.end()));
  return best;
}

CostMatrix random_instance(std::mt19937& rng, std::size_t stops, bool symmetric) {
  std::uniform_real_distribution<double> u(0.0, 10000.0);
  std::vector<std::pair<double, double>> p(stops + 1);
  for (auto& q : p) q = {u(rng), u(rng)};
  CostMatrix c(stops + 1);
  std::uniform_real_distribution<double> detour(1.0, 1.8);
  for (std::size_t i = 0; i <= stops; ++i)
    for (std::size_t j = 0; j <= stops; ++j)
      if (i != j) c.set(i, j, std::hypot(p[i].first - p[j].first, p[i].second - p[j].second) * (symmetric ? 1.0 : detour(rng)));
  return c;
}

bool is_permutation_of_stops(const Route& r, std::size_t stops) {
  std::vector<std::size_t> s = r.order;
  std::sort(s.begin(), s.end());
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] != i + 1) return false;
  return s.size() == stops;
}

TEST(Route, HeldKarpEqualsBruteForce) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t n = 1 + static_cast<std::size_t>(trial % 8);
    const CostMatrix c = random_instance(rng, n, trial % 2 == 0);
    const Route r = solve_route_exact(c);
    ASSERT_TRUE(is_permutation_of_stops(r, n)) << "trial " << trial;
    EXPECT_TRUE(r.exact);
    EXPECT_NEAR(r.cost, path_cost(c, r.order), 1e-6);
    EXPECT_NEAR(r.cost, brute_force(c), 1e-6 * r.cost) << "trial " << trial << ", " << n << " stops";
  }
}

TEST(Route, HeuristicIsNearBruteForce) {
  std::mt19937 rng(11);
  double sum_ratio = 0, max_ratio = 0;
  int optimal = 0, trials = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 5 + static_cast<std::size_t>(trial % 5);  // 5..9 stops
    const CostMatrix c = random_instance(rng, n, trial % 3 != 0);
    const Route h = solve_route_heuristic(c);
    ASSERT_TRUE(is_permutation_of_stops(h, n));
    EXPECT_FALSE(h.exact);
    EXPECT_NEAR(h.cost, path_cost(c, h.order), 1e-6);
    const double best = brute_force(c);
    const double ratio = h.cost / best;
    EXPECT_GE(ratio, 1.0 - 1e-9);
    sum_ratio += ratio;
    max_ratio = std::max(max_ratio, ratio);
    optimal += ratio < 1.0 + 1e-9;
    ++trials;
  }
  std::printf("heuristic vs brute force, %d instances of 5-9 stops: optimal in %d, mean ratio %.4f, worst %.4f\n", trials,
              optimal, sum_ratio / trials, max_ratio);
  EXPECT_LE(sum_ratio / trials, 1.01);
  EXPECT_LE(max_ratio, 1.15);
  EXPECT_GE(optimal, trials * 3 / 4);
}

TEST(Route, LocalSearchNeverWorseThanNearestNeighbourOnLargeSets) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t n = 20 + static_cast<std::size_t>(trial);
    const CostMatrix c = random_instance(rng, n, true);
    // nearest neighbour alone
    std::vector<bool> used(n + 1, false);
    std::vector<std::size_t> nn;
    std::size_t at = 0;
    for (std::size_t s = 0; s < n; ++s) {
      std::size_t best = 0;
      for (std::size_t k = 1; k <= n; ++k)
        if (!used[k] && (best == 0 || c(at, k) < c(at, best))) best = k;
      used[best] = true;
      nn.push_back(best);
      at = best;
    }
    const Route r = solve_route(c);
    ASSERT_TRUE(is_permutation_of_stops(r, n));
    EXPECT_FALSE(r.exact);
    EXPECT_LE(r.cost, path_cost(c, nn) + 1e-9);
  }
}

TEST(Route, PointsOnALineAreVisitedOutward) {
  // start at 0, stops at 3, 1, 2 km east: visited 1, 2, 3 km
  CostMatrix c(4);
  const double x[] = {0, 3000, 1000, 2000};
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) c.set(i, j, std::abs(x[i] - x[j]));
  for (const Route& r : {solve_route_exact(c), solve_route_heuristic(c)}) {
    EXPECT_EQ(r.order, (std::vector<std::size_t>{2, 3, 1}));
    EXPECT_DOUBLE_EQ(r.cost, 3000.0);
  }
}

TEST(Route, ExactUpToThirteenStopsThenHeuristic) {
  std::mt19937 rng(5);
  EXPECT_TRUE(solve_route(random_instance(rng, kExactRouteMaxStops, true)).exact);
  EXPECT_FALSE(solve_route(random_instance(rng, kExactRouteMaxStops + 1, true)).exact);
  EXPECT_EQ(route_method(13), "exact (Held-Karp)");
  const Route none = solve_route(CostMatrix(1));
  EXPECT_TRUE(none.order.empty());
  EXPECT_EQ(none.cost, 0.0);
}

TEST(Route, GreatCircleMatchesKnownDistances) {
  // one degree of latitude on the mean sphere: 111.195 km
  EXPECT_NEAR(great_circle_m(120.0, 28.0, 120.0, 29.0), 111195.0, 5.0);
  // one degree of longitude at 60 N: half of that at the equator
  EXPECT_NEAR(great_circle_m(0.0, 60.0, 1.0, 60.0), 111195.0 * 0.5, 30.0);
  EXPECT_EQ(great_circle_m(120.1, 28.8, 120.1, 28.8), 0.0);
}

}  // namespace

// Cross-border flags and receptor areas (CONTRACT §3), on two clean neighbouring squares.
#include "plumetrace/border/attribution.hpp"

#include <gtest/gtest.h>

#include "../geo/boundary_squares.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "plumetrace/core/diagnostics.hpp"

namespace plumetrace {
namespace {

using testing_support::square;

struct Fixture {
  BoundaryLayer layer;
  Diagnostics diag;
  JurisdictionIndex index;
  Transformer tr{"EPSG:32631"};
  Grid grid;
  Fixture()
      : layer{"squares", {square("A", 0.0, 0.0, 1.0, 1.0), square("B", 1.0, 0.0, 2.0, 1.0)}},
        index(layer, diag) {}
  std::vector<std::string> receptor_codes(const Attribution& a) const {
    std::vector<std::string> out;
    for (const auto& j : a.receptors) out.push_back(j.code);
    return out;
  }
};

std::vector<std::string> affected_codes(const Attribution& a, std::size_t j) {
  std::vector<std::string> out;
  for (const auto& x : a.affected[j]) out.push_back(x.area.code + ":" + std::to_string(x.observations));
  return out;
}

TEST(Attribution, CrossBorderByImpact) {
  Fixture f;
  // Stations well inside A; survey fixes inside B (one ~55 m from the border: 0.0005° at 0.5° N).
  const std::vector<LonLat> receptors{{0.5, 0.5}, {0.6, 0.4}, {1.0005, 0.5}, {1.5, 0.2}};
  const std::vector<LonLat> candidates{{1.5, 0.5}, {0.4, 0.6}, {1.6, 0.6}};
  const std::vector<double> p{0.6, 0.3, 0.1};
  // candidate 0 (in B) explains both stations in A and the car as it follows the plume back
  // into B; candidate 1 (in A) is seen only at home; candidate 2 (in B) explains only the fix
  // near the border and the one deep in B
  const std::vector<std::vector<std::uint32_t>> explained{{0, 1, 1, 3}, {0, 1}, {2, 3}};
  const Attribution a = attribute(f.index, candidates, p, explained, receptors, f.grid, f.tr, {}, 0.0);
  ASSERT_EQ(a.cross_border.size(), 3U);
  EXPECT_TRUE(a.cross_border[0]);   // the car in B does not hide the stations across the border
  EXPECT_EQ(affected_codes(a, 0), (std::vector<std::string>{"A:3", "B:1"}));
  EXPECT_FALSE(a.cross_border[1]);  // seen only at home
  EXPECT_EQ(affected_codes(a, 1), (std::vector<std::string>{"A:2"}));
  EXPECT_FALSE(a.cross_border[2]);  // the border fix does not decide (it is within 100 m)
  EXPECT_EQ(affected_codes(a, 2), (std::vector<std::string>{"B:1"}));
  EXPECT_EQ(f.receptor_codes(a), (std::vector<std::string>{"A", "B"}));
  ASSERT_EQ(a.areas.size(), 2U);
  EXPECT_EQ(a.areas[0].area.code, "B");
  EXPECT_DOUBLE_EQ(a.areas[0].probability, 0.7);

  // Without the margin the border fix is in B like any other: still not cross-border.
  const Attribution literal = attribute(f.index, candidates, p, explained, receptors, f.grid, f.tr, {}, 0.0, 0.0);
  EXPECT_EQ(affected_codes(literal, 2), (std::vector<std::string>{"B:2"}));
}

TEST(Attribution, BorderHuggingReceptorsCountWhenTheyAreAllACandidateHas) {
  Fixture f;
  const std::vector<LonLat> receptors{{0.9997, 0.5}, {1.0003, 0.5}};  // ~33 m either side
  const std::vector<LonLat> candidates{{1.5, 0.5}};
  const Attribution a = attribute(f.index, candidates, {1.0}, {{0, 1}}, receptors, f.grid, f.tr, {}, 0.0);
  EXPECT_EQ(f.receptor_codes(a), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(affected_codes(a, 0), (std::vector<std::string>{"A:1", "B:1"}));
  EXPECT_TRUE(a.cross_border[0]);
  // Nothing explained, or no receptor in any area: nothing is cross-border.
  const Attribution unseen = attribute(f.index, candidates, {1.0}, {{}}, receptors, f.grid, f.tr, {}, 0.0);
  EXPECT_FALSE(unseen.cross_border[0]);
  EXPECT_TRUE(unseen.affected[0].empty());
  const Attribution none = attribute(f.index, candidates, {1.0}, {{0}}, {{5.0, 5.0}}, f.grid, f.tr, {}, 0.0);
  EXPECT_TRUE(none.receptors.empty());
  EXPECT_FALSE(none.cross_border[0]);
}

}  // namespace
}  // namespace plumetrace

// Cross-border flags and receptor areas (CONTRACT §3), on two clean neighbouring squares.
#include "plumetrace/border/attribution.hpp"

#include <gtest/gtest.h>

#include "../geo/boundary_squares.hpp"

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

TEST(Attribution, ReceptorOnTheBorderDoesNotHideACrossBorderSource) {
  Fixture f;
  // Stations well inside A; one survey fix ~55 m inside B (0.0005° of longitude at 0.5° N).
  const std::vector<LonLat> receptors{{0.5, 0.5}, {0.6, 0.4}, {1.0005, 0.5}};
  const std::vector<LonLat> candidates{{1.5, 0.5}, {0.4, 0.6}};
  const std::vector<double> p{0.7, 0.3};
  const Attribution a = attribute(f.index, candidates, p, receptors, f.grid, f.tr, {}, 0.0);
  EXPECT_EQ(f.receptor_codes(a), (std::vector<std::string>{"A"}));
  ASSERT_EQ(a.cross_border.size(), 2U);
  EXPECT_TRUE(a.cross_border[0]);   // the source in B is across the border from every receptor
  EXPECT_FALSE(a.cross_border[1]);  // the one in A is not
  ASSERT_EQ(a.areas.size(), 2U);
  EXPECT_EQ(a.areas[0].area.code, "B");
  EXPECT_DOUBLE_EQ(a.areas[0].probability, 0.7);

  // Without the margin the border fix makes B a receptor area as well (the literal rule).
  const Attribution literal = attribute(f.index, candidates, p, receptors, f.grid, f.tr, {}, 0.0, 0.0);
  EXPECT_EQ(f.receptor_codes(literal), (std::vector<std::string>{"A", "B"}));
  EXPECT_FALSE(literal.cross_border[0]);

  // A receptor well inside B counts.
  const std::vector<LonLat> both{{0.5, 0.5}, {1.5, 0.2}};
  const Attribution b = attribute(f.index, candidates, p, both, f.grid, f.tr, {}, 0.0);
  EXPECT_EQ(f.receptor_codes(b), (std::vector<std::string>{"A", "B"}));
  EXPECT_FALSE(b.cross_border[0]);
}

TEST(Attribution, WhenEveryReceptorHugsABorderTheyAllCount) {
  Fixture f;
  const std::vector<LonLat> receptors{{0.9997, 0.5}, {1.0003, 0.5}};  // ~33 m either side
  const std::vector<LonLat> candidates{{1.5, 0.5}};
  const Attribution a = attribute(f.index, candidates, {1.0}, receptors, f.grid, f.tr, {}, 0.0);
  EXPECT_EQ(f.receptor_codes(a), (std::vector<std::string>{"A", "B"}));
  EXPECT_FALSE(a.cross_border[0]);
  // No receptor in any area: nothing is cross-border.
  const Attribution none = attribute(f.index, candidates, {1.0}, {{5.0, 5.0}}, f.grid, f.tr, {}, 0.0);
  EXPECT_TRUE(none.receptors.empty());
  EXPECT_FALSE(none.cross_border[0]);
}

}  // namespace
}  // namespace plumetrace

// Tests for plumetrace/geo/jurisdictions.hpp: repair of dirty boundaries and point location,
// on synthetic layers and on the real (dirty) Zhejiang county layer against a GEOS reference.

#include "plumetrace/geo/jurisdictions.hpp"

#include <gdal_priv.h>
#include <gtest/gtest.h>

#include "boundary_squares.hpp"
#include <ogrsf_frmts.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "plumetrace/core/error.hpp"

namespace plumetrace {
namespace {

using RingLL = std::vector<std::pair<double, double>>;

/// Read a polygon layer with OGR into a BoundaryLayer (test-side stand-in for ingest's reader).
BoundaryLayer read_boundaries(const std::string& path) {
  GDALAllRegister();
  BoundaryLayer out;
  out.file = path;
  GDALDatasetUniquePtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
  if (!ds) return out;
  OGRLayer* layer = ds->GetLayer(0);
  auto ring_of = [](const OGRLinearRing* r) {
    RingLL ring;
    for (int i = 0; i < r->getNumPoints(); ++i) ring.emplace_back(r->getX(i), r->getY(i));
    return ring;
  };
  auto polygon_of = [&](const OGRPolygon* p) {
    std::vector<RingLL> rings;
    if (p->getExteriorRing()) rings.push_back(ring_of(p->getExteriorRing()));
    for (int i = 0; i < p->getNumInteriorRings(); ++i) rings.push_back(ring_of(p->getInteriorRing(i)));
    return rings;
  };
  for (auto& f : *layer) {
    BoundaryFeature bf;
    bf.code = f->GetFieldAsString("adcode");
    bf.name = f->GetFieldAsString("name");
    const OGRGeometry* g = f->GetGeometryRef();
    if (!g) continue;
    switch (wkbFlatten(g->getGeometryType())) {
      case wkbPolygon:
        bf.polygons.push_back(polygon_of(g->toPolygon()));
        break;
      case wkbMultiPolygon:
        for (const OGRPolygon* p : *g->toMultiPolygon()) bf.polygons.push_back(polygon_of(p));
        break;
      default:
        break;
    }
    out.features.push_back(std::move(bf));
  }
  return out;
}

const BoundaryLayer& zhejiang() {
  static const BoundaryLayer layer = read_boundaries(PLUMETRACE_SOURCE_DIR "/data/zhejiang_counties.geojson");
  return layer;
}

Diagnostics& zhejiang_diagnostics() {
  static Diagnostics diag;
  return diag;
}

/// The Zhejiang index, built once for the whole test binary (repairing 89 polygons takes a while
/// in a Debug build).
const JurisdictionIndex& zhejiang_index() {
  static const JurisdictionIndex index(zhejiang(), zhejiang_diagnostics());
  return index;
}

using testing_support::square;

std::string code_at(const JurisdictionIndex& idx, double lon, double lat) {
  auto j = idx.locate(lon, lat);
  return j ? j->code : std::string("none");
}

TEST(JurisdictionIndex, CleanSquaresNeighboursAndBounds) {
  BoundaryLayer layer;
  layer.file = "squares.geojson";
  layer.features.push_back(square("A", 120.00, 30.00, 120.01, 30.01));
  layer.features.push_back(square("B", 120.01, 30.00, 120.02, 30.01));  // shares A's east edge
  Diagnostics diag;
  JurisdictionIndex idx(layer, diag);
  ASSERT_EQ(idx.areas().size(), 2u);
  EXPECT_EQ(idx.repaired_count(), 0u);
  EXPECT_TRUE(diag.rejected().empty());
  EXPECT_EQ(code_at(idx, 120.005, 30.005), "A");
  EXPECT_EQ(code_at(idx, 120.015, 30.005), "B");
  EXPECT_EQ(code_at(idx, 120.0099, 30.0001), "A");
  EXPECT_EQ(code_at(idx, 120.0101, 30.0099), "B");
  EXPECT_EQ(idx.locate_index(120.015, 30.005), 1);
  EXPECT_EQ(*idx.locate(120.005, 30.005), (Jurisdiction{"A", "area A"}));
  const auto b = idx.bounds(1);
  EXPECT_DOUBLE_EQ(b[0], 120.01);
  EXPECT_DOUBLE_EQ(b[1], 30.00);
  EXPECT_DOUBLE_EQ(b[2], 120.02);
  EXPECT_DOUBLE_EQ(b[3], 30.01);
  // 0.001 deg of latitude is ~110.9 m at 30N; the centre of A is ~481 m from its nearest edge.
  EXPECT_NEAR(idx.distance_to_border_m(120.005, 30.009), 110.9, 0.5);
  EXPECT_NEAR(idx.distance_to_border_m(120.005, 30.005), 481.6, 1.0);
  EXPECT_FALSE(idx.locate(std::nan(""), 30.0).has_value());
  EXPECT_THROW((void)idx.bounds(2), Error);
  JurisdictionIndex moved(std::move(idx));
  EXPECT_EQ(code_at(moved, 120.015, 30.005), "B");
  Diagnostics diag2;
  JurisdictionIndex other(BoundaryLayer{}, diag2);  // an empty layer locates nothing
  EXPECT_EQ(code_at(other, 120.015, 30.005), "none");
  EXPECT_TRUE(std::isinf(other.distance_to_border_m(120.0, 30.0)));
  other = std::move(moved);
  EXPECT_EQ(code_at(other, 120.005, 30.005), "A");
  EXPECT_THROW(JurisdictionIndex(layer, diag2, -1.0), InvalidInput);
}

TEST(JurisdictionIndex, GapRuleNearestWithinTolerance) {
  BoundaryLayer layer;
  // A and B separated by a 0.002 deg (~193 m) gap at 30N.
  layer.features.push_back(square("A", 120.000, 30.00, 120.010, 30.01));
  layer.features.push_back(square("B", 120.012, 30.00, 120.022, 30.01));
  Diagnostics diag;
  JurisdictionIndex idx(layer, diag, 200.0);
  EXPECT_EQ(code_at(idx, 120.0105, 30.005), "A");   // ~48 m from A, ~145 m from B
  EXPECT_EQ(code_at(idx, 120.0116, 30.005), "B");   // ~39 m from B
  EXPECT_EQ(code_at(idx, 120.0322, 30.005), "none");  // ~970 m east of B
  EXPECT_EQ(code_at(idx, 120.0240, 30.005), "B");   // ~193 m east of B: within tolerance
  EXPECT_EQ(code_at(idx, 120.0250, 30.005), "none");  // ~290 m
  EXPECT_EQ(code_at(idx, 120.005, 30.0115), "A");   // ~166 m north of A
  EXPECT_EQ(code_at(idx, 121.0, 31.0), "none");     // far outside the indexed extent
  JurisdictionIndex strict(layer, diag, 0.0);
  EXPECT_EQ(code_at(strict, 120.0105, 30.005), "none");
}

TEST(JurisdictionIndex, OverlapGoesToTheDeepestArea) {
  BoundaryLayer layer;
  // A overlaps B by a 0.002 deg strip (dirty neighbours).
  layer.features.push_back(square("A", 120.000, 30.00, 120.012, 30.01));
  layer.features.push_back(square("B", 120.010, 30.00, 120.022, 30.01));
  Diagnostics diag;
  JurisdictionIndex idx(layer, diag);
  EXPECT_EQ(code_at(idx, 120.0105, 30.005), "A");  // 0.0015 deg inside A, 0.0005 inside B
  EXPECT_EQ(code_at(idx, 120.0115, 30.005), "B");
  EXPECT_EQ(code_at(idx, 120.005, 30.005), "A");
}

TEST(JurisdictionIndex, RepairsSelfIntersectionsSpikesAndRepeatedPoints) {
  BoundaryLayer layer;
  layer.file = "dirty.geojson";
  BoundaryFeature f;
  f.code = "D";
  f.name = "dirty";
  // A 0.01 deg square, clockwise, unclosed, with a repeated point, a spike going 0.005 deg out of
  // the east edge and a small bow-tie twist at the north-west corner.
  f.polygons.push_back({{{120.000, 30.000},
                         {120.000, 30.009},
                         {120.001, 30.010},  // twist: the NW corner crossed over itself
                         {120.000, 30.010},
                         {120.001, 30.009},
                         {120.010, 30.010},
                         {120.010, 30.010},  // repeated point
                         {120.010, 30.005},
                         {120.015, 30.005},  // spike
                         {120.010, 30.005},
                         {120.010, 30.000}}});
  layer.features.push_back(f);
  layer.features.push_back(square("C", 120.010, 30.000, 120.020, 30.010));
  BoundaryFeature empty;
  empty.code = "E";
  empty.polygons.push_back({{{120.0, 30.0}, {120.1, 30.0}, {120.0, 30.0}}});  // no area
  layer.features.push_back(empty);
  Diagnostics diag;
  JurisdictionIndex idx(layer, diag, 0.0);
  ASSERT_EQ(idx.areas().size(), 2u);
  EXPECT_EQ(idx.repaired_count(), 1u);
  ASSERT_EQ(diag.rejected().size(), 1u);
  EXPECT_EQ(diag.rejected()[0].file, "dirty.geojson");
  EXPECT_EQ(diag.rejected()[0].line, 3u);
  EXPECT_TRUE(diag.warnings().empty()) << diag.warnings()[0].message;  // repaired valid
  EXPECT_EQ(code_at(idx, 120.005, 30.005), "D");
  EXPECT_EQ(code_at(idx, 120.012, 30.0051), "C");  // where the spike was: C, not D
  EXPECT_EQ(code_at(idx, 120.012, 30.0049), "C");
  EXPECT_EQ(code_at(idx, 120.0004, 30.0099), "D");  // inside the lower lobe of the twist
  EXPECT_EQ(code_at(idx, 120.0005, 30.0096), "D");
  EXPECT_EQ(code_at(idx, 120.0008, 30.0099), "D");     // the upper lobe of the twist
  EXPECT_EQ(code_at(idx, 120.0002, 30.0095), "none");  // between the lobes (even-odd: outside)
}

void check_all_repaired_and_valid() {
  const auto& idx = zhejiang_index();
  ASSERT_EQ(zhejiang().features.size(), 89u);
  EXPECT_EQ(idx.areas().size(), 89u);
  EXPECT_EQ(idx.repaired_count(), 89u);  // none of the 89 is valid as read
  EXPECT_TRUE(zhejiang_diagnostics().rejected().empty());
  // every repaired area passed bg::is_valid (else a warning names it)
  for (const auto& w : zhejiang_diagnostics().warnings()) ADD_FAILURE() << w.message;
}

void check_known_places() {
  const auto& idx = zhejiang_index();
  EXPECT_EQ(*idx.locate(120.04, 28.89), (Jurisdiction{"330784", "永康市"}));  // Yongkang centre
  EXPECT_EQ(code_at(idx, 120.0167, 28.6594), "331122");  // Jinyun county seat
  EXPECT_EQ(code_at(idx, 119.6479, 29.0790), "330702");  // Jinhua, Wucheng
  EXPECT_EQ(code_at(idx, 119.9224, 28.4673), "331102");  // Lishui, Liandu
  EXPECT_EQ(code_at(idx, 120.1551, 30.2741), "330106");  // Hangzhou West Lake district
  EXPECT_EQ(code_at(idx, 116.0, 28.0), "none");          // Jiangxi
  const int yk = idx.locate_index(120.04, 28.89);
  const auto b = idx.bounds(yk);
  EXPECT_NEAR(b[0], 119.85, 0.1);
  EXPECT_NEAR(b[2], 120.35, 0.1);
  EXPECT_LT(b[1], 28.8);
  EXPECT_GT(b[3], 29.0);
}

void check_overlap_and_gaps() {
  const auto& idx = zhejiang_index();
  // GEOS MakeValid has Wucheng (330702) and Wuyi (330723) overlapping by ~0.86 km2 here, the
  // point ~439 m inside Wucheng and ~300 m inside Wuyi. Our even-odd repair counts the doubled
  // edges of the knotted border twice and keeps the knot in Wucheng only; either way: Wucheng.
  EXPECT_EQ(code_at(idx, 119.7008056640625 + 1e-7, 28.93017578125 + 1e-7), "330702");
  // Outside every county but within 200 m of one: the nearest (GEOS distances in the comments).
  EXPECT_EQ(code_at(idx, 120.2502907, 27.4375291), "330329");  // 125 m; 330327 at 305 m
  EXPECT_EQ(code_at(idx, 120.7158303, 27.6867899), "330381");  // 30 m
  EXPECT_EQ(code_at(idx, 118.7939451, 28.2417238), "331181");  // 160 m
  // About 1 km outside the province: none.
  EXPECT_EQ(code_at(idx, 119.0092667, 27.4882900), "none");  // 1023 m
  EXPECT_EQ(code_at(idx, 120.7630368, 27.5780448), "none");  // 1004 m
  EXPECT_NEAR(idx.distance_to_border_m(119.0092667, 27.4882900), 1023.13, 5.0);
}

struct RefRow {
  double lon, lat;
  std::string code;
  double dist_m;
};

std::vector<RefRow> reference_rows() {
  std::ifstream in(PLUMETRACE_TEST_DATA "/geo/jurisdiction_reference.csv");
  std::vector<RefRow> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string lon, lat, code, dist;
    std::getline(ss, lon, ',');
    std::getline(ss, lat, ',');
    std::getline(ss, code, ',');
    std::getline(ss, dist, ',');
    rows.push_back({std::stod(lon), std::stod(lat), code, std::stod(dist)});
  }
  return rows;
}

void check_agrees_with_geos_reference() {
  const auto rows = reference_rows();
  ASSERT_EQ(rows.size(), 10000u);
  const auto& idx = zhejiang_index();
  std::size_t far = 0, agree = 0, agree_all = 0, near_dist_ok = 0, outside_far = 0, outside_far_none = 0;
  double worst_dist_err = 0.0;
  for (const auto& r : rows) {
    const auto j = idx.locate(r.lon, r.lat);
    const std::string got = j ? j->code : "";
    if (got == r.code) ++agree_all;
    if (r.dist_m > 300.0) {
      ++far;
      if (got == r.code) ++agree;
      if (r.code.empty()) {
        ++outside_far;
        if (!j) ++outside_far_none;
      }
    }
    {
      const double d = idx.distance_to_border_m(r.lon, r.lat);
      const double err = std::fabs(d - r.dist_m);
      worst_dist_err = std::max(worst_dist_err, err);
      if (err <= std::max(1.0, 0.005 * r.dist_m)) ++near_dist_ok;
    }
  }
  const double agreement = static_cast<double>(agree) / static_cast<double>(far);
  std::printf("reference: %zu points > 300 m from a border, agreement %.4f %% (all 10000 points: %.2f %%); "
              "outside-province %zu/%zu none; distance within max(1 m, 0.5 %%): %zu/10000 (worst %.2f m)\n",
              far, 100.0 * agreement, agree_all / 100.0, outside_far_none, outside_far, near_dist_ok,
              worst_dist_err);
  EXPECT_GT(far, 8000u);
  EXPECT_GE(agreement, 0.999);
  EXPECT_EQ(outside_far_none, outside_far);  // > 300 m outside: no area (tolerance is 200 m)
  EXPECT_GE(near_dist_ok, 9990u);
}

void check_concurrent_locate() {
  const auto rows = reference_rows();
  const auto& idx = zhejiang_index();
  std::vector<int> expected;
  for (const auto& r : rows) expected.push_back(idx.locate_index(r.lon, r.lat));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < rows.size(); i += 1)
        if (idx.locate_index(rows[i].lon, rows[i].lat) != expected[i]) ++mismatches[t];
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0);
}


// The Zhejiang checks share one index: under ctest every TEST runs in its own process, and
// repairing the 89 counties takes ~12 s of CPU in a Debug build, so they form one test.
TEST(JurisdictionIndex, ZhejiangCountyLayer) {
  {
    SCOPED_TRACE("ZhejiangAllRepairedAndValid");
    check_all_repaired_and_valid();
  }
  {
    SCOPED_TRACE("ZhejiangKnownPlaces");
    check_known_places();
  }
  {
    SCOPED_TRACE("ZhejiangOverlapAndGaps");
    check_overlap_and_gaps();
  }
  {
    SCOPED_TRACE("AgreesWithGeosMakeValidReference");
    check_agrees_with_geos_reference();
  }
  {
    SCOPED_TRACE("ConcurrentLocateIsConsistent");
    check_concurrent_locate();
  }
}

// A trace indexes only the counties around its case: inside the region the answers must be those
// of the whole-province index, including in the slivers between counties (gap rule) and right on
// the region's edge.
TEST(JurisdictionIndex, RegionalIndexAnswersAsTheWholeLayerInsideItsRegion) {
  const std::array<double, 4> region{119.95, 28.75, 120.35, 29.05};  // Yongkang / Jinyun border
  Diagnostics diag;
  const JurisdictionIndex regional(zhejiang(), diag, 200.0, region);
  const JurisdictionIndex& whole = zhejiang_index();
  EXPECT_GE(regional.areas().size(), 3U);
  EXPECT_LT(regional.areas().size(), whole.areas().size() / 4);
  std::uint64_t state = 12345;
  auto uniform = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1.0p-53;
  };
  int checked = 0, in_gap_or_edge = 0;
  for (int i = 0; i < 20000; ++i) {
    // a quarter of the points on the region's edges
    double lon = region[0] + (region[2] - region[0]) * uniform();
    double lat = region[1] + (region[3] - region[1]) * uniform();
    if (i % 4 == 0) lon = (i % 8 == 0) ? region[0] : region[2];
    const std::string expect = code_at(whole, lon, lat);
    ASSERT_EQ(code_at(regional, lon, lat), expect) << lon << ", " << lat;
    if (whole.distance_to_border_m(lon, lat) < 200.0 || i % 4 == 0) ++in_gap_or_edge;
    ++checked;
  }
  EXPECT_EQ(checked, 20000);
  EXPECT_GT(in_gap_or_edge, 5000);
  EXPECT_THROW(JurisdictionIndex(zhejiang(), diag, 200.0, std::array<double, 4>{1, 1, 0, 0}), InvalidInput);
}

}  // namespace
}  // namespace plumetrace

// Tests for plumetrace/geo/crs.hpp: UTM zone choice and PROJ transforms against cs2cs output.

#include "plumetrace/geo/crs.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "plumetrace/core/error.hpp"

namespace plumetrace {
namespace {

struct RefPoint {
  std::string crs;
  double lon, lat, x, y;
};

/// tests/data/geo/cs2cs_fixture.txt: crs lon lat easting northing, from PROJ's cs2cs.
std::vector<RefPoint> load_fixture() {
  std::ifstream in(PLUMETRACE_TEST_DATA "/geo/cs2cs_fixture.txt");
  std::vector<RefPoint> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    RefPoint p;
    ss >> p.crs >> p.lon >> p.lat >> p.x >> p.y;
    if (ss) out.push_back(p);
  }
  return out;
}

TEST(UtmCrsFor, StandardZonesAndHemispheres) {
  EXPECT_EQ(utm_crs_for(119.65, 29.08), "EPSG:32650");  // Jinhua
  EXPECT_EQ(utm_crs_for(120.04, 28.89), "EPSG:32651");  // Yongkang, just east of 120E
  EXPECT_EQ(utm_crs_for(151.21, -33.87), "EPSG:32756");  // Sydney
  EXPECT_EQ(utm_crs_for(-70.65, -33.45), "EPSG:32719");  // Santiago
  EXPECT_EQ(utm_crs_for(-74.0, 40.7), "EPSG:32618");
  EXPECT_EQ(utm_crs_for(-180.0, 0.0), "EPSG:32601");
  EXPECT_EQ(utm_crs_for(180.0, 0.0), "EPSG:32660");
  EXPECT_EQ(utm_crs_for(0.0, 0.0), "EPSG:32631");
  EXPECT_EQ(utm_crs_for(0.0, -0.001), "EPSG:32731");
}

TEST(UtmCrsFor, NorwayAndSvalbardExceptions) {
  EXPECT_EQ(utm_crs_for(5.32, 60.39), "EPSG:32632");   // Bergen: zone 31 by longitude, 32 by exception
  EXPECT_EQ(utm_crs_for(3.5, 58.0), "EPSG:32632");
  EXPECT_EQ(utm_crs_for(2.9, 58.0), "EPSG:32631");     // west of the widened zone
  EXPECT_EQ(utm_crs_for(5.32, 55.9), "EPSG:32631");    // south of it
  EXPECT_EQ(utm_crs_for(10.0, 79.0), "EPSG:32633");    // Svalbard: zone 32 unused
  EXPECT_EQ(utm_crs_for(8.5, 80.0), "EPSG:32631");
  EXPECT_EQ(utm_crs_for(15.63, 78.22), "EPSG:32633");  // Longyearbyen
  EXPECT_EQ(utm_crs_for(22.0, 75.0), "EPSG:32635");
  EXPECT_EQ(utm_crs_for(40.0, 80.0), "EPSG:32637");
  EXPECT_EQ(utm_crs_for(10.0, 71.9), "EPSG:32632");    // south of the Svalbard band
}

TEST(Transformer, MatchesCs2csToOneMillimetre) {
  const auto pts = load_fixture();
  ASSERT_GE(pts.size(), 20u);
  for (const auto& p : pts) {
    Transformer t(p.crs);
    double x, y;
    ASSERT_TRUE(t.forward(p.lon, p.lat, x, y)) << p.crs;
    EXPECT_LT(std::fabs(x - p.x), 1e-3) << p.crs << " " << p.lon << " " << p.lat;
    EXPECT_LT(std::fabs(y - p.y), 1e-3) << p.crs << " " << p.lon << " " << p.lat;
    double lon, lat;
    ASSERT_TRUE(t.inverse(x, y, lon, lat));
    EXPECT_LT(std::fabs(lon - p.lon), 1e-9) << p.crs;
    EXPECT_LT(std::fabs(lat - p.lat), 1e-9) << p.crs;
  }
}

TEST(Transformer, RejectsGeographicUnknownAndNonMetreCrs) {
  try {
    Transformer t("EPSG:4326");
    FAIL() << "geographic CRS accepted";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("EPSG:4326"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Transformer("EPSG:999999"), InvalidInput);
  EXPECT_THROW(Transformer("not a crs"), InvalidInput);
  EXPECT_THROW(Transformer(""), InvalidInput);
  try {
    Transformer t("EPSG:2263");  // NAD83 / New York Long Island (ftUS)
    FAIL() << "foot-based CRS accepted";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("EPSG:2263"), std::string::npos) << e.what();
  }
}

TEST(Transformer, WktMovesAndFailures) {
  Transformer a("EPSG:32650");
  EXPECT_EQ(a.crs(), "EPSG:32650");
  EXPECT_NE(a.wkt().find("UTM zone 50N"), std::string::npos);
  Transformer b(std::move(a));
  double x, y;
  ASSERT_TRUE(b.forward(120.04, 28.89, x, y));
  EXPECT_NEAR(x, 796483.4334, 1e-3);
  Transformer c("EPSG:32651");
  c = std::move(b);
  EXPECT_EQ(c.crs(), "EPSG:32650");
  // A latitude beyond the pole cannot be transformed: false and NaN, no exception.
  EXPECT_FALSE(c.forward(120.0, 95.0, x, y));
  EXPECT_TRUE(std::isnan(x) && std::isnan(y));
  // The transformer still works after a failure.
  ASSERT_TRUE(c.forward(120.04, 28.89, x, y));
  EXPECT_NEAR(y, 3199600.9556, 1e-3);
}

TEST(Transformer, OneTransformerPerThread) {
  const auto pts = load_fixture();
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::vector<Transformer> mine;
      for (const auto& p : pts) mine.emplace_back(p.crs);
      for (int rep = 0; rep < 200; ++rep)
        for (std::size_t i = 0; i < pts.size(); ++i) {
          double x, y;
          if (!mine[i].forward(pts[i].lon, pts[i].lat, x, y) || std::fabs(x - pts[i].x) > 1e-3 ||
              std::fabs(y - pts[i].y) > 1e-3)
            ++mismatches[t];
        }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace plumetrace

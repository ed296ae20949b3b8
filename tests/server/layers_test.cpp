// GET /api/v1/cases/{case}/layers/{layer}.geojson through the real server: the case's vector
// layers in EPSG:4326 as read by the project's readers, with a strong ETag and 304.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "case_helpers.hpp"
#include "http_client.hpp"

namespace {

using plumetrace::test::HttpClient;
using plumetrace::test::HttpResult;
using plumetrace::test::ServerProcess;
using namespace plumetrace::test::cases;

TEST(Layers, VectorLayersAsGeoJsonWithETag) {
  ServerProcess server(fresh_dir("layers"));
  const int port = server.port();
  upload_example(port, "lx");
  HttpClient c(port);
  auto get = [&](const std::string& layer, const std::map<std::string, std::string>& h = {}) {
    return c.request(verb::get, "/api/v1/cases/lx/layers/" + layer + ".geojson", "", h);
  };

  const HttpResult st = get("stations");
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_EQ(st.header("content-type"), "application/geo+json");
  const json stations = json::parse(st.body);
  EXPECT_EQ(stations.at("type"), "FeatureCollection");
  ASSERT_EQ(stations.at("features").size(), 8u);  // stations.csv's 8 rows
  const json& m01 = stations["features"][0];
  EXPECT_EQ(m01.at("properties").at("id"), "M01");
  EXPECT_EQ(m01.at("geometry").at("type"), "Point");
  EXPECT_DOUBLE_EQ(m01["geometry"]["coordinates"][0].get<double>(), 120.148456);  // lon first
  EXPECT_DOUBLE_EQ(m01["geometry"]["coordinates"][1].get<double>(), 28.807119);

  // sources, also under the name facilities
  const json sources = json::parse(get("sources").body);
  EXPECT_EQ(sources.at("features").size(), 22u);
  EXPECT_EQ(json::parse(get("facilities").body).at("features"), sources.at("features"));
  EXPECT_FALSE(sources["features"][0]["properties"].at("name").get<std::string>().empty());

  // traces: every trace, or one by name, as a line
  const json traces = json::parse(get("traces").body);
  ASSERT_EQ(traces.at("features").size(), 1u);
  EXPECT_EQ(traces["features"][0]["geometry"].at("type"), "LineString");
  EXPECT_GT(traces["features"][0]["geometry"]["coordinates"].size(), 10u);
  EXPECT_EQ(traces["features"][0]["properties"].at("name"), "car_01");
  EXPECT_EQ(get("traces/car_01").status, 200);

  // boundaries: polygons with code and name, in lon/lat
  const json b = json::parse(get("boundaries").body);
  ASSERT_GT(b.at("features").size(), 50u);
  const json& f = b["features"][0];
  EXPECT_EQ(f["geometry"].at("type"), "MultiPolygon");
  EXPECT_FALSE(f["properties"].at("code").get<std::string>().empty());
  const double lon = f["geometry"]["coordinates"][0][0][0][0].get<double>();
  EXPECT_GT(lon, 117.0);
  EXPECT_LT(lon, 124.0);

  // strong ETag and 304; a changed file changes it
  const std::string etag = st.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(get("stations", {{"If-None-Match", etag}}).status, 304);
  ASSERT_EQ(c.request(verb::put, "/api/v1/cases/lx/files/stations.csv",
                      slurp(kCase / "stations.csv") + "M99,station M99,120.1,28.8,5\n").status, 200);
  const HttpResult changed = get("stations", {{"If-None-Match", etag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.header("etag"), etag);
  EXPECT_EQ(json::parse(changed.body).at("features").size(), 9u);

  // unknown layer, unknown case
  EXPECT_EQ(get("nope").status, 404);
  EXPECT_EQ(get("traces/none").status, 404);
  EXPECT_EQ(c.request(verb::get, "/api/v1/cases/nocase/layers/stations.geojson").status, 404);
}

}  // namespace

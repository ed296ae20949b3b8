// TileJSON 3.0.0 documents.

#include "plumetrace/render/tilejson.hpp"

#include <gtest/gtest.h>

namespace plumetrace {
namespace {

TEST(TileJson, HasTheSpecsFields) {
  TileJsonInfo info;
  info.name = "posterior";
  info.tiles_url = "https://example.org/tiles/c1/j1:posterior/{z}/{x}/{y}.png?colormap_name=magma";
  info.bounds = {119.0, 28.4, 119.6, 28.9};
  info.min_zoom = 9;
  info.max_zoom = 14;
  const nlohmann::json j = tilejson_document(info);
  EXPECT_EQ(j["tilejson"], "3.0.0");
  EXPECT_EQ(j["name"], "posterior");
  ASSERT_EQ(j["tiles"].size(), 1u);
  EXPECT_EQ(j["tiles"][0], info.tiles_url);
  EXPECT_EQ(j["scheme"], "xyz");
  EXPECT_EQ(j["bounds"], nlohmann::json({119.0, 28.4, 119.6, 28.9}));
  EXPECT_DOUBLE_EQ(j["center"][0].get<double>(), 119.3);
  EXPECT_DOUBLE_EQ(j["center"][1].get<double>(), 28.65);
  EXPECT_EQ(j["center"][2], 9);
  EXPECT_EQ(j["minzoom"], 9);
  EXPECT_EQ(j["maxzoom"], 14);
}

}  // namespace
}  // namespace plumetrace

// The tile cache: least-recently-used eviction within a byte budget, stale renders dropped, and
// through the real server: a cached tile keeps its strong ETag, answers 304 and HEAD, and goes
// with its job.

#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "case_helpers.hpp"
#include "http_client.hpp"
#include "plumetrace/server/tile_cache.hpp"

namespace {

using plumetrace::server::CachedTile;
using plumetrace::server::TileCache;
using plumetrace::test::http_request;
using plumetrace::test::HttpResult;
using plumetrace::test::ServerProcess;
using namespace plumetrace::test::cases;

std::shared_ptr<const CachedTile> tile(std::size_t bytes, const std::string& etag = "\"e\"") {
  return std::make_shared<const CachedTile>(CachedTile{std::string(bytes, 'x'), etag, "no-cache"});
}

TEST(TileCache, EvictsLeastRecentlyUsedWithinTheByteBudget) {
  const std::size_t one = TileCache::cost("a", *tile(1000));
  TileCache c(3 * one);  // room for three tiles of 1000 bytes under one-letter keys
  c.put("a", tile(1000), c.generation());
  c.put("b", tile(1000), c.generation());
  c.put("c", tile(1000), c.generation());
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.bytes(), 3 * one);
  ASSERT_TRUE(c.get("a"));  // a is now the most recent: b is the oldest
  c.put("d", tile(1000), c.generation());
  EXPECT_EQ(c.size(), 3u);
  EXPECT_FALSE(c.get("b"));
  EXPECT_TRUE(c.get("a"));
  EXPECT_TRUE(c.get("c"));
  EXPECT_TRUE(c.get("d"));
  EXPECT_LE(c.bytes(), c.max_bytes());
  // a big tile pushes out as many as it needs, oldest first
  c.put("e", tile(2000), c.generation());
  EXPECT_LE(c.bytes(), c.max_bytes());
  EXPECT_TRUE(c.get("e"));
  EXPECT_EQ(c.size(), 2u);
  // a tile larger than the whole budget is not kept and evicts nothing
  c.put("huge", tile(10 * one), c.generation());
  EXPECT_FALSE(c.get("huge"));
  EXPECT_EQ(c.size(), 2u);
}

TEST(TileCache, ReplacingAKeyKeepsTheAccountRight) {
  TileCache c(1 << 20);
  c.put("k", tile(5000, "\"1\""), c.generation());
  c.put("k", tile(100, "\"2\""), c.generation());
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.bytes(), TileCache::cost("k", *tile(100, "\"2\"")));
  EXPECT_EQ(c.get("k")->etag, "\"2\"");
}

TEST(TileCache, EraseByPrefixAndStaleRendersAreDropped) {
  TileCache c(1 << 20);
  c.put("ex/imagery/a/1/0/0.png", tile(10), c.generation());
  c.put("ex2/imagery/a/1/0/0.png", tile(10), c.generation());
  const auto before = c.generation();  // a render starts...
  c.erase_prefix("ex/");                // ...an upload to the case happens...
  c.put("ex/imagery/a/2/0/0.png", tile(10), before);  // ...its result is not kept
  EXPECT_FALSE(c.get("ex/imagery/a/1/0/0.png"));
  EXPECT_FALSE(c.get("ex/imagery/a/2/0/0.png"));
  EXPECT_TRUE(c.get("ex2/imagery/a/1/0/0.png"));
  EXPECT_EQ(c.size(), 1u);
}

TEST(TileCache, ZeroBytesDisablesIt) {
  TileCache c(0);
  EXPECT_FALSE(c.enabled());
  c.put("a", tile(1), c.generation());
  EXPECT_FALSE(c.get("a"));
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(TileCache, CachedTilesKeepTheirETagAnd304ThroughTheServer) {
  const fs::path data = fresh_dir("tilecache");
  std::string tile_url, etag, png;
  {
    ServerProcess server(data, {"--tile-cache-mb", "8"});
    const int port = server.port();
    upload_example(port, "tc");
    const std::string id = submit(port, "tc");
    ASSERT_EQ(wait_job(port, id).at("status"), "successful");
    const json tj = json::parse(http_request(port, verb::get, "/tiles/tc/" + id + ":posterior/tilejson.json").body);
    const int z = tj.at("maxzoom").get<int>() - 1;
    const auto& b = tj.at("bounds");
    const double lon = (b[0].get<double>() + b[2].get<double>()) / 2, lat = (b[1].get<double>() + b[3].get<double>()) / 2;
    const double n = std::pow(2.0, z), r = lat * M_PI / 180;
    const int x = static_cast<int>((lon + 180) / 360 * n);
    const int y = static_cast<int>((1 - std::asinh(std::tan(r)) / M_PI) / 2 * n);
    tile_url = "/tiles/tc/" + id + ":posterior/" + std::to_string(z) + "/" + std::to_string(x) + "/" + std::to_string(y) +
               ".png?colormap_name=magma";
    const HttpResult first = http_request(port, verb::get, tile_url);   // rendered, then kept
    const HttpResult second = http_request(port, verb::get, tile_url);  // from the cache
    ASSERT_EQ(first.status, 200);
    ASSERT_EQ(second.status, 200);
    EXPECT_EQ(first.body, second.body);
    EXPECT_GT(first.body.size(), 100u);
    etag = first.header("etag");
    png = first.body;
    EXPECT_EQ(second.header("etag"), etag);
    EXPECT_EQ(second.header("cache-control"), first.header("cache-control"));
    EXPECT_EQ(second.header("content-type"), "image/png");
    const HttpResult not_modified = http_request(port, verb::get, tile_url, "", {{"If-None-Match", etag}});
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_EQ(not_modified.header("etag"), etag);
    EXPECT_TRUE(not_modified.body.empty());
    const HttpResult head = http_request(port, verb::head, tile_url);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("content-length"), std::to_string(png.size()));
    EXPECT_TRUE(head.body.empty());
    // another colormap is another tile
    const HttpResult viridis = http_request(port, verb::get, tile_url.substr(0, tile_url.find('?')) + "?colormap_name=viridis");
    EXPECT_EQ(viridis.status, 200);
    EXPECT_NE(viridis.header("etag"), etag);
    // a dismissed job's cached tiles go with it
    EXPECT_EQ(http_request(port, verb::delete_, "/jobs/" + id).status, 200);
    EXPECT_EQ(http_request(port, verb::get, tile_url).status, 404);
  }
  {
    // without a cache: rendered every time, still a strong ETag and 304
    const fs::path data2 = fresh_dir("tilecache_off");
    ServerProcess server(data2, {"--tile-cache-mb", "0"});
    const int port = server.port();
    upload_example(port, "tc");
    const std::string id = submit(port, "tc");
    ASSERT_EQ(wait_job(port, id).at("status"), "successful");
    const std::string url = tile_url.substr(0, tile_url.find(":posterior") - 32) + id +
                            tile_url.substr(tile_url.find(":posterior"));
    const HttpResult a = http_request(port, verb::get, url);
    const HttpResult b = http_request(port, verb::get, url, "", {{"If-None-Match", a.header("etag")}});
    EXPECT_EQ(a.status, 200);
    EXPECT_GT(a.body.size(), 100u);
    EXPECT_EQ(b.status, 304);
  }
}

}  // namespace

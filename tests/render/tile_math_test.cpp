// Web-Mercator tile arithmetic against published values (mercantile's documented examples, the
// OSM slippy-map formulas) and gdal2tiles' zoom choice.

#include "plumetrace/render/tile_math.hpp"

#include <gtest/gtest.h>

namespace plumetrace {
namespace {

/// Both boxes of tile t equal the expected ones (metres to 1 um, degrees to 1e-9).
void expect_tile_boxes(const TileId& t, const MercatorBox& m, const LonLatBox& g) {
  const MercatorBox b = tile_box_3857(t);
  EXPECT_NEAR(b.min_x_m, m.min_x_m, 1e-6);
  EXPECT_NEAR(b.min_y_m, m.min_y_m, 1e-6);
  EXPECT_NEAR(b.max_x_m, m.max_x_m, 1e-6);
  EXPECT_NEAR(b.max_y_m, m.max_y_m, 1e-6);
  const LonLatBox d = tile_box_lonlat(t);
  EXPECT_NEAR(d.west_deg, g.west_deg, 1e-9);
  EXPECT_NEAR(d.south_deg, g.south_deg, 1e-9);
  EXPECT_NEAR(d.east_deg, g.east_deg, 1e-9);
  EXPECT_NEAR(d.north_deg, g.north_deg, 1e-9);
}

TEST(TileMath, ZoomZeroIsTheWholeMercatorSquare) {
  const double h = 20037508.342789244;
  expect_tile_boxes({0, 0, 0}, {-h, -h, h, h}, {-180.0, -85.0511287798066, 180.0, 85.0511287798066});
}

TEST(TileMath, KnownTileBounds) {
  // mercantile's README tile 486/332/10: lon/lat edges by the OSM slippy-map formula
  // lat = atan(sinh(pi * (1 - 2 y / 2^z))), metres as in mercantile.xy_bounds
  expect_tile_boxes({10, 486, 332}, {-1017529.7205322663, 7005300.768279833, -978393.962050256, 7044436.526761846},
                    {-9.140625, 53.120405283106564, -8.7890625, 53.33087298301705});
}

TEST(TileMath, TileContaining) {
  EXPECT_EQ(tile_containing(-105.0, 40.0, 1), (TileId{1, 0, 0}));  // mercantile.tile(-105, 40, 1)
  EXPECT_EQ(tile_containing(0.0, 0.0, 1), (TileId{1, 1, 1}));
  // the OSM wiki's slippy-map formula: x = (lon+180)/360 * 2^z, y = (1 - asinh(tan(lat))/pi)/2 * 2^z
  EXPECT_EQ(tile_containing(11.5755, 48.1372, 13), (TileId{13, 4359, 2842}));
  // the world's corners stay on the grid
  EXPECT_EQ(tile_containing(180.0, -90.0, 3), (TileId{3, 7, 7}));
  EXPECT_EQ(tile_containing(-180.0, 90.0, 3), (TileId{3, 0, 0}));
}

TEST(TileMath, LonLatMercatorRoundTrip) {
  for (double lon : {-179.9, -45.0, 0.0, 119.3, 179.9})
    for (double lat : {-85.0, -30.0, 0.0, 28.7, 85.0}) {
      double x = 0, y = 0, lon2 = 0, lat2 = 0;
      lonlat_to_3857(lon, lat, x, y);
      mercator_to_lonlat(x, y, lon2, lat2);
      EXPECT_NEAR(lon2, lon, 1e-9);
      EXPECT_NEAR(lat2, lat, 1e-9);
    }
  double x = 0, y = 0;
  lonlat_to_3857(180.0, 0.0, x, y);
  EXPECT_NEAR(x, kMercatorHalfWorldM, 1e-6);
}

TEST(TileMath, PixelSizesAndGdal2tilesZoom) {
  EXPECT_NEAR(tile_pixel_size_m(0), 156543.03392804097, 1e-6);
  EXPECT_NEAR(tile_pixel_size_m(10), 152.8740565703525, 1e-9);
  EXPECT_EQ(zoom_for_pixel_size(100.0), 10);      // z 11 (76 m) would upsample 100 m pixels
  EXPECT_EQ(zoom_for_pixel_size(152.0), 10);
  EXPECT_EQ(zoom_for_pixel_size(153.0), 9);
  EXPECT_EQ(zoom_for_pixel_size(1e7), 0);
  EXPECT_EQ(zoom_for_pixel_size(1e-6), kMaxTileZoom);
}

TEST(TileMath, TilesCoveringABox) {
  const TileRange world = tiles_covering({-180, -85, 180, 85}, 2);
  EXPECT_EQ(world.count(), 16);
  // a box that is exactly one tile covers that tile only
  const LonLatBox one = tile_box_lonlat({10, 486, 332});
  const TileRange r = tiles_covering(one, 10);
  EXPECT_EQ(r.count(), 1);
  EXPECT_EQ(r.min_x, 486);
  EXPECT_EQ(r.min_y, 332);
  // the same box at the next zoom: 2 x 2
  EXPECT_EQ(tiles_covering(one, 11).count(), 4);
  EXPECT_TRUE(is_valid_tile({0, 0, 0}));
  EXPECT_FALSE(is_valid_tile({1, 2, 0}));
  EXPECT_FALSE(is_valid_tile({-1, 0, 0}));
  EXPECT_FALSE(is_valid_tile({kMaxTileZoom + 1, 0, 0}));
}

}  // namespace
}  // namespace plumetrace

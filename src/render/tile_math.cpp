#include "plumetrace/render/tile_math.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

namespace plumetrace {

namespace {

constexpr double kDegToRad = std::numbers::pi / 180.0;

/// Number of tiles per side at zoom z.
constexpr std::int64_t tiles_per_side(int z) noexcept { return std::int64_t{1} << z; }

/// Tile column (fractional) of an x in metres at zoom z.
double column_of(double x_m, int z) noexcept {
  return (x_m + kMercatorHalfWorldM) / (2.0 * kMercatorHalfWorldM) * static_cast<double>(tiles_per_side(z));
}

/// Tile row (fractional) of a y in metres at zoom z.
double row_of(double y_m, int z) noexcept {
  return (kMercatorHalfWorldM - y_m) / (2.0 * kMercatorHalfWorldM) * static_cast<double>(tiles_per_side(z));
}

/// Box edges within this many tiles of a tile edge are on it (a tile's own box, through degrees and
/// back, lands ~1e-10 tiles off): 1e-7 tiles is 0.24 micrometres at z 24.
constexpr double kEdgeToleranceTiles = 1e-7;

int clamp_index(double v, int z) noexcept {
  const double last = static_cast<double>(tiles_per_side(z) - 1);
  return static_cast<int>(std::clamp(std::floor(v), 0.0, last));
}

}  // namespace

bool is_valid_tile(const TileId& t) noexcept {
  if (t.z < 0 || t.z > kMaxTileZoom) return false;
  const std::int64_t n = tiles_per_side(t.z);
  return t.x >= 0 && t.y >= 0 && t.x < n && t.y < n;
}

double tile_pixel_size_m(int z) noexcept {
  assert(z >= 0 && z <= kMaxTileZoom);
  return 2.0 * kMercatorHalfWorldM / (static_cast<double>(kTileSizePx) * static_cast<double>(tiles_per_side(z)));
}

MercatorBox tile_box_3857(const TileId& t) noexcept {
  assert(is_valid_tile(t));
  const double size_m = 2.0 * kMercatorHalfWorldM / static_cast<double>(tiles_per_side(t.z));
  MercatorBox b;
  b.min_x_m = -kMercatorHalfWorldM + t.x * size_m;
  b.max_x_m = b.min_x_m + size_m;
  b.max_y_m = kMercatorHalfWorldM - t.y * size_m;
  b.min_y_m = b.max_y_m - size_m;
  return b;
}

LonLatBox tile_box_lonlat(const TileId& t) noexcept {
  const MercatorBox m = tile_box_3857(t);
  LonLatBox b;
  mercator_to_lonlat(m.min_x_m, m.min_y_m, b.west_deg, b.south_deg);
  mercator_to_lonlat(m.max_x_m, m.max_y_m, b.east_deg, b.north_deg);
  return b;
}

void lonlat_to_3857(double lon_deg, double lat_deg, double& x_m, double& y_m) noexcept {
  const double lat = std::clamp(lat_deg, -kMercatorMaxLatDeg, kMercatorMaxLatDeg) * kDegToRad;
  x_m = kMercatorRadiusM * lon_deg * kDegToRad;
  y_m = kMercatorRadiusM * std::log(std::tan(std::numbers::pi / 4.0 + lat / 2.0));
}

void mercator_to_lonlat(double x_m, double y_m, double& lon_deg, double& lat_deg) noexcept {
  lon_deg = x_m / kMercatorRadiusM / kDegToRad;
  lat_deg = (2.0 * std::atan(std::exp(y_m / kMercatorRadiusM)) - std::numbers::pi / 2.0) / kDegToRad;
}

TileId tile_containing(double lon_deg, double lat_deg, int z) noexcept {
  assert(z >= 0 && z <= kMaxTileZoom);
  double x_m = 0, y_m = 0;
  lonlat_to_3857(lon_deg, lat_deg, x_m, y_m);
  return TileId{z, clamp_index(column_of(x_m, z), z), clamp_index(row_of(y_m, z), z)};
}

TileRange tiles_covering(const LonLatBox& box, int z) noexcept {
  assert(z >= 0 && z <= kMaxTileZoom);
  assert(box.west_deg <= box.east_deg && box.south_deg <= box.north_deg);
  double west_m = 0, south_m = 0, east_m = 0, north_m = 0;
  lonlat_to_3857(box.west_deg, box.south_deg, west_m, south_m);
  lonlat_to_3857(box.east_deg, box.north_deg, east_m, north_m);
  TileRange r;
  r.z = z;
  r.min_x = clamp_index(column_of(west_m, z) + kEdgeToleranceTiles, z);
  r.min_y = clamp_index(row_of(north_m, z) + kEdgeToleranceTiles, z);
  // an east/south edge exactly on a tile boundary belongs to the tile before it
  const double east_col = column_of(east_m, z), south_row = row_of(south_m, z);
  r.max_x = std::max(r.min_x, clamp_index(std::ceil(east_col - kEdgeToleranceTiles) - 1.0, z));
  r.max_y = std::max(r.min_y, clamp_index(std::ceil(south_row - kEdgeToleranceTiles) - 1.0, z));
  return r;
}

int zoom_for_pixel_size(double pixel_size_m) noexcept {
  assert(pixel_size_m > 0);
  for (int z = 0; z <= kMaxTileZoom; ++z)
    if (pixel_size_m > tile_pixel_size_m(z)) return std::max(0, z - 1);
  return kMaxTileZoom;
}

}  // namespace plumetrace

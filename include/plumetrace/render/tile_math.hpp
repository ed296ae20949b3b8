#pragma once
/// @file tile_math.hpp
/// XYZ tile arithmetic on the Web-Mercator grid (EPSG:3857, "Google"/OSM tiling): zoom z has
/// 2^z x 2^z tiles of 256 x 256 pixels, x grows east from -180 deg, y grows south from the
/// northern limit (~85.0511 deg). Spherical Mercator on the WGS 84 semi-major axis.

#include <cstdint>

namespace plumetrace {

/// Pixels along each side of a tile.
inline constexpr int kTileSizePx = 256;
/// Deepest zoom we render: 2^24 tiles per side is ~2.4 mm/px at the equator, far past any raster.
inline constexpr int kMaxTileZoom = 24;
/// WGS 84 semi-major axis, the sphere radius of EPSG:3857 (metres).
inline constexpr double kMercatorRadiusM = 6378137.0;
/// Half the width of the Mercator square, pi * R (metres): x and y run over [-this, this].
inline constexpr double kMercatorHalfWorldM = 20037508.342789244;
/// Latitude of the Mercator square's north/south edges (degrees).
inline constexpr double kMercatorMaxLatDeg = 85.0511287798066;

/// One XYZ tile.
struct TileId {
  int z{};  ///< zoom level, 0 .. kMaxTileZoom
  int x{};  ///< column, 0 .. 2^z - 1, west to east
  int y{};  ///< row, 0 .. 2^z - 1, north to south
  friend bool operator==(const TileId&, const TileId&) = default;
};

/// An axis-aligned box in EPSG:3857 metres.
struct MercatorBox {
  double min_x_m{}, min_y_m{}, max_x_m{}, max_y_m{};
};

/// An axis-aligned box in WGS 84 degrees (west < east, no antimeridian crossing).
struct LonLatBox {
  double west_deg{}, south_deg{}, east_deg{}, north_deg{};
};

/// An inclusive range of tile columns and rows at one zoom.
struct TileRange {
  int z{};
  int min_x{}, min_y{}, max_x{}, max_y{};
  /// Number of tiles in the range (0 when empty).
  [[nodiscard]] std::int64_t count() const noexcept {
    if (max_x < min_x || max_y < min_y) return 0;
    return static_cast<std::int64_t>(max_x - min_x + 1) * (max_y - min_y + 1);
  }
};

/// True when z is in [0, kMaxTileZoom] and x, y in [0, 2^z). Validate client tiles with this.
[[nodiscard]] bool is_valid_tile(const TileId& t) noexcept;

/// Ground size of one tile pixel at zoom z along the Mercator x axis (metres per pixel, EPSG:3857
/// units; true ground size is this times cos(latitude)). @pre 0 <= z <= kMaxTileZoom.
[[nodiscard]] double tile_pixel_size_m(int z) noexcept;

/// The tile's extent in EPSG:3857 metres. @pre is_valid_tile(t).
[[nodiscard]] MercatorBox tile_box_3857(const TileId& t) noexcept;

/// The tile's extent in WGS 84 degrees. @pre is_valid_tile(t).
[[nodiscard]] LonLatBox tile_box_lonlat(const TileId& t) noexcept;

/// WGS 84 degrees -> EPSG:3857 metres (latitude clamped to +-kMercatorMaxLatDeg).
void lonlat_to_3857(double lon_deg, double lat_deg, double& x_m, double& y_m) noexcept;

/// EPSG:3857 metres -> WGS 84 degrees.
void mercator_to_lonlat(double x_m, double y_m, double& lon_deg, double& lat_deg) noexcept;

/// The tile at zoom z containing (lon, lat); points on the world's edge go to the last tile.
/// @pre 0 <= z <= kMaxTileZoom.
[[nodiscard]] TileId tile_containing(double lon_deg, double lat_deg, int z) noexcept;

/// Every tile at zoom z that touches `box` (a box edge exactly on a tile edge does not reach over it).
/// @pre 0 <= z <= kMaxTileZoom, box.west_deg <= box.east_deg, box.south_deg <= box.north_deg.
[[nodiscard]] TileRange tiles_covering(const LonLatBox& box, int z) noexcept;

/// gdal2tiles' choice of zoom for a pixel size: the deepest zoom whose pixels are not smaller than
/// `pixel_size_m` (EPSG:3857 metres), i.e. no upsampling; 0 when even zoom 0 is finer.
/// @pre pixel_size_m > 0.
[[nodiscard]] int zoom_for_pixel_size(double pixel_size_m) noexcept;

}  // namespace plumetrace

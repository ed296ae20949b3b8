#pragma once
/// @file tile_renderer.hpp
/// XYZ tiles (EPSG:3857, 256 x 256 RGBA PNG) rendered from one band of any georeferenced raster.
///
/// Resampling (per tile, from the ratio s = source pixels per tile pixel at the tile):
/// - s <= 1 (zoomed in): bilinear over the valid neighbours; a tile pixel is transparent when the
///   source pixel under its centre is nodata, so data edges stay where the data ends;
/// - s > 1 (zoomed out): the finest overview level whose decimation does not exceed s is read, then
///   each tile pixel is the area-weighted mean of the source pixels under its footprint, opaque
///   when at least half the footprint is valid data. Without a fitting overview and s > 4 on the
///   level, GDAL's nodata-aware average first reduces the window by an integer factor.
/// Tile pixel -> source pixel goes through PROJ (OGR coordinate transformation) exactly on a 9 x 9
/// grid of every 32nd pixel and bilinearly in between, checked at every cell's centre: a cell whose
/// interpolation error exceeds 1/8 source pixel (or 1/8 tile pixel when zoomed out) is transformed
/// pixel by pixel (GDAL's approximate-transformer rule).
///
/// Thread safety: every const member may be called from many threads at once. GDAL datasets are not
/// thread-safe: each concurrent render takes a private dataset handle and transformation from a
/// pool (opened on first need, kept for reuse).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plumetrace/render/colormap.hpp"
#include "plumetrace/render/raster_source.hpp"
#include "plumetrace/render/tile_math.hpp"

namespace plumetrace {

/// How a band is drawn (TiTiler's `bidx`, `rescale`, `colormap_name`).
struct TileStyle {
  int band = 1;                        ///< 1-based band index
  std::optional<Rescale> rescale;      ///< value range drawn from colour 0 to 255; default: band min/max
  std::string colormap_name = "viridis";
};

/// One rendered tile: kTileSizePx^2 RGBA pixels, rows north to south; nodata and outside the
/// raster are (0, 0, 0, 0).
struct TileImage {
  std::vector<std::uint8_t> rgba;
  bool any_opaque = false;  ///< false when the whole tile is transparent
};

/// A raster opened for tiling, with what is expensive computed once: georeferencing, footprint,
/// default zooms, band ranges, and a pool of per-thread dataset handles and transformations.
class TileRenderer {
 public:
  /// Open `raster` (open_raster_checked) and read its georeferencing.
  /// @throws InvalidInput "FILE: reason" when it is refused, has no geotransform or no CRS, or its
  /// footprint cannot be projected to Web Mercator.
  explicit TileRenderer(const std::filesystem::path& raster, const RasterLimits& limits = {});
  ~TileRenderer();
  TileRenderer(const TileRenderer&) = delete;
  TileRenderer& operator=(const TileRenderer&) = delete;

  /// Render tile `t` of `style`.
  /// @throws InvalidInput when the tile is not a valid z/x/y, the band does not exist or the
  /// colormap is unknown; Internal when GDAL fails to read pixels it advertised.
  [[nodiscard]] TileImage render(const TileId& t, const TileStyle& style) const;

  /// render() encoded as PNG (encode_png_rgba; a shared pre-encoded PNG for an empty tile).
  [[nodiscard]] std::string render_png(const TileId& t, const TileStyle& style) const;

  /// Whether tile `t` touches the raster's WGS 84 footprint box (cheap: no pixels read).
  [[nodiscard]] bool touches(const TileId& t) const noexcept;

  /// The raster's footprint in WGS 84 degrees (edges densified through PROJ).
  [[nodiscard]] const LonLatBox& bounds_lonlat() const noexcept { return bounds_; }
  /// The raster's pixel size in EPSG:3857 metres (diagonal of the footprint / diagonal in pixels).
  [[nodiscard]] double pixel_size_3857_m() const noexcept { return pixel_size_3857_m_; }
  /// gdal2tiles' default zooms: min = the whole raster in about one tile, max = no upsampling.
  [[nodiscard]] int default_min_zoom() const noexcept;
  [[nodiscard]] int default_max_zoom() const noexcept;
  /// Number of bands.
  [[nodiscard]] int band_count() const noexcept { return band_count_; }
  /// Identity of the file at open time (for ETags and cache keys).
  [[nodiscard]] const RasterIdentity& identity() const noexcept { return identity_; }

  /// The rescale used when a style gives none: the band's minimum and maximum over valid pixels
  /// (exact for rasters up to 16 M pixels, from overviews beyond), computed once per band;
  /// (lo, lo + 1) for a constant band, (0, 1) for an empty one.
  /// @throws InvalidInput when `band` does not exist.
  [[nodiscard]] Rescale default_rescale(int band) const;

  /// A strong HTTP ETag for tile `t` in `style` of this raster (tile_etag with identity()).
  [[nodiscard]] std::string etag(const TileId& t, const TileStyle& style) const;

 private:
  struct Worker;
  struct Shared;
  std::unique_ptr<Shared> shared_;
  RasterIdentity identity_;
  LonLatBox bounds_;
  double pixel_size_3857_m_ = 0;
  int band_count_ = 0;
};

/// A strong ETag (quoted, 16 hex digits) over the raster identity, the tile, the style and the
/// renderer's version: any change to the file, the tile or a parameter changes it.
[[nodiscard]] std::string tile_etag(const RasterIdentity& raster, const TileId& t, const TileStyle& style);

/// The PNG of a fully transparent tile (encoded once, shared).
[[nodiscard]] const std::string& empty_tile_png();

}  // namespace plumetrace

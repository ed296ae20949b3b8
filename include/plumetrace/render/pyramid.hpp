#pragma once
/// @file pyramid.hpp
/// A static XYZ pyramid: OUT_DIR/{z}/{x}/{y}.png for every tile touching a raster at each zoom, and
/// OUT_DIR/tilejson.json (`plumetrace tiles`, README "Command line").

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <utility>

#include "plumetrace/render/tile_renderer.hpp"

namespace plumetrace {

/// Most tiles one pyramid may have: 1 M tiles is ~10 GB of PNGs on busy data; deeper requests are
/// almost always a wrong --zoom.
inline constexpr std::int64_t kMaxPyramidTiles = 1'000'000;

/// What to write.
struct PyramidOptions {
  std::optional<int> min_zoom, max_zoom;  ///< default: the raster's (TileRenderer::default_*_zoom)
  TileStyle style;                        ///< band, rescale (default: band min/max), colormap
  int threads = 0;                        ///< worker threads, 0 = all cores
  RasterLimits limits;
};

/// What was written.
struct PyramidSummary {
  int min_zoom = 0, max_zoom = 0;
  std::int64_t tiles = 0;        ///< PNG files written
  std::int64_t empty_tiles = 0;  ///< of which fully transparent (in the bounds' tile range, no data)
};

/// Write the pyramid of `raster` under `out_dir` (created if needed; existing tiles overwritten).
/// Every tile of tiles_covering(bounds, z) is written, as gdal2tiles does, transparent where there
/// is no data. The tilejson's `tiles` URL is relative: "{z}/{x}/{y}.png".
/// @throws InvalidInput "FILE: reason" for a refused raster, a bad band, colormap or zoom range, or
/// more than kMaxPyramidTiles tiles; Internal when a tile cannot be written.
PyramidSummary write_tile_pyramid(const std::filesystem::path& raster, const std::filesystem::path& out_dir,
                                  const PyramidOptions& options);

/// Parse a zoom range "MIN-MAX" or a single zoom "Z" (0..kMaxTileZoom, MIN <= MAX).
/// @throws InvalidInput with the reason.
[[nodiscard]] std::pair<int, int> parse_zoom_range(std::string_view text);

}  // namespace plumetrace

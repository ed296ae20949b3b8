#include "plumetrace/render/pyramid.hpp"

#include <charconv>
#include <exception>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "plumetrace/core/error.hpp"
#include "plumetrace/core/parallel.hpp"
#include "plumetrace/render/png.hpp"
#include "plumetrace/render/tilejson.hpp"

namespace plumetrace {

namespace {

int parse_zoom(std::string_view s, std::string_view whole) {
  int z = -1;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), z);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || z < 0 || z > kMaxTileZoom)
    throw InvalidInput("zoom '" + std::string(whole) + "': '" + std::string(s) + "' is not a zoom 0.." +
                       std::to_string(kMaxTileZoom));
  return z;
}

void write_file(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Internal("cannot write " + file.string());
}

}  // namespace

std::pair<int, int> parse_zoom_range(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    const int z = parse_zoom(text, text);
    return {z, z};
  }
  const int lo = parse_zoom(text.substr(0, dash), text), hi = parse_zoom(text.substr(dash + 1), text);
  if (lo > hi) throw InvalidInput("zoom '" + std::string(text) + "': MIN must not exceed MAX");
  return {lo, hi};
}

PyramidSummary write_tile_pyramid(const std::filesystem::path& raster, const std::filesystem::path& out_dir,
                                  const PyramidOptions& options) {
  const TileRenderer renderer(raster, options.limits);
  PyramidSummary summary;
  summary.min_zoom = options.min_zoom.value_or(renderer.default_min_zoom());
  summary.max_zoom = options.max_zoom.value_or(std::max(summary.min_zoom, renderer.default_max_zoom()));
  if (summary.min_zoom < 0 || summary.max_zoom > kMaxTileZoom || summary.min_zoom > summary.max_zoom)
    throw InvalidInput("zoom range " + std::to_string(summary.min_zoom) + "-" + std::to_string(summary.max_zoom) +
                       " is not within 0-" + std::to_string(kMaxTileZoom) + " with MIN <= MAX");
  // resolve the style once: every tile shares one rescale; a bad band or colormap fails here
  TileStyle style = options.style;
  (void)colormap_by_name(style.colormap_name);
  if (style.band < 1 || style.band > renderer.band_count())
    throw InvalidInput(raster.string() + ": no band " + std::to_string(style.band) + " (it has " +
                       std::to_string(renderer.band_count()) + ")");
  if (!style.rescale) style.rescale = renderer.default_rescale(style.band);

  std::vector<TileId> tiles;
  std::int64_t total = 0;
  for (int z = summary.min_zoom; z <= summary.max_zoom; ++z) {
    const TileRange r = tiles_covering(renderer.bounds_lonlat(), z);
    total += r.count();
    if (total > kMaxPyramidTiles)
      throw InvalidInput(raster.string() + ": zoom " + std::to_string(summary.min_zoom) + "-" +
                         std::to_string(summary.max_zoom) + " needs more than " + std::to_string(kMaxPyramidTiles) +
                         " tiles; choose a smaller --zoom");
    for (int x = r.min_x; x <= r.max_x; ++x)
      for (int y = r.min_y; y <= r.max_y; ++y) tiles.push_back({z, x, y});
  }
  for (const TileId& t : tiles)
    if (t.y == tiles_covering(renderer.bounds_lonlat(), t.z).min_y)
      std::filesystem::create_directories(out_dir / std::to_string(t.z) / std::to_string(t.x));

  std::mutex failure_mutex;
  std::exception_ptr failure;
  std::vector<char> empty(tiles.size(), 0);
  parallel_for(tiles.size(), worker_threads(options.threads), [&](std::size_t i) {
    {
      std::lock_guard lock(failure_mutex);
      if (failure) return;
    }
    try {
      const TileId& t = tiles[i];
      const TileImage img = renderer.render(t, style);
      empty[i] = !img.any_opaque;
      write_file(out_dir / std::to_string(t.z) / std::to_string(t.x) / (std::to_string(t.y) + ".png"),
                 img.any_opaque ? encode_png_rgba(img.rgba, kTileSizePx, kTileSizePx) : empty_tile_png());
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  });
  if (failure) std::rethrow_exception(failure);
  summary.tiles = static_cast<std::int64_t>(tiles.size());
  for (char e : empty) summary.empty_tiles += e;

  TileJsonInfo info;
  info.name = raster.stem().string();
  info.tiles_url = "{z}/{x}/{y}.png";
  info.bounds = renderer.bounds_lonlat();
  info.min_zoom = summary.min_zoom;
  info.max_zoom = summary.max_zoom;
  write_file(out_dir / "tilejson.json", tilejson_document(info).dump(2) + "\n");
  return summary;
}

}  // namespace plumetrace

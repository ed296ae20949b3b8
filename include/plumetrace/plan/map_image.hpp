#pragma once
/// @file map_image.hpp
/// The plan's map image (README "plan"): a PNG in Web Mercator (EPSG:3857) of the area, drawn by
/// the project with no base map and no network: the posterior (log scale, GDAL-warped from the analysis
/// grid, bilinear), the administrative boundaries, the stations, every registered facility, the
/// search area, the route with its numbered stops, the start point and a scale bar.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/ingest/case.hpp"

namespace plumetrace::plan {

/// The image's longer side in pixels: an A4 page at ~150 dpi.
inline constexpr int kMapLongSidePx = 1200;
/// Margin around what the map must show, as a share of its span on each side.
inline constexpr double kMapPaddingShare = 0.08;
/// The smallest span the map shows, metres (Web Mercator), so a single stop is not a blur.
inline constexpr double kMapMinSpanM = 1000.0;
/// The posterior is coloured on a log scale over this many decades below its peak; lower cells
/// are left uncoloured. It spans many decades: on the demo case one facility's cell holds 0.93
/// while the unregistered-source share spreads over the grid at 1e-4 to 1e-6 of that per cell,
/// so a linear scale would show one dot under the first stop and nothing of where to search.
inline constexpr double kMapPosteriorDecades = 6.0;

struct MapInputs {
  const nlohmann::json* plan{};                 ///< build_plan's document (route, start)
  const nlohmann::json* ranking{};              ///< candidates as grey dots
  const BoundaryLayer* boundaries{};            ///< may be null
  const std::vector<Station>* stations{};       ///< may be null
  std::optional<std::filesystem::path> posterior;  ///< a georeferenced single-band raster
};

struct MapImage {
  std::string png;
  int width{}, height{};
  double west_deg{}, south_deg{}, east_deg{}, north_deg{};  ///< the image's WGS 84 box
  double scale_bar_m{};                                      ///< the scale bar's length
  bool posterior_drawn{};
};

/// Draw the map. @pre plan and ranking are set. @throws InvalidInput "FILE: reason" when the
/// posterior cannot be read or warped.
[[nodiscard]] MapImage render_plan_map(const MapInputs& in);

}  // namespace plumetrace::plan

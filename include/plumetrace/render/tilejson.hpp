#pragma once
/// @file tilejson.hpp
/// TileJSON 3.0.0 documents (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0) for a
/// raster tile layer.

#include <string>

#include <nlohmann/json.hpp>

#include "plumetrace/render/tile_math.hpp"

namespace plumetrace {

/// What a TileJSON document says about a layer.
struct TileJsonInfo {
  std::string name;           ///< human-readable layer name
  std::string tiles_url;      ///< URL template with {z}, {x}, {y} (may be relative to the document)
  LonLatBox bounds;           ///< data extent, WGS 84 degrees
  int min_zoom = 0, max_zoom = 0;
};

/// The TileJSON 3.0.0 document: `tilejson` "3.0.0", `name`, `tiles` [url], `scheme` "xyz", `bounds`
/// [west, south, east, north], `center` [lon, lat, min_zoom] (the middle of the bounds at the zoom
/// where the whole layer fits in about one tile), `minzoom`, `maxzoom`.
/// @pre info.min_zoom <= info.max_zoom.
[[nodiscard]] nlohmann::json tilejson_document(const TileJsonInfo& info);

}  // namespace plumetrace

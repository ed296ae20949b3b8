#include "plumetrace/render/tilejson.hpp"

#include <cassert>

namespace plumetrace {

nlohmann::json tilejson_document(const TileJsonInfo& info) {
  assert(info.min_zoom <= info.max_zoom);
  const LonLatBox& b = info.bounds;
  return nlohmann::json{
      {"tilejson", "3.0.0"},
      {"name", info.name},
      {"tiles", nlohmann::json::array({info.tiles_url})},
      {"scheme", "xyz"},
      {"bounds", {b.west_deg, b.south_deg, b.east_deg, b.north_deg}},
      {"center", {0.5 * (b.west_deg + b.east_deg), 0.5 * (b.south_deg + b.north_deg), info.min_zoom}},
      {"minzoom", info.min_zoom},
      {"maxzoom", info.max_zoom},
  };
}

}  // namespace plumetrace

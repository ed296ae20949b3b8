#pragma once
// A case's vector layers as GeoJSON in WGS 84 (EPSG:4326), for the map: GET
// /api/v1/cases/{case}/layers/{layer}.geojson. Private to the server room.

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "plumetrace/server/store.hpp"

namespace plumetrace::server {

/// One layer's GeoJSON and its strong ETag (over the stored files it was made from).
struct VectorLayer {
  std::shared_ptr<const std::string> geojson;
  std::string etag;
};

/// The vector layer names a case may have: "boundaries", "sources" (alias "facilities"),
/// "stations", "traces" (every trace), "traces/NAME".
/// Build the FeatureCollection of `layer` from the stored files through the project's readers
/// (the same rows a trace reads; rejected rows left out): boundaries as (Multi)Polygons with
/// `code`, `name`; sources as Points with `id`, `name`, `industry`, `height_m`, `jurisdiction`,
/// `pollutants`; stations as Points with `id`, `name`, `height_m`; traces as LineStrings with
/// `name`, `platform`, `samples`, `start`, `end`, `variables`.
/// @throws NotFound for an unknown case or layer, or a layer whose file is not stored.
[[nodiscard]] VectorLayer make_vector_layer(Store& store, const std::string& case_name, const std::string& layer);

/// make_vector_layer with the last few answers kept (reused while their files are unchanged).
class VectorLayerCache {
 public:
  [[nodiscard]] VectorLayer get(Store& store, const std::string& case_name, const std::string& layer);

 private:
  static constexpr std::size_t kMax = 16;
  std::mutex mu_;
  std::list<std::pair<std::string, VectorLayer>> recent_;  ///< key: case, layer and file hashes
};

}  // namespace plumetrace::server

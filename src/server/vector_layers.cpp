#include "vector_layers.hpp"

#include <nlohmann/json.hpp>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/diagnostics.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/ingest/readers.hpp"
#include "plumetrace/server/cases.hpp"

namespace plumetrace::server {
namespace {

using nlohmann::json;

json point(double lon, double lat) { return {{"type", "Point"}, {"coordinates", {lon, lat}}}; }

json feature(json geometry, json properties) {
  return {{"type", "Feature"}, {"geometry", std::move(geometry)}, {"properties", std::move(properties)}};
}

bool is_csv(const std::string& path) { return path.ends_with(".csv"); }

/// The stored files a layer is made from (with case.json, which sets fields and time zone).
std::vector<StoredFile> layer_files(Store& store, const std::string& case_name, const std::string& layer) {
  std::vector<StoredFile> out;
  auto first_of = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (auto f = store.file(case_name, n)) return out.push_back(*f), true;
    return false;
  };
  if (layer == "boundaries") {
    const CaseSettings settings = stored_settings(store, case_name);
    if (!settings.boundaries.file.empty())
      if (auto f = store.file(case_name, settings.boundaries.file)) out.push_back(*f);
    if (out.empty()) first_of({"boundaries.geojson", "boundaries.json", "boundaries.gpkg"});
  } else if (layer == "sources" || layer == "facilities") {
    first_of({"sources.csv", "sources.geojson", "sources.gpkg"});
  } else if (layer == "stations") {  // fixed stations and open paths
    first_of({"stations.csv"});
    first_of({"paths.csv"});
  } else if (layer == "traces" || layer.starts_with("traces/")) {
    for (const StoredFile& f : store.files(case_name)) {
      if (!f.path.starts_with("traces/")) continue;
      const std::string stem = f.path.substr(0, f.path.rfind('.'));
      if (layer == "traces" || layer == stem) out.push_back(f);
    }
    if (layer == "traces") return out;  // an empty collection when the case has no trace
  }
  if (out.empty()) throw NotFound("no layer '" + layer + "' in case '" + case_name + "'");
  return out;
}

json boundaries_features(Store& store, const StoredFile& f, const CaseSettings& settings) {
  Diagnostics diag;
  const auto layer = read_boundaries(store.blob_path(f.sha256), f.path, settings.boundaries.code_field,
                                     settings.boundaries.name_field, diag);
  json out = json::array();
  if (!layer) return out;
  for (const BoundaryFeature& b : layer->features) {
    json polys = json::array();
    for (const auto& poly : b.polygons) {
      json rings = json::array();
      for (const auto& ring : poly) {
        json r = json::array();
        for (const auto& [lon, lat] : ring) r.push_back({lon, lat});
        if (!ring.empty() && ring.front() != ring.back()) r.push_back({ring.front().first, ring.front().second});
        rings.push_back(std::move(r));
      }
      polys.push_back(std::move(rings));
    }
    out.push_back(feature({{"type", "MultiPolygon"}, {"coordinates", std::move(polys)}},
                          {{"code", b.code}, {"name", b.name}}));
  }
  return out;
}

json sources_features(Store& store, const StoredFile& f) {
  Diagnostics diag;
  std::vector<Source> sources;
  if (is_csv(f.path)) {
    CsvReader csv = CsvReader::from_string(read_blob(store, f.sha256));
    sources = read_sources_csv(csv, f.path, diag);
  } else {
    sources = read_sources_ogr(store.blob_path(f.sha256), f.path, diag);
  }
  json out = json::array();
  for (const Source& s : sources)
    out.push_back(feature(point(s.lon, s.lat), {{"id", s.id},
                                                {"name", s.name},
                                                {"industry", s.industry},
                                                {"height_m", s.height_m},
                                                {"jurisdiction", s.jurisdiction},
                                                {"pollutants", s.pollutants}}));
  return out;
}

json stations_features(Store& store, const StoredFile& f) {
  Diagnostics diag;
  CsvReader csv = CsvReader::from_string(read_blob(store, f.sha256));
  json out = json::array();
  if (f.path == "paths.csv") {  // open paths: their beams
    for (const Station& s : read_paths_csv(csv, f.path, {}, diag))
      out.push_back(feature({{"type", "LineString"},
                             {"coordinates", {{s.lon, s.lat}, {s.path_end->first, s.path_end->second}}}},
                            {{"id", s.id}, {"name", s.name}, {"height_m", s.height_m}, {"kind", "open_path"}}));
    return out;
  }
  for (const Station& s : read_stations_csv(csv, f.path, diag))
    out.push_back(feature(point(s.lon, s.lat), {{"id", s.id}, {"name", s.name}, {"height_m", s.height_m}}));
  return out;
}

json trace_feature(Store& store, const StoredFile& f, const TimeZone& tz) {
  Diagnostics diag;
  const auto slash = f.path.find('/');
  const std::string name = f.path.substr(slash + 1, f.path.rfind('.') - slash - 1);
  Trace t;
  if (is_csv(f.path)) {
    CsvReader csv = CsvReader::from_string(read_blob(store, f.sha256));
    t = read_trace_csv(csv, f.path, name, tz, diag);
  } else {
    t = read_trace_ogr(store.blob_path(f.sha256), f.path, name, tz, diag);
  }
  json coords = json::array();
  for (std::size_t i = 0; i < t.size(); ++i) coords.push_back({t.lon[i], t.lat[i]});
  json props = {{"name", t.name}, {"file", f.path}, {"platform", t.platform}, {"samples", t.size()},
                {"variables", t.variables}};
  if (t.size() > 0) {
    props["start"] = format_iso8601(t.time_s.front(), tz);
    props["end"] = format_iso8601(t.time_s.back(), tz);
  }
  json geometry = t.size() == 1 ? point(t.lon[0], t.lat[0]) : json{{"type", "LineString"}, {"coordinates", coords}};
  return feature(std::move(geometry), std::move(props));
}

}  // namespace

VectorLayer make_vector_layer(Store& store, const std::string& case_name, const std::string& layer) {
  if (!store.case_exists(case_name)) throw NotFound("no case '" + case_name + "'");
  const std::vector<StoredFile> files = layer_files(store, case_name, layer);
  const CaseSettings settings = stored_settings(store, case_name);
  json features = json::array();
  for (const StoredFile& f : files) {
    json part;
    if (layer == "boundaries")
      part = boundaries_features(store, f, settings);
    else if (layer == "sources" || layer == "facilities")
      part = sources_features(store, f);
    else if (layer == "stations")
      part = stations_features(store, f);
    else
      part = json::array({trace_feature(store, f, TimeZone::parse(settings.timezone))});
    for (auto& x : part) features.push_back(std::move(x));
  }
  std::string hashes = layer;
  for (const StoredFile& f : files) hashes += "\n" + f.sha256;
  if (const auto cj = store.file(case_name, "case.json")) hashes += "\n" + cj->sha256;
  VectorLayer v;
  v.geojson = std::make_shared<const std::string>(
      json{{"type", "FeatureCollection"}, {"name", layer}, {"features", std::move(features)}}.dump());
  v.etag = "\"" + sha256_hex(hashes).substr(0, 16) + "\"";
  return v;
}

VectorLayer VectorLayerCache::get(Store& store, const std::string& case_name, const std::string& layer) {
  // the key names the files' hashes, so a cached answer is reused only while they are unchanged
  std::string key = case_name + "\n" + layer;
  if (!store.case_exists(case_name)) throw NotFound("no case '" + case_name + "'");
  for (const StoredFile& f : layer_files(store, case_name, layer)) key += "\n" + f.sha256;
  if (const auto cj = store.file(case_name, "case.json")) key += "\n" + cj->sha256;
  {
    std::lock_guard lock(mu_);
    for (auto it = recent_.begin(); it != recent_.end(); ++it)
      if (it->first == key) {
        recent_.splice(recent_.begin(), recent_, it);
        return it->second;
      }
  }
  VectorLayer v = make_vector_layer(store, case_name, layer);  // outside the lock
  std::lock_guard lock(mu_);
  recent_.emplace_front(key, v);
  if (recent_.size() > kMax) recent_.pop_back();
  return v;
}

}  // namespace plumetrace::server

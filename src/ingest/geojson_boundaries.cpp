/// A fast reader for the common case of a boundary file: a plain RFC 7946 GeoJSON
/// FeatureCollection of Polygon/MultiPolygon features with string code and name properties.
///
/// Why: GDAL's GeoJSON driver reads a file in two passes and builds a json-c tree; on the
/// 10 MB Zhejiang county layer that is ~0.5 s, more than half of a whole trace. One nlohmann::json
/// parse and a walk over the features take ~0.16 s. It answers only when the file is exactly that
/// common case; anything else (a "crs" member, a null or non-polygon geometry, a missing,
/// non-string or empty code or name, nesting that does not match the type, any syntax error)
/// makes it return nullopt and the caller reads the file with GDAL, which also words the
/// rejections. On files it accepts, the result equals GDAL's feature for feature and coordinate
/// for coordinate (tests/ingest/gdal_readers_test.cpp compares both on the bundled Zhejiang layer
/// and on damaged files).

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "ingest_util.hpp"

namespace plumetrace::ingest_detail {

namespace {

using json = nlohmann::json;
using Ring = std::vector<std::pair<double, double>>;
using Polygon = std::vector<Ring>;

/// A Polygon's coordinates: non-empty rings of [x, y(, z...)] positions (only x, y kept).
bool polygon(const json& rings, Polygon& out) {
  if (!rings.is_array() || rings.empty()) return false;
  for (const json& ring : rings) {
    if (!ring.is_array() || ring.empty()) return false;
    Ring r;
    r.reserve(ring.size());
    for (const json& pos : ring) {
      if (!pos.is_array() || pos.size() < 2) return false;
      for (const json& v : pos)
        if (!v.is_number()) return false;
      r.emplace_back(pos[0].get<double>(), pos[1].get<double>());
    }
    out.push_back(std::move(r));
  }
  return true;
}

/// One Feature; false when it is not the plain case.
bool feature(const json& f, const std::string& code_field, const std::string& name_field,
             BoundaryFeature& out) {
  if (!f.is_object() || f.value("type", json()) != "Feature") return false;
  const auto props = f.find("properties");
  const auto geom = f.find("geometry");
  if (props == f.end() || !props->is_object() || geom == f.end() || !geom->is_object()) return false;
  const auto code = props->find(code_field);
  const auto name = props->find(name_field);
  // numbers and nulls: GDAL's formatting and wording
  if (code == props->end() || !code->is_string() || name == props->end() || !name->is_string()) return false;
  out.code = std::string(trim_view(code->get_ref<const std::string&>()));
  out.name = name->get<std::string>();
  if (out.code.empty()) return false;
  const auto coords = geom->find("coordinates");
  if (coords == geom->end()) return false;
  const json type = geom->value("type", json());
  if (type == "Polygon") {
    Polygon p;
    if (!polygon(*coords, p)) return false;
    out.polygons.push_back(std::move(p));
  } else if (type == "MultiPolygon") {
    if (!coords->is_array() || coords->empty()) return false;
    for (const json& rings : *coords) {
      Polygon p;
      if (!polygon(rings, p)) return false;
      out.polygons.push_back(std::move(p));
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::optional<BoundaryLayer> read_plain_geojson_boundaries(const std::filesystem::path& path,
                                                           const std::string& code_field,
                                                           const std::string& name_field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string_view body(text);
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);  // BOM
  // Syntax errors and invalid UTF-8 give a discarded value instead of an exception.
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.value("type", json()) != "FeatureCollection" || doc.contains("crs"))
    return std::nullopt;  // a named CRS: GDAL transforms it
  const auto features = doc.find("features");
  if (features == doc.end() || !features->is_array() || features->empty()) return std::nullopt;
  // GDAL's default code field is adcode (else code, which is left to GDAL); the name field name.
  const std::string code = code_field.empty() ? "adcode" : code_field;
  const std::string name = name_field.empty() ? "name" : name_field;
  BoundaryLayer layer;
  layer.file = path.string();
  layer.features.reserve(features->size());
  for (const json& f : *features) {
    BoundaryFeature bf;
    if (!feature(f, code, name, bf)) return std::nullopt;
    layer.features.push_back(std::move(bf));
  }
  return layer;
}

}  // namespace plumetrace::ingest_detail

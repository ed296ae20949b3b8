#pragma once
/// @file counties.hpp
/// County polygons for plumetrace-twin: a plain GeoJSON FeatureCollection (Polygon and
/// MultiPolygon features with an `adcode`/`code` and a `name` property) read with nlohmann::json
/// into a local metric plane, and point-in-county tests by ray crossing over every ring (holes
/// and multipolygons follow from the parity). No repair: the simulator keeps what it places at
/// least a few hundred metres from any border, where dirty rings do not matter.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "atmosphere.hpp"
#include "plumetrace/core/error.hpp"

namespace twin {

constexpr double kEarthRadius_m = 6371008.8;

/// Equirectangular plane about (lon0, lat0): metres east and north (< 0.1 % error over 50 km).
class Plane {
 public:
  Plane(double lon0, double lat0)
      : lon0_(lon0), lat0_(lat0), m_per_deg_x_(kEarthRadius_m * kRad * std::cos(lat0 * kRad)), m_per_deg_y_(kEarthRadius_m * kRad) {}
  [[nodiscard]] P2 to_plane(double lon, double lat) const { return {(lon - lon0_) * m_per_deg_x_, (lat - lat0_) * m_per_deg_y_}; }
  [[nodiscard]] double lon(P2 p) const { return lon0_ + p.x / m_per_deg_x_; }
  [[nodiscard]] double lat(P2 p) const { return lat0_ + p.y / m_per_deg_y_; }

 private:
  double lon0_, lat0_, m_per_deg_x_, m_per_deg_y_;
};

struct County {
  std::string code, name;
  std::vector<std::vector<P2>> rings;
  P2 lo{1e300, 1e300}, hi{-1e300, -1e300};
};

class CountyMap {
 public:
  /// Counties of `file` whose bounding box meets the square of half side `reach_m` around the
  /// plane's origin. Throws plumetrace::InvalidInput when the file is not such a GeoJSON.
  CountyMap(const std::filesystem::path& file, const Plane& plane, double reach_m) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw plumetrace::InvalidInput("cannot open boundaries " + file.string());
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw plumetrace::InvalidInput("boundaries " + file.string() + " are not JSON: " + e.what());
    }
    if (!doc.contains("features")) throw plumetrace::InvalidInput("boundaries " + file.string() + " have no features");
    for (const auto& feature : doc["features"]) {
      const auto& props = feature.value("properties", nlohmann::json::object());
      const auto& geom = feature.value("geometry", nlohmann::json());
      if (!geom.is_object()) continue;
      County c;
      const auto code_of = [&](const char* field) -> std::string {
        if (!props.contains(field)) return "";
        const auto& v = props[field];
        return v.is_string() ? v.get<std::string>() : v.dump();
      };
      c.code = code_of("adcode");
      if (c.code.empty()) c.code = code_of("code");
      c.name = props.value("name", c.code);
      const std::string type = geom.value("type", "");
      const auto add_polygon = [&](const nlohmann::json& polygon) {
        for (const auto& ring : polygon) {
          std::vector<P2> pts;
          pts.reserve(ring.size());
          for (const auto& pos : ring) {
            const P2 q = plane.to_plane(pos[0].get<double>(), pos[1].get<double>());
            pts.push_back(q);
            c.lo = {std::min(c.lo.x, q.x), std::min(c.lo.y, q.y)};
            c.hi = {std::max(c.hi.x, q.x), std::max(c.hi.y, q.y)};
          }
          c.rings.push_back(std::move(pts));
        }
      };
      if (type == "Polygon") add_polygon(geom["coordinates"]);
      else if (type == "MultiPolygon")
        for (const auto& polygon : geom["coordinates"]) add_polygon(polygon);
      if (c.rings.empty() || c.hi.x < -reach_m || c.lo.x > reach_m || c.hi.y < -reach_m || c.lo.y > reach_m) continue;
      counties_.push_back(std::move(c));
    }
  }

  [[nodiscard]] int size() const { return static_cast<int>(counties_.size()); }
  [[nodiscard]] const County& operator[](int i) const { return counties_[static_cast<std::size_t>(i)]; }
  [[nodiscard]] int find(const std::string& code) const {
    for (int i = 0; i < size(); ++i)
      if ((*this)[i].code == code) return i;
    return -1;
  }

  /// Index of the first county whose rings hold p an odd number of times, -1 when none does.
  [[nodiscard]] int at(P2 p) const {
    for (int i = 0; i < size(); ++i)
      if (holds((*this)[i], p)) return i;
    return -1;
  }

  /// The county of p when twelve points on a circle of radius r around it share it, else -1.
  [[nodiscard]] int clear_at(P2 p, double r) const {
    const int c = at(p);
    if (c < 0) return -1;
    for (int k = 0; k < 12; ++k) {
      const double a = k * kPi / 6;
      if (at({p.x + r * std::cos(a), p.y + r * std::sin(a)}) != c) return -1;
    }
    return c;
  }

 private:
  static bool holds(const County& c, P2 p) {
    if (p.x < c.lo.x || p.y < c.lo.y || p.x > c.hi.x || p.y > c.hi.y) return false;
    int crossings = 0;
    for (const auto& ring : c.rings) {
      for (std::size_t k = 1; k < ring.size(); ++k) {
        const P2 a = ring[k - 1], b = ring[k];
        const bool spans = (a.y <= p.y && b.y > p.y) || (b.y <= p.y && a.y > p.y);
        if (!spans) continue;
        const double x_cross = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
        crossings += x_cross > p.x ? 1 : 0;
      }
    }
    return crossings % 2 == 1;
  }

  std::vector<County> counties_;
};

}  // namespace twin

#include "plumetrace/plan/map_image.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

#include <gdal.h>
#include <gdal_utils.h>

#include "plumetrace/core/error.hpp"
#include "plumetrace/render/colormap.hpp"
#include "plumetrace/render/png.hpp"
#include "plumetrace/render/raster_source.hpp"
#include "plumetrace/render/tile_math.hpp"
#include "plumetrace/render/tile_renderer.hpp"

namespace plumetrace::plan {
namespace {

using nlohmann::json;

/// PNG zlib level for the map: written once per plan, so the smallest file.
constexpr int kMapPngZlibLevel = 9;

/// A 5 x 7 bitmap font for the labels the map needs (stop numbers, the start, the scale).
struct Glyph {
  char c;
  std::array<std::uint8_t, 7> rows;  // bit 4 = leftmost column
};
constexpr Glyph kFont[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'N', {0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11}},
    {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}}, {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}}, {' ', {0, 0, 0, 0, 0, 0, 0}},
};

const Glyph& glyph(char c) {
  for (const Glyph& g : kFont)
    if (g.c == c) return g;
  return kFont[14];  // '?'
}

using Rgb = std::array<std::uint8_t, 3>;

class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), px_(static_cast<std::size_t>(w) * h * 4, 255) {}
  [[nodiscard]] int width() const { return w_; }
  [[nodiscard]] int height() const { return h_; }
  void blend(int x, int y, Rgb c, double alpha) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
    std::uint8_t* p = &px_[(static_cast<std::size_t>(y) * w_ + x) * 4];
    for (int k = 0; k < 3; ++k) p[k] = static_cast<std::uint8_t>(std::lround(p[k] * (1 - alpha) + c[static_cast<std::size_t>(k)] * alpha));
  }
  void set(int x, int y, Rgb c) { blend(x, y, c, 1.0); }
  void disc(double cx, double cy, double r, Rgb c) {
    for (int y = static_cast<int>(std::floor(cy - r)); y <= static_cast<int>(std::ceil(cy + r)); ++y)
      for (int x = static_cast<int>(std::floor(cx - r)); x <= static_cast<int>(std::ceil(cx + r)); ++x) {
        const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
        if (d <= r - 0.5) set(x, y, c);
        else if (d < r + 0.5) blend(x, y, c, r + 0.5 - d);
      }
  }
  void ring(double cx, double cy, double r, double width, Rgb c, double dash_px = 0) {
    for (int y = static_cast<int>(std::floor(cy - r - width)); y <= static_cast<int>(std::ceil(cy + r + width)); ++y)
      for (int x = static_cast<int>(std::floor(cx - r - width)); x <= static_cast<int>(std::ceil(cx + r + width)); ++x) {
        const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        const double d = std::abs(std::hypot(dx, dy) - r);
        if (d > width / 2 + 0.5) continue;
        if (dash_px > 0 && std::fmod((std::atan2(dy, dx) + std::numbers::pi) * r / dash_px, 2.0) >= 1.0) continue;
        blend(x, y, c, std::clamp(width / 2 + 0.5 - d, 0.0, 1.0));
      }
  }
  void rect(int x0, int y0, int x1, int y1, Rgb c) {
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) set(x, y, c);
  }
  /// A line of `width` pixels between two points (distance-to-segment coverage).
  void line(double x0, double y0, double x1, double y1, double width, Rgb c, double alpha = 1.0) {
    const double pad = width / 2 + 1;
    const int xa = static_cast<int>(std::floor(std::min(x0, x1) - pad)), xb = static_cast<int>(std::ceil(std::max(x0, x1) + pad));
    const int ya = static_cast<int>(std::floor(std::min(y0, y1) - pad)), yb = static_cast<int>(std::ceil(std::max(y0, y1) + pad));
    if (xb < 0 || yb < 0 || xa >= w_ || ya >= h_) return;
    const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (int y = std::max(ya, 0); y <= std::min(yb, h_ - 1); ++y)
      for (int x = std::max(xa, 0); x <= std::min(xb, w_ - 1); ++x) {
        const double px = x + 0.5, py = y + 0.5;
        const double t = len2 > 0 ? std::clamp(((px - x0) * dx + (py - y0) * dy) / len2, 0.0, 1.0) : 0.0;
        const double d = std::hypot(px - (x0 + t * dx), py - (y0 + t * dy));
        const double cover = std::clamp(width / 2 + 0.5 - d, 0.0, 1.0);
        if (cover > 0) blend(x, y, c, cover * alpha);
      }
  }
  /// Text centred on (cx, cy) at integer `scale`.
  void text(double cx, double cy, const std::string& s, int scale, Rgb c) {
    const int tw = static_cast<int>(s.size()) * 6 * scale - scale, th = 7 * scale;
    const int x0 = static_cast<int>(std::lround(cx - tw / 2.0)), y0 = static_cast<int>(std::lround(cy - th / 2.0));
    for (std::size_t i = 0; i < s.size(); ++i) {
      const Glyph& g = glyph(s[i]);
      for (int r = 0; r < 7; ++r)
        for (int col = 0; col < 5; ++col)
          if (g.rows[static_cast<std::size_t>(r)] & (0x10 >> col))
            rect(x0 + static_cast<int>(i) * 6 * scale + col * scale, y0 + r * scale,
                 x0 + static_cast<int>(i) * 6 * scale + col * scale + scale - 1, y0 + r * scale + scale - 1, c);
    }
  }
  [[nodiscard]] const std::vector<std::uint8_t>& rgba() const { return px_; }

 private:
  int w_, h_;
  std::vector<std::uint8_t> px_;
};

struct Box {
  double min_x = std::numeric_limits<double>::infinity(), min_y = min_x;
  double max_x = -std::numeric_limits<double>::infinity(), max_y = max_x;
  void add(double x, double y) {
    min_x = std::min(min_x, x);
    min_y = std::min(min_y, y);
    max_x = std::max(max_x, x);
    max_y = std::max(max_y, y);
  }
  void add_lonlat(double lon, double lat) {
    double x = 0, y = 0;
    lonlat_to_3857(lon, std::clamp(lat, -kMercatorMaxLatDeg, kMercatorMaxLatDeg), x, y);
    add(x, y);
  }
  [[nodiscard]] bool empty() const { return !(max_x >= min_x); }
};

/// The posterior warped onto the map grid (NaN = no data).
std::vector<float> warp_posterior(GDALDatasetH src, const Box& view, int w, int h, const std::string& file) {
  const std::string te[4] = {std::to_string(view.min_x), std::to_string(view.min_y), std::to_string(view.max_x),
                             std::to_string(view.max_y)};
  const std::string ws = std::to_string(w), hs = std::to_string(h);
  const char* argv[] = {"-of", "MEM", "-t_srs", "EPSG:3857", "-te", te[0].c_str(), te[1].c_str(), te[2].c_str(), te[3].c_str(),
                        "-ts", ws.c_str(), hs.c_str(), "-r", "bilinear", "-ot", "Float32", "-dstnodata", "nan", nullptr};
  GDALWarpAppOptions* opt = GDALWarpAppOptionsNew(const_cast<char**>(argv), nullptr);
  if (opt == nullptr) throw Internal("gdalwarp options rejected");
  int usage_error = 0;
  GDALDatasetH srcs[1] = {src};
  GDALDatasetH out = GDALWarp("", nullptr, 1, srcs, opt, &usage_error);
  GDALWarpAppOptionsFree(opt);
  if (out == nullptr) throw InvalidInput(file + ": cannot warp the posterior to the map (" + std::string(CPLGetLastErrorMsg()) + ")");
  std::vector<float> v(static_cast<std::size_t>(w) * h, std::numeric_limits<float>::quiet_NaN());
  const CPLErr e = GDALRasterIO(GDALGetRasterBand(out, 1), GF_Read, 0, 0, w, h, v.data(), w, h, GDT_Float32, 0, 0);
  GDALClose(out);
  if (e != CE_None) throw InvalidInput(file + ": cannot read the warped posterior");
  return v;
}

/// A "nice" scale-bar length (1, 2 or 5 x 10^k metres) no longer than `max_m`.
double nice_length_m(double max_m) {
  const double p = std::pow(10.0, std::floor(std::log10(max_m)));
  for (const double f : {5.0, 2.0, 1.0})
    if (f * p <= max_m) return f * p;
  return p;
}

std::string length_label(double m) {
  if (m >= 1000) return std::to_string(static_cast<long long>(std::lround(m / 1000))) + " km";
  return std::to_string(static_cast<long long>(std::lround(m))) + " m";
}

constexpr Rgb kBoundary{90, 90, 90}, kStation{30, 80, 200}, kFacility{150, 150, 150}, kRoute{0, 110, 220},
    kStop{200, 30, 30}, kSearch{130, 40, 160}, kWhite{255, 255, 255}, kBlack{0, 0, 0};

}  // namespace

MapImage render_plan_map(const MapInputs& in) {
  assert(in.plan != nullptr && in.ranking != nullptr);
  const json& plan = *in.plan;
  const json& route = plan["route"];
  Box want;
  if (route.contains("start") && route["start"].is_object()) want.add_lonlat(route["start"]["lon"].get<double>(), route["start"]["lat"].get<double>());
  for (const json& s : route["stops"]) want.add_lonlat(s["lon"].get<double>(), s["lat"].get<double>());
  GdalDatasetPtr post;
  std::string post_file;
  if (in.posterior) {
    post_file = in.posterior->filename().string();
    // the tile renderer's raster checks and densified footprint (it throws "FILE: reason")
    const LonLatBox b = TileRenderer(*in.posterior).bounds_lonlat();
    want.add_lonlat(b.west_deg, b.south_deg);
    want.add_lonlat(b.east_deg, b.north_deg);
    post = open_raster_checked(*in.posterior);
  }
  if (want.empty())
    for (const json& c : (*in.ranking)["candidates"]) want.add_lonlat(c["lon"].get<double>(), c["lat"].get<double>());
  if (want.empty()) want.add(0, 0);
  // pad, enforce the minimum span, keep the centre
  const double cx = (want.min_x + want.max_x) / 2, cy = (want.min_y + want.max_y) / 2;
  const double sx = std::max((want.max_x - want.min_x) * (1 + 2 * kMapPaddingShare), kMapMinSpanM);
  const double sy = std::max((want.max_y - want.min_y) * (1 + 2 * kMapPaddingShare), kMapMinSpanM);
  const double mpp = std::max(sx, sy) / kMapLongSidePx;
  const int w = std::max(1, static_cast<int>(std::lround(sx / mpp))), h = std::max(1, static_cast<int>(std::lround(sy / mpp)));
  Box view;
  view.add(cx - w * mpp / 2, cy - h * mpp / 2);
  view.add(cx + w * mpp / 2, cy + h * mpp / 2);
  const auto to_px = [&](double lon, double lat, double& px, double& py) {
    double x = 0, y = 0;
    lonlat_to_3857(lon, std::clamp(lat, -kMercatorMaxLatDeg, kMercatorMaxLatDeg), x, y);
    px = (x - view.min_x) / mpp;
    py = (view.max_y - y) / mpp;
  };

  Canvas cv(w, h);
  MapImage out;
  // posterior
  if (post) {
    const std::vector<float> v = warp_posterior(post.get(), view, w, h, post_file);
    float peak = 0;
    for (const float x : v)
      if (std::isfinite(x)) peak = std::max(peak, x);
    if (peak > 0) {
      const ColormapTable& cm = colormap_by_name("ylorrd");
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const float val = v[static_cast<std::size_t>(y) * w + x];
          if (!std::isfinite(val)) continue;
          if (!(val > 0)) continue;
          const double t = 1.0 + std::log10(val / peak) / kMapPosteriorDecades;
          if (t < 0) continue;
          const Rgba c = cm[static_cast<std::size_t>(std::clamp(std::lround(t * 255), 0L, 255L))];
          cv.blend(x, y, {c[0], c[1], c[2]}, 0.3 + 0.6 * t);
        }
      out.posterior_drawn = true;
    }
  }
  // boundaries
  if (in.boundaries != nullptr)
    for (const BoundaryFeature& f : in.boundaries->features)
      for (const auto& poly : f.polygons)
        for (const auto& ring : poly)
          for (std::size_t i = 0; i + 1 < ring.size() + 1 && ring.size() >= 2; ++i) {
            const auto& a = ring[i];
            const auto& b = ring[(i + 1) % ring.size()];
            double x0, y0, x1, y1;
            to_px(a.first, a.second, x0, y0);
            to_px(b.first, b.second, x1, y1);
            cv.line(x0, y0, x1, y1, 2.0, kBoundary);
          }
  // stations
  if (in.stations != nullptr)
    for (const Station& s : *in.stations) {
      double x, y;
      to_px(s.lon, s.lat, x, y);
      const int xi = static_cast<int>(x), yi = static_cast<int>(y);
      cv.rect(xi - 5, yi - 5, xi + 5, yi + 5, kWhite);
      cv.rect(xi - 4, yi - 4, xi + 4, yi + 4, kStation);
    }
  // registry
  for (const json& c : (*in.ranking)["candidates"]) {
    double x, y;
    to_px(c["lon"].get<double>(), c["lat"].get<double>(), x, y);
    cv.disc(x, y, 3.5, kFacility);
  }
  // search area
  for (const json& s : route["stops"])
    if (s.value("kind", "") == "search_area") {
      double x, y;
      to_px(s["lon"].get<double>(), s["lat"].get<double>(), x, y);
      double r_m = 0;
      for (const json& j : plan["jurisdictions"])
        for (const json& e : j["inspections"])
          if (e.value("kind", "") == "search_area") r_m = e.value("radius_m", 0.0);
      const double lat_rad = s["lat"].get<double>() * std::numbers::pi / 180;
      cv.ring(x, y, std::max(r_m / std::cos(lat_rad) / mpp, 12.0), 3.0, kSearch, 8.0);
    }
  // route
  double px = 0, py = 0;
  bool have_prev = false;
  if (route.contains("start") && route["start"].is_object()) {
    to_px(route["start"]["lon"].get<double>(), route["start"]["lat"].get<double>(), px, py);
    have_prev = true;
  }
  for (const json& s : route["stops"]) {
    double x, y;
    to_px(s["lon"].get<double>(), s["lat"].get<double>(), x, y);
    if (have_prev) {
      cv.line(px, py, x, y, 6.0, kWhite, 0.8);
      cv.line(px, py, x, y, 3.5, kRoute);
    }
    px = x;
    py = y;
    have_prev = true;
  }
  // start marker
  if (route.contains("start") && route["start"].is_object() && route["start"].value("kind", "") == "given") {
    double x, y;
    to_px(route["start"]["lon"].get<double>(), route["start"]["lat"].get<double>(), x, y);
    const int xi = static_cast<int>(x), yi = static_cast<int>(y);
    cv.rect(xi - 11, yi - 11, xi + 11, yi + 11, kWhite);
    cv.rect(xi - 9, yi - 9, xi + 9, yi + 9, kBlack);
    cv.text(x, y, "S", 2, kWhite);
  }
  // numbered stops
  for (const json& s : route["stops"]) {
    double x, y;
    to_px(s["lon"].get<double>(), s["lat"].get<double>(), x, y);
    const std::string label = std::to_string(s["stop"].get<int>());
    cv.disc(x, y, 13.5, kWhite);
    cv.disc(x, y, 11.5, s.value("kind", "") == "search_area" ? kSearch : kStop);
    cv.text(x, y, label, label.size() == 1 ? 2 : 1, kWhite);
  }
  // scale bar (true length at the map's centre latitude)
  double clon = 0, clat = 0;
  mercator_to_lonlat(cx, cy, clon, clat);
  const double ground_mpp = mpp * std::cos(clat * std::numbers::pi / 180);
  out.scale_bar_m = nice_length_m(w / 5.0 * ground_mpp);
  const int bar_px = static_cast<int>(std::lround(out.scale_bar_m / ground_mpp));
  cv.rect(14, h - 44, 30 + bar_px, h - 12, kWhite);
  cv.rect(22, h - 22, 22 + bar_px, h - 17, kBlack);
  cv.text(22 + bar_px / 2.0, h - 33, length_label(out.scale_bar_m), 2, kBlack);
  // north
  cv.text(w - 24, 20, "N", 3, kBlack);
  cv.line(w - 24, 68, w - 24, 42, 3, kBlack);
  cv.line(w - 24, 40, w - 31, 52, 3, kBlack);
  cv.line(w - 24, 40, w - 17, 52, 3, kBlack);

  out.png = encode_png_rgba(cv.rgba(), w, h, kMapPngZlibLevel);
  out.width = w;
  out.height = h;
  mercator_to_lonlat(view.min_x, view.min_y, out.west_deg, out.south_deg);
  mercator_to_lonlat(view.max_x, view.max_y, out.east_deg, out.north_deg);
  return out;
}

}  // namespace plumetrace::plan

#include "plumetrace/fusion/hotspots.hpp"

#include <algorithm>
#include <cmath>

#include "imagery_io.hpp"
#include "plumetrace/core/tuning.hpp"

namespace plumetrace {
namespace {

double median_of(std::vector<float>& v) {
  if (v.empty()) return std::nan("");
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

std::vector<Hotspot> detect_hotspots(const Case& c, const Transformer& tr, const std::string& pollutant,
                                     EpochSeconds use_start, EpochSeconds use_end, Diagnostics& diag) {
  std::vector<Hotspot> out;
  std::vector<std::pair<double, double>> registry;  // analysis CRS
  for (const Source& s : c.sources) {
    double x = 0, y = 0;
    registry.emplace_back(tr.forward(s.lon, s.lat, x, y) ? std::make_pair(x, y) : std::make_pair(std::nan(""), std::nan("")));
  }
  for (const Imagery& im : c.imagery) {
    for (const ImageryBand& b : im.bands) {
      if (b.variable != pollutant) continue;
      if (b.time_s && (*b.time_s < use_start || *b.time_s >= use_end)) continue;
      const fusion_detail::Dataset ds = fusion_detail::open_imagery(im);
      GDALRasterBandH band = ds ? GDALGetRasterBand(ds.get(), b.band) : nullptr;
      if (band == nullptr) {
        diag.warn(im.file, "band " + std::to_string(b.band) + " cannot be read for hotspots");
        continue;
      }
      const double cells = static_cast<double>(im.width) * im.height;
      const int f = std::max(1, static_cast<int>(std::ceil(std::sqrt(cells / kHotspotMaxPixels))));
      const int w = std::max(1, im.width / f), h = std::max(1, im.height / f);
      std::vector<float> px(static_cast<std::size_t>(w) * h);
      GDALRasterIOExtraArg extra;
      INIT_RASTERIO_EXTRA_ARG(extra);
      extra.eResampleAlg = GRIORA_Average;
      if (GDALRasterIOEx(band, GF_Read, 0, 0, im.width, im.height, px.data(), w, h, GDT_Float32, 0, 0, &extra) != CE_None) {
        diag.warn(im.file, "band " + std::to_string(b.band) + " cannot be read for hotspots");
        continue;
      }
      const auto valid = [&](float v) { return std::isfinite(v) && (!b.nodata || v != static_cast<float>(*b.nodata)); };
      // local background per tile, and the robust noise of the residuals
      const int tiles_x = (w + kHotspotTilePx - 1) / kHotspotTilePx, tiles_y = (h + kHotspotTilePx - 1) / kHotspotTilePx;
      std::vector<double> tile_bg(static_cast<std::size_t>(tiles_x) * tiles_y, std::nan(""));
      std::vector<float> buf;
      for (int ty = 0; ty < tiles_y; ++ty)
        for (int tx = 0; tx < tiles_x; ++tx) {
          buf.clear();
          for (int r = ty * kHotspotTilePx; r < std::min(h, (ty + 1) * kHotspotTilePx); ++r)
            for (int k = tx * kHotspotTilePx; k < std::min(w, (tx + 1) * kHotspotTilePx); ++k)
              if (const float v = px[static_cast<std::size_t>(r) * w + k]; valid(v)) buf.push_back(v);
          tile_bg[static_cast<std::size_t>(ty) * tiles_x + tx] = median_of(buf);
        }
      const auto bg_at = [&](int r, int k) {
        return tile_bg[static_cast<std::size_t>(r / kHotspotTilePx) * tiles_x + k / kHotspotTilePx];
      };
      buf.clear();
      for (int r = 0; r < h; ++r)
        for (int k = 0; k < w; ++k)
          if (const float v = px[static_cast<std::size_t>(r) * w + k]; valid(v)) buf.push_back(static_cast<float>(std::abs(v - bg_at(r, k))));
      const double noise = tuning::kMadToSigma * median_of(buf);
      if (!(noise > 0)) continue;  // a constant (or empty) image has no hotspot
      // hot pixels and their 8-connected regions
      std::vector<char> hot(px.size(), 0);
      for (int r = 0; r < h; ++r)
        for (int k = 0; k < w; ++k) {
          const std::size_t i = static_cast<std::size_t>(r) * w + k;
          hot[i] = valid(px[i]) && px[i] > bg_at(r, k) + kHotspotSigmas * noise;
        }
      const fusion_detail::PixelToLonLat to_lonlat(im);
      // ground area of one (decimated) pixel near the image centre, in the analysis CRS
      double area_px_m2 = 0;
      {
        double lo[3], la[3], x[3], y[3];
        const double c0 = im.width / 2.0, r0 = im.height / 2.0;
        const double pts[3][2] = {{c0, r0}, {c0 + f, r0}, {c0, r0 + f}};
        bool ok = true;
        for (int q = 0; q < 3; ++q) ok = ok && to_lonlat(pts[q][0], pts[q][1], lo[q], la[q]) && tr.forward(lo[q], la[q], x[q], y[q]);
        if (ok) area_px_m2 = std::abs((x[1] - x[0]) * (y[2] - y[0]) - (y[1] - y[0]) * (x[2] - x[0]));
      }
      std::vector<Hotspot> found;
      std::vector<int> stack;
      for (std::size_t seed = 0; seed < hot.size(); ++seed) {
        if (!hot[seed]) continue;
        hot[seed] = 0;
        stack.assign(1, static_cast<int>(seed));
        int n = 0;
        std::size_t peak_i = seed;
        double sw = 0, sc = 0, sr = 0;
        while (!stack.empty()) {
          const int i = stack.back();
          stack.pop_back();
          ++n;
          const int r = i / w, k = i % w;
          const double ex = px[static_cast<std::size_t>(i)] - bg_at(r, k);
          sw += ex;
          sc += ex * (k + 0.5);
          sr += ex * (r + 0.5);
          if (px[static_cast<std::size_t>(i)] > px[peak_i]) peak_i = static_cast<std::size_t>(i);
          for (int dr = -1; dr <= 1; ++dr)
            for (int dk = -1; dk <= 1; ++dk) {
              const int rr = r + dr, kk = k + dk;
              if (rr < 0 || kk < 0 || rr >= h || kk >= w) continue;
              const std::size_t j = static_cast<std::size_t>(rr) * w + kk;
              if (hot[j]) {
                hot[j] = 0;
                stack.push_back(static_cast<int>(j));
              }
            }
        }
        if (n < kHotspotMinPixels) continue;
        Hotspot hs;
        hs.image = "imagery/" + im.name;
        hs.band = b.band;
        hs.unit = b.unit;
        hs.pixels = n;
        hs.area_m2 = n * area_px_m2;
        const int pr = static_cast<int>(peak_i) / w, pk = static_cast<int>(peak_i) % w;
        hs.peak = px[peak_i];
        hs.background = bg_at(pr, pk);
        if (!to_lonlat((pk + 0.5) * f, (pr + 0.5) * f, hs.lon, hs.lat) || !tr.forward(hs.lon, hs.lat, hs.x_m, hs.y_m)) continue;
        if (!to_lonlat(sc / sw * f, sr / sw * f, hs.centroid_lon, hs.centroid_lat)) {
          hs.centroid_lon = hs.lon;
          hs.centroid_lat = hs.lat;
        }
        double best = kHotspotMatchM;
        for (std::size_t s = 0; s < registry.size(); ++s) {
          const double d = std::hypot(registry[s].first - hs.x_m, registry[s].second - hs.y_m);
          if (d <= best) {
            best = d;
            hs.matched = c.sources[s].id;
            hs.matched_distance_m = d;
          }
        }
        found.push_back(std::move(hs));
      }
      std::sort(found.begin(), found.end(), [](const Hotspot& a, const Hotspot& b) { return a.peak > b.peak; });
      if (found.size() > kMaxHotspotsPerImage) found.resize(kMaxHotspotsPerImage);
      out.insert(out.end(), found.begin(), found.end());
    }
  }
  return out;
}

}  // namespace plumetrace

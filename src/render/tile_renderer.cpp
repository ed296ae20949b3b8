#include "plumetrace/render/tile_renderer.hpp"

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>

#include "plumetrace/core/error.hpp"
#include "plumetrace/render/png.hpp"

namespace plumetrace {

namespace {

/// Tile pixels between exactly transformed grid points: 9 x 9 points per tile.
constexpr int kGridStepPx = 32;
constexpr int kGridPoints = kTileSizePx / kGridStepPx + 1;
constexpr int kGridCells = kGridPoints - 1;
constexpr int kTilePixels = kTileSizePx * kTileSizePx;
/// GDAL's approximate transformer tolerance: 1/8 pixel (of the source when zoomed in, of the tile
/// when zoomed out).
constexpr double kMaxInterpolationErrorPx = 0.125;
/// Area averaging on a level handles footprints up to 4 x 4 level pixels itself; beyond (no
/// fitting overview) GDAL's average first reduces the window by an integer factor.
constexpr double kMaxOwnFootprintPx = 4.0;
/// A zoomed-out tile pixel is opaque when at least this share of its footprint is valid data.
constexpr double kMinValidFootprintShare = 0.5;
/// Points per raster edge when projecting the footprint to WGS 84.
constexpr int kFootprintEdgePoints = 21;
/// Band min/max is exact up to this many pixels (one full read), from overviews beyond.
constexpr std::int64_t kExactRangeMaxPixels = std::int64_t{16} << 20;
/// Bumped when the rendering changes, so that every ETag changes with it.
constexpr int kRendererVersion = 1;

OGRSpatialReferenceH new_srs_gis_order(OGRSpatialReferenceH from) {
  OGRSpatialReferenceH srs = OSRClone(from);
  OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

OGRSpatialReferenceH new_epsg_gis_order(int epsg) {
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(srs, epsg);
  OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

/// A coordinate transformation between an EPSG code and the dataset's CRS, in either direction;
/// nullptr when PROJ has none.
OGRCoordinateTransformationH new_transformation(GDALDatasetH ds, int epsg, bool from_epsg) {
  OGRSpatialReferenceH raster = new_srs_gis_order(GDALGetSpatialRef(ds));
  OGRSpatialReferenceH other = new_epsg_gis_order(epsg);
  OGRCoordinateTransformationH ct = from_epsg ? OCTNewCoordinateTransformation(other, raster)
                                              : OCTNewCoordinateTransformation(raster, other);
  OSRDestroySpatialReference(raster);
  OSRDestroySpatialReference(other);
  return ct;
}

struct TransformationDeleter {
  void operator()(void* ct) const noexcept {
    if (ct != nullptr) OCTDestroyCoordinateTransformation(static_cast<OGRCoordinateTransformationH>(ct));
  }
};
using TransformationPtr = std::unique_ptr<void, TransformationDeleter>;

/// Whether a (possibly reduced) sample is missing data.
struct NodataTest {
  bool has_value = false;
  float value = 0;
  [[nodiscard]] bool missing(float v) const noexcept { return std::isnan(v) || (has_value && v == value); }
};

/// A window of one raster level read into memory, and the map from level pixel coordinates to it.
struct Window {
  int x0 = 0, y0 = 0, width = 0, height = 0;  ///< in level pixels
  int buf_width = 0, buf_height = 0;          ///< buffer size (smaller when GDAL pre-reduced it)
  double scale_x = 1, scale_y = 1;            ///< buffer pixels per level pixel
};

/// 64-bit FNV-1a, for ETags (not a security hash: an ETag only has to change with its inputs).
std::uint64_t fnv1a64(const std::string& text) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

/// One thread's private view of the raster: a dataset handle, the EPSG:3857 -> raster CRS
/// transformation, and scratch buffers reused from tile to tile.
struct TileRenderer::Worker {
  GdalDatasetPtr dataset;
  TransformationPtr from_mercator;
  std::vector<double> u, v;  ///< per tile pixel: full-resolution source pixel coordinates (NaN: none)
  std::array<double, kGridCells * kGridCells> cell_scale{};  ///< source px per tile px, per grid cell
  std::array<bool, kGridCells * kGridCells> cell_exact{};    ///< cell transformed pixel by pixel
  std::vector<float> samples;
  std::vector<int> ok;
};

/// What every worker shares: immutable georeferencing, the worker pool and the band ranges.
struct TileRenderer::Shared {
  std::filesystem::path path;
  RasterLimits limits;
  int width = 0, height = 0;
  std::array<double, 6> inverse_geotransform{};
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<Worker>> idle;
  std::mutex range_mutex;
  std::map<int, std::pair<double, double>> ranges;

  std::unique_ptr<Worker> open_worker() const {
    auto w = std::make_unique<Worker>();
    w->dataset = open_raster_checked(path, limits);
    if (GDALGetSpatialRef(static_cast<GDALDatasetH>(w->dataset.get())) == nullptr)
      throw InvalidInput(path.string() + ": has no coordinate reference system");
    w->from_mercator.reset(new_transformation(static_cast<GDALDatasetH>(w->dataset.get()), 3857, true));
    if (!w->from_mercator) throw InvalidInput(path.string() + ": no transformation from Web Mercator to its CRS");
    w->u.resize(kTilePixels);
    w->v.resize(kTilePixels);
    return w;
  }

  /// A worker from the pool, or a new one when all are busy.
  std::unique_ptr<Worker> acquire() {
    {
      std::lock_guard lock(pool_mutex);
      if (!idle.empty()) {
        auto w = std::move(idle.back());
        idle.pop_back();
        return w;
      }
    }
    return open_worker();
  }

  /// RAII loan of a worker: back to the pool when the lease ends.
  struct Lease {
    Shared& shared;
    std::unique_ptr<Worker> worker;
    explicit Lease(Shared& s) : shared(s), worker(s.acquire()) {}
    ~Lease() {
      std::lock_guard lock(shared.pool_mutex);
      shared.idle.push_back(std::move(worker));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
  };

  /// Transform n points in place from EPSG:3857 metres to full-resolution source pixel coordinates
  /// (NaN where PROJ fails).
  void to_source_pixels(Worker& w, int n, double* x, double* y) const {
    w.ok.assign(static_cast<std::size_t>(n), 0);
    OCTTransformEx(w.from_mercator.get(), n, x, y, nullptr, w.ok.data());
    const auto& g = inverse_geotransform;
    for (int i = 0; i < n; ++i) {
      if (!w.ok[static_cast<std::size_t>(i)] || !std::isfinite(x[i]) || !std::isfinite(y[i])) {
        x[i] = y[i] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      const double gx = x[i], gy = y[i];
      x[i] = g[0] + g[1] * gx + g[2] * gy;
      y[i] = g[3] + g[4] * gx + g[5] * gy;
    }
  }

  /// Fill w.u, w.v (source pixel coordinates of every tile pixel centre) and w.cell_scale (source
  /// pixels per tile pixel in each 32 x 32 cell; NaN where unknown): exact on the 9 x 9 grid,
  /// bilinear inside a cell unless its centre shows more than the tolerated error, then exact.
  void map_tile(Worker& w, const TileId& t) const {
    const MercatorBox box = tile_box_3857(t);
    const double res_m = (box.max_x_m - box.min_x_m) / kTileSizePx;
    const auto x_of = [&](double col) { return box.min_x_m + (col + 0.5) * res_m; };
    const auto y_of = [&](double row) { return box.max_y_m - (row + 0.5) * res_m; };
    std::array<double, kGridPoints * kGridPoints> gu{}, gv{};
    for (int j = 0; j < kGridPoints; ++j)
      for (int i = 0; i < kGridPoints; ++i) {
        gu[j * kGridPoints + i] = x_of(i * kGridStepPx);
        gv[j * kGridPoints + i] = y_of(j * kGridStepPx);
      }
    to_source_pixels(w, kGridPoints * kGridPoints, gu.data(), gv.data());
    std::array<double, kGridCells * kGridCells> cu{}, cv{};
    for (int j = 0; j < kGridCells; ++j)
      for (int i = 0; i < kGridCells; ++i) {
        cu[j * kGridCells + i] = x_of(i * kGridStepPx + kGridStepPx / 2);
        cv[j * kGridCells + i] = y_of(j * kGridStepPx + kGridStepPx / 2);
      }
    to_source_pixels(w, kGridCells * kGridCells, cu.data(), cv.data());
    for (int cj = 0; cj < kGridCells; ++cj)
      for (int ci = 0; ci < kGridCells; ++ci) {
        const int p00 = cj * kGridPoints + ci, p10 = p00 + 1, p01 = p00 + kGridPoints, p11 = p01 + 1;
        const double u00 = gu[p00], u10 = gu[p10], u01 = gu[p01], u11 = gu[p11];
        const double v00 = gv[p00], v10 = gv[p10], v01 = gv[p01], v11 = gv[p11];
        // Jacobian of tile pixel -> source pixel, from the cell's edges
        const double du_dc = (u10 - u00 + u11 - u01) / (2.0 * kGridStepPx), du_dr = (u01 - u00 + u11 - u10) / (2.0 * kGridStepPx);
        const double dv_dc = (v10 - v00 + v11 - v01) / (2.0 * kGridStepPx), dv_dr = (v01 - v00 + v11 - v10) / (2.0 * kGridStepPx);
        const double scale = std::sqrt(std::abs(du_dc * dv_dr - du_dr * dv_dc));
        const int c = cj * kGridCells + ci;
        const double err = std::max(std::abs(cu[c] - 0.25 * (u00 + u10 + u01 + u11)), std::abs(cv[c] - 0.25 * (v00 + v10 + v01 + v11)));
        w.cell_scale[static_cast<std::size_t>(c)] = scale;
        w.cell_exact[static_cast<std::size_t>(c)] = false;
        if (std::isfinite(scale) && err <= kMaxInterpolationErrorPx * std::max(1.0, scale)) {
          for (int r = 0; r < kGridStepPx; ++r) {
            const double fy = static_cast<double>(r) / kGridStepPx;
            const double ul = u00 + (u01 - u00) * fy, ur = u10 + (u11 - u10) * fy;
            const double vl = v00 + (v01 - v00) * fy, vr = v10 + (v11 - v10) * fy;
            const std::size_t row0 = static_cast<std::size_t>(cj * kGridStepPx + r) * kTileSizePx + ci * kGridStepPx;
            for (int q = 0; q < kGridStepPx; ++q) {
              const double fx = static_cast<double>(q) / kGridStepPx;
              w.u[row0 + q] = ul + (ur - ul) * fx;
              w.v[row0 + q] = vl + (vr - vl) * fx;
            }
          }
          continue;
        }
        // exact, pixel by pixel (a cell the grid does not describe well, or where PROJ failed)
        w.cell_exact[static_cast<std::size_t>(c)] = true;
        std::vector<double> xs(kGridStepPx * kGridStepPx), ys(kGridStepPx * kGridStepPx);
        for (int r = 0; r < kGridStepPx; ++r)
          for (int q = 0; q < kGridStepPx; ++q) {
            xs[static_cast<std::size_t>(r * kGridStepPx + q)] = x_of(ci * kGridStepPx + q);
            ys[static_cast<std::size_t>(r * kGridStepPx + q)] = y_of(cj * kGridStepPx + r);
          }
        to_source_pixels(w, kGridStepPx * kGridStepPx, xs.data(), ys.data());
        for (int r = 0; r < kGridStepPx; ++r) {
          const std::size_t row0 = static_cast<std::size_t>(cj * kGridStepPx + r) * kTileSizePx + ci * kGridStepPx;
          for (int q = 0; q < kGridStepPx; ++q) {
            w.u[row0 + q] = xs[static_cast<std::size_t>(r * kGridStepPx + q)];
            w.v[row0 + q] = ys[static_cast<std::size_t>(r * kGridStepPx + q)];
          }
        }
        const std::size_t m = kGridStepPx / 2 * kGridStepPx + kGridStepPx / 2;  // the cell's centre pixel
        const double eu_c = xs[m + 1] - xs[m], eu_r = xs[m + kGridStepPx] - xs[m];
        const double ev_c = ys[m + 1] - ys[m], ev_r = ys[m + kGridStepPx] - ys[m];
        w.cell_scale[static_cast<std::size_t>(c)] = std::sqrt(std::abs(eu_c * ev_r - eu_r * ev_c));
      }
  }
};

TileRenderer::TileRenderer(const std::filesystem::path& raster, const RasterLimits& limits)
    : shared_(std::make_unique<Shared>()) {
  shared_->path = raster;
  shared_->limits = limits;
  auto first = shared_->open_worker();
  auto* ds = static_cast<GDALDatasetH>(first->dataset.get());
  identity_ = raster_identity(raster);
  band_count_ = GDALGetRasterCount(ds);
  shared_->width = GDALGetRasterXSize(ds);
  shared_->height = GDALGetRasterYSize(ds);
  std::array<double, 6> gt{};
  if (GDALGetGeoTransform(ds, gt.data()) != CE_None)
    throw InvalidInput(raster.string() + ": not georeferenced (no geotransform)");
  if (!GDALInvGeoTransform(gt.data(), shared_->inverse_geotransform.data()))
    throw InvalidInput(raster.string() + ": degenerate geotransform");
  // footprint: the raster's edges, densified, through PROJ to WGS 84
  TransformationPtr to_wgs84(new_transformation(ds, 4326, false));
  if (!to_wgs84) throw InvalidInput(raster.string() + ": no transformation from its CRS to WGS 84");
  std::vector<double> xs, ys;
  const double w = shared_->width, h = shared_->height;
  for (int k = 0; k < kFootprintEdgePoints; ++k) {
    const double f = static_cast<double>(k) / (kFootprintEdgePoints - 1);
    for (const auto& [px, py] : {std::pair{f * w, 0.0}, {f * w, h}, {0.0, f * h}, {w, f * h}}) {
      xs.push_back(gt[0] + gt[1] * px + gt[2] * py);
      ys.push_back(gt[3] + gt[4] * px + gt[5] * py);
    }
  }
  std::vector<int> ok(xs.size());
  OCTTransformEx(to_wgs84.get(), static_cast<int>(xs.size()), xs.data(), ys.data(), nullptr, ok.data());
  bounds_ = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
             -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!ok[i] || !std::isfinite(xs[i]) || !std::isfinite(ys[i])) continue;
    bounds_.west_deg = std::min(bounds_.west_deg, std::max(-180.0, xs[i]));
    bounds_.east_deg = std::max(bounds_.east_deg, std::min(180.0, xs[i]));
    bounds_.south_deg = std::min(bounds_.south_deg, std::max(-kMercatorMaxLatDeg, ys[i]));
    bounds_.north_deg = std::max(bounds_.north_deg, std::min(kMercatorMaxLatDeg, ys[i]));
  }
  if (!(bounds_.west_deg <= bounds_.east_deg && bounds_.south_deg <= bounds_.north_deg))
    throw InvalidInput(raster.string() + ": its footprint cannot be projected to WGS 84");
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  lonlat_to_3857(bounds_.west_deg, bounds_.south_deg, x0, y0);
  lonlat_to_3857(bounds_.east_deg, bounds_.north_deg, x1, y1);
  pixel_size_3857_m_ = std::hypot(x1 - x0, y1 - y0) / std::hypot(w, h);
  if (!(pixel_size_3857_m_ > 0)) pixel_size_3857_m_ = tile_pixel_size_m(kMaxTileZoom);
  std::lock_guard lock(shared_->pool_mutex);
  shared_->idle.push_back(std::move(first));
}

TileRenderer::~TileRenderer() = default;

int TileRenderer::default_max_zoom() const noexcept { return zoom_for_pixel_size(pixel_size_3857_m_); }

int TileRenderer::default_min_zoom() const noexcept {
  const double side_px = std::max(shared_->width, shared_->height);
  return std::min(default_max_zoom(), zoom_for_pixel_size(pixel_size_3857_m_ * side_px / kTileSizePx));
}

bool TileRenderer::touches(const TileId& t) const noexcept {
  if (!is_valid_tile(t)) return false;
  const LonLatBox b = tile_box_lonlat(t);
  return b.west_deg <= bounds_.east_deg && b.east_deg >= bounds_.west_deg && b.south_deg <= bounds_.north_deg &&
         b.north_deg >= bounds_.south_deg;
}

namespace {

/// Bilinear sample at buffer coordinates (bu, bv) (pixel i covers [i, i+1)) over the valid
/// neighbours, weights renormalised. False (no value) when the pixel under (bu, bv) is outside the
/// buffer or missing, so that data edges stay where the data ends.
bool sample_bilinear(const std::vector<float>& buf, int bw, int bh, const NodataTest& nodata, double bu, double bv,
                     float& out) noexcept {
  if (!(bu >= 0 && bv >= 0 && bu < bw && bv < bh)) return false;
  const int ix = static_cast<int>(bu), iy = static_cast<int>(bv);
  if (nodata.missing(buf[static_cast<std::size_t>(iy) * bw + ix])) return false;
  const double fx = bu - 0.5, fy = bv - 0.5;
  const int x0 = static_cast<int>(std::floor(fx)), y0 = static_cast<int>(std::floor(fy));
  const double ax = fx - x0, ay = fy - y0;
  double sum = 0, weight = 0;
  for (int dy = 0; dy < 2; ++dy) {
    const int y = y0 + dy;
    if (y < 0 || y >= bh) continue;
    const double wy = dy ? ay : 1.0 - ay;
    for (int dx = 0; dx < 2; ++dx) {
      const int x = x0 + dx;
      if (x < 0 || x >= bw) continue;
      const float s = buf[static_cast<std::size_t>(y) * bw + x];
      if (nodata.missing(s)) continue;
      const double wxy = (dx ? ax : 1.0 - ax) * wy;
      sum += wxy * s;
      weight += wxy;
    }
  }
  out = static_cast<float>(sum / weight);  // weight >= 1/4: the pixel under (bu, bv) is valid
  return true;
}

/// Area-weighted mean over the square footprint of side `side` (buffer pixels) centred on (bu, bv).
/// False when less than kMinValidFootprintShare of the footprint is valid data.
bool sample_area(const std::vector<float>& buf, int bw, int bh, const NodataTest& nodata, double bu, double bv,
                 double side, float& out) noexcept {
  const double half = 0.5 * side;
  const double xa = bu - half, xb = bu + half, ya = bv - half, yb = bv + half;
  if (!(xb > 0 && yb > 0 && xa < bw && ya < bh)) return false;
  const int i0 = std::max(0, static_cast<int>(std::floor(xa))), i1 = std::min(bw - 1, static_cast<int>(std::ceil(xb)) - 1);
  const int j0 = std::max(0, static_cast<int>(std::floor(ya))), j1 = std::min(bh - 1, static_cast<int>(std::ceil(yb)) - 1);
  double sum = 0, weight = 0;
  for (int j = j0; j <= j1; ++j) {
    const double oy = std::min(yb, j + 1.0) - std::max(ya, static_cast<double>(j));
    for (int i = i0; i <= i1; ++i) {
      const float s = buf[static_cast<std::size_t>(j) * bw + i];
      if (nodata.missing(s)) continue;
      const double w = oy * (std::min(xb, i + 1.0) - std::max(xa, static_cast<double>(i)));
      sum += w * s;
      weight += w;
    }
  }
  if (weight < kMinValidFootprintShare * side * side || weight <= 0) return false;
  out = static_cast<float>(sum / weight);
  return true;
}

/// @throws InvalidInput when `band` is not in 1..count.
void require_band(const std::filesystem::path& file, int band, int count) {
  if (band < 1 || band > count)
    throw InvalidInput(file.string() + ": no band " + std::to_string(band) + " (it has " + std::to_string(count) + ")");
}

/// "z/x/y" for messages.
std::string tile_name(const TileId& t) {
  return std::to_string(t.z) + "/" + std::to_string(t.x) + "/" + std::to_string(t.y);
}

}  // namespace

TileImage TileRenderer::render(const TileId& t, const TileStyle& style) const {
  if (!is_valid_tile(t))
    throw InvalidInput("tile " + tile_name(t) + " is outside the XYZ grid (z 0.." + std::to_string(kMaxTileZoom) +
                       ", x and y 0..2^z-1)");
  require_band(shared_->path, style.band, band_count_);
  const ColormapTable& colors = colormap_by_name(style.colormap_name);
  const Rescale rescale = style.rescale ? *style.rescale : default_rescale(style.band);
  TileImage img;
  img.rgba.assign(static_cast<std::size_t>(kTilePixels) * 4, 0);
  if (!touches(t)) return img;

  Shared::Lease lease(*shared_);
  Worker& w = *lease.worker;
  shared_->map_tile(w, t);
  const double width = shared_->width, height = shared_->height;

  // the finest scale among the cells that meet the raster picks the level
  double finest = std::numeric_limits<double>::infinity();
  for (int c = 0; c < kGridCells * kGridCells; ++c) {
    const double s = w.cell_scale[static_cast<std::size_t>(c)];
    if (!std::isfinite(s)) continue;
    const std::size_t p0 = static_cast<std::size_t>(c / kGridCells * kGridStepPx) * kTileSizePx + c % kGridCells * kGridStepPx;
    const std::size_t p1 = p0 + static_cast<std::size_t>(kGridStepPx - 1) * (kTileSizePx + 1);
    const double umin = std::min(w.u[p0], w.u[p1]) - s, umax = std::max(w.u[p0], w.u[p1]) + s;
    const double vmin = std::min(w.v[p0], w.v[p1]) - s, vmax = std::max(w.v[p0], w.v[p1]) + s;
    if (umax >= 0 && vmax >= 0 && umin <= width && vmin <= height) finest = std::min(finest, s);
  }
  if (!std::isfinite(finest)) finest = 1.0;

  auto* ds = static_cast<GDALDatasetH>(w.dataset.get());
  GDALRasterBandH band = GDALGetRasterBand(ds, style.band);
  NodataTest nodata;
  int has_nodata = 0;
  const double nodata_value = GDALGetRasterNoDataValue(band, &has_nodata);
  if (has_nodata && !std::isnan(nodata_value)) {
    nodata.has_value = true;
    nodata.value = static_cast<float>(nodata_value);
  }
  // the coarsest overview whose decimation does not exceed the finest scale
  GDALRasterBandH level = band;
  double fx = 1, fy = 1;
  int level_w = shared_->width, level_h = shared_->height;
  for (int i = 0, n = GDALGetOverviewCount(band); i < n; ++i) {
    GDALRasterBandH ov = GDALGetOverview(band, i);
    const int ow = GDALGetRasterBandXSize(ov), oh = GDALGetRasterBandYSize(ov);
    const double f = width / ow;
    if (f <= finest * (1 + 1e-9) && f > fx) {
      level = ov;
      fx = f;
      fy = height / oh;
      level_w = ow;
      level_h = oh;
    }
  }

  // the window: every tile pixel's footprint that meets the level (an interpolated cell's pixels
  // lie within the box of its four corner pixels)
  const auto cell_pixel = [](int cell, int r, int q) {
    return static_cast<std::size_t>(cell / kGridCells * kGridStepPx + r) * kTileSizePx + cell % kGridCells * kGridStepPx + q;
  };
  const auto scale_of = [&](int cell) {
    const double s = w.cell_scale[static_cast<std::size_t>(cell)];
    return std::isfinite(s) ? s : finest;
  };
  double umin = std::numeric_limits<double>::infinity(), vmin = umin, umax = -umin, vmax = -umin;
  for (int c = 0; c < kGridCells * kGridCells; ++c) {
    const double half = 0.5 * std::max(1.0, scale_of(c) / fx) + 1.0;
    double cu0 = std::numeric_limits<double>::infinity(), cv0 = cu0, cu1 = -cu0, cv1 = -cu0;
    const auto include = [&](std::size_t p) {
      const double u = w.u[p] / fx, v = w.v[p] / fy;
      if (!std::isfinite(u) || !std::isfinite(v)) return;
      cu0 = std::min(cu0, u - half);
      cu1 = std::max(cu1, u + half);
      cv0 = std::min(cv0, v - half);
      cv1 = std::max(cv1, v + half);
    };
    if (w.cell_exact[static_cast<std::size_t>(c)]) {
      for (int r = 0; r < kGridStepPx; ++r)
        for (int q = 0; q < kGridStepPx; ++q) include(cell_pixel(c, r, q));
    } else {
      for (int r : {0, kGridStepPx - 1})
        for (int q : {0, kGridStepPx - 1}) include(cell_pixel(c, r, q));
    }
    // the cell's box, clipped to the level
    cu0 = std::max(cu0, 0.0);
    cv0 = std::max(cv0, 0.0);
    cu1 = std::min<double>(cu1, level_w);
    cv1 = std::min<double>(cv1, level_h);
    if (!(cu0 < cu1 && cv0 < cv1)) continue;
    umin = std::min(umin, cu0);
    umax = std::max(umax, cu1);
    vmin = std::min(vmin, cv0);
    vmax = std::max(vmax, cv1);
  }
  if (!(umin <= umax)) return img;
  Window win;
  win.x0 = static_cast<int>(std::max(0.0, std::floor(umin)));
  win.y0 = static_cast<int>(std::max(0.0, std::floor(vmin)));
  win.width = static_cast<int>(std::min<double>(level_w, std::ceil(umax))) - win.x0;
  win.height = static_cast<int>(std::min<double>(level_h, std::ceil(vmax))) - win.y0;
  if (win.width <= 0 || win.height <= 0) return img;
  const double level_finest = finest / fx;
  const int reduce = level_finest > kMaxOwnFootprintPx ? static_cast<int>(level_finest / 2) : 1;
  win.buf_width = (win.width + reduce - 1) / reduce;
  win.buf_height = (win.height + reduce - 1) / reduce;
  win.scale_x = static_cast<double>(win.buf_width) / win.width;
  win.scale_y = static_cast<double>(win.buf_height) / win.height;
  w.samples.resize(static_cast<std::size_t>(win.buf_width) * win.buf_height);
  GDALRasterIOExtraArg extra;
  INIT_RASTERIO_EXTRA_ARG(extra);
  extra.eResampleAlg = reduce > 1 ? GRIORA_Average : GRIORA_NearestNeighbour;
  if (GDALRasterIOEx(level, GF_Read, win.x0, win.y0, win.width, win.height, w.samples.data(), win.buf_width,
                     win.buf_height, GDT_Float32, 0, 0, &extra) != CE_None)
    throw Internal(shared_->path.string() + ": cannot read pixels: " + CPLGetLastErrorMsg());

  const double to_buf_x = win.scale_x / fx, to_buf_y = win.scale_y / fy;
  for (int c = 0; c < kGridCells * kGridCells; ++c) {
    const double side = scale_of(c) * to_buf_x;  // footprint side in buffer pixels
    const bool zoomed_in = side <= 1.0;
    for (int r = 0; r < kGridStepPx; ++r)
      for (int q = 0; q < kGridStepPx; ++q) {
        const std::size_t p = cell_pixel(c, r, q);
        const double bu = w.u[p] * to_buf_x - win.x0 * win.scale_x, bv = w.v[p] * to_buf_y - win.y0 * win.scale_y;
        float value = 0;
        const bool ok = zoomed_in ? sample_bilinear(w.samples, win.buf_width, win.buf_height, nodata, bu, bv, value)
                                  : sample_area(w.samples, win.buf_width, win.buf_height, nodata, bu, bv, side, value);
        if (!ok) continue;  // also NaN coordinates: the comparisons in the samplers fail
        const Rgba& color = colors[rescale.index(value)];
        std::copy(color.begin(), color.end(), img.rgba.begin() + static_cast<std::ptrdiff_t>(p * 4));
        img.any_opaque = img.any_opaque || color[3] != 0;
      }
  }
  return img;
}

std::string TileRenderer::render_png(const TileId& t, const TileStyle& style) const {
  const TileImage img = render(t, style);
  if (!img.any_opaque) return empty_tile_png();
  return encode_png_rgba(img.rgba, kTileSizePx, kTileSizePx);
}

Rescale TileRenderer::default_rescale(int band) const {
  require_band(shared_->path, band, band_count_);
  std::lock_guard lock(shared_->range_mutex);
  auto it = shared_->ranges.find(band);
  if (it == shared_->ranges.end()) {
    Shared::Lease lease(*shared_);
    GDALRasterBandH b = GDALGetRasterBand(static_cast<GDALDatasetH>(lease.worker->dataset.get()), band);
    const bool approx = static_cast<std::int64_t>(shared_->width) * shared_->height > kExactRangeMaxPixels;
    std::array<double, 2> min_max{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    std::pair<double, double> range{0.0, 1.0};  // an empty band: anything will do, nothing is drawn
    if (GDALComputeRasterMinMax(b, approx, min_max.data()) == CE_None && std::isfinite(min_max[0]) &&
        std::isfinite(min_max[1]))
      range = min_max[0] < min_max[1] ? std::pair{min_max[0], min_max[1]}
                                      : std::pair{min_max[0], min_max[0] + std::max(1.0, std::abs(min_max[0]))};
    it = shared_->ranges.emplace(band, range).first;
  }
  return Rescale(it->second.first, it->second.second);
}

std::string TileRenderer::etag(const TileId& t, const TileStyle& style) const { return tile_etag(identity_, t, style); }

std::string tile_etag(const RasterIdentity& raster, const TileId& t, const TileStyle& style) {
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "|%ju|%ju|%" PRId64 "|%d/%d/%d|b%d|", raster.size_bytes, raster.inode,
                raster.mtime_ns, t.z, t.x, t.y, style.band);
  std::string text = "plumetrace-tile-v" + std::to_string(kRendererVersion) + "|" + raster.path + numbers;
  if (style.rescale) {
    char range[64];
    std::snprintf(range, sizeof range, "%.17g,%.17g", style.rescale->lo(), style.rescale->hi());
    text += range;
  } else {
    text += "auto";
  }
  text += "|" + style.colormap_name;
  char tag[24];
  std::snprintf(tag, sizeof tag, "\"%016" PRIx64 "\"", fnv1a64(text));
  return tag;
}

const std::string& empty_tile_png() {
  static const std::string png =
      encode_png_rgba(std::vector<std::uint8_t>(static_cast<std::size_t>(kTilePixels) * 4, 0), kTileSizePx, kTileSizePx);
  return png;
}

}  // namespace plumetrace

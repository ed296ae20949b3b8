/// Readers of the GDAL/OGR inputs of a case folder: sources and traces as OGR vectors, imagery
/// metadata, boundary polygons and gridded met (u, v) fields.

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <utility>

#include "ingest_util.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/ingest/readers.hpp"

namespace plumetrace {

using namespace ingest_detail;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void ensure_gdal() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

/// Collects GDAL error messages while alive instead of letting GDAL print them (scoped,
/// thread-local handler; no global state left behind).
class ErrorCapture {
 public:
  ErrorCapture() { CPLPushErrorHandlerEx(&ErrorCapture::handler, this); }
  ~ErrorCapture() { CPLPopErrorHandler(); }
  ErrorCapture(const ErrorCapture&) = delete;
  ErrorCapture& operator=(const ErrorCapture&) = delete;
  [[nodiscard]] std::string last() const { return last_.empty() ? "not a readable file" : last_; }
  /// The last message since the previous take ("" when none), cleared.
  [[nodiscard]] std::string take() { return std::exchange(last_, std::string()); }

 private:
  static void CPL_STDCALL handler(CPLErr cls, CPLErrorNum, const char* msg) {
    auto* self = static_cast<ErrorCapture*>(CPLGetErrorHandlerUserData());
    if (self != nullptr && cls >= CE_Failure && msg != nullptr) self->last_ = msg;
  }
  std::string last_;
};

/// Sets a thread-local GDAL config option for the lifetime of the object.
class ScopedConfig {
 public:
  ScopedConfig(const char* key, const char* value) : key_(key) {
    const char* old = CPLGetThreadLocalConfigOption(key, nullptr);
    if (old != nullptr) old_ = old;
    had_ = old != nullptr;
    CPLSetThreadLocalConfigOption(key, value);
  }
  ~ScopedConfig() { CPLSetThreadLocalConfigOption(key_, had_ ? old_.c_str() : nullptr); }
  ScopedConfig(const ScopedConfig&) = delete;
  ScopedConfig& operator=(const ScopedConfig&) = delete;

 private:
  const char* key_;
  std::string old_;
  bool had_{};
};

struct DatasetCloser {
  void operator()(void* ds) const noexcept { GDALClose(static_cast<GDALDatasetH>(ds)); }
};
using Dataset = std::unique_ptr<void, DatasetCloser>;
struct FeatureCloser {
  void operator()(void* f) const noexcept { OGR_F_Destroy(static_cast<OGRFeatureH>(f)); }
};
using Feature = std::unique_ptr<void, FeatureCloser>;
struct SrsCloser {
  void operator()(void* s) const noexcept { OSRDestroySpatialReference(static_cast<OGRSpatialReferenceH>(s)); }
};
using Srs = std::unique_ptr<void, SrsCloser>;
struct CtCloser {
  void operator()(void* t) const noexcept { OCTDestroyCoordinateTransformation(static_cast<OGRCoordinateTransformationH>(t)); }
};
using Transform = std::unique_ptr<void, CtCloser>;

/// Refuse names GDAL would interpret specially: /vsi* virtual file systems, VRT, driver prefixes.
bool safe_path(const std::filesystem::path& path, const std::string& file, Diagnostics& diag) {
  const std::string s = path.string();
  const std::string ext = ascii_lower(path.extension().string());
  if (s.rfind("/vsi", 0) == 0 || ext == ".vrt" || ext == ".ovf") {
    diag.reject(file, 0, "refused: virtual file systems and VRT files are not accepted");
    return false;
  }
  return true;
}

/// Reads a layer's features with GDAL's messages captured: what the driver says while reading a
/// feature (an invalid geometry, ...) goes into that feature's rejection instead of stderr.
class FeatureCursor {
 public:
  explicit FeatureCursor(OGRLayerH layer) : layer_(layer) { OGR_L_ResetReading(layer); }
  Feature next() {
    (void)errors_.take();
    return Feature(OGR_L_GetNextFeature(layer_));
  }
  /// `reason`, followed by what GDAL said about the current feature, if anything.
  std::string why(const std::string& reason) {
    const std::string said = errors_.take();
    return said.empty() ? reason : reason + " (" + said + ")";
  }

 private:
  OGRLayerH layer_;
  ErrorCapture errors_;
};

Dataset open_dataset(const std::filesystem::path& path, const std::string& file, unsigned flags,
                     const char* const* drivers, Diagnostics& diag) {
  ensure_gdal();
  if (!safe_path(path, file, diag)) return nullptr;
  ErrorCapture errors;
  ScopedConfig no_readdir("GDAL_DISABLE_READDIR_ON_OPEN", "TRUE");
  GDALDatasetH ds = GDALOpenEx(path.c_str(), flags | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                               drivers, nullptr, nullptr);
  if (ds == nullptr) {
    diag.reject(file, 0, "cannot open with GDAL/OGR: " + errors.last());
    return nullptr;
  }
  return Dataset(ds);
}

constexpr const char* kVectorDrivers[] = {"GeoJSON", "GeoJSONSeq", "GPKG", "ESRI Shapefile",
                                          "FlatGeobuf", "GPX", "KML", nullptr};
constexpr const char* kImageryDrivers[] = {"GTiff", "COG", "PNG", "JPEG", "HFA", "JP2OpenJPEG",
                                           "WEBP", "netCDF", nullptr};
constexpr const char* kMetDrivers[] = {"GRIB", "netCDF", "GTiff", "COG", nullptr};

/// A transform from `srs` (may be null = WGS 84) to WGS 84 lon/lat, or null when none is needed.
Transform to_wgs84(OGRSpatialReferenceH srs) {
  if (srs == nullptr) return nullptr;
  Srs wgs(OSRNewSpatialReference(nullptr));
  OSRSetWellKnownGeogCS(static_cast<OGRSpatialReferenceH>(wgs.get()), "WGS84");
  OSRSetAxisMappingStrategy(static_cast<OGRSpatialReferenceH>(wgs.get()), OAMS_TRADITIONAL_GIS_ORDER);
  Srs src(OSRClone(srs));
  OSRSetAxisMappingStrategy(static_cast<OGRSpatialReferenceH>(src.get()), OAMS_TRADITIONAL_GIS_ORDER);
  if (OSRIsSame(static_cast<OGRSpatialReferenceH>(src.get()), static_cast<OGRSpatialReferenceH>(wgs.get())))
    return nullptr;
  ErrorCapture quiet;
  auto* ct = OCTNewCoordinateTransformation(static_cast<OGRSpatialReferenceH>(src.get()),
                                            static_cast<OGRSpatialReferenceH>(wgs.get()));
  if (ct == nullptr) throw Internal("cannot build a transformation to WGS 84: " + quiet.last());
  return Transform(ct);
}

/// Format an OGR date-time field as ISO 8601 (naive when its time zone flag is unknown/local).
std::string ogr_datetime_iso(OGRFeatureH f, int i) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, tzf = 0;
  float sec = 0;
  if (!OGR_F_GetFieldAsDateTimeEx(f, i, &y, &mo, &d, &h, &mi, &sec, &tzf)) return {};
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%06.3f", y, mo, d, h, mi,
                        static_cast<double>(sec));
  if (tzf >= 100) {
    const int off = (tzf - 100) * 15;
    const int a = std::abs(off);
    std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", off < 0 ? '-' : '+', a / 60, a % 60);
  }
  return buf;
}

/// Text of any field: date-times as ISO 8601, reals with full precision, null/unset as "".
std::string field_text(OGRFeatureH f, OGRFieldDefnH fd, int i) {
  if (!OGR_F_IsFieldSetAndNotNull(f, i)) return {};
  switch (OGR_Fld_GetType(fd)) {
    case OFTDateTime:
    case OFTDate:
      return ogr_datetime_iso(f, i);
    case OFTReal:
      return exact_num(OGR_F_GetFieldAsDouble(f, i));
    default:
      return OGR_F_GetFieldAsString(f, i);
  }
}

/// Points of a point/multipoint geometry (x, y, z or NaN), transformed to WGS 84.
bool point_of(OGRGeometryH g, OGRCoordinateTransformationH ct, double& lon, double& lat, double& z) {
  if (g == nullptr) return false;
  const auto t = wkbFlatten(OGR_G_GetGeometryType(g));
  if (t != wkbPoint || OGR_G_IsEmpty(g)) return false;
  lon = OGR_G_GetX(g, 0);
  lat = OGR_G_GetY(g, 0);
  z = OGR_G_CoordinateDimension(g) >= 3 ? OGR_G_GetZ(g, 0) : kNaN;
  if (ct != nullptr && !OCTTransform(ct, 1, &lon, &lat, nullptr)) return false;
  return true;
}

/// A CsvRecord whose fields view strings owned by this object.
struct OwnedRecord {
  std::vector<std::string> cells;
  void to(CsvRecord& rec, std::size_t line) const {
    rec.fields.assign(cells.begin(), cells.end());
    rec.line = line;
    rec.unterminated_quote = false;
    rec.invalid_utf8_field = -1;
    for (std::size_t i = 0; i < cells.size(); ++i)
      if (!is_valid_utf8(cells[i])) {
        rec.invalid_utf8_field = static_cast<int>(i);
        break;
      }
  }
};

CsvHeader header_of(const std::vector<std::string>& names) {
  CsvRecord r;
  r.fields.assign(names.begin(), names.end());
  return CsvHeader(r);
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Parse a JSON sidecar; on error reject it and return null.
std::optional<nlohmann::json> read_sidecar(const std::filesystem::path& p, const std::string& file,
                                           Diagnostics& diag) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return std::nullopt;
  const std::string text = read_text(p);
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) {
      diag.reject(file, 1, "sidecar JSON must be an object; ignored");
      return std::nullopt;
    }
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    const std::size_t byte = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    diag.reject(file, 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n')),
                "invalid JSON in sidecar; ignored");
    return std::nullopt;
  }
}

std::string json_string(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

/// Whole-file check of raster size against limits; rejects and returns false when exceeded.
bool raster_size_ok(GDALDatasetH ds, const std::string& file, const RasterLimits& limits,
                    Diagnostics& diag) {
  const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds), b = GDALGetRasterCount(ds);
  if (w <= 0 || h <= 0 || b <= 0) {
    diag.reject(file, 0, "raster has no pixels or no band");
    return false;
  }
  if (w > limits.max_side_px || h > limits.max_side_px ||
      static_cast<double>(w) * h * b > limits.max_pixels) {
    diag.reject(file, 0,
                "raster " + std::to_string(w) + " x " + std::to_string(h) + " x " +
                    std::to_string(b) + " exceeds the size limit");
    return false;
  }
  return true;
}

/// Geotransform and CRS; false (with a rejection) when the raster is not georeferenced.
bool georef(GDALDatasetH ds, const std::string& file, double gt[6], std::string& wkt,
            Diagnostics& diag) {
  if (GDALGetGeoTransform(ds, gt) != CE_None ||
      (gt[0] == 0 && gt[1] == 1 && gt[2] == 0 && gt[3] == 0 && gt[4] == 0 && gt[5] == 1)) {
    diag.reject(file, 0, "raster is not georeferenced (no geotransform); file not used");
    return false;
  }
  const char* w = GDALGetProjectionRef(ds);
  wkt = w != nullptr ? w : "";
  return true;
}

/// Time from text: ISO 8601, or GeoTIFF "YYYY:MM:DD hh:mm:ss".
std::optional<EpochSeconds> parse_time_text(std::string s, const TimeZone& tz) {
  s = std::string(trim_view(s));
  if (s.size() >= 19 && s[4] == ':' && s[7] == ':') {
    s[4] = '-';
    s[7] = '-';
  }
  EpochSeconds t = 0;
  if (parse_iso8601(s, tz, t)) return t;
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// sources

std::vector<Source> read_sources_ogr(const std::filesystem::path& path, const std::string& file,
                                     Diagnostics& diag) {
  Dataset ds = open_dataset(path, file, GDAL_OF_VECTOR, kVectorDrivers, diag);
  if (!ds) return {};
  if (GDALDatasetGetLayerCount(ds.get()) < 1) {
    diag.reject(file, 0, "no layer");
    return {};
  }
  OGRLayerH layer = GDALDatasetGetLayer(ds.get(), 0);
  Transform ct = to_wgs84(OGR_L_GetSpatialRef(layer));
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
  const int nf = OGR_FD_GetFieldCount(defn);
  std::vector<std::string> names;
  for (int i = 0; i < nf; ++i) {
    std::string n = ascii_lower(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
    if (n == "lon" || n == "lat") n = "property_" + n;  // geometry wins
    names.push_back(n);
  }
  names.emplace_back("lon");
  names.emplace_back("lat");
  const CsvHeader h = header_of(names);
  FeatureCursor cursor(layer);
  std::size_t feature_no = 0;
  OwnedRecord owned;
  auto next = [&](CsvRecord& rec) -> bool {
    for (;;) {
      Feature f = cursor.next();
      if (!f) return false;
      ++feature_no;
      auto* fh = static_cast<OGRFeatureH>(f.get());
      double lon = 0, lat = 0, z = 0;
      if (!point_of(OGR_F_GetGeometryRef(fh), ct.get(), lon, lat, z)) {
        diag.reject(file, feature_no, cursor.why("feature has no point geometry"));
        continue;
      }
      owned.cells.clear();
      for (int i = 0; i < nf; ++i) owned.cells.push_back(field_text(fh, OGR_FD_GetFieldDefn(defn, i), i));
      owned.cells.push_back(exact_num(lon));
      owned.cells.push_back(exact_num(lat));
      owned.to(rec, feature_no);
      return true;
    }
  };
  return sources_from_rows(h, next, file, diag);
}

// ---------------------------------------------------------------------------------------------
// traces

namespace {

bool is_gpx_standard_field(const std::string& n) {
  static const char* const kStd[] = {
      "track_fid", "track_seg_id", "track_seg_point_id", "route_fid", "route_point_id", "ele",
      "time", "magvar", "geoidheight", "name", "cmt", "desc", "src", "link1_href", "link1_text",
      "link1_type", "link2_href", "link2_text", "link2_type", "sym", "type", "fix", "sat", "hdop",
      "vdop", "pdop", "ageofdgpsdata", "dgpsid"};
  return std::find(std::begin(kStd), std::end(kStd), n) != std::end(kStd);
}

/// GPX extension fields come as "<namespace prefix>_<element>": drop a short prefix unless the
/// whole name is already a known met variable ("wind_speed").
std::string gpx_variable_name(const std::string& n) {
  const auto k = n.find('_');
  if (k == std::string::npos || k > 4 || k + 1 >= n.size()) return n;
  if (variable_kind(n) != VariableKind::kConcentration) return n;
  return n.substr(k + 1);
}

bool is_numeric_type(OGRFieldType t) { return t == OFTInteger || t == OFTInteger64 || t == OFTReal; }

}  // namespace

Trace read_trace_ogr(const std::filesystem::path& path, const std::string& file,
                     const std::string& name, const TimeZone& tz, Diagnostics& diag) {
  Trace empty;
  empty.name = name;
  empty.file = file;
  empty.platform = name;
  Dataset ds = open_dataset(path, file, GDAL_OF_VECTOR, kVectorDrivers, diag);
  if (!ds) return empty;
  const bool gpx = std::string(GDALGetDriverShortName(GDALGetDatasetDriver(ds.get()))) == "GPX";
  OGRLayerH layer = nullptr;
  if (gpx) {
    for (const char* ln : {"track_points", "route_points", "waypoints"}) {
      OGRLayerH l = GDALDatasetGetLayerByName(ds.get(), ln);
      if (l != nullptr && OGR_L_GetFeatureCount(l, TRUE) > 0) {
        layer = l;
        break;
      }
    }
  } else if (GDALDatasetGetLayerCount(ds.get()) > 0) {
    layer = GDALDatasetGetLayer(ds.get(), 0);
  }
  if (layer == nullptr) {
    diag.reject(file, 0, "no layer with points");
    return empty;
  }
  Transform ct = to_wgs84(OGR_L_GetSpatialRef(layer));
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
  const int nf = OGR_FD_GetFieldCount(defn);
  int f_time = -1, f_alt = -1, f_plat = -1;
  std::vector<int> var_fields;
  std::vector<std::string> names = {"time", "lon", "lat", "alt_m", "platform"};
  for (int i = 0; i < nf; ++i) {
    OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
    const std::string n = ascii_lower(OGR_Fld_GetNameRef(fd));
    if (n == "time" || n == "timestamp" || n == "datetime") {
      if (f_time < 0) f_time = i;
    } else if (n == "alt_m" || n == "ele" || n == "alt" || n == "altitude") {
      if (f_alt < 0) f_alt = i;
    } else if (n == "platform") {
      f_plat = i;
    } else if (gpx && is_gpx_standard_field(n)) {
      continue;
    } else if (is_numeric_type(OGR_Fld_GetType(fd)) && n != "id" && n != "fid") {
      var_fields.push_back(i);
      names.push_back(gpx ? gpx_variable_name(n) : n);
    }
  }
  const CsvHeader h = header_of(names);
  FeatureCursor cursor(layer);
  std::size_t feature_no = 0;
  OwnedRecord owned;
  // vertices of a LineString(M) feature still to hand out
  std::vector<std::array<double, 4>> pending;  // lon, lat, z, m
  std::size_t pending_pos = 0;
  std::size_t pending_feature = 0;
  auto next = [&](CsvRecord& rec) -> bool {
    for (;;) {
      if (pending_pos < pending.size()) {
        const auto& v = pending[pending_pos++];
        owned.cells.assign({format_iso8601(v[3]), exact_num(v[0]), exact_num(v[1]),
                            std::isnan(v[2]) ? std::string{} : exact_num(v[2]), std::string{}});
        owned.cells.resize(names.size());
        owned.to(rec, pending_feature);
        return true;
      }
      Feature f = cursor.next();
      if (!f) return false;
      ++feature_no;
      auto* fh = static_cast<OGRFeatureH>(f.get());
      OGRGeometryH g = OGR_F_GetGeometryRef(fh);
      if (g != nullptr && wkbFlatten(OGR_G_GetGeometryType(g)) == wkbLineString) {
        if (!OGR_G_IsMeasured(g)) {
          diag.reject(file, feature_no, "line without M values (epoch seconds): no sample times");
          continue;
        }
        pending.clear();
        pending_pos = 0;
        pending_feature = feature_no;
        const int np = OGR_G_GetPointCount(g);
        for (int k = 0; k < np; ++k) {
          double x = 0, y = 0, z = 0, m = 0;
          OGR_G_GetPointZM(g, k, &x, &y, &z, &m);
          if (ct != nullptr) OCTTransform(ct.get(), 1, &x, &y, nullptr);
          pending.push_back({x, y, OGR_G_Is3D(g) ? z : kNaN, m});
        }
        continue;
      }
      double lon = 0, lat = 0, z = 0;
      if (!point_of(g, ct.get(), lon, lat, z)) {
        diag.reject(file, feature_no, cursor.why("feature has no point (or measured line) geometry"));
        continue;
      }
      owned.cells.clear();
      owned.cells.push_back(f_time >= 0 ? field_text(fh, OGR_FD_GetFieldDefn(defn, f_time), f_time)
                                        : std::string{});
      owned.cells.push_back(exact_num(lon));
      owned.cells.push_back(exact_num(lat));
      std::string alt = f_alt >= 0 ? field_text(fh, OGR_FD_GetFieldDefn(defn, f_alt), f_alt) : "";
      if (alt.empty() && !std::isnan(z)) alt = exact_num(z);
      owned.cells.push_back(alt);
      owned.cells.push_back(f_plat >= 0 ? field_text(fh, OGR_FD_GetFieldDefn(defn, f_plat), f_plat)
                                        : std::string{});
      for (const int i : var_fields) owned.cells.push_back(field_text(fh, OGR_FD_GetFieldDefn(defn, i), i));
      owned.to(rec, feature_no);
      return true;
    }
  };
  return trace_from_rows(h, next, file, name, tz, diag);
}

// ---------------------------------------------------------------------------------------------
// imagery

std::optional<Imagery> read_imagery(const std::filesystem::path& path, const std::string& file,
                                    const TimeZone& tz, Diagnostics& diag,
                                    const RasterLimits& limits) {
  Dataset dsp = open_dataset(path, file, GDAL_OF_RASTER, kImageryDrivers, diag);
  if (!dsp) return std::nullopt;
  auto* ds = static_cast<GDALDatasetH>(dsp.get());
  if (!raster_size_ok(ds, file, limits, diag)) return std::nullopt;
  Imagery im;
  im.name = path.stem().string();
  im.file = file;
  im.path = std::filesystem::absolute(path);
  im.width = GDALGetRasterXSize(ds);
  im.height = GDALGetRasterYSize(ds);
  if (!georef(ds, file, im.geotransform, im.crs_wkt, diag)) return std::nullopt;

  // WGS 84 bounds: transform points along the four edges.
  Srs srs;
  if (!im.crs_wkt.empty()) {
    srs.reset(OSRNewSpatialReference(im.crs_wkt.c_str()));
  }
  Transform ct = to_wgs84(static_cast<OGRSpatialReferenceH>(srs.get()));
  double lon_min = 1e300, lon_max = -1e300, lat_min = 1e300, lat_max = -1e300;
  constexpr int kSteps = 20;
  for (int e = 0; e < 4; ++e) {
    for (int k = 0; k <= kSteps; ++k) {
      const double a = static_cast<double>(k) / kSteps;
      double px = 0, py = 0;
      switch (e) {
        case 0: px = a * im.width; py = 0; break;
        case 1: px = im.width; py = a * im.height; break;
        case 2: px = a * im.width; py = im.height; break;
        default: px = 0; py = a * im.height; break;
      }
      double x = im.geotransform[0] + px * im.geotransform[1] + py * im.geotransform[2];
      double y = im.geotransform[3] + px * im.geotransform[4] + py * im.geotransform[5];
      if (ct != nullptr && !OCTTransform(ct.get(), 1, &x, &y, nullptr)) continue;
      lon_min = std::min(lon_min, x);
      lon_max = std::max(lon_max, x);
      lat_min = std::min(lat_min, y);
      lat_max = std::max(lat_max, y);
    }
  }
  if (!(lon_min <= lon_max) || lon_min < -180.0001 || lon_max > 180.0001 || lat_min < -90.0001 ||
      lat_max > 90.0001) {
    diag.reject(file, 0,
                im.crs_wkt.empty() ? "raster has no CRS and its coordinates are not lon/lat"
                                   : "raster bounds cannot be expressed in WGS 84");
    return std::nullopt;
  }
  im.lon_min = lon_min;
  im.lon_max = lon_max;
  im.lat_min = lat_min;
  im.lat_max = lat_max;

  // bands: metadata, then the sidecar (which wins)
  const char* ds_time = GDALGetMetadataItem(ds, "time", nullptr);
  if (ds_time == nullptr) ds_time = GDALGetMetadataItem(ds, "TIFFTAG_DATETIME", nullptr);
  const int nb = GDALGetRasterCount(ds);
  for (int b = 1; b <= nb; ++b) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b);
    ImageryBand ib;
    ib.band = b;
    const char* var = GDALGetMetadataItem(band, "variable", nullptr);
    const char* desc = GDALGetDescription(band);
    ib.variable = ascii_lower(trim_view(var != nullptr ? var : (desc != nullptr ? desc : "")));
    const char* unit = GDALGetMetadataItem(band, "unit", nullptr);
    ib.unit = unit != nullptr ? unit : GDALGetRasterUnitType(band);
    const char* t = GDALGetMetadataItem(band, "time", nullptr);
    if (t == nullptr) t = ds_time;
    if (t != nullptr) {
      ib.time_s = parse_time_text(t, tz);
      if (!ib.time_s) diag.warn(file, "band " + std::to_string(b) + ": time '" + t + "' not understood");
    }
    int has_nodata = 0;
    const double nd = GDALGetRasterNoDataValue(band, &has_nodata);
    if (has_nodata) ib.nodata = nd;
    im.bands.push_back(ib);
  }
  const std::filesystem::path side = path.parent_path() / (path.stem().string() + ".json");
  const std::string side_file = std::filesystem::path(file).replace_extension(".json").string();
  if (auto j = read_sidecar(side, side_file, diag)) {
    auto apply = [&](ImageryBand& ib, const nlohmann::json& o) {
      if (const auto v = json_string(o, "variable"); !v.empty()) ib.variable = ascii_lower(trim_view(v));
      if (o.contains("unit") && o["unit"].is_string()) ib.unit = o["unit"].get<std::string>();
      if (const auto t = json_string(o, "time"); !t.empty()) {
        ib.time_s = parse_time_text(t, tz);
        if (!ib.time_s) diag.reject(side_file, 0, "time '" + t + "' is not ISO 8601; ignored");
      }
      if (o.contains("nodata") && o["nodata"].is_number()) ib.nodata = o["nodata"].get<double>();
    };
    if (j->contains("bands") && (*j)["bands"].is_array()) {
      const auto& arr = (*j)["bands"];
      if (arr.size() != im.bands.size())
        diag.warn(side_file, "sidecar describes " + std::to_string(arr.size()) + " bands, raster has " +
                                 std::to_string(im.bands.size()));
      for (std::size_t i = 0; i < std::min(arr.size(), im.bands.size()); ++i)
        if (arr[i].is_object()) apply(im.bands[i], arr[i]);
    } else {
      for (auto& ib : im.bands) apply(ib, *j);
    }
  }
  for (const auto& ib : im.bands)
    if (ib.variable.empty())
      diag.warn(file, "band " + std::to_string(ib.band) +
                          " has no variable (band description, metadata or sidecar NAME.json)");
  return im;
}

// ---------------------------------------------------------------------------------------------
// boundaries

std::optional<BoundaryLayer> read_boundaries(const std::filesystem::path& path,
                                             const std::string& file, const std::string& code_field,
                                             const std::string& name_field, Diagnostics& diag) {
  std::string ext = path.extension().string();
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ext == ".geojson" || ext == ".json") {
    if (auto layer = read_plain_geojson_boundaries(path, code_field, name_field)) return layer;
  }
  return read_boundaries_with_gdal(path, file, code_field, name_field, diag);
}

std::optional<BoundaryLayer> read_boundaries_with_gdal(const std::filesystem::path& path,
                                                       const std::string& file,
                                                       const std::string& code_field,
                                                       const std::string& name_field,
                                                       Diagnostics& diag) {
  Dataset ds = open_dataset(path, file, GDAL_OF_VECTOR, kVectorDrivers, diag);
  if (!ds) return std::nullopt;
  if (GDALDatasetGetLayerCount(ds.get()) < 1) {
    diag.reject(file, 0, "no layer");
    return std::nullopt;
  }
  OGRLayerH layer = GDALDatasetGetLayer(ds.get(), 0);
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
  int f_code = -1;
  if (!code_field.empty()) {
    f_code = OGR_FD_GetFieldIndex(defn, code_field.c_str());
    if (f_code < 0) {
      diag.reject(file, 1, "code field '" + code_field + "' not found; file not read");
      return std::nullopt;
    }
  } else {
    f_code = OGR_FD_GetFieldIndex(defn, "adcode");
    if (f_code < 0) f_code = OGR_FD_GetFieldIndex(defn, "code");
    if (f_code < 0) {
      diag.reject(file, 1, "no code field (adcode or code; set boundaries.code_field); file not read");
      return std::nullopt;
    }
  }
  const std::string nf = name_field.empty() ? "name" : name_field;
  const int f_name = OGR_FD_GetFieldIndex(defn, nf.c_str());
  if (f_name < 0) diag.warn(file, "name field '" + nf + "' not found; names left empty");
  Transform ct = to_wgs84(OGR_L_GetSpatialRef(layer));
  BoundaryLayer out;
  out.file = path.string();
  FeatureCursor cursor(layer);
  std::size_t feature_no = 0;
  for (;;) {
    Feature f = cursor.next();
    if (!f) break;
    ++feature_no;
    auto* fh = static_cast<OGRFeatureH>(f.get());
    OGRGeometryH g = OGR_F_GetGeometryRef(fh);
    BoundaryFeature bf;
    bf.code = std::string(trim_view(OGR_F_GetFieldAsString(fh, f_code)));
    if (f_name >= 0) bf.name = OGR_F_GetFieldAsString(fh, f_name);
    if (!is_valid_utf8(bf.code) || !is_valid_utf8(bf.name)) {
      diag.reject(file, feature_no, "invalid UTF-8 in the code or name");
      continue;
    }
    if (bf.code.empty()) {
      diag.reject(file, feature_no, "empty code");
      continue;
    }
    if (g == nullptr || OGR_G_IsEmpty(g)) {
      diag.reject(file, feature_no, cursor.why("feature has no geometry"));
      continue;
    }
    const auto t = wkbFlatten(OGR_G_GetGeometryType(g));
    std::vector<OGRGeometryH> polys;
    if (t == wkbPolygon) {
      polys.push_back(g);
    } else if (t == wkbMultiPolygon) {
      for (int i = 0; i < OGR_G_GetGeometryCount(g); ++i) polys.push_back(OGR_G_GetGeometryRef(g, i));
    } else {
      diag.reject(file, feature_no,
                  std::string("geometry is ") + OGR_G_GetGeometryName(g) + ", not a (multi)polygon");
      continue;
    }
    bool ok = true;
    for (OGRGeometryH p : polys) {
      std::vector<std::vector<std::pair<double, double>>> rings;
      for (int r = 0; r < OGR_G_GetGeometryCount(p) && ok; ++r) {
        OGRGeometryH ring = OGR_G_GetGeometryRef(p, r);
        const int np = OGR_G_GetPointCount(ring);
        std::vector<std::pair<double, double>> pts;
        pts.reserve(static_cast<std::size_t>(np));
        for (int k = 0; k < np; ++k) {
          double x = OGR_G_GetX(ring, k), y = OGR_G_GetY(ring, k);
          if (ct != nullptr && !OCTTransform(ct.get(), 1, &x, &y, nullptr)) {
            ok = false;
            break;
          }
          pts.emplace_back(x, y);
        }
        rings.push_back(std::move(pts));
      }
      if (!rings.empty()) bf.polygons.push_back(std::move(rings));
    }
    if (!ok || bf.polygons.empty()) {
      diag.reject(file, feature_no, "polygon coordinates cannot be transformed to WGS 84");
      continue;
    }
    out.features.push_back(std::move(bf));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// met grids

namespace {

enum class Component { kNone, kU, kV };

Component component_of_name(std::string n) {
  n = ascii_lower(trim_view(n));
  if (n == "u" || n == "u10" || n == "ugrd" || n == "10u" || n == "eastward_wind" || n == "uas" ||
      n == "u_wind" || n == "u-component of wind")
    return Component::kU;
  if (n == "v" || n == "v10" || n == "vgrd" || n == "10v" || n == "northward_wind" || n == "vas" ||
      n == "v_wind" || n == "v-component of wind")
    return Component::kV;
  return Component::kNone;
}

/// Seconds per unit of a CF "UNIT since DATE" string and the epoch of DATE; false if unknown.
bool parse_cf_time_units(const std::string& units, double& scale_s, EpochSeconds& origin) {
  const auto k = units.find(" since ");
  if (k == std::string::npos) return false;
  const std::string u = ascii_lower(trim_view(units.substr(0, k)));
  if (u == "seconds" || u == "second" || u == "s") scale_s = 1;
  else if (u == "minutes" || u == "minute" || u == "min") scale_s = 60;
  else if (u == "hours" || u == "hour" || u == "h") scale_s = 3600;
  else if (u == "days" || u == "day" || u == "d") scale_s = 86400;
  else return false;
  std::string date = std::string(trim_view(units.substr(k + 7)));
  // CF allows "1900-01-01 00:00:00.0" and "1900-1-1"; normalise the common forms
  if (date.size() >= 10 && date[4] == '-') {
    if (const auto sp = date.find(' ', 10); sp != std::string::npos && date.size() > sp + 1 &&
                                            (date[sp + 1] == '+' || date[sp + 1] == '-'))
      date.erase(sp, 1);
    if (parse_iso8601(date, TimeZone{}, origin)) return true;
    // drop a trailing fraction like ".0"
    if (const auto dot = date.find('.'); dot != std::string::npos) {
      if (parse_iso8601(date.substr(0, dot), TimeZone{}, origin)) return true;
    }
    return parse_iso8601(date.substr(0, 10), TimeZone{}, origin);
  }
  return false;
}

struct MetBand {
  GDALRasterBandH band{};
  Component comp{Component::kNone};
  std::optional<EpochSeconds> time;
  int priority{};  // lower is better (10 m above ground first)
};

}  // namespace

std::optional<MetGrid> read_met_grid(const std::filesystem::path& path, const std::string& file,
                                     const TimeZone& tz, Diagnostics& diag,
                                     const RasterLimits& limits) {
  Dataset root = open_dataset(path, file, GDAL_OF_RASTER, kMetDrivers, diag);
  if (!root) return std::nullopt;
  std::vector<Dataset> datasets;
  // NetCDF with several variables exposes them as subdatasets (names made by GDAL from our path)
  char** subs = GDALGetMetadata(root.get(), "SUBDATASETS");
  if (GDALGetRasterCount(root.get()) == 0 && subs != nullptr) {
    for (char** it = subs; *it != nullptr; ++it) {
      const std::string item = *it;
      const auto eq = item.find('=');
      if (eq == std::string::npos || item.find("_NAME=") == std::string::npos) continue;
      const std::string sub = item.substr(eq + 1);
      const auto colon = sub.rfind(':');
      if (colon == std::string::npos || sub.rfind("NETCDF:", 0) != 0) continue;
      if (component_of_name(sub.substr(colon + 1)) == Component::kNone) continue;
      ErrorCapture errors;
      GDALDatasetH d = GDALOpenEx(sub.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, kMetDrivers,
                                  nullptr, nullptr);
      if (d != nullptr) datasets.emplace_back(d);
    }
  } else {
    datasets.push_back(std::move(root));
  }
  if (datasets.empty()) {
    diag.reject(file, 0, "no u/v wind variables found");
    return std::nullopt;
  }
  MetGrid g;
  g.file = file;
  auto* first = static_cast<GDALDatasetH>(datasets[0].get());
  if (!raster_size_ok(first, file, limits, diag)) return std::nullopt;
  if (!georef(first, file, g.geotransform, g.crs_wkt, diag)) return std::nullopt;
  g.width = GDALGetRasterXSize(first);
  g.height = GDALGetRasterYSize(first);

  // sidecar met/NAME.json: {"time": T} or {"times": [T, ...]} (one per u/v pair, in band order)
  std::vector<EpochSeconds> side_times;
  const std::filesystem::path side = path.parent_path() / (path.stem().string() + ".json");
  const std::string side_file = std::filesystem::path(file).replace_extension(".json").string();
  if (auto j = read_sidecar(side, side_file, diag)) {
    auto add = [&](const nlohmann::json& v) {
      if (!v.is_string()) return;
      if (auto t = parse_time_text(v.get<std::string>(), tz)) side_times.push_back(*t);
      else diag.reject(side_file, 0, "time '" + v.get<std::string>() + "' is not ISO 8601; ignored");
    };
    if (j->contains("time")) add((*j)["time"]);
    if (j->contains("times") && (*j)["times"].is_array())
      for (const auto& v : (*j)["times"]) add(v);
  }

  std::vector<MetBand> bands;
  for (const auto& dsp : datasets) {
    auto* ds = static_cast<GDALDatasetH>(dsp.get());
    if (GDALGetRasterXSize(ds) != g.width || GDALGetRasterYSize(ds) != g.height) {
      diag.warn(file, "a variable on another grid size was ignored");
      continue;
    }
    double cf_scale = 0;
    EpochSeconds cf_origin = 0;
    const char* tu = GDALGetMetadataItem(ds, "time#units", nullptr);
    const bool has_cf = tu != nullptr && parse_cf_time_units(tu, cf_scale, cf_origin);
    const int nb = GDALGetRasterCount(ds);
    for (int b = 1; b <= nb; ++b) {
      GDALRasterBandH band = GDALGetRasterBand(ds, b);
      MetBand mb;
      mb.band = band;
      mb.priority = 1;
      if (const char* el = GDALGetMetadataItem(band, "GRIB_ELEMENT", nullptr)) {
        mb.comp = component_of_name(el);
        const char* sn = GDALGetMetadataItem(band, "GRIB_SHORT_NAME", nullptr);
        mb.priority = sn != nullptr && std::string(sn).find("10-HTGL") != std::string::npos ? 0 : 1;
        if (const char* vt = GDALGetMetadataItem(band, "GRIB_VALID_TIME", nullptr)) {
          char* end = nullptr;
          const double v = std::strtod(vt, &end);
          if (end != vt) mb.time = v;
        }
      } else if (const char* vn = GDALGetMetadataItem(band, "NETCDF_VARNAME", nullptr)) {
        mb.comp = component_of_name(vn);
        if (const char* tv = GDALGetMetadataItem(band, "NETCDF_DIM_time", nullptr); tv != nullptr && has_cf) {
          double v = 0;
          if (parse_finite_double(tv, v)) mb.time = cf_origin + v * cf_scale;
        }
      } else {
        const char* var = GDALGetMetadataItem(band, "variable", nullptr);
        const char* desc = GDALGetDescription(band);
        mb.comp = component_of_name(var != nullptr ? var : (desc != nullptr ? desc : ""));
      }
      if (!mb.time) {
        if (const char* t = GDALGetMetadataItem(band, "time", nullptr)) mb.time = parse_time_text(t, tz);
      }
      if (mb.comp != Component::kNone) bands.push_back(mb);
    }
  }
  // Assign sidecar times to u/v pairs in band order when bands carry none.
  {
    std::size_t nu = 0, nv = 0;
    for (auto& mb : bands) {
      if (mb.time) continue;
      std::size_t& k = mb.comp == Component::kU ? nu : nv;
      if (k < side_times.size()) mb.time = side_times[k];
      ++k;
    }
  }
  std::map<EpochSeconds, std::pair<const MetBand*, const MetBand*>> steps;
  std::size_t untimed = 0;
  for (const auto& mb : bands) {
    if (!mb.time) {
      ++untimed;
      continue;
    }
    auto& slot = steps[*mb.time];
    const MetBand*& s = mb.comp == Component::kU ? slot.first : slot.second;
    if (s == nullptr || mb.priority < s->priority) s = &mb;
  }
  if (untimed > 0)
    diag.warn(file, std::to_string(untimed) +
                        " wind band(s) without a valid time ignored (band metadata 'time' or "
                        "sidecar met/NAME.json {\"time\": ...})");
  const std::size_t plane = static_cast<std::size_t>(g.width) * static_cast<std::size_t>(g.height);
  std::vector<float> buf(plane);
  auto read_band = [&](GDALRasterBandH band, std::vector<float>& dst) -> bool {
    ErrorCapture errors;
    if (GDALRasterIO(band, GF_Read, 0, 0, g.width, g.height, buf.data(), g.width, g.height,
                     GDT_Float32, 0, 0) != CE_None) {
      diag.reject(file, 0, "cannot read pixels: " + errors.last());
      return false;
    }
    int has_nd = 0;
    const double nd = GDALGetRasterNoDataValue(band, &has_nd);
    for (float& x : buf)
      if ((has_nd && static_cast<double>(x) == nd) || !std::isfinite(x)) x = std::numeric_limits<float>::quiet_NaN();
    dst.insert(dst.end(), buf.begin(), buf.end());
    return true;
  };
  for (const auto& [t, uv] : steps) {
    if (uv.first == nullptr || uv.second == nullptr) {
      diag.warn(file, "time " + format_iso8601(t) + " has only one wind component; ignored");
      continue;
    }
    if (!read_band(uv.first->band, g.u) || !read_band(uv.second->band, g.v)) return std::nullopt;
    g.times.push_back(t);
  }
  if (g.times.empty()) {
    diag.reject(file, 0, "no u/v wind band pair with a valid time found");
    return std::nullopt;
  }
  return g;
}

}  // namespace plumetrace

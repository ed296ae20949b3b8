/// @file main.cpp
/// plumetrace-sim: the twin-experiment simulator. It writes a synthetic incident as a case folder
/// (README "Case folder") plus `truth.json`, the answer a tracer should find.
///
/// The truth model is deliberately NOT the tracer's model (a steady Gaussian plume fed by the
/// measured wind): it is a Lagrangian Gaussian-puff model. Every source releases puffs at a
/// scale-adapted interval (60 s at most); puffs are advected (midpoint rule) through a wind field
/// that varies in space (a smooth large-scale direction gradient, a Rankine vortex and a cross-wind
/// speed shear) and in time (hourly random-walk changes of direction and speed, plus a sub-hourly
/// meander of direction of a few to 15 degrees with random phase). Puff sizes grow with travel
/// distance along Briggs' rural curves for the Pasquill class of the moment (day/night cycle from
/// the solar elevation, wind speed and cloud cover), with ground reflection and a mixing lid
/// (image sources; well mixed when sigma_z exceeds the lid). Stations report period means of the
/// pollutant with 10 % noise on a 5-8 ug/m3 background; two stations report vector-mean wind with
/// instrument error (about 7 degrees, 8 % speed), temperature and cloud cover; a survey platform
/// drives cross-wind transects downwind of the culprit while it emits.
///
/// Kinds: `single` (a registered culprit), `border` (a registered culprit in county A within
/// ~2 km of county B, the wind blowing into B, every station and car sample in B), `pair` (two
/// registered culprits at once, > 1.1 km apart at the 15 km default scale), `unlisted` (the
/// culprit is missing from sources.csv; truth id "UNLISTED"). Culprits are kept out of other
/// facilities' mean wind line (12 degrees) so that an incident is identifiable in principle, and
/// stations are redrawn until each culprit is seen by at least two of them.
///
/// Scale adaptation (--scale-m, 50 m .. 50 km): rates scale with (S / 15 km)^2 (below 15 km),
/// heights with S / 15 km, initial puff size 0.0015 S; the advection step is S / (25 * 2.5 m/s)
/// within [1, 60] s and the release interval keeps puffs closer than 0.7 sigma_y at the nearest
/// station (within a work budget); below 1 km the window is 3 h of 10-minute means and the survey
/// platform samples at 1 Hz at walking pace. `--self-check` verifies the puff train against the
/// analytic steady plume (mass balance).
///
/// Usage: plumetrace-sim --kind single|border|pair|unlisted --seed N --out DIR [options]
/// (run with --help). Output is deterministic per (kind, seed, options). This tool links only the
/// plumetrace_core room, GDAL/OGR and nlohmann-json: it must stay independent of the tracer.

// The simulator generates test data: the accuracy tests run it 40+ times per run, usually from a
// Debug build, where -O0 makes the puff loops ~4x slower. Optimise this translation unit even then
// (before any #include so that the inline library code it uses is optimised too). Sanitizer
// instrumentation, when enabled, still applies.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__OPTIMIZE__)
#pragma GCC optimize("O2")
#endif

#include <gdal.h>
#include <ogr_geometry.h>
#include <ogrsf_frmts.h>
#include <cpl_error.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plumetrace/core/error.hpp"

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;
constexpr double kEarthRadius_m = 6371008.8;
constexpr int kLocalOffset_min = 8 * 60;  // China Standard Time, +08:00
constexpr double kDefaultScale_m = 15000.0;

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

struct Options {
  std::string kind = "single";
  std::uint64_t seed = 1;
  fs::path out;
  std::optional<fs::path> boundaries;
  double scale_m = kDefaultScale_m;
  double centre_lon = 120.03, centre_lat = 28.90;
  int stations = 0;         // 0: random 6-10
  int sources = 0;          // 0: random 15-25
  double hours = 0;         // 0: 12 (3 below 1 km scale)
  double averaging_s = 0;   // 0: 3600 (600 below 1 km scale)
  bool car = true;
  bool drone = false;       // also imagery/drone.tif: a drone gas survey over the plume
  bool flat = false;        // write the case files into DIR itself (not DIR/case)
  bool self_check = false;  // compare the puff model with the analytic steady plume and exit
  bool sigma_theta = false; // met stations also report wind_dir_std (sigma-theta, degrees)
  std::string county_from, county_to;  // border kind: culprit county A, receptor county B
  std::string pollutant = "so2";
  std::string name;                     // case.json name (default "synthetic KIND SEED")
};

[[noreturn]] void usage_error(const std::string& why) {
  throw plumetrace::InvalidInput(why + " (see plumetrace-sim --help)");
}

constexpr const char* kHelp =
    "plumetrace-sim --kind single|border|pair|unlisted --seed N --out DIR [options]\n"
    "  --boundaries FILE     county polygons (default: <source>/data/zhejiang_counties.geojson)\n"
    "  --scale-m S           domain size in metres (default 15000; 50 .. 50000)\n"
    "  --centre LON,LAT      domain centre (default 120.03,28.90, Yongkang)\n"
    "  --stations K          fixed stations (default 6-10)\n"
    "  --sources M           registry size (default 15-25)\n"
    "  --hours H             data window length (default 12; 3 below 1 km)\n"
    "  --averaging PT1H|PT10M  station averaging period (default PT1H; PT10M below 1 km)\n"
    "  --no-car              no survey platform\n"
    "  --drone               also imagery/drone.tif: a drone gas survey (10 m pixels, a 1.2 km square\n"
    "                        centred 600 m downwind of the first culprit, scanned row by row at 2 m\n"
    "                        over 10 min mid-release, 20 %% noise, a strip of 10 rows missing)\n"
    "  --flat                write the case files into DIR (truth.json beside them)\n"
    "  --county-pair A,B     border kind: culprit in county A, receptors in county B (codes)\n"
    "  --pollutant P         variable name (default so2)\n"
    "  --name TEXT           case.json name (default: synthetic KIND SEED)\n"
    "  --sigma-theta         met stations also report wind_dir_std (sigma-theta over the period)\n"
    "  --self-check          check the puff model against the steady Gaussian plume (mass balance)\n";

Options parse_options(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage_error(std::string("missing value after ") + argv[i]);
    return argv[++i];
  };
  auto to_double = [](const std::string& s, const char* what) {
    try {
      std::size_t n = 0;
      const double v = std::stod(s, &n);
      if (n != s.size() || !std::isfinite(v)) throw std::invalid_argument(s);
      return v;
    } catch (const std::exception&) {
      usage_error(std::string("bad number for ") + what + ": '" + s + "'");
    }
  };
  bool have_out = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      std::exit(0);
    } else if (a == "--kind") {
      o.kind = need(i);
    } else if (a == "--seed") {
      o.seed = static_cast<std::uint64_t>(to_double(need(i), "--seed"));
    } else if (a == "--out") {
      o.out = need(i);
      have_out = true;
    } else if (a == "--boundaries") {
      o.boundaries = fs::path(need(i));
    } else if (a == "--scale-m") {
      o.scale_m = to_double(need(i), "--scale-m");
    } else if (a == "--centre" || a == "--center") {
      const std::string v = need(i);
      const auto comma = v.find(',');
      if (comma == std::string::npos) usage_error("--centre wants LON,LAT");
      o.centre_lon = to_double(v.substr(0, comma), "--centre lon");
      o.centre_lat = to_double(v.substr(comma + 1), "--centre lat");
    } else if (a == "--stations") {
      o.stations = static_cast<int>(to_double(need(i), "--stations"));
    } else if (a == "--sources") {
      o.sources = static_cast<int>(to_double(need(i), "--sources"));
    } else if (a == "--hours") {
      o.hours = to_double(need(i), "--hours");
    } else if (a == "--averaging") {
      const std::string v = need(i);
      if (v == "PT1H") o.averaging_s = 3600;
      else if (v == "PT10M") o.averaging_s = 600;
      else usage_error("--averaging wants PT1H or PT10M");
    } else if (a == "--no-car") {
      o.car = false;
    } else if (a == "--drone") {
      o.drone = true;
    } else if (a == "--sigma-theta") {
      o.sigma_theta = true;
    } else if (a == "--self-check") {
      o.self_check = true;
      have_out = true;
    } else if (a == "--flat") {
      o.flat = true;
    } else if (a == "--county-pair") {
      const std::string v = need(i);
      const auto comma = v.find(',');
      if (comma == std::string::npos) usage_error("--county-pair wants A,B");
      o.county_from = v.substr(0, comma);
      o.county_to = v.substr(comma + 1);
    } else if (a == "--name") {
      o.name = need(i);
    } else if (a == "--pollutant") {
      o.pollutant = need(i);
    } else {
      usage_error("unknown argument '" + a + "'");
    }
  }
  if (!have_out) usage_error("--out DIR is required");
  if (o.kind != "single" && o.kind != "border" && o.kind != "pair" && o.kind != "unlisted")
    usage_error("--kind must be single, border, pair or unlisted");
  if (!(o.scale_m >= 50 && o.scale_m <= 50000)) usage_error("--scale-m must be in [50, 50000]");
  if (o.stations != 0 && (o.stations < 3 || o.stations > 40)) usage_error("--stations in [3, 40]");
  if (o.sources != 0 && (o.sources < 2 || o.sources > 200)) usage_error("--sources in [2, 200]");
  const bool small = o.scale_m < 1000;
  if (o.hours == 0) o.hours = small ? 3 : 12;
  if (!(o.hours >= 2 && o.hours <= 48)) usage_error("--hours in [2, 48]");
  if (o.averaging_s == 0) o.averaging_s = small ? 600 : 3600;
  if (!o.boundaries) {
    const fs::path def = fs::path(PLUMETRACE_SOURCE_DIR) / "data" / "zhejiang_counties.geojson";
    if (fs::exists(def)) o.boundaries = def;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Random numbers (deterministic across platforms: no std distributions)
// ---------------------------------------------------------------------------------------------

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  /// Uniform in [a, b).
  double uniform(double a, double b) { return a + (b - a) * (static_cast<double>(engine_() >> 11) * 0x1.0p-53); }
  /// Integer uniform in [a, b].
  int integer(int a, int b) { return a + static_cast<int>(engine_() % static_cast<std::uint64_t>(b - a + 1)); }
  /// Standard normal (Box-Muller).
  double normal() {
    const double u1 = uniform(1e-300, 1.0);
    const double u2 = uniform(0.0, 1.0);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * u2);
  }
  std::uint64_t next() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------------------------------------
// Geometry: a local metric frame (sinusoidal projection about a centre; < 0.1 % error at 50 km)
// ---------------------------------------------------------------------------------------------

struct Xy {
  double x = 0, y = 0;
};

class LocalFrame {
 public:
  LocalFrame(double lon0, double lat0) : lon0_(lon0), lat0_(lat0) {}
  /// lon/lat (degrees) -> metres east/north of the centre.
  [[nodiscard]] Xy to_xy(double lon, double lat) const {
    return {kEarthRadius_m * (lon - lon0_) * kDeg * std::cos(lat * kDeg), kEarthRadius_m * (lat - lat0_) * kDeg};
  }
  /// Metres east/north of the centre -> lon/lat (degrees).
  [[nodiscard]] std::pair<double, double> to_lonlat(Xy p) const {
    const double lat = lat0_ + p.y / kEarthRadius_m / kDeg;
    return {lon0_ + p.x / (kEarthRadius_m * std::cos(lat * kDeg)) / kDeg, lat};
  }

 private:
  double lon0_, lat0_;
};

double dist(Xy a, Xy b) { return std::hypot(a.x - b.x, a.y - b.y); }

// ---------------------------------------------------------------------------------------------
// Counties: MakeValid'd polygons; fast even-odd tests for placement, OGR Contains for the truth
// ---------------------------------------------------------------------------------------------

struct County {
  std::string code, name;
  std::vector<std::vector<Xy>> rings;  // all rings of the valid polygon parts, local metres
  Xy lo, hi;                           // bounding box, local metres
  std::unique_ptr<OGRMultiPolygon> geometry;  // valid polygonal part, lon/lat
};

class Counties {
 public:
  /// Read the polygons of `file` whose envelope meets the lon/lat box; repair each with MakeValid
  /// and keep its polygonal part. Throws InvalidInput when the file cannot be read.
  Counties(const fs::path& file, const LocalFrame& frame, double lon_min, double lat_min, double lon_max,
           double lat_max) {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    struct Pop {
      ~Pop() { CPLPopErrorHandler(); }
    } pop;
    const char* const drivers[] = {"GeoJSON", "GPKG", "ESRI Shapefile", "FlatGeobuf", nullptr};
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(file.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers));
    if (!ds || ds->GetLayerCount() < 1) throw plumetrace::InvalidInput("cannot open boundaries " + file.string());
    OGRLayer* layer = ds->GetLayer(0);
    const OGRFeatureDefn* defn = layer->GetLayerDefn();
    int code_idx = defn->GetFieldIndex("adcode");
    if (code_idx < 0) code_idx = defn->GetFieldIndex("code");
    const int name_idx = defn->GetFieldIndex("name");
    if (code_idx < 0) throw plumetrace::InvalidInput("boundaries have no adcode/code field");
    layer->ResetReading();
    for (auto& feature : *layer) {
      const OGRGeometry* g = feature->GetGeometryRef();
      if (g == nullptr) continue;
      OGREnvelope env;
      g->getEnvelope(&env);
      if (env.MaxX < lon_min || env.MinX > lon_max || env.MaxY < lat_min || env.MinY > lat_max) continue;
      std::unique_ptr<OGRGeometry> valid(g->MakeValid());
      if (!valid) continue;
      County c;
      c.code = feature->GetFieldAsString(code_idx);
      c.name = name_idx >= 0 ? feature->GetFieldAsString(name_idx) : c.code;
      c.geometry = std::make_unique<OGRMultiPolygon>();
      collect_polygons(valid.get(), *c.geometry);
      if (c.geometry->IsEmpty()) continue;
      c.lo = {1e300, 1e300};
      c.hi = {-1e300, -1e300};
      for (const OGRPolygon* poly : *c.geometry) {
        for (const OGRLinearRing* ring : *poly) {
          std::vector<Xy> pts;
          pts.reserve(static_cast<std::size_t>(ring->getNumPoints()));
          for (const OGRPoint& p : *ring) {
            const Xy q = frame.to_xy(p.getX(), p.getY());
            pts.push_back(q);
            c.lo = {std::min(c.lo.x, q.x), std::min(c.lo.y, q.y)};
            c.hi = {std::max(c.hi.x, q.x), std::max(c.hi.y, q.y)};
          }
          c.rings.push_back(std::move(pts));
        }
      }
      counties_.push_back(std::move(c));
    }
  }

  [[nodiscard]] const County& operator[](int i) const { return counties_[static_cast<std::size_t>(i)]; }
  [[nodiscard]] int size() const { return static_cast<int>(counties_.size()); }
  [[nodiscard]] int find_code(const std::string& code) const {
    for (int i = 0; i < size(); ++i)
      if (counties_[static_cast<std::size_t>(i)].code == code) return i;
    return -1;
  }

  /// The county containing p when exactly one does (even-odd over the repaired rings), else -1.
  [[nodiscard]] int county_at(Xy p) const {
    int found = -1;
    for (int i = 0; i < size(); ++i) {
      if (inside(counties_[static_cast<std::size_t>(i)], p)) {
        if (found >= 0) return -1;  // an overlap between neighbours: ambiguous
        found = i;
      }
    }
    return found;
  }

  /// The county of p when p and eight points on a circle of radius r around it all lie in that
  /// one county (so p is at least about r from any border, sliver or overlap), else -1.
  [[nodiscard]] int clear_county_at(Xy p, double r) const {
    const int c = county_at(p);
    if (c < 0) return -1;
    for (int k = 0; k < 8; ++k) {
      const double a = k * kPi / 4;
      if (county_at({p.x + r * std::cos(a), p.y + r * std::sin(a)}) != c) return -1;
    }
    return c;
  }

  /// The truth county of a lon/lat point by OGR Contains on the repaired polygons; falls back to the
  /// even-odd answer when Contains finds no single county. -1 when none.
  [[nodiscard]] int truth_county(double lon, double lat, Xy p) const {
    const OGRPoint point(lon, lat);
    int found = -1, n = 0;
    for (int i = 0; i < size(); ++i) {
      if (counties_[static_cast<std::size_t>(i)].geometry->Contains(&point)) {
        found = i;
        ++n;
      }
    }
    return n == 1 ? found : county_at(p);
  }

 private:
  static void collect_polygons(const OGRGeometry* g, OGRMultiPolygon& out) {
    switch (wkbFlatten(g->getGeometryType())) {
      case wkbPolygon:
        out.addGeometry(g);
        break;
      case wkbMultiPolygon:
      case wkbGeometryCollection:
        for (const OGRGeometry* part : *g->toGeometryCollection()) collect_polygons(part, out);
        break;
      default:
        break;  // lines and points left over by MakeValid carry no area
    }
  }

  static bool inside(const County& c, Xy p) {
    if (p.x < c.lo.x || p.x > c.hi.x || p.y < c.lo.y || p.y > c.hi.y) return false;
    bool in = false;
    for (const auto& ring : c.rings) {
      const std::size_t n = ring.size();
      for (std::size_t i = 0, j = n - 1; i < n; j = i++) {
        const Xy a = ring[i], b = ring[j];
        if ((a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x) in = !in;
      }
    }
    return in;
  }

  std::vector<County> counties_;
};

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// UTC epoch seconds -> "YYYY-MM-DDThh:mm:ss+08:00" (whole seconds).
std::string iso_local(double t_utc) {
  const auto local = static_cast<std::int64_t>(std::llround(t_utc)) + kLocalOffset_min * 60;
  std::int64_t days = local / 86400, sod = local % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d+08:00", y, m, d, static_cast<int>(sod / 3600),
                static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  return buf;
}

/// Solar elevation (degrees) at a UTC instant and place (simple declination/hour-angle formula,
/// about 1 degree accurate — ample for a stability class).
double solar_elevation_deg(double t_utc, double lon, double lat) {
  const double day = std::floor(t_utc / 86400.0);
  int y;
  unsigned m, d;
  civil_from_days(static_cast<std::int64_t>(day), y, m, d);
  const double doy = day - static_cast<double>(days_from_civil(y, 1, 1)) + 1;
  const double decl = 23.44 * kDeg * std::sin(2 * kPi * (284 + doy) / 365.0);
  const double solar_hours = std::fmod(t_utc / 3600.0 + lon / 15.0, 24.0);
  const double hour_angle = (solar_hours - 12.0) * 15.0 * kDeg;
  const double s = std::sin(lat * kDeg) * std::sin(decl) + std::cos(lat * kDeg) * std::cos(decl) * std::cos(hour_angle);
  return std::asin(std::clamp(s, -1.0, 1.0)) / kDeg;
}

// ---------------------------------------------------------------------------------------------
// Weather: wind field, stability, mixing height
// ---------------------------------------------------------------------------------------------

/// Briggs (1973) rural dispersion coefficients: sigma_y = ay x (1 + by x)^-1/2;
/// sigma_z = az x (kind 0), az x (1 + bz x)^-1/2 (kind 1), az x (1 + bz x)^-1 (kind 2). x in m.
struct Briggs {
  double ay, by, az, bz;
  int z_kind;
};
constexpr std::array<Briggs, 6> kBriggsRural{{{0.22, 1e-4, 0.20, 0.0, 0},
                                              {0.16, 1e-4, 0.12, 0.0, 0},
                                              {0.11, 1e-4, 0.08, 2e-4, 1},
                                              {0.08, 1e-4, 0.06, 1.5e-3, 1},
                                              {0.06, 1e-4, 0.03, 3e-4, 2},
                                              {0.04, 1e-4, 0.016, 3e-4, 2}}};

/// d sigma_y / dx for class c (0 = A .. 5 = F) at travel distance x (m).
double d_sigma_y(int c, double x) {
  const Briggs& b = kBriggsRural[static_cast<std::size_t>(c)];
  const double t = 1 + b.by * x;
  return b.ay * (1 + 0.5 * b.by * x) / (t * std::sqrt(t));
}
/// d sigma_z / dx for class c at travel distance x (m).
double d_sigma_z(int c, double x) {
  const Briggs& b = kBriggsRural[static_cast<std::size_t>(c)];
  if (b.z_kind == 0) return b.az;
  const double t = 1 + b.bz * x;
  if (b.z_kind == 1) return b.az * (1 + 0.5 * b.bz * x) / (t * std::sqrt(t));
  return b.az / ((1 + b.bz * x) * (1 + b.bz * x));
}
/// sigma_y (m) for class c at travel x (m): used for planning (station spacing, transects).
double sigma_y(int c, double x) {
  const Briggs& b = kBriggsRural[static_cast<std::size_t>(c)];
  return b.ay * x / std::sqrt(1 + b.by * x);
}

struct Weather {
  double t0 = 0;                    // UTC of hourly node 0
  std::vector<double> dir_from_deg;  // hourly nodes, direction the wind blows FROM at the centre
  std::vector<double> speed_m_s;     // hourly nodes
  std::vector<double> cloud_okta;    // hourly
  double meander_amp1_deg = 0, meander_amp2_deg = 0, meander_period1_s = 1, meander_period2_s = 1;
  double meander_phase1 = 0, meander_phase2 = 0;
  double grad_x_deg = 0, grad_y_deg = 0;  // direction change across the domain (per scale_m)
  Xy vortex_centre;
  double vortex_core_m = 1, vortex_speed_frac = 0;  // max tangential speed / mean speed (signed)
  double shear_frac = 0;                             // speed change across the domain, cross-wind
  double mix_night_m = 300, mix_day_m = 1200;
  double temp_mean_c = 22, temp_amp_c = 4;
  Xy centre;  // domain centre (local metres)
  double scale_m = kDefaultScale_m;
  double lon = 120, lat = 29;

  /// Linear interpolation of an hourly series (directions along the shorter arc).
  [[nodiscard]] double hourly(const std::vector<double>& v, double t, bool angle) const {
    const double h = std::clamp((t - t0) / 3600.0, 0.0, static_cast<double>(v.size() - 1) - 1e-9);
    const auto i = static_cast<std::size_t>(h);
    const double f = h - static_cast<double>(i);
    if (!angle) return v[i] + f * (v[i + 1] - v[i]);
    const double diff = std::remainder(v[i + 1] - v[i], 360.0);
    return v[i] + f * diff;
  }

  /// Wind vector (m/s, u east, v north) at local position p and UTC time t.
  [[nodiscard]] Xy wind(Xy p, double t) const {
    const double rel_x = (p.x - centre.x) / scale_m, rel_y = (p.y - centre.y) / scale_m;
    double from = hourly(dir_from_deg, t, true) +
                  meander_amp1_deg * std::sin(2 * kPi * t / meander_period1_s + meander_phase1) +
                  meander_amp2_deg * std::sin(2 * kPi * t / meander_period2_s + meander_phase2) +
                  grad_x_deg * rel_x + grad_y_deg * rel_y;
    const double to = (from + 180.0) * kDeg;
    double speed = hourly(speed_m_s, t, false);
    // cross-wind shear: speed grows to one side of the mean flow
    const double cross = rel_x * std::cos(to) - rel_y * std::sin(to);
    speed *= 1.0 + shear_frac * cross;
    Xy w{speed * std::sin(to), speed * std::cos(to)};
    // Rankine vortex
    const double dx = p.x - vortex_centre.x, dy = p.y - vortex_centre.y;
    const double r = std::hypot(dx, dy);
    if (r > 1e-6) {
      const double vt = vortex_speed_frac * hourly(speed_m_s, t, false) *
                        (r < vortex_core_m ? r / vortex_core_m : vortex_core_m / r);
      w.x += -vt * dy / r;
      w.y += vt * dx / r;
    }
    const double s = std::hypot(w.x, w.y);
    if (s < 0.5) {  // no calms in the truth model: keep at least 0.5 m/s along the same direction
      const double k = s > 1e-9 ? 0.5 / s : 0.0;
      w = s > 1e-9 ? Xy{w.x * k, w.y * k} : Xy{0.0, 0.5};
    }
    return w;
  }

  [[nodiscard]] double cloud(double t) const { return std::round(hourly(cloud_okta, t, false)); }

  /// Pasquill class (0 = A .. 5 = F) from the solar elevation, wind speed and cloud cover.
  [[nodiscard]] int stability(double t) const {
    const double u = hourly(speed_m_s, t, false);
    const double okta = cloud(t);
    const double elev = solar_elevation_deg(t, lon, lat);
    const int speed_band = u < 2 ? 0 : u < 3 ? 1 : u < 5 ? 2 : u < 6 ? 3 : 4;
    if (okta >= 8) return 3;  // overcast: D
    if (elev <= 0) {
      static constexpr int kClear[5] = {5, 5, 4, 3, 3};   // <= 3 okta
      static constexpr int kCloudy[5] = {4, 4, 3, 3, 3};  // >= 4 okta
      return okta <= 3 ? kClear[speed_band] : kCloudy[speed_band];
    }
    int insolation = elev > 60 ? 3 : elev > 35 ? 2 : elev > 15 ? 1 : 0;  // strong..weak
    if (okta >= 5) insolation = std::max(0, insolation - 1);
    static constexpr int kTable[4][5] = {{3, 3, 3, 3, 3},   // low sun: D
                                         {1, 2, 2, 3, 3},   // slight
                                         {0, 1, 1, 2, 3},   // moderate
                                         {0, 0, 1, 2, 2}};  // strong
    return kTable[insolation][speed_band];
  }

  /// Mixing height (m): night value, day value, smooth in the solar elevation.
  [[nodiscard]] double mixing_height(double t) const {
    const double elev = solar_elevation_deg(t, lon, lat);
    const double f = std::clamp(elev / 30.0, 0.0, 1.0);
    return mix_night_m + f * (mix_day_m - mix_night_m);
  }

  [[nodiscard]] double temperature(double t) const {
    const double local_h = std::fmod((t + kLocalOffset_min * 60.0) / 3600.0, 24.0);
    return temp_mean_c + temp_amp_c * std::cos(2 * kPi * (local_h - 15.0) / 24.0);
  }
};

// ---------------------------------------------------------------------------------------------
// The puff model
// ---------------------------------------------------------------------------------------------

struct Source {
  std::string id, name, industry;
  Xy p;
  double height_m = 10;
  double q_g_s = 1;                 // permitted rate, emitted all the time (g/s)
  double q_release_g_s = 0;         // rate during the release window [on, off) instead (g/s)
  double on = 0, off = 0;           // release window, UTC seconds (empty: never)
  int culprit = -1;                 // index among the culprits, -1 for a permitted emitter
  /// Emission rate (g/s) at UTC time t.
  [[nodiscard]] double rate(double t) const { return t >= on && t < off ? q_release_g_s : q_g_s; }
};

struct Receptor {
  Xy p;
  double z_m = 3;
};

/// The drone survey (--drone): kDronePx x kDronePx pixels of kDronePixelM, centred
/// kDroneDownwindM downwind of the first culprit.
constexpr int kDronePx = 120;
constexpr double kDronePixelM = 10.0;
constexpr double kDroneDownwindM = 600.0;

struct CarSample {
  double t = 0;
  Xy p;
};

struct Puff {
  Xy p, v;
  double h_m, travel_m, sy_m, sz_m, mass_ug;
  int culprit;  // culprit index when released during a culprit's release, else -1
};

struct SimConfig {
  double start = 0, end = 0;  // data window, UTC
  double averaging_s = 3600;
  double dt_step_s = 60;      // advection step
  int releases_per_step = 1;  // puffs per step of a culprit (and of anything releasing)
  int permitted_releases_per_step = 1;  // puffs per step of a permitted-only emitter (coarser: cheaper)
  double sigma0_m = 1;        // initial puff size (source extent)
  double spinup_s = 3600;
  double box_half_m = 1;      // puffs leave beyond this distance (x or y) from the domain centre
};

struct SimResult {
  std::vector<std::vector<double>> station_mean;                 // [station][period] ug/m3
  std::vector<std::vector<std::vector<double>>> culprit_mean;    // [culprit][station][period]
  std::vector<double> car;                                       // ug/m3 per sample
};

/// Concentration (ug/m3) of one puff at receptor (x, y, z), with ground and lid reflection. The
/// source's initial size sigma0 adds in quadrature (horizontally in full, vertically 0.3 of it).
double puff_concentration(const Puff& f, double x, double y, double z, double sigma0_m, double lid_m) {
  const double sy2 = f.sy_m * f.sy_m + sigma0_m * sigma0_m;
  const double dx = x - f.p.x, dy = y - f.p.y;
  const double r2 = dx * dx + dy * dy;
  if (r2 > 32.0 * sy2) return 0.0;
  const double sz0 = 0.3 * sigma0_m;  // sources are wider than tall
  const double sz = std::sqrt(f.sz_m * f.sz_m + sz0 * sz0);
  double vertical;
  if (sz > 1.6 * lid_m) {
    vertical = 1.0 / lid_m;
  } else {
    double sum = 0;
    for (int n = -2; n <= 2; ++n) {
      const double a = z - (f.h_m + 2 * n * lid_m), b = z - (-f.h_m + 2 * n * lid_m);
      sum += std::exp(-a * a / (2 * sz * sz)) + std::exp(-b * b / (2 * sz * sz));
    }
    vertical = sum / (std::sqrt(2 * kPi) * sz);
  }
  return f.mass_ug / (2 * kPi * sy2) * std::exp(-r2 / (2 * sy2)) * vertical;
}

/// Run the puff model for `sources` over [cfg.start - spinup, cfg.end) and sample stations (period
/// means over each averaging period, one sample per step) and car samples (instantaneous, puffs
/// extrapolated linearly within the step). Errors: none (pure computation).
SimResult simulate(const std::vector<Source>& sources, int n_culprits, const std::vector<Receptor>& stations,
                   const std::vector<CarSample>& car, double car_z_m, const Weather& w, const SimConfig& cfg) {
  const auto n_periods = static_cast<std::size_t>(std::llround((cfg.end - cfg.start) / cfg.averaging_s));
  SimResult r;
  r.station_mean.assign(stations.size(), std::vector<double>(n_periods, 0.0));
  r.culprit_mean.assign(static_cast<std::size_t>(n_culprits), r.station_mean);
  r.car.assign(car.size(), 0.0);
  std::vector<int> counts(n_periods, 0);
  std::vector<Puff> puffs;
  const double dt = cfg.dt_step_s;

  // wind on a grid over the puff box, refreshed every step (the field is smooth)
  constexpr int kGrid = 25;
  const double g0x = w.centre.x - cfg.box_half_m, g0y = w.centre.y - cfg.box_half_m;
  const double gstep = 2 * cfg.box_half_m / (kGrid - 1);
  std::vector<Xy> grid(kGrid * kGrid);
  auto grid_wind = [&](Xy p) {
    const double fx = std::clamp((p.x - g0x) / gstep, 0.0, kGrid - 1.0001);
    const double fy = std::clamp((p.y - g0y) / gstep, 0.0, kGrid - 1.0001);
    const int i = static_cast<int>(fx), j = static_cast<int>(fy);
    const double a = fx - i, b = fy - j;
    const Xy& w00 = grid[static_cast<std::size_t>(j * kGrid + i)];
    const Xy& w10 = grid[static_cast<std::size_t>(j * kGrid + i + 1)];
    const Xy& w01 = grid[static_cast<std::size_t>((j + 1) * kGrid + i)];
    const Xy& w11 = grid[static_cast<std::size_t>((j + 1) * kGrid + i + 1)];
    return Xy{(1 - a) * (1 - b) * w00.x + a * (1 - b) * w10.x + (1 - a) * b * w01.x + a * b * w11.x,
              (1 - a) * (1 - b) * w00.y + a * (1 - b) * w10.y + (1 - a) * b * w01.y + a * b * w11.y};
  };
  std::size_t next_car = 0;
  const auto n_steps = static_cast<std::int64_t>(std::llround((cfg.end - cfg.start + cfg.spinup_s) / dt));
  for (std::int64_t step = 0; step < n_steps; ++step) {
    const double ta = cfg.start - cfg.spinup_s + static_cast<double>(step) * dt, tb = ta + dt, tm = ta + 0.5 * dt;
    for (int j = 0; j < kGrid; ++j)
      for (int i = 0; i < kGrid; ++i)
        grid[static_cast<std::size_t>(j * kGrid + i)] = w.wind({g0x + i * gstep, g0y + j * gstep}, tm);
    const int cls = w.stability(tm);
    const double lid = w.mixing_height(tm);
    auto grow = [&](Puff& f, double ds) {
      const double xm = f.travel_m + 0.5 * ds;
      f.sy_m += d_sigma_y(cls, xm) * ds;
      f.sz_m += d_sigma_z(cls, xm) * ds;
      f.travel_m += ds;
    };
    // advect existing puffs (midpoint rule)
    for (Puff& f : puffs) {
      const Xy w1 = grid_wind(f.p);
      const Xy mid{f.p.x + 0.5 * dt * w1.x, f.p.y + 0.5 * dt * w1.y};
      f.v = grid_wind(mid);
      f.p = {f.p.x + dt * f.v.x, f.p.y + dt * f.v.y};
      grow(f, std::sqrt(f.v.x * f.v.x + f.v.y * f.v.y) * dt);
    }
    // release new puffs, each carried from its release instant to the end of the step
    for (std::size_t s = 0; s < sources.size(); ++s) {
      const Source& src = sources[s];
      const Xy ws = grid_wind(src.p);
      const double speed = std::hypot(ws.x, ws.y);
      const int n_rel = src.q_release_g_s > 0 ? cfg.releases_per_step : cfg.permitted_releases_per_step;
      const double dt_rel = dt / n_rel;
      for (int k = 0; k < n_rel; ++k) {
        const double t_rel = ta + (k + 0.5) * dt_rel;
        const double q = src.rate(t_rel);
        if (q <= 0) continue;
        const bool releasing = t_rel >= src.on && t_rel < src.off;
        const double age = tb - t_rel;
        Puff f{{src.p.x + ws.x * age, src.p.y + ws.y * age}, ws, src.height_m, 0, 0, 0, q * dt_rel * 1e6,
               releasing ? src.culprit : -1};
        grow(f, speed * age);
        puffs.push_back(f);
      }
    }
    // drop puffs that left the box
    std::erase_if(puffs, [&](const Puff& f) {
      return std::abs(f.p.x - w.centre.x) > cfg.box_half_m || std::abs(f.p.y - w.centre.y) > cfg.box_half_m;
    });
    // station samples at the end of the step stand for the step
    const double t_sample = tb - 0.5 * dt;
    if (t_sample >= cfg.start && t_sample < cfg.end) {
      const auto period = static_cast<std::size_t>((t_sample - cfg.start) / cfg.averaging_s);
      if (period < n_periods) {
        ++counts[period];
        const Puff* const pf = puffs.data();
        const std::size_t n_puffs = puffs.size();
        const double s02 = cfg.sigma0_m * cfg.sigma0_m;
        for (std::size_t st = 0; st < stations.size(); ++st) {
          const Receptor& rc = stations[st];
          for (std::size_t q = 0; q < n_puffs; ++q) {
            const Puff& f = pf[q];
            const double dx = rc.p.x - f.p.x, dy = rc.p.y - f.p.y;
            if (dx * dx + dy * dy > 32.0 * (f.sy_m * f.sy_m + s02)) continue;  // cheap cull first
            const double c = puff_concentration(f, rc.p.x, rc.p.y, rc.z_m, cfg.sigma0_m, lid);
            if (c == 0.0) continue;
            r.station_mean[st][period] += c;
            if (f.culprit >= 0) r.culprit_mean[static_cast<std::size_t>(f.culprit)][st][period] += c;
          }
        }
      }
    }
    // car samples inside this step (puffs extrapolated back from tb along their velocity)
    while (next_car < car.size() && car[next_car].t < tb) {
      const CarSample& cs = car[next_car];
      if (cs.t >= ta) {
        const double back = cs.t - tb;
        double c = 0;
        for (const Puff& f : puffs) {
          Puff g = f;
          g.p = {f.p.x + f.v.x * back, f.p.y + f.v.y * back};
          c += puff_concentration(g, cs.p.x, cs.p.y, car_z_m, cfg.sigma0_m, lid);
        }
        r.car[next_car] = c;
      }
      ++next_car;
    }
  }
  for (std::size_t p = 0; p < n_periods; ++p) {
    const double n = std::max(1, counts[p]);
    for (auto& v : r.station_mean) v[p] /= n;
    for (auto& k : r.culprit_mean)
      for (auto& v : k) v[p] /= n;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Scenario
// ---------------------------------------------------------------------------------------------

struct Scenario {
  Options opt;
  Rng rng{1};
  std::optional<LocalFrame> frame;
  std::unique_ptr<Counties> counties;
  Xy centre;                    // domain centre, local metres
  double transport_deg = 0;     // mean direction the wind blows TOWARD (compass degrees)
  std::vector<Source> registry;  // registered facilities (culprits among them for single/border/pair)
  std::vector<Source> culprits;  // the emitting culprits (copies, with their windows and rates)
  std::vector<Receptor> stations;
  std::vector<CarSample> car;
  int county_b = -1;            // border kind: the receptor county
  double release_on = 0, release_off = 0, data_start = 0, data_end = 0;
  Weather weather;
  SimConfig cfg;
  double qscale = 1, hscale = 1;
};

Xy along(Xy p, double bearing_deg, double d) { return {p.x + d * std::sin(bearing_deg * kDeg), p.y + d * std::cos(bearing_deg * kDeg)}; }

/// True when b lies within 12 degrees of the mean wind line through a (upwind or downwind of it)
/// and closer than 0.7 of the domain: two such sources are hard to tell apart from downwind
/// stations, so the simulator keeps culprits out of other facilities' wind line.
bool aligned(const Scenario& sc, Xy a, Xy b) {
  const double d = dist(a, b);
  if (d > 0.7 * sc.opt.scale_m || d < 1e-9) return false;
  const double bearing = std::atan2(b.x - a.x, b.y - a.y) / kDeg;
  const double rel = std::abs(std::remainder(bearing - sc.transport_deg, 360.0));  // 0..180
  return rel < 12.0 || rel > 168.0;
}

/// True when p is within `half` metres (x and y) of the domain centre.
bool in_box(const Scenario& sc, Xy p, double half) {
  return std::abs(p.x - sc.centre.x) <= half && std::abs(p.y - sc.centre.y) <= half;
}

/// County index for placement: with boundaries, the clear county (>= margin from any border) or -1;
/// without boundaries, 0 ("unknown but acceptable").
int placement_county(const Scenario& sc, Xy p) {
  if (!sc.counties || sc.counties->size() == 0) return 0;
  const double margin = std::clamp(0.01 * sc.opt.scale_m, 5.0, 250.0);
  return sc.counties->clear_county_at(p, margin);
}

/// Border kind: choose a culprit point in county A within reach of county B and the transport
/// direction (toward B). Sets sc.centre, sc.county_b and returns the culprit position.
Xy choose_border_site(Scenario& sc) {
  if (!sc.counties || sc.counties->size() < 2) throw plumetrace::InvalidInput("border kind needs --boundaries with at least two counties");
  const double S = sc.opt.scale_m;
  const double d_max = std::min(2000.0, 0.3 * S), d_min = std::max(0.25 * d_max, std::min(300.0, 0.1 * S));
  const int want_a = sc.opt.county_from.empty() ? -1 : sc.counties->find_code(sc.opt.county_from);
  const int want_b = sc.opt.county_to.empty() ? -1 : sc.counties->find_code(sc.opt.county_to);
  if ((!sc.opt.county_from.empty() && want_a < 0) || (!sc.opt.county_to.empty() && want_b < 0))
    throw plumetrace::InvalidInput("--county-pair: county code not found near the centre");
  const double search_r = 0.5 * S + 15000.0;
  for (int attempt = 0; attempt < 4000; ++attempt) {
    const double r = search_r * std::sqrt(sc.rng.uniform(0, 1)), a = sc.rng.uniform(0, 2 * kPi);
    const Xy c{r * std::cos(a), r * std::sin(a)};
    const int ca = placement_county(sc, c);
    if (ca < 0 || (want_a >= 0 && ca != want_a)) continue;
    // nearest crossing into another county among 36 bearings
    double best_d = 1e300, best_b = 0;
    int best_county = -1;
    for (int k = 0; k < 36; ++k) {
      const double b = k * 10.0;
      for (double d = d_min; d <= d_max; d += 0.05 * d_max) {
        const int cb = sc.counties->county_at(along(c, b, d));
        if (cb >= 0 && cb != ca) {
          if (d < best_d && (want_b < 0 || cb == want_b)) {
            best_d = d;
            best_b = b;
            best_county = cb;
          }
          break;
        }
      }
    }
    if (best_county < 0) continue;
    const double bearing = best_b + sc.rng.uniform(-12, 12);
    // most of the downwind sector must lie clearly in county B
    int good = 0, total = 0;
    for (double f = 0.15; f <= 0.65; f += 0.1)
      for (double off = -20; off <= 20; off += 10) {
        ++total;
        if (placement_county(sc, along(c, bearing + off, best_d + f * S)) == best_county) ++good;
      }
    if (good < 0.8 * total) continue;
    sc.transport_deg = bearing;
    sc.county_b = best_county;
    sc.centre = along(c, bearing, 0.3 * S);
    return c;
  }
  throw plumetrace::InvalidInput("border kind: found no suitable county border near the centre");
}

constexpr std::array<const char*, 7> kIndustries{"foundry", "hardware plating", "paint spraying", "chemical",
                                                 "power & heat", "aluminium smelting", "ceramics"};

/// Place the registry (n sources, minimum spacing), all clear of borders.
void place_registry(Scenario& sc, int n, const std::vector<Xy>& avoid) {
  const double S = sc.opt.scale_m;
  const double min_sep = 0.04 * S;
  static constexpr double kHeights[] = {8, 12, 20, 25, 30, 40, 50};
  std::vector<Xy> placed;
  for (int attempt = 0; static_cast<int>(placed.size()) < n && attempt < 20000; ++attempt) {
    const Xy p{sc.centre.x + sc.rng.uniform(-0.45, 0.45) * S, sc.centre.y + sc.rng.uniform(-0.45, 0.45) * S};
    bool ok = true;
    for (const Xy& q : placed) ok = ok && dist(p, q) >= min_sep;
    for (const Xy& q : avoid) ok = ok && dist(p, q) >= 1.5 * min_sep && !aligned(sc, q, p);
    if (!ok || placement_county(sc, p) < 0) continue;
    placed.push_back(p);
  }
  for (std::size_t i = 0; i < placed.size(); ++i) {
    Source s;
    s.industry = kIndustries[static_cast<std::size_t>(sc.rng.integer(0, kIndustries.size() - 1))];
    s.p = placed[i];
    s.height_m = std::max(0.5, kHeights[sc.rng.integer(0, 6)] * sc.hscale);
    s.q_g_s = sc.rng.uniform(0.2, 2.0) * sc.qscale;
    sc.registry.push_back(s);
  }
}

/// Give the registry ids S001.. in placement order and names "<industry> works <id>".
void name_registry(Scenario& sc) {
  for (std::size_t i = 0; i < sc.registry.size(); ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "S%03zu", i + 1);
    sc.registry[i].id = id;
    sc.registry[i].name = sc.registry[i].industry + " works " + id;
  }
}

/// Draw the weather for the incident (hourly nodes over the data window plus spin-up).
void draw_weather(Scenario& sc) {
  Weather& w = sc.weather;
  const double S = sc.opt.scale_m;
  w.t0 = sc.data_start - sc.cfg.spinup_s - 3600;
  const int n = static_cast<int>(std::ceil((sc.data_end - w.t0) / 3600.0)) + 2;
  const bool night = solar_elevation_deg(sc.release_on, sc.opt.centre_lon, sc.opt.centre_lat) <= 0;
  const double mean_speed = night ? sc.rng.uniform(1.5, 3.5) : sc.rng.uniform(2.0, 5.0);
  double from = std::fmod(sc.transport_deg + 180.0, 360.0);
  // random walk, anchored so that the release period keeps the chosen mean transport direction
  std::vector<double> dirs(static_cast<std::size_t>(n)), speeds(static_cast<std::size_t>(n)), clouds(static_cast<std::size_t>(n));
  double walk = 0;
  for (int i = 0; i < n; ++i) {
    walk += sc.rng.normal() * 7.0;
    dirs[static_cast<std::size_t>(i)] = walk;
    speeds[static_cast<std::size_t>(i)] = std::clamp(mean_speed * std::exp(0.15 * sc.rng.normal()), 0.8, 8.0);
  }
  const int mid = std::clamp(static_cast<int>((0.5 * (sc.release_on + sc.release_off) - w.t0) / 3600.0), 0, n - 1);
  const double anchor = dirs[static_cast<std::size_t>(mid)];
  for (double& d : dirs) d = std::fmod(from + (d - anchor) + 720.0, 360.0);
  double cloud = sc.rng.uniform(0, 8);
  for (double& c : clouds) {
    cloud = std::clamp(cloud + sc.rng.normal() * 0.8, 0.0, 8.0);
    c = cloud;
  }
  w.dir_from_deg = dirs;
  w.speed_m_s = speeds;
  w.cloud_okta = clouds;
  w.meander_amp1_deg = sc.rng.uniform(3, 10);
  w.meander_amp2_deg = sc.rng.uniform(1, 5);
  w.meander_period1_s = sc.rng.uniform(900, 2400);
  w.meander_period2_s = sc.rng.uniform(240, 600);
  w.meander_phase1 = sc.rng.uniform(0, 2 * kPi);
  w.meander_phase2 = sc.rng.uniform(0, 2 * kPi);
  w.grad_x_deg = sc.rng.uniform(-8, 8);
  w.grad_y_deg = sc.rng.uniform(-8, 8);
  w.vortex_centre = {sc.centre.x + sc.rng.uniform(-0.8, 0.8) * S, sc.centre.y + sc.rng.uniform(-0.8, 0.8) * S};
  w.vortex_core_m = sc.rng.uniform(0.3, 0.6) * S;
  w.vortex_speed_frac = sc.rng.uniform(-0.15, 0.15);
  w.shear_frac = sc.rng.uniform(-0.15, 0.15);
  w.mix_night_m = sc.rng.uniform(150, 400);
  w.mix_day_m = sc.rng.uniform(800, 1500);
  w.temp_mean_c = sc.rng.uniform(8, 28);
  w.temp_amp_c = sc.rng.uniform(2, 6);
  w.centre = sc.centre;
  w.scale_m = S;
  auto ll = sc.frame->to_lonlat(sc.centre);
  w.lon = ll.first;
  w.lat = ll.second;
}

/// Place the stations: about half in the downwind sector of the culprits, the rest anywhere in the
/// domain; all clear of sources, of each other and of borders (border kind: all in county B).
void place_stations(Scenario& sc, int k) {
  const double S = sc.opt.scale_m;
  const double min_src = (S < 1000 ? 0.1 : 0.06) * S, min_sep = 0.05 * S;
  std::vector<Xy> placed;
  const int n_down = (k + 1) / 2;
  for (int attempt = 0; static_cast<int>(placed.size()) < k && attempt < 20000; ++attempt) {
    Xy p;
    if (static_cast<int>(placed.size()) < n_down && attempt < 10000) {
      const Source& c = sc.culprits[placed.size() % sc.culprits.size()];
      p = along(c.p, sc.transport_deg + sc.rng.uniform(-25, 25), sc.rng.uniform(0.08, 0.6) * S);
    } else {
      p = {sc.centre.x + sc.rng.uniform(-0.5, 0.5) * S, sc.centre.y + sc.rng.uniform(-0.5, 0.5) * S};
    }
    if (!in_box(sc, p, 0.55 * S)) continue;
    bool ok = true;
    for (const Source& s : sc.registry) ok = ok && dist(p, s.p) >= min_src;
    for (const Source& s : sc.culprits) ok = ok && dist(p, s.p) >= min_src;
    for (const Xy& q : placed) ok = ok && dist(p, q) >= min_sep;
    if (!ok) continue;
    const int c = placement_county(sc, p);
    if (c < 0 || (sc.county_b >= 0 && c != sc.county_b)) continue;
    placed.push_back(p);
  }
  static constexpr double kHeights[] = {3, 4, 8, 12};
  sc.stations.clear();
  for (const Xy& p : placed) sc.stations.push_back({p, std::max(1.0, kHeights[sc.rng.integer(0, 3)] * std::min(1.0, S / 2000.0))});
}

/// Survey transects across the plume downwind of the culprit(s) while they emit.
void plan_car(Scenario& sc) {
  sc.car.clear();
  if (!sc.opt.car) return;
  const double S = sc.opt.scale_m;
  const double dt_sample = S >= 5000 ? 2.0 : 1.0;
  Xy origin{0, 0};
  for (const Source& c : sc.culprits) origin = {origin.x + c.p.x / sc.culprits.size(), origin.y + c.p.y / sc.culprits.size()};
  double spread = 0;  // cross-wind extent of the culprits
  for (const Source& c : sc.culprits) spread = std::max(spread, dist(c.p, origin));
  const double speed_wind = sc.weather.hourly(sc.weather.speed_m_s, sc.release_on, false);
  std::vector<double> d_transects{0.12 * S, 0.2 * S, 0.28 * S};
  const double start = std::ceil((sc.release_on + 0.28 * S / speed_wind + 600.0) / 2.0) * 2.0;
  const double stop = std::min(sc.release_off, start + 2400.0);
  if (stop - start < 300) return;
  const double sy = std::sqrt(std::pow(sigma_y(4, 0.2 * S), 2) + sc.cfg.sigma0_m * sc.cfg.sigma0_m);
  const double v = std::clamp(0.5 * sy / dt_sample, 0.5, 10.0);
  const double half = std::max(4 * sy + 0.2 * S * 0.27, 0.05 * S) + spread;
  int transect = 0, dir = 1;
  double along_m = -half;
  for (double t = start; t < stop; t += dt_sample) {
    const double d = d_transects[static_cast<std::size_t>(transect / 2 % 3)];
    const Xy axis = along(origin, sc.transport_deg, d);
    const Xy p = along(axis, sc.transport_deg + 90.0, along_m);
    along_m += dir * v * dt_sample;
    if (std::abs(along_m) > half) {
      dir = -dir;
      along_m = std::clamp(along_m, -half, half);
      ++transect;
    }
    if (!in_box(sc, p, 0.6 * S)) continue;
    if (sc.county_b >= 0 && placement_county(sc, p) != sc.county_b) continue;
    sc.car.push_back({t, p});  // true position; GPS jitter is added when the trace is written
  }
}

/// printf-style formatting of one number.
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// Run one incident end to end and write the files: time windows, geography and culprits,
/// scale-adapted numerics, weather + stations (redrawn until every culprit is seen by >= 2
/// stations, 12 tries), the survey plan, the full puff run, then the case folder and truth.json.
/// Throws plumetrace::InvalidInput on bad options or boundaries, Internal when a placement fails.
void run(const Options& opt) {
  Scenario sc;
  sc.opt = opt;
  sc.rng = Rng(opt.seed * 0x9E3779B97F4A7C15ULL + std::hash<std::string>{}(opt.kind) % 1000003ULL);
  const double S = opt.scale_m;
  sc.frame.emplace(opt.centre_lon, opt.centre_lat);
  if (opt.boundaries) {
    // counties within reach: the domain, or for the border kind the whole search disc around it
    const double margin_deg = ((opt.kind == "border" ? 2.0 * S + 15000.0 : 0.8 * S) + 3000.0) / 111000.0;
    sc.counties = std::make_unique<Counties>(*opt.boundaries, *sc.frame, opt.centre_lon - margin_deg / std::cos(opt.centre_lat * kDeg),
                                             opt.centre_lat - margin_deg, opt.centre_lon + margin_deg / std::cos(opt.centre_lat * kDeg),
                                             opt.centre_lat + margin_deg);
  } else if (opt.kind == "border") {
    throw plumetrace::InvalidInput("border kind needs --boundaries");
  }
  sc.qscale = std::min(1.0, std::pow(S / kDefaultScale_m, 2));
  sc.hscale = std::clamp(S / kDefaultScale_m, 0.02, 1.0);

  // --- time: a date in 2021-2025, data window from 18:00 local (nights) or 07:00 (days)
  const int year = sc.rng.integer(2021, 2025);
  const auto day = days_from_civil(year, 1, 1) + sc.rng.integer(0, 364);
  const bool night = sc.rng.uniform(0, 1) < 0.75;
  const double start_local_h = opt.hours <= 6 ? (night ? 21.0 : 9.0) : (night ? 18.0 : 7.0);
  sc.data_start = static_cast<double>(day) * 86400.0 + start_local_h * 3600.0 - kLocalOffset_min * 60.0;
  sc.data_end = sc.data_start + opt.hours * 3600.0;
  const double unit = opt.hours >= 8 ? 3600.0 : 600.0;  // release window alignment
  const double dur = opt.hours >= 8 ? unit * sc.rng.integer(2, 4) : unit * std::round(sc.rng.uniform(opt.hours / 6, opt.hours / 3) * 3600.0 / unit);
  const double lead = opt.hours >= 8 ? 2 * 3600.0 : std::round(opt.hours * 900.0 / unit) * unit;
  const double latest = sc.data_end - dur - lead;
  sc.release_on = sc.data_start + lead + unit * std::floor(sc.rng.uniform(0, std::max(0.0, latest - sc.data_start - lead) / unit + 1));
  sc.release_on = std::min(sc.release_on, std::max(sc.data_start + lead, latest));
  sc.release_off = sc.release_on + dur;

  // --- geography and culprits
  const int n_registry = opt.sources > 0 ? opt.sources : sc.rng.integer(15, 25);
  const int n_stations = opt.stations > 0 ? opt.stations : sc.rng.integer(6, 10);
  const int n_culprits = opt.kind == "pair" ? 2 : 1;
  std::optional<Xy> border_site;
  if (opt.kind == "border") {
    border_site = choose_border_site(sc);
  } else {
    sc.centre = {0, 0};
    sc.transport_deg = sc.rng.uniform(0, 360);
  }
  place_registry(sc, n_registry, border_site ? std::vector<Xy>{*border_site} : std::vector<Xy>{});
  // distance along the mean transport direction from the domain centre (negative: upwind half)
  auto downwind_m = [&](Xy p) {
    return (p.x - sc.centre.x) * std::sin(sc.transport_deg * kDeg) + (p.y - sc.centre.y) * std::cos(sc.transport_deg * kDeg);
  };
  std::vector<int> culprit_idx;  // registry indices of registered culprits
  Source unlisted;
  if (opt.kind == "border") {
    Source s;
    s.industry = kIndustries[static_cast<std::size_t>(sc.rng.integer(0, kIndustries.size() - 1))];
    s.p = *border_site;
    s.height_m = std::max(0.5, 12.0 * sc.hscale);
    s.q_g_s = sc.rng.uniform(0.2, 2.0) * sc.qscale;
    const int at = sc.rng.integer(0, static_cast<int>(sc.registry.size()));
    sc.registry.insert(sc.registry.begin() + at, s);
    culprit_idx.push_back(at);
  } else if (opt.kind == "unlisted") {
    bool placed = false;
    // first try off every facility's wind line; if the registry is too dense for that, accept
    // any upwind place well apart from the facilities (deterministic per seed either way)
    for (int attempt = 0; attempt < 10000 && !placed; ++attempt) {
      const bool strict = attempt < 5000;
      const Xy p{sc.centre.x + sc.rng.uniform(-0.4, 0.4) * S, sc.centre.y + sc.rng.uniform(-0.4, 0.4) * S};
      if (downwind_m(p) > -0.05 * S) continue;
      bool ok = placement_county(sc, p) >= 0;
      for (const Source& r : sc.registry) ok = ok && dist(p, r.p) >= 0.06 * S && (!strict || !aligned(sc, p, r.p));
      if (!ok) continue;
      unlisted.id = "UNLISTED";
      unlisted.name = "unregistered emitter";
      unlisted.industry = "unknown";
      unlisted.p = p;
      unlisted.height_m = std::max(0.5, sc.rng.uniform(5, 20) * sc.hscale);
      unlisted.q_g_s = 0;  // emits only during its release
      placed = true;
    }
    if (!placed) throw plumetrace::Internal("could not place the unlisted culprit");
  } else {
    // candidates: upwind half, and no other facility in their wind line (fallback: upwind half)
    std::vector<int> upwind, clear;
    for (std::size_t i = 0; i < sc.registry.size(); ++i) {
      if (downwind_m(sc.registry[i].p) >= 0.0) continue;
      upwind.push_back(static_cast<int>(i));
      bool alone = true;
      for (std::size_t j = 0; j < sc.registry.size(); ++j) alone = alone && !aligned(sc, sc.registry[i].p, sc.registry[j].p);
      if (alone) clear.push_back(static_cast<int>(i));
    }
    if (clear.size() >= static_cast<std::size_t>(n_culprits)) upwind = clear;
    if (upwind.empty()) throw plumetrace::Internal("no registry source upwind");
    for (int attempt = 0; attempt < 2000 && static_cast<int>(culprit_idx.size()) < n_culprits; ++attempt) {
      const int i = upwind[static_cast<std::size_t>(sc.rng.integer(0, static_cast<int>(upwind.size()) - 1))];
      if (culprit_idx.empty()) {
        culprit_idx.push_back(i);
        continue;
      }
      // a pair: more than 1.1 km apart at the default scale (scaled), less than 0.35 of the domain
      const double d = dist(sc.registry[static_cast<std::size_t>(i)].p, sc.registry[static_cast<std::size_t>(culprit_idx[0])].p);
      if (d > 1100.0 * S / kDefaultScale_m && d < 0.35 * S) culprit_idx.push_back(i);
    }
    if (n_culprits == 2 && culprit_idx.size() == 1 && sc.registry.size() >= 2) {
      // no registered pair at the right spacing (a small registry): move another facility there,
      // across the wind from the first culprit
      const Xy first = sc.registry[static_cast<std::size_t>(culprit_idx[0])].p;
      for (int attempt = 0; attempt < 5000; ++attempt) {
        const double side = sc.rng.uniform(0, 1) < 0.5 ? -1.0 : 1.0;
        const Xy p = along(first, sc.transport_deg + side * sc.rng.uniform(60, 120),
                           sc.rng.uniform(1200.0 * S / kDefaultScale_m, 0.3 * S));
        if (!in_box(sc, p, 0.45 * S) || placement_county(sc, p) < 0) continue;
        const int other = (culprit_idx[0] + 1 + sc.rng.integer(0, static_cast<int>(sc.registry.size()) - 2)) %
                          static_cast<int>(sc.registry.size());
        sc.registry[static_cast<std::size_t>(other)].p = p;
        culprit_idx.push_back(other);
        break;
      }
    }
    if (static_cast<int>(culprit_idx.size()) < n_culprits) throw plumetrace::Internal("could not pick the culprits");
  }
  name_registry(sc);
  for (std::size_t k = 0; k < culprit_idx.size(); ++k) {
    Source& r = sc.registry[static_cast<std::size_t>(culprit_idx[k])];
    r.height_m = std::min(r.height_m, std::max(0.5, 25.0 * sc.hscale));  // low enough to be seen
    r.culprit = static_cast<int>(k);
    sc.culprits.push_back(r);
  }
  if (opt.kind == "unlisted") sc.culprits.push_back(unlisted);
  for (std::size_t k = 0; k < sc.culprits.size(); ++k) {
    Source& c = sc.culprits[k];
    c.q_release_g_s = sc.rng.uniform(15, 60) * sc.qscale;
    c.on = sc.release_on;
    c.off = sc.release_off;
    c.culprit = static_cast<int>(k);
    if (k < culprit_idx.size()) sc.registry[static_cast<std::size_t>(culprit_idx[k])] = c;
  }

  // --- numerics, scale-adapted
  const double u_ref = 2.5;
  sc.cfg.start = sc.data_start;
  sc.cfg.end = sc.data_end;
  sc.cfg.averaging_s = opt.averaging_s;
  sc.cfg.sigma0_m = std::clamp(0.0015 * S, 0.3, 25.0);
  sc.cfg.box_half_m = 0.75 * S;  // stations lie within 0.55 S of the centre
  const double lifetime_s = 2 * sc.cfg.box_half_m / u_ref;
  sc.cfg.spinup_s = std::min(lifetime_s, 5400.0);
  double dt = std::clamp(S / (25 * u_ref), 1.0, 60.0);
  dt = opt.averaging_s / std::ceil(opt.averaging_s / dt);
  sc.cfg.dt_step_s = dt;
  const double near_m = (S < 1000 ? 0.1 : 0.06) * S;
  const double spacing_target_s = 0.7 * std::hypot(sigma_y(5, near_m), sc.cfg.sigma0_m) / 4.0;  // at 4 m/s
  const double n_steps = (opt.hours * 3600 + sc.cfg.spinup_s) / dt;
  const double budget_s = n_steps * (n_registry / 3.0 + 2) * lifetime_s * (n_stations + 1) / 1.0e8;
  const double dt_rel = std::clamp(std::max(spacing_target_s, budget_s), 0.1, 60.0);
  sc.cfg.releases_per_step = std::max(1, static_cast<int>(std::ceil(dt / dt_rel)));
  sc.cfg.permitted_releases_per_step = std::max(1, sc.cfg.releases_per_step / 3);
  if (std::getenv("PLUMETRACE_SIM_VERBOSE") != nullptr)
    std::cerr << "plumetrace-sim: step " << dt << " s, " << sc.cfg.releases_per_step << " puffs/step/source, sigma0 "
              << sc.cfg.sigma0_m << " m, spin-up " << sc.cfg.spinup_s << " s\n";

  // --- weather, stations, detectability (culprit-only runs), up to 12 draws
  bool detected = false;
  for (int attempt = 0; attempt < 12 && !detected; ++attempt) {
    draw_weather(sc);
    place_stations(sc, n_stations);
    if (static_cast<int>(sc.stations.size()) < 3) continue;
    std::vector<Source> release_only = sc.culprits;
    for (Source& c : release_only) c.q_g_s = 0;
    const SimResult cr = simulate(release_only, n_culprits, sc.stations, {}, 2.0, sc.weather, sc.cfg);
    detected = true;
    for (int k = 0; k < n_culprits; ++k) {
      int seen = 0;
      for (const auto& series : cr.culprit_mean[static_cast<std::size_t>(k)])
        if (*std::max_element(series.begin(), series.end()) >= 5.0) ++seen;
      detected = detected && seen >= 2;
    }
  }
  if (!detected) std::cerr << "plumetrace-sim: warning: culprit seen by fewer than 2 stations (seed " << opt.seed << ")\n";
  if (sc.stations.size() < 3) throw plumetrace::Internal("could not place stations");
  plan_car(sc);
  // the full run: every registered facility (culprits with their release) plus an unlisted culprit
  std::vector<Source> all = sc.registry;
  if (opt.kind == "unlisted") all.push_back(sc.culprits[0]);
  const double car_z = std::min(2.0, std::max(0.5, 0.02 * S));
  // the drone's pixels are sampled like the car's (instantaneous, at the same height), after it
  // in the sample list; sorted together by time for the puff run, then split again
  std::vector<CarSample> drone;
  Xy drone_nw;
  double drone_t0 = 0, drone_row_s = 0;
  if (opt.drone) {
    const Xy c0 = sc.culprits[0].p;
    const double t_mid = 0.5 * (sc.release_on + sc.release_off);
    const Xy w = sc.weather.wind(c0, t_mid);
    const double ws = std::max(std::hypot(w.x, w.y), 1e-6);
    const Xy centre{c0.x + kDroneDownwindM * w.x / ws, c0.y + kDroneDownwindM * w.y / ws};
    const double side = kDronePx * kDronePixelM;
    drone_nw = {centre.x - side / 2, centre.y + side / 2};
    drone_row_s = 600.0 / kDronePx;
    drone_t0 = t_mid - 300.0;
    for (int r = 0; r < kDronePx; ++r)
      for (int k = 0; k < kDronePx; ++k)
        drone.push_back({drone_t0 + r * drone_row_s,
                         {drone_nw.x + (k + 0.5) * kDronePixelM, drone_nw.y - (r + 0.5) * kDronePixelM}});
  }
  std::vector<CarSample> platform = sc.car;
  platform.insert(platform.end(), drone.begin(), drone.end());
  std::vector<std::size_t> order(platform.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return platform[a].t < platform[b].t; });
  std::vector<CarSample> sorted;
  for (std::size_t i : order) sorted.push_back(platform[i]);
  SimResult res = simulate(all, n_culprits, sc.stations, sorted, car_z, sc.weather, sc.cfg);
  std::vector<double> sampled(platform.size());
  for (std::size_t k = 0; k < order.size(); ++k) sampled[order[k]] = res.car[k];
  res.car.assign(sampled.begin(), sampled.begin() + static_cast<std::ptrdiff_t>(sc.car.size()));
  const std::vector<double> drone_c(sampled.begin() + static_cast<std::ptrdiff_t>(sc.car.size()), sampled.end());

  // --- write the case
  const fs::path case_dir = opt.flat ? opt.out : opt.out / "case";
  fs::create_directories(case_dir);
  const LocalFrame& fr = *sc.frame;
  auto ll = [&](Xy p) { return fr.to_lonlat(p); };
  const char* coord_fmt = S < 2000 ? "%.7f" : "%.6f";  // ~1 cm below 2 km, ~10 cm above
  auto county_of = [&](Xy p) -> int {
    if (!sc.counties) return -1;
    const auto [lon, lat] = ll(p);
    return sc.counties->truth_county(lon, lat, p);
  };
  {
    nlohmann::ordered_json cj;
    cj["name"] = opt.name.empty() ? "synthetic " + opt.kind + " " + std::to_string(opt.seed) : opt.name;
    cj["pollutant"] = opt.pollutant;
    cj["units"] = "ug/m3";
    if (opt.boundaries) {
      const fs::path rel = fs::weakly_canonical(*opt.boundaries).lexically_relative(fs::weakly_canonical(case_dir));
      cj["boundaries"] = {{"file", rel.generic_string()}, {"code_field", "adcode"}, {"name_field", "name"}};
    }
    std::ofstream(case_dir / "case.json") << cj.dump(1) << "\n";
  }
  {
    std::ofstream f(case_dir / "sources.csv");
    f << "id,name,lon,lat,height_m,industry,pollutants\n";
    for (const Source& s : sc.registry) {
      const auto [lon, lat] = ll(s.p);
      f << s.id << ',' << s.name << ',' << fmt(coord_fmt, lon) << ',' << fmt(coord_fmt, lat) << ',' << fmt("%.1f", s.height_m) << ','
        << s.industry << ',' << opt.pollutant << ";nox;pm10\n";
    }
  }
  std::vector<std::string> station_ids;
  {
    std::ofstream f(case_dir / "stations.csv");
    f << "id,name,lon,lat,height_m\n";
    for (std::size_t i = 0; i < sc.stations.size(); ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "M%02zu", i + 1);
      station_ids.emplace_back(id);
      const auto [lon, lat] = ll(sc.stations[i].p);
      f << id << ",station " << id << ',' << fmt(coord_fmt, lon) << ',' << fmt(coord_fmt, lat) << ',' << fmt("%.1f", sc.stations[i].z_m) << '\n';
    }
  }
  {
    std::ofstream f(case_dir / "readings.csv");
    const bool with_period = opt.averaging_s != 3600;
    const std::string period = opt.averaging_s == 600 ? "PT10M" : "PT1H";
    f << "station_id,time,variable,value,unit" << (with_period ? ",period" : "") << '\n';
    const std::string tail = with_period ? "," + period + "\n" : "\n";
    const std::vector<std::size_t> met{0, sc.stations.size() - 1};
    std::vector<double> bg(sc.stations.size()), bg_phase(sc.stations.size());
    for (std::size_t i = 0; i < bg.size(); ++i) {
      bg[i] = sc.rng.uniform(5, 8);
      bg_phase[i] = sc.rng.uniform(0, 2 * kPi);
    }
    std::vector<double> dir_bias(met.size()), speed_bias(met.size());
    for (std::size_t m = 0; m < met.size(); ++m) {
      dir_bias[m] = 4.0 * sc.rng.normal();
      speed_bias[m] = 1.0 + 0.04 * sc.rng.normal();
    }
    const std::size_t n_periods = res.station_mean.empty() ? 0 : res.station_mean[0].size();
    for (std::size_t p = 0; p < n_periods; ++p) {
      const double t = sc.data_start + static_cast<double>(p) * opt.averaging_s;
      const std::string ts = iso_local(t);
      for (std::size_t i = 0; i < sc.stations.size(); ++i) {
        const double b = bg[i] + 0.7 * std::sin(2 * kPi * (t - sc.data_start) / 43200.0 + bg_phase[i]);
        const double v = std::max(0.0, (b + res.station_mean[i][p]) * (1.0 + 0.1 * sc.rng.normal()));
        f << station_ids[i] << ',' << ts << ',' << opt.pollutant << ',' << fmt("%.2f", v) << ",ug/m3" << tail;
      }
      for (std::size_t m = 0; m < met.size(); ++m) {
        const Receptor& st = sc.stations[met[m]];
        Xy sum{0, 0}, unit_sum{0, 0};
        const int n = 20;
        for (int k = 0; k < n; ++k) {
          const Xy wv = sc.weather.wind(st.p, t + (k + 0.5) * opt.averaging_s / n);
          sum = {sum.x + wv.x / n, sum.y + wv.y / n};
          const double s = std::hypot(wv.x, wv.y);
          unit_sum = {unit_sum.x + wv.x / s / n, unit_sum.y + wv.y / s / n};
        }
        // Yamartino's sigma-theta of the instantaneous directions (the puffs feel these)
        const double eps = std::sqrt(std::max(0.0, 1.0 - std::min(1.0, unit_sum.x * unit_sum.x + unit_sum.y * unit_sum.y)));
        const double sigma_theta_deg = std::asin(eps) * (1 + (2 / std::sqrt(3.0) - 1) * eps * eps * eps) / kDeg;
        const double speed = std::hypot(sum.x, sum.y) * speed_bias[m] * (1.0 + 0.07 * sc.rng.normal());
        const double dir_from = std::fmod(std::atan2(-sum.x, -sum.y) / kDeg + dir_bias[m] + 5.5 * sc.rng.normal() + 720.0, 360.0);
        const double tm = t + 0.5 * opt.averaging_s;
        const std::string& id = station_ids[met[m]];
        f << id << ',' << ts << ",wind_speed," << fmt("%.2f", std::max(0.0, speed)) << ",m/s" << tail;
        f << id << ',' << ts << ",wind_dir," << fmt("%.1f", dir_from) << ",deg" << tail;
        const double sigma_theta_noise = 1.0 + 0.1 * sc.rng.normal();  // drawn always: same stream either way
        if (opt.sigma_theta)
          f << id << ',' << ts << ",wind_dir_std," << fmt("%.1f", sigma_theta_deg * sigma_theta_noise) << ",deg" << tail;
        f << id << ',' << ts << ",temperature," << fmt("%.1f", sc.weather.temperature(tm) + 0.3 * sc.rng.normal()) << ",degC" << tail;
        f << id << ',' << ts << ",cloud_cover," << fmt("%.0f", sc.weather.cloud(tm)) << ",okta" << tail;
      }
    }
  }
  std::vector<int> receptor_counties;
  for (const Receptor& st : sc.stations) receptor_counties.push_back(county_of(st.p));
  std::vector<int> station_counties = receptor_counties;
  if (!sc.car.empty()) {
    fs::create_directories(case_dir / "traces");
    std::ofstream f(case_dir / "traces" / "car_01.csv");
    f << "time,lon,lat," << opt.pollutant << '\n';
    const double jitter = std::min(3.0, 0.01 * S);
    for (std::size_t i = 0; i < sc.car.size(); ++i) {
      const Xy rep{sc.car[i].p.x + jitter * sc.rng.normal(), sc.car[i].p.y + jitter * sc.rng.normal()};
      const auto [lon, lat] = ll(rep);
      const double v = std::max(0.0, (6.0 + res.car[i]) * (1.0 + 0.15 * sc.rng.normal()));
      f << iso_local(sc.car[i].t) << ',' << fmt(coord_fmt, lon) << ',' << fmt(coord_fmt, lat) << ',' << fmt("%.2f", v) << '\n';
      if (i % 25 == 0) receptor_counties.push_back(county_of(sc.car[i].p));
    }
  }
  // drone survey: a GeoTIFF in EPSG:4326 (pixels of kDronePixelM at the image's latitude),
  // the 6 ug/m3 background added, 20 % multiplicative noise, a strip of 10 missing rows (nodata)
  if (opt.drone) {
    fs::create_directories(case_dir / "imagery");
    const std::string file = (case_dir / "imagery" / "drone.tif").string();
    GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
    std::unique_ptr<GDALDataset> ds(gtiff == nullptr ? nullptr
                                                     : gtiff->Create(file.c_str(), kDronePx, kDronePx, 1, GDT_Float32, nullptr));
    if (!ds) throw plumetrace::InvalidInput("cannot create " + file);
    const auto [lon_nw, lat_nw] = ll(drone_nw);
    const auto [lon_e, lat_e] = ll(Xy{drone_nw.x + kDronePixelM, drone_nw.y});
    const auto [lon_s, lat_s] = ll(Xy{drone_nw.x, drone_nw.y - kDronePixelM});
    double gt[6] = {lon_nw, lon_e - lon_nw, 0, lat_nw, 0, lat_s - lat_nw};
    ds->SetGeoTransform(gt);
    OGRSpatialReference wgs84;
    wgs84.importFromEPSG(4326);
    ds->SetSpatialRef(&wgs84);
    GDALRasterBand* band = ds->GetRasterBand(1);
    constexpr double kNoData = -9999;
    band->SetNoDataValue(kNoData);
    band->SetDescription(opt.pollutant.c_str());
    const int gap0 = sc.rng.integer(20, kDronePx - 30);
    std::vector<float> v(drone_c.size());
    for (int r = 0; r < kDronePx; ++r)
      for (int k = 0; k < kDronePx; ++k) {
        const std::size_t i = static_cast<std::size_t>(r) * kDronePx + static_cast<std::size_t>(k);
        v[i] = r >= gap0 && r < gap0 + 10 ? static_cast<float>(kNoData)
                                          : static_cast<float>(std::max(0.0, (6.0 + drone_c[i]) * (1.0 + 0.2 * sc.rng.normal())));
      }
    if (band->RasterIO(GF_Write, 0, 0, kDronePx, kDronePx, v.data(), kDronePx, kDronePx, GDT_Float32, 0, 0) != CE_None)
      throw plumetrace::InvalidInput("cannot write " + file);
    ds.reset();
    nlohmann::ordered_json side;
    side["variable"] = opt.pollutant;
    side["unit"] = "ug/m3";
    side["time"] = iso_local(drone_t0 + 300.0);
    std::ofstream(case_dir / "imagery" / "drone.json") << side.dump(1) << "\n";
  }
  // --- truth
  auto unique_codes = [&](const std::vector<int>& idx) {
    std::vector<std::string> codes;
    for (int c : idx)
      if (c >= 0) codes.push_back((*sc.counties)[c].code);
    std::sort(codes.begin(), codes.end());
    codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
    return codes;
  };
  const auto receptor_codes = unique_codes(receptor_counties);
  nlohmann::ordered_json truth;
  truth["kind"] = opt.kind;
  truth["seed"] = opt.seed;
  truth["window"] = {iso_local(sc.release_on), iso_local(sc.release_off)};
  truth["data_window"] = {iso_local(sc.data_start), iso_local(sc.data_end)};
  truth["sources"] = nlohmann::ordered_json::array();
  bool any_cross = false;
  for (const Source& c : sc.culprits) {
    const auto [lon, lat] = ll(c.p);
    const int ci = county_of(c.p);
    const std::string code = ci >= 0 ? (*sc.counties)[ci].code : "";
    const bool cross = !code.empty() && !receptor_codes.empty() &&
                       std::find(receptor_codes.begin(), receptor_codes.end(), code) == receptor_codes.end();
    any_cross = any_cross || cross;
    truth["sources"].push_back({{"id", c.id}, {"lon", lon}, {"lat", lat}, {"q_g_s", c.q_release_g_s}, {"county", code},
                                {"county_name", ci >= 0 ? (*sc.counties)[ci].name : ""}, {"height_m", c.height_m},
                                {"cross_border", cross}});
  }
  truth["station_counties"] = unique_codes(station_counties);
  truth["receptor_counties"] = receptor_codes;  // stations and the survey car
  truth["cross_border"] = any_cross;
  truth["scale_m"] = S;
  if (opt.drone)
    truth["drone"] = {{"file", "imagery/drone.tif"}, {"pixel_m", kDronePixelM}, {"px", kDronePx},
                      {"time", iso_local(drone_t0 + 300.0)}, {"downwind_m", kDroneDownwindM}};
  truth["averaging"] = opt.averaging_s == 600 ? "PT10M" : "PT1H";
  truth["detectable"] = detected;
  std::ofstream(opt.out / "truth.json") << truth.dump(1) << "\n";
}

}  // namespace

namespace {

/// Mass-balance check of the truth model: in a steady, uniform wind with a fixed Pasquill class
/// (D), a train of puffs must reproduce the analytic Gaussian plume (ground reflection, same
/// Briggs sigmas and initial size). Prints the ratio puff/plume at 500, 1000 and 2000 m downwind
/// on the centreline at 2 m and returns 0 when all are within 10 %.
int self_check() {
  Weather w;
  w.t0 = 0;
  w.dir_from_deg.assign(8, 270.0);  // wind from the west: the plume goes east (+x)
  w.speed_m_s.assign(8, 3.0);
  w.cloud_okta.assign(8, 8.0);      // overcast: class D day and night
  w.mix_night_m = w.mix_day_m = 2000;
  w.vortex_core_m = 1;
  w.scale_m = 5000;
  std::vector<Source> src(1);
  src[0].p = {0, 0};
  src[0].height_m = 10;
  src[0].q_g_s = 10;
  const std::array<double, 3> xs{500, 1000, 2000};
  std::vector<Receptor> rec;
  for (double x : xs) rec.push_back({{x, 0}, 2.0});
  SimConfig cfg;
  cfg.start = 7200;
  cfg.end = 10800;
  cfg.spinup_s = 7200;
  cfg.dt_step_s = 20;
  cfg.releases_per_step = cfg.permitted_releases_per_step = 10;
  cfg.sigma0_m = 1;
  cfg.box_half_m = 3000;
  const SimResult r = simulate(src, 0, rec, {}, 2.0, w, cfg);
  bool ok = true;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Briggs& b = kBriggsRural[3];
    const double sy = std::hypot(sigma_y(3, xs[i]), cfg.sigma0_m);
    const double sz = std::hypot(b.az * xs[i] / std::sqrt(1 + b.bz * xs[i]), 0.3 * cfg.sigma0_m);
    const double h = 10, z = 2;
    const double plume = 10e6 / (2 * kPi * 3.0 * sy * sz) *
                         (std::exp(-(z - h) * (z - h) / (2 * sz * sz)) + std::exp(-(z + h) * (z + h) / (2 * sz * sz)));
    const double ratio = r.station_mean[i][0] / plume;
    std::cout << "x = " << xs[i] << " m: puffs " << r.station_mean[i][0] << " ug/m3, plume " << plume << " ug/m3, ratio "
              << ratio << "\n";
    ok = ok && std::abs(ratio - 1.0) < 0.10;
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    GDALAllRegister();
    const Options opt = parse_options(argc, argv);
    if (opt.self_check) return self_check();
    run(opt);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "plumetrace-sim: " << e.what() << "\n";
    return plumetrace::exit_code_for(e);
  }
}

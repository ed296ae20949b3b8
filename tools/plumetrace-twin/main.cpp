/// @file main.cpp
/// plumetrace-twin: an independent twin-experiment simulator. It writes one synthetic incident as
/// a case folder (README "Case folder") plus `truth.json`, from physics that shares nothing with
/// the tracer: puffs in a wind field that changes in space and time (with calm, variable hours),
/// turbulence-based growth (Panofsky/Hanna profiles, Draxler time functions), gradual Briggs rise
/// from stack exit data, reflection between ground and lid by images or a cosine series, every
/// registered facility emitting its permitted rate, station networks and car routes drawn without
/// looking at the culprit, a drifting regional background and a survey sensor with lag.
/// See docs/twins.md for the model, the kinds and the harness (scripts/twin-eval.py).
///
/// Usage: plumetrace-twin --kind K --seed N --out DIR [options] (--help). Deterministic per
/// arguments. Links only plumetrace_core (errors, ISO 8601 formatting): never the tracer's rooms.

#if defined(__GNUC__) && !defined(__clang__) && !defined(__OPTIMIZE__)
#pragma GCC optimize("O2")  // test data generator: fast even in a Debug build
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gdal.h>
#include <nlohmann/json.hpp>

#include "atmosphere.hpp"
#include "counties.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/core/time.hpp"
#include "puffs.hpp"

namespace fs = std::filesystem;
using namespace twin;

namespace {

constexpr int kLocalOffset_min = 480;  // +08:00
constexpr double kAlarmStation_ug_m3 = 6.0;   // a release "seen" by a station period (~4 noise levels)
constexpr double kAlarmCar_ug_m3 = 10.0;      // ... by a car sample
constexpr int kDenseRegistry = 100;          // above this, permitted rates shrink (see build_regional)
constexpr double kSiting_m = 300.0;           // an ambient station's distance from any facility
constexpr int kMaxDraws = 60;                 // weather/network/route draws before giving up
constexpr double kExplained_ug_m3 = 4.0;      // a receptor "affected" by a release (truth counties)
constexpr int kDronePx = 200;           // drone survey: pixels per side (--drone)
constexpr double kDronePixelM = 8.0;     // and their size
constexpr const char* kKinds[] = {"single", "none", "unlisted", "pair", "border", "hotstack", "large", "field", "field-noreg"};

struct Options {
  std::string kind;
  std::uint64_t seed = 0;
  fs::path out;
  std::optional<fs::path> boundaries;
  int registry = 0;             // 0: kind default
  bool car = true;
  std::string window = "given";  // given | none | early | late
  std::string county_a = "331122", county_b = "330784";  // border kind: culprit county, receptor county
  std::string pollutant = "so2";
  double permitted_scale = 1.0;  // multiplies the permitted rates of the innocent (an ablation knob)
  bool drone = false;            // also write imagery/drone.tif: a drone gas survey near the culprit
  bool beams = false;            // also write paths.csv: four open-path beams fencing a yard round the culprit
  bool registry_permits = false; // sources.csv also gives each facility's permitted_g_s
  bool self_check = false;
  bool verbose = false;
};

constexpr const char* kHelp =
    "plumetrace-twin --kind K --seed N --out DIR [options]\n"
    "  kinds: single none unlisted pair border hotstack large field field-noreg\n"
    "  --registry N          registry size (default 20-80; large: 2000; field: 7)\n"
    "  --no-car              no survey car (regional kinds)\n"
    "  --window MODE         window written to truth.json for the tracer: given (the release\n"
    "                        rounded out to whole hours, default), none, early or late (given -/+ 2 h)\n"
    "  --boundaries FILE     county GeoJSON (default <source>/data/zhejiang_counties.geojson)\n"
    "  --county-pair A,B     border kind: culprit county A, receptor county B (default 331122,330784)\n"
    "  --pollutant P         variable name (default so2)\n"
    "  --permitted-scale X   multiply the innocent facilities' permitted rates (default 1; 0: silent)\n"
    "  --registry-permits    sources.csv also gives permitted_g_s: each facility's usual rate times\n"
    "                        1-2 (a permit is a ceiling: works emit 50-100 % of it)\n"
    "  --drone               regional kinds: also imagery/drone.tif, a drone gas survey (8 m pixels, a\n"
    "                        1.6 km square within 600 m of the first culprit, scanned row by row over\n"
    "                        10 min mid-release at 2 m, 20 %% noise, a strip missing)\n"
    "  --beams               regional kinds: also paths.csv, four open-path beams (hourly means along\n"
    "                        each, 2 m up) on the sides of a 500 m square yard holding the first\n"
    "                        culprit anywhere inside it (at least 50 m from the fence)\n"
    "  --verbose             progress on standard error\n"
    "  --self-check          compare a puff train with the analytic steady plume and exit\n";

Options parse_options(int argc, char** argv) {
  Options o;
  bool have_out = false, have_seed = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::size_t i = 0;
  const auto value = [&](const std::string& flag) -> std::string {
    if (i + 1 >= args.size()) throw plumetrace::InvalidInput("missing value after " + flag);
    return args[++i];
  };
  const auto number = [](const std::string& text, const std::string& flag) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() || !std::isfinite(v)) throw plumetrace::InvalidInput("bad number for " + flag + ": " + text);
    return v;
  };
  const std::map<std::string, std::function<void(const std::string&)>> handlers{
      {"--kind", [&](const std::string& f) { o.kind = value(f); }},
      {"--seed", [&](const std::string& f) { o.seed = static_cast<std::uint64_t>(number(value(f), f)); have_seed = true; }},
      {"--out", [&](const std::string& f) { o.out = value(f); have_out = true; }},
      {"--boundaries", [&](const std::string& f) { o.boundaries = fs::path(value(f)); }},
      {"--registry", [&](const std::string& f) { o.registry = static_cast<int>(number(value(f), f)); }},
      {"--no-car", [&](const std::string&) { o.car = false; }},
      {"--window", [&](const std::string& f) { o.window = value(f); }},
      {"--pollutant", [&](const std::string& f) { o.pollutant = value(f); }},
      {"--verbose", [&](const std::string&) { o.verbose = true; }},
      {"--drone", [&](const std::string&) { o.drone = true; }},
      {"--beams", [&](const std::string&) { o.beams = true; }},
      {"--registry-permits", [&](const std::string&) { o.registry_permits = true; }},
      {"--permitted-scale", [&](const std::string& f) { o.permitted_scale = number(value(f), f); }},
      {"--self-check", [&](const std::string&) { o.self_check = true; }},
      {"--county-pair", [&](const std::string& f) {
         const std::string v = value(f);
         const auto comma = v.find(',');
         if (comma == std::string::npos) throw plumetrace::InvalidInput("--county-pair wants A,B");
         o.county_a = v.substr(0, comma);
         o.county_b = v.substr(comma + 1);
       }},
  };
  for (; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kHelp;
      std::exit(0);
    }
    const auto h = handlers.find(args[i]);
    if (h == handlers.end()) throw plumetrace::InvalidInput("unknown argument '" + args[i] + "' (see --help)");
    h->second(args[i]);
  }
  if (o.self_check) return o;
  if (!have_out || !have_seed || o.kind.empty()) throw plumetrace::InvalidInput("--kind, --seed and --out are required (see --help)");
  if (std::find(std::begin(kKinds), std::end(kKinds), o.kind) == std::end(kKinds))
    throw plumetrace::InvalidInput("unknown kind '" + o.kind + "' (see --help)");
  if (o.window != "given" && o.window != "none" && o.window != "early" && o.window != "late")
    throw plumetrace::InvalidInput("--window must be given, none, early or late");
  if (o.registry < 0 || o.registry > 5000) throw plumetrace::InvalidInput("--registry in [0, 5000]");
  if (!o.boundaries) {
    const fs::path def = fs::path(PLUMETRACE_SOURCE_DIR) / "data" / "zhejiang_counties.geojson";
    if (fs::exists(def)) o.boundaries = def;
  }
  return o;
}

std::string num(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string iso(double t_utc_s) { return plumetrace::format_iso8601(std::round(t_utc_s), kLocalOffset_min); }

// ---------------------------------------------------------------------------------------------
// The incident being built
// ---------------------------------------------------------------------------------------------

struct Facility {
  std::string id, name, industry;
  P2 p;
  double registry_height_m = 15;  // what sources.csv says
  double true_height_m = 15;      // where it really releases (0.5-1.8 x registry)
  double exit_velocity_m_s = 0, exit_temp_k = 0, diameter_m = 0;
  double permitted_g_s = 1;
  double sigma0_m = 8;
};

struct Culprit {
  std::string id;                 // registry id or "UNLISTED"
  int facility = -1;              // registry index, -1 when unregistered
  Emitter emitter;
  double mean_release_g_s = 0;    // mean rate during [on, off)
};

struct Incident {
  Options opt;
  bool field = false;
  double lon0 = 120.05, lat0 = 28.88;
  std::optional<Plane> plane;
  std::unique_ptr<CountyMap> counties;
  double half_m = 7000;                 // domain half side
  std::vector<Facility> registry;
  std::vector<Culprit> culprits;
  std::vector<P2> stations;
  std::vector<double> station_z;
  std::vector<P2> met_sites;
  std::vector<Intake> intakes;          // car intakes, 1 s apart
  std::vector<P2> car_track;            // car position at each second of its route (same index)
  int car_lag_s = 10;
  double car_tau_s = 3;
  Weather weather;
  EngineConfig engine;
  double data_start = 0, data_end = 0;  // readings span (UTC)
  double release_on = 0, release_off = 0;  // incident release (union over culprits; none: the pseudo window)
  int redraws = 0;
  bool detectable = true;
  int receptor_county = -1;             // border kind: county B
  // drone survey (--drone): kDronePx x kDronePx pixels of kDronePixelM, north-west corner at
  // drone_nw, row r scanned at drone_t0 + r * drone_row_s; values without background, µg/m³
  P2 drone_nw;
  double drone_t0 = 0, drone_row_s = 0;
  std::vector<double> drone;
  // open-path beams (--beams): ends, and the hourly mean along each ([beam][period], µg/m³,
  // without background)
  std::vector<std::pair<P2, P2>> beams;
  std::vector<std::vector<double>> beam_mean;
  double transport_to_deg = 0;          // border kind: the initial transport direction
  Samples samples;
};

int county_clear(const Incident& in, P2 p, double r) { return in.counties ? in.counties->clear_at(p, r) : 0; }

// ---------------------------------------------------------------------------------------------
// Weather
// ---------------------------------------------------------------------------------------------

/// Hourly nodes from `from` (UTC) for `hours`: a speed random walk in log space about a mean
/// drawn per incident, direction steps of ~12°/h, one calm and variable spell (0.3-0.8 m/s,
/// direction steps of ~70°/h, strong meander) in 45 % of incidents, a wind shift in 20 %.
void draw_weather(Weather& w, Stream& r, double from, double hours, double half_m, double dir0_from, double dir_step_deg,
                  bool calms) {
  w.t0_s = from;
  const auto n = static_cast<std::size_t>(std::ceil(hours)) + 2;
  w.dir_from_deg.assign(n, 0.0);
  w.speed_m_s.assign(n, 0.0);
  w.cloud_okta.assign(n, 0.0);
  const double mean_speed = r.log_in(1.2, 5.0);
  const double cloud_mean = r.in(0, 8);
  double ln_u = std::log(mean_speed) + 0.3 * r.gauss(), dir = dir0_from;
  std::size_t calm_from = n, calm_to = n, shift_at = n;
  if (calms && r.chance(0.45)) {
    calm_from = static_cast<std::size_t>(r.below(static_cast<int>(n) - 3)) + 1;
    calm_to = calm_from + static_cast<std::size_t>(r.below(3)) + 1;
  }
  if (calms && r.chance(0.2)) shift_at = static_cast<std::size_t>(r.below(static_cast<int>(n) - 2)) + 1;
  const double shift = r.in(40, 120) * (r.chance(0.5) ? 1 : -1);
  for (std::size_t k = 0; k < n; ++k) {
    const bool calm = k >= calm_from && k < calm_to;
    ln_u = 0.7 * ln_u + 0.3 * std::log(mean_speed) + 0.25 * r.gauss();
    dir += (calm ? 70.0 : dir_step_deg) * r.gauss() + (k == shift_at ? shift : 0.0);
    w.dir_from_deg[k] = std::fmod(dir + 3600.0, 360.0);
    w.speed_m_s[k] = calm ? r.in(0.3, 0.8) : std::clamp(std::exp(ln_u), 0.6, 9.0);
    w.cloud_okta[k] = std::clamp(std::round(cloud_mean + 1.5 * r.gauss()), 0.0, 8.0);
  }
  for (std::size_t i = 0; i < 3; ++i) {
    w.meander_period_s[i] = 60.0 * (i == 0 ? r.in(6, 15) : i == 1 ? r.in(15, 35) : r.in(35, 70));
    w.meander_phase[i] = r.in(0, 2 * kPi);
    w.meander_amp_deg[i] = r.in(1.5, 5.0);
  }
  w.wobble_amp = r.in(0.03, 0.15);
  w.wobble_period_s = r.in(600, 2400);
  w.wobble_phase = r.in(0, 2 * kPi);
  w.grad_dir_x_deg = 8.0 * r.gauss();
  w.grad_dir_y_deg = 8.0 * r.gauss();
  w.grad_speed_x = 0.1 * r.gauss();
  w.grad_speed_y = 0.1 * r.gauss();
  w.half_m = half_m;
  w.z0_m = r.log_in(0.05, 0.5);
  w.temp_mean_c = r.in(4, 30);
  w.temp_amp_c = r.in(2, 6);
  w.mix_day_cap_m = r.in(700, 2000);
}

// ---------------------------------------------------------------------------------------------
// Registry, culprits, networks, routes (regional kinds)
// ---------------------------------------------------------------------------------------------

constexpr const char* kIndustries[] = {"ceramics", "dyeing", "electroplating", "foundry", "hardware", "chemicals",
                                       "paper", "boilers", "coating", "glass", "plastics", "printing"};

/// Facilities clustered around industrial parks (70 %) or scattered (30 %) over the domain; 15 %
/// hot stacks with exit data. Heights lognormal about 18 m; true heights 0.5-1.8 x registry.
void draw_registry(Incident& in, Stream& r, int n) {
  std::vector<P2> parks(static_cast<std::size_t>(3 + r.below(6)));
  std::vector<double> park_size(parks.size());
  for (std::size_t k = 0; k < parks.size(); ++k) {
    parks[k] = {r.in(-0.85, 0.85) * in.half_m, r.in(-0.85, 0.85) * in.half_m};
    park_size[k] = r.in(300, 900);
  }
  for (int i = 0; i < n; ++i) {
    Facility f;
    do {
      if (r.chance(0.7)) {
        const auto k = static_cast<std::size_t>(r.below(static_cast<int>(parks.size())));
        f.p = {parks[k].x + park_size[k] * r.gauss(), parks[k].y + park_size[k] * r.gauss()};
      } else {
        f.p = {r.in(-1, 1) * in.half_m, r.in(-1, 1) * in.half_m};
      }
    } while (std::abs(f.p.x) > in.half_m || std::abs(f.p.y) > in.half_m);
    f.industry = kIndustries[r.below(static_cast<int>(std::size(kIndustries)))];
    f.registry_height_m = std::round(std::clamp(18.0 * std::exp(0.5 * r.gauss()), 5.0, 80.0));
    f.true_height_m = f.registry_height_m * r.in(0.5, 1.8);
    f.permitted_g_s = r.log_in(0.5, 4.0);
    f.sigma0_m = r.in(3, 15);
    if (r.chance(0.15)) {
      f.exit_velocity_m_s = r.in(5, 15);
      f.exit_temp_k = r.in(340, 450);
      f.diameter_m = r.in(0.4, 1.8);
    }
    in.registry.push_back(f);
  }
}

void name_registry(Incident& in) {
  for (std::size_t i = 0; i < in.registry.size(); ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "F%04zu", i + 1);
    in.registry[i].id = id;
    in.registry[i].name = in.registry[i].industry + " works " + id;
  }
}

/// Release timing of one culprit: onset `lead` after the data start, 1-4 h long, ramps of
/// 3-15 min, a ±(10-35) % fluctuation; rate 3-30 x the mean permitted rate of the others.
Emitter release_of(Stream& r, P2 p, double z, double sigma0, double permitted, double others_mean, double on, int tag) {
  Emitter e;
  e.p = p;
  e.z_m = z;
  e.sigma0_m = sigma0;
  e.permitted_g_s = permitted;
  e.release_g_s = std::max(r.log_in(3, 30) * others_mean, 2 * permitted);
  e.on_s = on;
  e.off_s = on + r.in(1.0, 4.0) * 3600.0;
  e.ramp_s = r.in(180, 900);
  e.wobble = r.in(0.1, 0.35);
  e.wobble_period_s = r.in(900, 3600);
  e.wobble_phase = r.in(0, 2 * kPi);
  e.tag = tag;
  e.fine = true;
  return e;
}

double mean_release(const Emitter& e) {
  double sum = 0;
  int n = 0;
  for (double t = e.on_s + 5; t < e.off_s; t += 10, ++n) sum += e.rate(t);
  return n > 0 ? sum / n : 0.0;
}

/// Stations at town-like points: 4-8 towns anywhere in the domain, stations scattered ~700 m
/// around them, 600 m apart at least and 300 m from any facility. Drawn without any knowledge of the culprits; `county` >= 0
/// keeps them clearly inside that county (border kind).
void draw_stations(Incident& in, Stream& r, int n, int county) {
  std::vector<P2> towns(static_cast<std::size_t>(4 + r.below(5)));
  for (auto& t : towns) t = {r.in(-0.85, 0.85) * in.half_m, r.in(-0.85, 0.85) * in.half_m};
  in.stations.clear();
  in.station_z.clear();
  for (int attempt = 0; attempt < 20000 && static_cast<int>(in.stations.size()) < n; ++attempt) {
    const P2& t = towns[static_cast<std::size_t>(r.below(static_cast<int>(towns.size())))];
    const P2 p{t.x + 700 * r.gauss(), t.y + 700 * r.gauss()};
    if (std::abs(p.x) > 0.95 * in.half_m || std::abs(p.y) > 0.95 * in.half_m) continue;
    if (county >= 0 && in.counties->clear_at(p, 250) != county) continue;
    bool apart = true;
    for (const P2& q : in.stations) apart = apart && distance(p, q) > 600;
    // ambient stations are sited away from local sources (kSiting_m from any facility)
    for (const Facility& f : in.registry) apart = apart && distance(p, f.p) > kSiting_m;
    if (!apart) continue;
    in.stations.push_back(p);
    in.station_z.push_back(std::round(r.in(3, 12)));
  }
  in.met_sites = {{r.in(-0.7, 0.7) * in.half_m, r.in(-0.7, 0.7) * in.half_m},
                  {r.in(-0.7, 0.7) * in.half_m, r.in(-0.7, 0.7) * in.half_m}};
}

/// Drive a polyline at 1 s resolution: legs of the given headings and lengths at 6-14 m/s, with
/// occasional stops; appends to the car track from time t.
struct Driver {
  Incident& in;
  Stream& r;
  double t;
  P2 at;
  void leg(double heading_to_deg, double length_m) {
    const double v = r.in(6, 14);
    const auto steps = static_cast<int>(std::ceil(length_m / v));
    const double dx = std::sin(heading_to_deg * kRad) * length_m / steps, dy = std::cos(heading_to_deg * kRad) * length_m / steps;
    for (int k = 0; k < steps; ++k) {
      at = {at.x + dx, at.y + dy};
      in.car_track.push_back(at);
      in.intakes.push_back({t, at});
      t += 1;
    }
    if (r.chance(0.15)) {
      const int stop = 20 + r.below(100);
      for (int k = 0; k < stop; ++k, t += 1) {
        in.car_track.push_back(at);
        in.intakes.push_back({t, at});
      }
    }
  }
};

/// A road-like random route: legs of 300-1500 m turning by ~50° (back toward the middle when a
/// leg would leave the domain), from a random point, for 1.5-3 h from `from`. Blind to culprits.
void draw_blind_route(Incident& in, Stream& r, double from) {
  in.car_track.clear();
  in.intakes.clear();
  Driver d{in, r, from, {r.in(-0.8, 0.8) * in.half_m, r.in(-0.8, 0.8) * in.half_m}};
  double heading = r.in(0, 360);
  const double until = from + r.in(1.5, 3.0) * 3600.0;
  while (d.t < until) {
    const double length = r.in(300, 1500);
    heading += 50.0 * r.gauss();
    const P2 end{d.at.x + std::sin(heading * kRad) * length, d.at.y + std::cos(heading * kRad) * length};
    if (std::abs(end.x) > 0.9 * in.half_m || std::abs(end.y) > 0.9 * in.half_m)
      heading = std::atan2(-d.at.x, -d.at.y) / kRad + r.in(-30, 30);
    d.leg(heading, length);
  }
}

/// Border kind: the survey car starts ~5 km down the plume in county B and works its way up the
/// plume with cross-wind transects (±0.6-1 km), following the direction the plume is seen to
/// go (the transport of the moment ± 8°), into county A to 300-600 m from the source.
void draw_following_route(Incident& in, Stream& r, double from, P2 source) {
  in.car_track.clear();
  in.intakes.clear();
  const auto toward = [&](double t) { return in.weather.centre_dir_from(t) + 180.0 + 8.0 * r.gauss(); };
  double axis = toward(from);
  double down = r.in(4500, 5500);
  Driver d{in, r, from, {source.x + std::sin(axis * kRad) * down, source.y + std::cos(axis * kRad) * down}};
  const double stop_at = r.in(300, 600);
  int side = r.chance(0.5) ? 1 : -1;
  while (down > stop_at && d.t < from + 4 * 3600.0) {
    axis = toward(d.t);
    const double half_width = r.in(600, 1000);
    down = std::max(stop_at, down - r.in(300, 600));
    const P2 target{source.x + std::sin(axis * kRad) * down + side * half_width * std::cos(axis * kRad),
                    source.y + std::cos(axis * kRad) * down - side * half_width * std::sin(axis * kRad)};
    const double heading = std::atan2(target.x - d.at.x, target.y - d.at.y) / kRad;
    d.leg(heading, std::max(50.0, distance(target, d.at)));
    side = -side;
  }
}

/// Culprit-only run: does the release raise an alarm, seen from more than one place? Two
/// stations with a period at least 6 µg/m³ (about four noise levels) above what they would read
/// without it, or one such station and 30 car samples 10 µg/m³ above theirs. Incidents are traced
/// because something was seen, and a release that one station alone saw cannot be told from
/// anything else on that station's wind line: the simulator redraws the weather, network and
/// route (never the culprit) until this holds.
bool detectable(const Samples& s, std::size_t tag, bool stations_only) {
  int stations_seeing = 0, car_hits = 0;
  for (const auto& series : s.station_tag[tag])
    stations_seeing += *std::max_element(series.begin(), series.end()) >= kAlarmStation_ug_m3 ? 1 : 0;
  for (const double c : s.platform_tag[tag]) car_hits += c >= kAlarmCar_ug_m3 ? 1 : 0;
  if (stations_only) return stations_seeing >= 2;
  return stations_seeing >= 2 || (stations_seeing >= 1 && car_hits >= 30);
}

/// The culprits during their releases only: what detectability looks at.
std::vector<Emitter> release_emitters(const Incident& in) {
  std::vector<Emitter> out;
  for (const Culprit& c : in.culprits) {
    out.push_back(c.emitter);
    out.back().release_only = true;
  }
  return out;
}

std::vector<Emitter> all_emitters(const Incident& in) {
  std::vector<Emitter> out;
  for (const Facility& f : in.registry) {
    bool is_culprit = false;
    for (const Culprit& c : in.culprits) is_culprit = is_culprit || (c.facility >= 0 && in.registry[static_cast<std::size_t>(c.facility)].id == f.id);
    if (is_culprit) continue;
    Emitter e;
    e.p = f.p;
    e.z_m = f.true_height_m;
    e.sigma0_m = f.sigma0_m;
    e.exit_velocity_m_s = f.exit_velocity_m_s;
    e.exit_temp_k = f.exit_temp_k;
    e.diameter_m = f.diameter_m;
    e.permitted_g_s = f.permitted_g_s * in.opt.permitted_scale;
    e.wobble_phase = std::fmod(f.p.x * 0.001 + f.p.y * 0.0007, 2 * kPi);
    out.push_back(e);
  }
  for (const Culprit& c : in.culprits) out.push_back(c.emitter);
  return out;
}

/// Build a regional incident: geography, registry, culprits, times; then weather, stations and
/// car route drawn blind and redrawn (up to 30 times) until every culprit is detectable.
void build_regional(Incident& in) {
  const Options& o = in.opt;
  const std::string& kind = o.kind;
  Stream geo(o.seed, "geography:" + kind);
  in.half_m = 7000;
  in.lon0 = geo.in(119.95, 120.15);
  in.lat0 = geo.in(28.82, 28.98);
  if (kind == "border") {
    in.lon0 = 120.08;
    in.lat0 = 28.76;
  }
  const double reach = in.half_m + (kind == "border" ? 30000.0 : 3000.0);
  in.plane.emplace(in.lon0, in.lat0);
  if (o.boundaries) in.counties = std::make_unique<CountyMap>(*o.boundaries, *in.plane, reach);
  if (kind == "border") {
    if (!in.counties) throw plumetrace::InvalidInput("the border kind needs --boundaries");
    const int a = in.counties->find(o.county_a), b = in.counties->find(o.county_b);
    if (a < 0 || b < 0) throw plumetrace::InvalidInput("--county-pair: county not found in the boundaries");
    // a culprit site clearly in A, 0.8-3 km from B along some bearing, B filling the way beyond
    bool found = false;
    for (int attempt = 0; attempt < 20000 && !found; ++attempt) {
      const County& ca = (*in.counties)[a];
      const P2 c{geo.in(ca.lo.x, ca.hi.x), geo.in(ca.lo.y, ca.hi.y)};
      if (in.counties->clear_at(c, 400) != a) continue;
      const double bearing = geo.in(0, 360);
      const auto along = [&](double d) { return P2{c.x + std::sin(bearing * kRad) * d, c.y + std::cos(bearing * kRad) * d}; };
      double cross = -1;
      for (double d = 800; d <= 3000 && cross < 0; d += 100)
        if (in.counties->at(along(d)) == b) cross = d;
      if (cross < 0) continue;
      bool deep = true;
      for (const double extra : {1500.0, 3000.0, 5000.0}) deep = deep && in.counties->clear_at(along(cross + extra), 300) == b;
      if (!deep) continue;
      // re-centre the plane between the culprit and B
      const P2 centre = along(cross + 1500);
      in.lon0 = in.plane->lon(centre);
      in.lat0 = in.plane->lat(centre);
      const P2 c_ll{in.plane->lon(c), in.plane->lat(c)};
      in.plane.emplace(in.lon0, in.lat0);
      in.counties = std::make_unique<CountyMap>(*o.boundaries, *in.plane, in.half_m + 3000.0);
      in.receptor_county = in.counties->find(o.county_b);
      in.transport_to_deg = bearing;
      Culprit cu;
      cu.emitter.p = in.plane->to_plane(c_ll.x, c_ll.y);
      in.culprits.push_back(cu);
      found = true;
    }
    if (!found) throw plumetrace::Internal("border kind: no culprit site near the county border");
  }

  // --- registry
  Stream reg(o.seed, "registry:" + kind);
  const int n_registry = o.registry > 0 ? o.registry : kind == "large" ? 2000 : 20 + reg.below(61);
  draw_registry(in, reg, n_registry);
  double others_mean = 0;
  for (const Facility& f : in.registry) others_mean += f.permitted_g_s / static_cast<double>(in.registry.size());
  // A county registry lists mostly small works: above kDenseRegistry facilities the permitted
  // rates shrink by kDenseRegistry/N, so the domain's total permitted emission stays that of a
  // kDenseRegistry-facility registry (2,000 facilities at 0.5-4 g/s would emit 4 kg/s of SO2
  // over 200 km²). Culprits still emit 3-30 x the unscaled mean.
  if (static_cast<int>(in.registry.size()) > kDenseRegistry)
    for (Facility& f : in.registry) f.permitted_g_s *= static_cast<double>(kDenseRegistry) / static_cast<double>(in.registry.size());

  // --- times: data from 16-22 h (60 %) or 05-09 h local, release 2.5-6 h after the start
  Stream times(o.seed, "times:" + kind);
  const auto day = plumetrace::days_from_civil(2021 + times.below(5), 1, 1) + times.below(365);
  // hot stacks reach the ground in daytime convection: their incidents start in the morning
  const bool morning = kind == "hotstack" || !times.chance(0.6);
  const double start_local_h = morning ? 5 + times.below(4) : 16 + times.below(7);
  in.data_start = static_cast<double>(day) * 86400.0 + start_local_h * 3600.0 - kLocalOffset_min * 60.0;
  const double onset = in.data_start + std::round(times.in(2.5, 6.0) * 60.0) * 60.0 + times.below(60);

  // --- culprits
  Stream pick(o.seed, "culprits:" + kind);
  const auto registered_culprit = [&](int index, int tag, double on) {
    Facility& f = in.registry[static_cast<std::size_t>(index)];
    Culprit c;
    c.id = f.id;
    c.facility = index;
    c.emitter = release_of(pick, f.p, f.true_height_m, f.sigma0_m, f.permitted_g_s, others_mean, on, tag);
    c.emitter.exit_velocity_m_s = f.exit_velocity_m_s;
    c.emitter.exit_temp_k = f.exit_temp_k;
    c.emitter.diameter_m = f.diameter_m;
    in.culprits.push_back(c);
  };
  const auto clear_facility = [&]() {
    for (int attempt = 0; attempt < 100000; ++attempt) {
      const int i = pick.below(static_cast<int>(in.registry.size()));
      const P2 p = in.registry[static_cast<std::size_t>(i)].p;
      if (std::abs(p.x) < 0.8 * in.half_m && std::abs(p.y) < 0.8 * in.half_m && county_clear(in, p, 300) >= 0) return i;
    }
    throw plumetrace::Internal("no registry facility clear of county borders");
  };
  if (kind == "single" || kind == "large" || kind == "hotstack") {
    const int i = clear_facility();
    if (kind == "hotstack") {
      Facility& f = in.registry[static_cast<std::size_t>(i)];
      // buoyancy flux ~5-40 m^4/s^3: a final rise of tens of metres, comparable to the stack
      f.registry_height_m = std::round(pick.in(20, 45));
      f.true_height_m = f.registry_height_m * pick.in(0.5, 1.8);
      f.exit_velocity_m_s = pick.in(8, 15);
      f.exit_temp_k = pick.in(380, 450);
      f.diameter_m = pick.in(0.8, 1.8);
    }
    registered_culprit(i, 0, onset);
  } else if (kind == "pair") {
    const int i = clear_facility();
    int j = -1;
    for (int attempt = 0; attempt < 100000 && j < 0; ++attempt) {
      const int k = clear_facility();
      if (distance(in.registry[static_cast<std::size_t>(k)].p, in.registry[static_cast<std::size_t>(i)].p) >= 2500) j = k;
    }
    if (j < 0) throw plumetrace::Internal("pair kind: no second culprit 2.5 km from the first");
    registered_culprit(i, 0, onset);
    registered_culprit(j, 1, std::max(in.data_start + 7200.0, onset + pick.in(-3600, 3600)));
  } else if (kind == "unlisted") {
    P2 p;
    bool ok = false;
    for (int attempt = 0; attempt < 100000 && !ok; ++attempt) {
      p = {pick.in(-0.75, 0.75) * in.half_m, pick.in(-0.75, 0.75) * in.half_m};
      ok = county_clear(in, p, 300) >= 0;
      for (const Facility& f : in.registry) ok = ok && distance(p, f.p) >= 1500;
    }
    if (!ok) {
      // a dense registry: the workshop sits where no facility is registered within 1.5 km
      std::erase_if(in.registry, [&](const Facility& f) { return distance(p, f.p) < 1500; });
    }
    Culprit c;
    c.id = "UNLISTED";
    c.emitter = release_of(pick, p, pick.in(3, 15), pick.in(3, 10), 0.0, others_mean, onset, 0);
    in.culprits.push_back(c);
  } else if (kind == "border") {
    // the site found above becomes a registered facility of county A
    Facility f;
    f.p = in.culprits[0].emitter.p;
    f.industry = kIndustries[pick.below(static_cast<int>(std::size(kIndustries)))];
    f.registry_height_m = std::round(pick.in(10, 30));
    f.true_height_m = f.registry_height_m * pick.in(0.5, 1.8);
    f.permitted_g_s = pick.log_in(0.5, 4.0);
    f.sigma0_m = pick.in(3, 15);
    const int at = pick.below(static_cast<int>(in.registry.size()) + 1);
    in.registry.insert(in.registry.begin() + at, f);
    in.culprits.clear();
    name_registry(in);
    registered_culprit(at, 0, onset);
  }
  name_registry(in);
  for (Culprit& c : in.culprits) {
    if (c.facility >= 0) c.id = in.registry[static_cast<std::size_t>(c.facility)].id;
    c.mean_release_g_s = mean_release(c.emitter);
  }
  if (in.culprits.empty()) {
    // nothing released: the pseudo window an analyst would still be asked about
    in.release_on = onset;
    in.release_off = onset + times.in(1.0, 4.0) * 3600.0;
  } else {
    in.release_on = 1e300;
    in.release_off = -1e300;
    for (const Culprit& c : in.culprits) {
      in.release_on = std::min(in.release_on, c.emitter.on_s);
      in.release_off = std::max(in.release_off, c.emitter.off_s);
    }
  }
  in.data_end = std::max(in.data_start + 12 * 3600.0, std::ceil((in.release_off + times.in(3, 5) * 3600.0) / 3600.0) * 3600.0);

  // --- numerics
  in.engine.start_s = in.data_start;
  in.engine.end_s = in.data_end;
  in.engine.spinup_s = 7200;
  in.engine.dt_s = in.registry.size() > 400 ? 120 : 60;  // a county registry: half the steps
  in.engine.fine_s = 10;
  in.engine.coarse_s = in.registry.size() > 400 ? 900 : in.registry.size() > 100 ? 300 : 120;
  in.engine.period_s = 3600;
  in.engine.half_m = in.half_m + 2500;

  // --- weather, stations and car: blind draws, redrawn until detectable
  const int tags = static_cast<int>(in.culprits.size());
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    in.redraws = attempt;
    Stream wx(o.seed, "weather:" + kind, static_cast<std::uint64_t>(attempt));
    const bool border = kind == "border";
    const double dir0 = border ? std::fmod(in.transport_to_deg + 180.0 + 8.0 * wx.gauss() + 720.0, 360.0) : wx.in(0, 360);
    draw_weather(in.weather, wx, in.data_start - in.engine.spinup_s, (in.data_end - in.data_start + in.engine.spinup_s) / 3600.0,
                 in.half_m, dir0, border ? 5.0 : 12.0, !border);
    in.weather.lon_deg = in.lon0;
    in.weather.lat_deg = in.lat0;
    in.weather.tabulate(in.data_start - in.engine.spinup_s, in.data_end);
    Stream net(o.seed, "network:" + kind, static_cast<std::uint64_t>(attempt));
    draw_stations(in, net, 8 + net.below(7), in.receptor_county);
    Stream road(o.seed, "route:" + kind, static_cast<std::uint64_t>(attempt));
    in.car_lag_s = 5 + road.below(16);
    in.car_tau_s = road.in(1.5, 4.0);
    const double car_from = in.release_on + road.in(0.0, 0.6) * (in.release_off - in.release_on);
    if (!o.car) {
      in.car_track.clear();
      in.intakes.clear();
    } else if (border) {
      draw_following_route(in, road, car_from, in.culprits[0].emitter.p);
    } else {
      draw_blind_route(in, road, car_from);
    }
    if (tags == 0) break;
    const Samples s = run_puffs(release_emitters(in), tags, in.stations, in.station_z, in.intakes, in.weather, in.engine);
    bool all = true;
    for (int k = 0; k < tags; ++k) all = all && detectable(s, static_cast<std::size_t>(k), border);
    if (o.verbose) std::cerr << "plumetrace-twin: draw " << attempt << (all ? " detectable\n" : " not detectable\n");
    in.detectable = all;
    if (all) break;
  }
  in.samples = run_puffs(all_emitters(in), tags, in.stations, in.station_z, in.intakes, in.weather, in.engine);
}

// ---------------------------------------------------------------------------------------------
// Field campaign kinds (metre scale)
// ---------------------------------------------------------------------------------------------

/// A tracer field campaign: a 0.5 m release for 20 min, ~40 samplers on arcs 50-800 m along the
/// forecast wind (the measured mean ± 10°), each reporting ONE 10-minute mean (the middle of
/// the release, quasi-steady), one met mast with turbulence measurements; six decoys 40-400 m
/// from the release in the registry (none emits), or an empty registry (field-noreg).
void build_field(Incident& in) {
  const Options& o = in.opt;
  in.field = true;
  Stream g(o.seed, "field:" + o.kind);
  in.lon0 = g.in(119.9, 120.2);
  in.lat0 = g.in(28.8, 29.0);
  in.plane.emplace(in.lon0, in.lat0);
  in.half_m = 1200;
  const auto day = plumetrace::days_from_civil(2021 + g.below(5), 1, 1) + 90 + g.below(180);
  const bool daytime = g.chance(0.7);
  const double local_h = daytime ? 10 + g.below(7) : 18 + g.below(4);
  const double t0 = static_cast<double>(day) * 86400.0 + local_h * 3600.0 - kLocalOffset_min * 60.0 + 60.0 * g.below(50);
  in.data_start = t0;
  in.data_end = t0 + 600;
  in.release_on = t0 - 600;
  in.release_off = t0 + 600;
  Weather& w = in.weather;
  w.t0_s = t0 - 3600;
  const double dir = g.in(0, 360), speed = g.in(1.5, 7.0);
  w.dir_from_deg.assign(4, dir);
  w.speed_m_s.assign(4, speed);
  for (std::size_t k = 0; k < 4; ++k) {
    w.dir_from_deg[k] = dir + 3.0 * g.gauss();
    w.speed_m_s[k] = speed * (1 + 0.05 * g.gauss());
  }
  w.cloud_okta.assign(4, std::round(g.in(0, 8)));
  for (std::size_t i = 0; i < 3; ++i) {
    w.meander_period_s[i] = (i == 0 ? g.in(60, 180) : i == 1 ? g.in(180, 420) : g.in(420, 900));
    w.meander_phase[i] = g.in(0, 2 * kPi);
    w.meander_amp_deg[i] = g.in(1.0, 3.5);
  }
  w.wobble_amp = g.in(0.03, 0.1);
  w.wobble_period_s = g.in(120, 600);
  w.half_m = in.half_m;
  w.grad_dir_x_deg = 2.0 * g.gauss();
  w.grad_dir_y_deg = 2.0 * g.gauss();
  w.z0_m = g.log_in(0.005, 0.03);
  w.temp_mean_c = g.in(15, 32);
  w.temp_amp_c = g.in(2, 6);
  w.lon_deg = in.lon0;
  w.lat_deg = in.lat0;
  w.mix_day_cap_m = g.in(600, 2000);
  in.engine.start_s = t0;
  in.engine.end_s = t0 + 600;
  in.engine.spinup_s = 660;
  in.engine.dt_s = 2;
  in.engine.fine_s = 1;
  in.engine.coarse_s = 60;
  in.engine.period_s = 600;
  in.engine.half_m = in.half_m;
  w.tabulate(t0 - 3 * 3600.0, t0 + 1200);  // three hours ahead: the morning mixed layer has grown
  // the release at the origin
  Culprit c;
  c.emitter.p = {0, 0};
  c.emitter.z_m = 0.5;
  c.emitter.sigma0_m = 0.3;
  c.emitter.release_g_s = g.in(20, 100);
  c.emitter.on_s = in.release_on;
  c.emitter.off_s = in.release_off;
  c.emitter.ramp_s = 5;
  c.emitter.wobble = g.in(0.0, 0.05);
  c.emitter.wobble_period_s = 300;
  c.emitter.tag = 0;
  c.emitter.fine = true;
  // samplers: arcs along the forecast direction
  const double forecast_to = w.centre_dir_from(t0 + 300) + 180.0 + 10.0 * g.gauss();
  for (const double radius : {50.0, 100.0, 200.0, 400.0, 800.0}) {
    const double half_angle = radius <= 200 ? 45.0 : 30.0;
    for (int k = 0; k < 8; ++k) {
      const double a = forecast_to - half_angle + 2 * half_angle * k / 7.0;
      in.stations.push_back({radius * std::sin(a * kRad), radius * std::cos(a * kRad)});
      in.station_z.push_back(1.5);
    }
  }
  const double mast_side = forecast_to + 90.0;
  in.met_sites = {{150 * std::sin(mast_side * kRad), 150 * std::cos(mast_side * kRad)}};
  // registry: the release and six decoys
  if (o.kind == "field") {
    std::vector<Facility> reg(7);
    for (std::size_t k = 1; k < reg.size(); ++k) {
      const double d = g.log_in(40, 400), b = g.in(0, 360);
      reg[k].p = {d * std::sin(b * kRad), d * std::cos(b * kRad)};
      reg[k].registry_height_m = std::round(g.in(0.5, 3.0) * 10) / 10;
    }
    reg[0].registry_height_m = 0.5;
    for (Facility& f : reg) f.industry = "site";  // nothing in the registry tells the release apart
    const int at = g.below(7);
    std::swap(reg[0], reg[static_cast<std::size_t>(at)]);
    for (std::size_t k = 0; k < reg.size(); ++k) {
      char id[32];
      std::snprintf(id, sizeof id, "R%02zu", k + 1);
      reg[k].id = id;
      reg[k].name = "point " + std::string(id);
      reg[k].true_height_m = reg[k].registry_height_m;
      reg[k].permitted_g_s = 0;
    }
    in.registry = reg;
    c.id = reg[static_cast<std::size_t>(at)].id;
    c.facility = at;
  } else {
    c.id = "UNLISTED";
  }
  c.mean_release_g_s = mean_release(c.emitter);
  in.culprits.push_back(c);
  in.samples = run_puffs({c.emitter}, 1, in.stations, in.station_z, {}, w, in.engine);
}

// ---------------------------------------------------------------------------------------------
// Writing the case folder and truth.json
// ---------------------------------------------------------------------------------------------

/// Regional background of the pollutant (µg/m³): level, slow linear trend over the data span, a
/// diurnal cycle (highest before dawn), per incident.
struct Background {
  double level = 10, trend = 0, diurnal = 1.5, peak_local_h = 5;
  [[nodiscard]] double at(double t, double t0, double span) const {
    const double h = Weather::local_hour(t);
    return level + trend * (t - t0) / span + diurnal * std::cos(2 * kPi * (h - peak_local_h) / 24.0);
  }
};

void write_case(const Incident& in, nlohmann::ordered_json& truth) {
  const Options& o = in.opt;
  const fs::path case_dir = o.out / "case";
  fs::create_directories(case_dir);
  const Plane& pl = *in.plane;
  const char* coord = in.field ? "%.8f" : "%.6f";
  Stream noise(o.seed, "noise:" + o.kind);
  {
    nlohmann::ordered_json cj;
    cj["name"] = "twin " + o.kind + " " + std::to_string(o.seed);
    cj["pollutant"] = o.pollutant;
    cj["units"] = "ug/m3";
    cj["timezone"] = "+08:00";
    if (o.boundaries && !in.field) {
      const fs::path rel = fs::weakly_canonical(*o.boundaries).lexically_relative(fs::weakly_canonical(case_dir));
      cj["boundaries"] = {{"file", rel.generic_string()}, {"code_field", "adcode"}, {"name_field", "name"}};
    }
    std::ofstream(case_dir / "case.json") << cj.dump(1) << "\n";
  }
  {
    std::ofstream f(case_dir / "sources.csv");
    f << "id,name,lon,lat,height_m,industry,pollutants,exit_velocity_m_s,exit_temp_k,stack_diameter_m"
      << (o.registry_permits ? ",permitted_g_s\n" : "\n");
    Stream permit(o.seed, "permits:" + o.kind);  // its own stream: the rest of the incident is unchanged
    for (const Facility& s : in.registry) {
      f << s.id << ',' << s.name << ',' << num(coord, pl.lon(s.p)) << ',' << num(coord, pl.lat(s.p)) << ','
        << num("%.1f", s.registry_height_m) << ',' << s.industry << ',' << o.pollutant << ";nox";
      if (s.exit_velocity_m_s > 0)
        f << ',' << num("%.1f", s.exit_velocity_m_s) << ',' << num("%.0f", s.exit_temp_k) << ',' << num("%.2f", s.diameter_m);
      else
        f << ",,,";
      if (o.registry_permits) {
        // what it emits on an ordinary day (all_emitters: an innocent's rate is scaled by
        // --permitted-scale, a culprit's is not), times 1-2
        bool culprit = false;
        for (const Culprit& c : in.culprits) culprit = culprit || (c.facility >= 0 && in.registry[static_cast<std::size_t>(c.facility)].id == s.id);
        const double usual = s.permitted_g_s * (culprit ? 1.0 : o.permitted_scale);
        f << ',' << num("%.4g", usual * permit.in(1.0, 2.0));
      }
      f << '\n';
    }
  }
  const std::string sampler_prefix = in.field ? "S" : "M";
  const std::string met_prefix = in.field ? "MAST" : "W";
  const auto station_id = [&](std::size_t i) { return sampler_prefix + num("%02.0f", static_cast<double>(i + 1)); };
  const auto met_id = [&](std::size_t i) { return met_prefix + num("%01.0f", static_cast<double>(i + 1)); };
  {
    std::ofstream f(case_dir / "stations.csv");
    f << "id,name,lon,lat,height_m\n";
    for (std::size_t i = 0; i < in.stations.size(); ++i)
      f << station_id(i) << ",station " << station_id(i) << ',' << num(coord, pl.lon(in.stations[i])) << ','
        << num(coord, pl.lat(in.stations[i])) << ',' << num("%.1f", in.station_z[i]) << '\n';
    for (std::size_t i = 0; i < in.met_sites.size(); ++i)
      f << met_id(i) << ",met " << met_id(i) << ',' << num(coord, pl.lon(in.met_sites[i])) << ','
        << num(coord, pl.lat(in.met_sites[i])) << ",10.0\n";
  }
  if (!in.beams.empty()) {
    std::ofstream f(case_dir / "paths.csv");
    f << "id,name,lon1,lat1,lon2,lat2,height_m\n";
    for (std::size_t b = 0; b < in.beams.size(); ++b) {
      const std::string id = "B" + num("%02.0f", static_cast<double>(b + 1));
      f << id << ",fence-line beam " << id << ',' << num(coord, pl.lon(in.beams[b].first)) << ','
        << num(coord, pl.lat(in.beams[b].first)) << ',' << num(coord, pl.lon(in.beams[b].second)) << ','
        << num(coord, pl.lat(in.beams[b].second)) << ",2.0\n";
    }
  }
  Background bg;
  bg.level = in.field ? noise.in(0.5, 2.0) : noise.in(5, 15);
  bg.trend = in.field ? 0.0 : noise.in(-4, 4);
  bg.diurnal = in.field ? 0.0 : noise.in(0.5, 2.5);
  bg.peak_local_h = noise.in(2, 8);
  const double span = in.data_end - in.data_start;
  const double period = in.engine.period_s;
  const std::string period_text = period >= 3600 ? "PT1H" : "PT10M";
  {
    std::ofstream f(case_dir / "readings.csv");
    f << "station_id,time,variable,value,unit,period\n";
    const std::size_t n_periods = in.samples.station.empty() ? 0 : in.samples.station[0].size();
    std::vector<double> offset(in.stations.size());
    for (double& v : offset) v = noise.in(0.9, 1.1);
    for (std::size_t p = 0; p < n_periods; ++p) {
      const double t = in.data_start + static_cast<double>(p) * period;
      for (std::size_t i = 0; i < in.stations.size(); ++i) {
        const double b = bg.at(t + 0.5 * period, in.data_start, span) * offset[i];
        const double v = std::max(0.0, (b + in.samples.station[i][p]) * (1 + 0.08 * noise.gauss()) + (in.field ? 0.2 : 0.8) * noise.gauss());
        f << station_id(i) << ',' << iso(t) << ',' << o.pollutant << ',' << num("%.2f", v) << ",ug/m3," << period_text << '\n';
      }
    }
    // open paths: the mean along each beam, the same background and noise as a station
    for (std::size_t b = 0; b < in.beam_mean.size(); ++b) {
      const double beam_offset = noise.in(0.9, 1.1);
      for (std::size_t p = 0; p < in.beam_mean[b].size(); ++p) {
        const double t = in.data_start + static_cast<double>(p) * period;
        const double bb = bg.at(t + 0.5 * period, in.data_start, span) * beam_offset;
        const double v = std::max(0.0, (bb + in.beam_mean[b][p]) * (1 + 0.08 * noise.gauss()) + 0.8 * noise.gauss());
        f << "B" << num("%02.0f", static_cast<double>(b + 1)) << ',' << iso(t) << ',' << o.pollutant << ','
          << num("%.2f", v) << ",ug/m3," << period_text << '\n';
      }
    }
    // met: vector means of the wind at each site over each period (60 samples), instrument error
    const double met_from = in.field ? in.data_start - period : in.data_start;
    const double met_to = in.field ? in.data_end + period : in.data_end;
    const bool with_sigma_theta = in.field || noise.chance(0.5);
    for (std::size_t m = 0; m < in.met_sites.size(); ++m) {
      const double dir_bias = 3.0 * noise.gauss(), speed_gain = 1 + 0.04 * noise.gauss();
      for (double t = met_from; t < met_to - 1; t += period) {
        double sx = 0, sy = 0, ux = 0, uy = 0;
        const int n = 60;
        for (int k = 0; k < n; ++k) {
          const double tk = t + (k + 0.5) * period / n;
          const Surface& s = in.weather.surface(tk);
          const P2 v = in.weather.wind(in.met_sites[m], 10.0, in.weather.centre_dir_from(tk), in.weather.centre_speed(tk), s);
          sx += v.x / n;
          sy += v.y / n;
          const double sp = std::hypot(v.x, v.y);
          ux += v.x / sp / n;
          uy += v.y / sp / n;
        }
        const Surface& s = in.weather.surface(t + 0.5 * period);
        double speed = std::hypot(sx, sy) * speed_gain + 0.15 * noise.gauss();
        const double dir_from = std::fmod(std::atan2(-sx, -sy) / kRad + dir_bias + 4.0 * noise.gauss() + 720.0, 360.0);
        // σθ: the spread of the period's directions (Yamartino 1984) with the turbulence of the moment
        const double eps = std::sqrt(std::max(0.0, 1.0 - std::min(1.0, ux * ux + uy * uy)));
        const double yam = std::asin(eps) * (1 + 0.1547 * eps * eps * eps) / kRad;
        double sv, sw;
        turbulence(s, 10.0, sv, sw);
        const double sigma_theta = std::hypot(yam, std::atan(sv / std::max(0.3, std::hypot(sx, sy))) / kRad) * (1 + 0.08 * noise.gauss());
        if (speed < 0.3) speed = 0.0;  // a cup anemometer stalls
        const std::string head = met_id(m) + "," + iso(t) + ",";
        const std::string tail = "," + period_text + "\n";
        f << head << "wind_speed," << num("%.2f", std::max(0.0, speed)) << ",m/s" << tail;
        f << head << "wind_dir," << num("%.1f", dir_from) << ",deg" << tail;
        if (with_sigma_theta) f << head << "wind_dir_std," << num("%.1f", sigma_theta) << ",deg" << tail;
        f << head << "temperature," << num("%.1f", s.temp_k - 273.15 + 0.3 * noise.gauss()) << ",degC" << tail;
        if (in.field) {
          f << head << "obukhov_length," << num("%.1f", s.obukhov_m * (1 + 0.2 * noise.gauss())) << ",m" << tail;
          f << head << "friction_velocity," << num("%.3f", s.u_star_m_s * (1 + 0.1 * noise.gauss())) << ",m/s" << tail;
          f << head << "mixing_height," << num("%.0f", s.mix_h_m * (1 + 0.15 * noise.gauss())) << ",m" << tail;
        } else {
          f << head << "cloud_cover," << num("%.0f", s.cloud_okta) << ",okta" << tail;
        }
      }
    }
  }
  // survey car: intakes each second; the sensor answers after the platform's lag through a
  // first-order response; rows carry the GPS fix at report time; a few rows dropped
  std::vector<std::vector<int>> car_hits(in.culprits.size());
  if (!in.intakes.empty()) {
    fs::create_directories(case_dir / "traces");
    std::ofstream f(case_dir / "traces" / "car_01.csv");
    f << "time,lon,lat," << o.pollutant << '\n';
    const double k = 1 - std::exp(-1.0 / in.car_tau_s);
    double y = bg.at(in.intakes[0].t_s, in.data_start, span) + in.samples.platform[0];  // a warmed-up sensor
    std::vector<double> sensed(in.intakes.size());
    for (std::size_t i = 0; i < in.intakes.size(); ++i) {
      const double b = bg.at(in.intakes[i].t_s, in.data_start, span);
      y += k * (b + in.samples.platform[i] - y);
      sensed[i] = y;
    }
    const auto lag = static_cast<std::size_t>(in.car_lag_s);
    for (std::size_t j = lag; j < in.intakes.size(); ++j) {
      if (noise.chance(0.05)) continue;
      const P2 fix{in.car_track[j].x + 3 * noise.gauss(), in.car_track[j].y + 3 * noise.gauss()};
      const double v = std::max(0.0, sensed[j - lag] * (1 + 0.1 * noise.gauss()) + 1.0 * noise.gauss());
      f << iso(in.intakes[j].t_s) << ',' << num(coord, pl.lon(fix)) << ',' << num(coord, pl.lat(fix)) << ',' << num("%.2f", v) << '\n';
    }
    for (std::size_t c = 0; c < in.culprits.size(); ++c)
      for (std::size_t i = 0; i < in.intakes.size(); i += 10)
        if (in.samples.platform_tag[c][i] >= 2 * kExplained_ug_m3) car_hits[c].push_back(static_cast<int>(i));
  }

  // drone survey: a GeoTIFF in EPSG:4326 (the plane is equirectangular, so pixels stay square
  // in metres), background added, 20 % multiplicative noise, a strip of missing rows (nodata)
  if (!in.drone.empty()) {
    fs::create_directories(case_dir / "imagery");
    GDALAllRegister();
    const std::string file = (case_dir / "imagery" / "drone.tif").string();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), file.c_str(), kDronePx, kDronePx, 1, GDT_Float32, nullptr);
    if (ds == nullptr) throw plumetrace::InvalidInput("cannot create " + file);
    const double deg_x = pl.lon(P2{kDronePixelM, 0.0}) - pl.lon(P2{0.0, 0.0});
    const double deg_y = pl.lat(P2{0.0, kDronePixelM}) - pl.lat(P2{0.0, 0.0});
    double gt[6] = {pl.lon(in.drone_nw), deg_x, 0, pl.lat(in.drone_nw), 0, -deg_y};
    GDALSetGeoTransform(ds, gt);
    GDALSetProjection(ds, "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],"
                          "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433],AUTHORITY[\"EPSG\",\"4326\"]]");
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    constexpr double kNoData = -9999;
    GDALSetRasterNoDataValue(band, kNoData);
    GDALSetDescription(band, o.pollutant.c_str());
    Stream dn(o.seed, "drone-noise:" + o.kind);
    const int gap0 = static_cast<int>(dn.below(kDronePx - 30));
    const int gap1 = gap0 + 10 + static_cast<int>(dn.below(20));
    std::vector<float> v(in.drone.size());
    for (int r = 0; r < kDronePx; ++r)
      for (int k = 0; k < kDronePx; ++k) {
        const std::size_t i = static_cast<std::size_t>(r) * kDronePx + k;
        const double t = in.drone_t0 + r * in.drone_row_s;
        v[i] = r >= gap0 && r < gap1 ? static_cast<float>(kNoData)
                                     : static_cast<float>(std::max(0.0, (bg.at(t, in.data_start, span) + in.drone[i]) *
                                                                            (1 + 0.2 * dn.gauss())));
      }
    if (GDALRasterIO(band, GF_Write, 0, 0, kDronePx, kDronePx, v.data(), kDronePx, kDronePx, GDT_Float32, 0, 0) != CE_None)
      throw plumetrace::InvalidInput("cannot write " + file);
    GDALClose(ds);
    nlohmann::ordered_json side;
    side["variable"] = o.pollutant;
    side["unit"] = "ug/m3";
    side["time"] = iso(in.drone_t0 + 300.0);
    std::ofstream(case_dir / "imagery" / "drone.json") << side.dump(1) << "\n";
    truth["drone"] = {{"file", "case/imagery/drone.tif"}, {"pixel_m", kDronePixelM}, {"px", kDronePx},
                      {"time", iso(in.drone_t0 + 300.0)}};
  }
  if (!in.beams.empty()) {
    nlohmann::ordered_json b = nlohmann::ordered_json::array();
    for (const auto& [a, e] : in.beams)
      b.push_back({{"lon1", pl.lon(a)}, {"lat1", pl.lat(a)}, {"lon2", pl.lon(e)}, {"lat2", pl.lat(e)}});
    truth["beams"] = b;
  }

  // --- truth
  const auto county_json = [&](P2 p, double clear_m) -> std::pair<std::string, std::string> {
    if (!in.counties || in.field) return {"", ""};
    const int c = in.counties->clear_at(p, clear_m);
    if (c < 0) return {"", ""};
    return {(*in.counties)[c].code, (*in.counties)[c].name};
  };
  nlohmann::ordered_json culprits = nlohmann::ordered_json::array();
  nlohmann::ordered_json sources = nlohmann::ordered_json::array();
  for (std::size_t ci = 0; ci < in.culprits.size(); ++ci) {
    const Culprit& c = in.culprits[ci];
    const auto [code, name] = county_json(c.emitter.p, 1.0);
    // affected counties: receptors (> 100 m inside a county) where the release stands above noise
    std::vector<std::string> affected;
    const auto add_affected = [&](P2 p) {
      const auto [rc, rn] = county_json(p, 100.0);
      if (!rc.empty() && std::find(affected.begin(), affected.end(), rc) == affected.end()) affected.push_back(rc);
    };
    for (std::size_t i = 0; i < in.stations.size(); ++i)
      for (const double v : in.samples.station_tag[ci][i])
        if (v >= kExplained_ug_m3) {
          add_affected(in.stations[i]);
          break;
        }
    for (const int i : car_hits[ci]) add_affected(in.intakes[static_cast<std::size_t>(i)].p);
    std::sort(affected.begin(), affected.end());
    // how strongly the release shows: station periods and car samples above the detection levels
    int station_hits = 0, car_samples = 0;
    double station_peak = 0;
    for (const auto& series : in.samples.station_tag[ci])
      for (const double v : series) {
        station_hits += v >= kAlarmStation_ug_m3 ? 1 : 0;
        station_peak = std::max(station_peak, v);
      }
    if (!in.intakes.empty())
      for (const double v : in.samples.platform_tag[ci]) car_samples += v >= kAlarmCar_ug_m3 ? 1 : 0;
    const bool cross = !code.empty() && std::any_of(affected.begin(), affected.end(), [&](const std::string& a) { return a != code; });
    // a hot stack's final rise at mid-release, in the wind at the stack top (what plume rise adds)
    double final_rise_m = 0;
    if (c.emitter.exit_velocity_m_s > 0 && !in.weather.table.empty()) {
      const double mid = 0.5 * (c.emitter.on_s + c.emitter.off_s);
      const Surface& sm = in.weather.surface(mid);
      const P2 v = in.weather.wind(c.emitter.p, c.emitter.z_m, in.weather.centre_dir_from(mid), in.weather.centre_speed(mid), sm);
      const double fb = buoyancy_flux(c.emitter.exit_velocity_m_s, c.emitter.exit_temp_k, c.emitter.diameter_m, sm.temp_k);
      final_rise_m = plume_rise_m(fb, std::hypot(v.x, v.y), 1e9, sm);
    }
    nlohmann::ordered_json item{{"id", c.id},
                                {"lon", pl.lon(c.emitter.p)},
                                {"lat", pl.lat(c.emitter.p)},
                                {"q_g_s", c.mean_release_g_s},
                                {"permitted_g_s", c.emitter.permitted_g_s},
                                {"release", {iso(c.emitter.on_s), iso(c.emitter.off_s)}},
                                {"county", code},
                                {"county_name", name},
                                {"registered", c.facility >= 0},
                                {"release_height_m", c.emitter.z_m},
                                {"hot_stack", c.emitter.exit_velocity_m_s > 0},
                                {"final_rise_m", final_rise_m},
                                {"affected_counties", affected},
                                {"expected_cross_border", cross},
                                {"station_periods_seen", station_hits},
                                {"station_peak_ug_m3", station_peak},
                                {"car_samples_seen", car_samples}};
    culprits.push_back(item);
    sources.push_back({{"id", c.id}, {"lon", item["lon"]}, {"lat", item["lat"]}, {"q_g_s", c.mean_release_g_s}, {"county", code},
                       {"county_name", name}, {"cross_border", cross}});
  }
  truth["culprits"] = culprits;
  truth["sources"] = sources;  // the same, in the shape tests/accuracy/harness.hpp scores
  truth["registry_size"] = in.registry.size();
  truth["stations"] = in.stations.size();
  truth["car"] = !in.intakes.empty();
  if (!in.intakes.empty()) truth["car_lag_s"] = in.car_lag_s;
  truth["detectable"] = in.detectable;
  truth["redraws"] = in.redraws;
  truth["background_ug_m3"] = bg.level;
}

/// The drone survey: a square of kDronePx pixels placed with its centre within 600 m (each axis)
/// of the first culprit, scanned row by row (north to south) over 10 minutes centred on the
/// middle of the release, sampled at the platform height by the same puffs as everything else.
void build_drone(Incident& in) {
  Stream g(in.opt.seed, "drone:" + in.opt.kind);
  const P2 c = in.culprits.empty() ? P2{0, 0} : in.culprits[0].emitter.p;
  const double side = kDronePx * kDronePixelM;
  const P2 centre{c.x + g.in(-600, 600), c.y + g.in(-600, 600)};
  in.drone_nw = {centre.x - side / 2, centre.y + side / 2};
  in.drone_row_s = 600.0 / kDronePx;
  in.drone_t0 = 0.5 * (in.release_on + in.release_off) - 300.0;
  std::vector<Intake> px;
  px.reserve(static_cast<std::size_t>(kDronePx) * kDronePx);
  for (int r = 0; r < kDronePx; ++r)
    for (int k = 0; k < kDronePx; ++k)
      px.push_back({in.drone_t0 + r * in.drone_row_s,
                    {in.drone_nw.x + (k + 0.5) * kDronePixelM, in.drone_nw.y - (r + 0.5) * kDronePixelM}});
  const int tags = static_cast<int>(in.culprits.size());
  in.drone = run_puffs(all_emitters(in), tags, {}, {}, px, in.weather, in.engine).platform;
}

/// The fence-line: four beams on the sides of a kYardSideM square yard placed so that the first
/// culprit lies anywhere inside it at least kYardMarginM from the fence; each beam's hourly mean
/// is the mean of kBeamPoints points along it, sampled by the same puffs as the stations.
void build_beams(Incident& in) {
  constexpr double kYardSideM = 500.0, kYardMarginM = 50.0, kBeamZ = 2.0;
  constexpr int kBeamPoints = 25;
  Stream g(in.opt.seed, "beams:" + in.opt.kind);
  const P2 c = in.culprits.empty() ? P2{0, 0} : in.culprits[0].emitter.p;
  const double reach = 0.5 * kYardSideM - kYardMarginM;
  const P2 centre{c.x + g.in(-reach, reach), c.y + g.in(-reach, reach)};
  const double h = 0.5 * kYardSideM;
  const P2 sw{centre.x - h, centre.y - h}, se{centre.x + h, centre.y - h}, ne{centre.x + h, centre.y + h},
      nw{centre.x - h, centre.y + h};
  in.beams = {{sw, se}, {se, ne}, {ne, nw}, {nw, sw}};
  std::vector<P2> pts;
  for (const auto& [a, b] : in.beams)
    for (int k = 0; k < kBeamPoints; ++k) {
      const double f = (k + 0.5) / kBeamPoints;
      pts.push_back({a.x + f * (b.x - a.x), a.y + f * (b.y - a.y)});
    }
  const std::vector<double> z(pts.size(), kBeamZ);
  const Samples r = run_puffs(all_emitters(in), static_cast<int>(in.culprits.size()), pts, z, {}, in.weather, in.engine);
  in.beam_mean.assign(in.beams.size(), std::vector<double>(r.station.empty() ? 0 : r.station[0].size(), 0.0));
  for (std::size_t b = 0; b < in.beams.size(); ++b)
    for (int k = 0; k < kBeamPoints; ++k)
      for (std::size_t p = 0; p < in.beam_mean[b].size(); ++p)
        in.beam_mean[b][p] += r.station[b * kBeamPoints + static_cast<std::size_t>(k)][p] / kBeamPoints;
}

void run(const Options& o) {
  Incident in;
  in.opt = o;
  if (o.kind == "field" || o.kind == "field-noreg") build_field(in);
  else build_regional(in);
  if (o.drone && !in.field) build_drone(in);
  if (o.beams && !in.field) build_beams(in);
  nlohmann::ordered_json truth;
  truth["kind"] = o.kind;
  truth["seed"] = o.seed;
  const bool released = !in.culprits.empty();
  // the analyst's window: the release (or, with nothing released, the suspected period) rounded
  // out to whole hours (field: as given by the campaign), shifted 2 h in the early/late modes
  double w0 = in.release_on, w1 = in.release_off;
  if (!in.field) {
    w0 = std::floor(w0 / 3600.0) * 3600.0;
    w1 = std::ceil(w1 / 3600.0) * 3600.0;
  }
  const double shift = o.window == "early" ? -7200.0 : o.window == "late" ? 7200.0 : 0.0;
  truth["window_mode"] = o.window;
  truth["window"] = o.window == "none" ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json{iso(w0 + shift), iso(w1 + shift)};
  truth["given_window"] = {iso(w0), iso(w1)};
  truth["release"] = released ? nlohmann::ordered_json{iso(in.release_on), iso(in.release_off)} : nlohmann::ordered_json(nullptr);
  truth["data_window"] = {iso(in.data_start), iso(in.data_end)};
  truth["scale"] = in.field ? "field" : "regional";
  write_case(in, truth);
  std::ofstream(o.out / "truth.json") << truth.dump(1) << "\n";
}

// ---------------------------------------------------------------------------------------------
// Self-check
// ---------------------------------------------------------------------------------------------

/// In a steady uniform wind with steady neutral turbulence and a lid far away, a train of puffs
/// must reproduce the steady Gaussian plume built from the same σ(t) curves,
/// C = Q / (2π u σy σz) [exp(−(z−H)²/2σz²) + exp(−(z+H)²/2σz²)], σ = σturb (x/u) / (1 + 0.9 sqrt(x/(uT))),
/// and the cross-wind integral of the puffs times u must carry the emitted flux (mass balance).
/// Prints the ratios and returns 0 when all are within 10 %.
int self_check() {
  Weather w;
  w.t0_s = 0;
  w.dir_from_deg.assign(12, 270.0);
  w.speed_m_s.assign(12, 4.0);
  w.cloud_okta.assign(12, 8.0);
  w.meander_amp_deg = {0, 0, 0};
  w.wobble_amp = 0;
  w.half_m = 6000;
  w.table_t0_s = 0;
  const Surface s{.u10_m_s = 4, .u_star_m_s = 0.35, .obukhov_m = 1e5, .mix_h_m = 1e5, .temp_k = 290};
  w.table.assign(1, s);
  // steady: on from the start, no fluctuation; at 10 m, where the speed profile is flat
  const Emitter e{.p = {0, 0}, .z_m = 10, .sigma0_m = 0.01, .release_g_s = 10, .on_s = -1e9, .off_s = 1e9, .ramp_s = 1, .wobble = 0, .fine = true};
  const EngineConfig cfg{.start_s = 3600, .end_s = 3660, .spinup_s = 3600, .dt_s = 5, .fine_s = 1, .period_s = 60, .half_m = 5000};
  std::vector<P2> rec;
  std::vector<double> z;
  const double xs[] = {300, 1000, 2500};
  for (const double x : xs) {
    rec.push_back({x, 0});
    z.push_back(2);
  }
  // a cross-wind line at 1000 m for the flux
  for (int k = -400; k <= 400; k += 5) {
    rec.push_back({1000, static_cast<double>(k)});
    z.push_back(10);
  }
  const Samples r = run_puffs({e}, 0, rec, z, {}, w, cfg);
  bool ok = true;
  double sv, sw;
  turbulence(s, 10, sv, sw);
  for (std::size_t i = 0; i < std::size(xs); ++i) {
    const double t = xs[i] / 4.0;
    const double sy = sv * t / (1 + 0.9 * std::sqrt(t / 1000.0)), sz = sw * t / (1 + 0.9 * std::sqrt(t / 500.0));
    const double q = e.rate(3630) * 1e6;
    const double plume = q / (2 * kPi * 4.0 * sy * sz) * (std::exp(-64.0 / (2 * sz * sz)) + std::exp(-144.0 / (2 * sz * sz)));
    const double ratio = r.station[i][0] / plume;
    std::cout << "x = " << xs[i] << " m: puffs " << r.station[i][0] << " ug/m3, plume " << plume << " ug/m3, ratio " << ratio << "\n";
    ok = ok && std::abs(ratio - 1) < 0.10;
  }
  // mass balance at 1000 m, height 10 m (the release height): ∫ C dy · u · (density at z) = Q
  double line = 0;
  for (std::size_t i = std::size(xs); i < rec.size(); ++i) line += r.station[i][0] * 5.0;
  const double t = 1000.0 / 4.0, sz = sw * t / (1 + 0.9 * std::sqrt(t / 500.0));
  const double flux = line * 4.0 / vertical_density(10, 10, sz, 1e5) / 1e6;
  std::cout << "flux through x = 1000 m: " << flux << " g/s for " << e.rate(3630) << " g/s emitted\n";
  ok = ok && std::abs(flux / e.rate(3630) - 1) < 0.10;
  // the vertical density between ground and lid holds unit mass, images and series alike, and
  // the two forms meet where they switch (σz = 0.35 h)
  for (const double sz_rel : {0.1, 0.34, 0.36, 0.8, 3.0}) {
    double mass = 0;
    for (int k = 0; k < 2000; ++k) mass += vertical_density((k + 0.5) * 0.5, 150, sz_rel * 1000, 1000) * 0.5;
    std::cout << "sigma_z = " << sz_rel << " h: mass between ground and lid " << mass << "\n";
    ok = ok && std::abs(mass - 1) < 0.01;
  }
  const double below = vertical_density(2, 150, 349.999, 1000), above = vertical_density(2, 150, 350.001, 1000);
  std::cout << "images/series at the switch: " << below << " / " << above << "\n";
  ok = ok && std::abs(below / above - 1) < 0.01;
  std::cout << (ok ? "self-check passed\n" : "self-check FAILED\n");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse_options(argc, argv);
    if (o.self_check) return self_check();
    run(o);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "plumetrace-twin: " << e.what() << "\n";
    return plumetrace::exit_code_for(e);
  }
}

/// @file wind_field.cpp
/// WindField: station readings (hourly vector means, IDW, linear in time) or gridded met.

#include "plumetrace/met/wind_field.hpp"

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "plumetrace/core/error.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#endif

namespace plumetrace {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kHour = 3600.0;
/// Scalar met (cloud, stability, L, ...) is taken from the nearest hour within this many hours.
constexpr std::int64_t kScalarSearchHours = 3;

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

/// Factor to m/s for a wind-speed unit string; 1 for m/s, "" and anything unknown.
double speed_factor(const std::string& unit) {
  const std::string u = lower(unit);
  if (u == "km/h" || u == "kmh" || u == "kph" || u == "km h-1") return 1.0 / 3.6;
  if (u == "kn" || u == "kt" || u == "kts" || u == "knot" || u == "knots") return 0.514444;
  if (u == "mph") return 0.44704;
  return 1.0;
}

/// Hour bin of a reading: the hour containing the middle of its averaging period.
std::int64_t hour_bin(const Reading& r) {
  return static_cast<std::int64_t>(std::floor((r.time_s + 0.5 * std::max(0.0, r.period_s)) / kHour));
}

/// Network mean of one variable per hour bin: bin -> (sum, count).
using Series = std::map<std::int64_t, std::pair<double, int>>;

Series network_series(const ReadingTable& rt, const char* name, bool inverse = false) {
  Series out;
  const int vi = rt.variable_index(name);
  if (vi < 0) return out;
  for (const Reading& r : rt.rows) {
    if (r.variable != vi || !std::isfinite(r.value)) continue;
    double v = r.value;
    if (inverse) {
      if (v == 0) continue;
      v = 1.0 / v;
    }
    auto& acc = out[hour_bin(r)];
    acc.first += v;
    acc.second += 1;
  }
  return out;
}

/// Mean of the series at the nearest bin within kScalarSearchHours of `bin`; nullopt when none.
std::optional<double> series_at(const Series& s, std::int64_t bin) {
  if (s.empty()) return std::nullopt;
  auto it = s.lower_bound(bin);
  const std::pair<double, int>* best = nullptr;
  std::int64_t best_d = kScalarSearchHours + 1;
  if (it != s.end() && it->first - bin < best_d) {
    best_d = it->first - bin;
    best = &it->second;
  }
  if (it != s.begin()) {
    auto p = std::prev(it);
    if (bin - p->first < best_d) best = &p->second;
  }
  if (!best || best->second == 0) return std::nullopt;
  return best->first / best->second;
}

/// Fill stability, σθ, mixing height, L and u* of every slice from the network's station readings
/// (explicit stability > Obukhov length via Golder > Turner at the stations' centroid).
void assign_scalar_met(std::vector<WindField::Slice>& slices, const Case& c,
                       const WindFieldOptions& o, double lon_c, double lat_c) {
  const ReadingTable& rt = c.readings;
  const Series s_sigma = network_series(rt, "wind_dir_std");
  const Series s_cloud = network_series(rt, "cloud_cover");
  const Series s_stab = network_series(rt, "stability");
  const Series s_invl = network_series(rt, "obukhov_length", true);
  const Series s_ustar = network_series(rt, "friction_velocity");
  const Series s_zi = network_series(rt, "mixing_height");
  // the period σθ is measured over: the median `period` of its readings (hourly when none says)
  double sigma_period_s = 3600;
  if (const int vs = rt.variable_index("wind_dir_std"); vs >= 0) {
    std::vector<double> periods;
    for (const Reading& r : rt.rows)
      if (r.variable == vs && r.period_s > 0) periods.push_back(r.period_s);
    if (!periods.empty()) {
      std::nth_element(periods.begin(), periods.begin() + static_cast<std::ptrdiff_t>(periods.size() / 2), periods.end());
      sigma_period_s = periods[periods.size() / 2];
    }
  }
  for (WindField::Slice& sl : slices) {
    const auto bin = static_cast<std::int64_t>(std::floor(sl.t / kHour));
    // Network mean scalar speed at this slice.
    double sum = 0;
    int n = 0;
    for (std::size_t i = 0; i < sl.speed.size(); ++i) {
      if (std::isfinite(sl.speed[i])) {
        sum += sl.speed[i];
        ++n;
      }
    }
    const double mean_speed = n > 0 ? std::max(kMinWindSpeed, sum / n) : kMinWindSpeed;
    sl.mean_speed_m_s = mean_speed;
    const auto stab = series_at(s_stab, bin);
    const auto invl = series_at(s_invl, bin);
    if (stab) {
      const long k = std::lround(*stab);
      sl.stability = static_cast<Stability>(std::clamp<long>(k, 1, 6) - 1);
    } else if (invl) {
      sl.stability = golder_stability(*invl != 0 ? 1.0 / *invl : 1e9, o.roughness_m);
    } else {
      const double elev = solar_elevation_deg(lon_c, lat_c, sl.t);
      const auto cloud = series_at(s_cloud, bin);
      sl.stability = turner_stability(elev, cloud ? *cloud : kNaN, mean_speed);
    }
    const auto sig = series_at(s_sigma, bin);
    sl.sigma_theta_deg = sig && *sig > 0 ? *sig : -1.0;
    sl.sigma_theta_period_s = sigma_period_s;
    const auto zi = series_at(s_zi, bin);
    sl.mixing_height_m = zi && *zi > 10 ? *zi : default_mixing_height_m(sl.stability);
    sl.obukhov_length_m = invl ? (*invl != 0 ? 1.0 / *invl : 1e9) : kNaN;
    const auto us = series_at(s_ustar, bin);
    sl.friction_velocity_m_s = us && *us > 0 ? *us : kNaN;
  }
}

/// Centroid (mean lon/lat) of the stations; nullopt when there are none.
std::optional<std::pair<double, double>> station_centroid(const Case& c) {
  if (c.stations.empty()) return std::nullopt;
  double lo = 0, la = 0;
  for (const Station& s : c.stations) {
    lo += s.lon;
    la += s.lat;
  }
  return std::make_pair(lo / c.stations.size(), la / c.stations.size());
}

/// True when the WKT is empty or a geographic CRS.
bool is_geographic_wkt(const std::string& wkt) {
  if (wkt.empty()) return true;
  // WKT only (never OSRSetFromUserInput: it would also accept file names and URLs).
  CPLPushErrorHandler(CPLQuietErrorHandler);
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  bool geo = true;
  char* text = const_cast<char*>(wkt.c_str());
  if (OSRImportFromWkt(srs, &text) == OGRERR_NONE) geo = OSRIsGeographic(srs) != 0;
  OSRDestroySpatialReference(srs);
  CPLPopErrorHandler();
  return geo;
}

/// Build the gridded field from a MetGrid, resampled onto a regular grid in the analysis CRS.
WindField gridded_from_met(const MetGrid& m, const Transformer& tr,
                           const WindFieldOptions& o) {
  const int w = m.width, h = m.height;
  const std::size_t nt = m.times.size();
  const std::size_t plane = static_cast<std::size_t>(w) * h;
  if (w < 1 || h < 1 || nt == 0 || m.u.size() != plane * nt || m.v.size() != plane * nt)
    throw InvalidInput("met grid " + m.file + ": inconsistent dimensions");
  const bool geographic = is_geographic_wkt(m.crs_wkt);
  std::unique_ptr<Transformer> met_tr;
  if (!geographic) met_tr = std::make_unique<Transformer>(m.crs_wkt);
  const double* gt = m.geotransform;
  double inv[6];
  if (!GDALInvGeoTransform(const_cast<double*>(gt), inv))
    throw InvalidInput("met grid " + m.file + ": non-invertible geotransform");

  // Native grid node -> lon/lat -> analysis x/y, to find the extent and spacing.
  auto native_lonlat = [&](double col, double row, double& lon, double& lat) {
    const double gx = gt[0] + col * gt[1] + row * gt[2];
    const double gy = gt[3] + col * gt[4] + row * gt[5];
    if (geographic) {
      lon = gx > 180 ? gx - 360 : gx;
      lat = gy;
      return true;
    }
    return met_tr->inverse(gx, gy, lon, lat);
  };
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (int i = 0; i < h; ++i) {
    for (int j = 0; j < w; ++j) {
      double lon, lat, x, y;
      if (!native_lonlat(j + 0.5, i + 0.5, lon, lat) || !tr.forward(lon, lat, x, y)) continue;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymin = std::min(ymin, y);
      ymax = std::max(ymax, y);
    }
  }
  if (!(xmax >= xmin)) throw InvalidInput("met grid " + m.file + ": no node maps to the analysis CRS");
  // Spacing: the native spacing near the centre, in analysis metres.
  double spacing = 0;
  {
    double lon0, lat0, lon1, lat1, lon2, lat2, x0, y0, x1, y1, x2, y2;
    const double cj = 0.5 * w, ci = 0.5 * h;
    if (native_lonlat(cj, ci, lon0, lat0) && native_lonlat(cj + 1, ci, lon1, lat1) &&
        native_lonlat(cj, ci + 1, lon2, lat2) && tr.forward(lon0, lat0, x0, y0) &&
        tr.forward(lon1, lat1, x1, y1) && tr.forward(lon2, lat2, x2, y2))
      spacing = std::min(std::hypot(x1 - x0, y1 - y0), std::hypot(x2 - x0, y2 - y0));
  }
  if (!(spacing > 0)) spacing = std::max(xmax - xmin, ymax - ymin) / std::max(1, std::max(w, h) - 1);
  if (!(spacing > 0)) spacing = 1000.0;
  // At most 1000 nodes along a side.
  spacing = std::max(spacing, std::max(xmax - xmin, ymax - ymin) / 999.0);
  const int gw = std::max(1, static_cast<int>(std::floor((xmax - xmin) / spacing)) + 1);
  const int gh = std::max(1, static_cast<int>(std::floor((ymax - ymin) / spacing)) + 1);

  WindField f;
  f.gridded = true;
  f.grid_w = gw;
  f.grid_h = gh;
  f.grid_x0 = xmin;
  f.grid_y1 = ymax;
  f.grid_dx = spacing;
  f.grid_dy = spacing;
  f.idw_power = o.idw_power;
  f.roughness_m = o.roughness_m;
  f.nodes.resize(static_cast<std::size_t>(gw) * gh);
  // For every analysis node: the fractional native pixel (col, row) of its position (pixel-centre
  // coordinates, clamped to the grid: outside the met grid the edge value is extended).
  std::vector<double> pc(f.nodes.size()), pr(f.nodes.size());
  for (int i = 0; i < gh; ++i) {
    for (int j = 0; j < gw; ++j) {
      const std::size_t n = static_cast<std::size_t>(i) * gw + j;
      const double x = xmin + j * spacing, y = ymax - i * spacing;
      f.nodes[n] = {x, y};
      double lon = kNaN, lat = kNaN, gx = kNaN, gy = kNaN;
      tr.inverse(x, y, lon, lat);
      if (geographic) {
        gx = lon;
        gy = lat;
      } else {
        met_tr->forward(lon, lat, gx, gy);
      }
      double col = inv[0] + gx * inv[1] + gy * inv[2];
      double row = inv[3] + gx * inv[4] + gy * inv[5];
      if (geographic && (col < 0 || col > w)) {  // 0..360 grids
        const double c2 = inv[0] + (gx + 360) * inv[1] + gy * inv[2];
        if (c2 >= 0 && c2 <= w) {
          col = c2;
          row = inv[3] + (gx + 360) * inv[4] + gy * inv[5];
        }
      }
      pc[n] = std::isfinite(col) ? std::clamp(col - 0.5, 0.0, w - 1.0) : 0.0;
      pr[n] = std::isfinite(row) ? std::clamp(row - 0.5, 0.0, h - 1.0) : 0.0;
    }
  }
  // Order times.
  std::vector<std::size_t> order(nt);
  for (std::size_t k = 0; k < nt; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return m.times[a] < m.times[b]; });
  for (std::size_t kk = 0; kk < nt; ++kk) {
    const std::size_t k = order[kk];
    if (kk > 0 && m.times[k] == f.slices.back().t) continue;
    const float* mu = m.u.data() + k * plane;
    const float* mv = m.v.data() + k * plane;
    WindField::Slice sl;
    sl.t = m.times[k];
    sl.u.resize(f.nodes.size());
    sl.v.resize(f.nodes.size());
    sl.speed.resize(f.nodes.size());
    for (std::size_t n = 0; n < f.nodes.size(); ++n) {
      const int j0 = std::min(static_cast<int>(pc[n]), std::max(0, w - 2));
      const int i0 = std::min(static_cast<int>(pr[n]), std::max(0, h - 2));
      const int j1 = std::min(j0 + 1, w - 1), i1 = std::min(i0 + 1, h - 1);
      const double fx = pc[n] - j0, fy = pr[n] - i0;
      auto bil = [&](const float* a) {
        const double v00 = a[static_cast<std::size_t>(i0) * w + j0], v01 = a[static_cast<std::size_t>(i0) * w + j1];
        const double v10 = a[static_cast<std::size_t>(i1) * w + j0], v11 = a[static_cast<std::size_t>(i1) * w + j1];
        return (1 - fy) * ((1 - fx) * v00 + fx * v01) + fy * ((1 - fx) * v10 + fx * v11);
      };
      const double u = bil(mu), v = bil(mv);
      sl.u[n] = static_cast<float>(u);
      sl.v[n] = static_cast<float>(v);
      sl.speed[n] = static_cast<float>(std::isfinite(u) && std::isfinite(v)
                                           ? std::max(kMinWindSpeed, std::hypot(u, v))
                                           : kNaN);
    }
    f.slices.push_back(std::move(sl));
  }
  return f;
}

}  // namespace

WindField WindField::uniform(double u_m_s, double v_m_s, Stability s, double mixing_height_m,
                             double sigma_theta_deg) {
  WindField f;
  f.nodes.push_back({0.0, 0.0});
  Slice sl;
  sl.t = 0;
  sl.u = {static_cast<float>(u_m_s)};
  sl.v = {static_cast<float>(v_m_s)};
  sl.speed = {static_cast<float>(std::max(kMinWindSpeed, std::hypot(u_m_s, v_m_s)))};
  sl.stability = s;
  sl.mixing_height_m = mixing_height_m;
  sl.sigma_theta_deg = sigma_theta_deg > 0 ? sigma_theta_deg : -1;
  sl.obukhov_length_m = kNaN;
  sl.friction_velocity_m_s = kNaN;
  f.slices.push_back(std::move(sl));
  f.finalize();
  f.source_ = "uniform";
  return f;
}

WindField WindField::from_function(
    double x0_m, double y1_m, double dx_m, double dy_m, int w, int h,
    const std::vector<EpochSeconds>& times,
    const std::function<void(double, double, EpochSeconds, double&, double&)>& fn, Stability s,
    double mixing_height_m, double sigma_theta_deg) {
  if (w < 1 || h < 1 || !(dx_m > 0) || !(dy_m > 0) || times.empty())
    throw InvalidInput("WindField::from_function: empty grid or no times");
  WindField f;
  f.gridded = true;
  f.grid_w = w;
  f.grid_h = h;
  f.grid_x0 = x0_m;
  f.grid_y1 = y1_m;
  f.grid_dx = dx_m;
  f.grid_dy = dy_m;
  f.nodes.resize(static_cast<std::size_t>(w) * h);
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j)
      f.nodes[static_cast<std::size_t>(i) * w + j] = {x0_m + j * dx_m, y1_m - i * dy_m};
  for (EpochSeconds t : times) {
    Slice sl;
    sl.t = t;
    sl.u.resize(f.nodes.size());
    sl.v.resize(f.nodes.size());
    sl.speed.resize(f.nodes.size());
    for (std::size_t n = 0; n < f.nodes.size(); ++n) {
      double u = 0, v = 0;
      fn(f.nodes[n].x_m, f.nodes[n].y_m, t, u, v);
      sl.u[n] = static_cast<float>(u);
      sl.v[n] = static_cast<float>(v);
      sl.speed[n] = static_cast<float>(std::max(kMinWindSpeed, std::hypot(u, v)));
    }
    sl.stability = s;
    sl.mixing_height_m = mixing_height_m;
    sl.sigma_theta_deg = sigma_theta_deg > 0 ? sigma_theta_deg : -1;
    sl.obukhov_length_m = kNaN;
    sl.friction_velocity_m_s = kNaN;
    f.slices.push_back(std::move(sl));
  }
  f.finalize();
  f.source_ = "function";
  return f;
}

WindField WindField::from_case(const Case& c, const Transformer& tr, const WindFieldOptions& o) {
  const auto centroid = station_centroid(c);
  // 1. Gridded met.
  for (const MetGrid& m : c.met) {
    if (m.times.empty() || m.width < 1 || m.height < 1) continue;
    WindField f = gridded_from_met(m, tr, o);
    double lon_c = 0, lat_c = 0;
    if (centroid) {
      lon_c = centroid->first;
      lat_c = centroid->second;
    } else {
      tr.inverse(f.grid_x0 + 0.5 * f.grid_dx * (f.grid_w - 1), f.grid_y1 - 0.5 * f.grid_dy * (f.grid_h - 1),
                 lon_c, lat_c);
    }
    assign_scalar_met(f.slices, c, o, lon_c, lat_c);
    f.finalize();
    f.source_ = "met-grid";
    return f;
  }

  // 2. Stations: pair wind_speed and wind_dir readings of the same station and start time.
  const ReadingTable& rt = c.readings;
  const int iws = rt.variable_index("wind_speed");
  const int iwd = rt.variable_index("wind_dir");
  struct Sample {
    std::uint32_t station;
    double t;
    const Reading* r;
  };
  std::vector<Sample> speeds, dirs;
  if (iws >= 0 && iwd >= 0) {
    for (const Reading& r : rt.rows) {
      if (!std::isfinite(r.value) || r.station >= c.stations.size()) continue;
      if (r.variable == iws) speeds.push_back({r.station, r.time_s, &r});
      if (r.variable == iwd) dirs.push_back({r.station, r.time_s, &r});
    }
  }
  auto by_st = [](const Sample& a, const Sample& b) {
    return a.station != b.station ? a.station < b.station : a.t < b.t;
  };
  std::sort(speeds.begin(), speeds.end(), by_st);
  std::sort(dirs.begin(), dirs.end(), by_st);
  struct Acc {
    double su{}, sv{}, ss{};
    int n{};
  };
  std::map<std::uint32_t, std::map<std::int64_t, Acc>> acc;  // station -> hour bin -> sums
  {
    std::size_t j = 0;
    for (const Sample& s : speeds) {
      while (j < dirs.size() && by_st(dirs[j], s)) ++j;
      if (j >= dirs.size() || dirs[j].station != s.station || dirs[j].t != s.t) continue;
      const double spd = std::max(0.0, s.r->value * speed_factor(rt.units[s.r->unit]));
      const double dir = dirs[j].r->value * kDeg;
      Acc& a = acc[s.station][hour_bin(*s.r)];
      a.su += -spd * std::sin(dir);
      a.sv += -spd * std::cos(dir);
      a.ss += spd;
      a.n += 1;
    }
  }
  if (acc.empty()) {
    WindField f = uniform(0.0, -o.default_speed_m_s, Stability::D, default_mixing_height_m(Stability::D));
    f.idw_power = o.idw_power;
    f.roughness_m = o.roughness_m;
    f.source_ = "default";
    return f;
  }
  WindField f;
  f.idw_power = o.idw_power;
  f.roughness_m = o.roughness_m;
  std::vector<std::uint32_t> node_station;
  std::map<std::int64_t, int> bins;
  for (const auto& [st, series] : acc) {
    double x = kNaN, y = kNaN;
    if (!tr.forward(c.stations[st].lon, c.stations[st].lat, x, y)) continue;
    node_station.push_back(st);
    f.nodes.push_back({x, y});
    for (const auto& [b, a] : series) bins[b] = 0;
  }
  if (f.nodes.empty()) throw InvalidInput("no station with wind readings could be located in the analysis CRS");
  int idx = 0;
  for (auto& [b, i] : bins) i = idx++;
  const std::size_t nn = f.nodes.size();
  f.slices.resize(bins.size());
  for (const auto& [b, i] : bins) {
    Slice& sl = f.slices[i];
    sl.t = b * kHour + 0.5 * kHour;
    sl.u.assign(nn, static_cast<float>(kNaN));
    sl.v.assign(nn, static_cast<float>(kNaN));
    sl.speed.assign(nn, static_cast<float>(kNaN));
  }
  for (std::size_t n = 0; n < nn; ++n) {
    const auto& series = acc[node_station[n]];
    // Vector means; calm direction: own vector if any, else the last non-calm direction, else the
    // next one, else from the north.
    double last_ux = kNaN, last_uy = kNaN;
    std::vector<int> pending;  // calm slices with no direction before the first known direction
    for (const auto& [b, a] : series) {
      Slice& sl = f.slices[bins[b]];
      const int si = bins[b];
      double u = a.su / a.n, v = a.sv / a.n;
      const double s = a.ss / a.n;
      const double vm = std::hypot(u, v);
      if (vm >= kMinWindSpeed) {
        last_ux = u / vm;
        last_uy = v / vm;
        for (int p : pending) {
          f.slices[p].u[n] = static_cast<float>(last_ux * kMinWindSpeed);
          f.slices[p].v[n] = static_cast<float>(last_uy * kMinWindSpeed);
        }
        pending.clear();
      } else if (vm > 1e-6) {
        u = u / vm * kMinWindSpeed;
        v = v / vm * kMinWindSpeed;
      } else if (std::isfinite(last_ux)) {
        u = last_ux * kMinWindSpeed;
        v = last_uy * kMinWindSpeed;
      } else {
        pending.push_back(si);
        u = 0;
        v = -kMinWindSpeed;
      }
      sl.u[n] = static_cast<float>(u);
      sl.v[n] = static_cast<float>(v);
      sl.speed[n] = static_cast<float>(std::max({kMinWindSpeed, s, std::hypot(u, v)}));
    }
  }
  double lon_c = centroid ? centroid->first : 0.0, lat_c = centroid ? centroid->second : 0.0;
  assign_scalar_met(f.slices, c, o, lon_c, lat_c);
  f.finalize();
  f.source_ = "stations";
  f.t_begin_ = static_cast<double>(bins.begin()->first) * kHour;
  f.t_end_ = static_cast<double>(bins.rbegin()->first + 1) * kHour;
  return f;
}

void WindField::finalize() {
  if (slices.empty() || nodes.empty()) throw InvalidInput("wind field without nodes or time slices");
  std::stable_sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) { return a.t < b.t; });
  const std::size_t nn = nodes.size();
  if (gridded && (grid_w < 1 || grid_h < 1 || static_cast<std::size_t>(grid_w) * grid_h != nn ||
                  !(grid_dx > 0) || !(grid_dy > 0)))
    throw InvalidInput("gridded wind field: grid_w * grid_h != nodes or bad spacing");
  node_x_.resize(nn);
  node_y_.resize(nn);
  bbox_m_ = 0;
  for (std::size_t i = 0; i < nn; ++i) {
    node_x_[i] = nodes[i].x_m;
    node_y_[i] = nodes[i].y_m;
    bbox_m_ = std::max({bbox_m_, std::abs(node_x_[i] - node_x_[0]), std::abs(node_y_[i] - node_y_[0])});
  }
  if (!std::isfinite(bbox_m_)) bbox_m_ = std::numeric_limits<double>::infinity();
  slice_t_.resize(slices.size());
  all_valid_.assign(slices.size(), 1);
  uv_.assign(slices.size() * 2 * nn, 0.0);
  packed_.assign(slices.size(), Packed{});
  for (std::size_t k = 0; k < slices.size(); ++k) {
    Slice& sl = slices[k];
    if (sl.u.size() != nn || sl.v.size() != nn)
      throw InvalidInput("wind field slice: u/v size differs from the number of nodes");
    if (sl.speed.size() != nn) {
      sl.speed.resize(nn);
      for (std::size_t i = 0; i < nn; ++i)
        sl.speed[i] = static_cast<float>(std::max(kMinWindSpeed, std::hypot(double(sl.u[i]), double(sl.v[i]))));
    }
    slice_t_[k] = sl.t;
    double su = 0, sv = 0, ss = 0;
    int n = 0;
    for (std::size_t i = 0; i < nn; ++i) {
      const bool ok = std::isfinite(sl.u[i]) && std::isfinite(sl.v[i]);
      if (!ok) continue;
      if (!std::isfinite(sl.speed[i])) sl.speed[i] = static_cast<float>(std::max(kMinWindSpeed, std::hypot(double(sl.u[i]), double(sl.v[i]))));
      su += sl.u[i];
      sv += sl.v[i];
      ss += sl.speed[i];
      ++n;
    }
    if (n == 0) {  // no value at all in this slice: calm from the north
      for (std::size_t i = 0; i < nn; ++i) {
        sl.u[i] = 0;
        sl.v[i] = static_cast<float>(-kMinWindSpeed);
        sl.speed[i] = static_cast<float>(kMinWindSpeed);
      }
      su = 0;
      sv = -kMinWindSpeed * nn;
      ss = kMinWindSpeed * nn;
      n = static_cast<int>(nn);
    }
    if (!(sl.mean_speed_m_s > 0)) sl.mean_speed_m_s = std::max(kMinWindSpeed, ss / n);
    if (static_cast<std::size_t>(n) != nn) {
      if (gridded) {  // fill holes with the slice mean
        for (std::size_t i = 0; i < nn; ++i) {
          if (!(std::isfinite(sl.u[i]) && std::isfinite(sl.v[i]))) {
            sl.u[i] = static_cast<float>(su / n);
            sl.v[i] = static_cast<float>(sv / n);
            sl.speed[i] = static_cast<float>(ss / n);
          }
        }
      } else {
        all_valid_[k] = 0;
        Packed& p = packed_[k];
        for (std::size_t i = 0; i < nn; ++i) {
          if (!(std::isfinite(sl.u[i]) && std::isfinite(sl.v[i]))) continue;
          p.x.push_back(node_x_[i]);
          p.y.push_back(node_y_[i]);
          p.u.push_back(sl.u[i]);
          p.v.push_back(sl.v[i]);
          p.s.push_back(sl.speed[i]);
        }
      }
    }
    if (!(sl.mixing_height_m > 0)) sl.mixing_height_m = default_mixing_height_m(sl.stability);
    for (std::size_t i = 0; i < nn; ++i) {
      uv_[k * 2 * nn + i] = sl.u[i];
      uv_[k * 2 * nn + nn + i] = sl.v[i];
    }
  }
  slice_dt_ = 0;
  if (slices.size() >= 2) {
    const double dt = (slice_t_.back() - slice_t_.front()) / static_cast<double>(slices.size() - 1);
    bool equal = dt > 0;
    for (std::size_t k = 1; equal && k < slices.size(); ++k)
      equal = std::abs(slice_t_[k] - slice_t_[k - 1] - dt) <= 1e-9 * std::max(1.0, dt);
    if (equal) slice_dt_ = dt;
  }
  t_begin_ = slices.front().t;
  t_end_ = slices.back().t;
  finalized_ = true;
}

void WindField::time_index(EpochSeconds t, std::size_t& k, double& a) const noexcept {
  const std::size_t n = slice_t_.size();
  if (n <= 1 || !(t > slice_t_.front())) {  // also NaN
    k = 0;
    a = 0;
    return;
  }
  if (t >= slice_t_.back()) {
    k = n - 1;
    a = 0;
    return;
  }
  if (slice_dt_ > 0) {
    k = std::min(n - 2, static_cast<std::size_t>((t - slice_t_.front()) / slice_dt_));
    if (t < slice_t_[k]) --k;  // rounding at a slice time
    else if (t >= slice_t_[k + 1] && k + 2 < n) ++k;
  } else {
    const auto it = std::upper_bound(slice_t_.begin(), slice_t_.end(), t);
    k = static_cast<std::size_t>(it - slice_t_.begin()) - 1;
  }
  a = (t - slice_t_[k]) / (slice_t_[k + 1] - slice_t_[k]);
}

namespace {
/// IDW weight for squared distance d2 and power p.
inline double idw_weight(double d2, double p) noexcept {
  return p == 2.0 ? 1.0 / d2 : std::pow(d2, -0.5 * p);
}
constexpr double kHitD2 = 1e-6;  ///< closer than 1 mm: the node's own value
}  // namespace

/// IDW with power 2 over all nodes of slice k (blended with k + 1 when a > 0): branch-free, two
/// nodes per SIMD operation (GCC vector extension), double precision. A node closer than 1 µm
/// gets weight 1e12, so its own value is returned (to ~1e-18 relative); elsewhere the result
/// equals idw_one/idw_two up to rounding.
void WindField::idw_fast(std::size_t k, double a, double x, double y, double& u, double& v) const noexcept {
  typedef double v2 __attribute__((vector_size(16)));
  const std::size_t nn = node_x_.size();
  const double* u0 = uv_.data() + k * 2 * nn;
  const double* v0 = u0 + nn;
  const double* u1 = a > 0 ? u0 + 2 * nn : u0;
  const double* v1 = u1 + nn;
  if (nn == 1) {  // a single node (uniform fields): no weights
    u = (1 - a) * u0[0] + a * u1[0];
    v = (1 - a) * v0[0] + a * v1[0];
    return;
  }
  const double* nx = node_x_.data();
  const double* ny = node_y_.data();
  const v2 xx = {x, x}, yy = {y, y}, eps = {1e-12, 1e-12}, one = {1.0, 1.0};
  v2 sw = {0, 0}, su0 = {0, 0}, sv0 = {0, 0}, su1 = {0, 0}, sv1 = {0, 0};
  std::size_t i = 0;
  for (; i + 2 <= nn; i += 2) {
    v2 px, py, pu0, pv0, pu1, pv1;
    std::memcpy(&px, nx + i, sizeof px);
    std::memcpy(&py, ny + i, sizeof py);
    std::memcpy(&pu0, u0 + i, sizeof pu0);
    std::memcpy(&pv0, v0 + i, sizeof pv0);
    std::memcpy(&pu1, u1 + i, sizeof pu1);
    std::memcpy(&pv1, v1 + i, sizeof pv1);
    const v2 dx = xx - px, dy = yy - py;
    v2 d2 = dx * dx + dy * dy;
    d2 = d2 > eps ? d2 : eps;
    const v2 w = one / d2;
    sw += w;
    su0 += w * pu0;
    sv0 += w * pv0;
    su1 += w * pu1;
    sv1 += w * pv1;
  }
  double tw = sw[0] + sw[1], tu0 = su0[0] + su0[1], tv0 = sv0[0] + sv0[1];
  double tu1 = su1[0] + su1[1], tv1 = sv1[0] + sv1[1];
  for (; i < nn; ++i) {
    const double dx = x - nx[i], dy = y - ny[i];
    const double w = 1.0 / std::max(dx * dx + dy * dy, 1e-12);
    tw += w;
    tu0 += w * u0[i];
    tv0 += w * v0[i];
    tu1 += w * u1[i];
    tv1 += w * v1[i];
  }
  const double b = 1.0 - a, inv = 1.0 / tw;
  u = (b * tu0 + a * tu1) * inv;
  v = (b * tv0 + a * tv1) * inv;
}

void WindField::idw_one(std::size_t k, double x, double y, double& u, double& v, double* s) const noexcept {
  const double p = idw_power;
  double sw = 0, su = 0, sv = 0, ss = 0;
  // One loop for both layouts: every node of the slice (all valid), or its packed valid nodes.
  // Returns true when (x, y) is on a node, whose own values are then the answer.
  auto accumulate = [&](const auto& nx, const auto& ny, const auto& nu, const auto& nv, const auto& ns) {
    for (std::size_t i = 0; i < nx.size(); ++i) {
      const double dx = x - nx[i], dy = y - ny[i];
      const double d2 = dx * dx + dy * dy;
      if (d2 < kHitD2) {
        u = nu[i];
        v = nv[i];
        if (s) *s = ns[i];
        return true;
      }
      const double w = idw_weight(d2, p);
      sw += w;
      su += w * nu[i];
      sv += w * nv[i];
      if (s) ss += w * ns[i];
    }
    return false;
  };
  if (all_valid_[k]) {
    const Slice& sl = slices[k];
    if (accumulate(node_x_, node_y_, sl.u, sl.v, sl.speed)) return;
  } else {
    const Packed& pk = packed_[k];
    if (accumulate(pk.x, pk.y, pk.u, pk.v, pk.s)) return;
  }
  if (!(sw > 0)) {
    u = 0;
    v = 0;
    if (s) *s = kMinWindSpeed;
    return;
  }
  u = su / sw;
  v = sv / sw;
  if (s) *s = ss / sw;
}

void WindField::idw_two(std::size_t k, double a, double x, double y, double& u, double& v,
                        double* s) const noexcept {
  if (all_valid_[k] && all_valid_[k + 1]) {
    const Slice& s0 = slices[k];
    const Slice& s1 = slices[k + 1];
    const double p = idw_power;
    const double b = 1.0 - a;
    double sw = 0, su = 0, sv = 0, ss = 0;
    const std::size_t nn = node_x_.size();
    for (std::size_t i = 0; i < nn; ++i) {
      const double dx = x - node_x_[i], dy = y - node_y_[i];
      const double d2 = dx * dx + dy * dy;
      const double ui = b * s0.u[i] + a * s1.u[i];
      const double vi = b * s0.v[i] + a * s1.v[i];
      if (d2 < kHitD2) {
        u = ui;
        v = vi;
        if (s) *s = b * s0.speed[i] + a * s1.speed[i];
        return;
      }
      const double w = idw_weight(d2, p);
      sw += w;
      su += w * ui;
      sv += w * vi;
      if (s) ss += w * (b * s0.speed[i] + a * s1.speed[i]);
    }
    u = su / sw;
    v = sv / sw;
    if (s) *s = ss / sw;
    return;
  }
  double u0, v0, u1, v1, s0 = 0, s1 = 0;
  idw_one(k, x, y, u0, v0, s ? &s0 : nullptr);
  idw_one(k + 1, x, y, u1, v1, s ? &s1 : nullptr);
  u = (1 - a) * u0 + a * u1;
  v = (1 - a) * v0 + a * v1;
  if (s) *s = (1 - a) * s0 + a * s1;
}

void WindField::bilinear(std::size_t k, double a, double x, double y, double& u, double& v,
                         double* s) const noexcept {
  const int w = grid_w, h = grid_h;
  const double fx = std::clamp((x - grid_x0) / grid_dx, 0.0, w - 1.0);
  const double fy = std::clamp((grid_y1 - y) / grid_dy, 0.0, h - 1.0);
  const int j0 = std::min(static_cast<int>(fx), std::max(0, w - 2));
  const int i0 = std::min(static_cast<int>(fy), std::max(0, h - 2));
  const int j1 = std::min(j0 + 1, w - 1), i1 = std::min(i0 + 1, h - 1);
  const double tx = fx - j0, ty = fy - i0;
  const std::size_t n00 = static_cast<std::size_t>(i0) * w + j0, n01 = static_cast<std::size_t>(i0) * w + j1;
  const std::size_t n10 = static_cast<std::size_t>(i1) * w + j0, n11 = static_cast<std::size_t>(i1) * w + j1;
  const double w00 = (1 - tx) * (1 - ty), w01 = tx * (1 - ty), w10 = (1 - tx) * ty, w11 = tx * ty;
  auto interp = [&](const std::vector<float>& f) {
    return w00 * f[n00] + w01 * f[n01] + w10 * f[n10] + w11 * f[n11];
  };
  const Slice& s0 = slices[k];
  u = interp(s0.u);
  v = interp(s0.v);
  if (s) *s = interp(s0.speed);
  if (a > 0) {
    const Slice& s1 = slices[k + 1];
    u = (1 - a) * u + a * interp(s1.u);
    v = (1 - a) * v + a * interp(s1.v);
    if (s) *s = (1 - a) * *s + a * interp(s1.speed);
  }
}

/// Slow path for a field filled by hand without finalize(): nearest slice in time (no time
/// interpolation), IDW over the nodes with values (or the grid's nearest node). Correct but slow;
/// asserts in debug builds so that the missing finalize() is noticed.
void WindField::unfinalized(double x, double y, EpochSeconds t, double& u, double& v, double& s) const noexcept {
  u = 0;
  v = 0;
  s = kMinWindSpeed;
  if (slices.empty() || nodes.empty()) return;  // a default-constructed field: calm
  assert(false && "WindField filled by hand: call finalize()");
  std::size_t best = 0;
  for (std::size_t k = 1; k < slices.size(); ++k)
    if (std::abs(slices[k].t - t) < std::abs(slices[best].t - t)) best = k;
  const Slice& sl = slices[best];
  double sw = 0, su = 0, sv = 0, ss = 0, dmin = 1e300;
  std::size_t nearest = nodes.size();
  for (std::size_t i = 0; i < nodes.size() && i < sl.u.size() && i < sl.v.size(); ++i) {
    if (!std::isfinite(sl.u[i]) || !std::isfinite(sl.v[i])) continue;
    const double dx = x - nodes[i].x_m, dy = y - nodes[i].y_m;
    const double d2 = std::max(dx * dx + dy * dy, 1e-12);
    if (d2 < dmin) {
      dmin = d2;
      nearest = i;
    }
    const double w = std::pow(d2, -0.5 * idw_power);
    const double si = i < sl.speed.size() && std::isfinite(sl.speed[i]) ? sl.speed[i] : std::hypot(sl.u[i], sl.v[i]);
    sw += w;
    su += w * sl.u[i];
    sv += w * sl.v[i];
    ss += w * si;
  }
  if (nearest == nodes.size()) return;
  if (gridded) {
    u = sl.u[nearest];
    v = sl.v[nearest];
    s = std::hypot(u, v);
  } else {
    u = su / sw;
    v = sv / sw;
    s = ss / sw;
  }
  s = std::max(kMinWindSpeed, s);
}

void WindField::wind(double x_m, double y_m, EpochSeconds t, double& u_m_s, double& v_m_s) const noexcept {
  if (!finalized_) {
    double s;
    unfinalized(x_m, y_m, t, u_m_s, v_m_s, s);
    return;
  }
  std::size_t k;
  double a;
  time_index(t, k, a);
  if (gridded)
    bilinear(k, a, x_m, y_m, u_m_s, v_m_s, nullptr);
  else if (idw_power == 2.0 && all_valid_[k] && (a == 0 || all_valid_[k + 1]))
    idw_fast(k, a, x_m, y_m, u_m_s, v_m_s);
  else if (a == 0)
    idw_one(k, x_m, y_m, u_m_s, v_m_s, nullptr);
  else
    idw_two(k, a, x_m, y_m, u_m_s, v_m_s, nullptr);
  if (!std::isfinite(u_m_s) || !std::isfinite(v_m_s)) {
    u_m_s = 0;
    v_m_s = 0;
  }
}

namespace {

// Batch IDW kernels. The generic one (GCC vector extensions) is compiled for AVX-512, AVX2+FMA
// and baseline x86-64 (target_clones; the loader picks one); on AVX-512 CPUs a hand-written
// kernel with the hardware reciprocal estimate replaces it (runtime check). No clones under the
// sanitizers (ASan/UBSan and ifunc resolvers do not mix).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PT_AVX512_KERNEL 1
#if !defined(__SANITIZE_ADDRESS__)
#define PT_IDW_ATTRS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef PT_IDW_ATTRS
#define PT_IDW_ATTRS
#endif

constexpr std::size_t kLanes = 8;  ///< points per IDW block (one AVX-512 register of doubles)

/// Arguments of one IDW block: kLanes points (x, y, time weight a in [0, 1]) against nn nodes
/// whose values in the two bracketing slices are u0, v0 and u1, v1 (u1 = u0 when a = 0).
struct IdwBlock {
  const double *nx, *ny;
  std::size_t nn;
  const double *u0, *v0, *u1, *v1;
  const double *x, *y, *a;
  double *u, *v;  ///< out: kLanes values each
};

/// Generic kernel: IDW with power 2, node loop outside so that every operation works on kLanes
/// points and each node value is a broadcast. 1/d² without a double division per node: a float
/// reciprocal (24 bits) refined by one third-order Newton step e (1 + r + r²), r = 1 - d² e, whose
/// error r³ ~ 1e-21 is below double rounding. Valid for d² <= kMaxFloatD2 (the caller checks).
constexpr double kMaxFloatD2 = 1e30;  ///< m²; 1/d² stays a normal float
PT_IDW_ATTRS void idw_block_generic(const IdwBlock& b) noexcept {
  typedef double vd __attribute__((vector_size(kLanes * sizeof(double))));
  typedef float vf __attribute__((vector_size(kLanes * sizeof(float))));
  vd xx, yy, aa;
  std::memcpy(&xx, b.x, sizeof xx);
  std::memcpy(&yy, b.y, sizeof yy);
  std::memcpy(&aa, b.a, sizeof aa);
  const vd zero = {}, eps = zero + 1e-12;
  vd sw = zero, su0 = zero, sv0 = zero, su1 = zero, sv1 = zero;
  for (std::size_t i = 0; i < b.nn; ++i) {
    const vd dx = xx - b.nx[i], dy = yy - b.ny[i];
    vd d2 = dx * dx + dy * dy;
    d2 = d2 > eps ? d2 : eps;  // as idw_fast: within 1 µm the node's own value
    const vd e = __builtin_convertvector(1.0f / __builtin_convertvector(d2, vf), vd);
    const vd r = 1.0 - d2 * e;
    const vd w = e + e * (r + r * r);
    sw += w;
    su0 += w * b.u0[i];
    sv0 += w * b.v0[i];
    su1 += w * b.u1[i];
    sv1 += w * b.v1[i];
  }
  const vd bb = 1.0 - aa, inv = 1.0 / sw;
  const vd uu = (bb * su0 + aa * su1) * inv, vv = (bb * sv0 + aa * sv1) * inv;
  std::memcpy(b.u, &uu, sizeof uu);
  std::memcpy(b.v, &vv, sizeof vv);
}

#ifdef PT_AVX512_KERNEL
/// AVX-512 kernel: as idw_block_generic, with 1/d² from the 14-bit hardware estimate and two
/// Newton steps e += e (1 - d² e) (14 -> 28 -> 56 bits), valid over the whole double range.
/// (maskz_ forms with a full mask: the plain intrinsics trip GCC 12's -Wmaybe-uninitialized.)
__attribute__((target("avx512f"))) void idw_block_avx512(const IdwBlock& b) noexcept {
  const __m512d xx = _mm512_loadu_pd(b.x), yy = _mm512_loadu_pd(b.y), aa = _mm512_loadu_pd(b.a);
  const __m512d eps = _mm512_set1_pd(1e-12), one = _mm512_set1_pd(1.0);
  __m512d sw = _mm512_setzero_pd(), su0 = sw, sv0 = sw, su1 = sw, sv1 = sw;
  for (std::size_t i = 0; i < b.nn; ++i) {
    const __m512d dx = _mm512_sub_pd(xx, _mm512_set1_pd(b.nx[i]));
    const __m512d dy = _mm512_sub_pd(yy, _mm512_set1_pd(b.ny[i]));
    // max(d², 1e-12) as idw_fast (also NaN -> 1e-12: MAXPD returns its second operand).
    const __m512d d2 = _mm512_maskz_max_pd(0xFF, _mm512_fmadd_pd(dx, dx, _mm512_mul_pd(dy, dy)), eps);
    __m512d e = _mm512_maskz_rcp14_pd(0xFF, d2);
    e = _mm512_fmadd_pd(e, _mm512_fnmadd_pd(d2, e, one), e);
    const __m512d w = _mm512_fmadd_pd(e, _mm512_fnmadd_pd(d2, e, one), e);
    sw = _mm512_add_pd(sw, w);
    su0 = _mm512_fmadd_pd(w, _mm512_set1_pd(b.u0[i]), su0);
    sv0 = _mm512_fmadd_pd(w, _mm512_set1_pd(b.v0[i]), sv0);
    su1 = _mm512_fmadd_pd(w, _mm512_set1_pd(b.u1[i]), su1);
    sv1 = _mm512_fmadd_pd(w, _mm512_set1_pd(b.v1[i]), sv1);
  }
  const __m512d bb = _mm512_sub_pd(one, aa), inv = _mm512_div_pd(one, sw);
  _mm512_storeu_pd(b.u, _mm512_mul_pd(_mm512_fmadd_pd(aa, su1, _mm512_mul_pd(bb, su0)), inv));
  _mm512_storeu_pd(b.v, _mm512_mul_pd(_mm512_fmadd_pd(aa, sv1, _mm512_mul_pd(bb, sv0)), inv));
}
#endif

/// True when idw_block_avx512 is to be used: the CPU has AVX-512F, and PLUMETRACE_NO_AVX512 is
/// not set (lets the tests run the generic kernel on an AVX-512 machine).
bool use_avx512() noexcept {
#ifdef PT_AVX512_KERNEL
  static const bool yes = __builtin_cpu_supports("avx512f") && !std::getenv("PLUMETRACE_NO_AVX512");
  return yes;
#else
  return false;
#endif
}

}  // namespace

void WindField::wind_batch(const double* x_m, const double* y_m, const EpochSeconds* t,
                           std::size_t n, double* u_m_s, double* v_m_s) const noexcept {
  std::size_t i = 0;
  const std::size_t nn = node_x_.size(), ns = slices.size();
  if (finalized_ && !gridded && idw_power == 2.0 && nn > 1) {
    const bool avx512 = use_avx512();
    for (; i + kLanes <= n; i += kLanes) {
      // The block's slice pair: lane 0's, when every lane lies in the same interval [t_k, t_k+1)
      // (or all before the first / after the last slice: a = 0); else lane by lane.
      const double* tb = t + i;
      std::size_t k0;
      double a[kLanes], a0;
      time_index(tb[0], k0, a0);
      bool same = false;
      if (k0 + 1 < ns) {  // inside the time span (or at/before the first slice)
        const double tk = slice_t_[k0], tk1 = slice_t_[k0 + 1], inv = 1.0 / (tk1 - tk);
        same = true;
        for (std::size_t j = 0; j < kLanes; ++j) {
          a[j] = (tb[j] - tk) * inv;  // time_index's weight (to 1 ulp)
          same &= (tb[j] >= tk) & (tb[j] < tk1);
        }
      }
      if (!same && a0 == 0 && (k0 == 0 || k0 == ns - 1)) {  // before the first / after the last slice
        same = true;
        for (std::size_t j = 0; j < kLanes; ++j) {
          a[j] = 0;
          same &= ns == 1 || (k0 == 0 ? !(tb[j] > slice_t_.front()) : tb[j] >= slice_t_.back());
        }
      }
      const bool valid = all_valid_[k0] && (k0 + 1 >= ns || all_valid_[k0 + 1]);
      if (!same || !valid) {
        for (std::size_t j = i; j < i + kLanes; ++j) wind(x_m[j], y_m[j], t[j], u_m_s[j], v_m_s[j]);
        continue;
      }
      const double* u0 = uv_.data() + k0 * 2 * nn;
      const double* u1 = k0 + 1 < ns ? u0 + 2 * nn : u0;
      const IdwBlock blk{node_x_.data(), node_y_.data(), nn, u0, u0 + nn, u1, u1 + nn,
                         x_m + i, y_m + i, a, u_m_s + i, v_m_s + i};
      bool far = false;  // the generic kernel's float reciprocal needs d² <= kMaxFloatD2
#ifdef PT_AVX512_KERNEL
      if (avx512)
        idw_block_avx512(blk);
      else
#endif
      {
        for (std::size_t j = 0; j < kLanes; ++j)
          far |= !(std::abs(x_m[i + j] - node_x_[0]) + bbox_m_ <= 5e14 &&
                   std::abs(y_m[i + j] - node_y_[0]) + bbox_m_ <= 5e14);
        if (!far) idw_block_generic(blk);
      }
      (void)avx512;
      for (std::size_t j = i; j < i + kLanes; ++j) {
        if (!far && std::isfinite(u_m_s[j]) && std::isfinite(v_m_s[j])) continue;
        wind(x_m[j], y_m[j], t[j], u_m_s[j], v_m_s[j]);  // far away, NaN position or overflow
      }
    }
  }
  if (finalized_ && !gridded && idw_power == 2.0 && nn == 1) {  // one node (uniform): as idw_fast
    const double* uv = uv_.data();
    for (; i < n; ++i) {
      std::size_t k;
      double a;
      time_index(t[i], k, a);
      const double* u0 = uv + 2 * k;
      const double* u1 = a > 0 ? u0 + 2 : u0;
      u_m_s[i] = (1 - a) * u0[0] + a * u1[0];
      v_m_s[i] = (1 - a) * u0[1] + a * u1[1];
      if (!std::isfinite(u_m_s[i]) || !std::isfinite(v_m_s[i])) u_m_s[i] = v_m_s[i] = 0;
    }
  }
  for (; i < n; ++i) wind(x_m[i], y_m[i], t[i], u_m_s[i], v_m_s[i]);
}

MetSample WindField::at(double x_m, double y_m, EpochSeconds t) const noexcept {
  MetSample m;
  if (!finalized_) {
    unfinalized(x_m, y_m, t, m.u_m_s, m.v_m_s, m.speed_m_s);
    m.sigma_theta_deg = kNaN;
    m.obukhov_length_m = kNaN;
    m.friction_velocity_m_s = kNaN;
    return m;
  }
  std::size_t k;
  double a;
  time_index(t, k, a);
  double s = kMinWindSpeed;
  if (gridded)
    bilinear(k, a, x_m, y_m, m.u_m_s, m.v_m_s, &s);
  else if (a == 0)
    idw_one(k, x_m, y_m, m.u_m_s, m.v_m_s, &s);
  else
    idw_two(k, a, x_m, y_m, m.u_m_s, m.v_m_s, &s);
  if (!std::isfinite(m.u_m_s) || !std::isfinite(m.v_m_s)) m.u_m_s = m.v_m_s = 0;
  m.speed_m_s = std::isfinite(s) ? std::max({kMinWindSpeed, s}) : kMinWindSpeed;
  const Slice& near = slices[a < 0.5 ? k : k + 1];
  m.stability = near.stability;
  m.sigma_theta_deg = near.sigma_theta_deg > 0 ? near.sigma_theta_deg : kNaN;
  m.sigma_theta_period_s = near.sigma_theta_period_s;
  m.mixing_height_m = a > 0 ? (1 - a) * slices[k].mixing_height_m + a * slices[k + 1].mixing_height_m
                            : slices[k].mixing_height_m;
  m.obukhov_length_m = near.obukhov_length_m;
  m.friction_velocity_m_s = near.friction_velocity_m_s;
  return m;
}

double WindField::mean_speed_m_s() const noexcept {
  double sum = 0;
  std::size_t n = 0;
  for (const Slice& sl : slices)
    for (float v : sl.speed)
      if (std::isfinite(v)) {
        sum += v;
        ++n;
      }
  return n > 0 ? std::max(sum / static_cast<double>(n), kMinWindSpeed) : 2.0;
}

}  // namespace plumetrace

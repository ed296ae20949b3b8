#include "plumetrace/fusion/observations.hpp"

#include <algorithm>
#include <cassert>
#include <optional>
#include <cmath>
#include <limits>
#include <memory>

#include "plumetrace/core/error.hpp"
#include "plumetrace/core/tuning.hpp"
#include "plumetrace/fusion/imagery.hpp"

namespace plumetrace {
namespace {

/// q-quantile (0..1) of v by nth_element on a copy; NaN for an empty vector.
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto k = static_cast<std::size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

/// Background and its spread from a series: its low quantile, and a robust spread of the values
/// below the median (kMadToSigma × MAD of the lower half about the background), floored at
/// kNoiseFloorFractionOfBackground of it. @pre !values.empty()
struct BackgroundEstimate {
  double level{};
  double noise{};
};
BackgroundEstimate low_quantile_background(const std::vector<double>& values, double quantile_frac) {
  assert(!values.empty());
  BackgroundEstimate b;
  b.level = quantile(values, quantile_frac);
  std::vector<double> dev;
  const double med = quantile(values, 0.5);
  for (double v : values)
    if (v <= med) dev.push_back(std::abs(v - b.level));
  const double mad = dev.empty() ? 0.0 : quantile(dev, 0.5);
  b.noise = std::max({tuning::kMadToSigma * mad, tuning::kNoiseFloorFractionOfBackground * std::abs(b.level), 1e-6});
  return b;
}

/// Sets every platform's background and noise from the values each one reported (values[p]):
/// its own low quantile when it has at least kMinOwnBackgroundSamples values; otherwise the known
/// background from case.json, else the pooled low quantile of its network (the platforms of the
/// same kind), else (a network too small to pool) its own values after all.
void assign_backgrounds(std::vector<Platform>& platforms, const std::vector<std::vector<double>>& values,
                        std::optional<double> known_background, const FusionOptions& o) {
  assert(platforms.size() == values.size());
  const ObservationKind kinds[] = {ObservationKind::Station, ObservationKind::Path, ObservationKind::Mobile,
                                   ObservationKind::Imagery};
  for (const ObservationKind kind : kinds) {
    std::vector<double> pooled;
    int contributing = 0;
    for (std::size_t p = 0; p < platforms.size(); ++p)
      if (platforms[p].kind == kind && !values[p].empty()) {
        pooled.insert(pooled.end(), values[p].begin(), values[p].end());
        ++contributing;
      }
    std::optional<BackgroundEstimate> network;
    if (static_cast<int>(pooled.size()) >= tuning::kMinNetworkBackgroundSamples &&
        contributing >= tuning::kMinBackgroundPlatforms)
      network = low_quantile_background(pooled, o.background_percentile);
    for (std::size_t p = 0; p < platforms.size(); ++p) {
      Platform& pl = platforms[p];
      if (pl.kind != kind || values[p].empty()) continue;
      if (static_cast<int>(values[p].size()) >= o.min_own_background_samples) {
        const BackgroundEstimate b = low_quantile_background(values[p], o.background_percentile);
        pl.background = b.level;
        pl.noise = b.noise;
        pl.background_source = BackgroundSource::Own;
      } else if (known_background) {
        pl.background = *known_background;
        pl.noise = std::max(network ? network->noise : 0.0,
                            std::max(tuning::kNoiseFloorFractionOfBackground * *known_background, 1e-6));
        pl.background_source = BackgroundSource::Case;
      } else if (network) {
        pl.background = network->level;
        pl.noise = network->noise;
        pl.background_source = BackgroundSource::Network;
      } else {
        const BackgroundEstimate b = low_quantile_background(values[p], o.background_percentile);
        pl.background = b.level;
        pl.noise = b.noise;
        pl.background_source = BackgroundSource::Own;
      }
    }
  }
}

void add_stations(const Case& c, const Transformer& tr, int var, EpochSeconds use_start,
                  EpochSeconds use_end, ObservationSet& out, std::vector<std::vector<double>>& platform_values) {
  std::vector<int> platform_of(c.stations.size(), -1);
  std::vector<std::vector<double>> all_values(c.stations.size());
  for (const Reading& r : c.readings.rows) {
    if (r.variable != var || r.station >= c.stations.size()) continue;
    all_values[r.station].push_back(r.value);
  }
  for (std::size_t s = 0; s < c.stations.size(); ++s) {
    if (all_values[s].empty()) continue;
    Platform p;
    p.id = c.stations[s].id;
    p.kind = c.stations[s].path_end ? ObservationKind::Path : ObservationKind::Station;
    platform_of[s] = static_cast<int>(out.platforms.size());
    out.platforms.push_back(std::move(p));
    platform_values.push_back(std::move(all_values[s]));
  }
  for (const Reading& r : c.readings.rows) {
    if (r.variable != var || r.station >= c.stations.size()) continue;
    ++out.raw_samples;
    if (r.time_s + r.period_s <= use_start || r.time_s >= use_end) continue;
    const Station& st = c.stations[r.station];
    Observation ob;
    ob.kind = st.path_end ? ObservationKind::Path : ObservationKind::Station;
    ob.platform = platform_of[r.station];
    if (!tr.forward(st.lon, st.lat, ob.x0_m, ob.y0_m)) continue;
    ob.x1_m = ob.x0_m;
    ob.y1_m = ob.y0_m;
    if (st.path_end && !tr.forward(st.path_end->first, st.path_end->second, ob.x1_m, ob.y1_m)) continue;
    // a beam's receptor is its middle (the operator integrates along it, x0 -> x1)
    ob.x_m = 0.5 * (ob.x0_m + ob.x1_m);
    ob.y_m = 0.5 * (ob.y0_m + ob.y1_m);
    ob.z_m = st.height_m > 0 ? st.height_m : 3.0;
    ob.lon = st.path_end ? 0.5 * (st.lon + st.path_end->first) : st.lon;
    ob.lat = st.path_end ? 0.5 * (st.lat + st.path_end->second) : st.lat;
    ob.t_start = r.time_s;
    ob.averaging_s = r.period_s;
    ob.value = r.value;
    out.obs.push_back(ob);
  }
}

void add_traces(const Case& c, const Transformer& tr, const Grid& grid, const std::string& pollutant,
                EpochSeconds use_start, EpochSeconds use_end, const FusionOptions& o,
                ObservationSet& out, std::vector<std::vector<double>>& platform_values) {
  const double seg_m = o.mobile_segment_m > 0 ? o.mobile_segment_m : 2.0 * grid.cell_m;
  for (const Trace& t : c.traces) {
    const auto vit = std::find(t.variables.begin(), t.variables.end(), pollutant);
    if (vit == t.variables.end()) continue;
    const auto& vals = t.values[static_cast<std::size_t>(vit - t.variables.begin())];
    std::vector<double> finite;
    for (double v : vals)
      if (std::isfinite(v)) finite.push_back(v);
    if (finite.empty()) continue;
    Platform p;
    p.id = t.name;
    p.kind = ObservationKind::Mobile;
    const int pi = static_cast<int>(out.platforms.size());
    out.platforms.push_back(std::move(p));
    out.raw_samples += finite.size();
    platform_values.push_back(std::move(finite));

    // Segment: consecutive samples merged until the segment spans mobile_segment_s in time or
    // seg_m in space. Lag correction shifts the value to the position held lag seconds earlier.
    double sx = 0, sy = 0, sv = 0, slon = 0, slat = 0, sz = 0;
    int n = 0;
    double x_first = 0, y_first = 0, x_last = 0, y_last = 0;
    EpochSeconds t_first = 0, t_last = 0;
    auto flush = [&]() {
      if (n == 0) return;
      Observation ob;
      ob.kind = ObservationKind::Mobile;
      ob.platform = pi;
      ob.x_m = sx / n;
      ob.y_m = sy / n;
      ob.z_m = sz / n;
      ob.lon = slon / n;
      ob.lat = slat / n;
      ob.t_start = t_first;
      ob.averaging_s = t_last - t_first;
      ob.value = sv / n;
      ob.samples = n;
      ob.x0_m = x_first;
      ob.y0_m = y_first;
      ob.x1_m = x_last;
      ob.y1_m = y_last;
      out.obs.push_back(ob);
      n = 0;
      sx = sy = sv = slon = slat = sz = 0;
    };
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double v = vals[i];
      if (!std::isfinite(v)) continue;
      // position at the time the air was actually sampled (value stamped at t_i, lag earlier)
      const EpochSeconds ts = t.time_s[i] - o.sensor_lag_s;
      if (ts < use_start || ts >= use_end) continue;
      double lon = t.lon[i], lat = t.lat[i];
      if (o.sensor_lag_s > 0) {
        std::size_t j = i;
        while (j > 0 && t.time_s[j] > ts) --j;
        lon = t.lon[j];
        lat = t.lat[j];
      }
      double x, y;
      if (!tr.forward(lon, lat, x, y)) continue;
      if (n > 0 && (ts - t_first > o.mobile_segment_s || std::hypot(x - x_first, y - y_first) > seg_m))
        flush();
      if (n == 0) {
        x_first = x;
        y_first = y;
        t_first = ts;
      }
      t_last = ts;
      x_last = x;
      y_last = y;
      sx += x;
      sy += y;
      sv += v;
      slon += lon;
      slat += lat;
      sz += std::isfinite(t.alt_m[i]) && t.alt_m[i] > 0 && t.alt_m[i] < 500 ? t.alt_m[i] : 2.0;
      ++n;
    }
    flush();
  }
}

void add_imagery(const Case& c, const Transformer& tr, const Grid& grid, const std::string& pollutant,
                 EpochSeconds use_start, EpochSeconds use_end, const FusionOptions& o, ObservationSet& out,
                 std::vector<std::vector<double>>& platform_values) {
  std::string grid_wkt;
  for (const Imagery& im : c.imagery) {
    for (const ImageryBand& b : im.bands) {
      if (b.variable != pollutant) continue;
      const EpochSeconds t = b.time_s.value_or(use_start);
      if (t < use_start || t >= use_end) continue;
      // area-average onto the analysis grid (coarsened to at most max_imagery_cells cells)
      if (grid_wkt.empty()) grid_wkt = tr.wkt();
      ImageryOnGrid on;
      std::string why;
      if (!warp_imagery_band(im, b, grid, grid_wkt, o.max_imagery_cells, on, why)) continue;
      Platform p;
      p.id = "imagery/" + im.name;
      p.kind = ObservationKind::Imagery;
      std::vector<double> vals;
      const int pi = static_cast<int>(out.platforms.size());
      for (int r = 0; r < on.grid.rows; ++r) {
        for (int col = 0; col < on.grid.cols; ++col) {
          const std::size_t k = static_cast<std::size_t>(r) * on.grid.cols + col;
          const float v = on.mean[k];
          if (!std::isfinite(v) || !(on.count[k] > 0)) continue;
          Observation ob;
          ob.kind = ObservationKind::Imagery;
          ob.platform = pi;
          ob.x_m = on.grid.x_center(col);
          ob.y_m = on.grid.y_center(r);
          if (!tr.inverse(ob.x_m, ob.y_m, ob.lon, ob.lat)) continue;
          ob.z_m = 1.0;
          ob.t_start = t;
          ob.averaging_s = 0;
          ob.value = v;
          ob.samples = std::max(1, static_cast<int>(std::lround(on.count[k])));
          ob.x0_m = ob.x1_m = ob.x_m;
          ob.y0_m = ob.y1_m = ob.y_m;
          out.obs.push_back(ob);
          vals.push_back(v);
          out.raw_samples += static_cast<std::size_t>(ob.samples);
        }
      }
      out.platforms.push_back(std::move(p));
      platform_values.push_back(std::move(vals));
    }
  }
}

}  // namespace

const char* to_string(BackgroundSource s) noexcept {
  switch (s) {
    case BackgroundSource::Own: return "own";
    case BackgroundSource::Network: return "network";
    case BackgroundSource::Case: return "case";
  }
  return "own";
}

ObservationSet gather_observations(const Case& c, const Transformer& tr, const Grid& grid,
                                   const std::string& pollutant, EpochSeconds use_start,
                                   EpochSeconds use_end, const FusionOptions& options) {
  ObservationSet out;
  std::vector<std::vector<double>> platform_values;  // every value each platform reported
  const int var = c.readings.variable_index(pollutant);
  if (var >= 0) add_stations(c, tr, var, use_start, use_end, out, platform_values);
  add_traces(c, tr, grid, pollutant, use_start, use_end, options, out, platform_values);
  add_imagery(c, tr, grid, pollutant, use_start, use_end, options, out, platform_values);
  assign_backgrounds(out.platforms, platform_values, c.settings.background_for(pollutant), options);
  return out;
}

DataSpan pollutant_data_span(const Case& c, const std::string& pollutant) {
  DataSpan span;
  span.units = c.settings.units;
  const int var = c.readings.variable_index(pollutant);
  for (const Reading& r : c.readings.rows)
    if (r.variable == var) {
      span.t0 = std::min(span.t0, r.time_s);
      span.t1 = std::max(span.t1, r.time_s + r.period_s);
      if (span.units.empty()) span.units = c.readings.units[r.unit];
    }
  for (const Trace& t : c.traces)
    if (std::find(t.variables.begin(), t.variables.end(), pollutant) != t.variables.end() && t.size() > 0) {
      span.t0 = std::min(span.t0, t.time_s.front());
      span.t1 = std::max(span.t1, t.time_s.back());
    }
  for (const Imagery& im : c.imagery)
    for (const ImageryBand& b : im.bands)
      if (b.variable == pollutant && b.time_s) {
        span.t0 = std::min(span.t0, *b.time_s);
        span.t1 = std::max(span.t1, *b.time_s);
      }
  return span;
}

}  // namespace plumetrace

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
#include "plumetrace/fusion/mobile.hpp"

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
/// kNoiseFloorFractionOfBackground of it. Fixed platforms' own series and the network pool take
/// this (see README "Method" step 4 for why not background_centre); a survey trace's levelled
/// values take background_centre. @pre !values.empty()
struct BackgroundEstimate {
  double level{};
  double noise{};
};
BackgroundEstimate low_quantile_background(const std::vector<double>& values, double quantile_frac) {
  assert(!values.empty());
  BackgroundEstimate b;
  b.level = quantile(values, quantile_frac);
  b.noise = spread_about(values, b.level);
  return b;
}

/// Sets every platform's background and noise from the values each one reported (values[p]):
/// its own low quantile when it has at least kMinOwnBackgroundSamples values; otherwise the known
/// background from case.json, else the pooled low quantile of its network (the platforms of the
/// same kind), else (a network too small to pool) its own values after all.
/// fixed[p], when set, is platform p's own background already estimated (a survey trace's
/// levelled rolling background's centre): it is used instead of its own low quantile.
void assign_backgrounds(std::vector<Platform>& platforms, const std::vector<std::vector<double>>& values,
                        const std::vector<std::optional<BackgroundEstimate>>& fixed,
                        std::optional<double> known_background, const FusionOptions& o) {
  assert(platforms.size() == values.size() && fixed.size() == values.size());
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
        const BackgroundEstimate b = fixed[p] ? *fixed[p] : low_quantile_background(values[p], o.background_percentile);
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
                EpochSeconds use_start, EpochSeconds use_end, const FusionOptions& o, ObservationSet& out,
                std::vector<std::vector<double>>& platform_values,
                std::vector<std::optional<BackgroundEstimate>>& fixed) {
  for (const Trace& t : c.traces) {
    const auto vit = std::find(t.variables.begin(), t.variables.end(), pollutant);
    if (vit == t.variables.end()) continue;
    const auto& vals = t.values[static_cast<std::size_t>(vit - t.variables.begin())];
    const CaseSettings::TraceSettings cfg = c.settings.trace_settings(t.name);
    // every finite, placeable sample (all times: the background and the lag use them all)
    MobileSeries raw;
    std::vector<double> alt;
    for (std::size_t i = 0; i < t.size(); ++i) {
      double x, y;
      if (!std::isfinite(vals[i]) || !tr.forward(t.lon[i], t.lat[i], x, y)) continue;
      raw.t.push_back(t.time_s[i]);
      raw.x_m.push_back(x);
      raw.y_m.push_back(y);
      raw.value.push_back(vals[i]);
      alt.push_back(t.alt_m[i]);
    }
    if (raw.size() == 0) continue;
    const int pi = static_cast<int>(out.platforms.size());
    Platform p;
    p.id = t.name;
    p.kind = ObservationKind::Mobile;
    out.platforms.push_back(std::move(p));
    out.raw_samples += raw.size();
    MobileReport rep;
    rep.platform = pi;
    rep.cell_m = cfg.cell_m ? *cfg.cell_m : o.mobile_cell_m > 0 ? o.mobile_cell_m : 2.0 * grid.cell_m;

    // background: a rolling low quantile, levelled out (values keep the platform's median
    // rolling background as their one level), and the platform's background the centre the
    // levelled quiet samples scatter about (LevelledSeries::typical: the cells are medians of
    // pass means, centred on it, not on a low quantile); too few samples: as any platform
    const bool own = static_cast<int>(raw.size()) >= o.min_own_background_samples;
    std::optional<BackgroundEstimate> est;
    double typical = 0;  // the background's centre: peaks stand above it
    if (own) {
      LevelledSeries lv = level_background(raw.t, raw.value,
                                           cfg.background_window_s.value_or(tuning::kMobileBackgroundWindowS),
                                           tuning::kMobileBackgroundQuantile);
      rep.background_min = lv.rolling_min;
      rep.background_max = lv.rolling_max;
      rep.rolling_background = true;
      raw.value = std::move(lv.value);
      typical = lv.typical;
      est = BackgroundEstimate{lv.typical, lv.noise};
    }
    platform_values.push_back(raw.value);
    fixed.push_back(est);

    // sensor lag: case.json's, else estimated where passes overlap
    double lag_s = 0;
    if (cfg.lag_s) {
      lag_s = *cfg.lag_s;
      rep.lag_source = "case";
    } else if (est) {
      std::vector<double> excess(raw.size());
      for (std::size_t i = 0; i < raw.size(); ++i) excess[i] = raw.value[i] - typical;
      const LagEstimate le = estimate_sensor_lag_s(raw, excess, est->noise, tuning::kMaxSensorLagS);
      rep.lag_pairs = le.pairs;
      rep.lag_spread_s = le.spread_s;
      if (le.determined) {
        lag_s = le.lag_s;
        rep.lag_source = "estimated";
      } else {
        rep.lag_source = "undetermined";
        rep.lag_note = le.why;
      }
    } else {
      rep.lag_source = "undetermined";
      rep.lag_note = "too few samples";
    }
    rep.lag_s = lag_s;

    // the lag-corrected series inside the use window: each value where the air was sampled
    MobileSeries s;
    std::vector<double> z;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const EpochSeconds ts = raw.t[i] - lag_s;
      if (ts < use_start || ts >= use_end) continue;
      double x, y;
      position_at(raw, ts, x, y);
      s.t.push_back(ts);
      s.x_m.push_back(x);
      s.y_m.push_back(y);
      s.value.push_back(raw.value[i]);
      z.push_back(cfg.inlet_height_m ? *cfg.inlet_height_m
                  : std::isfinite(alt[i]) && alt[i] > 0 && alt[i] < 500 ? alt[i]
                                                                        : tuning::kMobileInletHeightM);
    }
    if (est && s.size() > 0) {
      std::vector<double> excess(s.size());
      for (std::size_t i = 0; i < s.size(); ++i) excess[i] = s.value[i] - typical;
      rep.peaks = detect_peaks(s, excess, est->noise);
    }
    for (const MobileCell& cell : aggregate_passes(s, rep.cell_m, grid.x0_m, grid.y1_m, o.mobile_segment_s)) {
      Observation ob;
      ob.kind = ObservationKind::Mobile;
      ob.platform = pi;
      ob.x_m = cell.x_m;
      ob.y_m = cell.y_m;
      double zs = 0;
      for (std::size_t i : cell.sample_index) zs += z[i];
      ob.z_m = zs / static_cast<double>(cell.sample_index.size());
      if (!tr.inverse(ob.x_m, ob.y_m, ob.lon, ob.lat)) continue;
      ob.t_start = cell.t_start;
      ob.averaging_s = cell.t_end - cell.t_start;
      ob.value = cell.value;
      ob.samples = cell.samples;
      ob.passes = cell.passes;
      ob.x0_m = cell.x0_m;
      ob.y0_m = cell.y0_m;
      ob.x1_m = cell.x1_m;
      ob.y1_m = cell.y1_m;
      out.obs.push_back(ob);
      ++rep.cells;
      rep.passes += static_cast<std::size_t>(cell.passes);
      rep.max_passes = std::max(rep.max_passes, cell.passes);
    }
    out.mobile.push_back(std::move(rep));
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
  std::vector<std::optional<BackgroundEstimate>> fixed(platform_values.size());
  add_traces(c, tr, grid, pollutant, use_start, use_end, options, out, platform_values, fixed);
  add_imagery(c, tr, grid, pollutant, use_start, use_end, options, out, platform_values);
  fixed.resize(platform_values.size());
  assign_backgrounds(out.platforms, platform_values, fixed, c.settings.background_for(pollutant), options);
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

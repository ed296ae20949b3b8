#include "plumetrace/fusion/mobile.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <utility>

#include "plumetrace/core/tuning.hpp"

namespace plumetrace {
namespace {

/// A lattice cell as one integer key.
std::uint64_t cell_key(double x_m, double y_m, double cell_m, double ox_m, double oy_m) noexcept {
  const auto cx = static_cast<std::int64_t>(std::floor((x_m - ox_m) / cell_m));
  const auto cy = static_cast<std::int64_t>(std::floor((y_m - oy_m) / cell_m));
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(cx)) << 32) |
         static_cast<std::uint64_t>(static_cast<std::uint32_t>(cy));
}

/// A pass: consecutive samples [i0, i1] in one cell.
struct Pass {
  std::uint64_t key{};
  std::size_t i0{}, i1{};
  double mean{};
};

/// Passes of a series whose samples lie in cells keys[i]: a pass closes when the cell changes, at
/// a gap longer than kPassGapS, or after max_pass_s. `value` is averaged per pass.
std::vector<Pass> passes_of(const std::vector<EpochSeconds>& t, const std::vector<std::uint64_t>& keys,
                            const std::vector<double>& value, double max_pass_s) {
  std::vector<Pass> out;
  std::size_t i0 = 0;
  double sum = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > i0 && (keys[i] != keys[i0] || t[i] - t[i - 1] > tuning::kPassGapS || t[i] - t[i0] > max_pass_s)) {
      out.push_back({keys[i0], i0, i - 1, sum / static_cast<double>(i - i0)});
      i0 = i;
      sum = 0;
    }
    sum += value[i];
  }
  if (!keys.empty()) out.push_back({keys[i0], i0, keys.size() - 1, sum / static_cast<double>(keys.size() - i0)});
  return out;
}

/// Median of v (the mean of the two middle values for an even count). @pre !v.empty()
double median_of(std::vector<double> v) {
  assert(!v.empty());
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// q-quantile (0..1) of v, the lower of the two neighbours (no interpolation): nth_element on
/// the copy. @pre !v.empty()
double lower_quantile(std::vector<double> v, double q) {
  assert(!v.empty());
  const auto k = static_cast<std::size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

double spread_about(const std::vector<double>& values, double level) {
  assert(!values.empty());
  std::vector<double> dev;
  const double med = lower_quantile(values, 0.5);
  for (double v : values)
    if (v <= med) dev.push_back(std::abs(v - level));
  const double mad = lower_quantile(dev, 0.5);  // dev holds the median itself: never empty
  return std::max({tuning::kMadToSigma * mad, tuning::kNoiseFloorFractionOfBackground * std::abs(level), 1e-6});
}

QuietLevel background_centre(const std::vector<double>& values, double low_quantile) {
  assert(!values.empty());
  assert(low_quantile > 0 && low_quantile < 0.5);
  // from the low quantile upward: the median of the values at most kBackgroundClipSigmas spreads
  // above the current centre, the spread measured on the quiet side below it (a plume only adds)
  double centre = lower_quantile(values, low_quantile);
  double sigma = spread_about(values, centre);
  std::vector<double> kept;
  for (int it = 0; it < tuning::kBackgroundClipIterations; ++it) {
    kept.clear();
    for (double v : values)
      if (v <= centre + tuning::kBackgroundClipSigmas * sigma) kept.push_back(v);
    const double next = median_of(kept);  // never empty: the low quantile itself is kept
    sigma = spread_about(kept, next);
    const bool settled = std::abs(next - centre) <= 1e-9 * (1.0 + std::abs(centre));
    centre = next;
    if (settled) break;
  }
  return {centre, sigma};
}

void position_at(const MobileSeries& s, EpochSeconds t, double& x_m, double& y_m) noexcept {
  assert(s.size() > 0);
  const auto it = std::upper_bound(s.t.begin(), s.t.end(), t);
  if (it == s.t.begin()) {
    x_m = s.x_m.front();
    y_m = s.y_m.front();
    return;
  }
  if (it == s.t.end()) {
    x_m = s.x_m.back();
    y_m = s.y_m.back();
    return;
  }
  const auto j = static_cast<std::size_t>(it - s.t.begin());  // t[j-1] <= t < t[j]
  const double f = (t - s.t[j - 1]) / (s.t[j] - s.t[j - 1]);
  x_m = s.x_m[j - 1] + f * (s.x_m[j] - s.x_m[j - 1]);
  y_m = s.y_m[j - 1] + f * (s.y_m[j] - s.y_m[j - 1]);
}

std::vector<double> rolling_low_quantile(const std::vector<EpochSeconds>& t, const std::vector<double>& value,
                                         double window_s, double q) {
  assert(t.size() == value.size());
  assert(window_s > 0);
  const std::size_t n = t.size();
  std::vector<double> out(n);
  std::vector<double> win;  // the window's values, sorted
  std::size_t lo = 0, hi = 0;  // window = samples [lo, hi)
  const double half = 0.5 * window_s;
  for (std::size_t i = 0; i < n; ++i) {
    while (hi < n && t[hi] <= t[i] + half) {
      win.insert(std::upper_bound(win.begin(), win.end(), value[hi]), value[hi]);
      ++hi;
    }
    while (t[lo] < t[i] - half) {
      win.erase(std::lower_bound(win.begin(), win.end(), value[lo]));
      ++lo;
    }
    const auto k = static_cast<std::size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(win.size() - 1));
    out[i] = win[k];
  }
  return out;
}

LevelledSeries level_background(const std::vector<EpochSeconds>& t, const std::vector<double>& value,
                                double window_s, double q) {
  assert(!t.empty() && t.size() == value.size());
  std::vector<double> rolling = rolling_low_quantile(t, value, window_s, q);
  // drift, not plume: the rolling background stays within kMaxDriftFraction of the trace's own
  // low quantile, or kMaxDriftNoise of its spread if that is more. A platform that spends most
  // of a window inside a plume (driving along it, parked downwind) would otherwise level the
  // plume away as "drift".
  const double base = lower_quantile(value, q);
  const double reach =
      std::max(tuning::kMaxDriftFraction * std::abs(base), tuning::kMaxDriftNoise * spread_about(value, base));
  for (double& r : rolling) r = std::clamp(r, base - reach, base + reach);
  LevelledSeries out;
  std::vector<double> sorted = rolling;
  std::sort(sorted.begin(), sorted.end());
  out.level = sorted[sorted.size() / 2];
  out.rolling_min = sorted.front();
  out.rolling_max = sorted.back();
  out.value.resize(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) out.value[i] = value[i] - rolling[i] + out.level;
  // the background's centre and the noise about it: what the quiet levelled values scatter about
  const QuietLevel centre = background_centre(out.value, q);
  out.typical = centre.level;
  out.noise = centre.noise;
  return out;
}

LagEstimate estimate_sensor_lag_s(const MobileSeries& s, const std::vector<double>& excess, double noise,
                                  double max_lag_s) {
  assert(s.size() == excess.size());
  assert(noise > 0);
  LagEstimate est;
  if (s.size() < 3) {
    est.why = "too few samples";
    return est;
  }
  // each crossing at lag 0: its excess-weighted centre time and the heading there
  struct Crossing {
    EpochSeconds t_c;
    double hx, hy;  // unit heading
  };
  std::vector<Crossing> crossings;
  for (const MobilePeak& pk : detect_peaks(s, excess, noise)) {
    double w = 0, wt = 0;
    for (auto i = static_cast<std::size_t>(std::lower_bound(s.t.begin(), s.t.end(), pk.t_start) - s.t.begin());
         i < s.size() && s.t[i] <= pk.t_end; ++i)
      if (excess[i] > 0) {
        w += excess[i];
        wt += excess[i] * s.t[i];
      }
    if (!(w > 0)) continue;
    const EpochSeconds tc = wt / w;
    double xa, ya, xb, yb;
    position_at(s, tc - tuning::kLagHeadingHalfSpanS, xa, ya);
    position_at(s, tc + tuning::kLagHeadingHalfSpanS, xb, yb);
    const double d = std::hypot(xb - xa, yb - ya);
    if (!(d > 0)) continue;  // standing still: no heading
    crossings.push_back({tc, (xb - xa) / d, (yb - ya) / d});
  }
  // pairs crossing the same place in opposite directions: where both were lag seconds before
  // their stamps, they meet at the true lag
  const double cos_max = std::cos(tuning::kLagMinHeadingDifferenceDeg * 3.14159265358979323846 / 180.0);
  std::vector<double> lags;
  for (std::size_t a = 0; a < crossings.size(); ++a)
    for (std::size_t b = a + 1; b < crossings.size(); ++b) {
      const Crossing &ca = crossings[a], &cb = crossings[b];
      if (std::abs(cb.t_c - ca.t_c) > tuning::kMobilePassGroupS) continue;
      if (ca.hx * cb.hx + ca.hy * cb.hy > cos_max) continue;
      double best_d = 1e300, best_lag = 0;
      for (double lag = 0; lag <= max_lag_s + 1e-9; lag += tuning::kLagStepS) {
        double xa, ya, xb, yb;
        position_at(s, ca.t_c - lag, xa, ya);
        position_at(s, cb.t_c - lag, xb, yb);
        const double d = std::hypot(xb - xa, yb - ya);
        if (d < best_d) {
          best_d = d;
          best_lag = lag;
        }
      }
      if (best_d <= tuning::kLagPairMatchM && best_lag < max_lag_s - 1e-9) lags.push_back(best_lag);
    }
  est.pairs = lags.size();
  if (lags.size() < static_cast<std::size_t>(tuning::kLagMinPairs)) {
    est.why = std::to_string(lags.size()) + " pair(s) of plume crossings in opposite directions over one place (" +
              std::to_string(tuning::kLagMinPairs) + " needed)";
    return est;
  }
  const double med = median_of(lags);
  std::vector<double> dev;
  for (double l : lags) dev.push_back(std::abs(l - med));
  est.spread_s = median_of(dev);
  if (est.spread_s > tuning::kLagMaxSpreadS) {
    est.why = "the crossing pairs disagree (median deviation " + std::to_string(static_cast<int>(std::round(est.spread_s))) +
              " s): the plume moved between passes";
    return est;
  }
  est.lag_s = med;
  est.determined = true;
  return est;
}

std::vector<MobilePeak> detect_peaks(const MobileSeries& s, const std::vector<double>& excess, double noise) {
  assert(s.size() == excess.size());
  assert(noise > 0);
  const double hi = tuning::kPeakNoiseMultiple * noise, lo = tuning::kPeakEdgeNoiseMultiple * noise;
  // runs above hi, widened to where the excess falls below lo
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (excess[i] < hi) continue;
    // a lone sample above hi is an instrument spike, not a crossing: kPeakMinSamples in a row
    std::size_t above = 1;
    while (above < static_cast<std::size_t>(tuning::kPeakMinSamples) && i + above < s.size() && excess[i + above] >= hi)
      ++above;
    if (above < static_cast<std::size_t>(tuning::kPeakMinSamples)) continue;
    std::size_t a = i, b = i;
    while (a > 0 && excess[a - 1] >= lo && s.t[a] - s.t[a - 1] <= tuning::kPassGapS) --a;
    while (b + 1 < s.size() && excess[b + 1] >= lo && s.t[b + 1] - s.t[b] <= tuning::kPassGapS) ++b;
    if (!runs.empty() && s.t[a] - s.t[runs.back().second] <= tuning::kPeakMergeGapS)
      runs.back().second = std::max(runs.back().second, b);
    else
      runs.emplace_back(a, b);
    i = b;
  }
  std::vector<MobilePeak> peaks;
  for (const auto& [a, b] : runs) {
    MobilePeak p;
    p.t_start = s.t[a];
    p.t_end = s.t[b];
    std::size_t top = a;
    for (std::size_t i = a; i <= b; ++i) {
      if (excess[i] > excess[top]) top = i;
      if (i < b) {
        const double d = std::hypot(s.x_m[i + 1] - s.x_m[i], s.y_m[i + 1] - s.y_m[i]);
        p.length_m += d;
        p.area += 0.5 * (std::max(excess[i], 0.0) + std::max(excess[i + 1], 0.0)) * d;
      }
    }
    p.t_peak = s.t[top];
    p.x_m = s.x_m[top];
    p.y_m = s.y_m[top];
    p.height = excess[top];
    peaks.push_back(p);
  }
  return peaks;
}

std::vector<MobileCell> aggregate_passes(const MobileSeries& s, double cell_m, double origin_x_m,
                                         double origin_y_m, double max_pass_s) {
  assert(cell_m > 0);
  std::vector<std::uint64_t> keys(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) keys[i] = cell_key(s.x_m[i], s.y_m[i], cell_m, origin_x_m, origin_y_m);
  std::vector<Pass> passes = passes_of(s.t, keys, s.value, max_pass_s);
  std::stable_sort(passes.begin(), passes.end(), [](const Pass& a, const Pass& b) { return a.key < b.key; });
  std::vector<MobileCell> cells;
  for (std::size_t a = 0; a < passes.size();) {
    // passes of one cell (in time order: stable sort of time-ordered passes), grouped in time
    std::size_t b = a + 1;
    while (b < passes.size() && passes[b].key == passes[a].key &&
           s.t[passes[b].i0] - s.t[passes[a].i0] <= tuning::kMobilePassGroupS)
      ++b;
    MobileCell c;
    std::vector<double> means;
    for (std::size_t k = a; k < b; ++k) {
      means.push_back(passes[k].mean);
      for (std::size_t i = passes[k].i0; i <= passes[k].i1; ++i) c.sample_index.push_back(i);
    }
    c.samples = static_cast<int>(c.sample_index.size());
    c.passes = static_cast<int>(b - a);

    c.value = median_of(means);
    // the median pass (the one nearest the median) gives the segment the operator samples
    std::size_t mid = a;
    for (std::size_t k = a; k < b; ++k)
      if (std::abs(passes[k].mean - c.value) < std::abs(passes[mid].mean - c.value)) mid = k;
    double mx = 0, my = 0;
    for (std::size_t i = passes[mid].i0; i <= passes[mid].i1; ++i) {
      mx += s.x_m[i];
      my += s.y_m[i];
    }
    const auto n_mid = static_cast<double>(passes[mid].i1 - passes[mid].i0 + 1);
    c.x_m = mx / n_mid;
    c.y_m = my / n_mid;
    c.x0_m = s.x_m[passes[mid].i0];
    c.y0_m = s.y_m[passes[mid].i0];
    c.x1_m = s.x_m[passes[mid].i1];
    c.y1_m = s.y_m[passes[mid].i1];
    c.t_start = s.t[passes[mid].i0];
    c.t_end = s.t[passes[mid].i1];
    c.first_t = s.t[passes[a].i0];
    c.last_t = s.t[passes[b - 1].i1];
    cells.push_back(std::move(c));
    a = b;
  }
  std::stable_sort(cells.begin(), cells.end(), [](const MobileCell& x, const MobileCell& y) { return x.first_t < y.first_t; });
  return cells;
}

}  // namespace plumetrace
